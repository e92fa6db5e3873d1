/*
 * fuzz_catalog.c - o311_catalog_read, which imports Open311 documents from
 * other servers (services lists, service definitions, our bundle; JSON or
 * XML), and o311_catalog_write_bundle, which exports them.
 *
 * The input is one document, read twice: into a fresh catalog, and into a
 * catalog already holding the demo catalog (where a lone service
 * definition for a demo service can apply). For each:
 *  - on failure the catalog is unchanged (its bundle is byte-identical to
 *    the one before) and the message is a non-empty valid UTF-8 text;
 *  - on success the bundle written from it is read back into a new
 *    catalog: same agencies and services, and writing that catalog gives
 *    the same bytes (export then import loses nothing and adds nothing);
 *    reading into the demo catalog never loses a service.
 *
 * Corpus: fuzz/corpus/catalog/ (real documents from open311-* servers, a
 * small bundle, and edge cases).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "open311/o311_catalog.h"
#include "util/utf8.h"

/* Generated from data/demo/catalog.json (build/gen/demo_catalog.c). */
extern const char demo_catalog_json[];
extern const size_t demo_catalog_json_len;

/* The bundle for c, malloc'd (the caller frees it). NULL only when out of
 * memory, which the fuzzer does not provoke. */
static char *bundle_of(const catalog *c, size_t *len)
{
    buf_t b = BUF_INIT;
    o311_catalog_write_bundle(&b, c);
    *len = b.len;
    char *s = buf_detach(&b);
    CHECK(s != NULL);
    CHECK(utf8_valid(s, *len));
    return s;
}

/* The demo catalog, read once per process and then only copied; and its
 * bundle, to compare against after a failed read. */
static catalog *demo;
static char *demo_bundle;
static size_t demo_bundle_len;

static void free_demo(void)
{
    catalog_free(demo);
    free(demo_bundle);
    demo = NULL;
    demo_bundle = NULL;
}

/* A failure here is a broken build, not a finding: say so and stop. */
static void load_demo(void)
{
    err_t err;
    err_clear(&err);
    demo = catalog_new();
    if (demo == NULL ||
        o311_catalog_read(demo, demo_catalog_json, demo_catalog_json_len, NULL, &err) != ERR_OK) {
        fprintf(stderr, "fuzz_catalog: cannot read the demo catalog: %s\n", err.msg);
        abort();
    }
    demo_bundle = bundle_of(demo, &demo_bundle_len);
    atexit(free_demo);
}

/* A new catalog holding a copy of the demo catalog, built with the
 * catalog's own API (much faster than parsing the JSON each time). */
static catalog *new_demo(void)
{
    if (demo == NULL)
        load_demo();
    catalog *c = catalog_new();
    CHECK(c != NULL);
    for (size_t i = 0; i < demo->nagencies; i++)
        CHECK(catalog_add_agency(c, &demo->agencies[i], NULL) == ERR_OK);
    for (size_t i = 0; i < demo->nservices; i++)
        CHECK(catalog_add_service(c, &demo->services[i], NULL) == ERR_OK);
    return c;
}

/* Export then import: nothing lost, nothing added. */
static void check_round_trip(const catalog *c)
{
    size_t len1, len2;
    char *b1 = bundle_of(c, &len1);
    catalog *c2 = catalog_new();
    CHECK(c2 != NULL);
    err_t err;
    err_clear(&err);
    o311_import_stats st;
    memset(&st, 0, sizeof st); /* read adds to it */
    err_code rc = o311_catalog_read(c2, b1, len1, &st, &err);
    if (rc != ERR_OK) {
        fprintf(stderr, "fuzz_catalog: the bundle did not read back: %s\n", err.msg);
        CHECK(rc == ERR_OK);
    }
    CHECK(c2->nservices == c->nservices);
    CHECK(c2->nagencies == c->nagencies);
    CHECK(st.services == c->nservices && st.agencies == c->nagencies);
    CHECK(st.metadata_without_definition == 0);
    char *b2 = bundle_of(c2, &len2);
    CHECK(len1 == len2 && memcmp(b1, b2, len1) == 0);
    free(b2);
    catalog_free(c2);
    free(b1);
}

/* Reads the document into c, which may already hold services; before is
 * c's bundle (NULL: write it here). */
static void read_into(catalog *c, const char *data, size_t size, const char *before,
                      size_t before_len)
{
    size_t after_len;
    char *own = NULL;
    if (before == NULL)
        before = own = bundle_of(c, &before_len);
    size_t before_services = c->nservices;
    err_t err;
    err_clear(&err);
    o311_import_stats st, zero;
    memset(&st, 0, sizeof st); /* read adds to it */
    memset(&zero, 0, sizeof zero);
    err_code rc = o311_catalog_read(c, data, size, &st, &err);
    if (rc != ERR_OK) {
        fuzz_check_err(rc, &err);
        CHECK(memcmp(&st, &zero, sizeof st) == 0); /* left alone on error */
        char *after = bundle_of(c, &after_len);
        CHECK(after_len == before_len && memcmp(after, before, before_len) == 0);
        free(after);
    } else {
        /* Services are added or replaced, never removed. */
        CHECK(c->nservices >= before_services);
        CHECK(c->nservices <= before_services + st.services);
        for (size_t i = 0; i < c->nservices; i++)
            CHECK(catalog_find_service(c, c->services[i].code) == &c->services[i]);
        check_round_trip(c);
    }
    free(own);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *doc = (const char *)data;

    catalog *fresh = catalog_new();
    if (fresh == NULL)
        return 0;
    read_into(fresh, doc, size, NULL, 0);
    catalog_free(fresh);

    catalog *c = new_demo();
    read_into(c, doc, size, demo_bundle, demo_bundle_len);
    catalog_free(c);
    return 0;
}
