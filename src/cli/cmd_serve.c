/*
 * cmd_serve.c - `civic311 serve`: wires the parts together and runs them.
 *
 *   catalog      loaded once from the store; read-only while serving
 *   routes       the city's districts (config districts), if any, checked
 *                against the catalog and hung on it before any thread
 *                starts, so every channel's intake routes by area (W2)
 *   commitq      the one writer thread (group commit, Q1)
 *   o311_api     the Open311 handlers, one read connection per thread
 *   web          311 Online, the residents' website (same intake and writer)
 *   http server  libmicrohttpd's thread pool
 *   keys         the privacy engine's key file, loaded once; a shared lock on
 *                it keeps `keys rotate` away while we run
 *   housekeeping one thread: publishes batch requests every few seconds,
 *                signs an audit checkpoint every few seconds, runs
 *                retention every hour (intervals from config.json)
 *   notify       one thread: empties the outbox (emails to followers,
 *                agencies' webhooks), through the writer (notify.h)
 *
 * Shutdown (SIGINT/SIGTERM) runs in the order that loses nothing: stop
 * accepting connections, stop the housekeeping thread, drain the writer
 * (each queued request is committed and answered; later ones get 503),
 * sign a last audit checkpoint covering everything written, stop the HTTP
 * threads, and only then free the writer they could still call.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/apikey.h"
#include "media/photo.h"
#include "notify/notify.h"
#include "open311/o311_api.h"
#include "privacy/audit.h"
#include "privacy/retention.h"
#include "util/log.h"
#include "web/web.h"

static const char HELP[] =
    "usage: civic311 serve --data DIR [--listen HOST:PORT] [--threads N] [--quiet]\n"
    "                      [--unsafe-no-sync]\n"
    "\n"
    "Serves the 311 Online website at / and the Open311 GeoReport v2 API under\n"
    "/open311/v2/ from the store in DIR.\n"
    "  --listen HOST:PORT  address to listen on (default from config.json, normally\n"
    "                      127.0.0.1:8311; port 0 picks a free port, logged at start)\n"
    "  --threads N         HTTP worker threads (default: one per core)\n"
    "  --quiet             no access log\n"
    "  --unsafe-no-sync    BENCHMARKS ONLY: do not wait for the disk on commit, so a\n"
    "                      crash can lose acknowledged requests\n"
    "Stops cleanly on SIGINT or SIGTERM.\n";

typedef struct {
    o311_api api;
    web_app web;
    commitq_t *writer;
    keyring_t *keys;
    store_t *maint; /* housekeeping's own connection, for compaction */
    const civic_config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
} serve_ctx;

#ifdef CIVIC311_TEST_BUILD
/* Test builds only (the ASan binary the tests run): the file named by
 * CIVIC311_TEST_CLOCK_FILE, when set, holds seconds to add to the real
 * clock, read at every call, so a test moves the server's time forward
 * (idle sessions, lock periods) without waiting. A release build has no
 * such door. */
static int64_t clock_offset(void)
{
    const char *path = getenv("CIVIC311_TEST_CLOCK_FILE");
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    long long off = 0;
    if (f != NULL) {
        if (fscanf(f, "%lld", &off) != 1)
            off = 0;
        fclose(f);
    }
    return (int64_t)off;
}
#else
static int64_t clock_offset(void)
{
    return 0;
}
#endif

static int64_t now_utc(void)
{
    return (int64_t)time(NULL) + clock_offset();
}

static void serve_text(http_req_t *req, int status, const char *type, const char *text)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, text);
    http_respond(req, status, type, &b);
}

static void serve_handle(http_req_t *req, void *arg)
{
    serve_ctx *sc = arg;
    const char *path = http_path(req), *method = http_method(req);
    web_security_headers(req, &sc->web);
    if (strncmp(path, O311_PREFIX, strlen(O311_PREFIX)) == 0) {
        o311_api_handle(req, &sc->api);
        return;
    }
    if (web_handle(req, &sc->web))
        return;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strcmp(path, "/healthz") == 0 && get) {
        http_set_route(req, "GET /healthz");
        serve_text(req, 200, "text/plain; charset=utf-8", "ok\n");
        return;
    }
    http_set_route(req, "not found");
    web_not_found(req, &sc->web);
}

/* Refusals from the HTTP layer (e.g. 413) in the format of the path. */
static void serve_error(http_req_t *req, int status, const char *message, void *arg)
{
    serve_ctx *sc = arg;
    web_security_headers(req, &sc->web);
    if (strncmp(http_path(req), O311_PREFIX, strlen(O311_PREFIX)) == 0) {
        o311_api_error(req, status, message);
        return;
    }
    serve_text(req, status, "text/plain; charset=utf-8", message);
}

static err_code batch_apply(store_t *s, void *arg, err_t *err)
{
    size_t *published = arg;
    return store_batch_publish(s, now_utc(), 1000, published, err);
}

static err_code checkpoint_apply(store_t *s, void *arg, err_t *err)
{
    serve_ctx *sc = arg;
    bool made;
    return audit_checkpoint(s, sc->keys, now_utc(), &made, err);
}

typedef struct {
    serve_ctx *sc;
    int64_t now;
    retention_report rep;
    bool more;
} retention_job;

static err_code retention_apply(store_t *s, void *arg, err_t *err)
{
    retention_job *job = arg;
    err_code rc = retention_step(s, &job->sc->cfg->retention, job->now, 500, &job->rep,
                                 &job->more, err);
    bool made;
    if (rc == ERR_OK)
        rc = audit_checkpoint(s, job->sc->keys, job->now, &made, err);
    return rc;
}

/* One retention pass, a step (one writer transaction) at a time so that
 * requests filed meanwhile wait for one step at most. */
static void run_retention(serve_ctx *sc)
{
    retention_job job = {.sc = sc, .now = now_utc(), .more = true};
    err_t err;
    while (job.more) {
        if (commitq_run(sc->writer, retention_apply, &job, &err) != ERR_OK) {
            log_error("retention: %s", err.msg);
            return;
        }
    }
    if (job.rep.values + job.rep.blobs + job.rep.subjects == 0)
        return;
    log_info("retention: %lld requests lost personal data (%lld values, %lld files, %lld "
             "data keys shredded)",
             (long long)job.rep.requests, (long long)job.rep.values, (long long)job.rep.blobs,
             (long long)job.rep.subjects);
    if (store_compact(sc->maint, &err) != ERR_OK)
        log_warn("retention: the WAL could not be compacted yet: %s", err.msg);
}

/* The background chores, each on its own interval: batch publication,
 * audit checkpoints, retention. Each runs as a writer job (or a series of
 * them), never on this thread's own transaction. */
static void *housekeeping_thread(void *arg)
{
    serve_ctx *sc = arg;
    time_t start = time(NULL);
    time_t next_batch = start + sc->cfg->batch_interval;
    time_t next_checkpoint = start + sc->cfg->checkpoint_interval;
    /* The first retention pass comes soon after start (a server restarted
     * often must still erase on time), then one every interval. */
    time_t next_retention = start + (sc->cfg->retention_interval < 60 ? sc->cfg->retention_interval
                                                                      : 60);
    pthread_mutex_lock(&sc->lock);
    while (!sc->stopping) {
        time_t due = next_batch < next_checkpoint ? next_batch : next_checkpoint;
        if (next_retention < due)
            due = next_retention;
        struct timespec until = {.tv_sec = due, .tv_nsec = 0};
        pthread_cond_timedwait(&sc->wake, &sc->lock, &until);
        if (sc->stopping)
            break;
        pthread_mutex_unlock(&sc->lock);
        time_t now = time(NULL);
        err_t err;
        if (now >= next_batch) {
            size_t published = 0;
            if (commitq_run(sc->writer, batch_apply, &published, &err) != ERR_OK)
                log_error("batch: %s", err.msg);
            else if (published > 0)
                log_info("batch: published %zu requests", published);
            next_batch = now + sc->cfg->batch_interval;
            /* The page views counted since (web_beacon.c), in aggregate;
             * the website's old "Send" keys. */
            if (web_beacon_flush(&sc->web, &err) != ERR_OK)
                log_error("page views: %s", err.msg);
            if (web_sends_purge(&sc->web, &err) != ERR_OK)
                log_error("send keys: %s", err.msg);
        }
        if (now >= next_checkpoint) {
            if (commitq_run(sc->writer, checkpoint_apply, sc, &err) != ERR_OK)
                log_error("audit checkpoint: %s", err.msg);
            next_checkpoint = now + sc->cfg->checkpoint_interval;
        }
        if (now >= next_retention) {
            run_retention(sc);
            next_retention = time(NULL) + sc->cfg->retention_interval;
        }
        pthread_mutex_lock(&sc->lock);
    }
    pthread_mutex_unlock(&sc->lock);
    return NULL;
}

/* After the writer has drained: one checkpoint that signs every entry. */
static void final_checkpoint(serve_ctx *sc)
{
    err_t err;
    if (sc->maint == NULL || sc->keys == NULL)
        return;
    err_code rc = store_begin(sc->maint, &err);
    if (rc == ERR_OK)
        rc = audit_commit(sc->maint, sc->keys, now_utc(), ERR_OK, &err);
    if (rc != ERR_OK)
        log_error("audit checkpoint at shutdown: %s", err.msg);
}

static err_code load_catalog(const civic_config *cfg, catalog **out, err_t *err)
{
    store_t *s = NULL;
    err_code rc = cli_open_store(cfg, true, &s, err);
    if (rc == ERR_OK)
        rc = store_catalog_load(s, out, err);
    store_close(s);
    return rc;
}

static unsigned parse_threads(const char *v, bool *ok)
{
    *ok = true;
    if (v == NULL)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    *ok = *end == '\0' && n >= 1 && n <= 256;
    return (unsigned)n;
}

/* Waits for SIGINT or SIGTERM (blocked in every thread, so they queue). */
static void wait_for_signal(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0 || (sig != SIGINT && sig != SIGTERM))
        ;
    log_info("signal %d: shutting down", sig);
}

int cmd_serve(int argc, char **argv)
{
    cli_opt opts[] = {{"--data", true, NULL},     {"--listen", true, NULL},
                      {"--threads", true, NULL},  {"--quiet", false, NULL},
                      {"--unsafe-no-sync", false, NULL}, {"--help", false, NULL},
                      {NULL, false, NULL}};
    const char *pos[1];
    size_t npos;
    bool threads_ok;
    if (cli_wants_help(argc, argv, 2))
        return cli_help(HELP);
    unsigned threads = 0;
    if (!cli_parse(argc, argv, 2, opts, pos, 0, &npos) || cli_get(opts, "--data") == NULL ||
        ((threads = parse_threads(cli_get(opts, "--threads"), &threads_ok)), !threads_ok))
        return cli_usage(HELP);
    bool sync = cli_get(opts, "--unsafe-no-sync") == NULL;

    /* Signals go to sigwait in main only: block them before any thread. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    err_t err;
    civic_config cfg = {0};
    catalog *cat = NULL;
    route_table *routes = NULL;
    http_server_t *http = NULL;
    pthread_t housekeeping;
    bool housekeeping_started = false;
    notify_t *notifier = NULL;
    bool photos_started = false;
    bool web_started = false;
    int keys_lock = -1;
    int code = 1;
    serve_ctx sc;
    memset(&sc, 0, sizeof sc);
    pthread_mutex_init(&sc.lock, NULL);
    pthread_cond_init(&sc.wake, NULL);

    if (apikey_init(&err) != ERR_OK || config_load(cli_get(opts, "--data"), &cfg, &err) != ERR_OK ||
        cli_load_keys(&cfg, &sc.keys, &err) != ERR_OK ||
        cli_lock_keys(&cfg, false, &keys_lock, &err) != ERR_OK ||
        load_catalog(&cfg, &cat, &err) != ERR_OK ||
        cli_load_routes(&cfg, cat, &routes, &err) != ERR_OK ||
        cli_open_store(&cfg, sync, &sc.maint, &err) != ERR_OK) {
        code = cli_fail(&err);
        goto done;
    }
    /* The city's time zone, for the website's times (config time_zone):
     * set once here, before any thread starts, since setenv and tzset are
     * not safe while other threads read the environment. Everything else
     * works in UTC and never reads it (util/datetime.c). */
    if (setenv("TZ", cfg.time_zone, 1) != 0) {
        fprintf(stderr, "civic311: cannot set the time zone\n");
        goto done;
    }
    tzset();
    cat->routes = routes;
    store_options wopt = {.url = cfg.db_path, .sync = sync, .read_only = false};
    if (commitq_start(&wopt, 512, &sc.writer, &err) != ERR_OK) {
        code = cli_fail(&err);
        goto done;
    }
    sc.cfg = &cfg;
    sc.api.cat = cat;
    sc.api.keys = sc.keys;
    sc.api.writer = sc.writer;
    sc.api.readers.opt = (store_options){.url = cfg.db_path, .sync = sync, .read_only = true};
    sc.api.discovery = cfg.discovery;
    sc.api.jurisdiction_id = cfg.jurisdiction_id;
    sc.api.now = now_utc;
    if (o311_api_init(&sc.api, &err) != ERR_OK) {
        code = cli_fail(&err);
        goto done;
    }
    sc.web.cat = cat;
    sc.web.keys = sc.keys;
    sc.web.writer = sc.writer;
    sc.web.readers.opt = sc.api.readers.opt;
    sc.web.retention = &cfg.retention;
    sc.web.policy_updated = WEB_POLICY_UPDATED;
    sc.web.map = cfg.has_map ? &cfg.map : NULL;
    sc.web.now = now_utc;
    sc.web.local_time = strcmp(cfg.time_zone, "UTC") != 0;
    sc.web.staff_idle_seconds = (int64_t)cfg.staff_idle_minutes * 60;
    char catalog_po[4096]; /* the city's translations of its catalog, if any */
    snprintf(catalog_po, sizeof catalog_po, "%s/catalog-po", cfg.data_dir);
    sc.web.catalog_po_dir = catalog_po;
    if (photo_init(&err) != ERR_OK) {
        code = cli_fail(&err);
        goto done;
    }
    photos_started = true;
    if (web_init(&sc.web, &err) != ERR_OK) {
        code = cli_fail(&err);
        goto done;
    }
    web_started = true;

    http_options ho;
    http_options_default(&ho);
    ho.listen = cli_get(opts, "--listen") ? cli_get(opts, "--listen") : cfg.listen;
    ho.threads = threads ? threads : cfg.threads;
    ho.connection_timeout = cfg.connection_timeout;
    ho.max_connections = cfg.max_connections;
    ho.max_connections_per_ip = cfg.max_connections_per_ip;
    ho.max_body = cfg.max_body;
    ho.upload_prefix = "/report/"; /* the report form, with its photo */
    ho.upload_prefix2 = WEB_RECORDING_UPLOAD_PREFIX; /* a call recording (console_cc.c) */
    ho.max_upload = cfg.max_upload;
    ho.handler = serve_handle;
    ho.error_handler = serve_error;
    ho.handler_ctx = &sc;
    ho.access_log = cli_get(opts, "--quiet") == NULL;
    if (http_server_start(&ho, &http, &err) != ERR_OK) {
        code = cli_fail(&err);
        goto done;
    }
    if (pthread_create(&housekeeping, NULL, housekeeping_thread, &sc) != 0) {
        fprintf(stderr, "civic311: cannot start the housekeeping thread\n");
        goto done;
    }
    housekeeping_started = true;
    if (notify_start(&cfg.notify, sc.writer, sc.keys, cat, now_utc, &notifier, &err) != ERR_OK) {
        code = cli_fail(&err);
        goto done;
    }
    if (cfg.notify.smtp_url == NULL)
        log_warn("no smtp relay in config.json: emails to followers wait in the outbox");
    if (!sync)
        log_warn("--unsafe-no-sync: commits are NOT durable; for benchmarks only");
    log_info("listening on %s port %u (%zu services, %zu districts, jurisdiction_id %s)",
             ho.listen, http_server_port(http), cat->nservices,
             routes ? district_set_count(route_table_districts(routes)) : (size_t)0,
             cfg.jurisdiction_id);
    wait_for_signal(&set);
    code = 0;

done:
    if (http != NULL)
        http_server_quiesce(http);
    if (housekeeping_started) {
        pthread_mutex_lock(&sc.lock);
        sc.stopping = true;
        pthread_cond_signal(&sc.wake);
        pthread_mutex_unlock(&sc.lock);
        pthread_join(housekeeping, NULL);
    }
    /* After the delivery in progress; before the writer it settles with. */
    notify_stop(notifier);
    if (web_started) {
        /* The photos being cleaned answer their requests (through the
         * writer, still running); then the last page views. */
        web_photos_drain(&sc.web);
        err_t ferr;
        if (web_beacon_flush(&sc.web, &ferr) != ERR_OK)
            log_error("page views: %s", ferr.msg);
    }
    /* The writer answers every queued request, then refuses new ones while
     * the HTTP threads stop; only then can it be freed. */
    commitq_drain(sc.writer);
    final_checkpoint(&sc);
    http_server_stop(http);
    commitq_stop(sc.writer);
    o311_api_destroy(&sc.api);
    web_destroy(&sc.web);
    if (photos_started) /* after the last HTTP thread: no photo is being cleaned */
        photo_shutdown();
    store_close(sc.maint);
    keyring_free(sc.keys);
    if (keys_lock >= 0)
        close(keys_lock);
    catalog_free(cat);
    route_table_free(routes); /* after the catalog that borrowed it */
    config_free(&cfg);
    pthread_cond_destroy(&sc.wake);
    pthread_mutex_destroy(&sc.lock);
    if (code == 0)
        log_info("stopped");
    return code;
}
