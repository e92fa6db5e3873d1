/*
 * fuzz_body.c - o311_decode_body, the POST requests body in whichever
 * encoding the client chose.
 *
 * The first byte picks the Content-Type (its value modulo the table size;
 * seeds use '0'..'7' so they stay readable text), the rest is the body:
 *   0 application/x-www-form-urlencoded   4 none (NULL: read as a form)
 *   1 application/json                    5 APPLICATION/JSON;charset=UTF-8
 *   2 application/json; charset=utf-8     6 text/plain (refused)
 *   3 application/x-www-form-urlencoded;  7 application/jsonp (refused:
 *     charset=UTF-8                         not application/json)
 * On success every pair keeps kv.h's promises (key and value valid UTF-8
 * without NUL, value_len its length, within KV_DEFAULT_LIMITS); a JSON
 * body gives exactly the pairs its object holds (checked against jansson
 * directly), and a form body exactly what form_decode gives. On failure
 * the message must be a non-empty valid UTF-8 text. The refused types
 * must always fail.
 *
 * Corpus: fuzz/corpus/body/.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "open311/o311_params.h"
#include "util/utf8.h"

typedef enum { BODY_FORM, BODY_JSON, BODY_REFUSED } body_kind;

static const struct {
    const char *content_type;
    body_kind kind;
} TYPES[8] = {
    {"application/x-www-form-urlencoded", BODY_FORM},
    {"application/json", BODY_JSON},
    {"application/json; charset=utf-8", BODY_JSON},
    {"application/x-www-form-urlencoded; charset=UTF-8", BODY_FORM},
    {NULL, BODY_FORM},
    {"APPLICATION/JSON;charset=UTF-8", BODY_JSON},
    {"text/plain", BODY_REFUSED},
    {"application/jsonp", BODY_REFUSED},
};

static void check_list(const kv_list *l, body_kind kind)
{
    const kv_limits *lim = &KV_DEFAULT_LIMITS;
    CHECK(l->count <= lim->max_pairs);
    for (size_t i = 0; i < l->count; i++) {
        const kv_pair *p = &l->items[i];
        CHECK(p->key != NULL && p->value != NULL);
        size_t klen = strlen(p->key);
        CHECK(klen <= lim->max_key_len);
        CHECK(utf8_valid(p->key, klen));
        CHECK(strlen(p->value) == p->value_len);
        CHECK(p->value_len <= lim->max_value_len);
        CHECK(utf8_valid(p->value, p->value_len));
        if (kind == BODY_FORM)
            CHECK(klen > 0);
    }
}

/* Checks pair *at of l against one JSON scalar v under key, and moves on.
 * Nulls produce no pair. */
static void expect_scalar(const kv_list *l, size_t *at, const char *key, json_t *v)
{
    if (json_is_null(v))
        return;
    CHECK(*at < l->count);
    const kv_pair *p = &l->items[(*at)++];
    CHECK(strcmp(p->key, key) == 0);
    char num[32];
    switch (json_typeof(v)) {
    case JSON_STRING:
        CHECK(p->value_len == json_string_length(v));
        CHECK(memcmp(p->value, json_string_value(v), p->value_len) == 0);
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        CHECK(strcmp(p->value, num) == 0);
        break;
    case JSON_REAL:
        /* The shortest form that reads back to the same double, however
         * tiny or huge. */
        CHECK(strtod(p->value, NULL) == json_real_value(v));
        break;
    case JSON_TRUE:
        CHECK(strcmp(p->value, "true") == 0);
        break;
    case JSON_FALSE:
        CHECK(strcmp(p->value, "false") == 0);
        break;
    default:
        CHECK(!"an object or an array became a pair");
    }
}

/* An accepted JSON body must give exactly the pairs its object holds, in
 * its order: scalars as text, arrays as repeated keys, nulls as nothing,
 * and "attribute": {CODE: v} as attribute[CODE] (attribute[CODE][] for a
 * list). Checked against jansson directly. */
static void check_json(const char *body, size_t len, const kv_list *l)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    CHECK(json_is_object(root));
    size_t at = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "attribute") == 0 && json_is_object(v)) {
            const char *code;
            json_t *w;
            json_object_foreach(v, code, w)
            {
                size_t size = strlen(code) + sizeof "attribute[][]";
                char *name = malloc(size);
                CHECK(name != NULL);
                snprintf(name, size, "attribute[%s]%s", code, json_is_array(w) ? "[]" : "");
                if (json_is_array(w)) {
                    size_t i;
                    json_t *item;
                    json_array_foreach(w, i, item) expect_scalar(l, &at, name, item);
                } else {
                    expect_scalar(l, &at, name, w);
                }
                free(name);
            }
        } else if (json_is_array(v)) {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) expect_scalar(l, &at, key, item);
        } else {
            expect_scalar(l, &at, key, v);
        }
    }
    CHECK(at == l->count);
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *ct = TYPES[data[0] % 8].content_type;
    body_kind kind = TYPES[data[0] % 8].kind;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    pool_t *pool = pool_new();
    if (pool == NULL)
        return 0;
    kv_list out;
    err_t err;
    kv_init(&out);
    err_clear(&err);
    err_code rc = o311_decode_body(ct, body, len, pool, &out, &err);
    if (rc == ERR_OK) {
        CHECK(kind != BODY_REFUSED);
        check_list(&out, kind);
        if (kind == BODY_JSON)
            check_json(body, len, &out);
    } else {
        fuzz_check_err(rc, &err);
    }

    /* The form path must agree with form_decode itself. */
    if (kind == BODY_FORM) {
        kv_list direct;
        kv_init(&direct);
        err_code rc2 = form_decode(body, len, pool, &KV_DEFAULT_LIMITS, &direct, NULL);
        CHECK(rc2 == rc);
        if (rc == ERR_OK) {
            CHECK(direct.count == out.count);
            for (size_t i = 0; i < out.count; i++)
                CHECK(strcmp(direct.items[i].key, out.items[i].key) == 0 &&
                      strcmp(direct.items[i].value, out.items[i].value) == 0);
        }
    }
    pool_free(pool);
    return 0;
}
