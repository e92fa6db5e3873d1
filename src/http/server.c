/*
 * server.c - the libmicrohttpd adapter. See server.h for the contract.
 *
 * Life of a request here:
 *   uri_log callback   allocates the request context (and its pool) and
 *                      keeps the raw URI: MHD hands handlers a decoded path
 *                      and decoded arguments, but we decode ourselves with
 *                      our own strict, fuzzed decoder.
 *   access callback #1 headers are in: refuse a too-large Content-Length.
 *   access callback #n body chunks: appended up to the limit.
 *   access callback    body complete: run the handler. If it answered,
 *                      queue the response; if it deferred, suspend the
 *                      connection until http_respond() resumes it.
 *   completed callback log one line, free the context.
 *
 * The suspend/resume handshake: the handler may hand the request to another
 * thread that answers before we have suspended. A mutex and two flags
 * (answered, suspended) settle the order: whoever comes second acts.
 */
#include "http/server.h"

#include "util/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct http_hdr {
    const char *name, *value;
    struct http_hdr *next;
} http_hdr;

enum req_state { REQ_NEW, REQ_BODY, REQ_DISPATCHED };

struct http_req {
    http_server_t *server;
    struct MHD_Connection *conn;
    pool_t *pool;
    char *uri;   /* raw request target (path?query), in pool */
    char *path;  /* in pool */
    char *query; /* in pool, "" if none */
    const char *method;
    const char *route;
    buf_t body;
    size_t body_limit; /* max_body, or max_upload on an upload path */
    size_t body_seen; /* bytes of body received, kept or not */
    bool body_too_large;
    enum req_state state;
    struct timespec started;

    pthread_mutex_t lock; /* guards answered/suspended between threads */
    bool answered, suspended, deferred;
    int status;
    const char *content_type;
    char *resp_body; /* malloc'ed; handed to MHD, which frees it */
    size_t resp_len;
    http_hdr *headers;
};

struct http_server {
    struct MHD_Daemon *daemon;
    http_options opt;
    unsigned port;
};

void http_options_default(http_options *o)
{
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:8311";
    o->threads = 0;
    o->connection_timeout = 30;
    o->max_connections = 8192;
    o->max_connections_per_ip = 128;
    o->max_body = 1024 * 1024;
    o->upload_prefix = NULL;
    o->upload_prefix2 = NULL;
    o->max_upload = 1024 * 1024;
    o->connection_memory = 64 * 1024;
    o->access_log = true;
}

/* MHD's own error messages. Only the format string is printed: its
 * arguments can include request text, which may hold personal data. */
static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)ap;
    size_t n = strcspn(fmt, "\n");
    log_warn("http: %.*s", (int)n, fmt);
}

static void *http_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_server_t *s = cls;
    http_req_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->pool = pool_new();
    if (r->pool == NULL || pthread_mutex_init(&r->lock, NULL) != 0) {
        pool_free(r->pool);
        free(r);
        return NULL;
    }
    r->server = s;
    r->conn = conn;
    r->route = "-";
    clock_gettime(CLOCK_MONOTONIC, &r->started);
    r->uri = pool_strdup(r->pool, uri);
    if (r->uri != NULL) {
        char *q = strchr(r->uri, '?');
        r->path = pool_strndup(r->pool, r->uri, q ? (size_t)(q - r->uri) : strlen(r->uri));
        r->query = pool_strdup(r->pool, q ? q + 1 : "");
    }
    const char *up = s->opt.upload_prefix, *up2 = s->opt.upload_prefix2;
    bool upload = r->path != NULL &&
                  ((up != NULL && strncmp(r->path, up, strlen(up)) == 0) ||
                   (up2 != NULL && strncmp(r->path, up2, strlen(up2)) == 0));
    r->body_limit = upload ? s->opt.max_upload : s->opt.max_body;
    buf_init(&r->body, r->body_limit);
    return r;
}

static void http_req_free(http_req_t *r)
{
    buf_free(&r->body);
    free(r->resp_body);
    pthread_mutex_destroy(&r->lock);
    pool_free(r->pool);
    free(r);
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    http_server_t *s = cls;
    (void)conn;
    http_req_t *r = *con_cls;
    if (r == NULL)
        return;
    if (s->opt.access_log) {
        struct timespec end;
        clock_gettime(CLOCK_MONOTONIC, &end);
        long us = (long)((end.tv_sec - r->started.tv_sec) * 1000000L +
                         (end.tv_nsec - r->started.tv_nsec) / 1000);
        log_info("access: %s %d %zu %ldus%s", r->route, r->status, r->resp_len, us,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    }
    *con_cls = NULL;
    http_req_free(r);
}

/* ---- the request API for handlers ---- */

const char *http_method(const http_req_t *r)
{
    return r->method;
}
const char *http_path(const http_req_t *r)
{
    return r->path;
}
const char *http_query(const http_req_t *r)
{
    return r->query;
}
const char *http_header(const http_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}
const char *http_body(const http_req_t *r, size_t *len)
{
    *len = r->body.len;
    return r->body.data ? r->body.data : "";
}
pool_t *http_pool(http_req_t *r)
{
    return r->pool;
}
void http_set_route(http_req_t *r, const char *route)
{
    r->route = route;
}

void http_add_header(http_req_t *r, const char *name, const char *value)
{
    http_hdr *h = pool_alloc(r->pool, sizeof *h);
    if (h == NULL)
        return; /* a missing optional header is not worth failing over */
    h->name = pool_strdup(r->pool, name);
    h->value = pool_strdup(r->pool, value);
    if (h->name == NULL || h->value == NULL)
        return;
    h->next = r->headers;
    r->headers = h;
}

void http_defer(http_req_t *r)
{
    r->deferred = true;
}

void http_respond(http_req_t *r, int status, const char *content_type, buf_t *b)
{
    /* The length from the buffer, not strlen: a body may be binary (a
     * photo), NUL bytes and all. */
    size_t len = b->len;
    char *data = buf_detach(b);
    if (data == NULL) {
        static const char oom[] = "out of memory\n";
        status = 500;
        content_type = "text/plain; charset=utf-8";
        data = malloc(sizeof oom);
        if (data != NULL)
            memcpy(data, oom, sizeof oom);
        len = data != NULL ? sizeof oom - 1 : 0;
    }
    r->status = status;
    r->content_type = content_type;
    r->resp_body = data;
    r->resp_len = data != NULL ? len : 0;

    pthread_mutex_lock(&r->lock);
    r->answered = true;
    bool resume = r->suspended;
    pthread_mutex_unlock(&r->lock);
    /* Resuming makes MHD call the access handler again, which queues the
     * response (MHD only queues from inside its callbacks). */
    if (resume)
        MHD_resume_connection(r->conn);
}

/* ---- MHD callbacks ---- */

static enum MHD_Result http_queue(http_req_t *r)
{
    struct MHD_Response *resp;
    char *data = r->resp_body;
    r->resp_body = NULL; /* MHD owns it now */
    resp = MHD_create_response_from_buffer_with_free_callback(r->resp_len, data ? data : "",
                                                              data ? free : NULL);
    if (resp == NULL) {
        free(data);
        return MHD_NO;
    }
    if (r->content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    for (http_hdr *h = r->headers; h != NULL; h = h->next)
        MHD_add_response_header(resp, h->name, h->value);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Refuses a request from the server itself. The method is known by then
 * (the first access callback records it) so error handlers can use it. */
static enum MHD_Result http_reply_now(http_req_t *r, int status, const char *text)
{
    http_server_t *s = r->server;
    if (s->opt.error_handler != NULL) {
        s->opt.error_handler(r, status, text, s->opt.handler_ctx);
        if (r->answered)
            return http_queue(r);
    }
    buf_t b = BUF_INIT;
    buf_puts(&b, text);
    buf_putc(&b, '\n');
    http_respond(r, status, "text/plain; charset=utf-8", &b);
    return http_queue(r);
}

static enum MHD_Result http_dispatch(http_req_t *r)
{
    r->state = REQ_DISPATCHED;
    if (r->body_too_large)
        return http_reply_now(r, 413, "the request body is larger than this server accepts");
    r->server->opt.handler(r, r->server->opt.handler_ctx);
    if (!r->deferred && !r->answered)
        return http_reply_now(r, 500, "internal error: the handler gave no answer");

    pthread_mutex_lock(&r->lock);
    if (!r->answered) {
        r->suspended = true;
        MHD_suspend_connection(r->conn);
        pthread_mutex_unlock(&r->lock);
        return MHD_YES;
    }
    pthread_mutex_unlock(&r->lock);
    return http_queue(r);
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    http_req_t *r = *con_cls;
    (void)cls;
    (void)url;
    (void)version;
    (void)conn;
    if (r == NULL || r->uri == NULL || r->path == NULL || r->query == NULL)
        return MHD_NO; /* out of memory in uri_log: drop the connection */

    switch (r->state) {
    case REQ_NEW: {
        r->method = pool_strdup(r->pool, method);
        if (r->method == NULL)
            return MHD_NO;
        const char *cl = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (*end != '\0' || n > r->body_limit) {
                r->state = REQ_DISPATCHED;
                return http_reply_now(r, 413, "the request body is larger than this server accepts");
            }
        }
        r->state = REQ_BODY;
        return MHD_YES;
    }
    case REQ_BODY:
        if (*upload_data_size > 0) {
            r->body_seen += *upload_data_size;
            if (!r->body_too_large) {
                buf_append(&r->body, upload_data, *upload_data_size);
                if (buf_failed(&r->body)) {
                    r->body_too_large = true;
                    buf_free(&r->body);
                }
            }
            /* MHD 0.9.75 cannot answer in the middle of an upload, so a
             * chunked body over the limit is drained to send its 413; but
             * not forever: past 4 times the limit the connection is cut. */
            if (r->body_too_large && r->body_seen / 4 > r->body_limit)
                return MHD_NO;
            *upload_data_size = 0;
            return MHD_YES;
        }
        return http_dispatch(r);
    case REQ_DISPATCHED:
        /* Called again after a resume: the answer is ready. */
        return http_queue(r);
    }
    return MHD_NO;
}

/* Parses "HOST:PORT" or "[V6]:PORT" into addr. */
static err_code http_parse_listen(const char *listen, struct sockaddr_storage *addr,
                                  bool *ipv6, err_t *err)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen || (size_t)(colon - listen) >= sizeof host)
        return err_set(err, ERR_INVALID, "--listen must be HOST:PORT, e.g. 127.0.0.1:8311");
    size_t hl = (size_t)(colon - listen);
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || port > 65535)
        return err_set(err, ERR_INVALID, "--listen: the port must be 0-65535");
    memset(addr, 0, sizeof *addr);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return err_set(err, ERR_INVALID, "--listen: not an IPv6 address");
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *ipv6 = true;
        return ERR_OK;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return err_set(err, ERR_INVALID, "--listen: not an IPv4 address (use [::1] for IPv6)");
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *ipv6 = false;
    return ERR_OK;
}

/* Each connection is a file descriptor: raise the soft limit towards the
 * hard one so max_connections can really be reached (epoll has no
 * FD_SETSIZE bound), and lower max_connections if the system will not. */
static unsigned http_fit_fd_limit(unsigned want)
{
    const rlim_t spare = 128; /* the store, logs, listening socket, ... */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    rlim_t need = (rlim_t)want + spare;
    if (rl.rlim_cur < need && rl.rlim_cur != RLIM_INFINITY) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
            return want;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        unsigned fit = rl.rlim_cur > spare * 2 ? (unsigned)(rl.rlim_cur - spare) : 64;
        log_warn("http: open-file limit %llu allows %u connections, not %u",
                 (unsigned long long)rl.rlim_cur, fit, want);
        return fit;
    }
    return want;
}

err_code http_server_start(const http_options *o, http_server_t **out, err_t *err)
{
    struct sockaddr_storage addr;
    bool ipv6 = false;
    err_code rc = http_parse_listen(o->listen, &addr, &ipv6, err);
    if (rc != ERR_OK)
        return rc;
    http_server_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    s->opt = *o;
    s->opt.max_connections = http_fit_fd_limit(o->max_connections);
    unsigned threads = o->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 && n < 64 ? (unsigned)n : 2;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, http_access, s, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_URI_LOG_CALLBACK,
        http_uri_log, s, MHD_OPTION_NOTIFY_COMPLETED, http_completed, s,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
        o->connection_timeout, MHD_OPTION_CONNECTION_LIMIT, s->opt.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_connections_per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->connection_memory, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    if (s->daemon == NULL) {
        free(s);
        return err_set(err, ERR_IO, "cannot listen on %s (in use, or not allowed)", o->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    *out = s;
    return ERR_OK;
}

unsigned http_server_port(const http_server_t *s)
{
    return s->port;
}

void http_server_quiesce(http_server_t *s)
{
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void http_server_stop(http_server_t *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
