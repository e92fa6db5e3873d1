/*
 * web_pages.c - the website's reading pages: the catalog (home, with its
 * search), a request's status and public history, the lookup form, the
 * privacy policy generated from the retention schedule the engine
 * enforces (P12), and the exit notice (P10).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/datetime.h"
#include "util/fold.h"
#include "web/web_int.h"

/* ---- small helpers ---- */

static const char *const MONTHS[12] = {
    I18N_("Jan"), I18N_("Feb"), I18N_("Mar"), I18N_("Apr"), I18N_("May"), I18N_("Jun"),
    I18N_("Jul"), I18N_("Aug"), I18N_("Sep"), I18N_("Oct"), I18N_("Nov"), I18N_("Dec")};

void web_put_time(web_ctx *c, buf_t *b, int64_t t)
{
    char iso[DT_BUFSZ];
    dt_format(t, iso); /* 2026-11-23T14:05:00Z: the machine-readable value */
    time_t tt = (time_t)t;
    struct tm tm;
    char zone[16] = "UTC";
    /* The city's local time (serve set TZ), with its abbreviation (EST,
     * EDT), else UTC. */
    bool local = c->app->local_time && localtime_r(&tt, &tm) != NULL &&
                 strftime(zone, sizeof zone, "%Z", &tm) > 0;
    if (!local && gmtime_r(&tt, &tm) == NULL) {
        html_fmt(b, "%s", iso);
        return;
    }
    /* Sized for any int, not just sane dates: -O2's format-truncation
     * check cannot know tm_year is small. */
    char day[12], year[12], hm[24];
    snprintf(day, sizeof day, "%d", tm.tm_mday);
    snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
    snprintf(hm, sizeof hm, "%02d:%02d", tm.tm_hour, tm.tm_min);
    html_fmt(b, "<time datetime=\"%s\">%s %s %s, %s %s</time>", iso, day,
             web_t(c, MONTHS[tm.tm_mon]), year, hm, local ? zone : "UTC");
}

const char *web_status_text(const web_ctx *c, int status)
{
    switch ((sr_status)status) {
    case SR_OPEN: return web_t(c, I18N_("Received"));
    case SR_ACKNOWLEDGED: return web_t(c, I18N_("Seen by the agency"));
    case SR_IN_PROGRESS: return web_t(c, I18N_("Work in progress"));
    case SR_REOPENED: return web_t(c, I18N_("Reopened"));
    case SR_CLOSED: return web_t(c, I18N_("Closed"));
    }
    return "";
}

static const char *resolution_text(const web_ctx *c, sr_resolution r)
{
    switch (r) {
    case SR_RES_NONE: return NULL;
    case SR_RES_FIXED: return web_t(c, I18N_("The problem was fixed."));
    case SR_RES_DUPLICATE: return web_t(c, I18N_("Another request already tracks this problem."));
    case SR_RES_NOT_RESPONSIBLE:
        return web_t(c, I18N_("This is not the city's responsibility."));
    case SR_RES_COULD_NOT_FIND: return web_t(c, I18N_("The crew could not find the problem."));
    case SR_RES_NOT_FIXED: return web_t(c, I18N_("The problem was not fixed."));
    }
    return NULL;
}

/* True if every word of the folded query fq (util/fold.h: lower-case
 * ASCII words, one space apart) occurs in the service's texts or in their
 * translation into the page's language, folded alike: so "bache" finds
 * Pothole on a Spanish page, and "arbol" finds "Árbol". */
static bool service_matches(const web_ctx *c, const service *sv, const buf_t *fq)
{
    buf_t hay = BUF_INIT;
    const char *texts[] = {sv->name, sv->keywords, sv->group, sv->description};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i] == NULL)
            continue;
        const char *tr = web_catalog_t(c, texts[i]);
        fold_text(texts[i], strlen(texts[i]), &hay);
        buf_putc(&hay, ' ');
        if (tr != texts[i]) {
            fold_text(tr, strlen(tr), &hay);
            buf_putc(&hay, ' ');
        }
    }
    bool any = false, all = !buf_failed(&hay);
    for (const char *p = fq->data; all && p != NULL && *p != '\0';) {
        const char *w = p;
        while (*p != '\0' && *p != ' ')
            p++;
        size_t n = (size_t)(p - w);
        if (*p == ' ')
            p++;
        if (n == 0)
            continue;
        any = true;
        all = false;
        for (size_t at = 0; !all && at + n <= hay.len; at++)
            all = memcmp(hay.data + at, w, n) == 0;
    }
    buf_free(&hay);
    return any && all;
}

static void service_item(web_ctx *c, buf_t *b, const service *sv)
{
    html_fmt(b, "<li><a href=\"/report/%u\">", sv->code);
    web_catalog_text(c, b, sv->name);
    html_fmt(b, "</a>");
    if (sv->description != NULL) {
        html_fmt(b, "<p class=\"hint\">");
        web_catalog_text(c, b, sv->description);
        html_fmt(b, "</p>");
    }
    html_fmt(b, "</li>");
}

/* The form that finds a request by its number; invalid: the number given
 * was not one (the alert with id "id-error" is on the page). */
static void lookup_form(web_ctx *c, buf_t *b, bool invalid)
{
    html_fmt(b,
             "<form method=\"get\" action=\"/requests\"><label for=\"id\">%s</label>"
             "<div class=\"row\"><input id=\"id\" name=\"id\" inputmode=\"numeric\" "
             "pattern=\"[0-9]*\" title=\"%s\" maxlength=\"18\"%R><button type=\"submit\">%s"
             "</button></div></form>",
             web_t(c, I18N_("Request number")),
             web_t(c, I18N_("A request number is made of digits only, like 1024.")),
             invalid ? " aria-invalid=\"true\" aria-describedby=\"id-error\"" : "",
             web_t(c, I18N_("Look it up")));
}

/* ---- home: the catalog ---- */

void web_page_home(web_ctx *c)
{
    const catalog *cat = c->app->cat;
    const char *q = kv_get(&c->query, "q");
    buf_t b = BUF_INIT;
    web_page_begin(c, &b, web_t(c, I18N_("Report a problem")));
    html_fmt(&b,
             "<h1>%s</h1><p class=\"lead\">%s</p>"
             "<form class=\"search\" role=\"search\" method=\"get\" action=\"/\">"
             "<label for=\"q\">%s</label><div class=\"row\">"
             "<input id=\"q\" name=\"q\" type=\"search\" value=\"%s\" maxlength=\"100\" "
             "autocomplete=\"off\"><button type=\"submit\">%s</button></div></form>",
             web_t(c, I18N_("Report a problem to the city")),
             web_t(c, I18N_("Potholes, street lights, noise, missed collections and more. "
                            "Choose what the problem is about.")),
             web_t(c, I18N_("Search for a service")), q ? q : "", web_t(c, I18N_("Search")));

    buf_t fq = BUF_INIT;
    if (q != NULL)
        fold_text(q, strlen(q), &fq);
    if (q != NULL && *q != '\0') {
        size_t found = 0;
        for (size_t i = 0; i < cat->nservices; i++)
            found += service_matches(c, &cat->services[i], &fq);
        html_fmt(&b, "<section aria-labelledby=\"results\"><h2 id=\"results\">%s</h2>",
                 web_t(c, I18N_("Services that match")));
        if (found == 0) {
            html_fmt(&b, "<p>%s</p>",
                     web_t(c, I18N_("No service matches these words. Try other words, or "
                                    "choose from the list below.")));
        } else {
            html_fmt(&b, "<ul class=\"services\">");
            for (size_t i = 0; i < cat->nservices; i++)
                if (service_matches(c, &cat->services[i], &fq))
                    service_item(c, &b, &cat->services[i]);
            html_fmt(&b, "</ul>");
        }
        html_fmt(&b, "</section>");
    }
    buf_free(&fq);

    /* Every group, in the catalog's order of first appearance; services
     * without a group last. */
    html_fmt(&b, "<section aria-labelledby=\"all\"><h2 id=\"all\">%s</h2>",
             web_t(c, I18N_("All services")));
    for (size_t i = 0; i <= cat->nservices; i++) {
        const char *group = i < cat->nservices ? cat->services[i].group : NULL;
        bool first = true;
        if (i < cat->nservices) {
            if (group == NULL)
                continue;
            for (size_t j = 0; j < i && first; j++)
                if (cat->services[j].group && strcmp(cat->services[j].group, group) == 0)
                    first = false;
            if (!first)
                continue;
        }
        bool any = false;
        for (size_t j = 0; j < cat->nservices; j++) {
            const char *g = cat->services[j].group;
            if ((group == NULL) != (g == NULL) || (group && strcmp(g, group) != 0))
                continue;
            if (!any) {
                html_fmt(&b, "<h3>");
                if (group != NULL)
                    web_catalog_text(c, &b, group);
                else
                    html_fmt(&b, "%s", web_t(c, I18N_("Other services")));
                html_fmt(&b, "</h3><ul class=\"services\">");
            }
            any = true;
            service_item(c, &b, &cat->services[j]);
        }
        if (any)
            html_fmt(&b, "</ul>");
    }
    html_fmt(&b, "</section><section aria-labelledby=\"lookup\"><h2 id=\"lookup\">%s</h2>",
             web_t(c, I18N_("Already reported?")));
    lookup_form(c, &b, false);
    html_fmt(&b, "</section>");
    web_page_end(c, &b);
    web_send_page(c, 200, &b);
}

/* ---- a request ---- */


void web_page_lookup(web_ctx *c)
{
    const char *id = kv_get(&c->query, "id");
    int64_t v;
    if (id != NULL && sr_parse_id(id, &v)) {
        char path[40];
        snprintf(path, sizeof path, "/requests/%lld", (long long)v);
        web_redirect(c, path);
        return;
    }
    buf_t b = BUF_INIT;
    web_page_begin(c, &b, web_t(c, I18N_("Look up a request")));
    html_fmt(&b, "<h1>%s</h1>", web_t(c, I18N_("Look up a request")));
    if (id != NULL)
        html_fmt(&b, "<p class=\"error\" role=\"alert\" id=\"id-error\">%s</p>",
                 web_t(c, I18N_("A request number is made of digits only, like 1024.")));
    lookup_form(c, &b, id != NULL);
    web_page_end(c, &b);
    web_send_page(c, id != NULL ? 400 : 200, &b);
}

/* Whether the file is one of the request's (a listing without bytes: no
 * personal data is read). */
static bool photo_on_request(web_ctx *c, store_t *s, int64_t request_id, int64_t blob_id)
{
    store_blob *blobs = NULL;
    size_t n = 0;
    err_t err;
    if (store_blob_list(s, request_id, http_pool(c->req), &blobs, &n, &err) != ERR_OK)
        return false;
    for (size_t i = 0; i < n; i++)
        if (blobs[i].id == blob_id)
            return true;
    return false;
}

void web_page_request(web_ctx *c, const char *id_text)
{
    int64_t id;
    err_t err;
    if (!sr_parse_id(id_text, &id)) {
        web_error_page(c, 404, web_t(c, I18N_("Request not found")),
                       web_t(c, I18N_("There is no request with this number. Check the "
                                      "number on your confirmation.")));
        return;
    }
    store_t *s = web_reader(c, &err);
    service_request sr;
    err_code rc = s ? store_request_get(s, id, http_pool(c->req), &sr, &err) : err.code;
    if (rc == ERR_NOT_FOUND) {
        web_error_page(c, 404, web_t(c, I18N_("Request not found")),
                       web_t(c, I18N_("There is no request with this number. Check the "
                                      "number on your confirmation.")));
        return;
    }
    sr_event *ev = NULL;
    size_t nev = 0;
    if (rc == ERR_OK)
        rc = store_events_list(s, id, true, http_pool(c->req), &ev, &nev, &err);
    if (rc != ERR_OK) {
        web_error_page(c, 503, web_t(c, I18N_("Something went wrong")),
                       web_t(c, I18N_("We could not read the request just now. Please try "
                                      "again in a minute.")));
        return;
    }
    const service *sv = catalog_find_service(c->app->cat, sr.service_code);
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)id);
    buf_t b = BUF_INIT;
    buf_t title = BUF_INIT;
    html_fmt(&title, "%R %R", web_t(c, I18N_("Request")), num);
    web_page_begin(c, &b, buf_failed(&title) ? num : title.data);
    buf_free(&title);
    bool filed = kv_get(&c->query, "filed") != NULL;
    if (filed)
        html_fmt(&b,
                 "<div class=\"notice success\" role=\"status\"><h2>%s</h2><p>%s "
                 "<strong class=\"srnum\">%s</strong>. %s</p></div>",
                 web_t(c, I18N_("Thank you: your request was received")),
                 web_t(c, I18N_("Your request number is")), num,
                 web_t(c, I18N_("Keep it to follow the request on this page.")));
    html_fmt(&b, "<h1>%s %s</h1><dl class=\"facts\">", web_t(c, I18N_("Request")), num);
    html_fmt(&b, "<dt>%s</dt><dd>%s</dd>", web_t(c, I18N_("Service")),
             sv ? web_catalog_t(c, sv->name) : sr.service_code);
    html_fmt(&b, "<dt>%s</dt><dd class=\"status\">%s", web_t(c, I18N_("Status")),
             web_status_text(c, sr.status));
    const char *res = resolution_text(c, sr.resolution);
    if (res != NULL)
        html_fmt(&b, " (%s)", res);
    html_fmt(&b, "</dd><dt>%s</dt><dd>", web_t(c, I18N_("Date reported")));
    web_put_time(c, &b, sr.requested_at);
    html_fmt(&b, "</dd>");
    if (sr.address != NULL)
        html_fmt(&b, "<dt>%s</dt><dd>%s</dd>", web_t(c, I18N_("Location")), sr.address);
    if (sr.has_location) {
        char point[64];
        snprintf(point, sizeof point, "%.6f, %.6f", sr.lat, sr.lon);
        html_fmt(&b, "<dt>%s</dt><dd>%s</dd>", web_t(c, I18N_("Exact point")), point);
    }
    if (sr.expected_at > 0 && sr.status != SR_CLOSED) {
        html_fmt(&b, "<dt>%s</dt><dd>", web_t(c, I18N_("Expected by")));
        web_put_time(c, &b, sr.expected_at);
        html_fmt(&b, "</dd>");
    }
    if (sr.description != NULL)
        html_fmt(&b, "<dt>%s</dt><dd class=\"description\">%s</dd>",
                 web_t(c, I18N_("Description")), sr.description);
    html_fmt(&b, "</dl>");
    /* The photo, to the session that sent it, right after sending (its
     * token came with the redirect): never on the public page. */
    const char *ptoken = kv_get(&c->query, "photo");
    web_photo ph;
    if (ptoken != NULL && web_photo_parse(c, ptoken, &ph) && photo_on_request(c, s, id, ph.blob))
        html_fmt(&b,
                 "<figure class=\"photo\"><img src=\"/photos/%u\" alt=\"%s\">"
                 "<figcaption>%s</figcaption></figure>",
                 ptoken, web_t(c, I18N_("The photo you added")),
                 web_t(c, I18N_("Only you see your photo on this page, and only now. City staff "
                                "see it with your request.")));
    if (sr.service_notice != NULL)
        html_fmt(&b, "<p class=\"notice info\">%s</p>", sr.service_notice);

    html_fmt(&b, "<h2>%s</h2><ol class=\"history\">", web_t(c, I18N_("History")));
    for (size_t i = 0; i < nev; i++) {
        html_fmt(&b, "<li>");
        web_put_time(c, &b, ev[i].at);
        html_fmt(&b, ": %s", ev[i].kind == SR_EV_CREATED ? web_t(c, I18N_("Received"))
                                                          : web_status_text(c, ev[i].status));
        if (ev[i].note != NULL && ev[i].public_note)
            html_fmt(&b, "<p>%s</p>", ev[i].note);
        html_fmt(&b, "</li>");
    }
    html_fmt(&b, "</ol>");
    web_page_end(c, &b);
    web_send_page(c, 200, &b);
}

/* ---- the privacy policy (P12) ---- */

/* What the page says of a data class, from the schedule itself, so the
 * policy cannot drift from what the retention engine does. */
static void retention_item(web_ctx *c, buf_t *b, const char *what, data_class dc)
{
    const retention_schedule *rs = c->app->retention;
    int64_t p = rs->period[dc];
    html_fmt(b, "<li>%s: ", what);
    if (p == RETENTION_KEEP) {
        html_fmt(b, "%s", web_t(c, I18N_("kept until you ask for it to be erased")));
    } else {
        int64_t days = p / 86400;
        html_fmt(b, "%L %s %s", days,
                 days == 1 ? web_t(c, I18N_("day")) : web_t(c, I18N_("days")),
                 rs->after_close[dc] ? web_t(c, I18N_("after the request is closed, then erased"))
                                     : web_t(c, I18N_("after it is collected, then erased")));
    }
    html_fmt(b, "</li>");
}

void web_page_privacy(web_ctx *c)
{
    buf_t b = BUF_INIT;
    web_page_begin(c, &b, web_t(c, I18N_("Privacy policy")));
    html_fmt(&b, "<h1>%s</h1><p class=\"updated\">%s <time datetime=\"%s\">%s</time></p>",
             web_t(c, I18N_("Privacy policy")), web_t(c, I18N_("Last updated:")),
             c->app->policy_updated, c->app->policy_updated);
    html_fmt(&b, "<h2>%s</h2><p>%s</p>", web_t(c, I18N_("What we collect and why")),
             web_t(c, I18N_("We ask for your name, phone number and email address only to "
                            "address your request: to contact you about it if needed, and to "
                            "tell you about its progress if you ask. Giving them is optional. "
                            "We never ask for your age or date of birth.")));
    html_fmt(&b, "<p>%s</p>",
             web_t(c, I18N_("The description, the location and the answers to the service's "
                            "questions are public: anyone can read them on this site and "
                            "through the city's open data. Do not write personal details "
                            "in them.")));
    html_fmt(&b, "<p>%s</p>",
             web_t(c, I18N_("A photo you attach is checked to be a photo, and everything hidden "
                            "in the file (the place it was taken, the camera and its serial "
                            "number) is removed before it is stored. It is stored encrypted "
                            "and shown only to you and to the city staff who handle your "
                            "request, never on a public page.")));
    html_fmt(&b, "<h2>%s</h2><ul>", web_t(c, I18N_("How long we keep it")));
    retention_item(c, &b, web_t(c, I18N_("Your contact details on a request")), DC_CONTACT);
    retention_item(c, &b, web_t(c, I18N_("Photos you attach")), DC_MEDIA);
    retention_item(c, &b, web_t(c, I18N_("Device data (app or browser)")), DC_DEVICE);
    retention_item(c, &b, web_t(c, I18N_("Call recordings")), DC_RECORDING);
    {
        int64_t days = c->app->retention->unsent_file / 86400;
        html_fmt(&b, "<li>%s: %L %s %s</li>",
                 web_t(c, I18N_("A photo added to a report that was never sent")),
                 days < 1 ? 1 : days,
                 days <= 1 ? web_t(c, I18N_("day")) : web_t(c, I18N_("days")),
                 web_t(c, I18N_("after it was added, then erased")));
    }
    html_fmt(&b, "</ul><p>%s</p>",
             web_t(c, I18N_("Erasure destroys the key your data was encrypted with, so no "
                            "copy, not even in a backup, can be read afterwards. A legal "
                            "hold ordered by a court pauses erasure.")));
    html_fmt(&b, "<h2>%s</h2><p>%s</p>", web_t(c, I18N_("Who can see it")),
             web_t(c, I18N_("Only the city staff who handle your request, and only to "
                            "address it. Every time someone reads your details, the reading "
                            "and its purpose are recorded in a log that cannot be altered "
                            "without it showing. Your data is never sold and is given to "
                            "others only under a court order, which is recorded.")));
    /* Accounts (web_account.c, privacy/account.c): what is held, how
     * long, and the one persistent cookie. */
    html_fmt(&b, "<h2>%s</h2><p>%s</p><p>%s</p><p>%s</p>", web_t(c, I18N_("Accounts")),
             web_t(c, I18N_("An account is optional. If you create one, we keep your email "
                            "address, the name you give (if any) and a one-way hash of your "
                            "password, encrypted, until you delete the account. Requests you "
                            "report while signed in are linked to it.")),
             web_t(c, I18N_("From your account you can see everything we hold about you, "
                            "download it, remove your details from any of your requests and "
                            "delete the account yourself. After that we keep only the "
                            "requests without anything that identifies you, and the audit "
                            "log's entries, under a number, that your data was collected, read "
                            "and erased. Anything under a legal hold is erased once the hold "
                            "ends.")),
             web_t(c, I18N_("If you tick \u201cKeep me signed in\u201d when you sign in, the "
                            "site's cookie lasts 30 days on that device instead of ending when "
                            "you close the browser. It never does otherwise.")));
    html_fmt(&b, "<h2>%s</h2><p>%s</p>", web_t(c, I18N_("Cookies")),
             web_t(c, I18N_("This site sets one cookie, which ends when you close your "
                            "browser. It protects the forms you send and remembers the "
                            "language you chose. There are no advertising or tracking "
                            "cookies and no third-party scripts.")));
    html_fmt(&b, "<p>%s</p>",
             web_t(c, I18N_("To know how the site is used, each page tells us which kind of "
                            "page it is when it is shown, and we count the views of each kind "
                            "per day. We keep only those totals: not your address, not your "
                            "browser, nothing that could tell who you are.")));
    web_page_end(c, &b);
    web_send_page(c, 200, &b);
}

/* ---- the exit notice (P10) ---- */

void web_page_leaving(web_ctx *c)
{
    const char *to = kv_get(&c->query, "to");
    bool ok = to != NULL && strlen(to) <= 2048 && strpbrk(to, " \r\n\t<>\"") == NULL &&
              (strncmp(to, "https://", 8) == 0 || strncmp(to, "http://", 7) == 0);
    if (!ok) {
        web_error_page(c, 400, web_t(c, I18N_("This link is not valid")),
                       web_t(c, I18N_("The address of the other site is missing or not a "
                                      "web address.")));
        return;
    }
    buf_t b = BUF_INIT;
    web_page_begin(c, &b, web_t(c, I18N_("You are leaving this site")));
    html_fmt(&b,
             "<h1>%s</h1><p>%s</p><p class=\"target\">%s</p>"
             "<p class=\"actions\"><a class=\"button\" href=\"%s\" rel=\"noopener noreferrer\">"
             "%s</a> <a class=\"button secondary\" href=\"/\">%s</a></p>",
             web_t(c, I18N_("You are leaving the official site")),
             web_t(c, I18N_("The link goes to another site. Its content, privacy policy and "
                            "security are not the city's, and our policies no longer apply "
                            "there.")),
             to, to, web_t(c, I18N_("OK, continue")), web_t(c, I18N_("Cancel")));
    web_page_end(c, &b);
    web_send_page(c, 200, &b);
}
