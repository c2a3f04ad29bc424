/*
 * crisk.h — the public interface of crisk, a customs risk-scoring library.
 *
 * This header is the specification: every function's contract is written above it, and
 * where the code disagrees with this text, the code is wrong.
 *
 * Conventions that hold for every call:
 *   - Names start with `crisk_` (functions, types) or `CRISK_` (macros, constants).
 *   - Functions that can fail return 0 on success and a negative CRISK_E_* code on
 *     failure. When they take a `crisk_error *err`, it is filled with the code and a
 *     message that says what went wrong and where (a JSON path, a line number, a row and
 *     column); `err` may be NULL when the caller does not want the message.
 *   - The caller owns what it passes and allocates the output buffers; the sizes each call
 *     needs are documented beside it. The library never keeps a pointer to caller memory
 *     after a call returns.
 *   - Handles are opaque. Destructors accept NULL.
 *   - The library keeps no global mutable state, never prints, never aborts and never
 *     exits. Each function says how it may be called from several threads.
 */
#ifndef CRISK_H
#define CRISK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CRISK_BUILDING_DLL)
#  define CRISK_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define CRISK_API __attribute__((visibility("default")))
#else
#  define CRISK_API
#endif

/* ------------------------------------------------------------------------------------ */
/* Version                                                                              */
/* ------------------------------------------------------------------------------------ */

#define CRISK_VERSION_MAJOR 0
#define CRISK_VERSION_MINOR 1
#define CRISK_VERSION_PATCH 0
#define CRISK_VERSION_NUMBER \
    (CRISK_VERSION_MAJOR * 10000 + CRISK_VERSION_MINOR * 100 + CRISK_VERSION_PATCH)

#define CRISK_STRINGIFY_(x) #x
#define CRISK_STRINGIFY(x) CRISK_STRINGIFY_(x)
#define CRISK_VERSION_STRING                                                              \
    CRISK_STRINGIFY(CRISK_VERSION_MAJOR) "." CRISK_STRINGIFY(CRISK_VERSION_MINOR) "."     \
    CRISK_STRINGIFY(CRISK_VERSION_PATCH)

/* Returns CRISK_VERSION_NUMBER of the library actually linked, which may differ from the
 * header's when the shared library was upgraded. Thread-safe. */
CRISK_API unsigned crisk_version_number(void);

/* Returns the version of the library actually linked as "MAJOR.MINOR.PATCH", a static
 * string. Thread-safe. */
CRISK_API const char *crisk_version_string(void);

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                               */
/* ------------------------------------------------------------------------------------ */

/* Every error code, its name and its meaning, in one table. */
#define CRISK_ERRNO_MAP(XX)                                                               \
    XX(INVALID_ARGUMENT, -1, "invalid argument")                                          \
    XX(NOMEM,            -2, "out of memory")                                             \
    XX(IO,               -3, "input/output error")                                        \
    XX(FORMAT,           -4, "malformed or inconsistent model or input")                  \
    XX(UNSUPPORTED,      -5, "model feature not supported")                               \
    XX(LIMIT,            -6, "resource limit exceeded")                                   \
    XX(SHAPE,            -7, "array shape does not match the model")                      \
    XX(INPUT,            -8, "invalid input value")                                       \
    XX(DEPENDENCY,       -9, "optional dependency not available in this build")

/* The error codes: CRISK_OK (0) and one negative CRISK_E_<NAME> per row of the table. */
typedef enum crisk_errno {
    CRISK_OK = 0,
#define CRISK_ERRNO_ENUM_(name, value, text) CRISK_E_##name = (value),
    CRISK_ERRNO_MAP(CRISK_ERRNO_ENUM_)
#undef CRISK_ERRNO_ENUM_
    CRISK_E_LAST_ = -10
} crisk_errno;

/* The detail of a failure. `message` is always NUL-terminated; it names what is wrong and
 * where, e.g. "learner.gradient_booster.model.trees[3].left_children[7]: child 99 out of
 * range (tree has 15 nodes)". */
typedef struct crisk_error {
    int  code;
    char message[512];
} crisk_error;

/* Returns the name of an error code ("CRISK_E_FORMAT"), "CRISK_OK" for 0, or
 * "CRISK_E_UNKNOWN" for any other value. A static string. Thread-safe. */
CRISK_API const char *crisk_err_name(int code);

/* Returns a short English description of an error code, a static string ("unknown error"
 * for a value not in the table). Thread-safe. */
CRISK_API const char *crisk_strerror(int code);

/* ------------------------------------------------------------------------------------ */
/* Models                                                                               */
/* ------------------------------------------------------------------------------------ */

/* A loaded risk model: an XGBoost booster (gbtree, dart, gblinear), a LightGBM model, or
 * a crisk logistic model. Immutable once loaded: any number of threads may score one
 * model at once. */
typedef struct crisk_model crisk_model;

/* Limits that a model file must stay within; a file beyond one is refused with
 * CRISK_E_LIMIT and a message naming the limit. They bound the memory and time a hostile
 * file can make a load take. */
typedef struct crisk_load_limits {
    size_t max_file_bytes;  /* size of the file or buffer; default 2 GiB */
    size_t max_trees;       /* trees in the model; default 1,000,000 */
    size_t max_nodes;       /* nodes in all trees together; default 2^28 */
    size_t max_depth;       /* depth of any tree (a root alone has depth 0); default 256 */
    size_t max_features;    /* features; default 1,000,000 */
    size_t max_outputs;     /* classes or outputs; default 10,000 */
    size_t max_category;    /* largest category value a categorical split may test, plus
                               one; default 2^24 (XGBoost's own bound) */
} crisk_load_limits;

/* How a model is loaded. Initialise with crisk_load_options_init(); more fields may
 * follow in later versions, so never fill one field by field from scratch. */
typedef struct crisk_load_options {
    crisk_load_limits limits;
} crisk_load_options;

/* Fills `opts` with the defaults listed above. Thread-safe. */
CRISK_API void crisk_load_options_init(crisk_load_options *opts);

/* Loads a model from the file at `path` with the default load options, and stores a new
 * handle in `*out` (set to NULL on failure). The format is recognised from the contents:
 *   - XGBoost JSON (`save_model("m.json")`) and UBJSON (`.ubj`, XGBoost 1.6 to 3.x);
 *   - XGBoost's legacy binary format, through libxgboost when the build has it
 *     (CRISK_E_DEPENDENCY otherwise);
 *   - LightGBM's text format (`model.txt`);
 *   - crisk's logistic JSON format (see README.md, "Logistic model format").
 * Returns 0, or CRISK_E_IO (unreadable, a directory), CRISK_E_FORMAT (malformed or
 * inconsistent), CRISK_E_UNSUPPORTED (an objective, booster or tree feature crisk does
 * not implement, named in the message), CRISK_E_LIMIT, CRISK_E_NOMEM.
 * Thread-safe; the returned model is the caller's to free with crisk_model_free(). */
CRISK_API int crisk_model_load(const char *path, crisk_model **out, crisk_error *err);

/* As crisk_model_load(), from `size` bytes at `data` (copied as needed; the caller may
 * free `data` once the call returns). Thread-safe. */
CRISK_API int crisk_model_load_buffer(const void *data, size_t size, crisk_model **out,
                                      crisk_error *err);

/* As crisk_model_load(), with explicit load options (NULL means the defaults).
 * Thread-safe. */
CRISK_API int crisk_model_load_advanced(const char *path, const crisk_load_options *opts,
                                        crisk_model **out, crisk_error *err);

/* As crisk_model_load_buffer(), with explicit load options (NULL means the defaults).
 * Thread-safe. */
CRISK_API int crisk_model_load_buffer_advanced(const void *data, size_t size,
                                               const crisk_load_options *opts,
                                               crisk_model **out, crisk_error *err);

/* Frees a model and everything it owns. NULL is a no-op. The caller must make sure no
 * other thread is still scoring with it. */
CRISK_API void crisk_model_free(crisk_model *model);

/* Returns the number of features (columns) a row must have. Thread-safe. */
CRISK_API size_t crisk_model_num_features(const crisk_model *model);

/* Returns the number of outputs per row: 1, or the number of classes of a multi-class
 * model (multi:softprob, multiclass, multinomial logistic). multi:softmax models output
 * one value per row, the class index, so they return 1. Thread-safe. */
CRISK_API size_t crisk_model_num_outputs(const crisk_model *model);

/* Returns the number of values per row that CRISK_OUTPUT_MARGIN writes: the number of
 * margins the model sums. It equals crisk_model_num_outputs() except for multi:softmax,
 * whose margin output has one value per class. Thread-safe. */
CRISK_API size_t crisk_model_num_margins(const crisk_model *model);

/* Returns the name of feature `index` as stored in the model file, or NULL when the file
 * stores no names or `index` is out of range. The string lives as long as the model.
 * Thread-safe. */
CRISK_API const char *crisk_model_feature_name(const crisk_model *model, size_t index);

/* A description of a loaded model, for `crisk inspect` and for logs. The strings live as
 * long as the model. */
typedef struct crisk_model_info {
    const char *format;      /* "xgboost", "lightgbm" or "logistic" */
    const char *booster;     /* "gbtree", "dart", "gblinear", "gbdt" (LightGBM), "linear" */
    const char *objective;   /* as the file names it, e.g. "binary:logistic" */
    size_t num_features;
    size_t num_outputs;      /* as crisk_model_num_outputs() */
    size_t num_classes;      /* classes of a classifier (2 for binary), else 0 */
    size_t num_trees;        /* 0 for linear models */
    size_t num_iterations;   /* boosting rounds; 0 for linear models */
    size_t num_nodes;        /* nodes of all trees */
    size_t max_depth;        /* deepest tree */
    size_t memory_bytes;     /* memory held by the loaded model */
} crisk_model_info;

/* Fills `info` with a description of `model`. Thread-safe. */
CRISK_API void crisk_model_get_info(const crisk_model *model, crisk_model_info *info);

/* ------------------------------------------------------------------------------------ */
/* Prediction                                                                           */
/* ------------------------------------------------------------------------------------ */

#define CRISK_OUTPUT_TRANSFORMED 0  /* probabilities, class index, expected value, ... */
#define CRISK_OUTPUT_MARGIN      1  /* the raw score before the objective's transform */

/* How a prediction is made. Initialise with crisk_predict_options_init(); more fields may
 * follow in later versions. */
typedef struct crisk_predict_options {
    int    threads;          /* 1: the calling thread only (default); 0: all cores; N */
    int    output;           /* CRISK_OUTPUT_TRANSFORMED (default) or CRISK_OUTPUT_MARGIN */
    size_t iteration_begin, iteration_end;   /* 0, 0: every iteration */
} crisk_predict_options;

/* Fills `opts` with the defaults: one thread, transformed output, every iteration.
 * Thread-safe. */
CRISK_API void crisk_predict_options_init(crisk_predict_options *opts);

/* Scores `nrows` rows of `ncols` float features each, row-major at `rows` (NaN means
 * missing), and writes nrows * crisk_model_num_outputs(model) floats (with
 * CRISK_OUTPUT_MARGIN: nrows * crisk_model_num_margins(model)) to the caller-allocated
 * `out`, row-major. `opts` NULL means the defaults.
 *
 * Tree models score exactly as the library that trained them: XGBoost accumulates leaves
 * in float32 in tree order from base_score's margin; LightGBM compares and accumulates in
 * double. Logistic models do not accept missing values: a NaN fails with CRISK_E_INPUT
 * naming the row.
 *
 * Returns 0, or CRISK_E_INVALID_ARGUMENT (NULL pointers, a bad option, an iteration range
 * beyond the model, iteration ranges on a linear model), CRISK_E_SHAPE (ncols is not
 * crisk_model_num_features()), CRISK_E_INPUT, CRISK_E_NOMEM. `out` is unspecified after a
 * failure. nrows == 0 succeeds and writes nothing.
 *
 * Thread-safe: any number of threads may score one model at once. With threads == 1 the
 * call runs on the calling thread and allocates nothing on the heap for a single row. */
CRISK_API int crisk_predict(const crisk_model *model, const float *rows, size_t nrows,
                            size_t ncols, const crisk_predict_options *opts, float *out,
                            crisk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* CRISK_H */
