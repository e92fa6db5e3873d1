/*
 * fuzz_intake.c - intake_request, which turns what a client POSTed into a
 * new service request, against the demo catalog.
 *
 * The input is a form body (form_decode with the server's limits). The
 * demo catalog (embedded in the binary, data/demo/catalog.json) is read
 * once per process and only read afterwards, as the server does.
 *
 * On success the request must be one the store can keep as it is: the
 * service exists, a location is present (valid lat/long, or an address),
 * the description is at most 4000 code points, every answer belongs to a
 * variable attribute of the service (once, in the service's order), has
 * its datatype (list keys, numbers, canonical UTC date-times), lists only
 * where the attribute is multivaluelist, every required question is
 * answered, and the timestamps and routing come from `now` and the
 * service. On failure the message is a non-empty valid UTF-8 text.
 *
 * Corpus: fuzz/corpus/intake/.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/geo.h"
#include "core/intake.h"
#include "open311/o311_catalog.h"
#include "util/datetime.h"
#include "util/utf8.h"

/* Generated from data/demo/catalog.json (build/gen/demo_catalog.c). */
extern const char demo_catalog_json[];
extern const size_t demo_catalog_json_len;

#define FUZZ_NOW INT64_C(1700000000)

static catalog *demo;

static void free_demo(void)
{
    catalog_free(demo);
    demo = NULL;
}

/* The demo catalog, read on first use. A failure here is a broken build,
 * not a finding: say so and stop. */
static const catalog *demo_catalog(void)
{
    if (demo != NULL)
        return demo;
    err_t err;
    err_clear(&err);
    demo = catalog_new();
    if (demo == NULL ||
        o311_catalog_read(demo, demo_catalog_json, demo_catalog_json_len, NULL, &err) != ERR_OK ||
        demo->nservices == 0) {
        fprintf(stderr, "fuzz_intake: cannot read the demo catalog: %s\n", err.msg);
        abort();
    }
    atexit(free_demo);
    return demo;
}

static void check_value(const attribute *a, const char *v)
{
    size_t n = strlen(v);
    CHECK(n > 0);
    CHECK(utf8_valid(v, n));
    double d;
    int64_t t;
    char canon[DT_BUFSZ];
    switch (a->datatype) {
    case ATTR_NUMBER:
        CHECK(intake_parse_number(v, &d));
        break;
    case ATTR_DATETIME:
        /* Stored in UTC, in the one form we write. */
        CHECK(dt_parse(v, n, &t));
        CHECK(strcmp(dt_format(t, canon), v) == 0);
        break;
    case ATTR_STRING:
        CHECK(utf8_length(v, n) <= INTAKE_MAX_SHORT);
        CHECK(strpbrk(v, "\r\n") == NULL);
        break;
    case ATTR_TEXT:
        CHECK(utf8_length(v, n) <= INTAKE_MAX_TEXT);
        break;
    case ATTR_SINGLEVALUELIST:
    case ATTR_MULTIVALUELIST: {
        bool found = false;
        for (size_t k = 0; k < a->nvalues; k++)
            found = found || strcmp(a->values[k].key, v) == 0;
        CHECK(found);
        break;
    }
    }
}

static void check_answers(const service *svc, const service_request *sr)
{
    CHECK(sr->nanswers <= svc->nattrs);
    size_t last = 0;
    for (size_t i = 0; i < sr->nanswers; i++) {
        const sr_answer *ans = &sr->answers[i];
        const attribute *a = service_find_attr(svc, ans->code);
        CHECK(a != NULL);
        CHECK(a->variable);
        /* In the service's order, so each attribute at most once. */
        size_t idx = (size_t)(a - svc->attrs);
        CHECK(i == 0 || idx > last);
        last = idx;
        CHECK(ans->nvalues >= 1 && ans->nvalues <= INTAKE_MAX_LIST_VALUES);
        if (a->datatype != ATTR_MULTIVALUELIST)
            CHECK(ans->nvalues == 1);
        for (size_t k = 0; k < ans->nvalues; k++) {
            check_value(a, ans->values[k]);
            for (size_t m = 0; m < k; m++)
                CHECK(strcmp(ans->values[m], ans->values[k]) != 0);
        }
    }
    for (size_t k = 0; k < svc->nattrs; k++) {
        const attribute *a = &svc->attrs[k];
        if (!a->variable || !a->required)
            continue;
        bool answered = false;
        for (size_t i = 0; i < sr->nanswers; i++)
            answered = answered || strcmp(sr->answers[i].code, a->code) == 0;
        CHECK(answered);
    }
}

static void check_text(const char *s, size_t max_chars)
{
    if (s == NULL)
        return;
    size_t n = strlen(s);
    CHECK(n > 0); /* empty counts as not given */
    CHECK(utf8_valid(s, n));
    CHECK(utf8_length(s, n) <= max_chars);
}

static void check_request(const catalog *cat, const service_request *sr)
{
    CHECK(sr->service_code != NULL);
    const service *svc = catalog_find_service(cat, sr->service_code);
    CHECK(svc != NULL);
    CHECK(sr->has_location || sr->address != NULL || sr->address_id != NULL);
    if (sr->has_location)
        CHECK(geo_valid(sr->lat, sr->lon));
    check_text(sr->description, INTAKE_MAX_DESCRIPTION);
    check_text(sr->address, INTAKE_MAX_ADDRESS);
    check_text(sr->address_id, INTAKE_MAX_SHORT);
    if (sr->address != NULL)
        CHECK(strpbrk(sr->address, "\r\n") == NULL);
    if (sr->media_url != NULL) {
        CHECK(strlen(sr->media_url) <= INTAKE_MAX_URL);
        CHECK(strncmp(sr->media_url, "http://", 7) == 0 ||
              strncmp(sr->media_url, "https://", 8) == 0);
    }
    for (size_t i = 0; i < SR_PERSONAL_FIELD_COUNT; i++) {
        const char *v = sr_reporter_get(&sr->reporter, &SR_PERSONAL_FIELDS[i]);
        if (v != NULL) {
            CHECK(strlen(v) > 0 && strlen(v) <= SR_PERSONAL_FIELDS[i].max_len);
            CHECK(strpbrk(v, "\r\n") == NULL);
        }
    }
    check_answers(svc, sr);

    CHECK(sr->id == 0 && sr->token == NULL);
    CHECK(sr->status == SR_OPEN && sr->resolution == SR_RES_NONE && sr->closed_at == 0);
    CHECK(sr->requested_at == FUZZ_NOW && sr->updated_at == FUZZ_NOW);
    CHECK(sr->expected_at == sr_expected_at(svc, FUZZ_NOW));
    CHECK(sr->agency_code == svc->agency_code);
    CHECK(sr->service_notice == svc->service_notice);
    CHECK(sr->channel == SR_CHANNEL_API);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const catalog *cat = demo_catalog();
    pool_t *pool = pool_new();
    if (pool == NULL)
        return 0;
    kv_list in;
    err_t err;
    kv_init(&in);
    err_clear(&err);
    if (form_decode((const char *)data, size, pool, &KV_DEFAULT_LIMITS, &in, &err) == ERR_OK) {
        service_request sr;
        err_clear(&err);
        err_code rc = intake_request(cat, &in, SR_CHANNEL_API, FUZZ_NOW, pool, &sr, &err);
        if (rc == ERR_OK)
            check_request(cat, &sr);
        else
            fuzz_check_err(rc, &err);
    }
    pool_free(pool);
    return 0;
}
