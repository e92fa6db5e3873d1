/*
 * apikey.c - key generation and hashing with libsodium. See apikey.h.
 */
#include "core/apikey.h"

#include <sodium.h>
#include <string.h>

err_code apikey_init(err_t *err)
{
    if (sodium_init() < 0)
        return err_set(err, ERR_INTERNAL, "libsodium could not be initialised");
    return ERR_OK;
}

void apikey_generate(char out[APIKEY_TEXT_LEN])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    size_t plen = strlen(APIKEY_PREFIX);
    memcpy(out, APIKEY_PREFIX, plen);
    sodium_bin2base64(out + plen, APIKEY_TEXT_LEN - plen, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

bool apikey_hash(const char *key, unsigned char hash[APIKEY_HASH_LEN])
{
    size_t n = strlen(key);
    if (n != APIKEY_TEXT_LEN - 1 || strncmp(key, APIKEY_PREFIX, strlen(APIKEY_PREFIX)) != 0)
        return false;
    crypto_generichash(hash, APIKEY_HASH_LEN, (const unsigned char *)key, n, NULL, 0);
    return true;
}

void apikey_random_token(char out[33])
{
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, 33, raw, sizeof raw);
}
