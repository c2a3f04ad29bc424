/*
 * test_errors.c — the error table, filling a crisk_error, hex text, version, the loader's
 * refusals of inputs that are not models at all, and options structs of a version this
 * crisk does not know.
 */
#include "crisk.h"

#include "check_run.h"

#include <check.h>
#include <stdio.h>
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
    crisk_load_options_init(&opts, CRISK_LOAD_OPTIONS_VERSION);
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
    crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
    ck_assert_int_eq(o.threads, 1);
    ck_assert_int_eq(o.output, CRISK_OUTPUT_TRANSFORMED);
    ck_assert_uint_eq(o.iteration_begin, 0);
    ck_assert_uint_eq(o.iteration_end, 0);
    ck_assert_int_eq(crisk_predict(NULL, NULL, 0, 0, NULL, NULL, NULL),
                     CRISK_E_INVALID_ARGUMENT);
}
END_TEST

/* A version no crisk has written: one past the header's. */
#define UNKNOWN_VERSION(NAME) (CRISK_##NAME##_OPTIONS_VERSION + 1)

/* _init of the options struct `type` refuses NULL, version 0 and a later version, writing
 * nothing for them, and fills the header's version. */
#define CHECK_INIT(type, NAME)                                                            \
    do {                                                                                  \
        type o, untouched;                                                                \
        memset(&o, 0x5a, sizeof o);                                                       \
        memcpy(&untouched, &o, sizeof o);                                                 \
        ck_assert_int_eq(type##_init(NULL, CRISK_##NAME##_OPTIONS_VERSION),               \
                         CRISK_E_INVALID_ARGUMENT);                                       \
        ck_assert_int_eq(type##_init(&o, 0), CRISK_E_INVALID_ARGUMENT);                   \
        ck_assert_int_eq(type##_init(&o, UNKNOWN_VERSION(NAME)), CRISK_E_INVALID_ARGUMENT); \
        ck_assert_mem_eq(&o, &untouched, sizeof o);                                       \
        ck_assert_int_eq(type##_init(&o, CRISK_##NAME##_OPTIONS_VERSION), 0);             \
        ck_assert_uint_eq(o.version, CRISK_##NAME##_OPTIONS_VERSION);                     \
    } while (0)

START_TEST(test_options_init_versions)
{
    CHECK_INIT(crisk_load_options, LOAD);
    CHECK_INIT(crisk_predict_options, PREDICT);
    CHECK_INIT(crisk_fit_options, FIT);
    CHECK_INIT(crisk_events_options, EVENTS);
    CHECK_INIT(crisk_score_options, SCORE);
    CHECK_INIT(crisk_csv_options, CSV);
    CHECK_INIT(crisk_decl_options, DECL);
}
END_TEST

/* Checks that a call returned `rc` CRISK_E_INVALID_ARGUMENT for options struct `type`
 * of a version it does not know, naming the struct and that version in `err`. */
static void expect_refused(int rc, const crisk_error *err, const char *type, unsigned version)
{
    char want[96];
    snprintf(want, sizeof want, "%s.version is %u", type, version);
    ck_assert_int_eq(rc, CRISK_E_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err->message, want), "%s: no \"%s\"", err->message, want);
}

/* The path of `name` in the example bundle, models/example under CRISK_SOURCE_DIR. */
static const char *example(const char *name, char *buf, size_t cap)
{
    const char *root = getenv("CRISK_SOURCE_DIR");
    ck_assert_ptr_nonnull(root);
    snprintf(buf, cap, "%s/models/example%s%s", root, *name ? "/" : "", name);
    return buf;
}

/* Every call taking an options struct refuses one whose version it does not know. */
START_TEST(test_options_calls_refuse_unknown_versions)
{
    char path[4096];
    crisk_error err = {0};
    crisk_load_options lo;
    crisk_load_options_init(&lo, CRISK_LOAD_OPTIONS_VERSION);
    lo.version = UNKNOWN_VERSION(LOAD);
    crisk_model *m = NULL;
    expect_refused(crisk_model_load_buffer_advanced("{}", 2, &lo, &m, &err), &err,
                   "crisk_load_options", lo.version);
    expect_refused(crisk_model_load_advanced(example("fraud_logistic.json", path, sizeof path),
                                             &lo, &m, &err),
                   &err, "crisk_load_options", lo.version);
    crisk_bundle *b = NULL;
    expect_refused(crisk_bundle_load(example("", path, sizeof path), &lo, &b, &err), &err,
                   "crisk_load_options", lo.version);

    crisk_predict_options po;
    crisk_predict_options_init(&po, CRISK_PREDICT_OPTIONS_VERSION);
    po.version = UNKNOWN_VERSION(PREDICT);
    ck_assert_int_eq(crisk_model_load(example("fraud_logistic.json", path, sizeof path), &m,
                                      &err), 0);
    float out[1];
    expect_refused(crisk_predict(m, NULL, 0, crisk_model_num_features(m), &po, out, &err),
                   &err, "crisk_predict_options", po.version);
    expect_refused(crisk_contributions(m, NULL, 0, crisk_model_num_features(m), &po, out,
                                       &err),
                   &err, "crisk_predict_options", po.version);
    crisk_model_free(m);

    ck_assert_int_eq(crisk_bundle_load(example("", path, sizeof path), NULL, &b, &err), 0);
    crisk_schema *s = NULL;
    ck_assert_int_eq(crisk_schema_load(example("schema.json", path, sizeof path), &s, &err), 0);
    crisk_batch *bundle_batch = NULL, *batch = NULL;
    ck_assert_int_eq(crisk_batch_new(crisk_bundle_schema(b), &bundle_batch, &err), 0);
    ck_assert_int_eq(crisk_batch_new(s, &batch, &err), 0);

    crisk_score_options so;
    crisk_score_options_init(&so, CRISK_SCORE_OPTIONS_VERSION);
    so.version = UNKNOWN_VERSION(SCORE);
    crisk_results *res = NULL;
    expect_refused(crisk_bundle_score(b, bundle_batch, &so, &res, &err), &err,
                   "crisk_score_options", so.version);

    crisk_fit_options fo;
    crisk_fit_options_init(&fo, CRISK_FIT_OPTIONS_VERSION);
    fo.version = UNKNOWN_VERSION(FIT);
    expect_refused(crisk_schema_fit(s, batch, NULL, 0, &fo, &err), &err, "crisk_fit_options",
                   fo.version);

    crisk_events_options eo;
    crisk_events_options_init(&eo, CRISK_EVENTS_OPTIONS_VERSION);
    eo.version = UNKNOWN_VERSION(EVENTS);
    crisk_events *ev = NULL;
    expect_refused(crisk_events_parse(s, NULL, "", 0, &eo, &ev, &err), &err,
                   "crisk_events_options", eo.version);

    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    crisk_csv_options co;
    crisk_csv_options_init(&co, CRISK_CSV_OPTIONS_VERSION);
    co.version = UNKNOWN_VERSION(CSV);
    crisk_csv_reader *csv = NULL;
    expect_refused(crisk_csv_open(f, &co, &csv, &err), &err, "crisk_csv_options", co.version);
    crisk_decl_options dopts;
    crisk_decl_options_init(&dopts, CRISK_DECL_OPTIONS_VERSION);
    dopts.version = UNKNOWN_VERSION(DECL);
    crisk_decl_reader *reader = NULL;
    expect_refused(crisk_decl_open(f, CRISK_DECL_CSV, s, &dopts, &reader, &err), &err,
                   "crisk_decl_options", dopts.version);
    fclose(f);

    crisk_batch_free(batch);
    crisk_batch_free(bundle_batch);
    crisk_schema_free(s);
    crisk_bundle_free(b);
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
    tcase_add_test(tc, test_options_init_versions);
    tcase_add_test(tc, test_options_calls_refuse_unknown_versions);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
