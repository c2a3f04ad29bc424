/*
 * policy/bundle.c — a bundle directory: reading its manifest, loading and cross-checking the
 * schema, models, lane policy and risk profiles it names, and scoring a batch into
 * results (features once, every model, profiles, then lanes).
 */
/* realpath() is XSI, beyond the build's _POSIX_C_SOURCE. */
#define _XOPEN_SOURCE 700

#include "policy/bundle_impl.h"
#include "policy/monitor_policy.h"

#include "decl/fitted.h"
#include "decl/schema.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/jsonfile.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Most models a manifest may name. */
#define MAX_MODELS 256

/* ---- loading ---------------------------------------------------------------------- */

/* Refuses `path` (the bundle's file named `where`) unless it resolves, symlinks
 * followed, to a file inside the bundle directory `dir` (also resolved): a symlink in a
 * bundle that points out of it is not followed. A path that does not resolve (missing)
 * is left to the loader, which names it. */
static int check_inside(const char *dir, const char *path, const char *where,
                        crisk_error *err)
{
    char *real_dir = realpath(dir, NULL), *real = realpath(path, NULL);
    size_t n = real_dir ? strlen(real_dir) : 0;
    int rc = 0;
    if (!real_dir && errno == ENOMEM)
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    else if (real_dir && real && !(strncmp(real, real_dir, n) == 0 &&
                                   (real[n] == '/' || (n == 1 && real[0] == '/'))))
        rc = crisk__fail(err, CRISK_E_FORMAT, "%s: \"%.100s\" resolves to \"%.100s\", "
                         "outside the bundle directory (a symlink out of the bundle is "
                         "not followed)", where, path, real);
    free(real_dir);
    free(real);
    return rc;
}

/* Stores in `*out` the malloc'd path of `file` inside `dir`, refusing absolute paths,
 * ".." components and symlinks out of `dir`, so that a manifest cannot reach outside its
 * directory. `where` names the manifest key for messages. */
static int bundle_path(const char *dir, const cJSON *file, const char *where, char **out,
                       crisk_error *err)
{
    *out = NULL;
    if (!cJSON_IsString(file) || !file->valuestring[0])
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: %s: expected a file name",
                           where);
    const char *f = file->valuestring;
    for (const char *s = f; *s; s++)
        if ((s == f || s[-1] == '/') && s[0] == '.' && s[1] == '.' && (!s[2] || s[2] == '/'))
            return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: %s: \"%.100s\" leaves the "
                               "bundle directory", where, f);
    if (f[0] == '/')
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: %s: \"%.100s\" is absolute; "
                           "name files relative to the bundle directory", where, f);
    size_t n = strlen(dir) + strlen(f) + 2;
    if (!(*out = malloc(n)))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    snprintf(*out, n, "%s/%s", dir, f);
    char place[96];
    snprintf(place, sizeof place, "manifest.json: %s", where);
    int rc = check_inside(dir, *out, place, err);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* Loads model entry `i` ({name, file, features}) of the manifest into b->models[i] and
 * checks it against the schema: as many features as the model takes, every one a schema
 * feature, and equal to the names the model file stores when it stores any. */
static int load_model(crisk_bundle *b, const char *dir, const cJSON *entry, size_t i,
                      const crisk_load_options *opts, crisk_error *err)
{
    static const char *const keys[] = {"name", "file", "features", NULL};
    char where[64];
    snprintf(where, sizeof where, "models[%zu]", i);
    if (!cJSON_IsObject(entry))
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: %s: expected an object", where);
    char place[96];
    snprintf(place, sizeof place, "manifest.json: %s", where);
    int rc = crisk__json_check_keys(entry, keys, place, err);
    if (rc)
        return rc;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "name");
    const cJSON *features = cJSON_GetObjectItemCaseSensitive(entry, "features");
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: %s.name: expected a name", where);
    for (size_t j = 0; j < i; j++)
        if (strcmp(b->models[j].name, name->valuestring) == 0)
            return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: %s: model name \"%.64s\" "
                               "given twice", where, name->valuestring);
    crisk__bundle_model *m = &b->models[i];
    b->num_models = i + 1; /* from here a failure frees what is filled */
    if (!(m->name = strdup(name->valuestring)))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    int nf = cJSON_GetArraySize(features);
    if (!cJSON_IsArray(features) || nf < 1)
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: %s.features: expected a "
                           "non-empty array of schema feature names", where);
    if (!(m->columns = malloc((size_t)nf * sizeof *m->columns)))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    for (const cJSON *f = features->child; f; f = f->next, m->num_columns++) {
        long fi = cJSON_IsString(f) ? crisk_schema_feature_index(b->schema, f->valuestring)
                                    : -1;
        if (fi < 0)
            return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: %s.features[%zu]: %s",
                               where, m->num_columns,
                               cJSON_IsString(f) ? "not a feature of the schema"
                                                : "expected a feature name");
        m->columns[m->num_columns] = (size_t)fi;
    }
    char *path = NULL;
    snprintf(where, sizeof where, "models[%zu].file", i);
    rc = bundle_path(dir, cJSON_GetObjectItemCaseSensitive(entry, "file"), where, &path, err);
    if (rc == 0)
        rc = crisk_model_load_advanced(path, opts, &m->model, err);
    free(path);
    if (rc)
        return rc;
    size_t want = crisk_model_num_features(m->model);
    if (want != m->num_columns)
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: models[%zu] (%s): the model "
                           "takes %zu features, the manifest lists %zu", i, m->name, want,
                           m->num_columns);
    for (size_t c = 0; c < want && crisk_model_feature_name(m->model, 0); c++) {
        const char *stored = crisk_model_feature_name(m->model, c);
        const char *listed = crisk_schema_feature_name(b->schema, m->columns[c]);
        if (!stored || strcmp(stored, listed) != 0)
            return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: models[%zu] (%s): feature "
                               "%zu is \"%.64s\" in the model file but \"%.64s\" in the "
                               "manifest", i, m->name, c, stored ? stored : "(none)", listed);
    }
    /* The schema hands a model numbers (its own codes and values), never a category's
     * value as the model stores it: re-coding them would be a guess. */
    for (size_t c = 0; c < want; c++)
        if (crisk_model_num_categories(m->model, c) > 0)
            return crisk__fail(err, CRISK_E_UNSUPPORTED, "manifest.json: models[%zu] (%s): "
                               "feature %zu (\"%.64s\") stores category values, but a bundle "
                               "passes the schema's numbers: train on the training matrix's "
                               "numbers, not pandas categories", i, m->name, c,
                               crisk_schema_feature_name(b->schema, m->columns[c]));
    crisk_model_info info;
    crisk_model_get_info(m->model, &info);
    m->num_outputs = info.num_outputs;
    m->rejects_missing = strcmp(info.format, "logistic") == 0;
    return 0;
}

/* Reads the JSON file named by manifest key `key` into `*root`. */
static int read_named(const char *dir, const cJSON *manifest, const char *key,
                      size_t max_bytes, char **path, cJSON **root, crisk_error *err)
{
    int rc = bundle_path(dir, cJSON_GetObjectItemCaseSensitive(manifest, key), key, path, err);
    return rc ? rc : crisk__json_read_file(*path, max_bytes, root, err);
}

/* Writes the bundle digest to `out`: SHA-256 (crisk__sha256_files) over manifest.json then
 * every file the manifest names, in the manifest's order (schema, each model, profiles,
 * policy as their keys appear). The files are read again after loading, so a file
 * swapped in between changes the digest rather than going unnoticed. */
static int bundle_digest(const char *dir, const char *manifest_path, const cJSON *m,
                         size_t max_bytes, unsigned char out[32], crisk_error *err)
{
    size_t n = 1;
    const cJSON *it;
    cJSON_ArrayForEach(it, m)
        n += cJSON_IsArray(it) ? (size_t)cJSON_GetArraySize(it) : 1;
    char **paths = calloc(n, sizeof *paths);
    if (!paths)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    size_t k = 0;
    int rc = 0;
    cJSON_ArrayForEach(it, m) {
        if (cJSON_IsArray(it)) {
            const cJSON *e;
            cJSON_ArrayForEach(e, it)
                if (rc == 0)
                    rc = bundle_path(dir, cJSON_GetObjectItemCaseSensitive(e, "file"),
                                     it->string, &paths[1 + k++], err);
        } else if (rc == 0 && strcmp(it->string, "format") && strcmp(it->string, "version")) {
            rc = bundle_path(dir, it, it->string, &paths[1 + k++], err);
        }
    }
    paths[0] = (char *)manifest_path;
    if (rc == 0)
        rc = crisk__sha256_files((const char *const *)paths, 1 + k, max_bytes, out, err);
    for (size_t i = 1; i <= k; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

void crisk_bundle_digest(const crisk_bundle *b, unsigned char out[32])
{
    if (b)
        memcpy(out, b->sha256, sizeof b->sha256);
    else
        memset(out, 0, 32);
}

/* Returns the index of schema field `name` (ctx is the schema), or -1. */
static long names_field(const void *ctx, const char *name)
{
    return crisk_schema_field_index(ctx, name);
}

/* Returns the type of schema field `field` (ctx is the schema). */
static crisk_field_type names_field_type(const void *ctx, size_t field)
{
    return crisk_schema_field_type(ctx, field);
}

/* Returns the index of schema feature `name` (ctx is the schema), or -1. */
static long names_feature(const void *ctx, const char *name)
{
    return crisk_schema_feature_index(ctx, name);
}

/* Returns the index of schema band `name` (ctx is the schema), or -1. */
static long names_band(const void *ctx, const char *name)
{
    return crisk__schema_band_index(ctx, name);
}

/* Loads the lane policy and then the risk profiles (whose lanes it defines), and finds
 * the policy's score model among the models. */
static int load_policy_profiles(crisk_bundle *b, const char *dir, const cJSON *manifest,
                                size_t max_bytes, crisk_error *err)
{
    char *path = NULL;
    cJSON *root = NULL;
    int rc = read_named(dir, manifest, "policy", max_bytes, &path, &root, err);
    if (rc == 0 && (rc = crisk__policy_parse(root, &b->policy, err)) == 0)
        rc = crisk__policy_monitor_parse(root, &b->monitor_warn, &b->monitor_alert, err);
    if (rc)
        crisk__fail_prefix(err, rc, path);
    const char *score = rc == 0 ? crisk__policy_score_model(b->policy) : NULL;
    b->score_model = -1;
    for (size_t i = 0; score && i < b->num_models; i++)
        if (strcmp(b->models[i].name, score) == 0)
            b->score_model = (long)i;
    if (score && b->score_model < 0)
        rc = crisk__fail(err, CRISK_E_FORMAT, "%s: score_model: no model named \"%.64s\" in "
                         "the manifest", path, score);
    else if (score && b->models[b->score_model].num_outputs != 1)
        rc = crisk__fail(err, CRISK_E_FORMAT, "%s: score_model: \"%.64s\" has %zu outputs; "
                         "thresholds and budgets need a one-output model", path, score,
                         b->models[b->score_model].num_outputs);
    const char *novel = rc == 0 ? crisk__policy_explore_feature(b->policy) : NULL;
    b->novelty_feature = novel ? crisk_schema_feature_index(b->schema, novel) : -1;
    if (novel && b->novelty_feature < 0)
        rc = crisk__fail(err, CRISK_E_FORMAT, "%s: explore.feature: no schema feature named "
                         "\"%.64s\"", path, novel);
    cJSON_Delete(root);
    free(path);
    root = NULL;
    path = NULL;
    if (rc || !cJSON_GetObjectItemCaseSensitive(manifest, "profiles"))
        return rc;
    crisk__profile_names names = {b->schema, names_field, names_field_type, names_feature,
                                 names_band, crisk__policy_lanes(b->policy),
                                 crisk__policy_num_lanes(b->policy)};
    rc = read_named(dir, manifest, "profiles", max_bytes, &path, &root, err);
    if (rc == 0 && (rc = crisk__profiles_parse(root, &names, &b->profiles, err)) != 0)
        crisk__fail_prefix(err, rc, path);
    cJSON_Delete(root);
    free(path);
    return rc;
}

/* Loads everything manifest `m` of directory `dir` names into `b`. */
static int load_manifest(crisk_bundle *b, const char *dir, const cJSON *m,
                         const crisk_load_options *opts, crisk_error *err)
{
    static const char *const keys[] = {"format", "version", "schema", "models", "profiles",
                                       "policy", "reference", NULL};
    if (!cJSON_IsObject(m))
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: not a JSON object");
    int rc = crisk__json_check_keys(m, keys, "manifest.json: top level", err);
    if (rc)
        return rc;
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(m, "format");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(m, "version");
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(m, "models");
    if (!cJSON_IsString(format) || strcmp(format->valuestring, "crisk-bundle") != 0)
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: format: expected "
                           "\"crisk-bundle\"");
    if (!cJSON_IsNumber(version) || version->valuedouble != 1)
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: version: expected 1");
    int nm = cJSON_GetArraySize(models);
    if (!cJSON_IsArray(models) || nm < 1 || nm > MAX_MODELS)
        return crisk__fail(err, CRISK_E_FORMAT, "manifest.json: models: expected an array of "
                           "1 to %d models", MAX_MODELS);
    char *path = NULL;
    rc = bundle_path(dir, cJSON_GetObjectItemCaseSensitive(m, "schema"), "schema", &path, err);
    if (rc == 0)
        rc = crisk_schema_load(path, &b->schema, err);
    free(path);
    if (rc)
        return rc;
    if (!(b->models = calloc((size_t)nm, sizeof *b->models)))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *e = models->child; e && rc == 0; e = e->next, i++)
        rc = load_model(b, dir, e, i, opts, err);
    if (rc == 0)
        rc = load_policy_profiles(b, dir, m, opts->limits.max_file_bytes, err);
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(m, "reference")) {
        /* Read now, so that the digest covers what monitoring later compares against. */
        rc = read_named(dir, m, "reference", opts->limits.max_file_bytes,
                        &b->reference_path, &b->reference, err);
    }
    return rc;
}

int crisk_bundle_load(const char *dir, const crisk_load_options *opts, crisk_bundle **out,
                      crisk_error *err)
{
    crisk_load_options defaults;
    if (!opts) {
        crisk_load_options_init(&defaults, CRISK_LOAD_OPTIONS_VERSION);
        opts = &defaults;
    }
    if (out)
        *out = NULL;
    if (!dir || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "dir and out must not be NULL");
    int rc = crisk__options_version(opts->version, CRISK_LOAD_OPTIONS_VERSION,
                                    "crisk_load_options", err);
    if (rc)
        return rc;
    crisk_bundle *b = calloc(1, sizeof *b);
    size_t n = strlen(dir) + sizeof "/manifest.json";
    char *path = malloc(n);
    crisk__shap_slot *slot = malloc(sizeof *slot);
    if (!b || !path || !slot) {
        free(b);
        free(path);
        free(slot);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    }
    atomic_init(slot, NULL);
    b->score_shap = slot;
    snprintf(path, n, "%s/manifest.json", dir);
    cJSON *manifest = NULL;
    rc = check_inside(dir, path, "manifest.json", err);
    if (rc == 0)
        rc = crisk__json_read_file(path, opts->limits.max_file_bytes, &manifest, err);
    if (rc == 0)
        rc = load_manifest(b, dir, manifest, opts, err);
    if (rc == 0)
        rc = bundle_digest(dir, path, manifest, opts->limits.max_file_bytes, b->sha256, err);
    cJSON_Delete(manifest);
    free(path);
    if (rc) {
        crisk__fail_prefix(err, rc, dir);
        crisk_bundle_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void crisk_bundle_free(crisk_bundle *b)
{
    if (!b)
        return;
    if (b->score_shap) /* before the model it explains */
        crisk__shap_slot_clear(b->score_shap);
    free(b->score_shap);
    for (size_t i = 0; i < b->num_models; i++) {
        free(b->models[i].name);
        free(b->models[i].columns);
        crisk_model_free(b->models[i].model);
    }
    free(b->models);
    crisk__profiles_free(b->profiles);
    crisk__policy_free(b->policy);
    crisk_schema_free(b->schema);
    cJSON_Delete(b->reference);
    free(b->reference_path);
    free(b);
}

const crisk_schema *crisk_bundle_schema(const crisk_bundle *b)
{
    return b ? b->schema : NULL;
}

size_t crisk_bundle_num_models(const crisk_bundle *b)
{
    return b ? b->num_models : 0;
}

const char *crisk_bundle_model_name(const crisk_bundle *b, size_t i)
{
    return b && i < b->num_models ? b->models[i].name : NULL;
}

const crisk_model *crisk_bundle_model(const crisk_bundle *b, size_t i)
{
    return b && i < b->num_models ? b->models[i].model : NULL;
}

/* Returns the index of the policy's score model, or -1 when it names none. */
long crisk_bundle_score_model(const crisk_bundle *b)
{
    return b ? b->score_model : -1;
}

size_t crisk_bundle_num_lanes(const crisk_bundle *b)
{
    return b ? crisk__policy_num_lanes(b->policy) : 0;
}

const char *crisk_bundle_lane_name(const crisk_bundle *b, size_t i)
{
    return b && i < crisk__policy_num_lanes(b->policy) ? crisk__policy_lanes(b->policy)[i]
                                                       : NULL;
}

size_t crisk_bundle_min_batch(const crisk_bundle *b)
{
    return b ? crisk__policy_min_batch(b->policy) : 0;
}

int crisk_lane_state_new(const crisk_bundle *b, crisk_lane_state **out, crisk_error *err)
{
    if (!b)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "bundle must not be NULL");
    return crisk__lane_state_create(b->policy, out, err);
}

int crisk_lane_state_load(const crisk_bundle *b, const char *path, crisk_lane_state **out,
                          crisk_error *err)
{
    if (!b)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "bundle must not be NULL");
    return crisk__lane_state_read(b->policy, path, out, err);
}

int crisk_lane_state_open(const crisk_bundle *b, const char *path, crisk_lane_state **out,
                          crisk_error *err)
{
    if (!b)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "bundle must not be NULL");
    return crisk__lane_state_open(b->policy, path, out, err);
}

/* ---- scoring ---------------------------------------------------------------------- */

int crisk_score_options_init(crisk_score_options *opts, unsigned int version)
{
    if (!opts || version != CRISK_SCORE_OPTIONS_VERSION)
        return CRISK_E_INVALID_ARGUMENT;
    opts->version = version;
    opts->threads = 1;
    opts->explain = 0;
    opts->today = CRISK_SCORE_TODAY_AUTO;
    opts->stream = NULL;
    opts->pool = NULL;
    return 0;
}

/* Adds to `*size` an array of `count` elements of `elem` bytes, aligned for any type, and
 * returns its offset; SIZE_MAX (and `*size` SIZE_MAX) when the total would overflow. */
static size_t block_array(size_t *size, size_t count, size_t elem)
{
    const size_t align = _Alignof(max_align_t);
    size_t off = (*size + align - 1) / align * align, bytes;
    /* Overflow tests without a division: this runs several times a scoring call. */
    if (*size == SIZE_MAX || off < *size || __builtin_mul_overflow(count, elem, &bytes)
        || bytes > SIZE_MAX - off)
        return *size = SIZE_MAX;
    *size = off + bytes;
    return off;
}

/* Scratch of a scoring call: on the stack when it fits, so that scoring one declaration a
 * call allocates nothing for it. */
#define SCRATCH_WORDS 256
typedef struct scratch {
    max_align_t stack[SCRATCH_WORDS];
    void *p;
} scratch;

/* Returns `bytes` (at least 1) of `s`: its stack when they fit, else malloc'd (NULL when
 * out of memory). Release with scratch_release. */
static void *scratch_get(scratch *s, size_t bytes)
{
    s->p = bytes <= sizeof s->stack ? (void *)s->stack : malloc(bytes ? bytes : 1);
    return s->p;
}

/* Frees what scratch_get allocated, if anything. */
static void scratch_release(scratch *s)
{
    if (s->p != (void *)s->stack)
        free(s->p);
}

/* Runs model `m` on the rows of `features` (n rows of nf schema features), gathering
 * its columns in manifest order, and writes n * num_outputs values to `out`. A model that
 * refuses missing values (logistic) scores only the rows whose columns are all present;
 * the others get NaN. */
static int run_model(const crisk__bundle_model *m, const float *features, size_t n, size_t nf,
                     const crisk_predict_options *popts, float *out, crisk_error *err)
{
    size_t k = m->num_columns, no = m->num_outputs, size = 0;
    size_t rows_at = m->rejects_missing ? block_array(&size, n, sizeof(size_t)) : 0;
    size_t part_at = m->rejects_missing ? block_array(&size, n, no * sizeof(float)) : 0;
    size_t cols_at = block_array(&size, n, k * sizeof(float));
    scratch sc;
    char *block = size == SIZE_MAX ? NULL : scratch_get(&sc, size);
    if (!block)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for model %s", m->name);
    float *cols = (float *)(block + cols_at);
    size_t *rows = m->rejects_missing ? (size_t *)(block + rows_at) : NULL;
    float *part = m->rejects_missing ? (float *)(block + part_at) : NULL;
    size_t kept = crisk__bundle_gather(m, features, n, nf, cols, rows);
    int rc = crisk_predict(m->model, cols, kept, k, popts, rows ? part : out, err);
    if (rc == 0 && rows) {
        for (size_t i = 0; i < n * no; i++)
            out[i] = NAN;
        for (size_t i = 0; i < kept; i++)
            memcpy(out + rows[i] * no, part + i * no, no * sizeof(float));
    }
    scratch_release(&sc);
    if (rc)
        crisk__fail_prefix(err, rc, m->name);
    return rc;
}

/* Returns the text of field `field` of batch row `row` (ctx is the batch), or NULL. */
static const char *view_text(const void *ctx, size_t row, size_t field, size_t *len)
{
    return crisk_batch_text(ctx, row, field, len);
}

/* Returns the number or date of field `field` of batch row `row` (ctx is the batch). */
static double view_number(const void *ctx, size_t row, size_t field)
{
    return crisk_batch_number(ctx, row, field);
}

/* Returns batch row `row`'s position against band `band` (ctx is the batch). */
static int view_band(const void *ctx, size_t band, size_t row, const float *features)
{
    return crisk__schema_band_position(crisk_batch_schema(ctx), band, ctx, row, features);
}

/* Evaluates the profiles on every row of `batch` into the results' hit lists, and places
 * each row with a mandatory hit in the most severe lane among its mandatory hits (the
 * first such rule in file order names the reason). */
static int eval_profiles(const crisk_bundle *b, const crisk_batch *batch,
                         const float *features, size_t nf, const crisk_score_options *opts,
                         crisk_results *res, crisk_error *err)
{
    size_t n = res->size, nr = crisk__profiles_count(b->profiles), used = 0;
    /* Hits in the results' block never outgrow it; else they grow on the heap. */
    size_t cap = res->hits_room;
    scratch sc;
    uint32_t *row_hits = scratch_get(&sc, nr * sizeof(uint32_t));
    if (!row_hits)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    long date_field = crisk__schema_date_field(b->schema);
    int64_t now = (int64_t)floor((double)time(NULL) / 86400.0);
    crisk__row_view view = {batch, 0, NULL, view_text, view_number, view_band};
    for (size_t r = 0; r < n; r++) {
        res->hit_start[r] = used;
        int64_t today = opts->today;
        if (today == CRISK_SCORE_TODAY_AUTO) {
            double d = date_field >= 0 ? crisk_batch_number(batch, r, (size_t)date_field) : NAN;
            today = isnan(d) ? now : (int64_t)d;
        }
        view.row = r;
        view.features = features + r * nf;
        size_t h = crisk__profiles_eval(b->profiles, &view, today, row_hits);
        if (!res->hits_room
            && crisk__grow((void **)&res->hits, &cap, used + h, sizeof *res->hits, 64)) {
            scratch_release(&sc);
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for profile hits");
        }
        for (size_t k = 0; k < h; k++) {
            uint32_t rule = row_hits[k];
            res->hits[used++] = rule;
            size_t lane = crisk__profiles_rule_lane(b->profiles, rule);
            crisk__decision *d = &res->decisions[r];
            if (crisk__profiles_rule_mandatory(b->profiles, rule) && (!d->kind || lane < d->lane))
                *d = (crisk__decision){(uint32_t)lane, CRISK_REASON_PROFILE, rule, 0, 0, 0, 0};
        }
    }
    res->hit_start[n] = used;
    scratch_release(&sc);
    return 0;
}

/* Chooses every row's lane: the ids for random selection and exploration come from the
 * schema's id field (a row without one is never drawn); novelty exploration weighs by
 * its feature's column of `features` (n rows of nf). */
static int decide_lanes(const crisk_bundle *b, const crisk_batch *batch, const float *features,
                        size_t nf, const crisk_score_options *opts, crisk_results *res,
                        crisk_error *err)
{
    size_t n = res->size;
    long id_field = crisk_schema_id_field(b->schema);
    const char **ids = NULL;
    size_t *lens = NULL, size = 0;
    scratch sc;
    if (id_field >= 0) {
        size_t ids_at = block_array(&size, n, sizeof *ids);
        size_t lens_at = block_array(&size, n, sizeof *lens);
        char *block = size == SIZE_MAX ? NULL : scratch_get(&sc, size);
        if (!block)
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
        ids = (const char **)(block + ids_at);
        lens = (size_t *)(block + lens_at);
        for (size_t r = 0; r < n; r++) {
            lens[r] = 0;
            ids[r] = crisk_batch_text(batch, r, (size_t)id_field, &lens[r]);
        }
    }
    const float *scores = b->score_model >= 0 ? res->scores[b->score_model] : NULL;
    float *counts = b->novelty_feature >= 0 ? malloc((n ? n : 1) * sizeof *counts) : NULL;
    for (size_t r = 0; counts && r < n; r++)
        counts[r] = features[r * nf + (size_t)b->novelty_feature];
    int rc = b->novelty_feature >= 0 && !counts
                 ? crisk__fail(err, CRISK_E_NOMEM, "out of memory")
                 : crisk__lanes_decide_novelty(b->policy, opts->stream, scores, counts, ids,
                                               lens, n, res->decisions, err);
    free(counts);
    if (id_field >= 0)
        scratch_release(&sc);
    return rc;
}

/* Most profile hits a call's results hold in their own block: a call of this many
 * (rows x rules) or fewer cannot outgrow them, and allocates nothing more for its hits. */
#define BLOCK_HITS 256

/* Lays out the results of `n` rows of bundle `b` in one block: the struct, then the
 * per-model score pointers, the decisions, the hit offsets, room for every hit when
 * there are at most BLOCK_HITS, and each model's scores. Returns the block's size
 * (SIZE_MAX on overflow); when `block` is not NULL (of that size, its struct zeroed),
 * points the struct's arrays into it. */
static size_t results_layout(const crisk_bundle *b, size_t n, char *block)
{
    size_t rows = n ? n : 1, size = sizeof(crisk_results);
    size_t most_hits = crisk__profiles_count(b->profiles);
    most_hits = n <= BLOCK_HITS && most_hits <= BLOCK_HITS / rows ? most_hits * n : 0;
    size_t scores = block_array(&size, b->num_models, sizeof(float *));
    size_t decisions = block_array(&size, rows, sizeof(crisk__decision));
    size_t hit_start = block_array(&size, n + 1, sizeof(size_t));
    size_t hits = block_array(&size, most_hits, sizeof(uint32_t));
    crisk_results *res = (crisk_results *)block;
    if (res) {
        res->scores = (float **)(block + scores);
        res->decisions = (crisk__decision *)(block + decisions);
        res->hit_start = (size_t *)(block + hit_start);
        res->hits = most_hits ? (uint32_t *)(block + hits) : NULL;
        res->hits_room = most_hits;
    }
    for (size_t i = 0; i < b->num_models; i++) {
        size_t values = block_array(&size, rows, b->models[i].num_outputs * sizeof(float));
        if (res)
            res->scores[i] = (float *)(block + values);
    }
    return size;
}

/* Returns new results (no decisions yet) for `n` rows of bundle `b` in one allocation (see
 * results_layout): scoring one declaration a call then allocates once for them, not once
 * per array; crisk_results_free frees the block. NULL when out of memory. */
static crisk_results *results_new(const crisk_bundle *b, size_t n)
{
    size_t size = results_layout(b, n, NULL);
    /* malloc, not calloc, which glibc serves without its per-thread cache of small blocks;
     * only the struct and the decisions need zeros (every other array is written whole). */
    char *block = size == SIZE_MAX ? NULL : malloc(size);
    if (!block)
        return NULL;
    crisk_results *res = (crisk_results *)block;
    memset(res, 0, sizeof *res);
    results_layout(b, n, block);
    memset(res->decisions, 0, (n ? n : 1) * sizeof *res->decisions);
    res->bundle = b;
    res->size = n;
    return res;
}

crisk_clock crisk_clock_now(void)
{
    struct timespec w, c;
    clock_gettime(CLOCK_MONOTONIC, &w);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
    return (crisk_clock){(double)w.tv_sec + 1e-9 * (double)w.tv_nsec,
                          (double)c.tv_sec + 1e-9 * (double)c.tv_nsec};
}

void crisk_clock_lap(crisk_clock *slot, crisk_clock *mark)
{
    if (!slot)
        return;
    crisk_clock now = crisk_clock_now();
    slot->wall += now.wall - mark->wall;
    slot->cpu += now.cpu - mark->cpu;
    *mark = now;
}

int crisk_bundle_score(const crisk_bundle *b, const crisk_batch *batch,
                       const crisk_score_options *opts, crisk_results **out, crisk_error *err)
{
    return crisk_bundle_score_timed(b, batch, opts, out, NULL, err);
}

int crisk_bundle_score_timed(const crisk_bundle *b, const crisk_batch *batch,
                             const crisk_score_options *opts, crisk_results **out,
                             crisk_bundle_timings *timings, crisk_error *err)
{
    crisk_score_options defaults;
    if (!opts) {
        crisk_score_options_init(&defaults, CRISK_SCORE_OPTIONS_VERSION);
        opts = &defaults;
    }
    if (out)
        *out = NULL;
    if (!b || !batch || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "bundle, batch and out must not be "
                           "NULL");
    int rc = crisk__options_version(opts->version, CRISK_SCORE_OPTIONS_VERSION,
                                    "crisk_score_options", err);
    if (rc)
        return rc;
    if (crisk_batch_schema(batch) != b->schema)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the batch was not made with this "
                           "bundle's schema (crisk_bundle_schema)");
    crisk_predict_options popts;
    crisk_predict_options_init(&popts, CRISK_PREDICT_OPTIONS_VERSION);
    popts.threads = opts->threads;
    popts.pool = opts->pool;
    size_t n = crisk_batch_size(batch), nf = crisk_schema_num_features(b->schema);
    if (nf && n > SIZE_MAX / sizeof(float) / nf)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu declarations of %zu features overflow "
                           "memory", n, nf);
    crisk_results *res = results_new(b, n);
    scratch sc;
    float *features = scratch_get(&sc, n * nf * sizeof(float));
    if (!res || !features)
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu declarations", n);
    crisk_bundle_timings *t = timings;
    crisk_clock mark = t ? crisk_clock_now() : (crisk_clock){0, 0};
    if (rc == 0)
        rc = crisk_schema_features(b->schema, batch, features, err);
    crisk_clock_lap(t ? &t->features : NULL, &mark);
    for (size_t i = 0; rc == 0 && i < b->num_models; i++)
        rc = run_model(&b->models[i], features, n, nf, &popts, res->scores[i], err);
    crisk_clock_lap(t ? &t->models : NULL, &mark);
    if (rc == 0 && opts->explain)
        rc = crisk__reasons_compute(b, batch, features, nf, opts->explain, &popts, res, err);
    if (rc == 0)
        rc = eval_profiles(b, batch, features, nf, opts, res, err);
    crisk_clock_lap(t ? &t->profiles : NULL, &mark);
    if (rc == 0)
        rc = decide_lanes(b, batch, features, nf, opts, res, err);
    crisk_clock_lap(t ? &t->lanes : NULL, &mark);
    scratch_release(&sc);
    if (rc) {
        crisk_results_free(res);
        return rc;
    }
    *out = res;
    return 0;
}
