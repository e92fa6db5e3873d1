/*
 * commitq.c - the group-commit writer of commitq.h.
 *
 * Threads append jobs to a FIFO under one mutex. The writer thread sleeps
 * on a condition variable until there is work, takes up to max_batch jobs
 * at once, and runs them in one transaction, each inside its own savepoint.
 * It commits once and only then calls each job's done(), outside the lock.
 * While a batch is being committed the next one piles up behind it, so the
 * busier the server, the more jobs share each fsync.
 *
 * The write connection belongs to the writer thread alone; nothing else
 * touches q->store after commitq_start returns.
 *
 * A pthread call that fails on an object we initialised (EINVAL, EDEADLK)
 * means memory corruption or a caller stopping the queue from its own
 * writer thread: a broken invariant, so those abort.
 */
#include "store/commitq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct cq_job {
    struct cq_job *next;
    commitq_apply_fn apply;
    commitq_done_fn done;
    void *arg;
    err_code rc; /* the outcome, set by the writer */
    err_t err;
} cq_job;

struct commitq {
    store_t *store; /* the write connection: the writer thread's alone */
    size_t max_batch;
    pthread_t thread;

    pthread_mutex_t mu;  /* guards everything below */
    pthread_cond_t wake; /* a job arrived, or stopping */
    cq_job *head, *tail;
    bool stopping;
    bool joined; /* the writer thread has been joined (commitq_drain) */
    size_t batches, jobs;
};

static void cq_lock(commitq_t *q)
{
    if (pthread_mutex_lock(&q->mu) != 0)
        abort();
}

static void cq_unlock(commitq_t *q)
{
    if (pthread_mutex_unlock(&q->mu) != 0)
        abort();
}

static void cq_wait(pthread_cond_t *cv, commitq_t *q)
{
    if (pthread_cond_wait(cv, &q->mu) != 0)
        abort();
}

/* ---- the writer thread ---- */

/* Unlinks up to max_batch jobs from the front of the queue. Locked. */
static cq_job *cq_take(commitq_t *q, size_t *n)
{
    cq_job *batch = q->head, *last = q->head;
    *n = 1;
    while (*n < q->max_batch && last->next != NULL) {
        last = last->next;
        (*n)++;
    }
    q->head = last->next;
    if (q->head == NULL)
        q->tail = NULL;
    last->next = NULL;
    return batch;
}

/* One job in its own savepoint: if it fails, only its writes are undone. */
static void cq_run_job(store_t *s, cq_job *j)
{
    err_clear(&j->err);
    j->rc = store_savepoint(s, &j->err);
    if (j->rc != ERR_OK)
        return;
    j->rc = j->apply(s, j->arg, &j->err);
    if (j->rc == ERR_OK)
        j->rc = store_release(s, &j->err);
    if (j->rc != ERR_OK) {
        store_rollback_to(s);
        j->err.code = j->rc; /* in case apply returned a code without err_set */
    }
}

/* The batch failed as a whole: every job that had succeeded gets the
 * batch's error; a job that failed keeps its own, more precise one. */
static void cq_fail_all(cq_job *batch, err_code rc, const err_t *err)
{
    for (cq_job *j = batch; j != NULL; j = j->next)
        if (j->rc == ERR_OK) {
            j->rc = rc;
            j->err = *err;
        }
}

static void cq_run_batch(store_t *s, cq_job *batch)
{
    err_t err = {0};
    for (cq_job *j = batch; j != NULL; j = j->next)
        j->rc = ERR_OK;
    err_code rc = store_begin(s, &err);
    if (rc != ERR_OK) {
        cq_fail_all(batch, rc, &err);
        return;
    }
    for (cq_job *j = batch; j != NULL; j = j->next)
        cq_run_job(s, j);
    rc = store_commit(s, &err);
    if (rc != ERR_OK) {
        store_rollback(s);
        cq_fail_all(batch, rc, &err);
    }
}

/* Tells each job its outcome and frees it. Runs unlocked: done() may
 * submit more work. */
static void cq_finish(cq_job *batch)
{
    while (batch != NULL) {
        cq_job *next = batch->next;
        if (batch->done != NULL)
            batch->done(batch->arg, batch->rc, &batch->err);
        free(batch);
        batch = next;
    }
}

static void *cq_writer(void *arg)
{
    commitq_t *q = arg;
    cq_lock(q);
    for (;;) {
        while (q->head == NULL && !q->stopping)
            cq_wait(&q->wake, q);
        if (q->head == NULL)
            break; /* stopping, and the queue is drained */
        size_t n;
        cq_job *batch = cq_take(q, &n);
        cq_unlock(q);

        cq_run_batch(q->store, batch);

        /* Counted before done() runs, so a caller woken by its done() sees
         * its job in the figures. */
        cq_lock(q);
        q->batches++;
        q->jobs += n;
        cq_unlock(q);
        cq_finish(batch);
        cq_lock(q);
    }
    cq_unlock(q);
    return NULL;
}

/* ---- the interface ---- */

err_code commitq_start(const store_options *opt, size_t max_batch, commitq_t **out, err_t *err)
{
    if (opt == NULL || out == NULL || max_batch == 0)
        return err_set(err, ERR_INVALID, "commitq_start: no options, no output or no batch");
    if (opt->read_only)
        return err_set(err, ERR_INVALID, "the writer needs a read-write store");
    commitq_t *q = calloc(1, sizeof *q);
    if (q == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    q->max_batch = max_batch;
    bool have_mu = false, have_cv = false;

    err_code rc = store_open(opt, &q->store, err);
    if (rc != ERR_OK)
        goto fail;
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        rc = err_set(err, ERR_NOMEM, "cannot create the writer's mutex");
        goto fail;
    }
    have_mu = true;
    if (pthread_cond_init(&q->wake, NULL) != 0) {
        rc = err_set(err, ERR_NOMEM, "cannot create the writer's condition variable");
        goto fail;
    }
    have_cv = true;
    if (pthread_create(&q->thread, NULL, cq_writer, q) != 0) {
        rc = err_set(err, ERR_UNAVAILABLE, "cannot start the writer thread");
        goto fail;
    }
    *out = q;
    return ERR_OK;

fail:
    if (have_cv)
        pthread_cond_destroy(&q->wake);
    if (have_mu)
        pthread_mutex_destroy(&q->mu);
    store_close(q->store);
    free(q);
    return rc;
}

err_code commitq_submit(commitq_t *q, commitq_apply_fn apply, commitq_done_fn done, void *arg,
                        err_t *err)
{
    if (q == NULL || apply == NULL)
        return err_set(err, ERR_INVALID, "commitq_submit: no queue or no job");
    cq_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    j->apply = apply;
    j->done = done;
    j->arg = arg;

    cq_lock(q);
    if (q->stopping) {
        cq_unlock(q);
        free(j);
        return err_set(err, ERR_UNAVAILABLE, "the writer is stopping");
    }
    if (q->tail != NULL)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    if (pthread_cond_signal(&q->wake) != 0)
        abort();
    cq_unlock(q);
    return ERR_OK;
}

/* commitq_run: the caller sleeps on its own condition variable (under the
 * queue's mutex) until the writer's done() wakes it. */
typedef struct {
    commitq_t *q;
    commitq_apply_fn apply;
    void *arg;
    pthread_cond_t cv;
    bool finished;
    err_code rc;
    err_t err;
} cq_waiter;

static err_code cq_run_apply(store_t *s, void *arg, err_t *err)
{
    cq_waiter *w = arg;
    return w->apply(s, w->arg, err);
}

static void cq_run_done(void *arg, err_code rc, const err_t *err)
{
    cq_waiter *w = arg;
    cq_lock(w->q);
    w->rc = rc;
    w->err = *err;
    w->finished = true;
    /* Signalled under the lock: once we unlock, the waiter may return and
     * its cq_waiter (on its stack) is gone, so w is not touched after. */
    if (pthread_cond_signal(&w->cv) != 0)
        abort();
    cq_unlock(w->q);
}

err_code commitq_run(commitq_t *q, commitq_apply_fn apply, void *arg, err_t *err)
{
    if (q == NULL || apply == NULL)
        return err_set(err, ERR_INVALID, "commitq_run: no queue or no job");
    /* From the writer thread (a done callback) this would wait forever. */
    if (pthread_equal(pthread_self(), q->thread))
        return err_set(err, ERR_INTERNAL, "commitq_run called from the writer thread");
    cq_waiter w = {.q = q, .apply = apply, .arg = arg};
    if (pthread_cond_init(&w.cv, NULL) != 0)
        return err_set(err, ERR_NOMEM, "cannot create a condition variable");

    err_code rc = commitq_submit(q, cq_run_apply, cq_run_done, &w, err);
    if (rc == ERR_OK) {
        cq_lock(q);
        while (!w.finished)
            cq_wait(&w.cv, q);
        cq_unlock(q);
        rc = w.rc;
        if (rc != ERR_OK && err != NULL)
            *err = w.err;
    }
    if (pthread_cond_destroy(&w.cv) != 0)
        abort();
    return rc;
}

void commitq_drain(commitq_t *q)
{
    if (q == NULL)
        return;
    cq_lock(q);
    bool joined = q->joined;
    q->stopping = true;
    if (pthread_cond_signal(&q->wake) != 0)
        abort();
    cq_unlock(q);
    if (joined)
        return;
    if (pthread_join(q->thread, NULL) != 0)
        abort(); /* EDEADLK: drained from a done() callback */
    cq_lock(q);
    q->joined = true;
    cq_unlock(q);
}

void commitq_stop(commitq_t *q)
{
    if (q == NULL)
        return;
    commitq_drain(q);
    store_close(q->store);
    if (pthread_cond_destroy(&q->wake) != 0 || pthread_mutex_destroy(&q->mu) != 0)
        abort();
    free(q);
}

void commitq_stats(commitq_t *q, size_t *batches, size_t *jobs)
{
    cq_lock(q);
    if (batches != NULL)
        *batches = q->batches;
    if (jobs != NULL)
        *jobs = q->jobs;
    cq_unlock(q);
}
