/*
 * decl/fitted_read.h — reading the fitted section of a schema file (fitted_read.c).
 * Internal to the library.
 */
#ifndef CRISK_DECL_FITTED_READ_H
#define CRISK_DECL_FITTED_READ_H

#include "common/jsonpull.h"
#include "crisk.h"

/* Reads the "fitted" value, the `len` bytes of JSON at `text` (checked by
 * crisk__json_check_text, whose container `index` may be given, or printed by cJSON), into
 * s->fit, naming the JSON path of any error (decl/fitted_read.c). */
int crisk__fitted_from_text(crisk_schema *s, const char *text, size_t len,
                            const crisk__jindex *index, crisk_error *err);

#endif /* CRISK_DECL_FITTED_READ_H */
