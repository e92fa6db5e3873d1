/*
 * fuzz_form.c - form_decode (application/x-www-form-urlencoded: query
 * strings and POST bodies), the first decoder every request meets.
 *
 * The input is the raw text, decoded twice: with the server's limits and
 * with tiny ones, so the over-limit paths run as often as the normal ones.
 * On success every pair must keep kv.h's promises (key and value valid
 * UTF-8 without NUL, value_len the value's length, counts and lengths
 * within the limits); on failure the message must be a non-empty valid
 * UTF-8 text, since it reaches Open311 error bodies. A broken promise is
 * abort(), which libFuzzer and the replay driver report as a crash.
 *
 * Corpus: fuzz/corpus/form/.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strnlen, also when built without the Makefile */
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/kv.h"
#include "util/utf8.h"

static const kv_limits TINY_LIMITS = {3, 4, 8};

static void check_list(const kv_list *l, const kv_limits *lim, size_t input_len)
{
    CHECK(l->count <= lim->max_pairs);
    CHECK(l->count <= l->cap);
    CHECK(l->count == 0 || l->items != NULL);
    for (size_t i = 0; i < l->count; i++) {
        const kv_pair *p = &l->items[i];
        /* Decoding never grows the text. */
        fuzz_check_pair(p, lim, input_len);
        /* kv_get finds the first pair with this key. */
        const char *first = kv_get(l, p->key);
        CHECK(first != NULL);
        CHECK(kv_count(l, p->key) >= 1);
    }
}

/* A reference decoder, written the obvious way, that form_decode's result
 * must match pair by pair ('&' splits, empty pairs skipped, the first '='
 * splits key from value, '+' is a space, %XX a byte). Only run on inputs
 * form_decode accepted, so it need not reject anything. */
static int ref_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
        return (c | 0x20) - 'a' + 10;
    return -1;
}

static size_t ref_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && ref_hex(s[i + 1]) >= 0 && ref_hex(s[i + 2]) >= 0) {
            out[o++] = (char)(ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

static void check_against_reference(const char *s, size_t n, const kv_list *l)
{
    char *key = malloc(n + 1), *value = malloc(n + 1);
    if (key == NULL || value == NULL)
        goto done;
    size_t pair = 0, i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != '&')
            i++;
        size_t end = i++;
        if (end == start)
            continue;
        const char *eq = memchr(s + start, '=', end - start);
        size_t kraw = eq != NULL ? (size_t)(eq - (s + start)) : end - start;
        size_t klen = ref_unescape(s + start, kraw, key);
        size_t vlen = eq != NULL ? ref_unescape(eq + 1, (size_t)(s + end - (eq + 1)), value) : 0;
        CHECK(pair < l->count);
        CHECK(strlen(l->items[pair].key) == klen && memcmp(l->items[pair].key, key, klen) == 0);
        CHECK(l->items[pair].value_len == vlen && memcmp(l->items[pair].value, value, vlen) == 0);
        pair++;
    }
    CHECK(pair == l->count);
done:
    free(key);
    free(value);
}

static err_code decode_with(const char *s, size_t n, const kv_limits *lim, pool_t *pool, kv_list *l)
{
    err_t err;
    kv_init(l);
    err_clear(&err);
    err_code rc = form_decode(s, n, pool, lim, l, &err);
    if (rc == ERR_OK) {
        check_list(l, lim, n);
        check_against_reference(s, n, l);
    } else {
        fuzz_check_err(rc, &err);
    }
    return rc;
}

static bool within(const kv_list *l, const kv_limits *lim)
{
    if (l->count > lim->max_pairs)
        return false;
    for (size_t i = 0; i < l->count; i++)
        if (strlen(l->items[i].key) > lim->max_key_len ||
            l->items[i].value_len > lim->max_value_len)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    pool_t *pool = pool_new();
    if (pool == NULL)
        return 0;
    kv_list full, tiny;
    err_code rc_full = decode_with(s, size, &KV_DEFAULT_LIMITS, pool, &full);
    err_code rc_tiny = decode_with(s, size, &TINY_LIMITS, pool, &tiny);
    /* The limits only ever turn a success into ERR_TOO_LARGE. */
    if (rc_tiny == ERR_OK) {
        CHECK(rc_full == ERR_OK);
        CHECK(full.count == tiny.count);
        for (size_t i = 0; i < full.count; i++) {
            CHECK(strcmp(full.items[i].key, tiny.items[i].key) == 0);
            CHECK(strcmp(full.items[i].value, tiny.items[i].value) == 0);
        }
    }
    if (rc_full == ERR_OK && within(&full, &TINY_LIMITS))
        CHECK(rc_tiny == ERR_OK);
    if (rc_full != ERR_OK && rc_full != ERR_TOO_LARGE)
        CHECK(rc_tiny != ERR_OK);
    pool_free(pool);
    return 0;
}
