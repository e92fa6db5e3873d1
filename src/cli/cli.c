/*
 * cli.c - option parsing and error reporting shared by the subcommands.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "privacy/audit.h"
#include "util/buf.h"
#include "util/datetime.h"

bool cli_parse(int argc, char **argv, int first, cli_opt *opts, const char **positional,
               size_t max_pos, size_t *npos)
{
    *npos = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
            if (*npos == max_pos) {
                fprintf(stderr, "civic311: unexpected argument: %s\n", a);
                return false;
            }
            positional[(*npos)++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        cli_opt *o = opts;
        for (; o->name != NULL; o++)
            if (strlen(o->name) == nlen && strncmp(o->name, a, nlen) == 0)
                break;
        if (o->name == NULL) {
            fprintf(stderr, "civic311: unknown option %.*s (see --help)\n", (int)nlen, a);
            return false;
        }
        if (o->value != NULL) {
            fprintf(stderr,
                    "civic311: %s is given twice (a list is one value, "
                    "comma-separated)\n",
                    o->name);
            return false;
        }
        if (!o->takes_value) {
            if (eq != NULL) {
                fprintf(stderr, "civic311: %s takes no value\n", o->name);
                return false;
            }
            o->value = "";
        } else if (eq != NULL) {
            o->value = eq + 1;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            fprintf(stderr, "civic311: %s needs a value\n", o->name);
            return false;
        }
    }
    return true;
}

const char *cli_get(const cli_opt *opts, const char *name)
{
    for (const cli_opt *o = opts; o->name != NULL; o++)
        if (strcmp(o->name, name) == 0)
            return o->value;
    return NULL;
}

int cli_fail(const err_t *err)
{
    fprintf(stderr, "civic311: %s\n", err->msg[0] ? err->msg : err_code_name(err->code));
    switch (err->code) {
    case ERR_INVALID:
    case ERR_NOT_FOUND:
    case ERR_CONFLICT:
    case ERR_TOO_LARGE:
        return EXIT_USAGE;
    default:
        return 1;
    }
}

bool cli_wants_help(int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

int cli_help(const char *help)
{
    fputs(help, stdout);
    return 0;
}

int cli_usage(const char *help)
{
    fputs(help, stderr);
    return EXIT_USAGE;
}

err_code cli_open_store(const civic_config *cfg, bool sync, store_t **out, err_t *err)
{
    store_options opt = {.url = cfg->db_path, .sync = sync, .read_only = false};
    store_t *s = NULL;
    err_code rc = store_open(&opt, &s, err);
    if (rc == ERR_OK)
        rc = store_migrate(s, err);
    if (rc != ERR_OK) {
        store_close(s);
        return rc;
    }
    *out = s;
    return ERR_OK;
}

err_code cli_load_keys(const civic_config *cfg, keyring_t **out, err_t *err)
{
    err_code rc = keyring_load(cfg->keys_file, out, err);
    if (rc == ERR_NOT_FOUND)
        return err_set(err, rc,
                       "there is no key file at %s: a store made before the privacy engine "
                       "needs one (`civic311 keys init --data %s`); if the store has one "
                       "elsewhere, set privacy.keys_file in config.json",
                       cfg->keys_file, cfg->data_dir);
    return rc;
}

err_code cli_lock_keys(const civic_config *cfg, bool exclusive, int *fd_out, err_t *err)
{
    buf_t path = BUF_INIT;
    buf_printf(&path, "%s.lock", cfg->keys_file);
    if (buf_failed(&path))
        return err_set(err, ERR_NOMEM, "out of memory");
    int fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    buf_free(&path);
    if (fd < 0)
        return err_set(err, ERR_IO, "cannot open the key file's lock: %s", strerror(errno));
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return err_set(err, ERR_UNAVAILABLE,
                           exclusive ? "a server is running on this key file: stop it first"
                                     : "a key rotation is running: start the server after it");
        return err_set(err, ERR_IO, "cannot lock the key file: %s", strerror(e));
    }
    *fd_out = fd;
    return ERR_OK;
}

err_code cli_now(const char *iso, int64_t *now, err_t *err)
{
    if (iso == NULL) {
        *now = (int64_t)time(NULL);
        return ERR_OK;
    }
    if (!dt_parse(iso, strlen(iso), now))
        return err_set(err, ERR_INVALID,
                       "--now must be an ISO 8601 time such as "
                       "2026-12-31T12:00:00Z");
    return ERR_OK;
}

err_code cli_env_open(const char *dir, bool need_keys, cli_env *env, err_t *err)
{
    memset(env, 0, sizeof *env);
    err_code rc = config_load(dir, &env->cfg, err);
    if (rc == ERR_OK && need_keys)
        rc = cli_load_keys(&env->cfg, &env->keys, err);
    if (rc == ERR_OK)
        rc = cli_open_store(&env->cfg, true, &env->store, err);
    if (rc != ERR_OK)
        cli_env_close(env);
    return rc;
}

void cli_env_close(cli_env *env)
{
    store_close(env->store);
    keyring_free(env->keys);
    config_free(&env->cfg);
    memset(env, 0, sizeof *env);
}

err_code cli_audited(cli_env *env, int64_t now, cli_txn_fn fn, void *arg, err_t *err)
{
    err_code rc = store_begin(env->store, err);
    if (rc != ERR_OK)
        return rc;
    rc = fn(env, arg, err);
    if (rc != ERR_OK && rc != ERR_FORBIDDEN) {
        store_rollback(env->store);
        return rc;
    }
    err_t cerr;
    err_code crc = audit_commit(env->store, env->keys, now, ERR_OK, &cerr);
    if (crc != ERR_OK) {
        *err = cerr;
        return crc;
    }
    return rc;
}

bool cli_parse_id(const char *s, int64_t *out)
{
    if (s == NULL || *s < '1' || *s > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (int64_t)v;
    return true;
}

bool cli_actor_name_ok(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    return n > 0 && n <= 64 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

bool cli_parse_classes(const char *list, unsigned *mask)
{
    *mask = 0;
    char buf[128];
    if (list == NULL || strlen(list) >= sizeof buf)
        return false;
    strcpy(buf, list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        data_class dc;
        if (!sr_data_class_parse(t, &dc))
            return false;
        *mask |= DC_BIT(dc);
    }
    return *mask != 0;
}

/* mkdir -p: creates dir and any missing parents, each new one 0700. */
bool cli_make_dirs(const char *dir)
{
    buf_t path = BUF_INIT;
    buf_puts(&path, dir);
    if (buf_failed(&path))
        return false;
    bool ok = true;
    for (char *p = path.data + 1; ok; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        ok = mkdir(path.data, 0700) == 0 || errno == EEXIST;
        *p = c;
        if (c == '\0')
            break;
    }
    buf_free(&path);
    return ok;
}

/* The key file, in its own 0700 folder (DIR/keys by default). A key file
 * configured elsewhere that exists already is kept: several stores may
 * share one key custodian's file. */
err_code cli_create_keys(const civic_config *cfg, err_t *err)
{
    if (access(cfg->keys_file, F_OK) == 0) {
        keyring_t *k = NULL;
        err_code rc = keyring_load(cfg->keys_file, &k, err);
        keyring_free(k);
        return rc;
    }
    buf_t dir = BUF_INIT;
    buf_puts(&dir, cfg->keys_file);
    if (buf_failed(&dir))
        return err_set(err, ERR_NOMEM, "out of memory");
    char *slash = strrchr(dir.data, '/');
    if (slash != NULL && slash != dir.data)
        *slash = '\0';
    bool ok = slash == NULL || slash == dir.data || cli_make_dirs(dir.data);
    buf_free(&dir);
    if (!ok)
        return err_set(err, ERR_IO, "cannot create the key file's folder: %s", strerror(errno));
    return keyring_create(cfg->keys_file, err);
}
