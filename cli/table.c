/*
 * table.c — reading cases from CSV: the header's columns matched to the model's
 * features, then rows parsed into float batches, streaming through the CSV reader.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cli_table {
    crisk_csv_reader *csv;
    const crisk_model *model; /* re-codes the cells of features storing categories */
    size_t num_features;
    size_t num_columns;   /* fields in the header, and so in every row */
    long *column_feature; /* per column: the feature it fills, or -1 (ignored) */
    char **column_name;   /* per column: its header text, for messages */
};

/* A stored feature name and its index, sorted by name to match header columns. */
typedef struct named_feature {
    const char *name;
    size_t index;
} named_feature;

/* Orders named_features by name (qsort and bsearch). */
static int compare_named(const void *a, const void *b)
{
    return strcmp(((const named_feature *)a)->name, ((const named_feature *)b)->name);
}

/* Maps header columns to features by name. Returns 0 or a negative code. */
static int map_by_name(cli_table *t, const crisk_model *model, int ignore_extra,
                       crisk_error *err)
{
    size_t F = t->num_features;
    named_feature *sorted = malloc((F ? F : 1) * sizeof *sorted);
    size_t *column_of = calloc(F ? F : 1, sizeof *column_of); /* 1-based; 0 = none yet */
    int rc = 0;
    if (!sorted || !column_of) {
        rc = crisk_error_set(err, CRISK_E_NOMEM, "out of memory for %zu feature names", F);
        goto done;
    }
    for (size_t j = 0; j < F; j++) {
        sorted[j].name = crisk_model_feature_name(model, j);
        sorted[j].index = j;
    }
    qsort(sorted, F, sizeof *sorted, compare_named);
    for (size_t c = 0; c < t->num_columns && rc == 0; c++) {
        named_feature key = {t->column_name[c], 0};
        const named_feature *hit = bsearch(&key, sorted, F, sizeof *sorted, compare_named);
        if (!hit) {
            if (!ignore_extra)
                rc = crisk_error_set(err, CRISK_E_INPUT,
                                "line 1, column %zu: \"%s\" is not a feature of the model "
                                "(--ignore-extra skips such columns)",
                                c + 1, t->column_name[c]);
        } else if (column_of[hit->index]) {
            rc = crisk_error_set(err, CRISK_E_INPUT,
                            "line 1, column %zu: feature \"%s\" already has column %zu", c + 1,
                            hit->name, column_of[hit->index]);
        } else {
            column_of[hit->index] = c + 1;
            t->column_feature[c] = (long)hit->index;
        }
    }
    for (size_t j = 0; j < F && rc == 0; j++)
        if (!column_of[j])
            rc = crisk_error_set(err, CRISK_E_INPUT,
                            "line 1: the header has no column for feature \"%s\" "
                            "(feature %zu of the model's %zu)",
                            crisk_model_feature_name(model, j), j, F);
done:
    free(sorted);
    free(column_of);
    return rc;
}

/* Reads the header row, keeps its names and maps its columns. Returns 0 or a negative
 * code. */
static int read_header(cli_table *t, const crisk_model *model, int ignore_extra,
                       crisk_error *err)
{
    const char **fields;
    size_t n;
    int rc = crisk_csv_next(t->csv, &fields, &n, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return crisk_error_set(err, CRISK_E_INPUT,
                               "the input is empty: a header row of feature "
                                              "names is needed");
    t->column_feature = malloc(n * sizeof *t->column_feature);
    t->column_name = calloc(n, sizeof *t->column_name);
    if (!t->column_feature || !t->column_name)
        return crisk_error_set(err, CRISK_E_NOMEM, "out of memory for %zu columns", n);
    t->num_columns = n;
    for (size_t c = 0; c < n; c++) {
        t->column_name[c] = strdup(fields[c]);
        if (!t->column_name[c])
            return crisk_error_set(err, CRISK_E_NOMEM, "out of memory for the header");
        t->column_feature[c] = -1;
    }
    if (t->num_features > 0 && crisk_model_feature_name(model, 0))
        return map_by_name(t, model, ignore_extra, err);
    if (n != t->num_features)
        return crisk_error_set(err, CRISK_E_SHAPE,
                          "line 1: the header has %zu columns but the model takes %zu "
                          "features (and stores no feature names to match them by)",
                          n, t->num_features);
    for (size_t c = 0; c < n; c++)
        t->column_feature[c] = (long)c;
    return 0;
}

/* Opens the CSV reader, reads the header and maps it; returns 0 or a negative code. */
int cli_table_open(FILE *f, const crisk_model *model, int ignore_extra, cli_table **out,
                   crisk_error *err)
{
    *out = NULL;
    cli_table *t = calloc(1, sizeof *t);
    if (!t)
        return crisk_error_set(err, CRISK_E_NOMEM, "out of memory for a table");
    t->model = model;
    t->num_features = crisk_model_num_features(model);
    /* Room for wide models' rows: a generous 64 bytes per cell beyond the default. */
    crisk_csv_options opts;
    crisk_csv_options_init(&opts, CRISK_CSV_OPTIONS_VERSION);
    if (t->num_features < ((size_t)-1 - opts.max_record_bytes) / 64)
        opts.max_record_bytes += 64 * t->num_features;
    int rc = crisk_csv_open(f, &opts, &t->csv, err);
    if (rc == 0)
        rc = read_header(t, model, ignore_extra, err);
    if (rc) {
        cli_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* Frees the table's column map and CSV reader; NULL is a no-op. */
void cli_table_free(cli_table *table)
{
    if (!table)
        return;
    if (table->column_name)
        for (size_t c = 0; c < table->num_columns; c++)
            free(table->column_name[c]);
    free(table->column_name);
    free(table->column_feature);
    crisk_csv_free(table->csv);
    free(table);
}

/* Returns whether `c` is a blank that may surround a number. */
static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses one cell into `*out`: NaN for a missing value (an empty or blank cell, NA, NaN in
 * any case), else a decimal number. Returns 0, or -1 when the cell is neither. */
static int parse_cell(const char *cell, float *out)
{
    while (is_blank(*cell))
        cell++;
    size_t len = strlen(cell);
    while (len > 0 && is_blank(cell[len - 1]))
        len--;
    if (len == 0 || (len == 2 && strncasecmp(cell, "NA", 2) == 0) ||
        (len == 3 && strncasecmp(cell, "NaN", 3) == 0)) {
        *out = NAN;
        return 0;
    }
    double v;
    if (crisk_number_parse(cell, len, &v, NULL) != 0)
        return -1;
    /* Through double, as numpy and pandas read a CSV before a float32 model sees it. */
    *out = (float)v;
    return 0;
}

/* Re-codes the cell of feature `f`, which stores category values, by value: a stored value
 * is its code (even "NA" when the model stores it: Namibia's country code); any other
 * missing cell is NaN; any other value gets what the model's library gives a category it
 * never saw (crisk_model_category_code: XGBoost refuses it). Returns 0 or a negative
 * code with `err` holding the library's message. */
static int category_cell(const crisk_model *model, size_t f, const char *cell, float *out,
                         crisk_error *err)
{
    int rc = crisk_model_category_code(model, f, cell, strlen(cell), out, err);
    if (rc == 0 && !isnan(*out))
        return 0;
    float missing;
    if (parse_cell(cell, &missing) == 0 && isnan(missing)) {
        *out = NAN;
        return 0;
    }
    return rc;
}

/* Parses up to `max_rows` rows into `rows`; returns 0 or a negative code. */
int cli_table_read(cli_table *t, float *rows, size_t max_rows, size_t *nrows,
                   size_t *first_line, size_t *last_line, crisk_error *err)
{
    size_t F = t->num_features;
    *nrows = 0;
    while (*nrows < max_rows) {
        const char **fields;
        size_t n;
        int rc = crisk_csv_next(t->csv, &fields, &n, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        size_t line = crisk_csv_line(t->csv);
        if (*nrows == 0)
            *first_line = line;
        *last_line = line;
        if (n != t->num_columns)
            return crisk_error_set(err, CRISK_E_INPUT,
                              "line %zu: %zu fields, but the header has %zu columns", line, n,
                              t->num_columns);
        float *row = rows + *nrows * F;
        for (size_t j = 0; j < F; j++)
            row[j] = NAN;
        for (size_t c = 0; c < n; c++) {
            if (t->column_feature[c] < 0)
                continue;
            size_t f = (size_t)t->column_feature[c];
            crisk_error why;
            if (crisk_model_num_categories(t->model, f) > 0) {
                if (category_cell(t->model, f, fields[c], &row[f], &why) != 0)
                    return crisk_error_set(err, why.code, "line %zu, column %zu (\"%s\"): %s",
                                           line, c + 1, t->column_name[c], why.message);
            } else if (parse_cell(fields[c], &row[f]) != 0)
                return crisk_error_set(err, CRISK_E_INPUT,
                                  "line %zu, column %zu (\"%s\"): \"%.64s\" is not a number",
                                  line, c + 1, t->column_name[c], fields[c]);
        }
        (*nrows)++;
    }
    return 0;
}
