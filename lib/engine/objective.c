/*
 * engine/objective.c — output transforms, each written as the library that trained the model
 * writes it, so that transformed outputs match to the bit where that library works in
 * float32 (XGBoost) and to double rounding where it works in double (LightGBM, sklearn).
 */
#include "engine/objective.h"

#include <math.h>

/* XGBoost's sigmoid (common/math.h): -x clamped at 88.7f so expf cannot overflow. */
static float xgb_sigmoid(float x)
{
    float e = fminf(-x, 88.7f);
    return 1.0f / (expf(e) + 1.0f + 1e-16f);
}

/* XGBoost's softmax (common/math.h): float max, double sum of float exps. */
static void xgb_softprob(const double *m, size_t k, float *out)
{
    float wmax = (float)m[0];
    for (size_t i = 1; i < k; i++)
        wmax = fmaxf((float)m[i], wmax);
    double wsum = 0.0;
    for (size_t i = 0; i < k; i++) {
        out[i] = expf((float)m[i] - wmax);
        wsum += out[i];
    }
    for (size_t i = 0; i < k; i++)
        out[i] /= (float)wsum;
}

/* Returns the index of the first maximum margin (XGBoost multi:softmax). */
static float first_argmax(const double *m, size_t k)
{
    size_t best = 0;
    for (size_t i = 1; i < k; i++)
        if ((float)m[i] > (float)m[best])
            best = i;
    return (float)best;
}

/* Double softmax with max subtraction (LightGBM's Common::Softmax, scipy's softmax). */
static void softmax(const double *m, size_t k, float *out)
{
    double wmax = m[0], wsum = 0.0;
    for (size_t i = 1; i < k; i++)
        if (m[i] > wmax)
            wmax = m[i];
    for (size_t i = 0; i < k; i++)
        wsum += exp(m[i] - wmax);
    for (size_t i = 0; i < k; i++)
        out[i] = (float)(exp(m[i] - wmax) / wsum);
}

/* Writes one row's outputs from its `k` margins. */
static void transform_row(const crisk_model *m, const double *mg, size_t k, double avg,
                          float *out)
{
    switch (m->transform) {
    case CRISK__TF_XGB_SOFTPROB:
        xgb_softprob(mg, k, out);
        return;
    case CRISK__TF_XGB_SOFTMAX:
        out[0] = first_argmax(mg, k);
        return;
    case CRISK__TF_SOFTMAX:
        if (avg != 1.0) {
            double scaled[k];
            for (size_t i = 0; i < k; i++)
                scaled[i] = mg[i] / avg;
            softmax(scaled, k, out);
        } else {
            softmax(mg, k, out);
        }
        return;
    case CRISK__TF_SIGMOID_OVR_NORM: {
        double sum = 0.0, p[k];
        for (size_t i = 0; i < k; i++)
            sum += p[i] = crisk__sigmoid(mg[i], m->transform_param);
        for (size_t i = 0; i < k; i++)
            out[i] = (float)(p[i] / sum);
        return;
    }
    default:
        break;
    }
    for (size_t i = 0; i < k; i++) {
        double x = mg[i] / avg;
        switch (m->transform) {
        case CRISK__TF_XGB_SIGMOID:
            out[i] = xgb_sigmoid((float)x);
            break;
        case CRISK__TF_XGB_EXP:
            out[i] = expf((float)x);
            break;
        case CRISK__TF_XGB_HINGE:
            out[i] = (float)x > 0.0f ? 1.0f : 0.0f;
            break;
        case CRISK__TF_SIGMOID:
        case CRISK__TF_SIGMOID_OVR:
            out[i] = (float)crisk__sigmoid(x, m->transform_param);
            break;
        case CRISK__TF_EXP:
            out[i] = (float)exp(x);
            break;
        case CRISK__TF_SIGNED_SQUARE:
            out[i] = (float)(x < 0 ? -x * x : x * x);
            break;
        default:
            out[i] = (float)x;
            break;
        }
    }
}

void crisk__objective_apply(const crisk_model *m, const double *margins, size_t nrows,
                            int as_margin, size_t iterations, float *out)
{
    size_t k = m->num_outputs;
    if (as_margin) {
        for (size_t i = 0; i < nrows * k; i++)
            out[i] = (float)margins[i];
        return;
    }
    double avg = m->average_output && iterations > 0 ? (double)iterations : 1.0;
    size_t per_row = crisk_model_num_outputs(m);
    for (size_t r = 0; r < nrows; r++)
        transform_row(m, margins + r * k, k, avg, out + r * per_row);
}
