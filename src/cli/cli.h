/*
 * cli.h - what the subcommands share: a small option parser, and the exit
 * codes every command uses.
 *
 *   0  success
 *   1  the command failed (the store, the disk, the network)
 *   2  the command line or its input was wrong (usage, invalid file)
 */
#ifndef CIVIC_CLI_H
#define CIVIC_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define EXIT_USAGE 2

/* One option a command accepts. value == NULL marks a flag. */
typedef struct {
    const char *name;  /* "--data" */
    bool takes_value;
    const char *value; /* set by cli_parse: the value, or "" for a flag seen */
} cli_opt;

/*
 * Parses argv[first..argc) against opts (terminated by a NULL name):
 * "--name value", "--name=value", and flags. Anything not an option goes
 * to positional[] (at most max_pos). Prints a usage error and returns
 * false on an unknown option or a missing value.
 */
bool cli_parse(int argc, char **argv, int first, cli_opt *opts, const char **positional,
               size_t max_pos, size_t *npos);

/* The value of option name, or NULL if it was not given. */
const char *cli_get(const cli_opt *opts, const char *name);

/* Prints "civic311: <message>" to stderr and returns the exit code for it
 * (EXIT_USAGE for ERR_INVALID/ERR_NOT_FOUND/ERR_CONFLICT, else 1). */
int cli_fail(const err_t *err);

/* True if argv has -h or --help after the command. */
bool cli_wants_help(int argc, char **argv, int first);

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_apikey(int argc, char **argv);
int cmd_services(int argc, char **argv);
int cmd_requests(int argc, char **argv);


/* ---- helpers for commands that use the store ---- */
#include "cli/config.h"
#include "store/store.h"

/* Opens the installation's store and brings its schema up to date. */
err_code cli_open_store(const civic_config *cfg, bool sync, store_t **out, err_t *err);

/* The catalog of demo services, embedded at build time (data/demo/). */
extern const char demo_catalog_json[];
extern const size_t demo_catalog_json_len;

#endif
