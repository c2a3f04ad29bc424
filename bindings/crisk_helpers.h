/*
 * crisk_helpers.h — small C helpers over the declarations, bundle and results API that the
 * Python (python/capi.i) and Java (java/crisk_java.i) bindings both wrap, so that the two
 * languages call the same code: one handle-returning function per constructor, one call
 * that appends a block of text rows, and bulk copies of results into caller arrays (one
 * crossing of the language boundary per batch instead of one per value).
 *
 * Every helper runs without touching the host language, so the wrappers release the GIL
 * (Python) around it. Included into each wrapper's C code only; the functions are static
 * inline, so a binding wraps the ones it exposes and the others cost nothing.
 */
#ifndef CRISK_BINDINGS_HELPERS_H
#define CRISK_BINDINGS_HELPERS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisk.h"

/* Fills `err` with a CRISK_E_SHAPE message and returns the code. */
static inline int crisk_helper_shape(crisk_error *err, const char *what, size_t have,
                                     size_t need)
{
    err->code = CRISK_E_SHAPE;
    snprintf(err->message, sizeof err->message, "%s holds %zu values; %zu needed", what,
             have, need);
    return err->code;
}

/* Loads the bundle in directory `dir`; returns the handle, or NULL with `err` filled. */
static inline crisk_bundle *bundle_load(const char *dir, crisk_error *err)
{
    crisk_bundle *b = NULL;
    crisk_bundle_load(dir, NULL, &b, err);
    return b;
}

/* Creates a pool of `threads` threads; returns it, or NULL with `err` filled. */
static inline crisk_pool *pool_create(int threads, crisk_error *err)
{
    crisk_pool *p = NULL;
    crisk_pool_create(threads, &p, err);
    return p;
}

/* Loads the schema file at `path`; returns the handle, or NULL with `err` filled. */
static inline crisk_schema *schema_load(const char *path, crisk_error *err)
{
    crisk_schema *s = NULL;
    crisk_schema_load(path, &s, err);
    return s;
}

/* Creates an empty batch for `schema`; returns it, or NULL with `err` filled. */
static inline crisk_batch *batch_new(const crisk_schema *schema, crisk_error *err)
{
    crisk_batch *b = NULL;
    crisk_batch_new(schema, &b, err);
    return b;
}

/* Appends rows [begin, end) of a block of text rows to `batch`. The block holds
 * nends / nfields rows of `nfields` values each, row-major: value k (row k / nfields,
 * field k % nfields) is the bytes [ends[k-1], ends[k]) of `data` (ends[-1] = 0); an empty
 * value is missing. Row r is recorded with source line r + 1. Stops at the first row the
 * batch rejects and returns its index, with `err` filled (CRISK_E_INPUT naming the field);
 * returns `end` when every row was appended. A malformed block (ends not ascending or past
 * `size`, a row count that does not divide) fails before any row with CRISK_E_SHAPE, and
 * the return value is then `begin`. */
static inline size_t batch_append_rows(crisk_batch *batch, const void *data, size_t size,
                                       const long long *ends, size_t nends, size_t nfields,
                                       size_t begin, size_t end, crisk_error *err)
{
    size_t nrows = nfields ? nends / nfields : 0;
    if (nfields == 0 || nends % nfields != 0 || begin > end || end > nrows) {
        crisk_helper_shape(err, "ends", nends, nfields * (end > nrows ? end : nrows));
        return begin;
    }
    for (size_t k = 0; k < nends; k++) {
        long long lo = k ? ends[k - 1] : 0;
        if (ends[k] < lo || (uint64_t)ends[k] > size) {
            err->code = CRISK_E_SHAPE;
            snprintf(err->message, sizeof err->message,
                     "ends[%zu] = %lld is not within [%lld, %zu]", k, (long long)ends[k],
                     (long long)lo, size);
            return begin;
        }
    }
    const char **values = malloc(nfields * sizeof *values);
    size_t *lengths = malloc(nfields * sizeof *lengths);
    size_t row = begin;
    if (!values || !lengths) {
        err->code = CRISK_E_NOMEM;
        snprintf(err->message, sizeof err->message, "no memory for %zu fields", nfields);
    } else {
        for (; row < end; row++) {
            for (size_t j = 0; j < nfields; j++) {
                size_t k = row * nfields + j;
                size_t lo = k ? (size_t)ends[k - 1] : 0;
                values[j] = (const char *)data + lo;
                lengths[j] = (size_t)ends[k] - lo;
            }
            if (crisk_batch_append_text(batch, values, lengths, (uint64_t)row + 1, err) != 0)
                break;
        }
    }
    free(values);
    free(lengths);
    return row;
}

/* Scores `batch` with `bundle` on `threads` threads (of `pool` when it is not NULL), with
 * profiles judged as of `today` (days since 1970-01-01) when `has_today` is non-zero,
 * else by each declaration's date (CRISK_SCORE_TODAY_AUTO); in stream mode against
 * `state` (which the call updates) when it is not NULL, else with the budget applying to
 * the batch as a whole; keeping the top `explain` reason codes per declaration
 * (crisk_score_options.explain; 0: none). Returns the results, or NULL with `err`
 * filled. */
static inline crisk_results *bundle_score_stream(const crisk_bundle *bundle,
                                                 const crisk_batch *batch, int threads,
                                                 crisk_pool *pool, int has_today,
                                                 int64_t today, crisk_lane_state *state,
                                                 unsigned explain, crisk_error *err)
{
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.threads = threads;
    opts.pool = pool;
    opts.stream = state;
    opts.explain = explain;
    if (has_today)
        opts.today = today;
    crisk_results *r = NULL;
    crisk_bundle_score(bundle, batch, &opts, &r, err);
    return r;
}

/* As bundle_score_stream in batch mode (no streaming state). */
static inline crisk_results *bundle_score(const crisk_bundle *bundle,
                                          const crisk_batch *batch, int threads,
                                          crisk_pool *pool, int has_today, int64_t today,
                                          unsigned explain, crisk_error *err)
{
    return bundle_score_stream(bundle, batch, threads, pool, has_today, today, NULL,
                               explain, err);
}

/* Creates a fresh streaming lane state for `bundle`'s policy; returns it, or NULL with
 * `err` filled. */
static inline crisk_lane_state *lane_state_new(const crisk_bundle *bundle, crisk_error *err)
{
    crisk_lane_state *s = NULL;
    crisk_lane_state_new(bundle, &s, err);
    return s;
}

/* Loads the streaming lane state saved at `path` for `bundle`'s policy; returns it, or
 * NULL with `err` filled. */
static inline crisk_lane_state *lane_state_load(const crisk_bundle *bundle, const char *path,
                                                crisk_error *err)
{
    crisk_lane_state *s = NULL;
    crisk_lane_state_load(bundle, path, &s, err);
    return s;
}

/* Loads the device key file at `path`; returns the keys, or NULL with `err` filled. */
static inline crisk_device_keys *device_keys_load(const char *path, crisk_error *err)
{
    crisk_device_keys *k = NULL;
    crisk_device_keys_load(path, &k, err);
    return k;
}

/* Fills `opts` for reading an event stream: the defaults, verified with `keys` (NULL: no
 * device is known, so every event is refused) and demanding an HMAC of every event when `require_hmac` is non-zero. */
static inline void events_options(crisk_events_options *opts, const crisk_device_keys *keys,
                                  int require_hmac)
{
    crisk_events_options_init(opts, CRISK_EVENTS_OPTIONS_VERSION);
    opts->keys = keys;
    opts->require_hmac = require_hmac;
}

/* Reads the JSON Lines event stream in the `size` bytes at `data` for `schema`, keeping
 * the events `batch` can use (every accepted one when NULL), verified with `keys` (NULL:
 * no device is known, so every event is refused) and demanding an HMAC of every event
 * when `require_hmac` is non-zero. Returns the events (rejects included), or NULL with
 * `err` filled. */
static inline crisk_events *events_parse(const crisk_schema *schema, const crisk_batch *batch,
                                         const void *data, size_t size,
                                         const crisk_device_keys *keys, int require_hmac,
                                         crisk_error *err)
{
    crisk_events_options opts;
    events_options(&opts, keys, require_hmac);
    crisk_events *e = NULL;
    crisk_events_parse(schema, batch, (const char *)data, size, &opts, &e, err);
    return e;
}

/* As events_parse, from the JSON Lines file at `path`, read one line at a time. Returns
 * the events (rejects included), or NULL with `err` filled. */
static inline crisk_events *events_load(const crisk_schema *schema, const crisk_batch *batch,
                                        const char *path, const crisk_device_keys *keys,
                                        int require_hmac, crisk_error *err)
{
    crisk_events_options opts;
    events_options(&opts, keys, require_hmac);
    crisk_events *e = NULL;
    crisk_events_load(schema, batch, path, &opts, &e, err);
    return e;
}

/* Returns the kind (crisk_event_reject) of refused event `i`, 0 when out of range. */
static inline int events_reject_kind(const crisk_events *events, size_t i)
{
    return (int)crisk_events_reject(events, i, NULL, NULL);
}

/* Returns the 1-based line of refused event `i`, 0 when out of range. */
static inline uint64_t events_reject_line(const crisk_events *events, size_t i)
{
    uint64_t line = 0;
    crisk_events_reject(events, i, &line, NULL);
    return line;
}

/* Returns the reason refused event `i` was refused ("" when out of range). */
static inline const char *events_reject_reason(const crisk_events *events, size_t i)
{
    const char *reason = "";
    crisk_events_reject(events, i, NULL, &reason);
    return reason ? reason : "";
}

/* Returns how many values model `m` of `bundle` gives per declaration: 1, or the classes
 * of a multi-class model (as `crisk score` writes them). */
static inline size_t bundle_model_outputs(const crisk_bundle *bundle, size_t m)
{
    return crisk_model_num_outputs(crisk_bundle_model(bundle, m));
}

/* Copies `results` (of `bundle`) into caller arrays: `scores` (n x W floats, row-major,
 * where W sums bundle_model_outputs over the models: every output of model 0, then of
 * model 1, ..., so output k of model m for declaration r is at r * W + (the outputs of
 * models before m) + k) and `ints` (n x 3: lane index, crisk_reason_kind, number of
 * profile hits). Returns 0, or CRISK_E_SHAPE when an array has not exactly that size. */
static inline int results_collect(const crisk_bundle *bundle, const crisk_results *results,
                                  float *scores, size_t scores_len, int32_t *ints,
                                  size_t ints_len, crisk_error *err)
{
    size_t n = crisk_results_size(results), nmodels = crisk_bundle_num_models(bundle);
    size_t width = 0;
    for (size_t m = 0; m < nmodels; m++)
        width += bundle_model_outputs(bundle, m);
    if (scores_len != n * width)
        return crisk_helper_shape(err, "scores", scores_len, n * width);
    if (ints_len != n * 3)
        return crisk_helper_shape(err, "ints", ints_len, n * 3);
    for (size_t r = 0; r < n; r++) {
        float *row = scores + r * width;
        for (size_t m = 0; m < nmodels; m++)
            for (size_t k = 0, outputs = bundle_model_outputs(bundle, m); k < outputs; k++)
                *row++ = crisk_results_score_k(results, r, m, k);
        ints[3 * r] = (int32_t)crisk_results_lane(results, r);
        ints[3 * r + 1] = (int32_t)crisk_results_reason(results, r, NULL, 0);
        ints[3 * r + 2] = (int32_t)crisk_results_num_hits(results, r);
    }
    return 0;
}

/* Writes the reason text of every declaration of `results` into `text`, declaration r in
 * the `text_len / n` bytes from r * (text_len / n), NUL-terminated and cut to fit (so the
 * caller picks the longest text it keeps through the buffer it passes). Returns 0, or
 * CRISK_E_SHAPE when that leaves fewer than 2 bytes per declaration. */
static inline int results_reasons(const crisk_results *results, void *text, size_t text_len,
                                  crisk_error *err)
{
    size_t n = crisk_results_size(results);
    if (n == 0)
        return 0;
    size_t stride = text_len / n;
    if (stride < 2)
        return crisk_helper_shape(err, "text", text_len, 2 * n);
    for (size_t r = 0; r < n; r++)
        crisk_results_reason(results, r, (char *)text + r * stride, stride);
    return 0;
}

/* Returns how many bytes the values of every reason code of `results` take together
 * (the size of results_explain's `text`). */
static inline size_t results_explain_bytes(const crisk_results *results)
{
    size_t bytes = 0;
    for (size_t r = 0, n = crisk_results_size(results); r < n; r++)
        for (size_t k = 0, nk = crisk_results_num_reasons(results, r); k < nk; k++)
            bytes += strlen(crisk_results_reason_value(results, r, k));
    return bytes;
}

/* Copies the reason codes of `results` (of `bundle`, scored with explain = `explain`)
 * into caller arrays, `explain` slots per declaration, slot k of declaration r at
 * r * explain + k: `out` (n x (explain + 2) floats: each slot's contribution, NaN past the
 * declaration's reasons, then its bias and rest), `ints` (n x explain x 2: each slot's
 * schema field index and the byte length of its value; -1 and 0 past the declaration's
 * reasons) and `text` (every value, slot after slot, without separators: exactly
 * results_explain_bytes bytes; a missing value is ""). Returns 0, or CRISK_E_SHAPE when
 * an array has not exactly that size. */
static inline int results_explain(const crisk_bundle *bundle, const crisk_results *results,
                                  unsigned explain, float *out, size_t out_len, int32_t *ints,
                                  size_t ints_len, void *text, size_t text_len,
                                  crisk_error *err)
{
    size_t n = crisk_results_size(results), slots = n * explain;
    if (out_len != n * ((size_t)explain + 2))
        return crisk_helper_shape(err, "out", out_len, n * ((size_t)explain + 2));
    if (ints_len != 2 * slots)
        return crisk_helper_shape(err, "ints", ints_len, 2 * slots);
    if (text_len != results_explain_bytes(results))
        return crisk_helper_shape(err, "text", text_len, results_explain_bytes(results));
    const crisk_schema *schema = crisk_bundle_schema(bundle);
    char *at = text;
    for (size_t r = 0; r < n; r++) {
        size_t have = crisk_results_num_reasons(results, r);
        float *row = out + r * ((size_t)explain + 2);
        for (size_t k = 0; k < explain; k++) {
            int32_t *slot = ints + 2 * (r * explain + k);
            if (k >= have) {
                row[k] = NAN;
                slot[0] = -1;
                slot[1] = 0;
                continue;
            }
            const char *value = crisk_results_reason_value(results, r, k);
            size_t len = strlen(value);
            if (len) {   /* `text` may be NULL when every value is "" */
                memcpy(at, value, len);
                at += len;
            }
            row[k] = crisk_results_reason_contribution(results, r, k);
            slot[0] = (int32_t)crisk_schema_field_index(
                schema, crisk_results_reason_field(results, r, k));
            slot[1] = (int32_t)len;
        }
        row[explain] = crisk_results_explain_bias(results, r);
        row[explain + 1] = crisk_results_explain_rest(results, r);
    }
    return 0;
}

/* One declaration a call (a clearance system's call: the bindings' Decider). */

/* The longest reason text a decision keeps, NUL included (as the batch path's). */
#define DECISION_REASON_BYTES 512

/* What decision_copy writes first to `numbers`: lane index, crisk_reason_kind, profile
 * hits, propensity; every model's scores follow. */
#define DECISION_HEAD 4

/* Returns the doubles decision_copy's `numbers` holds for `bundle`: DECISION_HEAD, then
 * W, every model's outputs (as results_collect's width). */
static inline size_t decision_numbers(const crisk_bundle *bundle)
{
    size_t width = 0;
    for (size_t m = 0, n = crisk_bundle_num_models(bundle); m < n; m++)
        width += bundle_model_outputs(bundle, m);
    return DECISION_HEAD + width;
}

/* Empties `batch`, a caller's batch reused for one declaration a call, and joins `events`
 * to it (NULL: none): events read for no batch (every accepted event kept), so that any
 * declaration appended next finds its own. Returns 0 or a negative code with `err`
 * filled. */
static inline int decision_batch(crisk_batch *batch, const crisk_events *events,
                                 crisk_error *err)
{
    crisk_batch_clear(batch);
    return crisk_batch_set_events(batch, events, err);
}

/* Returns the bytes decision_copy's `text` must hold for declaration 0 of `results`:
 * room for its reason (DECISION_REASON_BYTES) and the id of each profile it hit with its
 * NUL. */
static inline size_t decision_text_bytes(const crisk_results *results)
{
    size_t bytes = DECISION_REASON_BYTES;
    for (size_t k = 0, n = crisk_results_num_hits(results, 0); k < n; k++)
        bytes += strlen(crisk_results_hit_id(results, 0, k)) + 1;
    return bytes;
}

/* Copies the decision for declaration 0 of `results` (of `bundle`) into caller arrays:
 * `numbers` (exactly decision_numbers doubles: the lane index, the crisk_reason_kind,
 * the number of profile hits and the propensity, then every output of model 0, then of
 * model 1, ..., each float exactly) and `text` (at least
 * decision_text_bytes: the reason, then the id of each profile hit, each NUL-terminated).
 * One array of numbers, not one per kind: a binding reaches each array it is given at
 * some cost (JNI). Returns the bytes of `text` written, or CRISK_E_SHAPE (negative) when an
 * array has not the size it needs. */
static inline long decision_copy(const crisk_bundle *bundle, const crisk_results *results,
                                 double *numbers, size_t numbers_len, char *text,
                                 size_t text_len, crisk_error *err)
{
    size_t need = decision_text_bytes(results), count = decision_numbers(bundle);
    if (text_len < need)
        return crisk_helper_shape(err, "text", text_len, need);
    if (numbers_len != count)
        return crisk_helper_shape(err, "numbers", numbers_len, count);
    size_t hits = crisk_results_num_hits(results, 0);
    numbers[0] = (double)crisk_results_lane(results, 0);
    numbers[1] = (double)crisk_results_reason(results, 0, text, DECISION_REASON_BYTES);
    numbers[2] = (double)hits;
    numbers[3] = crisk_results_propensity(results, 0);
    double *score = numbers + DECISION_HEAD;
    for (size_t m = 0, nmodels = crisk_bundle_num_models(bundle); m < nmodels; m++)
        for (size_t k = 0, outputs = bundle_model_outputs(bundle, m); k < outputs; k++)
            *score++ = crisk_results_score_k(results, 0, m, k);
    char *at = text + strlen(text) + 1;
    for (size_t k = 0; k < hits; k++) {
        const char *id = crisk_results_hit_id(results, 0, k);
        size_t len = strlen(id) + 1;
        memcpy(at, id, len);
        at += len;
    }
    return (long)(at - text);
}

/* Fills fit options from the three values the bindings expose. */
static inline void fit_options(crisk_fit_options *o, unsigned folds, uint64_t seed,
                               double smoothing)
{
    crisk_fit_options_init(o, CRISK_FIT_OPTIONS_VERSION);
    o->folds = folds;
    o->seed = seed;
    o->smoothing = smoothing;
}

/* Fits `schema`'s tables from `batch` and its labels; returns 0 or a negative code with
 * `err` filled. */
static inline int schema_fit(crisk_schema *schema, const crisk_batch *batch,
                             const float *labels, size_t nlabels, unsigned folds,
                             uint64_t seed, double smoothing, crisk_error *err)
{
    crisk_fit_options o;
    fit_options(&o, folds, seed, smoothing);
    return crisk_schema_fit(schema, batch, labels, nlabels, &o, err);
}

/* Writes `batch`'s out-of-fold training matrix into `out` (exactly batch size x features
 * floats); returns 0 or a negative code with `err` filled. */
static inline int schema_training_matrix(const crisk_schema *schema,
                                         const crisk_batch *batch, const float *labels,
                                         size_t nlabels, unsigned folds, uint64_t seed,
                                         double smoothing, float *out, size_t out_len,
                                         crisk_error *err)
{
    size_t need = crisk_batch_size(batch) * crisk_schema_num_features(schema);
    if (out_len != need)
        return crisk_helper_shape(err, "out", out_len, need);
    crisk_fit_options o;
    fit_options(&o, folds, seed, smoothing);
    return crisk_schema_training_matrix(schema, batch, labels, nlabels, &o, out, err);
}

/* Writes `batch`'s scoring features into `out` (exactly batch size x features floats);
 * returns 0 or a negative code with `err` filled. */
static inline int schema_features(const crisk_schema *schema, const crisk_batch *batch,
                                  float *out, size_t out_len, crisk_error *err)
{
    size_t need = crisk_batch_size(batch) * crisk_schema_num_features(schema);
    if (out_len != need)
        return crisk_helper_shape(err, "out", out_len, need);
    return crisk_schema_features(schema, batch, out, err);
}

/* Fills `opts` for an explanation: the defaults, with `threads` (of `pool` when it is not
 * NULL) and the iteration range [iteration_begin, iteration_end). */
static inline void explain_options(crisk_predict_options *opts, int threads, crisk_pool *pool,
                                   size_t iteration_begin, size_t iteration_end)
{
    crisk_predict_options_init(opts, CRISK_PREDICT_OPTIONS_VERSION);
    opts->threads = threads;
    opts->pool = pool;
    opts->iteration_begin = iteration_begin;
    opts->iteration_end = iteration_end;
}

/* Writes the SHAP contributions of `rows` into `out` (exactly nrows x margins x
 * (ncols + 1) floats) on `threads` threads (of `pool` when it is not NULL); returns 0 or
 * a negative code with `err` filled. */
static inline int contributions_into(const crisk_model *model, const float *rows,
                                     size_t nrows, size_t ncols, float *out, size_t out_len,
                                     int threads, crisk_pool *pool, size_t iteration_begin,
                                     size_t iteration_end, crisk_error *err)
{
    size_t need = nrows * crisk_model_num_margins(model) * (ncols + 1);
    if (out_len != need)
        return crisk_helper_shape(err, "out", out_len, need);
    crisk_predict_options opts;
    explain_options(&opts, threads, pool, iteration_begin, iteration_end);
    return crisk_contributions(model, rows, nrows, ncols, &opts, out, err);
}

/* Writes the SHAP interaction values of `rows` into `out` (exactly nrows x margins x
 * (ncols + 1) x (ncols + 1) floats), as contributions_into; returns 0 or a negative code
 * with `err` filled. */
static inline int interactions_into(const crisk_model *model, const float *rows,
                                    size_t nrows, size_t ncols, float *out, size_t out_len,
                                    int threads, crisk_pool *pool, size_t iteration_begin,
                                    size_t iteration_end, crisk_error *err)
{
    size_t need = nrows * crisk_model_num_margins(model) * (ncols + 1) * (ncols + 1);
    if (out_len != need)
        return crisk_helper_shape(err, "out", out_len, need);
    crisk_predict_options opts;
    explain_options(&opts, threads, pool, iteration_begin, iteration_end);
    return crisk_interactions(model, rows, nrows, ncols, &opts, out, err);
}

/* Re-codes the category value `data` (`size` bytes of UTF-8) of feature `feature` to the
 * model's code (crisk_model_category_code): returns it (NaN: missing), or NaN with `err`
 * filled (err->code non-zero) when the model refuses the value. */
static inline double category_code(const crisk_model *model, size_t feature,
                                   const void *data, size_t size, crisk_error *err)
{
    float code = NAN;
    err->code = crisk_model_category_code(model, feature, data, size, &code, err);
    return code;
}

/* Off-policy evaluation over `values` (n x 6 doubles, row-major: propensity, inspected
 * (0/1), hit (0/1), revenue, outcome model (NaN everywhere: none), score), into `out`
 * (24 doubles: population, selected, labelled, zero support, near-zero support, ESS,
 * then value, low and high of precision by IPW, SNIPS, DR, DR over the supported part,
 * recall and revenue). Returns what crisk_offpolicy_evaluate returns, or CRISK_E_SHAPE. */
static inline int offpolicy_evaluate_matrix(const double *values, size_t nvalues,
                                            double top_share, unsigned bootstrap, double level,
                                            uint64_t seed, double *dout, size_t dout_len,
                                            crisk_error *err)
{
    if (nvalues % 6)
        return crisk_helper_shape(err, "values", nvalues, nvalues - nvalues % 6);
    if (dout_len != 24)
        return crisk_helper_shape(err, "out", dout_len, 24);
    size_t n = nvalues / 6;
    double *col = (double *)malloc((n ? n : 1) * 5 * sizeof *col);
    unsigned char *d = (unsigned char *)malloc(n ? n : 1);
    if (!col || !d) {
        free(col);
        free(d);
        return crisk_error_set(err, CRISK_E_NOMEM, "out of memory");
    }
    int model = 0;
    for (size_t i = 0; i < n; i++) {
        const double *v = values + 6 * i;
        col[i] = v[0];
        d[i] = v[1] != 0;
        col[n + i] = v[2];
        col[2 * n + i] = v[3];
        col[3 * n + i] = v[4];
        col[4 * n + i] = v[5];
        model |= !isnan(v[4]);
    }
    crisk_offpolicy_options opts;
    crisk_offpolicy_options_init(&opts, CRISK_OFFPOLICY_OPTIONS_VERSION);
    opts.top_share = top_share;
    opts.bootstrap = bootstrap;
    opts.level = level;
    opts.seed = seed;
    crisk_offpolicy_result r;
    int rc = crisk_offpolicy_evaluate(n, col, d, col + n, col + 2 * n, model ? col + 3 * n : NULL,
                                      col + 4 * n, &opts, &r, err);
    if (rc == 0) {
        double head[6] = {(double)r.population, (double)r.selected, (double)r.labelled,
                          (double)r.zero_support, (double)r.near_zero, r.ess};
        const crisk_estimate *e[6] = {&r.precision_ipw, &r.precision_snips, &r.precision_dr,
                                      &r.precision_dr_supported, &r.recall_dr, &r.revenue_dr};
        for (int k = 0; k < 6; k++) {
            dout[k] = head[k];
            dout[6 + 3 * k] = e[k]->value;
            dout[7 + 3 * k] = e[k]->low;
            dout[8 + 3 * k] = e[k]->high;
        }
    }
    free(col);
    free(d);
    return rc;
}

/* Loads `bundle`'s reference distributions (crisk_reference_load); returns them, or NULL
 * with `err` filled. */
static inline crisk_reference *reference_load(const crisk_bundle *bundle, crisk_error *err)
{
    crisk_reference *r = NULL;
    crisk_reference_load(bundle, &r, err);
    return r;
}

/* Creates empty drift counts over `window` declarations (0: all) against `reference`;
 * returns them, or NULL with `err` filled. */
static inline crisk_drift *drift_new(const crisk_reference *reference, size_t window,
                                     crisk_error *err)
{
    crisk_drift *d = NULL;
    crisk_drift_new(reference, window, &d, err);
    return d;
}

/* Loads drift counts saved at `path` against `reference`; returns them, or NULL with `err`
 * filled. */
static inline crisk_drift *drift_load(const crisk_reference *reference, const char *path,
                                      crisk_error *err)
{
    crisk_drift *d = NULL;
    crisk_drift_load(reference, path, &d, err);
    return d;
}

/* What drift_item_values writes, per item: its figures, its level and its kind. */
#define DRIFT_ITEM_VALUES 8

/* Writes drift item `i`'s psi, noise, missing_ref, missing_now, unseen_ref, unseen_now,
 * level (crisk_drift_level) and kind (0 numeric feature, 1 category feature, 2 score)
 * to `values` (DRIFT_ITEM_VALUES doubles). Returns 0 or a negative code with `err`
 * filled. */
static inline int drift_item_values(const crisk_drift *drift, size_t i, double *values,
                                    size_t values_len, crisk_error *err)
{
    crisk_drift_item it;
    if (values_len != DRIFT_ITEM_VALUES)
        return crisk_error_set(err, CRISK_E_INVALID_ARGUMENT, "values: expected %d, got "
                               "%zu", DRIFT_ITEM_VALUES, values_len);
    int rc = crisk_drift_item_get(drift, i, &it, err);
    if (rc)
        return rc;
    const double v[DRIFT_ITEM_VALUES] = {it.psi, it.noise, it.missing_ref, it.missing_now,
                                         it.unseen_ref, it.unseen_now, (double)it.level,
                                         it.is_score ? 2 : it.is_category ? 1 : 0};
    memcpy(values, v, sizeof v);
    return 0;
}

/* Returns the name of drift item `i` (owned by the bundle), or NULL when out of range. */
static inline const char *drift_item_name(const crisk_drift *drift, size_t i)
{
    crisk_drift_item it;
    return crisk_drift_item_get(drift, i, &it, NULL) == 0 ? it.name : NULL;
}

#endif /* CRISK_BINDINGS_HELPERS_H */
