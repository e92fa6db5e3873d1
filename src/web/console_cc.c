/*
 * console_cc.c - the Contact Center console (I3, I5, P6 recordings), for
 * agents and supervisors:
 *
 *   GET  /staff/cc                           find a caller, choose a service
 *   POST /staff/cc                           find the caller's earlier requests by phone
 *   GET  /staff/cc/file/{code}, POST         file a request for the caller
 *   GET  /staff/cc/requests/{id}             the request, its recordings, an upload
 *   POST /staff/cc/requests/{id}/recording   attach the call recording
 *   GET  /staff/cc/recordings/{id}           the recording, through the gatekeeper
 *
 * Finding is the gatekeeper's blind-index lookup (gate_find_requests):
 * the phone travels only in a POST body, is normalised as intake's
 * blind index is (seal_normalize_phone), and is never echoed, logged or
 * put in a URL; the lookup writes one LOOKUP entry naming the member.
 *
 * Filing asks the website's questions (web_report_question) and goes
 * through the same intake, with channel phone; it is one step (the agent
 * reads the answers back to the caller on the phone) but the 911 notice
 * interrupts it exactly as on the website: a report that reads like an
 * emergency is not filed until the agent confirms it is not one. The
 * caller's consent to be contacted is a required yes or no, written to
 * the audit log with the request: "no" keeps no contact details at all
 * (the form refuses them), "yes" with an email makes the caller a
 * follower (notify_follow, W6).
 *
 * A recording is sniffed from its bytes (MP3, WAV, Ogg, WebM), sealed by
 * the vault under a subject of its own (kind "caller") as DC_RECORDING
 * on the request, and erased by the retention engine 14 days after
 * upload; the request page counts the days down from the configured
 * schedule. It is only ever read back through the gatekeeper, as the
 * signed-in member, each play an audited read sent with no-store.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/emergency.h"
#include "core/intake.h"
#include "notify/notify.h"
#include "open311/o311_params.h"
#include "privacy/audit.h"
#include "privacy/gate.h"
#include "privacy/seal.h"
#include "privacy/vault.h"
#include "util/log.h"
#include "util/multipart.h"
#include "web/console.h"

/* Earlier requests shown for one caller. */
#define CC_FIND_MAX 50
/* A call recording's largest size (also bounded by max_upload_bytes). */
#define CC_RECORDING_MAX (10u << 20)

/* ---- shared bits ---- */

/* A positive decimal id (no sign, no leading zero), the whole of s up to
 * end (NULL: the end of s). */
static bool cc_parse_id(const char *s, const char *end, int64_t *out)
{
    if (end == NULL)
        end = s + strlen(s);
    if (s >= end || end - s > 18 || *s == '0')
        return false;
    int64_t v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

static void cc_problem(web_ctx *c, buf_t *b, const char *problem)
{
    if (problem != NULL)
        html_fmt(b,
                 "<div class=\"notice error\" role=\"alert\" id=\"problem\"><h2>%s</h2><p>%s</p>"
                 "</div>",
                 web_t(c, I18N_("Please check the form")), problem);
}

static void cc_not_found(web_ctx *c)
{
    console_error(c, 404, web_t(c, I18N_("Request not found")),
                  web_t(c, I18N_("There is no request with this number.")));
}

/* ---- the Contact Center's page: find, or choose a service ---- */

typedef struct {
    int64_t id;
    const char *service_code;
    sr_status status;
    int64_t requested_at;
} cc_found;

static void cc_home(web_ctx *c, int status, const char *problem, const cc_found *found,
                    size_t nfound, bool searched)
{
    buf_t b = BUF_INIT;
    c->bad_field = problem != NULL ? "phone" : NULL;
    console_page_begin(c, &b, web_t(c, I18N_("Contact Center")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Contact Center")));
    cc_problem(c, &b, problem);
    html_fmt(&b, "<h2>%s</h2><form method=\"post\" action=\"/staff/cc\" novalidate>",
             web_t(c, I18N_("Find the caller's earlier requests")));
    web_csrf_field(c, &b);
    /* Never filled in again: the number is not echoed. */
    web_input_field(c, &b, "phone", "phone", web_t(c, I18N_("Caller's phone number")),
                    web_t(c, I18N_("The lookup is recorded in the audit log under your name.")),
                    false, "tel", " autocomplete=\"off\"", NULL, true, 32);
    html_fmt(&b, "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>",
             web_t(c, I18N_("Find requests")));
    if (searched) {
        html_fmt(&b, "<section aria-labelledby=\"found\"><h2 id=\"found\">%s</h2>",
                 web_t(c, I18N_("Earlier requests of this caller")));
        if (nfound == 0) {
            html_fmt(&b, "<p role=\"status\">%s</p>",
                     web_t(c, I18N_("No request was filed with this phone number.")));
        } else {
            html_fmt(&b,
                     "<p role=\"status\">%s: %L</p><div class=\"table-wrap\"><table><thead><tr>"
                     "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                     "<th scope=\"col\">%s</th></tr></thead><tbody>",
                     web_t(c, I18N_("Requests found")), (int64_t)nfound,
                     web_t(c, I18N_("Request")), web_t(c, I18N_("Service")),
                     web_t(c, I18N_("Status")), web_t(c, I18N_("Filed")));
            for (size_t i = 0; i < nfound; i++) {
                const service *sv = catalog_find_service(c->app->cat, found[i].service_code);
                html_fmt(&b, "<tr><td><a href=\"/staff/cc/requests/%L\">%L</a></td><td>",
                         found[i].id, found[i].id);
                if (sv != NULL)
                    web_catalog_text(c, &b, sv->name);
                else
                    html_fmt(&b, "%s", found[i].service_code);
                html_fmt(&b, "</td><td>%s</td><td>", web_status_text(c, (int)found[i].status));
                web_put_time(c, &b, found[i].requested_at);
                html_fmt(&b, "</td></tr>");
            }
            html_fmt(&b, "</tbody></table></div>");
        }
        html_fmt(&b, "</section>");
    }
    html_fmt(&b, "<h2>%s</h2><ul class=\"services\">",
             web_t(c, I18N_("File a new request for the caller")));
    const catalog *cat = c->app->cat;
    for (size_t i = 0; i < cat->nservices; i++) {
        html_fmt(&b, "<li><a href=\"/staff/cc/file/%u\">", cat->services[i].code);
        web_catalog_text(c, &b, cat->services[i].name);
        html_fmt(&b, "</a></li>");
    }
    html_fmt(&b, "</ul>");
    console_page_end(c, &b);
    console_send(c, status, &b);
}

void console_cc_home_get(web_ctx *c, const char *rest)
{
    (void)rest;
    cc_home(c, 200, NULL, NULL, 0, false);
}

typedef struct {
    web_ctx *c;
    char actor[STAFF_ACTOR_MAX];
    gate_actor who;
    const char *phone;
    cc_found *found;
    size_t nfound;
} cc_find_job;

/* On the writer: the lookup (its LOOKUP entry in this transaction), then
 * the public side of each request found. */
static err_code cc_find_apply(store_t *s, void *arg, err_t *err)
{
    cc_find_job *job = arg;
    web_ctx *c = job->c;
    pool_t *pool = http_pool(c->req);
    int64_t *ids = NULL;
    size_t n = 0;
    err_code rc = gate_find_requests(s, c->app->keys, &job->who, GATE_PURPOSE_ADDRESS_REQUEST,
                                     "phone", job->phone, CC_FIND_MAX, c->app->now(), pool, &ids,
                                     &n, err);
    if (rc != ERR_OK)
        return rc;
    job->found = n > 0 ? pool_calloc(pool, n, sizeof *job->found) : NULL;
    if (n > 0 && job->found == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        service_request sr;
        err_code got = store_request_get(s, ids[i], pool, &sr, err);
        if (got == ERR_NOT_FOUND) /* pending (batch): no number yet */
            continue;
        if (got != ERR_OK)
            return got;
        job->found[job->nfound++] =
            (cc_found){sr.id, sr.service_code, sr.status, sr.requested_at};
    }
    return ERR_OK;
}

static void cc_find_done(void *arg, err_code rc, const err_t *err)
{
    cc_find_job *job = arg;
    web_ctx *c = job->c;
    if (rc == ERR_FORBIDDEN) {
        console_error(c, 403, web_t(c, I18N_("Not for your role")),
                      web_t(c, I18N_("Your role does not give access to this page. If your work "
                                     "needs it, ask an administrator.")));
        return;
    }
    if (rc != ERR_OK) {
        log_error("console: a caller lookup failed: %s", err->msg);
        console_busy(c);
        return;
    }
    cc_home(c, 200, NULL, job->found, job->nfound, true);
}

void console_cc_find_post(web_ctx *c, const char *rest)
{
    (void)rest;
    static const char *const fields[] = {"csrf", "phone"};
    kv_list v;
    if (!console_read_form(c, fields, 2, &v)) {
        console_unreadable(c);
        return;
    }
    if (!web_csrf_ok(c, &v)) {
        console_expired(c);
        return;
    }
    const char *phone = kv_get(&v, "phone");
    char norm[64];
    if (phone == NULL || *phone == '\0' || strlen(phone) > 64 ||
        !seal_normalize_phone(phone, norm, sizeof norm)) {
        cc_home(c, 400, web_t(c, I18N_("Enter the caller's phone number, with its digits.")),
                NULL, 0, false);
        return;
    }
    cc_find_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL) {
        console_busy(c);
        return;
    }
    job->c = c;
    job->phone = phone;
    staff_gate_actor(&c->staff->who, job->actor, &job->who);
    console_run_job(c, cc_find_apply, cc_find_done, job);
}

/* ---- filing for the caller ---- */

/* The service a /staff/cc/file/{code} path names, or NULL after a 404. */
static const service *cc_service(web_ctx *c, const char *raw)
{
    char *code = pool_strdup(http_pool(c->req), raw);
    const service *sv = NULL;
    if (code != NULL && strlen(code) <= 200 && url_unescape_segment(code))
        sv = catalog_find_service(c->app->cat, code);
    if (sv == NULL)
        console_error(c, 404, web_t(c, I18N_("Service not found")),
                      web_t(c, I18N_("There is no such service. Choose one from the Contact "
                                     "Center page.")));
    return sv;
}

static void cc_consent_fieldset(web_ctx *c, buf_t *b, const kv_list *v)
{
    const char *now = v != NULL ? kv_get(v, "consent") : NULL;
    html_fmt(b, "<fieldset class=\"field\"><legend>%s", web_t(c, I18N_("May the city contact the caller about this request?")));
    web_required_mark(c, b, true);
    html_fmt(b, "</legend><p class=\"hint\" id=\"consent-hint\">%s</p>",
             web_t(c, I18N_("Ask the caller. With no, no contact details are kept. With yes "
                            "and an email address, the caller is emailed when the request "
                            "changes.")));
    static const char *const keys[] = {"yes", "no"};
    const char *labels[] = {web_t(c, I18N_("Yes, the caller agrees")),
                            web_t(c, I18N_("No, the caller does not agree"))};
    for (int i = 0; i < 2; i++) {
        html_fmt(b,
                 "<div class=\"choice\"><input type=\"radio\" id=\"consent-%R\" name=\"consent\" "
                 "value=\"%R\"%R%R",
                 keys[i], keys[i], now != NULL && strcmp(now, keys[i]) == 0 ? " checked" : "",
                 i == 0 ? " required" : "");
        web_field_aria(c, b, "consent", "consent-hint");
        html_fmt(b, "><label for=\"consent-%R\">%s</label></div>", keys[i], labels[i]);
    }
    html_fmt(b, "</fieldset>");
}

static void cc_file_form(web_ctx *c, int status, const service *sv, const kv_list *v,
                         const char *problem, const char *bad_field, bool emergency)
{
    buf_t b = BUF_INIT;
    c->bad_field = bad_field;
    console_page_begin(c, &b, web_t(c, I18N_("File a request for the caller")));
    bool warn = emergency || emergency_service(sv);
    if (warn) {
        web_emergency_notice(c, &b);
        html_fmt(&b, "<p class=\"notice emergency\">%s</p>",
                 web_t(c, I18N_("On a call: transfer the caller to 911 now. File this request "
                                "only if nobody is in danger.")));
    }
    html_fmt(&b, "<h1>%s: ", web_t(c, I18N_("File for the caller")));
    web_catalog_text(c, &b, sv->name);
    html_fmt(&b, "</h1>");
    cc_problem(c, &b, problem);
    html_fmt(&b, "<form method=\"post\" action=\"/staff/cc/file/%u\" class=\"report\" novalidate>",
             sv->code);
    web_csrf_field(c, &b);
    web_location_fieldset(c, &b, sv, v);
    bool any = false;
    for (size_t i = 0; i < sv->nattrs; i++) {
        if (!any)
            html_fmt(&b, "<fieldset><legend>%s</legend>", web_t(c, I18N_("About the problem")));
        any = true;
        web_report_question(c, &b, &sv->attrs[i], v);
    }
    if (any)
        html_fmt(&b, "</fieldset>");
    html_fmt(&b,
             "<fieldset><legend>%s</legend><div class=\"field\"><label for=\"description\">%s"
             "</label><p class=\"hint\" id=\"description-hint\">%s</p>"
             "<textarea id=\"description\" name=\"description\" rows=\"5\" maxlength=\"4000\"",
             web_t(c, I18N_("Describe it")), web_t(c, I18N_("Description")),
             web_t(c, I18N_("What the caller sees. This text is public: do not write names or "
                            "phone numbers in it.")));
    web_field_aria(c, &b, "description", "description-hint");
    html_fmt(&b, ">%s</textarea></div></fieldset>", v ? kv_get(v, "description") : NULL);

    html_fmt(&b, "<fieldset><legend>%s</legend>", web_t(c, I18N_("The caller")));
    cc_consent_fieldset(c, &b, v);
    web_text_input(c, &b, "first_name", "first_name", web_t(c, I18N_("First name")), NULL, "text",
                   "off", v, false, 200);
    web_text_input(c, &b, "last_name", "last_name", web_t(c, I18N_("Last name")), NULL, "text",
                   "off", v, false, 200);
    web_text_input(c, &b, "email", "email", web_t(c, I18N_("Email")), NULL, "email", "off", v,
                   false, 254);
    web_text_input(c, &b, "phone", "phone", web_t(c, I18N_("Phone")), NULL, "tel", "off", v,
                   false, 32);
    html_fmt(&b, "</fieldset>");
    if (warn) {
        const char *ticked = v ? kv_get(v, "not_emergency") : NULL;
        html_fmt(&b,
                 "<div class=\"field choice confirm\"><input type=\"checkbox\" "
                 "id=\"not-emergency\" name=\"not_emergency\" value=\"1\" required%R><label "
                 "for=\"not-emergency\">%s</label></div>",
                 ticked != NULL && strcmp(ticked, "1") == 0 ? " checked" : "",
                 web_t(c, I18N_("The caller confirms this is not an emergency: nobody is in "
                                "danger.")));
    }
    html_fmt(&b, "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>",
             web_t(c, I18N_("File the request")));
    console_page_end(c, &b);
    console_send(c, status, &b);
}

void console_cc_file_get(web_ctx *c, const char *code)
{
    const service *sv = cc_service(c, code);
    if (sv != NULL)
        cc_file_form(c, 200, sv, NULL, NULL, NULL, false);
}

/* The website's fields this form has: not its photo, send key or
 * "email me" box (the consent replaces it). */
static bool cc_field(const service *sv, const char *key)
{
    static const char *const not_here[] = {"photo", "remove_photo", "send_key", "notify"};
    for (size_t i = 0; i < sizeof not_here / sizeof not_here[0]; i++)
        if (strcmp(key, not_here[i]) == 0)
            return false;
    return strcmp(key, "consent") == 0 || web_report_form_field(sv, key);
}

static bool cc_filled(const kv_list *v, const char *key)
{
    const char *s = kv_get(v, key);
    return s != NULL && *s != '\0';
}

typedef struct {
    web_ctx *c;
    const service *sv;
    service_request sr;
    bool consent;
    bool follow;
    const char *actor;
} cc_file_job;

/* The request, the caller's details sealed, the consent on record and,
 * with it and an email, the follow: all or nothing. */
static err_code cc_file_apply(store_t *s, void *arg, err_t *err)
{
    cc_file_job *job = arg;
    web_ctx *c = job->c;
    int64_t reporter = 0;
    err_code rc = store_request_insert(s, &job->sr, err);
    if (rc == ERR_OK)
        rc = vault_collect_reporter(s, c->app->keys, &job->sr, job->actor, 0,
                                    job->sr.requested_at, &reporter, err);
    if (rc == ERR_OK) {
        audit_entry e = audit_entry_init(job->sr.requested_at, AUDIT_COLLECT, job->actor);
        e.purpose = "address_request";
        e.subject_id = reporter;
        e.request_id = job->sr.row_id;
        e.fields = "contact_consent";
        e.reason = job->consent ? "consent: the caller agreed to be contacted about this request"
                                : "no consent: the caller did not agree to be contacted; no "
                                  "contact details kept";
        rc = audit_append(s, &e, NULL, err);
    }
    if (rc == ERR_OK && job->follow)
        rc = notify_follow(s, job->sr.row_id, reporter, job->actor, job->sr.requested_at, err);
    return rc;
}

static void cc_file_done(void *arg, err_code rc, const err_t *err)
{
    cc_file_job *job = arg;
    web_ctx *c = job->c;
    if (rc != ERR_OK) {
        log_error("console: filing for a caller failed: %s", err->msg);
        console_busy(c);
        return;
    }
    if (job->sr.id > 0) {
        char path[64];
        snprintf(path, sizeof path, "/staff/cc/requests/%lld?filed=1", (long long)job->sr.id);
        http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
        web_redirect(c, path);
        return;
    }
    /* A batch or blackbox service: no number yet. */
    buf_t b = BUF_INIT;
    console_page_begin(c, &b, web_t(c, I18N_("The request was filed")));
    html_fmt(&b, "<div class=\"notice success\" role=\"status\"><h1>%s</h1><p>%s</p></div>"
                 "<p><a href=\"/staff/cc\">%s</a></p>",
             web_t(c, I18N_("The request was filed")),
             web_t(c, I18N_("The agency gives it a number shortly: the caller can look it up "
                            "later by phone.")),
             web_t(c, I18N_("Back to the Contact Center")));
    console_page_end(c, &b);
    console_send(c, 200, &b);
}

void console_cc_file_post(web_ctx *c, const char *code)
{
    const service *sv = cc_service(c, code);
    if (sv == NULL)
        return;
    pool_t *pool = http_pool(c->req);
    err_t err;
    size_t len;
    const char *body = http_body(c->req, &len);
    kv_list in, *v = pool_calloc(pool, 1, sizeof *v);
    if (v == NULL) {
        console_busy(c);
        return;
    }
    kv_init(&in);
    kv_init(v);
    if (!o311_content_type_is(http_header(c->req, "Content-Type"),
                              "application/x-www-form-urlencoded") ||
        form_decode(body, len, pool, &KV_DEFAULT_LIMITS, &in, &err) != ERR_OK) {
        console_unreadable(c);
        return;
    }
    if (!web_csrf_ok(c, &in)) {
        console_expired(c);
        return;
    }
    err_code rc =
        kv_add(v, pool, "service_code", 12, sv->code, strlen(sv->code), &KV_DEFAULT_LIMITS, &err);
    bool stray = false;
    for (size_t i = 0; rc == ERR_OK && i < in.count; i++) {
        const kv_pair *p = &in.items[i];
        if (cc_field(sv, p->key))
            rc = kv_add(v, pool, p->key, strlen(p->key), p->value, p->value_len,
                        &KV_DEFAULT_LIMITS, &err);
        else if (strcmp(p->key, "csrf") != 0)
            stray = true;
    }
    if (rc != ERR_OK) {
        console_busy(c);
        return;
    }
    if (stray) {
        cc_file_form(c, 400, sv, v,
                     web_t(c, I18N_("The form sent a field this page does not have. Check the "
                                    "form and send it again.")),
                     NULL, false);
        return;
    }
    /* I5: the 911 notice interrupts before anything is filed. */
    const char *confirmed = kv_get(v, "not_emergency");
    if (emergency_check(sv, kv_get(v, "description")) != EMERGENCY_NONE &&
        (confirmed == NULL || strcmp(confirmed, "1") != 0)) {
        cc_file_form(c, 200, sv, v, NULL, NULL, true);
        return;
    }
    const char *consent = kv_get(v, "consent");
    bool yes = consent != NULL && strcmp(consent, "yes") == 0;
    if (kv_count(v, "consent") != 1 || (!yes && strcmp(consent, "no") != 0)) {
        cc_file_form(c, 400, sv, v,
                     web_t(c, I18N_("Ask the caller whether the city may contact them, and "
                                    "choose yes or no.")),
                     "consent", false);
        return;
    }
    bool any_contact = cc_filled(v, "first_name") || cc_filled(v, "last_name") ||
                       cc_filled(v, "email") || cc_filled(v, "phone");
    if (!yes && any_contact) {
        cc_file_form(c, 400, sv, v,
                     web_t(c, I18N_("The caller does not agree to be contacted: leave the name, "
                                    "email and phone empty, or choose yes.")),
                     "consent", false);
        return;
    }
    if (yes && !cc_filled(v, "email") && !cc_filled(v, "phone")) {
        cc_file_form(c, 400, sv, v,
                     web_t(c, I18N_("To contact the caller, give their phone number or email "
                                    "address.")),
                     "phone", false);
        return;
    }
    const kv_list *iv = web_report_intake_values(c, sv, v);
    cc_file_job *job = pool_calloc(pool, 1, sizeof *job);
    if (iv == NULL || job == NULL) {
        console_busy(c);
        return;
    }
    if (intake_request(c->app->cat, iv, SR_CHANNEL_PHONE, c->app->now(), pool, &job->sr, &err) !=
        ERR_OK) {
        web_problem p = web_report_explain(c, sv, v, err.msg);
        cc_file_form(c, 400, sv, v, p.text, p.field, false);
        return;
    }
    job->c = c;
    job->sv = sv;
    job->consent = yes;
    job->follow = yes && cc_filled(v, "email");
    job->actor = console_actor(c);
    console_run_job(c, cc_file_apply, cc_file_done, job);
}

/* ---- the request page, for agents ---- */

/* Whole days left (rounded up) before a file of class dc collected at
 * `at` is erased; -1 if the schedule keeps it. */
static int64_t cc_days_left(const web_ctx *c, data_class dc, int64_t at)
{
    const retention_schedule *rs = c->app->retention;
    retention_schedule defaults;
    if (rs == NULL) {
        retention_defaults(&defaults);
        rs = &defaults;
    }
    if (rs->period[dc] == RETENTION_KEEP)
        return -1;
    int64_t left = at + rs->period[dc] - c->app->now();
    return left <= 0 ? 0 : (left + RETENTION_DAY - 1) / RETENTION_DAY;
}

static void cc_request_page(web_ctx *c, int status, int64_t id, const char *problem)
{
    err_t err;
    store_t *s = web_reader(c, &err);
    service_request sr;
    store_blob *blobs = NULL;
    size_t nblobs = 0;
    err_code rc = s == NULL ? err.code : store_request_get(s, id, http_pool(c->req), &sr, &err);
    if (rc == ERR_OK)
        rc = store_blob_list(s, sr.id, http_pool(c->req), &blobs, &nblobs, &err);
    if (rc == ERR_NOT_FOUND) {
        cc_not_found(c);
        return;
    }
    if (rc != ERR_OK) {
        log_error("console: a request page failed: %s", err.msg);
        console_busy(c);
        return;
    }
    buf_t b = BUF_INIT;
    c->bad_field = problem != NULL ? "recording" : NULL;
    char title[64];
    snprintf(title, sizeof title, "%s %lld", web_t(c, I18N_("Request")), (long long)sr.id);
    console_page_begin(c, &b, title);
    html_fmt(&b, "<h1>%s</h1>", title);
    if (kv_get(&c->query, "filed") != NULL)
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s %L.</p></div>",
                 web_t(c, I18N_("The request was filed. Tell the caller its number:")), sr.id);
    if (kv_get(&c->query, "recorded") != NULL)
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s</p></div>",
                 web_t(c, I18N_("The recording is attached, sealed.")));
    cc_problem(c, &b, problem);
    const service *sv = catalog_find_service(c->app->cat, sr.service_code);
    html_fmt(&b, "<dl class=\"facts\"><dt>%s</dt><dd>", web_t(c, I18N_("Service")));
    if (sv != NULL)
        web_catalog_text(c, &b, sv->name);
    else
        html_fmt(&b, "%s", sr.service_code);
    html_fmt(&b, "</dd><dt>%s</dt><dd>%s</dd><dt>%s</dt><dd>", web_t(c, I18N_("Status")),
             web_status_text(c, (int)sr.status), web_t(c, I18N_("Filed")));
    web_put_time(c, &b, sr.requested_at);
    html_fmt(&b, "</dd><dt>%s</dt><dd>%s</dd>", web_t(c, I18N_("Channel")),
             sr.channel == SR_CHANNEL_PHONE ? web_t(c, I18N_("Phone (Contact Center)"))
             : sr.channel == SR_CHANNEL_WEB ? web_t(c, I18N_("Website"))
             : sr.channel == SR_CHANNEL_MOBILE ? web_t(c, I18N_("The city's app"))
                                              : web_t(c, I18N_("Open311 client")));
    if (sr.address != NULL)
        html_fmt(&b, "<dt>%s</dt><dd>%s</dd>", web_t(c, I18N_("Address")), sr.address);
    html_fmt(&b, "</dl><p><a href=\"/requests/%L\">%s</a></p>", sr.id,
             web_t(c, I18N_("The public page of this request")));

    html_fmt(&b, "<section aria-labelledby=\"recordings\"><h2 id=\"recordings\">%s</h2>",
             web_t(c, I18N_("Call recordings")));
    size_t shown = 0;
    for (size_t i = 0; i < nblobs; i++) {
        if (blobs[i].dclass != DC_RECORDING)
            continue;
        shown++;
        int64_t days = cc_days_left(c, DC_RECORDING, blobs[i].created_at);
        html_fmt(&b, "<div class=\"recording\"><p>");
        if (days < 0)
            html_fmt(&b, "%s", web_t(c, I18N_("Recording: kept")));
        else
            html_fmt(&b, "%s %L %s", web_t(c, I18N_("Recording: erased in")), days,
                     days == 1 ? web_t(c, I18N_("day")) : web_t(c, I18N_("days")));
        html_fmt(&b,
                 "</p><audio controls preload=\"none\" src=\"/staff/cc/recordings/%L\" "
                 "aria-label=\"%s %L\"></audio><p><a href=\"/staff/cc/recordings/%L\">%s</a>"
                 "</p></div>",
                 blobs[i].id, web_t(c, I18N_("Call recording")), (int64_t)shown, blobs[i].id,
                 web_t(c, I18N_("Open the recording")));
    }
    if (shown == 0)
        html_fmt(&b, "<p>%s</p>", web_t(c, I18N_("No recording is attached.")));
    html_fmt(&b,
             "<form method=\"post\" action=\"/staff/cc/requests/%L/recording\" "
             "enctype=\"multipart/form-data\" novalidate>",
             sr.id);
    web_csrf_field(c, &b);
    char hint_id[112];
    web_field_label(c, &b, "recording", web_t(c, I18N_("Attach the call recording")), false, "",
                    true);
    web_field_hint(c, &b, "recording",
                   web_t(c, I18N_("MP3, WAV, Ogg or WebM audio, at most 10 MB. It is sealed and "
                                  "erased 14 days after upload.")),
                   false, hint_id, sizeof hint_id);
    html_fmt(&b,
             "<input id=\"recording\" name=\"recording\" type=\"file\" required "
             "accept=\"audio/mpeg,audio/wav,audio/ogg,audio/webm\"");
    web_field_aria(c, &b, "recording", hint_id);
    html_fmt(&b, "></div><p class=\"actions\"><button type=\"submit\">%s</button></p></form>"
                 "</section><p><a href=\"/staff/cc\">%s</a></p>",
             web_t(c, I18N_("Attach the recording")),
             web_t(c, I18N_("Back to the Contact Center")));
    console_page_end(c, &b);
    console_send(c, status, &b);
}

void console_cc_request_get(web_ctx *c, const char *rest)
{
    int64_t id;
    if (!cc_parse_id(rest, NULL, &id)) {
        cc_not_found(c);
        return;
    }
    cc_request_page(c, 200, id, NULL);
}

/* ---- attaching a recording ---- */

/* The audio type of data, by its bytes, or NULL: MP3 (an ID3 tag or an
 * MPEG audio frame header), WAV (RIFF/WAVE), Ogg, WebM (EBML whose doc
 * type is "webm"). */
static const char *cc_audio_type(const unsigned char *d, size_t n)
{
    if (n < 16)
        return NULL;
    if (memcmp(d, "ID3", 3) == 0 ||
        (d[0] == 0xFF && (d[1] & 0xE0) == 0xE0 && (d[1] & 0x06) != 0 && (d[2] & 0xF0) != 0xF0))
        return "audio/mpeg";
    if (memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WAVE", 4) == 0)
        return "audio/wav";
    if (memcmp(d, "OggS", 4) == 0)
        return "audio/ogg";
    if (memcmp(d, "\x1A\x45\xDF\xA3", 4) == 0) {
        size_t head = n < 64 ? n : 64;
        for (size_t i = 4; i + 4 <= head; i++)
            if (memcmp(d + i, "webm", 4) == 0)
                return "audio/webm";
    }
    return NULL;
}

typedef struct {
    web_ctx *c;
    int64_t id;
    const char *type;
    const unsigned char *data;
    size_t len;
    const char *actor;
} cc_record_job;

/* Under a new "caller" subject of its own: when retention erases the
 * recording, its key goes with it. */
static err_code cc_record_apply(store_t *s, void *arg, err_t *err)
{
    cc_record_job *job = arg;
    web_ctx *c = job->c;
    int64_t now = c->app->now(), subject = 0, blob = 0;
    service_request sr;
    err_code rc = store_request_get(s, job->id, http_pool(c->req), &sr, err);
    if (rc == ERR_OK)
        rc = vault_subject_new(s, c->app->keys, "caller", now, &subject, err);
    if (rc == ERR_OK)
        rc = vault_put_blob(s, c->app->keys, subject, sr.id, DC_RECORDING, job->type,
                            job->data, job->len, job->actor, now, &blob, err);
    return rc;
}

static void cc_record_done(void *arg, err_code rc, const err_t *err)
{
    cc_record_job *job = arg;
    web_ctx *c = job->c;
    if (rc == ERR_NOT_FOUND) {
        cc_not_found(c);
        return;
    }
    if (rc != ERR_OK) {
        log_error("console: a recording could not be stored: %s", err->msg);
        console_busy(c);
        return;
    }
    char path[80];
    snprintf(path, sizeof path, "/staff/cc/requests/%lld?recorded=1", (long long)job->id);
    http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
    web_redirect(c, path);
}

/* rest: "{id}/recording" */
void console_cc_recording_post(web_ctx *c, const char *rest)
{
    const char *slash = strchr(rest, '/');
    int64_t id;
    if (slash == NULL || strcmp(slash, "/recording") != 0 || !cc_parse_id(rest, slash, &id)) {
        cc_not_found(c);
        return;
    }
    pool_t *pool = http_pool(c->req);
    err_t err;
    size_t len;
    const char *body = http_body(c->req, &len);
    const char *ctype = http_header(c->req, "Content-Type");
    kv_list v;
    kv_init(&v);
    mp_limits mpl = {.max_files = 1, .max_file_bytes = len};
    mp_file *files = NULL;
    size_t nfiles = 0;
    if (!mp_is_multipart(ctype) ||
        mp_decode(ctype, body, len, pool, &KV_DEFAULT_LIMITS, &mpl, &v, &files, &nfiles, &err) !=
            ERR_OK) {
        console_unreadable(c);
        return;
    }
    if (!web_csrf_ok(c, &v)) {
        console_expired(c);
        return;
    }
    bool stray = false;
    for (size_t i = 0; i < v.count; i++)
        stray = stray || strcmp(v.items[i].key, "csrf") != 0;
    if (stray || (nfiles > 0 && strcmp(files[0].name, "recording") != 0)) {
        console_unreadable(c);
        return;
    }
    const mp_file *f = nfiles > 0 && files[0].len > 0 ? &files[0] : NULL;
    const char *type = f != NULL ? cc_audio_type(f->data, f->len) : NULL;
    const char *problem =
        f == NULL ? web_t(c, I18N_("Choose the recording's file."))
        : f->len > CC_RECORDING_MAX
            ? web_t(c, I18N_("The recording is too large: at most 10 MB. Nothing was attached."))
        : type == NULL ? web_t(c, I18N_("This file is not MP3, WAV, Ogg or WebM audio. Nothing "
                                        "was attached: choose the call's recording."))
                       : NULL;
    if (problem != NULL) {
        cc_request_page(c, f != NULL && f->len > CC_RECORDING_MAX ? 413 : 400, id, problem);
        return;
    }
    cc_record_job *job = pool_calloc(pool, 1, sizeof *job);
    if (job == NULL) {
        console_busy(c);
        return;
    }
    *job = (cc_record_job){.c = c,
                           .id = id,
                           .type = type,
                           .data = f->data,
                           .len = f->len,
                           .actor = console_actor(c)};
    console_run_job(c, cc_record_apply, cc_record_done, job);
}

/* ---- playing it, through the gatekeeper ---- */

typedef struct {
    web_ctx *c;
    int64_t blob;
    char actor[STAFF_ACTOR_MAX];
    gate_actor who;
    const unsigned char *data;
    size_t len;
    const char *type;
} cc_play_job;

/* On the writer: a read of personal data writes its audit entry, durably,
 * before the data leaves. Only recordings are served here. */
static err_code cc_play_apply(store_t *s, void *arg, err_t *err)
{
    cc_play_job *job = arg;
    web_ctx *c = job->c;
    store_blob meta;
    err_code rc = store_blob_get(s, job->blob, http_pool(c->req), &meta, err);
    if (rc == ERR_OK && (meta.dclass != DC_RECORDING || meta.request_id == 0))
        rc = err_set(err, ERR_NOT_FOUND, "no such recording");
    if (rc == ERR_OK)
        rc = gate_read_blob(s, c->app->keys, &job->who, GATE_PURPOSE_ADDRESS_REQUEST, job->blob,
                            c->app->now(), http_pool(c->req), &job->data, &job->len, &job->type,
                            err);
    return rc;
}

void console_cc_recording_get(web_ctx *c, const char *rest)
{
    cc_play_job job = {.c = c};
    err_t err;
    err_code rc = ERR_NOT_FOUND;
    if (cc_parse_id(rest, NULL, &job.blob)) {
        staff_gate_actor(&c->staff->who, job.actor, &job.who);
        rc = commitq_run(c->app->writer, cc_play_apply, &job, &err);
    }
    if (rc == ERR_NOT_FOUND || rc == ERR_CONFLICT) {
        console_error(c, 404, web_t(c, I18N_("This recording is not available")),
                      web_t(c, I18N_("It was erased, or there is no such recording.")));
        return;
    }
    if (rc == ERR_FORBIDDEN) {
        console_error(c, 403, web_t(c, I18N_("Not for your role")),
                      web_t(c, I18N_("Your role does not give access to this page. If your work "
                                     "needs it, ask an administrator.")));
        return;
    }
    if (rc != ERR_OK) {
        log_error("console: a recording could not be read: %s", err.msg);
        console_busy(c);
        return;
    }
    buf_t b = BUF_INIT;
    buf_append(&b, job.data, job.len);
    sodium_memzero((void *)job.data, job.len);
    http_add_header(c->req, "Cache-Control", "no-store");
    http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
    http_add_header(c->req, "Content-Disposition", "inline");
    http_respond(c->req, 200, job.type, &b);
}
