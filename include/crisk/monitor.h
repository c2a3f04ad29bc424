/*
 * crisk/monitor.h — drift monitoring: reference distributions of a bundle's features and
 * scores (docs/bundle.md, "Reference distributions") and the population stability of a
 * batch or a window of recent declarations against them. Part of the public API; include
 * <crisk.h>.
 */
#ifndef INCLUDE_crisk_monitor_h
#define INCLUDE_crisk_monitor_h

#include "crisk/bundle.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The reference distributions of a bundle: per schema feature and per model score, bins
 * (quantile bins of a numeric value; the most frequent codes, the other known codes and
 * the unseen share of a category) with the reference share of each, and the missing
 * rate. Immutable once loaded: any number of threads may use one reference at once. */
typedef struct crisk_reference crisk_reference;

/* Collects the values of reference declarations and makes their distributions. Used by
 * one thread at a time. */
typedef struct crisk_reference_builder crisk_reference_builder;

/* The counts of a batch, or of a window of recent declarations, in the reference's bins:
 * the explicit state of a monitored stream, saved and restored by the caller (as
 * crisk_lane_state). Used by one thread at a time. */
typedef struct crisk_drift crisk_drift;

/* Starts collecting reference values for every schema feature and model score of
 * `bundle` (which must outlive the builder). Returns 0, CRISK_E_INVALID_ARGUMENT or
 * CRISK_E_NOMEM. */
CRISK_API int crisk_reference_builder_new(const crisk_bundle *bundle,
                                          crisk_reference_builder **out, crisk_error *err);

/* Adds the declarations of `batch` (a batch of the bundle's schema, events joined if
 * the bundle's features use them) and their scores `results` (from crisk_bundle_score on
 * that batch). Returns 0, CRISK_E_INVALID_ARGUMENT (sizes differ, a batch of another
 * schema) or CRISK_E_NOMEM. */
CRISK_API int crisk_reference_builder_add(crisk_reference_builder *builder,
                                          const crisk_batch *batch,
                                          const crisk_results *results, crisk_error *err);

/* Writes the reference distributions of the declarations added so far to `path` as the
 * JSON file a bundle manifest names as "reference", with the warn and alert thresholds
 * `warn` and `alert` (0 < warn <= alert). Returns 0, CRISK_E_INVALID_ARGUMENT (no
 * declaration added, bad thresholds) or CRISK_E_IO. */
CRISK_API int crisk_reference_builder_save(const crisk_reference_builder *builder,
                                           const char *path, double warn, double alert,
                                           crisk_error *err);

/* Frees a builder. NULL is a no-op. */
CRISK_API void crisk_reference_builder_free(crisk_reference_builder *builder);

/* Loads the reference distributions of `bundle` (the file its manifest names as
 * "reference", read and covered by the digest when the bundle loaded), which must
 * outlive the reference. Returns 0; CRISK_E_UNSUPPORTED when the bundle has none
 * (monitoring needs them: docs/bundle.md); CRISK_E_FORMAT naming the JSON path of a bad
 * entry, a feature or model the bundle lacks, or one of the bundle's it lacks.
 * Thread-safe. */
CRISK_API int crisk_reference_load(const crisk_bundle *bundle, crisk_reference **out,
                                   crisk_error *err);

/* Frees a reference. NULL is a no-op. */
CRISK_API void crisk_reference_free(crisk_reference *reference);

/* Returns the reference's thresholds: PSI at or above `warn` warns, at or above `alert`
 * alerts; the bundle policy's "monitor" object's when it has one, else the reference
 * file's (docs/bundle.md). Thread-safe. */
CRISK_API double crisk_reference_warn(const crisk_reference *reference);
CRISK_API double crisk_reference_alert(const crisk_reference *reference);

/* Creates empty counts against `reference` (which must outlive them). `window` is the
 * number of most recent declarations the counts keep (a stream: older ones leave as new
 * ones come), or 0 for every declaration added (a batch). Returns 0,
 * CRISK_E_INVALID_ARGUMENT or CRISK_E_NOMEM. */
CRISK_API int crisk_drift_new(const crisk_reference *reference, size_t window,
                              crisk_drift **out, crisk_error *err);

/* Sets the thresholds the counts' items are judged by (crisk_drift_item.level): PSI at or
 * above `warn` warns, at or above `alert` alerts; the reference's until set. Returns 0,
 * or CRISK_E_INVALID_ARGUMENT unless 0 < warn <= alert, both finite. */
CRISK_API int crisk_drift_set_thresholds(crisk_drift *drift, double warn, double alert,
                                         crisk_error *err);

/* Counts the declarations of `batch` and their scores `results` (crisk_bundle_score on
 * that batch), in batch order. Returns 0, or CRISK_E_INVALID_ARGUMENT (sizes differ, a
 * batch of another schema), an error of crisk_schema_features, or CRISK_E_NOMEM; on an
 * error the counts are unchanged. */
CRISK_API int crisk_drift_add(crisk_drift *drift, const crisk_batch *batch,
                              const crisk_results *results, crisk_error *err);

/* Saves the counts (with the window's declarations, in order) to `path` as JSON, and
 * loads counts saved with the same bundle (its digest is checked: counts of another
 * bundle are CRISK_E_INTEGRITY; a malformed file CRISK_E_FORMAT naming the place). */
CRISK_API int crisk_drift_save(const crisk_drift *drift, const char *path, crisk_error *err);
CRISK_API int crisk_drift_load(const crisk_reference *reference, const char *path,
                               crisk_drift **out, crisk_error *err);

/* Frees counts. NULL is a no-op. */
CRISK_API void crisk_drift_free(crisk_drift *drift);

/* Returns how many declarations the counts hold (the window's, or all added). */
CRISK_API uint64_t crisk_drift_rows(const crisk_drift *drift);

/* Level of one monitored item, from its PSI against the reference's thresholds. */
typedef enum crisk_drift_level {
    CRISK_DRIFT_OK = 0,
    CRISK_DRIFT_WARN = 1,
    CRISK_DRIFT_ALERT = 2
} crisk_drift_level;

/* The drift of one item: a schema feature or a model's score. */
typedef struct crisk_drift_item {
    const char *name;      /* the feature's name, or the model's (owned by the bundle) */
    int is_score;          /* 1: a model's score, 0: a schema feature */
    int is_category;       /* 1: a category feature (codes), 0: numeric bins */
    double psi;            /* sum over bins of (a - e) ln(a / e), shares floored at 1e-4;
                              NaN when the counts hold no declaration */
    double noise;          /* (bins - 1) / rows: the PSI a sample of the reference itself
                              has on average */
    double missing_ref, missing_now;  /* share of missing values */
    double unseen_ref, unseen_now;    /* category: share of values not in the fitted
                                         dictionary; 0 for numeric items */
    crisk_drift_level level; /* by the counts' thresholds (crisk_drift_set_thresholds) */
} crisk_drift_item;

/* Returns the number of items (the schema's features, then one score per model). */
CRISK_API size_t crisk_drift_num_items(const crisk_drift *drift);

/* Fills `*out` with item `i` (< crisk_drift_num_items). Returns 0 or
 * CRISK_E_INVALID_ARGUMENT. */
CRISK_API int crisk_drift_item_get(const crisk_drift *drift, size_t i, crisk_drift_item *out,
                                   crisk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_monitor_h */
