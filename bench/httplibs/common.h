/* Shared by the hello servers of bench/httplibs: the response body, the
 * settings every server gets, and the port argument. Not part of Civic311. */
#ifndef HELLO_COMMON_H
#define HELLO_COMMON_H

#include <stdio.h>
#include <stdlib.h>

/* One Open311 service request as GET requests/{id}.json returns it. */
#define HELLO_BODY                                                                                 \
    "[{\"service_request_id\":\"638344\",\"status\":\"open\",\"status_notes\":null,"               \
    "\"service_name\":\"Pothole\",\"service_code\":\"pothole\",\"description\":\"Deep pothole "    \
    "in the right lane, about 40 cm across, next to the bus stop; cars swerve around it.\","       \
    "\"agency_responsible\":\"Department of Public Works\",\"service_notice\":null,"               \
    "\"requested_datetime\":\"2024-05-14T09:21:33+02:00\",\"updated_datetime\":"                   \
    "\"2024-05-14T09:21:33+02:00\",\"expected_datetime\":null,\"address\":\"Hauptstrasse 12, "     \
    "Springfield\",\"address_id\":null,\"zipcode\":\"12345\",\"lat\":52.520008,\"long\":"          \
    "13.404954,\"media_url\":\"https://civic311.example/media/638344/1.jpg\"}]\n"

#define HELLO_THREADS 2                   /* worker threads / event loops */
#define HELLO_TIMEOUT_S 5                 /* idle / request timeout, where settable */
#define HELLO_MAX_BODY (1024u * 1024u)    /* request body limit: 1 MiB */
#define HELLO_PER_IP 64                   /* hello_mhd hardened: connections per client IP */
#define HELLO_CONN_LIMIT 8000             /* hello_mhd hardened: connections in all */

static inline int hello_port(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: %s PORT [hardened|noturbo]\n", argv[0]);
        exit(2);
    }
    return port;
}

#endif
