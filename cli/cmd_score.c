/*
 * cmd_score.c — `crisk score`: reads declarations (CSV or JSON Lines) batch by batch,
 * scores each batch with a bundle, and writes one record per declaration: id, each model's
 * outputs (every class of a multi-class model), lane, reason and profile hits, and with
 * --explain K the hits' descriptions and the top K reason codes; rejected rows go to a
 * rejects file.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Declarations per batch unless --batch-rows says otherwise. */
#define DEFAULT_BATCH_ROWS 8192

/* Most reasons --explain may ask for per declaration (each is a CSV column). */
#define MAX_EXPLAIN 1000

/* What the command line asks of `crisk score`. */
typedef struct score_args {
    const char *output, *state, *batch_rows, *format, *explain;
    int jsonl_out, timings;
    unsigned explain_k;
    size_t batch;
    cli_decl_cmd cmd;
    cli_score_audit audit;
} score_args;

/* Returns the output format: --format's, else the --output file's extension's, else CSV;
 * 0 after reporting when that is not csv or jsonl. */
static crisk_decl_format output_format(const score_args *a)
{
    if (a->format)
        return cli_format_named("--format", a->format);
    crisk_decl_format out = a->output ? cli_decl_format(a->output) : CRISK_DECL_CSV;
    if (!out)
        fprintf(stderr, "crisk score: cannot tell the output format: name the output .csv "
                        "or .jsonl, or give --format csv|jsonl\n");
    return out;
}

/* Parses and checks the command line into `a`. Returns 0, CLI_HELP or CLI_EXIT_USAGE. */
static int parse(int argc, char **argv, score_args *a)
{
    memset(a, 0, sizeof *a);
    const cli_option opts[] = {
        {"--output", &a->output, NULL},         {"--state", &a->state, NULL},
        {"--batch-rows", &a->batch_rows, NULL}, {"--format", &a->format, NULL},
        {"--explain", &a->explain, NULL},       {"--timings", NULL, &a->timings},
        CLI_SCORE_AUDIT_OPTIONS(&a->audit),
    };
    int rc = cli_decl_cmd_parse(&a->cmd, CLI_FROM_BUNDLE, "score", argc, argv, opts,
                                CLI_NOPTS(opts), 0, INT_MAX);
    if (rc)
        return rc;
    crisk_decl_format out = output_format(a);
    if (!out)
        return CLI_EXIT_USAGE;
    a->jsonl_out = out == CRISK_DECL_JSONL;
    long explain = 0, batch = DEFAULT_BATCH_ROWS;
    if ((rc = cli_parse_int("--explain", a->explain, 0, MAX_EXPLAIN, &explain)) != 0 ||
        (rc = cli_parse_int("--batch-rows", a->batch_rows, 1, 1L << 24, &batch)) != 0)
        return rc;
    a->explain_k = (unsigned)explain;
    a->batch = (size_t)batch;
    return 0;
}

/* Writes the output header (CSV only): id, with --protect-ids the personal fields, one
 * column per model output (cli_scores_header), lane, reason, hits, propensity, and with
 * `explain` > 0
 * hit_descriptions and reason_1 .. reason_<explain>. Returns 0, or -1 when out of
 * memory. */
static int write_header(FILE *out, const crisk_bundle *bundle, unsigned explain,
                        const cli_score_audit *priv)
{
    cli_write_csv_text(out, cli_id_name(crisk_bundle_schema(bundle)),
                       strlen(cli_id_name(crisk_bundle_schema(bundle))));
    cli_personal_header(out, priv, crisk_bundle_schema(bundle));
    if (cli_scores_header(out, bundle) != 0)
        return -1;
    fputs(",lane,reason,hits,propensity", out);
    if (explain)
        fputs(",hit_descriptions", out);
    for (unsigned k = 1; k <= explain; k++)
        fprintf(out, ",reason_%u", k);
    fputc('\n', out);
    return 0;
}

/* Appends `text` to the dynamic buffer `*buf` (length `*len`, capacity `*cap`). Returns
 * 0, or -1 when out of memory. */
static int append(char **buf, size_t *len, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n + 1)
            c *= 2;
        char *p = realloc(*buf, c);
        if (!p)
            return -1;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, text, n + 1);
    *len += n;
    return 0;
}

/* Returns reason `k`'s value of row `row` as --protect-ids / --drop-ids let it show (the
 * keyed hash, in `hash`, or NULL when dropped). */
static const char *reason_value(const crisk_bundle *bundle, const crisk_results *res,
                                size_t row, size_t k, const cli_score_audit *priv,
                                char *hash)
{
    const crisk_schema *schema = crisk_bundle_schema(bundle);
    const char *value = crisk_results_reason_value(res, row, k);
    size_t len = strlen(value);
    long field = crisk_schema_field_index(schema, crisk_results_reason_field(res, row, k));
    return len ? cli_personal_text(priv, schema, field, value, &len, hash) : value;
}

/* Writes the explain columns of row `row` as CSV cells, each after a comma: the hits as
 * "P-001: description; P-002: ..." and `explain` reason cells "field=value (+0.42)" (a
 * missing value shows as "(missing)", a dropped personal one as "(dropped)"; cells
 * beyond the row's reasons are empty).
 * `scratch` is a reusable buffer. Returns 0, or -1 when out of memory. */
static int write_csv_explain(FILE *out, const crisk_bundle *bundle, const crisk_results *res,
                             size_t row, unsigned explain, const cli_score_audit *priv,
                             char **scratch, size_t *cap)
{
    size_t len = 0;
    char hash[2 * CRISK_PROTECTED_ID_BYTES + 1];
    int rc = append(scratch, &len, cap, "");
    for (size_t k = 0; rc == 0 && k < crisk_results_num_hits(res, row); k++) {
        const char *desc = crisk_results_hit_description(res, row, k);
        rc |= append(scratch, &len, cap, k ? "; " : "");
        rc |= append(scratch, &len, cap, crisk_results_hit_id(res, row, k));
        if (desc && desc[0]) {
            rc |= append(scratch, &len, cap, ": ");
            rc |= append(scratch, &len, cap, desc);
        }
    }
    if (rc)
        return -1;
    fputc(',', out);
    cli_write_csv_text(out, *scratch, len);
    for (unsigned k = 0; k < explain; k++) {
        fputc(',', out);
        if (k >= crisk_results_num_reasons(res, row))
            continue;
        const char *value = reason_value(bundle, res, row, k, priv, hash);
        char num[32];
        snprintf(num, sizeof num, " (%+.3g)",
                 (double)crisk_results_reason_contribution(res, row, k));
        len = 0;
        rc = append(scratch, &len, cap, crisk_results_reason_field(res, row, k));
        rc |= append(scratch, &len, cap, "=");
        rc |= append(scratch, &len, cap, !value ? "(dropped)" : value[0] ? value : "(missing)");
        rc |= append(scratch, &len, cap, num);
        if (rc)
            return -1;
        cli_write_csv_text(out, *scratch, len);
    }
    return 0;
}

/* Writes the record of row `row` as a CSV line (with `explain` > 0, the explain cells
 * too, built in `scratch`; the propensity through `memo`). Returns 0, or -1 when out of
 * memory. */
static int write_csv_record(FILE *out, const crisk_bundle *bundle, const crisk_batch *batch,
                            const crisk_results *res, size_t row, const char *reason,
                            unsigned explain, const cli_score_audit *priv, char **scratch,
                            size_t *cap, cli_g9_memo *memo)
{
    char idbuf[CLI_ID_BYTES];
    size_t len = 0;
    const char *id = cli_batch_id(batch, row, idbuf, &len);
    if (id)
        cli_write_csv_text(out, id, len);
    if (cli_personal_write(out, priv, batch, row, 0) != 0)
        return -1;
    cli_scores_csv(out, bundle, res, row);
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
    putc_unlocked(',', out);
    cli_write_g9(out, crisk_results_propensity(res, row), memo);
    if (explain && write_csv_explain(out, bundle, res, row, explain, priv, scratch, cap) != 0)
        return -1;
    putc_unlocked('\n', out);
    return 0;
}

/* Writes the explain members of row `row`: "hit_descriptions" (an array of {id,
 * description}), "reasons" (an array of {field, value, contribution}; a missing value is
 * null), and the "explain_bias" and "explain_rest" that complete the sum to the score
 * model's margin. */
static void write_json_explain(FILE *out, const crisk_bundle *bundle,
                               const crisk_results *res, size_t row,
                               const cli_score_audit *priv)
{
    char hash[2 * CRISK_PROTECTED_ID_BYTES + 1];
    fputs(",\"hit_descriptions\":[", out);
    for (size_t k = 0; k < crisk_results_num_hits(res, row); k++) {
        const char *id = crisk_results_hit_id(res, row, k);
        const char *desc = crisk_results_hit_description(res, row, k);
        fputs(k ? ",{\"id\":" : "{\"id\":", out);
        cli_write_json_text(out, id, strlen(id));
        fputs(",\"description\":", out);
        cli_write_json_text(out, desc ? desc : "", desc ? strlen(desc) : 0);
        fputc('}', out);
    }
    fputs("],\"reasons\":[", out);
    for (size_t k = 0; k < crisk_results_num_reasons(res, row); k++) {
        const char *field = crisk_results_reason_field(res, row, k);
        const char *value = reason_value(bundle, res, row, k, priv, hash);
        fputs(k ? ",{\"field\":" : "{\"field\":", out);
        cli_write_json_text(out, field, strlen(field));
        fputs(",\"value\":", out);
        if (value && value[0])
            cli_write_json_text(out, value, strlen(value));
        else
            fputs("null", out);
        fputs(",\"contribution\":", out);
        cli_write_json_float(out, crisk_results_reason_contribution(res, row, k));
        fputc('}', out);
    }
    fputs("],\"explain_bias\":", out);
    cli_write_json_float(out, crisk_results_explain_bias(res, row));
    fputs(",\"explain_rest\":", out);
    cli_write_json_float(out, crisk_results_explain_rest(res, row));
}

/* Writes the record of row `row` as a JSON object on one line: a member per model (a
 * number, or an array of one per class for a multi-class model); hits is an array of ids;
 * with --protect-ids a "personal_hmac" object follows the id; with `explain` > 0 the
 * explain members follow. Returns 0, or -1 when out of memory. */
static int write_json_record(FILE *out, const crisk_bundle *bundle,
                             const crisk_batch *batch, const crisk_results *res, size_t row,
                             const char *reason, unsigned explain,
                             const cli_score_audit *priv, cli_g9_memo *memo)
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
    if (cli_personal_member(out, priv, batch, row) != 0)
        return -1;
    for (size_t m = 0; m < crisk_bundle_num_models(bundle); m++) {
        const char *name = crisk_bundle_model_name(bundle, m);
        fputc(',', out);
        cli_write_json_text(out, name, strlen(name));
        fputc(':', out);
        cli_scores_json(out, bundle, res, row, m);
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
    fputs("],\"propensity\":", out);
    cli_write_g9(out, crisk_results_propensity(res, row), memo);
    if (explain)
        write_json_explain(out, bundle, res, row, priv);
    fputs("}\n", out);
    return 0;
}

/* Wall and CPU time of the stages of `crisk score`, in seconds (--timings). */
typedef struct score_timings {
    crisk_clock read, output;
    crisk_bundle_timings scoring;
} score_timings;

/* Prints the stage times `t` to stderr: one line of wall times, one of CPU times. */
static void print_timings(const score_timings *t)
{
    const crisk_bundle_timings *s = &t->scoring;
    const crisk_clock *c[] = {&t->read, &s->features, &s->models, &s->profiles, &s->lanes,
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

/* Fills `err` for a batch of `n` declarations that did not reach the output `path` (NULL:
 * stdout) and so was not logged. Returns CRISK_E_IO. */
static int undelivered(crisk_error *err, const char *path, const crisk_batch *batch,
                       size_t n)
{
    return crisk_error_set(err, CRISK_E_IO, "%s: %s: the decisions of lines %llu to %llu "
                           "were not delivered, nor logged", path ? path : "stdout",
                           errno ? strerror(errno) : "write error",
                           (unsigned long long)crisk_batch_source_line(batch, 0),
                           (unsigned long long)crisk_batch_source_line(batch, n - 1));
}

/* One worker's batch (with the events joined to it), its results and scoring times. */
typedef struct score_slot {
    crisk_batch *batch;
    crisk_events *events;
    size_t n;
    crisk_results *res;
    crisk_bundle_timings scoring;
    char *scratch; /* explain cells (write_csv_explain) */
    size_t cap;
    cli_g9_memo memo; /* the last propensities written */
    char *text;       /* the batch's records, formatted for the writing turn */
    size_t text_len, text_cap;
    crisk_clock output; /* formatting time, summed into the run's output time */
} score_slot;

/* What the stages of a run share. */
typedef struct score_run {
    const crisk_bundle *bundle;
    score_args *a;
    crisk_score_options opts;
    cli_decl_batches batches;
    cli_output *output;
    score_timings *t;
} score_run;

/* Reads the next batch into slot `s` (pipeline read stage): the batch read becomes the
 * slot's, with its events, and the slot's last one goes back to be read into. */
static int read_batch(void *ctx, void *slot, size_t *n, crisk_error *err)
{
    score_run *run = ctx;
    score_slot *s = slot;
    cli_decl_run *r = &run->a->cmd.run;
    crisk_clock mark = crisk_clock_now();
    int rc = cli_decl_run_next(r, &run->batches, n, err);
    crisk_clock_lap(&run->t->read, &mark); /* the events joined count as reading */
    if (rc || *n == 0)
        return rc;
    crisk_batch *done = s->batch;
    s->batch = run->batches.now.batch;
    run->batches.now.batch = done;
    s->n = *n;
    s->events = r->events.current; /* the slot's until written: the next read loads more */
    r->events.current = NULL;
    return 0;
}

/* Scores slot `s`'s batch (pipeline work stage). */
static int score_batch(void *ctx, void *slot, crisk_error *err)
{
    score_run *run = ctx;
    score_slot *s = slot;
    int rc = crisk_bundle_score_timed(run->bundle, s->batch, &run->opts, &s->res, &s->scoring,
                                      err);
    if (rc) {
        char where[96];
        snprintf(where, sizeof where, "the declarations of lines %llu to %llu",
                 (unsigned long long)crisk_batch_source_line(s->batch, 0),
                 (unsigned long long)crisk_batch_source_line(s->batch, s->n - 1));
        cli_fail_prefix(err, rc, where);
    }
    return rc;
}

/* Writes slot `s`'s records to `out`; returns 0, or -1 when out of memory. */
static int format_records(const score_run *run, score_slot *s, FILE *out)
{
    const score_args *a = run->a;
    for (size_t i = 0; i < s->n; i++) {
        char reason[256];
        crisk_results_reason(s->res, i, reason, sizeof reason);
        if (a->jsonl_out ? write_json_record(out, run->bundle, s->batch, s->res, i, reason,
                                             a->explain_k, &a->audit, &s->memo)
                         : write_csv_record(out, run->bundle, s->batch, s->res, i, reason,
                                            a->explain_k, &a->audit, &s->scratch, &s->cap,
                                            &s->memo))
            return -1;
    }
    return 0;
}

/* Formats slot `s`'s records into s->text (pipeline format stage, in parallel: the
 * writing turn then only copies them out). A stream over the slot's buffer (fmemopen:
 * buffered as a file is, where open_memstream's writes cost several times more); a
 * batch that outgrows the buffer is formatted again into one twice its size. */
static int format_batch(void *ctx, void *slot, crisk_error *err)
{
    score_run *run = ctx;
    score_slot *s = slot;
    crisk_clock mark = crisk_clock_now();
    int rc = 0;
    size_t want = s->text_cap ? s->text_cap : 4096 + 128 * s->n;
    for (;;) {
        if (want > s->text_cap) {
            char *grown = realloc(s->text, want);
            if (!grown) {
                rc = -1;
                break;
            }
            s->text = grown;
            s->text_cap = want;
        }
        FILE *out = fmemopen(s->text, s->text_cap, "w");
        if (!out) {
            rc = -1;
            break;
        }
        rc = format_records(run, s, out);
        long end = rc == 0 && fflush(out) == 0 && !ferror(out) ? ftell(out) : -1;
        fclose(out);
        /* Full: the last byte is kept for the NUL fmemopen writes after the text. */
        if (rc || (end >= 0 && (size_t)end < s->text_cap - 1)) {
            s->text_len = rc ? 0 : (size_t)end;
            break;
        }
        if (s->text_cap > SIZE_MAX / 2) {
            rc = -1;
            break;
        }
        want = 2 * s->text_cap;
    }
    crisk_clock_lap(&s->output, &mark);
    return rc ? crisk_error_set(err, CRISK_E_NOMEM, "out of memory formatting the records "
                                "of lines %llu to %llu",
                                (unsigned long long)crisk_batch_source_line(s->batch, 0),
                                (unsigned long long)crisk_batch_source_line(s->batch, s->n - 1))
              : 0;
}

/* Writes slot `s`'s formatted records, delivers them and logs them (pipeline write
 * stage); frees its results and events. */
static int write_batch(void *ctx, void *slot, crisk_error *err)
{
    score_run *run = ctx;
    score_slot *s = slot;
    score_args *a = run->a;
    crisk_clock mark = crisk_clock_now();
    fwrite(s->text, 1, s->text_len, run->output->f);
    int rc = 0;
    /* A decision reaches its output before its log entry. Rejected rows never reach
     * here: they are not decisions and are not logged. */
    if (a->audit.log && cli_output_deliver(run->output) != 0)
        rc = undelivered(err, a->output, s->batch, s->n);
    if (rc == 0)
        rc = cli_score_audit_batch(&a->audit, run->bundle, s->batch, s->res, err);
    crisk_results_free(s->res);
    s->res = NULL;
    crisk_events_free(s->events);
    s->events = NULL;
    crisk_clock_lap(&run->t->output, &mark);
    return rc;
}

/* Most workers a run starts: each holds a batch, and more than the cores only wait. */
#define MAX_WORKERS 256

/* Returns how many workers --threads asks for (0: one per core). */
static size_t workers_of(int threads)
{
    long n = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (size_t)n;
}

/* Reads, scores and writes every batch of the input with --threads workers, each scoring
 * whole batches on one thread, in input order when a lane state decides them; adds each
 * stage's time to `*t` (summed over the workers). Returns 0 or a negative crisk code with
 * `err` filled. */
static int score_all(const crisk_bundle *bundle, score_args *a, crisk_lane_state *state,
                     cli_output *output, score_timings *t, crisk_error *err)
{
    score_run run;
    memset(&run, 0, sizeof run);
    run.bundle = bundle;
    run.a = a;
    run.output = output;
    run.t = t;
    crisk_score_options_init(&run.opts, CRISK_SCORE_OPTIONS_VERSION);
    run.opts.stream = state;
    run.opts.explain = a->explain_k;
    size_t workers = workers_of(a->cmd.threads);
    score_slot *slots = calloc(workers, sizeof *slots);
    void **ptrs = calloc(workers, sizeof *ptrs);
    int rc = slots && ptrs ? cli_decl_batches_init(&run.batches, bundle, &run.opts, a->batch,
                                                   0, err)
                           : crisk_error_set(err, CRISK_E_NOMEM, "out of memory for workers");
    for (size_t i = 0; rc == 0 && i < workers; i++) {
        ptrs[i] = &slots[i];
        cli_g9_memo_init(&slots[i].memo);
        rc = crisk_batch_new(crisk_bundle_schema(bundle), &slots[i].batch, err);
    }
    if (rc == 0 && !a->jsonl_out && write_header(output->f, bundle, a->explain_k,
                                                 &a->audit) != 0)
        rc = crisk_error_set(err, CRISK_E_NOMEM, "out of memory writing the header");
    cli_pipeline_stages stages = {.ctx = &run, .read = read_batch, .work = score_batch,
                                  .format = format_batch, .write = write_batch,
                                  .ordered_work = state != NULL};
    if (rc == 0)
        rc = cli_pipeline_run(&stages, ptrs, workers, err);
    for (size_t i = 0; slots && i < workers; i++) {
        const crisk_bundle_timings *s = &slots[i].scoring;
        crisk_clock *sum[] = {&t->scoring.features, &t->scoring.models, &t->scoring.profiles,
                              &t->scoring.lanes};
        const crisk_clock *add[] = {&s->features, &s->models, &s->profiles, &s->lanes};
        for (size_t k = 0; k < 4; k++) {
            sum[k]->wall += add[k]->wall;
            sum[k]->cpu += add[k]->cpu;
        }
        t->output.wall += slots[i].output.wall;
        t->output.cpu += slots[i].output.cpu;
        crisk_results_free(slots[i].res);
        crisk_events_free(slots[i].events);
        crisk_batch_free(slots[i].batch);
        free(slots[i].scratch);
        free(slots[i].text);
    }
    free(slots);
    free(ptrs);
    cli_decl_batches_free(&run.batches);
    return rc;
}

/* Locks the streaming state file `path` for this run and loads it when it exists, else
 * makes a fresh state. Returns it, or NULL after reporting. */
static crisk_lane_state *open_state(const crisk_bundle *bundle, const char *path)
{
    crisk_lane_state *state = NULL;
    crisk_error err;
    int rc = crisk_lane_state_open(bundle, path, &state, &err);
    if (rc) {
        cli_report(path, err.message);
        return NULL;
    }
    return state;
}

/* Runs `crisk score`; returns the exit code. */
static int run(int argc, char **argv)
{
    score_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc; /* CLI_HELP included: main() prints the usage */
    crisk_error err;
    int status = CLI_EXIT_FAILURE;
    crisk_lane_state *state = NULL;
    cli_output out = {0};
    if ((rc = cli_decl_cmd_load(&a.cmd)) != 0) {
        status = rc;
        goto done;
    }
    const crisk_bundle *bundle = a.cmd.bundle;
    if (a.state && !(state = open_state(bundle, a.state)))
        goto done;
    if ((rc = cli_score_audit_open(&a.audit, bundle)) != 0 ||
        (rc = cli_decl_cmd_open(&a.cmd, NULL, 0)) != 0) {
        status = rc;
        goto done;
    }
    cli_protect_rejects(&a.audit, a.cmd.run.in.reader);
    if (cli_output_open(&out, a.output) != 0)
        goto done;
    score_timings timings;
    memset(&timings, 0, sizeof timings);
    rc = score_all(bundle, &a, state, &out, &timings, &err);
    if (rc)
        cli_report(a.cmd.run.in.name, err.message);
    if (rc == 0 && state && crisk_lane_state_save(state, a.state, &err) != 0) {
        cli_report(a.state, err.message);
        rc = -1;
    }
    crisk_clock mark = crisk_clock_now();
    int written = cli_finish_output(out.f, a.output ? a.output : "stdout") == 0;
    crisk_clock_lap(&timings.output, &mark);
    if (a.timings)
        print_timings(&timings);
    if (written && rc == 0 && cli_decl_cmd_finish(&a.cmd, "scored") == 0)
        status = CLI_EXIT_OK;
    else /* no half-written results left behind */
        cli_score_audit_report(&a.audit, cli_output_discard(&out),
                               a.output ? a.output : "stdout");
done:
    crisk_lane_state_free(state);
    cli_score_audit_close(&a.audit);
    cli_decl_cmd_close(&a.cmd);
    return status;
}

const cli_command cli_cmd_score = {
    "score",
    "  crisk score --bundle DIR --input FILE [--output FILE] [--rejects FILE]\n"
    "              [--threads N] [--state FILE] [--batch-rows N] [--format csv|jsonl]\n"
    "              [--input-format csv|jsonl] [--explain K] [--timings] [EVENT OPTIONS]\n"
    "              [--audit LOG --audit-key PRIVATE] [--protect-ids KEY | --drop-ids]\n",
    "scores declarations with a bundle: scores, lane, reason, profile hits",
    "score    reads declarations (CSV with a header of field names, or JSON Lines;\n"
    "         by extension, '-' is stdin and CSV unless --input-format) and writes\n"
    "         one record per declaration: id, each model's score, lane, reason,\n"
    "         profile hits (';'-joined; an array in JSON Lines) and propensity\n"
    "         (the chance the policy gave it of being selected). Output: CSV, or\n"
    "         JSON Lines when --output ends in .jsonl or --format jsonl. A\n"
    "         multi-class model gives a column MODEL:score_K per class K (JSON\n"
    "         Lines: an array); lanes use the policy's score model, which has one\n"
    "         output.\n"
    "  --rejects FILE    rejected rows as CSV line,reason,raw (JSON Lines if .jsonl);\n"
    "                    without it each reject is a line on stderr\n"
    "  --state FILE      streaming lanes: the state is loaded if FILE exists, and\n"
    "                    saved there at the end (the old one kept as FILE.prev);\n"
    "                    FILE.lock refuses a second run on FILE meanwhile; without\n"
    "                    it the budget applies per batch, and an input too small\n"
    "                    for a budget share as a whole (share x rows < 1) stops\n"
    "                    the run\n"
    "  --threads N       N workers (0: one per core; default 1), each reading,\n"
    "                    scoring and writing whole batches while the others do;\n"
    "                    the output is the same, in input order\n"
    "  --batch-rows N    declarations read and scored at a time (default 8192);\n"
    "                    without --state, at least the smallest batch the budget\n"
    "                    takes, and a last batch smaller than that joins the one\n"
    "                    before\n"
    "  --explain K       reason codes: the score model's contributions grouped onto\n"
    "                    declaration fields, the top K per declaration as columns\n"
    "                    reason_1..reason_K \"field=value (+0.42)\" (JSON Lines: a\n"
    "                    \"reasons\" array), and hit_descriptions \"P-001: text; ...\"\n"
    "  --audit LOG --audit-key PRIVATE  append one leaf per scored declaration to\n"
    "                    the decision log LOG and a signed checkpoint per batch\n"
    "  --protect-ids KEY personal fields (schema \"personal\") as keyed hashes\n"
    "                    (HMAC-SHA256 under the bytes of file KEY): extra columns,\n"
    "                    reason values, audit leaves, rejects; --drop-ids: none\n"
    "                    written\n"
    "  --timings         print the wall time of each stage to stderr at the end:\n"
    "                    read (parse), features, models, profiles, lanes, output\n"
    "                    (summed over the workers; CPU times are the process's)\n"
    "         stderr ends with 'rows read: R, scored: S, rejected: J' (R = S + J);\n"
    "         rejected rows do not change the exit status.\n",
    1,
    run,
};
