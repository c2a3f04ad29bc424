/*
 * explain/tree_shap.c — exact TreeSHAP (Lundberg et al., arXiv 1706.06060, as XGBoost's
 * pred_contribs and LightGBM's pred_contrib compute it), by leaf paths.
 *
 * A leaf with value v whose root-to-leaf path tests d distinct features (a feature tested
 * several times counts once) adds to the contribution of each of those features k
 *
 *     phi_k = v (o_k - z_k) sum over S within the others of |S|! (d - 1 - |S|)! / d!
 *                          * prod_{j in S} o_j * prod_{j not in S} z_j
 *
 * where z_k is the product of the cover fractions (child cover / parent cover) along the
 * path at k's nodes, and o_k is 1 if the row takes the path's side at every node of k,
 * else 0. Everything but the d bits o depends on the tree alone, so a call compiles each
 * tree once: nodes in preorder, each split node knowing the index of its feature among
 * the distinct features above it, and each leaf its features and z. Per row, one pass over
 * the split nodes gives every leaf its pattern of o bits (a bit is cleared on entering a
 * node's cold child), and the leaf's contributions are computed in O(d^2).
 *
 * Calls of many rows use tables instead. The leaves are grouped in units: subtrees of
 * height at most UNIT_HEIGHT hanging from the nodes above them. What a unit's leaves add
 * depends only on the pattern at the unit's root (one bit per feature above it) and on
 * the directions the row takes at the unit's splits, so a table over all those bits
 * holds the unit's summed contributions to its features; per row a unit costs one
 * lookup. A unit gets a table when 2^bits is small against the call's rows and the
 * tables stay within a memory budget; otherwise its leaves are computed one by one.
 * For such rows a kernel (explain/shap_dirs.h) writes the directions at all of a tree's
 * splits as bits, and each unit's index is read from them by pext (its keys); a tree's
 * lookups are summed in float, on AVX-512 by explain/shap_sum.h's kernel. The tables are
 * filled from each leaf's weights for all 2^d patterns (subset_weights, cold_products),
 * O(d) a pattern.
 *
 * The sum over S is the polynomial prod_j (z_j + o_j t) without k's factor, its
 * coefficients weighted by s! (d - 1 - s)! / d!; hot factors (o_j = 1) are divided out
 * of the product by synthetic division by (t + z_j), which is stable for z_j <= 1, and
 * cold ones (constant factors z_j) are left out by prefix and suffix products, so no
 * division by a possibly zero cover fraction happens.
 *
 * Interactions follow XGBoost's definition (contributions with one feature always present
 * minus always absent, halved, the diagonal making each row sum to the contribution):
 * for a leaf, features a != b on its path interact by v (o_a - z_a)(o_b - z_b) W_b / 2,
 * W_b being the weight above over the d - 1 features other than a.
 */
#include "explain/shap.h"

#include "explain/shap_dirs.h"
#include "explain/shap_sum.h"
#include "engine/layout.h"
#include "predict/call.h"
#include "common/error.h"
#include "common/grow.h"
#include "model/split.h"

#include <stdlib.h>
#include <string.h>

/* Most distinct features on one path (a pattern is a 64-bit word). */
#define MAX_PATH 64
/* Height of the subtrees whose leaves share one table. */
#define UNIT_HEIGHT 2
/* Most index bits of a table (2^bits entries). */
#define MAX_TABLE_BITS 14
/* Memory all tables of one call may take. */
#define TABLE_BUDGET ((size_t)256 << 20)
/* Rows per block: each tree's compiled nodes and tables stay in cache over the block;
 * fewer for wide rows, so that a block's input stays within BLOCK_FLOATS. */
#define BLOCK_ROWS 4096
#define BLOCK_FLOATS ((size_t)1 << 20)
/* Units per thread below which building tables on another thread costs more than it
 * saves. */
#define MIN_UNITS_PER_THREAD 128
/* "No table" for a unit; "in no unit with a table" for a node. */
#define NO_TABLE SIZE_MAX
#define NO_UNIT UINT32_MAX

/* A node in a tree's preorder. */
typedef struct shap_node {
    const crisk__node *src;   /* the canonical node */
    uint32_t left, right;    /* split: children's positions within the tree's preorder */
    uint32_t bit;            /* split: index of its feature among its path's features;
                                leaf: the leaf's index in shap->leaves */
    uint32_t unit;           /* in a unit with a table: the unit's index within its tree
                                (a leaf then needs no work of its own); else NO_UNIT */
    uint32_t parent;         /* its parent's position, UINT32_MAX at the root */
    int32_t feature;         /* split: copies of the canonical node's fields, kept beside */
    float threshold;         /*   the rest for the row loop */
    uint8_t default_left;
    uint8_t categorical;
} shap_node;

/* A leaf: its value and its path's distinct features. */
typedef struct shap_leaf {
    float value;
    uint32_t d;              /* distinct features on the path */
    size_t elem;             /* first of them in elem_feature / elem_zero */
} shap_leaf;

/* A unit: a subtree of height <= UNIT_HEIGHT whose parent is higher (or the whole tree). */
typedef struct shap_unit {
    uint32_t root;           /* position of its root within the tree's preorder */
    uint32_t size;           /* its nodes (contiguous in preorder) */
    uint32_t above;          /* distinct features above its root */
    uint32_t path;           /* splits above its root */
    uint32_t splits;         /* its split nodes */
    uint32_t num_slots;      /* features it adds to: the `above` ones, then new ones */
    uint32_t first_key, num_keys; /* in shap->keys, when it may have a table */
    size_t first_slot;       /* in shap->slot_feature */
    size_t table;            /* first float of its table, or NO_TABLE */
    size_t remap;            /* with a table, when its path above tests a feature twice:
                                its first entry in shap->remaps; else NO_TABLE */
} shap_unit;

/* A unit's keys (explain/shap_sum.h) read from the direction words, in split order, a bit
 * per split above its root (set: the row takes the path's side; `left` marks the splits
 * where the path goes left) then a bit per split of the unit (set: the row goes right).
 * The bits above are the root's pattern (a bit per distinct feature above, set when the
 * row takes the path's side at all its splits) unless the path tests a feature twice;
 * the unit's remap then gives the pattern. Its table's index is that pattern, then the
 * bits of its splits. */

/* A categorical split, whose direction the row loop of tabled trees takes from the
 * canonical node rather than from the direction words. */
typedef struct shap_cat {
    uint32_t split;          /* its index in the tree's split order */
    uint32_t node;           /* the canonical node's index in model->nodes */
} shap_cat;

/* A compiled tree. */
typedef struct shap_tree {
    size_t first_node, num_nodes;   /* in shap->nodes */
    size_t first_feat, num_feats;   /* its distinct split features, in shap->tree_feats */
    size_t first_unit, num_units;   /* in shap->units */
    size_t first_split, num_splits; /* in shap->dir_feature / dir_threshold, padded to
                                       CRISK__SHAP_DIRS_PAD; num_splits unpadded */
    size_t first_word;              /* in shap->dir_nan_right: a word per 64 splits */
    size_t first_cat, num_cats;     /* in shap->cats */
    int all_tabled;                 /* every unit that adds anything has a table */
    int any_tabled;                 /* some unit has a table */
    int vector;                     /* all_tabled, and summed by crisk__shap_sum_avx512 */
    size_t first_table, table_floats; /* its units' tables in shap->tables */
    uint32_t group;
    float weight;                   /* DART weight (1 for gbtree) */
    float mean;                     /* the root's mean value, as XGBoost computes it */
} shap_tree;

struct crisk__shap {
    const crisk_model *model;
    size_t num_trees;
    shap_tree *trees;
    shap_node *nodes;
    shap_leaf *leaves;
    size_t num_leaves;
    shap_unit *units;
    size_t num_units;
    int32_t *dir_feature;    /* every tree's splits in split order, for the direction */
    float *dir_threshold;    /*   words (explain/shap_dirs.h) */
    uint64_t *dir_nan_right;
    size_t num_splits, num_words;
    crisk__shap_dirs_fn *dirs;
    shap_cat *cats;
    size_t num_cats;
    crisk__shap_key *keys;
    size_t num_keys, cap_keys;
    uint64_t (*pext)(uint64_t, uint64_t); /* pext by BMI2 where fast, else portable */
    int32_t *tree_feats;
    int32_t *elem_feature;   /* leaves' path features */
    float *elem_zero;        /* their z */
    size_t num_elems, cap_elems;
    int32_t *slot_feature;   /* units' features */
    size_t num_slots, cap_slots;
    float *tables;
    uint16_t *remaps;        /* units' remaps (fill_tables) */
    crisk__shap_vunit *vunits;   /* per unit, for trees summed by the AVX-512 kernel */
    size_t max_tree_nodes, max_tree_words;
    double shapley[MAX_PATH + 1][MAX_PATH]; /* [n][s] = s! (n - 1 - s)! / n! */
};

/* Writes to w[k], for each of the n features of a path (cover fractions z, bit k of `hot`
 * set when o_k = 1), the Shapley weight sum of the header comment over the other n - 1
 * features; ws[s] = s! (n - 1 - s)! / n!. */
static void path_weights(size_t n, const double *z, uint64_t hot, const double *ws, double *w)
{
    double q[MAX_PATH + 1], r[MAX_PATH + 1];
    double pre[MAX_PATH + 1], suf[MAX_PATH + 1];
    size_t cold[MAX_PATH], nc = 0, h = 0;
    q[0] = 1.0;
    for (size_t k = 0; k < n; k++) {
        if (!((hot >> k) & 1)) {
            cold[nc++] = k;
            continue;
        }
        q[h + 1] = 0.0;
        for (size_t i = h + 1; i > 0; i--)
            q[i] = q[i] * z[k] + q[i - 1];
        q[0] *= z[k];
        h++;
    }
    pre[0] = 1.0;
    for (size_t j = 0; j < nc; j++)
        pre[j + 1] = pre[j] * z[cold[j]];
    suf[nc] = 1.0;
    for (size_t j = nc; j > 0; j--)
        suf[j - 1] = suf[j] * z[cold[j - 1]];
    if (nc > 0) {
        double a = 0.0;
        for (size_t s = 0; s <= h; s++)
            a += q[s] * ws[s];
        for (size_t j = 0; j < nc; j++)
            w[cold[j]] = a * pre[j] * suf[j + 1];
    }
    for (size_t k = 0; k < n && h > 0; k++) {
        if (!((hot >> k) & 1))
            continue;
        r[h - 1] = q[h];
        for (size_t i = h - 1; i > 0; i--)
            r[i - 1] = q[i] - z[k] * r[i];
        double b = 0.0;
        for (size_t s = 0; s < h; s++)
            b += r[s] * ws[s];
        w[k] = b * pre[nc];
    }
}

/* Writes the contributions of leaf `lf` for the pattern `hot` to phi[0 .. d). */
static void leaf_contributions(const crisk__shap *s, const shap_leaf *lf, uint64_t hot,
                               double *phi)
{
    double z[MAX_PATH], w[MAX_PATH];
    for (size_t k = 0; k < lf->d; k++)
        z[k] = s->elem_zero[lf->elem + k];
    path_weights(lf->d, z, hot, s->shapley[lf->d], w);
    for (size_t k = 0; k < lf->d; k++)
        phi[k] = (double)lf->value * ((double)((hot >> k) & 1) - z[k]) * w[k];
}

/* Adds leaf `lf`'s interactions for pattern `hot`, times `weight`, to `inter` (a C x C
 * block of one row and group). */
static void leaf_interactions(const crisk__shap *s, const shap_leaf *lf, uint64_t hot,
                              float weight, size_t C, float *inter)
{
    double z[MAX_PATH], zs[MAX_PATH], w[MAX_PATH];
    size_t d = lf->d;
    for (size_t k = 0; k < d; k++)
        z[k] = s->elem_zero[lf->elem + k];
    for (size_t a = 0; a < d; a++) {
        /* The path without a: its features keep their order, the bits above a shift. */
        uint64_t low = a ? hot & ((UINT64_C(1) << a) - 1) : 0;
        uint64_t sub = low | ((hot >> (a + 1)) << a);
        for (size_t k = 0, j = 0; k < d; k++)
            if (k != a)
                zs[j++] = z[k];
        path_weights(d - 1, zs, sub, s->shapley[d - 1], w);
        double fa = (double)lf->value * ((double)((hot >> a) & 1) - z[a]) / 2.0;
        float *row = inter + (size_t)s->elem_feature[lf->elem + a] * C;
        for (size_t k = 0, j = 0; k < d; k++) {
            if (k == a)
                continue;
            double v = fa * ((double)((hot >> k) & 1) - z[k]) * w[j++];
            row[s->elem_feature[lf->elem + k]] += (float)v * weight;
        }
    }
}

/* Appends a leaf's `d` path features and their z; returns the index of the first, or
 * SIZE_MAX when out of memory. */
static size_t push_elems(crisk__shap *s, size_t d, const int32_t *feat, const float *zero)
{
    if (s->num_elems + d > s->cap_elems) {
        size_t cap = crisk__grow_capacity(s->cap_elems, s->num_elems + d, 1024);
        if (crisk__resize((void **)&s->elem_feature, cap, sizeof *feat) ||
            crisk__resize((void **)&s->elem_zero, cap, sizeof *zero))
            return SIZE_MAX;
        s->cap_elems = cap;
    }
    size_t at = s->num_elems;
    memcpy(s->elem_feature + at, feat, d * sizeof *feat);
    memcpy(s->elem_zero + at, zero, d * sizeof *zero);
    s->num_elems += d;
    return at;
}

/* A step of the iterative depth-first walk that compiles a tree. */
typedef struct dfs_frame {
    enum { DFS_ENTER, DFS_RESTORE, DFS_POP } kind;
    int32_t node;            /* ENTER: canonical node index within the tree */
    uint32_t parent;         /* ENTER: parent's preorder position, UINT32_MAX at the root */
    uint32_t side;           /* ENTER: 0 left child, 1 right child */
    uint32_t k;              /* ENTER, RESTORE: path feature whose z the edge changes */
    float z;                 /* ENTER: cover fraction of the edge; RESTORE: old z */
} dfs_frame;

/* Scratch of the tree compiler, sized for the largest tree. */
typedef struct compile_scratch {
    dfs_frame *stack;
    int32_t *pos;            /* feature -> index on the current path, or -1 */
    uint32_t *seen;          /* feature -> last tree (plus one) that listed it */
    float *mean;             /* per preorder position */
    uint32_t *above;         /* per preorder position: distinct features above it */
    uint32_t *height;        /* per preorder position: height of its subtree */
    uint32_t *size;          /* per preorder position: nodes in its subtree */
    uint32_t *split_of;      /* per preorder position of a split: its split index */
    int32_t path_feat[MAX_PATH];
    float path_zero[MAX_PATH];
} compile_scratch;

/* Walks tree `t` depth first (without recursion) into s->trees[i]: its nodes in
 * preorder from s->nodes[first], its leaves' paths, its distinct features, and each
 * position's count of features above it. Returns 0, CRISK_E_UNSUPPORTED or
 * CRISK_E_NOMEM. */
static int walk_tree(crisk__shap *s, size_t t, size_t i, size_t first, size_t *first_feat,
                     compile_scratch *cs, crisk_error *err)
{
    const crisk_model *m = s->model;
    const crisk__tree *tree = &m->trees[t];
    const crisk__node *nodes = m->nodes + tree->first_node;
    shap_node *out = s->nodes + first;
    shap_tree *st = &s->trees[i];
    st->first_node = first;
    st->num_nodes = tree->num_nodes;
    st->first_feat = *first_feat;
    st->num_feats = 0;
    st->group = tree->group;
    st->weight = (float)tree->weight;

    size_t top = 0, count = 0, depth = 0;
    cs->stack[top++] = (dfs_frame){.kind = DFS_ENTER, .node = 0, .parent = UINT32_MAX};
    while (top > 0) {
        dfs_frame f = cs->stack[--top];
        if (f.kind == DFS_RESTORE) {
            cs->path_zero[f.k] = f.z;
            continue;
        }
        if (f.kind == DFS_POP) {
            cs->pos[cs->path_feat[--depth]] = -1;
            continue;
        }
        uint32_t at = (uint32_t)count++;
        if (f.parent != UINT32_MAX) {
            if (f.side == 0)
                out[f.parent].left = at;
            else
                out[f.parent].right = at;
            /* XGBoost: fraction of this edge times the fraction already on the path. */
            cs->stack[top++] = (dfs_frame){.kind = DFS_RESTORE, .k = f.k,
                                           .z = cs->path_zero[f.k]};
            cs->path_zero[f.k] = f.z * cs->path_zero[f.k];
        }
        const crisk__node *n = &nodes[f.node];
        out[at].src = n;
        out[at].parent = f.parent;
        out[at].unit = NO_UNIT;
        out[at].feature = n->feature;
        out[at].threshold = n->threshold;
        out[at].default_left = n->default_left;
        out[at].categorical = n->categorical;
        cs->above[at] = (uint32_t)depth;
        if (n->left == -1) {
            size_t elem = push_elems(s, depth, cs->path_feat, cs->path_zero);
            if (elem == SIZE_MAX)
                return crisk__fail(err, CRISK_E_NOMEM, "out of memory for SHAP paths");
            shap_leaf *lf = &s->leaves[s->num_leaves];
            lf->value = (float)n->value;
            lf->d = (uint32_t)depth;
            lf->elem = elem;
            out[at].bit = (uint32_t)s->num_leaves++;
            continue;
        }
        if (m->family == CRISK__FAMILY_LIGHTGBM && !(n->cover > 0.0f))
            return crisk__fail(err, CRISK_E_UNSUPPORTED,
                               "tree %zu, node %d: no internal_count; SHAP needs the data "
                               "counts of LightGBM's nodes", t, f.node);
        int32_t feat = n->feature;
        if (cs->seen[feat] != i + 1) {
            cs->seen[feat] = (uint32_t)(i + 1);
            s->tree_feats[(*first_feat)++] = feat;
            st->num_feats++;
        }
        if (cs->pos[feat] < 0) {
            if (depth == MAX_PATH)
                return crisk__fail(err, CRISK_E_UNSUPPORTED,
                                   "tree %zu, node %d: a path tests more than %d distinct "
                                   "features; SHAP supports up to %d", t, f.node, MAX_PATH,
                                   MAX_PATH);
            cs->pos[feat] = (int32_t)depth;
            cs->path_feat[depth] = feat;
            cs->path_zero[depth] = 1.0f;
            depth++;
            cs->stack[top++] = (dfs_frame){.kind = DFS_POP};
        }
        uint32_t k = (uint32_t)cs->pos[feat];
        out[at].bit = k;
        float cover = n->cover;
        cs->stack[top++] = (dfs_frame){.kind = DFS_ENTER, .node = n->right, .parent = at,
                                       .side = 1, .k = k,
                                       .z = nodes[n->right].cover / cover};
        cs->stack[top++] = (dfs_frame){.kind = DFS_ENTER, .node = n->left, .parent = at,
                                       .side = 0, .k = k,
                                       .z = nodes[n->left].cover / cover};
    }
    return 0;
}

/* Sets unit u's path length and, when its table index would not be too wide for a table,
 * its keys: a word's bits of its splits and of those above its root (split indices in
 * cs->split_of). Returns 0 or -1 when out of memory. */
static int add_keys(crisk__shap *s, const shap_tree *st, shap_unit *u, const compile_scratch *cs)
{
    const shap_node *nodes = s->nodes + st->first_node;
    u->path = 0;
    for (uint32_t j = nodes[u->root].parent; j != UINT32_MAX; j = nodes[j].parent)
        u->path++;
    u->first_key = (uint32_t)s->num_keys;
    u->num_keys = 0;
    size_t n = (size_t)u->path + u->splits;
    if (n > MAX_TABLE_BITS)
        return 0;
    if (crisk__grow((void **)&s->keys, &s->cap_keys, s->num_keys + n, sizeof *s->keys, 256))
        return -1;
    /* The splits in split order (a preorder puts those above before the unit's), and
     * whether the path goes left at those above. */
    uint32_t split[MAX_TABLE_BITS], left[MAX_TABLE_BITS];
    size_t k = u->path;
    for (uint32_t c = u->root, j = nodes[c].parent; j != UINT32_MAX; c = j, j = nodes[j].parent) {
        split[--k] = cs->split_of[j];
        left[k] = nodes[j].left == c;
    }
    k = u->path;
    for (uint32_t j = u->root; j < u->root + u->size; j++)
        if (nodes[j].src->left != -1) {
            split[k] = cs->split_of[j];
            left[k++] = 0;
        }
    crisk__shap_key *key = NULL;
    for (k = 0; k < n; k++) {
        if (!key || key->word != split[k] / 64) {
            key = &s->keys[s->num_keys++];
            *key = (crisk__shap_key){0, 0, split[k] / 64, (uint32_t)k};
            u->num_keys++;
        }
        key->mask |= UINT64_C(1) << (split[k] % 64);
        key->left |= (uint64_t)left[k] << (split[k] % 64);
    }
    return 0;
}

/* Adds the unit rooted at preorder position r of tree s->trees[i]: its features are the
 * `above` of its root's path (taken from its first leaf), then those its splits add.
 * Returns 0 or -1 when out of memory. */
static int add_unit(crisk__shap *s, size_t i, uint32_t r, const compile_scratch *cs)
{
    shap_tree *st = &s->trees[i];
    const shap_node *nodes = s->nodes + st->first_node;
    shap_unit *u = &s->units[s->num_units++];
    st->num_units++;
    u->root = r;
    u->size = cs->size[r];
    u->above = cs->above[r];
    u->splits = 0;
    u->table = NO_TABLE;
    u->remap = NO_TABLE;
    u->first_slot = s->num_slots;
    if (crisk__grow((void **)&s->slot_feature, &s->cap_slots,
                    s->num_slots + u->above + u->size, sizeof *s->slot_feature, 1024))
        return -1;
    int32_t *slot = s->slot_feature + u->first_slot;
    size_t n = 0;
    for (uint32_t j = r; j < r + u->size; j++) {
        const crisk__node *src = nodes[j].src;
        if (src->left == -1) {
            if (n == 0) /* the first leaf in preorder: copy the path above the root */
                for (; n < u->above; n++)
                    slot[n] = s->elem_feature[s->leaves[nodes[j].bit].elem + n];
            continue;
        }
        u->splits++;
    }
    n = u->above;
    for (uint32_t j = r; j < r + u->size; j++) {
        const crisk__node *src = nodes[j].src;
        if (src->left == -1 || nodes[j].bit < u->above)
            continue;
        size_t k = u->above;
        while (k < n && slot[k] != src->feature)
            k++;
        if (k == n)
            slot[n++] = src->feature;
    }
    u->num_slots = (uint32_t)n;
    s->num_slots += n;
    return add_keys(s, st, u, cs);
}

/* Lists tree `st`'s splits (compiled as `out`) in split order, its preorder of splits,
 * for the direction words: features, thresholds and NaN sides, padded to
 * CRISK__SHAP_DIRS_PAD, and its categorical splits. Stores each split's index in
 * cs->split_of. */
static void add_splits(crisk__shap *s, shap_tree *st, const shap_node *out,
                       compile_scratch *cs)
{
    st->first_split = s->num_splits;
    st->first_word = s->num_words;
    st->first_cat = s->num_cats;
    int32_t *feature = s->dir_feature + st->first_split;
    float *threshold = s->dir_threshold + st->first_split;
    uint64_t *nan_right = s->dir_nan_right + st->first_word;
    uint32_t n = 0;
    for (size_t j = 0; j < st->num_nodes; j++) {
        const shap_node *nd = &out[j];
        if (nd->feature < 0)
            continue;
        cs->split_of[j] = n;
        feature[n] = nd->feature;
        threshold[n] = nd->threshold;
        if (n % 64 == 0)
            nan_right[n / 64] = 0;
        nan_right[n / 64] |= (uint64_t)!nd->default_left << (n % 64);
        if (nd->categorical)
            s->cats[s->num_cats++] = (shap_cat){n, (uint32_t)(nd->src - s->model->nodes)};
        n++;
    }
    st->num_splits = n;
    st->num_cats = s->num_cats - st->first_cat;
    size_t padded = (n + CRISK__SHAP_DIRS_PAD - 1) / CRISK__SHAP_DIRS_PAD * CRISK__SHAP_DIRS_PAD;
    for (size_t k = n; k < padded; k++) {
        feature[k] = 0;
        threshold[k] = 0.0f;
    }
    s->num_splits += padded;
    s->num_words += (n + 63) / 64;
    if ((n + 63) / 64 > s->max_tree_words)
        s->max_tree_words = (n + 63) / 64;
}

/* Compiles tree `t` as s->trees[i]: walks it, computes the node mean values as XGBoost
 * does (in float), and cuts it into units. Returns 0, CRISK_E_UNSUPPORTED or
 * CRISK_E_NOMEM. */
static int compile_tree(crisk__shap *s, size_t t, size_t i, size_t first, size_t *first_feat,
                        compile_scratch *cs, crisk_error *err)
{
    int rc = walk_tree(s, t, i, first, first_feat, cs, err);
    if (rc)
        return rc;
    shap_tree *st = &s->trees[i];
    const shap_node *out = s->nodes + first;
    /* Bottom-up over the reverse preorder: mean values (in XGBoost's order), heights and
     * sizes. */
    for (size_t j = st->num_nodes; j-- > 0;) {
        const crisk__node *n = out[j].src;
        if (n->left == -1) {
            cs->mean[j] = (float)n->value;
            cs->height[j] = 0;
            cs->size[j] = 1;
            continue;
        }
        uint32_t l = out[j].left, r = out[j].right;
        float v = cs->mean[l] * out[l].src->cover;
        v += cs->mean[r] * out[r].src->cover;
        cs->mean[j] = v / n->cover;
        cs->height[j] = 1 + (cs->height[l] > cs->height[r] ? cs->height[l] : cs->height[r]);
        cs->size[j] = 1 + cs->size[l] + cs->size[r];
    }
    st->mean = cs->mean[0];
    /* The split order. */
    add_splits(s, st, out, cs);
    st->all_tabled = 0;
    st->any_tabled = 0;
    st->vector = 0;
    st->first_table = st->table_floats = 0;
    st->first_unit = s->num_units;
    st->num_units = 0;
    /* Units: the root if low enough, else the low-enough children of higher nodes. */
    if (cs->height[0] <= UNIT_HEIGHT)
        rc = add_unit(s, i, 0, cs);
    for (size_t j = 0; rc == 0 && j < st->num_nodes; j++) {
        if (out[j].src->left == -1 || cs->height[j] <= UNIT_HEIGHT)
            continue;
        if (cs->height[out[j].left] <= UNIT_HEIGHT)
            rc = add_unit(s, i, out[j].left, cs);
        if (rc == 0 && cs->height[out[j].right] <= UNIT_HEIGHT)
            rc = add_unit(s, i, out[j].right, cs);
    }
    if (rc)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for SHAP units");
    return 0;
}

/* Returns the slot of unit u that leaf lf's path element k adds to. */
static size_t leaf_slot(const crisk__shap *s, const shap_unit *u, const shap_leaf *lf,
                        size_t k)
{
    if (k < u->above)
        return k;
    const int32_t *slot = s->slot_feature + u->first_slot;
    size_t j = u->above;
    while (slot[j] != s->elem_feature[lf->elem + k])
        j++;
    return j;
}

/* Writes to g[S], for every subset S of the d features of a path with cover fractions z
 * (bit k of S: feature k), the Shapley weight sum of the header comment over S's
 * features, all hot, and no cold one: the sum over s < d of ws[s] times the coefficient
 * of t^s in prod_{j in S} (z_j + t). Called with k = 0 and poly = {1}: `poly` is that
 * product (of degree `deg`) over the features below k that `set` holds. O(2^d d) for
 * the 2^d subsets, where each alone costs O(d^2) (Fast TreeSHAP v2, Yang 2021). */
static void subset_weights(const double *z, size_t d, const double *ws, size_t k,
                           const double *poly, size_t deg, uint64_t set, double *g)
{
    if (k == d) {
        double sum = 0.0;
        for (size_t i = 0; i <= deg && i < d; i++)
            sum += poly[i] * ws[i];
        g[set] = sum;
        return;
    }
    subset_weights(z, d, ws, k + 1, poly, deg, set, g);
    double next[MAX_TABLE_BITS + UNIT_HEIGHT + 2];
    next[deg + 1] = poly[deg];
    for (size_t i = deg; i > 0; i--)
        next[i] = poly[i] * z[k] + poly[i - 1];
    next[0] = poly[0] * z[k];
    subset_weights(z, d, ws, k + 1, next, deg + 1, set | UINT64_C(1) << k, g);
}

/* Writes to c[S], for every subset S of the d features of a path with cover fractions z,
 * the product of the z of the features not in S. O(2^d). */
static void cold_products(const double *z, size_t d, double *c)
{
    uint64_t full = (UINT64_C(1) << d) - 1;
    c[full] = 1.0;
    for (uint64_t set = full; set-- > 0;) {
        int k = __builtin_ctzll(~set);   /* the lowest feature not in the set */
        c[set] = c[set | UINT64_C(1) << k] * z[k];
    }
}

/* As leaf_contributions, in O(d) from the leaf's subset weights g (subset_weights) and
 * cold products c (cold_products): feature k's weight is g of the hot features other
 * than k times c of the hot ones and k (the cover fractions of the cold ones other than
 * k). */
static void leaf_contributions_from(const crisk__shap *s, const shap_leaf *lf, const double *g,
                                    const double *c, uint64_t hot, double *phi)
{
    const float *z = s->elem_zero + lf->elem;
    for (size_t k = 0; k < lf->d; k++) {
        uint64_t bit = UINT64_C(1) << k;
        double o = (double)((hot >> k) & 1);
        phi[k] = (double)lf->value * (o - (double)z[k]) * (g[hot & ~bit] * c[hot | bit]);
    }
}

/* Bounds of the filler's arrays: the nodes of a unit, the features of a leaf's path. */
enum { LOCAL = 1 << (UNIT_HEIGHT + 1), PATH = MAX_TABLE_BITS + UNIT_HEIGHT + 1 };

/* What the filler derives from one unit before filling its table. */
typedef struct unit_fill {
    const shap_node *nodes;          /* the unit's, from its root */
    uint32_t above_bit[MAX_TABLE_BITS]; /* path features of the splits above, root down */
    uint32_t split_of[LOCAL];        /* a local split's bit in the directions */
    uint32_t above_mask[LOCAL];      /* the local splits above a local node */
    uint8_t slot_of[LOCAL][PATH];    /* where a leaf's path features add */
} unit_fill;

/* Per-thread scratch of the filler. */
typedef struct fill_scratch {
    double *weights;         /* a leaf's subset weights and cold products per local node */
} fill_scratch;

/* A leaf's subset weights, then its cold products, in a tabled unit: its path has at
 * most MAX_TABLE_BITS features. */
#define LEAF_WEIGHTS ((size_t)2 << MAX_TABLE_BITS)

/* Derives unit u's fill data (tree: its tree's nodes) into `uf`, and its leaves' subset
 * weights into fs->weights. */
static void unit_prepare(const crisk__shap *s, const shap_unit *u, const shap_node *tree,
                         unit_fill *uf, fill_scratch *fs)
{
    const shap_node *nodes = tree + u->root;
    uf->nodes = nodes;
    size_t k = u->path;
    for (uint32_t j = tree[u->root].parent; j != UINT32_MAX; j = tree[j].parent)
        uf->above_bit[--k] = tree[j].bit;
    uf->above_mask[0] = 0;
    for (uint32_t j = 0, split = 0; j < u->size; j++) {
        if (nodes[j].feature < 0) {
            const shap_leaf *lf = &s->leaves[nodes[j].bit];
            double z[PATH], one = 1.0;
            for (k = 0; k < lf->d; k++) {
                uf->slot_of[j][k] = (uint8_t)leaf_slot(s, u, lf, k);
                z[k] = (double)s->elem_zero[lf->elem + k];
            }
            double *g = fs->weights + j * LEAF_WEIGHTS;
            subset_weights(z, lf->d, s->shapley[lf->d], 0, &one, 0, 0, g);
            cold_products(z, lf->d, g + LEAF_WEIGHTS / 2);
            continue;
        }
        uf->split_of[j] = split;
        uf->above_mask[nodes[j].left - u->root] = uf->above_mask[j] | 1u << split;
        uf->above_mask[nodes[j].right - u->root] = uf->above_mask[j] | 1u << split;
        split++;
    }
}

/* Returns unit u's pattern at its root (a bit per distinct feature above it) when the row
 * takes the path's side at the splits above whose bits `taken` sets. */
static uint64_t root_pattern(const shap_unit *u, const unit_fill *uf, uint64_t taken)
{
    uint64_t pa = u->above ? (UINT64_C(1) << u->above) - 1 : 0;
    for (size_t k = 0; k < u->path; k++)
        if (!((taken >> k) & 1))
            pa &= ~(UINT64_C(1) << uf->above_bit[k]);
    return pa;
}

/* Fills the entries `pa | directions << above` of unit u's table `tab`, for every
 * direction setting, from the root pattern `pa`: each leaf's contributions once per
 * setting of the splits above it. */
static void fill_block(const crisk__shap *s, const shap_unit *u, const unit_fill *uf,
                       const fill_scratch *fs, uint64_t pa, float *tab)
{
    double acc[MAX_TABLE_BITS + LOCAL], memo[LOCAL][LOCAL][PATH];
    uint8_t have[LOCAL][LOCAL] = {{0}};
    uint64_t lp[LOCAL], amask = u->above ? (UINT64_C(1) << u->above) - 1 : 0;
    const shap_node *nodes = uf->nodes;
    for (uint64_t dirs = 0; dirs < (UINT64_C(1) << u->splits); dirs++) {
        memset(acc, 0, u->num_slots * sizeof *acc);
        lp[0] = pa | ~amask;
        for (uint32_t j = 0; j < u->size; j++) {
            const shap_node *nd = &nodes[j];
            if (nd->feature >= 0) {
                uint64_t p = lp[j], cold = p & ~(UINT64_C(1) << nd->bit);
                int right = (dirs >> uf->split_of[j]) & 1;
                lp[nd->left - u->root] = right ? cold : p;
                lp[nd->right - u->root] = right ? p : cold;
                continue;
            }
            const shap_leaf *lf = &s->leaves[nd->bit];
            uint32_t key = (uint32_t)dirs & uf->above_mask[j];
            if (!have[j][key]) {
                const double *g = fs->weights + j * LEAF_WEIGHTS;
                leaf_contributions_from(s, lf, g, g + LEAF_WEIGHTS / 2,
                                        lp[j] & ((UINT64_C(1) << lf->d) - 1), memo[j][key]);
                have[j][key] = 1;
            }
            for (size_t k = 0; k < lf->d; k++)
                acc[uf->slot_of[j][k]] += memo[j][key][k];
        }
        float *e = tab + (pa | dirs << u->above) * u->num_slots;
        for (size_t k = 0; k < u->num_slots; k++)
            e[k] = (float)acc[k];
    }
}

/* The tree a unit belongs to, for the table filler. */
typedef struct fill_ctx {
    crisk__shap *s;
    uint32_t *unit_tree;     /* unit -> tree index */
} fill_ctx;

/* Fills the tables of units [begin, end) (a crisk__slice_fn over units): entry
 * pa | directions << above holds the sum over the unit's leaves of their contributions,
 * the leaves' patterns following from the root's pattern pa and the directions (bit k
 * set: the row goes right at the unit's k-th split); and the remaps of those whose path
 * above tests a feature twice: the root pattern of each setting of the bits `taken` of
 * the keys (bit k set: the row takes the path's side at the k-th split above). A feature
 * is hot when the row takes the path's side at all its splits. Returns 0 or
 * CRISK_E_NOMEM. */
static int fill_tables(void *ctx, size_t begin, size_t end, crisk_error *err)
{
    const fill_ctx *fc = ctx;
    crisk__shap *s = fc->s;
    fill_scratch fs = {malloc(LOCAL * LEAF_WEIGHTS * sizeof *fs.weights)};
    if (!fs.weights)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for SHAP tables");
    for (size_t ui = begin; ui < end; ui++) {
        const shap_unit *u = &s->units[ui];
        if (u->table == NO_TABLE)
            continue;
        unit_fill uf;
        unit_prepare(s, u, s->nodes + s->trees[fc->unit_tree[ui]].first_node, &uf, &fs);
        if (u->remap != NO_TABLE)
            for (uint64_t taken = 0; taken < (UINT64_C(1) << u->path); taken++)
                s->remaps[u->remap + taken] = (uint16_t)root_pattern(u, &uf, taken);
        for (uint64_t pa = 0; pa < (UINT64_C(1) << u->above); pa++)
            fill_block(s, u, &uf, &fs, pa, s->tables + u->table);
    }
    free(fs.weights);
    return 0;
}

/* Returns the index bits of unit u's table (2^bits entries): a bit per distinct feature
 * above its root and per split of its own. */
static size_t table_bits(const shap_unit *u)
{
    return (size_t)u->above + u->splits;
}

/* Returns 1 if unit u may have a table: it adds to some feature and its keys' bits fit
 * (add_keys). */
static int tableable(const shap_unit *u)
{
    return u->num_slots > 0 && (size_t)u->path + u->splits <= MAX_TABLE_BITS;
}

/* Returns the entries of unit u's remap: 2^path when its path above tests a feature
 * twice, else none (the keys' bits then are the root pattern). */
static size_t remap_entries(const shap_unit *u)
{
    return u->path > u->above ? (size_t)1 << u->path : 0;
}

/* Describes unit `u` (with a table, or none when it adds nothing) of tree `st` to the
 * AVX-512 kernel as `vu`; local[f] is global feature f's index among the tree's. */
static void vector_unit(const crisk__shap *s, const shap_unit *u, const int32_t *local,
                        crisk__shap_vunit *vu)
{
    memset(vu, 0, sizeof *vu);
    if (u->table == NO_TABLE)
        return;
    vu->table = s->tables + u->table;
    vu->keys = s->keys + u->first_key;
    vu->num_keys = u->num_keys;
    vu->num_slots = u->num_slots;
    vu->remap = u->remap == NO_TABLE ? NULL : s->remaps + u->remap;
    vu->path = u->path;
    vu->above = u->above;
    for (uint32_t k = 0; k < u->num_slots; k++) {
        int32_t li = local[s->slot_feature[u->first_slot + k]];
        vu->perm[li / 16][li % 16] = (int32_t)k;
        vu->mask[li / 16] |= (uint16_t)(1u << (li % 16));
    }
}

/* Marks the trees whose units' entries the AVX-512 kernel sums, where the CPU has it:
 * every unit that adds anything tabled, at most CRISK__SHAP_VECTOR_FEATURES features,
 * at most 16 slots a unit; and describes their units to it. Without memory for that, the
 * trees are summed by the scalar loop. */
static void add_vector_units(crisk__shap *s)
{
#if CRISK__ENGINE_X86
    if (!crisk__engine_cpu_has(CRISK__ENGINE_PATH_AVX512) || !__builtin_cpu_supports("bmi2"))
        return;
    s->vunits = malloc((s->num_units + 1) * sizeof *s->vunits);
    int32_t *local = malloc((s->model->num_features + 1) * sizeof *local);
    for (size_t t = 0; s->vunits && local && t < s->num_trees; t++) {
        shap_tree *st = &s->trees[t];
        st->vector = st->all_tabled && st->num_feats <= CRISK__SHAP_VECTOR_FEATURES;
        for (size_t ui = st->first_unit; ui < st->first_unit + st->num_units; ui++)
            st->vector &= s->units[ui].num_slots <= 16;
        if (!st->vector)
            continue;
        for (size_t i = 0; i < st->num_feats; i++)
            local[s->tree_feats[st->first_feat + i]] = (int32_t)i;
        for (size_t ui = st->first_unit; ui < st->first_unit + st->num_units; ui++)
            vector_unit(s, &s->units[ui], local, &s->vunits[ui]);
    }
    free(local);
#else
    (void)s;
#endif
}

/* Chooses which units get a table: those of at most some b index bits, b as large as
 * the budget allows while a table (2^b entries) costs less than the call's rows computing
 * without one; then fills the tables and remaps. Returns 0 (tables only save time:
 * without memory for them the call goes on without) or CRISK_E_NOMEM. */
static int build_tables(crisk__shap *s, size_t nrows, crisk_pool *pool, int threads,
                        crisk_error *err)
{
    size_t floats_by_bits[MAX_TABLE_BITS + 1] = {0}, remaps_by_bits[MAX_TABLE_BITS + 1] = {0};
    for (size_t ui = 0; ui < s->num_units; ui++) {
        const shap_unit *u = &s->units[ui];
        if (tableable(u)) {
            floats_by_bits[table_bits(u)] += ((size_t)1 << table_bits(u)) * u->num_slots;
            remaps_by_bits[table_bits(u)] += remap_entries(u);
        }
    }
    size_t most = 0, floats = 0, remaps = 0;
    for (size_t b = 0; b <= MAX_TABLE_BITS && ((size_t)2 << b) <= nrows; b++) {
        if ((floats + floats_by_bits[b]) * sizeof(float) +
            (remaps + remaps_by_bits[b]) * sizeof(uint16_t) > TABLE_BUDGET)
            break;
        floats += floats_by_bits[b];
        remaps += remaps_by_bits[b];
        most = b + 1;
    }
    if (most == 0 || floats == 0)
        return 0;
    s->tables = malloc(floats * sizeof *s->tables);
    s->remaps = malloc((remaps + 1) * sizeof *s->remaps);
    fill_ctx fc = {s, malloc(s->num_units * sizeof *fc.unit_tree)};
    if (!s->tables || !s->remaps || !fc.unit_tree) {
        free(s->tables);
        free(s->remaps);
        s->tables = NULL;
        s->remaps = NULL;
        free(fc.unit_tree);
        return 0;
    }
    size_t remap_at = 0;
    size_t at = 0;
    for (size_t t = 0; t < s->num_trees; t++) {
        shap_tree *st = &s->trees[t];
        st->first_table = at;
        for (size_t ui = st->first_unit; ui < st->first_unit + st->num_units; ui++) {
            shap_unit *u = &s->units[ui];
            fc.unit_tree[ui] = (uint32_t)t;
            size_t bits = table_bits(u);
            if (!tableable(u) || bits >= most)
                continue;
            u->table = at;
            at += ((size_t)1 << bits) * u->num_slots;
            if (remap_entries(u)) {
                u->remap = remap_at;
                remap_at += remap_entries(u);
            }
            shap_node *nodes = s->nodes + st->first_node;
            for (uint32_t j = u->root; j < u->root + u->size; j++)
                nodes[j].unit = (uint32_t)(ui - st->first_unit);
        }
    }
    for (size_t t = 0; t < s->num_trees; t++) {
        shap_tree *st = &s->trees[t];
        st->table_floats = (t + 1 < s->num_trees ? s->trees[t + 1].first_table : at) -
                           st->first_table;
        st->all_tabled = 1;
        for (size_t ui = st->first_unit; ui < st->first_unit + st->num_units; ui++) {
            if (s->units[ui].table == NO_TABLE && s->units[ui].num_slots > 0)
                st->all_tabled = 0;
            if (s->units[ui].table != NO_TABLE)
                st->any_tabled = 1;
        }
    }
    int rc = crisk__run_sliced(pool, threads, s->num_units, MIN_UNITS_PER_THREAD, fill_tables,
                               &fc, err);
    free(fc.unit_tree);
    if (rc == 0)
        add_vector_units(s);
    return rc;
}

/* Returns the widest kernel of the direction words the CPU runs. */
static crisk__shap_dirs_fn *choose_dirs(void)
{
#if CRISK__ENGINE_X86
    if (crisk__engine_cpu_has(CRISK__ENGINE_PATH_AVX512))
        return crisk__shap_dirs_avx512;
    if (crisk__engine_cpu_has(CRISK__ENGINE_PATH_AVX2))
        return crisk__shap_dirs_avx2;
#endif
    return crisk__shap_dirs_scalar;
}

/* Returns BMI2's pext where the CPU runs it fast (AMD's before Zen 3, which have no
 * AVX-512, run it in microcode), else the portable one. */
static uint64_t (*choose_pext(void))(uint64_t, uint64_t)
{
#if CRISK__ENGINE_X86
    if (__builtin_cpu_supports("bmi2") &&
        (__builtin_cpu_is("intel") || __builtin_cpu_supports("avx512f")))
        return crisk__shap_pext_bmi2;
#endif
    return crisk__shap_pext;
}

/* Frees a compile scratch. */
static void scratch_free(compile_scratch *cs)
{
    free(cs->stack);
    free(cs->pos);
    free(cs->seen);
    free(cs->mean);
    free(cs->above);
    free(cs->height);
    free(cs->size);
    free(cs->split_of);
}

int crisk__shap_build(const crisk_model *m, size_t tree_begin, size_t tree_end, size_t nrows,
                      crisk_pool *pool, int threads, crisk__shap **out, crisk_error *err)
{
    *out = NULL;
    crisk__shap *s = calloc(1, sizeof *s);
    if (!s)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for SHAP trees");
    s->model = m;
    s->num_trees = tree_end - tree_begin;
    for (size_t n = 1; n <= MAX_PATH; n++) {
        s->shapley[n][0] = 1.0 / (double)n;
        for (size_t k = 0; k + 1 < n; k++)
            s->shapley[n][k + 1] = s->shapley[n][k] * (double)(k + 1) / (double)(n - 1 - k);
    }
    size_t total_nodes = 0, total_leaves = 0;
    for (size_t t = tree_begin; t < tree_end; t++) {
        const crisk__tree *tree = &m->trees[t];
        total_nodes += tree->num_nodes;
        if (tree->num_nodes > s->max_tree_nodes)
            s->max_tree_nodes = tree->num_nodes;
        for (uint32_t j = 0; j < tree->num_nodes; j++)
            total_leaves += m->nodes[tree->first_node + j].left == -1;
    }
    size_t mx = s->max_tree_nodes + 1;
    compile_scratch cs = {0};
    s->trees = malloc((s->num_trees + 1) * sizeof *s->trees);
    s->nodes = malloc((total_nodes + 1) * sizeof *s->nodes);
    s->leaves = malloc((total_leaves + 1) * sizeof *s->leaves);
    s->units = malloc((total_leaves + 1) * sizeof *s->units);
    s->tree_feats = malloc((total_nodes + 1) * sizeof *s->tree_feats);
    cs.stack = malloc((3 * mx + 3) * sizeof *cs.stack);
    cs.pos = malloc((m->num_features + 1) * sizeof *cs.pos);
    cs.seen = calloc(m->num_features + 1, sizeof *cs.seen);
    cs.mean = malloc(mx * sizeof *cs.mean);
    cs.above = malloc(mx * sizeof *cs.above);
    cs.height = malloc(mx * sizeof *cs.height);
    cs.size = malloc(mx * sizeof *cs.size);
    cs.split_of = malloc(mx * sizeof *cs.split_of);
    size_t padded = total_nodes + s->num_trees * CRISK__SHAP_DIRS_PAD + 1;
    s->dir_feature = malloc(padded * sizeof *s->dir_feature);
    s->dir_threshold = malloc(padded * sizeof *s->dir_threshold);
    s->dir_nan_right = malloc((total_nodes / 64 + s->num_trees + 1) * sizeof *s->dir_nan_right);
    s->cats = malloc((total_nodes + 1) * sizeof *s->cats);
    s->dirs = choose_dirs();
    s->pext = choose_pext();
    int rc = 0;
    if (!s->trees || !s->nodes || !s->leaves || !s->units || !s->tree_feats || !cs.stack ||
        !cs.pos || !cs.seen || !cs.mean || !cs.above || !cs.height || !cs.size || !cs.split_of || !s->dir_feature ||
        !s->dir_threshold || !s->dir_nan_right || !s->cats )
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for SHAP trees (%zu nodes)",
                         total_nodes);
    if (rc == 0)
        for (size_t f = 0; f < m->num_features; f++)
            cs.pos[f] = -1;
    size_t first = 0, first_feat = 0;
    for (size_t i = 0; rc == 0 && i < s->num_trees; i++) {
        rc = compile_tree(s, tree_begin + i, i, first, &first_feat, &cs, err);
        first += s->trees[i].num_nodes;
    }
    scratch_free(&cs);
    if (rc == 0)
        rc = build_tables(s, nrows, pool, threads, err);
    if (rc) {
        crisk__shap_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void crisk__shap_free(crisk__shap *s)
{
    if (!s)
        return;
    free(s->trees);
    free(s->nodes);
    free(s->leaves);
    free(s->units);
    free(s->dir_feature);
    free(s->dir_threshold);
    free(s->dir_nan_right);
    free(s->cats);
    free(s->keys);
    free(s->tree_feats);
    free(s->elem_feature);
    free(s->elem_zero);
    free(s->slot_feature);
    free(s->tables);
    free(s->vunits);
    free(s->remaps);
    free(s);
}

/* Per-thread scratch of the row loops. */
typedef struct row_scratch {
    uint64_t *pat;           /* a pattern per node of a tree */
    uint64_t *right;         /* a tree's direction words */
    float *fixed;            /* with LightGBM fix-ups: a block of fixed-up rows */
    size_t block;            /* rows per block */
    float *tphi;             /* F zeros, left so between trees */
} row_scratch;

/* Returns the index into unit u's table of the row whose direction words are `right`:
 * its keys' bits, the bits above its root remapped to the root pattern where it has a
 * remap. */
static inline uint64_t unit_index(const crisk__shap *s, const shap_unit *u, const uint64_t *right)
{
    const crisk__shap_key *key = s->keys + u->first_key;
    uint64_t bits = 0;
    for (size_t k = 0; k < u->num_keys; k++)
        bits |= s->pext(right[key[k].word] ^ key[k].left, key[k].mask) << key[k].shift;
    if (u->remap == NO_TABLE)
        return bits;
    return s->remaps[u->remap + (bits & ((UINT64_C(1) << u->path) - 1))] |
           (bits >> u->path) << u->above;
}

/* Adds to the per-feature sums `tphi` the table entry of each unit of tree `st` that has a
 * table, at the index its keys take from the row's direction words `right`. */
static void add_unit_entries(const crisk__shap *s, const shap_tree *st, const uint64_t *right,
                             float *tphi)
{
    const shap_unit *units = s->units + st->first_unit;
    for (size_t ui = 0; ui < st->num_units; ui++) {
        const shap_unit *u = &units[ui];
        if (u->table == NO_TABLE)
            continue;
        const float *tab = s->tables + u->table + unit_index(s, u, right) * u->num_slots;
        const int32_t *slot = s->slot_feature + u->first_slot;
        for (size_t k = 0; k < u->num_slots; k++)
            tphi[slot[k]] += tab[k];
    }
}

/* Adds tree `st`'s mean value, times its weight, to the bias column of `contrib`. */
static void add_tree_bias(const crisk__shap *s, const shap_tree *st, float *contrib)
{
    contrib[s->model->num_features] += st->mean * st->weight;
}

/* Adds tree `st`'s per-feature sums `tphi` (then zeroed), times its weight, and its mean
 * value to `contrib`: XGBoost sums each tree's contributions in float, and adds them
 * times the tree's weight, in float. */
static void flush_tree(const crisk__shap *s, const shap_tree *st, float *tphi, float *contrib)
{
    const int32_t *tf = s->tree_feats + st->first_feat;
    for (size_t i = 0; i < st->num_feats; i++) {
        contrib[tf[i]] += tphi[tf[i]] * st->weight;
        tphi[tf[i]] = 0.0f;
    }
    add_tree_bias(s, st, contrib);
}

/* Writes to `right` the direction words of tree `st` for `row` (bit i set: the row goes
 * right at split i): numerical splits by the kernel, categorical ones from their nodes. */
static void tree_dirs(const crisk__shap *s, const shap_tree *st, const float *row,
                      uint64_t *right)
{
    const crisk_model *m = s->model;
    crisk__shap_dirs_in in = {s->dir_feature + st->first_split,
                              s->dir_threshold + st->first_split,
                              s->dir_nan_right + st->first_word,
                              (st->num_splits + CRISK__SHAP_DIRS_PAD - 1) /
                                  CRISK__SHAP_DIRS_PAD * CRISK__SHAP_DIRS_PAD,
                              m->num_features};
    s->dirs(&in, row, right);
    const shap_cat *cats = s->cats + st->first_cat;
    for (size_t i = 0; i < st->num_cats; i++) {
        const crisk__node *n = &m->nodes[cats[i].node];
        uint64_t bit = UINT64_C(1) << (cats[i].split % 64);
        if (crisk__split_goes_left(m, n, row[n->feature]))
            right[cats[i].split / 64] &= ~bit;
        else
            right[cats[i].split / 64] |= bit;
    }
}

/* Adds tree `st`'s contributions for `row`, times its weight, to `contrib` (the C columns
 * of the tree's group, the bias last), and with `inter` non-NULL its interactions to
 * `inter` (the group's C x C block; the call then has no tables): leaf by leaf, but
 * the units that have a table by table. */
static void tree_row(const crisk__shap *s, const shap_tree *st, const float *row,
                     row_scratch *rs, float *contrib, float *inter)
{
    const crisk_model *m = s->model;
    const shap_node *nodes = s->nodes + st->first_node;
    size_t F = m->num_features;
    uint64_t *pat = rs->pat;
    float *tphi = rs->tphi;
    double phi[MAX_PATH];
    pat[0] = ~UINT64_C(0);
    for (size_t j = 0; j < st->num_nodes; j++) {
        const shap_node *nd = &nodes[j];
        if (nd->unit != NO_UNIT)
            continue;
        if (nd->feature >= 0) {
            float x = row[nd->feature];
            int left = nd->categorical
                           ? crisk__split_goes_left(m, nd->src, x)
                           : crisk__numeric_goes_left(x, nd->threshold, nd->default_left);
            uint64_t p = pat[j], cold = p & ~(UINT64_C(1) << nd->bit);
            pat[nd->left] = left ? p : cold;
            pat[nd->right] = left ? cold : p;
            continue;
        }
        const shap_leaf *lf = &s->leaves[nd->bit];
        size_t d = lf->d;
        if (d == 0)
            continue;
        uint64_t p = d == MAX_PATH ? pat[j] : pat[j] & ((UINT64_C(1) << d) - 1);
        const int32_t *ef = s->elem_feature + lf->elem;
        leaf_contributions(s, lf, p, phi);
        for (size_t k = 0; k < d; k++)
            tphi[ef[k]] += (float)phi[k];
        if (inter && d >= 2)
            leaf_interactions(s, lf, p, st->weight, F + 1, inter);
    }
    if (st->any_tabled) {
        tree_dirs(s, st, row, rs->right);
        add_unit_entries(s, st, rs->right, tphi);
    }
    flush_tree(s, st, tphi, contrib);
}

/* Adds tree `st`'s contributions for a row whose units all have tables, as tree_row:
 * the direction words give every split's direction, then each unit is one lookup (its
 * entries summed by the AVX-512 kernel where the tree allows, with the same result). */
static void tree_row_tabled(const crisk__shap *s, const shap_tree *st, const float *row,
                            row_scratch *rs, float *contrib)
{
    tree_dirs(s, st, row, rs->right);
#if CRISK__ENGINE_X86
    if (st->vector) {
        crisk__shap_sum_avx512(s->vunits + st->first_unit, st->num_units, rs->right,
                               s->tree_feats + st->first_feat, st->num_feats, st->weight,
                               contrib);
        add_tree_bias(s, st, contrib);
        return;
    }
#endif
    add_unit_entries(s, st, rs->right, rs->tphi);
    flush_tree(s, st, rs->tphi, contrib);
}

/* Adds each group's base margin to the bias column of one row's contributions. */
static void add_base(const crisk_model *m, float *contrib)
{
    size_t C = m->num_features + 1;
    for (size_t g = 0; g < m->num_outputs; g++)
        contrib[g * C + C - 1] += (float)m->base_margin[g];
}

/* Prefetches the r-th of every n cache lines of tree st's tables: over a block of n rows
 * the tables of the tree after the current one come into cache, which their first
 * lookups would otherwise wait for. */
static inline void prefetch_tables(const crisk__shap *s, const shap_tree *st, size_t r, size_t n)
{
    const char *t = (const char *)(s->tables + st->first_table);
    size_t bytes = st->table_floats * sizeof *s->tables;
    for (size_t at = r * 64; at < bytes; at += n * 64)
        __builtin_prefetch(t + at);
}

/* Writes the contributions of rows [begin, end), a block of rows at a time, tree-major
 * within a block. */
static void contributions(const crisk__shap *s, const float *rows, size_t begin, size_t end,
                          row_scratch *rs, float *out)
{
    const crisk_model *m = s->model;
    size_t F = m->num_features, C = F + 1, G = m->num_outputs;
    for (size_t r0 = begin; r0 < end; r0 += rs->block) {
        size_t n = end - r0 < rs->block ? end - r0 : rs->block;
        float *block = out + r0 * G * C;
        const float *in = crisk__fix_rows(m, rows + r0 * F, n, rs->fixed);
        memset(block, 0, n * G * C * sizeof *block);
        for (size_t t = 0; t < s->num_trees; t++) {
            const shap_tree *st = &s->trees[t];
            for (size_t r = 0; r < n; r++) {
                if (t + 1 < s->num_trees)
                    prefetch_tables(s, &s->trees[t + 1], r, n);
                const float *row = in + r * F;
                float *c = block + (r * G + st->group) * C;
                if (st->all_tabled)
                    tree_row_tabled(s, st, row, rs, c);
                else
                    tree_row(s, st, row, rs, c, NULL);
            }
        }
        for (size_t r = 0; r < n; r++)
            add_base(m, block + r * G * C);
    }
}

/* Writes the interactions of rows [begin, end), one row at a time; `contrib` is scratch
 * for one row's contributions. */
static void interactions(const crisk__shap *s, const float *rows, size_t begin, size_t end,
                         row_scratch *rs, float *contrib, float *out)
{
    const crisk_model *m = s->model;
    size_t F = m->num_features, C = F + 1, G = m->num_outputs;
    for (size_t r = begin; r < end; r++) {
        float *block = out + r * G * C * C;
        memset(block, 0, G * C * C * sizeof *block);
        memset(contrib, 0, G * C * sizeof *contrib);
        const float *row = crisk__fix_rows(m, rows + r * F, 1, rs->fixed);
        for (size_t t = 0; t < s->num_trees; t++) {
            const shap_tree *st = &s->trees[t];
            tree_row(s, st, row, rs, contrib + st->group * C, block + st->group * C * C);
        }
        add_base(m, contrib);
        /* The diagonal, in XGBoost's order: the contribution less the row's interactions. */
        for (size_t g = 0; g < G; g++)
            for (size_t i = 0; i < C; i++) {
                float *line = block + (g * C + i) * C;
                float v = 0.0f;
                for (size_t k = 0; k < C; k++)
                    v = k == i ? v + contrib[g * C + i] : v - line[k];
                line[i] = v;
            }
    }
}

int crisk__shap_rows(const crisk__shap *s, const float *rows, size_t begin, size_t end,
                     int inter, float *out, crisk_error *err)
{
    const crisk_model *m = s->model;
    size_t F = m->num_features, C = F + 1;
    size_t block = F > 0 && BLOCK_ROWS > BLOCK_FLOATS / F ? BLOCK_FLOATS / F : BLOCK_ROWS;
    block = block ? block : 1;
    row_scratch rs = {
        .block = block,
        .fixed = m->fixup ? malloc(block * F * sizeof *rs.fixed) : NULL,
        .pat = malloc((s->max_tree_nodes + 1) * sizeof *rs.pat),
        .right = malloc((s->max_tree_words + 1) * sizeof *rs.right),
        .tphi = calloc(C, sizeof *rs.tphi),
    };
    float *contrib = inter ? malloc(m->num_outputs * C * sizeof *contrib) : NULL;
    int rc = 0;
    if (!rs.pat || !rs.right || !rs.tphi || (inter && !contrib) ||
        (m->fixup && !rs.fixed))
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for SHAP scratch");
    else if (inter)
        interactions(s, rows, begin, end, &rs, contrib, out);
    else
        contributions(s, rows, begin, end, &rs, out);
    free(rs.pat);
    free(rs.right);
    free(rs.fixed);
    free(rs.tphi);
    free(contrib);
    return rc;
}
