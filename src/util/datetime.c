/*
 * datetime.c - ISO 8601 parsing and UTC formatting without the C library's
 * time zone machinery (timegm is not ISO C and mktime reads TZ), using
 * Howard Hinnant's civil-days algorithms.
 */
#include "util/datetime.h"

static bool dt_digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    if (at + count > n)
        return false;
    int v = 0;
    for (size_t i = 0; i < count; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

static bool dt_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int dt_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && dt_leap(y) ? 29 : days[m - 1];
}

int64_t dt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void dt_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned dd = doy - (153 * mp + 2) / 5 + 1;
    const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

bool dt_parse(const char *s, size_t n, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!dt_digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !dt_digits(s, n, 5, 2, &mo) ||
        s[7] != '-' || !dt_digits(s, n, 8, 2, &d))
        return false;
    if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > dt_days_in_month(y, mo))
        return false;
    size_t i = 10;
    int64_t offset = 0;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return false;
        i++;
        if (!dt_digits(s, n, i, 2, &h) || i + 2 >= n || s[i + 2] != ':' ||
            !dt_digits(s, n, i + 3, 2, &mi))
            return false;
        i += 5;
        if (i < n && s[i] == ':') {
            if (!dt_digits(s, n, i + 1, 2, &sec))
                return false;
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                size_t start = ++i;
                while (i < n && s[i] >= '0' && s[i] <= '9')
                    i++;
                if (i == start)
                    return false;
            }
        }
        /* 24:00:00 is allowed by ISO 8601 as the end of a day. */
        if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi != 0 || sec != 0)))
            return false;
        if (sec == 60) /* a leap second: POSIX time has no room for it */
            sec = 59;
        if (i < n) {
            char sign = s[i];
            if ((sign == 'Z' || sign == 'z') && i + 1 == n) {
                i++;
            } else if (sign == '+' || sign == '-' || sign == ' ') {
                int oh, om = 0;
                if (!dt_digits(s, n, i + 1, 2, &oh))
                    return false;
                i += 3;
                if (i < n && s[i] == ':')
                    i++;
                if (i < n) {
                    if (!dt_digits(s, n, i, 2, &om))
                        return false;
                    i += 2;
                }
                if (oh > 23 || om > 59)
                    return false;
                offset = (int64_t)oh * 3600 + om * 60;
                if (sign == '-')
                    offset = -offset;
            } else {
                return false;
            }
        }
        if (i != n)
            return false;
    }
    int64_t t = dt_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + (int64_t)h * 3600 +
                mi * 60 + sec - offset;
    if (t < DT_MIN || t > DT_MAX)
        return false;
    *out = t;
    return true;
}

char *dt_format(int64_t t, char out[DT_BUFSZ])
{
    if (t < DT_MIN)
        t = DT_MIN;
    if (t > DT_MAX)
        t = DT_MAX;
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y, m, d;
    dt_civil_from_days(days, &y, &m, &d);
    int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), s = (int)(rem % 60);
    /* Fixed widths: every field is in range, so this always fits. */
    char *p = out;
    int fields[6] = {y, m, d, h, mi, s};
    const char seps[6] = {'-', '-', 'T', ':', ':', 'Z'};
    for (int f = 0; f < 6; f++) {
        int v = fields[f], w = f == 0 ? 4 : 2;
        for (int k = w - 1; k >= 0; k--) {
            p[k] = (char)('0' + v % 10);
            v /= 10;
        }
        p += w;
        *p++ = seps[f];
    }
    *p = '\0';
    return out;
}
