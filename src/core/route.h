/*
 * route.h - which agency takes a request (W2): by service, and by area
 * where the city has configured district boundaries (district.h).
 *
 * The decision, for a request of service S whose catalog agency is A:
 *   1. no route table, or no point (the request has only an address): A;
 *   2. the point is in no district: A, and no district;
 *   3. the point is in district D (a point on a boundary that D shares
 *      with others goes to the district first in the file): D's route for
 *      S if it has one, else D's route for A if it has one, else A; the
 *      district is D either way.
 * So a district's routes can move one service ("DOT-POTHOLE": "DOT-BK")
 * or everything an agency takes by default ("DSNY": "DSNY-BK01").
 *
 * A route table is built once, checked against the catalog, and then only
 * read: every thread may use one table at once (district_locate locks what
 * GEOS needs locked). Pure domain code: no I/O, no SQL, no HTTP.
 */
#ifndef CIVIC_ROUTE_H
#define CIVIC_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/catalog.h"
#include "core/district.h"
#include "util/err.h"

typedef struct route_table route_table;

/*
 * Takes the district set (freed with the table, or at once on failure) and
 * checks every route against cat: each key is a service code or an agency
 * code of the catalog (not both: that would be ambiguous), each value an
 * agency code of the catalog. The first fault fails it, naming the file
 * (label), the feature and the code. The table copies what it keeps of
 * the catalog: it does not borrow cat.
 */
err_code route_table_new(district_set *districts_take, const catalog *cat, const char *label,
                         route_table **out, err_t *err);
void route_table_free(route_table *rt);

/* The table's districts (not const: a lookup takes the set's lock). */
district_set *route_table_districts(const route_table *rt);

/* What one route key or value names that the catalog lacks, for
 * `civic311 districts check`: called once per unknown code. */
typedef void (*route_unknown_fn)(const district *d, const char *code, bool is_key, void *arg);
/* Calls fn for every key that is neither a service nor an agency code,
 * every key that is both, and every value that is not an agency code.
 * Returns how many it found. */
size_t route_check_codes(const district_set *ds, const catalog *cat, route_unknown_fn fn,
                         void *arg);

typedef struct {
    const char *agency_code; /* NULL when the service has no agency and no route names one */
    const char *district;    /* the district's id; NULL when none holds the point */
    bool by_area;            /* a district's route chose the agency */
} route_result;

/*
 * Decides for service svc (from the catalog the table was checked
 * against) and, when has_point, the point (lat, lon) in WGS84 degrees.
 * rt may be NULL: routing by service only. The strings in *out live as
 * long as rt and the catalog. Fails only when GEOS does.
 */
err_code route_decide(const route_table *rt, const service *svc, bool has_point, double lat,
                      double lon, route_result *out, err_t *err);

#endif
