/*
 * geo.h - the little geometry a 311 system needs: WGS84 coordinate checks,
 * great-circle distance, and the box around a circle.
 */
#ifndef CIVIC_GEO_H
#define CIVIC_GEO_H

#include <stdbool.h>

#define GEO_EARTH_RADIUS_M 6371008.8

bool geo_valid(double lat, double lon);

/* Haversine distance in metres. */
double geo_distance_m(double lat1, double lon1, double lat2, double lon2);

/* The smallest lat/lon box holding every point within radius_m of the
 * centre; clamped at the poles, widened to all longitudes near them. */
void geo_box_around(double lat, double lon, double radius_m, double *min_lat, double *min_lon,
                    double *max_lat, double *max_lon);

#endif
