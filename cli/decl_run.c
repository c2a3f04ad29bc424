/*
 * decl_run.c — the set-up that `crisk score`, `crisk fit` and `crisk evaluate` share:
 * their common options, the bundle or schema, the declarations file with its rejects and
 * border sensor events (read in batches by decl_batches.c), and the arrays that keep a
 * value for every row read.
 */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Most options a declaration command takes: its own and the shared ones. */
#define MAX_OPTIONS 32

/* Builds the option table (required ones first, as "A, B and C are required" names them)
 * and parses the words against it; then --threads. */
int cli_decl_cmd_parse(cli_decl_cmd *c, cli_decl_source source, const char *command,
                       int argc, char **argv, const cli_option *own, size_t nown,
                       size_t nrequired, long max_threads)
{
    memset(c, 0, sizeof *c);
    c->source = source;
    c->threads = 1;
    const char *threads_text = NULL;
    const cli_option shared[] = {
        CLI_DECL_RUN_OPTIONS(&c->run), {"--threads", &threads_text, NULL},
    };
    /* A schema command scores nothing: it has no --threads. */
    size_t nshared = CLI_NOPTS(shared) - (source == CLI_FROM_SCHEMA);
    cli_option opts[MAX_OPTIONS] = {
        {source == CLI_FROM_BUNDLE ? "--bundle" : "--schema", &c->path, NULL},
        {"--input", &c->run.input, NULL},
    };
    size_t n = 2;
    if (n + nown + nshared > MAX_OPTIONS) { /* a command's table outgrew MAX_OPTIONS */
        fprintf(stderr, "crisk %s: internal error: more than %d options\n", command,
                MAX_OPTIONS);
        return CLI_EXIT_FAILURE;
    }
    for (size_t i = 0; i < nown; i++)
        opts[n++] = own[i];
    for (size_t i = 0; i < nshared; i++)
        opts[n++] = shared[i];
    int rc = cli_parse_args(command, argc, argv, opts, n, 2 + nrequired);
    if (rc)
        return rc;
    long threads = c->threads;
    rc = cli_parse_int("--threads", threads_text, 0, max_threads, &threads);
    c->threads = (int)threads;
    /* The input's format is part of the command line: checked before anything loads. */
    if (rc == 0 && !(c->run.input_format = cli_input_format(c->run.input, c->run.format)))
        rc = CLI_EXIT_USAGE;
    return rc;
}

int cli_decl_cmd_load(cli_decl_cmd *c)
{
    if (c->source == CLI_FROM_BUNDLE) {
        if (!(c->bundle = cli_load_bundle(c->path)))
            return CLI_EXIT_FAILURE;
        c->schema = crisk_bundle_schema(c->bundle);
        return 0;
    }
    crisk_error err;
    if (crisk_schema_load(c->path, &c->own_schema, &err) != 0) {
        cli_report(c->path, err.message);
        return CLI_EXIT_FAILURE;
    }
    c->schema = c->own_schema;
    return 0;
}

int cli_decl_cmd_open(cli_decl_cmd *c, const crisk_decl_extra *extras, size_t num_extras)
{
    cli_decl_run *r = &c->run;
    int rc = cli_decl_input_open(&r->in, r->input, r->input_format, c->schema, extras,
                                 num_extras);
    if (rc == 0)
        rc = cli_events_open(&r->events);
    if (rc == 0)
        cli_progress_start(&r->progress, r->quiet, r->in.f);
    return rc ? rc : cli_rejects_open(&r->rejects, r->rejects_path);
}

int cli_decl_cmd_finish(cli_decl_cmd *c, const char *verb)
{
    if (cli_rejects_close(&c->run.rejects) != 0)
        return -1;
    cli_decl_run_progress(&c->run, 1);
    cli_decl_summary(&c->run.in, verb);
    return 0;
}

void cli_decl_cmd_close(cli_decl_cmd *c)
{
    cli_rejects_close(&c->run.rejects);
    cli_decl_input_close(&c->run.in);
    cli_events_close(&c->run.events);
    crisk_bundle_free(c->bundle);
    crisk_schema_free(c->own_schema);
}

void cli_decl_run_progress(cli_decl_run *r, int final)
{
    cli_progress_update(&r->progress, crisk_decl_rows_read(r->in.reader, NULL), final);
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
        crisk_error_set(err, CRISK_E_NOMEM, "out of memory for %zu %s", grown_cap, what);
        return NULL;
    }
    *cap = grown_cap;
    return grown;
}
