/*
 * engine/perfect_avx2.c — the AVX2 kernel of the PERFECT layout: one row through a block of 16
 * trees as two halves of 8 lanes, one tree per lane. Compiled for AVX2 by function
 * attribute and called only when the CPU has it.
 */
#include "engine/layout.h"

#include <immintrin.h>

__attribute__((target("avx2"))) void
crisk__engine_perfect_avx2(const crisk__engine_perfect *p, const float *row, size_t nfeatures,
                           size_t b0, size_t b1, int32_t *out)
{
    (void)nfeatures;
    size_t inner = ((size_t)1 << p->depth) - 1;
    const __m256i two = _mm256_set1_epi32(2);
    const __m256i fmask = _mm256_set1_epi32((int)ENGINE_FEATURE_MASK);
    for (size_t b = b0; b < b1; b++) {
        /* Both halves of an 8-byte split, gathered with scale 8 from two bases. */
        const int *feat = (const int *)(p->nodes + b * inner * ENGINE_LANES);
        const float *thr = (const float *)feat + 1;
        for (int half = 0; half < ENGINE_LANES; half += 8) {
            __m256i lane = _mm256_setr_epi32(half, half + 1, half + 2, half + 3, half + 4,
                                             half + 5, half + 6, half + 7);
            __m256i j = _mm256_setzero_si256();
            for (uint32_t l = 0; l < p->depth; l++) {
                __m256i idx = _mm256_add_epi32(_mm256_slli_epi32(j, 4), lane);
                __m256i w = _mm256_i32gather_epi32(feat, idx, 8);
                __m256 t = _mm256_i32gather_ps(thr, idx, 8);
                __m256 x = _mm256_i32gather_ps(row, _mm256_and_si256(w, fmask), 4);
                /* All ones where the row goes left: x < t, or NaN with default left. */
                __m256 left = _mm256_or_ps(
                    _mm256_cmp_ps(x, t, _CMP_LT_OQ),
                    _mm256_and_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q),
                                  _mm256_castsi256_ps(_mm256_srai_epi32(w, 31))));
                j = _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(j, 1), two),
                                     _mm256_castps_si256(left));
            }
            __m256i leaf = _mm256_sub_epi32(j, _mm256_set1_epi32((int)inner));
            _mm256_storeu_si256((__m256i *)(out + (b - b0) * ENGINE_LANES + half),
                                _mm256_add_epi32(_mm256_slli_epi32(leaf, 4), lane));
        }
    }
}
