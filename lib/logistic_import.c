/* PLACEHOLDER replaced by the logistic work; returns CRISK_E_UNSUPPORTED. */
#include "error.h"
#include "import.h"
int crisk_import_logistic(const cJSON *root, const crisk_load_limits *limits, crisk_model *m,
                          crisk_error *err)
{
    (void)root; (void)limits; (void)m;
    return crisk_fail(err, CRISK_E_UNSUPPORTED, "logistic models are not supported yet");
}
