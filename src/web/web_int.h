/*
 * web_int.h - what the website's files share (web.c, web_layout.c,
 * web_pages.c, web_report.c): the context of one request and the helpers
 * that answer it. Not for use outside src/web.
 */
#ifndef CIVIC_WEB_INT_H
#define CIVIC_WEB_INT_H

#include <stdint.h>

#include "core/catalog.h"
#include "util/buf.h"
#include "util/kv.h"
#include "web/html.h"
#include "web/web.h"

#define WEB_SESSION_COOKIE "c311"
#define WEB_SID_LEN 43   /* 32 random bytes, base64url without padding */
#define WEB_CSRF_LEN 64  /* hex of a 32-byte keyed hash of the session id */
#define WEB_SEND_KEY_BYTES 16 /* the review page's "Send" key (web_report.c) */

typedef struct {
    http_req_t *req;
    web_app *app;
    const char *lang;              /* one of the set's tags */
    const char *lang_choice;       /* chosen with the switch (kept in the cookie), or NULL */
    char sid[WEB_SID_LEN + 1];     /* the session id ("" until made) */
    char csrf[WEB_CSRF_LEN + 1];   /* the token this session's forms carry */
    bool set_cookie;               /* the response must (re)set the cookie */
    kv_list query;                 /* the decoded query string */
    const char *bad_field;         /* the form field a refusal names, or NULL */
    /* The signed-in resident (web_account.c), or 0 and 0 when signed out. */
    int64_t account_id;
    int64_t account_subject;       /* the account's privacy subject (vault.h) */
    bool session_keep;             /* "keep me signed in": the cookie gets a Max-Age */
    int64_t session_expires;       /* the signed-in session's end (UTC seconds) */
    beacon_page page;              /* the kind of page, for the page-view beacon */
    bool deferred;                 /* http_defer was called (by the thread that owns c) */
    /* The staff console (console.c): on /staff pages the session, the
     * cookie and the CSRF token are the console's, never c311's. */
    bool console;
    struct console_session *staff; /* who is signed in to the console, or NULL */
} web_ctx;

/* The translation of msgid in the request's language (English if none).
 * Mark msgid with I18N_ where it is written. */
const char *web_t(const web_ctx *c, const char *msgid);

/* The read connection of this server thread (NULL with *err set). */
store_t *web_reader(web_ctx *c, err_t *err);

/* ---- answers ---- */

/* Sends b as an HTML page (status), with the session cookie if it must be
 * set and Cache-Control: no-store. b is left empty. */
void web_send_page(web_ctx *c, int status, buf_t *b);
/* 303 See Other to a path of this site (never a URL from the request). */
void web_redirect(web_ctx *c, const char *path);
/* A whole page saying what went wrong and what to do next. */
void web_error_page(web_ctx *c, int status, const char *title, const char *message);

/* ---- the page shell (web_layout.c) ---- */

/* The start of every page: doctype, head with title, the skip link, the
 * header (home link, language switch) and the emergency line; opens
 * <main id="main">. */
void web_page_begin(web_ctx *c, buf_t *b, const char *title);
/* Closes <main>; the footer (privacy policy, the city's site through the
 * exit notice); the script. */
void web_page_end(web_ctx *c, buf_t *b);
/* The language the service catalog is written in (the city's Open311
 * documents); its text on a page in another language is marked with it,
 * so a screen reader reads it in the right voice (WCAG 3.1.2). */
#define WEB_CATALOG_LANG "en"
/* Catalog text (a service's name, a question, a choice), escaped, in a
 * <span lang> when the page is in another language. */
void web_catalog_text(web_ctx *c, buf_t *b, const char *text);
/* Catalog text in the request's language, when the catalog translations
 * (web_catalog_i18n.c) have it: else text itself (the same pointer). */
const char *web_catalog_t(const web_ctx *c, const char *text);
/* Loads app->catalog_texts (web_init). */
err_code web_catalog_i18n_load(web_app *app, err_t *err);

/* The 911 notice, prominent, as a role="alert" box. */
void web_emergency_notice(web_ctx *c, buf_t *b);

/* ---- form fields (web_form.c) ---- */

/* " (required)" inside a label or legend. */
void web_required_mark(web_ctx *c, buf_t *b, bool required);
/* Opens <div class="field"> and writes the label for id: its text (catalog
 * text marked as such when from_catalog), suffix, the required mark. */
void web_field_label(web_ctx *c, buf_t *b, const char *id, const char *label, bool from_catalog,
                     const char *suffix, bool required);
/* aria-describedby (the problem summary when name is the refused field,
 * and hint_id if not NULL) and aria-invalid. */
void web_field_aria(web_ctx *c, buf_t *b, const char *name, const char *hint_id);
/* <p class="hint" id="ID-hint"> when hint is not NULL; hint_id gets that
 * id ("" when there is no hint). */
void web_field_hint(web_ctx *c, buf_t *b, const char *id, const char *hint, bool from_catalog,
                    char *hint_id, size_t hint_id_size);
/* One labelled <input> of this type (text, email, tel, password,
 * datetime-local...), filled from v[name]; extra is raw attribute text. */
void web_input_field(web_ctx *c, buf_t *b, const char *id, const char *name, const char *label,
                     const char *hint, bool from_catalog, const char *type, const char *extra,
                     const kv_list *v, bool required, int maxlength);
/* web_input_field for our own (translated) label, with an autocomplete
 * token (NULL: none). */
void web_text_input(web_ctx *c, buf_t *b, const char *id, const char *name, const char *label,
                    const char *hint, const char *type, const char *autocomplete,
                    const kv_list *v, bool required, int maxlength);

/* ---- the location step (web_location.c) ---- */

/* The report form's "Where is the problem?" fieldset, filled from v: the
 * address, the exact point (lat, long), the map's place and settings and
 * site.js's texts. */
void web_location_fieldset(web_ctx *c, buf_t *b, const service *sv, const kv_list *v);
/* The review page's rows (<dt>..</dt><dd>..</dd>) for the location: the
 * address, the exact point if given, and then the open requests of sv
 * near it ("is this yours?"), read from the store. */
void web_location_review(web_ctx *c, buf_t *b, const service *sv, const kv_list *v);
/* When intake's refusal msg is about the exact point (lat or long): true,
 * with *text what to tell the resident (translated) and *field the field
 * to mark ("lat" or "long", from the values v). False for any other msg. */
bool web_location_problem(web_ctx *c, const kv_list *v, const char *msg, const char **text,
                          const char **field);

/* ---- photos (web_photo.c) ---- */

/* A photo stored sealed for a report not yet sent (or just sent). */
typedef struct {
    int64_t blob;
    int64_t subject;
} web_photo;

#define WEB_PHOTO_TOKEN_MAX 80
/* The token that names p to this session only: "<blob>-<subject>-<mac>",
 * for a hidden field or a /photos/ URL. */
void web_photo_token(const web_ctx *c, const web_photo *p, char out[WEB_PHOTO_TOKEN_MAX]);
/* True, with *p set, if token is one web_photo_token gave this session. */
bool web_photo_parse(const web_ctx *c, const char *token, web_photo *p);
/* What a photo thread tells the page that queued an upload: rc ERR_OK and
 * the stored photo, or the refusal, with problem what to tell the resident
 * (translated). Runs on the photo thread; it must answer the request. */
typedef void (*web_photo_done_fn)(web_ctx *c, err_code rc, const web_photo *p,
                                  const char *problem, void *arg);
/* Queues an upload (the caller has deferred the request): a photo thread
 * cleans it (media/photo.h), stores it sealed, tied to no request yet,
 * under the signed-in resident's subject or a new one, and calls done.
 * ERR_UNAVAILABLE (stopping, or too many waiting) or ERR_NOMEM: nothing
 * queued, done is not called; answer with web_photo_busy_text. */
err_code web_photo_accept_async(web_ctx *c, const unsigned char *data, size_t len,
                                web_photo_done_fn done, void *arg);
const char *web_photo_busy_text(web_ctx *c);
/* Starts the photo threads (web_init). */
err_code web_photos_start(web_app *app, err_t *err);
/* GET /photos/{token}: the photo, to the session that sent it. */
void web_photo_get(web_ctx *c, const char *token);

/* ---- accounts (web_account.c; the session's id in web.c) ---- */

/* Looks up the signed-in session the cookie names (one read on this
 * thread's read connection) and sets account_id, account_subject,
 * session_keep and session_expires; leaves them 0 when signed out or when
 * the store cannot say (logged, without personal data). */
void web_account_session(web_ctx *c);
/* Answers every path under /account (their pages, 404 and 405). */
void web_account_route(web_ctx *c, const char *path, bool get, bool post);
/* A fresh random session id: 32 bytes, base64url. */
void web_new_sid(char out[WEB_SID_LEN + 1]);
/* Makes sid this request's session from now on: the CSRF token follows
 * it and the response sets the cookie, with a Max-Age up to expires_at
 * when keep. */
void web_session_switch(web_ctx *c, const char *sid, bool keep, int64_t expires_at);
/* Sends b (not HTML) as a file to save: Content-Disposition attachment
 * with this file name (our own constant), Cache-Control: no-store. */
void web_send_download(web_ctx *c, const char *content_type, const char *filename, buf_t *b);

/* ---- CSRF (web.c) ---- */

/* <input type="hidden" name="csrf" value="..."> for a form. */
void web_csrf_field(web_ctx *c, buf_t *b);
/* True if the form's csrf field matches the session's token. */
bool web_csrf_ok(const web_ctx *c, const kv_list *form);

/* ---- pages ---- */

void web_page_home(web_ctx *c);
void web_page_request(web_ctx *c, const char *id_text);
void web_page_lookup(web_ctx *c);
void web_page_privacy(web_ctx *c);
void web_page_leaving(web_ctx *c);
void web_report_get(web_ctx *c, const char *code);
void web_report_post(web_ctx *c, const char *code);

/* ---- the report form's pieces, shared with the Contact Center console
 * (web_report.c; console_cc.c files for a caller with the same questions
 * and the same intake) ---- */

/* One service question as a labelled field, filled from v (NULL: empty). */
void web_report_question(web_ctx *c, buf_t *b, const attribute *a, const kv_list *v);
/* True if key is a field of the website's report form for sv (its
 * questions, the location, the description, the contact fields...). */
bool web_report_form_field(const service *sv, const char *key);
/* What intake's refusal msg means, said as the form asks it. */
typedef struct {
    const char *text;  /* translated, with the question's label */
    const char *field; /* the form field's name, or NULL */
} web_problem;
web_problem web_report_explain(web_ctx *c, const service *sv, const kv_list *v, const char *msg);
/* v as intake takes it: a date-time answered in the city's local time
 * becomes the UTC instant it names (NULL: out of memory). */
const kv_list *web_report_intake_values(web_ctx *c, const service *sv, const kv_list *v);

/* Formats t (UTC seconds) as a date and time for people, in the request's
 * language: "23 Nov 2026, 14:05 UTC". */
void web_put_time(web_ctx *c, buf_t *b, int64_t t);
/* The status of a request as a person reads it, translated. */
const char *web_status_text(const web_ctx *c, int status);

#endif
