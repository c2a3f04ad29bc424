/*
 * test_threads.c — one loaded model scored from many threads at once gives, bit for bit,
 * what one thread gives; and crisk_predict's own threads (threads = 0, 2) give what
 * threads = 1 gives.
 *
 * The models are trained with libxgboost at test time (a multi-class gbtree with
 * categorical splits, a DART classifier, a gblinear regressor).
 */
#include "crisk.h"
#include "xgb_train.h"

#include "check_run.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 8
#define ROWS_PER_THREAD 400
#define NROWS (NTHREADS * ROWS_PER_THREAD)
#define TRAIN_ROWS 500
#define ROUNDS 12

static const char *const feature_types[XGBT_NCOLS] = {
    "q", "q", "q", "c", "q", "q", "q", "q", "c", "q", "q", "q",
};

/* The models scored: libxgboost parameters, NULL-terminated. */
static const char *const softprob_params[] = {
    "booster", "gbtree", "objective", "multi:softprob", "num_class", "4",
    "tree_method", "hist", "max_depth", "6", NULL};
static const char *const dart_params[] = {
    "booster", "dart", "objective", "binary:logistic", "tree_method", "hist",
    "rate_drop", "0.3", "skip_drop", "0", NULL};
static const char *const linear_params[] = {
    "booster", "gblinear", "objective", "reg:squarederror", NULL};
static const char *const *const model_params[] = {softprob_params, dart_params,
                                                  linear_params};
#define NUM_MODELS (sizeof model_params / sizeof model_params[0])

/* A model loaded into crisk, with the rows it scores and its single-threaded outputs. */
typedef struct fixture {
    crisk_model *model;
    xgbt_synth rows;          /* NROWS rows */
    size_t per_row[2];        /* values per row: transformed, margin */
    float *want[2];           /* transformed, margin: threads = 1 over all rows */
} fixture;

/* Trains model `k` with libxgboost, loads its JSON into crisk, and scores NROWS rows
 * single-threaded for both output kinds. */
static void fixture_make(fixture *fx, size_t k)
{
    xgbt_synth train;
    ck_assert_int_eq(xgbt_synth_make(&train, TRAIN_ROWS, 99), 0);
    float labels[TRAIN_ROWS];
    for (size_t r = 0; r < TRAIN_ROWS; r++) {
        float s = train.score[r];
        labels[r] = k == 0 ? (s < -0.5f ? 0.0f : s < 0.0f ? 1.0f : s < 0.5f ? 2.0f : 3.0f)
                  : k == 1 ? (s > 0 ? 1.0f : 0.0f)
                           : 3.0f * s;
    }
    xgbt_data data = {train.x, TRAIN_ROWS, XGBT_NCOLS, labels, feature_types, NULL, NULL, 0};
    char msg[1024];
    xgbt_booster *b = xgbt_train(&data, model_params[k], ROUNDS, msg, sizeof msg);
    ck_assert_msg(b != NULL, "libxgboost training failed: %s", msg);
    unsigned char *bytes = NULL;
    size_t size = 0;
    ck_assert_msg(xgbt_save(b, "json", &bytes, &size, msg, sizeof msg) == 0, "%s", msg);
    crisk_error err;
    int rc = crisk_model_load_buffer(bytes, size, &fx->model, &err);
    ck_assert_msg(rc == 0, "model %zu: %s: %s", k, crisk_err_name(rc), err.message);
    free(bytes);
    xgbt_free(b);
    xgbt_synth_free(&train);

    ck_assert_int_eq(xgbt_synth_make(&fx->rows, NROWS, 1234 + k), 0);
    fx->per_row[0] = crisk_model_num_outputs(fx->model);
    fx->per_row[1] = crisk_model_num_margins(fx->model);
    for (int margin = 0; margin <= 1; margin++) {
        crisk_predict_options o;
        crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
        o.output = margin ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
        fx->want[margin] = malloc(NROWS * fx->per_row[margin] * sizeof(float));
        ck_assert_ptr_nonnull(fx->want[margin]);
        rc = crisk_predict(fx->model, fx->rows.x, NROWS, XGBT_NCOLS, &o, fx->want[margin],
                           &err);
        ck_assert_msg(rc == 0, "%s: %s", crisk_err_name(rc), err.message);
    }
}

/* Frees a fixture. */
static void fixture_free(fixture *fx)
{
    crisk_model_free(fx->model);
    xgbt_synth_free(&fx->rows);
    free(fx->want[0]);
    free(fx->want[1]);
}

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
            crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
            o.output = margin ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
            for (size_t r = 0; r < ROWS_PER_THREAD && w->rc == 0; r += batches[bi]) {
                size_t n = ROWS_PER_THREAD - r < batches[bi] ? ROWS_PER_THREAD - r : batches[bi];
                size_t row = w->first_row + r;
                w->rc = crisk_predict(fx->model, fx->rows.x + row * XGBT_NCOLS, n, XGBT_NCOLS,
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
    memset(&fx, 0, sizeof fx);
    fixture_make(&fx, (size_t)_i);
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
    fixture_free(&fx);
}
END_TEST

START_TEST(test_internal_threads)
{
    fixture fx;
    memset(&fx, 0, sizeof fx);
    fixture_make(&fx, (size_t)_i);
    size_t n = NROWS * fx.per_row[1];
    float *out = malloc(n * sizeof *out);
    ck_assert_ptr_nonnull(out);
    static const int thread_counts[] = {0, 2, 3, 8};
    for (size_t k = 0; k < sizeof thread_counts / sizeof thread_counts[0]; k++) {
        for (int margin = 0; margin <= 1; margin++) {
            crisk_predict_options o;
            crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
            o.threads = thread_counts[k];
            o.output = margin ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
            crisk_error err;
            size_t n_out = NROWS * fx.per_row[margin];
            memset(out, 0xff, n_out * sizeof *out);
            int rc = crisk_predict(fx.model, fx.rows.x, NROWS, XGBT_NCOLS, &o, out, &err);
            ck_assert_msg(rc == 0, "threads=%d: %s: %s", o.threads, crisk_err_name(rc),
                          err.message);
            ck_assert_msg(memcmp(out, fx.want[margin], n_out * sizeof *out) == 0,
                          "model %d threads=%d %s: differs from threads=1", _i, o.threads,
                          margin ? "margin" : "transformed");
        }
    }
    crisk_predict_options o;
    crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
    o.threads = -1;
    crisk_error err;
    ck_assert_int_eq(crisk_predict(fx.model, fx.rows.x, 1, XGBT_NCOLS, &o, out, &err),
                     CRISK_E_INVALID_ARGUMENT);
    free(out);
    fixture_free(&fx);
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
