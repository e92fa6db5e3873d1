/*
 * staff.c - staff accounts (see staff.h): the rules for logins, roles and
 * agencies, the sealed TOTP secret, the sign-in steps with their failed
 * attempt limit, console sessions, and the administrator's changes, each
 * with its audit entry in the caller's transaction.
 *
 * Never logs and never puts in an error message or an audit entry a
 * password, its hash, a code, a secret or a session id. A login is a work
 * handle, not a resident's data, but a login that was typed and matched
 * nobody may be a password typed in the wrong field: it is never
 * recorded anywhere.
 */
#include "privacy/staff.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/account.h"
#include "privacy/audit.h"
#include "privacy/seal.h"

#define TOTP_ISSUER "Civic311"
/* crypto_kdf's subkey of the blind-index key that seals TOTP secrets
 * (web.c uses ids 1 and 2 under other contexts). */
#define TOTP_KDF_ID 3
#define TOTP_KDF_CONTEXT "c311totp"
#define SEALED_SECRET_LEN (TOTP_SECRET_LEN + SEAL_OVERHEAD)
/* Sessions deleted in passing by each sign-in. */
#define SESSION_PURGE_BATCH 16

const char *staff_actor(int64_t staff_id, char out[STAFF_ACTOR_MAX])
{
    snprintf(out, STAFF_ACTOR_MAX, "staff:%" PRId64, staff_id);
    return out;
}

/* ---- the rules ---- */

bool staff_role_ok(gate_role r)
{
    return r > GATE_RESIDENT && r < GATE_ROLE_COUNT;
}

bool staff_role_has_agencies(gate_role r)
{
    return r == GATE_AGENCY_STAFF || r == GATE_SUPERVISOR;
}

bool staff_login_ok(const char *login)
{
    if (login == NULL)
        return false;
    size_t n = strnlen(login, STAFF_LOGIN_MAX + 1);
    if (n < STAFF_LOGIN_MIN || n > STAFF_LOGIN_MAX || login[0] < 'a' || login[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = login[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

bool staff_agency_ok(const char *code)
{
    if (code == NULL)
        return false;
    size_t n = strnlen(code, STAFF_AGENCY_MAX + 1);
    if (n == 0 || n > STAFF_AGENCY_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = code[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---- TOTP secrets ---- */

void staff_secret_new(staff_secret *s)
{
    randombytes_buf(s->raw, sizeof s->raw);
    if (!totp_base32_encode(s->raw, sizeof s->raw, false, s->b32, sizeof s->b32))
        abort(); /* 20 bytes are 32 characters: a broken build */
}

void staff_secret_clear(staff_secret *s)
{
    sodium_memzero(s, sizeof *s);
}

void staff_enrol_uri(buf_t *out, const char *login, const staff_secret *s)
{
    totp_uri(out, TOTP_ISSUER, login, s->b32);
}

static void secret_key(const keyring_t *k, unsigned char key[SEAL_KEY_LEN])
{
    if (crypto_kdf_derive_from_key(key, SEAL_KEY_LEN, TOTP_KDF_ID, TOTP_KDF_CONTEXT,
                                   keyring_blind_key_borrow(k)) != 0)
        abort(); /* constant, valid lengths: cannot fail */
}

/* "staff|totp|id=<id>": a secret copied to another member's row does not
 * open there. */
static void secret_ad(char out[SEAL_AD_MAX], int64_t staff_id)
{
    snprintf(out, SEAL_AD_MAX, "staff|totp|id=%" PRId64, staff_id);
}

static err_code seal_secret(store_t *s, const keyring_t *k, int64_t staff_id,
                            const staff_secret *secret, err_t *err)
{
    unsigned char key[SEAL_KEY_LEN], sealed[SEALED_SECRET_LEN];
    char ad[SEAL_AD_MAX];
    secret_key(k, key);
    secret_ad(ad, staff_id);
    seal_encrypt(key, ad, secret->raw, sizeof secret->raw, sealed);
    sodium_memzero(key, sizeof key);
    return store_staff_set_totp(s, staff_id, sealed, sizeof sealed, err);
}

/* Opens m's secret into raw (TOTP_SECRET_LEN bytes). */
static err_code open_secret(const keyring_t *k, const store_staff *m,
                            unsigned char raw[TOTP_SECRET_LEN], err_t *err)
{
    if (m->totp_sealed == NULL || m->totp_sealed_len != SEALED_SECRET_LEN)
        return err_set(err, ERR_INTERNAL, "staff %" PRId64 " has no second factor", m->id);
    unsigned char key[SEAL_KEY_LEN];
    char ad[SEAL_AD_MAX];
    size_t len = 0;
    secret_key(k, key);
    secret_ad(ad, m->id);
    bool ok = seal_decrypt(key, ad, m->totp_sealed, m->totp_sealed_len, raw, &len);
    sodium_memzero(key, sizeof key);
    if (!ok || len != TOTP_SECRET_LEN) {
        sodium_memzero(raw, TOTP_SECRET_LEN);
        return err_set(err, ERR_INTERNAL,
                       "the second factor of staff %" PRId64 " does not open: altered, moved, "
                       "or another key file",
                       m->id);
    }
    return ERR_OK;
}

/* ---- members ---- */

err_code staff_load(store_t *s, int64_t id, pool_t *pool, staff_member *out, err_t *err)
{
    memset(out, 0, sizeof *out);
    store_staff m;
    err_code rc = store_staff_get(s, id, pool, &m, err);
    if (rc != ERR_OK)
        return rc;
    gate_role role;
    if (!gate_role_parse(m.role, &role) || !staff_role_ok(role))
        return err_set(err, ERR_INTERNAL, "staff %" PRId64 " has no staff role", id);
    const char **codes = NULL;
    size_t n = 0;
    rc = store_staff_agencies(s, id, pool, &codes, &n, err);
    if (rc != ERR_OK)
        return rc;
    out->id = m.id;
    out->login = m.login;
    out->role = role;
    out->agencies = codes;
    out->nagencies = n;
    out->disabled = m.disabled_at != 0;
    return ERR_OK;
}

void staff_gate_actor(const staff_member *m, char actor_buf[STAFF_ACTOR_MAX], gate_actor *out)
{
    memset(out, 0, sizeof *out);
    out->role = m->role;
    out->actor = staff_actor(m->id, actor_buf);
    out->agencies = m->agencies;
    out->nagencies = m->nagencies;
    out->subject_id = 0;
}

/* One AUDIT_STAFF entry: what changed, on whom (by id) and, when added,
 * as what role; never a secret. */
static err_code audit_admin(store_t *s, const char *actor, int64_t now, int64_t staff_id,
                            const char *what, const char *role, err_t *err)
{
    char reason[AUDIT_TEXT_MAX + 1];
    snprintf(reason, sizeof reason, "%s staff:%" PRId64 "%s%s", what, staff_id,
             role != NULL ? " as " : "", role != NULL ? role : "");
    audit_entry e = audit_entry_init(now, AUDIT_STAFF, actor);
    e.reason = reason;
    return audit_append(s, &e, NULL, err);
}

static err_code admin_actor_ok(const char *actor, err_t *err)
{
    if (actor == NULL || *actor == '\0')
        return err_set(err, ERR_INVALID, "staff: who makes the change is needed");
    return ERR_OK;
}

err_code staff_create(store_t *s, const keyring_t *k, const char *login, gate_role role,
                      const char *const *agencies, size_t nagencies, const char *password_hash,
                      const staff_secret *secret, const char *actor, int64_t now,
                      int64_t *staff_id, err_t *err)
{
    if (admin_actor_ok(actor, err) != ERR_OK)
        return err->code;
    if (!staff_login_ok(login))
        return err_set(err, ERR_INVALID,
                       "login: 2 to 32 of a-z, 0-9, '.', '_', '-', starting with a letter");
    if (!staff_role_ok(role))
        return err_set(err, ERR_INVALID, "role: one of the staff roles");
    if (staff_role_has_agencies(role) && nagencies == 0)
        return err_set(err, ERR_INVALID, "agency: this role needs at least one agency");
    if (!staff_role_has_agencies(role) && nagencies != 0)
        return err_set(err, ERR_INVALID, "agency: only agency staff and supervisors have agencies");
    if (nagencies > STAFF_AGENCIES_MAX)
        return err_set(err, ERR_INVALID, "agency: at most %d", STAFF_AGENCIES_MAX);
    for (size_t i = 0; i < nagencies; i++)
        if (!staff_agency_ok(agencies[i]))
            return err_set(err, ERR_INVALID, "agency: a code of 1 to 32 letters, digits, '_', '-'");
    if (password_hash == NULL || strncmp(password_hash, "$argon2id$", 10) != 0 ||
        strlen(password_hash) >= ACCOUNT_HASH_MAX)
        return err_set(err, ERR_INVALID, "password_hash is not an Argon2id string");
    store_staff m = {.login = login,
                     .role = gate_role_name(role),
                     .password_hash = password_hash,
                     .created_at = now};
    err_code rc = store_staff_insert(s, &m, err);
    for (size_t i = 0; rc == ERR_OK && i < nagencies; i++)
        rc = store_staff_agency_add(s, m.id, agencies[i], err);
    if (rc == ERR_OK)
        rc = seal_secret(s, k, m.id, secret, err);
    if (rc == ERR_OK)
        rc = audit_admin(s, actor, now, m.id, "added", gate_role_name(role), err);
    if (rc == ERR_OK && staff_id != NULL)
        *staff_id = m.id;
    return rc;
}

/* The member's row must exist: ERR_NOT_FOUND otherwise. */
static err_code must_exist(store_t *s, int64_t staff_id, store_staff *m, pool_t **pool,
                           err_t *err)
{
    *pool = pool_new();
    if (*pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    return store_staff_get(s, staff_id, *pool, m, err);
}

err_code staff_set_disabled(store_t *s, int64_t staff_id, bool disabled, const char *actor,
                            int64_t now, err_t *err)
{
    if (admin_actor_ok(actor, err) != ERR_OK)
        return err->code;
    pool_t *pool = NULL;
    store_staff m;
    err_code rc = must_exist(s, staff_id, &m, &pool, err);
    if (rc == ERR_OK)
        rc = store_staff_set_disabled(s, staff_id, disabled ? now : 0, err);
    if (rc == ERR_OK && disabled)
        rc = store_staff_session_delete_staff(s, staff_id, err);
    /* Enabling also lifts a lock: an administrator has vouched for them. */
    if (rc == ERR_OK && !disabled)
        rc = store_staff_set_lock(s, staff_id, 0, err);
    if (rc == ERR_OK)
        rc = audit_admin(s, actor, now, staff_id, disabled ? "disabled" : "enabled", NULL, err);
    pool_free(pool);
    return rc;
}

err_code staff_reset_password(store_t *s, int64_t staff_id, const char *password_hash,
                              const char *actor, int64_t now, err_t *err)
{
    if (admin_actor_ok(actor, err) != ERR_OK)
        return err->code;
    if (password_hash == NULL || strncmp(password_hash, "$argon2id$", 10) != 0)
        return err_set(err, ERR_INVALID, "password_hash is not an Argon2id string");
    pool_t *pool = NULL;
    store_staff m;
    err_code rc = must_exist(s, staff_id, &m, &pool, err);
    if (rc == ERR_OK)
        rc = store_staff_set_password(s, staff_id, password_hash, err);
    if (rc == ERR_OK)
        rc = store_staff_set_lock(s, staff_id, 0, err);
    if (rc == ERR_OK)
        rc = store_staff_session_delete_staff(s, staff_id, err);
    if (rc == ERR_OK)
        rc = audit_admin(s, actor, now, staff_id, "password reset for", NULL, err);
    pool_free(pool);
    return rc;
}

err_code staff_reset_totp(store_t *s, const keyring_t *k, int64_t staff_id,
                          const staff_secret *secret, const char *actor, int64_t now, err_t *err)
{
    if (admin_actor_ok(actor, err) != ERR_OK)
        return err->code;
    pool_t *pool = NULL;
    store_staff m;
    err_code rc = must_exist(s, staff_id, &m, &pool, err);
    if (rc == ERR_OK)
        rc = seal_secret(s, k, staff_id, secret, err);
    if (rc == ERR_OK)
        rc = store_staff_session_delete_staff(s, staff_id, err);
    if (rc == ERR_OK)
        rc = audit_admin(s, actor, now, staff_id, "second factor reset for", NULL, err);
    pool_free(pool);
    return rc;
}

/* ---- signing in ---- */

bool staff_locked(const store_staff *m, int64_t now)
{
    return m->locked_until != 0 && m->locked_until > now;
}

static const char *outcome_reason(staff_outcome o, bool code_step)
{
    switch (o) {
    case STAFF_SIGNIN_OK:
        return "signed in";
    case STAFF_SIGNIN_WRONG:
        return code_step ? "code refused" : "password refused";
    case STAFF_SIGNIN_REPLAYED:
        return "code refused: already used";
    case STAFF_SIGNIN_LOCKED:
        return code_step ? "refused: locked (code step)" : "refused: locked";
    case STAFF_SIGNIN_DISABLED:
        return "refused: disabled";
    case STAFF_SIGNIN_UNKNOWN:
    default:
        return "refused: unknown login";
    }
}

static err_code audit_signin(store_t *s, int64_t staff_id, const char *role, staff_outcome o,
                             bool code_step, bool locked_now, int64_t now, err_t *err)
{
    char actor[STAFF_ACTOR_MAX];
    char reason[96];
    snprintf(reason, sizeof reason, "%s%s", outcome_reason(o, code_step),
             locked_now ? "; locked for 15 minutes" : "");
    audit_entry e = audit_entry_init(now, AUDIT_SIGN_IN,
                                     staff_id > 0 ? staff_actor(staff_id, actor) : "staff:unknown");
    e.role = role;
    e.reason = reason;
    return audit_append(s, &e, NULL, err);
}

/* A failure on m's row: counted, and the limit's last one locks. */
static err_code count_failure(store_t *s, int64_t staff_id, int64_t now, bool *locked_now,
                              err_t *err)
{
    int64_t count = 0;
    *locked_now = false;
    err_code rc = store_staff_failed(s, staff_id, now, ACCOUNT_FAILURE_WINDOW, &count, err);
    if (rc == ERR_OK && count >= ACCOUNT_MAX_FAILURES) {
        rc = store_staff_set_lock(s, staff_id, now + ACCOUNT_LOCK_SECONDS, err);
        /* Whoever got the password also loses the half-signed-in state. */
        if (rc == ERR_OK)
            rc = store_staff_session_delete_staff(s, staff_id, err);
        *locked_now = rc == ERR_OK;
    }
    return rc;
}

/* Reads the member for a sign-in step and says whether it may go on:
 * *out is set for an unknown, disabled or locked member. */
static err_code signin_member(store_t *s, int64_t staff_id, int64_t now, pool_t *pool,
                              store_staff *m, bool *go_on, staff_outcome *out, err_t *err)
{
    *go_on = false;
    *out = STAFF_SIGNIN_UNKNOWN;
    if (staff_id <= 0)
        return ERR_OK;
    err_code rc = store_staff_get(s, staff_id, pool, m, err);
    if (rc == ERR_NOT_FOUND)
        return ERR_OK;
    if (rc != ERR_OK)
        return rc;
    if (m->disabled_at != 0)
        *out = STAFF_SIGNIN_DISABLED;
    else if (staff_locked(m, now))
        *out = STAFF_SIGNIN_LOCKED;
    else
        *go_on = true;
    return ERR_OK;
}

err_code staff_password_attempt(store_t *s, int64_t staff_id, bool password_ok, int64_t now,
                                staff_outcome *out, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_staff m = {0};
    bool go_on = false, locked_now = false;
    err_code rc = signin_member(s, staff_id, now, pool, &m, &go_on, out, err);
    if (rc == ERR_OK && go_on) {
        if (password_ok) {
            *out = STAFF_SIGNIN_OK; /* the code step decides, and writes the entry */
        } else {
            *out = STAFF_SIGNIN_WRONG;
            rc = count_failure(s, staff_id, now, &locked_now, err);
        }
    }
    if (rc == ERR_OK && *out != STAFF_SIGNIN_OK)
        rc = audit_signin(s, *out == STAFF_SIGNIN_UNKNOWN ? 0 : staff_id, m.role, *out, false,
                          locked_now, now, err);
    pool_free(pool);
    return rc;
}

err_code staff_code_attempt(store_t *s, const keyring_t *k, int64_t staff_id, const char *code,
                            int64_t now, staff_outcome *out, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_staff m = {0};
    bool go_on = false, locked_now = false;
    err_code rc = signin_member(s, staff_id, now, pool, &m, &go_on, out, err);
    if (rc == ERR_OK && go_on) {
        unsigned char raw[TOTP_SECRET_LEN];
        rc = open_secret(k, &m, raw, err);
        int64_t step = 0;
        bool match = false, replay = false;
        if (rc == ERR_OK) {
            match = totp_verify(raw, sizeof raw, code, now, m.totp_last_step, &step);
            /* A code of a step already used is told apart for the audit
             * log only: the person sees the same refusal. */
            replay = !match && m.totp_last_step > 0 &&
                     totp_verify(raw, sizeof raw, code, now, 0, &step);
            sodium_memzero(raw, sizeof raw);
        }
        bool used = false;
        if (rc == ERR_OK && match)
            rc = store_staff_use_step(s, staff_id, step, &used, err);
        if (rc == ERR_OK && match && !used)
            replay = true; /* another node took this step meanwhile */
        if (rc == ERR_OK) {
            *out = used ? STAFF_SIGNIN_OK : replay ? STAFF_SIGNIN_REPLAYED : STAFF_SIGNIN_WRONG;
            if (used && (m.failed_count != 0 || m.locked_until != 0))
                rc = store_staff_set_lock(s, staff_id, 0, err);
            else if (!used)
                rc = count_failure(s, staff_id, now, &locked_now, err);
        }
    }
    if (rc == ERR_OK)
        rc = audit_signin(s, *out == STAFF_SIGNIN_UNKNOWN ? 0 : staff_id, m.role, *out, true,
                          locked_now, now, err);
    pool_free(pool);
    return rc;
}

/* ---- sessions ---- */

void staff_session_hash(const char *sid, unsigned char out[STORE_DIGEST_LEN])
{
    account_session_hash(sid, out);
}

static int64_t session_end(int64_t created_at, int64_t idle_seconds, int64_t now)
{
    int64_t idle = idle_seconds > 0 ? idle_seconds : STAFF_IDLE_DEFAULT;
    int64_t end = now + idle, cap = created_at + STAFF_SESSION_MAX;
    return end < cap ? end : cap;
}

err_code staff_session_start(store_t *s, int64_t staff_id,
                             const unsigned char id_hash[STORE_DIGEST_LEN], bool second_factor,
                             int64_t idle_seconds, int64_t now, err_t *err)
{
    store_staff_session ss = {
        .staff_id = staff_id,
        .created_at = now,
        .last_seen = now,
        .expires_at = second_factor ? session_end(now, idle_seconds, now) : now + STAFF_HALF_SECONDS,
        .second_factor = second_factor,
    };
    err_code rc = store_staff_session_purge(s, now, SESSION_PURGE_BATCH, err);
    if (rc == ERR_OK)
        rc = store_staff_session_insert(s, id_hash, &ss, err);
    return rc;
}

err_code staff_session_find(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN], int64_t now,
                            store_staff_session *out, bool *touch, err_t *err)
{
    *touch = false;
    err_code rc = store_staff_session_get(s, id_hash, now, out, err);
    if (rc == ERR_OK)
        *touch = out->second_factor && now - out->last_seen >= STAFF_SESSION_TOUCH;
    return rc;
}

err_code staff_session_touch(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                             int64_t idle_seconds, int64_t now, err_t *err)
{
    store_staff_session ss;
    err_code rc = store_staff_session_get(s, id_hash, now, &ss, err);
    if (rc == ERR_NOT_FOUND || (rc == ERR_OK && !ss.second_factor))
        return ERR_OK;
    if (rc != ERR_OK)
        return rc;
    int64_t end = session_end(ss.created_at, idle_seconds, now);
    if (end <= now)
        return ERR_OK; /* at its 12 hours: it ends as it is */
    return store_staff_session_touch(s, id_hash, now, end, err);
}

err_code staff_session_end(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN], err_t *err)
{
    return store_staff_session_delete(s, id_hash, err);
}
