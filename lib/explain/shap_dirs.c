/*
 * explain/shap_dirs.c — the portable kernel of TreeSHAP's direction words and the portable
 * bit extraction (shap_dirs_x86.c holds the SIMD and BMI2 ones).
 */
#include "explain/shap_dirs.h"

void crisk__shap_dirs_scalar(const crisk__shap_dirs_in *in, const float *row, uint64_t *right)
{
    for (size_t w = 0; w * 64 < in->count; w++) {
        uint64_t word = 0, nan_right = in->nan_right[w];
        size_t end = in->count - w * 64 < 64 ? in->count - w * 64 : 64;
        for (size_t b = 0; b < end; b++) {
            float x = row[in->feature[w * 64 + b]];
            /* !(x < t) holds for NaN too: a NaN goes right only where its default is. */
            uint64_t r = !(x < in->threshold[w * 64 + b]);
            r &= (x == x) | (nan_right >> b);
            word |= (r & 1) << b;
        }
        right[w] = word;
    }
}

uint64_t crisk__shap_pext(uint64_t x, uint64_t mask)
{
    uint64_t out = 0;
    for (uint64_t bit = 1; mask; bit <<= 1, mask &= mask - 1)
        if (x & mask & (~mask + 1))
            out |= bit;
    return out;
}
