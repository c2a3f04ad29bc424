/*
 * test_jsonpull.c — the in-place JSON reader (lib/common/jsonpull.c) and the values the
 * XGBoost importer reads through it (lib/import/jvalue.c): numbers bit for bit as strtod
 * reads them, on and off the exact fast path; runs of numbers; the strict check's number
 * runs and surrogate escapes; members found as cJSON finds them; XGBoost's bare NaN and
 * Infinity rewritten as markers outside strings only.
 */
#include "common/jsonpull.h"
#include "import/import.h"
#include "import/jvalue.h"

#include "check_run.h"

#include <check.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns the next value of the xorshift64 generator `*state`. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Reads `text` as one number with crisk__jpull_number and with strtod under the C locale;
 * asserts the two doubles are the same bits and the cursor ends after the number. */
static void assert_number(const char *text, crisk__jshared *shared)
{
    crisk__jpull c;
    size_t len = strlen(text);
    crisk__jpull_init(&c, text, len, shared);
    double got = 0, want;
    ck_assert_msg(crisk__jpull_number(&c, &got) == 0, "%s: not read", text);
    ck_assert_msg(c.p == text + len, "%s: stopped after %td bytes", text, c.p - text);
    locale_t old = uselocale(shared->c_locale);
    want = strtod(text, NULL);
    uselocale(old);
    ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "%s: %.17g, strtod %.17g", text, got,
                  want);
}

/* Writes a random JSON number to `buf`: sign, 1 to 22 integer digits (a single 0 or none
 * leading), up to 20 fraction digits, an exponent within +-40 half of the time. */
static void random_number(uint64_t *rng, char *buf)
{
    char *o = buf;
    if (next_random(rng) % 2)
        *o++ = '-';
    size_t ndig = 1 + next_random(rng) % 22;
    *o++ = ndig == 1 ? (char)('0' + next_random(rng) % 10) : (char)('1' + next_random(rng) % 9);
    for (size_t i = 1; i < ndig; i++)
        *o++ = (char)('0' + next_random(rng) % 10);
    size_t nfrac = next_random(rng) % 21;
    if (nfrac) {
        *o++ = '.';
        for (size_t i = 0; i < nfrac; i++)
            *o++ = (char)('0' + next_random(rng) % 10);
    }
    if (next_random(rng) % 2)
        o += sprintf(o, "%c%+d", next_random(rng) % 2 ? 'e' : 'E',
                     (int)(next_random(rng) % 81) - 40);
    *o = '\0';
}

START_TEST(test_numbers_match_strtod)
{
    static const char *edges[] = {
        "0", "-0", "0.0", "-0.0", "0e5", "1", "-1", "2047", "2147483647", "-2147483648",
        "9007199254740992", "9007199254740993", "-9007199254740993", "18446744073709551615",
        "18446744073709551616", "1234567890123456789", "12345678901234567890", "1e22",
        "1e23", "1e-22", "1.5e-23", "9007199254740993e-22", "123456789012345678e-10",
        "0.1", "0.30000000000000004", "0.00000000000000000001", "0.0000000000000000000123",
        "1.7976931348623157e308", "1e309", "-1e309", "4.9e-324", "1e-400", "2.2250738585072011e-308",
        "1E+2", "1e-45", "0.8018806", "0.40000004", "-0.54", "8.589973e9", "3.4028235e38",
        "1.00000000000000011102230246251565404236316680908203125",
    };
    crisk__jshared shared = {NULL, 0, newlocale(LC_ALL_MASK, "C", (locale_t)0), NULL};
    ck_assert_ptr_nonnull(shared.c_locale);
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        assert_number(edges[i], &shared);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    char buf[80];
    for (int i = 0; i < 200000; i++) {
        random_number(&rng, buf);
        assert_number(buf, &shared);
    }
    freelocale(shared.c_locale);
    free(shared.buf);
}
END_TEST

START_TEST(test_number_runs)
{
    const char *text = "[1, -2.5 ,3e2,true,4,\"x\",5]";
    crisk__jshared shared = {NULL, 0, newlocale(LC_ALL_MASK, "C", (locale_t)0), NULL};
    crisk__jpull c;
    double v[4] = {0};
    crisk__jpull_init(&c, text, strlen(text), &shared);
    ck_assert_int_eq(crisk__jpull_enter(&c), 0);
    ck_assert_uint_eq(crisk__jpull_numbers(&c, v, 2), 2); /* at most cap */
    ck_assert(v[0] == 1 && v[1] == -2.5);
    ck_assert_uint_eq(crisk__jpull_numbers(&c, v, 4), 1); /* stops before true */
    ck_assert(v[0] == 300);
    ck_assert_int_eq(crisk__jpull_more(&c), 1);
    ck_assert_int_eq(crisk__jpull_peek(&c), CRISK__J_TRUE);
    ck_assert_int_eq(crisk__jpull_skip(&c), 0);
    ck_assert_uint_eq(crisk__jpull_numbers(&c, v, 4), 1);
    ck_assert(v[0] == 4);
    ck_assert_uint_eq(crisk__jpull_numbers(&c, v, 4), 0); /* a string next */
    ck_assert_int_eq(crisk__jpull_more(&c), 1);
    ck_assert_int_eq(crisk__jpull_skip(&c), 0);
    ck_assert_uint_eq(crisk__jpull_numbers(&c, v, 4), 1);
    ck_assert(v[0] == 5);
    ck_assert_uint_eq(crisk__jpull_numbers(&c, v, 4), 0); /* the end */
    ck_assert_int_eq(crisk__jpull_more(&c), 0);
    ck_assert_ptr_eq(c.p, text + strlen(text));
    freelocale(shared.c_locale);
}
END_TEST

/* Returns crisk__json_check_text's verdict on `text`. */
static int checks(const char *text)
{
    return crisk__json_check_text(text, strlen(text), 8, NULL);
}

START_TEST(test_check_number_runs)
{
    static const char *good[] = {"[1,2,3]", "[1 , 2,\n3 ]", "[-0,0.5,1e5,-2E-3]", "[1,\"a\",2]",
                                 "[1,[2,3],4]", "{\"a\":[1,2],\"b\":3}", "[]", "[0]"};
    static const char *bad[] = {"[1,,2]", "[1,2,]", "[01]", "[1.]", "[-]", "[1 2]", "[1,2",
                                "[1e]", "[.5]", "[1,-]", "[+1]", "[1,2}"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(checks(good[i]), "%s refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!checks(bad[i]), "%s taken", bad[i]);
    /* The index counts the items of a run as one by one. */
    const char *text = "[[1,2,3],[4, \"a\" ,5,6],[]]";
    crisk__jindex index = {NULL, 0, 0, 16, 2};
    ck_assert(crisk__json_check_text(text, strlen(text), 8, &index));
    ck_assert_uint_eq(index.n, 4);
    ck_assert_uint_eq(index.spans[0].count, 3);
    ck_assert_uint_eq(index.spans[1].count, 3);
    ck_assert_uint_eq(index.spans[2].count, 4);
    ck_assert_uint_eq(index.spans[3].count, 0);
    free(index.spans);
}
END_TEST

START_TEST(test_check_surrogates)
{
    ck_assert(checks("[\"\\ud83d\\ude00\"]"));  /* a pair */
    ck_assert(checks("[\"\\uE000\\uffff\"]"));  /* above the surrogates */
    ck_assert(!checks("[\"\\udc00\"]"));        /* a lone low surrogate */
    ck_assert(!checks("[\"\\ud83d\"]"));        /* a high one at the end */
    ck_assert(!checks("[\"\\ud83dx\"]"));       /* a high one before a character */
    ck_assert(!checks("[\"\\ud83d\\u0041\"]")); /* a high one before another escape */
    ck_assert(!checks("[\"\\ud83d\\ud83d\"]")); /* two high ones */
}
END_TEST

/* Asserts that member `key` of object `text` is found in place as cJSON finds it, with
 * the same number there. */
static void assert_member_as_cjson(const char *text, const char *key)
{
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    crisk__jshared shared = {NULL, 0, newlocale(LC_ALL_MASK, "C", (locale_t)0), NULL};
    crisk__jvalue in_text = crisk__jvalue_item(NULL), in_tree = crisk__jvalue_item(root), a, b;
    crisk__jpull_init(&in_text.at, text, strlen(text), &shared);
    int found = crisk__jvalue_member(&in_text, key, &a);
    ck_assert_int_eq(found, crisk__jvalue_member(&in_tree, key, &b));
    if (found) {
        double x = 0, y = 1;
        ck_assert_int_eq(crisk__jvalue_number(&a, &x), 0);
        ck_assert_int_eq(crisk__jvalue_number(&b, &y), 0);
        ck_assert_msg(x == y, "%s: member %s is %g in place, %g in cJSON", text, key, x, y);
    }
    cJSON_Delete(root);
    freelocale(shared.c_locale);
    free(shared.buf);
}

START_TEST(test_members_as_cjson)
{
    assert_member_as_cjson("{\"a\":1,\"a\":2}", "a");                    /* the first */
    assert_member_as_cjson("{\"a\\u0000b\":1,\"a\":2}", "a");            /* cJSON's name ends at NUL */
    assert_member_as_cjson("{\"left\\u005fchildren\":3}", "left_children");
    assert_member_as_cjson("{\"\\ud83d\\ude00\":1,\"k\":2}", "k");      /* a key jsonpull leaves to cJSON */
    assert_member_as_cjson("{\"\\ud83d\\ude00\":1,\"k\":2}", "\xf0\x9f\x98\x80");
    assert_member_as_cjson("{\"A\":1}", "a");                             /* case counts */
    assert_member_as_cjson("{\"x\":[1,{\"a\":2}],\"a\":3}", "a");        /* not a nested one */
    assert_member_as_cjson("{}", "a");
}
END_TEST

/* Asserts that crisk__json_nonfinite_rewrite turns `text` into `want` (NULL: leaves it). */
static void assert_rewrite(const char *text, const char *want)
{
    char *out = NULL;
    size_t n = 0;
    crisk_error err;
    ck_assert_int_eq(crisk__json_nonfinite_rewrite(text, strlen(text), &out, &n, &err), 0);
    if (!want) {
        ck_assert_msg(out == NULL, "%s: rewritten as %s", text, out);
        return;
    }
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_str_eq(out, want);
    free(out);
}

START_TEST(test_nonfinite_rewrite)
{
    /* Past the eight-byte steps, and at every position within one. */
    assert_rewrite("[1.5,-2.25,3,4e5,-6.0,7,8,9,10]", NULL);
    assert_rewrite("[NaN,-Infinity,Infinity]",
                   "[\"\\u0001NaN\",\"\\u0001-Infinity\",\"\\u0001Infinity\"]");
    assert_rewrite("[12345678,-Infinity]", "[12345678,\"\\u0001-Infinity\"]");
    assert_rewrite("[1234567,-Infinity]", "[1234567,\"\\u0001-Infinity\"]");
    assert_rewrite("{\"NaN\":\"-Infinity \\\" NaN\",\"k\":NaN}",
                   "{\"NaN\":\"-Infinity \\\" NaN\",\"k\":\"\\u0001NaN\"}");
    assert_rewrite("[\"a-\"Infinity]", "[\"a-\"\"\\u0001Infinity\"]"); /* '-' in a string */
    assert_rewrite("[--Infinity,NaNaN,Inf,N]", "[-\"\\u0001-Infinity\",\"\\u0001NaN\"aN,Inf,N]");
}
END_TEST

/* Runs the jsonpull suite. */
int main(void)
{
    Suite *s = suite_create("jsonpull");
    TCase *tc = tcase_create("jsonpull");
    tcase_add_test(tc, test_numbers_match_strtod);
    tcase_add_test(tc, test_number_runs);
    tcase_add_test(tc, test_check_number_runs);
    tcase_add_test(tc, test_check_surrogates);
    tcase_add_test(tc, test_members_as_cjson);
    tcase_add_test(tc, test_nonfinite_rewrite);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
