/*
 * test_privacy.c - the privacy engine end to end on a real SQLite store and
 * a real key file: the gatekeeper's policy, role by role (P3), with exactly
 * one audit entry per decision; sealing bound to its row; blind-index
 * lookups; retention under an injected clock, including the 14-day call
 * recordings and legal holds (P6); key rotation against an old backup.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privacy/audit.h"
#include "privacy/gate.h"
#include "privacy/keyring.h"
#include "privacy/retention.h"
#include "privacy/vault.h"
#include "store/store.h"
#include "testlib.h"
#include "storefx.h"

#define DAY 86400
#define T0 1790000000 /* 2026-09-21 */

/* ---- fixture: a store, a key file, a two-service catalog ---- */

/* storefx_open with a key file of its own and the catalog. */
static bool fx_open(storefx *fx)
{
    static const service services[] = {
        {"pothole", "Pothole", NULL, SERVICE_REALTIME, NULL, NULL, "DOT", NULL, 0, NULL, 0},
        {"light", "Street light", NULL, SERVICE_REALTIME, NULL, NULL, "DSNY", NULL, 0, NULL, 0},
    };
    return storefx_open_keyed(fx, services, sizeof services / sizeof services[0]);
}

/* A person's details; NULL fields are not given. */
typedef struct {
    const char *first, *email, *phone, *device, *account;
} person;

/* Files a request for code (routed to its service's agency) with p's
 * details, at `at`. Returns the request id, 0 on failure. */
static int64_t file_request(storefx *fx, const char *code, const char *routed_to, const person *p,
                            int64_t at, int64_t *subject)
{
    err_t err = {0};
    service_request sr;
    memset(&sr, 0, sizeof sr);
    sr.service_code = code;
    sr.agency_code = routed_to;
    sr.status = SR_OPEN;
    sr.requested_at = sr.updated_at = at;
    sr.channel = SR_CHANNEL_PHONE;
    sr.reporter.first_name = p->first;
    sr.reporter.email = p->email;
    sr.reporter.phone = p->phone;
    sr.reporter.device_id = p->device;
    sr.reporter.account_id = p->account;
    int64_t sub = 0;
    err_code rc = store_begin(fx->s, &err);
    if (rc == ERR_OK)
        rc = store_request_insert(fx->s, &sr, &err);
    if (rc == ERR_OK)
        rc = vault_collect_reporter(fx->s, fx->k, &sr, "staff:1", 0, at, &sub, &err);
    if (rc == ERR_OK)
        rc = store_commit(fx->s, &err);
    if (rc != ERR_OK) {
        fprintf(stderr, "file_request: %s\n", err.msg);
        store_rollback(fx->s);
        return 0;
    }
    if (subject != NULL)
        *subject = sub;
    return sr.id;
}

/* The latest audit entry's action and actor. */
static bool audit_last(storefx *fx, audit_action *action, char *actor, size_t cap)
{
    pool_t *pool = pool_new();
    audit_entry e;
    bool ok = pool != NULL && storefx_audit_last_entry(fx, pool, &e);
    if (ok) {
        *action = e.action;
        snprintf(actor, cap, "%s", e.actor);
    }
    pool_free(pool);
    return ok;
}

/* Whether the latest audit entry names exactly these fields, and count. */
static bool audit_last_fields(storefx *fx, const char *fields, int64_t count)
{
    pool_t *pool = pool_new();
    audit_entry e;
    bool ok = pool != NULL && storefx_audit_last_entry(fx, pool, &e) && e.fields != NULL &&
              strcmp(e.fields, fields) == 0 && e.count == count;
    pool_free(pool);
    return ok;
}

/* Ends the transaction of a gatekeeper call that returned rc: a refusal
 * is committed like a success, since its audit entry must stay; any other
 * failure rolls back. A failed commit is the result. */
static err_code gate_finish(storefx *fx, err_code rc, err_t *err)
{
    if (rc != ERR_FORBIDDEN)
        return storefx_finish(fx->s, rc, err);
    err_t cerr;
    err_code crc = storefx_finish(fx->s, ERR_OK, &cerr);
    if (crc != ERR_OK) {
        *err = cerr;
        return crc;
    }
    return rc;
}

static err_code read1(storefx *fx, const gate_actor *a, gate_purpose p, int64_t id, unsigned mask,
                      int64_t now, pool_t *pool, gate_view *v, err_t *err)
{
    err_code rc = store_begin(fx->s, err);
    if (rc != ERR_OK)
        return rc;
    rc = gate_read_request(fx->s, fx->k, a, p, id, mask, now, pool, v, err);
    return gate_finish(fx, rc, err);
}

/* ---- the policy, stated a second time, independently ---- */

/* "role purpose class relation" lines that are allowed; all else refused. */
static const char *const ALLOWED[] = {
    "resident address_request * own",
    "agent address_request contact *",
    "agent address_request media *",
    "agent address_request recording *",
    "agent city_business contact *",
    "agent emergency contact *",
    "agent emergency media *",
    "agent emergency recording *",
    "agency_staff address_request contact routed",
    "agency_staff address_request media routed",
    "agency_staff city_business contact routed",
    "agency_staff city_business media routed",
    "agency_staff emergency contact routed",
    "supervisor address_request contact *",
    "supervisor address_request media *",
    "supervisor address_request recording *",
    "supervisor city_business contact *",
    "supervisor city_business media *",
    "supervisor city_business recording *",
    "supervisor emergency contact *",
    "supervisor emergency media *",
    "supervisor emergency recording *",
    "privacy_officer required_by_law * *",
    "records_officer required_by_law contact *",
    "records_officer required_by_law account *",
    "records_officer required_by_law media *",
    "records_officer required_by_law recording *",
    "notifier address_request contact own",
};

static bool word_matches(const char *pattern, size_t plen, const char *word)
{
    return (plen == 1 && pattern[0] == '*') ||
           (strlen(word) == plen && !strncmp(pattern, word, plen));
}

static bool expected_allow(gate_role r, gate_purpose p, data_class dc, gate_relation rel)
{
    const char *words[4] = {gate_role_name(r), gate_purpose_name(p), sr_data_class_name(dc),
                            gate_relation_name(rel)};
    for (size_t i = 0; i < sizeof ALLOWED / sizeof ALLOWED[0]; i++) {
        const char *line = ALLOWED[i];
        bool all = true;
        for (int w = 0; w < 4 && all; w++) {
            size_t len = strcspn(line, " ");
            all = word_matches(line, len, words[w]);
            line += len + (line[len] == ' ');
        }
        if (all)
            return true;
    }
    return false;
}

static void test_policy_table(void)
{
    for (int r = 0; r < GATE_ROLE_COUNT; r++)
        for (int p = 0; p < GATE_PURPOSE_COUNT; p++)
            for (int dc = 0; dc < DC_COUNT; dc++)
                for (int rel = 0; rel < GATE_REL_COUNT; rel++) {
                    bool want = expected_allow(r, p, dc, rel);
                    bool got = gate_allows(r, p, dc, rel);
                    if (want != got)
                        fprintf(stderr, "policy: %s %s %s %s: want %d got %d\n", gate_role_name(r),
                                gate_purpose_name(p), sr_data_class_name(dc),
                                gate_relation_name(rel), want, got);
                    CHECK(want == got);
                }
    /* no role reads device data but for the law, and admins read nothing */
    for (int r = 0; r < GATE_ROLE_COUNT; r++)
        for (int p = 0; p < GATE_PURPOSE_COUNT; p++) {
            CHECK(!gate_allows(GATE_ADMIN, p, DC_CONTACT, GATE_REL_OTHER));
            if (r != GATE_RESIDENT && p != GATE_PURPOSE_REQUIRED_BY_LAW)
                CHECK(!gate_allows(r, p, DC_DEVICE, GATE_REL_OTHER));
        }
}

/* Every role x purpose x class x relationship through gate_read_request:
 * allowed or refused as the policy says, one audit entry each. */
static void test_reads_follow_policy(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    person alice = {"Alice", "alice@example.org", "212-555-0101", "dev-a", "acct-a"};
    int64_t sub = 0, bob_sub = 0;
    int64_t id = file_request(&fx, "pothole", "DOT", &alice, T0, &sub);
    person bob = {"Bob", NULL, NULL, NULL, NULL};
    REQUIRE(file_request(&fx, "pothole", "DOT", &bob, T0, &bob_sub) > 0);
    REQUIRE(id > 0 && sub > 0 && bob_sub > 0);
    const char *dot[] = {"DOT"}, *dsny[] = {"DSNY"};
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    size_t reads = 0, refusals = 0;
    for (int r = 0; r < GATE_ROLE_COUNT; r++)
        for (int p = 0; p < GATE_PURPOSE_COUNT; p++)
            for (int dc = 0; dc < DC_COUNT; dc++)
                for (int rel = 0; rel < GATE_REL_COUNT; rel++) {
                    gate_actor a = {.role = r, .actor = "staff:7"};
                    if (r == GATE_RESIDENT) {
                        if (rel == GATE_REL_ROUTED)
                            continue; /* a resident has no agency */
                        a.subject_id = rel == GATE_REL_OWN ? sub : bob_sub;
                    } else {
                        if (rel == GATE_REL_OWN)
                            continue; /* staff do not own requests */
                        a.agencies = rel == GATE_REL_ROUTED ? dot : dsny;
                        a.nagencies = 1;
                    }
                    int64_t before = storefx_audit_size(&fx);
                    gate_view v;
                    err_t err;
                    err_code rc = read1(&fx, &a, p, id, DC_BIT(dc), T0, pool, &v, &err);
                    bool allowed = gate_allows(r, p, dc, rel);
                    CHECK_INT(rc, allowed ? ERR_OK : ERR_FORBIDDEN);
                    CHECK_INT(storefx_audit_size(&fx), before + 1);
                    audit_action act;
                    char actor[32];
                    CHECK(audit_last(&fx, &act, actor, sizeof actor));
                    CHECK_INT(act, allowed ? AUDIT_READ : AUDIT_REFUSE);
                    CHECK_STR(actor, "staff:7");
                    if (allowed && dc == DC_CONTACT) {
                        CHECK_STR(v.reporter.email, "alice@example.org");
                        CHECK_STR(v.reporter.first_name, "Alice");
                        CHECK(v.reporter.device_id == NULL); /* not asked */
                    }
                    if (allowed && dc == DC_DEVICE)
                        CHECK_STR(v.reporter.device_id, "dev-a");
                    if (!allowed) {
                        CHECK(v.reporter.email == NULL);
                        CHECK(strstr(err.msg, "refused") != NULL);
                    }
                    reads += allowed;
                    refusals += !allowed;
                }
    CHECK(reads > 20 && refusals > 100);
    /* a request that does not exist: not found, and nothing to record */
    gate_actor officer = {.role = GATE_PRIVACY_OFFICER, .actor = "staff:9"};
    gate_view v;
    err_t err;
    int64_t before = storefx_audit_size(&fx);
    CHECK_INT(read1(&fx, &officer, GATE_PURPOSE_REQUIRED_BY_LAW, 999, DC_BIT(DC_CONTACT), T0, pool,
                    &v, &err),
              ERR_NOT_FOUND);
    CHECK_INT(storefx_audit_size(&fx), before);
    pool_free(pool);
    storefx_close(&fx);
}

/* raw_exec on a connection of its own. */
static bool exec_raw(storefx *fx, const char *sql)
{
    sqlite3 *db = raw_open(fx->path);
    bool ok = db != NULL && raw_exec(db, sql);
    sqlite3_close(db);
    return ok;
}

/* Sealed records are noise on disk and cannot be moved to another row or
 * another class, nor relabelled. */
static void test_sealed_and_bound(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    person p1 = {"Canaryfirst-41f2", "canary-41f2@example.org", "+1 (718) 555-0199", "dev-41f2",
                 NULL};
    person p2 = {"Other", "other@example.org", NULL, "dev-other", NULL};
    int64_t a = file_request(&fx, "pothole", "DOT", &p1, T0, NULL);
    int64_t b = file_request(&fx, "pothole", "DOT", &p2, T0, NULL);
    REQUIRE(a > 0 && b > 0);
    const char *canaries[] = {"Canaryfirst-41f2", "canary-41f2", "555-0199", "dev-41f2"};
    for (size_t i = 0; i < sizeof canaries / sizeof canaries[0]; i++)
        CHECK(!file_contains_str(fx.path, canaries[i]) && !file_contains_str(fx.wal, canaries[i]));
    gate_actor officer = {.role = GATE_PRIVACY_OFFICER, .actor = "staff:9"};
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    gate_view v;
    err_t err;
    char sql[320];

    /* a's contact record into b's row, fields column and all: it must not
     * open there (another request) */
    snprintf(sql, sizeof sql,
             "UPDATE personal_field SET (sealed, fields) = (SELECT sealed, fields FROM "
             "personal_field WHERE request_id = %lld AND data_class = 'contact') "
             "WHERE request_id = %lld AND data_class = 'contact'",
             (long long)a, (long long)b);
    CHECK(exec_raw(&fx, sql));
    CHECK_INT(read1(&fx, &officer, GATE_PURPOSE_REQUIRED_BY_LAW, b, DC_BIT(DC_CONTACT), T0, pool,
                    &v, &err),
              ERR_INTERNAL);
    CHECK(strstr(err.msg, "other@") == NULL && strstr(err.msg, "canary") == NULL);
    CHECK(v.reporter.email == NULL);
    CHECK_INT(read1(&fx, &officer, GATE_PURPOSE_REQUIRED_BY_LAW, a, DC_BIT(DC_CONTACT), T0, pool,
                    &v, &err),
              ERR_OK);
    CHECK_STR(v.reporter.email, "canary-41f2@example.org");
    CHECK_STR(v.reporter.phone, "+1 (718) 555-0199");

    /* a's contact record into a's own device row: it must not open there
     * either (another class: device data is read under other rules) */
    snprintf(sql, sizeof sql,
             "UPDATE personal_field SET (sealed, fields) = (SELECT sealed, fields FROM "
             "personal_field WHERE request_id = %lld AND data_class = 'contact') "
             "WHERE request_id = %lld AND data_class = 'device'",
             (long long)a, (long long)a);
    /* The fields column of a device row must name device fields: set it
     * back so that only the sealed bytes are out of place. */
    CHECK(exec_raw(&fx, sql));
    snprintf(sql, sizeof sql,
             "UPDATE personal_field SET fields = 'device_id' WHERE request_id = %lld AND "
             "data_class = 'device'",
             (long long)a);
    CHECK(exec_raw(&fx, sql));
    CHECK_INT(read1(&fx, &officer, GATE_PURPOSE_REQUIRED_BY_LAW, a, DC_BIT(DC_DEVICE), T0, pool, &v,
                    &err),
              ERR_INTERNAL);
    CHECK(v.reporter.device_id == NULL && v.reporter.email == NULL);
    CHECK(strstr(err.msg, "canary") == NULL && strstr(err.msg, "dev-") == NULL);

    /* a's contact row relabelled to hold fewer fields: the record still
     * opens, but does not hold what its row names, so nothing is shown */
    snprintf(sql, sizeof sql,
             "UPDATE personal_field SET fields = 'first_name,email' WHERE request_id = %lld AND "
             "data_class = 'contact'",
             (long long)a);
    CHECK(exec_raw(&fx, sql));
    CHECK_INT(read1(&fx, &officer, GATE_PURPOSE_REQUIRED_BY_LAW, a, DC_BIT(DC_CONTACT), T0, pool,
                    &v, &err),
              ERR_INTERNAL);
    CHECK(v.reporter.email == NULL && v.reporter.first_name == NULL);
    CHECK(strstr(err.msg, "canary") == NULL && strstr(err.msg, "Canary") == NULL);
    pool_free(pool);
    storefx_close(&fx);
}

static err_code find1(storefx *fx, const gate_actor *a, gate_purpose p, const char *kind,
                      const char *value, pool_t *pool, int64_t **ids, size_t *n, err_t *err)
{
    err_code rc = store_begin(fx->s, err);
    if (rc != ERR_OK)
        return rc;
    rc = gate_find_requests(fx->s, fx->k, a, p, kind, value, 100, T0, pool, ids, n, err);
    return gate_finish(fx, rc, err);
}

static void test_blind_lookup(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    person p = {"Carla", "Carla.Diaz@Example.org", "+1 (212) 555-0142", NULL, NULL};
    int64_t first = file_request(&fx, "pothole", "DOT", &p, T0, NULL);
    int64_t second = file_request(&fx, "light", NULL, &p, T0 + 60, NULL);
    person q = {"Dan", "dan@example.org", "212 555 0143", NULL, NULL};
    REQUIRE(first > 0 && second > 0 && file_request(&fx, "pothole", "DOT", &q, T0, NULL) > 0);
    gate_actor agent = {.role = GATE_AGENT, .actor = "staff:3"};
    pool_t *pool = pool_new();
    int64_t *ids;
    size_t n = 0;
    err_t err;
    CHECK_INT(find1(&fx, &agent, GATE_PURPOSE_ADDRESS_REQUEST, "email", "  carla.diaz@example.ORG ",
                    pool, &ids, &n, &err),
              ERR_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_INT(ids[0], second); /* newest first */
        CHECK_INT(ids[1], first);
    }
    CHECK_INT(find1(&fx, &agent, GATE_PURPOSE_ADDRESS_REQUEST, "phone", "212.555.0142", pool, &ids,
                    &n, &err),
              ERR_OK);
    CHECK_INT(n, 2);
    audit_action act;
    char actor[32];
    CHECK(audit_last(&fx, &act, actor, sizeof actor) && act == AUDIT_LOOKUP);
    /* agency staff may not search everyone's requests */
    const char *dot[] = {"DOT"};
    gate_actor staff = {
        .role = GATE_AGENCY_STAFF, .actor = "staff:4", .agencies = dot, .nagencies = 1};
    int64_t before = storefx_audit_size(&fx);
    CHECK_INT(find1(&fx, &staff, GATE_PURPOSE_ADDRESS_REQUEST, "email", "dan@example.org", pool,
                    &ids, &n, &err),
              ERR_FORBIDDEN);
    CHECK_INT(storefx_audit_size(&fx), before + 1);
    CHECK(audit_last(&fx, &act, actor, sizeof actor) && act == AUDIT_REFUSE);
    /* a value that is not an email: refused without repeating it */
    CHECK_INT(find1(&fx, &agent, GATE_PURPOSE_ADDRESS_REQUEST, "email", "not-an-email-77", pool,
                    &ids, &n, &err),
              ERR_INVALID);
    CHECK(strstr(err.msg, "not-an-email-77") == NULL);
    pool_free(pool);
    storefx_close(&fx);
}

/* raw_int on a connection of its own. */
static int64_t count_rows(storefx *fx, const char *sql)
{
    sqlite3 *db = raw_open(fx->path);
    int64_t v = db != NULL ? raw_int(db, sql) : -1;
    sqlite3_close(db);
    return v;
}

static retention_report run_at(storefx *fx, int64_t now)
{
    retention_schedule rs;
    retention_defaults(&rs);
    retention_report rep = {0};
    err_t err;
    err_code rc = retention_run(fx->s, fx->k, &rs, now, 2, &rep, &err); /* small batches */
    if (rc != ERR_OK)
        fprintf(stderr, "retention_run: %s\n", err.msg);
    CHECK_INT(rc, ERR_OK);
    return rep;
}

static void test_retention_schedule(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    person p = {"Erin", "erin@example.org", "212-555-0150", "dev-e", NULL};
    int64_t sub = 0;
    int64_t closed = file_request(&fx, "pothole", "DOT", &p, T0, &sub);
    int64_t reopened = file_request(&fx, "pothole", "DOT", &p, T0, NULL);
    int64_t open = file_request(&fx, "light", NULL, &p, T0, NULL);
    REQUIRE(closed > 0 && reopened > 0 && open > 0);
    REQUIRE(storefx_set_status(fx.s, closed, T0 + DAY, SR_CLOSED));
    REQUIRE(storefx_set_status(fx.s, reopened, T0 + DAY, SR_CLOSED));
    REQUIRE(storefx_set_status(fx.s, reopened, T0 + 2 * DAY, SR_REOPENED));

    /* day 29: nothing due yet */
    retention_report rep = run_at(&fx, T0 + 29 * DAY);
    CHECK_INT(rep.values, 0);
    /* day 31: device data (30 days after collection) goes everywhere */
    rep = run_at(&fx, T0 + 31 * DAY);
    CHECK_INT(rep.values, 3);
    CHECK_INT(rep.subjects, 0);
    CHECK_INT(count_rows(&fx, "SELECT COUNT(*) FROM personal_field WHERE data_class = 'device'"),
              0);
    /* day 90 after closing + 1: the closed request's contact data goes;
     * the reopened and the open one keep theirs */
    rep = run_at(&fx, T0 + DAY + 91 * DAY);
    CHECK_INT(rep.requests, 1);
    CHECK_INT(rep.values, 3); /* first_name, email, phone: one record */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM personal_field WHERE request_id = %lld",
             (long long)closed);
    CHECK_INT(count_rows(&fx, sql), 0);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM blind_index WHERE request_id = %lld",
             (long long)closed);
    CHECK_INT(count_rows(&fx, sql), 0);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM personal_field WHERE request_id IN (%lld, %lld) "
             "AND data_class = 'contact' AND fields = 'first_name,email,phone'",
             (long long)reopened, (long long)open);
    CHECK_INT(count_rows(&fx, sql), 2);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM personal_field WHERE request_id IN (%lld, %lld)",
             (long long)reopened, (long long)open);
    CHECK_INT(count_rows(&fx, sql), 2);
    /* each request has its own anonymous reporter: the closed one's key is shredded */
    CHECK_INT(rep.subjects, 1);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM subject WHERE id = %lld AND wrapped_key IS NULL "
             "AND erased_at IS NOT NULL",
             (long long)sub);
    CHECK_INT(count_rows(&fx, sql), 1);
    /* the receipt, naming the fields from the record's fields column */
    audit_action act;
    char actor[32];
    CHECK(audit_last(&fx, &act, actor, sizeof actor) && act == AUDIT_ERASE);
    CHECK_STR(actor, "system");
    CHECK(audit_last_fields(&fx, "first_name,email,phone", 3));
    /* an officer reading it now gets nothing */
    gate_actor officer = {.role = GATE_PRIVACY_OFFICER, .actor = "staff:9"};
    pool_t *pool = pool_new();
    gate_view v;
    err_t err;
    CHECK_INT(read1(&fx, &officer, GATE_PURPOSE_REQUIRED_BY_LAW, closed, DC_ALL, T0 + 200 * DAY,
                    pool, &v, &err),
              ERR_OK);
    CHECK(v.reporter.email == NULL && v.reporter.first_name == NULL);
    /* the audit log is intact after all that */
    audit_report ar;
    unsigned char pk[STORE_PUBKEY_LEN];
    keyring_sign_pk(fx.k, pk);
    CHECK_INT(audit_verify_store(fx.s, pk, NULL, &ar, &err), ERR_OK);
    CHECK(ar.ok);
    pool_free(pool);
    storefx_close(&fx);
}

static err_code txn_blob(storefx *fx, int64_t subject, int64_t request, int64_t at, int64_t *id,
                         err_t *err)
{
    static const char audio[] = "RIFF....WAVEfmt call recording bytes";
    err_code rc = store_begin(fx->s, err);
    if (rc != ERR_OK)
        return rc;
    rc = vault_put_blob(fx->s, fx->k, subject, request, DC_RECORDING, "audio/wav", audio,
                        sizeof audio, "staff:3", at, id, err);
    return storefx_finish(fx->s, rc, err);
}

static err_code read_blob1(storefx *fx, int64_t id, pool_t *pool, size_t *len, err_t *err)
{
    gate_actor agent = {.role = GATE_AGENT, .actor = "staff:3"};
    const unsigned char *data;
    const char *type;
    err_code rc = store_begin(fx->s, err);
    if (rc != ERR_OK)
        return rc;
    rc = gate_read_blob(fx->s, fx->k, &agent, GATE_PURPOSE_ADDRESS_REQUEST, id, T0, pool, &data,
                        len, &type, err);
    return gate_finish(fx, rc, err);
}

/* P6: call recordings are erased 14 days after the call, and a legal hold
 * pauses that. */
static void test_recordings_14_days(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    person p = {"Frank", NULL, "212-555-0160", NULL, NULL};
    int64_t sub = 0, held_sub = 0;
    int64_t req = file_request(&fx, "pothole", "DOT", &p, T0, &sub);
    int64_t held_req = file_request(&fx, "pothole", "DOT", &p, T0, &held_sub);
    REQUIRE(req > 0 && held_req > 0);
    int64_t rec = 0, held_rec = 0;
    err_t err;
    REQUIRE(txn_blob(&fx, sub, req, T0, &rec, &err) == ERR_OK);
    REQUIRE(txn_blob(&fx, held_sub, held_req, T0, &held_rec, &err) == ERR_OK);
    int64_t hold = 0;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    REQUIRE(retention_hold_place(fx.s, held_req, 0, "court order 2026-CV-0412", "staff:9", T0 + DAY,
                                 &hold, &err) == ERR_OK);
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);

    pool_t *pool = pool_new();
    size_t len = 0;
    CHECK_INT(read_blob1(&fx, rec, pool, &len, &err), ERR_OK);
    CHECK_INT(len, sizeof "RIFF....WAVEfmt call recording bytes");
    retention_report rep = run_at(&fx, T0 + 14 * DAY - 1); /* one second early */
    CHECK_INT(rep.blobs, 0);
    rep = run_at(&fx, T0 + 14 * DAY);
    CHECK_INT(rep.blobs, 1);
    CHECK_INT(read_blob1(&fx, rec, pool, &len, &err), ERR_NOT_FOUND);
    CHECK_INT(read_blob1(&fx, held_rec, pool, &len, &err), ERR_OK); /* held */
    /* the request's contact data is not the recording's: still there */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM personal_field WHERE request_id = %lld AND "
             "data_class = 'contact' AND fields = 'first_name,phone'",
             (long long)req);
    CHECK_INT(count_rows(&fx, sql), 1);
    /* an erasure on demand under the hold is refused */
    retention_report r2 = {0};
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(retention_erase_request(fx.s, held_req, DC_ALL, "staff:9", "asked", T0 + 15 * DAY,
                                      &r2, &err),
              ERR_CONFLICT);
    store_rollback(fx.s);
    /* released: the next run erases it */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(retention_hold_release(fx.s, hold, "staff:9", T0 + 20 * DAY, &err), ERR_OK);
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);
    rep = run_at(&fx, T0 + 21 * DAY);
    CHECK_INT(rep.blobs, 1);
    CHECK_INT(read_blob1(&fx, held_rec, pool, &len, &err), ERR_NOT_FOUND);
    pool_free(pool);
    storefx_close(&fx);
}

/* A photo uploaded on the review step of a report that was never sent is
 * tied to no request: it is erased a day after the upload, with its
 * subject's key; one that was sent (attached) stays. */
static void test_unsent_photo_erased_after_a_day(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    static const char jpeg[] = "\xff\xd8\xff photo bytes";
    int64_t sub_unsent = 0, sub_sent = 0, unsent = 0, sent = 0;
    person p = {NULL, "gail@example.org", NULL, NULL, NULL};
    int64_t req = file_request(&fx, "pothole", "DOT", &p, T0, NULL);
    REQUIRE(req > 0);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    REQUIRE(vault_subject_new(fx.s, fx.k, "reporter", T0, &sub_unsent, &err) == ERR_OK);
    REQUIRE(vault_subject_new(fx.s, fx.k, "reporter", T0, &sub_sent, &err) == ERR_OK);
    REQUIRE(vault_put_blob(fx.s, fx.k, sub_unsent, 0, DC_MEDIA, "image/jpeg", jpeg, sizeof jpeg,
                           "web", T0, &unsent, &err) == ERR_OK);
    REQUIRE(vault_put_blob(fx.s, fx.k, sub_sent, 0, DC_MEDIA, "image/jpeg", jpeg, sizeof jpeg,
                           "web", T0, &sent, &err) == ERR_OK);
    REQUIRE(store_blob_attach(fx.s, sent, sub_sent, req, &err) == ERR_OK);
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);

    retention_report rep = run_at(&fx, T0 + DAY - 1); /* one second early */
    CHECK_INT(rep.blobs, 0);
    rep = run_at(&fx, T0 + DAY);
    CHECK_INT(rep.blobs, 1);
    CHECK_INT(rep.subjects, 1);
    CHECK_INT(rep.requests, 0);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM personal_blob WHERE id = %lld",
             (long long)unsent);
    CHECK_INT(count_rows(&fx, sql), 0);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM personal_blob WHERE id = %lld",
             (long long)sent);
    CHECK_INT(count_rows(&fx, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM subject WHERE id = %lld AND wrapped_key IS NULL",
             (long long)sub_unsent);
    CHECK_INT(count_rows(&fx, sql), 1);
    audit_action act;
    char actor[32];
    CHECK(audit_last(&fx, &act, actor, sizeof actor) && act == AUDIT_ERASE);
    pool_t *pool = pool_new();
    audit_entry e;
    REQUIRE(pool != NULL && storefx_audit_last_entry(&fx, pool, &e));
    CHECK_STR(e.reason, "retention:media; report never sent; data key shredded");
    CHECK_INT(e.subject_id, sub_unsent);
    pool_free(pool);
    /* nothing more later: the sent one follows its request's schedule */
    rep = run_at(&fx, T0 + 30 * DAY);
    CHECK_INT(rep.blobs, 0);
    storefx_close(&fx);
}

/* Rotation: everything still opens under the new KEK; a backup taken
 * before it, with an erased person's wrapped key in it, does not. */
static void test_rotation_shreds_backups(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    person gone = {"Gina", "gina@example.org", NULL, NULL, NULL};
    person kept = {"Hal", "hal@example.org", NULL, NULL, NULL};
    int64_t gone_sub = 0, kept_sub = 0;
    int64_t gone_req = file_request(&fx, "pothole", "DOT", &gone, T0, &gone_sub);
    int64_t kept_req = file_request(&fx, "pothole", "DOT", &kept, T0, &kept_sub);
    REQUIRE(gone_req > 0 && kept_req > 0);
    char backup[160];
    snprintf(backup, sizeof backup, "%s/backup.db", fx.dir);
    err_t err;
    REQUIRE(store_backup(fx.s, backup, &err) == ERR_OK);
    retention_report rep = {0};
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    REQUIRE(retention_erase_request(fx.s, gone_req, DC_ALL, "staff:9", "the reporter asked",
                                    T0 + DAY, &rep, &err) == ERR_OK);
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);
    CHECK_INT(rep.subjects, 1);

    /* before rotation, the old backup still opens the erased person */
    store_t *old = NULL;
    store_options bopt = {.url = backup, .sync = false};
    REQUIRE(store_open(&bopt, &old, &err) == ERR_OK);
    unsigned char key[SEAL_KEY_LEN];
    int kv;
    CHECK_INT(vault_subject_key(old, fx.k, gone_sub, key, &kv, &err), ERR_OK);

    int64_t rewrapped = 0;
    CHECK_INT(vault_rotate(fx.s, fx.k, "staff:admin", T0 + 2 * DAY, 1, &rewrapped, &err), ERR_OK);
    CHECK_INT(rewrapped, 1); /* only the kept person still has a key */
    int versions[KEYRING_MAX_KEKS];
    CHECK_INT(keyring_kek_versions(fx.k, versions, KEYRING_MAX_KEKS), 1);
    CHECK_INT(keyring_kek_current(fx.k), 2);
    /* the key file on disk says the same */
    keyring_t *reloaded = NULL;
    REQUIRE(keyring_load(fx.keys, &reloaded, &err) == ERR_OK);
    CHECK(keyring_kek_borrow(reloaded, 1) == NULL);
    CHECK_INT(vault_subject_key(old, reloaded, gone_sub, key, &kv, &err), ERR_INTERNAL);
    CHECK(strstr(err.msg, "version 1") != NULL);
    /* the live store still opens the kept person */
    CHECK_INT(vault_subject_key(fx.s, reloaded, kept_sub, key, &kv, &err), ERR_OK);
    memset(key, 0, sizeof key);
    keyring_free(reloaded);
    store_close(old);
    storefx_close(&fx);
}

TEST_MAIN(TEST(test_policy_table), TEST(test_reads_follow_policy), TEST(test_sealed_and_bound),
          TEST(test_blind_lookup), TEST(test_retention_schedule), TEST(test_recordings_14_days), TEST(test_unsent_photo_erased_after_a_day),
          TEST(test_rotation_shreds_backups))
