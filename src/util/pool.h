/*
 * pool.h - a memory pool per unit of work (an HTTP request, a CLI command).
 *
 * As in nginx (ngx_pool_t) and h2o (h2o_mem_pool_t): everything decoded or
 * built while serving one request is allocated from its pool and freed in one
 * go by pool_free(). Nothing allocated from a pool is ever passed to free().
 *
 * Every allocator returns NULL when memory runs out; callers check.
 * A pool is not thread-safe: one pool, one thread at a time.
 */
#ifndef CIVIC_POOL_H
#define CIVIC_POOL_H

#include <stddef.h>

typedef struct pool pool_t;

pool_t *pool_new(void);      /* NULL on out of memory */
void pool_free(pool_t *p);   /* frees the pool and all it handed out */

void *pool_alloc(pool_t *p, size_t n);  /* aligned for any type */
void *pool_calloc(pool_t *p, size_t count, size_t size);
char *pool_strdup(pool_t *p, const char *s);         /* NULL in, NULL out */
char *pool_strndup(pool_t *p, const char *s, size_t n); /* copies n bytes, adds NUL */

/* Grows an array allocated from the pool: returns a new copy with room for
 * new_count elements (old contents copied). The old block is not reclaimed
 * until the pool is freed, so grow geometrically. */
void *pool_realloc_array(pool_t *p, void *old, size_t old_count, size_t new_count,
                         size_t size);

/* For an array of n elements with room for *cap: returns arr itself if
 * element n fits, else a copy with twice the room (8 at first) and *cap
 * updated; NULL when out of memory (arr and *cap unchanged). */
void *pool_grow(pool_t *p, void *arr, size_t n, size_t *cap, size_t size);

#endif
