/*
 * seal.c - the cryptography of personal data. See seal.h.
 *
 * Owns the choice of primitives (XChaCha20-Poly1305, keyed BLAKE2b-256),
 * the sealed layout, the associated-data strings and the normalisation of
 * what gets a blind index. Keeps no state and no key: every key is the
 * caller's. Never logs, and never copies a key or a plaintext anywhere but
 * the caller's buffers (a failed unwrap zeroes its output).
 *
 * libsodium must be initialised first (sodium_init: keyring_load and
 * keyring_create do it, and no sealing happens without a key file).
 */
#include "privacy/seal.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SEAL_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key length");
_Static_assert(SEAL_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce length");
_Static_assert(SEAL_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag length");
_Static_assert(SEAL_DIGEST_LEN >= crypto_generichash_BYTES_MIN &&
                   SEAL_DIGEST_LEN <= crypto_generichash_BYTES_MAX,
               "digest length");
_Static_assert(SEAL_KEY_LEN >= crypto_generichash_KEYBYTES_MIN &&
                   SEAL_KEY_LEN <= crypto_generichash_KEYBYTES_MAX,
               "blind-index key length");

void seal_new_key(unsigned char key[SEAL_KEY_LEN])
{
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
}

void seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const char *ad, const void *msg,
                  size_t len, unsigned char *out)
{
    /* Past libsodium's limit (about 256 GiB) no caller of ours can get. */
    if (len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX)
        abort();
    static const unsigned char empty[1];
    const unsigned char *m = msg != NULL ? msg : empty; /* no NULL into memcpy-like code */
    /* A random 192-bit nonce: collisions are negligible however many
     * values we seal, so nothing needs counting or storing. */
    randombytes_buf(out, SEAL_NONCE_LEN);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        out + SEAL_NONCE_LEN, &clen, m, len, (const unsigned char *)ad, strlen(ad), NULL, out, key);
}

bool seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *ad, const unsigned char *in,
                  size_t in_len, unsigned char *out, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (in == NULL || in_len < SEAL_OVERHEAD)
        return false;
    if (out == NULL && in_len != SEAL_OVERHEAD)
        return false; /* nowhere to put the plaintext */
    /* libsodium checks the tag before it writes a byte of plaintext. */
    unsigned long long mlen = 0;
    unsigned char spare[1];
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            out != NULL ? out : spare, &mlen, NULL, in + SEAL_NONCE_LEN, in_len - SEAL_NONCE_LEN,
            (const unsigned char *)ad, strlen(ad), in, key) != 0)
        return false;
    if (out_len != NULL)
        *out_len = (size_t)mlen;
    return true;
}

/* The AD of a wrapped key. Fits by construction: fixed text and three
 * integers. */
static void ad_wrapped(char out[SEAL_AD_MAX], int64_t subject_id, int key_version, int kek_version)
{
    int n = snprintf(out, SEAL_AD_MAX, "subject|wrapped_key|s=%" PRId64 "|k=%d|kek=%d", subject_id,
                     key_version, kek_version);
    if (n < 0 || n >= SEAL_AD_MAX)
        abort();
}

void seal_wrap_key(const unsigned char kek[SEAL_KEY_LEN], int64_t subject_id, int key_version,
                   int kek_version, const unsigned char key[SEAL_KEY_LEN],
                   unsigned char out[SEAL_WRAPPED_LEN])
{
    char ad[SEAL_AD_MAX];
    ad_wrapped(ad, subject_id, key_version, kek_version);
    seal_encrypt(kek, ad, key, SEAL_KEY_LEN, out);
}

bool seal_unwrap_key(const unsigned char kek[SEAL_KEY_LEN], int64_t subject_id, int key_version,
                     int kek_version, const unsigned char *wrapped, size_t wrapped_len,
                     unsigned char key[SEAL_KEY_LEN])
{
    if (wrapped_len != SEAL_WRAPPED_LEN)
        return false;
    char ad[SEAL_AD_MAX];
    ad_wrapped(ad, subject_id, key_version, kek_version);
    size_t n = 0;
    if (!seal_decrypt(kek, ad, wrapped, wrapped_len, key, &n) || n != SEAL_KEY_LEN) {
        sodium_memzero(key, SEAL_KEY_LEN);
        return false;
    }
    return true;
}

/*
 * Class names are compile-time constants (sr_data_class_name), so a bad
 * one is a bug, not input: abort. A name with '|' could make two different
 * places give the same AD ("a|s=1" against "a" with subject 1), and a name
 * too long would be cut by snprintf into another place's AD; both would
 * let a sealed record be moved without failing to open. The class is in
 * the AD so that a record moved to another class of the same request (its
 * device row, say, which another role may read) does not open there.
 */
void seal_ad_field(char out[SEAL_AD_MAX], int64_t request_id, const char *dclass,
                   int64_t subject_id, int key_version)
{
    if (dclass == NULL || dclass[0] == '\0' || strchr(dclass, '|') != NULL)
        abort();
    int n =
        snprintf(out, SEAL_AD_MAX, "personal_field|sealed|r=%" PRId64 "|c=%s|s=%" PRId64 "|k=%d",
                 request_id, dclass, subject_id, key_version);
    if (n < 0 || n >= SEAL_AD_MAX)
        abort();
}

void seal_ad_blob(char out[SEAL_AD_MAX], int64_t blob_id, int64_t subject_id, int key_version)
{
    int n = snprintf(out, SEAL_AD_MAX, "personal_blob|sealed|b=%" PRId64 "|s=%" PRId64 "|k=%d",
                     blob_id, subject_id, key_version);
    if (n < 0 || n >= SEAL_AD_MAX)
        abort();
}

/* ---- records ---- */

/* Per pair: 1 (name length) + name + 0, 4 (value length) + value + 0. */
#define RECORD_PAIR_FIXED 7u

/* A name as the record allows it: 1..SEAL_RECORD_NAME_MAX of [a-z0-9_]. */
static bool record_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > SEAL_RECORD_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* Whether pairs[i]'s name is one of pairs[0..i)'s. */
static bool record_name_repeats(const seal_pair *pairs, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(pairs[j].name, pairs[i].name) == 0)
            return true;
    return false;
}

size_t seal_record_size(const seal_pair *pairs, size_t n)
{
    if (pairs == NULL || n == 0 || n > SEAL_RECORD_MAX_PAIRS)
        return 0;
    size_t total = 2; /* the version and the count */
    for (size_t i = 0; i < n; i++) {
        if (pairs[i].name == NULL || pairs[i].value == NULL)
            return 0;
        size_t nl = strlen(pairs[i].name), vl = strlen(pairs[i].value);
        size_t need = nl + RECORD_PAIR_FIXED; /* nl is bounded first */
        if (!record_name_ok(pairs[i].name, nl) || record_name_repeats(pairs, i) ||
            vl > UINT32_MAX || vl > SIZE_MAX - need || total > SIZE_MAX - need - vl)
            return 0;
        total += need + vl;
    }
    return total;
}

void seal_record_encode(const seal_pair *pairs, size_t n, unsigned char *out)
{
    /* A caller that skipped seal_record_size has a bug: writing would
     * overrun its buffer. */
    if (seal_record_size(pairs, n) == 0)
        abort();
    size_t at = 0;
    out[at++] = SEAL_RECORD_VERSION;
    out[at++] = (unsigned char)n; /* at most SEAL_RECORD_MAX_PAIRS */
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(pairs[i].name), vl = strlen(pairs[i].value);
        out[at++] = (unsigned char)nl;
        memcpy(out + at, pairs[i].name, nl);
        at += nl;
        out[at++] = 0;
        out[at++] = (unsigned char)(vl >> 24);
        out[at++] = (unsigned char)(vl >> 16);
        out[at++] = (unsigned char)(vl >> 8);
        out[at++] = (unsigned char)vl;
        memcpy(out + at, pairs[i].value, vl);
        at += vl;
        out[at++] = 0;
    }
}

bool seal_record_decode(const unsigned char *in, size_t len, seal_pair *pairs, size_t max,
                        size_t *n)
{
    *n = 0;
    if (in == NULL || len < 2 || in[0] != SEAL_RECORD_VERSION)
        return false;
    size_t want = in[1];
    if (want == 0 || want > SEAL_RECORD_MAX_PAIRS || want > max)
        return false;
    size_t at = 2, count = 0;
    while (at < len) {
        if (count == want)
            return false; /* bytes after the last pair */
        /* Each step checks what is left before it reads: at < len here. */
        size_t nl = in[at++];
        if (nl > len - at || len - at - nl < 5) /* name, its 0, the value's length */
            return false;
        const char *name = (const char *)in + at;
        if (!record_name_ok(name, nl) || in[at + nl] != 0)
            return false;
        at += nl + 1;
        size_t vl = (size_t)in[at] << 24 | (size_t)in[at + 1] << 16 | (size_t)in[at + 2] << 8 |
                    (size_t)in[at + 3];
        at += 4;
        if (vl >= len - at) /* the value and its 0 */
            return false;
        const char *value = (const char *)in + at;
        if (memchr(value, 0, vl) != NULL || in[at + vl] != 0)
            return false;
        at += vl + 1;
        pairs[count] = (seal_pair){name, value};
        if (record_name_repeats(pairs, count))
            return false;
        count++;
    }
    if (count != want)
        return false;
    *n = count;
    return true;
}

/* ---- normalisation ---- */

/* ASCII only, on purpose: isspace() and tolower() follow the locale, and
 * an index must not change with the server's environment. */
static bool ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void clear_out(char *out, size_t cap)
{
    if (out != NULL && cap > 0)
        out[0] = '\0';
}

bool seal_normalize_email(const char *in, char *out, size_t cap)
{
    clear_out(out, cap);
    if (in == NULL || out == NULL)
        return false;
    const unsigned char *s = (const unsigned char *)in;
    size_t len = strlen(in);
    while (len > 0 && ascii_space(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && ascii_space(s[len - 1]))
        len--;
    if (len == 0 || len >= cap)
        return false;
    size_t at = len; /* position of the one '@' */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        /* No blanks or control characters inside: "a b@c" is not an
         * address, and a stray control byte would make a second index
         * entry for the same person. */
        if (c < 0x20 || c == 0x7f || c == ' ')
            return false;
        if (c == '@') {
            if (at != len)
                return false;
            at = i;
        }
    }
    if (at == len || at == 0 || at == len - 1)
        return false;
    /* Lower-casing the local part too is not what RFC 5321 says, but every
     * mail system residents use treats it so, and a lookup that missed
     * "Jane@..." for "jane@..." would be the worse failure. Bytes >= 0x80
     * (UTF-8) are kept as they are. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[len] = '\0';
    return true;
}

bool seal_normalize_phone(const char *in, char *out, size_t cap)
{
    clear_out(out, cap);
    if (in == NULL || out == NULL)
        return false;
    char digits[16]; /* at most 15 (E.164) and a NUL */
    size_t n = 0;
    bool seen_any = false; /* anything but blanks so far: a '+' must come first */
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
        unsigned char c = *p;
        if (c >= '0' && c <= '9') {
            if (n == 15)
                return false; /* more digits than any phone number has */
            digits[n++] = (char)c;
        } else if (c == '+') {
            if (seen_any)
                return false;
        } else if (!(ascii_space(c) || c == '.' || c == '-' || c == '(' || c == ')')) {
            return false; /* letters (vanity numbers, "ext"), and anything else */
        }
        if (!ascii_space(c))
            seen_any = true;
    }
    const char *d = digits;
    /* NANP: "+1 212 555 0100" and "212 555 0100" are one number. Every
     * country code starting with 1 is NANP, so 11 digits with a leading 1
     * is never another country's number. */
    if (n == 11 && digits[0] == '1') {
        d++;
        n--;
    }
    if (n < 7 || n > 15 || n >= cap)
        return false;
    memcpy(out, d, n);
    out[n] = '\0';
    return true;
}

void seal_blind_digest(const unsigned char key[SEAL_KEY_LEN], const char *kind,
                       const char *normalized, unsigned char out[SEAL_DIGEST_LEN])
{
    /* kind, then a 0 byte, then the value: kind holds no 0 byte, so
     * ("email", "x") and ("emai", "lx") can never hash the same input. */
    static const unsigned char zero = 0;
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, SEAL_KEY_LEN, SEAL_DIGEST_LEN);
    crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind));
    crypto_generichash_update(&st, &zero, 1);
    crypto_generichash_update(&st, (const unsigned char *)normalized, strlen(normalized));
    crypto_generichash_final(&st, out, SEAL_DIGEST_LEN);
    sodium_memzero(&st, sizeof st); /* the state holds the key, mixed in */
}
