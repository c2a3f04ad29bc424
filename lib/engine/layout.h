/*
 * engine/layout.h — the compiled layouts of the tree engine and the kernels that walk
 * them. Internal to lib/tree_engine.c and lib/engine_*.c.
 *
 * Four layouts, all numerical splits only (a model with categorical splits or linear
 * leaves is scored by the reference walk; per-feature fix-ups are applied to a copy of each
 * block of rows before the kernels see it):
 *
 *   PERFECT  every tree padded to a perfect tree of the model's depth D (D <= 8). Trees go
 *            in blocks of 16; node j (breadth-first: children of j are 2j+1 and 2j+2) of
 *            lane k of a block sits at [j * 16 + k], so one level of 16 trees is two 64-bit
 *            SIMD gathers with index j * 16 + lane, and the top levels are plain loads. A
 *            leaf above depth D becomes a split whose descendants all carry its value.
 *   GENERAL  any depth: 12-byte nodes with the two children adjacent; a leaf points to
 *            itself, so every walk takes exactly the tree's depth in branch-free steps.
 *   BYTES    for AVX-512 VBMI, beside either of them (described below): 64 trees a block,
 *            one byte a field, no float compares; whole trees of depth <= 8, or the top
 *            6 levels of deeper trees, from where the GENERAL walk goes on over the row's
 *            bins (engine_tnode), on every path.
 *   PLANES   for batches on the VBMI path, beside a whole-tree BYTES layout (described
 *            below): 128 rows a block walk one tree at a time, transposed, as bit planes.
 *
 * Leaf values are stored already multiplied by the tree's weight, exactly as the
 * reference multiplies them (float * float for XGBoost, double * double for LightGBM), so
 * every path adds the same numbers in the same tree order.
 */
#ifndef CRISK_ENGINE_LAYOUT_H
#define CRISK_ENGINE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model/model.h"

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
typedef enum crisk__engine_path {
    CRISK__ENGINE_PATH_AUTO = 0,
    CRISK__ENGINE_PATH_REFERENCE,   /* the canonical walk, crisk__tree_leaf_value */
    CRISK__ENGINE_PATH_SCALAR,
    CRISK__ENGINE_PATH_AVX2,
    CRISK__ENGINE_PATH_AVX512,
    ENGINE_PATH_AVX512_VBMI  /* the BYTES layout where the model fits it, else AVX512 */
} crisk__engine_path;

/* One node of the GENERAL layout. */
typedef struct crisk__engine_gnode {
    float    threshold;      /* x < threshold goes left; a leaf's weighted value when
                                leaves accumulate in float */
    uint32_t feature;        /* feature index | ENGINE_DEFAULT_LEFT | ENGINE_LEAF */
    uint32_t left;           /* index of the left child in the tree (right is left + 1);
                                a leaf's own index */
} crisk__engine_gnode;

/* One split of the PERFECT layout: 8 bytes, so that one 64-bit gather fetches both. */
typedef struct crisk__engine_pnode {
    uint32_t feature;        /* feature index | ENGINE_DEFAULT_LEFT */
    float    threshold;      /* x < threshold goes left; a leaf's weighted value when
                                leaves accumulate in float */
} crisk__engine_pnode;

/* The PERFECT layout of one model: `nblocks` blocks of 16 trees of depth `depth`. */
typedef struct crisk__engine_perfect {
    uint32_t      depth;
    size_t        nblocks;
    crisk__engine_pnode *nodes;     /* nblocks x (2^depth - 1) x 16 splits */
} crisk__engine_perfect;

/* Weighted leaf values of a blocked layout: block b, leaf l, lane k at
 * [b * per_block + l * lanes + k], per_block = lanes << depth. One of f (XGBoost) and d
 * (LightGBM) is set. */
typedef struct crisk__engine_leaves {
    size_t  lanes, per_block;
    float  *f;
    double *d;
} crisk__engine_leaves;

/* The BYTES layout, for AVX-512 VBMI: the PERFECT layout with 64 trees a block and one byte
 * per field. A threshold becomes its rank among the distinct thresholds of its feature (at
 * most 256), and a row's value its bin, the number of those thresholds <= it, so that
 * x < threshold exactly when bin <= rank. A bin of 256 is stored as 255 with the flag TOP,
 * and NaN as the flag NAN, so a row is 64 bin bytes then 64 flag bytes. Built when every
 * tree has depth <= 8 (or for the top 6 levels of deeper trees), the model at most 64
 * features, and no feature more than 256 distinct thresholds. The byte arrays of the top
 * levels go level by level, and within a level each lane's 2^level splits together, so
 * that one two-register byte permute selects the splits of 128 / 2^level lanes. */
#define ENGINE_BYTE_LANES 64
#define ENGINE_BYTE_MAX_DEPTH 8
/* Levels walked with byte blends; each costs twice the loads of the one above, so the
 * levels below are gathered as 32-bit words from `lower`. */
#define ENGINE_BYTE_BLEND_DEPTH 6
/* Levels of deeper trees walked in the BYTES layout before the binned GENERAL walk goes
 * on: the byte-blend levels only, whose entry table stays small in cache (the gathered
 * levels 6 and 7 cost more there than two binned steps). */
#define ENGINE_BYTE_TOP_DEPTH 6
#define ENGINE_BYTE_MAX_FEATURES 64
#define ENGINE_BYTE_MAX_CUTS 256
#define ENGINE_BYTE_FLAG_NAN 0x80
#define ENGINE_BYTE_FLAG_TOP 0x40
/* Bytes of a binned row: bins, then flags. */
#define ENGINE_BYTE_ROW (2 * ENGINE_BYTE_MAX_FEATURES)
/* Bit of a feature byte that sends missing values left. */
#define ENGINE_BYTE_DEFAULT_LEFT 0x80

typedef struct crisk__engine_bytes {
    uint32_t      depth;
    size_t        nblocks, nfeatures;
    uint8_t      *feature;    /* nblocks x (splits of the top 6 levels) x 64: feature |
                                 default-left bit */
    uint8_t      *rank;       /* same shape: the threshold's rank in its feature's cuts */
    uint32_t     *lower;      /* nblocks x (splits below level 6) x 64: feature | rank << 8 */
    float        *cuts;       /* each feature's distinct thresholds, ascending */
    uint32_t     *cut_begin;  /* nfeatures + 1 offsets into cuts */
    float        *segments;   /* nfeatures x 256: a feature's cuts padded with NaN */
    float        *fences;     /* nfeatures x 16: segments[f][16 s], every 16th cut */
    crisk__engine_leaves leaves;     /* a whole-tree layout's leaves; or, for the top levels of
                                 deeper trees, leaves.per_block only, with: */
    uint32_t     *entry;      /* GENERAL slot at each bottom slot, shaped like leaves */
} crisk__engine_bytes;

/* Below the BYTES top levels of deeper trees, the GENERAL layout walks binned rows: a
 * row's keys are its bins widened to 16 bits (a bin of 256 is 256), twice: keys[f] with
 * NaN as 0, keys[nfeatures + f] with NaN as 0xffff, then keys[2 * nfeatures] = 0. A split
 * whose missing values go left reads the first copy, one whose go right the second, and a
 * leaf the last, so that one unsigned compare, key > rank, is the whole step to the right
 * child (a leaf's child is itself). */
#define ENGINE_TAIL_KEYS (2 * ENGINE_BYTE_MAX_FEATURES + 1)

/* One node of the binned GENERAL layout: 8 bytes, so that a step's address is its slot
 * scaled by the addressing mode (leaf values live in an array of their own). */
typedef struct crisk__engine_tnode {
    uint16_t key;            /* index into a row's keys (see above) */
    uint16_t rank;           /* the threshold's rank among its feature's cuts; 0 for a leaf */
    uint32_t left;           /* as engine_gnode.left */
} crisk__engine_tnode;

/* Converts the `count` GENERAL nodes at g into binned nodes at out, ranking thresholds
 * among the cuts of b. With `leaf` not NULL, float leaf values move from g's threshold to
 * leaf[i] (0 for a split). */
void crisk__engine_bytes_tail(const crisk__engine_bytes *b, const crisk__engine_gnode *g, size_t count,
                              crisk__engine_tnode *out, float *leaf);

/* Writes the 2 * nfeatures + 1 keys (see ENGINE_TAIL_KEYS) of a row binned into `bins`. */
void crisk__engine_bytes_keys(const crisk__engine_bytes *b, const uint8_t *bins, uint16_t *keys);

/* Returns the rank of `threshold` (one of feature f's cuts) among f's cuts. */
size_t crisk__engine_bytes_rank(const crisk__engine_bytes *b, size_t f, float threshold);

/* The PLANES layout, for AVX-512 beside a whole-tree BYTES layout (whose cuts it uses),
 * for batches: the walk is transposed, a block of ENGINE_PLANES_ROWS rows goes through one
 * tree at a time, and a row's path is bits in bit planes. The block first builds a table
 * of masks, one bit a row: mask 0 is zero; mask 1 + f has the rows whose feature f is
 * NaN; mask planes_code(f, rank) the rows whose feature f is not NaN and not below cut
 * `rank` (they go right at a split on that cut). A split's rows going right are then the
 * OR of two masks (the NaN mask when missing values go right, else mask 0), and level k
 * of a tree is one bit plane, each row's bit selected from the level's splits by the
 * planes above it (bitwise muxes), so that the leaf index of every row is the planes
 * read as bits. Its leaves are per tree, contiguous. Built for float accumulation, one
 * output, no fix-ups, depths 1 to 8, and tables of at most ENGINE_PLANES_TABLE bytes (a
 * block's table lives on the stack). */
#define ENGINE_PLANES_ROWS 128
#define ENGINE_PLANES_MAX_DEPTH 8
#define ENGINE_PLANES_TABLE (100 * 1024)

typedef struct crisk__engine_planes {
    uint32_t  depth;
    size_t    leaf_stride;   /* max(32, 2^depth) floats a tree */
    uint16_t *code;          /* num_trees x (2^depth - 1) slots x 2 mask indices, times 2 */
    float    *leaf;          /* num_trees x leaf_stride weighted leaves, zero-padded */
    float    *search;        /* nfeatures x ENGINE_PLANES_SEARCH: each feature's 256 cuts
                                (NaN-padded) as the levels of a binary search, level k's
                                2^k probes from float 16 * crisk__engine_planes_level(k) */
} crisk__engine_planes;

/* Floats of a feature's binary search levels: 19 registers (levels 0 to 4 one each, then
 * 2, 4 and 8). */
#define ENGINE_PLANES_SEARCH (19 * 16)

/* Returns the first register of binary search level k (0 .. 7) in a feature's levels. */
static inline uint32_t crisk__engine_planes_level(uint32_t k)
{
    return k <= 4 ? k : 5 + 2 * ((1u << (k - 5)) - 1);
}

/* Returns the index of the mask of feature f's cut `rank` in a PLANES table (with f
 * nfeatures and rank 0: the number of masks). */
static inline size_t crisk__engine_planes_code(const crisk__engine_bytes *b, size_t f, size_t rank)
{
    return 1 + b->nfeatures + b->cut_begin[f] + rank;
}

/* Builds the PLANES layout of `m` over its whole-tree BYTES layout b. Returns 1 when built,
 * 0 when the model does not fit it (p left empty), -1 when out of memory. Adds the bytes
 * it holds to *bytes. */
int crisk__engine_planes_build(const crisk_model *m, const crisk__engine_bytes *b,
                               crisk__engine_planes *p, size_t *bytes);

/* Frees what crisk__engine_planes_build allocated. */
void crisk__engine_planes_free(crisk__engine_planes *p);

/* Fills canon[0 .. 2^(depth+1) - 2] with the canonical node (index within tree t) at each
 * slot of tree t padded to a perfect tree of `depth` levels: slot j's children are 2j+1
 * and 2j+2, and a leaf above the bottom level fills every slot below it. */
void crisk__engine_perfect_slots(const crisk_model *m, size_t t, uint32_t depth,
                                 int32_t *canon);

/* Returns weighted leaf `n` of tree t as the reference adds it (see layout.h). */
void crisk__engine_weighted_leaf(const crisk_model *m, size_t t, const crisk__node *n,
                                 float *f, double *d);

/* Builds the BYTES layout of `m` (depth `depth`) into *b. With `slot_of` NULL the bottom
 * level holds weighted leaves. Otherwise the layout covers only the top `depth` levels of
 * deeper trees and its bottom level holds, in b->entry, the GENERAL-layout slot of the
 * node reached there (slot_of maps each canonical node to its slot within its tree), from
 * which the GENERAL walk goes on. Returns 1 when built, 0 when the model does not fit the
 * layout (b is then left empty), -1 when out of memory. Adds the bytes it holds to *bytes. */
int crisk__engine_bytes_build(const crisk_model *m, uint32_t depth, const uint32_t *slot_of,
                              crisk__engine_bytes *b, size_t *bytes);

/* Frees what crisk__engine_bytes_build allocated. */
void crisk__engine_bytes_free(crisk__engine_bytes *b);

/* Writes the bins of one row (nfeatures floats) to bins[0 .. 63] and their flags to
 * bins[64 .. 127] (unused bytes 0), by binary search among each feature's cuts. */
void crisk__engine_bytes_bin_scalar(const crisk__engine_bytes *b, const float *row, uint8_t *bins);

/* Walks one binned row through BYTES blocks [b0, b1) and writes, for each block and lane,
 * the index of the reached leaf within its block (leaf * 64 + lane) to
 * out[(b - b0) * 64 + lane]: the BYTES walk of the paths without VBMI. */
void crisk__engine_bytes_scalar(const crisk__engine_bytes *b, const uint8_t *bins, size_t b0,
                                size_t b1, int32_t *out);

/* Walks one row through blocks [b0, b1) of a PERFECT layout and writes, for each block and
 * lane, the index of the reached leaf within its block (leaf * 16 + lane) to
 * out[(b - b0) * 16 + lane]. `row` holds `nfeatures` floats. */
typedef void (*crisk__engine_perfect_kernel)(const crisk__engine_perfect *p, const float *row,
                                      size_t nfeatures, size_t b0, size_t b1, int32_t *out);

/* Returns the splits a BYTES block holds in bytes: those of the top
 * ENGINE_BYTE_BLEND_DEPTH levels. */
static inline size_t crisk__engine_bytes_top(const crisk__engine_bytes *b)
{
    uint32_t d = b->depth < ENGINE_BYTE_BLEND_DEPTH ? b->depth : ENGINE_BYTE_BLEND_DEPTH;
    return ((size_t)1 << d) - 1;
}

/* Writes the bins and flags of one row as crisk__engine_bytes_bin_scalar does, with
 * count(b, f, x) giving how many of feature f's cuts are <= x (0 for NaN). Inlined into
 * each binning function, with `count` a constant. */
__attribute__((always_inline)) static inline void
crisk__engine_bytes_bin_with(const crisk__engine_bytes *b, const float *row, uint8_t *bins,
                             size_t (*count)(const crisk__engine_bytes *b, size_t f, float x))
{
    uint8_t *flags = bins + ENGINE_BYTE_MAX_FEATURES;
    memset(bins, 0, ENGINE_BYTE_ROW);
    /* One path for every value: NaN is <= no cut, so its bin is 0 and only its flag
     * differs. */
    for (size_t f = 0; f < b->nfeatures; f++) {
        float x = row[f];
        size_t bin = count(b, f, x);
        bins[f] = (uint8_t)(bin > 255 ? 255 : bin);
        flags[f] = (uint8_t)(x != x ? ENGINE_BYTE_FLAG_NAN : bin > 255 ? ENGINE_BYTE_FLAG_TOP : 0);
    }
}

/* Returns 1 if the running CPU can run the kernels of `path` (on other than x86-64, the
 * reference and scalar paths only). */
int crisk__engine_cpu_has(crisk__engine_path path);

/* The SIMD kernels are x86-64 code (perfect_avx2.c, perfect_avx512.c, bytes_vbmi.c),
 * built on x86-64 only; elsewhere the scalar paths serve every model. */
#if defined(__x86_64__)
#define CRISK__ENGINE_X86 1

/* As crisk__engine_bytes_bin_scalar, with two 16-wide compares a feature, against its
 * fences and then one segment. Needs AVX-512 F. */
void crisk__engine_bytes_bin(const crisk__engine_bytes *b, const float *row, uint8_t *bins);

/* Walks `nrows` binned rows (bins[r]: row r's bins and flags) through BYTES blocks
 * [b0, b1) and writes, for each row, block and lane, the index of the reached leaf within
 * its block (leaf * 64 + lane) to out[r * stride + (b - b0) * 64 + lane]. Rows go through
 * each block four at a time, sharing the loads of its nodes; fewer rows than four go
 * through four blocks at a time. Needs AVX-512 F, BW and VBMI. */
void crisk__engine_bytes_vbmi(const crisk__engine_bytes *b, const uint8_t *const *bins, size_t nrows,
                              size_t b0, size_t b1, int32_t *out, size_t stride);

/* Adds trees [t0, t1) of the PLANES layout p (over BYTES layout b) to the margins of the
 * `nrows` (at most ENGINE_PLANES_ROWS) rows of b->nfeatures floats at `rows`, one output
 * each, in float, in tree order. Needs AVX-512 F and BW. */
void crisk__engine_planes_avx512(const crisk__engine_planes *p, const crisk__engine_bytes *b,
                                 const float *rows, size_t nrows, size_t t0, size_t t1,
                                 double *margins);

/* The kernels of engine/perfect_avx2.c and engine/perfect_avx512.c: as engine_perfect_kernel. */
void crisk__engine_perfect_avx2(const crisk__engine_perfect *p, const float *row, size_t nfeatures,
                                size_t b0, size_t b1, int32_t *out);
void crisk__engine_perfect_avx512(const crisk__engine_perfect *p, const float *row,
                                  size_t nfeatures, size_t b0, size_t b1, int32_t *out);
#else
#define CRISK__ENGINE_X86 0
#endif

#endif /* CRISK_ENGINE_LAYOUT_H */
