/*
 * test_threads.c — one loaded model scored from many threads at once gives, bit for bit,
 * what one thread gives; and crisk_predict's own threads (threads = 0, 2) give what
 * threads = 1 gives.
 *
 * The models were trained with libxgboost by fixtures/make_fixtures.c (a multi-class
 * gbtree with categorical splits, a DART classifier, a gblinear regressor) and are
 * committed under tests/c/fixtures.
 */
#include "crisk.h"
#include "model_fixture.h"

#include "check_run.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 8
#define ROWS_PER_THREAD 400
#define NROWS (NTHREADS * ROWS_PER_THREAD)
/* The models scored, files of tests/c/fixtures. */
static const char *const model_files[] = {"threads_softprob.json", "threads_dart.json",
                                          "threads_linear.json"};
#define NUM_MODELS (sizeof model_files / sizeof model_files[0])

/* A model with its NROWS rows and its single-threaded outputs. */
typedef model_fixture fixture;

/* What one scoring thread does and what it found. */
typedef struct worker {
    const fixture *fx;
    size_t first_row;         /* its own ROWS_PER_THREAD rows */
    size_t mismatches;
    int rc;
    crisk_error err;
} worker;

/* Scores the worker's rows several times — whole slice, single rows, odd batches, both
 * output kinds — and counts outputs that differ from the single-threaded reference.
 * Returns NULL (results are in the worker). */
static void *worker_run(void *arg)
{
    worker *w = arg;
    const fixture *fx = w->fx;
    float *out = malloc(ROWS_PER_THREAD * fx->per_row[1] * sizeof *out);
    if (!out) {
        w->rc = CRISK_E_NOMEM;
        return NULL;
    }
    static const size_t batches[] = {ROWS_PER_THREAD, 1, 7, 64, 399};
    for (int round = 0; round < 4 && w->rc == 0; round++) {
        for (size_t bi = 0; bi < sizeof batches / sizeof batches[0] && w->rc == 0; bi++) {
            int margin = (round + (int)bi) % 2;
            size_t per_row = fx->per_row[margin];
            crisk_predict_options o;
            crisk_predict_options_init(&o);
            o.output = margin ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
            for (size_t r = 0; r < ROWS_PER_THREAD && w->rc == 0; r += batches[bi]) {
                size_t n = ROWS_PER_THREAD - r < batches[bi] ? ROWS_PER_THREAD - r : batches[bi];
                size_t row = w->first_row + r;
                w->rc = crisk_predict(fx->model, fx->rows.x + row * SYNTH_NCOLS, n, SYNTH_NCOLS,
                                      &o, out, &w->err);
                if (w->rc == 0 &&
                    memcmp(out, fx->want[margin] + row * per_row, n * per_row * sizeof *out))
                    w->mismatches++;
            }
        }
    }
    free(out);
    return NULL;
}

START_TEST(test_concurrent_callers)
{
    fixture fx;
    model_fixture_make(&fx, model_files[_i], NROWS, 1234 + (unsigned long long)_i, 0);
    pthread_t tid[NTHREADS];
    worker w[NTHREADS];
    for (size_t t = 0; t < NTHREADS; t++) {
        w[t] = (worker){&fx, t * ROWS_PER_THREAD, 0, 0, {0, ""}};
        ck_assert_int_eq(pthread_create(&tid[t], NULL, worker_run, &w[t]), 0);
    }
    for (size_t t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
    for (size_t t = 0; t < NTHREADS; t++) {
        ck_assert_msg(w[t].rc == 0, "model %d thread %zu: %s: %s", _i, t,
                      crisk_err_name(w[t].rc), w[t].err.message);
        ck_assert_msg(w[t].mismatches == 0,
                      "model %d thread %zu: %zu batches differ from the single-threaded "
                      "results", _i, t, w[t].mismatches);
    }
    model_fixture_free(&fx);
}
END_TEST

START_TEST(test_internal_threads)
{
    fixture fx;
    model_fixture_make(&fx, model_files[_i], NROWS, 1234 + (unsigned long long)_i, 0);
    size_t n = NROWS * fx.per_row[1];
    float *out = malloc(n * sizeof *out);
    ck_assert_ptr_nonnull(out);
    static const int thread_counts[] = {0, 2, 3, 8};
    for (size_t k = 0; k < sizeof thread_counts / sizeof thread_counts[0]; k++) {
        for (int margin = 0; margin <= 1; margin++) {
            crisk_predict_options o;
            crisk_predict_options_init(&o);
            o.threads = thread_counts[k];
            o.output = margin ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
            crisk_error err;
            size_t n_out = NROWS * fx.per_row[margin];
            memset(out, 0xff, n_out * sizeof *out);
            int rc = crisk_predict(fx.model, fx.rows.x, NROWS, SYNTH_NCOLS, &o, out, &err);
            ck_assert_msg(rc == 0, "threads=%d: %s: %s", o.threads, crisk_err_name(rc),
                          err.message);
            ck_assert_msg(memcmp(out, fx.want[margin], n_out * sizeof *out) == 0,
                          "model %d threads=%d %s: differs from threads=1", _i, o.threads,
                          margin ? "margin" : "transformed");
        }
    }
    crisk_predict_options o;
    crisk_predict_options_init(&o);
    o.threads = -1;
    crisk_error err;
    ck_assert_int_eq(crisk_predict(fx.model, fx.rows.x, 1, SYNTH_NCOLS, &o, out, &err),
                     CRISK_E_INVALID_ARGUMENT);
    free(out);
    model_fixture_free(&fx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_concurrent_callers, 0, (int)NUM_MODELS);
    tcase_add_loop_test(tc, test_internal_threads, 0, (int)NUM_MODELS);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
