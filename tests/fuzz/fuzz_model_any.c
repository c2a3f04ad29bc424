/*
 * fuzz_model_any.c — libFuzzer target: any bytes through the public loader,
 * crisk_model_load_buffer_advanced() (format sniffing and every importer), then scoring.
 */
#include "fuzz_common.h"

/* Loads `data` as whatever model it is and scores it. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crisk_load_options opts;
    fuzz_load_options(&opts);
    crisk_error err;
    crisk_model *m = NULL;
    int rc = crisk_model_load_buffer_advanced(data, size, &opts, &m, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
        if (m)
            __builtin_trap(); /* a failed load must leave no model behind */
        return 0;
    }
    fuzz_score_and_free(m);
    return 0;
}
