/* PLACEHOLDER replaced by the XGBoost importer; returns CRISK_E_UNSUPPORTED. */
#include "error.h"
#include "import.h"
int crisk_import_xgboost(const cJSON *root, const crisk_load_limits *limits, crisk_model *m,
                         crisk_error *err)
{
    (void)root; (void)limits; (void)m;
    return crisk_fail(err, CRISK_E_UNSUPPORTED, "XGBoost models are not supported yet");
}
