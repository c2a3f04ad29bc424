/*
 * fuzz_logistic.c — libFuzzer target: crisk logistic JSON through cJSON and the logistic
 * importer, then validation, the engine and scoring.
 */
#include "fuzz_common.h"

#include "import/import.h"
#include "model/model.h"

#include <stdlib.h>

/* Imports `data` as a crisk logistic model and scores what loads. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crisk_load_options opts;
    fuzz_load_options(&opts);
    crisk_error err;
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (!root)
        return 0;
    crisk_model *m = crisk__model_new();
    if (!m)
        abort();
    fuzz_finish_import(m, crisk__import_logistic(root, &opts.limits, m, &err), &opts, &err);
    cJSON_Delete(root);
    return 0;
}
