/* Hello server on GNU libmicrohttpd: GET /x answers the shared JSON body.
 * Mode: internal thread pool of HELLO_THREADS threads, each with its own
 * epoll set (MHD_USE_EPOLL_INTERNAL_THREAD + MHD_OPTION_THREAD_POOL_SIZE),
 * plus MHD_USE_TURBO, the documented high-throughput mode.
 * Settings as Civic311 would use them: connection timeout HELLO_TIMEOUT_S,
 * POST bodies over HELLO_MAX_BODY refused with 413: on the first call of the
 * handler (before any body byte is read) when Content-Length says so, else
 * (chunked) as soon as the bytes counted pass the limit. MHD has no
 * body-size option of its own.
 * With a second argument "hardened" it also sets a per-IP connection limit
 * (HELLO_PER_IP) and a global one (HELLO_CONN_LIMIT, above the default of
 * FD_SETSIZE - 4), the defence MHD has against drip-fed request heads.
 * With "noturbo" it runs without MHD_USE_TURBO. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static struct MHD_Response *ok_resp, *notfound_resp, *toolarge_resp;
static int marker; /* *con_cls after the first call of a GET */

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    if (strcmp(url, "/x") != 0)
        return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, notfound_resp);
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    if (!is_get && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, notfound_resp);

    if (*con_cls == NULL) { /* first call: headers only */
        /* A response queued here makes 0.9.75 close the connection after
         * it (no keep-alive), so only refusals are queued on this call. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (!is_get && cl != NULL && strtoull(cl, NULL, 10) > HELLO_MAX_BODY)
            return MHD_queue_response(conn, MHD_HTTP_CONTENT_TOO_LARGE, toolarge_resp);
        if (is_get) {
            *con_cls = &marker;
        } else if ((*con_cls = calloc(1, sizeof(size_t))) == NULL) {
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) { /* a body chunk; a real handler feeds a PostProcessor */
        size_t *got = *con_cls;  /* chunked bodies have no Content-Length: count */
        *got += *upload_data_size;
        *upload_data_size = 0;
        if (*got > HELLO_MAX_BODY)
            return MHD_queue_response(conn, MHD_HTTP_CONTENT_TOO_LARGE, toolarge_resp);
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, ok_resp);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    if (*con_cls != &marker)
        free(*con_cls);
    *con_cls = NULL;
}

static struct MHD_Response *make_resp(const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r == NULL || MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                             "application/json") != MHD_YES)
        exit(1);
    return r;
}

int main(int argc, char **argv)
{
    int port = hello_port(argc, argv);
    /* "hardened": also the two limits MHD offers against many slow clients;
     * "noturbo": without MHD_USE_TURBO (to see what it is worth) */
    const char *variant = argc > 2 ? argv[2] : "";
    int hardened = strcmp(variant, "hardened") == 0;
    unsigned int turbo = strcmp(variant, "noturbo") == 0 ? 0 : MHD_USE_TURBO;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    signal(SIGPIPE, SIG_IGN);
    ok_resp = make_resp(HELLO_BODY);
    notfound_resp = make_resp("{\"error\":\"not found\"}\n");
    toolarge_resp = make_resp("{\"error\":\"payload too large\"}\n");

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | turbo | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
        NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HELLO_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)HELLO_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        hardened ? MHD_OPTION_PER_IP_CONNECTION_LIMIT : MHD_OPTION_END, (unsigned int)HELLO_PER_IP,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HELLO_CONN_LIMIT, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "hello_mhd: MHD_start_daemon failed\n");
        return 1;
    }
    printf("hello_mhd listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    for (;;)
        pause();
}
