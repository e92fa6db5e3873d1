/*
 * cmd_districts.c - `civic311 districts check|locate`: a city's staff check
 * their district boundaries and where a point routes (W2), and
 * cli_load_routes, which every command that routes uses to read the file
 * config.json names.
 *
 * The coordinates given to `locate` are the operator's own test points,
 * printed back only to that operator's terminal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/district.h"
#include "core/intake.h"
#include "core/route.h"
#include "util/buf.h"

static const char HELP[] =
    "usage: civic311 districts check --data DIR [FILE]\n"
    "       civic311 districts locate --data DIR --lat LAT --long LONG [--service CODE]\n"
    "\n"
    "Routing by area (docs/districts.md): config.json's \"districts\" names a GeoJSON\n"
    "file of district boundaries, each saying which agency takes which services.\n"
    "\n"
    "check reads FILE (default: the configured file), prints each district with\n"
    "its routes, and marks every service or agency code the catalog lacks. Exits 0\n"
    "when serve would accept the file, 2 when it would not.\n"
    "\n"
    "locate prints the district holding the point (WGS84 degrees) and, with\n"
    "--service, the agency a request of that service there goes to.\n";

/* Reads a whole file into b (at most DISTRICT_MAX_FILE bytes). */
static err_code read_districts_file(const char *path, buf_t *b, err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return err_set(err, ERR_NOT_FOUND, "cannot open districts file %s: %s", path,
                       strerror(errno));
    buf_init(b, DISTRICT_MAX_FILE);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(b, chunk, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad)
        return err_set(err, ERR_IO, "cannot read %s", path);
    if (buf_failed(b))
        return err_set(err, ERR_TOO_LARGE, "%s is larger than %u MiB", path,
                       DISTRICT_MAX_FILE >> 20);
    return ERR_OK;
}

static err_code parse_file(const char *path, district_set **out, err_t *err)
{
    buf_t b = BUF_INIT;
    err_code rc = read_districts_file(path, &b, err);
    if (rc == ERR_OK)
        rc = district_set_parse(b.data ? b.data : "", b.len, path, out, err);
    buf_free(&b);
    return rc;
}

err_code cli_load_routes(const civic_config *cfg, const catalog *cat, route_table **out,
                         err_t *err)
{
    *out = NULL;
    if (cfg->districts_file == NULL)
        return ERR_OK;
    district_set *ds = NULL;
    err_code rc = parse_file(cfg->districts_file, &ds, err);
    if (rc == ERR_OK)
        rc = route_table_new(ds, cat, cfg->districts_file, out, err);
    return rc;
}

static void print_unknown(const district *d, const char *code, bool is_key, void *arg)
{
    (void)arg;
    printf("  ! %s (%s): %s %s is not in the catalog%s\n", d->id, d->name ? d->name : "",
           is_key ? "route key" : "agency", code,
           is_key ? " (or names both a service and an agency)" : "");
}

static const char *key_kind(const catalog *cat, const char *key)
{
    bool s = catalog_find_service(cat, key) != NULL, a = catalog_find_agency(cat, key) != NULL;
    return s && a ? "?" : s ? "service" : a ? "agency's services" : "?";
}

static int districts_check(const civic_config *cfg, const catalog *cat, const char *file)
{
    err_t err;
    const char *path = file ? file : cfg->districts_file;
    if (path == NULL) {
        fprintf(stderr, "civic311: config.json names no districts file: give FILE\n");
        return EXIT_USAGE;
    }
    district_set *ds = NULL;
    if (parse_file(path, &ds, &err) != ERR_OK)
        return cli_fail(&err);
    size_t n = district_set_count(ds);
    for (size_t i = 0; i < n; i++) {
        const district *d = district_set_get(ds, i);
        printf("%s\t%s\t(features[%zu], %zu route%s)\n", d->id, d->name ? d->name : "",
               d->index, d->nroutes, d->nroutes == 1 ? "" : "s");
        for (size_t k = 0; k < d->nroutes; k++)
            printf("  %s (%s) -> %s\n", d->routes[k].key, key_kind(cat, d->routes[k].key),
                   d->routes[k].agency_code);
    }
    size_t bad = route_check_codes(ds, cat, print_unknown, NULL);
    printf("%zu district%s, %zu code%s the catalog lacks: %s\n", n, n == 1 ? "" : "s", bad,
           bad == 1 ? "" : "s", bad ? "serve would refuse this file" : "ok");
    district_set_free(ds);
    return bad ? EXIT_USAGE : 0;
}

static int districts_locate(const civic_config *cfg, const catalog *cat, const cli_opt *opts)
{
    err_t err;
    const char *lat_s = cli_get(opts, "--lat"), *lon_s = cli_get(opts, "--long");
    const char *code = cli_get(opts, "--service");
    double lat, lon;
    if (lat_s == NULL || lon_s == NULL || !intake_parse_number(lat_s, &lat) ||
        !intake_parse_number(lon_s, &lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180) {
        fprintf(stderr, "civic311: --lat (-90..90) and --long (-180..180) are required, in "
                        "decimal degrees\n");
        return EXIT_USAGE;
    }
    const service *svc = NULL;
    if (code != NULL && (svc = catalog_find_service(cat, code)) == NULL) {
        fprintf(stderr, "civic311: --service: no service with that code\n");
        return EXIT_USAGE;
    }
    if (cfg->districts_file == NULL) {
        fprintf(stderr, "civic311: config.json names no districts file: every request goes to "
                        "its service's agency\n");
        return EXIT_USAGE;
    }
    route_table *rt = NULL;
    if (cli_load_routes(cfg, cat, &rt, &err) != ERR_OK)
        return cli_fail(&err);
    district_set *ds = route_table_districts(rt);
    size_t i;
    int code_out = 0;
    if (district_locate(ds, lon, lat, &i, &err) != ERR_OK) {
        code_out = cli_fail(&err);
        goto done;
    }
    const district *d = district_set_get(ds, i);
    if (d == NULL)
        printf("district: none (the point is in no district)\n");
    else
        printf("district: %s\t%s\t(features[%zu])\n", d->id, d->name ? d->name : "", d->index);
    if (svc != NULL) {
        route_result r;
        if (route_decide(rt, svc, true, lat, lon, &r, &err) != ERR_OK) {
            code_out = cli_fail(&err);
            goto done;
        }
        printf("service %s -> agency %s (%s)\n", svc->code, r.agency_code ? r.agency_code : "none",
               r.by_area ? "the district's route" : "the service's own agency");
    } else if (d != NULL) {
        for (size_t k = 0; k < d->nroutes; k++)
            printf("  %s -> %s\n", d->routes[k].key, d->routes[k].agency_code);
    }
done:
    route_table_free(rt);
    return code_out;
}

int cmd_districts(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},    {"--lat", true, NULL},
                      {"--long", true, NULL},    {"--service", true, NULL},
                      {"--help", false, NULL},   {NULL, false, NULL}};
    const char *pos[2];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 2, &npos) || npos < 1 ||
        cli_get(opts, "--data") == NULL)
        return cli_usage(HELP);
    bool check = strcmp(pos[0], "check") == 0, locate = strcmp(pos[0], "locate") == 0;
    if ((!check && !locate) || (locate && npos != 1))
        return cli_usage(HELP);
    err_t err;
    civic_config cfg;
    if (config_load(cli_get(opts, "--data"), &cfg, &err) != ERR_OK)
        return cli_fail(&err);
    store_t *s = NULL;
    catalog *cat = NULL;
    int code;
    if (cli_open_store(&cfg, true, &s, &err) != ERR_OK ||
        store_catalog_load(s, &cat, &err) != ERR_OK)
        code = cli_fail(&err);
    else if (check)
        code = districts_check(&cfg, cat, npos == 2 ? pos[1] : NULL);
    else
        code = districts_locate(&cfg, cat, opts);
    catalog_free(cat);
    store_close(s);
    config_free(&cfg);
    return code;
}
