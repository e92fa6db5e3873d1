/*
 * fuzz.h - what every harness shares: libFuzzer's entry point, and CHECK,
 * which aborts on a broken invariant so the fuzzer (or the replay in
 * `make test`) stops at the input that broke it.
 */
#ifndef CIVIC_FUZZ_H
#define CIVIC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/kv.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* A refusal: its code, and a message that is there, fits, and is whole
 * UTF-8 (messages name parameters, clipped, never inside a character). */
static inline void fuzz_check_err(err_code rc, const err_t *err)
{
    CHECK(rc != ERR_OK);
    CHECK(err->code == rc);
    size_t n = strnlen(err->msg, sizeof err->msg);
    CHECK(n > 0 && n < sizeof err->msg);
    CHECK(utf8_valid(err->msg, n));
}

/* One decoded pair keeps kv.h's promises: a key that is there and within
 * the limit, a value without NUL inside (the C string ends exactly at
 * value_len) within the limit, both valid UTF-8, and together no longer
 * than the input they were decoded from. */
static inline void fuzz_check_pair(const kv_pair *p, const kv_limits *lim, size_t input_len)
{
    CHECK(p->key != NULL && p->value != NULL);
    size_t klen = strlen(p->key);
    CHECK(klen > 0 && klen <= lim->max_key_len);
    CHECK(utf8_valid(p->key, klen));
    CHECK(strlen(p->value) == p->value_len);
    CHECK(p->value_len <= lim->max_value_len);
    CHECK(utf8_valid(p->value, p->value_len));
    CHECK(klen + p->value_len <= input_len);
}

#endif
