/*
 * account.c - residents' accounts (see account.h): the input rules,
 * Argon2id passwords, the email's blind index, the failed sign-in limit,
 * sessions, and the account's own erasures (one request's details, the
 * whole account), each with its audit entry in the caller's transaction.
 *
 * Never logs and never puts in an error message an email, a name, a
 * password or its hash, or a session id: messages name fields and ids.
 * The record's plaintext and data keys are zeroed before they are let go.
 */
#include "privacy/account.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/intake.h"
#include "privacy/audit.h"
#include "privacy/vault.h"
#include "util/buf.h"
#include "util/utf8.h"

/* What an account's record holds, in this order: the email always, the
 * display name when given. */
#define FIELD_EMAIL "email"
#define FIELD_NAME "display_name"

/* The blind index kind of account emails: not "email", so an account's
 * digest never matches a request's (blind_index) and the other way. */
#define ACCOUNT_DIGEST_KIND "account"

/* A normalised email's room (seal_normalize_email), with its 0. */
#define NORM_MAX (ACCOUNT_EMAIL_MAX + 1)

/* The most requests an account's deletion erases in one go: far more than
 * a resident files, and a bound on one writer transaction. */
#define DELETE_MAX_REQUESTS 10000

const char *account_actor(int64_t account_id, char out[ACCOUNT_ACTOR_MAX])
{
    snprintf(out, ACCOUNT_ACTOR_MAX, "account:%" PRId64, account_id);
    return out;
}

/* ---- the rules ---- */

static bool has_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* The rule intake applies to a request's email (core/intake.c), plus a
 * length SMTP can deliver to and strict UTF-8: an address we could write
 * to, which is all an account's email has to be. */
account_input account_check_email(const char *email)
{
    if (email == NULL)
        return ACCOUNT_EMAIL_BAD;
    size_t len = strlen(email);
    if (len == 0 || len > ACCOUNT_EMAIL_MAX || !utf8_valid(email, len) || has_controls(email) ||
        !intake_email_ok(email)) /* the same shape as on a request */
        return ACCOUNT_EMAIL_BAD;
    return ACCOUNT_INPUT_OK;
}

account_input account_check_name(const char *name)
{
    if (name == NULL || *name == '\0')
        return ACCOUNT_INPUT_OK;
    size_t len = strlen(name);
    if (!utf8_valid(name, len) || has_controls(name) || utf8_length(name, len) > ACCOUNT_NAME_MAX)
        return ACCOUNT_NAME_BAD;
    return ACCOUNT_INPUT_OK;
}

/* Length in characters, a maximum in bytes (the bound on what is hashed),
 * and not the email: the checks NIST SP 800-63B asks for that need no
 * list of leaked passwords. Any character is allowed, spaces too. */
account_input account_check_password(const char *password, const char *email)
{
    if (password == NULL)
        return ACCOUNT_PASSWORD_SHORT;
    size_t len = strlen(password);
    if (len > ACCOUNT_PASSWORD_MAX)
        return ACCOUNT_PASSWORD_LONG;
    if (!utf8_valid(password, len))
        return ACCOUNT_PASSWORD_NOT_TEXT;
    if (utf8_length(password, len) < ACCOUNT_PASSWORD_MIN)
        return ACCOUNT_PASSWORD_SHORT;
    /* The email in another case or with spaces around it is the email. */
    char a[NORM_MAX], b[NORM_MAX];
    bool same = email != NULL && seal_normalize_email(password, a, sizeof a) &&
                seal_normalize_email(email, b, sizeof b) && strcmp(a, b) == 0;
    sodium_memzero(a, sizeof a);
    sodium_memzero(b, sizeof b);
    return same ? ACCOUNT_PASSWORD_IS_EMAIL : ACCOUNT_INPUT_OK;
}

/* ---- passwords ----
 *
 * Argon2id with libsodium's "interactive" limits (2 passes over 64 MiB,
 * about 0.1-0.2 s on one core here). Why those and not "moderate" (256
 * MiB) or "sensitive" (1 GiB): a sign-in is a person waiting for a page,
 * and the server is meant for small machines (Q3): four sign-ins at once
 * at 256 MiB each would take a gigabyte. What guards the password online
 * is the failed sign-in limit, not the hash's cost; the cost is what
 * slows an offline attack on a stolen database, and 64 MiB per guess
 * already takes a GPU's memory bandwidth, not its cores. Raising the
 * limits later needs no migration: the string names its parameters, and
 * a sign-in rehashes (account_password_needs_rehash). */
#define PW_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PW_MEM crypto_pwhash_MEMLIMIT_INTERACTIVE

_Static_assert(crypto_pwhash_STRBYTES <= ACCOUNT_HASH_MAX, "ACCOUNT_HASH_MAX is too small");

err_code account_password_hash(const char *password, char out[ACCOUNT_HASH_MAX], err_t *err)
{
    size_t len = password != NULL ? strlen(password) : 0;
    if (password == NULL || len > ACCOUNT_PASSWORD_MAX)
        return err_set(err, ERR_INVALID, "a password of at most %d bytes is needed",
                       ACCOUNT_PASSWORD_MAX);
    /* The algorithm named, not crypto_pwhash_str's default: a libsodium
     * that changed its default must not change what we store. */
    if (crypto_pwhash_str_alg(out, password, len, PW_OPS, PW_MEM, crypto_pwhash_ALG_ARGON2ID13) !=
        0)
        return err_set(err, ERR_NOMEM, "out of memory for hashing a password");
    return ERR_OK;
}

static bool hash_string_ok(const char *hash)
{
    return hash != NULL && strnlen(hash, ACCOUNT_HASH_MAX) < ACCOUNT_HASH_MAX;
}

/* libsodium takes the string as an array of crypto_pwhash_STRBYTES: a
 * string from the store (or DUMMY_HASH) is copied into one, 0-padded, so
 * nothing past its end is ever read. */
static bool hash_copy(const char *hash, char out[ACCOUNT_HASH_MAX])
{
    memset(out, 0, ACCOUNT_HASH_MAX);
    if (!hash_string_ok(hash))
        return false;
    memcpy(out, hash, strlen(hash));
    return true;
}

bool account_password_verify(const char *hash, const char *password)
{
    char h[ACCOUNT_HASH_MAX];
    if (!hash_copy(hash, h) || password == NULL || strlen(password) > ACCOUNT_PASSWORD_MAX)
        return false;
    return crypto_pwhash_str_verify(h, password, strlen(password)) == 0;
}

/* An Argon2id string with today's limits, of a random password nobody
 * knows (made once with crypto_pwhash_str_alg): verifying against it
 * costs what verifying a real account's does. */
static const char DUMMY_HASH[] = "$argon2id$v=19$m=65536,t=2,p=1$gyDVtHGYH53c+BkGwrxO2w$KJhwv/O/"
                                 "rCXRUg6mtMh/uvuu4nQupFnkNhllyMQG1cY";

void account_password_dummy(const char *password)
{
    (void)account_password_verify(DUMMY_HASH, password != NULL ? password : "");
}

bool account_password_needs_rehash(const char *hash)
{
    char h[ACCOUNT_HASH_MAX];
    if (!hash_copy(hash, h))
        return true;
    return crypto_pwhash_str_needs_rehash(h, PW_OPS, PW_MEM) != 0;
}

/* ---- finding an account ---- */

bool account_email_digest(const keyring_t *k, const char *email,
                          unsigned char out[STORE_DIGEST_LEN])
{
    char norm[NORM_MAX];
    if (!seal_normalize_email(email, norm, sizeof norm))
        return false;
    seal_blind_digest(keyring_blind_key_borrow(k), ACCOUNT_DIGEST_KIND, norm, out);
    sodium_memzero(norm, sizeof norm);
    return true;
}

err_code account_find(store_t *s, const keyring_t *k, const char *email, pool_t *pool,
                      store_account *out, err_t *err)
{
    unsigned char digest[STORE_DIGEST_LEN];
    if (!account_email_digest(k, email, digest))
        return err_set(err, ERR_NOT_FOUND, "no such account");
    return store_account_find(s, digest, pool, out, err);
}

bool account_locked(const store_account *a, int64_t now)
{
    return a->locked_until != 0 && a->locked_until > now;
}

/* ---- the sealed record ---- */

void account_seal_ad(char out[SEAL_AD_MAX], int64_t account_id, int64_t subject_id, int key_version)
{
    int n = snprintf(out, SEAL_AD_MAX, "account|sealed|a=%" PRId64 "|s=%" PRId64 "|k=%d",
                     account_id, subject_id, key_version);
    if (n < 0 || n >= SEAL_AD_MAX)
        abort(); /* three numbers cannot overflow 128 bytes: a broken build */
}

err_code account_record_open(const unsigned char key[SEAL_KEY_LEN], const store_account *a,
                             pool_t *pool, const char **email, const char **display_name,
                             err_t *err)
{
    *email = *display_name = NULL;
    if (a->sealed == NULL || a->sealed_len < SEAL_OVERHEAD)
        return err_set(err, ERR_INTERNAL, "account %" PRId64 " holds no sealed record", a->id);
    unsigned char *plain = pool_alloc(pool, a->sealed_len - SEAL_OVERHEAD + 1);
    if (plain == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    char ad[SEAL_AD_MAX];
    account_seal_ad(ad, a->id, a->subject_id, a->key_version);
    size_t len = 0;
    if (!seal_decrypt(key, ad, a->sealed, a->sealed_len, plain, &len))
        return err_set(err, ERR_INTERNAL,
                       "the sealed record of account %" PRId64 " does not open: it was altered "
                       "or moved",
                       a->id);
    seal_pair pairs[2];
    size_t n = 0;
    bool ok = seal_record_decode(plain, len, pairs, 2, &n) && n >= 1 &&
              strcmp(pairs[0].name, FIELD_EMAIL) == 0 &&
              (n == 1 || strcmp(pairs[1].name, FIELD_NAME) == 0);
    if (!ok) {
        sodium_memzero(plain, len);
        return err_set(err, ERR_INTERNAL,
                       "the sealed record of account %" PRId64 " is not an account's record",
                       a->id);
    }
    *email = pairs[0].value;
    *display_name = n == 2 ? pairs[1].value : NULL;
    return ERR_OK;
}

/* Seals the record of account a (email, and the name if given) under
 * the subject's key and stores it in the row. */
static err_code seal_record(store_t *s, const store_account *a,
                            const unsigned char key[SEAL_KEY_LEN], const char *email,
                            const char *display_name, err_t *err)
{
    seal_pair pairs[2] = {{FIELD_EMAIL, email}, {FIELD_NAME, display_name}};
    size_t n = display_name != NULL ? 2 : 1;
    size_t len = seal_record_size(pairs, n);
    if (len == 0) /* constant names, C strings: a bug */
        return err_set(err, ERR_INTERNAL, "an account's fields do not make a record");
    unsigned char *plain = NULL, *sealed = NULL;
    err_code rc = ERR_OK;
    if (len > SIZE_MAX - SEAL_OVERHEAD || (plain = malloc(len)) == NULL ||
        (sealed = malloc(len + SEAL_OVERHEAD)) == NULL)
        rc = err_set(err, ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        char ad[SEAL_AD_MAX];
        account_seal_ad(ad, a->id, a->subject_id, a->key_version);
        seal_record_encode(pairs, n, plain);
        seal_encrypt(key, ad, plain, len, sealed);
        rc = store_account_set_sealed(s, a->id, sealed, len + SEAL_OVERHEAD, err);
    }
    if (plain != NULL)
        sodium_memzero(plain, len);
    free(plain);
    free(sealed);
    return rc;
}

/* ---- writes ---- */

err_code account_create(store_t *s, const keyring_t *k, const char *email, const char *display_name,
                        const char *password_hash, int64_t now, int64_t *account_id,
                        int64_t *subject_id, err_t *err)
{
    if (account_check_email(email) != ACCOUNT_INPUT_OK)
        return err_set(err, ERR_INVALID, "email is not an email address");
    if (account_check_name(display_name) != ACCOUNT_INPUT_OK)
        return err_set(err, ERR_INVALID, "display_name is too long or not one line of text");
    if (!hash_string_ok(password_hash) || strncmp(password_hash, "$argon2id$", 10) != 0)
        return err_set(err, ERR_INVALID, "password_hash is not an Argon2id string");
    if (display_name != NULL && *display_name == '\0')
        display_name = NULL;
    unsigned char digest[STORE_DIGEST_LEN];
    if (!account_email_digest(k, email, digest))
        return err_set(err, ERR_INVALID, "email is not an email address");

    /* Asked first so that a taken email costs no subject; the UNIQUE
     * index still decides between two registrations at once. */
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_account existing;
    err_code rc = store_account_find(s, digest, pool, &existing, err);
    pool_free(pool);
    if (rc == ERR_OK)
        return err_set(err, ERR_CONFLICT, "an account with this email exists");
    if (rc != ERR_NOT_FOUND)
        return rc;

    store_account a = {.password_hash = password_hash, .created_at = now};
    unsigned char key[SEAL_KEY_LEN];
    bool have_key = false;
    rc = vault_subject_new(s, k, "account", now, &a.subject_id, err);
    if (rc == ERR_OK)
        have_key = (rc = vault_subject_key(s, k, a.subject_id, key, &a.key_version, err)) == ERR_OK;
    if (rc == ERR_OK)
        rc = store_account_insert(s, &a, digest, err);
    if (rc == ERR_OK)
        rc = seal_record(s, &a, key, email, display_name, err);
    if (have_key)
        sodium_memzero(key, sizeof key);
    if (rc == ERR_OK) {
        char actor[ACCOUNT_ACTOR_MAX];
        audit_entry e = audit_entry_init(now, AUDIT_COLLECT, account_actor(a.id, actor));
        e.purpose = "address_request";
        e.subject_id = a.subject_id;
        e.fields = display_name != NULL ? FIELD_EMAIL "," FIELD_NAME : FIELD_EMAIL;
        rc = audit_append(s, &e, NULL, err);
    }
    if (rc == ERR_OK) {
        if (account_id != NULL)
            *account_id = a.id;
        if (subject_id != NULL)
            *subject_id = a.subject_id;
    }
    return rc;
}

err_code account_attempt(store_t *s, int64_t account_id, bool password_ok, const char *new_hash,
                         int64_t now, bool *accepted, err_t *err)
{
    *accepted = false;
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_account a;
    err_code rc = store_account_get(s, account_id, pool, &a, err);
    /* The lock is read again here, in the writer's transaction: a check
     * made outside it may be older than another node's last failure. */
    bool live = rc == ERR_OK && a.deleted_at == 0;
    if (!live || account_locked(&a, now)) {
        pool_free(pool);
        return rc;
    }
    if (!password_ok) {
        int64_t count = 0;
        rc = store_account_failed(s, account_id, now, ACCOUNT_FAILURE_WINDOW, &count, err);
        if (rc == ERR_OK && count >= ACCOUNT_MAX_FAILURES)
            rc = store_account_set_lock(s, account_id, now + ACCOUNT_LOCK_SECONDS, err);
    } else {
        if (a.failed_count != 0 || a.locked_until != 0)
            rc = store_account_set_lock(s, account_id, 0, err);
        if (rc == ERR_OK && new_hash != NULL)
            rc = store_account_set_password(s, account_id, new_hash, err);
        if (rc == ERR_OK)
            *accepted = true;
    }
    pool_free(pool);
    return rc;
}

void account_session_hash(const char *sid, unsigned char out[STORE_DIGEST_LEN])
{
    crypto_generichash(out, STORE_DIGEST_LEN, (const unsigned char *)sid, strlen(sid), NULL, 0);
}

/* Sessions deleted in passing by each sign-in: more than sign-ins leave
 * behind, so the table stays the size of the live sessions. */
#define SESSION_PURGE_BATCH 16

err_code account_session_start(store_t *s, int64_t account_id,
                               const unsigned char id_hash[STORE_DIGEST_LEN], bool persistent,
                               int64_t now, int64_t *expires_at, err_t *err)
{
    store_web_session ws = {
        .account_id = account_id,
        .created_at = now,
        .last_seen = now,
        .expires_at = now + (persistent ? ACCOUNT_SESSION_KEEP : ACCOUNT_SESSION_IDLE),
        .persistent = persistent,
    };
    err_code rc = store_session_purge(s, now, SESSION_PURGE_BATCH, NULL, err);
    if (rc == ERR_OK)
        rc = store_session_insert(s, id_hash, &ws, err);
    if (rc == ERR_OK && expires_at != NULL)
        *expires_at = ws.expires_at;
    return rc;
}

err_code account_session_find(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                              int64_t now, store_web_session *out, bool *touch, err_t *err)
{
    *touch = false;
    err_code rc = store_session_get(s, id_hash, now, out, err);
    if (rc == ERR_OK)
        *touch = now - out->last_seen >= ACCOUNT_SESSION_TOUCH;
    return rc;
}

err_code account_session_touch(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                               int64_t now, err_t *err)
{
    store_web_session ws;
    err_code rc = store_session_get(s, id_hash, now, &ws, err);
    if (rc == ERR_NOT_FOUND)
        return ERR_OK; /* signed out or expired meanwhile */
    if (rc != ERR_OK)
        return rc;
    int64_t until = ws.persistent ? ws.expires_at : now + ACCOUNT_SESSION_IDLE;
    return store_session_touch(s, id_hash, now, until, err);
}

err_code account_session_end(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN], err_t *err)
{
    return store_session_delete(s, id_hash, NULL, err);
}

/* The live account's row, or ERR_NOT_FOUND. */
static err_code live_account(store_t *s, int64_t account_id, pool_t *pool, store_account *a,
                             err_t *err)
{
    err_code rc = store_account_get(s, account_id, pool, a, err);
    if (rc == ERR_OK && a->deleted_at != 0)
        rc = err_set(err, ERR_NOT_FOUND, "no such account");
    return rc;
}

/* Whether any personal record or file of the request is sealed under
 * subject_id. */
static err_code owns_request(store_t *s, int64_t subject_id, int64_t request_id, pool_t *pool,
                             bool *owns, err_t *err)
{
    store_personal *rows = NULL;
    store_blob *blobs = NULL;
    size_t nrows = 0, nblobs = 0;
    *owns = false;
    err_code rc = store_personal_list(s, request_id, pool, &rows, &nrows, err);
    if (rc == ERR_OK)
        rc = store_blob_list(s, request_id, pool, &blobs, &nblobs, err);
    for (size_t i = 0; rc == ERR_OK && i < nrows; i++)
        *owns = *owns || rows[i].subject_id == subject_id;
    for (size_t i = 0; rc == ERR_OK && i < nblobs; i++)
        *owns = *owns || blobs[i].subject_id == subject_id;
    return rc;
}

err_code account_remove_request(store_t *s, int64_t account_id, int64_t request_id, int64_t now,
                                retention_report *rep, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_account a;
    bool owns = false;
    err_code rc = live_account(s, account_id, pool, &a, err);
    if (rc == ERR_OK)
        rc = owns_request(s, a.subject_id, request_id, pool, &owns, err);
    if (rc == ERR_OK && !owns)
        rc = err_set(err, ERR_NOT_FOUND,
                     "request %" PRId64 " holds no personal data of "
                     "account %" PRId64,
                     request_id, account_id);
    /* Every class: what identifies the reporter (contact details, the
     * account link, the device id) and what they attached. */
    char actor[ACCOUNT_ACTOR_MAX];
    if (rc == ERR_OK)
        rc = retention_erase_request(s, request_id, DC_ALL, account_actor(account_id, actor),
                                     "removed by its reporter", now, rep, err);
    pool_free(pool);
    return rc;
}

err_code account_delete(store_t *s, int64_t account_id, int64_t now, account_deletion *out,
                        err_t *err)
{
    memset(out, 0, sizeof *out);
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_account a;
    bool held = false;
    int64_t *ids = NULL;
    size_t n = 0;
    char actor[ACCOUNT_ACTOR_MAX];
    account_actor(account_id, actor);
    err_code rc = live_account(s, account_id, pool, &a, err);
    if (rc == ERR_OK)
        rc = store_hold_active(s, 0, a.subject_id, &held, err);
    if (rc == ERR_OK && held)
        rc = err_set(err, ERR_CONFLICT,
                     "account %" PRId64 " is under a legal hold: it cannot be deleted until "
                     "the hold is released",
                     account_id);
    if (rc == ERR_OK)
        rc = store_subject_requests(s, a.subject_id, DELETE_MAX_REQUESTS, pool, &ids, &n, err);
    if (rc == ERR_OK && n == DELETE_MAX_REQUESTS)
        rc = err_set(err, ERR_TOO_LARGE,
                     "account %" PRId64 " has too many requests to erase "
                     "in one go",
                     account_id);
    /* The requests first, while the account still keeps its key alive
     * (store_subject_usage counts the live account): the key goes last,
     * once, and only if no held request still needs it. */
    retention_report rep = {0};
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        rc = retention_erase_request(s, ids[i], DC_ALL, actor, "account deleted by its owner", now,
                                     &rep, err);
        if (rc == ERR_OK) {
            out->requests++;
        } else if (rc == ERR_CONFLICT) { /* held: erased by the schedule after the hold */
            out->held++;
            rc = ERR_OK;
        }
    }
    if (rc == ERR_OK)
        rc = store_session_delete_account(s, account_id, NULL, err);
    if (rc == ERR_OK)
        rc = store_account_delete(s, account_id, now, err);
    int64_t left = 0;
    if (rc == ERR_OK)
        rc = store_subject_usage(s, a.subject_id, &left, err);
    if (rc == ERR_OK && left == 0) {
        rc = store_subject_erase(s, a.subject_id, now, err);
        out->shredded = rc == ERR_OK;
    }
    if (rc == ERR_OK) {
        /* The receipt names the class, not the fields: the record is not
         * opened to be erased. */
        audit_entry e = audit_entry_init(now, AUDIT_ERASE, actor);
        e.subject_id = a.subject_id;
        e.fields = "account";
        e.reason = out->shredded ? "account deleted by its owner; data key shredded"
                                 : "account deleted by its owner";
        e.count = 1;
        rc = audit_append(s, &e, NULL, err);
    }
    pool_free(pool);
    return rc;
}
