/*
 * decl/field_range.h — the valid range of a number or date field (docs/schema.md,
 * "Valid ranges"): reading it from a schema field, writing it back, and testing a value
 * against it. Internal to the library.
 */
#ifndef CRISK_DECL_FIELD_RANGE_H
#define CRISK_DECL_FIELD_RANGE_H

#include "decl/types.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Sets field `f`'s valid range from member "range" of its object `obj` (at `path`), or to
 * its type's default when absent: [0, +inf) for numbers, 1900-01-01 to 2099-12-31 for
 * dates. `f->type` must be set. A range on a string or hs_code field, a bound that is
 * not a number (a date for a date field) or null, or lo > hi is CRISK_E_FORMAT. */
int crisk__field_range_read(crisk__schema_field *f, const cJSON *obj, const char *path,
                            crisk_error *err);

/* Adds member "range" of field `f` (number and date fields) to `obj`. Returns 0, or
 * CRISK_E_NOMEM. */
int crisk__field_range_to_json(const crisk__schema_field *f, cJSON *obj);

/* Returns NULL when `value` (a number, or a date in days since 1970-01-01) lies in field
 * `f`'s valid range, else writes why to `buf` (`size` bytes, "is outside the valid range
 * [0, +inf)") and returns `buf`. */
const char *crisk__field_range_check(const crisk__schema_field *f, double value, char *buf,
                                     size_t size);

#endif /* CRISK_DECL_FIELD_RANGE_H */
