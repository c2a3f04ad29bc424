/*
 * fuzz_xgboost_json.c — libFuzzer target: XGBoost JSON text through the non-finite
 * number rewrite, cJSON and the XGBoost importer, then validation, the engine and
 * scoring.
 */
#include "fuzz_common.h"

#include "import/import.h"
#include "model/model.h"

#include <stdlib.h>

/* Imports `data` as XGBoost JSON and scores what loads. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crisk_load_options opts;
    fuzz_load_options(&opts);
    crisk_error err;
    char *text = NULL;
    size_t text_size = 0;
    int rc = crisk__json_nonfinite_rewrite((const char *)data, size, &text, &text_size, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
        return 0;
    }
    cJSON *root = text ? cJSON_ParseWithLength(text, text_size)
                       : cJSON_ParseWithLength((const char *)data, size);
    free(text);
    if (!root)
        return 0;
    crisk_model *m = crisk__model_new();
    if (!m)
        abort();
    fuzz_finish_import(m, crisk__import_xgboost(root, &opts.limits, m, &err), &opts, &err);
    cJSON_Delete(root);
    return 0;
}
