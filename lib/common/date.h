/*
 * common/date.h — calendar arithmetic on days since 1970-01-01 (proleptic Gregorian), the
 * one definition behind declaration dates, profile dates and event times. Internal.
 */
#ifndef CRISK_COMMON_DATE_H
#define CRISK_COMMON_DATE_H

#include <stddef.h>
#include <stdint.h>

/* Returns the days from 1970-01-01 to the civil date y-m-d, by the usual era arithmetic
 * (Howard Hinnant's algorithm). */
int64_t crisk__days_from_civil(int64_t y, unsigned m, unsigned d);

/* Stores the year, month (1-12), day and day of year (1-366) of `days` since 1970-01-01:
 * the inverse of crisk__days_from_civil. */
void crisk__civil_from_days(long days, long *y, unsigned *m, unsigned *d, unsigned *yday);

/* Returns 1 when month `m` of year `y` has a day `d` (leap years counted), else 0. */
int crisk__date_exists(unsigned y, unsigned m, unsigned d);

/* Reads the `n` decimal digits at `s` into `*v`. Returns 1, or 0 when one is not a
 * digit. */
int crisk__read_digits(const char *s, size_t n, unsigned *v);

/* Parses the `len` bytes at `s` as YYYY-MM-DD into days since 1970-01-01. Returns 0, or
 * -1 when they are not a calendar date in that form. */
int crisk__parse_iso_date(const char *s, size_t len, int64_t *days);

#endif /* CRISK_COMMON_DATE_H */
