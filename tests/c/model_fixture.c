/*
 * model_fixture.c — a fixture model, its rows and its single-threaded outputs
 * (model_fixture.h).
 */
#include "model_fixture.h"

#include "test_files.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

void model_fixture_make(model_fixture *fx, const char *file, size_t nrows,
                        unsigned long long seed, int contrib)
{
    memset(fx, 0, sizeof *fx);
    fx->model = crisk_test_load_fixture_model(file);
    ck_assert_int_eq(synth_make(&fx->rows, nrows, seed), 0);
    fx->per_row[0] = crisk_model_num_outputs(fx->model);
    fx->per_row[1] = crisk_model_num_margins(fx->model);
    crisk_predict_options o;
    crisk_predict_options_init(&o);
    crisk_error err;
    int rc;
    for (int margin = 0; margin <= 1; margin++) {
        o.output = margin ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
        fx->want[margin] = malloc(nrows * fx->per_row[margin] * sizeof(float));
        ck_assert_ptr_nonnull(fx->want[margin]);
        rc = crisk_predict(fx->model, fx->rows.x, nrows, SYNTH_NCOLS, &o, fx->want[margin],
                           &err);
        ck_assert_msg(rc == 0, "%s: %s", crisk_err_name(rc), err.message);
    }
    if (!contrib)
        return;
    /* o.output is left at the margin, which the contributions sum to. */
    fx->want_contrib = malloc(nrows * (SYNTH_NCOLS + 1) * sizeof(float));
    ck_assert_ptr_nonnull(fx->want_contrib);
    rc = crisk_contributions(fx->model, fx->rows.x, nrows, SYNTH_NCOLS, &o, fx->want_contrib,
                             &err);
    ck_assert_msg(rc == 0, "%s: %s", crisk_err_name(rc), err.message);
}

void model_fixture_free(model_fixture *fx)
{
    crisk_model_free(fx->model);
    synth_free(&fx->rows);
    free(fx->want[0]);
    free(fx->want[1]);
    free(fx->want_contrib);
}
