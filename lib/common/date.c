/*
 * common/date.c — the calendar arithmetic of date.h.
 */
#include "common/date.h"

int64_t crisk__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void crisk__civil_from_days(long days, long *y, unsigned *m, unsigned *d, unsigned *yday)
{
    static const unsigned short before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273,
                                            304, 334};
    long z = days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long)yoe + era * 400 + (*m <= 2);
    int leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    *yday = before[*m - 1] + *d + (leap && *m > 2);
}

int crisk__date_exists(unsigned y, unsigned m, unsigned d)
{
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (unsigned)(m == 2 && leap);
}

int crisk__read_digits(const char *s, size_t n, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return 1;
}

int crisk__parse_iso_date(const char *s, size_t len, int64_t *days)
{
    unsigned y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-' || !crisk__read_digits(s, 4, &y)
        || !crisk__read_digits(s + 5, 2, &m) || !crisk__read_digits(s + 8, 2, &d)
        || !crisk__date_exists(y, m, d))
        return -1;
    *days = crisk__days_from_civil(y, m, d);
    return 0;
}
