/*
 * account.h - residents' accounts (P7, P9): what an account is, and every
 * change to one, with no HTTP in sight (src/web/web_account.c is the
 * website's side).
 *
 * An account is a person the privacy engine knows: a subject of kind
 * "account" with its own data key (vault.h). Its email and display name
 * are one record sealed under that key, bound to the account's row; the
 * email is also kept as a keyed BLAKE2b digest of its normalised form, so
 * signing in finds the account without opening anything, and one email
 * has one account. The password is kept only as an Argon2id string.
 * Requests filed while signed in are sealed under the same subject, which
 * is how "my requests" finds them (store_subject_requests).
 *
 * Reading the account's record back goes through the gatekeeper
 * (gate_read_account), like every read of personal data.
 *
 * The functions that take a store_t work in the caller's transaction (the
 * website's group-commit writer) and write the audit entries of what they
 * do there. The password functions are slow on purpose (about 0.1 s and
 * 64 MiB each): call them outside the writer, never inside a transaction.
 * Time is always passed in (`now`), so tests drive the clock.
 */
#ifndef CIVIC_ACCOUNT_H
#define CIVIC_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "privacy/keyring.h"
#include "privacy/retention.h"
#include "privacy/seal.h"
#include "store/store.h"
#include "util/err.h"
#include "util/pool.h"

/* ---- the rules ---- */

#define ACCOUNT_PASSWORD_MIN 10   /* characters: long beats clever (NIST SP 800-63B) */
#define ACCOUNT_PASSWORD_MAX 1024 /* bytes: enough for any passphrase, a bound on hashing input */
#define ACCOUNT_EMAIL_MAX 254     /* bytes: the longest address SMTP can deliver to */
#define ACCOUNT_NAME_MAX 100      /* characters of the optional display name */
#define ACCOUNT_HASH_MAX 128      /* crypto_pwhash_STRBYTES, with its 0 */

/* Failed sign-ins: after ACCOUNT_MAX_FAILURES within ACCOUNT_FAILURE_WINDOW
 * seconds, the account refuses every sign-in for ACCOUNT_LOCK_SECONDS,
 * right password or not. Counted in the store, so every node counts the
 * same attempts. */
#define ACCOUNT_MAX_FAILURES 5
#define ACCOUNT_FAILURE_WINDOW (15 * 60)
#define ACCOUNT_LOCK_SECONDS (15 * 60)

/* Sessions: a signed-in browser stays signed in while it is used at least
 * every ACCOUNT_SESSION_IDLE seconds (and its cookie, a session cookie,
 * lives); one that asked to be kept signed in gets a cookie and a session
 * of ACCOUNT_SESSION_KEEP seconds, not extended. last_seen is written at
 * most every ACCOUNT_SESSION_TOUCH seconds, so reading pages does not
 * cost a write each. */
#define ACCOUNT_SESSION_IDLE (12 * 3600)
#define ACCOUNT_SESSION_KEEP (30 * 86400)
#define ACCOUNT_SESSION_TOUCH (5 * 60)

/* "account:<id>": the actor of what an account does, in the audit log. */
#define ACCOUNT_ACTOR_MAX 32
const char *account_actor(int64_t account_id, char out[ACCOUNT_ACTOR_MAX]);

/* What is wrong with a form's values, if anything. */
typedef enum {
    ACCOUNT_INPUT_OK = 0,
    ACCOUNT_EMAIL_BAD,         /* not one address: one '@', text both sides, a dot after it */
    ACCOUNT_NAME_BAD,          /* too long, several lines, or control characters */
    ACCOUNT_PASSWORD_SHORT,    /* fewer than ACCOUNT_PASSWORD_MIN characters */
    ACCOUNT_PASSWORD_LONG,     /* more than ACCOUNT_PASSWORD_MAX bytes */
    ACCOUNT_PASSWORD_IS_EMAIL, /* the email itself, in any case */
    ACCOUNT_PASSWORD_NOT_TEXT  /* not UTF-8 */
} account_input;

account_input account_check_email(const char *email);
/* NULL or "" is fine: the name is optional. */
account_input account_check_name(const char *name);
account_input account_check_password(const char *password, const char *email);

/* ---- passwords (slow: outside the writer) ---- */

/* Argon2id (crypto_pwhash_str_alg) with libsodium's interactive limits.
 * ERR_NOMEM if the 64 MiB it needs cannot be had. */
err_code account_password_hash(const char *password, char out[ACCOUNT_HASH_MAX], err_t *err);
/* Whether password matches hash (crypto_pwhash_str_verify). */
bool account_password_verify(const char *hash, const char *password);
/* The same work as a verification that fails, for an email that has no
 * account: signing in takes as long whether the email exists or not. */
void account_password_dummy(const char *password);
/* Whether hash was made with other limits than today's. */
bool account_password_needs_rehash(const char *hash);

/* ---- finding an account ---- */

/* The blind index of an email: BLAKE2b-256 keyed by the key file's
 * blind-index key over the kind "account" and the normalised email (so it
 * never equals a request's "email" index). false if it does not
 * normalise. */
bool account_email_digest(const keyring_t *k, const char *email,
                          unsigned char out[STORE_DIGEST_LEN]);

/* The live account with this email (the row, no personal value: the
 * record stays sealed). ERR_NOT_FOUND if none or the email does not
 * normalise. A read: any connection. */
err_code account_find(store_t *s, const keyring_t *k, const char *email, pool_t *pool,
                      store_account *out, err_t *err);

/* Whether the account refuses sign-ins at now. */
bool account_locked(const store_account *a, int64_t now);

/* ---- writes, in the caller's transaction ---- */

/* A new account: a subject of kind "account", the row with the email's
 * digest and the password hash, the record (email and, if given, display
 * name) sealed under the subject's key, and one COLLECT audit entry naming
 * the fields. ERR_CONFLICT if the email has an account already (the
 * message does not say which email); ERR_INVALID for inputs that
 * account_check_* refuse. */
err_code account_create(store_t *s, const keyring_t *k, const char *email, const char *display_name,
                        const char *password_hash, int64_t now, int64_t *account_id,
                        int64_t *subject_id, err_t *err);

/*
 * Records a sign-in attempt whose password was checked outside the writer
 * (password_ok), and decides: *accepted is true only for a live account
 * that is not locked at now and a right password. A wrong password counts
 * a failure, and the ACCOUNT_MAX_FAILURES-th within the window locks the
 * account. A right one clears the count, and stores new_hash (a rehash
 * under today's limits) when not NULL. An attempt on a locked account
 * changes nothing. ERR_NOT_FOUND only for an account that never existed.
 */
err_code account_attempt(store_t *s, int64_t account_id, bool password_ok, const char *new_hash,
                         int64_t now, bool *accepted, err_t *err);

/* The hash a session is stored under: BLAKE2b-256 of the session id (the
 * cookie's value), never the id itself. */
void account_session_hash(const char *sid, unsigned char out[STORE_DIGEST_LEN]);

/* Starts a session for a signed-in account under this id hash: 12 hours
 * idle, or 30 days when persistent. *expires_at gets its end. Also
 * deletes a few sessions that have expired, so the table does not grow
 * with abandoned ones. */
err_code account_session_start(store_t *s, int64_t account_id,
                               const unsigned char id_hash[STORE_DIGEST_LEN], bool persistent,
                               int64_t now, int64_t *expires_at, err_t *err);

/* The live session under this id hash, or ERR_NOT_FOUND (expired, signed
 * out, account deleted). *touch is set when last_seen is old enough to
 * be written again (account_session_touch). A read: any connection. */
err_code account_session_find(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                              int64_t now, store_web_session *out, bool *touch, err_t *err);

/* Moves a session's last_seen to now and, unless it is persistent, its
 * end to now + ACCOUNT_SESSION_IDLE. A session gone meanwhile is no
 * error. */
err_code account_session_touch(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                               int64_t now, err_t *err);

/* Signs out: deletes the session (none is no error). */
err_code account_session_end(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN], err_t *err);

/* Removes the personal data of one of the account's own requests, every
 * class (contact details, the account link, device id, photos): the
 * request stays, anonymous, and no longer the account's. Through the
 * retention engine's erasure, with its ERASE receipt naming the account
 * as actor. ERR_NOT_FOUND if the request holds no personal data of this
 * account (someone else's look the same as none); ERR_CONFLICT under a
 * legal hold. */
err_code account_remove_request(store_t *s, int64_t account_id, int64_t request_id, int64_t now,
                                retention_report *rep, err_t *err);

/* What deleting an account did. */
typedef struct {
    int64_t requests; /* own requests whose personal data was erased */
    int64_t held;     /* own requests kept under a legal hold (erased when due after it) */
    bool shredded;    /* the account's data key was destroyed */
} account_deletion;

/*
 * Deletes the account, as its owner asked: erases the personal data of
 * every one of its requests (retention_erase_request; one under a legal
 * hold is left for the retention schedule once the hold ends), deletes
 * its sessions, turns the row into a tombstone (no email, digest,
 * password or record), shreds the data key once nothing else is sealed
 * under it, and writes an ERASE receipt. ERR_CONFLICT, with nothing
 * done, if a legal hold is on the account itself; ERR_NOT_FOUND if it is
 * not a live account.
 */
err_code account_delete(store_t *s, int64_t account_id, int64_t now, account_deletion *out,
                        err_t *err);

/* ---- the sealed record (shared with gate.c, which opens it) ---- */

/* The associated data of an account's record:
 * "account|sealed|a=<id>|s=<subject>|k=<key version>", so a record copied
 * to another account's row does not open there. */
void account_seal_ad(char out[SEAL_AD_MAX], int64_t account_id, int64_t subject_id,
                     int key_version);

/* Opens an account's sealed record with its subject's data key: its email
 * and display name (NULL if none), strings from pool. ERR_INTERNAL if the
 * record does not open or is not an account's record. */
err_code account_record_open(const unsigned char key[SEAL_KEY_LEN], const store_account *a,
                             pool_t *pool, const char **email, const char **display_name,
                             err_t *err);

#endif
