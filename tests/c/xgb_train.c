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
