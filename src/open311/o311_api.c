/*
 * o311_api.c - the GeoReport v2 handlers. See o311_api.h.
 *
 * Status codes follow the spec: 400 for what the client must fix, 403 for
 * a missing or unknown api_key, 404 for an unknown jurisdiction_id,
 * service_code, request or token. Where the spec says "400 - General
 * service error" for our own failures, we send 500 (or 503 while shutting
 * down) instead, so clients and proxies know to retry rather than to
 * change the request. A created request gets 201.
 */
#include "open311/o311_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/apikey.h"
#include "core/intake.h"
#include "open311/o311_params.h"
#include "notify/notify.h"
#include "privacy/vault.h"
#include "util/kv.h"
#include "util/log.h"

static const char *const CT_JSON = "application/json";
static const char *const CT_XML = "text/xml";

static const char *content_type(o311_format f)
{
    return f == O311_JSON ? CT_JSON : CT_XML;
}

/* Open311 is read and written by web apps on other origins (a city's map,
 * FixMyStreet's front end): every answer, errors included, may be read
 * cross-origin. No cookies or credentials are involved. */
static void allow_any_origin(http_req_t *req)
{
    http_add_header(req, "Access-Control-Allow-Origin", "*");
}

static void o311_fail(http_req_t *req, o311_format f, int status, const char *description)
{
    buf_t b = BUF_INIT;
    o311_write_error(&b, f, status, description);
    http_add_header(req, "Cache-Control", "no-store");
    http_respond(req, status, content_type(f), &b);
}

/* An error value as an Open311 error response. */
static void o311_fail_err(http_req_t *req, o311_format f, const err_t *err)
{
    switch (err->code) {
    case ERR_INVALID:
    case ERR_NOT_FOUND:
    case ERR_FORBIDDEN:
    case ERR_TOO_LARGE:
        o311_fail(req, f, err->code == ERR_TOO_LARGE ? 400 : err_http_status(err->code),
                  err->msg);
        return;
    case ERR_UNAVAILABLE:
        o311_fail(req, f, 503, "the server is shutting down or overloaded; try again");
        return;
    default:
        /* Store and internal messages stay in our log, not in the reply. */
        log_error("open311: %s: %s", err_code_name(err->code), err->msg);
        o311_fail(req, f, 500, "the server could not complete the request; try again later");
    }
}

static void o311_send(http_req_t *req, o311_format f, int status, buf_t *b)
{
    http_add_header(req, "Cache-Control", "no-cache");
    http_respond(req, status, content_type(f), b);
}


err_code o311_api_init(o311_api *api, err_t *err)
{
    return store_readers_init(&api->readers, err);
}

void o311_api_destroy(o311_api *api)
{
    store_readers_destroy(&api->readers);
}

/* This thread's read connection, opened on first use. */
static store_t *reader(o311_api *api, err_t *err)
{
    return store_readers_get(&api->readers, err);
}

/* ---- parameters shared by every endpoint ---- */

static err_code decode_query(http_req_t *req, kv_list *kv, err_t *err)
{
    const char *q = http_query(req);
    return form_decode(q, strlen(q), http_pool(req), &KV_DEFAULT_LIMITS, kv, err);
}

static err_code check_jurisdiction(const o311_api *api, const kv_list *kv, err_t *err)
{
    const char *j = kv_get(kv, "jurisdiction_id");
    if (kv_count(kv, "jurisdiction_id") > 1)
        return err_set(err, ERR_INVALID, "jurisdiction_id was given more than once");
    if (j == NULL || *j == '\0' || strcmp(j, api->jurisdiction_id) == 0)
        return ERR_OK;
    return err_set(err, ERR_NOT_FOUND, "jurisdiction_id not found: this endpoint serves %s",
                   api->jurisdiction_id);
}

/* ---- GET discovery, services, services/{code} ---- */

static void get_discovery(http_req_t *req, o311_api *api, o311_format f)
{
    buf_t b = BUF_INIT;
    o311_write_discovery(&b, f, &api->discovery);
    o311_send(req, f, 200, &b);
}

static void get_services(http_req_t *req, o311_api *api, o311_format f, const kv_list *kv)
{
    (void)kv;
    buf_t b = BUF_INIT;
    o311_write_services(&b, f, api->cat);
    o311_send(req, f, 200, &b);
}

static void get_definition(http_req_t *req, o311_api *api, o311_format f, const char *code)
{
    const service *s = catalog_find_service(api->cat, code);
    if (s == NULL) {
        o311_fail(req, f, 404, "service_code not found: no such service");
        return;
    }
    buf_t b = BUF_INIT;
    o311_write_service_definition(&b, f, s);
    o311_send(req, f, 200, &b);
}

/* ---- GET requests, requests/{id} ---- */

/* Public histories of each request, for extensions=true. */
static err_code load_histories(store_t *s, const service_request *srs, size_t n, pool_t *pool,
                               o311_history **out, err_t *err)
{
    o311_history *h = pool_calloc(pool, n ? n : 1, sizeof *h);
    if (h == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        sr_event *ev;
        size_t count;
        err_code rc = store_events_list(s, srs[i].id, true, pool, &ev, &count, err);
        if (rc != ERR_OK)
            return rc;
        h[i].events = ev;
        h[i].nevents = count;
    }
    *out = h;
    return ERR_OK;
}

static void write_requests(http_req_t *req, o311_api *api, o311_format f, store_t *s,
                           const service_request *srs, size_t n, bool extensions)
{
    err_t err;
    o311_history *hist = NULL;
    if (extensions && load_histories(s, srs, n, http_pool(req), &hist, &err) != ERR_OK) {
        o311_fail_err(req, f, &err);
        return;
    }
    buf_t b = BUF_INIT;
    o311_write_requests(&b, f, api->cat, srs, n, hist);
    o311_send(req, f, 200, &b);
}

static void get_requests(http_req_t *req, o311_api *api, o311_format f, const kv_list *kv)
{
    err_t err;
    o311_search search;
    service_request *srs;
    size_t n;
    store_t *s;
    if (o311_parse_search(kv, api->now(), http_pool(req), &search, &err) != ERR_OK ||
        (s = reader(api, &err)) == NULL ||
        store_request_search(s, &search.q, http_pool(req), &srs, &n, &err) != ERR_OK) {
        o311_fail_err(req, f, &err);
        return;
    }
    write_requests(req, api, f, s, srs, n, search.extensions);
}


static void get_request(http_req_t *req, o311_api *api, o311_format f, const kv_list *kv,
                        const char *idtext)
{
    err_t err;
    int64_t id;
    service_request sr;
    store_t *s;
    bool ext;
    if (o311_parse_flag(kv, "extensions", &ext, &err) != ERR_OK) {
        o311_fail_err(req, f, &err);
        return;
    }
    if (!sr_parse_id(idtext, &id)) {
        o311_fail(req, f, 404, "service_request_id not found: request numbers are digits");
        return;
    }
    if ((s = reader(api, &err)) == NULL ||
        store_request_get(s, id, http_pool(req), &sr, &err) != ERR_OK) {
        if (err.code == ERR_NOT_FOUND)
            o311_fail(req, f, 404, "service_request_id not found: no such request");
        else
            o311_fail_err(req, f, &err);
        return;
    }
    write_requests(req, api, f, s, &sr, 1, ext);
}

/* ---- GET tokens/{token}, servicerequestupdates ---- */

static void get_token(http_req_t *req, o311_api *api, o311_format f, const char *token)
{
    err_t err;
    int64_t id;
    store_t *s;
    if (strlen(token) > 64 || (s = reader(api, &err)) == NULL ||
        store_token_find(s, token, &id, &err) != ERR_OK) {
        if (strlen(token) > 64 || err.code == ERR_NOT_FOUND)
            o311_fail(req, f, 404, "token not found");
        else
            o311_fail_err(req, f, &err);
        return;
    }
    buf_t b = BUF_INIT;
    o311_write_token(&b, f, token, id);
    o311_send(req, f, 200, &b);
}

static void get_updates(http_req_t *req, o311_api *api, o311_format f, const kv_list *kv)
{
    err_t err;
    int64_t start, end;
    size_t page, page_size, n;
    sr_event *ev;
    store_t *s;
    if (o311_parse_window(kv, api->now(), &start, &end, &page, &page_size, &err) != ERR_OK ||
        (s = reader(api, &err)) == NULL ||
        store_updates_search(s, start, end, page, page_size, http_pool(req), &ev, &n, &err) !=
            ERR_OK) {
        o311_fail_err(req, f, &err);
        return;
    }
    buf_t b = BUF_INIT;
    o311_write_updates(&b, f, ev, n);
    o311_send(req, f, 200, &b);
}

/* ---- POST requests ---- */

typedef struct {
    http_req_t *req;
    o311_api *api;
    o311_format f;
    service_type type;
    service_request sr;
    bool follow; /* our extension notify=true: email the reporter of changes (W6) */
} create_job;

static err_code create_apply(store_t *s, void *arg, err_t *err)
{
    create_job *job = arg;
    char actor[32]; /* the audit log's pseudonymous actor: the client's key */
    snprintf(actor, sizeof actor, "api:%lld", (long long)job->sr.api_key_id);
    err_code rc = store_request_insert(s, &job->sr, err);
    int64_t reporter = 0;
    if (rc == ERR_OK)
        rc = vault_collect_reporter(s, job->api->keys, &job->sr, actor, 0,
                                    job->sr.requested_at, &reporter, err);
    if (rc == ERR_OK && job->follow)
        rc = notify_follow(s, job->sr.row_id, reporter, actor, job->sr.requested_at, err);
    return rc;
}

/* Runs on the writer thread once the request is on disk (or failed). */
static void create_done(void *arg, err_code rc, const err_t *err)
{
    create_job *job = arg;
    if (rc != ERR_OK) {
        o311_fail_err(job->req, job->f, err);
        return;
    }
    buf_t b = BUF_INIT;
    o311_write_created(&b, job->f, &job->sr, job->type);
    http_add_header(job->req, "Cache-Control", "no-store");
    http_respond(job->req, 201, content_type(job->f), &b);
}

static err_code check_api_key(o311_api *api, const kv_list *kv, int64_t *key_id, err_t *err)
{
    const char *key = kv_get(kv, "api_key");
    unsigned char hash[APIKEY_HASH_LEN];
    if (key == NULL || *key == '\0')
        return err_set(err, ERR_FORBIDDEN, "api_key was not provided: writes need a key");
    if (kv_count(kv, "api_key") > 1 || !apikey_hash(key, hash))
        return err_set(err, ERR_FORBIDDEN, "api_key is invalid");
    store_t *s = reader(api, err);
    if (s == NULL)
        return err->code;
    err_code rc = store_apikey_find(s, hash, key_id, err);
    if (rc == ERR_NOT_FOUND)
        return err_set(err, ERR_FORBIDDEN, "api_key is invalid");
    return rc;
}

static void post_request(http_req_t *req, o311_api *api, o311_format f, kv_list *kv)
{
    err_t err;
    size_t len;
    const char *body = http_body(req, &len);
    create_job *job = pool_calloc(http_pool(req), 1, sizeof *job);
    if (job == NULL) {
        o311_fail(req, f, 500, "out of memory");
        return;
    }
    /* Parameters may come in the query (as the Swagger description has
     * them) and in the body; both count, and a repeat is an error. */
    if (o311_decode_body(http_header(req, "Content-Type"), body, len, http_pool(req), kv,
                         &err) != ERR_OK ||
        check_jurisdiction(api, kv, &err) != ERR_OK ||
        check_api_key(api, kv, &job->sr.api_key_id, &err) != ERR_OK) {
        o311_fail_err(req, f, &err);
        return;
    }
    int64_t key_id = job->sr.api_key_id;
    if (intake_request(api->cat, kv, SR_CHANNEL_API, api->now(), http_pool(req), &job->sr,
                       &err) != ERR_OK) {
        o311_fail_err(req, f, &err);
        return;
    }
    /* Our extension (docs/API.md): an email given to an app is for the
     * city to reach the reporter, not consent to be emailed; only an
     * explicit notify=true, which the app must have asked its user for,
     * makes the reporter a follower. */
    const char *notify = kv_get(kv, "notify");
    if (notify != NULL && (kv_count(kv, "notify") != 1 ||
                           (strcmp(notify, "true") != 0 && strcmp(notify, "false") != 0))) {
        o311_fail(req, f, 400, "notify must be true or false");
        return;
    }
    job->follow = notify != NULL && strcmp(notify, "true") == 0;
    if (job->follow && job->sr.reporter.email == NULL) {
        o311_fail(req, f, 400, "notify=true needs an email");
        return;
    }
    job->sr.api_key_id = key_id;
    job->req = req;
    job->api = api;
    job->f = f;
    job->type = catalog_find_service(api->cat, job->sr.service_code)->type;
    if (job->type == SERVICE_BATCH) {
        char *token = pool_alloc(http_pool(req), 33);
        if (token == NULL) {
            o311_fail(req, f, 500, "out of memory");
            return;
        }
        apikey_random_token(token);
        job->sr.token = token;
    }
    http_defer(req);
    if (commitq_submit(api->writer, create_apply, create_done, job, &err) != ERR_OK)
        o311_fail_err(req, f, &err);
}

/* ---- routing ---- */

typedef enum { R_NONE, R_DISCOVERY, R_SERVICES, R_SERVICE, R_REQUESTS, R_REQUEST, R_TOKEN,
               R_UPDATES } route_id;

/* Splits "name.fmt" at the last dot. Returns false for a missing or
 * unknown format. */
static bool split_format(char *seg, o311_format *f)
{
    char *dot = strrchr(seg, '.');
    if (dot == NULL)
        return false;
    *dot = '\0';
    if (strcmp(dot + 1, "json") == 0)
        *f = O311_JSON;
    else if (strcmp(dot + 1, "xml") == 0)
        *f = O311_XML;
    else
        return false;
    return true;
}


static route_id route(char *rest, o311_format *f, char **arg)
{
    char *slash = strchr(rest, '/');
    *arg = NULL;
    if (slash == NULL) {
        if (!split_format(rest, f))
            return R_NONE;
        if (strcmp(rest, "discovery") == 0)
            return R_DISCOVERY;
        if (strcmp(rest, "services") == 0)
            return R_SERVICES;
        if (strcmp(rest, "requests") == 0)
            return R_REQUESTS;
        if (strcmp(rest, "servicerequestupdates") == 0)
            return R_UPDATES;
        return R_NONE;
    }
    *slash = '\0';
    char *tail = slash + 1;
    if (strchr(tail, '/') != NULL || !split_format(tail, f) || *tail == '\0' ||
        !url_unescape_segment(tail))
        return R_NONE;
    *arg = tail;
    if (strcmp(rest, "services") == 0)
        return R_SERVICE;
    if (strcmp(rest, "requests") == 0)
        return R_REQUEST;
    if (strcmp(rest, "tokens") == 0)
        return R_TOKEN;
    return R_NONE;
}

static const char *const ROUTE_NAMES[] = {
    "open311 unknown",       "open311 discovery",       "open311 services",
    "open311 services/{code}", "open311 requests",      "open311 requests/{id}",
    "open311 tokens/{token}",  "open311 servicerequestupdates"};

/* The format a path asks for: its suffix if it is .json or .xml, else
 * what the Accept header prefers, else XML (the spec's required format). */
static o311_format format_of(http_req_t *req)
{
    const char *path = http_path(req), *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot != NULL && strcmp(dot, ".json") == 0)
        return O311_JSON;
    if (dot != NULL && strcmp(dot, ".xml") == 0)
        return O311_XML;
    const char *accept = http_header(req, "Accept");
    return accept != NULL && strstr(accept, "json") != NULL ? O311_JSON : O311_XML;
}

void o311_api_error(http_req_t *req, int status, const char *message)
{
    allow_any_origin(req);
    o311_fail(req, format_of(req), status, message);
}

void o311_api_handle(http_req_t *req, o311_api *api)
{
    o311_format f = O311_XML;
    char *arg;
    char *rest = pool_strdup(http_pool(req), http_path(req) + strlen(O311_PREFIX));
    if (rest == NULL) {
        o311_fail(req, f, 500, "out of memory");
        return;
    }
    route_id r = route(rest, &f, &arg);
    http_set_route(req, ROUTE_NAMES[r]);
    allow_any_origin(req);
    if (r == R_NONE) {
        o311_fail(req, format_of(req), 404,
                  "no such resource: see /open311/v2/discovery.json; every resource ends in "
                  ".json or .xml");
        return;
    }

    const char *method = http_method(req);
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    if (!(get || (post && r == R_REQUESTS))) {
        http_add_header(req, "Allow", r == R_REQUESTS ? "GET, HEAD, POST" : "GET, HEAD");
        o311_fail(req, f, 405, "method not allowed on this resource");
        return;
    }

    err_t err;
    kv_list kv;
    kv_init(&kv);
    if (decode_query(req, &kv, &err) != ERR_OK ||
        (!post && r != R_DISCOVERY && check_jurisdiction(api, &kv, &err) != ERR_OK)) {
        o311_fail_err(req, f, &err);
        return;
    }
    switch (r) {
    case R_DISCOVERY:
        get_discovery(req, api, f);
        return;
    case R_SERVICES:
        get_services(req, api, f, &kv);
        return;
    case R_SERVICE:
        get_definition(req, api, f, arg);
        return;
    case R_REQUESTS:
        if (post)
            post_request(req, api, f, &kv);
        else
            get_requests(req, api, f, &kv);
        return;
    case R_REQUEST:
        get_request(req, api, f, &kv, arg);
        return;
    case R_TOKEN:
        get_token(req, api, f, arg);
        return;
    case R_UPDATES:
        get_updates(req, api, f, &kv);
        return;
    case R_NONE:
        break;
    }
    o311_fail(req, f, 404, "no such resource");
}
