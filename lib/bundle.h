/*
 * bundle.h — what a loaded bundle holds, for the results accessors and the streaming
 * state's public wrappers. Internal to the library.
 */
#ifndef CRISK_BUNDLE_H
#define CRISK_BUNDLE_H

#include "crisk.h"
#include "lanes.h"
#include "profiles.h"

#include <stddef.h>

/* One model of a bundle and the schema features it takes, in its column order. */
typedef struct bundle_model {
    char *name;
    crisk_model *model;
    size_t *columns;      /* schema feature index of each model column */
    size_t num_columns;
    size_t num_outputs;
    int rejects_missing;  /* a logistic model: rows with a NaN feature are not scored */
} bundle_model;

struct crisk_bundle {
    crisk_schema *schema;
    bundle_model *models;
    size_t num_models;
    crisk_profiles *profiles;  /* NULL when the manifest names no rule file */
    crisk_policy *policy;
    long score_model;          /* the policy's score model, or -1 */
};

/* The decisions for one batch (results.c reads them; bundle.c fills them). */
struct crisk_results {
    const crisk_bundle *bundle;
    size_t size;
    float **scores;            /* per model: size * num_outputs values */
    crisk_decision *decisions; /* per row */
    size_t *hit_start;         /* size + 1 offsets into hits */
    uint32_t *hits;            /* rule indices, in file order per row */
};

#endif /* CRISK_BUNDLE_H */
