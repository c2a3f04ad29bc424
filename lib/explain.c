/*
 * explain.c — crisk_contributions and crisk_interactions: checking a call, compiling the
 * trees it explains once, and splitting its rows across threads.
 */
#include "crisk.h"

#include "call.h"
#include "error.h"
#include "explain.h"
#include "model.h"

#include <stdint.h>

/* Rows below which another thread costs more than it saves. */
#define MIN_ROWS_PER_THREAD 16

/* What a call explains; each thread takes a slice of its rows. */
typedef struct explain_job {
    const crisk_model *model;
    const crisk_shap *shap;  /* NULL for a linear model */
    const float *rows;
    int interactions;
    float *out;
} explain_job;

/* Explains rows [begin, end) of the job (a crisk_slice_fn). */
static int run_job(void *ctx, size_t begin, size_t end, crisk_error *err)
{
    const explain_job *job = ctx;
    if (job->shap)
        return crisk_shap_rows(job->shap, job->rows, begin, end, job->interactions, job->out,
                               err);
    return crisk_linear_explain_rows(job->model, job->rows, begin, end, job->interactions,
                                     job->out, err);
}

/* The body of both entry points: contributions (interactions == 0) or interactions. */
static int explain(const crisk_model *m, const float *rows, size_t nrows, size_t ncols,
                   const crisk_predict_options *opts, float *out, int interactions,
                   crisk_error *err)
{
    crisk_predict_options defaults;
    if (!opts) {
        crisk_predict_options_init(&defaults);
        opts = &defaults;
    }
    crisk_call_range range;
    int rc = crisk_call_check(m, rows, nrows, ncols, opts, out, &range, err);
    if (rc)
        return rc;
    if (m->num_linear_terms > 0)
        return crisk_fail(err, CRISK_E_UNSUPPORTED,
                          "contributions of LightGBM models with linear trees are not "
                          "supported");
    size_t C = m->num_features + 1, per_row = m->num_outputs * C;
    if (interactions && per_row > SIZE_MAX / C)
        return crisk_fail(err, CRISK_E_LIMIT, "interactions of %zu features do not fit in "
                          "memory", m->num_features);
    if (interactions)
        per_row *= C;
    if (nrows > SIZE_MAX / sizeof(float) / per_row)
        return crisk_fail(err, CRISK_E_LIMIT, "%zu rows of %zu values do not fit in memory",
                          nrows, per_row);
    if (nrows == 0)
        return 0;
    explain_job job = {.model = m, .rows = rows, .interactions = interactions, .out = out};
    crisk_shap *shap = NULL;
    if (m->num_trees > 0 || !m->weights) {
        /* Interactions compute leaf by leaf: no tables. */
        rc = crisk_shap_build(m, range.tree_begin, range.tree_end, interactions ? 0 : nrows,
                              opts->threads, &shap, err);
        if (rc)
            return rc;
        job.shap = shap;
    }
    rc = crisk_run_sliced(opts->threads, nrows, MIN_ROWS_PER_THREAD, run_job, &job, err);
    crisk_shap_free(shap);
    return rc;
}

int crisk_contributions(const crisk_model *model, const float *rows, size_t nrows,
                        size_t ncols, const crisk_predict_options *opts, float *out,
                        crisk_error *err)
{
    return explain(model, rows, nrows, ncols, opts, out, 0, err);
}

int crisk_interactions(const crisk_model *model, const float *rows, size_t nrows,
                       size_t ncols, const crisk_predict_options *opts, float *out,
                       crisk_error *err)
{
    return explain(model, rows, nrows, ncols, opts, out, 1, err);
}
