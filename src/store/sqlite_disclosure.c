/*
 * sqlite_disclosure.c - the SQLite backend's part for the disclosure
 * register (store.h, "the disclosure register": orders, their scope, their
 * exports and the requests each released) and for the figures for
 * managers (store_stats_rows, streaming requests without personal data).
 *
 * Nothing here is personal: institutions, references, request numbers,
 * pseudonymous actors and digests. No bound value goes into SQL text or an
 * error message. Statements are prepared once per connection into its
 * disclosure_stmt array (sqlite_int.h) and reset as soon as a call is done
 * with them. store.c has checked every argument before a function here
 * runs.
 */
#include <string.h>

#include "store/sqlite_int.h"

typedef enum {
    DST_ORDER_INSERT,
    DST_SCOPE_INSERT,
    DST_REQUEST_EXISTS,
    DST_ORDER_GET,
    DST_SCOPE_LIST,
    DST_ORDER_LIST,
    DST_ORDER_LIST_OPEN,
    DST_APPROVE,
    DST_CLOSE,
    DST_EXPORT_INSERT,
    DST_RELEASED_INSERT,
    DST_EXPORT_LIST,
    DST_RELEASED_LIST,
    DST_STATS_ROWS,
    DST_N
} dstmt_id;

_Static_assert(DST_N <= SQ_DISCLOSURE_STMT_SLOTS, "raise SQ_DISCLOSURE_STMT_SLOTS in sqlite_int.h");

/* An order with how many requests it names and how many exports it has
 * had: both through a primary key or an index on order_id. */
#define ORDER_COLS                                                                                 \
    "o.id, o.requester, o.reference, o.legal_basis, o.classes, o.received_at, o.recorded_by, "     \
    "o.recorded_role, o.recorded_at, o.approved_by, o.approved_role, o.approved_at, "              \
    "o.closed_by, o.closed_at, "                                                                   \
    "(SELECT count(*) FROM disclosure_scope WHERE order_id = o.id), "                              \
    "(SELECT count(*) FROM disclosure_export WHERE order_id = o.id)"

static const char *const DSTMT_SQL[DST_N] = {
    [DST_ORDER_INSERT] = "INSERT INTO disclosure_order (requester, reference, legal_basis, "
                         "classes, received_at, recorded_by, recorded_role, recorded_at) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [DST_SCOPE_INSERT] = "INSERT INTO disclosure_scope (order_id, request_id) VALUES (?1, ?2)",
    /* A pending (batch) request is invisible everywhere else: here too. */
    [DST_REQUEST_EXISTS] = "SELECT EXISTS (SELECT 1 FROM request WHERE id = ?1 AND pending = 0)",
    [DST_ORDER_GET] = "SELECT " ORDER_COLS " FROM disclosure_order o WHERE o.id = ?1",
    [DST_SCOPE_LIST] = "SELECT request_id FROM disclosure_scope WHERE order_id = ?1 "
                       "ORDER BY request_id",
    [DST_ORDER_LIST] = "SELECT " ORDER_COLS " FROM disclosure_order o ORDER BY o.id DESC LIMIT ?1",
    [DST_ORDER_LIST_OPEN] = "SELECT " ORDER_COLS " FROM disclosure_order o "
                            "WHERE o.closed_at IS NULL ORDER BY o.id DESC LIMIT ?1",
    /* The two-person rule in the WHERE clause (and as a CHECK): an order
     * its own recorder tries to approve is simply not changed. */
    [DST_APPROVE] = "UPDATE disclosure_order SET approved_by = ?2, approved_role = ?3, "
                    "approved_at = ?4 WHERE id = ?1 AND approved_by IS NULL "
                    "AND closed_at IS NULL AND recorded_by <> ?2",
    [DST_CLOSE] = "UPDATE disclosure_order SET closed_by = ?2, closed_at = ?3 "
                  "WHERE id = ?1 AND closed_at IS NULL",
    [DST_EXPORT_INSERT] = "INSERT INTO disclosure_export (order_id, exported_by, role, "
                          "exported_at, classes, digest, bytes) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [DST_RELEASED_INSERT] = "INSERT INTO disclosure_released (export_id, request_id) "
                            "VALUES (?1, ?2)",
    [DST_EXPORT_LIST] = "SELECT id, order_id, exported_by, role, exported_at, classes, digest, "
                        "bytes FROM disclosure_export WHERE order_id = ?1 ORDER BY id",
    [DST_RELEASED_LIST] = "SELECT request_id FROM disclosure_released WHERE export_id = ?1 "
                          "ORDER BY request_id",
    /* A range of the request_requested index; the columns are the figures'
     * and nothing else (no location, no text a person typed). */
    [DST_STATS_ROWS] = "SELECT service_code, agency_code, requested_at, closed_at, expected_at, "
                       "status, resolution FROM request "
                       "WHERE requested_at >= ?1 AND requested_at < ?2 AND pending = 0",
};

static err_code dstmt_get(store_conn *c, dstmt_id id, stmt *s, err_t *err)
{
    return stmt_prepare(c, &c->disclosure_stmt[id], DSTMT_SQL[id], s, err);
}

static err_code dstmt_write(store_conn *c, dstmt_id id, const char *what, stmt *s, err_t *err)
{
    err_code ec = need_txn(c, what, err);
    if (ec == ERR_OK)
        ec = dstmt_get(c, id, s, err);
    return ec;
}

/* ---- data classes as the register stores them: "contact,media" ---- */

static void bind_classes(stmt *s, unsigned mask, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned dc = 0; dc < DC_COUNT; dc++) {
        if (!(mask & DC_BIT(dc)))
            continue;
        const char *name = sr_data_class_name((data_class)dc);
        size_t n = strlen(name);
        if (len + n + 2 > cap)
            break; /* cannot happen: cap holds every name */
        if (len > 0)
            buf[len++] = ',';
        memcpy(buf + len, name, n + 1);
        len += n;
    }
    bind_str(s, buf);
}

#define CLASSES_BUF 64 /* "contact,device,account,media,recording" and a NUL */

static unsigned rd_classes(row *r)
{
    const char *s = rd_name(r);
    unsigned mask = 0;
    char name[16];
    while (s != NULL && *s != '\0') {
        size_t n = strcspn(s, ",");
        data_class dc;
        if (n == 0 || n >= sizeof name) {
            r->unknown = true;
            return 0;
        }
        memcpy(name, s, n);
        name[n] = '\0';
        if (!sr_data_class_parse(name, &dc)) {
            r->unknown = true;
            return 0;
        }
        mask |= DC_BIT(dc);
        s += n + (s[n] == ',');
    }
    if (mask == 0)
        r->unknown = true;
    return mask;
}

/* ---- orders ---- */

static err_code request_exists(store_conn *c, int64_t id, bool *exists, err_t *err)
{
    stmt s;
    int64_t v = 0;
    err_code ec = dstmt_get(c, DST_REQUEST_EXISTS, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    ec = stmt_int(c, &s, "request", &v, err);
    *exists = v != 0;
    return ec;
}

err_code sqd_disclosure_insert(store_conn *c, store_disclosure *d, err_t *err)
{
    stmt s;
    char classes[CLASSES_BUF];
    err_code ec = dstmt_write(c, DST_ORDER_INSERT, "store_disclosure_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_str(&s, d->requester);
    bind_str(&s, d->reference);
    bind_str(&s, d->legal_basis);
    bind_classes(&s, d->classes, classes, sizeof classes);
    bind_i64(&s, d->received_at);
    bind_str(&s, d->recorded_by);
    bind_str(&s, d->recorded_role);
    bind_i64(&s, d->recorded_at);
    ec = stmt_insert(c, &s, "disclosure_order", &d->id, err);
    if (ec == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT,
                       "this requester has an order with this reference "
                       "in the register already");
    for (size_t i = 0; ec == ERR_OK && i < d->nrequests; i++) {
        bool exists = false;
        ec = request_exists(c, d->request_ids[i], &exists, err);
        if (ec == ERR_OK && !exists)
            ec = err_set(err, ERR_NOT_FOUND, "request %lld does not exist",
                         (long long)d->request_ids[i]);
        if (ec == ERR_OK)
            ec = dstmt_get(c, DST_SCOPE_INSERT, &s, err);
        if (ec == ERR_OK) {
            bind_i64(&s, d->id);
            bind_i64(&s, d->request_ids[i]);
            ec = stmt_exec(c, &s, "disclosure_scope", err);
        }
    }
    return ec;
}

static void read_order(row *r, void *item)
{
    store_disclosure *o = item;
    memset(o, 0, sizeof *o);
    o->id = rd_i64(r);
    o->requester = rd_str(r);
    o->reference = rd_str(r);
    o->legal_basis = rd_str(r);
    o->classes = rd_classes(r);
    o->received_at = rd_i64(r);
    o->recorded_by = rd_str(r);
    o->recorded_role = rd_str(r);
    o->recorded_at = rd_i64(r);
    o->approved_by = rd_str(r);
    o->approved_role = rd_str(r);
    o->approved_at = rd_opt_time(r);
    o->closed_by = rd_str(r);
    o->closed_at = rd_opt_time(r);
    o->nrequests = (size_t)rd_i64(r);
    o->exports = rd_i64(r);
}

/* The request ids a one-column query of DST_SCOPE_LIST or
 * DST_RELEASED_LIST gives for id. */
static err_code id_list(store_conn *c, dstmt_id which, int64_t id, pool_t *pool, int64_t **out,
                        size_t *count, err_t *err)
{
    stmt s;
    void *list = NULL;
    err_code ec = dstmt_get(c, which, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    ec = rows_collect(c, &s, "disclosure", read_id, sizeof **out, pool, &list, count, err);
    *out = list;
    return ec;
}

err_code sqd_disclosure_get(store_conn *c, int64_t id, pool_t *pool, store_disclosure *out,
                            err_t *err)
{
    stmt s;
    err_code ec = dstmt_get(c, DST_ORDER_GET, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    ec = stmt_one(c, &s, "disclosure_order", read_order, out, pool, "no such order in the register",
                  err);
    if (ec == ERR_OK)
        ec = id_list(c, DST_SCOPE_LIST, id, pool, &out->request_ids, &out->nrequests, err);
    return ec;
}

err_code sqd_disclosure_list(store_conn *c, bool open_only, size_t max, pool_t *pool,
                             store_disclosure **out, size_t *count, err_t *err)
{
    stmt s;
    void *list = NULL;
    err_code ec = dstmt_get(c, open_only ? DST_ORDER_LIST_OPEN : DST_ORDER_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_limit(&s, max);
    ec = rows_collect(c, &s, "disclosure_order", read_order, sizeof **out, pool, &list, count, err);
    *out = list;
    return ec;
}

/* Why an approval changed nothing, from the order as it stands. */
static err_code approve_refused(store_conn *c, int64_t id, const char *by, err_t *err)
{
    pool_t *pool = pool_new();
    store_disclosure o;
    err_code ec = pool == NULL ? err_set(err, ERR_NOMEM, "out of memory")
                               : sqd_disclosure_get(c, id, pool, &o, err);
    if (ec == ERR_OK) {
        if (o.closed_at != 0)
            ec = err_set(err, ERR_CONFLICT, "order %lld is closed", (long long)id);
        else if (o.approved_at != 0)
            ec = err_set(err, ERR_CONFLICT, "order %lld is approved already", (long long)id);
        else if (o.recorded_by != NULL && strcmp(o.recorded_by, by) == 0)
            ec = err_set(err, ERR_CONFLICT,
                         "order %lld: the officer who recorded an order may not approve it; a "
                         "second officer must",
                         (long long)id);
        else
            ec = err_set(err, ERR_CONFLICT, "order %lld could not be approved", (long long)id);
    }
    pool_free(pool);
    return ec;
}

err_code sqd_disclosure_approve(store_conn *c, int64_t id, const char *by, const char *role,
                                int64_t now, err_t *err)
{
    stmt s;
    size_t changed = 0;
    err_code ec = dstmt_write(c, DST_APPROVE, "store_disclosure_approve", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_str(&s, by);
    bind_str(&s, role);
    bind_i64(&s, now);
    ec = stmt_exec_count(c, &s, "disclosure_order", &changed, err);
    if (ec == ERR_OK && changed == 0)
        ec = approve_refused(c, id, by, err);
    return ec;
}

err_code sqd_disclosure_close(store_conn *c, int64_t id, const char *by, int64_t now, err_t *err)
{
    stmt s;
    size_t changed = 0;
    err_code ec = dstmt_write(c, DST_CLOSE, "store_disclosure_close", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    bind_str(&s, by);
    bind_i64(&s, now);
    ec = stmt_exec_count(c, &s, "disclosure_order", &changed, err);
    if (ec != ERR_OK || changed > 0)
        return ec;
    /* Nothing changed: no such order, or closed already. */
    pool_t *pool = pool_new();
    store_disclosure o;
    ec = pool == NULL ? err_set(err, ERR_NOMEM, "out of memory")
                      : sqd_disclosure_get(c, id, pool, &o, err);
    if (ec == ERR_OK)
        ec = err_set(err, ERR_CONFLICT, "order %lld is closed already", (long long)id);
    pool_free(pool);
    return ec;
}

/* ---- exports ---- */

err_code sqd_disclosure_export_insert(store_conn *c, store_disclosure_export *e, err_t *err)
{
    stmt s;
    char classes[CLASSES_BUF];
    err_code ec = dstmt_write(c, DST_EXPORT_INSERT, "store_disclosure_export_insert", &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, e->order_id);
    bind_str(&s, e->exported_by);
    bind_str(&s, e->role);
    bind_i64(&s, e->exported_at);
    bind_classes(&s, e->classes, classes, sizeof classes);
    bind_blob(&s, e->digest, sizeof e->digest);
    bind_i64(&s, e->bytes);
    ec = stmt_insert(c, &s, "disclosure_export", &e->id, err);
    for (size_t i = 0; ec == ERR_OK && i < e->nrequests; i++) {
        ec = dstmt_get(c, DST_RELEASED_INSERT, &s, err);
        if (ec == ERR_OK) {
            bind_i64(&s, e->id);
            bind_i64(&s, e->request_ids[i]);
            ec = stmt_exec(c, &s, "disclosure_released", err);
        }
    }
    return ec;
}

static void read_export(row *r, void *item)
{
    store_disclosure_export *e = item;
    memset(e, 0, sizeof *e);
    e->id = rd_i64(r);
    e->order_id = rd_i64(r);
    e->exported_by = rd_str(r);
    e->role = rd_str(r);
    e->exported_at = rd_i64(r);
    e->classes = rd_classes(r);
    rd_fixed(r, e->digest, sizeof e->digest);
    e->bytes = rd_i64(r);
}

err_code sqd_disclosure_exports(store_conn *c, int64_t order_id, pool_t *pool,
                                store_disclosure_export **out, size_t *count, err_t *err)
{
    stmt s;
    void *list = NULL;
    err_code ec = dstmt_get(c, DST_EXPORT_LIST, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, order_id);
    ec = rows_collect(c, &s, "disclosure_export", read_export, sizeof **out, pool, &list, count,
                      err);
    store_disclosure_export *ex = list;
    for (size_t i = 0; ec == ERR_OK && i < *count; i++)
        ec = id_list(c, DST_RELEASED_LIST, ex[i].id, pool, &ex[i].request_ids, &ex[i].nrequests,
                     err);
    *out = ex;
    return ec;
}

/* ---- the figures ---- */

typedef struct {
    stats_row_fn fn;
    void *ctx;
} stats_visit;

static err_code visit_stats_row(row *r, void *ctx, err_t *err)
{
    stats_visit *v = ctx;
    stats_row sr;
    sr.service_code = rd_name(r);
    sr.agency_code = rd_name(r);
    sr.requested_at = rd_i64(r);
    sr.closed_at = rd_opt_time(r);
    sr.expected_at = rd_opt_time(r);
    const char *status = rd_name(r);
    if (status == NULL || !sr_status_parse(status, &sr.status))
        r->unknown = true;
    const char *res = rd_name(r);
    sr.resolution = SR_RES_NONE;
    if (res != NULL && !sr_resolution_parse(res, &sr.resolution))
        r->unknown = true;
    err_code ec = rd_done(r, "request", err);
    return ec == ERR_OK ? v->fn(v->ctx, &sr, err) : ec;
}

err_code sqd_stats_rows(store_conn *c, int64_t from, int64_t to, stats_row_fn fn, void *ctx,
                        err_t *err)
{
    stmt s;
    stats_visit v = {fn, ctx};
    err_code ec = dstmt_get(c, DST_STATS_ROWS, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, from);
    bind_i64(&s, to);
    return stmt_each(c, &s, "request", NULL, visit_stats_row, &v, err);
}
