/*
 * cmd_keys.c - `civic311 keys show|rotate`: the key file seen from the
 * command line. Nothing here ever prints a secret.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "privacy/vault.h"

static const char HELP[] =
    "usage: civic311 keys init --data DIR\n"
    "       civic311 keys show --data DIR\n"
    "       civic311 keys rotate --data DIR\n"
    "\n"
    "init    creates the key file if there is none (`init` does it for a new\n"
    "        store; this is for a store made before the privacy engine).\n"
    "show    the key file's place, its key-encryption key versions, how many\n"
    "        data keys each wraps, and the audit log's public key (give it to\n"
    "        auditors: `audit verify --public-key`). Never a secret.\n"
    "rotate  adds a new key-encryption key, re-wraps every person's data key\n"
    "        under it, compacts the store, then destroys the old key in the key\n"
    "        file: a copy of a data key in an old backup or WAL can no longer be\n"
    "        opened (P6). Resumable: run it again after a crash. The server must\n"
    "        be stopped. Take a fresh backup afterwards: personal data in older\n"
    "        backups is unreadable from now on, by design.\n";

static void print_hex(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static int keys_show(cli_env *env)
{
    int versions[KEYRING_MAX_KEKS];
    size_t n = keyring_kek_versions(env->keys, versions, KEYRING_MAX_KEKS);
    printf("key file: %s\n", keyring_path(env->keys));
    printf("current key-encryption key: version %d\n", keyring_kek_current(env->keys));
    for (size_t i = 0; i < n; i++) {
        int64_t count = 0;
        err_t err;
        if (store_subject_count_kek(env->store, versions[i], &count, &err) != ERR_OK)
            return cli_fail(&err);
        printf("key-encryption key version %d: wraps %lld data keys\n", versions[i],
               (long long)count);
    }
    unsigned char pk[KEYRING_SIGN_PK_LEN];
    keyring_sign_pk(env->keys, pk);
    printf("audit public key: ");
    print_hex(pk, sizeof pk);
    printf("\n");
    return 0;
}

static int keys_rotate(cli_env *env)
{
    err_t err;
    int lock = -1;
    int64_t done = 0;
    int old[KEYRING_MAX_KEKS];
    size_t nold = keyring_kek_versions(env->keys, old, KEYRING_MAX_KEKS);
    err_code rc = cli_lock_keys(&env->cfg, true, &lock, &err);
    if (rc == ERR_OK)
        rc = vault_rotate(env->store, env->keys, "cli:keys rotate", (int64_t)time(NULL), 1000,
                          &done, &err);
    if (lock >= 0)
        close(lock);
    if (rc != ERR_OK)
        return cli_fail(&err);
    int current = keyring_kek_current(env->keys);
    printf("rotated: %lld data keys re-wrapped under key-encryption key version %d\n",
           (long long)done, current);
    for (size_t i = 0; i < nold; i++)
        if (old[i] != current)
            printf("destroyed: key-encryption key version %d\n", old[i]);
    return 0;
}

int cmd_keys(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL}, {"--help", false, NULL}, {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 1, &npos) || npos != 1 ||
        cli_get(opts, "--data") == NULL ||
        (strcmp(pos[0], "show") != 0 && strcmp(pos[0], "rotate") != 0 &&
         strcmp(pos[0], "init") != 0))
        return cli_usage(HELP);
    cli_env env;
    err_t err;
    if (strcmp(pos[0], "init") == 0) {
        civic_config cfg;
        if (config_load(cli_get(opts, "--data"), &cfg, &err) != ERR_OK)
            return cli_fail(&err);
        err_code rc = cli_create_keys(&cfg, &err);
        if (rc == ERR_OK)
            printf("key file: %s\n", cfg.keys_file);
        config_free(&cfg);
        return rc == ERR_OK ? 0 : cli_fail(&err);
    }
    if (cli_env_open(cli_get(opts, "--data"), true, &env, &err) != ERR_OK)
        return cli_fail(&err);
    int rc = strcmp(pos[0], "show") == 0 ? keys_show(&env) : keys_rotate(&env);
    cli_env_close(&env);
    return rc;
}
