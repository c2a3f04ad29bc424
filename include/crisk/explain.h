/*
 * crisk/explain.h — explanations: exact SHAP contributions and interactions of a
 * model's scores. Part of the public API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_explain_h
#define INCLUDE_crisk_explain_h

#include "crisk/predict.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes the exact SHAP contributions of `nrows` rows (as crisk_predict takes them) to
 * the caller-allocated `out`: nrows * crisk_model_num_margins(model) * (ncols + 1) floats,
 * laid out row, then output group, then column, the last column of each group being the
 * bias. The columns of a group sum to the group's margin (CRISK_OUTPUT_MARGIN). Values
 * are in margin space whatever opts->output says; threads and the iteration range apply
 * as in crisk_predict.
 *
 *   - XGBoost gbtree and dart: TreeSHAP as XGBoost's pred_contribs=True computes it
 *     (covers are the trees' sum_hessian; missing values and categorical splits take the
 *     child prediction takes; DART scales each tree by its weight); the bias is the sum
 *     of the trees' mean values plus base_score's margin. XGBoost computes in float; the
 *     results agree with it to about 1e-5 of the margin's scale. An iteration range
 *     [b, e) explains the trees of those iterations, like XGBoost's pred_contribs on the
 *     sliced model booster[b:e].
 *   - XGBoost gblinear: coefficient times value, a missing value contributing 0; the bias
 *     is the intercept plus base_score's margin.
 *   - logistic models: coefficient times standardised value; the bias is the intercept.
 *     A missing value fails with CRISK_E_INPUT, as in crisk_predict.
 *   - LightGBM models: TreeSHAP as LightGBM's pred_contrib=True computes it (covers are
 *     the nodes' data counts, missing values follow the features' missing types; the
 *     bias is the trees' expected value), to about 1e-5: LightGBM computes in double,
 *     crisk in float. Linear trees fail with CRISK_E_UNSUPPORTED, as in LightGBM; so does
 *     a model file without internal_count.
 *
 * Tree models are compiled for each call: per leaf, its path's distinct features, and for
 * calls of enough rows a table of its contributions for every pattern of satisfied path
 * conditions (at most 256 MiB per call), so a large batch costs far less per row than a
 * single row (a row alone costs about what XGBoost's pred_contribs does). A tree whose
 * root-to-leaf path tests more than 64 distinct features fails with CRISK_E_UNSUPPORTED.
 *
 * Returns 0, or the errors of crisk_predict, CRISK_E_UNSUPPORTED, CRISK_E_LIMIT (an
 * output too large to address). `out` is unspecified after a failure. nrows == 0
 * succeeds and writes nothing.
 *
 * Thread-safe: any number of threads may explain with one model at once; the call
 * allocates its own scratch and leaves the model untouched. */
CRISK_API int crisk_contributions(const crisk_model *model, const float *rows, size_t nrows,
                                  size_t ncols, const crisk_predict_options *opts,
                                  float *out, crisk_error *err);

/* Writes the SHAP interaction values of `nrows` rows to the caller-allocated `out`:
 * nrows * crisk_model_num_margins(model) * (ncols + 1) * (ncols + 1) floats, laid out row,
 * output group, then a (ncols + 1) x (ncols + 1) matrix (XGBoost's pred_interactions=True
 * layout). Entry [i][j], i != j, is half the difference between feature j's contribution
 * with feature i always present and with it always absent; the diagonal makes each line
 * i sum to feature i's contribution, and [ncols][ncols] is the bias. Tree models follow
 * XGBoost (LightGBM has no interactions of its own; its models get the same definition);
 * linear models have no interactions (a diagonal matrix of the contributions,
 * where XGBoost's gblinear returns zeros). Its cost grows as the cube of the number of
 * distinct features on a path: meant for small models and few rows.
 *
 * Returns, fails and may be called from several threads as crisk_contributions. */
CRISK_API int crisk_interactions(const crisk_model *model, const float *rows, size_t nrows,
                                 size_t ncols, const crisk_predict_options *opts,
                                 float *out, crisk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_explain_h */
