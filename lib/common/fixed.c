/*
 * common/fixed.c — "%.Nf" text of a double by integer arithmetic: |v| = m * 2^e exactly,
 * so |v| * 10^N is a 128-bit integer shifted right, and its remainder decides the rounding;
 * and the decimal digits of an unsigned integer, which it writes the whole part with.
 */
#include "common/fixed.h"

#include <math.h>
#include <stdint.h>

size_t crisk__fixed_text(double v, unsigned digits, char *buf)
{
    static const uint64_t pow10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                       100000000, 1000000000};
    if (digits > 9 || !(fabs(v) < 1e9))
        return 0;
    int e;
    double fr = frexp(fabs(v), &e);
    uint64_t m = (uint64_t)ldexp(fr, 53); /* |v| = m * 2^(e - 53), exactly */
    unsigned shift = (unsigned)(53 - e); /* >= 24: |v| < 1e9 < 2^30 */
    unsigned __int128 num = (unsigned __int128)m * pow10[digits], q = 0;
    /* num < 2^83, so a shift of 128 or more leaves less than half: q stays 0. */
    if (shift < 128) {
        q = num >> shift;
        unsigned __int128 rem = num - (q << shift), half = (unsigned __int128)1 << (shift - 1);
        q += rem > half || (rem == half && (q & 1));
    }
    /* q < 1e9 * 10^9 + 1 < 2^63. */
    uint64_t whole = (uint64_t)q / pow10[digits], frac = (uint64_t)q % pow10[digits];
    char *o = buf;
    if (signbit(v))
        *o++ = '-';
    o += crisk__uint_text(whole, o);
    if (digits) {
        *o++ = '.';
        for (unsigned k = digits; k-- > 0; frac /= 10)
            o[k] = (char)('0' + frac % 10);
        o += digits;
    }
    *o = '\0';
    return (size_t)(o - buf);
}

size_t crisk__uint_text(uint64_t v, char *buf)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}
