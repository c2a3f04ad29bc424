/*
 * bench/large_model.c — the model of crisk-bench's load row: an XGBoost 1.7 JSON document of
 * full random trees, written directly (training a model of millions of nodes would take
 * far longer than loading it, which is what the row measures).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing text buffer. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

/* Appends `n` bytes to `t`, doubling its capacity as needed. */
static void put(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s)
            die("out of memory", NULL);
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

/* Appends a NUL-terminated string. */
static void puts_t(text *t, const char *s)
{
    put(t, s, strlen(s));
}

/* Returns the next value of a splitmix64 sequence. */
static unsigned long long next(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Returns a uniform float in [lo, hi) on a 1/1024 grid (exact in float and in its text). */
static float draw(unsigned long long *state, float lo, float hi)
{
    return lo + (hi - lo) * (float)(next(state) % 1024) / 1024.0f;
}

/* The node fields of one tree, filled before it is written. */
typedef struct tree_arrays {
    size_t n;             /* nodes: 2^(depth+1) - 1, breadth first */
    size_t internal;      /* the first `internal` nodes split */
    float *cond;          /* threshold of a split, value of a leaf */
    int *feature, *left_default;
} tree_arrays;

/* Appends `"name":[...]` with each node's value given by `f`. */
static void put_ints(text *t, const char *name, const tree_arrays *a,
                     long (*f)(const tree_arrays *, size_t))
{
    char buf[32];
    snprintf(buf, sizeof buf, "\"%s\":[", name);
    puts_t(t, buf);
    for (size_t i = 0; i < a->n; i++) {
        int k = snprintf(buf, sizeof buf, "%s%ld", i ? "," : "", f(a, i));
        put(t, buf, (size_t)k);
    }
    puts_t(t, "],");
}

static long left_of(const tree_arrays *a, size_t i)
{
    return i < a->internal ? (long)(2 * i + 1) : -1;
}

static long right_of(const tree_arrays *a, size_t i)
{
    return i < a->internal ? (long)(2 * i + 2) : -1;
}

static long parent_of(const tree_arrays *a, size_t i)
{
    (void)a;
    return i == 0 ? 2147483647L : (long)((i - 1) / 2);
}

static long feature_of(const tree_arrays *a, size_t i)
{
    return i < a->internal ? a->feature[i] : 0;
}

static long default_of(const tree_arrays *a, size_t i)
{
    return i < a->internal ? a->left_default[i] : 0;
}

static long zero(const tree_arrays *a, size_t i)
{
    (void)a, (void)i;
    return 0;
}

/* Appends `"name":[...]` of each node's cond (as float text), or 1.0 when `ones`. */
static void put_floats(text *t, const char *name, const tree_arrays *a, int ones)
{
    char buf[40];
    snprintf(buf, sizeof buf, "\"%s\":[", name);
    puts_t(t, buf);
    for (size_t i = 0; i < a->n; i++) {
        int k = ones ? snprintf(buf, sizeof buf, "%s1.0", i ? "," : "")
                     : snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", (double)a->cond[i]);
        /* libxgboost reads "2" as an integer and refuses it where it wants a number. */
        if (!strpbrk(buf, ".e"))
            k += snprintf(buf + k, sizeof buf - (size_t)k, ".0");
        put(t, buf, (size_t)k);
    }
    puts_t(t, "],");
}

/* Appends tree `id` drawn into `a`. */
static void put_tree(text *t, size_t id, tree_arrays *a, size_t features,
                     unsigned long long *state)
{
    for (size_t i = 0; i < a->n; i++) {
        int split = i < a->internal;
        a->cond[i] = split ? draw(state, -2.0f, 2.0f) : draw(state, -0.05f, 0.05f);
        a->feature[i] = split ? (int)(next(state) % features) : 0;
        a->left_default[i] = split ? (int)(next(state) & 1) : 0;
    }
    char buf[160];
    snprintf(buf, sizeof buf, "%s{\"id\":%zu,", id ? "," : "", id);
    puts_t(t, buf);
    put_floats(t, "base_weights", a, 0);
    puts_t(t, "\"categories\":[],\"categories_nodes\":[],\"categories_segments\":[],"
              "\"categories_sizes\":[],");
    put_ints(t, "default_left", a, default_of);
    put_ints(t, "left_children", a, left_of);
    put_floats(t, "loss_changes", a, 1);
    put_ints(t, "parents", a, parent_of);
    put_ints(t, "right_children", a, right_of);
    put_floats(t, "split_conditions", a, 0);
    put_ints(t, "split_indices", a, feature_of);
    put_ints(t, "split_type", a, zero);
    put_floats(t, "sum_hessian", a, 1);
    snprintf(buf, sizeof buf, "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"%zu\","
             "\"num_nodes\":\"%zu\",\"size_leaf_vector\":\"0\"}}", features, a->n);
    puts_t(t, buf);
}

char *large_model_json(size_t trees, int depth, size_t features, unsigned long long seed,
                       size_t *len)
{
    tree_arrays a = {.n = ((size_t)2 << depth) - 1, .internal = ((size_t)1 << depth) - 1};
    a.cond = malloc(a.n * sizeof *a.cond);
    a.feature = malloc(a.n * sizeof *a.feature);
    a.left_default = malloc(a.n * sizeof *a.left_default);
    if (!a.cond || !a.feature || !a.left_default)
        die("out of memory", NULL);
    text t = {0};
    char buf[256];
    snprintf(buf, sizeof buf, "{\"learner\":{\"attributes\":{},\"feature_names\":[],"
             "\"feature_types\":[],\"gradient_booster\":{\"model\":{\"gbtree_model_param\":"
             "{\"num_parallel_tree\":\"1\",\"num_trees\":\"%zu\",\"size_leaf_vector\":\"0\"},"
             "\"tree_info\":[", trees);
    puts_t(&t, buf);
    for (size_t i = 0; i < trees; i++)
        puts_t(&t, i ? ",0" : "0");
    puts_t(&t, "],\"trees\":[");
    for (size_t i = 0; i < trees; i++)
        put_tree(&t, i, &a, features, &seed);
    snprintf(buf, sizeof buf, "]},\"name\":\"gbtree\"},\"learner_model_param\":{\"base_score\":"
             "\"5E-1\",\"boost_from_average\":\"1\",\"num_class\":\"0\",\"num_feature\":"
             "\"%zu\",\"num_target\":\"1\"},\"objective\":{\"name\":\"binary:logistic\","
             "\"reg_loss_param\":{\"scale_pos_weight\":\"1\"}}},\"version\":[1,7,4]}", features);
    puts_t(&t, buf);
    free(a.cond);
    free(a.feature);
    free(a.left_default);
    *len = t.len;
    return t.s;
}
