/*
 * common/pool.c — crisk_pool: worker threads that sleep on a condition variable between calls,
 * and the claiming of a call's pieces by the threads that run it.
 */
#include "common/pool.h"

#include "common/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* Pieces each thread's share of a run is cut into: a thread the scheduler delays (on a
 * loaded machine) leaves its pieces to the threads that run. */
#define PIECES_PER_THREAD 8

/* What the threads of a run share: the next item not yet claimed. */
typedef struct sliced_run {
    crisk__slice_fn fn;
    void *ctx;
    size_t n, piece;
    atomic_size_t next;
    atomic_int failed;       /* set by the first failing piece: the others stop claiming */
} sliced_run;

/* One thread's part of a run: slot 0 is the calling thread's, slot i worker i's. */
typedef struct worker {
    sliced_run *run;
    int rc;
    crisk_error err;
} worker;

/* A worker thread and the slot it runs. */
typedef struct pool_thread {
    crisk_pool *pool;
    size_t slot;
    pthread_t tid;
} pool_thread;

struct crisk_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* a run was posted, or the pool stops */
    pthread_cond_t done;      /* the last worker of a run has finished */
    atomic_flag busy;         /* held by the call using the pool */
    size_t num_workers;       /* workers started; fixed once created */
    pool_thread *threads;     /* num_workers */
    worker *slots;            /* num_workers + 1 */
    /* Under `lock`: */
    unsigned long generation; /* runs posted so far */
    size_t helpers;           /* workers 1..helpers take part in the current run */
    size_t active;            /* of those, how many have not finished it */
    int stop;
};

size_t crisk__online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (size_t)n;
}

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

/* pthread entry point of a worker: sleeps until a run it takes part in is posted, runs
 * its slot, reports it finished; returns when the pool stops. */
static void *worker_main(void *arg)
{
    pool_thread *t = arg;
    crisk_pool *p = t->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stop)
            break;
        seen = p->generation;
        if (t->slot > p->helpers)
            continue;
        pthread_mutex_unlock(&p->lock);
        run_pieces(&p->slots[t->slot]);
        pthread_mutex_lock(&p->lock);
        if (--p->active == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int crisk_pool_create(int threads, crisk_pool **out, crisk_error *err)
{
    if (!out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "out must not be NULL");
    *out = NULL;
    if (threads < 0)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "threads = %d is negative", threads);
    size_t want = threads ? (size_t)threads : crisk__online_cpus();
    crisk_pool *p = calloc(1, sizeof *p);
    if (!p)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a pool");
    p->slots = calloc(want, sizeof *p->slots);
    p->threads = calloc(want, sizeof *p->threads);
    int locked = p->slots && p->threads && pthread_mutex_init(&p->lock, NULL) == 0;
    int woken = locked && pthread_cond_init(&p->wake, NULL) == 0;
    if (!woken || pthread_cond_init(&p->done, NULL) != 0) {
        if (woken)
            pthread_cond_destroy(&p->wake);
        if (locked)
            pthread_mutex_destroy(&p->lock);
        free(p->slots);
        free(p->threads);
        free(p);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a pool of %zu threads", want);
    }
    atomic_flag_clear(&p->busy);
    /* A worker that cannot start (a thread limit) is no failure: the pool has fewer. */
    while (p->num_workers + 1 < want) {
        pool_thread *t = &p->threads[p->num_workers];
        t->pool = p;
        t->slot = p->num_workers + 1;
        if (pthread_create(&t->tid, NULL, worker_main, t) != 0)
            break;
        p->num_workers++;
    }
    *out = p;
    return 0;
}

void crisk_pool_free(crisk_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->num_workers; i++)
        pthread_join(p->threads[i].tid, NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->slots);
    free(p->threads);
    free(p);
}

int crisk_pool_threads(const crisk_pool *p)
{
    return p ? (int)p->num_workers + 1 : 0;
}

/* Runs `fn` over items [0, n) on the calling thread; returns as crisk__pool_run. `err` is
 * left untouched on success. */
static int run_alone(size_t n, crisk__slice_fn fn, void *ctx, crisk_error *err)
{
    crisk_error local;
    int rc = fn(ctx, 0, n, &local);
    if (rc && err)
        *err = local;
    return rc;
}

int crisk__pool_run(crisk_pool *p, size_t nthreads, size_t n, crisk__slice_fn fn, void *ctx,
                    crisk_error *err)
{
    if (p && nthreads > p->num_workers + 1)
        nthreads = p->num_workers + 1;
    /* A pool busy with another call leaves this one to its calling thread: sharing the
     * workers would only oversubscribe the cores they run on. */
    if (!p || nthreads <= 1 || atomic_flag_test_and_set_explicit(&p->busy,
                                                                 memory_order_acquire))
        return run_alone(n, fn, ctx, err);
    sliced_run run = {.fn = fn, .ctx = ctx, .n = n,
                      .piece = n / (nthreads * PIECES_PER_THREAD)};
    if (run.piece == 0)
        run.piece = 1;
    atomic_init(&run.next, 0);
    atomic_init(&run.failed, 0);
    for (size_t t = 0; t < nthreads; t++)
        p->slots[t] = (worker){.run = &run};
    pthread_mutex_lock(&p->lock);
    p->helpers = nthreads - 1;
    p->active = nthreads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    run_pieces(&p->slots[0]);
    pthread_mutex_lock(&p->lock);
    while (p->active > 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
    int rc = 0;
    for (size_t t = 0; t < nthreads && rc == 0; t++)
        if (p->slots[t].rc) {
            rc = p->slots[t].rc;
            if (err)
                *err = p->slots[t].err;
        }
    atomic_flag_clear_explicit(&p->busy, memory_order_release);
    return rc;
}
