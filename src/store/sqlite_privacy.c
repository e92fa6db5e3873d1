/*
 * sqlite_privacy.c - the SQLite backend's half for the privacy engine:
 * subjects and their wrapped keys, sealed fields and files, blind indexes,
 * retention queries, legal holds and the audit log (store.h, "privacy
 * engine storage"), and the maintenance that makes erasure real on disk
 * (store_compact, store_backup).
 *
 * With sqlite.c (and the sqlite_int.h they share: the connection, the
 * statement, binding and reading helpers) it is the only file of the
 * program that includes sqlite3.h. Its statements are its own, prepared
 * once per connection into the connection's privacy_stmt array and reset
 * as soon as a call is done with them.
 *
 * Everything here moves sealed bytes, keyed hashes and pseudonymous ids:
 * nothing is personal in the clear, and no bound value is ever spliced into
 * SQL or put in an error message. Byte strings read back are copied into
 * the caller's pool. store.c has checked every argument before a function
 * here runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite.h"
#include "store/sqlite_int.h"

/* ---- the statements ---- */

typedef enum {
    PST_WAL_CHECKPOINT,
    PST_SUBJECT_RESERVE,
    PST_SUBJECT_INSERT,
    PST_SUBJECT_SET_KEY,
    PST_SUBJECT_GET,
    PST_SUBJECT_LIST_KEYED,
    PST_SUBJECT_COUNT_KEK,
    PST_SUBJECT_ERASE,
    PST_PERSONAL_INSERT,
    PST_PERSONAL_LIST,
    PST_PERSONAL_ERASE,
    PST_SUBJECT_USAGE,
    PST_BLOB_INSERT,
    PST_BLOB_SET_SEALED,
    PST_BLOB_GET,
    PST_BLOB_LIST,
    PST_BLOB_ERASE,
    PST_BLOB_ATTACH,
    PST_BLOB_ORPHANS,
    PST_BLIND_INSERT,
    PST_BLIND_FIND,
    PST_BLIND_ERASE,
    PST_PERSONAL_DUE_CLOSED,
    PST_PERSONAL_DUE_COLLECTED,
    PST_BLOB_DUE_CLOSED,
    PST_BLOB_DUE_CREATED,
    PST_HOLD_INSERT,
    PST_HOLD_RELEASE,
    PST_HOLD_ACTIVE,
    PST_HOLD_LIST,
    PST_DATA_VERSION,
    PST_AUDIT_HEAD,
    PST_AUDIT_HEAD_SET,
    PST_AUDIT_LAST,
    PST_AUDIT_INSERT,
    PST_AUDIT_ENTRIES,
    PST_AUDIT_FOR_REQUEST,
    PST_CHECKPOINT_INSERT,
    PST_CHECKPOINT_LIST,
    PST_CHECKPOINT_LATEST,
    PST_N
} pstmt_id;

_Static_assert(PST_N <= SQ_PRIVACY_STMT_SLOTS, "raise SQ_PRIVACY_STMT_SLOTS in sqlite_int.h");
/* PST_PERSONAL_ERASE binds one class name (or NULL) per data class. */
_Static_assert(DC_COUNT == 5, "PST_PERSONAL_ERASE has one parameter per data class");

#define SUBJECT_COLS "id, kind, key_version, kek_version, wrapped_key, created_at, erased_at"
#define PERSONAL_COLS                                                                              \
    "request_id, data_class, subject_id, key_version, fields, sealed, collected_at"
/* A file with its sealed bytes; in a list, their length instead. */
#define BLOB_COLS                                                                                  \
    "id, request_id, subject_id, data_class, content_type, key_version, sealed, size, created_at"
#define BLOB_LIST_COLS                                                                             \
    "id, request_id, subject_id, data_class, content_type, key_version, length(sealed), size, "    \
    "created_at"
#define HOLD_COLS                                                                                  \
    "id, request_id, subject_id, reason, placed_by, placed_at, released_by, released_at"
#define AUDIT_COLS "seq, at, request_id, subject_id, body"
#define CHECKPOINT_COLS "size, at, root, public_key, signature"

/* A legal hold is active until released. Written out once per table so
 * every retention query leaves out exactly the same rows. */
#define REQUEST_HELD(REQ)                                                                          \
    "EXISTS (SELECT 1 FROM legal_hold h WHERE h.request_id = " REQ " AND h.released_at IS NULL)"
#define SUBJECT_HELD(SUBJ)                                                                         \
    "EXISTS (SELECT 1 FROM legal_hold h WHERE h.subject_id = " SUBJ " AND h.released_at IS NULL)"
/* For a record p: a request holds one record per class, under one
 * person, so the record is held if its request or that person is. */
#define FIELD_NOT_HELD                                                                             \
    "AND NOT " REQUEST_HELD("p.request_id") " AND NOT " SUBJECT_HELD("p.subject_id") " "
/* For a file b. */
#define BLOB_NOT_HELD                                                                              \
    "AND NOT " REQUEST_HELD("b.request_id") " AND NOT " SUBJECT_HELD("b.subject_id") " "

static const char *const PSTMT_SQL[PST_N] = {
    /* The result row is (busy, log frames, checkpointed frames). */
    [PST_WAL_CHECKPOINT] = "PRAGMA wal_checkpoint(TRUNCATE)",

    /* The max of the rowid is one step down the b-tree. Subject rows are
     * never deleted (erasure clears the key, the row stays), so an id,
     * once committed, is never handed out again. */
    [PST_SUBJECT_RESERVE] = "SELECT COALESCE(MAX(id), 0) + 1 FROM subject",
    [PST_SUBJECT_INSERT] = "INSERT INTO subject (id, kind, key_version, kek_version, wrapped_key, "
                           "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [PST_SUBJECT_SET_KEY] = "UPDATE subject SET key_version = ?2, kek_version = ?3, "
                            "wrapped_key = ?4 WHERE id = ?1 AND erased_at IS NULL",
    [PST_SUBJECT_GET] = "SELECT " SUBJECT_COLS " FROM subject WHERE id = ?1",
    [PST_SUBJECT_LIST_KEYED] = "SELECT " SUBJECT_COLS " FROM subject WHERE id > ?1 "
                               "AND wrapped_key IS NOT NULL AND erased_at IS NULL "
                               "ORDER BY id LIMIT ?2",
    /* Erasing clears kek_version, so this counts live keys from the index
     * alone. */
    [PST_SUBJECT_COUNT_KEK] = "SELECT COUNT(*) FROM subject WHERE kek_version = ?1",
    /* Only a subject not yet erased is touched, so erasing again writes
     * nothing and the first erasure's time stands. */
    [PST_SUBJECT_ERASE] = "UPDATE subject SET wrapped_key = NULL, key_version = NULL, "
                          "kek_version = NULL, erased_at = ?2 "
                          "WHERE id = ?1 AND erased_at IS NULL",

    [PST_PERSONAL_INSERT] = "INSERT INTO personal_field (" PERSONAL_COLS ") "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [PST_PERSONAL_LIST] = "SELECT " PERSONAL_COLS " FROM personal_field WHERE request_id = ?1",
    /* An unwanted class binds NULL, which matches nothing. The primary key
     * (request_id, data_class) finds each record directly. */
    [PST_PERSONAL_ERASE] = "DELETE FROM personal_field WHERE request_id = ?1 "
                           "AND data_class IN (?2, ?3, ?4, ?5, ?6)",
    /* A live account's record (sqlite_account.c) is sealed under its
     * subject's key too: erasing the last request an account filed must
     * not shred the key its email is sealed under. */
    [PST_SUBJECT_USAGE] = "SELECT (SELECT COUNT(*) FROM personal_field WHERE subject_id = ?1) + "
                          "(SELECT COUNT(*) FROM personal_blob WHERE subject_id = ?1) + "
                          "(SELECT COUNT(*) FROM account WHERE subject_id = ?1 "
                          "AND deleted_at IS NULL)",

    [PST_BLOB_INSERT] = "INSERT INTO personal_blob (request_id, subject_id, data_class, "
                        "content_type, key_version, sealed, size, created_at) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [PST_BLOB_SET_SEALED] = "UPDATE personal_blob SET sealed = ?2 WHERE id = ?1",
    [PST_BLOB_GET] = "SELECT " BLOB_COLS " FROM personal_blob WHERE id = ?1",
    /* length() of a BLOB reads its size from the record header, not the
     * (possibly many megabytes of) content. */
    [PST_BLOB_LIST] =
        "SELECT " BLOB_LIST_COLS " FROM personal_blob WHERE request_id = ?1 ORDER BY id",
    [PST_BLOB_ERASE] = "DELETE FROM personal_blob WHERE id = ?1",
    /* Only a file not yet tied to a request, and only by the subject it
     * was sealed for: a file can never be moved from one request to
     * another, nor claimed by someone else's request. */
    [PST_BLOB_ATTACH] = "UPDATE personal_blob SET request_id = ?3 "
                        "WHERE id = ?1 AND subject_id = ?2 AND request_id IS NULL",
    /* Through personal_blob_request: the NULL entries, by id. */
    [PST_BLOB_ORPHANS] = "SELECT b.id FROM personal_blob b "
                         "WHERE b.request_id IS NULL AND b.created_at <= ?1 "
                         "AND NOT " SUBJECT_HELD("b.subject_id") " ORDER BY b.id LIMIT ?2",

    [PST_BLIND_INSERT] = "INSERT INTO blind_index (kind, digest, request_id, subject_id) "
                         "VALUES (?1, ?2, ?3, ?4)",
    /* The primary key (kind, digest, request_id) yields the ids newest
     * first without a sort. */
    [PST_BLIND_FIND] = "SELECT request_id FROM blind_index WHERE kind = ?1 AND digest = ?2 "
                       "ORDER BY request_id DESC LIMIT ?3",
    [PST_BLIND_ERASE] = "DELETE FROM blind_index WHERE request_id = ?1 "
                        "AND (?2 IS NULL OR kind = ?2)",

    /* A closed request has status closed and a closed_at; reopening
     * clears closed_at (store_event_append), so both must hold. The walk
     * goes down the class index in request id order and stops at the
     * limit (schema.c says why). */
    [PST_PERSONAL_DUE_CLOSED] =
        "SELECT p.request_id FROM personal_field p JOIN request r ON r.id = p.request_id "
        "WHERE p.data_class = ?1 AND r.status = ?3 AND r.closed_at <= ?2 " FIELD_NOT_HELD
        "ORDER BY p.request_id LIMIT ?4",
    [PST_PERSONAL_DUE_COLLECTED] =
        "SELECT p.request_id FROM personal_field p "
        "WHERE p.data_class = ?1 AND p.collected_at <= ?2 " FIELD_NOT_HELD
        "ORDER BY p.request_id LIMIT ?3",
    [PST_BLOB_DUE_CLOSED] =
        "SELECT b.id FROM personal_blob b JOIN request r ON r.id = b.request_id "
        "WHERE b.data_class = ?1 AND r.status = ?3 AND r.closed_at <= ?2 " BLOB_NOT_HELD
        "ORDER BY b.id LIMIT ?4",
    [PST_BLOB_DUE_CREATED] =
        "SELECT b.id FROM personal_blob b "
        "WHERE b.data_class = ?1 AND b.created_at <= ?2 " BLOB_NOT_HELD "ORDER BY b.id LIMIT ?3",

    [PST_HOLD_INSERT] = "INSERT INTO legal_hold (request_id, subject_id, reason, placed_by, "
                        "placed_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [PST_HOLD_RELEASE] = "UPDATE legal_hold SET released_by = ?2, released_at = ?3 "
                         "WHERE id = ?1 AND released_at IS NULL",
    /* Two EXISTS rather than one OR, so each uses its partial index. */
    [PST_HOLD_ACTIVE] = "SELECT " REQUEST_HELD("?1") " OR " SUBJECT_HELD("?2"),
    [PST_HOLD_LIST] = "SELECT " HOLD_COLS " FROM legal_hold "
                      "WHERE ?1 = 0 OR released_at IS NULL ORDER BY id",

    /* Changes when another connection commits (never for this one's). */
    [PST_DATA_VERSION] = "PRAGMA data_version",
    [PST_AUDIT_HEAD] = "SELECT size, frontier FROM audit_head WHERE id = 1",
    /* Written once per transaction, at COMMIT, and only over the head the
     * transaction started from (?3): a head moved by anyone else changes
     * nothing and is told so. */
    [PST_AUDIT_HEAD_SET] = "UPDATE audit_head SET size = ?1, frontier = ?2 "
                           "WHERE id = 1 AND size = ?3",
    /* The max of the rowid: one step down the b-tree. */
    [PST_AUDIT_LAST] = "SELECT COALESCE(MAX(seq), 0) FROM audit_entry",
    [PST_AUDIT_INSERT] = "INSERT INTO audit_entry (" AUDIT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)",
    [PST_AUDIT_ENTRIES] = "SELECT " AUDIT_COLS " FROM audit_entry WHERE seq > ?1 "
                          "ORDER BY seq LIMIT ?2",
    [PST_AUDIT_FOR_REQUEST] = "SELECT " AUDIT_COLS " FROM audit_entry WHERE request_id = ?1 "
                              "ORDER BY seq",

    [PST_CHECKPOINT_INSERT] = "INSERT INTO audit_checkpoint (" CHECKPOINT_COLS ") "
                              "VALUES (?1, ?2, ?3, ?4, ?5)",
    [PST_CHECKPOINT_LIST] = "SELECT " CHECKPOINT_COLS " FROM audit_checkpoint ORDER BY size",
    [PST_CHECKPOINT_LATEST] = "SELECT " CHECKPOINT_COLS " FROM audit_checkpoint "
                              "ORDER BY size DESC LIMIT 1",
};

const char *store_sqlite_lookup_sql(store_sqlite_lookup which)
{
    switch (which) {
    case STORE_SQLITE_PERSONAL_DUE_CLOSED:
        return PSTMT_SQL[PST_PERSONAL_DUE_CLOSED];
    case STORE_SQLITE_PERSONAL_DUE_COLLECTED:
        return PSTMT_SQL[PST_PERSONAL_DUE_COLLECTED];
    case STORE_SQLITE_BLOB_DUE_CLOSED:
        return PSTMT_SQL[PST_BLOB_DUE_CLOSED];
    case STORE_SQLITE_BLOB_DUE_CREATED:
        return PSTMT_SQL[PST_BLOB_DUE_CREATED];
    case STORE_SQLITE_BLOB_ORPHANS:
        return PSTMT_SQL[PST_BLOB_ORPHANS];
    case STORE_SQLITE_BLIND_FIND:
        return PSTMT_SQL[PST_BLIND_FIND];
    }
    abort(); /* not a lookup: a test is broken */
}

static err_code pstmt_get(store_conn *c, pstmt_id id, stmt *s, err_t *err)
{
    return stmt_prepare(c, &c->privacy_stmt[id], PSTMT_SQL[id], s, err);
}

/* A write in the caller's transaction: checks there is one, then starts
 * the statement. */
static err_code pstmt_write(store_conn *c, pstmt_id id, const char *what, stmt *s, err_t *err)
{
    err_code ec = need_txn(c, what, err);
    if (ec == ERR_OK)
        ec = pstmt_get(c, id, s, err);
    return ec;
}

/* Maintenance waits for the caller's transaction to end: a checkpoint
 * cannot move pages the caller still reads, and a backup taken inside a
 * write transaction would copy what may yet be rolled back. */
static err_code need_no_txn(store_conn *c, const char *what, err_t *err)
{
    if (!sqlite3_get_autocommit(c->db))
        return err_set(err, ERR_INTERNAL, "%s must run outside a transaction", what);
    return ERR_OK;
}

/* Runs a query whose rows are one id each, into a list from pool, and
 * ends it. */
static err_code ids_collect(store_conn *c, stmt *s, const char *what, pool_t *pool, int64_t **out,
                            size_t *count, err_t *err)
{
    void *list = NULL;
    err_code ec = rows_collect(c, s, what, read_id, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

static data_class rd_class(row *r)
{
    data_class dc = DC_CONTACT;
    if (!sr_data_class_parse(rd_name(r), &dc))
        r->unknown = true;
    return dc;
}

/* ---- maintenance ---- */

err_code sqp_compact(store_conn *c, err_t *err)
{
    stmt s;
    if (c->read_only)
        return err_set(err, ERR_INVALID, "a read-only store cannot be compacted");
    err_code ec = need_no_txn(c, "store_compact", err);
    if (ec == ERR_OK)
        ec = pstmt_get(c, PST_WAL_CHECKPOINT, &s, err);
    if (ec != ERR_OK)
        return ec;
    /* The pragma waits (busy timeout) for the writer lock and for readers
     * of older snapshots. If either outlasts the timeout it still copies
     * what it can and says busy: the WAL then keeps old pages, which is
     * exactly what the caller is trying to be rid of, so that is a
     * failure to report, not a success. */
    int64_t busy = 0;
    ec = stmt_int(c, &s, "compact", &busy, err);
    if (ec == ERR_OK && busy != 0)
        ec = err_set(err, ERR_UNAVAILABLE,
                     "compact: the checkpoint could not complete (the database is busy)");
    return ec;
}

/* fsyncs the directory holding path, so the new file's name is durable
 * too, not only its content. */
static err_code sync_parent_dir(const char *path, err_t *err)
{
    const char *slash = strrchr(path, '/');
    char *dir =
        slash == NULL ? strdup(".") : strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (dir == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    err_code ec = ERR_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        ec = err_set(err, ERR_IO, "backup: cannot sync the directory: %s", strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return ec;
}

/* Copies the whole database into the empty file at path through SQLite's
 * online backup: it reads one snapshot of the source, so the copy is
 * consistent while other connections go on writing (WAL). */
static err_code backup_copy(store_conn *c, const char *path, err_t *err)
{
    sqlite3 *dst = NULL;
    err_code ec = ERR_OK;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ec = dst != NULL ? db_fail_on(dst, rc, "backup: cannot open the copy", err)
                         : err_set(err, ERR_NOMEM, "out of memory");
        sqlite3_close(dst);
        return ec;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
    if (b == NULL) {
        ec = db_fail_on(dst, sqlite3_errcode(dst), "backup", err);
        sqlite3_close(dst);
        return ec;
    }
    rc = sqlite3_backup_step(b, -1); /* all pages in one step: one snapshot */
    int frc = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        ec = db_fail_on(dst, rc == SQLITE_OK ? frc : rc, "backup", err);
    else if (frc != SQLITE_OK)
        ec = db_fail_on(dst, frc, "backup", err);
    /* Every statement on dst is done, so closing cannot fail for a reason
     * of ours; a failure would still mean the copy was not written. */
    rc = sqlite3_close(dst);
    if (ec == ERR_OK && rc != SQLITE_OK)
        ec = err_set(err, ERR_IO, "backup: closing the copy failed");
    return ec;
}

err_code sqp_backup(store_conn *c, const char *path, err_t *err)
{
    err_code ec = need_no_txn(c, "store_backup", err);
    if (ec != ERR_OK)
        return ec;
    /* The file is created here, exclusively and private, so an existing
     * file is never overwritten and the copy of everyone's sealed data is
     * never readable by others, not even for a moment. fchmod sets 0600
     * whatever the umask (which could otherwise take the owner's write
     * bit and make SQLite fail). */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return err_set(err, ERR_CONFLICT, "backup: the file exists");
        return err_set(err, ERR_IO, "backup: cannot create the file: %s", strerror(errno));
    }
    if (fchmod(fd, 0600) != 0)
        ec = err_set(err, ERR_IO, "backup: cannot set the file's mode: %s", strerror(errno));
    /* fd stays open until SQLite has closed the file: closing any
     * descriptor of a file drops every POSIX lock the process holds on it,
     * SQLite's included. */
    if (ec == ERR_OK)
        ec = backup_copy(c, path, err);
    /* SQLite syncs as it commits; the explicit fsync makes "the backup is
     * on disk" not depend on the copy's pragmas. */
    if (ec == ERR_OK && fsync(fd) != 0)
        ec = err_set(err, ERR_IO, "backup: cannot sync the file: %s", strerror(errno));
    if (close(fd) != 0 && ec == ERR_OK)
        ec = err_set(err, ERR_IO, "backup: cannot close the file: %s", strerror(errno));
    if (ec == ERR_OK)
        ec = sync_parent_dir(path, err);
    if (ec != ERR_OK)
        unlink(path); /* ours (O_EXCL), and incomplete */
    return ec;
}

/* ---- subjects ---- */

/* A new subject's id, chosen before its row exists so that its key can be
 * wrapped for it and stored in the same insert. The caller's transaction
 * is a write transaction (BEGIN IMMEDIATE): it holds SQLite's one write
 * lock from its start, so no other connection can insert a subject
 * between this read and the caller's insert. PostgreSQL will take the
 * id from the table's sequence instead (nextval), which is safe under
 * concurrent writers without any lock. */
err_code sqp_subject_reserve(store_conn *c, int64_t *id_out, err_t *err)
{
    stmt s;
    if (c->read_only)
        return err_set(err, ERR_INVALID, "a read-only store cannot add subjects");
    err_code ec = pstmt_write(c, PST_SUBJECT_RESERVE, "store_subject_reserve", &s, err);
    if (ec != ERR_OK)
        return ec;
    return stmt_int(c, &s, "subject", id_out, err);
}

err_code sqp_subject_insert(store_conn *c, const store_subject *sub, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_SUBJECT_INSERT, "store_subject_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bool keyed = sub->wrapped_key != NULL;
    bind_i64(&s, sub->id);
    bind_str(&s, sub->kind);
    if (keyed) {
        bind_i64(&s, sub->key_version);
        bind_i64(&s, sub->kek_version);
        bind_blob(&s, sub->wrapped_key, sub->wrapped_len);
    } else {
        bind_null(&s);
        bind_null(&s);
        bind_null(&s);
    }
    bind_i64(&s, sub->created_at);
    ec = stmt_exec(c, &s, "subject", err);
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "subject %lld exists", (long long)sub->id);
    return ec;
}

err_code sqp_subject_set_key(store_conn *c, int64_t id, int key_version, int kek_version,
                             const unsigned char *wrapped, size_t wrapped_len, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_SUBJECT_SET_KEY, "store_subject_set_key", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, key_version);
    bind_i64(&s, kek_version);
    bind_blob(&s, wrapped, wrapped_len);
    return stmt_exec_found(c, &s, "subject", "no such subject, or it has been erased", err);
}

static void read_subject(row *r, void *item)
{
    store_subject *out = item;
    memset(out, 0, sizeof *out);
    out->id = rd_i64(r);
    out->kind = rd_str(r);
    out->key_version = (int)rd_i64(r);
    out->kek_version = (int)rd_i64(r);
    out->wrapped_key = rd_blob(r, &out->wrapped_len);
    out->created_at = rd_i64(r);
    out->erased_at = rd_opt_time(r);
}

err_code sqp_subject_get(store_conn *c, int64_t id, pool_t *pool, store_subject *out, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_SUBJECT_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_one(c, &s, "subject", read_subject, out, pool, "no such subject", err);
}

err_code sqp_subject_list_keyed(store_conn *c, int64_t after_id, size_t max, pool_t *pool,
                                store_subject **out, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_SUBJECT_LIST_KEYED, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, after_id);
    bind_limit(&s, max);
    void *list = NULL;
    ec = rows_collect(c, &s, "subject", read_subject, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

err_code sqp_subject_count_kek(store_conn *c, int kek_version, int64_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_SUBJECT_COUNT_KEK, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, kek_version);
    return stmt_int(c, &s, "subject", count, err);
}

err_code sqp_subject_erase(store_conn *c, int64_t id, int64_t now, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_SUBJECT_ERASE, "store_subject_erase", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, now);
    size_t changed = 0;
    ec = stmt_exec_count(c, &s, "subject", &changed, err);
    if (ec != ERR_OK || changed > 0)
        return ec;
    /* Nothing changed: erased already (fine), or no such subject. */
    ec = pstmt_get(c, PST_SUBJECT_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_one(c, &s, "subject", NULL, NULL, NULL, "no such subject", err);
}

/* ---- sealed personal fields ---- */

err_code sqp_personal_insert(store_conn *c, const store_personal *p, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_PERSONAL_INSERT, "store_personal_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, p->request_id);
    bind_str(&s, sr_data_class_name(p->dclass));
    bind_i64(&s, p->subject_id);
    bind_i64(&s, p->key_version);
    bind_str(&s, p->fields);
    bind_blob(&s, p->sealed, p->sealed_len);
    bind_i64(&s, p->collected_at);
    ec = stmt_exec(c, &s, "personal_field", err);
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "the request already holds a %s record",
                       sr_data_class_name(p->dclass));
    return ec;
}

static void read_personal(row *r, void *item)
{
    store_personal *out = item;
    memset(out, 0, sizeof *out);
    out->request_id = rd_i64(r);
    out->dclass = rd_class(r);
    out->subject_id = rd_i64(r);
    out->key_version = (int)rd_i64(r);
    out->fields = rd_str(r);
    out->sealed = rd_blob(r, &out->sealed_len);
    out->collected_at = rd_i64(r);
}

err_code sqp_personal_list(store_conn *c, int64_t request_id, pool_t *pool, store_personal **out,
                           size_t *count, err_t *err)
{
    stmt s;
    store_personal *rows = NULL;
    size_t n = 0;
    err_code ec = pstmt_get(c, PST_PERSONAL_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id);
    void *list = NULL;
    ec = rows_collect(c, &s, "personal_field", read_personal, sizeof *rows, pool, &list, &n, err);
    if (ec != ERR_OK)
        return ec;
    rows = list;
    /* What a record holds is read from its fields column without opening
     * it (erasure receipts), so a column that breaks the rule is a broken
     * file, not something to pass on. */
    for (size_t i = 0; i < n; i++)
        if (rows[i].fields == NULL ||
            store_personal_fields_count(rows[i].fields, rows[i].dclass) == 0)
            return err_set(err, ERR_IO,
                           "personal_field holds a record whose fields this build "
                           "does not know");
    /* The key orders by class name; the domain's order is the enum's (a
     * handful of rows, one per class). */
    for (size_t i = 1; i < n; i++) {
        store_personal v = rows[i];
        size_t k = i;
        for (; k > 0 && rows[k - 1].dclass > v.dclass; k--)
            rows[k] = rows[k - 1];
        rows[k] = v;
    }
    *out = rows;
    *count = n;
    return ERR_OK;
}

err_code sqp_personal_erase(store_conn *c, int64_t request_id, unsigned class_mask, size_t *erased,
                            err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_PERSONAL_ERASE, "store_personal_erase", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id);
    for (unsigned dc = 0; dc < DC_COUNT; dc++)
        bind_str(&s, class_mask & DC_BIT(dc) ? sr_data_class_name((data_class)dc) : NULL);
    return stmt_exec_count(c, &s, "personal_field", erased, err);
}

err_code sqp_subject_usage(store_conn *c, int64_t subject_id, int64_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_SUBJECT_USAGE, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, subject_id);
    return stmt_int(c, &s, "subject usage", count, err);
}

/* ---- sealed files ---- */

err_code sqp_blob_insert(store_conn *c, store_blob *b, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_BLOB_INSERT, "store_blob_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_opt_id(&s, b->request_id);
    bind_i64(&s, b->subject_id);
    bind_str(&s, sr_data_class_name(b->dclass));
    bind_str(&s, b->content_type);
    bind_i64(&s, b->key_version);
    bind_blob(&s, b->sealed, b->sealed_len);
    bind_i64(&s, b->size);
    bind_i64(&s, b->created_at);
    return stmt_insert(c, &s, "personal_blob", &b->id, err);
}

err_code sqp_blob_set_sealed(store_conn *c, int64_t id, const unsigned char *sealed,
                             size_t sealed_len, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_BLOB_SET_SEALED, "store_blob_set_sealed", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_blob(&s, sealed, sealed_len);
    return stmt_exec_found(c, &s, "personal_blob", "no such sealed file", err);
}

/* The columns of BLOB_COLS; with_bytes for the sealed bytes, else their
 * length. */
static void read_blob_common(row *r, store_blob *out, bool with_bytes)
{
    memset(out, 0, sizeof *out);
    out->id = rd_i64(r);
    out->request_id = rd_opt_id(r);
    out->subject_id = rd_i64(r);
    out->dclass = rd_class(r);
    out->content_type = rd_str(r);
    out->key_version = (int)rd_i64(r);
    if (with_bytes)
        out->sealed = rd_blob(r, &out->sealed_len);
    else
        out->sealed_len = (size_t)rd_i64(r);
    out->size = rd_i64(r);
    out->created_at = rd_i64(r);
}

static void read_blob(row *r, void *item)
{
    read_blob_common(r, item, true);
}

static void read_blob_listed(row *r, void *item)
{
    read_blob_common(r, item, false);
}

err_code sqp_blob_get(store_conn *c, int64_t id, pool_t *pool, store_blob *out, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_BLOB_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_one(c, &s, "personal_blob", read_blob, out, pool, "no such sealed file", err);
}

err_code sqp_blob_list(store_conn *c, int64_t request_id, pool_t *pool, store_blob **out,
                       size_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_BLOB_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id);
    void *list = NULL;
    ec = rows_collect(c, &s, "personal_blob", read_blob_listed, sizeof **out, pool, &list, count,
                      err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

err_code sqp_blob_erase(store_conn *c, int64_t id, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_BLOB_ERASE, "store_blob_erase", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_exec_found(c, &s, "personal_blob", "no such sealed file", err);
}

err_code sqp_blob_attach(store_conn *c, int64_t id, int64_t subject_id, int64_t request_id,
                         err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_BLOB_ATTACH, "store_blob_attach", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_i64(&s, subject_id);
    bind_i64(&s, request_id);
    return stmt_exec_found(c, &s, "personal_blob", "no such unattached file of this subject", err);
}

err_code sqp_blob_orphans(store_conn *c, int64_t before, size_t max, pool_t *pool,
                          int64_t **blob_ids, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_BLOB_ORPHANS, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, before);
    bind_limit(&s, max);
    return ids_collect(c, &s, "personal_blob", pool, blob_ids, count, err);
}

/* ---- blind indexes ---- */

err_code sqp_blind_insert(store_conn *c, const char *kind,
                          const unsigned char digest[STORE_DIGEST_LEN], int64_t request_id,
                          int64_t subject_id, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_BLIND_INSERT, "store_blind_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, kind);
    bind_blob(&s, digest, STORE_DIGEST_LEN);
    bind_i64(&s, request_id);
    bind_i64(&s, subject_id);
    ec = stmt_exec(c, &s, "blind_index", err);
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "the request already has this blind index entry");
    return ec;
}

err_code sqp_blind_find(store_conn *c, const char *kind,
                        const unsigned char digest[STORE_DIGEST_LEN], size_t max, pool_t *pool,
                        int64_t **request_ids, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_BLIND_FIND, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, kind);
    bind_blob(&s, digest, STORE_DIGEST_LEN);
    bind_limit(&s, max);
    return ids_collect(c, &s, "blind_index", pool, request_ids, count, err);
}

err_code sqp_blind_erase(store_conn *c, int64_t request_id, const char *kind, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_BLIND_ERASE, "store_blind_erase", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id);
    bind_str(&s, kind);
    return stmt_exec(c, &s, "blind_index", err);
}

/* ---- retention ---- */

/* Binds the due queries' parameters: ?1 class, ?2 before, then ?3 the
 * closed status name when by close, then the limit. */
static void bind_due(stmt *s, data_class dc, bool by_close, int64_t before, size_t max)
{
    bind_str(s, sr_data_class_name(dc));
    bind_i64(s, before);
    if (by_close)
        bind_str(s, sr_status_name(SR_CLOSED));
    bind_limit(s, max);
}

err_code sqp_personal_due(store_conn *c, data_class dc, bool by_close, int64_t before, size_t max,
                          pool_t *pool, int64_t **request_ids, size_t *count, err_t *err)
{
    stmt s;
    err_code ec =
        pstmt_get(c, by_close ? PST_PERSONAL_DUE_CLOSED : PST_PERSONAL_DUE_COLLECTED, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_due(&s, dc, by_close, before, max);
    return ids_collect(c, &s, "personal_field", pool, request_ids, count, err);
}

err_code sqp_blob_due(store_conn *c, data_class dc, bool by_close, int64_t before, size_t max,
                      pool_t *pool, int64_t **blob_ids, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, by_close ? PST_BLOB_DUE_CLOSED : PST_BLOB_DUE_CREATED, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_due(&s, dc, by_close, before, max);
    return ids_collect(c, &s, "personal_blob", pool, blob_ids, count, err);
}

/* ---- legal holds ---- */

err_code sqp_hold_insert(store_conn *c, store_hold *h, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_HOLD_INSERT, "store_hold_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_opt_id(&s, h->request_id);
    bind_opt_id(&s, h->subject_id);
    bind_str(&s, h->reason);
    bind_str(&s, h->placed_by);
    bind_i64(&s, h->placed_at);
    return stmt_insert(c, &s, "legal_hold", &h->id, err);
}

err_code sqp_hold_release(store_conn *c, int64_t id, const char *released_by, int64_t now,
                          err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_HOLD_RELEASE, "store_hold_release", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_str(&s, released_by);
    bind_i64(&s, now);
    return stmt_exec_found(c, &s, "legal_hold", "no active legal hold with this id", err);
}

err_code sqp_hold_active(store_conn *c, int64_t request_id, int64_t subject_id, bool *held,
                         err_t *err)
{
    stmt s;
    int64_t v = 0;
    err_code ec = pstmt_get(c, PST_HOLD_ACTIVE, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id); /* 0 names no row: ids start at 1 */
    bind_i64(&s, subject_id);
    ec = stmt_int(c, &s, "legal_hold", &v, err);
    if (ec == ERR_OK)
        *held = v != 0;
    return ec;
}

static void read_hold(row *r, void *item)
{
    store_hold *out = item;
    memset(out, 0, sizeof *out);
    out->id = rd_i64(r);
    out->request_id = rd_opt_id(r);
    out->subject_id = rd_opt_id(r);
    out->reason = rd_str(r);
    out->placed_by = rd_str(r);
    out->placed_at = rd_i64(r);
    out->released_by = rd_str(r);
    out->released_at = rd_opt_time(r);
}

err_code sqp_hold_list(store_conn *c, bool active_only, pool_t *pool, store_hold **out,
                       size_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_HOLD_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_bool(&s, active_only);
    void *list = NULL;
    ec = rows_collect(c, &s, "legal_hold", read_hold, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

/* ---- the audit log ---- */

/*
 * The head (the tree's size and right edge, which audit.c encodes) lives
 * in the audit_head row, but a write transaction keeps it in the
 * connection (c->audit): the first use in a transaction reads the row,
 * each append updates the copy, and the row is written once, just before
 * COMMIT. So a batch of appends costs one read and one write of the head,
 * not one each per entry, and at every commit the row is the whole log's
 * head, as audit verify checks.
 *
 * The copy is trusted only while nothing else can have changed the log:
 *   - another connection's commit: PRAGMA data_version, read at the first
 *     use in each transaction (BEGIN IMMEDIATE holds the write lock, so
 *     nobody commits after that until this transaction ends);
 *   - a rollback: of the transaction (the copy is dropped), or to the
 *     savepoint a job runs in (the copy goes back to what it was there;
 *     a savepoint inside that one writes the row first, so rolling back
 *     to it can just read the row again);
 *   - SQLite rolling back on its own after an I/O error: the connection
 *     is then outside any transaction, and a copy is never used there.
 * Read-only connections and reads outside a transaction read the row.
 */

/* The one row of audit_head. */
typedef struct {
    int64_t size;
    const unsigned char *frontier;
    size_t frontier_len;
} audit_head_row;

static void read_audit_head(row *r, void *item)
{
    audit_head_row *h = item;
    h->size = rd_i64(r);
    h->frontier = rd_blob(r, &h->frontier_len);
}

/* Reads the row into h (its bytes from pool). */
static err_code audit_head_read(store_conn *c, pool_t *pool, audit_head_row *h, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_AUDIT_HEAD, &s, err);
    if (ec != ERR_OK)
        return ec;
    ec = stmt_one(c, &s, "audit_head", read_audit_head, h, pool, "audit_head is missing its row",
                  err);
    /* The migration creates the one row; without it the log cannot be
     * trusted to be complete: that is a broken file, not a lookup that
     * found nothing. */
    if (ec == ERR_NOT_FOUND)
        ec = err_set(err, ERR_IO, "audit_head is missing its row");
    if (ec == ERR_OK && h->frontier == NULL)
        ec = err_set(err, ERR_IO, "audit_head has no frontier");
    return ec;
}

/* Drops the copy where the log is back to what the row says (a
 * rollback). */
static void audit_forget(store_conn *c)
{
    c->audit.valid = false;
    c->audit.dirty = false;
}

/* Drops the copy in the middle of a transaction. If it was ahead of the
 * row, the entries appended since are in the log and their head is gone:
 * committing them would leave the row behind the log, so the commit is
 * refused (the caller rolls back). */
static void audit_lose(store_conn *c)
{
    if (c->audit.valid && c->audit.dirty)
        c->audit_lost = true;
    audit_forget(c);
}

/* Whether this connection may keep the head: a write transaction. */
static bool audit_keepable(store_conn *c)
{
    return !c->read_only && !sqlite3_get_autocommit(c->db);
}

/* Makes c->audit the head this transaction sees: checks the copy once
 * per transaction, and reads the row when there is no good copy. */
static err_code audit_load(store_conn *c, err_t *err)
{
    if (!c->audit_checked) {
        stmt s;
        int64_t version = 0;
        err_code ec = pstmt_get(c, PST_DATA_VERSION, &s, err);
        if (ec == ERR_OK)
            ec = stmt_int(c, &s, "data_version", &version, err);
        if (ec != ERR_OK)
            return ec;
        /* Nothing is dirty here: a transaction's first look comes before
         * its first append. */
        if (version != c->data_version)
            audit_forget(c);
        c->data_version = version;
        c->audit_checked = true;
    }
    if (c->audit.valid)
        return ERR_OK;
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    audit_head_row h = {0};
    err_code ec = audit_head_read(c, pool, &h, err);
    if (ec == ERR_OK && h.frontier_len > SQ_AUDIT_FRONTIER_MAX)
        ec = err_set(err, ERR_IO, "audit_head holds a frontier longer than any log's");
    if (ec == ERR_OK) {
        c->audit.size = h.size;
        c->audit.stored_size = h.size;
        c->audit.len = h.frontier_len;
        if (h.frontier_len > 0)
            memcpy(c->audit.frontier, h.frontier, h.frontier_len);
        c->audit.valid = true;
        c->audit.dirty = false;
    }
    pool_free(pool);
    return ec;
}

/* Writes the kept head to the row if it is ahead of it. */
static err_code audit_flush(store_conn *c, err_t *err)
{
    if (!c->audit.valid || !c->audit.dirty)
        return ERR_OK;
    stmt s;
    err_code ec = pstmt_write(c, PST_AUDIT_HEAD_SET, "store_audit_append", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, c->audit.size);
    bind_blob(&s, c->audit.frontier, c->audit.len);
    bind_i64(&s, c->audit.stored_size);
    size_t changed = 0;
    ec = stmt_exec_count(c, &s, "audit_head", &changed, err);
    if (ec == ERR_OK && changed == 0)
        ec = err_set(err, ERR_CONFLICT, "audit: the log's head moved under this transaction");
    if (ec != ERR_OK) {
        audit_lose(c);
        return ec;
    }
    c->audit.stored_size = c->audit.size;
    c->audit.dirty = false;
    return ERR_OK;
}

void sqp_txn_begun(store_conn *c)
{
    /* A copy still dirty here belongs to a transaction SQLite ended on its
     * own (an I/O error rolls back): it describes nothing. */
    if (c->audit.dirty)
        audit_forget(c);
    c->audit_checked = false;
    c->audit_lost = false;
    c->savepoints = 0;
}

err_code sqp_txn_precommit(store_conn *c, err_t *err)
{
    if (c->audit_lost)
        return err_set(err, ERR_INTERNAL,
                       "audit: this transaction lost track of the log's head: not committed");
    if (!audit_keepable(c)) {
        audit_forget(c);
        return ERR_OK; /* COMMIT says what is wrong, if anything */
    }
    return audit_flush(c, err);
}

void sqp_txn_rolled_back(store_conn *c)
{
    audit_forget(c);
    c->audit_lost = false;
    c->savepoints = 0;
}

void sqp_txn_unsure(store_conn *c)
{
    audit_lose(c);
}

err_code sqp_savepoint_pre(store_conn *c, err_t *err)
{
    if (c->savepoints == 0) {
        c->audit_saved = c->audit; /* a job's savepoint: copied, not written */
    } else {
        err_code ec = audit_flush(c, err); /* nested: the row holds it */
        if (ec != ERR_OK)
            return ec;
    }
    c->savepoints++;
    return ERR_OK;
}

void sqp_savepoint_released(store_conn *c)
{
    if (c->savepoints > 0)
        c->savepoints--;
}

void sqp_savepoint_rolled_back(store_conn *c)
{
    if (c->savepoints == 1)
        c->audit = c->audit_saved;
    else /* nested, written before it was opened: read it again */
        audit_forget(c);
}

err_code sqp_audit_head(store_conn *c, pool_t *pool, int64_t *size, const unsigned char **frontier,
                        size_t *frontier_len, err_t *err)
{
    if (!audit_keepable(c)) {
        audit_head_row h = {0};
        err_code ec = audit_head_read(c, pool, &h, err);
        if (ec == ERR_OK) {
            *size = h.size;
            *frontier = h.frontier;
            *frontier_len = h.frontier_len;
        }
        return ec;
    }
    err_code ec = audit_load(c, err);
    if (ec != ERR_OK)
        return ec;
    /* Never a NULL frontier, even an empty one: the caller tells "no
     * bytes" from "missing" by the pointer. */
    unsigned char *copy = pool_alloc(pool, c->audit.len > 0 ? c->audit.len : 1);
    if (copy == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    memcpy(copy, c->audit.frontier, c->audit.len);
    *size = c->audit.size;
    *frontier = copy;
    *frontier_len = c->audit.len;
    return ERR_OK;
}

err_code sqp_audit_append(store_conn *c, const store_audit_row *e, const unsigned char *frontier,
                          size_t frontier_len, err_t *err)
{
    stmt s;
    err_code ec = need_txn(c, "store_audit_append", err);
    if (ec == ERR_OK && c->read_only)
        ec = err_set(err, ERR_INVALID, "a read-only store cannot append to the audit log");
    if (ec == ERR_OK)
        ec = audit_load(c, err);
    if (ec != ERR_OK)
        return ec;
    if (e->seq != c->audit.size + 1)
        return err_set(err, ERR_CONFLICT, "audit: entry %lld does not follow the log's head",
                       (long long)e->seq);
    if (frontier_len > SQ_AUDIT_FRONTIER_MAX)
        return err_set(err, ERR_INVALID, "audit: a frontier longer than any log's");

    /* The entry goes only right after the log's last one, whatever the
     * copy says: a copy gone wrong can fail an append, never leave a gap
     * in the log. */
    int64_t last = 0;
    ec = pstmt_get(c, PST_AUDIT_LAST, &s, err);
    if (ec == ERR_OK)
        ec = stmt_int(c, &s, "audit_entry", &last, err);
    if (ec != ERR_OK)
        return ec;
    if (last != e->seq - 1) {
        audit_lose(c);
        return err_set(err, ERR_CONFLICT, "audit: entry %lld does not follow the log's last entry",
                       (long long)e->seq);
    }
    ec = pstmt_get(c, PST_AUDIT_INSERT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, e->seq);
    bind_i64(&s, e->at);
    bind_opt_id(&s, e->request_id);
    bind_opt_id(&s, e->subject_id);
    bind_str_n(&s, e->body, e->body_len);
    ec = stmt_exec(c, &s, "audit_entry", err);
    if (ec == ERR_CONFLICT) {
        /* The log is ahead of the copy: nothing was written here, and
         * the copy is not to be trusted any more. */
        audit_lose(c);
        ec = err_set(err, ERR_CONFLICT, "audit: entry %lld is taken", (long long)e->seq);
    }
    if (ec != ERR_OK)
        return ec;
    c->audit.size = e->seq;
    c->audit.len = frontier_len;
    memcpy(c->audit.frontier, frontier, frontier_len);
    c->audit.dirty = true;
    return ERR_OK;
}

static void read_audit(row *r, void *item)
{
    store_audit_row *out = item;
    memset(out, 0, sizeof *out);
    out->seq = rd_i64(r);
    out->at = rd_i64(r);
    out->request_id = rd_opt_id(r);
    out->subject_id = rd_opt_id(r);
    out->body = rd_str_n(r, &out->body_len);
}

err_code sqp_audit_entries(store_conn *c, int64_t after_seq, size_t max, pool_t *pool,
                           store_audit_row **out, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_AUDIT_ENTRIES, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, after_seq);
    bind_limit(&s, max);
    void *list = NULL;
    ec = rows_collect(c, &s, "audit_entry", read_audit, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

err_code sqp_audit_for_request(store_conn *c, int64_t request_id, pool_t *pool,
                               store_audit_row **out, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_AUDIT_FOR_REQUEST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id);
    void *list = NULL;
    ec = rows_collect(c, &s, "audit_entry", read_audit, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

err_code sqp_checkpoint_insert(store_conn *c, const store_checkpoint *cp, err_t *err)
{
    stmt s;
    err_code ec = pstmt_write(c, PST_CHECKPOINT_INSERT, "store_checkpoint_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, cp->size);
    bind_i64(&s, cp->at);
    bind_blob(&s, cp->root, STORE_HASH_LEN);
    bind_blob(&s, cp->public_key, STORE_PUBKEY_LEN);
    bind_blob(&s, cp->signature, STORE_SIG_LEN);
    ec = stmt_exec(c, &s, "audit_checkpoint", err);
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "a checkpoint of this size exists");
    return ec;
}

static void read_checkpoint(row *r, void *item)
{
    store_checkpoint *out = item;
    memset(out, 0, sizeof *out);
    out->size = rd_i64(r);
    out->at = rd_i64(r);
    rd_fixed(r, out->root, STORE_HASH_LEN);
    rd_fixed(r, out->public_key, STORE_PUBKEY_LEN);
    rd_fixed(r, out->signature, STORE_SIG_LEN);
}

err_code sqp_checkpoint_list(store_conn *c, pool_t *pool, store_checkpoint **out, size_t *count,
                             err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_CHECKPOINT_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    void *list = NULL;
    ec = rows_collect(c, &s, "audit_checkpoint", read_checkpoint, sizeof **out, pool, &list, count,
                      err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

err_code sqp_checkpoint_latest(store_conn *c, store_checkpoint *out, err_t *err)
{
    stmt s;
    err_code ec = pstmt_get(c, PST_CHECKPOINT_LATEST, &s, err);
    if (ec != ERR_OK)
        return ec;
    return stmt_one(c, &s, "audit_checkpoint", read_checkpoint, out, NULL, "no checkpoint yet",
                    err);
}
