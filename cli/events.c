/*
 * events.c — the CLI's border sensor events (docs/events.md): `--events FILE` with
 * `--device-keys FILE`, `--require-hmac` and `--event-rejects FILE` on `crisk score`,
 * `crisk fit` and `crisk evaluate`. The stream is read again for each batch of
 * declarations, keeping only the events that batch can use, so memory follows the batch;
 * refused events (the same on every read) are reported once, after the first.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <time.h>

const char cli_event_usage[] =
    "event options (score, fit, evaluate, monitor, report; docs/events.md):\n"
    "  --events FILE       border sensor events (JSON Lines) joined to the\n"
    "                      declarations for the schema's event features; read again\n"
    "                      for each batch, keeping only that batch's keys and window\n"
    "  --device-keys FILE  (needed with --events) the devices whose events count:\n"
    "                      each with its HMAC key, or listed as \"unsigned\": true\n"
    "                      (crisk-device-keys JSON); an event of any other device is\n"
    "                      refused (unknown_device)\n"
    "  --require-hmac      refuse every event without a valid HMAC\n"
    "  --event-rejects FILE  refused events as CSV line,kind,reason (default:\n"
    "                      stderr); stderr gets 'events read: R, accepted: A,\n"
    "                      rejected: J; accepted unsigned: U' (R = A + J)\n"
    "  events later than the start of the run plus 300 s are refused (future_time)\n"
    "progress: on a terminal, stderr shows rows done, rows per second and the time\n"
    "  left (when the input is a file); never in a pipe or a log file.\n"
    "  --quiet             no progress line\n";

/* Kind names for the event rejects file, by crisk_event_reject. */
static const char *const kind_names[] = {
    "", "malformed", "unknown_key", "unknown_type", "bad_time", "bad_payload",
    "missing_hmac", "unverifiable", "bad_hmac", "duplicate_id", "out_of_order",
    "unknown_device", "future_time"};

/* Loads the device keys of `ev` when a key file was given. Returns 0, or
 * CLI_EXIT_FAILURE after reporting. */
int cli_events_open(cli_events *ev)
{
    ev->keys = NULL;
    ev->current = NULL;
    ev->reported = 0;
    ev->now = (int64_t)time(NULL); /* one reference time, so every batch's read agrees */
    if (!ev->path && (ev->keys_path || ev->rejects_path || ev->require_hmac)) {
        fprintf(stderr, "crisk: --device-keys, --require-hmac and --event-rejects need "
                        "--events\n");
        return CLI_EXIT_USAGE;
    }
    if (ev->path && !ev->keys_path) {
        fprintf(stderr, "crisk: --events needs --device-keys: only the devices it lists "
                        "(with a key, or as \"unsigned\": true) are evidence\n");
        return CLI_EXIT_USAGE;
    }
    crisk_error err;
    if (ev->keys_path && crisk_device_keys_load(ev->keys_path, &ev->keys, &err) != 0) {
        cli_report(ev->keys_path, err.message);
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

/* Writes the refused events of `e` to the rejects file (CSV line,kind,reason) or, with
 * none given, to stderr, and the counts to stderr. Returns 0 or CRISK_E_IO. */
static int report(const cli_events *ev, const crisk_events *e, crisk_error *err)
{
    FILE *f = NULL;
    if (ev->rejects_path && !(f = fopen(ev->rejects_path, "w")))
        return crisk_error_set(err, CRISK_E_IO, "%s: %s", ev->rejects_path,
                               strerror(errno));
    if (f)
        fputs("line,kind,reason\n", f);
    for (size_t i = 0; i < crisk_events_num_rejects(e); i++) {
        uint64_t line = 0;
        const char *reason = "";
        crisk_event_reject kind = crisk_events_reject(e, i, &line, &reason);
        if (f) {
            fprintf(f, "%llu,%s,", (unsigned long long)line, kind_names[kind]);
            cli_write_csv_text(f, reason, strlen(reason));
            fputc('\n', f);
        } else {
            fprintf(stderr, "crisk: %s line %llu refused (%s): %s\n", ev->path,
                    (unsigned long long)line, kind_names[kind], reason);
        }
    }
    fprintf(stderr, "events read: %llu, accepted: %llu, rejected: %zu; accepted unsigned: "
            "%llu\n", (unsigned long long)crisk_events_num_read(e),
            (unsigned long long)crisk_events_num_accepted(e), crisk_events_num_rejects(e),
            (unsigned long long)crisk_events_num_unverified(e));
    if (f && cli_finish_output(f, ev->rejects_path) != 0)
        return crisk_error_set(err, CRISK_E_IO, "%s: write failed", ev->rejects_path);
    return 0;
}

/* Reads the events `batch` (of `schema`) can use and joins them to it, replacing the
 * previous batch's. Returns 0 (also without --events), or a negative crisk code with `err` filled. */
int cli_events_attach(cli_events *ev, const crisk_schema *schema, crisk_batch *batch,
                      crisk_error *err)
{
    if (!ev->path)
        return 0;
    crisk_events_free(ev->current);
    ev->current = NULL;
    crisk_events_options opts;
    crisk_events_options_init(&opts, CRISK_EVENTS_OPTIONS_VERSION);
    opts.keys = ev->keys;
    opts.require_hmac = ev->require_hmac;
    opts.now = ev->now;
    int rc = crisk_events_load(schema, batch, ev->path, &opts,
                               &ev->current, err);
    if (rc == 0 && !ev->reported) {
        ev->reported = 1;
        rc = report(ev, ev->current, err);
    }
    return rc ? rc : crisk_batch_set_events(batch, ev->current, err);
}

/* Frees what `ev` holds. */
void cli_events_close(cli_events *ev)
{
    crisk_events_free(ev->current);
    crisk_device_keys_free(ev->keys);
    ev->current = NULL;
    ev->keys = NULL;
}
