/*
 * test_canon.c — the canonical form of codes (lib/common/canon.c) against its definition,
 * byte by byte: every byte value at every position of values of 1 to 24 bytes (the check
 * reads eight bytes at a time, the last word overlapping), and HS codes of digits and dots
 * (a fast path) against the general one's results and refusals.
 */
#include "common/canon.h"

#include "check_run.h"

#include <check.h>
#include <string.h>

/* The definition: printable ASCII without lower case, no space at either end. */
static int canonical(const char *s, size_t len)
{
    if (len == 0 || s[0] == ' ' || s[len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < ' ' || s[i] > '~' || (s[i] >= 'a' && s[i] <= 'z'))
            return 0;
    return 1;
}

START_TEST(test_every_byte_at_every_position)
{
    char s[32];
    for (size_t len = 1; len <= 24; len++)
        for (size_t at = 0; at < len; at++)
            for (int c = 0; c < 256; c++) {
                memset(s, 'A', len);
                s[at] = (char)c;
                ck_assert_msg(crisk__canon_is(s, len) == canonical(s, len),
                              "byte 0x%02x at %zu of %zu", c, at, len);
                char out[32], why[CRISK__CANON_WHY_BYTES];
                size_t n;
                if (canonical(s, len)) {
                    ck_assert_int_eq(crisk__canon_code(s, len, out, &n, why), 0);
                    ck_assert_uint_eq(n, len);
                    ck_assert_mem_eq(out, s, len);
                }
            }
}
END_TEST

/* Digits and dots: the digits, or the refusal the general path gives, with its reason. */
START_TEST(test_hs_codes)
{
    static const struct {
        const char *in, *out; /* out NULL: refused */
    } cases[] = {
        {"3505.45.83", "35054583"}, {"62", "62"}, {"6", NULL}, {"", NULL}, {"..", NULL},
        {"123456789012", "123456789012"}, {"1234567890123", NULL}, {"1.2.3.4", "1234"},
        {" 6204.62 ", "620462"}, {"6204 62", "620462"}, {"62a4", NULL}, {"６２０４", "6204"},
        {"62..........................................................................", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[16], why[CRISK__CANON_WHY_BYTES] = "";
        size_t n = 99;
        int rc = crisk__canon_hs(cases[i].in, strlen(cases[i].in), 2, out, &n, why);
        if (cases[i].out) {
            ck_assert_msg(rc == 0, "%s: %s", cases[i].in, why);
            ck_assert_str_eq(out, cases[i].out);
            ck_assert_uint_eq(n, strlen(cases[i].out));
        } else {
            ck_assert_msg(rc == -1 && why[0], "%s: accepted", cases[i].in);
        }
    }
}
END_TEST

/* Runs the canon suite. */
int main(void)
{
    Suite *s = suite_create("canon");
    TCase *tc = tcase_create("canon");
    tcase_add_test(tc, test_every_byte_at_every_position);
    tcase_add_test(tc, test_hs_codes);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
