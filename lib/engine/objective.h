/*
 * engine/objective.h — turning margins into outputs. Internal to the library.
 */
#ifndef CRISK_OBJECTIVE_H
#define CRISK_OBJECTIVE_H

#include "model/model.h"

#include <math.h>

/* Double logistic 1 / (1 + exp(-s x)): LightGBM's and scikit-learn's sigmoid. Inline, so
 * that the fused logistic pass (linear.c) computes it between rows. */
static inline double crisk__sigmoid(double x, double s)
{
    return 1.0 / (1.0 + exp(-s * x));
}

/* Writes the outputs of `nrows` rows to `out` from their margins (nrows x num_outputs):
 * either the margins themselves (as_margin != 0) or model->transform applied to them,
 * giving crisk_model_num_outputs() values per row (num_outputs margins with as_margin). `iterations` is the number of boosting
 * rounds scored, for LightGBM's average_output. */
void crisk__objective_apply(const crisk_model *model, const double *margins, size_t nrows,
                            int as_margin, size_t iterations, float *out);

#endif /* CRISK_OBJECTIVE_H */
