/*
 * linear.c — margins of linear models.
 */
#include "linear.h"

#include "error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

/* XGBoost gblinear (gbm/gblinear.cc): float accumulation in column order. */
static void gblinear_margins(const crisk_model *m, const float *rows, size_t nrows,
                             double *margins)
{
    size_t F = m->num_features, G = m->num_outputs;
    for (size_t r = 0; r < nrows; r++) {
        const float *row = rows + r * F;
        for (size_t g = 0; g < G; g++) {
            float psum = (float)m->bias[g] + (float)m->base_margin[g];
            for (size_t f = 0; f < F; f++)
                if (!isnan(row[f]))
                    psum += row[f] * (float)m->weights[f * G + g];
            margins[r * G + g] = psum;
        }
    }
}

/* Logistic models: margins = rows . W + bias through one dgemm (standardisation is folded
 * into W and bias at load). Double, because the folded terms of features far from zero
 * cancel: float32 loses 1e-4 on probabilities there. A NaN anywhere in a row makes that
 * row's margins NaN, which is how a missing value is found without a second pass. */
static int logistic_margins(const crisk_model *m, const float *rows, size_t nrows,
                            size_t row_offset, double *margins, crisk_error *err)
{
    size_t F = m->num_features, G = m->num_outputs;
    double *x = malloc(nrows * F * sizeof *x);
    if (!x)
        return crisk_fail(err, CRISK_E_NOMEM, "out of memory for %zu x %zu rows", nrows, F);
    for (size_t i = 0; i < nrows * F; i++)
        x[i] = rows[i];
    for (size_t r = 0; r < nrows; r++)
        for (size_t g = 0; g < G; g++)
            margins[r * G + g] = m->bias[g];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nrows, (int)G, (int)F, 1.0,
                x, (int)F, m->weights, (int)G, 1.0, margins, (int)G);
    free(x);
    for (size_t i = 0; i < nrows * G; i++)
        if (isnan(margins[i])) {
            size_t r = i / G;
            for (size_t f = 0; f < F; f++)
                if (isnan(rows[r * F + f]))
                    return crisk_fail(err, CRISK_E_INPUT,
                                      "row %zu, column %zu: missing value; logistic models "
                                      "need every feature", row_offset + r, f);
        }
    return 0;
}

int crisk_linear_margins(const crisk_model *m, const float *rows, size_t nrows,
                         size_t row_offset, double *margins, crisk_error *err)
{
    if (m->family == CRISK_FAMILY_LOGISTIC)
        return logistic_margins(m, rows, nrows, row_offset, margins, err);
    gblinear_margins(m, rows, nrows, margins);
    return 0;
}
