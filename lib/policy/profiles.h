/*
 * policy/profiles.h — risk-profile rule files (docs/bundle.md, "Risk profiles"): parsing and
 * validating them against what a declaration offers, and evaluating them on one
 * declaration at a time. Internal to the library.
 *
 * Rules never see a schema or a batch directly: names are resolved through a
 * crisk__profile_names and values read through a crisk__row_view, which the bundle fills
 * from a schema and a batch (crisk/schema.h) and the tests fill from small tables of
 * their own.
 */
#ifndef CRISK_PROFILES_H
#define CRISK_PROFILES_H

#include "crisk.h"


#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* How deep all/any/not may nest in one rule's condition: a root "all" holding an "any"
 * holding a leaf has depth 2. Deeper conditions are refused at load; evaluation keeps a
 * fixed stack of this size, so no input can make it recurse. */
#define CRISK__PROFILE_MAX_DEPTH 32

/* What a rule file may name, resolved once at load. Each function returns an index or -1
 * for an unknown name; `field_type` returns the crisk_field_type of a known field. */
typedef struct crisk__profile_names {
    const void *ctx;
    long (*field_index)(const void *ctx, const char *name);
    crisk_field_type (*field_type)(const void *ctx, size_t field);
    long (*feature_index)(const void *ctx, const char *name);
    long (*band_index)(const void *ctx, const char *name);
    const char *const *lanes;   /* the policy's lane names, most severe first */
    size_t num_lanes;
} crisk__profile_names;

/* One declaration as the rules read it. `text` returns a STRING or HS_CODE value (not
 * NUL-terminated; NULL when missing), `number` a NUMBER value or a DATE as days since
 * 1970-01-01 (NaN when missing), `band` the row's position against a band as
 * crisk__schema_band_position() defines it (-1 below, +1 above, 0 inside, 2 no data).
 * `features` holds the row's schema features. */
typedef struct crisk__row_view {
    const void *ctx;
    size_t row;
    const float *features;
    const char *(*text)(const void *ctx, size_t row, size_t field, size_t *len);
    double (*number)(const void *ctx, size_t row, size_t field);
    int (*band)(const void *ctx, size_t band, size_t row, const float *features);
} crisk__row_view;

/* A parsed, validated rule file. Immutable: any number of threads may evaluate it. */
typedef struct crisk__profiles crisk__profiles;

/* Parses and validates a rule file's JSON document `root`, resolving every field,
 * feature, band, watch list and lane through `names`. Stores a new rule set in `*out`.
 * Returns 0, or CRISK_E_FORMAT naming the rule id (or its index when it has none) and
 * the reason, CRISK_E_LIMIT (nesting deeper than CRISK__PROFILE_MAX_DEPTH), or
 * CRISK_E_NOMEM. */
int crisk__profiles_parse(const cJSON *root, const crisk__profile_names *names,
                          crisk__profiles **out, crisk_error *err);

/* Frees a rule set. NULL is a no-op. */
void crisk__profiles_free(crisk__profiles *profiles);

/* Returns the number of rules (0 for NULL). */
size_t crisk__profiles_count(const crisk__profiles *profiles);

/* Returns rule `i`'s id, description, lane index and whether it is mandatory. */
const char *crisk__profiles_rule_id(const crisk__profiles *profiles, size_t i);
const char *crisk__profiles_rule_description(const crisk__profiles *profiles, size_t i);
size_t crisk__profiles_rule_lane(const crisk__profiles *profiles, size_t i);
int crisk__profiles_rule_mandatory(const crisk__profiles *profiles, size_t i);

/* Evaluates every rule active on day `today` (days since 1970-01-01) against `row`, and
 * writes the indices of the rules it hits, in file order, to `hits` (room for
 * crisk__profiles_count() entries). Returns the number of hits. */
size_t crisk__profiles_eval(const crisk__profiles *profiles, const crisk__row_view *row,
                            int64_t today, uint32_t *hits);


#endif /* CRISK_PROFILES_H */
