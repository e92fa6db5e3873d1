/*
 * cmd_personal.c - `civic311 personal show|find|erase`: a privacy or
 * records officer's (and an operator's) way to the gatekeeper from the
 * command line: answering a person's access request (P7), finding a
 * caller's requests, erasing on request (P6). Every use is decided by the
 * gatekeeper's policy and recorded in the audit log under "cli:NAME".
 *
 * A value to look up is read from stdin, never taken from the command
 * line, where `ps` and shell history would keep it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "privacy/disclosure.h"
#include "privacy/gate.h"
#include "privacy/retention.h"
#include "util/buf.h"

static const char HELP[] =
    "usage: civic311 personal show --data DIR --request N --role ROLE --actor NAME\n"
    "                              --purpose PURPOSE [--agency CODE[,CODE...]]\n"
    "                              [--classes CLASS[,CLASS...]]\n"
    "       civic311 personal find --data DIR --by email|phone --role ROLE --actor NAME\n"
    "                              --purpose PURPOSE   (the value is read from stdin)\n"
    "       civic311 personal erase --data DIR --request N --actor NAME --reason TEXT\n"
    "                              [--classes CLASS[,CLASS...]]\n"
    "\n"
    "show   prints the personal data of one request as JSON, if the policy lets\n"
    "       ROLE read it for PURPOSE; --agency names the actor's agencies (agency\n"
    "       staff see only requests routed to them). Default class: contact.\n"
    "       A records officer reads only through `civic311 disclosure export`.\n"
    "find   prints the numbers of the requests whose reporter gave that email\n"
    "       or phone, newest first (a blind-index lookup).\n"
    "erase  erases a request's personal data now (default: every class), unless\n"
    "       a legal hold covers it; the request itself stays, anonymised.\n"
    "ROLE: resident, agent, agency_staff, supervisor, privacy_officer,\n"
    "      records_officer, admin\n"
    "PURPOSE: address_request, city_business, emergency, required_by_law\n"
    "CLASS: contact, device, account, media, recording\n"
    "Each use is recorded in the audit log as cli:NAME; a refusal too (exit 1).\n";

#define MAX_AGENCIES 16

typedef struct {
    gate_actor actor;
    const char *agencies[MAX_AGENCIES];
    char actor_id[80];
    char agency_buf[512];
    gate_purpose purpose;
    unsigned classes;
    int64_t request_id;
    const char *kind;   /* find */
    char value[400];    /* find: from stdin */
    const char *reason; /* erase */
    int64_t now;
    pool_t *pool;
    gate_view view;
    int64_t *ids;
    size_t nids;
    retention_report rep;
} personal_job;

/* --role, --actor, --purpose, --agency into job->actor. */
static bool parse_actor(const cli_opt *opts, personal_job *job, bool need_role)
{
    const char *actor = cli_get(opts, "--actor");
    const char *agencies = cli_get(opts, "--agency");
    if (!cli_actor_name_ok(actor)) {
        fprintf(stderr, "civic311: --actor is who you are: 1-64 letters, digits, . _ -\n");
        return false;
    }
    snprintf(job->actor_id, sizeof job->actor_id, "cli:%s", actor);
    job->actor.actor = job->actor_id;
    if (need_role && (!gate_role_parse(cli_get(opts, "--role"), &job->actor.role) ||
                      !gate_purpose_parse(cli_get(opts, "--purpose"), &job->purpose))) {
        fprintf(stderr, "civic311: --role and --purpose are required (see --help)\n");
        return false;
    }
    if (agencies != NULL) {
        if (strlen(agencies) >= sizeof job->agency_buf) {
            fprintf(stderr, "civic311: --agency is too long\n");
            return false;
        }
        strcpy(job->agency_buf, agencies);
        char *save = NULL;
        for (char *t = strtok_r(job->agency_buf, ",", &save);
             t && job->actor.nagencies < MAX_AGENCIES; t = strtok_r(NULL, ",", &save))
            job->agencies[job->actor.nagencies++] = t;
        job->actor.agencies = job->agencies;
    }
    return true;
}

static err_code show_txn(cli_env *env, void *arg, err_t *err)
{
    personal_job *job = arg;
    err_code rc = disclosure_check_direct_read(env->store, &job->actor, job->purpose,
                                               job->request_id, job->classes, job->now, err);
    if (rc != ERR_OK)
        return rc;
    return gate_read_request(env->store, env->keys, &job->actor, job->purpose, job->request_id,
                             job->classes, job->now, job->pool, &job->view, err);
}

static err_code find_txn(cli_env *env, void *arg, err_t *err)
{
    personal_job *job = arg;
    return gate_find_requests(env->store, env->keys, &job->actor, job->purpose, job->kind,
                              job->value, 1000, job->now, job->pool, &job->ids, &job->nids, err);
}

static err_code erase_txn(cli_env *env, void *arg, err_t *err)
{
    personal_job *job = arg;
    return retention_erase_request(env->store, job->request_id, job->classes, job->actor.actor,
                                   job->reason, job->now, &job->rep, err);
}

static void print_view(const gate_view *v)
{
    buf_t b = BUF_INIT;
    buf_printf(&b, "{\"request\":%lld,\"subject\":%lld,\"erased\":%s,\"fields\":{",
               (long long)v->request_id, (long long)v->subject_id, v->erased ? "true" : "false");
    bool first = true;
    for (size_t i = 0; i < SR_PERSONAL_FIELD_COUNT; i++) {
        const char *val = sr_reporter_get(&v->reporter, &SR_PERSONAL_FIELDS[i]);
        if (val == NULL)
            continue;
        if (!first)
            buf_putc(&b, ',');
        first = false;
        buf_json_str(&b, SR_PERSONAL_FIELDS[i].name);
        buf_putc(&b, ':');
        buf_json_str(&b, val);
    }
    buf_puts(&b, "}}\n");
    if (!buf_failed(&b))
        fputs(b.data, stdout);
    buf_free(&b);
}

/* Reads one line from stdin into job->value, without its newline. */
static bool read_value(personal_job *job)
{
    if (fgets(job->value, sizeof job->value, stdin) == NULL)
        return false;
    job->value[strcspn(job->value, "\r\n")] = '\0';
    return job->value[0] != '\0';
}

int cmd_personal(int argc, char **argv)
{
    cli_opt opts[] = {
        {"--data", true, NULL},    {"--request", true, NULL}, {"--role", true, NULL},
        {"--actor", true, NULL},   {"--purpose", true, NULL}, {"--agency", true, NULL},
        {"--classes", true, NULL}, {"--by", true, NULL},      {"--reason", true, NULL},
        {"--help", false, NULL},   {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 1, &npos) || npos != 1 ||
        cli_get(opts, "--data") == NULL)
        return cli_usage(HELP);
    const char *sub = pos[0];
    bool show = strcmp(sub, "show") == 0, find = strcmp(sub, "find") == 0,
         erase = strcmp(sub, "erase") == 0;
    personal_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fprintf(stderr, "civic311: out of memory\n");
        return 1;
    }
    const char *classes = cli_get(opts, "--classes");
    bool ok = (show || find || erase) && parse_actor(opts, job, !erase);
    if (ok && (show || erase) && !cli_parse_id(cli_get(opts, "--request"), &job->request_id)) {
        fprintf(stderr, "civic311: --request is a request number\n");
        ok = false;
    }
    if (ok && !cli_parse_classes(classes != NULL ? classes
                                 : show          ? "contact"
                                                 : "contact,device,account,media,recording",
                                 &job->classes)) {
        fprintf(stderr, "civic311: --classes is a list of contact, device, account, media, "
                        "recording\n");
        ok = false;
    }
    if (ok && find) {
        job->kind = cli_get(opts, "--by");
        if (job->kind == NULL || (strcmp(job->kind, "email") != 0 && strcmp(job->kind, "phone"))) {
            fprintf(stderr, "civic311: --by is email or phone\n");
            ok = false;
        } else if (!read_value(job)) {
            fprintf(stderr, "civic311: give the %s to look up on stdin\n", job->kind);
            ok = false;
        }
    }
    if (ok && erase) {
        job->reason = cli_get(opts, "--reason");
        if (job->reason == NULL || job->reason[0] == '\0' || strlen(job->reason) > 120) {
            fprintf(stderr, "civic311: --reason says why (1-120 characters)\n");
            ok = false;
        }
    }
    if (!ok) {
        free(job);
        return cli_usage(HELP);
    }

    cli_env env;
    err_t err;
    int status = 0;
    job->now = (int64_t)time(NULL);
    job->pool = pool_new();
    err_code rc = job->pool == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                                    : cli_env_open(cli_get(opts, "--data"), true, &env, &err);
    if (rc == ERR_OK) {
        rc = cli_audited(&env, job->now, show ? show_txn : find ? find_txn : erase_txn, job, &err);
        cli_env_close(&env);
    }
    if (rc == ERR_FORBIDDEN || rc == ERR_CONFLICT) {
        fprintf(stderr, "civic311: %s\n", err.msg); /* a refusal, or a legal hold */
        status = 1;
    } else if (rc != ERR_OK) {
        status = cli_fail(&err);
    } else if (show) {
        print_view(&job->view);
    } else if (find) {
        for (size_t i = 0; i < job->nids; i++)
            printf("%lld\n", (long long)job->ids[i]);
    } else {
        printf("erased %lld values and %lld files of request %lld; %lld data keys shredded\n",
               (long long)job->rep.values, (long long)job->rep.blobs, (long long)job->request_id,
               (long long)job->rep.subjects);
    }
    memset(job->value, 0, sizeof job->value);
    pool_free(job->pool);
    free(job);
    return status;
}
