/*
 * common/csv.h — a streaming RFC 4180 reader. Internal to the library (used by the `crisk`
 * command and by declaration readers); not part of the public API.
 *
 * The reader pulls its input from a FILE* in fixed-size chunks and keeps only the record
 * being read, so its memory does not depend on the size of the file. It understands:
 *   - fields separated by commas, records ended by LF or CRLF (and by the end of the file);
 *   - quoted fields, holding commas, line breaks and doubled quotes ("" is one quote);
 *   - a UTF-8 byte order mark at the very start of the input, which is skipped.
 * An empty line (no characters at all) is not a record and is skipped. A quote inside an
 * unquoted field is kept as an ordinary character, as Python's csv module does. A NUL
 * byte, text after a closing quote, and a quoted field still open at the end of the file
 * are errors, each naming the line.
 */
#ifndef CRISK_CSV_H
#define CRISK_CSV_H

#include "crisk.h"

#include <stdio.h>

/* How a reader reads. Initialise with crisk__csv_options_init(). */
typedef struct crisk__csv_options {
    size_t chunk_bytes;       /* bytes asked of fread() at a time; default 64 KiB */
    size_t max_record_bytes;  /* longest record accepted, counting one terminator byte per
                                 field; default 1 MiB. A longer one fails with
                                 CRISK_E_LIMIT. It also bounds the number of fields. */
    int resync;               /* 0 (default): an error is final. 1: a CRISK_E_FORMAT or
                                 CRISK_E_LIMIT error is returned once, the rest of its
                                 line is skipped, and reading goes on at the next line
                                 (for readers that reject bad records and continue). */
} crisk__csv_options;

typedef struct crisk__csv_reader crisk__csv_reader;

/* Fills `opts` with the defaults. */
void crisk__csv_options_init(crisk__csv_options *opts);

/* Creates a reader over `f` (which stays the caller's: it is neither closed nor
 * rewound) and stores it in `*out` (NULL on failure). `opts` NULL means the defaults.
 * Returns 0, CRISK_E_INVALID_ARGUMENT (NULL `f` or `out`, a zero size) or
 * CRISK_E_NOMEM. */
int crisk__csv_open(FILE *f, const crisk__csv_options *opts, crisk__csv_reader **out,
                   crisk_error *err);

/* Reads the next record. On success stores in `*fields` an array of `*nfields` (at least
 * 1) NUL-terminated field strings, unquoted, valid until the next call on this reader,
 * and returns 1. Returns 0 at the end of the input, or a negative code: CRISK_E_FORMAT
 * (malformed quoting, a NUL byte), CRISK_E_LIMIT (a record over max_record_bytes),
 * CRISK_E_IO (a read error), CRISK_E_NOMEM; the message names the line. After an error
 * the reader only returns that error again, unless opts.resync recovers from it. */
int crisk__csv_next(crisk__csv_reader *reader, const char ***fields, size_t *nfields,
                   crisk_error *err);

/* Returns the 1-based line number where the record last returned by crisk__csv_next()
 * starts (line breaks inside quoted fields count), or 0 before the first record. */
size_t crisk__csv_line(const crisk__csv_reader *reader);

/* Returns the lengths of the fields of the record last returned by crisk__csv_next()
 * (bytes before each field's terminating NUL), valid until the next call on this
 * reader, or NULL before the first record. */
const size_t *crisk__csv_lengths(const crisk__csv_reader *reader);

/* Frees a reader (not its FILE). NULL is a no-op. */
void crisk__csv_free(crisk__csv_reader *reader);

#endif /* CRISK_CSV_H */
