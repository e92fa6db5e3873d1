/*
 * console_figures.c - the figures for managers in the console (issue 5,
 * item 8): for supervisors and administrators, and for agency staff about
 * their own agencies only.
 *
 *   GET /staff/figures?from=YYYY-MM-DD&to=YYYY-MM-DD&by=all|service|agency
 *       a form and the tables: filed, closed, still open, open past the
 *       SLA, median and 90th percentile time to close, the share closed
 *       within the SLA, closures by resolution (not fixed included)
 *   GET /staff/figures.csv with the same parameters: stats_write_csv, the
 *       very file `civic311 stats` writes for the same window
 *
 * core/stats.c counts; the store streams rows that carry no personal data
 * (codes, times, status, resolution). The window is whole days in UTC,
 * both included, as the command line has it. Agency staff get only the
 * rows of requests routed to one of their agencies: the overall line and
 * the services' lines are then theirs alone, never the city's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/stats.h"
#include "util/datetime.h"
#include "util/log.h"
#include "web/console.h"

#define DAY 86400
#define DEFAULT_DAYS 30     /* the window when none is asked: the last 30 days */
#define MAX_DAYS (366 * 10) /* a longer window is refused: ten years is plenty */

typedef struct {
    char from_text[11], to_text[11];
    const char *by;   /* "all", "service" or "agency" */
    int64_t from, to; /* [from, to) */
    unsigned dims;
} figures_query;

/* Exactly YYYY-MM-DD, a real date. */
static bool parse_day(const char *s, int64_t *out)
{
    return s != NULL && strlen(s) == 10 && dt_parse(s, 10, out);
}

/* The query string into q; NULL, or the problem in words. */
static const char *read_query(web_ctx *c, figures_query *q)
{
    int64_t now = c->app->now();
    int64_t today = now - now % DAY;
    const char *from = kv_get(&c->query, "from"), *to = kv_get(&c->query, "to");
    const char *by = kv_get(&c->query, "by");
    q->to = today;
    q->from = today - (DEFAULT_DAYS - 1) * (int64_t)DAY;
    q->by = "all";
    q->dims = STATS_BIT(STATS_BY_SERVICE) | STATS_BIT(STATS_BY_AGENCY);
    const char *problem = NULL;
    if (from != NULL && *from != '\0' && !parse_day(from, &q->from)) {
        c->bad_field = "from";
        problem = web_t(c, I18N_("The first day must be a date, as YYYY-MM-DD."));
    } else if (to != NULL && *to != '\0' && !parse_day(to, &q->to)) {
        c->bad_field = "to";
        problem = web_t(c, I18N_("The last day must be a date, as YYYY-MM-DD."));
    } else if (q->to < q->from) {
        c->bad_field = "to";
        problem = web_t(c, I18N_("The last day must not come before the first."));
    } else if ((q->to - q->from) / DAY >= MAX_DAYS) {
        c->bad_field = "from";
        problem = web_t(c, I18N_("The window is at most ten years."));
    }
    if (by != NULL && strcmp(by, "service") == 0) {
        q->by = "service";
        q->dims = STATS_BIT(STATS_BY_SERVICE);
    } else if (by != NULL && strcmp(by, "agency") == 0) {
        q->by = "agency";
        q->dims = STATS_BIT(STATS_BY_AGENCY);
    } else if (by != NULL && strcmp(by, "all") != 0 && problem == NULL) {
        problem = web_t(c, I18N_("Choose figures by service, by agency, or both."));
    }
    char iso[DT_BUFSZ];
    snprintf(q->from_text, sizeof q->from_text, "%.10s", dt_format(q->from, iso));
    snprintf(q->to_text, sizeof q->to_text, "%.10s", dt_format(q->to, iso));
    q->to += DAY; /* the last day is included */
    return problem;
}

/* ---- counting, for the signed-in member ---- */

typedef struct {
    stats_t *st;
    const staff_member *m; /* agency staff: only their agencies' rows */
} figures_filter;

static err_code add_row(void *ctx, const stats_row *row, err_t *err)
{
    figures_filter *f = ctx;
    if (f->m != NULL) {
        bool theirs = false;
        for (size_t i = 0; i < f->m->nagencies && !theirs && row->agency_code != NULL; i++)
            theirs = strcmp(f->m->agencies[i], row->agency_code) == 0;
        if (!theirs)
            return ERR_OK;
    }
    return stats_add(f->st, row, err);
}

/* The figures of q for the signed-in member; NULL (logged) if they could
 * not be made. */
static stats_t *count(web_ctx *c, const figures_query *q)
{
    err_t err;
    const staff_member *m = &c->staff->who;
    figures_filter f = {stats_new(q->dims, q->from, q->to, c->app->now()),
                        m->role == GATE_AGENCY_STAFF ? m : NULL};
    store_t *s = web_reader(c, &err);
    err_code rc = f.st == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                  : s == NULL  ? err.code
                               : store_stats_rows(s, q->from, q->to, add_row, &f, &err);
    if (rc != ERR_OK) {
        log_error("console: the figures could not be made: %s", err.msg);
        stats_free(f.st);
        return NULL;
    }
    stats_finish(f.st);
    return f.st;
}

/* ---- the page ---- */

/* A time to close for people: hours under two days, else days. */
static void put_duration(web_ctx *c, buf_t *b, int64_t seconds)
{
    char n[32];
    if (seconds < 2 * DAY) {
        snprintf(n, sizeof n, "%.1f", (double)seconds / 3600.0);
        html_fmt(b, "%s %s", n, web_t(c, I18N_("hours")));
    } else {
        snprintf(n, sizeof n, "%.1f", (double)seconds / (double)DAY);
        html_fmt(b, "%s %s", n, web_t(c, I18N_("days")));
    }
}

static void put_row(web_ctx *c, buf_t *b, const stats_group *g, const char *name)
{
    html_fmt(b, "<tr><th scope=\"row\">%s</th><td>%L</td><td>%L</td><td>%L</td><td>%L</td><td>",
             name, g->filed, g->closed, g->open, g->open_past_sla);
    if (g->has_times) {
        put_duration(c, b, g->median_seconds);
        html_fmt(b, "</td><td>");
        put_duration(c, b, g->p90_seconds);
    } else {
        html_fmt(b, "%s</td><td>%s", web_t(c, I18N_("none closed")),
                 web_t(c, I18N_("none closed")));
    }
    html_fmt(b, "</td><td>");
    if (g->closed_with_sla > 0) {
        char pct[16];
        snprintf(pct, sizeof pct, "%.1f%%",
                 100.0 * (double)g->closed_within_sla / (double)g->closed_with_sla);
        html_fmt(b, "%s (%L/%L)", pct, g->closed_within_sla, g->closed_with_sla);
    } else {
        html_fmt(b, "%s", web_t(c, I18N_("no SLA")));
    }
    html_fmt(b, "</td>");
    for (size_t r = 0; r < STATS_RES_COUNT; r++)
        html_fmt(b, "<td>%L</td>", g->by_resolution[r]);
    html_fmt(b, "</tr>");
}

static void table(web_ctx *c, buf_t *b, const stats_t *st, stats_dim d, const char *id,
                  const char *caption, const char *first_col)
{
    html_fmt(b,
             "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-labelledby=\"%s\">"
             "<table class=\"figures\"><caption id=\"%s\">%s</caption><thead><tr>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
             "<th scope=\"col\">%s</th></tr></thead><tbody>",
             id, id, caption, first_col, web_t(c, I18N_("Filed")), web_t(c, I18N_("Closed")),
             web_t(c, I18N_("Still open")), web_t(c, I18N_("Open past the SLA")),
             web_t(c, I18N_("Median time to close")),
             web_t(c, I18N_("90th percentile time to close")),
             web_t(c, I18N_("Closed within the SLA")), web_t(c, I18N_("Fixed")),
             web_t(c, I18N_("Duplicate")), web_t(c, I18N_("Not the city's responsibility")),
             web_t(c, I18N_("Could not find")), web_t(c, I18N_("Closed but not fixed")));
    if (d != STATS_OVERALL) {
        size_t n = stats_group_count(st, d);
        for (size_t i = 0; i < n; i++) {
            const stats_group *g = stats_group_at(st, d, i);
            put_row(c, b, g, g->code != NULL ? g->code : web_t(c, I18N_("No agency")));
        }
    }
    put_row(c, b, stats_overall(st), web_t(c, I18N_("All")));
    html_fmt(b, "</tbody></table></div>");
}

static void query_form(web_ctx *c, buf_t *b, const figures_query *q)
{
    html_fmt(
        b,
        "<form method=\"get\" action=\"/staff/figures\" novalidate>"
        "<div class=\"field\"><label for=\"from\">%s</label>"
        "<input type=\"date\" id=\"from\" name=\"from\" value=\"%s\"%R></div>"
        "<div class=\"field\"><label for=\"to\">%s</label>"
        "<input type=\"date\" id=\"to\" name=\"to\" value=\"%s\"%R></div>"
        "<div class=\"field\"><label for=\"by\">%s</label><select id=\"by\" name=\"by\">",
        web_t(c, I18N_("First day filed")), q->from_text,
        c->bad_field != NULL && strcmp(c->bad_field, "from") == 0 ? " aria-invalid=\"true\"" : "",
        web_t(c, I18N_("Last day filed")), q->to_text,
        c->bad_field != NULL && strcmp(c->bad_field, "to") == 0 ? " aria-invalid=\"true\"" : "",
        web_t(c, I18N_("Figures by")));
    static const char *const BY[] = {"all", "service", "agency"};
    const char *labels[] = {web_t(c, I18N_("Service and agency")), web_t(c, I18N_("Service")),
                            web_t(c, I18N_("Agency"))};
    for (size_t i = 0; i < 3; i++)
        html_fmt(b, "<option value=\"%R\"%R>%s</option>", BY[i],
                 strcmp(q->by, BY[i]) == 0 ? " selected" : "", labels[i]);
    html_fmt(b,
             "</select></div><p class=\"hint\">%s</p><p class=\"actions\">"
             "<button type=\"submit\">%s</button></p></form>",
             web_t(c, I18N_("Requests filed from the first day to the last, both included "
                            "(days in UTC).")),
             web_t(c, I18N_("Show the figures")));
}

void console_figures_get(web_ctx *c, const char *rest)
{
    (void)rest;
    figures_query q;
    const char *problem = read_query(c, &q);
    const staff_member *m = &c->staff->who;
    buf_t b = BUF_INIT;
    console_page_begin(c, &b, web_t(c, I18N_("Figures")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Figures")));
    if (m->role == GATE_AGENCY_STAFF) {
        html_fmt(&b, "<p class=\"lead\">%s ",
                 web_t(c, I18N_("Requests routed to your agencies "
                                "only:")));
        for (size_t i = 0; i < m->nagencies; i++)
            html_fmt(&b, "%R%s", i ? ", " : "", m->agencies[i]);
        html_fmt(&b, ".</p>");
    }
    if (problem != NULL)
        html_fmt(&b,
                 "<div class=\"notice error\" role=\"alert\" id=\"problem\"><h2>%s</h2><p>%s</p>"
                 "</div>",
                 web_t(c, I18N_("Please check the form")), problem);
    query_form(c, &b, &q);
    stats_t *st = problem == NULL ? count(c, &q) : NULL;
    if (problem == NULL && st == NULL) {
        html_fmt(&b, "<p class=\"error\">%s</p>",
                 web_t(c, I18N_("The figures could not be made. Please try again in a "
                                "minute.")));
    } else if (st != NULL) {
        html_fmt(&b,
                 "<p><a href=\"/staff/figures.csv?from=%u&amp;to=%u&amp;by=%u\" "
                 "download>%s</a></p>",
                 q.from_text, q.to_text, q.by, web_t(c, I18N_("Download as CSV")));
        if (q.dims & STATS_BIT(STATS_BY_SERVICE))
            table(c, &b, st, STATS_BY_SERVICE, "by-service", web_t(c, I18N_("By service")),
                  web_t(c, I18N_("Service")));
        if (q.dims & STATS_BIT(STATS_BY_AGENCY))
            table(c, &b, st, STATS_BY_AGENCY, "by-agency", web_t(c, I18N_("By agency")),
                  web_t(c, I18N_("Agency")));
        html_fmt(&b, "<p class=\"hint\">%s</p>",
                 web_t(c, I18N_("Times to close are exact (nearest rank) over the closed "
                                "requests. The share within the SLA counts the closed requests "
                                "that had one. A reopened request counts as open.")));
    }
    stats_free(st);
    console_page_end(c, &b);
    console_send(c, problem != NULL ? 400 : st == NULL ? 503 : 200, &b);
}

void console_figures_csv_get(web_ctx *c, const char *rest)
{
    (void)rest;
    figures_query q;
    const char *problem = read_query(c, &q);
    if (problem != NULL) {
        console_error(c, 400, web_t(c, I18N_("Please check the form")), problem);
        return;
    }
    stats_t *st = count(c, &q);
    if (st == NULL) {
        console_busy(c);
        return;
    }
    buf_t out = BUF_INIT;
    err_t err;
    err_code rc = stats_write_csv(st, &out, &err);
    stats_free(st);
    if (rc != ERR_OK) {
        buf_free(&out);
        log_error("console: the figures could not be written: %s", err.msg);
        console_busy(c);
        return;
    }
    char name[64];
    snprintf(name, sizeof name, "civic311-figures-%s-to-%s.csv", q.from_text, q.to_text);
    http_add_header(c->req, "X-Robots-Tag", "noindex, nofollow");
    web_send_download(c, "text/csv; charset=utf-8", name, &out);
}
