/*
 * test_staff.c - staff accounts: the rules for logins, roles and
 * agencies; creating a member (sealed secret, audit entry); the password
 * and code steps with the failed-attempt lock and the refusal of a
 * replayed code; disabling; sessions' idle and absolute expiry under a
 * clock the test drives; the gatekeeper's actor.
 */
#include <sodium.h>

#include "privacy/account.h"
#include "privacy/staff.h"
#include "storefx.h"
#include "testlib.h"

#define T0 1800000000 /* 2027-01-15 */

static char HASH[ACCOUNT_HASH_MAX]; /* one Argon2id string for every test: it is slow */

static bool hash_once(void)
{
    err_t err;
    return HASH[0] != '\0' || account_password_hash("correct horse battery", HASH, &err) == ERR_OK;
}

/* The code of secret at time t, as an app shows it. */
static void code_at(const staff_secret *sec, int64_t t, char out[7])
{
    uint32_t v = 0;
    totp_hotp(TOTP_SHA1, sec->raw, sizeof sec->raw, (uint64_t)totp_step(t), 6, &v);
    snprintf(out, 7, "%06u", (unsigned)v);
}

static int64_t add(storefx *fx, const char *login, gate_role role, const char *const *ag,
                   size_t n, staff_secret *sec)
{
    err_t err = {0};
    int64_t id = 0;
    staff_secret_new(sec);
    err_code rc = store_begin(fx->s, &err);
    if (rc == ERR_OK)
        rc = staff_create(fx->s, fx->k, login, role, ag, n, HASH, sec, "cli:test", T0, &id, &err);
    rc = storefx_finish(fx->s, rc, &err);
    if (rc != ERR_OK)
        fprintf(stderr, "add %s: %s\n", login, err.msg);
    return rc == ERR_OK ? id : -(int64_t)rc;
}

static void rules(void)
{
    CHECK(staff_login_ok("jdoe"));
    CHECK(staff_login_ok("j.doe-2_x"));
    CHECK(!staff_login_ok("j"));
    CHECK(!staff_login_ok("JDoe"));
    CHECK(!staff_login_ok("2jdoe"));
    CHECK(!staff_login_ok("j@doe.org"));
    CHECK(!staff_login_ok("j doe"));
    CHECK(!staff_login_ok("abcdefghijklmnopqrstuvwxyzabcdefg")); /* 33 */
    CHECK(staff_login_ok("abcdefghijklmnopqrstuvwxyzabcdef"));   /* 32 */
    CHECK(!staff_login_ok(""));
    CHECK(!staff_login_ok(NULL));
    CHECK(staff_agency_ok("DOT"));
    CHECK(!staff_agency_ok(""));
    CHECK(!staff_agency_ok("D O T"));
    CHECK(!staff_role_ok(GATE_RESIDENT));
    for (int r = GATE_AGENT; r < GATE_ROLE_COUNT; r++)
        CHECK(staff_role_ok((gate_role)r));
    CHECK(!staff_role_ok((gate_role)GATE_ROLE_COUNT));
}

static void create_and_refuse(void)
{
    storefx fx;
    REQUIRE(hash_once());
    REQUIRE(storefx_open_keyed(&fx, NULL, 0));
    staff_secret sec;
    const char *dot[] = {"DOT"};
    int64_t before = storefx_audit_size(&fx);
    int64_t id = add(&fx, "jdoe", GATE_AGENCY_STAFF, dot, 1, &sec);
    CHECK(id > 0);
    CHECK_INT(storefx_audit_size(&fx), before + 1);
    audit_entry e;
    REQUIRE(storefx_audit_last_entry(&fx, fx.pool, &e));
    CHECK(e.action == AUDIT_STAFF);
    CHECK_STR(e.actor, "cli:test");
    CHECK_STR(e.reason, "added staff:1 as agency_staff");
    CHECK(e.fields == NULL);

    /* Taken login, bad role/agency combinations: nothing left behind. */
    staff_secret s2;
    CHECK_INT(add(&fx, "jdoe", GATE_AGENT, NULL, 0, &s2), -ERR_CONFLICT);
    CHECK_INT(add(&fx, "asmith", GATE_AGENCY_STAFF, NULL, 0, &s2), -ERR_INVALID);
    CHECK_INT(add(&fx, "asmith", GATE_AGENT, dot, 1, &s2), -ERR_INVALID);
    CHECK_INT(add(&fx, "asmith", GATE_RESIDENT, NULL, 0, &s2), -ERR_INVALID);
    CHECK_INT(add(&fx, "a smith", GATE_AGENT, NULL, 0, &s2), -ERR_INVALID);
    const char *bad[] = {"D;OT"};
    CHECK_INT(add(&fx, "asmith", GATE_SUPERVISOR, bad, 1, &s2), -ERR_INVALID);
    CHECK_INT(storefx_audit_size(&fx), before + 1);
    err_t err;
    store_staff *list = NULL;
    size_t n = 0;
    REQUIRE(store_staff_list(fx.s, fx.pool, &list, &n, &err) == ERR_OK);
    CHECK_INT(n, 1);

    /* The secret is sealed: not in the row in the clear, and bound to it. */
    store_staff m;
    REQUIRE(store_staff_get(fx.s, id, fx.pool, &m, &err) == ERR_OK);
    CHECK_INT(m.totp_sealed_len, TOTP_SECRET_LEN + SEAL_OVERHEAD);
    CHECK(sodium_memcmp(m.totp_sealed + SEAL_NONCE_LEN, sec.raw, 8) != 0);

    staff_member who;
    REQUIRE(staff_load(fx.s, id, fx.pool, &who, &err) == ERR_OK);
    CHECK_STR(who.login, "jdoe");
    CHECK(who.role == GATE_AGENCY_STAFF);
    REQUIRE(who.nagencies == 1);
    CHECK_STR(who.agencies[0], "DOT");
    char buf[STAFF_ACTOR_MAX];
    gate_actor ga;
    staff_gate_actor(&who, buf, &ga);
    CHECK_STR(ga.actor, "staff:1");
    CHECK(ga.role == GATE_AGENCY_STAFF && ga.nagencies == 1 && ga.subject_id == 0);
    storefx_close(&fx);
}

/* Runs one step in a transaction of its own. */
static staff_outcome pw_step(storefx *fx, int64_t id, bool ok, int64_t now)
{
    err_t err;
    staff_outcome o = (staff_outcome)-1;
    err_code rc = store_begin(fx->s, &err);
    if (rc == ERR_OK)
        rc = staff_password_attempt(fx->s, id, ok, now, &o, &err);
    if (storefx_finish(fx->s, rc, &err) != ERR_OK)
        fprintf(stderr, "pw_step: %s\n", err.msg);
    return o;
}

static staff_outcome code_step(storefx *fx, int64_t id, const char *code, int64_t now)
{
    err_t err;
    staff_outcome o = (staff_outcome)-1;
    err_code rc = store_begin(fx->s, &err);
    if (rc == ERR_OK)
        rc = staff_code_attempt(fx->s, fx->k, id, code, now, &o, &err);
    if (storefx_finish(fx->s, rc, &err) != ERR_OK)
        fprintf(stderr, "code_step: %s\n", err.msg);
    return o;
}

static void signin_steps(void)
{
    storefx fx;
    REQUIRE(hash_once());
    REQUIRE(storefx_open_keyed(&fx, NULL, 0));
    staff_secret sec;
    int64_t id = add(&fx, "agent1", GATE_AGENT, NULL, 0, &sec);
    REQUIRE(id > 0);
    CHECK(account_password_verify(HASH, "correct horse battery"));
    int64_t now = T0 + 100;
    char code[7];
    CHECK(pw_step(&fx, id, true, now) == STAFF_SIGNIN_OK);
    CHECK(pw_step(&fx, 0, true, now) == STAFF_SIGNIN_UNKNOWN);
    audit_entry e;
    REQUIRE(storefx_audit_last_entry(&fx, fx.pool, &e));
    CHECK(e.action == AUDIT_SIGN_IN);
    CHECK_STR(e.actor, "staff:unknown");
    code_at(&sec, now, code);
    CHECK(code_step(&fx, id, code, now) == STAFF_SIGNIN_OK);
    REQUIRE(storefx_audit_last_entry(&fx, fx.pool, &e));
    CHECK_STR(e.reason, "signed in");
    CHECK_STR(e.role, "agent");
    /* The same code again, even a second later: a replay. */
    CHECK(code_step(&fx, id, code, now + 1) == STAFF_SIGNIN_REPLAYED);
    /* The previous step's code after a later one was used: refused. */
    code_at(&sec, now - 30, code);
    CHECK(code_step(&fx, id, code, now + 2) == STAFF_SIGNIN_REPLAYED);
    /* The next step's code is fine. */
    code_at(&sec, now + 30, code);
    CHECK(code_step(&fx, id, code, now + 30) == STAFF_SIGNIN_OK);
    CHECK(code_step(&fx, id, "000000x", now + 60) == STAFF_SIGNIN_WRONG);

    /* Failures (passwords and codes together) lock at the 5th within the
     * window; a sign-in clears them: the two replays were cleared by the
     * code accepted after them, the malformed code counts 1. */
    store_staff m;
    err_t err;
    REQUIRE(store_staff_get(fx.s, id, fx.pool, &m, &err) == ERR_OK);
    CHECK_INT(m.failed_count, 1);
    for (int i = 0; i < 3; i++)
        CHECK(pw_step(&fx, id, false, now + 62 + i) == STAFF_SIGNIN_WRONG);
    REQUIRE(storefx_audit_last_entry(&fx, fx.pool, &e));
    CHECK_STR(e.reason, "password refused");
    CHECK(pw_step(&fx, id, false, now + 80) == STAFF_SIGNIN_WRONG);
    REQUIRE(storefx_audit_last_entry(&fx, fx.pool, &e));
    CHECK(strstr(e.reason, "locked") != NULL);
    /* Locked: the right password and the right code are refused. */
    CHECK(pw_step(&fx, id, true, now + 90) == STAFF_SIGNIN_LOCKED);
    code_at(&sec, now + 120, code);
    CHECK(code_step(&fx, id, code, now + 120) == STAFF_SIGNIN_LOCKED);
    /* 15 minutes later it opens again. */
    int64_t later = now + 80 + ACCOUNT_LOCK_SECONDS;
    CHECK(pw_step(&fx, id, true, later) == STAFF_SIGNIN_OK);
    code_at(&sec, later, code);
    CHECK(code_step(&fx, id, code, later) == STAFF_SIGNIN_OK);

    /* Disabled: refused; enabled: back. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK(staff_set_disabled(fx.s, id, true, "staff:9", later, &err) == ERR_OK);
    REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    CHECK(pw_step(&fx, id, true, later + 60) == STAFF_SIGNIN_DISABLED);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK(staff_set_disabled(fx.s, id, false, "staff:9", later, &err) == ERR_OK);
    CHECK(staff_set_disabled(fx.s, 99, false, "staff:9", later, &err) == ERR_NOT_FOUND);
    REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    CHECK(pw_step(&fx, id, true, later + 60) == STAFF_SIGNIN_OK);

    /* A new secret: the old one's codes no longer work. */
    staff_secret fresh;
    staff_secret_new(&fresh);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK(staff_reset_totp(fx.s, fx.k, id, &fresh, "cli:test", later, &err) == ERR_OK);
    REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    code_at(&sec, later + 300, code);
    char code2[7];
    code_at(&fresh, later + 300, code2);
    if (strcmp(code, code2) != 0)
        CHECK(code_step(&fx, id, code, later + 300) == STAFF_SIGNIN_WRONG);
    CHECK(code_step(&fx, id, code2, later + 300) == STAFF_SIGNIN_OK);

    /* A secret moved to another row does not open there. */
    staff_secret other;
    int64_t id2 = add(&fx, "agent2", GATE_AGENT, NULL, 0, &other);
    REQUIRE(id2 > 0);
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    char sql[200];
    snprintf(sql, sizeof sql,
             "UPDATE staff SET totp_sealed = (SELECT totp_sealed FROM staff WHERE id = %lld) "
             "WHERE id = %lld",
             (long long)id, (long long)id2);
    CHECK(raw_exec(db, sql));
    sqlite3_close(db);
    code_at(&fresh, later + 400, code);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    staff_outcome o;
    CHECK(staff_code_attempt(fx.s, fx.k, id2, code, later + 400, &o, &err) == ERR_INTERNAL);
    store_rollback(fx.s);
    CHECK(strstr(err.msg, code) == NULL);
    staff_secret_clear(&sec);
    storefx_close(&fx);
}

static bool session_live(storefx *fx, const unsigned char *h, int64_t now, store_staff_session *ss)
{
    err_t err;
    bool touch;
    return staff_session_find(fx->s, h, now, ss, &touch, &err) == ERR_OK;
}

static void sessions(void)
{
    storefx fx;
    REQUIRE(hash_once());
    REQUIRE(storefx_open_keyed(&fx, NULL, 0));
    staff_secret sec;
    int64_t id = add(&fx, "sup", GATE_ADMIN, NULL, 0, &sec);
    REQUIRE(id > 0);
    unsigned char half[STORE_DIGEST_LEN], full[STORE_DIGEST_LEN];
    staff_session_hash("half-session-id", half);
    staff_session_hash("full-session-id", full);
    err_t err;
    const int64_t idle = 15 * 60;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK(staff_session_start(fx.s, id, half, false, idle, T0, &err) == ERR_OK);
    CHECK(staff_session_start(fx.s, id, full, true, idle, T0, &err) == ERR_OK);
    CHECK(staff_session_start(fx.s, id, full, true, idle, T0, &err) == ERR_CONFLICT);
    REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    store_staff_session ss;
    CHECK(session_live(&fx, half, T0 + 299, &ss) && !ss.second_factor);
    CHECK(!session_live(&fx, half, T0 + 300, &ss));
    CHECK(session_live(&fx, full, T0 + idle - 1, &ss) && ss.second_factor);
    CHECK(!session_live(&fx, full, T0 + idle, &ss));
    /* Used every 10 minutes it lives on, but never past 12 hours. */
    int64_t t = T0;
    for (int i = 0; i < 80; i++) {
        t += 600;
        bool alive = session_live(&fx, full, t, &ss);
        if (t < T0 + STAFF_SESSION_MAX)
            CHECK(alive);
        else
            CHECK(!alive);
        REQUIRE(store_begin(fx.s, &err) == ERR_OK);
        CHECK(staff_session_touch(fx.s, full, idle, t, &err) == ERR_OK);
        REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    }
    CHECK(!session_live(&fx, full, T0 + STAFF_SESSION_MAX, &ss));

    /* Disabling ends every session at once. */
    staff_session_hash("another", full);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK(staff_session_start(fx.s, id, full, true, idle, t, &err) == ERR_OK);
    REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    CHECK(session_live(&fx, full, t + 1, &ss));
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK(staff_set_disabled(fx.s, id, true, "cli:test", t, &err) == ERR_OK);
    REQUIRE(storefx_finish(fx.s, ERR_OK, &err) == ERR_OK);
    CHECK(!session_live(&fx, full, t + 1, &ss));
    storefx_close(&fx);
}

TEST_MAIN(TEST(rules), TEST(create_and_refuse), TEST(signin_steps), TEST(sessions))
