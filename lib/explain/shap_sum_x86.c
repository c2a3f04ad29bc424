/*
 * explain/shap_sum_x86.c — the AVX-512 kernel that sums a tree's unit table entries for one
 * row: each entry is loaded whole and permuted onto the tree's features, held in two
 * registers, then added times the tree's weight to the row's contributions. Compiled for AVX-512 and BMI2 by function attribute and called only when the
 * CPU has them.
 */
#include "explain/shap_sum.h"

#include <immintrin.h>

__attribute__((target("avx512f,bmi2"))) void
crisk__shap_sum_avx512(const crisk__shap_vunit *units, size_t n, const uint64_t *right,
                       const int32_t *feats, size_t nf, float weight, float *contrib)
{
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i++) {
        const crisk__shap_vunit *u = &units[i];
        if (!u->table)
            continue;
        uint64_t idx = 0;
        for (uint32_t k = 0; k < u->num_keys; k++)
            idx |= _pext_u64(right[u->keys[k].word] ^ u->keys[k].left, u->keys[k].mask)
                   << u->keys[k].shift;
        if (u->remap)
            idx = u->remap[idx & ((UINT64_C(1) << u->path) - 1)] | (idx >> u->path) << u->above;
        __m512 e = _mm512_maskz_loadu_ps((__mmask16)((1u << u->num_slots) - 1),
                                         u->table + idx * u->num_slots);
        /* Lanes without a slot add +0, which leaves a sum as it is. */
        lo = _mm512_add_ps(lo, _mm512_maskz_permutexvar_ps(u->mask[0],
                                                           _mm512_loadu_si512(u->perm[0]), e));
        hi = _mm512_add_ps(hi, _mm512_maskz_permutexvar_ps(u->mask[1],
                                                           _mm512_loadu_si512(u->perm[1]), e));
    }
    __mmask16 mlo = (__mmask16)(nf >= 16 ? 0xffff : (1u << nf) - 1);
    __mmask16 mhi = (__mmask16)(nf <= 16 ? 0 : nf >= 32 ? 0xffff : (1u << (nf - 16)) - 1);
    /* contrib[f] += sum * weight, a product then a sum, as the scalar loop rounds them. */
    __m512 w = _mm512_set1_ps(weight);
    __m512i flo = _mm512_maskz_loadu_epi32(mlo, feats), fhi = _mm512_maskz_loadu_epi32(mhi, feats + 16);
    __m512 clo = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mlo, flo, contrib, 4);
    __m512 chi = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mhi, fhi, contrib, 4);
    _mm512_mask_i32scatter_ps(contrib, mlo, flo, _mm512_add_ps(clo, _mm512_mul_ps(lo, w)), 4);
    _mm512_mask_i32scatter_ps(contrib, mhi, fhi, _mm512_add_ps(chi, _mm512_mul_ps(hi, w)), 4);
}
