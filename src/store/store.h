/*
 * store.h - the storage interface. The domain talks to a store_t and never
 * to a database: the backends (sqlite.c now, postgres.c next) sit behind
 * the function table in store_backend.h, and nothing here names a SQLite or
 * libpq type.
 *
 * A store_t is one connection: use it from one thread at a time. The server
 * opens one per worker thread for reads and one for the group-commit writer
 * (commitq.h). Functions that write expect the caller's transaction
 * (store_begin ... store_commit) unless they say otherwise.
 *
 * Durability (Q1): with sync on, store_commit returns only once the commit
 * is on disk. Sync off exists only for the bench-only server flag.
 *
 * Personal data: store_request_insert writes sr->reporter to its own table,
 * one row per given field tagged with its data class. No function here
 * returns personal data; the privacy engine's gatekeeper will be the one
 * reader.
 */
#ifndef CIVIC_STORE_H
#define CIVIC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/query.h"
#include "core/request.h"
#include "util/err.h"
#include "util/pool.h"

typedef struct store store_t;

typedef struct {
    /* Where the data lives: a file path for SQLite ("DIR/civic311.db"),
     * later "postgresql://..." for PostgreSQL. */
    const char *url;
    /* false only under the bench-only --unsafe-no-sync flag. */
    bool sync;
    /* Open read-only (a server's reader connections). */
    bool read_only;
} store_options;

err_code store_open(const store_options *opt, store_t **out, err_t *err);
void store_close(store_t *s); /* NULL is fine */

/* Creates or upgrades the schema to the latest version. Idempotent; runs
 * its own transaction. */
err_code store_migrate(store_t *s, err_t *err);
/* The schema version the store is at (0 = empty). */
err_code store_schema_version(store_t *s, int *version, err_t *err);

err_code store_begin(store_t *s, err_t *err);
err_code store_commit(store_t *s, err_t *err);
void store_rollback(store_t *s); /* never fails the caller; logs nothing personal */
/* Nested scopes inside a transaction (the group-commit writer isolates
 * each job in one, so one bad job does not fail its batch). */
err_code store_savepoint(store_t *s, err_t *err);
err_code store_release(store_t *s, err_t *err);
void store_rollback_to(store_t *s);

/* ---- catalog (W1) ---- */

/* Adds or replaces agencies and services (with their attributes) by code;
 * what c does not name is left alone. In the caller's transaction. */
err_code store_catalog_put(store_t *s, const catalog *c, err_t *err);
/* Loads the whole catalog. The caller frees it with catalog_free(). */
err_code store_catalog_load(store_t *s, catalog **out, err_t *err);

/* ---- api keys (only a hash is stored) ---- */

#define STORE_KEY_HASH_LEN 32
err_code store_apikey_insert(store_t *s, const char *name,
                             const unsigned char hash[STORE_KEY_HASH_LEN], int64_t now,
                             int64_t *id_out, err_t *err);
/* ERR_NOT_FOUND when no active key has this hash. */
err_code store_apikey_find(store_t *s, const unsigned char hash[STORE_KEY_HASH_LEN],
                           int64_t *id_out, err_t *err);

/* ---- service requests (W3) ---- */

/*
 * Inserts a new request: the request row, its answers, its personal fields
 * (each with its data class), and its SR_EV_CREATED event, in the caller's
 * transaction. Sets sr->id. A request with a token (batch service) is
 * stored pending: invisible to every read until store_batch_publish().
 */
err_code store_request_insert(store_t *s, service_request *sr, err_t *err);

/* One visible request, without personal data or answers. Strings are
 * allocated from pool. ERR_NOT_FOUND if there is none. */
err_code store_request_get(store_t *s, int64_t id, pool_t *pool, service_request *out,
                           err_t *err);

/* The answers of one request, from pool. */
err_code store_request_answers(store_t *s, int64_t id, pool_t *pool, sr_answer **out,
                               size_t *count, err_t *err);

/* Runs q: visible requests, newest first, one page. Results (and their
 * strings) come from pool. Never personal data. */
err_code store_request_search(store_t *s, const sr_query *q, pool_t *pool,
                              service_request **out, size_t *count, err_t *err);

/* tokens/{token}: *id_out is the request id, or 0 while it is pending.
 * ERR_NOT_FOUND if the token is unknown. */
err_code store_token_find(store_t *s, const char *token, int64_t *id_out, err_t *err);

/* Makes up to max pending (batch) requests visible, oldest first.
 * In the caller's transaction. */
err_code store_batch_publish(store_t *s, int64_t now, size_t max, size_t *published,
                             err_t *err);

/* Records a change (status, resolution, note) on a visible request and
 * updates the request row to match: status, resolution, updated_at,
 * closed_at (set when it becomes closed, cleared when reopened),
 * status_notes (when the event has a public note). Sets ev->id.
 * ERR_NOT_FOUND if the request does not exist. In the caller's transaction. */
err_code store_event_append(store_t *s, sr_event *ev, err_t *err);

/* The history of one request, oldest first. public_only gives the public
 * view: every creation and status change, but the text of a note only when
 * it is public (internal note-only events are left out, and an internal
 * note on a status change is blanked). From pool. */
err_code store_events_list(store_t *s, int64_t request_id, bool public_only, pool_t *pool,
                           sr_event **out, size_t *count, err_t *err);

/* mySociety's servicerequestupdates: the public view (as above) of the
 * events after creation of visible requests with at in [start, end], by
 * event id ascending, one page. From pool. */
err_code store_updates_search(store_t *s, int64_t start, int64_t end, size_t page,
                              size_t page_size, pool_t *pool, sr_event **out, size_t *count,
                              err_t *err);

/* Number of visible requests (for tests, the CLI and benchmarks). */
err_code store_request_count(store_t *s, int64_t *count, err_t *err);

#endif
