/*
 * fuzz_csv.c — libFuzzer target: the streaming CSV reader over arbitrary bytes, with a
 * tiny chunk size so that records straddle many chunk boundaries.
 */
#include "fuzz_common.h"

#include "crisk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads every record of `data` as CSV. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        abort();
    crisk_csv_options opts;
    crisk_csv_options_init(&opts, CRISK_CSV_OPTIONS_VERSION);
    opts.chunk_bytes = 7;
    opts.max_record_bytes = 4096;
    crisk_csv_reader *reader = NULL;
    crisk_error err;
    if (crisk_csv_open(f, &opts, &reader, &err) != 0)
        abort();
    const char **fields;
    size_t nfields, total = 0;
    int rc;
    while ((rc = crisk_csv_next(reader, &fields, &nfields, &err)) == 1) {
        if (nfields == 0)
            abort();
        for (size_t i = 0; i < nfields; i++)
            total += strlen(fields[i]);
        if (total > 2 * size + 1)
            abort(); /* fields cannot hold more text than the input */
    }
    if (rc < 0)
        fuzz_check_failure(rc, &err);
    crisk_csv_free(reader);
    fclose(f);
    return 0;
}
