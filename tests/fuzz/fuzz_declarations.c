/*
 * fuzz_declarations.c — libFuzzer target: the declaration readers (crisk_decl_open,
 * crisk_decl_read) over arbitrary bytes, read as CSV and as JSON Lines for the example
 * schema with an extra "fraud" column: every physical line is at most one row, appended
 * or rejected, rejects come in line order, and rows read = appended + rejected.
 */
#include "fuzz_common.h"

#include "crisk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RAW 64

/* What the reject callback checks across one reading. */
typedef struct seen {
    uint64_t last_line, lines;
} seen;

/* Returns the number of physical lines of `data`: LF, CRLF and a lone CR end one, and
 * text after the last line break is one more. */
static uint64_t count_lines(const uint8_t *data, size_t size)
{
    uint64_t n = 0;
    for (size_t i = 0; i < size; i++)
        if (data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')))
            n++;
    return n + (data[size - 1] != '\n' && data[size - 1] != '\r');
}

/* A crisk_decl_reject_fn: each reject on a line of the input, after the previous one,
 * with its raw text as long as it says and within max_raw_bytes. */
static int check_reject(void *ctx, const crisk_decl_reject *rej)
{
    seen *s = ctx;
    if (rej->line <= s->last_line || rej->line > s->lines || !rej->reason[0]
        || strlen(rej->raw) != rej->raw_len || rej->raw_len > MAX_RAW)
        abort();
    s->last_line = rej->line;
    return 0;
}

/* Reads all of `data` as `format`. */
static void read_as(crisk_decl_format format, const uint8_t *data, size_t size)
{
    static const crisk_decl_extra extra[] = {{"fraud", 0, 1}};
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        abort();
    crisk_decl_options opts;
    crisk_decl_options_init(&opts, CRISK_DECL_OPTIONS_VERSION);
    opts.max_line_bytes = 4096;
    opts.max_raw_bytes = MAX_RAW;
    opts.extras = extra;
    opts.num_extras = 1;
    const crisk_schema *schema = fuzz_example_schema();
    crisk_decl_reader *reader = NULL;
    crisk_batch *batch = NULL;
    crisk_error err;
    int rc = crisk_decl_open(f, format, schema, &opts, &reader, &err);
    if (rc == 0 && crisk_batch_new(schema, &batch, &err) != 0)
        abort();
    seen s = {0, count_lines(data, size)};
    uint64_t appended = 0;
    size_t added = 1;
    double extras[64];
    while (rc == 0 && added > 0) {
        crisk_batch_clear(batch);
        rc = crisk_decl_read(reader, batch, 64, extras, check_reject, &s, &added, &err);
        for (size_t i = 0; rc == 0 && i < added; i++)
            if (crisk_batch_source_line(batch, i) > s.lines)
                abort();
        appended += added;
    }
    if (rc)
        fuzz_check_failure(rc, &err);
    uint64_t rejected, read = crisk_decl_rows_read(reader, &rejected);
    if (read != appended + rejected || read > s.lines)
        abort();
    crisk_batch_free(batch);
    crisk_decl_free(reader);
    fclose(f);
}

/* Reads `data` as both formats. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    read_as(CRISK_DECL_CSV, data, size);
    read_as(CRISK_DECL_JSONL, data, size);
    return 0;
}
