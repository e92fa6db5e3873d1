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
 * Personal data: store_request_insert ignores sr->reporter. The privacy
 * engine (src/privacy) seals a request's personal values, one record per
 * data class, and stores only the sealed bytes through the "privacy engine
 * storage" functions at the end of this file; only src/privacy may call
 * those. No function here returns a personal value in the clear.
 */
#ifndef CIVIC_STORE_H
#define CIVIC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/lifecycle.h"
#include "core/query.h"
#include "core/request.h"
#include "core/stats.h"
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
 * transaction. Sets sr->id and sr->row_id. A request with a token (batch
 * service) is stored pending: invisible to every read until
 * store_batch_publish(), and its sr->id stays 0 while sr->row_id is set.
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

/* ---- maintenance ---- */

/* Moves every committed page out of the write-ahead log into the main
 * file and truncates the log, so that pages of erased data do not linger
 * in it (P6); deleted content is zeroed as it is freed (secure_delete).
 * Outside any transaction. Waits for readers up to the busy timeout. */
err_code store_compact(store_t *s, err_t *err);

/* Writes a consistent copy of the whole database to path (which must not
 * exist), mode 0600. Outside any transaction; writers may go on. */
err_code store_backup(store_t *s, const char *path, err_t *err);

/* ==== privacy engine storage: only src/privacy calls these ====
 *
 * Everything below moves sealed bytes, keyed hashes and pseudonymous ids;
 * none of it is readable personal data. All writes are in the caller's
 * transaction. Byte strings read back come from the caller's pool. */

/* A person whose data we hold, and their wrapped data key. */
typedef struct {
    int64_t id;
    const char *kind;      /* "reporter", "account", "caller"; "webhook" (its secret's key) */
    int key_version;       /* of the data key; 0 = no key set */
    int kek_version;       /* the key-encryption key wrapping it; 0 = none */
    const unsigned char *wrapped_key; /* NULL once erased */
    size_t wrapped_len;
    int64_t created_at;
    int64_t erased_at;     /* 0 = not erased */
} store_subject;

/* The id the next subject will get. A wrapped key's associated data names
 * its subject, so the id comes first: the caller wraps the key for it and
 * inserts the subject with store_subject_insert, in the same (write)
 * transaction, which keeps the id from going to anyone else. */
err_code store_subject_reserve(store_t *s, int64_t *id_out, err_t *err);
/* Inserts a subject with the id store_subject_reserve gave, its kind and
 * created_at, and its wrapped key in the same row (one statement):
 * key_version and kek_version (1, 2, ...) with wrapped_key, or all three
 * 0/NULL for a subject without a key yet. erased_at must be 0.
 * ERR_CONFLICT if the id is taken. */
err_code store_subject_insert(store_t *s, const store_subject *sub, err_t *err);
/* Sets (or, in a rotation, replaces) a subject's wrapped key. ERR_NOT_FOUND
 * if there is no such subject or it has been erased. */
err_code store_subject_set_key(store_t *s, int64_t id, int key_version, int kek_version,
                               const unsigned char *wrapped, size_t wrapped_len, err_t *err);
/* ERR_NOT_FOUND if there is none. An erased subject is found, with
 * wrapped_key NULL. */
err_code store_subject_get(store_t *s, int64_t id, pool_t *pool, store_subject *out, err_t *err);
/* Subjects with a key (not erased) and id > after_id, by id, at most max:
 * what key rotation walks. */
err_code store_subject_list_keyed(store_t *s, int64_t after_id, size_t max, pool_t *pool,
                                  store_subject **out, size_t *count, err_t *err);
/* How many subjects hold a key wrapped under kek_version. */
err_code store_subject_count_kek(store_t *s, int kek_version, int64_t *count, err_t *err);
/* Crypto-shredding: drops the wrapped key for good and records when.
 * Erasing an erased subject is a no-op. ERR_NOT_FOUND if none. */
err_code store_subject_erase(store_t *s, int64_t id, int64_t now, err_t *err);

/* The sealed personal fields of one data class of a request: one record
 * (seal.h) holding every field of that class the request has. */
typedef struct {
    int64_t request_id;
    data_class dclass;     /* DC_CONTACT, DC_DEVICE or DC_ACCOUNT: a class of fields */
    int64_t subject_id;
    int key_version;
    /* The SR_PERSONAL_FIELDS names the record holds, comma-separated, in
     * that table's order, each of class dclass: "first_name,email".
     * Names only, never a value. */
    const char *fields;
    const unsigned char *sealed;
    size_t sealed_len;
    int64_t collected_at;
} store_personal;

/* One record per request and class: ERR_CONFLICT if the request has one
 * of this class already; ERR_INVALID if fields breaks the rule above. */
err_code store_personal_insert(store_t *s, const store_personal *p, err_t *err);
/* A request's sealed records, in data class order (DC_CONTACT first).
 * ERR_IO if a row's fields column breaks the rule above. */
err_code store_personal_list(store_t *s, int64_t request_id, pool_t *pool, store_personal **out,
                             size_t *count, err_t *err);
/* Deletes a request's records of the classes in class_mask (DC_BIT...);
 * *erased counts the records. */
err_code store_personal_erase(store_t *s, int64_t request_id, unsigned class_mask,
                              size_t *erased, err_t *err);
/* How many of fields' names there are if it is a valid fields column for
 * class dc (the rule above), else 0. */
size_t store_personal_fields_count(const char *fields, data_class dc);
/* How many field records, blobs and live account records are still
 * sealed under a subject's key: once none, the key can be erased. */
err_code store_subject_usage(store_t *s, int64_t subject_id, int64_t *count, err_t *err);

/* A sealed file (photo, call recording). */
typedef struct {
    int64_t id;
    int64_t request_id;    /* 0 = none yet */
    int64_t subject_id;
    data_class dclass;     /* DC_MEDIA or DC_RECORDING */
    const char *content_type;
    int key_version;
    const unsigned char *sealed; /* NULL in lists (store_blob_list) */
    size_t sealed_len;
    int64_t size;          /* plaintext bytes */
    int64_t created_at;
} store_blob;

/* Sets b->id. The sealed bytes' associated data names the row, so a blob
 * is inserted with sealed_len 0 and its bytes set next, in the same
 * transaction. */
err_code store_blob_insert(store_t *s, store_blob *b, err_t *err);
err_code store_blob_set_sealed(store_t *s, int64_t id, const unsigned char *sealed,
                               size_t sealed_len, err_t *err);
/* With its sealed bytes. ERR_NOT_FOUND if none. */
err_code store_blob_get(store_t *s, int64_t id, pool_t *pool, store_blob *out, err_t *err);
/* A request's blobs, without their bytes, by id. */
err_code store_blob_list(store_t *s, int64_t request_id, pool_t *pool, store_blob **out,
                         size_t *count, err_t *err);
/* ERR_NOT_FOUND if none. */
err_code store_blob_erase(store_t *s, int64_t id, err_t *err);
/* Ties a file stored before its request existed (an upload on the report
 * form's review step) to that request, if it is still tied to none and was
 * sealed for subject_id; ERR_NOT_FOUND otherwise. */
err_code store_blob_attach(store_t *s, int64_t id, int64_t subject_id, int64_t request_id,
                           err_t *err);

/* Keyed blind indexes (kind "email" or "phone"). */
#define STORE_DIGEST_LEN 32
err_code store_blind_insert(store_t *s, const char *kind,
                            const unsigned char digest[STORE_DIGEST_LEN], int64_t request_id,
                            int64_t subject_id, err_t *err);
/* Requests whose index of this kind has this digest, newest first, at most
 * max. */
err_code store_blind_find(store_t *s, const char *kind,
                          const unsigned char digest[STORE_DIGEST_LEN], size_t max,
                          pool_t *pool, int64_t **request_ids, size_t *count, err_t *err);
/* Deletes a request's index entries of one kind (NULL: every kind). */
err_code store_blind_erase(store_t *s, int64_t request_id, const char *kind, err_t *err);

/* ---- retention (P6) ---- */

/* Requests holding a record of class dc that is due: with by_close, those
 * closed at or before `before` (a reopened request is not closed); else
 * those whose record was collected at or before `before`. Requests and
 * subjects under an active legal hold are left out. By request id, at most
 * max. */
err_code store_personal_due(store_t *s, data_class dc, bool by_close, int64_t before, size_t max,
                            pool_t *pool, int64_t **request_ids, size_t *count, err_t *err);
/* Blobs of class dc created at or before `before` (or, with by_close, on
 * requests closed then), without an active hold on their request or
 * subject. By id, at most max. */
err_code store_blob_due(store_t *s, data_class dc, bool by_close, int64_t before, size_t max,
                        pool_t *pool, int64_t **blob_ids, size_t *count, err_t *err);

/* Files tied to no request created at or before `before` (uploads whose
 * report was never sent), without an active hold on their subject. By id,
 * at most max. */
err_code store_blob_orphans(store_t *s, int64_t before, size_t max, pool_t *pool,
                            int64_t **blob_ids, size_t *count, err_t *err);

typedef struct {
    int64_t id;
    int64_t request_id; /* 0 = none */
    int64_t subject_id; /* 0 = none */
    const char *reason;
    const char *placed_by;
    int64_t placed_at;
    const char *released_by; /* NULL while active */
    int64_t released_at;     /* 0 while active */
} store_hold;

/* Sets h->id. At least one of request_id and subject_id. */
err_code store_hold_insert(store_t *s, store_hold *h, err_t *err);
/* ERR_NOT_FOUND if there is no active hold with this id. */
err_code store_hold_release(store_t *s, int64_t id, const char *released_by, int64_t now,
                            err_t *err);
/* Whether an active hold covers this request or this subject (either may
 * be 0). */
err_code store_hold_active(store_t *s, int64_t request_id, int64_t subject_id, bool *held,
                           err_t *err);
/* Holds by id; active_only leaves released ones out. */
err_code store_hold_list(store_t *s, bool active_only, pool_t *pool, store_hold **out,
                         size_t *count, err_t *err);

/* ---- the audit log ---- */

#define STORE_HASH_LEN 32
#define STORE_SIG_LEN 64
#define STORE_PUBKEY_LEN 32

/* The tree's size and right edge (an opaque byte string audit.c encodes),
 * as the caller's transaction sees the log: with the entries it appended
 * itself. A new store has size 0 and an empty frontier. */
err_code store_audit_head(store_t *s, pool_t *pool, int64_t *size,
                          const unsigned char **frontier, size_t *frontier_len, err_t *err);

typedef struct {
    int64_t seq;        /* 1, 2, ... */
    int64_t at;
    int64_t request_id; /* 0 = none */
    int64_t subject_id; /* 0 = none */
    const char *body;   /* canonical JSON */
    size_t body_len;
} store_audit_row;

/* Appends one entry and sets the new head, in the caller's transaction.
 * e->seq must be the head's size + 1 and follow the log's last entry
 * (ERR_CONFLICT otherwise). A backend may keep the head with the
 * connection while the transaction lasts and write it to the database
 * only at store_commit, so a batch of appends reads and writes it once;
 * after every commit the stored head is the whole log's. */
err_code store_audit_append(store_t *s, const store_audit_row *e, const unsigned char *frontier,
                            size_t frontier_len, err_t *err);
/* Entries with seq > after_seq, by seq, at most max. */
err_code store_audit_entries(store_t *s, int64_t after_seq, size_t max, pool_t *pool,
                             store_audit_row **out, size_t *count, err_t *err);
/* Entries naming one request, by seq. */
err_code store_audit_for_request(store_t *s, int64_t request_id, pool_t *pool,
                                 store_audit_row **out, size_t *count, err_t *err);

/* A signed tree head. */
typedef struct {
    int64_t size;
    int64_t at;
    unsigned char root[STORE_HASH_LEN];
    unsigned char public_key[STORE_PUBKEY_LEN];
    unsigned char signature[STORE_SIG_LEN];
} store_checkpoint;

/* ERR_CONFLICT if a checkpoint of this size exists. */
err_code store_checkpoint_insert(store_t *s, const store_checkpoint *cp, err_t *err);
/* Every checkpoint, by size. */
err_code store_checkpoint_list(store_t *s, pool_t *pool, store_checkpoint **out, size_t *count,
                               err_t *err);
/* The largest. ERR_NOT_FOUND if there is none. */
err_code store_checkpoint_latest(store_t *s, store_checkpoint *out, err_t *err);

/* ==== accounts (P7) and signed-in sessions (P9): sqlite_account.c ====
 *
 * An account row holds no personal value in the clear: its email and
 * display name are one record sealed by the privacy engine
 * (privacy/account.c, the only caller of the store_account_ functions),
 * and the email is also there as a keyed digest for signing in. A session
 * row holds the hash of a session id, an account id and times. Writes are
 * in the caller's transaction. */

typedef struct {
    int64_t id;
    int64_t subject_id;          /* the account's own subject (kind "account") */
    const char *password_hash;   /* Argon2id string; NULL once deleted */
    int key_version;             /* of the sealed record; 0 once deleted */
    const unsigned char *sealed; /* NULL once deleted; empty until set */
    size_t sealed_len;
    int64_t created_at;
    int64_t failed_count;  /* failed sign-ins counted since failed_since */
    int64_t failed_since;  /* 0 = none */
    int64_t locked_until;  /* 0 = none */
    int64_t deleted_at;    /* 0 = live */
} store_account;

/* Inserts a live account (subject_id, password_hash, key_version,
 * created_at) with this email digest and an empty sealed record, and sets
 * a->id: the record's associated data names the row, so
 * store_account_set_sealed fills it next, in the same transaction.
 * ERR_CONFLICT if a live account has this digest. */
err_code store_account_insert(store_t *s, store_account *a,
                              const unsigned char digest[STORE_DIGEST_LEN], err_t *err);
/* ERR_NOT_FOUND if there is no live account with this id. */
err_code store_account_set_sealed(store_t *s, int64_t id, const unsigned char *sealed,
                                  size_t sealed_len, err_t *err);
/* An account by id, with its sealed record (from pool). A deleted one is
 * found, as its tombstone. ERR_NOT_FOUND if none. */
err_code store_account_get(store_t *s, int64_t id, pool_t *pool, store_account *out, err_t *err);
/* The live account whose email has this digest. ERR_NOT_FOUND if none. */
err_code store_account_find(store_t *s, const unsigned char digest[STORE_DIGEST_LEN], pool_t *pool,
                            store_account *out, err_t *err);
/* Replaces a live account's password hash (a stronger rehash at sign-in). */
err_code store_account_set_password(store_t *s, int64_t id, const char *password_hash,
                                    err_t *err);
/* Counts one more failed sign-in at now in one statement, so attempts
 * from concurrent nodes are never lost: the count starts again at 1 when
 * the first failure it counts is `window` seconds old or more. *count
 * gets the new count. ERR_NOT_FOUND if there is no live account. */
err_code store_account_failed(store_t *s, int64_t id, int64_t now, int64_t window,
                              int64_t *count, err_t *err);
/* Sets locked_until (0 unlocks) and clears the failure count. */
err_code store_account_set_lock(store_t *s, int64_t id, int64_t locked_until, err_t *err);
/* Turns a live account into its tombstone: digest, password hash and
 * sealed record gone, deleted_at set. ERR_NOT_FOUND if not live. */
err_code store_account_delete(store_t *s, int64_t id, int64_t now, err_t *err);

typedef struct {
    int64_t account_id;
    int64_t subject_id; /* the account's, read with the session */
    int64_t created_at;
    int64_t last_seen;
    int64_t expires_at;
    bool persistent; /* "keep me signed in" */
} store_web_session;

/* ERR_CONFLICT if a session has this hash. */
err_code store_session_insert(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                              const store_web_session *ws, err_t *err);
/* The session with this hash if it has not expired at now and its account
 * is live (subject_id filled in). ERR_NOT_FOUND otherwise. */
err_code store_session_get(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN], int64_t now,
                           store_web_session *out, err_t *err);
/* Sets a session's last_seen and expires_at, unless it has expired at now
 * (then nothing changes, and that is no error). */
err_code store_session_touch(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                             int64_t now, int64_t expires_at, err_t *err);
/* Deletes one session; *deleted (may be NULL) is 0 if there was none. */
err_code store_session_delete(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                              size_t *deleted, err_t *err);
/* Deletes every session of an account. */
err_code store_session_delete_account(store_t *s, int64_t account_id, size_t *deleted,
                                      err_t *err);
/* An account's sessions not expired at now, newest first, at most max. */
err_code store_session_list(store_t *s, int64_t account_id, int64_t now, size_t max,
                            pool_t *pool, store_web_session **out, size_t *count, err_t *err);
/* Deletes up to max sessions expired at now. */
err_code store_session_purge(store_t *s, int64_t now, size_t max, size_t *purged, err_t *err);

/* The requests that hold personal data sealed under a subject (a field
 * record, or a file tied to the request), newest first, at most max: an
 * account's own requests. */
err_code store_subject_requests(store_t *s, int64_t subject_id, size_t max, pool_t *pool,
                                int64_t **request_ids, size_t *count, err_t *err);

/* ---- page views, in aggregate (core/beacon.h) ---- */

typedef struct {
    const char *day;  /* YYYY-MM-DD, UTC */
    const char *page; /* a beacon page name */
    int64_t views;
} store_page_views;

/* Adds n views of page on day (YYYY-MM-DD). */
err_code store_page_views_add(store_t *s, const char *day, const char *page, int64_t n,
                              err_t *err);
/* Every (day, page) from since_day (YYYY-MM-DD) on, by day then page. */
err_code store_page_views_list(store_t *s, const char *since_day, pool_t *pool,
                               store_page_views **out, size_t *count, err_t *err);

/* ---- the website's send keys (schema version 5) ---- */

/* The request filed under this key's hash; ERR_NOT_FOUND if none. */
err_code store_send_find(store_t *s, const unsigned char hash[STORE_DIGEST_LEN],
                         int64_t *request_id, err_t *err);
/* Records that the send with this key's hash filed request_id (its row).
 * ERR_CONFLICT if the hash is recorded already. */
err_code store_send_insert(store_t *s, const unsigned char hash[STORE_DIGEST_LEN],
                           int64_t request_id, int64_t now, err_t *err);
/* Forgets the sends recorded at or before `before`; *purged (may be NULL)
 * counts them. */
err_code store_send_purge(store_t *s, int64_t before, size_t *purged, err_t *err);

/* ==== the lifecycle and the agency queue (issue 5: W3, W4, W5) ====
 * store_lifecycle.c (changes, bulk, nearby) and store.c (the queue). */

/* What the caller saw of a request before deciding on a change: the
 * optimistic check that keeps two staff members from overwriting each
 * other. Each field is checked only when it is not 0. last_event (the
 * newest event id of the request's history) tells two changes apart even
 * within one second; updated_at is what a page or the CLI may have. */
typedef struct {
    int64_t last_event;
    int64_t updated_at;
} store_seen;

/* Reads a visible request (as store_request_get) and the id of the newest
 * event of its history, and keeps anyone else from changing it until the
 * caller's transaction ends (SQLite: the write lock store_begin takes;
 * PostgreSQL: SELECT ... FOR UPDATE). In the caller's (write) transaction.
 * ERR_NOT_FOUND if there is no such visible request. */
err_code store_request_lock(store_t *s, int64_t id, pool_t *pool, service_request *out,
                            int64_t *last_event, err_t *err);

/*
 * THE way to change a request (status, note, transfer, merge): in the
 * caller's transaction, locks and re-reads request id, refuses with
 * ERR_CONFLICT if it changed since `seen` (may be NULL: no check), checks
 * the change against the rules (lc_check: ERR_INVALID, or ERR_NOT_FOUND
 * for a merge target that does not exist), and records it through
 * store_event_append, which updates the request row to match. *out (may be
 * NULL) gets the event, with its id; strings from pool. On any error the
 * caller rolls the transaction back; nothing is half-written then.
 */
err_code store_request_change(store_t *s, const catalog *cat, int64_t id, const lc_change *ch,
                              const store_seen *seen, pool_t *pool, sr_event *out, err_t *err);

/* One change to up to STORE_BULK_MAX distinct requests, in the caller's
 * transaction, each through store_request_change (without a seen check),
 * in the order given. Stops at the first refusal: the error's message
 * names the request ("request N: why") and *failed_id (may be NULL) is
 * its id; the caller rolls back, so a bulk action is all or nothing. */
#define STORE_BULK_MAX 500
err_code store_request_change_bulk(store_t *s, const catalog *cat, const int64_t *ids, size_t n,
                                   const lc_change *ch, pool_t *pool, int64_t *failed_id,
                                   err_t *err);

/* The agency queue (W3, W4): requests routed to a set of agencies. */
typedef enum {
    STORE_QUEUE_AGE = 0, /* oldest filed first */
    STORE_QUEUE_NEWEST,  /* newest filed first */
    STORE_QUEUE_SLA,     /* due soonest first (expected_at); no SLA last, oldest first */
    STORE_QUEUE_UPDATED, /* most recently changed first */
} store_queue_sort;

#define STORE_QUEUE_MAX_AGENCIES 16
#define STORE_QUEUE_MAX_PAGE 200    /* rows per page */
#define STORE_QUEUE_MAX_DEPTH 10000 /* page x page_size: narrow the filters beyond */

typedef struct {
    const char *const *agency_codes; /* 1..STORE_QUEUE_MAX_AGENCIES, required */
    size_t nagency_codes;
    /* SRQ_STATUS_BIT per status wanted; 0 = every status but closed (the
     * work still to do). SLA order and overdue are for requests not
     * closed: with them, a mask including closed is refused. */
    unsigned status_mask;
    const char *const *service_codes; /* any of these; none = all */
    size_t nservice_codes;
    int64_t filed_from, filed_to; /* requested_at within, each 0 = unbounded */
    bool overdue;                 /* not closed and expected_at before now */
    bool unacknowledged;          /* open or reopened: waiting for the agency to look */
    int64_t now;                  /* for overdue, in the query and in each row */
    store_queue_sort sort;
    size_t page;      /* 1-based */
    size_t page_size; /* 1..STORE_QUEUE_MAX_PAGE */
} store_queue_query;

/* A row of the queue: what a work list shows, and no personal data (no
 * address, description, location or reporter: those are read one request
 * at a time, through the gatekeeper where they are personal). */
typedef struct {
    int64_t id;
    const char *service_code;
    const char *agency_code;
    sr_status status;
    sr_resolution resolution;
    int64_t requested_at;
    int64_t updated_at;
    int64_t expected_at; /* 0 = no SLA */
    int64_t closed_at;   /* 0 = not closed */
    int64_t merged_into; /* 0 = none */
    bool overdue;        /* not closed and expected_at < now */
} store_queue_row;

/* One page of the queue and *total, the number of requests that match.
 * Index-driven at any size (docs/DESIGN.md: the agency queue). */
err_code store_queue_search(store_t *s, const store_queue_query *q, pool_t *pool,
                            store_queue_row **out, size_t *count, int64_t *total, err_t *err);

/* Duplicates (W5): the open (not closed) visible requests of a service
 * within radius_m metres of (lat, lon), filed at or after since, newest
 * first, at most max (1..SRQ_MAX_RESULTS): the residents' "is this it?"
 * search (store_request_search with those filters), for staff about to
 * merge. Public fields only, as Open311 shows them. */
err_code store_nearby_open(store_t *s, const char *service_code, double lat, double lon,
                           double radius_m, int64_t since, size_t max, pool_t *pool,
                           service_request **out, size_t *count, err_t *err);
/* ---- the disclosure register (issue 5, P4): sqlite_disclosure.c ----
 *
 * Court orders and law-enforcement requests, their approval by a second
 * officer, the requests they name and every export made under them.
 * Nothing here is personal: institutions, references, request numbers,
 * pseudonymous actors ("cli:jdoe", "staff:12"), digests. Only
 * src/privacy/disclosure.c calls these; writes are in the caller's
 * transaction. */

#define STORE_DISCLOSURE_MAX_REQUESTS 1000 /* requests one order may name */

typedef struct {
    int64_t id;
    const char *requester;   /* the court or agency */
    const char *reference;   /* its docket or case number */
    const char *legal_basis;
    unsigned classes;        /* DC_BIT mask in scope, never 0 */
    int64_t received_at;
    const char *recorded_by;
    const char *recorded_role;
    int64_t recorded_at;
    const char *approved_by; /* NULL until approved */
    const char *approved_role;
    int64_t approved_at;     /* 0 until approved */
    const char *closed_by;   /* NULL while open */
    int64_t closed_at;       /* 0 while open */
    int64_t *request_ids;    /* the scope, ascending (store_disclosure_get only) */
    size_t nrequests;        /* how many requests it names (get and list) */
    int64_t exports;         /* exports made under it (get and list) */
} store_disclosure;

/* Records an order with its scope (request_ids, nrequests: 1 to
 * STORE_DISCLOSURE_MAX_REQUESTS existing requests, no repeats) and sets
 * d->id; approved_* and closed_* must be empty. ERR_CONFLICT if the
 * requester has an order with this reference; ERR_NOT_FOUND if a request
 * does not exist. */
err_code store_disclosure_insert(store_t *s, store_disclosure *d, err_t *err);
/* One order with its scope and export count. ERR_NOT_FOUND if none. */
err_code store_disclosure_get(store_t *s, int64_t id, pool_t *pool, store_disclosure *out,
                              err_t *err);
/* Orders by id, newest first, at most max (request_ids left NULL);
 * open_only leaves closed ones out. */
err_code store_disclosure_list(store_t *s, bool open_only, size_t max, pool_t *pool,
                               store_disclosure **out, size_t *count, err_t *err);
/* Approves an open, unapproved order recorded by someone other than by.
 * ERR_CONFLICT when it is approved or closed already, or when by recorded
 * it (the two-person rule, also a CHECK in the schema); ERR_NOT_FOUND if
 * there is no such order. */
err_code store_disclosure_approve(store_t *s, int64_t id, const char *by, const char *role,
                                  int64_t now, err_t *err);
/* Closes an open order for good. ERR_CONFLICT if it is closed already;
 * ERR_NOT_FOUND if there is no such order. */
err_code store_disclosure_close(store_t *s, int64_t id, const char *by, int64_t now, err_t *err);

#define STORE_DISCLOSURE_DIGEST_LEN 32 /* SHA-256 */

/* One export made under an order. */
typedef struct {
    int64_t id;
    int64_t order_id;
    const char *exported_by;
    const char *role;
    int64_t exported_at;
    unsigned classes; /* DC_BIT mask exported */
    unsigned char digest[STORE_DISCLOSURE_DIGEST_LEN];
    int64_t bytes;         /* the document's size */
    int64_t *request_ids;  /* the requests released, ascending */
    size_t nrequests;
} store_disclosure_export;

/* Records an export and the requests it released; sets e->id. */
err_code store_disclosure_export_insert(store_t *s, store_disclosure_export *e, err_t *err);
/* The exports made under an order, oldest first, with their requests. */
err_code store_disclosure_exports(store_t *s, int64_t order_id, pool_t *pool,
                                  store_disclosure_export **out, size_t *count, err_t *err);

/* ---- figures for managers (issue 5, item 8) ---- */

/* Hands every visible request filed in [from, to) to fn, as a stats_row
 * (codes, times, status, resolution: no personal data), in no particular
 * order, one row at a time: memory does not grow with the window. Its
 * strings live for the call only. Through the request_requested index. */
err_code store_stats_rows(store_t *s, int64_t from, int64_t to, stats_row_fn fn, void *ctx,
                          err_t *err);

/* ==== staff accounts (issue 5): sqlite_staff.c ====
 *
 * The console's people (privacy/staff.c is the only caller). A staff row
 * holds a login, a role name, an Argon2id string and a sealed TOTP
 * secret: no resident's data. Writes are in the caller's transaction. */

#define STORE_STAFF_LOGIN_MAX 32 /* bytes of a login */
#define STORE_STAFF_LIST_MAX 1000

typedef struct {
    int64_t id;
    const char *login;
    const char *role;          /* gate_role_name of a staff role */
    const char *password_hash; /* Argon2id string */
    const unsigned char *totp_sealed; /* NULL until set (just after the insert) */
    size_t totp_sealed_len;
    int64_t totp_last_step;    /* 0: no code accepted yet */
    int64_t failed_count;
    int64_t failed_since;      /* 0 = none */
    int64_t locked_until;      /* 0 = not locked */
    int64_t disabled_at;       /* 0 = active */
    int64_t created_at;
} store_staff;

/* Inserts a member (login, role, password_hash, created_at); sets st->id.
 * ERR_CONFLICT if the login is taken. */
err_code store_staff_insert(store_t *s, store_staff *st, err_t *err);
/* ERR_NOT_FOUND if there is no such member. Strings from pool. */
err_code store_staff_get(store_t *s, int64_t id, pool_t *pool, store_staff *out, err_t *err);
err_code store_staff_find(store_t *s, const char *login, pool_t *pool, store_staff *out,
                          err_t *err);
/* Every member (at most STORE_STAFF_LIST_MAX), by login. */
err_code store_staff_list(store_t *s, pool_t *pool, store_staff **out, size_t *count, err_t *err);
err_code store_staff_set_password(store_t *s, int64_t id, const char *password_hash, err_t *err);
/* A new sealed secret; forgets the last step used (a new secret's steps
 * start afresh). */
err_code store_staff_set_totp(store_t *s, int64_t id, const unsigned char *sealed, size_t len,
                              err_t *err);
/* Records that a code of this step was accepted, if it is after the last
 * one recorded: *used false when it is not (a replay, or a race with
 * another node that took it first). */
err_code store_staff_use_step(store_t *s, int64_t id, int64_t step, bool *used, err_t *err);
/* Counts a failure as store_account_failed does; *count the new count. */
err_code store_staff_failed(store_t *s, int64_t id, int64_t now, int64_t window, int64_t *count,
                            err_t *err);
/* Sets locked_until (0 = unlock) and clears the failure count. */
err_code store_staff_set_lock(store_t *s, int64_t id, int64_t locked_until, err_t *err);
/* Disables (at > 0) or enables (at == 0) a member. */
err_code store_staff_set_disabled(store_t *s, int64_t id, int64_t at, err_t *err);
/* Adds an agency to a member (a repeat is no error). */
err_code store_staff_agency_add(store_t *s, int64_t id, const char *agency_code, err_t *err);
/* A member's agencies, by code; strings and array from pool. */
err_code store_staff_agencies(store_t *s, int64_t id, pool_t *pool, const char ***codes,
                              size_t *count, err_t *err);

typedef struct {
    int64_t staff_id;
    int64_t created_at;
    int64_t last_seen;
    int64_t expires_at;
    bool second_factor; /* the code was given too: a full sign-in */
} store_staff_session;

/* ERR_CONFLICT if a session has this hash. */
err_code store_staff_session_insert(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                                    const store_staff_session *ss, err_t *err);
/* The session with this hash if it has not expired at now and its member
 * is not disabled; ERR_NOT_FOUND otherwise. */
err_code store_staff_session_get(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                                 int64_t now, store_staff_session *out, err_t *err);
/* Sets last_seen and expires_at, unless it has expired at now. */
err_code store_staff_session_touch(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                                   int64_t now, int64_t expires_at, err_t *err);
/* Deletes one session (none is no error). */
err_code store_staff_session_delete(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                                    err_t *err);
/* Deletes every session of a member. */
err_code store_staff_session_delete_staff(store_t *s, int64_t staff_id, err_t *err);
/* Deletes up to max sessions expired at now. */
err_code store_staff_session_purge(store_t *s, int64_t now, size_t max, err_t *err);

/* ---- notifications: followers, webhooks, the outbox (issue 5, W6): sqlite_notify.c ----
 *
 * No personal value here either: a follow names a subject (whose sealed
 * contact record holds the address, read only through the gatekeeper), a
 * webhook's secret is sealed, and an outbox row names its target by id.
 * Writes are in the caller's transaction. */

/* Records that subject_id asked to be told of request_id's public
 * changes; contact_request_id is the request whose sealed contact record
 * holds their email. Following twice is one follow (no error). */
err_code store_follow_add(store_t *s, int64_t request_id, int64_t subject_id,
                          int64_t contact_request_id, int64_t now, err_t *err);
/* A merge: the followers of from_request follow to_request instead (one
 * follow each, however many they had). *moved (may be NULL) counts the
 * follows taken off from_request. Tell them first (an event on
 * from_request), then move them. */
err_code store_follow_move(store_t *s, int64_t from_request, int64_t to_request, size_t *moved,
                           err_t *err);
/* Whether subject_id follows request_id, and where its email is sealed.
 * ERR_NOT_FOUND if it does not. */
err_code store_follow_get(store_t *s, int64_t request_id, int64_t subject_id,
                          int64_t *contact_request_id, err_t *err);
/* Where the email of a follower is sealed: the contact request of one of
 * subject_id's follows, its follow of request_id first (a follow moved by
 * a merge keeps its contact request). ERR_NOT_FOUND if it follows
 * nothing (never did, or its address was erased). */
err_code store_follow_contact(store_t *s, int64_t subject_id, int64_t request_id,
                              int64_t *contact_request_id, err_t *err);
/* How many follow request_id. */
err_code store_follow_count(store_t *s, int64_t request_id, int64_t *count, err_t *err);
/* The contact record of contact_request_id is being erased: deletes every
 * follow that reads its address there, and gives up their pending emails
 * (status failed, "recipient erased"). *erased (may be NULL) counts the
 * follows. */
err_code store_follow_erase_contact(store_t *s, int64_t contact_request_id, size_t *erased,
                                    err_t *err);

/* An agency's webhook. */
typedef struct {
    int64_t id;
    const char *agency_code;
    const char *url;
    int64_t subject_id; /* the subject whose data key seals the secret */
    int key_version;
    const unsigned char *secret; /* sealed; NULL in lists */
    size_t secret_len;
    int64_t created_at;
    int64_t disabled_at; /* 0 = active */
} store_webhook;

/* Sets w->id. */
err_code store_webhook_insert(store_t *s, store_webhook *w, err_t *err);
/* With its sealed secret. ERR_NOT_FOUND if none. */
err_code store_webhook_get(store_t *s, int64_t id, pool_t *pool, store_webhook *out, err_t *err);
/* Every webhook, by id, without secrets. */
err_code store_webhook_list(store_t *s, pool_t *pool, store_webhook **out, size_t *count,
                            err_t *err);
/* Stops a webhook: no new notification is queued for it. ERR_NOT_FOUND
 * if there is no active one with this id. */
err_code store_webhook_disable(store_t *s, int64_t id, int64_t now, err_t *err);

typedef enum { OUTBOX_EMAIL = 0, OUTBOX_WEBHOOK } outbox_kind;
typedef enum { OUTBOX_PENDING = 0, OUTBOX_SENT, OUTBOX_FAILED } outbox_status;
const char *store_outbox_kind_name(outbox_kind k);     /* "email", "webhook" */
const char *store_outbox_status_name(outbox_status st); /* "pending", "sent", "failed" */
bool store_outbox_status_parse(const char *s, outbox_status *out);

/* One notification. Claims fill in the event and its request too. */
typedef struct {
    int64_t id;
    outbox_kind kind;
    int64_t event_id;
    int64_t target_id; /* email: the follower's subject; webhook: its id */
    outbox_status status;
    int attempts;
    int64_t next_attempt_at;
    const char *last_error; /* NULL if none */
    int64_t created_at;
    int64_t sent_at; /* 0 = not yet */
    /* store_outbox_claim only: the event in its public view (a note only
     * if public) and its request's service and agency. */
    sr_event event;
    const char *service_code;
    const char *agency_code;
} store_outbox;

/* Queues the notifications of a public change (a status change, or a
 * public note): one per follower of its request and one per active
 * webhook of the request's agency, each once (UNIQUE). store_event_append
 * calls it, in the same transaction, so no public change goes without
 * them; *queued (may be NULL) counts the rows added. */
err_code store_outbox_enqueue(store_t *s, const sr_event *ev, int64_t now, size_t *queued,
                              err_t *err);
/* Claims up to max pending rows due at now, oldest first: each gets one
 * more attempt and is due again only at now + lease (a sender that dies
 * mid-send leaves it to be sent again then). From pool. */
err_code store_outbox_claim(store_t *s, int64_t now, int64_t lease, size_t max, pool_t *pool,
                            store_outbox **out, size_t *count, err_t *err);
/* One row, with its event and request as a claim gives them.
 * ERR_NOT_FOUND if none. */
err_code store_outbox_get(store_t *s, int64_t id, pool_t *pool, store_outbox *out, err_t *err);
/* A claimed row was delivered. ERR_NOT_FOUND unless it is pending. */
err_code store_outbox_sent(store_t *s, int64_t id, int64_t now, err_t *err);
/* A claimed row failed with error (our words, no personal data): due
 * again at retry_at, or failed for good when retry_at is 0. */
err_code store_outbox_failed(store_t *s, int64_t id, int64_t retry_at, const char *error,
                             err_t *err);
/* Rows by id after after_id, of one status (all when status_filter is
 * NULL), at most max; without event details. From pool. */
err_code store_outbox_list(store_t *s, const outbox_status *status_filter, int64_t after_id,
                           size_t max, pool_t *pool, store_outbox **out, size_t *count,
                           err_t *err);
/* An operator's retry: the failed row id (0: every failed row) is
 * pending again, due at now, with its attempts counted afresh. *retried
 * counts them; ERR_NOT_FOUND for an id that is not failed. */
err_code store_outbox_retry(store_t *s, int64_t id, int64_t now, size_t *retried, err_t *err);

#endif
