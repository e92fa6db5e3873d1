/*
 * catalog.c - building and looking up the service catalog. Lookups are
 * linear: a city's catalog has tens to a few hundred services, and the
 * catalog is read-only once the server runs, so a sorted index buys
 * nothing measurable yet.
 */
#include "core/catalog.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/utf8.h"

catalog *catalog_new(void)
{
    catalog *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->pool = pool_new();
    if (c->pool == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void catalog_free(catalog *c)
{
    if (c == NULL)
        return;
    pool_free(c->pool);
    free(c);
}

const service *catalog_find_service(const catalog *c, const char *code)
{
    for (size_t i = 0; i < c->nservices; i++)
        if (strcmp(c->services[i].code, code) == 0)
            return &c->services[i];
    return NULL;
}

const agency *catalog_find_agency(const catalog *c, const char *code)
{
    if (code == NULL)
        return NULL;
    for (size_t i = 0; i < c->nagencies; i++)
        if (strcmp(c->agencies[i].code, code) == 0)
            return &c->agencies[i];
    return NULL;
}

const attribute *service_find_attr(const service *s, const char *code)
{
    for (size_t i = 0; i < s->nattrs; i++)
        if (strcmp(s->attrs[i].code, code) == 0)
            return &s->attrs[i];
    return NULL;
}

bool service_has_metadata(const service *s)
{
    return s->nattrs > 0;
}

/* A code appears in URLs and as a form key (attribute[CODE]): printable
 * ASCII without '/', '[', ']', whitespace or quotes, 1..64 bytes. */
static bool code_ok(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)code[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("/[]\"'<>&?#%\\", ch) != NULL)
            return false;
    }
    return true;
}

static bool text_ok(const char *s)
{
    return s == NULL || utf8_valid(s, strlen(s));
}

static bool is_list(attr_type t)
{
    return t == ATTR_SINGLEVALUELIST || t == ATTR_MULTIVALUELIST;
}

/*
 * P1: no field anywhere records age or date of birth. The services are not
 * for children under 13 and must not try to tell age, so a question that
 * asks for one is refused at the door, in English or Spanish. Words are
 * matched whole ("sewage" and "damage" pass), on the code, the question,
 * its description and its choices. "DOB" counts only as a whole code: in
 * NYC it is also the Department of Buildings.
 */
static const char *const AGE_WORDS[] = {"age",        "ages",       "aged",      "birth",
                                        "birthdate",  "birthday",   "born",      "birthyear",
                                        "edad",       "nacimiento", "cumpleanos", NULL};
static const char *const AGE_PHRASES[] = {"how old", "years old", "anos tiene", "a\xc3\xb1os tiene",
                                          NULL};

static bool asks_age_text(const char *text)
{
    if (text == NULL)
        return false;
    char word[32];
    size_t n = 0;
    for (const char *p = text;; p++) {
        unsigned char c = (unsigned char)*p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
        if (alpha && n + 1 < sizeof word) {
            word[n++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            continue;
        }
        if (!alpha && n > 0) {
            word[n] = '\0';
            if (strcmp(word, "cumplea\xc3\xb1os") == 0)
                return true;
            for (const char *const *w = AGE_WORDS; *w; w++)
                if (strcmp(word, *w) == 0)
                    return true;
            n = 0;
        }
        if (c == '\0')
            break;
    }
    for (const char *const *ph = AGE_PHRASES; *ph; ph++)
        for (const char *p = text; *p; p++)
            if (strncasecmp(p, *ph, strlen(*ph)) == 0)
                return true;
    return false;
}

bool attribute_asks_age(const attribute *a)
{
    if ((a->code != NULL && strcasecmp(a->code, "dob") == 0) || asks_age_text(a->code) ||
        asks_age_text(a->description) ||
        asks_age_text(a->datatype_description))
        return true;
    for (size_t k = 0; k < a->nvalues; k++)
        if (asks_age_text(a->values[k].name) || asks_age_text(a->values[k].key))
            return true;
    return false;
}

err_code service_check(const service *s, err_t *err)
{
    if (!code_ok(s->code))
        return err_set(err, ERR_INVALID,
                       "a service code must be 1-64 printable characters without spaces, "
                       "slashes, brackets or quotes");
    if (s->name == NULL || s->name[0] == '\0')
        return err_set(err, ERR_INVALID, "service %s has no name", s->code);
    if (!text_ok(s->name) || !text_ok(s->description) || !text_ok(s->keywords) ||
        !text_ok(s->group) || !text_ok(s->service_notice))
        return err_set(err, ERR_INVALID, "service %s has text that is not UTF-8", s->code);
    if (s->sla_seconds < 0)
        return err_set(err, ERR_INVALID, "service %s has a negative SLA", s->code);
    if (s->agency_code != NULL && !code_ok(s->agency_code))
        return err_set(err, ERR_INVALID, "service %s has an invalid agency code", s->code);
    for (size_t i = 0; i < s->nattrs; i++) {
        const attribute *a = &s->attrs[i];
        if (!code_ok(a->code))
            return err_set(err, ERR_INVALID, "service %s: attribute %zu has an invalid code",
                           s->code, i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->attrs[j].code, a->code) == 0)
                return err_set(err, ERR_CONFLICT, "service %s: attribute %s appears twice",
                               s->code, a->code);
        if (!text_ok(a->description) || !text_ok(a->datatype_description))
            return err_set(err, ERR_INVALID, "service %s: attribute %s has text that is not UTF-8",
                           s->code, a->code);
        if (attribute_asks_age(a))
            return err_set(err, ERR_INVALID,
                           "service %s: attribute %s asks for an age or a date of birth, "
                           "which the privacy policy forbids collecting: reword or remove it",
                           s->code, a->code);
        if (is_list(a->datatype) && a->variable && a->nvalues == 0)
            return err_set(err, ERR_INVALID, "service %s: list attribute %s has no values",
                           s->code, a->code);
        if (!is_list(a->datatype) && a->nvalues != 0)
            return err_set(err, ERR_INVALID, "service %s: attribute %s is not a list but has values",
                           s->code, a->code);
        for (size_t k = 0; k < a->nvalues; k++) {
            const attr_value *v = &a->values[k];
            if (v->key == NULL || v->key[0] == '\0' || !text_ok(v->key) || !text_ok(v->name))
                return err_set(err, ERR_INVALID, "service %s: attribute %s: value %zu is invalid",
                               s->code, a->code, k + 1);
            for (size_t m = 0; m < k; m++)
                if (strcmp(a->values[m].key, v->key) == 0)
                    return err_set(err, ERR_CONFLICT,
                                   "service %s: attribute %s: a value key appears twice", s->code,
                                   a->code);
        }
    }
    return ERR_OK;
}

/* Deep copies of catalog entries into the catalog's pool. Each returns
 * false when the pool runs out of memory. */
static bool dup_str(pool_t *p, const char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return true;
    *dst = pool_strdup(p, src);
    return *dst != NULL;
}

static bool dup_attr(pool_t *p, attribute *dst, const attribute *src)
{
    *dst = *src;
    dst->values = NULL;
    if (!dup_str(p, &dst->code, src->code) ||
        !dup_str(p, &dst->datatype_description, src->datatype_description) ||
        !dup_str(p, &dst->description, src->description))
        return false;
    if (src->nvalues == 0)
        return true;
    dst->values = pool_calloc(p, src->nvalues, sizeof *dst->values);
    if (dst->values == NULL)
        return false;
    for (size_t k = 0; k < src->nvalues; k++)
        if (!dup_str(p, &dst->values[k].key, src->values[k].key) ||
            !dup_str(p, &dst->values[k].name, src->values[k].name))
            return false;
    return true;
}

static int attr_cmp(const void *a, const void *b)
{
    const attribute *x = a, *y = b;
    /* Unordered (0) attributes go after ordered ones. */
    int ox = x->order > 0 ? x->order : 1 << 30, oy = y->order > 0 ? y->order : 1 << 30;
    if (ox != oy)
        return ox < oy ? -1 : 1;
    return strcmp(x->code, y->code);
}

static bool dup_service(pool_t *p, service *dst, const service *src)
{
    *dst = *src;
    dst->attrs = NULL;
    if (!dup_str(p, &dst->code, src->code) || !dup_str(p, &dst->name, src->name) ||
        !dup_str(p, &dst->description, src->description) ||
        !dup_str(p, &dst->keywords, src->keywords) || !dup_str(p, &dst->group, src->group) ||
        !dup_str(p, &dst->agency_code, src->agency_code) ||
        !dup_str(p, &dst->service_notice, src->service_notice))
        return false;
    if (src->nattrs == 0)
        return true;
    dst->attrs = pool_calloc(p, src->nattrs, sizeof *dst->attrs);
    if (dst->attrs == NULL)
        return false;
    for (size_t i = 0; i < src->nattrs; i++)
        if (!dup_attr(p, &dst->attrs[i], &src->attrs[i]))
            return false;
    qsort(dst->attrs, dst->nattrs, sizeof *dst->attrs, attr_cmp);
    return true;
}

err_code catalog_add_agency(catalog *c, const agency *a, err_t *err)
{
    if (!code_ok(a->code))
        return err_set(err, ERR_INVALID, "an agency code must be 1-64 printable characters");
    if (a->name == NULL || a->name[0] == '\0' || !text_ok(a->name))
        return err_set(err, ERR_INVALID, "agency %s has no valid name", a->code);
    if (catalog_find_agency(c, a->code) != NULL)
        return err_set(err, ERR_CONFLICT, "agency %s appears twice", a->code);
    agency *grown = pool_grow(c->pool, c->agencies, c->nagencies, &c->cap_agencies, sizeof *grown);
    if (grown == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    c->agencies = grown;
    agency *dst = &c->agencies[c->nagencies];
    if (!dup_str(c->pool, &dst->code, a->code) || !dup_str(c->pool, &dst->name, a->name))
        return err_set(err, ERR_NOMEM, "out of memory");
    c->nagencies++;
    return ERR_OK;
}

static err_code catalog_store_service(catalog *c, service *slot, const service *s, err_t *err)
{
    service copy;
    if (!dup_service(c->pool, &copy, s))
        return err_set(err, ERR_NOMEM, "out of memory");
    *slot = copy;
    return ERR_OK;
}

err_code catalog_add_service(catalog *c, const service *s, err_t *err)
{
    err_code rc = service_check(s, err);
    if (rc != ERR_OK)
        return rc;
    if (catalog_find_service(c, s->code) != NULL)
        return err_set(err, ERR_CONFLICT, "service %s appears twice", s->code);
    service *grown = pool_grow(c->pool, c->services, c->nservices, &c->cap_services, sizeof *grown);
    if (grown == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    c->services = grown;
    rc = catalog_store_service(c, &c->services[c->nservices], s, err);
    if (rc == ERR_OK)
        c->nservices++;
    return rc;
}

err_code catalog_put_service(catalog *c, const service *s, err_t *err)
{
    const service *old = catalog_find_service(c, s->code);
    if (old == NULL)
        return catalog_add_service(c, s, err);
    err_code rc = service_check(s, err);
    if (rc != ERR_OK)
        return rc;
    /* The old copy's memory stays in the pool until catalog_free: catalogs
     * are rebuilt rarely (import), so this is cheaper than tracking it. */
    return catalog_store_service(c, &c->services[old - c->services], s, err);
}

static const char *const ATTR_TYPE_NAMES[] = {"string", "number", "datetime",
                                              "text", "singlevaluelist", "multivaluelist"};
static const char *const SERVICE_TYPE_NAMES[] = {"realtime", "batch", "blackbox"};

const char *attr_type_name(attr_type t)
{
    return (unsigned)t < 6 ? ATTR_TYPE_NAMES[t] : "string";
}

bool attr_type_parse(const char *s, attr_type *out)
{
    for (int i = 0; i < 6; i++)
        if (strcmp(s, ATTR_TYPE_NAMES[i]) == 0) {
            *out = (attr_type)i;
            return true;
        }
    return false;
}

const char *service_type_name(service_type t)
{
    return (unsigned)t < 3 ? SERVICE_TYPE_NAMES[t] : "realtime";
}

bool service_type_parse(const char *s, service_type *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, SERVICE_TYPE_NAMES[i]) == 0) {
            *out = (service_type)i;
            return true;
        }
    return false;
}
