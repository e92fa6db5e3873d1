/*
 * cmd_apikey.c - `civic311 apikey create`: makes a key, stores its hash,
 * prints the key once on stdout (and nothing else there, so scripts can
 * capture it).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/apikey.h"

static const char HELP[] =
    "usage: civic311 apikey create --data DIR --name NAME\n"
    "\n"
    "Creates an API key for an Open311 client (needed to POST requests) and\n"
    "prints it on stdout. Only a hash is stored: keep the key, it is not shown\n"
    "again. NAME says who holds it (e.g. \"FixMyStreet\", \"city iOS app\").\n";

int cmd_apikey(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},
                      {"--name", true, NULL},
                      {"--help", false, NULL},
                      {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 1, &npos) || npos != 1 ||
        strcmp(pos[0], "create") != 0 || cli_get(opts, "--data") == NULL ||
        cli_get(opts, "--name") == NULL)
        return cli_usage(HELP);
    const char *name = cli_get(opts, "--name");
    if (name[0] == '\0' || strlen(name) > 100) {
        fprintf(stderr, "civic311: --name must be 1-100 characters\n");
        return EXIT_USAGE;
    }
    err_t err;
    civic_config cfg;
    store_t *s = NULL;
    char key[APIKEY_TEXT_LEN];
    unsigned char hash[APIKEY_HASH_LEN];
    int64_t id = 0;
    err_code rc = apikey_init(&err);
    if (rc == ERR_OK)
        rc = config_load(cli_get(opts, "--data"), &cfg, &err);
    if (rc != ERR_OK)
        return cli_fail(&err);
    apikey_generate(key);
    apikey_hash(key, hash);
    if ((rc = cli_open_store(&cfg, true, &s, &err)) == ERR_OK &&
        (rc = store_begin(s, &err)) == ERR_OK) {
        rc = store_apikey_insert(s, name, hash, (int64_t)time(NULL), &id, &err);
        if (rc == ERR_OK)
            rc = store_commit(s, &err);
        if (rc != ERR_OK)
            store_rollback(s);
    }
    store_close(s);
    config_free(&cfg);
    if (rc != ERR_OK)
        return cli_fail(&err);
    printf("%s\n", key);
    fprintf(stderr, "civic311: api key %lld created for \"%s\"; it is shown only now\n",
            (long long)id, name);
    return 0;
}
