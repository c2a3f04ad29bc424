/*
 * engine_layout.h — the compiled layouts of the tree engine and the kernels that walk
 * them. Internal to lib/tree_engine.c and lib/engine_*.c.
 *
 * Two layouts, both numerical splits only (a model with categorical splits, linear leaves
 * or per-feature fix-ups is scored by the reference walk):
 *
 *   PERFECT  every tree padded to a perfect tree of the model's depth D (D <= 8). Trees go
 *            in blocks of 16; node j (breadth-first: children of j are 2j+1 and 2j+2) of
 *            lane k of a block sits at [j * 16 + k], so one level of 16 trees is two 64-bit
 *            SIMD gathers with index j * 16 + lane, and the top levels are plain loads. A
 *            leaf above depth D becomes a split whose descendants all carry its value.
 *   GENERAL  any depth: 12-byte nodes with the two children adjacent; a leaf points to
 *            itself, so every walk takes exactly the tree's depth in branch-free steps.
 *
 * Leaf values are stored already multiplied by the tree's weight, exactly as the
 * reference multiplies them (float * float for XGBoost, double * double for LightGBM), so
 * every path adds the same numbers in the same tree order.
 */
#ifndef CRISK_ENGINE_LAYOUT_H
#define CRISK_ENGINE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* Trees per block of the PERFECT layout: one AVX-512 vector of lanes. */
#define ENGINE_LANES 16
/* Deepest tree the PERFECT layout pads; deeper models use the GENERAL layout. */
#define ENGINE_PERFECT_MAX_DEPTH 8

/* Bit of a split's feature word that sends missing values (NaN) left. */
#define ENGINE_DEFAULT_LEFT 0x80000000u
/* GENERAL layout: bit of a node's feature word that marks a leaf. */
#define ENGINE_LEAF 0x40000000u
/* Mask of the feature index in a feature word. */
#define ENGINE_FEATURE_MASK 0x3fffffffu

/* The kernels a model can be scored with; ENGINE_PATH_AUTO picks the widest the CPU has. */
typedef enum engine_path {
    ENGINE_PATH_AUTO = 0,
    ENGINE_PATH_REFERENCE,   /* the canonical walk, crisk_tree_leaf_value */
    ENGINE_PATH_SCALAR,
    ENGINE_PATH_AVX2,
    ENGINE_PATH_AVX512
} engine_path;

/* One node of the GENERAL layout. */
typedef struct engine_gnode {
    float    threshold;      /* x < threshold goes left */
    uint32_t feature;        /* feature index | ENGINE_DEFAULT_LEFT | ENGINE_LEAF */
    uint32_t left;           /* index of the left child in the tree (right is left + 1);
                                a leaf's own index */
} engine_gnode;

/* One split of the PERFECT layout: 8 bytes, so that one 64-bit gather fetches both. */
typedef struct engine_pnode {
    uint32_t feature;        /* feature index | ENGINE_DEFAULT_LEFT */
    float    threshold;      /* x < threshold goes left */
} engine_pnode;

/* The PERFECT layout of one model: `nblocks` blocks of 16 trees of depth `depth`. */
typedef struct engine_perfect {
    uint32_t      depth;
    size_t        nblocks;
    engine_pnode *nodes;     /* nblocks x (2^depth - 1) x 16 splits */
} engine_perfect;

/* Walks one row through blocks [b0, b1) of a PERFECT layout and writes, for each block and
 * lane, the index of the reached leaf within its block (leaf * 16 + lane) to
 * out[(b - b0) * 16 + lane]. `row` holds `nfeatures` floats. */
typedef void (*engine_perfect_kernel)(const engine_perfect *p, const float *row,
                                      size_t nfeatures, size_t b0, size_t b1, int32_t *out);

/* The kernels of lib/engine_avx2.c and lib/engine_avx512.c: as engine_perfect_kernel. */
void crisk_engine_perfect_avx2(const engine_perfect *p, const float *row, size_t nfeatures,
                               size_t b0, size_t b1, int32_t *out);
void crisk_engine_perfect_avx512(const engine_perfect *p, const float *row,
                                 size_t nfeatures, size_t b0, size_t b1, int32_t *out);

/* Returns 1 if the running CPU (and OS) can run the kernels of `path`. */
int crisk_engine_cpu_has(engine_path path);

#endif /* CRISK_ENGINE_LAYOUT_H */
