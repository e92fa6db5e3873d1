/*
 * web.h - 311 Online, the residents' website (I2, I5, P9-P12): pages the
 * C server renders, in English and Spanish, that work without JavaScript.
 *
 *   GET  /                      the catalog: search by words, services by group
 *   GET  /report/{code}         a service's form: location, its questions,
 *                               description, contact details (optional)
 *   POST /report/{code}         check -> review page -> file (channel web)
 *   GET  /requests/{id}         status and public history of a request
 *   GET  /requests?id=N         the lookup form's target
 *   GET  /privacy               the privacy policy, from the retention config
 *   GET  /leaving?to=URL        the exit notice before another site (P10)
 *   GET  /static/...            the stylesheet (no third-party anything)
 *
 * A thin adapter like the Open311 one: it decodes forms, asks the core
 * (intake, emergency) and the store, and writes HTML through html.h. A new
 * request goes through the same intake and the same group-commit writer as
 * an Open311 POST, and the confirmation page is only sent once it is on
 * disk (Q1); its reporter's contact details are sealed by the vault in the
 * same transaction. No page reads personal data back.
 *
 * Every response carries the security headers (web_security_headers).
 * One cookie: an anonymous session id (HttpOnly, SameSite=Lax, Secure over
 * TLS, no Expires/Max-Age, so it ends with the browser session), which
 * keys the CSRF token every form carries, and the language chosen with the
 * switch.
 */
#ifndef CIVIC_WEB_H
#define CIVIC_WEB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/catalog.h"
#include "http/server.h"
#include "privacy/keyring.h"
#include "privacy/retention.h"
#include "store/commitq.h"
#include "store/readers.h"
#include "store/store.h"
#include "web/i18n.h"

/* When the privacy page's text last changed (P12): change it with the text.
 * The retention periods on the page come from the configuration itself. */
#define WEB_POLICY_UPDATED "2026-11-23"

typedef struct {
    /* Set by the caller before web_init; borrowed, must outlive it. */
    const catalog *cat;
    commitq_t *writer;
    const keyring_t *keys;
    store_readers readers; /* readers.opt: how each thread opens its read connection */
    const retention_schedule *retention; /* what the privacy page states */
    const char *policy_updated;          /* the privacy page's date, "2026-11-23" */
    const char *city_name;               /* "City of New York" */
    bool tls;                            /* served over TLS: Secure cookie, HSTS */
    int64_t (*now)(void);

    /* Private. */
    i18n_set *langs;
    unsigned char csrf_key[32];
} web_app;

err_code web_init(web_app *app, err_t *err);
void web_destroy(web_app *app);

/* Handles req if its path is one of the website's and returns true;
 * returns false (without answering) otherwise. */
bool web_handle(http_req_t *req, web_app *app);

/* Answers 404 with the website's own page (for paths nobody handles). */
void web_not_found(http_req_t *req, web_app *app);

/* Adds the security headers every response of the server carries:
 * Content-Security-Policy (no inline script, no third party, no framing),
 * X-Frame-Options, Permissions-Policy, and Strict-Transport-Security when
 * tls (X-Content-Type-Options and Referrer-Policy come from the HTTP
 * layer, on every response). */
void web_security_headers(http_req_t *req, bool tls);

#endif
