/*
 * test_files.c — files the C suites write for the library to read.
 */
#include "test_files.h"

#include <check.h>
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

int crisk_test_load_schema(const char *text, crisk_schema **s, crisk_error *err)
{
    char *path = crisk_test_write_temp(text);
    int rc = crisk_schema_load(path, s, err);
    unlink(path);
    free(path);
    return rc;
}
