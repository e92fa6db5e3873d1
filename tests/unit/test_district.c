/*
 * test_district.c - routing by area (W2): district boundaries parsed from
 * GeoJSON fixtures built here (two squares sharing an edge, a polygon with
 * a hole, a MultiPolygon, a concave "U" whose box is a trap), the boundary
 * rule, every malformed file with its message, the routing decision, intake
 * with districts, and lookups from several threads at once.
 */
#include <pthread.h>
#include <stdbool.h>

#include "core/catalog.h"
#include "core/district.h"
#include "core/intake.h"
#include "core/route.h"
#include "testlib.h"
#include "util/buf.h"
#include "util/kv.h"
#include "util/pool.h"

/* GeoJSON pieces. A square [x0,x1] x [y0,y1], counter-clockwise. */
#define SQUARE(x0, y0, x1, y1)                                                                 \
    "[[[" #x0 "," #y0 "],[" #x1 "," #y0 "],[" #x1 "," #y1 "],[" #x0 "," #y1 "],[" #x0 "," #y0 \
    "]]]"
#define POLY(coords) "{\"type\":\"Polygon\",\"coordinates\":" coords "}"
#define FEATURE(id, routes, geom)                                                              \
    "{\"type\":\"Feature\",\"properties\":{\"district\":\"" id "\",\"name\":\"District " id     \
    "\",\"routes\":" routes "},\"geometry\":" geom "}"
#define COLLECTION(features) "{\"type\":\"FeatureCollection\",\"features\":[" features "]}"

/*
 * The city of the tests:
 *   WEST  lon -74.02..-74   lat 40.70..40.72   shares the edge lon = -74 with
 *   EAST  lon -74..-73.98   lat 40.70..40.72
 *   HOLE  lon 10..14, lat 10..14, minus the hole 11..13 x 11..13
 *   TWIN  a MultiPolygon: 20..21 x 20..21 and 22..23 x 20..21
 *   U     a concave U: 30..33 x 30..33 minus the notch 31..32 x 31..33
 */
static const char CITY[] = COLLECTION(
    FEATURE("WEST", "{}", POLY(SQUARE(-74.02, 40.70, -74, 40.72))) ","
    FEATURE("EAST", "{\"DOT-POTHOLE\":\"DOT-BK\",\"DSNY\":\"DSNY-BK\"}",
            POLY(SQUARE(-74, 40.70, -73.98, 40.72))) ","
    FEATURE("HOLE", "{}",
            POLY("[[[10,10],[14,10],[14,14],[10,14],[10,10]],"
                 "[[11,11],[11,13],[13,13],[13,11],[11,11]]]")) ","
    FEATURE("TWIN", "{}",
            "{\"type\":\"MultiPolygon\",\"coordinates\":[" SQUARE(20, 20, 21, 21) ","
            SQUARE(22, 20, 23, 21) "]}") ","
    FEATURE("U", "{}",
            POLY("[[[30,30],[33,30],[33,33],[32,33],[32,31],[31,31],[31,33],[30,33],"
                 "[30,30]]]")));

static district_set *parse(const char *text, err_t *err)
{
    district_set *s = NULL;
    if (district_set_parse(text, strlen(text), "city.geojson", &s, err) != ERR_OK)
        return NULL;
    return s;
}

/* The id of the district holding (lon, lat), or "-" for none. */
static const char *where(district_set *s, double lon, double lat)
{
    size_t i;
    err_t err;
    if (district_locate(s, lon, lat, &i, &err) != ERR_OK)
        return "(error)";
    return i == DISTRICT_NONE ? "-" : district_set_get(s, i)->id;
}

static void test_parse_city(void)
{
    err_t err;
    district_set *s = parse(CITY, &err);
    if (s == NULL)
        fprintf(stderr, "%s\n", err.msg);
    REQUIRE(s != NULL);
    CHECK_INT(district_set_count(s), 5);
    const district *east = district_set_get(s, 1);
    CHECK_STR(east->id, "EAST");
    CHECK_STR(east->name, "District EAST");
    CHECK_INT(east->index, 1);
    CHECK_INT(east->nroutes, 2);
    CHECK_STR(east->routes[0].key, "DOT-POTHOLE");
    CHECK_STR(east->routes[0].agency_code, "DOT-BK");
    CHECK_STR(east->routes[1].key, "DSNY");
    CHECK(district_set_get(s, 5) == NULL);
    district_set_free(s);
}

static void test_inside_outside(void)
{
    err_t err;
    district_set *s = parse(CITY, &err);
    REQUIRE(s != NULL);
    CHECK_STR(where(s, -74.01, 40.71), "WEST");
    CHECK_STR(where(s, -73.99, 40.71), "EAST");
    CHECK_STR(where(s, -73.97, 40.71), "-");  /* east of EAST */
    CHECK_STR(where(s, -74.01, 40.73), "-");  /* north of WEST */
    CHECK_STR(where(s, 0, 0), "-");
    CHECK_STR(where(s, 180, 90), "-");
    district_set_free(s);
}

static void test_hole(void)
{
    err_t err;
    district_set *s = parse(CITY, &err);
    REQUIRE(s != NULL);
    CHECK_STR(where(s, 10.5, 10.5), "HOLE"); /* in the ring around the hole */
    CHECK_STR(where(s, 12, 12), "-");        /* in the hole */
    CHECK_STR(where(s, 11, 12), "HOLE");     /* on the hole's edge: the boundary is covered */
    CHECK_STR(where(s, 14, 12), "HOLE");     /* on the outer edge */
    district_set_free(s);
}

static void test_multipolygon(void)
{
    err_t err;
    district_set *s = parse(CITY, &err);
    REQUIRE(s != NULL);
    CHECK_STR(where(s, 20.5, 20.5), "TWIN");
    CHECK_STR(where(s, 22.5, 20.5), "TWIN");
    CHECK_STR(where(s, 21.5, 20.5), "-"); /* between the parts, inside the box */
    district_set_free(s);
}

static void test_concave_box_trap(void)
{
    err_t err;
    district_set *s = parse(CITY, &err);
    REQUIRE(s != NULL);
    CHECK_STR(where(s, 30.5, 32), "U");  /* the left arm */
    CHECK_STR(where(s, 32.5, 32), "U");  /* the right arm */
    CHECK_STR(where(s, 31.5, 30.5), "U"); /* the base */
    CHECK_STR(where(s, 31.5, 32), "-");  /* the notch: inside the box, not the U */
    district_set_free(s);
}

/* The boundary rule: covered by both, the first in the file wins, however
 * the file is ordered, on an edge and on a shared corner. */
static void test_shared_edge_and_vertex(void)
{
    err_t err;
    district_set *s = parse(CITY, &err);
    REQUIRE(s != NULL);
    CHECK_STR(where(s, -74, 40.71), "WEST");  /* on the shared edge */
    CHECK_STR(where(s, -74, 40.70), "WEST");  /* a vertex of both */
    CHECK_STR(where(s, -74, 40.72), "WEST");  /* the other shared vertex */
    CHECK_STR(where(s, -73.98, 40.71), "EAST"); /* EAST's own edge */
    CHECK_STR(where(s, -74.02, 40.70), "WEST"); /* WEST's own corner */
    for (int k = 0; k < 10; k++) /* deterministic: the same answer every time */
        CHECK_STR(where(s, -74, 40.71), "WEST");
    district_set_free(s);

    static const char SWAPPED[] =
        COLLECTION(FEATURE("EAST", "{}", POLY(SQUARE(-74, 40.70, -73.98, 40.72))) ","
                   FEATURE("WEST", "{}", POLY(SQUARE(-74.02, 40.70, -74, 40.72))));
    s = parse(SWAPPED, &err);
    REQUIRE(s != NULL);
    CHECK_STR(where(s, -74, 40.71), "EAST");
    CHECK_STR(where(s, -74, 40.70), "EAST");
    CHECK_STR(where(s, -74.01, 40.71), "WEST");
    district_set_free(s);
}

/* What a GIS export writes: a crs naming WGS84, flat route:CODE columns
 * (null for an empty cell), extra columns, altitudes, clockwise rings. */
static void test_gis_export_form(void)
{
    static const char GIS[] =
        "{\"type\":\"FeatureCollection\",\"name\":\"districts\","
        "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
        "\"urn:ogc:def:crs:OGC:1.3:CRS84\"}},\"features\":["
        "{\"type\":\"Feature\",\"id\":7,\"properties\":{\"district\":\"BK01\",\"name\":null,"
        "\"route:DOT\":\"DOT-BK\",\"route:DSNY\":null,\"shape_area\":12.5},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
        "[[[0,0,5],[0,1,5],[1,1,5],[1,0,5],[0,0,5]]]}}]}";
    err_t err;
    district_set *s = parse(GIS, &err);
    if (s == NULL)
        fprintf(stderr, "%s\n", err.msg);
    REQUIRE(s != NULL);
    const district *d = district_set_get(s, 0);
    CHECK_STR(d->id, "BK01");
    CHECK(d->name == NULL);
    CHECK_INT(d->nroutes, 1);
    CHECK_STR(d->routes[0].key, "DOT");
    CHECK_STR(where(s, 0.5, 0.5), "BK01");
    district_set_free(s);
}

typedef struct {
    const char *text;
    const char *want; /* a part of the message */
} bad_case;

static void test_malformed(void)
{
#define BOWTIE "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]"
    static const bad_case cases[] = {
        {"{\"type\":", "city.geojson line 1"},
        {"[1,2]", "city.geojson: must be a GeoJSON FeatureCollection"},
        {"{\"type\":\"Feature\"}", "must be a GeoJSON FeatureCollection"},
        {"{\"type\":\"FeatureCollection\",\"features\":[]}", "features must be a non-empty array"},
        {"{\"type\":\"FeatureCollection\",\"features\":[],\"features\":[]}", "duplicate"},
        {"{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
         "\"EPSG:2263\"}},\"features\":[" FEATURE("A", "{}", POLY(SQUARE(0, 0, 1, 1))) "]}",
         "crs must be WGS84"},
        {COLLECTION("{\"type\":\"Thing\"}"), "city.geojson: features[0]: is not a GeoJSON Feature"},
        /* unclosed ring */
        {COLLECTION(FEATURE("A", "{}", POLY("[[[0,0],[1,0],[1,1],[0,1],[0,0.5]]]"))),
         "features[0] (A): polygon 0 ring 0 is not closed"},
        /* too few points */
        {COLLECTION(FEATURE("A", "{}", POLY("[[[0,0],[1,0],[0,0]]]"))),
         "features[0] (A): polygon 0 ring 0 has 3 positions: a ring needs at least 4"},
        /* coordinates out of range: latitude first by mistake */
        {COLLECTION(FEATURE("A", "{}", POLY("[[[40.7,-74],[40.7,-200],[41,-74],[40.7,-74]]]"))),
         "polygon 0 ring 0 position 1 is out of range"},
        {COLLECTION(FEATURE("A", "{}", POLY("[[[0,0],[181,0],[1,1],[0,0]]]"))),
         "position 1 is out of range"},
        {COLLECTION(FEATURE("A", "{}", POLY("[[[0,0],[\"1\",0],[1,1],[0,0]]]"))),
         "position 1 is not [longitude, latitude]"},
        {COLLECTION(FEATURE("A", "{}", POLY("[[[0,0],[1,0,0,0],[1,1],[0,0]]]"))),
         "position 1 is not [longitude, latitude]"},
        /* self-intersecting, per GEOS */
        {COLLECTION(FEATURE("A", "{}", POLY(BOWTIE))),
         "features[0] (A): invalid polygon (GEOS): Self-intersection near [0.5, 0.5]"},
        /* a hole outside its shell */
        {COLLECTION(FEATURE("A", "{}", POLY("[[[0,0],[1,0],[1,1],[0,1],[0,0]],"
                                            "[[5,5],[6,5],[6,6],[5,6],[5,5]]]"))),
         "invalid polygon (GEOS): Hole lies outside shell"},
        /* a MultiPolygon whose parts overlap */
        {COLLECTION(FEATURE("A", "{}",
                            "{\"type\":\"MultiPolygon\",\"coordinates\":[" SQUARE(0, 0, 2, 2)
                            "," SQUARE(1, 1, 3, 3) "]}")),
         "invalid polygon (GEOS)"},
        {COLLECTION(FEATURE("A", "{}", "{\"type\":\"Point\",\"coordinates\":[0,0]}")),
         "geometry is a Point: a district is a Polygon or MultiPolygon"},
        {COLLECTION(FEATURE("A", "{}", "{\"type\":\"MultiPolygon\",\"coordinates\":[]}")),
         "MultiPolygon coordinates must be a non-empty array"},
        {COLLECTION(FEATURE("A", "{}", "null")), "geometry must be a Polygon or MultiPolygon"},
        {COLLECTION(FEATURE("A", "{}", POLY("[]"))), "polygon 0 must be an array of rings"},
        {COLLECTION("{\"type\":\"Feature\",\"properties\":{\"name\":\"x\",\"routes\":{}},"
                    "\"geometry\":" POLY(SQUARE(0, 0, 1, 1)) "}"),
         "features[0]: properties.district must be the district's id"},
        {COLLECTION(FEATURE("A B", "{}", POLY(SQUARE(0, 0, 1, 1)))), "properties.district"},
        {COLLECTION("{\"type\":\"Feature\",\"properties\":{\"district\":\"A\",\"route\":{}},"
                    "\"geometry\":" POLY(SQUARE(0, 0, 1, 1)) "}"),
         "features[0] (A): properties has no routes"},
        {COLLECTION(FEATURE("A", "[]", POLY(SQUARE(0, 0, 1, 1)))),
         "properties.routes must be an object"},
        {COLLECTION(FEATURE("A", "{\"DOT\":7}", POLY(SQUARE(0, 0, 1, 1)))),
         "route DOT must name an agency code"},
        {COLLECTION("{\"type\":\"Feature\",\"properties\":{\"district\":\"A\",\"routes\":"
                    "{\"DOT\":\"X\"},\"route:DOT\":\"Y\"},\"geometry\":" POLY(SQUARE(0, 0, 1, 1))
                    "}"),
         "route DOT is given twice"},
        /* the second feature is wrong: its index is named, nothing is kept */
        {COLLECTION(FEATURE("A", "{}", POLY(SQUARE(0, 0, 1, 1))) ","
                    FEATURE("B", "{}", POLY("[[[5,5],[6,5],[6,6],[5,6]]]"))),
         "features[1] (B): polygon 0 ring 0 is not closed"},
        {COLLECTION(FEATURE("A", "{}", POLY(SQUARE(0, 0, 1, 1))) ","
                    FEATURE("A", "{}", POLY(SQUARE(1, 0, 2, 1)))),
         "features[0] and features[1] are both district A"},
        {COLLECTION(FEATURE("A", "{}", POLY(SQUARE(0, 0, 2, 2))) ","
                    FEATURE("B", "{}", POLY(SQUARE(1, 1, 3, 3)))),
         "features[0] (A) and features[1] (B) overlap"},
        /* one inside another overlaps too */
        {COLLECTION(FEATURE("A", "{}", POLY(SQUARE(0, 0, 4, 4))) ","
                    FEATURE("B", "{}", POLY(SQUARE(1, 1, 2, 2)))),
         "overlap"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err_t err;
        err_clear(&err);
        district_set *s = (district_set *)0x1;
        err_code rc = district_set_parse(cases[i].text, strlen(cases[i].text), "city.geojson",
                                         &s, &err);
        CHECK(rc != ERR_OK);
        CHECK(s == NULL);
        if (strstr(err.msg, cases[i].want) == NULL) {
            testlib_failures++;
            fprintf(stderr, "case %zu: got \"%s\", want a message with \"%s\"\n", i, err.msg,
                    cases[i].want);
        }
    }
}

/* ---- routing ---- */

static catalog *make_catalog(void)
{
    static const agency agencies[] = {{"DOT", "Transportation"},
                                      {"DOT-BK", "Transportation, Brooklyn"},
                                      {"DSNY", "Sanitation"},
                                      {"DSNY-BK", "Sanitation, Brooklyn"},
                                      {"DPR", "Parks"}};
    service pothole = {.code = "DOT-POTHOLE", .name = "Pothole", .type = SERVICE_REALTIME,
                       .agency_code = "DOT"};
    service light = {.code = "DOT-LIGHT", .name = "Street light", .type = SERVICE_REALTIME,
                     .agency_code = "DOT"};
    service litter = {.code = "DSNY-LITTER", .name = "Litter", .type = SERVICE_REALTIME,
                      .agency_code = "DSNY"};
    service tree = {.code = "DPR-TREE", .name = "Tree", .type = SERVICE_REALTIME,
                    .agency_code = "DPR"};
    catalog *c = catalog_new();
    err_t e;
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof agencies / sizeof agencies[0]; i++)
        if (catalog_add_agency(c, &agencies[i], &e) != ERR_OK)
            goto fail;
    if (catalog_add_service(c, &pothole, &e) || catalog_add_service(c, &light, &e) ||
        catalog_add_service(c, &litter, &e) || catalog_add_service(c, &tree, &e))
        goto fail;
    return c;
fail:
    catalog_free(c);
    return NULL;
}

static route_table *make_routes(const catalog *cat, const char *text, err_t *err)
{
    district_set *ds = parse(text, err);
    route_table *rt = NULL;
    if (ds != NULL && route_table_new(ds, cat, "city.geojson", &rt, err) != ERR_OK)
        return NULL;
    return rt;
}

static void test_route_decide(void)
{
    catalog *cat = make_catalog();
    REQUIRE(cat != NULL);
    err_t err;
    route_table *rt = make_routes(cat, CITY, &err);
    if (rt == NULL)
        fprintf(stderr, "%s\n", err.msg);
    REQUIRE(rt != NULL);
    const service *pothole = catalog_find_service(cat, "DOT-POTHOLE");
    const service *light = catalog_find_service(cat, "DOT-LIGHT");
    const service *litter = catalog_find_service(cat, "DSNY-LITTER");
    const service *tree = catalog_find_service(cat, "DPR-TREE");
    route_result r;
    /* EAST: the service's own route */
    CHECK(route_decide(rt, pothole, true, 40.71, -73.99, &r, &err) == ERR_OK);
    CHECK_STR(r.agency_code, "DOT-BK");
    CHECK_STR(r.district, "EAST");
    CHECK(r.by_area);
    /* EAST: no route for DOT-LIGHT nor for DOT: the service's agency */
    CHECK(route_decide(rt, light, true, 40.71, -73.99, &r, &err) == ERR_OK);
    CHECK_STR(r.agency_code, "DOT");
    CHECK_STR(r.district, "EAST");
    CHECK(!r.by_area);
    /* EAST: by the service's default agency's route */
    CHECK(route_decide(rt, litter, true, 40.71, -73.99, &r, &err) == ERR_OK);
    CHECK_STR(r.agency_code, "DSNY-BK");
    CHECK(route_decide(rt, tree, true, 40.71, -73.99, &r, &err) == ERR_OK);
    CHECK_STR(r.agency_code, "DPR");
    /* WEST and the shared edge (WEST is first in the file) */
    CHECK(route_decide(rt, pothole, true, 40.71, -74.01, &r, &err) == ERR_OK);
    CHECK_STR(r.agency_code, "DOT");
    CHECK_STR(r.district, "WEST");
    CHECK(route_decide(rt, pothole, true, 40.71, -74, &r, &err) == ERR_OK);
    CHECK_STR(r.agency_code, "DOT");
    CHECK_STR(r.district, "WEST");
    /* in no district; no point; no table */
    CHECK(route_decide(rt, pothole, true, 40.71, -73.5, &r, &err) == ERR_OK);
    CHECK_STR(r.agency_code, "DOT");
    CHECK(r.district == NULL);
    CHECK(route_decide(rt, pothole, false, 0, 0, &r, &err) == ERR_OK);
    CHECK_STR(r.agency_code, "DOT");
    CHECK(r.district == NULL);
    CHECK(route_decide(NULL, litter, true, 40.71, -73.99, &r, &err) == ERR_OK);
    CHECK_STR(r.agency_code, "DSNY");
    CHECK(r.district == NULL);
    route_table_free(rt);
    catalog_free(cat);
}

typedef struct {
    size_t n;
    char seen[4][64];
} unknowns;

static void note_unknown(const district *d, const char *code, bool is_key, void *arg)
{
    unknowns *u = arg;
    if (u->n < 4)
        snprintf(u->seen[u->n], sizeof u->seen[0], "%s:%s:%s", d->id, is_key ? "key" : "agency",
                 code);
    u->n++;
}

static void test_route_codes(void)
{
    catalog *cat = make_catalog();
    REQUIRE(cat != NULL);
    static const struct {
        const char *routes, *want;
    } cases[] = {
        {"{\"DOT\":\"DOT-QN\"}", "features[0] (A): unknown agency code DOT-QN"},
        {"{\"DOT-HOLE\":\"DOT\"}", "features[0] (A): unknown service or agency code DOT-HOLE"},
    };
    for (size_t i = 0; i < 2; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                 "\"properties\":{\"district\":\"A\",\"routes\":%s},\"geometry\":" POLY(
                     SQUARE(0, 0, 1, 1)) "}]}",
                 cases[i].routes);
        err_t err;
        route_table *rt = (route_table *)0x1;
        district_set *ds = parse(text, &err);
        REQUIRE(ds != NULL);
        CHECK(route_table_new(ds, cat, "city.geojson", &rt, &err) == ERR_INVALID);
        CHECK(rt == NULL);
        if (strstr(err.msg, cases[i].want) == NULL) {
            testlib_failures++;
            fprintf(stderr, "got \"%s\", want \"%s\"\n", err.msg, cases[i].want);
        }
    }
    /* route_check_codes names every fault, not only the first */
    static const char TWO[] = COLLECTION(
        FEATURE("A", "{\"DOT\":\"DOT-QN\",\"NOPE\":\"DPR\"}", POLY(SQUARE(0, 0, 1, 1))) ","
        FEATURE("B", "{\"DSNY\":\"DSNY-BK\"}", POLY(SQUARE(1, 0, 2, 1))));
    err_t err;
    district_set *ds = parse(TWO, &err);
    REQUIRE(ds != NULL);
    unknowns u = {0};
    CHECK_INT(route_check_codes(ds, cat, note_unknown, &u), 2);
    CHECK_INT(u.n, 2);
    CHECK_STR(u.seen[0], "A:agency:DOT-QN");
    CHECK_STR(u.seen[1], "A:key:NOPE");
    district_set_free(ds);
    catalog_free(cat);
}

/* Every channel's intake routes through the catalog's table. */
static void test_intake_routes(void)
{
    catalog *cat = make_catalog();
    REQUIRE(cat != NULL);
    err_t err;
    route_table *rt = make_routes(cat, CITY, &err);
    REQUIRE(rt != NULL);
    cat->routes = rt;
    pool_t *p = pool_new();
    REQUIRE(p != NULL);
    /* The form each channel decodes, then intake. */
    static const struct {
        const char *form, *agency, *district;
    } cases[] = {
        {"service_code=DOT-POTHOLE&lat=40.71&long=-73.99", "DOT-BK", "EAST"},
        {"service_code=DOT-POTHOLE&lat=40.71&long=-74.01", "DOT", "WEST"},
        {"service_code=DOT-POTHOLE&lat=40.71&long=-74", "DOT", "WEST"},
        {"service_code=DOT-POTHOLE&lat=40.71&long=-73.5", "DOT", NULL},
        {"service_code=DOT-POTHOLE&address_string=1+Main+St", "DOT", NULL},
        {"service_code=DSNY-LITTER&lat=40.71&long=-73.99", "DSNY-BK", "EAST"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kv_list kv;
        kv_init(&kv);
        service_request sr;
        CHECK(form_decode(cases[i].form, strlen(cases[i].form), p, &KV_DEFAULT_LIMITS, &kv,
                          &err) == ERR_OK);
        CHECK(intake_request(cat, &kv, SR_CHANNEL_WEB, 1000, p, &sr, &err) == ERR_OK);
        CHECK_STR(sr.agency_code, cases[i].agency);
        CHECK_STR(sr.district, cases[i].district);
    }
    pool_free(p);
    cat->routes = NULL;
    route_table_free(rt);
    catalog_free(cat);
}

/* ---- threads ---- */

typedef struct {
    district_set *s;
    int wrong;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *w = arg;
    static const struct {
        double lon, lat;
        const char *want;
    } points[] = {{-74.01, 40.71, "WEST"}, {-73.99, 40.71, "EAST"}, {-74, 40.71, "WEST"},
                  {12, 12, "-"},          {31.5, 32, "-"},        {22.5, 20.5, "TWIN"},
                  {10.5, 10.5, "HOLE"},   {30.5, 32, "U"}};
    for (int k = 0; k < 4000; k++) {
        size_t i = (size_t)k % (sizeof points / sizeof points[0]);
        if (strcmp(where(w->s, points[i].lon, points[i].lat), points[i].want) != 0)
            w->wrong++;
    }
    return NULL;
}

/* One set, four threads looking up at once, from the first lookup on (GEOS
 * builds its prepared indexes lazily: the set's lock must cover that). */
static void test_threads(void)
{
    err_t err;
    district_set *s = parse(CITY, &err);
    REQUIRE(s != NULL);
    pthread_t t[4];
    worker_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_arg){s, 0};
        CHECK(pthread_create(&t[i], NULL, worker, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(w[i].wrong, 0);
    }
    district_set_free(s);
}

TEST_MAIN(TEST(test_parse_city), TEST(test_inside_outside), TEST(test_hole),
          TEST(test_multipolygon), TEST(test_concave_box_trap), TEST(test_shared_edge_and_vertex),
          TEST(test_gis_export_form), TEST(test_malformed), TEST(test_route_decide),
          TEST(test_route_codes), TEST(test_intake_routes), TEST(test_threads))
