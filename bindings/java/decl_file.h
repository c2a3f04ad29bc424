/*
 * decl_file.h — declarations read from a CSV or JSON Lines file into a crisk_batch, with
 * their labels, for org.crisk.Schema (fit, training matrix and features from a file) and
 * org.crisk.Bundle (scoring a file).
 * It reads through the library's public declaration reader (crisk/reader.h, the one
 * `crisk fit` uses), so Java and the CLI read a file alike. Included into the Java
 * wrapper's C code only.
 *
 * For Schema, unlike `crisk fit`, which reports rejected rows and goes on, a rejected row
 * fails the read, naming its line: Schema is strict, as the Python binding's is. For
 * Bundle, as for `crisk score`, every rejected row is kept with its line and reason.
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

/* A rejected row: its 1-based line, its 0-based position among the file's rows (kept
 * and rejected, in file order), and the reader's reason. */
typedef struct decl_file_rejected {
    uint64_t line;
    size_t row;
    char reason[sizeof ((crisk_error *)0)->message];
} decl_file_rejected;

/* A file's declarations: the batch (made for the schema the file was read with), one
 * label per row when a label column was asked for (else `labels` is NULL), and the
 * rejected rows when they are kept (`keep`; else the first one stops the reading). */
typedef struct decl_file {
    crisk_batch *batch;
    float *labels;
    size_t n;
    int keep;
    decl_file_rejected *rejects;
    size_t num_rejects, cap_rejects;
} decl_file;

/* Reject callback (`ctx` is the decl_file): keeps the row and goes on when the file keeps
 * its rejects, else records it as the first and stops the reading. */
static int decl_file_reject(void *ctx, const crisk_decl_reject *reject)
{
    decl_file *file = ctx;
    if (file->num_rejects == file->cap_rejects) {
        size_t cap = file->cap_rejects ? 2 * file->cap_rejects : 16;
        decl_file_rejected *grown = realloc(file->rejects, cap * sizeof *grown);
        if (!grown)
            return CRISK_E_NOMEM;
        file->rejects = grown;
        file->cap_rejects = cap;
    }
    decl_file_rejected *r = &file->rejects[file->num_rejects++];
    r->line = reject->line;
    r->row = crisk_batch_size(file->batch) + file->num_rejects - 1; /* rows appended so far */
    snprintf(r->reason, sizeof r->reason, "%s", reject->reason);
    return file->keep ? 0 : CRISK_E_INPUT;
}

/* Frees a file's batch, labels and rejects. NULL is a no-op. */
static void decl_file_free(decl_file *file)
{
    if (file) {
        crisk_batch_free(file->batch);
        free(file->labels);
        free(file->rejects);
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
    size_t cap = 0;
    for (size_t got = 1; rc == 0 && got > 0;) {
        rc = crisk_decl_read(reader, file->batch, DECL_FILE_CHUNK, chunk, decl_file_reject,
                             file, &got, err);
        if (rc == 0 && label[0])
            rc = decl_file_add_labels(file, &cap, chunk, got, err);
        if (rc == 0)
            file->n += got;
    }
    if (rc == CRISK_E_INPUT && !file->keep && file->num_rejects)
        rc = crisk_error_set(err, CRISK_E_INPUT, "%s line %llu: %s", path,
                             (unsigned long long)file->rejects[0].line,
                             file->rejects[0].reason);
    else if (rc == CRISK_E_NOMEM && file->num_rejects == file->cap_rejects)
        rc = crisk_error_set(err, CRISK_E_NOMEM, "%s: out of memory for %zu rejected rows",
                             path, file->num_rejects);
    free(chunk);
    crisk_decl_free(reader);
    return rc;
}

/* Reads the declarations of the CSV or JSON Lines file at `path` (by its extension:
 * .csv, .jsonl or .ndjson) for `schema`, with the labels of column `label` unless it is
 * empty, keeping the rejected rows when `keep` is non-zero (else the first one fails the
 * read). Returns the file's rows, or NULL with `err` filled. */
static decl_file *decl_file_open_read(const crisk_schema *schema, const char *path,
                                      const char *label, int keep, crisk_error *err)
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
    if (file)
        file->keep = keep;
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

/* As decl_file_open_read, strict (a rejected row fails the read): for Schema. */
static decl_file *decl_file_read(const crisk_schema *schema, const char *path,
                                 const char *label, crisk_error *err)
{
    return decl_file_open_read(schema, path, label, 0, err);
}

/* As decl_file_open_read without labels, keeping every rejected row: for Bundle. */
static decl_file *decl_file_read_all(const crisk_schema *schema, const char *path,
                                     crisk_error *err)
{
    return decl_file_open_read(schema, path, "", 1, err);
}

/* Returns the number of rejected rows kept. */
static size_t decl_file_num_rejects(const decl_file *file)
{
    return file->num_rejects;
}

/* Returns the i-th rejected row (i < decl_file_num_rejects): its line, its position among
 * the file's rows, its reason. */
static uint64_t decl_file_reject_line(const decl_file *file, size_t i)
{
    return file->rejects[i].line;
}

static size_t decl_file_reject_row(const decl_file *file, size_t i)
{
    return file->rejects[i].row;
}

static const char *decl_file_reject_reason(const decl_file *file, size_t i)
{
    return file->rejects[i].reason;
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
