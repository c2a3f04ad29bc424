/*
 * predict/load.c — loading a model: reading the file within the limits, recognising the format,
 * handing the bytes to the right importer, then validating and compiling the result.
 */
#include "crisk.h"

#include "common/digest.h"
#include "common/hex.h"
#include "engine/engine.h"
#include "common/error.h"
#include "common/file.h"
#include "import/import.h"
#include "model/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest JSON model parsed whole by cJSON (see import_json_whole). */
#define WHOLE_PARSE_MAX_MIB 64

int crisk_load_options_init(crisk_load_options *opts, unsigned int version)
{
    if (!opts || version != CRISK_LOAD_OPTIONS_VERSION)
        return CRISK_E_INVALID_ARGUMENT;
    opts->version = version;
    memset(&opts->limits, 0, sizeof opts->limits);
    opts->limits.max_file_bytes = (size_t)2 << 30;
    opts->limits.max_trees = 1000000;
    opts->limits.max_nodes = (size_t)1 << 28;
    opts->limits.max_depth = 256;
    opts->limits.max_features = 1000000;
    opts->limits.max_outputs = 10000;
    opts->limits.max_category = (size_t)1 << 24;
    opts->pin_sha256 = 0;
    memset(opts->expected_sha256, 0, sizeof opts->expected_sha256);
    return 0;
}

/* The formats the loader tells apart by their first bytes. */
typedef enum model_format {
    FORMAT_JSON,      /* XGBoost JSON or crisk logistic JSON */
    FORMAT_UBJSON,    /* XGBoost UBJSON */
    FORMAT_LIGHTGBM,  /* LightGBM text */
    FORMAT_LEGACY     /* anything else: XGBoost's legacy binary, if it is one */
} model_format;

/* Returns the format of `size` bytes at `data`, from their first bytes. */
static model_format sniff(const unsigned char *data, size_t size)
{
    size_t i = 0;
    if (size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
        i = 3; /* a UTF-8 byte order mark before JSON text */
    if (size - i >= 5 && memcmp(data + i, "tree\n", 5) == 0)
        return FORMAT_LIGHTGBM;
    if (size - i >= 6 && memcmp(data + i, "tree\r\n", 6) == 0)
        return FORMAT_LIGHTGBM;
    if (size > i + 1 && data[i] == '{' && strchr("iUIlL", data[i + 1]) && data[i + 1] != 0)
        return FORMAT_UBJSON;
    while (i < size && strchr(" \t\r\n", data[i]) && data[i] != 0)
        i++;
    if (i < size && data[i] == '{')
        return FORMAT_JSON;
    return FORMAT_LEGACY;
}

/* Fills `m` from a parsed JSON document: XGBoost's (it has "learner") or crisk's logistic
 * format (it has "format": "crisk-logistic"). */
static int import_json_tree(const cJSON *root, const crisk_load_limits *limits,
                            crisk_model *m, crisk_error *err)
{
    if (!cJSON_IsObject(root))
        return crisk__fail(err, CRISK_E_FORMAT, "the document is not a JSON object");
    if (cJSON_GetObjectItemCaseSensitive(root, "learner"))
        return crisk__import_xgboost(root, NULL, limits, m, err);
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (cJSON_IsString(format) && strcmp(format->valuestring, "crisk-logistic") == 0)
        return crisk__import_logistic(root, limits, m, err);
    return crisk__fail(err, CRISK_E_FORMAT,
                       "a JSON object that is neither an XGBoost model (no \"learner\") nor a "
                       "crisk logistic model (no \"format\": \"crisk-logistic\")");
}

/* Parses JSON text whole (with cJSON) and imports it. */
static int import_json_whole(const char *json, size_t json_size,
                             const crisk_load_limits *limits, crisk_model *m, crisk_error *err)
{
    /* A cJSON tree costs about 15 times its text: only documents that are not tree models
     * of the form crisk__xgboost_split reads in place (logistic and gblinear models,
     * hand-written text) are parsed whole, and only up to this size. */
    if (json_size > (size_t)WHOLE_PARSE_MAX_MIB << 20)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu bytes of JSON that is not an XGBoost tree "
                           "model in the form XGBoost writes; such a document is parsed whole, "
                           "and only up to %d MiB", json_size, WHOLE_PARSE_MAX_MIB);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, json_size, &end, 0);
    if (!root) {
        /* Offsets into the rewritten text are close enough to find the place. */
        size_t at = end ? (size_t)(end - json) : 0;
        return crisk__fail(err, CRISK_E_FORMAT, "invalid JSON at byte %zu", at);
    }
    size_t at = (size_t)(end - json);
    while (at < json_size && strchr(" \t\r\n", json[at]) && json[at] != '\0')
        at++;
    int rc = at < json_size ? crisk__fail(err, CRISK_E_FORMAT, "invalid JSON: text after the "
                                          "document at byte %zu", at)
                            : import_json_tree(root, limits, m, err);
    cJSON_Delete(root);
    return rc;
}

/* Imports JSON text: an XGBoost tree model with its trees read one at a time in place
 * (crisk__xgboost_split), anything else parsed whole. */
static int import_json_text(const char *text, size_t size, const crisk_load_limits *limits,
                            crisk_model *m, crisk_error *err)
{
    char *rewritten = NULL;
    size_t rewritten_size = 0;
    int rc = crisk__json_nonfinite_rewrite(text, size, &rewritten, &rewritten_size, err);
    if (rc)
        return rc;
    const char *json = rewritten ? rewritten : text;
    size_t json_size = rewritten ? rewritten_size : size;
    cJSON *root = NULL;
    crisk__tree_source trees;
    rc = crisk__xgboost_split(json, json_size, &root, &trees, err);
    if (rc == 0)
        rc = crisk__import_xgboost(root, &trees, limits, m, err);
    else if (rc == 1)
        rc = import_json_whole(json, json_size, limits, m, err);
    crisk__tree_source_done(&trees);
    cJSON_Delete(root);
    free(rewritten);
    return rc;
}

/* Recognises the format of `size` bytes at `data` and fills `m` through its importer. */
static int import_bytes(const unsigned char *data, size_t size,
                        const crisk_load_limits *limits, crisk_model *m, crisk_error *err)
{
    switch (sniff(data, size)) {
    case FORMAT_LIGHTGBM:
        return crisk__import_lightgbm((const char *)data, size, limits, m, err);
    case FORMAT_JSON:
        return import_json_text((const char *)data, size, limits, m, err);
    case FORMAT_UBJSON: {
        cJSON *root = NULL;
        crisk__tree_source trees;
        int rc = crisk__ubjson_split(data, size, limits, &root, &trees, err);
        if (rc == 0 && trees.ubjson)
            rc = crisk__import_xgboost(root, &trees, limits, m, err);
        else if (rc == 0)
            rc = import_json_tree(root, limits, m, err);
        cJSON_Delete(root);
        return rc;
    }
    case FORMAT_LEGACY:
    default: {
        char *json = NULL;
        int rc = crisk__xgboost_legacy_to_json(data, size, &json, err);
        if (rc == 0)
            rc = import_json_text(json, strlen(json), limits, m, err);
        free(json);
        return rc;
    }
    }
}

/* Computes the SHA-256 of the model's bytes into `digest` and, when `opts` pins one,
 * compares the two before anything parses the bytes. Returns 0, CRISK_E_INTEGRITY naming
 * both digests, or CRISK_E_DEPENDENCY. */
static int check_digest(const void *data, size_t size, const crisk_load_options *opts,
                        unsigned char digest[CRISK__SHA256_SIZE], crisk_error *err)
{
    if (crisk_sha256(data, size, digest) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    if (!opts->pin_sha256 || memcmp(digest, opts->expected_sha256, CRISK__SHA256_SIZE) == 0)
        return 0;
    char want[CRISK__SHA256_HEX + 1], got[CRISK__SHA256_HEX + 1];
    crisk_hex_encode(opts->expected_sha256, CRISK__SHA256_SIZE, want);
    crisk_hex_encode(digest, CRISK__SHA256_SIZE, got);
    return crisk__fail(err, CRISK_E_INTEGRITY,
                       "the model's SHA-256 is %s, not the pinned %s: refusing to load it", got,
                       want);
}

int crisk_model_load_buffer_advanced(const void *data, size_t size,
                                     const crisk_load_options *opts, crisk_model **out,
                                     crisk_error *err)
{
    crisk_load_options defaults;
    if (!opts) {
        crisk_load_options_init(&defaults, CRISK_LOAD_OPTIONS_VERSION);
        opts = &defaults;
    }
    if (!out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "out must not be NULL");
    *out = NULL;
    int rc = crisk__options_version(opts->version, CRISK_LOAD_OPTIONS_VERSION,
                                    "crisk_load_options", err);
    if (rc)
        return rc;
    if (!data && size > 0)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "data is NULL");
    if (size == 0)
        return crisk__fail(err, CRISK_E_FORMAT, "the model is empty (0 bytes)");
    if (size > opts->limits.max_file_bytes)
        return crisk__fail(err, CRISK_E_LIMIT,
                           "the model has %zu bytes, more than the limit max_file_bytes = %zu",
                           size, opts->limits.max_file_bytes);
    unsigned char digest[CRISK__SHA256_SIZE];
    rc = check_digest(data, size, opts, digest, err);
    if (rc)
        return rc;
    crisk_model *m = crisk__model_new();
    if (!m)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    memcpy(m->sha256, digest, sizeof digest);
    rc = import_bytes(data, size, &opts->limits, m, err);
    if (rc == 0)
        rc = crisk__model_validate(m, &opts->limits, err);
    if (rc == 0)
        rc = crisk__engine_build(m, err);
    if (rc) {
        crisk_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int crisk_model_load_buffer(const void *data, size_t size, crisk_model **out,
                            crisk_error *err)
{
    return crisk_model_load_buffer_advanced(data, size, NULL, out, err);
}

int crisk_model_load_advanced(const char *path, const crisk_load_options *opts,
                              crisk_model **out, crisk_error *err)
{
    crisk_load_options defaults;
    if (!opts) {
        crisk_load_options_init(&defaults, CRISK_LOAD_OPTIONS_VERSION);
        opts = &defaults;
    }
    if (out)
        *out = NULL;
    if (!path || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "path and out must not be NULL");
    int rc = crisk__options_version(opts->version, CRISK_LOAD_OPTIONS_VERSION,
                                    "crisk_load_options", err);
    if (rc)
        return rc;
    unsigned char *data = NULL;
    size_t size = 0;
    rc = crisk__read_file(path, opts->limits.max_file_bytes, &data, &size, err);
    if (rc == 0) {
        rc = crisk_model_load_buffer_advanced(data, size, opts, out, err);
        if (rc)
            crisk__fail_prefix(err, rc, path);
        free(data);
    }
    return rc;
}

int crisk_model_load(const char *path, crisk_model **out, crisk_error *err)
{
    return crisk_model_load_advanced(path, NULL, out, err);
}
