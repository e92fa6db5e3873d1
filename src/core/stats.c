/*
 * stats.c - the figures for managers (see stats.h): groups found by code
 * in a small open-addressing hash table per dimension, each group counting
 * its rows and keeping its closed requests' times to close, sorted once at
 * the end for exact nearest-rank percentiles; and the CSV and JSON
 * writers a page or the command line calls.
 *
 * Why exact rather than a histogram: a manager compares these figures
 * with the city's own spreadsheets, and "the 90th percentile" that moves
 * with a bucket width invites an argument nobody needs. Eight bytes per
 * closed request is cheap (see stats.h).
 */
#include "core/stats.h"

#include <stdlib.h>
#include <string.h>

#include "util/datetime.h"
#include "util/pool.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const DIM_NAMES[] = {"service", "agency", "all"};
_Static_assert(COUNT(DIM_NAMES) == STATS_DIM_COUNT, "a dimension without a name");

/* Column order of by_resolution, first to last. */
static const sr_resolution RESOLUTIONS[STATS_RES_COUNT] = {SR_RES_FIXED, SR_RES_DUPLICATE,
                                                           SR_RES_NOT_RESPONSIBLE,
                                                           SR_RES_COULD_NOT_FIND, SR_RES_NOT_FIXED};

const char *stats_dim_name(stats_dim d)
{
    return (unsigned)d < STATS_DIM_COUNT ? DIM_NAMES[d] : "?";
}

/* A group while rows come in: its figures and its times (malloc'd, so a
 * grown array's old block goes back to the allocator at once). */
typedef struct {
    stats_group g;
    int64_t *times;
    size_t ntimes, cap;
} group;

/* One dimension: groups in insertion order, and a hash table of indexes
 * into them (-1 = empty slot), kept under half full. */
typedef struct {
    bool kept;
    group *groups;
    size_t n, cap;
    long *slots;
    size_t nslots;
    bool has_null; /* the no-agency group exists */
    size_t null_index;
} dimension;

struct stats {
    int64_t from, to, now;
    pool_t *pool; /* group codes */
    dimension dims[STATS_DIM_COUNT];
    bool finished;
};

stats_t *stats_new(unsigned dims, int64_t from, int64_t to, int64_t now)
{
    stats_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->pool = pool_new();
    if (st->pool == NULL) {
        free(st);
        return NULL;
    }
    st->from = from;
    st->to = to;
    st->now = now;
    st->dims[STATS_BY_SERVICE].kept = (dims & STATS_BIT(STATS_BY_SERVICE)) != 0;
    st->dims[STATS_BY_AGENCY].kept = (dims & STATS_BIT(STATS_BY_AGENCY)) != 0;
    st->dims[STATS_OVERALL].kept = true;
    return st;
}

void stats_free(stats_t *st)
{
    if (st == NULL)
        return;
    for (size_t d = 0; d < STATS_DIM_COUNT; d++) {
        for (size_t i = 0; i < st->dims[d].n; i++)
            free(st->dims[d].groups[i].times);
        free(st->dims[d].groups);
        free(st->dims[d].slots);
    }
    pool_free(st->pool);
    free(st);
}

/* FNV-1a: codes are short and few; anything spreads them well enough. */
static size_t hash_code(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static bool rehash(dimension *dim, size_t nslots)
{
    long *slots = malloc(nslots * sizeof *slots);
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < nslots; i++)
        slots[i] = -1;
    for (size_t i = 0; i < dim->n; i++) {
        const char *code = dim->groups[i].g.code;
        if (code == NULL)
            continue;
        size_t j = hash_code(code) & (nslots - 1);
        while (slots[j] >= 0)
            j = (j + 1) & (nslots - 1);
        slots[j] = (long)i;
    }
    free(dim->slots);
    dim->slots = slots;
    dim->nslots = nslots;
    return true;
}

/* A new group at the end of dim (its code copied), or NULL. */
static group *group_add(stats_t *st, dimension *dim, stats_dim d, const char *code)
{
    if (dim->n == dim->cap) {
        size_t cap = dim->cap ? dim->cap * 2 : 16;
        group *g = realloc(dim->groups, cap * sizeof *g);
        if (g == NULL)
            return NULL;
        dim->groups = g;
        dim->cap = cap;
    }
    const char *copy = NULL;
    if (code != NULL && (copy = pool_strdup(st->pool, code)) == NULL)
        return NULL;
    group *g = &dim->groups[dim->n];
    memset(g, 0, sizeof *g);
    g->g.dim = d;
    g->g.code = copy;
    dim->n++;
    return g;
}

/* The group of code in dimension d (NULL code: no agency, or overall),
 * made on first sight. NULL when out of memory. */
static group *group_of(stats_t *st, stats_dim d, const char *code)
{
    dimension *dim = &st->dims[d];
    if (d == STATS_OVERALL || code == NULL) {
        if (dim->has_null)
            return &dim->groups[dim->null_index];
        group *g = group_add(st, dim, d, NULL);
        if (g != NULL) {
            dim->has_null = true;
            dim->null_index = dim->n - 1;
        }
        return g;
    }
    if ((dim->n + 1) * 2 > dim->nslots && !rehash(dim, dim->nslots ? dim->nslots * 2 : 32))
        return NULL;
    size_t j = hash_code(code) & (dim->nslots - 1);
    for (; dim->slots[j] >= 0; j = (j + 1) & (dim->nslots - 1)) {
        group *g = &dim->groups[dim->slots[j]];
        if (g->g.code != NULL && strcmp(g->g.code, code) == 0)
            return g;
    }
    group *g = group_add(st, dim, d, code);
    if (g != NULL)
        dim->slots[j] = (long)(dim->n - 1);
    return g;
}

/* Makes room for one more time in g. */
static bool time_room(group *g)
{
    if (g->ntimes < g->cap)
        return true;
    size_t cap = g->cap ? g->cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof *g->times)
        return false;
    int64_t *t = realloc(g->times, cap * sizeof *t);
    if (t == NULL)
        return false;
    g->times = t;
    g->cap = cap;
    return true;
}

static int resolution_column(sr_resolution r)
{
    for (int i = 0; i < STATS_RES_COUNT; i++)
        if (RESOLUTIONS[i] == r)
            return i;
    return -1;
}

err_code stats_add(stats_t *st, const stats_row *row, err_t *err)
{
    if (st == NULL || row == NULL || st->finished)
        return err_set(err, ERR_INTERNAL, "stats_add: no figures, or figures already finished");
    if (row->service_code == NULL || row->service_code[0] == '\0')
        return err_set(err, ERR_INVALID, "a request without a service");
    bool closed = row->status == SR_CLOSED;
    if (closed != (row->closed_at != 0))
        return err_set(err, ERR_INVALID, "a request whose status and closing time disagree");
    int res = closed ? resolution_column(row->resolution) : 0;
    if (res < 0)
        return err_set(err, ERR_INVALID, "a closed request without a resolution");

    /* Find (or make) every group first and room for the time in each, so
     * a failure changes no count. */
    group *gs[STATS_DIM_COUNT] = {NULL};
    const char *codes[STATS_DIM_COUNT] = {row->service_code, row->agency_code, NULL};
    for (size_t d = 0; d < STATS_DIM_COUNT; d++) {
        if (!st->dims[d].kept)
            continue;
        gs[d] = group_of(st, (stats_dim)d, codes[d]);
        if (gs[d] == NULL || (closed && !time_room(gs[d])))
            return err_set(err, ERR_NOMEM, "out of memory");
    }
    /* A request closed before it was filed is a clock's mistake: it took
     * no time, rather than negative time. */
    int64_t took =
        closed && row->closed_at > row->requested_at ? row->closed_at - row->requested_at : 0;
    for (size_t d = 0; d < STATS_DIM_COUNT; d++) {
        group *g = gs[d];
        if (g == NULL)
            continue;
        g->g.filed++;
        if (!closed) {
            g->g.open++;
            if (row->expected_at != 0 && st->now > row->expected_at)
                g->g.open_past_sla++;
            continue;
        }
        g->g.closed++;
        g->g.by_resolution[res]++;
        g->times[g->ntimes++] = took;
        if (row->expected_at != 0) {
            g->g.closed_with_sla++;
            if (row->closed_at <= row->expected_at)
                g->g.closed_within_sla++;
        }
    }
    return ERR_OK;
}

err_code stats_add_cb(void *ctx, const stats_row *row, err_t *err)
{
    return stats_add(ctx, row, err);
}

int64_t stats_nearest_rank(const int64_t *sorted, size_t n, unsigned p)
{
    if (n == 0 || p == 0 || p > 100)
        return 0;
    /* rank = ceil(p * n / 100), 1-based; n <= SIZE_MAX / 100 in practice
     * (a group of more than 10^17 requests does not exist). */
    size_t rank = (n / 100) * p + ((n % 100) * p + 99) / 100;
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* No agency first, then by code (bytewise, so the order never depends on
 * a locale). */
static int cmp_group(const void *a, const void *b)
{
    const char *x = ((const group *)a)->g.code, *y = ((const group *)b)->g.code;
    if (x == NULL || y == NULL)
        return (x != NULL) - (y != NULL);
    return strcmp(x, y);
}

void stats_finish(stats_t *st)
{
    if (st == NULL || st->finished)
        return;
    st->finished = true;
    for (size_t d = 0; d < STATS_DIM_COUNT; d++) {
        dimension *dim = &st->dims[d];
        for (size_t i = 0; i < dim->n; i++) {
            group *g = &dim->groups[i];
            if (g->ntimes == 0)
                continue;
            qsort(g->times, g->ntimes, sizeof *g->times, cmp_i64);
            g->g.has_times = true;
            g->g.median_seconds = stats_nearest_rank(g->times, g->ntimes, 50);
            g->g.p90_seconds = stats_nearest_rank(g->times, g->ntimes, 90);
        }
        /* The hash table indexes the old order: it is not needed again. */
        if (dim->n > 1)
            qsort(dim->groups, dim->n, sizeof *dim->groups, cmp_group);
        free(dim->slots);
        dim->slots = NULL;
        dim->nslots = 0;
    }
}

size_t stats_group_count(const stats_t *st, stats_dim d)
{
    return st != NULL && (unsigned)d < STATS_DIM_COUNT ? st->dims[d].n : 0;
}

const stats_group *stats_group_at(const stats_t *st, stats_dim d, size_t i)
{
    if (st == NULL || (unsigned)d >= STATS_DIM_COUNT || i >= st->dims[d].n)
        return NULL;
    return &st->dims[d].groups[i].g;
}

/* The overall group, all zeros when no row came. */
const stats_group *stats_overall(const stats_t *st)
{
    static const stats_group none = {.dim = STATS_OVERALL};
    if (st == NULL || st->dims[STATS_OVERALL].n == 0)
        return &none;
    return &st->dims[STATS_OVERALL].groups[0].g;
}

/* ---- writers ---- */

/* A share as a decimal with four places, rounded half up, from integer
 * counts (no floating point: the same counts always print the same). */
static void put_share(buf_t *b, int64_t part, int64_t whole)
{
    int64_t tenk = (part * 20000 + whole) / (2 * whole); /* round(part / whole * 10^4) */
    buf_printf(b, "%lld.%04lld", (long long)(tenk / 10000), (long long)(tenk % 10000));
}

static void csv_row(buf_t *b, const stats_group *g)
{
    buf_puts(b, stats_dim_name(g->dim));
    buf_putc(b, ',');
    if (g->code != NULL)
        buf_csv_field(b, g->code);
    buf_printf(b, ",%lld,%lld,%lld,%lld,", (long long)g->filed, (long long)g->closed,
               (long long)g->open, (long long)g->open_past_sla);
    if (g->has_times)
        buf_printf(b, "%lld,%lld", (long long)g->median_seconds, (long long)g->p90_seconds);
    else
        buf_putc(b, ',');
    buf_printf(b, ",%lld,%lld,", (long long)g->closed_with_sla, (long long)g->closed_within_sla);
    if (g->closed_with_sla > 0)
        put_share(b, g->closed_within_sla, g->closed_with_sla);
    for (int i = 0; i < STATS_RES_COUNT; i++)
        buf_printf(b, ",%lld", (long long)g->by_resolution[i]);
    buf_puts(b, "\r\n");
}

static err_code need_finished(const stats_t *st, buf_t *out, err_t *err)
{
    if (st == NULL || out == NULL || !st->finished)
        return err_set(err, ERR_INTERNAL, "stats: write before stats_finish");
    return ERR_OK;
}

static err_code written(const buf_t *out, err_t *err)
{
    return buf_failed(out) ? err_set(err, ERR_NOMEM, "out of memory") : ERR_OK;
}

err_code stats_write_csv(const stats_t *st, buf_t *out, err_t *err)
{
    err_code rc = need_finished(st, out, err);
    if (rc != ERR_OK)
        return rc;
    buf_puts(out, STATS_CSV_COLUMNS "\r\n");
    for (size_t d = 0; d < STATS_OVERALL; d++)
        if (st->dims[d].kept)
            for (size_t i = 0; i < st->dims[d].n; i++)
                csv_row(out, &st->dims[d].groups[i].g);
    csv_row(out, stats_overall(st));
    return written(out, err);
}

static void json_group(buf_t *b, const stats_group *g)
{
    buf_puts(b, "{\"group_by\":");
    buf_json_str(b, stats_dim_name(g->dim));
    buf_puts(b, ",\"group\":");
    buf_json_str(b, g->code);
    buf_printf(b, ",\"filed\":%lld,\"closed\":%lld,\"open\":%lld,\"open_past_sla\":%lld",
               (long long)g->filed, (long long)g->closed, (long long)g->open,
               (long long)g->open_past_sla);
    if (g->has_times)
        buf_printf(b, ",\"median_seconds_to_close\":%lld,\"p90_seconds_to_close\":%lld",
                   (long long)g->median_seconds, (long long)g->p90_seconds);
    else
        buf_puts(b, ",\"median_seconds_to_close\":null,\"p90_seconds_to_close\":null");
    buf_printf(b, ",\"closed_with_sla\":%lld,\"closed_within_sla\":%lld",
               (long long)g->closed_with_sla, (long long)g->closed_within_sla);
    buf_puts(b, ",\"share_closed_within_sla\":");
    if (g->closed_with_sla > 0)
        put_share(b, g->closed_within_sla, g->closed_with_sla);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"closed_by_resolution\":{");
    for (int i = 0; i < STATS_RES_COUNT; i++) {
        if (i > 0)
            buf_putc(b, ',');
        buf_json_str(b, sr_resolution_name(RESOLUTIONS[i]));
        buf_printf(b, ":%lld", (long long)g->by_resolution[i]);
    }
    buf_puts(b, "}}");
}

err_code stats_write_json(const stats_t *st, buf_t *out, err_t *err)
{
    err_code rc = need_finished(st, out, err);
    if (rc != ERR_OK)
        return rc;
    char from[DT_BUFSZ], to[DT_BUFSZ], now[DT_BUFSZ];
    buf_printf(out,
               "{\"filed_from\":\"%s\",\"filed_before\":\"%s\",\"as_of\":\"%s\","
               "\"time_unit\":\"seconds\",\"percentiles\":\"nearest-rank\"",
               dt_format(st->from, from), dt_format(st->to, to), dt_format(st->now, now));
    static const char *const KEYS[] = {"by_service", "by_agency"};
    for (size_t d = 0; d < STATS_OVERALL; d++) {
        if (!st->dims[d].kept)
            continue;
        buf_printf(out, ",\"%s\":[", KEYS[d]);
        for (size_t i = 0; i < st->dims[d].n; i++) {
            if (i > 0)
                buf_putc(out, ',');
            json_group(out, &st->dims[d].groups[i].g);
        }
        buf_putc(out, ']');
    }
    buf_puts(out, ",\"overall\":");
    json_group(out, stats_overall(st));
    buf_puts(out, "}\n");
    return written(out, err);
}
