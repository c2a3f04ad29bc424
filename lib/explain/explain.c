/*
 * explain/explain.c — crisk_contributions and crisk_interactions: checking a call, compiling the
 * trees it explains once (or reusing an explainer cached for the model), and splitting
 * its rows across threads.
 */
#include "crisk.h"

#include "predict/call.h"
#include "common/error.h"
#include "explain/shap.h"
#include "model/model.h"

#include <stdint.h>

/* Rows below which another thread costs more than it saves. */
#define MIN_ROWS_PER_THREAD 16

/* The rows a cached explainer's tables are chosen for: enough for every table the
 * budget allows, since a cached explainer serves many calls. */
#define CACHED_TABLE_ROWS ((size_t)1 << 16)

/* What a call explains; each thread takes a slice of its rows. */
typedef struct explain_job {
    const crisk_model *model;
    const crisk__shap *shap;  /* NULL for a linear model */
    const float *rows;
    int interactions;
    float *out;
} explain_job;

/* Explains rows [begin, end) of the job (a crisk__slice_fn). */
static int run_job(void *ctx, size_t begin, size_t end, crisk_error *err)
{
    const explain_job *job = ctx;
    if (job->shap)
        return crisk__shap_rows(job->shap, job->rows, begin, end, job->interactions, job->out,
                                err);
    return crisk__linear_explain_rows(job->model, job->rows, begin, end, job->interactions,
                                      job->out, err);
}

/* Stores in `*out` the explainer kept in `slot`, building it (for every tree of `m`,
 * with tables for CACHED_TABLE_ROWS rows) when the slot is empty. Returns 0 or an error
 * of crisk__shap_build. */
static int cached_shap(const crisk_model *m, crisk__shap_slot *slot, crisk_pool *pool,
                       int threads, const crisk__shap **out, crisk_error *err)
{
    crisk__shap *shap = atomic_load_explicit(slot, memory_order_acquire);
    if (!shap) {
        crisk__shap *expected = NULL;
        int rc = crisk__shap_build(m, 0, m->num_trees, CACHED_TABLE_ROWS, pool, threads, &shap,
                                   err);
        if (rc)
            return rc;
        /* Another thread may have filled the slot meanwhile: keep its explainer. */
        if (!atomic_compare_exchange_strong_explicit(slot, &expected, shap,
                                                     memory_order_acq_rel,
                                                     memory_order_acquire)) {
            crisk__shap_free(shap);
            shap = expected;
        }
    }
    *out = shap;
    return 0;
}

/* The body of every entry point: contributions (interactions == 0) or interactions,
 * with the explainer of `slot` (NULL: compiled for this call only) when it applies. */
static int explain(const crisk_model *m, crisk__shap_slot *slot, const float *rows,
                   size_t nrows, size_t ncols, const crisk_predict_options *opts, float *out,
                   int interactions, crisk_error *err)
{
    crisk_predict_options defaults;
    if (!opts) {
        crisk_predict_options_init(&defaults, CRISK_PREDICT_OPTIONS_VERSION);
        opts = &defaults;
    }
    crisk__call_range range;
    int rc = crisk__call_check(m, rows, nrows, ncols, opts, out, &range, err);
    if (rc)
        return rc;
    if (m->num_linear_terms > 0)
        return crisk__fail(err, CRISK_E_UNSUPPORTED,
                           "contributions of LightGBM models with linear trees are not "
                           "supported");
    size_t C = m->num_features + 1, per_row = m->num_outputs * C;
    if (interactions && per_row > SIZE_MAX / C)
        return crisk__fail(err, CRISK_E_LIMIT, "interactions of %zu features do not fit in "
                           "memory", m->num_features);
    if (interactions)
        per_row *= C;
    if (nrows > SIZE_MAX / sizeof(float) / per_row)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu rows of %zu values do not fit in memory",
                           nrows, per_row);
    if (nrows == 0)
        return 0;
    explain_job job = {.model = m, .rows = rows, .interactions = interactions, .out = out};
    crisk__shap *shap = NULL;
    int whole = range.tree_begin == 0 && range.tree_end == m->num_trees;
    if (slot && whole && !interactions && m->num_trees > 0) {
        rc = cached_shap(m, slot, opts->pool, opts->threads, &job.shap, err);
        if (rc)
            return rc;
    } else if (m->num_trees > 0 || !m->weights) {
        /* Interactions compute leaf by leaf: no tables. */
        rc = crisk__shap_build(m, range.tree_begin, range.tree_end, interactions ? 0 : nrows,
                               opts->pool, opts->threads, &shap, err);
        if (rc)
            return rc;
        job.shap = shap;
    }
    rc = crisk__run_sliced(opts->pool, opts->threads, nrows, MIN_ROWS_PER_THREAD, run_job, &job,
                           err);
    crisk__shap_free(shap);
    return rc;
}

int crisk_contributions(const crisk_model *model, const float *rows, size_t nrows,
                        size_t ncols, const crisk_predict_options *opts, float *out,
                        crisk_error *err)
{
    return explain(model, NULL, rows, nrows, ncols, opts, out, 0, err);
}

int crisk_interactions(const crisk_model *model, const float *rows, size_t nrows,
                       size_t ncols, const crisk_predict_options *opts, float *out,
                       crisk_error *err)
{
    return explain(model, NULL, rows, nrows, ncols, opts, out, 1, err);
}

int crisk__contributions_cached(const crisk_model *model, crisk__shap_slot *slot,
                                const float *rows, size_t nrows, size_t ncols,
                                const crisk_predict_options *opts, float *out,
                                crisk_error *err)
{
    return explain(model, slot, rows, nrows, ncols, opts, out, 0, err);
}

void crisk__shap_slot_clear(crisk__shap_slot *slot)
{
    crisk__shap_free(atomic_exchange(slot, NULL));
}
