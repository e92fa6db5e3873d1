/*
 * beacon.h - the website's page views, counted in aggregate (P2, P9).
 *
 * A page tells the server only which kind of page it is ("home",
 * "report"...), once it has been shown; the server adds one to that
 * page's counter and, every few seconds, adds the counters to the store's
 * total for the day (store_page_views_add). Nothing else is kept or
 * logged: no address, no session, no browser, no time finer than the day.
 * So the city learns how the site is used, and no count can be joined
 * back to a person.
 *
 * The counters are lock-free (C11 atomics): the HTTP threads count, the
 * housekeeping thread takes them.
 */
#ifndef CIVIC_BEACON_H
#define CIVIC_BEACON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kinds of page counted; their names are what pages send. */
typedef enum {
    BEACON_HOME = 0,
    BEACON_REPORT,  /* a service's form, and the form again after a refusal */
    BEACON_REVIEW,  /* "Check your report" */
    BEACON_REQUEST, /* a request's page */
    BEACON_LOOKUP,
    BEACON_PRIVACY,
    BEACON_LEAVING, /* the exit notice */
    BEACON_ACCOUNT, /* any page of a resident's account */
    BEACON_ERROR,   /* a page saying something went wrong (404...) */
    BEACON_PAGE_COUNT
} beacon_page;

const char *beacon_page_name(beacon_page p);
/* True, with *p set, if the n bytes at name are one of the names. */
bool beacon_page_parse(const char *name, size_t n, beacon_page *p);

typedef struct {
    _Atomic uint64_t views[BEACON_PAGE_COUNT];
} beacon_counter;

/* Zeroed memory is an empty counter; so is one after beacon_take. */
void beacon_count(beacon_counter *c, beacon_page p);
/* Moves every count into out and leaves zero behind, each count exactly
 * once even while other threads count. */
void beacon_take(beacon_counter *c, uint64_t out[BEACON_PAGE_COUNT]);
/* Puts counts taken back (a flush that failed), so none is lost. */
void beacon_give_back(beacon_counter *c, const uint64_t counts[BEACON_PAGE_COUNT]);

#endif
