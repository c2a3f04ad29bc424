/*
 * synth.c — synthetic rows for the model suites (synth.h).
 */
#include "synth.h"

#include <math.h>
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
int synth_make(synth_data *s, size_t nrows, unsigned long long seed)
{
    static const float cat_effect[2][SYNTH_NCATS] = {
        {-1.5f, 0.8f, 0.1f, 2.0f, -0.4f, 1.1f, -2.2f, 0.0f, 0.6f, -0.9f},
        {0.7f, -1.2f, 1.9f, -0.3f, 0.2f, -1.8f, 1.3f, 0.5f, -0.6f, 2.4f},
    };
    unsigned long long st = seed;
    memset(s, 0, sizeof *s);
    s->x = malloc(nrows * SYNTH_NCOLS * sizeof *s->x);
    s->score = malloc(nrows * sizeof *s->score);
    s->uniform = malloc(nrows * sizeof *s->uniform);
    if (!s->x || !s->score || !s->uniform) {
        synth_free(s);
        return -1;
    }
    s->nrows = nrows;
    for (size_t r = 0; r < nrows; r++) {
        float *x = s->x + r * SYNTH_NCOLS;
        x[0] = (float)next_normal(&st);
        x[1] = (float)(next_uniform(&st) * 6.0 - 3.0);
        x[2] = (float)(-100.0 * log(1.0 - next_uniform(&st)));
        x[SYNTH_CAT0] = (float)(next_u64(&st) % SYNTH_NCATS);
        x[4] = (float)(next_u64(&st) % 21);
        x[5] = (float)(next_normal(&st) * 1e-3);
        x[6] = (float)(next_uniform(&st) * 2e4 - 1e4);
        x[7] = (float)(next_u64(&st) % 2);
        x[SYNTH_CAT1] = (float)(next_u64(&st) % SYNTH_NCATS);
        x[9] = (float)next_normal(&st);
        x[10] = (float)(next_normal(&st) * 10.0);
        x[11] = (float)next_uniform(&st);
        for (int c = 0; c < SYNTH_NCOLS; c++)
            if (next_uniform(&st) < 0.05)
                x[c] = NAN;
        double score = 0;
        double terms[] = {x[0], 0.7 * sin(x[1]), 0.004 * x[2] - 0.4,
                          isnan(x[SYNTH_CAT0]) ? 0 : cat_effect[0][(int)x[SYNTH_CAT0]],
                          0.05 * x[4] - 0.5, 300.0 * x[5], 1e-4 * x[6], 0.5 * x[7],
                          isnan(x[SYNTH_CAT1]) ? 0 : cat_effect[1][(int)x[SYNTH_CAT1]],
                          0.3 * x[9] * x[0], 0.02 * x[10], 0.0};
        for (int c = 0; c < SYNTH_NCOLS; c++)
            if (!isnan(terms[c]))
                score += terms[c];
        s->score[r] = (float)(0.5 * score + 0.3 * next_normal(&st));
        s->uniform[r] = (float)next_uniform(&st);
    }
    return 0;
}

/* Frees the arrays of `s` and clears it. */
void synth_free(synth_data *s)
{
    free(s->x);
    free(s->score);
    free(s->uniform);
    memset(s, 0, sizeof *s);
}
