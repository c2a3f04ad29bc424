/*
 * predict/predict.c — crisk_predict: running margins, engine and transform over chunks of rows
 * (binary logistic models: one fused pass, linear.c). Argument checks and the split of
 * rows across threads live in call.c.
 */
#include "crisk.h"

#include "predict/call.h"
#include "engine/engine.h"
#include "common/error.h"
#include "engine/linear.h"
#include "model/model.h"
#include "engine/objective.h"

#include <stdlib.h>
#include <string.h>

/* Margins per chunk held on the stack: one chunk of rows is scored at a time, so a call
 * needs no heap unless a model has more outputs than this. */
#define STACK_MARGINS 2048
/* Rows below which another thread costs more than it saves. */
#define MIN_ROWS_PER_THREAD 512

int crisk_predict_options_init(crisk_predict_options *opts, unsigned int version)
{
    if (!opts || version != CRISK_PREDICT_OPTIONS_VERSION)
        return CRISK_E_INVALID_ARGUMENT;
    opts->version = version;
    opts->threads = 1;
    opts->output = CRISK_OUTPUT_TRANSFORMED;
    opts->iteration_begin = opts->iteration_end = 0;
    opts->pool = NULL;
    return 0;
}

/* What a call scores; each thread takes a slice of its rows. */
typedef struct predict_job {
    const crisk_model *model;
    const float *rows;
    crisk__call_range range;
    int as_margin;
    float *out;
} predict_job;

/* Scores rows [begin, end) of the job chunk by chunk (a crisk__slice_fn); returns 0 or the
 * first failure's code with `err` filled. */
static int run_job(void *ctx, size_t begin, size_t end, crisk_error *err)
{
    const predict_job *job = ctx;
    const crisk_model *m = job->model;
    size_t F = m->num_features, G = m->num_outputs;
    if (crisk__linear_is_binary(m))
        return crisk__linear_binary_outputs(m, job->rows + begin * F, end - begin, begin,
                                            job->as_margin, job->out + begin, err);
    size_t per_row = job->as_margin ? G : crisk_model_num_outputs(m);
    double stack_margins[STACK_MARGINS], *margins = stack_margins;
    size_t chunk = STACK_MARGINS / G;
    if (chunk == 0) {
        chunk = 64;
        margins = malloc(chunk * G * sizeof *margins);
        if (!margins)
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for margins");
    }
    int rc = 0;
    for (size_t r = begin; r < end && rc == 0; r += chunk) {
        size_t n = end - r < chunk ? end - r : chunk;
        const float *rows = job->rows + r * F;
        if (m->num_trees > 0 || !m->weights) {
            for (size_t i = 0; i < n; i++)
                memcpy(margins + i * G, m->base_margin, G * sizeof *margins);
            crisk__engine_add_trees(m, rows, n, job->range.tree_begin, job->range.tree_end,
                                    margins);
        } else {
            rc = crisk__linear_margins(m, rows, n, r, margins, err);
        }
        if (rc == 0)
            crisk__objective_apply(m, margins, n, job->as_margin, job->range.iterations,
                                   job->out + r * per_row);
    }
    if (margins != stack_margins)
        free(margins);
    return rc;
}

int crisk_predict(const crisk_model *model, const float *rows, size_t nrows, size_t ncols,
                  const crisk_predict_options *opts, float *out, crisk_error *err)
{
    crisk_predict_options defaults;
    if (!opts) {
        crisk_predict_options_init(&defaults, CRISK_PREDICT_OPTIONS_VERSION);
        opts = &defaults;
    }
    predict_job job = {.model = model, .rows = rows, .out = out};
    int rc = crisk__call_check(model, rows, nrows, ncols, opts, out, &job.range, err);
    if (rc)
        return rc;
    if (nrows == 0)
        return 0;
    job.as_margin = opts->output == CRISK_OUTPUT_MARGIN;
    return crisk__run_sliced(opts->pool, opts->threads, nrows, MIN_ROWS_PER_THREAD, run_job,
                             &job, err);
}
