/*
 * synth.h — synthetic rows for the model suites, drawn from a seed: the training data of
 * the models they score (trained at test time, or once into tests/c/fixtures) and the
 * rows they score. Needs no libxgboost.
 */
#ifndef CRISK_TESTS_SYNTH_H
#define CRISK_TESTS_SYNTH_H

#include <stddef.h>

/* Synthetic data for the tests, from a seed (no global state). */
typedef struct synth_data {
    float *x;           /* nrows x SYNTH_NCOLS; columns SYNTH_CAT0, SYNTH_CAT1 hold category
                           codes 0..SYNTH_NCATS-1; 5% of all cells are NaN */
    float *score;       /* nrows latent scores, the signal labels are drawn from */
    float *uniform;     /* nrows uniforms in [0, 1), the noise labels are drawn with */
    size_t nrows;
} synth_data;

#define SYNTH_NCOLS 12
#define SYNTH_CAT0 3
#define SYNTH_CAT1 8
#define SYNTH_NCATS 10

/* Fills `s` with `nrows` rows drawn from `seed`. Returns 0, or -1 when out of memory. */
int synth_make(synth_data *s, size_t nrows, unsigned long long seed);

/* Frees the arrays of `s`. */
void synth_free(synth_data *s);

#endif /* CRISK_TESTS_SYNTH_H */
