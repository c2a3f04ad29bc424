/*
 * common/csv_split.h — the CSV reader's fast path (csv.c): splitting a line without quotes
 * at its commas, eight bytes at a time in plain C, or 64 with AVX-512BW on x86-64 CPUs that
 * have it (chosen at run time). Internal to the library.
 */
#ifndef CRISK_COMMON_CSV_SPLIT_H
#define CRISK_COMMON_CSV_SPLIT_H

#include <stddef.h>

/* Splits the `len` bytes of line `p` at its commas into fields[k] (pointers into `p`) and
 * lengths[k], and sets *ascii to whether every byte is ASCII. Returns the number of
 * fields, or 0 (fields and *ascii unspecified) when the line holds a quote, a CR or a NUL,
 * or has more than `cap` fields: the byte-wise path reads those. */
typedef size_t (*crisk__csv_split_fn)(const unsigned char *p, size_t len, const char **fields,
                                      size_t *lengths, size_t cap, int *ascii);

/* The plain C splitter, for every CPU. */
size_t crisk__csv_split_swar(const unsigned char *p, size_t len, const char **fields,
                             size_t *lengths, size_t cap, int *ascii);

/* The AVX-512BW splitter (x86-64 only): call it only where crisk__csv_splitter returns
 * it. */
size_t crisk__csv_split_avx512(const unsigned char *p, size_t len, const char **fields,
                               size_t *lengths, size_t cap, int *ascii);

/* Returns the fastest splitter the running CPU has; both split every line alike. */
crisk__csv_split_fn crisk__csv_splitter(void);

#endif /* CRISK_COMMON_CSV_SPLIT_H */
