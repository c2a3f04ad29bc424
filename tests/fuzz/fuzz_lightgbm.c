/*
 * fuzz_lightgbm.c — libFuzzer target: LightGBM model text through the LightGBM importer,
 * then validation, the engine and scoring.
 */
#include "fuzz_common.h"

#include "import/import.h"
#include "model/model.h"

#include <stdlib.h>

/* Imports `data` as a LightGBM text model and scores what loads. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crisk_load_options opts;
    fuzz_load_options(&opts);
    crisk_error err;
    crisk_model *m = crisk__model_new();
    if (!m)
        abort();
    int rc = crisk__import_lightgbm((const char *)data, size, &opts.limits, m, &err);
    fuzz_finish_import(m, rc, &opts, &err);
    return 0;
}
