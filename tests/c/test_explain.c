/*
 * test_explain.c — crisk_contributions and crisk_interactions on hand-built canonical
 * models: tree contributions against Shapley values computed here by brute force from
 * their definition (every subset of features, with TreeSHAP's cover-weighted expectation),
 * sums against crisk_predict's margins, interactions against contributions, linear
 * models, refusals, and the kernels of the direction words and of bit extraction
 * against each other.
 */
#include "crisk.h"

#include "engine/engine.h"
#include "explain/shap_dirs.h"
#include "model/model.h"
#include "model/split.h"

#include "check_run.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define F 4
#define C (F + 1)
#define TOL 1e-5

/* One node of a hand-written tree: a leaf when left < 0. */
typedef struct spec {
    int left, right, feature, default_left, categorical;
    float threshold, cover;
    double value;
} spec;

/* Tree 0: feature 0 tested twice on one path, a categorical split on feature 2 (the set
 * {1, 3} goes right, as XGBoost stores it), default directions both ways. */
static const spec tree0[] = {
    {1, 2, 0, 1, 0, 0.5f, 10.0f, 0},
    {3, 4, 1, 0, 0, 0.0f, 6.0f, 0},
    {5, 6, 2, 1, 1, 0.0f, 4.0f, 0},
    {7, 8, 0, 0, 0, -1.0f, 4.0f, 0},
    {-1, -1, -1, 0, 0, 0, 2.0f, 0.3},
    {-1, -1, -1, 0, 0, 0, 1.5f, -0.7},
    {-1, -1, -1, 0, 0, 0, 2.5f, 0.9},
    {-1, -1, -1, 0, 0, 0, 1.0f, -0.2},
    {-1, -1, -1, 0, 0, 0, 3.0f, 0.5},
};
/* Tree 1: one numerical split on feature 2 (weight 0.5, as a DART tree). */
static const spec tree1[] = {
    {1, 2, 2, 0, 0, 2.5f, 10.0f, 0},
    {-1, -1, -1, 0, 0, 0, 7.0f, 0.1},
    {-1, -1, -1, 0, 0, 0, 3.0f, -0.4},
};
/* Tree 2: a root that is a leaf. */
static const spec tree2[] = {{-1, -1, -1, 0, 0, 0, 10.0f, 0.05}};

static const spec *const tree_specs[] = {tree0, tree1, tree2};
static const size_t tree_sizes[] = {9, 3, 1};
static const double tree_weights[] = {1.0, 0.5, 1.0};
#define NTREES 3
#define BASE 0.25

/* Test rows: NaN in each feature, categories in and out of the set, fractional,
 * negative and beyond the bitset; feature 3 is never split on. */
static const float test_rows[][F] = {
    {0.0f, -1.0f, 1.0f, 5.0f},   {0.0f, 1.0f, 2.0f, 0.0f},    {-2.0f, 1.0f, 3.0f, 0.0f},
    {1.0f, NAN, 2.7f, 1.0f},     {NAN, NAN, NAN, NAN},        {0.7f, 0.0f, -1.0f, 0.0f},
    {0.2f, -0.5f, 40.0f, 2.0f},  {-1.5f, 0.3f, NAN, 0.0f},    {3.0f, 2.0f, 1.0f, -4.0f},
};
#define NROWS (sizeof test_rows / sizeof test_rows[0])

/* Builds the three-tree model above (one output, base margin BASE). */
static crisk_model *tree_model(void)
{
    crisk_model *m = crisk__model_new();
    ck_assert_ptr_nonnull(m);
    m->family = CRISK__FAMILY_XGBOOST;
    strcpy(m->booster, "dart");
    strcpy(m->objective, "reg:squarederror");
    m->num_features = F;
    m->num_outputs = 1;
    m->base_margin = malloc(sizeof *m->base_margin);
    m->base_margin[0] = BASE;
    m->num_trees = NTREES;
    m->trees = calloc(NTREES, sizeof *m->trees);
    m->num_nodes = 13;
    m->nodes = calloc(m->num_nodes, sizeof *m->nodes);
    m->num_cat_words = 1;
    m->cat_words = malloc(sizeof *m->cat_words);
    m->cat_words[0] = (1u << 1) | (1u << 3);
    m->trees_per_iteration = 1;
    m->num_iterations = NTREES;
    size_t at = 0;
    for (size_t t = 0; t < NTREES; t++) {
        m->trees[t].first_node = (uint32_t)at;
        m->trees[t].num_nodes = (uint32_t)tree_sizes[t];
        m->trees[t].weight = tree_weights[t];
        for (size_t j = 0; j < tree_sizes[t]; j++) {
            const spec *s = &tree_specs[t][j];
            crisk__node *n = &m->nodes[at + j];
            n->left = s->left;
            n->right = s->right;
            n->feature = s->feature;
            n->default_left = (uint8_t)s->default_left;
            n->categorical = (uint8_t)s->categorical;
            n->cat_nwords = s->categorical ? 1 : 0;
            n->cover = s->cover;
            if (s->left == -1)
                n->value = s->value; /* shares storage with threshold */
            else if (!s->categorical)
                n->threshold = s->threshold;
        }
        at += tree_sizes[t];
    }
    crisk_load_options o;
    crisk_load_options_init(&o, CRISK_LOAD_OPTIONS_VERSION);
    crisk_error err;
    ck_assert_int_eq(crisk__model_validate(m, &o.limits, &err), 0);
    ck_assert_int_eq(crisk__engine_build(m, &err), 0);
    return m;
}

/* The expectation of tree t's output given the features in `known` (a bit set): a known
 * feature follows the row, an unknown one averages both children by cover. */
static double expectation(const crisk_model *m, size_t t, size_t node, unsigned known,
                          const float *row)
{
    const crisk__node *nodes = m->nodes + m->trees[t].first_node;
    const crisk__node *n = &nodes[node];
    if (n->left < 0)
        return n->value;
    if (known & (1u << n->feature)) {
        float x = row[n->feature];
        int left;
        if (isnan(x))
            left = n->default_left;
        else if (n->categorical)
            left = !(x >= 0 && x < 32 && ((m->cat_words[n->cat_begin] >> (unsigned)x) & 1));
        else
            left = x < n->threshold;
        return expectation(m, t, (size_t)(left ? n->left : n->right), known, row);
    }
    double l = expectation(m, t, (size_t)n->left, known, row);
    double r = expectation(m, t, (size_t)n->right, known, row);
    return (l * nodes[n->left].cover + r * nodes[n->right].cover) / n->cover;
}

/* Returns the weighted sum over trees of expectation(known). */
static double value_of(const crisk_model *m, unsigned known, const float *row)
{
    double v = 0;
    for (size_t t = 0; t < m->num_trees; t++)
        v += m->trees[t].weight * expectation(m, t, 0, known, row);
    return v;
}

/* Returns s! (n - s - 1)! / n!. */
static double shapley_weight(int n, int s)
{
    double w = 1.0 / n;
    for (int k = 1; k <= s; k++)
        w *= (double)k / (n - k);
    return w;
}

/* Brute-force Shapley value of feature i for `row`. */
static double brute_phi(const crisk_model *m, int i, const float *row)
{
    double phi = 0;
    for (unsigned S = 0; S < (1u << F); S++) {
        if (S & (1u << i))
            continue;
        phi += shapley_weight(F, __builtin_popcount(S)) *
               (value_of(m, S | (1u << i), row) - value_of(m, S, row));
    }
    return phi;
}

/* Brute-force interaction of features i != j (half the Shapley interaction index). */
static double brute_interaction(const crisk_model *m, int i, int j, const float *row)
{
    double v = 0;
    unsigned ij = (1u << i) | (1u << j);
    for (unsigned S = 0; S < (1u << F); S++) {
        if (S & ij)
            continue;
        v += shapley_weight(F - 1, __builtin_popcount(S)) *
             (value_of(m, S | ij, row) - value_of(m, S | (1u << i), row) -
              value_of(m, S | (1u << j), row) + value_of(m, S, row));
    }
    return v / 2;
}

START_TEST(test_tree_contributions_are_shapley_values)
{
    crisk_model *m = tree_model();
    float out[NROWS * C], margin[NROWS];
    crisk_predict_options o;
    crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
    o.output = CRISK_OUTPUT_MARGIN;
    crisk_error err;
    ck_assert_int_eq(crisk_contributions(m, &test_rows[0][0], NROWS, F, &o, out, &err), 0);
    ck_assert_int_eq(crisk_predict(m, &test_rows[0][0], NROWS, F, &o, margin, &err), 0);
    for (size_t r = 0; r < NROWS; r++) {
        double sum = 0;
        for (int i = 0; i < F; i++) {
            ck_assert_double_eq_tol(out[r * C + i], brute_phi(m, i, test_rows[r]), TOL);
            sum += out[r * C + i];
        }
        ck_assert_double_eq_tol(out[r * C + F], value_of(m, 0, test_rows[r]) + BASE, TOL);
        ck_assert_float_eq(out[r * C + 3], 0.0f); /* never split on */
        ck_assert_double_eq_tol(sum + out[r * C + F], margin[r], TOL);
    }
    crisk_model_free(m);
}
END_TEST

START_TEST(test_tables_agree_with_single_rows)
{
    /* A batch large enough for tables against the rows one at a time (no tables). */
    enum { COPIES = 300 };
    crisk_model *m = tree_model();
    float *rows = malloc(COPIES * NROWS * F * sizeof *rows);
    float *out = malloc(COPIES * NROWS * C * sizeof *out);
    for (size_t k = 0; k < COPIES; k++)
        memcpy(rows + k * NROWS * F, test_rows, sizeof test_rows);
    crisk_error err;
    ck_assert_int_eq(crisk_contributions(m, rows, COPIES * NROWS, F, NULL, out, &err), 0);
    for (size_t r = 0; r < NROWS; r++) {
        float one[C];
        ck_assert_int_eq(crisk_contributions(m, test_rows[r], 1, F, NULL, one, &err), 0);
        for (size_t k = 0; k < COPIES; k += 37)
            for (size_t c = 0; c < C; c++)
                ck_assert_float_eq_tol(out[(k * NROWS + r) * C + c], one[c], 1e-6);
    }
    free(rows);
    free(out);
    crisk_model_free(m);
}
END_TEST

START_TEST(test_tree_interactions)
{
    crisk_model *m = tree_model();
    float inter[NROWS * C * C], contrib[NROWS * C];
    crisk_error err;
    ck_assert_int_eq(crisk_interactions(m, &test_rows[0][0], NROWS, F, NULL, inter, &err), 0);
    ck_assert_int_eq(crisk_contributions(m, &test_rows[0][0], NROWS, F, NULL, contrib, &err),
                     0);
    for (size_t r = 0; r < NROWS; r++) {
        const float *mx = inter + r * C * C;
        for (int i = 0; i < C; i++) {
            double line = 0;
            for (int j = 0; j < C; j++) {
                line += mx[i * C + j];
                ck_assert_float_eq_tol(mx[i * C + j], mx[j * C + i], TOL);
                if (i != j && i < F && j < F)
                    ck_assert_double_eq_tol(mx[i * C + j],
                                            brute_interaction(m, i, j, test_rows[r]), TOL);
            }
            ck_assert_double_eq_tol(line, contrib[r * C + i], TOL);
        }
    }
    crisk_model_free(m);
}
END_TEST

START_TEST(test_iteration_range_sums_to_margin)
{
    crisk_model *m = tree_model();
    float out[NROWS * C], margin[NROWS];
    crisk_predict_options o;
    crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
    o.output = CRISK_OUTPUT_MARGIN;
    o.iteration_begin = 1;
    o.iteration_end = 3;
    crisk_error err;
    ck_assert_int_eq(crisk_contributions(m, &test_rows[0][0], NROWS, F, &o, out, &err), 0);
    ck_assert_int_eq(crisk_predict(m, &test_rows[0][0], NROWS, F, &o, margin, &err), 0);
    for (size_t r = 0; r < NROWS; r++) {
        double sum = 0;
        for (int c = 0; c < C; c++)
            sum += out[r * C + c];
        ck_assert_double_eq_tol(sum, margin[r], TOL);
        ck_assert_float_eq(out[r * C + 0], 0.0f); /* tree 0 is outside the range */
    }
    o.iteration_end = 4;
    ck_assert_int_eq(crisk_contributions(m, &test_rows[0][0], NROWS, F, &o, out, &err),
                     CRISK_E_INVALID_ARGUMENT);
    crisk_model_free(m);
}
END_TEST

/* Builds a linear model of `family` with 3 features and 2 outputs. */
static crisk_model *linear_model(crisk__family family)
{
    static const double w[] = {0.5, -1.0, 2.0, 0.25, -0.75, 1.5};
    crisk_model *m = crisk__model_new();
    m->family = family;
    strcpy(m->booster, family == CRISK__FAMILY_LOGISTIC ? "linear" : "gblinear");
    m->num_features = 3;
    m->num_outputs = 2;
    m->base_margin = calloc(2, sizeof *m->base_margin);
    m->weights = malloc(sizeof w);
    memcpy(m->weights, w, sizeof w);
    m->bias = malloc(2 * sizeof *m->bias);
    m->bias[0] = 0.1;
    m->bias[1] = -0.3;
    if (family == CRISK__FAMILY_LOGISTIC) {
        m->mean = malloc(3 * sizeof *m->mean);
        m->scale = malloc(3 * sizeof *m->scale);
        for (int j = 0; j < 3; j++) {
            m->mean[j] = 0.5f * (float)j - 0.2f;
            m->scale[j] = 1.0f + (float)j;
        }
    } else {
        m->base_margin[0] = m->base_margin[1] = 0.5;
    }
    return m;
}

START_TEST(test_linear_contributions)
{
    static const float rows[] = {1.0f, 2.0f, -3.0f, 0.5f, NAN, 4.0f, 0.0f, 0.0f, 0.0f};
    for (int logistic = 0; logistic < 2; logistic++) {
        crisk_model *m = linear_model(logistic ? CRISK__FAMILY_LOGISTIC : CRISK__FAMILY_XGBOOST);
        size_t n = logistic ? 1 : 3; /* logistic models refuse the NaN of row 1 */
        float out[3 * 2 * 4], margin[3 * 2], inter[3 * 2 * 16];
        crisk_predict_options o;
        crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
        o.output = CRISK_OUTPUT_MARGIN;
        crisk_error err;
        ck_assert_int_eq(crisk_contributions(m, rows, n, 3, &o, out, &err), 0);
        ck_assert_int_eq(crisk_predict(m, rows, n, 3, &o, margin, &err), 0);
        ck_assert_int_eq(crisk_interactions(m, rows, n, 3, &o, inter, &err), 0);
        for (size_t r = 0; r < n; r++)
            for (size_t g = 0; g < 2; g++) {
                const float *c = out + (r * 2 + g) * 4;
                double sum = 0;
                for (size_t j = 0; j < 4; j++) {
                    sum += c[j];
                    for (size_t k = 0; k < 4; k++)
                        ck_assert_float_eq(inter[((r * 2 + g) * 4 + j) * 4 + k],
                                           j == k ? c[j] : 0.0f);
                }
                ck_assert_double_eq_tol(sum, margin[r * 2 + g], TOL);
                for (size_t j = 0; j < 3; j++) {
                    float x = rows[r * 3 + j];
                    double wj = m->weights[j * 2 + g];
                    double want = isnan(x) ? 0.0 : logistic ? wj * (x - m->mean[j]) : x * wj;
                    ck_assert_double_eq_tol(c[j], want, 1e-6);
                }
            }
        if (logistic) {
            ck_assert_int_eq(crisk_contributions(m, rows, 2, 3, &o, out, &err), CRISK_E_INPUT);
            ck_assert_ptr_nonnull(strstr(err.message, "row 1, column 1"));
        }
        crisk_model_free(m);
    }
}
END_TEST

START_TEST(test_refusals)
{
    crisk_model *m = tree_model();
    float out[C];
    crisk_error err;
    ck_assert_int_eq(crisk_contributions(NULL, test_rows[0], 1, F, NULL, out, &err),
                     CRISK_E_INVALID_ARGUMENT);
    ck_assert_int_eq(crisk_contributions(m, test_rows[0], 1, F, NULL, NULL, &err),
                     CRISK_E_INVALID_ARGUMENT);
    ck_assert_int_eq(crisk_contributions(m, test_rows[0], 1, F - 1, NULL, out, &err),
                     CRISK_E_SHAPE);
    ck_assert_int_eq(crisk_contributions(m, NULL, 0, F, NULL, NULL, &err), 0);
    /* A LightGBM model without node counts cannot be explained. */
    m->family = CRISK__FAMILY_LIGHTGBM;
    m->nodes[1].cover = 0.0f;
    ck_assert_int_eq(crisk_contributions(m, test_rows[0], 1, F, NULL, out, &err),
                     CRISK_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.message, "tree 0, node 1: no internal_count"));
    crisk_model_free(m);
}
END_TEST

/* Returns bit i of the words w. */
static int bit(const uint64_t *w, size_t i)
{
    return (int)((w[i / 64] >> (i % 64)) & 1);
}

/* The kernels of TreeSHAP's direction words: the portable one against
 * crisk__numeric_goes_left, the SIMD ones the CPU runs against it, over two words of
 * splits, with values below, at and above thresholds, -0, infinity and NaN going both
 * default ways; and the portable pext against known values and BMI2's. */
START_TEST(test_direction_kernels)
{
    enum { NSPLITS = 112, NF = 7 };
    int32_t feature[NSPLITS];
    float threshold[NSPLITS];
    uint64_t nan_right[2] = {0, 0}, want[2], got[2];
    const float row[NF] = {-1.0f, 0.5f, NAN, 2.0f, -0.0f, INFINITY, NAN};
    for (size_t i = 0; i < NSPLITS; i++) {
        feature[i] = (int32_t)((i * 5 + i / 7) % NF);
        threshold[i] = (float)((int)(i % 9) - 4) * 0.5f;
        if (i % 3 == 0)
            nan_right[i / 64] |= UINT64_C(1) << (i % 64);
    }
    crisk__shap_dirs_in in = {feature, threshold, nan_right, NSPLITS, NF};
    ck_assert_uint_eq(crisk__shap_pext(UINT64_C(0xb4), UINT64_C(0xf0f0)), 0xb);
    ck_assert_uint_eq(crisk__shap_pext(~UINT64_C(0), UINT64_C(1) << 63), 1);
    crisk__shap_dirs_scalar(&in, row, want);
    for (size_t i = 0; i < NSPLITS; i++)
        ck_assert_int_eq(bit(want, i), !crisk__numeric_goes_left(row[feature[i]], threshold[i],
                                                                 !bit(nan_right, i)));
#if defined(__x86_64__)
    int has[2] = {__builtin_cpu_supports("avx2"), __builtin_cpu_supports("avx512f")};
    for (int k = 0; k < 4; k++) {
        if (!has[k % 2])
            continue;
        /* k >= 2: as a row too long for AVX-512's registers (it then gathers). */
        in.num_features = k < 2 ? NF : 64;
        (k % 2 ? crisk__shap_dirs_avx512 : crisk__shap_dirs_avx2)(&in, row, got);
        for (size_t i = 0; i < NSPLITS; i++)
            ck_assert_int_eq(bit(got, i), bit(want, i));
    }
    if (__builtin_cpu_supports("bmi2"))
        for (uint64_t x = 1, m = 3; m; x = x * 6364136223846793005u + 1, m <<= 3)
            ck_assert_uint_eq(crisk__shap_pext_bmi2(x, m ^ x), crisk__shap_pext(x, m ^ x));
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("explain");
    TCase *tc = tcase_create("explain");
    tcase_add_test(tc, test_tree_contributions_are_shapley_values);
    tcase_add_test(tc, test_tables_agree_with_single_rows);
    tcase_add_test(tc, test_tree_interactions);
    tcase_add_test(tc, test_iteration_range_sums_to_margin);
    tcase_add_test(tc, test_linear_contributions);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_direction_kernels);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
