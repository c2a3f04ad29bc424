/*
 * xgb_train.h — a thin test helper over libxgboost's C API: train a booster on a dense
 * float matrix, save it as JSON or UBJSON bytes, and predict with it, so that C suites can
 * compare crisk with the library that trained the model, at test time.
 */
#ifndef CRISK_TESTS_XGB_TRAIN_H
#define CRISK_TESTS_XGB_TRAIN_H

#include <stddef.h>

/* A dense data set: `nrows` x `ncols` floats, row-major, NaN meaning missing. */
typedef struct xgbt_data {
    const float *x;
    size_t nrows, ncols;
    const float *labels;               /* nrows labels, or NULL (prediction only) */
    const char *const *feature_types;  /* NULL, or ncols of "q" (numerical), "c" (categorical) */
    const char *const *feature_names;  /* NULL, or ncols names */
    const unsigned *groups;            /* NULL, or ngroups query-group sizes (ranking) */
    size_t ngroups;
} xgbt_data;

/* A trained libxgboost booster. */
typedef struct xgbt_booster xgbt_booster;

/* Trains a booster on `data` for `rounds` rounds with `params`, a NULL-terminated list of
 * key, value strings ("objective", "binary:logistic", ..., NULL). Returns the booster, or
 * NULL with libxgboost's error message copied into `msg` (`msg_size` bytes). */
xgbt_booster *xgbt_train(const xgbt_data *data, const char *const *params, int rounds,
                         char *msg, size_t msg_size);

/* Saves the booster in `format` ("json" or "ubj") to a malloc'd buffer stored in `*bytes`
 * with its length in `*size`. Returns 0, or -1 with the message in `msg`. */
int xgbt_save(xgbt_booster *b, const char *format, unsigned char **bytes, size_t *size,
              char *msg, size_t msg_size);

/* Predicts `data` with libxgboost (margin != 0: raw margins; iterations [begin, end), end 0
 * meaning all; training false; strict_shape false) into a malloc'd array stored in
 * `*out`, with its length in `*n`. Returns 0, or -1 with the message in `msg`. */
int xgbt_predict(xgbt_booster *b, const xgbt_data *data, int margin, int iteration_begin,
                 int iteration_end, float **out, size_t *n, char *msg, size_t msg_size);

/* Returns the number of boosting rounds the booster holds, or -1 on error. */
int xgbt_rounds(xgbt_booster *b);

/* Frees a booster; NULL is a no-op. */
void xgbt_free(xgbt_booster *b);

#endif /* CRISK_TESTS_XGB_TRAIN_H */
