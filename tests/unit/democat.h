/*
 * democat.h - the demo catalog (data/demo/catalog.json, embedded in the
 * binary as build/gen/demo_catalog.c), read through the project's own
 * importer, for unit tests that check something against every demo
 * service.
 */
#ifndef CIVIC_TEST_DEMOCAT_H
#define CIVIC_TEST_DEMOCAT_H

#include <stdio.h>

#include "core/catalog.h"
#include "open311/o311_catalog.h"

extern const char demo_catalog_json[];
extern const size_t demo_catalog_json_len;

/* NULL (after saying why on stderr) if it cannot be read. */
static inline catalog *demo_catalog(void)
{
    catalog *c = catalog_new();
    err_t err;
    if (c != NULL &&
        o311_catalog_read(c, demo_catalog_json, demo_catalog_json_len, NULL, &err) != ERR_OK) {
        fprintf(stderr, "demo catalog: %s\n", err.msg);
        catalog_free(c);
        return NULL;
    }
    return c;
}

#endif
