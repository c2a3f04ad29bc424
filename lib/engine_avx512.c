/*
 * engine_avx512.c — the AVX-512 kernel of the PERFECT layout: one row through 16 trees at
 * once, one tree per lane. Compiled for AVX-512 by function attribute and called only when
 * the CPU has it, so the library stays one portable binary.
 */
#include "engine_layout.h"

#include <immintrin.h>

/* Returns, for each lane, the 16 feature words or thresholds of level `level` of a block
 * at the lanes' current nodes `j`: plain loads and blends on the three top levels (1, 2
 * and 4 nodes a lane), a gather below. */
__attribute__((target("avx512f"))) static inline __m512i
level_words(const int32_t *base, __m512i j, __m512i lane, uint32_t level)
{
    if (level == 0)
        return _mm512_loadu_si512(base);
    if (level == 1) /* j is 1 or 2 */
        return _mm512_mask_blend_epi32(
            _mm512_cmpeq_epi32_mask(j, _mm512_set1_epi32(2)),
            _mm512_loadu_si512(base + ENGINE_LANES), _mm512_loadu_si512(base + 2 * ENGINE_LANES));
    if (level == 2) { /* j is 3 to 6 */
        __mmask16 odd = _mm512_test_epi32_mask(j, _mm512_set1_epi32(1));
        __mmask16 high = _mm512_cmpge_epi32_mask(j, _mm512_set1_epi32(5));
        __m512i lo = _mm512_mask_blend_epi32(odd, _mm512_loadu_si512(base + 4 * ENGINE_LANES),
                                             _mm512_loadu_si512(base + 3 * ENGINE_LANES));
        __m512i hi = _mm512_mask_blend_epi32(odd, _mm512_loadu_si512(base + 6 * ENGINE_LANES),
                                             _mm512_loadu_si512(base + 5 * ENGINE_LANES));
        return _mm512_mask_blend_epi32(high, lo, hi);
    }
    __m512i idx = _mm512_add_epi32(_mm512_slli_epi32(j, 4), lane);
    return _mm512_i32gather_epi32(idx, base, 4);
}

__attribute__((target("avx512f"))) void
crisk_engine_perfect_avx512(const engine_perfect *p, const float *row, size_t nfeatures,
                            size_t b0, size_t b1, int32_t *out)
{
    size_t inner = ((size_t)1 << p->depth) - 1;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i two = _mm512_set1_epi32(2), one = _mm512_set1_epi32(1);
    const __m512i fmask = _mm512_set1_epi32((int)ENGINE_FEATURE_MASK);
    const __m512i dlbit = _mm512_set1_epi32((int)ENGINE_DEFAULT_LEFT);
    /* Rows of up to 32 features live in two registers: a permute replaces the gather. */
    int in_regs = nfeatures <= 32;
    __m512 r0 = _mm512_setzero_ps(), r1 = _mm512_setzero_ps();
    if (in_regs) {
        size_t lo = nfeatures < 16 ? nfeatures : 16, hi = nfeatures - lo;
        r0 = _mm512_maskz_loadu_ps((__mmask16)((1u << lo) - 1), row);
        r1 = _mm512_maskz_loadu_ps((__mmask16)((1u << hi) - 1), row + lo);
    }
    for (size_t b = b0; b < b1; b++) {
        const int32_t *feat = (const int32_t *)(p->feature + b * inner * ENGINE_LANES);
        const int32_t *thr = (const int32_t *)(p->threshold + b * inner * ENGINE_LANES);
        __m512i j = _mm512_setzero_si512();
        for (uint32_t l = 0; l < p->depth; l++) {
            __m512i w = level_words(feat, j, lane, l);
            __m512 t = _mm512_castsi512_ps(level_words(thr, j, lane, l));
            __m512i f = _mm512_and_si512(w, fmask);
            __m512 x = in_regs ? _mm512_permutex2var_ps(r0, f, r1)
                               : _mm512_i32gather_ps(f, row, 4);
            __mmask16 left = _mm512_cmp_ps_mask(x, t, _CMP_LT_OQ) |
                             (_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q) &
                              _mm512_test_epi32_mask(w, dlbit));
            j = _mm512_add_epi32(_mm512_slli_epi32(j, 1), two);
            j = _mm512_mask_sub_epi32(j, left, j, one);
        }
        __m512i leaf = _mm512_sub_epi32(j, _mm512_set1_epi32((int)inner));
        _mm512_storeu_si512(out + (b - b0) * ENGINE_LANES,
                            _mm512_add_epi32(_mm512_slli_epi32(leaf, 4), lane));
    }
}
