/*
 * web_beacon.c - POST /beacon: a page says which kind of page it is, once
 * shown (assets/site.js, navigator.sendBeacon), and the count of that kind
 * goes up by one (core/beacon.h). The only thing read is the page's kind;
 * no cookie is set or read, nothing is logged but the route, and the
 * answer is 204 with no body. The counts reach the store in aggregate,
 * per page and day, when the server's housekeeping calls
 * web_beacon_flush.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/commitq.h"
#include "util/log.h"
#include "web/web_int.h"

void web_beacon_post(http_req_t *req, web_app *app)
{
    size_t len;
    const char *body = http_body(req, &len);
    beacon_page p;
    buf_t b = BUF_INIT;
    if (!beacon_page_parse(body, len, &p)) {
        buf_puts(&b, "not a page name\n");
        http_respond(req, 400, "text/plain; charset=utf-8", &b);
        return;
    }
    beacon_count(&app->beacon, p);
    http_respond(req, 204, "text/plain; charset=utf-8", &b);
}

typedef struct {
    const uint64_t *counts;
    char day[11];
} flush_job;

static err_code flush_apply(store_t *s, void *arg, err_t *err)
{
    flush_job *job = arg;
    err_code rc = ERR_OK;
    for (unsigned i = 0; rc == ERR_OK && i < BEACON_PAGE_COUNT; i++)
        if (job->counts[i] > 0)
            rc = store_page_views_add(s, job->day, beacon_page_name((beacon_page)i),
                                      (int64_t)job->counts[i], err);
    return rc;
}

err_code web_beacon_flush(web_app *app, err_t *err)
{
    uint64_t counts[BEACON_PAGE_COUNT];
    beacon_take(&app->beacon, counts);
    uint64_t total = 0;
    for (unsigned i = 0; i < BEACON_PAGE_COUNT; i++)
        total += counts[i];
    if (total == 0)
        return ERR_OK;
    flush_job job = {.counts = counts};
    time_t now = (time_t)app->now();
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || strftime(job.day, sizeof job.day, "%Y-%m-%d", &tm) != 10) {
        beacon_give_back(&app->beacon, counts);
        return err_set(err, ERR_INTERNAL, "beacon: the date is out of range");
    }
    err_code rc = commitq_run(app->writer, flush_apply, &job, err);
    if (rc != ERR_OK) /* counted again at the next flush */
        beacon_give_back(&app->beacon, counts);
    return rc;
}
