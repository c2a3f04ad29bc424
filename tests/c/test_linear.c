/*
 * test_linear.c — the binary logistic pass (lib/engine/linear.c) on each instruction set
 * the CPU runs: the same bits on every path, for feature counts around its 8- and 16-wide
 * steps and row counts around its four stretches; the format's definition computed here
 * in double as the reference; and the first row with a missing or cancelling value
 * named, whichever stretch meets it first.
 */
#include "crisk.h"

#include "check_run.h"
#include "engine/layout.h"
#include "engine/linear.h"
#include "model/model.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The paths the pass has, and their names for messages. */
static const int PATHS[] = {CRISK__ENGINE_PATH_SCALAR, CRISK__ENGINE_PATH_AVX2, CRISK__ENGINE_PATH_AVX512};
static const char *const PATH_NAMES[] = {"scalar", "avx2", "avx512"};
#define NPATHS 3

/* A logistic model of F features: its parameters, as the format states them. */
typedef struct logit {
    size_t F;
    double coef[256], mean[256], scale[256], intercept;
} logit;

/* Returns a deterministic value in [-1, 1) from `i` (a multiplicative hash). */
static double hashed(size_t i)
{
    return (double)((i * 2654435761u) % 2000u) / 1000.0 - 1.0;
}

/* Fills `l` with F features' parameters and returns the model loaded from its document
 * (crisk-logistic, binary, with standardisation). `paired`: feature f + F/2 has feature
 * f's parameters (F even). */
static crisk_model *load_logit(logit *l, size_t F, int paired)
{
    l->F = F;
    char *doc = malloc(256 + F * 130), *p = doc;
    ck_assert_ptr_nonnull(doc);
    p += sprintf(p, "{\"format\": \"crisk-logistic\", \"version\": 1, \"classes\": [0, 1], "
                    "\"multi_class\": \"binary\", \"feature_names\": [");
    for (size_t f = 0; f < F; f++)
        p += sprintf(p, "%s\"f%zu\"", f ? ", " : "", f);
    p += sprintf(p, "], \"coef\": [[");
    for (size_t f = 0; f < F; f++) {
        size_t g = paired && f >= F / 2 ? f - F / 2 : f;
        l->coef[f] = hashed(3 * g + 1) * 0.3;
        l->mean[f] = hashed(3 * g + 2);
        l->scale[f] = 0.5 + fabs(hashed(3 * g + 3));
        p += sprintf(p, "%s%.17g", f ? ", " : "", l->coef[f]);
    }
    l->intercept = 0.25;
    p += sprintf(p, "]], \"intercept\": [%.17g], \"standardize\": {\"mean\": [", l->intercept);
    for (size_t f = 0; f < F; f++)
        p += sprintf(p, "%s%.17g", f ? ", " : "", l->mean[f]);
    p += sprintf(p, "], \"scale\": [");
    for (size_t f = 0; f < F; f++)
        p += sprintf(p, "%s%.17g", f ? ", " : "", l->scale[f]);
    sprintf(p, "]}}");
    crisk_model *m;
    crisk_error err;
    if (crisk_model_load_buffer(doc, strlen(doc), &m, &err) != 0)
        ck_abort_msg("F = %zu: %s", F, err.message);
    free(doc);
    return m;
}

/* Returns n rows of F floats in [-2, 2), different for each seed. */
static float *make_rows(size_t n, size_t F, size_t seed)
{
    float *x = malloc(n * F * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n * F; i++)
        x[i] = (float)(2.0 * hashed(i + seed * 7919));
    return x;
}

/* Returns the margin of row `x` as the format defines it, in double, without folding the
 * standardisation into the coefficients as the library does. */
static double reference_margin(const logit *l, const float *x)
{
    double m = l->intercept;
    for (size_t f = 0; f < l->F; f++)
        m += l->coef[f] * (((double)x[f] - l->mean[f]) / l->scale[f]);
    return m;
}

/* Scores n rows of `x` with `m` on one thread; returns crisk_predict's code. */
static int score(const crisk_model *m, const float *x, size_t n, int margin, float *out,
                 crisk_error *err)
{
    crisk_predict_options o;
    crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
    if (margin)
        o.output = CRISK_OUTPUT_MARGIN;
    return crisk_predict(m, x, n, crisk_model_num_features(m), &o, out, err);
}

/* Scores n rows of `x` with `m` (margins, or probabilities) on every path the CPU runs,
 * checks that each path gives the bits of the first (scalar), and leaves those in
 * first[0 .. n). The model is left on the CPU's widest path. */
static void score_on_every_path(crisk_model *m, const float *x, size_t n, int margin,
                                float *first)
{
    float *got = malloc(n * sizeof *got);
    ck_assert_ptr_nonnull(got);
    int have_first = 0;
    for (size_t p = 0; p < NPATHS; p++) {
        if (crisk__linear_select(m, PATHS[p]) != 0)
            continue;
        crisk_error err;
        if (score(m, x, n, margin, got, &err) != 0)
            ck_abort_msg("%s: %s", PATH_NAMES[p], err.message);
        if (!have_first) {
            memcpy(first, got, n * sizeof *got);
            have_first = 1;
        }
        for (size_t i = 0; i < n; i++)
            if (memcmp(&got[i], &first[i], sizeof *got) != 0)
                ck_abort_msg("F %zu, %zu rows, %s: row %zu is %.9g on %s, %.9g on scalar",
                             crisk_model_num_features(m), n, margin ? "margin" : "prob", i,
                             got[i], PATH_NAMES[p], first[i]);
    }
    ck_assert(have_first);
    ck_assert_int_eq(crisk__linear_select(m, CRISK__ENGINE_PATH_AUTO), 0);
    free(got);
}

START_TEST(test_paths_agree_with_each_other_and_the_definition)
{
    /* Feature counts around the 8- and 16-wide steps; row counts around four stretches. */
    static const size_t features[] = {1, 7, 8, 9, 15, 16, 17, 23, 200};
    static const size_t rows[] = {1, 3, 4, 5, 9, 131};
    for (size_t fi = 0; fi < sizeof features / sizeof *features; fi++) {
        logit l;
        crisk_model *m = load_logit(&l, features[fi], 0);
        size_t F = l.F, n = rows[sizeof rows / sizeof *rows - 1];
        float *x = make_rows(n, F, fi), *first = malloc(n * sizeof *first);
        ck_assert_ptr_nonnull(first);
        for (size_t ri = 0; ri < sizeof rows / sizeof *rows; ri++)
            for (int margin = 0; margin <= 1; margin++) {
                score_on_every_path(m, x, rows[ri], margin, first);
                for (size_t i = 0; i < rows[ri]; i++) {
                    double want = reference_margin(&l, x + i * F);
                    if (!margin)
                        want = 1.0 / (1.0 + exp(-want));
                    ck_assert_double_eq_tol(first[i], want, 1e-6 * (1.0 + fabs(want)));
                }
            }
        free(x);
        free(first);
        crisk_model_free(m);
    }
}
END_TEST

START_TEST(test_paths_agree_where_rounding_shows)
{
    /* Each row holds values up to 1e17 and their negations under identical weights: the
     * exact margin is the bias, and what the float output shows besides is the rounding
     * of the sums, which differs if any path adds in another order or fuses a multiply
     * and an add. */
    logit l;
    size_t F = 64, n = 37, half = F / 2, showing = 0;
    crisk_model *m = load_logit(&l, F, 1);
    float *x = make_rows(n, F, 3), *first = malloc(n * sizeof *first);
    ck_assert_ptr_nonnull(first);
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < half; f++) {
            x[i * F + f] *= (float)pow(10.0, 12 + (double)(i % 6));
            x[i * F + half + f] = -x[i * F + f];
        }
    score_on_every_path(m, x, n, 1, first);
    /* Not vacuous: the rounding is visible in most rows. Without it every margin would be
     * the exact one, that of a row of zeros. */
    float *zeros = calloc(F, sizeof *zeros);
    ck_assert_ptr_nonnull(zeros);
    double exact = reference_margin(&l, zeros);
    for (size_t i = 0; i < n; i++)
        showing += fabs(first[i] - exact) > 1e-3;
    free(zeros);
    ck_assert_uint_gt(showing, n / 2);
    free(x);
    free(first);
    crisk_model_free(m);
}
END_TEST

START_TEST(test_first_undefined_row_is_named)
{
    /* 131 rows make stretches of 32 (rows 0-31, 32-63, 64-95, 96-127) and a tail of 3. In
     * each case the later row has a missing value in column 5, and the walk in step meets
     * it before the first row, whose margin is undefined by a missing value in column 5
     * or by every column infinite (weights of both signs: inf - inf). */
    static const struct {
        size_t later, first;
        int all_infinite;
        const char *what;
    } cases[] = {
        {33, 2, 0, "row 2, column 5: missing value"},
        {96, 70, 1, "row 70, column 0: infinite value"},
        {129, 90, 0, "row 90, column 5: missing value"},
    };
    logit l;
    size_t n = 131, F = 12;
    crisk_model *m = load_logit(&l, F, 0);
    float *out = malloc(n * sizeof *out);
    ck_assert_ptr_nonnull(out);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        float *x = make_rows(n, F, 1), *first = x + cases[c].first * F;
        x[cases[c].later * F + 5] = NAN;
        for (size_t f = 0; f < F; f++)
            if (cases[c].all_infinite || f == 5)
                first[f] = cases[c].all_infinite ? INFINITY : NAN;
        for (size_t p = 0; p < NPATHS; p++) {
            if (crisk__linear_select(m, PATHS[p]) != 0)
                continue;
            crisk_error err;
            ck_assert_int_eq(score(m, x, n, 0, out, &err), CRISK_E_INPUT);
            if (!strstr(err.message, cases[c].what))
                ck_abort_msg("%s: \"%s\" lacks \"%s\"", PATH_NAMES[p], err.message,
                             cases[c].what);
        }
        free(x);
    }
    free(out);
    crisk_model_free(m);
}
END_TEST

START_TEST(test_select_refuses_other_paths)
{
    logit l;
    crisk_model *m = load_logit(&l, 3, 0);
    ck_assert_int_eq(crisk__linear_select(m, CRISK__ENGINE_PATH_REFERENCE), -1);
    ck_assert_int_eq(crisk__linear_select(m, ENGINE_PATH_AVX512_VBMI), -1);
    ck_assert_int_eq(crisk__linear_select(m, 99), -1);
    ck_assert_int_eq(crisk__linear_select(m, CRISK__ENGINE_PATH_SCALAR), 0);
    ck_assert_int_eq(m->linear_path, CRISK__ENGINE_PATH_SCALAR);
    crisk_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("linear");
    TCase *tc = tcase_create("linear");
    tcase_add_test(tc, test_paths_agree_with_each_other_and_the_definition);
    tcase_add_test(tc, test_paths_agree_where_rounding_shows);
    tcase_add_test(tc, test_first_undefined_row_is_named);
    tcase_add_test(tc, test_select_refuses_other_paths);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
