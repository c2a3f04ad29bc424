/*
 * engine_bytes.c — the BYTES layout (see engine_layout.h): building it, binning rows, and
 * its AVX-512 VBMI kernel, which walks four rows at once through 64 trees per
 * instruction. Each of the top six levels selects every lane's node with masked byte
 * permutes of the level's bytes (loaded once for the four rows), looks the row's bin up
 * with a byte permute and compares bytes; levels 6 and 7 gather 32-bit words.
 */
#include "engine_layout.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* qsort comparison of floats (no NaN: validation refuses NaN thresholds). */
static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Returns the number of the `n` ascending cuts at `c` that are <= x (x not NaN). */
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
static int collect_cuts(const crisk_model *m, engine_bytes *b)
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
        const crisk_node *n = &m->nodes[i];
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

/* Returns the splits a block holds in bytes: those of the top ENGINE_BYTE_BLEND_DEPTH
 * levels. */
static size_t top_inner(const engine_bytes *b)
{
    uint32_t d = b->depth < ENGINE_BYTE_BLEND_DEPTH ? b->depth : ENGINE_BYTE_BLEND_DEPTH;
    return ((size_t)1 << d) - 1;
}

/* Returns where split j (breadth-first) of lane k of block `blk` sits in the byte arrays
 * of the top levels: level by level, and within level l each lane's 2^l splits together,
 * so that one two-register byte permute selects the splits of 128 / 2^l lanes. */
static size_t top_at(const engine_bytes *b, size_t blk, size_t j, size_t k)
{
    size_t level = 0;
    while (((size_t)2 << level) - 1 <= j)
        level++;
    size_t first = ((size_t)1 << level) - 1;
    return (blk * top_inner(b) + first) * ENGINE_BYTE_LANES + (k << level) + (j - first);
}

/* Stores split j of lane k of block `blk`: feature byte fb and rank rb, in the byte arrays
 * on the top levels, as one word (fb | rb << 8) in b->lower below them. */
static void put_split(engine_bytes *b, size_t blk, size_t j, size_t k, uint8_t fb, uint8_t rb)
{
    size_t top = top_inner(b), low = ((size_t)1 << b->depth) - 1 - top;
    if (j < top) {
        b->feature[top_at(b, blk, j, k)] = fb;
        b->rank[top_at(b, blk, j, k)] = rb;
    } else {
        b->lower[(blk * low + j - top) * ENGINE_BYTE_LANES + k] = fb | (uint32_t)rb << 8;
    }
}

/* Fills lane k of block `blk` with tree t, or with a padding tree (never added) when
 * t >= num_trees; its bottom level with leaves, or with entries when slot_of is given. */
static void fill_tree(const crisk_model *m, engine_bytes *b, const uint32_t *slot_of,
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
    const crisk_node *nodes = m->nodes + m->trees[t].first_node;
    crisk_engine_perfect_slots(m, t, b->depth, canon);
    for (size_t j = 0; j < inner; j++) {
        const crisk_node *n = nodes + canon[j];
        uint8_t fb = 0, rb = 0;
        if (n->left != -1) {
            const float *c = b->cuts + b->cut_begin[n->feature];
            size_t ncuts = b->cut_begin[n->feature + 1] - b->cut_begin[n->feature];
            /* The threshold's rank: the number of cuts below it. */
            rb = (uint8_t)(count_le(c, ncuts, n->threshold) - 1);
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
        crisk_engine_weighted_leaf(m, t, nodes + canon[inner + l],
                                   b->leaves.f ? &b->leaves.f[at] : NULL,
                                   b->leaves.d ? &b->leaves.d[at] : NULL);
    }
}

int crisk_engine_bytes_build(const crisk_model *m, uint32_t depth, const uint32_t *slot_of,
                             engine_bytes *b, size_t *bytes)
{
    memset(b, 0, sizeof *b);
    if (depth > ENGINE_BYTE_MAX_DEPTH || m->num_features > ENGINE_BYTE_MAX_FEATURES)
        return 0;
    int rc = collect_cuts(m, b);
    if (rc <= 0) {
        crisk_engine_bytes_free(b);
        return rc;
    }
    b->depth = depth;
    b->nfeatures = m->num_features;
    b->nblocks = (m->num_trees + ENGINE_BYTE_LANES - 1) / ENGINE_BYTE_LANES;
    size_t slots = b->nblocks * top_inner(b) * ENGINE_BYTE_LANES;
    size_t lows = b->nblocks * (((size_t)1 << depth) - 1 - top_inner(b)) * ENGINE_BYTE_LANES;
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
        crisk_engine_bytes_free(b);
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

void crisk_engine_bytes_free(engine_bytes *b)
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

void crisk_engine_bytes_tail(const engine_bytes *b, const engine_gnode *g, size_t count,
                             engine_tnode *out)
{
    uint16_t F = (uint16_t)b->nfeatures;
    for (size_t i = 0; i < count; i++) {
        uint32_t w = g[i].feature, f = w & ENGINE_FEATURE_MASK;
        if (w & ENGINE_LEAF) {
            out[i] = (engine_tnode){(uint16_t)(2 * F), 0, g[i].left, g[i].threshold};
            continue;
        }
        const float *c = b->cuts + b->cut_begin[f];
        size_t rank = count_le(c, b->cut_begin[f + 1] - b->cut_begin[f], g[i].threshold) - 1;
        out[i] = (engine_tnode){(uint16_t)(f + (w & ENGINE_DEFAULT_LEFT ? 0 : F)),
                                (uint16_t)rank, g[i].left, 0.0f};
    }
}

void crisk_engine_bytes_keys(const engine_bytes *b, const uint8_t *bins, uint16_t *keys)
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

__attribute__((target("avx512f"))) void
crisk_engine_bytes_bin(const engine_bytes *b, const float *row, uint8_t *bins)
{
    uint8_t *flags = bins + ENGINE_BYTE_MAX_FEATURES;
    memset(bins, 0, ENGINE_BYTE_ROW);
    for (size_t f = 0; f < b->nfeatures; f++) {
        float x = row[f];
        if (x != x) {
            flags[f] = ENGINE_BYTE_FLAG_NAN;
            continue;
        }
        /* NaN padding compares false, so only real cuts count. Segments before the last
         * one whose first cut is <= x lie wholly <= x. */
        __m512 xv = _mm512_set1_ps(x);
        unsigned c = (unsigned)__builtin_popcount(
            _mm512_cmp_ps_mask(_mm512_loadu_ps(b->fences + f * 16), xv, _CMP_LE_OQ));
        if (c == 0)
            continue;
        const float *seg = b->segments + f * 256 + 16 * (c - 1);
        unsigned bin = 16 * (c - 1) + (unsigned)__builtin_popcount(
            _mm512_cmp_ps_mask(_mm512_loadu_ps(seg), xv, _CMP_LE_OQ));
        bins[f] = (uint8_t)(bin > 255 ? 255 : bin);
        flags[f] = bin > 255 ? ENGINE_BYTE_FLAG_TOP : 0;
    }
}

void crisk_engine_bytes_bin_scalar(const engine_bytes *b, const float *row, uint8_t *bins)
{
    uint8_t *flags = bins + ENGINE_BYTE_MAX_FEATURES;
    memset(bins, 0, ENGINE_BYTE_ROW);
    for (size_t f = 0; f < b->nfeatures; f++) {
        float x = row[f];
        if (x != x) {
            flags[f] = ENGINE_BYTE_FLAG_NAN;
            continue;
        }
        size_t bin = count_le(b->cuts + b->cut_begin[f], b->cut_begin[f + 1] - b->cut_begin[f],
                              x);
        bins[f] = (uint8_t)(bin > 255 ? 255 : bin);
        flags[f] = bin > 255 ? ENGINE_BYTE_FLAG_TOP : 0;
    }
}

void crisk_engine_bytes_scalar(const engine_bytes *b, const uint8_t *bins, size_t b0,
                               size_t b1, int32_t *out)
{
    const uint8_t *flags = bins + ENGINE_BYTE_MAX_FEATURES;
    size_t top = top_inner(b), low = ((size_t)1 << b->depth) - 1 - top;
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

/* Rows the VBMI kernel walks through a block at once: they share every load of the
 * block's nodes, which bound the walk of one row. */
#define WALK_ROWS 4

/* Selects, for each of `nr` walks (a constant after inlining) and each of the 64 lanes,
 * the byte of `base + r * step` (walk r's level bytes, laid out as top_at says) for the
 * lane's node of level `level` (off[r]: the node's offset from the first node of the
 * level) into sel[r]. Each pair of 64-byte registers holds the 2^level nodes of
 * 128 / 2^level lanes: one masked byte permute a pair selects their lanes' nodes, and
 * leaves the other lanes' bytes (indices still, or bytes selected before) as they are.
 * With `step` a constant 0 the walks share every load. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) static inline void
select_level(const uint8_t *base, size_t step, const __m512i *off, uint32_t level,
             const int nr, __m512i *sel)
{
    if (level == 0) {
        for (int r = 0; r < nr; r++)
            sel[r] = _mm512_loadu_si512(base + r * step);
        return;
    }
    const __m512i lane = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42,
        41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20,
        19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    /* Lanes a pair of registers serves, and each lane's first index into its pair:
     * (lane mod per_pair) << level, shifted bytewise (16-bit shift, then mask). */
    const uint32_t per_pair = 128u >> level;
    const __m512i first = _mm512_and_si512(
        _mm512_slli_epi16(_mm512_and_si512(lane, _mm512_set1_epi8((char)(per_pair - 1))),
                          (int)level),
        _mm512_set1_epi8((char)(0xff << level)));
    for (int r = 0; r < nr; r++)
        sel[r] = _mm512_add_epi8(first, off[r]);
    for (uint32_t g = 0; g < (1u << level) / 2; g++) {
        __mmask64 mine = per_pair >= 64 ? ~(__mmask64)0
                                        : (((__mmask64)1 << per_pair) - 1) << (g * per_pair);
        for (int r = 0; r < nr; r++) {
            const uint8_t *pair = base + r * step + 128 * (size_t)g;
            sel[r] = _mm512_mask2_permutex2var_epi8(_mm512_loadu_si512(pair), sel[r], mine,
                                                    _mm512_loadu_si512(pair + 64));
        }
    }
}

/* Walks `nr` rows (row[r]: its bins; flags[r]: their flags) through blocks of trees of
 * depth `depth`, a constant after inlining so that every level's selection unrolls into
 * registers: row r through the block whose node bytes are at feat + r * step and
 * rank + r * step (`step` 0: one block for all). Leaves each lane's leaf
 * (0 .. 2^depth - 1) of walk r as bytes in off[r]. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) static inline void
walk_block(const uint8_t *feat, const uint8_t *rank, size_t step, const __m512i *row,
           const __m512i *flags, const uint32_t depth, const int nr, __m512i *off)
{
    const __m512i one = _mm512_set1_epi8(1);
    const __m512i nan = _mm512_set1_epi8((char)ENGINE_BYTE_FLAG_NAN);
    const __m512i top = _mm512_set1_epi8((char)ENGINE_BYTE_FLAG_TOP);
    /* Each lane's node as its offset within the level. */
    for (int r = 0; r < nr; r++)
        off[r] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (uint32_t l = 0; l < depth; l++) {
        __m512i fv[WALK_ROWS], rv[WALK_ROWS];
        size_t level_at = (((size_t)1 << l) - 1) * ENGINE_BYTE_LANES;
        select_level(feat + level_at, step, off, l, nr, fv);
        select_level(rank + level_at, step, off, l, nr, rv);
        for (int r = 0; r < nr; r++) {
            __m512i x = _mm512_permutexvar_epi8(fv[r], row[r]);
            __m512i xf = _mm512_permutexvar_epi8(fv[r], flags[r]);
            __mmask64 missing = _mm512_test_epi8_mask(xf, nan);
            __mmask64 le = _mm512_cmple_epu8_mask(x, rv[r]) & ~_mm512_test_epi8_mask(xf, top);
            __mmask64 left = (le & ~missing) | (missing & _mm512_movepi8_mask(fv[r]));
            off[r] = _mm512_add_epi8(off[r], off[r]);
            off[r] = _mm512_mask_add_epi8(off[r], ~left, off[r], one);
        }
    }
}

/* Walks 16 lanes (lanes `lanes`, at offsets `off` within level ENGINE_BYTE_BLEND_DEPTH)
 * on through the levels below it, held as words in `lower` (the block's), with 32-bit
 * gathers, and returns each lane's leaf. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static __m512i
walk_lower(const uint32_t *lower, uint32_t depth, __m512i row, __m512i flags, __m512i lanes,
           __m512i off)
{
    const __m512i byte = _mm512_set1_epi32(0xff), one = _mm512_set1_epi32(1);
    const __m512i nan = _mm512_set1_epi32(ENGINE_BYTE_FLAG_NAN);
    const __m512i top = _mm512_set1_epi32(ENGINE_BYTE_FLAG_TOP);
    const __m512i dl = _mm512_set1_epi32(ENGINE_BYTE_DEFAULT_LEFT);
    for (uint32_t l = ENGINE_BYTE_BLEND_DEPTH; l < depth; l++) {
        /* Node (2^l - 1) + off, counted from the first node below the byte levels. */
        int first = (1 << l) - (1 << ENGINE_BYTE_BLEND_DEPTH);
        __m512i n = _mm512_add_epi32(off, _mm512_set1_epi32(first));
        __m512i w = _mm512_i32gather_epi32(
            _mm512_add_epi32(_mm512_slli_epi32(n, 6), lanes), lower, 4);
        /* Byte 0 of each word is the feature: permute bytes, keep byte 0. */
        __m512i x = _mm512_and_si512(_mm512_permutexvar_epi8(w, row), byte);
        __m512i xf = _mm512_and_si512(_mm512_permutexvar_epi8(w, flags), byte);
        __m512i rank = _mm512_and_si512(_mm512_srli_epi32(w, 8), byte);
        __mmask16 missing = _mm512_test_epi32_mask(xf, nan);
        __mmask16 le = _mm512_cmple_epu32_mask(x, rank) & ~_mm512_test_epi32_mask(xf, top);
        __mmask16 left = (le & ~missing) | (missing & _mm512_test_epi32_mask(w, dl));
        off = _mm512_add_epi32(off, off);
        off = _mm512_mask_add_epi32(off, ~left, off, one);
    }
    return off;
}

/* Walks `nr` binned rows (walk r: bins[r]) through blocks of the layout and writes walk
 * r's leaves (leaf * 64 + lane) to out[r * stride ...]. `nr` and `blocks` are constants
 * after inlining: with `blocks` 0 every walk goes through block `blk`, sharing its loads
 * (a batch); with `blocks` 1 walk r goes through block blk + r (the blocks of one row,
 * walked at once so that their chains of permutes overlap). */
__attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) static inline void
walk_rows(const engine_bytes *b, const uint8_t *const *bins, size_t blk, const int nr,
          const size_t blocks, int32_t *out, size_t stride)
{
    _Static_assert(ENGINE_BYTE_BLEND_DEPTH == 6, "walk_block is instantiated for depths 0-6");
    size_t top = top_inner(b), low = ((size_t)1 << b->depth) - 1 - top;
    size_t step = blocks * top * ENGINE_BYTE_LANES;
    const uint8_t *feat = b->feature + blk * top * ENGINE_BYTE_LANES;
    const uint8_t *rank = b->rank + blk * top * ENGINE_BYTE_LANES;
    __m512i row[WALK_ROWS], flags[WALK_ROWS], leaf[WALK_ROWS];
    for (int r = 0; r < nr; r++) {
        row[r] = _mm512_loadu_si512(bins[r]);
        flags[r] = _mm512_loadu_si512(bins[r] + ENGINE_BYTE_MAX_FEATURES);
    }
    switch (b->depth) {
    case 0: walk_block(feat, rank, step, row, flags, 0, nr, leaf); break;
    case 1: walk_block(feat, rank, step, row, flags, 1, nr, leaf); break;
    case 2: walk_block(feat, rank, step, row, flags, 2, nr, leaf); break;
    case 3: walk_block(feat, rank, step, row, flags, 3, nr, leaf); break;
    case 4: walk_block(feat, rank, step, row, flags, 4, nr, leaf); break;
    case 5: walk_block(feat, rank, step, row, flags, 5, nr, leaf); break;
    default: walk_block(feat, rank, step, row, flags, 6, nr, leaf); break;
    }
    const __m512i lane16 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                             14, 15);
    for (int r = 0; r < nr; r++) {
        uint8_t leaves[ENGINE_BYTE_LANES];
        _mm512_storeu_si512(leaves, leaf[r]);
        for (int q = 0; q < 4; q++) {
            __m512i l32 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(leaves + 16 * q)));
            __m512i lanes = _mm512_add_epi32(lane16, _mm512_set1_epi32(16 * q));
            if (b->depth > ENGINE_BYTE_BLEND_DEPTH)
                l32 = walk_lower(b->lower + (blk + r * blocks) * low * ENGINE_BYTE_LANES,
                                 b->depth, row[r], flags[r], lanes, l32);
            _mm512_storeu_si512(out + r * stride + 16 * q,
                                _mm512_add_epi32(_mm512_slli_epi32(l32, 6), lanes));
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void
crisk_engine_bytes_vbmi(const engine_bytes *b, const uint8_t *const *bins, size_t nrows,
                        size_t b0, size_t b1, int32_t *out, size_t stride)
{
    size_t blk = b0;
    /* Fewer rows than a walk takes: each row walks WALK_ROWS blocks at once instead. */
    for (; nrows < WALK_ROWS && blk + WALK_ROWS <= b1; blk += WALK_ROWS)
        for (size_t r = 0; r < nrows; r++) {
            const uint8_t *same[WALK_ROWS];
            for (int k = 0; k < WALK_ROWS; k++)
                same[k] = bins[r];
            walk_rows(b, same, blk, WALK_ROWS, 1,
                      out + r * stride + (blk - b0) * ENGINE_BYTE_LANES, ENGINE_BYTE_LANES);
        }
    for (; blk < b1; blk++) {
        int32_t *o = out + (blk - b0) * ENGINE_BYTE_LANES;
        size_t r = 0;
        for (; r + WALK_ROWS <= nrows; r += WALK_ROWS)
            walk_rows(b, bins + r, blk, WALK_ROWS, 0, o + r * stride, stride);
        for (; r < nrows; r++)
            walk_rows(b, bins + r, blk, 1, 0, o + r * stride, stride);
    }
}
