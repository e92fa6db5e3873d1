/*
 * seal.h - the cryptography of personal data, in one place: data keys,
 * their wrapping, sealing values to where they live, and blind indexes.
 *
 * Sealing is XChaCha20-Poly1305 (libsodium's IETF AEAD) with a random
 * 192-bit nonce, so nonces never need bookkeeping. A sealed value is
 *     nonce (24 bytes) || ciphertext || tag (16 bytes)
 * and its associated data names where it lives: table, column, row and
 * key version (seal_ad_*). Moving a sealed value to another row, or a
 * wrapped key to another subject, makes it fail to open.
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

/* Associated data for a personal field and for a blob. */
void seal_ad_field(char out[SEAL_AD_MAX], int64_t request_id, const char *field,
                   int64_t subject_id, int key_version);
void seal_ad_blob(char out[SEAL_AD_MAX], int64_t blob_id, int64_t subject_id, int key_version);

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
