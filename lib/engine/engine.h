/*
 * engine/engine.h — the tree engine: the compiled form of a model's trees and the loops that
 * add the trees' leaves to margins. Internal to the library.
 */
#ifndef CRISK_ENGINE_H
#define CRISK_ENGINE_H

#include "model/model.h"

struct crisk__engine;

/* Compiles `model`'s trees into the engine's own layout and stores it in model->engine.
 * Called once by the loader after crisk__model_validate(). Returns 0 or an error code. */
int crisk__engine_build(crisk_model *model, crisk_error *err);

/* Chooses the kernels that score `model`: 0 for the widest the CPU runs, or one of
 * layout.h's CRISK__ENGINE_PATH_* values to force a path (tests compare every path; the
 * environment variable CRISK_ENGINE=reference|scalar|avx2|avx512 does the same at load).
 * A model the fast layouts cannot hold always uses the reference walk. Not thread-safe
 * against concurrent scoring of the model. Returns 0, or -1 when the CPU cannot run the
 * path (the choice is then unchanged). */
int crisk__engine_select(crisk_model *model, int path);

/* Frees an engine; NULL is a no-op. */
void crisk__engine_free(struct crisk__engine *engine);

/* Returns the bytes the engine holds (0 for NULL). */
size_t crisk__engine_memory(const struct crisk__engine *engine);

/* Adds the leaves of trees [tree_begin, tree_end) for `nrows` rows of model->num_features
 * floats to `margins` (nrows x num_outputs, row-major), which the caller has initialised.
 * XGBoost models accumulate in float in tree order (each margin stays a float value held
 * in a double); LightGBM models in double. Never allocates. */
void crisk__engine_add_trees(const crisk_model *model, const float *rows, size_t nrows,
                             size_t tree_begin, size_t tree_end, double *margins);

/* The reference traversal: returns the leaf value of tree `t` for one row (after the
 * model's per-feature fix-ups), walking the canonical nodes. The engine's fast paths
 * must agree with it bit for bit; tests compare them. */
double crisk__tree_leaf_value(const crisk_model *model, size_t t, const float *row);

#endif /* CRISK_ENGINE_H */
