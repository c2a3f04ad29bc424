/*
 * make_legacy_model.c — trains a small libxgboost model and saves it twice, in XGBoost's
 * legacy binary format and as JSON, for test_legacy_dlopen (which must not link libxgboost).
 * Usage: make_legacy_model OUT.bin OUT.json
 */
#include <stdio.h>
#include <xgboost/c_api.h>

#define ROWS 200
#define COLS 4

/* Exits with libxgboost's message when a C API call fails. */
#define XGB_OK(call)                                                                      \
    do {                                                                                  \
        if ((call) != 0) {                                                                \
            fprintf(stderr, "make_legacy_model: %s: %s\n", #call, XGBGetLastError());     \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_legacy_model OUT.bin OUT.json\n");
        return 2;
    }
    /* A fixed pseudo-random data set (an LCG), its label a threshold on two features. */
    static float x[ROWS * COLS], y[ROWS];
    unsigned long long state = 42;
    for (int i = 0; i < ROWS * COLS; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)(state >> 40) / (float)(1ULL << 24);
    }
    for (int r = 0; r < ROWS; r++)
        y[r] = x[r * COLS] + 0.5f * x[r * COLS + 2] > 0.7f;

    DMatrixHandle d;
    BoosterHandle b;
    XGB_OK(XGDMatrixCreateFromMat(x, ROWS, COLS, -1.0f, &d));
    XGB_OK(XGDMatrixSetFloatInfo(d, "label", y, ROWS));
    XGB_OK(XGBoosterCreate(&d, 1, &b));
    XGB_OK(XGBoosterSetParam(b, "objective", "binary:logistic"));
    XGB_OK(XGBoosterSetParam(b, "max_depth", "3"));
    XGB_OK(XGBoosterSetParam(b, "nthread", "1"));
    for (int i = 0; i < 10; i++)
        XGB_OK(XGBoosterUpdateOneIter(b, i, d));
    /* libxgboost 1.x writes the legacy format for names not ending in .json or .ubj;
     * 2.x for names ending in .deprecated. */
    XGB_OK(XGBoosterSaveModel(b, argv[1]));
    XGB_OK(XGBoosterSaveModel(b, argv[2]));
    XGB_OK(XGBoosterFree(b));
    XGB_OK(XGDMatrixFree(d));
    return 0;
}
