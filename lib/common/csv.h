/*
 * common/csv.h — what the library reads of the CSV reader (csv.c, public in crisk/reader.h)
 * beyond its public calls: the bytes of a line it could not read, whether a record was all
 * ASCII. Internal to the library.
 */
#ifndef CRISK_COMMON_CSV_H
#define CRISK_COMMON_CSV_H

#include "crisk.h"

/* Most bytes kept of a failed line (enough for any reject's raw text by default). */
#define CRISK__CSV_RAW_BYTES 4096

/* After crisk_csv_next failed with CRISK_E_FORMAT or CRISK_E_LIMIT on a reader with
 * resync: returns the bytes of the lines the failed record took, as read (its line break
 * left out; at most CRISK__CSV_RAW_BYTES, `*cut` set when there were more), their number
 * in `*len`. Valid until the next call on the reader. */
const char *crisk__csv_failed_raw(const crisk_csv_reader *reader, size_t *len, int *cut);

/* Returns 1 when every byte of the record crisk_csv_next last returned is ASCII (so
 * valid UTF-8), as seen while splitting it; 0 when not, or not known. */
int crisk__csv_ascii(const crisk_csv_reader *reader);

#endif /* CRISK_COMMON_CSV_H */
