/*
 * test_fixed.c — crisk__fixed_text (lib/common/fixed.c) against snprintf's "%.Nf": random
 * doubles and floats of every magnitude it takes, exact ties, zeros of both signs, and the
 * values it leaves to snprintf; crisk__uint_text against "%llu".
 */
#include "check_run.h"
#include "common/fixed.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Checks `v` with `digits` against snprintf; returns 1 when crisk__fixed_text took it. */
static int check_one(double v, unsigned digits)
{
    char got[CRISK__FIXED_BYTES], want[512];
    size_t n = crisk__fixed_text(v, digits, got);
    if (n == 0)
        return 0;
    snprintf(want, sizeof want, "%.*f", (int)digits, v);
    if (strcmp(got, want) != 0 || n != strlen(want))
        ck_abort_msg("%a with %u digits: \"%s\", snprintf \"%s\"", v, digits, got, want);
    return 1;
}

START_TEST(test_random_values)
{
    uint64_t s = 12345;
    size_t taken = 0;
    for (int i = 0; i < 3000000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double v;
        switch (i % 4) {
        case 0: /* scores: a float in [0, 1) */
            v = (double)(float)((double)(s >> 11) / 9007199254740992.0);
            break;
        case 1: { /* a float of any bits */
            uint32_t b = (uint32_t)s;
            float f;
            memcpy(&f, &b, sizeof f);
            v = f;
            break;
        }
        case 2: /* a double of any magnitude up to 2^40, either sign */
            v = ldexp((double)(s >> 11), (int)(s % 93) - 92) * ((s >> 7 & 1) ? -1 : 1);
            break;
        default: { /* a double of any bits */
            memcpy(&v, &s, sizeof v);
            break;
        }
        }
        taken += check_one(v, (unsigned)(s >> 3) % 10);
    }
    ck_assert_uint_gt(taken, 2000000); /* most were formatted here, not left to snprintf */
}
END_TEST

START_TEST(test_ties_zeros_and_limits)
{
    /* Exact ties round to even: k / 2^j for small j lands half-way at some digit count. */
    for (int j = 1; j <= 12; j++)
        for (int k = -5000; k <= 5000; k++)
            for (unsigned d = 0; d <= 9; d++)
                check_one(ldexp(k, -j), d);
    ck_assert(check_one(0.0, 4) && check_one(-0.0, 4) && check_one(-1e-300, 4));
    ck_assert(check_one(999999999.99999994, 4) && check_one(5e-324, 9));
    char buf[CRISK__FIXED_BYTES];
    ck_assert_uint_eq(crisk__fixed_text(1e9, 4, buf), 0);
    ck_assert_uint_eq(crisk__fixed_text(-1e9, 0, buf), 0);
    ck_assert_uint_eq(crisk__fixed_text(NAN, 4, buf), 0);
    ck_assert_uint_eq(crisk__fixed_text(INFINITY, 4, buf), 0);
    ck_assert_uint_eq(crisk__fixed_text(0.5, 10, buf), 0);
}
END_TEST

/* Checks crisk__uint_text(v) against snprintf's "%llu". */
static void check_uint(uint64_t v)
{
    char got[21], want[21];
    size_t n = crisk__uint_text(v, got);
    snprintf(want, sizeof want, "%llu", (unsigned long long)v);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(n, strlen(want));
}

START_TEST(test_unsigned_integers)
{
    /* 0, the largest value, every power of ten and its neighbours, random values of
     * every length. */
    check_uint(0);
    check_uint(UINT64_MAX);
    uint64_t p = 1;
    for (int k = 0; k < 20; k++, p *= 10) {
        check_uint(p - 1);
        check_uint(p);
        check_uint(p + 1);
    }
    uint64_t s = 99;
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        check_uint(s >> (s % 64));
    }
}
END_TEST

/* Returns the suite of fixed-point text. */
static Suite *fixed_suite(void)
{
    Suite *s = suite_create("fixed");
    TCase *tc = tcase_create("fixed");
    tcase_add_test(tc, test_random_values);
    tcase_add_test(tc, test_ties_zeros_and_limits);
    tcase_add_test(tc, test_unsigned_integers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return crisk_check_run(fixed_suite());
}
