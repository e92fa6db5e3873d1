/*
 * pool.c - a chain of blocks with bump allocation. Large allocations get a
 * block of their own so the common small case stays a pointer bump.
 */
#include "util/pool.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POOL_BLOCK 8192

/* Under AddressSanitizer every allocation gets a block of its own, of
 * exactly the size asked for, so that an overflow past one allocation hits
 * ASan's redzone instead of the next allocation in a shared block (the
 * fuzzers and the test build would not see it otherwise). */
#if defined(__SANITIZE_ADDRESS__)
#define POOL_SHARE_BLOCKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_SHARE_BLOCKS 0
#endif
#endif
#ifndef POOL_SHARE_BLOCKS
#define POOL_SHARE_BLOCKS 1
#endif

struct pool_block {
    struct pool_block *next;
    size_t used;
    size_t size;
    alignas(max_align_t) unsigned char data[];
};

struct pool {
    struct pool_block *head;
};

pool_t *pool_new(void)
{
    return calloc(1, sizeof(pool_t));
}

void pool_free(pool_t *p)
{
    if (p == NULL)
        return;
    struct pool_block *b = p->head;
    while (b != NULL) {
        struct pool_block *next = b->next;
        free(b);
        b = next;
    }
    free(p);
}

static struct pool_block *pool_block_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(struct pool_block))
        return NULL;
    struct pool_block *b = malloc(sizeof(struct pool_block) + size);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->used = 0;
    b->size = size;
    return b;
}

void *pool_alloc(pool_t *p, size_t n)
{
    const size_t align = alignof(max_align_t);
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - align)
        return NULL;
    if (!POOL_SHARE_BLOCKS) {
        struct pool_block *own = pool_block_new(n); /* exact size: see above */
        if (own == NULL)
            return NULL;
        own->used = n;
        own->next = p->head;
        p->head = own;
        return own->data;
    }
    n = (n + align - 1) & ~(align - 1);

    struct pool_block *b = p->head;
    if (b != NULL && b->size - b->used >= n) {
        void *r = b->data + b->used;
        b->used += n;
        return r;
    }
    if (n > POOL_BLOCK / 4) {
        /* A big one: its own block, linked behind the current head so the
         * head's free space stays usable for small allocations. */
        struct pool_block *big = pool_block_new(n);
        if (big == NULL)
            return NULL;
        big->used = n;
        if (b == NULL) {
            p->head = big;
        } else {
            big->next = b->next;
            b->next = big;
        }
        return big->data;
    }
    struct pool_block *nb = pool_block_new(POOL_BLOCK);
    if (nb == NULL)
        return NULL;
    nb->next = b;
    p->head = nb;
    nb->used = n;
    return nb->data;
}

void *pool_calloc(pool_t *p, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *r = pool_alloc(p, count * size);
    if (r != NULL)
        memset(r, 0, count * size);
    return r;
}

char *pool_strndup(pool_t *p, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    if (n == SIZE_MAX)
        return NULL;
    char *r = pool_alloc(p, n + 1);
    if (r == NULL)
        return NULL;
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

char *pool_strdup(pool_t *p, const char *s)
{
    if (s == NULL)
        return NULL;
    return pool_strndup(p, s, strlen(s));
}

void *pool_realloc_array(pool_t *p, void *old, size_t old_count, size_t new_count,
                         size_t size)
{
    if (size != 0 && new_count > SIZE_MAX / size)
        return NULL;
    void *r = pool_alloc(p, new_count * size);
    if (r != NULL && old != NULL && old_count > 0)
        memcpy(r, old, (old_count < new_count ? old_count : new_count) * size);
    return r;
}

void *pool_grow(pool_t *p, void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *na = pool_realloc_array(p, arr, n, ncap, size);
    if (na != NULL)
        *cap = ncap;
    return na;
}
