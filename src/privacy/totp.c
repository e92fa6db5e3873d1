/*
 * totp.c - HOTP/TOTP codes and base32 (see totp.h). HMAC comes from
 * OpenSSL's libcrypto: libsodium has no SHA-1, and SHA-1 is what
 * authenticator apps use.
 */
#include "privacy/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <string.h>

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

bool totp_base32_encode(const unsigned char *in, size_t len, bool pad, char *out, size_t cap)
{
    size_t chars = (len * 8 + 4) / 5;
    size_t total = pad ? (len + 4) / 5 * 8 : chars;
    if (len > SIZE_MAX / 8 - 1 || cap < total + 1)
        return false;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = B32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
        acc &= (1u << bits) - 1; /* keep only the bits not yet written */
    }
    if (bits > 0)
        out[o++] = B32[(acc << (5 - bits)) & 31];
    while (o < total)
        out[o++] = '=';
    out[o] = '\0';
    return true;
}

static int b32_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a';
    if (ch >= '2' && ch <= '7')
        return ch - '2' + 26;
    return -1;
}

bool totp_base32_decode(const char *in, unsigned char *out, size_t cap, size_t *len)
{
    size_t n = strlen(in), data = n;
    while (data > 0 && in[data - 1] == '=')
        data--;
    /* Padding, if any, fills the last group of 8 exactly. */
    if (data != n && n % 8 != 0)
        return false;
    /* A group ends after 2, 4, 5 or 7 characters (1, 2, 3 or 4 bytes). */
    size_t rest = data % 8;
    if (rest == 1 || rest == 3 || rest == 6)
        return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < data; i++) {
        int v = b32_value(in[i]);
        if (v < 0)
            return false;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            if (o == cap)
                return false;
            out[o++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
            acc &= (1u << bits) - 1;
        }
    }
    /* The bits left over are padding: they must be 0 (one spelling per
     * value). */
    if (acc != 0)
        return false;
    *len = o;
    return true;
}

static const EVP_MD *md_of(totp_alg alg)
{
    switch (alg) {
    case TOTP_SHA256:
        return EVP_sha256();
    case TOTP_SHA512:
        return EVP_sha512();
    case TOTP_SHA1:
    default:
        return EVP_sha1();
    }
}

bool totp_hotp(totp_alg alg, const unsigned char *key, size_t keylen, uint64_t counter,
               int digits, uint32_t *code)
{
    static const uint32_t POW10[] = {1000000u, 10000000u, 100000000u};
    if (keylen > TOTP_KEY_MAX || digits < 6 || digits > 8)
        return false;
    unsigned char msg[8];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (HMAC(md_of(alg), key, (int)keylen, msg, sizeof msg, mac, &maclen) == NULL || maclen < 20)
        return false;
    /* RFC 4226 5.3, dynamic truncation. */
    unsigned off = mac[maclen - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    *code = bin % POW10[digits - 6];
    sodium_memzero(mac, sizeof mac);
    return true;
}

int64_t totp_step(int64_t t)
{
    return t < 0 ? 0 : t / TOTP_PERIOD;
}

bool totp_verify(const unsigned char *key, size_t keylen, const char *code, int64_t now,
                 int64_t last_step, int64_t *step)
{
    if (code == NULL || strlen(code) != TOTP_DIGITS)
        return false;
    for (int i = 0; i < TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return false;
    int64_t center = totp_step(now);
    bool found = false;
    /* Every step is tried whatever matched, so the time taken does not
     * say which one did. */
    for (int64_t s = center - TOTP_SKEW; s <= center + TOTP_SKEW; s++) {
        uint32_t v = 0;
        char want[TOTP_DIGITS + 1];
        if (s < 0 || !totp_hotp(TOTP_SHA1, key, keylen, (uint64_t)s, TOTP_DIGITS, &v))
            continue;
        for (int i = TOTP_DIGITS - 1; i >= 0; i--) {
            want[i] = (char)('0' + v % 10);
            v /= 10;
        }
        want[TOTP_DIGITS] = '\0';
        bool same = sodium_memcmp(want, code, TOTP_DIGITS) == 0;
        sodium_memzero(want, sizeof want);
        /* The earliest matching step after last_step: a code typed late
         * in its step is still that step's, never a later one. */
        if (same && s > last_step && !found) {
            found = true;
            *step = s;
        }
    }
    return found;
}

void totp_uri(buf_t *out, const char *issuer, const char *account, const char *secret_b32)
{
    buf_puts(out, "otpauth://totp/");
    buf_url_encode(out, issuer);
    buf_putc(out, ':');
    buf_url_encode(out, account);
    buf_puts(out, "?secret=");
    buf_puts(out, secret_b32);
    buf_puts(out, "&issuer=");
    buf_url_encode(out, issuer);
    buf_puts(out, "&algorithm=SHA1&digits=6&period=30");
}
