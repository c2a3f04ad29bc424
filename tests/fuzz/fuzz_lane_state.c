/*
 * fuzz_lane_state.c — libFuzzer target: arbitrary bytes as a saved streaming lane state,
 * loaded by crisk_lane_state_load for a small bundle with the example policy (loaded
 * once); a state that loads decides lanes for example declarations, then is saved and
 * loaded again.
 */
#include "fuzz_common.h"

#include <stdlib.h>

/* Loads `data` as a lane state and streams declarations through it. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static crisk_bundle *bundle;
    if (!bundle) {
        fuzz_small_manifest("profiles.json", "policy.json");
        if (!(bundle = fuzz_load_bundle()))
            abort();
    }
    const char *path = fuzz_bundle_path("input.json");
    fuzz_write_file(path, data, size);
    crisk_lane_state *state = NULL;
    crisk_error err;
    int rc = crisk_lane_state_load(bundle, path, &state, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
        if (state)
            abort(); /* a failed load must leave no state behind */
        return 0;
    }
    fuzz_score_bundle(bundle, state);
    fuzz_state_round_trip(bundle, state);
    crisk_lane_state_free(state);
    return 0;
}
