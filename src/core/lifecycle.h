/*
 * lifecycle.h - the life of a service request (W3, W4, W5): which changes
 * staff may make to a request in which state, and the history event each
 * change becomes.
 *
 *   open -> acknowledged -> in_progress -> closed (with a resolution)
 *   closed -> reopened -> acknowledged | in_progress | closed
 *
 * Any state but closed may close; a closed request can only be reopened.
 * Besides status changes there are notes (any state), transfers to another
 * agency (a misrouted request, W2) and merges into another open request of
 * the same service (a duplicate, W5). docs/DESIGN.md has the table.
 *
 * Pure domain code: no I/O, no SQL. The store (store_request_change) reads
 * the request's current state in the caller's transaction, asks lc_check,
 * and writes the event lc_event makes, so every writer - the CLI, the staff
 * pages, bulk actions - obeys the same rules. Messages name states and
 * fields, never a note's text.
 */
#ifndef CIVIC_LIFECYCLE_H
#define CIVIC_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/request.h"
#include "util/err.h"
#include "util/pool.h"

#define LC_NOTE_MAX 4000 /* bytes of UTF-8 */
#define LC_ACTOR_MAX 64  /* bytes: "staff:12", "cli:jane" */

/*
 * One change to one request. Exactly one of: a status change (set_status),
 * a transfer (transfer_to), a merge (merge_into), or - none of those - a
 * note alone. A note may go with any of them.
 */
typedef struct {
    bool set_status;
    sr_status status;         /* with set_status: the new status */
    sr_resolution resolution; /* closing: required; otherwise SR_RES_NONE */
    const char *note;         /* NULL = none */
    bool note_public;         /* shown on Open311 and to the reporter */
    const char *transfer_to;  /* an agency code; NULL = no transfer */
    int64_t merge_into;       /* a request id; 0 = no merge */
    const char *actor;        /* pseudonymous and internal: "staff:12", "cli:jane" */
    int64_t at;               /* Unix seconds */
} lc_change;

typedef enum { LC_NOTE = 0, LC_STATUS, LC_TRANSFER, LC_MERGE } lc_kind;

/* Which of the four a change is (lc_check refuses a change that mixes
 * them). */
lc_kind lc_change_kind(const lc_change *ch);

/* Whether the state machine has an edge from -> to (the status rules
 * alone: resolutions and notes are lc_check's). For pages that offer only
 * the buttons that can work. */
bool lc_status_allowed(sr_status from, sr_status to);

/*
 * ERR_OK if ch may be made to cur (a visible request as stored now), else
 * ERR_INVALID with a message saying which rule refuses it. cat supplies
 * the agencies a transfer may go to. merge_target is the request
 * ch->merge_into names, as stored now, or NULL if there is none (then a
 * merge fails ERR_NOT_FOUND); ignored for other changes.
 */
err_code lc_check(const service_request *cur, const lc_change *ch, const catalog *cat,
                  const service_request *merge_target, err_t *err);

/*
 * The history event ch becomes on cur (after lc_check said yes): its kind,
 * the status and resolution after it, the note (a merge's public note,
 * "Duplicate of request N.", with ch->note after it, is built in pool),
 * and for a transfer the agencies before and after. A transfer puts an
 * acknowledged or in-progress request back to open: the new agency has
 * not seen it yet.
 */
err_code lc_event(const service_request *cur, const lc_change *ch, pool_t *pool, sr_event *out,
                  err_t *err);

#endif
