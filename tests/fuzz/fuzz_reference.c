/*
 * fuzz_reference.c — libFuzzer target: arbitrary bytes as a bundle's reference
 * distributions (the manifest's "reference" file) of a small bundle, loaded with the
 * bundle and then by crisk_reference_load; a reference that loads counts example
 * declarations (as a batch and in a window), reports every item, and saves the counts
 * and loads them back.
 */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

/* Writes the small bundle's manifest, its "reference" key naming input.json. */
static void write_manifest(void)
{
    fuzz_small_manifest("profiles.json", "policy.json");
    size_t size;
    const char *path = fuzz_bundle_path("manifest.json");
    FILE *f = fopen(path, "rb");
    char text[1 << 16];
    if (!f || (size = fread(text, 1, sizeof text - 1, f)) == 0)
        abort();
    fclose(f);
    text[size] = '\0';
    char *at = strstr(text, "\"reference.json\"");
    if (!at)
        abort();
    memcpy(at, "\"input.json\"    ", strlen("\"reference.json\""));
    fuzz_write_file(path, (const uint8_t *)text, size);
}

/* Counts example declarations against `ref` over `window`, reads every item, saves the
 * counts and loads them back. The declarations are scored in stream mode: eight are too
 * few for the policy's budget as a batch. */
static void count(const crisk_bundle *bundle, const crisk_reference *ref, size_t window)
{
    crisk_drift *drift = NULL, *back = NULL;
    crisk_results *res = NULL;
    crisk_lane_state *stream = NULL;
    crisk_error err;
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    crisk_batch *batch = fuzz_example_batch(crisk_bundle_schema(bundle), 8);
    if (crisk_lane_state_new(bundle, &stream, &err))
        abort();
    opts.stream = stream;
    if (crisk_drift_new(ref, window, &drift, &err) ||
        crisk_bundle_score(bundle, batch, &opts, &res, &err) ||
        crisk_drift_add(drift, batch, res, &err))
        abort();
    for (size_t i = 0; i < crisk_drift_num_items(drift); i++) {
        crisk_drift_item item;
        if (crisk_drift_item_get(drift, i, &item, &err) || !item.name)
            abort();
    }
    const char *path = fuzz_bundle_path("drift.json");
    if (crisk_drift_save(drift, path, &err) || crisk_drift_load(ref, path, &back, &err) ||
        crisk_drift_rows(back) != crisk_drift_rows(drift))
        abort();
    crisk_drift_free(back);
    crisk_drift_free(drift);
    crisk_results_free(res);
    crisk_lane_state_free(stream);
    crisk_batch_free(batch);
}

/* Loads `data` as the bundle's reference and monitors with it. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        write_manifest();
        ready = 1;
    }
    fuzz_write_file(fuzz_bundle_path("input.json"), data, size);
    crisk_load_options opts;
    fuzz_load_options(&opts);
    crisk_bundle *bundle = NULL;
    crisk_reference *ref = NULL;
    crisk_error err;
    int rc = crisk_bundle_load(fuzz_bundle_path(NULL), &opts, &bundle, &err);
    if (rc == 0)
        rc = crisk_reference_load(bundle, &ref, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
        if (ref)
            abort(); /* a failed load must leave no reference behind */
    } else {
        count(bundle, ref, 0);
        count(bundle, ref, 3);
    }
    crisk_reference_free(ref);
    crisk_bundle_free(bundle);
    return 0;
}
