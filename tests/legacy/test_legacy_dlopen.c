/*
 * test_legacy_dlopen.c — a legacy binary model loaded through libcrisk.so in a process that
 * does not link libxgboost: libcrisk opens it at run time, and the scores equal those of
 * the same model saved as JSON, to the bit.
 *
 * The models are make_legacy_model's, in the directory CRISK_LEGACY_MODEL_DIR names.
 */
#include "check_run.h"

#include <crisk.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 64
#define COLS 4

/* Loads `name` from CRISK_LEGACY_MODEL_DIR with crisk_model_load() and scores ROWS rows
 * spread over [0, 1) into `out`. */
static void score(const char *name, float out[ROWS])
{
    const char *dir = getenv("CRISK_LEGACY_MODEL_DIR");
    ck_assert_ptr_nonnull(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    crisk_model *m = NULL;
    crisk_error err = {0};
    int rc = crisk_model_load(path, &m, &err);
    ck_assert_msg(rc == 0, "%s: %s", path, err.message);
    ck_assert_uint_eq(crisk_model_num_outputs(m), 1);
    float x[ROWS * COLS];
    for (size_t i = 0; i < ROWS * COLS; i++)
        x[i] = (float)((i * 37) % 101) / 101.0f;
    rc = crisk_predict(m, x, ROWS, COLS, NULL, out, &err);
    ck_assert_msg(rc == 0, "%s: predict: %s", path, err.message);
    crisk_model_free(m);
}

START_TEST(test_legacy_scores_as_json)
{
    /* libcrisk.so did not bring libxgboost into the process. */
    ck_assert_ptr_null(dlopen("libxgboost.so.0", RTLD_NOW | RTLD_NOLOAD));
    float want[ROWS], got[ROWS];
    score("legacy.json", want);
    /* Twice: each load opens and closes libxgboost on its own. */
    for (int pass = 0; pass < 2; pass++) {
        score("legacy.bin", got);
        for (size_t i = 0; i < ROWS; i++)
            ck_assert_msg(memcmp(&got[i], &want[i], sizeof(float)) == 0,
                          "row %zu: legacy %.9g, JSON %.9g", i, got[i], want[i]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("legacy_dlopen");
    TCase *tc = tcase_create("dlopen");
    tcase_add_test(tc, test_legacy_scores_as_json);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
