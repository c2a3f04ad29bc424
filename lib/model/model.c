/*
 * model/model.c — the canonical model: allocation, validation of what an importer built,
 * accessors, the memory it holds, and freeing it.
 */
#include "model/model.h"

#include "common/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

crisk_model *crisk__model_new(void)
{
    return calloc(1, sizeof(crisk_model));
}

/* Frees the canonical model and every array it owns (not its compiled engine, which
 * crisk_model_free frees first); NULL is a no-op. */
void crisk__model_release(crisk_model *model)
{
    if (!model)
        return;
    if (model->feature_names) {
        for (size_t i = 0; i < model->num_features; i++)
            free(model->feature_names[i]);
        free(model->feature_names);
    }
    for (size_t f = 0; model->categories && f < model->num_features; f++)
        crisk__categories_clear(&model->categories[f]);
    free(model->categories);
    free(model->base_margin);
    free(model->trees);
    free(model->nodes);
    free(model->cat_words);
    free(model->linear);
    free(model->lin_feature);
    free(model->lin_coeff);
    free(model->fixup);
    free(model->weights);
    free(model->bias);
    free(model->mean);
    free(model->scale);
    free(model);
}

/* Returns the number of features a row must have; 0 for a NULL model. */
size_t crisk_model_num_features(const crisk_model *model)
{
    return model ? model->num_features : 0;
}

/* Returns the number of outputs per row; 0 for a NULL model. */
size_t crisk_model_num_outputs(const crisk_model *model)
{
    if (!model)
        return 0;
    return model->transform == CRISK__TF_XGB_SOFTMAX ? 1 : model->num_outputs;
}

/* Returns the number of margins per row; 0 for a NULL model. */
size_t crisk_model_num_margins(const crisk_model *model)
{
    return model ? model->num_outputs : 0;
}

/* Returns the stored name of feature `index`, or NULL. */
const char *crisk_model_feature_name(const crisk_model *model, size_t index)
{
    if (!model || !model->feature_names || index >= model->num_features)
        return NULL;
    return model->feature_names[index];
}

int crisk__model_categories_new(crisk_model *m, crisk_error *err)
{
    m->categories = calloc(m->num_features ? m->num_features : 1, sizeof *m->categories);
    return m->categories ? 0 : crisk__fail(err, CRISK_E_NOMEM, "out of memory for categories");
}

/* Returns feature `feature`'s stored category values, or NULL when it stores none. */
static const crisk__categories *categories_of(const crisk_model *model, size_t feature)
{
    if (!model || !model->categories || feature >= model->num_features ||
        model->categories[feature].count == 0)
        return NULL;
    return &model->categories[feature];
}

size_t crisk_model_num_categories(const crisk_model *model, size_t feature)
{
    const crisk__categories *c = categories_of(model, feature);
    return c ? c->count : 0;
}

int crisk_model_categories_numeric(const crisk_model *model, size_t feature)
{
    const crisk__categories *c = categories_of(model, feature);
    return c ? c->numeric : 0;
}

const char *crisk_model_category(const crisk_model *model, size_t feature, size_t code)
{
    const crisk__categories *c = categories_of(model, feature);
    return c && code < c->count ? c->text[code] : NULL;
}

int crisk_model_category_code(const crisk_model *model, size_t feature, const char *value,
                              size_t length, float *code, crisk_error *err)
{
    if (!model || !code || (!value && length > 0))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "crisk_model_category_code: NULL argument");
    const crisk__categories *c = categories_of(model, feature);
    if (!c)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "feature %zu stores no category "
                           "values (the model has %zu features)", feature,
                           model->num_features);
    uint32_t k;
    if (crisk__categories_find(c, value ? value : "", length, &k)) {
        *code = (float)k;
        return 0;
    }
    if (model->unseen_category == CRISK__UNSEEN_MISSING) {
        *code = NAN;
        return 0;
    }
    const char *name = crisk_model_feature_name(model, feature);
    return crisk__fail(err, CRISK_E_INPUT, "feature %zu (\"%s\"): category \"%.*s\" is not "
                       "one of the %zu the model was trained on", feature, name ? name : "",
                       (int)(length > 64 ? 64 : length), value ? value : "", c->count);
}

/* Checks and indexes every feature's stored category values. */
static int validate_categories(crisk_model *m, const crisk_load_limits *limits,
                               crisk_error *err)
{
    for (size_t f = 0; m->categories && f < m->num_features; f++) {
        if (m->categories[f].count == 0)
            continue;
        char what[96];
        const char *name = crisk_model_feature_name(m, f);
        snprintf(what, sizeof what, "feature %zu (\"%.48s\")", f, name ? name : "");
        int rc = crisk__categories_index(&m->categories[f], limits->max_category, what, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Returns the bytes held by the canonical model's arrays, as counted for crisk_model_info
 * (its compiled engine aside). */
size_t crisk__model_memory(const crisk_model *m)
{
    size_t bytes = sizeof *m;
    if (m->feature_names) {
        bytes += m->num_features * sizeof(char *);
        for (size_t i = 0; i < m->num_features; i++)
            bytes += strlen(m->feature_names[i]) + 1;
    }
    for (size_t f = 0; m->categories && f < m->num_features; f++)
        bytes += sizeof *m->categories + crisk__categories_memory(&m->categories[f]);
    bytes += m->num_outputs * sizeof(double);
    bytes += m->num_trees * sizeof(crisk__tree);
    bytes += m->num_nodes * sizeof(crisk__node);
    bytes += m->num_cat_words * sizeof(uint32_t);
    if (m->linear)
        bytes += m->num_nodes * sizeof(crisk__linear_leaf);
    bytes += m->num_linear_terms * (sizeof(int32_t) + sizeof(double));
    if (m->fixup)
        bytes += m->num_features;
    if (m->weights)
        bytes += m->num_features * m->num_outputs * sizeof(double);
    if (m->bias)
        bytes += m->num_outputs * sizeof(double);
    if (m->mean)
        bytes += m->num_features * sizeof(float);
    if (m->scale)
        bytes += m->num_features * sizeof(float);
    return bytes;
}

/* Checks one split node's own fields (not its children). Returns 0 or an error code. */
static int validate_split(const crisk_model *m, size_t t, size_t i, const crisk__node *n,
                          const crisk_load_limits *limits, crisk_error *err)
{
    if (n->feature < 0 || (size_t)n->feature >= m->num_features)
        return crisk__fail(err, CRISK_E_FORMAT,
                           "tree %zu node %zu: split feature %d outside [0, %zu)", t, i,
                           (int)n->feature, m->num_features);
    if (n->categorical) {
        if ((size_t)n->cat_begin + n->cat_nwords > m->num_cat_words)
            return crisk__fail(err, CRISK_E_FORMAT,
                               "tree %zu node %zu: category bitset [%u, +%u) beyond the %zu "
                               "stored words", t, i, n->cat_begin, n->cat_nwords,
                               m->num_cat_words);
        if ((size_t)n->cat_nwords * 32 > limits->max_category + 31)
            return crisk__fail(err, CRISK_E_LIMIT,
                               "tree %zu node %zu: categories up to %zu exceed the limit "
                               "max_category = %zu", t, i, (size_t)n->cat_nwords * 32,
                               limits->max_category);
    } else if (isnan(n->threshold)) {
        return crisk__fail(err, CRISK_E_FORMAT, "tree %zu node %zu: threshold is NaN", t, i);
    }
    return 0;
}

/* Checks a leaf's value and linear terms. Returns 0 or an error code. */
static int validate_leaf(const crisk_model *m, size_t t, size_t i, const crisk__node *n,
                         crisk_error *err)
{
    if (n->right != -1)
        return crisk__fail(err, CRISK_E_FORMAT,
                           "tree %zu node %zu: a leaf (left child -1) has right child %d", t,
                           i, (int)n->right);
    if (!isfinite(n->value))
        return crisk__fail(err, CRISK_E_FORMAT, "tree %zu node %zu: leaf value is not finite",
                           t, i);
    const crisk__linear_leaf *lin = m->linear ? &m->linear[n - m->nodes] : NULL;
    if (lin && (size_t)lin->begin + lin->count > m->num_linear_terms)
        return crisk__fail(err, CRISK_E_FORMAT,
                           "tree %zu node %zu: linear terms beyond the %zu stored", t, i,
                           m->num_linear_terms);
    for (uint32_t k = 0; lin && k < lin->count; k++) {
        int32_t f = m->lin_feature[lin->begin + k];
        if (f < 0 || (size_t)f >= m->num_features)
            return crisk__fail(err, CRISK_E_FORMAT,
                               "tree %zu node %zu: linear term feature %d outside [0, %zu)", t,
                               i, (int)f, m->num_features);
    }
    return 0;
}

/* Walks tree `t` from its root without recursion, checking every reachable node, that no
 * node is reached twice (which catches cycles and shared subtrees), and the depth.
 * `seen` and `stack` are scratch arrays of at least the tree's node count. */
static int validate_tree(crisk_model *m, size_t t, const crisk_load_limits *limits,
                         uint8_t *seen, uint32_t *stack, uint32_t *depth_of,
                         crisk_error *err)
{
    crisk__tree *tree = &m->trees[t];
    const crisk__node *nodes = m->nodes + tree->first_node;
    size_t n = tree->num_nodes, top = 0;
    uint32_t max_depth = 0;
    if (n == 0)
        return crisk__fail(err, CRISK_E_FORMAT, "tree %zu has no nodes", t);
    if (tree->group >= m->num_outputs)
        return crisk__fail(err, CRISK_E_FORMAT, "tree %zu: output group %u outside [0, %zu)",
                           t, tree->group, m->num_outputs);
    if (!isfinite(tree->weight))
        return crisk__fail(err, CRISK_E_FORMAT, "tree %zu: weight is not finite", t);
    memset(seen, 0, n);
    seen[0] = 1;
    depth_of[0] = 0;
    stack[top++] = 0;
    while (top > 0) {
        uint32_t i = stack[--top];
        const crisk__node *node = &nodes[i];
        if (depth_of[i] > max_depth)
            max_depth = depth_of[i];
        if (max_depth > limits->max_depth)
            return crisk__fail(err, CRISK_E_LIMIT,
                               "tree %zu: depth exceeds the limit max_depth = %zu", t,
                               limits->max_depth);
        int rc = node->left == -1 ? validate_leaf(m, t, i, node, err)
                                  : validate_split(m, t, i, node, limits, err);
        if (rc)
            return rc;
        if (node->left == -1)
            continue;
        int32_t kids[2] = {node->left, node->right};
        for (int k = 0; k < 2; k++) {
            if (kids[k] < 0 || (size_t)kids[k] >= n)
                return crisk__fail(err, CRISK_E_FORMAT,
                                   "tree %zu node %u: %s child %d outside [0, %zu)", t, i,
                                   k ? "right" : "left", (int)kids[k], n);
            if (seen[kids[k]])
                return crisk__fail(err, CRISK_E_FORMAT,
                                   "tree %zu node %u: %s child %d is reached twice (a cycle "
                                   "or a shared subtree)", t, i, k ? "right" : "left",
                                   (int)kids[k]);
            seen[kids[k]] = 1;
            depth_of[kids[k]] = depth_of[i] + 1;
            stack[top++] = (uint32_t)kids[k];
        }
    }
    tree->depth = max_depth;
    return 0;
}

int crisk__model_validate(crisk_model *m, const crisk_load_limits *limits, crisk_error *err)
{
    if (m->num_features > limits->max_features)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu features exceed the limit max_features = %zu",
                           m->num_features, limits->max_features);
    if (m->num_trees > 0 && m->num_features > CRISK__NODE_MAX_FEATURES)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu features exceed the %zu a tree model can "
                           "index", m->num_features, CRISK__NODE_MAX_FEATURES);
    if (m->num_outputs == 0)
        return crisk__fail(err, CRISK_E_FORMAT, "the model has no outputs");
    if (m->num_outputs > limits->max_outputs)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu outputs exceed the limit max_outputs = %zu",
                           m->num_outputs, limits->max_outputs);
    if (m->num_trees > limits->max_trees)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu trees exceed the limit max_trees = %zu",
                           m->num_trees, limits->max_trees);
    if (m->num_nodes > limits->max_nodes)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu nodes exceed the limit max_nodes = %zu",
                           m->num_nodes, limits->max_nodes);
    int rc = validate_categories(m, limits, err);
    if (rc)
        return rc;
    size_t largest = 0;
    for (size_t t = 0; t < m->num_trees; t++) {
        const crisk__tree *tree = &m->trees[t];
        if ((size_t)tree->first_node + tree->num_nodes > m->num_nodes)
            return crisk__fail(err, CRISK_E_FORMAT, "tree %zu: nodes beyond the %zu stored", t,
                               m->num_nodes);
        if (tree->num_nodes > largest)
            largest = tree->num_nodes;
    }
    if (m->num_trees == 0)
        return 0;
    uint8_t *seen = malloc(largest);
    uint32_t *stack = malloc(largest * sizeof *stack);
    uint32_t *depth_of = malloc(largest * sizeof *depth_of);
    rc = (seen && stack && depth_of) ? 0 : crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    for (size_t t = 0; rc == 0 && t < m->num_trees; t++)
        rc = validate_tree(m, t, limits, seen, stack, depth_of, err);
    free(seen);
    free(stack);
    free(depth_of);
    return rc;
}
