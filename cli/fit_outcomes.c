/*
 * fit_outcomes.c — labels for `crisk fit --outcomes O [--decisions D]`: what inspections
 * found, joined by declaration id to the declarations being fitted (and to the decisions
 * that selected them, for propensity weights), with every outcome that cannot be used
 * reported by line, and the labelled rows copied into the batch that is fitted.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_decision_selected(const char *reason)
{
    return strncmp(reason, "default lane ", 13) != 0;
}

/* Records, per outcome, the propensity its declaration had under the logged policy
 * (from `crisk score`'s output at `path`), or -1 when the policy did not select it
 * (reported: its outcome is not used, since its chance of inspection is not the logged
 * one). Returns 0, or 1 after reporting. */
static int read_decisions(cli_fit_labels *l, const char *path, const char *outcomes_path)
{
    FILE *f;
    crisk_csv_reader *r;
    crisk_error err;
    if (cli_open_csv(path, &f, &r) != 0)
        return 1;
    const char **v;
    size_t nv;
    long cp = -1, cr = -1;
    int got = crisk_csv_next(r, &v, &nv, &err), rc = 0;
    if (got == 1) {
        cp = cli_csv_column(v, nv, "propensity");
        cr = cli_csv_column(v, nv, "reason");
    }
    if (got != 1 || cp < 0 || cr < 0) {
        cli_report(path, "line 1: the header needs propensity and reason (a crisk score "
                   "output)");
        rc = 1;
    }
    while (rc == 0 && (got = crisk_csv_next(r, &v, &nv, &err)) == 1) {
        char *end;
        double p = (size_t)cp < nv ? strtod(v[cp], &end) : NAN;
        if ((size_t)cr >= nv || (size_t)cp >= nv || *end || !(p >= 0 && p <= 1)) {
            fprintf(stderr, "crisk: %s: line %zu: a bad propensity or no reason\n", path,
                    crisk_csv_line(r));
            rc = 1;
            break;
        }
        long k = crisk_outcomes_find(l->outcomes, v[0], strlen(v[0]));
        if (k < 0)
            continue;
        if (!cli_decision_selected(v[cr])) {
            fprintf(stderr, "crisk: %s: line %zu: declaration %.64s was not selected by "
                    "the logged policy: outcome not used\n", outcomes_path,
                    crisk_outcomes_line(l->outcomes, (size_t)k), v[0]);
            l->rejected++;
            p = -1;
        }
        l->pi[k] = p;
    }
    if (rc == 0 && got < 0) {
        cli_report(path, err.message);
        rc = 1;
    }
    crisk_csv_free(r);
    fclose(f);
    return rc;
}

int cli_fit_labels_open(cli_fit_labels *l, const char *outcomes, const char *decisions)
{
    crisk_error err;
    memset(l, 0, sizeof *l);
    l->path = outcomes;
    if (crisk_outcomes_read(outcomes, &l->outcomes, &err) != 0) {
        cli_report(outcomes, err.message);
        return 1;
    }
    for (size_t k = 0; k < crisk_outcomes_num_rejects(l->outcomes); k++)
        fprintf(stderr, "crisk: %s: line %zu: %s\n", outcomes,
                crisk_outcomes_reject_line(l->outcomes, k),
                crisk_outcomes_reject_reason(l->outcomes, k));
    size_t n = crisk_outcomes_size(l->outcomes);
    l->pi = malloc((n ? n : 1) * sizeof *l->pi);
    l->used = calloc(n ? n : 1, 1);
    if (!l->pi || !l->used) {
        cli_report(outcomes, "out of memory");
        return 1;
    }
    /* Without decisions every outcome stands alone (weight 1); with them, an outcome
     * whose declaration they do not list is reported when the join ends. */
    for (size_t k = 0; k < n; k++)
        l->pi[k] = decisions ? NAN : 1;
    return decisions ? read_decisions(l, decisions, outcomes) : 0;
}

int cli_fit_labels_get(cli_fit_labels *l, const char *id, size_t len, float *label,
                       float *weight)
{
    long k = id ? crisk_outcomes_find(l->outcomes, id, len) : -1;
    if (k < 0 || !(l->pi[k] > 0)) /* no outcome, not in the decisions, not selected */
        return 0;
    l->used[k] = 1;
    *label = crisk_outcomes_result(l->outcomes, (size_t)k) > CRISK_OUTCOME_NONE;
    *weight = (float)(1 / l->pi[k]);
    return 1;
}

size_t cli_fit_labels_finish(cli_fit_labels *l)
{
    size_t unused = l->rejected;
    for (size_t k = 0; k < crisk_outcomes_size(l->outcomes); k++) {
        if (l->used[k] || l->pi[k] < 0 || crisk_outcomes_result(l->outcomes, k) < 0)
            continue;
        size_t len;
        const char *id = crisk_outcomes_id(l->outcomes, k, &len);
        fprintf(stderr, "crisk: %s: line %zu: declaration %.*s is %s: outcome not used\n",
                l->path, crisk_outcomes_line(l->outcomes, k), (int)(len > 64 ? 64 : len), id,
                isnan(l->pi[k]) ? "not in the decisions" : "not among the declarations");
        unused++;
    }
    return unused;
}

void cli_fit_labels_close(cli_fit_labels *l)
{
    crisk_outcomes_free(l->outcomes);
    free(l->pi);
    free(l->used);
}

/* Bytes a number or a date is written back in. */
#define VALUE_BYTES 40

int cli_batch_copy_row(crisk_batch *dst, const crisk_batch *src, size_t row, crisk_error *err)
{
    const crisk_schema *schema = crisk_batch_schema(src);
    size_t nf = crisk_schema_num_fields(schema) + 1;
    const char **values = malloc(nf * sizeof *values);
    size_t *lengths = malloc(nf * sizeof *lengths);
    char *text = malloc(nf * VALUE_BYTES);
    int rc = values && lengths && text ? 0 : crisk_error_set(err, CRISK_E_NOMEM,
                                                             "out of memory for a row");
    for (size_t f = 0; rc == 0 && f + 1 < nf; f++) {
        crisk_field_type type = crisk_schema_field_type(schema, f);
        char *buf = text + f * VALUE_BYTES;
        values[f] = buf;
        if (type == CRISK_FIELD_STRING || type == CRISK_FIELD_HS_CODE) {
            values[f] = crisk_batch_text(src, row, f, &lengths[f]);
            continue;
        }
        double v = crisk_batch_number(src, row, f);
        time_t t = (time_t)v * 86400;
        struct tm tm;
        if (isnan(v))
            lengths[f] = 0;
        else if (type == CRISK_FIELD_DATE) /* days since 1970-01-01, written back as ISO */
            lengths[f] = gmtime_r(&t, &tm) ? strftime(buf, VALUE_BYTES, "%Y-%m-%d", &tm) : 0;
        else /* %.17g reads back to the same double */
            lengths[f] = (size_t)snprintf(buf, VALUE_BYTES, "%.17g", v);
    }
    if (rc == 0)
        rc = crisk_batch_append_text(dst, values, lengths, crisk_batch_source_line(src, row),
                                     err);
    free(values);
    free(lengths);
    free(text);
    return rc;
}
