/*
 * web.c - the website's entry: routing, the per-request context (language,
 * session, CSRF token), the security headers and the ways a page is sent.
 * The pages themselves are in web_pages.c and web_report.c, the shell
 * around them in web_layout.c.
 *
 * The session cookie holds a random id and, after the language switch was
 * used, the language: "c311=<43 chars>~es". Nothing is stored server-side
 * for an anonymous visitor; the CSRF token is a keyed hash of the id
 * (BLAKE2b under a key derived from the key file), so any node with the
 * same key file checks it (Q3).
 */
#include "web/web.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "web/console.h"
#include "web/web_int.h"


/* The Content-Security-Policy of every response. Scripts and styles only
 * from this origin, no inline script; images from here (and data:), plus
 * the map's tile origin when a map is configured, and from nowhere else;
 * media (the Contact Center's call recordings) only from here;
 * fetch (site.js: the report form, the nearby requests) only to here;
 * forms only to here; no framing by anyone (clickjacking). */
static err_code make_csp(web_app *app, err_t *err)
{
    char origin[WEB_MAP_TILES_MAX + 1] = "";
    if (app->map != NULL) {
        err_code rc = web_map_check(app->map, err);
        if (rc == ERR_OK)
            rc = web_map_origin(app->map->tiles, origin, sizeof origin, err);
        if (rc != ERR_OK)
            return rc;
    }
    int n = snprintf(app->csp, sizeof app->csp,
                     "default-src 'none'; script-src 'self'; style-src 'self'; "
                     "img-src 'self' data:%s%s; media-src 'self'; connect-src 'self'; "
                     "form-action 'self'; "
                     "base-uri 'none'; frame-ancestors 'none'",
                     origin[0] ? " " : "", origin);
    if (n < 0 || (size_t)n >= sizeof app->csp)
        return err_set(err, ERR_INVALID, "web: the map's tile origin is too long");
    return ERR_OK;
}

err_code web_init(web_app *app, err_t *err)
{
    if (app->keys == NULL)
        return err_set(err, ERR_INVALID, "web: the key file is needed for CSRF tokens");
    if (make_csp(app, err) != ERR_OK)
        return err->code;
    /* A key of its own for CSRF tokens, derived from the blind-index key
     * (crypto_kdf: a different context gives an unrelated key), so it is
     * the same on every node and after a restart. */
    if (crypto_kdf_derive_from_key(app->csrf_key, sizeof app->csrf_key, 1, "c311csrf",
                                   keyring_blind_key_borrow(app->keys)) != 0 ||
        crypto_kdf_derive_from_key(app->photo_key, sizeof app->photo_key, 2, "c311phot",
                                   keyring_blind_key_borrow(app->keys)) != 0)
        return err_set(err, ERR_INTERNAL, "web: cannot derive the CSRF and photo keys");
    if (app->photo_slots == 0)
        app->photo_slots = 2;
    app->photo_head = app->photo_tail = NULL;
    app->photo_queued = 0;
    app->photo_stopping = false;
    app->photo_nthreads = 0;
    if (pthread_mutex_init(&app->photo_lock, NULL) != 0)
        return err_set(err, ERR_INTERNAL, "web: cannot create a mutex");
    if (pthread_cond_init(&app->photo_turn, NULL) != 0) {
        pthread_mutex_destroy(&app->photo_lock);
        return err_set(err, ERR_INTERNAL, "web: cannot create a condition variable");
    }
    app->photo_sync = true;
    err_code rc = i18n_set_builtin(&app->langs, err);
    if (rc == ERR_OK)
        rc = web_catalog_i18n_load(app, err);
    if (rc == ERR_OK)
        rc = store_readers_init(&app->readers, err);
    if (rc == ERR_OK && (rc = web_photos_start(app, err)) != ERR_OK)
        store_readers_destroy(&app->readers);
    if (rc != ERR_OK) {
        i18n_set_free(app->catalog_texts);
        app->catalog_texts = NULL;
        i18n_set_free(app->langs);
        app->langs = NULL;
        pthread_cond_destroy(&app->photo_turn);
        pthread_mutex_destroy(&app->photo_lock);
        app->photo_sync = false;
    }
    return rc;
}

void web_destroy(web_app *app)
{
    web_photos_drain(app); /* first: its threads' read connections close as they end */
    store_readers_destroy(&app->readers);
    i18n_set_free(app->catalog_texts);
    app->catalog_texts = NULL;
    i18n_set_free(app->langs);
    app->langs = NULL;
    sodium_memzero(app->csrf_key, sizeof app->csrf_key);
    sodium_memzero(app->photo_key, sizeof app->photo_key);
    if (app->photo_sync) {
        pthread_cond_destroy(&app->photo_turn);
        pthread_mutex_destroy(&app->photo_lock);
        app->photo_sync = false;
    }
}

store_t *web_reader(web_ctx *c, err_t *err)
{
    return store_readers_get(&c->app->readers, err);
}

const char *web_t(const web_ctx *c, const char *msgid)
{
    return i18n_text(c->app->langs, c->lang, msgid);
}

/* ---- headers ---- */

void web_security_headers(http_req_t *req, const web_app *app)
{
    /* make_csp's policy, made once by web_init. */
    http_add_header(req, "Content-Security-Policy", app->csp);
    /* X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer
     * (another site never learns which request page a resident came
     * from) are the HTTP layer's own, on every response (server.c). */
    http_add_header(req, "X-Frame-Options", "DENY");
    http_add_header(req, "Permissions-Policy",
                    "geolocation=(self), camera=(), microphone=(), payment=(), usb=()");
    http_add_header(req, "Cross-Origin-Opener-Policy", "same-origin");
    if (app->tls)
        http_add_header(req, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
}

/* ---- the session cookie and CSRF ---- */

static bool sid_valid(const char *s, size_t n)
{
    if (n != WEB_SID_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

/* Finds our cookie in a Cookie header: "a=1; c311=SID~es; b=2". Sets
 * c->sid and *lang_out (a tag we offer, or NULL) if it is well formed. */
static void read_cookie(web_ctx *c, const char **lang_out)
{
    *lang_out = NULL;
    const char *h = http_header(c->req, "Cookie");
    if (h == NULL)
        return;
    const size_t name_len = strlen(WEB_SESSION_COOKIE);
    const char *p = h;
    while (*p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > name_len && strncmp(p, WEB_SESSION_COOKIE, name_len) == 0 && p[name_len] == '=') {
            const char *v = p + name_len + 1;
            size_t vlen = len - name_len - 1;
            const char *tilde = memchr(v, '~', vlen);
            size_t idlen = tilde ? (size_t)(tilde - v) : vlen;
            if (sid_valid(v, idlen)) {
                memcpy(c->sid, v, idlen);
                c->sid[idlen] = '\0';
                if (tilde != NULL) {
                    char lang[I18N_TAG_MAX];
                    size_t llen = vlen - idlen - 1;
                    if (llen > 0 && llen < sizeof lang) {
                        memcpy(lang, tilde + 1, llen);
                        lang[llen] = '\0';
                        for (size_t i = 0; i < i18n_set_count(c->app->langs); i++)
                            if (strcmp(i18n_set_lang(c->app->langs, i), lang) == 0)
                                *lang_out = i18n_set_lang(c->app->langs, i);
                    }
                }
            }
            return;
        }
        if (end == NULL)
            return;
        p = end + 1;
    }
}

static void make_csrf(web_ctx *c)
{
    unsigned char mac[32];
    crypto_generichash(mac, sizeof mac, (const unsigned char *)c->sid, strlen(c->sid),
                       c->app->csrf_key, sizeof c->app->csrf_key);
    sodium_bin2hex(c->csrf, sizeof c->csrf, mac, sizeof mac);
}

void web_new_sid(char out[WEB_SID_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, WEB_SID_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void new_session(web_ctx *c)
{
    web_new_sid(c->sid);
    c->set_cookie = true;
}

/* Accounts (web_account.c): the session id changes at sign-in (no
 * fixation), at sign-out and when the account is deleted; the CSRF token,
 * a hash of the id, changes with it. */
void web_session_switch(web_ctx *c, const char *sid, bool keep, int64_t expires_at)
{
    snprintf(c->sid, sizeof c->sid, "%s", sid);
    make_csrf(c);
    c->set_cookie = true;
    c->session_keep = keep;
    c->session_expires = expires_at;
}

void web_csrf_field(web_ctx *c, buf_t *b)
{
    html_fmt(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", c->csrf);
}

bool web_csrf_ok(const web_ctx *c, const kv_list *form)
{
    const char *got = kv_get(form, "csrf");
    if (got == NULL || kv_count(form, "csrf") != 1 || strlen(got) != WEB_CSRF_LEN)
        return false;
    return sodium_memcmp(got, c->csrf, WEB_CSRF_LEN) == 0;
}

static void add_cookie(web_ctx *c)
{
    if (!c->set_cookie)
        return;
    if (c->console) { /* the console's own cookie (console.c) */
        console_cookie(c);
        return;
    }
    char v[192], max_age[40] = "";
    /* No Expires or Max-Age: a session cookie, gone when the browser
     * session ends (P9). The one exception: a resident who ticked "keep
     * me signed in" gets it until their session's end (web_account.c). */
    int64_t left = c->session_keep ? c->session_expires - c->app->now() : 0;
    if (left > 0)
        snprintf(max_age, sizeof max_age, "; Max-Age=%lld", (long long)left);
    snprintf(v, sizeof v, "%s=%s%s%s; Path=/; HttpOnly; SameSite=Lax%s%s", WEB_SESSION_COOKIE,
             c->sid, c->lang_choice ? "~" : "", c->lang_choice ? c->lang_choice : "",
             c->app->tls ? "; Secure" : "", max_age);
    http_add_header(c->req, "Set-Cookie", v);
}

/* ---- answers ---- */

void web_send_page(web_ctx *c, int status, buf_t *b)
{
    add_cookie(c);
    http_add_header(c->req, "Cache-Control", "no-store");
    http_add_header(c->req, "Content-Language", c->lang);
    http_add_header(c->req, "Vary", "Accept-Language, Cookie");
    http_respond(c->req, status, "text/html; charset=utf-8", b);
}

void web_send_download(web_ctx *c, const char *content_type, const char *filename, buf_t *b)
{
    char disposition[128];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
    add_cookie(c);
    http_add_header(c->req, "Cache-Control", "no-store");
    http_add_header(c->req, "Content-Disposition", disposition);
    http_add_header(c->req, "Vary", "Cookie");
    http_respond(c->req, 200, content_type, b);
}

void web_redirect(web_ctx *c, const char *path)
{
    add_cookie(c);
    http_add_header(c->req, "Location", path);
    http_add_header(c->req, "Cache-Control", "no-store");
    buf_t b = BUF_INIT;
    http_respond(c->req, 303, "text/plain; charset=utf-8", &b);
}

void web_error_page(web_ctx *c, int status, const char *title, const char *message)
{
    buf_t b = BUF_INIT;
    c->page = BEACON_ERROR;
    web_page_begin(c, &b, title);
    html_fmt(&b, "<h1>%s</h1><p>%s</p><p><a href=\"/\">%s</a></p>", title, message,
             web_t(c, I18N_("Go to the home page")));
    web_page_end(c, &b);
    web_send_page(c, status, &b);
}

/* ---- routing ---- */

static void not_found_page(web_ctx *c)
{
    web_error_page(c, 404, web_t(c, I18N_("Page not found")),
                   web_t(c, I18N_("There is no page at this address.")));
}

static const char STATIC_PREFIX[] = "/static/";

extern const char web_site_css[];
extern const size_t web_site_css_len;
extern const char web_site_js[];
extern const size_t web_site_js_len;

/* The stylesheet and the script (assets/, embedded at build time). */
static void serve_static(web_ctx *c, const char *name)
{
    bool css = strcmp(name, "site.css") == 0, js = strcmp(name, "site.js") == 0;
    if (!css && !js) {
        not_found_page(c);
        return;
    }
    buf_t b = BUF_INIT;
    buf_append(&b, css ? web_site_css : web_site_js, css ? web_site_css_len : web_site_js_len);
    http_add_header(c->req, "Cache-Control", "public, max-age=3600");
    http_respond(c->req, 200, css ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
                 &b);
}

/* True for a path of this site to send a browser back to: "/" then
 * printable ASCII only, and never "//host". Browsers drop tabs and line
 * breaks from a URL ("/<tab>/host" is "//host") and read a backslash as a
 * slash, so any control byte, backslash or non-ASCII byte refuses it. */
static bool local_path(const char *p)
{
    if (p == NULL || p[0] != '/' || p[1] == '/' || strlen(p) > 2048)
        return false;
    for (const unsigned char *q = (const unsigned char *)p; *q; q++)
        if (*q < 0x21 || *q > 0x7e || *q == '\\')
            return false;
    return true;
}

/* The language switch: /lang/es?next=/report/X sets it in the cookie and
 * goes back to next (a path of this site only). */
static void switch_language(web_ctx *c, const char *tag)
{
    for (size_t i = 0; i < i18n_set_count(c->app->langs); i++) {
        if (strcmp(i18n_set_lang(c->app->langs, i), tag) == 0) {
            c->lang = c->lang_choice = i18n_set_lang(c->app->langs, i);
            c->set_cookie = true;
        }
    }
    const char *next = kv_get(&c->query, "next");
    if (!local_path(next))
        next = "/";
    web_redirect(c, next);
}

/* The kind of page a path shows, for the page-view beacon (the review is
 * told apart by web_report.c, error pages by web_error_page). */
static beacon_page page_kind(const char *path)
{
    if (strncmp(path, "/report/", 8) == 0)
        return BEACON_REPORT;
    if (strncmp(path, "/requests/", 10) == 0)
        return BEACON_REQUEST;
    if (strcmp(path, "/requests") == 0)
        return BEACON_LOOKUP;
    if (strcmp(path, "/privacy") == 0)
        return BEACON_PRIVACY;
    if (strcmp(path, "/leaving") == 0)
        return BEACON_LEAVING;
    if (strncmp(path, "/account", 8) == 0)
        return BEACON_ACCOUNT;
    return BEACON_HOME;
}

/* The context of one request: its query decoded (*query_ok false if it
 * could not be), its language, its session and CSRF token. NULL (and the
 * request answered) when out of memory. */
static web_ctx *context_new(http_req_t *req, web_app *app, bool *query_ok, bool console)
{
    web_ctx *c = pool_calloc(http_pool(req), 1, sizeof *c);
    if (c == NULL) {
        buf_t b = BUF_INIT;
        buf_puts(&b, "out of memory\n");
        http_respond(req, 500, "text/plain; charset=utf-8", &b);
        return NULL;
    }
    c->req = req;
    c->app = app;
    c->page = page_kind(http_path(req));
    kv_init(&c->query);
    err_t err;
    const char *q = http_query(req);
    *query_ok = form_decode(q, strlen(q), http_pool(req), &KV_DEFAULT_LIMITS, &c->query, &err) ==
                ERR_OK;
    read_cookie(c, &c->lang_choice);
    c->lang = i18n_negotiate(app->langs, c->lang_choice, http_header(req, "Accept-Language"));
    if (console)
        console_session(c); /* the console's cookie and session, not c311's */
    else if (c->sid[0] == '\0')
        new_session(c);
    else
        web_account_session(c); /* signed in? (sets c->account_id) */
    make_csrf(c);
    return c;
}

void web_not_found(http_req_t *req, web_app *app)
{
    bool query_ok;
    web_ctx *c = context_new(req, app, &query_ok, false);
    if (c != NULL)
        not_found_page(c);
}

bool web_handle(http_req_t *req, web_app *app)
{
    const char *path = http_path(req), *method = http_method(req);
    if (strcmp(path, "/beacon") == 0) {
        /* Before any session: a beacon neither sets nor reads a cookie. */
        if (strcmp(method, "POST") == 0) {
            http_set_route(req, "POST /beacon");
            web_beacon_post(req, app);
        } else {
            buf_t b = BUF_INIT;
            buf_puts(&b, "POST only\n");
            http_set_route(req, "web method not allowed");
            http_add_header(req, "Allow", "POST");
            http_respond(req, 405, "text/plain; charset=utf-8", &b);
        }
        return true;
    }
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    bool ours = strcmp(path, "/") == 0 || strncmp(path, "/report/", 8) == 0 ||
                strcmp(path, "/requests") == 0 || strncmp(path, "/requests/", 10) == 0 ||
                strcmp(path, "/privacy") == 0 || strncmp(path, "/photos/", 8) == 0 ||
                strcmp(path, "/leaving") == 0 || strncmp(path, STATIC_PREFIX, 8) == 0 ||
                strcmp(path, "/account") == 0 || strncmp(path, "/account/", 9) == 0 ||
                strncmp(path, "/lang/", 6) == 0;
    bool console = strcmp(path, "/staff") == 0 || strncmp(path, "/staff/", 7) == 0;
    if (!ours && !console)
        return false;

    bool query_ok;
    web_ctx *c = context_new(req, app, &query_ok, console);
    if (c == NULL)
        return true;

    if (!query_ok) {
        http_set_route(req, "web bad query");
        web_error_page(c, 400, web_t(c, I18N_("This web address is not valid")),
                       web_t(c, I18N_("Part of the address could not be read. Start again "
                                      "from the home page.")));
        return true;
    }
    if (console) {
        console_route(c, path, get, post); /* its own routes, 404 and 405 (console.c) */
    } else if (strncmp(path, STATIC_PREFIX, 8) == 0 && get) {
        http_set_route(req, "GET /static");
        serve_static(c, path + 8);
    } else if (strncmp(path, "/lang/", 6) == 0 && get) {
        http_set_route(req, "GET /lang");
        switch_language(c, path + 6);
    } else if (strcmp(path, "/") == 0 && get) {
        http_set_route(req, "GET /");
        web_page_home(c);
    } else if (strncmp(path, "/report/", 8) == 0 && (get || post)) {
        http_set_route(req, get ? "GET /report/{code}" : "POST /report/{code}");
        if (get)
            web_report_get(c, path + 8);
        else
            web_report_post(c, path + 8);
    } else if (strcmp(path, "/requests") == 0 && get) {
        http_set_route(req, "GET /requests");
        web_page_lookup(c);
    } else if (strncmp(path, "/requests/", 10) == 0 && get) {
        http_set_route(req, "GET /requests/{id}");
        web_page_request(c, path + 10);
    } else if (strncmp(path, "/photos/", 8) == 0 && get) {
        http_set_route(req, "GET /photos/{token}");
        web_photo_get(c, path + 8);
    } else if (strcmp(path, "/account") == 0 || strncmp(path, "/account/", 9) == 0) {
        web_account_route(c, path, get, post); /* its own routes, 404 and 405 */
    } else if (strcmp(path, "/privacy") == 0 && get) {
        http_set_route(req, "GET /privacy");
        web_page_privacy(c);
    } else if (strcmp(path, "/leaving") == 0 && get) {
        http_set_route(req, "GET /leaving");
        web_page_leaving(c);
    } else {
        http_set_route(req, "web method not allowed");
        http_add_header(req, "Allow", strncmp(path, "/report/", 8) == 0 ? "GET, HEAD, POST"
                                                                         : "GET, HEAD");
        web_error_page(c, 405, web_t(c, I18N_("This action is not possible here")),
                       web_t(c, I18N_("Use the links and buttons on the page.")));
    }
    return true;
}
