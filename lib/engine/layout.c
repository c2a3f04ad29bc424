/*
 * engine/layout.c — what every compiled layout shares (layout.h): the canonical node at
 * each slot of a perfect tree, and a leaf weighted as the reference adds it.
 */
#include "engine/layout.h"

/* Stores tree t's leaf `n` multiplied by the tree's weight as the reference does, in
 * float for XGBoost (in *f) or in double for LightGBM (in *d). */
void crisk__engine_weighted_leaf(const crisk_model *m, size_t t, const crisk__node *n, float *f,
                                 double *d)
{
    if (m->accumulate_double)
        *d = m->trees[t].weight * n->value;
    else
        *f = (float)n->value * (float)m->trees[t].weight;
}

void crisk__engine_perfect_slots(const crisk_model *m, size_t t, uint32_t depth,
                                 int32_t *canon)
{
    const crisk__node *nodes = m->nodes + m->trees[t].first_node;
    size_t inner = ((size_t)1 << depth) - 1;
    canon[0] = 0;
    for (size_t j = 0; j < inner; j++) {
        const crisk__node *n = nodes + canon[j];
        canon[2 * j + 1] = n->left == -1 ? canon[j] : n->left;
        canon[2 * j + 2] = n->left == -1 ? canon[j] : n->right;
    }
}
