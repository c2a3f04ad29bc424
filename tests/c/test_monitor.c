/*
 * test_monitor.c — drift monitoring through the public API (crisk/monitor.h) on the
 * example bundle and its 500 declarations: a reference built from a batch and read back
 * gives that batch a PSI of exactly 0 on every item; a window keeps exactly the counts of
 * its last declarations; saved counts load back to the same items; damaged or foreign
 * saved counts are refused with the right code.
 */
#include "crisk.h"

#include "check_run.h"
#include "test_files.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The copy of the example bundle each test works in, its reference built here. */
static char dir[64];
static crisk_bundle *bundle;
static crisk_batch *first, *last;  /* declarations 1-400 and 401-500 */
static crisk_results *first_res, *last_res;
static crisk_reference *ref;

/* Returns the malloc'd path of `name` under the example bundle. */
static char *example(const char *name)
{
    const char *root = getenv("CRISK_SOURCE_DIR");
    ck_assert_msg(root != NULL, "CRISK_SOURCE_DIR is not set: run through `meson test`");
    size_t n = strlen(root) + strlen(name) + sizeof "/models/example/";
    char *path = malloc(n);
    snprintf(path, n, "%s/models/example/%s", root, name);
    return path;
}

/* Copies file `name` of the example bundle into the test's directory. */
static void copy_example(const char *name)
{
    char *path = example(name);
    size_t len;
    unsigned char *data = crisk_test_read_file(path, &len);
    crisk_test_write_file(dir, name, data, len);
    free(data);
    free(path);
}

/* Reads up to `max` declarations of `reader` into a new batch and scores them. */
static crisk_batch *read_batch(crisk_decl_reader *reader, const crisk_bundle *b, size_t max,
                               crisk_results **res)
{
    crisk_batch *batch;
    crisk_error err;
    size_t got;
    ck_assert_int_eq(crisk_batch_new(crisk_bundle_schema(b), &batch, &err), 0);
    ck_assert_int_eq(crisk_decl_read(reader, batch, max, NULL, NULL, NULL, &got, &err), 0);
    ck_assert_uint_eq(got, max);
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    ck_assert_msg(crisk_bundle_score(b, batch, &opts, res, &err) == 0, "%s", err.message);
    return batch;
}

/* Writes the example's manifest to `dir` with its "reference" key (`with`) or without. */
static void write_manifest(int with)
{
    static const char key[] = ",\n  \"reference\": \"reference.json\"";
    char *path = example("manifest.json");
    size_t len;
    char *text = (char *)crisk_test_read_file(path, &len);
    char *at = strstr(text, key);
    ck_assert_msg(at != NULL, "models/example/manifest.json names no reference");
    if (!with)
        memmove(at, at + strlen(key), strlen(at + strlen(key)) + 1);
    crisk_test_write_file(dir, "manifest.json", text, strlen(text));
    free(text);
    free(path);
}

/* Builds a bundle in `dir` from the example's files with a reference made here from all
 * 500 declarations, and loads it. */
static void setup(void)
{
    static const char *const files[] = {"schema.json", "fraud_xgb.json", "revenue_xgb.json",
                                        "fraud_logistic.json", "profiles.json",
                                        "policy.json"};
    snprintf(dir, sizeof dir, "/tmp/crisk-monitor-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        copy_example(files[i]);
    write_manifest(0);
    crisk_bundle *plain = crisk_test_load_bundle(dir);
    char *decls = example("declarations.csv");
    FILE *f = fopen(decls, "r");
    crisk_decl_reader *reader;
    crisk_error err;
    ck_assert_int_eq(crisk_decl_open(f, CRISK_DECL_CSV, crisk_bundle_schema(plain), NULL,
                                     &reader, &err), 0);
    crisk_results *all_res;
    crisk_batch *all = read_batch(reader, plain, 500, &all_res);
    crisk_reference_builder *builder;
    char path[128];
    snprintf(path, sizeof path, "%s/reference.json", dir);
    ck_assert_int_eq(crisk_reference_builder_new(plain, &builder, &err), 0);
    ck_assert_int_eq(crisk_reference_builder_add(builder, all, all_res, &err), 0);
    ck_assert_msg(crisk_reference_builder_save(builder, path, 0.1, 0.25, &err) == 0, "%s",
                  err.message);
    crisk_reference_builder_free(builder);
    crisk_results_free(all_res);
    crisk_batch_free(all);
    crisk_decl_free(reader);
    ck_assert_int_eq(crisk_reference_load(plain, &ref, &err), CRISK_E_UNSUPPORTED);
    crisk_bundle_free(plain);
    write_manifest(1);
    bundle = crisk_test_load_bundle(dir);
    ck_assert_msg(crisk_reference_load(bundle, &ref, &err) == 0, "%s", err.message);
    rewind(f);
    ck_assert_int_eq(crisk_decl_open(f, CRISK_DECL_CSV, crisk_bundle_schema(bundle), NULL,
                                     &reader, &err), 0);
    first = read_batch(reader, bundle, 400, &first_res);
    last = read_batch(reader, bundle, 100, &last_res);
    crisk_decl_free(reader);
    fclose(f);
    free(decls);
}

static void teardown(void)
{
    crisk_results_free(first_res);
    crisk_results_free(last_res);
    crisk_batch_free(first);
    crisk_batch_free(last);
    crisk_reference_free(ref);
    crisk_bundle_free(bundle);
    crisk_test_remove_dir(dir);
}

/* Returns counts over `window` of first then last (or of last alone). */
static crisk_drift *counts(size_t window, int with_first)
{
    crisk_drift *d;
    crisk_error err;
    ck_assert_int_eq(crisk_drift_new(ref, window, &d, &err), 0);
    if (with_first)
        ck_assert_int_eq(crisk_drift_add(d, first, first_res, &err), 0);
    ck_assert_msg(crisk_drift_add(d, last, last_res, &err) == 0, "%s", err.message);
    return d;
}

/* Checks that `a` and `b` report the same items, bit for bit. */
static void assert_same_items(const crisk_drift *a, const crisk_drift *b)
{
    crisk_error err;
    ck_assert_uint_eq(crisk_drift_rows(a), crisk_drift_rows(b));
    ck_assert_uint_eq(crisk_drift_num_items(a), crisk_drift_num_items(b));
    for (size_t i = 0; i < crisk_drift_num_items(a); i++) {
        crisk_drift_item x, y;
        ck_assert_int_eq(crisk_drift_item_get(a, i, &x, &err), 0);
        ck_assert_int_eq(crisk_drift_item_get(b, i, &y, &err), 0);
        ck_assert_str_eq(x.name, y.name);
        ck_assert_msg(x.psi == y.psi && x.missing_now == y.missing_now &&
                      x.unseen_now == y.unseen_now && x.level == y.level, "item %s", x.name);
    }
}

START_TEST(test_reference_batch_has_zero_psi)
{
    crisk_drift *d = counts(0, 1);
    crisk_error err;
    size_t n = crisk_drift_num_items(d);
    ck_assert_uint_eq(n, crisk_schema_num_features(crisk_bundle_schema(bundle)) +
                             crisk_bundle_num_models(bundle));
    ck_assert_uint_eq(crisk_drift_rows(d), 500);
    for (size_t i = 0; i < n; i++) {
        crisk_drift_item it;
        ck_assert_int_eq(crisk_drift_item_get(d, i, &it, &err), 0);
        ck_assert_msg(it.psi == 0 && it.level == CRISK_DRIFT_OK, "%s: psi %g", it.name, it.psi);
        ck_assert_msg(it.missing_now == it.missing_ref, "%s", it.name);
    }
    crisk_drift_item it;
    ck_assert_int_eq(crisk_drift_item_get(d, n, &it, &err), CRISK_E_INVALID_ARGUMENT);
    crisk_drift_free(d);
}
END_TEST

START_TEST(test_window_keeps_the_last_declarations)
{
    crisk_drift *windowed = counts(100, 1), *alone = counts(0, 0);
    assert_same_items(windowed, alone);
    crisk_drift_free(windowed);
    crisk_drift_free(alone);
}
END_TEST

START_TEST(test_saved_counts_load_back)
{
    char path[128];
    crisk_error err;
    snprintf(path, sizeof path, "%s/state.json", dir);
    for (size_t window = 0; window <= 150; window += 150) {
        crisk_drift *d = counts(window, 1), *back;
        ck_assert_int_eq(crisk_drift_save(d, path, &err), 0);
        ck_assert_msg(crisk_drift_load(ref, path, &back, &err) == 0, "%s", err.message);
        assert_same_items(d, back);
        /* Both go on alike: a restored window drops the same declarations. */
        ck_assert_int_eq(crisk_drift_add(d, last, last_res, &err), 0);
        ck_assert_int_eq(crisk_drift_add(back, last, last_res, &err), 0);
        assert_same_items(d, back);
        crisk_drift_free(d);
        crisk_drift_free(back);
    }
}
END_TEST

/* Saves window counts, replaces `from` by `to` in the file, and expects `code`. */
static void assert_damage_refused(const char *from, const char *to, int code)
{
    char path[128];
    crisk_error err;
    snprintf(path, sizeof path, "%s/state.json", dir);
    crisk_drift *d = counts(150, 1), *back = NULL;
    ck_assert_int_eq(crisk_drift_save(d, path, &err), 0);
    size_t len;
    char *text = (char *)crisk_test_read_file(path, &len);
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "no \"%s\" in the state", from);
    size_t nf = strlen(from), nt = strlen(to);
    char *out = malloc(len + nt + 1);
    memcpy(out, text, (size_t)(at - text));
    memcpy(out + (at - text), to, nt);
    strcpy(out + (at - text) + nt, at + nf);
    crisk_test_write_file(dir, "state.json", out, strlen(out));
    int rc = crisk_drift_load(ref, path, &back, &err);
    ck_assert_msg(rc == code, "%s -> %s: %d (%s)", from, to, rc, err.message);
    ck_assert_ptr_null(back);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    free(out);
    free(text);
    crisk_drift_free(d);
}

START_TEST(test_damaged_counts_are_refused)
{
    assert_damage_refused("\"bundle\":\"", "\"bundle\":\"0", CRISK_E_INTEGRITY);
    assert_damage_refused("\"window_rows\":[\"", "\"window_rows\":[\"ffff", CRISK_E_FORMAT);
    assert_damage_refused("\"window_rows\":[\"", "\"window_rows\":[\"xx", CRISK_E_FORMAT);
    assert_damage_refused("\"rows\":150", "\"rows\":151", CRISK_E_FORMAT);
    assert_damage_refused("\"window\":150", "\"window\":-1", CRISK_E_FORMAT);
    assert_damage_refused("\"format\":\"crisk-drift-state\"", "\"format\":\"x\"",
                          CRISK_E_FORMAT);
}
END_TEST

START_TEST(test_bad_arguments)
{
    crisk_error err;
    crisk_drift *d = NULL;
    crisk_reference *r = NULL;
    ck_assert_int_eq(crisk_drift_new(NULL, 0, &d, &err), CRISK_E_INVALID_ARGUMENT);
    ck_assert_int_eq(crisk_drift_new(ref, (size_t)1 << 30, &d, &err),
                     CRISK_E_INVALID_ARGUMENT);
    ck_assert_int_eq(crisk_reference_load(NULL, &r, &err), CRISK_E_INVALID_ARGUMENT);
    d = counts(0, 0);
    ck_assert_int_eq(crisk_drift_add(d, first, last_res, &err), CRISK_E_INVALID_ARGUMENT);
    ck_assert_uint_eq(crisk_drift_rows(d), 100); /* unchanged by the refused call */
    crisk_drift_free(d);
    crisk_drift_free(NULL);
    crisk_reference_free(NULL);
    crisk_reference_builder_free(NULL);
}
END_TEST

static Suite *monitor_suite(void)
{
    Suite *s = suite_create("monitor");
    TCase *tc = tcase_create("drift");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_reference_batch_has_zero_psi);
    tcase_add_test(tc, test_window_keeps_the_last_declarations);
    tcase_add_test(tc, test_saved_counts_load_back);
    tcase_add_test(tc, test_damaged_counts_are_refused);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return crisk_check_run(monitor_suite());
}
