/*
 * decl/declarations.h — what the declaration layers share inside the library beyond
 * crisk/schema.h: required and date fields, feature sources, value text and a schema's
 * fitted bands, for the risk profiles,
 * the lanes and the bundle. Internal to the library.
 *
 * Owners: schema.c, batch.c, features.c, fitted.c implement these; profiles.c, lanes.c,
 * bundle.c and reasons.c use them.
 */
#ifndef CRISK_DECLARATIONS_H
#define CRISK_DECLARATIONS_H

#include "crisk.h"

#include <stddef.h>

/* Returns 1 when field `field` of `schema` is required (a declaration missing it is
 * rejected), else 0. Readers use it to refuse, at the header, an input that has no column
 * for a required field. */
int crisk__schema_field_required(const crisk_schema *schema, size_t field);

/* Returns the index of the field the schema names as the declaration date, or -1. */
long crisk__schema_date_field(const crisk_schema *schema);

/* The most declaration fields one feature is derived from (a risk feature's key parts). */
#define CRISK_FEATURE_MAX_FIELDS 8

/* Stores in `fields` (room for CRISK_FEATURE_MAX_FIELDS) the distinct declaration fields
 * feature `feature` of `schema` is derived from, in schema order of mention (a ratio:
 * numerator, then denominator; a risk feature: its key parts, an HS prefix part naming
 * the HS code field), and returns how many (at least 1); 0 when `feature` is out of
 * range. Reason codes (reasons.c) group contributions onto fields with it. */
size_t crisk__schema_feature_fields(const crisk_schema *schema, size_t feature,
                                   size_t *fields);

/* Writes the value of field `field` of row `row` as text to `buf` of `size` bytes
 * (NUL-terminated, cut to fit): text and HS codes as stored, numbers as "%.15g" (the
 * shortest form of ordinary decimal inputs), dates as YYYY-MM-DD. Returns the length of
 * the full text, or 0 (and writes "") when the value is missing. */
size_t crisk__batch_value_text(const crisk_batch *batch, size_t row, size_t field, char *buf,
                              size_t size);

/* Returns the index of the fitted band called `name` (docs/schema.md, "Bands"), or -1. */
long crisk__schema_band_index(const crisk_schema *schema, const char *name);

/* Places row `row` of `batch` against band `band`, whose value is a feature of the
 * schema, given the row's feature values `features` (crisk_schema_num_features floats).
 * Returns -1 below the band's low bound, +1 above its high bound, 0 inside, and 2 when the
 * row's value is missing or the band has no data for the row's key. */
int crisk__schema_band_position(const crisk_schema *schema, size_t band,
                               const crisk_batch *batch, size_t row, const float *features);

#endif /* CRISK_DECLARATIONS_H */
