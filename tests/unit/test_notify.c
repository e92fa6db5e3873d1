/*
 * test_notify.c - notifications (W6) on a real SQLite store with a real
 * key file: the backoff; follows (add, move, erasure by retention); the
 * outbox as store_event_append fills it (public changes only, once per
 * target, in the event's transaction); claims, leases, settling, retries;
 * the notifier's gated read of a follower's email; what an email and a
 * webhook body hold; the webhook signature.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "privacy/audit.h"
#include "privacy/gate.h"
#include "privacy/retention.h"
#include "privacy/vault.h"
#include "store/store.h"
#include "testlib.h"
#include "storefx.h"

#define T0 1700000000

static bool fx_open(storefx *fx)
{
    static const service services[] = {
        {"pothole", "Pothole", NULL, SERVICE_REALTIME, NULL, NULL, "DOT", NULL, 0, NULL, 0},
        {"light", "Street light", NULL, SERVICE_REALTIME, NULL, NULL, "DSNY", NULL, 0, NULL, 0},
    };
    return storefx_open_keyed(fx, services, sizeof services / sizeof services[0]);
}

/* Files a request (contact fields given when email is not NULL); with
 * follow, its reporter follows it. Its id; *subject the reporter's. */
static int64_t file(storefx *fx, const char *code, const char *email, bool follow, int64_t *subject)
{
    err_t err = {0};
    service_request sr = storefx_request(code, T0);
    sr.agency_code = strcmp(code, "pothole") == 0 ? "DOT" : "DSNY";
    sr.reporter.first_name = email ? "Ana" : NULL;
    sr.reporter.email = email;
    sr.reporter.phone = email ? "212-555-0101" : NULL;
    int64_t sub = 0;
    err_code rc = store_begin(fx->s, &err);
    if (rc == ERR_OK)
        rc = store_request_insert(fx->s, &sr, &err);
    if (rc == ERR_OK)
        rc = vault_collect_reporter(fx->s, fx->k, &sr, "web", 0, T0, &sub, &err);
    if (rc == ERR_OK && follow)
        rc = notify_follow(fx->s, sr.id, sub, "web", T0, &err);
    rc = storefx_finish(fx->s, rc, &err);
    if (rc != ERR_OK) {
        fprintf(stderr, "file: %s\n", err.msg);
        return 0;
    }
    if (subject != NULL)
        *subject = sub;
    return sr.id;
}

static err_code change(storefx *fx, int64_t id, sr_event_kind kind, sr_status st, const char *note,
                       bool public_note, int64_t *event_id)
{
    err_t err;
    sr_event ev = {.request_id = id,
                   .at = T0 + 60,
                   .kind = kind,
                   .status = st,
                   .resolution = st == SR_CLOSED ? SR_RES_FIXED : SR_RES_NONE,
                   .note = note,
                   .public_note = public_note,
                   .actor = "staff:1"};
    err_code rc = storefx_append(fx->s, &ev, &err);
    if (event_id != NULL)
        *event_id = ev.id;
    return rc;
}

static size_t outbox_count(storefx *fx, const outbox_status *st)
{
    err_t err;
    store_outbox *o;
    size_t n = 0;
    pool_t *pool = pool_new();
    if (pool == NULL || store_outbox_list(fx->s, st, 0, 1000, pool, &o, &n, &err) != ERR_OK)
        n = (size_t)-1;
    pool_free(pool);
    return n;
}

static void test_backoff(void)
{
    notify_config c;
    notify_config_default(&c);
    CHECK_INT(notify_backoff(&c, 1), 60);
    CHECK_INT(notify_backoff(&c, 2), 120);
    CHECK_INT(notify_backoff(&c, 3), 240);
    CHECK_INT(notify_backoff(&c, 8), 60 * 128);
    CHECK_INT(notify_backoff(&c, 9), 60 * 256);  /* 4 h 16 min */
    CHECK_INT(notify_backoff(&c, 10), 6 * 3600); /* 60 * 512 is over 6 h: capped */
    CHECK_INT(notify_backoff(&c, 1000), 6 * 3600);
    CHECK_INT(notify_retry_at(&c, 1, T0), T0 + 60);
    CHECK_INT(notify_retry_at(&c, 9, T0), T0 + 60 * 256);
    CHECK_INT(notify_retry_at(&c, 10, T0), 0); /* the tenth attempt was the last */
    c.retry_first = 1;
    c.retry_max = 2;
    CHECK_INT(notify_backoff(&c, 1), 1);
    CHECK_INT(notify_backoff(&c, 5), 2);
}

/* Public changes queue one row per follower and webhook, once; internal
 * notes queue nothing; a rolled-back change queues nothing. */
static void test_outbox_filled_by_events(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t a_sub = 0, b_sub = 0;
    int64_t a = file(&fx, "pothole", "ana@example.org", true, &a_sub);
    int64_t b = file(&fx, "pothole", "bo@example.org", false, &b_sub);
    int64_t c = file(&fx, "light", NULL, false, NULL);
    REQUIRE(a > 0 && b > 0 && c > 0);
    int64_t count = -1;
    CHECK(store_follow_count(fx.s, a, &count, &err) == ERR_OK && count == 1);
    CHECK(store_follow_count(fx.s, b, &count, &err) == ERR_OK && count == 0);
    /* no email: no follow, nothing written */
    int64_t before = storefx_audit_size(&fx);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(notify_follow(fx.s, c, 1, "web", T0, &err), ERR_INVALID);
    store_rollback(fx.s);
    CHECK_INT(storefx_audit_size(&fx), before);
    /* following twice is one follow */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_follow_add(fx.s, a, a_sub, a, T0, &err), ERR_OK);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    CHECK(store_follow_count(fx.s, a, &count, &err) == ERR_OK && count == 1);

    /* a webhook for DOT: the pothole's agency, not the light's */
    int64_t hook = 0;
    char secret[NOTIFY_SECRET_HEX];
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(
        notify_webhook_add(fx.s, fx.k, "DOT", "http://127.0.0.1:9/h", T0, &hook, secret, &err),
        ERR_OK);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    CHECK(hook > 0 && strlen(secret) == 64);

    int64_t ev = 0;
    CHECK_INT(change(&fx, a, SR_EV_STATUS, SR_ACKNOWLEDGED, NULL, false, &ev), ERR_OK);
    CHECK_INT(outbox_count(&fx, NULL), 2); /* ana's email, DOT's webhook */
    CHECK_INT(change(&fx, a, SR_EV_NOTE, SR_ACKNOWLEDGED, "internal", false, NULL), ERR_OK);
    CHECK_INT(outbox_count(&fx, NULL), 2);
    CHECK_INT(change(&fx, a, SR_EV_NOTE, SR_ACKNOWLEDGED, "public", true, NULL), ERR_OK);
    CHECK_INT(outbox_count(&fx, NULL), 4);
    CHECK_INT(change(&fx, b, SR_EV_STATUS, SR_IN_PROGRESS, NULL, false, NULL), ERR_OK);
    CHECK_INT(outbox_count(&fx, NULL), 5); /* the webhook only: bo did not ask */
    CHECK_INT(change(&fx, c, SR_EV_STATUS, SR_IN_PROGRESS, NULL, false, NULL), ERR_OK);
    CHECK_INT(outbox_count(&fx, NULL), 5); /* DSNY has no webhook */

    /* queued again: recorded once (UNIQUE) */
    sr_event again = {.id = ev, .request_id = a, .kind = SR_EV_STATUS, .actor = "x"};
    size_t queued = 9;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_outbox_enqueue(fx.s, &again, T0, &queued, &err), ERR_OK);
    CHECK_INT(queued, 0);
    again.kind = SR_EV_NOTE; /* an internal note is refused outright */
    CHECK_INT(store_outbox_enqueue(fx.s, &again, T0, &queued, &err), ERR_INVALID);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);

    /* a change rolled back tells nobody */
    sr_event ev2 = {.request_id = a,
                    .at = T0,
                    .kind = SR_EV_STATUS,
                    .status = SR_IN_PROGRESS,
                    .actor = "staff:1"};
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_event_append(fx.s, &ev2, &err), ERR_OK);
    store_rollback(fx.s);
    CHECK_INT(outbox_count(&fx, NULL), 5);

    /* a removed webhook hears nothing more */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_webhook_disable(fx.s, hook, T0, &err), ERR_OK);
    CHECK_INT(store_webhook_disable(fx.s, hook, T0, &err), ERR_NOT_FOUND);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    CHECK_INT(change(&fx, b, SR_EV_STATUS, SR_ACKNOWLEDGED, NULL, false, NULL), ERR_OK);
    CHECK_INT(outbox_count(&fx, NULL), 5);
    /* bad webhooks */
    store_webhook w = {.agency_code = "DOT",
                       .url = "ftp://x/",
                       .subject_id = 1,
                       .key_version = 1,
                       .secret = (const unsigned char *)"x",
                       .secret_len = 1};
    CHECK_INT(store_webhook_insert(fx.s, &w, &err), ERR_INVALID);
    w.url = "http://a b/";
    CHECK_INT(store_webhook_insert(fx.s, &w, &err), ERR_INVALID);
    storefx_close(&fx);
}

/* Claim (lease), fail with backoff, give up, retry, send; the gated read. */
static void test_claim_settle_and_read(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t sub = 0;
    int64_t a = file(&fx, "light", "ana@example.org", true, &sub);
    REQUIRE(a > 0);
    CHECK_INT(change(&fx, a, SR_EV_STATUS, SR_CLOSED, "fixed it", true, NULL), ERR_OK);
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    store_outbox *rows = NULL;
    size_t n = 0;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_outbox_claim(fx.s, T0, 300, 10, pool, &rows, &n, &err), ERR_OK);
    /* created at the event's time T0 + 60: not due at T0 */
    CHECK_INT(n, 0);
    CHECK_INT(store_outbox_claim(fx.s, T0 + 60, 300, 10, pool, &rows, &n, &err), ERR_OK);
    REQUIRE(n == 1);
    CHECK_INT(rows[0].kind, OUTBOX_EMAIL);
    CHECK_INT(rows[0].target_id, sub);
    CHECK_INT(rows[0].attempts, 1);
    CHECK_INT(rows[0].event.request_id, a);
    CHECK_INT(rows[0].event.status, SR_CLOSED);
    CHECK_STR(rows[0].event.note, "fixed it");
    CHECK_STR(rows[0].service_code, "light");
    int64_t id = rows[0].id;
    /* leased: not claimed again until the lease is over */
    CHECK_INT(store_outbox_claim(fx.s, T0 + 61, 300, 10, pool, &rows, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_outbox_claim(fx.s, T0 + 360, 300, 10, pool, &rows, &n, &err), ERR_OK);
    CHECK(n == 1 && rows[0].attempts == 2);

    /* the notifier reads the address, audited; nobody else this way */
    int64_t audit_before = storefx_audit_size(&fx);
    gate_actor notifier = {.role = GATE_NOTIFIER, .actor = NOTIFY_ACTOR};
    gate_actor staff = {.role = GATE_AGENCY_STAFF, .actor = "staff:2"};
    const char *to = NULL;
    CHECK_INT(gate_read_follower_email(fx.s, fx.k, &notifier, GATE_PURPOSE_ADDRESS_REQUEST, id, T0,
                                       pool, &to, &err),
              ERR_OK);
    CHECK_STR(to, "ana@example.org");
    CHECK_INT(storefx_audit_size(&fx), audit_before + 1);
    audit_entry e;
    REQUIRE(storefx_audit_last_entry(&fx, pool, &e));
    CHECK_INT(e.action, AUDIT_READ);
    CHECK_STR(e.actor, NOTIFY_ACTOR);
    CHECK_STR(e.fields, "email");
    CHECK_STR(e.purpose, "address_request");
    CHECK_INT(gate_read_follower_email(fx.s, fx.k, &notifier, GATE_PURPOSE_CITY_BUSINESS, id, T0,
                                       pool, &to, &err),
              ERR_FORBIDDEN);
    CHECK_INT(gate_read_follower_email(fx.s, fx.k, &staff, GATE_PURPOSE_ADDRESS_REQUEST, id, T0,
                                       pool, &to, &err),
              ERR_FORBIDDEN);
    CHECK(to == NULL);
    CHECK_INT(storefx_audit_size(&fx), audit_before + 3); /* refusals are on record */

    /* the email: the change, the link, the address only in To: */
    notify_config c;
    notify_config_default(&c);
    c.smtp_from = "311@city.example";
    c.public_url = "https://311.city.example/";
    buf_t msg = BUF_INIT;
    CHECK_INT(notify_email_message(&c, &rows[0], "Street light", "ana@example.org", T0, &msg, &err),
              ERR_OK);
    REQUIRE(msg.data != NULL);
    CHECK(strstr(msg.data, "To: <ana@example.org>\r\n") != NULL);
    CHECK(strstr(msg.data, "Subject: Service request") != NULL);
    CHECK(strstr(msg.data, "closed (fixed)") != NULL);
    CHECK(strstr(msg.data, "Street light") != NULL);
    CHECK(strstr(msg.data, "fixed it") != NULL);
    CHECK(strstr(msg.data, "https://311.city.example/requests/") != NULL);
    CHECK(strstr(msg.data, "Message-ID: <civic311-outbox-") != NULL);
    CHECK(strstr(msg.data, "Ana") == NULL && strstr(msg.data, "555") == NULL);
    buf_free(&msg);
    msg = (buf_t)BUF_INIT;
    CHECK_INT(notify_email_message(&c, &rows[0], "x", "a@b\r\nBcc: x@y", T0, &msg, &err),
              ERR_INVALID);
    CHECK_INT(notify_email_message(&c, &rows[0], "x", "no-at-sign", T0, &msg, &err), ERR_INVALID);
    buf_free(&msg);

    /* fail with a retry, fail for good, retry by hand, send */
    CHECK_INT(store_outbox_failed(fx.s, id, T0 + 1000, "smtp: refused (451)", &err), ERR_OK);
    CHECK_INT(store_outbox_failed(fx.s, id, 0, "smtp: refused (550)", &err), ERR_OK);
    outbox_status failed = OUTBOX_FAILED;
    CHECK_INT(outbox_count(&fx, &failed), 1);
    CHECK_INT(store_outbox_sent(fx.s, id, T0, &err), ERR_NOT_FOUND); /* not pending */
    CHECK_INT(store_outbox_failed(fx.s, id, 0, "", &err), ERR_INVALID);
    size_t retried = 0;
    CHECK_INT(store_outbox_retry(fx.s, id + 99, T0, &retried, &err), ERR_NOT_FOUND);
    CHECK_INT(store_outbox_retry(fx.s, 0, T0 + 400, &retried, &err), ERR_OK);
    CHECK_INT(retried, 1);
    CHECK_INT(store_outbox_claim(fx.s, T0 + 400, 300, 10, pool, &rows, &n, &err), ERR_OK);
    CHECK(n == 1 && rows[0].attempts == 1);
    CHECK_INT(store_outbox_sent(fx.s, id, T0 + 401, &err), ERR_OK);
    CHECK_INT(store_outbox_sent(fx.s, id, T0 + 401, &err), ERR_NOT_FOUND);
    /* a sent row opens no address */
    CHECK_INT(gate_read_follower_email(fx.s, fx.k, &notifier, GATE_PURPOSE_ADDRESS_REQUEST, id, T0,
                                       pool, &to, &err),
              ERR_FORBIDDEN);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    outbox_status sent = OUTBOX_SENT;
    CHECK_INT(outbox_count(&fx, &sent), 1);
    pool_free(pool);
    storefx_close(&fx);
}

/* A merge moves follows; erasure (retention, "remove my details") drops
 * them and gives up their pending emails. */
static void test_follow_move_and_erasure(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t sa = 0, sb = 0;
    int64_t a = file(&fx, "pothole", "ana@example.org", true, &sa);
    int64_t b = file(&fx, "pothole", "bo@example.org", true, &sb);
    REQUIRE(a > 0 && b > 0);
    /* told on a (the merge's own change), then moved to b */
    CHECK_INT(change(&fx, a, SR_EV_STATUS, SR_CLOSED, "duplicate", true, NULL), ERR_OK);
    size_t moved = 0;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_follow_move(fx.s, a, a, &moved, &err), ERR_INVALID);
    CHECK_INT(store_follow_move(fx.s, a, b, &moved, &err), ERR_OK);
    CHECK_INT(moved, 1);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    int64_t count = 0, contact = 0;
    CHECK(store_follow_count(fx.s, a, &count, &err) == ERR_OK && count == 0);
    CHECK(store_follow_count(fx.s, b, &count, &err) == ERR_OK && count == 2);
    CHECK_INT(store_follow_get(fx.s, b, sa, &contact, &err), ERR_OK);
    CHECK_INT(contact, a); /* her address stays sealed where she gave it */
    /* the email about a, queued before the move, still reaches her */
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    store_outbox *rows = NULL;
    size_t n = 0;
    gate_actor notifier = {.role = GATE_NOTIFIER, .actor = NOTIFY_ACTOR};
    const char *to = NULL;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_outbox_claim(fx.s, T0 + 60, 300, 10, pool, &rows, &n, &err), ERR_OK);
    REQUIRE(n == 1);
    CHECK_INT(gate_read_follower_email(fx.s, fx.k, &notifier, GATE_PURPOSE_ADDRESS_REQUEST,
                                       rows[0].id, T0, pool, &to, &err),
              ERR_OK);
    CHECK_STR(to, "ana@example.org");
    CHECK_INT(store_outbox_failed(fx.s, rows[0].id, T0 + 100, "smtp: down", &err), ERR_OK);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    int64_t pending_id = rows[0].id;

    /* erasing a's contact record (retention) drops ana's follow of b and
     * gives up the email still waiting for her */
    retention_report rep = {0};
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(retention_erase_request(fx.s, a, DC_BIT(DC_CONTACT), "system:retention", "test",
                                      T0 + 200, &rep, &err),
              ERR_OK);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    CHECK(store_follow_count(fx.s, b, &count, &err) == ERR_OK && count == 1);
    CHECK_INT(store_follow_get(fx.s, b, sa, &contact, &err), ERR_NOT_FOUND);
    CHECK_INT(store_follow_contact(fx.s, sa, b, &contact, &err), ERR_NOT_FOUND);
    outbox_status failed = OUTBOX_FAILED;
    CHECK_INT(outbox_count(&fx, &failed), 1);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    store_outbox one;
    CHECK_INT(store_outbox_get(fx.s, pending_id, pool, &one, &err), ERR_OK);
    CHECK_INT(one.status, OUTBOX_FAILED);
    CHECK_STR(one.last_error, "recipient erased");
    CHECK_INT(gate_read_follower_email(fx.s, fx.k, &notifier, GATE_PURPOSE_ADDRESS_REQUEST,
                                       pending_id, T0, pool, &to, &err),
              ERR_FORBIDDEN);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    /* a later change of b: bo only */
    CHECK_INT(change(&fx, b, SR_EV_STATUS, SR_IN_PROGRESS, NULL, false, NULL), ERR_OK);
    outbox_status pending = OUTBOX_PENDING;
    CHECK_INT(outbox_count(&fx, &pending), 1);
    /* the erasure's receipt says the follow went with the record */
    audit_entry e;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    store_audit_row *arows = NULL;
    size_t na = 0;
    bool receipt = false;
    CHECK_INT(store_audit_for_request(fx.s, a, pool, &arows, &na, &err), ERR_OK);
    for (size_t i = 0; i < na; i++) {
        int64_t seq;
        if (audit_entry_decode(arows[i].body, arows[i].body_len, pool, &e, &seq, &err) == ERR_OK &&
            e.action == AUDIT_ERASE)
            receipt = e.fields != NULL && strstr(e.fields, "follow") != NULL;
    }
    store_rollback(fx.s);
    CHECK(receipt);
    pool_free(pool);
    storefx_close(&fx);
}

static void test_webhook_secret_and_signature(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    err_t err;
    int64_t hook = 0;
    char secret_hex[NOTIFY_SECRET_HEX];
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(notify_webhook_add(fx.s, fx.k, "DOT", "https://dot.example/hook", T0, &hook,
                                 secret_hex, &err),
              ERR_OK);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    store_webhook w;
    CHECK_INT(store_webhook_get(fx.s, hook, pool, &w, &err), ERR_OK);
    CHECK_STR(w.agency_code, "DOT");
    CHECK(w.secret != NULL && w.secret_len > 32);
    unsigned char secret[32];
    size_t len = 0;
    REQUIRE(sodium_hex2bin(secret, sizeof secret, secret_hex, 64, NULL, &len, NULL) == 0 &&
            len == 32);
    /* sealed: the secret's bytes are nowhere in the row */
    bool found = false;
    for (size_t i = 0; i + 32 <= w.secret_len; i++)
        found = found || memcmp(w.secret + i, secret, 32) == 0;
    CHECK(!found);
    store_webhook *list = NULL;
    size_t n = 0;
    CHECK_INT(store_webhook_list(fx.s, pool, &list, &n, &err), ERR_OK);
    CHECK(n == 1 && list[0].secret == NULL);
    /* RFC 4231 test case 2 is for other key sizes; check against a second
     * computation with libsodium's one-shot API instead */
    char sig[NOTIFY_SIG_HEX], sig2[NOTIFY_SIG_HEX];
    notify_sign(secret, "1700000000", "{\"a\":1}", 7, sig);
    unsigned char mac[32];
    const char *whole = "1700000000.{\"a\":1}";
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, 32);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)whole, strlen(whole));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(sig2, sizeof sig2, mac, sizeof mac);
    CHECK_STR(sig, sig2);
    notify_sign(secret, "1700000001", "{\"a\":1}", 7, sig2);
    CHECK(strcmp(sig, sig2) != 0);
    /* the body: the public change, nothing else */
    store_outbox o;
    memset(&o, 0, sizeof o);
    o.id = 7;
    o.kind = OUTBOX_WEBHOOK;
    o.service_code = "pothole";
    o.agency_code = "DOT";
    o.event = (sr_event){.id = 3,
                         .request_id = 5,
                         .at = T0,
                         .kind = SR_EV_STATUS,
                         .status = SR_CLOSED,
                         .resolution = SR_RES_FIXED,
                         .note = "internal",
                         .public_note = false};
    buf_t b = BUF_INIT;
    CHECK_INT(notify_webhook_body(&o, "https://311.example", &b, &err), ERR_OK);
    REQUIRE(b.data != NULL);
    CHECK_STR(b.data, "{\"delivery_id\":\"7\",\"event_id\":3,\"service_request_id\":\"5\","
                      "\"service_code\":\"pothole\",\"agency_code\":\"DOT\",\"kind\":\"status\","
                      "\"status\":\"closed\",\"resolution\":\"fixed\",\"note\":null,"
                      "\"updated_datetime\":\"2023-11-14T22:13:20Z\","
                      "\"url\":\"https://311.example/requests/5\"}");
    buf_free(&b);
    pool_free(pool);
    storefx_close(&fx);
}

TEST_MAIN(TEST(test_backoff), TEST(test_outbox_filled_by_events), TEST(test_claim_settle_and_read),
          TEST(test_follow_move_and_erasure), TEST(test_webhook_secret_and_signature))
