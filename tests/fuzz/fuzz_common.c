/*
 * fuzz_common.c — load limits, failure checks and scoring shared by the fuzz targets.
 */
#include "fuzz_common.h"

#include "engine/engine.h"
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ROWS 4

void fuzz_load_options(crisk_load_options *opts)
{
    crisk_load_options_init(opts);
    opts->limits.max_file_bytes = (size_t)1 << 22;
    opts->limits.max_trees = 4096;
    opts->limits.max_nodes = (size_t)1 << 20;
    opts->limits.max_features = 4096;
    opts->limits.max_outputs = 256;
    opts->limits.max_category = (size_t)1 << 16;
}

void fuzz_check_failure(int rc, const crisk_error *err)
{
    if (rc >= 0 || rc <= CRISK_E_LAST_ || err->code != rc || err->message[0] == '\0' ||
        memchr(err->message, '\0', sizeof err->message) == NULL)
        abort();
}

void fuzz_score_and_free(crisk_model *model)
{
    size_t F = crisk_model_num_features(model), K = crisk_model_num_margins(model);
    float *rows = malloc(FUZZ_ROWS * (F ? F : 1) * sizeof *rows);
    float *out = malloc(FUZZ_ROWS * (K ? K : 1) * sizeof *out);
    if (!rows || !out)
        abort();
    for (size_t j = 0; j < F; j++) {
        rows[j] = 0.0f;
        rows[F + j] = NAN;
        rows[2 * F + j] = j % 2 ? -1e30f : 1e30f;
        rows[3 * F + j] = (float)(j % 7);
    }
    crisk_predict_options opts;
    crisk_predict_options_init(&opts);
    crisk_error err;
    for (int output = 0; output < 2; output++) {
        opts.output = output ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
        int rc = crisk_predict(model, rows, FUZZ_ROWS, F, &opts, out, &err);
        if (rc)
            fuzz_check_failure(rc, &err);
    }
    crisk_model_info info;
    crisk_model_get_info(model, &info);
    free(rows);
    free(out);
    crisk_model_free(model);
}

void fuzz_finish_import(crisk_model *model, int rc, const crisk_load_options *opts,
                        crisk_error *err)
{
    if (rc == 0)
        rc = crisk__model_validate(model, &opts->limits, err);
    if (rc == 0)
        rc = crisk__engine_build(model, err);
    if (rc) {
        fuzz_check_failure(rc, err);
        crisk_model_free(model);
        return;
    }
    fuzz_score_and_free(model);
}
