/*
 * gate.c - the gatekeeper (see gate.h): the access policy as one table,
 * and the three ways personal data leaves the vault (a request's fields,
 * a file, a blind-index lookup), each decided by that table and recorded
 * in the audit log in the caller's transaction.
 */
#include "privacy/gate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/account.h"
#include "privacy/audit.h"
#include "privacy/seal.h"
#include "privacy/vault.h"
#include "util/buf.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const ROLE_NAMES[] = {"resident",        "agent",           "agency_staff",
                                         "supervisor",      "privacy_officer", "records_officer",
                                         "admin",           "notifier"};
static const char *const PURPOSE_NAMES[] = {"address_request", "city_business", "emergency",
                                            "required_by_law"};
static const char *const RELATION_NAMES[] = {"own", "routed", "other"};

_Static_assert(COUNT(ROLE_NAMES) == GATE_ROLE_COUNT, "a role without a name");
_Static_assert(COUNT(PURPOSE_NAMES) == GATE_PURPOSE_COUNT, "a purpose without a name");
_Static_assert(COUNT(RELATION_NAMES) == GATE_REL_COUNT, "a relation without a name");

static bool parse_in(const char *const *names, size_t n, const char *s, unsigned *out)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (strcmp(names[i], s) == 0) {
            *out = (unsigned)i;
            return true;
        }
    return false;
}

const char *gate_role_name(gate_role r)
{
    return (unsigned)r < GATE_ROLE_COUNT ? ROLE_NAMES[r] : "?";
}

bool gate_role_parse(const char *s, gate_role *out)
{
    unsigned v;
    if (!parse_in(ROLE_NAMES, COUNT(ROLE_NAMES), s, &v))
        return false;
    *out = (gate_role)v;
    return true;
}

const char *gate_purpose_name(gate_purpose p)
{
    return (unsigned)p < GATE_PURPOSE_COUNT ? PURPOSE_NAMES[p] : "?";
}

bool gate_purpose_parse(const char *s, gate_purpose *out)
{
    unsigned v;
    if (!parse_in(PURPOSE_NAMES, COUNT(PURPOSE_NAMES), s, &v))
        return false;
    *out = (gate_purpose)v;
    return true;
}

const char *gate_relation_name(gate_relation r)
{
    return (unsigned)r < GATE_REL_COUNT ? RELATION_NAMES[r] : "?";
}

/*
 * The policy (P3). For each role: which relationships to a request it
 * may act on at all, and per purpose the data classes it may read.
 * Need-to-know, role by role:
 *   resident        their own requests only; everything held about them
 *                   (P7), to follow their request up
 *   agent           any caller's request: contact details, photos and
 *                   the call recording to address it or in an emergency
 *   agency staff    only requests routed to their agency: contact and
 *                   photos to do the work, contact in an emergency
 *   supervisor      any request: as an agent, also for city business
 *                   (quality review of recordings)
 *   privacy officer any request, every class, only as required by law
 *                   (access requests, investigations): device data (P2)
 *                   is never read for anything else
 *   records officer any request, as required by law (court orders,
 *                   through the disclosure register)
 *   admin           runs the system and never needs personal data
 *   notifier        the outbox's sender (src/notify): the email of a
 *                   person who asked to be told of a request's changes,
 *                   to tell them (gate_read_follower_email); "own" is the
 *                   only relation, and it holds only while they follow
 */
#define REL(r) (1u << (unsigned)(r))
#define REL_ANY (REL(GATE_REL_OWN) | REL(GATE_REL_ROUTED) | REL(GATE_REL_OTHER))
#define C(dc) DC_BIT(dc)

typedef struct {
    unsigned relations;
    unsigned classes[GATE_PURPOSE_COUNT];
} gate_rule;

static const gate_rule POLICY[GATE_ROLE_COUNT] = {
    [GATE_RESIDENT] = {REL(GATE_REL_OWN), {[GATE_PURPOSE_ADDRESS_REQUEST] = DC_ALL}},
    [GATE_AGENT] = {REL_ANY,
                    {[GATE_PURPOSE_ADDRESS_REQUEST] = C(DC_CONTACT) | C(DC_MEDIA) | C(DC_RECORDING),
                     [GATE_PURPOSE_CITY_BUSINESS] = C(DC_CONTACT),
                     [GATE_PURPOSE_EMERGENCY] = C(DC_CONTACT) | C(DC_MEDIA) | C(DC_RECORDING)}},
    [GATE_AGENCY_STAFF] = {REL(GATE_REL_ROUTED),
                           {[GATE_PURPOSE_ADDRESS_REQUEST] = C(DC_CONTACT) | C(DC_MEDIA),
                            [GATE_PURPOSE_CITY_BUSINESS] = C(DC_CONTACT) | C(DC_MEDIA),
                            [GATE_PURPOSE_EMERGENCY] = C(DC_CONTACT)}},
    [GATE_SUPERVISOR] =
        {REL_ANY,
         {[GATE_PURPOSE_ADDRESS_REQUEST] = C(DC_CONTACT) | C(DC_MEDIA) | C(DC_RECORDING),
          [GATE_PURPOSE_CITY_BUSINESS] = C(DC_CONTACT) | C(DC_MEDIA) | C(DC_RECORDING),
          [GATE_PURPOSE_EMERGENCY] = C(DC_CONTACT) | C(DC_MEDIA) | C(DC_RECORDING)}},
    [GATE_PRIVACY_OFFICER] = {REL_ANY, {[GATE_PURPOSE_REQUIRED_BY_LAW] = DC_ALL}},
    [GATE_RECORDS_OFFICER] = {REL_ANY,
                              {[GATE_PURPOSE_REQUIRED_BY_LAW] = C(DC_CONTACT) | C(DC_ACCOUNT) |
                                                                C(DC_MEDIA) | C(DC_RECORDING)}},
    [GATE_ADMIN] = {0, {0}},
    [GATE_NOTIFIER] = {REL(GATE_REL_OWN), {[GATE_PURPOSE_ADDRESS_REQUEST] = C(DC_CONTACT)}},
};

bool gate_allows(gate_role role, gate_purpose purpose, data_class dc, gate_relation rel)
{
    if ((unsigned)role >= GATE_ROLE_COUNT || (unsigned)purpose >= GATE_PURPOSE_COUNT ||
        (unsigned)dc >= DC_COUNT || (unsigned)rel >= GATE_REL_COUNT)
        return false;
    const gate_rule *r = &POLICY[role];
    return (r->relations & REL(rel)) != 0 && (r->classes[purpose] & C(dc)) != 0;
}

/* How the actor stands to a request routed to agency_code whose personal
 * data is sealed under subject_id (0 = none). */
static gate_relation relation_of(const gate_actor *a, const char *agency_code,
                                 int64_t subject_id)
{
    if (a->role == GATE_RESIDENT)
        return a->subject_id != 0 && a->subject_id == subject_id ? GATE_REL_OWN : GATE_REL_OTHER;
    for (size_t i = 0; agency_code != NULL && i < a->nagencies; i++)
        if (a->agencies[i] != NULL && strcmp(a->agencies[i], agency_code) == 0)
            return GATE_REL_ROUTED;
    return GATE_REL_OTHER;
}

static void class_names(buf_t *b, unsigned mask)
{
    for (unsigned dc = 0; dc < DC_COUNT; dc++)
        if (mask & DC_BIT(dc)) {
            if (b->len > 0)
                buf_putc(b, ',');
            buf_puts(b, sr_data_class_name((data_class)dc));
        }
}

static bool valid_actor(const gate_actor *a)
{
    return a != NULL && (unsigned)a->role < GATE_ROLE_COUNT && a->actor != NULL &&
           *a->actor != '\0';
}

static audit_entry entry_for(const gate_actor *a, gate_purpose p, audit_action action,
                             int64_t now)
{
    audit_entry e = audit_entry_init(now, action, a->actor);
    e.role = gate_role_name(a->role);
    e.purpose = gate_purpose_name(p);
    return e;
}

/* Checks every class of mask; on refusal records it and fails. */
static err_code decide(store_t *s, const gate_actor *a, gate_purpose p, unsigned mask,
                       gate_relation rel, int64_t request_id, int64_t subject_id, int64_t now,
                       err_t *err)
{
    unsigned refused = 0;
    for (unsigned dc = 0; dc < DC_COUNT; dc++)
        if ((mask & DC_BIT(dc)) && !gate_allows(a->role, p, (data_class)dc, rel))
            refused |= DC_BIT(dc);
    if (refused == 0)
        return ERR_OK;
    buf_t names = BUF_INIT;
    class_names(&names, refused);
    char reason[AUDIT_TEXT_MAX];
    snprintf(reason, sizeof reason, "policy: %s may not read %s data for %s on %s requests",
             gate_role_name(a->role), names.data != NULL ? names.data : "?",
             gate_purpose_name(p), gate_relation_name(rel));
    audit_entry e = entry_for(a, p, AUDIT_REFUSE, now);
    e.subject_id = subject_id;
    e.request_id = request_id;
    e.fields = names.data;
    e.reason = reason;
    err_code rc = buf_failed(&names) ? err_set(err, ERR_NOMEM, "out of memory")
                                     : audit_append(s, &e, NULL, err);
    buf_free(&names);
    if (rc != ERR_OK)
        return rc;
    return err_set(err, ERR_FORBIDDEN, "refused: %s", reason);
}

/* A request without personal fields either never had any or had them
 * erased; the audit log's erasure receipts tell which, and whose. */
static err_code erased_before(store_t *s, int64_t request_id, pool_t *pool, gate_view *out,
                              err_t *err)
{
    store_audit_row *rows;
    size_t n = 0;
    err_code rc = store_audit_for_request(s, request_id, pool, &rows, &n, err);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        audit_entry e;
        int64_t seq;
        if (audit_entry_decode(rows[i].body, rows[i].body_len, pool, &e, &seq, err) != ERR_OK)
            return err_set(err, ERR_INTERNAL, "audit entry %lld does not decode: run "
                                              "`civic311 audit verify`",
                           (long long)rows[i].seq);
        if (e.action == AUDIT_ERASE && e.count > 0) {
            out->erased = true;
            out->subject_id = e.subject_id;
        }
    }
    return rc;
}

/* Opens one sealed record of a request into r: the pairs inside must be
 * exactly the fields its row names, each a field of the row's class, so a
 * record that was altered, moved, or relabelled opens to nothing. Adds the
 * names to fields and their number to *shown. The values stay in pool. */
static err_code open_record(const unsigned char key[SEAL_KEY_LEN], int64_t request_id,
                            const store_personal *row, pool_t *pool, sr_reporter *r, buf_t *fields,
                            int64_t *shown, err_t *err)
{
    char ad[SEAL_AD_MAX];
    seal_ad_field(ad, request_id, sr_data_class_name(row->dclass), row->subject_id,
                  row->key_version);
    size_t len = 0;
    unsigned char *plain = pool_alloc(pool, row->sealed_len - SEAL_OVERHEAD + 1);
    if (plain == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (!seal_decrypt(key, ad, row->sealed, row->sealed_len, plain, &len))
        return err_set(err, ERR_INTERNAL,
                       "the sealed %s record of request %lld does not open: it was altered or "
                       "moved",
                       sr_data_class_name(row->dclass), (long long)request_id);
    seal_pair pairs[SEAL_RECORD_MAX_PAIRS];
    const sr_personal_field *found[SEAL_RECORD_MAX_PAIRS];
    size_t npairs = 0;
    bool ok = seal_record_decode(plain, len, pairs, SEAL_RECORD_MAX_PAIRS, &npairs);
    /* Pair by pair against the row's fields column, which store.c has
     * checked is the class's own names in SR_PERSONAL_FIELDS order. */
    const char *col = row->fields;
    for (size_t i = 0; ok && i < npairs; i++) {
        size_t nl = strlen(pairs[i].name);
        ok = strncmp(col, pairs[i].name, nl) == 0 && (col[nl] == ',' || col[nl] == '\0') &&
             (col[nl] == '\0') == (i + 1 == npairs);
        if (ok)
            col += nl + (col[nl] == ',');
        found[i] = NULL;
        for (size_t j = 0; ok && j < SR_PERSONAL_FIELD_COUNT; j++)
            if (strcmp(SR_PERSONAL_FIELDS[j].name, pairs[i].name) == 0)
                found[i] = &SR_PERSONAL_FIELDS[j];
        ok = ok && found[i] != NULL && found[i]->dclass == row->dclass;
    }
    if (!ok) {
        sodium_memzero(plain, len);
        return err_set(err, ERR_INTERNAL,
                       "the sealed %s record of request %lld does not hold the fields its row "
                       "names",
                       sr_data_class_name(row->dclass), (long long)request_id);
    }
    for (size_t i = 0; i < npairs; i++) {
        sr_reporter_set(r, found[i], pairs[i].value);
        if (fields->len > 0)
            buf_putc(fields, ',');
        buf_puts(fields, pairs[i].name);
    }
    *shown += (int64_t)npairs;
    return ERR_OK;
}

err_code gate_read_request(store_t *s, const keyring_t *k, const gate_actor *a, gate_purpose p,
                           int64_t request_id, unsigned class_mask, int64_t now, pool_t *pool,
                           gate_view *out, err_t *err)
{
    if (!valid_actor(a) || (unsigned)p >= GATE_PURPOSE_COUNT || class_mask == 0 ||
        (class_mask & ~DC_ALL) != 0)
        return err_set(err, ERR_INVALID, "a read names an actor, a purpose and data classes");
    memset(out, 0, sizeof *out);
    out->request_id = request_id;

    service_request sr;
    store_personal *rows = NULL;
    size_t n = 0;
    err_code rc = store_request_get(s, request_id, pool, &sr, err);
    if (rc == ERR_OK)
        rc = store_personal_list(s, request_id, pool, &rows, &n, err);
    if (rc != ERR_OK)
        return rc;
    int64_t subject_id = n > 0 ? rows[0].subject_id : 0;
    out->subject_id = subject_id;
    if (n == 0 && (rc = erased_before(s, request_id, pool, out, err)) != ERR_OK)
        return rc;
    gate_relation rel = relation_of(a, sr.agency_code, subject_id);
    if ((rc = decide(s, a, p, class_mask, rel, request_id, subject_id, now, err)) != ERR_OK)
        return rc;

    buf_t fields = BUF_INIT;
    unsigned char key[SEAL_KEY_LEN];
    int key_version = 0;
    int64_t shown = 0; /* fields returned */
    bool have_key = false;
    for (size_t i = 0; i < n && rc == ERR_OK; i++) {
        const store_personal *row = &rows[i];
        if ((class_mask & DC_BIT(row->dclass)) == 0)
            continue;
        if (row->subject_id != subject_id || row->sealed_len < SEAL_OVERHEAD) {
            rc = err_set(err, ERR_INTERNAL, "request %lld holds a personal record we do not know",
                         (long long)request_id);
            break;
        }
        if (!have_key) {
            rc = vault_subject_key(s, k, subject_id, key, &key_version, err);
            if (rc == ERR_CONFLICT) { /* erased: nothing to show, and that is the answer */
                out->erased = true;
                rc = ERR_OK;
                break;
            }
            if (rc != ERR_OK)
                break;
            have_key = true;
        }
        rc = open_record(key, request_id, row, pool, &out->reporter, &fields, &shown, err);
        if (rc == ERR_OK)
            out->classes |= DC_BIT(row->dclass);
    }
    if (have_key)
        sodium_memzero(key, sizeof key);
    if (rc == ERR_OK && buf_failed(&fields))
        rc = err_set(err, ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        audit_entry e = entry_for(a, p, AUDIT_READ, now);
        e.subject_id = subject_id;
        e.request_id = request_id;
        e.fields = fields.data != NULL ? fields.data : "";
        e.count = shown;
        if (out->erased)
            e.reason = "erased";
        rc = audit_append(s, &e, NULL, err);
    }
    buf_free(&fields);
    if (rc != ERR_OK)
        memset(&out->reporter, 0, sizeof out->reporter);
    return rc;
}

err_code gate_read_blob(store_t *s, const keyring_t *k, const gate_actor *a, gate_purpose p,
                        int64_t blob_id, int64_t now, pool_t *pool, const unsigned char **data,
                        size_t *len, const char **content_type, err_t *err)
{
    if (!valid_actor(a) || (unsigned)p >= GATE_PURPOSE_COUNT)
        return err_set(err, ERR_INVALID, "a read names an actor and a purpose");
    store_blob b;
    service_request sr;
    memset(&sr, 0, sizeof sr);
    err_code rc = store_blob_get(s, blob_id, pool, &b, err);
    if (rc == ERR_OK && b.request_id != 0)
        rc = store_request_get(s, b.request_id, pool, &sr, err);
    if (rc != ERR_OK)
        return rc;
    gate_relation rel = relation_of(a, sr.agency_code, b.subject_id);
    if ((rc = decide(s, a, p, DC_BIT(b.dclass), rel, b.request_id, b.subject_id, now, err)) !=
        ERR_OK)
        return rc;
    if (b.sealed_len < SEAL_OVERHEAD)
        return err_set(err, ERR_INTERNAL, "file %lld is not sealed", (long long)blob_id);
    unsigned char key[SEAL_KEY_LEN];
    int key_version;
    if ((rc = vault_subject_key(s, k, b.subject_id, key, &key_version, err)) != ERR_OK)
        return rc;
    unsigned char *plain = pool_alloc(pool, b.sealed_len - SEAL_OVERHEAD + 1);
    char ad[SEAL_AD_MAX];
    seal_ad_blob(ad, b.id, b.subject_id, b.key_version);
    size_t plen = 0;
    if (plain == NULL)
        rc = err_set(err, ERR_NOMEM, "out of memory");
    else if (!seal_decrypt(key, ad, b.sealed, b.sealed_len, plain, &plen))
        rc = err_set(err, ERR_INTERNAL, "file %lld does not open: it was altered or moved",
                     (long long)blob_id);
    sodium_memzero(key, sizeof key);
    if (rc != ERR_OK)
        return rc;
    audit_entry e = entry_for(a, p, AUDIT_READ, now);
    e.subject_id = b.subject_id;
    e.request_id = b.request_id;
    e.fields = sr_data_class_name(b.dclass);
    e.count = 1;
    if ((rc = audit_append(s, &e, NULL, err)) != ERR_OK)
        return rc;
    *data = plain;
    *len = plen;
    *content_type = b.content_type;
    return ERR_OK;
}

err_code gate_find_requests(store_t *s, const keyring_t *k, const gate_actor *a, gate_purpose p,
                            const char *kind, const char *value, size_t max, int64_t now,
                            pool_t *pool, int64_t **request_ids, size_t *count, err_t *err)
{
    if (!valid_actor(a) || (unsigned)p >= GATE_PURPOSE_COUNT || kind == NULL || value == NULL)
        return err_set(err, ERR_INVALID, "a lookup names an actor, a purpose and a value");
    bool email = strcmp(kind, "email") == 0;
    if (!email && strcmp(kind, "phone") != 0)
        return err_set(err, ERR_INVALID, "lookups are by email or phone");
    err_code rc = decide(s, a, p, DC_BIT(DC_CONTACT), GATE_REL_OTHER, 0, 0, now, err);
    if (rc != ERR_OK)
        return rc;
    char norm[320];
    bool ok = email ? seal_normalize_email(value, norm, sizeof norm)
                    : seal_normalize_phone(value, norm, sizeof norm);
    if (!ok)
        return err_set(err, ERR_INVALID, email ? "that is not an email address we can look up"
                                               : "that is not a phone number we can look up");
    unsigned char digest[SEAL_DIGEST_LEN];
    seal_blind_digest(keyring_blind_key_borrow(k), kind, norm, digest);
    sodium_memzero(norm, sizeof norm);
    if ((rc = store_blind_find(s, kind, digest, max, pool, request_ids, count, err)) != ERR_OK)
        return rc;
    audit_entry e = entry_for(a, p, AUDIT_LOOKUP, now);
    e.fields = kind;
    e.count = (int64_t)*count;
    return audit_append(s, &e, NULL, err);
}

err_code gate_read_account(store_t *s, const keyring_t *k, const gate_actor *a, gate_purpose p,
                           int64_t account_id, int64_t now, pool_t *pool, gate_account_view *out,
                           err_t *err)
{
    if (!valid_actor(a) || (unsigned)p >= GATE_PURPOSE_COUNT)
        return err_set(err, ERR_INVALID, "a read names an actor and a purpose");
    memset(out, 0, sizeof *out);
    out->account_id = account_id;
    store_account acc;
    err_code rc = store_account_get(s, account_id, pool, &acc, err);
    if (rc == ERR_OK && acc.deleted_at != 0)
        rc = err_set(err, ERR_NOT_FOUND, "no such account");
    if (rc != ERR_OK)
        return rc;
    out->subject_id = acc.subject_id;
    /* No agency is an account's: staff are "other" to every account. */
    gate_relation rel = relation_of(a, NULL, acc.subject_id);
    rc = decide(s, a, p, DC_BIT(DC_ACCOUNT), rel, 0, acc.subject_id, now, err);
    if (rc != ERR_OK)
        return rc;
    unsigned char key[SEAL_KEY_LEN];
    int key_version;
    if ((rc = vault_subject_key(s, k, acc.subject_id, key, &key_version, err)) != ERR_OK)
        return rc;
    rc = account_record_open(key, &acc, pool, &out->email, &out->display_name, err);
    sodium_memzero(key, sizeof key);
    if (rc == ERR_OK) {
        audit_entry e = entry_for(a, p, AUDIT_READ, now);
        e.subject_id = acc.subject_id;
        e.fields = out->display_name != NULL ? "email,display_name" : "email";
        e.count = out->display_name != NULL ? 2 : 1;
        rc = audit_append(s, &e, NULL, err);
    }
    if (rc != ERR_OK)
        out->email = out->display_name = NULL;
    return rc;
}

err_code gate_read_follower_email(store_t *s, const keyring_t *k, const gate_actor *a,
                                  gate_purpose p, int64_t outbox_id, int64_t now, pool_t *pool,
                                  const char **email, err_t *err)
{
    if (!valid_actor(a) || (unsigned)p >= GATE_PURPOSE_COUNT || email == NULL)
        return err_set(err, ERR_INVALID, "a read names an actor, a purpose and an output");
    *email = NULL;
    store_outbox row;
    err_code rc = store_outbox_get(s, outbox_id, pool, &row, err);
    if (rc != ERR_OK)
        return rc;
    if (row.kind != OUTBOX_EMAIL)
        return err_set(err, ERR_INVALID, "notification %lld is not an email",
                       (long long)outbox_id);
    int64_t subject_id = row.target_id, request_id = row.event.request_id;
    int64_t contact_request = 0;
    /* The person asked to be told: the row was queued from their follow
     * of this request when it changed (a merge may have moved the follow
     * since). That holds while the row waits and they follow anything at
     * all; erasing their address drops every follow (retention.c), and
     * with it this relation. */
    rc = row.status == OUTBOX_PENDING
             ? store_follow_contact(s, subject_id, request_id, &contact_request, err)
             : ERR_NOT_FOUND;
    if (rc != ERR_OK && rc != ERR_NOT_FOUND)
        return rc;
    bool follows = rc == ERR_OK &&
                   (a->role != GATE_RESIDENT || (a->subject_id != 0 && a->subject_id == subject_id));
    gate_relation rel = follows ? GATE_REL_OWN : GATE_REL_OTHER;
    if ((rc = decide(s, a, p, DC_BIT(DC_CONTACT), rel, request_id, subject_id, now, err)) !=
        ERR_OK)
        return rc;
    store_personal *rows = NULL;
    size_t n = 0;
    if ((rc = store_personal_list(s, contact_request, pool, &rows, &n, err)) != ERR_OK)
        return rc;
    const store_personal *rec = NULL;
    for (size_t i = 0; i < n; i++)
        if (rows[i].dclass == DC_CONTACT && rows[i].subject_id == subject_id &&
            rows[i].sealed_len >= SEAL_OVERHEAD)
            rec = &rows[i];
    if (rec == NULL)
        return err_set(err, ERR_NOT_FOUND, "follower %lld has no contact record",
                       (long long)subject_id);
    unsigned char key[SEAL_KEY_LEN];
    int key_version;
    if ((rc = vault_subject_key(s, k, subject_id, key, &key_version, err)) != ERR_OK)
        return rc == ERR_CONFLICT ? err_set(err, ERR_NOT_FOUND, "follower %lld was erased",
                                            (long long)subject_id)
                                  : rc;
    sr_reporter r;
    memset(&r, 0, sizeof r);
    buf_t fields = BUF_INIT;
    int64_t shown = 0;
    rc = open_record(key, contact_request, rec, pool, &r, &fields, &shown, err);
    sodium_memzero(key, sizeof key);
    buf_free(&fields);
    if (rc == ERR_OK && r.email == NULL)
        rc = err_set(err, ERR_NOT_FOUND, "follower %lld gave no email", (long long)subject_id);
    if (rc == ERR_OK) {
        /* Only the address leaves this function, so only it is logged. */
        audit_entry e = entry_for(a, p, AUDIT_READ, now);
        e.subject_id = subject_id;
        e.request_id = request_id;
        e.fields = "email";
        e.count = 1;
        e.reason = "notification of a change the person asked to be told of";
        rc = audit_append(s, &e, NULL, err);
    }
    if (rc == ERR_OK)
        *email = r.email;
    return rc;
}
