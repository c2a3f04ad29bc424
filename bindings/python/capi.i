/*
 * capi.i — SWIG interface of crisk for Python: the C API as the module crisk.capi, which
 * the Pythonic layer (crisk/__init__.py and friends) wraps.
 *
 * Arrays cross through the buffer protocol rather than numpy.i: numpy's wheels do not
 * ship numpy.i, and a buffer typemap needs no numpy headers at build time while still
 * passing a C-contiguous float32 numpy array without a copy. The Python layer converts
 * anything else once, explicitly.
 *
 * The module is built with `swig -threads`: every wrapped call releases the GIL while the
 * C library works.
 */
%module(package="crisk") capi

%{
#include "crisk.h"
#include "../crisk_helpers.h"
%}

%include <stdint.i>

/* (const void *data, size_t size): any object with the buffer protocol, e.g. bytes. */
%typemap(in) (const void *data, size_t size) (Py_buffer view, int have_view = 0) {
    if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) != 0)
        SWIG_fail;
    have_view = 1;
    $1 = view.buf;
    $2 = (size_t)view.len;
}
%typemap(freearg) (const void *data, size_t size) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}

/* Feature rows: a 2-D C-contiguous float32 buffer, passed without a copy. */
%typemap(in) (const float *rows, size_t nrows, size_t ncols) (Py_buffer view, int have_view = 0) {
    if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0)
        SWIG_fail;
    have_view = 1;
    if (view.ndim != 2 || !view.format || strcmp(view.format, "f") != 0) {
        PyErr_SetString(PyExc_TypeError, "rows must be a 2-D C-contiguous float32 buffer");
        SWIG_fail;
    }
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.shape[0];
    $3 = (size_t)view.shape[1];
}
%typemap(freearg) (const float *rows, size_t nrows, size_t ncols) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}

/* Outputs: a writable C-contiguous float32 buffer and its length in floats. */
%typemap(in) (float *out, size_t out_len) (Py_buffer view, int have_view = 0) {
    if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) != 0)
        SWIG_fail;
    have_view = 1;
    if (!view.format || strcmp(view.format, "f") != 0) {
        PyErr_SetString(PyExc_TypeError, "out must be a writable C-contiguous float32 buffer");
        SWIG_fail;
    }
    $1 = (float *)view.buf;
    $2 = (size_t)view.len / sizeof(float);
}
%typemap(freearg) (float *out, size_t out_len) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}

/* 1-D float64 input and output buffers (off-policy evaluation) and their lengths. */
%typemap(in) (const double *values, size_t nvalues) (Py_buffer view, int have_view = 0) {
    if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0)
        SWIG_fail;
    have_view = 1;
    if (!view.format || strcmp(view.format, "d") != 0) {
        PyErr_SetString(PyExc_TypeError, "values must be a C-contiguous float64 buffer");
        SWIG_fail;
    }
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len / sizeof(double);
}
%typemap(freearg) (const double *values, size_t nvalues) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}
%typemap(in) (double *dout, size_t dout_len) (Py_buffer view, int have_view = 0) {
    if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) != 0)
        SWIG_fail;
    have_view = 1;
    if (!view.format || strcmp(view.format, "d") != 0) {
        PyErr_SetString(PyExc_TypeError, "out must be a writable C-contiguous float64 buffer");
        SWIG_fail;
    }
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len / sizeof(double);
}
%typemap(freearg) (double *dout, size_t dout_len) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}

/* 1-D float32 inputs (labels): any C-contiguous float32 buffer and its length. */
%typemap(in) (const float *labels, size_t nlabels) (Py_buffer view, int have_view = 0) {
    if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0)
        SWIG_fail;
    have_view = 1;
    if (!view.format || strcmp(view.format, "f") != 0) {
        PyErr_SetString(PyExc_TypeError, "labels must be a C-contiguous float32 buffer");
        SWIG_fail;
    }
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len / sizeof(float);
}
%typemap(freearg) (const float *labels, size_t nlabels) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}

/* Integer arrays: a C-contiguous buffer of 8-byte (ends) or writable 4-byte (ints)
 * signed integers, e.g. numpy int64 / int32; its length in elements. */
%typemap(in) (const long long *ends, size_t nends) (Py_buffer view, int have_view = 0) {
    if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0)
        SWIG_fail;
    have_view = 1;
    if (view.itemsize != 8 || !view.format || !strchr("lq", view.format[0])) {
        PyErr_SetString(PyExc_TypeError, "ends must be a C-contiguous int64 buffer");
        SWIG_fail;
    }
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len / 8;
}
%typemap(freearg) (const long long *ends, size_t nends) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}
%typemap(in) (int32_t *ints, size_t ints_len) (Py_buffer view, int have_view = 0) {
    if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) != 0)
        SWIG_fail;
    have_view = 1;
    if (view.itemsize != 4 || !view.format || !strchr("il", view.format[0])) {
        PyErr_SetString(PyExc_TypeError, "ints must be a writable C-contiguous int32 buffer");
        SWIG_fail;
    }
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len / 4;
}
%typemap(freearg) (int32_t *ints, size_t ints_len) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}

/* (void *text, size_t text_len): a writable byte buffer, e.g. a bytearray. */
%typemap(in) (void *text, size_t text_len) (Py_buffer view, int have_view = 0) {
    if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE | PyBUF_WRITABLE) != 0)
        SWIG_fail;
    have_view = 1;
    $1 = view.buf;
    $2 = (size_t)view.len;
}
%typemap(freearg) (void *text, size_t text_len) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}

/* Only what the Pythonic layer needs is wrapped; handles stay opaque. */
typedef struct crisk_error {
    int code;
    char message[512];
} crisk_error;

typedef struct crisk_model_info {
    const char *format;
    const char *booster;
    const char *objective;
    size_t num_features;
    size_t num_outputs;
    size_t num_classes;
    size_t num_trees;
    size_t num_iterations;
    size_t num_nodes;
    size_t max_depth;
    size_t memory_bytes;
} crisk_model_info;

%nodefaultctor crisk_model;
%nodefaultdtor crisk_model;
typedef struct crisk_model crisk_model;
%nodefaultctor crisk_pool;
%nodefaultdtor crisk_pool;
typedef struct crisk_pool crisk_pool;

const char *crisk_version_string(void);
const char *crisk_err_name(int code);
void crisk_model_free(crisk_model *model);
size_t crisk_model_num_features(const crisk_model *model);
size_t crisk_model_num_outputs(const crisk_model *model);
size_t crisk_model_num_margins(const crisk_model *model);
const char *crisk_model_feature_name(const crisk_model *model, size_t index);
size_t crisk_model_num_categories(const crisk_model *model, size_t feature);
const char *crisk_model_category(const crisk_model *model, size_t feature, size_t code);
void crisk_model_get_info(const crisk_model *model, crisk_model_info *info);
crisk_pool *pool_create(int threads, crisk_error *err);
void crisk_pool_free(crisk_pool *pool);
int crisk_pool_threads(const crisk_pool *pool);

%inline %{
/* Loads a model from `data`; returns the handle, or NULL with `err` filled. */
crisk_model *load_buffer(const void *data, size_t size, crisk_error *err)
{
    crisk_model *m = NULL;
    crisk_model_load_buffer(data, size, &m, err);
    return m;
}

/* Scores `rows` into `out` (which must hold exactly the outputs' floats) on `threads`
 * threads (of `pool` when it is not NULL); returns 0 or a negative crisk error code with
 * `err` filled. */
int predict_into(const crisk_model *model, const float *rows, size_t nrows, size_t ncols,
                 float *out, size_t out_len, int threads, crisk_pool *pool, int output,
                 size_t iteration_begin, size_t iteration_end, crisk_error *err)
{
    size_t width = output == CRISK_OUTPUT_MARGIN ? crisk_model_num_margins(model)
                                                 : crisk_model_num_outputs(model);
    if (out_len != nrows * width) {
        err->code = CRISK_E_SHAPE;
        snprintf(err->message, sizeof err->message,
                 "out holds %zu floats; %zu rows need %zu", out_len, nrows, nrows * width);
        return err->code;
    }
    crisk_predict_options opts;
    crisk_predict_options_init(&opts, CRISK_PREDICT_OPTIONS_VERSION);
    opts.threads = threads;
    opts.pool = pool;
    opts.output = output;
    opts.iteration_begin = iteration_begin;
    opts.iteration_end = iteration_end;
    return crisk_predict(model, rows, nrows, ncols, &opts, out, err);
}
%}

/* Declarations, bundles and results (docs/schema.md, docs/bundle.md). */
%nodefaultctor crisk_schema;
%nodefaultdtor crisk_schema;
typedef struct crisk_schema crisk_schema;
%nodefaultctor crisk_batch;
%nodefaultdtor crisk_batch;
typedef struct crisk_batch crisk_batch;
%nodefaultctor crisk_bundle;
%nodefaultdtor crisk_bundle;
typedef struct crisk_bundle crisk_bundle;
%nodefaultctor crisk_results;
%nodefaultdtor crisk_results;
typedef struct crisk_results crisk_results;
%nodefaultctor crisk_lane_state;
%nodefaultdtor crisk_lane_state;
typedef struct crisk_lane_state crisk_lane_state;
%nodefaultctor crisk_events;
%nodefaultdtor crisk_events;
typedef struct crisk_events crisk_events;
%nodefaultctor crisk_device_keys;
%nodefaultdtor crisk_device_keys;
typedef struct crisk_device_keys crisk_device_keys;

void crisk_schema_free(crisk_schema *schema);
size_t crisk_schema_num_fields(const crisk_schema *schema);
const char *crisk_schema_field_name(const crisk_schema *schema, size_t i);
size_t crisk_schema_num_features(const crisk_schema *schema);
const char *crisk_schema_feature_name(const crisk_schema *schema, size_t i);
int crisk_schema_save(const crisk_schema *schema, const char *path, crisk_error *err);
void crisk_batch_free(crisk_batch *batch);
size_t crisk_batch_size(const crisk_batch *batch);
void crisk_bundle_free(crisk_bundle *bundle);
const crisk_schema *crisk_bundle_schema(const crisk_bundle *bundle);
size_t crisk_bundle_num_models(const crisk_bundle *bundle);
const char *crisk_bundle_model_name(const crisk_bundle *bundle, size_t i);
size_t crisk_bundle_num_lanes(const crisk_bundle *bundle);
long crisk_bundle_score_model(const crisk_bundle *bundle);
const char *crisk_bundle_lane_name(const crisk_bundle *bundle, size_t i);
void crisk_results_free(crisk_results *results);
size_t crisk_results_size(const crisk_results *results);
const char *crisk_results_hit_id(const crisk_results *results, size_t row, size_t k);
double crisk_results_propensity(const crisk_results *results, size_t row);
void crisk_lane_state_free(crisk_lane_state *state);
int crisk_lane_state_save(const crisk_lane_state *state, const char *path, crisk_error *err);
void crisk_device_keys_free(crisk_device_keys *keys);
void crisk_events_free(crisk_events *events);
uint64_t crisk_events_num_read(const crisk_events *events);
uint64_t crisk_events_num_accepted(const crisk_events *events);
size_t crisk_events_num_rejects(const crisk_events *events);
int crisk_batch_set_events(crisk_batch *batch, const crisk_events *events, crisk_error *err);

/* Drift monitoring (crisk/monitor.h). */
%nodefaultctor crisk_reference;
%nodefaultdtor crisk_reference;
typedef struct crisk_reference crisk_reference;
%nodefaultctor crisk_drift;
%nodefaultdtor crisk_drift;
typedef struct crisk_drift crisk_drift;
%immutable;
typedef struct crisk_drift_item {
    const char *name;
    int is_score, is_category;
    double psi, noise, missing_ref, missing_now, unseen_ref, unseen_now;
    int level;
} crisk_drift_item;
%mutable;
void crisk_reference_free(crisk_reference *reference);
double crisk_reference_warn(const crisk_reference *reference);
double crisk_reference_alert(const crisk_reference *reference);
void crisk_drift_free(crisk_drift *drift);
int crisk_drift_set_thresholds(crisk_drift *drift, double warn, double alert,
                               crisk_error *err);
int crisk_drift_add(crisk_drift *drift, const crisk_batch *batch, const crisk_results *results,
                    crisk_error *err);
int crisk_drift_save(const crisk_drift *drift, const char *path, crisk_error *err);
uint64_t crisk_drift_rows(const crisk_drift *drift);
size_t crisk_drift_num_items(const crisk_drift *drift);
int crisk_drift_item_get(const crisk_drift *drift, size_t i, crisk_drift_item *out,
                         crisk_error *err);
crisk_reference *reference_load(const crisk_bundle *bundle, crisk_error *err);
crisk_drift *drift_new(const crisk_reference *reference, size_t window, crisk_error *err);
crisk_drift *drift_load(const crisk_reference *reference, const char *path, crisk_error *err);


/* The helpers shared with the Java binding (crisk_helpers.h). */
crisk_bundle *bundle_load(const char *dir, crisk_error *err);
crisk_schema *schema_load(const char *path, crisk_error *err);
crisk_batch *batch_new(const crisk_schema *schema, crisk_error *err);
size_t batch_append_rows(crisk_batch *batch, const void *data, size_t size,
                         const long long *ends, size_t nends, size_t nfields,
                         size_t begin, size_t end, crisk_error *err);
crisk_results *bundle_score_stream(const crisk_bundle *bundle, const crisk_batch *batch,
                                   int threads, crisk_pool *pool, int has_today,
                                   int64_t today, crisk_lane_state *state,
                                   unsigned explain, crisk_error *err);
crisk_lane_state *lane_state_new(const crisk_bundle *bundle, crisk_error *err);
crisk_lane_state *lane_state_load(const crisk_bundle *bundle, const char *path,
                                  crisk_error *err);
crisk_device_keys *device_keys_load(const char *path, crisk_error *err);
crisk_events *events_parse(const crisk_schema *schema, const crisk_batch *batch,
                           const void *data, size_t size, const crisk_device_keys *keys,
                           int require_hmac, crisk_error *err);
int events_reject_kind(const crisk_events *events, size_t i);
uint64_t events_reject_line(const crisk_events *events, size_t i);
const char *events_reject_reason(const crisk_events *events, size_t i);
size_t bundle_model_outputs(const crisk_bundle *bundle, size_t m);
int results_collect(const crisk_bundle *bundle, const crisk_results *results, float *out,
                    size_t out_len, int32_t *ints, size_t ints_len, crisk_error *err);
int results_reasons(const crisk_results *results, void *text, size_t text_len,
                    crisk_error *err);
size_t results_explain_bytes(const crisk_results *results);
int offpolicy_evaluate_matrix(const double *values, size_t nvalues, double top_share,
                              unsigned bootstrap, double level, uint64_t seed, double *dout,
                              size_t dout_len, crisk_error *err);
int results_explain(const crisk_bundle *bundle, const crisk_results *results,
                    unsigned explain, float *out, size_t out_len, int32_t *ints,
                    size_t ints_len, void *text, size_t text_len, crisk_error *err);

int schema_fit(crisk_schema *schema, const crisk_batch *batch, const float *labels,
               size_t nlabels, unsigned folds, uint64_t seed, double smoothing,
               crisk_error *err);
int schema_training_matrix(const crisk_schema *schema, const crisk_batch *batch,
                           const float *labels, size_t nlabels, unsigned folds,
                           uint64_t seed, double smoothing, float *out, size_t out_len,
                           crisk_error *err);
int schema_features(const crisk_schema *schema, const crisk_batch *batch, float *out,
                    size_t out_len, crisk_error *err);
int contributions_into(const crisk_model *model, const float *rows, size_t nrows,
                       size_t ncols, float *out, size_t out_len, int threads,
                       crisk_pool *pool, size_t iteration_begin, size_t iteration_end,
                       crisk_error *err);
double category_code(const crisk_model *model, size_t feature, const void *data,
                     size_t size, crisk_error *err);
int interactions_into(const crisk_model *model, const float *rows, size_t nrows,
                      size_t ncols, float *out, size_t out_len, int threads,
                      crisk_pool *pool, size_t iteration_begin, size_t iteration_end,
                      crisk_error *err);

/* One declaration a call (crisk.Decider): the record goes in as the dict or sequence
 * itself, its values as the str, bytes or None objects (their cached UTF-8: no copies, no
 * encoding in Python), and the decision comes out as one tuple in the Decision's order,
 * in one call; the GIL is released while the declaration is scored only, since the
 * conversions in and out need it. */
%nothread decide;
%{
/* Points `*cell` and `*length` at the UTF-8 of value `v` of field `j` (str, bytes; None:
 * missing). Returns 0, or -1 with a Python exception set (TypeError: another type;
 * UnicodeEncodeError: a str that is not valid Unicode). */
static int decide_cell(PyObject *v, Py_ssize_t j, const char **cell, size_t *length)
{
    Py_ssize_t len = 0;
    char *bytes = NULL;
    *cell = NULL;
    if (PyUnicode_Check(v))
        *cell = PyUnicode_AsUTF8AndSize(v, &len);
    else if (PyBytes_Check(v) && PyBytes_AsStringAndSize(v, &bytes, &len) == 0)
        *cell = bytes;
    else if (v != Py_None && !PyBytes_Check(v))
        PyErr_Format(PyExc_TypeError, "value %zd is a %s, not str, bytes or None", j,
                     Py_TYPE(v)->tp_name);
    *length = (size_t)len;
    return v == Py_None || *cell ? 0 : -1;
}

/* Points `cells`/`lengths` at the values of `record` for the field names of the tuple
 * `fields`: a dict's (a missing key: missing) or a list's or tuple's, in field order,
 * which must hold one per field. The values must outlive their use. Returns 0, or -1 with
 * a Python exception set (ValueError: a sequence of another length). */
static int decide_cells(PyObject *record, PyObject *fields, const char **cells,
                        size_t *lengths)
{
    Py_ssize_t n = PyTuple_GET_SIZE(fields);
    if (PyDict_Check(record)) {
        for (Py_ssize_t j = 0; j < n; j++) {
            PyObject *v = PyDict_GetItemWithError(record, PyTuple_GET_ITEM(fields, j));
            if ((!v && PyErr_Occurred()) || decide_cell(v ? v : Py_None, j, &cells[j],
                                                        &lengths[j]) != 0)
                return -1;
        }
        return 0;
    }
    PyObject *seq = PySequence_Fast(record, "a declaration is a dict, a list or a tuple");
    if (!seq)
        return -1;
    int rc = 0;
    if (PySequence_Fast_GET_SIZE(seq) != n) {
        PyErr_Format(PyExc_ValueError, "a declaration has %zd values (the schema's fields), "
                     "not %zd", n, PySequence_Fast_GET_SIZE(seq));
        rc = -1;
    }
    for (Py_ssize_t j = 0; rc == 0 && j < n; j++)
        rc = decide_cell(PySequence_Fast_GET_ITEM(seq, j), j, &cells[j], &lengths[j]);
    Py_DECREF(seq);
    return rc;
}

/* Returns item `i` of the tuple `names` (a new reference), None when out of range. */
static PyObject *decide_name(PyObject *names, Py_ssize_t i)
{
    PyObject *name = i >= 0 && i < PyTuple_GET_SIZE(names) ? PyTuple_GET_ITEM(names, i)
                                                          : Py_None;
    return Py_NewRef(name);
}

/* Returns the decision of `res` (of `bundle`) as (lane, reason, reason kind, scores
 * tuple, hit ids tuple, propensity), the lane and kind named by the tuples `lanes` and
 * `kinds`; None with `err` filled when it cannot be copied; NULL with a Python exception
 * set when Python objects cannot be made. */
static PyObject *decide_tuple(const crisk_bundle *bundle, const crisk_results *res,
                              PyObject *lanes, PyObject *kinds, crisk_error *err)
{
    size_t count = decision_numbers(bundle), text_len = decision_text_bytes(res);
    double *numbers = malloc(count * sizeof *numbers + text_len);
    if (!numbers)
        return PyErr_NoMemory();
    char *text = (char *)(numbers + count);
    PyObject *out = NULL;
    if (decision_copy(bundle, res, numbers, count, text, text_len, err) < 0) {
        out = Py_NewRef(Py_None);
    } else {
        Py_ssize_t nhits = (Py_ssize_t)numbers[2];
        PyObject *scores = PyTuple_New((Py_ssize_t)(count - DECISION_HEAD));
        PyObject *hits = PyTuple_New(nhits);
        for (size_t k = DECISION_HEAD; scores && k < count; k++)
            PyTuple_SET_ITEM(scores, (Py_ssize_t)(k - DECISION_HEAD),
                             PyFloat_FromDouble(numbers[k]));
        const char *at = text + strlen(text) + 1;
        for (Py_ssize_t k = 0; hits && k < nhits; k++, at += strlen(at) + 1)
            PyTuple_SET_ITEM(hits, k, PyUnicode_DecodeUTF8(at, (Py_ssize_t)strlen(at),
                                                           "replace"));
        if (scores && hits)
            out = Py_BuildValue("(NNNNNd)", decide_name(lanes, (Py_ssize_t)numbers[0]),
                                PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text),
                                                     "replace"),
                                decide_name(kinds, (Py_ssize_t)numbers[1]), scores, hits,
                                numbers[3]);
        else {
            Py_XDECREF(scores);
            Py_XDECREF(hits);
        }
    }
    free(numbers);
    return out;
}
%}
%inline %{
/* Scores one declaration, `record` (a dict, or a list or tuple in field order, of str,
 * bytes or None: missing) with `bundle`, appended to `batch` (emptied first, with
 * `events` joined; crisk_helpers.h's decision_batch), in stream mode against `state` when
 * it is not None, with profiles judged as of `today` when `has_today` is non-zero.
 * `names` is (the schema's field names, the lane names, the reason kind names by code),
 * three tuples. Returns the decision (decide_tuple), None with `err` filled when C fails
 * (CRISK_E_INPUT: the declaration is rejected, naming the field), or raises (ValueError,
 * TypeError, UnicodeEncodeError: decide_cells) before touching the batch. */
PyObject *decide(const crisk_bundle *bundle, crisk_batch *batch, const crisk_events *events,
                 crisk_lane_state *state, int has_today, int64_t today, PyObject *record,
                 PyObject *names, crisk_error *err)
{
    PyObject *fields, *lanes, *kinds;
    if (!PyArg_ParseTuple(names, "O!O!O!", &PyTuple_Type, &fields, &PyTuple_Type, &lanes,
                          &PyTuple_Type, &kinds))
        return NULL;
    size_t n = (size_t)PyTuple_GET_SIZE(fields);
    if (n != crisk_schema_num_fields(crisk_bundle_schema(bundle)))
        return PyErr_Format(PyExc_ValueError, "names: %zu fields, not the schema's", n);
    const char **cells = malloc((n ? n : 1) * sizeof *cells);
    size_t *lengths = malloc((n ? n : 1) * sizeof *lengths);
    PyObject *out = NULL;
    if (!cells || !lengths) {
        PyErr_NoMemory();
    } else if (decide_cells(record, fields, cells, lengths) == 0) {
        crisk_results *res = NULL;
        if (decision_batch(batch, events, err) == 0
            && crisk_batch_append_text(batch, cells, lengths, 1, err) == 0) {
            Py_BEGIN_ALLOW_THREADS
            res = bundle_score_stream(bundle, batch, 1, NULL, has_today, today, state, 0,
                                      err);
            Py_END_ALLOW_THREADS
        }
        out = res ? decide_tuple(bundle, res, lanes, kinds, err) : Py_NewRef(Py_None);
        crisk_results_free(res);
    }
    free(cells);
    free(lengths);
    return out;
}
%}
