/*
 * test_malformed.c — hostile XGBoost model files are refused with the right code and a
 * message that says what is wrong, never with a crash, a hang or a leak.
 *
 * The corpus is tests/corpus/xgboost (written by make_corpus.py there); its EXPECTED file
 * lists each file with the crisk error name it must give and a substring of the message.
 * Every file is loaded by path and from memory. Beyond the corpus, every prefix of a
 * valid model (JSON and UBJSON) and many single-byte corruptions of valid models are
 * loaded: any refusal is fine, a
 * crash is not, and whatever loads must score.
 */
#include "crisk.h"

#include "check_run.h"
#include "test_files.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 256

/* One line of EXPECTED. */
typedef struct expectation {
    char file[128];
    char code[32];
    char substring[160];
} expectation;

/* Returns the corpus directory of XGBoost models, under CRISK_SOURCE_DIR (set by meson). */
static const char *corpus_dir(char *buf, size_t size)
{
    const char *root = getenv("CRISK_SOURCE_DIR");
    ck_assert_msg(root != NULL, "CRISK_SOURCE_DIR is not set: run through `meson test`");
    snprintf(buf, size, "%s/tests/corpus/xgboost", root);
    return buf;
}

/* Reads EXPECTED into `e` (at most MAX_ENTRIES lines) and returns the count. */
static size_t read_expected(const char *dir, expectation *e)
{
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/EXPECTED", dir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        ck_assert_uint_lt(n, MAX_ENTRIES);
        int used = 0;
        ck_assert_msg(sscanf(line, "%127s %31s %n", e[n].file, e[n].code, &used) == 2,
                      "EXPECTED: bad line \"%s\"", line);
        snprintf(e[n].substring, sizeof e[n].substring, "%s", used ? line + used : "");
        n++;
    }
    fclose(f);
    return n;
}

/* Scores a row of missing values and a row of zeros with a loaded model; returns the
 * crisk_predict code. */
static int score_something(const crisk_model *m)
{
    size_t F = crisk_model_num_features(m), K = crisk_model_num_margins(m);
    float *rows = calloc(2 * (F ? F : 1), sizeof *rows);
    float *out = malloc(2 * (K ? K : 1) * sizeof *out);
    ck_assert_ptr_nonnull(rows);
    ck_assert_ptr_nonnull(out);
    for (size_t j = 0; j < F; j++)
        rows[j] = NAN;
    crisk_error err;
    int rc = crisk_predict(m, rows, 2, F, NULL, out, &err);
    free(rows);
    free(out);
    return rc;
}

/* Checks one load result against an expectation; a load by path must put the path in
 * front of the message (`path` NULL for a load from memory). Prints and returns 1 on a
 * mismatch. */
static int check_result(const expectation *e, const char *path, int rc, const crisk_model *m,
                        const crisk_error *err)
{
    const char *how = path ? "path" : "buffer";
    if (strcmp(crisk_err_name(rc), e->code) != 0) {
        fprintf(stderr, "%s (%s): got %s \"%s\", want %s \"...%s...\"\n", e->file, how,
                crisk_err_name(rc), rc ? err->message : "", e->code, e->substring);
        return 1;
    }
    if (rc == 0) {
        int prc = score_something(m);
        if (prc != 0) {
            fprintf(stderr, "%s (%s): loads, but crisk_predict gives %s\n", e->file, how,
                    crisk_err_name(prc));
            return 1;
        }
        return 0;
    }
    if (m != NULL) {
        fprintf(stderr, "%s (%s): failed, but *out is not NULL\n", e->file, how);
        return 1;
    }
    /* The substring is looked for after the path, which could contain it by chance. */
    const char *text = err->message;
    size_t plen = path ? strlen(path) : 0;
    if (path) {
        if (strncmp(text, path, plen) != 0 || strncmp(text + plen, ": ", 2) != 0) {
            fprintf(stderr, "%s (path): \"%s\" does not start with the path\n", e->file, text);
            return 1;
        }
        text += plen + 2;
    }
    if (err->code != rc || strstr(text, e->substring) == NULL) {
        fprintf(stderr, "%s (%s): %s \"%s\" does not contain \"%s\" (err.code %d)\n", e->file,
                how, crisk_err_name(rc), err->message, e->substring, err->code);
        return 1;
    }
    return 0;
}

START_TEST(test_corpus)
{
    char dir[512];
    corpus_dir(dir, sizeof dir);
    expectation *e = calloc(MAX_ENTRIES, sizeof *e);
    ck_assert_ptr_nonnull(e);
    size_t n = read_expected(dir, e);
    ck_assert_uint_gt(n, 10);
    size_t failures = 0;
    for (size_t i = 0; i < n; i++) {
        char path[768];
        snprintf(path, sizeof path, "%s/%s", dir, e[i].file);
        crisk_model *m = (crisk_model *)&m; /* must be reset to NULL on failure */
        crisk_error err;
        memset(&err, 0, sizeof err);
        int rc = crisk_model_load(path, &m, &err);
        failures += (size_t)check_result(&e[i], path, rc, m, &err);
        if (rc == 0)
            crisk_model_free(m);
        if (strcmp(e[i].file, ".") == 0)
            continue;
        size_t size = 0;
        unsigned char *bytes = crisk_test_read_file(path, &size);
        m = (crisk_model *)&m;
        memset(&err, 0, sizeof err);
        rc = crisk_model_load_buffer(bytes, size, &m, &err);
        failures += (size_t)check_result(&e[i], NULL, rc, m, &err);
        if (rc == 0)
            crisk_model_free(m);
        free(bytes);
    }
    free(e);
    ck_assert_msg(failures == 0, "%zu corpus loads did not give the expected result "
                  "(see stderr)", failures);
}
END_TEST

/* Every model file in the corpus directory has its line in EXPECTED, so that a file
 * added without an expectation is not silently skipped. */
START_TEST(test_corpus_complete)
{
    char dir[512];
    corpus_dir(dir, sizeof dir);
    expectation *e = calloc(MAX_ENTRIES, sizeof *e);
    ck_assert_ptr_nonnull(e);
    size_t n = read_expected(dir, e);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        const char *dot = strrchr(ent->d_name, '.');
        if (!dot || (strcmp(dot, ".json") != 0 && strcmp(dot, ".ubj") != 0))
            continue;
        size_t k = 0;
        while (k < n && strcmp(e[k].file, ent->d_name) != 0)
            k++;
        ck_assert_msg(k < n, "%s is not listed in EXPECTED", ent->d_name);
    }
    closedir(d);
    free(e);
}
END_TEST

/* Loads `size` bytes and, if they load, scores with the model. Fails the test if a load
 * succeeds and scoring fails, or a failure leaves *out set or the code unfilled. */
static void load_anything(const unsigned char *bytes, size_t size, const char *what,
                          size_t at)
{
    crisk_model *m = (crisk_model *)&m;
    crisk_error err;
    memset(&err, 0, sizeof err);
    int rc = crisk_model_load_buffer(bytes, size, &m, &err);
    if (rc == 0) {
        int prc = score_something(m);
        ck_assert_msg(prc == 0, "%s at %zu: loads, but crisk_predict gives %s", what, at,
                      crisk_err_name(prc));
        crisk_model_free(m);
        return;
    }
    ck_assert_msg(rc < 0 && rc > CRISK_E_LAST_, "%s at %zu: code %d", what, at, rc);
    ck_assert_msg(m == NULL, "%s at %zu: failed, but *out is not NULL", what, at);
    ck_assert_msg(err.code == rc && err.message[0] != '\0', "%s at %zu: %s without a message",
                  what, at, crisk_err_name(rc));
}

START_TEST(test_every_prefix)
{
    static const char *const bases[] = {"valid_base.json", "valid_base.ubj"};
    char dir[512], path[768];
    corpus_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, bases[_i]);
    size_t size = 0;
    unsigned char *whole = crisk_test_read_file(path, &size);
    /* A copy of exactly `cut` bytes, so that reading past the end is seen by sanitizers. */
    for (size_t cut = 1; cut < size; cut++) {
        unsigned char *prefix = malloc(cut);
        ck_assert_ptr_nonnull(prefix);
        memcpy(prefix, whole, cut);
        crisk_model *m = NULL;
        crisk_error err;
        int rc = crisk_model_load_buffer(prefix, cut, &m, &err);
        ck_assert_msg(rc == CRISK_E_FORMAT, "%s: prefix of %zu bytes: %s \"%s\"", bases[_i],
                      cut, crisk_err_name(rc), rc ? err.message : "");
        free(prefix);
    }
    free(whole);
}
END_TEST

START_TEST(test_byte_corruptions)
{
    char dir[512], path[768];
    corpus_dir(dir, sizeof dir);
    static const char *const bases[] = {"valid_base.json", "valid_v17_nan.json",
                                        "valid_dart.json", "valid_gblinear.json",
                                        "valid_base.ubj"};
    /* Bytes that change the meaning of JSON text most: structure, signs, digits, quotes. */
    static const unsigned char replacements[] = "{}[]\",:-+09eE.N \x00\xff";
    unsigned long long state = 0x243F6A8885A308D3ULL; /* a local PRNG (xorshift64) */
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        snprintf(path, sizeof path, "%s/%s", dir, bases[b]);
        size_t size = 0;
        unsigned char *orig = crisk_test_read_file(path, &size);
        unsigned char *copy = malloc(size);
        ck_assert_ptr_nonnull(copy);
        for (int k = 0; k < 600; k++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            size_t at = (size_t)(state % size);
            memcpy(copy, orig, size);
            copy[at] = replacements[(state >> 32) % (sizeof replacements - 1)];
            load_anything(copy, size, bases[b], at);
        }
        free(copy);
        free(orig);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("malformed");
    TCase *tc = tcase_create("xgboost");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_corpus);
    tcase_add_test(tc, test_corpus_complete);
    tcase_add_loop_test(tc, test_every_prefix, 0, 2);
    tcase_add_test(tc, test_byte_corruptions);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
