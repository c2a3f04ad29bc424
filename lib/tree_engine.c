/*
 * tree_engine.c — adding tree leaves to margins, over blocks of rows.
 *
 * The loop is tree-major over blocks of rows: one tree's nodes stay hot in cache while
 * every row of the block walks it, and the block's rows are independent walks the CPU
 * can overlap.
 */
#include "engine.h"

#include "split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per block: the block's fixed-up rows and margins stay in L1/L2. */
#define BLOCK_ROWS 64

struct crisk_engine {
    size_t bytes;
};

int crisk_engine_build(crisk_model *model, crisk_error *err)
{
    (void)err;
    model->engine = NULL;
    return 0;
}

void crisk_engine_free(struct crisk_engine *engine)
{
    free(engine);
}

size_t crisk_engine_memory(const struct crisk_engine *engine)
{
    return engine ? engine->bytes : 0;
}

/* Returns the value of a leaf for `row`: its constant, or LightGBM's linear model, which
 * falls back to the leaf's fallback value when one of its features is missing. */
static double leaf_output(const crisk_model *m, const crisk_node *n, const float *row)
{
    if (n->linear_count == 0)
        return n->value;
    double sum = n->value;
    for (uint32_t k = 0; k < n->linear_count; k++) {
        float x = row[m->lin_feature[n->linear_begin + k]];
        if (isnan(x))
            return n->fallback;
        /* LightGBM's dense-row reader turns |x| <= 1e-35f into 0. */
        if (fabsf(x) > 1e-35f)
            sum += m->lin_coeff[n->linear_begin + k] * (double)x;
    }
    return sum;
}

/* Returns the leaf reached by `row` in tree `t`, walking the canonical nodes. */
static const crisk_node *walk(const crisk_model *m, size_t t, const float *row)
{
    const crisk_node *nodes = m->nodes + m->trees[t].first_node;
    const crisk_node *n = nodes;
    while (n->left != -1) {
        float x = row[n->feature];
        if (m->fixup)
            x = crisk_fix_value(m, (size_t)n->feature, x);
        n = nodes + (crisk_split_goes_left(m, n, x) ? n->left : n->right);
    }
    return n;
}

double crisk_tree_leaf_value(const crisk_model *m, size_t t, const float *row)
{
    return leaf_output(m, walk(m, t, row), row);
}

void crisk_engine_add_trees(const crisk_model *m, const float *rows, size_t nrows,
                            size_t t0, size_t t1, double *margins)
{
    size_t F = m->num_features, G = m->num_outputs;
    for (size_t r0 = 0; r0 < nrows; r0 += BLOCK_ROWS) {
        size_t n = nrows - r0 < BLOCK_ROWS ? nrows - r0 : BLOCK_ROWS;
        const float *block = rows + r0 * F;
        double *bm = margins + r0 * G;
        for (size_t t = t0; t < t1; t++) {
            const crisk_tree *tree = &m->trees[t];
            double *mg = bm + tree->group;
            if (m->accumulate_double) {
                for (size_t r = 0; r < n; r++)
                    mg[r * G] += tree->weight * crisk_tree_leaf_value(m, t, block + r * F);
            } else {
                /* XGBoost: float leaf times float weight, added in float. */
                float w = (float)tree->weight;
                for (size_t r = 0; r < n; r++) {
                    float leaf = (float)crisk_tree_leaf_value(m, t, block + r * F);
                    mg[r * G] = (double)((float)mg[r * G] + leaf * w);
                }
            }
        }
    }
}
