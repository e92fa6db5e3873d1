/*
 * fuzz_search.c - the GET requests / servicerequestupdates parameters:
 * form_decode of a query string, then o311_parse_search and
 * o311_parse_window with a fixed `now`.
 *
 * On success the query must be one the stores can run as it is:
 * page >= 1, page_size in 1..1000, ids positive and at most 1000, a
 * non-empty date window (start <= end) unless ids override it, codes
 * trimmed and non-empty, a radius in (0, 50 km] around a valid point, and
 * a box with min <= max inside WGS84. On failure the message must be a
 * non-empty valid UTF-8 text (it goes into the error body).
 *
 * Corpus: fuzz/corpus/search/ (query strings, without the leading '?').
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/geo.h"
#include "open311/o311_params.h"
#include "util/datetime.h"
#include "util/utf8.h"

/* 2023-11-14T22:13:20Z: a fixed clock, so a crash replays the same way. */
#define FUZZ_NOW INT64_C(1700000000)

static void check_paging(size_t page, size_t page_size)
{
    CHECK(page >= 1 && page <= 1000000);
    CHECK(page_size >= 1 && page_size <= SRQ_MAX_RESULTS);
}

static void check_codes(const char *const *codes, size_t n)
{
    CHECK(n <= SRQ_MAX_CODES);
    CHECK(n == 0 || codes != NULL);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(codes[i]);
        CHECK(len > 0);
        CHECK(strchr(codes[i], ',') == NULL);
        CHECK(!isspace((unsigned char)codes[i][0]) && !isspace((unsigned char)codes[i][len - 1]));
        CHECK(utf8_valid(codes[i], len));
    }
}

static void check_search(const o311_search *s)
{
    const sr_query *q = &s->q;
    check_paging(q->page, q->page_size);
    CHECK(q->nids <= SRQ_MAX_IDS);
    for (size_t i = 0; i < q->nids; i++)
        CHECK(q->ids[i] >= 1);
    if (q->nids > 0)
        return; /* ids override every other filter: the rest is not read */

    CHECK(q->start <= q->end);
    CHECK(q->start >= DT_MIN && q->end <= DT_MAX);
    check_codes(q->service_codes, q->nservice_codes);
    check_codes(q->agency_codes, q->nagency_codes);
    CHECK((q->status_mask & ~((1u << SR_STATUS_COUNT) - 1)) == 0);
    if (q->has_updated_after && q->has_updated_before)
        CHECK(q->updated_after <= q->updated_before);

    if (q->has_radius) {
        CHECK(geo_valid(q->lat, q->lon));
        CHECK(q->radius_m > 0.0 && q->radius_m <= SRQ_MAX_RADIUS_M);
        CHECK(q->has_bbox); /* the box around the circle, for an index */
    }
    if (q->has_bbox) {
        CHECK(geo_valid(q->min_lat, q->min_lon) && geo_valid(q->max_lat, q->max_lon));
        /* Also when a bbox and a circle are both given: their intersection
         * (one that does not overlap is refused). */
        CHECK(q->min_lat <= q->max_lat);
        CHECK(q->min_lon <= q->max_lon);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return 0;
    kv_list in;
    err_t err;
    kv_init(&in);
    err_clear(&err);
    if (form_decode((const char *)data, size, pool, &KV_DEFAULT_LIMITS, &in, &err) != ERR_OK)
        goto done;

    o311_search s;
    err_clear(&err);
    err_code rc = o311_parse_search(&in, FUZZ_NOW, pool, &s, &err);
    if (rc == ERR_OK)
        check_search(&s);
    else
        fuzz_check_err(rc, &err);

    int64_t start, end;
    size_t page, page_size;
    err_clear(&err);
    rc = o311_parse_window(&in, FUZZ_NOW, &start, &end, &page, &page_size, &err);
    if (rc == ERR_OK) {
        CHECK(start <= end);
        CHECK(end - start <= SRQ_DEFAULT_WINDOW || end == DT_MAX);
        check_paging(page, page_size);
    } else {
        fuzz_check_err(rc, &err);
    }
done:
    pool_free(pool);
    return 0;
}
