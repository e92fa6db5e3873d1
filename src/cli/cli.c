/*
 * cli.c - option parsing and error reporting shared by the subcommands.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

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
