/*
 * o311_write.h - the Open311 GeoReport v2 documents we send, in JSON and XML,
 * with exactly the spec's names and shapes.
 *
 * What real clients need and the spec leaves loose, done here once:
 *  - XML starts with <?xml version="1.0" encoding="utf-8"?> and keeps its
 *    wrappers (services, service_definition, attributes, values,
 *    service_requests, errors) even around one element or none;
 *  - times are UTC with "Z" and no fraction (dt_format);
 *  - a missing value is JSON null or an empty XML element, never "" where
 *    the schema wants a URI or a number;
 *  - service_request_id is a JSON string (the schema's type).
 * Every function appends to b; check buf_failed(b) once at the end.
 * Never writes personal data: the types it takes do not carry any that it
 * reads (sr_reporter is ignored).
 */
#ifndef CIVIC_O311_WRITE_H
#define CIVIC_O311_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/request.h"
#include "util/buf.h"

typedef enum { O311_JSON, O311_XML } o311_format;

/* The discovery document (from configuration). */
typedef struct {
    const char *type;          /* "production" or "test" */
    const char *url;           /* the endpoint's base URL, ".../open311/v2" */
    const char *specification; /* "http://wiki.open311.org/GeoReport_v2" */
    const char *changeset;     /* W3C date-time, as configured */
} o311_endpoint;

typedef struct {
    const char *changeset;
    const char *contact;
    const char *key_service;
    const o311_endpoint *endpoints;
    size_t nendpoints;
} o311_discovery;

/* [{"code":400,"description":"..."}] / <errors><error>...</error></errors> */
void o311_write_error(buf_t *b, o311_format f, int code, const char *description);

void o311_write_discovery(buf_t *b, o311_format f, const o311_discovery *d);

/* GET services: every service of the catalog. */
void o311_write_services(buf_t *b, o311_format f, const catalog *c);

/* GET services/{code}: the service definition (attributes in order). */
void o311_write_service_definition(buf_t *b, o311_format f, const service *s);

/* Optional per-request history for extensions=true. */
typedef struct {
    const sr_event *events; /* public events, oldest first */
    size_t nevents;
} o311_history;

/*
 * GET requests / GET requests/{id}: requests[i] with the spec's fields
 * (service_name and agency_responsible from the catalog). When histories is
 * not NULL (extensions=true), each request also gets an "extended_attributes"
 * object / element with: detailed_status, resolution (when closed),
 * channel, and "notes": the public history, each note with datetime,
 * status, detailed_status and description.
 */
void o311_write_requests(buf_t *b, o311_format f, const catalog *c,
                         const service_request *requests, size_t n,
                         const o311_history *histories);

/* POST requests: one <request> with service_request_id (realtime),
 * or token (batch), or neither (blackbox); service_notice; account_id. */
void o311_write_created(buf_t *b, o311_format f, const service_request *sr, service_type type);

/* GET tokens/{token}: service_request_id (omitted / null while pending)
 * and token. */
void o311_write_token(buf_t *b, o311_format f, const char *token, int64_t id);

/* mySociety servicerequestupdates: <service_request_updates>
 * <request_update> update_id, service_request_id, status (sr_fms_status),
 * updated_datetime, description, media_url (empty), external_status_code
 * (our detailed status). */
void o311_write_updates(buf_t *b, o311_format f, const sr_event *events, size_t n);

#endif
