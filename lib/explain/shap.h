/*
 * explain/shap.h — exact SHAP contributions and interactions: the tree explainer
 * (tree_shap.c) and the linear one (linear.c), driven by explain.c.
 * Internal to the library.
 *
 * Layouts, per row r and output group g, with F features and C = F + 1 columns:
 *   contributions  out[(r * G + g) * C + j], the bias at j = F;
 *   interactions   out[((r * G + g) * C + i) * C + j].
 */
#ifndef CRISK_EXPLAIN_H
#define CRISK_EXPLAIN_H

#include "model/model.h"

#include <stdatomic.h>

/* The TreeSHAP form of a range of trees, compiled for one call; read-only once built, so
 * the call's threads share it. */
typedef struct crisk__shap crisk__shap;

/* Compiles trees [tree_begin, tree_end) of `model` for TreeSHAP: each leaf's root-to-leaf
 * path with repeated features merged, node mean values, and, for the small subtrees
 * ("units") whose table of contributions pays off over `nrows` rows, that table (built
 * on up to `threads` threads, of `pool` when it is not NULL, as crisk__run_sliced; nrows
 * 0: no tables). Stores a new object in `*out`.
 * Returns 0, CRISK_E_UNSUPPORTED (a path with more than 64 distinct features, or a
 * LightGBM node without a data count, named by tree and node) or CRISK_E_NOMEM. */
int crisk__shap_build(const crisk_model *model, size_t tree_begin, size_t tree_end,
                      size_t nrows, crisk_pool *pool, int threads, crisk__shap **out,
                      crisk_error *err);

/* Frees a compiled form; NULL is a no-op. */
void crisk__shap_free(crisk__shap *shap);

/* Writes the contributions of rows [begin, end) of `rows` (interactions != 0: their
 * interactions) to `out`, which points at row 0's output. Returns 0 or CRISK_E_NOMEM
 * (per-thread scratch). */
int crisk__shap_rows(const crisk__shap *shap, const float *rows, size_t begin, size_t end,
                     int interactions, float *out, crisk_error *err);

/* As crisk__shap_rows for a linear model (gblinear or logistic). Logistic models refuse a
 * missing value with CRISK_E_INPUT naming the row and column. */
int crisk__linear_explain_rows(const crisk_model *model, const float *rows, size_t begin,
                               size_t end, int interactions, float *out, crisk_error *err);

/* Where a model's compiled explainer is kept once built, for callers that explain the
 * same model over and over (a bundle's score model): NULL until the first call. */
typedef _Atomic(crisk__shap *) crisk__shap_slot;

/* As crisk_contributions, but a tree model explained over all its trees reuses the
 * explainer in `*slot`, building it on the first such call with the tables many rows
 * pay for (so later calls of few rows run as fast per row as calls of many). Thread-safe:
 * concurrent first calls may each build one; one is kept, the others freed. Other calls
 * (an iteration range, a linear model) compile per call as crisk_contributions does. */
int crisk__contributions_cached(const crisk_model *model, crisk__shap_slot *slot,
                                const float *rows, size_t nrows, size_t ncols,
                                const crisk_predict_options *opts, float *out,
                                crisk_error *err);

/* Frees the explainer a slot holds and empties it; no call may be using it. */
void crisk__shap_slot_clear(crisk__shap_slot *slot);

#endif /* CRISK_EXPLAIN_H */
