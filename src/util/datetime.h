/*
 * datetime.h - reading and writing W3C / ISO 8601 date-times.
 *
 * Internally every instant is an int64_t count of seconds since the Unix
 * epoch, UTC. We read any offset ("Z", "+02:00", "-0500", "+02") and write
 * UTC only, with "Z" and no fractional seconds, because real Open311 clients
 * (FixMyStreet, the Ruby and Node gems) parse that form and choke on others.
 */
#ifndef CIVIC_DATETIME_H
#define CIVIC_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "2010-04-14T06:37:38Z" plus NUL */
#define DT_BUFSZ 21

/* The range we accept: 1900-01-01 to 9999-12-31, so every instant fits the
 * four-digit year the output format has. */
#define DT_MIN (-2208988800LL)
#define DT_MAX (253402300799LL)

/*
 * Parses s (exactly n bytes, no trailing junk) into *out. Accepted:
 *   YYYY-MM-DD                          (midnight UTC)
 *   YYYY-MM-DD[T| ]HH:MM[:SS[.frac]][offset]
 *   offset: Z | z | +HH:MM | -HH:MM | +HHMM | -HHMM | +HH | -HH
 * No offset means UTC. A space where the '+' of an offset belongs is read
 * as '+', since clients that forget to percent-encode '+' send exactly that.
 * Fractions are truncated. Returns false on anything else.
 */
bool dt_parse(const char *s, size_t n, int64_t *out);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" into out (DT_BUFSZ bytes). t must be
 * within [DT_MIN, DT_MAX]; outside it is clamped. Returns out. */
char *dt_format(int64_t t, char out[DT_BUFSZ]);

/* Days since 1970-01-01 for a proleptic Gregorian date. */
int64_t dt_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
