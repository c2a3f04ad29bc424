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

const char *crisk_version_string(void);
const char *crisk_err_name(int code);
void crisk_model_free(crisk_model *model);
size_t crisk_model_num_features(const crisk_model *model);
size_t crisk_model_num_outputs(const crisk_model *model);
size_t crisk_model_num_margins(const crisk_model *model);
const char *crisk_model_feature_name(const crisk_model *model, size_t index);
void crisk_model_get_info(const crisk_model *model, crisk_model_info *info);

%inline %{
/* Loads a model from `data`; returns the handle, or NULL with `err` filled. */
crisk_model *load_buffer(const void *data, size_t size, crisk_error *err)
{
    crisk_model *m = NULL;
    crisk_model_load_buffer(data, size, &m, err);
    return m;
}

/* Scores `rows` into `out` (which must hold exactly the outputs' floats); returns 0 or a
 * negative crisk error code with `err` filled. */
int predict_into(const crisk_model *model, const float *rows, size_t nrows, size_t ncols,
                 float *out, size_t out_len, int threads, int output,
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
    crisk_predict_options_init(&opts);
    opts.threads = threads;
    opts.output = output;
    opts.iteration_begin = iteration_begin;
    opts.iteration_end = iteration_end;
    return crisk_predict(model, rows, nrows, ncols, &opts, out, err);
}
%}
