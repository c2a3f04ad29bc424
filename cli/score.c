/*
 * score.c — `crisk score`: reads declarations (CSV or JSON Lines) batch by batch, scores
 * each batch with a bundle, and writes one record per declaration: id, each model's
 * score, lane, reason and profile hits; rejected rows go to a rejects file.
 */
#include "cli.h"

#include "bundle.h"
#include "error.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Declarations per batch unless --batch-rows says otherwise. */
#define DEFAULT_BATCH_ROWS 8192

/* What the command line asks of `crisk score`. */
typedef struct score_args {
    const char *bundle, *input, *output, *rejects, *threads, *state, *batch_rows, *format,
        *input_format;
    int jsonl_out, timings;
    size_t batch;
    int threads_n;
} score_args;

/* Parses and checks the command line into `a`. Returns 0, CLI_HELP or CLI_EXIT_USAGE. */
static int parse(int argc, char **argv, score_args *a)
{
    memset(a, 0, sizeof *a);
    const cli_option opts[] = {
        {"--bundle", &a->bundle, NULL},         {"--input", &a->input, NULL},
        {"--output", &a->output, NULL},         {"--rejects", &a->rejects, NULL},
        {"--threads", &a->threads, NULL},       {"--state", &a->state, NULL},
        {"--batch-rows", &a->batch_rows, NULL}, {"--format", &a->format, NULL},
        {"--input-format", &a->input_format, NULL}, {"--timings", NULL, &a->timings},
    };
    int rc = cli_parse_args("score", argc, argv, opts, sizeof opts / sizeof opts[0]);
    if (rc)
        return rc;
    if (!a->bundle || !a->input) {
        fprintf(stderr, "crisk score: --bundle and --input are required (see 'crisk help')\n");
        return CLI_EXIT_USAGE;
    }
    crisk_decl_format out = a->output ? cli_decl_format(a->output, a->format)
                                      : (a->format ? cli_decl_format("-", a->format)
                                                   : CRISK_DECL_CSV);
    if (!out) {
        fprintf(stderr, "crisk score: cannot tell the output format: name the output .csv "
                        "or .jsonl, or give --format csv|jsonl\n");
        return CLI_EXIT_USAGE;
    }
    a->jsonl_out = out == CRISK_DECL_JSONL;
    long v;
    a->threads_n = 1;
    if (a->threads) {
        if ((rc = cli_parse_int("--threads", a->threads, 0, INT_MAX, &v)) != 0)
            return rc;
        a->threads_n = (int)v;
    }
    a->batch = DEFAULT_BATCH_ROWS;
    if (a->batch_rows) {
        if ((rc = cli_parse_int("--batch-rows", a->batch_rows, 1, 1L << 24, &v)) != 0)
            return rc;
        a->batch = (size_t)v;
    }
    return 0;
}

/* Writes the output header (CSV only): id, one column per model, lane, reason, hits. */
static void write_header(FILE *out, const crisk_bundle *bundle)
{
    cli_write_csv_text(out, cli_id_name(crisk_bundle_schema(bundle)),
                       strlen(cli_id_name(crisk_bundle_schema(bundle))));
    for (size_t m = 0; m < crisk_bundle_num_models(bundle); m++) {
        const char *name = crisk_bundle_model_name(bundle, m);
        fputc(',', out);
        cli_write_csv_text(out, name, strlen(name));
    }
    fputs(",lane,reason,hits\n", out);
}

/* Writes the record of row `row` as a CSV line. */
static void write_csv_record(FILE *out, const crisk_bundle *bundle, const crisk_batch *batch,
                             const crisk_results *res, size_t row, const char *reason)
{
    char idbuf[CLI_ID_BYTES];
    size_t len = 0;
    const char *id = cli_batch_id(batch, row, idbuf, &len);
    if (id)
        cli_write_csv_text(out, id, len);
    for (size_t m = 0; m < crisk_bundle_num_models(bundle); m++) {
        float s = crisk_results_score(res, row, m);
        char num[CLI_FLOAT_BYTES];
        putc_unlocked(',', out);
        if (!isnan(s))
            fwrite(num, 1, cli_format_float(s, num), out);
    }
    const char *lane = crisk_bundle_lane_name(bundle, crisk_results_lane(res, row));
    putc_unlocked(',', out);
    cli_write_csv_text(out, lane, strlen(lane));
    putc_unlocked(',', out);
    cli_write_csv_text(out, reason, strlen(reason));
    putc_unlocked(',', out);
    /* Hit ids joined by ';', quoted as one field when any needs it. */
    size_t hits = crisk_results_num_hits(res, row);
    int quote = 0;
    for (size_t k = 0; k < hits; k++)
        quote |= strpbrk(crisk_results_hit_id(res, row, k), ",\"\r\n") != NULL;
    if (quote)
        putc_unlocked('"', out);
    for (size_t k = 0; k < hits; k++) {
        const char *hit = crisk_results_hit_id(res, row, k);
        if (k)
            putc_unlocked(';', out);
        for (; *hit; hit++) {
            if (*hit == '"')
                putc_unlocked('"', out);
            putc_unlocked(*hit, out);
        }
    }
    if (quote)
        putc_unlocked('"', out);
    putc_unlocked('\n', out);
}

/* Writes the record of row `row` as a JSON object on one line; hits is an array of ids. */
static void write_json_record(FILE *out, const crisk_bundle *bundle,
                              const crisk_batch *batch, const crisk_results *res, size_t row,
                              const char *reason)
{
    char idbuf[CLI_ID_BYTES];
    size_t len = 0;
    const char *idname = cli_id_name(crisk_bundle_schema(bundle));
    const char *id = cli_batch_id(batch, row, idbuf, &len);
    fputc('{', out);
    cli_write_json_text(out, idname, strlen(idname));
    fputc(':', out);
    if (id)
        cli_write_json_text(out, id, len);
    else
        fputs("null", out);
    for (size_t m = 0; m < crisk_bundle_num_models(bundle); m++) {
        const char *name = crisk_bundle_model_name(bundle, m);
        float s = crisk_results_score(res, row, m);
        fputc(',', out);
        cli_write_json_text(out, name, strlen(name));
        char num[CLI_FLOAT_BYTES];
        fputc(':', out);
        if (isnan(s))
            fputs("null", out);
        else
            fwrite(num, 1, cli_format_float(s, num), out);
    }
    const char *lane = crisk_bundle_lane_name(bundle, crisk_results_lane(res, row));
    fputs(",\"lane\":", out);
    cli_write_json_text(out, lane, strlen(lane));
    fputs(",\"reason\":", out);
    cli_write_json_text(out, reason, strlen(reason));
    fputs(",\"hits\":[", out);
    for (size_t k = 0; k < crisk_results_num_hits(res, row); k++) {
        const char *hit = crisk_results_hit_id(res, row, k);
        if (k)
            fputc(',', out);
        cli_write_json_text(out, hit, strlen(hit));
    }
    fputs("]}\n", out);
}

/* Wall and CPU time of the stages of `crisk score`, in seconds (--timings). */
typedef struct score_timings {
    bundle_clock read, output;
    bundle_timings scoring;
} score_timings;

/* Prints the stage times `t` to stderr: one line of wall times, one of CPU times. */
static void print_timings(const score_timings *t)
{
    const bundle_timings *s = &t->scoring;
    const bundle_clock *c[] = {&t->read, &s->features, &s->models, &s->profiles, &s->lanes,
                               &t->output};
    for (int cpu = 0; cpu <= 1; cpu++) {
        double v[6];
        for (int i = 0; i < 6; i++)
            v[i] = cpu ? c[i]->cpu : c[i]->wall;
        fprintf(stderr, "timings (%s s): read %.6f, features %.6f, models %.6f, profiles "
                "%.6f, lanes %.6f, output %.6f\n", cpu ? "cpu" : "wall", v[0], v[1], v[2],
                v[3], v[4], v[5]);
    }
}

/* Reads, scores and writes every batch of the input, adding each stage's wall time to
 * `*t`. Returns 0 or a negative crisk code with `err` filled. */
static int score_all(const crisk_bundle *bundle, cli_decl_input *in, cli_rejects *rejects,
                     const score_args *a, crisk_lane_state *state, FILE *out,
                     score_timings *t, crisk_error *err)
{
    crisk_batch *batch = NULL;
    int rc = crisk_batch_new(crisk_bundle_schema(bundle), &batch, err);
    crisk_score_options opts;
    crisk_score_options_init(&opts);
    opts.threads = a->threads_n;
    opts.stream = state;
    if (rc == 0 && !a->jsonl_out)
        write_header(out, bundle);
    while (rc == 0) {
        size_t n;
        crisk_batch_clear(batch);
        bundle_clock mark = bundle_clock_now();
        rc = crisk_decl_read(in->reader, batch, a->batch, NULL, cli_rejects_write, rejects,
                             &n, err);
        bundle_clock_lap(&t->read, &mark);
        if (rc || n == 0)
            break;
        crisk_results *res = NULL;
        rc = crisk_bundle_score_timed(bundle, batch, &opts, &res, &t->scoring, err);
        if (rc) {
            char where[96];
            snprintf(where, sizeof where, "the declarations of lines %llu to %llu",
                     (unsigned long long)crisk_batch_source_line(batch, 0),
                     (unsigned long long)crisk_batch_source_line(batch, n - 1));
            crisk_fail_prefix(err, rc, where);
            break;
        }
        mark = bundle_clock_now();
        for (size_t i = 0; i < n; i++) {
            char reason[256];
            crisk_results_reason(res, i, reason, sizeof reason);
            if (a->jsonl_out)
                write_json_record(out, bundle, batch, res, i, reason);
            else
                write_csv_record(out, bundle, batch, res, i, reason);
        }
        crisk_results_free(res);
        bundle_clock_lap(&t->output, &mark);
    }
    crisk_batch_free(batch);
    return rc;
}

/* Loads the streaming state from `path` when the file exists, else makes a fresh one.
 * Returns it, or NULL after reporting. */
static crisk_lane_state *open_state(const crisk_bundle *bundle, const char *path)
{
    crisk_lane_state *state = NULL;
    crisk_error err;
    struct stat st;
    int rc = stat(path, &st) == 0 ? crisk_lane_state_load(bundle, path, &state, &err)
                                  : crisk_lane_state_new(bundle, &state, &err);
    if (rc) {
        cli_report(path, err.message);
        return NULL;
    }
    return state;
}

/* Runs `crisk score`; returns the exit code. */
int cli_score(int argc, char **argv)
{
    score_args a;
    int rc = parse(argc, argv, &a);
    if (rc == CLI_HELP) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    crisk_error err;
    crisk_bundle *bundle = NULL;
    if (crisk_bundle_load(a.bundle, NULL, &bundle, &err) != 0) {
        cli_report(a.bundle, err.message);
        return CLI_EXIT_FAILURE;
    }
    int status = CLI_EXIT_FAILURE;
    crisk_lane_state *state = NULL;
    cli_rejects rejects = {NULL, NULL, 0};
    FILE *out = NULL;
    cli_decl_input in;
    rc = cli_decl_input_open(&in, a.input, a.input_format, crisk_bundle_schema(bundle), NULL,
                             0);
    if (rc) {
        status = rc;
        goto done;
    }
    if (a.state && !(state = open_state(bundle, a.state)))
        goto done;
    if (cli_rejects_open(&rejects, a.rejects) != 0)
        goto done;
    out = a.output ? fopen(a.output, "w") : stdout;
    if (!out) {
        cli_report(a.output, strerror(errno));
        goto done;
    }
    score_timings timings;
    memset(&timings, 0, sizeof timings);
    rc = score_all(bundle, &in, &rejects, &a, state, out, &timings, &err);
    if (rc)
        cli_report(in.name, err.message);
    if (rc == 0 && state && crisk_lane_state_save(state, a.state, &err) != 0) {
        cli_report(a.state, err.message);
        rc = -1;
    }
    bundle_clock mark = bundle_clock_now();
    int written = cli_finish_output(out, a.output ? a.output : "stdout") == 0;
    bundle_clock_lap(&timings.output, &mark);
    if (a.timings)
        print_timings(&timings);
    written &= cli_rejects_close(&rejects) == 0;
    if (written && rc == 0) {
        cli_decl_summary(&in, "scored");
        status = CLI_EXIT_OK;
    } else if (a.output) {
        remove(a.output); /* no half-written results left behind */
    }
done:
    cli_rejects_close(&rejects);
    cli_decl_input_close(&in);
    crisk_lane_state_free(state);
    crisk_bundle_free(bundle);
    return status;
}
