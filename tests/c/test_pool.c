/*
 * test_pool.c — crisk_pool: calls served by a caller-owned pool give, bit for bit, what
 * one thread gives (predictions and contributions of a tree model trained with
 * libxgboost, committed as tests/c/fixtures/pool_binary.json); many callers may share one
 * pool; a pool serves call after call; a failing row's error comes back through the pool
 * as it does without one.
 */
#include "crisk.h"
#include "model_fixture.h"

#include "check_run.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NROWS 4096            /* enough rows for every thread of the pools below */
#define CALLERS 8
#define CALLS_PER_CALLER 6
#define REUSE_CALLS 1000
#define REUSE_ROWS 1024       /* two threads' worth (crisk_predict's 512 rows each) */

/* The tree model, its NROWS rows, and what threads = 1 without a pool gives for them:
 * transformed outputs, margins and contributions. */
typedef model_fixture fixture;

/* Scores rows [0, nrows) of `fx` with `o` (output kind `margin`, or contributions when
 * `contrib`) into `out`; fails the test with crisk's message if the call fails. */
static void score(const fixture *fx, crisk_predict_options *o, int margin, int contrib,
                  size_t nrows, float *out)
{
    crisk_error err;
    o->output = margin ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
    int rc = contrib ? crisk_contributions(fx->model, fx->rows.x, nrows, SYNTH_NCOLS, o, out,
                                           &err)
                     : crisk_predict(fx->model, fx->rows.x, nrows, SYNTH_NCOLS, o, out, &err);
    ck_assert_msg(rc == 0, "threads=%d: %s: %s", o->threads, crisk_err_name(rc), err.message);
}

/* Loads the binary classifier (fixtures/make_fixtures.c trained it) and computes the
 * single-threaded references. */
static void fixture_make(fixture *fx)
{
    model_fixture_make(fx, "pool_binary.json", NROWS, 4242, 1);
    ck_assert_uint_eq(crisk_model_num_outputs(fx->model), 1);
}

/* Creates a pool of `threads` threads, failing the test if it cannot. */
static crisk_pool *pool_make(int threads)
{
    crisk_pool *pool = NULL;
    crisk_error err;
    int rc = crisk_pool_create(threads, &pool, &err);
    ck_assert_msg(rc == 0, "crisk_pool_create(%d): %s: %s", threads, crisk_err_name(rc),
                  err.message);
    ck_assert_int_ge(crisk_pool_threads(pool), 1);
    if (threads > 0)
        ck_assert_int_le(crisk_pool_threads(pool), threads);
    return pool;
}

START_TEST(test_bit_identical)
{
    fixture fx;
    fixture_make(&fx);
    float *out = malloc(NROWS * (SYNTH_NCOLS + 1) * sizeof *out);
    ck_assert_ptr_nonnull(out);
    static const int pool_threads[] = {2, 3, 0};
    static const int call_threads[] = {0, 1, 2, 5};
    for (size_t p = 0; p < sizeof pool_threads / sizeof pool_threads[0]; p++) {
        crisk_pool *pool = pool_make(pool_threads[p]);
        for (size_t c = 0; c < sizeof call_threads / sizeof call_threads[0]; c++) {
            crisk_predict_options o;
            crisk_predict_options_init(&o);
            o.pool = pool;
            o.threads = call_threads[c];
            for (int margin = 0; margin <= 1; margin++) {
                memset(out, 0xff, NROWS * sizeof *out);
                score(&fx, &o, margin, 0, NROWS, out);
                ck_assert_msg(memcmp(out, fx.want[margin], NROWS * sizeof *out) == 0,
                              "pool of %d, threads=%d, %s: differs from threads=1",
                              pool_threads[p], call_threads[c],
                              margin ? "margin" : "transformed");
            }
            memset(out, 0xff, NROWS * (SYNTH_NCOLS + 1) * sizeof *out);
            score(&fx, &o, 1, 1, NROWS, out);
            ck_assert_msg(memcmp(out, fx.want_contrib,
                                 NROWS * (SYNTH_NCOLS + 1) * sizeof *out) == 0,
                          "pool of %d, threads=%d: contributions differ from threads=1",
                          pool_threads[p], call_threads[c]);
        }
        crisk_pool_free(pool);
    }
    free(out);
    model_fixture_free(&fx);
}
END_TEST

/* One of several threads sharing a pool, and what it found. */
typedef struct caller {
    const fixture *fx;
    crisk_pool *pool;
    size_t mismatches;
    int rc;
    crisk_error err;
} caller;

/* Scores every row CALLS_PER_CALLER times through the shared pool (all of its threads),
 * alternating output kinds, and counts calls whose outputs differ from threads = 1.
 * Returns NULL (results are in the caller). */
static void *caller_run(void *arg)
{
    caller *c = arg;
    float *out = malloc(NROWS * sizeof *out);
    if (!out) {
        c->rc = CRISK_E_NOMEM;
        return NULL;
    }
    for (int k = 0; k < CALLS_PER_CALLER && c->rc == 0; k++) {
        crisk_predict_options o;
        crisk_predict_options_init(&o);
        o.pool = c->pool;
        o.threads = 0;
        o.output = k % 2 ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
        c->rc = crisk_predict(c->fx->model, c->fx->rows.x, NROWS, SYNTH_NCOLS, &o, out,
                              &c->err);
        if (c->rc == 0 && memcmp(out, c->fx->want[k % 2], NROWS * sizeof *out))
            c->mismatches++;
    }
    free(out);
    return NULL;
}

START_TEST(test_shared_by_callers)
{
    fixture fx;
    fixture_make(&fx);
    crisk_pool *pool = pool_make(2);
    pthread_t tid[CALLERS];
    caller c[CALLERS];
    for (size_t t = 0; t < CALLERS; t++) {
        c[t] = (caller){.fx = &fx, .pool = pool};
        ck_assert_int_eq(pthread_create(&tid[t], NULL, caller_run, &c[t]), 0);
    }
    for (size_t t = 0; t < CALLERS; t++)
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
    for (size_t t = 0; t < CALLERS; t++) {
        ck_assert_msg(c[t].rc == 0, "caller %zu: %s: %s", t, crisk_err_name(c[t].rc),
                      c[t].err.message);
        ck_assert_msg(c[t].mismatches == 0, "caller %zu: %zu calls differ from threads=1",
                      t, c[t].mismatches);
    }
    crisk_pool_free(pool);
    model_fixture_free(&fx);
}
END_TEST

START_TEST(test_reused)
{
    fixture fx;
    fixture_make(&fx);
    crisk_pool *pool = pool_make(2);
    crisk_predict_options o;
    crisk_predict_options_init(&o);
    o.pool = pool;
    o.threads = 0;
    float out[REUSE_ROWS];
    size_t mismatches = 0;
    for (int k = 0; k < REUSE_CALLS; k++) {
        score(&fx, &o, k % 2, 0, REUSE_ROWS, out);
        mismatches += memcmp(out, fx.want[k % 2], sizeof out) != 0;
    }
    ck_assert_msg(mismatches == 0, "%zu of %d calls differ from threads=1", mismatches,
                  REUSE_CALLS);
    crisk_pool_free(pool);
    model_fixture_free(&fx);
}
END_TEST

START_TEST(test_one_thread)
{
    fixture fx;
    fixture_make(&fx);
    crisk_pool *pool = pool_make(1);
    ck_assert_int_eq(crisk_pool_threads(pool), 1);
    float out[NROWS];
    static const int call_threads[] = {0, 1, 4};
    for (size_t c = 0; c < sizeof call_threads / sizeof call_threads[0]; c++) {
        crisk_predict_options o;
        crisk_predict_options_init(&o);
        o.pool = pool;
        o.threads = call_threads[c];
        score(&fx, &o, 0, 0, NROWS, out);
        ck_assert_msg(memcmp(out, fx.want[0], sizeof out) == 0,
                      "pool of 1, threads=%d: differs from threads=1", call_threads[c]);
    }
    crisk_pool_free(pool);
    model_fixture_free(&fx);
}
END_TEST

START_TEST(test_arguments)
{
    crisk_pool_free(NULL);
    ck_assert_int_eq(crisk_pool_threads(NULL), 0);
    crisk_pool *pool = (crisk_pool *)&pool;
    crisk_error err;
    ck_assert_int_eq(crisk_pool_create(-1, &pool, &err), CRISK_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(pool);
    ck_assert_ptr_nonnull(strstr(err.message, "-1"));
    ck_assert_int_eq(crisk_pool_create(2, NULL, &err), CRISK_E_INVALID_ARGUMENT);
    ck_assert_int_eq(crisk_pool_create(2, &pool, NULL), 0);
    crisk_pool_free(pool);
}
END_TEST

/* A binary logistic model of two features: it refuses missing values. */
static const char logistic_json[] =
    "{\"format\": \"crisk-logistic\", \"version\": 1, \"feature_names\": [\"a\", \"b\"],"
    " \"classes\": [0, 1], \"multi_class\": \"binary\", \"coef\": [[0.5, -1.25]],"
    " \"intercept\": [0.125]}";

START_TEST(test_error_propagates)
{
    crisk_model *m = NULL;
    crisk_error err;
    int rc = crisk_model_load_buffer(logistic_json, sizeof logistic_json - 1, &m, &err);
    ck_assert_msg(rc == 0, "%s: %s", crisk_err_name(rc), err.message);
    float *rows = malloc(NROWS * 2 * sizeof *rows), *out = malloc(NROWS * 3 * sizeof *out);
    ck_assert_ptr_nonnull(rows);
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < NROWS * 2; i++)
        rows[i] = (float)(i % 17) / 8.0f - 1.0f;
    rows[3001 * 2 + 1] = NAN;
    crisk_predict_options o;
    crisk_predict_options_init(&o);
    crisk_error want;
    ck_assert_int_eq(crisk_predict(m, rows, NROWS, 2, &o, out, &want), CRISK_E_INPUT);
    ck_assert_ptr_nonnull(strstr(want.message, "row 3001, column 1"));
    crisk_pool *pool = pool_make(0);
    o.pool = pool;
    o.threads = 0;
    for (int contrib = 0; contrib <= 1; contrib++) {
        memset(&err, 0, sizeof err);
        rc = contrib ? crisk_contributions(m, rows, NROWS, 2, &o, out, &err)
                     : crisk_predict(m, rows, NROWS, 2, &o, out, &err);
        ck_assert_int_eq(rc, CRISK_E_INPUT);
        ck_assert_int_eq(err.code, CRISK_E_INPUT);
        ck_assert_ptr_nonnull(strstr(err.message, "row 3001, column 1"));
        if (!contrib)
            ck_assert_str_eq(err.message, want.message);
    }
    /* The pool serves the next call after a failed one. */
    rows[3001 * 2 + 1] = 0.0f;
    ck_assert_int_eq(crisk_predict(m, rows, NROWS, 2, &o, out, &err), 0);
    crisk_pool_free(pool);
    free(rows);
    free(out);
    crisk_model_free(m);
}
END_TEST

/* The pool suite. */
static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_bit_identical);
    tcase_add_test(tc, test_shared_by_callers);
    tcase_add_test(tc, test_reused);
    tcase_add_test(tc, test_one_thread);
    tcase_add_test(tc, test_arguments);
    tcase_add_test(tc, test_error_propagates);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return crisk_check_run(pool_suite());
}
