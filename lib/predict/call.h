/*
 * predict/call.h — what every row-scoring call shares (crisk_predict, crisk_contributions,
 * crisk_interactions): checking its arguments and running it over slices of rows on
 * threads. Internal to the library.
 */
#ifndef CRISK_CALL_H
#define CRISK_CALL_H

#include "model/model.h"
#include "common/pool.h"

/* The trees a checked call scores: [tree_begin, tree_end), `iterations` boosting rounds. */
typedef struct crisk__call_range {
    size_t tree_begin, tree_end;
    size_t iterations;
} crisk__call_range;

/* Checks the arguments a row-scoring call shares: non-NULL model (and rows and out when
 * nrows > 0), ncols equal to the model's features, a non-negative thread count, a known
 * output kind, and an iteration range within the model (none on a linear model). Fills
 * `range` and returns 0, or CRISK_E_INVALID_ARGUMENT / CRISK_E_SHAPE with `err` filled. */
int crisk__call_check(const crisk_model *model, const float *rows, size_t nrows, size_t ncols,
                      const crisk_predict_options *opts, const void *out,
                      crisk__call_range *range, crisk_error *err);

/* Runs `fn` over items [0, n) (crisk__pool_run) on `threads` threads, fewer when a thread
 * would get under `min_per_thread` items. With `pool` NULL, 0 means every online CPU and
 * the call starts and joins threads of its own; with a pool, 0 means all of the pool's
 * threads and `threads` caps how many of them the call uses. Returns 0, the code of a
 * failing piece with its message in `err`, or CRISK_E_NOMEM (no pool, and no memory for
 * the call's threads). */
int crisk__run_sliced(crisk_pool *pool, int threads, size_t n, size_t min_per_thread,
                      crisk__slice_fn fn, void *ctx, crisk_error *err);

#endif /* CRISK_CALL_H */
