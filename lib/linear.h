/*
 * linear.h — margins of linear models: XGBoost's gblinear and crisk's logistic models.
 * Internal to the library.
 */
#ifndef CRISK_LINEAR_H
#define CRISK_LINEAR_H

#include "model.h"

/* Writes the margins (nrows x num_outputs) of a linear model for `nrows` rows.
 * gblinear follows XGBoost exactly: bias + base margin, then x_j * w in float in column
 * order, missing features contributing nothing. Logistic models sum in double: a binary
 * model in one fused pass over the rows (no allocation), several outputs through one
 * dgemm over a double copy of the rows (allocated per call). They refuse missing values:
 * a NaN fails with CRISK_E_INPUT naming the row (`row_offset` is added to the index in
 * the message). */
int crisk_linear_margins(const crisk_model *model, const float *rows, size_t nrows,
                         size_t row_offset, double *margins, crisk_error *err);

#endif /* CRISK_LINEAR_H */
