/*
 * cmd_audit.c - `civic311 audit verify|export|checkpoint|list`: the audit
 * log for privacy officers and outside auditors. verify needs only the
 * public key, so an auditor can check a copy without the key file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "privacy/audit.h"

static const char HELP[] =
    "usage: civic311 audit verify --data DIR [--public-key HEX] [--checkpoint FILE]\n"
    "                             [--export FILE]\n"
    "       civic311 audit export --data DIR --out FILE\n"
    "       civic311 audit checkpoint --data DIR [--out FILE]\n"
    "       civic311 audit list --data DIR [--request N]\n"
    "\n"
    "verify      recomputes the audit log's Merkle tree (RFC 6962) from every entry\n"
    "            and checks each signed checkpoint: any edited, deleted, reordered\n"
    "            or truncated entry fails it (exit 1). --public-key: the key to\n"
    "            trust (default: the key file's). --checkpoint: a checkpoint kept\n"
    "            earlier (from `audit checkpoint --out`), which also catches a log\n"
    "            cut back together with its later checkpoints. --export: verify an\n"
    "            exported file instead of the store.\n"
    "export      writes the log as JSON lines (entries and checkpoints) to FILE.\n"
    "checkpoint  signs the tree as it stands; --out keeps the checkpoint in FILE.\n"
    "list        prints entries, one JSON object a line (all, or one request's).\n"
    "Entries hold no personal data: people and staff are pseudonymous ids.\n";

static bool parse_hex(const char *hex, unsigned char *out, size_t n)
{
    if (hex == NULL || strlen(hex) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
            !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
            return false;
        out[i] = (unsigned char)v;
    }
    return true;
}

/* Reads the first line of a checkpoint file. */
static err_code read_pinned(const char *path, store_checkpoint *cp, err_t *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_set(err, ERR_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
    char line[1024];
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t len = got ? strlen(line) : 0;
    if (len > 0 && line[len - 1] == '\n')
        line[--len] = '\0';
    if (!got)
        return err_set(err, ERR_INVALID, "%s holds no checkpoint", path);
    return audit_checkpoint_from_json(line, len, cp, err);
}

static int audit_verify(const char *dir, const cli_opt *opts)
{
    err_t err;
    cli_env env;
    unsigned char pk[STORE_PUBKEY_LEN];
    store_checkpoint pinned;
    const char *pk_hex = cli_get(opts, "--public-key");
    const char *pin = cli_get(opts, "--checkpoint");
    const char *export = cli_get(opts, "--export");
    if (pk_hex != NULL && !parse_hex(pk_hex, pk, sizeof pk)) {
        fprintf(stderr, "civic311: --public-key is 64 hexadecimal digits\n");
        return EXIT_USAGE;
    }
    if (pin != NULL && read_pinned(pin, &pinned, &err) != ERR_OK)
        return cli_fail(&err);
    if (cli_env_open(dir, pk_hex == NULL, &env, &err) != ERR_OK)
        return cli_fail(&err);
    if (pk_hex == NULL)
        keyring_sign_pk(env.keys, pk);
    audit_report rep;
    err_code rc;
    if (export != NULL) {
        FILE *f = fopen(export, "r");
        if (f == NULL)
            rc = err_set(&err, ERR_NOT_FOUND, "cannot open %s: %s", export, strerror(errno));
        else {
            rc = audit_verify_export(f, pk, pin ? &pinned : NULL, &rep, &err);
            fclose(f);
        }
    } else {
        rc = audit_verify_store(env.store, pk, pin ? &pinned : NULL, &rep, &err);
    }
    cli_env_close(&env);
    if (rc != ERR_OK)
        return cli_fail(&err);
    if (!rep.ok) {
        printf("audit log FAILED: %s\n", rep.problem);
        return 1;
    }
    printf("audit log OK: %lld entries, %lld checkpoints; the latest signs %lld entries",
           (long long)rep.entries, (long long)rep.checkpoints, (long long)rep.signed_size);
    if (rep.entries > rep.signed_size)
        printf("; %lld newer entries wait for the next checkpoint",
               (long long)(rep.entries - rep.signed_size));
    printf("\n");
    return 0;
}

/* A transaction with no work of its own: cli_audited then only signs a
 * checkpoint of the log as it stands. */
static err_code nothing(cli_env *env, void *arg, err_t *err)
{
    (void)env, (void)arg, (void)err;
    return ERR_OK;
}

static int audit_export_cmd(cli_env *env, const char *out)
{
    err_t err;
    /* Sign first, so that the export has no unsigned tail: its every entry
     * is then covered by a checkpoint. */
    if (cli_audited(env, (int64_t)time(NULL), nothing, NULL, &err) != ERR_OK)
        return cli_fail(&err);
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "civic311: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        fprintf(stderr, "civic311: cannot write %s\n", out);
        return 1;
    }
    err_code rc = audit_export(env->store, f, &err);
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (rc != ERR_OK) {
        unlink(out);
        return cli_fail(&err);
    }
    if (!ok) {
        unlink(out);
        fprintf(stderr, "civic311: cannot write %s\n", out);
        return 1;
    }
    printf("exported the audit log to %s\n", out);
    return 0;
}

static int audit_checkpoint_cmd(cli_env *env, const char *out)
{
    err_t err;
    store_checkpoint cp;
    err_code rc = cli_audited(env, (int64_t)time(NULL), nothing, NULL, &err);
    if (rc == ERR_OK)
        rc = store_checkpoint_latest(env->store, &cp, &err);
    if (rc == ERR_NOT_FOUND) {
        fprintf(stderr, "civic311: the audit log is empty: nothing to sign yet\n");
        return 1;
    }
    if (rc != ERR_OK)
        return cli_fail(&err);
    buf_t line = BUF_INIT;
    audit_checkpoint_to_json(&cp, &line);
    buf_putc(&line, '\n');
    if (buf_failed(&line)) {
        fprintf(stderr, "civic311: out of memory\n");
        return 1;
    }
    int status = 0;
    if (out != NULL) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        bool ok = fd >= 0 && write(fd, line.data, line.len) == (ssize_t)line.len &&
                  fsync(fd) == 0;
        if (fd >= 0 && close(fd) != 0)
            ok = false;
        if (!ok) {
            fprintf(stderr, "civic311: cannot write %s\n", out);
            status = 1;
        }
    }
    fputs(line.data, stdout);
    buf_free(&line);
    return status;
}

static int audit_list(cli_env *env, const char *request)
{
    err_t err;
    pool_t *pool = pool_new();
    if (pool == NULL) {
        fprintf(stderr, "civic311: out of memory\n");
        return 1;
    }
    store_audit_row *rows;
    size_t n = 0;
    err_code rc = ERR_OK;
    if (request != NULL) {
        int64_t id;
        if (!cli_parse_id(request, &id)) {
            pool_free(pool);
            fprintf(stderr, "civic311: --request is a request number\n");
            return EXIT_USAGE;
        }
        rc = store_audit_for_request(env->store, id, pool, &rows, &n, &err);
        for (size_t i = 0; rc == ERR_OK && i < n; i++)
            printf("%.*s\n", (int)rows[i].body_len, rows[i].body);
    } else {
        int64_t after = 0;
        do {
            rc = store_audit_entries(env->store, after, 1000, pool, &rows, &n, &err);
            for (size_t i = 0; rc == ERR_OK && i < n; i++) {
                printf("%.*s\n", (int)rows[i].body_len, rows[i].body);
                after = rows[i].seq;
            }
        } while (rc == ERR_OK && n == 1000);
    }
    pool_free(pool);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

int cmd_audit(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},       {"--public-key", true, NULL},
                      {"--checkpoint", true, NULL}, {"--export", true, NULL},
                      {"--out", true, NULL},        {"--request", true, NULL},
                      {"--help", false, NULL},      {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    const char *dir = NULL, *sub = NULL;
    if (cli_parse(argc, argv, 2, opts, pos, 1, &npos) && npos == 1) {
        dir = cli_get(opts, "--data");
        sub = pos[0];
    }
    if (dir == NULL || sub == NULL ||
        (strcmp(sub, "export") == 0 && cli_get(opts, "--out") == NULL))
        return cli_usage(HELP);
    if (strcmp(sub, "verify") == 0)
        return audit_verify(dir, opts);
    if (strcmp(sub, "export") != 0 && strcmp(sub, "checkpoint") != 0 && strcmp(sub, "list") != 0)
        return cli_usage(HELP);
    cli_env env;
    err_t err;
    if (cli_env_open(dir, strcmp(sub, "list") != 0, &env, &err) != ERR_OK)
        return cli_fail(&err);
    int rc = strcmp(sub, "export") == 0       ? audit_export_cmd(&env, cli_get(opts, "--out"))
             : strcmp(sub, "checkpoint") == 0 ? audit_checkpoint_cmd(&env, cli_get(opts, "--out"))
                                              : audit_list(&env, cli_get(opts, "--request"));
    cli_env_close(&env);
    return rc;
}
