/*
 * sqlite.h - what the SQLite backend shows beyond its function table
 * (store_sqlite_backend in store_backend.h). Only tests use it: they ask
 * for the SQL a search or a privacy lookup would run and check its query
 * plan. No SQLite type appears here.
 */
#ifndef CIVIC_STORE_SQLITE_H
#define CIVIC_STORE_SQLITE_H

#include <stdbool.h>

#include "core/query.h"
#include "store/store_backend.h"
#include "util/err.h"

/* The name of the SQL function the searches use for radius filters:
 * DISTANCE(lat1, lon1, lat2, lon2) in metres, as geo_distance_m. */
#define STORE_SQLITE_DISTANCE_FN "civic_distance_m"

/* The SQL text store_request_search would prepare for q (parameters left
 * as '?'). q must be valid (store.c checks it). The caller frees *sql. */
err_code store_sqlite_search_sql(const sr_query *q, char **sql, err_t *err);

/* The privacy engine's lookups whose plans matter as the tables grow. */
typedef enum {
    STORE_SQLITE_PERSONAL_DUE_CLOSED, /* store_personal_due, by_close */
    STORE_SQLITE_PERSONAL_DUE_COLLECTED,
    STORE_SQLITE_BLOB_DUE_CLOSED, /* store_blob_due, by_close */
    STORE_SQLITE_BLOB_DUE_CREATED,
    STORE_SQLITE_BLOB_ORPHANS,
    STORE_SQLITE_BLIND_FIND,
} store_sqlite_lookup;

/* The SQL text the backend prepares for one of them (static). */
const char *store_sqlite_lookup_sql(store_sqlite_lookup which);

/* The SQL text the agency queue prepares for one agency and one part of q
 * (sqlite_lifecycle.c): a page, or with count_only the COUNT(*). q must
 * be normalised as store.c hands it to the backend. The caller frees
 * *sql. */
err_code store_sqlite_queue_sql(const store_queue_query *q, const char *agency_code,
                                store_queue_part part, bool count_only, char **sql, err_t *err);

#endif
