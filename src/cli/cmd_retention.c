/*
 * cmd_retention.c - `civic311 retention run` (erase what the schedule says
 * is due) and `civic311 backup` (a consistent copy of the store, without
 * the key file).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "privacy/retention.h"

static const char RETENTION_HELP[] =
    "usage: civic311 retention run --data DIR [--now ISO8601]\n"
    "\n"
    "Erases the personal data that config.json's privacy.retention_days says is\n"
    "due (P6): contact, account and media data a period after the request\n"
    "closes, device data and call recordings a period after collection, never\n"
    "under a legal hold. Values are deleted, blind indexes cleared, a person's\n"
    "data key shredded once nothing else needs it, the WAL compacted, and a\n"
    "receipt written to the audit log for each erasure. The server runs this on\n"
    "its own every privacy.retention_interval_seconds. --now runs it as of\n"
    "another time (tests, or catching up).\n";

static const char BACKUP_HELP[] =
    "usage: civic311 backup --data DIR --out FILE\n"
    "\n"
    "Writes a consistent copy of the store to FILE (mode 0600) while the server\n"
    "runs. The key file is not in it: keep it apart. Personal data in a backup\n"
    "can be read only with the key file as it was when the backup was taken, so\n"
    "after `keys rotate` older backups keep their public data only (P6).\n"
    "To restore, stop the server and put FILE in place of DIR/civic311.db.\n";

int cmd_retention(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL}, {"--now", true, NULL},
                      {"--help", false, NULL}, {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(RETENTION_HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 1, &npos) || npos != 1 ||
        strcmp(pos[0], "run") != 0 || cli_get(opts, "--data") == NULL)
        return cli_usage(RETENTION_HELP);
    err_t err;
    int64_t now;
    cli_env env;
    if (cli_now(cli_get(opts, "--now"), &now, &err) != ERR_OK ||
        cli_env_open(cli_get(opts, "--data"), true, &env, &err) != ERR_OK)
        return cli_fail(&err);
    retention_report rep = {0};
    err_code rc = retention_run(env.store, env.keys, &env.cfg.retention, now, 500, &rep, &err);
    cli_env_close(&env);
    if (rc != ERR_OK)
        return cli_fail(&err);
    printf("retention: %lld requests lost personal data: %lld values and %lld files erased, "
           "%lld data keys shredded\n",
           (long long)rep.requests, (long long)rep.values, (long long)rep.blobs,
           (long long)rep.subjects);
    return 0;
}

int cmd_backup(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL}, {"--out", true, NULL},
                      {"--help", false, NULL}, {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(BACKUP_HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 0, &npos) || cli_get(opts, "--data") == NULL ||
        cli_get(opts, "--out") == NULL)
        return cli_usage(BACKUP_HELP);
    err_t err;
    cli_env env;
    if (cli_env_open(cli_get(opts, "--data"), false, &env, &err) != ERR_OK)
        return cli_fail(&err);
    err_code rc = store_backup(env.store, cli_get(opts, "--out"), &err);
    cli_env_close(&env);
    if (rc != ERR_OK)
        return cli_fail(&err);
    printf("backed up to %s (the key file is not in it)\n", cli_get(opts, "--out"));
    return 0;
}
