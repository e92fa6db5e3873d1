/*
 * console.c - the staff console's frame (see console.h): its cookie and
 * session, the two-step sign-in, signing out, the route table every
 * console page is reached through, the layout and the home page.
 *
 * Where the work happens, as for residents' accounts (web_account.c):
 * Argon2id on the HTTP worker that got the request, every write (a
 * failure counted, a session started or ended, an audit entry) as a job
 * of the group-commit writer, answered once it is on disk; the writer
 * decides on its own fresh view of the member (lock, disabled, the last
 * code step used). Unknown logins go through the same work and the same
 * queue as known ones.
 *
 * Never logged, never in a URL, a page or an error message: a password,
 * a code, a secret, a session id, or a login that matched nobody.
 */
#include "web/console.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "open311/o311_params.h"
#include "privacy/account.h"
#include "util/log.h"

/* ---- the route table ----
 *
 * Every page of the console but the sign-in steps. A signed-out visitor
 * is sent to the sign-in page from any /staff/ address; a member whose
 * role is not in `roles` gets a 403 page. `nav`, when set, puts a GET
 * route in the header's links and on the home page for the roles that
 * may follow it. Later parts of the console add their lines here. */
typedef void (*console_handler)(web_ctx *c, const char *rest);

typedef struct {
    const char *route;  /* "GET /staff/admin": the access log's name for it */
    bool post;          /* POST, else GET (and HEAD) */
    const char *path;   /* the path, or its prefix when prefix */
    bool prefix;        /* rest (after path) goes to the handler */
    unsigned roles;     /* CONSOLE_ROLE mask of who may */
    const char *nav;    /* a link's text (msgid) for the header and home, or NULL */
    const char *about;  /* what it is for, on the home page (msgid), or NULL */
    console_handler fn;
} console_page;

static void home_get(web_ctx *c, const char *rest);

/* Who acts on the disclosure register (disclosure_role_may_act). */
#define OFFICERS (CONSOLE_ROLE(GATE_RECORDS_OFFICER) | CONSOLE_ROLE(GATE_PRIVACY_OFFICER))
/* Who sees the figures: agency staff for their own agencies only. */
#define MANAGERS                                                                                   \
    (CONSOLE_ROLE(GATE_SUPERVISOR) | CONSOLE_ROLE(GATE_ADMIN) | CONSOLE_ROLE(GATE_AGENCY_STAFF))
#define QUEUE_ROLES (CONSOLE_ROLE(GATE_AGENCY_STAFF) | CONSOLE_ROLE(GATE_SUPERVISOR))

static const console_page PAGES[] = {
    {"GET /staff/", false, "/staff/", false, CONSOLE_ALL_STAFF, NULL, NULL, home_get},
    {"GET /staff/admin", false, "/staff/admin", false, CONSOLE_ROLE(GATE_ADMIN),
     I18N_("Staff accounts"),
     I18N_("Add members of staff, see their roles, disable and enable them."), console_admin_get},
    {"POST /staff/admin/add", true, "/staff/admin/add", false, CONSOLE_ROLE(GATE_ADMIN), NULL,
     NULL, console_admin_add_post},
    {"POST /staff/admin/{id}/{state}", true, "/staff/admin/", true, CONSOLE_ROLE(GATE_ADMIN),
     NULL, NULL, console_admin_state_post},
    /* ---- the Contact Center (console_cc.c) ---- */
    {"GET /staff/cc", false, "/staff/cc", false, CONSOLE_CC_ROLES, I18N_("Contact Center"),
     I18N_("Find a caller's earlier requests by phone, file a request for them, attach the "
           "call recording."),
     console_cc_home_get},
    {"POST /staff/cc", true, "/staff/cc", false, CONSOLE_CC_ROLES, NULL, NULL,
     console_cc_find_post},
    {"GET /staff/cc/file/{code}", false, "/staff/cc/file/", true, CONSOLE_CC_ROLES, NULL, NULL,
     console_cc_file_get},
    {"POST /staff/cc/file/{code}", true, "/staff/cc/file/", true, CONSOLE_CC_ROLES, NULL, NULL,
     console_cc_file_post},
    {"GET /staff/cc/requests/{id}", false, "/staff/cc/requests/", true, CONSOLE_CC_ROLES, NULL,
     NULL, console_cc_request_get},
    {"POST /staff/cc/requests/{id}/recording", true, "/staff/cc/requests/", true,
     CONSOLE_CC_ROLES, NULL, NULL, console_cc_recording_post},
    {"GET /staff/cc/recordings/{id}", false, "/staff/cc/recordings/", true, CONSOLE_CC_ROLES,
     NULL, NULL, console_cc_recording_get},
    /* the disclosure register (console_register.c): officers only */
    {"GET /staff/register", false, "/staff/register", false, OFFICERS,
     I18N_("Disclosure register"),
     I18N_("Record court orders and law-enforcement requests, approve them, and export what "
           "they name."),
     console_register_get},
    {"POST /staff/register", true, "/staff/register", false, OFFICERS, NULL, NULL,
     console_register_post},
    {"GET /staff/register/{id}", false, "/staff/register/", true, OFFICERS, NULL, NULL,
     console_register_order_get},
    {"POST /staff/register/{id}/{step}", true, "/staff/register/", true, OFFICERS, NULL, NULL,
     console_register_order_post},
    /* the figures for managers (console_figures.c) */
    {"GET /staff/figures", false, "/staff/figures", false, MANAGERS, I18N_("Figures"),
     I18N_("Requests filed and closed, time to close and the share within the SLA, per service "
           "and agency."),
     console_figures_get},
    {"GET /staff/figures.csv", false, "/staff/figures.csv", false, MANAGERS, NULL, NULL,
     console_figures_csv_get},
    /* The agency queue and a request's page (console_queue.c): agency
     * staff and supervisors, each limited to their own agencies. */
    {"GET /staff/queue", false, "/staff/queue", false, QUEUE_ROLES, I18N_("Agency queue"),
     I18N_("Your agencies' requests: filter, sort, open one, change several at once."),
     console_queue_get},
    {"POST /staff/queue", true, "/staff/queue", false, QUEUE_ROLES, NULL, NULL,
     console_queue_post},
    {"GET /staff/requests/{id}", false, "/staff/requests/", true, QUEUE_ROLES, NULL, NULL,
     console_request_get},
    {"POST /staff/requests/{id}/{action}", true, "/staff/requests/", true, QUEUE_ROLES, NULL,
     NULL, console_request_post},
};
#define NPAGES (sizeof PAGES / sizeof PAGES[0])

/* ---- the cookie and the session ---- */

static const char *cookie_name(const web_ctx *c)
{
    return c->app->tls ? CONSOLE_COOKIE_TLS : CONSOLE_COOKIE;
}

static bool sid_ok(const char *s, size_t n)
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

/* The console cookie's id into c->sid, if well formed. */
static void read_cookie(web_ctx *c)
{
    const char *h = http_header(c->req, "Cookie"), *name = cookie_name(c);
    size_t nlen = strlen(name);
    for (const char *p = h; p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            if (sid_ok(p + nlen + 1, len - nlen - 1)) {
                memcpy(c->sid, p + nlen + 1, WEB_SID_LEN);
                c->sid[WEB_SID_LEN] = '\0';
            }
            return;
        }
        p = end ? end + 1 : NULL;
    }
}

typedef struct {
    unsigned char hash[STORE_DIGEST_LEN];
    int64_t idle;
    int64_t now;
} touch_job;

static err_code touch_apply(store_t *s, void *arg, err_t *err)
{
    touch_job *job = arg;
    return staff_session_touch(s, job->hash, job->idle, job->now, err);
}

static void touch_done(void *arg, err_code rc, const err_t *err)
{
    if (rc != ERR_OK)
        log_warn("console: a session's last use could not be recorded: %s", err->msg);
    free(arg);
}

void console_session(web_ctx *c)
{
    c->console = true;
    c->staff = NULL;
    c->sid[0] = '\0';
    read_cookie(c);
    if (c->sid[0] == '\0') {
        web_new_sid(c->sid);
        c->set_cookie = true;
        return;
    }
    struct console_session *cs = pool_calloc(http_pool(c->req), 1, sizeof *cs);
    if (cs == NULL)
        return;
    staff_session_hash(c->sid, cs->hash);
    err_t err;
    int64_t now = c->app->now();
    bool touch = false;
    store_t *s = web_reader(c, &err);
    err_code rc = s != NULL ? staff_session_find(s, cs->hash, now, &cs->session, &touch, &err)
                            : err.code;
    if (rc == ERR_OK && cs->session.second_factor)
        rc = staff_load(s, cs->session.staff_id, http_pool(c->req), &cs->who, &err);
    if (rc == ERR_NOT_FOUND)
        return;
    if (rc != ERR_OK) {
        log_warn("console: the session could not be read, treated as signed out: %s", err.msg);
        return;
    }
    c->staff = cs;
    if (!touch)
        return;
    touch_job *job = malloc(sizeof *job);
    if (job == NULL)
        return;
    memcpy(job->hash, cs->hash, sizeof job->hash);
    job->idle = c->app->staff_idle_seconds;
    job->now = now;
    if (commitq_submit(c->app->writer, touch_apply, touch_done, job, &err) != ERR_OK)
        free(job);
}

void console_cookie(web_ctx *c)
{
    char v[160];
    /* No Expires or Max-Age: gone with the browser session. Strict: no
     * other site's link or form ever arrives signed in. */
    snprintf(v, sizeof v, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", cookie_name(c), c->sid,
             c->app->tls ? "; Secure" : "");
    http_add_header(c->req, "Set-Cookie", v);
}

/* ---- answers ---- */

void console_send(web_ctx *c, int status, buf_t *b)
{
    http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
    web_send_page(c, status, b); /* the cookie, no-store, Content-Language */
}

static void redirect(web_ctx *c, const char *path)
{
    http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
    web_redirect(c, path);
}

void console_error(web_ctx *c, int status, const char *title, const char *message)
{
    buf_t b = BUF_INIT;
    console_page_begin(c, &b, title);
    html_fmt(&b, "<h1>%s</h1><p>%s</p><p><a href=\"/staff/\">%s</a></p>", title, message,
             web_t(c, I18N_("Go to the console home")));
    console_page_end(c, &b);
    console_send(c, status, &b);
}

void console_busy(web_ctx *c)
{
    console_error(c, 503, web_t(c, I18N_("Something went wrong")),
                  web_t(c, I18N_("Nothing was changed. Please try again in a minute.")));
}

void console_unreadable(web_ctx *c)
{
    console_error(c, 400, web_t(c, I18N_("The form could not be read")),
                  web_t(c, I18N_("Go back, reload the page and fill it in again.")));
}

void console_expired(web_ctx *c)
{
    console_error(c, 403, web_t(c, I18N_("This page has expired")),
                  web_t(c, I18N_("Nothing was changed. Go back, reload the page and try "
                                 "again.")));
}

const char *console_actor(web_ctx *c)
{
    char *a = pool_alloc(http_pool(c->req), STAFF_ACTOR_MAX);
    if (a == NULL || c->staff == NULL)
        return "staff:?";
    return staff_actor(c->staff->who.id, a);
}

void console_run_job(web_ctx *c, commitq_apply_fn apply, commitq_done_fn done, void *job)
{
    err_t err;
    http_defer(c->req);
    if (commitq_submit(c->app->writer, apply, done, job, &err) != ERR_OK)
        done(job, err.code, &err);
}

bool console_read_form(web_ctx *c, const char *const *allowed, size_t nallowed, kv_list *v)
{
    err_t err;
    size_t len;
    const char *body = http_body(c->req, &len);
    kv_init(v);
    if (!o311_content_type_is(http_header(c->req, "Content-Type"),
                              "application/x-www-form-urlencoded") ||
        form_decode(body, len, http_pool(c->req), &KV_DEFAULT_LIMITS, v, &err) != ERR_OK)
        return false;
    for (size_t i = 0; i < v->count; i++) {
        bool known = false;
        for (size_t j = 0; j < nallowed && !known; j++)
            known = strcmp(v->items[i].key, allowed[j]) == 0;
        if (!known || kv_count(v, v->items[i].key) != 1)
            return false;
    }
    return true;
}

/* ---- the layout ---- */

static bool signed_in(const web_ctx *c)
{
    return c->staff != NULL && c->staff->session.second_factor;
}

const char *console_role_text(const web_ctx *c, gate_role r)
{
    switch (r) {
    case GATE_AGENT:
        return web_t(c, I18N_("Contact Center agent"));
    case GATE_AGENCY_STAFF:
        return web_t(c, I18N_("Agency staff"));
    case GATE_SUPERVISOR:
        return web_t(c, I18N_("Supervisor"));
    case GATE_PRIVACY_OFFICER:
        return web_t(c, I18N_("Privacy officer"));
    case GATE_RECORDS_OFFICER:
        return web_t(c, I18N_("Records officer"));
    case GATE_ADMIN:
        return web_t(c, I18N_("Administrator"));
    case GATE_RESIDENT:
    default:
        return "";
    }
}

static void signout_form(web_ctx *c, buf_t *b)
{
    html_fmt(b, "<form method=\"post\" action=\"/staff/sign-out\" class=\"inline\">");
    web_csrf_field(c, b);
    html_fmt(b, "<button type=\"submit\" class=\"secondary\">%s</button></form>",
             web_t(c, I18N_("Sign out")));
}

void console_page_begin(web_ctx *c, buf_t *b, const char *title)
{
    html_fmt(b,
             "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             "<meta name=\"robots\" content=\"noindex, nofollow\">"
             "<title>%s - %s</title>"
             "<link rel=\"stylesheet\" href=\"/static/site.css\"></head>"
             "<body class=\"console\"><a class=\"skip\" href=\"#main\">%s</a>"
             "<header class=\"site\"><div class=\"bar\">"
             "<a class=\"brand\" href=\"/staff/\">%s</a>",
             c->lang, title, web_t(c, I18N_("Civic311 staff console")),
             web_t(c, I18N_("Skip to the main content")),
             web_t(c, I18N_("Civic311 staff console")));
    if (signed_in(c)) {
        const staff_member *m = &c->staff->who;
        html_fmt(b, "<div class=\"who\"><p>%s <strong>%s</strong> (%s)</p>",
                 web_t(c, I18N_("Signed in as")), m->login, console_role_text(c, m->role));
        signout_form(c, b);
        html_fmt(b, "</div></div><nav aria-label=\"%s\"><ul class=\"langs console-nav\">"
                    "<li><a href=\"/staff/\"%R>%s</a></li>",
                 web_t(c, I18N_("Console")),
                 strcmp(http_path(c->req), "/staff/") == 0 ? " aria-current=\"page\"" : "",
                 web_t(c, I18N_("Home")));
        for (size_t i = 0; i < NPAGES; i++) {
            const console_page *p = &PAGES[i];
            if (p->nav == NULL || p->post || !(p->roles & CONSOLE_ROLE(m->role)))
                continue;
            html_fmt(b, "<li><a href=\"%R\"%R>%s</a></li>", p->path,
                     strcmp(http_path(c->req), p->path) == 0 ? " aria-current=\"page\"" : "",
                     web_t(c, p->nav));
        }
        html_fmt(b, "</ul></nav>");
    } else {
        html_fmt(b, "</div>");
    }
    html_fmt(b, "</header><main id=\"main\" tabindex=\"-1\">");
}

void console_page_end(web_ctx *c, buf_t *b)
{
    (void)c;
    html_fmt(b, "</main></body></html>\n");
}

/* ---- who may ---- */

const staff_member *console_require(web_ctx *c, unsigned roles)
{
    if (!signed_in(c)) {
        redirect(c, "/staff/sign-in");
        return NULL;
    }
    const staff_member *m = &c->staff->who;
    if (!(roles & CONSOLE_ROLE(m->role))) {
        console_error(c, 403, web_t(c, I18N_("Not for your role")),
                      web_t(c, I18N_("Your role does not give access to this page. If your work "
                                     "needs it, ask an administrator.")));
        return NULL;
    }
    return m;
}

/* ---- the home page ---- */

static void home_get(web_ctx *c, const char *rest)
{
    (void)rest;
    const staff_member *m = &c->staff->who;
    buf_t b = BUF_INIT;
    console_page_begin(c, &b, web_t(c, I18N_("Console home")));
    html_fmt(&b, "<h1>%s</h1><p class=\"lead\">%s: %s", web_t(c, I18N_("Console home")),
             web_t(c, I18N_("Your role")), console_role_text(c, m->role));
    if (m->nagencies > 0) {
        html_fmt(&b, "; %s: ", web_t(c, I18N_("your agencies")));
        for (size_t i = 0; i < m->nagencies; i++)
            html_fmt(&b, "%R%s", i ? ", " : "", m->agencies[i]);
    }
    html_fmt(&b, ".</p>");
    size_t shown = 0;
    for (size_t i = 0; i < NPAGES; i++) {
        const console_page *p = &PAGES[i];
        if (p->nav == NULL || p->post || !(p->roles & CONSOLE_ROLE(m->role)))
            continue;
        if (shown++ == 0)
            html_fmt(&b, "<h2>%s</h2><ul class=\"services\">", web_t(c, I18N_("What you can do")));
        html_fmt(&b, "<li><a href=\"%R\">%s</a>", p->path, web_t(c, p->nav));
        if (p->about != NULL)
            html_fmt(&b, "<p class=\"hint\">%s</p>", web_t(c, p->about));
        html_fmt(&b, "</li>");
    }
    if (shown > 0)
        html_fmt(&b, "</ul>");
    else
        html_fmt(&b, "<p>%s</p>",
                 web_t(c, I18N_("No console page is open to your role yet: the pages for it "
                                "come with the next versions.")));
    console_page_end(c, &b);
    console_send(c, 200, &b);
}

/* ---- signing in ---- */

static const char *const SIGNIN_FIELDS[] = {"csrf", "login", "password"};
static const char *const CODE_FIELDS[] = {"csrf", "code"};

static void problem_box(web_ctx *c, buf_t *b, const char *problem)
{
    if (problem != NULL)
        html_fmt(b,
                 "<div class=\"notice error\" role=\"alert\" id=\"problem\"><h2>%s</h2><p>%s</p>"
                 "</div>",
                 web_t(c, I18N_("Please check the form")), problem);
}

/* The one answer to a sign-in step that did not work, whatever the
 * reason: it never tells a wrong login from a wrong password or code, a
 * locked or a disabled account. */
static const char *refusal_text(web_ctx *c)
{
    return web_t(c, I18N_("The login, the password or the code is not right, or signing in to "
                          "this account is paused. Check them and try again. After 5 tries "
                          "that fail, signing in is paused for 15 minutes."));
}

static void signin_form(web_ctx *c, int status, const kv_list *v, const char *problem)
{
    buf_t b = BUF_INIT;
    console_page_begin(c, &b, web_t(c, I18N_("Staff sign-in")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Staff sign-in")));
    if (kv_get(&c->query, "out") != NULL)
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s</p></div>",
                 web_t(c, I18N_("You are signed out.")));
    problem_box(c, &b, problem);
    html_fmt(&b, "<form method=\"post\" action=\"/staff/sign-in\" novalidate>");
    web_csrf_field(c, &b);
    web_text_input(c, &b, "login", "login", web_t(c, I18N_("Login")), NULL, "text", "username",
                   v, true, STAFF_LOGIN_MAX);
    web_text_input(c, &b, "password", "password", web_t(c, I18N_("Password")), NULL, "password",
                   "current-password", NULL, true, 0);
    html_fmt(&b,
             "<p class=\"hint\">%s</p><p class=\"actions\"><button type=\"submit\">%s</button>"
             "</p></form>",
             web_t(c, I18N_("Next you will be asked for the 6-digit code of your authenticator "
                            "app. You are signed out after 15 minutes without use.")),
             web_t(c, I18N_("Continue")));
    console_page_end(c, &b);
    console_send(c, status, &b);
}

static void code_form(web_ctx *c, int status, const char *problem)
{
    buf_t b = BUF_INIT;
    console_page_begin(c, &b, web_t(c, I18N_("Your code")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Your code")));
    problem_box(c, &b, problem);
    html_fmt(&b, "<form method=\"post\" action=\"/staff/sign-in/code\" novalidate>");
    web_csrf_field(c, &b);
    web_input_field(c, &b, "code", "code", web_t(c, I18N_("6-digit code")),
                    web_t(c, I18N_("The code your authenticator app shows now for Civic311.")),
                    false, "text",
                    " inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\"",
                    NULL, true, 6);
    html_fmt(&b,
             "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>"
             "<p><a href=\"/staff/sign-in\">%s</a></p>",
             web_t(c, I18N_("Sign in")), web_t(c, I18N_("Start again")));
    console_page_end(c, &b);
    console_send(c, status, &b);
}

typedef struct {
    web_ctx *c;
    int64_t staff_id;  /* 0: no such login */
    bool password_ok;
    char code[8];      /* the code step's code */
    bool had_session;
    unsigned char old_hash[STORE_DIGEST_LEN];
    char sid[WEB_SID_LEN + 1];
    unsigned char hash[STORE_DIGEST_LEN];
    int64_t idle;
    int64_t now;
    staff_outcome outcome;
    const kv_list *v;
} signin_job;

static void new_sid(signin_job *job)
{
    web_new_sid(job->sid);
    staff_session_hash(job->sid, job->hash);
}

/* Checks the password on this (HTTP) thread, with the same work whether
 * the login exists or not. */
static err_code check_password(web_ctx *c, const char *login, const char *password,
                               signin_job *job, err_t *err)
{
    store_t *s = web_reader(c, err);
    if (s == NULL)
        return err->code;
    store_staff m;
    err_code rc = staff_login_ok(login)
                      ? store_staff_find(s, login, http_pool(c->req), &m, err)
                      : ERR_NOT_FOUND;
    if (rc != ERR_OK && rc != ERR_NOT_FOUND)
        return rc;
    /* A password longer than any allowed is wrong for any login; the
     * dummy still costs one hash. */
    bool fits = strlen(password) <= ACCOUNT_PASSWORD_MAX;
    bool usable = rc == ERR_OK && m.disabled_at == 0 && !staff_locked(&m, c->app->now()) && fits;
    job->staff_id = rc == ERR_OK ? m.id : 0;
    if (usable)
        job->password_ok = account_password_verify(m.password_hash, password);
    else
        account_password_dummy(fits ? password : "");
    return ERR_OK;
}

static err_code signin_apply(store_t *s, void *arg, err_t *err)
{
    signin_job *job = arg;
    err_code rc = staff_password_attempt(s, job->staff_id, job->password_ok, job->now,
                                         &job->outcome, err);
    if (rc == ERR_OK && job->outcome == STAFF_SIGNIN_OK && job->had_session)
        rc = staff_session_end(s, job->old_hash, err);
    if (rc == ERR_OK && job->outcome == STAFF_SIGNIN_OK)
        rc = staff_session_start(s, job->staff_id, job->hash, false, job->idle, job->now, err);
    return rc;
}

static void signin_done(void *arg, err_code rc, const err_t *err)
{
    signin_job *job = arg;
    web_ctx *c = job->c;
    if (rc != ERR_OK) {
        log_error("console: signing in failed: %s", err->msg);
        console_busy(c);
        return;
    }
    if (job->outcome != STAFF_SIGNIN_OK) {
        signin_form(c, 400, job->v, refusal_text(c));
        return;
    }
    web_session_switch(c, job->sid, false, 0);
    redirect(c, "/staff/sign-in/code");
}

static void forget(const char *secret)
{
    if (secret != NULL)
        sodium_memzero((char *)secret, strlen(secret));
}

static void signin_post(web_ctx *c)
{
    kv_list *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
    if (v == NULL) {
        console_busy(c);
        return;
    }
    if (!console_read_form(c, SIGNIN_FIELDS, sizeof SIGNIN_FIELDS / sizeof SIGNIN_FIELDS[0], v)) {
        forget(kv_get(v, "password"));
        console_unreadable(c);
        return;
    }
    const char *login = kv_get(v, "login"), *pw = kv_get(v, "password");
    if (!web_csrf_ok(c, v)) {
        forget(pw);
        signin_form(c, 403, v,
                    web_t(c, I18N_("This page has expired. Check the form and send it again.")));
        return;
    }
    if (login == NULL || *login == '\0' || pw == NULL || *pw == '\0') {
        forget(pw);
        signin_form(c, 400, v, web_t(c, I18N_("Enter your login and your password.")));
        return;
    }
    signin_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL) {
        forget(pw);
        console_busy(c);
        return;
    }
    err_t err;
    err_code rc = check_password(c, login, pw, job, &err);
    forget(pw);
    if (rc != ERR_OK) {
        log_error("console: signing in failed: %s", err.msg);
        console_busy(c);
        return;
    }
    job->c = c;
    job->v = v;
    job->now = c->app->now();
    job->idle = c->app->staff_idle_seconds;
    job->had_session = c->staff != NULL;
    if (job->had_session)
        memcpy(job->old_hash, c->staff->hash, sizeof job->old_hash);
    new_sid(job);
    console_run_job(c, signin_apply, signin_done, job);
}

static err_code code_apply(store_t *s, void *arg, err_t *err)
{
    signin_job *job = arg;
    err_code rc = staff_code_attempt(s, job->c->app->keys, job->staff_id, job->code, job->now,
                                     &job->outcome, err);
    /* Signed in: the half session ends, a new one under a new id. */
    if (rc == ERR_OK && job->outcome == STAFF_SIGNIN_OK)
        rc = staff_session_end(s, job->old_hash, err);
    if (rc == ERR_OK && job->outcome == STAFF_SIGNIN_OK)
        rc = staff_session_start(s, job->staff_id, job->hash, true, job->idle, job->now, err);
    return rc;
}

static void code_done(void *arg, err_code rc, const err_t *err)
{
    signin_job *job = arg;
    web_ctx *c = job->c;
    sodium_memzero(job->code, sizeof job->code);
    if (rc != ERR_OK) {
        log_error("console: signing in failed: %s", err->msg);
        console_busy(c);
        return;
    }
    if (job->outcome != STAFF_SIGNIN_OK) {
        code_form(c, 400, refusal_text(c));
        return;
    }
    web_session_switch(c, job->sid, false, 0);
    redirect(c, "/staff/");
}

static bool half_signed_in(const web_ctx *c)
{
    return c->staff != NULL && !c->staff->session.second_factor;
}

static void code_post(web_ctx *c)
{
    kv_list v;
    if (!console_read_form(c, CODE_FIELDS, sizeof CODE_FIELDS / sizeof CODE_FIELDS[0], &v)) {
        console_unreadable(c);
        return;
    }
    if (!half_signed_in(c)) {
        redirect(c, signed_in(c) ? "/staff/" : "/staff/sign-in");
        return;
    }
    if (!web_csrf_ok(c, &v)) {
        code_form(c, 403,
                  web_t(c, I18N_("This page has expired. Check the form and send it again.")));
        return;
    }
    const char *code = kv_get(&v, "code");
    signin_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL) {
        console_busy(c);
        return;
    }
    /* Anything but 6 digits is a wrong code, counted as one: the same
     * answer, the same limit. */
    snprintf(job->code, sizeof job->code, "%s",
             code != NULL && strlen(code) == TOTP_DIGITS ? code : "-");
    job->c = c;
    job->staff_id = c->staff->session.staff_id;
    job->now = c->app->now();
    job->idle = c->app->staff_idle_seconds;
    memcpy(job->old_hash, c->staff->hash, sizeof job->old_hash);
    new_sid(job);
    console_run_job(c, code_apply, code_done, job);
}

typedef struct {
    web_ctx *c;
    unsigned char hash[STORE_DIGEST_LEN];
} signout_job;

static err_code signout_apply(store_t *s, void *arg, err_t *err)
{
    signout_job *job = arg;
    return staff_session_end(s, job->hash, err);
}

static void signout_done(void *arg, err_code rc, const err_t *err)
{
    signout_job *job = arg;
    web_ctx *c = job->c;
    if (rc != ERR_OK) {
        log_error("console: signing out failed: %s", err->msg);
        console_busy(c);
        return;
    }
    char sid[WEB_SID_LEN + 1];
    web_new_sid(sid);
    c->staff = NULL;
    web_session_switch(c, sid, false, 0);
    redirect(c, "/staff/sign-in?out=1");
}

static void signout_post(web_ctx *c)
{
    static const char *const fields[] = {"csrf"};
    kv_list v;
    if (!console_read_form(c, fields, 1, &v)) {
        console_unreadable(c);
        return;
    }
    if (!web_csrf_ok(c, &v)) {
        console_expired(c);
        return;
    }
    if (c->staff == NULL) {
        redirect(c, "/staff/sign-in");
        return;
    }
    signout_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL) {
        console_busy(c);
        return;
    }
    job->c = c;
    memcpy(job->hash, c->staff->hash, sizeof job->hash);
    console_run_job(c, signout_apply, signout_done, job);
}

/* ---- routing ---- */

static void not_allowed(web_ctx *c, const char *allow)
{
    http_set_route(c->req, "staff method not allowed");
    http_add_header(c->req, "Allow", allow);
    console_error(c, 405, web_t(c, I18N_("This action is not possible here")),
                  web_t(c, I18N_("Use the links and buttons on the page.")));
}

void console_route(web_ctx *c, const char *path, bool get, bool post)
{
    if (strcmp(path, "/staff") == 0) {
        http_set_route(c->req, "GET /staff");
        redirect(c, "/staff/");
        return;
    }
    if (strcmp(path, "/staff/sign-in") == 0) {
        if (!get && !post) {
            not_allowed(c, "GET, HEAD, POST");
            return;
        }
        http_set_route(c->req, get ? "GET /staff/sign-in" : "POST /staff/sign-in");
        if (post)
            signin_post(c);
        else if (signed_in(c))
            redirect(c, "/staff/");
        else
            signin_form(c, 200, NULL, NULL);
        return;
    }
    if (strcmp(path, "/staff/sign-in/code") == 0) {
        if (!get && !post) {
            not_allowed(c, "GET, HEAD, POST");
            return;
        }
        http_set_route(c->req, get ? "GET /staff/sign-in/code" : "POST /staff/sign-in/code");
        if (post)
            code_post(c);
        else if (!half_signed_in(c))
            redirect(c, signed_in(c) ? "/staff/" : "/staff/sign-in");
        else
            code_form(c, 200, NULL);
        return;
    }
    if (strcmp(path, "/staff/sign-out") == 0) {
        if (!post) {
            not_allowed(c, "POST");
            return;
        }
        http_set_route(c->req, "POST /staff/sign-out");
        signout_post(c);
        return;
    }
    const console_page *match = NULL;
    bool path_known = false;
    for (size_t i = 0; i < NPAGES && match == NULL; i++) {
        const console_page *p = &PAGES[i];
        size_t n = strlen(p->path);
        bool here = p->prefix ? strncmp(path, p->path, n) == 0 && path[n] != '\0'
                              : strcmp(path, p->path) == 0;
        path_known = path_known || here;
        if (here && (p->post ? post : get))
            match = p;
    }
    /* Signed out, every address looks the same: the sign-in page. */
    if (!signed_in(c)) {
        http_set_route(c->req, "staff signed out");
        redirect(c, "/staff/sign-in");
        return;
    }
    if (match == NULL && !path_known) {
        http_set_route(c->req, "staff not found");
        console_error(c, 404, web_t(c, I18N_("Page not found")),
                      web_t(c, I18N_("There is no page at this address.")));
        return;
    }
    if (match == NULL) {
        not_allowed(c, post ? "GET, HEAD" : "POST");
        return;
    }
    http_set_route(c->req, match->route);
    if (console_require(c, match->roles) == NULL)
        return;
    match->fn(c, path + strlen(match->path));
}
