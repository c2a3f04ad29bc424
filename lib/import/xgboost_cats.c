/*
 * import/xgboost_cats.c — XGBoost 3.1+'s stored category values (the gbtree model's
 * `cats` section, JSON or UBJSON) into the canonical model's per-feature categories.
 *
 * `cats.enc` holds one entry per feature: {"offsets": [...], "values": [...]} for text
 * (Arrow's string layout: values are the bytes as int8, value i spans offsets i to i+1),
 * or {"type": T, "values": [...]} for numbers. A feature with no categories has an empty
 * text entry. XGBoost re-codes a DataFrame's categories by value against these, and
 * refuses a value not among them: so does crisk (CRISK__UNSEEN_ERROR).
 *
 * XGBoost's Python package (3.2) writes the offsets of pandas string categories in
 * characters while the values are UTF-8 bytes, so any non-ASCII category leaves every
 * value after it cut at the wrong place. Such text cannot be matched by value, and
 * guessing would score wrong categories in silence: it is refused, naming the feature.
 */
#include "common/error.h"
#include "import/import.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the integers of JSON array `arr` (at most `cap`) into `out` as long long, each
 * within [lo, hi]; stores the count in `*n`. `path` names the array in messages. */
static int read_ints(const cJSON *arr, const char *path, long long lo, long long hi,
                     long long *out, size_t cap, size_t *n, crisk_error *err)
{
    if (!cJSON_IsArray(arr))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an array", path);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        double v = cJSON_IsNumber(it) ? it->valuedouble : NAN;
        if (i == cap || !(v >= (double)lo && v <= (double)hi) || v != floor(v))
            return crisk__fail(err, CRISK_E_FORMAT, i == cap ? "%s: more than %zu entries"
                               : "%s[%zu]: not an integer in range", path, i == cap ? cap : i);
        out[i++] = (long long)v;
    }
    *n = i;
    return 0;
}

/* Fills `c` from a text entry: `offsets` and int8 `values`. */
static int read_text(crisk__categories *c, const cJSON *offsets, const cJSON *values,
                     const char *path, crisk_error *err)
{
    size_t noff = (size_t)cJSON_GetArraySize(offsets);
    size_t nval = (size_t)cJSON_GetArraySize(values);
    long long *off = malloc((noff + 1) * sizeof *off);
    long long *val = malloc((nval + 1) * sizeof *val);
    char *bytes = malloc(nval + 1);
    int rc = off && val && bytes ? 0 : crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    char where[160];
    snprintf(where, sizeof where, "%s.offsets", path);
    if (rc == 0)
        rc = read_ints(offsets, where, 0, (long long)nval, off, noff, &noff, err);
    snprintf(where, sizeof where, "%s.values", path);
    if (rc == 0)
        rc = read_ints(values, where, -128, 127, val, nval, &nval, err);
    for (size_t i = 0; rc == 0 && i < nval; i++) {
        bytes[i] = (char)(unsigned char)(val[i] & 0xff);
        if ((unsigned char)bytes[i] >= 0x80)
            rc = crisk__fail(err, CRISK_E_UNSUPPORTED, "%s.values[%zu]: a non-ASCII category: "
                             "XGBoost stores such text with character offsets over UTF-8 "
                             "bytes, so its values cannot be matched (re-train with ASCII "
                             "category values)", path, i);
    }
    if (rc == 0 && noff > 0 && off[0] != 0)
        rc = crisk__fail(err, CRISK_E_FORMAT, "%s.offsets[0]: %lld, expected 0", path, off[0]);
    if (rc == 0)
        rc = crisk__categories_reserve(c, noff ? noff - 1 : 0, 0, err);
    for (size_t i = 0; rc == 0 && i + 1 < noff; i++) {
        if (off[i + 1] < off[i])
            rc = crisk__fail(err, CRISK_E_FORMAT, "%s.offsets[%zu]: %lld is below the offset "
                             "before it", path, i + 1, off[i + 1]);
        else
            rc = crisk__categories_set_text(c, i, bytes + off[i], (size_t)(off[i + 1] - off[i]),
                                            err);
    }
    free(off);
    free(val);
    free(bytes);
    return rc;
}

/* Fills `c` from a numeric entry: `values`, integers (XGBoost refuses other category
 * numbers when it trains). */
static int read_numbers(crisk__categories *c, const cJSON *values, const char *path,
                        crisk_error *err)
{
    size_t n = (size_t)cJSON_GetArraySize(values);
    long long *val = malloc((n + 1) * sizeof *val);
    char where[160];
    snprintf(where, sizeof where, "%s.values", path);
    int rc = val ? 0 : crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    /* Integers within double's exact range: the values XGBoost's int64 codes can be. */
    if (rc == 0)
        rc = read_ints(values, where, -9007199254740992LL, 9007199254740992LL, val, n, &n,
                       err);
    if (rc == 0)
        rc = crisk__categories_reserve(c, n, 1, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = crisk__categories_set_number(c, i, (double)val[i], err);
    free(val);
    return rc;
}

/* Reads entry `f` of cats.enc into m->categories[f]. */
static int read_entry(crisk_model *m, const cJSON *entry, size_t f, crisk_error *err)
{
    char path[96];
    snprintf(path, sizeof path, "learner.gradient_booster.model.cats.enc[%zu]", f);
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(entry, "values");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "offsets");
    if (!cJSON_IsObject(entry) || !cJSON_IsArray(values) ||
        !(cJSON_IsArray(offsets) || cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(entry,
                                                                                    "type"))))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected {\"offsets\", \"values\"} or "
                           "{\"type\", \"values\"}", path);
    return offsets ? read_text(&m->categories[f], offsets, values, path, err)
                   : read_numbers(&m->categories[f], values, path, err);
}

int crisk__xgboost_read_cats(const cJSON *cats, crisk_model *m, crisk_error *err)
{
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(cats, "enc");
    if (!cJSON_IsObject(cats) || !cJSON_IsArray(enc))
        return crisk__fail(err, CRISK_E_FORMAT,
                           "learner.gradient_booster.model.cats: expected an object with an "
                           "array \"enc\"");
    size_t n = (size_t)cJSON_GetArraySize(enc);
    if (n == 0)
        return 0; /* no categorical feature */
    if (n != m->num_features)
        return crisk__fail(err, CRISK_E_FORMAT, "learner.gradient_booster.model.cats.enc: %zu "
                           "entries for num_feature = %zu", n, m->num_features);
    int rc = crisk__model_categories_new(m, err);
    size_t f = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, enc)
    {
        if (rc)
            break;
        rc = read_entry(m, entry, f++, err);
    }
    m->unseen_category = CRISK__UNSEEN_ERROR;
    return rc;
}
