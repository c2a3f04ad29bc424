/*
 * engine/tree_engine.c — compiling a model's trees into the engine's layouts, choosing the kernel
 * for the running CPU, and adding tree leaves to margins over blocks of rows.
 *
 * The loops are tree-major over blocks of rows: a chunk of trees stays hot in cache while
 * every row of the block walks it. Whatever the path (reference walk, scalar, AVX2,
 * AVX-512, AVX-512 VBMI), each row's margins receive the same leaf values in the same tree order, so
 * every path and thread count gives bit-identical results (see layout.h).
 */
#include "engine/engine.h"

#include "engine/layout.h"
#include "common/error.h"
#include "model/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per block: the block's rows and margins stay in L1/L2. */
#define BLOCK_ROWS 64
/* Blocked layouts: trees walked per row before moving to the next row (a multiple of
 * both layouts' block sizes). */
#define CHUNK_TREES 128
/* Floats of fixed-up rows the fast paths keep on the stack for a model with per-feature
 * fix-ups (a block of rows, or fewer rows of a wider model); wider models than this use
 * the reference walk. */
#define FIXUP_FLOATS 4096
/* Models with at most this many outputs keep their float sums in a local array. */
#define SMALL_GROUPS 16
/* Blocked layouts: rows whose sums of leaves are interleaved. */
#define INTERLEAVE_ROWS 4
/* Rows per block of the walk of deep trees (BYTES top levels, then GENERAL). */
#define DEEP_BLOCK_ROWS 128
/* GENERAL layout: rows walked in lockstep, so their independent loads overlap. */
#define LOCKSTEP_ROWS 16
/* Deep trees' lower levels: blocks of fewer rows walk each row through several trees in
 * lockstep instead. */
#define FEW_TAIL_ROWS 8
/* PLANES layout: fewest rows worth a block, whose cost hardly depends on its rows (the
 * anchor model: 38 us a block, against 0.79 us a row walked in the BYTES layout). */
#define PLANES_MIN_ROWS 48

/* Which compiled form a model has. */
typedef enum engine_layout {
    LAYOUT_REFERENCE = 0,    /* none: categorical splits or linear leaves */
    LAYOUT_PERFECT,
    LAYOUT_GENERAL
} engine_layout;

typedef struct crisk__engine {
    size_t         bytes;
    engine_layout  layout;
    crisk__engine_path    path;       /* never ENGINE_PATH_AUTO once built */
    crisk__engine_perfect perfect;    /* LAYOUT_PERFECT */
    crisk__engine_bytes   bytelay;    /* the BYTES layout, where the model fits it: whole trees
                                  (PERFECT) or their top levels (GENERAL) */
    int            has_bytes;
    crisk__engine_planes  planes;     /* beside a whole-tree BYTES layout, for batches */
    int            has_planes;
    crisk__engine_gnode  *gnodes;     /* LAYOUT_GENERAL without BYTES: tree t's nodes start at
                                  its first_node */
    crisk__engine_tnode  *tnodes;     /* LAYOUT_GENERAL with BYTES: the same, binned */
    /* Weighted leaf values: PERFECT, nblocks x 2^depth x 16 (leaf * 16 + lane); GENERAL,
     * one per node slot, in double (LightGBM), or in float when binned (unbinned float
     * ones live in their nodes). One of the two, by model->accumulate_double. */
    float         *leaf_f;
    double        *leaf_d;
} crisk__engine;

/* Returns the value of leaf `n` for `row`: its constant, or LightGBM's linear model,
 * which falls back to the leaf's fallback value when one of its features is missing. */
static double leaf_output(const crisk_model *m, const crisk__node *n, const float *row)
{
    const crisk__linear_leaf *lin = m->linear ? &m->linear[n - m->nodes] : NULL;
    if (!lin || lin->count == 0)
        return n->value;
    double sum = n->value;
    for (uint32_t k = 0; k < lin->count; k++) {
        float x = row[m->lin_feature[lin->begin + k]];
        if (isnan(x))
            return lin->fallback;
        /* LightGBM's dense-row reader turns |x| <= 1e-35f into 0. */
        if (fabsf(x) > 1e-35f)
            sum += m->lin_coeff[lin->begin + k] * (double)x;
    }
    return sum;
}

/* Returns the leaf reached by `row` in tree `t`, walking the canonical nodes. */
static const crisk__node *walk(const crisk_model *m, size_t t, const float *row)
{
    const crisk__node *nodes = m->nodes + m->trees[t].first_node;
    const crisk__node *n = nodes;
    while (n->left != -1) {
        float x = row[n->feature];
        if (m->fixup)
            x = crisk__fix_value(m, (size_t)n->feature, x);
        n = nodes + (crisk__split_goes_left(m, n, x) ? n->left : n->right);
    }
    return n;
}

double crisk__tree_leaf_value(const crisk_model *m, size_t t, const float *row)
{
    return leaf_output(m, walk(m, t, row), row);
}

/* Returns 1 if the fast layouts can score `m`: numerical splits and constant leaves only,
 * feature indices that fit the feature words, and fix-ups (if any) on rows narrow enough
 * to be fixed up on the stack. */
static int fast_layout_fits(const crisk_model *m)
{
    if ((m->fixup && m->num_features > FIXUP_FLOATS) ||
        m->num_features > ENGINE_FEATURE_MASK || m->num_trees == 0)
        return 0;
    for (size_t i = 0; i < m->num_nodes; i++)
        if (m->nodes[i].categorical || (m->linear && m->linear[i].count))
            return 0;
    return 1;
}

/* Fills lane k of PERFECT block b with tree t (or, for t >= num_trees, a padding tree that
 * is never added): splits level by level from the root, a leaf above the bottom level
 * repeated into every descendant. */
static void fill_perfect_tree(const crisk_model *m, crisk__engine *e, size_t b, size_t k,
                              size_t t)
{
    crisk__engine_perfect *p = &e->perfect;
    size_t inner = ((size_t)1 << p->depth) - 1, nleaves = (size_t)1 << p->depth;
    crisk__engine_pnode *pn = p->nodes + b * inner * ENGINE_LANES;
    size_t leaf_base = b * nleaves * ENGINE_LANES;
    /* canon[j]: the canonical node at perfect slot j (a leaf repeats below itself). */
    int32_t canon[(2u << ENGINE_PERFECT_MAX_DEPTH) - 1];
    if (t >= m->num_trees) {
        for (size_t j = 0; j < inner; j++)
            pn[j * ENGINE_LANES + k] = (crisk__engine_pnode){0, 0.0f};
        for (size_t l = 0; l < nleaves; l++) {
            if (e->leaf_d)
                e->leaf_d[leaf_base + l * ENGINE_LANES + k] = 0.0;
            else
                e->leaf_f[leaf_base + l * ENGINE_LANES + k] = 0.0f;
        }
        return;
    }
    const crisk__node *nodes = m->nodes + m->trees[t].first_node;
    crisk__engine_perfect_slots(m, t, p->depth, canon);
    for (size_t j = 0; j < inner; j++) {
        const crisk__node *n = nodes + canon[j];
        pn[j * ENGINE_LANES + k] =
            n->left == -1 ? (crisk__engine_pnode){0, 0.0f}
                          : (crisk__engine_pnode){(uint32_t)n->feature |
                                               (n->default_left ? ENGINE_DEFAULT_LEFT : 0u),
                                           n->threshold};
    }
    for (size_t l = 0; l < nleaves; l++) {
        size_t at = leaf_base + l * ENGINE_LANES + k;
        crisk__engine_weighted_leaf(m, t, nodes + canon[inner + l],
                                    e->leaf_f ? &e->leaf_f[at] : NULL,
                                    e->leaf_d ? &e->leaf_d[at] : NULL);
    }
}

/* Allocates the weighted-leaf array of `count` values of the model's accumulation type. */
static int alloc_leaves(const crisk_model *m, crisk__engine *e, size_t count)
{
    if (m->accumulate_double)
        e->leaf_d = malloc((count ? count : 1) * sizeof *e->leaf_d);
    else
        e->leaf_f = malloc((count ? count : 1) * sizeof *e->leaf_f);
    e->bytes += count * (m->accumulate_double ? sizeof(double) : sizeof(float));
    return e->leaf_d || e->leaf_f ? 0 : -1;
}

/* Compiles every tree of `m` into the BYTES layout when `want_bytes` and the model fits
 * it, else into the PERFECT layout of depth `depth`. */
static int build_perfect(const crisk_model *m, crisk__engine *e, uint32_t depth, int want_bytes)
{
    /* Where the BYTES layout holds the whole model, the 16-lane one would be dead weight. */
    int rc = want_bytes ? crisk__engine_bytes_build(m, depth, NULL, &e->bytelay, &e->bytes) : 0;
    e->has_bytes = rc == 1;
    if (rc == 1 && CRISK__ENGINE_X86)
        rc = crisk__engine_planes_build(m, &e->bytelay, &e->planes, &e->bytes);
    e->has_planes = e->has_bytes && rc == 1;
    if (e->has_bytes || rc != 0)
        return rc < 0 ? -1 : 0;
    crisk__engine_perfect *p = &e->perfect;
    p->depth = depth;
    p->nblocks = (m->num_trees + ENGINE_LANES - 1) / ENGINE_LANES;
    size_t inner = ((size_t)1 << depth) - 1, slots = p->nblocks * inner * ENGINE_LANES;
    p->nodes = malloc((slots ? slots : 1) * sizeof *p->nodes);
    e->bytes += slots * sizeof *p->nodes;
    if (!p->nodes ||
        alloc_leaves(m, e, p->nblocks * ((size_t)1 << depth) * ENGINE_LANES))
        return -1;
    for (size_t b = 0; b < p->nblocks; b++)
        for (size_t k = 0; k < ENGINE_LANES; k++)
            fill_perfect_tree(m, e, b, k, b * ENGINE_LANES + k);
    return 0;
}

static int place_general(const crisk_model *m, crisk__engine *e, uint32_t *slot_of);

/* Compiles every tree of `m` into the GENERAL layout: breadth-first, so that the two
 * children of a node are adjacent, with leaves pointing at themselves. Then, when
 * `want_bytes` and the model fits it, the BYTES layout of the trees' top levels, whose
 * bottom level says where the GENERAL walk goes on. */
static int build_general(const crisk_model *m, crisk__engine *e, int want_bytes)
{
    /* slot_of[n]: the slot, within its tree, of canonical node n. */
    uint32_t *slot_of = calloc(m->num_nodes, sizeof *slot_of);
    if (!slot_of || place_general(m, e, slot_of)) {
        free(slot_of);
        return -1;
    }
    if (!want_bytes) {
        free(slot_of);
        return 0;
    }
    int rc = crisk__engine_bytes_build(m, ENGINE_BYTE_TOP_DEPTH, slot_of, &e->bytelay, &e->bytes);
    free(slot_of);
    if (rc != 1)
        return rc < 0 ? -1 : 0;
    /* Below the BYTES levels every path walks binned rows: the float nodes go. */
    e->tnodes = malloc(m->num_nodes * sizeof *e->tnodes);
    if (!e->tnodes || (!m->accumulate_double && alloc_leaves(m, e, m->num_nodes)))
        return -1;
    crisk__engine_bytes_tail(&e->bytelay, e->gnodes, m->num_nodes, e->tnodes, e->leaf_f);
    free(e->gnodes);
    e->gnodes = NULL;
    e->bytes = e->bytes + m->num_nodes * sizeof *e->tnodes -
               m->num_nodes * sizeof(crisk__engine_gnode);
    e->has_bytes = 1;
    return 0;
}

/* Places every tree's nodes in the GENERAL layout and records each canonical node's slot
 * in slot_of. Returns 0, or -1 when out of memory. */
static int place_general(const crisk_model *m, crisk__engine *e, uint32_t *slot_of)
{
    size_t most = 0;
    for (size_t t = 0; t < m->num_trees; t++)
        if (m->trees[t].num_nodes > most)
            most = m->trees[t].num_nodes;
    e->gnodes = malloc(m->num_nodes * sizeof *e->gnodes);
    e->bytes += m->num_nodes * sizeof *e->gnodes;
    /* queue[i]: the canonical index of the node placed at slot i. */
    int32_t *queue = malloc(most * sizeof *queue);
    if (!e->gnodes || !queue ||
        (m->accumulate_double && alloc_leaves(m, e, m->num_nodes))) {
        free(queue);
        return -1;
    }
    for (size_t t = 0; t < m->num_trees; t++) {
        size_t base = m->trees[t].first_node, placed = 1;
        const crisk__node *nodes = m->nodes + base;
        queue[0] = 0;
        /* Validation guarantees every node is reached at most once, so placed <= most. */
        for (size_t i = 0; i < placed; i++) {
            const crisk__node *n = nodes + queue[i];
            slot_of[base + (size_t)queue[i]] = (uint32_t)i;
            crisk__engine_gnode *g = e->gnodes + base + i;
            if (n->left == -1) {
                /* A float leaf lives in its node: the walk's last load brings it. */
                g->feature = ENGINE_LEAF;
                g->left = (uint32_t)i;
                crisk__engine_weighted_leaf(m, t, n, &g->threshold,
                                            e->leaf_d ? &e->leaf_d[base + i] : NULL);
            } else {
                g->threshold = n->threshold;
                g->feature = (uint32_t)n->feature | (n->default_left ? ENGINE_DEFAULT_LEFT : 0u);
                g->left = (uint32_t)placed;
                queue[placed++] = n->left;
                queue[placed++] = n->right;
            }
        }
        /* Nodes no path reaches (a file may hold them) fill the slots left over as
         * zero leaves, so that every slot is a well-formed node. */
        for (size_t i = placed; i < m->trees[t].num_nodes; i++)
            e->gnodes[base + i] = (crisk__engine_gnode){0.0f, ENGINE_LEAF, (uint32_t)i};
    }
    free(queue);
    return 0;
}

int crisk__engine_cpu_has(crisk__engine_path path)
{
    /* libgcc fills the CPU model in a constructor: no __builtin_cpu_init needed here. */
    switch (path) {
#if CRISK__ENGINE_X86
    case ENGINE_PATH_AVX512_VBMI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vbmi");
    case CRISK__ENGINE_PATH_AVX512:
        return __builtin_cpu_supports("avx512f");
    case CRISK__ENGINE_PATH_AVX2:
        return __builtin_cpu_supports("avx2");
#endif
    case CRISK__ENGINE_PATH_REFERENCE:
    case CRISK__ENGINE_PATH_SCALAR:
        return 1;
    default:
        return 0;
    }
}

/* Returns the path named by the environment variable CRISK_ENGINE ("reference", "scalar",
 * "avx2", "avx512", "avx512vbmi"), or ENGINE_PATH_AUTO when it is unset or names none. */
static crisk__engine_path path_from_env(void)
{
    const char *s = getenv("CRISK_ENGINE");
    static const char *const names[] = {"reference", "scalar", "avx2", "avx512", "avx512vbmi"};
    for (int i = 0; s && i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return (crisk__engine_path)(CRISK__ENGINE_PATH_REFERENCE + i);
    return CRISK__ENGINE_PATH_AUTO;
}

int crisk__engine_select(crisk_model *model, int path)
{
    crisk__engine *e = model->engine;
    if (!e)
        return path == CRISK__ENGINE_PATH_REFERENCE || path == CRISK__ENGINE_PATH_AUTO ? 0 : -1;
    if (path == CRISK__ENGINE_PATH_AUTO) {
        path = CRISK__ENGINE_PATH_SCALAR;
        if (crisk__engine_cpu_has(CRISK__ENGINE_PATH_AVX2))
            path = CRISK__ENGINE_PATH_AVX2;
        if (crisk__engine_cpu_has(CRISK__ENGINE_PATH_AVX512))
            path = CRISK__ENGINE_PATH_AVX512;
        if (crisk__engine_cpu_has(ENGINE_PATH_AVX512_VBMI))
            path = ENGINE_PATH_AVX512_VBMI;
    }
    if (path < CRISK__ENGINE_PATH_REFERENCE || path > ENGINE_PATH_AVX512_VBMI ||
        !crisk__engine_cpu_has((crisk__engine_path)path))
        return -1;
    e->path = e->layout == LAYOUT_REFERENCE ? CRISK__ENGINE_PATH_REFERENCE : (crisk__engine_path)path;
    return 0;
}

int crisk__engine_build(crisk_model *model, crisk_error *err)
{
    model->engine = NULL;
    if (model->num_trees == 0)
        return 0;
    crisk__engine *e = calloc(1, sizeof *e);
    if (!e)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for the tree engine");
    e->bytes = sizeof *e;
    model->engine = e;
    int rc = 0;
    if (fast_layout_fits(model)) {
        uint32_t depth = 0;
        for (size_t t = 0; t < model->num_trees; t++)
            if (model->trees[t].depth > depth)
                depth = model->trees[t].depth;
        /* The BYTES layout serves the VBMI path only: built when that path will run. */
        crisk__engine_path wanted = path_from_env();
        int want_bytes = (wanted == CRISK__ENGINE_PATH_AUTO || wanted == ENGINE_PATH_AVX512_VBMI) &&
                         crisk__engine_cpu_has(ENGINE_PATH_AVX512_VBMI);
        e->layout = depth <= ENGINE_PERFECT_MAX_DEPTH ? LAYOUT_PERFECT : LAYOUT_GENERAL;
        rc = e->layout == LAYOUT_PERFECT ? build_perfect(model, e, depth, want_bytes)
                                         : build_general(model, e, want_bytes);
    }
    if (rc == 0 && crisk__engine_select(model, path_from_env()) != 0)
        rc = crisk__engine_select(model, CRISK__ENGINE_PATH_AUTO);
    if (rc) {
        crisk__engine_free(e);
        model->engine = NULL;
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory compiling %zu trees",
                           model->num_trees);
    }
    return 0;
}

void crisk__engine_free(struct crisk__engine *engine)
{
    if (!engine)
        return;
    free(engine->perfect.nodes);
    crisk__engine_bytes_free(&engine->bytelay);
    crisk__engine_planes_free(&engine->planes);
    free(engine->gnodes);
    free(engine->tnodes);
    free(engine->leaf_f);
    free(engine->leaf_d);
    free(engine);
}

size_t crisk__engine_memory(const struct crisk__engine *engine)
{
    return engine ? engine->bytes : 0;
}

/* The scalar kernel of the PERFECT layout: as engine_perfect_kernel, one lane at a time,
 * in the same branch-free steps as the SIMD kernels. */
static void perfect_scalar(const crisk__engine_perfect *p, const float *row, size_t nfeatures,
                           size_t b0, size_t b1, int32_t *out)
{
    (void)nfeatures;
    size_t inner = ((size_t)1 << p->depth) - 1;
    for (size_t b = b0; b < b1; b++) {
        const crisk__engine_pnode *pn = p->nodes + b * inner * ENGINE_LANES;
        for (size_t k = 0; k < ENGINE_LANES; k++) {
            size_t j = 0;
            for (uint32_t l = 0; l < p->depth; l++) {
                crisk__engine_pnode n = pn[j * ENGINE_LANES + k];
                float x = row[n.feature & ENGINE_FEATURE_MASK];
                size_t left = (x < n.threshold) | ((x != x) & (n.feature >> 31));
                j = 2 * j + 2 - left;
            }
            out[(b - b0) * ENGINE_LANES + k] = (int32_t)((j - inner) * ENGINE_LANES + k);
        }
    }
}

/* Adds float leaves `lv` of trees [tb, te) to the one-output margins of `nr` (at most
 * INTERLEAVE_ROWS) consecutive rows at `mg`, as add_block_leaves says (lf: its leaf
 * offsets, indexed by tree). Scalar chains, one a row: a leaf is a load of its offset, a
 * load of its value (the block's values hoisted out of the trees) and an add; packing the
 * rows into a vector would cost more shuffles than it saves. */
static inline __attribute__((always_inline)) void
add_float_sums(const crisk__engine_leaves *lv, unsigned shift, size_t tb, size_t te,
               const int32_t *lf, const size_t nr, double *mg)
{
    float acc[INTERLEAVE_ROWS];
    for (size_t i = 0; i < nr; i++)
        acc[i] = (float)mg[i];
    for (size_t t = tb; t < te;) {
        const float *vals = lv->f + (t >> shift) * lv->per_block;
        size_t end = ((t >> shift) + 1) << shift < te ? ((t >> shift) + 1) << shift : te;
        for (; t < end; t++)
            for (size_t i = 0; i < nr; i++)
                acc[i] += vals[lf[i * CHUNK_TREES + t]];
    }
    for (size_t i = 0; i < nr; i++)
        mg[i] = acc[i];
}

/* Adds the weighted leaves `lv` of trees [tb, te) to the margins of `nr` (at most
 * INTERLEAVE_ROWS) consecutive rows starting at `mg`, each row in tree order. Row i's
 * leaf offsets (leaf * lanes + lane, within the tree's block) are at
 * leaf[i * CHUNK_TREES + t - tfirst]. The rows' sums are independent chains, interleaved
 * so that the CPU overlaps their latencies. */
static void add_block_leaves(const crisk_model *m, const crisk__engine_leaves *lv, size_t tfirst,
                             size_t tb, size_t te, const int32_t *leaf, size_t nr, double *mg)
{
    size_t G = m->num_outputs, L = lv->lanes;
    /* Lanes are a power of two: t >> shift is t's block, without a division a tree. */
    unsigned shift = (unsigned)__builtin_ctzl(L);
    const int32_t *lf = leaf - tfirst;
    if (lv->f && G == 1) {
        /* A constant row count, so that the sums unroll into registers. */
        if (nr == INTERLEAVE_ROWS)
            add_float_sums(lv, shift, tb, te, lf, INTERLEAVE_ROWS, mg);
        else if (nr == 1)
            add_float_sums(lv, shift, tb, te, lf, 1, mg);
        else
            add_float_sums(lv, shift, tb, te, lf, nr, mg);
        return;
    }
    if (lv->f && G > 1 && G <= SMALL_GROUPS) {
        /* Few groups: every (row, group) sum is its own chain, kept in float. */
        float acc[INTERLEAVE_ROWS][SMALL_GROUPS];
        for (size_t i = 0; i < nr; i++)
            for (size_t g = 0; g < G; g++)
                acc[i][g] = (float)mg[i * G + g];
        for (size_t t = tb; t < te; t++) {
            const float *vals = lv->f + (t >> shift) * lv->per_block;
            uint32_t g = m->trees[t].group;
            for (size_t i = 0; i < nr; i++)
                acc[i][g] += vals[lf[i * CHUNK_TREES + t]];
        }
        for (size_t i = 0; i < nr; i++)
            for (size_t g = 0; g < G; g++)
                mg[i * G + g] = acc[i][g];
        return;
    }
    for (size_t i = 0; i < nr; i++, lf += CHUNK_TREES, mg += G) {
        if (lv->d) {
            for (size_t t = tb; t < te; t++)
                mg[m->trees[t].group] += lv->d[(t >> shift) * lv->per_block + (size_t)lf[t]];
        } else {
            for (size_t t = tb; t < te; t++) {
                double *g = mg + m->trees[t].group;
                *g = (double)((float)*g + lv->f[(t >> shift) * lv->per_block + (size_t)lf[t]]);
            }
        }
    }
}

/* Bins the `n` rows of F floats at `rows` into bins[0 .. n) with the binning of the
 * engine's path: AVX-512 when `vbmi`, else plain C. */
static void bin_rows(const crisk__engine_bytes *b, int vbmi, const float *rows, size_t F, size_t n,
                     uint8_t (*bins)[ENGINE_BYTE_ROW])
{
    void (*bin)(const crisk__engine_bytes *, const float *, uint8_t *) = crisk__engine_bytes_bin_scalar;
#if CRISK__ENGINE_X86
    if (vbmi)
        bin = crisk__engine_bytes_bin;
#else
    (void)vbmi;   /* no VBMI path off x86-64 */
#endif
    for (size_t r = 0; r < n; r++)
        bin(b, rows + r * F, bins[r]);
}

/* Walks the `nr` (at most LOCKSTEP_ROWS) binned rows bins[0 .. nr) through BYTES blocks
 * [b0, b1) with the kernel of the engine's path (VBMI, else plain C), writing row i's leaf
 * indices to out[i * stride ...] as crisk__engine_bytes_vbmi does. */
static void walk_bytes(const crisk__engine_bytes *b, int vbmi, uint8_t (*bins)[ENGINE_BYTE_ROW],
                       size_t nr, size_t b0, size_t b1, int32_t *out, size_t stride)
{
    _Static_assert(INTERLEAVE_ROWS <= LOCKSTEP_ROWS, "both callers' groups fit binned");
    const uint8_t *binned[LOCKSTEP_ROWS];
    for (size_t i = 0; i < nr; i++)
        binned[i] = bins[i];
#if CRISK__ENGINE_X86
    if (vbmi) {
        crisk__engine_bytes_vbmi(b, binned, nr, b0, b1, out, stride);
        return;
    }
#else
    (void)vbmi;
#endif
    for (size_t i = 0; i < nr; i++)
        crisk__engine_bytes_scalar(b, binned[i], b0, b1, out + i * stride);
}

/* crisk__engine_add_trees over a blocked layout (PERFECT or BYTES) with the engine's
 * kernel: tree-major over chunks of CHUNK_TREES trees within blocks of rows. */
static void add_trees_blocked(const crisk_model *m, const float *rows, size_t nrows,
                              size_t t0, size_t t1, double *margins)
{
    const crisk__engine *e = m->engine;
    /* A model in the BYTES layout has no other: paths other than VBMI walk it in scalar. */
    int use_bytes = e->has_bytes, vbmi = e->path == ENGINE_PATH_AVX512_VBMI;
    crisk__engine_perfect_kernel kernel = perfect_scalar;
#if CRISK__ENGINE_X86
    if (e->path >= CRISK__ENGINE_PATH_AVX512)
        kernel = crisk__engine_perfect_avx512;
    else if (e->path == CRISK__ENGINE_PATH_AVX2)
        kernel = crisk__engine_perfect_avx2;
#endif
    crisk__engine_leaves pl = {ENGINE_LANES, (size_t)ENGINE_LANES << e->perfect.depth, e->leaf_f,
                        e->leaf_d};
    const crisk__engine_leaves *lv = use_bytes ? &e->bytelay.leaves : &pl;
    size_t F = m->num_features, G = m->num_outputs, L = lv->lanes;
    int32_t leaf[INTERLEAVE_ROWS * CHUNK_TREES];
    /* A call of one row gives it the whole of `leaf`: longer chunks, whose blocks the
     * BYTES walk takes several at a time. */
    size_t chunk = nrows == 1 ? INTERLEAVE_ROWS * CHUNK_TREES : CHUNK_TREES;
    uint8_t bins[BLOCK_ROWS][ENGINE_BYTE_ROW];
    for (size_t r0 = 0; r0 < nrows; r0 += BLOCK_ROWS) {
        size_t r1 = nrows - r0 < BLOCK_ROWS ? nrows : r0 + BLOCK_ROWS;
        if (use_bytes)
            bin_rows(&e->bytelay, vbmi, rows + r0 * F, F, r1 - r0, bins);
        /* Chunks start on block boundaries, so a chunk is whole blocks. */
        for (size_t c0 = t0 / L * L; c0 < t1; c0 += chunk) {
            size_t c1 = t1 - c0 < chunk ? t1 : c0 + chunk;
            size_t b0 = c0 / L, b1 = (c1 + L - 1) / L;
            for (size_t r = r0; r < r1; r += INTERLEAVE_ROWS) {
                size_t nr = r1 - r < INTERLEAVE_ROWS ? r1 - r : INTERLEAVE_ROWS;
                if (use_bytes)
                    walk_bytes(&e->bytelay, vbmi, bins + (r - r0), nr, b0, b1, leaf,
                               CHUNK_TREES);
                for (size_t i = 0; !use_bytes && i < nr; i++)
                    kernel(&e->perfect, rows + (r + i) * F, F, b0, b1, leaf + i * CHUNK_TREES);
                add_block_leaves(m, lv, c0, c0 > t0 ? c0 : t0, c1, leaf, nr, margins + r * G);
            }
        }
    }
}

/* One branch-free step of a walk: returns the slot after `slot` among `nodes` for `row`. */
typedef uint32_t (*walk_step)(const void *nodes, uint32_t slot, const void *row);

/* A step of the GENERAL walk (engine_gnode nodes, float rows). */
static inline uint32_t general_step(const void *nodes, uint32_t slot, const void *row)
{
    const crisk__engine_gnode *n = (const crisk__engine_gnode *)nodes + slot;
    uint32_t w = n->feature;
    float x = ((const float *)row)[w & ENGINE_FEATURE_MASK];
    uint32_t left = (x < n->threshold) | ((x != x) & (w >> 31));
    return n->left + ((left ^ 1u) & ((w & ENGINE_LEAF) == 0));
}

/* A step of the binned GENERAL walk (engine_tnode nodes, rows of keys). */
static inline uint32_t tail_step(const void *nodes, uint32_t slot, const void *keys)
{
    const crisk__engine_tnode *n = (const crisk__engine_tnode *)nodes + slot;
    return n->left + (((const uint16_t *)keys)[n->key] > n->rank);
}

/* Walks `count` (<= LOCKSTEP_ROWS) rows (row i at rows + i * stride bytes) through one
 * tree's `nodes` in lockstep, `depth` steps each from slots `at`, and leaves each row's
 * leaf slot in `at`. A full group's walks unroll into independent chains. */
static inline __attribute__((always_inline)) void
lockstep_walk(walk_step step, const void *nodes, uint32_t depth, const void *rows,
              size_t stride, size_t count, uint32_t *at)
{
    const char *r = rows;
    if (count == LOCKSTEP_ROWS) {
        uint32_t s[LOCKSTEP_ROWS];
        memcpy(s, at, sizeof s);
        for (uint32_t l = 0; l < depth; l++)
#pragma GCC unroll 16
            for (size_t i = 0; i < LOCKSTEP_ROWS; i++)
                s[i] = step(nodes, s[i], r + i * stride);
        memcpy(at, s, sizeof s);
        return;
    }
    for (uint32_t l = 0; l < depth; l++)
        for (size_t i = 0; i < count; i++)
            at[i] = step(nodes, at[i], r + i * stride);
}

/* Adds tree t's weighted leaves at slots at[0 .. count) to the margins of `count`
 * consecutive rows starting at `mg`: slot s's float value is at vals[s * vstride] (the
 * tree's nodes), its double value in the engine's leaf_d. */
static void add_general_leaves(const crisk_model *m, size_t t, const uint32_t *at,
                               size_t count, const float *vals, size_t vstride, double *mg)
{
    const crisk__engine *e = m->engine;
    const crisk__tree *tree = &m->trees[t];
    for (size_t i = 0; i < count; i++) {
        double *g = mg + i * m->num_outputs + tree->group;
        if (e->leaf_d)
            *g += e->leaf_d[tree->first_node + at[i]];
        else
            *g = (double)((float)*g + vals[at[i] * vstride]);
    }
}

/* Walks row ri of a block (its keys at `keys`) on from start[t - c0][ri] through trees
 * [tb, c1) of the BYTES block whose first tree is c0, LOCKSTEP_ROWS trees at a time in
 * lockstep, and adds their leaves to its margins `mg` in tree order: with few rows, the
 * walks of one tree are too few to hide the latency of its nodes, mostly out of cache. */
static void add_row_tails(const crisk_model *m, size_t c0, size_t tb, size_t c1,
                          uint32_t (*start)[DEEP_BLOCK_ROWS], size_t ri, const uint16_t *keys,
                          double *mg)
{
    const crisk__engine *e = m->engine;
    for (size_t t = tb; t < c1; t += LOCKSTEP_ROWS) {
        size_t n = c1 - t < LOCKSTEP_ROWS ? c1 - t : LOCKSTEP_ROWS;
        const crisk__engine_tnode *g[LOCKSTEP_ROWS];
        uint32_t at[LOCKSTEP_ROWS], steps = 0;
        for (size_t k = 0; k < n; k++) {
            const crisk__tree *tree = &m->trees[t + k];
            uint32_t rest = tree->depth > e->bytelay.depth ? tree->depth - e->bytelay.depth : 0;
            g[k] = e->tnodes + tree->first_node;
            at[k] = start[t + k - c0][ri];
            steps = rest > steps ? rest : steps;
        }
        /* A leaf steps to itself: the shallower trees' extra steps change nothing. */
        for (uint32_t l = 0; l < steps; l++)
            for (size_t k = 0; k < n; k++)
                at[k] = tail_step(g[k], at[k], keys);
        for (size_t k = 0; k < n; k++)
            add_general_leaves(m, t + k, &at[k], 1,
                               e->leaf_f ? e->leaf_f + m->trees[t + k].first_node : NULL, 1, mg);
    }
}

/* crisk__engine_add_trees over the BYTES layout of the trees' top levels, then the GENERAL
 * walk from where it ends: tree-major over each BYTES block of trees within blocks of
 * DEEP_BLOCK_ROWS rows, so that a tree's lower levels, too big for the caches all at once,
 * are read from memory once a block of rows. */
static void add_trees_general_top(const crisk_model *m, const float *rows, size_t nrows,
                                  size_t t0, size_t t1, double *margins)
{
    const crisk__engine *e = m->engine;
    const crisk__engine_bytes *b = &e->bytelay;
    int vbmi = e->path == ENGINE_PATH_AVX512_VBMI;
    size_t F = m->num_features, G = m->num_outputs, L = ENGINE_BYTE_LANES;
    uint8_t bins[DEEP_BLOCK_ROWS][ENGINE_BYTE_ROW];
    uint16_t keys[DEEP_BLOCK_ROWS][ENGINE_TAIL_KEYS];
    int32_t off[LOCKSTEP_ROWS][ENGINE_BYTE_LANES];
    /* start[t - c0][r - r0]: the slot where row r's walk of tree t goes on. */
    uint32_t start[ENGINE_BYTE_LANES][DEEP_BLOCK_ROWS];
    for (size_t r0 = 0; r0 < nrows; r0 += DEEP_BLOCK_ROWS) {
        size_t r1 = nrows - r0 < DEEP_BLOCK_ROWS ? nrows : r0 + DEEP_BLOCK_ROWS;
        bin_rows(b, vbmi, rows + r0 * F, F, r1 - r0, bins);
        for (size_t r = r0; r < r1; r++)
            crisk__engine_bytes_keys(b, bins[r - r0], keys[r - r0]);
        for (size_t c0 = t0 / L * L; c0 < t1; c0 += L) {
            size_t c1 = t1 - c0 < L ? t1 : c0 + L, tb = c0 > t0 ? c0 : t0;
            for (size_t r = r0; r < r1; r += LOCKSTEP_ROWS) {
                size_t count = r1 - r < LOCKSTEP_ROWS ? r1 - r : LOCKSTEP_ROWS;
                walk_bytes(b, vbmi, bins + (r - r0), count, c0 / L, c0 / L + 1, off[0], L);
                for (size_t i = 0; i < count; i++)
                    for (size_t t = tb; t < c1; t++)
                        start[t - c0][r + i - r0] =
                            b->entry[c0 / L * b->leaves.per_block + (size_t)off[i][t - c0]];
            }
            for (size_t r = r0; r1 - r0 < FEW_TAIL_ROWS && r < r1; r++)
                add_row_tails(m, c0, tb, c1, start, r - r0, keys[r - r0], margins + r * G);
            for (size_t t = tb; r1 - r0 >= FEW_TAIL_ROWS && t < c1; t++) {
                const crisk__tree *tree = &m->trees[t];
                const crisk__engine_tnode *g = e->tnodes + tree->first_node;
                uint32_t rest = tree->depth > b->depth ? tree->depth - b->depth : 0;
                for (size_t r = r0; r < r1; r += LOCKSTEP_ROWS) {
                    size_t count = r1 - r < LOCKSTEP_ROWS ? r1 - r : LOCKSTEP_ROWS;
                    uint32_t at[LOCKSTEP_ROWS];
                    memcpy(at, &start[t - c0][r - r0], count * sizeof *at);
                    lockstep_walk(tail_step, g, rest, keys[r - r0], sizeof keys[0], count, at);
                    add_general_leaves(m, t, at, count,
                                       e->leaf_f ? e->leaf_f + tree->first_node : NULL, 1,
                                       margins + r * G);
                }
            }
        }
    }
}

/* crisk__engine_add_trees over the GENERAL layout. */
static void add_trees_general(const crisk_model *m, const float *rows, size_t nrows,
                              size_t t0, size_t t1, double *margins)
{
    const crisk__engine *e = m->engine;
    size_t F = m->num_features, G = m->num_outputs;
    uint32_t at[LOCKSTEP_ROWS];
    for (size_t r0 = 0; r0 < nrows; r0 += BLOCK_ROWS) {
        size_t r1 = nrows - r0 < BLOCK_ROWS ? nrows : r0 + BLOCK_ROWS;
        for (size_t t = t0; t < t1; t++) {
            const crisk__tree *tree = &m->trees[t];
            const crisk__engine_gnode *g = e->gnodes + tree->first_node;
            for (size_t r = r0; r < r1; r += LOCKSTEP_ROWS) {
                size_t count = r1 - r < LOCKSTEP_ROWS ? r1 - r : LOCKSTEP_ROWS;
                memset(at, 0, sizeof at);
                lockstep_walk(general_step, g, tree->depth, rows + r * F, F * sizeof *rows,
                              count, at);
                add_general_leaves(m, t, at, count, &g->threshold, sizeof *g / sizeof(float),
                                   margins + r * G);
            }
        }
    }
}

/* crisk__engine_add_trees through the reference walk of the canonical nodes. */
static void add_trees_reference(const crisk_model *m, const float *rows, size_t nrows,
                                size_t t0, size_t t1, double *margins)
{
    size_t F = m->num_features, G = m->num_outputs;
    for (size_t r0 = 0; r0 < nrows; r0 += BLOCK_ROWS) {
        size_t n = nrows - r0 < BLOCK_ROWS ? nrows - r0 : BLOCK_ROWS;
        const float *block = rows + r0 * F;
        double *bm = margins + r0 * G;
        for (size_t t = t0; t < t1; t++) {
            const crisk__tree *tree = &m->trees[t];
            double *mg = bm + tree->group;
            if (m->accumulate_double) {
                for (size_t r = 0; r < n; r++)
                    mg[r * G] += tree->weight * crisk__tree_leaf_value(m, t, block + r * F);
            } else {
                /* XGBoost: float leaf times float weight, added in float. */
                float w = (float)tree->weight;
                for (size_t r = 0; r < n; r++) {
                    float leaf = (float)crisk__tree_leaf_value(m, t, block + r * F);
                    mg[r * G] = (double)((float)mg[r * G] + leaf * w);
                }
            }
        }
    }
}

/* crisk__engine_add_trees over the PLANES layout, ENGINE_PLANES_ROWS rows at a time; a
 * last block of fewer than PLANES_MIN_ROWS rows, too few to pay for its table of masks,
 * goes through the blocked layouts. */
static void add_trees_planes(const crisk_model *m, const float *rows, size_t nrows, size_t t0,
                             size_t t1, double *margins)
{
#if CRISK__ENGINE_X86
    const crisk__engine *e = m->engine;
    size_t F = m->num_features, r0 = 0;
    for (; nrows - r0 >= PLANES_MIN_ROWS; r0 += ENGINE_PLANES_ROWS) {
        size_t n = nrows - r0 < ENGINE_PLANES_ROWS ? nrows - r0 : ENGINE_PLANES_ROWS;
        crisk__engine_planes_avx512(&e->planes, &e->bytelay, rows + r0 * F, n, t0, t1,
                                    margins + r0);
        if (n < ENGINE_PLANES_ROWS)
            return;
    }
    rows += r0 * F;
    margins += r0;
    nrows -= r0;
#endif
    if (nrows)
        add_trees_blocked(m, rows, nrows, t0, t1, margins);
}

/* crisk__engine_add_trees over the engine's compiled layouts, for rows already fixed up. */
static void add_trees_fast(const crisk_model *m, const float *rows, size_t nrows, size_t t0,
                           size_t t1, double *margins)
{
    const crisk__engine *e = m->engine;
    if (e->has_planes && e->path == ENGINE_PATH_AVX512_VBMI && nrows >= PLANES_MIN_ROWS)
        add_trees_planes(m, rows, nrows, t0, t1, margins);
    else if (e->layout == LAYOUT_PERFECT)
        add_trees_blocked(m, rows, nrows, t0, t1, margins);
    else if (e->has_bytes)
        add_trees_general_top(m, rows, nrows, t0, t1, margins);
    else
        add_trees_general(m, rows, nrows, t0, t1, margins);
}

/* crisk__engine_add_trees over the compiled layouts for a model with per-feature fix-ups:
 * each block of rows is fixed up into a stack copy (the layouts hold plain thresholds),
 * so the fast paths see exactly the values the reference walk compares. */
static void add_trees_fixed(const crisk_model *m, const float *rows, size_t nrows, size_t t0,
                            size_t t1, double *margins)
{
    float fixed[FIXUP_FLOATS];
    size_t F = m->num_features, G = m->num_outputs;
    size_t block = F > FIXUP_FLOATS / BLOCK_ROWS ? FIXUP_FLOATS / F : BLOCK_ROWS;
    for (size_t r0 = 0; r0 < nrows; r0 += block) {
        size_t n = nrows - r0 < block ? nrows - r0 : block;
        add_trees_fast(m, crisk__fix_rows(m, rows + r0 * F, n, fixed), n, t0, t1,
                       margins + r0 * G);
    }
}

void crisk__engine_add_trees(const crisk_model *m, const float *rows, size_t nrows,
                             size_t t0, size_t t1, double *margins)
{
    const crisk__engine *e = m->engine;
    if (t0 >= t1 || nrows == 0)
        return;
    if (!e || e->path == CRISK__ENGINE_PATH_REFERENCE)
        add_trees_reference(m, rows, nrows, t0, t1, margins);
    else if (m->fixup)
        add_trees_fixed(m, rows, nrows, t0, t1, margins);
    else
        add_trees_fast(m, rows, nrows, t0, t1, margins);
}
