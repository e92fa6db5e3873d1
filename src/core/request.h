/*
 * request.h - the service request (SR) and its history (W3).
 *
 * A service_request is a plain value: its strings point into a pool owned by
 * whoever built it (the validator, or a store read). Personal data is kept
 * apart in sr_reporter, and every personal field carries a data class in
 * SR_PERSONAL_FIELDS, so the privacy engine can seal each class by its own
 * rules. Public reads never fill sr_reporter.
 *
 * Pure domain code: no I/O, no SQL, no HTTP.
 */
#ifndef CIVIC_REQUEST_H
#define CIVIC_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"

/* Our detailed status. Open311's open/closed is derived from it. */
typedef enum {
    SR_OPEN = 0,      /* reported, nobody has looked yet */
    SR_ACKNOWLEDGED,  /* the agency has seen it */
    SR_IN_PROGRESS,   /* work is under way */
    SR_REOPENED,      /* was closed, reported again as not fixed */
    SR_CLOSED         /* closed, with a resolution */
} sr_status;

#define SR_STATUS_COUNT 5

typedef enum {
    SR_RES_NONE = 0,         /* not closed */
    SR_RES_FIXED,            /* the problem was fixed */
    SR_RES_DUPLICATE,        /* another request tracks it */
    SR_RES_NOT_RESPONSIBLE,  /* not the city's responsibility */
    SR_RES_COULD_NOT_FIND,   /* crew could not find the problem */
    SR_RES_NOT_FIXED         /* closed without a fix: never a silent "closed" */
} sr_resolution;

typedef enum {
    SR_CHANNEL_API = 0, /* Open311 clients */
    SR_CHANNEL_WEB,     /* 311 Online */
    SR_CHANNEL_PHONE,   /* Contact Center */
    SR_CHANNEL_MOBILE   /* the city's apps */
} sr_channel;

/* Data classes of personal data, each with its own retention (P6) and its
 * own row in the gatekeeper's policy (P3). */
typedef enum {
    DC_CONTACT = 0, /* name, email, phone of the reporter */
    DC_DEVICE,      /* device ids: statistics only (P2) */
    DC_ACCOUNT,     /* the reporter's account id */
    DC_MEDIA,       /* photos and other files a reporter uploads (P11) */
    DC_RECORDING    /* Contact Center call recordings: 14 days (P6) */
} data_class;

#define DC_COUNT 5
/* A set of data classes, as a bit mask. */
#define DC_BIT(dc) (1u << (unsigned)(dc))
#define DC_ALL ((1u << DC_COUNT) - 1)

/* "contact", "device", "account", "media", "recording": the stored and
 * audited names. */
const char *sr_data_class_name(data_class dc);
bool sr_data_class_parse(const char *s, data_class *out);

/* The reporter's personal fields, as Open311 names them. NULL = not given. */
typedef struct {
    const char *first_name;
    const char *last_name;
    const char *email;
    const char *phone;
    const char *device_id;
    const char *account_id;
} sr_reporter;

/* One row per personal field: its Open311 name, data class, and where it
 * sits in sr_reporter. The store and the privacy engine iterate this table
 * rather than naming fields, so a new field cannot be forgotten. */
typedef struct {
    const char *name;
    data_class dclass;
    size_t offset; /* offsetof(sr_reporter, field) */
    size_t max_len; /* bytes */
} sr_personal_field;

extern const sr_personal_field SR_PERSONAL_FIELDS[];
extern const size_t SR_PERSONAL_FIELD_COUNT;

/* Reads/writes the field a row of SR_PERSONAL_FIELDS describes. */
const char *sr_reporter_get(const sr_reporter *r, const sr_personal_field *f);
void sr_reporter_set(sr_reporter *r, const sr_personal_field *f, const char *value);

/* An answer to one of the service's questions. Lists may hold several
 * values (multivaluelist); every other type holds exactly one. */
typedef struct {
    const char *code;
    const char **values;
    size_t nvalues;
} sr_answer;

typedef struct {
    int64_t id;            /* >0 once stored and visible; 0 = pending (batch) */
    int64_t row_id;        /* the stored row, set on insert even while pending: the
                            * privacy engine seals the reporter's data against it */
    const char *token;     /* batch services: what the client polls; else NULL */
    const char *service_code;
    sr_status status;
    sr_resolution resolution;
    const char *status_notes;   /* the latest public note, NULL if none */
    const char *agency_code;    /* routed to (W2), NULL if no agency */
    const char *service_notice; /* NULL if none */
    int64_t requested_at;
    int64_t updated_at;
    int64_t expected_at; /* 0 = no SLA */
    int64_t closed_at;   /* 0 = not closed */
    bool has_location;   /* lat/long given */
    double lat, lon;
    const char *address; /* address_string as given */
    const char *address_id;
    const char *zipcode;
    const char *description;
    const char *media_url;
    sr_channel channel;
    int64_t api_key_id; /* which client filed it; 0 = none */
    sr_answer *answers;
    size_t nanswers;
    sr_reporter reporter; /* personal: only on the write path */
    int64_t merged_into;  /* W5: closed as a duplicate of this request; 0 = none */
    const char *district; /* the district whose boundary holds the point (W2); NULL = none */
} service_request;

/* A change in a request's life, kept forever (the request's history). */
typedef enum {
    SR_EV_CREATED = 0,
    SR_EV_STATUS,   /* status and/or resolution changed */
    SR_EV_NOTE,     /* a note without a status change */
    SR_EV_TRANSFER, /* routed to another agency (W2: a misrouted request) */
    SR_EV_MERGE,    /* closed as a duplicate of another request (W5) */
} sr_event_kind;

typedef struct {
    int64_t id;         /* increasing; the servicerequestupdates update_id */
    int64_t request_id;
    int64_t at;
    sr_event_kind kind;
    sr_status status;   /* status after the event */
    sr_resolution resolution;
    const char *note;   /* NULL if none */
    bool public_note;   /* shown on Open311 and to the reporter */
    const char *actor;  /* pseudonymous: "api:3", "staff:12", "system"; internal:
                         * never on Open311 or shown to residents */
    /* SR_EV_TRANSFER: the agency codes before and after (from_agency NULL
     * when the request had none); NULL for other kinds. */
    const char *from_agency;
    const char *to_agency;
    int64_t merged_into; /* SR_EV_MERGE: the request it now follows; else 0 */
} sr_event;

const char *sr_status_name(sr_status s);       /* "open", "in_progress", ... */
bool sr_status_parse(const char *s, sr_status *out);

/* A request number as people and URLs write it: 1 to 18 digits, > 0. */
bool sr_parse_id(const char *text, int64_t *id);
const char *sr_open311_status(sr_status s);    /* "open" or "closed" */
const char *sr_resolution_name(sr_resolution r); /* "fixed", ...; "" for none */
bool sr_resolution_parse(const char *s, sr_resolution *out);
const char *sr_channel_name(sr_channel c);
bool sr_channel_parse(const char *s, sr_channel *out);
const char *sr_event_kind_name(sr_event_kind k);
bool sr_event_kind_parse(const char *s, sr_event_kind *out);

/* The status mySociety's servicerequestupdates extension expects
 * ("open", "investigating", "in_progress", "fixed", "duplicate",
 * "not_councils_responsibility", "no_further_action", "closed"). */
const char *sr_fms_status(sr_status s, sr_resolution r);

/* When a request filed at `at` for service s is expected to be done:
 * at + the SLA, or 0 when the service has none. */
int64_t sr_expected_at(const service *s, int64_t at);

#endif
