/*
 * console_register.c - the disclosure register in the console (P4, issue
 * 5 item 7), for records and privacy officers only:
 *
 *   GET  /staff/register              the orders (recorded, approved,
 *                                     closed) and the form to record one
 *   POST /staff/register              records an order
 *   GET  /staff/register/{id}         one order: its scope, its state, its
 *                                     exports with their SHA-256
 *   POST /staff/register/{id}/approve a second officer approves it
 *   POST /staff/register/{id}/close   nothing more under it
 *   POST /staff/register/{id}/export  the named requests' personal data,
 *                                     as a JSON file to save
 *
 * privacy/disclosure.c decides every step (the roles, the two-person
 * rule, the scope) and the gatekeeper reads; this file only turns forms
 * into its calls and its answers into pages. The actor is the signed-in
 * officer (staff_gate_actor: "staff:N").
 *
 * The export document is the answer to the POST that made it and nothing
 * else: never a URL, never kept by the server or a cache (no-store). It
 * is sent only after the writer has committed its register row and audit
 * entries, so nothing leaves that is not on record. A refused export
 * commits its "refuse" audit entry and sends no byte of personal data;
 * the page says why, in words chosen here from the order as the writer
 * saw it (the register's own message is English, for logs and the CLI).
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/disclosure.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/utf8.h"
#include "web/console.h"

#define LIST_MAX 500 /* orders on the list page, newest first */

static const char *const RECORD_FIELDS[] = {
    "csrf",          "requester",    "reference",     "legal_basis", "received",       "requests",
    "class-contact", "class-device", "class-account", "class-media", "class-recording"};
static const char *const EXPORT_FIELDS[] = {"csrf",           "requests",      "class-contact",
                                            "class-device",   "class-account", "class-media",
                                            "class-recording"};

/* ---- words ---- */

static const char *class_label(web_ctx *c, data_class dc)
{
    switch (dc) {
    case DC_CONTACT:
        return web_t(c, I18N_("Contact details (name, email, phone)"));
    case DC_DEVICE:
        return web_t(c, I18N_("Device identifiers"));
    case DC_ACCOUNT:
        return web_t(c, I18N_("Account"));
    case DC_MEDIA:
        return web_t(c, I18N_("Photos and files"));
    case DC_RECORDING:
        return web_t(c, I18N_("Call recordings"));
    }
    return "";
}

static const char *state_label(web_ctx *c, disclosure_state st)
{
    switch (st) {
    case DISCLOSURE_RECORDED:
        return web_t(c, I18N_("Recorded: waiting for a second officer"));
    case DISCLOSURE_APPROVED:
        return web_t(c, I18N_("Approved: open for exports"));
    case DISCLOSURE_CLOSED:
        return web_t(c, I18N_("Closed"));
    }
    return "";
}

static void put_classes(web_ctx *c, buf_t *b, unsigned mask)
{
    bool first = true;
    for (unsigned dc = 0; dc < DC_COUNT; dc++)
        if (mask & DC_BIT(dc)) {
            html_fmt(b, "%R%s", first ? "" : "; ", class_label(c, (data_class)dc));
            first = false;
        }
}

static void put_ids(buf_t *b, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        html_fmt(b, "%R%L", i ? ", " : "", ids[i]);
}

static void put_time_or(web_ctx *c, buf_t *b, int64_t t)
{
    if (t == 0)
        html_fmt(b, "%s", web_t(c, I18N_("not yet")));
    else
        web_put_time(c, b, t);
}

static void problem_box(web_ctx *c, buf_t *b, const char *problem)
{
    if (problem != NULL)
        html_fmt(b,
                 "<div class=\"notice error\" role=\"alert\" id=\"problem\"><h2>%s</h2><p>%s</p>"
                 "</div>",
                 web_t(c, I18N_("Not done")), problem);
}

static void not_found(web_ctx *c)
{
    console_error(c, 404, web_t(c, I18N_("Page not found")),
                  web_t(c, I18N_("There is no order with this number in the register.")));
}

/* ---- reading forms ---- */

/* v[name] with spaces around it taken off (from the request's pool), or
 * NULL if absent or empty. */
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
    if (n == 0)
        return NULL;
    char *copy = pool_alloc(http_pool(c->req), n + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

/* 1 to max bytes of UTF-8 without control characters. */
static bool plain_text(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > max || !utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool printable_ascii(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

/* The ticked class-* boxes as a DC_BIT mask. */
static unsigned ticked_classes(const kv_list *v)
{
    unsigned mask = 0;
    for (unsigned dc = 0; dc < DC_COUNT; dc++) {
        char name[32];
        snprintf(name, sizeof name, "class-%s", sr_data_class_name((data_class)dc));
        const char *on = kv_get(v, name);
        if (on != NULL && strcmp(on, "1") == 0)
            mask |= DC_BIT(dc);
    }
    return mask;
}

typedef enum { IDS_OK, IDS_BAD, IDS_REPEAT, IDS_TOO_MANY } ids_result;

/* "12, 15 40" (commas and/or spaces) into *out (from the request's pool). */
static ids_result parse_ids(web_ctx *c, const char *text, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    pool_t *pool = http_pool(c->req);
    for (const char *p = text; p != NULL && *p != '\0';) {
        while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0')
            break;
        if (*p < '1' || *p > '9')
            return IDS_BAD;
        int64_t id = 0;
        size_t digits = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++digits > 15) /* far past any request number; never overflows */
                return IDS_BAD;
            id = id * 10 + (*p - '0');
        }
        if (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            return IDS_BAD;
        for (size_t i = 0; i < *n; i++)
            if ((*out)[i] == id)
                return IDS_REPEAT;
        if (*n >= STORE_DISCLOSURE_MAX_REQUESTS)
            return IDS_TOO_MANY;
        int64_t *grown = pool_grow(pool, *out, *n, &cap, sizeof *grown);
        if (grown == NULL)
            return IDS_BAD;
        *out = grown;
        (*out)[(*n)++] = id;
    }
    return IDS_OK;
}

/* "{id}" or "{id}/{what}" (what one of a few words) from a route's rest. */
static bool parse_rest(const char *rest, int64_t *id, char what[16])
{
    int used = 0;
    what[0] = '\0';
    if (rest[0] < '1' || rest[0] > '9' || strlen(rest) > 40)
        return false;
    if (sscanf(rest, "%" SCNd64 "%n", id, &used) != 1 || *id <= 0)
        return false;
    if (rest[used] == '\0')
        return true;
    int more = 0;
    return rest[used] == '/' && sscanf(rest + used + 1, "%15[a-z]%n", what, &more) == 1 &&
           rest[used + 1 + more] == '\0';
}

/* ---- the list and the form to record an order ---- */

static void class_boxes(web_ctx *c, buf_t *b, const char *legend, unsigned offered, unsigned ticked,
                        const char *hint)
{
    html_fmt(b,
             "<fieldset class=\"field\" aria-describedby=\"classes-hint\"><legend>%s</legend>"
             "<p class=\"hint\" id=\"classes-hint\">%s</p>",
             legend, hint);
    for (unsigned dc = 0; dc < DC_COUNT; dc++) {
        if (!(offered & DC_BIT(dc)))
            continue;
        const char *name = sr_data_class_name((data_class)dc);
        html_fmt(b,
                 "<div class=\"choice\"><input type=\"checkbox\" id=\"class-%s\" "
                 "name=\"class-%s\" value=\"1\"%R><label for=\"class-%s\">%s</label></div>",
                 name, name, (ticked & DC_BIT(dc)) ? " checked" : "", name,
                 class_label(c, (data_class)dc));
    }
    html_fmt(b, "</fieldset>");
}

static void record_form(web_ctx *c, buf_t *b, const kv_list *v, const char *problem)
{
    html_fmt(b, "<h2 id=\"record\">%s</h2>", web_t(c, I18N_("Record an order")));
    problem_box(c, b, problem);
    html_fmt(b,
             "<p class=\"hint\">%s</p><form method=\"post\" action=\"/staff/register\" "
             "novalidate>",
             web_t(c, I18N_("A court order or a law-enforcement request, as received. Name "
                            "institutions only, never a person: the register is kept for "
                            "good. A second officer must approve the order before anything "
                            "can be exported under it.")));
    web_csrf_field(c, b);
    web_text_input(c, b, "requester", "requester", web_t(c, I18N_("Who asks")),
                   web_t(c, I18N_("The court or agency, for example: Supreme Court of the State "
                                  "of New York, Kings County.")),
                   "text", "off", v, true, DISCLOSURE_TEXT_MAX);
    web_text_input(c, b, "reference", "reference", web_t(c, I18N_("Their reference")),
                   web_t(c, I18N_("The docket, case or request number: letters, digits and "
                                  "punctuation, up to 64.")),
                   "text", "off", v, true, DISCLOSURE_REFERENCE_MAX);
    web_text_input(c, b, "legal_basis", "legal_basis", web_t(c, I18N_("Legal basis")),
                   web_t(c, I18N_("The statute, rule or order relied on.")), "text", "off", v, true,
                   DISCLOSURE_TEXT_MAX);
    web_text_input(c, b, "received", "received", web_t(c, I18N_("Date received")),
                   web_t(c, I18N_("As YYYY-MM-DD; not in the future.")), "date", "off", v, true,
                   10);
    web_text_input(c, b, "requests", "requests", web_t(c, I18N_("Request numbers")),
                   web_t(c, I18N_("The requests the order names, separated by commas or "
                                  "spaces (at most 1000).")),
                   "text", "off", v, true, 20000);
    unsigned ticked = v != NULL ? ticked_classes(v) : DC_BIT(DC_CONTACT);
    class_boxes(c, b, web_t(c, I18N_("Data it covers")), DC_ALL, ticked,
                web_t(c, I18N_("Tick every class of personal data the order asks for.")));
    html_fmt(b, "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>",
             web_t(c, I18N_("Record the order")));
}

static void orders_table(web_ctx *c, buf_t *b)
{
    err_t err;
    store_t *s = web_reader(c, &err);
    store_disclosure *o = NULL;
    size_t n = 0;
    err_code rc = s != NULL
                      ? store_disclosure_list(s, false, LIST_MAX, http_pool(c->req), &o, &n, &err)
                      : err.code;
    if (rc != ERR_OK) {
        log_error("console: the disclosure register could not be read: %s", err.msg);
        html_fmt(b, "<p class=\"error\">%s</p>",
                 web_t(c, I18N_("The list could not be read. Please try again in a minute.")));
        return;
    }
    if (n == 0) {
        html_fmt(b, "<p>%s</p>", web_t(c, I18N_("No order is in the register.")));
        return;
    }
    html_fmt(b,
             "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" "
             "aria-labelledby=\"orders-caption\"><table><caption id=\"orders-caption\">%s"
             "</caption><thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr></thead><tbody>",
             web_t(c, I18N_("Orders, newest first")), web_t(c, I18N_("Order")),
             web_t(c, I18N_("State")), web_t(c, I18N_("Who asks")),
             web_t(c, I18N_("Their reference")), web_t(c, I18N_("Date received")),
             web_t(c, I18N_("Requests")), web_t(c, I18N_("Exports")));
    for (size_t i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%" PRId64, o[i].id);
        html_fmt(b,
                 "<tr><th scope=\"row\"><a href=\"/staff/register/%u\">%s %s</a></th>"
                 "<td>%s</td><td>%s</td><td class=\"target\">%s</td><td>",
                 id, web_t(c, I18N_("Order")), id, state_label(c, disclosure_state_of(&o[i])),
                 o[i].requester, o[i].reference);
        web_put_time(c, b, o[i].received_at);
        html_fmt(b, "</td><td>%L</td><td>%L</td></tr>", (int64_t)o[i].nrequests, o[i].exports);
    }
    html_fmt(b, "</tbody></table></div>");
}

static void list_page(web_ctx *c, int status, const kv_list *v, const char *problem)
{
    buf_t b = BUF_INIT;
    console_page_begin(c, &b, web_t(c, I18N_("Disclosure register")));
    html_fmt(&b, "<h1>%s</h1><p class=\"lead\">%s</p>", web_t(c, I18N_("Disclosure register")),
             web_t(c, I18N_("Personal data leaves Civic311 for a third party only under a court "
                            "order or a law-enforcement request recorded here, approved by a "
                            "second officer. Every export is in the register and the audit "
                            "log.")));
    orders_table(c, &b);
    record_form(c, &b, v, problem);
    console_page_end(c, &b);
    console_send(c, status, &b);
}

void console_register_get(web_ctx *c, const char *rest)
{
    (void)rest;
    list_page(c, 200, NULL, NULL);
}

/* ---- recording ---- */

typedef struct {
    web_ctx *c;
    const kv_list *v;
    char actor_id[STAFF_ACTOR_MAX];
    gate_actor actor;
    disclosure_order_input in;
    int64_t now;
    int64_t order_id;
} record_job;

static err_code record_apply(store_t *s, void *arg, err_t *err)
{
    record_job *j = arg;
    return disclosure_register(s, &j->actor, &j->in, j->now, &j->order_id, err);
}

static void record_done(void *arg, err_code rc, const err_t *err)
{
    record_job *j = arg;
    web_ctx *c = j->c;
    if (rc == ERR_OK) {
        char path[64];
        snprintf(path, sizeof path, "/staff/register/%" PRId64 "?done=recorded", j->order_id);
        http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
        web_redirect(c, path);
    } else if (rc == ERR_CONFLICT) {
        c->bad_field = "reference";
        list_page(c, 409, j->v,
                  web_t(c, I18N_("This requester's reference is in the register already: "
                                 "open that order instead.")));
    } else if (rc == ERR_NOT_FOUND) {
        c->bad_field = "requests";
        list_page(c, 400, j->v,
                  web_t(c, I18N_("A request number the order names does not exist. Check the "
                                 "numbers.")));
    } else if (rc == ERR_INVALID || rc == ERR_FORBIDDEN) {
        /* What the checks below let through and the register refused
         * (never personal: it names fields and numbers). */
        list_page(c, rc == ERR_FORBIDDEN ? 403 : 400, j->v, err->msg);
    } else {
        log_error("console: an order could not be recorded: %s", err->msg);
        console_busy(c);
    }
}

/* The form's problem, in words, or NULL when the register may decide. */
static const char *record_problem(web_ctx *c, const kv_list *v, record_job *j)
{
    disclosure_order_input *in = &j->in;
    in->requester = trimmed(c, v, "requester");
    in->reference = trimmed(c, v, "reference");
    in->legal_basis = trimmed(c, v, "legal_basis");
    const char *received = trimmed(c, v, "received");
    if (!plain_text(in->requester, DISCLOSURE_TEXT_MAX)) {
        c->bad_field = "requester";
        return web_t(c, I18N_("Enter who asks: the court or agency, up to 200 characters."));
    }
    if (!printable_ascii(in->reference, DISCLOSURE_REFERENCE_MAX)) {
        c->bad_field = "reference";
        return web_t(c, I18N_("Enter their reference: up to 64 letters, digits, spaces and "
                              "punctuation, without accents."));
    }
    if (!plain_text(in->legal_basis, DISCLOSURE_TEXT_MAX)) {
        c->bad_field = "legal_basis";
        return web_t(c, I18N_("Enter the legal basis, up to 200 characters."));
    }
    if (received == NULL || strlen(received) != 10 || !dt_parse(received, 10, &in->received_at)) {
        c->bad_field = "received";
        return web_t(c, I18N_("Enter the date the order was received, as YYYY-MM-DD."));
    }
    if (in->received_at > j->now) {
        c->bad_field = "received";
        return web_t(c, I18N_("The date received cannot be in the future."));
    }
    int64_t *ids = NULL;
    size_t n = 0;
    ids_result ir = parse_ids(c, kv_get(v, "requests"), &ids, &n);
    if (ir != IDS_OK || n == 0) {
        c->bad_field = "requests";
        return ir == IDS_REPEAT     ? web_t(c, I18N_("A request number is there twice."))
               : ir == IDS_TOO_MANY ? web_t(c, I18N_("An order names at most 1000 requests."))
                                    : web_t(c, I18N_("Enter the request numbers the order "
                                                     "names, separated by commas."));
    }
    in->request_ids = ids;
    in->nrequests = n;
    in->classes = ticked_classes(v);
    if (in->classes == 0) {
        c->bad_field = "class-contact";
        return web_t(c, I18N_("Tick at least one class of data."));
    }
    return NULL;
}

void console_register_post(web_ctx *c, const char *rest)
{
    (void)rest;
    kv_list *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
    record_job *j = pool_calloc(http_pool(c->req), 1, sizeof *j);
    if (v == NULL || j == NULL) {
        console_busy(c);
        return;
    }
    if (!console_read_form(c, RECORD_FIELDS, sizeof RECORD_FIELDS / sizeof RECORD_FIELDS[0], v)) {
        console_unreadable(c);
        return;
    }
    if (!web_csrf_ok(c, v)) {
        console_expired(c);
        return;
    }
    j->c = c;
    j->v = v;
    j->now = c->app->now();
    const char *problem = record_problem(c, v, j);
    if (problem != NULL) {
        list_page(c, 400, v, problem);
        return;
    }
    staff_gate_actor(&c->staff->who, j->actor_id, &j->actor);
    console_run_job(c, record_apply, record_done, j);
}

/* ---- one order ---- */

/* What the order page shows, read on the HTTP thread (GET) or by the
 * writer after a refused step (from the request's pool either way). */
typedef struct {
    store_disclosure o;
    store_disclosure_export *ex;
    size_t nex;
} order_view;

static err_code load_order(store_t *s, pool_t *pool, int64_t id, order_view *ov, err_t *err)
{
    memset(ov, 0, sizeof *ov);
    err_code rc = store_disclosure_get(s, id, pool, &ov->o, err);
    if (rc == ERR_OK)
        rc = store_disclosure_exports(s, id, pool, &ov->ex, &ov->nex, err);
    return rc;
}

static void order_facts(web_ctx *c, buf_t *b, const store_disclosure *o)
{
    html_fmt(b,
             "<dl class=\"facts\"><dt>%s</dt><dd>%s</dd><dt>%s</dt><dd>%s</dd>"
             "<dt>%s</dt><dd class=\"target\">%s</dd><dt>%s</dt><dd>%s</dd><dt>%s</dt><dd>",
             web_t(c, I18N_("State")), state_label(c, disclosure_state_of(o)),
             web_t(c, I18N_("Who asks")), o->requester, web_t(c, I18N_("Their reference")),
             o->reference, web_t(c, I18N_("Legal basis")), o->legal_basis,
             web_t(c, I18N_("Date received")));
    web_put_time(c, b, o->received_at);
    html_fmt(b, "</dd><dt>%s</dt><dd id=\"scope\">", web_t(c, I18N_("Requests named")));
    put_ids(b, o->request_ids, o->nrequests);
    html_fmt(b, "</dd><dt>%s</dt><dd>", web_t(c, I18N_("Data it covers")));
    put_classes(c, b, o->classes);
    html_fmt(b, "</dd><dt>%s</dt><dd>%s, ", web_t(c, I18N_("Recorded by")), o->recorded_by);
    web_put_time(c, b, o->recorded_at);
    html_fmt(b, "</dd><dt>%s</dt><dd>", web_t(c, I18N_("Approved by")));
    if (o->approved_by != NULL) {
        html_fmt(b, "%s, ", o->approved_by);
        web_put_time(c, b, o->approved_at);
    } else {
        html_fmt(b, "%s", web_t(c, I18N_("not yet")));
    }
    html_fmt(b, "</dd><dt>%s</dt><dd>", web_t(c, I18N_("Closed")));
    if (o->closed_by != NULL)
        html_fmt(b, "%s, ", o->closed_by);
    put_time_or(c, b, o->closed_at);
    html_fmt(b, "</dd></dl>");
}

static void exports_table(web_ctx *c, buf_t *b, const order_view *ov)
{
    html_fmt(b, "<h2 id=\"exports\">%s</h2>", web_t(c, I18N_("Exports under this order")));
    if (ov->nex == 0) {
        html_fmt(b, "<p>%s</p>", web_t(c, I18N_("None yet.")));
        return;
    }
    html_fmt(b,
             "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" "
             "aria-labelledby=\"exports-caption\"><table><caption id=\"exports-caption\">%s"
             "</caption><thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th></tr></thead><tbody>",
             web_t(c, I18N_("Every export, oldest first, with the SHA-256 of the document "
                            "sent")),
             web_t(c, I18N_("Export")), web_t(c, I18N_("By, when")), web_t(c, I18N_("Requests")),
             web_t(c, I18N_("Data")), web_t(c, I18N_("Bytes")), web_t(c, I18N_("SHA-256")));
    for (size_t i = 0; i < ov->nex; i++) {
        const store_disclosure_export *e = &ov->ex[i];
        char hex[2 * STORE_DISCLOSURE_DIGEST_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, e->digest, sizeof e->digest);
        html_fmt(b, "<tr><th scope=\"row\">%L</th><td>%s, ", e->id, e->exported_by);
        web_put_time(c, b, e->exported_at);
        html_fmt(b, "</td><td>");
        put_ids(b, e->request_ids, e->nrequests);
        html_fmt(b, "</td><td>");
        put_classes(c, b, e->classes);
        html_fmt(b, "</td><td>%L</td><td class=\"target digest\">%s</td></tr>", e->bytes, hex);
    }
    html_fmt(b, "</tbody></table></div>");
}

static void action_form(web_ctx *c, buf_t *b, const char *id, const char *what, const char *button,
                        bool secondary)
{
    html_fmt(b, "<form method=\"post\" action=\"/staff/register/%u/%R\" class=\"inline\">", id,
             what);
    web_csrf_field(c, b);
    html_fmt(b, "<button type=\"submit\"%R>%s</button></form>",
             secondary ? " class=\"secondary\"" : "", button);
}

static void order_page(web_ctx *c, int status, const order_view *ov, const char *problem)
{
    const store_disclosure *o = &ov->o;
    disclosure_state st = disclosure_state_of(o);
    char id[24], title[96];
    snprintf(id, sizeof id, "%" PRId64, o->id);
    snprintf(title, sizeof title, "%s %s", web_t(c, I18N_("Order")), id);
    buf_t b = BUF_INIT;
    console_page_begin(c, &b, title);
    html_fmt(&b, "<h1>%s</h1>", title);
    const char *done = status == 200 ? kv_get(&c->query, "done") : NULL;
    const char *said = done == NULL                    ? NULL
                       : strcmp(done, "recorded") == 0 ? web_t(c, I18N_("The order is recorded. "
                                                                        "A second officer must "
                                                                        "approve it."))
                       : strcmp(done, "approved") == 0 ? web_t(c, I18N_("The order is approved."))
                       : strcmp(done, "closed") == 0
                           ? web_t(c, I18N_("The order is closed: nothing more can be exported "
                                            "under it."))
                           : NULL;
    if (said != NULL)
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s</p></div>", said);
    problem_box(c, &b, problem);
    order_facts(c, &b, o);
    if (st != DISCLOSURE_CLOSED) {
        html_fmt(&b, "<h2>%s</h2><p class=\"hint\">%s</p><div class=\"actions\">",
                 web_t(c, I18N_("Decide")),
                 st == DISCLOSURE_RECORDED
                     ? web_t(c, I18N_("Approve only an order you did not record, once you "
                                      "have checked it against the document received."))
                     : web_t(c, I18N_("Close the order once it is answered: nothing more can "
                                      "be exported under it.")));
        if (st == DISCLOSURE_RECORDED)
            action_form(c, &b, id, "approve", web_t(c, I18N_("Approve the order")), false);
        action_form(c, &b, id, "close", web_t(c, I18N_("Close the order")), true);
        html_fmt(&b, "</div>");
    }
    if (st == DISCLOSURE_APPROVED) {
        html_fmt(&b,
                 "<h2 id=\"export\">%s</h2><p class=\"hint\">%s</p>"
                 "<form method=\"post\" action=\"/staff/register/%u/export\" novalidate>",
                 web_t(c, I18N_("Export")),
                 web_t(c, I18N_("Downloads the personal data as one JSON file. The export is "
                                "recorded first, in the register and the audit log, with the "
                                "SHA-256 of the file. Keep the file only as long as the answer "
                                "to the order needs it.")),
                 id);
        web_csrf_field(c, &b);
        web_text_input(c, &b, "requests", "requests", web_t(c, I18N_("Request numbers")),
                       web_t(c, I18N_("Leave empty for every request the order names, or give "
                                      "some of them.")),
                       "text", "off", NULL, false, 20000);
        class_boxes(c, &b, web_t(c, I18N_("Data to export")), o->classes, o->classes,
                    web_t(c, I18N_("Only the classes the order covers.")));
        html_fmt(&b, "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>",
                 web_t(c, I18N_("Export and download")));
    }
    exports_table(c, &b, ov);
    html_fmt(&b, "<p><a href=\"/staff/register\">%s</a></p>",
             web_t(c, I18N_("Back to the register")));
    console_page_end(c, &b);
    console_send(c, status, &b);
}

void console_register_order_get(web_ctx *c, const char *rest)
{
    int64_t id;
    char what[16];
    if (!parse_rest(rest, &id, what) || what[0] != '\0') {
        not_found(c);
        return;
    }
    err_t err;
    order_view ov;
    store_t *s = web_reader(c, &err);
    err_code rc = s != NULL ? load_order(s, http_pool(c->req), id, &ov, &err) : err.code;
    if (rc == ERR_NOT_FOUND) {
        not_found(c);
    } else if (rc != ERR_OK) {
        log_error("console: an order could not be read: %s", err.msg);
        console_busy(c);
    } else {
        order_page(c, 200, &ov, NULL);
    }
}

/* ---- approving, closing, exporting ---- */

typedef enum { ACT_APPROVE, ACT_CLOSE, ACT_EXPORT } order_act;

/* Why an export was refused, worked out from the order as the writer saw
 * it in the same transaction. */
typedef enum {
    WHY_NONE,
    WHY_NOT_APPROVED,
    WHY_CLOSED,
    WHY_SCOPE,
    WHY_CLASS,
    WHY_POLICY
} export_why;

typedef struct {
    web_ctx *c;
    order_act act;
    int64_t id;
    char actor_id[STAFF_ACTOR_MAX];
    gate_actor actor;
    int64_t now;
    int64_t *ids; /* export: the requests asked (none: all the order names) */
    size_t nids;
    unsigned classes;
    /* what happened */
    err_code refused; /* ERR_OK, or the register's refusal (committed) */
    export_why why;
    bool loaded; /* ov holds the order, read after the refusal */
    order_view ov;
    buf_t doc;
    disclosure_receipt receipt;
} act_job;

static bool in_list(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static export_why export_reason(const act_job *j, const store_disclosure *o)
{
    disclosure_state st = disclosure_state_of(o);
    if (st == DISCLOSURE_CLOSED)
        return WHY_CLOSED;
    if (st != DISCLOSURE_APPROVED)
        return WHY_NOT_APPROVED;
    if ((j->classes & ~o->classes) != 0)
        return WHY_CLASS;
    for (size_t i = 0; i < j->nids; i++)
        if (!in_list(o->request_ids, o->nrequests, j->ids[i]))
            return WHY_SCOPE;
    return WHY_POLICY;
}

static err_code act_apply(store_t *s, void *arg, err_t *err)
{
    act_job *j = arg;
    pool_t *pool = http_pool(j->c->req);
    err_code rc;
    switch (j->act) {
    case ACT_APPROVE:
        rc = disclosure_approve(s, &j->actor, j->id, j->now, err);
        break;
    case ACT_CLOSE:
        rc = disclosure_close(s, &j->actor, j->id, j->now, err);
        break;
    case ACT_EXPORT:
    default:
        rc = disclosure_export(s, j->c->app->keys, &j->actor, j->id, j->ids, j->nids, j->classes,
                               j->now, pool, &j->doc, &j->receipt, err);
        break;
    }
    if (rc != ERR_FORBIDDEN && rc != ERR_CONFLICT)
        return rc;
    /* A refusal: kept (an export's "refuse" entry must be committed) and
     * answered with the order's page, read now in the same view. */
    j->refused = rc;
    err_t lerr;
    if (load_order(s, pool, j->id, &j->ov, &lerr) == ERR_OK) {
        j->loaded = true;
        if (j->act == ACT_EXPORT)
            j->why = export_reason(j, &j->ov.o);
    }
    return ERR_OK;
}

static const char *refusal_text(web_ctx *c, const act_job *j)
{
    if (j->act == ACT_APPROVE)
        return j->refused == ERR_FORBIDDEN
                   ? web_t(c, I18N_("You recorded this order, so you may not also approve it: "
                                    "a second officer must (the two-person rule)."))
                   : web_t(c, I18N_("This order is approved or closed already."));
    if (j->act == ACT_CLOSE)
        return web_t(c, I18N_("This order is closed already."));
    switch (j->why) {
    case WHY_NOT_APPROVED:
        return web_t(c, I18N_("Nothing was exported: a second officer has not approved this "
                              "order yet. The refusal is in the audit log."));
    case WHY_CLOSED:
        return web_t(c, I18N_("Nothing was exported: this order is closed. The refusal is in "
                              "the audit log."));
    case WHY_SCOPE:
        return web_t(c, I18N_("Nothing was exported: a request number you gave is not named "
                              "by this order. The refusal is in the audit log."));
    case WHY_CLASS:
        return web_t(c, I18N_("Nothing was exported: the order does not cover a class of data "
                              "you ticked. The refusal is in the audit log."));
    case WHY_POLICY:
    case WHY_NONE:
    default:
        return web_t(c, I18N_("Nothing was exported: the privacy policy does not let your role "
                              "read a class of data you ticked. The refusal is in the audit "
                              "log."));
    }
}

static void forget_doc(act_job *j)
{
    if (j->doc.data != NULL)
        sodium_memzero(j->doc.data, j->doc.cap);
    buf_free(&j->doc);
}

static void act_done(void *arg, err_code rc, const err_t *err)
{
    act_job *j = arg;
    web_ctx *c = j->c;
    if (rc == ERR_NOT_FOUND) {
        forget_doc(j);
        not_found(c);
        return;
    }
    if (rc == ERR_INVALID) {
        /* What the form's checks let through and the register refused
         * (a number too large to be a request's): nothing was read. */
        forget_doc(j);
        console_error(c, 400, web_t(c, I18N_("The form could not be read")),
                      web_t(c, I18N_("Nothing was exported: the request numbers must be "
                                     "numbers the order names, each once, separated by "
                                     "commas. Go back and correct them.")));
        return;
    }
    if (rc != ERR_OK) {
        /* Not on record, so not sent: the writer rolled the export back. */
        forget_doc(j);
        log_error("console: a step on an order failed: %s", err->msg);
        console_busy(c);
        return;
    }
    if (j->refused != ERR_OK) {
        forget_doc(j);
        if (!j->loaded) {
            console_busy(c);
            return;
        }
        order_page(c, j->refused == ERR_FORBIDDEN ? 403 : 409, &j->ov, refusal_text(c, j));
        return;
    }
    if (j->act != ACT_EXPORT) {
        char path[80];
        snprintf(path, sizeof path, "/staff/register/%" PRId64 "?done=%s", j->id,
                 j->act == ACT_APPROVE ? "approved" : "closed");
        http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
        web_redirect(c, path);
        return;
    }
    /* Committed: the register row and the audit entries are on disk. */
    char name[96];
    snprintf(name, sizeof name, "civic311-order-%" PRId64 "-export-%" PRId64 ".json", j->id,
             j->receipt.export_id);
    http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
    web_send_download(c, "application/json; charset=utf-8", name, &j->doc);
}

void console_register_order_post(web_ctx *c, const char *rest)
{
    int64_t id;
    char what[16];
    order_act act;
    if (!parse_rest(rest, &id, what) || what[0] == '\0') {
        not_found(c);
        return;
    }
    if (strcmp(what, "approve") == 0)
        act = ACT_APPROVE;
    else if (strcmp(what, "close") == 0)
        act = ACT_CLOSE;
    else if (strcmp(what, "export") == 0)
        act = ACT_EXPORT;
    else {
        not_found(c);
        return;
    }
    kv_list v;
    bool read = act == ACT_EXPORT
                    ? console_read_form(c, EXPORT_FIELDS,
                                        sizeof EXPORT_FIELDS / sizeof EXPORT_FIELDS[0], &v)
                    : console_read_form(c, EXPORT_FIELDS, 1, &v); /* csrf only */
    if (!read) {
        console_unreadable(c);
        return;
    }
    if (!web_csrf_ok(c, &v)) {
        console_expired(c);
        return;
    }
    act_job *j = pool_calloc(http_pool(c->req), 1, sizeof *j);
    if (j == NULL) {
        console_busy(c);
        return;
    }
    j->c = c;
    j->act = act;
    j->id = id;
    j->now = c->app->now();
    if (act == ACT_EXPORT) {
        if (parse_ids(c, kv_get(&v, "requests"), &j->ids, &j->nids) != IDS_OK) {
            console_error(c, 400, web_t(c, I18N_("The form could not be read")),
                          web_t(c, I18N_("Nothing was exported: the request numbers must be "
                                         "numbers the order names, each once, separated by "
                                         "commas. Go back and correct them.")));
            return;
        }
        j->classes = ticked_classes(&v);
        if (j->classes == 0) {
            console_error(c, 400, web_t(c, I18N_("The form could not be read")),
                          web_t(c, I18N_("Nothing was exported: tick at least one class of "
                                         "data. Go back and try again.")));
            return;
        }
    }
    staff_gate_actor(&c->staff->who, j->actor_id, &j->actor);
    console_run_job(c, act_apply, act_done, j);
}
