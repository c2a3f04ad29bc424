/*
 * test_files.c — files the C suites write for the library to read, and the committed
 * fixtures they read (test_files.h).
 */
#include "test_files.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *crisk_test_write_temp(const char *text)
{
    char *path = strdup("/tmp/crisk_test_XXXXXX");
    ck_assert_ptr_nonnull(path);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(text);
    ck_assert_int_eq((long)write(fd, text, n), (long)n);
    close(fd);
    return path;
}

void crisk_test_write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

void crisk_test_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    char path[512];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

crisk_bundle *crisk_test_load_bundle(const char *dir)
{
    crisk_bundle *bundle = NULL;
    crisk_error err;
    ck_assert_msg(crisk_bundle_load(dir, NULL, &bundle, &err) == 0, "%s", err.message);
    return bundle;
}

int crisk_test_load_schema(const char *text, crisk_schema **s, crisk_error *err)
{
    char *path = crisk_test_write_temp(text);
    int rc = crisk_schema_load(path, s, err);
    unlink(path);
    free(path);
    return rc;
}

unsigned char *crisk_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    unsigned char *data = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(fread(data, 1, (size_t)size, f), (size_t)size);
    data[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return data;
}

unsigned char *crisk_test_read_fixture(const char *name, size_t *len)
{
    const char *root = getenv("CRISK_SOURCE_DIR");
    ck_assert_msg(root != NULL, "CRISK_SOURCE_DIR is not set: run through `meson test`");
    char path[512];
    snprintf(path, sizeof path, "%s/tests/c/fixtures/%s", root, name);
    return crisk_test_read_file(path, len);
}

float *crisk_test_read_fixture_floats(const char *name, size_t *n)
{
    size_t len = 0;
    char *text = (char *)crisk_test_read_fixture(name, &len);
    float *out = malloc((len / 2 + 1) * sizeof *out); /* a number and its line feed */
    ck_assert_ptr_nonnull(out);
    *n = 0;
    for (char *p = text, *end; p < text + len; p = end + 1) {
        out[(*n)++] = strtof(p, &end);
        ck_assert_msg(end != p && *end == '\n', "%s: line %zu is not a number", name, *n);
    }
    free(text);
    return out;
}

crisk_model *crisk_test_load_fixture_model(const char *name)
{
    size_t len = 0;
    unsigned char *bytes = crisk_test_read_fixture(name, &len);
    crisk_model *model = NULL;
    crisk_error err;
    int rc = crisk_model_load_buffer(bytes, len, &model, &err);
    ck_assert_msg(rc == 0, "%s: %s: %s", name, crisk_err_name(rc), err.message);
    free(bytes);
    return model;
}
