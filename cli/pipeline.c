/*
 * pipeline.c — batches read, worked on and written by N workers in input order: each
 * worker takes the next batch under the reading turn, works on it (in parallel with the
 * other workers, or in input order when asked), formats it in parallel, then waits for
 * its batch's writing turn.
 * Reading one batch, working on another and writing a third thus overlap, and so does the
 * work of several batches; one worker runs in the calling thread, without a thread.
 */
#include "cli.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

/* No failure yet: larger than any batch's sequence number. */
#define NO_FAILURE SIZE_MAX

/* What the workers share. */
typedef struct pipeline {
    const cli_pipeline_stages *stages;
    pthread_mutex_t lock;
    pthread_cond_t turn;        /* broadcast whenever a turn or `reading` changes */
    int reading;                /* a worker is reading */
    int ended;                  /* the input ended, or a stage failed */
    size_t next_seq;            /* the sequence number of the next batch read */
    size_t work_turn, write_turn; /* the batch whose ordered work / writing comes next */
    size_t failed_seq;          /* the earliest batch that failed (NO_FAILURE: none) */
    int failed_rc;
    crisk_error *err;           /* the earliest failure's message */
} pipeline;

/* One worker: its slot and its own message for a failure. */
typedef struct worker {
    pipeline *p;
    void *slot;
    crisk_error err;
} worker;

/* Records worker `w`'s failure `rc` of batch `seq` when it is the earliest so far (the one
 * a sequential run would have stopped at). Called with the lock held. */
static void record_failure(worker *w, size_t seq, int rc)
{
    pipeline *p = w->p;
    p->ended = 1;
    if (seq < p->failed_seq) {
        p->failed_seq = seq;
        p->failed_rc = rc;
        if (p->err)
            *p->err = w->err;
    }
}

/* Waits for `*turn` to reach `seq`, then returns whether an earlier batch (or this one)
 * failed. Called with the lock held. */
static int wait_turn(pipeline *p, const size_t *turn, size_t seq)
{
    while (*turn != seq)
        pthread_cond_wait(&p->turn, &p->lock);
    return p->failed_seq <= seq;
}

/* Ends batch `seq`'s turn at `*turn` (NULL: a stage without turns) after its failure
 * `rc`, if any, waking the workers that wait. */
static void end_turn(worker *w, size_t *turn, size_t seq, int rc)
{
    pthread_mutex_lock(&w->p->lock);
    if (rc)
        record_failure(w, seq, rc);
    if (turn)
        (*turn)++;
    pthread_cond_broadcast(&w->p->turn);
    pthread_mutex_unlock(&w->p->lock);
}

/* Reads the next batch into the worker's slot under the reading turn. Returns 1 with its
 * sequence number in `*seq`, or 0 when the input ended or a stage failed. */
static int take_batch(worker *w, size_t *seq)
{
    pipeline *p = w->p;
    pthread_mutex_lock(&p->lock);
    while (p->reading && !p->ended)
        pthread_cond_wait(&p->turn, &p->lock);
    if (p->ended) {
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    p->reading = 1;
    *seq = p->next_seq++;
    pthread_mutex_unlock(&p->lock);
    size_t n = 0;
    int rc = p->stages->read(p->stages->ctx, w->slot, &n, &w->err);
    pthread_mutex_lock(&p->lock);
    p->reading = 0;
    if (rc)
        record_failure(w, *seq, rc);
    else if (n == 0)
        p->ended = 1;
    pthread_cond_broadcast(&p->turn);
    pthread_mutex_unlock(&p->lock);
    return rc == 0 && n > 0;
}

/* A worker's loop: read, work, write, batch after batch, each stage's turns kept. */
static void *work_loop(void *arg)
{
    worker *w = arg;
    pipeline *p = w->p;
    const cli_pipeline_stages *s = p->stages;
    size_t seq;
    while (take_batch(w, &seq)) {
        pthread_mutex_lock(&p->lock);
        int skip = s->ordered_work ? wait_turn(p, &p->work_turn, seq) : p->failed_seq <= seq;
        pthread_mutex_unlock(&p->lock);
        int rc = skip ? 0 : s->work(s->ctx, w->slot, &w->err);
        if (s->ordered_work || rc)
            end_turn(w, s->ordered_work ? &p->work_turn : NULL, seq, rc);
        if (!skip && rc == 0 && s->format && (rc = s->format(s->ctx, w->slot, &w->err)))
            end_turn(w, NULL, seq, rc);
        pthread_mutex_lock(&p->lock);
        skip = wait_turn(p, &p->write_turn, seq);
        pthread_mutex_unlock(&p->lock);
        end_turn(w, &p->write_turn, seq, skip ? 0 : s->write(s->ctx, w->slot, &w->err));
    }
    return NULL;
}

int cli_pipeline_run(const cli_pipeline_stages *stages, void **slots, size_t workers,
                     crisk_error *err)
{
    pipeline p = {.stages = stages, .failed_seq = NO_FAILURE, .err = err};
    worker *w = calloc(workers, sizeof *w);
    pthread_t *threads = calloc(workers, sizeof *threads);
    if (!w || !threads || pthread_mutex_init(&p.lock, NULL) != 0) {
        free(w);
        free(threads);
        return crisk_error_set(err, CRISK_E_NOMEM, "out of memory for %zu workers", workers);
    }
    pthread_cond_init(&p.turn, NULL);
    size_t started = 1; /* worker 0 is the calling thread */
    for (size_t i = 0; i < workers; i++)
        w[i] = (worker){&p, slots[i], {0, ""}};
    while (started < workers && pthread_create(&threads[started], NULL, work_loop,
                                               &w[started]) == 0)
        started++;
    work_loop(&w[0]);
    for (size_t i = 1; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_cond_destroy(&p.turn);
    pthread_mutex_destroy(&p.lock);
    free(w);
    free(threads);
    return p.failed_seq == NO_FAILURE ? 0 : p.failed_rc;
}
