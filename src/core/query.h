/*
 * query.h - a search over service requests (Open311 GET requests and its
 * extensions), as the domain sees it: a set of filters already checked and
 * normalised. The open311 layer builds one from query parameters; the store
 * runs it. Results come newest first (requested_at, then id, descending).
 */
#ifndef CIVIC_QUERY_H
#define CIVIC_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/request.h"

/* Open311's defaults: a 90-day window and at most 1000 results. */
#define SRQ_DEFAULT_WINDOW (90LL * 86400)
#define SRQ_MAX_RESULTS 1000
#define SRQ_MAX_IDS 1000
#define SRQ_MAX_CODES 100
#define SRQ_MAX_RADIUS_M 50000.0

typedef struct {
    /* service_request_id: when set, every other filter is ignored. */
    const int64_t *ids;
    size_t nids;

    const char *const *service_codes; /* any of these; none = all */
    size_t nservice_codes;

    /* Bit (1u << sr_status) per detailed status wanted; 0 = all.
     * Open311's "open" is every status but SR_CLOSED. */
    unsigned status_mask;

    const char *const *agency_codes; /* any of these; none = all */
    size_t nagency_codes;

    /* requested_at within [start, end] (inclusive). Always set. */
    int64_t start, end;

    /* updated_at within [updated_after, updated_before], each bound only
     * when its has_ flag is set (any instant is a valid bound, even 0). */
    bool has_updated_after, has_updated_before;
    int64_t updated_after, updated_before;

    /* Within radius_m metres of (lat, lon), when has_radius. */
    bool has_radius;
    double lat, lon, radius_m;

    /* Inside the box, when has_bbox (always set too when has_radius: the
     * box around the circle, so a store can use an index first). */
    bool has_bbox;
    double min_lat, min_lon, max_lat, max_lon;

    size_t page;      /* 1-based */
    size_t page_size; /* 1..SRQ_MAX_RESULTS */
} sr_query;

#define SRQ_STATUS_BIT(s) (1u << (unsigned)(s))
#define SRQ_OPEN311_OPEN                                                                       \
    (SRQ_STATUS_BIT(SR_OPEN) | SRQ_STATUS_BIT(SR_ACKNOWLEDGED) |                              \
     SRQ_STATUS_BIT(SR_IN_PROGRESS) | SRQ_STATUS_BIT(SR_REOPENED))
#define SRQ_OPEN311_CLOSED SRQ_STATUS_BIT(SR_CLOSED)

/* A query with Open311's defaults: the 90 days up to now, page 1, 1000. */
void srq_init(sr_query *q, int64_t now);

/* Sets the circle and the box around it. Errors on out-of-range values. */
err_code srq_set_radius(sr_query *q, double lat, double lon, double radius_m, err_t *err);

/* True if the request matches every filter of q (the reference semantics
 * the stores must agree with; tests compare the two). */
bool srq_matches(const sr_query *q, const service_request *sr);

#endif
