/*
 * decl/keys.h — risk-table keys: building, splitting and writing them (keys.c).
 * Internal to the library.
 */
#ifndef CRISK_DECL_KEYS_H
#define CRISK_DECL_KEYS_H

#include "crisk.h"

#include <cjson/cJSON.h>

/* Builds row `row`'s composite key of set `set` into `buf` (of `cap` bytes; a key never
 * needs more than crisk__key_capacity) and returns its length, -1 when a part is missing
 * (or an HS code is shorter than the digits asked), or -2 when it does not fit in `cap`.
 * Parts are length-prefixed, so that no two different part lists give the same bytes. */
long crisk__key_build(const crisk_schema *s, const crisk_batch *b, size_t set, size_t row,
                      char *buf, size_t cap);

/* Returns the scratch size a key of `schema` may need. */
size_t crisk__key_capacity(const crisk_schema *s);

/* Splits a key built by crisk__key_build into its parts: stores part k's text and length
 * in `parts[k]`, `lens[k]`. */
void crisk__key_split(const char *key, size_t nparts, const char **parts, size_t *lens);

/* Returns a JSON value describing key set `set` as the schema writes keys
 * (["origin", {"field": "hs_code", "digits": 6}]), or NULL when out of memory. */
cJSON *crisk__key_set_to_json(const crisk_schema *s, size_t set);

#endif /* CRISK_DECL_KEYS_H */
