/*
 * decl_run.c — the input side that `crisk score`, `crisk fit` and `crisk evaluate` share:
 * the declarations file, its rejects and its border sensor events, opened and closed
 * together, read batch by batch with the events joined, and the arrays that keep a value
 * for every row read.
 */
#include "cli.h"

#include "common/error.h"

#include <stdlib.h>

/* Opens the declaration input at `r->input` for `schema`, with the extra columns
 * `extras`. Returns 0, CLI_EXIT_USAGE or CLI_EXIT_FAILURE after reporting. */
int cli_decl_run_open(cli_decl_run *r, const crisk_schema *schema,
                      const crisk_decl_extra *extras, size_t num_extras)
{
    return cli_decl_input_open(&r->in, r->input, r->format, schema, extras, num_extras);
}

/* Loads the device keys of the events, then opens the rejects file. Returns 0,
 * CLI_EXIT_USAGE or CLI_EXIT_FAILURE after reporting. */
int cli_decl_run_prepare(cli_decl_run *r)
{
    int rc = cli_events_open(&r->events);
    return rc ? rc : cli_rejects_open(&r->rejects, r->rejects_path);
}

/* Clears `batch`, reads up to `max_rows` declarations into it (their extra columns into
 * `extras`, which may be NULL without extras; bad rows to the rejects), stores how many
 * in `*n` (0 at the end of the input) and joins their events. Returns 0 or a negative
 * crisk code with `err` filled. */
int cli_decl_run_next(cli_decl_run *r, const crisk_schema *schema, crisk_batch *batch,
                      size_t max_rows, double *extras, size_t *n, crisk_error *err)
{
    crisk_batch_clear(batch);
    int rc = crisk_decl_read(r->in.reader, batch, max_rows, extras, cli_rejects_write,
                             &r->rejects, n, err);
    if (rc || *n == 0)
        return rc;
    return cli_events_attach(&r->events, schema, batch, err);
}

/* Closes the rejects file, the input and the events. */
void cli_decl_run_close(cli_decl_run *r)
{
    cli_rejects_close(&r->rejects);
    cli_decl_input_close(&r->in);
    cli_events_close(&r->events);
}

/* Returns `array` (of `*cap` elements of `size` bytes, NULL when `*cap` is 0) grown to
 * hold at least `need`: doubled from `first` until it does. Returns NULL with `err` naming
 * `what` when out of memory (`array` is then unchanged). */
void *cli_grow(void *array, size_t *cap, size_t need, size_t size, size_t first,
               const char *what, crisk_error *err)
{
    if (need <= *cap)
        return array;
    size_t grown_cap = *cap ? *cap * 2 : first;
    while (grown_cap < need && grown_cap <= (size_t)-1 / 2)
        grown_cap *= 2;
    void *grown = grown_cap >= need && grown_cap <= (size_t)-1 / size
                      ? realloc(array, grown_cap * size)
                      : NULL;
    if (!grown) {
        crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu %s", grown_cap, what);
        return NULL;
    }
    *cap = grown_cap;
    return grown;
}
