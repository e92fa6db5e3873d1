/*
 * retention.h - keeping personal data only as long as its purpose needs
 * (P6), and erasing it for real.
 *
 * A schedule gives each data class its period: contact, account and media
 * data a period after the request closes (a reopened request is not
 * closed); device data and call recordings a period after collection
 * (recordings: 14 days). Legal holds on a request or a person pause
 * erasure. Erasing deletes the sealed values (SQLite zeroes freed pages:
 * secure_delete), clears their blind indexes, shreds the person's data key
 * once nothing else is sealed under it, and writes an ERASE receipt to the
 * audit log. The caller then compacts the store (store_compact) so no old
 * page survives in the WAL; retention_run does all of it.
 *
 * Time is always passed in (`now`), so tests drive the clock.
 */
#ifndef CIVIC_RETENTION_H
#define CIVIC_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/request.h"
#include "privacy/keyring.h"
#include "store/store.h"
#include "util/err.h"

#define RETENTION_KEEP (-1) /* a period that never ends */
#define RETENTION_DAY 86400

typedef struct {
    /* Seconds, or RETENTION_KEEP. */
    int64_t period[DC_COUNT];
    /* Per class: counted from the request's closing (true) or from
     * collection (false). Fixed by class, see retention_defaults. */
    bool after_close[DC_COUNT];
    /* A file uploaded for a report that was never sent (a photo on the
     * review step, then the page closed) is tied to no request: it is
     * erased this long after its upload. Seconds; a day by default. */
    int64_t unsent_file;
} retention_schedule;

/* contact 90 days after close, account 90 days after close, media 90 days
 * after close, device 30 days after collection, recording 14 days after
 * collection; files of reports never sent, a day after upload. */
void retention_defaults(retention_schedule *rs);

typedef struct {
    int64_t requests; /* requests that lost personal data */
    int64_t values;   /* sealed fields erased */
    int64_t blobs;    /* sealed files erased */
    int64_t subjects; /* data keys shredded */
    int64_t held;     /* erasures refused because of a legal hold */
} retention_report;

/*
 * Erases what is due at `now`, at most max requests and max blobs, in the
 * caller's transaction. *more is true if there may be more due (call
 * again after committing). Adds to rep.
 */
err_code retention_step(store_t *s, const retention_schedule *rs, int64_t now, size_t max,
                        retention_report *rep, bool *more, err_t *err);

/* The whole pass, for the CLI: steps in transactions of `batch`, signs an
 * audit checkpoint with each, and compacts the store at the end if
 * anything was erased. Outside any transaction. */
err_code retention_run(store_t *s, const keyring_t *k, const retention_schedule *rs, int64_t now,
                       size_t batch, retention_report *rep, err_t *err);

/*
 * Erases the personal data of the classes in class_mask from one request
 * now (the reporter asked, or a privacy officer decided), with an ERASE
 * receipt naming actor and reason. ERR_CONFLICT if a legal hold covers the
 * request or its person; ERR_NOT_FOUND if no such request. In the caller's
 * transaction.
 */
err_code retention_erase_request(store_t *s, int64_t request_id, unsigned class_mask,
                                 const char *actor, const char *reason, int64_t now,
                                 retention_report *rep, err_t *err);

/* Legal holds, each with a HOLD or RELEASE audit entry. At least one of
 * request_id and subject_id. In the caller's transaction. */
err_code retention_hold_place(store_t *s, int64_t request_id, int64_t subject_id,
                              const char *reason, const char *actor, int64_t now, int64_t *id_out,
                              err_t *err);
err_code retention_hold_release(store_t *s, int64_t hold_id, const char *actor, int64_t now,
                                err_t *err);

#endif
