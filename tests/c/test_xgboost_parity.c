/*
 * test_xgboost_parity.c — crisk scores XGBoost models exactly as libxgboost does.
 *
 * Each case trains a small model with libxgboost at test time (every booster x every
 * objective crisk supports, then shapes: depths, random forests, explicit base_score,
 * one-hot and partition categorical splits), saves it as JSON and as UBJSON, loads both
 * bytes with crisk, and compares crisk_predict with XGBoosterPredictFromDMatrix, both
 * transformed and margin outputs, over several iteration ranges. The rows are the
 * training rows plus rows with hostile values (categories that are negative, fractional,
 * unseen or beyond 2^24; huge and tiny numbers). libxgboost 1.7 refuses infinities in a
 * DMatrix, so they cannot be compared here.
 */
#include "crisk.h"
#include "synth.h"
#include "xgb_train.h"

#include "check_run.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NROWS 500
#define NUM_CLASS 4
#define GROUP_SIZE 20
#define MAX_REPORTS 5

static const char *const objectives[] = {
    "binary:logistic", "binary:logitraw", "binary:hinge", "reg:logistic",
    "reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror",
    "reg:absoluteerror", "count:poisson", "reg:gamma", "reg:tweedie",
    "multi:softprob", "multi:softmax", "rank:pairwise", "rank:ndcg",
};
#define NUM_OBJECTIVES (sizeof objectives / sizeof objectives[0])

static const char *const boosters[] = {"gbtree", "dart", "gblinear"};
#define NUM_BOOSTERS (sizeof boosters / sizeof boosters[0])

/* One model to train and compare. */
typedef struct parity_case {
    const char *booster;
    const char *objective;
    const char *depth;        /* max_depth; NULL: libxgboost's default (6) */
    int parallel_tree;        /* num_parallel_tree; 0 means 1 */
    const char *base_score;   /* NULL: libxgboost's default */
    const char *onehot;       /* max_cat_to_onehot; NULL: 1.7's default 4, which gives
                                 partition splits (a set of categories goes right) for our
                                 10 categories; "32" gives one-hot splits (one category) */
    int rounds;
} parity_case;

/* Shapes beyond the booster x objective matrix. */
static const parity_case shape_cases[] = {
    {"gbtree", "binary:logistic", "2", 0, NULL, NULL, 6},
    {"gbtree", "binary:logistic", "10", 0, NULL, NULL, 6},
    {"gbtree", "reg:squarederror", "10", 0, NULL, NULL, 6},
    {"gbtree", "multi:softprob", "2", 0, NULL, NULL, 6},
    {"gbtree", "multi:softprob", "10", 0, NULL, NULL, 4},
    {"gbtree", "binary:logistic", "6", 3, NULL, NULL, 4},
    {"gbtree", "multi:softprob", "6", 3, NULL, NULL, 4},
    {"dart", "reg:squarederror", "6", 3, NULL, NULL, 4},
    {"gbtree", "binary:logistic", "6", 0, NULL, "32", 6},
    {"gbtree", "multi:softmax", "6", 0, NULL, "32", 6},
    {"gbtree", "reg:squarederror", "6", 0, NULL, "1", 6},
    {"dart", "binary:logistic", "6", 0, "0.3", "32", 6},
};
#define NUM_SHAPES (sizeof shape_cases / sizeof shape_cases[0])
#define NUM_CASES (NUM_BOOSTERS * NUM_OBJECTIVES + NUM_OBJECTIVES + NUM_SHAPES)

/* Returns case `i`: the booster x objective matrix, then every objective with an explicit
 * base_score of 0.3, then the shapes. */
static parity_case case_at(size_t i)
{
    parity_case c = {NULL, NULL, NULL, 0, NULL, NULL, 6};
    if (i < NUM_BOOSTERS * NUM_OBJECTIVES) {
        c.booster = boosters[i / NUM_OBJECTIVES];
        c.objective = objectives[i % NUM_OBJECTIVES];
        return c;
    }
    i -= NUM_BOOSTERS * NUM_OBJECTIVES;
    if (i < NUM_OBJECTIVES) {
        c.booster = "gbtree";
        c.objective = objectives[i];
        c.base_score = "0.3";
        return c;
    }
    return shape_cases[i - NUM_OBJECTIVES];
}

/* Returns 1 if `objective` starts with `prefix`. */
static int is(const char *objective, const char *prefix)
{
    return strncmp(objective, prefix, strlen(prefix)) == 0;
}

/* Returns the label of a row for `objective`, drawn from the row's latent score `s` and
 * uniform `u`, in the range the objective accepts. */
static float label_for(const char *objective, float s, float u)
{
    if (is(objective, "binary:"))
        return s > 0 ? 1.0f : 0.0f;
    if (strcmp(objective, "reg:logistic") == 0)
        return 1.0f / (1.0f + expf(-2.0f * s));
    if (strcmp(objective, "reg:squaredlogerror") == 0)
        return expf(s) - 0.5f;
    if (strcmp(objective, "count:poisson") == 0)
        return floorf(expf(s) * 2.0f + u);
    if (strcmp(objective, "reg:gamma") == 0)
        return expf(s) * (0.5f + u);
    if (strcmp(objective, "reg:tweedie") == 0)
        return u < 0.3f ? 0.0f : expf(s) * (0.5f + u);
    if (is(objective, "multi:"))
        return s < -0.5f ? 0.0f : s < 0.0f ? 1.0f : s < 0.5f ? 2.0f : 3.0f;
    if (is(objective, "rank:")) {
        float g = s + u;
        return g < 0.0f ? 0.0f : g < 0.5f ? 1.0f : g < 1.0f ? 2.0f : g < 1.5f ? 3.0f : 4.0f;
    }
    return 3.0f * s + u;
}

/* Values written into copies of training rows, to reach the edges of every split: for the
 * categorical columns, categories that are negative, fractional, unseen, beyond the
 * bitset or beyond 2^24; for the others, huge and tiny values, -0. */
static const float hostile_cat[] = {
    -1.0f, -0.5f, 2.7f, 9.99f, 10.0f, 11.0f, 31.0f, 32.0f, 33.0f, 63.5f, 64.0f, 100.0f,
    1e6f, 16777215.0f, 16777216.0f, 3e9f, -3e9f, 3e38f, NAN, 0.0f, -0.0f, 0.999f, 5.0f,
};
static const float hostile_num[] = {
    3e38f, -3e38f, 1e-40f, -1e-40f, -0.0f, 0.0f, NAN, 16777217.0f,
};
#define NUM_HOSTILE (sizeof hostile_cat / sizeof hostile_cat[0])

/* A case's data: the training rows and labels, then the rows scored (training rows plus
 * hostile copies). */
typedef struct case_data {
    synth_data synth;
    float labels[NROWS];
    unsigned groups[NROWS / GROUP_SIZE];
    float *rows;           /* nrows x SYNTH_NCOLS */
    size_t nrows;
    xgbt_data train, score;
} case_data;

static const char *const feature_types[SYNTH_NCOLS] = {
    "q", "q", "q", "c", "q", "q", "q", "q", "c", "q", "q", "q",
};
static const char *const feature_names[SYNTH_NCOLS] = {
    "declared_value", "weight_ratio", "days_in_transit", "origin_country", "line_count",
    "price_delta", "duty_offset", "first_import", "hs_chapter", "importer_score",
    "tariff_gap", "random_share",
};

/* Builds the data for objective `objective`. */
static void make_case_data(case_data *d, const char *objective)
{
    memset(d, 0, sizeof *d);
    ck_assert_int_eq(synth_make(&d->synth, NROWS, 20240607), 0);
    for (size_t r = 0; r < NROWS; r++)
        d->labels[r] = label_for(objective, d->synth.score[r], d->synth.uniform[r]);
    for (size_t g = 0; g < NROWS / GROUP_SIZE; g++)
        d->groups[g] = GROUP_SIZE;
    d->nrows = NROWS + NUM_HOSTILE;
    d->rows = malloc(d->nrows * SYNTH_NCOLS * sizeof *d->rows);
    ck_assert_ptr_nonnull(d->rows);
    memcpy(d->rows, d->synth.x, NROWS * SYNTH_NCOLS * sizeof *d->rows);
    for (size_t h = 0; h < NUM_HOSTILE; h++) {
        float *row = d->rows + (NROWS + h) * SYNTH_NCOLS;
        memcpy(row, d->synth.x + h * SYNTH_NCOLS, SYNTH_NCOLS * sizeof *row);
        row[SYNTH_CAT0] = hostile_cat[h];
        row[SYNTH_CAT1] = hostile_cat[NUM_HOSTILE - 1 - h];
        row[h % 3] = hostile_num[h % (sizeof hostile_num / sizeof hostile_num[0])];
    }
    d->train = (xgbt_data){d->synth.x, NROWS, SYNTH_NCOLS, d->labels, feature_types,
                           feature_names, is(objective, "rank:") ? d->groups : NULL,
                           is(objective, "rank:") ? NROWS / GROUP_SIZE : 0};
    /* Prediction needs no feature types: libxgboost reads split kinds from the trees, and
     * would refuse the hostile categories in a categorical DMatrix. */
    d->score = (xgbt_data){d->rows, d->nrows, SYNTH_NCOLS, NULL, NULL, NULL, NULL, 0};
}

/* Frees what make_case_data allocated. */
static void free_case_data(case_data *d)
{
    synth_free(&d->synth);
    free(d->rows);
}

/* Trains case `c` on `d`. */
static xgbt_booster *train_case(const parity_case *c, case_data *d)
{
    const char *params[32];
    char parallel[16], num_class[16];
    size_t n = 0;
    params[n++] = "booster";
    params[n++] = c->booster;
    params[n++] = "objective";
    params[n++] = c->objective;
    if (strcmp(c->booster, "gblinear") != 0) {
        /* Categorical splits need hist (or approx) in 1.7. */
        params[n++] = "tree_method";
        params[n++] = "hist";
    }
    if (is(c->objective, "multi:")) {
        snprintf(num_class, sizeof num_class, "%d", NUM_CLASS);
        params[n++] = "num_class";
        params[n++] = num_class;
    }
    if (strcmp(c->booster, "dart") == 0) {
        params[n++] = "rate_drop";
        params[n++] = "0.3";
        params[n++] = "skip_drop";
        params[n++] = "0";
    }
    if (c->depth) {
        params[n++] = "max_depth";
        params[n++] = c->depth;
    }
    if (c->parallel_tree > 1) {
        snprintf(parallel, sizeof parallel, "%d", c->parallel_tree);
        params[n++] = "num_parallel_tree";
        params[n++] = parallel;
        params[n++] = "subsample";
        params[n++] = "0.8";
        params[n++] = "colsample_bynode";
        params[n++] = "0.8";
    }
    if (c->base_score) {
        params[n++] = "base_score";
        params[n++] = c->base_score;
    }
    if (c->onehot) {
        params[n++] = "max_cat_to_onehot";
        params[n++] = c->onehot;
    }
    params[n] = NULL;
    char msg[1024];
    xgbt_booster *b = xgbt_train(&d->train, params, c->rounds, msg, sizeof msg);
    if (!b)
        ck_abort_msg("%s %s: libxgboost training failed: %s", c->booster, c->objective, msg);
    return b;
}

/* Returns the distance in float32 units in the last place between a and b (both finite). */
static int64_t ulp_distance(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    /* Map the sign-magnitude bit patterns to a monotonic integer line. */
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
    int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return la > lb ? la - lb : lb - la;
}

/* Returns 1 if crisk's `got` matches libxgboost's `want`: within 1e-6, or within 4 ulps
 * where |want| > 1; NaN and infinities must be equal. */
static int close_enough(float got, float want)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    if (fabsf(got - want) <= 1e-6f)
        return 1;
    return fabsf(want) > 1.0f && ulp_distance(got, want) <= 4;
}

/* What one comparison is: for messages. */
typedef struct compare_ctx {
    const parity_case *c;
    const char *format;
    int margin;
    int begin, end;
} compare_ctx;

/* Compares `n` outputs of crisk with libxgboost's over rows of `per_row` outputs; prints
 * the first mismatches and returns how many there were. */
static size_t compare(const compare_ctx *x, const float *got, const float *want, size_t n,
                      size_t per_row)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (close_enough(got[i], want[i]))
            continue;
        if (bad++ < MAX_REPORTS)
            fprintf(stderr,
                    "MISMATCH %s %s depth=%s trees/iter=%d base_score=%s onehot=%s (%s, %s, "
                    "iterations [%d, %d)): row %zu output %zu: libxgboost %.9g, crisk %.9g\n",
                    x->c->booster, x->c->objective, x->c->depth ? x->c->depth : "default",
                    x->c->parallel_tree ? x->c->parallel_tree : 1,
                    x->c->base_score ? x->c->base_score : "default",
                    x->c->onehot ? x->c->onehot : "default", x->format,
                    x->margin ? "margin" : "transformed", x->begin, x->end, i / per_row,
                    i % per_row, (double)want[i], (double)got[i]);
    }
    if (bad > MAX_REPORTS)
        fprintf(stderr, "... %zu mismatches in all\n", bad);
    return bad;
}

/* Checks what crisk says about the loaded model against the case that trained it. */
static void check_info(const crisk_model *m, const parity_case *c, const char *format)
{
    int multi = is(c->objective, "multi:");
    int linear = strcmp(c->booster, "gblinear") == 0;
    size_t groups = multi ? NUM_CLASS : 1;
    size_t outputs = strcmp(c->objective, "multi:softprob") == 0 ? NUM_CLASS : 1;
    crisk_model_info info;
    crisk_model_get_info(m, &info);
    ck_assert_uint_eq(crisk_model_num_features(m), SYNTH_NCOLS);
    ck_assert_msg(crisk_model_num_outputs(m) == outputs, "%s %s (%s): num_outputs %zu, want %zu",
                  c->booster, c->objective, format, crisk_model_num_outputs(m), outputs);
    ck_assert_uint_eq(crisk_model_num_margins(m), groups);
    ck_assert_str_eq(info.format, "xgboost");
    for (size_t j = 0; j < SYNTH_NCOLS; j++) {
        const char *name = crisk_model_feature_name(m, j);
        ck_assert_msg(name && strcmp(name, feature_names[j]) == 0,
                      "%s %s (%s): feature %zu is named \"%s\", want \"%s\"", c->booster,
                      c->objective, format, j, name ? name : "(null)", feature_names[j]);
    }
    ck_assert_ptr_null(crisk_model_feature_name(m, SYNTH_NCOLS));
    ck_assert_str_eq(info.booster, c->booster);
    ck_assert_str_eq(info.objective, c->objective);
    ck_assert_uint_eq(info.num_features, SYNTH_NCOLS);
    ck_assert_uint_eq(info.num_outputs, outputs);
    if (is(c->objective, "binary:"))
        ck_assert_uint_eq(info.num_classes, 2);
    else if (multi)
        ck_assert_uint_eq(info.num_classes, NUM_CLASS);
    else if (strcmp(c->objective, "reg:logistic") != 0)
        ck_assert_uint_eq(info.num_classes, 0);
    if (linear) {
        ck_assert_uint_eq(info.num_trees, 0);
        ck_assert_uint_eq(info.num_iterations, 0);
        return;
    }
    size_t per_iter = groups * (size_t)(c->parallel_tree ? c->parallel_tree : 1);
    ck_assert_uint_eq(info.num_iterations, (size_t)c->rounds);
    ck_assert_uint_eq(info.num_trees, (size_t)c->rounds * per_iter);
    ck_assert_uint_ge(info.num_nodes, info.num_trees);
    ck_assert_uint_le(info.max_depth, (size_t)atoi(c->depth ? c->depth : "6"));
    ck_assert_uint_gt(info.memory_bytes, 0);
}

/* Fills `r` with the iteration ranges compared for a tree model of `rounds` rounds (at
 * least 3): all ({0, 0}), the first, a middle slice, and an open end. Returns 4. */
static size_t iteration_ranges(int rounds, int r[4][2])
{
    static const int fractions[4][2] = {{0, 0}, {0, 1}, {1, -1}, {2, 0}};
    for (size_t k = 0; k < 4; k++) {
        r[k][0] = fractions[k][0];
        r[k][1] = fractions[k][1] < 0 ? rounds + fractions[k][1] : fractions[k][1];
    }
    return 4;
}

/* Scores `d` with crisk model `m` and with booster `b` for every output kind and range,
 * and returns the number of mismatches. */
static size_t compare_model(const crisk_model *m, xgbt_booster *b, const parity_case *c,
                            const char *format, case_data *d)
{
    int linear = strcmp(c->booster, "gblinear") == 0;
    int ranges[4][2];
    size_t nranges = iteration_ranges(c->rounds, ranges);
    if (linear)
        nranges = 1;
    size_t bad = 0;
    char msg[1024];
    for (int margin = 0; margin <= 1; margin++) {
        for (size_t k = 0; k < nranges; k++) {
            float *want = NULL;
            size_t n = 0;
            if (xgbt_predict(b, &d->score, margin, ranges[k][0], ranges[k][1], &want, &n, msg,
                             sizeof msg) != 0)
                ck_abort_msg("%s %s: libxgboost prediction failed: %s", c->booster,
                             c->objective, msg);
            ck_assert_uint_eq(n % d->nrows, 0);
            size_t per_row = n / d->nrows;
            ck_assert_uint_eq(per_row, margin ? crisk_model_num_margins(m)
                                              : crisk_model_num_outputs(m));
            float *got = malloc(n * sizeof *got);
            ck_assert_ptr_nonnull(got);
            crisk_predict_options o;
            crisk_predict_options_init(&o);
            o.output = margin ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
            o.iteration_begin = (size_t)ranges[k][0];
            o.iteration_end = (size_t)ranges[k][1];
            crisk_error err;
            int rc = crisk_predict(m, d->rows, d->nrows, SYNTH_NCOLS, &o, got, &err);
            ck_assert_msg(rc == 0, "%s %s (%s): crisk_predict failed: %s: %s", c->booster,
                          c->objective, format, crisk_err_name(rc), err.message);
            compare_ctx x = {c, format, margin, ranges[k][0], ranges[k][1]};
            bad += compare(&x, got, want, n, per_row);
            free(got);
            free(want);
        }
    }
    if (linear) {
        /* Iteration ranges have no meaning for a linear model: crisk refuses them. */
        crisk_predict_options o;
        crisk_predict_options_init(&o);
        o.iteration_end = 1;
        float out[NUM_CLASS * 2];
        crisk_error err;
        ck_assert_int_eq(crisk_predict(m, d->rows, 1, SYNTH_NCOLS, &o, out, &err),
                         CRISK_E_INVALID_ARGUMENT);
    } else {
        /* A range beyond the model is refused, not clamped. */
        crisk_predict_options o;
        crisk_predict_options_init(&o);
        o.iteration_end = (size_t)c->rounds + 1;
        float out[NUM_CLASS * 2];
        crisk_error err;
        ck_assert_int_eq(crisk_predict(m, d->rows, 1, SYNTH_NCOLS, &o, out, &err),
                         CRISK_E_INVALID_ARGUMENT);
    }
    return bad;
}

START_TEST(test_parity)
{
    parity_case c = case_at((size_t)_i);
    case_data d;
    make_case_data(&d, c.objective);
    xgbt_booster *b = train_case(&c, &d);
    ck_assert_int_eq(xgbt_rounds(b), c.rounds);
    static const char *const formats[] = {"json", "ubj"};
    size_t bad = 0;
    for (size_t f = 0; f < 2; f++) {
        unsigned char *bytes = NULL;
        size_t size = 0;
        char msg[1024];
        ck_assert_msg(xgbt_save(b, formats[f], &bytes, &size, msg, sizeof msg) == 0, "%s",
                      msg);
        crisk_model *m = NULL;
        crisk_error err;
        int rc = crisk_model_load_buffer(bytes, size, &m, &err);
        ck_assert_msg(rc == 0, "%s %s (%s): crisk_model_load_buffer failed: %s: %s",
                      c.booster, c.objective, formats[f], crisk_err_name(rc), err.message);
        check_info(m, &c, formats[f]);
        bad += compare_model(m, b, &c, formats[f], &d);
        crisk_model_free(m);
        free(bytes);
    }
    xgbt_free(b);
    free_case_data(&d);
    ck_assert_msg(bad == 0, "%s %s: %zu outputs differ from libxgboost (see stderr)",
                  c.booster, c.objective, bad);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xgboost_parity");
    TCase *tc = tcase_create("parity");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_parity, 0, (int)NUM_CASES);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
