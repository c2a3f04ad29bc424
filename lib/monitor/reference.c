/*
 * monitor/reference.c — loading a bundle's reference distributions (the manifest's
 * "reference" file, parsed when the bundle loaded) and checking them against the bundle:
 * one item per schema feature and per model, bins well formed, shares summing to 1.
 */
#include "common/error.h"
#include "common/jsonfile.h"
#include "monitor/types.h"
#include "monitor/values.h"
#include "policy/bundle_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Most edges or codes an item may list (the builder writes at most 9 / 20). */
#define MAX_VALUES 1024
/* How far the shares of an item may sum from 1 (they are printed to 17 digits). */
#define SHARE_SUM_TOLERANCE 1e-9

/* Reads array `key` of item object `o` (at `where`) into `*out` (`*n` numbers), strictly
 * increasing and finite. Returns 0 or CRISK_E_FORMAT. */
static int read_values(const cJSON *o, const char *key, const char *where, double **out,
                       size_t *n, crisk_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *e;
    size_t m = crisk__json_array_size(a);
    if (!cJSON_IsArray(a) || m > MAX_VALUES)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.%s: expected an array of at most %d "
                           "numbers", where, key, MAX_VALUES);
    if (!(*out = malloc((m ? m : 1) * sizeof **out)))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    *n = 0;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) ||
            (*n > 0 && !(e->valuedouble > (*out)[*n - 1])))
            return crisk__fail(err, CRISK_E_FORMAT, "%s.%s[%zu]: expected a finite number "
                               "above the one before", where, key, *n);
        (*out)[(*n)++] = e->valuedouble;
    }
    return 0;
}

/* Reads the shares of item `it` (at `where`): one per bin, each in [0, 1], summing to 1. */
static int read_shares(const cJSON *o, const char *where, crisk__monitor_item *it,
                       crisk_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "shares"), *e;
    if (!cJSON_IsArray(a) || crisk__json_array_size(a) != it->num_bins)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.shares: expected an array of %zu shares "
                           "(one per bin)", where, it->num_bins);
    if (!(it->share = malloc(it->num_bins * sizeof *it->share)))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    double sum = 0;
    size_t k = 0;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 1))
            return crisk__fail(err, CRISK_E_FORMAT, "%s.shares[%zu]: expected a share in "
                               "[0, 1]", where, k);
        sum += it->share[k++] = e->valuedouble;
    }
    if (fabs(sum - 1) > SHARE_SUM_TOLERANCE)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.shares: they sum to %.17g, not 1", where,
                           sum);
    return 0;
}

/* Returns the item index `name` of kind `kind` ("feature", "score") has in `bundle`
 * (features first, then models), or -1. */
static long item_index(const crisk_bundle *bundle, const char *kind, const char *name)
{
    if (strcmp(kind, "feature") == 0)
        return crisk_schema_feature_index(crisk_bundle_schema(bundle), name);
    size_t nf = crisk_schema_num_features(crisk_bundle_schema(bundle));
    for (size_t m = 0; strcmp(kind, "score") == 0 && m < crisk_bundle_num_models(bundle); m++)
        if (strcmp(crisk_bundle_model_name(bundle, m), name) == 0)
            return (long)(nf + m);
    return -1;
}

/* Reads item object `o` (at `where`) into its place among `ref`'s items. */
static int read_item(crisk_reference *ref, const cJSON *o, const char *where, crisk_error *err)
{
    static const char *const keys[] = {"name", "kind", "type", "edges", "codes", "shares", NULL};
    if (!cJSON_IsObject(o))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an object", where);
    int rc = crisk__json_check_keys(o, keys, where, err);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (rc)
        return rc;
    if (!cJSON_IsString(name) || !cJSON_IsString(kind) || !cJSON_IsString(type))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: name, kind and type must be strings",
                           where);
    long i = item_index(ref->bundle, kind->valuestring, name->valuestring);
    if (i < 0)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: the bundle has no %.16s \"%.64s\"", where,
                           kind->valuestring, name->valuestring);
    crisk__monitor_item *it = &ref->items[i];
    if (it->name)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: %.16s \"%.64s\" is given twice", where,
                           kind->valuestring, name->valuestring);
    it->is_score = strcmp(kind->valuestring, "score") == 0;
    it->source = it->is_score ? (size_t)i - crisk_schema_num_features(ref->bundle->schema)
                              : (size_t)i;
    it->name = it->is_score ? crisk_bundle_model_name(ref->bundle, it->source)
                            : crisk_schema_feature_name(ref->bundle->schema, it->source);
    it->is_category = !it->is_score && crisk__monitor_is_category(ref->bundle, (size_t)i);
    if (strcmp(type->valuestring, it->is_category ? "category" : "numeric") != 0)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.type: \"%s\" is %s", where,
                           it->name, it->is_category ? "a category" : "numeric");
    rc = it->is_category ? read_values(o, "codes", where, &it->codes, &it->num_codes, err)
                         : read_values(o, "edges", where, &it->edges, &it->num_edges, err);
    it->num_bins = it->is_category ? it->num_codes + 3 : it->num_edges + 2;
    return rc ? rc : read_shares(o, where, it, err);
}

/* Reads the top level of reference document `root` into `ref`. */
static int read_reference(crisk_reference *ref, const cJSON *root, crisk_error *err)
{
    static const char *const keys[] = {"format", "version", "rows", "warn", "alert", "items",
                                       NULL};
    if (!cJSON_IsObject(root))
        return crisk__fail(err, CRISK_E_FORMAT, "not a JSON object");
    int rc = crisk__json_check_keys(root, keys, "top level", err);
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    const cJSON *warn = cJSON_GetObjectItemCaseSensitive(root, "warn");
    const cJSON *alert = cJSON_GetObjectItemCaseSensitive(root, "alert");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items"), *e;
    if (rc)
        return rc;
    if (!cJSON_IsString(format) || strcmp(format->valuestring, "crisk-reference") != 0 ||
        !cJSON_IsNumber(version) || version->valuedouble != 1)
        return crisk__fail(err, CRISK_E_FORMAT, "format, version: expected "
                           "\"crisk-reference\", 1");
    if (!cJSON_IsNumber(rows) || !(rows->valuedouble >= 1 && rows->valuedouble <= 1e15) ||
        rows->valuedouble != floor(rows->valuedouble))
        return crisk__fail(err, CRISK_E_FORMAT, "rows: expected a positive whole number");
    if (!cJSON_IsNumber(warn) || !cJSON_IsNumber(alert) || !(warn->valuedouble > 0) ||
        !(warn->valuedouble <= alert->valuedouble) || !isfinite(alert->valuedouble))
        return crisk__fail(err, CRISK_E_FORMAT, "warn, alert: expected 0 < warn <= alert");
    ref->rows = (uint64_t)rows->valuedouble;
    ref->warn = warn->valuedouble;
    ref->alert = alert->valuedouble;
    if (!cJSON_IsArray(items))
        return crisk__fail(err, CRISK_E_FORMAT, "items: expected an array");
    size_t k = 0;
    cJSON_ArrayForEach(e, items) {
        char where[48];
        snprintf(where, sizeof where, "items[%zu]", k++);
        if ((rc = read_item(ref, e, where, err)) != 0)
            return rc;
    }
    return 0;
}

/* Refuses a reference that leaves an item of the bundle out: fail closed, a feature
 * without a reference would never alert. */
static int check_complete(const crisk_reference *ref, crisk_error *err)
{
    size_t nf = crisk_schema_num_features(ref->bundle->schema);
    for (size_t i = 0; i < ref->num_items; i++)
        if (!ref->items[i].name)
            return crisk__fail(err, CRISK_E_FORMAT, "items: no entry for %s \"%.64s\" of the "
                               "bundle", i < nf ? "feature" : "score",
                               i < nf ? crisk_schema_feature_name(ref->bundle->schema, i)
                                      : crisk_bundle_model_name(ref->bundle, i - nf));
    return 0;
}

int crisk_reference_load(const crisk_bundle *bundle, crisk_reference **out, crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!bundle || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "bundle and out must not be NULL");
    if (!bundle->reference)
        return crisk__fail(err, CRISK_E_UNSUPPORTED, "the bundle has no reference "
                           "distributions (manifest key \"reference\"), which monitoring "
                           "needs: make them with `crisk monitor --make-reference` "
                           "(docs/bundle.md)");
    crisk_reference *ref = calloc(1, sizeof *ref);
    size_t n = crisk__monitor_num_items(bundle);
    if (!ref || !(ref->items = calloc(n, sizeof *ref->items))) {
        free(ref);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    }
    ref->bundle = bundle;
    ref->num_items = n;
    int rc = read_reference(ref, bundle->reference, err);
    if (rc == 0)
        rc = check_complete(ref, err);
    if (rc == 0 && !isnan(bundle->monitor_warn)) {
        ref->warn = bundle->monitor_warn;   /* the policy's thresholds rule the file's */
        ref->alert = bundle->monitor_alert;
    }
    if (rc) {
        crisk__fail_prefix(err, rc, bundle->reference_path);
        crisk_reference_free(ref);
        return rc;
    }
    *out = ref;
    return 0;
}

void crisk_reference_free(crisk_reference *ref)
{
    if (!ref)
        return;
    crisk__monitor_items_clear(ref->items, ref->num_items);
    free(ref->items);
    free(ref);
}

double crisk_reference_warn(const crisk_reference *ref)
{
    return ref ? ref->warn : NAN;
}

double crisk_reference_alert(const crisk_reference *ref)
{
    return ref ? ref->alert : NAN;
}
