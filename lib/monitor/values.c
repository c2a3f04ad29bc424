/*
 * monitor/values.c — the values a monitor looks at for each declaration: features as
 * scoring builds them, a category's unseen value marked apart from missing, and scores.
 */
#include "monitor/values.h"

#include "common/error.h"
#include "common/strmap.h"
#include "decl/types.h"
#include "monitor/types.h"

#include <math.h>
#include <stdlib.h>

size_t crisk__monitor_num_items(const crisk_bundle *bundle)
{
    return crisk_schema_num_features(crisk_bundle_schema(bundle)) +
           crisk_bundle_num_models(bundle);
}

int crisk__monitor_is_category(const crisk_bundle *bundle, size_t i)
{
    const crisk_schema *s = crisk_bundle_schema(bundle);
    return i < s->nfeatures && s->features[i].op == CRISK__OP_CATEGORY;
}

/* Returns feature value `v` of category feature `f` for row `row`, with a value the
 * dictionary lacks made CRISK__MONITOR_UNSEEN: scoring gives it code n ("unknown":
 * "code") or NaN, which then stands for unseen when the field has a value. */
static double category_value(const crisk_schema *s, const crisk__schema_feature *f,
                             const crisk_batch *batch, size_t row, float v)
{
    size_t len;
    if (f->arg)
        return v == (float)s->fit.dicts[f->dict].size ? CRISK__MONITOR_UNSEEN : v;
    if (isnan(v) && crisk__batch_text_at(batch, row, f->field, &len))
        return CRISK__MONITOR_UNSEEN;
    return v;
}

int crisk__monitor_values(const crisk_bundle *bundle, const crisk_batch *batch,
                          const crisk_results *results, double *out, crisk_error *err)
{
    const crisk_schema *s = crisk_bundle_schema(bundle);
    size_t n = crisk_batch_size(batch), nf = s->nfeatures, nm = crisk_bundle_num_models(bundle);
    size_t ni = nf + nm;
    if (crisk_batch_schema(batch) != s)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the batch was made for another "
                           "schema than the bundle's");
    if (crisk_results_size(results) != n)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the results hold %zu declarations, "
                           "the batch %zu", crisk_results_size(results), n);
    float *features = malloc((n ? n : 1) * (nf ? nf : 1) * sizeof *features);
    if (!features)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu rows of features", n);
    int rc = crisk_schema_features(s, batch, features, err);
    for (size_t r = 0; rc == 0 && r < n; r++) {
        for (size_t j = 0; j < nf; j++) {
            float v = features[r * nf + j];
            const crisk__schema_feature *f = &s->features[j];
            out[r * ni + j] = f->op == CRISK__OP_CATEGORY ? category_value(s, f, batch, r, v)
                                                          : (double)v;
        }
        for (size_t m = 0; m < nm; m++)
            out[r * ni + nf + m] = crisk_results_score(results, r, m);
    }
    free(features);
    return rc;
}
