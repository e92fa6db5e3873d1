/*
 * notify.h - telling people and agencies' systems of a request's public
 * changes (W6): the follow a resident asks for, agencies' webhooks, and
 * the sender that carries the outbox (store.h, "notifications") out by
 * SMTP and signed HTTP POSTs.
 *
 * The outbox is filled by store_event_append, in the change's own
 * transaction; this module only empties it. Delivery is at least once:
 * a row is claimed for a lease, sent, then marked sent, so a node that
 * dies in between sends it again once the lease is over. Every row has a
 * stable id (the email's Message-ID, the webhook's X-Civic311-Delivery) by
 * which receivers drop a repeat.
 *
 * Never logs or records an address: the follower's email is read through
 * the gatekeeper (actor "system:notify", role notifier, purpose
 * address_request), one audited read per attempt, and lives only in the
 * sender's memory while it sends. Failures are recorded in our own words
 * (an SMTP or HTTP status), never the server's text.
 */
#ifndef CIVIC_NOTIFY_H
#define CIVIC_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "privacy/keyring.h"
#include "store/commitq.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"

/* The gatekeeper's actor for the sender's reads. */
#define NOTIFY_ACTOR "system:notify"

typedef struct {
    const char *smtp_url;      /* smtp:// or smtps://; NULL: emails wait, and fail in time */
    const char *smtp_from;     /* the From: address */
    const char *smtp_username; /* NULL: no AUTH */
    const char *smtp_password; /* read from smtp.password_file, never from config.json */
    const char *public_url;    /* the site, for links ("https://311.city.example"); NULL: none */
    int64_t retry_first;       /* seconds before the second attempt; doubles each time */
    int64_t retry_max;         /* the longest wait between attempts */
    int max_attempts;          /* then the row is failed for good */
    int64_t lease;             /* a claimed row is due again after this long */
    unsigned poll_interval;    /* seconds between looks at the outbox when idle */
    unsigned timeout;          /* seconds one delivery may take */
} notify_config;

/* The defaults: 1 minute doubling up to 6 hours, 10 attempts, a 5-minute
 * lease, a look every 5 seconds, 30 seconds per delivery. */
void notify_config_default(notify_config *c);

/* The wait after attempt number `attempts` (1, 2, ...) failed:
 * retry_first * 2^(attempts-1), at most retry_max. */
int64_t notify_backoff(const notify_config *c, int attempts);
/* When a row that failed its attempt number `attempts` at now is due
 * again, or 0 when that was its last attempt. */
int64_t notify_retry_at(const notify_config *c, int attempts, int64_t now);

/* ---- followers ---- */

/*
 * Records that the reporter of request_id (a row id; its contact record
 * sealed under subject_id holds the email) asked to be told of its public
 * changes, with one COLLECT entry for the consent (fields "follow",
 * purpose address_request). In the caller's transaction. ERR_INVALID if
 * the request holds no email of that subject.
 */
err_code notify_follow(store_t *s, int64_t request_id, int64_t subject_id, const char *actor,
                       int64_t now, err_t *err);

/* ---- webhooks ---- */

#define NOTIFY_SECRET_HEX (2 * 32 + 1)

/* Adds a webhook for an agency: a fresh 32-byte secret sealed under a new
 * subject's data key (kind "webhook"). *id gets the webhook's id and
 * secret_hex the secret, in hex, to show once. In the caller's
 * transaction. */
err_code notify_webhook_add(store_t *s, const keyring_t *k, const char *agency_code,
                            const char *url, int64_t now, int64_t *id,
                            char secret_hex[NOTIFY_SECRET_HEX], err_t *err);

/* X-Civic311-Signature: hex HMAC-SHA256 with the secret (its 32 bytes)
 * of timestamp "." body. */
#define NOTIFY_SIG_HEX (2 * 32 + 1)
void notify_sign(const unsigned char secret[32], const char *timestamp, const char *body,
                 size_t body_len, char out[NOTIFY_SIG_HEX]);

/* ---- what is sent (exposed for the unit tests) ---- */

/* The JSON body of a webhook delivery: the event in its public view. */
err_code notify_webhook_body(const store_outbox *o, const char *public_url, buf_t *out, err_t *err);
/* The whole email (headers and body, CRLF lines) for one row, to one
 * address: nothing personal but the To: header. ERR_INVALID for an
 * address that could not be a header's (control characters, no @). */
err_code notify_email_message(const notify_config *c, const store_outbox *o,
                              const char *service_name, const char *to, int64_t now, buf_t *out,
                              err_t *err);

/* ---- the sender ---- */

typedef struct notify notify_t;

/* Starts the sender thread. The config, writer, keys and catalog must
 * outlive notify_stop. Call curl's global init before any thread: this
 * does, so call it before starting other threads that use libcurl. */
err_code notify_start(const notify_config *c, commitq_t *writer, const keyring_t *k,
                      const catalog *cat, int64_t (*now)(void), notify_t **out, err_t *err);
/* Stops it after the delivery in progress (bounded by the timeout). Before
 * the writer drains. NULL is fine. */
void notify_stop(notify_t *n);

#endif
