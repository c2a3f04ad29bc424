/*
 * bench/lightgbm.c — LightGBM as crisk-bench's peer for the lightgbm-d6 shape, through its C
 * API in lib_lightgbm.so (the one the lightgbm Python wheel ships), opened at run time with
 * --lightgbm-lib PATH: crisk links no LightGBM, and Debian 12 packages none.
 */
#include "bench.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The C API calls used (LightGBM's c_api.h), resolved from the library. */
static struct lgb_api {
    int (*dataset_from_mat)(const void *, int, int32_t, int32_t, int, const char *,
                            const void *, void **);
    int (*dataset_set_field)(void *, const char *, const void *, int, int);
    int (*dataset_free)(void *);
    int (*booster_create)(const void *, const char *, void **);
    int (*booster_update)(void *, int *);
    int (*booster_save)(void *, int, int, int, int64_t, int64_t *, char *);
    int (*booster_load)(const char *, int *, void **);
    int (*booster_predict)(void *, const void *, int, int32_t, int32_t, int, int, int, int,
                           const char *, int64_t *, double *);
    int (*booster_free)(void *);
    const char *(*last_error)(void);
} api;

#define DTYPE_FLOAT32 0
#define PREDICT_NORMAL 0

/* A loaded booster with its scoring threads and output buffers. */
typedef struct lgb_model {
    void *booster;
    char params[32];      /* "num_threads=N" */
    double *scores;
    float *out;
    size_t cap;
} lgb_model;

/* Exits with LightGBM's last error when `rc` is not 0. */
static void check(int rc, const char *call)
{
    if (rc != 0)
        die(call, api.last_error());
}

/* Returns the symbol `name` of `lib`, or exits. */
static void *symbol(void *lib, const char *name)
{
    void *p = dlsym(lib, name);
    if (!p)
        die("lib_lightgbm lacks", name);
    return p;
}

int lightgbm_open(const char *path)
{
    void *lib = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!lib)
        return 0;
    *(void **)&api.dataset_from_mat = symbol(lib, "LGBM_DatasetCreateFromMat");
    *(void **)&api.dataset_set_field = symbol(lib, "LGBM_DatasetSetField");
    *(void **)&api.dataset_free = symbol(lib, "LGBM_DatasetFree");
    *(void **)&api.booster_create = symbol(lib, "LGBM_BoosterCreate");
    *(void **)&api.booster_update = symbol(lib, "LGBM_BoosterUpdateOneIter");
    *(void **)&api.booster_save = symbol(lib, "LGBM_BoosterSaveModelToString");
    *(void **)&api.booster_load = symbol(lib, "LGBM_BoosterLoadModelFromString");
    *(void **)&api.booster_predict = symbol(lib, "LGBM_BoosterPredictForMat");
    *(void **)&api.booster_free = symbol(lib, "LGBM_BoosterFree");
    *(void **)&api.last_error = symbol(lib, "LGBM_GetLastError");
    return 1;
}

char *lightgbm_train(const float *x, const float *y, size_t n, size_t F, int depth,
                     int rounds, size_t *len)
{
    void *ds, *b;
    char params[160];
    snprintf(params, sizeof params, "objective=binary max_depth=%d num_leaves=%d "
             "learning_rate=0.1 verbose=-1 num_threads=2", depth, (1 << depth) - 1);
    check(api.dataset_from_mat(x, DTYPE_FLOAT32, (int32_t)n, (int32_t)F, 1, "verbose=-1",
                               NULL, &ds), "LGBM_DatasetCreateFromMat");
    check(api.dataset_set_field(ds, "label", y, (int)n, DTYPE_FLOAT32), "LGBM_DatasetSetField");
    check(api.booster_create(ds, params, &b), "LGBM_BoosterCreate");
    for (int it = 0, finished = 0; it < rounds && !finished; it++)
        check(api.booster_update(b, &finished), "LGBM_BoosterUpdateOneIter");
    int64_t need = 0;
    check(api.booster_save(b, 0, -1, 0, 0, &need, NULL), "LGBM_BoosterSaveModelToString");
    char *text = malloc((size_t)need);
    if (!text)
        die("out of memory", NULL);
    check(api.booster_save(b, 0, -1, 0, need, &need, text), "LGBM_BoosterSaveModelToString");
    api.booster_free(b);
    api.dataset_free(ds);
    *len = strlen(text);
    return text;
}

/* bench_peer.load: the model text must be NUL-terminated within `len` + 1 bytes. */
static void *load(const char *text, size_t len)
{
    char *z = malloc(len + 1);
    lgb_model *m = calloc(1, sizeof *m);
    int iterations;
    if (!z || !m)
        die("out of memory", NULL);
    memcpy(z, text, len);
    z[len] = '\0';
    check(api.booster_load(z, &iterations, &m->booster), "LGBM_BoosterLoadModelFromString");
    free(z);
    snprintf(m->params, sizeof m->params, "num_threads=1");
    return m;
}

static void set_threads(void *h, int threads)
{
    lgb_model *m = h;
    snprintf(m->params, sizeof m->params, "num_threads=%d", threads);
}

/* bench_peer.predict: LightGBM's double probabilities, rounded to float as crisk gives. */
static const float *predict(void *h, const float *x, size_t n, size_t F)
{
    lgb_model *m = h;
    if (n > m->cap) {
        free(m->scores);
        free(m->out);
        m->scores = malloc(n * sizeof *m->scores);
        m->out = malloc(n * sizeof *m->out);
        if (!m->scores || !m->out)
            die("out of memory", NULL);
        m->cap = n;
    }
    int64_t got;
    check(api.booster_predict(m->booster, x, DTYPE_FLOAT32, (int32_t)n, (int32_t)F, 1,
                              PREDICT_NORMAL, 0, -1, m->params, &got, m->scores),
          "LGBM_BoosterPredictForMat");
    for (size_t i = 0; i < n; i++)
        m->out[i] = (float)m->scores[i];
    return m->out;
}

static void release(void *h)
{
    lgb_model *m = h;
    api.booster_free(m->booster);
    free(m->scores);
    free(m->out);
    free(m);
}

const bench_peer LIGHTGBM_PEER = {"LightGBM", "txt", load, set_threads, predict, release};
