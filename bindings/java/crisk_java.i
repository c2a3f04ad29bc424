/*
 * crisk_java.i — SWIG interface of crisk for Java: the C API as the package-private
 * classes org.crisk.CriskNative and org.crisk.CriskNativeJNI, which the public classes
 * of org.crisk (Model, Bundle, Schema and their companions) wrap.
 *
 * It wraps the same C functions as the Python binding's capi.i, plus the same helpers
 * (load_buffer, predict_into, crisk_helpers.h; decl_file.h reads declaration files for
 * Schema). Arrays cross differently: a Java buffer has no shape, so predict_into and
 * explain_into take flat rows and a row count (the width is rows_len / nrows); a direct
 * java.nio.FloatBuffer passes its memory without a copy (GetDirectBufferAddress), a
 * float[] is copied in and out by the JVM (Get/ReleaseFloatArrayElements), so
 * predict_into and explain_into have float[] twins, predict_array and explain_array.
 * Failures reach Java as exceptions (org.crisk.CriskException), thrown by the wrapper.
 */
%module CriskNative

%{
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crisk.h"
#include "../crisk_helpers.h"
#include "decl_file.h"
%}

%include <stdint.i>

/* Everything SWIG generates is an implementation detail of org.crisk: package-private. */
%pragma(java) moduleclassmodifiers="final class"
%pragma(java) jniclassclassmodifiers="final class"
%typemap(javaclassmodifiers) SWIGTYPE, SWIGTYPE * "final class"
/* Nothing is finalized: the two proxies (NativeModelInfo, and the model handle, which owns
 * nothing) are freed explicitly by their one user. */
%typemap(javafinalize) SWIGTYPE ""
/* The JNI library is loaded (from the jar, or from crisk.library.path) before the first
 * native call. */
%pragma(java) jniclasscode=%{
  static {
    NativeLoader.load();
  }
%}

/* Every typemap below leaves its pointer NULL and an exception pending instead of
 * returning early, so that the freearg of the arguments before it still releases what
 * they took; the wrapped call then runs only when no exception is pending. */
%define CRISK_RUN_UNLESS_PENDING(NAME)
%exception NAME {
    if (!(*jenv)->ExceptionCheck(jenv)) {
        $action
    } else {
        result = 0;
    }
}
%enddef
CRISK_RUN_UNLESS_PENDING(load_buffer)
CRISK_RUN_UNLESS_PENDING(predict_into)
CRISK_RUN_UNLESS_PENDING(predict_array)
CRISK_RUN_UNLESS_PENDING(explain_into)
CRISK_RUN_UNLESS_PENDING(explain_array)
CRISK_RUN_UNLESS_PENDING(category_code)
CRISK_RUN_UNLESS_PENDING(decl_file_read)
CRISK_RUN_UNLESS_PENDING(decl_file_read_all)
CRISK_RUN_UNLESS_PENDING(lane_state_load)
CRISK_RUN_UNLESS_PENDING(crisk_lane_state_save)
CRISK_RUN_UNLESS_PENDING(drift_load)
CRISK_RUN_UNLESS_PENDING(crisk_drift_save)
CRISK_RUN_UNLESS_PENDING(schema_fit)
CRISK_RUN_UNLESS_PENDING(decl_file_training_matrix)
CRISK_RUN_UNLESS_PENDING(schema_training_matrix_array)
CRISK_RUN_UNLESS_PENDING(schema_features_array)
CRISK_RUN_UNLESS_PENDING(crisk_schema_save)
CRISK_RUN_UNLESS_PENDING(bundle_load)
CRISK_RUN_UNLESS_PENDING(schema_load)
CRISK_RUN_UNLESS_PENDING(batch_append_rows)
CRISK_RUN_UNLESS_PENDING(results_collect)
CRISK_RUN_UNLESS_PENDING(results_reasons)
CRISK_RUN_UNLESS_PENDING(results_explain)
CRISK_RUN_UNLESS_PENDING(device_keys_load)
CRISK_RUN_UNLESS_PENDING(events_load)
CRISK_RUN_UNLESS_PENDING(events_parse)

/* Strings out of C as UTF-8 bytes decoded in Java: NewStringUTF expects modified UTF-8,
 * which feature names read from a model file need not be. */
%typemap(jni) const char * "jbyteArray"
%typemap(jtype) const char * "byte[]"
%typemap(jstype) const char * "String"
%typemap(out) const char * {
    $result = NULL;
    if ($1) {
        jsize n = (jsize)strlen($1);
        $result = (*jenv)->NewByteArray(jenv, n);
        if ($result)
            (*jenv)->SetByteArrayRegion(jenv, $result, 0, n, (const jbyte *)$1);
    }
}
%typemap(javaout) const char * {
    byte[] utf8 = $jnicall;
    return utf8 == null ? null : new String(utf8, java.nio.charset.StandardCharsets.UTF_8);
  }

/* crisk_error *err: a C local; when the call fills it, the wrapper throws
 * org.crisk.CriskException(code, name, message bytes) instead of returning it to Java. */
%typemap(in, numinputs=0) crisk_error *err (crisk_error tmp) {
    tmp.code = 0;
    tmp.message[0] = '\0';
    $1 = &tmp;
}
%typemap(argout) crisk_error *err {
    if (tmp$argnum.code != 0 && !(*jenv)->ExceptionCheck(jenv))
        crisk_java_throw(jenv, &tmp$argnum);
}
%{
/* Throws org.crisk.CriskException for `err`; on failure to build it, the JVM's own
 * exception (NoClassDefFoundError, OutOfMemoryError) is left pending instead. */
static void crisk_java_throw(JNIEnv *jenv, const crisk_error *err)
{
    jclass cls = (*jenv)->FindClass(jenv, "org/crisk/CriskException");
    if (!cls)
        return;
    jmethodID ctor = (*jenv)->GetMethodID(jenv, cls, "<init>", "(ILjava/lang/String;[B)V");
    jstring name = ctor ? (*jenv)->NewStringUTF(jenv, crisk_err_name(err->code)) : NULL;
    jsize n = (jsize)strnlen(err->message, sizeof err->message);
    jbyteArray message = name ? (*jenv)->NewByteArray(jenv, n) : NULL;
    if (message) {
        (*jenv)->SetByteArrayRegion(jenv, message, 0, n, (const jbyte *)err->message);
        jobject ex = (*jenv)->NewObject(jenv, cls, ctor, (jint)err->code, name, message);
        if (ex)
            (*jenv)->Throw(jenv, (jthrowable)ex);
    }
}
%}

/* (const void *data, size_t size): a byte[], pinned or copied by the JVM for the call. */
%typemap(jni) (const void *data, size_t size) "jbyteArray"
%typemap(jtype) (const void *data, size_t size) "byte[]"
%typemap(jstype) (const void *data, size_t size) "byte[]"
%typemap(javain) (const void *data, size_t size) "$javainput"
%typemap(in) (const void *data, size_t size) {
    $1 = NULL;
    $2 = 0;
    if (!$input) {
        SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "data is null");
    } else {
        $2 = (size_t)(*jenv)->GetArrayLength(jenv, $input);
        $1 = (*jenv)->GetByteArrayElements(jenv, $input, NULL);
    }
}
%typemap(freearg) (const void *data, size_t size) {
    if ($1)
        (*jenv)->ReleaseByteArrayElements(jenv, $input, (jbyte *)$1, JNI_ABORT);
}

/* (float *PTR, size_t LEN) from a direct FloatBuffer: its memory, without a copy, and its
 * capacity in floats. GetDirectBufferAddress ignores position(), so the public layer
 * passes slice()s; a heap buffer has no address and is refused. */
%define CRISK_DIRECT_FLOATS(PTR, LEN, WHAT)
%typemap(jni) (PTR, size_t LEN) "jobject"
%typemap(jtype) (PTR, size_t LEN) "java.nio.FloatBuffer"
%typemap(jstype) (PTR, size_t LEN) "java.nio.FloatBuffer"
%typemap(javain) (PTR, size_t LEN) "$javainput"
%typemap(in) (PTR, size_t LEN) {
    $1 = NULL;
    $2 = 0;
    if ((*jenv)->ExceptionCheck(jenv)) {
        /* an earlier argument failed */
    } else if (!$input) {
        SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, WHAT " is null");
    } else if (!($1 = (float *)(*jenv)->GetDirectBufferAddress(jenv, $input))) {
        SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException,
                                WHAT " must be a direct FloatBuffer");
    } else if ((uintptr_t)$1 % _Alignof(float) != 0) {
        /* A view of a ByteBuffer at an odd offset: C may not read floats there. */
        $1 = NULL;
        SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException,
                                WHAT " is not aligned to 4 bytes");
    } else {
        $2 = (size_t)(*jenv)->GetDirectBufferCapacity(jenv, $input);
    }
}
%enddef
CRISK_DIRECT_FLOATS(const float *rows, rows_len, "rows")
CRISK_DIRECT_FLOATS(float *out, out_len, "out")

/* (float *PTR, size_t LEN) from a float[]: the JVM's copy (or pinned array) and its
 * length. MODE is what Release does: JNI_ABORT for inputs (nothing to copy back), 0 for
 * outputs. */
%define CRISK_FLOAT_ARRAY(PTR, LEN, WHAT, MODE)
%typemap(jni) (PTR, size_t LEN) "jfloatArray"
%typemap(jtype) (PTR, size_t LEN) "float[]"
%typemap(jstype) (PTR, size_t LEN) "float[]"
%typemap(javain) (PTR, size_t LEN) "$javainput"
%typemap(in) (PTR, size_t LEN) {
    $1 = NULL;
    $2 = 0;
    if ((*jenv)->ExceptionCheck(jenv)) {
        /* an earlier argument failed */
    } else if (!$input) {
        SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, WHAT " is null");
    } else {
        $2 = (size_t)(*jenv)->GetArrayLength(jenv, $input);
        $1 = (float *)(*jenv)->GetFloatArrayElements(jenv, $input, NULL);
    }
}
%typemap(freearg) (PTR, size_t LEN) {
    if ($1)
        (*jenv)->ReleaseFloatArrayElements(jenv, $input, (jfloat *)$1, MODE);
}
%enddef
CRISK_FLOAT_ARRAY(const float *rows_array, rows_len, "rows", JNI_ABORT)
CRISK_FLOAT_ARRAY(float *out_array, out_len, "out", 0)
CRISK_FLOAT_ARRAY(const float *labels, nlabels, "labels", JNI_ABORT)

/* const char *dir in: a Java String, passed as its UTF-8 bytes and NUL-terminated in a
 * malloc'd copy (the const char * typemaps above are for strings out of C). */
%typemap(jni) const char *dir "jbyteArray"
%typemap(jtype) const char *dir "byte[]"
%typemap(jstype) const char *dir "String"
%typemap(javain) const char *dir "$javainput.getBytes(java.nio.charset.StandardCharsets.UTF_8)"
%typemap(in) const char *dir {
    $1 = NULL;
    if (!$input) {
        SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "path is null");
    } else {
        jsize n = (*jenv)->GetArrayLength(jenv, $input);
        if (!($1 = malloc((size_t)n + 1)))
            SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "path");
        else {
            (*jenv)->GetByteArrayRegion(jenv, $input, 0, n, (jbyte *)$1);
            $1[n] = '\0';
        }
    }
}
%typemap(freearg) const char *dir "free($1);"
%apply const char *dir { const char *path, const char *label };

/* (T *PTR, size_t LEN) from a JAVA[] array: the JVM's copy (or pinned array) and its
 * length; MODE as in CRISK_FLOAT_ARRAY. */
%define CRISK_PRIMITIVE_ARRAY(CTYPE, PTR, LEN, JNITYPE, JAVATYPE, KIND, WHAT, MODE)
%typemap(jni) (CTYPE *PTR, size_t LEN) #JNITYPE "Array"
%typemap(jtype) (CTYPE *PTR, size_t LEN) #JAVATYPE "[]"
%typemap(jstype) (CTYPE *PTR, size_t LEN) #JAVATYPE "[]"
%typemap(javain) (CTYPE *PTR, size_t LEN) "$javainput"
%typemap(in) (CTYPE *PTR, size_t LEN) {
    $1 = NULL;
    $2 = 0;
    if ((*jenv)->ExceptionCheck(jenv)) {
        /* an earlier argument failed */
    } else if (!$input) {
        SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, WHAT " is null");
    } else {
        $2 = (size_t)(*jenv)->GetArrayLength(jenv, $input);
        $1 = ($1_ltype)(*jenv)->Get##KIND##ArrayElements(jenv, $input, NULL);
    }
}
%typemap(freearg) (CTYPE *PTR, size_t LEN) {
    if ($1)
        (*jenv)->Release##KIND##ArrayElements(jenv, $input, (JNITYPE *)$1, MODE);
}
%enddef
CRISK_PRIMITIVE_ARRAY(const long long, ends, nends, jlong, long, Long, "ends", JNI_ABORT)
CRISK_PRIMITIVE_ARRAY(int32_t, ints, ints_len, jint, int, Int, "ints", 0)
CRISK_PRIMITIVE_ARRAY(void, text, text_len, jbyte, byte, Byte, "text", 0)
CRISK_PRIMITIVE_ARRAY(double, values, values_len, jdouble, double, Double, "values", 0)

/* Only what the public layer needs is wrapped; handles stay opaque. crisk_error never
 * reaches Java (see the typemaps above). */
typedef struct crisk_error crisk_error;
%rename(NativeModelInfo) crisk_model_info;
%immutable;
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
%mutable;

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
double category_code(const crisk_model *model, size_t feature, const void *data,
                     size_t size, crisk_error *err);
void crisk_model_get_info(const crisk_model *model, crisk_model_info *info);
crisk_pool *pool_create(int threads, crisk_error *err);
void crisk_pool_free(crisk_pool *pool);
int crisk_pool_threads(const crisk_pool *pool);

%{
/* Stores in `*ncols` the width of `nrows` rows held in `rows_len` floats (the model's
 * width when there are no rows; the model checks it). Returns 0, or CRISK_E_SHAPE with
 * `err` filled when the floats are not a whole number of rows. */
static int rows_width(const crisk_model *model, size_t rows_len, size_t nrows,
                      size_t *ncols, crisk_error *err)
{
    *ncols = nrows ? rows_len / nrows : crisk_model_num_features(model);
    if (nrows ? rows_len % nrows != 0 : rows_len != 0) {
        err->code = CRISK_E_SHAPE;
        snprintf(err->message, sizeof err->message,
                 "rows hold %zu floats, not a whole number of %zu rows", rows_len, nrows);
        return err->code;
    }
    return 0;
}
%}

%inline %{
/* Loads a model from `data`; returns the handle, or NULL with `err` filled. */
crisk_model *load_buffer(const void *data, size_t size, crisk_error *err)
{
    crisk_model *m = NULL;
    crisk_model_load_buffer(data, size, &m, err);
    return m;
}

/* Scores the `rows_len` floats at `rows` as `nrows` rows into `out`, which must hold
 * exactly the outputs' floats, on `threads` threads (of `pool` when it is not NULL); the
 * row width is rows_len / nrows, and the model checks it. Returns 0 or a negative crisk
 * error code with `err` filled. */
int predict_into(const crisk_model *model, const float *rows, size_t rows_len, size_t nrows,
                 float *out, size_t out_len, int threads, crisk_pool *pool, int output,
                 size_t iteration_begin, size_t iteration_end, crisk_error *err)
{
    size_t width = output == CRISK_OUTPUT_MARGIN ? crisk_model_num_margins(model)
                                                 : crisk_model_num_outputs(model);
    size_t ncols;
    if (rows_width(model, rows_len, nrows, &ncols, err) != 0)
        return err->code;
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

/* As predict_into(), from and to float[] (copied by the JVM rather than shared). */
int predict_array(const crisk_model *model, const float *rows_array, size_t rows_len,
                  size_t nrows, float *out_array, size_t out_len, int threads,
                  crisk_pool *pool, int output, size_t iteration_begin,
                  size_t iteration_end, crisk_error *err)
{
    return predict_into(model, rows_array, rows_len, nrows, out_array, out_len, threads,
                        pool, output, iteration_begin, iteration_end, err);
}

/* Writes the SHAP contributions (or, when `interactions` is non-zero, the interaction
 * values) of the `rows_len` floats at `rows`, as `nrows` rows, into `out`, which must
 * hold exactly their floats (crisk_helpers.h's contributions_into, interactions_into),
 * on `threads` threads (of `pool` when it is not NULL).
 * Returns 0 or a negative crisk error code with `err` filled. */
int explain_into(const crisk_model *model, const float *rows, size_t rows_len, size_t nrows,
                 float *out, size_t out_len, int threads, crisk_pool *pool,
                 int interactions, size_t iteration_begin, size_t iteration_end,
                 crisk_error *err)
{
    size_t ncols;
    if (rows_width(model, rows_len, nrows, &ncols, err) != 0)
        return err->code;
    return (interactions ? interactions_into : contributions_into)(
        model, rows, nrows, ncols, out, out_len, threads, pool, iteration_begin, iteration_end,
        err);
}

/* As explain_into(), from and to float[] (copied by the JVM rather than shared). */
int explain_array(const crisk_model *model, const float *rows_array, size_t rows_len,
                  size_t nrows, float *out_array, size_t out_len, int threads,
                  crisk_pool *pool, int interactions, size_t iteration_begin,
                  size_t iteration_end, crisk_error *err)
{
    return explain_into(model, rows_array, rows_len, nrows, out_array, out_len, threads,
                        pool, interactions, iteration_begin, iteration_end, err);
}
%}

/* Declarations, bundles and results: the same C functions and helpers (crisk_helpers.h)
 * as the Python binding's capi.i wraps for its Bundle, so both languages score alike. */
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
%nodefaultctor decl_file;
%nodefaultdtor decl_file;
typedef struct decl_file decl_file;

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
const char *crisk_bundle_lane_name(const crisk_bundle *bundle, size_t i);
void crisk_results_free(crisk_results *results);
size_t crisk_results_size(const crisk_results *results);

/* The streaming lane state (org.crisk.LaneState): the same crisk_helpers.h calls as the
 * Python binding's Bundle.stream. */
crisk_lane_state *lane_state_new(const crisk_bundle *bundle, crisk_error *err);
crisk_lane_state *lane_state_load(const crisk_bundle *bundle, const char *path,
                                  crisk_error *err);
int crisk_lane_state_save(const crisk_lane_state *state, const char *path, crisk_error *err);
void crisk_lane_state_free(crisk_lane_state *state);
const char *crisk_results_hit_id(const crisk_results *results, size_t row, size_t k);
double crisk_results_propensity(const crisk_results *results, size_t row);

crisk_bundle *bundle_load(const char *dir, crisk_error *err);
crisk_schema *schema_load(const char *path, crisk_error *err);
void crisk_schema_free(crisk_schema *schema);
crisk_batch *batch_new(const crisk_schema *schema, crisk_error *err);
size_t batch_append_rows(crisk_batch *batch, const void *data, size_t size,
                         const long long *ends, size_t nends, size_t nfields,
                         size_t begin, size_t end, crisk_error *err);
crisk_results *bundle_score_stream(const crisk_bundle *bundle, const crisk_batch *batch,
                                   int threads, crisk_pool *pool, int has_today,
                                   int64_t today, crisk_lane_state *state, unsigned explain,
                                   crisk_error *err);
size_t bundle_model_outputs(const crisk_bundle *bundle, size_t m);
int results_collect(const crisk_bundle *bundle, const crisk_results *results,
                    float *out_array, size_t out_len, int32_t *ints, size_t ints_len,
                    crisk_error *err);
int results_reasons(const crisk_results *results, void *text, size_t text_len,
                    crisk_error *err);
size_t results_explain_bytes(const crisk_results *results);
int results_explain(const crisk_bundle *bundle, const crisk_results *results,
                    unsigned explain, float *out_array, size_t out_len, int32_t *ints,
                    size_t ints_len, void *text, size_t text_len, crisk_error *err);

/* Schema fitting (org.crisk.Schema): from records through a batch, or from a file
 * (decl_file.h); the same crisk_helpers.h calls as the Python binding's Schema. A seed
 * is a Java long (SWIG would make a uint64_t a BigInteger). */
%apply int64_t { uint64_t seed };
int schema_fit(crisk_schema *schema, const crisk_batch *batch, const float *labels,
               size_t nlabels, unsigned folds, uint64_t seed, double smoothing,
               crisk_error *err);
decl_file *decl_file_read(const crisk_schema *schema, const char *path, const char *label,
                          crisk_error *err);
void decl_file_free(decl_file *file);
/* A file to score (org.crisk.Bundle): every rejected row kept, with its line. */
%apply int64_t { uint64_t decl_file_reject_line };
decl_file *decl_file_read_all(const crisk_schema *schema, const char *path,
                              crisk_error *err);
size_t decl_file_num_rejects(const decl_file *file);
uint64_t decl_file_reject_line(const decl_file *file, size_t i);
size_t decl_file_reject_row(const decl_file *file, size_t i);
const char *decl_file_reject_reason(const decl_file *file, size_t i);
size_t decl_file_size(const decl_file *file);
const crisk_batch *decl_file_batch(const decl_file *file);
int decl_file_fit(crisk_schema *schema, const decl_file *file, unsigned folds,
                  uint64_t seed, double smoothing, crisk_error *err);
int decl_file_training_matrix(const crisk_schema *schema, const decl_file *file,
                              unsigned folds, uint64_t seed, double smoothing,
                              float *out_array, size_t out_len, crisk_error *err);
%inline %{
/* schema_training_matrix (crisk_helpers.h) into a float[]. */
int schema_training_matrix_array(const crisk_schema *schema, const crisk_batch *batch,
                                 const float *labels, size_t nlabels, unsigned folds,
                                 uint64_t seed, double smoothing, float *out_array,
                                 size_t out_len, crisk_error *err)
{
    return schema_training_matrix(schema, batch, labels, nlabels, folds, seed, smoothing,
                                  out_array, out_len, err);
}

/* schema_features (crisk_helpers.h) into a float[]. */
int schema_features_array(const crisk_schema *schema, const crisk_batch *batch,
                          float *out_array, size_t out_len, crisk_error *err)
{
    return schema_features(schema, batch, out_array, out_len, err);
}
%}

/* Border sensor events (org.crisk.DeviceKeys, org.crisk.Events): the same crisk_helpers.h
 * calls as the Python binding's events, so both languages read, join and report them
 * alike. A line number is a Java long (SWIG would make a uint64_t a BigInteger). */
%nodefaultctor crisk_events;
%nodefaultdtor crisk_events;
typedef struct crisk_events crisk_events;
%nodefaultctor crisk_device_keys;
%nodefaultdtor crisk_device_keys;
typedef struct crisk_device_keys crisk_device_keys;
%apply int64_t { uint64_t events_reject_line };

crisk_device_keys *device_keys_load(const char *path, crisk_error *err);
void crisk_device_keys_free(crisk_device_keys *keys);
crisk_events *events_load(const crisk_schema *schema, const crisk_batch *batch,
                          const char *path, const crisk_device_keys *keys, int require_hmac,
                          crisk_error *err);
crisk_events *events_parse(const crisk_schema *schema, const crisk_batch *batch,
                           const void *data, size_t size, const crisk_device_keys *keys,
                           int require_hmac, crisk_error *err);
void crisk_events_free(crisk_events *events);
int crisk_batch_set_events(crisk_batch *batch, const crisk_events *events, crisk_error *err);
size_t crisk_events_num_rejects(const crisk_events *events);
int events_reject_kind(const crisk_events *events, size_t i);
uint64_t events_reject_line(const crisk_events *events, size_t i);
const char *events_reject_reason(const crisk_events *events, size_t i);

/* Drift monitoring (org.crisk.Bundle#monitor; crisk/monitor.h). */
%nodefaultctor crisk_reference;
%nodefaultdtor crisk_reference;
typedef struct crisk_reference crisk_reference;
%nodefaultctor crisk_drift;
%nodefaultdtor crisk_drift;
typedef struct crisk_drift crisk_drift;
crisk_reference *reference_load(const crisk_bundle *bundle, crisk_error *err);
void crisk_reference_free(crisk_reference *reference);
crisk_drift *drift_new(const crisk_reference *reference, size_t window, crisk_error *err);
void crisk_drift_free(crisk_drift *drift);
int crisk_drift_add(crisk_drift *drift, const crisk_batch *batch, const crisk_results *results,
                    crisk_error *err);
size_t crisk_drift_num_items(const crisk_drift *drift);
int drift_item_values(const crisk_drift *drift, size_t i, double *values, size_t values_len,
                      crisk_error *err);
const char *drift_item_name(const crisk_drift *drift, size_t i);
crisk_drift *drift_load(const crisk_reference *reference, const char *path, crisk_error *err);
int crisk_drift_save(const crisk_drift *drift, const char *path, crisk_error *err);
%apply int64_t { uint64_t crisk_drift_rows };
uint64_t crisk_drift_rows(const crisk_drift *drift);

/* One declaration a call (org.crisk.Decider): a hand-written JNI entry point rather than
 * SWIG's, so that the whole call is one crossing without copies: the arrays are reached
 * with GetPrimitiveArrayCritical, held only while C copies in (the declaration's text
 * into the batch) or out (the decision), never across the scoring, and no JNI call is
 * made while one is held. */
%pragma(java) jniclasscode=%{
  /** Scores the declaration whose cells are the bytes of {@code data} ending at
   *  {@code ends} (one per field) with the C bundle, reused batch, events (0: none) and
   *  lane state (0: batch mode) at those addresses, and copies the decision into
   *  {@code numbers} and {@code text} (crisk_helpers.h's decision_copy). Returns null, or
   *  a larger text array, filled, when {@code text} is too small; throws CriskException
   *  when C fails. */
  static final native byte[] decide(long bundle, long batch, long events, long state,
                                    int hasToday, long today, byte[] data, long[] ends,
                                    double[] numbers, byte[] text);
%}
%{
/* Appends the declaration whose cells are `data` up to `ends` to `batch` (emptied, with
 * `events` joined) under critical holds of both arrays. Returns 0 or a negative code with
 * `err` filled. */
static int decide_append(JNIEnv *jenv, crisk_batch *batch, const crisk_events *events,
                         jbyteArray data, jlongArray ends, crisk_error *err)
{
    if (decision_batch(batch, events, err) != 0)
        return err->code;
    jsize size = (*jenv)->GetArrayLength(jenv, data);
    jsize nends = (*jenv)->GetArrayLength(jenv, ends);
    size_t nfields = crisk_schema_num_fields(crisk_batch_schema(batch));
    if ((size_t)nends != nfields)   /* the batch reads one value per schema field */
        return crisk_helper_shape(err, "ends", (size_t)nends, nfields);
    jbyte *d = (*jenv)->GetPrimitiveArrayCritical(jenv, data, NULL);
    jlong *e = d ? (*jenv)->GetPrimitiveArrayCritical(jenv, ends, NULL) : NULL;
    size_t stop = e ? batch_append_rows(batch, d, (size_t)size, (const long long *)e,
                                        (size_t)nends, (size_t)nends, 0, 1, err)
                    : 0;
    if (e)
        (*jenv)->ReleasePrimitiveArrayCritical(jenv, ends, e, JNI_ABORT);
    if (d)
        (*jenv)->ReleasePrimitiveArrayCritical(jenv, data, d, JNI_ABORT);
    if (!e)
        return crisk_error_set(err, CRISK_E_NOMEM, "cannot reach the declaration's arrays");
    return stop == 1 ? 0 : err->code;
}

/* Copies the decision of `res` into the two Java arrays, `text` holding `nt` bytes,
 * under critical holds. Returns 0 or a negative code with `err` filled. */
static int decide_copy(JNIEnv *jenv, const crisk_bundle *bundle, const crisk_results *res,
                       jdoubleArray numbers, jbyteArray text, jsize nt, crisk_error *err)
{
    jsize nn = (*jenv)->GetArrayLength(jenv, numbers);
    jdouble *n = (*jenv)->GetPrimitiveArrayCritical(jenv, numbers, NULL);
    jbyte *t = n ? (*jenv)->GetPrimitiveArrayCritical(jenv, text, NULL) : NULL;
    long rc = !t ? crisk_error_set(err, CRISK_E_NOMEM, "cannot reach the decision's arrays")
                 : decision_copy(bundle, res, n, (size_t)nn, (char *)t, (size_t)nt, err);
    if (t)
        (*jenv)->ReleasePrimitiveArrayCritical(jenv, text, t, rc < 0 ? JNI_ABORT : 0);
    if (n)
        (*jenv)->ReleasePrimitiveArrayCritical(jenv, numbers, n, rc < 0 ? JNI_ABORT : 0);
    return rc < 0 ? (int)rc : 0;
}

/* As decide_copy, into a new text array, stored in `*grown`, when `text` is too small
 * for the reason and the hits (else `*grown` is NULL). */
static int decide_result(JNIEnv *jenv, const crisk_bundle *bundle, const crisk_results *res,
                         jdoubleArray numbers, jbyteArray text, jbyteArray *grown,
                         crisk_error *err)
{
    size_t need = decision_text_bytes(res);
    jsize nt = (*jenv)->GetArrayLength(jenv, text);
    *grown = NULL;
    if (need > (size_t)nt) {
        if (need > INT32_MAX || !(*grown = (*jenv)->NewByteArray(jenv, (jsize)need)))
            return crisk_error_set(err, CRISK_E_NOMEM, "no Java array for the %zu bytes of "
                                   "the reason and the hits", need);
        text = *grown;
        nt = (jsize)need;
    }
    return decide_copy(jenv, bundle, res, numbers, text, nt, err);
}

JNIEXPORT jbyteArray JNICALL Java_org_crisk_CriskNativeJNI_decide(
    JNIEnv *jenv, jclass cls, jlong bundle_ptr, jlong batch_ptr, jlong events_ptr,
    jlong state_ptr, jint has_today, jlong today, jbyteArray data, jlongArray ends,
    jdoubleArray numbers, jbyteArray text)
{
    (void)cls;
    if (!data || !ends || !numbers || !text) {
        SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "an array is null");
        return NULL;
    }
    const crisk_bundle *bundle = (const crisk_bundle *)(intptr_t)bundle_ptr;
    crisk_batch *batch = (crisk_batch *)(intptr_t)batch_ptr;
    crisk_error err = {.code = 0};
    jbyteArray grown = NULL;
    int rc = decide_append(jenv, batch, (const crisk_events *)(intptr_t)events_ptr, data,
                           ends, &err);
    if (rc == 0) {
        crisk_results *res = bundle_score_stream(bundle, batch, 1, NULL, has_today, today,
                                                 (crisk_lane_state *)(intptr_t)state_ptr, 0,
                                                 &err);
        rc = res ? decide_result(jenv, bundle, res, numbers, text, &grown, &err) : err.code;
        crisk_results_free(res);
    }
    if (rc != 0 && !(*jenv)->ExceptionCheck(jenv))
        crisk_java_throw(jenv, &err);
    return rc == 0 ? grown : NULL;
}
%}
