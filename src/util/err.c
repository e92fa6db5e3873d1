/*
 * err.c - setting and describing errors. See err.h for the rules on messages.
 */
#include "util/err.h"

#include "util/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

err_code err_set(err_t *e, err_code code, const char *fmt, ...)
{
    if (e == NULL)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        e->msg[0] = '\0';
    else if ((size_t)n >= sizeof e->msg)
        e->msg[utf8_clip(e->msg, sizeof e->msg - 1, sizeof e->msg - 1)] = '\0';
    return code;
}

err_code err_wrap(err_t *e, const char *what)
{
    if (e == NULL)
        return ERR_INTERNAL;
    /* Build "what: old" by hand; a clipped message is still a message. */
    char old[ERR_MSG_MAX];
    memcpy(old, e->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    size_t cap = sizeof e->msg - 1, n = 0;
    for (const char *parts[3] = {what, ": ", old}, **p = parts; p < parts + 3; p++) {
        size_t len = strlen(*p);
        if (len > cap - n)
            len = cap - n;
        memcpy(e->msg + n, *p, len);
        n += len;
    }
    e->msg[n] = '\0';
    return e->code;
}

void err_clear(err_t *e)
{
    if (e == NULL)
        return;
    e->code = ERR_OK;
    e->msg[0] = '\0';
}

const char *err_code_name(err_code code)
{
    switch (code) {
    case ERR_OK: return "ok";
    case ERR_INVALID: return "invalid";
    case ERR_NOT_FOUND: return "not found";
    case ERR_FORBIDDEN: return "forbidden";
    case ERR_CONFLICT: return "conflict";
    case ERR_TOO_LARGE: return "too large";
    case ERR_NOMEM: return "out of memory";
    case ERR_IO: return "i/o error";
    case ERR_UNAVAILABLE: return "unavailable";
    case ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}

int err_http_status(err_code code)
{
    switch (code) {
    case ERR_OK: return 200;
    case ERR_INVALID: return 400;
    case ERR_NOT_FOUND: return 404;
    case ERR_FORBIDDEN: return 403;
    case ERR_CONFLICT: return 409;
    case ERR_TOO_LARGE: return 413;
    case ERR_UNAVAILABLE: return 503;
    case ERR_NOMEM:
    case ERR_IO:
    case ERR_INTERNAL: return 500;
    }
    return 500;
}
