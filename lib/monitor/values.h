/*
 * monitor/values.h — the values a monitor looks at for each declaration of a batch: every
 * schema feature as scoring builds it (a category's unseen value told apart from a missing
 * one) and every model's score. Internal to the library.
 */
#ifndef CRISK_MONITOR_VALUES_H
#define CRISK_MONITOR_VALUES_H

#include "crisk.h"

/* Returns the number of items of `bundle`: its schema's features, then one per model. */
size_t crisk__monitor_num_items(const crisk_bundle *bundle);

/* Returns 1 when schema feature `i` of `bundle` is a category feature. */
int crisk__monitor_is_category(const crisk_bundle *bundle, size_t i);

/* Writes the values of `batch` (rows x crisk__monitor_num_items doubles, row-major) to
 * `out`: each feature (NaN: missing; a category value the dictionary lacks:
 * CRISK__MONITOR_UNSEEN), then each model's first output from `results`. Returns 0,
 * CRISK_E_INVALID_ARGUMENT (a batch of another schema, results of another size) or an
 * error of crisk_schema_features. */
int crisk__monitor_values(const crisk_bundle *bundle, const crisk_batch *batch,
                          const crisk_results *results, double *out, crisk_error *err);

#endif /* CRISK_MONITOR_VALUES_H */
