/*
 * bench/contribs.c — crisk-bench's TreeSHAP row: exact contributions (crisk_contributions)
 * against libxgboost's pred_contribs (XGBoosterPredictFromDMatrix, type 2) on the same
 * model and rows, one thread each, checked against each other before timing.
 */
#include "bench.h"

#include "crisk.h"

#include <xgboost/c_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest difference from XGBoost's contributions the row accepts: the contribution
 * tests' tolerance (tests/python/test_contributions.py), margin space. */
#define CONTRIB_TOL 1e-5

/* Exits with libxgboost's last error when `rc` is not 0. */
static void check(int rc, const char *call)
{
    if (rc != 0)
        die(call, XGBGetLastError());
}

/* Explains the `n` rows of `dm` with libxgboost into a buffer it owns (valid until its
 * next call); the output has `cols` values a row. */
static const float *xgb_contribs(BoosterHandle b, DMatrixHandle dm, size_t n, size_t cols)
{
    static const char config[] = "{\"type\": 2, \"training\": false, \"iteration_begin\": 0, "
                                 "\"iteration_end\": 0, \"strict_shape\": false}";
    const bst_ulong *shape;
    bst_ulong dim;
    const float *out;
    check(XGBoosterPredictFromDMatrix(b, dm, config, &shape, &dim, &out),
          "XGBoosterPredictFromDMatrix");
    if (dim != 2 || shape[0] != n || shape[1] != cols)
        die("pred_contribs", "unexpected output shape");
    return out;
}

/* Explains the `n` rows of `x` with crisk on one thread into `out`. */
static void crisk_contribs(const crisk_model *m, const float *x, size_t n, float *out)
{
    crisk_error err;
    if (crisk_contributions(m, x, n, crisk_model_num_features(m), NULL, out, &err) != 0)
        die("crisk_contributions", err.message);
}

/* Returns the largest |a - b| over `count` values (infinite when one is NaN). */
static double max_diff(const float *a, const float *b, size_t count)
{
    double most = 0.0;
    for (size_t i = 0; i < count; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= most))
            most = isnan(d) ? INFINITY : d;
    }
    return most;
}

int bench_contribs(const char *name, const char *text, size_t len, const float *x, size_t n,
                   size_t F, int runs, int json, int first)
{
    crisk_model *m;
    crisk_error err;
    if (crisk_model_load_buffer(text, len, &m, &err) != 0)
        die("crisk_model_load_buffer", err.message);
    BoosterHandle b;
    DMatrixHandle dm;
    check(XGBoosterCreate(NULL, 0, &b), "XGBoosterCreate");
    check(XGBoosterLoadModelFromBuffer(b, text, len), "XGBoosterLoadModelFromBuffer");
    check(XGBoosterSetParam(b, "nthread", "1"), "nthread");
    check(XGDMatrixCreateFromMat(x, n, F, NAN, &dm), "XGDMatrixCreateFromMat");
    size_t cols = F + 1;
    float *out = malloc(n * cols * sizeof *out);
    double *t = malloc(2 * (size_t)runs * sizeof *t), *tx = t + runs;
    if (!out || !t)
        die("out of memory", NULL);

    crisk_contribs(m, x, n, out);
    double diff = max_diff(out, xgb_contribs(b, dm, n, cols), n * cols);
    for (int run = 0; run < runs; run++) {
        double t0 = now();
        crisk_contribs(m, x, n, out);
        t[run] = (double)n / (now() - t0);
        t0 = now();
        xgb_contribs(b, dm, n, cols);
        tx[run] = (double)n / (now() - t0);
    }
    double crisk_rps = quantile(t, (size_t)runs, 0.5), xgb_rps = quantile(tx, (size_t)runs, 0.5);
    int major, minor, patch;
    XGBoostVersion(&major, &minor, &patch);
    crisk_model_info info;
    crisk_model_get_info(m, &info);
    if (json)
        printf("%s  {\"shape\": \"%s\", \"trees\": %zu, \"rows\": %zu, \"runs\": %d, "
               "\"crisk_rows_per_s\": %.0f, \"peer\": \"libxgboost %d.%d.%d pred_contribs\", "
               "\"xgboost_rows_per_s\": %.0f, \"ratio\": %.2f, \"max_abs_diff\": %.3g}",
               first ? "" : ",\n", name, info.num_trees, n, runs, crisk_rps, major, minor, patch,
               xgb_rps, crisk_rps / xgb_rps, diff);
    else
        printf("%-16s TreeSHAP, %zu trees, %zu rows of %zu contributions, one thread: crisk "
               "%.0f rows/s, libxgboost %d.%d.%d pred_contribs %.0f rows/s, ratio %.1f; "
               "max diff %.2g\n",
               name, info.num_trees, n, cols, crisk_rps, major, minor, patch, xgb_rps,
               crisk_rps / xgb_rps, diff);
    fflush(stdout);
    free(out);
    free(t);
    XGDMatrixFree(dm);
    XGBoosterFree(b);
    crisk_model_free(m);
    if (!(diff <= CONTRIB_TOL)) {
        fprintf(stderr, "crisk-bench: %s: contributions differ from libxgboost by %.3g, beyond "
                        "%g\n", name, diff, CONTRIB_TOL);
        return 1;
    }
    return 0;
}
