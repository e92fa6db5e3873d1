/*
 * cmd_hold.c - `civic311 hold place|release|list`: legal holds, which
 * pause erasure of a request's or a person's data (P6), each placed and
 * released on the audit log.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "privacy/retention.h"
#include "util/datetime.h"

static const char HELP[] =
    "usage: civic311 hold place --data DIR (--request N | --subject N) --reason TEXT\n"
    "                           --actor NAME\n"
    "       civic311 hold release --data DIR --id N --actor NAME\n"
    "       civic311 hold list --data DIR [--all]\n"
    "\n"
    "place    pauses every erasure of a request's (or a person's) personal data,\n"
    "         retention included, until released; prints the hold's number.\n"
    "release  ends a hold; what was due is erased on the next retention run.\n"
    "list     active holds (--all: released ones too).\n";

typedef struct {
    int64_t request_id, subject_id, hold_id, now;
    const char *reason;
    char actor[80];
} hold_job;

static err_code place_txn(cli_env *env, void *arg, err_t *err)
{
    hold_job *j = arg;
    return retention_hold_place(env->store, j->request_id, j->subject_id, j->reason, j->actor,
                                j->now, &j->hold_id, err);
}

static err_code release_txn(cli_env *env, void *arg, err_t *err)
{
    hold_job *j = arg;
    return retention_hold_release(env->store, j->hold_id, j->actor, j->now, err);
}

static int hold_list(cli_env *env, bool all)
{
    err_t err;
    pool_t *pool = pool_new();
    store_hold *h;
    size_t n = 0;
    err_code rc = pool == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                               : store_hold_list(env->store, !all, pool, &h, &n, &err);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        char at[DT_BUFSZ];
        dt_format(h[i].placed_at, at);
        printf("hold %lld: ", (long long)h[i].id);
        if (h[i].request_id)
            printf("request %lld ", (long long)h[i].request_id);
        if (h[i].subject_id)
            printf("person s:%lld ", (long long)h[i].subject_id);
        printf("placed %s by %s (%s)%s\n", at, h[i].placed_by, h[i].reason,
               h[i].released_at ? ", released" : "");
    }
    pool_free(pool);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

int cmd_hold(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},    {"--request", true, NULL},
                      {"--subject", true, NULL}, {"--id", true, NULL},
                      {"--reason", true, NULL},  {"--actor", true, NULL},
                      {"--all", false, NULL},    {"--help", false, NULL},
                      {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    hold_job j = {0};
    bool ok = cli_parse(argc, argv, 2, opts, pos, 1, &npos) && npos == 1 &&
              cli_get(opts, "--data") != NULL;
    const char *sub = ok ? pos[0] : "";
    bool place = strcmp(sub, "place") == 0, release = strcmp(sub, "release") == 0;
    const char *req = cli_get(opts, "--request"), *subj = cli_get(opts, "--subject");
    const char *actor = cli_get(opts, "--actor");
    j.reason = cli_get(opts, "--reason");
    if (ok && place)
        ok = (req == NULL) != (subj == NULL) &&
             (req ? cli_parse_id(req, &j.request_id) : cli_parse_id(subj, &j.subject_id)) &&
             j.reason != NULL && j.reason[0] != '\0' && strlen(j.reason) <= 120;
    if (ok && release)
        ok = cli_parse_id(cli_get(opts, "--id"), &j.hold_id);
    if (ok && (place || release))
        ok = cli_actor_name_ok(actor);
    if (!ok || (!place && !release && strcmp(sub, "list") != 0))
        return cli_usage(HELP);
    snprintf(j.actor, sizeof j.actor, "cli:%s", actor ? actor : "");
    j.now = (int64_t)time(NULL);
    cli_env env;
    err_t err;
    if (cli_env_open(cli_get(opts, "--data"), place || release, &env, &err) != ERR_OK)
        return cli_fail(&err);
    int status = 0;
    if (!place && !release) {
        status = hold_list(&env, cli_get(opts, "--all") != NULL);
    } else if (cli_audited(&env, j.now, place ? place_txn : release_txn, &j, &err) != ERR_OK) {
        status = cli_fail(&err);
    } else if (place) {
        printf("%lld\n", (long long)j.hold_id);
    } else {
        printf("released hold %lld\n", (long long)j.hold_id);
    }
    cli_env_close(&env);
    return status;
}
