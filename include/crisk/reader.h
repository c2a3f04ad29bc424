/*
 * crisk/reader.h — streaming readers: RFC 4180 CSV records, and declarations (CSV or JSON
 * Lines) into a crisk_batch a bounded number of rows at a time. Part of the public API;
 * include <crisk.h>.
 *
 * A reader belongs to one thread at a time; different readers may be used by different
 * threads at once.
 */
#ifndef INCLUDE_crisk_reader_h
#define INCLUDE_crisk_reader_h

#include "crisk/schema.h"

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Numbers given as text.
 *
 * One grammar for every number crisk reads from text (declaration fields, extra columns,
 * `crisk predict` cells): [+-](digits[.[digits]] | .digits)[(e|E)[+-]digits], at most
 * 511 bytes, converted to the correctly rounded double whatever the process locale. No
 * spaces, no thousands separators, no hex, no inf or nan (docs/schema.md, "Numbers").
 */

/* Converts the `len` bytes at `text` (no NUL needed) to `*out`. Returns 0, or
 * CRISK_E_INPUT (not a number by the grammar, or beyond the range of a double; `err`
 * quotes the text) or CRISK_E_INVALID_ARGUMENT (NULL `text` or `out`). Thread-safe. */
CRISK_API int crisk_number_parse(const char *text, size_t len, double *out, crisk_error *err);

/* CSV records.
 *
 * The reader pulls its input from a FILE* in fixed-size chunks and keeps only the record
 * being read, so its memory does not depend on the size of the file. It understands:
 *   - fields separated by commas, records ended by LF, CRLF or a lone CR (and by the end
 *     of the file); lines are counted by the same rule;
 *   - quoted fields, holding commas, doubled quotes ("" is one quote) and, unless
 *     opts.single_line, line breaks;
 *   - a UTF-8 byte order mark at the very start of the input, which is skipped.
 * An empty line (no characters at all) is not a record and is skipped. A quote inside an
 * unquoted field is kept as an ordinary character, as Python's csv module does. A NUL
 * byte, text after a closing quote, and a quoted field still open at the end of the file
 * are errors, each naming the line.
 */

/* The layout of crisk_csv_options this header declares (see crisk_load_options). Version
 * 1 lacks single_line (as 0); crisk_csv_options_init and crisk_csv_open take both. */
#define CRISK_CSV_OPTIONS_VERSION 2

/* How a reader reads. Initialise with crisk_csv_options_init(). */
typedef struct crisk_csv_options {
    unsigned int version;     /* CRISK_CSV_OPTIONS_VERSION: the layout; set by _init() */
    size_t chunk_bytes;       /* bytes asked of fread() at a time; default 64 KiB */
    size_t max_record_bytes;  /* longest record accepted, counting one terminator byte per
                                 field; default 1 MiB. A longer one fails with
                                 CRISK_E_LIMIT. It also bounds the number of fields. */
    int resync;               /* 0 (default): an error is final. 1: a CRISK_E_FORMAT or
                                 CRISK_E_LIMIT error is returned once, the rest of its
                                 line is skipped, and reading goes on at the next line
                                 (for readers that reject bad records and continue). */
    int single_line;          /* 0 (default): a quoted field may hold line breaks. 1: every
                                 record is one line: a line break inside quotes is a
                                 CRISK_E_FORMAT error naming the line, after which resync
                                 goes on at the next line (a stray quote then costs one
                                 line, never the lines after it). Since version 2. */
} crisk_csv_options;

typedef struct crisk_csv_reader crisk_csv_reader;

/* Fills `opts` with the defaults above for `version`, which must be 1 or
 * CRISK_CSV_OPTIONS_VERSION, and writes no field that version lacks. Returns 0, or
 * CRISK_E_INVALID_ARGUMENT (NULL, or a version this crisk does not know). Thread-safe. */
CRISK_API int crisk_csv_options_init(crisk_csv_options *opts, unsigned int version);

/* Creates a reader over `f` (which stays the caller's: it is neither closed nor
 * rewound) and stores it in `*out` (NULL on failure). `opts` NULL means the defaults.
 * Returns 0, CRISK_E_INVALID_ARGUMENT (NULL `f` or `out`, a zero size, an unknown
 * opts->version) or CRISK_E_NOMEM. */
CRISK_API int crisk_csv_open(FILE *f, const crisk_csv_options *opts, crisk_csv_reader **out,
                             crisk_error *err);

/* Reads the next record. On success stores in `*fields` an array of `*nfields` (at least
 * 1) NUL-terminated field strings, unquoted, valid until the next call on this reader,
 * and returns 1. Returns 0 at the end of the input, or a negative code: CRISK_E_FORMAT
 * (malformed quoting, a NUL byte), CRISK_E_LIMIT (a record over max_record_bytes),
 * CRISK_E_IO (a read error), CRISK_E_NOMEM; the message names the line. After an error
 * the reader only returns that error again, unless opts.resync recovers from it. */
CRISK_API int crisk_csv_next(crisk_csv_reader *reader, const char ***fields, size_t *nfields,
                             crisk_error *err);

/* Returns the 1-based line number where the record last returned by crisk_csv_next()
 * starts (line breaks inside quoted fields count), or 0 before the first record. */
CRISK_API size_t crisk_csv_line(const crisk_csv_reader *reader);

/* Returns the lengths of the fields of the record last returned by crisk_csv_next()
 * (bytes before each field's terminating NUL), valid until the next call on this
 * reader, or NULL before the first record. */
CRISK_API const size_t *crisk_csv_lengths(const crisk_csv_reader *reader);

/* Frees a reader (not its FILE). NULL is a no-op. */
CRISK_API void crisk_csv_free(crisk_csv_reader *reader);

/* Declarations.
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
 * lines are skipped and not counted.
 *
 * In both formats a row is one physical line (ended by LF, CRLF or a lone CR): no field
 * holds a line break. So every line but empty ones (JSON Lines: blank ones) is a row,
 * appended or rejected with its own line number, and a malformed line (a quote left
 * open, text after a closing quote, more than max_line_bytes) costs that line only:
 * reading resumes at the next.
 *
 * JSON Lines: one JSON object per line (a UTF-8 byte order mark at the start is skipped;
 * blank lines are skipped and not counted). Keys are matched to schema fields by name,
 * unknown keys ignored; values are strings (with every byte they hold: an escaped NUL is
 * refused), numbers (their literal text, as written: a 20-digit id keeps its digits) or
 * null (missing). A nested value, a boolean, a repeated key, a line that is not one JSON
 * object, or an over-long line is rejected.
 *
 * In both formats a record holding invalid UTF-8 is rejected, naming the byte offset.
 *
 * Extra columns (e.g. a label or a revenue column, which are not schema fields) may be
 * requested: their numeric values are stored per appended row for the caller; a missing
 * or non-numeric value of a required extra, or a value other than 0 or 1 of a binary one,
 * rejects the row.
 */

/* The input formats. */
typedef enum crisk_decl_format {
    CRISK_DECL_CSV = 1,
    CRISK_DECL_JSONL
} crisk_decl_format;

/* A column that is not a schema field but that the caller wants per row, as a number. */
typedef struct crisk_decl_extra {
    const char *name;   /* the column (CSV) or key (JSONL) */
    int required;       /* a missing value rejects the row (else it is NaN) */
    int binary;         /* the value must be 0 or 1 */
} crisk_decl_extra;

/* The layout of crisk_decl_options this header declares (see crisk_load_options). */
#define CRISK_DECL_OPTIONS_VERSION 1

/* How a reader reads. Initialise with crisk_decl_options_init(). */
typedef struct crisk_decl_options {
    unsigned int version;   /* CRISK_DECL_OPTIONS_VERSION: the layout; set by _init() */
    size_t max_line_bytes;  /* longest record accepted; default 1 MiB */
    size_t max_raw_bytes;   /* raw text kept in a reject; default 256 */
    const crisk_decl_extra *extras;  /* extra columns (NULL: none) */
    size_t num_extras;
} crisk_decl_options;

/* A rejected row, as handed to the reject callback (valid during the call only). */
typedef struct crisk_decl_reject {
    uint64_t line;        /* 1-based line where the row starts */
    const char *reason;   /* NUL-terminated */
    const char *raw;      /* the row's text, cut to max_raw_bytes, invalid UTF-8 bytes
                             and NUL bytes replaced by '?'; NUL-terminated. JSON Lines: the line as
                             read. CSV: the row's fields written back as one CSV record
                             (quoting normalised); for a record whose quoting or
                             length made it unreadable, the bytes of its line(s) as read.
                             Personal fields protected after crisk_decl_set_protect (an
                             unreadable record's text then withheld, the reason says so). */
    size_t raw_len;
    int truncated;        /* raw was cut */
} crisk_decl_reject;

/* Receives each reject; returns 0 to go on, or a negative crisk code that stops reading
 * (crisk_decl_read returns it). */
typedef int (*crisk_decl_reject_fn)(void *ctx, const crisk_decl_reject *reject);

typedef struct crisk_decl_reader crisk_decl_reader;

/* Fills `opts` with the defaults above for `version`, which must be
 * CRISK_DECL_OPTIONS_VERSION, and writes no field that version lacks. Returns 0, or
 * CRISK_E_INVALID_ARGUMENT (NULL, or a version this crisk does not know). Thread-safe. */
CRISK_API int crisk_decl_options_init(crisk_decl_options *opts, unsigned int version);

/* Returns the format a file name implies by its extension (".csv" or ".jsonl"/".ndjson",
 * any case), or 0 when it implies none (or `path` is NULL). Thread-safe. */
CRISK_API crisk_decl_format crisk_decl_format_of(const char *path);

/* Creates a reader of `format` over `f` (which stays the caller's) for declarations of
 * `schema` (which must outlive the reader). A CSV reader reads and maps the header now.
 * Returns 0, or CRISK_E_INVALID_ARGUMENT, CRISK_E_INPUT (a bad header: empty input, a
 * repeated column, a required field or extra with no column), CRISK_E_IO, CRISK_E_NOMEM,
 * with `err` naming the line and column. */
CRISK_API int crisk_decl_open(FILE *f, crisk_decl_format format, const crisk_schema *schema,
                              const crisk_decl_options *opts, crisk_decl_reader **out,
                              crisk_error *err);

/* Reads rows and appends them to `batch` (made for the reader's schema) until `max_rows`
 * were appended or the input ends; rejected rows go to `on_reject(ctx, ...)` (NULL: only
 * counted). When extras were requested, `extras` receives max_rows x num_extras doubles,
 * row-major, for the appended rows in order. Stores the number appended in `*added`: 0
 * means the end of the input. Returns 0, or a negative code on a fatal error (a read
 * error, no memory, the callback's code), after which the reader returns that error
 * again. */
CRISK_API int crisk_decl_read(crisk_decl_reader *reader, crisk_batch *batch, size_t max_rows,
                              double *extras, crisk_decl_reject_fn on_reject, void *ctx,
                              size_t *added, crisk_error *err);

/* Protection of personal data in rejects. Writes what stands for the `len` bytes at
 * `value`, the value of a personal field (crisk_schema_field_personal), to `out`
 * (CRISK_DECL_PROTECTED_BYTES bytes, NUL-terminated; e.g. crisk_protect_id's keyed hash)
 * and returns 0, or returns nonzero to leave the value out. */
#define CRISK_DECL_PROTECTED_BYTES 128
typedef int (*crisk_decl_protect_fn)(void *ctx, const char *value, size_t len, char *out);

/* Makes every later reject's raw text protect the schema's personal fields with
 * `protect` (NULL: raw text as read, the default): the row is rendered again with each
 * personal field's value replaced by what `protect` writes (a CSV record in the input's
 * column order; a JSON object with the line's keys), or left out (an empty CSV field, a
 * JSON null). A row that cannot be split into fields (a malformed record, a CSV row with
 * another number of fields than the header, a line that is not a JSON object) gets no
 * raw text, and its reason says that the raw text was withheld. Returns 0, or
 * CRISK_E_INVALID_ARGUMENT for a NULL reader. One thread at a time per reader. */
CRISK_API int crisk_decl_set_protect(crisk_decl_reader *reader, crisk_decl_protect_fn protect,
                                     void *ctx, crisk_error *err);

/* Returns the rows read so far (appended + rejected), and stores the rejected count in
 * `*rejected` (which may be NULL). */
CRISK_API uint64_t crisk_decl_rows_read(const crisk_decl_reader *reader, uint64_t *rejected);

/* Frees a reader (not its FILE). NULL is a no-op. */
CRISK_API void crisk_decl_free(crisk_decl_reader *reader);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_reader_h */
