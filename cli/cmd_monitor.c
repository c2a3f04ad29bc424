/*
 * cmd_monitor.c — `crisk monitor`: compares declarations with the bundle's reference
 * distributions (the population stability index per feature and per score, the change in
 * missing rate, the share of unseen categories), prints them worst first and exits 3 on
 * an alert; with --make-reference, writes the reference of the declarations instead.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Exit status of a run that found drift at or above the alert threshold. */
#define MONITOR_EXIT_ALERT 3
/* Declarations read and scored at a time. */
#define MONITOR_BATCH_ROWS 8192
/* Default thresholds of a new reference (the conventional PSI reading). */
#define DEFAULT_WARN 0.1
#define DEFAULT_ALERT 0.25

/* What the command line asks of `crisk monitor`. */
typedef struct monitor_args {
    const char *output, *state, *window, *warn, *alert, *make_reference;
    double warn_v, alert_v;
    long window_v;
    cli_decl_cmd cmd;
} monitor_args;

/* Parses `text`, the value of option `name`, as a positive finite number into `*out`
 * (kept when `text` is NULL). Returns 0 or CLI_EXIT_USAGE after reporting. */
static int parse_threshold(const char *name, const char *text, double *out)
{
    if (!text)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0) || !isfinite(v)) {
        fprintf(stderr, "crisk monitor: %s: \"%s\" is not a positive number\n", name, text);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return 0;
}

/* Parses and checks the command line into `a`. Returns 0, CLI_HELP or CLI_EXIT_USAGE. */
static int parse(int argc, char **argv, monitor_args *a)
{
    memset(a, 0, sizeof *a);
    const cli_option opts[] = {
        {"--output", &a->output, NULL},   {"--state", &a->state, NULL},
        {"--window", &a->window, NULL},   {"--warn", &a->warn, NULL},
        {"--alert", &a->alert, NULL},     {"--make-reference", &a->make_reference, NULL},
    };
    int rc = cli_decl_cmd_parse(&a->cmd, CLI_FROM_BUNDLE, "monitor", argc, argv, opts,
                                CLI_NOPTS(opts), 0, 1L << 20);
    a->warn_v = NAN;
    a->alert_v = NAN;
    if (rc == 0)
        rc = cli_parse_int("--window", a->window, 1, 1L << 24, &a->window_v);
    if (rc == 0 && (rc = parse_threshold("--warn", a->warn, &a->warn_v)) == 0)
        rc = parse_threshold("--alert", a->alert, &a->alert_v);
    if (rc == 0 && a->window && !a->state) {
        fputs("crisk monitor: --window needs --state (the window is kept between runs)\n",
              stderr);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == 0 && a->make_reference && (a->state || a->output)) {
        fputs("crisk monitor: --make-reference writes a reference; it takes no --state or "
              "--output\n", stderr);
        rc = CLI_EXIT_USAGE;
    }
    return rc;
}

/* Where each scored batch goes: the reference builder, or the drift counts. */
typedef struct monitor_sink {
    crisk_reference_builder *builder;
    crisk_drift *drift;
} monitor_sink;

/* Reads and scores every declaration, passing each batch to `sink`. Returns 0 or a
 * negative crisk code with `err` filled. */
static int monitor_all(const crisk_bundle *bundle, cli_decl_cmd *cmd, monitor_sink *sink,
                       crisk_error *err)
{
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.threads = cmd->threads;
    cli_decl_batches batches;
    int rc = cli_decl_batches_init(&batches, bundle, &opts, MONITOR_BATCH_ROWS, 0, err);
    while (rc == 0) {
        size_t got;
        crisk_results *res = NULL;
        if ((rc = cli_decl_run_next(&cmd->run, &batches, &got, err)) != 0 || got == 0)
            break;
        const crisk_batch *batch = batches.now.batch;
        if ((rc = crisk_bundle_score(bundle, batch, &opts, &res, err)) == 0)
            rc = sink->builder ? crisk_reference_builder_add(sink->builder, batch, res, err)
                               : crisk_drift_add(sink->drift, batch, res, err);
        crisk_results_free(res);
    }
    cli_decl_batches_free(&batches);
    return rc;
}

/* Orders items by level, then PSI, highest first (NaN last); equal ones by name. */
static int worst_first(const void *pa, const void *pb)
{
    const crisk_drift_item *a = pa, *b = pb;
    if (a->level != b->level)
        return a->level > b->level ? -1 : 1;
    if (isnan(a->psi) != isnan(b->psi))
        return isnan(a->psi) ? 1 : -1;
    if (a->psi != b->psi)
        return a->psi > b->psi ? -1 : 1;
    return strcmp(a->name, b->name);
}

static const char *const level_names[] = {"ok", "warn", "alert"};

/* Prints the table of `items` (sorted) to stdout. */
static void print_table(const crisk_drift_item *items, size_t n, uint64_t rows, double warn,
                        double alert)
{
    printf("declarations: %llu, warn: psi >= %g, alert: psi >= %g\n",
           (unsigned long long)rows, warn, alert);
    printf("%-28s %-8s %9s %9s %9s %9s %9s %9s  %s\n", "item", "kind", "psi", "noise",
           "miss_ref", "miss_now", "unseen_ref", "unseen_now", "level");
    for (size_t i = 0; i < n; i++) {
        const crisk_drift_item *it = &items[i];
        printf("%-28s %-8s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f  %s\n", it->name,
               it->is_score ? "score" : it->is_category ? "category" : "numeric", it->psi,
               it->noise, it->missing_ref, it->missing_now, it->unseen_ref, it->unseen_now,
               level_names[it->level]);
    }
}

/* Writes `v` as a JSON number, or null when it is not finite. */
static void json_number(FILE *f, const char *key, double v, const char *sep)
{
    if (isfinite(v))
        fprintf(f, "\"%s\":%.9g%s", key, v, sep);
    else
        fprintf(f, "\"%s\":null%s", key, sep);
}

/* Writes the report of `items` (sorted) as JSON to `path`. Returns 0 or -1 after
 * reporting. */
static int write_json(const char *path, const crisk_drift_item *items, size_t n,
                      uint64_t rows, double warn, double alert, size_t alerts)
{
    cli_output out;
    if (cli_output_open(&out, path) != 0)
        return -1;
    FILE *f = out.f;
    fprintf(f, "{\"declarations\":%llu,", (unsigned long long)rows);
    json_number(f, "warn", warn, ",");
    json_number(f, "alert", alert, ",");
    fprintf(f, "\"alerts\":%zu,\"items\":[", alerts);
    for (size_t i = 0; i < n; i++) {
        const crisk_drift_item *it = &items[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        cli_write_json_text(f, it->name, strlen(it->name));
        fprintf(f, ",\"kind\":\"%s\",",
                it->is_score ? "score" : it->is_category ? "category" : "numeric");
        json_number(f, "psi", it->psi, ",");
        json_number(f, "noise", it->noise, ",");
        json_number(f, "missing_ref", it->missing_ref, ",");
        json_number(f, "missing_now", it->missing_now, ",");
        json_number(f, "unseen_ref", it->unseen_ref, ",");
        json_number(f, "unseen_now", it->unseen_now, ",");
        fprintf(f, "\"level\":\"%s\"}", level_names[it->level]);
    }
    fputs("]}\n", f);
    if (cli_finish_output(f, path) == 0)
        return 0;
    cli_output_discard(&out); /* no half-written report left behind */
    return -1;
}

/* Collects the drift items of `drift` sorted worst first, and counts the alerts.
 * Returns the array (malloc'd) or NULL after reporting. */
static crisk_drift_item *sorted_items(const crisk_drift *drift, size_t *alerts)
{
    size_t n = crisk_drift_num_items(drift);
    crisk_drift_item *items = calloc(n ? n : 1, sizeof *items);
    crisk_error err;
    if (!items) {
        cli_report(NULL, "out of memory for the drift items");
        return NULL;
    }
    *alerts = 0;
    for (size_t i = 0; i < n; i++) {
        crisk_drift_item_get(drift, i, &items[i], &err);
        *alerts += items[i].level == CRISK_DRIFT_ALERT;
    }
    qsort(items, n, sizeof *items, worst_first);
    return items;
}

/* Prints and writes the drift of `drift`, judged by --warn and --alert when given, else
 * by the reference's thresholds (the policy's when it sets them); returns the exit code
 * (3 on an alert). */
static int report(const monitor_args *a, const crisk_reference *ref, crisk_drift *drift)
{
    double warn = isnan(a->warn_v) ? crisk_reference_warn(ref) : a->warn_v;
    double alert = isnan(a->alert_v) ? crisk_reference_alert(ref) : a->alert_v;
    crisk_error err;
    if (crisk_drift_set_thresholds(drift, warn, alert, &err) != 0) {
        fprintf(stderr, "crisk monitor: --warn, --alert: %s\n", err.message);
        return CLI_EXIT_USAGE;
    }
    size_t n = crisk_drift_num_items(drift), alerts = 0;
    crisk_drift_item *items = sorted_items(drift, &alerts);
    if (!items)
        return CLI_EXIT_FAILURE;
    uint64_t rows = crisk_drift_rows(drift);
    print_table(items, n, rows, warn, alert);
    int rc = fflush(stdout) == 0 ? 0 : -1;
    if (rc == 0 && a->output)
        rc = write_json(a->output, items, n, rows, warn, alert, alerts);
    free(items);
    if (rc)
        return CLI_EXIT_FAILURE;
    return alerts ? MONITOR_EXIT_ALERT : CLI_EXIT_OK;
}

/* Opens the counts: those saved in --state when the file exists, else fresh ones over
 * --window declarations (0: the whole input). Returns them or NULL after reporting. */
static crisk_drift *open_drift(const monitor_args *a, const crisk_reference *ref)
{
    crisk_drift *drift = NULL;
    crisk_error err;
    struct stat st;
    int rc = a->state && stat(a->state, &st) == 0
                 ? crisk_drift_load(ref, a->state, &drift, &err)
                 : crisk_drift_new(ref, a->window ? (size_t)a->window_v : 0, &drift, &err);
    if (rc)
        cli_report(a->state, err.message);
    return drift;
}

/* Monitors the input against the reference; returns the exit code. */
static int run_drift(monitor_args *a)
{
    crisk_error err;
    crisk_reference *ref = NULL;
    crisk_drift *drift = NULL;
    int status = CLI_EXIT_FAILURE;
    if (crisk_reference_load(a->cmd.bundle, &ref, &err) != 0) {
        cli_report(a->cmd.path, err.message);
        return CLI_EXIT_FAILURE;
    }
    if (!(drift = open_drift(a, ref)) || (status = cli_decl_cmd_open(&a->cmd, NULL, 0)) != 0)
        goto done;
    monitor_sink sink = {NULL, drift};
    status = CLI_EXIT_FAILURE;
    if (monitor_all(a->cmd.bundle, &a->cmd, &sink, &err) != 0)
        cli_report(a->cmd.run.in.name, err.message);
    else if (a->state && crisk_drift_save(drift, a->state, &err) != 0)
        cli_report(a->state, err.message);
    else if (cli_decl_cmd_finish(&a->cmd, "monitored") == 0)
        status = report(a, ref, drift);
done:
    crisk_drift_free(drift);
    crisk_reference_free(ref);
    return status;
}

/* Writes the reference of the input's declarations; returns the exit code. */
static int run_make_reference(monitor_args *a)
{
    crisk_error err;
    crisk_reference_builder *builder = NULL;
    double warn = isnan(a->warn_v) ? DEFAULT_WARN : a->warn_v;
    double alert = isnan(a->alert_v) ? DEFAULT_ALERT : a->alert_v;
    if (warn > alert) {
        fprintf(stderr, "crisk monitor: --warn %g is above --alert %g\n", warn, alert);
        return CLI_EXIT_USAGE;
    }
    int status = cli_decl_cmd_open(&a->cmd, NULL, 0);
    if (status == 0 && crisk_reference_builder_new(a->cmd.bundle, &builder, &err) != 0) {
        cli_report(NULL, err.message);
        status = CLI_EXIT_FAILURE;
    }
    monitor_sink sink = {builder, NULL};
    if (status == 0 && monitor_all(a->cmd.bundle, &a->cmd, &sink, &err) != 0) {
        cli_report(a->cmd.run.in.name, err.message);
        status = CLI_EXIT_FAILURE;
    }
    if (status == 0 && cli_decl_cmd_finish(&a->cmd, "taken") != 0)
        status = CLI_EXIT_FAILURE;
    if (status == 0 &&
        crisk_reference_builder_save(builder, a->make_reference, warn, alert, &err) != 0) {
        cli_report(a->make_reference, err.message);
        status = CLI_EXIT_FAILURE;
    }
    crisk_reference_builder_free(builder);
    return status;
}

/* Runs `crisk monitor`; returns the exit code. */
static int run(int argc, char **argv)
{
    monitor_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc; /* CLI_HELP included: main() prints the usage */
    if ((rc = cli_decl_cmd_load(&a.cmd)) == 0)
        rc = a.make_reference ? run_make_reference(&a) : run_drift(&a);
    cli_decl_cmd_close(&a.cmd);
    return rc;
}

const cli_command cli_cmd_monitor = {
    "monitor",
    "  crisk monitor --bundle DIR --input FILE [--output F.json] [--state FILE\n"
    "                [--window N]] [--warn PSI] [--alert PSI] [--rejects FILE]\n"
    "                [--threads N] [--input-format csv|jsonl] [EVENT OPTIONS]\n"
    "  crisk monitor --bundle DIR --input FILE --make-reference OUT.json\n"
    "                [--warn PSI] [--alert PSI] [EVENT OPTIONS]\n",
    "compares declarations with the bundle's reference distributions (drift)",
    "monitor scores the declarations and compares them with the bundle's reference\n"
    "         distributions (docs/bundle.md): per feature and per model score, the\n"
    "         population stability index (PSI), its noise ((bins - 1) / rows, what a\n"
    "         sample of the reference itself shows on average), the missing rate\n"
    "         and the share of unseen categories, worst first. Exit status 3 when\n"
    "         an item's PSI reaches the alert threshold, 0 otherwise.\n"
    "  --output F.json   also writes the table as JSON\n"
    "  --warn, --alert   thresholds (default: the policy's \"monitor\", else the\n"
    "                    reference's, 0.1 and 0.25 as made)\n"
    "  --state FILE      stream mode: the counts are loaded if FILE exists, the\n"
    "                    input added, the counts saved back\n"
    "  --window N        with a new --state: keep the N most recent declarations\n"
    "                    (default: every one added)\n"
    "  --make-reference OUT.json  writes the reference distributions of the input\n"
    "                    (held-out declarations like those the bundle will score) to\n"
    "                    OUT.json, for the manifest's \"reference\" key\n",
    1,
    run,
};
