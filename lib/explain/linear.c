/*
 * explain/linear.c — contributions of linear models: each feature contributes its
 * coefficient times its value, the intercept (plus base margin) is the bias.
 *
 *   - XGBoost gblinear, as its pred_contribs: x_j * w_j in float, a missing feature
 *     contributing 0; bias = the group's bias + base_score's margin, in float.
 *   - crisk logistic models, whose standardisation is folded into the weights and bias at
 *     load: with folded weight W_j = w_j / scale_j and the original mean_j, the
 *     contribution w_j (x_j - mean_j) / scale_j is W_j (x_j - mean_j), and the bias is the
 *     original intercept, the folded bias plus sum_j W_j mean_j; in double, as logistic
 *     margins are. Missing values are refused, as in prediction.
 *
 * Linear models have no interactions: the interaction matrix is diagonal, holding the
 * contributions.
 */
#include "explain/shap.h"

#include "common/error.h"

#include <math.h>
#include <string.h>

/* Writes one row's contributions to `out`: the value of group g, column j at
 * out[g * gstride + j * jstride]. Returns 0, or CRISK_E_INPUT for a missing value in a
 * logistic model (`r` names the row). */
static int row_contributions(const crisk_model *m, const float *row, size_t r, float *out,
                             size_t gstride, size_t jstride, crisk_error *err)
{
    size_t F = m->num_features, G = m->num_outputs;
    int logistic = m->family == CRISK__FAMILY_LOGISTIC;
    for (size_t g = 0; g < G; g++) {
        float *c = out + g * gstride;
        double shift = 0.0;
        for (size_t j = 0; j < F; j++) {
            double w = m->weights[j * G + g];
            if (isnan(row[j])) {
                if (logistic)
                    return crisk__fail(err, CRISK_E_INPUT, "row %zu, column %zu: missing "
                                       "value; logistic models need every feature", r, j);
                c[j * jstride] = 0.0f;
            } else if (logistic && m->mean) {
                c[j * jstride] = (float)(w * ((double)row[j] - (double)m->mean[j]));
                shift += w * (double)m->mean[j];
            } else if (logistic) {
                c[j * jstride] = (float)(w * (double)row[j]);
            } else {
                c[j * jstride] = row[j] * (float)w; /* XGBoost: float times float */
            }
        }
        if (logistic)
            c[F * jstride] = (float)(m->bias[g] + shift + m->base_margin[g]);
        else
            c[F * jstride] = (float)m->bias[g] + (float)m->base_margin[g];
    }
    return 0;
}

int crisk__linear_explain_rows(const crisk_model *m, const float *rows, size_t begin,
                               size_t end, int interactions, float *out, crisk_error *err)
{
    size_t F = m->num_features, C = F + 1, G = m->num_outputs;
    for (size_t r = begin; r < end; r++) {
        int rc;
        if (interactions) {
            float *block = out + r * G * C * C;
            memset(block, 0, G * C * C * sizeof *block);
            rc = row_contributions(m, rows + r * F, r, block, C * C, C + 1, err);
        } else {
            rc = row_contributions(m, rows + r * F, r, out + r * G * C, C, 1, err);
        }
        if (rc)
            return rc;
    }
    return 0;
}
