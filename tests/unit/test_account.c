/*
 * test_account.c - residents' accounts (privacy/account.c) on a real
 * SQLite store and a real key file: the input rules, Argon2id passwords,
 * the email's blind index (no plaintext in the file), reading the record
 * back only through the gatekeeper (with its audit entry), the failed
 * sign-in limit under an injected clock, sessions (idle and kept), "my
 * requests", removing one request's details, and deleting the account
 * (legal holds, crypto-shredding, the email free again).
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/account.h"
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
#define PW "correct horse battery"

/* ---- fixture: a store, a key file, one service ---- */

static bool fx_open(storefx *fx)
{
    static const service services[] = {
        {"pothole", "Pothole", NULL, SERVICE_REALTIME, NULL, NULL, "DOT", NULL, 0, NULL, 0},
    };
    return storefx_open_keyed(fx, services, sizeof services / sizeof services[0]);
}

/* One hash for every account of the tests: Argon2id is slow on purpose. */
static const char *test_hash(void)
{
    static char hash[ACCOUNT_HASH_MAX];
    err_t err;
    if (hash[0] == '\0' && account_password_hash(PW, hash, &err) != ERR_OK) {
        fprintf(stderr, "hash: %s\n", err.msg);
        return "";
    }
    return hash;
}

/* account_create in a transaction of its own. */
static err_code create(storefx *fx, const char *email, const char *name, int64_t now, int64_t *id,
                       int64_t *subject, err_t *err)
{
    err_code rc = store_begin(fx->s, err);
    if (rc == ERR_OK)
        rc = storefx_finish(
            fx->s, account_create(fx->s, fx->k, email, name, test_hash(), now, id, subject, err),
            err);
    return rc;
}

/* A request filed while signed in: sealed under the account's subject. */
static int64_t file_as(storefx *fx, int64_t subject, const char *email, int64_t at)
{
    err_t err = {0};
    service_request sr = storefx_request("pothole", at);
    sr.agency_code = "DOT";
    sr.channel = SR_CHANNEL_WEB;
    sr.reporter.first_name = "Ana";
    sr.reporter.email = email;
    sr.reporter.account_id = "7";
    err_code rc = store_begin(fx->s, &err);
    if (rc == ERR_OK)
        rc = store_request_insert(fx->s, &sr, &err);
    if (rc == ERR_OK)
        rc = vault_collect_reporter(fx->s, fx->k, &sr, "web", subject, at, NULL, &err);
    rc = storefx_finish(fx->s, rc, &err);
    if (rc != ERR_OK) {
        fprintf(stderr, "file_as: %s\n", err.msg);
        return 0;
    }
    return sr.id;
}

static int64_t count_rows(storefx *fx, const char *sql)
{
    sqlite3 *db = raw_open(fx->path);
    int64_t v = db != NULL ? raw_int(db, sql) : -1;
    sqlite3_close(db);
    return v;
}

static int64_t count_subjects(storefx *fx)
{
    return count_rows(fx, "SELECT COUNT(*) FROM subject");
}

/* Personal records a request still holds. */
static int64_t records_of(storefx *fx, int64_t request_id)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM personal_field WHERE request_id = %lld",
             (long long)request_id);
    return count_rows(fx, sql);
}

/* gate_read_account in a transaction; a refusal is committed (its entry
 * must stay), anything else but success rolled back. */
static err_code read_account(storefx *fx, const gate_actor *a, gate_purpose p, int64_t id,
                             pool_t *pool, gate_account_view *v, err_t *err)
{
    err_code rc = store_begin(fx->s, err);
    if (rc != ERR_OK)
        return rc;
    rc = gate_read_account(fx->s, fx->k, a, p, id, T0, pool, v, err);
    err_t cerr;
    if (rc == ERR_FORBIDDEN)
        return storefx_finish(fx->s, ERR_OK, &cerr) == ERR_OK ? rc : cerr.code;
    return storefx_finish(fx->s, rc, err);
}

static gate_actor resident(int64_t subject, const char *actor)
{
    return (gate_actor){.role = GATE_RESIDENT, .actor = actor, .subject_id = subject};
}

/* ---- the rules ---- */

static void test_input_rules(void)
{
    CHECK_INT(account_check_email("ana@example.org"), ACCOUNT_INPUT_OK);
    const char *bad_emails[] = {"",
                                "ana",
                                "@example.org",
                                "ana@",
                                "ana@example",
                                "a@b@c.org",
                                "ana @example.org",
                                "ana@exa\tmple.org",
                                "<ana@example.org>",
                                "ana@example.org\n",
                                "\xff@example.org"};
    for (size_t i = 0; i < sizeof bad_emails / sizeof bad_emails[0]; i++)
        CHECK_INT(account_check_email(bad_emails[i]), ACCOUNT_EMAIL_BAD);
    char long_email[300];
    memset(long_email, 'a', sizeof long_email);
    memcpy(long_email + 250, "@x.org", 7);
    CHECK_INT(account_check_email(long_email), ACCOUNT_EMAIL_BAD); /* 256 bytes */
    long_email[249] = '\0';
    CHECK_INT(account_check_email(long_email + 1), ACCOUNT_EMAIL_BAD); /* no '@' */

    CHECK_INT(account_check_name(NULL), ACCOUNT_INPUT_OK);
    CHECK_INT(account_check_name(""), ACCOUNT_INPUT_OK);
    CHECK_INT(account_check_name("Ana García"), ACCOUNT_INPUT_OK);
    CHECK_INT(account_check_name("Ana\nGarcía"), ACCOUNT_NAME_BAD);
    char name[256];
    memset(name, 'x', 101);
    name[101] = '\0';
    CHECK_INT(account_check_name(name), ACCOUNT_NAME_BAD);
    name[100] = '\0';
    CHECK_INT(account_check_name(name), ACCOUNT_INPUT_OK);
    /* 100 characters of two bytes each are 100, not 200. */
    for (int i = 0; i < 100; i++)
        memcpy(name + 2 * i, "\xc3\xb1", 2);
    name[200] = '\0';
    CHECK_INT(account_check_name(name), ACCOUNT_INPUT_OK);

    const char *email = "Ana@Example.org";
    CHECK_INT(account_check_password("123456789", email), ACCOUNT_PASSWORD_SHORT);
    CHECK_INT(account_check_password("1234567890", email), ACCOUNT_INPUT_OK);
    CHECK_INT(account_check_password(NULL, email), ACCOUNT_PASSWORD_SHORT);
    /* Characters, not bytes: nine "ñ" are 18 bytes and still too short. */
    CHECK_INT(account_check_password("ñññññññññ", email), ACCOUNT_PASSWORD_SHORT);
    CHECK_INT(account_check_password("ññññññññññ", email), ACCOUNT_INPUT_OK);
    CHECK_INT(account_check_password("pass word with spaces", email), ACCOUNT_INPUT_OK);
    CHECK_INT(account_check_password("ana@example.org", email), ACCOUNT_PASSWORD_IS_EMAIL);
    CHECK_INT(account_check_password(" ANA@EXAMPLE.ORG ", email), ACCOUNT_PASSWORD_IS_EMAIL);
    CHECK_INT(account_check_password("ana@example.org2", email), ACCOUNT_INPUT_OK);
    CHECK_INT(account_check_password("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6", email),
              ACCOUNT_PASSWORD_NOT_TEXT);
    char *big = malloc(ACCOUNT_PASSWORD_MAX + 2);
    REQUIRE(big != NULL);
    memset(big, 'p', ACCOUNT_PASSWORD_MAX + 1);
    big[ACCOUNT_PASSWORD_MAX + 1] = '\0';
    CHECK_INT(account_check_password(big, email), ACCOUNT_PASSWORD_LONG);
    big[ACCOUNT_PASSWORD_MAX] = '\0';
    CHECK_INT(account_check_password(big, email), ACCOUNT_INPUT_OK);
    free(big);

    char actor[ACCOUNT_ACTOR_MAX];
    CHECK_STR(account_actor(42, actor), "account:42");
}

static void test_passwords(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *h = test_hash();
    CHECK(strncmp(h, "$argon2id$v=19$m=65536,t=2,p=1$", 31) == 0);
    CHECK(account_password_verify(h, PW));
    CHECK(!account_password_verify(h, "correct horse battery "));
    CHECK(!account_password_verify(h, ""));
    CHECK(!account_password_verify("not a hash", PW));
    CHECK(!account_password_verify(NULL, PW));
    CHECK(!account_password_needs_rehash(h));
    /* Two hashes of one password differ (a salt each). */
    char h2[ACCOUNT_HASH_MAX];
    err_t err;
    REQUIRE(account_password_hash(PW, h2, &err) == ERR_OK);
    CHECK(strcmp(h, h2) != 0);
    CHECK(account_password_verify(h2, PW));
    /* A hash made with weaker limits asks to be made again. */
    char weak[crypto_pwhash_STRBYTES];
    REQUIRE(crypto_pwhash_str_alg(weak, PW, strlen(PW), crypto_pwhash_OPSLIMIT_MIN,
                                  crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13) == 0);
    CHECK(account_password_verify(weak, PW));
    CHECK(account_password_needs_rehash(weak));
    CHECK(account_password_needs_rehash("garbage"));
    account_password_dummy(PW);
    account_password_dummy(NULL);
}

/* ---- creating, finding, reading back ---- */

static void test_create_find_and_read(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t id = 0, subject = 0;
    const char *email = "Wilhelmina.Quarrington@example.org";
    REQUIRE(create(&fx, email, "Wilhelmina Q", T0, &id, &subject, &err) == ERR_OK);
    CHECK(id > 0 && subject > 0);

    /* The collect entry names the fields, never a value. */
    pool_t *pool = pool_new();
    audit_entry e;
    REQUIRE(storefx_audit_last_entry(&fx, pool, &e));
    CHECK_INT(e.action, AUDIT_COLLECT);
    char actor[ACCOUNT_ACTOR_MAX];
    CHECK_STR(e.actor, account_actor(id, actor));
    CHECK_STR(e.fields, "email,display_name");
    CHECK_INT(e.subject_id, subject);

    /* Found by the email in any case, with spaces around. */
    store_account a;
    CHECK_INT(account_find(fx.s, fx.k, "  wilhelmina.quarrington@EXAMPLE.ORG ", pool, &a, &err),
              ERR_OK);
    CHECK_INT(a.id, id);
    CHECK_INT(a.subject_id, subject);
    CHECK(strncmp(a.password_hash, "$argon2id$", 10) == 0);
    CHECK(!account_locked(&a, T0));
    CHECK_INT(account_find(fx.s, fx.k, "other@example.org", pool, &a, &err), ERR_NOT_FOUND);
    CHECK_INT(account_find(fx.s, fx.k, "not an email", pool, &a, &err), ERR_NOT_FOUND);

    /* One email, one account: in another case too, and nothing written. */
    int64_t before = storefx_audit_size(&fx);
    CHECK_INT(create(&fx, "WILHELMINA.quarrington@example.org", NULL, T0, NULL, NULL, &err),
              ERR_CONFLICT);
    CHECK(strstr(err.msg, "ilhelmina") == NULL);
    CHECK_INT(storefx_audit_size(&fx), before);
    CHECK_INT(count_subjects(&fx), 1);
    /* Bad input is refused before anything is written. */
    CHECK_INT(create(&fx, "nobody", NULL, T0, NULL, NULL, &err), ERR_INVALID);
    CHECK_INT(create(&fx, "x@example.org", "two\nlines", T0, NULL, NULL, &err), ERR_INVALID);
    CHECK_INT(count_subjects(&fx), 1);

    /* Nothing in the clear in the database or its log. */
    CHECK(!file_contains_str(fx.path, "Quarrington"));
    CHECK(!file_contains_str(fx.wal, "Quarrington"));
    CHECK(!file_contains_str(fx.wal, "quarrington"));
    CHECK(!file_contains_str(fx.wal, "Wilhelmina Q"));

    /* Read back through the gatekeeper: the owner, with a READ entry. */
    char me[ACCOUNT_ACTOR_MAX];
    account_actor(id, me);
    gate_actor owner = resident(subject, me);
    gate_account_view v;
    CHECK_INT(read_account(&fx, &owner, GATE_PURPOSE_ADDRESS_REQUEST, id, pool, &v, &err), ERR_OK);
    CHECK_STR(v.email, email);
    CHECK_STR(v.display_name, "Wilhelmina Q");
    REQUIRE(storefx_audit_last_entry(&fx, pool, &e));
    CHECK_INT(e.action, AUDIT_READ);
    CHECK_STR(e.actor, me);
    CHECK_STR(e.role, "resident");
    CHECK_STR(e.purpose, "address_request");
    CHECK_STR(e.fields, "email,display_name");

    /* Another resident, an agent, a purpose that is not the policy's: refused and recorded. */
    gate_actor stranger = resident(subject + 100, "account:999");
    before = storefx_audit_size(&fx);
    CHECK_INT(read_account(&fx, &stranger, GATE_PURPOSE_ADDRESS_REQUEST, id, pool, &v, &err),
              ERR_FORBIDDEN);
    CHECK(v.email == NULL);
    CHECK_INT(storefx_audit_size(&fx), before + 1);
    REQUIRE(storefx_audit_last_entry(&fx, pool, &e));
    CHECK_INT(e.action, AUDIT_REFUSE);
    gate_actor agent = {.role = GATE_AGENT, .actor = "staff:3"};
    CHECK_INT(read_account(&fx, &agent, GATE_PURPOSE_ADDRESS_REQUEST, id, pool, &v, &err),
              ERR_FORBIDDEN);
    CHECK_INT(read_account(&fx, &owner, GATE_PURPOSE_CITY_BUSINESS, id, pool, &v, &err),
              ERR_FORBIDDEN);
    gate_actor officer = {.role = GATE_PRIVACY_OFFICER, .actor = "staff:9"};
    CHECK_INT(read_account(&fx, &officer, GATE_PURPOSE_REQUIRED_BY_LAW, id, pool, &v, &err),
              ERR_OK);
    CHECK_STR(v.email, email);
    CHECK_INT(read_account(&fx, &owner, GATE_PURPOSE_ADDRESS_REQUEST, id + 50, pool, &v, &err),
              ERR_NOT_FOUND);

    /* No display name: a record of one field. */
    int64_t id2 = 0, subject2 = 0;
    REQUIRE(create(&fx, "second@example.org", "", T0, &id2, &subject2, &err) == ERR_OK);
    gate_actor owner2 = resident(subject2, "account:2");
    CHECK_INT(read_account(&fx, &owner2, GATE_PURPOSE_ADDRESS_REQUEST, id2, pool, &v, &err),
              ERR_OK);
    CHECK_STR(v.email, "second@example.org");
    CHECK(v.display_name == NULL);

    /* A record copied to another account's row does not open there. */
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    char sql[160];
    snprintf(sql, sizeof sql,
             "UPDATE account SET sealed = (SELECT sealed FROM account WHERE id = %lld) "
             "WHERE id = %lld",
             (long long)id, (long long)id2);
    CHECK(raw_exec(db, sql));
    sqlite3_close(db);
    CHECK_INT(read_account(&fx, &owner2, GATE_PURPOSE_ADDRESS_REQUEST, id2, pool, &v, &err),
              ERR_INTERNAL);
    CHECK(v.email == NULL);
    CHECK(strstr(err.msg, "does not open") != NULL);
    pool_free(pool);
    storefx_close(&fx);
}

/* ---- the failed sign-in limit ---- */

static bool attempt(storefx *fx, int64_t id, bool ok, int64_t now)
{
    err_t err;
    bool accepted = false;
    err_code rc = store_begin(fx->s, &err);
    if (rc == ERR_OK)
        rc =
            storefx_finish(fx->s, account_attempt(fx->s, id, ok, NULL, now, &accepted, &err), &err);
    CHECK_INT(rc, ERR_OK);
    return accepted;
}

static store_account row_of(storefx *fx, int64_t id)
{
    store_account a;
    err_t err;
    memset(&a, 0, sizeof a);
    CHECK_INT(store_account_get(fx->s, id, fx->pool, &a, &err), ERR_OK);
    return a;
}

static void test_failed_signin_limit(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t id = 0;
    REQUIRE(create(&fx, "lock@example.org", NULL, T0, &id, NULL, &err) == ERR_OK);

    /* Four failures, then the right password: in, and the count starts over. */
    for (int i = 0; i < 4; i++)
        CHECK(!attempt(&fx, id, false, T0 + i));
    CHECK_INT(row_of(&fx, id).failed_count, 4);
    CHECK(attempt(&fx, id, true, T0 + 10));
    CHECK_INT(row_of(&fx, id).failed_count, 0);

    /* Five within 15 minutes lock it: even the right password is refused
     * until the lock ends, and an attempt while locked changes nothing. */
    int64_t t = T0 + 100;
    for (int i = 0; i < ACCOUNT_MAX_FAILURES; i++)
        CHECK(!attempt(&fx, id, false, t + i * 60));
    int64_t locked_at = t + (ACCOUNT_MAX_FAILURES - 1) * 60;
    store_account a = row_of(&fx, id);
    CHECK_INT(a.locked_until, locked_at + ACCOUNT_LOCK_SECONDS);
    CHECK(account_locked(&a, locked_at + 1));
    CHECK(!attempt(&fx, id, true, locked_at + 1));
    CHECK(!attempt(&fx, id, false, locked_at + 2));
    CHECK_INT(row_of(&fx, id).locked_until, locked_at + ACCOUNT_LOCK_SECONDS);
    CHECK(!attempt(&fx, id, true, locked_at + ACCOUNT_LOCK_SECONDS - 1));
    /* The lock ends on time, and a sign-in clears it. */
    CHECK(!account_locked(&a, locked_at + ACCOUNT_LOCK_SECONDS));
    CHECK(attempt(&fx, id, true, locked_at + ACCOUNT_LOCK_SECONDS));
    a = row_of(&fx, id);
    CHECK_INT(a.locked_until, 0);
    CHECK_INT(a.failed_count, 0);

    /* Failures further apart than the window never add up to a lock. */
    t = T0 + DAY;
    for (int i = 0; i < 12; i++)
        CHECK(!attempt(&fx, id, false, t + i * (ACCOUNT_FAILURE_WINDOW / 4 + 1)));
    CHECK_INT(row_of(&fx, id).locked_until, 0);
    CHECK(row_of(&fx, id).failed_count < ACCOUNT_MAX_FAILURES);
    CHECK(attempt(&fx, id, true, t + DAY));

    /* A rehash at sign-in replaces the stored string. */
    char fresh[ACCOUNT_HASH_MAX];
    REQUIRE(account_password_hash(PW, fresh, &err) == ERR_OK);
    bool accepted = false;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(storefx_finish(
                  fx.s, account_attempt(fx.s, id, true, fresh, t + DAY + 5, &accepted, &err), &err),
              ERR_OK);
    CHECK(accepted);
    CHECK_STR(row_of(&fx, id).password_hash, fresh);
    /* An account that never existed. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(
        storefx_finish(fx.s, account_attempt(fx.s, id + 9, true, NULL, T0, &accepted, &err), &err),
        ERR_NOT_FOUND);
    CHECK(!accepted);
    storefx_close(&fx);
}

/* ---- sessions ---- */

static err_code txn_session_start(storefx *fx, int64_t id, const char *sid, bool keep, int64_t now,
                                  int64_t *until)
{
    err_t err;
    unsigned char h[STORE_DIGEST_LEN];
    account_session_hash(sid, h);
    err_code rc = store_begin(fx->s, &err);
    if (rc == ERR_OK)
        rc = storefx_finish(fx->s, account_session_start(fx->s, id, h, keep, now, until, &err),
                            &err);
    return rc;
}

static err_code find_session(storefx *fx, const char *sid, int64_t now, store_web_session *ws,
                             bool *touch)
{
    err_t err;
    unsigned char h[STORE_DIGEST_LEN];
    account_session_hash(sid, h);
    return account_session_find(fx->s, h, now, ws, touch, &err);
}

static err_code txn_touch(storefx *fx, const char *sid, int64_t now)
{
    err_t err;
    unsigned char h[STORE_DIGEST_LEN];
    account_session_hash(sid, h);
    err_code rc = store_begin(fx->s, &err);
    return rc == ERR_OK ? storefx_finish(fx->s, account_session_touch(fx->s, h, now, &err), &err)
                        : rc;
}

static void test_sessions(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t id = 0, subject = 0;
    REQUIRE(create(&fx, "session@example.org", NULL, T0, &id, &subject, &err) == ERR_OK);
    const char *sid = "Q2FuYWRpYW4gZ2Vlc2UgZmx5IGluIGEgVi1mb3JtYXRpb24";
    int64_t until = 0;
    REQUIRE(txn_session_start(&fx, id, sid, false, T0, &until) == ERR_OK);
    CHECK_INT(until, T0 + ACCOUNT_SESSION_IDLE);
    /* The id itself is nowhere in the store. */
    CHECK(!file_contains_str(fx.path, sid));
    CHECK(!file_contains_str(fx.wal, sid));

    store_web_session ws;
    bool touch = true;
    CHECK_INT(find_session(&fx, sid, T0 + 10, &ws, &touch), ERR_OK);
    CHECK_INT(ws.account_id, id);
    CHECK_INT(ws.subject_id, subject);
    CHECK(!ws.persistent);
    CHECK(!touch);
    CHECK_INT(find_session(&fx, sid, T0 + ACCOUNT_SESSION_TOUCH, &ws, &touch), ERR_OK);
    CHECK(touch);
    CHECK_INT(find_session(&fx, "another id", T0, &ws, &touch), ERR_NOT_FOUND);

    /* Used within the idle limit, it lives on; left idle, it ends. */
    int64_t t = T0 + ACCOUNT_SESSION_IDLE - 60;
    CHECK_INT(txn_touch(&fx, sid, t), ERR_OK);
    CHECK_INT(find_session(&fx, sid, T0 + ACCOUNT_SESSION_IDLE + 60, &ws, &touch), ERR_OK);
    CHECK_INT(ws.last_seen, t);
    CHECK_INT(ws.expires_at, t + ACCOUNT_SESSION_IDLE);
    CHECK_INT(find_session(&fx, sid, t + ACCOUNT_SESSION_IDLE, &ws, &touch), ERR_NOT_FOUND);
    /* Touching an expired session is no error, and does not revive it. */
    CHECK_INT(txn_touch(&fx, sid, t + ACCOUNT_SESSION_IDLE + 5), ERR_OK);
    CHECK_INT(find_session(&fx, sid, t + ACCOUNT_SESSION_IDLE + 6, &ws, &touch), ERR_NOT_FOUND);

    /* Kept signed in: 30 days, not moved by use. */
    const char *kept = "a-kept-session-id-aaaaaaaaaaaaaaaaaaaaaaaaaa";
    REQUIRE(txn_session_start(&fx, id, kept, true, T0, &until) == ERR_OK);
    CHECK_INT(until, T0 + ACCOUNT_SESSION_KEEP);
    CHECK_INT(txn_touch(&fx, kept, T0 + 20 * DAY), ERR_OK);
    CHECK_INT(find_session(&fx, kept, T0 + 20 * DAY + 1, &ws, &touch), ERR_OK);
    CHECK(ws.persistent);
    CHECK_INT(ws.last_seen, T0 + 20 * DAY);
    CHECK_INT(ws.expires_at, T0 + ACCOUNT_SESSION_KEEP);
    CHECK_INT(find_session(&fx, kept, T0 + ACCOUNT_SESSION_KEEP, &ws, &touch), ERR_NOT_FOUND);

    /* The same id twice is refused (it would sign two people in as one). */
    CHECK_INT(txn_session_start(&fx, id, kept, false, T0 + 1, &until), ERR_CONFLICT);

    /* A new sign-in purges expired sessions as it goes. */
    CHECK_INT(count_rows(&fx, "SELECT COUNT(*) FROM web_session"), 2);
    REQUIRE(txn_session_start(&fx, id, "third", false, T0 + 40 * DAY, &until) == ERR_OK);
    CHECK_INT(count_rows(&fx, "SELECT COUNT(*) FROM web_session"), 1);

    /* Signing out ends it at once; ending one that is gone is fine. */
    unsigned char h[STORE_DIGEST_LEN];
    account_session_hash("third", h);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(storefx_finish(fx.s, account_session_end(fx.s, h, &err), &err), ERR_OK);
    CHECK_INT(find_session(&fx, "third", T0 + 40 * DAY + 1, &ws, &touch), ERR_NOT_FOUND);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(storefx_finish(fx.s, account_session_end(fx.s, h, &err), &err), ERR_OK);
    storefx_close(&fx);
}

/* ---- my requests, removing my details ---- */

static void test_my_requests_and_removing_details(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t id = 0, subject = 0, other = 0, other_subject = 0;
    REQUIRE(create(&fx, "mine@example.org", "Me", T0, &id, &subject, &err) == ERR_OK);
    REQUIRE(create(&fx, "theirs@example.org", NULL, T0, &other, &other_subject, &err) == ERR_OK);
    int64_t r1 = file_as(&fx, subject, "mine@example.org", T0 + 10);
    int64_t r_anon = file_as(&fx, 0, "anon@example.org", T0 + 20);
    int64_t r2 = file_as(&fx, subject, "mine@example.org", T0 + 30);
    int64_t r_other = file_as(&fx, other_subject, "theirs@example.org", T0 + 40);
    REQUIRE(r1 && r_anon && r2 && r_other);

    int64_t *ids = NULL;
    size_t n = 0;
    REQUIRE(store_subject_requests(fx.s, subject, 100, fx.pool, &ids, &n, &err) == ERR_OK);
    REQUIRE(n == 2);
    CHECK_INT(ids[0], r2); /* newest first */
    CHECK_INT(ids[1], r1);
    REQUIRE(store_subject_requests(fx.s, subject, 1, fx.pool, &ids, &n, &err) == ERR_OK);
    CHECK_INT(n, 1);

    /* The owner reads the request's details through the gatekeeper. */
    char me[ACCOUNT_ACTOR_MAX];
    account_actor(id, me);
    gate_actor owner = resident(subject, me);
    gate_view v;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(gate_read_request(fx.s, fx.k, &owner, GATE_PURPOSE_ADDRESS_REQUEST, r1,
                                DC_BIT(DC_CONTACT) | DC_BIT(DC_ACCOUNT), T0, fx.pool, &v, &err),
              ERR_OK);
    REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    CHECK_STR(v.reporter.email, "mine@example.org");
    CHECK_STR(v.reporter.account_id, "7");

    /* Only my own request: someone else's, an anonymous one and one that
     * does not exist all look the same, and nothing is erased. */
    retention_report rep = {0};
    int64_t before = storefx_audit_size(&fx);
    int64_t notmine[] = {r_anon, r_other, r2 + 1000};
    for (size_t i = 0; i < 3; i++) {
        REQUIRE(store_begin(fx.s, &err) == ERR_OK);
        CHECK_INT(storefx_finish(fx.s,
                                 account_remove_request(fx.s, id, notmine[i], T0 + 50, &rep, &err),
                                 &err),
                  ERR_NOT_FOUND);
    }
    CHECK_INT(storefx_audit_size(&fx), before);
    CHECK_INT(rep.values, 0);

    /* Mine: erased with a receipt naming me, the request stays. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(storefx_finish(fx.s, account_remove_request(fx.s, id, r1, T0 + 60, &rep, &err), &err),
              ERR_OK);
    CHECK_INT(rep.requests, 1);
    audit_entry e;
    REQUIRE(storefx_audit_last_entry(&fx, fx.pool, &e));
    CHECK_INT(e.action, AUDIT_ERASE);
    CHECK_STR(e.actor, me);
    CHECK_INT(e.request_id, r1);
    CHECK(strstr(e.reason, "removed by its reporter") != NULL);
    CHECK(strstr(e.reason, "shredded") == NULL); /* the account still needs its key */
    service_request sr;
    CHECK_INT(store_request_get(fx.s, r1, fx.pool, &sr, &err), ERR_OK);
    CHECK_INT(records_of(&fx, r1), 0);
    REQUIRE(store_subject_requests(fx.s, subject, 100, fx.pool, &ids, &n, &err) == ERR_OK);
    CHECK_INT(n, 1);
    CHECK_INT(ids[0], r2);
    /* The account itself is untouched: its email still opens. */
    gate_account_view av;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(gate_read_account(fx.s, fx.k, &owner, GATE_PURPOSE_ADDRESS_REQUEST, id, T0, fx.pool,
                                &av, &err),
              ERR_OK);
    REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    CHECK_STR(av.email, "mine@example.org");

    /* Under a legal hold: refused, nothing erased. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    REQUIRE(storefx_finish(
                fx.s,
                retention_hold_place(fx.s, r2, 0, "court order", "staff:9", T0 + 70, NULL, &err),
                &err) == ERR_OK);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(storefx_finish(fx.s, account_remove_request(fx.s, id, r2, T0 + 80, &rep, &err), &err),
              ERR_CONFLICT);
    REQUIRE(store_subject_requests(fx.s, subject, 100, fx.pool, &ids, &n, &err) == ERR_OK);
    CHECK_INT(n, 1);
    storefx_close(&fx);
}

/* The retention schedule erases a closed request filed from an account,
 * and must leave the account's key alone: the account still holds its
 * email under it. */
static void test_retention_keeps_the_account_key(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t id = 0, subject = 0;
    REQUIRE(create(&fx, "kept@example.org", NULL, T0, &id, &subject, &err) == ERR_OK);
    int64_t r = file_as(&fx, subject, "kept@example.org", T0);
    REQUIRE(r != 0);
    REQUIRE(storefx_set_status(fx.s, r, T0 + DAY, SR_CLOSED));
    retention_schedule rs;
    retention_defaults(&rs);
    retention_report rep = {0};
    REQUIRE(retention_run(fx.s, fx.k, &rs, T0 + 200 * DAY, 10, &rep, &err) == ERR_OK);
    CHECK_INT(rep.requests, 1);
    CHECK_INT(rep.subjects, 0);
    store_subject sub;
    REQUIRE(store_subject_get(fx.s, subject, fx.pool, &sub, &err) == ERR_OK);
    CHECK(sub.wrapped_key != NULL);
    CHECK_INT(sub.erased_at, 0);
    gate_actor owner = resident(subject, "account:1");
    gate_account_view av;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(gate_read_account(fx.s, fx.k, &owner, GATE_PURPOSE_ADDRESS_REQUEST, id, T0, fx.pool,
                                &av, &err),
              ERR_OK);
    REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    CHECK_STR(av.email, "kept@example.org");
    storefx_close(&fx);
}

/* ---- deleting an account ---- */

static err_code txn_delete(storefx *fx, int64_t id, int64_t now, account_deletion *d, err_t *err)
{
    err_code rc = store_begin(fx->s, err);
    return rc == ERR_OK ? storefx_finish(fx->s, account_delete(fx->s, id, now, d, err), err) : rc;
}

static void test_delete(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t id = 0, subject = 0;
    REQUIRE(create(&fx, "Gone.Person@example.org", "Gone", T0, &id, &subject, &err) == ERR_OK);
    int64_t r1 = file_as(&fx, subject, "Gone.Person@example.org", T0 + 1);
    int64_t r2 = file_as(&fx, subject, "Gone.Person@example.org", T0 + 2);
    REQUIRE(r1 && r2);
    REQUIRE(txn_session_start(&fx, id, "sid-of-gone", true, T0 + 3, NULL) == ERR_OK);

    /* A hold on the account itself: nothing happens. */
    int64_t hold = 0;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    REQUIRE(storefx_finish(fx.s,
                           retention_hold_place(fx.s, 0, subject, "investigation", "staff:9",
                                                T0 + 4, &hold, &err),
                           &err) == ERR_OK);
    account_deletion d;
    int64_t before = storefx_audit_size(&fx);
    CHECK_INT(txn_delete(&fx, id, T0 + 5, &d, &err), ERR_CONFLICT);
    CHECK_INT(storefx_audit_size(&fx), before);
    store_web_session ws;
    bool touch;
    CHECK_INT(find_session(&fx, "sid-of-gone", T0 + 6, &ws, &touch), ERR_OK);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    REQUIRE(storefx_finish(fx.s, retention_hold_release(fx.s, hold, "staff:9", T0 + 7, &err),
                           &err) == ERR_OK);

    /* A hold on one request: that one waits, the rest goes. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    REQUIRE(storefx_finish(
                fx.s,
                retention_hold_place(fx.s, r2, 0, "court order", "staff:9", T0 + 8, NULL, &err),
                &err) == ERR_OK);
    CHECK_INT(txn_delete(&fx, id, T0 + 10, &d, &err), ERR_OK);
    CHECK_INT(d.requests, 1);
    CHECK_INT(d.held, 1);
    CHECK(!d.shredded); /* the held request is sealed under the key */
    audit_entry e;
    REQUIRE(storefx_audit_last_entry(&fx, fx.pool, &e));
    CHECK_INT(e.action, AUDIT_ERASE);
    CHECK_STR(e.actor, "account:1");
    CHECK_STR(e.fields, "account");
    CHECK_INT(e.subject_id, subject);
    /* The tombstone: no email, digest, password or record; no session. */
    store_account a;
    REQUIRE(store_account_get(fx.s, id, fx.pool, &a, &err) == ERR_OK);
    CHECK(a.deleted_at == T0 + 10);
    CHECK(a.password_hash == NULL);
    CHECK(a.sealed == NULL);
    CHECK_INT(count_rows(&fx, "SELECT COUNT(*) FROM account WHERE email_digest IS NOT NULL"), 0);
    CHECK_INT(find_session(&fx, "sid-of-gone", T0 + 11, &ws, &touch), ERR_NOT_FOUND);
    CHECK_INT(count_rows(&fx, "SELECT COUNT(*) FROM web_session"), 0);
    CHECK_INT(account_find(fx.s, fx.k, "gone.person@example.org", fx.pool, &a, &err),
              ERR_NOT_FOUND);
    gate_actor owner = resident(subject, "account:1");
    gate_account_view av;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(gate_read_account(fx.s, fx.k, &owner, GATE_PURPOSE_ADDRESS_REQUEST, id, T0, fx.pool,
                                &av, &err),
              ERR_NOT_FOUND);
    store_rollback(fx.s);
    CHECK_INT(records_of(&fx, r1), 0);
    CHECK(records_of(&fx, r2) > 0);
    /* Deleting twice: there is no such account any more. */
    CHECK_INT(txn_delete(&fx, id, T0 + 12, &d, &err), ERR_NOT_FOUND);
    /* Sign-in attempts on the tombstone are refused without a change. */
    CHECK(!attempt(&fx, id, true, T0 + 13));

    /* The email can register again: a new account, a new id. */
    int64_t id2 = 0, subject2 = 0;
    REQUIRE(create(&fx, "gone.person@example.org", NULL, T0 + 20, &id2, &subject2, &err) == ERR_OK);
    CHECK(id2 != id);
    CHECK(subject2 != subject);

    /* An account with nothing held: its key is shredded at once. */
    CHECK_INT(txn_delete(&fx, id2, T0 + 30, &d, &err), ERR_OK);
    CHECK(d.shredded);
    store_subject sub;
    REQUIRE(store_subject_get(fx.s, subject2, fx.pool, &sub, &err) == ERR_OK);
    CHECK(sub.wrapped_key == NULL);
    CHECK_INT(sub.erased_at, T0 + 30);
    REQUIRE(storefx_audit_last_entry(&fx, fx.pool, &e));
    CHECK(strstr(e.reason, "data key shredded") != NULL);
    storefx_close(&fx);
}

TEST_MAIN(TEST(test_input_rules), TEST(test_passwords), TEST(test_create_find_and_read),
          TEST(test_failed_signin_limit), TEST(test_sessions),
          TEST(test_my_requests_and_removing_details), TEST(test_retention_keeps_the_account_key),
          TEST(test_delete))
