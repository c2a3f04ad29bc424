/*
 * test_errors.c — the error table, filling a crisk_error, hex text, version, and the
 * loader's refusals of inputs that are not models at all.
 */
#include "crisk.h"

#include "check_run.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_error_names)
{
    ck_assert_str_eq(crisk_err_name(CRISK_OK), "CRISK_OK");
    ck_assert_str_eq(crisk_err_name(CRISK_E_FORMAT), "CRISK_E_FORMAT");
    ck_assert_str_eq(crisk_err_name(CRISK_E_UNSUPPORTED), "CRISK_E_UNSUPPORTED");
    ck_assert_str_eq(crisk_err_name(-9999), "CRISK_E_UNKNOWN");
    ck_assert_str_eq(crisk_strerror(CRISK_E_NOMEM), "out of memory");
    ck_assert_str_eq(crisk_strerror(12345), "unknown error");
    /* Every code in the table has its own name and text. */
    for (int code = -1; code > CRISK_E_LAST_; code--) {
        ck_assert_str_ne(crisk_err_name(code), "CRISK_E_UNKNOWN");
        ck_assert_str_ne(crisk_strerror(code), "unknown error");
    }
}
END_TEST

START_TEST(test_error_set)
{
    crisk_error err;
    ck_assert_int_eq(crisk_error_set(&err, CRISK_E_INPUT, "line %d: %s", 4, "bad"),
                     CRISK_E_INPUT);
    ck_assert_int_eq(err.code, CRISK_E_INPUT);
    ck_assert_str_eq(err.message, "line 4: bad");
    ck_assert_int_eq(crisk_error_set(NULL, CRISK_E_IO, "ignored"), CRISK_E_IO);
    /* A message longer than the buffer is cut, still NUL-terminated. */
    char long_text[2 * sizeof err.message];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    crisk_error_set(&err, CRISK_E_LIMIT, "%s", long_text);
    ck_assert_uint_eq(strlen(err.message), sizeof err.message - 1);
}
END_TEST

START_TEST(test_hex)
{
    const unsigned char bytes[] = {0x00, 0x9f, 0xa0, 0xff};
    char hex[2 * sizeof bytes + 1];
    crisk_hex_encode(bytes, sizeof bytes, hex);
    ck_assert_str_eq(hex, "009fa0ff");
    unsigned char back[sizeof bytes];
    ck_assert_int_eq(crisk_hex_decode("009FA0ff", sizeof back, back), 0);
    ck_assert_mem_eq(back, bytes, sizeof bytes);
    ck_assert_int_eq(crisk_hex_decode("009fa0f", sizeof back, back), -1);  /* short */
    ck_assert_int_eq(crisk_hex_decode("009fa0fg", sizeof back, back), -1); /* not hex */
}
END_TEST

START_TEST(test_version)
{
    ck_assert_uint_eq(crisk_version_number(), CRISK_VERSION_NUMBER);
    ck_assert_str_eq(crisk_version_string(), CRISK_VERSION_STRING);
}
END_TEST

START_TEST(test_load_refusals)
{
    crisk_model *m = (crisk_model *)&m; /* must be reset to NULL on failure */
    crisk_error err;
    ck_assert_int_eq(crisk_model_load_buffer("", 0, &m, &err), CRISK_E_FORMAT);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err.message, "empty"));

    ck_assert_int_eq(crisk_model_load("/nonexistent/model.json", &m, &err), CRISK_E_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "/nonexistent/model.json"));

    ck_assert_int_eq(crisk_model_load("/", &m, &err), CRISK_E_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "not a regular file"));

    const char *bad_json = "{\"learner\": ";
    ck_assert_int_eq(crisk_model_load_buffer(bad_json, strlen(bad_json), &m, &err),
                     CRISK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "invalid JSON"));

    const char *other = "{\"hello\": 1}";
    ck_assert_int_eq(crisk_model_load_buffer(other, strlen(other), &m, &err), CRISK_E_FORMAT);

    crisk_load_options opts;
    crisk_load_options_init(&opts);
    opts.limits.max_file_bytes = 4;
    ck_assert_int_eq(crisk_model_load_buffer_advanced(other, strlen(other), &opts, &m, &err),
                     CRISK_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.message, "max_file_bytes"));

    /* err may be NULL. */
    ck_assert_int_eq(crisk_model_load_buffer(other, strlen(other), &m, NULL), CRISK_E_FORMAT);
    crisk_model_free(NULL);
}
END_TEST

START_TEST(test_defaults)
{
    crisk_predict_options o;
    memset(&o, 0x5a, sizeof o);
    crisk_predict_options_init(&o);
    ck_assert_int_eq(o.threads, 1);
    ck_assert_int_eq(o.output, CRISK_OUTPUT_TRANSFORMED);
    ck_assert_uint_eq(o.iteration_begin, 0);
    ck_assert_uint_eq(o.iteration_end, 0);
    ck_assert_int_eq(crisk_predict(NULL, NULL, 0, 0, NULL, NULL, NULL),
                     CRISK_E_INVALID_ARGUMENT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_error_names);
    tcase_add_test(tc, test_error_set);
    tcase_add_test(tc, test_hex);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_load_refusals);
    tcase_add_test(tc, test_defaults);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
