/*
 * decl/features.h — building a batch's features from the fitted state (features.c).
 * Internal to the library.
 */
#ifndef CRISK_DECL_FEATURES_H
#define CRISK_DECL_FEATURES_H

#include "decl/types.h"

/* Builds the features of rows [begin, end) of `b` into `out` (row-major, nfeatures per
 * row) from `fit`. When fit->folds > 0, `folds_of` gives each row's fold and risk features
 * use the other folds' statistics. The one code path for training and scoring. */
int crisk__features_build(const crisk_schema *s, const crisk__fitted_state *fit,
                          const crisk_batch *b, const uint32_t *folds_of, float *out,
                          crisk_error *err);

#endif /* CRISK_DECL_FEATURES_H */
