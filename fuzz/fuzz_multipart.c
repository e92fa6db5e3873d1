/*
 * fuzz_multipart.c - mp_decode, the multipart/form-data decoder a form
 * with a file input goes through.
 *
 * The input's first line (up to LF, a CR before it dropped) says what the
 * Content-Type is:
 *   "--B..."  the body's own first delimiter: the Content-Type is
 *             multipart/form-data; boundary="B" (B without the transport
 *             padding after it) and the whole input is the body, so a
 *             body captured from a browser is a seed as it is;
 *   else      the line is the Content-Type and the rest is the body.
 *
 * Each input is decoded twice, with the server's limits and with tiny
 * ones, into a list that already holds one pair. On success: the pair is
 * still first; every pair keeps kv.h's promises (key and value valid
 * UTF-8 without NUL, value_len its length, within the limits); every file
 * keeps multipart.h's (a name as a key would be, a printable ASCII
 * Content-Type, bytes inside the body, within the limits) and, when the
 * boundary is known, its bytes are followed by a delimiter and hold none.
 * On failure: a non-empty valid UTF-8 message, the list as it was, no
 * files. The limits only ever turn a success into ERR_TOO_LARGE. A broken
 * promise is abort(), which libFuzzer and the replay driver report.
 *
 * Corpus: fuzz/corpus/multipart/.
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
#include "util/multipart.h"
#include "util/utf8.h"

static const mp_limits FULL_MP = {5, 10 * 1024 * 1024};
static const kv_limits TINY_KV = {3, 4, 8};
static const mp_limits TINY_MP = {1, 8};

typedef struct {
    err_code rc;
    kv_list fields;
    mp_file *files;
    size_t nfiles;
} outcome;

static bool is_padding(char c)
{
    return c == ' ' || c == '\t';
}

/* True if "\r\n--" b, followed by padding and CRLF or by "--", starts at
 * s[i] (the obvious way, to check the decoder's search). */
static bool delimiter_at(const char *s, size_t n, size_t i, const char *b, size_t blen)
{
    if (n - i < 4 + blen || memcmp(s + i, "\r\n--", 4) != 0 || memcmp(s + i + 4, b, blen) != 0)
        return false;
    size_t j = i + 4 + blen;
    if (j + 1 < n && s[j] == '-' && s[j + 1] == '-')
        return true;
    while (j < n && is_padding(s[j]))
        j++;
    return j + 1 < n && s[j] == '\r' && s[j + 1] == '\n';
}

static void check_outcome(const outcome *o, const kv_limits *kv_lim, const mp_limits *lim,
                          const char *body, size_t len, const char *b, size_t blen)
{
    /* The caller's pair is kept, first, whatever happened. */
    CHECK(o->fields.count >= 1);
    CHECK(strcmp(o->fields.items[0].key, "pre") == 0);
    CHECK(strcmp(o->fields.items[0].value, "kept") == 0);
    if (o->rc != ERR_OK) {
        CHECK(o->fields.count == 1);
        CHECK(o->files == NULL && o->nfiles == 0);
        return;
    }
    CHECK(o->fields.count <= kv_lim->max_pairs);
    for (size_t i = 1; i < o->fields.count; i++) {
        fuzz_check_pair(&o->fields.items[i], kv_lim, len);
    }
    CHECK(o->nfiles <= lim->max_files);
    CHECK(o->nfiles == 0 || o->files != NULL);
    for (size_t i = 0; i < o->nfiles; i++) {
        const mp_file *f = &o->files[i];
        CHECK(f->name != NULL && f->content_type != NULL);
        size_t klen = strlen(f->name);
        CHECK(klen > 0 && klen <= kv_lim->max_key_len);
        CHECK(utf8_valid(f->name, klen));
        for (const char *c = f->content_type; *c; c++)
            CHECK(*c == '\t' || (*c >= 0x20 && *c < 0x7f));
        CHECK(f->has_filename == 1);
        CHECK(f->len <= lim->max_file_bytes);
        const char *d = (const char *)f->data;
        CHECK(d != NULL && d >= body && d <= body + len && f->len <= (size_t)(body + len - d));
        /* The bytes end at a part's headers' blank line... */
        CHECK(d - body >= 4 && memcmp(d - 4, "\r\n\r\n", 4) == 0);
        if (b == NULL)
            continue;
        /* ...run to the next delimiter, and hold none. */
        size_t at = (size_t)(d - body);
        CHECK(delimiter_at(body, len, at + f->len, b, blen));
        for (size_t k = at; k < at + f->len; k++)
            CHECK(!delimiter_at(body, len, k, b, blen));
    }
}

static void decode(const char *ct, const char *body, size_t len, pool_t *pool,
                   const kv_limits *kv_lim, const mp_limits *lim, const char *b, size_t blen,
                   outcome *o)
{
    err_t err;
    kv_init(&o->fields);
    CHECK(kv_add(&o->fields, pool, "pre", 3, "kept", 4, &KV_DEFAULT_LIMITS, &err) == ERR_OK);
    static mp_file garbage;
    o->files = &garbage;
    o->nfiles = 99;
    err_clear(&err);
    o->rc = mp_decode(ct, body, len, pool, kv_lim, lim, &o->fields, &o->files, &o->nfiles, &err);
    if (o->rc != ERR_OK)
        fuzz_check_err(o->rc, &err);
    check_outcome(o, kv_lim, lim, body, len, b, blen);
}

static bool within(const outcome *o, const kv_limits *kv_lim, const mp_limits *lim)
{
    if (o->fields.count > kv_lim->max_pairs || o->nfiles > lim->max_files)
        return false;
    for (size_t i = 0; i < o->fields.count; i++)
        if (strlen(o->fields.items[i].key) > kv_lim->max_key_len ||
            o->fields.items[i].value_len > kv_lim->max_value_len)
            return false;
    for (size_t i = 0; i < o->nfiles; i++)
        if (strlen(o->files[i].name) > kv_lim->max_key_len || o->files[i].len > lim->max_file_bytes)
            return false;
    return true;
}

static void same(const outcome *a, const outcome *b)
{
    CHECK(a->fields.count == b->fields.count && a->nfiles == b->nfiles);
    for (size_t i = 0; i < a->fields.count; i++) {
        CHECK(strcmp(a->fields.items[i].key, b->fields.items[i].key) == 0);
        CHECK(a->fields.items[i].value_len == b->fields.items[i].value_len);
        CHECK(memcmp(a->fields.items[i].value, b->fields.items[i].value,
                     a->fields.items[i].value_len) == 0);
    }
    for (size_t i = 0; i < a->nfiles; i++) {
        CHECK(strcmp(a->files[i].name, b->files[i].name) == 0);
        CHECK(strcmp(a->files[i].content_type, b->files[i].content_type) == 0);
        CHECK(a->files[i].data == b->files[i].data && a->files[i].len == b->files[i].len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t line_len = nl != NULL ? (size_t)(nl - in) : size;
    if (line_len > 0 && in[line_len - 1] == '\r')
        line_len--;
    pool_t *pool = pool_new();
    char *ct = malloc(line_len + 64);
    if (pool == NULL || ct == NULL)
        goto done;
    const char *body, *b = NULL;
    size_t len, blen = 0;
    if (line_len >= 2 && in[0] == '-' && in[1] == '-') {
        /* The body's first delimiter names the boundary. */
        blen = line_len - 2;
        while (blen > 0 && is_padding(in[2 + blen - 1]))
            blen--;
        b = in + 2;
        memcpy(ct, "multipart/form-data; boundary=\"", 31);
        memcpy(ct + 31, b, blen);
        memcpy(ct + 31 + blen, "\"", 2);
        body = in;
        len = size;
    } else {
        /* The first line is the Content-Type (to its first NUL, if any). */
        memcpy(ct, in, line_len);
        ct[line_len] = '\0';
        body = nl != NULL ? nl + 1 : in + size;
        len = (size_t)(in + size - body);
    }
    /* A boundary the decoder would refuse cannot be checked against. */
    for (size_t i = 0; b != NULL && i < blen; i++)
        if (b[i] == '"' || b[i] == '\\' || b[i] == '\0')
            b = NULL;

    outcome full, tiny;
    decode(ct, body, len, pool, &KV_DEFAULT_LIMITS, &FULL_MP, b, blen, &full);
    decode(ct, body, len, pool, &TINY_KV, &TINY_MP, b, blen, &tiny);
    /* The limits only ever turn a success into ERR_TOO_LARGE. */
    if (tiny.rc == ERR_OK) {
        CHECK(full.rc == ERR_OK);
        same(&full, &tiny);
    }
    if (full.rc == ERR_OK && within(&full, &TINY_KV, &TINY_MP))
        CHECK(tiny.rc == ERR_OK);
    if (full.rc != ERR_OK && full.rc != ERR_TOO_LARGE)
        CHECK(tiny.rc != ERR_OK);
    CHECK(mp_is_multipart(ct) || full.rc == ERR_INVALID);
done:
    free(ct);
    pool_free(pool);
    return 0;
}
