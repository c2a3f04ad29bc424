/*
 * policy/reasons.c — reason codes for declarations: the bundle score model's exact
 * contributions for a whole batch (one call, with the explainer the bundle keeps for its
 * score model), grouped back onto the declaration fields each feature derives from, and
 * the top K fields per declaration kept with their values.
 *
 * Grouping (docs/bundle.md, "Reason codes"): a feature derived from one field counts
 * toward that field; a feature derived from several distinct fields (a ratio, a risk
 * feature on a composite key) splits its contribution equally among them. So every
 * field's contribution is a share of the model's, and the fields' contributions plus the
 * bias sum to the margin: the top K reasons + bias + the rest (the fields beyond K) =
 * margin.
 */
#include "policy/bundle_impl.h"

#include "decl/batch.h"
#include "decl/schema.h"
#include "common/error.h"
#include "common/grow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The fields one model column derives from. */
typedef struct column_fields {
    size_t field[CRISK__FEATURE_MAX_FIELDS];
    size_t n;
} column_fields;

/* Scratch of one call, freed together. */
typedef struct reason_scratch {
    column_fields *cols_fields;  /* per model column */
    size_t *model_fields;        /* the distinct fields the model sees */
    size_t num_model_fields;
    double *sum;                 /* per schema field: the row's grouped contribution,
                                    zero between rows */
    double *top;                 /* the row's top contributions, in double */
    float *cols;                 /* gathered model columns, kept rows */
    size_t *rows;                /* batch row of each kept row (NULL: every row) */
    float *contribs;             /* kept rows * (columns + 1) */
    size_t text_cap;             /* capacity of res->reason_text */
} reason_scratch;

/* Frees what a scratch holds. */
static void scratch_free(reason_scratch *s)
{
    free(s->cols_fields);
    free(s->model_fields);
    free(s->sum);
    free(s->top);
    free(s->cols);
    free(s->rows);
    free(s->contribs);
}

/* Returns 1 when field `a` of grouped contribution `ca` ranks before field `b` of `cb`:
 * the larger absolute contribution first, the lower field index on a tie, so that the
 * order is deterministic. */
static int ranks_before(double ca, size_t a, double cb, size_t b)
{
    return fabs(ca) > fabs(cb) || (fabs(ca) == fabs(cb) && a < b);
}

/* Fills the per-column field lists of model `m` and the distinct fields they cover.
 * Returns 0 or CRISK_E_NOMEM. */
static int map_fields(const crisk_schema *schema, const crisk__bundle_model *m, size_t nfields,
                      reason_scratch *s, crisk_error *err)
{
    char *seen = calloc(nfields ? nfields : 1, 1);
    if (!seen)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    for (size_t c = 0; c < m->num_columns; c++) {
        column_fields *cf = &s->cols_fields[c];
        cf->n = crisk__schema_feature_fields(schema, m->columns[c], cf->field);
        for (size_t i = 0; i < cf->n; i++)
            if (!seen[cf->field[i]]) {
                seen[cf->field[i]] = 1;
                s->model_fields[s->num_model_fields++] = cf->field[i];
            }
    }
    free(seen);
    return 0;
}

/* Appends the value of field `field` of batch row `row` to the results' text, NUL-
 * terminated, and stores its offset in `*off`. Returns 0 or CRISK_E_NOMEM. */
static int push_value(crisk_results *res, const crisk_batch *batch, size_t row, size_t field,
                      size_t *used, reason_scratch *s, size_t *off, crisk_error *err)
{
    size_t len = crisk__batch_value_text(batch, row, field, NULL, 0);
    if (crisk__grow((void **)&res->reason_text, &s->text_cap, *used + len + 1, 1, 4096))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for reason values");
    crisk__batch_value_text(batch, row, field, res->reason_text + *used, len + 1);
    *off = *used;
    *used += len + 1;
    return 0;
}

/* Groups the contributions `c` (columns then bias) of batch row `row` onto fields and
 * stores its top reasons, bias and rest in `res`. */
static int explain_row(const crisk__bundle_model *m, const crisk_batch *batch, size_t row,
                       const float *c, reason_scratch *s, size_t *used, crisk_results *res,
                       crisk_error *err)
{
    size_t slots = res->reason_slots, kept = 0;
    uint32_t *top = res->reason_field + row * slots;
    float *topc = res->reason_contrib + row * slots;
    for (size_t col = 0; col < m->num_columns; col++) {
        const column_fields *cf = &s->cols_fields[col];
        double share = (double)c[col] / (double)cf->n;
        for (size_t i = 0; i < cf->n; i++)
            s->sum[cf->field[i]] += share;
    }
    double total = 0, in_top = 0;
    for (size_t i = 0; i < s->num_model_fields; i++) {
        size_t f = s->model_fields[i];
        double v = s->sum[f];
        s->sum[f] = 0;
        total += v;
        if (v == 0 || (kept == slots && !ranks_before(v, f, s->top[kept - 1], top[kept - 1])))
            continue;
        /* Insert into the sorted top list, dropping its last entry when full. */
        size_t at = kept < slots ? kept++ : kept - 1;
        while (at > 0 && ranks_before(v, f, s->top[at - 1], top[at - 1])) {
            top[at] = top[at - 1];
            s->top[at] = s->top[at - 1];
            at--;
        }
        top[at] = (uint32_t)f;
        s->top[at] = v;
    }
    for (size_t k = 0; k < kept; k++) {
        topc[k] = (float)s->top[k];
        in_top += s->top[k];
    }
    res->num_reasons[row] = (uint32_t)kept;
    res->explain_bias[row] = c[m->num_columns];
    res->explain_rest[row] = (float)(total - in_top);
    for (size_t k = 0; k < kept; k++) {
        int rc = push_value(res, batch, row, top[k], used, s,
                            &res->reason_value[row * slots + k], err);
        if (rc)
            return rc;
    }
    return 0;
}

int crisk__reasons_compute(const crisk_bundle *b, const crisk_batch *batch,
                           const float *features, size_t nf, unsigned k,
                           const crisk_predict_options *popts, crisk_results *res,
                           crisk_error *err)
{
    if (b->score_model < 0)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "explain: the policy names no "
                           "score_model whose score reasons could explain");
    const crisk__bundle_model *m = &b->models[b->score_model];
    if (crisk_model_num_margins(m->model) != 1)
        return crisk__fail(err, CRISK_E_UNSUPPORTED, "explain: score model %s has %zu "
                           "margins; reasons need a one-margin model", m->name,
                           crisk_model_num_margins(m->model));
    size_t n = res->size, nc = m->num_columns, nfields = crisk_schema_num_fields(b->schema);
    size_t slots = k < nfields ? k : nfields, rows1 = n ? n : 1;
    if (nc + 1 > SIZE_MAX / sizeof(float) / rows1 || slots > SIZE_MAX / sizeof(size_t) / rows1)
        return crisk__fail(err, CRISK_E_LIMIT, "explain: %zu declarations of %zu features "
                           "overflow memory", n, nc);
    reason_scratch s = {0};
    s.cols_fields = malloc(nc * sizeof *s.cols_fields);
    s.model_fields = malloc((nfields ? nfields : 1) * sizeof *s.model_fields);
    s.sum = calloc(nfields ? nfields : 1, sizeof *s.sum);
    s.top = malloc((slots ? slots : 1) * sizeof *s.top);
    s.cols = malloc(rows1 * nc * sizeof *s.cols);
    s.rows = m->rejects_missing ? malloc(rows1 * sizeof *s.rows) : NULL;
    s.contribs = malloc(rows1 * (nc + 1) * sizeof *s.contribs);
    res->reason_slots = slots;
    res->num_reasons = calloc(rows1, sizeof *res->num_reasons);
    res->reason_field = malloc(rows1 * (slots ? slots : 1) * sizeof *res->reason_field);
    res->reason_contrib = malloc(rows1 * (slots ? slots : 1) * sizeof *res->reason_contrib);
    res->reason_value = malloc(rows1 * (slots ? slots : 1) * sizeof *res->reason_value);
    res->explain_bias = malloc(rows1 * sizeof *res->explain_bias);
    res->explain_rest = malloc(rows1 * sizeof *res->explain_rest);
    int rc = 0;
    if (!s.cols_fields || !s.model_fields || !s.sum || !s.top || !s.cols || (m->rejects_missing
        && !s.rows) || !s.contribs || !res->num_reasons || !res->reason_field
        || !res->reason_contrib || !res->reason_value || !res->explain_bias
        || !res->explain_rest)
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for the reasons of %zu "
                         "declarations", n);
    size_t kept = 0, used = 0;
    if (rc == 0)
        rc = map_fields(b->schema, m, nfields, &s, err);
    if (rc == 0) {
        for (size_t r = 0; r < n; r++)
            res->explain_bias[r] = res->explain_rest[r] = NAN;
        /* A model refusing missing values explains only the rows it scored. */
        kept = crisk__bundle_gather(m, features, n, nf, s.cols, s.rows);
        rc = crisk__contributions_cached(m->model, b->score_shap, s.cols, kept, nc, popts,
                                         s.contribs, err);
        if (rc)
            crisk__fail_prefix(err, rc, m->name);
    }
    for (size_t i = 0; rc == 0 && i < kept; i++)
        rc = explain_row(m, batch, s.rows ? s.rows[i] : i, s.contribs + i * (nc + 1), &s,
                         &used, res, err);
    scratch_free(&s);
    return rc;
}
