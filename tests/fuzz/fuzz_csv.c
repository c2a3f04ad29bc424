/*
 * fuzz_csv.c — libFuzzer target: the streaming CSV reader over arbitrary bytes, with a
 * tiny chunk size so that records straddle many chunk boundaries; read as RFC 4180
 * records, then as single-line records with resync (the declaration reader's way).
 */
#include "fuzz_common.h"

#include "crisk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads every record of `data` (`size` > 0 bytes); with `single_line`, also through its
 * malformed lines, checking that each record lies on one line after the last. */
static void read_all(const uint8_t *data, size_t size, int single_line)
{
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        abort();
    crisk_csv_options opts;
    crisk_csv_options_init(&opts, CRISK_CSV_OPTIONS_VERSION);
    opts.chunk_bytes = 7;
    opts.max_record_bytes = 4096;
    opts.single_line = opts.resync = single_line;
    crisk_csv_reader *reader = NULL;
    crisk_error err;
    if (crisk_csv_open(f, &opts, &reader, &err) != 0)
        abort();
    const char **fields;
    size_t nfields, total = 0, last_line = 0;
    int rc;
    while ((rc = crisk_csv_next(reader, &fields, &nfields, &err)) != 0) {
        if (rc < 0) {
            fuzz_check_failure(rc, &err);
            if (!single_line || (rc != CRISK_E_FORMAT && rc != CRISK_E_LIMIT))
                break;
            continue;
        }
        if (nfields == 0 || crisk_csv_line(reader) <= last_line)
            abort();
        last_line = crisk_csv_line(reader);
        for (size_t i = 0; i < nfields; i++) {
            total += strlen(fields[i]);
            if (single_line && strpbrk(fields[i], "\r\n"))
                abort(); /* a single-line record holds no line break */
        }
        if (total > 2 * size + 1)
            abort(); /* fields cannot hold more text than the input */
    }
    crisk_csv_free(reader);
    fclose(f);
}

/* Reads `data` both ways. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    read_all(data, size, 0);
    read_all(data, size, 1);
    return 0;
}
