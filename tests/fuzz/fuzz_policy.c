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
    static int ready;
    if (!ready) {
        fuzz_small_manifest("profiles.json", "input.json");
        ready = 1;
    }
    fuzz_write_file(fuzz_bundle_path("input.json"), data, size);
    crisk_bundle_free(fuzz_load_bundle());
    return 0;
}
