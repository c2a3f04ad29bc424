/*
 * fuzz_policy.c — libFuzzer target: arbitrary bytes as a bundle's lane policy, loaded by
 * crisk_bundle_load (the public API reads a policy only as part of a bundle) in a small
 * bundle with the example risk profiles; a policy that loads decides lanes for example
 * declarations as a batch and as a stream, and its streaming state is saved and loaded.
 */
#include "fuzz_common.h"

/* Loads a small bundle whose policy is `data` and scores with it. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_small_bundle_input("profiles.json", "input.json", data, size);
    return 0;
}
