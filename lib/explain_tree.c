/*
 * explain_tree.c — exact TreeSHAP (Lundberg et al., arXiv 1706.06060, as XGBoost's
 * pred_contribs computes it), by leaf paths.
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
 * node's cold child), and the leaf's contributions are read from a table of all 2^d
 * patterns when the call is large enough to pay for one, or computed in O(d^2) otherwise.
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
#include "explain.h"

#include "batch.h"
#include "error.h"
#include "split.h"

#include <stdlib.h>
#include <string.h>

/* Most distinct features on one path (a pattern is a 64-bit word). */
#define MAX_PATH 64
/* Largest path whose leaf gets a table (2^d patterns x d floats). */
#define MAX_TABLE_PATH 12
/* Memory all tables of one call may take. */
#define TABLE_BUDGET ((size_t)256 << 20)
/* Rows per block: each tree's compiled nodes and tables stay in cache over the block. */
#define BLOCK_ROWS 32
/* Leaves per thread below which building tables on another thread costs more than it
 * saves. */
#define MIN_LEAVES_PER_THREAD 256
/* "No table" for a leaf. */
#define NO_TABLE SIZE_MAX

/* A node in a tree's preorder. */
typedef struct shap_node {
    const crisk_node *src;   /* the canonical node */
    uint32_t left, right;    /* split: children's positions within the tree's preorder */
    uint32_t bit;            /* split: index of its feature among its path's features;
                                leaf: the leaf's index in shap->leaves */
} shap_node;

/* A leaf: its value and its path's distinct features. */
typedef struct shap_leaf {
    float value;
    uint32_t d;              /* distinct features on the path */
    size_t elem;             /* first of them in elem_feature / elem_zero */
    size_t table;            /* first float of its table, or NO_TABLE */
} shap_leaf;

/* A compiled tree. */
typedef struct shap_tree {
    size_t first_node, num_nodes;   /* in shap->nodes */
    size_t first_feat, num_feats;   /* its distinct split features, in shap->tree_feats */
    uint32_t group;
    float weight;                   /* DART weight (1 for gbtree) */
    float mean;                     /* the root's mean value, as XGBoost computes it */
} shap_tree;

struct crisk_shap {
    const crisk_model *model;
    size_t num_trees;
    shap_tree *trees;
    shap_node *nodes;
    shap_leaf *leaves;
    size_t num_leaves;
    int32_t *tree_feats;
    int32_t *elem_feature;
    float *elem_zero;
    size_t num_elems, cap_elems;
    float *tables;
    size_t max_tree_nodes;
};

/* Writes to w[k], for each of the n features of a path (cover fractions z, bit k of `hot`
 * set when o_k = 1), the Shapley weight sum of the header comment over the other n - 1
 * features, with `players` players in the weights s! (players - 1 - s)! / players!. */
static void path_weights(size_t n, const double *z, uint64_t hot, size_t players, double *w)
{
    double q[MAX_PATH + 1], r[MAX_PATH + 1], ws[MAX_PATH + 1];
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
    ws[0] = 1.0 / (double)players;
    for (size_t s = 0; s + 1 < players; s++)
        ws[s + 1] = ws[s] * (double)(s + 1) / (double)(players - 1 - s);
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
static void leaf_contributions(const crisk_shap *s, const shap_leaf *lf, uint64_t hot,
                               double *phi)
{
    double z[MAX_PATH], w[MAX_PATH];
    for (size_t k = 0; k < lf->d; k++)
        z[k] = s->elem_zero[lf->elem + k];
    path_weights(lf->d, z, hot, lf->d, w);
    for (size_t k = 0; k < lf->d; k++)
        phi[k] = (double)lf->value * ((double)((hot >> k) & 1) - z[k]) * w[k];
}

/* Adds leaf `lf`'s interactions for pattern `hot`, times `weight`, to `inter` (a C x C
 * block of one row and group). */
static void leaf_interactions(const crisk_shap *s, const shap_leaf *lf, uint64_t hot,
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
        path_weights(d - 1, zs, sub, d - 1, w);
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

/* Appends `d` path features (and their z) to s's leaf elements, growing the arrays as
 * needed; returns the index of the first, or SIZE_MAX when out of memory. */
static size_t push_elems(crisk_shap *s, size_t d, const int32_t *feat, const float *zero)
{
    if (s->num_elems + d > s->cap_elems) {
        size_t cap = s->cap_elems ? s->cap_elems : 1024;
        while (cap < s->num_elems + d)
            cap *= 2;
        int32_t *f = realloc(s->elem_feature, cap * sizeof *f);
        if (!f)
            return SIZE_MAX;
        s->elem_feature = f;
        float *z = realloc(s->elem_zero, cap * sizeof *z);
        if (!z)
            return SIZE_MAX;
        s->elem_zero = z;
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
    int32_t path_feat[MAX_PATH];
    float path_zero[MAX_PATH];
} compile_scratch;

/* Compiles tree `t` (the model's index) as s->trees[i], its nodes from s->nodes[first].
 * Returns 0, CRISK_E_UNSUPPORTED or CRISK_E_NOMEM. */
static int compile_tree(crisk_shap *s, size_t t, size_t i, size_t first, size_t *first_feat,
                        compile_scratch *cs, crisk_error *err)
{
    const crisk_model *m = s->model;
    const crisk_tree *tree = &m->trees[t];
    const crisk_node *nodes = m->nodes + tree->first_node;
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
        const crisk_node *n = &nodes[f.node];
        out[at].src = n;
        if (n->left == -1) {
            size_t elem = push_elems(s, depth, cs->path_feat, cs->path_zero);
            if (elem == SIZE_MAX)
                return crisk_fail(err, CRISK_E_NOMEM, "out of memory for SHAP paths");
            shap_leaf *lf = &s->leaves[s->num_leaves];
            lf->value = (float)n->value;
            lf->d = (uint32_t)depth;
            lf->elem = elem;
            lf->table = NO_TABLE;
            out[at].bit = (uint32_t)s->num_leaves++;
            continue;
        }
        int32_t feat = n->feature;
        if (cs->seen[feat] != i + 1) {
            cs->seen[feat] = (uint32_t)(i + 1);
            s->tree_feats[(*first_feat)++] = feat;
            st->num_feats++;
        }
        if (cs->pos[feat] < 0) {
            if (depth == MAX_PATH)
                return crisk_fail(err, CRISK_E_UNSUPPORTED,
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
    /* Mean values bottom-up (reverse preorder), in float and in XGBoost's order. */
    for (size_t j = st->num_nodes; j-- > 0;) {
        const crisk_node *n = out[j].src;
        if (n->left == -1) {
            cs->mean[j] = (float)n->value;
        } else {
            float r = cs->mean[out[j].left] * out[out[j].left].src->cover;
            r += cs->mean[out[j].right] * out[out[j].right].src->cover;
            cs->mean[j] = r / n->cover;
        }
    }
    st->mean = cs->mean[0];
    return 0;
}

/* Fills the tables of leaves [begin, end) (a crisk_slice_fn over leaves). */
static int fill_tables(void *ctx, size_t begin, size_t end, crisk_error *err)
{
    (void)err;
    crisk_shap *s = ctx;
    double phi[MAX_PATH];
    for (size_t l = begin; l < end; l++) {
        const shap_leaf *lf = &s->leaves[l];
        if (lf->table == NO_TABLE)
            continue;
        float *tab = s->tables + lf->table;
        for (uint64_t p = 0; p < (UINT64_C(1) << lf->d); p++) {
            leaf_contributions(s, lf, p, phi);
            for (size_t k = 0; k < lf->d; k++)
                tab[p * lf->d + k] = (float)phi[k];
        }
    }
    return 0;
}

/* Chooses which leaves get a table: those with paths of at most some d features, d as
 * large as the budget allows while a table (2^d patterns) costs less than the call's
 * rows computing without one; then lays the tables out and fills them. */
static int build_tables(crisk_shap *s, size_t nrows, int threads, crisk_error *err)
{
    size_t bytes_by_d[MAX_TABLE_PATH + 1] = {0};
    for (size_t l = 0; l < s->num_leaves; l++) {
        size_t d = s->leaves[l].d;
        if (d >= 1 && d <= MAX_TABLE_PATH)
            bytes_by_d[d] += ((size_t)1 << d) * d * sizeof(float);
    }
    size_t dmax = 0, total = 0;
    for (size_t d = 1; d <= MAX_TABLE_PATH && ((size_t)1 << d) <= nrows; d++) {
        if (total + bytes_by_d[d] > TABLE_BUDGET)
            break;
        total += bytes_by_d[d];
        dmax = d;
    }
    if (dmax == 0)
        return 0;
    s->tables = malloc(total);
    if (!s->tables)
        return 0; /* tables only save time: go on without them */
    size_t at = 0;
    for (size_t l = 0; l < s->num_leaves; l++) {
        shap_leaf *lf = &s->leaves[l];
        if (lf->d >= 1 && lf->d <= dmax) {
            lf->table = at;
            at += ((size_t)1 << lf->d) * lf->d;
        }
    }
    return crisk_run_sliced(threads, s->num_leaves, MIN_LEAVES_PER_THREAD, fill_tables, s,
                            err);
}

/* Frees a compile scratch. */
static void scratch_free(compile_scratch *cs)
{
    free(cs->stack);
    free(cs->pos);
    free(cs->seen);
    free(cs->mean);
}

int crisk_shap_build(const crisk_model *m, size_t tree_begin, size_t tree_end, size_t nrows,
                     int threads, crisk_shap **out, crisk_error *err)
{
    *out = NULL;
    crisk_shap *s = calloc(1, sizeof *s);
    if (!s)
        return crisk_fail(err, CRISK_E_NOMEM, "out of memory for SHAP trees");
    s->model = m;
    s->num_trees = tree_end - tree_begin;
    size_t total_nodes = 0, total_leaves = 0;
    for (size_t t = tree_begin; t < tree_end; t++) {
        const crisk_tree *tree = &m->trees[t];
        total_nodes += tree->num_nodes;
        if (tree->num_nodes > s->max_tree_nodes)
            s->max_tree_nodes = tree->num_nodes;
        for (uint32_t j = 0; j < tree->num_nodes; j++)
            total_leaves += m->nodes[tree->first_node + j].left == -1;
    }
    compile_scratch cs = {0};
    s->trees = malloc((s->num_trees + 1) * sizeof *s->trees);
    s->nodes = malloc((total_nodes + 1) * sizeof *s->nodes);
    s->leaves = malloc((total_leaves + 1) * sizeof *s->leaves);
    s->tree_feats = malloc((total_nodes + 1) * sizeof *s->tree_feats);
    cs.stack = malloc((3 * s->max_tree_nodes + 3) * sizeof *cs.stack);
    cs.pos = malloc((m->num_features + 1) * sizeof *cs.pos);
    cs.seen = calloc(m->num_features + 1, sizeof *cs.seen);
    cs.mean = malloc((s->max_tree_nodes + 1) * sizeof *cs.mean);
    int rc = 0;
    if (!s->trees || !s->nodes || !s->leaves || !s->tree_feats || !cs.stack || !cs.pos ||
        !cs.seen || !cs.mean)
        rc = crisk_fail(err, CRISK_E_NOMEM, "out of memory for SHAP trees (%zu nodes)",
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
        rc = build_tables(s, nrows, threads, err);
    if (rc) {
        crisk_shap_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void crisk_shap_free(crisk_shap *s)
{
    if (!s)
        return;
    free(s->trees);
    free(s->nodes);
    free(s->leaves);
    free(s->tree_feats);
    free(s->elem_feature);
    free(s->elem_zero);
    free(s->tables);
    free(s);
}

/* Adds tree `st`'s contributions for `row`, times its weight, to `contrib` (the C columns
 * of the tree's group, the bias last), and with `inter` non-NULL its interactions to
 * `inter` (the group's C x C block). `pat` holds a pattern per node; `tphi` is F zeros
 * and is left so. */
static void tree_row(const crisk_shap *s, const shap_tree *st, const float *row,
                     uint64_t *pat, double *tphi, float *contrib, float *inter)
{
    const crisk_model *m = s->model;
    const shap_node *nodes = s->nodes + st->first_node;
    size_t F = m->num_features;
    double phi[MAX_PATH];
    pat[0] = ~UINT64_C(0);
    for (size_t j = 0; j < st->num_nodes; j++) {
        const shap_node *nd = &nodes[j];
        const crisk_node *n = nd->src;
        if (n->left != -1) {
            uint64_t p = pat[j], cold = p & ~(UINT64_C(1) << nd->bit);
            int left = crisk_split_goes_left(m, n, row[n->feature]);
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
        if (lf->table != NO_TABLE) {
            const float *tab = s->tables + lf->table + p * d;
            for (size_t k = 0; k < d; k++)
                tphi[ef[k]] += tab[k];
        } else {
            leaf_contributions(s, lf, p, phi);
            for (size_t k = 0; k < d; k++)
                tphi[ef[k]] += phi[k];
        }
        if (inter && d >= 2)
            leaf_interactions(s, lf, p, st->weight, F + 1, inter);
    }
    /* XGBoost: each tree's float contributions times the tree's weight, added in float. */
    const int32_t *tf = s->tree_feats + st->first_feat;
    for (size_t i = 0; i < st->num_feats; i++) {
        contrib[tf[i]] += (float)tphi[tf[i]] * st->weight;
        tphi[tf[i]] = 0.0;
    }
    contrib[F] += st->mean * st->weight;
}

/* Adds each group's base margin to the bias column of one row's contributions. */
static void add_base(const crisk_model *m, float *contrib)
{
    size_t C = m->num_features + 1;
    for (size_t g = 0; g < m->num_outputs; g++)
        contrib[g * C + C - 1] += (float)m->base_margin[g];
}

/* Writes the contributions of rows [begin, end), a block of rows at a time, tree-major
 * within a block. */
static void contributions(const crisk_shap *s, const float *rows, size_t begin, size_t end,
                          uint64_t *pat, double *tphi, float *out)
{
    const crisk_model *m = s->model;
    size_t F = m->num_features, C = F + 1, G = m->num_outputs;
    for (size_t r0 = begin; r0 < end; r0 += BLOCK_ROWS) {
        size_t n = end - r0 < BLOCK_ROWS ? end - r0 : BLOCK_ROWS;
        float *block = out + r0 * G * C;
        memset(block, 0, n * G * C * sizeof *block);
        for (size_t t = 0; t < s->num_trees; t++) {
            const shap_tree *st = &s->trees[t];
            for (size_t r = 0; r < n; r++)
                tree_row(s, st, rows + (r0 + r) * F, pat, tphi,
                         block + (r * G + st->group) * C, NULL);
        }
        for (size_t r = 0; r < n; r++)
            add_base(m, block + r * G * C);
    }
}

/* Writes the interactions of rows [begin, end), one row at a time; `contrib` is scratch
 * for one row's contributions. */
static void interactions(const crisk_shap *s, const float *rows, size_t begin, size_t end,
                         uint64_t *pat, double *tphi, float *contrib, float *out)
{
    const crisk_model *m = s->model;
    size_t F = m->num_features, C = F + 1, G = m->num_outputs;
    for (size_t r = begin; r < end; r++) {
        float *block = out + r * G * C * C;
        memset(block, 0, G * C * C * sizeof *block);
        memset(contrib, 0, G * C * sizeof *contrib);
        for (size_t t = 0; t < s->num_trees; t++) {
            const shap_tree *st = &s->trees[t];
            tree_row(s, st, rows + r * F, pat, tphi, contrib + st->group * C,
                     block + st->group * C * C);
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

int crisk_shap_rows(const crisk_shap *s, const float *rows, size_t begin, size_t end,
                    int inter, float *out, crisk_error *err)
{
    const crisk_model *m = s->model;
    size_t C = m->num_features + 1;
    uint64_t *pat = malloc((s->max_tree_nodes + 1) * sizeof *pat);
    double *tphi = calloc(C, sizeof *tphi);
    float *contrib = inter ? malloc(m->num_outputs * C * sizeof *contrib) : NULL;
    int rc = 0;
    if (!pat || !tphi || (inter && !contrib))
        rc = crisk_fail(err, CRISK_E_NOMEM, "out of memory for SHAP scratch");
    else if (inter)
        interactions(s, rows, begin, end, pat, tphi, contrib, out);
    else
        contributions(s, rows, begin, end, pat, tphi, out);
    free(pat);
    free(tphi);
    free(contrib);
    return rc;
}
