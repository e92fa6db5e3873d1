/*
 * sqlite_lifecycle.c - the SQLite backend's part of the request lifecycle
 * and the agency queue (issue 5: W3, W4, W5): locking a request to change
 * it, the row updates a transfer and a merge make, and the queue's SQL.
 *
 * The queue runs for one agency and one part at a time (store.c merges
 * agencies and the two parts of the SLA order), so that every statement
 * reads one index range in the order wanted and stops at the page: the
 * equality on agency_code, then the sort column. The work still to do
 * (requests not closed) reads the partial indexes of schema version 6,
 * whose predicate the SQL repeats word for word. Each statement names its
 * index (INDEXED BY, qb_index) and writes the filters that are not that
 * index's columns with a unary +, so they stay filters.
 * tests/unit/test_lifecycle_store.c checks every shape's plan.
 *
 * Values are bound, never spliced; no column read here holds personal data.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"
#include "store/sqlite_int.h"
#include "util/buf.h"

typedef enum { LS_LAST_EVENT, LS_TRANSFER, LS_MERGE, LS_N } lc_stmt_id;

static const char *const LC_SQL[LS_N] = {
    /* request_event_request (request_id, id) answers it from its last entry. */
    [LS_LAST_EVENT] = "SELECT COALESCE(MAX(id), 0) FROM request_event WHERE request_id = ?1",
    [LS_TRANSFER] = "UPDATE request SET agency_code = ?2, status = ?3, "
                    "updated_at = MAX(updated_at, ?4), status_notes = COALESCE(?5, status_notes) "
                    "WHERE id = ?1 AND pending = 0",
    [LS_MERGE] = "UPDATE request SET status = ?2, resolution = ?3, merged_into = ?4, "
                 "updated_at = MAX(updated_at, ?5), closed_at = COALESCE(closed_at, ?5), "
                 "status_notes = COALESCE(?6, status_notes) WHERE id = ?1 AND pending = 0",
};

_Static_assert(LS_N <= SQ_LIFECYCLE_STMT_SLOTS, "raise SQ_LIFECYCLE_STMT_SLOTS in sqlite_int.h");

static err_code lc_stmt(store_conn *c, lc_stmt_id id, stmt *s, err_t *err)
{
    return stmt_prepare(c, &c->lifecycle_stmt[id], LC_SQL[id], s, err);
}

/* ---- changing a request ---- */

/* SQLite has no row locks: the transaction's BEGIN IMMEDIATE holds the
 * database's write lock, so what is read here cannot change before the
 * caller commits. need_txn makes sure there is one. */
err_code sqlc_request_lock(store_conn *c, int64_t id, pool_t *pool, service_request *out,
                           int64_t *last_event, err_t *err)
{
    stmt s;
    err_code ec = need_txn(c, "store_request_lock", err);
    if (ec == ERR_OK)
        ec = sq_request_read(c, id, pool, out, err);
    if (ec == ERR_OK)
        ec = lc_stmt(c, LS_LAST_EVENT, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, id);
    return stmt_int(c, &s, "request_event", last_event, err);
}

err_code sqlc_transfer_apply(store_conn *c, const sr_event *ev, err_t *err)
{
    stmt s;
    err_code ec = lc_stmt(c, LS_TRANSFER, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, ev->request_id);
    bind_str(&s, ev->to_agency);
    bind_str(&s, sr_status_name(ev->status));
    bind_i64(&s, ev->at);
    bind_str(&s, ev->public_note ? ev->note : NULL);
    return stmt_exec_found(c, &s, "request", "no such service request", err);
}

err_code sqlc_merge_apply(store_conn *c, const sr_event *ev, err_t *err)
{
    stmt s;
    err_code ec = lc_stmt(c, LS_MERGE, &s, err);
    if (ec != ERR_OK)
        return ec;
    bind_i64(&s, ev->request_id);
    bind_str(&s, sr_status_name(ev->status));
    bind_str(&s, sr_resolution_name(ev->resolution));
    bind_i64(&s, ev->merged_into);
    bind_i64(&s, ev->at);
    bind_str(&s, ev->public_note ? ev->note : NULL);
    return stmt_exec_found(c, &s, "request", "no such service request", err);
}

/* ---- the agency queue ---- */

/* Room for every value a queue statement binds: the agency, statuses and
 * services (IN lists padded to a power of two, as sqlite.c's searches do,
 * so the statement cache sees few shapes), the window, now, the page. */
#define QB_MAX (1 + 8 + 128 + 8)

typedef struct {
    buf_t sql;
    struct {
        bool text;
        int64_t i;
        const char *s;
    } binds[QB_MAX];
    size_t n;
    bool overflow;
} queue_build;

static void qb_int(queue_build *b, int64_t v)
{
    if (b->n == QB_MAX) {
        b->overflow = true;
        return;
    }
    b->binds[b->n].text = false;
    b->binds[b->n++].i = v;
}

static void qb_text(queue_build *b, const char *v)
{
    if (b->n == QB_MAX) {
        b->overflow = true;
        return;
    }
    b->binds[b->n].text = true;
    b->binds[b->n++].s = v;
}

static size_t qb_padded(size_t n)
{
    size_t p = 1;
    while (p < n)
        p *= 2;
    return p;
}

static void qb_in(queue_build *b, const char *column, const char *const *v, size_t n)
{
    buf_printf(&b->sql, " AND %s IN (", column);
    for (size_t i = 0; i < qb_padded(n); i++) {
        buf_puts(&b->sql, i == 0 ? "?" : ", ?");
        qb_text(b, v[i < n ? i : n - 1]);
    }
    buf_putc(&b->sql, ')');
}

#define QUEUE_ALL_STATUSES ((1u << SR_STATUS_COUNT) - 1)
#define QUEUE_CLOSED_BIT (1u << (unsigned)SR_CLOSED)

/* The sort column of q's order and part: what the index range runs over. */
static const char *qb_sort_column(const store_queue_query *q, store_queue_part part)
{
    if (part == STORE_QUEUE_DUE)
        return "expected_at";
    if (part == STORE_QUEUE_NO_DUE)
        return "requested_at";
    return q->sort == STORE_QUEUE_UPDATED ? "updated_at" : "requested_at";
}

/* The index each statement reads, named with INDEXED BY: without
 * statistics the planner takes the full (agency_code, updated_at) index as
 * readily as the partial one, and would walk every closed request of the
 * agency; named, the plan cannot drift, and a change that makes the index
 * unusable fails the statement (and the plan test) instead of scanning. */
static const char *qb_index(const store_queue_query *q, store_queue_part part, bool count_only)
{
    bool with_closed = (q->status_mask & QUEUE_CLOSED_BIT) != 0;
    if (with_closed) /* no SLA order, no overdue: store.c refuses them */
        return !count_only && q->sort == STORE_QUEUE_UPDATED ? "request_agency_updated"
                                                             : "request_agency";
    if (count_only) /* the smallest range: overdue is a range of expected_at */
        return q->overdue || part == STORE_QUEUE_DUE ? "request_open_due" : "request_open_filed";
    const char *col = qb_sort_column(q, part);
    if (strcmp(col, "expected_at") == 0)
        return "request_open_due";
    return strcmp(col, "updated_at") == 0 ? "request_open_updated" : "request_open_filed";
}

static void qb_where(queue_build *b, const store_queue_query *q, const char *agency_code,
                     store_queue_part part, bool count_only)
{
    const char *idx = qb_index(q, part, count_only);
    bool by_filed = strcmp(idx, "request_open_filed") == 0 || strcmp(idx, "request_agency") == 0;
    bool by_due = strcmp(idx, "request_open_due") == 0;
    buf_printf(&b->sql, " FROM request INDEXED BY %s WHERE agency_code = ?", idx);
    qb_text(b, agency_code);
    bool with_closed = (q->status_mask & QUEUE_CLOSED_BIT) != 0;
    if (!with_closed) /* the partial indexes' predicate, word for word */
        buf_puts(&b->sql, " AND status <> 'closed'");
    buf_puts(&b->sql, " AND pending = 0");
    unsigned wanted = with_closed ? QUEUE_ALL_STATUSES : QUEUE_ALL_STATUSES & ~QUEUE_CLOSED_BIT;
    if (q->status_mask != wanted) {
        const char *names[SR_STATUS_COUNT];
        size_t n = 0;
        for (unsigned st = 0; st < SR_STATUS_COUNT; st++)
            if (q->status_mask & (1u << st))
                names[n++] = sr_status_name((sr_status)st);
        qb_in(b, "+status", names, n);
    }
    if (q->nservice_codes > 0)
        qb_in(b, "+service_code", q->service_codes, q->nservice_codes);
    if (q->filed_from != 0) {
        buf_printf(&b->sql, " AND %srequested_at >= ?", by_filed ? "" : "+");
        qb_int(b, q->filed_from);
    }
    if (q->filed_to != 0) {
        buf_printf(&b->sql, " AND %srequested_at <= ?", by_filed ? "" : "+");
        qb_int(b, q->filed_to);
    }
    if (part == STORE_QUEUE_DUE)
        buf_puts(&b->sql, " AND expected_at IS NOT NULL");
    else if (part == STORE_QUEUE_NO_DUE)
        buf_puts(&b->sql, " AND +expected_at IS NULL");
    if (q->overdue) {
        buf_printf(&b->sql, " AND %sexpected_at < ?", by_due ? "" : "+");
        qb_int(b, q->now);
    }
}

static void qb_order(queue_build *b, const store_queue_query *q, store_queue_part part)
{
    const char *col = qb_sort_column(q, part);
    bool desc = part == STORE_QUEUE_ALL &&
                (q->sort == STORE_QUEUE_NEWEST || q->sort == STORE_QUEUE_UPDATED);
    buf_printf(&b->sql, " ORDER BY %s %s, id %s", col, desc ? "DESC" : "ASC",
               desc ? "DESC" : "ASC");
}

#define QUEUE_COLS                                                                                 \
    "id, service_code, agency_code, status, resolution, requested_at, updated_at, expected_at, "   \
    "closed_at, merged_into"

/* count_only: SELECT COUNT(*) with the same filters; else one page. */
static void qb_build(queue_build *b, const store_queue_query *q, const char *agency_code,
                     store_queue_part part, bool count_only, size_t limit, int64_t offset)
{
    buf_puts(&b->sql, count_only ? "SELECT COUNT(*)" : "SELECT " QUEUE_COLS);
    qb_where(b, q, agency_code, part, count_only);
    if (count_only)
        return;
    qb_order(b, q, part);
    buf_puts(&b->sql, " LIMIT ? OFFSET ?");
    qb_int(b, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    qb_int(b, offset);
}

err_code store_sqlite_queue_sql(const store_queue_query *q, const char *agency_code,
                                store_queue_part part, bool count_only, char **sql, err_t *err)
{
    queue_build *b = calloc(1, sizeof *b);
    if (b == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    qb_build(b, q, agency_code, part, count_only, 1, 0);
    *sql = buf_failed(&b->sql) ? NULL : buf_detach(&b->sql);
    buf_free(&b->sql);
    free(b);
    return *sql != NULL ? ERR_OK : err_set(err, ERR_NOMEM, "out of memory");
}

/* Prepares (through the search cache) and binds the statement b built. */
static err_code qb_stmt(store_conn *c, queue_build *b, stmt *s, err_t *err)
{
    *s = (stmt){NULL, 0, SQLITE_OK};
    if (buf_failed(&b->sql))
        return err_set(err, ERR_NOMEM, "out of memory");
    if (b->overflow)
        return err_set(err, ERR_INTERNAL, "queue: too many values to bind");
    err_code ec = sq_search_stmt(c, b->sql.data, &s->st, err);
    if (ec != ERR_OK)
        return ec;
    for (size_t i = 0; i < b->n; i++) {
        if (b->binds[i].text)
            bind_str(s, b->binds[i].s);
        else
            bind_i64(s, b->binds[i].i);
    }
    return ERR_OK;
}

static void read_queue_row(row *r, void *item)
{
    store_queue_row *q = item;
    memset(q, 0, sizeof *q);
    q->id = rd_i64(r);
    q->service_code = rd_str(r);
    q->agency_code = rd_str(r);
    if (!sr_status_parse(rd_name(r), &q->status))
        r->unknown = true;
    const char *res = rd_name(r);
    if (res != NULL && !sr_resolution_parse(res, &q->resolution))
        r->unknown = true;
    q->requested_at = rd_i64(r);
    q->updated_at = rd_i64(r);
    q->expected_at = rd_opt_time(r);
    q->closed_at = rd_opt_time(r);
    q->merged_into = rd_opt_id(r);
}

err_code sqlc_queue_fetch(store_conn *c, const store_queue_query *q, const char *agency_code,
                          store_queue_part part, size_t limit, int64_t offset, pool_t *pool,
                          store_queue_row **out, size_t *count, err_t *err)
{
    *out = NULL;
    *count = 0;
    if (limit == 0)
        return ERR_OK;
    queue_build *b = calloc(1, sizeof *b);
    if (b == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    stmt s;
    qb_build(b, q, agency_code, part, false, limit, offset);
    err_code ec = qb_stmt(c, b, &s, err);
    void *list = NULL;
    if (ec == ERR_OK)
        ec = rows_collect(c, &s, "request", read_queue_row, sizeof **out, pool, &list, count, err);
    else
        stmt_end(&s);
    if (ec == ERR_OK)
        *out = list;
    buf_free(&b->sql);
    free(b);
    return ec;
}

err_code sqlc_queue_count(store_conn *c, const store_queue_query *q, const char *agency_code,
                          store_queue_part part, int64_t *count, err_t *err)
{
    queue_build *b = calloc(1, sizeof *b);
    if (b == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    stmt s;
    qb_build(b, q, agency_code, part, true, 0, 0);
    err_code ec = qb_stmt(c, b, &s, err);
    if (ec == ERR_OK)
        ec = stmt_int(c, &s, "request", count, err);
    else
        stmt_end(&s);
    buf_free(&b->sql);
    free(b);
    return ec;
}
