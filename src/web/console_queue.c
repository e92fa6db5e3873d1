/*
 * console_queue.c - the agency queue and a request's page in the staff
 * console (W3, W4, W5), for agency staff and supervisors, each limited to
 * the requests routed to their own agencies:
 *
 *   GET  /staff/queue                    the queue: filters, sort, paging
 *   POST /staff/queue                    one action on the ticked rows
 *   GET  /staff/requests/{id}            the request, its full history, forms
 *   POST /staff/requests/{id}/change     acknowledge, start, close, reopen,
 *                                        note, transfer, merge
 *   POST /staff/requests/{id}/contact    the reporter's contact details,
 *                                        read through the gatekeeper
 *
 * Every change goes through store_request_change (or _bulk), the one way
 * to change a request, as a job of the writer. A change form carries the
 * newest event id the page showed (store_seen), so a change made on a
 * page someone else has changed meanwhile is refused, not applied.
 *
 * Another agency's request answers exactly as a request that does not
 * exist (404 "no page at this address"), on every URL and every POST, so
 * a member cannot learn which numbers belong to other agencies from the
 * console. Open311 publishes requests' public fields anyway; what the
 * console adds (history with internal notes, actors) stays in the agency.
 *
 * The queue shows no personal data. The request page shows the public
 * fields and the history; the reporter's contact details only on the
 * answer to the "Show contact details" form, read through the gatekeeper
 * as the signed-in member with the purpose they chose, and so on record.
 *
 * The writer thread does every read a POST's answer needs (the request as
 * it is before the change, in the write lock), so a refused change is
 * shown with the request exactly as it is now; done() only renders.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lifecycle.h"
#include "core/query.h"
#include "open311/o311_params.h"
#include "privacy/gate.h"
#include "util/datetime.h"
#include "util/log.h"
#include "web/console.h"

#define QUEUE_PAGE_SIZE 50
#define QUEUE_MAX_PAGE (STORE_QUEUE_MAX_DEPTH / QUEUE_PAGE_SIZE)
#define NEARBY_RADIUS_M 200.0
#define NEARBY_DAYS 90
#define NEARBY_MAX 10

/* ---- what both pages share ---- */

static bool member_has_agency(const staff_member *m, const char *code)
{
    if (code == NULL)
        return false;
    for (size_t i = 0; i < m->nagencies; i++)
        if (strcmp(m->agencies[i], code) == 0)
            return true;
    return false;
}

static void not_found(web_ctx *c)
{
    /* The very answer of an unknown console address (console.c). */
    console_error(c, 404, web_t(c, I18N_("Page not found")),
                  web_t(c, I18N_("There is no page at this address.")));
}

static void service_name(web_ctx *c, buf_t *b, const char *code)
{
    const service *sv = catalog_find_service(c->app->cat, code);
    if (sv != NULL)
        web_catalog_text(c, b, sv->name);
    else
        html_fmt(b, "%s", code);
}

static const char *agency_name(web_ctx *c, const char *code)
{
    const agency *a = code != NULL ? catalog_find_agency(c->app->cat, code) : NULL;
    return a != NULL ? a->name : code;
}

static const char *resolution_label(web_ctx *c, sr_resolution r)
{
    switch (r) {
    case SR_RES_NONE:
        return "";
    case SR_RES_FIXED:
        return web_t(c, I18N_("Fixed"));
    case SR_RES_DUPLICATE:
        return web_t(c, I18N_("Duplicate"));
    case SR_RES_NOT_RESPONSIBLE:
        return web_t(c, I18N_("Not the city's responsibility"));
    case SR_RES_COULD_NOT_FIND:
        return web_t(c, I18N_("Could not find"));
    case SR_RES_NOT_FIXED:
        return web_t(c, I18N_("Closed but not fixed"));
    }
    return "";
}

static const sr_resolution RESOLUTIONS[] = {SR_RES_FIXED, SR_RES_DUPLICATE, SR_RES_NOT_RESPONSIBLE,
                                            SR_RES_COULD_NOT_FIND, SR_RES_NOT_FIXED};
#define NRESOLUTIONS (sizeof RESOLUTIONS / sizeof RESOLUTIONS[0])

static const sr_status STATUSES[] = {SR_OPEN, SR_ACKNOWLEDGED, SR_IN_PROGRESS, SR_REOPENED,
                                     SR_CLOSED};
#define NSTATUSES (sizeof STATUSES / sizeof STATUSES[0])

/* "3 days", "5 hours", "less than an hour": how long ago t was. */
static void put_age(web_ctx *c, buf_t *b, int64_t t, int64_t now)
{
    int64_t s = now > t ? now - t : 0;
    if (s >= 86400)
        html_fmt(b, "%L %s", s / 86400,
                 s / 86400 == 1 ? web_t(c, I18N_("day")) : web_t(c, I18N_("days")));
    else if (s >= 3600)
        html_fmt(b, "%L %s", s / 3600,
                 s / 3600 == 1 ? web_t(c, I18N_("hour")) : web_t(c, I18N_("hours")));
    else
        html_fmt(b, "%s", web_t(c, I18N_("less than an hour")));
}

static void problem_box(web_ctx *c, buf_t *b, const char *title, const char *problem,
                        const char *detail)
{
    (void)c;
    html_fmt(b, "<div class=\"notice error\" role=\"alert\" id=\"problem\"><h2>%s</h2><p>%s", title,
             problem);
    if (detail != NULL)
        html_fmt(b, " <span class=\"target\">%s</span>", detail);
    html_fmt(b, "</p></div>");
}

/* ==== the queue ==== */

typedef struct {
    unsigned status_mask; /* 0 = not closed */
    const char *service;  /* NULL = all */
    bool overdue, unack;
    const char *from_text, *to_text; /* YYYY-MM-DD as typed, or NULL */
    int64_t from, to;
    store_queue_sort sort;
    size_t page;
} q_filters;

static const char *const SORT_NAMES[] = {"oldest", "newest", "sla", "updated"};

/* A day "YYYY-MM-DD" into its first second (UTC); end_of_day: its last. */
static bool parse_day(const char *text, bool end_of_day, int64_t *out)
{
    char iso[32];
    if (strlen(text) != 10)
        return false;
    snprintf(iso, sizeof iso, "%sT%s", text, end_of_day ? "23:59:59Z" : "00:00:00Z");
    return dt_parse(iso, strlen(iso), out);
}

/* The filters of v (the query, or the bulk form's copies of it); NULL,
 * or what is wrong (translated; c->bad_field names the field). */
static const char *parse_filters(web_ctx *c, const kv_list *v, q_filters *f)
{
    memset(f, 0, sizeof *f);
    f->page = 1;
    for (size_t i = 0; i < v->count; i++) {
        if (strcmp(v->items[i].key, "status") != 0)
            continue;
        sr_status st;
        if (!sr_status_parse(v->items[i].value, &st)) {
            c->bad_field = "status";
            return web_t(c, I18N_("Choose statuses from the list."));
        }
        f->status_mask |= SRQ_STATUS_BIT(st);
    }
    const char *sv = kv_get(v, "service");
    if (sv != NULL && *sv != '\0') {
        if (catalog_find_service(c->app->cat, sv) == NULL) {
            c->bad_field = "service";
            return web_t(c, I18N_("Choose a service from the list."));
        }
        f->service = sv;
    }
    f->overdue = kv_get(v, "overdue") != NULL;
    f->unack = kv_get(v, "unack") != NULL;
    const char *from = kv_get(v, "from"), *to = kv_get(v, "to");
    if (from != NULL && *from != '\0') {
        if (!parse_day(from, false, &f->from)) {
            c->bad_field = "from";
            return web_t(c, I18N_("Write the dates as YYYY-MM-DD, such as 2026-11-23."));
        }
        f->from_text = from;
    }
    if (to != NULL && *to != '\0') {
        if (!parse_day(to, true, &f->to)) {
            c->bad_field = "to";
            return web_t(c, I18N_("Write the dates as YYYY-MM-DD, such as 2026-11-23."));
        }
        f->to_text = to;
    }
    if (f->from != 0 && f->to != 0 && f->from > f->to) {
        c->bad_field = "to";
        return web_t(c, I18N_("The end of the filing window is before its start."));
    }
    const char *sort = kv_get(v, "sort");
    if (sort != NULL && *sort != '\0') {
        size_t i = 0;
        while (i < 4 && strcmp(sort, SORT_NAMES[i]) != 0)
            i++;
        if (i == 4) {
            c->bad_field = "sort";
            return web_t(c, I18N_("Choose an order from the list."));
        }
        f->sort = (store_queue_sort)i;
    }
    if ((f->sort == STORE_QUEUE_SLA || f->overdue) &&
        (f->status_mask & SRQ_STATUS_BIT(SR_CLOSED))) {
        c->bad_field = "status";
        return web_t(c, I18N_("The SLA order and \"overdue\" are for requests not closed: "
                              "untick Closed, or choose another order."));
    }
    const char *page = kv_get(v, "page");
    if (page != NULL) {
        int64_t n = 0;
        if (!sr_parse_id(page, &n) || n > QUEUE_MAX_PAGE) {
            c->bad_field = "page";
            return web_t(c, I18N_("There is no such page of the queue: narrow the filters."));
        }
        f->page = (size_t)n;
    }
    return NULL;
}

/* The query string of f at page (for links and redirects), URL-encoded. */
static void filters_query(buf_t *b, const q_filters *f, size_t page)
{
    html_fmt(b, "sort=%u", SORT_NAMES[f->sort]);
    for (size_t i = 0; i < NSTATUSES; i++)
        if (f->status_mask & SRQ_STATUS_BIT(STATUSES[i]))
            html_fmt(b, "&status=%u", sr_status_name(STATUSES[i]));
    if (f->service != NULL)
        html_fmt(b, "&service=%u", f->service);
    if (f->overdue)
        html_fmt(b, "&overdue=1");
    if (f->unack)
        html_fmt(b, "&unack=1");
    if (f->from_text != NULL)
        html_fmt(b, "&from=%u", f->from_text);
    if (f->to_text != NULL)
        html_fmt(b, "&to=%u", f->to_text);
    if (page > 1)
        buf_printf(b, "&page=%zu", page);
}

typedef struct {
    bool loaded;
    store_queue_row *rows;
    size_t count;
    int64_t total;
    const char **districts; /* per row, NULL = none */
} q_data;

static err_code load_queue(store_t *s, pool_t *pool, const staff_member *m, const q_filters *f,
                           int64_t now, q_data *d, err_t *err)
{
    store_queue_query q = {
        .agency_codes = m->agencies,
        .nagency_codes = m->nagencies,
        .status_mask = f->status_mask,
        .service_codes = f->service != NULL ? &f->service : NULL,
        .nservice_codes = f->service != NULL ? 1 : 0,
        .filed_from = f->from,
        .filed_to = f->to,
        .overdue = f->overdue,
        .unacknowledged = f->unack,
        .now = now,
        .sort = f->sort,
        .page = f->page,
        .page_size = QUEUE_PAGE_SIZE,
    };
    err_code rc = store_queue_search(s, &q, pool, &d->rows, &d->count, &d->total, err);
    if (rc != ERR_OK)
        return rc;
    if (d->count > 0 && (d->districts = pool_calloc(pool, d->count, sizeof *d->districts)) == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    /* The district is not a queue column: one read by key per row of a
     * page (at most QUEUE_PAGE_SIZE). */
    for (size_t i = 0; i < d->count; i++) {
        service_request sr;
        rc = store_request_get(s, d->rows[i].id, pool, &sr, err);
        if (rc == ERR_NOT_FOUND)
            continue;
        if (rc != ERR_OK)
            return rc;
        d->districts[i] = sr.district;
    }
    d->loaded = true;
    return ERR_OK;
}

static void filter_form(web_ctx *c, buf_t *b, const q_filters *f)
{
    html_fmt(b,
             "<form method=\"get\" action=\"/staff/queue\" class=\"filters\">"
             "<h2>%s</h2><fieldset class=\"field\"><legend>%s</legend>",
             web_t(c, I18N_("Filters")), web_t(c, I18N_("Status")));
    for (size_t i = 0; i < NSTATUSES; i++) {
        const char *name = sr_status_name(STATUSES[i]);
        html_fmt(b,
                 "<div class=\"choice\"><input type=\"checkbox\" id=\"st-%s\" name=\"status\" "
                 "value=\"%s\"%R><label for=\"st-%s\">%s</label></div>",
                 name, name, (f->status_mask & SRQ_STATUS_BIT(STATUSES[i])) ? " checked" : "", name,
                 web_status_text(c, (int)STATUSES[i]));
    }
    html_fmt(b, "<p class=\"hint\">%s</p></fieldset>",
             web_t(c, I18N_("None ticked: every request not closed yet.")));
    html_fmt(b,
             "<div class=\"field\"><label for=\"service\">%s</label>"
             "<select id=\"service\" name=\"service\"><option value=\"\">%s</option>",
             web_t(c, I18N_("Service")), web_t(c, I18N_("All services")));
    const catalog *cat = c->app->cat;
    for (size_t i = 0; i < cat->nservices; i++) {
        const service *sv = &cat->services[i];
        html_fmt(b, "<option value=\"%s\"%R>", sv->code,
                 f->service != NULL && strcmp(f->service, sv->code) == 0 ? " selected" : "");
        web_catalog_text(c, b, sv->name);
        html_fmt(b, "</option>");
    }
    html_fmt(b, "</select></div>");
    html_fmt(b,
             "<div class=\"choice\"><input type=\"checkbox\" id=\"overdue\" name=\"overdue\" "
             "value=\"1\"%R><label for=\"overdue\">%s</label></div>"
             "<div class=\"choice\"><input type=\"checkbox\" id=\"unack\" name=\"unack\" "
             "value=\"1\"%R><label for=\"unack\">%s</label></div>",
             f->overdue ? " checked" : "", web_t(c, I18N_("Overdue only (past the SLA)")),
             f->unack ? " checked" : "",
             web_t(c, I18N_("Not acknowledged yet only (open or reopened)")));
    html_fmt(b,
             "<div class=\"field\"><label for=\"from\">%s</label><p class=\"hint\" "
             "id=\"from-hint\">%s</p><input type=\"date\" id=\"from\" name=\"from\" "
             "aria-describedby=\"from-hint\" value=\"%s\"></div>"
             "<div class=\"field\"><label for=\"to\">%s</label><input type=\"date\" id=\"to\" "
             "name=\"to\" aria-describedby=\"from-hint\" value=\"%s\"></div>",
             web_t(c, I18N_("Filed from")), web_t(c, I18N_("Dates as YYYY-MM-DD (UTC).")),
             f->from_text != NULL ? f->from_text : "", web_t(c, I18N_("Filed until")),
             f->to_text != NULL ? f->to_text : "");
    const char *sort_labels[4] = {web_t(c, I18N_("Oldest first")), web_t(c, I18N_("Newest first")),
                                  web_t(c, I18N_("SLA due soonest")),
                                  web_t(c, I18N_("Recently updated"))};
    html_fmt(b,
             "<div class=\"field\"><label for=\"sort\">%s</label>"
             "<select id=\"sort\" name=\"sort\">",
             web_t(c, I18N_("Order")));
    for (size_t i = 0; i < 4; i++)
        html_fmt(b, "<option value=\"%s\"%R>%s</option>", SORT_NAMES[i],
                 (size_t)f->sort == i ? " selected" : "", sort_labels[i]);
    html_fmt(b,
             "</select></div><p class=\"actions\"><button type=\"submit\">%s</button> "
             "<a href=\"/staff/queue\">%s</a></p></form>",
             web_t(c, I18N_("Show")), web_t(c, I18N_("Clear the filters")));
}

/* Whether id was ticked in the bulk form that is shown again. */
static bool ticked(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void filters_hidden(web_ctx *c, buf_t *b, const q_filters *f)
{
    (void)c;
    html_fmt(b, "<input type=\"hidden\" name=\"sort\" value=\"%s\">", SORT_NAMES[f->sort]);
    for (size_t i = 0; i < NSTATUSES; i++)
        if (f->status_mask & SRQ_STATUS_BIT(STATUSES[i]))
            html_fmt(b, "<input type=\"hidden\" name=\"status\" value=\"%s\">",
                     sr_status_name(STATUSES[i]));
    if (f->service != NULL)
        html_fmt(b, "<input type=\"hidden\" name=\"service\" value=\"%s\">", f->service);
    if (f->overdue)
        html_fmt(b, "<input type=\"hidden\" name=\"overdue\" value=\"1\">");
    if (f->unack)
        html_fmt(b, "<input type=\"hidden\" name=\"unack\" value=\"1\">");
    if (f->from_text != NULL)
        html_fmt(b, "<input type=\"hidden\" name=\"from\" value=\"%s\">", f->from_text);
    if (f->to_text != NULL)
        html_fmt(b, "<input type=\"hidden\" name=\"to\" value=\"%s\">", f->to_text);
    if (f->page > 1)
        html_fmt(b, "<input type=\"hidden\" name=\"page\" value=\"%L\">", (int64_t)f->page);
}

/* The bulk form's choices, kept when it is shown again. */
typedef struct {
    const char *action;
    const char *resolution;
    const char *note;
} bulk_choice;

static void resolution_select(web_ctx *c, buf_t *b, const char *id, const char *chosen)
{
    html_fmt(b,
             "<div class=\"field\"><label for=\"%s\">%s</label><select id=\"%s\" "
             "name=\"resolution\"><option value=\"\">%s</option>",
             id, web_t(c, I18N_("Resolution")), id, web_t(c, I18N_("Choose one")));
    for (size_t i = 0; i < NRESOLUTIONS; i++) {
        const char *name = sr_resolution_name(RESOLUTIONS[i]);
        html_fmt(b, "<option value=\"%s\"%R>%s</option>", name,
                 chosen != NULL && strcmp(chosen, name) == 0 ? " selected" : "",
                 resolution_label(c, RESOLUTIONS[i]));
    }
    html_fmt(b, "</select></div>");
}

static void queue_table(web_ctx *c, buf_t *b, const q_filters *f, const q_data *d,
                        const int64_t *ids, size_t nids, const bulk_choice *bc, int64_t now)
{
    html_fmt(b, "<h2 id=\"found\">%s: %L</h2>", web_t(c, I18N_("Requests found")), d->total);
    if (d->count == 0) {
        html_fmt(b, "<p>%s</p>", web_t(c, I18N_("No request matches these filters.")));
        return;
    }
    html_fmt(b, "<form method=\"post\" action=\"/staff/queue\">");
    web_csrf_field(c, b);
    filters_hidden(c, b, f);
    html_fmt(b,
             "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" "
             "aria-labelledby=\"queue-caption\"><table><caption id=\"queue-caption\">%s"
             "</caption><thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr></thead><tbody>",
             web_t(c, I18N_("Your agencies' requests")), web_t(c, I18N_("Select")),
             web_t(c, I18N_("Number")), web_t(c, I18N_("Service")), web_t(c, I18N_("Status")),
             web_t(c, I18N_("Age")), web_t(c, I18N_("SLA due")), web_t(c, I18N_("District")));
    for (size_t i = 0; i < d->count; i++) {
        const store_queue_row *r = &d->rows[i];
        html_fmt(b,
                 "<tr><td><input type=\"checkbox\" id=\"tick-%L\" name=\"id\" value=\"%L\"%R>"
                 "<label for=\"tick-%L\" class=\"sr\">%s %L</label></td>"
                 "<th scope=\"row\"><a href=\"/staff/requests/%L\">%L</a></th><td>",
                 r->id, r->id, ticked(ids, nids, r->id) ? " checked" : "", r->id,
                 web_t(c, I18N_("Select request")), r->id, r->id, r->id);
        service_name(c, b, r->service_code);
        html_fmt(b, "</td><td>%s", web_status_text(c, (int)r->status));
        if (r->status == SR_CLOSED)
            html_fmt(b, " (%s)", resolution_label(c, r->resolution));
        html_fmt(b, "</td><td>");
        put_age(c, b, r->requested_at, now);
        html_fmt(b, "</td><td>");
        if (r->expected_at == 0) {
            html_fmt(b, "%s", web_t(c, I18N_("no SLA")));
        } else {
            web_put_time(c, b, r->expected_at);
            if (r->overdue)
                html_fmt(b, " <strong class=\"error\">%s</strong>", web_t(c, I18N_("Overdue")));
        }
        html_fmt(b, "</td><td>%s</td></tr>", d->districts[i] != NULL ? d->districts[i] : "");
    }
    html_fmt(b, "</tbody></table></div>");
    /* One action for every ticked row. */
    const char *act = bc != NULL ? bc->action : NULL;
    static const char *const ACTS[] = {"acknowledge", "start", "close"};
    const char *act_labels[3] = {web_t(c, I18N_("Acknowledge")),
                                 web_t(c, I18N_("Mark as in progress")),
                                 web_t(c, I18N_("Close with a resolution"))};
    html_fmt(b, "<fieldset><legend>%s</legend><p class=\"hint\">%s</p>",
             web_t(c, I18N_("Change the ticked requests")),
             web_t(c, I18N_("All of them change, or none: if one cannot, nothing is changed "
                            "and the page says which one and why.")));
    for (size_t i = 0; i < 3; i++)
        html_fmt(b,
                 "<div class=\"choice\"><input type=\"radio\" id=\"do-%s\" name=\"do\" "
                 "value=\"%s\"%R><label for=\"do-%s\">%s</label></div>",
                 ACTS[i], ACTS[i], act != NULL && strcmp(act, ACTS[i]) == 0 ? " checked" : "",
                 ACTS[i], act_labels[i]);
    resolution_select(c, b, "bulk-resolution", bc != NULL ? bc->resolution : NULL);
    html_fmt(b,
             "<div class=\"field\"><label for=\"bulk-note\">%s</label><p class=\"hint\" "
             "id=\"bulk-note-hint\">%s</p><textarea id=\"bulk-note\" name=\"note\" rows=\"3\" "
             "maxlength=\"4000\" aria-describedby=\"bulk-note-hint\">%s</textarea></div>"
             "<p class=\"actions\"><button type=\"submit\">%s</button></p></fieldset></form>",
             web_t(c, I18N_("Public note")),
             web_t(c, I18N_("Shown to the reporter and on Open311. Closing needs a resolution; "
                            "every resolution but Fixed needs a note saying why.")),
             bc != NULL && bc->note != NULL ? bc->note : "",
             web_t(c, I18N_("Apply to the ticked requests")));
    /* Paging. */
    size_t pages = (size_t)((d->total + QUEUE_PAGE_SIZE - 1) / QUEUE_PAGE_SIZE);
    if (pages > 1) {
        html_fmt(b, "<nav aria-label=\"%s\"><p class=\"actions\">", web_t(c, I18N_("Pages")));
        if (f->page > 1) {
            html_fmt(b, "<a href=\"/staff/queue?");
            filters_query(b, f, f->page - 1);
            html_fmt(b, "\" rel=\"prev\">%s</a>", web_t(c, I18N_("Previous page")));
        }
        html_fmt(b, "<span>%s %L / %L</span>", web_t(c, I18N_("Page")), (int64_t)f->page,
                 (int64_t)pages);
        if (f->page < pages && f->page < QUEUE_MAX_PAGE) {
            html_fmt(b, "<a href=\"/staff/queue?");
            filters_query(b, f, f->page + 1);
            html_fmt(b, "\" rel=\"next\">%s</a>", web_t(c, I18N_("Next page")));
        }
        html_fmt(b, "</p></nav>");
    }
}

static void queue_page(web_ctx *c, int status, const q_filters *f, const q_data *d,
                       const char *problem, const char *detail, const int64_t *ids, size_t nids,
                       const bulk_choice *bc)
{
    buf_t b = BUF_INIT;
    int64_t now = c->app->now();
    console_page_begin(c, &b, web_t(c, I18N_("Agency queue")));
    html_fmt(&b, "<h1>%s</h1><p class=\"lead\">%s ", web_t(c, I18N_("Agency queue")),
             web_t(c, I18N_("Requests routed to")));
    const staff_member *m = &c->staff->who;
    for (size_t i = 0; i < m->nagencies; i++)
        html_fmt(&b, "%R%s", i ? ", " : "", agency_name(c, m->agencies[i]));
    html_fmt(&b, ".</p>");
    const char *done = kv_get(&c->query, "done");
    const char *moved = kv_get(&c->query, "moved");
    int64_t n = 0;
    if (problem == NULL && done != NULL && sr_parse_id(done, &n))
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s %L</p></div>",
                 web_t(c, I18N_("Requests changed:")), n);
    if (problem == NULL && moved != NULL && sr_parse_id(moved, &n))
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s %L</p></div>",
                 web_t(c, I18N_("Transferred to another agency: request")), n);
    if (problem != NULL)
        problem_box(c, &b, web_t(c, I18N_("Nothing was changed")), problem, detail);
    filter_form(c, &b, f);
    if (d != NULL && d->loaded)
        queue_table(c, &b, f, d, ids, nids, bc, now);
    console_page_end(c, &b);
    console_send(c, status, &b);
}

void console_queue_get(web_ctx *c, const char *rest)
{
    (void)rest;
    q_filters f;
    const char *problem = parse_filters(c, &c->query, &f);
    if (problem != NULL) {
        q_filters none;
        memset(&none, 0, sizeof none);
        buf_t b = BUF_INIT;
        console_page_begin(c, &b, web_t(c, I18N_("Agency queue")));
        html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Agency queue")));
        problem_box(c, &b, web_t(c, I18N_("Please check the filters")), problem, NULL);
        filter_form(c, &b, &none);
        console_page_end(c, &b);
        console_send(c, 400, &b);
        return;
    }
    err_t err;
    q_data d;
    memset(&d, 0, sizeof d);
    store_t *s = web_reader(c, &err);
    err_code rc =
        s != NULL ? load_queue(s, http_pool(c->req), &c->staff->who, &f, c->app->now(), &d, &err)
                  : err.code;
    if (rc != ERR_OK) {
        log_error("console: the queue could not be read: %s", err.msg);
        console_error(c, 503, web_t(c, I18N_("Something went wrong")),
                      web_t(c, I18N_("The list could not be read. Please try again in a "
                                     "minute.")));
        return;
    }
    queue_page(c, 200, &f, &d, NULL, NULL, NULL, 0, NULL);
}

/* ---- bulk actions ---- */

typedef struct {
    web_ctx *c;
    q_filters f;
    q_data d;
    int64_t ids[QUEUE_PAGE_SIZE * 2];
    size_t nids;
    bulk_choice bc;
    lc_change ch;
    int64_t now;
    bool refused;
    char why[ERR_MSG_MAX];
} bulk_job;

static err_code bulk_apply(store_t *s, void *arg, err_t *err)
{
    bulk_job *j = arg;
    web_ctx *c = j->c;
    pool_t *pool = http_pool(c->req);
    const staff_member *m = &c->staff->who;
    /* The queue as it is before the change: on a refusal (rolled back) it
     * is the queue as it is now. */
    err_code rc = load_queue(s, pool, m, &j->f, j->now, &j->d, err);
    if (rc != ERR_OK)
        return rc;
    for (size_t i = 0; i < j->nids; i++) {
        service_request sr;
        rc = store_request_get(s, j->ids[i], pool, &sr, err);
        if (rc != ERR_OK && rc != ERR_NOT_FOUND)
            return rc;
        if (rc == ERR_NOT_FOUND || !member_has_agency(m, sr.agency_code)) {
            j->refused = true;
            snprintf(j->why, sizeof j->why, "request %" PRId64 ": not in your agencies' queue",
                     j->ids[i]);
            return err_set(err, ERR_NOT_FOUND, "bulk: a request not in the queue");
        }
    }
    rc = store_request_change_bulk(s, c->app->cat, j->ids, j->nids, &j->ch, pool, NULL, err);
    if (rc == ERR_INVALID || rc == ERR_NOT_FOUND || rc == ERR_CONFLICT) {
        j->refused = true;
        snprintf(j->why, sizeof j->why, "%s", err->msg);
    }
    return rc;
}

static void bulk_done(void *arg, err_code rc, const err_t *err)
{
    bulk_job *j = arg;
    web_ctx *c = j->c;
    if (j->refused) {
        queue_page(c, 409, &j->f, &j->d,
                   web_t(c, I18N_("Nothing was changed: one of the ticked requests cannot "
                                  "take this change. The request and the rule:")),
                   j->why, j->ids, j->nids, &j->bc);
        return;
    }
    if (rc != ERR_OK) {
        log_error("console: a bulk change failed: %s", err->msg);
        console_busy(c);
        return;
    }
    buf_t loc = BUF_INIT;
    html_fmt(&loc, "/staff/queue?");
    filters_query(&loc, &j->f, j->f.page);
    buf_printf(&loc, "&done=%zu", j->nids);
    http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
    if (buf_failed(&loc))
        web_redirect(c, "/staff/queue");
    else
        web_redirect(c, loc.data);
    buf_free(&loc);
}

static const char *const BULK_FIELDS[] = {"csrf",   "id",      "do",      "resolution", "note",
                                          "status", "service", "overdue", "unack",      "from",
                                          "to",     "sort",    "page"};

/* The bulk form: its fields each once but "id" and "status". */
static bool read_bulk_form(web_ctx *c, kv_list *v)
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
        const char *k = v->items[i].key;
        bool known = false;
        for (size_t f = 0; f < sizeof BULK_FIELDS / sizeof BULK_FIELDS[0] && !known; f++)
            known = strcmp(k, BULK_FIELDS[f]) == 0;
        if (!known)
            return false;
        if (strcmp(k, "id") != 0 && strcmp(k, "status") != 0 && kv_count(v, k) != 1)
            return false;
    }
    return true;
}

void console_queue_post(web_ctx *c, const char *rest)
{
    (void)rest;
    kv_list *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
    bulk_job *j = pool_calloc(http_pool(c->req), 1, sizeof *j);
    if (v == NULL || j == NULL) {
        console_busy(c);
        return;
    }
    if (!read_bulk_form(c, v)) {
        console_unreadable(c);
        return;
    }
    if (!web_csrf_ok(c, v)) {
        console_expired(c);
        return;
    }
    const char *problem = parse_filters(c, v, &j->f);
    if (problem != NULL) {
        console_unreadable(c);
        return;
    }
    j->c = c;
    j->now = c->app->now();
    j->bc.action = kv_get(v, "do");
    j->bc.resolution = kv_get(v, "resolution");
    j->bc.note = kv_get(v, "note");
    for (size_t i = 0; i < v->count; i++) {
        if (strcmp(v->items[i].key, "id") != 0)
            continue;
        int64_t id;
        if (!sr_parse_id(v->items[i].value, &id) || j->nids == sizeof j->ids / sizeof j->ids[0] ||
            ticked(j->ids, j->nids, id)) {
            console_unreadable(c);
            return;
        }
        j->ids[j->nids++] = id;
    }
    const char *act = j->bc.action;
    lc_change *ch = &j->ch;
    ch->set_status = true;
    if (act != NULL && strcmp(act, "acknowledge") == 0) {
        ch->status = SR_ACKNOWLEDGED;
    } else if (act != NULL && strcmp(act, "start") == 0) {
        ch->status = SR_IN_PROGRESS;
    } else if (act != NULL && strcmp(act, "close") == 0) {
        ch->status = SR_CLOSED;
        const char *res = j->bc.resolution;
        if (res == NULL || *res == '\0' || !sr_resolution_parse(res, &ch->resolution))
            problem = web_t(c, I18N_("Closing needs a resolution: choose one."));
    } else {
        problem = web_t(c, I18N_("Choose what to do with the ticked requests."));
    }
    if (problem == NULL && j->nids == 0)
        problem = web_t(c, I18N_("Tick at least one request."));
    const char *note = j->bc.note;
    ch->note = note != NULL && *note != '\0' ? note : NULL;
    ch->note_public = true;
    ch->actor = console_actor(c);
    ch->at = j->now;
    if (problem != NULL) {
        err_t err;
        store_t *s = web_reader(c, &err);
        err_code rc =
            s != NULL ? load_queue(s, http_pool(c->req), &c->staff->who, &j->f, j->now, &j->d, &err)
                      : err.code;
        if (rc != ERR_OK) {
            log_error("console: the queue could not be read: %s", err.msg);
            console_busy(c);
            return;
        }
        queue_page(c, 400, &j->f, &j->d, problem, NULL, j->ids, j->nids, &j->bc);
        return;
    }
    console_run_job(c, bulk_apply, bulk_done, j);
}

/* ==== one request ==== */

typedef struct {
    bool found; /* visible, and routed to one of the member's agencies */
    service_request sr;
    sr_event *ev;
    size_t nev;
    const char **who; /* per event: a member's login for "staff:N", else NULL */
    int64_t last_event;
    service_request *near;
    size_t nnear;
} r_view;

static err_code load_view(store_t *s, pool_t *pool, const staff_member *m, int64_t id, int64_t now,
                          r_view *v, err_t *err)
{
    memset(v, 0, sizeof *v);
    err_code rc = store_request_get(s, id, pool, &v->sr, err);
    if (rc == ERR_NOT_FOUND)
        return ERR_OK;
    if (rc != ERR_OK)
        return rc;
    if (!member_has_agency(m, v->sr.agency_code))
        return ERR_OK;
    v->found = true;
    rc = store_events_list(s, id, false, pool, &v->ev, &v->nev, err);
    if (rc != ERR_OK)
        return rc;
    if (v->nev > 0 && (v->who = pool_calloc(pool, v->nev, sizeof *v->who)) == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < v->nev; i++) {
        if (v->ev[i].id > v->last_event)
            v->last_event = v->ev[i].id;
        int64_t sid = 0;
        const char *a = v->ev[i].actor;
        if (a == NULL || strncmp(a, "staff:", 6) != 0 || !sr_parse_id(a + 6, &sid))
            continue;
        for (size_t k = 0; k < i && v->who[i] == NULL; k++)
            if (v->who[k] != NULL && v->ev[k].actor != NULL && strcmp(v->ev[k].actor, a) == 0)
                v->who[i] = v->who[k];
        if (v->who[i] != NULL)
            continue;
        staff_member who;
        rc = staff_load(s, sid, pool, &who, err);
        if (rc == ERR_OK)
            v->who[i] = who.login;
        else if (rc != ERR_NOT_FOUND)
            return rc;
    }
    if (v->sr.status != SR_CLOSED && v->sr.has_location) {
        service_request *near = NULL;
        size_t n = 0;
        rc = store_nearby_open(s, v->sr.service_code, v->sr.lat, v->sr.lon, NEARBY_RADIUS_M,
                               now - NEARBY_DAYS * 86400, NEARBY_MAX + 1, pool, &near, &n, err);
        if (rc != ERR_OK)
            return rc;
        v->near = near;
        for (size_t i = 0; i < n; i++)
            if (near[i].id != id && near[i].merged_into == 0)
                v->near[v->nnear++] = near[i];
    }
    return ERR_OK;
}

/* What a page's answer shows besides the request. */
typedef struct {
    const char *notice;  /* success */
    const char *problem; /* refusal */
    const char *detail;  /* the rule that refused, as the lifecycle says it */
    const char *problem_title;
    bool contact_read; /* the contact form was sent: show its outcome */
    bool contact_refused;
    const gate_view *contact;
    const kv_list *form; /* the refused form's values, to keep them */
    const char *form_do;
} r_extra;

static const char *actor_text(web_ctx *c, const r_view *v, size_t i)
{
    if (v->who[i] != NULL)
        return v->who[i];
    const char *a = v->ev[i].actor;
    if (a == NULL)
        return "";
    if (strncmp(a, "staff:", 6) == 0)
        return web_t(c, I18N_("a former member of staff"));
    return a;
}

static const char *kind_text(web_ctx *c, const sr_event *e)
{
    switch (e->kind) {
    case SR_EV_CREATED:
        return web_t(c, I18N_("Filed"));
    case SR_EV_STATUS:
        return web_t(c, I18N_("Status changed"));
    case SR_EV_NOTE:
        return web_t(c, I18N_("Note"));
    case SR_EV_TRANSFER:
        return web_t(c, I18N_("Transferred"));
    case SR_EV_MERGE:
        return web_t(c, I18N_("Merged as a duplicate"));
    }
    return "";
}

static void history(web_ctx *c, buf_t *b, const r_view *v)
{
    html_fmt(b, "<h2 id=\"history\">%s</h2><ol class=\"history\">", web_t(c, I18N_("History")));
    for (size_t i = 0; i < v->nev; i++) {
        const sr_event *e = &v->ev[i];
        html_fmt(b, "<li><p>");
        web_put_time(c, b, e->at);
        html_fmt(b, ": <strong>%s</strong>, %s %s. %s: %s", kind_text(c, e), web_t(c, I18N_("by")),
                 actor_text(c, v, i), web_t(c, I18N_("Status")),
                 web_status_text(c, (int)e->status));
        if (e->status == SR_CLOSED)
            html_fmt(b, " (%s)", resolution_label(c, e->resolution));
        if (e->kind == SR_EV_TRANSFER)
            html_fmt(b, ". %s %s %s %s", web_t(c, I18N_("From")),
                     e->from_agency != NULL ? agency_name(c, e->from_agency) : "-",
                     web_t(c, I18N_("to")), agency_name(c, e->to_agency));
        if (e->kind == SR_EV_MERGE)
            html_fmt(b, ". %s %L", web_t(c, I18N_("Now follows request")), e->merged_into);
        html_fmt(b, "</p>");
        if (e->note != NULL)
            html_fmt(b, "<p><strong>%s</strong> %s</p>",
                     e->public_note ? web_t(c, I18N_("Public note:"))
                                    : web_t(c, I18N_("Internal note (staff only):")),
                     e->note);
        html_fmt(b, "</li>");
    }
    html_fmt(b, "</ol>");
}

/* Opens a change form: action, hidden do and seen. */
static void change_open(web_ctx *c, buf_t *b, const r_view *v, const char *action)
{
    html_fmt(b, "<form method=\"post\" action=\"/staff/requests/%L/change\">", v->sr.id);
    web_csrf_field(c, b);
    html_fmt(b,
             "<input type=\"hidden\" name=\"do\" value=\"%s\">"
             "<input type=\"hidden\" name=\"seen\" value=\"%L\">",
             action, v->last_event);
}

static const char *kept(const r_extra *x, const char *action, const char *field)
{
    if (x->form == NULL || x->form_do == NULL || strcmp(x->form_do, action) != 0)
        return NULL;
    return kv_get(x->form, field);
}

static void note_field(web_ctx *c, buf_t *b, const char *action, const char *label,
                       const char *hint, const char *value)
{
    (void)c;
    html_fmt(b, "<div class=\"field\"><label for=\"note-%s\">%s</label>", action, label);
    if (hint != NULL)
        html_fmt(b, "<p class=\"hint\" id=\"note-%s-hint\">%s</p>", action, hint);
    html_fmt(b, "<textarea id=\"note-%s\" name=\"note\" rows=\"3\" maxlength=\"4000\"", action);
    if (hint != NULL)
        html_fmt(b, " aria-describedby=\"note-%s-hint\"", action);
    html_fmt(b, ">%s</textarea></div>", value != NULL ? value : "");
}

static void visibility_field(web_ctx *c, buf_t *b, const char *action, const char *chosen)
{
    bool internal = chosen != NULL ? strcmp(chosen, "internal") == 0 : false;
    html_fmt(b,
             "<fieldset class=\"field\"><legend>%s</legend>"
             "<div class=\"choice\"><input type=\"radio\" id=\"vis-%s-public\" "
             "name=\"visibility\" value=\"public\"%R><label for=\"vis-%s-public\">%s</label>"
             "</div><div class=\"choice\"><input type=\"radio\" id=\"vis-%s-internal\" "
             "name=\"visibility\" value=\"internal\"%R><label for=\"vis-%s-internal\">%s"
             "</label></div></fieldset>",
             web_t(c, I18N_("Who sees the note")), action, internal ? "" : " checked", action,
             web_t(c, I18N_("Public: the reporter and Open311")), action,
             internal ? " checked" : "", action, web_t(c, I18N_("Internal: staff only")));
}

static void button(web_ctx *c, buf_t *b, const char *text)
{
    (void)c;
    html_fmt(b, "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>", text);
}

static void change_forms(web_ctx *c, buf_t *b, const r_view *v, const r_extra *x)
{
    sr_status st = v->sr.status;
    html_fmt(b, "<h2 id=\"work\">%s</h2>", web_t(c, I18N_("Work on this request")));
    if (lc_status_allowed(st, SR_ACKNOWLEDGED)) {
        change_open(c, b, v, "acknowledge");
        button(c, b, web_t(c, I18N_("Acknowledge")));
    }
    if (lc_status_allowed(st, SR_IN_PROGRESS)) {
        change_open(c, b, v, "start");
        button(c, b, web_t(c, I18N_("Mark as in progress")));
    }
    if (lc_status_allowed(st, SR_CLOSED)) {
        html_fmt(b, "<h3>%s</h3>", web_t(c, I18N_("Close")));
        change_open(c, b, v, "close");
        resolution_select(c, b, "close-resolution", kept(x, "close", "resolution"));
        note_field(c, b, "close", web_t(c, I18N_("Public note")),
                   web_t(c, I18N_("Shown to the reporter and on Open311. Every resolution but "
                                  "Fixed needs one saying why.")),
                   kept(x, "close", "note"));
        button(c, b, web_t(c, I18N_("Close the request")));
    }
    if (lc_status_allowed(st, SR_REOPENED)) {
        html_fmt(b, "<h3>%s</h3>", web_t(c, I18N_("Reopen")));
        change_open(c, b, v, "reopen");
        note_field(c, b, "reopen", web_t(c, I18N_("Why it is reopened")), NULL,
                   kept(x, "reopen", "note"));
        visibility_field(c, b, "reopen", kept(x, "reopen", "visibility"));
        button(c, b, web_t(c, I18N_("Reopen the request")));
    }
    html_fmt(b, "<h3>%s</h3>", web_t(c, I18N_("Add a note")));
    change_open(c, b, v, "note");
    note_field(c, b, "note", web_t(c, I18N_("Note")), NULL, kept(x, "note", "note"));
    visibility_field(c, b, "note", kept(x, "note", "visibility"));
    button(c, b, web_t(c, I18N_("Add the note")));
    if (st == SR_CLOSED)
        return;
    html_fmt(b, "<h3>%s</h3>", web_t(c, I18N_("Transfer to another agency")));
    change_open(c, b, v, "transfer");
    const char *to = kept(x, "transfer", "agency");
    html_fmt(b,
             "<div class=\"field\"><label for=\"transfer-agency\">%s</label>"
             "<select id=\"transfer-agency\" name=\"agency\"><option value=\"\">%s</option>",
             web_t(c, I18N_("Agency")), web_t(c, I18N_("Choose one")));
    const catalog *cat = c->app->cat;
    for (size_t i = 0; i < cat->nagencies; i++) {
        const agency *a = &cat->agencies[i];
        if (v->sr.agency_code != NULL && strcmp(a->code, v->sr.agency_code) == 0)
            continue;
        html_fmt(b, "<option value=\"%s\"%R>%s</option>", a->code,
                 to != NULL && strcmp(to, a->code) == 0 ? " selected" : "", a->name);
    }
    html_fmt(b, "</select></div>");
    note_field(c, b, "transfer", web_t(c, I18N_("Why it goes there")),
               web_t(c, I18N_("Required. The other agency reads it.")),
               kept(x, "transfer", "note"));
    visibility_field(c, b, "transfer", kept(x, "transfer", "visibility"));
    button(c, b, web_t(c, I18N_("Transfer")));
}

static void nearby(web_ctx *c, buf_t *b, const r_view *v, const r_extra *x, int64_t now)
{
    if (v->sr.status == SR_CLOSED || !v->sr.has_location)
        return;
    html_fmt(b, "<h2 id=\"nearby\">%s</h2>", web_t(c, I18N_("Open requests nearby")));
    if (v->nnear == 0) {
        html_fmt(b, "<p>%s</p>",
                 web_t(c, I18N_("No other open request of this service within 200 metres.")));
        return;
    }
    html_fmt(b, "<p class=\"hint\">%s</p><ul class=\"services\">",
             web_t(c, I18N_("Of the same service, within 200 metres, filed in the last 90 "
                            "days. If one is the same problem, merge this request into it: "
                            "this one closes as a duplicate and its followers follow that "
                            "one.")));
    const char *into_kept = kept(x, "merge", "into");
    for (size_t i = 0; i < v->nnear && i < NEARBY_MAX; i++) {
        const service_request *n = &v->near[i];
        char idtext[24];
        snprintf(idtext, sizeof idtext, "%" PRId64, n->id);
        char action[32];
        snprintf(action, sizeof action, "merge-%" PRId64, n->id);
        html_fmt(b, "<li><p><strong>%s %L</strong>: %s; %s: ", web_t(c, I18N_("Request")), n->id,
                 web_status_text(c, (int)n->status), web_t(c, I18N_("Age")));
        put_age(c, b, n->requested_at, now);
        if (n->address != NULL)
            html_fmt(b, "; %s", n->address);
        html_fmt(b, "</p>");
        change_open(c, b, v, "merge");
        html_fmt(b, "<input type=\"hidden\" name=\"into\" value=\"%L\">", n->id);
        note_field(c, b, action, web_t(c, I18N_("Note (optional)")), NULL,
                   into_kept != NULL && strcmp(into_kept, idtext) == 0 ? kept(x, "merge", "note")
                                                                       : NULL);
        html_fmt(b, "<p class=\"actions\"><button type=\"submit\">%s %L</button></p></form></li>",
                 web_t(c, I18N_("Merge into request")), n->id);
    }
    html_fmt(b, "</ul>");
}

static void contact_section(web_ctx *c, buf_t *b, const r_view *v, const r_extra *x)
{
    html_fmt(b, "<h2 id=\"contact\">%s</h2>", web_t(c, I18N_("The reporter's contact details")));
    if (x->contact_read && x->contact_refused) {
        html_fmt(b, "<div class=\"notice error\" role=\"alert\"><p>%s</p></div>",
                 web_t(c, I18N_("Your role may not read them for this purpose. The refusal "
                                "is recorded in the audit log.")));
    } else if (x->contact_read && x->contact != NULL) {
        const gate_view *g = x->contact;
        html_fmt(b, "<div class=\"notice\" role=\"status\"><p>%s</p></div>",
                 web_t(c, I18N_("This read is recorded in the audit log with your name and "
                                "purpose. The details are shown on this page only: they are "
                                "not kept by the browser.")));
        if (g->erased || g->subject_id == 0) {
            html_fmt(b, "<p>%s</p>",
                     web_t(c, g->erased ? I18N_("The reporter's details were erased.")
                                        : I18N_("The reporter left no contact details.")));
        } else {
            html_fmt(b, "<dl class=\"facts\">");
            const char *labels[4] = {web_t(c, I18N_("First name")), web_t(c, I18N_("Last name")),
                                     web_t(c, I18N_("Email")), web_t(c, I18N_("Phone"))};
            const char *vals[4] = {g->reporter.first_name, g->reporter.last_name, g->reporter.email,
                                   g->reporter.phone};
            for (size_t i = 0; i < 4; i++)
                html_fmt(b, "<dt>%s</dt><dd>%s</dd>", labels[i],
                         vals[i] != NULL ? vals[i] : web_t(c, I18N_("not given")));
            html_fmt(b, "</dl>");
        }
    }
    if (x->contact_read && !x->contact_refused)
        return;
    html_fmt(b, "<form method=\"post\" action=\"/staff/requests/%L/contact\">", v->sr.id);
    web_csrf_field(c, b);
    html_fmt(b,
             "<p>%s</p><div class=\"field\"><label for=\"purpose\">%s</label>"
             "<select id=\"purpose\" name=\"purpose\">",
             web_t(c, I18N_("Not shown unless your work needs them. Reading them is recorded "
                            "in the audit log, with your purpose.")),
             web_t(c, I18N_("Purpose")));
    static const gate_purpose PURPOSES[] = {GATE_PURPOSE_ADDRESS_REQUEST,
                                            GATE_PURPOSE_CITY_BUSINESS, GATE_PURPOSE_EMERGENCY};
    const char *labels[3] = {web_t(c, I18N_("To address this request")),
                             web_t(c, I18N_("To conduct city business")),
                             web_t(c, I18N_("Emergency assistance"))};
    for (size_t i = 0; i < 3; i++)
        html_fmt(b, "<option value=\"%s\">%s</option>", gate_purpose_name(PURPOSES[i]), labels[i]);
    html_fmt(b,
             "</select></div><p class=\"actions\"><button type=\"submit\" "
             "class=\"secondary\">%s</button></p></form>",
             web_t(c, I18N_("Show contact details")));
}

static void request_page(web_ctx *c, int status, const r_view *v, const r_extra *x)
{
    buf_t b = BUF_INIT;
    int64_t now = c->app->now();
    const service_request *sr = &v->sr;
    char title[48];
    snprintf(title, sizeof title, "%s %" PRId64, web_t(c, I18N_("Request")), sr->id);
    console_page_begin(c, &b, title);
    html_fmt(&b, "<p><a href=\"/staff/queue\">%s</a></p><h1>%s</h1>",
             web_t(c, I18N_("Back to the queue")), title);
    if (x->notice != NULL)
        html_fmt(&b, "<div class=\"notice success\" role=\"status\"><p>%s</p></div>", x->notice);
    if (x->problem != NULL)
        problem_box(c, &b,
                    x->problem_title != NULL ? x->problem_title
                                             : web_t(c, I18N_("Nothing was changed")),
                    x->problem, x->detail);
    html_fmt(&b, "<dl class=\"facts\"><dt>%s</dt><dd>", web_t(c, I18N_("Service")));
    service_name(c, &b, sr->service_code);
    html_fmt(&b, "</dd><dt>%s</dt><dd>%s", web_t(c, I18N_("Status")),
             web_status_text(c, (int)sr->status));
    if (sr->status == SR_CLOSED)
        html_fmt(&b, " (%s)", resolution_label(c, sr->resolution));
    if (sr->merged_into != 0)
        html_fmt(&b, "; %s <a href=\"/staff/requests/%L\">%L</a>",
                 web_t(c, I18N_("duplicate of request")), sr->merged_into, sr->merged_into);
    html_fmt(&b, "</dd><dt>%s</dt><dd>%s</dd>", web_t(c, I18N_("Agency")),
             agency_name(c, sr->agency_code));
    html_fmt(&b, "<dt>%s</dt><dd>%s</dd>", web_t(c, I18N_("District")),
             sr->district != NULL ? sr->district : web_t(c, I18N_("none")));
    html_fmt(&b, "<dt>%s</dt><dd>", web_t(c, I18N_("Filed")));
    web_put_time(c, &b, sr->requested_at);
    html_fmt(&b, " (%s: ", web_t(c, I18N_("Age")));
    put_age(c, &b, sr->requested_at, now);
    html_fmt(&b, ")</dd><dt>%s</dt><dd>", web_t(c, I18N_("Last changed")));
    web_put_time(c, &b, sr->updated_at);
    html_fmt(&b, "</dd><dt>%s</dt><dd>", web_t(c, I18N_("Expected by (SLA)")));
    if (sr->expected_at == 0) {
        html_fmt(&b, "%s", web_t(c, I18N_("no SLA")));
    } else {
        web_put_time(c, &b, sr->expected_at);
        if (sr->status != SR_CLOSED && sr->expected_at < now)
            html_fmt(&b, " <strong class=\"error\">%s</strong>", web_t(c, I18N_("Overdue")));
    }
    html_fmt(&b, "</dd>");
    if (sr->closed_at != 0) {
        html_fmt(&b, "<dt>%s</dt><dd>", web_t(c, I18N_("Closed")));
        web_put_time(c, &b, sr->closed_at);
        html_fmt(&b, "</dd>");
    }
    html_fmt(&b, "<dt>%s</dt><dd>%s</dd>", web_t(c, I18N_("Description")),
             sr->description != NULL ? sr->description : web_t(c, I18N_("none")));
    html_fmt(&b, "<dt>%s</dt><dd>", web_t(c, I18N_("Location")));
    if (sr->address != NULL)
        html_fmt(&b, "%s", sr->address);
    if (sr->has_location) {
        char pt[64];
        snprintf(pt, sizeof pt, "%.6f, %.6f", sr->lat, sr->lon);
        html_fmt(&b, "%R%s %s", sr->address != NULL ? "; " : "",
                 web_t(c, I18N_("latitude, longitude:")), pt);
    }
    if (sr->address == NULL && !sr->has_location)
        html_fmt(&b, "%s", web_t(c, I18N_("none")));
    html_fmt(&b, "</dd></dl>");
    contact_section(c, &b, v, x);
    change_forms(c, &b, v, x);
    nearby(c, &b, v, x, now);
    history(c, &b, v);
    console_page_end(c, &b);
    console_send(c, status, &b);
}

/* "{id}" of a request URL; false for anything else. */
static bool parse_request_id(const char *text, size_t len, int64_t *id)
{
    char buf[24];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return sr_parse_id(buf, id);
}

void console_request_get(web_ctx *c, const char *rest)
{
    int64_t id;
    if (!parse_request_id(rest, strlen(rest), &id)) {
        not_found(c);
        return;
    }
    err_t err;
    r_view *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
    store_t *s = v != NULL ? web_reader(c, &err) : NULL;
    err_code rc = v == NULL ? ERR_NOMEM
                  : s == NULL
                      ? err.code
                      : load_view(s, http_pool(c->req), &c->staff->who, id, c->app->now(), v, &err);
    if (rc != ERR_OK) {
        log_error("console: a request could not be read: %s", v != NULL ? err.msg : "no memory");
        console_busy(c);
        return;
    }
    if (!v->found) {
        not_found(c);
        return;
    }
    r_extra x;
    memset(&x, 0, sizeof x);
    if (kv_get(&c->query, "done") != NULL)
        x.notice = web_t(c, I18N_("The change is saved."));
    request_page(c, 200, v, &x);
}

/* ---- changes ---- */

typedef struct {
    web_ctx *c;
    int64_t id;
    r_view v;
    lc_change ch;
    store_seen seen;
    const char *action;
    const kv_list *form;
    bool refused;
    err_code why_code;
    char why[ERR_MSG_MAX];
    bool moved_away; /* transferred to an agency not the member's */
} change_job;

static err_code change_apply(store_t *s, void *arg, err_t *err)
{
    change_job *j = arg;
    web_ctx *c = j->c;
    pool_t *pool = http_pool(c->req);
    err_code rc = load_view(s, pool, &c->staff->who, j->id, j->ch.at, &j->v, err);
    if (rc != ERR_OK || !j->v.found)
        return rc;
    rc = store_request_change(s, c->app->cat, j->id, &j->ch, &j->seen, pool, NULL, err);
    if (rc == ERR_INVALID || rc == ERR_CONFLICT || rc == ERR_NOT_FOUND) {
        j->refused = true;
        j->why_code = rc;
        snprintf(j->why, sizeof j->why, "%s", err->msg);
    }
    if (rc == ERR_OK && j->ch.transfer_to != NULL)
        j->moved_away = !member_has_agency(&c->staff->who, j->ch.transfer_to);
    return rc;
}

static void change_done(void *arg, err_code rc, const err_t *err)
{
    change_job *j = arg;
    web_ctx *c = j->c;
    if (rc == ERR_OK && !j->v.found) {
        not_found(c);
        return;
    }
    if (j->refused) {
        r_extra x;
        memset(&x, 0, sizeof x);
        x.form = j->form;
        x.form_do = j->action;
        if (j->why_code == ERR_CONFLICT) {
            x.problem_title = web_t(c, I18N_("Someone changed this request meanwhile"));
            x.problem = web_t(c, I18N_("Your change was not made: here is the request as it is "
                                       "now. Check it, then make your change again if it is "
                                       "still needed."));
        } else {
            x.problem = web_t(c, I18N_("This change cannot be made. The rule:"));
            x.detail = j->why;
        }
        request_page(c, j->why_code == ERR_CONFLICT ? 409 : 400, &j->v, &x);
        return;
    }
    if (rc != ERR_OK) {
        log_error("console: a request could not be changed: %s", err->msg);
        console_busy(c);
        return;
    }
    char loc[64];
    if (j->moved_away)
        snprintf(loc, sizeof loc, "/staff/queue?moved=%" PRId64, j->id);
    else
        snprintf(loc, sizeof loc, "/staff/requests/%" PRId64 "?done=1#work", j->id);
    http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
    web_redirect(c, loc);
}

static const char *const CHANGE_FIELDS[] = {"csrf",       "do",   "seen",   "resolution",
                                            "visibility", "note", "agency", "into"};

/* The form's change into j->ch; false if the form is not one of ours. */
static bool build_change(web_ctx *c, const kv_list *v, change_job *j)
{
    lc_change *ch = &j->ch;
    const char *act = kv_get(v, "do"), *seen = kv_get(v, "seen");
    const char *note = kv_get(v, "note"), *vis = kv_get(v, "visibility");
    if (act == NULL || seen == NULL || !sr_parse_id(seen, &j->seen.last_event))
        return false;
    if (vis != NULL && strcmp(vis, "public") != 0 && strcmp(vis, "internal") != 0)
        return false;
    j->action = act;
    ch->note = note != NULL && *note != '\0' ? note : NULL;
    ch->note_public = vis == NULL || strcmp(vis, "public") == 0;
    ch->actor = console_actor(c);
    ch->at = c->app->now();
    if (strcmp(act, "acknowledge") == 0 || strcmp(act, "start") == 0) {
        ch->set_status = true;
        ch->status = act[0] == 'a' ? SR_ACKNOWLEDGED : SR_IN_PROGRESS;
    } else if (strcmp(act, "close") == 0) {
        const char *res = kv_get(v, "resolution");
        ch->set_status = true;
        ch->status = SR_CLOSED;
        ch->note_public = true;
        /* No resolution: the lifecycle's refusal says a close needs one. */
        if (res != NULL && *res != '\0' && !sr_resolution_parse(res, &ch->resolution))
            return false;
    } else if (strcmp(act, "reopen") == 0) {
        ch->set_status = true;
        ch->status = SR_REOPENED;
    } else if (strcmp(act, "note") == 0) {
        /* a note alone */
    } else if (strcmp(act, "transfer") == 0) {
        const char *to = kv_get(v, "agency");
        ch->transfer_to = to != NULL && *to != '\0' ? to : "";
    } else if (strcmp(act, "merge") == 0) {
        const char *into = kv_get(v, "into");
        if (into == NULL || !sr_parse_id(into, &ch->merge_into))
            return false;
        ch->note_public = true;
    } else {
        return false;
    }
    return true;
}

typedef struct {
    web_ctx *c;
    int64_t id;
    r_view v;
    gate_purpose purpose;
    gate_view g;
    bool refused;
} contact_job;

static err_code contact_apply(store_t *s, void *arg, err_t *err)
{
    contact_job *j = arg;
    web_ctx *c = j->c;
    pool_t *pool = http_pool(c->req);
    int64_t now = c->app->now();
    err_code rc = load_view(s, pool, &c->staff->who, j->id, now, &j->v, err);
    if (rc != ERR_OK || !j->v.found)
        return rc;
    char actor[STAFF_ACTOR_MAX];
    gate_actor a;
    staff_gate_actor(&c->staff->who, actor, &a);
    rc = gate_read_request(s, c->app->keys, &a, j->purpose, j->id, DC_BIT(DC_CONTACT), now, pool,
                           &j->g, err);
    /* A refusal is on record (its audit entry commits with this job). */
    if (rc == ERR_FORBIDDEN) {
        j->refused = true;
        rc = ERR_OK;
    }
    return rc;
}

static void contact_done(void *arg, err_code rc, const err_t *err)
{
    contact_job *j = arg;
    web_ctx *c = j->c;
    if (rc != ERR_OK) {
        log_error("console: contact details could not be read: %s", err->msg);
        console_busy(c);
        return;
    }
    if (!j->v.found) {
        not_found(c);
        return;
    }
    r_extra x;
    memset(&x, 0, sizeof x);
    x.contact_read = true;
    x.contact_refused = j->refused;
    x.contact = &j->g;
    request_page(c, j->refused ? 403 : 200, &j->v, &x);
}

void console_request_post(web_ctx *c, const char *rest)
{
    const char *slash = strchr(rest, '/');
    int64_t id;
    if (slash == NULL || !parse_request_id(rest, (size_t)(slash - rest), &id) ||
        (strcmp(slash, "/change") != 0 && strcmp(slash, "/contact") != 0)) {
        not_found(c);
        return;
    }
    bool contact = strcmp(slash, "/contact") == 0;
    static const char *const CONTACT_FIELDS[] = {"csrf", "purpose"};
    kv_list *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
    if (v == NULL) {
        console_busy(c);
        return;
    }
    bool read = contact ? console_read_form(c, CONTACT_FIELDS, 2, v)
                        : console_read_form(c, CHANGE_FIELDS,
                                            sizeof CHANGE_FIELDS / sizeof CHANGE_FIELDS[0], v);
    if (!read) {
        console_unreadable(c);
        return;
    }
    if (!web_csrf_ok(c, v)) {
        console_expired(c);
        return;
    }
    if (contact) {
        contact_job *j = pool_calloc(http_pool(c->req), 1, sizeof *j);
        if (j == NULL) {
            console_busy(c);
            return;
        }
        if (!gate_purpose_parse(kv_get(v, "purpose"), &j->purpose)) {
            console_unreadable(c);
            return;
        }
        j->c = c;
        j->id = id;
        console_run_job(c, contact_apply, contact_done, j);
        return;
    }
    change_job *j = pool_calloc(http_pool(c->req), 1, sizeof *j);
    if (j == NULL) {
        console_busy(c);
        return;
    }
    j->c = c;
    j->id = id;
    j->form = v;
    if (!build_change(c, v, j)) {
        console_unreadable(c);
        return;
    }
    console_run_job(c, change_apply, change_done, j);
}
