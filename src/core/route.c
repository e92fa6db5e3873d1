/*
 * route.c - the routing decision (W2): service + optional point -> agency
 * and district. The rules are in route.h; the geometry is district.c's.
 *
 * Never logs, and its errors name no coordinate: a request's point is
 * where a resident stood or lives.
 */
#include "core/route.h"

#include <stdlib.h>
#include <string.h>

struct route_table {
    district_set *ds; /* owned */
};

/* A route key names a service or an agency; which one, by the catalog. */
typedef enum { KEY_UNKNOWN, KEY_SERVICE, KEY_AGENCY, KEY_BOTH } key_kind;

static key_kind classify(const catalog *cat, const char *key)
{
    bool svc = catalog_find_service(cat, key) != NULL;
    bool ag = catalog_find_agency(cat, key) != NULL;
    return svc && ag ? KEY_BOTH : svc ? KEY_SERVICE : ag ? KEY_AGENCY : KEY_UNKNOWN;
}

size_t route_check_codes(const district_set *ds, const catalog *cat, route_unknown_fn fn,
                         void *arg)
{
    size_t bad = 0;
    for (size_t i = 0; i < district_set_count(ds); i++) {
        const district *d = district_set_get(ds, i);
        for (size_t k = 0; k < d->nroutes; k++) {
            key_kind kind = classify(cat, d->routes[k].key);
            if (kind == KEY_UNKNOWN || kind == KEY_BOTH) {
                bad++;
                if (fn)
                    fn(d, d->routes[k].key, true, arg);
            }
            if (catalog_find_agency(cat, d->routes[k].agency_code) == NULL) {
                bad++;
                if (fn)
                    fn(d, d->routes[k].agency_code, false, arg);
            }
        }
    }
    return bad;
}

/* The first fault of route_check_codes, as an error. */
typedef struct {
    err_t *err;
    const char *label;
    const catalog *cat;
    bool failed;
} first_fault;

static void fail_first(const district *d, const char *code, bool is_key, void *arg)
{
    first_fault *f = arg;
    if (f->failed)
        return;
    f->failed = true;
    if (!is_key)
        err_set(f->err, ERR_INVALID, "%s: features[%zu] (%s): unknown agency code %s: the "
                                     "catalog has no such agency",
                f->label, d->index, d->id, code);
    else if (classify(f->cat, code) == KEY_BOTH)
        err_set(f->err, ERR_INVALID, "%s: features[%zu] (%s): route key %s is both a service "
                                     "and an agency code: ambiguous",
                f->label, d->index, d->id, code);
    else
        err_set(f->err, ERR_INVALID, "%s: features[%zu] (%s): unknown service or agency code "
                                     "%s in routes",
                f->label, d->index, d->id, code);
}

err_code route_table_new(district_set *districts_take, const catalog *cat, const char *label,
                         route_table **out, err_t *err)
{
    *out = NULL;
    first_fault f = {.err = err, .label = label, .cat = cat};
    if (route_check_codes(districts_take, cat, fail_first, &f) > 0) {
        district_set_free(districts_take);
        return err->code;
    }
    route_table *rt = calloc(1, sizeof *rt);
    if (rt == NULL) {
        district_set_free(districts_take);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    rt->ds = districts_take;
    *out = rt;
    return ERR_OK;
}

void route_table_free(route_table *rt)
{
    if (rt == NULL)
        return;
    district_set_free(rt->ds);
    free(rt);
}

district_set *route_table_districts(const route_table *rt)
{
    return rt->ds;
}

static const char *route_of(const district *d, const char *key)
{
    if (key == NULL)
        return NULL;
    for (size_t k = 0; k < d->nroutes; k++)
        if (strcmp(d->routes[k].key, key) == 0)
            return d->routes[k].agency_code;
    return NULL;
}

err_code route_decide(const route_table *rt, const service *svc, bool has_point, double lat,
                      double lon, route_result *out, err_t *err)
{
    memset(out, 0, sizeof *out);
    out->agency_code = svc->agency_code;
    if (rt == NULL || !has_point)
        return ERR_OK;
    size_t i;
    err_code rc = district_locate(rt->ds, lon, lat, &i, err);
    if (rc != ERR_OK || i == DISTRICT_NONE)
        return rc;
    const district *d = district_set_get(rt->ds, i);
    out->district = d->id;
    /* The service's own route first: it is the more specific. */
    const char *to = route_of(d, svc->code);
    if (to == NULL)
        to = route_of(d, svc->agency_code);
    if (to != NULL) {
        out->agency_code = to;
        out->by_area = true;
    }
    return ERR_OK;
}
