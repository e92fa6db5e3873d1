/*
 * gate.h - the gatekeeper: the only way to read personal data (P3).
 *
 * A read names the actor, the purpose (the policy's four: address the
 * request, conduct city business, emergency assistance, required by law)
 * and the record. The policy below decides by role x purpose x data class
 * x relationship (a resident's own request, a request routed to the
 * actor's agency, any other). Every read, allowed or refused, writes one
 * audit entry in the caller's transaction; callers commit even after a
 * refusal, so the refusal is on record.
 *
 * Everything else in Civic311 (search, lists, the public Open311 API)
 * sees requests without personal data: the store has no other reader.
 */
#ifndef CIVIC_GATE_H
#define CIVIC_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/request.h"
#include "privacy/keyring.h"
#include "store/store.h"
#include "util/err.h"
#include "util/pool.h"

typedef enum {
    GATE_RESIDENT = 0,     /* a member of the public, about their own requests */
    GATE_AGENT,            /* Contact Center agent */
    GATE_AGENCY_STAFF,     /* works the requests routed to their agencies */
    GATE_SUPERVISOR,       /* Contact Center or agency supervisor */
    GATE_PRIVACY_OFFICER,  /* handles access requests and investigations */
    GATE_RECORDS_OFFICER,  /* handles court orders and records requests */
    GATE_ADMIN,            /* runs the system: no need to know personal data */
    GATE_NOTIFIER          /* the outbox's sender: a follower's email, to tell them */
} gate_role;

#define GATE_ROLE_COUNT 8

typedef enum {
    GATE_PURPOSE_ADDRESS_REQUEST = 0,
    GATE_PURPOSE_CITY_BUSINESS,
    GATE_PURPOSE_EMERGENCY,
    GATE_PURPOSE_REQUIRED_BY_LAW
} gate_purpose;

#define GATE_PURPOSE_COUNT 4

typedef enum {
    GATE_REL_OWN = 0, /* the resident's own request (their subject) */
    GATE_REL_ROUTED,  /* routed to one of the actor's agencies */
    GATE_REL_OTHER
} gate_relation;

#define GATE_REL_COUNT 3

/* Stable names ("agency_staff", "address_request", "routed"), used in
 * the audit log, the CLI and the published policy. */
const char *gate_role_name(gate_role r);
bool gate_role_parse(const char *s, gate_role *out);
const char *gate_purpose_name(gate_purpose p);
bool gate_purpose_parse(const char *s, gate_purpose *out);
const char *gate_relation_name(gate_relation r);

/* Who is asking. */
typedef struct {
    gate_role role;
    const char *actor; /* pseudonymous, recorded: "staff:12", "account:7", "cli:jdoe" */
    const char *const *agencies; /* agency staff, supervisors: their agencies */
    size_t nagencies;
    int64_t subject_id; /* a resident: their own subject; else 0 */
} gate_actor;

/* The policy (P3), as data: may this role, for this purpose, read this
 * class of data on a request it stands in this relation to? */
bool gate_allows(gate_role role, gate_purpose purpose, data_class dc, gate_relation rel);

/* What one allowed read returns. */
typedef struct {
    int64_t request_id;
    int64_t subject_id;   /* 0 if the request holds no personal data */
    bool erased;          /* the data was erased (values gone, key shredded) */
    sr_reporter reporter; /* the fields held, of the classes asked; NULL if none */
    unsigned classes;     /* classes actually returned (DC_BIT mask) */
} gate_view;

/*
 * Reads the personal fields of the classes in class_mask of one visible
 * request, for purpose p. ERR_NOT_FOUND: no such request (nothing is
 * logged: no personal data exists to protect). ERR_FORBIDDEN: the policy
 * refuses at least one asked class (nothing is returned; a REFUSE entry is
 * written). Otherwise one READ entry naming the fields returned. Strings
 * come from pool.
 */
err_code gate_read_request(store_t *s, const keyring_t *k, const gate_actor *a, gate_purpose p,
                           int64_t request_id, unsigned class_mask, int64_t now, pool_t *pool,
                           gate_view *out, err_t *err);

/* Reads one sealed file (photo, recording) under the same rules, its
 * class and the request it belongs to deciding. Bytes from pool. */
err_code gate_read_blob(store_t *s, const keyring_t *k, const gate_actor *a, gate_purpose p,
                        int64_t blob_id, int64_t now, pool_t *pool, const unsigned char **data,
                        size_t *len, const char **content_type, err_t *err);

/*
 * Finds the requests whose reporter gave this email or phone ("email",
 * "phone"), through the blind index, newest first, at most max: a lookup
 * needs the right to read contact data on any request (GATE_REL_OTHER).
 * One LOOKUP entry (kind and how many found, never the value); a refusal
 * writes a REFUSE entry and returns ERR_FORBIDDEN. ERR_INVALID if the
 * value does not normalise (the message never repeats it).
 */
err_code gate_find_requests(store_t *s, const keyring_t *k, const gate_actor *a, gate_purpose p,
                            const char *kind, const char *value, size_t max, int64_t now,
                            pool_t *pool, int64_t **request_ids, size_t *count, err_t *err);

/* What gate_read_account returns: an account's own record. */
typedef struct {
    int64_t account_id;
    int64_t subject_id;
    const char *email;
    const char *display_name; /* NULL if none was given */
} gate_account_view;

/*
 * Reads an account's sealed record (its email and display name, data
 * class "account") under the same policy: a resident only their own
 * account (a->subject_id is the account's subject); staff roles stand in
 * relation "other" to an account, so only the roles the policy lets read
 * account data on any request (privacy and records officers, as required
 * by law) may. ERR_NOT_FOUND for no live account (nothing logged: there
 * is nothing to protect); ERR_FORBIDDEN with a REFUSE entry; else one READ
 * entry naming the fields. Strings come from pool.
 */
err_code gate_read_account(store_t *s, const keyring_t *k, const gate_actor *a, gate_purpose p,
                           int64_t account_id, int64_t now, pool_t *pool, gate_account_view *out,
                           err_t *err);

/*
 * The email to send outbox row outbox_id (kind email) to: the notifier's
 * one read (actor "system:notify", purpose address_request). The relation
 * is "own" while the row is pending and its target (the follower's
 * subject) still follows a request, i.e. the person asked to be told and
 * their address was not erased since; "other" otherwise, which the policy
 * refuses (REFUSE entry, ERR_FORBIDDEN). ERR_NOT_FOUND if the row, the
 * record or its email is gone (nothing read, nothing logged). Otherwise
 * one READ entry naming "email" only. *email comes from pool.
 */
err_code gate_read_follower_email(store_t *s, const keyring_t *k, const gate_actor *a,
                                  gate_purpose p, int64_t outbox_id, int64_t now, pool_t *pool,
                                  const char **email, err_t *err);

#endif
