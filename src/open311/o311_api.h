/*
 * o311_api.h - the Open311 GeoReport v2 endpoints under /open311/v2/:
 * discovery, services, services/{code}, requests (GET, POST),
 * requests/{id}, tokens/{token}, and mySociety's servicerequestupdates,
 * each as .json and .xml.
 *
 * A thin adapter: it decodes (o311_params), asks the core (intake) and the
 * store, and writes (o311_write). Reads use a store connection per server
 * thread; writes go through the group-commit queue, and the reply to a
 * POST is sent only once the request is durable (Q1). A reporter's
 * personal fields go to the privacy engine's vault, sealed, in the same
 * transaction as the request; no handler here ever reads them back.
 */
#ifndef CIVIC_O311_API_H
#define CIVIC_O311_API_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/catalog.h"
#include "http/server.h"
#include "open311/o311_write.h"
#include "privacy/keyring.h"
#include "store/commitq.h"
#include "store/readers.h"
#include "store/store.h"

#define O311_PREFIX "/open311/v2/"

typedef struct {
    /* Set by the caller before o311_api_init; borrowed, must outlive it. */
    const catalog *cat;
    commitq_t *writer;
    const keyring_t *keys;    /* the privacy engine seals reporters' data with it */
    store_readers readers;    /* readers.opt: how each thread opens its read connection */
    o311_discovery discovery;
    const char *jurisdiction_id;
    int64_t (*now)(void);

} o311_api;

err_code o311_api_init(o311_api *api, err_t *err);
void o311_api_destroy(o311_api *api);

/* Handles a request whose path starts with O311_PREFIX. */
void o311_api_handle(http_req_t *req, o311_api *api);

/* Answers req with an Open311 error document, in the format its path asks
 * for (.json or .xml; else the Accept header; else XML): for refusals that
 * happen before a handler runs, such as a body over the limit. */
void o311_api_error(http_req_t *req, int status, const char *message);

#endif
