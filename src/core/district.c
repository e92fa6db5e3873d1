/*
 * district.c - district boundaries from GeoJSON, and the point-in-district
 * lookup, on GEOS (W2).
 *
 * Owns: the strict GeoJSON parse (jansson), the GEOS geometries built from
 * it, their prepared forms and the STRtree of their boxes. Never reads a
 * file and never logs: errors are values, and a message names the file,
 * the feature and the fault, never a resident's coordinates (lookups say
 * nothing about the point they were given).
 *
 * Why the parse checks so much itself before GEOS sees a ring: GEOS throws
 * on an unclosed or short ring with a message that names no feature, and
 * the C API's ownership of a coordinate sequence after such a throw is not
 * documented. Checked first, GEOS is only asked to build what is valid.
 */
#include "core/district.h"

#define GEOS_USE_ONLY_R_API /* the context-free API is not thread-safe */
#include <geos_c.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/pool.h"

struct district_set {
    pool_t *pool; /* the districts' strings and arrays */
    district *items;
    size_t n;
    GEOSContextHandle_t geos;
    GEOSGeometry **geoms;                    /* one per district, owned */
    const GEOSPreparedGeometry **prepared;   /* one per district, owned */
    GEOSSTRtree *tree;                       /* items are &items[i] */
    pthread_mutex_t lock;                    /* around every GEOS call after the parse */
    bool lock_ready;
    char geos_msg[128]; /* GEOS's last error, for our own message */
};

/* GEOS reports errors through a handler, once per context. Its text names
 * geometry of the city's file at most, never a lookup's point (lookups
 * build no geometry GEOS could complain about but the point itself, and
 * the message is never shown for them). */
static void geos_error(const char *message, void *userdata)
{
    district_set *s = userdata;
    snprintf(s->geos_msg, sizeof s->geos_msg, "%s", message ? message : "");
}

static void geos_notice(const char *message, void *userdata)
{
    (void)message;
    (void)userdata; /* notices (e.g. from isValid) are returned to us as values instead */
}

/* The parse's state: where we are, for messages. */
typedef struct {
    district_set *s;
    const char *label;
    size_t index;       /* feature index */
    const char *id;     /* its district id once known, else NULL */
    size_t points;      /* positions so far, over the whole file */
    err_t *err;
} parse_ctx;

/* "label: features[3] (BK02): what". Every message of a feature goes
 * through here, so each names the file and the feature alike. */
static err_code feature_fail(parse_ctx *p, err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static err_code feature_fail(parse_ctx *p, err_code code, const char *fmt, ...)
{
    char what[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (p->id != NULL)
        return err_set(p->err, code, "%s: features[%zu] (%s): %s", p->label, p->index, p->id,
                       what);
    return err_set(p->err, code, "%s: features[%zu]: %s", p->label, p->index, what);
}

/* A code as the catalog writes its codes: printable, no spaces or '/', at
 * most DISTRICT_MAX_ID bytes, so it is safe to print, store and put in a URL. */
static bool code_ok(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || n > DISTRICT_MAX_ID)
        return false;
    for (const unsigned char *q = (const unsigned char *)c; *q; q++)
        if (*q <= 0x20 || *q == 0x7f || *q == '/' || *q == '"' || *q == '\\')
            return false;
    return true;
}

static bool text_ok(const char *t, size_t max)
{
    if (strlen(t) > max)
        return false;
    for (const unsigned char *q = (const unsigned char *)t; *q; q++)
        if (*q < 0x20 || *q == 0x7f)
            return false;
    return true;
}

/* ---- geometry ---- */

/* One ring: an array of at least 4 positions, the last equal to the first.
 * Returns a GEOS linear ring, owned by the caller. */
static err_code parse_ring(parse_ctx *p, json_t *ring, size_t poly, size_t r,
                           GEOSGeometry **out)
{
    *out = NULL;
    if (!json_is_array(ring))
        return feature_fail(p, ERR_INVALID, "polygon %zu ring %zu is not an array of positions",
                            poly, r);
    size_t n = json_array_size(ring);
    if (n < 4)
        return feature_fail(p, ERR_INVALID,
                            "polygon %zu ring %zu has %zu positions: a ring needs at least 4 "
                            "(the last repeating the first)",
                            poly, r, n);
    if (n > DISTRICT_MAX_POINTS - p->points)
        return feature_fail(p, ERR_TOO_LARGE, "the file has more than %d positions",
                            DISTRICT_MAX_POINTS);
    p->points += n;
    double *xy = malloc(n * 2 * sizeof *xy);
    if (xy == NULL)
        return err_set(p->err, ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        json_t *pos = json_array_get(ring, k);
        size_t dims = json_is_array(pos) ? json_array_size(pos) : 0;
        json_t *lon = json_array_get(pos, 0), *lat = json_array_get(pos, 1);
        if ((dims != 2 && dims != 3) || !json_is_number(lon) || !json_is_number(lat) ||
            (dims == 3 && !json_is_number(json_array_get(pos, 2)))) {
            free(xy);
            return feature_fail(p, ERR_INVALID,
                                "polygon %zu ring %zu position %zu is not [longitude, latitude] "
                                "(numbers, an altitude may follow)",
                                poly, r, k);
        }
        double x = json_number_value(lon), y = json_number_value(lat);
        if (!isfinite(x) || !isfinite(y) || x < -180.0 || x > 180.0 || y < -90.0 || y > 90.0) {
            free(xy);
            return feature_fail(p, ERR_INVALID,
                                "polygon %zu ring %zu position %zu is out of range: longitude "
                                "must be in [-180, 180] and latitude in [-90, 90], longitude "
                                "first (WGS84)",
                                poly, r, k);
        }
        xy[2 * k] = x;
        xy[2 * k + 1] = y;
    }
    if (xy[0] != xy[2 * (n - 1)] || xy[1] != xy[2 * (n - 1) + 1]) {
        free(xy);
        return feature_fail(p, ERR_INVALID,
                            "polygon %zu ring %zu is not closed: its last position must repeat "
                            "its first",
                            poly, r);
    }
    GEOSContextHandle_t g = p->s->geos;
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(g, xy, (unsigned)n, 0, 0);
    free(xy);
    if (seq != NULL)
        *out = GEOSGeom_createLinearRing_r(g, seq); /* takes seq */
    if (*out == NULL)
        return feature_fail(p, ERR_NOMEM, "GEOS could not build polygon %zu ring %zu", poly, r);
    return ERR_OK;
}

/* One polygon: [shell, hole, hole...]. */
static err_code parse_polygon(parse_ctx *p, json_t *rings, size_t poly, GEOSGeometry **out)
{
    *out = NULL;
    if (!json_is_array(rings) || json_array_size(rings) == 0)
        return feature_fail(p, ERR_INVALID,
                            "polygon %zu must be an array of rings (its outer ring, then holes)",
                            poly);
    size_t n = json_array_size(rings);
    GEOSGeometry **r = calloc(n, sizeof *r);
    if (r == NULL)
        return err_set(p->err, ERR_NOMEM, "out of memory");
    err_code rc = ERR_OK;
    for (size_t i = 0; i < n && rc == ERR_OK; i++)
        rc = parse_ring(p, json_array_get(rings, i), poly, i, &r[i]);
    if (rc == ERR_OK) {
        *out = GEOSGeom_createPolygon_r(p->s->geos, r[0], n > 1 ? r + 1 : NULL,
                                        (unsigned)(n - 1)); /* takes the rings */
        if (*out == NULL)
            rc = feature_fail(p, ERR_NOMEM, "GEOS could not build polygon %zu", poly);
        else
            memset(r, 0, n * sizeof *r);
    }
    for (size_t i = 0; i < n; i++)
        if (r[i] != NULL)
            GEOSGeom_destroy_r(p->s->geos, r[i]);
    free(r);
    return rc;
}

static err_code parse_geometry(parse_ctx *p, json_t *geom, GEOSGeometry **out)
{
    *out = NULL;
    const char *type = json_string_value(json_object_get(geom, "type"));
    json_t *coords = json_object_get(geom, "coordinates");
    if (!json_is_object(geom) || type == NULL)
        return feature_fail(p, ERR_INVALID, "geometry must be a Polygon or MultiPolygon object");
    if (strcmp(type, "Polygon") == 0)
        return parse_polygon(p, coords, 0, out);
    if (strcmp(type, "MultiPolygon") != 0)
        return feature_fail(p, ERR_INVALID,
                            "geometry is a %.20s: a district is a Polygon or MultiPolygon", type);
    if (!json_is_array(coords) || json_array_size(coords) == 0)
        return feature_fail(p, ERR_INVALID, "MultiPolygon coordinates must be a non-empty array "
                                            "of polygons");
    size_t n = json_array_size(coords);
    GEOSGeometry **polys = calloc(n, sizeof *polys);
    if (polys == NULL)
        return err_set(p->err, ERR_NOMEM, "out of memory");
    err_code rc = ERR_OK;
    for (size_t i = 0; i < n && rc == ERR_OK; i++)
        rc = parse_polygon(p, json_array_get(coords, i), i, &polys[i]);
    if (rc == ERR_OK) {
        *out = GEOSGeom_createCollection_r(p->s->geos, GEOS_MULTIPOLYGON, polys, (unsigned)n);
        if (*out == NULL)
            rc = feature_fail(p, ERR_NOMEM, "GEOS could not build the MultiPolygon");
        else
            memset(polys, 0, n * sizeof *polys); /* the collection took them */
    }
    for (size_t i = 0; i < n; i++)
        if (polys[i] != NULL)
            GEOSGeom_destroy_r(p->s->geos, polys[i]);
    free(polys);
    return rc;
}

/* GEOS's validity (OGC simple features): a ring that crosses itself, a hole
 * outside its shell, two polygons of a MultiPolygon that overlap... A
 * self-intersecting district would answer "inside?" differently for
 * points the city's map shows as inside, so it is refused, with where. */
static err_code check_valid(parse_ctx *p, const GEOSGeometry *g)
{
    char *reason = NULL;
    GEOSGeometry *where = NULL;
    char v = GEOSisValidDetail_r(p->s->geos, g, 0, &reason, &where);
    err_code rc = ERR_OK;
    if (v == 0) {
        double x = 0, y = 0;
        bool at = where != NULL && GEOSGeomGetX_r(p->s->geos, where, &x) == 1 &&
                  GEOSGeomGetY_r(p->s->geos, where, &y) == 1;
        if (at)
            rc = feature_fail(p, ERR_INVALID, "invalid polygon (GEOS): %.60s near [%.7g, %.7g]",
                              reason ? reason : "?", x, y);
        else
            rc = feature_fail(p, ERR_INVALID, "invalid polygon (GEOS): %.60s",
                              reason ? reason : "?");
    } else if (v != 1) {
        rc = feature_fail(p, ERR_INTERNAL, "GEOS could not check the polygon: %.60s",
                          p->s->geos_msg);
    }
    if (reason != NULL)
        GEOSFree_r(p->s->geos, reason);
    if (where != NULL)
        GEOSGeom_destroy_r(p->s->geos, where);
    return rc;
}

/* ---- properties ---- */

static err_code add_route(parse_ctx *p, district *d, const char *key, json_t *v, size_t *cap)
{
    if (!code_ok(key))
        return feature_fail(p, ERR_INVALID,
                            "a route's key must be a service or agency code (1-%d characters, "
                            "no spaces or '/')",
                            DISTRICT_MAX_ID);
    if (!json_is_string(v) || !code_ok(json_string_value(v)))
        return feature_fail(p, ERR_INVALID, "route %s must name an agency code (text)", key);
    for (size_t i = 0; i < d->nroutes; i++)
        if (strcmp(d->routes[i].key, key) == 0)
            return feature_fail(p, ERR_INVALID, "route %s is given twice", key);
    if (d->nroutes == DISTRICT_MAX_ROUTES)
        return feature_fail(p, ERR_TOO_LARGE, "more than %d routes", DISTRICT_MAX_ROUTES);
    district_route *grown =
        pool_grow(p->s->pool, d->routes, d->nroutes, cap, sizeof *d->routes);
    if (grown == NULL)
        return err_set(p->err, ERR_NOMEM, "out of memory");
    d->routes = grown;
    district_route *r = &d->routes[d->nroutes];
    r->key = pool_strdup(p->s->pool, key);
    r->agency_code = pool_strdup(p->s->pool, json_string_value(v));
    if (r->key == NULL || r->agency_code == NULL)
        return err_set(p->err, ERR_NOMEM, "out of memory");
    d->nroutes++;
    return ERR_OK;
}

/* {"district": "BK01", "name": "...", "routes": {"KEY": "AGENCY", ...}},
 * or the same routes as flat "route:KEY": "AGENCY" properties, which an
 * attribute table (a shapefile's, a GeoPackage's) can hold where it cannot
 * hold an object. A flat route that is null (an empty cell) is no route.
 * Other properties (a GIS export's area, shape length...) are left alone. */
static err_code parse_properties(parse_ctx *p, json_t *props, district *d)
{
    if (!json_is_object(props))
        return feature_fail(p, ERR_INVALID,
                            "properties must be an object with district, name and routes");
    json_t *id = json_object_get(props, "district");
    if (!json_is_string(id) || !code_ok(json_string_value(id)))
        return feature_fail(p, ERR_INVALID,
                            "properties.district must be the district's id: text, 1-%d "
                            "characters, no spaces or '/'",
                            DISTRICT_MAX_ID);
    d->id = pool_strdup(p->s->pool, json_string_value(id));
    if (d->id == NULL)
        return err_set(p->err, ERR_NOMEM, "out of memory");
    p->id = d->id;
    json_t *name = json_object_get(props, "name");
    if (name != NULL && !json_is_null(name)) {
        if (!json_is_string(name) || !text_ok(json_string_value(name), DISTRICT_MAX_NAME))
            return feature_fail(p, ERR_INVALID,
                                "properties.name must be one line of text, at most %d bytes",
                                DISTRICT_MAX_NAME);
        if ((d->name = pool_strdup(p->s->pool, json_string_value(name))) == NULL)
            return err_set(p->err, ERR_NOMEM, "out of memory");
    }
    size_t cap = 0;
    bool seen = false;
    json_t *routes = json_object_get(props, "routes");
    if (routes != NULL) {
        if (!json_is_object(routes))
            return feature_fail(p, ERR_INVALID,
                                "properties.routes must be an object: {\"service or agency "
                                "code\": \"agency code\"}");
        seen = true;
        const char *key;
        json_t *v;
        json_object_foreach(routes, key, v)
        {
            err_code rc = add_route(p, d, key, v, &cap);
            if (rc != ERR_OK)
                return rc;
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(props, key, v)
    {
        if (strncmp(key, "route:", 6) != 0)
            continue;
        seen = true;
        if (json_is_null(v))
            continue;
        err_code rc = add_route(p, d, key + 6, v, &cap);
        if (rc != ERR_OK)
            return rc;
    }
    /* A district without routes is allowed ({} sends every service to its
     * own agency), but one with neither form is most likely a misspelt
     * "routes", which would otherwise pass silently. */
    if (!seen)
        return feature_fail(p, ERR_INVALID,
                            "properties has no routes: give \"routes\": {...} (it may be {}) or "
                            "\"route:CODE\" properties");
    return ERR_OK;
}

/* ---- the collection ---- */

/* RFC 7946 dropped "crs": coordinates are WGS84 lon/lat. Older exports
 * (QGIS, ogr2ogr) still name it; those naming WGS84 are fine, any other
 * is refused rather than read as degrees. */
static bool crs_ok(json_t *crs)
{
    if (crs == NULL || json_is_null(crs))
        return true;
    const char *name = json_string_value(json_object_get(json_object_get(crs, "properties"), "name"));
    if (name == NULL)
        return false;
    return strcmp(name, "urn:ogc:def:crs:OGC:1.3:CRS84") == 0 ||
           strcmp(name, "urn:ogc:def:crs:OGC::CRS84") == 0 ||
           strcmp(name, "urn:ogc:def:crs:EPSG::4326") == 0 || strcmp(name, "EPSG:4326") == 0;
}

static err_code parse_feature(parse_ctx *p, json_t *f, size_t i)
{
    district_set *s = p->s;
    p->index = i;
    p->id = NULL;
    if (!json_is_object(f) || json_string_value(json_object_get(f, "type")) == NULL ||
        strcmp(json_string_value(json_object_get(f, "type")), "Feature") != 0)
        return feature_fail(p, ERR_INVALID, "is not a GeoJSON Feature (\"type\": \"Feature\")");
    district *d = &s->items[i];
    d->index = i;
    err_code rc = parse_properties(p, json_object_get(f, "properties"), d);
    if (rc == ERR_OK)
        rc = parse_geometry(p, json_object_get(f, "geometry"), &s->geoms[i]);
    if (rc == ERR_OK)
        rc = check_valid(p, s->geoms[i]);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    const district *x = *(const district *const *)a, *y = *(const district *const *)b;
    return strcmp(x->id, y->id);
}

static err_code check_unique(district_set *s, const char *label, err_t *err)
{
    const district **sorted = malloc(s->n * sizeof *sorted);
    if (sorted == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < s->n; i++)
        sorted[i] = &s->items[i];
    qsort(sorted, s->n, sizeof *sorted, cmp_id);
    err_code rc = ERR_OK;
    for (size_t i = 1; i < s->n && rc == ERR_OK; i++)
        if (strcmp(sorted[i - 1]->id, sorted[i]->id) == 0) {
            size_t a = sorted[i - 1]->index, b = sorted[i]->index;
            rc = err_set(err, ERR_INVALID, "%s: features[%zu] and features[%zu] are both "
                                           "district %s: ids must be unique",
                         label, a < b ? a : b, a < b ? b : a, sorted[i]->id);
        }
    free(sorted);
    return rc;
}

/* Candidates of an STRtree query: indexes into items, collected so that
 * GEOS is not re-entered from inside its own callback. */
typedef struct {
    district_set *s;
    size_t *idx;
    size_t n, cap;
    bool nomem;
} hits;

static void collect(void *item, void *userdata)
{
    hits *h = userdata;
    if (h->nomem)
        return;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        size_t *grown = realloc(h->idx, cap * sizeof *grown);
        if (grown == NULL) {
            h->nomem = true;
            return;
        }
        h->idx = grown;
        h->cap = cap;
    }
    h->idx[h->n++] = (size_t)((district *)item - h->s->items);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Two districts whose insides overlap would make a point inside both
 * ambiguous (which agency?), and is nearly always a digitising mistake;
 * sharing an edge or a corner is what neighbours do. DE-9IM "T********":
 * the interiors intersect. Only pairs whose boxes meet are compared. */
static err_code check_overlaps(district_set *s, const char *label, err_t *err)
{
    hits h = {.s = s};
    err_code rc = ERR_OK;
    for (size_t i = 0; i < s->n && rc == ERR_OK; i++) {
        h.n = 0;
        GEOSSTRtree_query_r(s->geos, s->tree, s->geoms[i], collect, &h);
        if (h.nomem) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            break;
        }
        if (h.n > 1)
            qsort(h.idx, h.n, sizeof *h.idx, cmp_size);
        for (size_t k = 0; k < h.n && rc == ERR_OK; k++) {
            size_t j = h.idx[k];
            if (j <= i)
                continue;
            char r = GEOSRelatePattern_r(s->geos, s->geoms[i], s->geoms[j], "T********");
            if (r == 1)
                rc = err_set(err, ERR_INVALID,
                             "%s: features[%zu] (%s) and features[%zu] (%s) overlap: districts "
                             "may share edges, not area",
                             label, i, s->items[i].id, j, s->items[j].id);
            else if (r != 0)
                rc = err_set(err, ERR_INTERNAL, "%s: GEOS could not compare features[%zu] and "
                                                "features[%zu]: %.60s",
                             label, i, j, s->geos_msg);
        }
    }
    free(h.idx);
    return rc;
}

static err_code build(district_set *s, json_t *root, const char *label, err_t *err)
{
    const char *type = json_string_value(json_object_get(root, "type"));
    if (!json_is_object(root) || type == NULL || strcmp(type, "FeatureCollection") != 0)
        return err_set(err, ERR_INVALID, "%s: must be a GeoJSON FeatureCollection", label);
    if (!crs_ok(json_object_get(root, "crs")))
        return err_set(err, ERR_INVALID,
                       "%s: crs must be WGS84 (RFC 7946 has no crs: drop it, and give "
                       "longitude, latitude in degrees)",
                       label);
    json_t *features = json_object_get(root, "features");
    if (!json_is_array(features) || json_array_size(features) == 0)
        return err_set(err, ERR_INVALID, "%s: features must be a non-empty array", label);
    size_t n = json_array_size(features);
    if (n > DISTRICT_MAX_COUNT)
        return err_set(err, ERR_TOO_LARGE, "%s: more than %d districts", label,
                       DISTRICT_MAX_COUNT);
    s->items = pool_calloc(s->pool, n, sizeof *s->items);
    s->geoms = calloc(n, sizeof *s->geoms);
    s->prepared = calloc(n, sizeof *s->prepared);
    if (s->items == NULL || s->geoms == NULL || s->prepared == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    s->n = n;
    parse_ctx p = {.s = s, .label = label, .err = err};
    for (size_t i = 0; i < n; i++) {
        err_code rc = parse_feature(&p, json_array_get(features, i), i);
        if (rc != ERR_OK)
            return rc;
    }
    err_code rc = check_unique(s, label, err);
    if (rc != ERR_OK)
        return rc;
    /* 10 entries a node: GEOS's own default in its C API examples. */
    if ((s->tree = GEOSSTRtree_create_r(s->geos, 10)) == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        GEOSSTRtree_insert_r(s->geos, s->tree, s->geoms[i], &s->items[i]);
    if ((rc = check_overlaps(s, label, err)) != ERR_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((s->prepared[i] = GEOSPrepare_r(s->geos, s->geoms[i])) == NULL)
            return err_set(err, ERR_NOMEM, "out of memory");
    return ERR_OK;
}

void district_set_free(district_set *s)
{
    if (s == NULL)
        return;
    if (s->geos != NULL) {
        if (s->tree != NULL)
            GEOSSTRtree_destroy_r(s->geos, s->tree);
        for (size_t i = 0; i < s->n; i++) {
            if (s->prepared != NULL && s->prepared[i] != NULL)
                GEOSPreparedGeom_destroy_r(s->geos, s->prepared[i]);
            if (s->geoms != NULL && s->geoms[i] != NULL)
                GEOSGeom_destroy_r(s->geos, s->geoms[i]);
        }
        GEOS_finish_r(s->geos);
    }
    free(s->prepared);
    free(s->geoms);
    if (s->lock_ready)
        pthread_mutex_destroy(&s->lock);
    pool_free(s->pool);
    free(s);
}

err_code district_set_parse(const char *text, size_t len, const char *label,
                            district_set **out, err_t *err)
{
    *out = NULL;
    if (len > DISTRICT_MAX_FILE)
        return err_set(err, ERR_TOO_LARGE, "%s: larger than %u MiB", label,
                       DISTRICT_MAX_FILE >> 20);
    district_set *s = calloc(1, sizeof *s);
    if (s == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    err_code rc = ERR_OK;
    json_t *root = NULL;
    if ((s->pool = pool_new()) == NULL || (s->geos = GEOS_init_r()) == NULL) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto done;
    }
    GEOSContext_setErrorMessageHandler_r(s->geos, geos_error, s);
    GEOSContext_setNoticeMessageHandler_r(s->geos, geos_notice, s);
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        rc = err_set(err, ERR_NOMEM, "cannot create a mutex");
        goto done;
    }
    s->lock_ready = true;
    json_error_t jerr;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        rc = err_set(err, ERR_INVALID, "%s line %d column %d: not JSON: %.80s", label,
                     jerr.line, jerr.column, jerr.text);
        goto done;
    }
    rc = build(s, root, label, err);
done:
    json_decref(root);
    if (rc != ERR_OK) {
        district_set_free(s); /* never half-loaded */
        return rc;
    }
    *out = s;
    return ERR_OK;
}

size_t district_set_count(const district_set *s)
{
    return s->n;
}

const district *district_set_get(const district_set *s, size_t i)
{
    return i < s->n ? &s->items[i] : NULL;
}

err_code district_locate(district_set *s, double lon, double lat, size_t *index, err_t *err)
{
    *index = DISTRICT_NONE;
    if (!isfinite(lon) || !isfinite(lat))
        return err_set(err, ERR_INVALID, "a location must be finite numbers");
    hits h = {.s = s};
    err_code rc = ERR_OK;
    pthread_mutex_lock(&s->lock);
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(s->geos, lon, lat);
    if (pt == NULL) {
        rc = err_set(err, ERR_NOMEM, "out of memory (GEOS)");
        goto done;
    }
    GEOSSTRtree_query_r(s->geos, s->tree, pt, collect, &h);
    if (h.nomem) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto done;
    }
    /* File order decides on a shared boundary: test the candidates from
     * the first district on, and stop at the first that covers. */
    if (h.n > 1)
        qsort(h.idx, h.n, sizeof *h.idx, cmp_size);
    for (size_t k = 0; k < h.n; k++) {
        char c = GEOSPreparedCovers_r(s->geos, s->prepared[h.idx[k]], pt);
        if (c == 1) {
            *index = h.idx[k];
            break;
        }
        if (c != 0) {
            /* GEOS's message may hold the point: not repeated. */
            rc = err_set(err, ERR_INTERNAL, "GEOS could not locate a point");
            break;
        }
    }
done:
    if (pt != NULL)
        GEOSGeom_destroy_r(s->geos, pt);
    pthread_mutex_unlock(&s->lock);
    free(h.idx);
    return rc;
}
