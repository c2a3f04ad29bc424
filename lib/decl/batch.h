/*
 * decl/batch.h — a declaration's field value as text (batch.c). Internal to the
 * library.
 */
#ifndef CRISK_DECL_BATCH_H
#define CRISK_DECL_BATCH_H

#include "crisk.h"

/* Writes the value of field `field` of row `row` as text to `buf` of `size` bytes
 * (NUL-terminated, cut to fit): text and HS codes as stored, numbers as "%.15g" (the
 * shortest form of ordinary decimal inputs), dates as YYYY-MM-DD. Returns the length of
 * the full text, or 0 (and writes "") when the value is missing. */
size_t crisk__batch_value_text(const crisk_batch *batch, size_t row, size_t field, char *buf,
                               size_t size);

#endif /* CRISK_DECL_BATCH_H */
