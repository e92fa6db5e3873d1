/*
 * o311_params.c - Open311 parameter decoding. See o311_params.h.
 *
 * Decisions where the spec is loose, made for the clients we know:
 *  - the default window has no upper bound: "the last 90 days" is
 *    requested_at >= now - 90 days, so a request filed a moment ago on
 *    another node with a clock a second ahead is not missed;
 *  - lat/long without radius searches 1 km around the point;
 *  - "Open"/"CLOSED" are read case-insensitively (SF311 writes "Open").
 */
#include "open311/o311_params.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/geo.h"
#include "core/intake.h"
#include "util/buf.h"
#include "util/datetime.h"

#define DEFAULT_RADIUS_M 1000.0
#define MAX_PAGE 1000000

/* The only value of key, or NULL; more than one is an error. */
static err_code one(const kv_list *in, const char *key, const char **out, err_t *err)
{
    *out = NULL;
    for (size_t i = 0; i < in->count; i++) {
        if (strcmp(in->items[i].key, key) != 0)
            continue;
        if (*out != NULL)
            return err_set(err, ERR_INVALID, "%s was given more than once", key);
        *out = in->items[i].value;
    }
    return ERR_OK;
}

/* Splits every value of key on commas into a pool array of trimmed,
 * non-empty items. */
static err_code comma_list(const kv_list *in, const char *key, size_t max, pool_t *pool,
                           const char ***out, size_t *count, err_t *err)
{
    *out = NULL;
    *count = 0;
    size_t cap = 0;
    for (size_t i = 0; i < in->count; i++) {
        if (strcmp(in->items[i].key, key) != 0)
            continue;
        const char *p = in->items[i].value;
        while (*p != '\0') {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            const char *s = p, *e = p + len;
            while (s < e && isspace((unsigned char)*s))
                s++;
            while (e > s && isspace((unsigned char)e[-1]))
                e--;
            if (e > s) {
                if (*count == max)
                    return err_set(err, ERR_INVALID, "%s lists more than %zu items", key, max);
                const char **n = pool_grow(pool, *out, *count, &cap, sizeof *n);
                if (n == NULL)
                    return err_set(err, ERR_NOMEM, "out of memory");
                *out = n;
                (*out)[*count] = pool_strndup(pool, s, (size_t)(e - s));
                if ((*out)[*count] == NULL)
                    return err_set(err, ERR_NOMEM, "out of memory");
                (*count)++;
            }
            p += len;
            if (*p == ',')
                p++;
        }
    }
    return ERR_OK;
}

static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s == '\0' || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static err_code date_param(const kv_list *in, const char *key, bool *has, int64_t *out,
                           err_t *err)
{
    const char *v;
    err_code rc = one(in, key, &v, err);
    if (rc != ERR_OK)
        return rc;
    *has = v != NULL && *v != '\0';
    if (*has && !dt_parse(v, strlen(v), out))
        return err_set(err, ERR_INVALID,
                       "%s must be a W3C date-time with a time zone, e.g. 2010-01-01T00:00:00Z",
                       key);
    return ERR_OK;
}

/* start_date/end_date with Open311's defaults. open_ended: no dates means
 * no limit (used when updated_* bound the search instead). */
static err_code window(const kv_list *in, int64_t now, bool open_ended, int64_t *start,
                       int64_t *end, err_t *err)
{
    bool hs, he;
    err_code rc;
    if ((rc = date_param(in, "start_date", &hs, start, err)) ||
        (rc = date_param(in, "end_date", &he, end, err)))
        return rc;
    if (hs && he) {
        if (*end < *start)
            return err_set(err, ERR_INVALID, "end_date is before start_date");
        if (*end - *start > SRQ_DEFAULT_WINDOW)
            return err_set(err, ERR_INVALID,
                           "start_date and end_date may not span more than 90 days; use "
                           "several searches or page through them");
    } else if (hs) {
        *end = *start > DT_MAX - SRQ_DEFAULT_WINDOW ? DT_MAX : *start + SRQ_DEFAULT_WINDOW;
    } else if (he) {
        *start = *end < DT_MIN + SRQ_DEFAULT_WINDOW ? DT_MIN : *end - SRQ_DEFAULT_WINDOW;
    } else if (open_ended) {
        *start = DT_MIN;
        *end = DT_MAX;
    } else {
        *start = now - SRQ_DEFAULT_WINDOW;
        *end = DT_MAX;
    }
    return ERR_OK;
}

static err_code paging(const kv_list *in, size_t *page, size_t *page_size, err_t *err)
{
    const char *p, *ps;
    err_code rc;
    if ((rc = one(in, "page", &p, err)) || (rc = one(in, "page_size", &ps, err)))
        return rc;
    int64_t v;
    *page = 1;
    *page_size = SRQ_MAX_RESULTS;
    if (p != NULL && *p != '\0') {
        if (!parse_i64(p, 1, MAX_PAGE, &v))
            return err_set(err, ERR_INVALID, "page must be a whole number from 1 to %d",
                           MAX_PAGE);
        *page = (size_t)v;
    }
    if (ps != NULL && *ps != '\0') {
        if (!parse_i64(ps, 1, SRQ_MAX_RESULTS, &v))
            return err_set(err, ERR_INVALID, "page_size must be a whole number from 1 to %d",
                           SRQ_MAX_RESULTS);
        *page_size = (size_t)v;
    }
    return ERR_OK;
}

err_code o311_parse_window(const kv_list *in, int64_t now, int64_t *start, int64_t *end,
                           size_t *page, size_t *page_size, err_t *err)
{
    err_code rc = window(in, now, false, start, end, err);
    return rc != ERR_OK ? rc : paging(in, page, page_size, err);
}

static err_code parse_ids(const kv_list *in, pool_t *pool, sr_query *q, err_t *err)
{
    const char **items;
    size_t n;
    err_code rc = comma_list(in, "service_request_id", SRQ_MAX_IDS, pool, &items, &n, err);
    if (rc != ERR_OK || n == 0)
        return rc;
    int64_t *ids = pool_calloc(pool, n, sizeof *ids);
    if (ids == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!parse_i64(items[i], 1, INT64_MAX, &ids[i]))
            return err_set(err, ERR_INVALID,
                           "service_request_id must be a comma-separated list of request "
                           "numbers");
    q->ids = ids;
    q->nids = n;
    return ERR_OK;
}

static err_code parse_status(const kv_list *in, pool_t *pool, sr_query *q, err_t *err)
{
    const char **items;
    size_t n;
    err_code rc = comma_list(in, "status", SR_STATUS_COUNT + 2, pool, &items, &n, err);
    if (rc != ERR_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        sr_status st;
        if (strcasecmp(items[i], "open") == 0)
            q->status_mask |= SRQ_OPEN311_OPEN;
        else if (strcasecmp(items[i], "closed") == 0)
            q->status_mask |= SRQ_OPEN311_CLOSED;
        else if (sr_status_parse(items[i], &st))
            q->status_mask |= SRQ_STATUS_BIT(st);
        else
            return err_set(err, ERR_INVALID,
                           "status must be open or closed (or acknowledged, in_progress, "
                           "reopened)");
    }
    return ERR_OK;
}

static err_code number_param(const kv_list *in, const char *key, bool *has, double *out,
                             err_t *err)
{
    const char *v;
    err_code rc = one(in, key, &v, err);
    if (rc != ERR_OK)
        return rc;
    *has = v != NULL && *v != '\0';
    if (*has && !intake_parse_number(v, out))
        return err_set(err, ERR_INVALID, "%s must be a decimal number", key);
    return ERR_OK;
}

static err_code parse_geo(const kv_list *in, pool_t *pool, sr_query *q, err_t *err)
{
    bool hlat, hlon, hrad;
    double lat = 0, lon = 0, radius = DEFAULT_RADIUS_M;
    err_code rc;
    if ((rc = number_param(in, "lat", &hlat, &lat, err)) ||
        (rc = number_param(in, "long", &hlon, &lon, err)) ||
        (rc = number_param(in, "radius", &hrad, &radius, err)))
        return rc;
    if (hlat != hlon)
        return err_set(err, ERR_INVALID, "lat and long must be given together");
    if (hrad && !hlat)
        return err_set(err, ERR_INVALID, "radius needs lat and long");

    const char **box;
    size_t n;
    if ((rc = comma_list(in, "bbox", 4, pool, &box, &n, err)) != ERR_OK)
        return rc;
    if (n > 0) {
        double v[4];
        for (size_t i = 0; i < n; i++)
            if (!intake_parse_number(box[i], &v[i]))
                n = 0;
        if (n != 4 || !geo_valid(v[1], v[0]) || !geo_valid(v[3], v[2]) || v[0] > v[2] ||
            v[1] > v[3])
            return err_set(err, ERR_INVALID,
                           "bbox must be min_long,min_lat,max_long,max_lat in WGS84 degrees");
        q->has_bbox = true;
        q->min_lon = v[0];
        q->min_lat = v[1];
        q->max_lon = v[2];
        q->max_lat = v[3];
    }
    if (hlat)
        return srq_set_radius(q, lat, lon, radius, err);
    return ERR_OK;
}

err_code o311_parse_flag(const kv_list *in, const char *key, bool *out, err_t *err)
{
    const char *v;
    err_code rc = one(in, key, &v, err);
    if (rc != ERR_OK)
        return rc;
    *out = false;
    if (v == NULL || *v == '\0' || strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return ERR_OK;
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) {
        *out = true;
        return ERR_OK;
    }
    return err_set(err, ERR_INVALID, "%s must be true or false", key);
}

err_code o311_parse_search(const kv_list *in, int64_t now, pool_t *pool, o311_search *s,
                           err_t *err)
{
    sr_query *q = &s->q;
    srq_init(q, now);
    err_code rc;
    if ((rc = o311_parse_flag(in, "extensions", &s->extensions, err)) ||
        (rc = paging(in, &q->page, &q->page_size, err)) || (rc = parse_ids(in, pool, q, err)))
        return rc;
    if (q->nids > 0)
        return ERR_OK; /* the spec: ids override all other arguments */

    const char **codes;
    size_t ncodes;
    if ((rc = comma_list(in, "service_code", SRQ_MAX_CODES, pool, &codes, &ncodes, err)))
        return rc;
    q->service_codes = codes;
    q->nservice_codes = ncodes;
    if ((rc = comma_list(in, "agency_responsible", SRQ_MAX_CODES, pool, &codes, &ncodes, err)))
        return rc;
    q->agency_codes = codes;
    q->nagency_codes = ncodes;

    if ((rc = parse_status(in, pool, q, err)) ||
        (rc = date_param(in, "updated_after", &q->has_updated_after, &q->updated_after, err)) ||
        (rc = date_param(in, "updated_before", &q->has_updated_before, &q->updated_before,
                         err)))
        return rc;
    if (q->has_updated_after && q->has_updated_before && q->updated_before < q->updated_after)
        return err_set(err, ERR_INVALID, "updated_before is before updated_after");
    if ((rc = window(in, now, q->has_updated_after || q->has_updated_before, &q->start, &q->end,
                     err)))
        return rc;
    return parse_geo(in, pool, q, err);
}

bool o311_content_type_is(const char *content_type, const char *want)
{
    if (content_type == NULL)
        return false;
    while (*content_type == ' ')
        content_type++;
    size_t n = strlen(want);
    if (strncasecmp(content_type, want, n) != 0)
        return false;
    char next = content_type[n];
    return next == '\0' || next == ';' || next == ' ';
}

/* A JSON scalar as the text a form would have carried. */
static err_code json_scalar_text(json_t *v, buf_t *b, bool *is_null)
{
    *is_null = false;
    buf_reset(b);
    switch (json_typeof(v)) {
    case JSON_STRING:
        buf_append(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        buf_put_i64(b, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        buf_put_double(b, json_real_value(v));
        break;
    case JSON_TRUE:
        buf_puts(b, "true");
        break;
    case JSON_FALSE:
        buf_puts(b, "false");
        break;
    case JSON_NULL:
        *is_null = true;
        return ERR_OK;
    default:
        return ERR_INVALID;
    }
    if (b->data == NULL)
        buf_puts(b, "");
    return buf_failed(b) ? ERR_NOMEM : ERR_OK;
}

static err_code json_add(kv_list *out, pool_t *pool, const char *key, json_t *v, buf_t *tmp,
                         err_t *err)
{
    bool is_null;
    err_code rc = json_scalar_text(v, tmp, &is_null);
    if (rc == ERR_NOMEM)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (rc != ERR_OK)
        return ERR_INVALID; /* the caller words the message */
    if (is_null)
        return ERR_OK;
    return kv_add(out, pool, key, strlen(key), tmp->data, tmp->len, &KV_DEFAULT_LIMITS, err);
}

static err_code json_attributes(json_t *attrs, kv_list *out, pool_t *pool, buf_t *tmp,
                                err_t *err)
{
    const char *code;
    json_t *v;
    json_object_foreach(attrs, code, v)
    {
        buf_t key = BUF_INIT;
        buf_printf(&key, "attribute[%s]%s", code, json_is_array(v) ? "[]" : "");
        if (buf_failed(&key)) {
            buf_free(&key);
            return err_set(err, ERR_NOMEM, "out of memory");
        }
        err_code rc = ERR_OK;
        if (json_is_array(v)) {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item)
            {
                if ((rc = json_add(out, pool, key.data, item, tmp, err)) != ERR_OK)
                    break;
            }
        } else {
            rc = json_add(out, pool, key.data, v, tmp, err);
        }
        buf_free(&key);
        if (rc == ERR_INVALID && err != NULL && err->code != ERR_INVALID)
            return err_set(err, ERR_INVALID,
                           "each attribute answer must be a string, a number, or a list of them");
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

static err_code json_body(const char *body, size_t len, pool_t *pool, kv_list *out, err_t *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return err_set(err, ERR_INVALID, "the JSON body is not valid JSON (line %d, column %d)",
                       jerr.line, jerr.column);
    err_code rc = ERR_OK;
    buf_t tmp = BUF_INIT;
    if (!json_is_object(root)) {
        rc = err_set(err, ERR_INVALID, "the JSON body must be an object of parameters");
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        err_clear(err);
        if (strcmp(key, "attribute") == 0 && json_is_object(v)) {
            rc = json_attributes(v, out, pool, &tmp, err);
        } else if (json_is_array(v)) {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item)
            {
                if ((rc = json_add(out, pool, key, item, &tmp, err)) != ERR_OK)
                    break;
            }
        } else {
            rc = json_add(out, pool, key, v, &tmp, err);
        }
        if (rc == ERR_INVALID && (err == NULL || err->code != ERR_INVALID || !err->msg[0]))
            rc = err_set(err, ERR_INVALID,
                         "each JSON parameter must be a string, a number, true or false");
        if (rc != ERR_OK)
            goto done;
    }
done:
    buf_free(&tmp);
    json_decref(root);
    return rc;
}

err_code o311_decode_body(const char *content_type, const char *body, size_t len, pool_t *pool,
                          kv_list *out, err_t *err)
{
    if (content_type == NULL ||
        o311_content_type_is(content_type, "application/x-www-form-urlencoded"))
        return form_decode(body, len, pool, &KV_DEFAULT_LIMITS, out, err);
    if (o311_content_type_is(content_type, "application/json"))
        return json_body(body, len, pool, out, err);
    return err_set(err, ERR_INVALID,
                   "send the body as application/x-www-form-urlencoded or application/json");
}
