/*
 * disclosure.h - the disclosure register (P4): the only way personal data
 * leaves Civic311 for a third party.
 *
 * The policies allow it once: "as required by a court of competent
 * jurisdiction" (NYC311), and in cooperation with law enforcement
 * (Miami-Dade), which goes through the same register. So:
 *
 *   1. a records or privacy officer records the order: who asks (a court
 *      or agency, and its reference), the legal basis, the received date,
 *      and its scope (the request numbers it names and the data classes);
 *   2. a DIFFERENT officer approves it. Neither policy demands two people;
 *      we chose it, as a second pair of eyes on the one act that sends a
 *      resident's data away (the schema enforces it too);
 *   3. while it is approved and not closed, an officer exports: every
 *      named request's personal data of the classes asked, each read
 *      through the gatekeeper for the purpose "required by law", written
 *      as one JSON document. The export is recorded in the register (who,
 *      when, which requests, which classes, the SHA-256 of the document)
 *      and each request's release is a "disclose" entry in the audit log;
 *   4. the order is closed; nothing more can be exported under it.
 *
 * A refused export (a role that is not an officer, an order not approved
 * or closed, a request or class outside its scope) reads and returns
 * nothing and writes one "refuse" entry, in the caller's transaction, as
 * the gatekeeper does; the caller commits it.
 *
 * The register holds no personal data: institutions, references, request
 * numbers and pseudonymous actors. The orders' texts are checked to be
 * short and printable; they must never name a person (the command's help
 * and the console say so) since the register is kept for good.
 */
#ifndef CIVIC_DISCLOSURE_H
#define CIVIC_DISCLOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "privacy/gate.h"
#include "privacy/keyring.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/pool.h"

/* Where an order stands. */
typedef enum {
    DISCLOSURE_RECORDED = 0, /* waiting for a second officer */
    DISCLOSURE_APPROVED,     /* open: exports allowed */
    DISCLOSURE_CLOSED        /* done (or withdrawn): nothing more */
} disclosure_state;

const char *disclosure_state_name(disclosure_state st); /* "recorded", "approved", "closed" */
disclosure_state disclosure_state_of(const store_disclosure *o);

/* Records and privacy officers: the only roles that act on the register. */
bool disclosure_role_may_act(gate_role r);

#define DISCLOSURE_REFERENCE_MAX 64 /* printable ASCII: it goes into the audit log */
#define DISCLOSURE_TEXT_MAX 200     /* requester, legal basis: UTF-8 bytes */

/* A new order, as an officer types it. */
typedef struct {
    const char *requester;   /* the court or agency that asks */
    const char *reference;   /* its docket, case or request number */
    const char *legal_basis; /* the statute, rule or order relied on */
    int64_t received_at;
    const int64_t *request_ids; /* the requests it names, any order */
    size_t nrequests;
    unsigned classes; /* DC_BIT mask of the data classes it covers */
} disclosure_order_input;

/*
 * Records an order (state "recorded") and sets *order_id. ERR_FORBIDDEN
 * for a role that may not act on the register; ERR_INVALID for a missing
 * or malformed field (a reference that is not printable ASCII, a text with
 * control characters, no request, too many, a repeat, a received date in
 * the future); ERR_NOT_FOUND for a request that does not exist;
 * ERR_CONFLICT when this requester's reference is registered already. In
 * the caller's transaction.
 */
err_code disclosure_register(store_t *s, const gate_actor *a, const disclosure_order_input *in,
                             int64_t now, int64_t *order_id, err_t *err);

/* Approves a recorded order: ERR_FORBIDDEN for a role that may not act,
 * or for the officer who recorded it (the two-person rule); ERR_CONFLICT
 * when it is approved or closed already; ERR_NOT_FOUND. */
err_code disclosure_approve(store_t *s, const gate_actor *a, int64_t order_id, int64_t now,
                            err_t *err);

/* Closes an order (approved or not) for good: ERR_FORBIDDEN for a role
 * that may not act; ERR_CONFLICT if closed already; ERR_NOT_FOUND. */
err_code disclosure_close(store_t *s, const gate_actor *a, int64_t order_id, int64_t now,
                          err_t *err);

/* What an export leaves behind for the officer. */
typedef struct {
    int64_t export_id;
    int64_t order_id;
    size_t nrequests;
    unsigned classes;
    unsigned char digest[STORE_DISCLOSURE_DIGEST_LEN]; /* SHA-256 of the document */
    char digest_hex[2 * STORE_DISCLOSURE_DIGEST_LEN + 1];
} disclosure_receipt;

/*
 * Exports under an approved, open order: the requests in request_ids
 * (nrequests 0: every request the order names), the classes in classes (0:
 * every class the order covers), appended to doc as one JSON document:
 *
 *   {"civic311_disclosure":1,
 *    "order":{"id":..,"requester":..,"reference":..,"legal_basis":..,
 *             "received":..,"recorded_by":..,"approved_by":..,"approved_at":..},
 *    "export":{"by":..,"role":..,"purpose":"required_by_law","at":..,
 *              "classes":[..]},
 *    "requests":[{"request":N,"service_code":..,"requested":..,"erased":false,
 *                 "fields":{"first_name":..,..},
 *                 "files":[{"class":"media","content_type":..,"size":..,
 *                           "data":"<base64>"}]}, ...]}
 *
 * by request number. Each read goes through the gatekeeper (one "read"
 * entry each); the export is recorded (store_disclosure_export_insert) and
 * each request gets a "disclose" entry naming the order, its reference,
 * the export and the start of the digest. Refusals: ERR_FORBIDDEN with one
 * "refuse" entry and doc untouched (see the top of this file). ERR_NOT_FOUND
 * for no such order. In the caller's transaction: the caller commits, and
 * only then sends the document anywhere.
 */
err_code disclosure_export(store_t *s, const keyring_t *k, const gate_actor *a, int64_t order_id,
                           const int64_t *request_ids, size_t nrequests, unsigned classes,
                           int64_t now, pool_t *pool, buf_t *doc, disclosure_receipt *out,
                           err_t *err);

/*
 * The side door, closed: a records officer's need to know personal data is
 * the court orders it answers, so it reads personal data only through an
 * export under an approved order, never directly (`civic311 personal
 * show`, a console page). A direct read calls this first: for a records
 * officer it writes one "refuse" entry naming the request and returns
 * ERR_FORBIDDEN (saying to use the register); for any other role it
 * writes nothing and returns ERR_OK, and the gatekeeper decides as ever.
 * ERR_NOT_FOUND, with nothing written, for a request that does not exist.
 */
err_code disclosure_check_direct_read(store_t *s, const gate_actor *a, gate_purpose p,
                                      int64_t request_id, unsigned classes, int64_t now,
                                      err_t *err);

#endif
