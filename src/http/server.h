/*
 * server.h - the HTTP adapter: the only file pair that knows libmicrohttpd.
 *
 * It turns a connection into an http_req (method, raw path and query, body,
 * a memory pool) and hands it to one handler. The handler answers with
 * http_respond(), either before it returns or later from another thread
 * after http_defer() (the group-commit writer answers POSTs that way, so no
 * server thread waits on a disk sync).
 *
 * What it defends against, so handlers need not: slow clients (a timeout on
 * idle connections), too many connections (global and per address), big
 * headers (a per-connection memory cap), big bodies (refused with 413 from
 * Content-Length before reading, and cut off while reading).
 *
 * It never logs a URL, a query string or a body: those may carry personal
 * data. The access log names the route a handler reports, not the path.
 */
#ifndef CIVIC_HTTP_SERVER_H
#define CIVIC_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/pool.h"

typedef struct http_server http_server_t;
typedef struct http_req http_req_t;

typedef void (*http_handler_fn)(http_req_t *req, void *ctx);

/* Answers a request the server refuses before the handler could run (413
 * body too large, or a handler that gave no answer), in the format the
 * path's clients expect. Must call http_respond(). */
typedef void (*http_error_fn)(http_req_t *req, int status, const char *message, void *ctx);

typedef struct {
    const char *listen;          /* "127.0.0.1:8311" or "[::1]:8311" */
    unsigned threads;            /* worker threads; 0 = one per core */
    unsigned connection_timeout; /* seconds idle before a connection is closed */
    unsigned max_connections;
    unsigned max_connections_per_ip;
    size_t max_body;             /* bytes; larger bodies get 413 */
    /* Paths starting with upload_prefix (NULL: none) may send bodies up to
     * max_upload instead (a form with a photo): one route's need does not
     * raise every route's limit. */
    const char *upload_prefix;
    /* A second such prefix (NULL: none): the Contact Center's call
     * recordings (issue 5). */
    const char *upload_prefix2;
    size_t max_upload;
    size_t connection_memory;    /* bytes per connection for headers etc. */
    http_handler_fn handler;
    http_error_fn error_handler; /* NULL: plain text */
    void *handler_ctx;           /* passed to both */
    bool access_log;             /* one line per request on stderr */
} http_options;

void http_options_default(http_options *o);

err_code http_server_start(const http_options *o, http_server_t **out, err_t *err);
/* The port actually bound (useful with port 0). */
unsigned http_server_port(const http_server_t *s);
/* Stops accepting new connections; queued work can still finish. */
void http_server_quiesce(http_server_t *s);
/* Stops and frees. Every deferred request must have been answered. */
void http_server_stop(http_server_t *s);

/* ---- the request, as a handler sees it ---- */

const char *http_method(const http_req_t *r);      /* "GET", "POST", ... */
const char *http_path(const http_req_t *r);        /* raw, still %-encoded */
const char *http_query(const http_req_t *r);       /* raw, without '?'; "" if none */
const char *http_header(const http_req_t *r, const char *name); /* NULL if absent */
const char *http_body(const http_req_t *r, size_t *len);        /* "" if none */
pool_t *http_pool(http_req_t *r); /* freed when the response has been sent */

/* Names the route for the access log ("GET requests/{id}"): a constant
 * string, never built from the request. */
void http_set_route(http_req_t *r, const char *route);

/* Adds a response header (both strings are copied). */
void http_add_header(http_req_t *r, const char *name, const char *value);

/* Answers the request: status, content type, and the body, which is taken
 * from b (b is left empty). If b has failed (out of memory) a 500 is sent
 * instead. May be called from any thread once the request is deferred. */
void http_respond(http_req_t *r, int status, const char *content_type, buf_t *b);

/* Says the handler will answer later (from any thread). */
void http_defer(http_req_t *r);

#endif
