/*
 * intake.h - turning what a client sent into a valid new service request
 * (I1, Q2). The same rules serve every channel: Open311, the website, the
 * Contact Center.
 *
 * Input is a kv_list of Open311 parameter names (service_code, lat, long,
 * address_string, address_id, email, device_id, account_id, first_name,
 * last_name, phone, description, media_url, attribute[CODE],
 * attribute[CODE][]). Parameters it does not know are ignored, as real
 * clients send extras (api_key, jurisdiction_id, format hints).
 *
 * Every error message names the parameter at fault and never repeats its
 * value: values may be personal data.
 */
#ifndef CIVIC_INTAKE_H
#define CIVIC_INTAKE_H

#include "core/catalog.h"
#include "core/request.h"
#include "util/kv.h"

/* Limits on what a resident can send, in bytes. */
#define INTAKE_MAX_DESCRIPTION 4000 /* characters, per the spec; checked in code points */
#define INTAKE_MAX_ADDRESS 500
#define INTAKE_MAX_SHORT 200 /* address_id, zipcode, attribute strings */
#define INTAKE_MAX_TEXT 4000 /* text attributes, characters */
#define INTAKE_MAX_URL 2048
#define INTAKE_MAX_LIST_VALUES 100

/*
 * Fills *out from in, checked against the catalog: the service exists
 * (ERR_NOT_FOUND otherwise), a location is given (lat and long together,
 * or address_string, or address_id), coordinates are numbers in range,
 * every attribute code is one of the service's variable attributes, every
 * required attribute is answered, each answer has the attribute's datatype
 * (number, ISO 8601 datetime, a key of the list), single-valued types get
 * one value, media_url is an http(s) URL, and each text is within its
 * limit. Strings in *out point into pool or into in.
 *
 * Sets requested_at = updated_at = now, expected_at from the service's SLA,
 * status open, the service notice from the service, the agency and the
 * district by route_decide (the catalog's route table, by the point when
 * one was given), and the channel given. Does not set id or token.
 */
err_code intake_request(const catalog *cat, const kv_list *in, sr_channel channel, int64_t now,
                        pool_t *pool, service_request *out, err_t *err);

/* Parses an Open311 number ("12", "-3.5", "1e3" is refused: people and
 * forms do not write exponents). Returns false on anything else. */
bool intake_parse_number(const char *s, double *out);
/* The shape every channel asks of an email address: one @ with something
 * before it and a dot after it, no spaces, commas, quotes or angle
 * brackets. Not a deliverability check. */
bool intake_email_ok(const char *e);

#endif
