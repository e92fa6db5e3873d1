/*
 * fuzz_datetime.c - dt_parse and dt_format, which every date parameter
 * (start_date, updated_after, datetime attributes) goes through.
 *
 * The input is the text given to dt_parse. Whenever it is accepted:
 *  - the instant is within [DT_MIN, DT_MAX];
 *  - dt_format writes exactly "YYYY-MM-DDTHH:MM:SSZ" with fields in range;
 *  - dt_parse of that text gives the same instant, and formatting it again
 *    the same text (the round trip the API relies on);
 *  - the date's day count agrees with the C library's timegm();
 *  - an input already in the canonical form formats back to itself.
 * The first 8 bytes are also read as an int64_t for dt_format alone, to
 * cover instants (and clamping) that no parsed text reaches.
 *
 * Corpus: fuzz/corpus/datetime/.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* timegm */
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "util/datetime.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int num(const char *s, size_t at, size_t width)
{
    int v = 0;
    for (size_t i = 0; i < width; i++)
        v = v * 10 + (s[at + i] - '0');
    return v;
}

/* True if s is "YYYY-MM-DDTHH:MM:SSZ" exactly (digits where digits go). */
static bool canonical_shape(const char *s, size_t n)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
    if (n != sizeof pattern - 1)
        return false;
    for (size_t i = 0; i < n; i++)
        if (pattern[i] == 'd' ? !is_digit(s[i]) : s[i] != pattern[i])
            return false;
    return true;
}

/* Checks text written by dt_format for t (already clamped). */
static void check_formatted(const char *out, int64_t t)
{
    size_t n = strnlen(out, DT_BUFSZ);
    CHECK(n == DT_BUFSZ - 1);
    CHECK(canonical_shape(out, n));
    int y = num(out, 0, 4), mo = num(out, 5, 2), d = num(out, 8, 2);
    int h = num(out, 11, 2), mi = num(out, 14, 2), s = num(out, 17, 2);
    CHECK(y >= 1900 && y <= 9999);
    CHECK(mo >= 1 && mo <= 12 && d >= 1 && d <= 31);
    CHECK(h <= 23 && mi <= 59 && s <= 59);

    int64_t back;
    CHECK(dt_parse(out, n, &back));
    CHECK(back == t);
    char again[DT_BUFSZ];
    CHECK(strcmp(dt_format(back, again), out) == 0);

    /* The same instant by the C library's reckoning. */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    CHECK((int64_t)timegm(&tm) == t);
    CHECK(tm.tm_mday == d && tm.tm_mon == mo - 1); /* timegm did not normalise */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char out[DT_BUFSZ];

    int64_t t;
    if (dt_parse(s, size, &t)) {
        CHECK(t >= DT_MIN && t <= DT_MAX);
        dt_format(t, out);
        check_formatted(out, t);
        /* Days since the epoch for the date as written, by timegm. */
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = num(s, 0, 4) - 1900;
        tm.tm_mon = num(s, 5, 2) - 1;
        tm.tm_mday = num(s, 8, 2);
        int64_t days =
            dt_days_from_civil(num(s, 0, 4), (unsigned)num(s, 5, 2), (unsigned)num(s, 8, 2));
        CHECK((int64_t)timegm(&tm) == days * 86400);
        /* Any offset moves the instant by less than a day, and 24:00 and
         * leap seconds by at most one more. */
        CHECK(t > (days - 2) * 86400 && t < (days + 3) * 86400);
        /* Canonical text (upper-case T and Z, no 24:00, no leap second)
         * formats back to itself. */
        if (canonical_shape(s, size) && num(s, 11, 2) < 24 && num(s, 17, 2) < 60)
            CHECK(memcmp(out, s, size) == 0);
    }

    if (size >= 8) {
        int64_t raw;
        memcpy(&raw, data, sizeof raw);
        /* Keep most values near the accepted range, where the bugs are. */
        if (data[0] & 1)
            raw %= DT_MAX + 1;
        int64_t clamped = raw < DT_MIN ? DT_MIN : raw > DT_MAX ? DT_MAX : raw;
        dt_format(raw, out);
        check_formatted(out, clamped);
    }
    return 0;
}
