/*
 * log.h - the server's log: one line per event on stderr, with a UTC time
 * and a level. Callers pass only what is safe to keep: codes, counts,
 * route names, error messages (which hold no personal data by err.h's
 * rule). Never a URL, a query string, a body, or a field value.
 */
#ifndef CIVIC_LOG_H
#define CIVIC_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
