/*
 * fuzz_common.c — load limits, failure checks, scoring, temporary files and the example
 * bundle's fixtures shared by the fuzz targets.
 */
#include "fuzz_common.h"

#include "common/file.h"
#include "engine/engine.h"
#include "import/import.h"
#include "model/model.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_ROWS 4

void fuzz_load_options(crisk_load_options *opts)
{
    crisk_load_options_init(opts, CRISK_LOAD_OPTIONS_VERSION);
    opts->limits.max_file_bytes = (size_t)1 << 22;
    opts->limits.max_trees = 4096;
    opts->limits.max_nodes = (size_t)1 << 20;
    opts->limits.max_features = 4096;
    opts->limits.max_outputs = 256;
    opts->limits.max_category = (size_t)1 << 16;
}

void fuzz_check_failure(int rc, const crisk_error *err)
{
    if (rc >= 0 || rc <= CRISK_E_LAST_ || err->code != rc || err->message[0] == '\0' ||
        memchr(err->message, '\0', sizeof err->message) == NULL)
        abort();
}

/* Every stored category value re-codes to its own code (values are unique); a probe
 * value is refused with a proper error, missing, or found where it is stored. Aborts
 * otherwise. */
static void check_categories(const crisk_model *model)
{
    for (size_t f = 0; f < crisk_model_num_features(model); f++) {
        size_t n = crisk_model_num_categories(model, f);
        crisk_error err;
        float code;
        for (size_t c = 0; c < n; c++) {
            const char *v = crisk_model_category(model, f, c);
            if (!v || crisk_model_category_code(model, f, v, strlen(v), &code, &err) != 0 ||
                code != (float)c)
                abort();
        }
        if (n == 0 || crisk_model_category(model, f, n) != NULL)
            continue;
        const char *probe = "\x01unseen";
        int rc = crisk_model_category_code(model, f, probe, strlen(probe), &code, &err);
        if (rc)
            fuzz_check_failure(rc, &err);
        else if (!isnan(code) && strcmp(crisk_model_category(model, f, (size_t)code), probe))
            abort();
    }
}

void fuzz_score_and_free(crisk_model *model)
{
    check_categories(model);
    size_t F = crisk_model_num_features(model), K = crisk_model_num_margins(model);
    float *rows = malloc(FUZZ_ROWS * (F ? F : 1) * sizeof *rows);
    float *out = malloc(FUZZ_ROWS * (K ? K : 1) * sizeof *out);
    if (!rows || !out)
        abort();
    for (size_t j = 0; j < F; j++) {
        rows[j] = 0.0f;
        rows[F + j] = NAN;
        rows[2 * F + j] = j % 2 ? -1e30f : 1e30f;
        rows[3 * F + j] = (float)(j % 7);
    }
    crisk_predict_options opts;
    crisk_predict_options_init(&opts, CRISK_PREDICT_OPTIONS_VERSION);
    crisk_error err;
    for (int output = 0; output < 2; output++) {
        opts.output = output ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
        int rc = crisk_predict(model, rows, FUZZ_ROWS, F, &opts, out, &err);
        if (rc)
            fuzz_check_failure(rc, &err);
    }
    crisk_model_info info;
    crisk_model_get_info(model, &info);
    free(rows);
    free(out);
    crisk_model_free(model);
}

void fuzz_finish_import(crisk_model *model, int rc, const crisk_load_options *opts,
                        crisk_error *err)
{
    if (rc == 0)
        rc = crisk__model_validate(model, &opts->limits, err);
    if (rc == 0)
        rc = crisk__engine_build(model, err);
    if (rc) {
        fuzz_check_failure(rc, err);
        crisk_model_free(model);
        return;
    }
    fuzz_score_and_free(model);
}

/* Returns `h` updated with the `n` bytes at `p` (FNV-1a). */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ull;
    return h;
}

/* Returns a hash of what the XGBoost importer fills in `m`: the shape, the nodes, trees,
 * category bitsets and base margins (nodes are zeroed before they are filled, so their
 * unused bytes are too). */
static uint64_t model_print(const crisk_model *m)
{
    size_t shape[] = {m->num_features, m->num_outputs, m->num_trees, m->num_nodes,
                      m->num_cat_words, m->num_iterations, m->trees_per_iteration};
    uint64_t h = fnv(0xcbf29ce484222325ull, shape, sizeof shape);
    h = fnv(h, m->nodes, m->nodes ? m->num_nodes * sizeof *m->nodes : 0);
    h = fnv(h, m->trees, m->trees ? m->num_trees * sizeof *m->trees : 0);
    h = fnv(h, m->cat_words, m->cat_words ? m->num_cat_words * sizeof *m->cat_words : 0);
    return fnv(h, m->base_margin, m->base_margin ? m->num_outputs * sizeof *m->base_margin : 0);
}

int fuzz_import_xgboost(const cJSON *root, const crisk__tree_source *trees,
                        const crisk_load_options *opts, uint64_t *print)
{
    crisk_error err;
    crisk_model *m = crisk__model_new();
    if (!m)
        abort();
    int rc = crisk__import_xgboost(root, trees, &opts->limits, m, &err);
    *print = rc == 0 ? model_print(m) : 0;
    fuzz_finish_import(m, rc, opts, &err);
    return rc;
}

/* ---- files and fixtures -------------------------------------------------------------- */

/* Example declarations a bundle scores: enough for profile hits and several lanes, few
 * enough to keep an execution fast. */
#define FUZZ_DECLARATIONS 16

/* 2026-01-01 as days since 1970-01-01: inside the example rules' active ranges, and fixed
 * so that a run does not depend on the day it is made. */
#define FUZZ_TODAY 20454

/* How many distinct example files one process may ask fuzz_example_file() for. */
#define FUZZ_EXAMPLE_FILES 4

void fuzz_write_temp(const uint8_t *data, size_t size, char *path)
{
    int fd = mkstemp(path);
    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
        abort();
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
}

const char *fuzz_example_file(const char *name, size_t *size)
{
    static struct {
        const char *name;
        unsigned char *data;
        size_t size;
    } cache[FUZZ_EXAMPLE_FILES];
    size_t i = 0;
    while (i < FUZZ_EXAMPLE_FILES && cache[i].name && strcmp(cache[i].name, name) != 0)
        i++;
    if (i == FUZZ_EXAMPLE_FILES)
        abort();
    if (!cache[i].name) {
        char path[4096];
        crisk_error err;
        snprintf(path, sizeof path, "%s/%s", FUZZ_EXAMPLE_DIR, name);
        if (crisk__read_file(path, (size_t)1 << 24, &cache[i].data, &cache[i].size, &err))
            abort();
        cache[i].name = name;
    }
    if (size)
        *size = cache[i].size;
    return (const char *)cache[i].data;
}

/* Loads the schema at `path`; aborts on failure. */
static crisk_schema *load_schema(const char *path)
{
    crisk_schema *s = NULL;
    crisk_error err;
    if (crisk_schema_load(path, &s, &err))
        abort();
    return s;
}

const crisk_schema *fuzz_example_schema(void)
{
    static crisk_schema *schema;
    if (!schema)
        schema = load_schema(FUZZ_EXAMPLE_DIR "/schema.json");
    return schema;
}

crisk_batch *fuzz_example_batch(const crisk_schema *schema, size_t rows)
{
    size_t size;
    const char *csv = fuzz_example_file("declarations.csv", &size);
    FILE *f = fmemopen((void *)csv, size, "rb");
    crisk_decl_options opts;
    crisk_decl_options_init(&opts, CRISK_DECL_OPTIONS_VERSION);
    crisk_decl_reader *reader = NULL;
    crisk_batch *batch = NULL;
    crisk_error err;
    size_t added;
    if (!f || crisk_decl_open(f, CRISK_DECL_CSV, schema, &opts, &reader, &err) ||
        crisk_batch_new(schema, &batch, &err) ||
        crisk_decl_read(reader, batch, rows, NULL, NULL, NULL, &added, &err) ||
        added != rows)
        abort();
    crisk_decl_free(reader);
    fclose(f);
    return batch;
}

static char bundle_dir[] = "/tmp/crisk-fuzz-bundle-XXXXXX";
static int bundle_made;

/* Removes the bundle directory and what is in it (at exit). */
static void remove_bundle_dir(void)
{
    DIR *d = opendir(bundle_dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            unlink(fuzz_bundle_path(e->d_name));
    if (d)
        closedir(d);
    rmdir(bundle_dir);
}

/* Copies every regular file of models/example into the bundle directory. */
static void copy_example(void)
{
    DIR *d = opendir(FUZZ_EXAMPLE_DIR);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char from[4096];
        snprintf(from, sizeof from, "%s/%s", FUZZ_EXAMPLE_DIR, e->d_name);
        unsigned char *data;
        size_t size;
        crisk_error err;
        if (e->d_name[0] == '.' ||
            crisk__read_file(from, (size_t)1 << 24, &data, &size, &err))
            continue; /* directories and dot files */
        fuzz_write_file(fuzz_bundle_path(e->d_name), data, size);
        free(data);
    }
    if (!d)
        abort();
    closedir(d);
}

/* Writes small_schema.json: the example schema fitted on 64 example declarations, every
 * fifth labelled 1 (both classes present, deterministic). */
static void write_small_schema(void)
{
    enum { ROWS = 64 };
    crisk_schema *s = load_schema(FUZZ_EXAMPLE_DIR "/schema.json");
    crisk_batch *batch = fuzz_example_batch(s, ROWS);
    float labels[ROWS];
    for (size_t i = 0; i < ROWS; i++)
        labels[i] = i % 5 == 0;
    crisk_fit_options opts;
    crisk_fit_options_init(&opts, CRISK_FIT_OPTIONS_VERSION);
    crisk_error err;
    if (crisk_schema_fit(s, batch, labels, ROWS, &opts, &err) ||
        crisk_schema_save(s, fuzz_bundle_path("small_schema.json"), &err))
        abort();
    crisk_batch_free(batch);
    crisk_schema_free(s);
}

const char *fuzz_bundle_path(const char *name)
{
    static char path[4096];
    if (!bundle_made) {
        if (!mkdtemp(bundle_dir))
            abort();
        bundle_made = 1;
        atexit(remove_bundle_dir);
        copy_example();
        write_small_schema();
    }
    if (!name)
        return bundle_dir;
    snprintf(path, sizeof path, "%s/%s", bundle_dir, name);
    return path;
}

void fuzz_small_manifest(const char *profiles, const char *policy)
{
    cJSON *m = cJSON_Parse(fuzz_example_file("manifest.json", NULL));
    cJSON *models = cJSON_GetObjectItemCaseSensitive(m, "models"), *logistic = NULL, *e;
    cJSON_ArrayForEach(e, models) {
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(e, "file");
        if (cJSON_IsString(file) && strcmp(file->valuestring, "fraud_logistic.json") == 0)
            logistic = e;
    }
    cJSON *small = cJSON_CreateArray();
    if (!logistic || !small ||
        !cJSON_AddItemToArray(small, cJSON_DetachItemViaPointer(models, logistic)) ||
        !cJSON_ReplaceItemInObjectCaseSensitive(logistic, "name",
                                                cJSON_CreateString("fraud")) ||
        !cJSON_ReplaceItemInObjectCaseSensitive(m, "models", small) ||
        !cJSON_ReplaceItemInObjectCaseSensitive(m, "schema",
                                                cJSON_CreateString("small_schema.json")) ||
        !cJSON_ReplaceItemInObjectCaseSensitive(m, "profiles",
                                                cJSON_CreateString(profiles)) ||
        !cJSON_ReplaceItemInObjectCaseSensitive(m, "policy", cJSON_CreateString(policy)))
        abort();
    char *text = cJSON_Print(m);
    if (!text)
        abort();
    fuzz_write_file(fuzz_bundle_path("manifest.json"), (const uint8_t *)text, strlen(text));
    free(text);
    cJSON_Delete(m);
}

void fuzz_small_bundle_input(const char *profiles, const char *policy, const uint8_t *data,
                             size_t size)
{
    static int ready;
    if (!ready) {
        fuzz_small_manifest(profiles, policy);
        ready = 1;
    }
    fuzz_write_file(fuzz_bundle_path("input.json"), data, size);
    crisk_bundle_free(fuzz_load_bundle());
}

void fuzz_score_bundle(const crisk_bundle *bundle, crisk_lane_state *stream)
{
    crisk_batch *batch = fuzz_example_batch(crisk_bundle_schema(bundle), FUZZ_DECLARATIONS);
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.today = FUZZ_TODAY;
    opts.stream = stream;
    opts.explain = crisk_bundle_score_model(bundle) >= 0 ? 3 : 0;
    crisk_results *res = NULL;
    crisk_error err;
    int rc = crisk_bundle_score(bundle, batch, &opts, &res, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
    } else {
        char reason[256];
        if (crisk_results_size(res) != FUZZ_DECLARATIONS)
            abort();
        for (size_t row = 0; row < FUZZ_DECLARATIONS; row++) {
            if (crisk_results_lane(res, row) >= crisk_bundle_num_lanes(bundle) ||
                crisk_results_reason(res, row, reason, sizeof reason) == 0)
                abort();
            for (size_t k = 0; k < crisk_results_num_hits(res, row); k++)
                if (!crisk_results_hit_id(res, row, k) ||
                    !crisk_results_hit_description(res, row, k))
                    abort();
            for (size_t k = 0; k < crisk_results_num_reasons(res, row); k++)
                if (!crisk_results_reason_field(res, row, k) ||
                    !crisk_results_reason_value(res, row, k))
                    abort();
        }
    }
    crisk_results_free(res);
    crisk_batch_free(batch);
}

/* Returns the bytes of the file at `path` (the caller frees them), their number in
 * `*size`; aborts when it cannot be read. */
static unsigned char *read_whole(const char *path, size_t *size)
{
    unsigned char *data;
    crisk_error err;
    if (crisk__read_file(path, (size_t)1 << 28, &data, size, &err))
        abort();
    return data;
}

void fuzz_state_round_trip(const crisk_bundle *bundle, const crisk_lane_state *state)
{
    char first[4096], second[4096];
    snprintf(first, sizeof first, "%s", fuzz_bundle_path("state.json"));
    snprintf(second, sizeof second, "%s", fuzz_bundle_path("state2.json"));
    crisk_lane_state *loaded = NULL;
    crisk_error err;
    if (crisk_lane_state_save(state, first, &err) ||
        crisk_lane_state_load(bundle, first, &loaded, &err) ||
        crisk_lane_state_save(loaded, second, &err))
        abort();
    size_t n1, n2;
    unsigned char *a = read_whole(first, &n1), *b = read_whole(second, &n2);
    if (n1 != n2 || memcmp(a, b, n1) != 0)
        abort();
    free(a);
    free(b);
    crisk_lane_state_free(loaded);
}

crisk_bundle *fuzz_load_bundle(void)
{
    crisk_load_options opts;
    fuzz_load_options(&opts);
    crisk_bundle *bundle = NULL;
    crisk_lane_state *state = NULL;
    crisk_error err;
    int rc = crisk_bundle_load(fuzz_bundle_path(NULL), &opts, &bundle, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
        if (bundle)
            abort(); /* a failed load must leave no bundle behind */
        return NULL;
    }
    fuzz_score_bundle(bundle, NULL);
    if (crisk_lane_state_new(bundle, &state, &err))
        abort();
    fuzz_score_bundle(bundle, state);
    fuzz_state_round_trip(bundle, state);
    crisk_lane_state_free(state);
    return bundle;
}
