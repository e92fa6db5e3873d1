/*
 * test_totp.c - TOTP against RFC 6238 appendix B, HOTP against RFC 4226
 * appendix D, base32 against RFC 4648 section 10, the replay rule and the
 * enrolment URI.
 */
#include <string.h>

#include "privacy/totp.h"
#include "testlib.h"

/* RFC 6238 appendix B's seeds: "12345678901234567890" repeated to the
 * hash's length (20, 32, 64 bytes). */
static const char SEED20[] = "12345678901234567890";
static const char SEED32[] = "12345678901234567890123456789012";
static const char SEED64[] = "1234567890123456789012345678901234567890123456789012345678901234";

static void rfc6238_vectors(void)
{
    static const struct {
        int64_t t;
        uint32_t sha1, sha256, sha512;
    } V[] = {
        {59, 94287082u, 46119246u, 90693936u},
        {1111111109, 7081804u, 68084774u, 25091201u},
        {1111111111, 14050471u, 67062674u, 99943326u},
        {1234567890, 89005924u, 91819424u, 93441116u},
        {2000000000, 69279037u, 90698825u, 38618901u},
        {20000000000, 65353130u, 77737706u, 47863826u},
    };
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        uint32_t c = 0;
        uint64_t step = (uint64_t)totp_step(V[i].t);
        CHECK(totp_hotp(TOTP_SHA1, (const unsigned char *)SEED20, 20, step, 8, &c));
        CHECK_INT(c, V[i].sha1);
        CHECK(totp_hotp(TOTP_SHA256, (const unsigned char *)SEED32, 32, step, 8, &c));
        CHECK_INT(c, V[i].sha256);
        CHECK(totp_hotp(TOTP_SHA512, (const unsigned char *)SEED64, 64, step, 8, &c));
        CHECK_INT(c, V[i].sha512);
    }
}

static void rfc4226_vectors(void)
{
    static const uint32_t V[] = {755224, 287082, 359152, 969429, 338314,
                                 254676, 287922, 162583, 399871, 520489};
    for (uint64_t i = 0; i < 10; i++) {
        uint32_t c = 0;
        CHECK(totp_hotp(TOTP_SHA1, (const unsigned char *)SEED20, 20, i, 6, &c));
        CHECK_INT(c, V[i]);
    }
    uint32_t c;
    CHECK(!totp_hotp(TOTP_SHA1, (const unsigned char *)SEED20, 20, 0, 5, &c));
    CHECK(!totp_hotp(TOTP_SHA1, (const unsigned char *)SEED20, 20, 0, 9, &c));
    unsigned char big[TOTP_KEY_MAX + 1] = {0};
    CHECK(!totp_hotp(TOTP_SHA1, big, sizeof big, 0, 6, &c));
}

static void base32_vectors(void)
{
    static const struct {
        const char *plain, *padded, *bare;
    } V[] = {
        {"", "", ""},
        {"f", "MY======", "MY"},
        {"fo", "MZXQ====", "MZXQ"},
        {"foo", "MZXW6===", "MZXW6"},
        {"foob", "MZXW6YQ=", "MZXW6YQ"},
        {"fooba", "MZXW6YTB", "MZXW6YTB"},
        {"foobar", "MZXW6YTBOI======", "MZXW6YTBOI"},
    };
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        char out[32];
        size_t n = strlen(V[i].plain);
        CHECK(totp_base32_encode((const unsigned char *)V[i].plain, n, true, out, sizeof out));
        CHECK_STR(out, V[i].padded);
        CHECK(totp_base32_encode((const unsigned char *)V[i].plain, n, false, out, sizeof out));
        CHECK_STR(out, V[i].bare);
        unsigned char back[16];
        size_t len = 99;
        CHECK(totp_base32_decode(V[i].padded, back, sizeof back, &len));
        CHECK_INT(len, n);
        CHECK(memcmp(back, V[i].plain, n) == 0);
        len = 99;
        CHECK(totp_base32_decode(V[i].bare, back, sizeof back, &len));
        CHECK_INT(len, n);
    }
    /* Lower case reads the same. */
    unsigned char b[16];
    size_t len = 0;
    CHECK(totp_base32_decode("mzxw6ytboi", b, sizeof b, &len) && len == 6 &&
          memcmp(b, "foobar", 6) == 0);
    /* Refused: characters outside the alphabet, padding in the middle or
     * incomplete, impossible lengths, bits left over that are not 0, no
     * room. */
    static const char *const BAD[] = {"MZXW6YT1", "MZ=XW6YT", "MY=====", "M",   "MZX",
                                      "MZXW6Y",   "MZ",       "MZXW 6", "MZXW6YTBOI=",
                                      "MZ======="};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        CHECK(!totp_base32_decode(BAD[i], b, sizeof b, &len));
    CHECK(!totp_base32_decode("MZXW6YTBOI", b, 5, &len));
    char small[8];
    CHECK(!totp_base32_encode((const unsigned char *)"foobar", 6, true, small, sizeof small));
    CHECK(!totp_base32_encode((const unsigned char *)"foobar", 6, false, small, 10));
    CHECK(totp_base32_encode((const unsigned char *)"foobar", 6, false, small + 0, 8) == false);
}

/* The 6-digit code of key at time t, as a person types it. */
static void code_at(const unsigned char *key, int64_t t, char out[7])
{
    uint32_t v = 0;
    totp_hotp(TOTP_SHA1, key, 20, (uint64_t)totp_step(t), 6, &v);
    snprintf(out, 7, "%06u", (unsigned)v);
}

static void verify_window_and_replay(void)
{
    const unsigned char *key = (const unsigned char *)SEED20;
    const int64_t now = 1234567890; /* step 41152263 */
    int64_t s = totp_step(now), got = 0;
    char code[7];
    code_at(key, now, code);
    CHECK(totp_verify(key, 20, code, now, 0, &got));
    CHECK_INT(got, s);
    /* Replay: the same step, or anything before it, is refused. */
    CHECK(!totp_verify(key, 20, code, now, s, &got));
    CHECK(!totp_verify(key, 20, code, now, s + 1, &got));
    /* One step either side passes; two do not. */
    code_at(key, now - 30, code);
    CHECK(totp_verify(key, 20, code, now, 0, &got) && got == s - 1);
    CHECK(!totp_verify(key, 20, code, now, s - 1, &got));
    code_at(key, now + 30, code);
    CHECK(totp_verify(key, 20, code, now, s, &got) && got == s + 1);
    code_at(key, now - 60, code);
    CHECK(!totp_verify(key, 20, code, now, 0, &got));
    code_at(key, now + 60, code);
    CHECK(!totp_verify(key, 20, code, now, 0, &got));
    /* Only six digits. */
    code_at(key, now, code);
    char longer[8];
    snprintf(longer, sizeof longer, "%s0", code);
    CHECK(!totp_verify(key, 20, longer, now, 0, &got));
    CHECK(!totp_verify(key, 20, "12345", now, 0, &got));
    CHECK(!totp_verify(key, 20, "12a456", now, 0, &got));
    CHECK(!totp_verify(key, 20, " 12345", now, 0, &got));
    CHECK(!totp_verify(key, 20, "", now, 0, &got));
    CHECK(!totp_verify(key, 20, NULL, now, 0, &got));
    /* Another key's code. */
    code_at((const unsigned char *)"ABCDEFGHIJKLMNOPQRST", now, code);
    char mine[7];
    code_at(key, now, mine);
    if (strcmp(code, mine) != 0)
        CHECK(!totp_verify(key, 20, code, now, 0, &got));
}

static void uri(void)
{
    buf_t b = BUF_INIT;
    totp_uri(&b, "Civic311", "j doe", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    CHECK_STR(b.data, "otpauth://totp/Civic311:j%20doe?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                            "&issuer=Civic311&algorithm=SHA1&digits=6&period=30");
    buf_free(&b);
    CHECK_INT(totp_step(-5), 0);
    CHECK_INT(totp_step(29), 0);
    CHECK_INT(totp_step(30), 1);
}

TEST_MAIN(TEST(rfc6238_vectors), TEST(rfc4226_vectors), TEST(base32_vectors),
          TEST(verify_window_and_replay), TEST(uri))
