/*
 * fuzz_ubjson.c — libFuzzer target: XGBoost UBJSON through crisk's UBJSON parser and the
 * XGBoost importer, then validation, the engine and scoring.
 */
#include "fuzz_common.h"

#include "import/import.h"
#include "model/model.h"

#include <stdlib.h>

/* Parses `data` as UBJSON, imports it as an XGBoost model and scores what loads. Always
 * returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crisk_load_options opts;
    fuzz_load_options(&opts);
    crisk_error err;
    cJSON *root = NULL;
    int rc = crisk__ubjson_parse(data, size, &opts.limits, &root, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
        return 0;
    }
    crisk_model *m = crisk__model_new();
    if (!m)
        abort();
    fuzz_finish_import(m, crisk__import_xgboost(root, NULL, &opts.limits, m, &err), &opts, &err);
    cJSON_Delete(root);
    return 0;
}
