/*
 * crisk/model.h — models: loading XGBoost, LightGBM and logistic models within
 * limits, and describing them. Part of the public API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_model_h
#define INCLUDE_crisk_model_h

#include "crisk/common.h"

#ifdef __cplusplus
extern "C" {
#endif

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
                               one, and most category values a feature may store; default
                               2^24 (XGBoost's own bound) */
} crisk_load_limits;

/* How a model is loaded. Initialise with crisk_load_options_init(); more fields may
 * follow in later versions (see "Options structs" in crisk.h), so never fill one field by
 * field from scratch. */
#define CRISK_LOAD_OPTIONS_VERSION 1
typedef struct crisk_load_options {
    unsigned int version;  /* CRISK_LOAD_OPTIONS_VERSION: the layout; set by _init() */
    crisk_load_limits limits;
    /* Model pinning: when `pin_sha256` is non-zero, a model whose bytes (the file, or the
     * buffer) do not have the SHA-256 digest `expected_sha256` is refused with
     * CRISK_E_INTEGRITY, the message giving the expected and the actual digest in hex.
     * Default: 0 (no pin). */
    int pin_sha256;
    unsigned char expected_sha256[32];
} crisk_load_options;

/* Fills `opts` with the defaults above for `version`, which must be
 * CRISK_LOAD_OPTIONS_VERSION (the layout this header declares), and writes no field that
 * version lacks. Returns 0, or CRISK_E_INVALID_ARGUMENT (NULL, or a version this crisk does
 * not know). Thread-safe. */
CRISK_API int crisk_load_options_init(crisk_load_options *opts, unsigned int version);

/* Loads a model from the file at `path` with the default load options, and stores a new
 * handle in `*out` (set to NULL on failure). The format is recognised from the contents:
 *   - XGBoost JSON (`save_model("m.json")`) and UBJSON (`.ubj`, XGBoost 1.6 to 3.x);
 *   - XGBoost's legacy binary format, through libxgboost.so.0, opened at run time for
 *     such a model only (CRISK_E_DEPENDENCY when it cannot be loaded: Debian package
 *     libxgboost0);
 *   - LightGBM's text format (`model.txt`);
 *   - crisk's logistic JSON format (docs/logistic-format.md).
 * Returns 0, or CRISK_E_IO (unreadable, a directory), CRISK_E_FORMAT (malformed or
 * inconsistent), CRISK_E_UNSUPPORTED (an objective, booster or tree feature crisk does
 * not implement, named in the message), CRISK_E_LIMIT, CRISK_E_NOMEM, CRISK_E_DEPENDENCY.
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

/* Category values. A model trained on categorical columns stores, per categorical
 * feature, the value each category code stands for: XGBoost 3.1+ in its `cats` section,
 * LightGBM in model.txt's `pandas_categorical` line. Text values are re-coded to the
 * model's codes by value with crisk_model_category_code(); passing the codes of one's
 * own category dictionary instead scores the wrong categories. Models that store no
 * values (older XGBoost, models trained on codes) take codes as numbers, as always. */

/* Returns how many category values feature `feature` stores (its codes are 0 .. n-1),
 * or 0 when it stores none or `feature` is out of range. Thread-safe. */
CRISK_API size_t crisk_model_num_categories(const crisk_model *model, size_t feature);

/* Returns 1 if feature `feature` stores its category values as numbers (the trainer's
 * categories were numbers), 0 if as text or none. Thread-safe. */
CRISK_API int crisk_model_categories_numeric(const crisk_model *model, size_t feature);

/* Returns the value that category code `code` of feature `feature` stands for, as
 * NUL-terminated UTF-8 text (a number in its shortest round-trip decimal form), or NULL
 * when `feature` or `code` is out of range. The string lives as long as the model.
 * Thread-safe. */
CRISK_API const char *crisk_model_category(const crisk_model *model, size_t feature,
                                           size_t code);

/* Re-codes the category value `value` (`length` bytes of text, not NUL-terminated) of
 * feature `feature` to the model's code, stored in the caller's `*code`. A feature
 * storing numbers matches `value` read as a decimal number (strtod's form, the whole
 * text), by value ("10" and "1e1" are 10). A value the model never saw gets what the
 * training library gives it: an XGBoost model refuses it with CRISK_E_INPUT naming the
 * feature and the value (XGBoost raises); a LightGBM model returns 0 with `*code` NaN, a
 * missing value (LightGBM scores a category outside its training set as missing).
 * Returns 0, CRISK_E_INPUT (an unseen value, as above), or CRISK_E_INVALID_ARGUMENT
 * (NULL pointers, a feature out of range or storing no categories). Thread-safe. */
CRISK_API int crisk_model_category_code(const crisk_model *model, size_t feature,
                                        const char *value, size_t length, float *code,
                                        crisk_error *err);

/* Writes to `out` the SHA-256 digest of the bytes the model was loaded from (the whole
 * file, or the whole buffer): the value to pin with crisk_load_options.expected_sha256.
 * Thread-safe. */
CRISK_API void crisk_model_digest(const crisk_model *model, unsigned char out[32]);

/* Writes the SHA-256 digest of `size` bytes at `data` to `out`. Returns 0, or
 * CRISK_E_INVALID_ARGUMENT (NULL pointers with size > 0), CRISK_E_DEPENDENCY (the
 * crypto library refused). Thread-safe. */
CRISK_API int crisk_sha256(const void *data, size_t size, unsigned char out[32]);

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

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_model_h */
