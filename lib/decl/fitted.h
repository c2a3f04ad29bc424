/*
 * decl/fitted.h — a schema's fitted state: fitting it, freeing it, writing it, and
 * placing rows against its bands (fitted.c). Internal to the library.
 */
#ifndef CRISK_DECL_FITTED_H
#define CRISK_DECL_FITTED_H

#include "decl/types.h"

#include <cjson/cJSON.h>

/* The one fit set-up of crisk_schema_fit and crisk_schema_training_matrix (lib/decl/
 * fitted.c): takes the default options when `opts` is NULL, checks the arguments (the
 * batch is the schema's, one label, 0 or 1, per row, options in range) and fits `fit`
 * from `b` and `labels`. With `folds_of` NULL the fit is the schema's stored state, bands
 * included; otherwise `*folds_of` receives each row's fold (malloc'd, the caller frees
 * it) and the risk tables keep per-fold shares for out-of-fold training features, without
 * bands. Returns 0, or an error code with `fit` empty and `*folds_of` NULL. */
int crisk__fit(const crisk_schema *s, const crisk_batch *b, const float *labels,
               size_t nlabels, const crisk_fit_options *opts, uint32_t **folds_of,
               crisk__fitted_state *fit, crisk_error *err);

/* Frees a fitted state and leaves it empty. */
void crisk__fitted_free(const crisk_schema *s, crisk__fitted_state *fit);

/* Writes `s`'s fitted state as the JSON object "fitted" into `root`. Returns 0 or
 * CRISK_E_NOMEM. */
int crisk__fitted_to_json(const crisk_schema *s, cJSON *root, crisk_error *err);

/* Returns 1 when a risk feature groups rows by key set `set`, else 0. */
int crisk__set_has_risk(const crisk_schema *s, size_t set);

/* Places row `row` of `batch` against band `band`, whose value is a feature of the
 * schema, given the row's feature values `features` (crisk_schema_num_features floats).
 * Returns -1 below the band's low bound, +1 above its high bound, 0 inside, and 2 when the
 * row's value is missing or the band has no data for the row's key. */
int crisk__schema_band_position(const crisk_schema *schema, size_t band,
                                const crisk_batch *batch, size_t row, const float *features);

#endif /* CRISK_DECL_FITTED_H */
