/*
 * store_lifecycle.c - changing a request through its lifecycle (W3, W4,
 * W5), for every backend: built on store.h's own functions, so the rules
 * (core/lifecycle.h) are applied in one place whatever the database.
 *
 * A change is: lock and re-read the request in the caller's transaction,
 * compare with what the caller saw (ERR_CONFLICT if someone changed it
 * meanwhile, rather than overwrite their change), check the rules, and
 * record the event through store_event_append - the one path every public
 * change takes, so whatever hooks on to it (the notifications' outbox)
 * sees every change. Messages carry request numbers and rule names, never
 * a note's text.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "util/datetime.h"

err_code store_request_change(store_t *s, const catalog *cat, int64_t id, const lc_change *ch,
                              const store_seen *seen, pool_t *pool, sr_event *out, err_t *err)
{
    if (ch == NULL || pool == NULL)
        return err_set(err, ERR_INVALID, "store_request_change: no change or no pool");
    service_request cur, target;
    int64_t last = 0, target_last = 0;
    err_code rc = store_request_lock(s, id, pool, &cur, &last, err);
    if (rc == ERR_NOT_FOUND)
        return err_set(err, ERR_NOT_FOUND, "there is no request %" PRId64, id);
    if (rc != ERR_OK)
        return rc;
    if (seen != NULL && ((seen->last_event != 0 && seen->last_event != last) ||
                         (seen->updated_at != 0 && seen->updated_at != cur.updated_at)))
        return err_set(err, ERR_CONFLICT,
                       "request %" PRId64 " has changed since it was read (its last update is "
                       "now %" PRId64 "): read it again before changing it",
                       id, last);
    const service_request *tp = NULL;
    if (ch->merge_into > 0 && ch->merge_into != id) {
        /* Locked too: the request a duplicate will follow must not close
         * under it before the commit. */
        rc = store_request_lock(s, ch->merge_into, pool, &target, &target_last, err);
        if (rc == ERR_OK)
            tp = &target;
        else if (rc != ERR_NOT_FOUND)
            return rc;
    }
    rc = lc_check(&cur, ch, cat, tp, err);
    sr_event ev;
    if (rc == ERR_OK)
        rc = lc_event(&cur, ch, pool, &ev, err);
    if (rc == ERR_OK)
        rc = store_event_append(s, &ev, err);
    /* A merge (W5, W6): the merge event above has queued the news for the
     * merged request's followers (store_event_append); now they follow the
     * request it was merged into, in the same transaction, so they hear of
     * the fix there. */
    if (rc == ERR_OK && ev.kind == SR_EV_MERGE)
        rc = store_follow_move(s, id, ev.merged_into, NULL, err);
    if (rc == ERR_OK && out != NULL)
        *out = ev;
    return rc;
}

err_code store_request_change_bulk(store_t *s, const catalog *cat, const int64_t *ids, size_t n,
                                   const lc_change *ch, pool_t *pool, int64_t *failed_id,
                                   err_t *err)
{
    if (failed_id != NULL)
        *failed_id = 0;
    if (ids == NULL || n == 0 || n > STORE_BULK_MAX)
        return err_set(err, ERR_INVALID, "a bulk change takes 1-%d requests", STORE_BULK_MAX);
    /* A request twice would be changed twice (or refused the second time
     * for a reason the caller did not mean): say so instead. n is small. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++)
            if (ids[i] == ids[k])
                return err_set(err, ERR_INVALID, "request %" PRId64 " is listed twice", ids[i]);
    for (size_t i = 0; i < n; i++) {
        err_code rc = store_request_change(s, cat, ids[i], ch, NULL, pool, NULL, err);
        if (rc != ERR_OK) {
            if (failed_id != NULL)
                *failed_id = ids[i];
            char why[ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err != NULL ? err->msg : "");
            /* The message from store_request_change may name the request
             * already ("there is no request N"); the prefix says which of
             * the list failed either way. */
            return err_set(err, rc, "request %" PRId64 ": %s (nothing was changed)", ids[i], why);
        }
    }
    return ERR_OK;
}

err_code store_nearby_open(store_t *s, const char *service_code, double lat, double lon,
                           double radius_m, int64_t since, size_t max, pool_t *pool,
                           service_request **out, size_t *count, err_t *err)
{
    if (service_code == NULL || service_code[0] == '\0')
        return err_set(err, ERR_INVALID, "nearby: a service code is required");
    if (max == 0 || max > SRQ_MAX_RESULTS)
        return err_set(err, ERR_INVALID, "nearby: max must be 1-%d", SRQ_MAX_RESULTS);
    sr_query q;
    srq_init(&q, since);
    q.start = since;
    q.end = DT_MAX; /* as the residents' search: one filed a moment ago on a node ahead */
    const char *codes[1] = {service_code};
    q.service_codes = codes;
    q.nservice_codes = 1;
    q.status_mask = SRQ_OPEN311_OPEN;
    q.page_size = max;
    err_code rc = srq_set_radius(&q, lat, lon, radius_m, err);
    if (rc != ERR_OK)
        return rc;
    return store_request_search(s, &q, pool, out, count, err);
}
