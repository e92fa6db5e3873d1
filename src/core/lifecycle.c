/*
 * lifecycle.c - the rules of a request's life and the events its changes
 * become. See lifecycle.h; the state machine is the table below.
 *
 * Owns: which status follows which, what a close, a reopen, a transfer and
 * a merge need. Never reads or writes storage, and never puts a note's
 * text (a staff member's words, maybe about a person) in a message.
 */
#include "core/lifecycle.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

/*
 * ALLOWED[from][to]: the edges of the state machine. Forward only (a
 * request in progress does not go back to acknowledged), open only at the
 * start, every state but closed may close, closed only reopens.
 */
static const bool ALLOWED[SR_STATUS_COUNT][SR_STATUS_COUNT] = {
    [SR_OPEN] = {[SR_ACKNOWLEDGED] = true, [SR_IN_PROGRESS] = true, [SR_CLOSED] = true},
    [SR_ACKNOWLEDGED] = {[SR_IN_PROGRESS] = true, [SR_CLOSED] = true},
    [SR_IN_PROGRESS] = {[SR_CLOSED] = true},
    [SR_REOPENED] = {[SR_ACKNOWLEDGED] = true, [SR_IN_PROGRESS] = true, [SR_CLOSED] = true},
    [SR_CLOSED] = {[SR_REOPENED] = true},
};

bool lc_status_allowed(sr_status from, sr_status to)
{
    if ((unsigned)from >= SR_STATUS_COUNT || (unsigned)to >= SR_STATUS_COUNT)
        return false;
    return ALLOWED[from][to];
}

lc_kind lc_change_kind(const lc_change *ch)
{
    if (ch->merge_into != 0)
        return LC_MERGE;
    if (ch->transfer_to != NULL)
        return LC_TRANSFER;
    if (ch->set_status)
        return LC_STATUS;
    return LC_NOTE;
}

/* Printable ASCII without spaces: an actor is an id, never a name typed
 * by a resident. */
static bool actor_ok(const char *a)
{
    size_t n = a != NULL ? strlen(a) : 0;
    if (n == 0 || n > LC_ACTOR_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (a[i] <= ' ' || a[i] > '~')
            return false;
    return true;
}

/* 1..LC_NOTE_MAX bytes of UTF-8 with something besides white space in it,
 * and no control characters but line breaks and tabs. */
static err_code check_note(const char *note, err_t *err)
{
    size_t n = strlen(note);
    if (n == 0 || n > LC_NOTE_MAX || !utf8_valid(note, n))
        return err_set(err, ERR_INVALID, "a note must be 1-%d bytes of UTF-8 text", LC_NOTE_MAX);
    bool text = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)note[i];
        if ((ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') || ch == 0x7f)
            return err_set(err, ERR_INVALID, "a note must not hold control characters");
        if (ch > ' ')
            text = true;
    }
    if (!text)
        return err_set(err, ERR_INVALID, "a note must not be blank");
    return ERR_OK;
}

/* The change's parts that do not depend on the request. */
static err_code check_shape(const lc_change *ch, err_t *err)
{
    if (!actor_ok(ch->actor))
        return err_set(err, ERR_INVALID, "the actor must be 1-%d printable characters",
                       LC_ACTOR_MAX);
    if (ch->at <= 0)
        return err_set(err, ERR_INVALID, "the change has no time");
    int parts = (ch->set_status ? 1 : 0) + (ch->transfer_to != NULL ? 1 : 0) +
                (ch->merge_into != 0 ? 1 : 0);
    if (parts > 1)
        return err_set(err, ERR_INVALID,
                       "one change at a time: a status, a transfer or a merge, each with a note");
    if (ch->note != NULL) {
        err_code ec = check_note(ch->note, err);
        if (ec != ERR_OK)
            return ec;
    }
    if (ch->merge_into < 0)
        return err_set(err, ERR_INVALID, "the request to merge into must be a request number");
    if (ch->set_status && ((unsigned)ch->status >= SR_STATUS_COUNT ||
                           (unsigned)ch->resolution > (unsigned)SR_RES_NOT_FIXED))
        return err_set(err, ERR_INVALID, "the status or resolution is out of range");
    if (!ch->set_status && ch->resolution != SR_RES_NONE)
        return err_set(err, ERR_INVALID, "a resolution goes only with closing");
    if (lc_change_kind(ch) == LC_NOTE && ch->note == NULL)
        return err_set(err, ERR_INVALID,
                       "the change has nothing in it: give a status, a "
                       "transfer, a merge or a note");
    return ERR_OK;
}

/* Why ALLOWED has no edge from -> to, in words. */
static err_code refuse_edge(sr_status from, sr_status to, err_t *err)
{
    if (from == to)
        return err_set(err, ERR_INVALID, "the request is %s already", sr_status_name(from));
    if (from == SR_CLOSED)
        return err_set(err, ERR_INVALID, "a closed request can only be reopened");
    if (to == SR_REOPENED)
        return err_set(err, ERR_INVALID, "only a closed request can be reopened");
    if (to == SR_OPEN)
        return err_set(err, ERR_INVALID,
                       "a request is open only until someone acknowledges "
                       "it; it cannot go back to open");
    return err_set(err, ERR_INVALID, "a request that is %s cannot go back to %s",
                   sr_status_name(from), sr_status_name(to));
}

static err_code check_status(const service_request *cur, const lc_change *ch, err_t *err)
{
    if (ch->status != SR_CLOSED && ch->resolution != SR_RES_NONE)
        return err_set(err, ERR_INVALID, "a resolution goes only with closing");
    if (!ALLOWED[cur->status][ch->status])
        return refuse_edge(cur->status, ch->status, err);
    if (ch->status != SR_CLOSED) {
        if (ch->status == SR_REOPENED && ch->note == NULL)
            return err_set(err, ERR_INVALID, "reopening needs a note saying why");
        return ERR_OK;
    }
    if (ch->resolution == SR_RES_NONE)
        return err_set(err, ERR_INVALID,
                       "closing needs a resolution: fixed, duplicate, not_responsible, "
                       "could_not_find or not_fixed");
    /* Closed but not fixed is never a silent "closed" (issue 5): the
     * reporter is told why. */
    if (ch->resolution != SR_RES_FIXED && (ch->note == NULL || !ch->note_public))
        return err_set(err, ERR_INVALID, "closing as %s needs a public note saying why",
                       sr_resolution_name(ch->resolution));
    return ERR_OK;
}

static err_code check_transfer(const service_request *cur, const lc_change *ch, const catalog *cat,
                               err_t *err)
{
    if (cur->status == SR_CLOSED)
        return err_set(err, ERR_INVALID, "a closed request cannot be transferred");
    if (ch->note == NULL)
        return err_set(err, ERR_INVALID, "a transfer needs a note saying why");
    if (cat == NULL || catalog_find_agency(cat, ch->transfer_to) == NULL)
        return err_set(err, ERR_INVALID, "there is no agency with that code");
    if (cur->agency_code != NULL && strcmp(cur->agency_code, ch->transfer_to) == 0)
        return err_set(err, ERR_INVALID, "the request is routed to that agency already");
    return ERR_OK;
}

static err_code check_merge(const service_request *cur, const lc_change *ch,
                            const service_request *target, err_t *err)
{
    if (cur->status == SR_CLOSED)
        return err_set(err, ERR_INVALID, "a closed request cannot be merged");
    if (ch->merge_into == cur->id)
        return err_set(err, ERR_INVALID, "a request cannot be merged into itself");
    if (ch->note != NULL && !ch->note_public)
        return err_set(err, ERR_INVALID,
                       "a merge's note is public (it tells the reporter which request to "
                       "follow); add an internal note as a change of its own");
    if (target == NULL || target->id != ch->merge_into)
        return err_set(err, ERR_NOT_FOUND, "there is no request %" PRId64 " to merge into",
                       ch->merge_into);
    if (target->merged_into != 0)
        return err_set(err, ERR_INVALID,
                       "request %" PRId64 " is itself merged into another; merge into that one",
                       target->id);
    if (target->status == SR_CLOSED)
        return err_set(err, ERR_INVALID,
                       "request %" PRId64 " is closed: merge only into an "
                       "open request",
                       target->id);
    if (cur->service_code == NULL || target->service_code == NULL ||
        strcmp(cur->service_code, target->service_code) != 0)
        return err_set(err, ERR_INVALID,
                       "request %" PRId64 " is of another service: merge only duplicates of "
                       "the same service",
                       target->id);
    return ERR_OK;
}

err_code lc_check(const service_request *cur, const lc_change *ch, const catalog *cat,
                  const service_request *merge_target, err_t *err)
{
    if (cur == NULL || ch == NULL)
        return err_set(err, ERR_INVALID, "lc_check: no request or no change");
    if ((unsigned)cur->status >= SR_STATUS_COUNT)
        return err_set(err, ERR_INVALID, "the request's status is out of range");
    err_code ec = check_shape(ch, err);
    if (ec != ERR_OK)
        return ec;
    switch (lc_change_kind(ch)) {
    case LC_STATUS:
        return check_status(cur, ch, err);
    case LC_TRANSFER:
        return check_transfer(cur, ch, cat, err);
    case LC_MERGE:
        return check_merge(cur, ch, merge_target, err);
    case LC_NOTE:
        break;
    }
    return ERR_OK; /* a note alone is fine on any state */
}

/* "Duplicate of request N." and the staff's note after it, if any. */
static const char *merge_note(const lc_change *ch, pool_t *pool)
{
    char head[64];
    snprintf(head, sizeof head, "Duplicate of request %" PRId64 ".", ch->merge_into);
    if (ch->note == NULL)
        return pool_strdup(pool, head);
    size_t hn = strlen(head), nn = strlen(ch->note);
    char *s = pool_alloc(pool, hn + 1 + nn + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, head, hn);
    s[hn] = ' ';
    memcpy(s + hn + 1, ch->note, nn + 1);
    return s;
}

err_code lc_event(const service_request *cur, const lc_change *ch, pool_t *pool, sr_event *out,
                  err_t *err)
{
    memset(out, 0, sizeof *out);
    out->request_id = cur->id;
    out->at = ch->at;
    out->actor = ch->actor;
    out->status = cur->status;
    out->resolution = cur->resolution;
    out->note = ch->note;
    out->public_note = ch->note != NULL && ch->note_public;
    switch (lc_change_kind(ch)) {
    case LC_NOTE:
        out->kind = SR_EV_NOTE;
        break;
    case LC_STATUS:
        out->kind = SR_EV_STATUS;
        out->status = ch->status;
        out->resolution = ch->status == SR_CLOSED ? ch->resolution : SR_RES_NONE;
        break;
    case LC_TRANSFER:
        out->kind = SR_EV_TRANSFER;
        out->from_agency = cur->agency_code;
        out->to_agency = ch->transfer_to;
        if (cur->status == SR_ACKNOWLEDGED || cur->status == SR_IN_PROGRESS)
            out->status = SR_OPEN;
        break;
    case LC_MERGE:
        out->kind = SR_EV_MERGE;
        out->status = SR_CLOSED;
        out->resolution = SR_RES_DUPLICATE;
        out->merged_into = ch->merge_into;
        out->note = merge_note(ch, pool);
        out->public_note = true;
        if (out->note == NULL)
            return err_set(err, ERR_NOMEM, "out of memory");
        break;
    }
    return ERR_OK;
}
