/*
 * test_ubjson.c — the UBJSON decoder and the legacy binary converter, against libxgboost.
 *
 * A small model is trained through libxgboost's C API at test time and saved as JSON, as
 * UBJSON and in the legacy binary format; crisk's decoding of the UBJSON and conversion of
 * the legacy file must give the same tree as cJSON's parse of libxgboost's own JSON.
 * Hand-built documents cover what XGBoost does not write, and tests/corpus/ubjson holds
 * malformed documents that must all be refused with the byte offset named.
 */
#include "crisk.h"
#include "import/import.h"

#include "check_run.h"
#include "test_files.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xgboost/c_api.h>

/* Fails the test with libxgboost's message when a C API call does not return 0. */
#define XGB_OK(call) ck_assert_msg((call) == 0, "%s: %s", #call, XGBGetLastError())

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                              */
/* ------------------------------------------------------------------------------------ */

/* Returns the default load limits. */
static crisk_load_limits default_limits(void)
{
    crisk_load_options o;
    crisk_load_options_init(&o, CRISK_LOAD_OPTIONS_VERSION);
    return o.limits;
}

/* The training rows: 20 rows of 4 features, one value missing. */
enum { ROWS = 20, COLS = 4 };

/* Fills `x` with the training rows. */
static void training_rows(float x[ROWS * COLS])
{
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < COLS; j++)
            x[i * COLS + j] = (float)((i * 7 + j * 3) % 11) / 3.0f - 1.0f;
    x[5] = NAN;
}

/* Trains a 3-round booster with `objective` (labels i % num_class, num_class 2 meaning a
 * binary objective) on the training rows, and returns it. */
static BoosterHandle train(const char *objective, int num_class)
{
    float x[ROWS * COLS], y[ROWS];
    training_rows(x);
    for (int i = 0; i < ROWS; i++)
        y[i] = (float)(i % num_class == 0 ? 1 : (num_class == 2 ? 0 : i % num_class));
    DMatrixHandle d;
    XGB_OK(XGDMatrixCreateFromMat(x, ROWS, COLS, NAN, &d));
    XGB_OK(XGDMatrixSetFloatInfo(d, "label", y, ROWS));
    BoosterHandle b;
    XGB_OK(XGBoosterCreate(&d, 1, &b));
    XGB_OK(XGBoosterSetParam(b, "objective", objective));
    if (num_class > 2) {
        char k[16];
        snprintf(k, sizeof k, "%d", num_class);
        XGB_OK(XGBoosterSetParam(b, "num_class", k));
    }
    XGB_OK(XGBoosterSetParam(b, "max_depth", "3"));
    XGB_OK(XGBoosterSetParam(b, "nthread", "1"));
    for (int it = 0; it < 3; it++)
        XGB_OK(XGBoosterUpdateOneIter(b, it, d));
    XGB_OK(XGDMatrixFree(d));
    return b;
}

/* The model most tests use: binary:logistic. */
static BoosterHandle train_small(void)
{
    return train("binary:logistic", 2);
}

/* Saves booster `b` in `format` ("json" or "ubj") into a malloc'd buffer, storing its size
 * in `*size` (the buffer holds one more byte, a NUL). */
static unsigned char *save_buffer(BoosterHandle b, const char *format, size_t *size)
{
    char config[64];
    snprintf(config, sizeof config, "{\"format\": \"%s\"}", format);
    bst_ulong len = 0;
    const char *out = NULL;
    XGB_OK(XGBoosterSaveModelToBuffer(b, config, &len, &out));
    unsigned char *copy = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, out, (size_t)len);
    copy[len] = 0;
    *size = (size_t)len;
    return copy;
}

/* Returns 1 when `a` and `b` are equal trees: the same types, object keys in the same
 * order, strings equal, and numbers equal once rounded to float32 (XGBoost's JSON prints
 * the shortest text that reads back as the same float32). Writes the path of the first
 * difference to `where`. Recursion is fine here: the trees are the test's own models. */
static int same_tree(const cJSON *a, const cJSON *b, char *where, size_t cap)
{
    if ((a->type & 0xff) != (b->type & 0xff)) {
        snprintf(where, cap, "%s: types %d and %d", a->string ? a->string : "(element)",
                 a->type & 0xff, b->type & 0xff);
        return 0;
    }
    if (cJSON_IsNumber(a)) {
        float fa = (float)a->valuedouble, fb = (float)b->valuedouble;
        if (fa == fb || (isnan(fa) && isnan(fb)))
            return 1;
        snprintf(where, cap, "%s: numbers %.9g and %.9g", a->string ? a->string : "(element)",
                 a->valuedouble, b->valuedouble);
        return 0;
    }
    if (cJSON_IsString(a)) {
        if (strcmp(a->valuestring, b->valuestring) == 0)
            return 1;
        snprintf(where, cap, "strings \"%s\" and \"%s\"", a->valuestring, b->valuestring);
        return 0;
    }
    if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) {
            snprintf(where, cap, "%s: %d and %d entries", a->string ? a->string : "(element)",
                     cJSON_GetArraySize(a), cJSON_GetArraySize(b));
            return 0;
        }
        for (const cJSON *x = a->child, *y = b->child; x; x = x->next, y = y->next) {
            if (cJSON_IsObject(a) && strcmp(x->string, y->string) != 0) {
                snprintf(where, cap, "keys \"%s\" and \"%s\"", x->string, y->string);
                return 0;
            }
            if (!same_tree(x, y, where, cap))
                return 0;
        }
    }
    return 1;
}

/* Counts the nodes of a tree without recursion (children before siblings, via a stack). */
static size_t count_nodes(const cJSON *root)
{
    size_t n = 0, depth = 0;
    const cJSON *stack[64];
    stack[depth++] = root;
    while (depth) {
        const cJSON *node = stack[--depth];
        for (; node; node = node->next) {
            n++;
            if (node->child) {
                ck_assert_uint_lt(depth, 64);
                stack[depth++] = node->child;
            }
        }
    }
    return n;
}

/* Parses `size` bytes as UBJSON with the default limits, expecting success. */
static cJSON *parse_ok(const void *data, size_t size)
{
    crisk_load_limits limits = default_limits();
    crisk_error err = {0};
    cJSON *out = NULL;
    int rc = crisk__ubjson_parse(data, size, &limits, &out, &err);
    ck_assert_msg(rc == 0, "parse failed (%d): %s", rc, err.message);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* Parses `size` bytes as UBJSON, expecting a refusal with CRISK_E_FORMAT or CRISK_E_LIMIT
 * whose message names a byte offset; returns the code, leaves the message in `err`. */
static int parse_refused(const void *data, size_t size, const char *label, crisk_error *err)
{
    crisk_load_limits limits = default_limits();
    cJSON *out = (cJSON *)&limits; /* must be reset to NULL */
    int rc = crisk__ubjson_parse(data, size, &limits, &out, err);
    ck_assert_msg(rc == CRISK_E_FORMAT || rc == CRISK_E_LIMIT,
                  "%s: expected a refusal, got %d (%s)", label, rc, err->message);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err->message, "offset") != NULL, "%s: no offset in \"%s\"", label,
                  err->message);
    return rc;
}

/* Compares a UBJSON document, given as `n` bytes, with the JSON text `json`. */
static void check_doc(const char *ubj, size_t n, const char *json)
{
    cJSON *got = parse_ok(ubj, n);
    cJSON *want = cJSON_Parse(json);
    ck_assert_ptr_nonnull(want);
    char where[256] = "";
    char *text = cJSON_PrintUnformatted(got);
    ck_assert_msg(same_tree(want, got, where, sizeof where), "%s: got %s (%s)", json, text,
                  where);
    free(text);
    cJSON_Delete(got);
    cJSON_Delete(want);
}

/* The same as check_doc for a string literal document. */
#define CHECK_DOC(lit, json) check_doc(lit, sizeof(lit) - 1, json)

/* ------------------------------------------------------------------------------------ */
/* Parity with libxgboost's own JSON                                                    */
/* ------------------------------------------------------------------------------------ */

START_TEST(test_ubj_matches_json)
{
    BoosterHandle b = train_small();
    size_t json_size, ubj_size;
    unsigned char *json = save_buffer(b, "json", &json_size);
    unsigned char *ubj = save_buffer(b, "ubj", &ubj_size);
    XGB_OK(XGBoosterFree(b));
    ck_assert_int_eq(ubj[0], '{');

    cJSON *want = cJSON_ParseWithLength((const char *)json, json_size);
    ck_assert_ptr_nonnull(want);
    cJSON *got = parse_ok(ubj, ubj_size);
    char where[256] = "";
    ck_assert_msg(same_tree(want, got, where, sizeof where), "UBJ differs: %s", where);
    /* A real model, not two empty objects: 3 trees with their arrays. */
    const cJSON *trees = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(got, "learner"), "gradient_booster"),
            "model"),
        "trees");
    ck_assert_int_eq(cJSON_GetArraySize(trees), 3);
    ck_assert_uint_gt(count_nodes(got), 100);
    cJSON_Delete(want);
    cJSON_Delete(got);

    /* Every strict prefix of the document is refused, naming an offset. */
    for (size_t n = 0; n < ubj_size; n++) {
        crisk_error err;
        char label[48];
        snprintf(label, sizeof label, "prefix of %zu bytes", n);
        parse_refused(ubj, n, label, &err);
    }
    /* Every byte replaced by a few values: the decoder never crashes, and a refusal
     * names an offset. */
    static const unsigned char subst[] = {0x00, 0x7f, 0xff, '[', '{', 'L', '#', '$'};
    unsigned char *mut = malloc(ubj_size);
    ck_assert_ptr_nonnull(mut);
    for (size_t i = 0; i < ubj_size; i++) {
        for (size_t s = 0; s < sizeof subst; s++) {
            memcpy(mut, ubj, ubj_size);
            mut[i] = subst[s];
            crisk_load_limits limits = default_limits();
            crisk_error err;
            cJSON *out = NULL;
            int rc = crisk__ubjson_parse(mut, ubj_size, &limits, &out, &err);
            if (rc == 0)
                cJSON_Delete(out);
            else
                ck_assert_msg(strstr(err.message, "offset") != NULL, "byte %zu = 0x%02x: %s",
                              i, subst[s], err.message);
        }
    }
    free(mut);
    free(json);
    free(ubj);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Hand-built documents                                                                 */
/* ------------------------------------------------------------------------------------ */

START_TEST(test_scalars)
{
    CHECK_DOC("i\x05", "5");
    CHECK_DOC("i\xfb", "-5");
    CHECK_DOC("U\xfb", "251");
    CHECK_DOC("I\xff\xfe", "-2");
    CHECK_DOC("I\x01\x00", "256");
    CHECK_DOC("l\x80\x00\x00\x00", "-2147483648");
    CHECK_DOC("L\xff\xff\xff\xff\xff\xff\xff\xfd", "-3");
    CHECK_DOC("L\x00\x00\x01\x00\x00\x00\x00\x01", "1099511627777");
    CHECK_DOC("T", "true");
    CHECK_DOC("F", "false");
    CHECK_DOC("Z", "null");
    CHECK_DOC("NNi\x01N", "1");
    CHECK_DOC("Ca", "\"a\"");
    CHECK_DOC("Si\x03" "abc", "\"abc\"");
    CHECK_DOC("SU\x00", "\"\"");
    CHECK_DOC("Hi\x05" "1.5e3", "1500");
    CHECK_DOC("Hi\x03" "abc", "\"abc\"");

    /* float32 becomes the double of exactly the same value; float64 is bit-exact. */
    cJSON *f = parse_ok("d\x3d\xcc\xcc\xcd", 5);
    ck_assert(f->valuedouble == (double)0.1f);
    cJSON_Delete(f);
    cJSON *d = parse_ok("D\x3f\xb9\x99\x99\x99\x99\x99\x9a", 9);
    ck_assert(d->valuedouble == 0.1);
    cJSON_Delete(d);
    cJSON *nan = parse_ok("d\x7f\xc0\x00\x00", 5);
    ck_assert(isnan(nan->valuedouble));
    cJSON_Delete(nan);
    /* int64 beyond 2^53 is rounded to the nearest double. */
    cJSON *big = parse_ok("L\x00\x20\x00\x00\x00\x00\x00\x01", 9);
    ck_assert(big->valuedouble == 9007199254740992.0);
    cJSON_Delete(big);
}
END_TEST

START_TEST(test_containers)
{
    CHECK_DOC("[]", "[]");
    CHECK_DOC("{}", "{}");
    CHECK_DOC("[#i\x00", "[]");
    CHECK_DOC("{#i\x00", "{}");
    CHECK_DOC("[$d#L\x00\x00\x00\x00\x00\x00\x00\x00", "[]");
    CHECK_DOC("[Ni\x01N]", "[1]");
}
END_TEST

START_TEST(test_optimized_containers)
{
    CHECK_DOC("[$i#U\x03\x01\xff\x7f", "[1, -1, 127]");
    CHECK_DOC("[$I#i\x02\x01\x00\xff\xfe", "[256, -2]");
    CHECK_DOC("[$L#i\x01\x00\x00\x00\x00\x00\x00\x00\x07", "[7]");
    CHECK_DOC("[$d#i\x02\x3f\x00\x00\x00\xbf\x80\x00\x00", "[0.5, -1]");
    CHECK_DOC("[$D#i\x01\x40\x00\x00\x00\x00\x00\x00\x00", "[2]");
    CHECK_DOC("[$S#i\x02i\x01xU\x02yz", "[\"x\", \"yz\"]");
    CHECK_DOC("[$C#i\x02pq", "[\"p\", \"q\"]");
    CHECK_DOC("[#i\x03i\x01Si\x01s[]", "[1, \"s\", []]");
    /* Objects: counted, typed, and with each key length form. */
    CHECK_DOC("{#i\x02i\x01" "aTU\x01" "b[]", "{\"a\": true, \"b\": []}");
    CHECK_DOC("{$U#i\x02i\x01" "a\x05i\x01" "b\x06", "{\"a\": 5, \"b\": 6}");
    CHECK_DOC("{I\x00\x01kZl\x00\x00\x00\x02kkFL\x00\x00\x00\x00\x00\x00\x00\x00T}",
              "{\"k\": null, \"kk\": false, \"\": true}");
    /* A string value after a key: both survive the decoder's reuse of its text buffer. */
    CHECK_DOC("{i\x03keySi\x05value}", "{\"key\": \"value\"}");
    /* Nested typed arrays, as XGBoost writes a tree's arrays inside a list of trees. */
    CHECK_DOC("[[$I#i\x02\x01\x00\xff\xfe[$l#i\x01\xff\xff\xff\xff{i\x01" "a[$U#i\x01\x09}]",
              "[[256, -2], [-1], {\"a\": [9]}]");
    CHECK_DOC("{i\x01t[#i\x02{i\x01w[$d#i\x01\x3f\x80\x00\x00}{i\x01w[$d#i\x00}}",
              "{\"t\": [{\"w\": [1]}, {\"w\": []}]}");
}
END_TEST

START_TEST(test_nesting_limit)
{
    enum { LIMIT = 1000 };
    char *doc = malloc(2 * (LIMIT + 1));
    ck_assert_ptr_nonnull(doc);
    memset(doc, '[', LIMIT);
    memset(doc + LIMIT, ']', LIMIT);
    cJSON *ok = parse_ok(doc, 2 * LIMIT);
    size_t levels = 0;
    for (const cJSON *a = ok; a; a = a->child)
        levels++;
    ck_assert_uint_eq(levels, LIMIT);
    cJSON_Delete(ok);
    memset(doc, '[', LIMIT + 1);
    memset(doc + LIMIT + 1, ']', LIMIT + 1);
    crisk_error err;
    ck_assert_int_eq(parse_refused(doc, 2 * (LIMIT + 1), "1001 levels", &err),
                     CRISK_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.message, "1000"));
    free(doc);
}
END_TEST

START_TEST(test_limits_and_offsets)
{
    crisk_load_limits limits = default_limits();
    crisk_error err;
    cJSON *out = NULL;
    /* The document itself over max_file_bytes. */
    limits.max_file_bytes = 4;
    ck_assert_int_eq(crisk__ubjson_parse((const unsigned char *)"Si\x03" "abc", 6, &limits,
                                         &out, &err), CRISK_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.message, "max_file_bytes"));
    /* A count over max_file_bytes, in a document within it. */
    limits.max_file_bytes = 100;
    ck_assert_int_eq(crisk__ubjson_parse((const unsigned char *)"[#U\xc8", 4, &limits, &out,
                                         &err), CRISK_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.message, "offset 2"));
    /* The offset and what was expected are named. */
    parse_refused("{i\x01" "aX}", 6, "bad marker", &err);
    ck_assert_ptr_nonnull(strstr(err.message, "offset 4"));
    ck_assert_ptr_nonnull(strstr(err.message, "expected a value marker"));
    parse_refused("[$l#i\x02\0\0\0\0\0\0\0", 13, "short typed", &err);
    ck_assert_ptr_nonnull(strstr(err.message, "offset 4"));
    ck_assert_ptr_nonnull(strstr(err.message, "needs at least 8 bytes"));
}
END_TEST

/* The malformed samples of tests/corpus/ubjson (see make_corpus.py there). */
START_TEST(test_corpus)
{
    const char *src = getenv("CRISK_SOURCE_DIR");
    ck_assert_msg(src != NULL, "CRISK_SOURCE_DIR is not set");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/corpus/ubjson", src);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int samples = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".ubj") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t size;
        unsigned char *data = crisk_test_read_file(path, &size);
        crisk_error err;
        parse_refused(data, size, e->d_name, &err);
        free(data);
        samples++;
    }
    closedir(d);
    ck_assert_int_ge(samples, 30);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* The legacy binary format                                                             */
/* ------------------------------------------------------------------------------------ */

/* Saves booster `b` with XGBoosterSaveModel to a temporary file named `*.bin`, reads it
 * back and returns its bytes (libxgboost 1.7 writes the legacy binary for any name that
 * does not end in .json or .ubj; 2.x for names ending in .deprecated). */
static unsigned char *save_legacy(BoosterHandle b, size_t *size)
{
    char dir[] = "/tmp/crisk-ubjson-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/model.bin", dir);
    XGB_OK(XGBoosterSaveModel(b, path));
    unsigned char *data = crisk_test_read_file(path, size);
    unlink(path);
    rmdir(dir);
    ck_assert_uint_gt(*size, 4);
    ck_assert_int_ne(data[0], '{'); /* neither JSON nor UBJSON */
    return data;
}

START_TEST(test_legacy_matches_json)
{
    BoosterHandle b = train_small();
    size_t json_size, legacy_size;
    unsigned char *json = save_buffer(b, "json", &json_size);
    unsigned char *legacy = save_legacy(b, &legacy_size);
    XGB_OK(XGBoosterFree(b));

    char *converted = NULL;
    crisk_error err = {0};
    int rc = crisk__xgboost_legacy_to_json(legacy, legacy_size, &converted, &err);
    ck_assert_msg(rc == 0, "legacy conversion failed: %s", err.message);
    cJSON *want = cJSON_ParseWithLength((const char *)json, json_size);
    cJSON *got = cJSON_Parse(converted);
    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(got);
    char where[256] = "";
    ck_assert_msg(same_tree(want, got, where, sizeof where), "legacy differs: %s", where);
    ck_assert_uint_gt(count_nodes(got), 100);
    cJSON_Delete(want);
    cJSON_Delete(got);
    free(converted);

    /* Truncated: it begins like a legacy model, and libxgboost's reason is passed on. */
    rc = crisk__xgboost_legacy_to_json(legacy, legacy_size / 2, &converted, &err);
    ck_assert_int_eq(rc, CRISK_E_FORMAT);
    ck_assert_ptr_null(converted);
    ck_assert_ptr_nonnull(strstr(err.message, "not a recognised model format"));
    ck_assert_ptr_nonnull(strstr(err.message, "libxgboost cannot load them"));
    ck_assert_ptr_null(strstr(err.message, "Stack trace"));
    free(json);
    free(legacy);
}
END_TEST

START_TEST(test_legacy_silent)
{
    BoosterHandle b = train_small();
    size_t size;
    unsigned char *legacy = save_legacy(b, &size);
    XGB_OK(XGBoosterFree(b));
    /* Claim XGBoost 0.x in the learner header (major version after "binf" and five 4-byte
     * fields): libxgboost warns about such models on stderr at verbosity 1. */
    ck_assert_int_eq(memcmp(legacy, "binf", 4), 0);
    memset(legacy + 4 + 20, 0, 4);
    legacy[4 + 24] = 5;
    XGB_OK(XGBSetGlobalConfig("{\"verbosity\": 2}"));

    fflush(stderr);
    FILE *capture = tmpfile();
    ck_assert_ptr_nonnull(capture);
    int saved_fd = dup(STDERR_FILENO);
    ck_assert_int_ge(saved_fd, 0);
    ck_assert_int_ge(dup2(fileno(capture), STDERR_FILENO), 0);
    char *converted = NULL;
    crisk_error err = {0};
    int rc = crisk__xgboost_legacy_to_json(legacy, size, &converted, &err);
    fflush(stderr);
    dup2(saved_fd, STDERR_FILENO);
    close(saved_fd);
    ck_assert_msg(rc == 0, "legacy conversion failed: %s", err.message);
    ck_assert_int_eq(fseek(capture, 0, SEEK_END), 0);
    ck_assert_int_eq(ftell(capture), 0);
    fclose(capture);
    free(converted);

    /* The caller's verbosity on this thread is back. */
    const char *config = NULL;
    XGB_OK(XGBGetGlobalConfig(&config));
    ck_assert_ptr_nonnull(strstr(config, "\"verbosity\":2"));
    free(legacy);
}
END_TEST

/* A legacy model when libxgboost cannot be loaded, or what is loaded is not libxgboost:
 * CRISK_E_DEPENDENCY naming the library and the package that provides it. */
START_TEST(test_legacy_without_libxgboost)
{
    BoosterHandle b = train_small();
    size_t size;
    unsigned char *legacy = save_legacy(b, &size);
    XGB_OK(XGBoosterFree(b));
    static const struct {
        const char *library, *says;
    } cases[] = {{"libcrisk-test-absent.so.0", "cannot be loaded"},
                 {"libc.so.6", "has no XGBGetLastError"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = (char *)legacy;
        crisk_error err = {0};
        ck_assert_int_eq(crisk__xgboost_legacy_to_json_with(cases[i].library, legacy, size,
                                                            &json, &err),
                         CRISK_E_DEPENDENCY);
        ck_assert_ptr_null(json);
        ck_assert_ptr_nonnull(strstr(err.message, cases[i].library));
        ck_assert_ptr_nonnull(strstr(err.message, cases[i].says));
        ck_assert_msg(strstr(err.message, "Debian package libxgboost0"), "%s", err.message);
    }
    free(legacy);
}
END_TEST

START_TEST(test_not_a_model)
{
    const char *texts[] = {"hello, this is not a model at all", "x", "[1, 2, 3]",
                           "binf", "\x7f" "ELF\x02\x01\x01"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *json = (char *)&i;
        crisk_error err;
        ck_assert_int_eq(crisk__xgboost_legacy_to_json(texts[i], strlen(texts[i]), &json, &err),
                         CRISK_E_FORMAT);
        ck_assert_ptr_null(json);
        ck_assert_ptr_nonnull(strstr(err.message, "not a recognised model format"));
        /* And through the public loader, which sends what it does not recognise here. */
        crisk_model *m = NULL;
        ck_assert_int_eq(crisk_model_load_buffer(texts[i], strlen(texts[i]), &m, &err),
                         CRISK_E_FORMAT);
        ck_assert_ptr_nonnull(strstr(err.message, "not a recognised model format"));
    }
    /* A 200-byte header of zeros has no objective name. */
    unsigned char zeros[200] = {0};
    char *json = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk__xgboost_legacy_to_json(zeros, sizeof zeros, &json, &err),
                     CRISK_E_FORMAT);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* End to end: the loader on each format                                                */
/* ------------------------------------------------------------------------------------ */

/* Loads the model at `path` with crisk and writes its transformed predictions for the
 * training rows to `out` (ROWS * outputs floats), returning the number of outputs. */
static size_t crisk_scores(const char *path, float *out, size_t cap)
{
    crisk_model *m = NULL;
    crisk_error err = {0};
    int rc = crisk_model_load(path, &m, &err);
    ck_assert_msg(rc == 0, "%s: %s", path, err.message);
    size_t outputs = crisk_model_num_outputs(m);
    ck_assert_uint_le(ROWS * outputs, cap);
    float x[ROWS * COLS];
    training_rows(x);
    rc = crisk_predict(m, x, ROWS, COLS, NULL, out, &err);
    ck_assert_msg(rc == 0, "%s: predict: %s", path, err.message);
    crisk_model_free(m);
    return outputs;
}

/* Saves a model trained with `objective` as JSON, UBJSON and legacy binary files, and
 * checks that crisk scores the training rows identically from all three, and as
 * libxgboost does. */
static void check_formats_agree(const char *objective, int num_class)
{
    BoosterHandle b = train(objective, num_class);
    char dir[] = "/tmp/crisk-ubjson-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    static const char *const names[] = {"model.json", "model.ubj", "model.bin"};
    enum { CAP = ROWS * 8 };
    float scores[3][CAP];
    size_t outputs[3];
    for (int f = 0; f < 3; f++) {
        char path[64];
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        XGB_OK(XGBoosterSaveModel(b, path));
        outputs[f] = crisk_scores(path, scores[f], CAP);
        unlink(path);
    }
    rmdir(dir);
    for (int f = 1; f < 3; f++) {
        ck_assert_uint_eq(outputs[f], outputs[0]);
        for (size_t i = 0; i < ROWS * outputs[0]; i++)
            ck_assert_msg(memcmp(&scores[f][i], &scores[0][i], sizeof(float)) == 0,
                          "%s, %s: output %zu is %.9g, from JSON %.9g", objective, names[f],
                          i, scores[f][i], scores[0][i]);
    }
    /* libxgboost's own predictions for the same rows. */
    float x[ROWS * COLS];
    training_rows(x);
    DMatrixHandle d;
    XGB_OK(XGDMatrixCreateFromMat(x, ROWS, COLS, NAN, &d));
    bst_ulong len = 0;
    const float *want = NULL;
    XGB_OK(XGBoosterPredict(b, d, 0, 0, 0, &len, &want));
    ck_assert_uint_eq(len, ROWS * outputs[0]);
    for (size_t i = 0; i < len; i++)
        ck_assert_float_eq_tol(scores[0][i], want[i], 1e-6);
    XGB_OK(XGDMatrixFree(d));
    XGB_OK(XGBoosterFree(b));
}

START_TEST(test_load_each_format)
{
    check_formats_agree("binary:logistic", 2);
    check_formats_agree("multi:softprob", 3);
    check_formats_agree("reg:squarederror", 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ubjson");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, test_scalars);
    tcase_add_test(tc, test_containers);
    tcase_add_test(tc, test_optimized_containers);
    tcase_add_test(tc, test_nesting_limit);
    tcase_add_test(tc, test_limits_and_offsets);
    tcase_add_test(tc, test_corpus);
    suite_add_tcase(s, tc);
    TCase *xgb = tcase_create("libxgboost");
    tcase_set_timeout(xgb, 60);
    tcase_add_test(xgb, test_ubj_matches_json);
    tcase_add_test(xgb, test_legacy_matches_json);
    tcase_add_test(xgb, test_legacy_silent);
    tcase_add_test(xgb, test_legacy_without_libxgboost);
    tcase_add_test(xgb, test_not_a_model);
    tcase_add_test(xgb, test_load_each_format);
    suite_add_tcase(s, xgb);
    return crisk_check_run(s);
}
