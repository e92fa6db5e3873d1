/*
 * request.c - names of the request enumerations (stable: they are stored in
 * the database and sent on the API) and the registry of personal fields.
 */
#include "core/request.h"

#include <stddef.h>
#include <string.h>

const sr_personal_field SR_PERSONAL_FIELDS[] = {
    {"first_name", DC_CONTACT, offsetof(sr_reporter, first_name), 200},
    {"last_name", DC_CONTACT, offsetof(sr_reporter, last_name), 200},
    {"email", DC_CONTACT, offsetof(sr_reporter, email), 254},
    {"phone", DC_CONTACT, offsetof(sr_reporter, phone), 40},
    {"device_id", DC_DEVICE, offsetof(sr_reporter, device_id), 200},
    {"account_id", DC_ACCOUNT, offsetof(sr_reporter, account_id), 200},
};
const size_t SR_PERSONAL_FIELD_COUNT = sizeof SR_PERSONAL_FIELDS / sizeof SR_PERSONAL_FIELDS[0];

const char *sr_reporter_get(const sr_reporter *r, const sr_personal_field *f)
{
    const char *const *slot = (const char *const *)(const void *)((const char *)r + f->offset);
    return *slot;
}

void sr_reporter_set(sr_reporter *r, const sr_personal_field *f, const char *value)
{
    const char **slot = (const char **)(void *)((char *)r + f->offset);
    *slot = value;
}

/* Table-driven name <-> value mapping for the small enumerations. */
static const char *name_of(const char *const *names, size_t n, unsigned v)
{
    return v < n ? names[v] : names[0];
}

static bool parse_name(const char *const *names, size_t n, const char *s, unsigned *out)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) {
            *out = (unsigned)i;
            return true;
        }
    return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const STATUS_NAMES[] = {"open", "acknowledged", "in_progress", "reopened",
                                           "closed"};
static const char *const RESOLUTION_NAMES[] = {"",          "fixed",          "duplicate",
                                               "not_responsible", "could_not_find", "not_fixed"};
static const char *const CHANNEL_NAMES[] = {"api", "web", "phone", "mobile"};
static const char *const EVENT_NAMES[] = {"created", "status", "note", "transfer", "merge"};
_Static_assert(COUNT(EVENT_NAMES) == (size_t)SR_EV_MERGE + 1, "an event kind without a name");
static const char *const DATA_CLASS_NAMES[] = {"contact", "device", "account", "media",
                                               "recording"};
_Static_assert(COUNT(DATA_CLASS_NAMES) == DC_COUNT, "a data class without a name");

const char *sr_data_class_name(data_class dc)
{
    return name_of(DATA_CLASS_NAMES, COUNT(DATA_CLASS_NAMES), (unsigned)dc);
}

bool sr_data_class_parse(const char *s, data_class *out)
{
    unsigned v;
    if (!parse_name(DATA_CLASS_NAMES, COUNT(DATA_CLASS_NAMES), s, &v))
        return false;
    *out = (data_class)v;
    return true;
}

const char *sr_status_name(sr_status s)
{
    return name_of(STATUS_NAMES, COUNT(STATUS_NAMES), (unsigned)s);
}

bool sr_status_parse(const char *s, sr_status *out)
{
    unsigned v;
    if (!parse_name(STATUS_NAMES, COUNT(STATUS_NAMES), s, &v))
        return false;
    *out = (sr_status)v;
    return true;
}

const char *sr_open311_status(sr_status s)
{
    return s == SR_CLOSED ? "closed" : "open";
}

const char *sr_resolution_name(sr_resolution r)
{
    return name_of(RESOLUTION_NAMES, COUNT(RESOLUTION_NAMES), (unsigned)r);
}

bool sr_resolution_parse(const char *s, sr_resolution *out)
{
    unsigned v;
    if (!parse_name(RESOLUTION_NAMES, COUNT(RESOLUTION_NAMES), s, &v))
        return false;
    *out = (sr_resolution)v;
    return true;
}

const char *sr_channel_name(sr_channel c)
{
    return name_of(CHANNEL_NAMES, COUNT(CHANNEL_NAMES), (unsigned)c);
}

bool sr_channel_parse(const char *s, sr_channel *out)
{
    unsigned v;
    if (!parse_name(CHANNEL_NAMES, COUNT(CHANNEL_NAMES), s, &v))
        return false;
    *out = (sr_channel)v;
    return true;
}

const char *sr_event_kind_name(sr_event_kind k)
{
    return name_of(EVENT_NAMES, COUNT(EVENT_NAMES), (unsigned)k);
}

bool sr_event_kind_parse(const char *s, sr_event_kind *out)
{
    unsigned v;
    if (!parse_name(EVENT_NAMES, COUNT(EVENT_NAMES), s, &v))
        return false;
    *out = (sr_event_kind)v;
    return true;
}

const char *sr_fms_status(sr_status s, sr_resolution r)
{
    switch (s) {
    case SR_OPEN:
    case SR_REOPENED:
        return "open";
    case SR_ACKNOWLEDGED:
        return "investigating";
    case SR_IN_PROGRESS:
        return "in_progress";
    case SR_CLOSED:
        break;
    }
    switch (r) {
    case SR_RES_FIXED:
        return "fixed";
    case SR_RES_DUPLICATE:
        return "duplicate";
    case SR_RES_NOT_RESPONSIBLE:
        return "not_councils_responsibility";
    case SR_RES_COULD_NOT_FIND:
    case SR_RES_NOT_FIXED:
        return "no_further_action";
    case SR_RES_NONE:
        break;
    }
    return "closed";
}

int64_t sr_expected_at(const service *s, int64_t at)
{
    return s->sla_seconds > 0 ? at + s->sla_seconds : 0;
}

bool sr_parse_id(const char *text, int64_t *id)
{
    if (text == NULL || *text == '\0' || strlen(text) > 18)
        return false;
    int64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *id = v;
    return v > 0;
}
