/*
 * cmd_staff.c - `civic311 staff add|list|disable|enable|reset-password|
 * reset-totp`: the console's staff accounts from the command line (P3,
 * W3). Every change is on the audit log as "cli:NAME".
 *
 * A password is read from stdin (echo off on a terminal), never taken
 * from the command line, where `ps` and shell history would keep it. The
 * TOTP secret is printed once, for enrolment, and kept only sealed.
 */
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "privacy/account.h"
#include "privacy/staff.h"
#include "util/datetime.h"

static const char HELP[] =
    "usage: civic311 staff add --data DIR --login LOGIN --role ROLE [--agency CODE[,CODE...]]\n"
    "                          [--actor NAME]   (the initial password is read from stdin)\n"
    "       civic311 staff list --data DIR\n"
    "       civic311 staff disable|enable --data DIR --login LOGIN [--actor NAME]\n"
    "       civic311 staff reset-password --data DIR --login LOGIN [--actor NAME]\n"
    "                          (the new password is read from stdin)\n"
    "       civic311 staff reset-totp --data DIR --login LOGIN [--actor NAME]\n"
    "\n"
    "add             adds a member of staff who signs in to the console (/staff/)\n"
    "                with LOGIN, the password, and a code from an authenticator app;\n"
    "                prints the app's secret and its otpauth:// URI, once.\n"
    "list            every member: id, login, role, agencies, state.\n"
    "disable/enable  a member who leaves is disabled (signed out at once), never\n"
    "                deleted: the audit log keeps naming them.\n"
    "reset-password  a new password (ends their sessions, lifts a lock).\n"
    "reset-totp      a new secret for a lost phone: prints it once, as add does.\n"
    "LOGIN: 2-32 of a-z, 0-9, '.', '_', '-', starting with a letter (\"jdoe\").\n"
    "ROLE: agent, agency_staff, supervisor, privacy_officer, records_officer, admin\n"
    "      (agency_staff and supervisor need --agency; the others take none).\n"
    "The password: at least 10 characters. NAME (default: your user name) is\n"
    "recorded as cli:NAME in the audit log.\n";

typedef struct {
    const char *login;
    gate_role role;
    const char *agencies[STAFF_AGENCIES_MAX];
    size_t nagencies;
    char hash[ACCOUNT_HASH_MAX];
    staff_secret secret;
    int64_t id;
    char actor[80];
    int64_t now;
    const char *op;
} staff_job;

/* Reads one line (the password) from stdin into out, without its line
 * end; echo off when stdin is a terminal. false if nothing was read or it
 * is too long. */
static bool read_password(char *out, size_t cap)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "Password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(out, (int)cap, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (!ok)
        return false;
    size_t n = strlen(out);
    if (n > 0 && out[n - 1] == '\n')
        out[--n] = '\0';
    else if (!feof(stdin))
        return false; /* longer than the buffer */
    if (n > 0 && out[n - 1] == '\r')
        out[--n] = '\0';
    return true;
}

/* The password from stdin, checked and hashed into job->hash. */
static int password_from_stdin(staff_job *job)
{
    char pw[ACCOUNT_PASSWORD_MAX + 2];
    bool read = read_password(pw, sizeof pw);
    account_input why = read ? account_check_password(pw, NULL) : ACCOUNT_PASSWORD_SHORT;
    err_t err;
    int status = 0;
    if (!read || why != ACCOUNT_INPUT_OK) {
        fprintf(stderr, "civic311: the password (on stdin) must be one line of at least %d "
                        "characters and at most %d bytes\n",
                ACCOUNT_PASSWORD_MIN, ACCOUNT_PASSWORD_MAX);
        status = EXIT_USAGE;
    } else if (account_password_hash(pw, job->hash, &err) != ERR_OK) {
        status = cli_fail(&err);
    }
    sodium_memzero(pw, sizeof pw);
    return status;
}

/* --agency DOT,DSNY into job->agencies (pointing into a copy in buf). */
static bool parse_agencies(const char *list, char *buf, size_t cap, staff_job *job)
{
    job->nagencies = 0;
    if (list == NULL)
        return true;
    if (strlen(list) >= cap)
        return false;
    strcpy(buf, list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (job->nagencies == STAFF_AGENCIES_MAX || !staff_agency_ok(t))
            return false;
        job->agencies[job->nagencies++] = t;
    }
    return job->nagencies > 0;
}

/* The member by login (its id into job->id). */
static err_code find_member(cli_env *env, staff_job *job, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_staff m;
    err_code rc = store_staff_find(env->store, job->login, pool, &m, err);
    if (rc == ERR_NOT_FOUND)
        rc = err_set(err, ERR_NOT_FOUND, "no member of staff has this login");
    if (rc == ERR_OK)
        job->id = m.id;
    pool_free(pool);
    return rc;
}

static err_code change_txn(cli_env *env, void *arg, err_t *err)
{
    staff_job *j = arg;
    if (strcmp(j->op, "add") == 0)
        return staff_create(env->store, env->keys, j->login, j->role, j->agencies, j->nagencies,
                            j->hash, &j->secret, j->actor, j->now, &j->id, err);
    err_code rc = find_member(env, j, err);
    if (rc != ERR_OK)
        return rc;
    if (strcmp(j->op, "disable") == 0 || strcmp(j->op, "enable") == 0)
        return staff_set_disabled(env->store, j->id, strcmp(j->op, "disable") == 0, j->actor,
                                  j->now, err);
    if (strcmp(j->op, "reset-password") == 0)
        return staff_reset_password(env->store, j->id, j->hash, j->actor, j->now, err);
    return staff_reset_totp(env->store, env->keys, j->id, &j->secret, j->actor, j->now, err);
}

static int list_staff(cli_env *env)
{
    err_t err;
    pool_t *pool = pool_new();
    store_staff *m = NULL;
    size_t n = 0;
    err_code rc = pool == NULL ? err_set(&err, ERR_NOMEM, "out of memory")
                               : store_staff_list(env->store, pool, &m, &n, &err);
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        const char **codes = NULL;
        size_t nc = 0;
        rc = store_staff_agencies(env->store, m[i].id, pool, &codes, &nc, &err);
        if (rc != ERR_OK)
            break;
        printf("%lld\t%s\t%s\t", (long long)m[i].id, m[i].login, m[i].role);
        for (size_t a = 0; a < nc; a++)
            printf("%s%s", a ? "," : "", codes[a]);
        printf("%s\t%s\n", nc ? "" : "-",
               m[i].disabled_at  ? "disabled"
               : staff_locked(&m[i], now) ? "locked"
                                          : "active");
    }
    pool_free(pool);
    return rc == ERR_OK ? 0 : cli_fail(&err);
}

/* "cli:NAME", NAME from --actor or the user running the command. */
static bool make_actor(const char *given, char out[80])
{
    const char *name = given;
    if (name == NULL) {
        struct passwd *pw = getpwuid(geteuid());
        name = pw != NULL ? pw->pw_name : "operator";
    }
    if (!cli_actor_name_ok(name))
        return false;
    snprintf(out, 80, "cli:%s", name);
    return true;
}

static void print_enrolment(const staff_job *j)
{
    buf_t uri = BUF_INIT;
    staff_enrol_uri(&uri, j->login, &j->secret);
    printf("secret: %s\nuri: %s\n", j->secret.b32, buf_failed(&uri) ? "" : uri.data);
    printf("Enter the secret in an authenticator app (or make a QR code of the URI) now: it "
           "is not shown again.\n");
    if (uri.data != NULL)
        sodium_memzero(uri.data, uri.len);
    buf_free(&uri);
}

int cmd_staff(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},  {"--login", true, NULL}, {"--role", true, NULL},
                      {"--agency", true, NULL}, {"--actor", true, NULL}, {"--help", false, NULL},
                      {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    static staff_job j; /* holds the hash and the secret: zeroed on the way out */
    memset(&j, 0, sizeof j);
    char agency_buf[STAFF_AGENCIES_MAX * (STAFF_AGENCY_MAX + 1) + 1];
    bool ok = cli_parse(argc, argv, 2, opts, pos, 1, &npos) && npos == 1 &&
              cli_get(opts, "--data") != NULL;
    j.op = ok ? pos[0] : "";
    bool add = strcmp(j.op, "add") == 0, list = strcmp(j.op, "list") == 0;
    bool change = strcmp(j.op, "disable") == 0 || strcmp(j.op, "enable") == 0 ||
                  strcmp(j.op, "reset-password") == 0 || strcmp(j.op, "reset-totp") == 0;
    j.login = cli_get(opts, "--login");
    const char *role = cli_get(opts, "--role"), *agency_list = cli_get(opts, "--agency");
    if (!ok || (!add && !list && !change))
        return cli_usage(HELP);
    if (list && (j.login || role || agency_list || cli_get(opts, "--actor")))
        return cli_usage(HELP);
    if (add || change) {
        if (!staff_login_ok(j.login) || !make_actor(cli_get(opts, "--actor"), j.actor))
            return cli_usage(HELP);
    }
    if (change && (role || agency_list))
        return cli_usage(HELP);
    if (add) {
        if (!gate_role_parse(role, &j.role) || !staff_role_ok(j.role) ||
            !parse_agencies(agency_list, agency_buf, sizeof agency_buf, &j) ||
            staff_role_has_agencies(j.role) != (j.nagencies > 0))
            return cli_usage(HELP);
    }
    if (add || strcmp(j.op, "reset-password") == 0) {
        int st = password_from_stdin(&j);
        if (st != 0)
            return st;
    }
    if (add || strcmp(j.op, "reset-totp") == 0)
        staff_secret_new(&j.secret);
    j.now = (int64_t)time(NULL);
    cli_env env;
    err_t err;
    int status = 0;
    if (cli_env_open(cli_get(opts, "--data"), !list, &env, &err) != ERR_OK) {
        status = cli_fail(&err);
    } else {
        if (list) {
            status = list_staff(&env);
        } else if (cli_audited(&env, j.now, change_txn, &j, &err) != ERR_OK) {
            status = cli_fail(&err);
        } else if (add) {
            printf("staff %lld added: %s (%s)\n", (long long)j.id, j.login,
                   gate_role_name(j.role));
            print_enrolment(&j);
        } else if (strcmp(j.op, "reset-totp") == 0) {
            printf("staff %lld: a new second factor\n", (long long)j.id);
            print_enrolment(&j);
        } else {
            printf("staff %lld: %s\n", (long long)j.id,
                   strcmp(j.op, "disable") == 0  ? "disabled, signed out"
                   : strcmp(j.op, "enable") == 0 ? "enabled"
                                                 : "password reset, signed out");
        }
        cli_env_close(&env);
    }
    sodium_memzero(&j, sizeof j);
    return status;
}
