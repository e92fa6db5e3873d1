/*
 * cmd_pages.c - `civic311 pages list`: the website's page views per page and
 * day (core/beacon.h), for the city's web team. Aggregate counts are all
 * there is: the store holds nothing finer (P2, P9).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const char PAGES_HELP[] =
    "usage: civic311 pages list --data DIR [--since YYYY-MM-DD]\n"
    "\n"
    "Prints how many times each kind of page of the website (home, report,\n"
    "review, request, lookup, privacy, leaving, account, error) was shown on\n"
    "each day (UTC), as counted by the pages themselves: one line per day and\n"
    "page, \"DAY PAGE VIEWS\". Nothing about who viewed them is kept.\n"
    "--since: from that day on (default: the last 30 days). Safe to run while\n"
    "the server runs; the server adds its counts every few seconds.\n";

/* YYYY-MM-DD with a month and a day in range. */
static bool day_arg(const char *s)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

int cmd_pages(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},
                      {"--since", true, NULL},
                      {"--help", false, NULL},
                      {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(PAGES_HELP);
    const char *since = NULL;
    if (!cli_parse(argc, argv, 2, opts, pos, 1, &npos) || npos != 1 ||
        strcmp(pos[0], "list") != 0 || cli_get(opts, "--data") == NULL ||
        ((since = cli_get(opts, "--since")) != NULL && !day_arg(since)))
        return cli_usage(PAGES_HELP);
    char from[11];
    if (since == NULL) {
        time_t t = time(NULL) - 29 * 86400;
        struct tm tm;
        if (gmtime_r(&t, &tm) == NULL || strftime(from, sizeof from, "%Y-%m-%d", &tm) != 10) {
            fputs("civic311: the date is out of range\n", stderr);
            return 1;
        }
        since = from;
    }
    err_t err;
    cli_env env;
    if (cli_env_open(cli_get(opts, "--data"), false, &env, &err) != ERR_OK)
        return cli_fail(&err);
    pool_t *pool = pool_new();
    store_page_views *rows = NULL;
    size_t n = 0;
    err_code rc = pool == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                               : store_page_views_list(env.store, since, pool, &rows, &n, &err);
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        printf("%s %s %lld\n", rows[i].day, rows[i].page, (long long)rows[i].views);
    pool_free(pool);
    cli_env_close(&env);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}
