/*
 * decl/reader.h — streaming readers of declarations: CSV (through csv.h) and JSON Lines
 * (through cJSON), filling a crisk_batch a bounded number of rows at a time. Internal to
 * the library (used by the `crisk score`, `fit` and `evaluate` commands).
 *
 * Memory does not depend on the size of the input: the reader keeps one record (at most
 * max_line_bytes) and the caller's batch. Every row read is either appended to the batch
 * or handed to the caller's reject callback with its line number, the reason and the raw
 * text (cut to max_raw_bytes): rows read = rows added + rows rejected, always.
 *
 * CSV: the first record is a header of column names matched to schema fields by name;
 * unknown columns are ignored; a repeated column name is an error; a schema field with no
 * column is an error at the header when the field is required, else every row has it
 * missing. A row with a different number of fields than the header is rejected. Empty
 * lines are skipped and not counted. A malformed or over-long record is rejected and
 * reading resumes at the next line break (so a record broken inside a quoted field may
 * yield further rejects for its remaining lines, each counted).
 *
 * JSON Lines: one JSON object per line (LF or CRLF; a UTF-8 byte order mark at the start
 * is skipped; blank lines are skipped and not counted). Keys are matched to schema fields
 * by name, unknown keys ignored; values are strings, numbers (written back with %.17g, so
 * the same double is parsed again) or null (missing). A nested value, a boolean, a
 * repeated key, a line that is not one JSON object, or an over-long line is rejected.
 *
 * In both formats a record holding invalid UTF-8 is rejected, naming the byte offset.
 *
 * Extra columns (e.g. a label or a revenue column, which are not schema fields) may be
 * requested: their numeric values are stored per appended row for the caller; a missing
 * or non-numeric value of a required extra, or a value other than 0 or 1 of a binary one,
 * rejects the row.
 */
#ifndef CRISK_DECL_READER_H
#define CRISK_DECL_READER_H

#include "crisk.h"

#include <stdint.h>
#include <stdio.h>

/* The input formats. */
typedef enum crisk__decl_format {
    CRISK_DECL_CSV = 1,
    CRISK_DECL_JSONL
} crisk__decl_format;

/* A column that is not a schema field but that the caller wants per row, as a number. */
typedef struct crisk__decl_extra {
    const char *name;   /* the column (CSV) or key (JSONL) */
    int required;       /* a missing value rejects the row (else it is NaN) */
    int binary;         /* the value must be 0 or 1 */
} crisk__decl_extra;

/* How a reader reads. Initialise with crisk__decl_options_init(). */
typedef struct crisk__decl_options {
    size_t max_line_bytes;  /* longest record accepted; default 1 MiB */
    size_t max_raw_bytes;   /* raw text kept in a reject; default 256 */
    const crisk__decl_extra *extras;  /* extra columns (NULL: none) */
    size_t num_extras;
} crisk__decl_options;

/* A rejected row, as handed to the reject callback (valid during the call only). */
typedef struct crisk__decl_reject {
    uint64_t line;        /* 1-based line where the row starts */
    const char *reason;   /* NUL-terminated */
    const char *raw;      /* the row's text, cut to max_raw_bytes, invalid UTF-8 bytes
                             replaced by '?'; NUL-terminated. JSON Lines: the line as
                             read. CSV: the row's fields written back as one CSV record
                             (quoting normalised); empty for a record whose quoting or
                             length made it unreadable. */
    size_t raw_len;
    int truncated;        /* raw was cut */
} crisk__decl_reject;

/* Receives each reject; returns 0 to go on, or a negative crisk code that stops reading
 * (crisk__decl_read returns it). */
typedef int (*crisk__decl_reject_fn)(void *ctx, const crisk__decl_reject *reject);

typedef struct crisk__decl_reader crisk__decl_reader;

/* Fills `opts` with the defaults. */
void crisk__decl_options_init(crisk__decl_options *opts);

/* Returns the format a file name implies by its extension (".csv" or ".jsonl"/".ndjson",
 * any case), or 0 when it implies none. */
crisk__decl_format crisk__decl_format_of(const char *path);

/* Creates a reader of `format` over `f` (which stays the caller's) for declarations of
 * `schema` (which must outlive the reader). A CSV reader reads and maps the header now.
 * Returns 0, or CRISK_E_INVALID_ARGUMENT, CRISK_E_INPUT (a bad header: empty input, a
 * repeated column, a required field or extra with no column), CRISK_E_IO, CRISK_E_NOMEM,
 * with `err` naming the line and column. */
int crisk__decl_open(FILE *f, crisk__decl_format format, const crisk_schema *schema,
                    const crisk__decl_options *opts, crisk__decl_reader **out,
                    crisk_error *err);

/* Reads rows and appends them to `batch` (made for the reader's schema) until `max_rows`
 * were appended or the input ends; rejected rows go to `on_reject(ctx, ...)` (NULL: only
 * counted). When extras were requested, `extras` receives max_rows x num_extras doubles,
 * row-major, for the appended rows in order. Stores the number appended in `*added`: 0
 * means the end of the input. Returns 0, or a negative code on a fatal error (a read
 * error, no memory, the callback's code), after which the reader returns that error
 * again. */
int crisk__decl_read(crisk__decl_reader *reader, crisk_batch *batch, size_t max_rows,
                    double *extras, crisk__decl_reject_fn on_reject, void *ctx,
                    size_t *added, crisk_error *err);

/* Returns the rows read so far (appended + rejected), and stores the rejected count in
 * `*rejected` (which may be NULL). */
uint64_t crisk__decl_rows_read(const crisk__decl_reader *reader, uint64_t *rejected);

/* Frees a reader (not its FILE). NULL is a no-op. */
void crisk__decl_free(crisk__decl_reader *reader);

#endif /* CRISK_DECL_READER_H */
