/* PLACEHOLDER replaced by the LightGBM work; returns CRISK_E_UNSUPPORTED. */
#include "error.h"
#include "import.h"
int crisk_import_lightgbm(const char *text, size_t size, const crisk_load_limits *limits,
                          crisk_model *m, crisk_error *err)
{
    (void)text; (void)size; (void)limits; (void)m;
    return crisk_fail(err, CRISK_E_UNSUPPORTED, "LightGBM models are not supported yet");
}
