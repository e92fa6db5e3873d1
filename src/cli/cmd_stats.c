/*
 * cmd_stats.c - `civic311 stats`: the figures for managers (issue 5, item
 * 8) as CSV or JSON on stdout: requests filed in a window of days, per
 * service and per agency and overall, counted by core/stats.c from rows
 * the store streams (no personal data in them, none in the output).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/stats.h"
#include "util/buf.h"
#include "util/datetime.h"

static const char HELP[] =
    "usage: civic311 stats --data DIR --from YYYY-MM-DD --to YYYY-MM-DD\n"
    "                      [--by service|agency] [--format csv|json] [--now ISO]\n"
    "\n"
    "Response-time and SLA figures for the requests filed from the first day to\n"
    "the last, both included (days in UTC): per service and per agency (--by keeps\n"
    "one of them) and overall: filed, closed, still open, open past their SLA,\n"
    "median and 90th percentile time to close (exact, nearest rank, in seconds),\n"
    "the share closed within the SLA, and closures by resolution.\n"
    "--format csv (default; RFC 4180, a header row) or json.\n"
    "--now: the time \"open past SLA\" is judged at (default: now).\n";

#define DAY 86400

/* Exactly YYYY-MM-DD, a real date. */
static bool parse_day(const char *s, int64_t *out)
{
    return s != NULL && strlen(s) == 10 && dt_parse(s, 10, out);
}

int cmd_stats(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},  {"--from", true, NULL},   {"--to", true, NULL},
                      {"--by", true, NULL},    {"--format", true, NULL}, {"--now", true, NULL},
                      {"--help", false, NULL}, {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    if (!cli_parse(argc, argv, 2, opts, pos, 1, &npos) || npos != 0 ||
        cli_get(opts, "--data") == NULL)
        return cli_usage(HELP);
    int64_t from, to, now;
    err_t err;
    if (!parse_day(cli_get(opts, "--from"), &from) || !parse_day(cli_get(opts, "--to"), &to)) {
        fprintf(stderr, "civic311: --from and --to are days, YYYY-MM-DD\n");
        return EXIT_USAGE;
    }
    if (to < from) {
        fprintf(stderr, "civic311: --to must not come before --from\n");
        return EXIT_USAGE;
    }
    to += DAY; /* the last day is included */
    const char *by = cli_get(opts, "--by"), *format = cli_get(opts, "--format");
    unsigned dims = STATS_BIT(STATS_BY_SERVICE) | STATS_BIT(STATS_BY_AGENCY);
    if (by != NULL) {
        if (strcmp(by, "service") == 0) {
            dims = STATS_BIT(STATS_BY_SERVICE);
        } else if (strcmp(by, "agency") == 0) {
            dims = STATS_BIT(STATS_BY_AGENCY);
        } else {
            fprintf(stderr, "civic311: --by is service or agency\n");
            return EXIT_USAGE;
        }
    }
    bool json = format != NULL && strcmp(format, "json") == 0;
    if (format != NULL && !json && strcmp(format, "csv") != 0) {
        fprintf(stderr, "civic311: --format is csv or json\n");
        return EXIT_USAGE;
    }
    if (cli_now(cli_get(opts, "--now"), &now, &err) != ERR_OK) {
        fprintf(stderr, "civic311: %s\n", err.msg);
        return EXIT_USAGE;
    }

    cli_env env;
    if (cli_env_open(cli_get(opts, "--data"), false, &env, &err) != ERR_OK)
        return cli_fail(&err);
    stats_t *st = stats_new(dims, from, to, now);
    buf_t out = BUF_INIT;
    err_code rc = st == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                             : store_stats_rows(env.store, from, to, stats_add_cb, st, &err);
    cli_env_close(&env);
    if (rc == ERR_OK) {
        stats_finish(st);
        rc = json ? stats_write_json(st, &out, &err) : stats_write_csv(st, &out, &err);
    }
    stats_free(st);
    int status = 0;
    if (rc != ERR_OK) {
        status = cli_fail(&err);
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        fprintf(stderr, "civic311: cannot write the figures to stdout\n");
        status = 1;
    }
    buf_free(&out);
    return status;
}
