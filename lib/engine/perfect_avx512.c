/*
 * engine/perfect_avx512.c — the AVX-512 kernel of the PERFECT layout: one row through 16 trees at
 * once, one tree per lane. Compiled for AVX-512 by function attribute and called only when
 * the CPU has it, so the library stays one portable binary.
 */
#include "engine/layout.h"

#include <immintrin.h>

/* Loads the 8-byte splits of node `n` of a block for lanes 0-7 (*lo) and 8-15 (*hi). */
__attribute__((target("avx512f"))) static inline void
load_node(const crisk__engine_pnode *base, size_t n, __m512i *lo, __m512i *hi)
{
    *lo = _mm512_loadu_si512(base + n * ENGINE_LANES);
    *hi = _mm512_loadu_si512(base + n * ENGINE_LANES + 8);
}

/* Levels above this one are read with plain loads and blends, the rest with gathers. */
#define BLEND_LEVELS 4

/* Selects, for each lane, the split of level `level` (< BLEND_LEVELS) at the lane's node
 * `j`: loads every node of the level and narrows them down bit by bit of j's offset in
 * the level, with blends. Writes 8-byte pairs for lanes 0-7 (*lo) and 8-15 (*hi). */
__attribute__((target("avx512f"), always_inline)) static inline void
blend_level(const crisk__engine_pnode *base, __m512i j, const uint32_t level, __m512i *lo,
            __m512i *hi)
{
    size_t first = ((size_t)1 << level) - 1, count = (size_t)1 << level;
    __m512i cl[1 << (BLEND_LEVELS - 1)], ch[1 << (BLEND_LEVELS - 1)];
    for (size_t i = 0; i < count; i++)
        load_node(base, first + i, &cl[i], &ch[i]);
    __m512i offset = _mm512_sub_epi32(j, _mm512_set1_epi32((int)first));
    for (uint32_t bit = 0; bit < level; bit++) {
        __mmask16 odd = _mm512_test_epi32_mask(offset, _mm512_set1_epi32(1 << bit));
        for (size_t i = 0; i < count >> (bit + 1); i++) {
            cl[i] = _mm512_mask_blend_epi64((__mmask8)odd, cl[2 * i], cl[2 * i + 1]);
            ch[i] = _mm512_mask_blend_epi64((__mmask8)(odd >> 8), ch[2 * i], ch[2 * i + 1]);
        }
    }
    *lo = cl[0];
    *hi = ch[0];
}

/* Fetches, for each lane, the split of level `level` of a block at the lane's current node
 * `j`, as 8-byte pairs for lanes 0-7 (*lo) and 8-15 (*hi): blends of plain loads on the
 * top levels, two 64-bit gathers below. */
__attribute__((target("avx512f"), always_inline)) static inline void
level_splits(const crisk__engine_pnode *base, __m512i j, __m512i lane, uint32_t level, __m512i *lo,
             __m512i *hi)
{
    _Static_assert(BLEND_LEVELS <= 4, "blend_level is written out for levels 0 to 3");
    if (level == 0) {
        blend_level(base, j, 0, lo, hi);
    } else if (level == 1) {
        blend_level(base, j, 1, lo, hi);
    } else if (level == 2 && BLEND_LEVELS > 2) {
        blend_level(base, j, 2, lo, hi);
    } else if (level == 3 && BLEND_LEVELS > 3) {
        blend_level(base, j, 3, lo, hi);
    } else {
        __m512i idx = _mm512_add_epi32(_mm512_slli_epi32(j, 4), lane);
        *lo = _mm512_i32gather_epi64(_mm512_castsi512_si256(idx), base, 8);
        *hi = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(idx, 1), base, 8);
    }
}

/* The constants of a walk: lane numbers and the row's features, held in registers when
 * there are at most 32 of them (a permute then replaces the gather of x). */
typedef struct walk_ctx {
    __m512i lane;
    __m512 r0, r1;
    int in_regs;
    const float *row;
} walk_ctx;

/* Walks the row through `nb` consecutive blocks from block `b` at once: their walks are
 * independent chains of gathers, interleaved so that the CPU overlaps their latencies.
 * Writes each block's leaf indices to out[q * 16 ...]. */
__attribute__((target("avx512f"), always_inline)) static inline void
walk_blocks(const crisk__engine_perfect *p, const walk_ctx *c, size_t b, const int nb, int32_t *out)
{
    enum { MAX_NB = 4 };
    size_t inner = ((size_t)1 << p->depth) - 1;
    const __m512i two = _mm512_set1_epi32(2), one = _mm512_set1_epi32(1);
    const __m512i fmask = _mm512_set1_epi32((int)ENGINE_FEATURE_MASK);
    const __m512i dlbit = _mm512_set1_epi32((int)ENGINE_DEFAULT_LEFT);
    /* Indices that split 16 (feature word, threshold) pairs into words and thresholds. */
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24,
                                            26, 28, 30);
    const __m512i odds = _mm512_add_epi32(evens, one);
    const crisk__engine_pnode *base[MAX_NB];
    __m512i j[MAX_NB];
    for (int q = 0; q < nb; q++) {
        base[q] = p->nodes + (b + (size_t)q) * inner * ENGINE_LANES;
        j[q] = _mm512_setzero_si512();
    }
    for (uint32_t l = 0; l < p->depth; l++) {
        for (int q = 0; q < nb; q++) {
            __m512i lo, hi;
            level_splits(base[q], j[q], c->lane, l, &lo, &hi);
            __m512i w = _mm512_permutex2var_epi32(lo, evens, hi);
            __m512 t = _mm512_castsi512_ps(_mm512_permutex2var_epi32(lo, odds, hi));
            __m512i f = _mm512_and_si512(w, fmask);
            __m512 x = c->in_regs ? _mm512_permutex2var_ps(c->r0, f, c->r1)
                                  : _mm512_i32gather_ps(f, c->row, 4);
            __mmask16 left = _mm512_cmp_ps_mask(x, t, _CMP_LT_OQ) |
                             (_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q) &
                              _mm512_test_epi32_mask(w, dlbit));
            j[q] = _mm512_add_epi32(_mm512_slli_epi32(j[q], 1), two);
            j[q] = _mm512_mask_sub_epi32(j[q], left, j[q], one);
        }
    }
    for (int q = 0; q < nb; q++) {
        __m512i leaf = _mm512_sub_epi32(j[q], _mm512_set1_epi32((int)inner));
        _mm512_storeu_si512(out + q * ENGINE_LANES,
                            _mm512_add_epi32(_mm512_slli_epi32(leaf, 4), c->lane));
    }
}

__attribute__((target("avx512f"))) void
crisk__engine_perfect_avx512(const crisk__engine_perfect *p, const float *row, size_t nfeatures,
                             size_t b0, size_t b1, int32_t *out)
{
    walk_ctx c;
    c.lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    c.row = row;
    c.in_regs = nfeatures <= 32;
    c.r0 = c.r1 = _mm512_setzero_ps();
    if (c.in_regs) {
        size_t lo = nfeatures < 16 ? nfeatures : 16, hi = nfeatures - lo;
        c.r0 = _mm512_maskz_loadu_ps((__mmask16)((1u << lo) - 1), row);
        c.r1 = _mm512_maskz_loadu_ps((__mmask16)((1u << hi) - 1), row + lo);
    }
    size_t b = b0;
    for (; b + 4 <= b1; b += 4)
        walk_blocks(p, &c, b, 4, out + (b - b0) * ENGINE_LANES);
    for (; b < b1; b++)
        walk_blocks(p, &c, b, 1, out + (b - b0) * ENGINE_LANES);
}
