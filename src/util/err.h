/*
 * err.h - the one error type of Civic311.
 *
 * Every fallible function returns an err_code (0 is success) and, when it
 * fails, fills an err_t with the code and a short message for a human. The
 * edge (an HTTP handler, a CLI command) decides how to show it.
 *
 * A message must never contain personal data: name fields, never values
 * that came from a resident. Messages may reach API error bodies and logs.
 */
#ifndef CIVIC_ERR_H
#define CIVIC_ERR_H

#include <stddef.h>

typedef enum {
    ERR_OK = 0,
    ERR_INVALID,     /* the input is wrong: the caller can fix it (HTTP 400) */
    ERR_NOT_FOUND,   /* no such thing (HTTP 404) */
    ERR_FORBIDDEN,   /* not allowed, e.g. a bad api_key (HTTP 403) */
    ERR_CONFLICT,    /* already exists, or state forbids it (HTTP 409) */
    ERR_TOO_LARGE,   /* over a size or count limit (HTTP 413) */
    ERR_NOMEM,       /* out of memory */
    ERR_IO,          /* the disk or the database failed */
    ERR_UNAVAILABLE, /* shutting down or overloaded: retry later (HTTP 503) */
    ERR_INTERNAL     /* a bug: an invariant did not hold */
} err_code;

#define ERR_MSG_MAX 240

typedef struct {
    err_code code;
    char msg[ERR_MSG_MAX];
} err_t;

/* Sets *e (if e is not NULL) and returns code, so a caller can write
 * `return err_set(e, ERR_INVALID, "lat must be a number");`. */
err_code err_set(err_t *e, err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in e with "what: ", keeping its code. */
err_code err_wrap(err_t *e, const char *what);

void err_clear(err_t *e);

/* A stable lower-case name for a code ("invalid", "not found", ...). */
const char *err_code_name(err_code code);

/* The HTTP status that matches a code. */
int err_http_status(err_code code);

#endif
