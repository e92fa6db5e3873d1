/*
 * geo.c - WGS84 checks and spherical distance. A sphere is accurate to about
 * 0.5% for the distances a 311 search uses (metres to kilometres), and the
 * stores must agree with this exact formula, so it lives here once.
 */
#include "core/geo.h"

#include <math.h>

#define GEO_PI 3.14159265358979323846

static double geo_rad(double deg)
{
    return deg * GEO_PI / 180.0;
}

bool geo_valid(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90.0 && lat <= 90.0 && lon >= -180.0 &&
           lon <= 180.0;
}

double geo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    double dlat = geo_rad(lat2 - lat1), dlon = geo_rad(lon2 - lon1);
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(geo_rad(lat1)) * cos(geo_rad(lat2)) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1.0)
        a = 1.0;
    return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(a));
}

void geo_box_around(double lat, double lon, double radius_m, double *min_lat, double *min_lon,
                    double *max_lat, double *max_lon)
{
    /* A hair wider than exact, so the box never cuts the circle. */
    double dlat = radius_m / GEO_EARTH_RADIUS_M * 180.0 / GEO_PI * 1.001;
    *min_lat = lat - dlat;
    *max_lat = lat + dlat;
    double c = cos(geo_rad(fabs(lat) + dlat));
    if (*min_lat <= -90.0 || *max_lat >= 90.0 || c < 1e-6) {
        *min_lat = *min_lat < -90.0 ? -90.0 : *min_lat;
        *max_lat = *max_lat > 90.0 ? 90.0 : *max_lat;
        *min_lon = -180.0;
        *max_lon = 180.0;
        return;
    }
    double dlon = dlat / c;
    *min_lon = lon - dlon;
    *max_lon = lon + dlon;
    if (*min_lon < -180.0 || *max_lon > 180.0) {
        /* Crossing the antimeridian: no 311 service area does; widen. */
        *min_lon = -180.0;
        *max_lon = 180.0;
    }
}
