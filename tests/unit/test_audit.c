/*
 * test_audit.c - the audit log: RFC 6962 hashing against the Certificate
 * Transparency reference vectors and a naive tree hash, canonical entries
 * and checkpoints, and tamper detection against a real SQLite store and
 * its export.
 *
 * The store tests edit the database file through SQLite directly, as an
 * attacker with the file would: the store offers no way to do it on
 * purpose. Every edit must make verification fail, except the one an
 * attacker can get away with (cutting the log back together with its
 * later checkpoints and head), which only a pinned checkpoint catches.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privacy/audit.h"
#include "privacy/keyring.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/pool.h"
#include "testlib.h"

/* ---- helpers ---- */

static void from_hex(const char *hex, unsigned char *out, size_t *len)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    *len = n;
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, p, n);
}

/* A keyring in its own temp directory. */
typedef struct {
    char dir[64];
    char path[128];
    keyring_t *k;
    unsigned char pk[STORE_PUBKEY_LEN];
} keys;

static bool keys_open(keys *ks)
{
    err_t err = {0};
    memset(ks, 0, sizeof *ks);
    snprintf(ks->dir, sizeof ks->dir, "/tmp/civic-audit-keys-XXXXXX");
    if (mkdtemp(ks->dir) == NULL)
        return false;
    snprintf(ks->path, sizeof ks->path, "%s/keys", ks->dir);
    if (keyring_create(ks->path, &err) != ERR_OK ||
        keyring_load(ks->path, &ks->k, &err) != ERR_OK) {
        fprintf(stderr, "keys: %s\n", err.msg);
        unlink(ks->path);
        rmdir(ks->dir);
        return false;
    }
    keyring_sign_pk(ks->k, ks->pk);
    return true;
}

static void keys_close(keys *ks)
{
    keyring_free(ks->k);
    ks->k = NULL;
    unlink(ks->path);
    rmdir(ks->dir);
}

/* ---- RFC 6962 ---- */

/* The Certificate Transparency reference leaves and the root of each tree
 * of the first n of them (transparency-dev/merkle testonly/constants.go,
 * the same as certificate-transparency-go's merkle tests). */
static const char *const CT_LEAVES[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *const CT_ROOTS[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void check_root(const audit_frontier *f, const char *want)
{
    unsigned char root[AUDIT_HASH_LEN];
    char hex[2 * AUDIT_HASH_LEN + 1];
    audit_frontier_root(f, root);
    to_hex(root, sizeof root, hex);
    CHECK_STR(hex, want);
}

static void test_rfc6962_vectors(void)
{
    audit_frontier f;
    audit_frontier_init(&f);
    check_root(&f, CT_ROOTS[0]);
    unsigned char leaves[8][AUDIT_HASH_LEN];
    for (int i = 0; i < 8; i++) {
        unsigned char data[16];
        size_t n;
        from_hex(CT_LEAVES[i], data, &n);
        audit_leaf_hash(data, n, leaves[i]);
        audit_frontier_add(&f, leaves[i]);
        CHECK_INT(f.size, i + 1);
        check_root(&f, CT_ROOTS[i + 1]);
    }
    /* The pieces on their own: a leaf, and the node of the first two. */
    char hex[2 * AUDIT_HASH_LEN + 1];
    to_hex(leaves[0], AUDIT_HASH_LEN, hex);
    CHECK_STR(hex, CT_ROOTS[1]);
    to_hex(leaves[1], AUDIT_HASH_LEN, hex);
    CHECK_STR(hex, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
    unsigned char node[AUDIT_HASH_LEN];
    audit_node_hash(leaves[0], leaves[1], node);
    to_hex(node, AUDIT_HASH_LEN, hex);
    CHECK_STR(hex, CT_ROOTS[2]);
}

/* The Merkle tree hash of RFC 6962 section 2.1, as written there. */
static void naive_mth(unsigned char (*leaves)[AUDIT_HASH_LEN], size_t n,
                      unsigned char out[AUDIT_HASH_LEN])
{
    if (n == 0) {
        crypto_hash_sha256(out, (const unsigned char *)"", 0);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], AUDIT_HASH_LEN);
        return;
    }
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    unsigned char l[AUDIT_HASH_LEN], r[AUDIT_HASH_LEN];
    naive_mth(leaves, k, l);
    naive_mth(leaves + k, n - k, r);
    audit_node_hash(l, r, out);
}

#define RANDOM_LEAVES 300

static void test_frontier_random(void)
{
    static unsigned char leaves[RANDOM_LEAVES][AUDIT_HASH_LEN];
    audit_frontier f, g;
    audit_frontier_init(&f);
    buf_t b = BUF_INIT;
    for (int n = 0; n <= RANDOM_LEAVES; n++) {
        if (n > 0) {
            unsigned char data[40];
            size_t len = randombytes_uniform(sizeof data + 1);
            randombytes_buf(data, len);
            audit_leaf_hash(data, len, leaves[n - 1]);
            audit_frontier_add(&f, leaves[n - 1]);
        }
        unsigned char want[AUDIT_HASH_LEN], got[AUDIT_HASH_LEN];
        naive_mth(leaves, (size_t)n, want);
        audit_frontier_root(&f, got);
        CHECK(memcmp(want, got, AUDIT_HASH_LEN) == 0);

        /* Encoding: the size, then one node per set bit; and back. */
        buf_reset(&b);
        audit_frontier_encode(&f, &b);
        REQUIRE(!buf_failed(&b));
        CHECK_INT(b.len, 8 + 32 * __builtin_popcount((unsigned)n));
        const unsigned char *p = (const unsigned char *)b.data;
        CHECK(audit_frontier_decode(p, b.len, &g, NULL) == ERR_OK);
        CHECK_INT(g.size, n);
        audit_frontier_root(&g, got);
        CHECK(memcmp(want, got, AUDIT_HASH_LEN) == 0);
        CHECK(memcmp(&f, &g, sizeof f) == 0);
        /* A wrong length for the size is refused. */
        CHECK(audit_frontier_decode(p, b.len - 1, &g, NULL) == ERR_INVALID);
        CHECK(audit_frontier_decode(p, 7, &g, NULL) == ERR_INVALID);
    }
    /* One node too many, and a size with the sign bit set. */
    unsigned char extra[8 + 2 * AUDIT_HASH_LEN] = {0};
    extra[7] = 1;
    CHECK(audit_frontier_decode(extra, 8 + AUDIT_HASH_LEN, &g, NULL) == ERR_OK);
    CHECK(audit_frontier_decode(extra, sizeof extra, &g, NULL) == ERR_INVALID);
    CHECK(audit_frontier_decode(extra, 8, &g, NULL) == ERR_INVALID);
    extra[0] = 0x80;
    CHECK(audit_frontier_decode(extra, 8 + AUDIT_HASH_LEN, &g, NULL) == ERR_INVALID);
    buf_free(&b);
}

/* ---- entries ---- */

static bool same_text(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static bool same_entry(const audit_entry *a, const audit_entry *b)
{
    return a->at == b->at && a->action == b->action && same_text(a->actor, b->actor) &&
           same_text(a->role, b->role) && same_text(a->purpose, b->purpose) &&
           a->subject_id == b->subject_id && a->request_id == b->request_id &&
           same_text(a->fields, b->fields) && same_text(a->reason, b->reason) &&
           a->count == b->count;
}

static void roundtrip(const audit_entry *e, int64_t seq)
{
    buf_t b = BUF_INIT, again = BUF_INIT;
    err_t err = {0};
    pool_t *pool = pool_new();
    audit_entry d;
    int64_t dseq = 0;
    CHECK(audit_entry_encode(e, seq, &b, &err) == ERR_OK);
    CHECK(audit_entry_decode(b.data, b.len, pool, &d, &dseq, &err) == ERR_OK);
    CHECK_INT(dseq, seq);
    CHECK(same_entry(e, &d));
    CHECK(audit_entry_encode(&d, dseq, &again, &err) == ERR_OK);
    CHECK(again.len == b.len && memcmp(again.data, b.data, b.len) == 0);
    buf_free(&b);
    buf_free(&again);
    pool_free(pool);
}

static void test_entry_roundtrip(void)
{
    audit_entry e = audit_entry_init(1700000000, AUDIT_READ, "staff:12");
    e.role = "agency_staff";
    e.purpose = "address_request";
    e.subject_id = 5;
    e.request_id = 7;
    e.fields = "email,phone";
    e.reason = "call back";
    e.count = 3;
    buf_t b = BUF_INIT;
    err_t err = {0};
    CHECK(audit_entry_encode(&e, 3, &b, &err) == ERR_OK);
    CHECK_STR(b.data, "{\"seq\":3,\"at\":1700000000,\"action\":\"read\",\"actor\":\"staff:12\","
                      "\"role\":\"agency_staff\",\"purpose\":\"address_request\",\"subject\":"
                      "\"s:5\",\"request\":7,\"fields\":\"email,phone\",\"reason\":\"call back\","
                      "\"count\":3}");
    buf_reset(&b);
    audit_entry bare = audit_entry_init(-5, AUDIT_ROTATE, "system");
    CHECK(audit_entry_encode(&bare, 1, &b, &err) == ERR_OK);
    CHECK_STR(b.data, "{\"seq\":1,\"at\":-5,\"action\":\"rotate\",\"actor\":\"system\"}");
    buf_free(&b);

    for (int a = 0; a < AUDIT_ACTION_COUNT; a++) {
        audit_action parsed;
        CHECK(audit_action_parse(audit_action_name((audit_action)a), &parsed));
        CHECK_INT(parsed, a);
        e.action = (audit_action)a;
        roundtrip(&e, a + 1);
        audit_entry m = audit_entry_init(1700000000 + a, (audit_action)a, "cli:privacy_officer");
        roundtrip(&m, INT64_MAX);
        m.count = 0;
        m.fields = "";
        m.reason = "court order \"2026-CV-0412\" \\ see file";
        roundtrip(&m, 1);
        m.subject_id = INT64_MAX;
        m.request_id = 1;
        roundtrip(&m, 2);
    }
    audit_action parsed;
    CHECK(!audit_action_parse("peek", &parsed));
    CHECK(!audit_action_parse("READ", &parsed));

    /* The longest text allowed, every printable character. */
    char longest[AUDIT_TEXT_MAX + 1];
    for (int i = 0; i < AUDIT_TEXT_MAX; i++)
        longest[i] = (char)(0x20 + i % 95);
    longest[AUDIT_TEXT_MAX] = '\0';
    audit_entry l = audit_entry_init(0, AUDIT_HOLD, longest);
    l.role = l.purpose = l.fields = l.reason = longest;
    roundtrip(&l, 9);
}

static void test_entry_encode_refuses(void)
{
    char too_long[AUDIT_TEXT_MAX + 2];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    struct {
        const char *name;
        audit_entry e;
        int64_t seq;
    } cases[] = {
        {"no actor", audit_entry_init(1, AUDIT_READ, NULL), 1},
        {"empty actor", audit_entry_init(1, AUDIT_READ, ""), 1},
        {"long actor", audit_entry_init(1, AUDIT_READ, too_long), 1},
        {"utf-8 actor", audit_entry_init(1, AUDIT_READ, "caf\xc3\xa9"), 1},
        {"newline actor", audit_entry_init(1, AUDIT_READ, "a\nb"), 1},
        {"del actor", audit_entry_init(1, AUDIT_READ, "a\x7f"), 1},
        {"bad action", audit_entry_init(1, (audit_action)AUDIT_ACTION_COUNT, "system"), 1},
        {"seq 0", audit_entry_init(1, AUDIT_READ, "system"), 0},
        {"seq -1", audit_entry_init(1, AUDIT_READ, "system"), -1},
    };
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        buf_t b = BUF_INIT;
        err_t err = {0};
        testlib_current = cases[i].name;
        CHECK(audit_entry_encode(&cases[i].e, cases[i].seq, &b, &err) == ERR_INVALID);
        CHECK(err.msg[0] != '\0');
        buf_free(&b);
    }
    testlib_current = "test_entry_encode_refuses";
    audit_entry e = audit_entry_init(1, AUDIT_READ, "system");
    audit_entry bad[7];
    for (int i = 0; i < 7; i++)
        bad[i] = e;
    bad[0].role = "tab\there";
    bad[1].purpose = too_long;
    bad[2].fields = "\xff";
    bad[3].reason = "r\xc3\xa9sum\xc3\xa9";
    bad[4].subject_id = -1;
    bad[5].request_id = -7;
    bad[6].count = -2;
    for (int i = 0; i < 7; i++) {
        buf_t b = BUF_INIT;
        CHECK(audit_entry_encode(&bad[i], 1, &b, NULL) == ERR_INVALID);
        buf_free(&b);
    }
}

static void test_entry_decode_refuses(void)
{
    static const char *const bodies[] = {
        /* the canonical one is accepted (checked below); the rest are not */
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"subject\":\"s:5\","
        "\"request\":7,\"count\":3}",
        /* spaces, anywhere */
        "{\"seq\": 3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":3, \"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        " {\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"} ",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}\n",
        /* keys out of order */
        "{\"at\":10,\"seq\":3,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"count\":3,"
        "\"request\":7}",
        /* a member with null, an empty actor, a member given at its default */
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"role\":null}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"request\":0}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"count\":-1}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"subject\":\"s:0\"}",
        /* non-ASCII text, escaped or not; other escapes of ASCII */
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"caf\\u00e9\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"caf\xc3\xa9\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff\\/1\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"\\u0073taff:1\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"a\\nb\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"a\\u0000b\"}",
        /* unknown action, unknown member, missing members */
        "{\"seq\":3,\"at\":10,\"action\":\"peek\",\"actor\":\"staff:1\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"extra\":1}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\"}",
        "{\"seq\":3,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        /* numbers spelt otherwise, out of range, or of the wrong type */
        "{\"seq\":3.0,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":\"3\",\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":03,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":0,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":-3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":3,\"at\":1e1,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":3,\"at\":-0,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":99999999999999999999,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"subject\":\"s:05\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"subject\":5}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"subject\":\"x:5\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"subject\":\"s:\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"subject\":\"s:+5\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\",\"role\":7}",
        /* not an object, duplicated members, cut short */
        "[\"seq\",3]",
        "{\"seq\":3,\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"}",
        "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"staff:1\"",
        "",
    };
    size_t n = sizeof bodies / sizeof bodies[0];
    pool_t *pool = pool_new();
    REQUIRE(pool != NULL);
    for (size_t i = 0; i < n; i++) {
        audit_entry e;
        int64_t seq;
        err_t err = {0};
        err_code rc = audit_entry_decode(bodies[i], strlen(bodies[i]), pool, &e, &seq, &err);
        if (i == 0) {
            CHECK(rc == ERR_OK);
            CHECK(e.subject_id == 5 && e.request_id == 7 && e.count == 3 && seq == 3);
        } else {
            if (rc != ERR_INVALID)
                fprintf(stderr, "accepted: %s\n", bodies[i]);
            CHECK(rc == ERR_INVALID);
        }
    }
    /* A NUL inside the body, and an over-long body. */
    const char with_nul[] = "{\"seq\":3,\"at\":10,\"action\":\"read\",\"actor\":\"a\0b\"}";
    audit_entry e;
    int64_t seq;
    CHECK(audit_entry_decode(with_nul, sizeof with_nul - 1, pool, &e, &seq, NULL) == ERR_INVALID);
    char big[8192];
    memset(big, ' ', sizeof big);
    CHECK(audit_entry_decode(big, sizeof big, pool, &e, &seq, NULL) == ERR_INVALID);

    /* Every byte flip of a canonical body is refused or is another entry
     * (whose body is exactly the flipped bytes). */
    const char *canon = bodies[0];
    size_t len = strlen(canon);
    char flipped[512];
    for (size_t i = 0; i < len; i++) {
        memcpy(flipped, canon, len);
        flipped[i] ^= 0x01;
        err_code rc = audit_entry_decode(flipped, len, pool, &e, &seq, NULL);
        if (rc == ERR_OK) {
            buf_t b = BUF_INIT;
            CHECK(audit_entry_encode(&e, seq, &b, NULL) == ERR_OK);
            CHECK(b.len == len && memcmp(b.data, flipped, len) == 0);
            buf_free(&b);
        } else {
            CHECK(rc == ERR_INVALID);
        }
    }
    pool_free(pool);
}

/* ---- checkpoints ---- */

static store_checkpoint sample_checkpoint(const keys *ks)
{
    store_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    cp.size = 40;
    cp.at = 1700000123;
    crypto_hash_sha256(cp.root, (const unsigned char *)"forty", 5);
    audit_checkpoint_sign(&cp, ks->k);
    return cp;
}

static void test_checkpoint_sign_verify(void)
{
    keys ks, other;
    REQUIRE(keys_open(&ks));
    if (!keys_open(&other)) {
        keys_close(&ks);
        REQUIRE(false);
    }
    store_checkpoint cp = sample_checkpoint(&ks);
    CHECK(memcmp(cp.public_key, ks.pk, STORE_PUBKEY_LEN) == 0);
    CHECK(audit_checkpoint_verify(&cp, ks.pk));

    buf_t msg = BUF_INIT;
    audit_checkpoint_message(&cp, &msg);
    char hex[2 * STORE_HASH_LEN + 1], want[256];
    to_hex(cp.root, STORE_HASH_LEN, hex);
    snprintf(want, sizeof want, "civic311-audit-checkpoint-v1\n40\n1700000123\n%s\n", hex);
    CHECK_STR(msg.data, want);
    /* The signature is plain Ed25519 over that message: anyone can check
     * it with libsodium alone. */
    CHECK(crypto_sign_verify_detached(cp.signature, (const unsigned char *)msg.data, msg.len,
                                      ks.pk) == 0);
    buf_free(&msg);

    /* Every bit of size, time, root, key and signature matters. */
    int accepted = 0;
    for (int bit = 0; bit < 63; bit++) {
        store_checkpoint t = cp;
        t.size ^= (int64_t)1 << bit;
        accepted += audit_checkpoint_verify(&t, ks.pk);
        t = cp;
        t.at ^= (int64_t)1 << bit;
        accepted += audit_checkpoint_verify(&t, ks.pk);
    }
    for (int bit = 0; bit < 8 * STORE_HASH_LEN; bit++) {
        store_checkpoint t = cp;
        t.root[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        accepted += audit_checkpoint_verify(&t, ks.pk);
        t = cp;
        t.public_key[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        accepted += audit_checkpoint_verify(&t, ks.pk);
    }
    for (int bit = 0; bit < 8 * STORE_SIG_LEN; bit++) {
        store_checkpoint t = cp;
        t.signature[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        accepted += audit_checkpoint_verify(&t, ks.pk);
    }
    CHECK_INT(accepted, 0);

    /* Another key: neither trusting it for this checkpoint, nor claiming
     * it in the checkpoint, verifies. */
    CHECK(!audit_checkpoint_verify(&cp, other.pk));
    store_checkpoint t = cp;
    memcpy(t.public_key, other.pk, STORE_PUBKEY_LEN);
    CHECK(!audit_checkpoint_verify(&t, other.pk));
    store_checkpoint theirs = sample_checkpoint(&other);
    CHECK(audit_checkpoint_verify(&theirs, other.pk));
    CHECK(!audit_checkpoint_verify(&theirs, ks.pk));

    keys_close(&other);
    keys_close(&ks);
}

static void test_checkpoint_json(void)
{
    keys ks;
    REQUIRE(keys_open(&ks));
    store_checkpoint cp = sample_checkpoint(&ks), back;
    buf_t b = BUF_INIT;
    audit_checkpoint_to_json(&cp, &b);
    REQUIRE(!buf_failed(&b));
    const char *head = "{\"checkpoint\":{\"size\":40,\"at\":1700000123,\"root\":\"";
    CHECK(strncmp(b.data, head, strlen(head)) == 0);
    CHECK(strchr(b.data, '\n') == NULL);
    err_t err = {0};
    CHECK(audit_checkpoint_from_json(b.data, b.len, &back, &err) == ERR_OK);
    CHECK(memcmp(&back, &cp, sizeof cp) == 0);

    char root[65], pk[65], sig[129];
    to_hex(cp.root, 32, root);
    to_hex(cp.public_key, 32, pk);
    to_hex(cp.signature, 64, sig);
    char variants[12][512];
    const char *fmt[] = {
        "{\"checkpoint\":{\"size\":40,\"at\":1700000123,\"root\":\"%s\",\"public_key\":\"%s\","
        "\"signature\":\"%s\"}} ",
        "{\"checkpoint\": {\"size\":40,\"at\":1700000123,\"root\":\"%s\",\"public_key\":\"%s\","
        "\"signature\":\"%s\"}}",
        "{\"checkpoint\":{\"at\":1700000123,\"size\":40,\"root\":\"%s\",\"public_key\":\"%s\","
        "\"signature\":\"%s\"}}",
        "{\"checkpoint\":{\"size\":40,\"at\":1700000123,\"root\":\"%s\",\"public_key\":\"%s\","
        "\"signature\":\"%s\",\"x\":1}}",
        "{\"checkpoint\":{\"size\":0,\"at\":1700000123,\"root\":\"%s\",\"public_key\":\"%s\","
        "\"signature\":\"%s\"}}",
        "{\"checkpoint\":{\"size\":40.0,\"at\":1700000123,\"root\":\"%s\",\"public_key\":\"%s\","
        "\"signature\":\"%s\"}}",
        "{\"checkpoint\":{\"size\":40,\"at\":1700000123,\"root\":\"%s00\",\"public_key\":\"%s\","
        "\"signature\":\"%s\"}}",
        "{\"checkpoint\":{\"size\":40,\"at\":1700000123,\"root\":\"%.62s\",\"public_key\":\"%s\","
        "\"signature\":\"%s\"}}",
        "{\"checkpoint\":{\"size\":40,\"at\":1700000123,\"root\":\"%s\",\"public_key\":\"%s\","
        "\"signature\":\"%s\"},\"x\":1}",
        "{\"checkpoint\":{\"size\":40,\"at\":1700000123,\"root\":\"%s\",\"public_key\":\"%s\"}}"
        "%.0s",
    };
    size_t nv = sizeof fmt / sizeof fmt[0];
    for (size_t i = 0; i < nv; i++) {
        snprintf(variants[i], sizeof variants[i], fmt[i], root, pk, sig);
        CHECK(audit_checkpoint_from_json(variants[i], strlen(variants[i]), &back, NULL) ==
              ERR_INVALID);
    }
    /* Upper-case hex is the same bytes spelt another way: refused. */
    char upper[512];
    memcpy(upper, b.data, b.len + 1);
    char *r = strstr(upper, "\"root\":\"") + 8;
    for (int i = 0; i < 64; i++)
        if (r[i] >= 'a' && r[i] <= 'f')
            r[i] = (char)(r[i] - 'a' + 'A');
    CHECK(strcmp(upper, b.data) != 0);
    CHECK(audit_checkpoint_from_json(upper, strlen(upper), &back, NULL) == ERR_INVALID);
    /* Every byte flip is refused or is another checkpoint. */
    for (size_t i = 0; i < b.len; i++) {
        memcpy(upper, b.data, b.len);
        upper[i] ^= 0x01;
        if (audit_checkpoint_from_json(upper, b.len, &back, NULL) == ERR_OK)
            CHECK(memcmp(&back, &cp, sizeof cp) != 0);
    }
    buf_free(&b);
    keys_close(&ks);
}

/* ---- against a real store ---- */

typedef struct {
    keys ks;
    char dir[64];
    char path[128];
    char pristine[160];
    store_t *s;
} fixture;

static void fx_unlink_db(const char *path)
{
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[200];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

static bool fx_store_open(fixture *fx)
{
    err_t err = {0};
    store_options opt = {.url = fx->path, .sync = false};
    if (store_open(&opt, &fx->s, &err) != ERR_OK) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return false;
    }
    return true;
}

static bool fx_open(fixture *fx)
{
    err_t err = {0};
    memset(fx, 0, sizeof *fx);
    if (!keys_open(&fx->ks))
        return false;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/civic-audit-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        keys_close(&fx->ks);
        return false;
    }
    snprintf(fx->path, sizeof fx->path, "%s/civic311.db", fx->dir);
    snprintf(fx->pristine, sizeof fx->pristine, "%s/pristine.db", fx->dir);
    if (!fx_store_open(fx) || store_migrate(fx->s, &err) != ERR_OK) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        store_close(fx->s);
        fx_unlink_db(fx->path);
        rmdir(fx->dir);
        keys_close(&fx->ks);
        return false;
    }
    return true;
}

static void fx_close(fixture *fx)
{
    store_close(fx->s);
    fx->s = NULL;
    fx_unlink_db(fx->path);
    unlink(fx->pristine);
    rmdir(fx->dir);
    keys_close(&fx->ks);
}

static bool copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    bool ok = in != NULL && out != NULL;
    char chunk[65536];
    size_t n;
    while (ok && (n = fread(chunk, 1, sizeof chunk, in)) > 0)
        ok = fwrite(chunk, 1, n, out) == n;
    if (in != NULL) {
        ok = ok && !ferror(in);
        fclose(in);
    }
    if (out != NULL && fclose(out) != 0)
        ok = false;
    return ok;
}

/* Closing the store folds the write-ahead log into the file, so the file
 * alone is the whole database. */
static bool fx_save(fixture *fx)
{
    store_close(fx->s);
    fx->s = NULL;
    bool ok = copy_file(fx->path, fx->pristine);
    return fx_store_open(fx) && ok;
}

static bool fx_restore(fixture *fx)
{
    store_close(fx->s);
    fx->s = NULL;
    fx_unlink_db(fx->path);
    return copy_file(fx->pristine, fx->path) && fx_store_open(fx);
}

/* Runs SQL on the file behind the store's back; binds blobs[i] to ?i+1. */
static bool raw_exec(fixture *fx, const char *sql, const void *blob, int blob_len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK;
    const char *tail = sql;
    while (ok && tail != NULL && *tail != '\0') {
        ok = sqlite3_prepare_v2(db, tail, -1, &st, &tail) == SQLITE_OK;
        if (!ok || st == NULL)
            break;
        if (blob != NULL && sqlite3_bind_parameter_count(st) >= 1)
            ok = sqlite3_bind_blob(st, 1, blob, blob_len, SQLITE_TRANSIENT) == SQLITE_OK;
        int rc = SQLITE_DONE;
        while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        ok = ok && rc == SQLITE_DONE;
        sqlite3_finalize(st);
        st = NULL;
    }
    if (!ok)
        fprintf(stderr, "raw_exec: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
    return ok;
}

/* Sets one body to exactly these bytes (as text, as the store keeps it). */
static bool raw_set_body(fixture *fx, int64_t seq, const char *body, size_t len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(db, "UPDATE audit_entry SET body = ?1 WHERE seq = ?2", -1, &st,
                                 NULL) == SQLITE_OK &&
              sqlite3_bind_text(st, 1, body, (int)len, SQLITE_TRANSIENT) == SQLITE_OK &&
              sqlite3_bind_int64(st, 2, seq) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE &&
              sqlite3_changes(db) == 1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

#define N_ENTRIES 60
#define T0 1700000000

/* The bodies as written, by seq (index 0 unused). */
static char *bodies[N_ENTRIES + 1];

static audit_entry nth_entry(int i)
{
    static const char *const actors[] = {"api:3", "staff:12", "cli:privacy_officer", "system"};
    audit_entry e =
        audit_entry_init(T0 + i * 7, (audit_action)(i % AUDIT_ACTION_COUNT), actors[i % 4]);
    if (i % 2 == 0) {
        e.role = "agency_staff";
        e.purpose = "address_request";
    }
    if (i % 3 != 0)
        e.request_id = 100 + i;
    if (i % 5 != 1)
        e.subject_id = 200 + i / 2;
    if (i % 4 == 1)
        e.fields = "email,phone";
    if (i % 6 == 2)
        e.reason = "court order \"2026-CV-0412\"";
    if (i % 7 == 3)
        e.count = i;
    return e;
}

/* 60 entries in 8 transactions, with checkpoints after some of them:
 * at 17, 32, 45 and 54, leaving 55..60 unsigned. */
static bool populate(fixture *fx)
{
    static const int batches[] = {7, 10, 3, 12, 8, 5, 9, 6};
    static const bool sign_after[] = {false, true, false, true, false, true, true, false};
    err_t err = {0};
    int i = 0;
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        if (store_begin(fx->s, &err) != ERR_OK)
            goto fail;
        for (int j = 0; j < batches[b]; j++) {
            i++;
            audit_entry e = nth_entry(i);
            int64_t seq = 0;
            if (audit_append(fx->s, &e, &seq, &err) != ERR_OK || seq != i) {
                store_rollback(fx->s);
                goto fail;
            }
            buf_t body = BUF_INIT;
            if (audit_entry_encode(&e, i, &body, &err) != ERR_OK) {
                store_rollback(fx->s);
                goto fail;
            }
            free(bodies[i]);
            bodies[i] = buf_detach(&body);
        }
        bool made = false;
        if (sign_after[b] &&
            (audit_checkpoint(fx->s, fx->ks.k, T0 + 1000 + (int64_t)b, &made, &err) != ERR_OK ||
             !made)) {
            store_rollback(fx->s);
            goto fail;
        }
        if (store_commit(fx->s, &err) != ERR_OK)
            goto fail;
    }
    return i == N_ENTRIES;
fail:
    fprintf(stderr, "populate: %s\n", err.msg);
    return false;
}

static audit_report verify(fixture *fx, const store_checkpoint *pinned)
{
    audit_report rep;
    err_t err = {0};
    err_code rc = audit_verify_store(fx->s, fx->ks.pk, pinned, &rep, &err);
    if (rc != ERR_OK)
        fprintf(stderr, "verify: %s\n", err.msg);
    CHECK(rc == ERR_OK);
    return rep;
}

static void expect_fail(fixture *fx, const store_checkpoint *pinned, const char *what,
                        const char *problem_has)
{
    audit_report rep = verify(fx, pinned);
    if (rep.ok || (problem_has != NULL && strstr(rep.problem, problem_has) == NULL)) {
        testlib_failures++;
        fprintf(stderr, "%s: %s: ok=%d problem \"%s\", want one with \"%s\"\n", testlib_current,
                what, rep.ok, rep.problem, problem_has ? problem_has : "");
    }
    CHECK(rep.problem[0] != '\0');
}

static void test_store_empty_and_append(void)
{
    fixture fx;
    REQUIRE(fx_open(&fx));
    err_t err = {0};
    bool made = true;
    audit_report rep = verify(&fx, NULL);
    CHECK(rep.ok);
    CHECK_INT(rep.entries, 0);
    CHECK(audit_checkpoint(fx.s, fx.ks.k, T0, &made, &err) == ERR_OK);
    CHECK(!made);

    /* An entry the encoder refuses writes nothing. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    audit_entry bad = audit_entry_init(T0, AUDIT_READ, "caf\xc3\xa9");
    CHECK(audit_append(fx.s, &bad, NULL, &err) == ERR_INVALID);
    store_rollback(fx.s);

    /* A rolled-back append leaves no trace. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    audit_entry e = audit_entry_init(T0, AUDIT_READ, "staff:1");
    int64_t seq = 0;
    CHECK(audit_append(fx.s, &e, &seq, &err) == ERR_OK);
    CHECK_INT(seq, 1);
    store_rollback(fx.s);
    rep = verify(&fx, NULL);
    CHECK(rep.ok);
    CHECK_INT(rep.entries, 0);

    /* Entries without a checkpoint fail; with one they pass. */
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK(audit_append(fx.s, &e, &seq, &err) == ERR_OK);
    CHECK_INT(seq, 1);
    CHECK(audit_append(fx.s, &e, &seq, &err) == ERR_OK);
    CHECK_INT(seq, 2);
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);
    expect_fail(&fx, NULL, "no checkpoint", "no checkpoint");
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK(audit_checkpoint(fx.s, fx.ks.k, T0 + 5, &made, &err) == ERR_OK);
    CHECK(made);
    CHECK(audit_checkpoint(fx.s, fx.ks.k, T0 + 6, &made, &err) == ERR_OK);
    CHECK(!made); /* nothing new to sign */
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);
    rep = verify(&fx, NULL);
    CHECK(rep.ok);
    CHECK_INT(rep.entries, 2);
    CHECK_INT(rep.checkpoints, 1);
    CHECK_INT(rep.signed_size, 2);
    fx_close(&fx);
}

/* The head's frontier over the first n stored bodies, encoded as the
 * store keeps it: what a careful attacker would write after cutting the
 * log back to n. */
static bool frontier_bytes(int n, buf_t *out)
{
    audit_frontier f;
    audit_frontier_init(&f);
    for (int i = 1; i <= n; i++) {
        unsigned char leaf[AUDIT_HASH_LEN];
        audit_leaf_hash(bodies[i], strlen(bodies[i]), leaf);
        audit_frontier_add(&f, leaf);
    }
    audit_frontier_encode(&f, out);
    return !buf_failed(out);
}

/* The careful cut: the log back to its first n entries, the checkpoints
 * above n gone and the head rewritten to match, so that nothing in the
 * store disagrees any more. */
static bool cut_back(fixture *fx, int n)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "DELETE FROM audit_entry WHERE seq > %d;"
             "DELETE FROM audit_checkpoint WHERE size > %d;"
             "UPDATE audit_head SET size = %d, frontier = ?1;",
             n, n, n);
    buf_t fb = BUF_INIT;
    bool ok = frontier_bytes(n, &fb) && raw_exec(fx, sql, fb.data, (int)fb.len);
    buf_free(&fb);
    return ok;
}

static void test_store_tamper(void)
{
    fixture fx;
    err_t err = {0};
    REQUIRE(fx_open(&fx));
    if (!populate(&fx)) {
        fx_close(&fx);
        REQUIRE(false);
    }
    audit_report rep = verify(&fx, NULL);
    CHECK(rep.ok);
    CHECK_STR(rep.problem, "");
    CHECK_INT(rep.entries, N_ENTRIES);
    CHECK_INT(rep.checkpoints, 4);
    CHECK_INT(rep.signed_size, 54);
    CHECK_INT(rep.bad_seq, 0);

    /* A checkpoint kept elsewhere earlier: the latest, at 54. */
    store_checkpoint pinned;
    CHECK(store_checkpoint_latest(fx.s, &pinned, &err) == ERR_OK);
    CHECK_INT(pinned.size, 54);
    rep = verify(&fx, &pinned);
    CHECK(rep.ok);
    store_checkpoint pinned17, cp32;
    pool_t *pool = pool_new();
    store_checkpoint *cps = NULL;
    size_t ncps = 0;
    CHECK(store_checkpoint_list(fx.s, pool, &cps, &ncps, &err) == ERR_OK);
    if (ncps != 4 || cps[0].size != 17 || cps[1].size != 32) {
        pool_free(pool);
        fx_close(&fx);
        REQUIRE(false);
    }
    pinned17 = cps[0];
    cp32 = cps[1];
    pool_free(pool);
    rep = verify(&fx, &pinned17);
    CHECK(rep.ok);
    /* A pinned checkpoint that does not verify with the key. */
    store_checkpoint forged = pinned;
    forged.root[0] ^= 1;
    expect_fail(&fx, &forged, "forged pin", "pinned checkpoint does not verify");
    /* A pin signed with our key over another history (a forked log). */
    store_checkpoint fork = pinned17;
    fork.size = 30;
    crypto_hash_sha256(fork.root, (const unsigned char *)"fork", 4);
    audit_checkpoint_sign(&fork, fx.ks.k);
    CHECK(audit_checkpoint_verify(&fork, fx.ks.pk));
    expect_fail(&fx, &fork, "forked pin", "the pinned checkpoint at size 30 does not match");
    /* Another key for the same log: every checkpoint is someone else's. */
    keys other;
    if (keys_open(&other)) {
        audit_report r2;
        CHECK(audit_verify_store(fx.s, other.pk, NULL, &r2, &err) == ERR_OK);
        CHECK(!r2.ok);
        CHECK(strstr(r2.problem, "another key") != NULL);
        keys_close(&other);
    }

    REQUIRE(fx_save(&fx));

    /* One byte of one body, for every entry, at a few places; and every
     * byte of one entry inside the signed part and one after it. */
    char body[AUDIT_TEXT_MAX * 16];
    for (int seq = 1; seq <= N_ENTRIES; seq++) {
        size_t len = strlen(bodies[seq]);
        size_t places[] = {(size_t)seq % len, len / 2, len - 1, 7};
        bool all = seq == 20 || seq == 58;
        size_t nplaces = all ? len : sizeof places / sizeof places[0];
        for (size_t k = 0; k < nplaces; k++) {
            size_t at = all ? k : places[k];
            memcpy(body, bodies[seq], len);
            body[at] ^= 0x01;
            REQUIRE(raw_set_body(&fx, seq, body, len));
            rep = verify(&fx, NULL);
            if (rep.ok)
                fprintf(stderr, "entry %d byte %zu: not caught\n", seq, at);
            CHECK(!rep.ok);
            CHECK(rep.bad_seq == 0 || rep.bad_seq == seq);
            REQUIRE(raw_set_body(&fx, seq, bodies[seq], len));
        }
    }
    rep = verify(&fx, NULL);
    CHECK(rep.ok);
    /* The same edit, reported plainly. */
    {
        size_t len = strlen(bodies[17]);
        memcpy(body, bodies[17], len);
        body[0] = '[';
        REQUIRE(raw_set_body(&fx, 17, body, len));
        rep = verify(&fx, NULL);
        CHECK(!rep.ok);
        CHECK_STR(rep.problem, "entry 17 was altered: it is not a canonical entry");
        CHECK_INT(rep.bad_seq, 17);
        REQUIRE(fx_restore(&fx));
    }
    /* A canonical edit inside the signed part: another entry whose leaf
     * the checkpoint at 32 does not cover. */
    {
        char *p = strstr(bodies[20], "\"action\":\"");
        REQUIRE(p != NULL);
        /* Whatever action entry 20 has (it follows AUDIT_ACTION_COUNT),
         * it becomes "hold" (or "read" if it was "hold"). */
        const char *name = p + 10, *end = strchr(name, '"');
        REQUIRE(end != NULL);
        const char *to = strncmp(name, "hold\"", 5) == 0 ? "read" : "hold";
        size_t len = strlen(bodies[20]), off = (size_t)(name - bodies[20]);
        size_t old_len = (size_t)(end - name);
        memcpy(body, bodies[20], off);
        memcpy(body + off, to, 4);
        memcpy(body + off + 4, end, len - off - old_len + 1);
        REQUIRE(raw_set_body(&fx, 20, body, strlen(body)));
        rep = verify(&fx, NULL);
        CHECK(!rep.ok);
        CHECK_STR(rep.problem, "checkpoint at size 32 does not match the entries");
        REQUIRE(fx_restore(&fx));
    }

    /* The indexing columns alone. */
    REQUIRE(raw_exec(&fx, "UPDATE audit_entry SET at = at + 1 WHERE seq = 30", NULL, 0));
    expect_fail(&fx, NULL, "at column", "entry 30 was altered");
    CHECK_INT(verify(&fx, NULL).bad_seq, 30);
    REQUIRE(fx_restore(&fx));
    REQUIRE(raw_exec(&fx, "UPDATE audit_entry SET request_id = 999 WHERE seq = 31", NULL, 0));
    expect_fail(&fx, NULL, "request column", "entry 31 was altered");
    REQUIRE(fx_restore(&fx));
    REQUIRE(raw_exec(&fx, "UPDATE audit_entry SET subject_id = NULL WHERE seq = 58", NULL, 0));
    expect_fail(&fx, NULL, "subject column", "entry 58 was altered");
    REQUIRE(fx_restore(&fx));

    /* A middle entry deleted. */
    REQUIRE(raw_exec(&fx, "DELETE FROM audit_entry WHERE seq = 9", NULL, 0));
    expect_fail(&fx, NULL, "deleted middle", "entry 9 is missing");
    CHECK_INT(verify(&fx, NULL).bad_seq, 9);
    REQUIRE(fx_restore(&fx));
    REQUIRE(raw_exec(&fx, "DELETE FROM audit_entry WHERE seq = 1", NULL, 0));
    expect_fail(&fx, NULL, "deleted first", "entry 1 is missing");
    REQUIRE(fx_restore(&fx));

    /* The last entries deleted, below the latest checkpoint. */
    REQUIRE(raw_exec(&fx, "DELETE FROM audit_entry WHERE seq > 50", NULL, 0));
    expect_fail(&fx, NULL, "truncated",
                "the log ends at 50 but a checkpoint covers 54: entries were removed");
    REQUIRE(fx_restore(&fx));
    /* The unsigned tail deleted: the head still knows. */
    REQUIRE(raw_exec(&fx, "DELETE FROM audit_entry WHERE seq > 56", NULL, 0));
    expect_fail(&fx, NULL, "tail cut", "stored head");
    REQUIRE(fx_restore(&fx));

    /* Cut back to 40 carefully: only a pinned checkpoint tells. */
    {
        REQUIRE(cut_back(&fx, 40));
        rep = verify(&fx, NULL);
        CHECK(rep.ok);
        CHECK_INT(rep.entries, 40);
        CHECK_INT(rep.signed_size, 32);
        expect_fail(&fx, &pinned, "cut with its checkpoints, pinned",
                    "the log ends at 40 but the pinned checkpoint covers 54");
        rep = verify(&fx, &pinned17);
        CHECK(rep.ok); /* an older pin is still consistent */
        REQUIRE(fx_restore(&fx));
    }
    /* The same without rewriting the head. */
    REQUIRE(raw_exec(&fx,
                     "DELETE FROM audit_entry WHERE seq > 40;"
                     "DELETE FROM audit_checkpoint WHERE size > 40;",
                     NULL, 0));
    expect_fail(&fx, NULL, "cut, head kept", "stored head");
    REQUIRE(fx_restore(&fx));

    /* Two entries swapped, columns and all (a reorder). */
    REQUIRE(raw_exec(&fx,
                     "UPDATE audit_entry SET seq = -1 WHERE seq = 10;"
                     "UPDATE audit_entry SET seq = 10 WHERE seq = 11;"
                     "UPDATE audit_entry SET seq = 11 WHERE seq = -1;",
                     NULL, 0));
    expect_fail(&fx, NULL, "swapped rows", "entry 10 was altered or moved");
    REQUIRE(fx_restore(&fx));
    /* Only the bodies swapped. */
    REQUIRE(raw_set_body(&fx, 25, bodies[26], strlen(bodies[26])));
    REQUIRE(raw_set_body(&fx, 26, bodies[25], strlen(bodies[25])));
    expect_fail(&fx, NULL, "swapped bodies", "entry 25 was altered");
    REQUIRE(fx_restore(&fx));

    /* A checkpoint's root, its signature, its key, its size, its time. */
    for (int i = 0; i < STORE_HASH_LEN; i += 11) {
        unsigned char root[STORE_HASH_LEN];
        memcpy(root, cp32.root, sizeof root);
        root[i] ^= 0x01;
        REQUIRE(raw_exec(&fx, "UPDATE audit_checkpoint SET root = ?1 WHERE size = 32", root,
                         STORE_HASH_LEN));
        expect_fail(&fx, NULL, "root", "checkpoint at size 32 has a bad signature");
        REQUIRE(fx_restore(&fx));
    }
    {
        unsigned char junk[STORE_SIG_LEN];
        memset(junk, 0x5a, sizeof junk);
        REQUIRE(raw_exec(&fx, "UPDATE audit_checkpoint SET signature = ?1 WHERE size = 45", junk,
                         STORE_SIG_LEN));
        expect_fail(&fx, NULL, "signature", "checkpoint at size 45 has a bad signature");
        REQUIRE(fx_restore(&fx));
        REQUIRE(raw_exec(&fx, "UPDATE audit_checkpoint SET public_key = ?1 WHERE size = 45", junk,
                         STORE_PUBKEY_LEN));
        expect_fail(&fx, NULL, "public key", "checkpoint at size 45 is signed by another key");
        REQUIRE(fx_restore(&fx));
    }
    REQUIRE(raw_exec(&fx, "UPDATE audit_checkpoint SET at = at + 1 WHERE size = 17", NULL, 0));
    expect_fail(&fx, NULL, "checkpoint time", "checkpoint at size 17 has a bad signature");
    REQUIRE(fx_restore(&fx));
    REQUIRE(raw_exec(&fx, "UPDATE audit_checkpoint SET size = 18 WHERE size = 17", NULL, 0));
    expect_fail(&fx, NULL, "checkpoint size", "checkpoint at size 18 has a bad signature");
    REQUIRE(fx_restore(&fx));
    REQUIRE(raw_exec(&fx, "UPDATE audit_checkpoint SET size = 70 WHERE size = 54", NULL, 0));
    expect_fail(&fx, NULL, "checkpoint beyond", "a checkpoint covers 70");
    REQUIRE(fx_restore(&fx));

    /* The head: its size, a byte of its frontier, its length. */
    REQUIRE(raw_exec(&fx, "UPDATE audit_head SET size = 59", NULL, 0));
    expect_fail(&fx, NULL, "head size", "stored head");
    REQUIRE(fx_restore(&fx));
    {
        buf_t fb = BUF_INIT;
        REQUIRE(frontier_bytes(N_ENTRIES, &fb));
        fb.data[fb.len - 1] ^= 0x01;
        REQUIRE(raw_exec(&fx, "UPDATE audit_head SET frontier = ?1", fb.data, (int)fb.len));
        expect_fail(&fx, NULL, "head frontier", "stored head does not match");
        REQUIRE(fx_restore(&fx));
        REQUIRE(raw_exec(&fx, "UPDATE audit_head SET frontier = ?1", fb.data, (int)fb.len - 1));
        expect_fail(&fx, NULL, "head frontier length", "stored head");
        REQUIRE(fx_restore(&fx));
        buf_free(&fb);
    }
    /* A damaged head also stops appending and signing: nothing is built
     * on it. */
    REQUIRE(raw_exec(&fx, "UPDATE audit_head SET frontier = x'00'", NULL, 0));
    {
        bool made = false;
        audit_entry e = audit_entry_init(T0, AUDIT_READ, "staff:1");
        REQUIRE(store_begin(fx.s, &err) == ERR_OK);
        CHECK(audit_append(fx.s, &e, NULL, &err) == ERR_INTERNAL);
        CHECK(audit_checkpoint(fx.s, fx.ks.k, T0, &made, &err) == ERR_INTERNAL);
        CHECK(!made);
        store_rollback(fx.s);
    }
    REQUIRE(fx_restore(&fx));

    rep = verify(&fx, &pinned);
    CHECK(rep.ok);
    fx_close(&fx);
}

/* ---- the export ---- */

static audit_report verify_bytes(const unsigned char *pk, const char *data, size_t len,
                                 const store_checkpoint *pinned)
{
    audit_report rep;
    memset(&rep, 0, sizeof rep);
    err_t err = {0};
    /* glibc's fmemopen refuses size 0 in some versions: /dev/null is the
     * empty file. */
    FILE *f = len > 0 ? fmemopen((void *)data, len, "r") : fopen("/dev/null", "r");
    if (f == NULL) {
        CHECK(f != NULL);
        return rep;
    }
    err_code rc = audit_verify_export(f, pk, pinned, &rep, &err);
    CHECK(rc == ERR_OK);
    fclose(f);
    return rep;
}

static bool export_to_memory(fixture *fx, char **data, size_t *len)
{
    err_t err = {0};
    FILE *f = open_memstream(data, len);
    if (f == NULL)
        return false;
    err_code rc = audit_export(fx->s, f, &err);
    if (rc != ERR_OK)
        fprintf(stderr, "export: %s\n", err.msg);
    return fclose(f) == 0 && rc == ERR_OK;
}

/* Start offsets of each line, and one past the end. */
static size_t split_lines(const char *data, size_t len, size_t *starts, size_t max)
{
    size_t n = 0;
    starts[n++] = 0;
    for (size_t i = 0; i < len && n < max; i++)
        if (data[i] == '\n')
            starts[n++] = i + 1;
    return n - 1; /* lines; starts[n] == len */
}

static void expect_export_fails(const unsigned char *pk, const char *data, size_t len,
                                const char *what, size_t where, int *caught, int *tried)
{
    audit_report rep = verify_bytes(pk, data, len, NULL);
    (*tried)++;
    if (!rep.ok && rep.problem[0] != '\0')
        (*caught)++;
    else
        fprintf(stderr, "%s at %zu: not caught\n", what, where);
}

static void test_export(void)
{
    fixture fx;
    err_t err = {0};
    REQUIRE(fx_open(&fx));

    /* The empty log exports as its header alone. */
    char *data = NULL;
    size_t len = 0;
    REQUIRE(export_to_memory(&fx, &data, &len));
    CHECK_STR(data, "{\"civic311_audit\":1,\"size\":0,\"checkpoints\":0}\n");
    audit_report rep = verify_bytes(fx.ks.pk, data, len, NULL);
    CHECK(rep.ok);
    free(data);

    if (!populate(&fx)) {
        fx_close(&fx);
        REQUIRE(false);
    }
    store_checkpoint pinned54;
    CHECK(store_checkpoint_latest(fx.s, &pinned54, &err) == ERR_OK);

    /* With the tail unsigned the export verifies and counts it... */
    REQUIRE(export_to_memory(&fx, &data, &len));
    rep = verify_bytes(fx.ks.pk, data, len, &pinned54);
    CHECK(rep.ok);
    CHECK_INT(rep.entries, N_ENTRIES);
    CHECK_INT(rep.signed_size, 54);
    free(data);

    /* ...and once signed, every byte is covered. */
    bool made = false;
    REQUIRE(store_begin(fx.s, &err) == ERR_OK);
    CHECK(audit_checkpoint(fx.s, fx.ks.k, T0 + 2000, &made, &err) == ERR_OK);
    REQUIRE(store_commit(fx.s, &err) == ERR_OK);
    CHECK(made);
    REQUIRE(export_to_memory(&fx, &data, &len));
    rep = verify_bytes(fx.ks.pk, data, len, NULL);
    CHECK(rep.ok);
    CHECK_STR(rep.problem, "");
    CHECK_INT(rep.entries, N_ENTRIES);
    CHECK_INT(rep.checkpoints, 5);
    CHECK_INT(rep.signed_size, N_ENTRIES);
    rep = verify_bytes(fx.ks.pk, data, len, &pinned54);
    CHECK(rep.ok);
    store_checkpoint fork = pinned54;
    fork.root[3] ^= 0x10;
    audit_checkpoint_sign(&fork, fx.ks.k);
    rep = verify_bytes(fx.ks.pk, data, len, &fork);
    CHECK(!rep.ok);
    CHECK_STR(rep.problem, "the pinned checkpoint at size 54 does not match the entries");

    /* The layout: the header, then entries in order with each checkpoint
     * right after the entry that completes it. */
    enum { MAX_LINES = 80 };
    size_t starts[MAX_LINES + 1];
    size_t nlines = split_lines(data, len, starts, MAX_LINES + 1);
    CHECK_INT(nlines, 1 + N_ENTRIES + 5);
    CHECK(strncmp(data, "{\"civic311_audit\":1,\"size\":60,\"checkpoints\":5}\n", 47) == 0);
    {
        int seq = 0;
        const int cp_after[] = {17, 32, 45, 54, 60};
        size_t cpi = 0;
        for (size_t l = 1; l < nlines; l++) {
            const char *line = data + starts[l];
            size_t llen = starts[l + 1] - starts[l] - 1;
            if (strncmp(line, "{\"checkpoint\":", 14) == 0) {
                CHECK(cpi < 5 && seq == cp_after[cpi]);
                cpi++;
            } else {
                seq++;
                CHECK(llen == strlen(bodies[seq]) && memcmp(line, bodies[seq], llen) == 0);
            }
        }
        CHECK_INT(seq, N_ENTRIES);
        CHECK_INT(cpi, 5);
    }

    /* Every byte flipped in turn. */
    char *v = malloc(len + 1);
    REQUIRE(v != NULL);
    int caught = 0, tried = 0;
    for (size_t i = 0; i < len; i++) {
        memcpy(v, data, len);
        v[i] ^= 0x01;
        expect_export_fails(fx.ks.pk, v, len, "flip", i, &caught, &tried);
    }
    /* A sample of bytes turned into newlines (one line becomes two). */
    for (size_t i = 0; i < len; i += 5) {
        if (data[i] == '\n')
            continue;
        memcpy(v, data, len);
        v[i] = '\n';
        expect_export_fails(fx.ks.pk, v, len, "newline", i, &caught, &tried);
    }
    /* Cut at every line boundary, and one byte short of each. */
    for (size_t l = 0; l < nlines; l++) {
        expect_export_fails(fx.ks.pk, data, starts[l], "cut", starts[l], &caught, &tried);
        expect_export_fails(fx.ks.pk, data, starts[l + 1] - 1, "cut short", starts[l + 1] - 1,
                            &caught, &tried);
    }
    /* Every line deleted in turn, and every line doubled. */
    for (size_t l = 0; l < nlines; l++) {
        size_t a = starts[l], b = starts[l + 1];
        memcpy(v, data, a);
        memcpy(v + a, data + b, len - b);
        expect_export_fails(fx.ks.pk, v, len - (b - a), "delete line", l, &caught, &tried);
        char *w = malloc(len + (b - a));
        REQUIRE(w != NULL);
        memcpy(w, data, b);
        memcpy(w + b, data + a, len - a);
        expect_export_fails(fx.ks.pk, w, len + (b - a), "double line", l, &caught, &tried);
        free(w);
    }
    /* Lines swapped: every neighbouring pair, and some far apart. */
    for (size_t l = 0; l + 1 < nlines; l++) {
        for (size_t gap = 1; gap <= 8 && l + gap < nlines; gap *= 2) {
            size_t m = l + gap;
            size_t a0 = starts[l], a1 = starts[l + 1], b0 = starts[m], b1 = starts[m + 1];
            size_t o = 0;
            memcpy(v + o, data, a0), o += a0;
            memcpy(v + o, data + b0, b1 - b0), o += b1 - b0;
            memcpy(v + o, data + a1, b0 - a1), o += b0 - a1;
            memcpy(v + o, data + a0, a1 - a0), o += a1 - a0;
            memcpy(v + o, data + b1, len - b1), o += len - b1;
            CHECK(o == len);
            expect_export_fails(fx.ks.pk, v, len, "swap lines", l, &caught, &tried);
        }
    }
    /* A stray line: empty, or a carriage return before the newline. */
    {
        size_t at = starts[5];
        memcpy(v, data, at);
        v[at] = '\n';
        memcpy(v + at + 1, data + at, len - at);
        expect_export_fails(fx.ks.pk, v, len + 1, "empty line", at, &caught, &tried);
        memcpy(v, data, at - 1);
        v[at - 1] = '\r';
        v[at] = '\n';
        memcpy(v + at + 1, data + at, len - at);
        expect_export_fails(fx.ks.pk, v, len + 1, "carriage return", at, &caught, &tried);
    }
    CHECK_INT(caught, tried);
    free(v);

    /* Verified with another key, nothing passes. */
    keys other;
    if (keys_open(&other)) {
        rep = verify_bytes(other.pk, data, len, NULL);
        CHECK(!rep.ok);
        keys_close(&other);
    }
    free(data);

    /* A store cut back with its checkpoints and head exports a file that
     * verifies, except against a pin. */
    {
        REQUIRE(fx_save(&fx));
        REQUIRE(cut_back(&fx, 40));
        REQUIRE(export_to_memory(&fx, &data, &len));
        rep = verify_bytes(fx.ks.pk, data, len, NULL);
        CHECK(rep.ok);
        CHECK_INT(rep.entries, 40);
        rep = verify_bytes(fx.ks.pk, data, len, &pinned54);
        CHECK(!rep.ok);
        CHECK(strstr(rep.problem, "pinned checkpoint covers 54") != NULL);
        free(data);
        /* A damaged store exports a file that fails the same way. */
        REQUIRE(fx_restore(&fx));
        REQUIRE(raw_exec(&fx, "DELETE FROM audit_entry WHERE seq = 9", NULL, 0));
        REQUIRE(export_to_memory(&fx, &data, &len));
        rep = verify_bytes(fx.ks.pk, data, len, NULL);
        CHECK(!rep.ok);
        CHECK(strstr(rep.problem, "entry 9 is missing") != NULL);
        free(data);
        REQUIRE(fx_restore(&fx));
        REQUIRE(raw_exec(&fx, "DELETE FROM audit_entry WHERE seq > 50", NULL, 0));
        REQUIRE(export_to_memory(&fx, &data, &len));
        rep = verify_bytes(fx.ks.pk, data, len, NULL);
        CHECK(!rep.ok);
        free(data);
    }
    fx_close(&fx);
}

static void cleanup(void)
{
    for (int i = 0; i <= N_ENTRIES; i++) {
        free(bodies[i]);
        bodies[i] = NULL;
    }
}

static void test_cleanup(void)
{
    cleanup();
}

TEST_MAIN(TEST(test_rfc6962_vectors), TEST(test_frontier_random), TEST(test_entry_roundtrip),
          TEST(test_entry_encode_refuses), TEST(test_entry_decode_refuses),
          TEST(test_checkpoint_sign_verify), TEST(test_checkpoint_json),
          TEST(test_store_empty_and_append), TEST(test_store_tamper), TEST(test_export),
          TEST(test_cleanup))
