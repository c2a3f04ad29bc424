/*
 * import/import.h — the model importers, one per file format. Internal to the library.
 *
 * Each importer fills an empty crisk_model (from crisk__model_new) with the canonical form
 * described in model.h and returns 0, or fails with `err` naming what is wrong and where
 * (the loader frees the half-built model). Importers bound every size by `limits` before
 * allocating, and never recurse on what the file controls. The loader then validates the
 * model (crisk__model_validate) and builds the engine.
 */
#ifndef CRISK_IMPORT_H
#define CRISK_IMPORT_H

#include "model/model.h"

#include "common/jsonpull.h"
#include "import/jvalue.h"

#include <cjson/cJSON.h>

/* The trees of a gbtree model: the items of a parsed trees array (`array`), or the text of
 * one (`text`, `len` bytes) with the index of its document's containers, read in place. */
typedef struct crisk__tree_source {
    const cJSON *array;
    const char *text;
    const unsigned char *ubjson;       /* or the UBJSON of one (`len` bytes) */
    size_t len;
    const crisk_load_limits *limits;   /* for UBJSON */
    crisk__jindex index;               /* for text; crisk__tree_source_done frees it */
} crisk__tree_source;

/* A UBJSON array read one element at a time (crisk__ubjson_items_*). */
typedef struct crisk__ubjson_items {
    const unsigned char *data;
    size_t size, pos;
    int64_t left;
    unsigned char type;
    const crisk_load_limits *limits;
} crisk__ubjson_items;

/* Walks a tree source: each tree is valid until the next call. */
typedef struct crisk__tree_iter {
    const crisk__tree_source *src;
    const cJSON *item;
    crisk__jpull c;
    crisk__jshared shared;
    crisk__ubjson_items items;
    int failed;          /* the code of a UBJSON array that did not open, or 0 */
    cJSON *owned;
    int params_only;
    crisk__jvalue tree;
} crisk__tree_iter;

/* Stores the number of trees of `s` in `*n`. Returns 0, or an error of a UBJSON array. */
int crisk__tree_source_count(const crisk__tree_source *s, size_t *n, crisk_error *err);

/* Frees what `s` holds (not the text or tree it reads). */
void crisk__tree_source_done(crisk__tree_source *s);

/* Starts `it` at the first tree of `s`; crisk__tree_iter_done frees what it holds. With
 * `params_only`, a tree decoded from UBJSON holds only its tree_param member (enough for the
 * node counts, at a fraction of the cost). Returns 0 or CRISK_E_NOMEM. */
int crisk__tree_iter_init(crisk__tree_iter *it, const crisk__tree_source *s, int params_only,
                          crisk_error *err);

/* Stores the next tree in `*tree` (NULL after the last). Returns 0, or CRISK_E_NOMEM /
 * CRISK_E_FORMAT. */
int crisk__tree_iter_next(crisk__tree_iter *it, const crisk__jvalue **tree, crisk_error *err);
void crisk__tree_iter_done(crisk__tree_iter *it);

/* Splits XGBoost JSON text (`size` bytes) when it is in jsonpull's strict subset and holds
 * a gbtree or dart model's trees array: stores the rest of the document, parsed by cJSON
 * with that array empty, in `*root` (the caller's, to cJSON_Delete) and the array's text,
 * which stays in `text`, in `*src` (the caller's, to crisk__tree_source_done). Returns 0,
 * 1 when the text is not of that kind (the caller parses it whole), or CRISK_E_NOMEM. */
int crisk__xgboost_split(const char *text, size_t size, cJSON **root,
                         crisk__tree_source *src, crisk_error *err);

/* XGBoost's JSON model (the document `save_model("m.json")` writes, or the same tree
 * decoded from UBJSON): gbtree, dart and gblinear boosters. With `trees` (NULL: the trees
 * are in the document), the gbtree trees are read from there instead
 * (crisk__xgboost_split). */
int crisk__import_xgboost(const cJSON *root, const crisk__tree_source *trees,
                          const crisk_load_limits *limits, crisk_model *m, crisk_error *err);

/* Reads XGBoost 3.1+'s `cats` object (the gbtree model's stored category values) into
 * m->categories, m->num_features being set. Returns 0 or an error naming the JSON path. */
int crisk__xgboost_read_cats(const cJSON *cats, crisk_model *m, crisk_error *err);

/* crisk's logistic JSON format (README.md, "Logistic model format"). */
int crisk__import_logistic(const cJSON *root, const crisk_load_limits *limits,
                           crisk_model *m, crisk_error *err);

/* LightGBM's text format, `size` bytes at `text` (not NUL-terminated). */
int crisk__import_lightgbm(const char *text, size_t size, const crisk_load_limits *limits,
                           crisk_model *m, crisk_error *err);

/* Reads the `pandas_categorical:` line of LightGBM text `text` (`size` bytes), if any,
 * into m->categories, giving list k to the k-th categorical feature of the header's
 * feature_infos (`infos_len` bytes at `infos`, NULL when absent), and sets LightGBM's
 * rule for unseen values. Returns 0 or an error naming the line. */
int crisk__lightgbm_read_cats(const char *text, size_t size, const char *infos,
                              size_t infos_len, crisk_model *m, crisk_error *err);

/* crisk__ubjson_parse, except that the trees array of a gbtree or dart model (the one the
 * importer reads for the booster the document names) is left out of the tree (an empty
 * array stands there) and its UBJSON, which stays in `data`, stored in `*src` (left empty
 * when there is none). Returns 0 or an error. */
int crisk__ubjson_split(const unsigned char *data, size_t size, const crisk_load_limits *limits,
                        cJSON **out, crisk__tree_source *src, crisk_error *err);

/* Opens the UBJSON array at `data` (`size` bytes) in `*it`. Returns 0 or an error naming
 * the byte offset. */
int crisk__ubjson_items_open(const unsigned char *data, size_t size,
                             const crisk_load_limits *limits, crisk__ubjson_items *it,
                             crisk_error *err);

/* What crisk__ubjson_items_next keeps of an element: nothing (0), all of it (1), or (an
 * object's) its tree_param members only, decoding and checking all the same. */
#define CRISK__UBJSON_KEEP_PARAMS 2

/* Reads the next element of `it`: `*more` is 1 when there was one, and with `keep` its
 * tree is stored in `*out` (the caller's). Returns 0 or an error naming the byte offset. */
int crisk__ubjson_items_next(crisk__ubjson_items *it, int keep, cJSON **out, int *more,
                             crisk_error *err);

/* Decodes a UBJSON document (as XGBoost writes it) into a cJSON tree stored in `*out`,
 * without recursion. Returns 0 or CRISK_E_FORMAT / CRISK_E_LIMIT / CRISK_E_NOMEM naming
 * the byte offset. */
int crisk__ubjson_parse(const unsigned char *data, size_t size, const crisk_load_limits *limits,
                        cJSON **out, crisk_error *err);

/* Rewrites JSON text in which XGBoost wrote bare NaN, Infinity or -Infinity (outside
 * strings) into standard JSON where each stands as a marker string that
 * crisk__json_nonfinite_value() recognises. Stores a malloc'd NUL-terminated copy in
 * `*out` and its length in `*out_size`, or leaves `*out` NULL when the text has no such
 * token. Returns 0 or CRISK_E_NOMEM. */
int crisk__json_nonfinite_rewrite(const char *text, size_t size, char **out, size_t *out_size,
                                  crisk_error *err);

/* Returns 1 and stores the value in `*value` if the `len` bytes at `s` (a decoded string)
 * are a marker written by crisk__json_nonfinite_rewrite(), else 0. */
int crisk__json_nonfinite_value(const char *s, size_t len, float *value);

/* Converts an XGBoost model in the legacy binary format to XGBoost JSON through
 * libxgboost, opened at run time, storing a malloc'd NUL-terminated text in `*json` (NULL
 * on failure). Returns 0, CRISK_E_FORMAT when the bytes are no recognised model,
 * CRISK_E_DEPENDENCY when libxgboost.so.0 cannot be loaded, or CRISK_E_NOMEM. */
int crisk__xgboost_legacy_to_json(const void *data, size_t size, char **json,
                                  crisk_error *err);

/* crisk__xgboost_legacy_to_json() with libxgboost looked for under the name `library`,
 * so that the tests can see what happens when it is absent or is not libxgboost. */
int crisk__xgboost_legacy_to_json_with(const char *library, const void *data, size_t size,
                                       char **json, crisk_error *err);

#endif /* CRISK_IMPORT_H */
