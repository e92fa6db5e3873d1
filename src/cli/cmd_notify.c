/*
 * cmd_notify.c - `civic311 webhook add|list|remove` (agencies' own
 * systems, told of their requests' public changes by signed POSTs) and
 * `civic311 outbox list|retry` (the notifications waiting, sent or given
 * up, for operators). W6.
 *
 * Never prints an address: an outbox row names its target by id (a
 * follower's pseudonymous subject, or a webhook).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli/cli.h"
#include "notify/notify.h"
#include "util/datetime.h"

static const char WEBHOOK_HELP[] =
    "usage: civic311 webhook add --data DIR --agency CODE --url URL\n"
    "       civic311 webhook list --data DIR\n"
    "       civic311 webhook remove --data DIR --id N\n"
    "\n"
    "add     registers an agency's system: every public change of the agency's\n"
    "        requests is POSTed to URL as JSON, signed. Prints the webhook's number\n"
    "        and its secret, ONCE: the secret is kept sealed and never shown again.\n"
    "        Each POST carries X-Civic311-Delivery (stable per notification: drop\n"
    "        repeats), X-Civic311-Timestamp and X-Civic311-Signature, the hex\n"
    "        HMAC-SHA256 of \"TIMESTAMP.BODY\" keyed with the secret's 32 bytes.\n"
    "list    the webhooks (never their secrets).\n"
    "remove  stops one: nothing more is queued or sent to it.\n";

static const char OUTBOX_HELP[] =
    "usage: civic311 outbox list --data DIR [--status pending|sent|failed] [--after ID]\n"
    "                            [--max N]\n"
    "       civic311 outbox retry --data DIR (--id N | --all-failed)\n"
    "\n"
    "list   notifications by number: kind (email, webhook), the change (event), the\n"
    "       target (s:N, a follower; w:N, a webhook), status, attempts, when it is\n"
    "       due or was sent, and the last error.\n"
    "retry  makes failed notifications pending again, due now, attempts counted\n"
    "       afresh; the running server sends them.\n";

typedef struct {
    const char *agency, *url;
    int64_t id, now;
    char secret[NOTIFY_SECRET_HEX];
} webhook_job;

static err_code webhook_add_txn(cli_env *env, void *arg, err_t *err)
{
    webhook_job *j = arg;
    catalog *cat = NULL;
    err_code rc = store_catalog_load(env->store, &cat, err);
    /* Requests name agencies by code, so a webhook for a code no service
     * routes to would never hear of anything: refused, not kept. */
    bool known = false;
    for (size_t i = 0; rc == ERR_OK && i < cat->nservices; i++)
        known = known || (cat->services[i].agency_code != NULL &&
                          strcmp(cat->services[i].agency_code, j->agency) == 0);
    if (rc == ERR_OK && !known && catalog_find_agency(cat, j->agency) == NULL)
        rc = err_set(err, ERR_INVALID, "no agency with this code in the catalog");
    catalog_free(cat);
    if (rc != ERR_OK)
        return rc;
    return notify_webhook_add(env->store, env->keys, j->agency, j->url, j->now, &j->id, j->secret,
                              err);
}

static err_code webhook_remove_txn(cli_env *env, void *arg, err_t *err)
{
    webhook_job *j = arg;
    return store_webhook_disable(env->store, j->id, j->now, err);
}

static int webhook_list(cli_env *env)
{
    err_t err;
    pool_t *pool = pool_new();
    store_webhook *w = NULL;
    size_t n = 0;
    err_code rc = pool == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                               : store_webhook_list(env->store, pool, &w, &n, &err);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        char at[DT_BUFSZ];
        printf("webhook %lld: agency %s %s since %s%s\n", (long long)w[i].id, w[i].agency_code,
               w[i].url, dt_format(w[i].created_at, at), w[i].disabled_at ? ", removed" : "");
    }
    pool_free(pool);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

int cmd_webhook(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL}, {"--agency", true, NULL}, {"--url", true, NULL},
                      {"--id", true, NULL},   {"--help", false, NULL},  {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(WEBHOOK_HELP);
    webhook_job j = {0};
    bool ok = cli_parse(argc, argv, 2, opts, pos, 1, &npos) && npos == 1 &&
              cli_get(opts, "--data") != NULL;
    const char *sub = ok ? pos[0] : "";
    bool add = strcmp(sub, "add") == 0, remove = strcmp(sub, "remove") == 0;
    j.agency = cli_get(opts, "--agency");
    j.url = cli_get(opts, "--url");
    if (ok && add)
        ok = j.agency != NULL && j.url != NULL;
    if (ok && remove)
        ok = cli_parse_id(cli_get(opts, "--id"), &j.id);
    if (!ok || (!add && !remove && strcmp(sub, "list") != 0))
        return cli_usage(WEBHOOK_HELP);
    j.now = (int64_t)time(NULL);
    cli_env env;
    err_t err;
    if (cli_env_open(cli_get(opts, "--data"), add, &env, &err) != ERR_OK)
        return cli_fail(&err);
    int status = 0;
    if (!add && !remove)
        status = webhook_list(&env);
    else if (cli_audited(&env, j.now, add ? webhook_add_txn : webhook_remove_txn, &j, &err) !=
             ERR_OK)
        status = cli_fail(&err);
    else if (add)
        printf("webhook %lld\nsecret %s\n", (long long)j.id, j.secret);
    else
        printf("removed webhook %lld\n", (long long)j.id);
    sodium_memzero(j.secret, sizeof j.secret);
    cli_env_close(&env);
    return status;
}

static int outbox_list(cli_env *env, const outbox_status *st, int64_t after, size_t max)
{
    err_t err;
    pool_t *pool = pool_new();
    store_outbox *o = NULL;
    size_t n = 0;
    err_code rc = pool == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                               : store_outbox_list(env->store, st, after, max, pool, &o, &n, &err);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        char due[DT_BUFSZ], sent[DT_BUFSZ];
        printf("%lld %s event %lld %s:%lld %s attempts %d %s %s%s%s\n", (long long)o[i].id,
               store_outbox_kind_name(o[i].kind), (long long)o[i].event_id,
               o[i].kind == OUTBOX_EMAIL ? "s" : "w", (long long)o[i].target_id,
               store_outbox_status_name(o[i].status), o[i].attempts,
               o[i].status == OUTBOX_SENT ? "sent" : "due",
               o[i].status == OUTBOX_SENT ? dt_format(o[i].sent_at, sent)
                                          : dt_format(o[i].next_attempt_at, due),
               o[i].last_error ? " error: " : "", o[i].last_error ? o[i].last_error : "");
    }
    pool_free(pool);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

typedef struct {
    int64_t id, now;
    size_t retried;
} retry_job;

static err_code retry_txn(cli_env *env, void *arg, err_t *err)
{
    retry_job *j = arg;
    return store_outbox_retry(env->store, j->id, j->now, &j->retried, err);
}

int cmd_outbox(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},  {"--status", true, NULL},
                      {"--after", true, NULL}, {"--max", true, NULL},
                      {"--id", true, NULL},    {"--all-failed", false, NULL},
                      {"--help", false, NULL}, {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(OUTBOX_HELP);
    bool ok = cli_parse(argc, argv, 2, opts, pos, 1, &npos) && npos == 1 &&
              cli_get(opts, "--data") != NULL;
    const char *sub = ok ? pos[0] : "";
    bool list = strcmp(sub, "list") == 0, retry = strcmp(sub, "retry") == 0;
    outbox_status st;
    const char *status = cli_get(opts, "--status");
    int64_t after = 0, max = 1000;
    retry_job j = {0};
    if (ok && list)
        ok = (status == NULL || store_outbox_status_parse(status, &st)) &&
             (cli_get(opts, "--after") == NULL || cli_parse_id(cli_get(opts, "--after"), &after)) &&
             (cli_get(opts, "--max") == NULL ||
              (cli_parse_id(cli_get(opts, "--max"), &max) && max <= 100000));
    if (ok && retry)
        ok = (cli_get(opts, "--id") != NULL) != (cli_get(opts, "--all-failed") != NULL) &&
             (cli_get(opts, "--id") == NULL || cli_parse_id(cli_get(opts, "--id"), &j.id));
    if (!ok || (!list && !retry))
        return cli_usage(OUTBOX_HELP);
    cli_env env;
    err_t err;
    if (cli_env_open(cli_get(opts, "--data"), false, &env, &err) != ERR_OK)
        return cli_fail(&err);
    int code = 0;
    if (list) {
        code = outbox_list(&env, status ? &st : NULL, after, (size_t)max);
    } else {
        j.now = (int64_t)time(NULL);
        err_code rc = store_begin(env.store, &err);
        if (rc == ERR_OK) {
            if ((rc = retry_txn(&env, &j, &err)) == ERR_OK)
                rc = store_commit(env.store, &err);
            else
                store_rollback(env.store);
        }
        if (rc != ERR_OK)
            code = cli_fail(&err);
        else
            printf("%zu notifications to send again\n", j.retried);
    }
    cli_env_close(&env);
    return code;
}
