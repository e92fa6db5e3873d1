/*
 * console_admin.c - the administrator's staff page (P3, W3): every member
 * (login, role, agencies, state), adding one (its TOTP secret shown once,
 * on the answer to the form, never again), disabling and enabling. The
 * rules and the audit entries are privacy/staff.c's; the actor is the
 * signed-in administrator, "staff:N".
 *
 * The initial password is typed by the administrator and handed over
 * out of band; it is hashed on this thread (Argon2id) and never shown
 * back or logged.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/account.h"
#include "util/log.h"
#include "web/console.h"

static const char *const ADD_FIELDS[] = {"csrf", "login", "role", "agencies", "password"};

static const gate_role STAFF_ROLES[] = {GATE_AGENT,           GATE_AGENCY_STAFF,
                                        GATE_SUPERVISOR,      GATE_PRIVACY_OFFICER,
                                        GATE_RECORDS_OFFICER, GATE_ADMIN};

static void staff_table(web_ctx *c, buf_t *b)
{
    err_t err;
    store_t *s = web_reader(c, &err);
    store_staff *m = NULL;
    size_t n = 0;
    err_code rc = s != NULL ? store_staff_list(s, http_pool(c->req), &m, &n, &err) : err.code;
    if (rc != ERR_OK) {
        log_error("console: the staff list could not be read: %s", err.msg);
        html_fmt(b, "<p class=\"error\">%s</p>",
                 web_t(c, I18N_("The list could not be read. Please try again in a minute.")));
        return;
    }
    int64_t now = c->app->now();
    html_fmt(b,
             /* A region of its own, focusable: at 320px it scrolls inside its
              * box, and a keyboard must be able to scroll it too. */
             "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" "
             "aria-labelledby=\"staff-caption\"><table><caption id=\"staff-caption\">%s"
             "</caption><thead><tr>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr></thead><tbody>",
             web_t(c, I18N_("Members of staff")), web_t(c, I18N_("Login")),
             web_t(c, I18N_("Role")), web_t(c, I18N_("Agencies")), web_t(c, I18N_("State")),
             web_t(c, I18N_("Change")));
    for (size_t i = 0; i < n; i++) {
        gate_role r = GATE_RESIDENT;
        const char **codes = NULL;
        size_t nc = 0;
        if (store_staff_agencies(s, m[i].id, http_pool(c->req), &codes, &nc, &err) != ERR_OK)
            nc = 0;
        html_fmt(b, "<tr><th scope=\"row\">%s</th><td>%s</td><td>", m[i].login,
                 gate_role_parse(m[i].role, &r) ? console_role_text(c, r) : m[i].role);
        for (size_t a = 0; a < nc; a++)
            html_fmt(b, "%R%s", a ? ", " : "", codes[a]);
        bool off = m[i].disabled_at != 0;
        html_fmt(b, "</td><td>%s</td><td>",
                 off                           ? web_t(c, I18N_("Disabled"))
                 : staff_locked(&m[i], now) ? web_t(c, I18N_("Paused after failed sign-ins"))
                                            : web_t(c, I18N_("Active")));
        if (m[i].id != c->staff->who.id) {
            /* A number and one of two constants: nothing to escape. */
            buf_printf(b, "<form method=\"post\" action=\"/staff/admin/%" PRId64 "/%s\">",
                       m[i].id, off ? "enable" : "disable");
            web_csrf_field(c, b);
            html_fmt(b, "<button type=\"submit\" class=\"secondary\">%s <span class=\"sr\">%s"
                        "</span></button></form>",
                     off ? web_t(c, I18N_("Enable")) : web_t(c, I18N_("Disable")), m[i].login);
        }
        html_fmt(b, "</td></tr>");
    }
    html_fmt(b, "</tbody></table></div>");
}

static void add_form(web_ctx *c, buf_t *b, const kv_list *v, const char *problem)
{
    html_fmt(b, "<h2 id=\"add\">%s</h2>", web_t(c, I18N_("Add a member of staff")));
    if (problem != NULL)
        html_fmt(b,
                 "<div class=\"notice error\" role=\"alert\" id=\"problem\"><h3>%s</h3><p>%s</p>"
                 "</div>",
                 web_t(c, I18N_("Please check the form")), problem);
    html_fmt(b, "<form method=\"post\" action=\"/staff/admin/add\" novalidate>");
    web_csrf_field(c, b);
    web_text_input(c, b, "login", "login", web_t(c, I18N_("Login")),
                   web_t(c, I18N_("A work handle such as jdoe: 2 to 32 lower-case letters, "
                                  "digits, dots, dashes or underscores, starting with a "
                                  "letter. Not an email.")),
                   "text", "off", v, true, STAFF_LOGIN_MAX);
    html_fmt(b, "<div class=\"field\"><label for=\"role\">%s", web_t(c, I18N_("Role")));
    web_required_mark(c, b, true);
    html_fmt(b, "</label><select id=\"role\" name=\"role\"");
    web_field_aria(c, b, "role", NULL);
    html_fmt(b, ">");
    const char *chosen = v != NULL ? kv_get(v, "role") : NULL;
    for (size_t i = 0; i < sizeof STAFF_ROLES / sizeof STAFF_ROLES[0]; i++) {
        const char *name = gate_role_name(STAFF_ROLES[i]);
        html_fmt(b, "<option value=\"%s\"%R>%s</option>", name,
                 chosen != NULL && strcmp(chosen, name) == 0 ? " selected" : "",
                 console_role_text(c, STAFF_ROLES[i]));
    }
    html_fmt(b, "</select></div>");
    web_text_input(c, b, "agencies", "agencies", web_t(c, I18N_("Agencies")),
                   web_t(c, I18N_("For agency staff and supervisors only: their agencies' "
                                  "codes, separated by commas (DOT, DSNY).")),
                   "text", "off", v, false, 200);
    web_text_input(c, b, "password", "password", web_t(c, I18N_("First password")),
                   web_t(c, I18N_("At least 10 characters. Give it to them in person; they "
                                  "sign in with it and the code of their app.")),
                   "password", "new-password", NULL, true, 0);
    html_fmt(b, "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>",
             web_t(c, I18N_("Add")));
}

static void admin_page(web_ctx *c, int status, const kv_list *v, const char *problem)
{
    buf_t b = BUF_INIT;
    console_page_begin(c, &b, web_t(c, I18N_("Staff accounts")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Staff accounts")));
    if (kv_get(&c->query, "done") != NULL)
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s</p></div>",
                 web_t(c, I18N_("The change is saved.")));
    staff_table(c, &b);
    add_form(c, &b, v, problem);
    console_page_end(c, &b);
    console_send(c, status, &b);
}

void console_admin_get(web_ctx *c, const char *rest)
{
    (void)rest;
    admin_page(c, 200, NULL, NULL);
}

/* ---- adding ---- */

typedef struct {
    web_ctx *c;
    const char *login;
    gate_role role;
    const char *agencies[STAFF_AGENCIES_MAX];
    size_t nagencies;
    char hash[ACCOUNT_HASH_MAX];
    staff_secret secret;
    const char *actor;
    int64_t now;
    int64_t id;
    const kv_list *v;
} add_job;

static err_code add_apply(store_t *s, void *arg, err_t *err)
{
    add_job *j = arg;
    return staff_create(s, j->c->app->keys, j->login, j->role, j->agencies, j->nagencies, j->hash,
                        &j->secret, j->actor, j->now, &j->id, err);
}

static void added_page(add_job *j)
{
    web_ctx *c = j->c;
    buf_t b = BUF_INIT, uri = BUF_INIT;
    staff_enrol_uri(&uri, j->login, &j->secret);
    console_page_begin(c, &b, web_t(c, I18N_("Member added")));
    html_fmt(&b,
             "<h1>%s</h1><div class=\"notice success\" role=\"status\"><p>%s <strong>%s</strong> "
             "(%s)</p></div><h2>%s</h2><p>%s</p>"
             "<dl><dt>%s</dt><dd class=\"target\" id=\"totp-secret\">%s</dd>"
             "<dt>%s</dt><dd class=\"target\" id=\"totp-uri\">%s</dd></dl>"
             "<p>%s</p><p><a href=\"/staff/admin\">%s</a></p>",
             web_t(c, I18N_("Member added")), web_t(c, I18N_("Added:")), j->login,
             console_role_text(c, j->role), web_t(c, I18N_("Their authenticator app")),
             web_t(c, I18N_("They enter this secret in an authenticator app (or you make a QR "
                            "code of the address below for it). It is shown only now: it is "
                            "kept sealed and cannot be shown again; a lost phone needs a new "
                            "one (civic311 staff reset-totp).")),
             web_t(c, I18N_("Secret")), j->secret.b32, web_t(c, I18N_("Enrolment address")),
             buf_failed(&uri) ? "" : uri.data,
             web_t(c, I18N_("Leave this page once it is entered: it is not kept by the "
                            "browser.")),
             web_t(c, I18N_("Back to staff accounts")));
    if (uri.data != NULL)
        sodium_memzero(uri.data, uri.len);
    buf_free(&uri);
    console_page_end(c, &b);
    console_send(c, 200, &b);
    if (b.data != NULL)
        sodium_memzero(b.data, b.cap);
    buf_free(&b);
}

static void add_done(void *arg, err_code rc, const err_t *err)
{
    add_job *j = arg;
    web_ctx *c = j->c;
    sodium_memzero(j->hash, sizeof j->hash);
    if (rc == ERR_CONFLICT) {
        c->bad_field = "login";
        admin_page(c, 409, j->v, web_t(c, I18N_("A member of staff has this login already.")));
    } else if (rc != ERR_OK) {
        log_error("console: adding a member of staff failed: %s", err->msg);
        console_busy(c);
    } else {
        added_page(j);
    }
    staff_secret_clear(&j->secret);
}

/* The agencies field ("DOT, DSNY") into j->agencies (from the pool). */
static bool parse_agencies(web_ctx *c, const char *text, add_job *j)
{
    j->nagencies = 0;
    if (text == NULL)
        return true;
    char *copy = pool_strdup(http_pool(c->req), text);
    if (copy == NULL)
        return false;
    char *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
        if (j->nagencies == STAFF_AGENCIES_MAX || !staff_agency_ok(t))
            return false;
        j->agencies[j->nagencies++] = t;
    }
    return true;
}

void console_admin_add_post(web_ctx *c, const char *rest)
{
    (void)rest;
    kv_list *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
    if (v == NULL) {
        console_busy(c);
        return;
    }
    if (!console_read_form(c, ADD_FIELDS, sizeof ADD_FIELDS / sizeof ADD_FIELDS[0], v)) {
        console_unreadable(c);
        return;
    }
    char *pw = (char *)kv_get(v, "password");
    if (!web_csrf_ok(c, v)) {
        if (pw != NULL)
            sodium_memzero(pw, strlen(pw));
        console_expired(c);
        return;
    }
    add_job *j = pool_calloc(http_pool(c->req), 1, sizeof *j);
    if (j == NULL) {
        console_busy(c);
        return;
    }
    j->login = kv_get(v, "login");
    const char *problem = NULL;
    if (!staff_login_ok(j->login)) {
        c->bad_field = "login";
        problem = web_t(c, I18N_("The login must be 2 to 32 lower-case letters, digits, dots, "
                                 "dashes or underscores, starting with a letter."));
    } else if (!gate_role_parse(kv_get(v, "role"), &j->role) || !staff_role_ok(j->role)) {
        c->bad_field = "role";
        problem = web_t(c, I18N_("Choose one of the roles."));
    } else if (!parse_agencies(c, kv_get(v, "agencies"), j) ||
               staff_role_has_agencies(j->role) != (j->nagencies > 0)) {
        c->bad_field = "agencies";
        problem = web_t(c, I18N_("Agency staff and supervisors need their agencies' codes "
                                 "(letters, digits, '-' or '_', separated by commas); the other "
                                 "roles have none."));
    } else if (account_check_password(pw, NULL) != ACCOUNT_INPUT_OK) {
        c->bad_field = "password";
        problem = web_t(c, I18N_("The first password must have at least 10 characters."));
    }
    err_t err;
    if (problem == NULL && account_password_hash(pw, j->hash, &err) != ERR_OK) {
        log_error("console: a password could not be hashed: %s", err.msg);
        sodium_memzero(pw, strlen(pw));
        console_busy(c);
        return;
    }
    if (pw != NULL)
        sodium_memzero(pw, strlen(pw));
    if (problem != NULL) {
        admin_page(c, 400, v, problem);
        return;
    }
    j->c = c;
    j->v = v;
    j->actor = console_actor(c);
    j->now = c->app->now();
    staff_secret_new(&j->secret);
    console_run_job(c, add_apply, add_done, j);
}

/* ---- disabling, enabling ---- */

typedef struct {
    web_ctx *c;
    int64_t id;
    bool disable;
    const char *actor;
    int64_t now;
} state_job;

static err_code state_apply(store_t *s, void *arg, err_t *err)
{
    state_job *j = arg;
    return staff_set_disabled(s, j->id, j->disable, j->actor, j->now, err);
}

static void state_done(void *arg, err_code rc, const err_t *err)
{
    state_job *j = arg;
    web_ctx *c = j->c;
    if (rc == ERR_NOT_FOUND) {
        console_error(c, 404, web_t(c, I18N_("Page not found")),
                      web_t(c, I18N_("There is no member of staff with this number.")));
    } else if (rc != ERR_OK) {
        log_error("console: a member's state could not be changed: %s", err->msg);
        console_busy(c);
    } else {
        http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
        web_redirect(c, "/staff/admin?done=1");
    }
}

void console_admin_state_post(web_ctx *c, const char *rest)
{
    static const char *const fields[] = {"csrf"};
    int64_t id = 0;
    char what[8] = "";
    int used = 0;
    /* "{id}/disable" or "{id}/enable", nothing else. */
    bool ok = rest[0] >= '1' && rest[0] <= '9' &&
              sscanf(rest, "%" SCNd64 "/%7[a-z]%n", &id, what, &used) == 2 &&
              rest[used] == '\0' && (strcmp(what, "disable") == 0 || strcmp(what, "enable") == 0);
    if (!ok) {
        console_error(c, 404, web_t(c, I18N_("Page not found")),
                      web_t(c, I18N_("There is no page at this address.")));
        return;
    }
    kv_list v;
    if (!console_read_form(c, fields, 1, &v)) {
        console_unreadable(c);
        return;
    }
    if (!web_csrf_ok(c, &v)) {
        console_expired(c);
        return;
    }
    if (id == c->staff->who.id) {
        console_error(c, 409, web_t(c, I18N_("Not on your own account")),
                      web_t(c, I18N_("An administrator cannot disable their own account: ask "
                                     "another administrator.")));
        return;
    }
    state_job *j = pool_calloc(http_pool(c->req), 1, sizeof *j);
    if (j == NULL) {
        console_busy(c);
        return;
    }
    j->c = c;
    j->id = id;
    j->disable = strcmp(what, "disable") == 0;
    j->actor = console_actor(c);
    j->now = c->app->now();
    console_run_job(c, state_apply, state_done, j);
}
