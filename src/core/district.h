/*
 * district.h - a city's district boundaries (W2): parsing them from
 * GeoJSON (RFC 7946), and finding which district holds a point.
 *
 * The file format is described in docs/districts.md. In short: a
 * FeatureCollection of Polygon or MultiPolygon features in WGS84 lon/lat,
 * each with properties {"district": ID, "name": TEXT, "routes": {...}}.
 * This module owns the geometry and the features' properties as written;
 * what the routes mean (which agency takes which service) is route.h's.
 *
 * Parsing is strict and all-or-nothing: the first fault fails the whole
 * set with the feature's index and what is wrong, and nothing of it is
 * left. The text comes from the caller: core reads no files.
 *
 * Geometry is GEOS's (C API, the reentrant _r functions). A set owns one
 * GEOS context, its prepared geometries and an STRtree of their boxes.
 * GEOS 3.11 (Debian 12) does not make a prepared geometry safe to share
 * between threads (it builds its indexes lazily, on first use: GEOS issue
 * 825), nor a context or an STRtree (also built on first query). So
 * district_locate takes the set's mutex around its GEOS calls: a lookup
 * costs microseconds, far below what one request costs otherwise, and
 * every thread may call it on one shared set.
 */
#ifndef CIVIC_DISTRICT_H
#define CIVIC_DISTRICT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Limits on a districts file: beyond them it is refused, not truncated. */
#define DISTRICT_MAX_COUNT 10000          /* features */
#define DISTRICT_MAX_POINTS 5000000       /* positions in the whole file */
#define DISTRICT_MAX_ID 64                /* bytes of a district id */
#define DISTRICT_MAX_NAME 200             /* bytes of a district name */
#define DISTRICT_MAX_ROUTES 1000          /* routes of one district */
#define DISTRICT_MAX_FILE (256u << 20)    /* bytes of the file */

/* One route as the file writes it: the key (a service code, or the code of
 * the agency that takes the service by default) and the agency code that
 * takes it in this district. Not checked against a catalog here. */
typedef struct {
    const char *key;
    const char *agency_code;
} district_route;

typedef struct {
    const char *id;   /* "district": short, stable, e.g. "BK01" */
    const char *name; /* "name": as people say it; NULL if none */
    size_t index;     /* the feature's index in the file's features array */
    district_route *routes; /* in the order written */
    size_t nroutes;
} district;

typedef struct district_set district_set;

/*
 * Parses a districts file held in text[0..len) (it need not end in NUL).
 * label names the file in error messages ("districts.geojson"). On success
 * *out owns everything and the caller frees it with district_set_free; on
 * failure *out is NULL and err says, for instance,
 *   "districts.geojson: features[3] (BK02): polygon 0 ring 1 is not closed".
 * Checks: a FeatureCollection; each feature a Feature with a Polygon or
 * MultiPolygon; rings of at least 4 positions, closed, each position 2 or 3
 * numbers with longitude in [-180, 180] and latitude in [-90, 90]; a valid
 * polygon by GEOS (no self-intersection, holes inside their shell...);
 * unique district ids; no two districts whose insides overlap (they may
 * share edges and corners); properties as docs/districts.md says.
 */
err_code district_set_parse(const char *text, size_t len, const char *label,
                            district_set **out, err_t *err);
void district_set_free(district_set *s);

size_t district_set_count(const district_set *s);
/* The i-th district, in file order (i < district_set_count). */
const district *district_set_get(const district_set *s, size_t i);

/* Sentinel for "no district". */
#define DISTRICT_NONE ((size_t)-1)

/*
 * The district holding the point (lon, lat), as an index for
 * district_set_get, or DISTRICT_NONE when no district covers it.
 *
 * The boundary rule: a district covers the points inside it and on its
 * boundary (its outer edges and its holes' edges). A point that two or more
 * districts cover (on an edge or a corner they share) goes to the one that
 * comes first in the file. Insides never overlap (checked at parse), so
 * that is the only case with a choice.
 *
 * Safe to call from any number of threads at once on one set. Fails only
 * when GEOS does (out of memory); the message names no coordinate.
 */
err_code district_locate(district_set *s, double lon, double lat, size_t *index, err_t *err);

#endif
