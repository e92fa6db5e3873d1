/*
 * cmd_init.c - `civic311 init`: create a store and its configuration.
 * Either everything is created or nothing is left behind (Q2).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "open311/o311_catalog.h"
#include "util/buf.h"

static const char HELP[] =
    "usage: civic311 init --data DIR [--demo] [--jurisdiction ID] [--public-url URL]\n"
    "\n"
    "Creates DIR (mode 0700) with config.json and an empty SQLite store,\n"
    "civic311.db. --demo loads the demo service catalog and lists a production\n"
    "and a test endpoint in discovery.\n"
    "  --jurisdiction ID  the Open311 jurisdiction_id (default civic311.local,\n"
    "                     demo.civic311.org with --demo)\n"
    "  --public-url URL   where clients reach this server (default\n"
    "                     http://127.0.0.1:8311), for the discovery document\n";

static err_code init_demo(store_t *s, size_t *nservices, err_t *err)
{
    catalog *c = catalog_new();
    if (c == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    o311_import_stats st;
    memset(&st, 0, sizeof st);
    err_code rc = o311_catalog_read(c, demo_catalog_json, demo_catalog_json_len, &st, err);
    if (rc != ERR_OK) {
        err_wrap(err, "demo catalog");
        goto done;
    }
    if ((rc = store_begin(s, err)) != ERR_OK)
        goto done;
    if ((rc = store_catalog_put(s, c, err)) != ERR_OK || (rc = store_commit(s, err)) != ERR_OK) {
        store_rollback(s);
        goto done;
    }
    *nservices = c->nservices;
done:
    catalog_free(c);
    return rc;
}

static void remove_created(const char *dir)
{
    static const char *const files[] = {"civic311.db", "civic311.db-wal", "civic311.db-shm",
                                        "config.json", CONFIG_KEYS_FILE};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        buf_t p = BUF_INIT;
        buf_printf(&p, "%s/%s", dir, files[i]);
        if (!buf_failed(&p))
            unlink(p.data);
        buf_free(&p);
    }
}

int cmd_init(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},         {"--demo", false, NULL},
                      {"--jurisdiction", true, NULL}, {"--public-url", true, NULL},
                      {"--help", false, NULL},        {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 0, &npos) || cli_get(opts, "--data") == NULL)
        return cli_usage(HELP);
    const char *dir = cli_get(opts, "--data");
    bool demo = cli_get(opts, "--demo") != NULL;
    const char *jur = cli_get(opts, "--jurisdiction");
    const char *url = cli_get(opts, "--public-url");
    if (jur == NULL)
        jur = demo ? "demo.civic311.org" : "civic311.local";
    if (url == NULL)
        url = "http://127.0.0.1:8311";
    size_t ulen = strlen(url);
    if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        url[ulen - 1] == '/') {
        fprintf(stderr, "civic311: --public-url must be http(s)://host[:port] without a "
                        "trailing slash\n");
        return EXIT_USAGE;
    }

    err_t err;
    err_clear(&err);
    if (dir[0] == '\0')
        return cli_usage(HELP);
    if (!cli_make_dirs(dir)) {
        fprintf(stderr, "civic311: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    buf_t db = BUF_INIT;
    buf_printf(&db, "%s/civic311.db", dir);
    if (buf_failed(&db) || access(db.data, F_OK) == 0) {
        fprintf(stderr, "civic311: %s already holds a store; choose another --data\n", dir);
        buf_free(&db);
        return EXIT_USAGE;
    }
    buf_free(&db);
    if (config_write_new(dir, jur, url, demo, &err) != ERR_OK)
        return cli_fail(&err);

    civic_config cfg = {0};
    store_t *s = NULL;
    size_t nservices = 0;
    err_code rc = config_load(dir, &cfg, &err);
    if (rc == ERR_OK)
        rc = cli_create_keys(&cfg, &err);
    if (rc == ERR_OK)
        rc = cli_open_store(&cfg, true, &s, &err);
    if (rc == ERR_OK && demo)
        rc = init_demo(s, &nservices, &err);
    store_close(s);
    if (rc != ERR_OK) {
        remove_created(dir);
        config_free(&cfg);
        return cli_fail(&err);
    }
    printf("created %s/civic311.db (jurisdiction_id %s", dir, cfg.jurisdiction_id);
    if (demo)
        printf(", %zu demo services", nservices);
    printf(")\nkeys: %s (keep it out of backups of the store)\n", cfg.keys_file);
    printf("next: civic311 serve --data %s --listen %s\n", dir, cfg.listen);
    config_free(&cfg);
    return 0;
}
