/*
 * audit.c - the tamper-evident audit log of audit.h: the canonical entry
 * body, RFC 6962 hashing and the frontier, signed checkpoints, appending,
 * the export, and the one verifier that both the store and an export are
 * fed through.
 *
 * It owns no long-lived state: the log lives in the store (audit_entry,
 * audit_head, audit_checkpoint), the signing key in the keyring, and every
 * buffer or pool made here is freed before the function returns.
 *
 * Messages never hold a value taken from an entry: they name positions
 * (entry 17, checkpoint at size 40) and nothing else, so a report can be
 * shown or logged as it is. Entries hold no personal data by contract, but
 * a tampered body could hold anything.
 */
#include "privacy/audit.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A canonical body is at most about 2.3 KB (five escaped texts of
 * AUDIT_TEXT_MAX bytes, six numbers); anything longer is refused before it
 * reaches the JSON parser. */
#define AUDIT_BODY_MAX 4096
/* A checkpoint line is about 330 bytes. */
#define CHECKPOINT_JSON_MAX 512
/* The signed message: the prefix, two numbers of at most 20 characters,
 * 64 hex digits, four newlines. */
#define CHECKPOINT_MSG_MAX 160
/* Entries read per page when verifying or exporting the store. */
#define AUDIT_PAGE 1000
/* The longest line an export may hold (a body, a checkpoint, the header). */
#define EXPORT_LINE_MAX AUDIT_BODY_MAX

static const char CHECKPOINT_PREFIX[] = "civic311-audit-checkpoint-v1\n";
static const char EXPORT_CHECKPOINT_LINE[] = "{\"checkpoint\":";

/* ---- actions ---- */

static const char *const ACTION_NAMES[AUDIT_ACTION_COUNT] = {
    [AUDIT_COLLECT] = "collect", [AUDIT_READ] = "read",         [AUDIT_REFUSE] = "refuse",
    [AUDIT_LOOKUP] = "lookup",   [AUDIT_DISCLOSE] = "disclose", [AUDIT_ERASE] = "erase",
    [AUDIT_HOLD] = "hold",       [AUDIT_RELEASE] = "release",   [AUDIT_ROTATE] = "rotate",
    [AUDIT_SIGN_IN] = "sign_in", [AUDIT_STAFF] = "staff",
};

const char *audit_action_name(audit_action a)
{
    if ((unsigned)a >= AUDIT_ACTION_COUNT)
        return "unknown";
    return ACTION_NAMES[a];
}

bool audit_action_parse(const char *s, audit_action *out)
{
    if (s == NULL)
        return false;
    for (unsigned i = 0; i < AUDIT_ACTION_COUNT; i++) {
        if (strcmp(s, ACTION_NAMES[i]) == 0) {
            *out = (audit_action)i;
            return true;
        }
    }
    return false;
}

/* ---- entries ---- */

audit_entry audit_entry_init(int64_t at, audit_action action, const char *actor)
{
    audit_entry e = {
        .at = at,
        .action = action,
        .actor = actor,
        .role = NULL,
        .purpose = NULL,
        .subject_id = 0,
        .request_id = 0,
        .fields = NULL,
        .reason = NULL,
        .count = -1,
    };
    return e;
}

/* Text is printable ASCII so that a body has exactly one JSON spelling:
 * with no control characters and nothing above 0x7e, the only escapes are
 * \" and \\, and no \uXXXX form can stand for the same character. An
 * optional text may be empty ("fields":"" is another entry than one without
 * fields, and has its own body); the actor may not. */
static err_code check_text(const char *name, const char *s, bool required, err_t *err)
{
    if (s == NULL || (required && s[0] == '\0')) {
        if (required)
            return err_set(err, ERR_INVALID, "audit entry: %s is missing", name);
        return ERR_OK;
    }
    size_t n = strnlen(s, AUDIT_TEXT_MAX + 1);
    if (n > AUDIT_TEXT_MAX)
        return err_set(err, ERR_INVALID, "audit entry: %s is longer than %d bytes", name,
                       AUDIT_TEXT_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e)
            return err_set(err, ERR_INVALID, "audit entry: %s is not printable ASCII", name);
    }
    return ERR_OK;
}

static void put_text_member(buf_t *out, const char *key, const char *value)
{
    if (value == NULL)
        return;
    buf_puts(out, ",\"");
    buf_puts(out, key);
    buf_puts(out, "\":");
    buf_json_str(out, value);
}

err_code audit_entry_encode(const audit_entry *e, int64_t seq, buf_t *out, err_t *err)
{
    err_code rc;
    if (seq < 1)
        return err_set(err, ERR_INVALID, "audit entry: seq must be at least 1");
    if ((unsigned)e->action >= AUDIT_ACTION_COUNT)
        return err_set(err, ERR_INVALID, "audit entry: unknown action");
    if ((rc = check_text("actor", e->actor, true, err)) != ERR_OK ||
        (rc = check_text("role", e->role, false, err)) != ERR_OK ||
        (rc = check_text("purpose", e->purpose, false, err)) != ERR_OK ||
        (rc = check_text("fields", e->fields, false, err)) != ERR_OK ||
        (rc = check_text("reason", e->reason, false, err)) != ERR_OK)
        return rc;
    if (e->subject_id < 0)
        return err_set(err, ERR_INVALID, "audit entry: subject_id must be positive or 0");
    if (e->request_id < 0)
        return err_set(err, ERR_INVALID, "audit entry: request_id must be positive or 0");
    if (e->count < -1)
        return err_set(err, ERR_INVALID, "audit entry: count must be at least 0, or -1");

    buf_puts(out, "{\"seq\":");
    buf_put_i64(out, seq);
    buf_puts(out, ",\"at\":");
    buf_put_i64(out, e->at);
    buf_puts(out, ",\"action\":\"");
    buf_puts(out, ACTION_NAMES[e->action]);
    buf_putc(out, '"');
    put_text_member(out, "actor", e->actor);
    put_text_member(out, "role", e->role);
    put_text_member(out, "purpose", e->purpose);
    if (e->subject_id != 0) {
        buf_puts(out, ",\"subject\":\"s:");
        buf_put_i64(out, e->subject_id);
        buf_putc(out, '"');
    }
    if (e->request_id != 0) {
        buf_puts(out, ",\"request\":");
        buf_put_i64(out, e->request_id);
    }
    put_text_member(out, "fields", e->fields);
    put_text_member(out, "reason", e->reason);
    if (e->count >= 0) {
        buf_puts(out, ",\"count\":");
        buf_put_i64(out, e->count);
    }
    buf_putc(out, '}');
    if (buf_failed(out))
        return err_set(err, ERR_NOMEM, "audit entry: out of memory");
    return ERR_OK;
}

/* json_loadb, telling running out of memory apart from bad input. */
static json_t *json_parse(const char *p, size_t len, err_code *rc)
{
    json_error_t je;
    json_t *v = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
    if (v == NULL)
        *rc = json_error_code(&je) == json_error_out_of_memory ? ERR_NOMEM : ERR_INVALID;
    else
        *rc = ERR_OK;
    return v;
}

/* The start of every decoding: text, at most max bytes, parsed as JSON
 * into *root (the caller's to free). what names the thing for the error. */
static err_code parse_text(const char *text, size_t len, size_t max, const char *what,
                           json_t **root, err_t *err)
{
    *root = NULL;
    if (len > max)
        return err_set(err, ERR_INVALID, "%s is too long", what);
    err_code rc;
    *root = json_parse(text, len, &rc);
    if (*root == NULL)
        return rc == ERR_NOMEM ? err_set(err, ERR_NOMEM, "out of memory")
                               : err_set(err, ERR_INVALID, "%s is not JSON", what);
    return ERR_OK;
}

/* The byte-for-byte check that ends every decoding: text must be exactly
 * what encoding the decoded value again gave (again; rc says how encoding
 * went), so one entry or checkpoint has one text and one hash. what names
 * the thing for the error. */
static err_code same_as_encoded(err_code rc, const buf_t *again, const char *text, size_t len,
                                const char *what, err_t *err)
{
    if (rc == ERR_OK && buf_failed(again))
        rc = ERR_NOMEM;
    if (rc == ERR_OK && (again->len != len || memcmp(again->data, text, len) != 0))
        rc = ERR_INVALID;
    if (rc == ERR_NOMEM)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (rc != ERR_OK)
        return err_set(err, ERR_INVALID, "%s is not in canonical form", what);
    return ERR_OK;
}

static bool json_i64(const json_t *v, int64_t *out)
{
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* A string member into pool; false if it is not a string or holds a NUL. */
static bool json_text(const json_t *v, pool_t *pool, const char **out, bool *nomem)
{
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n)
        return false;
    char *copy = pool_strndup(pool, s, n);
    if (copy == NULL) {
        *nomem = true;
        return false;
    }
    *out = copy;
    return true;
}

/* "s:<id>": the digits only; whether they are the canonical spelling is
 * settled by re-encoding. */
static bool parse_subject(const char *s, int64_t *out)
{
    if (strncmp(s, "s:", 2) != 0 || s[2] == '\0')
        return false;
    int64_t v = 0;
    for (const char *p = s + 2; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v == 0)
        return false;
    *out = v;
    return true;
}

/* Reads the members of a body into e; false on anything not an entry's. */
static bool entry_from_json(json_t *root, pool_t *pool, audit_entry *e, int64_t *seq, bool *nomem)
{
    bool has_seq = false, has_at = false, has_action = false;
    const char *key;
    json_t *v;

    if (!json_is_object(root))
        return false;
    *e = audit_entry_init(0, AUDIT_COLLECT, NULL);
    json_object_foreach(root, key, v)
    {
        bool ok;
        if (strcmp(key, "seq") == 0) {
            ok = has_seq = json_i64(v, seq);
        } else if (strcmp(key, "at") == 0) {
            ok = has_at = json_i64(v, &e->at);
        } else if (strcmp(key, "action") == 0) {
            ok = has_action =
                json_is_string(v) && audit_action_parse(json_string_value(v), &e->action);
        } else if (strcmp(key, "actor") == 0) {
            ok = json_text(v, pool, &e->actor, nomem);
        } else if (strcmp(key, "role") == 0) {
            ok = json_text(v, pool, &e->role, nomem);
        } else if (strcmp(key, "purpose") == 0) {
            ok = json_text(v, pool, &e->purpose, nomem);
        } else if (strcmp(key, "subject") == 0) {
            ok = json_is_string(v) && parse_subject(json_string_value(v), &e->subject_id);
        } else if (strcmp(key, "request") == 0) {
            ok = json_i64(v, &e->request_id) && e->request_id > 0;
        } else if (strcmp(key, "fields") == 0) {
            ok = json_text(v, pool, &e->fields, nomem);
        } else if (strcmp(key, "reason") == 0) {
            ok = json_text(v, pool, &e->reason, nomem);
        } else if (strcmp(key, "count") == 0) {
            ok = json_i64(v, &e->count) && e->count >= 0;
        } else {
            ok = false;
        }
        if (!ok)
            return false;
    }
    return has_seq && has_at && has_action && e->actor != NULL;
}

err_code audit_entry_decode(const char *body, size_t len, pool_t *pool, audit_entry *out,
                            int64_t *seq, err_t *err)
{
    json_t *root;
    err_code rc = parse_text(body, len, AUDIT_BODY_MAX, "an audit entry", &root, err);
    if (rc != ERR_OK)
        return rc;
    audit_entry e;
    int64_t s = 0;
    bool nomem = false;
    bool ok = entry_from_json(root, pool, &e, &s, &nomem);
    json_decref(root); /* e's strings are in pool, not in the tree */
    if (nomem)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (!ok)
        return err_set(err, ERR_INVALID,
                       "an audit entry has a missing, unknown or mistyped member");

    /* The byte-for-byte check: whatever jansson accepted (spaces, another
     * key order, escapes such as \/ or \u0041, 1.0 for 1) re-encodes to
     * something else and is refused, so one entry has one body and one
     * leaf hash. */
    buf_t again = BUF_INIT;
    err_t eerr = {0};
    rc = audit_entry_encode(&e, s, &again, &eerr);
    rc = same_as_encoded(rc, &again, body, len, "an audit entry", err);
    buf_free(&again);
    if (rc != ERR_OK)
        return rc;
    *out = e;
    *seq = s;
    return ERR_OK;
}

/* ---- the Merkle tree ---- */

void audit_leaf_hash(const void *entry, size_t len, unsigned char out[AUDIT_HASH_LEN])
{
    static const unsigned char prefix = 0x00;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, entry, len);
    crypto_hash_sha256_final(&st, out);
}

void audit_node_hash(const unsigned char left[AUDIT_HASH_LEN],
                     const unsigned char right[AUDIT_HASH_LEN], unsigned char out[AUDIT_HASH_LEN])
{
    static const unsigned char prefix = 0x01;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, left, AUDIT_HASH_LEN);
    crypto_hash_sha256_update(&st, right, AUDIT_HASH_LEN);
    crypto_hash_sha256_final(&st, out); /* out may alias left or right: read before written */
}

void audit_frontier_init(audit_frontier *f)
{
    memset(f, 0, sizeof *f);
}

void audit_frontier_add(audit_frontier *f, const unsigned char leaf[AUDIT_HASH_LEN])
{
    /* 2^63 - 1 leaves is the most a signed size can count; audit_append
     * and the verifier stop long before, so getting here is a bug. */
    if (f->size == INT64_MAX)
        abort();
    /* Like a binary increment: each set low bit is a complete subtree
     * that the new one merges with, carrying upwards. */
    unsigned char h[AUDIT_HASH_LEN];
    memcpy(h, leaf, AUDIT_HASH_LEN);
    uint64_t size = (uint64_t)f->size;
    int i = 0;
    while (size & ((uint64_t)1 << i)) {
        audit_node_hash(f->node[i], h, h);
        memset(f->node[i], 0, AUDIT_HASH_LEN); /* unset bits stay zero: one form per size */
        i++;
    }
    memcpy(f->node[i], h, AUDIT_HASH_LEN);
    f->size++;
}

void audit_frontier_root(const audit_frontier *f, unsigned char out[AUDIT_HASH_LEN])
{
    if (f->size == 0) {
        crypto_hash_sha256(out, (const unsigned char *)"", 0);
        return;
    }
    /* RFC 6962 splits at the largest power of two below the size, so the
     * root folds the subtrees from the smallest (rightmost) up: each larger
     * one is the left child of everything to its right. */
    uint64_t size = (uint64_t)f->size;
    unsigned char h[AUDIT_HASH_LEN];
    bool have = false;
    for (int i = 0; i < AUDIT_MAX_DEPTH; i++) {
        if (!(size & ((uint64_t)1 << i)))
            continue;
        if (!have) {
            memcpy(h, f->node[i], AUDIT_HASH_LEN);
            have = true;
        } else {
            audit_node_hash(f->node[i], h, h);
        }
    }
    memcpy(out, h, AUDIT_HASH_LEN);
}

void audit_frontier_encode(const audit_frontier *f, buf_t *out)
{
    unsigned char be[8];
    uint64_t size = (uint64_t)f->size;
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)(size >> (56 - 8 * i));
    buf_append(out, be, sizeof be);
    for (int i = AUDIT_MAX_DEPTH - 1; i >= 0; i--)
        if (size & ((uint64_t)1 << i))
            buf_append(out, f->node[i], AUDIT_HASH_LEN);
}

err_code audit_frontier_decode(const unsigned char *p, size_t len, audit_frontier *f, err_t *err)
{
    if (len < 8)
        return err_set(err, ERR_INVALID, "an audit frontier is too short");
    uint64_t size = 0;
    for (int i = 0; i < 8; i++)
        size = (size << 8) | p[i];
    if (size > (uint64_t)INT64_MAX)
        return err_set(err, ERR_INVALID, "an audit frontier has a negative size");
    size_t bits = (size_t)__builtin_popcountll(size);
    if (len != 8 + bits * AUDIT_HASH_LEN)
        return err_set(err, ERR_INVALID, "an audit frontier's length does not match its size");
    audit_frontier_init(f);
    f->size = (int64_t)size;
    const unsigned char *q = p + 8;
    for (int i = AUDIT_MAX_DEPTH - 1; i >= 0; i--) {
        if (size & ((uint64_t)1 << i)) {
            memcpy(f->node[i], q, AUDIT_HASH_LEN);
            q += AUDIT_HASH_LEN;
        }
    }
    return ERR_OK;
}

/* The head as the store keeps it. A new store holds size 0 and no bytes
 * at all (not the 8-byte encoding of an empty frontier), so that case is
 * taken here rather than by loosening audit_frontier_decode. */
static bool head_frontier(int64_t size, const unsigned char *p, size_t len, audit_frontier *f)
{
    if (size == 0 && len == 0) {
        audit_frontier_init(f);
        return true;
    }
    return p != NULL && audit_frontier_decode(p, len, f, NULL) == ERR_OK && f->size == size;
}

static bool frontier_equal(const audit_frontier *a, const audit_frontier *b)
{
    if (a->size != b->size)
        return false;
    for (int i = 0; i < AUDIT_MAX_DEPTH; i++)
        if (((uint64_t)a->size & ((uint64_t)1 << i)) &&
            memcmp(a->node[i], b->node[i], AUDIT_HASH_LEN) != 0)
            return false;
    return true;
}

/* ---- checkpoints ---- */

/* Into a fixed array rather than a buf_t: signing and verifying then
 * cannot run out of memory, which keeps them void and bool. */
static size_t checkpoint_message(const store_checkpoint *cp, char out[CHECKPOINT_MSG_MAX])
{
    char hex[2 * STORE_HASH_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, cp->root, STORE_HASH_LEN);
    int n = snprintf(out, CHECKPOINT_MSG_MAX, "%s%" PRId64 "\n%" PRId64 "\n%s\n", CHECKPOINT_PREFIX,
                     cp->size, cp->at, hex);
    if (n < 0 || n >= CHECKPOINT_MSG_MAX) /* cannot happen: the bound is computed above */
        abort();
    return (size_t)n;
}

void audit_checkpoint_message(const store_checkpoint *cp, buf_t *out)
{
    char msg[CHECKPOINT_MSG_MAX];
    size_t n = checkpoint_message(cp, msg);
    buf_append(out, msg, n);
}

void audit_checkpoint_sign(store_checkpoint *cp, const keyring_t *k)
{
    char msg[CHECKPOINT_MSG_MAX];
    keyring_sign_pk(k, cp->public_key);
    size_t n = checkpoint_message(cp, msg);
    crypto_sign_detached(cp->signature, NULL, (const unsigned char *)msg, n,
                         keyring_sign_sk_borrow(k));
}

bool audit_checkpoint_verify(const store_checkpoint *cp, const unsigned char pk[STORE_PUBKEY_LEN])
{
    if (sodium_init() < 0)
        return false;
    if (memcmp(cp->public_key, pk, STORE_PUBKEY_LEN) != 0)
        return false;
    char msg[CHECKPOINT_MSG_MAX];
    size_t n = checkpoint_message(cp, msg);
    return crypto_sign_verify_detached(cp->signature, (const unsigned char *)msg, n, pk) == 0;
}

static void put_hex_member(buf_t *out, const char *key, const unsigned char *p, size_t n)
{
    char hex[2 * STORE_SIG_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, p, n);
    buf_puts(out, ",\"");
    buf_puts(out, key);
    buf_puts(out, "\":\"");
    buf_puts(out, hex);
    buf_putc(out, '"');
}

void audit_checkpoint_to_json(const store_checkpoint *cp, buf_t *out)
{
    buf_puts(out, "{\"checkpoint\":{\"size\":");
    buf_put_i64(out, cp->size);
    buf_puts(out, ",\"at\":");
    buf_put_i64(out, cp->at);
    put_hex_member(out, "root", cp->root, STORE_HASH_LEN);
    put_hex_member(out, "public_key", cp->public_key, STORE_PUBKEY_LEN);
    put_hex_member(out, "signature", cp->signature, STORE_SIG_LEN);
    buf_puts(out, "}}");
}

/* Exactly n bytes of hex; the case is settled by re-encoding. */
static bool json_hex(const json_t *v, unsigned char *out, size_t n)
{
    if (!json_is_string(v) || json_string_length(v) != 2 * n)
        return false;
    const char *hex = json_string_value(v);
    const char *end = NULL;
    size_t got = 0;
    return sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, &end) == 0 && got == n &&
           end == hex + 2 * n;
}

err_code audit_checkpoint_from_json(const char *line, size_t len, store_checkpoint *out, err_t *err)
{
    json_t *root;
    err_code rc = parse_text(line, len, CHECKPOINT_JSON_MAX, "a checkpoint", &root, err);
    if (rc != ERR_OK)
        return rc;
    store_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    json_t *o = json_object_get(root, "checkpoint");
    bool ok = json_is_object(root) && json_object_size(root) == 1 && json_is_object(o) &&
              json_object_size(o) == 5 && json_i64(json_object_get(o, "size"), &cp.size) &&
              cp.size >= 1 && json_i64(json_object_get(o, "at"), &cp.at) &&
              json_hex(json_object_get(o, "root"), cp.root, STORE_HASH_LEN) &&
              json_hex(json_object_get(o, "public_key"), cp.public_key, STORE_PUBKEY_LEN) &&
              json_hex(json_object_get(o, "signature"), cp.signature, STORE_SIG_LEN);
    json_decref(root);
    if (!ok)
        return err_set(err, ERR_INVALID, "a checkpoint has a missing, unknown or mistyped member");

    buf_t again = BUF_INIT;
    audit_checkpoint_to_json(&cp, &again);
    rc = same_as_encoded(ERR_OK, &again, line, len, "a checkpoint", err);
    buf_free(&again);
    if (rc != ERR_OK)
        return rc;
    *out = cp;
    return ERR_OK;
}

/* ---- writing ---- */

err_code audit_append(store_t *s, const audit_entry *e, int64_t *seq_out, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    buf_t body = BUF_INIT, fr = BUF_INIT;
    audit_frontier f;
    int64_t size;
    const unsigned char *head;
    size_t head_len;

    err_code rc = store_audit_head(s, pool, &size, &head, &head_len, err);
    if (rc != ERR_OK)
        goto done;
    if (!head_frontier(size, head, head_len, &f)) {
        rc = err_set(err, ERR_INTERNAL, "the audit log's stored head is damaged");
        goto done;
    }
    if (size == INT64_MAX) {
        rc = err_set(err, ERR_TOO_LARGE, "the audit log is full");
        goto done;
    }
    if ((rc = audit_entry_encode(e, size + 1, &body, err)) != ERR_OK)
        goto done;

    unsigned char leaf[AUDIT_HASH_LEN];
    audit_leaf_hash(body.data, body.len, leaf);
    audit_frontier_add(&f, leaf);
    audit_frontier_encode(&f, &fr);
    if (buf_failed(&fr)) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto done;
    }
    /* The columns only index the body; the verifier checks they agree. */
    store_audit_row row = {
        .seq = size + 1,
        .at = e->at,
        .request_id = e->request_id,
        .subject_id = e->subject_id,
        .body = body.data,
        .body_len = body.len,
    };
    rc = store_audit_append(s, &row, (const unsigned char *)fr.data, fr.len, err);
    if (rc == ERR_OK && seq_out != NULL)
        *seq_out = size + 1;
done:
    buf_free(&body);
    buf_free(&fr);
    pool_free(pool);
    return rc;
}

err_code audit_checkpoint(store_t *s, const keyring_t *k, int64_t now, bool *made, err_t *err)
{
    *made = false;
    if (sodium_init() < 0)
        return err_set(err, ERR_INTERNAL, "libsodium failed to start");
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    int64_t size;
    const unsigned char *head;
    size_t head_len;
    store_checkpoint latest;
    err_code rc = store_audit_head(s, pool, &size, &head, &head_len, err);
    if (rc != ERR_OK || size == 0)
        goto done;
    rc = store_checkpoint_latest(s, &latest, err);
    if (rc == ERR_NOT_FOUND) {
        err_clear(err);
        latest.size = 0;
        rc = ERR_OK;
    }
    /* Nothing new since the latest checkpoint; or a head below it, which
     * means entries went missing: signing that would paper over it, so
     * nothing is signed and verification reports it. */
    if (rc != ERR_OK || size <= latest.size)
        goto done;

    /* Signed from the stored head, in O(log n): a head that disagrees with
     * the entries makes a checkpoint that disagrees with them too, and
     * verification finds it either way. */
    audit_frontier f;
    if (!head_frontier(size, head, head_len, &f)) {
        rc = err_set(err, ERR_INTERNAL, "the audit log's stored head is damaged");
        goto done;
    }
    store_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    cp.size = size;
    cp.at = now;
    audit_frontier_root(&f, cp.root);
    audit_checkpoint_sign(&cp, k);
    rc = store_checkpoint_insert(s, &cp, err);
    if (rc == ERR_OK)
        *made = true;
done:
    pool_free(pool);
    return rc;
}

err_code audit_commit(store_t *s, const keyring_t *k, int64_t now, err_code rc, err_t *err)
{
    bool made;
    if (rc == ERR_OK)
        rc = audit_checkpoint(s, k, now, &made, err);
    if (rc == ERR_OK)
        rc = store_commit(s, err);
    if (rc != ERR_OK)
        store_rollback(s);
    return rc;
}

/* ---- verifying: one state, fed entries and checkpoints in order ---- */

typedef struct {
    const unsigned char *pk;
    const store_checkpoint *pinned;
    audit_report *rep;
    audit_frontier f; /* the tree of the entries accepted so far */
    int64_t last_cp;  /* the size of the last checkpoint accepted; 0 = none */
    bool failed;      /* a problem was found: stop feeding */
} verifier;

static void vf_fail(verifier *v, int64_t bad_seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void vf_fail(verifier *v, int64_t bad_seq, const char *fmt, ...)
{
    if (v->failed)
        return; /* the first problem is the one reported */
    v->failed = true;
    v->rep->ok = false;
    v->rep->bad_seq = bad_seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->rep->problem, sizeof v->rep->problem, fmt, ap);
    va_end(ap);
}

static void vf_init(verifier *v, const unsigned char *pk, const store_checkpoint *pinned,
                    audit_report *rep)
{
    memset(rep, 0, sizeof *rep);
    memset(v, 0, sizeof *v);
    v->pk = pk;
    v->pinned = pinned;
    v->rep = rep;
    audit_frontier_init(&v->f);
    if (pinned != NULL) {
        if (pinned->size < 1)
            vf_fail(v, 0, "the pinned checkpoint has no size");
        else if (!audit_checkpoint_verify(pinned, pk))
            vf_fail(v, 0, "the pinned checkpoint does not verify with this key");
    }
}

static void vf_signed(verifier *v, int64_t size)
{
    if (size > v->rep->signed_size)
        v->rep->signed_size = size;
}

/* One entry, at the next position. row is the store's row (its seq and
 * the columns that index the body), NULL for an export line. */
static err_code vf_entry(verifier *v, const char *body, size_t len, const store_audit_row *row,
                         pool_t *pool, err_t *err)
{
    if (v->f.size == INT64_MAX) {
        vf_fail(v, 0, "the log is longer than any log can be");
        return ERR_OK;
    }
    int64_t want = v->f.size + 1;
    if (row != NULL && row->seq != want) {
        if (row->seq > want)
            vf_fail(v, want, "entry %" PRId64 " is missing", want);
        else
            vf_fail(v, want, "entry %" PRId64 " appears twice", row->seq);
        return ERR_OK;
    }

    audit_entry e;
    int64_t seq;
    err_t derr = {0};
    err_code rc = audit_entry_decode(body, len, pool, &e, &seq, &derr);
    if (rc == ERR_NOMEM)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (rc != ERR_OK) {
        vf_fail(v, want, "entry %" PRId64 " was altered: it is not a canonical entry", want);
        return ERR_OK;
    }
    if (seq != want) {
        if (row == NULL && seq > want)
            vf_fail(v, want, "entry %" PRId64 " is missing or out of order", want);
        else
            vf_fail(v, want, "entry %" PRId64 " was altered or moved: its body is entry %" PRId64,
                    want, seq);
        return ERR_OK;
    }
    if (row != NULL &&
        (row->at != e.at || row->request_id != e.request_id || row->subject_id != e.subject_id)) {
        vf_fail(v, want, "entry %" PRId64 " was altered: its indexed columns do not match its body",
                want);
        return ERR_OK;
    }

    unsigned char leaf[AUDIT_HASH_LEN];
    audit_leaf_hash(body, len, leaf);
    audit_frontier_add(&v->f, leaf);
    v->rep->entries = v->f.size;

    if (v->pinned != NULL && v->pinned->size == v->f.size) {
        unsigned char root[AUDIT_HASH_LEN];
        audit_frontier_root(&v->f, root);
        if (memcmp(root, v->pinned->root, AUDIT_HASH_LEN) != 0)
            vf_fail(v, 0, "the pinned checkpoint at size %" PRId64 " does not match the entries",
                    v->pinned->size);
        else
            vf_signed(v, v->pinned->size);
    }
    return ERR_OK;
}

/* One checkpoint, fed right after the entry that completes its size. */
static void vf_checkpoint(verifier *v, const store_checkpoint *cp)
{
    if (cp->size < 1) {
        vf_fail(v, 0, "a checkpoint has no size");
        return;
    }
    if (cp->size <= v->last_cp) {
        vf_fail(v, 0, "checkpoint at size %" PRId64 " is repeated or out of order", cp->size);
        return;
    }
    if (cp->size > v->f.size) {
        vf_fail(v, 0,
                "checkpoint at size %" PRId64 " comes after entry %" PRId64
                ": entries were removed",
                cp->size, v->f.size);
        return;
    }
    if (cp->size < v->f.size) {
        vf_fail(v, 0, "checkpoint at size %" PRId64 " is out of place (after entry %" PRId64 ")",
                cp->size, v->f.size);
        return;
    }
    /* The signature before the root: a bad signature means the checkpoint
     * itself was altered; a good one over another root means the entries
     * were. */
    if (memcmp(cp->public_key, v->pk, STORE_PUBKEY_LEN) != 0) {
        vf_fail(v, 0, "checkpoint at size %" PRId64 " is signed by another key", cp->size);
        return;
    }
    if (!audit_checkpoint_verify(cp, v->pk)) {
        vf_fail(v, 0, "checkpoint at size %" PRId64 " has a bad signature: it was altered",
                cp->size);
        return;
    }
    unsigned char root[AUDIT_HASH_LEN];
    audit_frontier_root(&v->f, root);
    if (memcmp(root, cp->root, AUDIT_HASH_LEN) != 0) {
        vf_fail(v, 0, "checkpoint at size %" PRId64 " does not match the entries", cp->size);
        return;
    }
    v->rep->checkpoints++;
    v->last_cp = cp->size;
    vf_signed(v, cp->size);
}

/* After the last entry. head is the store's head, read as a frontier;
 * NULL with head_ok for an export (which has none), NULL without it for a
 * stored head that is not a frontier at all. */
static void vf_finish(verifier *v, const audit_frontier *head, bool head_ok)
{
    if (v->failed)
        return;
    if (v->pinned != NULL && v->pinned->size > v->f.size) {
        vf_fail(v, 0,
                "the log ends at %" PRId64 " but the pinned checkpoint covers %" PRId64
                ": entries were removed",
                v->f.size, v->pinned->size);
        return;
    }
    if (head != NULL || !head_ok) {
        if (!head_ok)
            vf_fail(v, 0, "the stored head is damaged");
        else if (head->size != v->f.size)
            vf_fail(v, 0, "the stored head says %" PRId64 " entries but the log holds %" PRId64,
                    head->size, v->f.size);
        else if (!frontier_equal(head, &v->f))
            vf_fail(v, 0, "the stored head does not match the entries");
        if (v->failed)
            return;
    }
    if (v->f.size > 0 && v->rep->checkpoints == 0) {
        vf_fail(v, 0, "the log has %" PRId64 " entries and no checkpoint", v->f.size);
        return;
    }
    v->rep->ok = true;
    v->rep->problem[0] = '\0';
}

/* Feeds every checkpoint whose size has been reached; returns the index
 * of the first one still ahead. */
static size_t vf_feed_checkpoints(verifier *v, const store_checkpoint *cps, size_t n, size_t i)
{
    while (i < n && !v->failed && cps[i].size <= v->f.size)
        vf_checkpoint(v, &cps[i++]);
    return i;
}

/* ---- reading the log: what verifying and exporting share ---- */

/* The log's checkpoints, in size order, and its stored head. */
typedef struct {
    store_checkpoint *cps;
    size_t ncps;
    int64_t head_size;
    const unsigned char *head_bytes;
    size_t head_len;
} log_meta;

/* Reads the checkpoints and the head into pool, in the caller's read
 * transaction, so that they and the entries read next are one snapshot. */
static err_code log_meta_read(store_t *s, pool_t *pool, log_meta *m, err_t *err)
{
    memset(m, 0, sizeof *m);
    err_code rc = store_checkpoint_list(s, pool, &m->cps, &m->ncps, err);
    if (rc == ERR_OK)
        rc = store_audit_head(s, pool, &m->head_size, &m->head_bytes, &m->head_len, err);
    return rc;
}

/* The next page of entries, those after *after, in a pool of its own
 * (*page, the caller's to free whatever the result); *after moves to the
 * last one read. Fewer than AUDIT_PAGE rows means the log has ended. */
static err_code log_page(store_t *s, int64_t *after, pool_t **page, store_audit_row **rows,
                         size_t *n, err_t *err)
{
    *rows = NULL;
    *n = 0;
    *page = pool_new();
    if (*page == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    err_code rc = store_audit_entries(s, *after, AUDIT_PAGE, *page, rows, n, err);
    if (rc == ERR_OK && *n > 0)
        *after = (*rows)[*n - 1].seq;
    return rc;
}

static void report_error(audit_report *rep, const err_t *err)
{
    rep->ok = false;
    if (rep->problem[0] == '\0')
        snprintf(rep->problem, sizeof rep->problem, "the check could not run: %.200s",
                 err != NULL ? err->msg : "an error");
}

err_code audit_verify_store(store_t *s, const unsigned char pk[STORE_PUBKEY_LEN],
                            const store_checkpoint *pinned, audit_report *rep, err_t *err)
{
    verifier v;
    vf_init(&v, pk, pinned, rep);
    if (sodium_init() < 0)
        return err_set(err, ERR_INTERNAL, "libsodium failed to start");
    pool_t *meta = pool_new();
    if (meta == NULL) {
        err_set(err, ERR_NOMEM, "out of memory");
        report_error(rep, err);
        return ERR_NOMEM;
    }
    err_code rc = store_begin(s, err);
    if (rc != ERR_OK) {
        pool_free(meta);
        report_error(rep, err);
        return rc;
    }

    log_meta m;
    size_t next_cp = 0;
    if ((rc = log_meta_read(s, meta, &m, err)) != ERR_OK)
        goto done;

    next_cp = vf_feed_checkpoints(&v, m.cps, m.ncps, next_cp);
    int64_t after = 0;
    while (!v.failed) {
        pool_t *page;
        store_audit_row *rows;
        size_t n;
        rc = log_page(s, &after, &page, &rows, &n, err);
        for (size_t i = 0; rc == ERR_OK && i < n && !v.failed; i++) {
            rc = vf_entry(&v, rows[i].body, rows[i].body_len, &rows[i], page, err);
            next_cp = vf_feed_checkpoints(&v, m.cps, m.ncps, next_cp);
        }
        pool_free(page);
        if (rc != ERR_OK || n < AUDIT_PAGE)
            break;
    }
    if (rc == ERR_OK && !v.failed && next_cp < m.ncps)
        vf_fail(&v, 0,
                "the log ends at %" PRId64 " but a checkpoint covers %" PRId64
                ": entries were removed",
                v.f.size, m.cps[m.ncps - 1].size);
    if (rc == ERR_OK) {
        audit_frontier head;
        bool head_ok = head_frontier(m.head_size, m.head_bytes, m.head_len, &head);
        vf_finish(&v, head_ok ? &head : NULL, head_ok);
    }
done:
    /* Nothing was written: rolling back ends the read transaction. */
    store_rollback(s);
    pool_free(meta);
    if (rc != ERR_OK)
        report_error(rep, err);
    return rc;
}

/* ---- the export ---- */

static void export_header(buf_t *b, int64_t size, int64_t checkpoints)
{
    buf_puts(b, "{\"civic311_audit\":1,\"size\":");
    buf_put_i64(b, size);
    buf_puts(b, ",\"checkpoints\":");
    buf_put_i64(b, checkpoints);
    buf_putc(b, '}');
}

static err_code write_buf(FILE *out, buf_t *b, err_t *err)
{
    if (buf_failed(b))
        return err_set(err, ERR_NOMEM, "out of memory");
    if (b->len > 0 && fwrite(b->data, 1, b->len, out) != b->len)
        return err_set(err, ERR_IO, "could not write the audit export");
    buf_reset(b);
    return ERR_OK;
}

static void export_checkpoint(buf_t *b, const store_checkpoint *cp)
{
    audit_checkpoint_to_json(cp, b);
    buf_putc(b, '\n');
}

err_code audit_export(store_t *s, FILE *out, err_t *err)
{
    pool_t *meta = pool_new();
    if (meta == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    err_code rc = store_begin(s, err);
    if (rc != ERR_OK) {
        pool_free(meta);
        return rc;
    }
    buf_t b = BUF_INIT;
    log_meta m;
    size_t next_cp = 0;
    if ((rc = log_meta_read(s, meta, &m, err)) != ERR_OK)
        goto done;

    /* The export copies the store as it is, damage included: rows where
     * they are, every checkpoint after the row that completes its size (or
     * as near as the rows allow), so verifying the export finds whatever
     * verifying the store would. */
    export_header(&b, m.head_size, (int64_t)m.ncps);
    buf_putc(&b, '\n');
    if ((rc = write_buf(out, &b, err)) != ERR_OK)
        goto done;
    int64_t after = 0;
    for (;;) {
        pool_t *page;
        store_audit_row *rows;
        size_t n;
        rc = log_page(s, &after, &page, &rows, &n, err);
        for (size_t i = 0; rc == ERR_OK && i < n; i++) {
            while (next_cp < m.ncps && m.cps[next_cp].size < rows[i].seq)
                export_checkpoint(&b, &m.cps[next_cp++]);
            buf_append(&b, rows[i].body, rows[i].body_len);
            buf_putc(&b, '\n');
            while (next_cp < m.ncps && m.cps[next_cp].size == rows[i].seq)
                export_checkpoint(&b, &m.cps[next_cp++]);
        }
        if (rc == ERR_OK)
            rc = write_buf(out, &b, err);
        pool_free(page);
        if (rc != ERR_OK || n < AUDIT_PAGE)
            break;
    }
    if (rc != ERR_OK)
        goto done;
    while (next_cp < m.ncps)
        export_checkpoint(&b, &m.cps[next_cp++]);
    if ((rc = write_buf(out, &b, err)) != ERR_OK)
        goto done;
    if (fflush(out) != 0 || ferror(out))
        rc = err_set(err, ERR_IO, "could not write the audit export");
done:
    store_rollback(s);
    buf_free(&b);
    pool_free(meta);
    return rc;
}

typedef enum { LINE_OK, LINE_EOF, LINE_UNTERMINATED, LINE_TOO_LONG, LINE_ERROR } line_status;

/* One line without its '\n' into line (which holds max + 1 bytes). Only
 * '\n' ends a line: a '\r' or a NUL is part of it, and then not canonical. */
static line_status read_line(FILE *in, char *line, size_t max, size_t *len)
{
    size_t n = 0;
    for (;;) {
        int c = getc(in);
        if (c == EOF) {
            *len = n;
            if (ferror(in))
                return LINE_ERROR;
            return n == 0 ? LINE_EOF : LINE_UNTERMINATED;
        }
        if (c == '\n')
            break;
        if (n == max)
            return LINE_TOO_LONG;
        line[n++] = (char)c;
    }
    line[n] = '\0';
    *len = n;
    return LINE_OK;
}

static bool parse_header(const char *line, size_t len, int64_t *size, int64_t *checkpoints,
                         bool *nomem)
{
    err_code rc;
    json_t *root = json_parse(line, len, &rc);
    if (root == NULL) {
        *nomem = rc == ERR_NOMEM;
        return false;
    }
    int64_t version = 0;
    bool ok = json_is_object(root) && json_object_size(root) == 3 &&
              json_i64(json_object_get(root, "civic311_audit"), &version) && version == 1 &&
              json_i64(json_object_get(root, "size"), size) && *size >= 0 &&
              json_i64(json_object_get(root, "checkpoints"), checkpoints) && *checkpoints >= 0;
    json_decref(root);
    if (!ok)
        return false;
    buf_t again = BUF_INIT;
    export_header(&again, *size, *checkpoints);
    if (buf_failed(&again))
        *nomem = true;
    else
        ok = again.len == len && memcmp(again.data, line, len) == 0;
    buf_free(&again);
    return ok && !*nomem;
}

err_code audit_verify_export(FILE *in, const unsigned char pk[STORE_PUBKEY_LEN],
                             const store_checkpoint *pinned, audit_report *rep, err_t *err)
{
    verifier v;
    vf_init(&v, pk, pinned, rep);
    if (sodium_init() < 0)
        return err_set(err, ERR_INTERNAL, "libsodium failed to start");
    char *line = malloc(EXPORT_LINE_MAX + 1);
    if (line == NULL) {
        err_set(err, ERR_NOMEM, "out of memory");
        report_error(rep, err);
        return ERR_NOMEM;
    }
    pool_t *pool = NULL;
    err_code rc = ERR_OK;
    int64_t lineno = 0, want_size = 0, want_cps = 0, since_pool = 0;
    bool have_header = false;

    while (!v.failed) {
        size_t len = 0;
        line_status st = read_line(in, line, EXPORT_LINE_MAX, &len);
        if (st == LINE_EOF)
            break;
        if (st == LINE_ERROR) {
            rc = err_set(err, ERR_IO, "could not read the audit export");
            break;
        }
        lineno++;
        if (st == LINE_TOO_LONG) {
            vf_fail(&v, 0, "line %" PRId64 " of the export is too long", lineno);
            break;
        }
        if (st == LINE_UNTERMINATED) {
            vf_fail(&v, 0, "the export's last line has no newline: it was cut short");
            break;
        }
        if (len == 0) {
            vf_fail(&v, 0, "line %" PRId64 " of the export is empty", lineno);
            break;
        }
        if (!have_header) {
            bool nomem = false;
            if (!parse_header(line, len, &want_size, &want_cps, &nomem)) {
                if (nomem)
                    rc = err_set(err, ERR_NOMEM, "out of memory");
                else
                    vf_fail(&v, 0, "the export's first line is not its header");
                break;
            }
            have_header = true;
            continue;
        }
        /* Decoded strings are not kept: a fresh pool now and then bounds
         * the memory a long export takes. */
        if (pool == NULL || ++since_pool == AUDIT_PAGE) {
            pool_free(pool);
            since_pool = 0;
            if ((pool = pool_new()) == NULL) {
                rc = err_set(err, ERR_NOMEM, "out of memory");
                break;
            }
        }
        if (len >= sizeof EXPORT_CHECKPOINT_LINE - 1 &&
            memcmp(line, EXPORT_CHECKPOINT_LINE, sizeof EXPORT_CHECKPOINT_LINE - 1) == 0) {
            store_checkpoint cp;
            err_t cerr = {0};
            err_code crc = audit_checkpoint_from_json(line, len, &cp, &cerr);
            if (crc == ERR_NOMEM) {
                rc = err_set(err, ERR_NOMEM, "out of memory");
                break;
            }
            if (crc != ERR_OK)
                vf_fail(&v, 0, "line %" PRId64 " of the export is not a valid checkpoint", lineno);
            else
                vf_checkpoint(&v, &cp);
        } else if ((rc = vf_entry(&v, line, len, NULL, pool, err)) != ERR_OK) {
            break;
        }
    }

    if (rc == ERR_OK && !v.failed) {
        if (!have_header)
            vf_fail(&v, 0, "the export is empty");
        else if (want_size != v.f.size)
            vf_fail(&v, 0, "the export's header says %" PRId64 " entries but it holds %" PRId64,
                    want_size, v.f.size);
        else if (want_cps != rep->checkpoints)
            vf_fail(&v, 0, "the export's header says %" PRId64 " checkpoints but it holds %" PRId64,
                    want_cps, rep->checkpoints);
        vf_finish(&v, NULL, true);
    }
    pool_free(pool);
    free(line);
    if (rc != ERR_OK)
        report_error(rep, err);
    return rc;
}
