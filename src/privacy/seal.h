/*
 * seal.h - the cryptography of personal data, in one place: data keys,
 * their wrapping, sealing values to where they live, and blind indexes.
 *
 * Sealing is XChaCha20-Poly1305 (libsodium's IETF AEAD) with a random
 * 192-bit nonce, so nonces never need bookkeeping. A sealed value is
 *     nonce (24 bytes) || ciphertext || tag (16 bytes)
 * and its associated data names where it lives: table, column, row, data
 * class and key version (seal_ad_*). Moving a sealed value to another row
 * or class, or a wrapped key to another subject, makes it fail to open.
 *
 * A request's personal fields are sealed one data class at a time, as one
 * record of name/value pairs (seal_record_*): one sealed row per class
 * rather than per field, since every row costs the writer more than the
 * cryptography does.
 *
 * Blind indexes are keyed BLAKE2b-256 over a normalised value, so an
 * equality lookup needs no decryption and the digest reveals nothing
 * without the key.
 */
#ifndef CIVIC_SEAL_H
#define CIVIC_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN 32
#define SEAL_NONCE_LEN 24
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEAL_WRAPPED_LEN (SEAL_KEY_LEN + SEAL_OVERHEAD)
#define SEAL_AD_MAX 128
#define SEAL_DIGEST_LEN 32

/* A fresh random data key. */
void seal_new_key(unsigned char key[SEAL_KEY_LEN]);

/* Seals len bytes of msg under key, bound to ad. out must hold
 * len + SEAL_OVERHEAD bytes. Cannot fail. */
void seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const char *ad, const void *msg,
                  size_t len, unsigned char *out);

/* Opens a sealed value. out must hold in_len - SEAL_OVERHEAD bytes (and
 * one more if the caller wants to NUL-terminate). Returns false if the
 * value is too short, was sealed under another key or another ad, or was
 * altered. */
bool seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *ad, const unsigned char *in,
                  size_t in_len, unsigned char *out, size_t *out_len);

/* Wraps a data key under a KEK (out: SEAL_WRAPPED_LEN bytes) and unwraps
 * it; the associated data binds it to its subject and both versions. */
void seal_wrap_key(const unsigned char kek[SEAL_KEY_LEN], int64_t subject_id, int key_version,
                   int kek_version, const unsigned char key[SEAL_KEY_LEN],
                   unsigned char out[SEAL_WRAPPED_LEN]);
bool seal_unwrap_key(const unsigned char kek[SEAL_KEY_LEN], int64_t subject_id, int key_version,
                     int kek_version, const unsigned char *wrapped, size_t wrapped_len,
                     unsigned char key[SEAL_KEY_LEN]);

/* Associated data for the sealed record of one data class of a request
 * (dclass: its stored name, "contact", "device", ...), and for a blob. */
void seal_ad_field(char out[SEAL_AD_MAX], int64_t request_id, const char *dclass,
                   int64_t subject_id, int key_version);
void seal_ad_blob(char out[SEAL_AD_MAX], int64_t blob_id, int64_t subject_id, int key_version);

/*
 * The plaintext of a sealed record: the name/value pairs of one data class,
 *     SEAL_RECORD_VERSION (1 byte), the number of pairs (1 byte), then
 *     for each pair: name length (1 byte), name, 0, value length (4
 *     bytes, big-endian), value, 0
 * The lengths make it unambiguous whatever a value holds, and the count
 * makes a record cut at a pair's end fail as surely as one cut anywhere
 * else; the 0 after each string lets the decoder hand out C strings
 * without a copy, and it checks every one of them. A name is 1..SEAL_RECORD_NAME_MAX bytes of
 * [a-z0-9_] (so never a ',' or a '|'); a value holds no 0 byte.
 */
#define SEAL_RECORD_VERSION 1
#define SEAL_RECORD_NAME_MAX 32
#define SEAL_RECORD_MAX_PAIRS 8

typedef struct {
    const char *name;
    const char *value;
} seal_pair;

/* The bytes the record of these pairs takes, or 0 if it cannot be
 * encoded: no pair, more than SEAL_RECORD_MAX_PAIRS, a name that breaks
 * the rule above or repeats, a value over 4 GiB. */
size_t seal_record_size(const seal_pair *pairs, size_t n);
/* Writes the record; out holds seal_record_size(pairs, n) bytes, which
 * must not be 0. */
void seal_record_encode(const seal_pair *pairs, size_t n, unsigned char *out);
/* Decodes a record strictly: the version, the count, every length, name
 * and 0 byte, no repeated name, at least one pair, nothing after the
 * last. On success
 * pairs[0..*n) point into in (which must outlive them). Returns false on
 * any deviation, or if more than max pairs. */
bool seal_record_decode(const unsigned char *in, size_t len, seal_pair *pairs, size_t max,
                        size_t *n);

/* Normalises for a blind index: an email is trimmed and lower-cased (it
 * must have one '@' with text both sides); a phone keeps its digits, and a
 * North American number drops its leading country code 1, so
 * "+1 (212) 555-0100" and "212.555.0100" match. Returns false if the value
 * has nothing to index. out needs cap bytes (the result is NUL-terminated). */
bool seal_normalize_email(const char *in, char *out, size_t cap);
bool seal_normalize_phone(const char *in, char *out, size_t cap);

/* The blind index digest of a normalised value of one kind ("email",
 * "phone"): BLAKE2b-256 keyed by the blind-index key over kind, a 0 byte,
 * and the value. */
void seal_blind_digest(const unsigned char key[SEAL_KEY_LEN], const char *kind,
                       const char *normalized, unsigned char out[SEAL_DIGEST_LEN]);

#endif
