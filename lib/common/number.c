/*
 * common/number.c — the one number grammar (docs/schema.md, "Numbers"): every number the
 * library or the `crisk` command reads from text goes through crisk__number_parse, so a
 * value one command accepts is never refused by another (no hex, inf or nan anywhere).
 */
#include "common/number.h"

#include "common/error.h"
#include "crisk.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest number text accepted (a number needs no more; longer is refused). */
#define MAX_NUMBER_TEXT 511

/* The digits read from a number's text: up to 19 significant ones in `m`, the power of
 * ten that scales them, and whether a nonzero digit was dropped. */
typedef struct decimal {
    uint64_t m;
    long exp10;
    int sig, dropped, digits;
} decimal;

/* Reads a run of digits at s[*i]; `fraction` digits lower the exponent. */
static void read_digits(const char *s, size_t len, size_t *i, int fraction, decimal *d)
{
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, d->digits++) {
        if (d->sig < 19) {
            d->m = d->m * 10 + (uint64_t)(s[*i] - '0');
            d->sig += d->m != 0;
            d->exp10 -= fraction;
        } else {
            d->exp10 += !fraction;
            d->dropped |= s[*i] != '0';
        }
    }
}

/* Reads the optional exponent at s[*i] into d->exp10. Returns 0, or -1 when malformed. */
static int read_exponent(const char *s, size_t len, size_t *i, decimal *d)
{
    if (*i == len || (s[*i] != 'e' && s[*i] != 'E'))
        return 0;
    int neg = 0;
    long e = 0;
    (*i)++;
    if (*i < len && (s[*i] == '+' || s[*i] == '-'))
        neg = s[(*i)++] == '-';
    if (*i == len || s[*i] < '0' || s[*i] > '9')
        return -1;
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
        if (e < 100000)
            e = e * 10 + (s[*i] - '0');
    d->exp10 += neg ? -e : e;
    return 0;
}

/* Converts by strtod under a C locale (made for the call when `loc` is 0). */
static int slow_path(const char *s, size_t len, locale_t loc, double *out)
{
    char buf[MAX_NUMBER_TEXT + 1];
    if (len > MAX_NUMBER_TEXT)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    locale_t own = loc ? (locale_t)0 : newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!loc && !own)
        return -1;
    /* strtod follows the thread's locale: make it the C locale for this call. */
    locale_t old = uselocale(loc ? loc : own);
    double v = strtod(buf, NULL);
    uselocale(old);
    if (own)
        freelocale(own);
    if (!isfinite(v))
        return -2;
    *out = v;
    return 0;
}

/* Exact cases (at most 19 significant digits forming an integer up to 2^53, a power of
 * ten up to 22) are computed directly, correctly rounded as Clinger showed; others go
 * through strtod, whose grammar is wider, only after this grammar has accepted them. */
int crisk__number_parse(const char *s, size_t len, locale_t c_locale, double *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                   1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                   1e20, 1e21, 1e22};
    decimal d = {0, 0, 0, 0, 0};
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    read_digits(s, len, &i, 0, &d);
    if (i < len && s[i] == '.') {
        i++;
        read_digits(s, len, &i, 1, &d);
    }
    if (d.digits == 0 || read_exponent(s, len, &i, &d) != 0 || i != len)
        return -1;
    if (d.m != 0 && (d.dropped || d.m > (1ull << 53) || d.exp10 < -22 || d.exp10 > 22))
        return slow_path(s, len, c_locale, out);
    double v = d.m == 0 ? 0.0
               : d.exp10 < 0 ? (double)d.m / pow10[-d.exp10]
                             : (double)d.m * pow10[d.exp10];
    *out = neg ? -v : v;
    return 0;
}

/* The public entry point: the same grammar, with a message. */
int crisk_number_parse(const char *text, size_t len, double *out, crisk_error *err)
{
    if (!text || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "text and out must not be NULL");
    int rc = crisk__number_parse(text, len, (locale_t)0, out);
    if (rc == 0)
        return 0;
    return crisk__fail(err, CRISK_E_INPUT, "\"%.*s\"%s %s", (int)(len > 64 ? 64 : len), text,
                       len > 64 ? "..." : "",
                       rc == -1 ? "is not a number" : "is beyond the range of a double");
}
