/*
 * decl_batches.c — the batches `crisk score`, `evaluate`, `monitor` and `report` score:
 * read one batch ahead, so that a last batch too small for the policy's budget (fewer
 * declarations than crisk_bundle_min_batch) joins the batch before it instead of failing
 * the run; each batch's events are joined once it is whole.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cli_decl_batches_init(cli_decl_batches *b, const crisk_bundle *bundle,
                          const crisk_score_options *opts, size_t rows, size_t num_extras,
                          crisk_error *err)
{
    memset(b, 0, sizeof *b);
    /* A lane state decides one declaration at a time: any batch size will do. */
    b->min_rows = opts->stream ? 1 : crisk_bundle_min_batch(bundle);
    b->rows = rows;
    b->num_extras = num_extras;
    int rc = crisk_batch_new(crisk_bundle_schema(bundle), &b->now.batch, err);
    return rc ? rc : crisk_batch_new(crisk_bundle_schema(bundle), &b->ahead.batch, err);
}

void cli_decl_batches_free(cli_decl_batches *b)
{
    crisk_batch_free(b->now.batch);
    crisk_batch_free(b->ahead.batch);
    free(b->now.extras);
    free(b->ahead.extras);
}

/* Makes `s->extras` hold `rows` rows of extras. Returns 0 or CRISK_E_NOMEM. */
static int extras_room(const cli_decl_batches *b, cli_batch_slot *s, size_t rows,
                       crisk_error *err)
{
    if (!b->num_extras)
        return 0;
    double *grown = cli_grow(s->extras, &s->extras_cap, rows * b->num_extras,
                             sizeof *grown, 1024, "extra values", err);
    if (!grown)
        return CRISK_E_NOMEM;
    s->extras = grown;
    return 0;
}

/* Reads declarations into `s` until it holds `want` or the input ends, at most b->rows
 * per read, so that the extras grow with the rows read rather than with `want`. */
static int fill(cli_decl_run *r, const cli_decl_batches *b, cli_batch_slot *s, size_t want,
                crisk_error *err)
{
    while (s->n < want) {
        size_t max = want - s->n < b->rows ? want - s->n : b->rows, got = 0;
        int rc = extras_room(b, s, s->n + max, err);
        if (rc == 0)
            rc = crisk_decl_read(r->in.reader, s->batch, max,
                                 s->extras ? s->extras + s->n * b->num_extras : NULL,
                                 cli_rejects_write, &r->rejects, &got, err);
        s->n += got;
        if (rc || got < max) /* fewer than asked: the input ended */
            return rc;
    }
    return 0;
}

/* Appends the rows read ahead, and their extras, to the current batch. */
static int join_ahead(cli_decl_batches *b, crisk_error *err)
{
    cli_batch_slot *now = &b->now, *ahead = &b->ahead;
    int rc = extras_room(b, now, now->n + ahead->n, err);
    if (rc == 0)
        rc = crisk_batch_append_rows(now->batch, ahead->batch, 0, ahead->n, err);
    if (rc)
        return rc;
    if (b->num_extras)
        memcpy(now->extras + now->n * b->num_extras, ahead->extras,
               ahead->n * b->num_extras * sizeof *now->extras);
    now->n += ahead->n;
    ahead->n = 0;
    crisk_batch_clear(ahead->batch);
    return 0;
}

int cli_decl_run_next(cli_decl_run *r, cli_decl_batches *b, size_t *n, crisk_error *err)
{
    /* The batch read ahead, if any, becomes the current one; the last one is emptied. */
    cli_batch_slot done = b->now;
    b->now = b->ahead;
    b->ahead = done;
    b->ahead.n = 0;
    crisk_batch_clear(b->ahead.batch);
    size_t whole = b->rows > b->min_rows ? b->rows : b->min_rows;
    int rc = b->now.n ? 0 : fill(r, b, &b->now, whole, err);
    /* A whole batch may be followed by a tail smaller than the budget takes: read the
     * next batch now, and join it to this one when it is such a tail. */
    if (rc == 0 && b->min_rows > 1 && b->now.n == whole &&
        (rc = fill(r, b, &b->ahead, whole, err)) == 0 && b->ahead.n &&
        b->ahead.n < b->min_rows)
        rc = join_ahead(b, err);
    *n = rc ? 0 : b->now.n;
    if (rc || *n == 0)
        return rc;
    cli_decl_run_progress(r, 0);
    return cli_events_attach(&r->events, crisk_batch_schema(b->now.batch), b->now.batch, err);
}
