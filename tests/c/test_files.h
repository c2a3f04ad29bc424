/*
 * test_files.h — files the C suites write for the library to read: temporary files from
 * text, files in a test's own directory, and schemas loaded from JSON text.
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

/* Loads a schema from JSON text through a temporary file; returns crisk_schema_load's
 * code and keeps its error in `err`. */
int crisk_test_load_schema(const char *text, crisk_schema **s, crisk_error *err);

#endif /* CRISK_TEST_FILES_H */
