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
            float psum = m->bias[g] + (float)m->base_margin[g];
            for (size_t f = 0; f < F; f++)
                if (!isnan(row[f]))
                    psum += row[f] * m->weights[f * G + g];
            margins[r * G + g] = psum;
        }
    }
}

/* Logistic models: margins = rows . W + bias through one sgemm (standardisation is folded
 * into W and bias at load). A NaN anywhere in a row makes that row's margins NaN, which
 * is how a missing value is found without a second pass over the input. */
static int logistic_margins(const crisk_model *m, const float *rows, size_t nrows,
                            size_t row_offset, double *margins, crisk_error *err)
{
    size_t F = m->num_features, G = m->num_outputs;
    float *c = malloc(nrows * G * sizeof *c);
    if (!c)
        return crisk_fail(err, CRISK_E_NOMEM, "out of memory for %zu x %zu margins", nrows, G);
    for (size_t r = 0; r < nrows; r++)
        for (size_t g = 0; g < G; g++)
            c[r * G + g] = m->bias[g];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nrows, (int)G, (int)F, 1.0f,
                rows, (int)F, m->weights, (int)G, 1.0f, c, (int)G);
    for (size_t i = 0; i < nrows * G; i++) {
        if (isnan(c[i])) {
            size_t r = i / G;
            for (size_t f = 0; f < F; f++)
                if (isnan(rows[r * F + f])) {
                    free(c);
                    return crisk_fail(err, CRISK_E_INPUT,
                                      "row %zu, column %zu: missing value; logistic models "
                                      "need every feature", row_offset + r, f);
                }
        }
        margins[i] = c[i];
    }
    free(c);
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
