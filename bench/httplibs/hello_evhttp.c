/* Hello server on libevent's evhttp: GET /x answers the shared JSON body.
 * Mode: evhttp is single-threaded per event_base, so the usual multi-core
 * set-up is one event_base + evhttp per thread, each with its own listener
 * on the same port (SO_REUSEPORT; the kernel spreads connections).
 * Settings as Civic311 would use them: evhttp_set_timeout(HELLO_TIMEOUT_S),
 * evhttp_set_max_body_size(HELLO_MAX_BODY), 8 KiB of headers at most. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"

static const char body[] = HELLO_BODY;

static void handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
    if (strcmp(evhttp_request_get_uri(req), "/x") != 0) {
        evhttp_send_error(req, HTTP_NOTFOUND, NULL);
        return;
    }
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_POST) {
        evhttp_send_error(req, HTTP_BADMETHOD, NULL);
        return;
    }
    /* a POST body is already complete (and within the limit) here */
    evhttp_add_header(hdr, "Content-Type", "application/json");
    evbuffer_add_reference(out, body, sizeof body - 1, NULL, NULL);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static struct sockaddr_in addr;

static void *loop(void *arg)
{
    (void)arg;
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    struct evconnlistener *lst =
        http ? evconnlistener_new_bind(base, NULL, NULL,
                                       LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT |
                                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                       -1, (struct sockaddr *)&addr, sizeof addr)
             : NULL;
    if (lst == NULL || evhttp_bind_listener(http, lst) == NULL) {
        fprintf(stderr, "hello_evhttp: set-up failed\n");
        exit(1);
    }
    evhttp_set_timeout(http, HELLO_TIMEOUT_S);
    evhttp_set_max_body_size(http, HELLO_MAX_BODY);
    evhttp_set_max_headers_size(http, 8192);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(http, handler, NULL);
    event_base_dispatch(base);
    return NULL;
}

int main(int argc, char **argv)
{
    int port = hello_port(argc, argv);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    signal(SIGPIPE, SIG_IGN);

    pthread_t th[HELLO_THREADS];
    for (int i = 0; i < HELLO_THREADS; i++)
        if (pthread_create(&th[i], NULL, loop, NULL) != 0)
            return 1;
    printf("hello_evhttp listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    for (int i = 0; i < HELLO_THREADS; i++)
        pthread_join(th[i], NULL);
    return 0;
}
