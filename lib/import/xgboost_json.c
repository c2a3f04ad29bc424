/*
 * import/xgboost_json.c — XGBoost's JSON model document (1.7 to 3.x) to the canonical form.
 *
 * The document is the one `Booster.save_model("m.json")` writes, or the same structure
 * decoded from UBJSON. The trees are read through import/jvalue.h, so that one reader
 * serves trees of a cJSON tree and trees read in place from the text (xgboost_split.c).
 * Every failure names the JSON path where it was found.
 */
#include "common/error.h"
#include "import/import.h"
#include "import/jvalue.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How an objective's base_score (stored in output space) becomes a margin. */
typedef enum base_kind {
    BASE_AS_IS,   /* the margin is base_score itself */
    BASE_LOGIT,   /* -logf(1/b - 1): logistic objectives */
    BASE_LOG      /* logf(b): exponential-link objectives */
} base_kind;

/* The objectives crisk scores, with their transform, base_score link and class count
 * (0: a regressor; -1: num_class from the model). */
static const struct objective_spec {
    const char *name;
    crisk__transform transform;
    base_kind base;
    int classes;
} objectives[] = {
    {"binary:logistic", CRISK__TF_XGB_SIGMOID, BASE_LOGIT, 2},
    {"binary:logitraw", CRISK__TF_IDENTITY, BASE_AS_IS, 2},
    {"binary:hinge", CRISK__TF_XGB_HINGE, BASE_AS_IS, 2},
    {"reg:logistic", CRISK__TF_XGB_SIGMOID, BASE_LOGIT, 0},
    {"reg:squarederror", CRISK__TF_IDENTITY, BASE_AS_IS, 0},
    {"reg:linear", CRISK__TF_IDENTITY, BASE_AS_IS, 0},
    {"reg:squaredlogerror", CRISK__TF_IDENTITY, BASE_AS_IS, 0},
    {"reg:pseudohubererror", CRISK__TF_IDENTITY, BASE_AS_IS, 0},
    {"reg:absoluteerror", CRISK__TF_IDENTITY, BASE_AS_IS, 0},
    {"reg:quantileerror", CRISK__TF_IDENTITY, BASE_AS_IS, 0},
    {"count:poisson", CRISK__TF_XGB_EXP, BASE_LOG, 0},
    {"reg:gamma", CRISK__TF_XGB_EXP, BASE_LOG, 0},
    {"reg:tweedie", CRISK__TF_XGB_EXP, BASE_LOG, 0},
    {"multi:softprob", CRISK__TF_XGB_SOFTPROB, BASE_AS_IS, -1},
    {"multi:softmax", CRISK__TF_XGB_SOFTMAX, BASE_AS_IS, -1},
    {"rank:pairwise", CRISK__TF_IDENTITY, BASE_AS_IS, 0},
    {"rank:ndcg", CRISK__TF_IDENTITY, BASE_AS_IS, 0},
    {"rank:map", CRISK__TF_IDENTITY, BASE_AS_IS, 0},
};

/* XGBoost treats category values at or above 2^24 as invalid (they go left). */
#define XGB_MAX_CATEGORY ((size_t)1 << 24)

/* The bit of JSON type `t` in a mask of types member() accepts. */
#define JT(t) (1u << CRISK__J_##t)

/* Finds member `key` of object `obj` if it has a JSON type in `types` (JT bits) and stores
 * it in `*out`. Returns 0, or CRISK_E_FORMAT naming `path`.`key` and what was found. */
static int jmember(const crisk__jvalue *obj, const char *path, const char *key, unsigned types,
                   crisk__jvalue *out, crisk_error *err)
{
    if (!crisk__jvalue_member(obj, key, out))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: missing \"%s\"", path, key);
    if (!(types & (1u << crisk__jvalue_type(out))))
        return crisk__fail(err, CRISK_E_FORMAT, "%s.%s: unexpected JSON type", path, key);
    return 0;
}

/* jmember() over a cJSON object: returns the member, or NULL. */
static const cJSON *member(const cJSON *obj, const char *path, const char *key, unsigned types,
                           crisk_error *err)
{
    crisk__jvalue o = crisk__jvalue_item(obj), v;
    return jmember(&o, path, key, types, &v, err) ? NULL : v.item;
}

/* Stores the value of `len` decimal digits at `s` in `*out`. Returns 0, or -1 when they are
 * not all digits (or none) or their value exceeds unsigned long long, as strtoull says. */
static int parse_digits(const char *s, size_t len, unsigned long long *out)
{
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return len ? 0 : -1;
}

/* Reads a non-negative integer stored as a JSON number or a decimal string (XGBoost writes
 * most parameters as strings). Returns 0, or CRISK_E_FORMAT naming `path`. */
static int as_size(const crisk__jvalue *item, const char *path, size_t *out, crisk_error *err)
{
    double v;
    if (crisk__jvalue_number(item, &v) == 0) {
        if (!(v >= 0 && v <= 9007199254740992.0) || v != floor(v))
            return crisk__fail(err, CRISK_E_FORMAT, "%s: %g is not a non-negative integer",
                               path, v);
        *out = (size_t)v;
        return 0;
    }
    const char *s;
    size_t len;
    cJSON *hold;
    if (crisk__jvalue_string(item, &s, &len, &hold) == 0) {
        unsigned long long u = 0;
        int rc = parse_digits(s, len, &u) == 0 ? 0
                 : crisk__fail(err, CRISK_E_FORMAT, "%s: \"%.*s\" is not a non-negative "
                               "integer", path, (int)(len < 40 ? len : 40), s);
        cJSON_Delete(hold);
        *out = (size_t)u;
        return rc;
    }
    return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an integer", path);
}

/* Reads member `key` of `obj` as a non-negative integer (see as_size). */
static int size_member(const crisk__jvalue *obj, const char *path, const char *key,
                       size_t *out, crisk_error *err)
{
    crisk__jvalue item;
    int rc = jmember(obj, path, key, JT(NUMBER) | JT(STRING), &item, err);
    if (rc)
        return rc;
    char where[256];
    snprintf(where, sizeof where, "%s.%s", path, key);
    return as_size(&item, where, out, err);
}

/* size_member() over a cJSON object. */
static int size_item(const cJSON *obj, const char *path, const char *key, size_t *out,
                     crisk_error *err)
{
    crisk__jvalue o = crisk__jvalue_item(obj);
    return size_member(&o, path, key, out, err);
}

/* Parses a float list XGBoost writes, `what` at JSON path naming it in errors: "5E-1" (up
 * to 3.0), or "[a,b,...]" (3.1+), into up to `cap` floats with strtof as XGBoost does.
 * Stores the count in `*n`. Returns 0 or CRISK_E_FORMAT. */
static int parse_float_list(const char *what, const char *s, float *values, size_t cap,
                            size_t *n, crisk_error *err)
{
    const char *p = s;
    int bracketed = *p == '[';
    if (bracketed)
        p++;
    *n = 0;
    for (;;) {
        char *end;
        while (*p == ' ')
            p++;
        float v = strtof(p, &end);
        if (end == p || !isfinite(v))
            return crisk__fail(err, CRISK_E_FORMAT,
                               "%s: \"%.60s\" is not a number or a list of numbers", what,
                               s);
        if (*n == cap)
            return crisk__fail(err, CRISK_E_FORMAT,
                               "%s: more than %zu values", what, cap);
        values[(*n)++] = v;
        p = end;
        while (*p == ' ')
            p++;
        if (bracketed && *p == ',') {
            p++;
            continue;
        }
        if (bracketed && *p == ']')
            p++;
        if (*p != '\0')
            return crisk__fail(err, CRISK_E_FORMAT,
                               "%s: trailing text in \"%.60s\"", what, s);
        return 0;
    }
}

/* Turns a base_score value into a margin for the objective's link, as XGBoost's
 * ProbToMargin does (in float). */
static int base_to_margin(const struct objective_spec *obj, float b, double *margin,
                          crisk_error *err)
{
    switch (obj->base) {
    case BASE_LOGIT:
        if (!(b > 0.0f && b < 1.0f))
            return crisk__fail(err, CRISK_E_FORMAT,
                               "learner.learner_model_param.base_score: %g outside (0, 1) for "
                               "%s", (double)b, obj->name);
        *margin = -logf(1.0f / b - 1.0f);
        return 0;
    case BASE_LOG:
        if (!(b > 0.0f))
            return crisk__fail(err, CRISK_E_FORMAT,
                               "learner.learner_model_param.base_score: %g is not positive for "
                               "%s", (double)b, obj->name);
        *margin = logf(b);
        return 0;
    default:
        *margin = b;
        return 0;
    }
}

/* The element kinds read_array() can fill. */
typedef enum elem_kind { ELEM_I32, ELEM_U8, ELEM_F32 } elem_kind;

/* How many numbers read_array() reads at a time. */
#define ARRAY_CHUNK 256

/* Stores the `n` numbers at `v` as elements `at`... of `dst`, which are of `kind` (of
 * member `key` at `path`, in messages). Integers must be integral and fit int32. */
static int store(const double *v, size_t n, elem_kind kind, void *dst, size_t at,
                 const char *path, const char *key, crisk_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (kind == ELEM_F32) {
            ((float *)dst)[at + i] = (float)v[i];
            continue;
        }
        /* The range first: the cast that tests integrality is then defined (NaN fails). */
        if (!(v[i] >= -2147483648.0 && v[i] <= 2147483647.0) || (double)(int32_t)v[i] != v[i])
            return crisk__fail(err, CRISK_E_FORMAT, "%s.%s[%zu]: %g is not a 32-bit integer",
                               path, key, at + i, v[i]);
        if (kind == ELEM_I32)
            ((int32_t *)dst)[at + i] = (int32_t)v[i];
        else
            ((uint8_t *)dst)[at + i] = v[i] != 0;
    }
    return 0;
}

/* Reads an item that is not a plain number: XGBoost's bare NaN / Infinity (their marker
 * strings) for ELEM_F32, booleans for ELEM_U8, and numbers. Returns 0 or -1. */
static int other_item(const crisk__jvalue *it, elem_kind kind, double *v)
{
    const char *s;
    size_t len;
    cJSON *hold;
    float nonfinite;
    crisk__jtype t = crisk__jvalue_type(it);
    if (t == CRISK__J_NUMBER)
        return crisk__jvalue_number(it, v);
    if (kind == ELEM_U8 && (t == CRISK__J_TRUE || t == CRISK__J_FALSE)) {
        *v = t == CRISK__J_TRUE;
        return 0;
    }
    if (kind != ELEM_F32 || crisk__jvalue_string(it, &s, &len, &hold) != 0)
        return -1;
    int found = crisk__json_nonfinite_value(s, len, &nonfinite);
    cJSON_Delete(hold);
    *v = nonfinite;
    return found ? 0 : -1;
}

/* Reads array member `key` of `obj`, which must hold exactly `n` numbers (booleans too for
 * ELEM_U8), into `dst`: runs of numbers at a time (crisk__jitems_numbers), in place when
 * `obj` is text. */
static int read_array(const crisk__jvalue *obj, const char *path, const char *key, size_t n,
                      elem_kind kind, void *dst, crisk_error *err)
{
    crisk__jvalue arr, it;
    crisk__jitems items;
    int rc = jmember(obj, path, key, JT(ARRAY), &arr, err);
    if (rc)
        return rc;
    crisk__jitems_open(&arr, &items);
    double v[ARRAY_CHUNK];
    size_t i = 0;
    while (i < n) {
        size_t got = crisk__jitems_numbers(&items, v, n - i < ARRAY_CHUNK ? n - i : ARRAY_CHUNK);
        if (got == 0) {
            if (!crisk__jitems_next(&items, &it))
                break;
            if (other_item(&it, kind, v) != 0)
                return crisk__fail(err, CRISK_E_FORMAT, "%s.%s[%zu]: not a number", path, key,
                                   i);
            got = 1;
        }
        if ((rc = store(v, got, kind, dst, i, path, key, err)) != 0)
            return rc;
        i += got;
    }
    if (i != n || crisk__jitems_next(&items, &it))
        return crisk__fail(err, CRISK_E_FORMAT, "%s.%s: %s than num_nodes = %zu elements", path,
                           key, i != n ? "fewer" : "more", n);
    return 0;
}

/* Scratch arrays for one tree's columns, sized for the largest tree. */
typedef struct tree_columns {
    int32_t *left, *right, *split_index;
    float *split_cond, *hess;
    uint8_t *default_left, *split_type;
} tree_columns;

/* Fills the category bitsets of one tree's categorical nodes from categories,
 * categories_nodes, categories_segments and categories_sizes. */
/* Returns the number of items of array member `key` of `tree`, or SIZE_MAX when it has
 * no such array. */
static size_t array_size(const crisk__jvalue *tree, const char *key)
{
    crisk__jvalue v;
    return crisk__jvalue_member(tree, key, &v) && crisk__jvalue_type(&v) == CRISK__J_ARRAY
               ? crisk__jvalue_count(&v) : SIZE_MAX;
}

static int read_categories(crisk_model *m, const crisk__jvalue *tree, const char *path,
                           crisk__node *nodes, size_t num_nodes, const uint8_t *split_type,
                           const crisk_load_limits *limits, crisk_error *err)
{
    size_t ncat_nodes = array_size(tree, "categories_nodes");
    if (ncat_nodes == SIZE_MAX)
        ncat_nodes = 0;
    size_t want = 0;
    for (size_t i = 0; i < num_nodes; i++)
        want += split_type[i] != 0 && nodes[i].left != -1;
    if (ncat_nodes != want)
        return crisk__fail(err, CRISK_E_FORMAT,
                           "%s.categories_nodes: %zu entries for %zu categorical splits", path,
                           ncat_nodes, want);
    if (want == 0)
        return 0;
    size_t ncats = array_size(tree, "categories");
    if (ncats == SIZE_MAX || array_size(tree, "categories_segments") != want
        || array_size(tree, "categories_sizes") != want)
        return crisk__fail(err, CRISK_E_FORMAT,
                           "%s: categories, categories_segments and categories_sizes must be "
                           "arrays with one entry per categorical split", path);
    int32_t *catv = malloc((ncats ? ncats : 1) * sizeof *catv);
    int32_t *meta = malloc(3 * want * sizeof *meta);
    int rc = (catv && meta) ? 0 : crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = read_array(tree, path, "categories", ncats, ELEM_I32, catv, err);
    if (rc == 0)
        rc = read_array(tree, path, "categories_nodes", want, ELEM_I32, meta, err);
    if (rc == 0)
        rc = read_array(tree, path, "categories_segments", want, ELEM_I32, meta + want, err);
    if (rc == 0)
        rc = read_array(tree, path, "categories_sizes", want, ELEM_I32, meta + 2 * want, err);
    size_t max_cat = limits->max_category < XGB_MAX_CATEGORY ? limits->max_category
                                                             : XGB_MAX_CATEGORY;
    for (size_t k = 0; rc == 0 && k < want; k++) {
        int32_t nid = meta[k], seg = meta[want + k], size = meta[2 * want + k];
        if (nid < 0 || (size_t)nid >= num_nodes || !split_type[nid] || nodes[nid].left == -1 ||
            nodes[nid].categorical) {
            rc = crisk__fail(err, CRISK_E_FORMAT,
                             "%s.categories_nodes[%zu]: node %d is not a categorical split "
                             "listed once", path, k, (int)nid);
            break;
        }
        if (seg < 0 || size < 0 || (size_t)seg + (size_t)size > ncats) {
            rc = crisk__fail(err, CRISK_E_FORMAT,
                             "%s.categories_segments[%zu]: [%d, +%d) outside the %zu categories",
                             path, k, (int)seg, (int)size, ncats);
            break;
        }
        int32_t top = -1;
        for (int32_t c = 0; c < size; c++) {
            int32_t v = catv[seg + c];
            if (v < 0 || (size_t)v >= max_cat) {
                rc = crisk__fail(err, v < 0 ? CRISK_E_FORMAT : CRISK_E_LIMIT,
                                 "%s.categories[%d]: category %d outside [0, %zu)", path,
                                 (int)(seg + c), (int)v, max_cat);
                break;
            }
            if (v > top)
                top = v;
        }
        if (rc)
            break;
        size_t words = (size_t)(top + 1 + 31) / 32;
        uint32_t *grown = realloc(m->cat_words, (m->num_cat_words + words + 1) * sizeof *grown);
        if (!grown) {
            rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for category bitsets");
            break;
        }
        m->cat_words = grown;
        memset(grown + m->num_cat_words, 0, words * sizeof *grown);
        for (int32_t c = 0; c < size; c++) {
            uint32_t v = (uint32_t)catv[seg + c];
            grown[m->num_cat_words + v / 32] |= 1u << (v % 32);
        }
        crisk__node *n = &nodes[nid];
        n->categorical = 1;
        n->cat_in_left = 0; /* XGBoost: the listed categories go right */
        n->cat_begin = (uint32_t)m->num_cat_words;
        n->cat_nwords = (uint32_t)words;
        m->num_cat_words += words;
    }
    free(catv);
    free(meta);
    return rc;
}

/* Reads tree `t` (JSON object `tree`, `n` nodes) into m->nodes starting at `first`. */
static int read_tree(crisk_model *m, const crisk__jvalue *tree, size_t t, size_t n, size_t first,
                     tree_columns *c, const crisk_load_limits *limits, crisk_error *err)
{
    char path[160];
    snprintf(path, sizeof path, "learner.gradient_booster.model.trees[%zu]", t);
    int rc = read_array(tree, path, "left_children", n, ELEM_I32, c->left, err);
    if (rc == 0)
        rc = read_array(tree, path, "right_children", n, ELEM_I32, c->right, err);
    if (rc == 0)
        rc = read_array(tree, path, "split_indices", n, ELEM_I32, c->split_index, err);
    if (rc == 0)
        rc = read_array(tree, path, "split_conditions", n, ELEM_F32, c->split_cond, err);
    if (rc == 0)
        rc = read_array(tree, path, "default_left", n, ELEM_U8, c->default_left, err);
    if (rc == 0)
        rc = read_array(tree, path, "sum_hessian", n, ELEM_F32, c->hess, err);
    if (rc)
        return rc;
    /* split_type appeared with categorical support (1.6); older files are all numerical. */
    crisk__jvalue split_type;
    if (crisk__jvalue_member(tree, "split_type", &split_type))
        rc = read_array(tree, path, "split_type", n, ELEM_U8, c->split_type, err);
    else
        memset(c->split_type, 0, n);
    if (rc)
        return rc;
    crisk__node *nodes = m->nodes + first;
    for (size_t i = 0; i < n; i++) {
        crisk__node *node = &nodes[i];
        memset(node, 0, sizeof *node);
        node->left = c->left[i];
        node->right = c->right[i];
        node->cover = c->hess[i];
        if (node->left == -1) {
            node->feature = -1;
            node->value = c->split_cond[i];
        } else {
            /* Checked here, before the 29-bit field could truncate it. */
            if (c->split_index[i] < 0 || (size_t)c->split_index[i] >= m->num_features)
                return crisk__fail(err, CRISK_E_FORMAT, "%s.split_indices[%zu]: feature %d "
                                   "outside [0, %zu)", path, i, (int)c->split_index[i],
                                   m->num_features);
            node->feature = c->split_index[i];
            node->default_left = c->default_left[i];
            node->threshold = c->split_cond[i];
        }
    }
    rc = read_categories(m, tree, path, nodes, n, c->split_type, limits, err);
    m->trees[t].first_node = (uint32_t)first;
    m->trees[t].num_nodes = (uint32_t)n;
    m->trees[t].weight = 1.0;
    return rc;
}

/* Reads tree t's tree_param: its node count, refusing vector-leaf trees by name. */
static int tree_size(const crisk__jvalue *tree, size_t t, size_t *n, crisk_error *err)
{
    char path[160];
    snprintf(path, sizeof path, "learner.gradient_booster.model.trees[%zu]", t);
    if (crisk__jvalue_type(tree) != CRISK__J_OBJECT)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: not an object", path);
    crisk__jvalue param, leaf;
    int rc = jmember(tree, path, "tree_param", JT(OBJECT), &param, err);
    if (rc)
        return rc;
    strncat(path, ".tree_param", sizeof path - strlen(path) - 1);
    size_t leaf_vector = 0;
    if (crisk__jvalue_member(&param, "size_leaf_vector", &leaf)
        && (rc = size_member(&param, path, "size_leaf_vector", &leaf_vector, err)) != 0)
        return rc;
    if (leaf_vector > 1)
        return crisk__fail(err, CRISK_E_UNSUPPORTED,
                           "%s: vector-leaf trees (multi_strategy=\"multi_output_tree\", "
                           "size_leaf_vector = %zu) are not supported", path, leaf_vector);
    return size_member(&param, path, "num_nodes", n, err);
}

/* Reads the trees, tree_info and (for DART) weight_drop of a gbtree model object. */
static int read_gbtree(crisk_model *m, const cJSON *model, const cJSON *weight_drop,
                       const crisk__tree_source *split, const crisk_load_limits *limits,
                       crisk_error *err)
{
    const char *path = "learner.gradient_booster.model";
    const cJSON *param = member(model, path, "gbtree_model_param", JT(OBJECT), err);
    const cJSON *trees = param ? member(model, path, "trees", JT(ARRAY), err) : NULL;
    if (!trees)
        return CRISK_E_FORMAT;
    crisk__tree_source whole = {.array = trees};
    const crisk__tree_source *src = split ? split : &whole;
    size_t num_trees, parallel;
    int rc = size_item(param, "learner.gradient_booster.model.gbtree_model_param",
                       "num_trees", &num_trees, err);
    if (rc == 0)
        rc = size_item(param, "learner.gradient_booster.model.gbtree_model_param",
                       "num_parallel_tree", &parallel, err);
    if (rc)
        return rc;
    if (num_trees > limits->max_trees)
        return crisk__fail(err, CRISK_E_LIMIT, "%s: %zu trees exceed the limit max_trees = %zu",
                           path, num_trees, limits->max_trees);
    size_t count = 0;
    if ((rc = crisk__tree_source_count(src, &count, err)) != 0)
        return rc;
    if (count != num_trees)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.trees: %zu trees, but num_trees = %zu", path,
                           count, num_trees);
    if (parallel == 0)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: num_parallel_tree is 0", path);
    /* First pass: node counts, so that every node lands in one allocation. */
    size_t total = 0, largest = 0, t = 0;
    const crisk__jvalue *tree;
    crisk__tree_iter it;
    rc = crisk__tree_iter_init(&it, src, 1, err);
    while (rc == 0 && (rc = crisk__tree_iter_next(&it, &tree, err)) == 0 && tree) {
        size_t n;
        if ((rc = tree_size(tree, t++, &n, err)) != 0)
            break;
        if (n == 0 || n > limits->max_nodes || total + n > limits->max_nodes) {
            rc = n == 0 ? crisk__fail(err, CRISK_E_FORMAT, "%s.trees[%zu]: no nodes", path,
                                      t - 1)
                        : crisk__fail(err, CRISK_E_LIMIT,
                                      "%s.trees[%zu]: nodes exceed the limit max_nodes = %zu",
                                      path, t - 1, limits->max_nodes);
            break;
        }
        total += n;
        if (n > largest)
            largest = n;
    }
    crisk__tree_iter_done(&it);
    if (rc)
        return rc;
    /* After the pass above, so that a vector-leaf model is refused as such rather than as
     * a malformed count of scalar trees. */
    m->trees_per_iteration = m->num_outputs * parallel;
    if (num_trees % m->trees_per_iteration != 0)
        return crisk__fail(err, CRISK_E_FORMAT,
                           "%s: %zu trees are not whole iterations of %zu outputs x %zu "
                           "parallel trees", path, num_trees, m->num_outputs, parallel);
    m->num_iterations = num_trees / m->trees_per_iteration;
    m->num_trees = num_trees;
    m->num_nodes = total;
    m->trees = calloc(num_trees ? num_trees : 1, sizeof *m->trees);
    m->nodes = calloc(total ? total : 1, sizeof *m->nodes);
    tree_columns c = {
        .left = malloc(largest * sizeof(int32_t) + 1),
        .right = malloc(largest * sizeof(int32_t) + 1),
        .split_index = malloc(largest * sizeof(int32_t) + 1),
        .split_cond = malloc(largest * sizeof(float) + 1),
        .hess = malloc(largest * sizeof(float) + 1),
        .default_left = malloc(largest + 1),
        .split_type = malloc(largest + 1),
    };
    if (!m->trees || !m->nodes || !c.left || !c.right || !c.split_index || !c.split_cond ||
        !c.hess || !c.default_left || !c.split_type)
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu nodes", total);
    size_t first = 0;
    t = 0;
    if (rc == 0)
        rc = crisk__tree_iter_init(&it, src, 0, err);
    while (rc == 0 && (rc = crisk__tree_iter_next(&it, &tree, err)) == 0 && tree) {
        size_t n;
        rc = tree_size(tree, t, &n, err);
        if (rc == 0)
            rc = read_tree(m, tree, t, n, first, &c, limits, err);
        first += n;
        t++;
    }
    crisk__tree_iter_done(&it);
    free(c.left);
    free(c.right);
    free(c.split_index);
    free(c.split_cond);
    free(c.hess);
    free(c.default_left);
    free(c.split_type);
    if (rc)
        return rc;

    /* tree_info: the output group of each tree. */
    int32_t *info = malloc((num_trees ? num_trees : 1) * sizeof *info);
    if (!info)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    crisk__jvalue mv = crisk__jvalue_item(model);
    rc = read_array(&mv, path, "tree_info", num_trees, ELEM_I32, info, err);
    for (size_t i = 0; rc == 0 && i < num_trees; i++) {
        if (info[i] < 0 || (size_t)info[i] >= m->num_outputs)
            rc = crisk__fail(err, CRISK_E_FORMAT, "%s.tree_info[%zu]: group %d outside [0, %zu)",
                             path, i, (int)info[i], m->num_outputs);
        else
            m->trees[i].group = (uint32_t)info[i];
    }
    free(info);
    /* XGBoost 3.1+ stores the category values its codes stand for. */
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(model, "cats");
    if (rc == 0 && cats)
        rc = crisk__xgboost_read_cats(cats, m, err);
    if (rc || !weight_drop)
        return rc;

    /* DART: each tree's leaves are scaled by its weight. */
    if (!cJSON_IsArray(weight_drop) || (size_t)cJSON_GetArraySize(weight_drop) != num_trees)
        return crisk__fail(err, CRISK_E_FORMAT,
                           "learner.gradient_booster.weight_drop: expected %zu numbers",
                           num_trees);
    size_t i = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, weight_drop)
    {
        if (!cJSON_IsNumber(w) || !isfinite(w->valuedouble))
            return crisk__fail(err, CRISK_E_FORMAT,
                               "learner.gradient_booster.weight_drop[%zu]: not a finite number",
                               i);
        m->trees[i++].weight = (float)w->valuedouble;
    }
    return 0;
}

/* Reads a gblinear model: weights laid out [feature][group], then one bias per group. */
static int read_gblinear(crisk_model *m, const cJSON *booster, crisk_error *err)
{
    const char *path = "learner.gradient_booster";
    const cJSON *model = member(booster, path, "model", JT(OBJECT), err);
    if (!model)
        return CRISK_E_FORMAT;
    size_t F = m->num_features, G = m->num_outputs;
    const cJSON *weights = member(model, "learner.gradient_booster.model", "weights",
                                  JT(ARRAY), err);
    if (!weights)
        return CRISK_E_FORMAT;
    size_t n = (F + 1) * G;
    float *all = malloc(n * sizeof *all);
    if (!all)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    crisk__jvalue mv = crisk__jvalue_item(model);
    int rc = read_array(&mv, "learner.gradient_booster.model", "weights", n, ELEM_F32, all, err);
    if (rc) {
        free(all);
        return crisk__fail_prefix(err, rc, "gblinear weights ((num_feature + 1) x groups)");
    }
    /* The first F * G floats are the weights, in the layout linear.c uses. */
    m->weights = malloc(F * G * sizeof *m->weights);
    m->bias = malloc(G * sizeof *m->bias);
    if (!m->weights || !m->bias) {
        free(all);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < F * G; i++)
        m->weights[i] = all[i];
    for (size_t g = 0; g < G; g++)
        m->bias[g] = all[F * G + g];
    free(all);
    return 0;
}

/* Looks up `name` among the supported objectives; refuses any other by name. */
static int find_objective(const cJSON *learner, const struct objective_spec **out,
                          crisk_error *err)
{
    const cJSON *obj = member(learner, "learner", "objective", JT(OBJECT), err);
    const cJSON *name = obj ? member(obj, "learner.objective", "name", JT(STRING), err) : NULL;
    if (!name)
        return CRISK_E_FORMAT;
    for (size_t i = 0; i < sizeof objectives / sizeof objectives[0]; i++)
        if (strcmp(objectives[i].name, name->valuestring) == 0) {
            *out = &objectives[i];
            return 0;
        }
    return crisk__fail(err, CRISK_E_UNSUPPORTED, "learner.objective.name: objective \"%.64s\" is "
                       "not supported", name->valuestring);
}

/* Copies learner.feature_names when the model stores one name per feature. */
static int read_feature_names(crisk_model *m, const cJSON *learner, crisk_error *err)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(learner, "feature_names");
    if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) == 0)
        return 0;
    if ((size_t)cJSON_GetArraySize(names) != m->num_features)
        return crisk__fail(err, CRISK_E_FORMAT,
                           "learner.feature_names: %d names for num_feature = %zu",
                           cJSON_GetArraySize(names), m->num_features);
    m->feature_names = calloc(m->num_features, sizeof *m->feature_names);
    if (!m->feature_names)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, names)
    {
        if (!cJSON_IsString(it))
            return crisk__fail(err, CRISK_E_FORMAT, "learner.feature_names[%zu]: not a string", i);
        m->feature_names[i] = strdup(it->valuestring);
        if (!m->feature_names[i++])
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    }
    return 0;
}

/* Reads learner_model_param: features, outputs, classes and the base margins. */
static int read_model_param(crisk_model *m, const cJSON *learner,
                            const struct objective_spec *obj, const crisk_load_limits *limits,
                            crisk_error *err)
{
    const char *path = "learner.learner_model_param";
    const cJSON *param = member(learner, "learner", "learner_model_param", JT(OBJECT), err);
    if (!param)
        return CRISK_E_FORMAT;
    size_t num_class = 0, num_target = 1;
    int rc = size_item(param, path, "num_feature", &m->num_features, err);
    if (rc == 0)
        rc = size_item(param, path, "num_class", &num_class, err);
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(param, "num_target"))
        rc = size_item(param, path, "num_target", &num_target, err);
    if (rc)
        return rc;
    if (m->num_features > limits->max_features)
        return crisk__fail(err, CRISK_E_LIMIT, "%s.num_feature: %zu exceeds the limit "
                           "max_features = %zu", path, m->num_features, limits->max_features);
    if (obj->classes < 0 && num_class < 2)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.num_class: %s needs at least 2 classes, "
                           "found %zu", path, obj->name, num_class);
    m->num_outputs = num_class > 1 ? num_class : (num_target > 1 ? num_target : 1);
    if (m->num_outputs > limits->max_outputs)
        return crisk__fail(err, CRISK_E_LIMIT, "%s: %zu outputs exceed the limit max_outputs = "
                           "%zu", path, m->num_outputs, limits->max_outputs);
    m->num_classes = obj->classes < 0 ? num_class : (size_t)obj->classes;

    const cJSON *base = member(param, path, "base_score", JT(STRING) | JT(NUMBER), err);
    if (!base)
        return CRISK_E_FORMAT;
    float *values = malloc(m->num_outputs * sizeof *values);
    m->base_margin = calloc(m->num_outputs, sizeof *m->base_margin);
    if (!values || !m->base_margin) {
        free(values);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    }
    size_t n = 1;
    if (cJSON_IsNumber(base))
        values[0] = (float)base->valuedouble;
    else
        rc = parse_float_list("learner.learner_model_param.base_score", base->valuestring,
                              values, m->num_outputs, &n, err);
    if (rc == 0 && n != 1 && n != m->num_outputs)
        rc = crisk__fail(err, CRISK_E_FORMAT, "%s.base_score: %zu values for %zu outputs", path,
                         n, m->num_outputs);
    for (size_t g = 0; rc == 0 && g < m->num_outputs; g++)
        rc = base_to_margin(obj, values[n == 1 ? 0 : g], &m->base_margin[g], err);
    free(values);
    return rc;
}

/* reg:quantileerror has one output per quantile_alpha value: refuses a model whose alphas
 * and outputs disagree, since its outputs could not be told apart. */
static int check_quantile_alphas(const crisk_model *m, const cJSON *learner, crisk_error *err)
{
    const char *path = "learner.objective.quantile_loss_param";
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(learner, "objective");
    const cJSON *param = member(obj, "learner.objective", "quantile_loss_param", JT(OBJECT),
                                err);
    const cJSON *alpha = param ? member(param, path, "quantile_alpha", JT(STRING), err) : NULL;
    if (!alpha)
        return CRISK_E_FORMAT;
    float *values = malloc((m->num_outputs + 1) * sizeof *values);
    if (!values)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    size_t n = 0;
    int rc = parse_float_list("learner.objective.quantile_loss_param.quantile_alpha",
                              alpha->valuestring, values, m->num_outputs + 1, &n, err);
    free(values);
    if (rc == 0 && n != m->num_outputs)
        rc = crisk__fail(err, CRISK_E_FORMAT, "%s.quantile_alpha: %zu values for %zu outputs "
                         "(learner_model_param.num_target)", path, n, m->num_outputs);
    return rc;
}

int crisk__import_xgboost(const cJSON *root, const crisk__tree_source *trees,
                          const crisk_load_limits *limits, crisk_model *m, crisk_error *err)
{
    const cJSON *learner = member(root, "(root)", "learner", JT(OBJECT), err);
    if (!learner)
        return CRISK_E_FORMAT;
    const struct objective_spec *obj = NULL;
    int rc = find_objective(learner, &obj, err);
    if (rc)
        return rc;
    m->family = CRISK__FAMILY_XGBOOST;
    snprintf(m->objective, sizeof m->objective, "%s", obj->name);
    m->transform = obj->transform;
    m->transform_param = 1.0;
    if ((rc = read_model_param(m, learner, obj, limits, err)) != 0)
        return rc;
    if (strcmp(obj->name, "reg:quantileerror") == 0 &&
        (rc = check_quantile_alphas(m, learner, err)) != 0)
        return rc;
    if ((rc = read_feature_names(m, learner, err)) != 0)
        return rc;

    const cJSON *booster = member(learner, "learner", "gradient_booster", JT(OBJECT), err);
    const cJSON *name = booster ? member(booster, "learner.gradient_booster", "name",
                                         JT(STRING), err)
                                : NULL;
    if (!name)
        return CRISK_E_FORMAT;
    snprintf(m->booster, sizeof m->booster, "%s", name->valuestring);
    if (strcmp(name->valuestring, "gblinear") == 0) {
        /* gblinear adds base_score[0] to every group. */
        for (size_t g = 1; g < m->num_outputs; g++)
            m->base_margin[g] = m->base_margin[0];
        return read_gblinear(m, booster, err);
    }
    if (strcmp(name->valuestring, "gbtree") == 0) {
        const cJSON *model = member(booster, "learner.gradient_booster", "model",
                                    JT(OBJECT), err);
        /* XGBoost 3.3+ keeps DART's weights in gbtree's model as weight_drop. */
        return model ? read_gbtree(m, model,
                                   cJSON_GetObjectItemCaseSensitive(model, "weight_drop"),
                                   trees, limits, err)
                     : CRISK_E_FORMAT;
    }
    if (strcmp(name->valuestring, "dart") == 0) {
        const cJSON *inner = member(booster, "learner.gradient_booster", "gbtree",
                                    JT(OBJECT), err);
        const cJSON *model = inner ? member(inner, "learner.gradient_booster.gbtree", "model",
                                            JT(OBJECT), err)
                                   : NULL;
        const cJSON *wd = model ? member(booster, "learner.gradient_booster", "weight_drop",
                                         JT(ARRAY), err)
                                : NULL;
        return wd ? read_gbtree(m, model, wd, trees, limits, err) : CRISK_E_FORMAT;
    }
    return crisk__fail(err, CRISK_E_UNSUPPORTED,
                       "learner.gradient_booster.name: booster \"%.32s\" is not supported",
                       name->valuestring);
}
