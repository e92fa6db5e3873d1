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
 *   GET  /static/...            the stylesheet and the script (no third-party
 *                               anything; every page works without the script)
 *   GET  /photos/{token}        a photo, to the browser session that sent it
 *                               (web_photo.c)
 *   POST /beacon                one page view of a kind, counted in aggregate
 *                               (web_beacon.c)
 *   /account/...                register, sign in and out, my requests, my
 *                               data (page and JSON), remove my details from
 *                               a request, delete my account (web_account.c)
 *
 * A thin adapter like the Open311 one: it decodes forms, asks the core
 * (intake, emergency) and the store, and writes HTML through html.h. A new
 * request goes through the same intake and the same group-commit writer as
 * an Open311 POST, and the confirmation page is only sent once it is on
 * disk (Q1); its reporter's contact details and photo are sealed by the
 * vault in the same transaction. Personal data is read back only through
 * the gatekeeper (a resident's own photo, account and requests), each
 * read audited.
 *
 * Every response carries the security headers (web_security_headers).
 * One cookie, c311: a session id (HttpOnly, SameSite=Lax, Secure over TLS,
 * no Expires/Max-Age, so it ends with the browser session, unless a
 * signed-in resident ticked "keep me signed in"), which keys the CSRF token
 * every form carries, and the language chosen with the switch.
 */
#ifndef CIVIC_WEB_H
#define CIVIC_WEB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/beacon.h"
#include "core/catalog.h"
#include "http/server.h"
#include "privacy/keyring.h"
#include "privacy/retention.h"
#include "store/commitq.h"

/* The Contact Center's recording uploads (console_cc.c) live under this
 * path: the HTTP layer lets them send a body up to max_upload. */
#define WEB_RECORDING_UPLOAD_PREFIX "/staff/cc/requests/"
#include "store/readers.h"
#include "store/store.h"
#include "web/i18n.h"

/* When the privacy page's text last changed (P12): change it with the text.
 * The retention periods on the page come from the configuration itself. */
#define WEB_POLICY_UPDATED "2026-11-23"

#define WEB_PHOTO_THREADS_MAX 8

struct web_photo_job;

/* A map to put a pin on in the report form, where the city has a tile
 * source (config.json "map"). Without one the form has no map at all and
 * the Content-Security-Policy names no other origin; with one, it allows
 * images from the tiles' origin, and from nowhere else. */
typedef struct {
    const char *tiles;           /* "https://tile.example.org/{z}/{x}/{y}.png" */
    const char *attribution;     /* shown under the map, or NULL */
    const char *attribution_url; /* its link, through the exit notice, or NULL */
    double lat, lon;             /* where the map opens */
    int zoom;                    /* its zoom there */
} web_map;

#define WEB_MAP_MIN_ZOOM 1
#define WEB_MAP_MAX_ZOOM 19
#define WEB_MAP_TILES_MAX 400 /* bytes of the tile template (and of its origin) */
#define WEB_MAP_TEXT_MAX 200  /* bytes of the attribution */
#define WEB_MAP_URL_MAX 2000  /* bytes of the attribution's URL */

/* Checks a map's settings: the tile template is https:// (http:// only
 * for 127.0.0.1 or localhost, for tests), a host name and an optional
 * port, then a path with {z}, {x} and {y} and nothing a page, a URL or a
 * CSP could read otherwise; the attribution one line of text, its URL
 * http(s); lat and lon WGS84 degrees; zoom within the limits. */
err_code web_map_check(const web_map *m, err_t *err);

/* The origin of a tile template ("https://tile.example.org"), checked as
 * web_map_check does. */
err_code web_map_origin(const char *tiles, char *origin, size_t size, err_t *err);

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
    /* Times in the city's time zone (the process's TZ, set by serve from
     * config time_zone) rather than UTC: the times pages show, and the
     * date-time questions, which residents answer in local time. */
    bool local_time;
    const web_map *map;                  /* the report form's map, or NULL for none */
    int64_t (*now)(void);
    /* Photos cleaned at once, each on a thread of its own (web_photo.c):
     * decoding one can take seconds and a few hundred MB, so uploads
     * beyond this wait their turn. 0: 2; at most WEB_PHOTO_THREADS_MAX.
     * photo_init (media/photo.h) must have run before web_init. */
    unsigned photo_slots;
    /* The staff console (console.c): a signed-in console ends after this
     * many seconds unused (0: privacy/staff.h's STAFF_IDLE_DEFAULT). */
    int64_t staff_idle_seconds;
    /* Translations of the service catalog, LANG.po files (NULL: only the
     * built-in ones of the demo catalog). */
    const char *catalog_po_dir;

    /* Private. */
    i18n_set *langs;
    i18n_set *catalog_texts;       /* the catalog's translations (web_catalog_i18n.c) */
    unsigned char csrf_key[32];
    char csp[256 + WEB_MAP_TILES_MAX]; /* the Content-Security-Policy, made by web_init */
    unsigned char photo_key[32];   /* keys the photo tokens (web_photo.c) */
    pthread_mutex_t photo_lock;    /* the photo queue (web_photo.c) */
    pthread_cond_t photo_turn;
    struct web_photo_job *photo_head, *photo_tail;
    unsigned photo_queued;
    bool photo_stopping;
    pthread_t photo_threads[WEB_PHOTO_THREADS_MAX];
    unsigned photo_nthreads;
    bool photo_sync;               /* the lock and condition were created */
    beacon_counter beacon;         /* page views since the last flush */
} web_app;

err_code web_init(web_app *app, err_t *err);
void web_destroy(web_app *app);

/* Handles req if its path is one of the website's and returns true;
 * returns false (without answering) otherwise. */
bool web_handle(http_req_t *req, web_app *app);

/* Answers 404 with the website's own page (for paths nobody handles). */
void web_not_found(http_req_t *req, web_app *app);

/* Adds the security headers every response of the server carries:
 * Content-Security-Policy (no inline script, no third party but the map's
 * tiles where app->map is set, no framing), X-Frame-Options,
 * Permissions-Policy, and Strict-Transport-Security when app->tls
 * (X-Content-Type-Options and Referrer-Policy come from the HTTP layer,
 * on every response). */
void web_security_headers(http_req_t *req, const web_app *app);

/* POST /beacon (web_beacon.c): one view of a kind of page, counted in
 * aggregate; no cookie, 204. */
void web_beacon_post(http_req_t *req, web_app *app);
/* Adds the views counted since the last flush to the store's totals for
 * today, as a writer job (blocks). On failure the counts are kept for the
 * next flush. */
err_code web_beacon_flush(web_app *app, err_t *err);

/* Stops the photo threads once the photos queued are done (each answers
 * its request). Call after the HTTP server stops taking requests and
 * before the writer drains (a photo is stored through it). Idempotent;
 * web_destroy calls it too. */
void web_photos_drain(web_app *app);

/* Forgets the "Send" keys of review pages (web_report.c) older than a
 * day, as a writer job (blocks): the server's housekeeping calls it. */
err_code web_sends_purge(web_app *app, err_t *err);

#endif
