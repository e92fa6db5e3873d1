/*
 * multipart.h - decoding a multipart/form-data body (RFC 7578), as a
 * browser sends a form with a file input: text fields become kv pairs
 * exactly as form_decode would give them (so the same checks apply to a
 * form with or without a file), and file parts are kept as bytes.
 *
 * Strict and bounded, since the body comes straight from the network: the
 * boundary comes from the Content-Type's boundary parameter (1-70
 * characters of RFC 2046's set, quoted or not); lines end with CRLF, as
 * every browser sends them; every part must have a Content-Disposition of
 * form-data with a non-empty name; a part with a filename or filename*
 * parameter (even empty) is a file; headers other than Content-Disposition
 * and Content-Type are ignored; part headers are limited (1 KiB each, 8 per
 * part); field names and text values must be valid UTF-8 without NUL and
 * within the kv limits; at most max_files file parts (empty file inputs
 * count) of at most max_file_bytes each; the closing delimiter must be
 * there (a truncated body is an error); a preamble and an epilogue are
 * allowed and ignored. Errors name the field when there is one, never a
 * value or a file name.
 *
 * Names are kept as sent: browsers send a quote in a name as %22 (HTML
 * standard), which cannot be told from a name that holds "%22", so it is
 * not decoded. A backslash in a quoted parameter escapes the next byte
 * (RFC 2616's quoted-pair, older browsers), unless that leaves the
 * Content-Disposition malformed: browsers send a backslash as itself.
 *
 * Everything lives in the pool: file bytes point into the body itself (no
 * copy), names and text values are copied NUL-terminated.
 */
#ifndef CIVIC_MULTIPART_H
#define CIVIC_MULTIPART_H

#include <stddef.h>

#include "util/err.h"
#include "util/kv.h"
#include "util/pool.h"

typedef struct {
    const char *name;         /* the form field's name */
    const char *content_type; /* as sent ("application/octet-stream" if none); never trusted */
    const unsigned char *data; /* into the body */
    size_t len;               /* 0 for an empty file input (no file chosen) */
    int has_filename;         /* a filename parameter was present (even empty): always 1,
                                 since that is what makes a part a file */
} mp_file;

typedef struct {
    size_t max_files;      /* e.g. 5 */
    size_t max_file_bytes; /* e.g. 10 MiB */
} mp_limits;

/* True if content_type is multipart/form-data (any case, any parameters). */
int mp_is_multipart(const char *content_type);

/*
 * Decodes body (len bytes) sent with content_type. Text fields are added to
 * fields (a kv_list the caller initialised) under kv_lim; files go to
 * *files (pool array, *nfiles of them). An empty file input (filename=""
 * and no bytes) is returned with len 0 so the caller can tell "no file
 * chosen" from a missing field. ERR_INVALID for malformed input,
 * ERR_TOO_LARGE for anything over a limit. On failure nothing is half
 * filled: fields is as it was on entry, *files NULL and *nfiles 0.
 */
err_code mp_decode(const char *content_type, const char *body, size_t len, pool_t *pool,
                   const kv_limits *kv_lim, const mp_limits *lim, kv_list *fields,
                   mp_file **files, size_t *nfiles, err_t *err);

#endif
