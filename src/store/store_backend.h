/*
 * store_backend.h - what a storage backend provides: a table of functions
 * mirroring store.h, over a connection type only the backend knows.
 *
 * store.c owns the public interface: it picks the backend from the URL,
 * checks every argument a caller could get wrong, and only then calls in
 * here. A backend may therefore assume valid arguments (non-NULL outputs,
 * enums in range, a query within its limits) and spends its code on the
 * database. Nothing here names a SQLite or libpq type.
 */
#ifndef CIVIC_STORE_BACKEND_H
#define CIVIC_STORE_BACKEND_H

#include "store/store.h"

/* One database connection. Each backend defines struct store_conn in its
 * own files (SQLite: sqlite_int.h, shared by sqlite.c and
 * sqlite_privacy.c); nobody else sees inside it. */
typedef struct store_conn store_conn;

/* The agency queue in SLA order is two runs: the requests with an SLA by
 * expected_at, then those without by requested_at (an index cannot put
 * NULLs last). The other orders are one run. */
typedef enum {
    STORE_QUEUE_ALL = 0, /* every match, in q->sort's order */
    STORE_QUEUE_DUE,     /* with an expected_at, soonest first */
    STORE_QUEUE_NO_DUE,  /* without one, oldest filed first */
} store_queue_part;

typedef struct {
    const char *name; /* "sqlite", later "postgresql" */

    /* location is the URL with any scheme prefix removed (for SQLite, the
     * file path). On error *out is untouched. */
    err_code (*open)(const char *location, const store_options *opt, store_conn **out, err_t *err);
    void (*close)(store_conn *c);

    err_code (*migrate)(store_conn *c, err_t *err);
    err_code (*schema_version)(store_conn *c, int *version, err_t *err);

    err_code (*begin)(store_conn *c, err_t *err);
    err_code (*commit)(store_conn *c, err_t *err);
    void (*rollback)(store_conn *c);
    err_code (*savepoint)(store_conn *c, err_t *err);
    err_code (*release)(store_conn *c, err_t *err);
    void (*rollback_to)(store_conn *c); /* undoes and closes the savepoint */

    err_code (*catalog_put)(store_conn *c, const catalog *cat, err_t *err);
    err_code (*catalog_load)(store_conn *c, catalog **out, err_t *err);

    err_code (*apikey_insert)(store_conn *c, const char *name,
                              const unsigned char hash[STORE_KEY_HASH_LEN], int64_t now,
                              int64_t *id_out, err_t *err);
    err_code (*apikey_find)(store_conn *c, const unsigned char hash[STORE_KEY_HASH_LEN],
                            int64_t *id_out, err_t *err);

    err_code (*request_insert)(store_conn *c, service_request *sr, err_t *err);
    err_code (*request_get)(store_conn *c, int64_t id, pool_t *pool, service_request *out,
                            err_t *err);
    err_code (*request_answers)(store_conn *c, int64_t id, pool_t *pool, sr_answer **out,
                                size_t *count, err_t *err);
    err_code (*request_search)(store_conn *c, const sr_query *q, pool_t *pool,
                               service_request **out, size_t *count, err_t *err);
    err_code (*token_find)(store_conn *c, const char *token, int64_t *id_out, err_t *err);
    err_code (*batch_publish)(store_conn *c, int64_t now, size_t max, size_t *published,
                              err_t *err);
    err_code (*event_append)(store_conn *c, sr_event *ev, err_t *err);
    err_code (*events_list)(store_conn *c, int64_t request_id, bool public_only, pool_t *pool,
                            sr_event **out, size_t *count, err_t *err);
    err_code (*updates_search)(store_conn *c, int64_t start, int64_t end, size_t page,
                               size_t page_size, pool_t *pool, sr_event **out, size_t *count,
                               err_t *err);
    err_code (*request_count)(store_conn *c, int64_t *count, err_t *err);

    /* maintenance: outside any transaction */
    err_code (*compact)(store_conn *c, err_t *err);
    err_code (*backup)(store_conn *c, const char *path, err_t *err);

    /* the privacy engine's storage */
    err_code (*subject_reserve)(store_conn *c, int64_t *id_out, err_t *err);
    err_code (*subject_insert)(store_conn *c, const store_subject *sub, err_t *err);
    err_code (*subject_set_key)(store_conn *c, int64_t id, int key_version, int kek_version,
                                const unsigned char *wrapped, size_t wrapped_len, err_t *err);
    err_code (*subject_get)(store_conn *c, int64_t id, pool_t *pool, store_subject *out,
                            err_t *err);
    err_code (*subject_list_keyed)(store_conn *c, int64_t after_id, size_t max, pool_t *pool,
                                   store_subject **out, size_t *count, err_t *err);
    err_code (*subject_count_kek)(store_conn *c, int kek_version, int64_t *count, err_t *err);
    err_code (*subject_erase)(store_conn *c, int64_t id, int64_t now, err_t *err);

    err_code (*personal_insert)(store_conn *c, const store_personal *p, err_t *err);
    err_code (*personal_list)(store_conn *c, int64_t request_id, pool_t *pool, store_personal **out,
                              size_t *count, err_t *err);
    err_code (*personal_erase)(store_conn *c, int64_t request_id, unsigned class_mask,
                               size_t *erased, err_t *err);
    err_code (*subject_usage)(store_conn *c, int64_t subject_id, int64_t *count, err_t *err);

    err_code (*blob_insert)(store_conn *c, store_blob *b, err_t *err);
    err_code (*blob_set_sealed)(store_conn *c, int64_t id, const unsigned char *sealed,
                                size_t sealed_len, err_t *err);
    err_code (*blob_get)(store_conn *c, int64_t id, pool_t *pool, store_blob *out, err_t *err);
    err_code (*blob_list)(store_conn *c, int64_t request_id, pool_t *pool, store_blob **out,
                          size_t *count, err_t *err);
    err_code (*blob_erase)(store_conn *c, int64_t id, err_t *err);

    err_code (*blind_insert)(store_conn *c, const char *kind,
                             const unsigned char digest[STORE_DIGEST_LEN], int64_t request_id,
                             int64_t subject_id, err_t *err);
    err_code (*blind_find)(store_conn *c, const char *kind,
                           const unsigned char digest[STORE_DIGEST_LEN], size_t max, pool_t *pool,
                           int64_t **request_ids, size_t *count, err_t *err);
    err_code (*blind_erase)(store_conn *c, int64_t request_id, const char *kind, err_t *err);

    err_code (*personal_due)(store_conn *c, data_class dc, bool by_close, int64_t before,
                             size_t max, pool_t *pool, int64_t **request_ids, size_t *count,
                             err_t *err);
    err_code (*blob_due)(store_conn *c, data_class dc, bool by_close, int64_t before, size_t max,
                         pool_t *pool, int64_t **blob_ids, size_t *count, err_t *err);
    err_code (*blob_attach)(store_conn *c, int64_t id, int64_t subject_id, int64_t request_id,
                            err_t *err);
    err_code (*blob_orphans)(store_conn *c, int64_t before, size_t max, pool_t *pool,
                             int64_t **blob_ids, size_t *count, err_t *err);

    err_code (*page_views_add)(store_conn *c, const char *day, const char *page, int64_t n,
                               err_t *err);
    err_code (*page_views_list)(store_conn *c, const char *since_day, pool_t *pool,
                                store_page_views **out, size_t *count, err_t *err);

    err_code (*send_find)(store_conn *c, const unsigned char hash[STORE_DIGEST_LEN],
                          int64_t *request_id, err_t *err);
    err_code (*send_insert)(store_conn *c, const unsigned char hash[STORE_DIGEST_LEN],
                            int64_t request_id, int64_t now, err_t *err);
    err_code (*send_purge)(store_conn *c, int64_t before, size_t *purged, err_t *err);

    err_code (*hold_insert)(store_conn *c, store_hold *h, err_t *err);
    err_code (*hold_release)(store_conn *c, int64_t id, const char *released_by, int64_t now,
                             err_t *err);
    err_code (*hold_active)(store_conn *c, int64_t request_id, int64_t subject_id, bool *held,
                            err_t *err);
    err_code (*hold_list)(store_conn *c, bool active_only, pool_t *pool, store_hold **out,
                          size_t *count, err_t *err);

    err_code (*audit_head)(store_conn *c, pool_t *pool, int64_t *size,
                           const unsigned char **frontier, size_t *frontier_len, err_t *err);
    err_code (*audit_append)(store_conn *c, const store_audit_row *e, const unsigned char *frontier,
                             size_t frontier_len, err_t *err);
    err_code (*audit_entries)(store_conn *c, int64_t after_seq, size_t max, pool_t *pool,
                              store_audit_row **out, size_t *count, err_t *err);
    err_code (*audit_for_request)(store_conn *c, int64_t request_id, pool_t *pool,
                                  store_audit_row **out, size_t *count, err_t *err);
    err_code (*checkpoint_insert)(store_conn *c, const store_checkpoint *cp, err_t *err);
    err_code (*checkpoint_list)(store_conn *c, pool_t *pool, store_checkpoint **out, size_t *count,
                                err_t *err);
    err_code (*checkpoint_latest)(store_conn *c, store_checkpoint *out, err_t *err);

    /* accounts and signed-in sessions */
    err_code (*account_insert)(store_conn *c, store_account *a,
                               const unsigned char digest[STORE_DIGEST_LEN], err_t *err);
    err_code (*account_set_sealed)(store_conn *c, int64_t id, const unsigned char *sealed,
                                   size_t sealed_len, err_t *err);
    err_code (*account_get)(store_conn *c, int64_t id, pool_t *pool, store_account *out,
                            err_t *err);
    err_code (*account_find)(store_conn *c, const unsigned char digest[STORE_DIGEST_LEN],
                             pool_t *pool, store_account *out, err_t *err);
    err_code (*account_set_password)(store_conn *c, int64_t id, const char *password_hash,
                                     err_t *err);
    err_code (*account_failed)(store_conn *c, int64_t id, int64_t now, int64_t window,
                               int64_t *count, err_t *err);
    err_code (*account_set_lock)(store_conn *c, int64_t id, int64_t locked_until, err_t *err);
    err_code (*account_delete)(store_conn *c, int64_t id, int64_t now, err_t *err);
    err_code (*session_insert)(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                               const store_web_session *ws, err_t *err);
    err_code (*session_get)(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                            int64_t now, store_web_session *out, err_t *err);
    err_code (*session_touch)(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                              int64_t now, int64_t expires_at, err_t *err);
    err_code (*session_delete)(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                               size_t *deleted, err_t *err);
    err_code (*session_delete_account)(store_conn *c, int64_t account_id, size_t *deleted,
                                       err_t *err);
    err_code (*session_list)(store_conn *c, int64_t account_id, int64_t now, size_t max,
                             pool_t *pool, store_web_session **out, size_t *count, err_t *err);
    err_code (*session_purge)(store_conn *c, int64_t now, size_t max, size_t *purged, err_t *err);
    err_code (*subject_requests)(store_conn *c, int64_t subject_id, size_t max, pool_t *pool,
                                 int64_t **request_ids, size_t *count, err_t *err);

    /* ---- the lifecycle and the agency queue (issue 5) ----
     * queue_fetch and queue_count run the queue for ONE agency and one part
     * of it; store.c merges agencies and parts. q arrives normalised:
     * status_mask never 0, and never with closed when the sort is
     * STORE_QUEUE_SLA or overdue is set. */
    err_code (*request_lock)(store_conn *c, int64_t id, pool_t *pool, service_request *out,
                             int64_t *last_event, err_t *err);
    err_code (*queue_fetch)(store_conn *c, const store_queue_query *q, const char *agency_code,
                            store_queue_part part, size_t limit, int64_t offset, pool_t *pool,
                            store_queue_row **out, size_t *count, err_t *err);
    err_code (*queue_count)(store_conn *c, const store_queue_query *q, const char *agency_code,
                            store_queue_part part, int64_t *count, err_t *err);
    /* ---- the disclosure register (issue 5, P4) ---- */
    err_code (*disclosure_insert)(store_conn *c, store_disclosure *d, err_t *err);
    err_code (*disclosure_get)(store_conn *c, int64_t id, pool_t *pool, store_disclosure *out,
                               err_t *err);
    err_code (*disclosure_list)(store_conn *c, bool open_only, size_t max, pool_t *pool,
                                store_disclosure **out, size_t *count, err_t *err);
    err_code (*disclosure_approve)(store_conn *c, int64_t id, const char *by, const char *role,
                                   int64_t now, err_t *err);
    err_code (*disclosure_close)(store_conn *c, int64_t id, const char *by, int64_t now,
                                 err_t *err);
    err_code (*disclosure_export_insert)(store_conn *c, store_disclosure_export *e, err_t *err);
    err_code (*disclosure_exports)(store_conn *c, int64_t order_id, pool_t *pool,
                                   store_disclosure_export **out, size_t *count, err_t *err);

    /* ---- figures for managers (issue 5, item 8) ---- */
    err_code (*stats_rows)(store_conn *c, int64_t from, int64_t to, stats_row_fn fn, void *ctx,
                           err_t *err);
    /* ---- staff accounts (issue 5) ---- */
    err_code (*staff_insert)(store_conn *c, store_staff *st, err_t *err);
    err_code (*staff_get)(store_conn *c, int64_t id, pool_t *pool, store_staff *out, err_t *err);
    err_code (*staff_find)(store_conn *c, const char *login, pool_t *pool, store_staff *out,
                           err_t *err);
    err_code (*staff_list)(store_conn *c, pool_t *pool, store_staff **out, size_t *count,
                           err_t *err);
    err_code (*staff_set_password)(store_conn *c, int64_t id, const char *password_hash,
                                   err_t *err);
    err_code (*staff_set_totp)(store_conn *c, int64_t id, const unsigned char *sealed, size_t len,
                               err_t *err);
    err_code (*staff_use_step)(store_conn *c, int64_t id, int64_t step, bool *used, err_t *err);
    err_code (*staff_failed)(store_conn *c, int64_t id, int64_t now, int64_t window,
                             int64_t *count, err_t *err);
    err_code (*staff_set_lock)(store_conn *c, int64_t id, int64_t locked_until, err_t *err);
    err_code (*staff_set_disabled)(store_conn *c, int64_t id, int64_t at, err_t *err);
    err_code (*staff_agency_add)(store_conn *c, int64_t id, const char *agency_code, err_t *err);
    err_code (*staff_agencies)(store_conn *c, int64_t id, pool_t *pool, const char ***codes,
                               size_t *count, err_t *err);
    err_code (*staff_session_insert)(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                     const store_staff_session *ss, err_t *err);
    err_code (*staff_session_get)(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                  int64_t now, store_staff_session *out, err_t *err);
    err_code (*staff_session_touch)(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                    int64_t now, int64_t expires_at, err_t *err);
    err_code (*staff_session_delete)(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                     err_t *err);
    err_code (*staff_session_delete_staff)(store_conn *c, int64_t staff_id, err_t *err);
    err_code (*staff_session_purge)(store_conn *c, int64_t now, size_t max, err_t *err);
    /* ---- notifications (issue 5, W6): sqlite_notify.c ---- */
    err_code (*follow_add)(store_conn *c, int64_t request_id, int64_t subject_id,
                           int64_t contact_request_id, int64_t now, err_t *err);
    err_code (*follow_move)(store_conn *c, int64_t from_request, int64_t to_request,
                            size_t *moved, err_t *err);
    err_code (*follow_get)(store_conn *c, int64_t request_id, int64_t subject_id,
                           int64_t *contact_request_id, err_t *err);
    err_code (*follow_count)(store_conn *c, int64_t request_id, int64_t *count, err_t *err);
    err_code (*follow_erase_contact)(store_conn *c, int64_t contact_request_id, size_t *erased,
                                     err_t *err);
    err_code (*webhook_insert)(store_conn *c, store_webhook *w, err_t *err);
    err_code (*webhook_get)(store_conn *c, int64_t id, pool_t *pool, store_webhook *out,
                            err_t *err);
    err_code (*webhook_list)(store_conn *c, pool_t *pool, store_webhook **out, size_t *count,
                             err_t *err);
    err_code (*webhook_disable)(store_conn *c, int64_t id, int64_t now, err_t *err);
    err_code (*outbox_enqueue)(store_conn *c, const sr_event *ev, int64_t now, size_t *queued,
                               err_t *err);
    err_code (*outbox_claim)(store_conn *c, int64_t now, int64_t lease, size_t max, pool_t *pool,
                             store_outbox **out, size_t *count, err_t *err);
    err_code (*outbox_sent)(store_conn *c, int64_t id, int64_t now, err_t *err);
    err_code (*outbox_failed)(store_conn *c, int64_t id, int64_t retry_at, const char *error,
                              err_t *err);
    err_code (*outbox_list)(store_conn *c, const outbox_status *status_filter, int64_t after_id,
                            size_t max, pool_t *pool, store_outbox **out, size_t *count,
                            err_t *err);
    err_code (*outbox_retry)(store_conn *c, int64_t id, int64_t now, size_t *retried, err_t *err);
    err_code (*follow_contact)(store_conn *c, int64_t subject_id, int64_t request_id,
                               int64_t *contact_request_id, err_t *err);
    err_code (*outbox_get)(store_conn *c, int64_t id, pool_t *pool, store_outbox *out,
                           err_t *err);
} store_backend;

extern const store_backend store_sqlite_backend;

/* ---- helpers every backend shares (store.c) ---- */

/* The stored name of a data class: "contact", "device", "account". */
const char *store_data_class_name(data_class dc);

/* The actor recorded on a request's SR_EV_CREATED event: "api:<key id>"
 * or "system". out must hold STORE_ACTOR_MAX bytes. */
#define STORE_ACTOR_MAX 32
const char *store_created_actor(int64_t api_key_id, char out[STORE_ACTOR_MAX]);

/* OFFSET for a 1-based page, or -1 if it does not fit an int64_t. */
int64_t store_page_offset(size_t page, size_t page_size);

#endif
