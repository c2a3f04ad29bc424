/*
 * bench/declaration.c — crisk-bench's one-declaration row: a clearance system's call, the
 * text fields of one declaration in and its lane out (crisk_batch_append_text, then
 * crisk_bundle_score with a streaming lane state, one declaration a call), timed per call.
 */
#include "bench.h"

#include "crisk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The declarations as text, one value per schema field in field order. */
typedef struct decl_rows {
    size_t n, nfields;
    char **values;       /* n x nfields strings (NULL: the column is absent) */
    size_t *lengths;     /* n x nfields */
} decl_rows;

/* Returns a copy of `s` (of `len` bytes), or exits. */
static char *copy_text(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (!c)
        die("out of memory", NULL);
    memcpy(c, s, len);
    c[len] = '\0';
    return c;
}

/* Maps each schema field to its column of `header` (-1: absent) into `col`. */
static void map_columns(const crisk_schema *s, const char **header, size_t ncols, long *col)
{
    for (size_t f = 0; f < crisk_schema_num_fields(s); f++) {
        col[f] = -1;
        for (size_t c = 0; c < ncols; c++)
            if (strcmp(header[c], crisk_schema_field_name(s, f)) == 0)
                col[f] = (long)c;
    }
}

/* Reads every record of the CSV at `path` into `rows`, in schema field order. */
static void read_rows(const char *path, const crisk_schema *s, decl_rows *rows)
{
    FILE *f = fopen(path, "rb");
    crisk_csv_reader *rd;
    crisk_error err;
    if (!f)
        die("cannot open the declarations", path);
    if (crisk_csv_open(f, NULL, &rd, &err) != 0)
        die("crisk_csv_open", err.message);
    size_t F = crisk_schema_num_fields(s), ncols, cap = 0;
    const char **fields;
    long *col = malloc(F * sizeof *col);
    if (!col || crisk_csv_next(rd, &fields, &ncols, &err) != 1)
        die("cannot read the header of", path);
    map_columns(s, fields, ncols, col);
    *rows = (decl_rows){.nfields = F};
    int rc;
    while ((rc = crisk_csv_next(rd, &fields, &ncols, &err)) == 1) {
        if (rows->n == cap) {
            cap = cap ? 2 * cap : 1024;
            rows->values = realloc(rows->values, cap * F * sizeof *rows->values);
            rows->lengths = realloc(rows->lengths, cap * F * sizeof *rows->lengths);
            if (!rows->values || !rows->lengths)
                die("out of memory", NULL);
        }
        const size_t *len = crisk_csv_lengths(rd);
        for (size_t k = 0; k < F; k++) {
            size_t i = rows->n * F + k;
            int present = col[k] >= 0 && (size_t)col[k] < ncols;
            rows->values[i] = present ? copy_text(fields[col[k]], len[col[k]]) : NULL;
            rows->lengths[i] = present ? len[col[k]] : 0;
        }
        rows->n++;
    }
    if (rc < 0)
        die("crisk_csv_next", err.message);
    crisk_csv_free(rd);
    fclose(f);
    free(col);
    if (rows->n == 0)
        die("no declarations in", path);
}

/* Appends row `i` of `rows` to `batch`, or exits naming the rejected row. */
static void append_row(crisk_batch *batch, const decl_rows *rows, size_t i)
{
    crisk_error err;
    if (crisk_batch_append_text(batch, (const char *const *)rows->values + i * rows->nfields,
                                rows->lengths + i * rows->nfields, i + 2, &err) != 0)
        die("a declaration of the bench input is rejected", err.message);
}

/* Scores `batch` with a streaming `state` and returns the results, or exits. */
static crisk_results *score(const crisk_bundle *b, const crisk_batch *batch,
                            crisk_lane_state *state)
{
    crisk_score_options o;
    crisk_score_options_init(&o, CRISK_SCORE_OPTIONS_VERSION);
    o.stream = state;
    crisk_results *res;
    crisk_error err;
    if (crisk_bundle_score(b, batch, &o, &res, &err) != 0)
        die("crisk_bundle_score", err.message);
    return res;
}

/* Returns a fresh streaming state for `b`, or exits. */
static crisk_lane_state *new_state(const crisk_bundle *b)
{
    crisk_lane_state *st;
    crisk_error err;
    if (crisk_lane_state_new(b, &st, &err) != 0)
        die("crisk_lane_state_new", err.message);
    return st;
}

/* Counts the declarations whose lane, decided one a call with a fresh state, differs from
 * the lane of the whole input scored as one batch with another fresh state: the streaming
 * policy decides in order either way, so both must agree. */
static size_t lanes_differing(const crisk_bundle *b, const decl_rows *rows, crisk_batch *batch)
{
    crisk_lane_state *whole_state = new_state(b), *one_state = new_state(b);
    crisk_batch_clear(batch);
    for (size_t i = 0; i < rows->n; i++)
        append_row(batch, rows, i);
    crisk_results *whole = score(b, batch, whole_state);
    size_t differ = 0;
    for (size_t i = 0; i < rows->n; i++) {
        crisk_batch_clear(batch);
        append_row(batch, rows, i);
        crisk_results *one = score(b, batch, one_state);
        differ += crisk_results_lane(one, 0) != crisk_results_lane(whole, i);
        crisk_results_free(one);
    }
    crisk_results_free(whole);
    crisk_lane_state_free(whole_state);
    crisk_lane_state_free(one_state);
    return differ;
}

void bench_declaration(const char *bundle_dir, const char *csv_path, size_t calls, int runs,
                       decl_latency *r)
{
    crisk_bundle *b;
    crisk_batch *batch;
    crisk_error err;
    if (crisk_bundle_load(bundle_dir, NULL, &b, &err) != 0)
        die("crisk_bundle_load", err.message);
    if (crisk_batch_new(crisk_bundle_schema(b), &batch, &err) != 0)
        die("crisk_batch_new", err.message);
    decl_rows rows;
    read_rows(csv_path, crisk_bundle_schema(b), &rows);
    *r = (decl_latency){.declarations = rows.n, .calls = calls};
    r->lanes_differing = lanes_differing(b, &rows, batch);

    crisk_lane_state *state = new_state(b);
    double *lat = malloc(calls * sizeof *lat), *p50 = malloc(2 * (size_t)runs * sizeof *p50);
    double *p99 = p50 + runs;
    if (!lat || !p50)
        die("out of memory", NULL);
    for (int run = 0; run < runs; run++) {
        for (size_t c = 0; c < calls; c++) {
            double t0 = wall();
            crisk_batch_clear(batch);
            append_row(batch, &rows, c % rows.n);
            crisk_results *res = score(b, batch, state);
            size_t lane = crisk_results_lane(res, 0);
            crisk_results_free(res);
            lat[c] = (wall() - t0) * 1e6;
            if (lane >= crisk_bundle_num_lanes(b))
                die("a declaration got no lane", NULL);
        }
        p50[run] = quantile(lat, calls, 0.5);
        p99[run] = quantile(lat, calls, 0.99);
    }
    r->p50 = quantile(p50, (size_t)runs, 0.5);
    r->p99 = quantile(p99, (size_t)runs, 0.5);
    free(lat);
    free(p50);
    for (size_t i = 0; i < rows.n * rows.nfields; i++)
        free(rows.values[i]);
    free(rows.values);
    free(rows.lengths);
    crisk_lane_state_free(state);
    crisk_batch_free(batch);
    crisk_bundle_free(b);
}
