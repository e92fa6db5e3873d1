/*
 * notify.c - follows, webhooks and the outbox's sender (see notify.h).
 *
 * The sender is one thread. Each round it claims a few due rows in one
 * writer job (which also reads each follower's address through the
 * gatekeeper and opens each webhook's secret), delivers them with libcurl
 * outside any transaction, and settles them in a second writer job: sent,
 * or due again after a backoff, or failed for good. A row is never sent
 * inside a transaction, so a slow relay never holds the writer.
 *
 * What goes out holds nothing personal but the To: header: the request's
 * number, service, status, resolution and public note, and a link.
 * Nothing here logs an address, a secret, or a server's reply text.
 */
#include "notify/notify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "privacy/audit.h"
#include "privacy/gate.h"
#include "privacy/seal.h"
#include "privacy/vault.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/pool.h"

void notify_config_default(notify_config *c)
{
    memset(c, 0, sizeof *c);
    c->retry_first = 60;
    c->retry_max = 6 * 3600;
    c->max_attempts = 10;
    c->lease = 300;
    c->poll_interval = 5;
    c->timeout = 30;
}

int64_t notify_backoff(const notify_config *c, int attempts)
{
    int64_t wait = c->retry_first > 0 ? c->retry_first : 1;
    for (int i = 1; i < attempts && wait < c->retry_max; i++)
        wait = wait > INT64_MAX / 2 ? INT64_MAX : wait * 2;
    return wait < c->retry_max ? wait : c->retry_max;
}

int64_t notify_retry_at(const notify_config *c, int attempts, int64_t now)
{
    if (attempts >= c->max_attempts)
        return 0;
    return now + notify_backoff(c, attempts);
}

/* ---- followers ---- */

/* Whether a fields column ("first_name,email") names email. */
static bool names_email(const char *fields)
{
    for (const char *p = fields; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (n == 5 && strncmp(p, "email", 5) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

err_code notify_follow(store_t *s, int64_t request_id, int64_t subject_id, const char *actor,
                       int64_t now, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_personal *rows = NULL;
    size_t n = 0;
    bool has_email = false;
    err_code rc = store_personal_list(s, request_id, pool, &rows, &n, err);
    /* The record's fields column says whether it holds an email: nothing
     * is opened to decide. */
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        has_email = has_email || (rows[i].dclass == DC_CONTACT &&
                                  rows[i].subject_id == subject_id && names_email(rows[i].fields));
    if (rc == ERR_OK && !has_email)
        rc = err_set(err, ERR_INVALID, "to be told of changes, give an email address");
    if (rc == ERR_OK)
        rc = store_follow_add(s, request_id, subject_id, request_id, now, err);
    if (rc == ERR_OK) {
        audit_entry e = audit_entry_init(now, AUDIT_COLLECT, actor);
        e.purpose = "address_request";
        e.subject_id = subject_id;
        e.request_id = request_id;
        e.fields = "follow";
        e.reason = "consent: email me when this request changes";
        rc = audit_append(s, &e, NULL, err);
    }
    pool_free(pool);
    return rc;
}

/* ---- webhooks ---- */

static void webhook_ad(char out[SEAL_AD_MAX], int64_t subject_id, int key_version)
{
    snprintf(out, SEAL_AD_MAX, "webhook|secret|s=%lld|k=%d", (long long)subject_id, key_version);
}

err_code notify_webhook_add(store_t *s, const keyring_t *k, const char *agency_code,
                            const char *url, int64_t now, int64_t *id,
                            char secret_hex[NOTIFY_SECRET_HEX], err_t *err)
{
    unsigned char secret[32], key[SEAL_KEY_LEN], sealed[32 + SEAL_OVERHEAD];
    int key_version = 0;
    int64_t subject = 0;
    secret_hex[0] = '\0';
    err_code rc = vault_subject_new(s, k, "webhook", now, &subject, err);
    if (rc == ERR_OK)
        rc = vault_subject_key(s, k, subject, key, &key_version, err);
    if (rc != ERR_OK)
        return rc;
    randombytes_buf(secret, sizeof secret);
    char ad[SEAL_AD_MAX];
    webhook_ad(ad, subject, key_version);
    seal_encrypt(key, ad, secret, sizeof secret, sealed);
    sodium_memzero(key, sizeof key);
    store_webhook w = {.agency_code = agency_code,
                       .url = url,
                       .subject_id = subject,
                       .key_version = key_version,
                       .secret = sealed,
                       .secret_len = sizeof sealed,
                       .created_at = now};
    rc = store_webhook_insert(s, &w, err);
    if (rc == ERR_OK) {
        *id = w.id;
        sodium_bin2hex(secret_hex, NOTIFY_SECRET_HEX, secret, sizeof secret);
    }
    sodium_memzero(secret, sizeof secret);
    return rc;
}

/* Opens a webhook's secret into out (the caller zeroes it). */
static err_code webhook_secret(store_t *s, const keyring_t *k, const store_webhook *w,
                               unsigned char out[32], err_t *err)
{
    unsigned char key[SEAL_KEY_LEN];
    int key_version;
    err_code rc = vault_subject_key(s, k, w->subject_id, key, &key_version, err);
    if (rc != ERR_OK)
        return rc;
    char ad[SEAL_AD_MAX];
    webhook_ad(ad, w->subject_id, w->key_version);
    size_t len = 0;
    unsigned char plain[32 + SEAL_OVERHEAD];
    bool ok = w->secret_len == 32 + SEAL_OVERHEAD &&
              seal_decrypt(key, ad, w->secret, w->secret_len, plain, &len) && len == 32;
    sodium_memzero(key, sizeof key);
    if (ok)
        memcpy(out, plain, 32);
    sodium_memzero(plain, sizeof plain);
    return ok ? ERR_OK
              : err_set(err, ERR_INTERNAL, "the secret of webhook %lld does not open",
                        (long long)w->id);
}

void notify_sign(const unsigned char secret[32], const char *timestamp, const char *body,
                 size_t body_len, char out[NOTIFY_SIG_HEX])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, secret, 32);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, NOTIFY_SIG_HEX, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

/* ---- what is sent ---- */

/* The public page of a request, or nothing without a public_url. */
static void request_link(buf_t *b, const char *public_url, int64_t request_id)
{
    size_t n = public_url != NULL ? strlen(public_url) : 0;
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    buf_append(b, public_url, n);
    buf_printf(b, "/requests/%lld", (long long)request_id);
}

err_code notify_webhook_body(const store_outbox *o, const char *public_url, buf_t *out, err_t *err)
{
    char at[DT_BUFSZ];
    const sr_event *ev = &o->event;
    buf_printf(out, "{\"delivery_id\":\"%lld\",\"event_id\":%lld,\"service_request_id\":\"%lld\"",
               (long long)o->id, (long long)ev->id, (long long)ev->request_id);
    buf_puts(out, ",\"service_code\":");
    buf_json_str(out, o->service_code);
    buf_puts(out, ",\"agency_code\":");
    buf_json_str(out, o->agency_code);
    buf_puts(out, ",\"kind\":");
    buf_json_str(out, sr_event_kind_name(ev->kind));
    buf_puts(out, ",\"status\":");
    buf_json_str(out, sr_status_name(ev->status));
    buf_puts(out, ",\"resolution\":");
    buf_json_str(out, ev->resolution != SR_RES_NONE ? sr_resolution_name(ev->resolution) : NULL);
    buf_puts(out, ",\"note\":");
    buf_json_str(out, ev->public_note ? ev->note : NULL);
    if (ev->kind == SR_EV_TRANSFER) {
        buf_puts(out, ",\"from_agency\":");
        buf_json_str(out, ev->from_agency);
        buf_puts(out, ",\"to_agency\":");
        buf_json_str(out, ev->to_agency);
    }
    if (ev->kind == SR_EV_MERGE)
        buf_printf(out, ",\"merged_into\":\"%lld\"", (long long)ev->merged_into);
    buf_puts(out, ",\"updated_datetime\":");
    buf_json_str(out, dt_format(ev->at, at));
    buf_puts(out, ",\"url\":");
    if (public_url != NULL) {
        buf_t link = BUF_INIT;
        request_link(&link, public_url, ev->request_id);
        buf_json_str(out, buf_failed(&link) ? NULL : link.data);
        buf_free(&link);
    } else {
        buf_puts(out, "null");
    }
    buf_putc(out, '}');
    return buf_failed(out) ? err_set(err, ERR_NOMEM, "out of memory") : ERR_OK;
}

/* An address we may put in a header: printable ASCII or UTF-8, no
 * spaces, angle brackets or controls, one @ with text on both sides. */
static bool address_ok(const char *a)
{
    const char *at = a != NULL ? strchr(a, '@') : NULL;
    if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL || strlen(a) > 254)
        return false;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == '"' || *p == ',')
            return false;
    return true;
}

/* The part of the From address after @, for Message-IDs. */
static const char *from_domain(const char *from)
{
    const char *at = from != NULL ? strrchr(from, '@') : NULL;
    return at != NULL && at[1] != '\0' ? at + 1 : "civic311.invalid";
}

/* Text into the body: CRLF line ends, no line over 900 bytes (SMTP's
 * limit is 998), broken at a UTF-8 boundary. libcurl dot-stuffs. */
static void body_text(buf_t *b, const char *text)
{
    size_t col = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n') {
            buf_puts(b, "\r\n");
            col = 0;
            continue;
        }
        if (col >= 900 && ((unsigned char)*p & 0xC0) != 0x80) {
            buf_puts(b, "\r\n");
            col = 0;
        }
        buf_putc(b, *p);
        col++;
    }
    buf_puts(b, "\r\n");
}

static const char *status_words(sr_status st)
{
    switch (st) {
    case SR_OPEN:
        return "open";
    case SR_CLOSED:
        return "closed";
    default:
        return sr_status_name(st);
    }
}

err_code notify_email_message(const notify_config *c, const store_outbox *o,
                              const char *service_name, const char *to, int64_t now, buf_t *out,
                              err_t *err)
{
    if (!address_ok(to))
        return err_set(err, ERR_INVALID, "the follower's address cannot be written to");
    const sr_event *ev = &o->event;
    char date[64];
    time_t t = (time_t)now;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
        return err_set(err, ERR_INTERNAL, "the date does not format");
    const char *res = ev->resolution != SR_RES_NONE ? sr_resolution_name(ev->resolution) : NULL;
    buf_printf(out, "From: %s\r\n", c->smtp_from);
    buf_printf(out, "To: <%s>\r\n", to);
    buf_printf(out, "Subject: Service request %lld: %s%s%s%s\r\n", (long long)ev->request_id,
               ev->kind == SR_EV_NOTE       ? "a new note"
               : ev->kind == SR_EV_TRANSFER ? "passed to the agency responsible"
                                            : status_words(ev->status),
               res ? " (" : "",
               res ? res : "", res ? ")" : "");
    buf_printf(out, "Message-ID: <civic311-outbox-%lld@%s>\r\n", (long long)o->id,
               from_domain(c->smtp_from));
    buf_printf(out, "Date: %s\r\n", date);
    buf_puts(out, "MIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: 8bit\r\n"
                  "Auto-Submitted: auto-generated\r\n\r\n");
    buf_printf(out, "Your service request %lld (", (long long)ev->request_id);
    /* The catalog's name, on one line whatever the catalog holds. */
    const char *name = service_name != NULL ? service_name : o->service_code;
    for (size_t i = 0; name != NULL && name[i] != '\0' && i < 200; i++)
        buf_putc(out, name[i] == '\r' || name[i] == '\n' ? ' ' : name[i]);
    buf_puts(out, ") has changed.\r\n\r\n");
    buf_printf(out, "Status: %s\r\n", status_words(ev->status));
    if (res != NULL)
        buf_printf(out, "Resolution: %s\r\n", res);
    if (ev->public_note && ev->note != NULL) {
        buf_puts(out, "\r\nNote from the city:\r\n");
        body_text(out, ev->note);
    }
    if (c->public_url != NULL) {
        buf_puts(out, "\r\nSee the request: ");
        request_link(out, c->public_url, ev->request_id);
        buf_puts(out, "\r\n");
    }
    buf_puts(out, "\r\nYou get this email because you asked to be told when this request "
                  "changes.\r\n");
    return buf_failed(out) ? err_set(err, ERR_NOMEM, "out of memory") : ERR_OK;
}

/* ---- delivering ---- */

typedef struct {
    const char *data;
    size_t len, pos;
} upload;

static size_t upload_read(char *dst, size_t size, size_t n, void *arg)
{
    upload *u = arg;
    size_t room = size * n, left = u->len - u->pos;
    size_t take = left < room ? left : room;
    memcpy(dst, u->data + u->pos, take);
    u->pos += take;
    return take;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* One email through the relay. *why gets our words on failure. */
static bool send_email(const notify_config *c, const char *to, const buf_t *msg, char *why,
                       size_t why_len)
{
    if (c->smtp_url == NULL) {
        snprintf(why, why_len, "no SMTP relay configured");
        return false;
    }
    CURL *h = curl_easy_init();
    if (h == NULL) {
        snprintf(why, why_len, "smtp: out of memory");
        return false;
    }
    char from[320], rcpt_addr[320];
    snprintf(from, sizeof from, "<%s>", c->smtp_from);
    snprintf(rcpt_addr, sizeof rcpt_addr, "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_addr);
    upload u = {msg->data, msg->len, 0};
    bool ok = false;
    if (rcpt != NULL) {
        curl_easy_setopt(h, CURLOPT_URL, c->smtp_url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &u);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(c->timeout < 10 ? c->timeout : 10));
        if (c->smtp_username != NULL) {
            curl_easy_setopt(h, CURLOPT_USERNAME, c->smtp_username);
            curl_easy_setopt(h, CURLOPT_PASSWORD, c->smtp_password);
            /* A password goes only over TLS. */
            curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        }
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        ok = rc == CURLE_OK;
        /* curl's own words and the reply's code: the reply's text may
         * repeat the address, so it is never kept. */
        if (!ok)
            snprintf(why, why_len, "smtp: %s (%ld)", curl_easy_strerror(rc), code);
    } else {
        snprintf(why, why_len, "smtp: out of memory");
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    return ok;
}

/* One signed POST; 2xx is delivered. */
static bool send_webhook(const notify_config *c, const char *url, const unsigned char secret[32],
                         int64_t delivery, const buf_t *body, int64_t now, char *why,
                         size_t why_len)
{
    CURL *h = curl_easy_init();
    if (h == NULL) {
        snprintf(why, why_len, "webhook: out of memory");
        return false;
    }
    char ts[24], sig[NOTIFY_SIG_HEX], hdr[3][128];
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    notify_sign(secret, ts, body->data, body->len, sig);
    snprintf(hdr[0], sizeof hdr[0], "X-Civic311-Delivery: %lld", (long long)delivery);
    snprintf(hdr[1], sizeof hdr[1], "X-Civic311-Timestamp: %s", ts);
    snprintf(hdr[2], sizeof hdr[2], "X-Civic311-Signature: %s", sig);
    struct curl_slist *headers = NULL, *next = NULL;
    const char *lines[] = {"Content-Type: application/json", "Expect:", hdr[0], hdr[1], hdr[2]};
    bool built = true;
    for (size_t i = 0; built && i < sizeof lines / sizeof lines[0]; i++) {
        next = curl_slist_append(headers, lines[i]);
        built = next != NULL;
        if (built)
            headers = next;
    }
    bool ok = false;
    if (built) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(c->timeout < 10 ? c->timeout : 10));
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        ok = rc == CURLE_OK && code >= 200 && code < 300;
        if (rc != CURLE_OK)
            snprintf(why, why_len, "webhook: %s", curl_easy_strerror(rc));
        else if (!ok)
            snprintf(why, why_len, "webhook: HTTP %ld", code);
    } else {
        snprintf(why, why_len, "webhook: out of memory");
    }
    sodium_memzero(sig, sizeof sig);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return ok;
}

/* ---- the sender thread ---- */

#define NOTIFY_BATCH 16
#define NOTIFY_WHY_MAX 160

/* One claimed row on its way: what to send and how it went. */
typedef struct {
    store_outbox row;
    bool ready;      /* claimed and prepared: deliver it */
    const char *to;  /* email: the address (pool), zeroed after */
    const char *url; /* webhook: where */
    unsigned char secret[32];
    bool sent;
    char why[NOTIFY_WHY_MAX];
    int64_t at; /* when it was delivered or failed */
} notify_item;

struct notify {
    const notify_config *cfg;
    commitq_t *writer;
    const keyring_t *keys;
    const catalog *cat;
    int64_t (*now)(void);
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    /* the round in progress */
    pool_t *pool;
    notify_item items[NOTIFY_BATCH];
    size_t n;
};

/* Prepares one claimed row in the claim's transaction: the follower's
 * address through the gatekeeper, or the webhook's url and secret. A row
 * that can never go (the follower stopped following or was erased, the
 * webhook was removed) fails for good here. */
static err_code prepare(notify_t *n, store_t *s, notify_item *it, int64_t now, err_t *err)
{
    static const gate_actor actor = {.role = GATE_NOTIFIER, .actor = NOTIFY_ACTOR};
    const char *never = NULL;
    err_t why;
    if (it->row.kind == OUTBOX_EMAIL) {
        err_code rc = gate_read_follower_email(s, n->keys, &actor, GATE_PURPOSE_ADDRESS_REQUEST,
                                               it->row.id, now, n->pool, &it->to, &why);
        if (rc == ERR_FORBIDDEN || rc == ERR_NOT_FOUND)
            never = "recipient no longer follows or was erased";
        else if (rc != ERR_OK)
            return err_set(err, rc, "%s", why.msg);
    } else {
        store_webhook w;
        err_code rc = store_webhook_get(s, it->row.target_id, n->pool, &w, &why);
        if (rc == ERR_NOT_FOUND || (rc == ERR_OK && w.disabled_at != 0))
            never = "webhook removed";
        else if (rc == ERR_OK)
            rc = webhook_secret(s, n->keys, &w, it->secret, &why);
        if (never == NULL && rc != ERR_OK)
            return err_set(err, rc, "%s", why.msg);
        if (never == NULL)
            it->url = w.url;
    }
    if (never != NULL)
        return store_outbox_failed(s, it->row.id, 0, never, err);
    it->ready = true;
    return ERR_OK;
}

static err_code claim_apply(store_t *s, void *arg, err_t *err)
{
    notify_t *n = arg;
    int64_t now = n->now();
    store_outbox *rows = NULL;
    size_t count = 0;
    n->n = 0;
    err_code rc =
        store_outbox_claim(s, now, n->cfg->lease, NOTIFY_BATCH, n->pool, &rows, &count, err);
    for (size_t i = 0; rc == ERR_OK && i < count; i++) {
        notify_item *it = &n->items[n->n++];
        memset(it, 0, sizeof *it);
        it->row = rows[i];
        rc = prepare(n, s, it, now, err);
    }
    return rc;
}

static err_code settle_apply(store_t *s, void *arg, err_t *err)
{
    notify_t *n = arg;
    for (size_t i = 0; i < n->n; i++) {
        notify_item *it = &n->items[i];
        if (!it->ready)
            continue;
        err_code rc = it->sent
                          ? store_outbox_sent(s, it->row.id, it->at, err)
                          : store_outbox_failed(s, it->row.id,
                                                notify_retry_at(n->cfg, it->row.attempts, it->at),
                                                it->why, err);
        /* Someone (an operator's retry, a second node after the lease)
         * settled it meanwhile: theirs stands. */
        if (rc == ERR_NOT_FOUND)
            rc = ERR_OK;
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

static void deliver(notify_t *n, notify_item *it)
{
    const notify_config *c = n->cfg;
    buf_t msg = BUF_INIT;
    err_t err;
    int64_t now = n->now();
    if (it->row.kind == OUTBOX_EMAIL) {
        const service *sv = catalog_find_service(n->cat, it->row.service_code);
        if (notify_email_message(c, &it->row, sv != NULL ? sv->name : NULL, it->to, now, &msg,
                                 &err) != ERR_OK)
            snprintf(it->why, sizeof it->why, "%.150s", err.msg);
        else
            it->sent = send_email(c, it->to, &msg, it->why, sizeof it->why);
    } else {
        if (notify_webhook_body(&it->row, c->public_url, &msg, &err) != ERR_OK)
            snprintf(it->why, sizeof it->why, "%.150s", err.msg);
        else
            it->sent = send_webhook(c, it->url, it->secret, it->row.id, &msg, now, it->why,
                                    sizeof it->why);
    }
    if (msg.data != NULL)
        sodium_memzero(msg.data, msg.len);
    buf_free(&msg);
    it->at = n->now();
    if (!it->sent)
        log_warn("notify: %s %lld, attempt %d: %s", store_outbox_kind_name(it->row.kind),
                 (long long)it->row.id, it->row.attempts, it->why);
}

/* One round: claim, deliver, settle. Returns how many were claimed. */
static size_t round_once(notify_t *n)
{
    err_t err;
    n->pool = pool_new();
    if (n->pool == NULL)
        return 0;
    n->n = 0;
    size_t claimed = 0;
    if (commitq_run(n->writer, claim_apply, n, &err) != ERR_OK) {
        log_error("notify: claiming: %s", err.msg);
    } else {
        claimed = n->n;
        for (size_t i = 0; i < n->n; i++)
            if (n->items[i].ready)
                deliver(n, &n->items[i]);
        if (n->n > 0 && commitq_run(n->writer, settle_apply, n, &err) != ERR_OK)
            log_error("notify: recording deliveries: %s", err.msg);
    }
    for (size_t i = 0; i < n->n; i++) {
        notify_item *it = &n->items[i];
        sodium_memzero(it->secret, sizeof it->secret);
        if (it->to != NULL)
            sodium_memzero((char *)it->to, strlen(it->to));
    }
    n->n = 0;
    pool_free(n->pool);
    n->pool = NULL;
    return claimed;
}

static void *sender_thread(void *arg)
{
    notify_t *n = arg;
    pthread_mutex_lock(&n->lock);
    while (!n->stopping) {
        pthread_mutex_unlock(&n->lock);
        size_t claimed = round_once(n);
        pthread_mutex_lock(&n->lock);
        if (claimed == NOTIFY_BATCH || n->stopping)
            continue; /* more may be due at once */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += n->cfg->poll_interval;
        pthread_cond_timedwait(&n->wake, &n->lock, &until);
    }
    pthread_mutex_unlock(&n->lock);
    return NULL;
}

err_code notify_start(const notify_config *c, commitq_t *writer, const keyring_t *k,
                      const catalog *cat, int64_t (*now)(void), notify_t **out, err_t *err)
{
    *out = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return err_set(err, ERR_INTERNAL, "libcurl does not start");
    notify_t *n = calloc(1, sizeof *n);
    if (n == NULL) {
        curl_global_cleanup();
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    n->cfg = c;
    n->writer = writer;
    n->keys = k;
    n->cat = cat;
    n->now = now;
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->wake, NULL);
    if (pthread_create(&n->thread, NULL, sender_thread, n) != 0) {
        pthread_cond_destroy(&n->wake);
        pthread_mutex_destroy(&n->lock);
        free(n);
        curl_global_cleanup();
        return err_set(err, ERR_INTERNAL, "cannot start the notification thread");
    }
    *out = n;
    return ERR_OK;
}

void notify_stop(notify_t *n)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->lock);
    n->stopping = true;
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->lock);
    pthread_join(n->thread, NULL);
    pthread_cond_destroy(&n->wake);
    pthread_mutex_destroy(&n->lock);
    free(n);
    curl_global_cleanup();
}
