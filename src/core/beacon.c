/*
 * beacon.c - page view counters (beacon.h).
 */
#include "core/beacon.h"

#include <string.h>

static const char *const PAGE_NAMES[BEACON_PAGE_COUNT] = {
    [BEACON_HOME] = "home",       [BEACON_REPORT] = "report",   [BEACON_REVIEW] = "review",
    [BEACON_REQUEST] = "request", [BEACON_LOOKUP] = "lookup",   [BEACON_PRIVACY] = "privacy",
    [BEACON_LEAVING] = "leaving", [BEACON_ACCOUNT] = "account", [BEACON_ERROR] = "error",
};

const char *beacon_page_name(beacon_page p)
{
    return (unsigned)p < BEACON_PAGE_COUNT ? PAGE_NAMES[p] : "error";
}

bool beacon_page_parse(const char *name, size_t n, beacon_page *p)
{
    for (unsigned i = 0; i < BEACON_PAGE_COUNT; i++)
        if (strlen(PAGE_NAMES[i]) == n && memcmp(PAGE_NAMES[i], name, n) == 0) {
            *p = (beacon_page)i;
            return true;
        }
    return false;
}

void beacon_count(beacon_counter *c, beacon_page p)
{
    if ((unsigned)p < BEACON_PAGE_COUNT)
        atomic_fetch_add_explicit(&c->views[p], 1, memory_order_relaxed);
}

void beacon_take(beacon_counter *c, uint64_t out[BEACON_PAGE_COUNT])
{
    for (unsigned i = 0; i < BEACON_PAGE_COUNT; i++)
        out[i] = atomic_exchange_explicit(&c->views[i], 0, memory_order_relaxed);
}

void beacon_give_back(beacon_counter *c, const uint64_t counts[BEACON_PAGE_COUNT])
{
    for (unsigned i = 0; i < BEACON_PAGE_COUNT; i++)
        if (counts[i] != 0)
            atomic_fetch_add_explicit(&c->views[i], counts[i], memory_order_relaxed);
}
