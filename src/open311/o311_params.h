/*
 * o311_params.h - decoding what Open311 clients send: the search parameters
 * of GET requests (and their common extensions) and POST bodies in any of
 * the encodings clients use, into the domain's types.
 *
 * Every decoder here is fuzzed (fuzz/). Errors name the parameter, never
 * its value.
 */
#ifndef CIVIC_O311_PARAMS_H
#define CIVIC_O311_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/query.h"
#include "util/kv.h"

typedef struct {
    sr_query q;
    bool extensions; /* extensions=true */
} o311_search;

/*
 * GET requests parameters into s. Understood:
 *   service_request_id  comma list of ids (overrides everything else)
 *   service_code        comma list, may repeat
 *   status              comma list: open, closed, or our detailed statuses
 *   start_date/end_date W3C date-times; at most 90 days apart; default the
 *                       last 90 days; only one given: 90 days from/to it
 *   updated_after/updated_before  (when given without start/end dates, the
 *                       requested window is not limited)
 *   agency_responsible  comma list of agency codes
 *   lat, long, radius   metres, at most 50 km
 *   bbox                min_long,min_lat,max_long,max_lat (GeoJSON order)
 *   page, page_size     1-based page; page_size 1..1000 (default 1000)
 *   extensions          true/false
 * Unknown parameters are ignored, as real clients send extras.
 */
err_code o311_parse_search(const kv_list *in, int64_t now, pool_t *pool, o311_search *s,
                           err_t *err);

/* A true/false parameter (true, false, 1, 0; absent or empty is false);
 * more than one value, or anything else, is ERR_INVALID. */
err_code o311_parse_flag(const kv_list *in, const char *key, bool *out, err_t *err);

/* A date window for servicerequestupdates: start_date/end_date with the
 * same defaults and 90-day cap as above; page/page_size. */
err_code o311_parse_window(const kv_list *in, int64_t now, int64_t *start, int64_t *end,
                           size_t *page, size_t *page_size, err_t *err);

/*
 * A POST body into kv pairs, by its Content-Type:
 *   application/x-www-form-urlencoded (or none): Open311's encoding;
 *   application/json: an object of Open311 names; "attribute" may be an
 *     object {CODE: value or [values]}; numbers and booleans become text.
 * Anything else is ERR_INVALID (HTTP 415 is the caller's choice).
 */
err_code o311_decode_body(const char *content_type, const char *body, size_t len, pool_t *pool,
                          kv_list *out, err_t *err);

/* True if content_type names media type `want` (case-insensitive, any
 * parameters such as charset ignored). NULL content_type is false. */
bool o311_content_type_is(const char *content_type, const char *want);

#endif
