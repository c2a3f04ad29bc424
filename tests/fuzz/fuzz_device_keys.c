/*
 * fuzz_device_keys.c — libFuzzer target: arbitrary bytes as a device key file
 * (crisk_device_keys_load, through a temporary file: the public API reads keys only from
 * a path); keys that load then verify the HMACs of the first example events, whose
 * devices they may list with a key, as unsigned, or not at all.
 */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Example events verified with the fuzzed keys: enough to meet several devices. */
#define EVENT_LINES 64

/* Returns the first EVENT_LINES lines of models/example/events.jsonl, their length in
 * `*len`. */
static const char *example_events(size_t *len)
{
    const char *text = fuzz_example_file("events.jsonl", NULL), *end = text;
    for (int i = 0; i < EVENT_LINES; i++) {
        if (!(end = strchr(end, '\n')))
            abort();
        end++;
    }
    *len = (size_t)(end - text);
    return text;
}

/* Loads `data` as device keys and reads example events with them. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/crisk-fuzz-keys-XXXXXX";
    fuzz_write_temp(data, size, path);
    crisk_device_keys *keys = NULL;
    crisk_error err;
    int rc = crisk_device_keys_load(path, &keys, &err);
    unlink(path);
    if (rc) {
        fuzz_check_failure(rc, &err);
        if (keys)
            abort(); /* a failed load must leave no keys behind */
        return 0;
    }
    crisk_events_options opts;
    crisk_events_options_init(&opts, CRISK_EVENTS_OPTIONS_VERSION);
    opts.keys = keys;
    opts.now = FUZZ_EVENTS_NOW;
    size_t len;
    const char *events = example_events(&len);
    crisk_events *ev = NULL;
    for (int require = 0; require < 2; require++) {
        opts.require_hmac = require;
        rc = crisk_events_parse(fuzz_example_schema(), NULL, events, len, &opts, &ev, &err);
        if (rc)
            fuzz_check_failure(rc, &err);
        else if (crisk_events_num_read(ev) != EVENT_LINES ||
                 crisk_events_num_unverified(ev) > crisk_events_num_accepted(ev) ||
                 (require && crisk_events_num_unverified(ev)))
            abort();
        crisk_events_free(ev);
    }
    crisk_device_keys_free(keys);
    return 0;
}
