/*
 * console.h - the staff console's frame (P3, W3): every page under
 * /staff/ goes through it. It owns the console's own session cookie, the
 * two-step sign-in (password, then a TOTP code), signing out, the layout
 * (who is signed in, sign out, the links their role may follow), the
 * home page, and the administrator's staff page. Later console pages
 * plug in by adding a line to the route table in console.c.
 *
 *   GET  /staff/                   the console home: what the role can do
 *   GET  /staff/sign-in, POST      login and password
 *   GET  /staff/sign-in/code, POST the 6-digit code (half-signed-in only)
 *   POST /staff/sign-out
 *   GET  /staff/admin              staff accounts (admin only)
 *   POST /staff/admin/add          a new member: the secret shown once
 *   POST /staff/admin/{id}/disable, /staff/admin/{id}/enable
 *   GET  /staff/queue, POST        the agency queue (console_queue.c)
 *   GET  /staff/requests/{id}      a request, its history and forms
 *   POST /staff/requests/{id}/change, /staff/requests/{id}/contact
 *
 * The cookie is the console's, not the residents': "__Host-c311staff"
 * over TLS (Secure, Path=/, no Domain: only this host, only https),
 * "c311staff" otherwise; HttpOnly, SameSite=Strict, and never persistent.
 * Its id changes at each step of a sign-in and at sign-out. Signed-out
 * visitors are sent to the sign-in page from every console address, known
 * or not, so the console's map is not public; a role that may not see a
 * page gets a 403 page that says so. Every console page is sent with
 * Cache-Control: no-store and X-Robots-Tag: noindex, and a form's CSRF
 * token is a keyed hash of the console's session id (as web.c does for
 * residents).
 *
 * A page reads residents' personal data only through the gatekeeper,
 * as the signed-in member (staff_gate_actor): never otherwise.
 */
#ifndef CIVIC_CONSOLE_H
#define CIVIC_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "privacy/staff.h"
#include "store/commitq.h"
#include "web/web_int.h"

#define CONSOLE_COOKIE "c311staff"
#define CONSOLE_COOKIE_TLS "__Host-c311staff"

/* A role as a bit of a route's mask. */
#define CONSOLE_ROLE(r) (1u << (unsigned)(r))
/* Every staff role. */
#define CONSOLE_ALL_STAFF                                                                          \
    (CONSOLE_ROLE(GATE_AGENT) | CONSOLE_ROLE(GATE_AGENCY_STAFF) | CONSOLE_ROLE(GATE_SUPERVISOR) |  \
     CONSOLE_ROLE(GATE_PRIVACY_OFFICER) | CONSOLE_ROLE(GATE_RECORDS_OFFICER) |                     \
     CONSOLE_ROLE(GATE_ADMIN))

/* The console session of a request (web_ctx.staff), from the request's
 * pool. */
struct console_session {
    unsigned char hash[STORE_DIGEST_LEN]; /* of the cookie's id */
    store_staff_session session;
    staff_member who; /* loaded for a full sign-in only */
};

/* Reads the console cookie into c->sid (a fresh id, to be set, when there
 * is none) and the live session it names into c->staff (NULL if none; a
 * half-signed-in one has session.second_factor false and no `who`).
 * web.c calls it for /staff paths instead of the residents' session. */
void console_session(web_ctx *c);
/* The Set-Cookie header of the console's cookie (web.c's add_cookie). */
void console_cookie(web_ctx *c);

/* Answers every path under /staff (web.c). */
void console_route(web_ctx *c, const char *path, bool get, bool post);

/* The signed-in member if their role is in roles (a CONSOLE_ROLE mask):
 * else answers (a redirect to the sign-in page, or a 403 page) and
 * returns NULL. */
const staff_member *console_require(web_ctx *c, unsigned roles);

/* The console's page shell: head (noindex), skip link, header with who
 * is signed in and the sign-out button, the links of the role; opens
 * <main>. console_page_end closes it. */
void console_page_begin(web_ctx *c, buf_t *b, const char *title);
void console_page_end(web_ctx *c, buf_t *b);

/* A staff role as people read it ("Contact Center agent"), in the page's
 * language; "" for the resident role, which no member has. */
const char *console_role_text(const web_ctx *c, gate_role r);
/* Sends a console page (no-store, noindex, the console cookie). */
void console_send(web_ctx *c, int status, buf_t *b);
/* A whole console page saying what went wrong. */
void console_error(web_ctx *c, int status, const char *title, const char *message);

/* A POST's urlencoded form into v, if it holds only the fields in
 * allowed, each once (from the request's pool). */
bool console_read_form(web_ctx *c, const char *const *allowed, size_t nallowed, kv_list *v);

/* ---- the administrator's page (console_admin.c) ---- */

void console_admin_get(web_ctx *c, const char *rest);
void console_admin_add_post(web_ctx *c, const char *rest);
/* rest: "{id}/disable" or "{id}/enable" */
void console_admin_state_post(web_ctx *c, const char *rest);

/* ---- the Contact Center (console_cc.c): agents and supervisors ---- */

#define CONSOLE_CC_ROLES (CONSOLE_ROLE(GATE_AGENT) | CONSOLE_ROLE(GATE_SUPERVISOR))
void console_cc_home_get(web_ctx *c, const char *rest);
/* The phone in the POST body: the caller's earlier requests. */
void console_cc_find_post(web_ctx *c, const char *rest);
/* rest: the service code */
void console_cc_file_get(web_ctx *c, const char *rest);
void console_cc_file_post(web_ctx *c, const char *rest);
/* rest: "{id}" */
void console_cc_request_get(web_ctx *c, const char *rest);
/* rest: "{id}/recording" (under WEB_RECORDING_UPLOAD_PREFIX) */
void console_cc_recording_post(web_ctx *c, const char *rest);
/* rest: the recording's blob id */
void console_cc_recording_get(web_ctx *c, const char *rest);
/* ---- the disclosure register (console_register.c; P4) ---- */

void console_register_get(web_ctx *c, const char *rest);
void console_register_post(web_ctx *c, const char *rest);
/* rest: "{id}" */
void console_register_order_get(web_ctx *c, const char *rest);
/* rest: "{id}/approve", "{id}/close" or "{id}/export" */
void console_register_order_post(web_ctx *c, const char *rest);

/* ---- the figures for managers (console_figures.c) ---- */

void console_figures_get(web_ctx *c, const char *rest);
void console_figures_csv_get(web_ctx *c, const char *rest);
/* ---- the agency queue and a request's page (console_queue.c) ---- */

void console_queue_get(web_ctx *c, const char *rest);
/* One action on the ticked rows, all or nothing. */
void console_queue_post(web_ctx *c, const char *rest);
/* rest: "{id}" */
void console_request_get(web_ctx *c, const char *rest);
/* rest: "{id}/change" or "{id}/contact" */
void console_request_post(web_ctx *c, const char *rest);

/* ---- shared by the console's files ---- */

/* Submits a writer job and defers the answer; done() answers (with the
 * writer's error if it refuses the job). */
void console_run_job(web_ctx *c, commitq_apply_fn apply, commitq_done_fn done, void *job);
/* 503 "nothing was changed". */
void console_busy(web_ctx *c);
/* 400 "the form could not be read", 403 "this page has expired". */
void console_unreadable(web_ctx *c);
void console_expired(web_ctx *c);
/* "staff:N" of the signed-in member, from the request's pool. */
const char *console_actor(web_ctx *c);

#endif
