/*
 * sqlite_notify.c - the SQLite backend's part for notifications (store.h,
 * "notifications", W6): who follows which request, agencies' webhooks
 * with their sealed secrets, and the outbox whose rows the sender in
 * src/notify claims, sends and settles.
 *
 * Like the other backend files it moves ids, sealed bytes and our own
 * status words, never a personal value: a follow names the subject whose
 * sealed record holds the address, not the address. Its statements are
 * its own, prepared once per connection into notify_stmt (sqlite_int.h).
 * store.c has checked every argument before a function here runs.
 */
#include <string.h>

#include "store/sqlite_int.h"

typedef enum {
    NST_FOLLOW_ADD,
    NST_FOLLOW_COPY,
    NST_FOLLOW_DROP,
    NST_FOLLOW_GET,
    NST_FOLLOW_COUNT,
    NST_FOLLOW_GIVE_UP,
    NST_FOLLOW_ERASE,
    NST_WEBHOOK_INSERT,
    NST_WEBHOOK_GET,
    NST_WEBHOOK_LIST,
    NST_WEBHOOK_DISABLE,
    NST_ENQUEUE_EMAIL,
    NST_ENQUEUE_WEBHOOK,
    NST_CLAIM,
    NST_CLAIMED_ROW,
    NST_SENT,
    NST_FAILED,
    NST_LIST,
    NST_LIST_STATUS,
    NST_RETRY_ONE,
    NST_RETRY_ALL,
    NST_FOLLOW_CONTACT,
    NST_N
} nstmt_id;

_Static_assert(NST_N <= SQ_NOTIFY_STMT_SLOTS, "raise SQ_NOTIFY_STMT_SLOTS in sqlite_int.h");

#define OUTBOX_COLS                                                                                \
    "id, kind, event_id, target_id, status, attempts, next_attempt_at, last_error, created_at, "   \
    "sent_at"

static const char *const NSTMT_SQL[NST_N] = {
    /* ON CONFLICT DO NOTHING: following twice is one follow (both
     * dialects; SQLite since 3.24). */
    [NST_FOLLOW_ADD] = "INSERT INTO follow (request_id, subject_id, contact_request_id, "
                       "created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
    /* "WHERE" before ON CONFLICT: SQLite would read it as a join's ON. */
    [NST_FOLLOW_COPY] = "INSERT INTO follow (request_id, subject_id, contact_request_id, "
                        "created_at) SELECT ?2, subject_id, contact_request_id, created_at "
                        "FROM follow WHERE request_id = ?1 ON CONFLICT DO NOTHING",
    [NST_FOLLOW_DROP] = "DELETE FROM follow WHERE request_id = ?1",
    [NST_FOLLOW_GET] = "SELECT contact_request_id FROM follow "
                       "WHERE request_id = ?1 AND subject_id = ?2",
    [NST_FOLLOW_COUNT] = "SELECT COUNT(*) FROM follow WHERE request_id = ?1",
    /* Emails still to send to the followers whose address goes: nobody
     * can be written to once the address is erased. */
    [NST_FOLLOW_GIVE_UP] = "UPDATE outbox SET status = 'failed', "
                           "last_error = 'recipient erased' "
                           "WHERE kind = 'email' AND status = 'pending' AND target_id IN "
                           "(SELECT subject_id FROM follow WHERE contact_request_id = ?1)",
    [NST_FOLLOW_ERASE] = "DELETE FROM follow WHERE contact_request_id = ?1",

    [NST_WEBHOOK_INSERT] = "INSERT INTO webhook (agency_code, url, subject_id, key_version, "
                           "secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [NST_WEBHOOK_GET] = "SELECT id, agency_code, url, subject_id, key_version, secret, "
                        "created_at, disabled_at FROM webhook WHERE id = ?1",
    [NST_WEBHOOK_LIST] = "SELECT id, agency_code, url, subject_id, key_version, NULL, "
                         "created_at, disabled_at FROM webhook ORDER BY id",
    [NST_WEBHOOK_DISABLE] = "UPDATE webhook SET disabled_at = ?2 "
                            "WHERE id = ?1 AND disabled_at IS NULL",

    [NST_ENQUEUE_EMAIL] = "INSERT INTO outbox (kind, event_id, target_id, status, attempts, "
                          "next_attempt_at, created_at) "
                          "SELECT 'email', ?1, subject_id, 'pending', 0, ?3, ?3 FROM follow "
                          "WHERE request_id = ?2 ON CONFLICT DO NOTHING",
    [NST_ENQUEUE_WEBHOOK] = "INSERT INTO outbox (kind, event_id, target_id, status, attempts, "
                            "next_attempt_at, created_at) "
                            "SELECT 'webhook', ?1, w.id, 'pending', 0, ?3, ?3 "
                            "FROM webhook w JOIN request r ON r.agency_code = w.agency_code "
                            "WHERE r.id = ?2 AND w.disabled_at IS NULL ON CONFLICT DO NOTHING",

    /* The claim is one statement: the due rows get their attempt and
     * their lease together. (PostgreSQL with several nodes will want
     * FOR UPDATE SKIP LOCKED in the inner SELECT; SQLite has one
     * writer.) */
    [NST_CLAIM] = "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?1 + ?2 "
                  "WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' "
                  "AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?3) "
                  "RETURNING id",
    /* The public view of the event: a note only if public. */
    [NST_CLAIMED_ROW] = "SELECT o.id, o.kind, o.event_id, o.target_id, o.status, o.attempts, "
                        "o.next_attempt_at, o.last_error, o.created_at, o.sent_at, "
                        "e.request_id, e.at, e.kind, e.status, e.resolution, "
                        "CASE WHEN e.public = 1 THEN e.note END, e.public, e.actor, "
                        "r.service_code, r.agency_code, e.from_agency, e.to_agency, e.merged_into "
                        "FROM outbox o JOIN request_event e ON e.id = o.event_id "
                        "JOIN request r ON r.id = e.request_id WHERE o.id = ?1",
    [NST_SENT] = "UPDATE outbox SET status = 'sent', sent_at = ?2, last_error = NULL "
                 "WHERE id = ?1 AND status = 'pending'",
    [NST_FAILED] = "UPDATE outbox SET status = CASE WHEN ?2 = 0 THEN 'failed' ELSE 'pending' END, "
                   "next_attempt_at = CASE WHEN ?2 = 0 THEN next_attempt_at ELSE ?2 END, "
                   "last_error = ?3 WHERE id = ?1 AND status = 'pending'",
    [NST_LIST] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2",
    [NST_LIST_STATUS] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id > ?1 AND status = ?3 "
                        "ORDER BY id LIMIT ?2",
    [NST_RETRY_ONE] = "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2 "
                      "WHERE id = ?1 AND status = 'failed'",
    [NST_RETRY_ALL] = "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1 "
                      "WHERE status = 'failed'",
    [NST_FOLLOW_CONTACT] = "SELECT contact_request_id FROM follow WHERE subject_id = ?1 "
                           "ORDER BY CASE WHEN request_id = ?2 THEN 0 ELSE 1 END, created_at "
                           "DESC LIMIT 1",
};

static err_code nstmt_get(store_conn *c, nstmt_id id, stmt *s, err_t *err)
{
    return stmt_prepare(c, &c->notify_stmt[id], NSTMT_SQL[id], s, err);
}

/* A write in the caller's transaction. */
static err_code nstmt_write(store_conn *c, nstmt_id id, const char *what, stmt *s, err_t *err)
{
    err_code ec = need_txn(c, what, err);
    if (ec == ERR_OK)
        ec = nstmt_get(c, id, s, err);
    return ec;
}

/* ---- followers ---- */

err_code sqn_follow_add(store_conn *c, int64_t request_id, int64_t subject_id,
                        int64_t contact_request_id, int64_t now, err_t *err)
{
    stmt s;
    err_code ec = nstmt_write(c, NST_FOLLOW_ADD, "store_follow_add", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id);
    bind_i64(&s, subject_id);
    bind_i64(&s, contact_request_id);
    bind_i64(&s, now);
    return stmt_exec(c, &s, "follow", err);
}

err_code sqn_follow_move(store_conn *c, int64_t from_request, int64_t to_request, size_t *moved,
                         err_t *err)
{
    stmt s;
    err_code ec = nstmt_write(c, NST_FOLLOW_COPY, "store_follow_move", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, from_request);
    bind_i64(&s, to_request);
    if ((ec = stmt_exec(c, &s, "follow", err)) != ERR_OK ||
        (ec = nstmt_get(c, NST_FOLLOW_DROP, &s, err)) != ERR_OK)
        return ec;
    bind_i64(&s, from_request);
    return stmt_exec_count(c, &s, "follow", moved, err);
}

err_code sqn_follow_get(store_conn *c, int64_t request_id, int64_t subject_id,
                        int64_t *contact_request_id, err_t *err)
{
    stmt s;
    err_code ec = nstmt_get(c, NST_FOLLOW_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id);
    bind_i64(&s, subject_id);
    return stmt_one(c, &s, "follow", read_id, contact_request_id, NULL, "no such follow", err);
}

err_code sqn_follow_contact(store_conn *c, int64_t subject_id, int64_t request_id,
                            int64_t *contact_request_id, err_t *err)
{
    stmt s;
    err_code ec = nstmt_get(c, NST_FOLLOW_CONTACT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, subject_id);
    bind_i64(&s, request_id);
    return stmt_one(c, &s, "follow", read_id, contact_request_id, NULL, "no such follow", err);
}

err_code sqn_follow_count(store_conn *c, int64_t request_id, int64_t *count, err_t *err)
{
    stmt s;
    err_code ec = nstmt_get(c, NST_FOLLOW_COUNT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id);
    return stmt_int(c, &s, "follow count", count, err);
}

err_code sqn_follow_erase_contact(store_conn *c, int64_t contact_request_id, size_t *erased,
                                  err_t *err)
{
    stmt s;
    err_code ec = nstmt_write(c, NST_FOLLOW_GIVE_UP, "store_follow_erase_contact", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, contact_request_id);
    if ((ec = stmt_exec(c, &s, "outbox", err)) != ERR_OK ||
        (ec = nstmt_get(c, NST_FOLLOW_ERASE, &s, err)) != ERR_OK)
        return ec;
    bind_i64(&s, contact_request_id);
    return stmt_exec_count(c, &s, "follow", erased, err);
}

/* ---- webhooks ---- */

err_code sqn_webhook_insert(store_conn *c, store_webhook *w, err_t *err)
{
    stmt s;
    err_code ec = nstmt_write(c, NST_WEBHOOK_INSERT, "store_webhook_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, w->agency_code);
    bind_str(&s, w->url);
    bind_i64(&s, w->subject_id);
    bind_i64(&s, w->key_version);
    bind_blob(&s, w->secret, w->secret_len);
    bind_i64(&s, w->created_at);
    return stmt_insert(c, &s, "webhook", &w->id, err);
}

static void read_webhook(row *r, void *item)
{
    store_webhook *w = item;
    memset(w, 0, sizeof *w);
    w->id = rd_i64(r);
    w->agency_code = rd_str(r);
    w->url = rd_str(r);
    w->subject_id = rd_i64(r);
    w->key_version = (int)rd_i64(r);
    w->secret = rd_blob(r, &w->secret_len); /* NULL in lists */
    w->created_at = rd_i64(r);
    w->disabled_at = rd_opt_time(r);
}

err_code sqn_webhook_get(store_conn *c, int64_t id, pool_t *pool, store_webhook *out, err_t *err)
{
    stmt s;
    err_code ec = nstmt_get(c, NST_WEBHOOK_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_one(c, &s, "webhook", read_webhook, out, pool, "no such webhook", err);
}

err_code sqn_webhook_list(store_conn *c, pool_t *pool, store_webhook **out, size_t *count,
                          err_t *err)
{
    stmt s;
    err_code ec = nstmt_get(c, NST_WEBHOOK_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    void *list = NULL;
    ec = rows_collect(c, &s, "webhook", read_webhook, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

err_code sqn_webhook_disable(store_conn *c, int64_t id, int64_t now, err_t *err)
{
    stmt s;
    err_code ec = nstmt_write(c, NST_WEBHOOK_DISABLE, "store_webhook_disable", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, now);
    return stmt_exec_found(c, &s, "webhook", "no active webhook with this id", err);
}

/* ---- the outbox ---- */

err_code sqn_outbox_enqueue(store_conn *c, const sr_event *ev, int64_t now, size_t *queued,
                            err_t *err)
{
    static const nstmt_id kinds[] = {NST_ENQUEUE_EMAIL, NST_ENQUEUE_WEBHOOK};
    *queued = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        stmt s;
        size_t n = 0;
        err_code ec = nstmt_write(c, kinds[i], "store_outbox_enqueue", &s, err);
        if (ec != ERR_OK)
            return ec;
        bind_i64(&s, ev->id);
        bind_i64(&s, ev->request_id);
        bind_i64(&s, now);
        if ((ec = stmt_exec_count(c, &s, "outbox", &n, err)) != ERR_OK)
            return ec;
        *queued += n;
    }
    return ERR_OK;
}

static void read_outbox(row *r, void *item)
{
    store_outbox *o = item;
    memset(o, 0, sizeof *o);
    o->id = rd_i64(r);
    const char *kind = rd_name(r);
    if (kind != NULL && strcmp(kind, "email") == 0)
        o->kind = OUTBOX_EMAIL;
    else if (kind != NULL && strcmp(kind, "webhook") == 0)
        o->kind = OUTBOX_WEBHOOK;
    else
        r->unknown = true;
    o->event_id = rd_i64(r);
    o->target_id = rd_i64(r);
    if (!store_outbox_status_parse(rd_name(r), &o->status))
        r->unknown = true;
    o->attempts = (int)rd_i64(r);
    o->next_attempt_at = rd_i64(r);
    o->last_error = rd_str(r);
    o->created_at = rd_i64(r);
    o->sent_at = rd_opt_time(r);
}

static void read_claimed(row *r, void *item)
{
    store_outbox *o = item;
    read_outbox(r, o);
    sr_event *ev = &o->event;
    ev->id = o->event_id;
    ev->request_id = rd_i64(r);
    ev->at = rd_i64(r);
    if (!sr_event_kind_parse(rd_name(r), &ev->kind))
        r->unknown = true;
    if (!sr_status_parse(rd_name(r), &ev->status))
        r->unknown = true;
    const char *res = rd_name(r);
    ev->resolution = SR_RES_NONE;
    if (res != NULL && !sr_resolution_parse(res, &ev->resolution))
        r->unknown = true;
    ev->note = rd_str(r);
    ev->public_note = rd_bool(r);
    ev->actor = rd_str(r);
    o->service_code = rd_str(r);
    o->agency_code = rd_str(r);
    ev->from_agency = rd_str(r);
    ev->to_agency = rd_str(r);
    ev->merged_into = rd_opt_id(r);
}

err_code sqn_outbox_claim(store_conn *c, int64_t now, int64_t lease, size_t max, pool_t *pool,
                          store_outbox **out, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = nstmt_write(c, NST_CLAIM, "store_outbox_claim", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, now);
    bind_i64(&s, lease);
    bind_limit(&s, max);
    void *ids = NULL;
    size_t n = 0;
    if ((ec = rows_collect(c, &s, "outbox", read_id, sizeof(int64_t), pool, &ids, &n, err)) !=
        ERR_OK)
        return ec;
    if (n == 0)
        return ERR_OK;
    store_outbox *list = pool_calloc(pool, n, sizeof *list);
    if (list == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if ((ec = nstmt_get(c, NST_CLAIMED_ROW, &s, err)) != ERR_OK)
            return ec;
        bind_i64(&s, ((int64_t *)ids)[i]);
        if ((ec = stmt_one(c, &s, "outbox", read_claimed, &list[i], pool,
                           "a claimed notification vanished", err)) != ERR_OK)
            return ec;
    }
    *out = list;
    *count = n;
    return ERR_OK;
}

err_code sqn_outbox_get(store_conn *c, int64_t id, pool_t *pool, store_outbox *out, err_t *err)
{
    stmt s;
    err_code ec = nstmt_get(c, NST_CLAIMED_ROW, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_one(c, &s, "outbox", read_claimed, out, pool, "no such notification", err);
}

err_code sqn_outbox_sent(store_conn *c, int64_t id, int64_t now, err_t *err)
{
    stmt s;
    err_code ec = nstmt_write(c, NST_SENT, "store_outbox_sent", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, now);
    return stmt_exec_found(c, &s, "outbox", "no pending notification with this id", err);
}

err_code sqn_outbox_failed(store_conn *c, int64_t id, int64_t retry_at, const char *error,
                           err_t *err)
{
    stmt s;
    err_code ec = nstmt_write(c, NST_FAILED, "store_outbox_failed", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, retry_at);
    bind_str(&s, error);
    return stmt_exec_found(c, &s, "outbox", "no pending notification with this id", err);
}

err_code sqn_outbox_list(store_conn *c, const outbox_status *status_filter, int64_t after_id,
                         size_t max, pool_t *pool, store_outbox **out, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = nstmt_get(c, status_filter ? NST_LIST_STATUS : NST_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, after_id);
    bind_limit(&s, max);
    if (status_filter != NULL)
        bind_str(&s, store_outbox_status_name(*status_filter));
    void *list = NULL;
    ec = rows_collect(c, &s, "outbox", read_outbox, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

err_code sqn_outbox_retry(store_conn *c, int64_t id, int64_t now, size_t *retried, err_t *err)
{
    stmt s;
    err_code ec =
        nstmt_write(c, id != 0 ? NST_RETRY_ONE : NST_RETRY_ALL, "store_outbox_retry", &s, err);
    if (ec != ERR_OK)
        return ec;
    if (id != 0)
        bind_i64(&s, id);
    bind_i64(&s, now);
    if ((ec = stmt_exec_count(c, &s, "outbox", retried, err)) == ERR_OK && id != 0 && *retried == 0)
        ec = err_set(err, ERR_NOT_FOUND, "no failed notification with this id");
    return ec;
}
