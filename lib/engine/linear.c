/*
 * engine/linear.c — margins of linear models. Logistic models sum in double, because the folded
 * standardisation terms of features far from zero cancel: float32 loses 1e-4 on
 * probabilities there.
 */
#include "engine/linear.h"

#include "engine/layout.h"
#include "common/error.h"
#include "engine/objective.h"

#if CRISK__ENGINE_X86
#include <immintrin.h>
#endif

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

/* Returns bias + the dot product of the row of F floats at `x` with w, given the eight
 * partial sums of its first f features (lane k: features f' with f' mod 8 = k): the
 * remaining features are added to the bias, and the lanes reduced in a fixed order. */
static inline double finish_row(const float *x, size_t f, size_t F, const double *w,
                                double bias, const double p[8])
{
    double tail = bias;
    for (; f < F; f++)
        tail += (double)x[f] * w[f];
    return tail + (((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])));
}

/* Returns bias + row . w for the row of F floats at `x`, each feature converted to double
 * as it is loaded. Two sets of eight partial sums (features f with f mod 16 < 8 in the
 * first), so that two chains of adds overlap, added lane by lane and then reduced by
 * finish_row; C11 does not contract a * b + c, so every version returns the same bits. */
__attribute__((always_inline)) static inline double dot_row(const float *restrict x, size_t F,
                                                            const double *restrict w,
                                                            double bias)
{
    double part[2][8] = {{0}}, p[8];
    size_t f = 0;
    for (; f + 16 <= F; f += 16)
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 8; k++)
                part[h][k] += (double)x[f + 8 * h + k] * w[f + 8 * h + k];
    if (f + 8 <= F) {
        for (int k = 0; k < 8; k++)
            part[0][k] += (double)x[f + k] * w[f + k];
        f += 8;
    }
    for (int k = 0; k < 8; k++)
        p[k] = part[0][k] + part[1][k];
    return finish_row(x, f, F, w, bias, p);
}

#if CRISK__ENGINE_X86
/* Returns the eight products x[k] * w[k] (x converted to double) in one zmm. */
__attribute__((target("avx512f"), always_inline)) static inline __m512d
products_avx512(const float *x, const double *w)
{
    return _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x)), _mm512_loadu_pd(w));
}

/* dot_row with AVX-512 F: one zmm a set of partial sums, fed by load-and-convert. GCC
 * vectorises dot_row for AVX-512 into half-register conversions and shuffles that cost
 * about as much as the arithmetic; the lanes and the order of the adds are dot_row's. */
__attribute__((target("avx512f"), always_inline)) static inline double
dot_row_avx512(const float *x, size_t F, const double *w, double bias)
{
    __m512d p0 = _mm512_setzero_pd(), p1 = p0;
    size_t f = 0;
    for (; f + 16 <= F; f += 16) {
        p0 = _mm512_add_pd(p0, products_avx512(x + f, w + f));
        p1 = _mm512_add_pd(p1, products_avx512(x + f + 8, w + f + 8));
    }
    if (f + 8 <= F) {
        p0 = _mm512_add_pd(p0, products_avx512(x + f, w + f));
        f += 8;
    }
    double p[8];
    _mm512_storeu_pd(p, _mm512_add_pd(p0, p1));
    return finish_row(x, f, F, w, bias, p);
}

#endif

/* A function returning one row's margin, as dot_row. */
typedef double dot_row_fn(const float *x, size_t F, const double *w, double bias);

/* Rows scored side by side, each from its own stretch of the batch (see binary_rows_body). */
#define STREAMS 4

/* Writes out[r] = the margin of row r of a binary logistic model, or its sigmoid s;
 * returns 0 if the margin is NaN (nothing written), else 1. */
__attribute__((always_inline)) static inline int
score_row(const float *rows, size_t r, size_t F, const double *w, double bias, double s,
          int as_margin, float *out, dot_row_fn *dot)
{
    double margin = dot(rows + r * F, F, w, bias);
    if (isnan(margin))
        return 0;
    out[r] = (float)(as_margin ? margin : crisk__sigmoid(margin, s));
    return 1;
}

/* Writes out[r] for `nrows` rows of F floats, as score_row. The rows are split into
 * STREAMS contiguous stretches, walked in step one row from each at a time: one core
 * reads several streams from memory faster than one (more misses in flight, and a
 * prefetcher on each; 1.2x here, with one thread and with two), and each row's exp
 * overlaps the loads of the others. Returns the index of the first row whose margin is
 * NaN (a missing value), or `nrows`. Inlined into one function per instruction set, with
 * `dot` a constant. */
__attribute__((always_inline)) static inline size_t
binary_rows_body(const float *rows, size_t nrows, size_t F, const double *w, double bias,
                 double s, int as_margin, float *out, dot_row_fn *dot)
{
    size_t stretch = nrows / STREAMS, r = 0;
    for (size_t i = 0; i < stretch; i++)
        for (size_t k = 0; k < STREAMS; k++)
            if (!score_row(rows, k * stretch + i, F, w, bias, s, as_margin, out, dot))
                goto in_order;   /* a row of an earlier stretch may be missing values too */
    r = STREAMS * stretch;
in_order:   /* the rows no stretch took, or all of them from row 0 to the first NaN */
    for (; r < nrows; r++)
        if (!score_row(rows, r, F, w, bias, s, as_margin, out, dot))
            return r;
    return nrows;
}

/* binary_rows_body compiled for AVX-512 F, for AVX2 (x86-64 only), and for the baseline. */
#if CRISK__ENGINE_X86
__attribute__((target("avx512f"))) static size_t
binary_rows_avx512(const float *rows, size_t nrows, size_t F, const double *w, double bias,
                   double s, int as_margin, float *out)
{
    return binary_rows_body(rows, nrows, F, w, bias, s, as_margin, out, dot_row_avx512);
}

__attribute__((target("avx2"))) static size_t
binary_rows_avx2(const float *rows, size_t nrows, size_t F, const double *w, double bias,
                 double s, int as_margin, float *out)
{
    return binary_rows_body(rows, nrows, F, w, bias, s, as_margin, out, dot_row);
}
#endif

static size_t binary_rows_baseline(const float *rows, size_t nrows, size_t F, const double *w,
                                   double bias, double s, int as_margin, float *out)
{
    return binary_rows_body(rows, nrows, F, w, bias, s, as_margin, out, dot_row);
}

int crisk__linear_select(crisk_model *model, int path)
{
    if (path != CRISK__ENGINE_PATH_AUTO && path != CRISK__ENGINE_PATH_SCALAR && path != CRISK__ENGINE_PATH_AVX2 &&
        path != CRISK__ENGINE_PATH_AVX512)
        return -1;
    if (path != CRISK__ENGINE_PATH_AUTO && !crisk__engine_cpu_has((crisk__engine_path)path))
        return -1;
    model->linear_path = path;
    return 0;
}

/* binary_rows_body for model->linear_path, or else for the widest instruction set the
 * running CPU has. Chosen on each call (a read of libgcc's CPU model) rather than by an
 * ifunc resolver, which runs before the sanitizers' runtimes are ready. Every version
 * returns the same bits (see dot_row). */
static size_t binary_rows(const crisk_model *m, const float *rows, size_t nrows, int as_margin,
                          float *out)
{
    size_t F = m->num_features;
    const double *w = m->weights;
    double bias = m->bias[0], s = m->transform_param;
    crisk__engine_path path = (crisk__engine_path)m->linear_path;
    if (path == CRISK__ENGINE_PATH_AUTO)
        path = crisk__engine_cpu_has(CRISK__ENGINE_PATH_AVX512) ? CRISK__ENGINE_PATH_AVX512
               : crisk__engine_cpu_has(CRISK__ENGINE_PATH_AVX2) ? CRISK__ENGINE_PATH_AVX2
                                                        : CRISK__ENGINE_PATH_SCALAR;
#if CRISK__ENGINE_X86
    if (path == CRISK__ENGINE_PATH_AVX512)
        return binary_rows_avx512(rows, nrows, F, w, bias, s, as_margin, out);
    if (path == CRISK__ENGINE_PATH_AVX2)
        return binary_rows_avx2(rows, nrows, F, w, bias, s, as_margin, out);
#endif
    return binary_rows_baseline(rows, nrows, F, w, bias, s, as_margin, out);
}

/* Fails with CRISK_E_INPUT for row `row` (its F floats at `x`), whose margin is NaN:
 * naming its first missing value, or else its first infinite one (inf - inf or inf x 0
 * made the margin undefined). Returns CRISK_E_INPUT. */
static int undefined_margin(const float *x, size_t F, size_t row, crisk_error *err)
{
    for (size_t f = 0; f < F; f++)
        if (isnan(x[f]))
            return crisk__fail(err, CRISK_E_INPUT, "row %zu, column %zu: missing value; "
                               "logistic models need every feature", row, f);
    size_t f = 0;
    while (f + 1 < F && isfinite(x[f]))
        f++;
    return crisk__fail(err, CRISK_E_INPUT, "row %zu, column %zu: infinite value; it leaves "
                       "the logistic margin undefined", row, f);
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
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu x %zu rows", nrows, F);
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

/* Logistic models of several outputs: margins = rows . W + bias (standardisation is
 * folded into W and bias at load), through gemm_rows. A NaN anywhere in a row
 * makes that row's margins NaN, which is how a missing value is found without a second
 * pass over the rows. */
static int logistic_margins(const crisk_model *m, const float *rows, size_t nrows,
                            size_t row_offset, double *margins, crisk_error *err)
{
    size_t F = m->num_features, G = m->num_outputs;
    int rc = gemm_rows(m, rows, nrows, margins, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < nrows * G; i++)
        if (isnan(margins[i]))
            return undefined_margin(rows + i / G * F, F, row_offset + i / G, err);
    return 0;
}

int crisk__linear_binary_outputs(const crisk_model *m, const float *rows, size_t nrows,
                                 size_t row_offset, int as_margin, float *out,
                                 crisk_error *err)
{
    size_t F = m->num_features, bad = binary_rows(m, rows, nrows, as_margin, out);
    return bad < nrows ? undefined_margin(rows + bad * F, F, row_offset + bad, err) : 0;
}

int crisk__linear_margins(const crisk_model *m, const float *rows, size_t nrows,
                          size_t row_offset, double *margins, crisk_error *err)
{
    if (m->family == CRISK__FAMILY_LOGISTIC)
        return logistic_margins(m, rows, nrows, row_offset, margins, err);
    gblinear_margins(m, rows, nrows, margins);
    return 0;
}
