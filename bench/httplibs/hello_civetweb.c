/* Hello server on CivetWeb: GET /x answers the shared JSON body.
 * Mode: CivetWeb has one model, a pool of worker threads, each serving one
 * connection at a time (blocking I/O), so a keep-alive connection holds a
 * thread. Its documented tuning is num_threads >= concurrent connections,
 * hence CIVET_THREADS (128) rather than HELLO_THREADS. tcp_nodelay is on,
 * as its manual advises for keep-alive (headers and body are two writes).
 * Settings as Civic311 would use them: request_timeout_ms and
 * keep_alive_timeout_ms HELLO_TIMEOUT_S; no body-size option exists, so the
 * handler refuses a Content-Length over HELLO_MAX_BODY with 413, and a chunked
 * body once the bytes read pass it. */
#include <civetweb.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define CIVET_THREADS "128"

static const char body[] = HELLO_BODY;

static int handler(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int is_get = strcmp(ri->request_method, "GET") == 0;
    if (!is_get && strcmp(ri->request_method, "POST") != 0) {
        mg_send_http_error(conn, 405, "method not allowed");
        return 405;
    }
    if (!is_get) {
        if (ri->content_length > (long long)HELLO_MAX_BODY) {
            mg_send_http_error(conn, 413, "payload too large");
            return 413;
        }
        char buf[16384];
        long long got = 0;
        int n;
        while ((n = mg_read(conn, buf, sizeof buf)) > 0) {
            if ((got += n) > (long long)HELLO_MAX_BODY) { /* chunked: no Content-Length */
                mg_send_http_error(conn, 413, "payload too large");
                return 413;
            }
        }
    }
    mg_send_http_ok(conn, "application/json", (long long)(sizeof body - 1));
    mg_write(conn, body, sizeof body - 1);
    return 200;
}

int main(int argc, char **argv)
{
    int port = hello_port(argc, argv);
    char listen[32];
    char timeout[16];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(timeout, sizeof timeout, "%d", HELLO_TIMEOUT_S * 1000);
    const char *options[] = {"listening_ports",
                             listen,
                             "num_threads",
                             CIVET_THREADS,
                             "enable_keep_alive",
                             "yes",
                             "tcp_nodelay",
                             "1",
                             "request_timeout_ms",
                             timeout,
                             "keep_alive_timeout_ms",
                             timeout,
                             NULL};
    signal(SIGPIPE, SIG_IGN);
    mg_init_library(0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (ctx == NULL) {
        fprintf(stderr, "hello_civetweb: mg_start failed\n");
        return 1;
    }
    mg_set_request_handler(ctx, "/x$", handler, NULL);
    printf("hello_civetweb listening on %s\n", listen);
    fflush(stdout);
    for (;;)
        pause();
}
