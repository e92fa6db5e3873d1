/*
 * test_lifecycle_store.c - the lifecycle in the store (W3, W4, W5) against
 * a real SQLite file: a change and its event in one transaction, a change
 * made against a stale state refused, transfers and merges, bulk changes
 * all or nothing, the agency queue against a reference computed here over
 * random data, the queue's query plans, and nearby open requests.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"
#include "store/store.h"
#include "testlib.h"
#include "storefx.h"

#define DAY 86400LL
#define BASE_T 1700000000LL

static const agency AGENCIES[] = {{"DOT", "Department of Transportation"},
                                  {"DSNY", "Department of Sanitation"},
                                  {"DEP", "Department of Environmental Protection"}};
static const service SERVICES[] = {
    {"pothole", "Pothole", NULL, SERVICE_REALTIME, NULL, NULL, "DOT", NULL, 7 * DAY, NULL, 0},
    {"light", "Street light", NULL, SERVICE_REALTIME, NULL, NULL, "DOT", NULL, 0, NULL, 0},
    {"litter", "Litter", NULL, SERVICE_REALTIME, NULL, NULL, "DSNY", NULL, 3 * DAY, NULL, 0},
};

typedef struct {
    storefx fx;
    catalog *cat;
} lcfx;

static bool lcfx_open(lcfx *f)
{
    err_t err;
    f->cat = NULL;
    if (!storefx_open(&f->fx))
        return false;
    if (!storefx_put_services(f->fx.s, AGENCIES, 3, SERVICES, 3) ||
        store_catalog_load(f->fx.s, &f->cat, &err) != ERR_OK) {
        storefx_close(&f->fx);
        return false;
    }
    return true;
}

static void lcfx_close(lcfx *f)
{
    catalog_free(f->cat);
    storefx_close(&f->fx);
}

/* A request of service code (routed as the catalog says), filed at `at`. */
static int64_t file(lcfx *f, const char *code, int64_t at)
{
    err_t err;
    const service *sv = catalog_find_service(f->cat, code);
    service_request sr = storefx_request(code, at);
    sr.agency_code = sv->agency_code;
    sr.expected_at = sr_expected_at(sv, at);
    sr.has_location = true;
    sr.lat = 40.7;
    sr.lon = -74.0;
    if (storefx_insert(f->fx.s, &sr, &err) != ERR_OK) {
        fprintf(stderr, "file: %s\n", err.msg);
        return 0;
    }
    return sr.id;
}

static lc_change change_at(int64_t at)
{
    lc_change ch;
    memset(&ch, 0, sizeof ch);
    ch.actor = "staff:3";
    ch.at = at;
    return ch;
}

static lc_change status_change(int64_t at, sr_status st, sr_resolution res, const char *note)
{
    lc_change ch = change_at(at);
    ch.set_status = true;
    ch.status = st;
    ch.resolution = res;
    ch.note = note;
    ch.note_public = note != NULL;
    return ch;
}

/* store_request_change in a transaction of its own, committed on success. */
static err_code change(lcfx *f, int64_t id, const lc_change *ch, const store_seen *seen,
                       sr_event *ev, err_t *err)
{
    err_code rc = store_begin(f->fx.s, err);
    if (rc == ERR_OK)
        rc = storefx_finish(
            f->fx.s, store_request_change(f->fx.s, f->cat, id, ch, seen, f->fx.pool, ev, err), err);
    return rc;
}

static service_request get(lcfx *f, int64_t id)
{
    err_t err;
    service_request sr;
    memset(&sr, 0, sizeof sr);
    if (store_request_get(f->fx.s, id, f->fx.pool, &sr, &err) != ERR_OK)
        fprintf(stderr, "get: %s\n", err.msg);
    return sr;
}

static size_t nevents(lcfx *f, int64_t id)
{
    err_t err;
    sr_event *ev;
    size_t n = 0;
    if (store_events_list(f->fx.s, id, false, f->fx.pool, &ev, &n, &err) != ERR_OK)
        return (size_t)-1;
    return n;
}

/* ---- one change ---- */

static void test_change_and_event_together(void)
{
    lcfx f;
    err_t err;
    REQUIRE(lcfx_open(&f));
    int64_t id = file(&f, "pothole", BASE_T);
    REQUIRE(id > 0);

    /* Rolled back: neither the row nor the history moved. */
    lc_change ch = status_change(BASE_T + 10, SR_ACKNOWLEDGED, SR_RES_NONE, "Seen");
    sr_event ev;
    REQUIRE(store_begin(f.fx.s, &err) == ERR_OK);
    CHECK_INT(store_request_change(f.fx.s, f.cat, id, &ch, NULL, f.fx.pool, &ev, &err), ERR_OK);
    CHECK(ev.id > 0);
    store_rollback(f.fx.s);
    CHECK_INT(get(&f, id).status, SR_OPEN);
    CHECK_INT(nevents(&f, id), 1);

    /* Committed: both, the event as lc_event made it. */
    CHECK_INT(change(&f, id, &ch, NULL, &ev, &err), ERR_OK);
    service_request sr = get(&f, id);
    CHECK_INT(sr.status, SR_ACKNOWLEDGED);
    CHECK_INT(sr.updated_at, BASE_T + 10);
    CHECK_STR(sr.status_notes, "Seen");
    CHECK_INT(sr.expected_at, BASE_T + 7 * DAY); /* the SLA clock stays */
    sr_event *evs;
    size_t n;
    REQUIRE(store_events_list(f.fx.s, id, false, f.fx.pool, &evs, &n, &err) == ERR_OK);
    REQUIRE(n == 2);
    CHECK_INT(evs[1].id, ev.id);
    CHECK_INT(evs[1].kind, SR_EV_STATUS);
    CHECK_STR(evs[1].actor, "staff:3");

    /* A refused change writes nothing, and says why. */
    ch = status_change(BASE_T + 20, SR_CLOSED, SR_RES_NOT_FIXED, NULL);
    CHECK_INT(change(&f, id, &ch, NULL, NULL, &err), ERR_INVALID);
    CHECK(strstr(err.msg, "needs a public note") != NULL);
    CHECK_INT(nevents(&f, id), 2);
    CHECK_INT(get(&f, id).status, SR_ACKNOWLEDGED);

    /* Close, then closed_at; reopen clears it; the SLA clock stays. */
    ch = status_change(BASE_T + 30, SR_CLOSED, SR_RES_COULD_NOT_FIND, "Nothing found there");
    CHECK_INT(change(&f, id, &ch, NULL, NULL, &err), ERR_OK);
    sr = get(&f, id);
    CHECK_INT(sr.closed_at, BASE_T + 30);
    CHECK_INT(sr.resolution, SR_RES_COULD_NOT_FIND);
    ch = status_change(BASE_T + 40, SR_REOPENED, SR_RES_NONE, NULL);
    CHECK_INT(change(&f, id, &ch, NULL, NULL, &err), ERR_INVALID); /* needs a note */
    ch.note = "It is still there";
    ch.note_public = false;
    CHECK_INT(change(&f, id, &ch, NULL, NULL, &err), ERR_OK);
    sr = get(&f, id);
    CHECK_INT(sr.status, SR_REOPENED);
    CHECK_INT(sr.closed_at, 0);
    CHECK_INT(sr.resolution, SR_RES_NONE);
    CHECK_INT(sr.expected_at, BASE_T + 7 * DAY);
    CHECK_STR(sr.status_notes, "Nothing found there"); /* the internal note is not shown */

    /* Unknown and pending requests cannot change; outside a transaction
     * nothing is written either. */
    ch = change_at(BASE_T + 50);
    ch.note = "hello";
    CHECK_INT(change(&f, 99999, &ch, NULL, NULL, &err), ERR_NOT_FOUND);
    CHECK_STR(err.msg, "there is no request 99999");
    CHECK_INT(store_request_change(f.fx.s, f.cat, id, &ch, NULL, f.fx.pool, NULL, &err),
              ERR_INTERNAL);
    CHECK_INT(nevents(&f, id), 4);
    lcfx_close(&f);
}

/* Two staff members at once: the second, working from what they read
 * before the first one's change, is refused and changes nothing. */
static void test_stale_state_conflicts(void)
{
    lcfx f;
    err_t err;
    REQUIRE(lcfx_open(&f));
    int64_t id = file(&f, "pothole", BASE_T);
    REQUIRE(id > 0);
    store_t *other = NULL;
    store_options opt = {.url = f.fx.path, .sync = false};
    REQUIRE(store_open(&opt, &other, &err) == ERR_OK);

    /* Both read the request. */
    service_request seen_sr;
    int64_t seen_last = 0;
    REQUIRE(store_begin(f.fx.s, &err) == ERR_OK);
    REQUIRE(store_request_lock(f.fx.s, id, f.fx.pool, &seen_sr, &seen_last, &err) == ERR_OK);
    store_rollback(f.fx.s);
    CHECK(seen_last > 0);
    store_seen seen = {.last_event = seen_last};

    /* The other one acknowledges it. */
    lc_change ack = status_change(BASE_T + 5, SR_ACKNOWLEDGED, SR_RES_NONE, NULL);
    REQUIRE(store_begin(other, &err) == ERR_OK);
    CHECK_INT(store_request_change(other, f.cat, id, &ack, &seen, f.fx.pool, NULL, &err), ERR_OK);
    REQUIRE(store_commit(other, &err) == ERR_OK);

    /* The first closes from the old state: refused, nothing written. Even
     * within the same second (updated_at could not tell). */
    lc_change close = status_change(BASE_T + 5, SR_CLOSED, SR_RES_FIXED, NULL);
    CHECK_INT(change(&f, id, &close, &seen, NULL, &err), ERR_CONFLICT);
    CHECK(strstr(err.msg, "has changed since it was read") != NULL);
    CHECK_INT(get(&f, id).status, SR_ACKNOWLEDGED);
    CHECK_INT(nevents(&f, id), 2);
    store_seen by_time = {.updated_at = seen_sr.updated_at};
    close.at = BASE_T + 6;
    ack.at = BASE_T + 6;
    lc_change note = change_at(BASE_T + 6);
    note.note = "Crew booked";
    CHECK_INT(change(&f, id, &note, NULL, NULL, &err), ERR_OK); /* updated_at moves to +6 */
    CHECK_INT(change(&f, id, &close, &by_time, NULL, &err), ERR_CONFLICT);
    CHECK_INT(nevents(&f, id), 3);

    /* Read again, then it goes through. */
    service_request now;
    int64_t last = 0;
    REQUIRE(store_begin(f.fx.s, &err) == ERR_OK);
    REQUIRE(store_request_lock(f.fx.s, id, f.fx.pool, &now, &last, &err) == ERR_OK);
    store_rollback(f.fx.s);
    store_seen fresh = {.last_event = last, .updated_at = now.updated_at};
    CHECK_INT(change(&f, id, &close, &fresh, NULL, &err), ERR_OK);
    CHECK_INT(get(&f, id).status, SR_CLOSED);
    store_close(other);
    lcfx_close(&f);
}

static void test_transfer(void)
{
    lcfx f;
    err_t err;
    REQUIRE(lcfx_open(&f));
    int64_t id = file(&f, "pothole", BASE_T);
    REQUIRE(id > 0);
    lc_change ch = status_change(BASE_T + 1, SR_IN_PROGRESS, SR_RES_NONE, NULL);
    REQUIRE(change(&f, id, &ch, NULL, NULL, &err) == ERR_OK);
    ch = change_at(BASE_T + 2);
    ch.transfer_to = "DSNY";
    ch.note = "This is litter, not a pothole";
    ch.note_public = true;
    sr_event ev;
    CHECK_INT(change(&f, id, &ch, NULL, &ev, &err), ERR_OK);
    service_request sr = get(&f, id);
    CHECK_STR(sr.agency_code, "DSNY");
    CHECK_INT(sr.status, SR_OPEN); /* the new agency has not seen it */
    CHECK_STR(sr.status_notes, "This is litter, not a pothole");
    sr_event *evs;
    size_t n;
    REQUIRE(store_events_list(f.fx.s, id, true, f.fx.pool, &evs, &n, &err) == ERR_OK);
    REQUIRE(n == 3);
    CHECK_INT(evs[2].kind, SR_EV_TRANSFER);
    CHECK_STR(evs[2].from_agency, "DOT");
    CHECK_STR(evs[2].to_agency, "DSNY");
    CHECK_INT(evs[2].id, ev.id);
    /* Refused: to the same agency, to none that exists, without a note. */
    CHECK_INT(change(&f, id, &ch, NULL, NULL, &err), ERR_INVALID);
    ch.transfer_to = "NYPD";
    CHECK_INT(change(&f, id, &ch, NULL, NULL, &err), ERR_INVALID);
    ch.transfer_to = "DEP";
    ch.note = NULL;
    CHECK_INT(change(&f, id, &ch, NULL, NULL, &err), ERR_INVALID);
    CHECK_INT(nevents(&f, id), 3);
    lcfx_close(&f);
}

static void test_merge(void)
{
    lcfx f;
    err_t err;
    REQUIRE(lcfx_open(&f));
    int64_t first = file(&f, "pothole", BASE_T), dup = file(&f, "pothole", BASE_T + 60);
    int64_t other = file(&f, "litter", BASE_T + 90), closed = file(&f, "pothole", BASE_T + 95);
    REQUIRE(first > 0 && dup > 0 && other > 0 && closed > 0);
    lc_change ch = status_change(BASE_T + 99, SR_CLOSED, SR_RES_FIXED, NULL);
    REQUIRE(change(&f, closed, &ch, NULL, NULL, &err) == ERR_OK);

    ch = change_at(BASE_T + 100);
    ch.merge_into = other;
    CHECK_INT(change(&f, dup, &ch, NULL, NULL, &err), ERR_INVALID); /* another service */
    ch.merge_into = closed;
    CHECK_INT(change(&f, dup, &ch, NULL, NULL, &err), ERR_INVALID); /* closed */
    ch.merge_into = 424242;
    CHECK_INT(change(&f, dup, &ch, NULL, NULL, &err), ERR_NOT_FOUND);
    ch.merge_into = dup;
    CHECK_INT(change(&f, dup, &ch, NULL, NULL, &err), ERR_INVALID); /* itself */
    CHECK_INT(nevents(&f, dup), 1);

    ch.merge_into = first;
    sr_event ev;
    CHECK_INT(change(&f, dup, &ch, NULL, &ev, &err), ERR_OK);
    service_request sr = get(&f, dup);
    CHECK_INT(sr.status, SR_CLOSED);
    CHECK_INT(sr.resolution, SR_RES_DUPLICATE);
    CHECK_INT(sr.merged_into, first);
    CHECK_INT(sr.closed_at, BASE_T + 100);
    char want[64];
    snprintf(want, sizeof want, "Duplicate of request %lld.", (long long)first);
    CHECK_STR(sr.status_notes, want);
    sr_event *evs;
    size_t n;
    REQUIRE(store_events_list(f.fx.s, dup, true, f.fx.pool, &evs, &n, &err) == ERR_OK);
    REQUIRE(n == 2);
    CHECK_INT(evs[1].kind, SR_EV_MERGE);
    CHECK_INT(evs[1].merged_into, first);
    CHECK_STR(evs[1].note, want);

    /* Nothing merges into a merged request, even once it is reopened
     * and open again (then it is nobody's duplicate any more). */
    int64_t third = file(&f, "pothole", BASE_T + 200);
    ch = change_at(BASE_T + 210);
    ch.merge_into = dup;
    CHECK_INT(change(&f, third, &ch, NULL, NULL, &err), ERR_INVALID);
    lc_change reopen = status_change(BASE_T + 220, SR_REOPENED, SR_RES_NONE, "Not the same");
    CHECK_INT(change(&f, dup, &reopen, NULL, NULL, &err), ERR_OK);
    CHECK_INT(get(&f, dup).merged_into, 0);
    CHECK_INT(change(&f, third, &ch, NULL, NULL, &err), ERR_OK);
    CHECK_INT(get(&f, third).merged_into, dup);
    lcfx_close(&f);
}

/* ---- bulk ---- */

static void test_bulk_all_or_nothing(void)
{
    lcfx f;
    err_t err;
    REQUIRE(lcfx_open(&f));
    int64_t ids[5];
    for (int i = 0; i < 5; i++)
        REQUIRE((ids[i] = file(&f, "pothole", BASE_T + i)) > 0);
    lc_change ch = status_change(BASE_T + 10, SR_IN_PROGRESS, SR_RES_NONE, NULL);
    REQUIRE(change(&f, ids[3], &ch, NULL, NULL, &err) == ERR_OK);

    /* Acknowledging all five fails at ids[3] (in progress already): the
     * message names it, and after the rollback none has changed. */
    lc_change ack = status_change(BASE_T + 20, SR_ACKNOWLEDGED, SR_RES_NONE, NULL);
    int64_t failed = 0;
    REQUIRE(store_begin(f.fx.s, &err) == ERR_OK);
    CHECK_INT(store_request_change_bulk(f.fx.s, f.cat, ids, 5, &ack, f.fx.pool, &failed, &err),
              ERR_INVALID);
    store_rollback(f.fx.s);
    CHECK_INT(failed, ids[3]);
    char want[64];
    snprintf(want, sizeof want, "request %lld: ", (long long)ids[3]);
    CHECK(strncmp(err.msg, want, strlen(want)) == 0);
    CHECK(strstr(err.msg, "cannot go back to acknowledged") != NULL);
    for (int i = 0; i < 5; i++) {
        CHECK_INT(get(&f, ids[i]).status, i == 3 ? SR_IN_PROGRESS : SR_OPEN);
        CHECK_INT(nevents(&f, ids[i]), i == 3 ? 2 : 1);
    }

    /* A missing request, a request twice, too many or none: refused. */
    int64_t with_missing[] = {ids[0], 777777};
    REQUIRE(store_begin(f.fx.s, &err) == ERR_OK);
    CHECK_INT(
        store_request_change_bulk(f.fx.s, f.cat, with_missing, 2, &ack, f.fx.pool, &failed, &err),
        ERR_NOT_FOUND);
    store_rollback(f.fx.s);
    CHECK_INT(failed, 777777);
    CHECK_INT(get(&f, ids[0]).status, SR_OPEN);
    int64_t twice[] = {ids[0], ids[1], ids[0]};
    CHECK_INT(store_request_change_bulk(f.fx.s, f.cat, twice, 3, &ack, f.fx.pool, &failed, &err),
              ERR_INVALID);
    CHECK(strstr(err.msg, "listed twice") != NULL);
    static int64_t many[STORE_BULK_MAX + 1];
    for (int i = 0; i <= STORE_BULK_MAX; i++)
        many[i] = i + 1;
    CHECK_INT(store_request_change_bulk(f.fx.s, f.cat, many, STORE_BULK_MAX + 1, &ack, f.fx.pool,
                                        &failed, &err),
              ERR_INVALID);
    CHECK_INT(store_request_change_bulk(f.fx.s, f.cat, ids, 0, &ack, f.fx.pool, &failed, &err),
              ERR_INVALID);

    /* The four that can: all of them, one event each. */
    int64_t ok[] = {ids[0], ids[1], ids[2], ids[4]};
    REQUIRE(store_begin(f.fx.s, &err) == ERR_OK);
    CHECK_INT(storefx_finish(
                  f.fx.s,
                  store_request_change_bulk(f.fx.s, f.cat, ok, 4, &ack, f.fx.pool, &failed, &err),
                  &err),
              ERR_OK);
    CHECK_INT(failed, 0);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(get(&f, ok[i]).status, SR_ACKNOWLEDGED);
        CHECK_INT(nevents(&f, ok[i]), 2);
    }
    lcfx_close(&f);
}

/* ---- the queue against a reference ---- */

#define NQ 700
#define NQUERIES 500

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (unsigned)((rng_state * 0x2545F4914F6CDD1DULL) % n);
}

static const char *const AGENCY_CODES[] = {"DOT", "DSNY", "DEP", NULL};
static const char *const SERVICE_CODES[] = {"pothole", "light", "litter"};

static bool insert_random(lcfx *f, service_request *all)
{
    err_t err;
    if (store_begin(f->fx.s, &err) != ERR_OK)
        return false;
    for (size_t i = 0; i < NQ; i++) {
        /* Coarse times so that ties in every sort key are common. */
        service_request sr = storefx_request(SERVICE_CODES[rnd(3)], BASE_T + rnd(40) * 3600);
        sr.agency_code = AGENCY_CODES[rnd(4)];
        sr.status = (sr_status)rnd(SR_STATUS_COUNT);
        sr.updated_at = sr.requested_at + rnd(30) * 3600;
        sr.expected_at = rnd(4) == 0 ? 0 : sr.requested_at + rnd(20) * 3600;
        if (sr.status == SR_CLOSED) {
            sr.resolution = SR_RES_FIXED;
            sr.closed_at = sr.updated_at;
        }
        if (i % 50 == 7) { /* a pending batch row: never in any queue */
            static char tokens[NQ][12];
            snprintf(tokens[i], sizeof tokens[i], "t%zu", i);
            sr.token = tokens[i];
        }
        if (store_request_insert(f->fx.s, &sr, &err) != ERR_OK) {
            store_rollback(f->fx.s);
            return false;
        }
        all[i] = sr;
    }
    return store_commit(f->fx.s, &err) == ERR_OK;
}

static bool in_list(const char *const *list, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (v != NULL && strcmp(list[i], v) == 0)
            return true;
    return false;
}

/* The queue's meaning, written plainly. */
static bool ref_matches(const store_queue_query *q, const service_request *sr)
{
    unsigned mask = q->status_mask ? q->status_mask
                                   : ((1u << SR_STATUS_COUNT) - 1) & ~SRQ_STATUS_BIT(SR_CLOSED);
    if (sr->id <= 0 || !in_list(q->agency_codes, q->nagency_codes, sr->agency_code))
        return false;
    if (!(mask & SRQ_STATUS_BIT(sr->status)))
        return false;
    if (q->unacknowledged && sr->status != SR_OPEN && sr->status != SR_REOPENED)
        return false;
    if (q->overdue &&
        (sr->status == SR_CLOSED || sr->expected_at == 0 || sr->expected_at >= q->now))
        return false;
    if (q->nservice_codes > 0 && !in_list(q->service_codes, q->nservice_codes, sr->service_code))
        return false;
    if (q->filed_from != 0 && sr->requested_at < q->filed_from)
        return false;
    if (q->filed_to != 0 && sr->requested_at > q->filed_to)
        return false;
    return true;
}

static store_queue_sort ref_sort;

static int ref_cmp(const void *pa, const void *pb)
{
    const service_request *a = *(const service_request *const *)pa;
    const service_request *b = *(const service_request *const *)pb;
    int64_t ka = 0, kb = 0;
    bool asc = true;
    switch (ref_sort) {
    case STORE_QUEUE_AGE:
        ka = a->requested_at, kb = b->requested_at;
        break;
    case STORE_QUEUE_NEWEST:
        ka = a->requested_at, kb = b->requested_at, asc = false;
        break;
    case STORE_QUEUE_UPDATED:
        ka = a->updated_at, kb = b->updated_at, asc = false;
        break;
    case STORE_QUEUE_SLA:
        /* with an SLA first, soonest due; then without, oldest filed */
        if ((a->expected_at == 0) != (b->expected_at == 0))
            return a->expected_at == 0 ? 1 : -1;
        ka = a->expected_at ? a->expected_at : a->requested_at;
        kb = b->expected_at ? b->expected_at : b->requested_at;
        break;
    }
    if (ka == kb)
        ka = a->id, kb = b->id;
    int c = ka < kb ? -1 : ka > kb;
    return asc ? c : -c;
}

static void random_queue(store_queue_query *q, const char **agencies, const char **services)
{
    memset(q, 0, sizeof *q);
    q->nagency_codes = 1 + rnd(3);
    for (size_t i = 0; i < q->nagency_codes; i++)
        agencies[i] = AGENCY_CODES[(i + rnd(3)) % 3];
    q->agency_codes = agencies;
    q->now = BASE_T + rnd(60) * 3600;
    q->sort = (store_queue_sort)rnd(4);
    unsigned pick = rnd(6);
    if (pick == 1)
        q->status_mask = SRQ_STATUS_BIT(SR_CLOSED);
    else if (pick == 2)
        q->status_mask = (1u << SR_STATUS_COUNT) - 1;
    else if (pick >= 3)
        q->status_mask = 1u + rnd((1u << SR_STATUS_COUNT) - 1);
    bool with_closed = q->status_mask & SRQ_STATUS_BIT(SR_CLOSED);
    if (!with_closed && rnd(3) == 0)
        q->overdue = true;
    if (with_closed && q->sort == STORE_QUEUE_SLA)
        q->sort = STORE_QUEUE_AGE;
    q->unacknowledged = rnd(5) == 0;
    if (rnd(3) == 0) {
        q->nservice_codes = 1 + rnd(2);
        for (size_t i = 0; i < q->nservice_codes; i++)
            services[i] = SERVICE_CODES[rnd(3)];
        q->service_codes = services;
    }
    if (rnd(3) == 0)
        q->filed_from = BASE_T + rnd(30) * 3600;
    if (rnd(3) == 0)
        q->filed_to = BASE_T + (10 + rnd(30)) * 3600;
    if (q->filed_to != 0 && q->filed_from > q->filed_to)
        q->filed_from = 0;
    q->page_size = 1 + rnd(40);
    q->page = 1 + rnd(4);
}

static void test_queue_random(void)
{
    lcfx f;
    err_t err;
    REQUIRE(lcfx_open(&f));
    static service_request all[NQ];
    REQUIRE(insert_random(&f, all));
    const service_request **match = calloc(NQ, sizeof *match);
    REQUIRE(match != NULL);
    size_t nonempty = 0;
    for (int k = 0; k < NQUERIES; k++) {
        store_queue_query q;
        const char *agencies[3], *services[2];
        random_queue(&q, agencies, services);
        size_t m = 0;
        for (size_t i = 0; i < NQ; i++)
            if (ref_matches(&q, &all[i]))
                match[m++] = &all[i];
        ref_sort = q.sort;
        qsort(match, m, sizeof *match, ref_cmp);
        pool_t *pool = pool_new();
        REQUIRE(pool != NULL);
        store_queue_row *rows = NULL;
        size_t n = 0;
        int64_t total = -1;
        err_code rc = store_queue_search(f.fx.s, &q, pool, &rows, &n, &total, &err);
        if (rc != ERR_OK) {
            fprintf(stderr, "query %d: %s\n", k, err.msg);
            CHECK(!"queue failed");
            pool_free(pool);
            continue;
        }
        CHECK_INT(total, m);
        size_t from = (q.page - 1) * q.page_size;
        size_t want_n = from < m ? (m - from < q.page_size ? m - from : q.page_size) : 0;
        CHECK_INT(n, want_n);
        nonempty += n > 0;
        for (size_t i = 0; i < n && i < want_n; i++) {
            const service_request *w = match[from + i];
            if (rows[i].id != w->id) {
                fprintf(stderr, "query %d (sort %d, %zu agencies): row %zu: got %lld, want %lld\n",
                        k, (int)q.sort, q.nagency_codes, i, (long long)rows[i].id,
                        (long long)w->id);
                CHECK(rows[i].id == w->id);
                break;
            }
            bool overdue = w->status != SR_CLOSED && w->expected_at != 0 && w->expected_at < q.now;
            CHECK(rows[i].overdue == overdue);
            CHECK_INT(rows[i].expected_at, w->expected_at);
            CHECK_STR(rows[i].agency_code, w->agency_code);
        }
        pool_free(pool);
    }
    CHECK(nonempty > NQUERIES / 3);
    free(match);
    lcfx_close(&f);
}

static void test_queue_bad_queries(void)
{
    lcfx f;
    err_t err;
    REQUIRE(lcfx_open(&f));
    store_queue_row *rows;
    size_t n;
    int64_t total;
    const char *dot[] = {"DOT"}, *empty[] = {""};
    store_queue_query q = {.agency_codes = dot, .nagency_codes = 1, .page = 1, .page_size = 10};
    CHECK_INT(store_queue_search(f.fx.s, &q, f.fx.pool, &rows, &n, &total, &err), ERR_OK);
    store_queue_query bad = q;
    bad.nagency_codes = 0;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    bad = q;
    bad.agency_codes = empty;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    bad = q;
    bad.page_size = STORE_QUEUE_MAX_PAGE + 1;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    bad = q;
    bad.page = STORE_QUEUE_MAX_DEPTH / 10 + 1;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    bad = q;
    bad.page = 0;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    bad = q;
    bad.status_mask = SRQ_STATUS_BIT(SR_CLOSED);
    bad.sort = STORE_QUEUE_SLA;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    CHECK(strstr(err.msg, "not closed") != NULL);
    bad.sort = STORE_QUEUE_AGE;
    bad.overdue = true;
    bad.now = BASE_T;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    bad = q;
    bad.overdue = true; /* no now */
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    bad = q;
    bad.sort = (store_queue_sort)9;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    bad = q;
    bad.filed_from = BASE_T + 10;
    bad.filed_to = BASE_T;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    bad = q;
    bad.status_mask = 1u << 7;
    CHECK_INT(store_queue_search(f.fx.s, &bad, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    CHECK_INT(store_queue_search(f.fx.s, NULL, f.fx.pool, &rows, &n, &total, &err), ERR_INVALID);
    lcfx_close(&f);
}

/* ---- query plans ---- */

/* Fails if the statement would scan request without an index or sort its
 * rows in a temporary b-tree. */
static void check_plan(sqlite3 *db, const char *shape, const store_queue_query *q,
                       store_queue_part part, bool count_only)
{
    err_t err;
    char *sql = NULL;
    REQUIRE(store_sqlite_queue_sql(q, "DOT", part, count_only, &sql, &err) == ERR_OK);
    size_t len = strlen(sql) + 32;
    char *explain = malloc(len);
    REQUIRE(explain != NULL);
    snprintf(explain, len, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, explain, -1, &st, NULL);
    CHECK(rc == SQLITE_OK);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n%s\n", shape, sqlite3_errmsg(db), sql);
    bool ok = true, indexed = false;
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (detail == NULL)
            continue;
        if (strstr(detail, "request USING") != NULL)
            indexed = true;
        if (strncmp(detail, "SCAN request", 12) == 0 && strstr(detail, "USING") == NULL)
            ok = false;
        if (strstr(detail, "TEMP B-TREE") != NULL)
            ok = false;
        if (!ok || getenv("CIVIC_SHOW_PLANS") != NULL)
            printf("  %-22s %s\n", shape, detail);
    }
    if (!ok || !indexed)
        fprintf(stderr, "%s: scans or sorts: %s\n", shape, sql);
    CHECK(ok && indexed);
    sqlite3_finalize(st);
    free(explain);
    free(sql);
}

static void test_queue_plans(void)
{
    storefx fx;
    REQUIRE(storefx_open(&fx));
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    const char *dot[] = {"DOT"}, *two[] = {"pothole", "light"};
    const unsigned not_closed = ((1u << SR_STATUS_COUNT) - 1) & ~SRQ_STATUS_BIT(SR_CLOSED);
    const unsigned every = (1u << SR_STATUS_COUNT) - 1;
    static const char *const SORTS[] = {"age", "newest", "sla", "updated"};
    for (unsigned sort = 0; sort < 4; sort++) {
        for (int shape = 0; shape < 6; shape++) {
            store_queue_query q = {.agency_codes = dot,
                                   .nagency_codes = 1,
                                   .page = 3,
                                   .page_size = 50,
                                   .now = BASE_T,
                                   .status_mask = not_closed,
                                   .sort = (store_queue_sort)sort};
            const char *what = "open";
            switch (shape) {
            case 1:
                q.status_mask = SRQ_STATUS_BIT(SR_OPEN) | SRQ_STATUS_BIT(SR_REOPENED);
                what = "waiting";
                break;
            case 2:
                q.overdue = true;
                what = "overdue";
                break;
            case 3:
                q.service_codes = two;
                q.nservice_codes = 2;
                q.filed_from = BASE_T - 30 * DAY;
                q.filed_to = BASE_T;
                what = "services+window";
                break;
            case 4:
                q.status_mask = every;
                what = "all";
                break;
            case 5:
                q.status_mask = SRQ_STATUS_BIT(SR_CLOSED);
                q.filed_from = BASE_T - 30 * DAY;
                what = "closed+window";
                break;
            }
            if ((q.status_mask & SRQ_STATUS_BIT(SR_CLOSED)) && sort == STORE_QUEUE_SLA)
                continue; /* refused by store.c */
            char name[64];
            snprintf(name, sizeof name, "%s/%s", SORTS[sort], what);
            if (sort == STORE_QUEUE_SLA) {
                check_plan(db, name, &q, STORE_QUEUE_DUE, false);
                check_plan(db, name, &q, STORE_QUEUE_NO_DUE, false);
                check_plan(db, name, &q, STORE_QUEUE_DUE, true);
            } else {
                check_plan(db, name, &q, STORE_QUEUE_ALL, false);
                check_plan(db, name, &q, STORE_QUEUE_ALL, true);
            }
        }
    }
    sqlite3_close(db);
    storefx_close(&fx);
}

/* ---- nearby open requests (W5) ---- */

static void test_nearby_open(void)
{
    lcfx f;
    err_t err;
    REQUIRE(lcfx_open(&f));
    int64_t a = file(&f, "pothole", BASE_T), b = file(&f, "pothole", BASE_T + 10);
    int64_t c = file(&f, "litter", BASE_T + 20), d = file(&f, "pothole", BASE_T + 30);
    REQUIRE(a > 0 && b > 0 && c > 0 && d > 0);
    lc_change close = status_change(BASE_T + 40, SR_CLOSED, SR_RES_FIXED, NULL);
    REQUIRE(change(&f, d, &close, NULL, NULL, &err) == ERR_OK);
    service_request far = storefx_request("pothole", BASE_T + 50);
    far.has_location = true;
    far.lat = 40.8; /* about 11 km north */
    far.lon = -74.0;
    REQUIRE(storefx_insert(f.fx.s, &far, &err) == ERR_OK);

    service_request *got;
    size_t n;
    CHECK_INT(store_nearby_open(f.fx.s, "pothole", 40.7001, -74.0, 200, BASE_T - DAY, 10, f.fx.pool,
                                &got, &n, &err),
              ERR_OK);
    REQUIRE(n == 2);
    CHECK_INT(got[0].id, b); /* newest first; closed, far and other services left out */
    CHECK_INT(got[1].id, a);
    CHECK_INT(store_nearby_open(f.fx.s, "pothole", 40.7001, -74.0, 200, BASE_T + 5, 10, f.fx.pool,
                                &got, &n, &err),
              ERR_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_nearby_open(f.fx.s, "pothole", 40.7001, -74.0, 200, BASE_T - DAY, 1, f.fx.pool,
                                &got, &n, &err),
              ERR_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_nearby_open(f.fx.s, "", 40.7, -74.0, 200, 0, 10, f.fx.pool, &got, &n, &err),
              ERR_INVALID);
    CHECK_INT(
        store_nearby_open(f.fx.s, "pothole", 91.0, -74.0, 200, 0, 10, f.fx.pool, &got, &n, &err),
        ERR_INVALID);
    CHECK_INT(
        store_nearby_open(f.fx.s, "pothole", 40.7, -74.0, 0, 0, 10, f.fx.pool, &got, &n, &err),
        ERR_INVALID);
    CHECK_INT(
        store_nearby_open(f.fx.s, "pothole", 40.7, -74.0, 200, 0, 0, f.fx.pool, &got, &n, &err),
        ERR_INVALID);
    lcfx_close(&f);
}

TEST_MAIN(TEST(test_change_and_event_together), TEST(test_stale_state_conflicts),
          TEST(test_transfer), TEST(test_merge), TEST(test_bulk_all_or_nothing),
          TEST(test_queue_random), TEST(test_queue_bad_queries), TEST(test_queue_plans),
          TEST(test_nearby_open))
