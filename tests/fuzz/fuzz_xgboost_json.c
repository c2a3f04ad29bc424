/*
 * fuzz_xgboost_json.c — libFuzzer target: XGBoost JSON text through the non-finite
 * number rewrite, then the XGBoost importer twice — over a cJSON tree of the whole text,
 * and with the trees read one at a time in place (crisk__xgboost_split, what
 * crisk_model_load does) — which must agree, on the code and on every value imported;
 * then validation, the engine and scoring.
 * Internal entry points, because the public loader takes only the in-place path.
 */
#include "fuzz_common.h"

#include "import/import.h"

#include <stdlib.h>

/* Imports `data` as XGBoost JSON both ways and scores what loads. Always returns 0. */
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
    const char *json = text ? text : (const char *)data;
    size_t json_size = text ? text_size : size;
    cJSON *root = cJSON_ParseWithLength(json, json_size);
    int parsed = root != NULL;
    uint64_t whole_print = 0, split_print = 0;
    int whole = parsed ? fuzz_import_xgboost(root, NULL, &opts, &whole_print) : 0;
    cJSON_Delete(root);
    crisk__tree_source trees;
    rc = crisk__xgboost_split(json, json_size, &root, &trees, &err);
    /* Text the in-place path takes is text cJSON takes, with the same result and the same
     * model, bit for bit. */
    if (rc == 0 && (!parsed || fuzz_import_xgboost(root, &trees, &opts, &split_print) != whole
                    || split_print != whole_print))
        abort();
    if (rc < 0)
        fuzz_check_failure(rc, &err);
    crisk__tree_source_done(&trees);
    cJSON_Delete(root);
    free(text);
    return 0;
}
