/*
 * test_commitq.c - the group-commit writer: many threads submitting at
 * once, every done() called exactly once and only after its commit,
 * batches shared, a failing job isolated from its neighbours, a job that
 * kills the transaction failing its whole batch, and stop draining the
 * queue while refusing new work.
 *
 * Jobs write api keys (each job its own hash) because they need no
 * catalog; the test then reads them back through the store.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/commitq.h"
#include "testlib.h"

typedef struct {
    char dir[64];
    char path[128];
} tmpdb;

static bool tmpdb_make(tmpdb *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/civic-commitq-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return false;
    snprintf(t->path, sizeof t->path, "%s/civic311.db", t->dir);
    err_t err;
    store_t *s = NULL;
    store_options opt = {.url = t->path, .sync = true};
    bool ok = store_open(&opt, &s, &err) == ERR_OK && store_migrate(s, &err) == ERR_OK;
    store_close(s);
    return ok;
}

static void tmpdb_remove(const tmpdb *t)
{
    const char *suffixes[] = {"", "-wal", "-shm"};
    char p[160];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", t->path, suffixes[i]);
        unlink(p);
    }
    rmdir(t->dir);
}

/* ---- jobs ---- */

typedef struct {
    unsigned n;      /* the job's number: its key hash */
    bool fail;       /* write, then report an error */
    atomic_int done; /* how many times done() ran */
    err_code rc;     /* what done() was told */
    int64_t key_id;
} job;

static void job_hash(unsigned n, unsigned char h[STORE_KEY_HASH_LEN])
{
    memset(h, 0xAB, STORE_KEY_HASH_LEN);
    memcpy(h, &n, sizeof n);
}

static err_code job_apply(store_t *s, void *arg, err_t *err)
{
    job *j = arg;
    unsigned char h[STORE_KEY_HASH_LEN];
    job_hash(j->n, h);
    err_code rc = store_apikey_insert(s, "job", h, 1, &j->key_id, err);
    if (rc == ERR_OK && j->fail)
        return err_set(err, ERR_INVALID, "job %u fails on purpose", j->n);
    return rc;
}

static void job_done(void *arg, err_code rc, const err_t *err)
{
    job *j = arg;
    (void)err;
    j->rc = rc;
    atomic_fetch_add(&j->done, 1);
}

/* True if job n's key is in the database. */
static bool key_stored(store_t *s, unsigned n)
{
    unsigned char h[STORE_KEY_HASH_LEN];
    int64_t id;
    err_t err;
    job_hash(n, h);
    return store_apikey_find(s, h, &id, &err) == ERR_OK;
}

static store_t *open_reader(const tmpdb *t)
{
    err_t err;
    store_t *s = NULL;
    store_options opt = {.url = t->path, .read_only = true};
    return store_open(&opt, &s, &err) == ERR_OK ? s : NULL;
}

/* ---- a gate: a job that holds the writer until the test opens it, so the
 * jobs submitted meanwhile are known to share the next batch ---- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, open;
} gate;

static void gate_init(gate *g)
{
    if (pthread_mutex_init(&g->mu, NULL) != 0 || pthread_cond_init(&g->cv, NULL) != 0)
        abort();
    g->entered = g->open = false;
}

static void gate_destroy(gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static err_code gate_apply(store_t *s, void *arg, err_t *err)
{
    gate *g = arg;
    (void)s;
    (void)err;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return ERR_OK;
}

static void gate_wait_entered(gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->entered)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* ---- many threads ---- */

#define NTHREADS 8
#define PER_THREAD 150

typedef struct {
    commitq_t *q;
    job *jobs; /* PER_THREAD of them */
    bool blocking;
    int refused;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        job *j = &w->jobs[i];
        err_t err;
        err_code rc;
        if (w->blocking) {
            rc = commitq_run(w->q, job_apply, j, &err);
            j->rc = rc;
            atomic_fetch_add(&j->done, 1);
        } else {
            rc = commitq_submit(w->q, job_apply, job_done, j, &err);
        }
        if (rc != ERR_OK && !j->fail)
            w->refused++;
    }
    return NULL;
}

static void test_many_threads(void)
{
    tmpdb t;
    REQUIRE(tmpdb_make(&t));
    err_t err;
    commitq_t *q = NULL;
    store_options opt = {.url = t.path, .sync = true};
    REQUIRE(commitq_start(&opt, 32, &q, &err) == ERR_OK);

    static job jobs[NTHREADS * PER_THREAD];
    memset(jobs, 0, sizeof jobs);
    for (unsigned i = 0; i < NTHREADS * PER_THREAD; i++) {
        jobs[i].n = i;
        jobs[i].fail = i % 13 == 5;
    }
    worker workers[NTHREADS];
    pthread_t threads[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        workers[i] = (worker){q, &jobs[i * PER_THREAD], i % 2 == 0, 0};
        REQUIRE(pthread_create(&threads[i], NULL, worker_main, &workers[i]) == 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK_INT(workers[i].refused, 0);
    }
    /* The queue is FIFO: once this job is done, every earlier one is. */
    job last = {.n = 1u << 20};
    CHECK_INT(commitq_run(q, job_apply, &last, &err), ERR_OK);
    size_t batches = 0, done = 0;
    commitq_stats(q, &batches, &done);
    CHECK_INT(done, NTHREADS * PER_THREAD + 1);
    CHECK(batches < done); /* commits were shared */
    commitq_stop(q);

    store_t *r = open_reader(&t);
    done = 0;
    REQUIRE(r != NULL);
    int wrong = 0;
    for (unsigned i = 0; i < NTHREADS * PER_THREAD; i++) {
        job *j = &jobs[i];
        done += atomic_load(&j->done) == 1;
        bool stored = key_stored(r, i);
        if (j->fail ? (j->rc != ERR_INVALID || stored) : (j->rc != ERR_OK || !stored))
            wrong++;
    }
    CHECK_INT(done, NTHREADS * PER_THREAD);
    CHECK_INT(wrong, 0);
    store_close(r);
    tmpdb_remove(&t);
}

/* Batches are shared: with the writer held, 120 jobs queue up and go in
 * 120 / max_batch commits. (Three full batches, so a job queued after
 * them cannot join one: the count is exact.) */
static void test_batches_shared(void)
{
    tmpdb t;
    REQUIRE(tmpdb_make(&t));
    err_t err;
    commitq_t *q = NULL;
    store_options opt = {.url = t.path, .sync = true};
    REQUIRE(commitq_start(&opt, 40, &q, &err) == ERR_OK);

    gate g;
    gate_init(&g);
    REQUIRE(commitq_submit(q, gate_apply, NULL, &g, &err) == ERR_OK);
    gate_wait_entered(&g);
    static job jobs[120];
    memset(jobs, 0, sizeof jobs);
    for (unsigned i = 0; i < 120; i++) {
        jobs[i].n = 5000 + i;
        jobs[i].fail = i == 17 || i == 18 || i == 119;
        CHECK(commitq_submit(q, job_apply, job_done, &jobs[i], &err) == ERR_OK);
    }
    gate_open(&g);

    /* commitq_run waits for its own outcome, after everything queued. */
    job last = {.n = 9999};
    CHECK_INT(commitq_run(q, job_apply, &last, &err), ERR_OK);
    size_t batches = 0, done = 0;
    commitq_stats(q, &batches, &done);
    CHECK_INT(done, 122);
    CHECK_INT(batches, 1 + 3 + 1); /* the gate, 120 jobs in 40s, the last */
    commitq_stop(q);
    gate_destroy(&g);

    store_t *r = open_reader(&t);
    REQUIRE(r != NULL);
    for (unsigned i = 0; i < 120; i++) {
        CHECK_INT(atomic_load(&jobs[i].done), 1);
        CHECK_INT(jobs[i].rc, jobs[i].fail ? ERR_INVALID : ERR_OK);
        CHECK(key_stored(r, jobs[i].n) == !jobs[i].fail);
    }
    CHECK(key_stored(r, 9999));
    store_close(r);
    tmpdb_remove(&t);
}

/* A job that ends the transaction itself: its batch cannot commit, so
 * every job of the batch hears an error and none of their writes stays. */
static err_code rogue_apply(store_t *s, void *arg, err_t *err)
{
    (void)arg;
    (void)err;
    store_rollback(s);
    return ERR_OK;
}

static void test_dead_transaction_fails_batch(void)
{
    tmpdb t;
    REQUIRE(tmpdb_make(&t));
    err_t err;
    commitq_t *q = NULL;
    store_options opt = {.url = t.path, .sync = true};
    REQUIRE(commitq_start(&opt, 16, &q, &err) == ERR_OK);

    gate g;
    gate_init(&g);
    REQUIRE(commitq_submit(q, gate_apply, NULL, &g, &err) == ERR_OK);
    gate_wait_entered(&g);
    job before = {.n = 1}, rogue = {.n = 2}, after = {.n = 3};
    CHECK(commitq_submit(q, job_apply, job_done, &before, &err) == ERR_OK);
    CHECK(commitq_submit(q, rogue_apply, job_done, &rogue, &err) == ERR_OK);
    CHECK(commitq_submit(q, job_apply, job_done, &after, &err) == ERR_OK);
    gate_open(&g);
    commitq_stop(q);
    gate_destroy(&g);

    CHECK_INT(atomic_load(&before.done), 1);
    CHECK_INT(atomic_load(&rogue.done), 1);
    CHECK_INT(atomic_load(&after.done), 1);
    CHECK(before.rc != ERR_OK);
    CHECK(rogue.rc != ERR_OK);
    CHECK(after.rc != ERR_OK);
    store_t *r = open_reader(&t);
    REQUIRE(r != NULL);
    CHECK(!key_stored(r, 1));
    CHECK(!key_stored(r, 3));
    store_close(r);
    tmpdb_remove(&t);
}

/* Stop refuses new jobs at once but finishes every job already queued. */
typedef struct {
    commitq_t *q;
} stopper;

static void *stopper_main(void *arg)
{
    stopper *st = arg;
    commitq_stop(st->q);
    return NULL;
}

static void test_stop_drains(void)
{
    tmpdb t;
    REQUIRE(tmpdb_make(&t));
    err_t err;
    commitq_t *q = NULL;
    store_options opt = {.url = t.path, .sync = false};
    REQUIRE(commitq_start(&opt, 8, &q, &err) == ERR_OK);

    gate g;
    gate_init(&g);
    REQUIRE(commitq_submit(q, gate_apply, NULL, &g, &err) == ERR_OK);
    gate_wait_entered(&g);
    static job jobs[1000];
    memset(jobs, 0, sizeof jobs);
    unsigned queued = 0;
    for (; queued < 50; queued++) {
        jobs[queued].n = 100 + queued;
        REQUIRE(commitq_submit(q, job_apply, job_done, &jobs[queued], &err) == ERR_OK);
    }
    stopper st = {q};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, stopper_main, &st) == 0);
    /* Keep submitting until the queue refuses: from then on, nothing. */
    err_code rc = ERR_OK;
    while (queued < 1000) {
        jobs[queued].n = 100 + queued;
        rc = commitq_submit(q, job_apply, job_done, &jobs[queued], &err);
        if (rc != ERR_OK)
            break;
        queued++;
        usleep(100);
    }
    CHECK_INT(rc, ERR_UNAVAILABLE);
    gate_open(&g);
    CHECK(pthread_join(th, NULL) == 0);
    gate_destroy(&g);

    store_t *r = open_reader(&t);
    REQUIRE(r != NULL);
    for (unsigned i = 0; i < 1000; i++) {
        CHECK_INT(atomic_load(&jobs[i].done), i < queued ? 1 : 0);
        if (i < queued) {
            CHECK_INT(jobs[i].rc, ERR_OK);
            CHECK(key_stored(r, jobs[i].n));
        }
    }
    store_close(r);
    tmpdb_remove(&t);
}

static void test_bad_start(void)
{
    err_t err;
    commitq_t *q = NULL;
    store_options opt = {.url = "/tmp/x.db", .read_only = true};
    CHECK_INT(commitq_start(&opt, 8, &q, &err), ERR_INVALID);
    opt.read_only = false;
    CHECK_INT(commitq_start(&opt, 0, &q, &err), ERR_INVALID);
    opt.url = "postgresql://db";
    CHECK_INT(commitq_start(&opt, 8, &q, &err), ERR_INVALID);
    CHECK(q == NULL);
    commitq_stop(NULL);
}

TEST_MAIN(TEST(test_many_threads), TEST(test_batches_shared),
          TEST(test_dead_transaction_fails_batch), TEST(test_stop_drains), TEST(test_bad_start))
