/*
 * engine/planes.c — building the PLANES layout (see layout.h): each tree's splits as
 * indices into the table of split masks a block of rows builds, and its weighted leaves.
 * Its AVX-512 kernel is planes_avx512.c.
 */
#include "engine/layout.h"

#include <math.h>
#include <stdlib.h>

/* Fills tree t's codes (two a slot, each a mask's index times two: its offset in 8-byte
 * words, which the kernel's addressing scales without a shift) and leaves: a split (f, rank) reads mask
 * planes_code(b, f, rank) and, when its missing values go right, feature f's NaN mask;
 * a leaf above the bottom level reads the zero mask twice (all rows left), its
 * descendants all carrying its value. */
static void fill_tree(const crisk_model *m, const crisk__engine_bytes *b, crisk__engine_planes *p,
                      size_t t)
{
    size_t inner = ((size_t)1 << p->depth) - 1;
    uint16_t *code = p->code + t * 2 * inner;
    float *leaf = p->leaf + t * p->leaf_stride;
    const crisk__node *nodes = m->nodes + m->trees[t].first_node;
    int32_t canon[(2u << ENGINE_PLANES_MAX_DEPTH) - 1];
    crisk__engine_perfect_slots(m, t, p->depth, canon);
    for (size_t j = 0; j < inner; j++) {
        const crisk__node *n = nodes + canon[j];
        code[2 * j] = code[2 * j + 1] = 0;
        if (n->left == -1)
            continue;
        size_t f = (size_t)n->feature;
        size_t cut = crisk__engine_planes_code(b, f, crisk__engine_bytes_rank(b, f, n->threshold));
        code[2 * j] = (uint16_t)(2 * cut);
        code[2 * j + 1] = n->default_left ? 0 : (uint16_t)(2 * (1 + f));
    }
    for (size_t l = 0; l < p->leaf_stride; l++)
        leaf[l] = 0.0f;
    for (size_t l = 0; l < ((size_t)1 << p->depth); l++)
        crisk__engine_weighted_leaf(m, t, nodes + canon[inner + l], &leaf[l], NULL);
}

/* Fills feature f's binary search levels: level k's probe i is cut i * 2^(8-k) +
 * 2^(7-k) - 1 of its 256 NaN-padded cuts, the cut a search with i as its first k steps'
 * outcome compares next; cut 255 follows level 0's probe. */
static void fill_search(const crisk__engine_bytes *b, size_t f, float *search)
{
    const float *cuts = b->segments + f * 256;
    for (size_t i = 0; i < ENGINE_PLANES_SEARCH; i++)
        search[i] = NAN;
    for (uint32_t k = 0; k < 8; k++)
        for (size_t i = 0; i < ((size_t)1 << k); i++)
            search[16 * crisk__engine_planes_level(k) + i] =
                cuts[(i << (8 - k)) + ((size_t)1 << (7 - k)) - 1];
    /* Eight steps count among the first 255 cuts; the last is checked after them. */
    search[1] = cuts[255];
}

int crisk__engine_planes_build(const crisk_model *m, const crisk__engine_bytes *b,
                               crisk__engine_planes *p, size_t *bytes)
{
    memset(p, 0, sizeof *p);
    size_t ncodes = crisk__engine_planes_code(b, b->nfeatures, 0);
    /* Fix-ups (LightGBM's, whose sums are double anyway) would put their stack copy of the
     * rows under the table: without them the call stays well inside its 128 KiB. */
    if (m->accumulate_double || m->fixup || m->num_outputs != 1 || b->depth < 1 ||
        b->depth > ENGINE_PLANES_MAX_DEPTH || ncodes * ENGINE_PLANES_ROWS / 8 > ENGINE_PLANES_TABLE)
        return 0;
    p->depth = b->depth;
    p->leaf_stride = ((size_t)1 << p->depth) < 32 ? 32 : (size_t)1 << p->depth;
    size_t codes = m->num_trees * 2 * (((size_t)1 << p->depth) - 1);
    p->code = malloc((codes ? codes : 1) * sizeof *p->code);
    p->leaf = malloc(m->num_trees * p->leaf_stride * sizeof *p->leaf);
    p->search = malloc(b->nfeatures * ENGINE_PLANES_SEARCH * sizeof *p->search + 1);
    if (!p->code || !p->leaf || !p->search) {
        crisk__engine_planes_free(p);
        return -1;
    }
    for (size_t t = 0; t < m->num_trees; t++)
        fill_tree(m, b, p, t);
    for (size_t f = 0; f < b->nfeatures; f++)
        fill_search(b, f, p->search + f * ENGINE_PLANES_SEARCH);
    *bytes += codes * sizeof *p->code + m->num_trees * p->leaf_stride * sizeof *p->leaf +
              b->nfeatures * ENGINE_PLANES_SEARCH * sizeof *p->search;
    return 1;
}

void crisk__engine_planes_free(crisk__engine_planes *p)
{
    free(p->code);
    free(p->leaf);
    free(p->search);
    memset(p, 0, sizeof *p);
}
