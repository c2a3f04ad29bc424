/*
 * import/lightgbm.c — LightGBM's text model (`model.txt`, Booster.save_model or
 * model_to_string) into the canonical form of model.h.
 *
 * The file is a header of `key=value` lines, then one block of `key=value` lines per tree
 * (`Tree=i`, ended by an empty line), then "end of trees" and parts crisk does not need.
 * A small line reader walks it once, without recursion; every count read from the file is
 * checked against the tokens actually present and against the load limits before any
 * allocation. Semantics follow microsoft/LightGBM (include/LightGBM/tree.h, the
 * objectives' ConvertOutput, c_api.cpp's dense-row reader); the notes beside each rule
 * say which.
 */
#include "common/error.h"
#include "common/grow.h"
#include "import/import.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LightGBM's kZeroThreshold (meta.h): 1e-35f held in a double. */
#define ZERO_THRESHOLD 1e-35f
/* A number longer than this is not one LightGBM writes (17 significant digits). */
#define TOKEN_MAX 64

/* decision_type bits (tree.h): categorical, default left, missing type in bits 2-3. */
#define DT_CATEGORICAL 1
#define DT_DEFAULT_LEFT 2
enum { MISSING_NONE = 0, MISSING_ZERO = 1, MISSING_NAN = 2 };

/* A value of a `key=value` line and the line it sits on; s == NULL when absent. */
typedef struct span {
    const char *s;
    size_t len;
    size_t line;
} span;

/* The keys read from one group of lines: names[i] fills vals[i]. */
typedef struct keyset {
    const char *const *names;
    span *vals;
    size_t count;
} keyset;

/* Reads the text line by line; `line` is the number of the last line returned. */
typedef struct reader {
    const char *p, *end;
    size_t line;
} reader;

/* Where the trees of a model are being put together, and the per-feature bookkeeping
 * of missing types (LightGBM keeps them per feature, crisk as fix-ups). */
typedef struct builder {
    crisk_model *m;
    const crisk_load_limits *limits;
    size_t cap_trees, cap_nodes, cap_linear, cap_words, cap_features, cap_coeffs;
    uint8_t *missing;        /* per feature: 0 unseen, else 1 + numerical missing type */
    size_t *missing_tree;    /* per feature: the tree where `missing` was first seen */
    size_t *cat_tree;        /* per feature: 1 + a tree splitting it categorically, or 0 */
    size_t *inf_tree;        /* per feature: 1 + a tree with a threshold +inf, or 0 */
    size_t *huge_tree;       /* per feature: 1 + a tree with a finite threshold >= FLT_MAX,
                                or 0 */
    int64_t *ints;           /* scratch for integer arrays, cap_ints long */
    double *reals;           /* scratch for real arrays, cap_reals long */
    int64_t *bounds;         /* the current tree's cat_boundaries, cap_bounds long */
    uint8_t *mtype;          /* the current tree's missing types, cap_mtype long */
    size_t cap_ints, cap_reals, cap_bounds, cap_mtype;
} builder;

/* Returns 1 and the next line (without its "\n" or "\r\n") in `out`, or 0 at the end. */
static int next_line(reader *r, span *out)
{
    if (r->p >= r->end)
        return 0;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    const char *stop = nl ? nl : r->end;
    out->s = r->p;
    out->len = (size_t)(stop - r->p);
    if (out->len > 0 && out->s[out->len - 1] == '\r')
        out->len--;
    out->line = ++r->line;
    r->p = nl ? nl + 1 : r->end;
    return 1;
}

/* Returns 1 if line `l` starts with the NUL-terminated `prefix`. */
static int starts_with(span l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l.len >= n && memcmp(l.s, prefix, n) == 0;
}

/* Returns 1 if `l` is exactly the NUL-terminated `word`. */
static int span_is(span l, const char *word)
{
    return l.len == strlen(word) && memcmp(l.s, word, l.len) == 0;
}

/* Files the `key=value` line `l` (a bare `key` has an empty value) under its key in `ks`,
 * ignoring keys crisk does not read. Fails on a key given twice; `where` names the group
 * ("the header", "Tree=3") in the message. */
static int file_key(const keyset *ks, span l, const char *where, crisk_error *err)
{
    const char *eq = memchr(l.s, '=', l.len);
    size_t klen = eq ? (size_t)(eq - l.s) : l.len;
    for (size_t i = 0; i < ks->count; i++) {
        if (strlen(ks->names[i]) != klen || memcmp(ks->names[i], l.s, klen) != 0)
            continue;
        if (ks->vals[i].s)
            return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: key %s given twice (first "
                               "on line %zu)", l.line, where, ks->names[i], ks->vals[i].line);
        ks->vals[i].s = eq ? eq + 1 : l.s + l.len;
        ks->vals[i].len = eq ? l.len - klen - 1 : 0;
        ks->vals[i].line = l.line;
        return 0;
    }
    return 0;
}

/* Copies the next space-separated token of `v` from `*pos` into `buf` (NUL-terminated, so
 * that strtod never reads past the model's bytes). Returns 1, 0 when no token is left, or
 * -1 when the token is longer than TOKEN_MAX - 1. */
static int next_token(span v, size_t *pos, char buf[TOKEN_MAX])
{
    size_t i = *pos;
    while (i < v.len && (v.s[i] == ' ' || v.s[i] == '\t'))
        i++;
    size_t start = i;
    while (i < v.len && v.s[i] != ' ' && v.s[i] != '\t')
        i++;
    *pos = i;
    if (i == start)
        return 0;
    if (i - start >= TOKEN_MAX)
        return -1;
    memcpy(buf, v.s + start, i - start);
    buf[i - start] = '\0';
    return 1;
}

/* Returns the number of space-separated tokens in `v`. */
static size_t count_tokens(span v)
{
    size_t n = 0;
    for (size_t i = 0; i < v.len; i++)
        if (v.s[i] != ' ' && v.s[i] != '\t' && (i == 0 || v.s[i - 1] == ' ' || v.s[i - 1] == '\t'))
            n++;
    return n;
}

/* Parses all of `tok` as a decimal integer into `*out`. Returns 1 on success. */
static int parse_int(const char *tok, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(tok, &end, 10);
    return end != tok && *end == '\0' && errno == 0;
}

/* Parses all of `tok` as a double (LightGBM writes 17 significant digits; strtod gives
 * the nearest double, as LightGBM's own loader does). Returns 1 on success. */
static int parse_real(const char *tok, double *out)
{
    char *end;
    *out = strtod(tok, &end);
    return end != tok && *end == '\0';
}

/* Grows `*arr` (elements of `elem` bytes, capacity `*cap`) to hold at least `need`.
 * Returns 0 or CRISK_E_NOMEM. */
static int reserve(void **arr, size_t *cap, size_t need, size_t elem, crisk_error *err)
{
    if (crisk__grow(arr, cap, need, elem, 16))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu elements",
                           crisk__grow_capacity(*cap, need, 16));
    return 0;
}

/* Parses exactly `n` integers in [lo, hi] from the value of `key` into b->ints.
 * Returns 0 or CRISK_E_FORMAT naming the tree, key, line and index. */
static int read_ints(builder *b, span v, const char *where, const char *key, size_t n,
                     long long lo, long long hi, crisk_error *err)
{
    size_t got = count_tokens(v);
    if (got != n)
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: %s has %zu values, expected %zu",
                           v.line, where, key, got, n);
    int rc = reserve((void **)&b->ints, &b->cap_ints, n, sizeof *b->ints, err);
    char tok[TOKEN_MAX];
    size_t pos = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        long long x = 0;
        if (next_token(v, &pos, tok) != 1 || !parse_int(tok, &x))
            return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: %s[%zu] is not an integer",
                               v.line, where, key, i);
        if (x < lo || x > hi)
            return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: %s[%zu] = %lld is outside "
                               "[%lld, %lld]", v.line, where, key, i, x, lo, hi);
        b->ints[i] = x;
    }
    return rc;
}

/* Parses exactly `n` finite reals from the value of `key` into b->reals, or allows any
 * double when `finite` is 0. Returns 0 or CRISK_E_FORMAT naming the tree, key and index. */
static int read_reals(builder *b, span v, const char *where, const char *key, size_t n,
                      int finite, crisk_error *err)
{
    size_t got = count_tokens(v);
    if (got != n)
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: %s has %zu values, expected %zu",
                           v.line, where, key, got, n);
    int rc = reserve((void **)&b->reals, &b->cap_reals, n, sizeof *b->reals, err);
    char tok[TOKEN_MAX];
    size_t pos = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        double x = 0;
        if (next_token(v, &pos, tok) != 1 || !parse_real(tok, &x))
            return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: %s[%zu] is not a number",
                               v.line, where, key, i);
        if (finite ? !isfinite(x) : isnan(x))
            return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: %s[%zu] is not %s", v.line,
                               where, key, i, finite ? "finite" : "a number");
        b->reals[i] = x;
    }
    return rc;
}

/* Parses the single integer value of header or tree key `key` into `*out`, within
 * [lo, hi]. Returns 0 or CRISK_E_FORMAT. */
static int read_one_int(builder *b, span v, const char *where, const char *key, long long lo,
                        long long hi, long long *out, crisk_error *err)
{
    int rc = read_ints(b, v, where, key, 1, lo, hi, err);
    if (rc == 0)
        *out = b->ints[0];
    return rc;
}

/* Returns the float threshold t' of the canonical rule (x < t' goes left) that sends
 * every float x where LightGBM sends it for the double threshold `t`.
 *
 * LightGBM sends x left iff (double)z(x) <= t, where z sets |x| <= kZeroThreshold to 0
 * (its dense-row reader drops such values, so the tree sees 0.0). z is monotone, so the
 * floats going left are all those below some float t'. Without z, t' is the float after
 * the largest float f <= t: x < t' <=> x <= f <=> (double)x <= t. z maps
 * [-kZero, kZero] to 0, so when 0 <= t < kZero that whole interval goes left (t' is the
 * float after kZero), and when -kZero <= t < 0 it goes right (t' = -kZero); elsewhere
 * z(x) = x on both sides of t and the plain rule holds. Beyond the float range:
 * t >= FLT_MAX sends every finite float left (t' = +inf, and +inf goes right as LightGBM
 * sends it, except for t = +inf: there +inf goes left too, which the fix-up
 * CRISK_FIXUP_INF_TO_MAX gives by comparing it as FLT_MAX); t < -FLT_MAX sends only -inf
 * left (t' = -FLT_MAX). NaN is not passed in. */
static float lightgbm_threshold(double t)
{
    const double kzero = (double)ZERO_THRESHOLD;
    if (t >= -kzero && t < kzero)
        return t < 0 ? -ZERO_THRESHOLD : nextafterf(ZERO_THRESHOLD, INFINITY);
    if (t >= (double)FLT_MAX)
        return INFINITY;
    if (t < -(double)FLT_MAX)
        return -FLT_MAX;
    float f = (float)t;           /* nearest float, within the float range here */
    if ((double)f > t)
        f = nextafterf(f, -INFINITY);
    return nextafterf(f, INFINITY);
}

/* Records that node `i` of `tree` splits feature `f` at a double threshold `t` that
 * converts to t' = +inf, and fails (CRISK_E_UNSUPPORTED) if the feature has both a
 * threshold +inf and a finite one >= FLT_MAX: x = +inf goes left at the first and right at
 * the second, while the float rule sends it one way at both (the fix-up turning it into
 * FLT_MAX, needed for the first, sends it left at the second too). Threshold +inf is
 * what LightGBM writes for "every number left" on a feature with NaN. */
static int note_huge_threshold(builder *b, size_t tree, size_t i, int32_t f, double t,
                               const span *key, const char *where, crisk_error *err)
{
    size_t *mine = t == INFINITY ? b->inf_tree : b->huge_tree;
    size_t *other = t == INFINITY ? b->huge_tree : b->inf_tree;
    if (!mine[f])
        mine[f] = tree + 1;
    if (!other[f])
        return 0;
    return crisk__fail(err, CRISK_E_UNSUPPORTED, "line %zu: %s: threshold[%zu] = %g on "
                       "feature %d, which has a threshold %s in Tree=%zu: +inf goes left at "
                       "a threshold +inf and right at a finite one >= FLT_MAX, which crisk's "
                       "float thresholds cannot both express", key->line, where, i, t, (int)f,
                       t == INFINITY ? ">= FLT_MAX" : "+inf", other[f] - 1);
}

/* Records that `tree` splits feature `f` numerically with missing type `mt`, and fails
 * (CRISK_E_UNSUPPORTED) if another tree gave the feature a different missing type, or
 * split it categorically while this type needs a fix-up: crisk applies missing types per
 * feature, before the trees. */
static int note_missing(builder *b, size_t tree, int32_t f, int mt, int categorical,
                        crisk_error *err)
{
    static const char *const names[] = {"None", "Zero", "NaN"};
    if (categorical) {
        if (!b->cat_tree[f])
            b->cat_tree[f] = tree + 1;
    } else if (!b->missing[f]) {
        b->missing[f] = (uint8_t)(mt + 1);
        b->missing_tree[f] = tree;
    } else if (b->missing[f] != mt + 1) {
        return crisk__fail(err, CRISK_E_UNSUPPORTED,
                           "feature %d: missing type %s in Tree=%zu but %s in Tree=%zu; crisk "
                           "needs one missing type per feature", (int)f,
                           names[b->missing[f] - 1], b->missing_tree[f], names[mt], tree);
    }
    if (b->cat_tree[f] && b->missing[f] && b->missing[f] != MISSING_NAN + 1)
        return crisk__fail(err, CRISK_E_UNSUPPORTED,
                           "feature %d: categorical splits (Tree=%zu) and numerical splits "
                           "with missing type %s (Tree=%zu) on one feature", (int)f,
                           b->cat_tree[f] - 1, names[b->missing[f] - 1], b->missing_tree[f]);
    return 0;
}

/* The keys of a tree block that crisk reads. */
enum {
    TK_NUM_LEAVES, TK_NUM_CAT, TK_SPLIT_FEATURE, TK_THRESHOLD, TK_DECISION_TYPE,
    TK_LEFT, TK_RIGHT, TK_LEAF_VALUE, TK_LEAF_COUNT, TK_INTERNAL_COUNT, TK_CAT_BOUNDARIES,
    TK_CAT_THRESHOLD, TK_IS_LINEAR, TK_LEAF_CONST, TK_NUM_FEATURES, TK_LEAF_FEATURES,
    TK_LEAF_COEFF, TK_COUNT
};
static const char *const tree_keys[TK_COUNT] = {
    "num_leaves", "num_cat", "split_feature", "threshold", "decision_type", "left_child",
    "right_child", "leaf_value", "leaf_count", "internal_count", "cat_boundaries",
    "cat_threshold", "is_linear", "leaf_const", "num_features", "leaf_features",
    "leaf_coeff"
};

/* Fails unless tree key `k` was given. */
static int need_key(const span *tk, int k, const char *where, crisk_error *err)
{
    if (tk[k].s)
        return 0;
    return crisk__fail(err, CRISK_E_FORMAT, "%s: missing key %s", where, tree_keys[k]);
}

/* Reads a tree's cat_boundaries and cat_threshold (num_cat > 0): appends the bitset
 * words to model->cat_words and leaves the boundaries, offset to those words, in
 * b->bounds. Returns 0 or an error naming the tree and key. */
static int read_categories(builder *b, const span *tk, size_t ncat, const char *where,
                           crisk_error *err)
{
    crisk_model *m = b->m;
    int rc = need_key(tk, TK_CAT_BOUNDARIES, where, err);
    if (rc == 0)
        rc = need_key(tk, TK_CAT_THRESHOLD, where, err);
    if (rc == 0)
        rc = read_ints(b, tk[TK_CAT_BOUNDARIES], where, "cat_boundaries", ncat + 1, 0,
                       INT32_MAX, err);
    if (rc == 0)
        rc = reserve((void **)&b->bounds, &b->cap_bounds, ncat + 1, sizeof *b->bounds, err);
    if (rc)
        return rc;
    for (size_t i = 0; i <= ncat; i++) {
        b->bounds[i] = b->ints[i];
        if (i > 0 && b->bounds[i] < b->bounds[i - 1])
            return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: cat_boundaries[%zu] = %lld "
                               "is below cat_boundaries[%zu] = %lld", tk[TK_CAT_BOUNDARIES].line,
                               where, i, (long long)b->bounds[i], i - 1,
                               (long long)b->bounds[i - 1]);
    }
    if (b->bounds[0] != 0)
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: cat_boundaries[0] = %lld, "
                           "expected 0", tk[TK_CAT_BOUNDARIES].line, where,
                           (long long)b->bounds[0]);
    size_t nwords = (size_t)b->bounds[ncat];
    rc = read_ints(b, tk[TK_CAT_THRESHOLD], where, "cat_threshold", nwords, 0, UINT32_MAX,
                   err);
    if (rc == 0)
        rc = reserve((void **)&m->cat_words, &b->cap_words, m->num_cat_words + nwords,
                     sizeof *m->cat_words, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < nwords; i++)
        m->cat_words[m->num_cat_words + i] = (uint32_t)b->ints[i];
    for (size_t i = 0; i <= ncat; i++)
        b->bounds[i] += (int64_t)m->num_cat_words;
    m->num_cat_words += nwords;
    return 0;
}

/* Reads the split nodes (the first L-1 of the tree's 2L-1 canonical nodes at `nodes`):
 * features, decision types, children (leaf ~c becomes node L-1+c), thresholds and
 * category sets. Returns 0 or an error naming the tree, key and index. */
static int read_splits(builder *b, const span *tk, size_t tree, size_t L, size_t ncat,
                       crisk__node *nodes, const char *where, crisk_error *err)
{
    size_t S = L - 1, F = b->m->num_features;
    static const int need[] = {TK_SPLIT_FEATURE, TK_THRESHOLD, TK_DECISION_TYPE, TK_LEFT,
                               TK_RIGHT};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof need / sizeof need[0]; i++)
        rc = need_key(tk, need[i], where, err);
    if (rc == 0)
        rc = read_ints(b, tk[TK_SPLIT_FEATURE], where, "split_feature", S, 0,
                       (long long)F - 1, err);
    for (size_t i = 0; rc == 0 && i < S; i++)
        nodes[i].feature = (int32_t)b->ints[i];
    if (rc == 0)
        rc = read_ints(b, tk[TK_DECISION_TYPE], where, "decision_type", S, 0, 11,
                       err); /* bits 0-3; 11 has missing type NaN, the largest valid */
    if (rc == 0)
        rc = reserve((void **)&b->mtype, &b->cap_mtype, S, 1, err);
    for (size_t i = 0; rc == 0 && i < S; i++) {
        int dt = (int)b->ints[i];
        nodes[i].categorical = (dt & DT_CATEGORICAL) != 0;
        nodes[i].default_left = (dt & DT_DEFAULT_LEFT) != 0;
        b->mtype[i] = (uint8_t)(dt >> 2);
        if (nodes[i].categorical && ncat == 0)
            return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: decision_type[%zu] is "
                               "categorical but num_cat is 0", tk[TK_DECISION_TYPE].line, where,
                               i);
    }
    const char *child_keys[2] = {"left_child", "right_child"};
    for (int side = 0; rc == 0 && side < 2; side++) {
        rc = read_ints(b, tk[side ? TK_RIGHT : TK_LEFT], where, child_keys[side], S,
                       -(long long)L, (long long)S - 1, err);
        for (size_t i = 0; rc == 0 && i < S; i++) {
            int64_t c = b->ints[i];
            int32_t idx = (int32_t)(c >= 0 ? c : (int64_t)S + ~c);
            if (side)
                nodes[i].right = idx;
            else
                nodes[i].left = idx;
        }
    }
    if (rc == 0 && ncat > 0)
        rc = read_categories(b, tk, ncat, where, err);
    if (rc == 0)
        rc = read_reals(b, tk[TK_THRESHOLD], where, "threshold", S, 0, err);
    for (size_t i = 0; rc == 0 && i < S; i++) {
        crisk__node *n = &nodes[i];
        double t = b->reals[i];
        if (n->categorical) {
            /* LightGBM: the threshold is the index of the node's bitset. */
            if (!(t >= 0 && t < (double)ncat) || t != floor(t))
                return crisk__fail(err, CRISK_E_FORMAT, "line %zu: %s: threshold[%zu] = %g is "
                                   "not a category set index in [0, %zu)",
                                   tk[TK_THRESHOLD].line, where, i, t, ncat);
            size_t k = (size_t)t;
            n->cat_in_left = 1;       /* LightGBM: categories in the set go left */
            n->default_left = 0;      /* and NaN goes right, whatever the bits say */
            n->cat_begin = (uint32_t)b->bounds[k];
            n->cat_nwords = (uint32_t)(b->bounds[k + 1] - b->bounds[k]);
        } else {
            n->threshold = lightgbm_threshold(t);
            if (t >= (double)FLT_MAX)
                rc = note_huge_threshold(b, tree, i, n->feature, t, &tk[TK_THRESHOLD], where,
                                         err);
        }
        if (rc == 0)
            rc = note_missing(b, tree, n->feature, b->mtype[i], n->categorical, err);
    }
    return rc;
}

/* Grows model->linear to at least `need` entries, the new ones zero (constant leaves).
 * Returns 0 or CRISK_E_NOMEM. */
static int reserve_linear(builder *b, size_t need, crisk_error *err)
{
    size_t old = b->cap_linear;
    int rc = reserve((void **)&b->m->linear, &b->cap_linear, need, sizeof *b->m->linear, err);
    if (rc == 0)
        memset(b->m->linear + old, 0, (b->cap_linear - old) * sizeof *b->m->linear);
    return rc;
}

/* Reads a linear tree's leaf models into model->lin_* and their entries `lin` of
 * model->linear: leaf i's output is leaf_const[i] + sum coeff * x, or leaf_value[i] when
 * one of its x is NaN (tree.h, Tree::Predict). Leaves at `leaves` already hold
 * leaf_value. */
static int read_linear(builder *b, const span *tk, size_t L, crisk__node *leaves,
                       crisk__linear_leaf *lin, const char *where, crisk_error *err)
{
    crisk_model *m = b->m;
    int rc = need_key(tk, TK_LEAF_CONST, where, err);
    if (rc == 0)
        rc = need_key(tk, TK_NUM_FEATURES, where, err);
    if (rc == 0)
        rc = read_reals(b, tk[TK_LEAF_CONST], where, "leaf_const", L, 1, err);
    for (size_t i = 0; rc == 0 && i < L; i++) {
        lin[i].fallback = leaves[i].value;
        leaves[i].value = b->reals[i];
    }
    if (rc == 0)
        rc = read_ints(b, tk[TK_NUM_FEATURES], where, "num_features", L, 0,
                       (long long)m->num_features, err);
    size_t total = 0;
    for (size_t i = 0; rc == 0 && i < L; i++) {
        lin[i].begin = (uint32_t)(m->num_linear_terms + total);
        lin[i].count = (uint32_t)b->ints[i];
        total += (size_t)b->ints[i];
    }
    if (rc || total == 0)
        return rc;
    if (m->num_linear_terms + total > UINT32_MAX)
        return crisk__fail(err, CRISK_E_LIMIT, "%s: more than 2^32 linear terms in the model",
                           where);
    rc = need_key(tk, TK_LEAF_FEATURES, where, err);
    if (rc == 0)
        rc = need_key(tk, TK_LEAF_COEFF, where, err);
    if (rc == 0)
        rc = reserve((void **)&m->lin_feature, &b->cap_features, m->num_linear_terms + total,
                     sizeof *m->lin_feature, err);
    if (rc == 0)
        rc = reserve((void **)&m->lin_coeff, &b->cap_coeffs, m->num_linear_terms + total,
                     sizeof *m->lin_coeff, err);
    if (rc == 0)
        rc = read_ints(b, tk[TK_LEAF_FEATURES], where, "leaf_features", total, 0,
                       (long long)m->num_features - 1, err);
    for (size_t i = 0; rc == 0 && i < total; i++)
        m->lin_feature[m->num_linear_terms + i] = (int32_t)b->ints[i];
    if (rc == 0)
        rc = read_reals(b, tk[TK_LEAF_COEFF], where, "leaf_coeff", total, 1, err);
    for (size_t i = 0; rc == 0 && i < total; i++)
        m->lin_coeff[m->num_linear_terms + i] = b->reals[i];
    if (rc == 0)
        m->num_linear_terms += total;
    return rc;
}

/* Reads optional leaf_count / internal_count into the nodes' covers (LightGBM's SHAP
 * weights nodes by these counts). */
static int read_counts(builder *b, const span *tk, size_t L, crisk__node *nodes,
                       const char *where, crisk_error *err)
{
    int rc = 0;
    if (tk[TK_INTERNAL_COUNT].s && L > 1)
        rc = read_ints(b, tk[TK_INTERNAL_COUNT], where, "internal_count", L - 1, 0, INT64_MAX,
                       err);
    for (size_t i = 0; rc == 0 && tk[TK_INTERNAL_COUNT].s && i + 1 < L; i++)
        nodes[i].cover = (float)b->ints[i];
    if (rc == 0 && tk[TK_LEAF_COUNT].s)
        rc = read_ints(b, tk[TK_LEAF_COUNT], where, "leaf_count", L, 0, INT64_MAX, err);
    for (size_t i = 0; rc == 0 && tk[TK_LEAF_COUNT].s && i < L; i++)
        nodes[L - 1 + i].cover = (float)b->ints[i];
    return rc;
}

/* Builds tree `tree` of the model from its keys: 2L-1 canonical nodes, the L-1 splits
 * first (LightGBM's node order, so node 0 is the root) then the L leaves. */
static int build_tree(builder *b, const span *tk, size_t tree, crisk_error *err)
{
    crisk_model *m = b->m;
    char where[32];
    snprintf(where, sizeof where, "Tree=%zu", tree);
    long long L = 0, ncat = 0, linear = 0;
    int rc = need_key(tk, TK_NUM_LEAVES, where, err);
    if (rc == 0)
        rc = need_key(tk, TK_NUM_CAT, where, err);
    if (rc == 0)
        rc = need_key(tk, TK_LEAF_VALUE, where, err);
    if (rc == 0)
        rc = read_one_int(b, tk[TK_NUM_LEAVES], where, "num_leaves", 1, INT32_MAX, &L, err);
    if (rc == 0)
        rc = read_one_int(b, tk[TK_NUM_CAT], where, "num_cat", 0, INT32_MAX - 1, &ncat, err);
    if (rc == 0 && tk[TK_IS_LINEAR].s)
        rc = read_one_int(b, tk[TK_IS_LINEAR], where, "is_linear", 0, 1, &linear, err);
    if (rc)
        return rc;
    size_t nnodes = 2 * (size_t)L - 1;
    size_t most = b->limits->max_nodes < UINT32_MAX ? b->limits->max_nodes : UINT32_MAX;
    if (m->num_nodes + nnodes > most)
        return crisk__fail(err, CRISK_E_LIMIT, "%s: num_leaves = %lld takes the model beyond "
                           "the limit max_nodes = %zu", where, L, most);
    /* Every key array is checked against the tokens present before this allocation is
     * used, and leaf_value must hold L numbers: check it first, so that a huge num_leaves
     * costs no memory. */
    rc = read_reals(b, tk[TK_LEAF_VALUE], where, "leaf_value", (size_t)L, 1, err);
    if (rc == 0)
        rc = reserve((void **)&m->nodes, &b->cap_nodes, m->num_nodes + nnodes,
                     sizeof *m->nodes, err);
    if (rc == 0)
        rc = reserve((void **)&m->trees, &b->cap_trees, m->num_trees + 1, sizeof *m->trees,
                     err);
    /* Linear leaves keep their terms beside the nodes, from the first linear tree on. */
    if (rc == 0 && (linear || m->linear))
        rc = reserve_linear(b, m->num_nodes + nnodes, err);
    if (rc)
        return rc;
    crisk__node *nodes = m->nodes + m->num_nodes, *leaves = nodes + L - 1;
    memset(nodes, 0, nnodes * sizeof *nodes);
    for (size_t i = 0; i < (size_t)L; i++) {
        leaves[i].left = leaves[i].right = leaves[i].feature = -1;
        leaves[i].value = b->reals[i];
    }
    if (L > 1)
        rc = read_splits(b, tk, tree, (size_t)L, (size_t)ncat, nodes, where, err);
    if (rc == 0 && linear)
        rc = read_linear(b, tk, (size_t)L, leaves, m->linear + m->num_nodes + L - 1, where,
                         err);
    if (rc == 0)
        rc = read_counts(b, tk, (size_t)L, nodes, where, err);
    if (rc)
        return rc;
    /* A tree of one leaf is stored as just that leaf (LightGBM reads only leaf_value[0],
     * or the linear model of leaf 0). */
    crisk__tree *t = &m->trees[m->num_trees];
    t->first_node = (uint32_t)m->num_nodes;
    t->num_nodes = (uint32_t)nnodes;
    t->group = (uint32_t)(tree % m->trees_per_iteration);
    t->depth = 0;
    t->weight = 1.0;
    m->num_nodes += nnodes;
    m->num_trees++;
    return 0;
}

/* Reads the trees: `Tree=i` blocks, numbered from 0, up to "end of trees", another line
 * or the end of the text. `first` is the `Tree=` line that ended the header. */
static int read_trees(builder *b, reader *r, span first, crisk_error *err)
{
    span line = first;
    int have = 1;
    while (have && starts_with(line, "Tree=")) {
        size_t tree = b->m->num_trees;
        char tok[TOKEN_MAX];
        size_t pos = 5;
        long long idx = -1;
        span v = line;
        if (next_token(v, &pos, tok) != 1 || !parse_int(tok, &idx) || idx < 0 ||
            (size_t)idx != tree)
            return crisk__fail(err, CRISK_E_FORMAT, "line %zu: expected \"Tree=%zu\"",
                               line.line, tree);
        if (tree >= b->limits->max_trees)
            return crisk__fail(err, CRISK_E_LIMIT, "line %zu: more than max_trees = %zu trees",
                               line.line, b->limits->max_trees);
        char where[32];
        snprintf(where, sizeof where, "Tree=%zu", tree);
        span vals[TK_COUNT];
        memset(vals, 0, sizeof vals);
        keyset ks = {tree_keys, vals, TK_COUNT};
        while ((have = next_line(r, &line)) && line.len > 0 && !starts_with(line, "Tree=")) {
            int rc = file_key(&ks, line, where, err);
            if (rc)
                return rc;
        }
        int rc = build_tree(b, vals, tree, err);
        if (rc)
            return rc;
        while (have && line.len == 0)
            have = next_line(r, &line);
    }
    return 0;
}

/* The header keys crisk reads. */
enum {
    HK_VERSION, HK_NUM_CLASS, HK_NUM_TREE_PER_ITERATION, HK_MAX_FEATURE_IDX, HK_OBJECTIVE,
    HK_AVERAGE_OUTPUT, HK_FEATURE_NAMES, HK_TREE_SIZES, HK_FEATURE_INFOS, HK_COUNT
};
static const char *const header_keys[HK_COUNT] = {
    "version", "num_class", "num_tree_per_iteration", "max_feature_idx", "objective",
    "average_output", "feature_names", "tree_sizes", "feature_infos"
};

/* How an objective's outputs are formed (the objectives' ConvertOutput). */
typedef enum obj_kind {
    OBJ_BINARY,      /* sigmoid:S required */
    OBJ_MULTICLASS,  /* num_class:K required; softmax */
    OBJ_OVA,         /* num_class:K and sigmoid:S required; per-class sigmoid */
    OBJ_SIGMOID1,    /* cross_entropy: 1 / (1 + exp(-x)) */
    OBJ_REGRESSION,  /* identity, or sign(x) x^2 with the "sqrt" token (RegressionL2loss) */
    OBJ_IDENTITY,    /* huber (which drops "sqrt"), lambdarank, rank_xendcg */
    OBJ_EXP          /* poisson, gamma, tweedie: exp, "sqrt" ignored */
} obj_kind;

/* Returns LightGBM's canonical objective name for `name` (config.h ParseObjectiveAlias,
 * for the objectives crisk supports), or `name` itself. */
static const char *objective_alias(const char *name)
{
    static const char *const alias[][2] = {
        {"regression_l2", "regression"}, {"mean_squared_error", "regression"},
        {"mse", "regression"}, {"l2", "regression"}, {"l2_root", "regression"},
        {"root_mean_squared_error", "regression"}, {"rmse", "regression"},
        {"mean_absolute_error", "regression_l1"}, {"l1", "regression_l1"},
        {"mae", "regression_l1"}, {"softmax", "multiclass"}, {"multiclass_ova", "multiclassova"},
        {"ova", "multiclassova"}, {"ovr", "multiclassova"}, {"xentropy", "cross_entropy"},
        {"mean_absolute_percentage_error", "mape"}, {"xendcg", "rank_xendcg"},
        {"xe_ndcg", "rank_xendcg"}, {"xe_ndcg_mart", "rank_xendcg"},
        {"xendcg_mart", "rank_xendcg"},
    };
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(name, alias[i][0]) == 0)
            return alias[i][1];
    return name;
}

/* Sets the model's transform, transform_param and num_classes from the objective line
 * `v` (e.g. "binary sigmoid:1", "multiclass num_class:3"); `k` is the number of trees per
 * iteration it must agree with. Returns 0, CRISK_E_UNSUPPORTED naming an objective crisk
 * does not implement, or CRISK_E_FORMAT. */
static int read_objective(crisk_model *m, span v, size_t k, crisk_error *err)
{
    static const struct { const char *name; obj_kind kind; } table[] = {
        {"binary", OBJ_BINARY}, {"multiclass", OBJ_MULTICLASS}, {"multiclassova", OBJ_OVA},
        {"cross_entropy", OBJ_SIGMOID1}, {"regression", OBJ_REGRESSION},
        {"regression_l1", OBJ_REGRESSION}, {"quantile", OBJ_REGRESSION},
        {"fair", OBJ_REGRESSION}, {"mape", OBJ_REGRESSION}, {"huber", OBJ_IDENTITY},
        {"lambdarank", OBJ_IDENTITY}, {"rank_xendcg", OBJ_IDENTITY}, {"poisson", OBJ_EXP},
        {"gamma", OBJ_EXP}, {"tweedie", OBJ_EXP},
    };
    char tok[TOKEN_MAX];
    size_t pos = 0;
    if (next_token(v, &pos, tok) != 1)
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: objective is empty or too long",
                           v.line);
    snprintf(m->objective, sizeof m->objective, "%.*s",
             (int)(v.len < sizeof m->objective ? v.len : sizeof m->objective - 1), v.s);
    char name[TOKEN_MAX];
    snprintf(name, sizeof name, "%s", objective_alias(tok));
    size_t which = sizeof table / sizeof table[0];
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0)
            which = i;
    if (which == sizeof table / sizeof table[0])
        return crisk__fail(err, CRISK_E_UNSUPPORTED, "line %zu: LightGBM objective \"%s\" is "
                           "not supported", v.line, tok);
    obj_kind kind = table[which].kind;
    double sigmoid = -1;
    long long classes = -1;
    int sqrt_token = 0;
    int more;
    while ((more = next_token(v, &pos, tok)) == 1) {
        if (strcmp(tok, "sqrt") == 0)
            sqrt_token = 1;
        else if (strncmp(tok, "sigmoid:", 8) == 0 && !parse_real(tok + 8, &sigmoid))
            sigmoid = -1;
        else if (strncmp(tok, "num_class:", 10) == 0 && !parse_int(tok + 10, &classes))
            classes = -1;
    }
    if (more < 0)
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: objective: a token is too long",
                           v.line);
    int multi = kind == OBJ_MULTICLASS || kind == OBJ_OVA;
    if ((kind == OBJ_BINARY || kind == OBJ_OVA) && !(sigmoid > 0 && isfinite(sigmoid)))
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: objective %s needs sigmoid:S with "
                           "S > 0", v.line, name);
    if (multi && (classes < 1 || (size_t)classes != k))
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: objective %s: num_class:%lld does "
                           "not match num_tree_per_iteration = %zu", v.line, name, classes, k);
    if (!multi && k != 1)
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: objective %s has one output, but "
                           "num_tree_per_iteration = %zu", v.line, name, k);
    m->num_classes = multi ? k : kind == OBJ_BINARY ? 2 : 0;
    m->transform_param = sigmoid > 0 ? sigmoid : 1.0;
    switch (kind) {
    case OBJ_BINARY:
    case OBJ_SIGMOID1:
        m->transform = CRISK__TF_SIGMOID;
        break;
    case OBJ_MULTICLASS:
        m->transform = CRISK__TF_SOFTMAX;
        break;
    case OBJ_OVA:
        m->transform = CRISK__TF_SIGMOID_OVR;
        break;
    case OBJ_REGRESSION:
        m->transform = sqrt_token ? CRISK__TF_SIGNED_SQUARE : CRISK__TF_IDENTITY;
        break;
    case OBJ_EXP:
        m->transform = CRISK__TF_EXP;
        break;
    default:
        m->transform = CRISK__TF_IDENTITY;
        break;
    }
    return 0;
}

/* Stores the space-separated names of `v` (exactly model->num_features of them) as the
 * model's feature names. */
static int read_feature_names(crisk_model *m, span v, crisk_error *err)
{
    size_t n = count_tokens(v);
    if (n != m->num_features)
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: feature_names has %zu names, "
                           "expected max_feature_idx + 1 = %zu", v.line, n, m->num_features);
    m->feature_names = calloc(n, sizeof *m->feature_names);
    if (!m->feature_names)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu feature names", n);
    size_t i = 0, f = 0;
    while (f < n) {
        while (i < v.len && (v.s[i] == ' ' || v.s[i] == '\t'))
            i++;
        size_t start = i;
        while (i < v.len && v.s[i] != ' ' && v.s[i] != '\t')
            i++;
        m->feature_names[f] = strndup(v.s + start, i - start);
        if (!m->feature_names[f++])
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for feature names");
    }
    return 0;
}

/* Fills the model-wide fields from the header keys `hk`, the scratch sized by the
 * feature count, and the model's output arrays. Returns 0 or an error naming the key. */
static int read_header(builder *b, const span *hk, crisk_error *err)
{
    crisk_model *m = b->m;
    static const int need[] = {HK_VERSION, HK_NUM_CLASS, HK_MAX_FEATURE_IDX, HK_OBJECTIVE,
                               HK_FEATURE_NAMES};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!hk[need[i]].s)
            return crisk__fail(err, CRISK_E_FORMAT, "the header has no key %s",
                               header_keys[need[i]]);
    if (!span_is(hk[HK_VERSION], "v4") && !span_is(hk[HK_VERSION], "v3"))
        return crisk__fail(err, CRISK_E_UNSUPPORTED, "line %zu: model version \"%.*s\" is not "
                           "supported (v3 or v4 expected)", hk[HK_VERSION].line,
                           (int)(hk[HK_VERSION].len > 32 ? 32 : hk[HK_VERSION].len),
                           hk[HK_VERSION].s);
    long long classes = 0, k = 0, maxf = 0;
    int rc = read_one_int(b, hk[HK_NUM_CLASS], "header", "num_class", 1, INT32_MAX, &classes,
                          err);
    if (rc == 0 && hk[HK_NUM_TREE_PER_ITERATION].s)
        rc = read_one_int(b, hk[HK_NUM_TREE_PER_ITERATION], "header",
                          "num_tree_per_iteration", 1, INT32_MAX, &k, err);
    else
        k = classes; /* LightGBM's default */
    if (rc == 0)
        rc = read_one_int(b, hk[HK_MAX_FEATURE_IDX], "header", "max_feature_idx", 0,
                          INT32_MAX - 1, &maxf, err);
    if (rc)
        return rc;
    if ((size_t)k > b->limits->max_outputs)
        return crisk__fail(err, CRISK_E_LIMIT, "num_tree_per_iteration = %lld exceeds the "
                           "limit max_outputs = %zu", k, b->limits->max_outputs);
    if ((size_t)maxf + 1 > b->limits->max_features)
        return crisk__fail(err, CRISK_E_LIMIT, "line %zu: max_feature_idx = %lld exceeds the "
                           "limit max_features = %zu", hk[HK_MAX_FEATURE_IDX].line, maxf,
                           b->limits->max_features);
    if (classes != k)
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: num_class = %lld but "
                           "num_tree_per_iteration = %lld", hk[HK_NUM_CLASS].line, classes, k);
    m->family = CRISK__FAMILY_LIGHTGBM;
    m->accumulate_double = 1;
    m->average_output = hk[HK_AVERAGE_OUTPUT].s != NULL;
    snprintf(m->booster, sizeof m->booster, "%s", m->average_output ? "rf" : "gbdt");
    m->num_features = (size_t)maxf + 1;
    m->num_outputs = m->trees_per_iteration = (size_t)k;
    rc = read_objective(m, hk[HK_OBJECTIVE], (size_t)k, err);
    if (rc == 0)
        rc = read_feature_names(m, hk[HK_FEATURE_NAMES], err);
    if (rc)
        return rc;
    size_t F = m->num_features;
    m->base_margin = calloc((size_t)k, sizeof *m->base_margin);
    b->missing = calloc(F, 1);
    b->missing_tree = calloc(F, sizeof *b->missing_tree);
    b->cat_tree = calloc(F, sizeof *b->cat_tree);
    b->inf_tree = calloc(F, sizeof *b->inf_tree);
    b->huge_tree = calloc(F, sizeof *b->huge_tree);
    if (!m->base_margin || !b->missing || !b->missing_tree || !b->cat_tree || !b->inf_tree ||
        !b->huge_tree)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu features", F);
    return 0;
}

/* Returns feature f's fix-up bits: its missing type's (None: NaN is 0.0; Zero: zero is
 * missing; NaN: none) and, when a split has threshold +inf, +inf compared as FLT_MAX. */
static uint8_t feature_fixup(const builder *b, size_t f)
{
    uint8_t fix = b->inf_tree[f] ? CRISK__FIXUP_INF_TO_MAX : CRISK__FIXUP_NONE;
    if (b->missing[f] == MISSING_NONE + 1)
        fix |= CRISK__FIXUP_NAN_TO_ZERO;
    else if (b->missing[f] == MISSING_ZERO + 1)
        fix |= CRISK__FIXUP_ZERO_TO_NAN;
    return fix;
}

/* Fills model->fixup with each feature's fix-ups, leaving it NULL when no feature needs
 * one. Returns 0 or CRISK_E_NOMEM. */
static int make_fixups(builder *b, crisk_error *err)
{
    crisk_model *m = b->m;
    int any = 0;
    for (size_t f = 0; f < m->num_features; f++)
        any |= feature_fixup(b, f) != CRISK__FIXUP_NONE;
    if (!any)
        return 0;
    m->fixup = calloc(m->num_features, 1);
    if (!m->fixup)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for fix-ups");
    for (size_t f = 0; f < m->num_features; f++)
        m->fixup[f] = feature_fixup(b, f);
    return 0;
}

/* Reads the header and the trees into `m` with the builder `b`. */
static int import(builder *b, const char *text, size_t size, crisk_error *err)
{
    reader r = {text, text + size, 0};
    span line, hv[HK_COUNT];
    memset(hv, 0, sizeof hv);
    keyset hk = {header_keys, hv, HK_COUNT};
    if (!next_line(&r, &line) || !span_is(line, "tree"))
        return crisk__fail(err, CRISK_E_FORMAT, "line 1: expected \"tree\"");
    int have;
    while ((have = next_line(&r, &line)) && !starts_with(line, "Tree=")) {
        if (line.len == 0)
            continue;
        if (starts_with(line, "end of trees"))
            break;
        int rc = file_key(&hk, line, "the header", err);
        if (rc)
            return rc;
    }
    int rc = read_header(b, hv, err);
    if (rc == 0 && have && starts_with(line, "Tree="))
        rc = read_trees(b, &r, line, err);
    if (rc)
        return rc;
    crisk_model *m = b->m;
    if (m->num_trees == 0)
        return crisk__fail(err, CRISK_E_FORMAT, "the model has no trees");
    if (m->num_trees % m->trees_per_iteration != 0)
        return crisk__fail(err, CRISK_E_FORMAT, "%zu trees are not a whole number of "
                           "iterations of num_tree_per_iteration = %zu trees", m->num_trees,
                           m->trees_per_iteration);
    if (hv[HK_TREE_SIZES].s && count_tokens(hv[HK_TREE_SIZES]) != m->num_trees)
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: tree_sizes lists %zu trees, the "
                           "file has %zu", hv[HK_TREE_SIZES].line,
                           count_tokens(hv[HK_TREE_SIZES]), m->num_trees);
    m->num_iterations = m->num_trees / m->trees_per_iteration;
    rc = crisk__lightgbm_read_cats(text, size, hv[HK_FEATURE_INFOS].s,
                                   hv[HK_FEATURE_INFOS].len, m, err);
    return rc ? rc : make_fixups(b, err);
}

int crisk__import_lightgbm(const char *text, size_t size, const crisk_load_limits *limits,
                           crisk_model *m, crisk_error *err)
{
    builder b;
    memset(&b, 0, sizeof b);
    b.m = m;
    b.limits = limits;
    int rc = import(&b, text, size, err);
    free(b.missing);
    free(b.missing_tree);
    free(b.cat_tree);
    free(b.inf_tree);
    free(b.huge_tree);
    free(b.ints);
    free(b.reals);
    free(b.bounds);
    free(b.mtype);
    return rc;
}
