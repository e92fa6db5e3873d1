/*
 * apikey.h - API keys for Open311 writes. A key is shown once, when it is
 * made; the store keeps only its hash. Keys are 256 random bits, so a fast
 * keyed-free hash (BLAKE2b) is enough: there is nothing to brute-force.
 */
#ifndef CIVIC_APIKEY_H
#define CIVIC_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define APIKEY_HASH_LEN 32
#define APIKEY_PREFIX "c311_"
/* "c311_" + 43 characters of base64url (32 bytes) + NUL */
#define APIKEY_TEXT_LEN 49

/* Must be called once before any other function (it initialises
 * libsodium, which picks its implementations and seeds its RNG). */
err_code apikey_init(err_t *err);

/* A new random key as text (out holds APIKEY_TEXT_LEN bytes). */
void apikey_generate(char out[APIKEY_TEXT_LEN]);

/* Hashes key text. Returns false if the text cannot be a key of ours
 * (wrong prefix or length), so junk never reaches the store. */
bool apikey_hash(const char *key, unsigned char hash[APIKEY_HASH_LEN]);

/* Random URL-safe token text for batch requests: 32 lowercase hex
 * characters (out holds 33 bytes). */
void apikey_random_token(char out[33]);

#endif
