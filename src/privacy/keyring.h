/*
 * keyring.h - the key file: every secret of the privacy engine, kept out
 * of the database (P8).
 *
 * One text file, mode 0600, in a 0700 directory, holding:
 *   - the key-encryption keys (KEKs), by version. The highest is current:
 *     new data keys are wrapped under it. Older ones exist only while a
 *     rotation is under way (keys rotate re-wraps every data key, then
 *     drops them), so a wrapped key copied into an old backup or WAL
 *     cannot be opened once the rotation is done (P6).
 *   - the blind-index key (keyed BLAKE2b for email/phone lookups);
 *   - the audit log's Ed25519 signing key.
 *
 * Secrets live in sodium_malloc'd memory (guard pages, locked, zeroed on
 * free) and never reach a log or an error message. Every write of the
 * file goes to a temporary file, fsync, rename, fsync of the directory:
 * a crash leaves the old file or the new one, never half of either.
 */
#ifndef CIVIC_KEYRING_H
#define CIVIC_KEYRING_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define KEYRING_KEY_LEN 32     /* a KEK, the blind-index key */
#define KEYRING_SIGN_PK_LEN 32 /* crypto_sign_PUBLICKEYBYTES */
#define KEYRING_SIGN_SK_LEN 64 /* crypto_sign_SECRETKEYBYTES */
#define KEYRING_MAX_KEKS 8

typedef struct keyring keyring_t;

/* Creates a new key file at path with KEK version 1, a blind-index key and
 * a signing key. Fails (ERR_CONFLICT) if path exists; the directory must
 * exist and is not created here. */
err_code keyring_create(const char *path, err_t *err);

/* Loads the key file. Refuses a file that others than its owner may read
 * or write, or that is malformed, naming the line but never a secret. */
err_code keyring_load(const char *path, keyring_t **out, err_t *err);
void keyring_free(keyring_t *k); /* zeroes; NULL is fine */

const char *keyring_path(const keyring_t *k);

/* The current KEK version (the highest). */
int keyring_kek_current(const keyring_t *k);
/* The KEK of this version, or NULL if the file no longer holds it
 * (destroyed by a rotation) or never did. */
const unsigned char *keyring_kek_borrow(const keyring_t *k, int version);
/* Every KEK version held, ascending; returns how many (<= max). */
size_t keyring_kek_versions(const keyring_t *k, int *versions, size_t max);

const unsigned char *keyring_blind_key_borrow(const keyring_t *k);
const unsigned char *keyring_sign_sk_borrow(const keyring_t *k);
void keyring_sign_pk(const keyring_t *k, unsigned char out[KEYRING_SIGN_PK_LEN]);

/* Rotation, step 1: adds KEK version current+1 and rewrites the file, so
 * the new key is on disk before any data key is wrapped under it. Sets
 * *version to the new version. ERR_TOO_LARGE at KEYRING_MAX_KEKS. */
err_code keyring_add_kek(keyring_t *k, int *version, err_t *err);

/* Rotation, last step: removes every KEK but the current one and rewrites
 * the file. The caller must first have re-wrapped every data key. */
err_code keyring_drop_old_keks(keyring_t *k, err_t *err);

#endif
