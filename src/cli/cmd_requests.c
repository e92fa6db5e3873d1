/*
 * cmd_requests.c - `civic311 requests generate|update|queue`: synthetic data
 * for benchmarks, and the lifecycle (core/lifecycle.h) and the agency queue
 * (store_queue_search) from the command line, beside the staff console.
 *
 * generate writes synthetic requests (no personal data) with its own
 * transactions and sync off, for speed: it is a load tool for benchmarks,
 * not an intake channel, and a crash in the middle loses only test data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/datetime.h"
#include "util/utf8.h"

static const char HELP[] =
    "usage: civic311 requests generate --data DIR --count N [--seed S] [--days D]\n"
    "       civic311 requests update --data DIR (--id N | --ids N,N,...) [--status STATUS]\n"
    "                [--resolution R] [--note TEXT [--public | --internal]] [--actor NAME]\n"
    "                [--transfer AGENCY] [--merge-into N]\n"
    "                [--expect-updated TIME] [--expect-event N]\n"
    "       civic311 requests queue --data DIR --agency CODE[,CODE...]\n"
    "                [--status S[,S...]] [--service CODE[,CODE...]] [--overdue]\n"
    "                [--unacknowledged] [--filed-from TIME] [--filed-to TIME]\n"
    "                [--sort age|newest|sla|updated] [--page N] [--page-size N]\n"
    "\n"
    "generate fills the store with N synthetic requests (no personal data) spread\n"
    "over the last D days (default 365), for benchmarks and demos.\n"
    "\n"
    "update makes one change to a request, or to each of --ids (at most 500, all or\n"
    "nothing), by the lifecycle's rules, and records it in the history:\n"
    "  --status      acknowledged, in_progress, closed, reopened\n"
    "                (open -> acknowledged -> in_progress -> closed; any but closed may\n"
    "                close; a closed request can only be reopened)\n"
    "  --resolution  with closed: fixed, duplicate, not_responsible, could_not_find,\n"
    "                not_fixed; all but fixed need a public note saying why\n"
    "  --note        a note (alone, or with the change); public (on Open311, to the\n"
    "                reporter) unless --internal; reopening and transfers need one\n"
    "  --actor       who made the change, recorded as cli:NAME (internal, never public)\n"
    "  --transfer    route the request to another agency (a misrouted request)\n"
    "  --merge-into  close it as a duplicate of open request N of the same service\n"
    "  --expect-updated, --expect-event\n"
    "                refuse the change (exit 2) if the request's updated_datetime, or\n"
    "                its last update id, is no longer the one given: someone else\n"
    "                changed it meanwhile\n"
    "\n"
    "queue lists the requests routed to the agencies (never personal data): by\n"
    "default those not closed, oldest first, 50 a page. --overdue: past the SLA's\n"
    "expected time; --unacknowledged: open or reopened, waiting for the agency.\n";

/* xorshift64*: deterministic for a seed, so benchmark data can be remade. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static const char *const STREETS[] = {"Broadway",     "Atlantic Ave", "Grand Concourse",
                                      "Queens Blvd",  "Flatbush Ave", "Amsterdam Ave",
                                      "Victory Blvd", "Fulton St",    "Jamaica Ave"};
static const char *const PHRASES[] = {
    "Large pothole in the right lane, cars swerving around it.",
    "Street light has been out for three nights.",
    "Garbage was not picked up on the scheduled day.",
    "Loud music from a party every night after midnight.",
    "Fire hydrant leaking water onto the sidewalk.",
    "Graffiti on the wall of the community center.",
    "Tree branch hanging over the sidewalk, looks ready to fall.",
    "Blocked driveway, car parked across it since the morning."};

#define PICK(arr, s) (arr)[rng_next(s) % (sizeof(arr) / sizeof((arr)[0]))]

/* One answer per variable attribute that is required or picked at random. */
static err_code gen_answers(const service *svc, uint64_t *rs, pool_t *pool, service_request *sr,
                            err_t *err)
{
    sr->answers = pool_calloc(pool, svc->nattrs ? svc->nattrs : 1, sizeof *sr->answers);
    if (sr->answers == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < svc->nattrs; i++) {
        const attribute *a = &svc->attrs[i];
        if (!a->variable || (!a->required && rng_next(rs) % 2))
            continue;
        const char **v = pool_calloc(pool, 1, sizeof *v);
        char tmp[DT_BUFSZ];
        if (v == NULL)
            return err_set(err, ERR_NOMEM, "out of memory");
        switch (a->datatype) {
        case ATTR_NUMBER:
            snprintf(tmp, sizeof tmp, "%u", (unsigned)(rng_next(rs) % 20 + 1));
            v[0] = pool_strdup(pool, tmp);
            break;
        case ATTR_DATETIME:
            v[0] = pool_strdup(pool, dt_format(sr->requested_at - 3600, tmp));
            break;
        case ATTR_SINGLEVALUELIST:
        case ATTR_MULTIVALUELIST:
            v[0] = a->values[rng_next(rs) % a->nvalues].key;
            break;
        default:
            v[0] = "Seen from the corner.";
        }
        if (v[0] == NULL)
            return err_set(err, ERR_NOMEM, "out of memory");
        sr->answers[sr->nanswers++] = (sr_answer){a->code, v, 1};
    }
    return ERR_OK;
}

static err_code gen_one(const catalog *c, uint64_t *rs, int64_t now, int64_t days,
                        pool_t *pool, service_request *sr, err_t *err)
{
    const service *svc = &c->services[rng_next(rs) % c->nservices];
    memset(sr, 0, sizeof *sr);
    sr->service_code = svc->code;
    sr->service_notice = svc->service_notice;
    sr->requested_at = now - (int64_t)(rng_unit(rs) * (double)days * 86400.0);
    sr->expected_at = sr_expected_at(svc, sr->requested_at);
    sr->updated_at = sr->requested_at;
    sr->has_location = true;
    sr->lat = 40.50 + rng_unit(rs) * 0.40; /* New York City's box */
    sr->lon = -74.25 + rng_unit(rs) * 0.55;
    /* Routed as intake routes (W2): by the catalog's districts, if any. */
    route_result route;
    err_code rc = route_decide(c->routes, svc, true, sr->lat, sr->lon, &route, err);
    if (rc != ERR_OK)
        return rc;
    sr->agency_code = route.agency_code;
    sr->district = route.district;
    char addr[96];
    snprintf(addr, sizeof addr, "%u %s", (unsigned)(rng_next(rs) % 2000 + 1), PICK(STREETS, rs));
    sr->address = pool_strdup(pool, addr);
    sr->description = PICK(PHRASES, rs);
    sr->channel = (sr_channel)(rng_next(rs) % 4);
    int64_t age = now - sr->requested_at;
    unsigned roll = (unsigned)(rng_next(rs) % 100);
    if (age > 7 * 86400 ? roll < 85 : roll < 30) {
        sr->status = SR_CLOSED;
        sr->resolution = roll % 7 == 0 ? SR_RES_DUPLICATE : SR_RES_FIXED;
        sr->closed_at = sr->requested_at + (int64_t)(rng_unit(rs) * (double)(age > 0 ? age : 1));
        sr->updated_at = sr->closed_at;
    } else {
        sr->status = (sr_status)(roll % 3); /* open, acknowledged, in progress */
    }
    if (sr->address == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    return gen_answers(svc, rs, pool, sr, err);
}

static int requests_generate(const civic_config *cfg, const cli_opt *opts)
{
    long long count = atoll(cli_get(opts, "--count") ? cli_get(opts, "--count") : "0");
    long long seed = cli_get(opts, "--seed") ? atoll(cli_get(opts, "--seed")) : 311;
    long long days = cli_get(opts, "--days") ? atoll(cli_get(opts, "--days")) : 365;
    if (count < 1 || count > 100000000 || days < 1 || days > 36500) {
        fprintf(stderr, "civic311: --count must be 1..100000000 and --days 1..36500\n");
        return EXIT_USAGE;
    }
    err_t err;
    store_t *s = NULL;
    catalog *c = NULL;
    uint64_t rs = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + 1;
    int64_t now = (int64_t)time(NULL);
    route_table *routes = NULL;
    err_code rc = cli_open_store(cfg, false, &s, &err);
    if (rc == ERR_OK)
        rc = store_catalog_load(s, &c, &err);
    if (rc == ERR_OK && (rc = cli_load_routes(cfg, c, &routes, &err)) == ERR_OK)
        c->routes = routes;
    if (rc == ERR_OK && c->nservices == 0)
        rc = err_set(&err, ERR_INVALID, "the catalog is empty: import services first");
    for (long long done = 0; rc == ERR_OK && done < count;) {
        pool_t *pool = pool_new();
        if (pool == NULL) {
            rc = err_set(&err, ERR_NOMEM, "out of memory");
            break;
        }
        rc = store_begin(s, &err);
        for (int k = 0; rc == ERR_OK && k < 10000 && done < count; k++, done++) {
            service_request sr;
            rc = gen_one(c, &rs, now, days, pool, &sr, &err);
            if (rc == ERR_OK)
                rc = store_request_insert(s, &sr, &err);
        }
        if (rc == ERR_OK)
            rc = store_commit(s, &err);
        else
            store_rollback(s);
        pool_free(pool);
        if (rc == ERR_OK && (done % 100000 == 0 || done == count))
            fprintf(stderr, "civic311: generated %lld of %lld\n", done, count);
    }
    catalog_free(c);
    route_table_free(routes);
    store_close(s);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

/* ---- update ---- */

/* "1,2,3": distinct request ids, at most STORE_BULK_MAX. */
static bool parse_ids(const char *text, int64_t *ids, size_t *n)
{
    *n = 0;
    const char *p = text;
    while (*p != '\0') {
        char one[24];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof one || *n == STORE_BULK_MAX)
            return false;
        memcpy(one, p, len);
        one[len] = '\0';
        if (!sr_parse_id(one, &ids[*n]))
            return false;
        (*n)++;
        p += len;
        if (*p == ',' && *++p == '\0')
            return false;
    }
    return *n > 0;
}

/* --actor NAME becomes "cli:NAME": letters, digits, '.', '_', '-'. */
static bool actor_name(const char *name, char out[LC_ACTOR_MAX + 1])
{
    if (name == NULL) {
        snprintf(out, LC_ACTOR_MAX + 1, "cli");
        return true;
    }
    size_t n = strlen(name);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    snprintf(out, LC_ACTOR_MAX + 1, "cli:%s", name);
    return true;
}

/* What update was asked to do, parsed from the command line. */
typedef struct {
    int64_t ids[STORE_BULK_MAX];
    size_t nids;
    bool bulk;
    lc_change ch;
    store_seen seen;
    char actor[LC_ACTOR_MAX + 1];
} update_args;

static int update_usage(const char *msg)
{
    fprintf(stderr, "civic311: %s\n", msg);
    return EXIT_USAGE;
}

/* 0 when a is complete, else the exit code of a usage error (printed). */
static int update_parse(const cli_opt *opts, update_args *a)
{
    const char *id = cli_get(opts, "--id"), *ids = cli_get(opts, "--ids");
    const char *st = cli_get(opts, "--status"), *res = cli_get(opts, "--resolution");
    const char *merge = cli_get(opts, "--merge-into");
    const char *exp_upd = cli_get(opts, "--expect-updated");
    const char *exp_ev = cli_get(opts, "--expect-event");
    memset(a, 0, sizeof *a);
    if ((id == NULL) == (ids == NULL))
        return update_usage("give the request as --id N, or several as --ids N,N,...");
    a->bulk = ids != NULL;
    if (id != NULL && !sr_parse_id(id, &a->ids[0]))
        return update_usage("--id must be a request number");
    if (id != NULL)
        a->nids = 1;
    else if (!parse_ids(ids, a->ids, &a->nids))
        return update_usage("--ids must be 1-500 request numbers separated by commas");
    if (st != NULL && (!sr_status_parse(st, &a->ch.status)))
        return update_usage("--status must be open, acknowledged, in_progress, reopened or "
                            "closed");
    a->ch.set_status = st != NULL;
    if (res != NULL && (!sr_resolution_parse(res, &a->ch.resolution) || *res == '\0'))
        return update_usage("--resolution must be fixed, duplicate, not_responsible, "
                            "could_not_find or not_fixed");
    if (cli_get(opts, "--public") != NULL && cli_get(opts, "--internal") != NULL)
        return update_usage("--public and --internal exclude each other");
    a->ch.note = cli_get(opts, "--note");
    a->ch.note_public = cli_get(opts, "--internal") == NULL;
    a->ch.transfer_to = cli_get(opts, "--transfer");
    if (a->ch.transfer_to != NULL && a->ch.transfer_to[0] == '\0')
        return update_usage("--transfer needs an agency code");
    if (merge != NULL && !sr_parse_id(merge, &a->ch.merge_into))
        return update_usage("--merge-into must be a request number");
    if (!actor_name(cli_get(opts, "--actor"), a->actor))
        return update_usage("--actor must be 1-32 letters, digits, '.', '_' or '-'");
    a->ch.actor = a->actor;
    a->ch.at = (int64_t)time(NULL);
    if (a->bulk && (exp_upd != NULL || exp_ev != NULL))
        return update_usage("--expect-updated and --expect-event go with --id only");
    if (exp_upd != NULL && !dt_parse(exp_upd, strlen(exp_upd), &a->seen.updated_at))
        return update_usage("--expect-updated must be an ISO 8601 time such as "
                            "2026-12-31T12:00:00Z");
    if (exp_ev != NULL && !sr_parse_id(exp_ev, &a->seen.last_event))
        return update_usage("--expect-event must be an update id");
    return 0;
}

static err_code update_run(store_t *s, const update_args *a, sr_event *ev, err_t *err)
{
    catalog *cat = NULL;
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    err_code rc = store_catalog_load(s, &cat, err);
    if (rc == ERR_OK)
        rc = store_begin(s, err);
    if (rc == ERR_OK) {
        if (a->bulk)
            rc = store_request_change_bulk(s, cat, a->ids, a->nids, &a->ch, pool, NULL, err);
        else
            rc = store_request_change(s, cat, a->ids[0], &a->ch, &a->seen, pool, ev, err);
        /* Refused or failed: nothing of it is kept. */
        if (rc == ERR_OK)
            rc = store_commit(s, err);
        if (rc != ERR_OK)
            store_rollback(s);
    }
    catalog_free(cat);
    pool_free(pool);
    return rc;
}

static int requests_update(const civic_config *cfg, const cli_opt *opts)
{
    static update_args a; /* 4 KB of ids: not on the stack */
    int code = update_parse(opts, &a);
    if (code != 0)
        return code;
    err_t err;
    store_t *s = NULL;
    sr_event ev;
    memset(&ev, 0, sizeof ev);
    err_code rc = cli_open_store(cfg, true, &s, &err);
    if (rc == ERR_OK)
        rc = update_run(s, &a, &ev, &err);
    if (rc == ERR_OK && a.bulk) {
        printf("%zu requests changed\n", a.nids);
    } else if (rc == ERR_OK) {
        /* The status after the change (a note leaves it as it was). */
        service_request now;
        pool_t *pool = pool_new();
        if (pool != NULL && store_request_get(s, a.ids[0], pool, &now, &err) == ERR_OK)
            printf("request %lld is now %s (update %lld)\n", (long long)a.ids[0],
                   sr_status_name(now.status), (long long)ev.id);
        else
            printf("request %lld changed (update %lld)\n", (long long)a.ids[0], (long long)ev.id);
        pool_free(pool);
    }
    store_close(s);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

/* ---- queue ---- */

/* Splits "a,b,c" into at most max pieces, in pool. */
static bool split_list(const char *text, pool_t *pool, const char **out, size_t max, size_t *n)
{
    *n = 0;
    const char *p = text;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (len == 0 || *n == max || (out[*n] = pool_strndup(pool, p, len)) == NULL)
            return false;
        (*n)++;
        p += len;
        if (*p == ',' && *++p == '\0')
            return false;
    }
    return *n > 0;
}

static const char *const SORT_NAMES[] = {
    [STORE_QUEUE_AGE] = "age",
    [STORE_QUEUE_NEWEST] = "newest",
    [STORE_QUEUE_SLA] = "sla",
    [STORE_QUEUE_UPDATED] = "updated",
};

static bool parse_count(const char *s, size_t max, size_t *out)
{
    int64_t v;
    if (s == NULL)
        return true;
    if (!sr_parse_id(s, &v) || (uint64_t)v > max)
        return false;
    *out = (size_t)v;
    return true;
}

static int queue_parse(const cli_opt *opts, pool_t *pool, store_queue_query *q,
                       const char **agencies, const char **services)
{
    const char *v;
    memset(q, 0, sizeof *q);
    q->now = (int64_t)time(NULL);
    q->page = 1;
    q->page_size = 50;
    if ((v = cli_get(opts, "--agency")) == NULL ||
        !split_list(v, pool, agencies, STORE_QUEUE_MAX_AGENCIES, &q->nagency_codes))
        return update_usage("--agency CODE[,CODE...] is required (at most 16)");
    q->agency_codes = agencies;
    if ((v = cli_get(opts, "--service")) != NULL) {
        if (!split_list(v, pool, services, SRQ_MAX_CODES, &q->nservice_codes))
            return update_usage("--service takes 1-100 service codes separated by commas");
        q->service_codes = services;
    }
    if ((v = cli_get(opts, "--status")) != NULL) {
        const char *names[SR_STATUS_COUNT * 2];
        size_t n = 0;
        if (!split_list(v, pool, names, SR_STATUS_COUNT * 2, &n))
            return update_usage("--status takes statuses separated by commas");
        for (size_t i = 0; i < n; i++) {
            sr_status st;
            if (!sr_status_parse(names[i], &st))
                return update_usage("--status: open, acknowledged, in_progress, reopened, "
                                    "closed");
            q->status_mask |= SRQ_STATUS_BIT(st);
        }
    }
    if ((v = cli_get(opts, "--sort")) != NULL) {
        size_t k = 0;
        while (k < sizeof SORT_NAMES / sizeof SORT_NAMES[0] && strcmp(SORT_NAMES[k], v) != 0)
            k++;
        if (k == sizeof SORT_NAMES / sizeof SORT_NAMES[0])
            return update_usage("--sort must be age, newest, sla or updated");
        q->sort = (store_queue_sort)k;
    }
    q->overdue = cli_get(opts, "--overdue") != NULL;
    q->unacknowledged = cli_get(opts, "--unacknowledged") != NULL;
    if ((v = cli_get(opts, "--filed-from")) != NULL && !dt_parse(v, strlen(v), &q->filed_from))
        return update_usage("--filed-from must be an ISO 8601 time");
    if ((v = cli_get(opts, "--filed-to")) != NULL && !dt_parse(v, strlen(v), &q->filed_to))
        return update_usage("--filed-to must be an ISO 8601 time");
    if (!parse_count(cli_get(opts, "--page"), STORE_QUEUE_MAX_DEPTH, &q->page) ||
        !parse_count(cli_get(opts, "--page-size"), STORE_QUEUE_MAX_PAGE, &q->page_size))
        return update_usage("--page must be a positive number, --page-size 1-200");
    return 0;
}

static void queue_print(const store_queue_row *rows, size_t n, int64_t total,
                        const store_queue_query *q)
{
    char filed[DT_BUFSZ], due[DT_BUFSZ], upd[DT_BUFSZ];
    printf("%-10s %-20s %-8s %-14s %-15s %-20s %-20s %-20s %s\n", "id", "service", "agency",
           "status", "resolution", "filed", "due", "updated", "flags");
    for (size_t i = 0; i < n; i++) {
        const store_queue_row *r = &rows[i];
        char flags[48] = "";
        if (r->overdue)
            snprintf(flags, sizeof flags, "overdue");
        if (r->merged_into != 0)
            snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%smerged:%lld",
                     flags[0] ? " " : "", (long long)r->merged_into);
        printf("%-10lld %-20s %-8s %-14s %-15s %-20s %-20s %-20s %s\n", (long long)r->id,
               r->service_code, r->agency_code ? r->agency_code : "-", sr_status_name(r->status),
               r->resolution != SR_RES_NONE ? sr_resolution_name(r->resolution) : "-",
               dt_format(r->requested_at, filed),
               r->expected_at ? dt_format(r->expected_at, due) : "-", dt_format(r->updated_at, upd),
               flags);
    }
    size_t first = n > 0 ? (q->page - 1) * q->page_size + 1 : 0;
    printf("%zu-%zu of %lld (page %zu)\n", first, n > 0 ? first + n - 1 : 0, (long long)total,
           q->page);
}

static int requests_queue(const civic_config *cfg, const cli_opt *opts)
{
    pool_t *pool = pool_new();
    if (pool == NULL) {
        fprintf(stderr, "civic311: out of memory\n");
        return 1;
    }
    store_queue_query q;
    const char *agencies[STORE_QUEUE_MAX_AGENCIES], *services[SRQ_MAX_CODES];
    int code = queue_parse(opts, pool, &q, agencies, services);
    if (code != 0) {
        pool_free(pool);
        return code;
    }
    err_t err;
    store_t *s = NULL;
    store_queue_row *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    err_code rc = cli_open_store(cfg, true, &s, &err);
    if (rc == ERR_OK)
        rc = store_queue_search(s, &q, pool, &rows, &n, &total, &err);
    if (rc == ERR_OK)
        queue_print(rows, n, total, &q);
    store_close(s);
    pool_free(pool);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

int cmd_requests(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},
                      {"--count", true, NULL},
                      {"--seed", true, NULL},
                      {"--days", true, NULL},
                      {"--id", true, NULL},
                      {"--ids", true, NULL},
                      {"--status", true, NULL},
                      {"--resolution", true, NULL},
                      {"--note", true, NULL},
                      {"--internal", false, NULL},
                      {"--public", false, NULL},
                      {"--actor", true, NULL},
                      {"--transfer", true, NULL},
                      {"--merge-into", true, NULL},
                      {"--expect-updated", true, NULL},
                      {"--expect-event", true, NULL},
                      {"--agency", true, NULL},
                      {"--service", true, NULL},
                      {"--overdue", false, NULL},
                      {"--unacknowledged", false, NULL},
                      {"--filed-from", true, NULL},
                      {"--filed-to", true, NULL},
                      {"--sort", true, NULL},
                      {"--page", true, NULL},
                      {"--page-size", true, NULL},
                      {"--help", false, NULL},
                      {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 1, &npos) || npos != 1 ||
        cli_get(opts, "--data") == NULL ||
        (strcmp(pos[0], "generate") != 0 && strcmp(pos[0], "update") != 0 &&
         strcmp(pos[0], "queue") != 0))
        return cli_usage(HELP);
    err_t err;
    civic_config cfg;
    if (config_load(cli_get(opts, "--data"), &cfg, &err) != ERR_OK)
        return cli_fail(&err);
    int code = strcmp(pos[0], "generate") == 0 ? requests_generate(&cfg, opts)
               : strcmp(pos[0], "update") == 0 ? requests_update(&cfg, opts)
                                               : requests_queue(&cfg, opts);
    config_free(&cfg);
    return code;
}
