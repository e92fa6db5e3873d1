/*
 * readers.c - the thread-local read connections of readers.h.
 */
#include "store/readers.h"

static void reader_close(void *p)
{
    store_close(p);
}

err_code store_readers_init(store_readers *r, err_t *err)
{
    if (pthread_key_create(&r->key, reader_close) != 0)
        return err_set(err, ERR_NOMEM, "cannot create a thread key");
    r->created = true;
    return ERR_OK;
}

void store_readers_destroy(store_readers *r)
{
    if (r->created) {
        pthread_key_delete(r->key);
        r->created = false;
    }
}

store_t *store_readers_get(store_readers *r, err_t *err)
{
    store_t *s = pthread_getspecific(r->key);
    if (s != NULL)
        return s;
    if (store_open(&r->opt, &s, err) != ERR_OK)
        return NULL;
    if (pthread_setspecific(r->key, s) != 0) {
        store_close(s);
        err_set(err, ERR_NOMEM, "cannot keep the store connection");
        return NULL;
    }
    return s;
}
