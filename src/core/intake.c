/*
 * intake.c - checks a new service request against the catalog (I1, Q2).
 *
 * The one rule that shapes this file: an error message names the parameter
 * and the rule it broke, and never repeats what was sent. A description, a
 * phone number or an answer may be personal data, and error texts reach
 * clients and logs. Service and attribute codes are safe to name once they
 * are known to be codes of our catalog.
 */
#include "core/intake.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/geo.h"
#include "core/route.h"
#include "util/datetime.h"
#include "util/utf8.h"

/* The value of a parameter that may appear once. Empty counts as absent:
 * forms and client libraries send "address_id=" for fields left blank. */
static err_code single(const kv_list *in, const char *key, const char **out, err_t *err)
{
    *out = NULL;
    for (size_t i = 0; i < in->count; i++) {
        if (strcmp(in->items[i].key, key) != 0)
            continue;
        if (*out != NULL)
            return err_set(err, ERR_INVALID, "%s was given more than once", key);
        *out = in->items[i].value;
    }
    if (*out != NULL && (*out)[0] == '\0')
        *out = NULL;
    return ERR_OK;
}

static bool has_line_break(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* Control characters other than tab/CR/LF have no place in any field, nor
 * the non-characters U+FFFE and U+FFFF (EF BF BE/BF), which XML 1.0 cannot
 * carry: a request must read the same in JSON and in XML. */
static bool has_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') || *p == 0x7f)
            return true;
        if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
            return true;
    }
    return false;
}

static err_code check_text(const char *key, const char *v, size_t max_chars, bool multiline,
                           err_t *err)
{
    if (v == NULL)
        return ERR_OK;
    if (utf8_length(v, strlen(v)) > max_chars)
        return err_set(err, ERR_INVALID, "%s is longer than %zu characters", key, max_chars);
    if (has_controls(v) || (!multiline && has_line_break(v)))
        return err_set(err, ERR_INVALID, "%s has control characters or line breaks", key);
    return ERR_OK;
}

bool intake_parse_number(const char *s, double *out)
{
    /* Digits, one optional sign, one optional point: what a person or a
     * number input writes. No exponents, hex, inf or nan, which strtod
     * would accept. */
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    size_t digits = 0, points = 0;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (*p == '.' && points++ == 0)
            continue;
        else
            return false;
    }
    if (digits == 0 || digits > 30)
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static err_code check_location(const kv_list *in, service_request *out, err_t *err)
{
    const char *lat, *lon;
    err_code rc;
    if ((rc = single(in, "lat", &lat, err)) || (rc = single(in, "long", &lon, err)))
        return rc;
    if ((lat == NULL) != (lon == NULL))
        return err_set(err, ERR_INVALID, "lat and long must be given together");
    if (lat != NULL) {
        double a, b;
        if (!intake_parse_number(lat, &a) || !intake_parse_number(lon, &b))
            return err_set(err, ERR_INVALID, "lat and long must be decimal numbers");
        if (!geo_valid(a, b))
            return err_set(err, ERR_INVALID,
                           "lat must be in [-90, 90] and long in [-180, 180] (WGS84 degrees)");
        out->has_location = true;
        out->lat = a;
        out->lon = b;
    }
    if ((rc = single(in, "address_string", &out->address, err)) ||
        (rc = single(in, "address_id", &out->address_id, err)) ||
        (rc = single(in, "zipcode", &out->zipcode, err)))
        return rc;
    if ((rc = check_text("address_string", out->address, INTAKE_MAX_ADDRESS, false, err)) ||
        (rc = check_text("address_id", out->address_id, INTAKE_MAX_SHORT, false, err)) ||
        (rc = check_text("zipcode", out->zipcode, 20, false, err)))
        return rc;
    if (!out->has_location && out->address == NULL && out->address_id == NULL)
        return err_set(err, ERR_INVALID,
                       "a location is required: lat and long, or address_string, or address_id");
    return ERR_OK;
}

static bool url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
        return false;
    const char *host = strstr(u, "://") + 3;
    if (*host == '\0' || *host == '/')
        return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return false;
    return true;
}

bool intake_email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    return at != NULL && at != e && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
           strchr(at + 1, '.') != NULL && strpbrk(e, " \t\r\n,;<>\"") == NULL;
}

static bool phone_ok(const char *p)
{
    size_t digits = 0;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (strchr("+-(). xX#", *p) == NULL && !(*p == 'e' || *p == 't'))
            return false;
    }
    return digits >= 3 && digits <= 20;
}

static err_code check_reporter(const kv_list *in, sr_reporter *r, err_t *err)
{
    for (size_t i = 0; i < SR_PERSONAL_FIELD_COUNT; i++) {
        const sr_personal_field *f = &SR_PERSONAL_FIELDS[i];
        const char *v;
        err_code rc = single(in, f->name, &v, err);
        if (rc != ERR_OK)
            return rc;
        if (v == NULL)
            continue;
        if (strlen(v) > f->max_len)
            return err_set(err, ERR_INVALID, "%s is longer than %zu bytes", f->name, f->max_len);
        if (has_controls(v) || has_line_break(v))
            return err_set(err, ERR_INVALID, "%s has control characters or line breaks",
                           f->name);
        if (strcmp(f->name, "email") == 0 && !intake_email_ok(v))
            return err_set(err, ERR_INVALID, "email is not an email address");
        if (strcmp(f->name, "phone") == 0 && !phone_ok(v))
            return err_set(err, ERR_INVALID, "phone is not a phone number");
        sr_reporter_set(r, f, v);
    }
    return ERR_OK;
}

/* Splits "attribute[CODE]" / "attribute[CODE][]" into CODE (pointer into
 * key, length in *len). Returns false if key is not of that form. */
static bool attr_key(const char *key, const char **code, size_t *len, bool *brackets)
{
    if (strncmp(key, "attribute[", 10) != 0)
        return false;
    const char *start = key + 10, *close = strchr(start, ']');
    if (close == NULL || close == start)
        return false;
    *code = start;
    *len = (size_t)(close - start);
    if (close[1] == '\0') {
        *brackets = false;
        return true;
    }
    if (strcmp(close + 1, "[]") == 0) {
        *brackets = true;
        return true;
    }
    return false;
}

static bool list_has_key(const attribute *a, const char *key)
{
    for (size_t i = 0; i < a->nvalues; i++)
        if (strcmp(a->values[i].key, key) == 0)
            return true;
    return false;
}

/* Checks one value against the attribute's datatype; may replace *value
 * with a normalised form (datetimes in UTC). */
static err_code check_answer(const attribute *a, const char **value, pool_t *pool, err_t *err)
{
    const char *v = *value;
    switch (a->datatype) {
    case ATTR_NUMBER: {
        double d;
        if (!intake_parse_number(v, &d))
            return err_set(err, ERR_INVALID, "attribute[%s] must be a number", a->code);
        return ERR_OK;
    }
    case ATTR_DATETIME: {
        int64_t t;
        if (!dt_parse(v, strlen(v), &t))
            return err_set(err, ERR_INVALID,
                           "attribute[%s] must be an ISO 8601 date-time, e.g. "
                           "2024-05-01T14:30:00Z",
                           a->code);
        char buf[DT_BUFSZ];
        *value = pool_strdup(pool, dt_format(t, buf));
        return *value ? ERR_OK : err_set(err, ERR_NOMEM, "out of memory");
    }
    case ATTR_STRING:
        if (utf8_length(v, strlen(v)) > INTAKE_MAX_SHORT || has_controls(v) || has_line_break(v))
            return err_set(err, ERR_INVALID,
                           "attribute[%s] must be one line of at most %d characters", a->code,
                           INTAKE_MAX_SHORT);
        return ERR_OK;
    case ATTR_TEXT:
        if (utf8_length(v, strlen(v)) > INTAKE_MAX_TEXT || has_controls(v))
            return err_set(err, ERR_INVALID, "attribute[%s] is longer than %d characters",
                           a->code, INTAKE_MAX_TEXT);
        return ERR_OK;
    case ATTR_SINGLEVALUELIST:
    case ATTR_MULTIVALUELIST:
        if (!list_has_key(a, v))
            return err_set(err, ERR_INVALID, "attribute[%s] must be one of its listed keys",
                           a->code);
        return ERR_OK;
    }
    return err_set(err, ERR_INTERNAL, "unknown datatype");
}

/* Collects the answers, in the service's attribute order. */
static err_code check_answers(const service *svc, const kv_list *in, pool_t *pool,
                              service_request *out, err_t *err)
{
    /* First pass: every attribute[...] key names a question of this service. */
    for (size_t i = 0; i < in->count; i++) {
        const char *code;
        size_t len;
        bool brackets;
        const char *key = in->items[i].key;
        /* "attribute" and "attribute[..." are ours to check; other names
         * that merely start alike (attributes, attribute_count) are a
         * client's extras, ignored like any unknown parameter. */
        if (strcmp(key, "attribute") != 0 && strncmp(key, "attribute[", 10) != 0)
            continue;
        if (!attr_key(key, &code, &len, &brackets))
            return err_set(err, ERR_INVALID,
                           "attribute parameters must be attribute[CODE] or attribute[CODE][]");
        const attribute *a = NULL;
        for (size_t k = 0; k < svc->nattrs; k++)
            if (strlen(svc->attrs[k].code) == len && memcmp(svc->attrs[k].code, code, len) == 0)
                a = &svc->attrs[k];
        if (a == NULL)
            return err_set(err, ERR_INVALID, "service %s has no attribute with the code given",
                           svc->code);
        if (brackets && a->datatype != ATTR_MULTIVALUELIST)
            return err_set(err, ERR_INVALID, "attribute[%s] takes one value, not a list",
                           a->code);
    }

    out->answers = pool_calloc(pool, svc->nattrs ? svc->nattrs : 1, sizeof *out->answers);
    if (out->answers == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < svc->nattrs; k++) {
        const attribute *a = &svc->attrs[k];
        size_t clen = strlen(a->code), n = 0;
        const char **values = NULL;
        for (size_t i = 0; i < in->count; i++) {
            const char *code;
            size_t len;
            bool brackets;
            if (!attr_key(in->items[i].key, &code, &len, &brackets) || len != clen ||
                memcmp(code, a->code, clen) != 0 || in->items[i].value[0] == '\0')
                continue;
            if (!a->variable)
                continue; /* information only: nothing to answer */
            if (n == INTAKE_MAX_LIST_VALUES)
                return err_set(err, ERR_INVALID, "attribute[%s] has too many values", a->code);
            const char **grown = pool_realloc_array(pool, values, n, n + 1, sizeof *values);
            if (grown == NULL)
                return err_set(err, ERR_NOMEM, "out of memory");
            values = grown;
            values[n] = in->items[i].value;
            err_code rc = check_answer(a, &values[n], pool, err);
            if (rc != ERR_OK)
                return rc;
            for (size_t m = 0; m < n; m++)
                if (strcmp(values[m], values[n]) == 0)
                    return err_set(err, ERR_INVALID, "attribute[%s] has the same value twice",
                                   a->code);
            n++;
        }
        if (n > 1 && a->datatype != ATTR_MULTIVALUELIST)
            return err_set(err, ERR_INVALID, "attribute[%s] takes one value, not %zu", a->code,
                           n);
        if (n == 0) {
            if (a->variable && a->required)
                return err_set(err, ERR_INVALID, "attribute[%s] is required for service %s",
                               a->code, svc->code);
            continue;
        }
        sr_answer *ans = &out->answers[out->nanswers++];
        ans->code = a->code;
        ans->values = values;
        ans->nvalues = n;
    }
    return ERR_OK;
}

err_code intake_request(const catalog *cat, const kv_list *in, sr_channel channel, int64_t now,
                        pool_t *pool, service_request *out, err_t *err)
{
    memset(out, 0, sizeof *out);
    const char *code, *media;
    err_code rc = single(in, "service_code", &code, err);
    if (rc != ERR_OK)
        return rc;
    if (code == NULL)
        return err_set(err, ERR_INVALID, "service_code was not provided");
    const service *svc = catalog_find_service(cat, code);
    if (svc == NULL)
        return err_set(err, ERR_NOT_FOUND, "service_code not found: no such service");
    out->service_code = svc->code;

    if ((rc = check_location(in, out, err)) != ERR_OK)
        return rc;
    if ((rc = single(in, "description", &out->description, err)) ||
        (rc = check_text("description", out->description, INTAKE_MAX_DESCRIPTION, true, err)))
        return rc;
    if ((rc = single(in, "media_url", &media, err)) != ERR_OK)
        return rc;
    if (media != NULL && (strlen(media) > INTAKE_MAX_URL || !url_ok(media)))
        return err_set(err, ERR_INVALID, "media_url must be an http or https URL of at most %d "
                                         "characters",
                       INTAKE_MAX_URL);
    out->media_url = media;
    if ((rc = check_reporter(in, &out->reporter, err)) != ERR_OK)
        return rc;
    if ((rc = check_answers(svc, in, pool, out, err)) != ERR_OK)
        return rc;

    /* W2: the service's agency, or the one its district names. */
    route_result route;
    if ((rc = route_decide(cat->routes, svc, out->has_location, out->lat, out->lon, &route,
                           err)) != ERR_OK)
        return rc;
    out->status = SR_OPEN;
    out->resolution = SR_RES_NONE;
    out->agency_code = route.agency_code;
    out->district = route.district;
    out->service_notice = svc->service_notice;
    out->requested_at = now;
    out->updated_at = now;
    out->expected_at = sr_expected_at(svc, now);
    out->channel = channel;
    return ERR_OK;
}
