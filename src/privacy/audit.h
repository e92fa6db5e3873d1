/*
 * audit.h - the tamper-evident audit log of personal data (P3, P6, P8).
 *
 * Every collection, read, refusal, lookup, disclosure, erasure and hold
 * appends one entry, in the same transaction as the act it records. An
 * entry holds no personal data: actors and people are pseudonymous ids
 * ("staff:12", "s:345"), fields are named, never given.
 *
 * Entries are the leaves of a Merkle tree hashed as in Certificate
 * Transparency (RFC 6962 section 2.1, SHA-256):
 *     leaf hash = SHA-256(0x00 || entry)
 *     node hash = SHA-256(0x01 || left || right)
 * where entry is the entry's canonical JSON body (keys in a fixed order,
 * no spaces; decoding re-encodes and insists on the same bytes, so no two
 * byte strings mean the same entry). The body carries its own seq and
 * time, so reordering rows changes their leaves.
 *
 * The store keeps the tree's right edge (the "frontier": one hash per set
 * bit of the size), so an append costs O(log n) hashes; within a write
 * transaction the store keeps it with the connection and writes it once,
 * at commit, so the stored head matches the entries after every commit. A checkpoint is a
 * signed tree head: Ed25519 over (size, time, root). audit_verify_*
 * recompute every leaf and every checkpoint's root from the entries, so an
 * edited, deleted, reordered or truncated entry is found; a checkpoint
 * exported earlier ("pinned") also catches a truncation that took the
 * later checkpoints with it.
 */
#ifndef CIVIC_AUDIT_H
#define CIVIC_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "privacy/keyring.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/pool.h"

typedef enum {
    AUDIT_COLLECT = 0, /* personal data taken in (a request filed, a file stored) */
    AUDIT_READ,        /* personal data shown to an actor through the gatekeeper */
    AUDIT_REFUSE,      /* the gatekeeper refused a read */
    AUDIT_LOOKUP,      /* a blind-index search (email, phone) */
    AUDIT_DISCLOSE,    /* personal data sent outside (disclosure register) */
    AUDIT_ERASE,       /* erasure receipt: values deleted, key shredded */
    AUDIT_HOLD,        /* a legal hold placed */
    AUDIT_RELEASE,     /* a legal hold released */
    AUDIT_ROTATE,      /* data keys re-wrapped under a new key-encryption key */
    AUDIT_SIGN_IN,     /* a staff sign-in step, accepted or refused (the reason says which) */
    AUDIT_STAFF        /* a staff account added, disabled, enabled or reset */
} audit_action;

#define AUDIT_ACTION_COUNT 11

const char *audit_action_name(audit_action a); /* "collect", "read", ... */
bool audit_action_parse(const char *s, audit_action *out);

/* Text fields are short printable ASCII (at most AUDIT_TEXT_MAX bytes):
 * identifiers, names of fields and classes, a reason such as "retention"
 * or "court order 2026-CV-0412". Never a personal value. */
#define AUDIT_TEXT_MAX 200

typedef struct {
    int64_t at;
    audit_action action;
    const char *actor;   /* required: "api:3", "staff:12", "cli:privacy_officer", "system" */
    const char *role;    /* the actor's role for gatekeeper decisions, or NULL */
    const char *purpose; /* the stated purpose, or NULL */
    int64_t subject_id;  /* the person ("s:<id>"), 0 = none */
    int64_t request_id;  /* 0 = none */
    const char *fields;  /* comma-separated field or class names, or NULL */
    const char *reason;  /* why (erasures, holds, refusals), or NULL */
    int64_t count;       /* lookups: matches; erasures: values erased; -1 = none */
} audit_entry;

/* An entry with every optional field empty (count -1). */
audit_entry audit_entry_init(int64_t at, audit_action action, const char *actor);

/* The canonical body of entry e at position seq. ERR_INVALID if a text
 * field is missing, too long, or not printable ASCII. */
err_code audit_entry_encode(const audit_entry *e, int64_t seq, buf_t *out, err_t *err);
/* Parses a body; strings come from pool. ERR_INVALID unless body is
 * exactly the canonical encoding of what it decodes to. */
err_code audit_entry_decode(const char *body, size_t len, pool_t *pool, audit_entry *out,
                            int64_t *seq, err_t *err);

/* ---- the Merkle tree (RFC 6962) ---- */

#define AUDIT_HASH_LEN 32
#define AUDIT_MAX_DEPTH 63

void audit_leaf_hash(const void *entry, size_t len, unsigned char out[AUDIT_HASH_LEN]);
void audit_node_hash(const unsigned char left[AUDIT_HASH_LEN],
                     const unsigned char right[AUDIT_HASH_LEN], unsigned char out[AUDIT_HASH_LEN]);

/* The right edge of a tree of `size` leaves: node[i] is the root of the
 * complete subtree of 2^i leaves, for every set bit i of size. */
typedef struct {
    int64_t size;
    unsigned char node[AUDIT_MAX_DEPTH][AUDIT_HASH_LEN];
} audit_frontier;

void audit_frontier_init(audit_frontier *f);
void audit_frontier_add(audit_frontier *f, const unsigned char leaf[AUDIT_HASH_LEN]);
/* The RFC 6962 Merkle tree hash of the leaves added so far (SHA-256 of
 * the empty string for none). */
void audit_frontier_root(const audit_frontier *f, unsigned char out[AUDIT_HASH_LEN]);
/* The stored form (what store_audit_head keeps): 8-byte big-endian size,
 * then the set nodes from the highest bit down. */
void audit_frontier_encode(const audit_frontier *f, buf_t *out);
err_code audit_frontier_decode(const unsigned char *p, size_t len, audit_frontier *f, err_t *err);

/* ---- checkpoints (signed tree heads) ---- */

/* The signed message: "civic311-audit-checkpoint-v1\n<size>\n<at>\n<root hex>\n". */
void audit_checkpoint_message(const store_checkpoint *cp, buf_t *out);
void audit_checkpoint_sign(store_checkpoint *cp, const keyring_t *k);
/* True if cp->public_key equals pk and the signature verifies with it. */
bool audit_checkpoint_verify(const store_checkpoint *cp,
                             const unsigned char pk[STORE_PUBKEY_LEN]);
/* One line of JSON, {"checkpoint":{"size":..,"at":..,"root":"hex",
 * "public_key":"hex","signature":"hex"}} with no newline, and back
 * (strictly canonical, as entries are). */
void audit_checkpoint_to_json(const store_checkpoint *cp, buf_t *out);
err_code audit_checkpoint_from_json(const char *line, size_t len, store_checkpoint *out,
                                    err_t *err);

/* ---- writing, in the caller's transaction ---- */

/* Appends e as the next entry. Sets *seq_out (may be NULL). */
err_code audit_append(store_t *s, const audit_entry *e, int64_t *seq_out, err_t *err);

/* Signs a checkpoint of the tree as it stands, if it has grown since the
 * latest one (else *made = false and nothing is written). */
err_code audit_checkpoint(store_t *s, const keyring_t *k, int64_t now, bool *made, err_t *err);

/* Ends the caller's transaction after a step that returned rc: when rc is
 * ERR_OK, signs a checkpoint (audit_checkpoint) and commits; else, or if
 * either fails, rolls back. Returns the first failure. */
err_code audit_commit(store_t *s, const keyring_t *k, int64_t now, err_code rc, err_t *err);

/* ---- verifying ---- */

typedef struct {
    bool ok;
    int64_t entries;      /* entries checked */
    int64_t checkpoints;  /* checkpoints checked */
    int64_t signed_size;  /* entries covered by the latest valid checkpoint */
    int64_t bad_seq;      /* the first entry found wrong; 0 if none or not one entry */
    char problem[ERR_MSG_MAX]; /* the first problem found, for people; "" when ok */
} audit_report;

/* Recomputes the whole log in s (in its own read transaction): each
 * entry's canonical form and position, the columns that index it, every
 * checkpoint's root and signature (with pk), the stored head, and the
 * pinned checkpoint if given. A log with entries and no checkpoint fails;
 * entries after the latest checkpoint are counted (entries - signed_size)
 * but pass. ERR_OK means the check ran: rep->ok is the verdict. */
err_code audit_verify_store(store_t *s, const unsigned char pk[STORE_PUBKEY_LEN],
                            const store_checkpoint *pinned, audit_report *rep, err_t *err);

/* Writes the log as JSON lines: a header
 * {"civic311_audit":1,"size":N,"checkpoints":M}, then each entry's body,
 * each checkpoint's line right after the entry that completes its size.
 * The header counts the checkpoints too, so a checkpoint line cannot be
 * dropped unnoticed. Entries after the last checkpoint are signed by
 * nothing: an export made to be checked later should be preceded by
 * audit_checkpoint. */
err_code audit_export(store_t *s, FILE *out, err_t *err);

/* Verifies an export as audit_verify_store verifies the store; every byte
 * of the file is covered (a line that is not canonical fails). */
err_code audit_verify_export(FILE *in, const unsigned char pk[STORE_PUBKEY_LEN],
                             const store_checkpoint *pinned, audit_report *rep, err_t *err);

#endif
