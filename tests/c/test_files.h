/*
 * test_files.h — files the C suites write for the library to read: temporary files from
 * text, files in a test's own directory (and its removal), schemas loaded from JSON text,
 * bundles loaded from a directory; and the
 * committed fixtures under tests/c/fixtures they read.
 */
#ifndef CRISK_TEST_FILES_H
#define CRISK_TEST_FILES_H

#include "crisk.h"

#include <stddef.h>

/* Writes `text` to a new temporary file and returns its path (the caller frees it);
 * fails the current test when the file cannot be written. */
char *crisk_test_write_temp(const char *text);

/* Writes `len` bytes of `data` to file `name` in directory `dir`; fails the current test
 * when the file cannot be written. */
void crisk_test_write_file(const char *dir, const char *name, const void *data, size_t len);

/* Removes the files directly in directory `dir`, then the directory. */
void crisk_test_remove_dir(const char *dir);

/* Loads the bundle in directory `dir`; fails the current test when it does not load. */
crisk_bundle *crisk_test_load_bundle(const char *dir);

/* Loads a schema from JSON text through a temporary file; returns crisk_schema_load's
 * code and keeps its error in `err`. */
int crisk_test_load_schema(const char *text, crisk_schema **s, crisk_error *err);

/* Reads the whole file at `path` into a malloc'd buffer (the caller frees it; a NUL
 * follows the bytes), its length in `*len`; fails the current test when it cannot. */
unsigned char *crisk_test_read_file(const char *path, size_t *len);

/* Reads file `name` of tests/c/fixtures (under CRISK_SOURCE_DIR, which meson sets) as
 * crisk_test_read_file does. */
unsigned char *crisk_test_read_fixture(const char *name, size_t *len);

/* Reads file `name` of tests/c/fixtures, one number a line (C99 hex floats, exact), into
 * a malloc'd array (the caller frees it), the count in `*n`. */
float *crisk_test_read_fixture_floats(const char *name, size_t *n);

/* Loads model file `name` of tests/c/fixtures; fails the current test when it does not
 * load. */
crisk_model *crisk_test_load_fixture_model(const char *name);

#endif /* CRISK_TEST_FILES_H */
