/*
 * predict.c — crisk_predict: checking a call, splitting rows across threads, and running
 * margins, engine and transform over chunks of rows.
 */
#include "crisk.h"

#include "engine.h"
#include "error.h"
#include "linear.h"
#include "model.h"
#include "objective.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Margins per chunk held on the stack: one chunk of rows is scored at a time, so a call
 * needs no heap unless a model has more outputs than this. */
#define STACK_MARGINS 2048
/* Rows below which another thread costs more than it saves. */
#define MIN_ROWS_PER_THREAD 512

void crisk_predict_options_init(crisk_predict_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->threads = 1;
    opts->output = CRISK_OUTPUT_TRANSFORMED;
}

/* What one thread scores: rows [begin, end) of a call. */
typedef struct predict_job {
    const crisk_model *model;
    const float *rows;
    size_t begin, end;
    size_t tree_begin, tree_end, iterations;
    int as_margin;
    float *out;
    int rc;
    int on_thread;           /* 1 while a thread of its own runs it */
    crisk_error err;
} predict_job;

/* Scores job->rows [begin, end) chunk by chunk; records the first failure in the job. */
static void run_job(predict_job *job)
{
    const crisk_model *m = job->model;
    size_t F = m->num_features, G = m->num_outputs;
    size_t per_row = job->as_margin ? G : crisk_model_num_outputs(m);
    double stack_margins[STACK_MARGINS], *margins = stack_margins;
    size_t chunk = STACK_MARGINS / G;
    if (chunk == 0) {
        chunk = 64;
        margins = malloc(chunk * G * sizeof *margins);
        if (!margins) {
            job->rc = crisk_fail(&job->err, CRISK_E_NOMEM, "out of memory for margins");
            return;
        }
    }
    job->rc = 0;
    for (size_t r = job->begin; r < job->end && job->rc == 0; r += chunk) {
        size_t n = job->end - r < chunk ? job->end - r : chunk;
        const float *rows = job->rows + r * F;
        if (m->num_trees > 0 || !m->weights) {
            for (size_t i = 0; i < n; i++)
                memcpy(margins + i * G, m->base_margin, G * sizeof *margins);
            crisk_engine_add_trees(m, rows, n, job->tree_begin, job->tree_end, margins);
        } else {
            job->rc = crisk_linear_margins(m, rows, n, r, margins, &job->err);
        }
        if (job->rc == 0)
            crisk_objective_apply(m, margins, n, job->as_margin, job->iterations,
                                  job->out + r * per_row);
    }
    if (margins != stack_margins)
        free(margins);
}

/* pthread entry for run_job. */
static void *job_thread(void *arg)
{
    run_job(arg);
    return NULL;
}

/* Returns how many threads a call of `nrows` rows uses for the requested count. */
static size_t thread_count(int requested, size_t nrows)
{
    long t = requested;
    if (t == 0) {
        t = sysconf(_SC_NPROCESSORS_ONLN);
        if (t < 1)
            t = 1;
    }
    size_t most = nrows / MIN_ROWS_PER_THREAD;
    if ((size_t)t > most)
        t = most > 0 ? (long)most : 1;
    return (size_t)t;
}

/* Checks the arguments of crisk_predict and fills the tree range of the job template. */
static int check_call(const crisk_model *m, const float *rows, size_t nrows, size_t ncols,
                      const crisk_predict_options *o, float *out, predict_job *tmpl,
                      crisk_error *err)
{
    if (!m || (nrows > 0 && (!rows || !out)))
        return crisk_fail(err, CRISK_E_INVALID_ARGUMENT, "model, rows and out must not be NULL");
    if (ncols != m->num_features)
        return crisk_fail(err, CRISK_E_SHAPE, "rows have %zu columns; the model takes %zu",
                          ncols, m->num_features);
    if (o->threads < 0)
        return crisk_fail(err, CRISK_E_INVALID_ARGUMENT, "threads = %d is negative", o->threads);
    if (o->output != CRISK_OUTPUT_TRANSFORMED && o->output != CRISK_OUTPUT_MARGIN)
        return crisk_fail(err, CRISK_E_INVALID_ARGUMENT, "unknown output kind %d", o->output);
    size_t b = o->iteration_begin, e = o->iteration_end;
    if (m->num_trees == 0 && m->weights) {
        if (b != 0 || e != 0)
            return crisk_fail(err, CRISK_E_INVALID_ARGUMENT,
                              "iteration ranges apply to tree models only");
    } else {
        if (e == 0)
            e = m->num_iterations;
        if (b > e || e > m->num_iterations)
            return crisk_fail(err, CRISK_E_INVALID_ARGUMENT,
                              "iteration range [%zu, %zu) outside the model's %zu iterations",
                              o->iteration_begin, o->iteration_end, m->num_iterations);
    }
    memset(tmpl, 0, sizeof *tmpl);
    tmpl->model = m;
    tmpl->rows = rows;
    tmpl->out = out;
    tmpl->tree_begin = b * m->trees_per_iteration;
    tmpl->tree_end = e * m->trees_per_iteration;
    tmpl->iterations = e - b;
    tmpl->as_margin = o->output == CRISK_OUTPUT_MARGIN;
    return 0;
}

int crisk_predict(const crisk_model *model, const float *rows, size_t nrows, size_t ncols,
                  const crisk_predict_options *opts, float *out, crisk_error *err)
{
    crisk_predict_options defaults;
    if (!opts) {
        crisk_predict_options_init(&defaults);
        opts = &defaults;
    }
    predict_job tmpl;
    int rc = check_call(model, rows, nrows, ncols, opts, out, &tmpl, err);
    if (rc)
        return rc;
    if (nrows == 0)
        return 0;
    size_t nthreads = thread_count(opts->threads, nrows);
    if (nthreads == 1) {
        tmpl.begin = 0;
        tmpl.end = nrows;
        run_job(&tmpl);
        if (tmpl.rc && err)
            *err = tmpl.err;
        return tmpl.rc;
    }
    predict_job *jobs = malloc(nthreads * sizeof *jobs);
    pthread_t *tids = malloc(nthreads * sizeof *tids);
    if (!jobs || !tids) {
        free(jobs);
        free(tids);
        return crisk_fail(err, CRISK_E_NOMEM, "out of memory for %zu threads", nthreads);
    }
    for (size_t t = 0; t < nthreads; t++) {
        jobs[t] = tmpl;
        jobs[t].begin = nrows * t / nthreads;
        jobs[t].end = nrows * (t + 1) / nthreads;
    }
    /* The calling thread takes the first slice; a thread that cannot start has its slice
     * run here too, so a call never loses rows. */
    for (size_t t = 1; t < nthreads; t++)
        jobs[t].on_thread = pthread_create(&tids[t], NULL, job_thread, &jobs[t]) == 0;
    run_job(&jobs[0]);
    for (size_t t = 1; t < nthreads; t++) {
        if (jobs[t].on_thread)
            pthread_join(tids[t], NULL);
        else
            run_job(&jobs[t]);
    }
    rc = 0;
    for (size_t t = 0; t < nthreads && rc == 0; t++)
        if (jobs[t].rc) {
            rc = jobs[t].rc;
            if (err)
                *err = jobs[t].err;
        }
    free(jobs);
    free(tids);
    return rc;
}
