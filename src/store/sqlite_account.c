/*
 * sqlite_account.c - the SQLite backend's part for residents' accounts and
 * their signed-in sessions (store.h, "accounts"): the account row (a
 * keyed digest of the email, the Argon2id password string, the sealed
 * record, the failed sign-in count), its tombstone once deleted, the
 * sessions keyed by the hash of their id, and the list of an account's own
 * requests.
 *
 * Like sqlite_privacy.c it moves sealed bytes, digests, hashes and ids,
 * never a personal value in the clear, and never puts a bound value in SQL
 * or in an error message. Its statements are its own, prepared once per
 * connection into the connection's account_stmt array (sqlite_int.h) and
 * reset as soon as a call is done with them. store.c has checked every
 * argument before a function here runs.
 */
#include <string.h>

#include "store/sqlite_int.h"

/* ---- the statements ---- */

typedef enum {
    AST_ACCOUNT_INSERT,
    AST_ACCOUNT_SET_SEALED,
    AST_ACCOUNT_GET,
    AST_ACCOUNT_FIND,
    AST_ACCOUNT_SET_PASSWORD,
    AST_ACCOUNT_FAILED,
    AST_ACCOUNT_SET_LOCK,
    AST_ACCOUNT_DELETE,
    AST_SESSION_INSERT,
    AST_SESSION_GET,
    AST_SESSION_TOUCH,
    AST_SESSION_DELETE,
    AST_SESSION_DELETE_ACCOUNT,
    AST_SESSION_LIST,
    AST_SESSION_PURGE,
    AST_SUBJECT_REQUESTS,
    AST_N
} astmt_id;

_Static_assert(AST_N <= SQ_ACCOUNT_STMT_SLOTS, "raise SQ_ACCOUNT_STMT_SLOTS in sqlite_int.h");

#define ACCOUNT_COLS                                                                               \
    "id, subject_id, password_hash, key_version, sealed, created_at, failed_count, "               \
    "failed_since, locked_until, deleted_at"
/* A session with its account's subject: the one read that tells who is
 * signed in (web.c, on every page). */
#define SESSION_COLS                                                                               \
    "s.account_id, a.subject_id, s.created_at, s.last_seen, s.expires_at, s.persistent"

static const char *const ASTMT_SQL[AST_N] = {
    /* The sealed record's associated data names the row, so the row
     * comes first with an empty record (store_account_set_sealed). */
    [AST_ACCOUNT_INSERT] = "INSERT INTO account (subject_id, email_digest, password_hash, "
                           "key_version, sealed, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [AST_ACCOUNT_SET_SEALED] = "UPDATE account SET sealed = ?2 "
                               "WHERE id = ?1 AND deleted_at IS NULL",
    [AST_ACCOUNT_GET] = "SELECT " ACCOUNT_COLS " FROM account WHERE id = ?1",
    /* Through the UNIQUE index on email_digest; a tombstone has none. */
    [AST_ACCOUNT_FIND] = "SELECT " ACCOUNT_COLS " FROM account "
                         "WHERE email_digest = ?1 AND deleted_at IS NULL",
    [AST_ACCOUNT_SET_PASSWORD] = "UPDATE account SET password_hash = ?2 "
                                 "WHERE id = ?1 AND deleted_at IS NULL",
    /* One statement, so two nodes counting at once both count: every
     * expression on the right reads the row as it was before this update
     * (SQLite and PostgreSQL alike), so both CASEs test the same old
     * failed_since. RETURNING is in SQLite since 3.35 and in PostgreSQL. */
    [AST_ACCOUNT_FAILED] =
        "UPDATE account SET "
        "failed_count = CASE WHEN failed_since IS NULL OR failed_since <= ?2 - ?3 THEN 1 "
        "ELSE failed_count + 1 END, "
        "failed_since = CASE WHEN failed_since IS NULL OR failed_since <= ?2 - ?3 THEN ?2 "
        "ELSE failed_since END "
        "WHERE id = ?1 AND deleted_at IS NULL RETURNING failed_count",
    [AST_ACCOUNT_SET_LOCK] = "UPDATE account SET locked_until = ?2, failed_count = 0, "
                             "failed_since = NULL WHERE id = ?1 AND deleted_at IS NULL",
    /* The tombstone: only what says the account existed stays (schema.c).
     * secure_delete zeroes the freed bytes of the old row. */
    [AST_ACCOUNT_DELETE] = "UPDATE account SET email_digest = NULL, password_hash = NULL, "
                           "key_version = NULL, sealed = NULL, failed_count = 0, "
                           "failed_since = NULL, locked_until = NULL, deleted_at = ?2 "
                           "WHERE id = ?1 AND deleted_at IS NULL",

    [AST_SESSION_INSERT] = "INSERT INTO web_session (id_hash, account_id, created_at, last_seen, "
                           "expires_at, persistent) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [AST_SESSION_GET] = "SELECT " SESSION_COLS " FROM web_session s "
                        "JOIN account a ON a.id = s.account_id "
                        "WHERE s.id_hash = ?1 AND s.expires_at > ?2 AND a.deleted_at IS NULL",
    [AST_SESSION_TOUCH] = "UPDATE web_session SET last_seen = ?2, expires_at = ?3 "
                          "WHERE id_hash = ?1 AND expires_at > ?2",
    [AST_SESSION_DELETE] = "DELETE FROM web_session WHERE id_hash = ?1",
    [AST_SESSION_DELETE_ACCOUNT] = "DELETE FROM web_session WHERE account_id = ?1",
    [AST_SESSION_LIST] = "SELECT " SESSION_COLS " FROM web_session s "
                         "JOIN account a ON a.id = s.account_id "
                         "WHERE s.account_id = ?1 AND s.expires_at > ?2 "
                         "ORDER BY s.created_at DESC, s.last_seen DESC LIMIT ?3",
    /* SQLite has no DELETE ... LIMIT unless built with it: the keys come
     * from the expiry index, oldest first. */
    [AST_SESSION_PURGE] = "DELETE FROM web_session WHERE id_hash IN (SELECT id_hash FROM "
                          "web_session WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",

    /* Both through their subject indexes (personal_field_subject,
     * personal_blob_subject); a request appears once whatever it holds. */
    [AST_SUBJECT_REQUESTS] = "SELECT request_id FROM personal_field WHERE subject_id = ?1 "
                             "UNION SELECT request_id FROM personal_blob "
                             "WHERE subject_id = ?1 AND request_id IS NOT NULL "
                             "ORDER BY 1 DESC LIMIT ?2",
};

static err_code astmt_get(store_conn *c, astmt_id id, stmt *s, err_t *err)
{
    return stmt_prepare(c, &c->account_stmt[id], ASTMT_SQL[id], s, err);
}

/* A write in the caller's transaction: checks there is one, then starts
 * the statement. */
static err_code astmt_write(store_conn *c, astmt_id id, const char *what, stmt *s, err_t *err)
{
    err_code ec = need_txn(c, what, err);
    if (ec == ERR_OK)
        ec = astmt_get(c, id, s, err);
    return ec;
}

/* ---- accounts ---- */

err_code sqa_account_insert(store_conn *c, store_account *a,
                            const unsigned char digest[STORE_DIGEST_LEN], err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_ACCOUNT_INSERT, "store_account_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, a->subject_id);
    bind_blob(&s, digest, STORE_DIGEST_LEN);
    bind_str(&s, a->password_hash);
    bind_i64(&s, a->key_version);
    bind_blob(&s, NULL, 0);
    bind_i64(&s, a->created_at);
    ec = stmt_insert(c, &s, "account", &a->id, err);
    /* The message must not say which constraint: a caller shows a person
     * the same page either way (the email, or the subject, is taken). */
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "an account with this email or subject exists");
    return ec;
}

err_code sqa_account_set_sealed(store_conn *c, int64_t id, const unsigned char *sealed,
                                size_t sealed_len, err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_ACCOUNT_SET_SEALED, "store_account_set_sealed", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_blob(&s, sealed, sealed_len);
    return stmt_exec_found(c, &s, "account", "no such account", err);
}

static void read_account(row *r, void *item)
{
    store_account *out = item;
    memset(out, 0, sizeof *out);
    out->id = rd_i64(r);
    out->subject_id = rd_i64(r);
    out->password_hash = rd_str(r);
    out->key_version = (int)rd_i64(r);
    out->sealed = rd_blob(r, &out->sealed_len);
    out->created_at = rd_i64(r);
    out->failed_count = rd_i64(r);
    out->failed_since = rd_opt_time(r);
    out->locked_until = rd_opt_time(r);
    out->deleted_at = rd_opt_time(r);
}

err_code sqa_account_get(store_conn *c, int64_t id, pool_t *pool, store_account *out, err_t *err)
{
    stmt s;
    err_code ec = astmt_get(c, AST_ACCOUNT_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_one(c, &s, "account", read_account, out, pool, "no such account", err);
}

err_code sqa_account_find(store_conn *c, const unsigned char digest[STORE_DIGEST_LEN], pool_t *pool,
                          store_account *out, err_t *err)
{
    stmt s;
    err_code ec = astmt_get(c, AST_ACCOUNT_FIND, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, digest, STORE_DIGEST_LEN);
    return stmt_one(c, &s, "account", read_account, out, pool, "no such account", err);
}

err_code sqa_account_set_password(store_conn *c, int64_t id, const char *password_hash, err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_ACCOUNT_SET_PASSWORD, "store_account_set_password", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_str(&s, password_hash);
    return stmt_exec_found(c, &s, "account", "no such account", err);
}

err_code sqa_account_failed(store_conn *c, int64_t id, int64_t now, int64_t window, int64_t *count,
                            err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_ACCOUNT_FAILED, "store_account_failed", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, now);
    bind_i64(&s, window);
    /* RETURNING's row: the whole UPDATE is done by the first step, so
     * ending the statement after one row loses nothing. No row: no live
     * account had this id. */
    return stmt_one(c, &s, "account", read_id, count, NULL, "no such account", err);
}

err_code sqa_account_set_lock(store_conn *c, int64_t id, int64_t locked_until, err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_ACCOUNT_SET_LOCK, "store_account_set_lock", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_opt_time(&s, locked_until);
    return stmt_exec_found(c, &s, "account", "no such account", err);
}

err_code sqa_account_delete(store_conn *c, int64_t id, int64_t now, err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_ACCOUNT_DELETE, "store_account_delete", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, now);
    return stmt_exec_found(c, &s, "account", "no such account", err);
}

/* ---- sessions ---- */

err_code sqa_session_insert(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                            const store_web_session *ws, err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_SESSION_INSERT, "store_session_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, id_hash, STORE_DIGEST_LEN);
    bind_i64(&s, ws->account_id);
    bind_i64(&s, ws->created_at);
    bind_i64(&s, ws->last_seen);
    bind_i64(&s, ws->expires_at);
    bind_bool(&s, ws->persistent);
    ec = stmt_exec(c, &s, "web_session", err);
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "a session with this id exists");
    return ec;
}

static void read_session(row *r, void *item)
{
    store_web_session *out = item;
    memset(out, 0, sizeof *out);
    out->account_id = rd_i64(r);
    out->subject_id = rd_i64(r);
    out->created_at = rd_i64(r);
    out->last_seen = rd_i64(r);
    out->expires_at = rd_i64(r);
    out->persistent = rd_bool(r);
}

err_code sqa_session_get(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN], int64_t now,
                         store_web_session *out, err_t *err)
{
    stmt s;
    err_code ec = astmt_get(c, AST_SESSION_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, id_hash, STORE_DIGEST_LEN);
    bind_i64(&s, now);
    return stmt_one(c, &s, "web_session", read_session, out, NULL, "no such session", err);
}

err_code sqa_session_touch(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                           int64_t now, int64_t expires_at, err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_SESSION_TOUCH, "store_session_touch", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, id_hash, STORE_DIGEST_LEN);
    bind_i64(&s, now);
    bind_i64(&s, expires_at);
    return stmt_exec(c, &s, "web_session", err);
}

err_code sqa_session_delete(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                            size_t *deleted, err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_SESSION_DELETE, "store_session_delete", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, id_hash, STORE_DIGEST_LEN);
    return stmt_exec_count(c, &s, "web_session", deleted, err);
}

err_code sqa_session_delete_account(store_conn *c, int64_t account_id, size_t *deleted, err_t *err)
{
    stmt s;
    err_code ec =
        astmt_write(c, AST_SESSION_DELETE_ACCOUNT, "store_session_delete_account", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, account_id);
    return stmt_exec_count(c, &s, "web_session", deleted, err);
}

err_code sqa_session_list(store_conn *c, int64_t account_id, int64_t now, size_t max, pool_t *pool,
                          store_web_session **out, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = astmt_get(c, AST_SESSION_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, account_id);
    bind_i64(&s, now);
    bind_limit(&s, max);
    void *list = NULL;
    ec = rows_collect(c, &s, "web_session", read_session, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

err_code sqa_session_purge(store_conn *c, int64_t now, size_t max, size_t *purged, err_t *err)
{
    stmt s;
    err_code ec = astmt_write(c, AST_SESSION_PURGE, "store_session_purge", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, now);
    bind_limit(&s, max);
    return stmt_exec_count(c, &s, "web_session", purged, err);
}

/* ---- an account's requests ---- */

err_code sqa_subject_requests(store_conn *c, int64_t subject_id, size_t max, pool_t *pool,
                              int64_t **request_ids, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = astmt_get(c, AST_SUBJECT_REQUESTS, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, subject_id);
    bind_limit(&s, max);
    void *list = NULL;
    ec = rows_collect(c, &s, "personal_field", read_id, sizeof **request_ids, pool, &list, count,
                      err);
    if (ec == ERR_OK)
        *request_ids = list;
    return ec;
}
