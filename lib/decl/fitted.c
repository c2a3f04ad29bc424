/*
 * decl/fitted.c — a schema's fitted state: category dictionaries, risk-indicator tables
 * (per-key counts and positives, with per-fold shares for out-of-fold training features)
 * and unit-value bands; fitting them from labelled declarations, and writing and reading
 * them as the "fitted" object of the schema file.
 */
#include "common/error.h"
#include "common/grow.h"
#include "decl/fitted.h"
#include "decl/keys.h"
#include "decl/plain_features.h"
#include "decl/types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int crisk_fit_options_init(crisk_fit_options *opts, unsigned int version)
{
    if (!opts || version != CRISK_FIT_OPTIONS_VERSION)
        return CRISK_E_INVALID_ARGUMENT;
    opts->version = version;
    opts->folds = 5;
    opts->seed = 1;
    opts->smoothing = 20;
    return 0;
}

/* Returns row `row`'s fold: splitmix64 of the seed advanced row + 1 times, modulo `folds`
 * (docs/schema.md, "Folds"). */
static uint32_t fold_of(uint64_t row, uint64_t seed, unsigned folds)
{
    /* splitmix64's output for the state seed + (row + 1) * golden gamma. */
    uint64_t z = seed + (row + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (uint32_t)(z % folds);
}

/* Checks the arguments of a fit: the batch is the schema's, one label (0 or 1) per row,
 * options in range. Returns 0 or an error naming the first bad one. */
static int fit_check(const crisk_schema *s, const crisk_batch *b, const float *labels,
                     size_t nlabels, const crisk_fit_options *opts, crisk_error *err)
{
    if (!s || !b || (!labels && nlabels))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "schema, batch and labels must not "
                           "be NULL");
    if (b->schema != s)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the batch was made for another "
                           "schema");
    int rc = crisk__options_version(opts->version, CRISK_FIT_OPTIONS_VERSION,
                                    "crisk_fit_options", err);
    if (rc)
        return rc;
    if (nlabels != b->rows)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "%zu labels for a batch of %zu rows",
                           nlabels, b->rows);
    if (b->rows >= UINT32_MAX)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu rows: fitting takes fewer than 2^32",
                           b->rows);
    if (opts->folds < 2 || opts->folds > CRISK__SCHEMA_MAX_FOLDS)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "folds = %u: 2 to %d are allowed",
                           opts->folds, CRISK__SCHEMA_MAX_FOLDS);
    if (!(opts->smoothing >= 0 && opts->smoothing <= 1e12))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "smoothing = %g: a number in [0, "
                           "1e12] is needed", opts->smoothing);
    for (size_t i = 0; i < nlabels; i++)
        if (labels[i] != 0.0f && labels[i] != 1.0f)
            return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "labels[%zu] = %g: a label is 0 "
                               "or 1", i, (double)labels[i]);
    return 0;
}

/* Frees everything in `fit` and zeroes it. */
void crisk__fitted_free(const crisk_schema *s, crisk__fitted_state *fit)
{
    for (size_t i = 0; fit->dicts && i < s->ndicts; i++)
        crisk__strmap_free(&fit->dicts[i]);
    for (size_t i = 0; fit->tables && i < s->nsets; i++) {
        crisk__risk_table *t = &fit->tables[i];
        crisk__strmap_free(&t->keys);
        free(t->stat);
        free(t->fold);
    }
    for (size_t i = 0; fit->bands && i < s->nbands; i++) {
        crisk__strmap_free(&fit->bands[i].keys);
        free(fit->bands[i].low);
        free(fit->bands[i].high);
    }
    free(fit->dicts);
    free(fit->tables);
    free(fit->bands);
    free(fit->fold_rows);
    free(fit->fold_positives);
    memset(fit, 0, sizeof *fit);
}

/* Returns 1 when a risk feature groups rows by key set `set`. */
int crisk__set_has_risk(const crisk_schema *s, size_t set)
{
    for (size_t j = 0; j < s->nfeatures; j++)
        if ((s->features[j].op == CRISK__OP_RISK_RATE || s->features[j].op == CRISK__OP_RISK_COUNT)
            && s->features[j].set == set)
            return 1;
    return 0;
}

/* Makes room in table `t` for statistics of key `k` (zeroed when new; `*have` keys have
 * room so far), doubling the arrays. Returns 0 or CRISK_E_NOMEM. */
static int table_reserve(crisk__risk_table *t, size_t k, size_t folds, size_t *have, size_t *cap)
{
    if (k < *have)
        return 0;
    if (k >= *cap) {
        size_t n = crisk__grow_capacity(*cap, k + 1, 256);
        if (crisk__resize((void **)&t->stat, n, sizeof *t->stat)
            || (folds && (n > SIZE_MAX / folds
                          || crisk__resize((void **)&t->fold, n * folds, sizeof *t->fold))))
            return CRISK_E_NOMEM;
        *cap = n;
    }
    t->stat[k] = (crisk__risk_stat){0, 0};
    if (folds)
        memset(t->fold + k * folds, 0, folds * sizeof *t->fold);
    *have = k + 1;
    return 0;
}

/* Counts rows and positives per key of set `set` into table `t`. */
static int fit_table(const crisk_schema *s, const crisk_batch *b, const float *labels,
                     const uint32_t *folds_of, size_t folds, size_t set, crisk__risk_table *t,
                     char *key)
{
    size_t have = 0, cap = 0, k;
    for (size_t r = 0; r < b->rows; r++) {
        long len = crisk__key_build(s, b, set, r, key, crisk__key_capacity(s));
        if (len < 0)
            continue;
        int rc = crisk__strmap_insert(&t->keys, key, (size_t)len, &k);
        if (rc || (rc = table_reserve(t, k, folds, &have, &cap)))
            return rc;
        uint32_t y = labels[r] != 0.0f;
        t->stat[k].count++;
        t->stat[k].pos += y;
        if (folds) {
            t->fold[k * folds + folds_of[r]].count++;
            t->fold[k * folds + folds_of[r]].pos += y;
        }
    }
    return 0;
}

/* A band's value for one row, with the index of the row's key. */
typedef struct band_value {
    uint32_t key;
    float value;
} band_value;

/* Orders band values by key, then value, for qsort. */
static int compare_band_values(const void *pa, const void *pb)
{
    const band_value *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->value > b->value) - (a->value < b->value);
}

/* Returns quantile `q` of the values of the `n` sorted band_values at `v`, by numpy's
 * default "linear" method, including its two-sided interpolation. */
static double quantile(const band_value *v, size_t n, double q)
{
    double at = q * (double)(n - 1);
    size_t lo = (size_t)floor(at);
    if (lo >= n - 1)
        return v[n - 1].value;
    double g = at - (double)lo, a = v[lo].value, b = v[lo + 1].value, diff = b - a;
    return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/* Appends `low` and `high` as the bounds of key index `k` of band table `t` (`*cap` slots
 * so far). Returns 0 or CRISK_E_NOMEM. */
static int band_append(crisk__band_table *t, size_t k, double low, double high, size_t *cap)
{
    if (k >= *cap) {
        size_t n = crisk__grow_capacity(*cap, k + 1, 64);
        if (crisk__resize((void **)&t->low, n, sizeof *t->low)
            || crisk__resize((void **)&t->high, n, sizeof *t->high))
            return CRISK_E_NOMEM;
        *cap = n;
    }
    t->low[k] = low;
    t->high[k] = high;
    return 0;
}

/* Fits band `bi`: the low and high quantiles of its feature per key with at least
 * min_count non-missing values. */
static int fit_band(const crisk_schema *s, const crisk_batch *b, size_t bi, crisk__band_table *t,
                    char *key)
{
    const crisk__schema_band *band = &s->bands[bi];
    const crisk__schema_feature *f = &s->features[band->feature];
    crisk__strmap seen;
    crisk__strmap_init(&seen);
    band_value *vals = malloc((b->rows ? b->rows : 1) * sizeof *vals);
    size_t n = 0, k, cap = 0;
    int rc = vals ? 0 : CRISK_E_NOMEM;
    for (size_t r = 0; r < b->rows && rc == 0; r++) {
        float v = crisk__feature_plain(b, f, r, NULL);
        long len = isnan(v) ? -1 : crisk__key_build(s, b, band->set, r, key,
                                                           crisk__key_capacity(s));
        if (len < 0)
            continue;
        if ((rc = crisk__strmap_insert(&seen, key, (size_t)len, &k)) == 0) {
            vals[n].key = (uint32_t)k;
            vals[n++].value = v;
        }
    }
    if (rc == 0)
        qsort(vals, n, sizeof *vals, compare_band_values);
    for (size_t i = 0, j; rc == 0 && i < n; i = j) {
        for (j = i; j < n && vals[j].key == vals[i].key; j++)
            ;
        if (j - i < band->min_count)
            continue;
        size_t len, kept;
        const char *text = crisk__strmap_key(&seen, vals[i].key, &len);
        if ((rc = crisk__strmap_insert(&t->keys, text, len, &kept)) == 0)
            rc = band_append(t, kept, quantile(vals + i, j - i, band->low_q),
                             quantile(vals + i, j - i, band->high_q), &cap);
    }
    crisk__strmap_free(&seen);
    free(vals);
    return rc;
}

/* Fits dictionaries, risk tables and bands from `b` and `labels` into `fit` (empty on
 * entry), or, when `folds_of` is given, dictionaries and risk tables with per-fold shares
 * and no bands (out-of-fold training features use no band); returns 0 or an error
 * code. */
static int fitted_build(const crisk_schema *s, const crisk_batch *b, const float *labels,
                        const uint32_t *folds_of, unsigned folds, double smoothing,
                        crisk__fitted_state *fit, crisk_error *err)
{
    int rc = 0;
    char *key = malloc(crisk__key_capacity(s));
    fit->smoothing = smoothing;
    fit->rows = b->rows;
    fit->folds = folds_of ? folds : 0;
    fit->dicts = calloc(s->ndicts ? s->ndicts : 1, sizeof *fit->dicts);
    fit->tables = calloc(s->nsets ? s->nsets : 1, sizeof *fit->tables);
    fit->bands = calloc(s->nbands ? s->nbands : 1, sizeof *fit->bands);
    if (folds_of) {
        fit->fold_rows = calloc(folds, sizeof *fit->fold_rows);
        fit->fold_positives = calloc(folds, sizeof *fit->fold_positives);
    }
    if (!key || !fit->dicts || !fit->tables || !fit->bands
        || (folds_of && (!fit->fold_rows || !fit->fold_positives))) {
        free(key);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory fitting the schema");
    }
    for (size_t r = 0; r < b->rows; r++) {
        uint64_t y = labels[r] != 0.0f;
        fit->positives += y;
        if (folds_of) {
            fit->fold_rows[folds_of[r]]++;
            fit->fold_positives[folds_of[r]] += y;
        }
    }
    const char *what = "";
    for (size_t j = 0; j < s->nfeatures && rc == 0; j++) {
        const crisk__schema_feature *f = &s->features[j];
        what = f->name;
        if (f->op != CRISK__OP_CATEGORY)
            continue;
        crisk__strmap *dict = &fit->dicts[f->dict];
        for (size_t r = 0, k; r < b->rows && rc == 0; r++) {
            size_t len;
            const char *t = crisk__batch_text_at(b, r, f->field, &len);
            if (t && (rc = crisk__strmap_insert(dict, t, len, &k)) == 0
                && dict->size > CRISK__SCHEMA_MAX_CATEGORIES)
                rc = CRISK_E_LIMIT;
        }
    }
    for (size_t set = 0; set < s->nsets && rc == 0; set++)
        if (crisk__set_has_risk(s, set)) {
            what = "a risk table";
            rc = fit_table(s, b, labels, folds_of, fit->folds, set, &fit->tables[set], key);
        }
    for (size_t i = 0; !folds_of && i < s->nbands && rc == 0; i++) {
        what = s->bands[i].name;
        rc = fit_band(s, b, i, &fit->bands[i], key);
    }
    free(key);
    if (rc == CRISK_E_LIMIT)
        return crisk__fail(err, rc, "fitting %s: more than %zu distinct values", what,
                           CRISK__SCHEMA_MAX_CATEGORIES);
    if (rc)
        return crisk__fail(err, rc, "fitting %s: out of memory", what);
    fit->present = 1;
    return 0;
}

/* The fit behind crisk_schema_fit and crisk_schema_training_matrix; see fitted.h. */
int crisk__fit(const crisk_schema *s, const crisk_batch *b, const float *labels,
               size_t nlabels, const crisk_fit_options *opts, uint32_t **folds_of,
               crisk__fitted_state *fit, crisk_error *err)
{
    crisk_fit_options defaults;
    if (!opts) {
        crisk_fit_options_init(&defaults, CRISK_FIT_OPTIONS_VERSION);
        opts = &defaults;
    }
    memset(fit, 0, sizeof *fit);
    if (folds_of)
        *folds_of = NULL;
    int rc = fit_check(s, b, labels, nlabels, opts, err);
    if (rc)
        return rc;
    if (folds_of) {
        *folds_of = malloc((b->rows ? b->rows : 1) * sizeof **folds_of);
        if (!*folds_of)
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu fold numbers",
                               b->rows);
        for (size_t r = 0; r < b->rows; r++)
            (*folds_of)[r] = fold_of(r, opts->seed, opts->folds);
    }
    rc = fitted_build(s, b, labels, folds_of ? *folds_of : NULL, opts->folds, opts->smoothing,
                      fit, err);
    if (rc) {
        crisk__fitted_free(s, fit);
        if (folds_of) {
            free(*folds_of);
            *folds_of = NULL;
        }
    }
    return rc;
}

/* Fits the schema's state from a labelled batch, replacing the old state only on success;
 * returns 0 or an error code. */
int crisk_schema_fit(crisk_schema *s, const crisk_batch *b, const float *labels,
                     size_t nlabels, const crisk_fit_options *opts, crisk_error *err)
{
    crisk__fitted_state fit;
    int rc = crisk__fit(s, b, labels, nlabels, opts, NULL, &fit, err);
    if (rc)
        return rc;
    crisk__fitted_free(s, &s->fit);
    s->fit = fit;
    return 0;
}

/* Returns -1, 0 or +1 for a row below, inside or above its band, or 2 when it cannot be
 * placed. */
int crisk__schema_band_position(const crisk_schema *s, size_t band, const crisk_batch *b,
                                size_t row, const float *features)
{
    if (!s->fit.present || band >= s->nbands)
        return 2;
    const crisk__schema_band *bd = &s->bands[band];
    float v = features[bd->feature];
    if (isnan(v))
        return 2;
    /* Keys of the default max_field_bytes fit on the stack; only schemas with long
     * fields pay a malloc per call. */
    char stack[4096], *key = stack;
    if (s->sets[bd->set].nparts * (2 + s->max_field_bytes) > sizeof stack
        && !(key = malloc(crisk__key_capacity(s))))
        return 2;
    long len = crisk__key_build(s, b, bd->set, row, key,
                                key == stack ? sizeof stack : crisk__key_capacity(s));
    long k = len < 0 ? -1 : crisk__strmap_find(&s->fit.bands[band].keys, key, (size_t)len);
    if (key != stack)
        free(key);
    if (k < 0)
        return 2;
    if (v < s->fit.bands[band].low[k])
        return -1;
    return v > s->fit.bands[band].high[k] ? 1 : 0;
}

/* ---- writing ---------------------------------------------------------------------- */

/* Returns a JSON string of `len` bytes at `text` (copied through `buf`, which holds at
 * least max_field_bytes + 1), or NULL when out of memory. */
static cJSON *json_text(const char *text, size_t len, char *buf)
{
    memcpy(buf, text, len);
    buf[len] = '\0';
    return cJSON_CreateString(buf);
}

/* Returns a JSON array of the parts of key `k` of `map` (a key of `nparts` parts)
 * followed by the numbers `a` and `b`, or NULL when out of memory. */
static cJSON *entry_json(const crisk__strmap *map, size_t k, size_t nparts, double a, double b,
                         char *buf)
{
    const char *parts[CRISK__SCHEMA_MAX_KEY_PARTS];
    size_t lens[CRISK__SCHEMA_MAX_KEY_PARTS], len;
    crisk__key_split(crisk__strmap_key(map, k, &len), nparts, parts, lens);
    cJSON *e = cJSON_CreateArray();
    int ok = e != NULL;
    for (size_t p = 0; ok && p <= nparts + 1; p++) {
        cJSON *item = p < nparts ? json_text(parts[p], lens[p], buf)
                                 : cJSON_CreateNumber(p == nparts ? a : b);
        ok = item && cJSON_AddItemToArray(e, item);
        if (!ok)
            cJSON_Delete(item);
    }
    if (!ok) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

/* Adds the "categories", "tables" and "bands" arrays of the fitted state to `fitted`. */
static int fitted_arrays(const crisk_schema *s, cJSON *fitted, char *buf)
{
    const crisk__fitted_state *fit = &s->fit;
    cJSON *cats = cJSON_AddArrayToObject(fitted, "categories");
    cJSON *tables = cJSON_AddArrayToObject(fitted, "tables");
    cJSON *bands = cJSON_AddArrayToObject(fitted, "bands");
    int ok = cats && tables && bands;
    for (size_t j = 0; ok && j < s->nfeatures; j++) {
        const crisk__schema_feature *f = &s->features[j];
        if (f->op != CRISK__OP_CATEGORY)
            continue;
        cJSON *o = cJSON_CreateObject(), *vals = NULL;
        ok = o && cJSON_AddItemToArray(cats, o);
        if (!ok)
            cJSON_Delete(o);
        ok = ok && cJSON_AddStringToObject(o, "feature", f->name)
             && (vals = cJSON_AddArrayToObject(o, "values"));
        const crisk__strmap *dict = &fit->dicts[f->dict];
        for (size_t k = 0; ok && k < dict->size; k++) {
            size_t len;
            const char *t = crisk__strmap_key(dict, k, &len);
            cJSON *str = json_text(t, len, buf);
            ok = str && cJSON_AddItemToArray(vals, str);
            if (!ok)
                cJSON_Delete(str);
        }
    }
    for (size_t set = 0; ok && set < s->nsets; set++) {
        if (!crisk__set_has_risk(s, set))
            continue;
        const crisk__risk_table *t = &fit->tables[set];
        cJSON *o = cJSON_CreateObject(), *keys = crisk__key_set_to_json(s, set), *entries = NULL;
        ok = o && keys && cJSON_AddItemToArray(tables, o);
        if (!ok) {
            cJSON_Delete(o);
            cJSON_Delete(keys);
        }
        ok = ok && cJSON_AddItemToObject(o, "keys", keys)
             && (entries = cJSON_AddArrayToObject(o, "entries"));
        for (size_t k = 0; ok && k < t->keys.size; k++) {
            cJSON *e = entry_json(&t->keys, k, s->sets[set].nparts, t->stat[k].count, t->stat[k].pos,
                                  buf);
            ok = e && cJSON_AddItemToArray(entries, e);
            if (!ok)
                cJSON_Delete(e);
        }
    }
    for (size_t i = 0; ok && i < s->nbands; i++) {
        const crisk__band_table *t = &fit->bands[i];
        cJSON *o = cJSON_CreateObject(), *entries = NULL;
        ok = o && cJSON_AddItemToArray(bands, o);
        if (!ok)
            cJSON_Delete(o);
        ok = ok && cJSON_AddStringToObject(o, "band", s->bands[i].name)
             && (entries = cJSON_AddArrayToObject(o, "entries"));
        for (size_t k = 0; ok && k < t->keys.size; k++) {
            cJSON *e = entry_json(&t->keys, k, s->sets[s->bands[i].set].nparts, t->low[k],
                                  t->high[k], buf);
            ok = e && cJSON_AddItemToArray(entries, e);
            if (!ok)
                cJSON_Delete(e);
        }
    }
    return ok ? 0 : CRISK_E_NOMEM;
}

/* Adds the "fitted" object to `root` when the schema is fitted; returns 0 or CRISK_E_NOMEM. */
int crisk__fitted_to_json(const crisk_schema *s, cJSON *root, crisk_error *err)
{
    if (!s->fit.present)
        return 0;
    char *buf = malloc(s->max_field_bytes + 1);
    cJSON *fitted = buf ? cJSON_AddObjectToObject(root, "fitted") : NULL;
    int ok = fitted && cJSON_AddNumberToObject(fitted, "rows", (double)s->fit.rows)
             && cJSON_AddNumberToObject(fitted, "positives", (double)s->fit.positives)
             && cJSON_AddNumberToObject(fitted, "smoothing", s->fit.smoothing)
             && fitted_arrays(s, fitted, buf) == 0;
    free(buf);
    return ok ? 0 : crisk__fail(err, CRISK_E_NOMEM, "out of memory writing the fitted tables");
}
