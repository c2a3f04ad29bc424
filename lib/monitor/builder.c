/*
 * monitor/builder.c — making reference distributions: collecting the values of reference
 * declarations, placing quantile bins and category bins, and writing reference.json
 * (docs/bundle.md, "Reference distributions").
 */
#include "common/error.h"
#include "monitor/types.h"
#include "monitor/values.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crisk_reference_builder {
    const crisk_bundle *bundle;
    size_t num_items;
    double *values;   /* rows x num_items, row-major (crisk__monitor_values' form) */
    size_t rows, cap;
};

int crisk_reference_builder_new(const crisk_bundle *bundle, crisk_reference_builder **out,
                                crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!bundle || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "bundle and out must not be NULL");
    crisk_reference_builder *b = calloc(1, sizeof *b);
    if (!b)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    b->bundle = bundle;
    b->num_items = crisk__monitor_num_items(bundle);
    *out = b;
    return 0;
}

void crisk_reference_builder_free(crisk_reference_builder *b)
{
    if (!b)
        return;
    free(b->values);
    free(b);
}

int crisk_reference_builder_add(crisk_reference_builder *b, const crisk_batch *batch,
                                const crisk_results *results, crisk_error *err)
{
    if (!b || !batch || !results)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "builder, batch and results must "
                           "not be NULL");
    size_t n = crisk_batch_size(batch);
    if (b->rows + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->rows + n)
            cap *= 2;
        double *grown = realloc(b->values, cap * b->num_items * sizeof *grown);
        if (!grown)
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu reference rows", cap);
        b->values = grown;
        b->cap = cap;
    }
    int rc = crisk__monitor_values(b->bundle, batch, results, b->values + b->rows * b->num_items,
                                   err);
    if (rc == 0)
        b->rows += n;
    return rc;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Copies column `item` of the builder's values, NaN (and, `finite`, unseen) left out, into
 * `col` sorted; returns how many. */
static size_t sorted_column(const crisk_reference_builder *b, size_t item, int finite,
                            double *col)
{
    size_t m = 0;
    for (size_t r = 0; r < b->rows; r++) {
        double v = b->values[r * b->num_items + item];
        if (!isnan(v) && (!finite || isfinite(v)))
            col[m++] = v;
    }
    qsort(col, m, sizeof *col, cmp_double);
    return m;
}

/* Places the edges of numeric item `it` at the deciles of `col` (m sorted values), equal
 * edges merged. Returns 0 or -1 (out of memory). */
static int place_edges(crisk__monitor_item *it, const double *col, size_t m)
{
    it->edges = malloc(CRISK__MONITOR_QUANTILE_BINS * sizeof *it->edges);
    if (!it->edges)
        return -1;
    for (size_t k = 1; k < CRISK__MONITOR_QUANTILE_BINS && m > 0; k++) {
        double e = col[(k * m + CRISK__MONITOR_QUANTILE_BINS - 1) / CRISK__MONITOR_QUANTILE_BINS - 1];
        if (isfinite(e) && (it->num_edges == 0 || e > it->edges[it->num_edges - 1]))
            it->edges[it->num_edges++] = e;
    }
    it->num_bins = it->num_edges + 2;
    return 0;
}

/* Gives the most frequent codes of category item `it` (`col`: m sorted codes of `rows`)
 * a bin each: at most CRISK__MONITOR_MAX_CODES, each with a share of at least
 * CRISK__MONITOR_MIN_CODE_SHARE, kept in code order. Returns 0 or -1. */
static int place_codes(crisk__monitor_item *it, const double *col, size_t m, size_t rows)
{
    double top[CRISK__MONITOR_MAX_CODES];
    size_t top_count[CRISK__MONITOR_MAX_CODES], ntop = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && col[j] == col[i])
            j++;
        size_t c = j - i, at = ntop;
        /* Insert by count, highest first (equal counts: the lower code first). */
        while (at > 0 && top_count[at - 1] < c)
            at--;
        if ((double)c >= CRISK__MONITOR_MIN_CODE_SHARE * (double)rows &&
            at < CRISK__MONITOR_MAX_CODES) {
            size_t last = ntop < CRISK__MONITOR_MAX_CODES ? ntop++ : ntop - 1;
            memmove(top + at + 1, top + at, (last - at) * sizeof *top);
            memmove(top_count + at + 1, top_count + at, (last - at) * sizeof *top_count);
            top[at] = col[i];
            top_count[at] = c;
        }
        i = j;
    }
    qsort(top, ntop, sizeof *top, cmp_double);
    it->codes = malloc((ntop ? ntop : 1) * sizeof *it->codes);
    if (!it->codes)
        return -1;
    memcpy(it->codes, top, ntop * sizeof *top);
    it->num_codes = ntop;
    it->num_bins = ntop + 3;
    return 0;
}

/* Makes item `i`'s bins and reference shares from the builder's values, using `col`
 * (rows doubles) as scratch. Returns 0 or -1 (out of memory). */
static int make_item(const crisk_reference_builder *b, size_t i, double *col,
                     crisk__monitor_item *it)
{
    size_t nf = crisk_schema_num_features(crisk_bundle_schema(b->bundle));
    it->is_score = i >= nf;
    it->source = it->is_score ? i - nf : i;
    it->name = it->is_score ? crisk_bundle_model_name(b->bundle, it->source)
                            : crisk_schema_feature_name(crisk_bundle_schema(b->bundle), i);
    it->is_category = !it->is_score && crisk__monitor_is_category(b->bundle, i);
    size_t m = sorted_column(b, i, it->is_category, col);
    int rc = it->is_category ? place_codes(it, col, m, b->rows) : place_edges(it, col, m);
    if (rc || !(it->share = calloc(it->num_bins, sizeof *it->share)))
        return -1;
    for (size_t r = 0; r < b->rows; r++)
        it->share[crisk__monitor_bin(it, b->values[r * b->num_items + i])] += 1;
    for (size_t k = 0; k < it->num_bins; k++)
        it->share[k] /= (double)b->rows;
    return 0;
}

/* Returns a JSON array of `n` numbers, or NULL. Each is written "%.17g", which reads
 * back to the same double: cJSON's own printing accepts 15 digits that are one unit in
 * the last place off, which moves a value equal to an edge into the next bin. */
static cJSON *number_array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    char text[32];
    for (size_t k = 0; a && k < n; k++)
        if (snprintf(text, sizeof text, "%.17g", v[k]) < 0 ||
            !cJSON_AddItemToArray(a, cJSON_CreateRaw(text))) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

/* Returns item `it` as its JSON object, or NULL when out of memory. */
static cJSON *item_json(const crisk__monitor_item *it)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "name", it->name) ||
        !cJSON_AddStringToObject(o, "kind", it->is_score ? "score" : "feature") ||
        !cJSON_AddStringToObject(o, "type", it->is_category ? "category" : "numeric") ||
        !cJSON_AddItemToObject(o, it->is_category ? "codes" : "edges",
                               it->is_category ? number_array(it->codes, it->num_codes)
                                               : number_array(it->edges, it->num_edges)) ||
        !cJSON_AddItemToObject(o, "shares", number_array(it->share, it->num_bins))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Returns the reference document of `items`, or NULL when out of memory. */
static cJSON *reference_json(const crisk_reference_builder *b, const crisk__monitor_item *items,
                             double warn, double alert)
{
    cJSON *root = cJSON_CreateObject(), *arr = NULL;
    if (!root || !cJSON_AddStringToObject(root, "format", "crisk-reference") ||
        !cJSON_AddNumberToObject(root, "version", 1) ||
        !cJSON_AddNumberToObject(root, "rows", (double)b->rows) ||
        !cJSON_AddNumberToObject(root, "warn", warn) ||
        !cJSON_AddNumberToObject(root, "alert", alert) ||
        !(arr = cJSON_AddArrayToObject(root, "items"))) {
        cJSON_Delete(root);
        return NULL;
    }
    for (size_t i = 0; i < b->num_items; i++)
        if (!cJSON_AddItemToArray(arr, item_json(&items[i]))) {
            cJSON_Delete(root);
            return NULL;
        }
    return root;
}

/* Writes `text` and a newline to `path`. Returns 0 or CRISK_E_IO. */
static int write_text(const char *path, const char *text, crisk_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return crisk__fail(err, CRISK_E_IO, "%s: cannot create the file", path);
    int bad = fputs(text, f) == EOF || fputc('\n', f) == EOF;
    bad |= fclose(f) != 0;
    return bad ? crisk__fail(err, CRISK_E_IO, "%s: write error", path) : 0;
}

int crisk_reference_builder_save(const crisk_reference_builder *b, const char *path,
                                 double warn, double alert, crisk_error *err)
{
    if (!b || !path)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "builder and path must not be NULL");
    if (b->rows == 0)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "no reference declaration was added");
    if (!(warn > 0 && warn <= alert && isfinite(alert)))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "thresholds must satisfy 0 < warn "
                           "(%g) <= alert (%g)", warn, alert);
    crisk__monitor_item *items = calloc(b->num_items, sizeof *items);
    double *col = malloc(b->rows * sizeof *col);
    int rc = items && col ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < b->num_items; i++)
        rc = make_item(b, i, col, &items[i]);
    cJSON *root = rc == 0 ? reference_json(b, items, warn, alert) : NULL;
    char *text = root ? cJSON_Print(root) : NULL;
    rc = text ? write_text(path, text, err)
              : crisk__fail(err, CRISK_E_NOMEM, "out of memory for the reference");
    free(text);
    cJSON_Delete(root);
    crisk__monitor_items_clear(items, items ? b->num_items : 0);
    free(items);
    free(col);
    return rc;
}
