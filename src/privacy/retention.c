/*
 * retention.c - the retention engine (see retention.h): finds what a
 * schedule says is due, erases it for real (values deleted, blind indexes
 * cleared, the person's key shredded once nothing else needs it), and
 * leaves a receipt in the audit log for every erasure and every hold.
 */
#include "privacy/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/audit.h"
#include "util/buf.h"

void retention_defaults(retention_schedule *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->period[DC_CONTACT] = 90 * (int64_t)RETENTION_DAY;
    rs->after_close[DC_CONTACT] = true;
    rs->period[DC_ACCOUNT] = 90 * (int64_t)RETENTION_DAY;
    rs->after_close[DC_ACCOUNT] = true;
    rs->period[DC_MEDIA] = 90 * (int64_t)RETENTION_DAY;
    rs->after_close[DC_MEDIA] = true;
    rs->period[DC_DEVICE] = 30 * (int64_t)RETENTION_DAY;
    rs->after_close[DC_DEVICE] = false;
    rs->period[DC_RECORDING] = 14 * (int64_t)RETENTION_DAY;
    rs->after_close[DC_RECORDING] = false;
    rs->unsent_file = RETENTION_DAY;
}

/* Shreds a subject's key once no field or file is sealed under it. */
static err_code shred_if_unused(store_t *s, int64_t subject_id, int64_t now,
                                retention_report *rep, bool *shredded, err_t *err)
{
    int64_t left;
    err_code rc = store_subject_usage(s, subject_id, &left, err);
    if (rc != ERR_OK || left > 0)
        return rc;
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_subject sub;
    rc = store_subject_get(s, subject_id, pool, &sub, err);
    bool keyed = rc == ERR_OK && sub.wrapped_key != NULL;
    pool_free(pool);
    if (rc != ERR_OK || !keyed)
        return rc;
    if ((rc = store_subject_erase(s, subject_id, now, err)) == ERR_OK) {
        rep->subjects++;
        *shredded = true;
    }
    return rc;
}

static void list_add(buf_t *b, const char *name)
{
    if (b->len > 0)
        buf_putc(b, ',');
    buf_puts(b, name);
}

err_code retention_erase_request(store_t *s, int64_t request_id, unsigned class_mask,
                                 const char *actor, const char *reason, int64_t now,
                                 retention_report *rep, err_t *err)
{
    if (class_mask == 0 || (class_mask & ~DC_ALL) != 0 || actor == NULL || reason == NULL)
        return err_set(err, ERR_INVALID, "an erasure names classes, an actor and a reason");
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    service_request sr;
    store_personal *rows = NULL;
    store_blob *blobs = NULL;
    size_t nrows = 0, nblobs = 0, records = 0, erased = 0, blobs_erased = 0;
    bool held = false, shredded = false;
    int64_t subject_id = 0;
    buf_t fields = BUF_INIT;

    err_code rc = store_request_get(s, request_id, pool, &sr, err);
    if (rc == ERR_OK)
        rc = store_personal_list(s, request_id, pool, &rows, &nrows, err);
    if (rc == ERR_OK)
        rc = store_blob_list(s, request_id, pool, &blobs, &nblobs, err);
    if (rc == ERR_OK) {
        subject_id = nrows > 0 ? rows[0].subject_id : nblobs > 0 ? blobs[0].subject_id : 0;
        rc = store_hold_active(s, request_id, subject_id, &held, err);
    }
    /* A record of another class may be another person's (an account's):
     * a hold on any person whose data this erasure would touch stops it. */
    for (size_t i = 0; rc == ERR_OK && !held && i < nrows; i++)
        if ((class_mask & DC_BIT(rows[i].dclass)) && rows[i].subject_id != subject_id)
            rc = store_hold_active(s, 0, rows[i].subject_id, &held, err);
    for (size_t i = 0; rc == ERR_OK && !held && i < nblobs; i++)
        if ((class_mask & DC_BIT(blobs[i].dclass)) && blobs[i].subject_id != subject_id)
            rc = store_hold_active(s, 0, blobs[i].subject_id, &held, err);
    if (rc == ERR_OK && held) {
        rep->held++;
        rc = err_set(err, ERR_CONFLICT,
                     "request %lld is under a legal hold: its personal data cannot be erased "
                     "until the hold is released",
                     (long long)request_id);
    }
    /* The receipt names the fields erased, from each record's fields
     * column: nothing is opened to erase it. */
    size_t listed = 0;
    for (size_t i = 0; rc == ERR_OK && i < nrows; i++)
        if (class_mask & DC_BIT(rows[i].dclass)) {
            list_add(&fields, rows[i].fields);
            erased += store_personal_fields_count(rows[i].fields, rows[i].dclass);
            listed++;
        }
    if (rc == ERR_OK)
        rc = store_personal_erase(s, request_id, class_mask, &records, err);
    /* Listed and deleted in one transaction: a difference is a bug, and a
     * receipt that did not match what went would be worse than none. */
    if (rc == ERR_OK && records != listed)
        rc = err_set(err, ERR_INTERNAL, "erasure of request %lld: %zu records listed, %zu deleted",
                     (long long)request_id, listed, records);
    /* Blind indexes exist only for contact data (email, phone). */
    if (rc == ERR_OK && (class_mask & DC_BIT(DC_CONTACT)))
        rc = store_blind_erase(s, request_id, NULL, err);
    /* So do follows (W6): a follow whose address was in this record goes
     * with it, wherever a merge moved it, and so do the emails still
     * waiting to be sent to it. Nobody is written to after erasure. */
    size_t follows = 0;
    if (rc == ERR_OK && (class_mask & DC_BIT(DC_CONTACT)))
        rc = store_follow_erase_contact(s, request_id, &follows, err);
    if (rc == ERR_OK && follows > 0)
        list_add(&fields, "follow");
    for (size_t i = 0; rc == ERR_OK && i < nblobs; i++) {
        if ((class_mask & DC_BIT(blobs[i].dclass)) == 0)
            continue;
        if ((rc = store_blob_erase(s, blobs[i].id, err)) == ERR_OK) {
            blobs_erased++;
            list_add(&fields, sr_data_class_name(blobs[i].dclass));
        }
    }
    /* Every subject this request used, once its last value is gone. */
    for (size_t i = 0; rc == ERR_OK && i < nrows; i++)
        if (i == 0 || rows[i].subject_id != rows[i - 1].subject_id)
            rc = shred_if_unused(s, rows[i].subject_id, now, rep, &shredded, err);
    for (size_t i = 0; rc == ERR_OK && i < nblobs; i++)
        rc = shred_if_unused(s, blobs[i].subject_id, now, rep, &shredded, err);
    if (rc == ERR_OK && buf_failed(&fields))
        rc = err_set(err, ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        char why[AUDIT_TEXT_MAX];
        snprintf(why, sizeof why, "%s%s", reason, shredded ? "; data key shredded" : "");
        audit_entry e = audit_entry_init(now, AUDIT_ERASE, actor);
        e.subject_id = subject_id;
        e.request_id = request_id;
        e.fields = fields.data != NULL ? fields.data : "";
        e.reason = why;
        e.count = (int64_t)(erased + blobs_erased);
        rc = audit_append(s, &e, NULL, err);
    }
    if (rc == ERR_OK) {
        rep->values += (int64_t)erased;
        rep->blobs += (int64_t)blobs_erased;
        if (erased + blobs_erased > 0)
            rep->requests++;
    }
    buf_free(&fields);
    pool_free(pool);
    return rc;
}

/* Erases one due file that belongs to no request yet, or whose request's
 * other data is not due: the file alone. */
static err_code erase_blob(store_t *s, int64_t blob_id, int64_t now, retention_report *rep,
                           bool unsent, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_blob b;
    bool shredded = false;
    err_code rc = store_blob_get(s, blob_id, pool, &b, err);
    if (rc == ERR_OK)
        rc = store_blob_erase(s, blob_id, err);
    if (rc == ERR_OK)
        rc = shred_if_unused(s, b.subject_id, now, rep, &shredded, err);
    if (rc == ERR_OK) {
        char why[AUDIT_TEXT_MAX];
        snprintf(why, sizeof why, "retention:%s%s%s", sr_data_class_name(b.dclass),
                 unsent ? "; report never sent" : "", shredded ? "; data key shredded" : "");
        audit_entry e = audit_entry_init(now, AUDIT_ERASE, "system");
        e.subject_id = b.subject_id;
        e.request_id = b.request_id;
        e.fields = sr_data_class_name(b.dclass);
        e.reason = why;
        e.count = 1;
        rc = audit_append(s, &e, NULL, err);
    }
    if (rc == ERR_OK) {
        rep->blobs++;
        rep->requests += b.request_id != 0;
    }
    pool_free(pool);
    return rc;
}

typedef struct {
    int64_t request_id;
    unsigned classes;
} due_item;

static int due_cmp(const void *a, const void *b)
{
    int64_t x = ((const due_item *)a)->request_id, y = ((const due_item *)b)->request_id;
    return (x > y) - (x < y);
}

/* One erasure per request, however many of its classes fell due: the
 * receipt then tells the whole story of that request's erasure. */
static err_code erase_due_requests(store_t *s, due_item *items, size_t n, int64_t now,
                                   retention_report *rep, err_t *err)
{
    qsort(items, n, sizeof *items, due_cmp);
    err_code rc = ERR_OK;
    for (size_t i = 0; rc == ERR_OK && i < n;) {
        unsigned mask = 0;
        size_t j = i;
        for (; j < n && items[j].request_id == items[i].request_id; j++)
            mask |= items[j].classes;
        buf_t reason = BUF_INIT;
        buf_puts(&reason, "retention:");
        size_t empty = reason.len;
        for (unsigned dc = 0; dc < DC_COUNT; dc++)
            if (mask & DC_BIT(dc)) {
                if (reason.len > empty)
                    buf_putc(&reason, ',');
                buf_puts(&reason, sr_data_class_name((data_class)dc));
            }
        rc = buf_failed(&reason) ? err_set(err, ERR_NOMEM, "out of memory")
                                 : retention_erase_request(s, items[i].request_id, mask, "system",
                                                           reason.data, now, rep, err);
        if (rc == ERR_CONFLICT) /* a hold placed since the query: skip it */
            rc = ERR_OK;
        buf_free(&reason);
        i = j;
    }
    return rc;
}

err_code retention_step(store_t *s, const retention_schedule *rs, int64_t now, size_t max,
                        retention_report *rep, bool *more, err_t *err)
{
    *more = false;
    if (max == 0)
        max = 500;
    pool_t *pool = pool_new();
    due_item *items = pool != NULL ? pool_calloc(pool, max * DC_COUNT, sizeof *items) : NULL;
    if (items == NULL) {
        pool_free(pool);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    size_t nitems = 0;
    err_code rc = ERR_OK;
    for (unsigned dc = 0; dc < DC_COUNT && rc == ERR_OK; dc++) {
        int64_t period = rs->period[dc];
        if (period < 0 || period > now)
            continue;
        int64_t before = now - period;
        int64_t *ids;
        size_t n = 0;
        rc = store_personal_due(s, (data_class)dc, rs->after_close[dc], before, max, pool, &ids,
                                &n, err);
        for (size_t i = 0; rc == ERR_OK && i < n; i++)
            items[nitems++] = (due_item){ids[i], DC_BIT(dc)};
        if (n == max)
            *more = true;
        if (dc != DC_MEDIA && dc != DC_RECORDING) /* only files have these classes */
            continue;
        if (rc == ERR_OK)
            rc = store_blob_due(s, (data_class)dc, rs->after_close[dc], before, max, pool, &ids,
                                &n, err);
        for (size_t i = 0; rc == ERR_OK && i < n; i++)
            rc = erase_blob(s, ids[i], now, rep, false, err);
        if (n == max)
            *more = true;
    }
    if (rc == ERR_OK && rs->unsent_file >= 0 && rs->unsent_file <= now) {
        int64_t *ids;
        size_t n = 0;
        rc = store_blob_orphans(s, now - rs->unsent_file, max, pool, &ids, &n, err);
        for (size_t i = 0; rc == ERR_OK && i < n; i++)
            rc = erase_blob(s, ids[i], now, rep, true, err);
        if (n == max)
            *more = true;
    }
    if (rc == ERR_OK)
        rc = erase_due_requests(s, items, nitems, now, rep, err);
    pool_free(pool);
    return rc;
}

err_code retention_run(store_t *s, const keyring_t *k, const retention_schedule *rs, int64_t now,
                       size_t batch, retention_report *rep, err_t *err)
{
    bool more = true;
    while (more) {
        err_code rc = store_begin(s, err);
        if (rc != ERR_OK)
            return rc;
        rc = retention_step(s, rs, now, batch, rep, &more, err);
        rc = audit_commit(s, k, now, rc, err);
        if (rc != ERR_OK)
            return rc;
    }
    if (rep->values + rep->blobs + rep->subjects > 0)
        return store_compact(s, err);
    return ERR_OK;
}

err_code retention_hold_place(store_t *s, int64_t request_id, int64_t subject_id,
                              const char *reason, const char *actor, int64_t now, int64_t *id_out,
                              err_t *err)
{
    if ((request_id <= 0 && subject_id <= 0) || reason == NULL || *reason == '\0' ||
        actor == NULL)
        return err_set(err, ERR_INVALID, "a legal hold names a request or a person, and why");
    store_hold h = {
        .request_id = request_id > 0 ? request_id : 0,
        .subject_id = subject_id > 0 ? subject_id : 0,
        .reason = reason,
        .placed_by = actor,
        .placed_at = now,
    };
    err_code rc = store_hold_insert(s, &h, err);
    if (rc != ERR_OK)
        return rc;
    audit_entry e = audit_entry_init(now, AUDIT_HOLD, actor);
    e.request_id = h.request_id;
    e.subject_id = h.subject_id;
    e.reason = reason;
    if ((rc = audit_append(s, &e, NULL, err)) == ERR_OK && id_out != NULL)
        *id_out = h.id;
    return rc;
}

err_code retention_hold_release(store_t *s, int64_t hold_id, const char *actor, int64_t now,
                                err_t *err)
{
    if (actor == NULL)
        return err_set(err, ERR_INVALID, "a release names who releases");
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_hold *holds;
    size_t n = 0;
    const store_hold *h = NULL;
    err_code rc = store_hold_list(s, true, pool, &holds, &n, err);
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        if (holds[i].id == hold_id)
            h = &holds[i];
    if (rc == ERR_OK && h == NULL)
        rc = err_set(err, ERR_NOT_FOUND, "there is no active legal hold %lld", (long long)hold_id);
    if (rc == ERR_OK)
        rc = store_hold_release(s, hold_id, actor, now, err);
    if (rc == ERR_OK) {
        char reason[64];
        snprintf(reason, sizeof reason, "hold %lld released", (long long)hold_id);
        audit_entry e = audit_entry_init(now, AUDIT_RELEASE, actor);
        e.request_id = h->request_id;
        e.subject_id = h->subject_id;
        e.reason = reason;
        rc = audit_append(s, &e, NULL, err);
    }
    pool_free(pool);
    return rc;
}
