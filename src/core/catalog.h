/*
 * catalog.h - the service catalog (W1): agencies, services, and the
 * questions (Open311 attributes) each service asks.
 *
 * A catalog is built once (from the store, or from an Open311 document by
 * the importer) and then only read: the server shares one catalog between
 * all its threads without locks. Everything in it lives in the catalog's
 * own pool and goes with catalog_free().
 *
 * Pure domain code: no I/O, no SQL, no HTTP.
 */
#ifndef CIVIC_CATALOG_H
#define CIVIC_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/pool.h"

typedef enum {
    ATTR_STRING,          /* one line of text */
    ATTR_NUMBER,          /* a decimal number */
    ATTR_DATETIME,        /* an ISO 8601 date-time */
    ATTR_TEXT,            /* text that may hold line breaks */
    ATTR_SINGLEVALUELIST, /* one key of values[] */
    ATTR_MULTIVALUELIST   /* one or more keys of values[] */
} attr_type;

typedef enum {
    SERVICE_REALTIME, /* the id is returned at once */
    SERVICE_BATCH,    /* a token is returned; tokens/{token} gives the id later */
    SERVICE_BLACKBOX  /* nothing is returned but an acknowledgement */
} service_type;

typedef struct {
    const char *key;  /* what a client sends */
    const char *name; /* what a person reads */
} attr_value;

typedef struct {
    const char *code;
    bool variable; /* false: information shown to the user, not a question */
    attr_type datatype;
    bool required;
    const char *datatype_description; /* NULL if none */
    int order;                        /* 1 is shown first; 0 = unspecified */
    const char *description;          /* the question, as a person reads it */
    attr_value *values;               /* list types only */
    size_t nvalues;
} attribute;

typedef struct {
    const char *code; /* short and stable, e.g. "DOT" */
    const char *name; /* as written in agency_responsible */
} agency;

typedef struct {
    const char *code;
    const char *name;
    const char *description; /* NULL if none */
    service_type type;
    const char *keywords; /* comma-separated, NULL if none */
    const char *group;    /* NULL if none */
    const char *agency_code; /* responsible agency (W2 routing by service); NULL = none */
    const char *service_notice; /* returned on create; NULL if none */
    int64_t sla_seconds;        /* expected time to close; 0 = no SLA */
    attribute *attrs;           /* sorted by order, then code */
    size_t nattrs;
} service;

struct route_table; /* core/route.h */

typedef struct catalog {
    pool_t *pool;
    agency *agencies;
    size_t nagencies;
    service *services; /* in the order they were added */
    size_t nservices;
    size_t cap_agencies, cap_services;
    /* Routing by area (W2, core/route.h): the city's districts, or NULL to
     * route by service only. Borrowed: whoever sets it (serve, at start,
     * before any thread) frees it after the catalog's last use. It sits
     * here because every channel's intake already holds the catalog, so a
     * new channel routes by area without anyone remembering to. */
    const struct route_table *routes;
} catalog;

/* Returns a new empty catalog, or NULL when out of memory. */
catalog *catalog_new(void);
void catalog_free(catalog *c);

/* Copies a (and all its strings) into the catalog. Duplicate codes are
 * ERR_CONFLICT. */
err_code catalog_add_agency(catalog *c, const agency *a, err_t *err);

/* Copies s, its attributes and values into the catalog, after checking it
 * (see service_check). Duplicate codes are ERR_CONFLICT. */
err_code catalog_add_service(catalog *c, const service *s, err_t *err);

/* Replaces the service with the same code, or adds it. */
err_code catalog_put_service(catalog *c, const service *s, err_t *err);

const service *catalog_find_service(const catalog *c, const char *code);
const agency *catalog_find_agency(const catalog *c, const char *code);
const attribute *service_find_attr(const service *s, const char *code);

/* True if the service has attributes (Open311 "metadata"). */
bool service_has_metadata(const service *s);

/*
 * Checks that a service definition makes sense before it enters a catalog:
 * non-empty code and name (code without '/', whitespace or control
 * characters, at most 64 bytes, since it appears in URLs); unique attribute
 * codes; list types with at least one value and unique keys; non-list
 * types with no values; an SLA that is not negative; and no attribute that
 * asks for an age or a date of birth (P1).
 */
err_code service_check(const service *s, err_t *err);

/* True if the question asks for an age or a date of birth (P1), in
 * English or Spanish: by its code, texts or choices. */
bool attribute_asks_age(const attribute *a);

const char *attr_type_name(attr_type t);
bool attr_type_parse(const char *s, attr_type *out);
const char *service_type_name(service_type t);
bool service_type_parse(const char *s, service_type *out);

#endif
