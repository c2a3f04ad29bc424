/*
 * call.c — checking a row-scoring call and splitting its rows across threads.
 */
#include "call.h"

#include "error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int crisk_call_check(const crisk_model *m, const float *rows, size_t nrows, size_t ncols,
                     const crisk_predict_options *o, const void *out,
                     crisk_call_range *range, crisk_error *err)
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
    range->tree_begin = b * m->trees_per_iteration;
    range->tree_end = e * m->trees_per_iteration;
    range->iterations = e - b;
    return 0;
}

/* One slice of a sliced run. */
typedef struct slice {
    crisk_slice_fn fn;
    void *ctx;
    size_t begin, end;
    int rc;
    int on_thread;           /* 1 while a thread of its own runs it */
    crisk_error err;
} slice;

/* Runs one slice and records its result. */
static void run_slice(slice *s)
{
    s->rc = s->fn(s->ctx, s->begin, s->end, &s->err);
}

/* pthread entry for run_slice. */
static void *slice_thread(void *arg)
{
    run_slice(arg);
    return NULL;
}

/* Returns how many threads a run of `n` items uses for the requested count. */
static size_t thread_count(int requested, size_t n, size_t min_per_thread)
{
    long t = requested;
    if (t == 0) {
        t = sysconf(_SC_NPROCESSORS_ONLN);
        if (t < 1)
            t = 1;
    }
    size_t most = min_per_thread ? n / min_per_thread : n;
    if ((size_t)t > most)
        t = most > 0 ? (long)most : 1;
    return (size_t)t;
}

int crisk_run_sliced(int threads, size_t n, size_t min_per_thread, crisk_slice_fn fn,
                     void *ctx, crisk_error *err)
{
    size_t nthreads = thread_count(threads, n, min_per_thread);
    if (nthreads == 1) {
        crisk_error local;
        int rc = fn(ctx, 0, n, &local);
        if (rc && err)
            *err = local;
        return rc;
    }
    slice *slices = malloc(nthreads * sizeof *slices);
    pthread_t *tids = malloc(nthreads * sizeof *tids);
    if (!slices || !tids) {
        free(slices);
        free(tids);
        return crisk_fail(err, CRISK_E_NOMEM, "out of memory for %zu threads", nthreads);
    }
    for (size_t t = 0; t < nthreads; t++) {
        memset(&slices[t], 0, sizeof slices[t]);
        slices[t].fn = fn;
        slices[t].ctx = ctx;
        slices[t].begin = n * t / nthreads;
        slices[t].end = n * (t + 1) / nthreads;
    }
    /* A thread that cannot start has its slice run here, so a run never loses items. */
    for (size_t t = 1; t < nthreads; t++)
        slices[t].on_thread =
            pthread_create(&tids[t], NULL, slice_thread, &slices[t]) == 0;
    run_slice(&slices[0]);
    for (size_t t = 1; t < nthreads; t++) {
        if (slices[t].on_thread)
            pthread_join(tids[t], NULL);
        else
            run_slice(&slices[t]);
    }
    int rc = 0;
    for (size_t t = 0; t < nthreads && rc == 0; t++)
        if (slices[t].rc) {
            rc = slices[t].rc;
            if (err)
                *err = slices[t].err;
        }
    free(slices);
    free(tids);
    return rc;
}
