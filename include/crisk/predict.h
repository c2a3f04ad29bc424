/*
 * crisk/predict.h — prediction: scoring rows of features with a model. Part of the
 * public API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_predict_h
#define INCLUDE_crisk_predict_h

#include "crisk/model.h"
#include "crisk/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CRISK_OUTPUT_TRANSFORMED 0  /* probabilities, class index, expected value, ... */
#define CRISK_OUTPUT_MARGIN      1  /* the raw score before the objective's transform */

/* How a prediction is made. Initialise with crisk_predict_options_init(); more fields may
 * follow in later versions (see "Options structs" in crisk.h). */
#define CRISK_PREDICT_OPTIONS_VERSION 1
typedef struct crisk_predict_options {
    unsigned int version;  /* CRISK_PREDICT_OPTIONS_VERSION: the layout; set by _init() */
    int    threads;          /* 1: the calling thread only (default); 0: all cores; N */
    int    output;           /* CRISK_OUTPUT_TRANSFORMED (default) or CRISK_OUTPUT_MARGIN */
    size_t iteration_begin, iteration_end;   /* 0, 0: every iteration */
    crisk_pool *pool;        /* NULL (default): a call of several threads starts and joins
                                its own; else the caller's pool serves it, `threads`
                                capping how many of its threads the call uses (0: all) */
} crisk_predict_options;

/* Fills `opts` with the defaults (one thread, transformed output, every iteration, no
 * pool) for `version`, which must be CRISK_PREDICT_OPTIONS_VERSION (the layout this header
 * declares), and writes no field that version lacks. Returns 0, or
 * CRISK_E_INVALID_ARGUMENT (NULL, or a version this crisk does not know). Thread-safe. */
CRISK_API int crisk_predict_options_init(crisk_predict_options *opts, unsigned int version);

/* Scores `nrows` rows of `ncols` float features each, row-major at `rows` (NaN means
 * missing), and writes nrows * crisk_model_num_outputs(model) floats (with
 * CRISK_OUTPUT_MARGIN: nrows * crisk_model_num_margins(model)) to the caller-allocated
 * `out`, row-major. `opts` NULL means the defaults.
 *
 * Tree models score exactly as the library that trained them: XGBoost accumulates leaves
 * in float32 in tree order from base_score's margin; LightGBM compares and accumulates in
 * double. Logistic models do not accept missing values: a NaN fails with CRISK_E_INPUT
 * naming the row and column, as do infinite values whose terms cancel (inf - inf leaves
 * the margin undefined; a single infinite term gives probability 0 or 1).
 *
 * Returns 0, or CRISK_E_INVALID_ARGUMENT (NULL pointers, a bad option, an iteration range
 * beyond the model, iteration ranges on a linear model), CRISK_E_SHAPE (ncols is not
 * crisk_model_num_features()), CRISK_E_INPUT, CRISK_E_NOMEM. `out` is unspecified after a
 * failure. nrows == 0 succeeds and writes nothing.
 *
 * Thread-safe: any number of threads may score one model at once. With threads == 1 the
 * call runs on the calling thread, and for a tree model with at most 2048 outputs or a
 * binary logistic model it allocates nothing on the heap; so does a call of several
 * threads with a pool (logistic models of several outputs allocate a double copy of each
 * chunk of rows for OpenBLAS's dgemm). A call uses up to 128 KiB of each scoring
 * thread's stack (blocks of rows being walked). */
CRISK_API int crisk_predict(const crisk_model *model, const float *rows, size_t nrows,
                            size_t ncols, const crisk_predict_options *opts, float *out,
                            crisk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_predict_h */
