/*
 * engine/linear.h — margins of linear models: XGBoost's gblinear and crisk's logistic models.
 * Internal to the library.
 */
#ifndef CRISK_LINEAR_H
#define CRISK_LINEAR_H

#include "model/model.h"

/* Writes the margins (nrows x num_outputs) of a linear model for `nrows` rows.
 * gblinear follows XGBoost exactly: bias + base margin, then x_j * w in float in column
 * order, missing features contributing nothing. Logistic models of several outputs sum in
 * double through one dgemm over a double copy of the rows (allocated per call). Binary
 * logistic models go through crisk__linear_binary_outputs instead. Logistic models refuse
 * missing values: a NaN fails with CRISK_E_INPUT naming the row (`row_offset` is added to
 * the index in the message) and column. */
int crisk__linear_margins(const crisk_model *model, const float *rows, size_t nrows,
                          size_t row_offset, double *margins, crisk_error *err);

/* Returns whether `model` is a binary logistic model, scored by
 * crisk__linear_binary_outputs. */
static inline int crisk__linear_is_binary(const crisk_model *model)
{
    return model->family == CRISK__FAMILY_LOGISTIC && model->num_outputs == 1;
}

/* Writes the outputs of a binary logistic model for `nrows` rows to out[0 .. nrows): the
 * margin (as_margin != 0) or its sigmoid, in one pass that sums each row in double as it
 * reads it, without allocating. One pass at close to the speed of memory: converting
 * blocks of rows to double for OpenBLAS's dgemv or dgemm makes two passes whose memory
 * waits and arithmetic do not overlap (1M x 200 on one thread: 64-71 ms against about
 * 41 ms fused). Missing values fail as in crisk__linear_margins; out is then partly
 * written. */
int crisk__linear_binary_outputs(const crisk_model *model, const float *rows, size_t nrows,
                                 size_t row_offset, int as_margin, float *out,
                                 crisk_error *err);

/* Chooses the instruction set of crisk__linear_binary_outputs' pass over `model`'s rows:
 * ENGINE_PATH_SCALAR, _AVX2 or _AVX512 (layout.h) to force one, or ENGINE_PATH_AUTO
 * (the default) for the widest the CPU runs. Every path returns the same bits; tests
 * compare them. Not thread-safe against concurrent scoring of the model. Returns 0, or -1
 * when the CPU cannot run the path or it is none of these (the choice is then unchanged). */
int crisk__linear_select(crisk_model *model, int path);

#endif /* CRISK_LINEAR_H */
