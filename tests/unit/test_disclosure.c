/*
 * test_disclosure.c - the disclosure register (P4) on a real SQLite store
 * and key file: recording an order (roles, malformed fields, unknown
 * requests, one reference per requester), the two-person rule in
 * privacy/disclosure.c, in the store's UPDATE and in the schema, the
 * export (exactly the named requests, its digest on record, one
 * "disclose" entry per request) and each refusal (nothing out, nothing on
 * record but one "refuse" entry).
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "privacy/audit.h"
#include "privacy/disclosure.h"
#include "privacy/vault.h"
#include "store/store.h"
#include "testlib.h"
#include "storefx.h"

#define DAY 86400
#define T0 1790000000

static bool fx_open(storefx *fx)
{
    static const service services[] = {
        {"pothole", "Pothole", NULL, SERVICE_REALTIME, NULL, NULL, "DOT", NULL, 0, NULL, 0},
    };
    return storefx_open_keyed(fx, services, 1);
}

/* A request with a reporter's contact details; its id, 0 on failure. */
static int64_t file_request(storefx *fx, const char *email, int64_t at)
{
    err_t err = {0};
    service_request sr = storefx_request("pothole", at);
    sr.agency_code = "DOT";
    sr.reporter.first_name = "Ada";
    sr.reporter.email = email;
    int64_t sub = 0;
    err_code rc = store_begin(fx->s, &err);
    if (rc == ERR_OK)
        rc = store_request_insert(fx->s, &sr, &err);
    if (rc == ERR_OK)
        rc = vault_collect_reporter(fx->s, fx->k, &sr, "api:1", 0, at, &sub, &err);
    if (rc == ERR_OK)
        rc = store_commit(fx->s, &err);
    if (rc != ERR_OK) {
        fprintf(stderr, "file_request: %s\n", err.msg);
        store_rollback(fx->s);
        return 0;
    }
    return sr.id;
}

static gate_actor officer(const char *actor, gate_role role)
{
    return (gate_actor){.role = role, .actor = actor};
}

/* Runs one register call in a transaction: committed on success and on a
 * refusal (its audit entry stays), rolled back otherwise. */
typedef struct {
    const gate_actor *a;
    int64_t order_id;
    const int64_t *ids;
    size_t n;
    unsigned classes;
    disclosure_order_input in;
    buf_t doc;
    disclosure_receipt r;
    pool_t *pool;
} call;

enum { REGISTER, APPROVE, CLOSE, EXPORT };

static err_code run(storefx *fx, int what, call *c, int64_t now, err_t *err)
{
    err_code rc = store_begin(fx->s, err);
    if (rc != ERR_OK)
        return rc;
    switch (what) {
    case REGISTER:
        rc = disclosure_register(fx->s, c->a, &c->in, now, &c->order_id, err);
        break;
    case APPROVE:
        rc = disclosure_approve(fx->s, c->a, c->order_id, now, err);
        break;
    case CLOSE:
        rc = disclosure_close(fx->s, c->a, c->order_id, now, err);
        break;
    default:
        rc = disclosure_export(fx->s, fx->k, c->a, c->order_id, c->ids, c->n, c->classes, now,
                               c->pool, &c->doc, &c->r, err);
        break;
    }
    err_t cerr;
    if (rc == ERR_OK || rc == ERR_FORBIDDEN) {
        err_code crc = storefx_finish(fx->s, ERR_OK, &cerr);
        if (crc != ERR_OK) {
            *err = cerr;
            return crc;
        }
        return rc;
    }
    store_rollback(fx->s);
    return rc;
}

static int64_t count(storefx *fx, const char *sql)
{
    sqlite3 *db = raw_open(fx->path);
    long long n = db != NULL ? raw_int(db, sql) : -1;
    sqlite3_close(db);
    return n;
}

static disclosure_order_input order_for(const int64_t *ids, size_t n, const char *ref)
{
    return (disclosure_order_input){"District Court",  ref, "18 U.S.C. 2703(d)", T0 - DAY, ids, n,
                                    DC_BIT(DC_CONTACT)};
}

static void test_register_checks(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t r1 = file_request(&fx, "ada@example.org", T0);
    REQUIRE(r1 > 0);
    int64_t ids[] = {r1}, twice[] = {r1, r1}, missing[] = {r1, r1 + 99};
    gate_actor alice = officer("cli:alice", GATE_RECORDS_OFFICER);
    gate_actor agent = officer("cli:zed", GATE_AGENT);
    call c = {.a = &alice};

    c.in = order_for(ids, 1, "REF-1");
    c.a = &agent;
    CHECK_INT(run(&fx, REGISTER, &c, T0, &err), ERR_FORBIDDEN);
    c.a = &alice;
    struct {
        const char *requester, *reference, *basis;
        int64_t received;
        unsigned classes;
    } bad[] = {
        {"", "R", "B", T0 - DAY, 1},          {"Court", "", "B", T0 - DAY, 1},
        {"Court", "R\x01", "B", T0 - DAY, 1}, {"Court", "caf\xc3\xa9", "B", T0 - DAY, 1},
        {"Court", "R", "", T0 - DAY, 1},      {"Court", "R", "B\n", T0 - DAY, 1},
        {"Co\xffurt", "R", "B", T0 - DAY, 1}, {"Court", "R", "B", T0 + DAY, 1},
        {"Court", "R", "B", T0 - DAY, 0},     {"Court", "R", "B", T0 - DAY, 1u << DC_COUNT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.in = (disclosure_order_input){
            bad[i].requester, bad[i].reference, bad[i].basis, bad[i].received, ids, 1,
            bad[i].classes};
        err_code rc = run(&fx, REGISTER, &c, T0, &err);
        if (rc != ERR_INVALID)
            fprintf(stderr, "bad order %zu: %d %s\n", i, rc, err.msg);
        CHECK_INT(rc, ERR_INVALID);
    }
    c.in = order_for(twice, 2, "REF-1");
    CHECK_INT(run(&fx, REGISTER, &c, T0, &err), ERR_INVALID);
    c.in = order_for(ids, 0, "REF-1");
    CHECK_INT(run(&fx, REGISTER, &c, T0, &err), ERR_INVALID);
    c.in = order_for(missing, 2, "REF-1");
    CHECK_INT(run(&fx, REGISTER, &c, T0, &err), ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "does not exist") != NULL);
    CHECK_INT(count(&fx, "SELECT count(*) FROM disclosure_order"), 0);
    CHECK_INT(count(&fx, "SELECT count(*) FROM disclosure_scope"), 0);

    c.in = order_for(ids, 1, "REF-1");
    CHECK_INT(run(&fx, REGISTER, &c, T0, &err), ERR_OK);
    CHECK(c.order_id > 0);
    c.in = order_for(ids, 1, "REF-1");
    CHECK_INT(run(&fx, REGISTER, &c, T0, &err), ERR_CONFLICT);
    c.in.requester = "Another Court"; /* the same docket number at another court is fine */
    CHECK_INT(run(&fx, REGISTER, &c, T0, &err), ERR_OK);
    CHECK_INT(count(&fx, "SELECT count(*) FROM disclosure_order"), 2);
    /* Recording touches no personal data: nothing in the audit log. */
    CHECK_INT(count(&fx, "SELECT count(*) FROM audit_entry WHERE body LIKE '%disclos%'"), 0);

    pool_t *pool = pool_new();
    store_disclosure o;
    CHECK_INT(store_disclosure_get(fx.s, c.order_id, pool, &o, &err), ERR_OK);
    CHECK_STR(o.recorded_by, "cli:alice");
    CHECK_STR(o.recorded_role, "records_officer");
    CHECK_INT(o.nrequests, 1);
    CHECK_INT(o.request_ids[0], r1);
    CHECK_INT(o.classes, DC_BIT(DC_CONTACT));
    CHECK_INT(disclosure_state_of(&o), DISCLOSURE_RECORDED);
    CHECK_INT(store_disclosure_get(fx.s, 999, pool, &o, &err), ERR_NOT_FOUND);
    pool_free(pool);
    storefx_close(&fx);
}

static void test_two_person_rule(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t r1 = file_request(&fx, "ada@example.org", T0);
    REQUIRE(r1 > 0);
    int64_t ids[] = {r1};
    gate_actor alice = officer("cli:alice", GATE_RECORDS_OFFICER);
    gate_actor bob = officer("cli:bob", GATE_PRIVACY_OFFICER);
    gate_actor sup = officer("cli:sue", GATE_SUPERVISOR);
    call c = {.a = &alice, .in = order_for(ids, 1, "TWO-1")};
    REQUIRE(run(&fx, REGISTER, &c, T0, &err) == ERR_OK);

    CHECK_INT(run(&fx, APPROVE, &c, T0 + 1, &err), ERR_FORBIDDEN);
    CHECK(strstr(err.msg, "second officer") != NULL);
    c.a = &sup;
    CHECK_INT(run(&fx, APPROVE, &c, T0 + 1, &err), ERR_FORBIDDEN);
    /* Below the privacy module, the store holds the rule in its UPDATE... */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_disclosure_approve(fx.s, c.order_id, "cli:alice", "records_officer", T0, &err),
              ERR_CONFLICT);
    store_rollback(fx.s);
    /* ... and the schema in a CHECK. */
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    CHECK(sqlite3_exec(db,
                       "UPDATE disclosure_order SET approved_by = recorded_by, "
                       "approved_role = 'x', approved_at = 1",
                       NULL, NULL, NULL) == SQLITE_CONSTRAINT);
    sqlite3_close(db);
    CHECK_INT(count(&fx, "SELECT count(*) FROM disclosure_order WHERE approved_at IS NOT NULL"), 0);

    c.a = &bob;
    CHECK_INT(run(&fx, APPROVE, &c, T0 + 2, &err), ERR_OK);
    CHECK_INT(run(&fx, APPROVE, &c, T0 + 3, &err), ERR_CONFLICT);
    c.order_id = 77;
    CHECK_INT(run(&fx, APPROVE, &c, T0 + 3, &err), ERR_NOT_FOUND);
    storefx_close(&fx);
}

/* The latest audit entry, decoded into e (strings from pool). */
static bool last_entry(storefx *fx, pool_t *pool, audit_entry *e)
{
    return storefx_audit_last_entry(fx, pool, e);
}

static void test_export_and_refusals(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t r1 = file_request(&fx, "ada@example.org", T0);
    int64_t r2 = file_request(&fx, "bea@example.org", T0 + 1);
    int64_t r3 = file_request(&fx, "cy@example.org", T0 + 2);
    REQUIRE(r1 > 0 && r2 > 0 && r3 > 0);
    int64_t scope[] = {r2, r1}, outside[] = {r3};
    gate_actor alice = officer("cli:alice", GATE_RECORDS_OFFICER);
    gate_actor bob = officer("cli:bob", GATE_PRIVACY_OFFICER);
    gate_actor staff = officer("cli:sam", GATE_AGENCY_STAFF);
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    call c = {.a = &alice, .in = order_for(scope, 2, "EXP-1"), .pool = pool};
    REQUIRE(run(&fx, REGISTER, &c, T0, &err) == ERR_OK);

    /* Not approved: refused, recorded, nothing out. */
    int64_t size = storefx_audit_size(&fx);
    audit_entry e;
    CHECK_INT(run(&fx, EXPORT, &c, T0 + 5, &err), ERR_FORBIDDEN);
    CHECK(strstr(err.msg, "not approved") != NULL);
    CHECK_INT(c.doc.len, 0);
    CHECK_INT(storefx_audit_size(&fx), size + 1);
    REQUIRE(last_entry(&fx, pool, &e));
    CHECK_INT(e.action, AUDIT_REFUSE);
    CHECK_STR(e.purpose, "required_by_law");

    c.a = &bob;
    REQUIRE(run(&fx, APPROVE, &c, T0 + 6, &err) == ERR_OK);

    /* Refusals of an approved order. */
    struct {
        const gate_actor *a;
        const int64_t *ids;
        size_t n;
        unsigned classes;
        const char *why;
    } refusals[] = {
        {&staff, NULL, 0, 0, "agency_staff may not export"},
        {&alice, outside, 1, 0, "outside the scope"},
        {&alice, NULL, 0, DC_BIT(DC_DEVICE), "does not cover device"},
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        c.a = refusals[i].a;
        c.ids = refusals[i].ids;
        c.n = refusals[i].n;
        c.classes = refusals[i].classes;
        size = storefx_audit_size(&fx);
        CHECK_INT(run(&fx, EXPORT, &c, T0 + 7, &err), ERR_FORBIDDEN);
        CHECK(strstr(err.msg, refusals[i].why) != NULL);
        CHECK_INT(c.doc.len, 0);
        CHECK_INT(storefx_audit_size(&fx), size + 1);
        REQUIRE(last_entry(&fx, pool, &e));
        CHECK_INT(e.action, AUDIT_REFUSE);
        CHECK(strstr(e.reason, refusals[i].why) != NULL);
    }
    CHECK_INT(count(&fx, "SELECT count(*) FROM disclosure_export"), 0);

    /* The export: both named requests, nothing of the third. */
    c.a = &alice;
    c.ids = NULL;
    c.n = 0;
    c.classes = 0;
    size = storefx_audit_size(&fx);
    CHECK_INT(run(&fx, EXPORT, &c, T0 + 8, &err), ERR_OK);
    REQUIRE(c.doc.data != NULL);
    CHECK(strstr(c.doc.data, "\"reference\":\"EXP-1\"") != NULL);
    CHECK(strstr(c.doc.data, "ada@example.org") != NULL);
    CHECK(strstr(c.doc.data, "bea@example.org") != NULL);
    CHECK(strstr(c.doc.data, "cy@example.org") == NULL);
    unsigned char digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)c.doc.data, c.doc.len);
    CHECK(memcmp(digest, c.r.digest, 32) == 0);
    CHECK_INT(c.r.nrequests, 2);
    /* Two reads and two disclosures, by request. */
    CHECK_INT(storefx_audit_size(&fx), size + 4);
    REQUIRE(last_entry(&fx, pool, &e));
    CHECK_INT(e.action, AUDIT_DISCLOSE);
    CHECK_INT(e.request_id, r2 > r1 ? r2 : r1);
    CHECK(e.subject_id > 0);
    CHECK(strstr(e.reason, "EXP-1") != NULL);
    CHECK_STR(e.fields, "contact");

    store_disclosure_export *ex;
    size_t nex = 0;
    CHECK_INT(store_disclosure_exports(fx.s, c.order_id, pool, &ex, &nex, &err), ERR_OK);
    REQUIRE(nex == 1);
    CHECK(memcmp(ex[0].digest, digest, 32) == 0);
    CHECK_INT(ex[0].bytes, (int64_t)c.doc.len);
    CHECK_INT(ex[0].nrequests, 2);
    CHECK_INT(ex[0].request_ids[0], r1 < r2 ? r1 : r2);
    CHECK_STR(ex[0].exported_by, "cli:alice");
    CHECK_INT(ex[0].classes, DC_BIT(DC_CONTACT));

    /* Closed: nothing more. */
    buf_free(&c.doc);
    c.doc = (buf_t)BUF_INIT;
    CHECK_INT(run(&fx, CLOSE, &c, T0 + 9, &err), ERR_OK);
    CHECK_INT(run(&fx, CLOSE, &c, T0 + 9, &err), ERR_CONFLICT);
    CHECK_INT(run(&fx, EXPORT, &c, T0 + 10, &err), ERR_FORBIDDEN);
    CHECK(strstr(err.msg, "closed") != NULL);
    CHECK_INT(c.doc.len, 0);
    store_disclosure *list;
    size_t n = 0;
    CHECK_INT(store_disclosure_list(fx.s, true, 10, pool, &list, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_disclosure_list(fx.s, false, 10, pool, &list, &n, &err), ERR_OK);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_INT(list[0].exports, 1);
        CHECK_INT(list[0].nrequests, 2);
        CHECK_INT(disclosure_state_of(&list[0]), DISCLOSURE_CLOSED);
    }
    /* The audit log still verifies. */
    audit_report rep;
    unsigned char pk[KEYRING_SIGN_PK_LEN];
    keyring_sign_pk(fx.k, pk);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(audit_commit(fx.s, fx.k, T0 + 11, ERR_OK, &err), ERR_OK);
    CHECK_INT(audit_verify_store(fx.s, pk, NULL, &rep, &err), ERR_OK);
    CHECK(rep.ok);
    buf_free(&c.doc);
    pool_free(pool);
    storefx_close(&fx);
}

TEST_MAIN(TEST(test_register_checks), TEST(test_two_person_rule), TEST(test_export_and_refusals))
