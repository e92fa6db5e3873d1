/*
 * disclosure.c - the disclosure register (see disclosure.h): checking an
 * order as an officer types it, the two-person rule, and the export, which
 * reads only through the gatekeeper and leaves the register row and the
 * audit entries in the caller's transaction before the caller may send
 * the document anywhere.
 *
 * Never logs, and never puts a personal value in an error message: the
 * messages name orders, request numbers, roles and data classes.
 */
#include "privacy/disclosure.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/audit.h"
#include "util/datetime.h"
#include "util/utf8.h"

#define PURPOSE GATE_PURPOSE_REQUIRED_BY_LAW

const char *disclosure_state_name(disclosure_state st)
{
    switch (st) {
    case DISCLOSURE_RECORDED:
        return "recorded";
    case DISCLOSURE_APPROVED:
        return "approved";
    case DISCLOSURE_CLOSED:
        return "closed";
    }
    return "?";
}

disclosure_state disclosure_state_of(const store_disclosure *o)
{
    if (o->closed_at != 0)
        return DISCLOSURE_CLOSED;
    return o->approved_at != 0 ? DISCLOSURE_APPROVED : DISCLOSURE_RECORDED;
}

bool disclosure_role_may_act(gate_role r)
{
    return r == GATE_RECORDS_OFFICER || r == GATE_PRIVACY_OFFICER;
}

static bool valid_actor(const gate_actor *a)
{
    return a != NULL && a->actor != NULL && a->actor[0] != '\0' && strlen(a->actor) <= 80 &&
           (unsigned)a->role < GATE_ROLE_COUNT;
}

static err_code need_officer(const gate_actor *a, const char *act, err_t *err)
{
    if (!valid_actor(a))
        return err_set(err, ERR_INVALID, "disclosure: who is acting, in what role");
    if (!disclosure_role_may_act(a->role))
        return err_set(err, ERR_FORBIDDEN,
                       "refused: only a records officer or a privacy officer may %s an order in "
                       "the disclosure register, not %s",
                       act, gate_role_name(a->role));
    return ERR_OK;
}

/* ---- recording ---- */

static bool printable_ascii(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > max || s[0] == ' ' || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

/* UTF-8 without control characters, trimmed, 1 to max bytes. */
static bool plain_text(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > max || !utf8_valid(s, n) || s[0] == ' ' || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A sorted copy of ids from pool; ERR_INVALID on a repeat or a number
 * that is not a request's. */
static err_code sorted_ids(const int64_t *ids, size_t n, pool_t *pool, int64_t **out, err_t *err)
{
    int64_t *copy = pool_alloc(pool, (n > 0 ? n : 1) * sizeof *copy);
    if (copy == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (n > 0)
        memcpy(copy, ids, n * sizeof *copy);
    qsort(copy, n, sizeof *copy, cmp_id);
    for (size_t i = 0; i < n; i++) {
        if (copy[i] <= 0)
            return err_set(err, ERR_INVALID, "disclosure: %lld is not a request number",
                           (long long)copy[i]);
        if (i > 0 && copy[i] == copy[i - 1])
            return err_set(err, ERR_INVALID, "disclosure: request %lld is named twice",
                           (long long)copy[i]);
    }
    *out = copy;
    return ERR_OK;
}

err_code disclosure_register(store_t *s, const gate_actor *a, const disclosure_order_input *in,
                             int64_t now, int64_t *order_id, err_t *err)
{
    err_code rc = need_officer(a, "record", err);
    if (rc != ERR_OK)
        return rc;
    if (in == NULL || order_id == NULL)
        return err_set(err, ERR_INVALID, "disclosure_register: no order");
    if (!plain_text(in->requester, DISCLOSURE_TEXT_MAX))
        return err_set(err, ERR_INVALID,
                       "the requester (the court or agency) is 1-%d bytes of "
                       "text without control characters",
                       DISCLOSURE_TEXT_MAX);
    if (!printable_ascii(in->reference, DISCLOSURE_REFERENCE_MAX))
        return err_set(err, ERR_INVALID,
                       "the reference (docket or case number) is 1-%d "
                       "printable ASCII characters",
                       DISCLOSURE_REFERENCE_MAX);
    if (!plain_text(in->legal_basis, DISCLOSURE_TEXT_MAX))
        return err_set(err, ERR_INVALID,
                       "the legal basis is 1-%d bytes of text without control "
                       "characters",
                       DISCLOSURE_TEXT_MAX);
    if (in->received_at <= 0 || in->received_at > now)
        return err_set(err, ERR_INVALID, "the order's received date must not be in the future");
    if (in->classes == 0 || (in->classes & ~(unsigned)DC_ALL) != 0)
        return err_set(err, ERR_INVALID, "an order covers at least one data class");
    if (in->request_ids == NULL || in->nrequests == 0 ||
        in->nrequests > STORE_DISCLOSURE_MAX_REQUESTS)
        return err_set(err, ERR_INVALID, "an order names 1 to %d requests",
                       STORE_DISCLOSURE_MAX_REQUESTS);
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_disclosure d;
    memset(&d, 0, sizeof d);
    rc = sorted_ids(in->request_ids, in->nrequests, pool, &d.request_ids, err);
    if (rc == ERR_OK) {
        d.requester = in->requester;
        d.reference = in->reference;
        d.legal_basis = in->legal_basis;
        d.classes = in->classes;
        d.received_at = in->received_at;
        d.recorded_by = a->actor;
        d.recorded_role = gate_role_name(a->role);
        d.recorded_at = now;
        d.nrequests = in->nrequests;
        rc = store_disclosure_insert(s, &d, err);
    }
    if (rc == ERR_OK)
        *order_id = d.id;
    pool_free(pool);
    return rc;
}

err_code disclosure_approve(store_t *s, const gate_actor *a, int64_t order_id, int64_t now,
                            err_t *err)
{
    err_code rc = need_officer(a, "approve", err);
    if (rc != ERR_OK)
        return rc;
    pool_t *pool = pool_new();
    store_disclosure o;
    rc = pool == NULL ? err_set(err, ERR_NOMEM, "out of memory")
                      : store_disclosure_get(s, order_id, pool, &o, err);
    if (rc == ERR_OK && disclosure_state_of(&o) != DISCLOSURE_RECORDED)
        rc = err_set(err, ERR_CONFLICT, "order %lld is %s already", (long long)order_id,
                     disclosure_state_name(disclosure_state_of(&o)));
    /* The two-person rule: the store's WHERE clause and the schema's CHECK
     * hold it too; this says so in words. */
    if (rc == ERR_OK && strcmp(o.recorded_by, a->actor) == 0)
        rc = err_set(err, ERR_FORBIDDEN,
                     "refused: order %lld was recorded by %s, who may not also approve it; a "
                     "second officer must",
                     (long long)order_id, a->actor);
    if (rc == ERR_OK)
        rc = store_disclosure_approve(s, order_id, a->actor, gate_role_name(a->role), now, err);
    pool_free(pool);
    return rc;
}

err_code disclosure_close(store_t *s, const gate_actor *a, int64_t order_id, int64_t now,
                          err_t *err)
{
    err_code rc = need_officer(a, "close", err);
    return rc == ERR_OK ? store_disclosure_close(s, order_id, a->actor, now, err) : rc;
}

/* ---- exporting ---- */

static void class_names(buf_t *b, unsigned mask, bool json)
{
    bool first = true;
    for (unsigned dc = 0; dc < DC_COUNT; dc++) {
        if (!(mask & DC_BIT(dc)))
            continue;
        if (!first)
            buf_putc(b, ',');
        first = false;
        if (json)
            buf_json_str(b, sr_data_class_name((data_class)dc));
        else
            buf_puts(b, sr_data_class_name((data_class)dc));
    }
}

/* Writes the "refuse" entry of a refused export and returns ERR_FORBIDDEN
 * with the same reason (it holds no personal data: an order, a request
 * number, a role, classes). */
static err_code refuse(store_t *s, const gate_actor *a, int64_t request_id, unsigned classes,
                       int64_t now, err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static err_code refuse(store_t *s, const gate_actor *a, int64_t request_id, unsigned classes,
                       int64_t now, err_t *err, const char *fmt, ...)
{
    char reason[AUDIT_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    buf_t names = BUF_INIT;
    class_names(&names, classes, false);
    audit_entry e = audit_entry_init(now, AUDIT_REFUSE, a->actor);
    e.role = gate_role_name(a->role);
    e.purpose = gate_purpose_name(PURPOSE);
    e.request_id = request_id;
    e.fields = names.len > 0 ? names.data : NULL;
    e.reason = reason;
    err_code rc = buf_failed(&names) ? err_set(err, ERR_NOMEM, "out of memory")
                                     : audit_append(s, &e, NULL, err);
    buf_free(&names);
    return rc != ERR_OK ? rc : err_set(err, ERR_FORBIDDEN, "refused: %s", reason);
}

static bool in_sorted(const int64_t *ids, size_t n, int64_t id)
{
    return bsearch(&id, ids, n, sizeof *ids, cmp_id) != NULL;
}

static void put_time(buf_t *b, const char *key, int64_t t)
{
    char iso[DT_BUFSZ];
    buf_printf(b, ",\"%s\":", key);
    if (t == 0)
        buf_puts(b, "null");
    else
        buf_printf(b, "\"%s\"", dt_format(t, iso));
}

/* The document's head: the order and who exports what. */
static void doc_head(buf_t *b, const store_disclosure *o, const gate_actor *a, unsigned classes,
                     int64_t now)
{
    buf_printf(b, "{\"civic311_disclosure\":1,\"order\":{\"id\":%lld", (long long)o->id);
    buf_puts(b, ",\"requester\":");
    buf_json_str(b, o->requester);
    buf_puts(b, ",\"reference\":");
    buf_json_str(b, o->reference);
    buf_puts(b, ",\"legal_basis\":");
    buf_json_str(b, o->legal_basis);
    put_time(b, "received", o->received_at);
    buf_puts(b, ",\"recorded_by\":");
    buf_json_str(b, o->recorded_by);
    buf_puts(b, ",\"approved_by\":");
    buf_json_str(b, o->approved_by);
    put_time(b, "approved_at", o->approved_at);
    buf_puts(b, "},\"export\":{\"by\":");
    buf_json_str(b, a->actor);
    buf_puts(b, ",\"role\":");
    buf_json_str(b, gate_role_name(a->role));
    buf_puts(b, ",\"purpose\":");
    buf_json_str(b, gate_purpose_name(PURPOSE));
    put_time(b, "at", now);
    buf_puts(b, ",\"classes\":[");
    class_names(b, classes, true);
    buf_puts(b, "]},\"requests\":[");
}

/* One request's entry: its fields through gate_read_request, its files
 * through gate_read_blob (each read audited by the gatekeeper). */
static err_code doc_request(store_t *s, const keyring_t *k, const gate_actor *a, int64_t id,
                            unsigned classes, int64_t now, pool_t *pool, buf_t *b,
                            int64_t *subject_id, err_t *err)
{
    service_request sr;
    err_code rc = store_request_get(s, id, pool, &sr, err);
    if (rc != ERR_OK)
        return rc;
    gate_view v;
    memset(&v, 0, sizeof v);
    unsigned field_classes =
        classes & (DC_BIT(DC_CONTACT) | DC_BIT(DC_DEVICE) | DC_BIT(DC_ACCOUNT));
    if (field_classes != 0 &&
        (rc = gate_read_request(s, k, a, PURPOSE, id, field_classes, now, pool, &v, err)) != ERR_OK)
        return rc;
    *subject_id = v.subject_id;
    buf_printf(b, "{\"request\":%lld,\"service_code\":", (long long)id);
    buf_json_str(b, sr.service_code);
    put_time(b, "requested", sr.requested_at);
    buf_printf(b, ",\"erased\":%s,\"fields\":{", v.erased ? "true" : "false");
    bool first = true;
    for (size_t i = 0; i < SR_PERSONAL_FIELD_COUNT; i++) {
        const char *val = sr_reporter_get(&v.reporter, &SR_PERSONAL_FIELDS[i]);
        if (val == NULL)
            continue;
        if (!first)
            buf_putc(b, ',');
        first = false;
        buf_json_str(b, SR_PERSONAL_FIELDS[i].name);
        buf_putc(b, ':');
        buf_json_str(b, val);
    }
    buf_puts(b, "},\"files\":[");
    store_blob *blobs = NULL;
    size_t nblobs = 0;
    unsigned file_classes = classes & (DC_BIT(DC_MEDIA) | DC_BIT(DC_RECORDING));
    if (file_classes != 0)
        rc = store_blob_list(s, id, pool, &blobs, &nblobs, err);
    first = true;
    for (size_t i = 0; rc == ERR_OK && i < nblobs; i++) {
        if (!(file_classes & DC_BIT(blobs[i].dclass)))
            continue;
        const unsigned char *data;
        size_t len;
        const char *ctype;
        rc = gate_read_blob(s, k, a, PURPOSE, blobs[i].id, now, pool, &data, &len, &ctype, err);
        if (rc != ERR_OK)
            break;
        if (*subject_id == 0)
            *subject_id = blobs[i].subject_id;
        size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = pool_alloc(pool, b64len);
        if (b64 == NULL)
            return err_set(err, ERR_NOMEM, "out of memory");
        sodium_bin2base64(b64, b64len, data, len, sodium_base64_VARIANT_ORIGINAL);
        buf_puts(b, first ? "{\"class\":" : ",{\"class\":");
        first = false;
        buf_json_str(b, sr_data_class_name(blobs[i].dclass));
        buf_puts(b, ",\"content_type\":");
        buf_json_str(b, ctype);
        buf_printf(b, ",\"size\":%zu,\"data\":\"%s\"}", len, b64);
    }
    buf_puts(b, "]}");
    return rc;
}

/* Which classes and requests the officer asks for, checked against the
 * order and the policy; a refusal is recorded. *ids is sorted. */
static err_code export_scope(store_t *s, const gate_actor *a, const store_disclosure *o,
                             const int64_t *request_ids, size_t nrequests, unsigned classes,
                             int64_t now, pool_t *pool, int64_t **ids, size_t *n, unsigned *mask,
                             err_t *err)
{
    *mask = classes != 0 ? classes : o->classes;
    if ((*mask & ~(unsigned)DC_ALL) != 0)
        return err_set(err, ERR_INVALID, "disclosure: unknown data classes");
    if (nrequests == 0) {
        *ids = o->request_ids;
        *n = o->nrequests;
    } else {
        if (nrequests > STORE_DISCLOSURE_MAX_REQUESTS)
            return err_set(err, ERR_INVALID, "an export names at most %d requests",
                           STORE_DISCLOSURE_MAX_REQUESTS);
        err_code rc = sorted_ids(request_ids, nrequests, pool, ids, err);
        if (rc != ERR_OK)
            return rc;
        *n = nrequests;
    }
    if ((*mask & ~o->classes) != 0) {
        buf_t extra = BUF_INIT;
        class_names(&extra, *mask & ~o->classes, false);
        err_code rc = buf_failed(&extra) ? err_set(err, ERR_NOMEM, "out of memory")
                                         : refuse(s, a, 0, *mask, now, err,
                                                  "disclosure: order %lld does not cover %s data",
                                                  (long long)o->id, extra.data);
        buf_free(&extra);
        return rc;
    }
    for (size_t i = 0; i < *n; i++)
        if (!in_sorted(o->request_ids, o->nrequests, (*ids)[i]))
            return refuse(s, a, (*ids)[i], *mask, now, err,
                          "disclosure: request %lld is outside the scope of order %lld",
                          (long long)(*ids)[i], (long long)o->id);
    /* The gatekeeper decides each read too; asking it first means a class
     * it would refuse is refused before any read, so no export stops half
     * way with some requests read. */
    for (unsigned dc = 0; dc < DC_COUNT; dc++)
        if ((*mask & DC_BIT(dc)) && !gate_allows(a->role, PURPOSE, (data_class)dc, GATE_REL_OTHER))
            return refuse(s, a, 0, *mask, now, err,
                          "disclosure: policy: %s may not read %s data for %s",
                          gate_role_name(a->role), sr_data_class_name((data_class)dc),
                          gate_purpose_name(PURPOSE));
    return ERR_OK;
}

/* One "disclose" entry per request released. */
static err_code audit_released(store_t *s, const gate_actor *a, const store_disclosure *o,
                               const disclosure_receipt *r, int64_t request_id, int64_t subject_id,
                               int64_t now, err_t *err)
{
    buf_t names = BUF_INIT;
    class_names(&names, r->classes, false);
    char reason[AUDIT_TEXT_MAX];
    snprintf(reason, sizeof reason,
             "court order %s (register order %lld, export %lld, sha256 %.16s)", o->reference,
             (long long)o->id, (long long)r->export_id, r->digest_hex);
    audit_entry e = audit_entry_init(now, AUDIT_DISCLOSE, a->actor);
    e.role = gate_role_name(a->role);
    e.purpose = gate_purpose_name(PURPOSE);
    e.request_id = request_id;
    e.subject_id = subject_id;
    e.fields = names.data;
    e.reason = reason;
    err_code rc = buf_failed(&names) ? err_set(err, ERR_NOMEM, "out of memory")
                                     : audit_append(s, &e, NULL, err);
    buf_free(&names);
    return rc;
}

err_code disclosure_export(store_t *s, const keyring_t *k, const gate_actor *a, int64_t order_id,
                           const int64_t *request_ids, size_t nrequests, unsigned classes,
                           int64_t now, pool_t *pool, buf_t *doc, disclosure_receipt *out,
                           err_t *err)
{
    if (!valid_actor(a) || pool == NULL || doc == NULL || out == NULL ||
        (nrequests > 0 && request_ids == NULL))
        return err_set(err, ERR_INVALID, "disclosure_export: an actor, a pool and outputs");
    memset(out, 0, sizeof *out);
    store_disclosure o;
    err_code rc = store_disclosure_get(s, order_id, pool, &o, err);
    if (rc != ERR_OK)
        return rc;
    unsigned mask = classes != 0 ? classes : o.classes;
    if (!disclosure_role_may_act(a->role))
        return refuse(s, a, 0, mask, now, err,
                      "disclosure: %s may not export under order %lld; only a records or "
                      "privacy officer may",
                      gate_role_name(a->role), (long long)order_id);
    disclosure_state st = disclosure_state_of(&o);
    if (st != DISCLOSURE_APPROVED)
        return refuse(s, a, 0, mask, now, err,
                      st == DISCLOSURE_CLOSED
                          ? "disclosure: order %lld is closed"
                          : "disclosure: order %lld is not approved by a second officer",
                      (long long)order_id);
    int64_t *ids = NULL;
    size_t n = 0;
    rc = export_scope(s, a, &o, request_ids, nrequests, classes, now, pool, &ids, &n, &mask, err);
    if (rc != ERR_OK)
        return rc;

    /* The document in a buffer of its own: doc is touched only once the
     * whole export has been read and recorded. */
    buf_t b = BUF_INIT;
    int64_t *subjects = pool_calloc(pool, n, sizeof *subjects);
    if (subjects == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    doc_head(&b, &o, a, mask, now);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        if (i > 0)
            buf_putc(&b, ',');
        rc = doc_request(s, k, a, ids[i], mask, now, pool, &b, &subjects[i], err);
    }
    buf_puts(&b, "]}\n");
    if (rc == ERR_OK && buf_failed(&b))
        rc = err_set(err, ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        crypto_hash_sha256(out->digest, (const unsigned char *)b.data, b.len);
        sodium_bin2hex(out->digest_hex, sizeof out->digest_hex, out->digest, sizeof out->digest);
        store_disclosure_export ex;
        memset(&ex, 0, sizeof ex);
        ex.order_id = order_id;
        ex.exported_by = a->actor;
        ex.role = gate_role_name(a->role);
        ex.exported_at = now;
        ex.classes = mask;
        memcpy(ex.digest, out->digest, sizeof ex.digest);
        ex.bytes = (int64_t)b.len;
        ex.request_ids = ids;
        ex.nrequests = n;
        rc = store_disclosure_export_insert(s, &ex, err);
        out->export_id = ex.id;
        out->order_id = order_id;
        out->nrequests = n;
        out->classes = mask;
    }
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        rc = audit_released(s, a, &o, out, ids[i], subjects[i], now, err);
    if (rc == ERR_OK) {
        buf_append(doc, b.data, b.len);
        if (buf_failed(doc))
            rc = err_set(err, ERR_NOMEM, "out of memory");
    }
    /* The personal values in b are wiped before the memory goes back. */
    if (b.data != NULL)
        sodium_memzero(b.data, b.cap);
    buf_free(&b);
    if (rc != ERR_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

err_code disclosure_check_direct_read(store_t *s, const gate_actor *a, gate_purpose p,
                                      int64_t request_id, unsigned classes, int64_t now, err_t *err)
{
    if (!valid_actor(a))
        return err_set(err, ERR_INVALID, "disclosure: who is reading, in what role");
    if (a->role != GATE_RECORDS_OFFICER)
        return ERR_OK;
    pool_t *pool = pool_new();
    service_request sr;
    err_code rc = pool == NULL ? err_set(err, ERR_NOMEM, "out of memory")
                               : store_request_get(s, request_id, pool, &sr, err);
    pool_free(pool);
    if (rc != ERR_OK)
        return rc;
    char reason[AUDIT_TEXT_MAX];
    snprintf(reason, sizeof reason,
             "policy: a records officer reads personal data only through an export under an "
             "approved order in the disclosure register (asked for %s)",
             gate_purpose_name(p));
    buf_t names = BUF_INIT;
    class_names(&names, classes, false);
    audit_entry e = audit_entry_init(now, AUDIT_REFUSE, a->actor);
    e.role = gate_role_name(a->role);
    e.purpose = gate_purpose_name(p);
    e.request_id = request_id;
    e.fields = names.len > 0 ? names.data : NULL;
    e.reason = reason;
    rc = buf_failed(&names) ? err_set(err, ERR_NOMEM, "out of memory")
                            : audit_append(s, &e, NULL, err);
    buf_free(&names);
    if (rc != ERR_OK)
        return rc;
    return err_set(err, ERR_FORBIDDEN,
                   "refused: a records officer reads personal data only through the disclosure "
                   "register (civic311 disclosure export)");
}
