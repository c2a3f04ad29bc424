/*
 * explain/shap_dirs_x86.c — the AVX2 and AVX-512 kernels of TreeSHAP's direction words: a
 * gather (or, for a short row, a permute) of the row's values at 8 or 16 splits, two
 * compares, one mask; and BMI2's pext.
 * Compiled for their instruction sets by function attribute and called only when the CPU
 * has them.
 */
#include "explain/shap_dirs.h"

#include <immintrin.h>

__attribute__((target("avx512f"))) void
crisk__shap_dirs_avx512(const crisk__shap_dirs_in *in, const float *row, uint64_t *right)
{
    /* A row of at most 32 features fits in two registers: a permute then picks each
     * split's value, where a gather reads memory. */
    size_t F = in->num_features;
    int narrow = F <= 32;
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
    if (narrow) {
        lo = _mm512_maskz_loadu_ps((__mmask16)(F >= 16 ? 0xffff : (1u << F) - 1), row);
        hi = _mm512_maskz_loadu_ps(
            (__mmask16)(F <= 16 ? 0 : F >= 32 ? 0xffff : (1u << (F - 16)) - 1), row + 16);
    }
    for (size_t w = 0; w * 64 < in->count; w++) {
        uint64_t word = 0, nan_right = in->nan_right[w];
        for (size_t b = 0; b < 64 && w * 64 + b < in->count; b += 16) {
            size_t i = w * 64 + b;
            __m512i f = _mm512_loadu_si512(in->feature + i);
            __m512 x = narrow ? _mm512_permutex2var_ps(lo, f, hi) : _mm512_i32gather_ps(f, row, 4);
            __m512 t = _mm512_loadu_ps(in->threshold + i);
            /* Not x < t (NaN included), less the NaNs whose default is left. */
            uint64_t r = _mm512_cmp_ps_mask(x, t, _CMP_NLT_UQ);
            uint64_t nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
            word |= (r & ~(nan & ~(nan_right >> b))) << b;
        }
        right[w] = word;
    }
}

__attribute__((target("avx2"))) void
crisk__shap_dirs_avx2(const crisk__shap_dirs_in *in, const float *row, uint64_t *right)
{
    for (size_t w = 0; w * 64 < in->count; w++) {
        uint64_t word = 0, nan_right = in->nan_right[w];
        for (size_t b = 0; b < 64 && w * 64 + b < in->count; b += 8) {
            size_t i = w * 64 + b;
            __m256i f = _mm256_loadu_si256((const __m256i *)(in->feature + i));
            __m256 x = _mm256_i32gather_ps(row, f, 4);
            __m256 t = _mm256_loadu_ps(in->threshold + i);
            uint64_t r = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(x, t, _CMP_NLT_UQ));
            uint64_t nan = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
            word |= ((r & ~(nan & ~(nan_right >> b))) & 0xff) << b;
        }
        right[w] = word;
    }
}

__attribute__((target("bmi2"))) uint64_t crisk__shap_pext_bmi2(uint64_t x, uint64_t mask)
{
    return _pext_u64(x, mask);
}
