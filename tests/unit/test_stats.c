/*
 * test_stats.c - the figures for managers (core/stats.c): medians and 90th
 * percentiles worked out by hand on small sets, empty and all-open groups,
 * the SLA edge exactly at expected_at, bad rows, a randomized check against
 * a sort-based reference, the CSV and JSON output; and the store's stream
 * (store_stats_rows) over a window on a real SQLite store.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "store/store.h"
#include "testlib.h"
#include "storefx.h"

#define H 3600
#define T0 1790000000 /* 2026-09-21T... */

static stats_row closed(const char *svc, const char *agency_code, int64_t at, int64_t took,
                        int64_t sla, sr_resolution res)
{
    return (stats_row){svc, agency_code, at, at + took, sla ? at + sla : 0, SR_CLOSED, res};
}

static stats_row open_row(const char *svc, const char *agency_code, int64_t at, int64_t sla)
{
    return (stats_row){svc, agency_code, at, 0, sla ? at + sla : 0, SR_OPEN, SR_RES_NONE};
}

static stats_t *stats_of(const stats_row *rows, size_t n, int64_t now)
{
    err_t err;
    stats_t *st = stats_new(STATS_BIT(STATS_BY_SERVICE) | STATS_BIT(STATS_BY_AGENCY), T0,
                            T0 + 86400 * 30, now);
    if (st == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (stats_add(st, &rows[i], &err) != ERR_OK) {
            fprintf(stderr, "stats_add: %s\n", err.msg);
            stats_free(st);
            return NULL;
        }
    stats_finish(st);
    return st;
}

static const stats_group *find(const stats_t *st, stats_dim d, const char *code)
{
    for (size_t i = 0; i < stats_group_count(st, d); i++) {
        const stats_group *g = stats_group_at(st, d, i);
        if (code == NULL ? g->code == NULL : g->code != NULL && strcmp(g->code, code) == 0)
            return g;
    }
    return NULL;
}

static void test_nearest_rank(void)
{
    /* rank = ceil(p/100 * n): n=4 -> median rank 2, p90 rank 4; n=10 -> 5, 9;
     * n=1 -> 1, 1; n=11 -> 6, 10. */
    static const int64_t four[] = {10, 20, 30, 40};
    CHECK_INT(stats_nearest_rank(four, 4, 50), 20);
    CHECK_INT(stats_nearest_rank(four, 4, 90), 40);
    static const int64_t ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK_INT(stats_nearest_rank(ten, 10, 50), 5);
    CHECK_INT(stats_nearest_rank(ten, 10, 90), 9);
    CHECK_INT(stats_nearest_rank(ten, 10, 100), 10);
    CHECK_INT(stats_nearest_rank(ten, 10, 1), 1);
    static const int64_t one[] = {7};
    CHECK_INT(stats_nearest_rank(one, 1, 50), 7);
    CHECK_INT(stats_nearest_rank(one, 1, 90), 7);
    static const int64_t eleven[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    CHECK_INT(stats_nearest_rank(eleven, 11, 50), 6);
    CHECK_INT(stats_nearest_rank(eleven, 11, 90), 10);
    CHECK_INT(stats_nearest_rank(ten, 0, 50), 0);
    CHECK_INT(stats_nearest_rank(ten, 10, 0), 0);
    CHECK_INT(stats_nearest_rank(ten, 10, 101), 0);
}

static void test_small_sets_by_hand(void)
{
    /* pothole (DOT): closed after 5, 1, 3, 2 hours (given out of order) and
     * one open; light (DOT): closed after 10 hours; noise (NYPD): open. */
    const stats_row rows[] = {
        closed("pothole", "DOT", T0, 5 * H, 4 * H, SR_RES_FIXED),
        closed("pothole", "DOT", T0 + 10, 1 * H, 4 * H, SR_RES_FIXED),
        closed("pothole", "DOT", T0 + 20, 3 * H, 4 * H, SR_RES_NOT_FIXED),
        closed("pothole", "DOT", T0 + 30, 2 * H, 0, SR_RES_DUPLICATE),
        open_row("pothole", "DOT", T0 + 40, 4 * H),
        closed("light", "DOT", T0 + 50, 10 * H, 0, SR_RES_COULD_NOT_FIND),
        open_row("noise", "NYPD", T0 + 60, 0),
    };
    stats_t *st = stats_of(rows, sizeof rows / sizeof rows[0], T0 + 100 * H);
    REQUIRE(st != NULL);
    const stats_group *p = find(st, STATS_BY_SERVICE, "pothole");
    REQUIRE(p != NULL);
    CHECK_INT(p->filed, 5);
    CHECK_INT(p->closed, 4);
    CHECK_INT(p->open, 1);
    CHECK_INT(p->open_past_sla, 1);
    CHECK(p->has_times);
    CHECK_INT(p->median_seconds, 2 * H); /* sorted 1,2,3,5: rank 2 */
    CHECK_INT(p->p90_seconds, 5 * H);    /* rank ceil(3.6) = 4 */
    CHECK_INT(p->closed_with_sla, 3);
    CHECK_INT(p->closed_within_sla, 2); /* 1 h and 3 h of 4 h; 5 h is late */
    CHECK_INT(p->by_resolution[0], 2);  /* fixed */
    CHECK_INT(p->by_resolution[1], 1);  /* duplicate */
    CHECK_INT(p->by_resolution[4], 1);  /* closed but not fixed: never silent */
    const stats_group *dot = find(st, STATS_BY_AGENCY, "DOT");
    REQUIRE(dot != NULL);
    CHECK_INT(dot->filed, 6);
    CHECK_INT(dot->closed, 5);
    CHECK_INT(dot->median_seconds, 3 * H); /* 1,2,3,5,10: rank 3 */
    CHECK_INT(dot->p90_seconds, 10 * H);   /* rank ceil(4.5) = 5 */
    CHECK_INT(dot->by_resolution[3], 1);   /* could not find */
    /* An all-open group: counts, and no times at all. */
    const stats_group *noise = find(st, STATS_BY_SERVICE, "noise");
    REQUIRE(noise != NULL);
    CHECK_INT(noise->filed, 1);
    CHECK_INT(noise->open, 1);
    CHECK_INT(noise->open_past_sla, 0); /* no SLA: never past it */
    CHECK(!noise->has_times);
    CHECK_INT(noise->closed_with_sla, 0);
    const stats_group *all = stats_overall(st);
    CHECK_INT(all->filed, 7);
    CHECK_INT(all->closed, 5);
    CHECK_INT(all->open, 2);
    CHECK_INT(all->median_seconds, 3 * H);
    /* Groups come sorted by code. */
    CHECK_STR(stats_group_at(st, STATS_BY_SERVICE, 0)->code, "light");
    CHECK_STR(stats_group_at(st, STATS_BY_SERVICE, 2)->code, "pothole");
    CHECK(stats_group_at(st, STATS_BY_SERVICE, 3) == NULL);
    stats_free(st);
}

static void test_sla_edge(void)
{
    /* Closed exactly at expected_at meets the SLA; a second later does not.
     * Open exactly at expected_at is not past it; a second later is. */
    const stats_row rows[] = {
        closed("a", "X", T0, 4 * H, 4 * H, SR_RES_FIXED),
        closed("a", "X", T0, 4 * H + 1, 4 * H, SR_RES_FIXED),
        open_row("b", "X", T0, 4 * H),
    };
    stats_t *at_edge = stats_of(rows, 3, T0 + 4 * H);
    stats_t *after = stats_of(rows, 3, T0 + 4 * H + 1);
    REQUIRE(at_edge != NULL && after != NULL);
    const stats_group *a = find(at_edge, STATS_BY_SERVICE, "a");
    REQUIRE(a != NULL);
    CHECK_INT(a->closed_with_sla, 2);
    CHECK_INT(a->closed_within_sla, 1);
    CHECK_INT(find(at_edge, STATS_BY_SERVICE, "b")->open_past_sla, 0);
    CHECK_INT(find(after, STATS_BY_SERVICE, "b")->open_past_sla, 1);
    stats_free(at_edge);
    stats_free(after);
}

static void test_empty_and_bad_rows(void)
{
    err_t err;
    stats_t *st = stats_new(STATS_BIT(STATS_BY_SERVICE), T0, T0 + 86400, T0);
    REQUIRE(st != NULL);
    /* Bad rows change nothing. */
    stats_row no_service = open_row(NULL, "X", T0, 0);
    stats_row closed_no_time = {"a", "X", T0, 0, 0, SR_CLOSED, SR_RES_FIXED};
    stats_row open_with_time = {"a", "X", T0, T0 + 5, 0, SR_IN_PROGRESS, SR_RES_NONE};
    stats_row closed_no_res = {"a", "X", T0, T0 + 5, 0, SR_CLOSED, SR_RES_NONE};
    CHECK_INT(stats_add(st, &no_service, &err), ERR_INVALID);
    CHECK_INT(stats_add(st, &closed_no_time, &err), ERR_INVALID);
    CHECK_INT(stats_add(st, &open_with_time, &err), ERR_INVALID);
    CHECK_INT(stats_add(st, &closed_no_res, &err), ERR_INVALID);
    buf_t b = BUF_INIT;
    CHECK_INT(stats_write_csv(st, &b, &err), ERR_INTERNAL); /* not finished */
    stats_finish(st);
    CHECK_INT(stats_group_count(st, STATS_BY_SERVICE), 0);
    CHECK_INT(stats_group_count(st, STATS_BY_AGENCY), 0);
    CHECK_INT(stats_overall(st)->filed, 0);
    CHECK_INT(stats_write_csv(st, &b, &err), ERR_OK);
    CHECK_STR(b.data, STATS_CSV_COLUMNS "\r\nall,,0,0,0,0,,,0,0,,0,0,0,0,0\r\n");
    buf_reset(&b);
    CHECK_INT(stats_write_json(st, &b, &err), ERR_OK);
    CHECK(strstr(b.data, "\"by_service\":[]") != NULL);
    CHECK(strstr(b.data, "\"by_agency\"") == NULL); /* not kept */
    CHECK(strstr(b.data, "\"median_seconds_to_close\":null") != NULL);
    CHECK(strstr(b.data, "\"share_closed_within_sla\":null") != NULL);
    CHECK_INT(stats_add(st, &(stats_row){"a", "X", T0, 0, 0, SR_OPEN, SR_RES_NONE}, &err),
              ERR_INTERNAL); /* finished: no more rows */
    buf_free(&b);
    stats_free(st);
    stats_free(NULL);
}

static void test_csv_and_json(void)
{
    err_t err;
    const stats_row rows[] = {
        closed("pot,hole", "DOT", T0, 2 * H, 3 * H, SR_RES_FIXED),
        closed("pot,hole", "DOT", T0, 4 * H, 3 * H, SR_RES_NOT_FIXED),
        closed("pot,hole", "DOT", T0, 1 * H, 3 * H, SR_RES_FIXED),
        open_row("light", NULL, T0, H),
    };
    stats_t *st = stats_of(rows, 4, T0 + 2 * H);
    REQUIRE(st != NULL);
    buf_t b = BUF_INIT;
    CHECK_INT(stats_write_csv(st, &b, &err), ERR_OK);
    CHECK_STR(b.data,
              STATS_CSV_COLUMNS "\r\n"
                                "service,light,1,0,1,1,,,0,0,,0,0,0,0,0\r\n"
                                "service,\"pot,hole\",3,3,0,0,7200,14400,3,2,0.6667,2,0,0,0,1\r\n"
                                "agency,,1,0,1,1,,,0,0,,0,0,0,0,0\r\n"
                                "agency,DOT,3,3,0,0,7200,14400,3,2,0.6667,2,0,0,0,1\r\n"
                                "all,,4,3,1,1,7200,14400,3,2,0.6667,2,0,0,0,1\r\n");
    buf_reset(&b);
    CHECK_INT(stats_write_json(st, &b, &err), ERR_OK);
    CHECK(strstr(b.data, "{\"group_by\":\"agency\",\"group\":null,\"filed\":1,") != NULL);
    CHECK(strstr(b.data, "\"group\":\"pot,hole\",\"filed\":3,\"closed\":3,\"open\":0,"
                         "\"open_past_sla\":0,\"median_seconds_to_close\":7200,"
                         "\"p90_seconds_to_close\":14400,\"closed_with_sla\":3,"
                         "\"closed_within_sla\":2,\"share_closed_within_sla\":0.6667,"
                         "\"closed_by_resolution\":{\"fixed\":2,\"duplicate\":0,"
                         "\"not_responsible\":0,\"could_not_find\":0,\"not_fixed\":1}}") != NULL);
    CHECK(strstr(b.data, "\"time_unit\":\"seconds\"") != NULL);
    buf_free(&b);
    stats_free(st);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Percentiles of many random groups against a plain reference: sort the
 * group's times, take index ceil(p*n/100)-1 computed in floating point. */
static void test_random_against_reference(void)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    static const char *const SVC[] = {"a", "b", "c", "d", "e", "f", "g"};
    enum { NSVC = 7, ROWS = 20000 };
    stats_t *st = stats_new(STATS_BIT(STATS_BY_SERVICE), T0, T0 + 86400, T0 + 86400 * 400);
    int64_t *times[NSVC];
    size_t n[NSVC] = {0}, filed[NSVC] = {0};
    err_t err;
    REQUIRE(st != NULL);
    for (int i = 0; i < NSVC; i++)
        times[i] = malloc(ROWS * sizeof *times[i]);
    for (int r = 0; r < ROWS; r++) {
        /* A skewed mix, so some groups are small (1, 2, 3 closed). */
        int s = (int)(rng(&seed) % 100);
        s = s < 60 ? 0 : s < 85 ? 1 : s < 97 ? 2 : 3 + (int)(rng(&seed) % 4);
        if (s >= 3 && filed[s] >= (size_t)(s - 2))
            s = 0;
        filed[s]++;
        stats_row row;
        if (rng(&seed) % 5 == 0) {
            row = open_row(SVC[s], "X", T0, 0);
        } else {
            int64_t took = (int64_t)(rng(&seed) % (30 * 86400));
            if (rng(&seed) % 10 == 0)
                took = 3600; /* ties */
            row = closed(SVC[s], "X", T0, took, 0, SR_RES_FIXED);
            times[s][n[s]++] = took;
        }
        CHECK_INT(stats_add(st, &row, &err), ERR_OK);
    }
    stats_finish(st);
    for (int s = 0; s < NSVC; s++) {
        const stats_group *g = find(st, STATS_BY_SERVICE, SVC[s]);
        if (filed[s] == 0) {
            CHECK(g == NULL);
            continue;
        }
        REQUIRE(g != NULL);
        CHECK_INT(g->filed, filed[s]);
        CHECK_INT(g->closed, n[s]);
        CHECK(g->has_times == (n[s] > 0));
        if (n[s] == 0)
            continue;
        qsort(times[s], n[s], sizeof *times[s], cmp64);
        size_t r50 = (n[s] + 1) / 2, r90 = n[s] * 9 / 10; /* ceil(n/2), then ceil(9n/10) */
        if (r90 * 10 < n[s] * 9)
            r90++;
        CHECK_INT(g->median_seconds, times[s][r50 - 1]);
        CHECK_INT(g->p90_seconds, times[s][r90 - 1]);
    }
    for (int i = 0; i < NSVC; i++)
        free(times[i]);
    stats_free(st);
}

/* A million rows: bounded by the closed times kept, and quick. */
static void test_a_million_rows(void)
{
    err_t err;
    stats_t *st =
        stats_new(STATS_BIT(STATS_BY_SERVICE) | STATS_BIT(STATS_BY_AGENCY), T0, T0 + 86400, T0);
    REQUIRE(st != NULL);
    char svc[16], ag[8];
    for (int64_t i = 0; i < 1000000; i++) {
        snprintf(svc, sizeof svc, "svc-%d", (int)(i % 200));
        snprintf(ag, sizeof ag, "A%d", (int)(i % 12));
        stats_row row =
            i % 3 == 0 ? open_row(svc, ag, T0, H) : closed(svc, ag, T0, i % 1000, H, SR_RES_FIXED);
        if (stats_add(st, &row, &err) != ERR_OK) {
            CHECK(!"stats_add failed");
            break;
        }
    }
    stats_finish(st);
    CHECK_INT(stats_overall(st)->filed, 1000000);
    CHECK_INT(stats_overall(st)->closed, 666666);
    CHECK_INT(stats_group_count(st, STATS_BY_SERVICE), 200);
    CHECK_INT(stats_group_count(st, STATS_BY_AGENCY), 12);
    CHECK_INT(stats_overall(st)->median_seconds, 499);
    stats_free(st);
}

/* ---- the store's stream ---- */

typedef struct {
    int n;
    int closed;
    int64_t min_at, max_at;
} seen;

static err_code count_row(void *ctx, const stats_row *row, err_t *err)
{
    (void)err;
    seen *s = ctx;
    s->n++;
    s->closed += row->status == SR_CLOSED;
    if (s->min_at == 0 || row->requested_at < s->min_at)
        s->min_at = row->requested_at;
    if (row->requested_at > s->max_at)
        s->max_at = row->requested_at;
    return ERR_OK;
}

static err_code stop_at_two(void *ctx, const stats_row *row, err_t *err)
{
    (void)row;
    seen *s = ctx;
    if (++s->n == 2)
        return err_set(err, ERR_NOMEM, "out of memory");
    return ERR_OK;
}

static void test_store_stream(void)
{
    static const agency dot = {"DOT", "Department of Transportation"};
    static const service svcs[] = {
        {"pothole", "Pothole", NULL, SERVICE_REALTIME, NULL, NULL, "DOT", NULL, 0, NULL, 0},
    };
    storefx fx;
    err_t err;
    REQUIRE(storefx_open(&fx));
    REQUIRE(storefx_put_services(fx.s, &dot, 1, svcs, 1));
    int64_t ids[6];
    for (int i = 0; i < 6; i++) {
        service_request sr = storefx_request("pothole", T0 + i * 86400);
        sr.agency_code = "DOT";
        sr.expected_at = sr.requested_at + 2 * 86400;
        REQUIRE(storefx_insert(fx.s, &sr, &err) == ERR_OK);
        ids[i] = sr.id;
    }
    REQUIRE(storefx_set_status(fx.s, ids[1], T0 + 2 * 86400, SR_CLOSED));
    REQUIRE(storefx_set_status(fx.s, ids[2], T0 + 9 * 86400, SR_CLOSED));
    /* [T0 + 1 day, T0 + 4 days): requests 1, 2, 3. */
    seen s = {0};
    CHECK_INT(store_stats_rows(fx.s, T0 + 86400, T0 + 4 * 86400, count_row, &s, &err), ERR_OK);
    CHECK_INT(s.n, 3);
    CHECK_INT(s.closed, 2);
    CHECK_INT(s.min_at, T0 + 86400);
    CHECK_INT(s.max_at, T0 + 3 * 86400);
    /* Through the domain: one closed in 1 day (within 2), one in 7 (late). */
    stats_t *st =
        stats_new(STATS_BIT(STATS_BY_AGENCY), T0 + 86400, T0 + 4 * 86400, T0 + 10 * 86400);
    REQUIRE(st != NULL);
    CHECK_INT(store_stats_rows(fx.s, T0 + 86400, T0 + 4 * 86400, stats_add_cb, st, &err), ERR_OK);
    stats_finish(st);
    const stats_group *g = find(st, STATS_BY_AGENCY, "DOT");
    REQUIRE(g != NULL);
    CHECK_INT(g->closed_within_sla, 1);
    CHECK_INT(g->open_past_sla, 1);
    CHECK_INT(g->median_seconds, 86400);
    CHECK_INT(g->p90_seconds, 7 * 86400);
    stats_free(st);
    /* A callback's failure stops the stream and is returned. */
    memset(&s, 0, sizeof s);
    CHECK_INT(store_stats_rows(fx.s, 0, (int64_t)T0 * 2, stop_at_two, &s, &err), ERR_NOMEM);
    CHECK_INT(s.n, 2);
    /* An empty or backward window is a caller's mistake. */
    CHECK_INT(store_stats_rows(fx.s, T0, T0, count_row, &s, &err), ERR_INVALID);
    CHECK_INT(store_stats_rows(fx.s, T0, T0 + 1, NULL, &s, &err), ERR_INVALID);
    storefx_close(&fx);
}

TEST_MAIN(TEST(test_nearest_rank), TEST(test_small_sets_by_hand), TEST(test_sla_edge),
          TEST(test_empty_and_bad_rows), TEST(test_csv_and_json),
          TEST(test_random_against_reference), TEST(test_a_million_rows), TEST(test_store_stream))
