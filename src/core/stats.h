/*
 * stats.h - the figures for managers (issue 5, item 8): how many requests
 * were filed, closed and left open, how long they took to close, and how
 * often the service level agreement (SLA) was met, per service, per agency
 * and overall.
 *
 * Pure domain code: rows come in one at a time (the store streams them,
 * store_stats_rows), nothing here knows SQL, HTTP or files. A row carries
 * no personal data: codes, times, status and resolution only.
 *
 * Definitions (docs/DESIGN.md, "Figures for managers"):
 *   closed        status closed (a reopened request is open again)
 *   still open    filed - closed
 *   open past SLA still open, with an SLA, and now > expected_at
 *   time to close closed_at - requested_at, in whole seconds
 *   median, p90   exact, nearest-rank over the closed requests' times:
 *                 the value at rank ceil(p/100 x n) of the sorted times
 *                 (so the median of an even count is the lower middle)
 *   within SLA    closed_at <= expected_at (closing exactly at the
 *                 deadline meets it); the share is of the closed requests
 *                 that had an SLA
 *
 * Memory: a group keeps its closed requests' times (8 bytes each) to give
 * exact percentiles: 1,000,000 closed requests cost 8 MB per dimension
 * (service, agency, overall), and nothing grows with open requests.
 */
#ifndef CIVIC_STATS_H
#define CIVIC_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/request.h"
#include "util/buf.h"
#include "util/err.h"

/* One request as the figures see it. Strings are borrowed for the call. */
typedef struct {
    const char *service_code;
    const char *agency_code; /* NULL: routed to no agency */
    int64_t requested_at;
    int64_t closed_at;   /* 0 = not closed */
    int64_t expected_at; /* 0 = no SLA */
    sr_status status;
    sr_resolution resolution;
} stats_row;

/* Hands one row to whoever collects them (stats_add_cb, or a test). */
typedef err_code (*stats_row_fn)(void *ctx, const stats_row *row, err_t *err);

typedef enum { STATS_BY_SERVICE = 0, STATS_BY_AGENCY, STATS_OVERALL } stats_dim;

#define STATS_DIM_COUNT 3
#define STATS_BIT(d) (1u << (unsigned)(d))

/* "service", "agency", "all": the group_by column. */
const char *stats_dim_name(stats_dim d);

/* The resolutions a closed request can have, in column order. */
#define STATS_RES_COUNT 5 /* SR_RES_FIXED .. SR_RES_NOT_FIXED */

/* One group's figures, as stats_finish leaves them. */
typedef struct {
    stats_dim dim;
    const char *code; /* service or agency code; NULL for no agency, and overall */
    int64_t filed;
    int64_t closed;
    int64_t open;
    int64_t open_past_sla;
    bool has_times;          /* closed > 0: the two below mean something */
    int64_t median_seconds;  /* nearest-rank */
    int64_t p90_seconds;     /* nearest-rank */
    int64_t closed_with_sla; /* closed requests that had an SLA */
    int64_t closed_within_sla;
    int64_t by_resolution[STATS_RES_COUNT]; /* closed: fixed, duplicate, ... */
} stats_group;

typedef struct stats stats_t;

/*
 * Figures for the requests filed in [from, to), grouped by the dimensions
 * in dims (STATS_BIT(STATS_BY_SERVICE) | ...; overall is always kept), as
 * of now (which decides "open past SLA"). NULL when out of memory. The
 * caller frees it with stats_free.
 */
stats_t *stats_new(unsigned dims, int64_t from, int64_t to, int64_t now);
void stats_free(stats_t *st); /* NULL is fine */

/* Counts one row. ERR_INVALID for a row that breaks the store's rules (no
 * service, a closed request without a closing time or the reverse, a
 * closed one without a resolution); ERR_NOMEM. A failed add changes no count. */
err_code stats_add(stats_t *st, const stats_row *row, err_t *err);
/* stats_add as a stats_row_fn (ctx is the stats_t). */
err_code stats_add_cb(void *ctx, const stats_row *row, err_t *err);

/* Sorts the times and works out the percentiles: call once, after the
 * last add and before reading or writing. */
void stats_finish(stats_t *st);

/* The groups of one dimension, sorted by code (no agency first), and the
 * overall group; pointers valid until stats_free. */
size_t stats_group_count(const stats_t *st, stats_dim d);
const stats_group *stats_group_at(const stats_t *st, stats_dim d, size_t i);
const stats_group *stats_overall(const stats_t *st);

/* The nearest-rank p-th percentile (0 < p <= 100) of n sorted values. */
int64_t stats_nearest_rank(const int64_t *sorted, size_t n, unsigned p);

/*
 * RFC 4180 CSV (CRLF line ends), a header row of STATS_CSV_COLUMNS, then
 * the groups of each dimension kept (services, then agencies) and the
 * overall row last. Times in whole seconds; an empty field where a figure
 * does not exist (no closed request: no median). The share within SLA has
 * four decimals.
 */
#define STATS_CSV_COLUMNS                                                                          \
    "group_by,group,filed,closed,open,open_past_sla,median_seconds_to_close,"                      \
    "p90_seconds_to_close,closed_with_sla,closed_within_sla,share_closed_within_sla,"              \
    "closed_fixed,closed_duplicate,closed_not_responsible,closed_could_not_find,"                  \
    "closed_not_fixed"
err_code stats_write_csv(const stats_t *st, buf_t *out, err_t *err);

/* The same as one JSON document: the window and the time the figures were
 * made, then {"by_service":[...],"by_agency":[...],"overall":{...}} (the
 * dimensions not kept left out), null where a figure does not exist. */
err_code stats_write_json(const stats_t *st, buf_t *out, err_t *err);

#endif
