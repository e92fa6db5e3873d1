/*
 * readers.h - one read-only store connection per server thread, opened on
 * the thread's first read and closed when the thread exits. SQLite
 * connections must not be shared between threads without a lock, and a
 * connection per request would pay its open (and statement preparation)
 * every time; a thread-local one costs neither.
 */
#ifndef CIVIC_STORE_READERS_H
#define CIVIC_STORE_READERS_H

#include <pthread.h>
#include <stdbool.h>

#include "store/store.h"

typedef struct {
    store_options opt; /* set before store_readers_init: how each thread opens its own */

    /* Private. */
    pthread_key_t key;
    bool created;
} store_readers;

err_code store_readers_init(store_readers *r, err_t *err);
/* Threads that read have exited (their connections were closed with
 * them); the calling thread never opened one. */
void store_readers_destroy(store_readers *r);

/* This thread's connection, opened on first use; NULL with *err set. */
store_t *store_readers_get(store_readers *r, err_t *err);

#endif
