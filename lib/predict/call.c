/*
 * predict/call.c — checking a row-scoring call and choosing the threads that split its rows.
 */
#include "predict/call.h"

#include "common/error.h"

int crisk__call_check(const crisk_model *m, const float *rows, size_t nrows, size_t ncols,
                      const crisk_predict_options *o, const void *out,
                      crisk__call_range *range, crisk_error *err)
{
    if (!m || (nrows > 0 && (!rows || !out)))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "model, rows and out must not be NULL");
    int rc = crisk__options_version(o->version, CRISK_PREDICT_OPTIONS_VERSION,
                                    "crisk_predict_options", err);
    if (rc)
        return rc;
    if (ncols != m->num_features)
        return crisk__fail(err, CRISK_E_SHAPE, "rows have %zu columns; the model takes %zu",
                           ncols, m->num_features);
    if (o->threads < 0)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "threads = %d is negative", o->threads);
    if (o->output != CRISK_OUTPUT_TRANSFORMED && o->output != CRISK_OUTPUT_MARGIN)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "unknown output kind %d", o->output);
    size_t b = o->iteration_begin, e = o->iteration_end;
    if (m->num_trees == 0 && m->weights) {
        if (b != 0 || e != 0)
            return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                               "iteration ranges apply to tree models only");
    } else {
        if (e == 0)
            e = m->num_iterations;
        if (b > e || e > m->num_iterations)
            return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                               "iteration range [%zu, %zu) outside the model's %zu iterations",
                               o->iteration_begin, o->iteration_end, m->num_iterations);
    }
    range->tree_begin = b * m->trees_per_iteration;
    range->tree_end = e * m->trees_per_iteration;
    range->iterations = e - b;
    return 0;
}

/* Returns how many threads a run of `n` items uses for the requested count: up to the
 * pool's threads with a pool, up to the online CPUs for 0 without one, and fewer when a
 * thread would get under `min_per_thread` items. */
static size_t thread_count(const crisk_pool *pool, int requested, size_t n,
                           size_t min_per_thread)
{
    /* Counting the CPUs reads /sys (microseconds): only when the count is asked for. */
    size_t t = requested == 0 ? (pool ? (size_t)crisk_pool_threads(pool) : crisk__online_cpus())
                              : (size_t)requested;
    if (pool && t > (size_t)crisk_pool_threads(pool))
        t = (size_t)crisk_pool_threads(pool);
    size_t by_items = min_per_thread ? n / min_per_thread : n;
    if (t > by_items)
        t = by_items > 0 ? by_items : 1;
    return t;
}

int crisk__run_sliced(crisk_pool *pool, int threads, size_t n, size_t min_per_thread,
                      crisk__slice_fn fn, void *ctx, crisk_error *err)
{
    /* Too few items for two threads (one declaration scored): the calling thread, without
     * counting CPUs or asking the pool. */
    if (n < 2 * min_per_thread)
        return crisk__pool_run(NULL, 1, n, fn, ctx, err);
    size_t nthreads = thread_count(pool, threads, n, min_per_thread);
    if (pool || nthreads == 1)
        return crisk__pool_run(pool, nthreads, n, fn, ctx, err);
    /* Without the caller's pool, the call's threads live for this call only. */
    crisk_pool *own;
    int rc = crisk_pool_create((int)nthreads, &own, err);
    if (rc == 0) {
        rc = crisk__pool_run(own, nthreads, n, fn, ctx, err);
        crisk_pool_free(own);
    }
    return rc;
}
