/*
 * test_intake.c - the rules a new request must pass (I1, Q2), on a catalog
 * built here with one question of every Open311 datatype, and the search
 * semantics of srq_matches and o311_parse_search.
 */
#include "core/catalog.h"
#include "core/geo.h"
#include "core/intake.h"
#include "core/query.h"
#include "open311/o311_params.h"
#include "testlib.h"
#include "util/buf.h"
#include "util/datetime.h"

static attr_value SIZES[] = {{"S", "Small"}, {"M", "Medium"}, {"L", "Large"}};
static attr_value WHERE[] = {{"ROAD", "Road"}, {"BIKE", "Bike lane"}, {"WALK", "Sidewalk"}};

static catalog *make_catalog(void)
{
    attribute attrs[] = {
        {"NOTE", false, ATTR_TEXT, false, NULL, 1, "We fix potholes in 3 days.", NULL, 0},
        {"SIZE", true, ATTR_SINGLEVALUELIST, true, NULL, 2, "How big?", SIZES, 3},
        {"WHERE", true, ATTR_MULTIVALUELIST, false, NULL, 3, "Where?", WHERE, 3},
        {"DEPTH", true, ATTR_NUMBER, false, NULL, 4, "Depth in cm", NULL, 0},
        {"SEEN", true, ATTR_DATETIME, false, NULL, 5, "First seen", NULL, 0},
        {"CAR", true, ATTR_STRING, false, NULL, 6, "Plate", NULL, 0},
        {"MORE", true, ATTR_TEXT, false, NULL, 7, "More", NULL, 0},
    };
    service s = {.code = "POT", .name = "Pothole", .type = SERVICE_REALTIME,
                 .agency_code = "DOT", .service_notice = "Within 3 days",
                 .sla_seconds = 3 * 86400, .attrs = attrs, .nattrs = 7};
    service plain = {.code = "NOISE", .name = "Noise", .type = SERVICE_BATCH};
    agency dot = {"DOT", "Department of Transportation"};
    catalog *c = catalog_new();
    err_t e;
    if (c == NULL || catalog_add_agency(c, &dot, &e) || catalog_add_service(c, &s, &e) ||
        catalog_add_service(c, &plain, &e)) {
        catalog_free(c);
        return NULL;
    }
    return c;
}

/* Decodes a form and runs intake; returns the error code, fills *sr. */
static err_code run(const catalog *c, const char *form, pool_t *p, service_request *sr, err_t *e)
{
    kv_list kv;
    kv_init(&kv);
    err_code rc = form_decode(form, strlen(form), p, &KV_DEFAULT_LIMITS, &kv, e);
    return rc ? rc : intake_request(c, &kv, SR_CHANNEL_API, 1000000, p, sr, e);
}

static void test_intake_good(void)
{
    catalog *c = make_catalog();
    pool_t *p = pool_new();
    REQUIRE(c && p);
    service_request sr;
    err_t e;
    CHECK_INT(run(c,
                  "service_code=POT&lat=40.7&long=-74&attribute[SIZE]=M&attribute[WHERE][]=ROAD"
                  "&attribute[WHERE][]=WALK&attribute[DEPTH]=12.5&attribute[SEEN]=2024-05-01T10:"
                  "00:00%2B02:00&attribute[CAR]=ABC123&description=Deep%0Ahole&email=a%40b.org"
                  "&phone=%2B1+(212)+555-0100&api_key=x&jurisdiction_id=y&unknown=ignored",
                  p, &sr, &e),
              ERR_OK);
    CHECK_STR(sr.service_code, "POT");
    CHECK(sr.has_location && sr.lat == 40.7 && sr.lon == -74.0);
    CHECK_STR(sr.agency_code, "DOT");
    CHECK_STR(sr.service_notice, "Within 3 days");
    CHECK_INT(sr.requested_at, 1000000);
    CHECK_INT(sr.expected_at, 1000000 + 3 * 86400);
    CHECK_INT(sr.status, SR_OPEN);
    CHECK_STR(sr.description, "Deep\nhole");
    CHECK_STR(sr.reporter.email, "a@b.org");
    CHECK_INT(sr.nanswers, 5);
    CHECK_STR(sr.answers[0].code, "SIZE");
    CHECK_STR(sr.answers[1].code, "WHERE");
    CHECK_INT(sr.answers[1].nvalues, 2);
    CHECK_STR(sr.answers[3].values[0], "2024-05-01T08:00:00Z"); /* normalised to UTC */
    /* address alone is a location; the informational NOTE takes no answer */
    CHECK_INT(run(c, "service_code=POT&address_string=1+Main+St&attribute[SIZE]=S"
                     "&attribute[NOTE]=ignored&attributes=x&attribute_count=2",
                  p, &sr, &e),
              ERR_OK);
    CHECK_INT(sr.nanswers, 1);
    CHECK_INT(run(c, "service_code=NOISE&address_id=A17&address_string=", p, &sr, &e), ERR_OK);
    CHECK(sr.address == NULL && strcmp(sr.address_id, "A17") == 0);
    pool_free(p);
    catalog_free(c);
}

typedef struct {
    const char *form;
    err_code code;
    const char *in_message;
} bad_case;

static void test_intake_bad(void)
{
    static const bad_case cases[] = {
        {"lat=1&long=1", ERR_INVALID, "service_code was not provided"},
        {"service_code=NOPE&lat=1&long=1", ERR_NOT_FOUND, "service_code not found"},
        {"service_code=POT&service_code=POT&lat=1&long=1", ERR_INVALID, "more than once"},
        {"service_code=NOISE", ERR_INVALID, "location is required"},
        {"service_code=NOISE&lat=1", ERR_INVALID, "together"},
        {"service_code=NOISE&lat=91&long=0", ERR_INVALID, "lat must be"},
        {"service_code=NOISE&lat=1&long=-180.5", ERR_INVALID, "long in"},
        {"service_code=NOISE&lat=1e2&long=0", ERR_INVALID, "decimal numbers"},
        {"service_code=NOISE&lat=nan&long=0", ERR_INVALID, "decimal numbers"},
        {"service_code=POT&lat=1&long=1", ERR_INVALID, "attribute[SIZE] is required"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE]=XL", ERR_INVALID, "listed keys"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE]=S&attribute[SIZE]=M", ERR_INVALID,
         "takes one value"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE][]=S", ERR_INVALID, "not a list"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE]=S&attribute[BOGUS]=1", ERR_INVALID,
         "no attribute"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE]=S&attribute[DEPTH]=deep", ERR_INVALID,
         "must be a number"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE]=S&attribute[SEEN]=yesterday",
         ERR_INVALID, "ISO 8601"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE]=S&attribute[CAR]=a%0Ab", ERR_INVALID,
         "one line"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE]=S&attribute[WHERE][]=ROAD&attribute["
         "WHERE][]=ROAD",
         ERR_INVALID, "same value twice"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE]=S&attribute=1", ERR_INVALID,
         "attribute[CODE]"},
        {"service_code=NOISE&lat=1&long=1&email=not-an-email", ERR_INVALID, "email"},
        {"service_code=NOISE&lat=1&long=1&phone=call+me", ERR_INVALID, "phone"},
        {"service_code=NOISE&lat=1&long=1&media_url=javascript:alert(1)", ERR_INVALID,
         "media_url"},
        {"service_code=NOISE&lat=1&long=1&description=a%01b", ERR_INVALID, "control"},
        {"service_code=NOISE&lat=1&long=1&first_name=a%0Ab", ERR_INVALID, "first_name"},
        {"service_code=NOISE&lat=1&long=1&description=a%EF%BF%BFb", ERR_INVALID, "control"},
        {"service_code=POT&lat=1&long=1&attribute[SIZE]=S&attribute[DEPTH=1", ERR_INVALID,
         "attribute[CODE]"},
    };
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pool_t *p = pool_new();
        service_request sr;
        err_t e;
        err_code rc = run(c, cases[i].form, p, &sr, &e);
        if (rc != cases[i].code || strstr(e.msg, cases[i].in_message) == NULL)
            fprintf(stderr, "case %zu: %s -> %d \"%s\"\n", i, cases[i].form, rc,
                    rc ? e.msg : "");
        CHECK_INT(rc, cases[i].code);
        CHECK(rc == ERR_OK || strstr(e.msg, cases[i].in_message) != NULL);
        pool_free(p);
    }
    /* 4000 characters pass, 4001 do not; counted in characters, not bytes. */
    buf_t b = BUF_INIT;
    buf_puts(&b, "service_code=NOISE&lat=1&long=1&description=");
    for (int i = 0; i < 4000; i++)
        buf_puts(&b, "%C3%A9");
    pool_t *p = pool_new();
    service_request sr;
    err_t e;
    CHECK_INT(run(c, b.data, p, &sr, &e), ERR_OK);
    buf_puts(&b, "x");
    CHECK_INT(run(c, b.data, p, &sr, &e), ERR_INVALID);
    pool_free(p);
    buf_free(&b);
    catalog_free(c);
}

static void test_catalog_checks(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    err_t e;
    service dup = {.code = "POT", .name = "Again"};
    CHECK_INT(catalog_add_service(c, &dup, &e), ERR_CONFLICT);
    CHECK_INT(catalog_put_service(c, &dup, &e), ERR_OK);
    CHECK_STR(catalog_find_service(c, "POT")->name, "Again");
    service bad = {.code = "has space", .name = "x"};
    CHECK_INT(catalog_add_service(c, &bad, &e), ERR_INVALID);
    attribute noval = {"L", true, ATTR_SINGLEVALUELIST, false, NULL, 0, "?", NULL, 0};
    service empty_list = {.code = "E", .name = "x", .attrs = &noval, .nattrs = 1};
    CHECK_INT(catalog_add_service(c, &empty_list, &e), ERR_INVALID);
    CHECK(catalog_find_service(c, "E") == NULL);
    catalog_free(c);
}

static err_code search(const char *form, pool_t *p, o311_search *s, err_t *e)
{
    kv_list kv;
    kv_init(&kv);
    err_code rc = form_decode(form, strlen(form), p, &KV_DEFAULT_LIMITS, &kv, e);
    return rc ? rc : o311_parse_search(&kv, 1700000000, p, s, e);
}

static void test_search_params(void)
{
    pool_t *p = pool_new();
    o311_search s;
    err_t e;
    REQUIRE(p != NULL);
    CHECK_INT(search("", p, &s, &e), ERR_OK);
    CHECK_INT(s.q.start, 1700000000 - 90 * 86400);
    CHECK_INT(s.q.page_size, 1000);
    CHECK(!s.extensions && s.q.status_mask == 0);
    CHECK_INT(search("service_code=A,B&service_code=C&status=open&extensions=true&page=2&"
                     "page_size=10",
                     p, &s, &e),
              ERR_OK);
    CHECK_INT(s.q.nservice_codes, 3);
    CHECK(s.q.status_mask == SRQ_OPEN311_OPEN && s.extensions && s.q.page == 2);
    CHECK_INT(search("start_date=2010-01-01T00:00:00Z&end_date=2010-03-31T00:00:00%2B01:00", p,
                     &s, &e),
              ERR_OK);
    CHECK_INT(search("start_date=2010-01-01T00:00:00Z&end_date=2010-06-01T00:00:00Z", p, &s,
                     &e),
              ERR_INVALID);
    CHECK(strstr(e.msg, "90 days") != NULL);
    CHECK_INT(search("start_date=2010-01-01T00:00:00Z", p, &s, &e), ERR_OK);
    CHECK_INT(s.q.end - s.q.start, 90 * 86400);
    CHECK_INT(search("updated_after=2010-01-01T00:00:00Z", p, &s, &e), ERR_OK);
    CHECK(s.q.start == DT_MIN && s.q.has_updated_after && s.q.updated_after == 1262304000);
    /* The epoch is a bound like any other (it once meant "no bound"). */
    CHECK_INT(search("updated_before=1970-01-01T00:00:00Z", p, &s, &e), ERR_OK);
    CHECK(s.q.has_updated_before && s.q.updated_before == 0 && !s.q.has_updated_after);
    CHECK_INT(search("service_request_id=5,7&status=bogus", p, &s, &e), ERR_OK);
    CHECK_INT(s.q.nids, 2);
    CHECK_INT(search("lat=40.7&long=-74&radius=500", p, &s, &e), ERR_OK);
    CHECK(s.q.has_radius && s.q.has_bbox && s.q.min_lat < 40.7 && s.q.max_lat > 40.7);
    CHECK_INT(search("bbox=-74.1,40.6,-73.9,40.8", p, &s, &e), ERR_OK);
    CHECK(s.q.has_bbox && s.q.min_lon == -74.1 && s.q.max_lat == 40.8);
    const char *bad[] = {"status=bogus", "page=0", "page_size=1001", "page=x",
                         "start_date=yesterday", "lat=1", "radius=5", "lat=1&long=1&radius=0",
                         "bbox=1,2,3", "bbox=3,2,1,4", "service_request_id=abc",
                         "extensions=maybe", "end_date=2010-01-01T00:00:00Z&start_date=2010-02-"
                                             "01T00:00:00Z",
                         "page=1&page=2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_code rc = search(bad[i], p, &s, &e);
        if (rc != ERR_INVALID)
            fprintf(stderr, "accepted bad search %s\n", bad[i]);
        CHECK_INT(rc, ERR_INVALID);
    }
    pool_free(p);
}

static void test_matches(void)
{
    sr_query q;
    srq_init(&q, 1000000);
    service_request sr = {.id = 1, .service_code = "A", .status = SR_IN_PROGRESS,
                          .requested_at = 999000, .updated_at = 999500, .has_location = true,
                          .lat = 40.7, .lon = -74.0};
    CHECK(srq_matches(&q, &sr));
    q.status_mask = SRQ_OPEN311_CLOSED;
    CHECK(!srq_matches(&q, &sr));
    q.status_mask = SRQ_OPEN311_OPEN;
    CHECK(srq_matches(&q, &sr));
    err_t e;
    CHECK_INT(srq_set_radius(&q, 40.7, -74.001, 100, &e), ERR_OK);
    CHECK(srq_matches(&q, &sr)); /* about 84 m away */
    srq_init(&q, 1000000);
    CHECK_INT(srq_set_radius(&q, 40.7, -74.01, 100, &e), ERR_OK);
    CHECK(!srq_matches(&q, &sr));
    double d = geo_distance_m(40.7, -74.0, 40.7, -74.001);
    CHECK(d > 80 && d < 90);
    /* A box and a circle that do not overlap are refused (fuzz finding). */
    q.has_bbox = true;
    q.min_lat = 10, q.max_lat = 11, q.min_lon = 10, q.max_lon = 11;
    q.has_radius = false;
    CHECK_INT(srq_set_radius(&q, 40.7, -74.0, 100, &e), ERR_INVALID);
    int64_t ids[] = {2, 1};
    q.ids = ids;
    q.nids = 2;
    CHECK(srq_matches(&q, &sr)); /* ids override the rest */
}

TEST_MAIN(TEST(test_intake_good), TEST(test_intake_bad), TEST(test_catalog_checks),
          TEST(test_search_params), TEST(test_matches))
