/*
 * sqlite_staff.c - the SQLite backend's part for staff accounts (store.h,
 * "staff accounts"): the member's row (login, role, Argon2id string,
 * sealed TOTP secret, the last step used, the failed sign-in count), their
 * agencies, and their console sessions keyed by the hash of their id.
 *
 * Moves hashes, sealed bytes and ids; never puts a bound value in SQL or
 * in an error message. Its statements are prepared once per connection
 * into the connection's staff_stmt array (sqlite_int.h). store.c has
 * checked every argument before a function here runs.
 */
#include <string.h>

#include "store/sqlite_int.h"

typedef enum {
    SST_INSERT,
    SST_GET,
    SST_FIND,
    SST_LIST,
    SST_SET_PASSWORD,
    SST_SET_TOTP,
    SST_USE_STEP,
    SST_FAILED,
    SST_SET_LOCK,
    SST_SET_DISABLED,
    SST_AGENCY_ADD,
    SST_AGENCIES,
    SST_SESSION_INSERT,
    SST_SESSION_GET,
    SST_SESSION_TOUCH,
    SST_SESSION_DELETE,
    SST_SESSION_DELETE_STAFF,
    SST_SESSION_PURGE,
    SST_N
} sstmt_id;

_Static_assert(SST_N <= SQ_STAFF_STMT_SLOTS, "raise SQ_STAFF_STMT_SLOTS in sqlite_int.h");

#define STAFF_COLS                                                                                 \
    "id, login, role, password_hash, totp_sealed, totp_last_step, failed_count, failed_since, "    \
    "locked_until, disabled_at, created_at"

static const char *const SSTMT_SQL[SST_N] = {
    /* The sealed secret's associated data names the row: it comes next,
     * in the same transaction (store_staff_set_totp). */
    [SST_INSERT] = "INSERT INTO staff (login, role, password_hash, created_at) "
                   "VALUES (?1, ?2, ?3, ?4)",
    [SST_GET] = "SELECT " STAFF_COLS " FROM staff WHERE id = ?1",
    [SST_FIND] = "SELECT " STAFF_COLS " FROM staff WHERE login = ?1",
    [SST_LIST] = "SELECT " STAFF_COLS " FROM staff ORDER BY login LIMIT ?1",
    [SST_SET_PASSWORD] = "UPDATE staff SET password_hash = ?2 WHERE id = ?1",
    [SST_SET_TOTP] = "UPDATE staff SET totp_sealed = ?2, totp_last_step = NULL WHERE id = ?1",
    /* One statement decides a replay, so two nodes given the same code at
     * once cannot both accept it. */
    [SST_USE_STEP] = "UPDATE staff SET totp_last_step = ?2 "
                     "WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
    /* As account's (sqlite_account.c): one statement, both CASEs read the
     * old failed_since. */
    [SST_FAILED] = "UPDATE staff SET "
                   "failed_count = CASE WHEN failed_since IS NULL OR failed_since <= ?2 - ?3 "
                   "THEN 1 ELSE failed_count + 1 END, "
                   "failed_since = CASE WHEN failed_since IS NULL OR failed_since <= ?2 - ?3 "
                   "THEN ?2 ELSE failed_since END "
                   "WHERE id = ?1 RETURNING failed_count",
    [SST_SET_LOCK] = "UPDATE staff SET locked_until = ?2, failed_count = 0, failed_since = NULL "
                     "WHERE id = ?1",
    [SST_SET_DISABLED] = "UPDATE staff SET disabled_at = ?2 WHERE id = ?1",
    [SST_AGENCY_ADD] = "INSERT INTO staff_agency (staff_id, agency_code) VALUES (?1, ?2) "
                       "ON CONFLICT DO NOTHING",
    [SST_AGENCIES] = "SELECT agency_code FROM staff_agency WHERE staff_id = ?1 "
                     "ORDER BY agency_code",

    [SST_SESSION_INSERT] = "INSERT INTO staff_session (id_hash, staff_id, created_at, last_seen, "
                           "expires_at, second_factor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SST_SESSION_GET] = "SELECT s.staff_id, s.created_at, s.last_seen, s.expires_at, "
                        "s.second_factor FROM staff_session s JOIN staff m ON m.id = s.staff_id "
                        "WHERE s.id_hash = ?1 AND s.expires_at > ?2 AND m.disabled_at IS NULL",
    [SST_SESSION_TOUCH] = "UPDATE staff_session SET last_seen = ?2, expires_at = ?3 "
                          "WHERE id_hash = ?1 AND expires_at > ?2",
    [SST_SESSION_DELETE] = "DELETE FROM staff_session WHERE id_hash = ?1",
    [SST_SESSION_DELETE_STAFF] = "DELETE FROM staff_session WHERE staff_id = ?1",
    [SST_SESSION_PURGE] = "DELETE FROM staff_session WHERE id_hash IN (SELECT id_hash FROM "
                          "staff_session WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
};

static err_code sstmt_get(store_conn *c, sstmt_id id, stmt *s, err_t *err)
{
    return stmt_prepare(c, &c->staff_stmt[id], SSTMT_SQL[id], s, err);
}

static err_code sstmt_write(store_conn *c, sstmt_id id, const char *what, stmt *s, err_t *err)
{
    err_code ec = need_txn(c, what, err);
    if (ec == ERR_OK)
        ec = sstmt_get(c, id, s, err);
    return ec;
}

static const char NO_STAFF[] = "no such staff member";

/* ---- members ---- */

err_code sqs_staff_insert(store_conn *c, store_staff *st, err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_INSERT, "store_staff_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, st->login);
    bind_str(&s, st->role);
    bind_str(&s, st->password_hash);
    bind_i64(&s, st->created_at);
    ec = stmt_insert(c, &s, "staff", &st->id, err);
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "a staff member has this login");
    return ec;
}

static void read_staff(row *r, void *item)
{
    store_staff *out = item;
    memset(out, 0, sizeof *out);
    out->id = rd_i64(r);
    out->login = rd_str(r);
    out->role = rd_str(r);
    out->password_hash = rd_str(r);
    out->totp_sealed = rd_blob(r, &out->totp_sealed_len);
    out->totp_last_step = rd_opt_time(r);
    out->failed_count = rd_i64(r);
    out->failed_since = rd_opt_time(r);
    out->locked_until = rd_opt_time(r);
    out->disabled_at = rd_opt_time(r);
    out->created_at = rd_i64(r);
}

err_code sqs_staff_get(store_conn *c, int64_t id, pool_t *pool, store_staff *out, err_t *err)
{
    stmt s;
    err_code ec = sstmt_get(c, SST_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_one(c, &s, "staff", read_staff, out, pool, NO_STAFF, err);
}

err_code sqs_staff_find(store_conn *c, const char *login, pool_t *pool, store_staff *out,
                        err_t *err)
{
    stmt s;
    err_code ec = sstmt_get(c, SST_FIND, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, login);
    return stmt_one(c, &s, "staff", read_staff, out, pool, NO_STAFF, err);
}

err_code sqs_staff_list(store_conn *c, pool_t *pool, store_staff **out, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = sstmt_get(c, SST_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_limit(&s, STORE_STAFF_LIST_MAX);
    void *list = NULL;
    ec = rows_collect(c, &s, "staff", read_staff, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

err_code sqs_staff_set_password(store_conn *c, int64_t id, const char *password_hash, err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_SET_PASSWORD, "store_staff_set_password", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_str(&s, password_hash);
    return stmt_exec_found(c, &s, "staff", NO_STAFF, err);
}

err_code sqs_staff_set_totp(store_conn *c, int64_t id, const unsigned char *sealed, size_t len,
                            err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_SET_TOTP, "store_staff_set_totp", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_blob(&s, sealed, len);
    return stmt_exec_found(c, &s, "staff", NO_STAFF, err);
}

err_code sqs_staff_use_step(store_conn *c, int64_t id, int64_t step, bool *used, err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_USE_STEP, "store_staff_use_step", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, step);
    size_t changed = 0;
    ec = stmt_exec_count(c, &s, "staff", &changed, err);
    *used = ec == ERR_OK && changed == 1;
    return ec;
}

err_code sqs_staff_failed(store_conn *c, int64_t id, int64_t now, int64_t window, int64_t *count,
                          err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_FAILED, "store_staff_failed", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, now);
    bind_i64(&s, window);
    return stmt_one(c, &s, "staff", read_id, count, NULL, NO_STAFF, err);
}

err_code sqs_staff_set_lock(store_conn *c, int64_t id, int64_t locked_until, err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_SET_LOCK, "store_staff_set_lock", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_opt_time(&s, locked_until);
    return stmt_exec_found(c, &s, "staff", NO_STAFF, err);
}

err_code sqs_staff_set_disabled(store_conn *c, int64_t id, int64_t at, err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_SET_DISABLED, "store_staff_set_disabled", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_opt_time(&s, at);
    return stmt_exec_found(c, &s, "staff", NO_STAFF, err);
}

err_code sqs_staff_agency_add(store_conn *c, int64_t id, const char *agency_code, err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_AGENCY_ADD, "store_staff_agency_add", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_str(&s, agency_code);
    return stmt_exec(c, &s, "staff_agency", err);
}

static void read_code(row *r, void *item)
{
    *(const char **)item = rd_str(r);
}

err_code sqs_staff_agencies(store_conn *c, int64_t id, pool_t *pool, const char ***codes,
                            size_t *count, err_t *err)
{
    stmt s;
    err_code ec = sstmt_get(c, SST_AGENCIES, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    void *list = NULL;
    ec = rows_collect(c, &s, "staff_agency", read_code, sizeof **codes, pool, &list, count, err);
    if (ec == ERR_OK)
        *codes = list;
    return ec;
}

/* ---- sessions ---- */

err_code sqs_staff_session_insert(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                  const store_staff_session *ss, err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_SESSION_INSERT, "store_staff_session_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, id_hash, STORE_DIGEST_LEN);
    bind_i64(&s, ss->staff_id);
    bind_i64(&s, ss->created_at);
    bind_i64(&s, ss->last_seen);
    bind_i64(&s, ss->expires_at);
    bind_bool(&s, ss->second_factor);
    ec = stmt_exec(c, &s, "staff_session", err);
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "a staff session with this id exists");
    return ec;
}

static void read_session(row *r, void *item)
{
    store_staff_session *out = item;
    memset(out, 0, sizeof *out);
    out->staff_id = rd_i64(r);
    out->created_at = rd_i64(r);
    out->last_seen = rd_i64(r);
    out->expires_at = rd_i64(r);
    out->second_factor = rd_bool(r);
}

err_code sqs_staff_session_get(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                               int64_t now, store_staff_session *out, err_t *err)
{
    stmt s;
    err_code ec = sstmt_get(c, SST_SESSION_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, id_hash, STORE_DIGEST_LEN);
    bind_i64(&s, now);
    return stmt_one(c, &s, "staff_session", read_session, out, NULL, "no such staff session",
                    err);
}

err_code sqs_staff_session_touch(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                 int64_t now, int64_t expires_at, err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_SESSION_TOUCH, "store_staff_session_touch", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, id_hash, STORE_DIGEST_LEN);
    bind_i64(&s, now);
    bind_i64(&s, expires_at);
    return stmt_exec(c, &s, "staff_session", err);
}

err_code sqs_staff_session_delete(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                  err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_SESSION_DELETE, "store_staff_session_delete", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, id_hash, STORE_DIGEST_LEN);
    return stmt_exec(c, &s, "staff_session", err);
}

err_code sqs_staff_session_delete_staff(store_conn *c, int64_t staff_id, err_t *err)
{
    stmt s;
    err_code ec =
        sstmt_write(c, SST_SESSION_DELETE_STAFF, "store_staff_session_delete_staff", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, staff_id);
    return stmt_exec(c, &s, "staff_session", err);
}

err_code sqs_staff_session_purge(store_conn *c, int64_t now, size_t max, err_t *err)
{
    stmt s;
    err_code ec = sstmt_write(c, SST_SESSION_PURGE, "store_staff_session_purge", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, now);
    bind_limit(&s, max);
    return stmt_exec(c, &s, "staff_session", err);
}
