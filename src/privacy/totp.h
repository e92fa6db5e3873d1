/*
 * totp.h - one-time codes for the staff's second factor: HOTP (RFC 4226)
 * and TOTP (RFC 6238), the base32 of their secrets (RFC 4648) and the
 * otpauth:// URI authenticator apps enrol from.
 *
 * HMAC-SHA1 is the default because it is what authenticator apps
 * compute (most ignore the URI's algorithm parameter); SHA-256 and
 * SHA-512 are here for apps that honour it and for RFC 6238's vectors.
 * SHA-1's weaknesses are collisions, which HMAC does not rely on.
 *
 * Pure functions: no store, no clock (time is passed in), no logging.
 * A secret or a code never reaches an error message.
 */
#ifndef CIVIC_TOTP_H
#define CIVIC_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum { TOTP_SHA1 = 0, TOTP_SHA256, TOTP_SHA512 } totp_alg;

#define TOTP_SECRET_LEN 20 /* bytes: 160 bits, RFC 4226's recommended length */
#define TOTP_KEY_MAX 64    /* bytes of the longest key accepted (RFC 6238's SHA-512 one) */
#define TOTP_DIGITS 6
#define TOTP_PERIOD 30 /* seconds a code lasts */
#define TOTP_SKEW 1    /* steps accepted either side of now: a clock off by up to 30 s */
/* The base32 of a TOTP_SECRET_LEN-byte secret, without padding, with its 0. */
#define TOTP_SECRET_B32_MAX 33

/* RFC 4648 base32 (A-Z, 2-7) of len bytes into out (cap bytes with the
 * 0); with '=' padding when pad. false if cap is too small. */
bool totp_base32_encode(const unsigned char *in, size_t len, bool pad, char *out, size_t cap);
/* Decodes base32: letters in either case, '=' padding optional but, when
 * present, complete and only at the end; no other character. *len gets
 * the byte count. false on anything else or if more than cap bytes. */
bool totp_base32_decode(const char *in, unsigned char *out, size_t cap, size_t *len);

/* The HOTP value of counter under key: digits (6-8) decimal digits, as a
 * number. false only for a key over TOTP_KEY_MAX or digits out of range. */
bool totp_hotp(totp_alg alg, const unsigned char *key, size_t keylen, uint64_t counter,
               int digits, uint32_t *code);

/* The time step of a Unix time: floor(t / TOTP_PERIOD) (0 for t < 0). */
int64_t totp_step(int64_t t);

/*
 * Checks a code typed by a person (exactly TOTP_DIGITS digits; nothing
 * else is accepted) against the steps of now +- TOTP_SKEW, SHA-1. Only
 * steps after last_step count (0: none used yet), so a code once accepted
 * is refused ever after, and so is any earlier one. true with *step the
 * step it matched. Every candidate step is computed and compared in
 * constant time.
 */
bool totp_verify(const unsigned char *key, size_t keylen, const char *code, int64_t now,
                 int64_t last_step, int64_t *step);

/* The enrolment URI: otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=
 * ISSUER&algorithm=SHA1&digits=6&period=30, issuer and account
 * percent-encoded. */
void totp_uri(buf_t *out, const char *issuer, const char *account, const char *secret_b32);

#endif
