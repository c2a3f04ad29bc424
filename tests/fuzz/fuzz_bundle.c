/*
 * fuzz_bundle.c — libFuzzer target: arbitrary bytes as a bundle's manifest.json, loaded
 * by crisk_bundle_load from a directory holding the example bundle's files and a small
 * fitted schema (small_schema.json); a bundle that loads scores example declarations.
 */
#include "fuzz_common.h"

/* Loads a bundle whose manifest is `data` and scores with it. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_file(fuzz_bundle_path("manifest.json"), data, size);
    crisk_bundle_free(fuzz_load_bundle());
    return 0;
}
