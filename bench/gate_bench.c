/*
 * gate_bench.c - bench/privacy's in-process measure of reading personal
 * data (issue 3), which has no HTTP endpoint yet: the gatekeeper's read of
 * a request's contact fields, next to the store-level work of the public
 * GET requests/{id}.json. It owns nothing but its measurements.
 *
 *   gate_bench fill --data DIR --form FILE --count N
 *       files N requests the way POST requests.json does: the form in FILE
 *       (as bench/lib.sh's post_form writes it, api_key included) plus a
 *       reporter of its own per request (first and last name, email, phone,
 *       device id) goes through intake_request, then store_request_insert
 *       and vault_collect_reporter in one transaction, as create_apply in
 *       src/open311/o311_api.c does (100 requests a transaction).
 *
 *   gate_bench time --data DIR --ops M [--no-sync] [--seed S] [--only store|gate]
 *       M times, in turn (each on a random request of the store):
 *       store   store_request_get in a read transaction on a read-only
 *               connection: what the public GET does at the store level;
 *       gate    gate_read_request of the contact fields, as an agent, for
 *               address_request, with its audit entry and the commit, on a
 *               write connection (synchronous=FULL as the server, or OFF
 *               with --no-sync).
 *       Prints one JSON line: p50, p99 and mean per operation, in
 *       microseconds (CLOCK_MONOTONIC around each operation). --only runs
 *       one of the two: bench/privacy counts instructions per operation
 *       with valgrind --tool=callgrind --toggle-collect='bench_op_gate*'
 *       (the WARMUP_OPS calls before the measured ones are not counted).
 *
 * Exit codes: 0 done, 1 a store or gatekeeper call failed, 2 bad usage.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/apikey.h"
#include "core/intake.h"
#include "privacy/gate.h"
#include "privacy/vault.h"
#include "util/kv.h"

#define FILL_BATCH 100
#define WARMUP_OPS 200
#define FORM_MAX 8192

static const char USAGE[] =
    "usage: gate_bench fill --data DIR --form FILE --count N\n"
    "       gate_bench time --data DIR --ops M [--no-sync] [--seed S] [--only store|gate]\n";

static int fail(const err_t *err)
{
    fprintf(stderr, "gate_bench: %s\n", err->msg);
    return 1;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* xorshift64*: the same sequence of requests for a given seed. */
static uint64_t rng_next(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * 2685821657736338717ULL;
}

static bool parse_count(const char *s, long long *out)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v <= 0)
        return false;
    *out = v;
    return true;
}

/* ---- fill ---- */

static err_code read_form(const char *path, char *buf, size_t cap, size_t *len, err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return err_set(err, ERR_IO, "cannot open the form file %s", path);
    size_t n = fread(buf, 1, cap, f);
    bool bad = ferror(f) != 0 || n == cap;
    fclose(f);
    if (bad)
        return err_set(err, ERR_IO, "cannot read the form file %s (or it is over %zu bytes)", path,
                       cap - 1);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    *len = n;
    return ERR_OK;
}

static err_code add_pair(kv_list *kv, pool_t *pool, const char *key, const char *value, err_t *err)
{
    return kv_add(kv, pool, key, strlen(key), value, strlen(value), &KV_DEFAULT_LIMITS, err);
}

/* Request i's form: the common one, a description and a reporter of its
 * own (bench/post.lua's pattern, so the blind indexes differ). */
static err_code request_form(const char *form, size_t form_len, long long i, pool_t *pool,
                             kv_list *kv, err_t *err)
{
    char first[32], last[40], email[80], phone[40], device[48], desc[96];
    snprintf(first, sizeof first, "Alex%lld", i);
    snprintf(last, sizeof last, "Rivera-gate%lld", i % 7);
    snprintf(email, sizeof email, "alex.rivera.gate.%lld@example.org", i);
    snprintf(phone, sizeof phone, "+1 212 %03lld %04lld", 200 + (i / 10000) % 800, i % 10000);
    snprintf(device, sizeof device, "bench-gate-%lld", i);
    snprintf(desc, sizeof desc, "Benchmark report %lld: streetlight out at the corner", i);
    kv_init(kv);
    err_code rc = form_decode(form, form_len, pool, &KV_DEFAULT_LIMITS, kv, err);
    if (rc == ERR_OK)
        rc = add_pair(kv, pool, "description", desc, err);
    if (rc == ERR_OK)
        rc = add_pair(kv, pool, "first_name", first, err);
    if (rc == ERR_OK)
        rc = add_pair(kv, pool, "last_name", last, err);
    if (rc == ERR_OK)
        rc = add_pair(kv, pool, "email", email, err);
    if (rc == ERR_OK)
        rc = add_pair(kv, pool, "phone", phone, err);
    if (rc == ERR_OK)
        rc = add_pair(kv, pool, "device_id", device, err);
    return rc;
}

/* The api_key of the form, looked up as the server's check_api_key does. */
static err_code form_key_id(store_t *s, const kv_list *kv, int64_t *id, err_t *err)
{
    unsigned char hash[APIKEY_HASH_LEN];
    const char *key = kv_get(kv, "api_key");
    if (key == NULL || !apikey_hash(key, hash))
        return err_set(err, ERR_INVALID, "the form has no valid api_key");
    return store_apikey_find(s, hash, id, err);
}

/* One request, as POST requests.json files it (create_apply). */
static err_code file_one(store_t *s, const keyring_t *keys, const catalog *cat, const char *form,
                         size_t form_len, long long i, int64_t *key_id, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    kv_list kv;
    service_request sr;
    memset(&sr, 0, sizeof sr);
    err_code rc = request_form(form, form_len, i, pool, &kv, err);
    if (rc == ERR_OK && *key_id == 0)
        rc = form_key_id(s, &kv, key_id, err);
    if (rc == ERR_OK)
        rc = intake_request(cat, &kv, SR_CHANNEL_API, (int64_t)time(NULL), pool, &sr, err);
    if (rc == ERR_OK && sr.token != NULL)
        rc =
            err_set(err, ERR_INVALID, "the form's service is a batch service: pick a realtime one");
    char actor[32];
    snprintf(actor, sizeof actor, "api:%lld", (long long)*key_id);
    sr.api_key_id = *key_id;
    if (rc == ERR_OK)
        rc = store_request_insert(s, &sr, err);
    if (rc == ERR_OK)
        rc = vault_collect_reporter(s, keys, &sr, actor, 0, sr.requested_at, NULL, err);
    pool_free(pool);
    return rc;
}

static int cmd_fill(const char *dir, const char *form_path, long long count)
{
    err_t err;
    civic_config cfg = {0};
    keyring_t *keys = NULL;
    store_t *s = NULL;
    catalog *cat = NULL;
    static char form[FORM_MAX];
    size_t form_len = 0;
    int64_t key_id = 0;
    int code = 1;
    err_code rc = read_form(form_path, form, sizeof form, &form_len, &err);
    if (rc == ERR_OK)
        rc = apikey_init(&err);
    if (rc == ERR_OK)
        rc = config_load(dir, &cfg, &err);
    if (rc == ERR_OK)
        rc = cli_load_keys(&cfg, &keys, &err);
    if (rc == ERR_OK)
        rc = cli_open_store(&cfg, true, &s, &err);
    if (rc == ERR_OK)
        rc = store_catalog_load(s, &cat, &err);
    for (long long done = 0; rc == ERR_OK && done < count;) {
        rc = store_begin(s, &err);
        for (long long b = 0; rc == ERR_OK && b < FILL_BATCH && done < count; b++, done++)
            rc = file_one(s, keys, cat, form, form_len, done + 1, &key_id, &err);
        if (rc == ERR_OK)
            rc = store_commit(s, &err);
        else
            store_rollback(s);
    }
    if (rc == ERR_OK) {
        printf("filed %lld requests with personal data\n", count);
        code = 0;
    } else {
        code = fail(&err);
    }
    catalog_free(cat);
    store_close(s);
    keyring_free(keys);
    config_free(&cfg);
    return code;
}

/* ---- time ---- */

/* The public GET's store work: one request, in a read transaction. */
static err_code op_store(store_t *r, int64_t id, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    service_request sr;
    err_code rc = store_begin(r, err);
    if (rc == ERR_OK) {
        rc = store_request_get(r, id, pool, &sr, err);
        if (rc == ERR_OK)
            rc = store_commit(r, err);
        else
            store_rollback(r);
    }
    pool_free(pool);
    return rc;
}

static const gate_actor AGENT = {.role = GATE_AGENT, .actor = "staff:bench"};

/* A Contact Center agent reads a request's contact fields: the
 * gatekeeper's decision, the unwrap and decryption, the audit entry, and
 * the commit that makes that entry durable. */
static err_code op_gate(store_t *w, const keyring_t *keys, int64_t id, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    gate_view view;
    err_code rc = store_begin(w, err);
    if (rc == ERR_OK) {
        rc = gate_read_request(w, keys, &AGENT, GATE_PURPOSE_ADDRESS_REQUEST, id,
                               DC_BIT(DC_CONTACT), (int64_t)time(NULL), pool, &view, err);
        if (rc == ERR_OK && (view.reporter.email == NULL || view.reporter.phone == NULL))
            rc = err_set(err, ERR_INTERNAL, "request %lld: the gatekeeper returned no contact data",
                         (long long)id);
        if (rc == ERR_OK)
            rc = store_commit(w, err);
        else
            store_rollback(w);
    }
    pool_free(pool);
    return rc;
}

/* The measured calls go through these two, and the warm-up does not:
 * callgrind --toggle-collect='bench_op_*' then counts measured calls only. */
__attribute__((noinline)) static err_code bench_op_store(store_t *r, int64_t id, err_t *err)
{
    return op_store(r, id, err);
}

__attribute__((noinline)) static err_code bench_op_gate(store_t *w, const keyring_t *keys,
                                                        int64_t id, err_t *err)
{
    return op_gate(w, keys, id, err);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "name":{"n":..,"p50_us":..,"p99_us":..,"mean_us":..} of the samples
 * (sorted here). */
static void print_stats(const char *name, double *v, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    qsort(v, n, sizeof *v, cmp_double);
    size_t i99 = (n * 99 + 99) / 100; /* ceil(0.99 n), 1-based */
    printf("\"%s\":{\"n\":%zu,\"p50_us\":%.2f,\"p99_us\":%.2f,\"mean_us\":%.2f,\"min_us\":%.2f}",
           name, n, n ? v[(n - 1) / 2] : 0.0, n ? v[i99 - 1] : 0.0, n ? sum / (double)n : 0.0,
           n ? v[0] : 0.0);
}

typedef enum { ONLY_BOTH, ONLY_STORE, ONLY_GATE } only_mode;

static int cmd_time(const char *dir, long long ops, bool sync, uint64_t seed, only_mode only)
{
    err_t err;
    civic_config cfg = {0};
    keyring_t *keys = NULL;
    store_t *w = NULL, *r = NULL;
    int64_t count = 0;
    double *t_store = calloc((size_t)ops, sizeof *t_store);
    double *t_gate = calloc((size_t)ops, sizeof *t_gate);
    int code = 1;
    err_code rc =
        t_store != NULL && t_gate != NULL ? ERR_OK : err_set(&err, ERR_NOMEM, "out of memory");
    if (rc == ERR_OK)
        rc = config_load(dir, &cfg, &err);
    if (rc == ERR_OK)
        rc = cli_load_keys(&cfg, &keys, &err);
    if (rc == ERR_OK)
        rc = cli_open_store(&cfg, sync, &w, &err);
    if (rc == ERR_OK) {
        store_options ro = {.url = cfg.db_path, .sync = sync, .read_only = true};
        rc = store_open(&ro, &r, &err);
    }
    if (rc == ERR_OK)
        rc = store_request_count(r, &count, &err);
    if (rc == ERR_OK && count == 0)
        rc = err_set(&err, ERR_NOT_FOUND, "the store holds no request: run gate_bench fill first");
    uint64_t st = seed != 0 ? seed : 311;
    /* ids 1..count: a store made by init and filled by gate_bench fill */
    for (long long i = -WARMUP_OPS; rc == ERR_OK && i < ops; i++) {
        int64_t a = 1 + (int64_t)(rng_next(&st) % (uint64_t)count);
        int64_t b = 1 + (int64_t)(rng_next(&st) % (uint64_t)count);
        if (i < 0) { /* warm-up: statements prepared, caches filled */
            if (only != ONLY_GATE)
                rc = op_store(r, a, &err);
            if (rc == ERR_OK && only != ONLY_STORE)
                rc = op_gate(w, keys, b, &err);
            continue;
        }
        if (only != ONLY_GATE) {
            double t0 = now_us();
            rc = bench_op_store(r, a, &err);
            t_store[i] = now_us() - t0;
        }
        if (rc == ERR_OK && only != ONLY_STORE) {
            double t0 = now_us();
            rc = bench_op_gate(w, keys, b, &err);
            t_gate[i] = now_us() - t0;
        }
    }
    if (rc == ERR_OK) {
        printf("{\"sync\":%s,\"ops\":%lld,\"requests\":%lld,", sync ? "true" : "false", ops,
               (long long)count);
        print_stats("store_get", t_store, only == ONLY_GATE ? 0 : (size_t)ops);
        putchar(',');
        print_stats("gate_read", t_gate, only == ONLY_STORE ? 0 : (size_t)ops);
        puts("}");
        code = 0;
    } else {
        code = fail(&err);
    }
    store_close(r);
    store_close(w);
    keyring_free(keys);
    config_free(&cfg);
    free(t_store);
    free(t_gate);
    return code;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *form = NULL, *only_s = NULL;
    long long count = 0, ops = 0, seed = 0;
    bool sync = true;
    if (argc < 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(a, "--no-sync") == 0) {
            sync = false;
            continue;
        }
        if (strcmp(a, "--data") == 0)
            dir = v;
        else if (strcmp(a, "--form") == 0)
            form = v;
        else if (strcmp(a, "--only") == 0)
            only_s = v;
        else if (strcmp(a, "--count") == 0)
            ok = parse_count(v, &count);
        else if (strcmp(a, "--ops") == 0)
            ok = parse_count(v, &ops);
        else if (strcmp(a, "--seed") == 0)
            ok = parse_count(v, &seed);
        else
            ok = false;
        if (!ok || v == NULL) {
            fprintf(stderr, "gate_bench: bad option %s\n%s", a, USAGE);
            return 2;
        }
        i++;
    }
    if (sodium_init() < 0) {
        fputs("gate_bench: libsodium failed to start\n", stderr);
        return 1;
    }
    if (strcmp(argv[1], "fill") == 0 && dir != NULL && form != NULL && count > 0)
        return cmd_fill(dir, form, count);
    only_mode only = ONLY_BOTH;
    if (only_s != NULL && strcmp(only_s, "store") == 0)
        only = ONLY_STORE;
    else if (only_s != NULL && strcmp(only_s, "gate") == 0)
        only = ONLY_GATE;
    else if (only_s != NULL)
        dir = NULL; /* usage */
    if (strcmp(argv[1], "time") == 0 && dir != NULL && ops > 0)
        return cmd_time(dir, ops, sync, (uint64_t)seed, only);
    fputs(USAGE, stderr);
    return 2;
}
