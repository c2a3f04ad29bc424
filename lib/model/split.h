/*
 * model/split.h — which child of a canonical split node a feature value takes. Shared by the
 * tree engine (prediction) and the explainers (TreeSHAP's "hot" child), which must agree
 * exactly. Internal to the library.
 */
#ifndef CRISK_SPLIT_H
#define CRISK_SPLIT_H

#include "model/model.h"

#include <float.h>
#include <math.h>

/* Returns 1 if category value `x` is in node `n`'s set. Values that are negative, too large
 * for the bitset, or not below 2^31 are in no set. LightGBM casts to int before testing
 * the sign, so that for it (-1, 0) is category 0. */
static inline int crisk__category_in_set(const crisk_model *m, const crisk__node *n, float x)
{
    int valid = m->family == CRISK__FAMILY_LIGHTGBM ? x > -1.0f : x >= 0.0f;
    if (!valid || x >= 2147483648.0f)
        return 0;
    uint32_t c = (uint32_t)x; /* truncates toward zero, as both XGBoost and LightGBM do */
    if (c / 32 >= n->cat_nwords)
        return 0;
    return (m->cat_words[n->cat_begin + c / 32] >> (c % 32)) & 1u;
}

/* Returns feature value `x` of feature `f` after the model's fix-ups for it (model->fixup
 * must not be NULL): LightGBM's missing types and its +inf thresholds, applied before the
 * trees see a row. */
static inline float crisk__fix_value(const crisk_model *m, size_t f, float x)
{
    unsigned fix = m->fixup[f];
    if ((fix & CRISK__FIXUP_NAN_TO_ZERO) && isnan(x))
        x = 0.0f;
    if ((fix & CRISK__FIXUP_ZERO_TO_NAN) && fabsf(x) <= 1e-35f)
        x = NAN;
    if ((fix & CRISK__FIXUP_INF_TO_MAX) && x == INFINITY)
        x = FLT_MAX;
    return x;
}

/* Returns `n` rows of model->num_features floats after the model's fix-ups: `rows` itself
 * when it has none, else their fixed-up copy written to `fixed` (room for n rows). */
static inline const float *crisk__fix_rows(const crisk_model *m, const float *rows, size_t n,
                                           float *fixed)
{
    if (!m->fixup)
        return rows;
    size_t F = m->num_features;
    for (size_t r = 0; r < n; r++)
        for (size_t f = 0; f < F; f++)
            fixed[r * F + f] = crisk__fix_value(m, f, rows[r * F + f]);
    return fixed;
}

/* Returns 1 if value `x` goes left at a numerical split: NaN takes the default side,
 * anything else compares x < threshold (a NaN compares false, so no branch is needed). */
static inline int crisk__numeric_goes_left(float x, float threshold, int default_left)
{
    return (x < threshold) | ((isnan(x) != 0) & (default_left != 0));
}

/* Returns 1 if value `x` (after any per-feature fix-up) goes to the left child of split
 * node `n`: NaN takes the default side, a categorical split tests the set, a numerical
 * split compares x < threshold. */
static inline int crisk__split_goes_left(const crisk_model *m, const crisk__node *n, float x)
{
    if (n->categorical && !isnan(x))
        return crisk__category_in_set(m, n, x) == n->cat_in_left;
    return crisk__numeric_goes_left(x, n->threshold, n->default_left);
}

#endif /* CRISK_SPLIT_H */
