/*
 * log.c - see log.h. Each line is formatted into one buffer and written
 * with one fwrite, so lines from different threads do not interleave.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "util/datetime.h"

static void log_line(const char *level, const char *fmt, va_list ap)
{
    char line[1024], ts[DT_BUFSZ];
    dt_format((int64_t)time(NULL), ts);
    int n = snprintf(line, sizeof line, "%s civic311 %s: ", ts, level);
    if (n < 0)
        return;
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

#define LOG_FN(name, level)                                                                    \
    void name(const char *fmt, ...)                                                            \
    {                                                                                          \
        va_list ap;                                                                            \
        va_start(ap, fmt);                                                                     \
        log_line(level, fmt, ap);                                                              \
        va_end(ap);                                                                            \
    }

LOG_FN(log_info, "info")
LOG_FN(log_warn, "warn")
LOG_FN(log_error, "error")
