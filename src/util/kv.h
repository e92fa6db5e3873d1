/*
 * kv.h - an ordered list of decoded key/value pairs: a query string, a form
 * body, or a flattened JSON object. Keys may repeat (attribute[x][]=a&...).
 *
 * Everything lives in the pool given to the decoder; a kv_list is never
 * freed on its own.
 */
#ifndef CIVIC_KV_H
#define CIVIC_KV_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/pool.h"

typedef struct {
    const char *key;   /* NUL-terminated, valid UTF-8 */
    const char *value; /* NUL-terminated, valid UTF-8, no NUL inside */
    size_t value_len;
} kv_pair;

typedef struct {
    kv_pair *items;
    size_t count;
    size_t cap;
} kv_list;

/* Limits every decoder enforces; over them is ERR_TOO_LARGE. */
typedef struct {
    size_t max_pairs;     /* e.g. 200 */
    size_t max_key_len;   /* bytes */
    size_t max_value_len; /* bytes */
} kv_limits;

extern const kv_limits KV_DEFAULT_LIMITS;

void kv_init(kv_list *l);
err_code kv_add(kv_list *l, pool_t *pool, const char *key, size_t key_len, const char *value,
                size_t value_len, const kv_limits *lim, err_t *err);

/* The first value for key, or NULL. */
const char *kv_get(const kv_list *l, const char *key);
/* How many times key occurs. */
size_t kv_count(const kv_list *l, const char *key);

/*
 * Decodes application/x-www-form-urlencoded text (a query string or a POST
 * body) into l: '&' separates pairs (';' is not a separator), '+' is a
 * space, %XX is a byte. Rejects bad percent escapes, invalid UTF-8 after
 * decoding, NUL bytes, and anything over the limits, with a message that
 * names the parameter (never its value). Empty pairs ("a=1&&b=2") are
 * skipped; a key without '=' has the empty value.
 */
err_code form_decode(const char *s, size_t n, pool_t *pool, const kv_limits *lim, kv_list *l,
                     err_t *err);

/* Decodes %XX in one path segment, in place. False on a bad escape, or a
 * decoded NUL or '/' (a segment names one thing: a code, an id). */
bool url_unescape_segment(char *s);

#endif
