/*
 * html.c - the escaping formatter of html.h. The escaping itself is
 * util/buf's (buf_xml_text, buf_url_encode), shared with the XML writer.
 */
#include "web/html.h"

#include <stdio.h>

void html_vfmt(buf_t *b, const char *fmt, va_list ap)
{
    const char *p = fmt;
    while (*p != '\0') {
        const char *pct = p;
        while (*pct != '\0' && *pct != '%')
            pct++;
        buf_append(b, p, (size_t)(pct - p));
        if (*pct == '\0')
            return;
        switch (pct[1]) {
        case 's':
            buf_xml_text(b, va_arg(ap, const char *));
            break;
        case 'u': {
            const char *v = va_arg(ap, const char *);
            if (v != NULL)
                buf_url_encode(b, v);
            break;
        }
        case 'd':
            buf_put_i64(b, va_arg(ap, int));
            break;
        case 'L':
            buf_put_i64(b, va_arg(ap, int64_t));
            break;
        case 'R': {
            const char *v = va_arg(ap, const char *);
            if (v != NULL)
                buf_puts(b, v);
            break;
        }
        case '%':
            buf_putc(b, '%');
            break;
        default:
            /* An unknown conversion: fail the page, loudly, in tests. */
            b->failed = true;
            return;
        }
        p = pct + 2;
    }
}

void html_fmt(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    html_vfmt(b, fmt, ap);
    va_end(ap);
}
