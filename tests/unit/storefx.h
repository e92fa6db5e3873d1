/*
 * storefx.h - what the tests that run against a real store share
 * (test_store.c, test_store_privacy.c, test_privacy.c): a migrated SQLite
 * store in a temp directory of its own, a catalog written in a transaction,
 * requests filed and moved one transaction each, and a way behind the
 * store's back - a raw SQLite connection to its file, and a search of the
 * file's bytes - for what the store deliberately does not offer.
 *
 * Include after testlib.h from exactly one file per test binary, like
 * testlib.h. The functions are static inline so a test that does not use
 * one is not warned about it.
 */
#ifndef CIVIC_STOREFX_H
#define CIVIC_STOREFX_H

#include <dirent.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privacy/audit.h"
#include "privacy/keyring.h"
#include "store/store.h"
#include "util/pool.h"

/* ---- the fixture ---- */

typedef struct {
    char dir[64];   /* a temp directory of the test's own */
    char path[128]; /* the database file in it */
    char wal[136];  /* the database's write-ahead log */
    char keys[136]; /* where a key file goes, for the tests that make one */
    store_t *s;
    pool_t *pool; /* for what the store's reads return */
    keyring_t *k; /* the key file loaded; NULL for a test without one */
} storefx;

/* Makes the temp directory and names the files in it; opens nothing. */
static inline bool storefx_dir(storefx *fx)
{
    memset(fx, 0, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/civic-store-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        perror("storefx: mkdtemp");
        return false;
    }
    snprintf(fx->path, sizeof fx->path, "%s/civic311.db", fx->dir);
    snprintf(fx->wal, sizeof fx->wal, "%s-wal", fx->path);
    snprintf(fx->keys, sizeof fx->keys, "%s/civic311.keys", fx->dir);
    return true;
}

/* Closes what is open and removes the directory with every file in it
 * (the database's, key files, backups: the tests make no subdirectory). */
static inline void storefx_close(storefx *fx)
{
    store_close(fx->s);
    keyring_free(fx->k);
    pool_free(fx->pool);
    DIR *d = opendir(fx->dir);
    if (d != NULL) {
        char p[sizeof fx->dir + 260];
        for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", fx->dir, e->d_name);
            if (unlink(p) != 0)
                perror(p);
        }
        closedir(d);
    }
    if (rmdir(fx->dir) != 0)
        perror(fx->dir);
    memset(fx, 0, sizeof *fx);
}

/* A fresh, migrated store in its own temp directory, and a pool. */
static inline bool storefx_open(storefx *fx)
{
    err_t err = {0};
    if (!storefx_dir(fx))
        return false;
    store_options opt = {.url = fx->path, .sync = false};
    fx->pool = pool_new();
    if (fx->pool == NULL || store_open(&opt, &fx->s, &err) != ERR_OK ||
        store_migrate(fx->s, &err) != ERR_OK) {
        fprintf(stderr, "storefx: %s\n", fx->pool == NULL ? "out of memory" : err.msg);
        storefx_close(fx);
        return false;
    }
    return true;
}

/* Ends the transaction of a step that returned rc: commits it when rc is
 * ERR_OK, else (or when the commit fails) rolls it back. */
static inline err_code storefx_finish(store_t *s, err_code rc, err_t *err)
{
    if (rc == ERR_OK)
        rc = store_commit(s, err);
    if (rc != ERR_OK)
        store_rollback(s);
    return rc;
}

/* ---- the catalog ---- */

/* Writes c into the store in a transaction of its own. */
static inline bool storefx_put_catalog(store_t *s, const catalog *c)
{
    err_t err;
    err_code rc = store_begin(s, &err);
    if (rc == ERR_OK)
        rc = storefx_finish(s, store_catalog_put(s, c, &err), &err);
    if (rc != ERR_OK)
        fprintf(stderr, "put_catalog: %s\n", err.msg);
    return rc == ERR_OK;
}

/* Writes a catalog of these agencies and services, as storefx_put_catalog. */
static inline bool storefx_put_services(store_t *s, const agency *agencies, size_t nagencies,
                                        const service *services, size_t nservices)
{
    err_t err = {0};
    catalog *c = catalog_new();
    bool ok = c != NULL;
    for (size_t i = 0; ok && i < nagencies; i++)
        ok = catalog_add_agency(c, &agencies[i], &err) == ERR_OK;
    for (size_t i = 0; ok && i < nservices; i++)
        ok = catalog_add_service(c, &services[i], &err) == ERR_OK;
    if (!ok)
        fprintf(stderr, "put_services: %s\n", c == NULL ? "out of memory" : err.msg);
    ok = ok && storefx_put_catalog(s, c);
    catalog_free(c);
    return ok;
}

/* Opens the fixture with these services (of the agency DOT) and a new key
 * file, loaded into fx->k: the privacy engine's tests start here. */
static inline bool storefx_open_keyed(storefx *fx, const service *services, size_t n)
{
    static const agency dot = {"DOT", "Department of Transportation"};
    err_t err = {0};
    if (!storefx_open(fx))
        return false;
    if (!storefx_put_services(fx->s, &dot, 1, services, n)) {
        storefx_close(fx);
        return false;
    }
    err_code rc = keyring_create(fx->keys, &err);
    if (rc == ERR_OK)
        rc = keyring_load(fx->keys, &fx->k, &err);
    if (rc != ERR_OK) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        storefx_close(fx);
        return false;
    }
    return true;
}

/* The audit log's size as the store sees it (-1 on failure). */
static inline int64_t storefx_audit_size(storefx *fx)
{
    err_t err;
    pool_t *pool = pool_new();
    int64_t size = -1;
    const unsigned char *frontier;
    size_t len;
    if (pool == NULL || store_audit_head(fx->s, pool, &size, &frontier, &len, &err) != ERR_OK)
        size = -1;
    pool_free(pool);
    return size;
}

/* The latest audit entry, decoded; its strings come from pool. */
static inline bool storefx_audit_last_entry(storefx *fx, pool_t *pool, audit_entry *e)
{
    err_t err;
    int64_t size = storefx_audit_size(fx), seq;
    store_audit_row *rows;
    size_t n = 0;
    return size > 0 && store_audit_entries(fx->s, size - 1, 1, pool, &rows, &n, &err) == ERR_OK &&
           n == 1 && audit_entry_decode(rows[0].body, rows[0].body_len, pool, e, &seq, &err) == ERR_OK;
}

/* ---- requests, one transaction each ---- */

/* An open request for code, filed through the API at `at`. */
static inline service_request storefx_request(const char *code, int64_t at)
{
    service_request sr;
    memset(&sr, 0, sizeof sr);
    sr.service_code = code;
    sr.status = SR_OPEN;
    sr.requested_at = at;
    sr.updated_at = at;
    sr.channel = SR_CHANNEL_API;
    return sr;
}

/* store_request_insert in a transaction of its own. */
static inline err_code storefx_insert(store_t *s, service_request *sr, err_t *err)
{
    err_code rc = store_begin(s, err);
    return rc == ERR_OK ? storefx_finish(s, store_request_insert(s, sr, err), err) : rc;
}

/* store_event_append in a transaction of its own. */
static inline err_code storefx_append(store_t *s, sr_event *ev, err_t *err)
{
    err_code rc = store_begin(s, err);
    return rc == ERR_OK ? storefx_finish(s, store_event_append(s, ev, err), err) : rc;
}

/* Moves request id to status st at `at`, as staff (a close is a fix). */
static inline bool storefx_set_status(store_t *s, int64_t id, int64_t at, sr_status st)
{
    err_t err;
    sr_event ev = {.request_id = id,
                   .at = at,
                   .kind = SR_EV_STATUS,
                   .status = st,
                   .resolution = st == SR_CLOSED ? SR_RES_FIXED : SR_RES_NONE,
                   .actor = "staff:1"};
    if (storefx_append(s, &ev, &err) != ERR_OK) {
        fprintf(stderr, "set_status: %s\n", err.msg);
        return false;
    }
    return true;
}

/* ---- behind the store's back ---- */

/* A raw SQLite connection to the file at path (created if missing). It
 * waits for the store's connections as they wait for each other. */
static inline sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, 5000) != SQLITE_OK) {
        fprintf(stderr, "raw_open: %s\n", db != NULL ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* The first column of the first row of sql, as an integer; -1 on error or
 * when there is no row. */
static inline long long raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Runs sql (one or more statements); says why when it fails. */
static inline bool raw_exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return true;
    fprintf(stderr, "raw_exec: %s\n", sqlite3_errmsg(db));
    return false;
}

/* -1 if the file does not exist. */
static inline long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Whether the file at path holds these bytes anywhere (memmem is a GNU
 * extension). A missing file holds nothing. */
static inline bool file_contains(const char *path, const void *needle, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t cap = 1 << 16, n = 0;
    unsigned char *data = malloc(cap);
    while (data != NULL) {
        if (n == cap) {
            unsigned char *bigger = realloc(data, cap * 2);
            if (bigger == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            cap *= 2;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    bool failed = data == NULL || ferror(f);
    fclose(f);
    bool found = false;
    for (size_t i = 0; !failed && len > 0 && i + len <= n && !found; i++)
        found = memcmp(data + i, needle, len) == 0;
    if (failed)
        fprintf(stderr, "file_contains: cannot read %s\n", path);
    free(data);
    return found;
}

/* file_contains for a string's bytes. */
static inline bool file_contains_str(const char *path, const char *needle)
{
    return file_contains(path, needle, strlen(needle));
}

#endif
