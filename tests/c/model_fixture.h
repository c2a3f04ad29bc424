/*
 * model_fixture.h — a model of tests/c/fixtures with the synthetic rows it scores and
 * what one thread gives for them: the references the pool and threads suites compare
 * their threaded calls with, bit for bit.
 */
#ifndef CRISK_TESTS_MODEL_FIXTURE_H
#define CRISK_TESTS_MODEL_FIXTURE_H

#include "crisk.h"
#include "synth.h"

#include <stddef.h>

typedef struct model_fixture {
    crisk_model *model;
    synth_data rows;
    size_t per_row[2];        /* values per row: transformed, margin */
    float *want[2];           /* transformed, margin: over all rows, default options */
    float *want_contrib;      /* rows x (SYNTH_NCOLS + 1) contributions, or NULL */
} model_fixture;

/* Loads model file `file` of tests/c/fixtures, draws `nrows` rows from `seed` and scores
 * them with the default options (one thread) for both output kinds, and their
 * contributions too when `contrib`. Fails the current test on an error. */
void model_fixture_make(model_fixture *fx, const char *file, size_t nrows,
                        unsigned long long seed, int contrib);

/* Frees what model_fixture_make made. */
void model_fixture_free(model_fixture *fx);

#endif /* CRISK_TESTS_MODEL_FIXTURE_H */
