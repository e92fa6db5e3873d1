/*
 * cmd_requests.c - `civic311 requests generate|update`: tools for operators
 * and benchmarks until the staff consoles exist.
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
    "       civic311 requests update --data DIR --id N --status STATUS\n"
    "                [--resolution R] [--note TEXT] [--internal]\n"
    "\n"
    "generate fills the store with N synthetic requests (no personal data) spread\n"
    "over the last D days (default 365), for benchmarks and demos.\n"
    "\n"
    "update changes a request's status and records it in its history:\n"
    "  STATUS     open, acknowledged, in_progress, reopened, closed\n"
    "  R          with closed: fixed, duplicate, not_responsible, could_not_find,\n"
    "             not_fixed\n"
    "  --note     a note; public (shown on Open311) unless --internal\n";

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

static int requests_update(const civic_config *cfg, const cli_opt *opts)
{
    const char *id = cli_get(opts, "--id"), *st = cli_get(opts, "--status");
    const char *res = cli_get(opts, "--resolution"), *note = cli_get(opts, "--note");
    sr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.request_id = id ? atoll(id) : 0;
    if (ev.request_id <= 0 || st == NULL || !sr_status_parse(st, &ev.status)) {
        fprintf(stderr, "civic311: --id N and --status (open, acknowledged, in_progress, "
                        "reopened, closed) are required\n");
        return EXIT_USAGE;
    }
    if ((ev.status == SR_CLOSED) != (res != NULL) ||
        (res != NULL && (!sr_resolution_parse(res, &ev.resolution) || *res == '\0'))) {
        fprintf(stderr, "civic311: closed needs --resolution (fixed, duplicate, "
                        "not_responsible, could_not_find, not_fixed); other statuses take "
                        "none\n");
        return EXIT_USAGE;
    }
    if (note != NULL && (*note == '\0' || strlen(note) > 4000 || !utf8_valid(note, strlen(note)))) {
        fprintf(stderr, "civic311: --note must be 1-4000 bytes of UTF-8 text\n");
        return EXIT_USAGE;
    }
    ev.kind = SR_EV_STATUS;
    ev.at = (int64_t)time(NULL);
    ev.note = note;
    ev.public_note = note != NULL && cli_get(opts, "--internal") == NULL;
    ev.actor = "cli";
    err_t err;
    store_t *s = NULL;
    err_code rc = cli_open_store(cfg, true, &s, &err);
    if (rc == ERR_OK && (rc = store_begin(s, &err)) == ERR_OK) {
        if ((rc = store_event_append(s, &ev, &err)) != ERR_OK ||
            (rc = store_commit(s, &err)) != ERR_OK)
            store_rollback(s);
    }
    store_close(s);
    if (rc != ERR_OK)
        return cli_fail(&err);
    printf("request %lld is now %s (update %lld)\n", (long long)ev.request_id,
           sr_status_name(ev.status), (long long)ev.id);
    return 0;
}

int cmd_requests(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},       {"--count", true, NULL},
                      {"--seed", true, NULL},       {"--days", true, NULL},
                      {"--id", true, NULL},         {"--status", true, NULL},
                      {"--resolution", true, NULL}, {"--note", true, NULL},
                      {"--internal", false, NULL},  {"--help", false, NULL},
                      {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 1, &npos) || npos != 1 ||
        cli_get(opts, "--data") == NULL ||
        (strcmp(pos[0], "generate") != 0 && strcmp(pos[0], "update") != 0))
        return cli_usage(HELP);
    err_t err;
    civic_config cfg;
    if (config_load(cli_get(opts, "--data"), &cfg, &err) != ERR_OK)
        return cli_fail(&err);
    int code = strcmp(pos[0], "generate") == 0 ? requests_generate(&cfg, opts)
                                                : requests_update(&cfg, opts);
    config_free(&cfg);
    return code;
}
