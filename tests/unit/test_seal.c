/*
 * test_seal.c - sealing and opening (and every way opening must fail),
 * key wrapping, the associated-data strings, the record of name/value
 * pairs a class of fields is sealed as (and every way decoding it must
 * fail), the email and phone normalisation tables, and blind-index
 * digests.
 */
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "privacy/seal.h"

static void init(void)
{
    if (sodium_init() < 0)
        abort();
}

static void test_round_trip(void)
{
    init();
    unsigned char key[SEAL_KEY_LEN];
    seal_new_key(key);
    const char *ad = "personal_field|sealed|r=1|c=contact|s=2|k=1";

    /* Empty, with and without a message pointer. */
    unsigned char sealed[SEAL_OVERHEAD];
    seal_encrypt(key, ad, NULL, 0, sealed);
    unsigned char out[1];
    size_t n = 99;
    CHECK(seal_decrypt(key, ad, sealed, sizeof sealed, out, &n));
    CHECK_INT(n, 0);
    CHECK(seal_decrypt(key, ad, sealed, sizeof sealed, NULL, &n));
    seal_encrypt(key, ad, "", 0, sealed);
    CHECK(seal_decrypt(key, ad, sealed, sizeof sealed, out, &n));

    /* Long, and every length up to a few blocks. */
    size_t big = 1 << 20;
    unsigned char *msg = malloc(big), *box = malloc(big + SEAL_OVERHEAD), *back = malloc(big);
    REQUIRE(msg != NULL && box != NULL && back != NULL);
    randombytes_buf(msg, big);
    seal_encrypt(key, ad, msg, big, box);
    CHECK(seal_decrypt(key, ad, box, big + SEAL_OVERHEAD, back, &n));
    CHECK_INT(n, big);
    CHECK(memcmp(msg, back, big) == 0);
    CHECK(memcmp(box + SEAL_NONCE_LEN, msg, 64) != 0); /* it is not plaintext */
    for (size_t len = 1; len <= 200; len++) {
        seal_encrypt(key, ad, msg, len, box);
        memset(back, 0, len);
        CHECK(seal_decrypt(key, ad, box, len + SEAL_OVERHEAD, back, &n));
        CHECK_INT(n, len);
        CHECK(memcmp(msg, back, len) == 0);
    }
    /* out_len may be NULL. */
    seal_encrypt(key, ad, "hi", 2, box);
    CHECK(seal_decrypt(key, ad, box, 2 + SEAL_OVERHEAD, back, NULL));
    free(msg);
    free(box);
    free(back);
}

static void test_open_fails(void)
{
    init();
    unsigned char key[SEAL_KEY_LEN], other[SEAL_KEY_LEN];
    seal_new_key(key);
    seal_new_key(other);
    CHECK(memcmp(key, other, SEAL_KEY_LEN) != 0);
    const char *ad = "personal_field|sealed|r=1|c=contact|s=2|k=1";
    const char *msg = "jane@example.org";
    size_t len = strlen(msg);
    unsigned char box[64 + SEAL_OVERHEAD], out[64];
    size_t n = 0, total = len + SEAL_OVERHEAD;
    seal_encrypt(key, ad, msg, len, box);
    REQUIRE(seal_decrypt(key, ad, box, total, out, &n));

    CHECK(!seal_decrypt(other, ad, box, total, out, &n));
    CHECK_INT(n, 0);
    CHECK(!seal_decrypt(key, "personal_field|sealed|r=2|c=contact|s=2|k=1", box, total, out, &n));
    CHECK(!seal_decrypt(key, "", box, total, out, &n));
    /* Every single-bit flip, in nonce, ciphertext and tag. */
    size_t opened = 0;
    for (size_t i = 0; i < total * 8; i++) {
        box[i / 8] ^= (unsigned char)(1u << (i % 8));
        if (seal_decrypt(key, ad, box, total, out, &n))
            opened++;
        box[i / 8] ^= (unsigned char)(1u << (i % 8));
    }
    CHECK_INT(opened, 0);
    CHECK(seal_decrypt(key, ad, box, total, out, &n)); /* restored */
    /* Truncated or extended. */
    for (size_t cut = 0; cut < total; cut++)
        CHECK(!seal_decrypt(key, ad, box, cut, out, &n));
    box[total] = 0;
    CHECK(!seal_decrypt(key, ad, box, total + 1, out, &n));
    CHECK(!seal_decrypt(key, ad, NULL, total, out, &n));
    CHECK(!seal_decrypt(key, ad, box, total, NULL, &n)); /* nowhere to put it */
}

static void test_nonces_differ(void)
{
    init();
    unsigned char key[SEAL_KEY_LEN];
    seal_new_key(key);
    const char *ad = "personal_blob|sealed|b=1|s=1|k=1";
    unsigned char a[5 + SEAL_OVERHEAD], b[5 + SEAL_OVERHEAD];
    seal_encrypt(key, ad, "12345", 5, a);
    seal_encrypt(key, ad, "12345", 5, b);
    CHECK(memcmp(a, b, SEAL_NONCE_LEN) != 0);
    CHECK(memcmp(a + SEAL_NONCE_LEN, b + SEAL_NONCE_LEN, 5 + SEAL_TAG_LEN) != 0);
}

static void test_wrap(void)
{
    init();
    unsigned char kek[SEAL_KEY_LEN], kek2[SEAL_KEY_LEN], key[SEAL_KEY_LEN], got[SEAL_KEY_LEN];
    seal_new_key(kek);
    seal_new_key(kek2);
    seal_new_key(key);
    unsigned char w[SEAL_WRAPPED_LEN];
    seal_wrap_key(kek, 42, 1, 3, key, w);
    CHECK(seal_unwrap_key(kek, 42, 1, 3, w, sizeof w, got));
    CHECK(memcmp(key, got, SEAL_KEY_LEN) == 0);

    memset(got, 0xAA, sizeof got);
    CHECK(!seal_unwrap_key(kek, 43, 1, 3, w, sizeof w, got)); /* another subject */
    CHECK(sodium_is_zero(got, sizeof got));                   /* zeroed, not left half-done */
    CHECK(!seal_unwrap_key(kek, -42, 1, 3, w, sizeof w, got));
    CHECK(!seal_unwrap_key(kek, 42, 2, 3, w, sizeof w, got)); /* another key version */
    CHECK(!seal_unwrap_key(kek, 42, 1, 2, w, sizeof w, got)); /* another KEK version */
    CHECK(!seal_unwrap_key(kek, 42, 1, 4, w, sizeof w, got));
    CHECK(!seal_unwrap_key(kek2, 42, 1, 3, w, sizeof w, got)); /* another KEK */
    CHECK(!seal_unwrap_key(kek, 42, 1, 3, w, sizeof w - 1, got));
    CHECK(!seal_unwrap_key(kek, 42, 1, 3, w, 0, got));
    /* A wrapped key is not a sealed record, even with the same numbers. */
    char ad[SEAL_AD_MAX];
    seal_ad_field(ad, 42, "contact", 1, 3);
    size_t n;
    CHECK(!seal_decrypt(kek, ad, w, sizeof w, got, &n));

    unsigned char w2[SEAL_WRAPPED_LEN];
    seal_wrap_key(kek, 42, 1, 3, key, w2);
    CHECK(memcmp(w, w2, sizeof w) != 0);
    CHECK(seal_unwrap_key(kek, 42, 1, 3, w2, sizeof w2, got));
    CHECK(memcmp(key, got, SEAL_KEY_LEN) == 0);
}

static void test_ad(void)
{
    char a[SEAL_AD_MAX], b[SEAL_AD_MAX];
    seal_ad_field(a, 7, "contact", 9, 2);
    CHECK_STR(a, "personal_field|sealed|r=7|c=contact|s=9|k=2");
    seal_ad_blob(a, 5, 9, 1);
    CHECK_STR(a, "personal_blob|sealed|b=5|s=9|k=1");
    seal_ad_field(a, INT64_MAX, "account", INT64_MIN, -1);
    CHECK_STR(a, "personal_field|sealed|r=9223372036854775807|c=account|s=-"
                 "9223372036854775808|k=-1");

    /* Each part changes the string: row, class, subject, key version. */
    const char *base = "personal_field|sealed|r=1|c=device|s=2|k=3";
    seal_ad_field(a, 1, "device", 2, 3);
    CHECK_STR(a, base);
    seal_ad_field(b, 2, "device", 2, 3);
    CHECK(strcmp(a, b) != 0);
    seal_ad_field(b, 1, "contact", 2, 3);
    CHECK(strcmp(a, b) != 0);
    seal_ad_field(b, 1, "device", 3, 3);
    CHECK(strcmp(a, b) != 0);
    seal_ad_field(b, 1, "device", 2, 4);
    CHECK(strcmp(a, b) != 0);
    seal_ad_blob(b, 1, 2, 3);
    CHECK(strcmp(a, b) != 0);

    /* The longest class name that fits with the longest numbers. */
    char dclass[64];
    memset(dclass, 'c', sizeof dclass);
    size_t fixed = strlen("personal_field|sealed|r=|c=|s=|k=") + 20 + 20 + 11;
    size_t fits = SEAL_AD_MAX - 1 - fixed;
    dclass[fits] = '\0';
    seal_ad_field(a, INT64_MIN, dclass, INT64_MIN, INT32_MIN);
    CHECK_INT(strlen(a), SEAL_AD_MAX - 1);
}

/* A class name that would be cut, or would blur the AD, aborts: it is a
 * bug in a constant, and going on could let two places share an AD. */
static bool aborts_with_class(const char *dclass)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        char a[SEAL_AD_MAX];
        seal_ad_field(a, 1, dclass, 1, 1);
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return false;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void test_ad_refuses_bad_class(void)
{
    char dclass[SEAL_AD_MAX + 1];
    memset(dclass, 'x', SEAL_AD_MAX);
    dclass[SEAL_AD_MAX] = '\0';
    CHECK(aborts_with_class(dclass));
    /* With one-digit numbers: one byte over, then exactly full. */
    size_t fixed_small = strlen("personal_field|sealed|r=1|c=|s=1|k=1");
    dclass[SEAL_AD_MAX - fixed_small] = '\0'; /* exactly one byte too long */
    CHECK(aborts_with_class(dclass));
    dclass[SEAL_AD_MAX - fixed_small - 1] = '\0'; /* fits exactly */
    CHECK(!aborts_with_class(dclass));
    CHECK(aborts_with_class("contact|s=1"));
    CHECK(aborts_with_class(""));
    CHECK(aborts_with_class(NULL));
}

/* ---- records ---- */

/* The encoding of pairs, into out (at least cap bytes); its length, 0 if
 * seal_record_size refuses them. */
static size_t encode(const seal_pair *pairs, size_t n, unsigned char *out, size_t cap)
{
    size_t len = seal_record_size(pairs, n);
    if (len == 0 || len > cap)
        return 0;
    seal_record_encode(pairs, n, out);
    return len;
}

static void test_record_round_trip(void)
{
    const seal_pair pairs[] = {{"first_name", "Ada"},
                               {"email", "ada@example.org"},
                               {"phone", ""},
                               {"x_9", "commas, | pipes, \x01 and UTF-8 \xc3\xa9 are fine"}};
    unsigned char buf[256];
    size_t len = encode(pairs, 4, buf, sizeof buf);
    /* version, count, then per pair 1 + name + 1 + 4 + value + 1 */
    size_t want = 2;
    for (size_t i = 0; i < 4; i++)
        want += 7 + strlen(pairs[i].name) + strlen(pairs[i].value);
    CHECK_INT(len, want);
    CHECK_INT(buf[0], SEAL_RECORD_VERSION);
    CHECK_INT(buf[1], 4);
    /* The exact bytes of the first pair. */
    static const unsigned char first[] = {10,  'f', 'i', 'r', 's', 't', '_', 'n', 'a', 'm',
                                          'e', 0,   0,   0,   0,   3,   'A', 'd', 'a', 0};
    CHECK(memcmp(buf + 2, first, sizeof first) == 0);

    seal_pair got[SEAL_RECORD_MAX_PAIRS];
    size_t n = 99;
    REQUIRE(seal_record_decode(buf, len, got, SEAL_RECORD_MAX_PAIRS, &n));
    CHECK_INT(n, 4);
    for (size_t i = 0; i < n && i < 4; i++) {
        CHECK_STR(got[i].name, pairs[i].name);
        CHECK_STR(got[i].value, pairs[i].value);
        /* Into the buffer, not copies. */
        CHECK((const unsigned char *)got[i].value > buf &&
              (const unsigned char *)got[i].value < buf + len);
    }
    /* Fewer slots than pairs: refused, not cut. */
    CHECK(!seal_record_decode(buf, len, got, 3, &n));
    CHECK_INT(n, 0);
    /* One pair, the most pairs. */
    len = encode(pairs, 1, buf, sizeof buf);
    CHECK(seal_record_decode(buf, len, got, 1, &n) && n == 1);
    seal_pair many[SEAL_RECORD_MAX_PAIRS + 1];
    char names[SEAL_RECORD_MAX_PAIRS + 1][8];
    for (size_t i = 0; i <= SEAL_RECORD_MAX_PAIRS; i++) {
        snprintf(names[i], sizeof names[i], "f%zu", i);
        many[i] = (seal_pair){names[i], "v"};
    }
    len = encode(many, SEAL_RECORD_MAX_PAIRS, buf, sizeof buf);
    CHECK(len > 0);
    CHECK(seal_record_decode(buf, len, got, SEAL_RECORD_MAX_PAIRS, &n) &&
          n == SEAL_RECORD_MAX_PAIRS);
    CHECK_INT(seal_record_size(many, SEAL_RECORD_MAX_PAIRS + 1), 0);
}

static void test_record_refuses_bad_pairs(void)
{
    char longest[SEAL_RECORD_NAME_MAX + 2];
    memset(longest, 'a', sizeof longest);
    longest[SEAL_RECORD_NAME_MAX] = '\0';
    seal_pair ok[] = {{longest, "v"}};
    CHECK(seal_record_size(ok, 1) > 0);
    longest[SEAL_RECORD_NAME_MAX] = 'a';
    longest[SEAL_RECORD_NAME_MAX + 1] = '\0';
    CHECK_INT(seal_record_size(ok, 1), 0); /* a name one byte too long */
    const char *bad_names[] = {"", "Email", "e-mail", "a,b", "a|b", "a b", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        seal_pair p[] = {{bad_names[i], "v"}};
        CHECK_INT(seal_record_size(p, 1), 0);
    }
    seal_pair dup[] = {{"email", "a"}, {"phone", "b"}, {"email", "c"}};
    CHECK_INT(seal_record_size(dup, 3), 0);
    seal_pair nulls[] = {{"email", NULL}};
    CHECK_INT(seal_record_size(nulls, 1), 0);
    nulls[0] = (seal_pair){NULL, "v"};
    CHECK_INT(seal_record_size(nulls, 1), 0);
    CHECK_INT(seal_record_size(dup, 0), 0);
    CHECK_INT(seal_record_size(NULL, 1), 0);
}

/* Whether in decodes; a refusal must leave no count behind. */
static bool decodes(const unsigned char *in, size_t len)
{
    seal_pair got[SEAL_RECORD_MAX_PAIRS];
    size_t n = 99;
    bool ok = seal_record_decode(in, len, got, SEAL_RECORD_MAX_PAIRS, &n);
    if (!ok)
        CHECK_INT(n, 0);
    return ok;
}

static void test_record_decode_is_strict(void)
{
    const seal_pair pairs[] = {{"email", "ada@example.org"}, {"phone", "2125550100"}};
    unsigned char good[128], buf[160];
    size_t len = encode(pairs, 2, good, sizeof good);
    REQUIRE(len > 0 && len + 8 < sizeof buf);
    CHECK(decodes(good, len));

    /* Every shorter prefix, and every longer buffer, fails. */
    for (size_t cut = 0; cut < len; cut++)
        CHECK(!decodes(good, cut));
    for (size_t extra = 1; extra < 8; extra++) {
        memcpy(buf, good, len);
        memset(buf + len, 0, extra);
        CHECK(!decodes(buf, len + extra));
    }
    CHECK(!decodes(NULL, 0));
    /* No pair; more pairs than a record holds (and than there are). */
    unsigned char head[2] = {SEAL_RECORD_VERSION, 0};
    CHECK(!decodes(head, 2));
    memcpy(buf, good, len);
    buf[1] = SEAL_RECORD_MAX_PAIRS + 1;
    CHECK(!decodes(buf, len));

    /* Bytes changed: the version, lengths, the 0s and names' characters
     * must not decode; a value byte may be anything but 0. */
    size_t name2 = 2 + 1 + 5 + 1 + 4 + 15 + 1;      /* where the second pair starts */
    size_t structural[] = {0,                       /* version */
                           1,                       /* count */
                           2,                       /* name length */
                           3,     7,                /* name characters */
                           8,                       /* the name's 0 */
                           9,     10,       11, 12, /* value length */
                           13,    27,               /* value bytes */
                           28,                      /* the value's 0 */
                           name2, name2 + 1};       /* second name length, character */
    for (size_t i = 0; i < sizeof structural / sizeof structural[0]; i++) {
        size_t at = structural[i];
        REQUIRE(at < len);
        static const unsigned char tries[] = {0x00, 0x01, 0x41, 0x7f, 0xff};
        for (size_t t = 0; t < sizeof tries; t++) {
            if (tries[t] == good[at])
                continue;
            memcpy(buf, good, len);
            buf[at] = tries[t];
            bool opened = decodes(buf, len);
            /* A name character to another lower-case letter or digit is a
             * valid, different name; nothing else may decode. */
            bool still_valid =
                ((at == 3 || at == 7 || at == name2 + 1) &&
                 ((tries[t] >= 'a' && tries[t] <= 'z') || (tries[t] >= '0' && tries[t] <= '9'))) ||
                ((at == 13 || at == 27) && tries[t] != 0);
            if (opened != still_valid)
                fprintf(stderr, "record byte %zu set to 0x%02x: decodes %d\n", at, tries[t],
                        opened);
            CHECK(opened == still_valid);
        }
    }
    /* A repeated name, hand-made. */
    const seal_pair twice[] = {{"email", "a"}, {"phonf", "b"}};
    len = encode(twice, 2, buf, sizeof buf);
    REQUIRE(len > 0);
    size_t second = 2 + 1 + 5 + 1 + 4 + 1 + 1 + 1; /* the second name's first byte */
    buf[second] = 'e';                             /* "phonf" to "ehonf": another name, fine */
    CHECK(decodes(buf, len));
    memcpy(buf + second, "email", 5);
    CHECK(!decodes(buf, len));
    /* A value length past the end, however large. */
    len = encode(pairs, 1, buf, sizeof buf);
    buf[9] = 0xff;
    CHECK(!decodes(buf, len));
}

/* One line of a normaliser's table: an input and what it becomes. */
typedef struct {
    const char *in, *want;
} norm_case;

/* Runs a normaliser's table: each good input comes out as its want, each
 * bad one is refused, leaving "" (nothing half-written). what names the
 * kind of value in a failure. */
static void check_normalizer(const char *what, bool (*normalize)(const char *, char *, size_t),
                             const norm_case *good, size_t ngood, const char *const *bad,
                             size_t nbad)
{
    char out[64];
    for (size_t i = 0; i < ngood; i++) {
        memset(out, 'Z', sizeof out);
        bool ok = normalize(good[i].in, out, sizeof out);
        if (!ok)
            fprintf(stderr, "refused good %s #%zu\n", what, i);
        CHECK(ok);
        CHECK_STR(out, good[i].want);
    }
    for (size_t i = 0; i < nbad; i++) {
        memset(out, 'Z', sizeof out);
        bool ok = normalize(bad[i], out, sizeof out);
        if (ok)
            fprintf(stderr, "accepted bad %s #%zu\n", what, i);
        CHECK(!ok);
        CHECK_STR(out, "");
    }
}

static void test_normalize_email(void)
{
    static const norm_case good[] = {
        {"jane@example.org", "jane@example.org"},
        {"  Jane.Doe@Example.ORG\t\n", "jane.doe@example.org"},
        {"\r\nA+tag@B.c ", "a+tag@b.c"},
        {"x@y", "x@y"},
        {"ZO\xc3\xab@example.org", "zo\xc3\xab@example.org"}, /* UTF-8 kept as is */
    };
    static const char *const bad[] = {
        "",
        "   ",
        "jane",
        "jane@",
        "@example.org",
        "a@b@c",
        "jane doe@example.org",
        "jane@exa mple.org",
        "jane\t@example.org",
        "ja\x01ne@example.org",
        "@",
        " @ ",
        "jane@example.org\x7f",
    };
    check_normalizer("email", seal_normalize_email, good, sizeof good / sizeof good[0], bad,
                     sizeof bad / sizeof bad[0]);
    char out[64];
    CHECK(!seal_normalize_email(NULL, out, sizeof out));
    /* The cap counts the NUL; surrounding blanks do not count. */
    CHECK(seal_normalize_email(" ab@cd ", out, 6));
    CHECK_STR(out, "ab@cd");
    CHECK(!seal_normalize_email("ab@cde", out, 6));
    CHECK(!seal_normalize_email("a@b", out, 0));
}

static void test_normalize_phone(void)
{
    static const norm_case good[] = {
        {"+1 (212) 555-0100", "2125550100"},
        {"212.555.0100", "2125550100"},
        {"2125550100", "2125550100"},
        {"1-212-555-0100", "2125550100"},
        {"  +1 212 555 0100  ", "2125550100"},
        {"+44 20 7946 0958", "442079460958"},
        {"555-0100", "5550100"},                 /* 7 digits: the shortest */
        {"+123456789012345", "123456789012345"}, /* 15: the longest */
        {"12345678901", "2345678901"},           /* 11 with a leading 1 */
        {"22345678901", "22345678901"},          /* 11 without */
        {"1234567890", "1234567890"},            /* 10 with a leading 1: kept */
        {"(212)\t555\n0100", "2125550100"},
        {"1 555 0100", "15550100"}, /* 8 digits: only 11 drop a leading 1 */
    };
    static const char *const bad[] = {
        "",
        "   ",
        "()-. ",
        "+",
        "555-010",                 /* 6 digits */
        "1234567890123456",        /* 16 */
        "12345678901234567890123", /* many */
        "212-555-0100 ext 5",
        "212-555-0100x5",
        "1-800-FLOWERS",
        "212/555/0100",
        "212_555_0100",
        "212+555+0100",
        "1+212 555 0100",
        "++1 212 555 0100",
        "#2125550100",
        "212,555,0100",
        "\xd9\xa2\xd9\xa1\xd9\xa2 555 0100", /* Arabic-Indic digits */
    };
    check_normalizer("phone", seal_normalize_phone, good, sizeof good / sizeof good[0], bad,
                     sizeof bad / sizeof bad[0]);
    char out[32];
    CHECK(!seal_normalize_phone(NULL, out, sizeof out));
    CHECK(seal_normalize_phone("212 555 0100", out, 11));
    CHECK_STR(out, "2125550100");
    CHECK(!seal_normalize_phone("212 555 0100", out, 10));
}

static void test_blind_digest(void)
{
    init();
    unsigned char k1[SEAL_KEY_LEN], k2[SEAL_KEY_LEN];
    seal_new_key(k1);
    seal_new_key(k2);
    unsigned char a[SEAL_DIGEST_LEN], b[SEAL_DIGEST_LEN];
    char n1[64], n2[64];

    /* Different spellings, one normalised value, one digest. */
    REQUIRE(seal_normalize_email(" Jane@Example.org", n1, sizeof n1));
    REQUIRE(seal_normalize_email("jane@example.ORG ", n2, sizeof n2));
    seal_blind_digest(k1, "email", n1, a);
    seal_blind_digest(k1, "email", n2, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    REQUIRE(seal_normalize_phone("+1 (212) 555-0100", n1, sizeof n1));
    REQUIRE(seal_normalize_phone("212.555.0100", n2, sizeof n2));
    seal_blind_digest(k1, "phone", n1, a);
    seal_blind_digest(k1, "phone", n2, b);
    CHECK(memcmp(a, b, sizeof a) == 0);

    /* Another key, another kind, another value: another digest. */
    seal_blind_digest(k2, "phone", n1, b);
    CHECK(memcmp(a, b, sizeof a) != 0);
    seal_blind_digest(k1, "email", n1, b);
    CHECK(memcmp(a, b, sizeof a) != 0);
    seal_blind_digest(k1, "phone", "2125550101", b);
    CHECK(memcmp(a, b, sizeof a) != 0);
    /* The 0 byte keeps kind and value apart. */
    seal_blind_digest(k1, "email", "x", a);
    seal_blind_digest(k1, "emai", "lx", b);
    CHECK(memcmp(a, b, sizeof a) != 0);

    /* It is keyed BLAKE2b-256 over kind || 0 || value, as documented (a
     * second implementation, e.g. a migration script, must agree). */
    unsigned char want[SEAL_DIGEST_LEN];
    const unsigned char input[] = "phone\0"
                                  "2125550100";
    seal_blind_digest(k1, "phone", "2125550100", a);
    crypto_generichash(want, sizeof want, input, sizeof input - 1, k1, sizeof k1);
    CHECK(memcmp(a, want, sizeof a) == 0);
}

TEST_MAIN(TEST(test_round_trip), TEST(test_open_fails), TEST(test_nonces_differ), TEST(test_wrap),
          TEST(test_ad), TEST(test_ad_refuses_bad_class), TEST(test_record_round_trip),
          TEST(test_record_refuses_bad_pairs), TEST(test_record_decode_is_strict),
          TEST(test_normalize_email), TEST(test_normalize_phone), TEST(test_blind_digest))
