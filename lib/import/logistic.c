/*
 * import/logistic.c — crisk's logistic JSON format (docs/logistic-format.md): binary,
 * multinomial and one-vs-rest logistic regression, with optional standardisation that is
 * folded into the weights at load time.
 */
#include "common/error.h"
#include "import/import.h"
#include "common/jsonfile.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The only version of the format this reader knows. */
#define LOGISTIC_FORMAT_VERSION 1

/* The top-level keys of the format; anything else is refused, so that a misspelt
 * "standardise" cannot silently drop the scaling. */
static const char *const top_keys[] = {"format", "version", "feature_names", "classes",
                                       "multi_class", "coef", "intercept", "standardize"};
#define NUM_TOP_KEYS (sizeof top_keys / sizeof top_keys[0])

/* The keys of the "standardize" object. */
static const char *const standardize_keys[] = {"mean", "scale"};

/* Stores member `key` of `obj` in `*out` after checking it is an array (at path `path`).
 * A missing member is an error when `required`, else leaves `*out` NULL. Returns 0 or
 * CRISK_E_FORMAT. */
static int get_array(const cJSON *obj, const char *key, const char *path, int required,
                     const cJSON **out, crisk_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!item) {
        if (required)
            return crisk__fail(err, CRISK_E_FORMAT, "%s: missing (an array is required)", path);
        return 0;
    }
    if (!cJSON_IsArray(item))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an array, got %s", path,
                           crisk__json_type_name(item));
    *out = item;
    return 0;
}

/* Reads array `arr` (at path `path`) of exactly `n` finite numbers that fit a float into
 * `out`. Returns 0 or CRISK_E_FORMAT naming the element. */
static int read_numbers(const cJSON *arr, const char *path, size_t n, double *out,
                        crisk_error *err)
{
    size_t have = crisk__json_array_size(arr);
    if (have != n)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: %zu values, expected %zu", path, have, n);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsNumber(it))
            return crisk__fail(err, CRISK_E_FORMAT, "%s[%zu]: expected a number, got %s", path,
                               i, crisk__json_type_name(it));
        double v = it->valuedouble;
        /* Values are stored as float: one beyond FLT_MAX would become infinite. */
        if (!isfinite(v) || fabs(v) > FLT_MAX)
            return crisk__fail(err, CRISK_E_FORMAT, "%s[%zu]: not a finite number in float "
                               "range", path, i);
        out[i++] = v;
    }
    return 0;
}

/* Compares two C strings through pointers to them, for qsort. */
static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads "feature_names" (already bounded by the limits) into m->feature_names and
 * m->num_features, refusing names that are not non-empty strings and duplicates (rows are
 * matched to features by name). Returns 0 or an error code. */
static int read_feature_names(const cJSON *arr, size_t n, crisk_model *m, crisk_error *err)
{
    m->feature_names = calloc(n, sizeof *m->feature_names);
    const char **sorted = malloc(n * sizeof *sorted);
    if (!m->feature_names || !sorted) {
        free(sorted);
        return crisk__fail(err, CRISK_E_NOMEM, "feature_names: out of memory for %zu names", n);
    }
    m->num_features = n; /* set now so that crisk_model_free frees what was copied */
    size_t i = 0;
    const cJSON *it;
    int rc = 0;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it)) {
            rc = crisk__fail(err, CRISK_E_FORMAT, "feature_names[%zu]: expected a string, got "
                             "%s", i, crisk__json_type_name(it));
            break;
        }
        if (it->valuestring[0] == '\0') {
            rc = crisk__fail(err, CRISK_E_FORMAT, "feature_names[%zu]: empty name", i);
            break;
        }
        m->feature_names[i] = strdup(it->valuestring);
        if (!m->feature_names[i]) {
            rc = crisk__fail(err, CRISK_E_NOMEM, "feature_names[%zu]: out of memory", i);
            break;
        }
        sorted[i] = m->feature_names[i];
        i++;
    }
    if (rc == 0) {
        qsort(sorted, n, sizeof *sorted, compare_names);
        for (size_t k = 1; k < n && rc == 0; k++)
            if (strcmp(sorted[k - 1], sorted[k]) == 0)
                rc = crisk__fail(err, CRISK_E_FORMAT, "feature_names: \"%s\" appears twice",
                                 sorted[k]);
    }
    free(sorted);
    return rc;
}

/* Checks "classes": at least two labels, each a string or a finite number, at most
 * max_outputs of them. Stores their count in `*num_classes`. Returns 0 or an error code. */
static int read_classes(const cJSON *arr, const crisk_load_limits *limits,
                        size_t *num_classes, crisk_error *err)
{
    size_t n = crisk__json_array_size(arr);
    if (n < 2)
        return crisk__fail(err, CRISK_E_FORMAT, "classes: %zu labels; a classifier has at "
                           "least 2", n);
    if (n > limits->max_outputs)
        return crisk__fail(err, CRISK_E_LIMIT, "classes: %zu labels exceed the limit "
                           "max_outputs = %zu", n, limits->max_outputs);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it) && !(cJSON_IsNumber(it) && isfinite(it->valuedouble)))
            return crisk__fail(err, CRISK_E_FORMAT, "classes[%zu]: expected a string or a "
                               "finite number, got %s", i, crisk__json_type_name(it));
        i++;
    }
    *num_classes = n;
    return 0;
}

/* How margins become probabilities, as "multi_class" names it. */
typedef struct logistic_kind {
    const char *name;          /* value of "multi_class" */
    const char *objective;     /* crisk_model_info.objective */
    crisk__transform transform;
    int binary;                /* 1: exactly 2 classes and one coefficient row */
} logistic_kind;

static const logistic_kind kinds[] = {
    {"binary", "binary:logistic", CRISK__TF_SIGMOID, 1},
    {"multinomial", "multi:multinomial", CRISK__TF_SOFTMAX, 0},
    {"ovr", "multi:ovr", CRISK__TF_SIGMOID_OVR_NORM, 0},
};

/* Reads "multi_class", checks it against the number of classes, and sets the model's
 * objective, transform and output count. Returns 0 or CRISK_E_FORMAT. */
static int read_multi_class(const cJSON *root, size_t num_classes, crisk_model *m,
                            crisk_error *err)
{
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(root, "multi_class");
    if (!mc)
        return crisk__fail(err, CRISK_E_FORMAT, "multi_class: missing (\"binary\", "
                           "\"multinomial\" or \"ovr\")");
    if (!cJSON_IsString(mc))
        return crisk__fail(err, CRISK_E_FORMAT, "multi_class: expected a string, got %s",
                           crisk__json_type_name(mc));
    const logistic_kind *kind = NULL;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(mc->valuestring, kinds[k].name) == 0)
            kind = &kinds[k];
    if (!kind)
        return crisk__fail(err, CRISK_E_FORMAT, "multi_class: \"%.64s\" is not \"binary\", "
                           "\"multinomial\" or \"ovr\"", mc->valuestring);
    if (kind->binary != (num_classes == 2))
        return crisk__fail(err, CRISK_E_FORMAT, "multi_class: \"%s\" does not fit %zu classes "
                           "(\"binary\" is for exactly 2, \"multinomial\" and \"ovr\" for 3 "
                           "or more)", kind->name, num_classes);
    snprintf(m->objective, sizeof m->objective, "%s", kind->objective);
    m->transform = kind->transform;
    m->transform_param = 1.0;
    m->num_classes = num_classes;
    m->num_outputs = kind->binary ? 1 : num_classes;
    return 0;
}

/* Checks "format" and "version". Returns 0, CRISK_E_FORMAT, or CRISK_E_UNSUPPORTED for a
 * version newer than this reader. */
static int check_header(const cJSON *root, crisk_error *err)
{
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(format) || strcmp(format->valuestring, "crisk-logistic") != 0)
        return crisk__fail(err, CRISK_E_FORMAT, "format: expected \"crisk-logistic\"");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!version)
        return crisk__fail(err, CRISK_E_FORMAT, "version: missing (a positive integer)");
    if (!cJSON_IsNumber(version))
        return crisk__fail(err, CRISK_E_FORMAT, "version: expected a number, got %s",
                           crisk__json_type_name(version));
    double v = version->valuedouble;
    if (!(v >= 1 && v <= INT32_MAX) || v != floor(v))
        return crisk__fail(err, CRISK_E_FORMAT, "version: %g is not a positive integer", v);
    if (v != LOGISTIC_FORMAT_VERSION)
        return crisk__fail(err, CRISK_E_UNSUPPORTED, "version: %d is newer than this crisk "
                           "reads (version %d)", (int)v, LOGISTIC_FORMAT_VERSION);
    return 0;
}

/* Reads the optional "standardize" object into `mean` and `scale` (F values each; left
 * as 0 and 1 when absent) and sets `*present`. Returns 0 or CRISK_E_FORMAT. */
static int read_standardize(const cJSON *root, size_t F, double *mean, double *scale,
                            int *present, crisk_error *err)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "standardize");
    *present = st != NULL;
    for (size_t f = 0; f < F; f++) {
        mean[f] = 0.0;
        scale[f] = 1.0;
    }
    if (!st)
        return 0;
    if (!cJSON_IsObject(st))
        return crisk__fail(err, CRISK_E_FORMAT, "standardize: expected an object, got %s",
                           crisk__json_type_name(st));
    int rc = crisk__json_check_path_keys(st, "standardize", standardize_keys, 2, err);
    const cJSON *arr = NULL;
    if (rc == 0)
        rc = get_array(st, "mean", "standardize.mean", 1, &arr, err);
    if (rc == 0)
        rc = read_numbers(arr, "standardize.mean", F, mean, err);
    if (rc == 0)
        rc = get_array(st, "scale", "standardize.scale", 1, &arr, err);
    if (rc == 0)
        rc = read_numbers(arr, "standardize.scale", F, scale, err);
    for (size_t f = 0; rc == 0 && f < F; f++)
        if (!(scale[f] > 0.0))
            rc = crisk__fail(err, CRISK_E_FORMAT, "standardize.scale[%zu]: %g is not positive",
                             f, scale[f]);
    return rc;
}

/* Reads "coef" (G rows of F numbers) and "intercept" (G numbers) and stores the folded
 * model in m->weights (F x G, row-major) and m->bias: with z = (x - mean) / scale,
 * coef . z + b = x . (coef / scale) + (b - sum coef * mean / scale). The fold is computed
 * in double; a result that does not fit a float is refused. `row` is scratch of F
 * doubles. Returns 0 or an error code. */
static int read_weights(const cJSON *root, size_t F, size_t G, const double *mean,
                        const double *scale, double *row, crisk_model *m, crisk_error *err)
{
    const cJSON *coef = NULL, *intercept = NULL;
    int rc = get_array(root, "coef", "coef", 1, &coef, err);
    if (rc == 0)
        rc = get_array(root, "intercept", "intercept", 1, &intercept, err);
    if (rc)
        return rc;
    size_t rows = crisk__json_array_size(coef);
    if (rows != G)
        return crisk__fail(err, CRISK_E_FORMAT, "coef: %zu rows, expected %zu (%s)", rows, G,
                           G == 1 ? "one row for a binary model" : "one row per class");
    double *b = malloc(G * sizeof *b);
    m->weights = malloc(F * G * sizeof *m->weights);
    m->bias = malloc(G * sizeof *m->bias);
    if (!b || !m->weights || !m->bias) {
        free(b);
        return crisk__fail(err, CRISK_E_NOMEM, "coef: out of memory for %zu x %zu weights", G,
                           F);
    }
    rc = read_numbers(intercept, "intercept", G, b, err);
    size_t g = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, coef)
    {
        if (rc)
            break;
        char path[32];
        snprintf(path, sizeof path, "coef[%zu]", g);
        if (!cJSON_IsArray(it)) {
            rc = crisk__fail(err, CRISK_E_FORMAT, "%s: expected an array, got %s", path,
                             crisk__json_type_name(it));
            break;
        }
        rc = read_numbers(it, path, F, row, err);
        double bias = b[g];
        for (size_t f = 0; rc == 0 && f < F; f++) {
            double w = row[f] / scale[f];
            bias -= w * mean[f];
            if (fabs(w) > FLT_MAX)
                rc = crisk__fail(err, CRISK_E_FORMAT, "coef[%zu][%zu]: divided by "
                                 "standardize.scale[%zu], it overflows a float", g, f, f);
            m->weights[f * G + g] = w;
        }
        if (rc == 0 && !(fabs(bias) <= FLT_MAX))
            rc = crisk__fail(err, CRISK_E_FORMAT, "intercept[%zu]: with the standardisation "
                             "folded in, it overflows a float", g);
        m->bias[g] = bias;
        g++;
    }
    free(b);
    return rc;
}

/* Stores the standardisation in m->mean and m->scale as floats, for explanations.
 * Returns 0 or CRISK_E_NOMEM. */
static int keep_standardize(const double *mean, const double *scale, size_t F,
                            crisk_model *m, crisk_error *err)
{
    m->mean = malloc(F * sizeof *m->mean);
    m->scale = malloc(F * sizeof *m->scale);
    if (!m->mean || !m->scale)
        return crisk__fail(err, CRISK_E_NOMEM, "standardize: out of memory");
    for (size_t f = 0; f < F; f++) {
        m->mean[f] = (float)mean[f];
        m->scale[f] = (float)scale[f];
    }
    return 0;
}

/* Fills `m` from a crisk logistic document: header, names and classes first (bounded by
 * the limits before anything of their size is allocated), then the standardisation and
 * the folded weights. */
int crisk__import_logistic(const cJSON *root, const crisk_load_limits *limits,
                           crisk_model *m, crisk_error *err)
{
    /* The loader only passes objects, but the importer must not rely on it. */
    if (!cJSON_IsObject(root))
        return crisk__fail(err, CRISK_E_FORMAT, "the document is not a JSON object (got %s)",
                           crisk__json_type_name(root));
    int rc = crisk__json_check_path_keys(root, "", top_keys, NUM_TOP_KEYS, err);
    if (rc == 0)
        rc = check_header(root, err);
    const cJSON *names = NULL, *classes = NULL;
    if (rc == 0)
        rc = get_array(root, "feature_names", "feature_names", 1, &names, err);
    if (rc == 0)
        rc = get_array(root, "classes", "classes", 1, &classes, err);
    if (rc)
        return rc;
    size_t F = crisk__json_array_size(names), K = 0;
    if (F == 0)
        return crisk__fail(err, CRISK_E_FORMAT, "feature_names: empty; a model needs at least "
                           "one feature");
    if (F > limits->max_features)
        return crisk__fail(err, CRISK_E_LIMIT, "feature_names: %zu features exceed the limit "
                           "max_features = %zu", F, limits->max_features);
    rc = read_classes(classes, limits, &K, err);
    if (rc == 0)
        rc = read_multi_class(root, K, m, err);
    if (rc == 0)
        rc = read_feature_names(names, F, m, err);
    if (rc)
        return rc;
    size_t G = m->num_outputs;
    if (F > SIZE_MAX / sizeof(double) / 3 || F > SIZE_MAX / sizeof(float) / G)
        return crisk__fail(err, CRISK_E_LIMIT, "coef: %zu x %zu weights do not fit in memory",
                           G, F);
    m->family = CRISK__FAMILY_LOGISTIC;
    snprintf(m->booster, sizeof m->booster, "linear");
    m->base_margin = calloc(G, sizeof *m->base_margin);
    double *scratch = malloc(3 * F * sizeof *scratch); /* mean, scale, one coef row */
    if (!m->base_margin || !scratch) {
        free(scratch);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu features", F);
    }
    double *mean = scratch, *scale = scratch + F, *row = scratch + 2 * F;
    int standardized = 0;
    rc = read_standardize(root, F, mean, scale, &standardized, err);
    if (rc == 0)
        rc = read_weights(root, F, G, mean, scale, row, m, err);
    if (rc == 0 && standardized)
        rc = keep_standardize(mean, scale, F, m, err);
    free(scratch);
    return rc;
}
