/* Hello server on H2O (libh2o-evloop, its own epoll loop): GET /x answers the
 * shared JSON body. Mode: as the h2o server itself runs, one h2o_context_t +
 * evloop per thread, each thread with its own listening socket on the same
 * port (SO_REUSEPORT), all sharing one h2o_globalconf_t.
 * Settings as Civic311 would use them: http1.req_timeout and
 * http2.idle_timeout HELLO_TIMEOUT_S, max_request_entity_size HELLO_MAX_BODY. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define H2O_USE_EPOLL 1
#include <h2o.h>

#include "common.h"

static const char body[] = HELLO_BODY;
static h2o_globalconf_t config;
static struct sockaddr_in addr;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    static h2o_generator_t generator = {NULL, NULL};
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")))
        return -1;
    if (!h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/x")))
        return -1;
    /* a POST body (req->entity) is complete and within the limit here */
    h2o_iovec_t buf = h2o_iovec_init(body, sizeof body - 1);
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = buf.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_start_response(req, &generator);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
    return 0;
}

struct worker {
    pthread_t th;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
};

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock != NULL)
        h2o_accept(listener->data, sock);
}

static void *loop(void *arg)
{
    struct worker *w = arg;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0) {
        perror("hello_h2o: listen");
        exit(1);
    }
    h2o_context_init(&w->ctx, h2o_evloop_create(), &config);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = config.hosts;
    h2o_socket_t *sock = h2o_evloop_socket_create(w->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = &w->accept_ctx;
    h2o_socket_read_start(sock, on_accept);
    while (h2o_evloop_run(w->ctx.loop, INT32_MAX) == 0)
        ;
    return NULL;
}

int main(int argc, char **argv)
{
    int port = hello_port(argc, argv);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    signal(SIGPIPE, SIG_IGN);

    h2o_config_init(&config);
    config.max_request_entity_size = HELLO_MAX_BODY;
    config.http1.req_timeout = HELLO_TIMEOUT_S * 1000;
    config.http2.idle_timeout = HELLO_TIMEOUT_S * 1000;
    h2o_hostconf_t *host =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/x", 0);
    h2o_handler_t *h = h2o_create_handler(path, sizeof *h);
    h->on_req = on_req;

    static struct worker workers[HELLO_THREADS];
    for (int i = 0; i < HELLO_THREADS; i++)
        if (pthread_create(&workers[i].th, NULL, loop, &workers[i]) != 0)
            return 1;
    printf("hello_h2o listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    for (int i = 0; i < HELLO_THREADS; i++)
        pthread_join(workers[i].th, NULL);
    return 0;
}
