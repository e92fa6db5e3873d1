/*
 * test_store_privacy.c - the privacy engine's storage (store.h, "privacy
 * engine storage") and the maintenance that serves it, against a real
 * SQLite file in a temp directory: schema version 2 from scratch and from
 * version 1 with data, subjects and their keys, sealed field records (one
 * per request and data class) and files,
 * blind indexes, retention queries and legal holds, the audit log,
 * store_compact, store_backup, that erased bytes really leave the files
 * (secure_delete), and the query plans of the lookups that must stay
 * indexed as the tables grow.
 *
 * Like test_store.c it opens the file with SQLite directly where the store
 * offers no way on purpose: to build a version 1 database and to EXPLAIN.
 * No value here is real personal data; sealed bytes are made-up patterns.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/schema.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "testlib.h"
#include "storefx.h"

/* ---- fixtures ---- */

/* A fresh, migrated store with one service, and a pool. */
static bool fx_open(storefx *fx)
{
    static const service pothole = {
        "pothole", "Pothole", NULL, SERVICE_REALTIME, NULL, NULL, NULL, NULL, 0, NULL, 0};
    if (!storefx_open(fx))
        return false;
    if (!storefx_put_services(fx->s, NULL, 0, &pothole, 1)) {
        storefx_close(fx);
        return false;
    }
    return true;
}

static bool begin(store_t *s)
{
    err_t err;
    return store_begin(s, &err) == ERR_OK;
}

static bool commit(store_t *s)
{
    err_t err;
    if (store_commit(s, &err) == ERR_OK)
        return true;
    fprintf(stderr, "commit: %s\n", err.msg);
    store_rollback(s);
    return false;
}

/* A visible request filed at `at`; its id, or 0. */
static int64_t new_request(store_t *s, int64_t at)
{
    err_t err;
    service_request sr = storefx_request("pothole", at);
    if (storefx_insert(s, &sr, &err) != ERR_OK) {
        fprintf(stderr, "new_request: %s\n", err.msg);
        return 0;
    }
    return sr.id;
}

/* A subject of this kind without a key yet, reserved and inserted in its
 * own transaction. */
static err_code subject_add(store_t *s, const char *kind, int64_t now, int64_t *id, err_t *err)
{
    err_code rc = store_subject_reserve(s, id, err);
    if (rc != ERR_OK)
        return rc;
    store_subject sub = {.id = *id, .kind = kind, .created_at = now};
    return store_subject_insert(s, &sub, err);
}

static int64_t new_subject(store_t *s, const char *kind, int64_t now)
{
    err_t err;
    int64_t id = 0;
    if (!begin(s))
        return 0;
    if (subject_add(s, kind, now, &id, &err) != ERR_OK) {
        fprintf(stderr, "new_subject: %s\n", err.msg);
        store_rollback(s);
        return 0;
    }
    return commit(s) ? id : 0;
}

/* Made-up sealed bytes for a record: its fields column behind a 0x00 0xff
 * prefix (sealed bytes are binary). */
static size_t fake_sealed(const char *name, unsigned char out[64])
{
    size_t n = name != NULL ? strlen(name) : 0;
    out[0] = 0x00;
    out[1] = 0xff;
    if (n > 0)
        memcpy(out + 2, name, n);
    return n + 2;
}

/* A record of class dc holding the fields named (the fields column). */
static err_code add_field(store_t *s, int64_t request_id, int64_t subject_id, const char *name,
                          data_class dc, int64_t collected_at, err_t *err)
{
    unsigned char sealed[64];
    store_personal p = {.request_id = request_id,
                        .fields = name,
                        .dclass = dc,
                        .subject_id = subject_id,
                        .key_version = 1,
                        .sealed = sealed,
                        .sealed_len = fake_sealed(name, sealed),
                        .collected_at = collected_at};
    return store_personal_insert(s, &p, err);
}

/* add_field in a transaction of its own. */
static bool add_field1(store_t *s, int64_t request_id, int64_t subject_id, const char *name,
                       data_class dc, int64_t collected_at)
{
    err_t err;
    if (!begin(s))
        return false;
    if (add_field(s, request_id, subject_id, name, dc, collected_at, &err) != ERR_OK) {
        fprintf(stderr, "add_field: %s\n", err.msg);
        store_rollback(s);
        return false;
    }
    return commit(s);
}

static int64_t add_blob1(store_t *s, int64_t request_id, int64_t subject_id, data_class dc,
                         int64_t created_at)
{
    err_t err;
    static const unsigned char bytes[] = {9, 8, 7, 0, 6};
    store_blob b = {.request_id = request_id,
                    .subject_id = subject_id,
                    .dclass = dc,
                    .content_type = dc == DC_MEDIA ? "image/jpeg" : "audio/ogg",
                    .key_version = 1,
                    .size = 3,
                    .created_at = created_at};
    if (!begin(s))
        return 0;
    if (store_blob_insert(s, &b, &err) != ERR_OK ||
        store_blob_set_sealed(s, b.id, bytes, sizeof bytes, &err) != ERR_OK) {
        fprintf(stderr, "add_blob: %s\n", err.msg);
        store_rollback(s);
        return 0;
    }
    return commit(s) ? b.id : 0;
}

static int64_t add_hold1(store_t *s, int64_t request_id, int64_t subject_id)
{
    err_t err;
    store_hold h = {.request_id = request_id,
                    .subject_id = subject_id,
                    .reason = "litigation 2024-17",
                    .placed_by = "staff:3",
                    .placed_at = 50};
    if (!begin(s))
        return 0;
    if (store_hold_insert(s, &h, &err) != ERR_OK) {
        fprintf(stderr, "add_hold: %s\n", err.msg);
        store_rollback(s);
        return 0;
    }
    return commit(s) ? h.id : 0;
}

static bool release_hold1(store_t *s, int64_t id, int64_t now)
{
    err_t err;
    if (!begin(s))
        return false;
    if (store_hold_release(s, id, "staff:4", now, &err) != ERR_OK) {
        fprintf(stderr, "release_hold: %s\n", err.msg);
        store_rollback(s);
        return false;
    }
    return commit(s);
}

/* Whether ids[0..n) equals want[0..nwant), printing both when not. */
static bool ids_are(const int64_t *ids, size_t n, const int64_t *want, size_t nwant)
{
    bool same = n == nwant;
    for (size_t i = 0; same && i < n; i++)
        same = ids[i] == want[i];
    if (!same) {
        fprintf(stderr, "  got [");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %lld", (long long)ids[i]);
        fprintf(stderr, " ], want [");
        for (size_t i = 0; i < nwant; i++)
            fprintf(stderr, " %lld", (long long)want[i]);
        fprintf(stderr, " ]\n");
    }
    return same;
}

#define IDS_ARE(ids, n, ...)                                                                       \
    do {                                                                                           \
        const int64_t want_[] = {__VA_ARGS__};                                                     \
        CHECK(ids_are(ids, n, want_, sizeof want_ / sizeof want_[0]));                             \
    } while (0)

/* ---- schema version 2 ---- */

static const char *const V2_TABLES[] = {"subject",     "personal_field",  "personal_blob",
                                        "blind_index", "legal_hold",      "audit_entry",
                                        "audit_head",  "audit_checkpoint"};

static void check_v2_tables(sqlite3 *db)
{
    char sql[128];
    for (size_t i = 0; i < sizeof V2_TABLES / sizeof V2_TABLES[0]; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
                 V2_TABLES[i]);
        CHECK_INT(raw_int(db, sql), 1);
    }
    CHECK_INT(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'request_personal'"), 0);
    CHECK_INT(raw_int(db, "SELECT size FROM audit_head WHERE id = 1"), 0);
    CHECK_INT(raw_int(db, "PRAGMA foreign_key_check"), -1); /* no row: nothing dangles */
    CHECK_INT(raw_int(db, "SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check "
                          "<> 'ok'"),
              0);
}

static void test_migrate_fresh(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int version = 0;
    CHECK_INT(store_schema_version(fx.s, &version, &err), ERR_OK);
    /* Every migration runs on a new store (the later ones have tests of
     * their own). */
    CHECK_INT(version, schema_latest());
    CHECK(schema_latest() >= 2);
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    check_v2_tables(db);
    sqlite3_close(db);
    int64_t size = -1;
    const unsigned char *frontier = NULL;
    size_t len = 99;
    CHECK_INT(store_audit_head(fx.s, fx.pool, &size, &frontier, &len, &err), ERR_OK);
    CHECK_INT(size, 0);
    CHECK_INT(len, 0);
    CHECK(frontier != NULL);
    storefx_close(&fx);
}

/* A version 1 database with a request and plaintext personal data, made
 * with SQLite directly, as a build of version 1 left it. */
static const char V1_SECRET[] = "v1-plaintext-ada@example.org";

static bool make_v1(const char *path)
{
    sqlite3 *db = raw_open(path);
    if (db == NULL)
        return false;
    char data[1024];
    snprintf(data, sizeof data,
             "INSERT INTO schema_version VALUES (1, 0);"
             "INSERT INTO service (code, name, type, position) "
             "VALUES ('pothole', 'Pothole', 'realtime', 1);"
             "INSERT INTO request (id, pending, service_code, status, requested_at, "
             "updated_at, has_location, channel, description) "
             "VALUES (1, 0, 'pothole', 'open', 100, 100, 0, 'api', 'a deep hole');"
             "INSERT INTO request_answer VALUES (1, 0, 'size', 'large');"
             "INSERT INTO request_personal VALUES (1, 'email', 'contact', '%s');"
             "INSERT INTO request_event (request_id, at, kind, status, public, actor) "
             "VALUES (1, 100, 'created', 'open', 1, 'system');",
             V1_SECRET);
    bool ok = raw_exec(db, "PRAGMA journal_mode = WAL") && raw_exec(db, "BEGIN") &&
              raw_exec(db, SCHEMA_VERSION_TABLE_SQL) &&
              raw_exec(db, SCHEMA_MIGRATIONS[0].sql[SCHEMA_SQLITE]) && raw_exec(db, data) &&
              raw_exec(db, "COMMIT");
    sqlite3_close(db);
    return ok;
}

static void test_migrate_from_v1(void)
{
    storefx fx;
    err_t err;
    REQUIRE(storefx_dir(&fx));
    REQUIRE(SCHEMA_MIGRATIONS[0].version == 1);
    REQUIRE(make_v1(fx.path));
    /* The check below can fail: the plaintext is on disk now. */
    CHECK(file_contains(fx.path, V1_SECRET, strlen(V1_SECRET)) ||
          file_contains(fx.wal, V1_SECRET, strlen(V1_SECRET)));

    store_options opt = {.url = fx.path, .sync = true};
    REQUIRE(store_open(&opt, &fx.s, &err) == ERR_OK);
    fx.pool = pool_new();
    REQUIRE(fx.pool != NULL);
    int version = 0;
    CHECK_INT(store_schema_version(fx.s, &version, &err), ERR_OK);
    CHECK_INT(version, 1);
    CHECK_INT(store_migrate(fx.s, &err), ERR_OK);
    CHECK_INT(store_schema_version(fx.s, &version, &err), ERR_OK);
    CHECK_INT(version, schema_latest());

    /* The request, its answers and its history survive. */
    service_request got;
    CHECK_INT(store_request_get(fx.s, 1, fx.pool, &got, &err), ERR_OK);
    CHECK_STR(got.description, "a deep hole");
    sr_answer *answers = NULL;
    size_t n = 0;
    CHECK_INT(store_request_answers(fx.s, 1, fx.pool, &answers, &n, &err), ERR_OK);
    CHECK_INT(n, 1);
    sr_event *evs = NULL;
    CHECK_INT(store_events_list(fx.s, 1, false, fx.pool, &evs, &n, &err), ERR_OK);
    CHECK_INT(n, 1);

    /* The new tables work on the old data. */
    int64_t subject = new_subject(fx.s, "reporter", 200);
    CHECK(subject > 0);
    CHECK(add_field1(fx.s, 1, subject, "email", DC_CONTACT, 200));
    store_personal *fields = NULL;
    CHECK_INT(store_personal_list(fx.s, 1, fx.pool, &fields, &n, &err), ERR_OK);
    CHECK_INT(n, 1);

    /* The plaintext table is gone, and with secure_delete and a compact
     * so are its bytes. */
    CHECK_INT(store_compact(fx.s, &err), ERR_OK);
    CHECK(!file_contains(fx.path, V1_SECRET, strlen(V1_SECRET)));
    CHECK(!file_contains(fx.wal, V1_SECRET, strlen(V1_SECRET)));
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    check_v2_tables(db);
    sqlite3_close(db);
    storefx_close(&fx);
}

/* ---- subjects ---- */

static void test_subjects(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t id = 0;
    /* Reserving and inserting need the caller's transaction. */
    CHECK_INT(store_subject_reserve(fx.s, &id, &err), ERR_INTERNAL);
    store_subject one = {.id = 1, .kind = "reporter", .created_at = 10};
    CHECK_INT(store_subject_insert(fx.s, &one, &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    CHECK_INT(store_subject_reserve(fx.s, NULL, &err), ERR_INVALID);
    CHECK_INT(store_subject_reserve(fx.s, &id, &err), ERR_OK);
    CHECK_INT(id, 1); /* the first */
    /* Reserving again before inserting gives the same id: it is the
     * insert, in this write transaction, that takes it. */
    int64_t again = 0;
    CHECK_INT(store_subject_reserve(fx.s, &again, &err), ERR_OK);
    CHECK_INT(again, id);
    /* Kinds, ids and key parts are checked. */
    unsigned char wrapped[72];
    for (size_t i = 0; i < sizeof wrapped; i++)
        wrapped[i] = (unsigned char)(i * 7);
    const store_subject bad[] = {
        {.id = 1, .kind = "neighbour", .created_at = 10},
        {.id = 1, .kind = NULL, .created_at = 10},
        {.id = 0, .kind = "reporter", .created_at = 10},
        {.id = -1, .kind = "reporter", .created_at = 10},
        {.id = 1, .kind = "reporter", .created_at = 10, .erased_at = 11},
        {.id = 1, .kind = "reporter", .key_version = 1, .created_at = 10},
        {.id = 1, .kind = "reporter", .kek_version = 1, .created_at = 10},
        {.id = 1, .kind = "reporter", .wrapped_key = wrapped, .wrapped_len = 72, .created_at = 10},
        {.id = 1,
         .kind = "reporter",
         .key_version = 1,
         .wrapped_key = wrapped,
         .wrapped_len = 72,
         .created_at = 10},
        {.id = 1,
         .kind = "reporter",
         .key_version = 1,
         .kek_version = 1,
         .wrapped_key = wrapped,
         .wrapped_len = 0,
         .created_at = 10},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(store_subject_insert(fx.s, &bad[i], &err), ERR_INVALID);
        if (err.code != ERR_INVALID)
            fprintf(stderr, "bad subject %zu\n", i);
    }
    CHECK_INT(store_subject_insert(fx.s, NULL, &err), ERR_INVALID);
    int64_t ids[5];
    const char *kinds[5] = {"reporter", "account", "caller", "reporter", "reporter"};
    for (int i = 0; i < 5; i++) {
        CHECK_INT(subject_add(fx.s, kinds[i], 10 + i, &ids[i], &err), ERR_OK);
        CHECK(i == 0 || ids[i] == ids[i - 1] + 1);
    }
    /* An id taken is refused, whatever the row would hold. */
    store_subject taken = {.id = ids[2], .kind = "caller", .created_at = 99};
    CHECK_INT(store_subject_insert(fx.s, &taken, &err), ERR_CONFLICT);
    CHECK(commit(fx.s));
    /* With its key, in one insert. */
    REQUIRE(begin(fx.s));
    int64_t keyed_id = 0;
    CHECK_INT(store_subject_reserve(fx.s, &keyed_id, &err), ERR_OK);
    CHECK_INT(keyed_id, ids[4] + 1);
    store_subject keyed = {.id = keyed_id,
                           .kind = "reporter",
                           .key_version = 1,
                           .kek_version = 3,
                           .wrapped_key = wrapped,
                           .wrapped_len = sizeof wrapped,
                           .created_at = 20};
    CHECK_INT(store_subject_insert(fx.s, &keyed, &err), ERR_OK);
    CHECK(commit(fx.s));
    store_subject got;
    CHECK_INT(store_subject_get(fx.s, keyed_id, fx.pool, &got, &err), ERR_OK);
    CHECK_INT(got.key_version, 1);
    CHECK_INT(got.kek_version, 3);
    CHECK_INT(got.created_at, 20);
    CHECK_INT(got.erased_at, 0);
    CHECK(got.wrapped_key != NULL && got.wrapped_len == sizeof wrapped &&
          memcmp(got.wrapped_key, wrapped, sizeof wrapped) == 0);
    /* A read-only connection cannot reserve. */
    store_t *ro = NULL;
    store_options ropt = {.url = fx.path, .read_only = true};
    REQUIRE(store_open(&ropt, &ro, &err) == ERR_OK);
    if (store_begin(ro, &err) == ERR_OK) {
        CHECK_INT(store_subject_reserve(ro, &id, &err), ERR_INVALID);
        store_rollback(ro);
    }
    store_close(ro);
    /* Take it out of the counts below: erase it. */
    REQUIRE(begin(fx.s));
    CHECK_INT(store_subject_erase(fx.s, keyed_id, 30, &err), ERR_OK);
    CHECK(commit(fx.s));

    /* A new subject has no key. */
    store_subject sub;
    CHECK_INT(store_subject_get(fx.s, ids[1], fx.pool, &sub, &err), ERR_OK);
    CHECK_INT(sub.id, ids[1]);
    CHECK_STR(sub.kind, "account");
    CHECK_INT(sub.key_version, 0);
    CHECK_INT(sub.kek_version, 0);
    CHECK(sub.wrapped_key == NULL);
    CHECK_INT(sub.created_at, 11);
    CHECK_INT(sub.erased_at, 0);
    CHECK_INT(store_subject_get(fx.s, 999, fx.pool, &sub, &err), ERR_NOT_FOUND);
    CHECK_INT(store_subject_get(fx.s, 0, fx.pool, &sub, &err), ERR_NOT_FOUND);

    /* Keys on all but ids[2]; ids[3] under KEK 2. */
    REQUIRE(begin(fx.s));
    CHECK_INT(store_subject_set_key(fx.s, ids[0], 1, 1, wrapped, sizeof wrapped, &err), ERR_OK);
    CHECK_INT(store_subject_set_key(fx.s, ids[1], 1, 1, wrapped, sizeof wrapped, &err), ERR_OK);
    CHECK_INT(store_subject_set_key(fx.s, ids[3], 1, 2, wrapped, sizeof wrapped, &err), ERR_OK);
    CHECK_INT(store_subject_set_key(fx.s, ids[4], 1, 1, wrapped, 40, &err), ERR_OK);
    CHECK_INT(store_subject_set_key(fx.s, 999, 1, 1, wrapped, 40, &err), ERR_NOT_FOUND);
    CHECK_INT(store_subject_set_key(fx.s, ids[0], 0, 1, wrapped, 40, &err), ERR_INVALID);
    CHECK_INT(store_subject_set_key(fx.s, ids[0], 1, 0, wrapped, 40, &err), ERR_INVALID);
    CHECK_INT(store_subject_set_key(fx.s, ids[0], 1, 1, NULL, 40, &err), ERR_INVALID);
    CHECK_INT(store_subject_set_key(fx.s, ids[0], 1, 1, wrapped, 0, &err), ERR_INVALID);
    CHECK(commit(fx.s));
    CHECK_INT(store_subject_get(fx.s, ids[0], fx.pool, &sub, &err), ERR_OK);
    CHECK_INT(sub.key_version, 1);
    CHECK_INT(sub.kek_version, 1);
    REQUIRE(sub.wrapped_key != NULL);
    CHECK_INT(sub.wrapped_len, sizeof wrapped);
    CHECK(memcmp(sub.wrapped_key, wrapped, sizeof wrapped) == 0);

    int64_t count = -1;
    CHECK_INT(store_subject_count_kek(fx.s, 1, &count, &err), ERR_OK);
    CHECK_INT(count, 3);
    CHECK_INT(store_subject_count_kek(fx.s, 2, &count, &err), ERR_OK);
    CHECK_INT(count, 1);
    CHECK_INT(store_subject_count_kek(fx.s, 3, &count, &err), ERR_OK);
    CHECK_INT(count, 0);

    /* A rotation replaces a key and moves it to another KEK. */
    REQUIRE(begin(fx.s));
    CHECK_INT(store_subject_set_key(fx.s, ids[1], 1, 2, wrapped, 50, &err), ERR_OK);
    CHECK(commit(fx.s));
    CHECK_INT(store_subject_count_kek(fx.s, 1, &count, &err), ERR_OK);
    CHECK_INT(count, 2);
    CHECK_INT(store_subject_get(fx.s, ids[1], fx.pool, &sub, &err), ERR_OK);
    CHECK_INT(sub.kek_version, 2);
    CHECK_INT(sub.wrapped_len, 50);

    /* Erasing: the key goes, the time is kept; again is a no-op. */
    CHECK_INT(store_subject_erase(fx.s, ids[4], 500, &err), ERR_INTERNAL); /* no transaction */
    REQUIRE(begin(fx.s));
    CHECK_INT(store_subject_erase(fx.s, ids[4], 500, &err), ERR_OK);
    CHECK_INT(store_subject_erase(fx.s, ids[4], 600, &err), ERR_OK);
    CHECK_INT(store_subject_erase(fx.s, 999, 600, &err), ERR_NOT_FOUND);
    CHECK_INT(store_subject_erase(fx.s, ids[0], 0, &err), ERR_INVALID);
    /* An erased subject's key cannot come back. */
    CHECK_INT(store_subject_set_key(fx.s, ids[4], 2, 1, wrapped, 40, &err), ERR_NOT_FOUND);
    CHECK(commit(fx.s));
    CHECK_INT(store_subject_get(fx.s, ids[4], fx.pool, &sub, &err), ERR_OK);
    CHECK(sub.wrapped_key == NULL);
    CHECK_INT(sub.wrapped_len, 0);
    CHECK_INT(sub.key_version, 0);
    CHECK_INT(sub.kek_version, 0);
    CHECK_INT(sub.erased_at, 500);
    CHECK_STR(sub.kind, "reporter");
    CHECK_INT(store_subject_count_kek(fx.s, 1, &count, &err), ERR_OK);
    CHECK_INT(count, 1); /* ids[0] */

    /* Rotation's walk: keyed, not erased, by id, paged. */
    store_subject *list = NULL;
    size_t n = 0;
    CHECK_INT(store_subject_list_keyed(fx.s, 0, 2, fx.pool, &list, &n, &err), ERR_OK);
    REQUIRE(n == 2);
    CHECK_INT(list[0].id, ids[0]);
    CHECK_INT(list[1].id, ids[1]);
    CHECK_INT(list[1].kek_version, 2);
    CHECK_INT(list[1].wrapped_len, 50);
    CHECK_INT(store_subject_list_keyed(fx.s, list[1].id, 2, fx.pool, &list, &n, &err), ERR_OK);
    REQUIRE(n == 1); /* ids[2] has no key, ids[4] is erased */
    CHECK_INT(list[0].id, ids[3]);
    CHECK_INT(store_subject_list_keyed(fx.s, ids[3], 2, fx.pool, &list, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_subject_list_keyed(fx.s, 0, 0, fx.pool, &list, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_subject_list_keyed(fx.s, 0, 2, NULL, &list, &n, &err), ERR_INVALID);
    storefx_close(&fx);
}

/* ---- sealed field records ---- */

static void test_personal_fields(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t req = new_request(fx.s, 100), other = new_request(fx.s, 101);
    int64_t subj = new_subject(fx.s, "reporter", 100);
    REQUIRE(req > 0 && other > 0 && subj > 0);

    CHECK_INT(add_field(fx.s, req, subj, "email", DC_CONTACT, 100, &err), ERR_INTERNAL);
    /* Inserted in an order of their own; listed in data class order. */
    REQUIRE(begin(fx.s));
    CHECK_INT(add_field(fx.s, req, subj, "account_id", DC_ACCOUNT, 100, &err), ERR_OK);
    CHECK_INT(add_field(fx.s, req, subj, "device_id", DC_DEVICE, 100, &err), ERR_OK);
    CHECK_INT(add_field(fx.s, req, subj, "first_name,email", DC_CONTACT, 101, &err), ERR_OK);
    CHECK_INT(add_field(fx.s, other, subj, "phone", DC_CONTACT, 101, &err), ERR_OK);
    /* One record per request and class, whatever it holds. */
    CHECK_INT(add_field(fx.s, req, subj, "phone", DC_CONTACT, 100, &err), ERR_CONFLICT);
    CHECK(strstr(err.msg, "contact") != NULL);
    /* The fields column: the class's own known names, in
     * SR_PERSONAL_FIELDS order, each once, nothing else. */
    const char *bad[] = {"phone", /* (as DC_DEVICE, below) */
                         "shoe_size",    "email,first_name", "email,email",
                         "email,",       ",email",           "",
                         "email,,phone", "email phone",      "first_name,last_name,email,phone,x",
                         "Email",        "email,device_id"};
    CHECK_INT(add_field(fx.s, 999, subj, "phone", DC_CONTACT, 100, &err), ERR_INVALID);
    CHECK_INT(add_field(fx.s, req, subj, "phone", DC_DEVICE, 100, &err), ERR_INVALID);
    for (size_t i = 1; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(add_field(fx.s, other, subj, bad[i], DC_CONTACT, 100, &err), ERR_INVALID);
        CHECK_INT(store_personal_fields_count(bad[i], DC_CONTACT), 0);
    }
    CHECK_INT(add_field(fx.s, other, subj, NULL, DC_CONTACT, 100, &err), ERR_INVALID);
    CHECK_INT(store_personal_fields_count("first_name,last_name,email,phone", DC_CONTACT), 4);
    CHECK_INT(store_personal_fields_count("first_name,last_name,email,phone", DC_DEVICE), 0);
    CHECK_INT(store_personal_fields_count("device_id", DC_DEVICE), 1);
    CHECK_INT(store_personal_fields_count(NULL, DC_DEVICE), 0);
    /* Files are not field records. */
    CHECK_INT(add_field(fx.s, other, subj, "device_id", DC_MEDIA, 100, &err), ERR_INVALID);
    CHECK_INT(add_field(fx.s, other, subj, "device_id", (data_class)DC_COUNT, 100, &err),
              ERR_INVALID);
    /* Known rows and people. */
    CHECK_INT(add_field(fx.s, 999, subj, "device_id", DC_DEVICE, 100, &err), ERR_INVALID);
    CHECK_INT(add_field(fx.s, other, 999, "device_id", DC_DEVICE, 100, &err), ERR_INVALID);
    CHECK_INT(add_field(fx.s, other, 0, "device_id", DC_DEVICE, 100, &err), ERR_INVALID);
    store_personal empty = {.request_id = other,
                            .fields = "device_id",
                            .dclass = DC_DEVICE,
                            .subject_id = subj,
                            .key_version = 1,
                            .sealed = NULL};
    CHECK_INT(store_personal_insert(fx.s, &empty, &err), ERR_INVALID);
    CHECK_INT(store_personal_insert(fx.s, NULL, &err), ERR_INVALID);
    CHECK(commit(fx.s));

    store_personal *list = NULL;
    size_t n = 0;
    CHECK_INT(store_personal_list(fx.s, req, fx.pool, &list, &n, &err), ERR_OK);
    REQUIRE(n == 3);
    const char *fields[] = {"first_name,email", "device_id", "account_id"};
    const data_class classes[] = {DC_CONTACT, DC_DEVICE, DC_ACCOUNT};
    for (size_t i = 0; i < n; i++) {
        CHECK_STR(list[i].fields, fields[i]);
        CHECK_INT(list[i].dclass, classes[i]);
        CHECK_INT(list[i].request_id, req);
        CHECK_INT(list[i].subject_id, subj);
        CHECK_INT(list[i].key_version, 1);
        unsigned char want[64];
        size_t len = fake_sealed(fields[i], want);
        CHECK_INT(list[i].sealed_len, len);
        CHECK(list[i].sealed != NULL && memcmp(list[i].sealed, want, len) == 0);
    }
    CHECK_INT(list[0].collected_at, 101);
    CHECK_INT(list[1].collected_at, 100);
    CHECK_INT(store_personal_list(fx.s, 999, fx.pool, &list, &n, &err), ERR_OK);
    CHECK_INT(n, 0);

    int64_t usage = -1;
    CHECK_INT(store_subject_usage(fx.s, subj, &usage, &err), ERR_OK);
    CHECK_INT(usage, 4);

    /* Erasing by class: only the classes in the mask, only this request. */
    size_t erased = 99;
    CHECK_INT(store_personal_erase(fx.s, req, DC_BIT(DC_DEVICE), &erased, &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    CHECK_INT(
        store_personal_erase(fx.s, req, DC_BIT(DC_DEVICE) | DC_BIT(DC_ACCOUNT), &erased, &err),
        ERR_OK);
    CHECK_INT(erased, 2);
    CHECK_INT(store_personal_erase(fx.s, req, 1u << DC_COUNT, &erased, &err), ERR_INVALID);
    CHECK(commit(fx.s));
    CHECK_INT(store_personal_list(fx.s, req, fx.pool, &list, &n, &err), ERR_OK);
    REQUIRE(n == 1);
    CHECK_STR(list[0].fields, "first_name,email");
    CHECK_INT(store_subject_usage(fx.s, subj, &usage, &err), ERR_OK);
    CHECK_INT(usage, 2);

    REQUIRE(begin(fx.s));
    CHECK_INT(store_personal_erase(fx.s, req, DC_ALL, &erased, &err), ERR_OK);
    CHECK_INT(erased, 1);
    CHECK_INT(store_personal_erase(fx.s, req, DC_ALL, &erased, &err), ERR_OK);
    CHECK_INT(erased, 0);
    CHECK_INT(store_personal_erase(fx.s, req, DC_ALL, NULL, &err), ERR_OK);
    CHECK(commit(fx.s));
    CHECK_INT(store_personal_list(fx.s, other, fx.pool, &list, &n, &err), ERR_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_subject_usage(fx.s, subj, &usage, &err), ERR_OK);
    CHECK_INT(usage, 1);
    CHECK_INT(store_subject_usage(fx.s, 999, &usage, &err), ERR_OK);
    CHECK_INT(usage, 0);

    /* A fields column changed behind the store's back is a broken file:
     * the list refuses it rather than hand on names it cannot vouch for. */
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    CHECK(raw_exec(db, "UPDATE personal_field SET fields = 'phone,email'"));
    sqlite3_close(db);
    CHECK_INT(store_personal_list(fx.s, other, fx.pool, &list, &n, &err), ERR_IO);
    CHECK(strstr(err.msg, "phone") == NULL);
    storefx_close(&fx);
}

/* ---- sealed files ---- */

static void test_blobs(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t req = new_request(fx.s, 100);
    int64_t subj = new_subject(fx.s, "caller", 100);
    REQUIRE(req > 0 && subj > 0);
    unsigned char bytes[3000];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i % 251);

    store_blob rec = {.request_id = 0,
                      .subject_id = subj,
                      .dclass = DC_RECORDING,
                      .content_type = "audio/ogg",
                      .key_version = 1,
                      .size = 2900,
                      .created_at = 200};
    CHECK_INT(store_blob_insert(fx.s, &rec, &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    /* Inserted without bytes (their associated data names the row), then
     * sealed, in one transaction. */
    CHECK_INT(store_blob_insert(fx.s, &rec, &err), ERR_OK);
    CHECK(rec.id > 0);
    CHECK_INT(store_blob_set_sealed(fx.s, rec.id, bytes, sizeof bytes, &err), ERR_OK);
    store_blob photo = rec;
    photo.request_id = req;
    photo.dclass = DC_MEDIA;
    photo.content_type = "image/jpeg";
    photo.sealed = bytes;
    photo.sealed_len = 10; /* bytes at insert are fine too */
    photo.size = 1;
    CHECK_INT(store_blob_insert(fx.s, &photo, &err), ERR_OK);
    CHECK(photo.id > rec.id);

    store_blob bad = rec;
    bad.dclass = DC_CONTACT;
    CHECK_INT(store_blob_insert(fx.s, &bad, &err), ERR_INVALID);
    bad = rec;
    bad.content_type = "";
    CHECK_INT(store_blob_insert(fx.s, &bad, &err), ERR_INVALID);
    bad = rec;
    bad.subject_id = 0;
    CHECK_INT(store_blob_insert(fx.s, &bad, &err), ERR_INVALID);
    bad = rec;
    bad.request_id = 999; /* no such request */
    CHECK_INT(store_blob_insert(fx.s, &bad, &err), ERR_INVALID);
    bad = rec;
    bad.sealed_len = 5; /* and no bytes */
    CHECK_INT(store_blob_insert(fx.s, &bad, &err), ERR_INVALID);
    CHECK_INT(store_blob_set_sealed(fx.s, 999, bytes, 5, &err), ERR_NOT_FOUND);
    CHECK_INT(store_blob_set_sealed(fx.s, rec.id, NULL, 5, &err), ERR_INVALID);
    CHECK(commit(fx.s));

    store_blob got;
    CHECK_INT(store_blob_get(fx.s, rec.id, fx.pool, &got, &err), ERR_OK);
    CHECK_INT(got.id, rec.id);
    CHECK_INT(got.request_id, 0);
    CHECK_INT(got.subject_id, subj);
    CHECK_INT(got.dclass, DC_RECORDING);
    CHECK_STR(got.content_type, "audio/ogg");
    CHECK_INT(got.key_version, 1);
    CHECK_INT(got.size, 2900);
    CHECK_INT(got.created_at, 200);
    REQUIRE(got.sealed != NULL);
    CHECK_INT(got.sealed_len, sizeof bytes);
    CHECK(memcmp(got.sealed, bytes, sizeof bytes) == 0);
    CHECK_INT(store_blob_get(fx.s, 999, fx.pool, &got, &err), ERR_NOT_FOUND);
    CHECK_INT(store_blob_get(fx.s, -1, fx.pool, &got, &err), ERR_NOT_FOUND);

    /* A request's files, without their bytes. */
    store_blob *list = NULL;
    size_t n = 0;
    CHECK_INT(store_blob_list(fx.s, req, fx.pool, &list, &n, &err), ERR_OK);
    REQUIRE(n == 1);
    CHECK_INT(list[0].id, photo.id);
    CHECK_INT(list[0].request_id, req);
    CHECK_INT(list[0].dclass, DC_MEDIA);
    CHECK_STR(list[0].content_type, "image/jpeg");
    CHECK(list[0].sealed == NULL);
    CHECK_INT(list[0].sealed_len, 10);

    int64_t usage = -1;
    CHECK_INT(store_subject_usage(fx.s, subj, &usage, &err), ERR_OK);
    CHECK_INT(usage, 2);
    CHECK_INT(store_blob_erase(fx.s, photo.id, &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    CHECK_INT(store_blob_erase(fx.s, photo.id, &err), ERR_OK);
    CHECK_INT(store_blob_erase(fx.s, photo.id, &err), ERR_NOT_FOUND);
    CHECK_INT(store_blob_erase(fx.s, 0, &err), ERR_NOT_FOUND);
    CHECK(commit(fx.s));
    CHECK_INT(store_blob_list(fx.s, req, fx.pool, &list, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_subject_usage(fx.s, subj, &usage, &err), ERR_OK);
    CHECK_INT(usage, 1);
    storefx_close(&fx);
}

/* ---- blind indexes ---- */

static void test_blind_index(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t r1 = new_request(fx.s, 1), r2 = new_request(fx.s, 2), r3 = new_request(fx.s, 3);
    int64_t subj = new_subject(fx.s, "account", 1);
    REQUIRE(r1 > 0 && r2 > 0 && r3 > 0 && subj > 0);
    unsigned char d[STORE_DIGEST_LEN], other[STORE_DIGEST_LEN];
    memset(d, 0xab, sizeof d);
    d[5] = 0; /* digests are binary */
    memset(other, 0xcd, sizeof other);

    CHECK_INT(store_blind_insert(fx.s, "email", d, r1, subj, &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    CHECK_INT(store_blind_insert(fx.s, "email", d, r2, subj, &err), ERR_OK);
    CHECK_INT(store_blind_insert(fx.s, "email", d, r1, subj, &err), ERR_OK);
    CHECK_INT(store_blind_insert(fx.s, "email", d, r3, subj, &err), ERR_OK);
    CHECK_INT(store_blind_insert(fx.s, "phone", d, r2, subj, &err), ERR_OK);
    CHECK_INT(store_blind_insert(fx.s, "email", other, r2, subj, &err), ERR_OK);
    CHECK_INT(store_blind_insert(fx.s, "email", d, r1, subj, &err), ERR_CONFLICT);
    CHECK_INT(store_blind_insert(fx.s, "name", d, r1, subj, &err), ERR_INVALID);
    CHECK_INT(store_blind_insert(fx.s, "email", NULL, r1, subj, &err), ERR_INVALID);
    CHECK_INT(store_blind_insert(fx.s, "email", d, 0, subj, &err), ERR_INVALID);
    CHECK_INT(store_blind_insert(fx.s, "email", d, r1, 0, &err), ERR_INVALID);
    CHECK(commit(fx.s));

    int64_t *ids = NULL;
    size_t n = 0;
    CHECK_INT(store_blind_find(fx.s, "email", d, 10, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, r3, r2, r1);
    CHECK_INT(store_blind_find(fx.s, "email", d, 2, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, r3, r2);
    CHECK_INT(store_blind_find(fx.s, "phone", d, 10, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, r2);
    CHECK_INT(store_blind_find(fx.s, "phone", other, 10, fx.pool, &ids, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_blind_find(fx.s, "email", d, 0, fx.pool, &ids, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_blind_find(fx.s, "postcode", d, 10, fx.pool, &ids, &n, &err), ERR_INVALID);

    /* Erasing one kind, then every kind, of one request. */
    CHECK_INT(store_blind_erase(fx.s, r2, "email", &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    CHECK_INT(store_blind_erase(fx.s, r2, "email", &err), ERR_OK);
    CHECK_INT(store_blind_erase(fx.s, r2, "nickname", &err), ERR_INVALID);
    CHECK(commit(fx.s));
    CHECK_INT(store_blind_find(fx.s, "email", d, 10, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, r3, r1);
    CHECK_INT(store_blind_find(fx.s, "email", other, 10, fx.pool, &ids, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_blind_find(fx.s, "phone", d, 10, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, r2);
    REQUIRE(begin(fx.s));
    CHECK_INT(store_blind_erase(fx.s, r2, NULL, &err), ERR_OK);
    CHECK_INT(store_blind_erase(fx.s, r3, NULL, &err), ERR_OK);
    CHECK(commit(fx.s));
    CHECK_INT(store_blind_find(fx.s, "phone", d, 10, fx.pool, &ids, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_blind_find(fx.s, "email", d, 10, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, r1);
    storefx_close(&fx);
}

/* ---- retention and legal holds ---- */

/* Requests in every state retention must tell apart, each with its own
 * reporter (subject) and contact and device records; `shared` also holds
 * an account record under a second person. */
typedef struct {
    int64_t closed, closed2, reopened, open, late, held_req, held_subj, shared;
    int64_t subj[8];
    int64_t co_subject; /* a second person on `shared` */
} due_world;

static bool make_world(store_t *s, due_world *w)
{
    int64_t *reqs[] = {&w->closed, &w->closed2,  &w->reopened,  &w->open,
                       &w->late,   &w->held_req, &w->held_subj, &w->shared};
    for (int i = 0; i < 8; i++) {
        *reqs[i] = new_request(s, 100 + i);
        w->subj[i] = new_subject(s, "reporter", 100 + i);
        if (*reqs[i] == 0 || w->subj[i] == 0)
            return false;
        if (!add_field1(s, *reqs[i], w->subj[i], "first_name,email", DC_CONTACT, 100) ||
            !add_field1(s, *reqs[i], w->subj[i], "device_id", DC_DEVICE, i == 4 ? 300 : 100))
            return false;
    }
    w->co_subject = new_subject(s, "account", 100);
    return w->co_subject > 0 &&
           add_field1(s, w->shared, w->co_subject, "account_id", DC_ACCOUNT, 100) &&
           storefx_set_status(s, w->closed, 1000, SR_CLOSED) &&
           storefx_set_status(s, w->closed2, 1200, SR_CLOSED) &&
           storefx_set_status(s, w->reopened, 1000, SR_CLOSED) &&
           storefx_set_status(s, w->reopened, 1500, SR_REOPENED) &&
           storefx_set_status(s, w->late, 5000, SR_CLOSED) &&
           storefx_set_status(s, w->held_req, 1000, SR_CLOSED) &&
           storefx_set_status(s, w->held_subj, 1000, SR_CLOSED) &&
           storefx_set_status(s, w->shared, 1000, SR_CLOSED);
}

static void test_personal_due(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    due_world w;
    REQUIRE(make_world(fx.s, &w));
    int64_t *ids = NULL;
    size_t n = 0;

    /* Nothing held yet: every request closed by 2000, not the reopened,
     * the open or the late one. */
    CHECK_INT(store_personal_due(fx.s, DC_CONTACT, true, 2000, 100, fx.pool, &ids, &n, &err),
              ERR_OK);
    IDS_ARE(ids, n, w.closed, w.closed2, w.held_req, w.held_subj, w.shared);
    CHECK_INT(store_personal_due(fx.s, DC_CONTACT, true, 1100, 100, fx.pool, &ids, &n, &err),
              ERR_OK);
    IDS_ARE(ids, n, w.closed, w.held_req, w.held_subj, w.shared);
    CHECK_INT(store_personal_due(fx.s, DC_CONTACT, true, 999, 100, fx.pool, &ids, &n, &err),
              ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_personal_due(fx.s, DC_CONTACT, true, 2000, 2, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, w.closed, w.closed2);
    CHECK_INT(store_personal_due(fx.s, DC_ACCOUNT, true, 2000, 100, fx.pool, &ids, &n, &err),
              ERR_OK);
    IDS_ARE(ids, n, w.shared);

    /* Holds: on a request; on its reporter; on the second person of a
     * request, which holds that person's record (account) and not the
     * reporter's (contact). */
    int64_t h_req = add_hold1(fx.s, w.held_req, 0);
    int64_t h_subj = add_hold1(fx.s, 0, w.subj[6]);
    int64_t h_co = add_hold1(fx.s, 0, w.co_subject);
    REQUIRE(h_req > 0 && h_subj > 0 && h_co > 0);
    CHECK_INT(store_personal_due(fx.s, DC_CONTACT, true, 2000, 100, fx.pool, &ids, &n, &err),
              ERR_OK);
    IDS_ARE(ids, n, w.closed, w.closed2, w.shared);
    CHECK_INT(store_personal_due(fx.s, DC_ACCOUNT, true, 2000, 100, fx.pool, &ids, &n, &err),
              ERR_OK);
    CHECK_INT(n, 0);

    /* By collection time (device data): reopened and open requests too,
     * not what was collected later, not what is held. */
    CHECK_INT(store_personal_due(fx.s, DC_DEVICE, false, 200, 100, fx.pool, &ids, &n, &err),
              ERR_OK);
    IDS_ARE(ids, n, w.closed, w.closed2, w.reopened, w.open, w.shared);
    CHECK_INT(store_personal_due(fx.s, DC_DEVICE, false, 99, 100, fx.pool, &ids, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_personal_due(fx.s, DC_DEVICE, false, 300, 3, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, w.closed, w.closed2, w.reopened);

    /* A released hold no longer counts. */
    REQUIRE(release_hold1(fx.s, h_req, 3000));
    REQUIRE(release_hold1(fx.s, h_co, 3000));
    CHECK_INT(store_personal_due(fx.s, DC_CONTACT, true, 2000, 100, fx.pool, &ids, &n, &err),
              ERR_OK);
    IDS_ARE(ids, n, w.closed, w.closed2, w.held_req, w.shared);

    /* Erased requests are no longer due. */
    size_t erased = 0;
    REQUIRE(begin(fx.s));
    CHECK_INT(store_personal_erase(fx.s, w.closed, DC_BIT(DC_CONTACT), &erased, &err), ERR_OK);
    CHECK(commit(fx.s));
    CHECK_INT(erased, 1);
    CHECK_INT(store_personal_due(fx.s, DC_CONTACT, true, 2000, 100, fx.pool, &ids, &n, &err),
              ERR_OK);
    IDS_ARE(ids, n, w.closed2, w.held_req, w.shared);

    CHECK_INT(
        store_personal_due(fx.s, (data_class)DC_COUNT, true, 2000, 100, fx.pool, &ids, &n, &err),
        ERR_INVALID);
    CHECK_INT(store_personal_due(fx.s, DC_CONTACT, true, 2000, 0, fx.pool, &ids, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    storefx_close(&fx);
}

static void test_blob_due(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    due_world w;
    REQUIRE(make_world(fx.s, &w));
    int64_t on_closed = add_blob1(fx.s, w.closed, w.subj[0], DC_MEDIA, 100);
    int64_t on_reopened = add_blob1(fx.s, w.reopened, w.subj[2], DC_MEDIA, 100);
    int64_t on_open = add_blob1(fx.s, w.open, w.subj[3], DC_MEDIA, 100);
    int64_t on_held = add_blob1(fx.s, w.held_req, w.subj[5], DC_MEDIA, 100);
    int64_t on_closed2 = add_blob1(fx.s, w.closed2, w.subj[1], DC_MEDIA, 100);
    int64_t rec_old = add_blob1(fx.s, 0, w.subj[3], DC_RECORDING, 100);
    int64_t rec_new = add_blob1(fx.s, 0, w.subj[3], DC_RECORDING, 500);
    int64_t rec_held = add_blob1(fx.s, w.held_subj, w.subj[6], DC_RECORDING, 100);
    REQUIRE(on_closed && on_reopened && on_open && on_held && on_closed2 && rec_old && rec_new &&
            rec_held);
    int64_t *ids = NULL;
    size_t n = 0;

    CHECK_INT(store_blob_due(fx.s, DC_MEDIA, true, 2000, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, on_closed, on_held, on_closed2);
    CHECK_INT(store_blob_due(fx.s, DC_MEDIA, true, 2000, 2, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, on_closed, on_held);
    CHECK_INT(store_blob_due(fx.s, DC_RECORDING, false, 200, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, rec_old, rec_held);
    CHECK_INT(store_blob_due(fx.s, DC_RECORDING, false, 500, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, rec_old, rec_new, rec_held);

    int64_t h_req = add_hold1(fx.s, w.held_req, 0);
    int64_t h_subj = add_hold1(fx.s, 0, w.subj[6]);
    REQUIRE(h_req > 0 && h_subj > 0);
    CHECK_INT(store_blob_due(fx.s, DC_MEDIA, true, 2000, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, on_closed, on_closed2);
    CHECK_INT(store_blob_due(fx.s, DC_RECORDING, false, 500, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, rec_old, rec_new);
    REQUIRE(release_hold1(fx.s, h_subj, 3000));
    CHECK_INT(store_blob_due(fx.s, DC_RECORDING, false, 500, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, rec_old, rec_new, rec_held);

    CHECK_INT(store_blob_due(fx.s, DC_CONTACT, true, 2000, 100, fx.pool, &ids, &n, &err),
              ERR_INVALID);
    storefx_close(&fx);
}

/* A photo uploaded before its report exists (request 0), then tied to
 * it: only once, only by its own subject; never-sent uploads are found by
 * store_blob_orphans for retention, unless their subject is held. */
static void test_blob_attach_and_orphans(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    due_world w;
    REQUIRE(make_world(fx.s, &w));
    int64_t pending = add_blob1(fx.s, 0, w.subj[3], DC_MEDIA, 100);
    int64_t pending_late = add_blob1(fx.s, 0, w.subj[4], DC_MEDIA, 900);
    int64_t pending_held = add_blob1(fx.s, 0, w.subj[6], DC_MEDIA, 100);
    int64_t tied = add_blob1(fx.s, w.open, w.subj[3], DC_MEDIA, 100);
    REQUIRE(pending && pending_late && pending_held && tied);
    int64_t *ids = NULL;
    size_t n = 0;

    CHECK_INT(store_blob_orphans(fx.s, 500, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, pending, pending_held);
    CHECK_INT(store_blob_orphans(fx.s, 1000, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, pending, pending_late, pending_held);
    CHECK_INT(store_blob_orphans(fx.s, 1000, 1, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, pending);
    int64_t h = add_hold1(fx.s, 0, w.subj[6]);
    REQUIRE(h > 0);
    CHECK_INT(store_blob_orphans(fx.s, 1000, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, pending, pending_late);

    REQUIRE(begin(fx.s));
    /* Another subject's file, a file already tied, no such file. */
    CHECK_INT(store_blob_attach(fx.s, pending, w.subj[4], w.open, &err), ERR_NOT_FOUND);
    CHECK_INT(store_blob_attach(fx.s, tied, w.subj[3], w.closed, &err), ERR_NOT_FOUND);
    CHECK_INT(store_blob_attach(fx.s, 999999, w.subj[3], w.open, &err), ERR_NOT_FOUND);
    CHECK_INT(store_blob_attach(fx.s, 0, w.subj[3], w.open, &err), ERR_NOT_FOUND);
    CHECK_INT(store_blob_attach(fx.s, pending, w.subj[3], w.open, &err), ERR_OK);
    /* Once tied, never moved. */
    CHECK_INT(store_blob_attach(fx.s, pending, w.subj[3], w.closed, &err), ERR_NOT_FOUND);
    REQUIRE(commit(fx.s));
    store_blob b;
    CHECK_INT(store_blob_get(fx.s, pending, fx.pool, &b, &err), ERR_OK);
    CHECK_INT(b.request_id, w.open);
    CHECK_INT(store_blob_orphans(fx.s, 1000, 100, fx.pool, &ids, &n, &err), ERR_OK);
    IDS_ARE(ids, n, pending_late);
    CHECK_INT(store_blob_orphans(fx.s, 1000, 5, NULL, &ids, &n, &err), ERR_INVALID);
    storefx_close(&fx);
}

static void test_holds(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t req = new_request(fx.s, 100), subj = new_subject(fx.s, "reporter", 100);
    int64_t other_subj = new_subject(fx.s, "reporter", 100);
    REQUIRE(req > 0 && subj > 0 && other_subj > 0);

    store_hold h = {
        .request_id = req, .reason = "subpoena", .placed_by = "staff:3", .placed_at = 10};
    CHECK_INT(store_hold_insert(fx.s, &h, &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    CHECK_INT(store_hold_insert(fx.s, &h, &err), ERR_OK);
    int64_t h1 = h.id;
    h.request_id = 0;
    h.subject_id = subj;
    h.placed_at = 11;
    CHECK_INT(store_hold_insert(fx.s, &h, &err), ERR_OK);
    int64_t h2 = h.id;
    CHECK(h1 > 0 && h2 > h1);
    store_hold bad = h;
    bad.subject_id = 0;
    CHECK_INT(store_hold_insert(fx.s, &bad, &err), ERR_INVALID);
    bad = h;
    bad.reason = NULL;
    CHECK_INT(store_hold_insert(fx.s, &bad, &err), ERR_INVALID);
    bad = h;
    bad.placed_by = "";
    CHECK_INT(store_hold_insert(fx.s, &bad, &err), ERR_INVALID);
    bad = h;
    bad.subject_id = 999; /* no such subject */
    CHECK_INT(store_hold_insert(fx.s, &bad, &err), ERR_INVALID);
    CHECK(commit(fx.s));

    bool held = false;
    CHECK_INT(store_hold_active(fx.s, req, 0, &held, &err), ERR_OK);
    CHECK(held);
    CHECK_INT(store_hold_active(fx.s, 0, subj, &held, &err), ERR_OK);
    CHECK(held);
    CHECK_INT(store_hold_active(fx.s, 0, other_subj, &held, &err), ERR_OK);
    CHECK(!held);
    CHECK_INT(store_hold_active(fx.s, 999, other_subj, &held, &err), ERR_OK);
    CHECK(!held);
    CHECK_INT(store_hold_active(fx.s, 0, 0, &held, &err), ERR_OK);
    CHECK(!held);
    CHECK_INT(store_hold_active(fx.s, req, 0, NULL, &err), ERR_INVALID);

    CHECK_INT(store_hold_release(fx.s, h1, "staff:4", 20, &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    CHECK_INT(store_hold_release(fx.s, h1, "staff:4", 20, &err), ERR_OK);
    CHECK_INT(store_hold_release(fx.s, h1, "staff:4", 21, &err), ERR_NOT_FOUND);
    CHECK_INT(store_hold_release(fx.s, 999, "staff:4", 21, &err), ERR_NOT_FOUND);
    CHECK_INT(store_hold_release(fx.s, h2, NULL, 21, &err), ERR_INVALID);
    CHECK_INT(store_hold_release(fx.s, h2, "staff:4", 0, &err), ERR_INVALID);
    CHECK(commit(fx.s));
    CHECK_INT(store_hold_active(fx.s, req, 0, &held, &err), ERR_OK);
    CHECK(!held);
    CHECK_INT(store_hold_active(fx.s, req, subj, &held, &err), ERR_OK);
    CHECK(held);

    store_hold *list = NULL;
    size_t n = 0;
    CHECK_INT(store_hold_list(fx.s, false, fx.pool, &list, &n, &err), ERR_OK);
    REQUIRE(n == 2);
    CHECK_INT(list[0].id, h1);
    CHECK_INT(list[0].request_id, req);
    CHECK_INT(list[0].subject_id, 0);
    CHECK_STR(list[0].reason, "subpoena");
    CHECK_STR(list[0].placed_by, "staff:3");
    CHECK_INT(list[0].placed_at, 10);
    CHECK_STR(list[0].released_by, "staff:4");
    CHECK_INT(list[0].released_at, 20);
    CHECK_INT(list[1].id, h2);
    CHECK_INT(list[1].request_id, 0);
    CHECK_INT(list[1].subject_id, subj);
    CHECK(list[1].released_by == NULL);
    CHECK_INT(list[1].released_at, 0);
    CHECK_INT(store_hold_list(fx.s, true, fx.pool, &list, &n, &err), ERR_OK);
    REQUIRE(n == 1);
    CHECK_INT(list[0].id, h2);
    storefx_close(&fx);
}

/* ---- the audit log ---- */

static err_code append(store_t *s, int64_t seq, int64_t request_id, const char *body, err_t *err)
{
    unsigned char frontier[16];
    memset(frontier, (int)seq, sizeof frontier);
    store_audit_row e = {.seq = seq,
                         .at = 1000 + seq,
                         .request_id = request_id,
                         .subject_id = seq % 2 ? 7 : 0,
                         .body = body,
                         .body_len = strlen(body)};
    return store_audit_append(s, &e, frontier, 8 + (size_t)seq % 8, err);
}

static void test_audit_log(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t req = new_request(fx.s, 100);
    REQUIRE(req > 0);

    CHECK_INT(append(fx.s, 1, req, "{\"seq\":1}", &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    CHECK_INT(append(fx.s, 2, req, "{\"seq\":2}", &err), ERR_CONFLICT); /* head is 0 */
    CHECK_INT(append(fx.s, 0, req, "{\"seq\":0}", &err), ERR_INVALID);
    CHECK_INT(append(fx.s, 1, req, "{\"seq\":1}", &err), ERR_OK);
    CHECK_INT(append(fx.s, 1, req, "{\"seq\":1}", &err), ERR_CONFLICT);
    CHECK_INT(append(fx.s, 2, 0, "{\"seq\":2}", &err), ERR_OK);
    CHECK_INT(append(fx.s, 3, req, "{\"seq\":3}", &err), ERR_OK);
    CHECK_INT(append(fx.s, 4, 0, "{\"seq\":4}", &err), ERR_OK);
    CHECK_INT(append(fx.s, 6, 0, "{\"seq\":6}", &err), ERR_CONFLICT);
    CHECK_INT(append(fx.s, 5, req, "", &err), ERR_INVALID);
    store_audit_row e = {.seq = 5, .at = 1, .body = "{}", .body_len = 2};
    CHECK_INT(store_audit_append(fx.s, &e, NULL, 0, &err), ERR_INVALID);
    /* body_len rules, not a NUL. */
    e.body = "{\"seq\":5}TRAILING";
    e.body_len = 9;
    e.request_id = req;
    const unsigned char f5[] = {0, 0, 0, 0, 0, 0, 0, 5, 0xee};
    CHECK_INT(store_audit_append(fx.s, &e, f5, sizeof f5, &err), ERR_OK);
    CHECK(commit(fx.s));

    int64_t size = 0;
    const unsigned char *frontier = NULL;
    size_t len = 0;
    CHECK_INT(store_audit_head(fx.s, fx.pool, &size, &frontier, &len, &err), ERR_OK);
    CHECK_INT(size, 5);
    CHECK_INT(len, sizeof f5);
    CHECK(frontier != NULL && memcmp(frontier, f5, sizeof f5) == 0);

    /* A rolled-back append leaves the head where it was. */
    REQUIRE(begin(fx.s));
    CHECK_INT(append(fx.s, 6, 0, "{\"seq\":6}", &err), ERR_OK);
    store_rollback(fx.s);
    CHECK_INT(store_audit_head(fx.s, fx.pool, &size, &frontier, &len, &err), ERR_OK);
    CHECK_INT(size, 5);

    store_audit_row *rows = NULL;
    size_t n = 0;
    CHECK_INT(store_audit_entries(fx.s, 0, 2, fx.pool, &rows, &n, &err), ERR_OK);
    REQUIRE(n == 2);
    CHECK_INT(rows[0].seq, 1);
    CHECK_INT(rows[0].at, 1001);
    CHECK_INT(rows[0].request_id, req);
    CHECK_INT(rows[0].subject_id, 7);
    CHECK_STR(rows[0].body, "{\"seq\":1}");
    CHECK_INT(rows[0].body_len, 9);
    CHECK_INT(rows[1].seq, 2);
    CHECK_INT(rows[1].request_id, 0);
    CHECK_INT(rows[1].subject_id, 0);
    CHECK_INT(store_audit_entries(fx.s, 2, 100, fx.pool, &rows, &n, &err), ERR_OK);
    REQUIRE(n == 3);
    CHECK_INT(rows[0].seq, 3);
    CHECK_STR(rows[2].body, "{\"seq\":5}");
    CHECK_INT(rows[2].body_len, 9);
    CHECK_INT(store_audit_entries(fx.s, 5, 100, fx.pool, &rows, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_audit_entries(fx.s, 0, 0, fx.pool, &rows, &n, &err), ERR_OK);
    CHECK_INT(n, 0);

    CHECK_INT(store_audit_for_request(fx.s, req, fx.pool, &rows, &n, &err), ERR_OK);
    REQUIRE(n == 3);
    CHECK_INT(rows[0].seq, 1);
    CHECK_INT(rows[1].seq, 3);
    CHECK_INT(rows[2].seq, 5);
    CHECK_INT(store_audit_for_request(fx.s, 999, fx.pool, &rows, &n, &err), ERR_OK);
    CHECK_INT(n, 0);
    storefx_close(&fx);
}

/* The head as the audit_head row holds it, read behind the store's back:
 * its size, or -1; *first gets the frontier's first byte. */
static long long row_head(const storefx *fx, int *first)
{
    sqlite3 *db = raw_open(fx->path);
    if (db == NULL)
        return -1;
    long long size = raw_int(db, "SELECT size FROM audit_head WHERE id = 1");
    *first = (int)raw_int(db, "SELECT unicode(CAST(frontier AS TEXT)) FROM audit_head");
    sqlite3_close(db);
    return size;
}

static int64_t head_size(store_t *s, pool_t *pool)
{
    err_t err;
    int64_t size = -1;
    const unsigned char *frontier;
    size_t len;
    if (store_audit_head(s, pool, &size, &frontier, &len, &err) != ERR_OK)
        return -1;
    return size;
}

/* A write transaction keeps the head in the connection and writes the row
 * once, at commit: the row is the whole log's head after every commit,
 * a rollback (whole, or to a job's savepoint, or to a nested one) puts
 * the head back where the log is, and another connection's appends are
 * seen. */
static void test_audit_head_kept(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int first = 0;

    /* Three appends, one commit: the row follows at the commit. */
    REQUIRE(begin(fx.s));
    for (int64_t seq = 1; seq <= 3; seq++)
        CHECK_INT(append(fx.s, seq, 0, "{\"e\":1}", &err), ERR_OK);
    CHECK_INT(head_size(fx.s, fx.pool), 3);
    CHECK(commit(fx.s));
    CHECK_INT(row_head(&fx, &first), 3);
    CHECK_INT(first, 3); /* append() fills the frontier with seq's byte */

    /* A job's savepoint rolled back: its entry and its head go; the next
     * append takes its place. Released ones stay. */
    REQUIRE(begin(fx.s));
    REQUIRE(store_savepoint(fx.s, &err) == ERR_OK);
    CHECK_INT(append(fx.s, 4, 0, "{\"e\":4}", &err), ERR_OK);
    CHECK_INT(store_release(fx.s, &err), ERR_OK);
    REQUIRE(store_savepoint(fx.s, &err) == ERR_OK);
    CHECK_INT(append(fx.s, 5, 0, "{\"e\":5}", &err), ERR_OK);
    CHECK_INT(append(fx.s, 6, 0, "{\"e\":6}", &err), ERR_OK);
    store_rollback_to(fx.s);
    CHECK_INT(head_size(fx.s, fx.pool), 4);
    CHECK_INT(append(fx.s, 6, 0, "{\"e\":6}", &err), ERR_CONFLICT);
    REQUIRE(store_savepoint(fx.s, &err) == ERR_OK);
    CHECK_INT(append(fx.s, 5, 0, "{\"again\":5}", &err), ERR_OK);
    /* nested: the outer state is written to the row before it opens */
    REQUIRE(store_savepoint(fx.s, &err) == ERR_OK);
    CHECK_INT(append(fx.s, 6, 0, "{\"e\":6}", &err), ERR_OK);
    store_rollback_to(fx.s);
    CHECK_INT(head_size(fx.s, fx.pool), 5);
    CHECK_INT(append(fx.s, 6, 0, "{\"again\":6}", &err), ERR_OK);
    CHECK_INT(store_release(fx.s, &err), ERR_OK);
    CHECK(commit(fx.s));
    CHECK_INT(row_head(&fx, &first), 6);
    CHECK_INT(first, 6);
    store_audit_row *rows = NULL;
    size_t n = 0;
    CHECK_INT(store_audit_entries(fx.s, 3, 10, fx.pool, &rows, &n, &err), ERR_OK);
    REQUIRE(n == 3);
    CHECK_STR(rows[0].body, "{\"e\":4}");
    CHECK_STR(rows[1].body, "{\"again\":5}");
    CHECK_STR(rows[2].body, "{\"again\":6}");

    /* The whole transaction rolled back: the row never moved, and the
     * connection reads it again. */
    REQUIRE(begin(fx.s));
    CHECK_INT(append(fx.s, 7, 0, "{\"e\":7}", &err), ERR_OK);
    store_rollback(fx.s);
    CHECK_INT(row_head(&fx, &first), 6);
    REQUIRE(begin(fx.s));
    CHECK_INT(head_size(fx.s, fx.pool), 6);
    CHECK_INT(append(fx.s, 7, 0, "{\"e\":7}", &err), ERR_OK);
    CHECK(commit(fx.s));

    /* Another connection appends: this one sees it at its next
     * transaction, rather than appending over it. */
    store_t *other = NULL;
    store_options opt = {.url = fx.path, .sync = false};
    REQUIRE(store_open(&opt, &other, &err) == ERR_OK);
    REQUIRE(begin(other));
    CHECK_INT(head_size(other, fx.pool), 7);
    CHECK_INT(append(other, 8, 0, "{\"other\":8}", &err), ERR_OK);
    CHECK(commit(other));
    REQUIRE(begin(fx.s));
    CHECK_INT(head_size(fx.s, fx.pool), 8);
    CHECK_INT(append(fx.s, 9, 0, "{\"e\":9}", &err), ERR_OK);
    CHECK(commit(fx.s));
    /* ... and the other way round, with the row edited behind both
     * (another writer's commit all the same). */
    REQUIRE(begin(other));
    CHECK_INT(head_size(other, fx.pool), 9);
    store_rollback(other);
    store_close(other);
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    CHECK(raw_exec(db, "UPDATE audit_head SET size = 42"));
    sqlite3_close(db);
    REQUIRE(begin(fx.s));
    CHECK_INT(head_size(fx.s, fx.pool), 42);
    /* A head ahead of the log (the row says 42, the log ends at 9): the
     * entry is refused rather than leave a gap. */
    CHECK_INT(append(fx.s, 43, 0, "{\"e\":43}", &err), ERR_CONFLICT);
    store_rollback(fx.s);
    CHECK_INT(row_head(&fx, &first), 42);
    storefx_close(&fx);
}

static store_checkpoint mk_checkpoint(int64_t size)
{
    store_checkpoint cp = {.size = size, .at = 2000 + size};
    memset(cp.root, (int)size, sizeof cp.root);
    memset(cp.public_key, 0x5a, sizeof cp.public_key);
    memset(cp.signature, (int)(0x80 + size), sizeof cp.signature);
    cp.root[0] = 0;
    return cp;
}

static void test_checkpoints(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    store_checkpoint got, *list = NULL;
    size_t n = 99;
    CHECK_INT(store_checkpoint_latest(fx.s, &got, &err), ERR_NOT_FOUND);
    CHECK_INT(store_checkpoint_list(fx.s, fx.pool, &list, &n, &err), ERR_OK);
    CHECK_INT(n, 0);

    store_checkpoint c3 = mk_checkpoint(3), c1 = mk_checkpoint(1), c7 = mk_checkpoint(7);
    CHECK_INT(store_checkpoint_insert(fx.s, &c3, &err), ERR_INTERNAL);
    REQUIRE(begin(fx.s));
    CHECK_INT(store_checkpoint_insert(fx.s, &c3, &err), ERR_OK);
    CHECK_INT(store_checkpoint_insert(fx.s, &c1, &err), ERR_OK);
    CHECK_INT(store_checkpoint_insert(fx.s, &c7, &err), ERR_OK);
    store_checkpoint dup = mk_checkpoint(3);
    dup.at = 1;
    CHECK_INT(store_checkpoint_insert(fx.s, &dup, &err), ERR_CONFLICT);
    CHECK_INT(store_checkpoint_insert(fx.s, NULL, &err), ERR_INVALID);
    CHECK(commit(fx.s));

    CHECK_INT(store_checkpoint_list(fx.s, fx.pool, &list, &n, &err), ERR_OK);
    REQUIRE(n == 3);
    CHECK(memcmp(&list[0], &c1, sizeof c1) == 0);
    CHECK(memcmp(&list[1], &c3, sizeof c3) == 0);
    CHECK(memcmp(&list[2], &c7, sizeof c7) == 0);
    CHECK_INT(store_checkpoint_latest(fx.s, &got, &err), ERR_OK);
    CHECK(memcmp(&got, &c7, sizeof c7) == 0);
    CHECK_INT(store_checkpoint_latest(fx.s, NULL, &err), ERR_INVALID);

    /* A row of the wrong shape is reported, not truncated. */
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    CHECK(raw_exec(db, "UPDATE audit_checkpoint SET root = x'00' WHERE size = 7"));
    sqlite3_close(db);
    CHECK_INT(store_checkpoint_latest(fx.s, &got, &err), ERR_IO);
    CHECK_INT(store_checkpoint_list(fx.s, fx.pool, &list, &n, &err), ERR_IO);
    storefx_close(&fx);
}

/* ---- maintenance ---- */

static void test_compact(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t req = new_request(fx.s, 100);
    REQUIRE(req > 0);
    CHECK(file_size(fx.wal) > 0);
    CHECK_INT(store_compact(fx.s, &err), ERR_OK);
    CHECK_INT(file_size(fx.wal), 0);
    /* Everything is still there, in the main file. */
    service_request got;
    CHECK_INT(store_request_get(fx.s, req, fx.pool, &got, &err), ERR_OK);

    REQUIRE(begin(fx.s));
    CHECK_INT(store_compact(fx.s, &err), ERR_INTERNAL);
    store_rollback(fx.s);

    store_t *ro = NULL;
    store_options ro_opt = {.url = fx.path, .read_only = true};
    REQUIRE(store_open(&ro_opt, &ro, &err) == ERR_OK);
    CHECK_INT(store_compact(ro, &err), ERR_INVALID);

    /* A reader in the middle of a transaction keeps the log: compact waits
     * (the busy timeout), then says it could not complete. */
    CHECK(new_request(fx.s, 101) > 0);
    REQUIRE(store_begin(ro, &err) == ERR_OK);
    int64_t count = 0;
    CHECK_INT(store_request_count(ro, &count, &err), ERR_OK);
    CHECK(new_request(fx.s, 102) > 0);
    CHECK_INT(store_compact(fx.s, &err), ERR_UNAVAILABLE);
    CHECK(file_size(fx.wal) > 0);
    store_rollback(ro);
    store_close(ro);
    CHECK_INT(store_compact(fx.s, &err), ERR_OK);
    CHECK_INT(file_size(fx.wal), 0);
    storefx_close(&fx);
}

static void test_backup(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t req = new_request(fx.s, 100), subj = new_subject(fx.s, "reporter", 100);
    REQUIRE(req > 0 && subj > 0);
    REQUIRE(add_field1(fx.s, req, subj, "email", DC_CONTACT, 100));
    char path[160], nodir[160];
    snprintf(path, sizeof path, "%s/backup.db", fx.dir);
    snprintf(nodir, sizeof nodir, "%s/no/such/dir.db", fx.dir);

    REQUIRE(begin(fx.s));
    CHECK_INT(store_backup(fx.s, path, &err), ERR_INTERNAL);
    store_rollback(fx.s);
    CHECK_INT(file_size(path), -1);
    CHECK_INT(store_backup(fx.s, "", &err), ERR_INVALID);
    CHECK_INT(store_backup(fx.s, nodir, &err), ERR_IO);

    CHECK_INT(store_backup(fx.s, path, &err), ERR_OK);
    struct stat st;
    REQUIRE(stat(path, &st) == 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK(st.st_size > 0);

    /* A file that exists is refused and left as it was. */
    CHECK_INT(store_backup(fx.s, path, &err), ERR_CONFLICT);
    CHECK_INT(file_size(path), st.st_size);

    /* The copy opens as a store with the same rows. */
    store_t *copy = NULL;
    store_options opt = {.url = path, .sync = true};
    REQUIRE(store_open(&opt, &copy, &err) == ERR_OK);
    int version = 0;
    CHECK_INT(store_schema_version(copy, &version, &err), ERR_OK);
    CHECK_INT(version, schema_latest());
    int64_t count = 0;
    CHECK_INT(store_request_count(copy, &count, &err), ERR_OK);
    CHECK_INT(count, 1);
    store_personal *fields = NULL;
    size_t n = 0;
    CHECK_INT(store_personal_list(copy, req, fx.pool, &fields, &n, &err), ERR_OK);
    REQUIRE(n == 1);
    CHECK_STR(fields[0].fields, "email");
    CHECK_INT(fields[0].dclass, DC_CONTACT);
    store_subject sub;
    CHECK_INT(store_subject_get(copy, subj, fx.pool, &sub, &err), ERR_OK);
    store_close(copy);

    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[176];
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
    storefx_close(&fx);
}

/* ---- erasure on disk (P6) ---- */

/* 64 bytes no honest database page holds by chance. */
static void pattern(unsigned char out[64], unsigned char seed)
{
    static const char tag[] = "CIVIC311-SECURE-DELETE-";
    memcpy(out, tag, sizeof tag - 1);
    for (size_t i = sizeof tag - 1; i < 64; i++)
        out[i] = (unsigned char)(seed + i * 37);
}

static bool in_files(const storefx *fx, const unsigned char p[64])
{
    return file_contains(fx->path, p, 64) || file_contains(fx->wal, p, 64);
}

/* Runs on every connection the process opens from now on (an SQLite auto
 * extension): secure_delete off, as in SQLite's default build. The store
 * must turn it on itself, whatever the library's default (Debian's is on,
 * which would hide a store that forgot). */
static int secure_delete_off(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
    (void)errmsg;
    (void)api;
    return sqlite3_exec(db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
}

static void test_secure_delete(void)
{
    storefx fx;
    err_t err;
    /* GCC lets any function type convert to void (*)(void), which is what
     * sqlite3_auto_extension takes. */
    void (*hook)(void) = (void (*)(void))secure_delete_off;
    REQUIRE(sqlite3_auto_extension(hook) == SQLITE_OK);
    bool opened = fx_open(&fx);
    sqlite3_cancel_auto_extension(hook); /* it acts as a connection opens */
    REQUIRE(opened);
    int64_t req = new_request(fx.s, 100), subj = new_subject(fx.s, "reporter", 100);
    REQUIRE(req > 0 && subj > 0);
    unsigned char field[64], key[64], kept[64];
    pattern(field, 1);
    pattern(key, 2);
    pattern(kept, 3);

    store_personal p = {.request_id = req,
                        .fields = "email",
                        .dclass = DC_CONTACT,
                        .subject_id = subj,
                        .key_version = 1,
                        .sealed = field,
                        .sealed_len = sizeof field,
                        .collected_at = 100};
    store_personal q = p;
    q.fields = "device_id";
    q.dclass = DC_DEVICE;
    q.sealed = kept;
    REQUIRE(begin(fx.s));
    CHECK_INT(store_personal_insert(fx.s, &p, &err), ERR_OK);
    CHECK_INT(store_personal_insert(fx.s, &q, &err), ERR_OK);
    CHECK_INT(store_subject_set_key(fx.s, subj, 1, 1, key, sizeof key, &err), ERR_OK);
    CHECK(commit(fx.s));
    /* The patterns are in the files now: the checks below can fail. */
    CHECK(in_files(&fx, field));
    CHECK(in_files(&fx, key));
    CHECK_INT(store_compact(fx.s, &err), ERR_OK);
    CHECK(file_contains(fx.path, field, sizeof field));
    CHECK(file_contains(fx.path, key, sizeof key));

    /* Erase the contact field and shred the key; the device field stays. */
    size_t erased = 0;
    REQUIRE(begin(fx.s));
    CHECK_INT(store_personal_erase(fx.s, req, DC_BIT(DC_CONTACT), &erased, &err), ERR_OK);
    CHECK(commit(fx.s));
    CHECK_INT(erased, 1);
    REQUIRE(begin(fx.s));
    CHECK_INT(store_subject_erase(fx.s, subj, 200, &err), ERR_OK);
    CHECK(commit(fx.s));
    CHECK_INT(store_compact(fx.s, &err), ERR_OK);
    CHECK_INT(file_size(fx.wal), 0);
    CHECK(!in_files(&fx, field));
    CHECK(!in_files(&fx, key));
    CHECK(in_files(&fx, kept));

    /* The control: the same delete and checkpoint on a connection with
     * secure_delete off leaves the bytes in the file. So the checks above
     * see what they claim, and they pass because the store turned
     * secure_delete on, not because a checkpoint rewrites pages. */
    unsigned char control[64];
    pattern(control, 4);
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    sqlite3_stmt *st = NULL;
    CHECK(raw_exec(db, "PRAGMA secure_delete = OFF"));
    CHECK(sqlite3_prepare_v2(db,
                             "INSERT INTO personal_field VALUES (?1, 'contact', ?2, 1, 'email', "
                             "?3, 100)",
                             -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_int64(st, 1, req);
    sqlite3_bind_int64(st, 2, subj);
    sqlite3_bind_blob(st, 3, control, sizeof control, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    CHECK(raw_exec(db, "DELETE FROM personal_field WHERE data_class = 'contact'"));
    CHECK(raw_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"));
    sqlite3_close(db);
    CHECK_INT(file_size(fx.wal), 0);
    CHECK(file_contains(fx.path, control, sizeof control));
    storefx_close(&fx);
}

/* ---- query plans ---- */

/* Fails the test if the lookup would scan a table rather than search an
 * index, or sort its rows (a temp b-tree: every row of the class read and
 * sorted for one page), or find a request's own fields by anything but
 * its id. */
static void check_lookup_plan(sqlite3 *db, const char *name, store_sqlite_lookup which)
{
    const char *sql = store_sqlite_lookup_sql(which);
    char explain[2048];
    REQUIRE(strlen(sql) + 20 < sizeof explain);
    snprintf(explain, sizeof explain, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, explain, -1, &st, NULL);
    CHECK(rc == SQLITE_OK);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", name, sqlite3_errmsg(db));
    bool good = true;
    int lines = 0;
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (detail == NULL)
            continue;
        lines++;
        bool scan = strncmp(detail, "SCAN ", 5) == 0 && strstr(detail, "USING") == NULL &&
                    strcmp(detail, "SCAN CONSTANT ROW") != 0 &&
                    strncmp(detail, "SCAN (subquery", 14) != 0;
        bool sorts = strstr(detail, "TEMP B-TREE") != NULL;
        /* q: the fields of the request at hand, never a walk of the class. */
        bool wrong = strncmp(detail, "SEARCH q ", 9) == 0 && strstr(detail, "request_id=") == NULL;
        if (scan || sorts || wrong) {
            fprintf(stderr, "%s: %s\n", name, detail);
            good = false;
        }
        if (getenv("CIVIC_SHOW_PLANS") != NULL)
            printf("  %-22s %s\n", name, detail);
    }
    CHECK(lines > 0);
    CHECK(good);
    sqlite3_finalize(st);
}

static void test_query_plans(void)
{
    storefx fx;
    REQUIRE(fx_open(&fx));
    sqlite3 *db = raw_open(fx.path);
    REQUIRE(db != NULL);
    check_lookup_plan(db, "personal_due closed", STORE_SQLITE_PERSONAL_DUE_CLOSED);
    check_lookup_plan(db, "personal_due collected", STORE_SQLITE_PERSONAL_DUE_COLLECTED);
    check_lookup_plan(db, "blob_due closed", STORE_SQLITE_BLOB_DUE_CLOSED);
    check_lookup_plan(db, "blob_due created", STORE_SQLITE_BLOB_DUE_CREATED);
    check_lookup_plan(db, "blob_orphans", STORE_SQLITE_BLOB_ORPHANS);
    check_lookup_plan(db, "blind_find", STORE_SQLITE_BLIND_FIND);
    sqlite3_close(db);
    storefx_close(&fx);
}

/* ---- arguments store.c refuses before any backend sees them ---- */

static void test_bad_arguments(void)
{
    storefx fx;
    err_t err;
    REQUIRE(fx_open(&fx));
    int64_t *ids = NULL, v = 0;
    size_t n = 0;
    unsigned char d[STORE_DIGEST_LEN] = {0};
    const unsigned char *fr = NULL;
    CHECK_INT(store_subject_count_kek(fx.s, 1, NULL, &err), ERR_INVALID);
    CHECK_INT(store_subject_usage(fx.s, 1, NULL, &err), ERR_INVALID);
    CHECK_INT(store_subject_get(fx.s, 1, NULL, NULL, &err), ERR_INVALID);
    CHECK_INT(store_personal_list(fx.s, 1, fx.pool, NULL, &n, &err), ERR_INVALID);
    CHECK_INT(store_blob_list(fx.s, 1, NULL, NULL, &n, &err), ERR_INVALID);
    CHECK_INT(store_blob_insert(fx.s, NULL, &err), ERR_INVALID);
    CHECK_INT(store_blind_find(fx.s, "email", d, 5, fx.pool, NULL, &n, &err), ERR_INVALID);
    CHECK_INT(store_blind_find(fx.s, "email", NULL, 5, fx.pool, &ids, &n, &err), ERR_INVALID);
    CHECK_INT(store_personal_due(fx.s, DC_CONTACT, true, 1, 5, fx.pool, &ids, NULL, &err),
              ERR_INVALID);
    CHECK_INT(store_blob_due(fx.s, DC_MEDIA, true, 1, 5, NULL, &ids, &n, &err), ERR_INVALID);
    CHECK_INT(store_hold_insert(fx.s, NULL, &err), ERR_INVALID);
    CHECK_INT(store_hold_list(fx.s, true, fx.pool, NULL, &n, &err), ERR_INVALID);
    CHECK_INT(store_audit_head(fx.s, fx.pool, &v, &fr, NULL, &err), ERR_INVALID);
    CHECK_INT(store_audit_append(fx.s, NULL, d, 8, &err), ERR_INVALID);
    CHECK_INT(store_audit_entries(fx.s, 0, 5, fx.pool, NULL, &n, &err), ERR_INVALID);
    CHECK_INT(store_audit_for_request(fx.s, 1, NULL, NULL, &n, &err), ERR_INVALID);
    CHECK_INT(store_checkpoint_list(fx.s, fx.pool, NULL, &n, &err), ERR_INVALID);
    CHECK_INT(store_backup(fx.s, NULL, &err), ERR_INVALID);
    /* Messages name what failed, never a value. */
    CHECK_INT(store_blind_insert(fx.s, "ada@example.org", d, 1, 1, &err), ERR_INVALID);
    CHECK(strstr(err.msg, "ada@") == NULL);
    storefx_close(&fx);
}

TEST_MAIN(TEST(test_migrate_fresh), TEST(test_migrate_from_v1), TEST(test_subjects),
          TEST(test_personal_fields), TEST(test_blobs), TEST(test_blind_index),
          TEST(test_personal_due), TEST(test_blob_due), TEST(test_blob_attach_and_orphans), TEST(test_holds), TEST(test_audit_log),
          TEST(test_audit_head_kept), TEST(test_checkpoints), TEST(test_compact), TEST(test_backup),
          TEST(test_secure_delete), TEST(test_query_plans), TEST(test_bad_arguments))
