/*
 * kv.c - key/value lists and the urlencoded decoder. See kv.h.
 */
#include "util/kv.h"

#include <string.h>

#include "util/utf8.h"

const kv_limits KV_DEFAULT_LIMITS = {200, 128, 16384};

void kv_init(kv_list *l)
{
    l->items = NULL;
    l->count = 0;
    l->cap = 0;
}

err_code kv_add(kv_list *l, pool_t *pool, const char *key, size_t key_len, const char *value,
                size_t value_len, const kv_limits *lim, err_t *err)
{
    if (l->count >= lim->max_pairs)
        return err_set(err, ERR_TOO_LARGE, "too many parameters (at most %zu)", lim->max_pairs);
    if (key_len > lim->max_key_len)
        return err_set(err, ERR_TOO_LARGE, "a parameter name is longer than %zu bytes",
                       lim->max_key_len);
    if (!utf8_valid(key, key_len) || memchr(key, '\0', key_len) != NULL)
        return err_set(err, ERR_INVALID, "a parameter name is not valid UTF-8 text");
    /* The key is checked above, so it is safe to name in messages below;
     * it is bounded and comes from the client, never a resident's data. */
    int shown = (int)utf8_clip(key, key_len, 64);
    if (value_len > lim->max_value_len)
        return err_set(err, ERR_TOO_LARGE, "parameter %.*s is longer than %zu bytes", shown, key,
                       lim->max_value_len);
    if (!utf8_valid(value, value_len) || memchr(value, '\0', value_len) != NULL)
        return err_set(err, ERR_INVALID, "parameter %.*s is not valid UTF-8 text", shown, key);
    kv_pair *n = pool_grow(pool, l->items, l->count, &l->cap, sizeof *n);
    if (n == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    l->items = n;
    char *k = pool_strndup(pool, key, key_len);
    char *v = pool_strndup(pool, value, value_len);
    if (k == NULL || v == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    l->items[l->count].key = k;
    l->items[l->count].value = v;
    l->items[l->count].value_len = value_len;
    l->count++;
    return ERR_OK;
}

const char *kv_get(const kv_list *l, const char *key)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

size_t kv_count(const kv_list *l, const char *key)
{
    size_t c = 0;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].key, key) == 0)
            c++;
    return c;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into out (which has room for n bytes: decoding never
 * grows). Returns the decoded length, or -1 on a bad escape. */
static long form_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = c;
        }
    }
    return (long)o;
}

err_code form_decode(const char *s, size_t n, pool_t *pool, const kv_limits *lim, kv_list *l,
                     err_t *err)
{
    size_t i = 0;
    /* One scratch buffer for the whole input: no pair decodes larger. */
    char *scratch = pool_alloc(pool, n + 1);
    if (scratch == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != '&')
            i++;
        size_t end = i;
        if (i < n)
            i++; /* skip '&' */
        if (end == start)
            continue;
        const char *eq = memchr(s + start, '=', end - start);
        size_t klen_raw = eq ? (size_t)(eq - (s + start)) : end - start;
        const char *vraw = eq ? eq + 1 : s + end;
        size_t vlen_raw = eq ? (size_t)(s + end - vraw) : 0;

        long klen = form_unescape(s + start, klen_raw, scratch);
        if (klen < 0)
            return err_set(err, ERR_INVALID, "a parameter name has a bad %%-escape");
        if (klen == 0)
            return err_set(err, ERR_INVALID, "a parameter has an empty name");
        char *key = pool_strndup(pool, scratch, (size_t)klen);
        if (key == NULL)
            return err_set(err, ERR_NOMEM, "out of memory");
        long vlen = form_unescape(vraw, vlen_raw, scratch);
        if (vlen < 0) {
            if (utf8_valid(key, (size_t)klen) && memchr(key, '\0', (size_t)klen) == NULL)
                return err_set(err, ERR_INVALID, "parameter %.*s has a bad %%-escape",
                               (int)utf8_clip(key, (size_t)klen, 64), key);
            return err_set(err, ERR_INVALID, "a parameter value has a bad %%-escape");
        }
        err_code rc = kv_add(l, pool, key, (size_t)klen, scratch, (size_t)vlen, lim, err);
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

/* Decodes %XX in a path segment, in place. False on a bad escape or a
 * decoded byte that cannot be in a code (NUL, '/'). */
bool url_unescape_segment(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p != '%') {
            *o++ = *p;
            continue;
        }
        int v = 0;
        for (int k = 1; k <= 2; k++) {
            char c = p[k];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return false;
            v = v * 16 + d;
        }
        if (v == 0 || v == '/')
            return false;
        *o++ = (char)v;
        p += 2;
    }
    *o = '\0';
    return true;
}
