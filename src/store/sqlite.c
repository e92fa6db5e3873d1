/*
 * sqlite.c - the SQLite backend of store.h: opening, schema, transactions,
 * the catalog, api keys, requests and their history. The privacy engine's
 * storage and the maintenance that serves it (compact, backup) are in
 * sqlite_privacy.c; what the two share is in sqlite_int.h. Those three are
 * the only files of the program that include sqlite3.h.
 *
 * One store_conn is one sqlite3 connection, opened with SQLITE_OPEN_NOMUTEX
 * because it is used by one thread at a time (store.h's contract), so
 * SQLite's per-connection mutex would be pure cost. Connections run in WAL
 * mode, so readers never block the writer or each other, with
 * synchronous=FULL: a commit returns once the WAL is fsynced (Q1).
 *
 * Statements are prepared once per connection and kept: the fixed ones in
 * an array indexed by stmt_id, the searches (whose text depends on which
 * filters a query uses) in a small LRU cache keyed by their SQL text.
 * Every statement is reset as soon as its caller is done with it: one left
 * mid-way holds its read snapshot open, which keeps WAL checkpoints from
 * completing and the WAL file from shrinking.
 *
 * Values from requests are always bound as parameters, never spliced into
 * SQL. Error messages carry SQLite's message, which names tables and
 * columns but never a bound value. Nothing here reads or writes personal
 * data: store_request_insert ignores sr->reporter, whose fields the privacy
 * engine seals and stores itself (sqlite_privacy.c).
 *
 * store.c has checked every argument before a function here runs.
 */
#include "store/sqlite.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/geo.h"
#include "store/schema.h"
#include "store/sqlite_int.h"
#include "store/store_backend.h"
#include "util/buf.h"

#define SQ_BUSY_TIMEOUT_MS 5000
#define SQ_STATUS_ALL ((1u << SR_STATUS_COUNT) - 1)

/* ---- the fixed statements ---- */

typedef enum {
    ST_BEGIN,
    ST_BEGIN_READ,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_VERSION_TABLE,
    ST_VERSION_GET,
    ST_VERSION_PUT,
    ST_AGENCY_PUT,
    ST_SERVICE_PUT,
    ST_VALUES_DELETE,
    ST_ATTRS_DELETE,
    ST_ATTR_INSERT,
    ST_VALUE_INSERT,
    ST_AGENCIES_LOAD,
    ST_SERVICES_LOAD,
    ST_ATTRS_LOAD,
    ST_VALUES_LOAD,
    ST_APIKEY_INSERT,
    ST_APIKEY_FIND,
    ST_REQUEST_INSERT,
    ST_ANSWER_INSERT,
    ST_EVENT_INSERT,
    ST_REQUEST_GET,
    ST_REQUEST_VISIBLE,
    ST_ANSWERS,
    ST_TOKEN_FIND,
    ST_BATCH_PUBLISH,
    ST_STATUS_UPDATE,
    ST_NOTE_UPDATE,
    ST_EVENTS_LIST,
    ST_UPDATES,
    ST_REQUEST_COUNT,
    ST_PAGE_VIEWS_ADD,
    ST_PAGE_VIEWS_LIST,
    ST_SEND_FIND,
    ST_SEND_INSERT,
    ST_SEND_PURGE,
    ST_N
} stmt_id;

/* The columns every read of a request returns, in read_request's order. */
#define REQUEST_COLS                                                                               \
    "id, token, service_code, status, resolution, status_notes, agency_code, "                     \
    "service_notice, requested_at, updated_at, expected_at, closed_at, has_location, lat, "        \
    "lon, address, address_id, zipcode, description, media_url, channel, api_key_id, merged_into, "  \
    "district"

/* The columns of an event, in read_event's order. */
#define EVENT_COLS                                                                                 \
    "e.id, e.request_id, e.at, e.kind, e.status, e.resolution, e.note, e.public, e.actor, "       \
    "e.from_agency, e.to_agency, e.merged_into"

static const char *const STMT_SQL[ST_N] = {
    /* BEGIN IMMEDIATE takes the write lock up front: a deferred transaction
     * that reads and then writes can fail with SQLITE_BUSY_SNAPSHOT, which
     * the busy timeout does not retry. */
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT job",
    [ST_RELEASE] = "RELEASE job",
    [ST_ROLLBACK_TO] = "ROLLBACK TO job",

    [ST_VERSION_TABLE] = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' "
                         "AND name = 'schema_version')",
    [ST_VERSION_GET] = "SELECT COALESCE(MAX(version), 0) FROM schema_version",
    [ST_VERSION_PUT] = "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",

    [ST_AGENCY_PUT] = "INSERT INTO agency (code, name) VALUES (?1, ?2) "
                      "ON CONFLICT (code) DO UPDATE SET name = excluded.name",
    /* A new service goes after the others; a replaced one keeps its place. */
    [ST_SERVICE_PUT] =
        "INSERT INTO service (code, name, description, type, keywords, grp, agency_code, "
        "service_notice, sla_seconds, position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "(SELECT COALESCE(MAX(position), 0) + 1 FROM service)) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
        "description = excluded.description, type = excluded.type, "
        "keywords = excluded.keywords, grp = excluded.grp, agency_code = excluded.agency_code, "
        "service_notice = excluded.service_notice, sla_seconds = excluded.sla_seconds",
    [ST_VALUES_DELETE] = "DELETE FROM attribute_value WHERE service_code = ?1",
    [ST_ATTRS_DELETE] = "DELETE FROM service_attribute WHERE service_code = ?1",
    [ST_ATTR_INSERT] = "INSERT INTO service_attribute (service_code, code, variable, datatype, "
                       "required, datatype_description, ord, description, position) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_VALUE_INSERT] = "INSERT INTO attribute_value (service_code, attribute_code, value_key, "
                        "name, position) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_AGENCIES_LOAD] = "SELECT code, name FROM agency ORDER BY code",
    [ST_SERVICES_LOAD] = "SELECT code, name, description, type, keywords, grp, agency_code, "
                         "service_notice, sla_seconds FROM service ORDER BY position, code",
    [ST_ATTRS_LOAD] = "SELECT code, variable, datatype, required, datatype_description, ord, "
                      "description FROM service_attribute WHERE service_code = ?1 "
                      "ORDER BY position, code",
    [ST_VALUES_LOAD] = "SELECT value_key, name FROM attribute_value WHERE service_code = ?1 "
                       "AND attribute_code = ?2 ORDER BY position, value_key",

    [ST_APIKEY_INSERT] = "INSERT INTO api_key (name, hash, created_at) VALUES (?1, ?2, ?3)",
    [ST_APIKEY_FIND] = "SELECT id FROM api_key WHERE hash = ?1 AND revoked_at IS NULL",

    [ST_REQUEST_INSERT] =
        "INSERT INTO request (token, pending, service_code, status, resolution, status_notes, "
        "agency_code, service_notice, requested_at, updated_at, expected_at, closed_at, "
        "has_location, lat, lon, address, address_id, zipcode, description, media_url, "
        "channel, api_key_id, district) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
        "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
    [ST_ANSWER_INSERT] = "INSERT INTO request_answer (request_id, position, code, value) "
                         "VALUES (?1, ?2, ?3, ?4)",
    [ST_EVENT_INSERT] = "INSERT INTO request_event (request_id, at, kind, status, resolution, "
                        "note, public, actor, from_agency, to_agency, merged_into) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",

    [ST_REQUEST_GET] = "SELECT " REQUEST_COLS " FROM request WHERE id = ?1 AND pending = 0",
    [ST_REQUEST_VISIBLE] = "SELECT 1 FROM request WHERE id = ?1 AND pending = 0",
    [ST_ANSWERS] = "SELECT code, value FROM request_answer WHERE request_id = ?1 "
                   "ORDER BY position",
    [ST_TOKEN_FIND] = "SELECT id, pending FROM request WHERE token = ?1",
    [ST_BATCH_PUBLISH] = "UPDATE request SET pending = 0, updated_at = MAX(updated_at, ?1) "
                         "WHERE id IN (SELECT id FROM request WHERE pending = 1 "
                         "ORDER BY id LIMIT ?2)",
    /* ?5 is the name of the closed status: closed_at is set when a request
     * becomes closed, kept while it stays closed, cleared when it is not;
     * so is merged_into (a reopened duplicate is nobody's duplicate). */
    [ST_STATUS_UPDATE] = "UPDATE request SET status = ?2, resolution = ?3, "
                         "updated_at = MAX(updated_at, ?4), "
                         "closed_at = CASE WHEN ?2 = ?5 THEN COALESCE(closed_at, ?4) END, "
                         "merged_into = CASE WHEN ?2 = ?5 THEN merged_into END, "
                         "status_notes = COALESCE(?6, status_notes) "
                         "WHERE id = ?1 AND pending = 0",
    [ST_NOTE_UPDATE] = "UPDATE request SET updated_at = MAX(updated_at, ?2), "
                       "status_notes = COALESCE(?3, status_notes) "
                       "WHERE id = ?1 AND pending = 0 RETURNING status, resolution",
    [ST_EVENTS_LIST] = "SELECT " EVENT_COLS " FROM request_event e WHERE e.request_id = ?1 "
                       "AND (?2 = 0 OR e.public = 1 OR e.kind <> 'note') ORDER BY e.id",
    [ST_UPDATES] = "SELECT " EVENT_COLS " FROM request_event e "
                   "JOIN request r ON r.id = e.request_id "
                   "WHERE e.at BETWEEN ?1 AND ?2 AND e.kind <> ?3 "
                   "AND (e.public = 1 OR e.kind <> 'note') "
                   "AND r.pending = 0 ORDER BY e.id LIMIT ?4 OFFSET ?5",
    [ST_REQUEST_COUNT] = "SELECT COUNT(*) FROM request WHERE pending = 0",
    /* SQLite 3.24+ and PostgreSQL alike. */
    [ST_PAGE_VIEWS_ADD] = "INSERT INTO page_view (day, page, views) VALUES (?1, ?2, ?3) "
                          "ON CONFLICT (day, page) DO UPDATE SET views = views + excluded.views",
    [ST_PAGE_VIEWS_LIST] = "SELECT day, page, views FROM page_view WHERE day >= ?1 "
                           "ORDER BY day, page",
    [ST_SEND_FIND] = "SELECT request_id FROM web_send WHERE key_hash = ?1",
    [ST_SEND_INSERT] = "INSERT INTO web_send (key_hash, request_id, created_at) VALUES (?1, ?2, ?3)",
    [ST_SEND_PURGE] = "DELETE FROM web_send WHERE created_at <= ?1",
};

/* The fixed statements run through the helpers of sqlite_int.h. */
_Static_assert(ST_N <= SQ_STMT_SLOTS, "raise SQ_STMT_SLOTS in sqlite_int.h");

static err_code stmt_get(store_conn *c, stmt_id id, stmt *s, err_t *err)
{
    return stmt_prepare(c, &c->stmt[id], STMT_SQL[id], s, err);
}

/* Runs a fixed statement without parameters. */
static err_code run(store_conn *c, stmt_id id, const char *what, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, id, &s, err);
    if (ec != ERR_OK)
        return ec;
    return stmt_exec(c, &s, what, err);
}

static void bind_resolution(stmt *s, sr_resolution r)
{
    bind_str(s, r == SR_RES_NONE ? NULL : sr_resolution_name(r));
}

static sr_status rd_status(row *r)
{
    sr_status v = SR_OPEN;
    if (!sr_status_parse(rd_name(r), &v))
        r->unknown = true;
    return v;
}

static sr_resolution rd_resolution(row *r)
{
    sr_resolution v = SR_RES_NONE;
    const char *s = rd_name(r);
    if (s != NULL && !sr_resolution_parse(s, &v))
        r->unknown = true;
    return v;
}

/* ---- opening and closing ---- */

/* DISTANCE(lat1, lon1, lat2, lon2) in metres; NULL if any is NULL. The
 * formula is core's, so SQL and srq_matches() agree to the last bit. */
static void sq_distance(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double v[4];
    (void)argc; /* registered with exactly four */
    for (int i = 0; i < 4; i++) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
            sqlite3_result_null(ctx);
            return;
        }
        v[i] = sqlite3_value_double(argv[i]);
    }
    sqlite3_result_double(ctx, geo_distance_m(v[0], v[1], v[2], v[3]));
}

static err_code exec_sql(store_conn *c, const char *sql, const char *what, err_t *err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? ERR_OK : db_fail(c, rc, what, err);
}

static err_code sq_configure(store_conn *c, bool sync, err_t *err)
{
    int rc = sqlite3_extended_result_codes(c->db, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(c->db, SQ_BUSY_TIMEOUT_MS);
    /* Defensive mode and no double-quoted string literals: a typo in our
     * SQL fails loudly instead of silently comparing with a string. */
    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(c->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(c->db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(c->db, STORE_SQLITE_DISTANCE_FN, 4,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                        sq_distance, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, "configure", err);

    err_code ec = exec_sql(c, "PRAGMA foreign_keys = ON", "foreign_keys", err);
    /* Erasure must be real (P6): with secure_delete SQLite overwrites
     * deleted rows, and pages it frees, with zeros, instead of leaving the
     * old bytes in free space where a copy of the file would still carry
     * them. It is a per-connection setting, so every connection sets it;
     * store_compact then moves the zeroed pages out of the WAL. */
    if (ec == ERR_OK)
        ec = exec_sql(c, "PRAGMA secure_delete = ON", "secure_delete", err);
    /* Statement and savepoint journals (the group-commit writer opens a
     * savepoint per job) go to memory, not to temporary files: SQLite
     * would otherwise copy every page a job changes into a deleted file
     * under /var/tmp, which costs a write call per page and leaves copies
     * of sealed pages outside the data directory, where store_compact
     * never reaches them. A journal holds at most one job's pages. */
    if (ec == ERR_OK)
        ec = exec_sql(c, "PRAGMA temp_store = MEMORY", "temp_store", err);
    /* WAL is a property of the file: the writer sets it once, readers
     * (who could not) just find it. */
    if (ec == ERR_OK && !c->read_only)
        ec = exec_sql(c, "PRAGMA journal_mode = WAL", "journal_mode", err);
    /* Checkpoint the WAL every 10,000 pages (about 40 MB) rather than
     * SQLite's 1,000. Keyed hashes (the blind indexes) land on random
     * index pages; between two checkpoints such a page is appended to the
     * WAL at each commit that touches it but written home only once per
     * checkpoint, so a longer interval writes each hot page home less
     * often. Measured: durable POST with a reporter from ~0.54 to ~0.8 of
     * the foundation, which itself gains ~3% (docs/BENCHMARKS.md).
     * Erasures do not wait for it: store_compact checkpoints and truncates
     * the WAL at once. */
    if (ec == ERR_OK && !c->read_only)
        ec = exec_sql(c, "PRAGMA wal_autocheckpoint = 10000", "wal_autocheckpoint", err);
    if (ec == ERR_OK)
        ec = exec_sql(c, sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF",
                      "synchronous", err);
    return ec;
}

static void sq_close(store_conn *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < SQ_STMT_SLOTS; i++)
        sqlite3_finalize(c->stmt[i]);
    for (int i = 0; i < SQ_PRIVACY_STMT_SLOTS; i++)
        sqlite3_finalize(c->privacy_stmt[i]);
    for (int i = 0; i < SQ_ACCOUNT_STMT_SLOTS; i++)
        sqlite3_finalize(c->account_stmt[i]);
    for (int i = 0; i < SQ_LIFECYCLE_STMT_SLOTS; i++)
        sqlite3_finalize(c->lifecycle_stmt[i]);
    for (int i = 0; i < SQ_DISCLOSURE_STMT_SLOTS; i++)
        sqlite3_finalize(c->disclosure_stmt[i]);
    for (int i = 0; i < SQ_STAFF_STMT_SLOTS; i++)
        sqlite3_finalize(c->staff_stmt[i]);
    for (int i = 0; i < SQ_NOTIFY_STMT_SLOTS; i++)
        sqlite3_finalize(c->notify_stmt[i]);
    for (int i = 0; i < SQ_SEARCH_SLOTS; i++) {
        sqlite3_finalize(c->search[i].st);
        free(c->search[i].sql);
    }
    /* Rolls back an open transaction. Every statement is finalized, so
     * the connection closes now rather than lingering as a zombie. */
    sqlite3_close_v2(c->db);
    free(c);
}

static err_code sq_open(const char *location, const store_options *opt, store_conn **out,
                        err_t *err)
{
    store_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    c->read_only = opt->read_only;
    c->data_version = -1;
    int flags = SQLITE_OPEN_NOMUTEX;
    flags |= opt->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

    err_code ec;
    int rc = sqlite3_open_v2(location, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        ec = c->db != NULL ? db_fail(c, rc, "cannot open the database", err)
                           : err_set(err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    ec = sq_configure(c, opt->sync, err);
    if (ec != ERR_OK)
        goto fail;
    *out = c;
    return ERR_OK;

fail:
    sq_close(c);
    return ec;
}

/* ---- transactions ---- */

/* Each step tells sqlite_privacy.c (sqp_txn_*, sqp_savepoint_*), which
 * keeps the audit log's head for the transaction and writes it at COMMIT. */

static err_code sq_begin(store_conn *c, err_t *err)
{
    err_code ec = run(c, c->read_only ? ST_BEGIN_READ : ST_BEGIN, "begin", err);
    if (ec == ERR_OK)
        sqp_txn_begun(c);
    return ec;
}

static err_code sq_commit(store_conn *c, err_t *err)
{
    err_code ec = sqp_txn_precommit(c, err);
    return ec == ERR_OK ? run(c, ST_COMMIT, "commit", err) : ec;
}

static void sq_rollback(store_conn *c)
{
    /* After some errors (a full disk, an I/O error) SQLite has already
     * rolled back; a second ROLLBACK would only fail. */
    if (!sqlite3_get_autocommit(c->db))
        (void)run(c, ST_ROLLBACK, "rollback", NULL);
    sqp_txn_rolled_back(c);
}

static err_code sq_savepoint(store_conn *c, err_t *err)
{
    /* Outside a transaction SAVEPOINT starts one and RELEASE commits it,
     * so a job would become durable on its own, before its batch. */
    if (sqlite3_get_autocommit(c->db))
        return err_set(err, ERR_INTERNAL, "a savepoint needs a transaction");
    err_code ec = sqp_savepoint_pre(c, err);
    if (ec != ERR_OK)
        return ec;
    ec = run(c, ST_SAVEPOINT, "savepoint", err);
    if (ec != ERR_OK) /* no savepoint opened: the state saved for it goes */
        sqp_savepoint_released(c);
    return ec;
}

static err_code sq_release(store_conn *c, err_t *err)
{
    if (sqlite3_get_autocommit(c->db)) {
        sqp_txn_rolled_back(c);
        return err_set(err, ERR_IO, "release: the transaction was rolled back");
    }
    err_code ec = run(c, ST_RELEASE, "release", err);
    if (ec == ERR_OK)
        sqp_savepoint_released(c);
    else
        sqp_txn_unsure(c);
    return ec;
}

static void sq_rollback_to(store_conn *c)
{
    /* ROLLBACK TO keeps the savepoint open; RELEASE then closes it, so
     * the caller's scopes stay balanced either way. */
    if (sqlite3_get_autocommit(c->db)) {
        sqp_txn_rolled_back(c);
        return;
    }
    if (run(c, ST_ROLLBACK_TO, "rollback to", NULL) != ERR_OK) {
        sqp_txn_unsure(c);
        (void)run(c, ST_RELEASE, "release", NULL);
        return;
    }
    sqp_savepoint_rolled_back(c);
    (void)run(c, ST_RELEASE, "release", NULL);
}

/* ---- schema ---- */

static err_code sq_schema_version(store_conn *c, int *version, err_t *err)
{
    stmt s;
    int64_t exists = 0, v = 0;
    err_code ec = stmt_get(c, ST_VERSION_TABLE, &s, err);
    if (ec != ERR_OK)
        return ec;
    ec = stmt_int(c, &s, "schema_version", &exists, err);
    if (ec != ERR_OK || !exists) {
        *version = 0;
        return ec;
    }

    ec = stmt_get(c, ST_VERSION_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    ec = stmt_int(c, &s, "schema_version", &v, err);
    if (ec == ERR_OK)
        *version = (int)v;
    return ec;
}

static err_code sq_apply_migration(store_conn *c, const schema_migration *m, err_t *err)
{
    err_code ec = exec_sql(c, m->sql[SCHEMA_SQLITE], "schema migration", err);
    if (ec != ERR_OK)
        return ec;
    stmt s;
    ec = stmt_get(c, ST_VERSION_PUT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, m->version);
    bind_i64(&s, (int64_t)time(NULL));
    return stmt_exec(c, &s, "schema_version", err);
}

static err_code sq_migrate(store_conn *c, err_t *err)
{
    if (c->read_only)
        return err_set(err, ERR_INVALID, "a read-only store cannot be migrated");
    /* One immediate transaction: two processes migrating at once take
     * turns, and the second finds nothing left to do. */
    err_code ec = sq_begin(c, err);
    if (ec != ERR_OK)
        return ec;
    ec = exec_sql(c, SCHEMA_VERSION_TABLE_SQL, "schema_version", err);
    int have = 0;
    if (ec == ERR_OK)
        ec = sq_schema_version(c, &have, err);
    if (ec == ERR_OK && have > schema_latest())
        ec = err_set(err, ERR_CONFLICT,
                     "the database is at schema version %d, newer than this build's %d", have,
                     schema_latest());
    for (size_t i = 0; ec == ERR_OK && i < SCHEMA_MIGRATION_COUNT; i++)
        if (SCHEMA_MIGRATIONS[i].version > have)
            ec = sq_apply_migration(c, &SCHEMA_MIGRATIONS[i], err);
    if (ec == ERR_OK)
        ec = sq_commit(c, err);
    if (ec != ERR_OK)
        sq_rollback(c);
    return ec;
}

/* ---- catalog ---- */

static err_code sq_agency_put(store_conn *c, const agency *a, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_AGENCY_PUT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, a->code);
    bind_str(&s, a->name);
    return stmt_exec(c, &s, "agency", err);
}

static err_code sq_service_row_put(store_conn *c, const service *sv, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_SERVICE_PUT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, sv->code);
    bind_str(&s, sv->name);
    bind_str(&s, sv->description);
    bind_str(&s, service_type_name(sv->type));
    bind_str(&s, sv->keywords);
    bind_str(&s, sv->group);
    bind_str(&s, sv->agency_code);
    bind_str(&s, sv->service_notice);
    bind_i64(&s, sv->sla_seconds);
    return stmt_exec(c, &s, "service", err);
}

static err_code sq_delete_by_service(store_conn *c, stmt_id id, const char *code, const char *what,
                                     err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, id, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, code);
    return stmt_exec(c, &s, what, err);
}

static err_code sq_attr_put(store_conn *c, const char *service_code, const attribute *a,
                            size_t position, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_ATTR_INSERT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, service_code);
    bind_str(&s, a->code);
    bind_bool(&s, a->variable);
    bind_str(&s, attr_type_name(a->datatype));
    bind_bool(&s, a->required);
    bind_str(&s, a->datatype_description);
    bind_i64(&s, a->order);
    bind_str(&s, a->description);
    bind_i64(&s, (int64_t)position);
    ec = stmt_exec(c, &s, "service_attribute", err);

    for (size_t k = 0; ec == ERR_OK && k < a->nvalues; k++) {
        ec = stmt_get(c, ST_VALUE_INSERT, &s, err);
        if (ec != ERR_OK)
            break;
        bind_str(&s, service_code);
        bind_str(&s, a->code);
        bind_str(&s, a->values[k].key);
        bind_str(&s, a->values[k].name);
        bind_i64(&s, (int64_t)k);
        ec = stmt_exec(c, &s, "attribute_value", err);
    }
    return ec;
}

/* A service's questions are replaced as a whole: the new definition is
 * the truth, and merging attribute by attribute would keep stale ones. */
static err_code sq_service_put(store_conn *c, const service *sv, err_t *err)
{
    err_code ec = sq_service_row_put(c, sv, err);
    if (ec == ERR_OK)
        ec = sq_delete_by_service(c, ST_VALUES_DELETE, sv->code, "attribute_value", err);
    if (ec == ERR_OK)
        ec = sq_delete_by_service(c, ST_ATTRS_DELETE, sv->code, "service_attribute", err);
    for (size_t i = 0; ec == ERR_OK && i < sv->nattrs; i++)
        ec = sq_attr_put(c, sv->code, &sv->attrs[i], i, err);
    return ec;
}

static err_code sq_catalog_put(store_conn *c, const catalog *cat, err_t *err)
{
    err_code ec = need_txn(c, "store_catalog_put", err);
    for (size_t i = 0; ec == ERR_OK && i < cat->nagencies; i++)
        ec = sq_agency_put(c, &cat->agencies[i], err);
    for (size_t i = 0; ec == ERR_OK && i < cat->nservices; i++)
        ec = sq_service_put(c, &cat->services[i], err);
    return ec;
}

static void read_agency(row *r, void *item)
{
    agency *a = item;
    memset(a, 0, sizeof *a);
    a->code = rd_str(r);
    a->name = rd_str(r);
}

static err_code sq_agencies_load(store_conn *c, catalog *cat, pool_t *scratch, err_t *err)
{
    stmt s;
    void *list = NULL;
    size_t n = 0;
    err_code ec = stmt_get(c, ST_AGENCIES_LOAD, &s, err);
    if (ec == ERR_OK)
        ec = rows_collect(c, &s, "agency", read_agency, sizeof(agency), scratch, &list, &n, err);
    const agency *agencies = list;
    for (size_t i = 0; ec == ERR_OK && i < n; i++)
        ec = catalog_add_agency(cat, &agencies[i], err);
    return ec;
}

static void read_value(row *r, void *item)
{
    attr_value *v = item;
    v->key = rd_str(r);
    v->name = rd_str(r);
}

static err_code sq_values_load(store_conn *c, const char *service_code, attribute *a,
                               pool_t *scratch, err_t *err)
{
    stmt s;
    void *list = NULL;
    err_code ec = stmt_get(c, ST_VALUES_LOAD, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, service_code);
    bind_str(&s, a->code);
    ec = rows_collect(c, &s, "attribute_value", read_value, sizeof *a->values, scratch, &list,
                      &a->nvalues, err);
    if (ec == ERR_OK)
        a->values = list;
    return ec;
}

static void read_attribute(row *r, void *item)
{
    attribute *a = item;
    memset(a, 0, sizeof *a);
    a->code = rd_str(r);
    a->variable = rd_bool(r);
    if (!attr_type_parse(rd_name(r), &a->datatype))
        r->unknown = true;
    a->required = rd_bool(r);
    a->datatype_description = rd_str(r);
    a->order = (int)rd_i64(r);
    a->description = rd_str(r);
}

/* The attributes first, then each one's values: one statement runs at a
 * time. */
static err_code sq_attrs_load(store_conn *c, service *sv, pool_t *scratch, err_t *err)
{
    stmt s;
    void *list = NULL;
    err_code ec = stmt_get(c, ST_ATTRS_LOAD, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, sv->code);
    ec = rows_collect(c, &s, "service_attribute", read_attribute, sizeof *sv->attrs, scratch, &list,
                      &sv->nattrs, err);
    if (ec == ERR_OK)
        sv->attrs = list;
    for (size_t i = 0; ec == ERR_OK && i < sv->nattrs; i++)
        ec = sq_values_load(c, sv->code, &sv->attrs[i], scratch, err);
    return ec;
}

static void read_service(row *r, void *item)
{
    service *sv = item;
    memset(sv, 0, sizeof *sv);
    sv->code = rd_str(r);
    sv->name = rd_str(r);
    sv->description = rd_str(r);
    if (!service_type_parse(rd_name(r), &sv->type))
        r->unknown = true;
    sv->keywords = rd_str(r);
    sv->group = rd_str(r);
    sv->agency_code = rd_str(r);
    sv->service_notice = rd_str(r);
    sv->sla_seconds = rd_i64(r);
}

static err_code sq_services_load(store_conn *c, catalog *cat, pool_t *scratch, err_t *err)
{
    stmt s;
    void *list = NULL;
    size_t n = 0;
    err_code ec = stmt_get(c, ST_SERVICES_LOAD, &s, err);
    if (ec == ERR_OK)
        ec = rows_collect(c, &s, "service", read_service, sizeof(service), scratch, &list, &n, err);
    service *services = list;
    for (size_t i = 0; ec == ERR_OK && i < n; i++) {
        ec = sq_attrs_load(c, &services[i], scratch, err);
        if (ec == ERR_OK)
            ec = catalog_add_service(cat, &services[i], err);
    }
    return ec;
}

/* Services are read into a scratch pool and copied into the catalog by
 * catalog_add_service, which checks them as it would an import. */
static err_code sq_catalog_load(store_conn *c, catalog **out, err_t *err)
{
    err_code ec;
    pool_t *scratch = pool_new();
    catalog *cat = catalog_new();
    if (scratch == NULL || cat == NULL) {
        ec = err_set(err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    ec = sq_agencies_load(c, cat, scratch, err);
    if (ec == ERR_OK)
        ec = sq_services_load(c, cat, scratch, err);
    if (ec != ERR_OK)
        goto fail;
    pool_free(scratch);
    *out = cat;
    return ERR_OK;

fail:
    pool_free(scratch);
    catalog_free(cat);
    return ec;
}

/* ---- api keys ---- */

static err_code sq_apikey_insert(store_conn *c, const char *name,
                                 const unsigned char hash[STORE_KEY_HASH_LEN], int64_t now,
                                 int64_t *id_out, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_APIKEY_INSERT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, name);
    bind_blob(&s, hash, STORE_KEY_HASH_LEN);
    bind_i64(&s, now);
    ec = stmt_insert(c, &s, "api_key", id_out, err);
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "an api key with this hash exists");
    return ec;
}

static err_code sq_apikey_find(store_conn *c, const unsigned char hash[STORE_KEY_HASH_LEN],
                               int64_t *id_out, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_APIKEY_FIND, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, hash, STORE_KEY_HASH_LEN);
    return stmt_one(c, &s, "api_key", read_id, id_out, NULL, "no active api key matches", err);
}

/* ---- writing a request ---- */

static err_code sq_request_row_put(store_conn *c, const service_request *sr, int64_t *id,
                                   err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_REQUEST_INSERT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, sr->token);
    bind_bool(&s, sr->token != NULL); /* batch requests wait to be published */
    bind_str(&s, sr->service_code);
    bind_str(&s, sr_status_name(sr->status));
    bind_resolution(&s, sr->resolution);
    bind_str(&s, sr->status_notes);
    bind_str(&s, sr->agency_code);
    bind_str(&s, sr->service_notice);
    bind_i64(&s, sr->requested_at);
    bind_i64(&s, sr->updated_at);
    bind_opt_time(&s, sr->expected_at);
    bind_opt_time(&s, sr->closed_at);
    bind_bool(&s, sr->has_location);
    if (sr->has_location) {
        bind_f64(&s, sr->lat);
        bind_f64(&s, sr->lon);
    } else {
        bind_null(&s);
        bind_null(&s);
    }
    bind_str(&s, sr->address);
    bind_str(&s, sr->address_id);
    bind_str(&s, sr->zipcode);
    bind_str(&s, sr->description);
    bind_str(&s, sr->media_url);
    bind_str(&s, sr_channel_name(sr->channel));
    if (sr->api_key_id > 0)
        bind_i64(&s, sr->api_key_id);
    else
        bind_null(&s);
    bind_str(&s, sr->district); /* W2, schema version 6 */
    return stmt_insert(c, &s, "request", id, err);
}

/* One row per value; position runs over all of the request's values so
 * they read back in the order given. */
static err_code sq_answers_put(store_conn *c, int64_t id, const service_request *sr, err_t *err)
{
    err_code ec = ERR_OK;
    int64_t position = 0;
    for (size_t i = 0; ec == ERR_OK && i < sr->nanswers; i++) {
        const sr_answer *a = &sr->answers[i];
        for (size_t k = 0; ec == ERR_OK && k < a->nvalues; k++) {
            stmt s;
            ec = stmt_get(c, ST_ANSWER_INSERT, &s, err);
            if (ec != ERR_OK)
                break;
            bind_i64(&s, id);
            bind_i64(&s, position++);
            bind_str(&s, a->code);
            bind_str(&s, a->values[k]);
            ec = stmt_exec(c, &s, "request_answer", err);
        }
    }
    return ec;
}

static err_code sq_event_row_put(store_conn *c, sr_event *ev, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_EVENT_INSERT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, ev->request_id);
    bind_i64(&s, ev->at);
    bind_str(&s, sr_event_kind_name(ev->kind));
    bind_str(&s, sr_status_name(ev->status));
    bind_resolution(&s, ev->resolution);
    bind_str(&s, ev->note);
    bind_bool(&s, ev->public_note);
    bind_str(&s, ev->actor);
    bind_str(&s, ev->from_agency);
    bind_str(&s, ev->to_agency);
    bind_opt_id(&s, ev->merged_into);
    return stmt_insert(c, &s, "request_event", &ev->id, err);
}

static err_code sq_request_insert(store_conn *c, service_request *sr, err_t *err)
{
    int64_t id = 0;
    char actor[STORE_ACTOR_MAX];
    err_code ec = need_txn(c, "store_request_insert", err);
    if (ec == ERR_OK)
        ec = sq_request_row_put(c, sr, &id, err);
    if (ec == ERR_OK)
        ec = sq_answers_put(c, id, sr, err);
    if (ec != ERR_OK)
        return ec;
    sr_event ev = {
        .request_id = id,
        .at = sr->requested_at,
        .kind = SR_EV_CREATED,
        .status = sr->status,
        .resolution = sr->resolution,
        .public_note = true,
        .actor = store_created_actor(sr->api_key_id, actor),
    };
    ec = sq_event_row_put(c, &ev, err);
    if (ec == ERR_OK) {
        sr->id = sr->token != NULL ? 0 : id; /* a pending request has no id yet */
        sr->row_id = id;
    }
    return ec;
}

/* ---- reading requests ---- */

static void read_request(row *r, void *item)
{
    service_request *out = item;
    memset(out, 0, sizeof *out);
    out->id = rd_i64(r);
    out->token = rd_str(r);
    out->service_code = rd_str(r);
    out->status = rd_status(r);
    out->resolution = rd_resolution(r);
    out->status_notes = rd_str(r);
    out->agency_code = rd_str(r);
    out->service_notice = rd_str(r);
    out->requested_at = rd_i64(r);
    out->updated_at = rd_i64(r);
    out->expected_at = rd_opt_time(r);
    out->closed_at = rd_opt_time(r);
    out->has_location = rd_bool(r);
    out->lat = rd_f64(r);
    out->lon = rd_f64(r);
    out->address = rd_str(r);
    out->address_id = rd_str(r);
    out->zipcode = rd_str(r);
    out->description = rd_str(r);
    out->media_url = rd_str(r);
    if (!sr_channel_parse(rd_name(r), &out->channel))
        r->unknown = true;
    out->api_key_id = rd_i64(r);
    out->merged_into = rd_opt_id(r);
    out->district = rd_str(r);
}

err_code sq_request_read(store_conn *c, int64_t id, pool_t *pool, service_request *out,
                         err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_REQUEST_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_one(c, &s, "request", read_request, out, pool, "no such service request", err);
}

/* ERR_NOT_FOUND unless request id exists and is published. */
static err_code sq_request_visible(store_conn *c, int64_t id, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_REQUEST_VISIBLE, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_one(c, &s, "request", NULL, NULL, NULL, "no such service request", err);
}

/* The answers being read, as stmt_each's ctx. */
typedef struct {
    pool_t *pool;
    sr_answer *list;
    size_t n, cap;
    size_t vcap; /* room for values in the last answer */
} answer_list;

/* Adds one value row to the answers: a new answer when the code changes,
 * else one more value of the last one (a multivaluelist). */
static err_code answer_row(row *r, void *ctx, err_t *err)
{
    answer_list *l = ctx;
    const char *code = rd_str(r);
    const char *value = rd_str(r);
    err_code ec = rd_done(r, "request_answer", err);
    if (ec != ERR_OK)
        return ec;
    sr_answer *a = l->n > 0 ? &l->list[l->n - 1] : NULL;
    if (a == NULL || strcmp(a->code, code) != 0) {
        sr_answer *nl = pool_grow(l->pool, l->list, l->n, &l->cap, sizeof *nl);
        if (nl == NULL)
            return err_set(err, ERR_NOMEM, "out of memory");
        l->list = nl;
        a = &nl[l->n++];
        *a = (sr_answer){.code = code};
        l->vcap = 0;
    }
    const char **vals = pool_grow(l->pool, a->values, a->nvalues, &l->vcap, sizeof *vals);
    if (vals == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    a->values = vals;
    vals[a->nvalues++] = value;
    return ERR_OK;
}

static err_code sq_request_answers(store_conn *c, int64_t id, pool_t *pool, sr_answer **out,
                                   size_t *count, err_t *err)
{
    answer_list l = {.pool = pool};
    stmt s;
    err_code ec = sq_request_visible(c, id, err);
    if (ec == ERR_OK)
        ec = stmt_get(c, ST_ANSWERS, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    ec = stmt_each(c, &s, "request_answer", pool, answer_row, &l, err);
    if (ec == ERR_OK) {
        *out = l.list;
        *count = l.n;
    }
    return ec;
}

/* ---- searching ---- */

/* A search is built as SQL text and a list of values to bind, in order.
 * binds is NULL when only the text is wanted (store_sqlite_search_sql). */
typedef struct {
    char type; /* 'i' int64, 'd' double, 's' text */
    int64_t i;
    double d;
    const char *s;
} search_bind;

typedef struct {
    buf_t sql;
    pool_t *pool; /* for binds; NULL = text only */
    search_bind *binds;
    size_t nbinds, cap;
    bool oom;
} search_build;

static void sb_add(search_build *b, search_bind v)
{
    if (b->pool == NULL || b->oom)
        return;
    search_bind *nb = pool_grow(b->pool, b->binds, b->nbinds, &b->cap, sizeof *nb);
    if (nb == NULL) {
        b->oom = true;
        return;
    }
    b->binds = nb;
    nb[b->nbinds++] = v;
}

static void sb_int(search_build *b, int64_t v)
{
    sb_add(b, (search_bind){.type = 'i', .i = v});
}

static void sb_double(search_build *b, double v)
{
    sb_add(b, (search_bind){.type = 'd', .d = v});
}

static void sb_text(search_build *b, const char *v)
{
    sb_add(b, (search_bind){.type = 's', .s = v});
}

/* IN lists are padded to a power of two by repeating their last value, so
 * the SQL text - the key of the statement cache - takes a handful of
 * shapes rather than one per list length. */
static size_t padded(size_t n)
{
    size_t p = 1;
    while (p < n)
        p *= 2;
    return p;
}

static void sb_in_open(search_build *b, const char *column, size_t n)
{
    buf_printf(&b->sql, " AND %s IN (", column);
    for (size_t i = 0; i < padded(n); i++)
        buf_puts(&b->sql, i == 0 ? "?" : ", ?");
    buf_putc(&b->sql, ')');
}

static void sb_in_text(search_build *b, const char *column, const char *const *v, size_t n)
{
    sb_in_open(b, column, n);
    for (size_t i = 0; i < padded(n); i++)
        sb_text(b, v[i < n ? i : n - 1]);
}

static void sb_in_int(search_build *b, const char *column, const int64_t *v, size_t n)
{
    sb_in_open(b, column, n);
    for (size_t i = 0; i < padded(n); i++)
        sb_int(b, v[i < n ? i : n - 1]);
}

static void sb_status(search_build *b, unsigned mask)
{
    const char *names[SR_STATUS_COUNT];
    size_t n = 0;
    /* Every status wanted is no filter at all. */
    if (mask == 0 || (mask & SQ_STATUS_ALL) == SQ_STATUS_ALL)
        return;
    for (unsigned st = 0; st < SR_STATUS_COUNT; st++)
        if (mask & SRQ_STATUS_BIT(st))
            names[n++] = sr_status_name((sr_status)st);
    /* One status: its index yields rows already newest first. Several
     * (Open311's "open" is four): their index ranges would have to be
     * sorted as a whole, every open request of the window for one page,
     * so "+status" keeps SQLite off that index and it walks the time
     * index newest first, stopping when the page is full. */
    sb_in_text(b, n == 1 ? "status" : "+status", names, n);
}

/* The filters besides ids. The box comes before the circle so the lat
 * index narrows the rows the distance function has to look at; a request
 * without a location has a NULL lat and fails both. */
static void sb_filters(search_build *b, const sr_query *q)
{
    buf_puts(&b->sql, " AND requested_at BETWEEN ? AND ?");
    sb_int(b, q->start);
    sb_int(b, q->end);
    if (q->nservice_codes > 0)
        sb_in_text(b, "service_code", q->service_codes, q->nservice_codes);
    sb_status(b, q->status_mask);
    if (q->nagency_codes > 0)
        sb_in_text(b, "agency_code", q->agency_codes, q->nagency_codes);
    if (q->has_updated_after) {
        buf_puts(&b->sql, " AND updated_at >= ?");
        sb_int(b, q->updated_after);
    }
    if (q->has_updated_before) {
        buf_puts(&b->sql, " AND updated_at <= ?");
        sb_int(b, q->updated_before);
    }
    if (q->has_bbox) {
        buf_puts(&b->sql, " AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?");
        sb_double(b, q->min_lat);
        sb_double(b, q->max_lat);
        sb_double(b, q->min_lon);
        sb_double(b, q->max_lon);
    }
    if (q->has_radius) {
        buf_puts(&b->sql, " AND " STORE_SQLITE_DISTANCE_FN "(?, ?, lat, lon) <= ?");
        sb_double(b, q->lat);
        sb_double(b, q->lon);
        sb_double(b, q->radius_m);
    }
}

static void sb_build(search_build *b, const sr_query *q)
{
    buf_puts(&b->sql, "SELECT " REQUEST_COLS " FROM request WHERE pending = 0");
    if (q->nids > 0)
        sb_in_int(b, "id", q->ids, q->nids); /* service_request_id overrides the rest */
    else
        sb_filters(b, q);
    buf_puts(&b->sql, " ORDER BY requested_at DESC, id DESC LIMIT ? OFFSET ?");
    sb_int(b, (int64_t)q->page_size);
    sb_int(b, store_page_offset(q->page, q->page_size));
}

err_code store_sqlite_search_sql(const sr_query *q, char **sql, err_t *err)
{
    search_build b = {.sql = BUF_INIT};
    sb_build(&b, q);
    *sql = buf_detach(&b.sql);
    if (*sql == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    return ERR_OK;
}

/* The cached statement for this SQL text, prepared on a miss in place of
 * the least recently used one. The agency queue's statements share it
 * (sqlite_lifecycle.c). */
err_code sq_search_stmt(store_conn *c, const char *sql, sqlite3_stmt **out, err_t *err)
{
    search_slot *victim = &c->search[0];
    c->clock++;
    for (int i = 0; i < SQ_SEARCH_SLOTS; i++) {
        search_slot *sl = &c->search[i];
        if (sl->sql != NULL && strcmp(sl->sql, sql) == 0) {
            sl->last_used = c->clock;
            *out = sl->st;
            return ERR_OK;
        }
        if (sl->last_used < victim->last_used)
            victim = sl;
    }
    char *copy = strdup(sql);
    if (copy == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        free(copy);
        return db_fail(c, rc, "prepare search", err);
    }
    sqlite3_finalize(victim->st);
    free(victim->sql);
    *victim = (search_slot){copy, st, c->clock};
    *out = st;
    return ERR_OK;
}

static void search_bind_all(stmt *s, const search_build *b)
{
    for (size_t i = 0; i < b->nbinds; i++) {
        const search_bind *v = &b->binds[i];
        if (v->type == 'i')
            bind_i64(s, v->i);
        else if (v->type == 'd')
            bind_f64(s, v->d);
        else
            bind_str(s, v->s);
    }
}

static err_code sq_request_search(store_conn *c, const sr_query *q, pool_t *pool,
                                  service_request **out, size_t *count, err_t *err)
{
    search_build b = {.sql = BUF_INIT, .pool = pool};
    stmt s = {NULL, 0, SQLITE_OK};
    void *list = NULL;
    err_code ec = ERR_OK;
    sb_build(&b, q);
    if (buf_failed(&b.sql) || b.oom) {
        ec = err_set(err, ERR_NOMEM, "out of memory");
        goto done;
    }
    ec = sq_search_stmt(c, b.sql.data, &s.st, err);
    if (ec != ERR_OK)
        goto done;
    search_bind_all(&s, &b);
    ec = rows_collect(c, &s, "request", read_request, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
done:
    buf_free(&b.sql);
    return ec;
}

/* A token's request id: 0 while the request waits to be published. */
static void read_token(row *r, void *item)
{
    int64_t id = rd_i64(r);
    bool pending = rd_bool(r);
    *(int64_t *)item = pending ? 0 : id;
}

static err_code sq_token_find(store_conn *c, const char *token, int64_t *id_out, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_TOKEN_FIND, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, token);
    return stmt_one(c, &s, "request", read_token, id_out, NULL, "no such token", err);
}

static err_code sq_batch_publish(store_conn *c, int64_t now, size_t max, size_t *published,
                                 err_t *err)
{
    stmt s;
    err_code ec = need_txn(c, "store_batch_publish", err);
    if (ec == ERR_OK)
        ec = stmt_get(c, ST_BATCH_PUBLISH, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, now);
    bind_limit(&s, max);
    return stmt_exec_count(c, &s, "batch publish", published, err);
}

/* ---- events ---- */

static err_code sq_status_apply(store_conn *c, const sr_event *ev, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_STATUS_UPDATE, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, ev->request_id);
    bind_str(&s, sr_status_name(ev->status));
    bind_resolution(&s, ev->resolution);
    bind_i64(&s, ev->at);
    bind_str(&s, sr_status_name(SR_CLOSED));
    bind_str(&s, ev->public_note ? ev->note : NULL);
    return stmt_exec_found(c, &s, "request", "no such service request", err);
}

/* The status a note's UPDATE ... RETURNING finds the request in. */
static void read_note_status(row *r, void *item)
{
    sr_event *ev = item;
    ev->status = rd_status(r);
    ev->resolution = rd_resolution(r);
}

/* A note leaves the status alone; the event records the status the
 * request has, whatever the caller put in ev. */
static err_code sq_note_apply(store_conn *c, sr_event *ev, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_NOTE_UPDATE, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, ev->request_id);
    bind_i64(&s, ev->at);
    bind_str(&s, ev->public_note ? ev->note : NULL);
    return stmt_one(c, &s, "request", read_note_status, ev, NULL, "no such service request", err);
}

static err_code sq_event_append(store_conn *c, sr_event *ev, err_t *err)
{
    err_code ec = need_txn(c, "store_event_append", err);
    if (ec != ERR_OK)
        return ec;
    switch (ev->kind) {
    case SR_EV_STATUS:
        ec = sq_status_apply(c, ev, err);
        break;
    case SR_EV_TRANSFER: /* sqlite_lifecycle.c */
        ec = sqlc_transfer_apply(c, ev, err);
        break;
    case SR_EV_MERGE:
        ec = sqlc_merge_apply(c, ev, err);
        break;
    default:
        ec = sq_note_apply(c, ev, err);
        break;
    }
    if (ec == ERR_OK)
        ec = sq_event_row_put(c, ev, err);
    return ec;
}

static void read_event(row *r, void *item)
{
    sr_event *ev = item;
    memset(ev, 0, sizeof *ev);
    ev->id = rd_i64(r);
    ev->request_id = rd_i64(r);
    ev->at = rd_i64(r);
    if (!sr_event_kind_parse(rd_name(r), &ev->kind))
        r->unknown = true;
    ev->status = rd_status(r);
    ev->resolution = rd_resolution(r);
    ev->note = rd_str(r);
    ev->public_note = rd_bool(r);
    ev->actor = rd_str(r);
    ev->from_agency = rd_str(r);
    ev->to_agency = rd_str(r);
    ev->merged_into = rd_opt_id(r);
}

/* Reads every row of a running statement as an event, and ends it. */
static err_code events_collect(store_conn *c, stmt *s, pool_t *pool, sr_event **out, size_t *count,
                               err_t *err)
{
    void *list = NULL;
    err_code ec =
        rows_collect(c, s, "request_event", read_event, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

static err_code sq_events_list(store_conn *c, int64_t request_id, bool public_only, pool_t *pool,
                               sr_event **out, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = sq_request_visible(c, request_id, err);
    if (ec == ERR_OK)
        ec = stmt_get(c, ST_EVENTS_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, request_id);
    bind_bool(&s, public_only);
    return events_collect(c, &s, pool, out, count, err);
}

static err_code sq_updates_search(store_conn *c, int64_t start, int64_t end, size_t page,
                                  size_t page_size, pool_t *pool, sr_event **out, size_t *count,
                                  err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_UPDATES, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, start);
    bind_i64(&s, end);
    bind_str(&s, sr_event_kind_name(SR_EV_CREATED));
    bind_i64(&s, (int64_t)page_size);
    bind_i64(&s, store_page_offset(page, page_size));
    return events_collect(c, &s, pool, out, count, err);
}

static err_code sq_request_count(store_conn *c, int64_t *count, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_REQUEST_COUNT, &s, err);
    if (ec != ERR_OK)
        return ec;
    return stmt_int(c, &s, "request count", count, err);
}

static err_code sq_page_views_add(store_conn *c, const char *day, const char *page, int64_t n,
                                  err_t *err)
{
    stmt s;
    err_code ec = need_txn(c, "store_page_views_add", err);
    if (ec == ERR_OK)
        ec = stmt_get(c, ST_PAGE_VIEWS_ADD, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, day);
    bind_str(&s, page);
    bind_i64(&s, n);
    return stmt_exec(c, &s, "page_view", err);
}

static void read_page_views(row *r, void *item)
{
    store_page_views *v = item;
    v->day = rd_str(r);
    v->page = rd_str(r);
    v->views = rd_i64(r);
}

static err_code sq_page_views_list(store_conn *c, const char *since_day, pool_t *pool,
                                   store_page_views **out, size_t *count, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_PAGE_VIEWS_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, since_day);
    void *list = NULL;
    ec = rows_collect(c, &s, "page_view", read_page_views, sizeof **out, pool, &list, count, err);
    if (ec == ERR_OK)
        *out = list;
    return ec;
}

static err_code sq_send_find(store_conn *c, const unsigned char hash[STORE_DIGEST_LEN],
                             int64_t *request_id, err_t *err)
{
    stmt s;
    err_code ec = stmt_get(c, ST_SEND_FIND, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, hash, STORE_DIGEST_LEN);
    int rc = stmt_step(&s);
    if (rc == SQLITE_ROW)
        *request_id = sqlite3_column_int64(s.st, 0);
    else
        ec = rc == SQLITE_DONE ? err_set(err, ERR_NOT_FOUND, "no such send")
                               : db_fail(c, rc, "web_send", err);
    stmt_end(&s);
    return ec;
}

static err_code sq_send_insert(store_conn *c, const unsigned char hash[STORE_DIGEST_LEN],
                               int64_t request_id, int64_t now, err_t *err)
{
    stmt s;
    err_code ec = need_txn(c, "store_send_insert", err);
    if (ec == ERR_OK)
        ec = stmt_get(c, ST_SEND_INSERT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_blob(&s, hash, STORE_DIGEST_LEN);
    bind_i64(&s, request_id);
    bind_i64(&s, now);
    return stmt_exec(c, &s, "web_send", err);
}

static err_code sq_send_purge(store_conn *c, int64_t before, size_t *purged, err_t *err)
{
    stmt s;
    err_code ec = need_txn(c, "store_send_purge", err);
    if (ec == ERR_OK)
        ec = stmt_get(c, ST_SEND_PURGE, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, before);
    return stmt_exec_count(c, &s, "web_send", purged, err);
}

const store_backend store_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .migrate = sq_migrate,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .catalog_put = sq_catalog_put,
    .catalog_load = sq_catalog_load,
    .apikey_insert = sq_apikey_insert,
    .apikey_find = sq_apikey_find,
    .request_insert = sq_request_insert,
    .request_get = sq_request_read,
    .request_answers = sq_request_answers,
    .request_search = sq_request_search,
    .token_find = sq_token_find,
    .batch_publish = sq_batch_publish,
    .event_append = sq_event_append,
    .events_list = sq_events_list,
    .updates_search = sq_updates_search,
    .request_count = sq_request_count,

    .compact = sqp_compact,
    .backup = sqp_backup,

    .subject_reserve = sqp_subject_reserve,
    .subject_insert = sqp_subject_insert,
    .subject_set_key = sqp_subject_set_key,
    .subject_get = sqp_subject_get,
    .subject_list_keyed = sqp_subject_list_keyed,
    .subject_count_kek = sqp_subject_count_kek,
    .subject_erase = sqp_subject_erase,
    .personal_insert = sqp_personal_insert,
    .personal_list = sqp_personal_list,
    .personal_erase = sqp_personal_erase,
    .subject_usage = sqp_subject_usage,
    .blob_insert = sqp_blob_insert,
    .blob_set_sealed = sqp_blob_set_sealed,
    .blob_get = sqp_blob_get,
    .blob_list = sqp_blob_list,
    .blob_erase = sqp_blob_erase,
    .blind_insert = sqp_blind_insert,
    .blind_find = sqp_blind_find,
    .blind_erase = sqp_blind_erase,
    .personal_due = sqp_personal_due,
    .blob_due = sqp_blob_due,
    .blob_attach = sqp_blob_attach,
    .blob_orphans = sqp_blob_orphans,
    .page_views_add = sq_page_views_add,
    .page_views_list = sq_page_views_list,
    .send_find = sq_send_find,
    .send_insert = sq_send_insert,
    .send_purge = sq_send_purge,
    .hold_insert = sqp_hold_insert,
    .hold_release = sqp_hold_release,
    .hold_active = sqp_hold_active,
    .hold_list = sqp_hold_list,
    .audit_head = sqp_audit_head,
    .audit_append = sqp_audit_append,
    .audit_entries = sqp_audit_entries,
    .audit_for_request = sqp_audit_for_request,
    .checkpoint_insert = sqp_checkpoint_insert,
    .checkpoint_list = sqp_checkpoint_list,
    .checkpoint_latest = sqp_checkpoint_latest,
    .account_insert = sqa_account_insert,
    .account_set_sealed = sqa_account_set_sealed,
    .account_get = sqa_account_get,
    .account_find = sqa_account_find,
    .account_set_password = sqa_account_set_password,
    .account_failed = sqa_account_failed,
    .account_set_lock = sqa_account_set_lock,
    .account_delete = sqa_account_delete,
    .session_insert = sqa_session_insert,
    .session_get = sqa_session_get,
    .session_touch = sqa_session_touch,
    .session_delete = sqa_session_delete,
    .session_delete_account = sqa_session_delete_account,
    .session_list = sqa_session_list,
    .session_purge = sqa_session_purge,
    .subject_requests = sqa_subject_requests,

    /* ---- the lifecycle and the agency queue (issue 5): sqlite_lifecycle.c ---- */
    .request_lock = sqlc_request_lock,
    .queue_fetch = sqlc_queue_fetch,
    .queue_count = sqlc_queue_count,
    /* ---- the disclosure register and the figures (issue 5) ---- */
    .disclosure_insert = sqd_disclosure_insert,
    .disclosure_get = sqd_disclosure_get,
    .disclosure_list = sqd_disclosure_list,
    .disclosure_approve = sqd_disclosure_approve,
    .disclosure_close = sqd_disclosure_close,
    .disclosure_export_insert = sqd_disclosure_export_insert,
    .disclosure_exports = sqd_disclosure_exports,
    .stats_rows = sqd_stats_rows,
    /* ---- staff accounts (issue 5) ---- */
    .staff_insert = sqs_staff_insert,
    .staff_get = sqs_staff_get,
    .staff_find = sqs_staff_find,
    .staff_list = sqs_staff_list,
    .staff_set_password = sqs_staff_set_password,
    .staff_set_totp = sqs_staff_set_totp,
    .staff_use_step = sqs_staff_use_step,
    .staff_failed = sqs_staff_failed,
    .staff_set_lock = sqs_staff_set_lock,
    .staff_set_disabled = sqs_staff_set_disabled,
    .staff_agency_add = sqs_staff_agency_add,
    .staff_agencies = sqs_staff_agencies,
    .staff_session_insert = sqs_staff_session_insert,
    .staff_session_get = sqs_staff_session_get,
    .staff_session_touch = sqs_staff_session_touch,
    .staff_session_delete = sqs_staff_session_delete,
    .staff_session_delete_staff = sqs_staff_session_delete_staff,
    .staff_session_purge = sqs_staff_session_purge,
    /* ---- notifications (issue 5, W6) ---- */
    .follow_add = sqn_follow_add,
    .follow_move = sqn_follow_move,
    .follow_get = sqn_follow_get,
    .follow_count = sqn_follow_count,
    .follow_erase_contact = sqn_follow_erase_contact,
    .webhook_insert = sqn_webhook_insert,
    .webhook_get = sqn_webhook_get,
    .webhook_list = sqn_webhook_list,
    .webhook_disable = sqn_webhook_disable,
    .outbox_enqueue = sqn_outbox_enqueue,
    .outbox_claim = sqn_outbox_claim,
    .outbox_sent = sqn_outbox_sent,
    .outbox_failed = sqn_outbox_failed,
    .outbox_list = sqn_outbox_list,
    .outbox_retry = sqn_outbox_retry,
    .follow_contact = sqn_follow_contact,
    .outbox_get = sqn_outbox_get,
};
