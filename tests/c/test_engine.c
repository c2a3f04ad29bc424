/*
 * test_engine.c — the tree engine's fast paths (scalar, AVX2, AVX-512; PERFECT and GENERAL
 * layouts) against the reference walk of the canonical nodes, on random models built
 * directly in C: depths 0 to 12, NaN and -0.0 inputs, thresholds equal to inputs, several
 * output groups, DART weights, float and double accumulation, categorical splits and
 * fix-ups (which the engine leaves to the reference walk). Every comparison is bit for bit.
 */
#include "crisk.h"

#include "check_run.h"
#include "engine/engine.h"
#include "engine/layout.h"
#include "model/model.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A small deterministic generator (xorshift64*), so failures reproduce. */
typedef struct rng {
    uint64_t s;
} rng;

/* Returns the next 32 random bits of `r`. */
static uint32_t next_u32(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (uint32_t)((r->s * 2685821657736338717ull) >> 32);
}

/* Returns a uniform double in [0, 1). */
static double next_unit(rng *r)
{
    return next_u32(r) / 4294967296.0;
}

/* Returns a value on the grid k / 4, k in [-8, 8]: thresholds and inputs share it, so
 * inputs equal to thresholds are common. */
static float grid_value(rng *r)
{
    return (float)((int)(next_u32(r) % 17) - 8) / 4.0f;
}

/* What kind of model make_model builds. */
typedef struct shape {
    size_t trees, features, groups;
    uint32_t min_depth, max_depth;
    int accumulate_double, weighted, categorical, fixups;
    int fine;    /* 1: thresholds anywhere (thousands distinct a feature); 2: on a grid of
                    256 values (the BYTES layout's most) */
} shape;

/* Appends one random tree of depth at most `max_depth` (its leftmost path reaching
 * `depth_goal`) to `m`, with its nodes in a shuffled order (root first). */
static void add_tree(crisk_model *m, rng *r, const shape *s, uint32_t depth_goal, size_t t)
{
    size_t cap = ((size_t)2 << depth_goal) - 1, first = m->num_nodes, count = 1;
    crisk__node *nodes = calloc(cap, sizeof *nodes);
    uint32_t *depth = calloc(cap, sizeof *depth);
    uint8_t *leftmost = calloc(cap, 1);
    size_t *stack = malloc(cap * sizeof *stack), top = 0;
    leftmost[0] = 1;
    stack[top++] = 0;
    while (top > 0) {
        size_t i = stack[--top];
        crisk__node *n = &nodes[i];
        int split = depth[i] < depth_goal && (leftmost[i] || next_unit(r) < 0.75);
        if (!split) {
            n->left = n->right = n->feature = -1;
            n->value = (next_unit(r) - 0.5) * 0.3;
            continue;
        }
        n->left = (int32_t)count;
        n->right = (int32_t)count + 1;
        n->feature = (int32_t)(next_u32(r) % s->features);
        n->default_left = next_u32(r) & 1;
        n->threshold = s->fine == 1   ? (float)(next_unit(r) * 5.0 - 2.5)
                       : s->fine == 2 ? (float)(next_u32(r) % 256) / 48.0f - 2.5f
                                      : grid_value(r) + (next_u32(r) % 4 == 0 ? 0.1f : 0.0f);
        if (s->categorical && next_u32(r) % 3 == 0) {
            n->categorical = 1;
            n->cat_in_left = next_u32(r) & 1;
            n->cat_nwords = 1 + next_u32(r) % 2;
            n->cat_begin = (uint32_t)m->num_cat_words;
            m->cat_words = realloc(m->cat_words,
                                   (m->num_cat_words + n->cat_nwords) * sizeof *m->cat_words);
            for (uint32_t w = 0; w < n->cat_nwords; w++)
                m->cat_words[m->num_cat_words++] = next_u32(r);
        }
        for (int k = 0; k < 2; k++) {
            depth[count + (size_t)k] = depth[i] + 1;
            leftmost[count + (size_t)k] = leftmost[i] && k == 0;
            stack[top++] = count + (size_t)k;
        }
        count += 2;
    }
    /* Shuffle every node but the root, so that children are not adjacent. */
    size_t *where = malloc(count * sizeof *where);
    for (size_t i = 0; i < count; i++)
        where[i] = i;
    for (size_t i = count - 1; i > 1; i--) {
        size_t j = 1 + next_u32(r) % i, tmp = where[i];
        where[i] = where[j];
        where[j] = tmp;
    }
    m->nodes = realloc(m->nodes, (first + count) * sizeof *m->nodes);
    for (size_t i = 0; i < count; i++) {
        crisk__node n = nodes[i];
        if (n.left != -1) {
            n.left = (int32_t)where[n.left];
            n.right = (int32_t)where[n.right];
        }
        m->nodes[first + where[i]] = n;
    }
    m->num_nodes += count;
    m->trees[t].first_node = (uint32_t)first;
    m->trees[t].num_nodes = (uint32_t)count;
    m->trees[t].group = (uint32_t)(t % s->groups);
    m->trees[t].weight = s->weighted ? 0.25 + next_unit(r) : 1.0;
    free(where);
    free(nodes);
    free(depth);
    free(leftmost);
    free(stack);
}

/* Builds, validates and compiles a random model of shape `s`. */
static crisk_model *make_model(const shape *s, uint64_t seed)
{
    rng r = {seed * 0x9E3779B97F4A7C15ull + 1};
    crisk_model *m = crisk__model_new();
    ck_assert_ptr_nonnull(m);
    m->family = s->accumulate_double ? CRISK__FAMILY_LIGHTGBM : CRISK__FAMILY_XGBOOST;
    m->transform = CRISK__TF_IDENTITY;
    m->num_features = s->features;
    m->num_outputs = s->groups;
    m->base_margin = calloc(s->groups, sizeof *m->base_margin);
    m->num_trees = s->trees;
    m->trees = calloc(s->trees, sizeof *m->trees);
    m->trees_per_iteration = s->groups;
    m->num_iterations = s->trees / s->groups;
    m->accumulate_double = s->accumulate_double;
    for (size_t t = 0; t < s->trees; t++) {
        uint32_t span = s->max_depth - s->min_depth + 1;
        add_tree(m, &r, s, s->min_depth + next_u32(&r) % span, t);
    }
    if (s->fixups) {
        m->fixup = calloc(s->features, 1);
        for (size_t f = 0; f < s->features; f++)
            m->fixup[f] = (uint8_t)(f % 3 | (f % 2 ? CRISK__FIXUP_INF_TO_MAX : 0));
    }
    crisk_load_options opts;
    crisk_load_options_init(&opts, CRISK_LOAD_OPTIONS_VERSION);
    crisk_error err;
    ck_assert_int_eq(crisk__model_validate(m, &opts.limits, &err), 0);
    ck_assert_int_eq(crisk__engine_build(m, &err), 0);
    return m;
}

/* Returns `nrows` random rows for model `m`: grid values, other floats, NaN, -0.0,
 * infinities and small category numbers. The caller frees them. */
static float *make_rows(const crisk_model *m, size_t nrows, uint64_t seed)
{
    rng r = {seed + 77};
    float *rows = malloc(nrows * m->num_features * sizeof *rows);
    for (size_t i = 0; i < nrows * m->num_features; i++) {
        uint32_t kind = next_u32(&r) % 20;
        rows[i] = kind < 2    ? NAN
                  : kind == 2 ? -0.0f
                  : kind == 3 ? (next_u32(&r) & 1 ? INFINITY : -INFINITY)
                  : kind == 4 && next_u32(&r) % 4 == 0 ? 1e-36f /* zero to LightGBM */
                  : kind < 6  ? (float)(next_u32(&r) % 70)
                  : kind < 9  ? (float)(next_unit(&r) * 5.0 - 2.5)
                              : grid_value(&r);
    }
    return rows;
}

/* Returns the margins of rows under trees [t0, t1) as the reference defines them: leaves
 * from crisk__tree_leaf_value, weighted and summed in tree order, in float (XGBoost) or
 * double (LightGBM). The caller frees them. */
static double *reference_margins(const crisk_model *m, const float *rows, size_t nrows,
                                 size_t t0, size_t t1)
{
    size_t F = m->num_features, G = m->num_outputs;
    double *out = calloc(nrows * G, sizeof *out);
    for (size_t i = 0; i < nrows; i++)
        for (size_t t = t0; t < t1; t++) {
            double leaf = crisk__tree_leaf_value(m, t, rows + i * F);
            double *g = out + i * G + m->trees[t].group;
            if (m->accumulate_double)
                *g += m->trees[t].weight * leaf;
            else
                *g = (float)*g + (float)leaf * (float)m->trees[t].weight;
        }
    return out;
}

/* The kernel paths, and the names CRISK_ENGINE gives them. */
static const int PATHS[] = {CRISK__ENGINE_PATH_REFERENCE, CRISK__ENGINE_PATH_SCALAR, CRISK__ENGINE_PATH_AVX2,
                            CRISK__ENGINE_PATH_AVX512, ENGINE_PATH_AVX512_VBMI};
static const char *const PATH_NAMES[] = {"reference", "scalar", "avx2", "avx512", "avx512vbmi"};
#define NPATHS 5

/* Scores the first counts[0 .. ncounts) of `nrows` random rows with `m` through path
 * `path` (if the CPU has it), over several tree ranges, and checks each result bit for
 * bit against reference_margins. */
static void check_path_rows(crisk_model *m, int path, uint64_t seed, size_t nrows,
                            const size_t *counts, size_t ncounts)
{
    if (!crisk__engine_cpu_has((crisk__engine_path)path))
        return;
    ck_assert_int_eq(crisk__engine_select(m, path), 0);
    size_t G = m->num_outputs, T = m->num_trees;
    float *rows = make_rows(m, nrows, seed);
    size_t ranges[][2] = {{0, T}, {T / 3, T - T / 5}, {1, 2}};
    for (size_t ri = 0; ri < 3; ri++) {
        size_t t0 = ranges[ri][0], t1 = ranges[ri][1];
        double *want = reference_margins(m, rows, nrows, t0, t1);
        for (size_t ci = 0; ci < ncounts; ci++) {
            double *got = calloc(nrows * G, sizeof *got);
            crisk__engine_add_trees(m, rows, counts[ci], t0, t1, got);
            for (size_t i = 0; i < counts[ci] * G; i++)
                if (memcmp(&got[i], &want[i], sizeof got[i]) != 0)
                    ck_abort_msg("seed %llu path %d trees [%zu,%zu) rows %zu: margin %zu "
                                 "is %.17g, reference %.17g", (unsigned long long)seed,
                                 path, t0, t1, counts[ci], i, got[i], want[i]);
            free(got);
        }
        free(want);
    }
    free(rows);
}

/* check_path_rows over 1, 7 and 131 rows. */
static void check_path(crisk_model *m, int path, uint64_t seed)
{
    const size_t counts[] = {1, 7, 131};
    check_path_rows(m, path, seed, 131, counts, 3);
}

/* Builds models of `s` under several seeds and checks every path on each: on the model
 * laid out for the CPU's best path (switching paths after the build), and on models laid
 * out for each path in turn (CRISK_ENGINE at build time picks the layouts). */
static void check_shape(shape s, uint64_t seeds)
{
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        crisk_model *m = make_model(&s, seed);
        for (size_t p = 0; p < NPATHS; p++)
            check_path(m, PATHS[p], seed);
        crisk_model_free(m);
        for (size_t p = 1; p < NPATHS - 1; p++) {
            setenv("CRISK_ENGINE", PATH_NAMES[p], 1);
            m = make_model(&s, seed);
            unsetenv("CRISK_ENGINE");
            check_path(m, PATHS[p], seed);
            crisk_model_free(m);
        }
    }
}

START_TEST(test_perfect_layout_float)
{
    /* Depths 0 to 8, rows of 5 (one register), 24 (two registers) and 40 features
     * (gathered), one and three groups. */
    size_t features[] = {5, 24, 40};
    for (uint32_t d = 0; d <= ENGINE_PERFECT_MAX_DEPTH; d++)
        for (size_t f = 0; f < 3; f++) {
            shape s = {.trees = 45, .features = features[f], .groups = 1 + 2 * (d % 2),
                       .min_depth = d / 2, .max_depth = d};
            check_shape(s, 2);
        }
}
END_TEST

START_TEST(test_perfect_layout_weighted_double)
{
    shape dart = {.trees = 40, .features = 24, .groups = 2, .min_depth = 3, .max_depth = 6,
                  .weighted = 1};
    check_shape(dart, 3);
    shape lgb = {.trees = 33, .features = 17, .groups = 3, .min_depth = 1, .max_depth = 7,
                 .accumulate_double = 1, .weighted = 1};
    check_shape(lgb, 3);
}
END_TEST

START_TEST(test_many_thresholds)
{
    /* More than 256 distinct thresholds a feature: no BYTES layout; up to 256: every
     * segment of the binning; more than 64 features: no BYTES layout. The AVX-512 VBMI
     * path must agree in each case, with or without its layout. */
    shape fine = {.trees = 100, .features = 2, .groups = 1, .min_depth = 5, .max_depth = 6,
                  .fine = 1};
    check_shape(fine, 2);
    shape near = {.trees = 250, .features = 2, .groups = 1, .min_depth = 5, .max_depth = 6,
                  .fine = 2};
    check_shape(near, 2);
    shape wide = {.trees = 40, .features = 80, .groups = 2, .min_depth = 3, .max_depth = 6};
    check_shape(wide, 2);
}
END_TEST

START_TEST(test_planes_layout)
{
    /* Batches through the PLANES layout of the AVX-512 VBMI path: blocks of 128 rows, a
     * last block of any size (fewer than 48 rows go through the BYTES walk), depths 1 to
     * 8, missing values either way, 256 cuts a feature (its last cut reads the TOP flag),
     * DART weights, 64 features; each checked on every path. */
    const size_t counts[] = {47, 48, 127, 128, 129, 175, 176, 300};
    shape shapes[] = {
        {.trees = 70, .features = 24, .groups = 1, .min_depth = 1, .max_depth = 1},
        {.trees = 70, .features = 24, .groups = 1, .min_depth = 2, .max_depth = 4},
        {.trees = 70, .features = 24, .groups = 1, .min_depth = 3, .max_depth = 5},
        {.trees = 70, .features = 24, .groups = 1, .min_depth = 4, .max_depth = 6},
        {.trees = 40, .features = 40, .groups = 1, .min_depth = 5, .max_depth = 7},
        {.trees = 30, .features = 64, .groups = 1, .min_depth = 6, .max_depth = 8},
        {.trees = 250, .features = 2, .groups = 1, .min_depth = 5, .max_depth = 6, .fine = 2},
        {.trees = 60, .features = 12, .groups = 1, .min_depth = 6, .max_depth = 6,
         .weighted = 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        crisk_model *m = make_model(&shapes[i], i + 1);
        for (size_t p = 0; p < NPATHS; p++)
            check_path_rows(m, PATHS[p], i + 1, 300, counts, sizeof counts / sizeof *counts);
        crisk_model_free(m);
    }
}
END_TEST

START_TEST(test_single_row_blocks)
{
    /* A call of one row walks several BYTES blocks at once, from any first block: more
     * trees than four blocks, ranges that start and end inside blocks, one and four
     * groups; and the last one, two or three blocks walked together. */
    shape one = {.trees = 330, .features = 24, .groups = 1, .min_depth = 4, .max_depth = 6};
    check_shape(one, 2);
    shape three = {.trees = 150, .features = 25, .groups = 1, .min_depth = 3, .max_depth = 5};
    check_shape(three, 2);
    shape classes = {.trees = 320, .features = 40, .groups = 4, .min_depth = 2,
                     .max_depth = 6, .weighted = 1};
    check_shape(classes, 1);
}
END_TEST

START_TEST(test_general_layout)
{
    shape deep = {.trees = 20, .features = 30, .groups = 1, .min_depth = 6, .max_depth = 12};
    check_shape(deep, 2);
    shape multi = {.trees = 24, .features = 50, .groups = 4, .min_depth = 9, .max_depth = 10,
                   .weighted = 1};
    check_shape(multi, 2);
    shape lgb = {.trees = 12, .features = 8, .groups = 1, .min_depth = 9, .max_depth = 11,
                 .accumulate_double = 1};
    check_shape(lgb, 2);
    /* Up to 256 distinct thresholds a feature below the BYTES levels: keys of 256. */
    shape near = {.trees = 70, .features = 2, .groups = 1, .min_depth = 9, .max_depth = 10,
                  .fine = 2};
    check_shape(near, 2);
}
END_TEST

START_TEST(test_reference_fallbacks)
{
    /* Categorical splits are the reference walk's; every path must still agree with it. */
    shape cat = {.trees = 30, .features = 10, .groups = 2, .min_depth = 2, .max_depth = 6,
                 .categorical = 1};
    check_shape(cat, 2);
}
END_TEST

START_TEST(test_fixups)
{
    /* Per-feature fix-ups (NaN to 0, zero to NaN, each alone or with +inf to FLT_MAX) go
     * through the fast layouts on a fixed-up copy of each block of rows: deep (GENERAL)
     * and shallow (PERFECT, BYTES) trees; 100 features, where a block holds fewer rows
     * than usual; and rows too wide for the stack copy, which the reference walk scores. */
    shape deep = {.trees = 30, .features = 10, .groups = 1, .min_depth = 2, .max_depth = 9,
                  .accumulate_double = 1, .fixups = 1};
    check_shape(deep, 2);
    shape shallow = {.trees = 40, .features = 24, .groups = 2, .min_depth = 3, .max_depth = 6,
                     .accumulate_double = 1, .weighted = 1, .fixups = 1};
    check_shape(shallow, 2);
    shape narrow_block = {.trees = 20, .features = 100, .groups = 1, .min_depth = 3,
                          .max_depth = 10, .accumulate_double = 1, .fixups = 1};
    check_shape(narrow_block, 1);
    shape too_wide = {.trees = 6, .features = 5000, .groups = 1, .min_depth = 2,
                      .max_depth = 5, .accumulate_double = 1, .fixups = 1};
    check_shape(too_wide, 1);
}
END_TEST

START_TEST(test_predict_threads_agree)
{
    /* Through crisk_predict: one and two threads give the same bits as the reference. */
    shape s = {.trees = 64, .features = 24, .groups = 1, .min_depth = 4, .max_depth = 6};
    crisk_model *m = make_model(&s, 5);
    size_t nrows = 1500;
    float *rows = make_rows(m, nrows, 5);
    double *want = reference_margins(m, rows, nrows, 0, s.trees);
    float *out = malloc(nrows * sizeof *out);
    crisk_predict_options o;
    crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
    o.output = CRISK_OUTPUT_MARGIN;
    for (int threads = 1; threads <= 2; threads++) {
        o.threads = threads;
        crisk_error err;
        ck_assert_int_eq(crisk_predict(m, rows, nrows, s.features, &o, out, &err), 0);
        for (size_t i = 0; i < nrows; i++)
            ck_assert_msg((float)want[i] == out[i] || (isnan(want[i]) && isnan(out[i])),
                          "threads %d row %zu: %.9g, reference %.9g", threads, i, out[i],
                          want[i]);
    }
    free(out);
    free(want);
    free(rows);
    crisk_model_free(m);
}
END_TEST

START_TEST(test_memory_reported)
{
    shape s = {.trees = 20, .features = 24, .groups = 1, .min_depth = 3, .max_depth = 6};
    crisk_model *m = make_model(&s, 9);
    crisk_model_info info;
    crisk_model_get_info(m, &info);
    ck_assert_uint_gt(crisk__engine_memory(m->engine), (size_t)20 * 63 * 8);
    ck_assert_int_eq(crisk__engine_select(m, 99), -1);
    crisk_model_free(m);
}
END_TEST

/* Returns the suite of engine-versus-reference checks. */
static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("paths");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_perfect_layout_float);
    tcase_add_test(tc, test_perfect_layout_weighted_double);
    tcase_add_test(tc, test_many_thresholds);
    tcase_add_test(tc, test_planes_layout);
    tcase_add_test(tc, test_single_row_blocks);
    tcase_add_test(tc, test_general_layout);
    tcase_add_test(tc, test_reference_fallbacks);
    tcase_add_test(tc, test_fixups);
    tcase_add_test(tc, test_predict_threads_agree);
    tcase_add_test(tc, test_memory_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return crisk_check_run(engine_suite());
}
