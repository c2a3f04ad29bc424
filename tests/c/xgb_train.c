/*
 * xgb_train.c — training, saving and predicting through libxgboost's C API for the
 * parity tests (see xgb_train.h).
 */
#include "xgb_train.h"

#include <xgboost/c_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a small PRNG whose whole state is the caller's counter. */
static unsigned long long next_u64(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Returns a uniform double in [0, 1) drawn from `state`. */
static double next_uniform(unsigned long long *state)
{
    return (double)(next_u64(state) >> 11) * 0x1.0p-53;
}

/* Returns an approximately normal double (sum of 4 uniforms, centred and scaled). */
static double next_normal(unsigned long long *state)
{
    double s = 0;
    for (int i = 0; i < 4; i++)
        s += next_uniform(state);
    return (s - 2.0) * 1.7320508;
}

/* Fills `s`: features of several scales and kinds, two categorical columns, 5% NaN, and a
 * latent score that depends on most columns (NaN cells contribute nothing). */
int xgbt_synth_make(xgbt_synth *s, size_t nrows, unsigned long long seed)
{
    static const float cat_effect[2][XGBT_NCATS] = {
        {-1.5f, 0.8f, 0.1f, 2.0f, -0.4f, 1.1f, -2.2f, 0.0f, 0.6f, -0.9f},
        {0.7f, -1.2f, 1.9f, -0.3f, 0.2f, -1.8f, 1.3f, 0.5f, -0.6f, 2.4f},
    };
    unsigned long long st = seed;
    memset(s, 0, sizeof *s);
    s->x = malloc(nrows * XGBT_NCOLS * sizeof *s->x);
    s->score = malloc(nrows * sizeof *s->score);
    s->uniform = malloc(nrows * sizeof *s->uniform);
    if (!s->x || !s->score || !s->uniform) {
        xgbt_synth_free(s);
        return -1;
    }
    s->nrows = nrows;
    for (size_t r = 0; r < nrows; r++) {
        float *x = s->x + r * XGBT_NCOLS;
        x[0] = (float)next_normal(&st);
        x[1] = (float)(next_uniform(&st) * 6.0 - 3.0);
        x[2] = (float)(-100.0 * log(1.0 - next_uniform(&st)));
        x[XGBT_CAT0] = (float)(next_u64(&st) % XGBT_NCATS);
        x[4] = (float)(next_u64(&st) % 21);
        x[5] = (float)(next_normal(&st) * 1e-3);
        x[6] = (float)(next_uniform(&st) * 2e4 - 1e4);
        x[7] = (float)(next_u64(&st) % 2);
        x[XGBT_CAT1] = (float)(next_u64(&st) % XGBT_NCATS);
        x[9] = (float)next_normal(&st);
        x[10] = (float)(next_normal(&st) * 10.0);
        x[11] = (float)next_uniform(&st);
        for (int c = 0; c < XGBT_NCOLS; c++)
            if (next_uniform(&st) < 0.05)
                x[c] = NAN;
        double score = 0;
        double terms[] = {x[0], 0.7 * sin(x[1]), 0.004 * x[2] - 0.4,
                          isnan(x[XGBT_CAT0]) ? 0 : cat_effect[0][(int)x[XGBT_CAT0]],
                          0.05 * x[4] - 0.5, 300.0 * x[5], 1e-4 * x[6], 0.5 * x[7],
                          isnan(x[XGBT_CAT1]) ? 0 : cat_effect[1][(int)x[XGBT_CAT1]],
                          0.3 * x[9] * x[0], 0.02 * x[10], 0.0};
        for (int c = 0; c < XGBT_NCOLS; c++)
            if (!isnan(terms[c]))
                score += terms[c];
        s->score[r] = (float)(0.5 * score + 0.3 * next_normal(&st));
        s->uniform[r] = (float)next_uniform(&st);
    }
    return 0;
}

/* Frees the arrays of `s` and clears it. */
void xgbt_synth_free(xgbt_synth *s)
{
    free(s->x);
    free(s->score);
    free(s->uniform);
    memset(s, 0, sizeof *s);
}

struct xgbt_booster {
    BoosterHandle handle;
    DMatrixHandle train;  /* kept alive: the booster caches it */
};

/* Copies libxgboost's last error message into `msg` and returns -1. */
static int xgb_error(const char *what, char *msg, size_t msg_size)
{
    snprintf(msg, msg_size, "%s: %s", what, XGBGetLastError());
    return -1;
}

/* Builds a DMatrix from `data` (labels, feature types and names, groups when given). Returns 0,
 * or -1 with the message in `msg`. */
static int make_dmatrix(const xgbt_data *data, DMatrixHandle *out, char *msg,
                        size_t msg_size)
{
    DMatrixHandle dm = NULL;
    *out = NULL;
    if (XGDMatrixCreateFromMat(data->x, data->nrows, data->ncols, NAN, &dm) != 0)
        return xgb_error("XGDMatrixCreateFromMat", msg, msg_size);
    int rc = 0;
    if (data->labels &&
        XGDMatrixSetFloatInfo(dm, "label", data->labels, data->nrows) != 0)
        rc = xgb_error("XGDMatrixSetFloatInfo(label)", msg, msg_size);
    if (rc == 0 && data->feature_types &&
        XGDMatrixSetStrFeatureInfo(dm, "feature_type", (const char **)data->feature_types,
                                   data->ncols) != 0)
        rc = xgb_error("XGDMatrixSetStrFeatureInfo(feature_type)", msg, msg_size);
    if (rc == 0 && data->feature_names &&
        XGDMatrixSetStrFeatureInfo(dm, "feature_name", (const char **)data->feature_names,
                                   data->ncols) != 0)
        rc = xgb_error("XGDMatrixSetStrFeatureInfo(feature_name)", msg, msg_size);
    if (rc == 0 && data->groups &&
        XGDMatrixSetUIntInfo(dm, "group", data->groups, data->ngroups) != 0)
        rc = xgb_error("XGDMatrixSetUIntInfo(group)", msg, msg_size);
    if (rc) {
        XGDMatrixFree(dm);
        return rc;
    }
    *out = dm;
    return 0;
}

/* Trains a booster (see xgb_train.h); returns it, or NULL with the message in `msg`. */
xgbt_booster *xgbt_train(const xgbt_data *data, const char *const *params, int rounds,
                         char *msg, size_t msg_size)
{
    xgbt_booster *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(msg, msg_size, "out of memory");
        return NULL;
    }
    if (make_dmatrix(data, &b->train, msg, msg_size) != 0) {
        free(b);
        return NULL;
    }
    int rc = 0;
    if (XGBoosterCreate(&b->train, 1, &b->handle) != 0)
        rc = xgb_error("XGBoosterCreate", msg, msg_size);
    /* One thread and a fixed seed: the machine is shared, and runs must repeat. */
    if (rc == 0 && (XGBoosterSetParam(b->handle, "nthread", "1") != 0 ||
                    XGBoosterSetParam(b->handle, "seed", "7") != 0))
        rc = xgb_error("XGBoosterSetParam", msg, msg_size);
    for (size_t i = 0; rc == 0 && params && params[i]; i += 2)
        if (XGBoosterSetParam(b->handle, params[i], params[i + 1]) != 0) {
            char what[128];
            snprintf(what, sizeof what, "XGBoosterSetParam(%s=%s)", params[i], params[i + 1]);
            rc = xgb_error(what, msg, msg_size);
        }
    for (int it = 0; rc == 0 && it < rounds; it++)
        if (XGBoosterUpdateOneIter(b->handle, it, b->train) != 0)
            rc = xgb_error("XGBoosterUpdateOneIter", msg, msg_size);
    /* The C API does not copy names and types into the model; the Python package does
     * it this way, and the saved model then lists them. */
    if (rc == 0 && data->feature_names &&
        XGBoosterSetStrFeatureInfo(b->handle, "feature_name",
                                   (const char **)data->feature_names, data->ncols) != 0)
        rc = xgb_error("XGBoosterSetStrFeatureInfo(feature_name)", msg, msg_size);
    if (rc == 0 && data->feature_types &&
        XGBoosterSetStrFeatureInfo(b->handle, "feature_type",
                                   (const char **)data->feature_types, data->ncols) != 0)
        rc = xgb_error("XGBoosterSetStrFeatureInfo(feature_type)", msg, msg_size);
    if (rc) {
        xgbt_free(b);
        return NULL;
    }
    return b;
}

/* Saves the booster to a malloc'd buffer in `format`; returns 0 or -1. */
int xgbt_save(xgbt_booster *b, const char *format, unsigned char **bytes, size_t *size,
              char *msg, size_t msg_size)
{
    char config[64];
    snprintf(config, sizeof config, "{\"format\": \"%s\"}", format);
    bst_ulong len = 0;
    const char *buf = NULL;
    *bytes = NULL;
    *size = 0;
    if (XGBoosterSaveModelToBuffer(b->handle, config, &len, &buf) != 0)
        return xgb_error("XGBoosterSaveModelToBuffer", msg, msg_size);
    /* One byte more, NUL, so that JSON text can be read as a string too. */
    unsigned char *copy = malloc(len + 1);
    if (!copy) {
        snprintf(msg, msg_size, "out of memory for %llu bytes", (unsigned long long)len);
        return -1;
    }
    memcpy(copy, buf, len);
    copy[len] = '\0';
    *bytes = copy;
    *size = len;
    return 0;
}

/* Predicts `data` with libxgboost into a malloc'd array; returns 0 or -1. */
int xgbt_predict(xgbt_booster *b, const xgbt_data *data, int margin, int iteration_begin,
                 int iteration_end, float **out, size_t *n, char *msg, size_t msg_size)
{
    DMatrixHandle dm = NULL;
    *out = NULL;
    *n = 0;
    if (make_dmatrix(data, &dm, msg, msg_size) != 0)
        return -1;
    char config[256];
    snprintf(config, sizeof config,
             "{\"type\": %d, \"training\": false, \"iteration_begin\": %d, "
             "\"iteration_end\": %d, \"strict_shape\": false}",
             margin ? 1 : 0, iteration_begin, iteration_end);
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *result = NULL;
    int rc = 0;
    if (XGBoosterPredictFromDMatrix(b->handle, dm, config, &shape, &dim, &result) != 0)
        rc = xgb_error("XGBoosterPredictFromDMatrix", msg, msg_size);
    if (rc == 0) {
        size_t total = 1;
        for (bst_ulong d = 0; d < dim; d++)
            total *= shape[d];
        *out = malloc((total ? total : 1) * sizeof **out);
        if (!*out) {
            snprintf(msg, msg_size, "out of memory for %zu predictions", total);
            rc = -1;
        } else {
            memcpy(*out, result, total * sizeof **out);
            *n = total;
        }
    }
    XGDMatrixFree(dm);
    return rc;
}

/* Returns the boosted rounds of the booster, or -1. */
int xgbt_rounds(xgbt_booster *b)
{
    int rounds = -1;
    return XGBoosterBoostedRounds(b->handle, &rounds) == 0 ? rounds : -1;
}

/* Frees the booster and its training DMatrix; NULL is a no-op. */
void xgbt_free(xgbt_booster *b)
{
    if (!b)
        return;
    if (b->handle)
        XGBoosterFree(b->handle);
    if (b->train)
        XGDMatrixFree(b->train);
    free(b);
}
