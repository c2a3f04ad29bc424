/*
 * explain.h — exact SHAP contributions and interactions: the tree explainer
 * (explain_tree.c) and the linear one (explain_linear.c), driven by explain.c.
 * Internal to the library.
 *
 * Layouts, per row r and output group g, with F features and C = F + 1 columns:
 *   contributions  out[(r * G + g) * C + j], the bias at j = F;
 *   interactions   out[((r * G + g) * C + i) * C + j].
 */
#ifndef CRISK_EXPLAIN_H
#define CRISK_EXPLAIN_H

#include "model.h"

/* The TreeSHAP form of a range of trees, compiled for one call; read-only once built, so
 * the call's threads share it. */
typedef struct crisk_shap crisk_shap;

/* Compiles trees [tree_begin, tree_end) of `model` for TreeSHAP: each leaf's root-to-leaf
 * path with repeated features merged, node mean values, and, for the small subtrees
 * ("units") whose table of contributions pays off over `nrows` rows, that table (built
 * on up to `threads` threads; nrows 0: no tables). Stores a new object in `*out`.
 * Returns 0, CRISK_E_UNSUPPORTED (a path with more than 64 distinct features, or a
 * LightGBM node without a data count, named by tree and node) or CRISK_E_NOMEM. */
int crisk_shap_build(const crisk_model *model, size_t tree_begin, size_t tree_end,
                     size_t nrows, int threads, crisk_shap **out, crisk_error *err);

/* Frees a compiled form; NULL is a no-op. */
void crisk_shap_free(crisk_shap *shap);

/* Writes the contributions of rows [begin, end) of `rows` (interactions != 0: their
 * interactions) to `out`, which points at row 0's output. Returns 0 or CRISK_E_NOMEM
 * (per-thread scratch). */
int crisk_shap_rows(const crisk_shap *shap, const float *rows, size_t begin, size_t end,
                    int interactions, float *out, crisk_error *err);

/* As crisk_shap_rows for a linear model (gblinear or logistic). Logistic models refuse a
 * missing value with CRISK_E_INPUT naming the row and column. */
int crisk_linear_explain_rows(const crisk_model *model, const float *rows, size_t begin,
                              size_t end, int interactions, float *out, crisk_error *err);

#endif /* CRISK_EXPLAIN_H */
