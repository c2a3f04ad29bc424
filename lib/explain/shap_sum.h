/*
 * explain/shap_sum.h — summing a tree's unit table entries for one row with AVX-512 into
 * its contributions: what
 * tree_shap.c gives the kernel of shap_sum_x86.c about each unit. Internal to the library.
 */
#ifndef CRISK_EXPLAIN_SHAP_SUM_H
#define CRISK_EXPLAIN_SHAP_SUM_H

#include <stddef.h>
#include <stdint.h>

/* The bits of a unit's table index that one direction word holds: index bits
 * [shift, shift + popcount(mask)) are pext(word ^ left, mask). */
typedef struct crisk__shap_key {
    uint64_t mask, left;
    uint32_t word, shift;
} crisk__shap_key;

/* A unit of a tree of at most 32 distinct features, for the kernel: its keys' bits b
 * index its table directly, or with a remap as remap[b's low `path` bits] | the rest
 * << above; its table entry for index i is the num_slots (<= 16) floats at
 * table + i * num_slots, and its slot perm[h][l] adds to the tree's feature 16 h + l
 * where bit l of mask[h] is set. */
typedef struct crisk__shap_vunit {
    const float *table;      /* NULL: the unit adds nothing */
    const crisk__shap_key *keys;
    const uint16_t *remap;   /* NULL: none */
    uint32_t num_keys, num_slots, path, above;
    int32_t perm[2][16];
    uint16_t mask[2];
} crisk__shap_vunit;

/* Most distinct features of a tree the kernel sums for. */
#define CRISK__SHAP_VECTOR_FEATURES 32

#if defined(__x86_64__)
/* Sums, for the row of direction words `right`, the table entries of the `n` units onto
 * the tree's `nf` distinct features `feats`, and adds each sum times `weight` to
 * contrib[feats[i]]: in float, each feature's entries in unit order, as a scalar loop
 * adding them one by one does, so both give the same bits. Needs AVX-512 F and BMI2. */
void crisk__shap_sum_avx512(const crisk__shap_vunit *units, size_t n, const uint64_t *right,
                            const int32_t *feats, size_t nf, float weight, float *contrib);
#endif

#endif /* CRISK_EXPLAIN_SHAP_SUM_H */
