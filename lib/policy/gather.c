/*
 * policy/gather.c — the feature columns one bundle model takes, gathered from a batch's
 * feature matrix for scoring and for reason codes alike.
 */
#include "policy/bundle_impl.h"

#include <math.h>

/* Copies model `m`'s columns of every row (or, with `rows`, of every complete row) into
 * `cols`; returns how many rows were copied. */
size_t crisk__bundle_gather(const crisk__bundle_model *m, const float *features, size_t n, size_t nf,
                            float *cols, size_t *rows)
{
    size_t k = m->num_columns, kept = 0;
    if (!rows) {
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < k; c++)
                cols[r * k + c] = features[r * nf + m->columns[c]];
        return n;
    }
    for (size_t r = 0; r < n; r++) {
        float *dst = cols + kept * k;
        int complete = 1;
        for (size_t c = 0; c < k; c++) {
            dst[c] = features[r * nf + m->columns[c]];
            complete &= !isnan(dst[c]);
        }
        if (complete)
            rows[kept++] = r;
    }
    return kept;
}
