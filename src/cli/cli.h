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
#include <stdint.h>

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

/* Prints a command's help on stdout, for -h or --help: returns exit 0. */
int cli_help(const char *help);

/* Prints a command's help on stderr, for a command line it cannot run:
 * returns EXIT_USAGE. */
int cli_usage(const char *help);

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_apikey(int argc, char **argv);
int cmd_services(int argc, char **argv);
int cmd_requests(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_personal(int argc, char **argv);
int cmd_hold(int argc, char **argv);
int cmd_retention(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_pages(int argc, char **argv);
int cmd_districts(int argc, char **argv);
int cmd_disclosure(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_staff(int argc, char **argv);
int cmd_webhook(int argc, char **argv);
int cmd_outbox(int argc, char **argv);


/* ---- helpers for commands that use the store ---- */
#include "cli/config.h"
#include "store/store.h"

/* Opens the installation's store and brings its schema up to date. */
err_code cli_open_store(const civic_config *cfg, bool sync, store_t **out, err_t *err);

/* Loads the installation's key file (config privacy.keys_file). */
#include "privacy/keyring.h"
err_code cli_load_keys(const civic_config *cfg, keyring_t **out, err_t *err);

/* A running server holds a shared lock on "<key file>.lock"; `keys rotate`
 * takes it exclusively, so a rotation never runs beside a server that
 * would go on wrapping new data keys under the key being destroyed. The
 * lock ends with the process; *fd_out is the caller's to close. */
err_code cli_lock_keys(const civic_config *cfg, bool exclusive, int *fd_out, err_t *err);

/* What most commands open: the configuration, the store (migrated), and
 * the key file when need_keys. Closed by cli_env_close, which is safe on
 * a partly opened env. */
typedef struct {
    civic_config cfg;
    store_t *store;
    keyring_t *keys;
} cli_env;

err_code cli_env_open(const char *dir, bool need_keys, cli_env *env, err_t *err);
void cli_env_close(cli_env *env);

/* Runs fn in one transaction that ends with a signed audit checkpoint.
 * A refusal (ERR_FORBIDDEN) is committed too, since the gatekeeper has
 * recorded it, and then returned. */
typedef err_code (*cli_txn_fn)(cli_env *env, void *arg, err_t *err);
err_code cli_audited(cli_env *env, int64_t now, cli_txn_fn fn, void *arg, err_t *err);

/* mkdir -p: creates dir and any missing parents, each new one 0700. */
bool cli_make_dirs(const char *dir);

/* Creates the key file (and its 0700 folder) unless it exists; an
 * existing one is loaded to check it. */
err_code cli_create_keys(const civic_config *cfg, err_t *err);

/* Routing by area (W2): reads and checks config.json's districts file
 * against cat. *out is NULL when none is configured (route by service);
 * else the caller frees it with route_table_free after cat's last use. A
 * broken file is an error naming the file, the feature and the fault. */
#include "core/route.h"
err_code cli_load_routes(const civic_config *cfg, const catalog *cat, route_table **out,
                         err_t *err);

/* A positive decimal id (a request, a person, a hold). */
bool cli_parse_id(const char *s, int64_t *out);

/* An operator's name as --actor gives it and the audit log records it
 * ("cli:NAME"): 1-64 of [A-Za-z0-9._-], so it can never carry anything
 * but a name, and never breaks the log's format. */
bool cli_actor_name_ok(const char *name);

/* A comma-separated list of data class names ("contact,media") as a
 * DC_BIT mask; false if empty, too long or naming an unknown class. */
bool cli_parse_classes(const char *list, unsigned *mask);

/* "--now" for commands that take an injected clock (tests): an ISO 8601
 * time, or NULL for the real clock. ERR_INVALID if it does not parse. */
err_code cli_now(const char *iso, int64_t *now, err_t *err);

/* The catalog of demo services, embedded at build time (data/demo/). */
extern const char demo_catalog_json[];
extern const size_t demo_catalog_json_len;

#endif
