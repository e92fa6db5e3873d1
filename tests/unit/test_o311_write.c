/*
 * test_o311_write.c - the Open311 documents we send, read back the way a
 * client reads them: the JSON with jansson, the XML with expat, then
 * checked field by field. Also: hostile strings survive escaping, empty
 * lists keep their wrappers, absent values are null, and no personal data
 * ever appears.
 */
#include <expat.h>
#include <jansson.h>
#include <string.h>

#include "open311/o311_write.h"
#include "testlib.h"

/* ---- a small XML tree for the checks ---- */

typedef struct xnode {
    char *name;
    buf_t text;
    struct xnode **kids;
    size_t nkids;
    struct xnode *parent;
} xnode;

typedef struct {
    xnode *root, *cur;
    bool oom;
} xtree;

static void xnode_free(xnode *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        xnode_free(n->kids[i]);
    free(n->kids);
    free(n->name);
    buf_free(&n->text);
    free(n);
}

static void XMLCALL xt_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    xtree *t = ud;
    xnode *n = calloc(1, sizeof *n);
    if (n == NULL || (n->name = strdup(name)) == NULL) {
        free(n);
        t->oom = true;
        return;
    }
    buf_init(&n->text, 0);
    n->parent = t->cur;
    if (t->cur == NULL) {
        t->root = n;
    } else {
        xnode **k = realloc(t->cur->kids, (t->cur->nkids + 1) * sizeof *k);
        if (k == NULL) {
            xnode_free(n);
            t->oom = true;
            return;
        }
        t->cur->kids = k;
        k[t->cur->nkids++] = n;
    }
    t->cur = n;
}

static void XMLCALL xt_end(void *ud, const XML_Char *name)
{
    (void)name;
    xtree *t = ud;
    if (t->cur != NULL)
        t->cur = t->cur->parent;
}

static void XMLCALL xt_text(void *ud, const XML_Char *s, int len)
{
    xtree *t = ud;
    if (t->cur != NULL)
        buf_append(&t->cur->text, s, (size_t)len);
}

/* Parses b as XML (after checking the declaration); NULL if malformed. */
static xnode *xml_parse(const buf_t *b)
{
    static const char decl[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
    if (b->data == NULL || strncmp(b->data, decl, strlen(decl)) != 0)
        return NULL;
    xtree t = {NULL, NULL, false};
    XML_Parser p = XML_ParserCreate(NULL);
    if (p == NULL)
        return NULL;
    XML_SetUserData(p, &t);
    XML_SetElementHandler(p, xt_start, xt_end);
    XML_SetCharacterDataHandler(p, xt_text);
    enum XML_Status st = XML_Parse(p, b->data, (int)b->len, XML_TRUE);
    XML_ParserFree(p);
    if (st != XML_STATUS_OK || t.oom) {
        xnode_free(t.root);
        return NULL;
    }
    return t.root;
}

static xnode *x_kid(const xnode *n, const char *name, size_t nth)
{
    for (size_t i = 0; n != NULL && i < n->nkids; i++)
        if (strcmp(n->kids[i]->name, name) == 0 && nth-- == 0)
            return n->kids[i];
    return NULL;
}

static size_t x_count(const xnode *n, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; n != NULL && i < n->nkids; i++)
        c += strcmp(n->kids[i]->name, name) == 0;
    return c;
}

/* The text of child `name`: "" if empty, NULL if there is no such child. */
static const char *x_text(const xnode *n, const char *name)
{
    xnode *k = x_kid(n, name, 0);
    if (k == NULL)
        return NULL;
    return k->text.data != NULL ? k->text.data : "";
}

static json_t *json_parse(const buf_t *b)
{
    return b->data != NULL ? json_loadb(b->data, b->len, 0, NULL) : NULL;
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool jnull(const json_t *o, const char *key)
{
    return json_is_null(json_object_get(o, key));
}

/* ---- fixtures ---- */

#define HOSTILE "</description><x>&amp; \"q\" 'a' <b> \\ \"},{\"evil\":1} é 日本 \t\n end"

static catalog *make_catalog(void)
{
    catalog *c = catalog_new();
    if (c == NULL)
        return NULL;
    agency dot = {"DOT", "Department of Transportation"};
    static attr_value sizes[] = {{"SMALL", "Small"}, {"LARGE", "Large & deep"}};
    static attr_value dirs[] = {{"N", "North"}};
    attribute attrs[] = {
        {"SIZE", true, ATTR_SINGLEVALUELIST, true, "Pick one", 2, "How big?", sizes, 2},
        {"NOTE", false, ATTR_TEXT, false, NULL, 1, "We fix potholes in 10 days.", NULL, 0},
        {"COUNT", true, ATTR_NUMBER, false, NULL, 0, "How many?", NULL, 0},
        {"DIRS", true, ATTR_MULTIVALUELIST, false, NULL, 0, "Direction", dirs, 1},
    };
    service pothole = {"DOT-POTHOLE",
                       "Pothole",
                       "A hole in the road",
                       SERVICE_REALTIME,
                       "pothole, road",
                       "Streets",
                       "DOT",
                       "Repairs within 10 days",
                       240 * 3600,
                       attrs,
                       4};
    service litter = {"LITTER", "Litter", NULL, SERVICE_BATCH, NULL, NULL, NULL, NULL, 0, NULL, 0};
    err_t err;
    if (catalog_add_agency(c, &dot, &err) != ERR_OK ||
        catalog_add_service(c, &pothole, &err) != ERR_OK ||
        catalog_add_service(c, &litter, &err) != ERR_OK) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        catalog_free(c);
        return NULL;
    }
    return c;
}

/* A full request and a minimal one, both with personal data that must
 * never be written. */
static void make_requests(service_request sr[2])
{
    memset(sr, 0, 2 * sizeof *sr);
    sr[0].id = 17;
    sr[0].service_code = "DOT-POTHOLE";
    sr[0].status = SR_IN_PROGRESS;
    sr[0].status_notes = "Crew dispatched";
    sr[0].agency_code = "DOT";
    sr[0].service_notice = "Repairs within 10 days";
    sr[0].requested_at = 1714989600; /* 2024-05-06T10:00:00Z */
    sr[0].updated_at = 1714993200;
    sr[0].expected_at = 1715853600;
    sr[0].has_location = true;
    sr[0].lat = 40.712776;
    sr[0].lon = -73.9;
    sr[0].address = "8TH AVE and JUDAH ST";
    sr[0].address_id = "545483";
    sr[0].zipcode = "94122";
    sr[0].description = HOSTILE;
    sr[0].media_url = "https://example.org/m/17.jpg";
    sr[0].channel = SR_CHANNEL_WEB;
    sr[0].resolution = SR_RES_NONE;
    sr[0].reporter.email = "SECRET-mail@example.org";
    sr[0].reporter.first_name = "SECRET-first";
    sr[0].reporter.phone = "SECRET-555";
    sr[0].reporter.account_id = "SECRET-acct";

    sr[1].id = 18;
    sr[1].service_code = "LITTER";
    sr[1].status = SR_CLOSED;
    sr[1].resolution = SR_RES_FIXED;
    sr[1].requested_at = 1714989600;
    sr[1].updated_at = 1714989601;
    sr[1].media_url = "";
    sr[1].address = "";
    sr[1].channel = SR_CHANNEL_PHONE;
    sr[1].reporter.email = "SECRET-other@example.org";
    sr[1].reporter.device_id = "SECRET-device";
}

static void check_no_secret(const buf_t *b)
{
    CHECK(b->data != NULL && strstr(b->data, "SECRET") == NULL);
}

/* ---- errors ---- */

static void test_error_json(void)
{
    buf_t b = BUF_INIT;
    o311_write_error(&b, O311_JSON, 400, "service_code " HOSTILE);
    REQUIRE(!buf_failed(&b));
    json_t *j = json_parse(&b);
    REQUIRE(json_is_array(j));
    CHECK_INT(json_array_size(j), 1);
    json_t *e = json_array_get(j, 0);
    CHECK(json_is_integer(json_object_get(e, "code")));
    CHECK_INT(json_integer_value(json_object_get(e, "code")), 400);
    CHECK_STR(jstr(e, "description"), "service_code " HOSTILE);
    json_decref(j);
    buf_free(&b);
}

static void test_error_xml(void)
{
    buf_t b = BUF_INIT;
    /* \x01 is not allowed in XML 1.0: the writer drops it. */
    o311_write_error(&b, O311_XML, 404, "no \x01such " HOSTILE);
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "errors");
    CHECK_INT(x_count(x, "error"), 1);
    xnode *e = x_kid(x, "error", 0);
    CHECK_STR(x_text(e, "code"), "404");
    CHECK_STR(x_text(e, "description"), "no such " HOSTILE);
    xnode_free(x);
    buf_free(&b);
}

/* ---- discovery ---- */

static const o311_endpoint ENDPOINTS[] = {
    {"production", "https://city.example/open311/v2", "http://wiki.open311.org/GeoReport_v2",
     "2024-05-01T00:00:00Z"},
    {"test", "https://test.city.example/open311/v2", "http://wiki.open311.org/GeoReport_v2",
     "2024-05-01T00:00:00Z"},
};

static const o311_discovery DISCOVERY = {"2024-05-01T00:00:00Z", "Email api@city.example",
                                         "Request a key at https://city.example/keys", ENDPOINTS,
                                         2};

/* The same keys, in any order, as an object of a real document. */
static bool same_keys(const json_t *a, const json_t *b)
{
    const char *k;
    const json_t *v;
    if (json_object_size(a) != json_object_size(b))
        return false;
    json_object_foreach((json_t *)a, k, v)
    {
        if (json_object_get(b, k) == NULL)
            return false;
    }
    return true;
}

static json_t *load_json_file(const char *path)
{
    return json_load_file(path, 0, NULL);
}

static void test_discovery_json(void)
{
    buf_t b = BUF_INIT;
    o311_write_discovery(&b, O311_JSON, &DISCOVERY);
    json_t *j = json_parse(&b);
    json_t *boston = load_json_file("tests/data/open311/discovery-boston.json");
    REQUIRE(json_is_object(j) && json_is_object(boston));
    CHECK(same_keys(j, boston));
    CHECK_STR(jstr(j, "changeset"), "2024-05-01T00:00:00Z");
    CHECK_STR(jstr(j, "contact"), "Email api@city.example");
    CHECK_STR(jstr(j, "key_service"), "Request a key at https://city.example/keys");
    json_t *eps = json_object_get(j, "endpoints");
    REQUIRE(json_is_array(eps));
    CHECK_INT(json_array_size(eps), 2);
    json_t *ep = json_array_get(eps, 1);
    CHECK(same_keys(ep, json_array_get(json_object_get(boston, "endpoints"), 0)));
    CHECK_STR(jstr(ep, "type"), "test");
    CHECK_STR(jstr(ep, "url"), "https://test.city.example/open311/v2");
    CHECK_STR(jstr(ep, "specification"), "http://wiki.open311.org/GeoReport_v2");
    json_t *fm = json_object_get(ep, "formats");
    REQUIRE(json_is_array(fm));
    CHECK_INT(json_array_size(fm), 2);
    CHECK_STR(json_string_value(json_array_get(fm, 0)), "text/xml");
    CHECK_STR(json_string_value(json_array_get(fm, 1)), "application/json");
    json_decref(boston);
    json_decref(j);
    buf_free(&b);
}

static void test_discovery_xml(void)
{
    buf_t b = BUF_INIT;
    o311_write_discovery(&b, O311_XML, &DISCOVERY);
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "discovery");
    CHECK_STR(x_text(x, "changeset"), "2024-05-01T00:00:00Z");
    CHECK_STR(x_text(x, "key_service"), "Request a key at https://city.example/keys");
    xnode *eps = x_kid(x, "endpoints", 0);
    CHECK_INT(x_count(eps, "endpoint"), 2);
    xnode *ep = x_kid(eps, "endpoint", 0);
    const char *names[] = {"specification", "url", "changeset", "type"};
    for (size_t i = 0; i < 4; i++)
        CHECK(x_text(ep, names[i]) != NULL);
    CHECK_STR(x_text(ep, "type"), "production");
    xnode *fm = x_kid(ep, "formats", 0);
    CHECK_INT(x_count(fm, "format"), 2);
    CHECK_STR(x_kid(fm, "format", 0)->text.data, "text/xml");
    CHECK_STR(x_kid(fm, "format", 1)->text.data, "application/json");
    xnode_free(x);
    buf_free(&b);

    /* No endpoints: the wrapper stays. */
    o311_discovery none = DISCOVERY;
    none.nendpoints = 0;
    o311_write_discovery(&b, O311_XML, &none);
    x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK(x_kid(x, "endpoints", 0) != NULL);
    CHECK_INT(x_count(x_kid(x, "endpoints", 0), "endpoint"), 0);
    xnode_free(x);
    buf_free(&b);
}

/* ---- services ---- */

static void test_services_json(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    buf_t b = BUF_INIT;
    o311_write_services(&b, O311_JSON, c);
    json_t *j = json_parse(&b);
    REQUIRE(json_is_array(j));
    CHECK_INT(json_array_size(j), 2);
    json_t *s = json_array_get(j, 0);
    CHECK_STR(jstr(s, "service_code"), "DOT-POTHOLE");
    CHECK_STR(jstr(s, "service_name"), "Pothole");
    CHECK_STR(jstr(s, "description"), "A hole in the road");
    CHECK(json_is_true(json_object_get(s, "metadata")));
    CHECK_STR(jstr(s, "type"), "realtime");
    CHECK_STR(jstr(s, "keywords"), "pothole, road");
    CHECK_STR(jstr(s, "group"), "Streets");
    CHECK_INT(json_object_size(s), 7);
    s = json_array_get(j, 1);
    CHECK(json_is_false(json_object_get(s, "metadata")));
    CHECK_STR(jstr(s, "type"), "batch");
    CHECK(jnull(s, "description") && jnull(s, "keywords") && jnull(s, "group"));
    json_decref(j);
    buf_free(&b);

    catalog *empty = catalog_new();
    REQUIRE(empty != NULL);
    o311_write_services(&b, O311_JSON, empty);
    CHECK_STR(b.data, "[]");
    buf_free(&b);
    catalog_free(empty);
    catalog_free(c);
}

static void test_services_xml(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    buf_t b = BUF_INIT;
    o311_write_services(&b, O311_XML, c);
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "services");
    CHECK_INT(x_count(x, "service"), 2);
    xnode *s = x_kid(x, "service", 0);
    CHECK_STR(x_text(s, "service_code"), "DOT-POTHOLE");
    CHECK_STR(x_text(s, "metadata"), "true");
    CHECK_STR(x_text(s, "type"), "realtime");
    CHECK_STR(x_text(s, "group"), "Streets");
    s = x_kid(x, "service", 1);
    CHECK_STR(x_text(s, "metadata"), "false");
    CHECK_STR(x_text(s, "description"), ""); /* present, empty */
    CHECK_STR(x_text(s, "keywords"), "");
    xnode_free(x);
    buf_free(&b);

    catalog *empty = catalog_new();
    REQUIRE(empty != NULL);
    o311_write_services(&b, O311_XML, empty);
    x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "services");
    CHECK_INT(x->nkids, 0);
    xnode_free(x);
    buf_free(&b);
    catalog_free(empty);
    catalog_free(c);
}

/* ---- service definitions ---- */

static void test_definition_json(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    buf_t b = BUF_INIT;
    o311_write_service_definition(&b, O311_JSON, catalog_find_service(c, "DOT-POTHOLE"));
    json_t *j = json_parse(&b);
    REQUIRE(json_is_object(j));
    CHECK_STR(jstr(j, "service_code"), "DOT-POTHOLE");
    json_t *as = json_object_get(j, "attributes");
    REQUIRE(json_is_array(as));
    CHECK_INT(json_array_size(as), 4);
    /* Sorted by order; unordered ones numbered after the last. */
    const char *codes[] = {"NOTE", "SIZE", "COUNT", "DIRS"};
    const int orders[] = {1, 2, 3, 4};
    for (size_t i = 0; i < 4; i++) {
        json_t *a = json_array_get(as, i);
        CHECK_STR(jstr(a, "code"), codes[i]);
        CHECK(json_is_integer(json_object_get(a, "order")));
        CHECK_INT(json_integer_value(json_object_get(a, "order")), orders[i]);
        CHECK(json_is_boolean(json_object_get(a, "variable")));
        CHECK(json_is_boolean(json_object_get(a, "required")));
        CHECK(json_is_array(json_object_get(a, "values")));
        CHECK_INT(json_object_size(a), 8);
    }
    json_t *note = json_array_get(as, 0), *size = json_array_get(as, 1);
    CHECK(json_is_false(json_object_get(note, "variable")));
    CHECK_STR(jstr(note, "datatype"), "text");
    CHECK(jnull(note, "datatype_description"));
    CHECK_INT(json_array_size(json_object_get(note, "values")), 0);
    CHECK(json_is_true(json_object_get(size, "required")));
    CHECK_STR(jstr(size, "datatype"), "singlevaluelist");
    CHECK_STR(jstr(size, "datatype_description"), "Pick one");
    CHECK_STR(jstr(size, "description"), "How big?");
    json_t *vals = json_object_get(size, "values");
    CHECK_INT(json_array_size(vals), 2);
    CHECK_STR(jstr(json_array_get(vals, 1), "key"), "LARGE");
    CHECK_STR(jstr(json_array_get(vals, 1), "name"), "Large & deep");
    CHECK_STR(jstr(json_array_get(as, 3), "datatype"), "multivaluelist");
    json_decref(j);
    buf_free(&b);

    /* No attributes: an empty list, not a missing key. */
    o311_write_service_definition(&b, O311_JSON, catalog_find_service(c, "LITTER"));
    j = json_parse(&b);
    REQUIRE(json_is_object(j));
    CHECK(json_is_array(json_object_get(j, "attributes")));
    CHECK_INT(json_array_size(json_object_get(j, "attributes")), 0);
    json_decref(j);
    buf_free(&b);
    catalog_free(c);
}

static void test_definition_xml(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    buf_t b = BUF_INIT;
    o311_write_service_definition(&b, O311_XML, catalog_find_service(c, "DOT-POTHOLE"));
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "service_definition");
    CHECK_STR(x_text(x, "service_code"), "DOT-POTHOLE");
    xnode *as = x_kid(x, "attributes", 0);
    CHECK_INT(x_count(as, "attribute"), 4);
    for (size_t i = 0; i < 4; i++)
        CHECK(x_kid(x_kid(as, "attribute", i), "values", 0) != NULL);
    xnode *size = x_kid(as, "attribute", 1);
    CHECK_STR(x_text(size, "variable"), "true");
    CHECK_STR(x_text(size, "code"), "SIZE");
    CHECK_STR(x_text(size, "datatype"), "singlevaluelist");
    CHECK_STR(x_text(size, "required"), "true");
    CHECK_STR(x_text(size, "order"), "2");
    xnode *vals = x_kid(size, "values", 0);
    CHECK_INT(x_count(vals, "value"), 2);
    CHECK_STR(x_text(x_kid(vals, "value", 1), "name"), "Large & deep");
    /* One value still has its wrapper. */
    xnode *dirs = x_kid(as, "attribute", 3);
    CHECK_INT(x_count(x_kid(dirs, "values", 0), "value"), 1);
    CHECK_STR(x_text(dirs, "order"), "4");
    CHECK_STR(x_text(x_kid(as, "attribute", 0), "datatype_description"), "");
    xnode_free(x);
    buf_free(&b);

    o311_write_service_definition(&b, O311_XML, catalog_find_service(c, "LITTER"));
    x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK(x_kid(x, "attributes", 0) != NULL);
    CHECK_INT(x_count(x_kid(x, "attributes", 0), "attribute"), 0);
    xnode_free(x);
    buf_free(&b);
    catalog_free(c);
}

/* ---- service requests ---- */

static const char *const REQUEST_FIELDS[] = {"service_request_id",
                                             "status",
                                             "status_notes",
                                             "service_name",
                                             "service_code",
                                             "description",
                                             "agency_responsible",
                                             "service_notice",
                                             "requested_datetime",
                                             "updated_datetime",
                                             "expected_datetime",
                                             "address",
                                             "address_id",
                                             "zipcode",
                                             "lat",
                                             "long",
                                             "media_url"};
#define NREQUEST_FIELDS (sizeof REQUEST_FIELDS / sizeof REQUEST_FIELDS[0])

static void test_requests_json(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    service_request sr[2];
    make_requests(sr);
    buf_t b = BUF_INIT;
    o311_write_requests(&b, O311_JSON, c, sr, 2, NULL);
    check_no_secret(&b);
    json_t *j = json_parse(&b);
    REQUIRE(json_is_array(j));
    CHECK_INT(json_array_size(j), 2);
    json_t *r = json_array_get(j, 0);
    CHECK_INT(json_object_size(r), NREQUEST_FIELDS);
    for (size_t i = 0; i < NREQUEST_FIELDS; i++)
        CHECK(json_object_get(r, REQUEST_FIELDS[i]) != NULL);
    CHECK(json_object_get(r, "extended_attributes") == NULL);
    CHECK(json_is_string(json_object_get(r, "service_request_id")));
    CHECK_STR(jstr(r, "service_request_id"), "17");
    CHECK_STR(jstr(r, "status"), "open");
    CHECK_STR(jstr(r, "status_notes"), "Crew dispatched");
    CHECK_STR(jstr(r, "service_name"), "Pothole");
    CHECK_STR(jstr(r, "service_code"), "DOT-POTHOLE");
    CHECK_STR(jstr(r, "description"), HOSTILE);
    CHECK_STR(jstr(r, "agency_responsible"), "Department of Transportation");
    CHECK_STR(jstr(r, "service_notice"), "Repairs within 10 days");
    CHECK_STR(jstr(r, "requested_datetime"), "2024-05-06T10:00:00Z");
    CHECK_STR(jstr(r, "updated_datetime"), "2024-05-06T11:00:00Z");
    CHECK_STR(jstr(r, "expected_datetime"), "2024-05-16T10:00:00Z");
    CHECK_STR(jstr(r, "address"), "8TH AVE and JUDAH ST");
    CHECK_STR(jstr(r, "address_id"), "545483");
    CHECK_STR(jstr(r, "zipcode"), "94122");
    CHECK(json_is_number(json_object_get(r, "lat")));
    CHECK(json_number_value(json_object_get(r, "lat")) == 40.712776);
    CHECK(json_number_value(json_object_get(r, "long")) == -73.9);
    CHECK_STR(jstr(r, "media_url"), "https://example.org/m/17.jpg");

    r = json_array_get(j, 1);
    CHECK_STR(jstr(r, "status"), "closed");
    CHECK_STR(jstr(r, "service_name"), "Litter");
    const char *nulls[] = {"status_notes",   "description",       "agency_responsible",
                           "service_notice", "expected_datetime", "address",
                           "address_id",     "zipcode",           "lat",
                           "long",           "media_url"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        CHECK(jnull(r, nulls[i]));
    json_decref(j);
    buf_free(&b);

    o311_write_requests(&b, O311_JSON, c, NULL, 0, NULL);
    CHECK_STR(b.data, "[]");
    buf_free(&b);
    catalog_free(c);
}

static void test_requests_xml(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    service_request sr[2];
    make_requests(sr);
    buf_t b = BUF_INIT;
    o311_write_requests(&b, O311_XML, c, sr, 2, NULL);
    check_no_secret(&b);
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "service_requests");
    CHECK_INT(x_count(x, "request"), 2);
    xnode *r = x_kid(x, "request", 0);
    CHECK_INT(r->nkids, NREQUEST_FIELDS);
    for (size_t i = 0; i < NREQUEST_FIELDS; i++)
        CHECK_STR(r->kids[i]->name, REQUEST_FIELDS[i]); /* the spec's order */
    CHECK_STR(x_text(r, "service_request_id"), "17");
    CHECK_STR(x_text(r, "description"), HOSTILE);
    CHECK_STR(x_text(r, "lat"), "40.712776");
    CHECK_STR(x_text(r, "long"), "-73.9");
    CHECK_STR(x_text(r, "requested_datetime"), "2024-05-06T10:00:00Z");
    r = x_kid(x, "request", 1);
    CHECK_STR(x_text(r, "lat"), "");
    CHECK_STR(x_text(r, "media_url"), "");
    CHECK_STR(x_text(r, "expected_datetime"), "");
    xnode_free(x);
    buf_free(&b);

    o311_write_requests(&b, O311_XML, c, NULL, 0, NULL);
    x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "service_requests");
    CHECK_INT(x->nkids, 0);
    xnode_free(x);
    buf_free(&b);
    catalog_free(c);
}

/* Three events: created, a public note, a close whose note is staff-only. */
static void make_history(sr_event ev[3])
{
    memset(ev, 0, 3 * sizeof *ev);
    ev[0] = (sr_event){1, 18, 1714989600, SR_EV_CREATED, SR_OPEN, SR_RES_NONE, NULL, true, "api:1", NULL, NULL, 0};
    ev[1] = (sr_event){
        2,    18,       1714989700, SR_EV_STATUS, SR_IN_PROGRESS, SR_RES_NONE, "Crew on site",
        true, "staff:2", NULL, NULL, 0};
    ev[2] = (sr_event){
        3,     18,       1714989800, SR_EV_STATUS, SR_CLOSED, SR_RES_FIXED, "SECRET staff remark",
        false, "staff:2", NULL, NULL, 0};
}

static void test_requests_extended_json(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    service_request sr[2];
    make_requests(sr);
    sr_event ev[3];
    make_history(ev);
    o311_history h[2] = {{NULL, 0}, {ev, 3}};
    buf_t b = BUF_INIT;
    o311_write_requests(&b, O311_JSON, c, sr, 2, h);
    check_no_secret(&b);
    json_t *j = json_parse(&b);
    REQUIRE(json_is_array(j));
    json_t *x0 = json_object_get(json_array_get(j, 0), "extended_attributes");
    REQUIRE(json_is_object(x0));
    CHECK_STR(jstr(x0, "channel"), "web");
    CHECK_STR(jstr(x0, "detailed_status"), "in_progress");
    CHECK(jnull(x0, "resolution"));
    CHECK_INT(json_array_size(json_object_get(x0, "notes")), 0);
    json_t *x1 = json_object_get(json_array_get(j, 1), "extended_attributes");
    REQUIRE(json_is_object(x1));
    CHECK_STR(jstr(x1, "channel"), "phone");
    CHECK_STR(jstr(x1, "detailed_status"), "closed");
    CHECK_STR(jstr(x1, "resolution"), "fixed");
    CHECK(jnull(x1, "merged_into"));
    CHECK(jnull(x0, "merged_into"));
    json_t *notes = json_object_get(x1, "notes");
    REQUIRE(json_is_array(notes));
    CHECK_INT(json_array_size(notes), 3);
    const char *types[] = {"opened", "activity", "closed"};
    const char *status[] = {"open", "open", "closed"};
    const char *detailed[] = {"open", "in_progress", "closed"};
    for (size_t i = 0; i < 3; i++) {
        json_t *n = json_array_get(notes, i);
        CHECK_STR(jstr(n, "type"), types[i]);
        CHECK_STR(jstr(n, "status"), status[i]);
        CHECK_STR(jstr(n, "detailed_status"), detailed[i]);
    }
    CHECK_STR(jstr(json_array_get(notes, 0), "datetime"), "2024-05-06T10:00:00Z");
    CHECK(jnull(json_array_get(notes, 0), "description"));
    CHECK_STR(jstr(json_array_get(notes, 1), "description"), "Crew on site");
    CHECK(jnull(json_array_get(notes, 2), "description"));
    json_decref(j);
    buf_free(&b);

    /* A duplicate merged into 17 (W5): its number in merged_into, as a
     * string like service_request_id; its merge note is a closing one. */
    sr[1].resolution = SR_RES_DUPLICATE;
    sr[1].merged_into = 17;
    ev[2].kind = SR_EV_MERGE;
    ev[2].resolution = SR_RES_DUPLICATE;
    ev[2].merged_into = 17;
    ev[2].public_note = true;
    ev[2].note = "Duplicate of request 17.";
    b = (buf_t)BUF_INIT;
    o311_write_requests(&b, O311_JSON, c, sr, 2, h);
    j = json_parse(&b);
    REQUIRE(json_is_array(j));
    x1 = json_object_get(json_array_get(j, 1), "extended_attributes");
    CHECK_STR(jstr(x1, "merged_into"), "17");
    CHECK_STR(jstr(x1, "resolution"), "duplicate");
    json_t *merge = json_array_get(json_object_get(x1, "notes"), 2);
    CHECK_STR(jstr(merge, "type"), "closed");
    CHECK_STR(jstr(merge, "description"), "Duplicate of request 17.");
    json_decref(j);
    buf_free(&b);
    b = (buf_t)BUF_INIT;
    o311_write_requests(&b, O311_XML, c, sr, 2, h);
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x_text(x_kid(x_kid(x, "request", 1), "extended_attributes", 0), "merged_into"),
              "17");
    CHECK_STR(x_text(x_kid(x_kid(x, "request", 0), "extended_attributes", 0), "merged_into"), "");
    xnode_free(x);
    buf_free(&b);
    catalog_free(c);
}

static void test_requests_extended_xml(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    service_request sr[2];
    make_requests(sr);
    sr_event ev[3];
    make_history(ev);
    o311_history h[2] = {{NULL, 0}, {ev, 3}};
    buf_t b = BUF_INIT;
    o311_write_requests(&b, O311_XML, c, sr, 2, h);
    check_no_secret(&b);
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    xnode *ea = x_kid(x_kid(x, "request", 1), "extended_attributes", 0);
    REQUIRE(ea != NULL);
    CHECK_STR(x_text(ea, "channel"), "phone");
    CHECK_STR(x_text(ea, "resolution"), "fixed");
    xnode *notes = x_kid(ea, "notes", 0);
    CHECK_INT(x_count(notes, "note"), 3);
    CHECK_STR(x_text(x_kid(notes, "note", 1), "description"), "Crew on site");
    CHECK_STR(x_text(x_kid(notes, "note", 2), "type"), "closed");
    ea = x_kid(x_kid(x, "request", 0), "extended_attributes", 0);
    REQUIRE(ea != NULL);
    CHECK(x_kid(ea, "notes", 0) != NULL);
    CHECK_STR(x_text(ea, "resolution"), "");
    xnode_free(x);
    buf_free(&b);
    catalog_free(c);
}

/* ---- POST requests and tokens ---- */

static void test_created(void)
{
    service_request sr[2];
    make_requests(sr);
    sr[0].id = 42;
    sr[0].token = "tok-9";
    buf_t b = BUF_INIT;

    o311_write_created(&b, O311_JSON, &sr[0], SERVICE_REALTIME);
    check_no_secret(&b);
    json_t *j = json_parse(&b);
    REQUIRE(json_is_array(j) && json_array_size(j) == 1);
    json_t *r = json_array_get(j, 0);
    CHECK_STR(jstr(r, "service_request_id"), "42");
    CHECK(json_object_get(r, "token") == NULL);
    CHECK_STR(jstr(r, "service_notice"), "Repairs within 10 days");
    CHECK(jnull(r, "account_id"));
    json_decref(j);
    buf_free(&b);

    o311_write_created(&b, O311_JSON, &sr[0], SERVICE_BATCH);
    j = json_parse(&b);
    REQUIRE(json_is_array(j));
    r = json_array_get(j, 0);
    CHECK(json_object_get(r, "service_request_id") == NULL);
    CHECK_STR(jstr(r, "token"), "tok-9");
    json_decref(j);
    buf_free(&b);

    o311_write_created(&b, O311_XML, &sr[0], SERVICE_BLACKBOX);
    check_no_secret(&b);
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "service_requests");
    xnode *rx = x_kid(x, "request", 0);
    CHECK(x_kid(rx, "service_request_id", 0) == NULL);
    CHECK(x_kid(rx, "token", 0) == NULL);
    CHECK_STR(x_text(rx, "service_notice"), "Repairs within 10 days");
    CHECK_STR(x_text(rx, "account_id"), "");
    xnode_free(x);
    buf_free(&b);

    o311_write_created(&b, O311_XML, &sr[0], SERVICE_REALTIME);
    x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x_text(x_kid(x, "request", 0), "service_request_id"), "42");
    xnode_free(x);
    buf_free(&b);
}

static void test_token(void)
{
    buf_t b = BUF_INIT;
    o311_write_token(&b, O311_JSON, "tok-9", 638344);
    json_t *j = json_parse(&b);
    REQUIRE(json_is_array(j));
    json_t *r = json_array_get(j, 0);
    CHECK_STR(jstr(r, "service_request_id"), "638344");
    CHECK_STR(jstr(r, "token"), "tok-9");
    json_decref(j);
    buf_free(&b);

    o311_write_token(&b, O311_JSON, "tok-9", 0);
    j = json_parse(&b);
    REQUIRE(json_is_array(j));
    CHECK(jnull(json_array_get(j, 0), "service_request_id"));
    json_decref(j);
    buf_free(&b);

    o311_write_token(&b, O311_XML, "tok-9", 0);
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    xnode *rx = x_kid(x, "request", 0);
    CHECK(x_kid(rx, "service_request_id", 0) == NULL);
    CHECK_STR(x_text(rx, "token"), "tok-9");
    xnode_free(x);
    buf_free(&b);

    o311_write_token(&b, O311_XML, "tok-9", 7);
    x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x_text(x_kid(x, "request", 0), "service_request_id"), "7");
    xnode_free(x);
    buf_free(&b);
}

/* ---- servicerequestupdates ---- */

static void test_updates_xml(void)
{
    sr_event ev[3];
    make_history(ev);
    buf_t b = BUF_INIT;
    o311_write_updates(&b, O311_XML, ev, 3);
    check_no_secret(&b);
    xnode *x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "service_request_updates");
    CHECK_INT(x_count(x, "request_update"), 3);
    xnode *u = x_kid(x, "request_update", 1);
    CHECK_STR(x_text(u, "update_id"), "2");
    CHECK_STR(x_text(u, "service_request_id"), "18");
    CHECK_STR(x_text(u, "status"), "in_progress");
    CHECK_STR(x_text(u, "updated_datetime"), "2024-05-06T10:01:40Z");
    CHECK_STR(x_text(u, "description"), "Crew on site");
    CHECK_STR(x_text(u, "media_url"), "");
    CHECK_STR(x_text(u, "external_status_code"), "in_progress");
    u = x_kid(x, "request_update", 2);
    CHECK_STR(x_text(u, "status"), "fixed");
    CHECK_STR(x_text(u, "description"), "");
    CHECK_STR(x_text(u, "external_status_code"), "closed");
    xnode_free(x);
    buf_free(&b);

    o311_write_updates(&b, O311_XML, NULL, 0);
    x = xml_parse(&b);
    REQUIRE(x != NULL);
    CHECK_STR(x->name, "service_request_updates");
    CHECK_INT(x->nkids, 0);
    xnode_free(x);
    buf_free(&b);
}

static void test_updates_json(void)
{
    sr_event ev[3];
    make_history(ev);
    buf_t b = BUF_INIT;
    o311_write_updates(&b, O311_JSON, ev, 3);
    check_no_secret(&b);
    json_t *j = json_parse(&b);
    REQUIRE(json_is_array(j));
    CHECK_INT(json_array_size(j), 3);
    json_t *u = json_array_get(j, 0);
    CHECK_STR(jstr(u, "update_id"), "1");
    CHECK_STR(jstr(u, "service_request_id"), "18");
    CHECK_STR(jstr(u, "status"), "open");
    CHECK_STR(jstr(u, "updated_datetime"), "2024-05-06T10:00:00Z");
    CHECK_STR(jstr(u, "description"), "");
    CHECK_STR(jstr(u, "media_url"), "");
    CHECK_STR(jstr(u, "external_status_code"), "open");
    CHECK_INT(json_object_size(u), 7);
    json_decref(j);
    buf_free(&b);
}

/* A failed buffer stays failed and the writer does not crash. */
static void test_buffer_limit(void)
{
    catalog *c = make_catalog();
    REQUIRE(c != NULL);
    buf_t b;
    buf_init(&b, 64);
    o311_write_service_definition(&b, O311_XML, catalog_find_service(c, "DOT-POTHOLE"));
    CHECK(buf_failed(&b));
    buf_free(&b);
    catalog_free(c);
}

TEST_MAIN(TEST(test_error_json), TEST(test_error_xml), TEST(test_discovery_json),
          TEST(test_discovery_xml), TEST(test_services_json), TEST(test_services_xml),
          TEST(test_definition_json), TEST(test_definition_xml), TEST(test_requests_json),
          TEST(test_requests_xml), TEST(test_requests_extended_json),
          TEST(test_requests_extended_xml), TEST(test_created), TEST(test_token),
          TEST(test_updates_xml), TEST(test_updates_json), TEST(test_buffer_limit))
