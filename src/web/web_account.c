/*
 * web_account.c - residents' accounts on the website (P7, P9): register,
 * sign in and out, "my account" (my requests), everything held about me
 * (a page and a JSON download), removing my details from one request, and
 * deleting the account. The rules live in privacy/account.c; this file
 * reads forms, checks passwords, and writes pages.
 *
 *   GET  /account                      my requests; links to my data
 *   GET  /account/register, POST       a new account (signed in at once)
 *   GET  /account/signin, POST         signing in ("keep me signed in")
 *   POST /account/signout              signing out
 *   GET  /account/data                 everything held about me, as a page
 *   GET  /account/data.json            the same, as a download
 *   POST /account/requests/{id}/remove my details off one request (confirm first)
 *   GET  /account/delete, POST         deleting the account (password again)
 *
 * Where the work happens, and why:
 *   - Argon2id runs on the HTTP worker thread that got the request (about
 *     0.1 s), never on the group-commit writer, which every report waits
 *     for. The writer then records the outcome (account_attempt) and
 *     decides on its own fresh view of the account: no password is
 *     accepted once a lock is on record, and the guesses that can succeed
 *     are the limit's plus those already queued when the lock lands.
 *   - Every write (an account, a session, a failure, an erasure) and every
 *     read of personal data (the gatekeeper writes an audit entry for
 *     each) is a job of the group-commit writer: the request is deferred
 *     and answered once the batch is on disk (Q1).
 *   - Who is signed in is one read of the thread's read connection, on
 *     every request (web.c context_new, web_account_session).
 *
 * Never logged, never in a URL or an error message: an email, a name, a
 * password or a session id. Passwords are never written back into a page.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "open311/o311_params.h"
#include "privacy/account.h"
#include "privacy/gate.h"
#include "store/commitq.h"
#include "util/datetime.h"
#include "util/log.h"
#include "web/web_int.h"

/* The most requests "my account" and "my data" list: far more than a
 * resident files; the page says when there are more. */
#define MY_REQUESTS_MAX 500
#define MY_SESSIONS_MAX 50

/* The classes of fields a request holds (files are listed apart). */
#define FIELD_CLASSES (DC_BIT(DC_CONTACT) | DC_BIT(DC_DEVICE) | DC_BIT(DC_ACCOUNT))

/* ---- who is signed in ---- */

typedef struct {
    unsigned char hash[STORE_DIGEST_LEN];
    int64_t now;
} touch_job;

static err_code touch_apply(store_t *s, void *arg, err_t *err)
{
    touch_job *job = arg;
    return account_session_touch(s, job->hash, job->now, err);
}

static void touch_done(void *arg, err_code rc, const err_t *err)
{
    if (rc != ERR_OK)
        log_warn("web: a session's last use could not be recorded: %s", err->msg);
    free(arg);
}

void web_account_session(web_ctx *c)
{
    if (c->sid[0] == '\0' || strncmp(http_path(c->req), "/static/", 8) == 0)
        return;
    unsigned char hash[STORE_DIGEST_LEN];
    account_session_hash(c->sid, hash);
    err_t err;
    int64_t now = c->app->now();
    store_t *s = web_reader(c, &err);
    store_web_session ws;
    bool touch = false;
    err_code rc = s != NULL ? account_session_find(s, hash, now, &ws, &touch, &err) : err.code;
    if (rc == ERR_NOT_FOUND)
        return;
    if (rc != ERR_OK) {
        /* Signed out for this page only; the message names no value. */
        log_warn("web: the session could not be read, treated as signed out: %s", err.msg);
        return;
    }
    c->account_id = ws.account_id;
    c->account_subject = ws.subject_id;
    c->session_keep = ws.persistent;
    c->session_expires = ws.expires_at;
    if (!touch)
        return;
    /* Fire and forget: the page does not wait for it. Its memory is its
     * own (the request's pool may be gone when the writer gets to it). */
    touch_job *job = malloc(sizeof *job);
    if (job == NULL)
        return;
    memcpy(job->hash, hash, sizeof hash);
    job->now = now;
    if (commitq_submit(c->app->writer, touch_apply, touch_done, job, &err) != ERR_OK)
        free(job); /* stopping: done is not called */
}

/* ---- small helpers ---- */

/* The form a POST sent, decoded into v (from the request's pool), if it is
 * urlencoded, holds only the fields named in allowed, and each once: a
 * browser sends nothing else, so anything else is a crafted or stale form,
 * refused rather than guessed at. */
static bool read_form(web_ctx *c, const char *const *allowed, size_t nallowed, kv_list *v)
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

/* A form value with the blanks around it removed (from the pool), or
 * NULL if absent. */
static const char *trimmed(web_ctx *c, const kv_list *v, const char *name)
{
    const char *s = kv_get(v, name);
    if (s == NULL)
        return NULL;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return pool_strndup(http_pool(c->req), s, n);
}

/* Overwrites a decoded password in the pool, once it has been used. */
static void forget(const char *secret)
{
    if (secret != NULL)
        sodium_memzero((char *)secret, strlen(secret));
}

static bool ticked(const kv_list *v, const char *name)
{
    const char *s = kv_get(v, name);
    return s != NULL && strcmp(s, "1") == 0;
}

static void unreadable_form(web_ctx *c)
{
    web_error_page(c, 400, web_t(c, I18N_("The form could not be read")),
                   web_t(c, I18N_("Go back, reload the page and fill it in again.")));
}

static void expired_page(web_ctx *c)
{
    web_error_page(c, 403, web_t(c, I18N_("This page has expired")),
                   web_t(c, I18N_("Nothing was changed. Go back, reload the page and try "
                                  "again.")));
}

static void busy_page(web_ctx *c)
{
    web_error_page(c, 503, web_t(c, I18N_("Something went wrong")),
                   web_t(c, I18N_("Nothing was changed. Please try again in a minute.")));
}

/* Signed-in pages send others to the sign-in page. */
static bool signed_in(web_ctx *c)
{
    if (c->account_id > 0)
        return true;
    web_redirect(c, "/account/signin");
    return false;
}

static const char *actor_of(web_ctx *c)
{
    char *a = pool_alloc(http_pool(c->req), ACCOUNT_ACTOR_MAX);
    return a != NULL ? account_actor(c->account_id, a) : "account:?";
}

/* The problem summary at the top of a form (the fields it names point to
 * it with aria-describedby). */
static void problem_box(web_ctx *c, buf_t *b, const char *problem)
{
    if (problem != NULL)
        html_fmt(b,
                 "<div class=\"notice error\" role=\"alert\" id=\"problem\"><h2>%s</h2><p>%s</p>"
                 "</div>",
                 web_t(c, I18N_("Please check the form")), problem);
}

/* Submits a writer job for this request and defers the answer; done()
 * answers. If the writer refuses (stopping), done() gets the error. */
static void run_job(web_ctx *c, commitq_apply_fn apply, commitq_done_fn done, void *job)
{
    err_t err;
    http_defer(c->req);
    if (commitq_submit(c->app->writer, apply, done, job, &err) != ERR_OK)
        done(job, err.code, &err);
}

/* A fresh session id and its hash, for a sign-in: never the id the
 * browser came with (session fixation). */
typedef struct {
    char sid[WEB_SID_LEN + 1];
    unsigned char hash[STORE_DIGEST_LEN];
} new_sid;

static void make_sid(new_sid *n)
{
    web_new_sid(n->sid);
    account_session_hash(n->sid, n->hash);
}

/* ---- register ---- */

static const char *const REGISTER_FIELDS[] = {"csrf", "email", "display_name", "password",
                                              "password_again"};

static void register_form(web_ctx *c, int status, const kv_list *v, const char *problem,
                          const char *bad_field)
{
    buf_t b = BUF_INIT;
    c->bad_field = bad_field;
    web_page_begin(c, &b, web_t(c, I18N_("Create an account")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Create an account")));
    problem_box(c, &b, problem);
    html_fmt(&b, "<p class=\"lead\">%s</p>",
             web_t(c, I18N_("An account is optional: you can report a problem without one. "
                            "With one, your requests are in one place, and you can see, "
                            "download and delete everything we hold about you.")));
    html_fmt(&b, "<form method=\"post\" action=\"/account/register\" novalidate>");
    web_csrf_field(c, &b);
    web_text_input(c, &b, "email", "email", web_t(c, I18N_("Email")), NULL, "email", "email", v,
                   true, ACCOUNT_EMAIL_MAX);
    web_text_input(c, &b, "display_name", "display_name", web_t(c, I18N_("Your name (optional)")),
                   web_t(c, I18N_("How we greet you. It is never shown publicly.")), "text",
                   "nickname", v, false, ACCOUNT_NAME_MAX);
    web_text_input(c, &b, "password", "password", web_t(c, I18N_("Password")),
                   web_t(c, I18N_("At least 10 characters. A few words you will remember make "
                                  "a good password.")),
                   "password", "new-password", NULL, true, 0);
    web_text_input(c, &b, "password_again", "password_again",
                   web_t(c, I18N_("The same password again")), NULL, "password", "new-password",
                   NULL, true, 0);
    html_fmt(&b,
             "<p class=\"hint\">%s <a href=\"/privacy\">%s</a></p>"
             "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>"
             "<p>%s <a href=\"/account/signin\">%s</a></p>",
             web_t(c, I18N_("Your email and name are kept encrypted, only for your account, "
                            "until you delete it. We never ask for your age or date of "
                            "birth.")),
             web_t(c, I18N_("Privacy policy")), web_t(c, I18N_("Create my account")),
             web_t(c, I18N_("Already have an account?")), web_t(c, I18N_("Sign in")));
    web_page_end(c, &b);
    web_send_page(c, status, &b);
}

typedef struct {
    web_ctx *c;
    const char *email, *name;
    char hash[ACCOUNT_HASH_MAX];
    new_sid sid;
    int64_t now;
    int64_t expires;
    const kv_list *v; /* to show the form again */
} register_job;

static err_code register_apply(store_t *s, void *arg, err_t *err)
{
    register_job *job = arg;
    int64_t id = 0;
    err_code rc = account_create(s, job->c->app->keys, job->email, job->name, job->hash, job->now,
                                 &id, NULL, err);
    if (rc == ERR_OK)
        rc = account_session_start(s, id, job->sid.hash, false, job->now, &job->expires, err);
    return rc;
}

static void register_done(void *arg, err_code rc, const err_t *err)
{
    register_job *job = arg;
    web_ctx *c = job->c;
    sodium_memzero(job->hash, sizeof job->hash);
    if (rc == ERR_OK) {
        web_session_switch(c, job->sid.sid, false, job->expires);
        web_redirect(c, "/account?welcome=1");
        return;
    }
    if (rc == ERR_CONFLICT) {
        /* The same page, and the same words, as any refusal that is not
         * about how a field is written: see register_post. */
        register_form(c, 400, job->v,
                      web_t(c, I18N_("An account could not be created with these details. "
                                     "If you already have one, sign in instead.")),
                      NULL);
        return;
    }
    log_error("web: registration failed: %s", err->msg);
    busy_page(c);
}

/*
 * An email that already has an account: what a careful product does,
 * without confirmation emails. The answer names no field and says "these
 * details", so the page itself does not confirm the email (someone who
 * types their own email finds their way to "sign in"). It comes after the
 * Argon2id hash, so it takes as long as creating the account. What it
 * cannot hide is that no account was made: once the city's outbox (W6)
 * can send mail, registration should answer "check your inbox" in every
 * case and tell the owner of a taken email by mail instead. Until then,
 * the cost of asking is one Argon2id hash on our side and a page on
 * theirs, no cheaper than the sign-in form, whose answer and timing are
 * the same whether the email exists or not.
 */
static void register_post(web_ctx *c)
{
    kv_list *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
    if (v == NULL) {
        busy_page(c);
        return;
    }
    if (!read_form(c, REGISTER_FIELDS, sizeof REGISTER_FIELDS / sizeof REGISTER_FIELDS[0], v)) {
        unreadable_form(c);
        return;
    }
    if (!web_csrf_ok(c, v)) {
        register_form(c, 403, v,
                      web_t(c, I18N_("This page has expired. Check the form and send it "
                                     "again.")),
                      NULL);
        return;
    }
    const char *email = trimmed(c, v, "email"), *name = trimmed(c, v, "display_name");
    const char *pw = kv_get(v, "password"), *again = kv_get(v, "password_again");
    const char *problem = NULL, *field = NULL;
    if (email == NULL || account_check_email(email) != ACCOUNT_INPUT_OK) {
        problem = web_t(c, I18N_("Enter your email address, like name@example.org."));
        field = "email";
    } else if (account_check_name(name) != ACCOUNT_INPUT_OK) {
        problem = web_t(c, I18N_("A name must fit on one line, in at most 100 characters."));
        field = "display_name";
    } else {
        field = "password";
        switch (account_check_password(pw, email)) {
        case ACCOUNT_INPUT_OK:
            field = NULL;
            break;
        case ACCOUNT_PASSWORD_LONG:
            problem = web_t(c, I18N_("The password is too long: at most 1024 bytes."));
            break;
        case ACCOUNT_PASSWORD_IS_EMAIL:
            problem = web_t(c, I18N_("The password cannot be your email address."));
            break;
        default:
            problem = web_t(c, I18N_("The password must have at least 10 characters."));
            break;
        }
        if (problem == NULL && (again == NULL || strcmp(pw, again) != 0)) {
            problem = web_t(c, I18N_("The two passwords are not the same. Type them again."));
            field = "password_again";
        }
    }
    if (problem != NULL) {
        forget(pw);
        forget(again);
        register_form(c, 400, v, problem, field);
        return;
    }
    register_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    err_t err;
    if (job == NULL || account_password_hash(pw, job->hash, &err) != ERR_OK) {
        forget(pw);
        forget(again);
        busy_page(c);
        return;
    }
    forget(pw);
    forget(again);
    job->c = c;
    job->email = email;
    job->name = name != NULL && *name != '\0' ? name : NULL;
    job->now = c->app->now();
    job->v = v;
    make_sid(&job->sid);
    run_job(c, register_apply, register_done, job);
}

/* ---- sign in, sign out ---- */

static const char *const SIGNIN_FIELDS[] = {"csrf", "email", "password", "keep"};

static void signin_form(web_ctx *c, int status, const kv_list *v, const char *problem)
{
    buf_t b = BUF_INIT;
    web_page_begin(c, &b, web_t(c, I18N_("Sign in")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Sign in")));
    if (kv_get(&c->query, "out") != NULL)
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s</p></div>",
                 web_t(c, I18N_("You are signed out.")));
    problem_box(c, &b, problem);
    html_fmt(&b, "<form method=\"post\" action=\"/account/signin\" novalidate>");
    web_csrf_field(c, &b);
    web_text_input(c, &b, "email", "email", web_t(c, I18N_("Email")), NULL, "email", "email", v,
                   true, ACCOUNT_EMAIL_MAX);
    web_text_input(c, &b, "password", "password", web_t(c, I18N_("Password")), NULL, "password",
                   "current-password", NULL, true, 0);
    html_fmt(&b,
             "<div class=\"field choice\"><input type=\"checkbox\" id=\"keep\" name=\"keep\" "
             "value=\"1\" aria-describedby=\"keep-hint\"%R><label for=\"keep\">%s</label></div>"
             "<p class=\"hint\" id=\"keep-hint\">%s</p>"
             "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>"
             "<p>%s <a href=\"/account/register\">%s</a></p>",
             v != NULL && ticked(v, "keep") ? " checked" : "",
             web_t(c, I18N_("Keep me signed in for 30 days")),
             web_t(c, I18N_("Only on a device nobody else uses: it keeps a cookie for 30 days. "
                            "Otherwise you are signed out when you close the browser.")),
             web_t(c, I18N_("Sign in")),
             web_t(c, I18N_("No account? You can report a problem without one, or")),
             web_t(c, I18N_("create an account")));
    web_page_end(c, &b);
    web_send_page(c, status, &b);
}

/* The one answer to a sign-in that did not work, whatever the reason (no
 * such email, a wrong password, a locked account): it never tells whether
 * the email has an account. */
static void signin_refused(web_ctx *c, const kv_list *v)
{
    signin_form(c, 400, v,
                web_t(c, I18N_("The email or the password is not right. Check them and try "
                               "again. After 5 tries that fail, signing in to the account is "
                               "paused for 15 minutes.")));
}

typedef struct {
    web_ctx *c;
    int64_t account_id;
    bool password_ok;
    char rehash[ACCOUNT_HASH_MAX]; /* "" unless the stored hash needs renewing */
    bool keep;
    new_sid sid;
    bool had_session; /* signed in already: that session ends */
    unsigned char old_hash[STORE_DIGEST_LEN];
    int64_t now;
    bool accepted;
    int64_t expires;
    const kv_list *v;
} signin_job;

/* Checks a password for a sign-in or a deletion on this (HTTP) thread:
 * the account's row from the read connection, the lock as it reads it,
 * Argon2id, and a rehash if the stored string is older than today's
 * limits. Sets *account_id (0: no such account) and *ok. ERR_OK unless
 * the store or the memory failed. The same work is done whether the
 * account exists or not. */
static err_code check_password(web_ctx *c, const char *email, int64_t account_id,
                               const char *password, int64_t *found, bool *ok,
                               char rehash[ACCOUNT_HASH_MAX], err_t *err)
{
    *found = 0;
    *ok = false;
    rehash[0] = '\0';
    store_t *s = web_reader(c, err);
    if (s == NULL)
        return err->code;
    store_account a;
    err_code rc = email != NULL ? account_find(s, c->app->keys, email, http_pool(c->req), &a, err)
                                : store_account_get(s, account_id, http_pool(c->req), &a, err);
    if (rc == ERR_OK && a.deleted_at != 0)
        rc = ERR_NOT_FOUND;
    if (rc == ERR_NOT_FOUND || (rc == ERR_OK && account_locked(&a, c->app->now()))) {
        account_password_dummy(password);
        if (rc == ERR_OK)
            *found = a.id; /* the writer records nothing for a locked account */
        return ERR_OK;
    }
    if (rc != ERR_OK)
        return rc;
    *found = a.id;
    *ok = account_password_verify(a.password_hash, password);
    if (*ok && account_password_needs_rehash(a.password_hash) &&
        account_password_hash(password, rehash, err) != ERR_OK)
        rehash[0] = '\0'; /* the old string still works: try again next time */
    return ERR_OK;
}

static err_code signin_apply(store_t *s, void *arg, err_t *err)
{
    signin_job *job = arg;
    if (job->account_id == 0) /* no such account: nothing to record */
        return ERR_OK;
    err_code rc =
        account_attempt(s, job->account_id, job->password_ok, job->rehash[0] ? job->rehash : NULL,
                        job->now, &job->accepted, err);
    if (rc == ERR_OK && job->accepted && job->had_session)
        rc = account_session_end(s, job->old_hash, err);
    if (rc == ERR_OK && job->accepted)
        rc = account_session_start(s, job->account_id, job->sid.hash, job->keep, job->now,
                                   &job->expires, err);
    return rc;
}

static void signin_done(void *arg, err_code rc, const err_t *err)
{
    signin_job *job = arg;
    web_ctx *c = job->c;
    sodium_memzero(job->rehash, sizeof job->rehash);
    if (rc != ERR_OK) {
        log_error("web: signing in failed: %s", err->msg);
        busy_page(c);
        return;
    }
    if (!job->accepted) {
        signin_refused(c, job->v);
        return;
    }
    c->account_id = job->account_id;
    web_session_switch(c, job->sid.sid, job->keep, job->expires);
    web_redirect(c, "/account");
}

static void signin_post(web_ctx *c)
{
    kv_list *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
    if (v == NULL) {
        busy_page(c);
        return;
    }
    if (!read_form(c, SIGNIN_FIELDS, sizeof SIGNIN_FIELDS / sizeof SIGNIN_FIELDS[0], v)) {
        unreadable_form(c);
        return;
    }
    if (!web_csrf_ok(c, v)) {
        signin_form(c, 403, v,
                    web_t(c, I18N_("This page has expired. Check the form and send it again.")));
        return;
    }
    const char *email = trimmed(c, v, "email"), *pw = kv_get(v, "password");
    if (email == NULL || *email == '\0' || pw == NULL || *pw == '\0') {
        forget(pw);
        signin_form(c, 400, v, web_t(c, I18N_("Enter your email and your password.")));
        return;
    }
    signin_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL) {
        forget(pw);
        busy_page(c);
        return;
    }
    err_t err;
    err_code rc =
        check_password(c, email, 0, pw, &job->account_id, &job->password_ok, job->rehash, &err);
    forget(pw);
    if (rc != ERR_OK) {
        log_error("web: signing in failed: %s", err.msg);
        busy_page(c);
        return;
    }
    /* An unknown email goes through the writer too: every attempt waits
     * for the same queue, so the answer's timing says no more than its
     * words (a commit that writes nothing skips only the disk sync). */
    job->c = c;
    job->keep = ticked(v, "keep");
    job->now = c->app->now();
    job->v = v;
    job->had_session = c->account_id > 0;
    if (job->had_session)
        account_session_hash(c->sid, job->old_hash);
    make_sid(&job->sid);
    run_job(c, signin_apply, signin_done, job);
}

typedef struct {
    web_ctx *c;
    unsigned char hash[STORE_DIGEST_LEN];
} signout_job;

static err_code signout_apply(store_t *s, void *arg, err_t *err)
{
    signout_job *job = arg;
    return account_session_end(s, job->hash, err);
}

static void signout_done(void *arg, err_code rc, const err_t *err)
{
    signout_job *job = arg;
    web_ctx *c = job->c;
    if (rc != ERR_OK) {
        log_error("web: signing out failed: %s", err->msg);
        busy_page(c);
        return;
    }
    /* A new anonymous session: the signed-in id is never used again. */
    char sid[WEB_SID_LEN + 1];
    web_new_sid(sid);
    c->account_id = c->account_subject = 0;
    web_session_switch(c, sid, false, 0);
    web_redirect(c, "/account/signin?out=1");
}

static void signout_post(web_ctx *c)
{
    static const char *const fields[] = {"csrf"};
    kv_list v;
    if (!read_form(c, fields, 1, &v)) {
        unreadable_form(c);
        return;
    }
    if (!web_csrf_ok(c, &v)) {
        expired_page(c);
        return;
    }
    if (c->account_id <= 0) {
        web_redirect(c, "/account/signin");
        return;
    }
    signout_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL) {
        busy_page(c);
        return;
    }
    job->c = c;
    account_session_hash(c->sid, job->hash);
    run_job(c, signout_apply, signout_done, job);
}

/* ---- my account ---- */

static void signout_form(web_ctx *c, buf_t *b)
{
    html_fmt(b, "<form method=\"post\" action=\"/account/signout\">");
    web_csrf_field(c, b);
    html_fmt(b,
             "<p class=\"actions\"><button type=\"submit\" class=\"secondary\">%s</button></p>"
             "</form>",
             web_t(c, I18N_("Sign out")));
}

static void account_page(web_ctx *c)
{
    if (!signed_in(c))
        return;
    err_t err;
    pool_t *pool = http_pool(c->req);
    store_t *s = web_reader(c, &err);
    int64_t *ids = NULL;
    size_t n = 0;
    err_code rc = s != NULL ? store_subject_requests(s, c->account_subject, MY_REQUESTS_MAX, pool,
                                                     &ids, &n, &err)
                            : err.code;
    service_request *srs = n > 0 ? pool_calloc(pool, n, sizeof *srs) : NULL;
    bool *shown = n > 0 ? pool_calloc(pool, n, sizeof *shown) : NULL;
    if (rc == ERR_OK && n > 0 && (srs == NULL || shown == NULL))
        rc = err_set(&err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        rc = store_request_get(s, ids[i], pool, &srs[i], &err);
        shown[i] = rc == ERR_OK;
        if (rc == ERR_NOT_FOUND) /* a batch request not yet published */
            rc = ERR_OK;
    }
    if (rc != ERR_OK) {
        log_error("web: my account: %s", err.msg);
        web_error_page(c, 503, web_t(c, I18N_("Something went wrong")),
                       web_t(c, I18N_("We could not read your account just now. Please try "
                                      "again in a minute.")));
        return;
    }
    buf_t b = BUF_INIT;
    web_page_begin(c, &b, web_t(c, I18N_("My account")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("My account")));
    const char *removed = kv_get(&c->query, "removed");
    int64_t removed_id = 0;
    if (kv_get(&c->query, "welcome") != NULL)
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s</p></div>",
                 web_t(c, I18N_("Your account is ready. Requests you report while signed in "
                                "will be listed here.")));
    else if (removed != NULL && sr_parse_id(removed, &removed_id))
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s %L.</p></div>",
                 web_t(c, I18N_("Your details were removed from request")), removed_id);

    html_fmt(&b, "<section aria-labelledby=\"mine\"><h2 id=\"mine\">%s</h2>",
             web_t(c, I18N_("My requests")));
    if (n == 0)
        html_fmt(&b, "<p>%s <a href=\"/\">%s</a></p>",
                 web_t(c, I18N_("No requests yet. Requests you report while signed in are "
                                "listed here.")),
                 web_t(c, I18N_("Report a problem")));
    else
        html_fmt(&b, "<ul class=\"services\">");
    for (size_t i = 0; i < n; i++) {
        char num[24];
        snprintf(num, sizeof num, "%" PRId64, ids[i]);
        html_fmt(&b, "<li><a href=\"/requests/%u\">%s %s</a>", num, web_t(c, I18N_("Request")),
                 num);
        if (!shown[i]) {
            html_fmt(&b, "<p class=\"hint\">%s</p></li>",
                     web_t(c, I18N_("Received: the agency will give it a number shortly.")));
            continue;
        }
        const service *sv = catalog_find_service(c->app->cat, srs[i].service_code);
        html_fmt(&b, "<dl class=\"facts\"><dt>%s</dt><dd>", web_t(c, I18N_("Service")));
        if (sv != NULL)
            web_catalog_text(c, &b, sv->name);
        else
            html_fmt(&b, "%s", srs[i].service_code);
        html_fmt(&b, "</dd><dt>%s</dt><dd>%s</dd><dt>%s</dt><dd>", web_t(c, I18N_("Status")),
                 web_status_text(c, srs[i].status), web_t(c, I18N_("Date reported")));
        web_put_time(c, &b, srs[i].requested_at);
        html_fmt(&b, "</dd></dl><form method=\"post\" action=\"/account/requests/%u/remove\">",
                 num);
        web_csrf_field(c, &b);
        html_fmt(&b, "<button type=\"submit\" class=\"secondary\">%s %s</button></form></li>",
                 web_t(c, I18N_("Remove my details from request")), num);
    }
    if (n > 0)
        html_fmt(&b, "</ul>");
    if (n == MY_REQUESTS_MAX)
        html_fmt(&b, "<p class=\"hint\">%s</p>",
                 web_t(c, I18N_("Only your latest 500 requests are listed.")));
    html_fmt(&b,
             "</section><section aria-labelledby=\"data\"><h2 id=\"data\">%s</h2><ul>"
             "<li><a href=\"/account/data\">%s</a></li>"
             "<li><a href=\"/account/data.json\">%s</a></li>"
             "<li><a href=\"/account/delete\">%s</a></li></ul></section>",
             web_t(c, I18N_("My data")), web_t(c, I18N_("See everything we hold about you")),
             web_t(c, I18N_("Download it (JSON)")), web_t(c, I18N_("Delete my account")));
    signout_form(c, &b);
    web_page_end(c, &b);
    web_send_page(c, 200, &b);
}

/* ---- everything held about me ---- */

typedef struct {
    int64_t id;
    bool visible;       /* published (a batch request may not be yet) */
    service_request sr; /* public fields */
    bool read;          /* the gatekeeper returned its fields */
    gate_view view;
    store_blob *blobs; /* its files, without their bytes */
    size_t files;
} my_request;

typedef struct {
    web_ctx *c;
    bool json;
    int64_t now;
    gate_account_view account;
    store_account row;
    store_web_session *sessions;
    size_t nsessions;
    my_request *reqs;
    size_t nreqs;
} data_job;

/* On the writer: every read of personal data goes through the gatekeeper,
 * which records it in the audit log of this same transaction. */
static err_code data_apply(store_t *s, void *arg, err_t *err)
{
    data_job *job = arg;
    web_ctx *c = job->c;
    pool_t *pool = http_pool(c->req);
    gate_actor me = {.role = GATE_RESIDENT, .actor = actor_of(c), .subject_id = c->account_subject};
    err_code rc = gate_read_account(s, c->app->keys, &me, GATE_PURPOSE_ADDRESS_REQUEST,
                                    c->account_id, job->now, pool, &job->account, err);
    if (rc == ERR_OK)
        rc = store_account_get(s, c->account_id, pool, &job->row, err);
    if (rc == ERR_OK)
        rc = store_session_list(s, c->account_id, job->now, MY_SESSIONS_MAX, pool, &job->sessions,
                                &job->nsessions, err);
    int64_t *ids = NULL;
    size_t n = 0;
    if (rc == ERR_OK)
        rc = store_subject_requests(s, c->account_subject, MY_REQUESTS_MAX, pool, &ids, &n, err);
    if (rc == ERR_OK && n > 0 && (job->reqs = pool_calloc(pool, n, sizeof *job->reqs)) == NULL)
        rc = err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        my_request *r = &job->reqs[i];
        r->id = ids[i];
        rc = store_request_get(s, r->id, pool, &r->sr, err);
        r->visible = rc == ERR_OK;
        if (rc == ERR_NOT_FOUND) {
            rc = ERR_OK;
            continue;
        }
        if (rc == ERR_OK)
            rc = store_blob_list(s, r->id, pool, &r->blobs, &r->files, err);
        if (rc == ERR_OK)
            rc = gate_read_request(s, c->app->keys, &me, GATE_PURPOSE_ADDRESS_REQUEST, r->id,
                                   FIELD_CLASSES, job->now, pool, &r->view, err);
        r->read = rc == ERR_OK;
        /* A request holding files but no fields of ours stands "other" to
         * us: the refusal is on record, and the request shows without
         * fields. */
        if (rc == ERR_FORBIDDEN)
            rc = ERR_OK;
    }
    job->nreqs = n;
    return rc;
}

static void put_time_iso(buf_t *b, int64_t t)
{
    char iso[DT_BUFSZ];
    if (t <= 0) {
        buf_puts(b, "null");
        return;
    }
    dt_format(t, iso);
    buf_json_str(b, iso);
}

static void json_field(buf_t *b, const char *name, const char *value, bool *first)
{
    buf_puts(b, *first ? "" : ",");
    *first = false;
    buf_json_str(b, name);
    buf_putc(b, ':');
    buf_json_str(b, value);
}

/* The download: the same facts as the page, in a document a program can
 * read. */
static void data_json(data_job *job, buf_t *b)
{
    web_ctx *c = job->c;
    buf_puts(b, "{\"generated_at\":");
    put_time_iso(b, job->now);
    buf_puts(b, ",\"account\":{\"id\":");
    buf_put_i64(b, c->account_id);
    buf_puts(b, ",\"email\":");
    buf_json_str(b, job->account.email);
    buf_puts(b, ",\"display_name\":");
    buf_json_str(b, job->account.display_name);
    buf_puts(b, ",\"created_at\":");
    put_time_iso(b, job->row.created_at);
    buf_puts(b, ",\"password\":\"kept only as an Argon2id hash, which is not shown\"");
    buf_puts(b, ",\"sessions\":[");
    for (size_t i = 0; i < job->nsessions; i++) {
        const store_web_session *ws = &job->sessions[i];
        buf_puts(b, i ? ",{\"signed_in_at\":" : "{\"signed_in_at\":");
        put_time_iso(b, ws->created_at);
        buf_puts(b, ",\"last_seen\":");
        put_time_iso(b, ws->last_seen);
        buf_puts(b, ",\"expires_at\":");
        put_time_iso(b, ws->expires_at);
        buf_puts(b, ws->persistent ? ",\"keep_signed_in\":true}" : ",\"keep_signed_in\":false}");
    }
    buf_puts(b, "]},\"requests\":[");
    bool first_req = true;
    for (size_t i = 0; i < job->nreqs; i++) {
        const my_request *r = &job->reqs[i];
        if (!r->visible)
            continue;
        const service *sv = catalog_find_service(c->app->cat, r->sr.service_code);
        buf_puts(b, first_req ? "{\"service_request_id\":" : ",{\"service_request_id\":");
        first_req = false;
        char num[24];
        snprintf(num, sizeof num, "%" PRId64, r->id);
        buf_json_str(b, num);
        buf_puts(b, ",\"service_code\":");
        buf_json_str(b, r->sr.service_code);
        buf_puts(b, ",\"service_name\":");
        buf_json_str(b, sv != NULL ? sv->name : NULL);
        buf_puts(b, ",\"status\":");
        buf_json_str(b, sr_status_name(r->sr.status));
        buf_puts(b, ",\"requested_datetime\":");
        put_time_iso(b, r->sr.requested_at);
        buf_puts(b, ",\"address\":");
        buf_json_str(b, r->sr.address);
        buf_puts(b, ",\"description\":");
        buf_json_str(b, r->sr.description);
        buf_puts(b, ",\"personal\":{");
        bool first = true;
        for (size_t f = 0; r->read && f < SR_PERSONAL_FIELD_COUNT; f++) {
            const char *val = sr_reporter_get(&r->view.reporter, &SR_PERSONAL_FIELDS[f]);
            if (val != NULL)
                json_field(b, SR_PERSONAL_FIELDS[f].name, val, &first);
        }
        buf_puts(b, "},\"photos\":[");
        bool first_photo = true;
        for (size_t f = 0; f < r->files; f++) {
            const store_blob *bl = &r->blobs[f];
            if (bl->subject_id != c->account_subject)
                continue;
            web_photo p = {bl->id, bl->subject_id};
            char token[WEB_PHOTO_TOKEN_MAX], url[16 + WEB_PHOTO_TOKEN_MAX];
            web_photo_token(c, &p, token);
            snprintf(url, sizeof url, "/photos/%s", token);
            buf_puts(b, first_photo ? "{\"content_type\":" : ",{\"content_type\":");
            first_photo = false;
            buf_json_str(b, bl->content_type);
            buf_puts(b, ",\"bytes\":");
            buf_put_i64(b, bl->size);
            buf_puts(b, ",\"added_at\":");
            put_time_iso(b, bl->created_at);
            /* The photo itself, for this browser session only (web_photo.c). */
            buf_puts(b, ",\"url\":");
            buf_json_str(b, url);
            buf_putc(b, '}');
        }
        buf_puts(b, "]}");
    }
    buf_puts(b, "]}\n");
}

static void row_if(buf_t *b, const char *label, const char *value)
{
    if (value != NULL && *value != '\0')
        html_fmt(b, "<dt>%s</dt><dd>%s</dd>", label, value);
}

/* The label of a personal field as the report form asks it. */
static const char *field_label(web_ctx *c, const char *name)
{
    if (strcmp(name, "first_name") == 0)
        return web_t(c, I18N_("First name"));
    if (strcmp(name, "last_name") == 0)
        return web_t(c, I18N_("Last name"));
    if (strcmp(name, "email") == 0)
        return web_t(c, I18N_("Email"));
    if (strcmp(name, "phone") == 0)
        return web_t(c, I18N_("Phone"));
    if (strcmp(name, "device_id") == 0)
        return web_t(c, I18N_("Device id"));
    if (strcmp(name, "account_id") == 0)
        return web_t(c, I18N_("Account number"));
    return name;
}

static void data_page(data_job *job)
{
    web_ctx *c = job->c;
    buf_t b = BUF_INIT;
    web_page_begin(c, &b, web_t(c, I18N_("Everything we hold about you")));
    html_fmt(&b, "<h1>%s</h1><p class=\"lead\">%s</p>",
             web_t(c, I18N_("Everything we hold about you")),
             web_t(c, I18N_("Your account, the sessions you are signed in with, and your "
                            "requests with the details you gave. Reading this page was "
                            "recorded in the audit log, as every reading of your details is.")));
    html_fmt(&b,
             "<p><a class=\"button\" href=\"/account/data.json\" download>%s</a></p>"
             "<h2>%s</h2><dl class=\"facts\">",
             web_t(c, I18N_("Download it (JSON)")), web_t(c, I18N_("Your account")));
    row_if(&b, web_t(c, I18N_("Email")), job->account.email);
    row_if(&b, web_t(c, I18N_("Your name")), job->account.display_name);
    html_fmt(&b, "<dt>%s</dt><dd>", web_t(c, I18N_("Created")));
    web_put_time(c, &b, job->row.created_at);
    html_fmt(&b, "</dd><dt>%s</dt><dd>%s</dd></dl>", web_t(c, I18N_("Password")),
             web_t(c, I18N_("Kept only as a one-way hash (Argon2id): nobody can read it, not "
                            "even us.")));

    html_fmt(&b, "<h2>%s</h2><ul>", web_t(c, I18N_("Where you are signed in")));
    for (size_t i = 0; i < job->nsessions; i++) {
        const store_web_session *ws = &job->sessions[i];
        html_fmt(&b, "<li>%s ", web_t(c, I18N_("Signed in")));
        web_put_time(c, &b, ws->created_at);
        html_fmt(&b, "; %s ", web_t(c, I18N_("last used")));
        web_put_time(c, &b, ws->last_seen);
        html_fmt(&b, "; %s ", web_t(c, I18N_("ends")));
        web_put_time(c, &b, ws->expires_at);
        if (ws->persistent)
            html_fmt(&b, " (%s)", web_t(c, I18N_("kept signed in")));
        html_fmt(&b, "</li>");
    }
    html_fmt(&b, "</ul><h2>%s</h2>", web_t(c, I18N_("Your requests")));
    size_t shown = 0;
    for (size_t i = 0; i < job->nreqs; i++) {
        const my_request *r = &job->reqs[i];
        if (!r->visible)
            continue;
        shown++;
        char num[24];
        snprintf(num, sizeof num, "%" PRId64, r->id);
        const service *sv = catalog_find_service(c->app->cat, r->sr.service_code);
        html_fmt(&b, "<h3><a href=\"/requests/%u\">%s %s</a></h3><dl class=\"facts\">", num,
                 web_t(c, I18N_("Request")), num);
        html_fmt(&b, "<dt>%s</dt><dd>", web_t(c, I18N_("Service")));
        if (sv != NULL)
            web_catalog_text(c, &b, sv->name);
        else
            html_fmt(&b, "%s", r->sr.service_code);
        html_fmt(&b, "</dd><dt>%s</dt><dd>%s</dd><dt>%s</dt><dd>", web_t(c, I18N_("Status")),
                 web_status_text(c, r->sr.status), web_t(c, I18N_("Date reported")));
        web_put_time(c, &b, r->sr.requested_at);
        html_fmt(&b, "</dd>");
        row_if(&b, web_t(c, I18N_("Location")), r->sr.address);
        row_if(&b, web_t(c, I18N_("Description")), r->sr.description);
        for (size_t f = 0; r->read && f < SR_PERSONAL_FIELD_COUNT; f++)
            row_if(&b, field_label(c, SR_PERSONAL_FIELDS[f].name),
                   sr_reporter_get(&r->view.reporter, &SR_PERSONAL_FIELDS[f]));
        for (size_t f = 0; f < r->files; f++) {
            const store_blob *bl = &r->blobs[f];
            if (bl->subject_id != c->account_subject)
                continue;
            /* Shown to this session through the gatekeeper (web_photo.c),
             * each view an audited read. */
            web_photo p = {bl->id, bl->subject_id};
            char token[WEB_PHOTO_TOKEN_MAX];
            web_photo_token(c, &p, token);
            html_fmt(&b,
                     "<dt>%s</dt><dd><figure class=\"photo\"><img src=\"/photos/%u\" "
                     "alt=\"%s\"></figure></dd>",
                     web_t(c, I18N_("Photo")), token, web_t(c, I18N_("The photo you added")));
        }
        html_fmt(&b, "</dl>");
    }
    if (shown == 0)
        html_fmt(&b, "<p>%s</p>", web_t(c, I18N_("None.")));
    html_fmt(&b, "<p><a href=\"/account\">%s</a></p>", web_t(c, I18N_("Back to my account")));
    web_page_end(c, &b);
    web_send_page(c, 200, &b);
}

static void data_done(void *arg, err_code rc, const err_t *err)
{
    data_job *job = arg;
    web_ctx *c = job->c;
    if (rc != ERR_OK) {
        /* Nothing read is shown unless its reading is on record. */
        log_error("web: my data: %s", err->msg);
        web_error_page(c, 503, web_t(c, I18N_("Something went wrong")),
                       web_t(c, I18N_("We could not read your data just now. Please try again "
                                      "in a minute.")));
        return;
    }
    if (!job->json) {
        data_page(job);
        return;
    }
    buf_t b = BUF_INIT;
    data_json(job, &b);
    web_send_download(c, "application/json; charset=utf-8", "civic311-my-data.json", &b);
}

static void data_get(web_ctx *c, bool json)
{
    if (!signed_in(c))
        return;
    data_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL) {
        busy_page(c);
        return;
    }
    job->c = c;
    job->json = json;
    job->now = c->app->now();
    run_job(c, data_apply, data_done, job);
}

/* ---- removing my details from one request ---- */

typedef struct {
    web_ctx *c;
    int64_t id;
    int64_t now;
} remove_job;

static err_code remove_apply(store_t *s, void *arg, err_t *err)
{
    remove_job *job = arg;
    retention_report rep = {0};
    return account_remove_request(s, job->c->account_id, job->id, job->now, &rep, err);
}

static void not_yours(web_ctx *c)
{
    web_error_page(c, 404, web_t(c, I18N_("Request not found")),
                   web_t(c, I18N_("None of your requests has this number, or your details were "
                                  "removed from it already.")));
}

static void remove_done(void *arg, err_code rc, const err_t *err)
{
    remove_job *job = arg;
    web_ctx *c = job->c;
    if (rc == ERR_OK) {
        char path[64];
        snprintf(path, sizeof path, "/account?removed=%" PRId64, job->id);
        web_redirect(c, path);
    } else if (rc == ERR_NOT_FOUND) {
        not_yours(c);
    } else if (rc == ERR_CONFLICT) {
        web_error_page(c, 409, web_t(c, I18N_("Your details cannot be removed yet")),
                       web_t(c, I18N_("This request is under a legal hold ordered by a court, "
                                      "which pauses every erasure. Your details will be erased "
                                      "on the usual schedule once the hold ends.")));
    } else {
        log_error("web: removing details failed: %s", err->msg);
        busy_page(c);
    }
}

static void remove_post(web_ctx *c, const char *id_text)
{
    static const char *const fields[] = {"csrf", "confirm"};
    kv_list v;
    int64_t id;
    if (!read_form(c, fields, 2, &v)) {
        unreadable_form(c);
        return;
    }
    if (!web_csrf_ok(c, &v)) {
        expired_page(c);
        return;
    }
    if (!signed_in(c))
        return;
    if (!sr_parse_id(id_text, &id)) {
        not_yours(c);
        return;
    }
    char num[24];
    snprintf(num, sizeof num, "%" PRId64, id);
    if (!ticked(&v, "confirm")) {
        /* Said first, done on the second press: there is no undo. */
        buf_t b = BUF_INIT;
        web_page_begin(c, &b, web_t(c, I18N_("Remove your details from this request?")));
        html_fmt(&b,
                 "<h1>%s</h1><p>%s <a href=\"/requests/%u\">%s %s</a>.</p><ul><li>%s</li>"
                 "<li>%s</li><li>%s</li></ul>"
                 "<form method=\"post\" action=\"/account/requests/%u/remove\">",
                 web_t(c, I18N_("Remove your details from this request?")),
                 web_t(c, I18N_("This erases what you gave with")), num, web_t(c, I18N_("request")),
                 num,
                 web_t(c, I18N_("Your name, email, phone and photos on it are erased for good, "
                                "and it is no longer linked to your account.")),
                 web_t(c, I18N_("The request itself stays, without them: the problem is still "
                                "fixed, and its page and history stay public.")),
                 web_t(c, I18N_("We cannot contact you about it any more. The erasure is "
                                "recorded in the audit log.")),
                 num);
        web_csrf_field(c, &b);
        html_fmt(&b,
                 "<input type=\"hidden\" name=\"confirm\" value=\"1\"><p class=\"actions\">"
                 "<button type=\"submit\">%s</button> <a class=\"button secondary\" "
                 "href=\"/account\">%s</a></p></form>",
                 web_t(c, I18N_("Remove my details")), web_t(c, I18N_("Cancel")));
        web_page_end(c, &b);
        web_send_page(c, 200, &b);
        return;
    }
    remove_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL) {
        busy_page(c);
        return;
    }
    job->c = c;
    job->id = id;
    job->now = c->app->now();
    run_job(c, remove_apply, remove_done, job);
}

/* ---- deleting the account ---- */

static void delete_form(web_ctx *c, int status, const char *problem)
{
    buf_t b = BUF_INIT;
    c->bad_field = problem != NULL ? "password" : NULL;
    web_page_begin(c, &b, web_t(c, I18N_("Delete my account")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Delete my account")));
    problem_box(c, &b, problem);
    html_fmt(&b, "<h2>%s</h2><ul><li>%s</li><li>%s</li><li>%s</li></ul>",
             web_t(c, I18N_("What is erased")),
             web_t(c, I18N_("Your account: your email, your name and your password.")),
             web_t(c, I18N_("Your details on every request you reported while signed in: "
                            "name, email, phone, photos.")),
             web_t(c, I18N_("The key they were encrypted with, so no copy of them, not even "
                            "in a backup, can be read afterwards.")));
    html_fmt(&b, "<h2>%s</h2><ul><li>%s</li><li>%s</li><li>%s</li><li>%s</li></ul>",
             web_t(c, I18N_("What is kept, and why")),
             web_t(c, I18N_("The requests themselves, without anything that identifies you: "
                            "they are public records of the city's work (what, where, "
                            "when, what was done).")),
             web_t(c, I18N_("The audit log's entries that your details were collected, read "
                            "and erased, under a number instead of your name: the law asks "
                            "us to be able to show what happened to personal data.")),
             web_t(c, I18N_("Anything under a legal hold ordered by a court waits for the "
                            "hold to end, and is then erased on the usual schedule. While "
                            "your account itself is under a hold, it cannot be deleted.")),
             web_t(c, I18N_("That an account with this number existed, and when it was "
                            "created and deleted, so the audit log's entries still point "
                            "somewhere: nothing that says who you are.")));
    html_fmt(&b, "<p><a href=\"/account/data\">%s</a></p>",
             web_t(c, I18N_("See everything we hold about you first")));
    html_fmt(&b, "<form method=\"post\" action=\"/account/delete\" novalidate>");
    web_csrf_field(c, &b);
    web_text_input(c, &b, "password", "password", web_t(c, I18N_("Your password")),
                   web_t(c, I18N_("To make sure it is you. This cannot be undone.")), "password",
                   "current-password", NULL, true, 0);
    html_fmt(&b,
             "<p class=\"actions\"><button type=\"submit\">%s</button> <a class=\"button "
             "secondary\" href=\"/account\">%s</a></p></form>",
             web_t(c, I18N_("Delete my account")), web_t(c, I18N_("Cancel")));
    web_page_end(c, &b);
    web_send_page(c, status, &b);
}

typedef struct {
    web_ctx *c;
    bool password_ok;
    char rehash[ACCOUNT_HASH_MAX];
    int64_t now;
    bool accepted;
    account_deletion done;
} delete_job;

static err_code delete_apply(store_t *s, void *arg, err_t *err)
{
    delete_job *job = arg;
    /* The password counts as a sign-in attempt: a borrowed session
     * cannot guess it here more freely than on the sign-in page. No
     * rehash is stored: the account is going. */
    err_code rc = account_attempt(s, job->c->account_id, job->password_ok, NULL, job->now,
                                  &job->accepted, err);
    if (rc == ERR_OK && job->accepted)
        rc = account_delete(s, job->c->account_id, job->now, &job->done, err);
    return rc;
}

static void delete_done(void *arg, err_code rc, const err_t *err)
{
    delete_job *job = arg;
    web_ctx *c = job->c;
    if (rc == ERR_CONFLICT) {
        web_error_page(c, 409, web_t(c, I18N_("Your account cannot be deleted yet")),
                       web_t(c, I18N_("Your account is under a legal hold ordered by a court, "
                                      "which pauses every erasure. It can be deleted once the "
                                      "hold ends. Nothing was changed.")));
        return;
    }
    if (rc != ERR_OK) {
        log_error("web: deleting an account failed: %s", err->msg);
        busy_page(c);
        return;
    }
    if (!job->accepted) {
        delete_form(c, 400,
                    web_t(c, I18N_("The password is not right. After 5 tries that fail, the "
                                   "account is paused for 15 minutes.")));
        return;
    }
    /* Signed out: a new anonymous session. */
    char sid[WEB_SID_LEN + 1];
    web_new_sid(sid);
    c->account_id = c->account_subject = 0;
    web_session_switch(c, sid, false, 0);
    buf_t b = BUF_INIT;
    web_page_begin(c, &b, web_t(c, I18N_("Your account was deleted")));
    html_fmt(&b,
             "<div class=\"notice success\" role=\"status\"><h1>%s</h1><p>%s</p></div>"
             "<dl class=\"facts\"><dt>%s</dt><dd>%L</dd>",
             web_t(c, I18N_("Your account was deleted")),
             web_t(c, I18N_("Your email, name and password are gone, and you are signed out.")),
             web_t(c, I18N_("Requests whose details were erased")), job->done.requests);
    if (job->done.held > 0)
        html_fmt(&b, "<dt>%s</dt><dd>%L</dd>",
                 web_t(c, I18N_("Requests kept under a legal hold, erased after it")),
                 job->done.held);
    html_fmt(&b, "</dl><p><a href=\"/\">%s</a></p>", web_t(c, I18N_("Go to the home page")));
    web_page_end(c, &b);
    web_send_page(c, 200, &b);
}

static void delete_post(web_ctx *c)
{
    static const char *const fields[] = {"csrf", "password"};
    kv_list v;
    if (!read_form(c, fields, 2, &v)) {
        unreadable_form(c);
        return;
    }
    const char *pw = kv_get(&v, "password");
    if (!web_csrf_ok(c, &v)) {
        forget(pw);
        expired_page(c);
        return;
    }
    if (!signed_in(c)) {
        forget(pw);
        return;
    }
    if (pw == NULL || *pw == '\0') {
        delete_form(c, 400, web_t(c, I18N_("Enter your password.")));
        return;
    }
    delete_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    int64_t found = 0;
    err_t err;
    err_code rc = job != NULL ? check_password(c, NULL, c->account_id, pw, &found,
                                               &job->password_ok, job->rehash, &err)
                              : err_set(&err, ERR_NOMEM, "out of memory");
    forget(pw);
    if (rc != ERR_OK) {
        log_error("web: deleting an account failed: %s", err.msg);
        busy_page(c);
        return;
    }
    job->c = c;
    job->now = c->app->now();
    run_job(c, delete_apply, delete_done, job);
}

/* ---- routing ---- */

/* "/account/requests/{id}/remove": the id's text, or NULL. */
static const char *remove_path_id(web_ctx *c, const char *path)
{
    static const char prefix[] = "/account/requests/", suffix[] = "/remove";
    size_t np = sizeof prefix - 1, ns = sizeof suffix - 1, n = strlen(path);
    if (n <= np + ns || strncmp(path, prefix, np) != 0 || strcmp(path + n - ns, suffix) != 0)
        return NULL;
    return pool_strndup(http_pool(c->req), path + np, n - np - ns);
}

void web_account_route(web_ctx *c, const char *path, bool get, bool post)
{
    const char *id_text = remove_path_id(c, path);
    bool known = strcmp(path, "/account") == 0 || strcmp(path, "/account/register") == 0 ||
                 strcmp(path, "/account/signin") == 0 || strcmp(path, "/account/signout") == 0 ||
                 strcmp(path, "/account/data") == 0 || strcmp(path, "/account/data.json") == 0 ||
                 strcmp(path, "/account/delete") == 0 || id_text != NULL;
    if (!known) {
        http_set_route(c->req, "not found");
        web_error_page(c, 404, web_t(c, I18N_("Page not found")),
                       web_t(c, I18N_("There is no page at this address.")));
        return;
    }
    bool form = strcmp(path, "/account/register") == 0 || strcmp(path, "/account/signin") == 0 ||
                strcmp(path, "/account/delete") == 0;
    bool post_only = strcmp(path, "/account/signout") == 0 || id_text != NULL;
    if (post && (form || post_only)) {
        if (strcmp(path, "/account/register") == 0) {
            http_set_route(c->req, "POST /account/register");
            register_post(c);
        } else if (strcmp(path, "/account/signin") == 0) {
            http_set_route(c->req, "POST /account/signin");
            signin_post(c);
        } else if (strcmp(path, "/account/delete") == 0) {
            http_set_route(c->req, "POST /account/delete");
            delete_post(c);
        } else if (id_text != NULL) {
            http_set_route(c->req, "POST /account/requests/{id}/remove");
            remove_post(c, id_text);
        } else {
            http_set_route(c->req, "POST /account/signout");
            signout_post(c);
        }
        return;
    }
    if (get && !post_only) {
        if (strcmp(path, "/account/register") == 0) {
            http_set_route(c->req, "GET /account/register");
            if (c->account_id > 0)
                web_redirect(c, "/account");
            else
                register_form(c, 200, NULL, NULL, NULL);
        } else if (strcmp(path, "/account/signin") == 0) {
            http_set_route(c->req, "GET /account/signin");
            if (c->account_id > 0)
                web_redirect(c, "/account");
            else
                signin_form(c, 200, NULL, NULL);
        } else if (strcmp(path, "/account/delete") == 0) {
            http_set_route(c->req, "GET /account/delete");
            if (signed_in(c))
                delete_form(c, 200, NULL);
        } else if (strcmp(path, "/account/data") == 0) {
            http_set_route(c->req, "GET /account/data");
            data_get(c, false);
        } else if (strcmp(path, "/account/data.json") == 0) {
            http_set_route(c->req, "GET /account/data.json");
            data_get(c, true);
        } else {
            http_set_route(c->req, "GET /account");
            account_page(c);
        }
        return;
    }
    http_set_route(c->req, "web method not allowed");
    http_add_header(c->req, "Allow", post_only ? "POST" : form ? "GET, HEAD, POST" : "GET, HEAD");
    web_error_page(c, 405, web_t(c, I18N_("This action is not possible here")),
                   web_t(c, I18N_("Use the links and buttons on the page.")));
}
