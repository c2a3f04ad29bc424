/*
 * fuzz_events.c — libFuzzer target: arbitrary bytes as a border sensor event stream
 * (JSON Lines) for the example schema, read with no device keys (every event refused),
 * with the example keys (signed and unsigned devices; no future tolerance and the
 * widest), and with the keys and every HMAC required; for a batch and with none; from
 * memory (crisk_events_parse) and from a file (crisk_events_load), which must agree.
 * Events that load are joined to example declarations and their event features built.
 */
#include "fuzz_common.h"

#include <stdlib.h>
#include <unistd.h>

/* Declarations the events are read for and joined to. */
#define ROWS 16

/* Reads `data` with `opts` for `batch` (may be NULL); checks the counts and every
 * reject; returns the events, or NULL after a checked failure. */
static crisk_events *parse(const uint8_t *data, size_t size, const crisk_batch *batch,
                           const crisk_events_options *opts)
{
    crisk_events *ev = NULL;
    crisk_error err;
    int rc = crisk_events_parse(fuzz_example_schema(), batch, (const char *)data, size,
                                opts, &ev, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
        if (ev)
            abort(); /* a failed read must leave no events behind */
        return NULL;
    }
    size_t rejects = crisk_events_num_rejects(ev);
    if (crisk_events_num_read(ev) != crisk_events_num_accepted(ev) + rejects ||
        crisk_events_num_kept(ev) > crisk_events_num_accepted(ev) ||
        crisk_events_num_unverified(ev) > crisk_events_num_accepted(ev) ||
        ((!opts->keys || opts->require_hmac) && crisk_events_num_unverified(ev)) ||
        (!opts->keys && crisk_events_num_accepted(ev)))
        abort();
    for (size_t i = 0; i < rejects; i++) {
        uint64_t line = 0;
        const char *reason = NULL;
        crisk_event_reject kind = crisk_events_reject(ev, i, &line, &reason);
        if (kind < CRISK_EVENT_MALFORMED || kind > CRISK_EVENT_FUTURE_TIME || line == 0 ||
            !reason)
            abort();
    }
    return ev;
}

/* Joins `ev` to `batch`, builds the batch's features, and detaches them again. */
static void build_features(crisk_batch *batch, const crisk_events *ev)
{
    static float features[ROWS * 4096];
    const crisk_schema *schema = fuzz_example_schema();
    crisk_error err;
    if (crisk_schema_num_features(schema) > 4096 ||
        crisk_batch_set_events(batch, ev, &err) ||
        crisk_schema_features(schema, batch, features, &err) ||
        crisk_batch_set_events(batch, NULL, &err))
        abort();
}

/* Reads `data` as an event stream in every way above. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static crisk_batch *batch;
    static crisk_device_keys *keys;
    crisk_error err;
    if (!batch) {
        batch = fuzz_example_batch(fuzz_example_schema(), ROWS);
        if (crisk_device_keys_load(FUZZ_EXAMPLE_DIR "/device_keys.json", &keys, &err))
            abort();
    }
    /* Small limits, so that inputs of a few kilobytes reach them. */
    crisk_events_options opts;
    crisk_events_options_init(&opts, CRISK_EVENTS_OPTIONS_VERSION);
    opts.max_events = 64;
    opts.max_rejects = 64;
    opts.max_line_bytes = 1024;
    opts.now = FUZZ_EVENTS_NOW;

    crisk_events *ev = parse(data, size, NULL, &opts);
    crisk_events_free(ev);

    opts.keys = keys;
    ev = parse(data, size, batch, &opts);
    if (ev)
        build_features(batch, ev);
    crisk_events_free(ev);

    /* No tolerance, then the widest: a time at the bound is accepted, then refused. */
    opts.future_seconds = 0;
    crisk_events_free(parse(data, size, NULL, &opts));
    opts.future_seconds = 86400;
    crisk_events_free(parse(data, size, NULL, &opts));

    opts.require_hmac = 1;
    ev = parse(data, size, NULL, &opts);
    char path[] = "/tmp/crisk-fuzz-events-XXXXXX";
    fuzz_write_temp(data, size, path);
    crisk_events *from_file = NULL;
    int rc = crisk_events_load(fuzz_example_schema(), NULL, path, &opts, &from_file, &err);
    unlink(path);
    if (rc)
        fuzz_check_failure(rc, &err);
    /* The file reader and the memory reader see the same lines. */
    if (!ev != !from_file ||
        (ev && (crisk_events_num_read(ev) != crisk_events_num_read(from_file) ||
                crisk_events_num_accepted(ev) != crisk_events_num_accepted(from_file) ||
                crisk_events_num_kept(ev) != crisk_events_num_kept(from_file))))
        abort();
    if (ev)
        build_features(batch, ev);
    crisk_events_free(from_file);
    crisk_events_free(ev);
    return 0;
}
