/*
 * test_beacon.c - the page-view counters (core/beacon.h): names, and
 * counts taken exactly once while threads count.
 */
#include <pthread.h>
#include <string.h>

#include "core/beacon.h"
#include "storefx.h"
#include "testlib.h"

static void test_names(void)
{
    beacon_page p;
    for (unsigned i = 0; i < BEACON_PAGE_COUNT; i++) {
        const char *n = beacon_page_name((beacon_page)i);
        CHECK(beacon_page_parse(n, strlen(n), &p) && p == (beacon_page)i);
    }
    CHECK(beacon_page_parse("report", 6, &p) && p == BEACON_REPORT);
    CHECK(!beacon_page_parse("report", 5, &p));    /* "repor" */
    CHECK(!beacon_page_parse("report\n", 7, &p));
    CHECK(!beacon_page_parse("REPORT", 6, &p));
    CHECK(!beacon_page_parse("", 0, &p));
    CHECK(!beacon_page_parse("report\0x", 8, &p));
    CHECK_STR(beacon_page_name(BEACON_PAGE_COUNT), "error");
}

static void test_take_and_give_back(void)
{
    beacon_counter c;
    memset(&c, 0, sizeof c);
    uint64_t out[BEACON_PAGE_COUNT];
    beacon_take(&c, out);
    for (unsigned i = 0; i < BEACON_PAGE_COUNT; i++)
        CHECK_INT(out[i], 0);
    beacon_count(&c, BEACON_HOME);
    beacon_count(&c, BEACON_REVIEW);
    beacon_count(&c, BEACON_REVIEW);
    beacon_count(&c, BEACON_PAGE_COUNT); /* out of range: ignored */
    beacon_take(&c, out);
    CHECK_INT(out[BEACON_HOME], 1);
    CHECK_INT(out[BEACON_REVIEW], 2);
    CHECK_INT(out[BEACON_REPORT], 0);
    beacon_give_back(&c, out); /* a flush failed */
    beacon_count(&c, BEACON_HOME);
    beacon_take(&c, out);
    CHECK_INT(out[BEACON_HOME], 2);
    CHECK_INT(out[BEACON_REVIEW], 2);
    beacon_take(&c, out);
    CHECK_INT(out[BEACON_HOME], 0);
}

#define THREADS 4
#define PER_THREAD 100000

static beacon_counter shared;

static void *counter_thread(void *arg)
{
    beacon_page p = (beacon_page)(uintptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++)
        beacon_count(&shared, p);
    return NULL;
}

/* Takes while four threads count: every view is taken exactly once. */
static void test_concurrent(void)
{
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, counter_thread,
                               (void *)(i % 2 ? (uintptr_t)BEACON_REPORT
                                              : (uintptr_t)BEACON_HOME)) == 0);
    uint64_t total[BEACON_PAGE_COUNT] = {0}, out[BEACON_PAGE_COUNT];
    for (int round = 0; round < 1000; round++) {
        beacon_take(&shared, out);
        for (unsigned i = 0; i < BEACON_PAGE_COUNT; i++)
            total[i] += out[i];
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    beacon_take(&shared, out);
    for (unsigned i = 0; i < BEACON_PAGE_COUNT; i++)
        total[i] += out[i];
    CHECK_INT(total[BEACON_HOME], (uint64_t)PER_THREAD * (THREADS / 2));
    CHECK_INT(total[BEACON_REPORT], (uint64_t)PER_THREAD * (THREADS / 2));
}

/* The store's totals: added per (day, page), listed from a day on. */
static void test_store_totals(void)
{
    storefx fx;
    err_t err;
    REQUIRE(storefx_open(&fx));
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_page_views_add(fx.s, "2026-11-22", "home", 3, &err), ERR_OK);
    CHECK_INT(store_page_views_add(fx.s, "2026-11-23", "home", 2, &err), ERR_OK);
    CHECK_INT(store_page_views_add(fx.s, "2026-11-23", "home", 5, &err), ERR_OK);
    CHECK_INT(store_page_views_add(fx.s, "2026-11-23", "report", 1, &err), ERR_OK);
    CHECK_INT(store_page_views_add(fx.s, "2026-11-23", "report", 0, &err), ERR_INVALID);
    CHECK_INT(store_page_views_add(fx.s, "2026-11-2", "report", 1, &err), ERR_INVALID);
    CHECK_INT(store_page_views_add(fx.s, "2026/11/23", "report", 1, &err), ERR_INVALID);
    CHECK_INT(store_page_views_add(fx.s, "2026-11-23", "", 1, &err), ERR_INVALID);
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);
    store_page_views *rows = NULL;
    size_t n = 0;
    CHECK_INT(store_page_views_list(fx.s, "2026-11-23", pool, &rows, &n, &err), ERR_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(rows[0].page, "home");
        CHECK_INT(rows[0].views, 7);
        CHECK_STR(rows[1].page, "report");
        CHECK_INT(rows[1].views, 1);
    }
    CHECK_INT(store_page_views_list(fx.s, "2026-01-01", pool, &rows, &n, &err), ERR_OK);
    CHECK_INT(n, 3);
    CHECK_INT(store_page_views_list(fx.s, "yesterday", pool, &rows, &n, &err), ERR_INVALID);
    /* Outside a transaction, a write is a bug of the caller's. */
    CHECK_INT(store_page_views_add(fx.s, "2026-11-23", "home", 1, &err), ERR_INTERNAL);
    pool_free(pool);
    storefx_close(&fx);
}

TEST_MAIN(TEST(test_names), TEST(test_take_and_give_back), TEST(test_concurrent),
          TEST(test_store_totals))
