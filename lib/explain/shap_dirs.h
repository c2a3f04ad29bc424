/*
 * explain/shap_dirs.h — TreeSHAP's direction words: for one row and one tree, which way the
 * row goes at every numerical split of the tree, one bit a split: a portable kernel and
 * x86-64 SIMD ones (tree_shap.c runs the widest the CPU has), and reading bits out of
 * them. Internal to the library.
 */
#ifndef CRISK_EXPLAIN_SHAP_DIRS_H
#define CRISK_EXPLAIN_SHAP_DIRS_H

#include <stddef.h>
#include <stdint.h>

/* Splits a kernel reads at a time: a tree's split arrays are padded to a multiple of it. */
#define CRISK__SHAP_DIRS_PAD 16

/* A tree's numerical splits, in its split order, padded to CRISK__SHAP_DIRS_PAD (padding:
 * feature 0, any threshold). */
typedef struct crisk__shap_dirs_in {
    const int32_t *feature;
    const float *threshold;
    const uint64_t *nan_right;   /* bit i: a NaN goes right at split i (not default left) */
    size_t count;                /* splits, padding included */
    size_t num_features;         /* the row's length: a kernel may read all of it */
} crisk__shap_dirs_in;

/* Writes to right[0 .. count / 64 rounded up) bit i = 1 when `row` goes right at split i:
 * x < threshold goes left, NaN takes its default side (as crisk__numeric_goes_left).
 * Bits of padding splits are unspecified. */
typedef void crisk__shap_dirs_fn(const crisk__shap_dirs_in *in, const float *row,
                                 uint64_t *right);

/* The kernels; the SIMD ones exist on x86-64 only and need the CPU features they name. */
void crisk__shap_dirs_scalar(const crisk__shap_dirs_in *in, const float *row, uint64_t *right);

/* Returns the bits of x at the set bits of mask, packed low in order (BMI2's pext):
 * how a unit's table index is read from the direction words. The BMI2 one needs it. */
uint64_t crisk__shap_pext(uint64_t x, uint64_t mask);
#if defined(__x86_64__)
uint64_t crisk__shap_pext_bmi2(uint64_t x, uint64_t mask);
void crisk__shap_dirs_avx2(const crisk__shap_dirs_in *in, const float *row, uint64_t *right);
void crisk__shap_dirs_avx512(const crisk__shap_dirs_in *in, const float *row, uint64_t *right);
#endif

#endif /* CRISK_EXPLAIN_SHAP_DIRS_H */
