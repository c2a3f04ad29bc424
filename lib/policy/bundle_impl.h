/*
 * policy/bundle_impl.h — what a loaded bundle holds, for the results accessors and the streaming
 * state's public wrappers. Internal to the library.
 */
#ifndef CRISK_BUNDLE_H
#define CRISK_BUNDLE_H

#include "crisk.h"
#include "explain/shap.h"
#include "policy/lanes.h"
#include "policy/profiles.h"

#include <stddef.h>

/* One model of a bundle and the schema features it takes, in its column order. */
typedef struct crisk__bundle_model {
    char *name;
    crisk_model *model;
    size_t *columns;      /* schema feature index of each model column */
    size_t num_columns;
    size_t num_outputs;
    int rejects_missing;  /* a logistic model: rows with a NaN feature are not scored */
} crisk__bundle_model;

struct crisk_bundle {
    crisk_schema *schema;
    crisk__bundle_model *models;
    size_t num_models;
    crisk__profiles *profiles;  /* NULL when the manifest names no rule file */
    crisk__policy *policy;
    long score_model;          /* the policy's score model, or -1 */
    long novelty_feature;      /* the schema feature novelty exploration weighs by, or -1 */
    unsigned char sha256[32];  /* crisk_bundle_digest(), computed at load */
    struct cJSON *reference;   /* the manifest's "reference" file, parsed (monitor/ reads
                                  it); NULL when the manifest names none */
    char *reference_path;      /* its path, for messages */
    double monitor_warn, monitor_alert; /* the policy's "monitor" thresholds, NaN when it
                                           sets none (they override the reference's) */
    crisk__shap_slot *score_shap; /* the score model's explainer, built by the first call
                                    that asks for reasons (the one thing a loaded bundle
                                    fills in later, atomically) */
};

/* The decisions for one batch (results.c reads them; bundle.c fills them). */
struct crisk_results {
    const crisk_bundle *bundle;
    size_t size;
    float **scores;            /* per model: size * num_outputs values */
    crisk__decision *decisions; /* per row */
    size_t *hit_start;         /* size + 1 offsets into hits */
    uint32_t *hits;            /* rule indices, in file order per row */
    size_t hits_room;          /* > 0: hits lies in the results' block, room for every hit
                                  (bundle.c, results_layout); 0: hits is malloc'd */
    /* Reason codes (reasons.c), when scored with explain = K > 0; all NULL otherwise. */
    size_t reason_slots;       /* reasons kept per row at most: min(K, fields) */
    uint32_t *num_reasons;     /* per row */
    uint32_t *reason_field;    /* size * reason_slots field indices, by |contribution| */
    float *reason_contrib;     /* size * reason_slots signed contributions */
    size_t *reason_value;      /* size * reason_slots offsets of values in reason_text */
    char *reason_text;         /* the values, NUL-terminated, one after another */
    float *explain_bias;       /* per row: the score model's bias (NaN: not explained) */
    float *explain_rest;       /* per row: the fields beyond the top K, summed */
};

/* Copies the columns of model `m` out of `features` (n rows of nf schema features) into
 * `cols` (n * m->num_columns floats), row by row. When `rows` is not NULL (a model that
 * rejects missing values), only complete rows are copied and `rows` receives their
 * indices. Returns the number of rows copied. */
size_t crisk__bundle_gather(const crisk__bundle_model *m, const float *features, size_t n, size_t nf,
                            float *cols, size_t *rows);

/* Computes the reason codes of every row of `batch` (docs/bundle.md, "Reason codes"):
 * the contributions of the bundle's score model, in one crisk_contributions call with
 * `popts`, grouped onto declaration fields, the top `k` kept in `res` with their
 * values. `features` holds the batch's schema features (res->size rows of nf). Returns
 * 0, CRISK_E_INVALID_ARGUMENT (the policy names no score model), CRISK_E_UNSUPPORTED (a
 * score model with several margins) or an error of crisk_contributions. */
int crisk__reasons_compute(const crisk_bundle *b, const crisk_batch *batch,
                           const float *features, size_t nf, unsigned k,
                           const crisk_predict_options *popts, crisk_results *res,
                           crisk_error *err);

#endif /* CRISK_BUNDLE_H */
