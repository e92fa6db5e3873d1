/*
 * buf.c - growable buffer and the escaping appenders. See buf.h.
 */
#include "util/buf.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf_t *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
    b->failed = false;
}

void buf_free(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
    b->failed = false;
}

bool buf_failed(const buf_t *b)
{
    return b->failed;
}

char *buf_detach(buf_t *b)
{
    if (b->failed) {
        buf_free(b);
        b->failed = false;
        return NULL;
    }
    char *p = b->data;
    if (p == NULL)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* Makes room for n more bytes plus the NUL. */
static bool buf_grow(buf_t *b, size_t n)
{
    if (b->failed)
        return false;
    if (n > SIZE_MAX - b->len - 1 || (b->limit != 0 && b->len + n > b->limit)) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void buf_append(buf_t *b, const void *p, size_t n)
{
    if (!buf_grow(b, n))
        return;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(buf_t *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(buf_t *b, char c)
{
    buf_append(b, &c, 1);
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_append(b, small, (size_t)n);
        return;
    }
    if (!buf_grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_put_i64(buf_t *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    buf_append(b, tmp, (size_t)n);
}

void buf_put_double(buf_t *b, double v)
{
    if (!isfinite(v)) {
        buf_puts(b, "null");
        return;
    }
    /* The fewest significant digits that read back to the same value, so
     * 40.7 stays "40.7" rather than "40.700000000000003". */
    char tmp[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    double a = fabs(v);
    if (strchr(tmp, 'e') == NULL || a >= 1e17) {
        buf_puts(b, tmp); /* huge: "1e+300" is valid JSON */
        return;
    }
    /* Tiny: fixed notation with the same significant digits, since people
     * and some clients do not read "1.2e-05" as a coordinate. */
    int exp10 = (int)floor(log10(a));
    int decimals = -exp10 + prec - 1;
    if (decimals > 340)
        decimals = 340;
    buf_printf(b, "%.*f", decimals, v);
}

void buf_json_strn(buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    size_t run = 0; /* start of the current run of bytes needing no escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                u[0] = '\\';
                u[1] = 'u';
                u[2] = '0';
                u[3] = '0';
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        if (esc != NULL) {
            buf_append(b, s + run, i - run);
            buf_puts(b, esc);
            run = i + 1;
        }
    }
    buf_append(b, s + run, n - run);
    buf_putc(b, '"');
}

void buf_json_str(buf_t *b, const char *s)
{
    if (s == NULL) {
        buf_puts(b, "null");
        return;
    }
    buf_json_strn(b, s, strlen(s));
}

void buf_xml_text(buf_t *b, const char *s)
{
    if (s == NULL)
        return;
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        const char *esc = NULL;
        switch (c) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = "&quot;"; break;
        case '\'': esc = "&#39;"; break;
        case '\r': esc = "&#13;"; break; /* a raw CR would be read back as LF */
        default:
            /* XML 1.0 forbids C0 controls other than tab, LF, CR, and the
             * non-characters U+FFFE and U+FFFF (EF BF BE, EF BF BF). */
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                esc = "";
            else if (c == 0xEF && (unsigned char)p[1] == 0xBF &&
                     ((unsigned char)p[2] == 0xBE || (unsigned char)p[2] == 0xBF)) {
                buf_append(b, run, (size_t)(p - run));
                p += 2;
                run = p + 1;
                continue;
            }
        }
        if (esc != NULL) {
            buf_append(b, run, (size_t)(p - run));
            buf_puts(b, esc);
            run = p + 1;
        }
    }
    buf_puts(b, run);
}

void buf_xml_elem(buf_t *b, const char *name, const char *text)
{
    buf_putc(b, '<');
    buf_puts(b, name);
    if (text == NULL) {
        buf_puts(b, "/>");
        return;
    }
    buf_putc(b, '>');
    buf_xml_text(b, text);
    buf_puts(b, "</");
    buf_puts(b, name);
    buf_putc(b, '>');
}

void buf_csv_field(buf_t *b, const char *s)
{
    if (s == NULL)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        buf_puts(b, s);
        return;
    }
    buf_putc(b, '"');
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            buf_putc(b, '"');
        buf_putc(b, *p);
    }
    buf_putc(b, '"');
}

void buf_url_encode(buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf_putc(b, (char)c);
        } else {
            char t[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(b, t, 3);
        }
    }
}
