/*
 * call.c — checking a row-scoring call and splitting its rows across threads.
 */
#include "call.h"

#include "error.h"

#include <pthread.h>
#include <stdatomic.h>
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

/* Pieces each thread's share of a run is cut into: a thread the scheduler delays (on a
 * loaded machine) leaves its pieces to the threads that run. */
#define PIECES_PER_THREAD 8

/* What the threads of a sliced run share: the next item not yet claimed. */
typedef struct sliced_run {
    crisk_slice_fn fn;
    void *ctx;
    size_t n, piece;
    atomic_size_t next;
    atomic_int failed;       /* set by the first failing piece: the others stop claiming */
} sliced_run;

/* One thread's part of a sliced run. */
typedef struct worker {
    sliced_run *run;
    int rc;
    int on_thread;           /* 1 while a thread of its own runs it */
    crisk_error err;
} worker;

/* Claims and runs pieces of the run until none is left or one has failed; records the
 * worker's failure, if any. */
static void run_pieces(worker *w)
{
    sliced_run *r = w->run;
    while (w->rc == 0 && !atomic_load_explicit(&r->failed, memory_order_relaxed)) {
        size_t b = atomic_fetch_add_explicit(&r->next, r->piece, memory_order_relaxed);
        if (b >= r->n)
            break;
        size_t e = r->n - b < r->piece ? r->n : b + r->piece;
        w->rc = r->fn(r->ctx, b, e, &w->err);
        if (w->rc)
            atomic_store_explicit(&r->failed, 1, memory_order_relaxed);
    }
}

/* pthread entry point: runs one worker. */
static void *worker_thread(void *arg)
{
    run_pieces(arg);
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
    worker *workers = malloc(nthreads * sizeof *workers);
    pthread_t *tids = malloc(nthreads * sizeof *tids);
    if (!workers || !tids) {
        free(workers);
        free(tids);
        return crisk_fail(err, CRISK_E_NOMEM, "out of memory for %zu threads", nthreads);
    }
    sliced_run run = {.fn = fn, .ctx = ctx, .n = n,
                      .piece = n / (nthreads * PIECES_PER_THREAD)};
    if (run.piece == 0)
        run.piece = 1;
    atomic_init(&run.next, 0);
    atomic_init(&run.failed, 0);
    for (size_t t = 0; t < nthreads; t++)
        workers[t] = (worker){.run = &run};
    /* A thread that cannot start is no loss: the others claim its pieces. */
    for (size_t t = 1; t < nthreads; t++)
        workers[t].on_thread =
            pthread_create(&tids[t], NULL, worker_thread, &workers[t]) == 0;
    run_pieces(&workers[0]);
    for (size_t t = 1; t < nthreads; t++)
        if (workers[t].on_thread)
            pthread_join(tids[t], NULL);
    int rc = 0;
    for (size_t t = 0; t < nthreads && rc == 0; t++)
        if (workers[t].rc) {
            rc = workers[t].rc;
            if (err)
                *err = workers[t].err;
        }
    free(workers);
    free(tids);
    return rc;
}
