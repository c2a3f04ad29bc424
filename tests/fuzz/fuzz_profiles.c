/*
 * fuzz_profiles.c — libFuzzer target: arbitrary bytes as a bundle's risk profiles file,
 * loaded by crisk_bundle_load (the public API reads rule files only as part of a bundle)
 * in a small bundle with the example policy; rules that load are evaluated on example
 * declarations.
 */
#include "fuzz_common.h"

/* Loads a small bundle whose profiles are `data` and scores with it. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_small_bundle_input("input.json", "policy.json", data, size);
    return 0;
}
