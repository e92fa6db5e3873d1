/*
 * cmd_disclosure.c - `civic311 disclosure register|approve|close|export|
 * list|show`: the disclosure register (P4) from the command line, for
 * records and privacy officers. Court orders and law-enforcement requests
 * are recorded, approved by a second officer, exported under, and closed;
 * privacy/disclosure.c decides, the gatekeeper reads, the audit log
 * records. The actor is "cli:NAME", in the role --role names, as for
 * `civic311 personal`.
 *
 * An export is committed (register row and audit entries) before a byte
 * of it is written out: a failed write leaves an export on record that
 * nobody received, never one received and not on record.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "privacy/disclosure.h"
#include "util/buf.h"
#include "util/datetime.h"

static const char HELP[] =
    "usage: civic311 disclosure register --data DIR --actor NAME --role ROLE\n"
    "                 --requester TEXT --reference REF --legal-basis TEXT\n"
    "                 --received DATE --requests N[,N...] [--classes CLASS[,CLASS...]]\n"
    "       civic311 disclosure approve --data DIR --id N --actor NAME --role ROLE\n"
    "       civic311 disclosure close --data DIR --id N --actor NAME --role ROLE\n"
    "       civic311 disclosure export --data DIR --id N --actor NAME --role ROLE\n"
    "                 [--requests N[,N...]] [--classes CLASS[,CLASS...]] [--out FILE]\n"
    "       civic311 disclosure list --data DIR [--all]\n"
    "       civic311 disclosure show --data DIR --id N\n"
    "\n"
    "The disclosure register (P4): personal data leaves Civic311 for a third party\n"
    "only under a court order or a law-enforcement request recorded here.\n"
    "register  records an order: the court or agency (--requester), its docket or\n"
    "          case number (--reference, printable ASCII), the legal basis, the date\n"
    "          it was received, the requests it names and the data classes it covers\n"
    "          (default: contact). Name institutions only, never a person: the\n"
    "          register is kept for good. Prints the order's number.\n"
    "approve   a second officer approves it: the officer who recorded an order may\n"
    "          not approve it.\n"
    "export    writes the named requests' personal data (default: every request and\n"
    "          class of the order) as one JSON document to FILE (created, mode 0600;\n"
    "          it must not exist) or stdout, once the export is recorded in the\n"
    "          register and the audit log. Only under an approved order not closed.\n"
    "close     ends an order: nothing more can be exported under it.\n"
    "list      orders, newest first (--all: closed ones too). show: one, as JSON.\n"
    "ROLE: records_officer or privacy_officer (any other role is refused, and an\n"
    "      export refused is recorded in the audit log)\n"
    "CLASS: contact, device, account, media, recording\n";

typedef struct {
    gate_actor actor;
    char actor_id[80];
    int64_t order_id;
    disclosure_order_input in;
    int64_t *ids;
    size_t nids;
    unsigned classes;
    int64_t now;
    pool_t *pool;
    buf_t doc;
    disclosure_receipt receipt;
} disclosure_job;

/* "12,15,40" into job->ids (from the job's pool). */
static bool parse_ids(const char *list, disclosure_job *job)
{
    size_t cap = 0;
    job->ids = NULL;
    job->nids = 0;
    if (list == NULL || *list == '\0' || strlen(list) > 20000)
        return false;
    char *copy = pool_strdup(job->pool, list);
    if (copy == NULL)
        return false;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int64_t id;
        int64_t *grown;
        if (!cli_parse_id(t, &id) || job->nids >= STORE_DISCLOSURE_MAX_REQUESTS ||
            (grown = pool_grow(job->pool, job->ids, job->nids, &cap, sizeof *grown)) == NULL)
            return false;
        job->ids = grown;
        job->ids[job->nids++] = id;
    }
    return job->nids > 0;
}

static bool parse_actor(const cli_opt *opts, disclosure_job *job)
{
    const char *actor = cli_get(opts, "--actor");
    if (!cli_actor_name_ok(actor)) {
        fprintf(stderr, "civic311: --actor is who you are: 1-64 letters, digits, . _ -\n");
        return false;
    }
    if (!gate_role_parse(cli_get(opts, "--role"), &job->actor.role)) {
        fprintf(stderr, "civic311: --role is required (records_officer or privacy_officer)\n");
        return false;
    }
    snprintf(job->actor_id, sizeof job->actor_id, "cli:%s", actor);
    job->actor.actor = job->actor_id;
    return true;
}

static err_code register_txn(cli_env *env, void *arg, err_t *err)
{
    disclosure_job *job = arg;
    return disclosure_register(env->store, &job->actor, &job->in, job->now, &job->order_id, err);
}

static err_code approve_txn(cli_env *env, void *arg, err_t *err)
{
    disclosure_job *job = arg;
    return disclosure_approve(env->store, &job->actor, job->order_id, job->now, err);
}

static err_code close_txn(cli_env *env, void *arg, err_t *err)
{
    disclosure_job *job = arg;
    return disclosure_close(env->store, &job->actor, job->order_id, job->now, err);
}

static err_code export_txn(cli_env *env, void *arg, err_t *err)
{
    disclosure_job *job = arg;
    return disclosure_export(env->store, env->keys, &job->actor, job->order_id, job->ids, job->nids,
                             job->classes, job->now, job->pool, &job->doc, &job->receipt, err);
}

/* Writes the document to a new file (never over an existing one), on
 * disk before it says so. */
static bool write_new_file(const char *path, const buf_t *doc)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "civic311: cannot create %s: %s\n", path, strerror(errno));
        return false;
    }
    size_t off = 0;
    while (off < doc->len) {
        ssize_t n = write(fd, doc->data + off, doc->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "civic311: cannot write %s: %s\n", path, strerror(errno));
            close(fd);
            unlink(path);
            return false;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fprintf(stderr, "civic311: cannot write %s: %s\n", path, strerror(errno));
        unlink(path);
        return false;
    }
    return true;
}

static void classes_line(buf_t *b, unsigned mask)
{
    bool first = true;
    for (unsigned dc = 0; dc < DC_COUNT; dc++)
        if (mask & DC_BIT(dc)) {
            if (!first)
                buf_putc(b, ',');
            first = false;
            buf_puts(b, sr_data_class_name((data_class)dc));
        }
}

static void json_time(buf_t *b, const char *key, int64_t t)
{
    char iso[DT_BUFSZ];
    buf_printf(b, ",\"%s\":", key);
    if (t == 0)
        buf_puts(b, "null");
    else
        buf_printf(b, "\"%s\"", dt_format(t, iso));
}

static int disclosure_list(cli_env *env, bool all)
{
    err_t err;
    pool_t *pool = pool_new();
    store_disclosure *o;
    size_t n = 0;
    err_code rc = pool == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                               : store_disclosure_list(env->store, !all, 1000, pool, &o, &n, &err);
    buf_t b = BUF_INIT;
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        char at[DT_BUFSZ];
        buf_printf(&b, "order %lld: %s, %s %s, received %.10s, %zu requests (", (long long)o[i].id,
                   disclosure_state_name(disclosure_state_of(&o[i])), o[i].requester,
                   o[i].reference, dt_format(o[i].received_at, at), o[i].nrequests);
        classes_line(&b, o[i].classes);
        buf_printf(&b, "), %lld exports\n", (long long)o[i].exports);
    }
    if (rc == ERR_OK && buf_failed(&b))
        rc = err_set(&err, ERR_NOMEM, "out of memory");
    if (rc == ERR_OK && b.len > 0)
        fputs(b.data, stdout);
    buf_free(&b);
    pool_free(pool);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

static int disclosure_show(cli_env *env, int64_t id)
{
    err_t err;
    pool_t *pool = pool_new();
    store_disclosure o;
    store_disclosure_export *ex = NULL;
    size_t nex = 0;
    err_code rc = pool == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                               : store_disclosure_get(env->store, id, pool, &o, &err);
    if (rc == ERR_OK)
        rc = store_disclosure_exports(env->store, id, pool, &ex, &nex, &err);
    buf_t b = BUF_INIT;
    if (rc == ERR_OK) {
        buf_printf(&b, "{\"id\":%lld,\"state\":\"%s\",\"requester\":", (long long)o.id,
                   disclosure_state_name(disclosure_state_of(&o)));
        buf_json_str(&b, o.requester);
        buf_puts(&b, ",\"reference\":");
        buf_json_str(&b, o.reference);
        buf_puts(&b, ",\"legal_basis\":");
        buf_json_str(&b, o.legal_basis);
        json_time(&b, "received", o.received_at);
        buf_puts(&b, ",\"classes\":\"");
        classes_line(&b, o.classes);
        buf_puts(&b, "\",\"requests\":[");
        for (size_t i = 0; i < o.nrequests; i++)
            buf_printf(&b, "%s%lld", i ? "," : "", (long long)o.request_ids[i]);
        buf_puts(&b, "],\"recorded_by\":");
        buf_json_str(&b, o.recorded_by);
        buf_puts(&b, ",\"recorded_role\":");
        buf_json_str(&b, o.recorded_role);
        json_time(&b, "recorded_at", o.recorded_at);
        buf_puts(&b, ",\"approved_by\":");
        buf_json_str(&b, o.approved_by);
        buf_puts(&b, ",\"approved_role\":");
        buf_json_str(&b, o.approved_role);
        json_time(&b, "approved_at", o.approved_at);
        buf_puts(&b, ",\"closed_by\":");
        buf_json_str(&b, o.closed_by);
        json_time(&b, "closed_at", o.closed_at);
        buf_puts(&b, ",\"exports\":[");
        for (size_t i = 0; i < nex; i++) {
            char hex[2 * STORE_DISCLOSURE_DIGEST_LEN + 1];
            for (size_t j = 0; j < STORE_DISCLOSURE_DIGEST_LEN; j++)
                snprintf(hex + 2 * j, 3, "%02x", ex[i].digest[j]);
            buf_printf(&b, "%s{\"id\":%lld,\"by\":", i ? "," : "", (long long)ex[i].id);
            buf_json_str(&b, ex[i].exported_by);
            buf_puts(&b, ",\"role\":");
            buf_json_str(&b, ex[i].role);
            json_time(&b, "at", ex[i].exported_at);
            buf_puts(&b, ",\"classes\":\"");
            classes_line(&b, ex[i].classes);
            buf_printf(&b, "\",\"sha256\":\"%s\",\"bytes\":%lld,\"requests\":[", hex,
                       (long long)ex[i].bytes);
            for (size_t j = 0; j < ex[i].nrequests; j++)
                buf_printf(&b, "%s%lld", j ? "," : "", (long long)ex[i].request_ids[j]);
            buf_puts(&b, "]}");
        }
        buf_puts(&b, "]}\n");
        if (buf_failed(&b))
            rc = err_set(&err, ERR_NOMEM, "out of memory");
    }
    if (rc == ERR_OK)
        fputs(b.data, stdout);
    buf_free(&b);
    pool_free(pool);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

/* Checks the command line for one subcommand into job; false = usage. */
static bool parse_job(const char *sub, const cli_opt *opts, disclosure_job *job)
{
    bool reg = strcmp(sub, "register") == 0, exp = strcmp(sub, "export") == 0;
    if (!parse_actor(opts, job))
        return false;
    if (!reg && !cli_parse_id(cli_get(opts, "--id"), &job->order_id)) {
        fprintf(stderr, "civic311: --id is the order's number\n");
        return false;
    }
    const char *classes = cli_get(opts, "--classes");
    if ((reg || exp) && classes != NULL && !cli_parse_classes(classes, &job->classes)) {
        fprintf(stderr, "civic311: --classes is a list of contact, device, account, media, "
                        "recording\n");
        return false;
    }
    const char *requests = cli_get(opts, "--requests");
    if ((reg || (exp && requests != NULL)) && !parse_ids(requests, job)) {
        fprintf(stderr, "civic311: --requests is a list of request numbers (at most %d)\n",
                STORE_DISCLOSURE_MAX_REQUESTS);
        return false;
    }
    if (!reg)
        return true;
    const char *received = cli_get(opts, "--received");
    if (received == NULL || !dt_parse(received, strlen(received), &job->in.received_at)) {
        fprintf(stderr, "civic311: --received is the date the order came in (YYYY-MM-DD)\n");
        return false;
    }
    job->in.requester = cli_get(opts, "--requester");
    job->in.reference = cli_get(opts, "--reference");
    job->in.legal_basis = cli_get(opts, "--legal-basis");
    if (job->in.requester == NULL || job->in.reference == NULL || job->in.legal_basis == NULL) {
        fprintf(stderr, "civic311: --requester, --reference and --legal-basis are required\n");
        return false;
    }
    job->in.request_ids = job->ids;
    job->in.nrequests = job->nids;
    job->in.classes = job->classes != 0 ? job->classes : DC_BIT(DC_CONTACT);
    return true;
}

/* Prints the outcome of a write that committed. */
static int report(const char *sub, disclosure_job *job, const char *out_path)
{
    if (strcmp(sub, "register") == 0) {
        printf("%lld\n", (long long)job->order_id);
        return 0;
    }
    if (strcmp(sub, "approve") == 0 || strcmp(sub, "close") == 0) {
        printf("order %lld %s\n", (long long)job->order_id,
               strcmp(sub, "approve") == 0 ? "approved" : "closed");
        return 0;
    }
    const disclosure_receipt *r = &job->receipt;
    if (out_path == NULL) {
        if (fwrite(job->doc.data, 1, job->doc.len, stdout) != job->doc.len || fflush(stdout)) {
            fprintf(stderr,
                    "civic311: export %lld is recorded but could not be written out: "
                    "run the export again\n",
                    (long long)r->export_id);
            return 1;
        }
    } else if (!write_new_file(out_path, &job->doc)) {
        fprintf(stderr,
                "civic311: export %lld is recorded but nothing was written: run the "
                "export again\n",
                (long long)r->export_id);
        return 1;
    }
    fprintf(out_path != NULL ? stdout : stderr,
            "export %lld under order %lld: %zu requests, sha256 %s\n", (long long)r->export_id,
            (long long)r->order_id, r->nrequests, r->digest_hex);
    return 0;
}

int cmd_disclosure(int argc, char **argv)
{
    cli_opt opts[] = {
        {"--data", true, NULL},        {"--actor", true, NULL},     {"--role", true, NULL},
        {"--id", true, NULL},          {"--requester", true, NULL}, {"--reference", true, NULL},
        {"--legal-basis", true, NULL}, {"--received", true, NULL},  {"--requests", true, NULL},
        {"--classes", true, NULL},     {"--out", true, NULL},       {"--all", false, NULL},
        {"--help", false, NULL},       {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 1, &npos) || npos != 1 ||
        cli_get(opts, "--data") == NULL)
        return cli_usage(HELP);
    const char *sub = pos[0];
    bool list = strcmp(sub, "list") == 0, show = strcmp(sub, "show") == 0;
    static const char *const WRITES[] = {"register", "approve", "close", "export"};
    cli_txn_fn fns[] = {register_txn, approve_txn, close_txn, export_txn};
    int w = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(sub, WRITES[i]) == 0)
            w = i;
    if (!list && !show && w < 0)
        return cli_usage(HELP);

    cli_env env;
    err_t err;
    int64_t id = 0;
    if (list || show) {
        if (show && !cli_parse_id(cli_get(opts, "--id"), &id))
            return cli_usage(HELP);
        if (cli_env_open(cli_get(opts, "--data"), false, &env, &err) != ERR_OK)
            return cli_fail(&err);
        int status = list ? disclosure_list(&env, cli_get(opts, "--all") != NULL)
                          : disclosure_show(&env, id);
        cli_env_close(&env);
        return status;
    }

    disclosure_job *job = calloc(1, sizeof *job);
    if (job == NULL || (job->pool = pool_new()) == NULL) {
        fprintf(stderr, "civic311: out of memory\n");
        free(job);
        return 1;
    }
    const char *out_path = cli_get(opts, "--out");
    int status = 0;
    if (!parse_job(sub, opts, job)) {
        status = cli_usage(HELP);
    } else if (out_path != NULL && access(out_path, F_OK) == 0) {
        /* Refused before anything is read or recorded; write_new_file
         * (O_EXCL) holds the line should the file appear meanwhile. */
        fprintf(stderr, "civic311: %s exists: an export never overwrites a file\n", out_path);
        status = EXIT_USAGE;
    } else {
        job->now = (int64_t)time(NULL);
        err_code rc = cli_env_open(cli_get(opts, "--data"), true, &env, &err);
        if (rc == ERR_OK) {
            rc = cli_audited(&env, job->now, fns[w], job, &err);
            cli_env_close(&env);
        }
        if (rc == ERR_FORBIDDEN) {
            fprintf(stderr, "civic311: %s\n", err.msg); /* recorded when it was an export */
            status = 1;
        } else if (rc != ERR_OK) {
            status = cli_fail(&err);
        } else {
            status = report(sub, job, out_path);
        }
    }
    if (job->doc.data != NULL)
        sodium_memzero(job->doc.data, job->doc.cap); /* the personal values it held */
    buf_free(&job->doc);
    pool_free(job->pool);
    free(job);
    return status;
}
