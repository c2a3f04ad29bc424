/*
 * engine/bytes.c — the BYTES layout (see layout.h): building it, and binning rows
 * and walking them in plain C (the scalar paths). Its AVX-512 VBMI kernel is
 * bytes_vbmi.c.
 */
#include "engine/layout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* qsort comparison of floats (no NaN: validation refuses NaN thresholds). */
static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Returns the number of the `n` ascending cuts at `c` that are <= x (0 for NaN: it is <= none). */
static size_t count_le(const float *c, size_t n, float x)
{
    size_t lo = 0, len = n;
    while (len > 0) {
        size_t half = len / 2;
        int up = c[lo + half] <= x;
        lo = up ? lo + half + 1 : lo;
        len = up ? len - half - 1 : half;
    }
    return lo;
}

/* Collects each feature's distinct split thresholds into b->cuts / b->cut_begin. Returns
 * 1, 0 when a feature has more than ENGINE_BYTE_MAX_CUTS, or -1 when out of memory. */
static int collect_cuts(const crisk_model *m, crisk__engine_bytes *b)
{
    size_t F = m->num_features, nsplits = 0;
    b->cut_begin = calloc(F + 1, sizeof *b->cut_begin);
    for (size_t i = 0; b->cut_begin && i < m->num_nodes; i++)
        if (m->nodes[i].left != -1) {
            b->cut_begin[m->nodes[i].feature + 1]++;
            nsplits++;
        }
    b->cuts = malloc((nsplits ? nsplits : 1) * sizeof *b->cuts);
    uint32_t *fill = calloc(F, sizeof *fill);
    if (!b->cut_begin || !b->cuts || !fill) {
        free(fill);
        return -1;
    }
    for (size_t f = 0; f < F; f++)
        b->cut_begin[f + 1] += b->cut_begin[f];
    for (size_t i = 0; i < m->num_nodes; i++) {
        const crisk__node *n = &m->nodes[i];
        if (n->left != -1)
            b->cuts[b->cut_begin[n->feature] + fill[n->feature]++] = n->threshold;
    }
    free(fill);
    /* Sort and deduplicate each feature's thresholds, compacting the array. */
    uint32_t out = 0;
    for (size_t f = 0; f < F; f++) {
        uint32_t begin = b->cut_begin[f], end = b->cut_begin[f + 1], start = out;
        qsort(b->cuts + begin, end - begin, sizeof *b->cuts, cmp_float);
        for (uint32_t i = begin; i < end; i++)
            if (out == start || b->cuts[out - 1] != b->cuts[i])
                b->cuts[out++] = b->cuts[i];
        b->cut_begin[f] = start;
        if (out - start > ENGINE_BYTE_MAX_CUTS)
            return 0;
    }
    b->cut_begin[F] = out;
    return 1;
}

/* Returns where split j (breadth-first) of lane k of block `blk` sits in the byte arrays
 * of the top levels: level by level, and within level l each lane's 2^l splits together,
 * so that one two-register byte permute selects the splits of 128 / 2^l lanes. */
static size_t top_at(const crisk__engine_bytes *b, size_t blk, size_t j, size_t k)
{
    size_t level = 0;
    while (((size_t)2 << level) - 1 <= j)
        level++;
    size_t first = ((size_t)1 << level) - 1;
    return (blk * crisk__engine_bytes_top(b) + first) * ENGINE_BYTE_LANES + (k << level) +
           (j - first);
}

/* Stores split j of lane k of block `blk`: feature byte fb and rank rb, in the byte arrays
 * on the top levels, as one word (fb | rb << 8) in b->lower below them. */
static void put_split(crisk__engine_bytes *b, size_t blk, size_t j, size_t k, uint8_t fb, uint8_t rb)
{
    size_t top = crisk__engine_bytes_top(b), low = ((size_t)1 << b->depth) - 1 - top;
    if (j < top) {
        b->feature[top_at(b, blk, j, k)] = fb;
        b->rank[top_at(b, blk, j, k)] = rb;
    } else {
        b->lower[(blk * low + j - top) * ENGINE_BYTE_LANES + k] = fb | (uint32_t)rb << 8;
    }
}

/* Fills lane k of block `blk` with tree t, or with a padding tree (never added) when
 * t >= num_trees; its bottom level with leaves, or with entries when slot_of is given. */
static void fill_tree(const crisk_model *m, crisk__engine_bytes *b, const uint32_t *slot_of,
                      size_t blk, size_t k, size_t t)
{
    size_t inner = ((size_t)1 << b->depth) - 1, nleaves = (size_t)1 << b->depth;
    size_t leaf_base = blk * b->leaves.per_block + k;
    int32_t canon[(2u << ENGINE_BYTE_MAX_DEPTH) - 1];
    if (t >= m->num_trees) {
        for (size_t j = 0; j < inner; j++)
            put_split(b, blk, j, k, 0, 0);
        for (size_t l = 0; l < nleaves; l++) {
            if (b->entry)
                b->entry[leaf_base + l * ENGINE_BYTE_LANES] = 0;
            else if (b->leaves.d)
                b->leaves.d[leaf_base + l * ENGINE_BYTE_LANES] = 0.0;
            else
                b->leaves.f[leaf_base + l * ENGINE_BYTE_LANES] = 0.0f;
        }
        return;
    }
    const crisk__node *nodes = m->nodes + m->trees[t].first_node;
    crisk__engine_perfect_slots(m, t, b->depth, canon);
    for (size_t j = 0; j < inner; j++) {
        const crisk__node *n = nodes + canon[j];
        uint8_t fb = 0, rb = 0;
        if (n->left != -1) {
            rb = (uint8_t)crisk__engine_bytes_rank(b, (size_t)n->feature, n->threshold);
            fb = (uint8_t)((uint32_t)n->feature | (n->default_left ? ENGINE_BYTE_DEFAULT_LEFT : 0));
        }
        put_split(b, blk, j, k, fb, rb);
    }
    for (size_t l = 0; l < nleaves; l++) {
        size_t at = leaf_base + l * ENGINE_BYTE_LANES;
        if (b->entry) {
            b->entry[at] = slot_of[m->trees[t].first_node + (size_t)canon[inner + l]];
            continue;
        }
        crisk__engine_weighted_leaf(m, t, nodes + canon[inner + l],
                                    b->leaves.f ? &b->leaves.f[at] : NULL,
                                    b->leaves.d ? &b->leaves.d[at] : NULL);
    }
}

int crisk__engine_bytes_build(const crisk_model *m, uint32_t depth, const uint32_t *slot_of,
                              crisk__engine_bytes *b, size_t *bytes)
{
    memset(b, 0, sizeof *b);
    if (depth > ENGINE_BYTE_MAX_DEPTH || m->num_features > ENGINE_BYTE_MAX_FEATURES)
        return 0;
    int rc = collect_cuts(m, b);
    if (rc <= 0) {
        crisk__engine_bytes_free(b);
        return rc;
    }
    b->depth = depth;
    b->nfeatures = m->num_features;
    b->nblocks = (m->num_trees + ENGINE_BYTE_LANES - 1) / ENGINE_BYTE_LANES;
    size_t top = crisk__engine_bytes_top(b);
    size_t slots = b->nblocks * top * ENGINE_BYTE_LANES;
    size_t lows = b->nblocks * (((size_t)1 << depth) - 1 - top) * ENGINE_BYTE_LANES;
    b->leaves.lanes = ENGINE_BYTE_LANES;
    b->leaves.per_block = (size_t)ENGINE_BYTE_LANES << depth;
    size_t nleaf = b->nblocks * b->leaves.per_block;
    b->feature = malloc(slots ? slots : 1);
    b->rank = malloc(slots ? slots : 1);
    b->lower = malloc((lows ? lows : 1) * sizeof *b->lower);
    b->segments = malloc(m->num_features * 256 * sizeof *b->segments + 1);
    b->fences = malloc(m->num_features * 16 * sizeof *b->fences + 1);
    if (slot_of)
        b->entry = malloc(nleaf * sizeof *b->entry);
    else if (m->accumulate_double)
        b->leaves.d = malloc(nleaf * sizeof *b->leaves.d);
    else
        b->leaves.f = malloc(nleaf * sizeof *b->leaves.f);
    if (!b->feature || !b->rank || !b->lower || !b->segments || !b->fences ||
        !(b->leaves.d || b->leaves.f || b->entry)) {
        crisk__engine_bytes_free(b);
        return -1;
    }
    for (size_t f = 0; f < m->num_features; f++) {
        uint32_t begin = b->cut_begin[f], n = b->cut_begin[f + 1] - begin;
        for (uint32_t i = 0; i < 256; i++)
            b->segments[f * 256 + i] = i < n ? b->cuts[begin + i] : NAN;
        for (uint32_t s = 0; s < 16; s++)
            b->fences[f * 16 + s] = b->segments[f * 256 + 16 * s];
    }
    for (size_t blk = 0; blk < b->nblocks; blk++)
        for (size_t k = 0; k < ENGINE_BYTE_LANES; k++)
            fill_tree(m, b, slot_of, blk, k, blk * ENGINE_BYTE_LANES + k);
    *bytes += 2 * slots + lows * sizeof *b->lower + b->cut_begin[m->num_features] * sizeof *b->cuts +
              m->num_features * (256 + 16) * sizeof(float) +
              (m->num_features + 1) * sizeof *b->cut_begin +
              nleaf * (slot_of ? sizeof(uint32_t)
                               : m->accumulate_double ? sizeof(double) : sizeof(float));
    return 1;
}

void crisk__engine_bytes_free(crisk__engine_bytes *b)
{
    free(b->feature);
    free(b->rank);
    free(b->lower);
    free(b->cuts);
    free(b->cut_begin);
    free(b->segments);
    free(b->fences);
    free(b->leaves.f);
    free(b->leaves.d);
    free(b->entry);
    memset(b, 0, sizeof *b);
}

void crisk__engine_bytes_tail(const crisk__engine_bytes *b, const crisk__engine_gnode *g, size_t count,
                              crisk__engine_tnode *out, float *leaf)
{
    uint16_t F = (uint16_t)b->nfeatures;
    for (size_t i = 0; i < count; i++) {
        uint32_t w = g[i].feature, f = w & ENGINE_FEATURE_MASK;
        if (leaf)
            leaf[i] = w & ENGINE_LEAF ? g[i].threshold : 0.0f;
        if (w & ENGINE_LEAF) {
            out[i] = (crisk__engine_tnode){(uint16_t)(2 * F), 0, g[i].left};
            continue;
        }
        size_t rank = crisk__engine_bytes_rank(b, f, g[i].threshold);
        out[i] = (crisk__engine_tnode){(uint16_t)(f + (w & ENGINE_DEFAULT_LEFT ? 0 : F)),
                                (uint16_t)rank, g[i].left};
    }
}

void crisk__engine_bytes_keys(const crisk__engine_bytes *b, const uint8_t *bins, uint16_t *keys)
{
    const uint8_t *flags = bins + ENGINE_BYTE_MAX_FEATURES;
    size_t F = b->nfeatures;
    for (size_t f = 0; f < F; f++) {
        uint16_t bin = (uint16_t)(bins[f] + ((flags[f] & ENGINE_BYTE_FLAG_TOP) != 0));
        int nan = (flags[f] & ENGINE_BYTE_FLAG_NAN) != 0;
        keys[f] = nan ? 0 : bin;
        keys[F + f] = nan ? 0xffff : bin;
    }
    keys[2 * F] = 0;
}

/* Returns how many of feature f's cuts are <= x (0 for NaN), by binary search. */
static size_t cuts_le(const crisk__engine_bytes *b, size_t f, float x)
{
    return count_le(b->cuts + b->cut_begin[f], b->cut_begin[f + 1] - b->cut_begin[f], x);
}

size_t crisk__engine_bytes_rank(const crisk__engine_bytes *b, size_t f, float threshold)
{
    /* The number of cuts below it: those <= it, less itself. */
    return cuts_le(b, f, threshold) - 1;
}

void crisk__engine_bytes_bin_scalar(const crisk__engine_bytes *b, const float *row, uint8_t *bins)
{
    crisk__engine_bytes_bin_with(b, row, bins, cuts_le);
}

void crisk__engine_bytes_scalar(const crisk__engine_bytes *b, const uint8_t *bins, size_t b0,
                                size_t b1, int32_t *out)
{
    const uint8_t *flags = bins + ENGINE_BYTE_MAX_FEATURES;
    size_t top = crisk__engine_bytes_top(b), low = ((size_t)1 << b->depth) - 1 - top;
    for (size_t blk = b0; blk < b1; blk++) {
        for (size_t k = 0; k < ENGINE_BYTE_LANES; k++) {
            size_t off = 0;
            for (uint32_t l = 0; l < b->depth; l++) {
                size_t j = ((size_t)1 << l) - 1 + off;
                uint32_t w = j < top ? (uint32_t)b->feature[top_at(b, blk, j, k)] |
                                           (uint32_t)b->rank[top_at(b, blk, j, k)] << 8
                                     : b->lower[(blk * low + j - top) * ENGINE_BYTE_LANES + k];
                uint8_t f = (uint8_t)(w & (ENGINE_BYTE_MAX_FEATURES - 1)), rank = (uint8_t)(w >> 8);
                int left = flags[f] & ENGINE_BYTE_FLAG_NAN
                               ? (w & ENGINE_BYTE_DEFAULT_LEFT) != 0
                               : bins[f] <= rank && !(flags[f] & ENGINE_BYTE_FLAG_TOP);
                off = 2 * off + (size_t)!left;
            }
            out[(blk - b0) * ENGINE_BYTE_LANES + k] = (int32_t)(off * ENGINE_BYTE_LANES + k);
        }
    }
}
