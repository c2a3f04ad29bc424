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

/* Rows summed at once by dot_rows: four independent sets of partial sums keep the adds
 * from waiting on each other. */
#define ROWS_AT_ONCE 4
/* How far ahead of the rows being summed dot_rows asks the memory for rows: without it the
 * hardware prefetcher alone leaves the loop waiting on memory. */
#define PREFETCH_ROWS 8

/* Writes margins[j] = bias + row j . w for the `nr` (at most ROWS_AT_ONCE) consecutive
 * rows of F floats at `x`, each feature converted to double as it is loaded. Eight
 * partial sums per row, reduced in a fixed order: a row's margin does not depend on `nr`,
 * and C11 does not contract a * b + c, so every version returns the same bits. Inlined with
 * a constant `nr`, so that the loops over rows and lanes unroll into vector code. */
__attribute__((always_inline)) static inline void dot_block(const float *restrict x, size_t F,
                                                             const double *restrict w,
                                                             double bias,
                                                             double *restrict margins, int nr)
{
    double part[ROWS_AT_ONCE][8] = {{0}};
    size_t f = 0;
    for (; f + 8 <= F; f += 8)
        for (int j = 0; j < nr; j++)
            for (int k = 0; k < 8; k++)
                part[j][k] += (double)x[j * F + f + k] * w[f + k];
    for (int j = 0; j < nr; j++) {
        double tail = bias;
        for (size_t g = f; g < F; g++)
            tail += (double)x[j * F + g] * w[g];
        const double *p = part[j];
        margins[j] = tail + (((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])));
    }
}

/* Writes margins[r] = bias + row r . w for `nrows` rows of F floats. One pass that reads
 * each row once, at close to the speed of memory: converting blocks of rows to double for
 * BLAS and then calling dgemv or dgemm makes two passes whose memory waits and arithmetic
 * do not overlap (perf, 1M x 200 on one thread: 64-71 ms through dgemm or dgemv on
 * converted blocks, about 41 ms fused). Inlined into one function per instruction set. */
__attribute__((always_inline)) static inline void dot_rows_body(const float *rows,
                                                                size_t nrows, size_t F,
                                                                const double *w, double bias,
                                                                double *margins)
{
    size_t r = 0;
    for (; r + ROWS_AT_ONCE <= nrows; r += ROWS_AT_ONCE) {
        const float *x = rows + r * F;
        if (r + ROWS_AT_ONCE + PREFETCH_ROWS <= nrows)
            for (size_t b = 0; b < ROWS_AT_ONCE * F; b += 64 / sizeof *x)
                __builtin_prefetch(x + PREFETCH_ROWS * F + b);
        dot_block(x, F, w, bias, margins + r, ROWS_AT_ONCE);
    }
    for (; r < nrows; r++)
        dot_block(rows + r * F, F, w, bias, margins + r, 1);
}

/* dot_rows_body compiled for AVX-512 F, for AVX2, and for the baseline. */
__attribute__((target("avx512f"))) static void dot_rows_avx512(const float *rows, size_t nrows,
                                                                size_t F, const double *w,
                                                                double bias, double *margins)
{
    dot_rows_body(rows, nrows, F, w, bias, margins);
}

__attribute__((target("avx2"))) static void dot_rows_avx2(const float *rows, size_t nrows,
                                                          size_t F, const double *w,
                                                          double bias, double *margins)
{
    dot_rows_body(rows, nrows, F, w, bias, margins);
}

static void dot_rows_baseline(const float *rows, size_t nrows, size_t F, const double *w,
                              double bias, double *margins)
{
    dot_rows_body(rows, nrows, F, w, bias, margins);
}

/* dot_rows_body for the widest instruction set the running CPU has. Chosen on each call
 * (a read of libgcc's CPU model) rather than by an ifunc resolver, which runs before the
 * sanitizers' runtimes are ready. Every version returns the same bits (see dot_block). */
static void dot_rows(const float *rows, size_t nrows, size_t F, const double *w, double bias,
                     double *margins)
{
    if (__builtin_cpu_supports("avx512f"))
        dot_rows_avx512(rows, nrows, F, w, bias, margins);
    else if (__builtin_cpu_supports("avx2"))
        dot_rows_avx2(rows, nrows, F, w, bias, margins);
    else
        dot_rows_baseline(rows, nrows, F, w, bias, margins);
}

/* Writes the margins of `nrows` rows of a model of several outputs: rows . W + bias
 * through one dgemm over the rows converted to double (W is F x G, row-major). Returns 0
 * or CRISK_E_NOMEM. */
static int gemm_rows(const crisk_model *m, const float *rows, size_t nrows, double *margins,
                     crisk_error *err)
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
    return 0;
}

/* Logistic models: margins = rows . W + bias (standardisation is folded into W and bias
 * at load). Double, because the folded terms of features far from zero cancel: float32
 * loses 1e-4 on probabilities there. A binary model (one output) goes through dot_rows
 * without any allocation; several outputs through gemm_rows. A NaN anywhere in a row
 * makes that row's margins NaN, which is how a missing value is found without a second
 * pass over the rows. */
static int logistic_margins(const crisk_model *m, const float *rows, size_t nrows,
                            size_t row_offset, double *margins, crisk_error *err)
{
    size_t F = m->num_features, G = m->num_outputs;
    if (G == 1)
        dot_rows(rows, nrows, F, m->weights, m->bias[0], margins);
    else {
        int rc = gemm_rows(m, rows, nrows, margins, err);
        if (rc)
            return rc;
    }
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
