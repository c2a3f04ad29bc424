/*
 * decl_file.h — declarations read from a CSV or JSON Lines file into a crisk_batch, with
 * their labels, for org.crisk.Schema (fit, training matrix and features from a file).
 * It reads through the library's public declaration reader (crisk/reader.h, the one
 * `crisk fit` uses), so Java and the CLI read a file alike. Included into the Java
 * wrapper's C code only.
 *
 * Unlike `crisk fit`, which reports rejected rows and goes on, a rejected row fails the
 * read, naming its line: Schema is strict, as the Python binding's is.
 */
#ifndef CRISK_JAVA_DECL_FILE_H
#define CRISK_JAVA_DECL_FILE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisk.h"

/* Rows read per call of crisk_decl_read. */
#define DECL_FILE_CHUNK 4096

/* A file's declarations: the batch (made for the schema the file was read with), and
 * one label per row when a label column was asked for (else `labels` is NULL). */
typedef struct decl_file {
    crisk_batch *batch;
    float *labels;
    size_t n;
} decl_file;

/* The first rejected row, kept by decl_file_reject for the error message. */
typedef struct decl_file_rejected {
    uint64_t line;
    char reason[sizeof ((crisk_error *)0)->message];
} decl_file_rejected;

/* Reject callback: records the first rejected row in `ctx` and stops the reading. */
static int decl_file_reject(void *ctx, const crisk_decl_reject *reject)
{
    decl_file_rejected *first = ctx;
    first->line = reject->line;
    snprintf(first->reason, sizeof first->reason, "%s", reject->reason);
    return CRISK_E_INPUT;
}

/* Frees a file's batch and labels. NULL is a no-op. */
static void decl_file_free(decl_file *file)
{
    if (file) {
        crisk_batch_free(file->batch);
        free(file->labels);
        free(file);
    }
}

/* Appends the `got` labels read into `chunk` to `file`, growing its array (capacity in
 * `*cap`). Returns 0 or CRISK_E_NOMEM with `err` filled. */
static int decl_file_add_labels(decl_file *file, size_t *cap, const double *chunk,
                                size_t got, crisk_error *err)
{
    if (file->n + got > *cap) {
        size_t grown_cap = *cap ? *cap * 2 : DECL_FILE_CHUNK;
        while (grown_cap < file->n + got)
            grown_cap *= 2;
        float *grown = realloc(file->labels, grown_cap * sizeof *grown);
        if (!grown)
            return crisk_error_set(err, CRISK_E_NOMEM, "out of memory for %zu labels",
                                   grown_cap);
        file->labels = grown;
        *cap = grown_cap;
    }
    for (size_t i = 0; i < got; i++)
        file->labels[file->n + i] = (float)chunk[i];
    return 0;
}

/* Reads every declaration of `f` (`format`) into `file`'s batch, and the 0/1 values of
 * column `label` into its labels when `label` is not empty. Returns 0 or a negative code
 * with `err` filled (a rejected row: CRISK_E_INPUT naming `path` and the line). */
static int decl_file_fill(decl_file *file, FILE *f, crisk_decl_format format,
                          const crisk_schema *schema, const char *path, const char *label,
                          crisk_error *err)
{
    const crisk_decl_extra extra = {label, 1, 1};
    crisk_decl_options opts;
    crisk_decl_options_init(&opts, CRISK_DECL_OPTIONS_VERSION);
    if (label[0]) {
        opts.extras = &extra;
        opts.num_extras = 1;
    }
    crisk_decl_reader *reader = NULL;
    int rc = crisk_decl_open(f, format, schema, &opts, &reader, err);
    double *chunk = label[0] && rc == 0 ? malloc(DECL_FILE_CHUNK * sizeof *chunk) : NULL;
    if (rc == 0 && label[0] && !chunk)
        rc = crisk_error_set(err, CRISK_E_NOMEM, "out of memory for %d labels",
                             DECL_FILE_CHUNK);
    decl_file_rejected first = {0, ""};
    size_t cap = 0;
    for (size_t got = 1; rc == 0 && got > 0;) {
        rc = crisk_decl_read(reader, file->batch, DECL_FILE_CHUNK, chunk, decl_file_reject,
                             &first, &got, err);
        if (rc == 0 && label[0])
            rc = decl_file_add_labels(file, &cap, chunk, got, err);
        if (rc == 0)
            file->n += got;
    }
    if (rc != 0 && first.line)
        rc = crisk_error_set(err, CRISK_E_INPUT, "%s line %llu: %s", path,
                             (unsigned long long)first.line, first.reason);
    free(chunk);
    crisk_decl_free(reader);
    return rc;
}

/* Reads the declarations of the CSV or JSON Lines file at `path` (by its extension:
 * .csv, .jsonl or .ndjson) for `schema`, with the labels of column `label` unless it is
 * empty. Returns the file's rows, or NULL with `err` filled. */
static decl_file *decl_file_read(const crisk_schema *schema, const char *path,
                                 const char *label, crisk_error *err)
{
    crisk_decl_format format = crisk_decl_format_of(path);
    if (!format) {
        crisk_error_set(err, CRISK_E_INVALID_ARGUMENT,
                        "%s: not a .csv or .jsonl file (the extension tells the format)",
                        path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        crisk_error_set(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    decl_file *file = calloc(1, sizeof *file);
    int rc = file ? crisk_batch_new(schema, &file->batch, err)
                  : crisk_error_set(err, CRISK_E_NOMEM, "out of memory for %s", path);
    if (rc == 0)
        rc = decl_file_fill(file, f, format, schema, path, label, err);
    if (rc == 0 && ferror(f))
        rc = crisk_error_set(err, CRISK_E_IO, "%s: read error", path);
    fclose(f);
    if (rc != 0) {
        decl_file_free(file);
        return NULL;
    }
    return file;
}

/* Returns the number of declarations read. */
static size_t decl_file_size(const decl_file *file)
{
    return file->n;
}

/* Returns the file's batch. */
static const crisk_batch *decl_file_batch(const decl_file *file)
{
    return file->batch;
}

/* Fits `schema` from the file's declarations and labels (schema_fit of
 * crisk_helpers.h); returns 0 or a negative code with `err` filled. */
static int decl_file_fit(crisk_schema *schema, const decl_file *file, unsigned folds,
                         uint64_t seed, double smoothing, crisk_error *err)
{
    return schema_fit(schema, file->batch, file->labels, file->labels ? file->n : 0, folds,
                      seed, smoothing, err);
}

/* Writes the file's out-of-fold training matrix into `out` (schema_training_matrix of
 * crisk_helpers.h); returns 0 or a negative code with `err` filled. */
static int decl_file_training_matrix(const crisk_schema *schema, const decl_file *file,
                                     unsigned folds, uint64_t seed, double smoothing,
                                     float *out, size_t out_len, crisk_error *err)
{
    return schema_training_matrix(schema, file->batch, file->labels,
                                  file->labels ? file->n : 0, folds, seed, smoothing, out,
                                  out_len, err);
}

#endif /* CRISK_JAVA_DECL_FILE_H */
