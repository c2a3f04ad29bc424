/*
 * fuzz_ubjson.c — libFuzzer target: XGBoost UBJSON through crisk's UBJSON decoder and the
 * XGBoost importer twice — over a cJSON tree of the whole document, and with the trees
 * decoded one at a time (crisk__ubjson_split, what crisk_model_load does) — which must
 * agree, on the code and on every value imported; then validation, the engine and
 * scoring. Internal entry points, because the public loader takes only the split path.
 */
#include "fuzz_common.h"

#include "import/import.h"

#include <stdlib.h>

/* Decodes `data` as UBJSON both ways, imports it as an XGBoost model and scores what
 * loads. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crisk_load_options opts;
    fuzz_load_options(&opts);
    crisk_error err;
    cJSON *root = NULL;
    uint64_t whole_print = 0, split_print = 0;
    int whole = crisk__ubjson_parse(data, size, &opts.limits, &root, &err);
    if (whole)
        fuzz_check_failure(whole, &err);
    else
        whole = fuzz_import_xgboost(root, NULL, &opts, &whole_print);
    cJSON_Delete(root);
    crisk__tree_source trees;
    int split = crisk__ubjson_split(data, size, &opts.limits, &root, &trees, &err);
    if (split)
        fuzz_check_failure(split, &err);
    else
        split = fuzz_import_xgboost(root, trees.ubjson ? &trees : NULL, &opts, &split_print);
    cJSON_Delete(root);
    if (split != whole || split_print != whole_print)
        abort(); /* decoding the trees one at a time changes nothing, bit for bit */
    return 0;
}
