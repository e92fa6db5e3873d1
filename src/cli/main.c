/*
 * main.c - the civic311 binary: one subcommand per file in src/cli/.
 * main() is the only place that exits the process.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

#define CIVIC311_VERSION "0.1.0"

static const char USAGE[] =
    "usage: civic311 <command> [options]\n"
    "\n"
    "Civic311: a 311 service-request platform with the Open311 GeoReport v2 API.\n"
    "\n"
    "commands:\n"
    "  init       create a store (SQLite under --data DIR), optionally with demo data\n"
    "  serve      run the server\n"
    "  apikey     create API keys for Open311 clients\n"
    "  services   import or export the service catalog as Open311 documents\n"
    "  requests   generate test requests, or change a request's status\n"
    "  keys       show or rotate the privacy engine's keys\n"
    "  personal   read (by policy), find or erase a reporter's personal data\n"
    "  hold       place or release legal holds that pause erasure\n"
    "  retention  erase the personal data that is due\n"
    "  audit      verify, export or sign the audit log\n"
    "  backup     write a consistent copy of the store\n"
    "  pages      the website's page views per page and day (aggregate only)\n"
    "  districts  check district boundaries and where a point routes (by area)\n"
    "  disclosure the disclosure register: court orders, their approval, exports\n"
    "  stats      response-time and SLA figures per service and agency (CSV, JSON)\n"
    "  staff      add, list, disable or reset the console's staff accounts\n"
    "  webhook    add, list or remove agencies' webhooks (signed POSTs of changes)\n"
    "  outbox     list or retry the notifications to followers and webhooks\n"
    "  version    print the version\n"
    "\n"
    "`civic311 <command> --help` describes each command.\n"
    "exit codes: 0 success, 1 failure, 2 bad usage or input\n";

int main(int argc, char **argv)
{
    /* Everything we create (store, WAL, backups, exports, key file) is for
     * this account alone: personal data, even sealed, is not world-readable. */
    umask(077);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc, argv);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc, argv);
    if (strcmp(cmd, "apikey") == 0)
        return cmd_apikey(argc, argv);
    if (strcmp(cmd, "services") == 0)
        return cmd_services(argc, argv);
    if (strcmp(cmd, "requests") == 0)
        return cmd_requests(argc, argv);
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } privacy_cmds[] = {
        {"keys", cmd_keys},           {"personal", cmd_personal},   {"hold", cmd_hold},
        {"retention", cmd_retention}, {"audit", cmd_audit},         {"backup", cmd_backup},
        {"pages", cmd_pages},         {"districts", cmd_districts}, {"disclosure", cmd_disclosure},
        {"stats", cmd_stats},         {"staff", cmd_staff},         {"webhook", cmd_webhook},
        {"outbox", cmd_outbox}};
    for (size_t i = 0; i < sizeof privacy_cmds / sizeof privacy_cmds[0]; i++)
        if (strcmp(cmd, privacy_cmds[i].name) == 0)
            return privacy_cmds[i].run(argc, argv);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("civic311 %s\n", CIVIC311_VERSION);
        return 0;
    }
    fprintf(stderr, "civic311: unknown command \"%s\"\n\n%s", cmd, USAGE);
    return EXIT_USAGE;
}
