/*
 * staff.h - the city's staff as the console knows them (P3, W3): who
 * they are (a login, one role, their agencies), how they sign in (an
 * Argon2id password, then a TOTP code), their console sessions, and the
 * administrator's changes. No HTTP and no SQL here (src/web/console.c is
 * the website's side, src/cli/cmd_staff.c the command line's).
 *
 * Roles are the gatekeeper's staff roles (gate.h): agent, agency_staff,
 * supervisor, privacy_officer, records_officer, admin. What a member may
 * read of residents' data is the gatekeeper's decision, made on the
 * gate_actor staff_gate_actor fills ("staff:N", role, agencies).
 *
 * The TOTP secret is sealed (XChaCha20-Poly1305, seal.h) under a key
 * derived from the key file's blind-index key with crypto_kdf, bound to
 * the member's row. Not under a KEK: `keys rotate` drops old KEKs once
 * the data keys are re-wrapped, and a secret sealed under one would be
 * lost with it; the blind-index key is never rotated (rotating it would
 * orphan every blind index), so secrets live as long as the key file.
 *
 * The password rules, Argon2id and the failed sign-in limit are the
 * residents' (account.h): the same functions and numbers, counted in the
 * store so every node agrees. Every sign-in step and every administrative
 * change writes one audit entry (AUDIT_SIGN_IN, AUDIT_STAFF) in the
 * caller's transaction; none holds a password, a code or a secret.
 * Time is always passed in.
 */
#ifndef CIVIC_STAFF_H
#define CIVIC_STAFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "privacy/gate.h"
#include "privacy/keyring.h"
#include "privacy/totp.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/pool.h"

#define STAFF_LOGIN_MIN 2
#define STAFF_LOGIN_MAX STORE_STAFF_LOGIN_MAX /* 32 bytes */
#define STAFF_AGENCY_MAX 32                   /* bytes of an agency code */
#define STAFF_AGENCIES_MAX 16                 /* agencies of one member */

/* Sessions: STAFF_HALF_SECONDS between the password and the code; then
 * idle_seconds idle (config staff_idle_minutes, default 15 minutes) and
 * STAFF_SESSION_MAX in all, however busy. last_seen is written at most
 * every STAFF_SESSION_TOUCH seconds. */
#define STAFF_HALF_SECONDS (5 * 60)
#define STAFF_IDLE_DEFAULT (15 * 60)
#define STAFF_SESSION_MAX (12 * 3600)
#define STAFF_SESSION_TOUCH 30

/* "staff:<id>": the actor of what a member does, in the audit log. */
#define STAFF_ACTOR_MAX 32
const char *staff_actor(int64_t staff_id, char out[STAFF_ACTOR_MAX]);

/* A staff role: any gate role but the resident's. */
bool staff_role_ok(gate_role r);
/* A login: 2-32 bytes of a-z, 0-9, '.', '_', '-', starting with a letter
 * (a work handle, never an email: no '@'). */
bool staff_login_ok(const char *login);
/* An agency code: 1-32 bytes of A-Z, a-z, 0-9, '_', '-'. */
bool staff_agency_ok(const char *code);
/* Whether the role works for agencies (agency_staff, supervisor): those
 * need at least one; the others have none. */
bool staff_role_has_agencies(gate_role r);

/* ---- TOTP secrets ---- */

typedef struct {
    unsigned char raw[TOTP_SECRET_LEN];
    char b32[TOTP_SECRET_B32_MAX]; /* what a person types into an app */
} staff_secret;

/* A fresh random secret. Clear it (staff_secret_clear) once shown. */
void staff_secret_new(staff_secret *s);
void staff_secret_clear(staff_secret *s);
/* The enrolment URI of login's secret (issuer "Civic311"). */
void staff_enrol_uri(buf_t *out, const char *login, const staff_secret *s);

/* ---- who is signed in ---- */

typedef struct {
    int64_t id;
    const char *login;
    gate_role role;
    const char *const *agencies;
    size_t nagencies;
    bool disabled;
} staff_member;

/* A member by id, with agencies; strings from pool. ERR_NOT_FOUND if
 * none; ERR_INTERNAL if the stored role is not a staff role. */
err_code staff_load(store_t *s, int64_t id, pool_t *pool, staff_member *out, err_t *err);

/* The gatekeeper's actor for m: role, agencies, and actor "staff:N"
 * written into actor_buf (which must outlive out). */
void staff_gate_actor(const staff_member *m, char actor_buf[STAFF_ACTOR_MAX], gate_actor *out);

/* ---- administration (the caller's transaction; actor "staff:N" or
 * "cli:NAME") ---- */

/*
 * Adds a member: login, role, agencies (required for agency roles,
 * refused for others), an Argon2id string made by
 * account_password_hash, and the secret sealed to the new row. One
 * AUDIT_STAFF entry. ERR_INVALID for a bad login, role or agency;
 * ERR_CONFLICT for a login taken.
 */
err_code staff_create(store_t *s, const keyring_t *k, const char *login, gate_role role,
                      const char *const *agencies, size_t nagencies, const char *password_hash,
                      const staff_secret *secret, const char *actor, int64_t now,
                      int64_t *staff_id, err_t *err);
/* Disables (every session ends) or enables a member. */
err_code staff_set_disabled(store_t *s, int64_t staff_id, bool disabled, const char *actor,
                            int64_t now, err_t *err);
/* A new password (lock cleared, sessions ended). */
err_code staff_reset_password(store_t *s, int64_t staff_id, const char *password_hash,
                              const char *actor, int64_t now, err_t *err);
/* A new TOTP secret (sessions ended): the member enrols again. */
err_code staff_reset_totp(store_t *s, const keyring_t *k, int64_t staff_id,
                          const staff_secret *secret, const char *actor, int64_t now, err_t *err);

/* ---- signing in (the writer's transaction) ---- */

typedef enum {
    STAFF_SIGNIN_OK = 0,
    STAFF_SIGNIN_WRONG,    /* the password or the code is not right */
    STAFF_SIGNIN_REPLAYED, /* a code already used (or an older one) */
    STAFF_SIGNIN_LOCKED,   /* too many failures: paused */
    STAFF_SIGNIN_DISABLED,
    STAFF_SIGNIN_UNKNOWN /* no such login */
} staff_outcome;

bool staff_locked(const store_staff *m, int64_t now);

/*
 * Records the password step, checked outside the writer (password_ok;
 * staff_id 0 for an unknown login), on the member's row as the writer
 * reads it: a wrong password counts a failure (the 5th within 15 minutes
 * locks for 15); a locked or disabled member is refused whatever the
 * password. One AUDIT_SIGN_IN entry, except for a right password (the
 * code step writes the sign-in's entry).
 */
err_code staff_password_attempt(store_t *s, int64_t staff_id, bool password_ok, int64_t now,
                                staff_outcome *out, err_t *err);
/*
 * The code step: opens the member's secret, checks code (totp_verify:
 * +-1 step, only steps after the last one used), and records the step, so
 * no code is accepted twice. A wrong or replayed code counts a failure as
 * a wrong password does. One AUDIT_SIGN_IN entry.
 */
err_code staff_code_attempt(store_t *s, const keyring_t *k, int64_t staff_id, const char *code,
                            int64_t now, staff_outcome *out, err_t *err);

/* ---- sessions (writes in the caller's transaction) ---- */

/* BLAKE2b-256 of the cookie's session id (account_session_hash). */
void staff_session_hash(const char *sid, unsigned char out[STORE_DIGEST_LEN]);
/* Starts a session: half-signed-in (second_factor false, STAFF_HALF_SECONDS)
 * or signed in (idle_seconds, capped at STAFF_SESSION_MAX from now).
 * Deletes a few expired sessions on the way. */
err_code staff_session_start(store_t *s, int64_t staff_id,
                             const unsigned char id_hash[STORE_DIGEST_LEN], bool second_factor,
                             int64_t idle_seconds, int64_t now, err_t *err);
/* The live session (a read); *touch when last_seen should be moved. */
err_code staff_session_find(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN], int64_t now,
                            store_staff_session *out, bool *touch, err_t *err);
/* Moves last_seen to now and the end to now + idle_seconds, never past
 * STAFF_SESSION_MAX after the sign-in. A session gone is no error. */
err_code staff_session_touch(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                             int64_t idle_seconds, int64_t now, err_t *err);
err_code staff_session_end(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN], err_t *err);

#endif
