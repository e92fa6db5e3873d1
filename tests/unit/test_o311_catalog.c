/*
 * test_o311_catalog.c - importing catalogs from real Open311 documents
 * (DC, Bloomington, San Francisco, Giessen, the wiki examples), the demo
 * catalog, the bundle round trip, the merge rules, and malformed input:
 * each bad document gives a clear error and leaves the catalog as it was.
 */
#include <string.h>

#include "open311/o311_catalog.h"
#include "democat.h"
#include "testlib.h"


#define DATA "tests/data/open311/"

/* Reads a whole file; the caller frees. NULL if it cannot. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    buf_t b = BUF_INIT;
    char tmp[4096];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_append(&b, tmp, got);
    bool bad = ferror(f) != 0;
    fclose(f);
    *n = b.len;
    char *p = buf_detach(&b);
    if (bad) {
        free(p);
        return NULL;
    }
    return p;
}

static err_code read_file(catalog *c, const char *path, o311_import_stats *st, err_t *err)
{
    size_t n;
    char *data = slurp(path, &n);
    if (data == NULL) {
        fprintf(stderr, "cannot read %s (run from the repository root)\n", path);
        return err_set(err, ERR_IO, "cannot read test file");
    }
    err_code rc = o311_catalog_read(c, data, n, st, err);
    free(data);
    return rc;
}

static err_code read_str(catalog *c, const char *doc, o311_import_stats *st, err_t *err)
{
    return o311_catalog_read(c, doc, strlen(doc), st, err);
}


/* The bundle as text: a complete, stable picture of a catalog. */
static char *snapshot(const catalog *c)
{
    buf_t b = BUF_INIT;
    o311_catalog_write_bundle(&b, c);
    return buf_detach(&b);
}

static bool str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static bool attr_eq(const attribute *x, const attribute *y)
{
    if (!str_eq(x->code, y->code) || x->variable != y->variable || x->datatype != y->datatype ||
        x->required != y->required || !str_eq(x->datatype_description, y->datatype_description) ||
        x->order != y->order || !str_eq(x->description, y->description) || x->nvalues != y->nvalues)
        return false;
    for (size_t k = 0; k < x->nvalues; k++)
        if (!str_eq(x->values[k].key, y->values[k].key) ||
            !str_eq(x->values[k].name, y->values[k].name))
            return false;
    return true;
}

static bool service_eq(const service *x, const service *y)
{
    if (!str_eq(x->code, y->code) || !str_eq(x->name, y->name) ||
        !str_eq(x->description, y->description) || x->type != y->type ||
        !str_eq(x->keywords, y->keywords) || !str_eq(x->group, y->group) ||
        !str_eq(x->agency_code, y->agency_code) || !str_eq(x->service_notice, y->service_notice) ||
        x->sla_seconds != y->sla_seconds || x->nattrs != y->nattrs)
        return false;
    for (size_t i = 0; i < x->nattrs; i++)
        if (!attr_eq(&x->attrs[i], &y->attrs[i]))
            return false;
    return true;
}

static bool catalog_eq(const catalog *a, const catalog *b)
{
    if (a->nagencies != b->nagencies || a->nservices != b->nservices)
        return false;
    for (size_t i = 0; i < a->nagencies; i++)
        if (!str_eq(a->agencies[i].code, b->agencies[i].code) ||
            !str_eq(a->agencies[i].name, b->agencies[i].name))
            return false;
    for (size_t i = 0; i < a->nservices; i++)
        if (!service_eq(&a->services[i], &b->services[i]))
            return false;
    return true;
}

static size_t total_values(const service *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nattrs; i++)
        n += s->attrs[i].nvalues;
    return n;
}

/* ---- real documents ---- */

static void test_dc_services(void)
{
    catalog *c = catalog_new();
    REQUIRE(c != NULL);
    o311_import_stats st;
    memset(&st, 0, sizeof st);
    err_t err;
    err_code rc = read_file(c, DATA "dc-services.xml", &st, &err);
    REQUIRE(rc == ERR_OK);
    CHECK_INT(c->nservices, 86);
    CHECK_INT(st.services, 86);
    CHECK_INT(st.definitions, 0);
    CHECK_INT(st.metadata_without_definition, 86);
    const service *s = &c->services[0];
    CHECK_STR(s->code, "CSRREPIS");
    CHECK_STR(s->name, "311 Online Reported Issues");
    CHECK_STR(s->group, "311 - Call Center");
    CHECK_STR(s->keywords, "311, Online, Reported, Issues");
    CHECK(s->type == SERVICE_REALTIME);
    CHECK_INT(s->nattrs, 0);
    s = catalog_find_service(c, "S0003");
    REQUIRE(s != NULL);
    CHECK(strstr(s->description, "is possible. <br><br>If the vehicle") != NULL);
    CHECK_STR(c->services[85].name, "eTIMS Ticket Alert Services Issues");
    catalog_free(c);
}

static void test_dc_definition(void)
{
    catalog *c = catalog_new();
    REQUIRE(c != NULL);
    o311_import_stats st;
    memset(&st, 0, sizeof st);
    err_t err;

    /* A definition needs its service. */
    err_code rc = read_file(c, DATA "dc-services-S0301.xml", &st, &err);
    CHECK(rc == ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "S0301") != NULL);
    CHECK_INT(c->nservices, 0);

    REQUIRE(read_file(c, DATA "dc-services.xml", NULL, &err) == ERR_OK);
    rc = read_file(c, DATA "dc-services-S0301.xml", &st, &err);
    REQUIRE(rc == ERR_OK);
    CHECK_INT(st.definitions, 1);
    CHECK_INT(st.services, 0);
    CHECK_INT(c->nservices, 86);
    const service *s = catalog_find_service(c, "S0301");
    REQUIRE(s != NULL);
    CHECK_STR(s->name, "Pothole");
    CHECK_INT(s->nattrs, 6);
    CHECK_INT(total_values(s), 13);
    size_t informational = 0, lists = 0;
    for (size_t i = 0; i < s->nattrs; i++) {
        informational += !s->attrs[i].variable;
        lists += s->attrs[i].datatype == ATTR_SINGLEVALUELIST;
    }
    CHECK_INT(informational, 2);
    CHECK_INT(lists, 4);
    /* Sorted by order: WHISPOLO (1), WHMAISAL (2), ISITHAZA (3), WATHPRDA (4), NOTE001 (8),
     * DSITR001 (9). */
    const char *codes[] = {"WHISPOLO", "WHMAISAL", "ISITHAZA", "WATHPRDA", "NOTE001", "DSITR001"};
    for (size_t i = 0; i < 6; i++)
        CHECK_STR(s->attrs[i].code, codes[i]);
    const attribute *a = service_find_attr(s, "WHISPOLO");
    REQUIRE(a != NULL);
    CHECK(a->required && a->variable);
    CHECK_INT(a->order, 1);
    CHECK_STR(a->description, "Where is the pothole located?");
    CHECK_STR(a->datatype_description, "Optional List of Values");
    CHECK_INT(a->nvalues, 2);
    CHECK_STR(a->values[0].key, "ALLEY002");
    CHECK_STR(a->values[0].name, "Alley");
    a = service_find_attr(s, "DSITR001");
    REQUIRE(a != NULL);
    CHECK(a->datatype == ATTR_TEXT && !a->variable && !a->required);
    CHECK_INT(a->nvalues, 0);
    CHECK_INT(service_find_attr(s, "WHMAISAL")->nvalues, 6);

    /* Counts add up over several documents; a list re-imported over a
     * catalog that has S0301's definition keeps it and does not warn. */
    REQUIRE(read_file(c, DATA "dc-services.xml", &st, &err) == ERR_OK);
    CHECK_INT(st.services, 86);
    CHECK_INT(st.definitions, 1);
    CHECK_INT(st.metadata_without_definition, 85);
    CHECK_INT(catalog_find_service(c, "S0301")->nattrs, 6);
    catalog_free(c);
}

static void test_bloomington(void)
{
    catalog *c = catalog_new();
    REQUIRE(c != NULL);
    o311_import_stats st;
    memset(&st, 0, sizeof st);
    err_t err;
    REQUIRE(read_file(c, DATA "bloomington_services.json", &st, &err) == ERR_OK);
    CHECK_INT(c->nservices, 46);
    CHECK_INT(st.metadata_without_definition, 11);
    const service *s = &c->services[0];
    CHECK_STR(s->code, "4e09c863992b94b915000000");
    CHECK_STR(s->name, "City Performance");
    CHECK_STR(s->group, "Most Popular");
    CHECK(s->keywords == NULL); /* "" is not a keyword list */
    catalog_free(c);
}

static void test_san_francisco(void)
{
    catalog *c = catalog_new();
    REQUIRE(c != NULL);
    err_t err;
    REQUIRE(read_file(c, DATA "san_francisco_services.xml", NULL, &err) == ERR_OK);
    CHECK_INT(c->nservices, 38);
    const service *s = catalog_find_service(c, "001");
    REQUIRE(s != NULL);
    CHECK_STR(s->name, "Cans_Left_Out_24x7");
    CHECK_STR(s->group, "Litter Receptacles");
    CHECK(s->keywords == NULL);
    catalog_free(c);

    /* The Ruby gem's copy: 36 services, descriptions with a trailing newline. */
    c = catalog_new();
    REQUIRE(c != NULL);
    REQUIRE(read_file(c, DATA "ruby-gem-services.xml", NULL, &err) == ERR_OK);
    CHECK_INT(c->nservices, 36);
    CHECK_STR(catalog_find_service(c, "002")->description,
              "Metal construction plate covering the street or sidewalk has been moved.");
    catalog_free(c);
}

static void test_giessen(void)
{
    catalog *c = catalog_new();
    REQUIRE(c != NULL);
    err_t err;
    REQUIRE(read_file(c, DATA "services_giessen.xml", NULL, &err) == ERR_OK);
    CHECK_INT(c->nservices, 8);
    CHECK_STR(catalog_find_service(c, "012")->name, "Verkehrsschild beschädigt");
    CHECK_STR(catalog_find_service(c, "012")->keywords, "graffiti, paintings");
    CHECK(catalog_find_service(c, "015")->description == NULL);
    catalog_free(c);
}

static void test_wiki_definition_without_wrapper(void)
{
    catalog *c = catalog_new();
    REQUIRE(c != NULL);
    err_t err;
    REQUIRE(read_str(c, "[{\"service_code\":\"DMV66\",\"service_name\":\"DMV\"}]", NULL, &err) ==
            ERR_OK);
    REQUIRE(read_file(c, DATA "ruby-gem-service_definition.xml", NULL, &err) == ERR_OK);
    const service *s = catalog_find_service(c, "DMV66");
    REQUIRE(s != NULL);
    CHECK_INT(s->nattrs, 1);
    const attribute *a = &s->attrs[0];
    CHECK_STR(a->code, "WHISHETN");
    CHECK(a->datatype == ATTR_SINGLEVALUELIST && a->required);
    CHECK(a->datatype_description == NULL);
    CHECK_INT(a->nvalues, 2);
    CHECK_STR(a->values[0].key, "123");
    CHECK_STR(a->values[1].name, "Chrysler");
    catalog_free(c);
}

/* Deviations the header promises to accept, in JSON and XML. */
static void test_deviations(void)
{
    catalog *c = catalog_new();
    REQUIRE(c != NULL);
    err_t err;
    err_code rc = read_str(c,
                           "[{\"service_code\":1,\"service_name\":\"One\",\"metadata\":\"TRUE\","
                           "\"type\":\"Batch\",\"group\":null}]",
                           NULL, &err);
    REQUIRE(rc == ERR_OK);
    const service *s = catalog_find_service(c, "1");
    REQUIRE(s != NULL);
    CHECK(s->type == SERVICE_BATCH);
    rc = read_str(c,
                  "{\"service_definition\":{\"service_code\":\"1\",\"attributes\":[{\"code\":"
                  "\"K\",\"datatype\":\"SingleValueList\",\"required\":\"False\",\"order\":"
                  "\"3\",\"variable\":\"true\",\"values\":[{\"key\":123,\"name\":\"x\"}]}]}}",
                  NULL, &err);
    REQUIRE(rc == ERR_OK);
    s = catalog_find_service(c, "1");
    REQUIRE(s != NULL && s->nattrs == 1);
    CHECK_INT(s->attrs[0].order, 3);
    CHECK(!s->attrs[0].required);
    CHECK_STR(s->attrs[0].values[0].key, "123");

    rc = read_str(c,
                  "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                  "<o:services xmlns:o=\"http://wiki.open311.org/GeoReport_v2\" "
                  "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
                  "<o:service><o:service_code>X1</o:service_code><o:service_name> Xylophone "
                  "</o:service_name><o:description xsi:nil=\"true\"/>"
                  "<o:metadata>False</o:metadata></o:service></o:services>",
                  NULL, &err);
    REQUIRE(rc == ERR_OK);
    s = catalog_find_service(c, "X1");
    REQUIRE(s != NULL);
    CHECK_STR(s->name, "Xylophone");
    CHECK(s->description == NULL);
    catalog_free(c);
}

/* ---- the demo catalog ---- */

static void test_demo_catalog(void)
{
    catalog *c = demo_catalog();
    REQUIRE(c != NULL);
    CHECK(c->nservices >= 14);
    CHECK(c->nagencies >= 5);
    bool types[3] = {false}, dtypes[6] = {false};
    bool info = false, optional = false, required = false;
    size_t with_sla = 0, with_notice = 0, with_group = 0, with_keywords = 0;
    for (size_t i = 0; i < c->nservices; i++) {
        const service *s = &c->services[i];
        types[s->type] = true;
        CHECK(s->agency_code != NULL && catalog_find_agency(c, s->agency_code) != NULL);
        with_sla += s->sla_seconds > 0;
        with_notice += s->service_notice != NULL;
        with_group += s->group != NULL;
        with_keywords += s->keywords != NULL;
        for (size_t k = 0; k < s->nattrs; k++) {
            dtypes[s->attrs[k].datatype] = true;
            info |= !s->attrs[k].variable;
            required |= s->attrs[k].required;
            optional |= !s->attrs[k].required && s->attrs[k].variable;
        }
    }
    CHECK(types[SERVICE_REALTIME] && types[SERVICE_BATCH] && types[SERVICE_BLACKBOX]);
    for (size_t t = 0; t < 6; t++)
        CHECK(dtypes[t]);
    CHECK(info && optional && required);
    CHECK(with_sla >= 14 && with_notice >= 10);
    CHECK_INT(with_group, c->nservices);
    CHECK_INT(with_keywords, c->nservices);
    /* The emergency-adjacent service tells people to call 911. */
    const service *gas = catalog_find_service(c, "DEP-GAS");
    REQUIRE(gas != NULL);
    CHECK(strstr(gas->description, "call 911") != NULL);
    CHECK(gas->type == SERVICE_BLACKBOX);

    /* The embedded copy is the file in data/demo. */
    size_t n;
    char *file = slurp("data/demo/catalog.json", &n);
    REQUIRE(file != NULL);
    CHECK(n == demo_catalog_json_len && memcmp(file, demo_catalog_json, n) == 0);
    free(file);
    catalog_free(c);
}

/* ---- bundle round trip ---- */

static void check_round_trip(const catalog *c)
{
    char *text = snapshot(c);
    REQUIRE(text != NULL);
    catalog *back = catalog_new();
    REQUIRE(back != NULL);
    err_t err;
    o311_import_stats st;
    memset(&st, 0, sizeof st);
    err_code rc = read_str(back, text, &st, &err);
    if (rc != ERR_OK)
        fprintf(stderr, "round trip: %s\n", err.msg);
    CHECK(rc == ERR_OK);
    CHECK(catalog_eq(c, back));
    CHECK_INT(st.agencies, c->nagencies);
    CHECK_INT(st.services, c->nservices);
    char *again = snapshot(back);
    CHECK(again != NULL && strcmp(text, again) == 0); /* stable output */
    free(again);
    free(text);
    catalog_free(back);
}

static void test_bundle_round_trip(void)
{
    catalog *c = demo_catalog();
    REQUIRE(c != NULL);
    check_round_trip(c);

    /* Fractional SLA hours, optional texts absent, unordered attributes. */
    attr_value vals[] = {{"A", NULL}, {"B", "Bee \"quoted\" \\ </x>"}};
    attribute attrs[] = {{"L", true, ATTR_MULTIVALUELIST, false, NULL, 0, NULL, vals, 2}};
    service odd = {"ODD", "Odd one", NULL, SERVICE_BLACKBOX, NULL, NULL, NULL, NULL,
                   5400,  attrs,     1};
    err_t err;
    REQUIRE(catalog_add_service(c, &odd, &err) == ERR_OK);
    check_round_trip(c);
    catalog_free(c);

    /* A catalog imported from DC's documents survives the bundle too. */
    c = catalog_new();
    REQUIRE(c != NULL);
    REQUIRE(read_file(c, DATA "dc-services.xml", NULL, &err) == ERR_OK);
    REQUIRE(read_file(c, DATA "dc-services-S0301.xml", NULL, &err) == ERR_OK);
    check_round_trip(c);
    catalog_free(c);
}

/* ---- merge rules ---- */

static void test_merge_rules(void)
{
    catalog *c = demo_catalog();
    REQUIRE(c != NULL);
    const service *before = catalog_find_service(c, "DOT-POTHOLE");
    REQUIRE(before != NULL);
    size_t nattrs = before->nattrs, nservices = c->nservices;
    int64_t sla = before->sla_seconds;
    err_t err;

    /* A plain Open311 list replaces the Open311 fields and keeps ours. */
    REQUIRE(read_str(c,
                     "[{\"service_code\":\"DOT-POTHOLE\",\"service_name\":\"Pothole (new)\"},"
                     "{\"service_code\":\"NEW-1\",\"service_name\":\"New\"}]",
                     NULL, &err) == ERR_OK);
    CHECK_INT(c->nservices, nservices + 1);
    const service *s = catalog_find_service(c, "DOT-POTHOLE");
    REQUIRE(s != NULL);
    CHECK_STR(s->name, "Pothole (new)");
    CHECK(s->description == NULL);
    CHECK_STR(s->agency_code, "DOT");
    CHECK_INT(s->sla_seconds, sla);
    CHECK_INT(s->nattrs, nattrs);
    CHECK_STR(c->services[c->nservices - 1].code, "NEW-1");

    /* A bundle brings its own fields; attributes stay without a definition. */
    REQUIRE(read_str(c,
                     "{\"agencies\":[{\"code\":\"DOT\",\"name\":\"Transportation\"}],"
                     "\"services\":[{\"service_code\":\"DOT-POTHOLE\",\"service_name\":\"P\","
                     "\"agency_code\":\"DOT\",\"sla_hours\":\"12\"}]}",
                     NULL, &err) == ERR_OK);
    s = catalog_find_service(c, "DOT-POTHOLE");
    REQUIRE(s != NULL);
    CHECK_INT(s->sla_seconds, 12 * 3600);
    CHECK(s->service_notice == NULL);
    CHECK_INT(s->nattrs, nattrs);
    CHECK_STR(catalog_find_agency(c, "DOT")->name, "Transportation");

    /* A definition replaces the attributes. */
    REQUIRE(read_str(c,
                     "{\"service_code\":\"DOT-POTHOLE\",\"attributes\":[{\"code\":\"ONLY\","
                     "\"datatype\":\"string\",\"description\":\"Only one\"}]}",
                     NULL, &err) == ERR_OK);
    s = catalog_find_service(c, "DOT-POTHOLE");
    CHECK_INT(s->nattrs, 1);
    CHECK(s->attrs[0].variable); /* the default */
    catalog_free(c);
}

/* An XML bundle reads like the JSON one. */
static void test_xml_bundle(void)
{
    catalog *c = catalog_new();
    REQUIRE(c != NULL);
    err_t err;
    o311_import_stats st;
    memset(&st, 0, sizeof st);
    err_code rc = read_str(
        c,
        "<catalog><agencies><agency><code>DSNY</code><name>Sanitation</name></agency>"
        "</agencies><services><service><service_code>S1</service_code><service_name>Missed"
        "</service_name><agency_code>DSNY</agency_code><sla_hours>48</sla_hours></service>"
        "</services><service_definitions><service_definition><service_code>S1</service_code>"
        "<attributes><attribute><code>D</code><datatype>datetime</datatype></attribute>"
        "</attributes></service_definition></service_definitions></catalog>",
        &st, &err);
    REQUIRE(rc == ERR_OK);
    CHECK_INT(st.agencies, 1);
    CHECK_INT(st.definitions, 1);
    const service *s = catalog_find_service(c, "S1");
    REQUIRE(s != NULL);
    CHECK_INT(s->sla_seconds, 48 * 3600);
    CHECK_INT(s->nattrs, 1);
    CHECK(s->attrs[0].datatype == ATTR_DATETIME);
    catalog_free(c);
}

/* ---- malformed documents ---- */

typedef struct {
    const char *name;
    const char *doc;
    err_code code;
    const char *msg; /* a part of the message */
} bad_case;

#define SVC(extra) "[{\"service_code\":\"Z1\",\"service_name\":\"PRIVATE-VALUE\"" extra "}]"
#define DEF(attr) "{\"service_code\":\"DOT-POTHOLE\",\"attributes\":[" attr "]}"

static const bad_case BAD[] = {
    {"empty", "  \n", ERR_INVALID, "empty"},
    {"not a document", "hello", ERR_INVALID, "neither JSON nor XML"},
    {"truncated JSON", "[{\"service_code\":\"A\",\"service_name\":\"PRIVATE-VALUE", ERR_INVALID,
     "JSON: unexpected end"},
    {"JSON syntax", "[{\"service_code\":\"A\",,}]", ERR_INVALID, "JSON: syntax error at line 1"},
    {"truncated XML", "<services><service><service_code>A</service_code>", ERR_INVALID, "XML: "},
    {"XML mismatched", "<services><service></services>", ERR_INVALID, "XML: mismatched tag"},
    {"bad UTF-8 JSON", SVC(",\"description\":\"\xC3\x28\""), ERR_INVALID, "not valid UTF-8"},
    {"bad UTF-8 XML",
     "<services><service><service_code>A</service_code><service_name>\xED\xA0\x80"
     "</service_name></service></services>",
     ERR_INVALID, "not valid UTF-8"},
    {"wrong root type", "\"services\"", ERR_INVALID, "neither JSON nor XML"},
    {"services not a list", "{\"services\":{\"a\":1}}", ERR_INVALID, "services must be a list"},
    {"service not an object", "[1]", ERR_INVALID, "service 1 must be an object"},
    {"code wrong type", "[{\"service_code\":{\"a\":1},\"service_name\":\"x\"}]", ERR_INVALID,
     "service 1: service_code must be a string"},
    {"name missing", "[{\"service_code\":\"A\"}]", ERR_INVALID, "service_name is missing"},
    {"metadata wrong", SVC(",\"metadata\":\"maybe\""), ERR_INVALID,
     "service 1 (Z1): metadata must be true or false"},
    {"unknown type", SVC(",\"type\":\"sometimes\""), ERR_INVALID,
     "type must be realtime, batch or blackbox"},
    {"invalid code", "[{\"service_code\":\"a b/c\",\"service_name\":\"x\"}]", ERR_INVALID,
     "service code must be"},
    {"duplicate codes",
     "[{\"service_code\":\"A\",\"service_name\":\"x\"},{\"service_code\":\"B\",\"service_name\":"
     "\"y\"},{\"service_code\":\"A\",\"service_name\":\"z\"}]",
     ERR_CONFLICT, "service 3: service code A appears twice"},
    {"duplicate JSON keys", "[{\"service_code\":\"A\",\"service_code\":\"B\"}]", ERR_INVALID,
     "duplicate key"},
    {"unknown datatype", DEF("{\"code\":\"C\",\"datatype\":\"checkbox\"}"), ERR_INVALID,
     "attribute 1 (C): datatype must be string, number"},
    {"datatype missing", DEF("{\"code\":\"C\"}"), ERR_INVALID, "datatype is missing"},
    {"list without values", DEF("{\"code\":\"C\",\"datatype\":\"singlevaluelist\",\"values\":[]}"),
     ERR_INVALID, "a singlevaluelist attribute needs values"},
    {"order negative", DEF("{\"code\":\"C\",\"datatype\":\"text\",\"order\":-1}"), ERR_INVALID,
     "order must be a whole number"},
    {"attributes not a list", "{\"service_code\":\"DOT-POTHOLE\",\"attributes\":{}}", ERR_INVALID,
     "attributes must be a list"},
    {"value without key",
     DEF("{\"code\":\"C\",\"datatype\":\"multivaluelist\",\"values\":[{\"name\":\"n\"}]}"),
     ERR_INVALID, "value 1: key is missing"},
    {"duplicate attribute codes",
     DEF("{\"code\":\"C\",\"datatype\":\"text\"},{\"code\":\"C\",\"datatype\":\"string\"}"),
     ERR_CONFLICT, "attribute C appears twice"},
    {"duplicate value keys",
     DEF("{\"code\":\"C\",\"datatype\":\"singlevaluelist\",\"values\":[{\"key\":\"k\"},"
         "{\"key\":\"k\"}]}"),
     ERR_CONFLICT, "value key appears twice"},
    {"definition without service", "{\"service_code\":\"NOPE\",\"attributes\":[]}", ERR_NOT_FOUND,
     "no such service"},
    {"duplicate definitions",
     "{\"service_definitions\":[{\"service_code\":\"DOT-POTHOLE\"},{\"service_code\":"
     "\"DOT-POTHOLE\"}]}",
     ERR_CONFLICT, "service definition 2: service code DOT-POTHOLE appears twice"},
    {"duplicate agencies",
     "{\"agencies\":[{\"code\":\"X\",\"name\":\"a\"},{\"code\":\"X\",\"name\":\"b\"}]}",
     ERR_CONFLICT, "agency 2: agency code X appears twice"},
    {"unknown agency",
     "{\"services\":[{\"service_code\":\"Q\",\"service_name\":\"q\","
     "\"agency_code\":\"NOSUCH\"}]}",
     ERR_INVALID, "agency_code NOSUCH is not a known agency"},
    {"sla negative",
     "{\"services\":[{\"service_code\":\"Q\",\"service_name\":\"q\","
     "\"sla_hours\":-5}]}",
     ERR_INVALID, "sla_hours must be"},
    {"unknown shape", "{\"hello\":1}", ERR_INVALID, "not a services list"},
    {"XML unexpected element", "<services><foo>PRIVATE-VALUE</foo></services>", ERR_INVALID,
     "unexpected element in a list: <foo>"},
    {"XML duplicate element",
     "<services><service><service_code>A</service_code><service_code>B</service_code>"
     "</service></services>",
     ERR_INVALID, "element appears twice: <service_code>"},
    {"XML DOCTYPE",
     "<?xml version=\"1.0\"?><!DOCTYPE services [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
     "\"&a;&a;&a;&a;&a;&a;&a;&a;\">]><services><service><service_code>&b;</service_code>"
     "</service></services>",
     ERR_INVALID, "DOCTYPE declarations are not accepted"},
    {"XML unknown datatype",
     "<service_definition><service_code>DOT-POTHOLE</service_code><attributes><attribute>"
     "<code>C</code><datatype>slider</datatype></attribute></attributes></service_definition>",
     ERR_INVALID, "datatype must be"},
    {"XML list without values",
     "<service_definition><service_code>DOT-POTHOLE</service_code><attribute>"
     "<code>C</code><datatype>multivaluelist</datatype><values/></attribute>"
     "</service_definition>",
     ERR_INVALID, "a multivaluelist attribute needs values"},
};

/* Each bad document: the expected code and message, a message without the
 * document's values, and the catalog exactly as it was. */
static void check_rejected(catalog *c, const char *before, const char *name, const char *doc,
                           size_t n, err_code code, const char *msg)
{
    err_t err;
    err_clear(&err);
    o311_import_stats st = {9, 9, 9, 9};
    err_code rc = o311_catalog_read(c, doc, n, &st, &err);
    if (rc != code || strstr(err.msg, msg) == NULL) {
        testlib_failures++;
        fprintf(stderr, "%s: %s: got %s \"%s\", want %s \"...%s...\"\n", testlib_current, name,
                err_code_name(rc), err.msg, err_code_name(code), msg);
    }
    CHECK(err.code == rc);
    CHECK(strstr(err.msg, "PRIVATE") == NULL && strstr(err.msg, "aaaa") == NULL);
    /* Counts are added on success only. */
    CHECK(st.services == 9 && st.definitions == 9 && st.agencies == 9 &&
          st.metadata_without_definition == 9);
    char *after = snapshot(c);
    CHECK(after != NULL && strcmp(before, after) == 0);
    free(after);
}

static void test_malformed(void)
{
    catalog *c = demo_catalog();
    REQUIRE(c != NULL);
    char *before = snapshot(c);
    REQUIRE(before != NULL);
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        check_rejected(c, before, BAD[i].name, BAD[i].doc, strlen(BAD[i].doc), BAD[i].code,
                       BAD[i].msg);

    /* Truncated real documents. */
    size_t n;
    char *doc = slurp("data/demo/catalog.json", &n);
    REQUIRE(doc != NULL);
    check_rejected(c, before, "truncated demo", doc, n / 2, ERR_INVALID, "JSON: unexpected end");
    free(doc);
    doc = slurp(DATA "dc-services-S0301.xml", &n);
    REQUIRE(doc != NULL);
    check_rejected(c, before, "truncated S0301", doc, n - 40, ERR_INVALID, "XML: ");
    free(doc);

    /* A NUL inside the document. */
    check_rejected(c, before, "NUL", "[{\"a\":\0}]", 8, ERR_INVALID, "JSON: ");
    free(before);
    catalog_free(c);
}

static void test_limits(void)
{
    catalog *c = demo_catalog();
    REQUIRE(c != NULL);
    char *before = snapshot(c);
    REQUIRE(before != NULL);

    /* Deeper than 32 levels, in both formats. */
    buf_t b = BUF_INIT;
    for (int i = 0; i < 40; i++)
        buf_putc(&b, '[');
    for (int i = 0; i < 40; i++)
        buf_putc(&b, ']');
    REQUIRE(!buf_failed(&b));
    check_rejected(c, before, "deep JSON", b.data, b.len, ERR_INVALID, "deeper than 32");
    buf_reset(&b);
    for (int i = 0; i < 40; i++)
        buf_puts(&b, "<services>");
    for (int i = 0; i < 40; i++)
        buf_puts(&b, "</services>");
    REQUIRE(!buf_failed(&b));
    check_rejected(c, before, "deep XML", b.data, b.len, ERR_INVALID, "deeper than 32");
    buf_free(&b);

    /* Over 16 MiB: refused before any parsing. */
    size_t big = 16u * 1024 * 1024 + 1;
    char *huge = malloc(big);
    REQUIRE(huge != NULL);
    memset(huge, ' ', big);
    huge[0] = '[';
    check_rejected(c, before, "too large", huge, big, ERR_TOO_LARGE, "larger than 16 MiB");
    free(huge);
    free(before);
    catalog_free(c);
}

TEST_MAIN(TEST(test_dc_services), TEST(test_dc_definition), TEST(test_bloomington),
          TEST(test_san_francisco), TEST(test_giessen), TEST(test_wiki_definition_without_wrapper),
          TEST(test_deviations), TEST(test_demo_catalog), TEST(test_bundle_round_trip),
          TEST(test_merge_rules), TEST(test_xml_bundle), TEST(test_malformed), TEST(test_limits))
