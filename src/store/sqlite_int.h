/*
 * sqlite_int.h - what the SQLite backend's two files share: the connection
 * (struct store_conn), running a cached statement, binding its parameters
 * and reading its rows: the one row of a lookup, a count, every row in
 * turn or all of them into a list.
 *
 * Internal to the backend: only sqlite.c and its sqlite_*.c files include it,
 * and with it sqlite3.h. They are the only files that see a SQLite type;
 * everything else goes through store.h.
 *
 * The helpers are static inline so each file gets its own copy and the
 * library exports no generic names (bind_i64, rd_str) to the rest of the
 * program.
 */
#ifndef CIVIC_STORE_SQLITE_INT_H
#define CIVIC_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store_backend.h"
#include "util/pool.h"

/* Room in each connection for the statements of each file. Each file
 * checks at compile time that its statements fit. */
#define SQ_STMT_SLOTS 48         /* sqlite.c: catalog, requests, events */
#define SQ_PRIVACY_STMT_SLOTS 48 /* sqlite_privacy.c: the privacy engine, maintenance */
#define SQ_SEARCH_SLOTS 16       /* sqlite.c: the search LRU */
#define SQ_ACCOUNT_STMT_SLOTS 24 /* sqlite_account.c: accounts and their sessions */
#define SQ_LIFECYCLE_STMT_SLOTS 8 /* sqlite_lifecycle.c: the lifecycle and the queue */
#define SQ_DISCLOSURE_STMT_SLOTS 16 /* sqlite_disclosure.c: the register, the figures */
#define SQ_STAFF_STMT_SLOTS 24   /* sqlite_staff.c: staff accounts and their sessions */
#define SQ_NOTIFY_STMT_SLOTS 24  /* sqlite_notify.c: followers, webhooks, the outbox */

/* ---- the connection ---- */

typedef struct {
    char *sql; /* malloc'd; NULL = a free slot */
    sqlite3_stmt *st;
    uint64_t last_used;
} search_slot;

/* The audit log's head (size and encoded frontier) as a write transaction
 * of this connection has it (sqlite_privacy.c): appends keep it here and
 * the audit_head row is written once, just before COMMIT, rather than
 * read and rewritten for every entry. */
#define SQ_AUDIT_FRONTIER_MAX 2048 /* audit.h's encoding: 8 + 63 x 32 bytes at most */
typedef struct {
    bool valid;          /* size and frontier are the head this transaction sees */
    bool dirty;          /* ahead of the audit_head row, which COMMIT must bring level */
    int64_t size;        /* entries */
    int64_t stored_size; /* what the audit_head row says */
    size_t len;
    unsigned char frontier[SQ_AUDIT_FRONTIER_MAX];
} sq_audit_head;

struct store_conn {
    sqlite3 *db;
    bool read_only;
    sq_audit_head audit;       /* see above */
    sq_audit_head audit_saved; /* as it was at the outermost open savepoint */
    int savepoints;            /* savepoints open in this transaction */
    bool audit_checked;        /* PRAGMA data_version read in this transaction */
    bool audit_lost;           /* a head ahead of the row was lost: COMMIT must fail */
    int64_t data_version;      /* its value when last read; -1 before */
    sqlite3_stmt *stmt[SQ_STMT_SLOTS];                 /* prepared on first use */
    sqlite3_stmt *privacy_stmt[SQ_PRIVACY_STMT_SLOTS]; /* prepared on first use */
    sqlite3_stmt *account_stmt[SQ_ACCOUNT_STMT_SLOTS]; /* prepared on first use */
    sqlite3_stmt *staff_stmt[SQ_STAFF_STMT_SLOTS];     /* prepared on first use */
    sqlite3_stmt *notify_stmt[SQ_NOTIFY_STMT_SLOTS];   /* prepared on first use */
    search_slot search[SQ_SEARCH_SLOTS];               /* least recently used goes first */
    uint64_t clock;
    sqlite3_stmt *lifecycle_stmt[SQ_LIFECYCLE_STMT_SLOTS]; /* prepared on first use */
    sqlite3_stmt *disclosure_stmt[SQ_DISCLOSURE_STMT_SLOTS]; /* prepared on first use */
};

/* Turns a SQLite result code into ours, with the message db keeps beside
 * it (which names tables and columns, never a bound value). */
static inline err_code db_fail_on(sqlite3 *db, int rc, const char *what, err_t *err)
{
    err_code code = ERR_IO;
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        code = rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ? ERR_CONFLICT
                                                                                    : ERR_INVALID;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = ERR_UNAVAILABLE;
        break;
    case SQLITE_NOMEM:
        code = ERR_NOMEM;
        break;
    case SQLITE_TOOBIG:
        code = ERR_TOO_LARGE;
        break;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
        code = ERR_INTERNAL;
        break;
    default:
        break;
    }
    return err_set(err, code, "%s: %s", what, sqlite3_errmsg(db));
}

static inline err_code db_fail(store_conn *c, int rc, const char *what, err_t *err)
{
    return db_fail_on(c->db, rc, what, err);
}

/* Writes outside a transaction would not be atomic, and inside the
 * group-commit writer they would escape its batch: refuse them. */
static inline err_code need_txn(store_conn *c, const char *what, err_t *err)
{
    if (sqlite3_get_autocommit(c->db))
        return err_set(err, ERR_INTERNAL, "%s needs the caller's transaction", what);
    return ERR_OK;
}

/* ---- statements in use: sticky binding and reading ---- */

/* A cached statement being run. Parameters are bound in order (?1, ?2,
 * ...) and the first failure sticks, as in buf_t, so a caller binds a
 * whole row and checks once, when it steps. */
typedef struct {
    sqlite3_stmt *st;
    int nbound;
    int rc;
} stmt;

/* Starts running the statement cached in *slot, preparing it from sql on
 * first use. Each file wraps this with its own table of statements. */
static inline err_code stmt_prepare(store_conn *c, sqlite3_stmt **slot, const char *sql, stmt *s,
                                    err_t *err)
{
    s->st = NULL;
    s->nbound = 0;
    s->rc = SQLITE_OK;
    if (*slot == NULL) {
        int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
        if (rc != SQLITE_OK)
            return db_fail(c, rc, "prepare", err);
    }
    s->st = *slot;
    return ERR_OK;
}

/* Resets the statement at once: one left mid-way holds its read snapshot
 * open, which keeps WAL checkpoints from completing. Bindings are cleared
 * so no bound value (possibly sealed bytes) outlives the call. */
static inline void stmt_end(stmt *s)
{
    if (s->st == NULL)
        return;
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    s->st = NULL;
}

/* SQLITE_ROW, SQLITE_DONE, or an error (a binding's first). */
static inline int stmt_step(stmt *s)
{
    if (s->rc != SQLITE_OK)
        return s->rc;
    return sqlite3_step(s->st);
}

/* Runs a statement that returns no rows, and ends it. */
static inline err_code stmt_exec(store_conn *c, stmt *s, const char *what, err_t *err)
{
    int rc = stmt_step(s);
    err_code ec = rc == SQLITE_DONE ? ERR_OK : db_fail(c, rc, what, err);
    stmt_end(s);
    return ec;
}

/* stmt_exec for an INSERT: *id is the new row's id. */
static inline err_code stmt_insert(store_conn *c, stmt *s, const char *what, int64_t *id,
                                   err_t *err)
{
    err_code ec = stmt_exec(c, s, what, err);
    if (ec == ERR_OK)
        *id = sqlite3_last_insert_rowid(c->db);
    return ec;
}

/* stmt_exec for an UPDATE or DELETE: *changed is how many rows it changed. */
static inline err_code stmt_exec_count(store_conn *c, stmt *s, const char *what, size_t *changed,
                                       err_t *err)
{
    err_code ec = stmt_exec(c, s, what, err);
    if (ec == ERR_OK)
        *changed = (size_t)sqlite3_changes64(c->db);
    return ec;
}

/* stmt_exec for a change to one row: changing none is ERR_NOT_FOUND,
 * with the message missing. */
static inline err_code stmt_exec_found(store_conn *c, stmt *s, const char *what,
                                       const char *missing, err_t *err)
{
    size_t changed = 0;
    err_code ec = stmt_exec_count(c, s, what, &changed, err);
    if (ec == ERR_OK && changed == 0)
        ec = err_set(err, ERR_NOT_FOUND, "%s", missing);
    return ec;
}

/* Runs a statement that yields one integer (COUNT, EXISTS), and ends it. */
static inline err_code stmt_int(store_conn *c, stmt *s, const char *what, int64_t *out, err_t *err)
{
    int rc = stmt_step(s);
    err_code ec = ERR_OK;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s->st, 0);
    else
        ec = db_fail(c, rc, what, err);
    stmt_end(s);
    return ec;
}

static inline void bind_i64(stmt *s, int64_t v)
{
    if (s->rc == SQLITE_OK)
        s->rc = sqlite3_bind_int64(s->st, ++s->nbound, v);
}

static inline void bind_f64(stmt *s, double v)
{
    if (s->rc == SQLITE_OK)
        s->rc = sqlite3_bind_double(s->st, ++s->nbound, v);
}

static inline void bind_null(stmt *s)
{
    if (s->rc == SQLITE_OK)
        s->rc = sqlite3_bind_null(s->st, ++s->nbound);
}

/* NULL binds NULL. The text must live until the statement ends. */
static inline void bind_str(stmt *s, const char *v)
{
    if (v == NULL)
        bind_null(s);
    else if (s->rc == SQLITE_OK)
        s->rc = sqlite3_bind_text(s->st, ++s->nbound, v, -1, SQLITE_STATIC);
}

/* Text of a known length (it need not end in NUL). */
static inline void bind_str_n(stmt *s, const char *v, size_t n)
{
    if (s->rc == SQLITE_OK)
        s->rc = sqlite3_bind_text64(s->st, ++s->nbound, v, n, SQLITE_STATIC, SQLITE_UTF8);
}

/* A byte string, never NULL: n == 0 binds an empty one (SQLite would bind
 * NULL for a NULL pointer, which a NOT NULL column refuses). The bytes
 * must live until the statement ends. */
static inline void bind_blob(stmt *s, const void *p, size_t n)
{
    if (s->rc != SQLITE_OK)
        return;
    if (n == 0)
        s->rc = sqlite3_bind_zeroblob(s->st, ++s->nbound, 0);
    else
        s->rc = sqlite3_bind_blob64(s->st, ++s->nbound, p, n, SQLITE_STATIC);
}

static inline void bind_bool(stmt *s, bool v)
{
    bind_i64(s, v ? 1 : 0);
}

/* Times where 0 means "none" are stored as NULL. */
static inline void bind_opt_time(stmt *s, int64_t t)
{
    if (t == 0)
        bind_null(s);
    else
        bind_i64(s, t);
}

/* Ids where 0 means "none" are stored as NULL (a foreign key to nothing). */
static inline void bind_opt_id(stmt *s, int64_t id)
{
    bind_opt_time(s, id);
}

/* A LIMIT from a caller's size_t. */
static inline void bind_limit(stmt *s, size_t max)
{
    bind_i64(s, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
}

/* Reads a result row column by column, in order. Strings are copied into
 * pool, or point into the row (valid until the next step) when pool is
 * NULL. Failures stick: out of memory, a stored name core does not know,
 * or a value of the wrong size (a newer build wrote it, or the file was
 * edited by hand), which rd_done then reports. */
typedef struct {
    sqlite3_stmt *st;
    pool_t *pool;
    int col;
    bool oom;
    bool unknown;
    bool malformed;
} row;

static inline row row_start(sqlite3_stmt *st, pool_t *pool)
{
    return (row){st, pool, 0, false, false, false};
}

/* Text and its length in bytes (len may be NULL). */
static inline const char *rd_str_n(row *r, size_t *len)
{
    int col = r->col++;
    if (len != NULL)
        *len = 0;
    if (sqlite3_column_type(r->st, col) == SQLITE_NULL)
        return NULL;
    const char *t = (const char *)sqlite3_column_text(r->st, col);
    if (t == NULL) {
        r->oom = true;
        return NULL;
    }
    size_t n = (size_t)sqlite3_column_bytes(r->st, col);
    if (len != NULL)
        *len = n;
    if (r->pool == NULL)
        return t;
    char *copy = pool_strndup(r->pool, t, n);
    if (copy == NULL)
        r->oom = true;
    return copy;
}

static inline const char *rd_str(row *r)
{
    return rd_str_n(r, NULL);
}

/* A name to parse: never copied. NULL for SQL NULL. */
static inline const char *rd_name(row *r)
{
    pool_t *pool = r->pool;
    r->pool = NULL;
    const char *s = rd_str(r);
    r->pool = pool;
    return s;
}

/* A byte string copied into the pool (which must be set): NULL for SQL
 * NULL, else a valid pointer even for no bytes. */
static inline const unsigned char *rd_blob(row *r, size_t *len)
{
    int col = r->col++;
    *len = 0;
    if (sqlite3_column_type(r->st, col) == SQLITE_NULL)
        return NULL;
    const void *p = sqlite3_column_blob(r->st, col); /* before _bytes, as SQLite asks */
    size_t n = (size_t)sqlite3_column_bytes(r->st, col);
    if (p == NULL && n > 0) {
        r->oom = true;
        return NULL;
    }
    unsigned char *copy = pool_alloc(r->pool, n > 0 ? n : 1);
    if (copy == NULL) {
        r->oom = true;
        return NULL;
    }
    if (n > 0)
        memcpy(copy, p, n);
    *len = n;
    return copy;
}

static inline int64_t rd_i64(row *r)
{
    return sqlite3_column_int64(r->st, r->col++);
}

static inline double rd_f64(row *r)
{
    return sqlite3_column_double(r->st, r->col++);
}

static inline bool rd_bool(row *r)
{
    return rd_i64(r) != 0;
}

/* NULL reads as 0 ("none"). */
static inline int64_t rd_opt_time(row *r)
{
    return rd_i64(r);
}

/* NULL reads as 0 ("none"). */
static inline int64_t rd_opt_id(row *r)
{
    return rd_i64(r);
}

/* Copies a fixed-size column; a stored value of another length is a
 * broken row, not something to truncate or pad. */
static inline void rd_fixed(row *r, unsigned char *out, size_t len)
{
    int col = r->col++;
    const void *p = sqlite3_column_blob(r->st, col); /* before _bytes, as SQLite asks */
    if ((size_t)sqlite3_column_bytes(r->st, col) != len || p == NULL) {
        r->malformed = true;
        memset(out, 0, len);
        return;
    }
    memcpy(out, p, len);
}

static inline err_code rd_done(const row *r, const char *table, err_t *err)
{
    if (r->oom)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (r->unknown)
        return err_set(err, ERR_IO, "%s holds a name this build does not know", table);
    if (r->malformed)
        return err_set(err, ERR_IO, "%s holds a malformed row", table);
    return ERR_OK;
}

/* ---- running a query to its end ---- */

/* Reads one result row into item (a struct, or one element of a list). */
typedef void (*row_reader)(row *r, void *item);

/* Takes one result row: reads what it needs from r, checks rd_done, and
 * returns an error to stop at this row. */
typedef err_code (*row_visitor)(row *r, void *ctx, err_t *err);

/* Reads a row of a single id (or count). */
static inline void read_id(row *r, void *item)
{
    *(int64_t *)item = rd_i64(r);
}

/* Runs a query that yields at most one row, and ends it: reads the row
 * into item with read (strings into pool), or fails ERR_NOT_FOUND with the
 * message missing. A NULL read only checks that the row is there. */
static inline err_code stmt_one(store_conn *c, stmt *s, const char *table, row_reader read,
                                void *item, pool_t *pool, const char *missing, err_t *err)
{
    err_code ec;
    int rc = stmt_step(s);
    if (rc == SQLITE_ROW) {
        row r = row_start(s->st, pool);
        if (read != NULL)
            read(&r, item);
        ec = rd_done(&r, table, err);
    } else if (rc == SQLITE_DONE) {
        ec = err_set(err, ERR_NOT_FOUND, "%s", missing);
    } else {
        ec = db_fail(c, rc, table, err);
    }
    stmt_end(s);
    return ec;
}

/* Runs a query, handing each row (strings into pool) to visit until it
 * fails, and ends it. */
static inline err_code stmt_each(store_conn *c, stmt *s, const char *what, pool_t *pool,
                                 row_visitor visit, void *ctx, err_t *err)
{
    err_code ec = ERR_OK;
    for (;;) {
        int rc = stmt_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            ec = db_fail(c, rc, what, err);
            break;
        }
        row r = row_start(s->st, pool);
        ec = visit(&r, ctx, err);
        if (ec != ERR_OK)
            break;
    }
    stmt_end(s);
    return ec;
}

/* rows_collect's list being built, as stmt_each's ctx. */
typedef struct {
    const char *table;
    row_reader read;
    size_t size;
    pool_t *pool;
    unsigned char *list;
    size_t n, cap;
} row_list;

/* Appends one row to a row_list. */
static inline err_code row_list_add(row *r, void *ctx, err_t *err)
{
    row_list *l = ctx;
    unsigned char *nl = pool_grow(l->pool, l->list, l->n, &l->cap, l->size);
    if (nl == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    l->list = nl;
    l->read(r, nl + l->n * l->size);
    l->n++;
    return rd_done(r, l->table, err);
}

/* Runs a query, reading each row with read into a list of items of size
 * bytes from pool, and ends it. *out is the list (NULL when empty). */
static inline err_code rows_collect(store_conn *c, stmt *s, const char *table, row_reader read,
                                    size_t size, pool_t *pool, void **out, size_t *count,
                                    err_t *err)
{
    row_list l = {.table = table, .read = read, .size = size, .pool = pool};
    err_code ec = stmt_each(c, s, table, pool, row_list_add, &l, err);
    if (ec == ERR_OK) {
        *out = l.list;
        *count = l.n;
    }
    return ec;
}

/* ---- sqlite_privacy.c: the privacy engine's storage and maintenance ----
 * Named sqp_ and referenced only by store_sqlite_backend in sqlite.c. */

/* Keeping the audit head across a transaction's life, from sqlite.c:
 * after BEGIN; before COMMIT (writes the head if it moved); after a
 * ROLLBACK; before a SAVEPOINT; after its RELEASE or ROLLBACK TO. */
void sqp_txn_begun(store_conn *c);
err_code sqp_txn_precommit(store_conn *c, err_t *err);
void sqp_txn_rolled_back(store_conn *c);
void sqp_txn_unsure(store_conn *c); /* a step failed half-way: the head may be off */
err_code sqp_savepoint_pre(store_conn *c, err_t *err);
void sqp_savepoint_released(store_conn *c);
void sqp_savepoint_rolled_back(store_conn *c);

err_code sqp_compact(store_conn *c, err_t *err);
err_code sqp_backup(store_conn *c, const char *path, err_t *err);

err_code sqp_subject_reserve(store_conn *c, int64_t *id_out, err_t *err);
err_code sqp_subject_insert(store_conn *c, const store_subject *sub, err_t *err);
err_code sqp_subject_set_key(store_conn *c, int64_t id, int key_version, int kek_version,
                             const unsigned char *wrapped, size_t wrapped_len, err_t *err);
err_code sqp_subject_get(store_conn *c, int64_t id, pool_t *pool, store_subject *out, err_t *err);
err_code sqp_subject_list_keyed(store_conn *c, int64_t after_id, size_t max, pool_t *pool,
                                store_subject **out, size_t *count, err_t *err);
err_code sqp_subject_count_kek(store_conn *c, int kek_version, int64_t *count, err_t *err);
err_code sqp_subject_erase(store_conn *c, int64_t id, int64_t now, err_t *err);

err_code sqp_personal_insert(store_conn *c, const store_personal *p, err_t *err);
err_code sqp_personal_list(store_conn *c, int64_t request_id, pool_t *pool, store_personal **out,
                           size_t *count, err_t *err);
err_code sqp_personal_erase(store_conn *c, int64_t request_id, unsigned class_mask, size_t *erased,
                            err_t *err);
err_code sqp_subject_usage(store_conn *c, int64_t subject_id, int64_t *count, err_t *err);

err_code sqp_blob_insert(store_conn *c, store_blob *b, err_t *err);
err_code sqp_blob_set_sealed(store_conn *c, int64_t id, const unsigned char *sealed,
                             size_t sealed_len, err_t *err);
err_code sqp_blob_get(store_conn *c, int64_t id, pool_t *pool, store_blob *out, err_t *err);
err_code sqp_blob_list(store_conn *c, int64_t request_id, pool_t *pool, store_blob **out,
                       size_t *count, err_t *err);
err_code sqp_blob_erase(store_conn *c, int64_t id, err_t *err);

err_code sqp_blind_insert(store_conn *c, const char *kind,
                          const unsigned char digest[STORE_DIGEST_LEN], int64_t request_id,
                          int64_t subject_id, err_t *err);
err_code sqp_blind_find(store_conn *c, const char *kind,
                        const unsigned char digest[STORE_DIGEST_LEN], size_t max, pool_t *pool,
                        int64_t **request_ids, size_t *count, err_t *err);
err_code sqp_blind_erase(store_conn *c, int64_t request_id, const char *kind, err_t *err);

err_code sqp_personal_due(store_conn *c, data_class dc, bool by_close, int64_t before, size_t max,
                          pool_t *pool, int64_t **request_ids, size_t *count, err_t *err);
err_code sqp_blob_attach(store_conn *c, int64_t id, int64_t subject_id, int64_t request_id,
                         err_t *err);
err_code sqp_blob_orphans(store_conn *c, int64_t before, size_t max, pool_t *pool,
                          int64_t **blob_ids, size_t *count, err_t *err);
err_code sqp_blob_due(store_conn *c, data_class dc, bool by_close, int64_t before, size_t max,
                      pool_t *pool, int64_t **blob_ids, size_t *count, err_t *err);

err_code sqp_hold_insert(store_conn *c, store_hold *h, err_t *err);
err_code sqp_hold_release(store_conn *c, int64_t id, const char *released_by, int64_t now,
                          err_t *err);
err_code sqp_hold_active(store_conn *c, int64_t request_id, int64_t subject_id, bool *held,
                         err_t *err);
err_code sqp_hold_list(store_conn *c, bool active_only, pool_t *pool, store_hold **out,
                       size_t *count, err_t *err);

err_code sqp_audit_head(store_conn *c, pool_t *pool, int64_t *size, const unsigned char **frontier,
                        size_t *frontier_len, err_t *err);
err_code sqp_audit_append(store_conn *c, const store_audit_row *e, const unsigned char *frontier,
                          size_t frontier_len, err_t *err);
err_code sqp_audit_entries(store_conn *c, int64_t after_seq, size_t max, pool_t *pool,
                           store_audit_row **out, size_t *count, err_t *err);
err_code sqp_audit_for_request(store_conn *c, int64_t request_id, pool_t *pool,
                               store_audit_row **out, size_t *count, err_t *err);
err_code sqp_checkpoint_insert(store_conn *c, const store_checkpoint *cp, err_t *err);
err_code sqp_checkpoint_list(store_conn *c, pool_t *pool, store_checkpoint **out, size_t *count,
                             err_t *err);
err_code sqp_checkpoint_latest(store_conn *c, store_checkpoint *out, err_t *err);

/* ---- sqlite_account.c: accounts and signed-in sessions ----
 * Named sqa_ and referenced only by store_sqlite_backend in sqlite.c. */

err_code sqa_account_insert(store_conn *c, store_account *a,
                            const unsigned char digest[STORE_DIGEST_LEN], err_t *err);
err_code sqa_account_set_sealed(store_conn *c, int64_t id, const unsigned char *sealed,
                                size_t sealed_len, err_t *err);
err_code sqa_account_get(store_conn *c, int64_t id, pool_t *pool, store_account *out, err_t *err);
err_code sqa_account_find(store_conn *c, const unsigned char digest[STORE_DIGEST_LEN],
                          pool_t *pool, store_account *out, err_t *err);
err_code sqa_account_set_password(store_conn *c, int64_t id, const char *password_hash,
                                  err_t *err);
err_code sqa_account_failed(store_conn *c, int64_t id, int64_t now, int64_t window,
                            int64_t *count, err_t *err);
err_code sqa_account_set_lock(store_conn *c, int64_t id, int64_t locked_until, err_t *err);
err_code sqa_account_delete(store_conn *c, int64_t id, int64_t now, err_t *err);
err_code sqa_session_insert(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                            const store_web_session *ws, err_t *err);
err_code sqa_session_get(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN], int64_t now,
                         store_web_session *out, err_t *err);
err_code sqa_session_touch(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                           int64_t now, int64_t expires_at, err_t *err);
err_code sqa_session_delete(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                            size_t *deleted, err_t *err);
err_code sqa_session_delete_account(store_conn *c, int64_t account_id, size_t *deleted,
                                    err_t *err);
err_code sqa_session_list(store_conn *c, int64_t account_id, int64_t now, size_t max,
                          pool_t *pool, store_web_session **out, size_t *count, err_t *err);
err_code sqa_session_purge(store_conn *c, int64_t now, size_t max, size_t *purged, err_t *err);
err_code sqa_subject_requests(store_conn *c, int64_t subject_id, size_t max, pool_t *pool,
                              int64_t **request_ids, size_t *count, err_t *err);

/* ---- sqlite.c: what its neighbours reuse ---- */

/* Reads a request row of REQUEST_COLS (sqlite.c) into a service_request. */
err_code sq_request_read(store_conn *c, int64_t id, pool_t *pool, service_request *out,
                         err_t *err);
/* The search statements' LRU cache (sqlite.c): the statement for this SQL
 * text, prepared on a miss. Owned by the cache; the caller only runs it. */
err_code sq_search_stmt(store_conn *c, const char *sql, sqlite3_stmt **out, err_t *err);

/* ---- sqlite_lifecycle.c: the lifecycle and the agency queue (issue 5) ----
 * Named sqlc_ and referenced only by sqlite.c. */

/* store_event_append's row updates for a transfer and a merge. */
err_code sqlc_transfer_apply(store_conn *c, const sr_event *ev, err_t *err);
err_code sqlc_merge_apply(store_conn *c, const sr_event *ev, err_t *err);

err_code sqlc_request_lock(store_conn *c, int64_t id, pool_t *pool, service_request *out,
                           int64_t *last_event, err_t *err);
err_code sqlc_queue_fetch(store_conn *c, const store_queue_query *q, const char *agency_code,
                          store_queue_part part, size_t limit, int64_t offset, pool_t *pool,
                          store_queue_row **out, size_t *count, err_t *err);
err_code sqlc_queue_count(store_conn *c, const store_queue_query *q, const char *agency_code,
                          store_queue_part part, int64_t *count, err_t *err);
/* ---- sqlite_disclosure.c: the disclosure register and the figures ----
 * Named sqd_ and referenced only by store_sqlite_backend in sqlite.c. */

err_code sqd_disclosure_insert(store_conn *c, store_disclosure *d, err_t *err);
err_code sqd_disclosure_get(store_conn *c, int64_t id, pool_t *pool, store_disclosure *out,
                            err_t *err);
err_code sqd_disclosure_list(store_conn *c, bool open_only, size_t max, pool_t *pool,
                             store_disclosure **out, size_t *count, err_t *err);
err_code sqd_disclosure_approve(store_conn *c, int64_t id, const char *by, const char *role,
                                int64_t now, err_t *err);
err_code sqd_disclosure_close(store_conn *c, int64_t id, const char *by, int64_t now, err_t *err);
err_code sqd_disclosure_export_insert(store_conn *c, store_disclosure_export *e, err_t *err);
err_code sqd_disclosure_exports(store_conn *c, int64_t order_id, pool_t *pool,
                                store_disclosure_export **out, size_t *count, err_t *err);
err_code sqd_stats_rows(store_conn *c, int64_t from, int64_t to, stats_row_fn fn, void *ctx,
                        err_t *err);
/* ---- sqlite_staff.c: staff accounts (issue 5), as in store.h ----
 * Named sqs_ and referenced only by store_sqlite_backend in sqlite.c. */
err_code sqs_staff_insert(store_conn *c, store_staff *st, err_t *err);
err_code sqs_staff_get(store_conn *c, int64_t id, pool_t *pool, store_staff *out, err_t *err);
err_code sqs_staff_find(store_conn *c, const char *login, pool_t *pool, store_staff *out,
                        err_t *err);
err_code sqs_staff_list(store_conn *c, pool_t *pool, store_staff **out, size_t *count, err_t *err);
err_code sqs_staff_set_password(store_conn *c, int64_t id, const char *password_hash, err_t *err);
err_code sqs_staff_set_totp(store_conn *c, int64_t id, const unsigned char *sealed, size_t len,
                            err_t *err);
err_code sqs_staff_use_step(store_conn *c, int64_t id, int64_t step, bool *used, err_t *err);
err_code sqs_staff_failed(store_conn *c, int64_t id, int64_t now, int64_t window, int64_t *count,
                          err_t *err);
err_code sqs_staff_set_lock(store_conn *c, int64_t id, int64_t locked_until, err_t *err);
err_code sqs_staff_set_disabled(store_conn *c, int64_t id, int64_t at, err_t *err);
err_code sqs_staff_agency_add(store_conn *c, int64_t id, const char *agency_code, err_t *err);
err_code sqs_staff_agencies(store_conn *c, int64_t id, pool_t *pool, const char ***codes,
                            size_t *count, err_t *err);
err_code sqs_staff_session_insert(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                  const store_staff_session *ss, err_t *err);
err_code sqs_staff_session_get(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                               int64_t now, store_staff_session *out, err_t *err);
err_code sqs_staff_session_touch(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                 int64_t now, int64_t expires_at, err_t *err);
err_code sqs_staff_session_delete(store_conn *c, const unsigned char id_hash[STORE_DIGEST_LEN],
                                  err_t *err);
err_code sqs_staff_session_delete_staff(store_conn *c, int64_t staff_id, err_t *err);
err_code sqs_staff_session_purge(store_conn *c, int64_t now, size_t max, err_t *err);
/* ---- sqlite_notify.c: followers, webhooks, the outbox (issue 5, W6) ----
 * Named sqn_ and referenced only by store_sqlite_backend in sqlite.c. */

err_code sqn_follow_add(store_conn *c, int64_t request_id, int64_t subject_id,
                        int64_t contact_request_id, int64_t now, err_t *err);
err_code sqn_follow_move(store_conn *c, int64_t from_request, int64_t to_request, size_t *moved,
                         err_t *err);
err_code sqn_follow_get(store_conn *c, int64_t request_id, int64_t subject_id,
                        int64_t *contact_request_id, err_t *err);
err_code sqn_follow_count(store_conn *c, int64_t request_id, int64_t *count, err_t *err);
err_code sqn_follow_erase_contact(store_conn *c, int64_t contact_request_id, size_t *erased,
                                  err_t *err);
err_code sqn_webhook_insert(store_conn *c, store_webhook *w, err_t *err);
err_code sqn_webhook_get(store_conn *c, int64_t id, pool_t *pool, store_webhook *out, err_t *err);
err_code sqn_webhook_list(store_conn *c, pool_t *pool, store_webhook **out, size_t *count,
                          err_t *err);
err_code sqn_webhook_disable(store_conn *c, int64_t id, int64_t now, err_t *err);
err_code sqn_outbox_enqueue(store_conn *c, const sr_event *ev, int64_t now, size_t *queued,
                            err_t *err);
err_code sqn_outbox_claim(store_conn *c, int64_t now, int64_t lease, size_t max, pool_t *pool,
                          store_outbox **out, size_t *count, err_t *err);
err_code sqn_outbox_sent(store_conn *c, int64_t id, int64_t now, err_t *err);
err_code sqn_outbox_failed(store_conn *c, int64_t id, int64_t retry_at, const char *error,
                           err_t *err);
err_code sqn_outbox_list(store_conn *c, const outbox_status *status_filter, int64_t after_id,
                         size_t max, pool_t *pool, store_outbox **out, size_t *count, err_t *err);
err_code sqn_outbox_retry(store_conn *c, int64_t id, int64_t now, size_t *retried, err_t *err);
err_code sqn_follow_contact(store_conn *c, int64_t subject_id, int64_t request_id,
                            int64_t *contact_request_id, err_t *err);
err_code sqn_outbox_get(store_conn *c, int64_t id, pool_t *pool, store_outbox *out, err_t *err);

#endif
