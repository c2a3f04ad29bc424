/* PLACEHOLDER replaced by the legacy-format work; returns CRISK_E_UNSUPPORTED. */
#include "error.h"
#include "import.h"
int crisk_xgboost_legacy_to_json(const void *data, size_t size, char **json, crisk_error *err)
{
    (void)data; (void)size; *json = NULL;
    return crisk_fail(err, CRISK_E_FORMAT, "not a recognised model format");
}
