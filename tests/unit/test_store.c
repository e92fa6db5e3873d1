/*
 * test_store.c - the store against a real SQLite file in a temp directory:
 * migrations, the catalog, api keys, requests and their history, batch
 * tokens, the query plans of the searches, and a randomized comparison of
 * store_request_search with the reference srq_matches().
 *
 * The test opens the database file with SQLite directly where the store
 * deliberately offers no way: to see that no personal data was written
 * (the privacy engine seals it; tests/unit/test_store_privacy.c covers its
 * storage) and to EXPLAIN the search SQL.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/schema.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "testlib.h"
#include "storefx.h"

/* ---- a small catalog ---- */

static attr_value SIZE_VALUES[] = {{"small", "Small"}, {"large", "Large"}, {"huge", "Huge"}};
static attr_value WHERE_VALUES[] = {{"road", "Road"}, {"sidewalk", "Sidewalk"}};

static attribute POTHOLE_ATTRS[] = {
    {"size", true, ATTR_SINGLEVALUELIST, true, "How big?", 2, "Size of the hole", SIZE_VALUES, 3},
    {"where", true, ATTR_MULTIVALUELIST, false, NULL, 1, "Where is it?", WHERE_VALUES, 2},
    {"note", false, ATTR_TEXT, false, NULL, 0, "Crews come within a week.", NULL, 0},
    {"depth", true, ATTR_NUMBER, false, "centimetres", 3, "How deep?", NULL, 0},
};

static const char *const CODES[] = {"pothole", "graffiti", "light", "tree"};
#define NCODES 4

static const agency CATALOG_AGENCIES[] = {{"DOT", "Department of Transportation"},
                                          {"DSNY", "Department of Sanitation"}};
static const service CATALOG_SERVICES[] = {
    {"pothole", "Pothole", "A hole in the road", SERVICE_REALTIME, "road,hole", "Streets", "DOT",
     "Thank you", 7 * 86400, POTHOLE_ATTRS, 4},
    {"graffiti", "Graffiti", NULL, SERVICE_BATCH, NULL, NULL, "DSNY", NULL, 0, NULL, 0},
    {"light", "Street light", NULL, SERVICE_REALTIME, NULL, "Streets", NULL, NULL, 86400, NULL, 0},
    {"tree", "Tree", NULL, SERVICE_BLACKBOX, NULL, NULL, NULL, NULL, 0, NULL, 0},
};

/* A fixture with the catalog in it. */
static bool fx_open_with_catalog(storefx *fx)
{
    if (!storefx_open(fx))
        return false;
    size_t na = sizeof CATALOG_AGENCIES / sizeof CATALOG_AGENCIES[0];
    size_t ns = sizeof CATALOG_SERVICES / sizeof CATALOG_SERVICES[0];
    bool ok = storefx_put_services(fx->s, CATALOG_AGENCIES, na, CATALOG_SERVICES, ns);
    if (!ok)
        storefx_close(fx);
    return ok;
}

/* ---- opening and migrations ---- */

static void test_urls(void)
{
    err_t err = {0};
    store_t *s = NULL;
    store_options opt = {.url = "postgresql://u:secret@db/civic", .sync = true};
    CHECK_INT(store_open(&opt, &s, &err), ERR_INVALID);
    CHECK_STR(err.msg, "this build has no PostgreSQL backend yet");
    opt.url = "postgres://db/civic";
    CHECK_INT(store_open(&opt, &s, &err), ERR_INVALID);
    CHECK(strstr(err.msg, "secret") == NULL);
    opt.url = "mysql://db/civic";
    CHECK_INT(store_open(&opt, &s, &err), ERR_INVALID);
    opt.url = "";
    CHECK_INT(store_open(&opt, &s, &err), ERR_INVALID);
    opt.url = "sqlite:";
    CHECK_INT(store_open(&opt, &s, &err), ERR_INVALID);
    CHECK(s == NULL);

    storefx fx;
    REQUIRE(storefx_open(&fx));
    char url[160];
    snprintf(url, sizeof url, "sqlite:%s", fx.path);
    opt.url = url;
    CHECK_INT(store_open(&opt, &s, &err), ERR_OK);
    int version = -1;
    CHECK_INT(store_schema_version(s, &version, &err), ERR_OK);
    CHECK_INT(version, schema_latest());
    store_close(s);
    storefx_close(&fx);
}

static void test_migrate_idempotent(void)
{
    err_t err = {0};
    storefx fx;
    REQUIRE(storefx_dir(&fx));
    store_options opt = {.url = fx.path, .sync = true};
    store_t *s = NULL;
    REQUIRE(store_open(&opt, &s, &err) == ERR_OK);

    int version = -1;
    CHECK_INT(store_schema_version(s, &version, &err), ERR_OK);
    CHECK_INT(version, 0);
    CHECK_INT(store_migrate(s, &err), ERR_OK);
    CHECK_INT(store_schema_version(s, &version, &err), ERR_OK);
    CHECK_INT(version, schema_latest());
    CHECK_INT(store_migrate(s, &err), ERR_OK);
    CHECK_INT(store_migrate(s, &err), ERR_OK);
    CHECK_INT(store_schema_version(s, &version, &err), ERR_OK);
    CHECK_INT(version, schema_latest());

    /* A reader connection sees the version and cannot migrate. */
    store_t *ro = NULL;
    store_options ro_opt = {.url = fx.path, .read_only = true};
    REQUIRE(store_open(&ro_opt, &ro, &err) == ERR_OK);
    CHECK_INT(store_schema_version(ro, &version, &err), ERR_OK);
    CHECK_INT(version, schema_latest());
    CHECK_INT(store_migrate(ro, &err), ERR_INVALID);
    store_close(ro);
    store_close(s);

    /* One row per migration; the file is in WAL mode. */
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    CHECK_INT(raw_int(db, "SELECT COUNT(*) FROM schema_version"),
              (long long)SCHEMA_MIGRATION_COUNT);
    sqlite3_stmt *st = NULL;
    REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);

    /* A database from a newer build is refused, not downgraded. */
    CHECK(raw_exec(db, "INSERT INTO schema_version VALUES (999, 0)"));
    sqlite3_close(db);
    REQUIRE(store_open(&opt, &s, &err) == ERR_OK);
    CHECK_INT(store_migrate(s, &err), ERR_CONFLICT);
    store_close(s);
    storefx_close(&fx);
}

static void test_transactions(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open_with_catalog(&fx));
    service_request sr = storefx_request("pothole", 1000);
    /* Writes need the caller's transaction. */
    CHECK_INT(store_request_insert(fx.s, &sr, &err), ERR_INTERNAL);
    CHECK_INT(store_savepoint(fx.s, &err), ERR_INTERNAL);

    /* A rolled-back savepoint undoes only its own writes. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_request_insert(fx.s, &sr, &err), ERR_OK);
    CHECK_INT(store_savepoint(fx.s, &err), ERR_OK);
    service_request sr2 = storefx_request("pothole", 1001);
    CHECK_INT(store_request_insert(fx.s, &sr2, &err), ERR_OK);
    store_rollback_to(fx.s);
    CHECK_INT(store_savepoint(fx.s, &err), ERR_OK);
    service_request sr3 = storefx_request("light", 1002);
    CHECK_INT(store_request_insert(fx.s, &sr3, &err), ERR_OK);
    CHECK_INT(store_release(fx.s, &err), ERR_OK);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    int64_t n = 0;
    CHECK_INT(store_request_count(fx.s, &n, &err), ERR_OK);
    CHECK_INT(n, 2);

    /* A rolled-back transaction leaves nothing. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    service_request sr4 = storefx_request("light", 1003);
    CHECK_INT(store_request_insert(fx.s, &sr4, &err), ERR_OK);
    store_rollback(fx.s);
    store_rollback(fx.s); /* twice is harmless */
    CHECK_INT(store_request_count(fx.s, &n, &err), ERR_OK);
    CHECK_INT(n, 2);
    storefx_close(&fx);
}

/* ---- catalog ---- */

static void check_pothole(const service *p)
{
    CHECK_STR(p->name, "Pothole");
    CHECK_STR(p->description, "A hole in the road");
    CHECK_INT(p->type, SERVICE_REALTIME);
    CHECK_STR(p->keywords, "road,hole");
    CHECK_STR(p->group, "Streets");
    CHECK_STR(p->agency_code, "DOT");
    CHECK_STR(p->service_notice, "Thank you");
    CHECK_INT(p->sla_seconds, 7 * 86400);
    REQUIRE(p->nattrs == 4);
    /* Sorted by order, unordered last: where(1), size(2), depth(3), note(0). */
    CHECK_STR(p->attrs[0].code, "where");
    CHECK_STR(p->attrs[1].code, "size");
    CHECK_STR(p->attrs[2].code, "depth");
    CHECK_STR(p->attrs[3].code, "note");
    const attribute *size = &p->attrs[1];
    CHECK(size->variable && size->required);
    CHECK_INT(size->datatype, ATTR_SINGLEVALUELIST);
    CHECK_STR(size->datatype_description, "How big?");
    CHECK_INT(size->order, 2);
    CHECK_STR(size->description, "Size of the hole");
    REQUIRE(size->nvalues == 3);
    CHECK_STR(size->values[0].key, "small");
    CHECK_STR(size->values[1].key, "large");
    CHECK_STR(size->values[2].key, "huge");
    CHECK_STR(size->values[2].name, "Huge");
    CHECK(!p->attrs[3].variable);
    CHECK(p->attrs[3].datatype_description == NULL);
    CHECK_INT(p->attrs[0].datatype, ATTR_MULTIVALUELIST);
    CHECK_INT(p->attrs[2].datatype, ATTR_NUMBER);
}

static void test_catalog_roundtrip(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open_with_catalog(&fx));
    catalog *c = NULL;
    REQUIRE(store_catalog_load(fx.s, &c, &err) == ERR_OK);
    CHECK_INT(c->nagencies, 2);
    CHECK_STR(catalog_find_agency(c, "DSNY")->name, "Department of Sanitation");
    REQUIRE(c->nservices == NCODES);
    for (size_t i = 0; i < NCODES; i++)
        CHECK_STR(c->services[i].code, CODES[i]);
    check_pothole(&c->services[0]);
    CHECK_INT(c->services[1].type, SERVICE_BATCH);
    CHECK(c->services[1].description == NULL);
    CHECK_INT(c->services[2].sla_seconds, 86400);
    CHECK(c->services[2].agency_code == NULL);
    CHECK_INT(c->services[3].type, SERVICE_BLACKBOX);
    catalog_free(c);

    /* Put again: graffiti replaced (questions too), a new service goes
     * last, the others keep their place, an agency is renamed. */
    catalog *upd = catalog_new();
    REQUIRE(upd != NULL);
    agency dot = {"DOT", "Transportation"};
    attr_value colours[] = {{"red", "Red"}, {"blue", "Blue"}};
    attribute colour = {"colour", true, ATTR_SINGLEVALUELIST, true, NULL, 1, "Colour?", colours, 2};
    service graffiti = {
        "graffiti", "Graffiti removal", NULL, SERVICE_REALTIME, NULL, NULL, NULL, NULL, 0, &colour,
        1};
    service bench = {"bench", "Broken bench", NULL, SERVICE_REALTIME, NULL, NULL, NULL, NULL,
                     0,       NULL,           0};
    CHECK(catalog_add_agency(upd, &dot, &err) == ERR_OK);
    CHECK(catalog_add_service(upd, &bench, &err) == ERR_OK);
    CHECK(catalog_add_service(upd, &graffiti, &err) == ERR_OK);
    CHECK(storefx_put_catalog(fx.s, upd));
    CHECK(storefx_put_catalog(fx.s, upd)); /* idempotent */
    catalog_free(upd);

    REQUIRE(store_catalog_load(fx.s, &c, &err) == ERR_OK);
    REQUIRE(c->nservices == NCODES + 1);
    CHECK_STR(c->services[0].code, "pothole");
    CHECK_STR(c->services[1].code, "graffiti");
    CHECK_STR(c->services[1].name, "Graffiti removal");
    CHECK_INT(c->services[1].type, SERVICE_REALTIME);
    CHECK(c->services[1].agency_code == NULL);
    REQUIRE(c->services[1].nattrs == 1);
    CHECK_INT(c->services[1].attrs[0].nvalues, 2);
    CHECK_STR(c->services[1].attrs[0].values[1].key, "blue");
    CHECK_STR(c->services[4].code, "bench");
    CHECK_STR(catalog_find_agency(c, "DOT")->name, "Transportation");
    check_pothole(&c->services[0]);
    catalog_free(c);

    /* Replacing a service's questions with none removes them. */
    upd = catalog_new();
    REQUIRE(upd != NULL);
    graffiti.attrs = NULL;
    graffiti.nattrs = 0;
    CHECK(catalog_add_service(upd, &graffiti, &err) == ERR_OK);
    CHECK(storefx_put_catalog(fx.s, upd));
    catalog_free(upd);
    REQUIRE(store_catalog_load(fx.s, &c, &err) == ERR_OK);
    CHECK_INT(catalog_find_service(c, "graffiti")->nattrs, 0);
    catalog_free(c);
    storefx_close(&fx);
}

/* ---- api keys ---- */

static void test_apikeys(void)
{
    storefx fx;
    err_t err;
    REQUIRE(storefx_open(&fx));
    unsigned char h1[STORE_KEY_HASH_LEN], h2[STORE_KEY_HASH_LEN], h3[STORE_KEY_HASH_LEN];
    memset(h1, 0x11, sizeof h1);
    memset(h2, 0x22, sizeof h2);
    memset(h3, 0x33, sizeof h3);
    h1[0] = 0; /* a hash may hold NUL bytes */

    int64_t id1 = 0, id2 = 0, found = 0;
    CHECK_INT(store_apikey_insert(fx.s, "FixMyStreet", h1, 100, &id1, &err), ERR_OK);
    CHECK_INT(store_apikey_insert(fx.s, "SeeClickFix", h2, 100, &id2, &err), ERR_OK);
    CHECK(id1 > 0 && id2 > id1);
    CHECK_INT(store_apikey_insert(fx.s, "again", h1, 101, &found, &err), ERR_CONFLICT);
    CHECK_INT(store_apikey_insert(fx.s, "", h3, 101, &found, &err), ERR_INVALID);

    CHECK_INT(store_apikey_find(fx.s, h1, &found, &err), ERR_OK);
    CHECK_INT(found, id1);
    CHECK_INT(store_apikey_find(fx.s, h2, &found, &err), ERR_OK);
    CHECK_INT(found, id2);
    CHECK_INT(store_apikey_find(fx.s, h3, &found, &err), ERR_NOT_FOUND);

    /* A revoked key is not found. */
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE api_key SET revoked_at = 200 WHERE id = %lld",
             (long long)id2);
    CHECK(raw_exec(db, sql));
    sqlite3_close(db);
    CHECK_INT(store_apikey_find(fx.s, h2, &found, &err), ERR_NOT_FOUND);
    storefx_close(&fx);
}

/* ---- requests ---- */

static const char *WHERE_ANSWER[] = {"road", "sidewalk"};
static const char *SIZE_ANSWER[] = {"large"};

static service_request full_request(int64_t api_key_id)
{
    static sr_answer answers[] = {{"size", SIZE_ANSWER, 1}, {"where", WHERE_ANSWER, 2}};
    service_request sr = storefx_request("pothole", 1700000000);
    sr.agency_code = "DOT";
    sr.service_notice = "Thank you";
    sr.updated_at = 1700000005;
    sr.expected_at = 1700000000 + 7 * 86400;
    sr.has_location = true;
    sr.lat = 40.712776;
    sr.lon = -74.005974;
    sr.address = "1 Centre St";
    sr.address_id = "A-17";
    sr.zipcode = "10007";
    sr.description = "Big hole, \"deep\"; 'careful'";
    sr.media_url = "https://example.org/p.jpg";
    sr.channel = SR_CHANNEL_MOBILE;
    sr.api_key_id = api_key_id;
    sr.answers = answers;
    sr.nanswers = 2;
    sr.reporter.first_name = "Ada";
    sr.reporter.email = "ada@example.org";
    sr.reporter.device_id = "dev-1";
    sr.reporter.account_id = "acct-9";
    return sr;
}

static void check_full(const service_request *got, const service_request *want)
{
    CHECK_INT(got->id, want->id);
    CHECK(got->token == NULL);
    CHECK_STR(got->service_code, want->service_code);
    CHECK_INT(got->status, SR_OPEN);
    CHECK_INT(got->resolution, SR_RES_NONE);
    CHECK(got->status_notes == NULL);
    CHECK_STR(got->agency_code, want->agency_code);
    CHECK_STR(got->service_notice, want->service_notice);
    CHECK_INT(got->requested_at, want->requested_at);
    CHECK_INT(got->updated_at, want->updated_at);
    CHECK_INT(got->expected_at, want->expected_at);
    CHECK_INT(got->closed_at, 0);
    CHECK(got->has_location);
    CHECK(got->lat == want->lat && got->lon == want->lon);
    CHECK_STR(got->address, want->address);
    CHECK_STR(got->address_id, want->address_id);
    CHECK_STR(got->zipcode, want->zipcode);
    CHECK_STR(got->description, want->description);
    CHECK_STR(got->media_url, want->media_url);
    CHECK_INT(got->channel, want->channel);
    CHECK_INT(got->api_key_id, want->api_key_id);
    CHECK_INT(got->nanswers, 0);
    /* Reads never carry personal data. */
    for (size_t i = 0; i < SR_PERSONAL_FIELD_COUNT; i++)
        CHECK(sr_reporter_get(&got->reporter, &SR_PERSONAL_FIELDS[i]) == NULL);
}

/* store_request_insert keeps none of the reporter's fields (the privacy
 * engine seals and stores them itself): no sealed row appears, the old
 * plaintext table is gone, and no value is anywhere in the file or its
 * WAL. */
static void check_no_personal_data(const storefx *fx, const service_request *sr)
{
    sqlite3 *db = raw_open(fx->path);
    REQUIRE(db != NULL);
    CHECK_INT(raw_int(db, "SELECT COUNT(*) FROM personal_field"), 0);
    CHECK_INT(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'request_personal'"), 0);
    sqlite3_close(db);
    size_t given = 0;
    for (size_t i = 0; i < SR_PERSONAL_FIELD_COUNT; i++) {
        const char *value = sr_reporter_get(&sr->reporter, &SR_PERSONAL_FIELDS[i]);
        if (value == NULL)
            continue;
        given++;
        CHECK(!file_contains_str(fx->path, value));
        CHECK(!file_contains_str(fx->wal, value));
    }
    CHECK_INT(given, 4);
    /* The check can fail: a value the store does keep is found. */
    CHECK(file_contains_str(fx->wal, sr->address) || file_contains_str(fx->path, sr->address));
}

static void test_request_roundtrip(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open_with_catalog(&fx));
    unsigned char h[STORE_KEY_HASH_LEN] = {1, 2, 3};
    int64_t key = 0;
    REQUIRE(store_apikey_insert(fx.s, "client", h, 1, &key, &err) == ERR_OK);

    service_request sr = full_request(key);
    REQUIRE(storefx_insert(fx.s, &sr, &err) == ERR_OK);
    CHECK(sr.id > 0);

    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    service_request got;
    CHECK_INT(store_request_get(fx.s, sr.id, pool, &got, &err), ERR_OK);
    check_full(&got, &sr);
    check_no_personal_data(&fx, &sr);

    sr_answer *answers = NULL;
    size_t n = 0;
    CHECK_INT(store_request_answers(fx.s, sr.id, pool, &answers, &n, &err), ERR_OK);
    REQUIRE(n == 2);
    CHECK_STR(answers[0].code, "size");
    CHECK_INT(answers[0].nvalues, 1);
    CHECK_STR(answers[0].values[0], "large");
    CHECK_STR(answers[1].code, "where");
    REQUIRE(answers[1].nvalues == 2);
    CHECK_STR(answers[1].values[0], "road");
    CHECK_STR(answers[1].values[1], "sidewalk");

    sr_event *ev = NULL;
    CHECK_INT(store_events_list(fx.s, sr.id, true, pool, &ev, &n, &err), ERR_OK);
    REQUIRE(n == 1);
    CHECK_INT(ev[0].kind, SR_EV_CREATED);
    CHECK_INT(ev[0].at, sr.requested_at);
    CHECK_INT(ev[0].status, SR_OPEN);
    CHECK(ev[0].public_note);
    char actor[32];
    snprintf(actor, sizeof actor, "api:%lld", (long long)key);
    CHECK_STR(ev[0].actor, actor);

    /* Without an api key: "system"; without answers: an empty list. */
    service_request plain = storefx_request("light", 1700000100);
    REQUIRE(storefx_insert(fx.s, &plain, &err) == ERR_OK);
    CHECK_INT(store_events_list(fx.s, plain.id, false, pool, &ev, &n, &err), ERR_OK);
    REQUIRE(n == 1);
    CHECK_STR(ev[0].actor, "system");
    CHECK_INT(store_request_answers(fx.s, plain.id, pool, &answers, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_request_get(fx.s, plain.id, pool, &got, &err), ERR_OK);
    CHECK(!got.has_location);
    CHECK_INT(got.expected_at, 0);
    CHECK(got.address == NULL && got.description == NULL);
    CHECK_INT(got.api_key_id, 0);

    int64_t count = 0;
    CHECK_INT(store_request_count(fx.s, &count, &err), ERR_OK);
    CHECK_INT(count, 2);
    pool_free(pool);
    storefx_close(&fx);
}

static void test_bad_inputs(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open_with_catalog(&fx));
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    service_request got;
    sr_answer *answers;
    sr_event *evs;
    size_t n;
    int64_t id;

    CHECK_INT(store_request_get(fx.s, 424242, pool, &got, &err), ERR_NOT_FOUND);
    CHECK_INT(store_request_get(fx.s, 0, pool, &got, &err), ERR_NOT_FOUND);
    CHECK_INT(store_request_get(fx.s, -5, pool, &got, &err), ERR_NOT_FOUND);
    CHECK_INT(store_request_answers(fx.s, 424242, pool, &answers, &n, &err), ERR_NOT_FOUND);
    CHECK_INT(store_events_list(fx.s, 424242, false, pool, &evs, &n, &err), ERR_NOT_FOUND);
    CHECK_INT(store_token_find(fx.s, "nope", &id, &err), ERR_NOT_FOUND);
    CHECK_INT(store_token_find(fx.s, "", &id, &err), ERR_NOT_FOUND);

    sr_event ev = {.request_id = 424242,
                   .at = 5,
                   .kind = SR_EV_STATUS,
                   .status = SR_IN_PROGRESS,
                   .actor = "staff:1"};
    CHECK_INT(storefx_append(fx.s, &ev, &err), ERR_NOT_FOUND);
    ev.kind = SR_EV_CREATED;
    CHECK_INT(storefx_append(fx.s, &ev, &err), ERR_INVALID);
    ev.kind = SR_EV_STATUS;
    ev.actor = NULL;
    CHECK_INT(storefx_append(fx.s, &ev, &err), ERR_INVALID);

    /* Unknown service (a foreign key), an unknown api key, bad enums. */
    service_request sr = storefx_request("no-such-service", 10);
    CHECK_INT(storefx_insert(fx.s, &sr, &err), ERR_INVALID);
    CHECK(strstr(err.msg, "no-such-service") == NULL);
    sr = storefx_request("pothole", 10);
    sr.api_key_id = 77;
    CHECK_INT(storefx_insert(fx.s, &sr, &err), ERR_INVALID);
    sr = storefx_request("pothole", 10);
    sr.status = (sr_status)42;
    CHECK_INT(storefx_insert(fx.s, &sr, &err), ERR_INVALID);
    sr = storefx_request("pothole", 10);
    sr.has_location = true;
    sr.lat = 91.0;
    CHECK_INT(storefx_insert(fx.s, &sr, &err), ERR_INVALID);
    sr = storefx_request(NULL, 10);
    CHECK_INT(storefx_insert(fx.s, &sr, &err), ERR_INVALID);

    /* Queries out of bounds. */
    sr_query q;
    service_request *res;
    srq_init(&q, 1000);
    q.page_size = 0;
    CHECK_INT(store_request_search(fx.s, &q, pool, &res, &n, &err), ERR_INVALID);
    q.page_size = SRQ_MAX_RESULTS + 1;
    CHECK_INT(store_request_search(fx.s, &q, pool, &res, &n, &err), ERR_INVALID);
    q.page_size = 10;
    q.page = 0;
    CHECK_INT(store_request_search(fx.s, &q, pool, &res, &n, &err), ERR_INVALID);
    q.page = SIZE_MAX;
    CHECK_INT(store_request_search(fx.s, &q, pool, &res, &n, &err), ERR_INVALID);
    q.page = 1;
    q.status_mask = 1u << 9;
    CHECK_INT(store_request_search(fx.s, &q, pool, &res, &n, &err), ERR_INVALID);
    q.status_mask = 0;
    q.nids = SRQ_MAX_IDS + 1;
    int64_t *ids = calloc(q.nids, sizeof *ids);
    REQUIRE(ids != NULL);
    q.ids = ids;
    CHECK_INT(store_request_search(fx.s, &q, pool, &res, &n, &err), ERR_TOO_LARGE);
    free(ids);
    CHECK_INT(store_updates_search(fx.s, 0, 10, 0, 10, pool, &evs, &n, &err), ERR_INVALID);

    int64_t count = -1;
    CHECK_INT(store_request_count(fx.s, &count, &err), ERR_OK);
    CHECK_INT(count, 0);
    pool_free(pool);
    storefx_close(&fx);
}

/* ---- batch tokens ---- */

static void test_tokens_and_batch(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open_with_catalog(&fx));
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    const char *tokens[] = {"tok-a", "tok-b", "tok-c"};
    for (int i = 0; i < 3; i++) {
        service_request sr = storefx_request("graffiti", 5000 + i);
        sr.token = tokens[i];
        REQUIRE(storefx_insert(fx.s, &sr, &err) == ERR_OK);
        CHECK_INT(sr.id, 0); /* pending: no id yet */
    }
    service_request dup = storefx_request("graffiti", 6000);
    dup.token = "tok-a";
    CHECK_INT(storefx_insert(fx.s, &dup, &err), ERR_CONFLICT);
    service_request visible = storefx_request("pothole", 5500);
    REQUIRE(storefx_insert(fx.s, &visible, &err) == ERR_OK);

    int64_t id = -1, count = -1;
    CHECK_INT(store_token_find(fx.s, "tok-a", &id, &err), ERR_OK);
    CHECK_INT(id, 0);
    CHECK_INT(store_request_count(fx.s, &count, &err), ERR_OK);
    CHECK_INT(count, 1);
    sr_query q;
    srq_init(&q, 10000);
    service_request *res;
    size_t n;
    CHECK_INT(store_request_search(fx.s, &q, pool, &res, &n, &err), ERR_OK);
    REQUIRE(n == 1);
    CHECK_INT(res[0].id, visible.id);

    /* Publishing needs a transaction, goes oldest first, and stops at max. */
    size_t published = 99;
    CHECK_INT(store_batch_publish(fx.s, 7000, 2, &published, &err), ERR_INTERNAL);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_batch_publish(fx.s, 7000, 2, &published, &err), ERR_OK);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    CHECK_INT(published, 2);
    int64_t ida = 0, idb = 0, idc = -1;
    CHECK_INT(store_token_find(fx.s, "tok-a", &ida, &err), ERR_OK);
    CHECK_INT(store_token_find(fx.s, "tok-b", &idb, &err), ERR_OK);
    CHECK_INT(store_token_find(fx.s, "tok-c", &idc, &err), ERR_OK);
    CHECK(ida > 0 && idb > ida);
    CHECK_INT(idc, 0);
    service_request got;
    CHECK_INT(store_request_get(fx.s, ida, pool, &got, &err), ERR_OK);
    CHECK_STR(got.token, "tok-a");
    CHECK_INT(got.requested_at, 5000);
    CHECK_INT(got.updated_at, 7000);
    CHECK_INT(store_request_count(fx.s, &count, &err), ERR_OK);
    CHECK_INT(count, 3);

    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_batch_publish(fx.s, 7001, 100, &published, &err), ERR_OK);
    CHECK_INT(published, 1);
    CHECK_INT(store_batch_publish(fx.s, 7002, 100, &published, &err), ERR_OK);
    CHECK_INT(published, 0);
    CHECK_INT(store_commit(fx.s, &err), ERR_OK);
    CHECK_INT(store_token_find(fx.s, "tok-c", &idc, &err), ERR_OK);
    CHECK(idc > idb);
    pool_free(pool);
    storefx_close(&fx);
}

/* ---- events ---- */

static sr_event status_event(int64_t id, int64_t at, sr_status st, sr_resolution res,
                             const char *note, bool public_note)
{
    sr_event ev = {.request_id = id,
                   .at = at,
                   .kind = SR_EV_STATUS,
                   .status = st,
                   .resolution = res,
                   .note = note,
                   .public_note = public_note,
                   .actor = "staff:7"};
    return ev;
}

static void test_events_and_status(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open_with_catalog(&fx));
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    service_request sr = storefx_request("pothole", 1000);
    REQUIRE(storefx_insert(fx.s, &sr, &err) == ERR_OK);
    service_request got;

    sr_event ev = status_event(sr.id, 2000, SR_IN_PROGRESS, SR_RES_NONE, "Crew sent", true);
    CHECK_INT(storefx_append(fx.s, &ev, &err), ERR_OK);
    int64_t first_update = ev.id;
    CHECK(first_update > 0);
    CHECK_INT(store_request_get(fx.s, sr.id, pool, &got, &err), ERR_OK);
    CHECK_INT(got.status, SR_IN_PROGRESS);
    CHECK_INT(got.updated_at, 2000);
    CHECK_STR(got.status_notes, "Crew sent");
    CHECK_INT(got.closed_at, 0);

    /* A private note: status and public notes stay; the event records the
     * request's status whatever the caller put in it. */
    sr_event note = {.request_id = sr.id,
                     .at = 2500,
                     .kind = SR_EV_NOTE,
                     .status = SR_OPEN,
                     .note = "internal: caller was rude",
                     .public_note = false,
                     .actor = "staff:7"};
    CHECK_INT(storefx_append(fx.s, &note, &err), ERR_OK);
    CHECK_INT(note.status, SR_IN_PROGRESS);
    CHECK_INT(store_request_get(fx.s, sr.id, pool, &got, &err), ERR_OK);
    CHECK_INT(got.status, SR_IN_PROGRESS);
    CHECK_STR(got.status_notes, "Crew sent");
    CHECK_INT(got.updated_at, 2500);

    ev = status_event(sr.id, 3000, SR_CLOSED, SR_RES_FIXED, "Filled", true);
    CHECK_INT(storefx_append(fx.s, &ev, &err), ERR_OK);
    CHECK_INT(store_request_get(fx.s, sr.id, pool, &got, &err), ERR_OK);
    CHECK_INT(got.status, SR_CLOSED);
    CHECK_INT(got.resolution, SR_RES_FIXED);
    CHECK_INT(got.closed_at, 3000);
    CHECK_STR(got.status_notes, "Filled");

    /* Closed again (a new resolution): closed_at keeps the first close.
     * An event dated before the last update does not move updated_at back. */
    ev = status_event(sr.id, 2900, SR_CLOSED, SR_RES_DUPLICATE, NULL, true);
    CHECK_INT(storefx_append(fx.s, &ev, &err), ERR_OK);
    CHECK_INT(store_request_get(fx.s, sr.id, pool, &got, &err), ERR_OK);
    CHECK_INT(got.resolution, SR_RES_DUPLICATE);
    CHECK_INT(got.closed_at, 3000);
    CHECK_INT(got.updated_at, 3000);
    CHECK_STR(got.status_notes, "Filled");

    ev = status_event(sr.id, 4000, SR_REOPENED, SR_RES_NONE, NULL, false);
    CHECK_INT(storefx_append(fx.s, &ev, &err), ERR_OK);
    CHECK_INT(store_request_get(fx.s, sr.id, pool, &got, &err), ERR_OK);
    CHECK_INT(got.status, SR_REOPENED);
    CHECK_INT(got.closed_at, 0);
    CHECK_INT(got.resolution, SR_RES_NONE);

    sr_event *evs;
    size_t n;
    CHECK_INT(store_events_list(fx.s, sr.id, false, pool, &evs, &n, &err), ERR_OK);
    REQUIRE(n == 6);
    CHECK_INT(evs[0].kind, SR_EV_CREATED);
    CHECK_INT(evs[2].kind, SR_EV_NOTE);
    CHECK_STR(evs[2].note, "internal: caller was rude");
    CHECK(!evs[2].public_note);
    CHECK_INT(evs[3].resolution, SR_RES_FIXED);
    CHECK_STR(evs[3].actor, "staff:7");
    for (size_t i = 1; i < n; i++)
        CHECK(evs[i].id > evs[i - 1].id);
    CHECK_INT(store_events_list(fx.s, sr.id, true, pool, &evs, &n, &err), ERR_OK);
    /* The public view: the internal note-only event is left out, but every
     * status change stays (a resident must learn of the reopen), its
     * internal note blanked. */
    REQUIRE(n == 5);
    CHECK_INT(evs[4].status, SR_REOPENED);
    CHECK(evs[4].note == NULL);
    for (size_t i = 0; i < n; i++)
        CHECK(evs[i].kind != SR_EV_NOTE);

    /* servicerequestupdates: the public view, not "created", by id, paged. */
    CHECK_INT(store_updates_search(fx.s, 0, 100000, 1, 100, pool, &evs, &n, &err), ERR_OK);
    REQUIRE(n == 4);
    CHECK_INT(evs[0].id, first_update);
    CHECK_INT(evs[1].status, SR_CLOSED);
    CHECK_INT(evs[3].status, SR_REOPENED);
    CHECK_INT(store_updates_search(fx.s, 0, 100000, 2, 2, pool, &evs, &n, &err), ERR_OK);
    REQUIRE(n == 2);
    CHECK_INT(evs[0].resolution, SR_RES_DUPLICATE);
    CHECK_INT(store_updates_search(fx.s, 2900, 2999, 1, 100, pool, &evs, &n, &err), ERR_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_updates_search(fx.s, 5000, 9000, 1, 100, pool, &evs, &n, &err), ERR_OK);
    CHECK_INT(n, 0);

    /* Events of a pending request stay hidden, and it cannot change. */
    service_request pend = storefx_request("graffiti", 1500);
    pend.token = "tok-p";
    REQUIRE(storefx_insert(fx.s, &pend, &err) == ERR_OK);
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    int64_t pend_id = raw_int(db, "SELECT id FROM request WHERE token = 'tok-p'");
    sqlite3_close(db);
    CHECK(pend_id > 0);
    CHECK_INT(store_events_list(fx.s, pend_id, false, pool, &evs, &n, &err), ERR_NOT_FOUND);
    sr_answer *answers;
    CHECK_INT(store_request_answers(fx.s, pend_id, pool, &answers, &n, &err), ERR_NOT_FOUND);
    ev = status_event(pend_id, 5000, SR_CLOSED, SR_RES_FIXED, NULL, true);
    CHECK_INT(storefx_append(fx.s, &ev, &err), ERR_NOT_FOUND);
    CHECK_INT(store_request_get(fx.s, pend_id, pool, &got, &err), ERR_NOT_FOUND);
    pool_free(pool);
    storefx_close(&fx);
}

/* ---- searches ---- */

/* xorshift64*: small, deterministic, good enough to spread test data. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned rnd(unsigned n)
{
    return (unsigned)(rng() % n);
}

static double rnd_unit(void)
{
    return (double)(rng() >> 11) / (double)(1ULL << 53);
}

#define BASE_T 1700000000LL
#define NREQ 400
#define NQUERIES 400

static const char *const AGENCIES[] = {"DOT", "DSNY", NULL};

static service_request random_request(void)
{
    service_request sr = storefx_request(CODES[rnd(NCODES)], BASE_T + (int64_t)rnd(60) * 3600);
    sr.updated_at = sr.requested_at + (int64_t)rnd(100) * 1800;
    sr.status = (sr_status)rnd(SR_STATUS_COUNT);
    sr.resolution = sr.status == SR_CLOSED ? SR_RES_FIXED : SR_RES_NONE;
    sr.agency_code = AGENCIES[rnd(3)];
    if (rnd(10) < 7) {
        sr.has_location = true;
        sr.lat = 40.70 + rnd_unit() * 0.10;
        sr.lon = -74.00 + rnd_unit() * 0.10;
    }
    return sr;
}

static void random_lists(sr_query *q, const char **codes, const char **agencies)
{
    if (rnd(10) < 3) {
        q->nservice_codes = 1 + rnd(3);
        for (size_t i = 0; i < q->nservice_codes; i++)
            codes[i] = rnd(8) == 0 ? "unknown" : CODES[rnd(NCODES)];
        q->service_codes = codes;
    }
    if (rnd(10) < 2) {
        q->nagency_codes = 1 + rnd(2);
        for (size_t i = 0; i < q->nagency_codes; i++)
            agencies[i] = AGENCIES[rnd(2)];
        q->agency_codes = agencies;
    }
    if (rnd(10) < 3) {
        unsigned pick = rnd(3);
        q->status_mask = pick == 0   ? SRQ_OPEN311_OPEN
                         : pick == 1 ? SRQ_OPEN311_CLOSED
                                     : 1u + rnd((1u << SR_STATUS_COUNT) - 1);
    }
}

static void random_area(sr_query *q)
{
    unsigned pick = rnd(10);
    if (pick < 3) {
        err_t err;
        double lat = 40.69 + rnd_unit() * 0.12, lon = -74.01 + rnd_unit() * 0.12;
        if (srq_set_radius(q, lat, lon, 300.0 + rnd_unit() * 6000.0, &err) != ERR_OK)
            fprintf(stderr, "random_area: %s\n", err.msg);
    } else if (pick < 5) {
        q->has_bbox = true;
        q->min_lat = 40.70 + rnd_unit() * 0.05;
        q->max_lat = q->min_lat + rnd_unit() * 0.06;
        q->min_lon = -74.00 + rnd_unit() * 0.05;
        q->max_lon = q->min_lon + rnd_unit() * 0.06;
    }
}

static void random_query(sr_query *q, const char **codes, const char **agencies, int64_t *ids,
                         const int64_t *all_ids, size_t nall)
{
    srq_init(q, BASE_T + 200 * 3600);
    if (rnd(10) < 5) {
        q->start = BASE_T + (int64_t)rnd(60) * 3600;
        q->end = q->start + (int64_t)rnd(40) * 3600;
    }
    if (rnd(10) < 2) {
        q->has_updated_after = true;
        q->updated_after = BASE_T + (int64_t)rnd(100) * 1800;
    }
    if (rnd(10) < 2) {
        q->has_updated_before = true;
        q->updated_before = BASE_T + (int64_t)rnd(150) * 1800;
    }
    random_lists(q, codes, agencies);
    random_area(q);
    if (rnd(10) == 0) {
        q->nids = 1 + rnd(20);
        for (size_t i = 0; i < q->nids; i++)
            ids[i] = rnd(10) == 0 ? 999999 : all_ids[rnd((unsigned)nall)];
        q->ids = ids;
    }
    if (rnd(2) == 0) {
        q->page_size = 1 + rnd(30);
        q->page = 1 + rnd(5);
    }
}

static int newest_first(const void *a, const void *b)
{
    const service_request *x = *(const service_request *const *)a;
    const service_request *y = *(const service_request *const *)b;
    if (x->requested_at != y->requested_at)
        return x->requested_at > y->requested_at ? -1 : 1;
    return x->id > y->id ? -1 : x->id < y->id;
}

/* The reference answer: srq_matches over every visible request, newest
 * first, one page. Returns how many land on the page. */
static size_t expected_page(const sr_query *q, service_request *all, size_t nall,
                            const service_request **page)
{
    const service_request **match = calloc(nall, sizeof *match);
    size_t m = 0, n = 0;
    if (match == NULL)
        return 0;
    for (size_t i = 0; i < nall; i++)
        if (all[i].id > 0 && srq_matches(q, &all[i]))
            match[m++] = &all[i];
    qsort(match, m, sizeof *match, newest_first);
    size_t from = (q->page - 1) * q->page_size;
    for (size_t i = from; i < m && n < q->page_size; i++)
        page[n++] = match[i];
    free(match);
    return n;
}

static bool insert_random_data(store_t *s, service_request *all, int64_t *ids, size_t *nids)
{
    err_t err;
    if (store_begin(s, &err) != ERR_OK)
        return false;
    for (size_t i = 0; i < NREQ; i++) {
        all[i] = random_request();
        char *token = NULL;
        if (i % 40 == 7) { /* a few pending rows: never in any result */
            static char tokens[NREQ][16];
            snprintf(tokens[i], sizeof tokens[i], "t%zu", i);
            token = tokens[i];
        }
        all[i].token = token;
        if (store_request_insert(s, &all[i], &err) != ERR_OK) {
            fprintf(stderr, "insert: %s\n", err.msg);
            store_rollback(s);
            return false;
        }
        if (all[i].id > 0)
            ids[(*nids)++] = all[i].id;
    }
    return store_commit(s, &err) == ERR_OK;
}

static void test_search_random(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open_with_catalog(&fx));
    static service_request all[NREQ];
    static int64_t all_ids[NREQ];
    size_t nall_ids = 0;
    REQUIRE(insert_random_data(fx.s, all, all_ids, &nall_ids));

    const service_request **want = calloc(SRQ_MAX_RESULTS, sizeof *want);
    REQUIRE(want != NULL);
    size_t nonempty = 0;
    for (int k = 0; k < NQUERIES; k++) {
        sr_query q;
        const char *codes[4], *agencies[4];
        int64_t ids[24];
        random_query(&q, codes, agencies, ids, all_ids, nall_ids);
        pool_t *pool = pool_new();
        REQUIRE(pool != NULL);
        service_request *got = NULL;
        size_t n = 0;
        if (store_request_search(fx.s, &q, pool, &got, &n, &err) != ERR_OK) {
            CHECK(!"search failed");
            fprintf(stderr, "query %d: %s\n", k, err.msg);
            pool_free(pool);
            continue;
        }
        size_t m = expected_page(&q, all, NREQ, want);
        nonempty += m > 0;
        CHECK_INT(n, m);
        for (size_t i = 0; i < n && i < m; i++)
            if (got[i].id != want[i]->id) {
                fprintf(stderr, "query %d: row %zu: got id %lld, want %lld\n", k, i,
                        (long long)got[i].id, (long long)want[i]->id);
                CHECK(got[i].id == want[i]->id);
                break;
            }
        pool_free(pool);
    }
    CHECK(nonempty > NQUERIES / 3); /* the queries do select something */
    free(want);
    storefx_close(&fx);
}

/* ---- query plans ---- */

static void plan_distance(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_double(ctx, 0.0);
}

/* Fails the test if the search for q would scan the request table
 * without an index, or, when ordered, if it would sort its matches rather
 * than read them newest first from an index (and stop at the page). */
static void check_plan(sqlite3 *db, const char *shape, const sr_query *q, bool ordered)
{
    err_t err;
    char *sql = NULL;
    REQUIRE(store_sqlite_search_sql(q, &sql, &err) == ERR_OK);
    size_t len = strlen(sql) + 32;
    char *explain = malloc(len);
    REQUIRE(explain != NULL);
    snprintf(explain, len, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, explain, -1, &st, NULL);
    CHECK(rc == SQLITE_OK);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", shape, sqlite3_errmsg(db));
    bool indexed = true;
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (detail != NULL && strncmp(detail, "SCAN request", 12) == 0 &&
            strstr(detail, "USING") == NULL)
            indexed = false;
        if (ordered && detail != NULL && strstr(detail, "TEMP B-TREE") != NULL) {
            fprintf(stderr, "%s: the search sorts its matches\n", shape);
            indexed = false;
        }
        if (getenv("CIVIC_SHOW_PLANS") != NULL)
            printf("  %-10s %s\n", shape, detail ? detail : "");
    }
    if (!indexed)
        fprintf(stderr, "%s: the search scans request without an index\n", shape);
    CHECK(indexed);
    sqlite3_finalize(st);
    free(explain);
    free(sql);
}

static void test_query_plans(void)
{
    storefx fx;
    REQUIRE(storefx_open(&fx));
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    REQUIRE(sqlite3_create_function(db, STORE_SQLITE_DISTANCE_FN, 4, SQLITE_UTF8, NULL,
                                    plan_distance, NULL, NULL) == SQLITE_OK);
    err_t err;
    const char *one[] = {"pothole"}, *three[] = {"pothole", "light", "tree"};
    const char *dot[] = {"DOT"};
    int64_t ids[] = {3, 1, 4, 1, 5};
    sr_query q;

    srq_init(&q, BASE_T);
    check_plan(db, "window", &q, true);
    q.service_codes = one;
    q.nservice_codes = 1;
    check_plan(db, "service", &q, true);
    q.service_codes = three;
    q.nservice_codes = 3;
    check_plan(db, "services", &q, false);
    srq_init(&q, BASE_T);
    q.status_mask = SRQ_OPEN311_OPEN;
    check_plan(db, "open", &q, true);
    q.status_mask = SRQ_OPEN311_CLOSED;
    check_plan(db, "closed", &q, true);
    srq_init(&q, BASE_T);
    q.agency_codes = dot;
    q.nagency_codes = 1;
    check_plan(db, "agency", &q, true);
    srq_init(&q, BASE_T);
    q.has_updated_after = true;
    q.updated_after = BASE_T - 3600;
    check_plan(db, "updated", &q, true);
    srq_init(&q, BASE_T);
    REQUIRE(srq_set_radius(&q, 40.7, -74.0, 1000, &err) == ERR_OK);
    check_plan(db, "radius", &q, true);
    q.service_codes = one;
    q.nservice_codes = 1;
    q.status_mask = SRQ_OPEN311_OPEN;
    check_plan(db, "combined", &q, true);
    srq_init(&q, BASE_T);
    q.has_bbox = true;
    q.min_lat = 40.6;
    q.max_lat = 40.8;
    q.min_lon = -74.1;
    q.max_lon = -73.9;
    check_plan(db, "bbox", &q, true);
    srq_init(&q, BASE_T);
    q.ids = ids;
    q.nids = 5;
    check_plan(db, "ids", &q, false);
    sqlite3_close(db);
    storefx_close(&fx);
}

/* The website's "Send" keys: found once recorded, one per hash, purged by
 * age. */
static void test_send_keys(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open_with_catalog(&fx));
    service_request sr = storefx_request("graffiti", 5000);
    REQUIRE(storefx_insert(fx.s, &sr, &err) == ERR_OK);
    unsigned char a[STORE_DIGEST_LEN], b[STORE_DIGEST_LEN];
    memset(a, 0xA1, sizeof a);
    memset(b, 0xB2, sizeof b);
    int64_t got = 0;
    CHECK_INT(store_send_find(fx.s, a, &got, &err), ERR_NOT_FOUND);
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_send_insert(fx.s, a, sr.row_id, 1000, &err), ERR_OK);
    CHECK_INT(store_send_insert(fx.s, a, sr.row_id, 1001, &err), ERR_CONFLICT);
    CHECK_INT(store_send_insert(fx.s, b, sr.row_id, 2000, &err), ERR_OK);
    CHECK_INT(store_send_insert(fx.s, b, 0, 2000, &err), ERR_INVALID);
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);
    CHECK_INT(store_send_find(fx.s, a, &got, &err), ERR_OK);
    CHECK_INT(got, sr.row_id);
    size_t purged = 99;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK_INT(store_send_purge(fx.s, 1500, &purged, &err), ERR_OK);
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);
    CHECK_INT(purged, 1);
    CHECK_INT(store_send_find(fx.s, a, &got, &err), ERR_NOT_FOUND);
    CHECK_INT(store_send_find(fx.s, b, &got, &err), ERR_OK);
    storefx_close(&fx);
}

TEST_MAIN(TEST(test_urls), TEST(test_migrate_idempotent), TEST(test_transactions),
          TEST(test_catalog_roundtrip), TEST(test_apikeys), TEST(test_request_roundtrip),
          TEST(test_bad_inputs), TEST(test_tokens_and_batch), TEST(test_events_and_status),
          TEST(test_search_random), TEST(test_query_plans), TEST(test_send_keys))
