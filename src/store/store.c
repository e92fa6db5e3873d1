/*
 * store.c - the storage interface of store.h: picks a backend from the URL
 * and checks every argument before handing the call to the backend.
 *
 * The checks live here, once, so the SQLite backend and the PostgreSQL one
 * to come cannot disagree on what a valid request or query is. Messages
 * name fields, never values: a value may be personal data, and the URL may
 * hold a password.
 */
#include "store/store.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/geo.h"
#include "store/store_backend.h"

struct store {
    const store_backend *be;
    store_conn *conn;
};

#define SR_RESOLUTION_COUNT ((unsigned)SR_RES_NOT_FIXED + 1)
#define SR_CHANNEL_COUNT ((unsigned)SR_CHANNEL_MOBILE + 1)
#define SRQ_STATUS_ALL ((1u << SR_STATUS_COUNT) - 1)

/* ---- helpers shared by the backends ---- */

const char *store_data_class_name(data_class dc)
{
    return sr_data_class_name(dc);
}

const char *store_created_actor(int64_t api_key_id, char out[STORE_ACTOR_MAX])
{
    if (api_key_id <= 0)
        return "system";
    snprintf(out, STORE_ACTOR_MAX, "api:%" PRId64, api_key_id);
    return out;
}

int64_t store_page_offset(size_t page, size_t page_size)
{
    if (page == 0 || page_size == 0)
        return -1;
    if (page - 1 > (size_t)INT64_MAX / page_size)
        return -1;
    return (int64_t)((page - 1) * page_size);
}

/* ---- opening ---- */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "sqlite:PATH", "sqlite://PATH" or a bare PATH mean SQLite. */
static err_code store_pick_backend(const char *url, const store_backend **be, const char **location,
                                   err_t *err)
{
    if (starts_with(url, "postgresql://") || starts_with(url, "postgres://"))
        return err_set(err, ERR_INVALID, "this build has no PostgreSQL backend yet");
    if (starts_with(url, "sqlite:")) {
        url += strlen("sqlite:");
        if (starts_with(url, "//"))
            url += 2;
    } else if (strstr(url, "://") != NULL) {
        return err_set(err, ERR_INVALID, "the store URL has an unknown scheme");
    }
    if (url[0] == '\0')
        return err_set(err, ERR_INVALID, "the store URL names no database");
    *be = &store_sqlite_backend;
    *location = url;
    return ERR_OK;
}

err_code store_open(const store_options *opt, store_t **out, err_t *err)
{
    if (opt == NULL || out == NULL || opt->url == NULL)
        return err_set(err, ERR_INVALID, "store_open: no options or no URL");
    const store_backend *be = NULL;
    const char *location = NULL;
    err_code rc = store_pick_backend(opt->url, &be, &location, err);
    if (rc != ERR_OK)
        return rc;
    store_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    s->be = be;
    rc = be->open(location, opt, &s->conn, err);
    if (rc != ERR_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return ERR_OK;
}

void store_close(store_t *s)
{
    if (s == NULL)
        return;
    s->be->close(s->conn);
    free(s);
}

/* ---- schema and transactions ---- */

err_code store_migrate(store_t *s, err_t *err)
{
    return s->be->migrate(s->conn, err);
}

err_code store_schema_version(store_t *s, int *version, err_t *err)
{
    if (version == NULL)
        return err_set(err, ERR_INVALID, "store_schema_version: no output");
    return s->be->schema_version(s->conn, version, err);
}

err_code store_begin(store_t *s, err_t *err)
{
    return s->be->begin(s->conn, err);
}

err_code store_commit(store_t *s, err_t *err)
{
    return s->be->commit(s->conn, err);
}

void store_rollback(store_t *s)
{
    s->be->rollback(s->conn);
}

err_code store_savepoint(store_t *s, err_t *err)
{
    return s->be->savepoint(s->conn, err);
}

err_code store_release(store_t *s, err_t *err)
{
    return s->be->release(s->conn, err);
}

void store_rollback_to(store_t *s)
{
    s->be->rollback_to(s->conn);
}

/* ---- catalog and api keys ---- */

err_code store_catalog_put(store_t *s, const catalog *c, err_t *err)
{
    if (c == NULL)
        return err_set(err, ERR_INVALID, "store_catalog_put: no catalog");
    return s->be->catalog_put(s->conn, c, err);
}

err_code store_catalog_load(store_t *s, catalog **out, err_t *err)
{
    if (out == NULL)
        return err_set(err, ERR_INVALID, "store_catalog_load: no output");
    return s->be->catalog_load(s->conn, out, err);
}

err_code store_apikey_insert(store_t *s, const char *name,
                             const unsigned char hash[STORE_KEY_HASH_LEN], int64_t now,
                             int64_t *id_out, err_t *err)
{
    if (name == NULL || name[0] == '\0')
        return err_set(err, ERR_INVALID, "an api key needs a name");
    if (hash == NULL || id_out == NULL)
        return err_set(err, ERR_INVALID, "store_apikey_insert: no hash or no output");
    return s->be->apikey_insert(s->conn, name, hash, now, id_out, err);
}

err_code store_apikey_find(store_t *s, const unsigned char hash[STORE_KEY_HASH_LEN],
                           int64_t *id_out, err_t *err)
{
    if (hash == NULL || id_out == NULL)
        return err_set(err, ERR_INVALID, "store_apikey_find: no hash or no output");
    return s->be->apikey_find(s->conn, hash, id_out, err);
}

/* ---- service requests ---- */

static bool text_given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static err_code check_answers(const service_request *sr, err_t *err)
{
    if (sr->nanswers > 0 && sr->answers == NULL)
        return err_set(err, ERR_INVALID, "request: answers missing");
    for (size_t i = 0; i < sr->nanswers; i++) {
        const sr_answer *a = &sr->answers[i];
        if (!text_given(a->code))
            return err_set(err, ERR_INVALID, "request: answer %zu has no code", i + 1);
        if (a->nvalues > 0 && a->values == NULL)
            return err_set(err, ERR_INVALID, "request: attribute %s has no values", a->code);
        for (size_t k = 0; k < a->nvalues; k++)
            if (a->values[k] == NULL)
                return err_set(err, ERR_INVALID, "request: attribute %s has a missing value",
                               a->code);
    }
    return ERR_OK;
}

static err_code check_request(const service_request *sr, err_t *err)
{
    if (sr == NULL)
        return err_set(err, ERR_INVALID, "store_request_insert: no request");
    if (!text_given(sr->service_code))
        return err_set(err, ERR_INVALID, "request: service_code is missing");
    if (sr->token != NULL && sr->token[0] == '\0')
        return err_set(err, ERR_INVALID, "request: token is empty");
    if ((unsigned)sr->status >= SR_STATUS_COUNT ||
        (unsigned)sr->resolution >= SR_RESOLUTION_COUNT ||
        (unsigned)sr->channel >= SR_CHANNEL_COUNT)
        return err_set(err, ERR_INVALID, "request: status, resolution or channel out of range");
    if (sr->has_location && !geo_valid(sr->lat, sr->lon))
        return err_set(err, ERR_INVALID, "request: lat/long out of range");
    if (sr->api_key_id < 0 || sr->expected_at < 0 || sr->closed_at < 0)
        return err_set(err, ERR_INVALID,
                       "request: api_key_id, expected_at or closed_at "
                       "is negative");
    return check_answers(sr, err);
}

err_code store_request_insert(store_t *s, service_request *sr, err_t *err)
{
    err_code rc = check_request(sr, err);
    if (rc != ERR_OK)
        return rc;
    return s->be->request_insert(s->conn, sr, err);
}

err_code store_request_get(store_t *s, int64_t id, pool_t *pool, service_request *out, err_t *err)
{
    if (pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_request_get: no pool or no output");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such service request");
    return s->be->request_get(s->conn, id, pool, out, err);
}

err_code store_request_answers(store_t *s, int64_t id, pool_t *pool, sr_answer **out, size_t *count,
                               err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_request_answers: no pool or no output");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such service request");
    return s->be->request_answers(s->conn, id, pool, out, count, err);
}

static bool codes_ok(const char *const *codes, size_t n)
{
    if (n > 0 && codes == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (codes[i] == NULL)
            return false;
    return true;
}

static err_code check_area(const sr_query *q, err_t *err)
{
    if (q->has_bbox && !(isfinite(q->min_lat) && isfinite(q->max_lat) && isfinite(q->min_lon) &&
                         isfinite(q->max_lon)))
        return err_set(err, ERR_INVALID, "query: the bounding box is not finite");
    if (q->has_radius &&
        (!geo_valid(q->lat, q->lon) || !(q->radius_m > 0.0 && q->radius_m <= SRQ_MAX_RADIUS_M)))
        return err_set(err, ERR_INVALID, "query: lat, long or radius out of range");
    return ERR_OK;
}

static err_code check_query(const sr_query *q, err_t *err)
{
    if (q->page_size == 0 || q->page_size > SRQ_MAX_RESULTS)
        return err_set(err, ERR_INVALID, "query: page_size must be 1-%d", SRQ_MAX_RESULTS);
    if (store_page_offset(q->page, q->page_size) < 0)
        return err_set(err, ERR_INVALID, "query: page out of range");
    if (q->nids > SRQ_MAX_IDS || q->nservice_codes > SRQ_MAX_CODES ||
        q->nagency_codes > SRQ_MAX_CODES)
        return err_set(err, ERR_TOO_LARGE, "query: too many ids or codes");
    if (q->nids > 0 && q->ids == NULL)
        return err_set(err, ERR_INVALID, "query: service_request_id list missing");
    if (!codes_ok(q->service_codes, q->nservice_codes) ||
        !codes_ok(q->agency_codes, q->nagency_codes))
        return err_set(err, ERR_INVALID, "query: a service or agency code is missing");
    if ((q->status_mask & ~SRQ_STATUS_ALL) != 0)
        return err_set(err, ERR_INVALID, "query: status_mask has unknown statuses");
    return check_area(q, err);
}

err_code store_request_search(store_t *s, const sr_query *q, pool_t *pool, service_request **out,
                              size_t *count, err_t *err)
{
    if (q == NULL || pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_request_search: no query, pool or output");
    err_code rc = check_query(q, err);
    if (rc != ERR_OK)
        return rc;
    return s->be->request_search(s->conn, q, pool, out, count, err);
}

err_code store_token_find(store_t *s, const char *token, int64_t *id_out, err_t *err)
{
    if (id_out == NULL)
        return err_set(err, ERR_INVALID, "store_token_find: no output");
    if (!text_given(token))
        return err_set(err, ERR_NOT_FOUND, "no such token");
    return s->be->token_find(s->conn, token, id_out, err);
}

err_code store_batch_publish(store_t *s, int64_t now, size_t max, size_t *published, err_t *err)
{
    size_t ignored;
    if (published == NULL)
        published = &ignored;
    *published = 0;
    if (max == 0)
        return ERR_OK;
    return s->be->batch_publish(s->conn, now, max, published, err);
}

static err_code check_event(const sr_event *ev, err_t *err)
{
    if (ev == NULL)
        return err_set(err, ERR_INVALID, "store_event_append: no event");
    if (ev->kind == SR_EV_CREATED || (unsigned)ev->kind > (unsigned)SR_EV_MERGE)
        return err_set(err, ERR_INVALID,
                       "event: only status, note, transfer and merge events can be "
                       "appended");
    if (ev->kind == SR_EV_TRANSFER && !text_given(ev->to_agency))
        return err_set(err, ERR_INVALID, "event: a transfer needs the agency it goes to");
    if (ev->kind == SR_EV_MERGE &&
        (ev->merged_into <= 0 || ev->status != SR_CLOSED || ev->resolution != SR_RES_DUPLICATE))
        return err_set(err, ERR_INVALID,
                       "event: a merge closes its request as a duplicate of another");
    if (ev->kind != SR_EV_MERGE && ev->merged_into != 0)
        return err_set(err, ERR_INVALID, "event: only a merge names a request merged into");
    if ((unsigned)ev->status >= SR_STATUS_COUNT || (unsigned)ev->resolution >= SR_RESOLUTION_COUNT)
        return err_set(err, ERR_INVALID, "event: status or resolution out of range");
    if (!text_given(ev->actor))
        return err_set(err, ERR_INVALID, "event: actor is missing");
    if (ev->kind == SR_EV_NOTE && ev->note == NULL)
        return err_set(err, ERR_INVALID, "event: a note event needs a note");
    if (ev->request_id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such service request");
    return ERR_OK;
}

/* Whether residents and agencies are told of ev: every status change is
 * public (store_events_list shows them all), a note only when public. */
static bool event_is_public(const sr_event *ev)
{
    /* A transfer changes agency_responsible (and may put the status back
     * to open), a merge closes the request with a public note: both are
     * public whatever their note is. */
    return ev->kind == SR_EV_STATUS || ev->kind == SR_EV_TRANSFER || ev->kind == SR_EV_MERGE ||
           (ev->kind == SR_EV_NOTE && ev->public_note);
}

/* The notifications ride in the event's own transaction (W6): a public
 * change cannot be recorded without them, whoever records it (the CLI,
 * the staff console, a merge), and a rolled-back change tells nobody. */
err_code store_event_append(store_t *s, sr_event *ev, err_t *err)
{
    err_code rc = check_event(ev, err);
    if (rc != ERR_OK)
        return rc;
    rc = s->be->event_append(s->conn, ev, err);
    size_t queued = 0;
    if (rc == ERR_OK && event_is_public(ev))
        rc = s->be->outbox_enqueue(s->conn, ev, ev->at, &queued, err);
    return rc;
}

/* The public view of a history: every status change is public (residents
 * and FixMyStreet must learn that a request was closed), but a note is
 * shown only when it was written as public. The backends select the rows;
 * this one place blanks the internal notes, so no backend can forget. */
static void scrub_internal_notes(sr_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ev[i].public_note)
            ev[i].note = NULL;
}

err_code store_events_list(store_t *s, int64_t request_id, bool public_only, pool_t *pool,
                           sr_event **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_events_list: no pool or no output");
    if (request_id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such service request");
    err_code rc = s->be->events_list(s->conn, request_id, public_only, pool, out, count, err);
    if (rc == ERR_OK && public_only)
        scrub_internal_notes(*out, *count);
    return rc;
}

err_code store_updates_search(store_t *s, int64_t start, int64_t end, size_t page, size_t page_size,
                              pool_t *pool, sr_event **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_updates_search: no pool or no output");
    if (page_size == 0 || page_size > SRQ_MAX_RESULTS)
        return err_set(err, ERR_INVALID, "updates: page_size must be 1-%d", SRQ_MAX_RESULTS);
    if (store_page_offset(page, page_size) < 0)
        return err_set(err, ERR_INVALID, "updates: page out of range");
    err_code rc = s->be->updates_search(s->conn, start, end, page, page_size, pool, out, count,
                                        err);
    if (rc == ERR_OK)
        scrub_internal_notes(*out, *count);
    return rc;
}

err_code store_request_count(store_t *s, int64_t *count, err_t *err)
{
    if (count == NULL)
        return err_set(err, ERR_INVALID, "store_request_count: no output");
    return s->be->request_count(s->conn, count, err);
}

/* ---- maintenance ---- */

err_code store_compact(store_t *s, err_t *err)
{
    return s->be->compact(s->conn, err);
}

err_code store_backup(store_t *s, const char *path, err_t *err)
{
    if (!text_given(path))
        return err_set(err, ERR_INVALID, "store_backup: no path");
    return s->be->backup(s->conn, path, err);
}

/* ---- privacy engine storage ---- */

/* The names store.h documents for subjects and blind indexes: a typo in a
 * caller is caught here rather than stored for good. */
/* "webhook": the key that seals an agency webhook's secret (notify.c), so key
 * rotation re-wraps it as it does every person's. */
static const char *const SUBJECT_KINDS[] = {"reporter", "account", "caller", "webhook"};
static const char *const BLIND_KINDS[] = {"email", "phone"};

static bool name_in(const char *name, const char *const *names, size_t n)
{
    if (name == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

#define NAME_IN(name, names) name_in(name, names, sizeof names / sizeof names[0])

/* Lists with a maximum: none wanted is an empty list, without asking the
 * backend. */
#define EMPTY_IF_NO_MAX(max, out, count)                                                           \
    do {                                                                                           \
        if ((max) == 0) {                                                                          \
            *(out) = NULL;                                                                         \
            *(count) = 0;                                                                          \
            return ERR_OK;                                                                         \
        }                                                                                          \
    } while (0)

static bool blob_class(data_class dc)
{
    return dc == DC_MEDIA || dc == DC_RECORDING;
}

err_code store_subject_reserve(store_t *s, int64_t *id_out, err_t *err)
{
    if (id_out == NULL)
        return err_set(err, ERR_INVALID, "store_subject_reserve: no output");
    return s->be->subject_reserve(s->conn, id_out, err);
}

err_code store_subject_insert(store_t *s, const store_subject *sub, err_t *err)
{
    if (sub == NULL)
        return err_set(err, ERR_INVALID, "store_subject_insert: no subject");
    if (sub->id <= 0)
        return err_set(err, ERR_INVALID, "subject: the id comes from store_subject_reserve");
    if (!NAME_IN(sub->kind, SUBJECT_KINDS))
        return err_set(err, ERR_INVALID,
                       "subject: kind must be reporter, account, caller or webhook");
    if (sub->erased_at != 0)
        return err_set(err, ERR_INVALID, "subject: a new subject is not erased");
    bool keyed = sub->wrapped_key != NULL && sub->wrapped_len > 0;
    /* A key and both its versions, or none of the three. */
    if (keyed ? sub->key_version <= 0 || sub->kek_version <= 0
              : sub->key_version != 0 || sub->kek_version != 0 || sub->wrapped_key != NULL)
        return err_set(err, ERR_INVALID,
                       "subject: a wrapped key with its key and KEK versions (from 1), or none");
    return s->be->subject_insert(s->conn, sub, err);
}

err_code store_subject_set_key(store_t *s, int64_t id, int key_version, int kek_version,
                               const unsigned char *wrapped, size_t wrapped_len, err_t *err)
{
    if (wrapped == NULL || wrapped_len == 0)
        return err_set(err, ERR_INVALID, "store_subject_set_key: no wrapped key");
    if (key_version <= 0 || kek_version <= 0)
        return err_set(err, ERR_INVALID, "subject: key and KEK versions start at 1");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such subject");
    return s->be->subject_set_key(s->conn, id, key_version, kek_version, wrapped, wrapped_len, err);
}

err_code store_subject_get(store_t *s, int64_t id, pool_t *pool, store_subject *out, err_t *err)
{
    if (pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_subject_get: no pool or no output");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such subject");
    return s->be->subject_get(s->conn, id, pool, out, err);
}

err_code store_subject_list_keyed(store_t *s, int64_t after_id, size_t max, pool_t *pool,
                                  store_subject **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_subject_list_keyed: no pool or no output");
    EMPTY_IF_NO_MAX(max, out, count);
    return s->be->subject_list_keyed(s->conn, after_id, max, pool, out, count, err);
}

err_code store_subject_count_kek(store_t *s, int kek_version, int64_t *count, err_t *err)
{
    if (count == NULL)
        return err_set(err, ERR_INVALID, "store_subject_count_kek: no output");
    return s->be->subject_count_kek(s->conn, kek_version, count, err);
}

err_code store_subject_erase(store_t *s, int64_t id, int64_t now, err_t *err)
{
    /* erased_at 0 would read back as "not erased". */
    if (now <= 0)
        return err_set(err, ERR_INVALID, "store_subject_erase: the time must be positive");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such subject");
    return s->be->subject_erase(s->conn, id, now, err);
}

/* Where the field named name[0..len) sits in SR_PERSONAL_FIELDS, or
 * SR_PERSONAL_FIELD_COUNT if there is none. */
static size_t personal_field_rank(const char *name, size_t len)
{
    size_t i = 0;
    while (i < SR_PERSONAL_FIELD_COUNT && !(strlen(SR_PERSONAL_FIELDS[i].name) == len &&
                                            memcmp(SR_PERSONAL_FIELDS[i].name, name, len) == 0))
        i++;
    return i;
}

/* The order rule makes each column's text the one way to write its set of
 * names, so a tampered or hand-written column cannot name a field twice
 * or pass for another. */
size_t store_personal_fields_count(const char *fields, data_class dc)
{
    if (fields == NULL || *fields == '\0')
        return 0;
    size_t count = 0, last = 0;
    for (const char *p = fields;; p++) {
        size_t len = strcspn(p, ",");
        size_t rank = personal_field_rank(p, len);
        if (rank == SR_PERSONAL_FIELD_COUNT || SR_PERSONAL_FIELDS[rank].dclass != dc ||
            (count > 0 && rank <= last))
            return 0;
        last = rank;
        count++;
        p += len;
        if (*p == '\0')
            return count;
    }
}

err_code store_personal_insert(store_t *s, const store_personal *p, err_t *err)
{
    if (p == NULL)
        return err_set(err, ERR_INVALID, "store_personal_insert: no record");
    if ((unsigned)p->dclass >= DC_COUNT || blob_class(p->dclass))
        return err_set(err, ERR_INVALID, "personal record: not a class of fields");
    /* The names decide what erasure receipts say and what the gatekeeper
     * expects to find inside: they must be the class's own. */
    if (store_personal_fields_count(p->fields, p->dclass) == 0)
        return err_set(err, ERR_INVALID,
                       "personal record (%s): fields must be names of the class's own fields, "
                       "in SR_PERSONAL_FIELDS order, comma-separated",
                       sr_data_class_name(p->dclass));
    if (p->request_id <= 0 || p->subject_id <= 0 || p->key_version <= 0)
        return err_set(err, ERR_INVALID,
                       "personal record (%s): request, subject or key version missing",
                       sr_data_class_name(p->dclass));
    if (p->sealed == NULL || p->sealed_len == 0)
        return err_set(err, ERR_INVALID, "personal record (%s): no sealed bytes",
                       sr_data_class_name(p->dclass));
    return s->be->personal_insert(s->conn, p, err);
}

err_code store_personal_list(store_t *s, int64_t request_id, pool_t *pool, store_personal **out,
                             size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_personal_list: no pool or no output");
    return s->be->personal_list(s->conn, request_id, pool, out, count, err);
}

err_code store_personal_erase(store_t *s, int64_t request_id, unsigned class_mask, size_t *erased,
                              err_t *err)
{
    size_t ignored;
    if (erased == NULL)
        erased = &ignored;
    *erased = 0;
    if ((class_mask & ~DC_ALL) != 0)
        return err_set(err, ERR_INVALID, "store_personal_erase: unknown data classes in mask");
    return s->be->personal_erase(s->conn, request_id, class_mask, erased, err);
}

err_code store_subject_usage(store_t *s, int64_t subject_id, int64_t *count, err_t *err)
{
    if (count == NULL)
        return err_set(err, ERR_INVALID, "store_subject_usage: no output");
    return s->be->subject_usage(s->conn, subject_id, count, err);
}

err_code store_blob_insert(store_t *s, store_blob *b, err_t *err)
{
    if (b == NULL)
        return err_set(err, ERR_INVALID, "store_blob_insert: no file");
    if (!blob_class(b->dclass))
        return err_set(err, ERR_INVALID, "sealed file: the class must be media or recording");
    if (!text_given(b->content_type))
        return err_set(err, ERR_INVALID, "sealed file: content_type is missing");
    if (b->request_id < 0 || b->subject_id <= 0 || b->key_version <= 0 || b->size < 0)
        return err_set(err, ERR_INVALID,
                       "sealed file: request, subject, key version or size out of range");
    if (b->sealed == NULL && b->sealed_len > 0)
        return err_set(err, ERR_INVALID, "sealed file: sealed bytes missing");
    return s->be->blob_insert(s->conn, b, err);
}

err_code store_blob_set_sealed(store_t *s, int64_t id, const unsigned char *sealed,
                               size_t sealed_len, err_t *err)
{
    if (sealed == NULL || sealed_len == 0)
        return err_set(err, ERR_INVALID, "store_blob_set_sealed: no sealed bytes");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such sealed file");
    return s->be->blob_set_sealed(s->conn, id, sealed, sealed_len, err);
}

err_code store_blob_get(store_t *s, int64_t id, pool_t *pool, store_blob *out, err_t *err)
{
    if (pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_blob_get: no pool or no output");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such sealed file");
    return s->be->blob_get(s->conn, id, pool, out, err);
}

err_code store_blob_list(store_t *s, int64_t request_id, pool_t *pool, store_blob **out,
                         size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_blob_list: no pool or no output");
    return s->be->blob_list(s->conn, request_id, pool, out, count, err);
}

err_code store_blob_erase(store_t *s, int64_t id, err_t *err)
{
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such sealed file");
    return s->be->blob_erase(s->conn, id, err);
}

err_code store_blob_attach(store_t *s, int64_t id, int64_t subject_id, int64_t request_id,
                           err_t *err)
{
    if (id <= 0 || subject_id <= 0 || request_id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such unattached file of this subject");
    return s->be->blob_attach(s->conn, id, subject_id, request_id, err);
}

err_code store_blind_insert(store_t *s, const char *kind,
                            const unsigned char digest[STORE_DIGEST_LEN], int64_t request_id,
                            int64_t subject_id, err_t *err)
{
    if (!NAME_IN(kind, BLIND_KINDS))
        return err_set(err, ERR_INVALID, "blind index: kind must be email or phone");
    if (digest == NULL)
        return err_set(err, ERR_INVALID, "store_blind_insert: no digest");
    if (request_id <= 0 || subject_id <= 0)
        return err_set(err, ERR_INVALID, "blind index: request or subject missing");
    return s->be->blind_insert(s->conn, kind, digest, request_id, subject_id, err);
}

err_code store_blind_find(store_t *s, const char *kind,
                          const unsigned char digest[STORE_DIGEST_LEN], size_t max, pool_t *pool,
                          int64_t **request_ids, size_t *count, err_t *err)
{
    if (pool == NULL || request_ids == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_blind_find: no pool or no output");
    if (!NAME_IN(kind, BLIND_KINDS))
        return err_set(err, ERR_INVALID, "blind index: kind must be email or phone");
    if (digest == NULL)
        return err_set(err, ERR_INVALID, "store_blind_find: no digest");
    EMPTY_IF_NO_MAX(max, request_ids, count);
    return s->be->blind_find(s->conn, kind, digest, max, pool, request_ids, count, err);
}

err_code store_blind_erase(store_t *s, int64_t request_id, const char *kind, err_t *err)
{
    if (kind != NULL && !NAME_IN(kind, BLIND_KINDS))
        return err_set(err, ERR_INVALID, "blind index: kind must be email, phone or none");
    return s->be->blind_erase(s->conn, request_id, kind, err);
}

err_code store_personal_due(store_t *s, data_class dc, bool by_close, int64_t before, size_t max,
                            pool_t *pool, int64_t **request_ids, size_t *count, err_t *err)
{
    if (pool == NULL || request_ids == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_personal_due: no pool or no output");
    if ((unsigned)dc >= DC_COUNT)
        return err_set(err, ERR_INVALID, "store_personal_due: data class out of range");
    EMPTY_IF_NO_MAX(max, request_ids, count);
    return s->be->personal_due(s->conn, dc, by_close, before, max, pool, request_ids, count, err);
}

err_code store_blob_due(store_t *s, data_class dc, bool by_close, int64_t before, size_t max,
                        pool_t *pool, int64_t **blob_ids, size_t *count, err_t *err)
{
    if (pool == NULL || blob_ids == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_blob_due: no pool or no output");
    if (!blob_class(dc))
        return err_set(err, ERR_INVALID, "store_blob_due: the class must be media or recording");
    EMPTY_IF_NO_MAX(max, blob_ids, count);
    return s->be->blob_due(s->conn, dc, by_close, before, max, pool, blob_ids, count, err);
}

err_code store_blob_orphans(store_t *s, int64_t before, size_t max, pool_t *pool,
                            int64_t **blob_ids, size_t *count, err_t *err)
{
    if (pool == NULL || blob_ids == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_blob_orphans: no pool or no output");
    EMPTY_IF_NO_MAX(max, blob_ids, count);
    return s->be->blob_orphans(s->conn, before, max, pool, blob_ids, count, err);
}

err_code store_hold_insert(store_t *s, store_hold *h, err_t *err)
{
    if (h == NULL)
        return err_set(err, ERR_INVALID, "store_hold_insert: no hold");
    if (h->request_id < 0 || h->subject_id < 0 || (h->request_id == 0 && h->subject_id == 0))
        return err_set(err, ERR_INVALID, "legal hold: needs a request, a subject or both");
    if (!text_given(h->reason) || !text_given(h->placed_by))
        return err_set(err, ERR_INVALID, "legal hold: reason or placed_by is missing");
    return s->be->hold_insert(s->conn, h, err);
}

err_code store_hold_release(store_t *s, int64_t id, const char *released_by, int64_t now,
                            err_t *err)
{
    if (!text_given(released_by))
        return err_set(err, ERR_INVALID, "legal hold: released_by is missing");
    /* released_at 0 would read back as "active". */
    if (now <= 0)
        return err_set(err, ERR_INVALID, "store_hold_release: the time must be positive");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no active legal hold with this id");
    return s->be->hold_release(s->conn, id, released_by, now, err);
}

err_code store_hold_active(store_t *s, int64_t request_id, int64_t subject_id, bool *held,
                           err_t *err)
{
    if (held == NULL)
        return err_set(err, ERR_INVALID, "store_hold_active: no output");
    return s->be->hold_active(s->conn, request_id, subject_id, held, err);
}

err_code store_hold_list(store_t *s, bool active_only, pool_t *pool, store_hold **out,
                         size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_hold_list: no pool or no output");
    return s->be->hold_list(s->conn, active_only, pool, out, count, err);
}

err_code store_audit_head(store_t *s, pool_t *pool, int64_t *size, const unsigned char **frontier,
                          size_t *frontier_len, err_t *err)
{
    if (pool == NULL || size == NULL || frontier == NULL || frontier_len == NULL)
        return err_set(err, ERR_INVALID, "store_audit_head: no pool or no output");
    return s->be->audit_head(s->conn, pool, size, frontier, frontier_len, err);
}

err_code store_audit_append(store_t *s, const store_audit_row *e, const unsigned char *frontier,
                            size_t frontier_len, err_t *err)
{
    if (e == NULL || e->body == NULL || e->body_len == 0)
        return err_set(err, ERR_INVALID, "store_audit_append: no entry or an empty body");
    if (frontier == NULL || frontier_len == 0)
        return err_set(err, ERR_INVALID, "store_audit_append: no frontier");
    if (e->seq <= 0 || e->request_id < 0 || e->subject_id < 0)
        return err_set(err, ERR_INVALID, "audit entry: seq, request or subject out of range");
    return s->be->audit_append(s->conn, e, frontier, frontier_len, err);
}

err_code store_audit_entries(store_t *s, int64_t after_seq, size_t max, pool_t *pool,
                             store_audit_row **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_audit_entries: no pool or no output");
    EMPTY_IF_NO_MAX(max, out, count);
    return s->be->audit_entries(s->conn, after_seq, max, pool, out, count, err);
}

err_code store_audit_for_request(store_t *s, int64_t request_id, pool_t *pool,
                                 store_audit_row **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_audit_for_request: no pool or no output");
    return s->be->audit_for_request(s->conn, request_id, pool, out, count, err);
}

err_code store_checkpoint_insert(store_t *s, const store_checkpoint *cp, err_t *err)
{
    if (cp == NULL)
        return err_set(err, ERR_INVALID, "store_checkpoint_insert: no checkpoint");
    if (cp->size < 0)
        return err_set(err, ERR_INVALID, "checkpoint: size is negative");
    return s->be->checkpoint_insert(s->conn, cp, err);
}

err_code store_checkpoint_list(store_t *s, pool_t *pool, store_checkpoint **out, size_t *count,
                               err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_checkpoint_list: no pool or no output");
    return s->be->checkpoint_list(s->conn, pool, out, count, err);
}

err_code store_checkpoint_latest(store_t *s, store_checkpoint *out, err_t *err)
{
    if (out == NULL)
        return err_set(err, ERR_INVALID, "store_checkpoint_latest: no output");
    return s->be->checkpoint_latest(s->conn, out, err);
}

/* ---- accounts and signed-in sessions ---- */

err_code store_account_insert(store_t *s, store_account *a,
                              const unsigned char digest[STORE_DIGEST_LEN], err_t *err)
{
    if (a == NULL || digest == NULL)
        return err_set(err, ERR_INVALID, "store_account_insert: no account or no digest");
    if (a->subject_id <= 0 || a->key_version <= 0 || a->created_at <= 0)
        return err_set(err, ERR_INVALID, "account: subject, key version or time missing");
    /* Only crypto_pwhash_str's output belongs here: short printable ASCII
     * (it has no room for anything a person typed). */
    if (!text_given(a->password_hash) || strlen(a->password_hash) >= 256)
        return err_set(err, ERR_INVALID, "account: the password hash is missing or too long");
    for (const unsigned char *p = (const unsigned char *)a->password_hash; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return err_set(err, ERR_INVALID, "account: the password hash is not a hash string");
    return s->be->account_insert(s->conn, a, digest, err);
}

err_code store_account_set_sealed(store_t *s, int64_t id, const unsigned char *sealed,
                                  size_t sealed_len, err_t *err)
{
    if (sealed == NULL || sealed_len == 0)
        return err_set(err, ERR_INVALID, "account: no sealed bytes");
    return s->be->account_set_sealed(s->conn, id, sealed, sealed_len, err);
}

err_code store_account_get(store_t *s, int64_t id, pool_t *pool, store_account *out, err_t *err)
{
    if (pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_account_get: no pool or no output");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such account");
    return s->be->account_get(s->conn, id, pool, out, err);
}

err_code store_account_find(store_t *s, const unsigned char digest[STORE_DIGEST_LEN], pool_t *pool,
                            store_account *out, err_t *err)
{
    if (digest == NULL || pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_account_find: no digest, pool or output");
    return s->be->account_find(s->conn, digest, pool, out, err);
}

err_code store_account_set_password(store_t *s, int64_t id, const char *password_hash,
                                    err_t *err)
{
    if (!text_given(password_hash) || strlen(password_hash) >= 256)
        return err_set(err, ERR_INVALID, "account: the password hash is missing or too long");
    return s->be->account_set_password(s->conn, id, password_hash, err);
}

err_code store_account_failed(store_t *s, int64_t id, int64_t now, int64_t window,
                              int64_t *count, err_t *err)
{
    if (count == NULL)
        return err_set(err, ERR_INVALID, "store_account_failed: no output");
    if (now <= 0 || window <= 0)
        return err_set(err, ERR_INVALID, "store_account_failed: the time and window must be "
                                         "positive");
    return s->be->account_failed(s->conn, id, now, window, count, err);
}

err_code store_account_set_lock(store_t *s, int64_t id, int64_t locked_until, err_t *err)
{
    if (locked_until < 0)
        return err_set(err, ERR_INVALID, "store_account_set_lock: a negative time");
    return s->be->account_set_lock(s->conn, id, locked_until, err);
}

err_code store_account_delete(store_t *s, int64_t id, int64_t now, err_t *err)
{
    if (now <= 0)
        return err_set(err, ERR_INVALID, "store_account_delete: the time must be positive");
    return s->be->account_delete(s->conn, id, now, err);
}

err_code store_session_insert(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                              const store_web_session *ws, err_t *err)
{
    if (id_hash == NULL || ws == NULL)
        return err_set(err, ERR_INVALID, "store_session_insert: no hash or no session");
    if (ws->account_id <= 0 || ws->created_at <= 0 || ws->last_seen < ws->created_at ||
        ws->expires_at <= ws->last_seen)
        return err_set(err, ERR_INVALID, "session: account or times missing or out of order");
    return s->be->session_insert(s->conn, id_hash, ws, err);
}

err_code store_session_get(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN], int64_t now,
                           store_web_session *out, err_t *err)
{
    if (id_hash == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_session_get: no hash or no output");
    return s->be->session_get(s->conn, id_hash, now, out, err);
}

err_code store_session_touch(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                             int64_t now, int64_t expires_at, err_t *err)
{
    if (id_hash == NULL)
        return err_set(err, ERR_INVALID, "store_session_touch: no hash");
    if (expires_at <= now)
        return err_set(err, ERR_INVALID, "session: the expiry must come after now");
    return s->be->session_touch(s->conn, id_hash, now, expires_at, err);
}

err_code store_session_delete(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                              size_t *deleted, err_t *err)
{
    size_t ignored;
    if (deleted == NULL)
        deleted = &ignored;
    *deleted = 0;
    if (id_hash == NULL)
        return err_set(err, ERR_INVALID, "store_session_delete: no hash");
    return s->be->session_delete(s->conn, id_hash, deleted, err);
}

err_code store_session_delete_account(store_t *s, int64_t account_id, size_t *deleted,
                                      err_t *err)
{
    size_t ignored;
    if (deleted == NULL)
        deleted = &ignored;
    *deleted = 0;
    return s->be->session_delete_account(s->conn, account_id, deleted, err);
}

err_code store_session_list(store_t *s, int64_t account_id, int64_t now, size_t max,
                            pool_t *pool, store_web_session **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_session_list: no pool or no output");
    EMPTY_IF_NO_MAX(max, out, count);
    return s->be->session_list(s->conn, account_id, now, max, pool, out, count, err);
}

err_code store_session_purge(store_t *s, int64_t now, size_t max, size_t *purged, err_t *err)
{
    size_t ignored;
    if (purged == NULL)
        purged = &ignored;
    *purged = 0;
    if (max == 0)
        return ERR_OK;
    return s->be->session_purge(s->conn, now, max, purged, err);
}

err_code store_subject_requests(store_t *s, int64_t subject_id, size_t max, pool_t *pool,
                                int64_t **request_ids, size_t *count, err_t *err)
{
    if (pool == NULL || request_ids == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_subject_requests: no pool or no output");
    EMPTY_IF_NO_MAX(max, request_ids, count);
    return s->be->subject_requests(s->conn, subject_id, max, pool, request_ids, count, err);
}

/* A day as the page_view table keeps it: YYYY-MM-DD. */
static bool day_valid(const char *d)
{
    if (d == NULL || strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
            return false;
    return true;
}

err_code store_page_views_add(store_t *s, const char *day, const char *page, int64_t n,
                              err_t *err)
{
    if (!day_valid(day) || page == NULL || *page == '\0' || strlen(page) > 32 || n <= 0)
        return err_set(err, ERR_INVALID, "store_page_views_add: a day, a page and a count");
    return s->be->page_views_add(s->conn, day, page, n, err);
}

err_code store_page_views_list(store_t *s, const char *since_day, pool_t *pool,
                               store_page_views **out, size_t *count, err_t *err)
{
    if (!day_valid(since_day) || pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_page_views_list: a day and outputs");
    *out = NULL;
    *count = 0;
    return s->be->page_views_list(s->conn, since_day, pool, out, count, err);
}

err_code store_send_find(store_t *s, const unsigned char hash[STORE_DIGEST_LEN],
                         int64_t *request_id, err_t *err)
{
    if (hash == NULL || request_id == NULL)
        return err_set(err, ERR_INVALID, "store_send_find: a hash and an output");
    return s->be->send_find(s->conn, hash, request_id, err);
}

err_code store_send_insert(store_t *s, const unsigned char hash[STORE_DIGEST_LEN],
                           int64_t request_id, int64_t now, err_t *err)
{
    if (hash == NULL || request_id <= 0)
        return err_set(err, ERR_INVALID, "store_send_insert: a hash and a request");
    return s->be->send_insert(s->conn, hash, request_id, now, err);
}

err_code store_send_purge(store_t *s, int64_t before, size_t *purged, err_t *err)
{
    size_t n = 0;
    err_code rc = s->be->send_purge(s->conn, before, &n, err);
    if (purged != NULL)
        *purged = rc == ERR_OK ? n : 0;
    return rc;
}

/* ---- the lifecycle and the agency queue (issue 5) ---- */

err_code store_request_lock(store_t *s, int64_t id, pool_t *pool, service_request *out,
                            int64_t *last_event, err_t *err)
{
    if (pool == NULL || out == NULL || last_event == NULL)
        return err_set(err, ERR_INVALID, "store_request_lock: no pool or no output");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such service request");
    return s->be->request_lock(s->conn, id, pool, out, last_event, err);
}

#define QUEUE_NOT_CLOSED (SRQ_STATUS_ALL & ~SRQ_STATUS_BIT(SR_CLOSED))
#define QUEUE_WAITING (SRQ_STATUS_BIT(SR_OPEN) | SRQ_STATUS_BIT(SR_REOPENED))

static bool codes_given(const char *const *codes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!text_given(codes[i]))
            return false;
    return true;
}

static err_code check_queue(const store_queue_query *q, err_t *err)
{
    if (q->nagency_codes == 0 || q->nagency_codes > STORE_QUEUE_MAX_AGENCIES ||
        q->agency_codes == NULL || !codes_given(q->agency_codes, q->nagency_codes))
        return err_set(err, ERR_INVALID, "queue: 1-%d agency codes are required",
                       STORE_QUEUE_MAX_AGENCIES);
    if (q->nservice_codes > SRQ_MAX_CODES ||
        (q->nservice_codes > 0 &&
         (q->service_codes == NULL || !codes_given(q->service_codes, q->nservice_codes))))
        return err_set(err, ERR_INVALID, "queue: at most %d service codes, none empty",
                       SRQ_MAX_CODES);
    if ((q->status_mask & ~SRQ_STATUS_ALL) != 0)
        return err_set(err, ERR_INVALID, "queue: status out of range");
    if ((unsigned)q->sort > (unsigned)STORE_QUEUE_UPDATED)
        return err_set(err, ERR_INVALID, "queue: sort out of range");
    if (q->page_size == 0 || q->page_size > STORE_QUEUE_MAX_PAGE)
        return err_set(err, ERR_INVALID, "queue: page_size must be 1-%d", STORE_QUEUE_MAX_PAGE);
    if (q->page == 0 || q->page > STORE_QUEUE_MAX_DEPTH / q->page_size)
        return err_set(err, ERR_INVALID,
                       "queue: page must be 1-%zu at this page size (narrow the filters to "
                       "see further)",
                       STORE_QUEUE_MAX_DEPTH / q->page_size);
    if (q->filed_from < 0 || q->filed_to < 0 || (q->filed_to != 0 && q->filed_from > q->filed_to))
        return err_set(err, ERR_INVALID, "queue: the filing window is empty or negative");
    bool with_closed = q->status_mask & SRQ_STATUS_BIT(SR_CLOSED);
    if (with_closed && (q->sort == STORE_QUEUE_SLA || q->overdue))
        return err_set(err, ERR_INVALID,
                       "queue: SLA order and overdue are for requests not closed; leave "
                       "closed out of the statuses");
    if (q->overdue && q->now <= 0)
        return err_set(err, ERR_INVALID, "queue: overdue needs the time now");
    return ERR_OK;
}

/* The order of q->sort, as the backend's SQL has it: a negative result
 * when a goes first. SLA: those with an expected_at first, soonest first;
 * then those without, oldest filed first; ids break ties. */
static int queue_cmp(store_queue_sort sort, const store_queue_row *a, const store_queue_row *b)
{
#define CMP(x, y) ((x) < (y) ? -1 : (x) > (y) ? 1 : 0)
    int c = 0;
    switch (sort) {
    case STORE_QUEUE_AGE:
        c = CMP(a->requested_at, b->requested_at);
        return c != 0 ? c : CMP(a->id, b->id);
    case STORE_QUEUE_NEWEST:
        c = CMP(b->requested_at, a->requested_at);
        return c != 0 ? c : CMP(b->id, a->id);
    case STORE_QUEUE_UPDATED:
        c = CMP(b->updated_at, a->updated_at);
        return c != 0 ? c : CMP(b->id, a->id);
    case STORE_QUEUE_SLA:
        if ((a->expected_at == 0) != (b->expected_at == 0))
            return a->expected_at == 0 ? 1 : -1;
        c = a->expected_at != 0 ? CMP(a->expected_at, b->expected_at)
                                : CMP(a->requested_at, b->requested_at);
        return c != 0 ? c : CMP(a->id, b->id);
    }
    return 0;
#undef CMP
}

/* Rows [offset, offset + limit) of one agency's queue, appended to *list.
 * SLA order reads the requests with an SLA, then (if the page is not full)
 * those without, skipping as many of those as the offset passes beyond
 * the first run. */
static err_code queue_agency(store_t *s, const store_queue_query *q, const char *agency_code,
                             size_t limit, int64_t offset, pool_t *pool, store_queue_row **list,
                             size_t *n, err_t *err)
{
    store_queue_row *got = NULL;
    size_t ngot = 0;
    store_queue_part part = q->sort == STORE_QUEUE_SLA ? STORE_QUEUE_DUE : STORE_QUEUE_ALL;
    err_code rc = s->be->queue_fetch(s->conn, q, agency_code, part, limit, offset, pool, &got, &ngot,
                                     err);
    store_queue_row *rest = NULL;
    size_t nrest = 0;
    if (rc == ERR_OK && part == STORE_QUEUE_DUE && ngot < limit) {
        int64_t due = 0;
        if (offset > 0)
            rc = s->be->queue_count(s->conn, q, agency_code, STORE_QUEUE_DUE, &due, err);
        int64_t skip = offset > due ? offset - due : 0;
        if (rc == ERR_OK)
            rc = s->be->queue_fetch(s->conn, q, agency_code, STORE_QUEUE_NO_DUE, limit - ngot, skip,
                                    pool, &rest, &nrest, err);
    }
    if (rc != ERR_OK)
        return rc;
    store_queue_row *all = pool_realloc_array(pool, *list, *n, *n + ngot + nrest, sizeof *all);
    if (all == NULL && *n + ngot + nrest > 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (ngot > 0)
        memcpy(all + *n, got, ngot * sizeof *all);
    if (nrest > 0)
        memcpy(all + *n + ngot, rest, nrest * sizeof *all);
    *list = all;
    *n += ngot + nrest;
    return ERR_OK;
}

/* qsort's comparators, one per order. */
static int queue_cmp_age(const void *a, const void *b)
{
    return queue_cmp(STORE_QUEUE_AGE, a, b);
}

static int queue_cmp_newest(const void *a, const void *b)
{
    return queue_cmp(STORE_QUEUE_NEWEST, a, b);
}

static int queue_cmp_sla(const void *a, const void *b)
{
    return queue_cmp(STORE_QUEUE_SLA, a, b);
}

static int queue_cmp_updated(const void *a, const void *b)
{
    return queue_cmp(STORE_QUEUE_UPDATED, a, b);
}

static void queue_sort(store_queue_sort sort, store_queue_row *rows, size_t n)
{
    static int (*const CMP[])(const void *, const void *) = {
        [STORE_QUEUE_AGE] = queue_cmp_age,
        [STORE_QUEUE_NEWEST] = queue_cmp_newest,
        [STORE_QUEUE_SLA] = queue_cmp_sla,
        [STORE_QUEUE_UPDATED] = queue_cmp_updated,
    };
    if (n > 1)
        qsort(rows, n, sizeof *rows, CMP[sort]);
}

err_code store_queue_search(store_t *s, const store_queue_query *q_in, pool_t *pool,
                            store_queue_row **out, size_t *count, int64_t *total, err_t *err)
{
    if (q_in == NULL || pool == NULL || out == NULL || count == NULL || total == NULL)
        return err_set(err, ERR_INVALID, "store_queue_search: no query, pool or output");
    err_code rc = check_queue(q_in, err);
    if (rc != ERR_OK)
        return rc;
    *out = NULL;
    *count = 0;
    *total = 0;
    store_queue_query q = *q_in;
    /* An agency named twice would be counted twice. */
    const char *agencies[STORE_QUEUE_MAX_AGENCIES];
    size_t nagencies = 0;
    for (size_t i = 0; i < q.nagency_codes; i++) {
        size_t k = 0;
        while (k < nagencies && strcmp(agencies[k], q.agency_codes[i]) != 0)
            k++;
        if (k == nagencies)
            agencies[nagencies++] = q.agency_codes[i];
    }
    q.agency_codes = agencies;
    q.nagency_codes = nagencies;
    if (q.status_mask == 0 || q.overdue)
        q.status_mask = q.status_mask == 0 ? QUEUE_NOT_CLOSED : q.status_mask & QUEUE_NOT_CLOSED;
    if (q.unacknowledged)
        q.status_mask &= QUEUE_WAITING;
    if (q.status_mask == 0) /* the filters exclude each other */
        return ERR_OK;

    int64_t offset = store_page_offset(q.page, q.page_size);
    store_queue_row *rows = NULL;
    size_t n = 0;
    for (size_t i = 0; i < q.nagency_codes; i++) {
        int64_t part = 0;
        rc = s->be->queue_count(s->conn, &q, q.agency_codes[i], STORE_QUEUE_ALL, &part, err);
        if (rc != ERR_OK)
            return rc;
        *total += part;
    }
    if (q.nagency_codes == 1) {
        rc = queue_agency(s, &q, q.agency_codes[0], q.page_size, offset, pool, &rows, &n, err);
    } else {
        /* Each agency's first offset + page_size rows hold the page; the
         * depth limit bounds them. */
        for (size_t i = 0; rc == ERR_OK && i < q.nagency_codes; i++)
            rc = queue_agency(s, &q, q.agency_codes[i], (size_t)offset + q.page_size, 0, pool,
                              &rows, &n, err);
        if (rc == ERR_OK) {
            queue_sort(q.sort, rows, n);
            size_t from = (size_t)offset < n ? (size_t)offset : n;
            size_t keep = n - from < q.page_size ? n - from : q.page_size;
            rows = keep > 0 ? rows + from : NULL;
            n = keep;
        }
    }
    if (rc != ERR_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        rows[i].overdue = rows[i].status != SR_CLOSED && rows[i].expected_at != 0 &&
                          q.now > 0 && rows[i].expected_at < q.now;
    *out = rows;
    *count = n;
    return ERR_OK;
}

/* ---- the disclosure register (issue 5, P4) ---- */

static bool text_within(const char *s, size_t max)
{
    return s != NULL && *s != '\0' && strlen(s) <= max;
}

static bool classes_valid(unsigned classes)
{
    return classes != 0 && (classes & ~(unsigned)DC_ALL) == 0;
}

/* Ascending without repeats, each a request number: what the scope and an
 * export's list must be (the register reads them back in this order). */
static bool ids_ascending(const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] <= 0 || (i > 0 && ids[i] <= ids[i - 1]))
            return false;
    return true;
}

err_code store_disclosure_insert(store_t *s, store_disclosure *d, err_t *err)
{
    if (d == NULL || !text_within(d->requester, 200) || !text_within(d->reference, 200) ||
        !text_within(d->legal_basis, 200) || !classes_valid(d->classes) ||
        !text_within(d->recorded_by, 80) || !text_within(d->recorded_role, 32) ||
        d->received_at <= 0 || d->recorded_at <= 0)
        return err_set(err, ERR_INVALID,
                       "store_disclosure_insert: requester, reference, legal basis, classes, "
                       "times and who recorded it");
    if (d->approved_by != NULL || d->approved_at != 0 || d->closed_by != NULL ||
        d->closed_at != 0)
        return err_set(err, ERR_INVALID, "store_disclosure_insert: a new order is not approved "
                                         "or closed");
    if (d->request_ids == NULL || d->nrequests == 0 ||
        d->nrequests > STORE_DISCLOSURE_MAX_REQUESTS || !ids_ascending(d->request_ids, d->nrequests))
        return err_set(err, ERR_INVALID,
                       "store_disclosure_insert: 1 to %d request numbers, ascending, no repeats",
                       STORE_DISCLOSURE_MAX_REQUESTS);
    return s->be->disclosure_insert(s->conn, d, err);
}

err_code store_disclosure_get(store_t *s, int64_t id, pool_t *pool, store_disclosure *out,
                              err_t *err)
{
    if (pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_disclosure_get: no pool or no output");
    return s->be->disclosure_get(s->conn, id, pool, out, err);
}

err_code store_disclosure_list(store_t *s, bool open_only, size_t max, pool_t *pool,
                               store_disclosure **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_disclosure_list: no pool or no output");
    EMPTY_IF_NO_MAX(max, out, count);
    return s->be->disclosure_list(s->conn, open_only, max, pool, out, count, err);
}

err_code store_disclosure_approve(store_t *s, int64_t id, const char *by, const char *role,
                                  int64_t now, err_t *err)
{
    if (!text_within(by, 80) || !text_within(role, 32) || now <= 0)
        return err_set(err, ERR_INVALID, "store_disclosure_approve: who, in what role, when");
    return s->be->disclosure_approve(s->conn, id, by, role, now, err);
}

err_code store_disclosure_close(store_t *s, int64_t id, const char *by, int64_t now, err_t *err)
{
    if (!text_within(by, 80) || now <= 0)
        return err_set(err, ERR_INVALID, "store_disclosure_close: who and when");
    return s->be->disclosure_close(s->conn, id, by, now, err);
}

err_code store_disclosure_export_insert(store_t *s, store_disclosure_export *e, err_t *err)
{
    if (e == NULL || e->order_id <= 0 || !text_within(e->exported_by, 80) ||
        !text_within(e->role, 32) || e->exported_at <= 0 || !classes_valid(e->classes) ||
        e->bytes <= 0 || e->request_ids == NULL || e->nrequests == 0 ||
        e->nrequests > STORE_DISCLOSURE_MAX_REQUESTS || !ids_ascending(e->request_ids, e->nrequests))
        return err_set(err, ERR_INVALID,
                       "store_disclosure_export_insert: an order, who, when, classes, the "
                       "document's size and the requests released, ascending");
    return s->be->disclosure_export_insert(s->conn, e, err);
}

err_code store_disclosure_exports(store_t *s, int64_t order_id, pool_t *pool,
                                  store_disclosure_export **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_disclosure_exports: no pool or no output");
    *out = NULL;
    *count = 0;
    return s->be->disclosure_exports(s->conn, order_id, pool, out, count, err);
}

/* ---- figures for managers (issue 5, item 8) ---- */

err_code store_stats_rows(store_t *s, int64_t from, int64_t to, stats_row_fn fn, void *ctx,
                          err_t *err)
{
    if (fn == NULL || from >= to)
        return err_set(err, ERR_INVALID, "store_stats_rows: a callback and a window that ends "
                                         "after it starts");
    return s->be->stats_rows(s->conn, from, to, fn, ctx, err);
}

/* ---- staff accounts (issue 5) ---- */

/* A login as staff.c makes sure it is; checked again here because a
 * login is bound into SQL and shown on pages. */
static bool staff_login_ok(const char *login)
{
    return text_given(login) && strlen(login) <= STORE_STAFF_LOGIN_MAX;
}

err_code store_staff_insert(store_t *s, store_staff *st, err_t *err)
{
    if (st == NULL || !staff_login_ok(st->login) || !text_given(st->role) ||
        !text_given(st->password_hash) || strlen(st->password_hash) >= 256 || st->created_at <= 0)
        return err_set(err, ERR_INVALID, "staff: a login, a role, a password hash and a time");
    return s->be->staff_insert(s->conn, st, err);
}

err_code store_staff_get(store_t *s, int64_t id, pool_t *pool, store_staff *out, err_t *err)
{
    if (pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_staff_get: no pool or no output");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such staff member");
    return s->be->staff_get(s->conn, id, pool, out, err);
}

err_code store_staff_find(store_t *s, const char *login, pool_t *pool, store_staff *out,
                          err_t *err)
{
    if (pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_staff_find: no pool or no output");
    if (!staff_login_ok(login))
        return err_set(err, ERR_NOT_FOUND, "no such staff member");
    return s->be->staff_find(s->conn, login, pool, out, err);
}

err_code store_staff_list(store_t *s, pool_t *pool, store_staff **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_staff_list: no pool or no output");
    return s->be->staff_list(s->conn, pool, out, count, err);
}

err_code store_staff_set_password(store_t *s, int64_t id, const char *password_hash, err_t *err)
{
    if (!text_given(password_hash) || strlen(password_hash) >= 256)
        return err_set(err, ERR_INVALID, "staff: the password hash is missing or too long");
    return s->be->staff_set_password(s->conn, id, password_hash, err);
}

err_code store_staff_set_totp(store_t *s, int64_t id, const unsigned char *sealed, size_t len,
                              err_t *err)
{
    if (sealed == NULL || len == 0 || len > 256)
        return err_set(err, ERR_INVALID, "staff: no sealed secret");
    return s->be->staff_set_totp(s->conn, id, sealed, len, err);
}

err_code store_staff_use_step(store_t *s, int64_t id, int64_t step, bool *used, err_t *err)
{
    if (used == NULL || step <= 0)
        return err_set(err, ERR_INVALID, "store_staff_use_step: a positive step and an output");
    return s->be->staff_use_step(s->conn, id, step, used, err);
}

err_code store_staff_failed(store_t *s, int64_t id, int64_t now, int64_t window, int64_t *count,
                            err_t *err)
{
    if (count == NULL || now <= 0 || window <= 0)
        return err_set(err, ERR_INVALID, "store_staff_failed: a positive time and window");
    return s->be->staff_failed(s->conn, id, now, window, count, err);
}

err_code store_staff_set_lock(store_t *s, int64_t id, int64_t locked_until, err_t *err)
{
    if (locked_until < 0)
        return err_set(err, ERR_INVALID, "store_staff_set_lock: a negative time");
    return s->be->staff_set_lock(s->conn, id, locked_until, err);
}

err_code store_staff_set_disabled(store_t *s, int64_t id, int64_t at, err_t *err)
{
    if (at < 0)
        return err_set(err, ERR_INVALID, "store_staff_set_disabled: a negative time");
    return s->be->staff_set_disabled(s->conn, id, at, err);
}

err_code store_staff_agency_add(store_t *s, int64_t id, const char *agency_code, err_t *err)
{
    if (!text_given(agency_code) || strlen(agency_code) > 64)
        return err_set(err, ERR_INVALID, "staff: an agency code of 1 to 64 bytes");
    return s->be->staff_agency_add(s->conn, id, agency_code, err);
}

err_code store_staff_agencies(store_t *s, int64_t id, pool_t *pool, const char ***codes,
                              size_t *count, err_t *err)
{
    if (pool == NULL || codes == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_staff_agencies: no pool or no output");
    return s->be->staff_agencies(s->conn, id, pool, codes, count, err);
}

err_code store_staff_session_insert(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                                    const store_staff_session *ss, err_t *err)
{
    if (id_hash == NULL || ss == NULL || ss->staff_id <= 0 || ss->expires_at <= ss->created_at)
        return err_set(err, ERR_INVALID, "store_staff_session_insert: a hash, a member and times");
    return s->be->staff_session_insert(s->conn, id_hash, ss, err);
}

err_code store_staff_session_get(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                                 int64_t now, store_staff_session *out, err_t *err)
{
    if (id_hash == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_staff_session_get: no hash or no output");
    return s->be->staff_session_get(s->conn, id_hash, now, out, err);
}

err_code store_staff_session_touch(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                                   int64_t now, int64_t expires_at, err_t *err)
{
    if (id_hash == NULL || expires_at <= now)
        return err_set(err, ERR_INVALID, "store_staff_session_touch: a hash and a later end");
    return s->be->staff_session_touch(s->conn, id_hash, now, expires_at, err);
}

err_code store_staff_session_delete(store_t *s, const unsigned char id_hash[STORE_DIGEST_LEN],
                                    err_t *err)
{
    if (id_hash == NULL)
        return err_set(err, ERR_INVALID, "store_staff_session_delete: no hash");
    return s->be->staff_session_delete(s->conn, id_hash, err);
}

err_code store_staff_session_delete_staff(store_t *s, int64_t staff_id, err_t *err)
{
    return s->be->staff_session_delete_staff(s->conn, staff_id, err);
}

err_code store_staff_session_purge(store_t *s, int64_t now, size_t max, err_t *err)
{
    if (max == 0)
        return err_set(err, ERR_INVALID, "store_staff_session_purge: max must be positive");
    return s->be->staff_session_purge(s->conn, now, max, err);
}

/* ---- notifications (issue 5, W6) ---- */

err_code store_follow_add(store_t *s, int64_t request_id, int64_t subject_id,
                          int64_t contact_request_id, int64_t now, err_t *err)
{
    if (request_id <= 0 || subject_id <= 0 || contact_request_id <= 0)
        return err_set(err, ERR_INVALID, "store_follow_add: a request, a subject and the request "
                                         "holding its contact record");
    return s->be->follow_add(s->conn, request_id, subject_id, contact_request_id, now, err);
}

err_code store_follow_move(store_t *s, int64_t from_request, int64_t to_request, size_t *moved,
                           err_t *err)
{
    if (from_request <= 0 || to_request <= 0 || from_request == to_request)
        return err_set(err, ERR_INVALID, "store_follow_move: two different requests");
    size_t n = 0;
    err_code rc = s->be->follow_move(s->conn, from_request, to_request, &n, err);
    if (moved != NULL)
        *moved = rc == ERR_OK ? n : 0;
    return rc;
}

err_code store_follow_get(store_t *s, int64_t request_id, int64_t subject_id,
                          int64_t *contact_request_id, err_t *err)
{
    if (contact_request_id == NULL)
        return err_set(err, ERR_INVALID, "store_follow_get: no output");
    if (request_id <= 0 || subject_id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such follow");
    return s->be->follow_get(s->conn, request_id, subject_id, contact_request_id, err);
}

err_code store_follow_contact(store_t *s, int64_t subject_id, int64_t request_id,
                              int64_t *contact_request_id, err_t *err)
{
    if (contact_request_id == NULL)
        return err_set(err, ERR_INVALID, "store_follow_contact: no output");
    if (subject_id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such follow");
    return s->be->follow_contact(s->conn, subject_id, request_id, contact_request_id, err);
}

err_code store_follow_count(store_t *s, int64_t request_id, int64_t *count, err_t *err)
{
    if (count == NULL)
        return err_set(err, ERR_INVALID, "store_follow_count: no output");
    return s->be->follow_count(s->conn, request_id, count, err);
}

err_code store_follow_erase_contact(store_t *s, int64_t contact_request_id, size_t *erased,
                                    err_t *err)
{
    if (contact_request_id <= 0)
        return err_set(err, ERR_INVALID, "store_follow_erase_contact: no request");
    size_t n = 0;
    err_code rc = s->be->follow_erase_contact(s->conn, contact_request_id, &n, err);
    if (erased != NULL)
        *erased = rc == ERR_OK ? n : 0;
    return rc;
}

/* http(s) only, printable ASCII without spaces: what libcurl is handed. */
static bool webhook_url_ok(const char *url)
{
    if (url == NULL || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
        return false;
    size_t n = strlen(url);
    if (n > 2000 || n <= (url[4] == 's' ? 8u : 7u))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
            return false;
    return true;
}

err_code store_webhook_insert(store_t *s, store_webhook *w, err_t *err)
{
    if (w == NULL || !text_given(w->agency_code) || strlen(w->agency_code) > 64)
        return err_set(err, ERR_INVALID, "webhook: an agency code is required");
    if (!webhook_url_ok(w->url))
        return err_set(err, ERR_INVALID, "webhook: the url must be http:// or https://, printable, "
                                         "without spaces, at most 2000 characters");
    if (w->subject_id <= 0 || w->key_version <= 0 || w->secret == NULL || w->secret_len == 0 ||
        w->disabled_at != 0)
        return err_set(err, ERR_INVALID, "webhook: a sealed secret, its subject and key version");
    return s->be->webhook_insert(s->conn, w, err);
}

err_code store_webhook_get(store_t *s, int64_t id, pool_t *pool, store_webhook *out, err_t *err)
{
    if (pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_webhook_get: no pool or no output");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such webhook");
    return s->be->webhook_get(s->conn, id, pool, out, err);
}

err_code store_webhook_list(store_t *s, pool_t *pool, store_webhook **out, size_t *count,
                            err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL)
        return err_set(err, ERR_INVALID, "store_webhook_list: no pool or no output");
    *out = NULL;
    *count = 0;
    return s->be->webhook_list(s->conn, pool, out, count, err);
}

err_code store_webhook_disable(store_t *s, int64_t id, int64_t now, err_t *err)
{
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such webhook");
    return s->be->webhook_disable(s->conn, id, now, err);
}

static const char *const OUTBOX_KINDS[] = {"email", "webhook"};
static const char *const OUTBOX_STATUSES[] = {"pending", "sent", "failed"};

const char *store_outbox_kind_name(outbox_kind k)
{
    return (unsigned)k < 2 ? OUTBOX_KINDS[k] : "?";
}

const char *store_outbox_status_name(outbox_status st)
{
    return (unsigned)st < 3 ? OUTBOX_STATUSES[st] : "?";
}

bool store_outbox_status_parse(const char *str, outbox_status *out)
{
    for (unsigned i = 0; str != NULL && i < 3; i++)
        if (strcmp(str, OUTBOX_STATUSES[i]) == 0) {
            *out = (outbox_status)i;
            return true;
        }
    return false;
}

err_code store_outbox_enqueue(store_t *s, const sr_event *ev, int64_t now, size_t *queued,
                              err_t *err)
{
    if (ev == NULL || ev->id <= 0 || ev->request_id <= 0)
        return err_set(err, ERR_INVALID, "store_outbox_enqueue: a recorded event");
    if (!event_is_public(ev))
        return err_set(err, ERR_INVALID, "store_outbox_enqueue: an internal change tells nobody");
    size_t n = 0;
    err_code rc = s->be->outbox_enqueue(s->conn, ev, now, &n, err);
    if (queued != NULL)
        *queued = rc == ERR_OK ? n : 0;
    return rc;
}

err_code store_outbox_claim(store_t *s, int64_t now, int64_t lease, size_t max, pool_t *pool,
                            store_outbox **out, size_t *count, err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL || lease <= 0 || max == 0 || max > 1000)
        return err_set(err, ERR_INVALID, "store_outbox_claim: a lease, 1-1000 rows and outputs");
    *out = NULL;
    *count = 0;
    return s->be->outbox_claim(s->conn, now, lease, max, pool, out, count, err);
}

err_code store_outbox_get(store_t *s, int64_t id, pool_t *pool, store_outbox *out, err_t *err)
{
    if (pool == NULL || out == NULL)
        return err_set(err, ERR_INVALID, "store_outbox_get: no pool or no output");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such notification");
    return s->be->outbox_get(s->conn, id, pool, out, err);
}

err_code store_outbox_sent(store_t *s, int64_t id, int64_t now, err_t *err)
{
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such notification");
    return s->be->outbox_sent(s->conn, id, now, err);
}

err_code store_outbox_failed(store_t *s, int64_t id, int64_t retry_at, const char *error,
                             err_t *err)
{
    if (!text_given(error) || strlen(error) > 200 || retry_at < 0)
        return err_set(err, ERR_INVALID, "store_outbox_failed: an error of 1-200 bytes");
    if (id <= 0)
        return err_set(err, ERR_NOT_FOUND, "no such notification");
    return s->be->outbox_failed(s->conn, id, retry_at, error, err);
}

err_code store_outbox_list(store_t *s, const outbox_status *status_filter, int64_t after_id,
                           size_t max, pool_t *pool, store_outbox **out, size_t *count,
                           err_t *err)
{
    if (pool == NULL || out == NULL || count == NULL || max == 0 ||
        (status_filter != NULL && (unsigned)*status_filter > OUTBOX_FAILED))
        return err_set(err, ERR_INVALID, "store_outbox_list: a status, a size and outputs");
    *out = NULL;
    *count = 0;
    return s->be->outbox_list(s->conn, status_filter, after_id, max, pool, out, count, err);
}

err_code store_outbox_retry(store_t *s, int64_t id, int64_t now, size_t *retried, err_t *err)
{
    if (id < 0 || retried == NULL)
        return err_set(err, ERR_INVALID, "store_outbox_retry: an id (0 = every failed row)");
    *retried = 0;
    return s->be->outbox_retry(s->conn, id, now, retried, err);
}
