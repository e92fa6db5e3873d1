/*
 * commitq.h - group commit: one writer thread, one write connection, and a
 * queue of jobs that share transactions and therefore fsyncs.
 *
 * Why: with synchronous=FULL every commit costs an fsync, and an fsync per
 * request would cap creates at the disk's sync rate. The writer takes every
 * job waiting in the queue, runs each inside its own savepoint of one
 * transaction (so a failing job is rolled back alone), commits once, and
 * only then tells each job how it went. A job's done callback therefore
 * runs after its data is durable (Q1) - or with an error, never both.
 *
 * Callbacks run on the writer thread: apply() may only use the store it is
 * given; done() must be quick (hand the result back and return).
 */
#ifndef CIVIC_COMMITQ_H
#define CIVIC_COMMITQ_H

#include <stddef.h>

#include "store/store.h"

typedef struct commitq commitq_t;

/* Does the job's writes. On error it fills err and returns non-zero; the
 * job's savepoint is rolled back and the rest of the batch goes on. */
typedef err_code (*commitq_apply_fn)(store_t *s, void *arg, err_t *err);

/* Told the outcome once the batch's commit is on disk (rc == ERR_OK) or
 * has failed. err is the job's own error or the commit's. */
typedef void (*commitq_done_fn)(void *arg, err_code rc, const err_t *err);

/* Opens the write connection and starts the writer thread. max_batch caps
 * how many jobs share one transaction. */
err_code commitq_start(const store_options *opt, size_t max_batch, commitq_t **out,
                       err_t *err);

/* Queues a job. ERR_UNAVAILABLE once stopping (done is then not called). */
err_code commitq_submit(commitq_t *q, commitq_apply_fn apply, commitq_done_fn done, void *arg,
                        err_t *err);

/* Queues a job and waits for its outcome: for callers that may block. */
err_code commitq_run(commitq_t *q, commitq_apply_fn apply, void *arg, err_t *err);

/* Refuses new jobs (commitq_submit answers ERR_UNAVAILABLE from now on),
 * finishes the queued ones, and stops the writer thread, but keeps q
 * valid: a server drains first, then stops its HTTP threads (which may
 * still submit and be refused), then calls commitq_stop. Call it from one
 * thread, never from a done() callback. NULL is fine. */
void commitq_drain(commitq_t *q);

/* Drains (if not yet done), closes the connection, frees q. Nothing may
 * use q afterwards. NULL is fine. */
void commitq_stop(commitq_t *q);

/* Figures for benchmarks: batches committed and jobs done so far. */
void commitq_stats(commitq_t *q, size_t *batches, size_t *jobs);

#endif
