/* PLACEHOLDER replaced by the UBJSON work; returns CRISK_E_UNSUPPORTED. */
#include "error.h"
#include "import.h"
int crisk_ubjson_parse(const unsigned char *data, size_t size, const crisk_load_limits *limits,
                       cJSON **out, crisk_error *err)
{
    (void)data; (void)size; (void)limits; *out = NULL;
    return crisk_fail(err, CRISK_E_UNSUPPORTED, "UBJSON models are not supported yet");
}
