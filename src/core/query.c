/*
 * query.c - building a search and the reference semantics of matching one.
 * srq_matches() is the specification the stores' SQL must agree with; the
 * store tests compare the two on random data.
 */
#include "core/query.h"

#include <string.h>

#include "core/geo.h"

void srq_init(sr_query *q, int64_t now)
{
    memset(q, 0, sizeof *q);
    q->end = now;
    q->start = now - SRQ_DEFAULT_WINDOW;
    q->page = 1;
    q->page_size = SRQ_MAX_RESULTS;
}

err_code srq_set_radius(sr_query *q, double lat, double lon, double radius_m, err_t *err)
{
    if (!geo_valid(lat, lon))
        return err_set(err, ERR_INVALID, "lat must be in [-90, 90] and long in [-180, 180]");
    if (!(radius_m > 0.0 && radius_m <= SRQ_MAX_RADIUS_M))
        return err_set(err, ERR_INVALID, "radius must be more than 0 and at most %.0f metres",
                       SRQ_MAX_RADIUS_M);
    q->has_radius = true;
    q->lat = lat;
    q->lon = lon;
    q->radius_m = radius_m;
    double a, b, c, d;
    geo_box_around(lat, lon, radius_m, &a, &b, &c, &d);
    if (q->has_bbox) {
        /* Both given: the intersection. An empty one is a confused client,
         * not a search: say so rather than silently match nothing. */
        if (a > q->max_lat || c < q->min_lat || b > q->max_lon || d < q->min_lon)
            return err_set(err, ERR_INVALID, "bbox and the lat/long/radius circle do not overlap");
        q->min_lat = a > q->min_lat ? a : q->min_lat;
        q->min_lon = b > q->min_lon ? b : q->min_lon;
        q->max_lat = c < q->max_lat ? c : q->max_lat;
        q->max_lon = d < q->max_lon ? d : q->max_lon;
    } else {
        q->has_bbox = true;
        q->min_lat = a;
        q->min_lon = b;
        q->max_lat = c;
        q->max_lon = d;
    }
    return ERR_OK;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

bool srq_matches(const sr_query *q, const service_request *sr)
{
    if (q->nids > 0) {
        for (size_t i = 0; i < q->nids; i++)
            if (q->ids[i] == sr->id)
                return true;
        return false;
    }
    if (q->nservice_codes > 0 && !in_list(q->service_codes, q->nservice_codes, sr->service_code))
        return false;
    if (q->nagency_codes > 0 && !in_list(q->agency_codes, q->nagency_codes, sr->agency_code))
        return false;
    if (q->status_mask != 0 && (q->status_mask & SRQ_STATUS_BIT(sr->status)) == 0)
        return false;
    if (sr->requested_at < q->start || sr->requested_at > q->end)
        return false;
    if (q->has_updated_after && sr->updated_at < q->updated_after)
        return false;
    if (q->has_updated_before && sr->updated_at > q->updated_before)
        return false;
    if (q->has_bbox || q->has_radius) {
        if (!sr->has_location)
            return false;
        if (q->has_bbox && (sr->lat < q->min_lat || sr->lat > q->max_lat ||
                            sr->lon < q->min_lon || sr->lon > q->max_lon))
            return false;
        if (q->has_radius && geo_distance_m(q->lat, q->lon, sr->lat, sr->lon) > q->radius_m)
            return false;
    }
    return true;
}
