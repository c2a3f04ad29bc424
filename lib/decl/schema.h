/*
 * decl/schema.h — what a schema tells beyond crisk/schema.h: required and date
 * fields, feature sources, bands (schema.c). Internal to the library.
 */
#ifndef CRISK_DECL_SCHEMA_H
#define CRISK_DECL_SCHEMA_H

#include "crisk.h"

/* Returns 1 when field `field` of `schema` is required (a declaration missing it is
 * rejected), else 0. Readers use it to refuse, at the header, an input that has no column
 * for a required field. */
int crisk__schema_field_required(const crisk_schema *schema, size_t field);

/* Returns the index of the field the schema names as the declaration date, or -1. */
long crisk__schema_date_field(const crisk_schema *schema);

/* The most declaration fields one feature is derived from (a risk feature's key parts). */
#define CRISK__FEATURE_MAX_FIELDS 8

/* Stores in `fields` (room for CRISK__FEATURE_MAX_FIELDS) the distinct declaration fields
 * feature `feature` of `schema` is derived from, in schema order of mention (a ratio:
 * numerator, then denominator; a risk feature: its key parts, an HS prefix part naming
 * the HS code field), and returns how many (at least 1); 0 when `feature` is out of
 * range. Reason codes (reasons.c) group contributions onto fields with it. */
size_t crisk__schema_feature_fields(const crisk_schema *schema, size_t feature,
                                    size_t *fields);

/* Returns the index of the fitted band called `name` (docs/schema.md, "Bands"), or -1. */
long crisk__schema_band_index(const crisk_schema *schema, const char *name);

#endif /* CRISK_DECL_SCHEMA_H */
