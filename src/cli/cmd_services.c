/*
 * cmd_services.c - `civic311 services import|export`: the catalog in and
 * out as Open311 documents. An import is all or nothing: every file is
 * read and checked before one transaction stores the result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "open311/o311_catalog.h"
#include "util/buf.h"

#define MAX_IMPORT_FILE (16u * 1024 * 1024)
#define MAX_IMPORT_FILES 1000

static const char HELP[] =
    "usage: civic311 services import --data DIR FILE...\n"
    "       civic311 services export --data DIR [--output FILE]\n"
    "\n"
    "import reads Open311 documents, JSON or XML, in the order given: a GET\n"
    "services list, service definitions (GET services/CODE), or a bundle written\n"
    "by export. Services are added or replaced by service_code; a definition\n"
    "needs its service imported first (earlier in the list, or before). Nothing\n"
    "is stored unless every file is valid.\n"
    "\n"
    "export writes the whole catalog as one JSON bundle (services, service\n"
    "definitions, agencies) to stdout or FILE.\n";

static err_code read_file(const char *path, buf_t *out, err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return err_set(err, ERR_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
    buf_init(out, MAX_IMPORT_FILE);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad)
        return err_set(err, ERR_IO, "cannot read %s", path);
    if (buf_failed(out))
        return err_set(err, ERR_TOO_LARGE, "%s is larger than %u MiB", path,
                       MAX_IMPORT_FILE >> 20);
    return ERR_OK;
}

static int services_import(const civic_config *cfg, const char **files, size_t nfiles)
{
    err_t err;
    store_t *s = NULL;
    catalog *c = NULL;
    o311_import_stats st;
    memset(&st, 0, sizeof st);
    err_code rc = cli_open_store(cfg, true, &s, &err);
    if (rc == ERR_OK)
        rc = store_catalog_load(s, &c, &err);
    for (size_t i = 0; rc == ERR_OK && i < nfiles; i++) {
        buf_t data;
        rc = read_file(files[i], &data, &err);
        if (rc == ERR_OK) {
            rc = o311_catalog_read(c, data.data ? data.data : "", data.len, &st, &err);
            if (rc != ERR_OK)
                err_wrap(&err, files[i]);
        }
        buf_free(&data);
    }
    if (rc == ERR_OK && (rc = store_begin(s, &err)) == ERR_OK) {
        if ((rc = store_catalog_put(s, c, &err)) != ERR_OK ||
            (rc = store_commit(s, &err)) != ERR_OK)
            store_rollback(s);
    }
    catalog_free(c);
    store_close(s);
    if (rc != ERR_OK)
        return cli_fail(&err);
    printf("imported %zu services, %zu service definitions, %zu agencies\n", st.services,
           st.definitions, st.agencies);
    if (st.metadata_without_definition > 0)
        printf("note: %zu services say metadata=true but no definition was given; import "
               "their services/CODE documents too\n",
               st.metadata_without_definition);
    return 0;
}

static int services_export(const civic_config *cfg, const char *output)
{
    err_t err;
    store_t *s = NULL;
    catalog *c = NULL;
    err_code rc = cli_open_store(cfg, true, &s, &err);
    if (rc == ERR_OK)
        rc = store_catalog_load(s, &c, &err);
    store_close(s);
    if (rc != ERR_OK)
        return cli_fail(&err);
    buf_t b = BUF_INIT;
    o311_catalog_write_bundle(&b, c);
    catalog_free(c);
    if (buf_failed(&b)) {
        buf_free(&b);
        fprintf(stderr, "civic311: out of memory\n");
        return 1;
    }
    FILE *f = output ? fopen(output, "wb") : stdout;
    if (f == NULL) {
        fprintf(stderr, "civic311: cannot create %s: %s\n", output, strerror(errno));
        buf_free(&b);
        return 1;
    }
    bool ok = fwrite(b.data, 1, b.len, f) == b.len;
    ok = (output ? fclose(f) == 0 : fflush(f) == 0) && ok;
    buf_free(&b);
    if (!ok) {
        fprintf(stderr, "civic311: cannot write the export\n");
        return 1;
    }
    return 0;
}

int cmd_services(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},
                      {"--output", true, NULL},
                      {"--help", false, NULL},
                      {NULL, false, NULL}};
    const char *pos[MAX_IMPORT_FILES + 1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, MAX_IMPORT_FILES + 1, &npos) || npos == 0 ||
        cli_get(opts, "--data") == NULL)
        return cli_usage(HELP);
    bool import = strcmp(pos[0], "import") == 0, export = strcmp(pos[0], "export") == 0;
    if ((!import && !export) || (import && npos < 2) || (export && npos != 1))
        return cli_usage(HELP);
    err_t err;
    civic_config cfg;
    if (config_load(cli_get(opts, "--data"), &cfg, &err) != ERR_OK)
        return cli_fail(&err);
    int code = import ? services_import(&cfg, pos + 1, npos - 1)
                      : services_export(&cfg, cli_get(opts, "--output"));
    config_free(&cfg);
    return code;
}
