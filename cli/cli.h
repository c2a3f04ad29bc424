/*
 * cli.h — what the parts of the `crisk` command share: exit codes, the commands, the option
 * parser and the option groups several commands take, the CSV table reader, model and
 * bundle loading. The command uses the library through <crisk.h> only, as any program.
 */
#ifndef CRISK_CLI_H
#define CRISK_CLI_H

#include "crisk.h"

#include <stdio.h>
#include <sys/types.h>

/* Exit codes of the command, as the usage text documents them. */
#define CLI_EXIT_OK      0  /* success */
#define CLI_EXIT_FAILURE 1  /* a bad model or input file, or an I/O error */
#define CLI_EXIT_USAGE   2  /* a bad command line */
/* Returned by cli_parse_args() when --help was given (not an exit code). */
#define CLI_HELP         (-1)

/* One option a sub-command accepts. Exactly one of `value` and `flag` is set. */
typedef struct cli_option {
    const char *name;    /* with its dashes, e.g. "--model" */
    const char **value;  /* an option with an argument: where the argument goes */
    int *flag;           /* a flag: set to 1 when given */
} cli_option;

/* Parses the arguments of sub-command `command` (argv[0] is its first argument, not its
 * name) against the `nopts` options of `opts`, of which the first `nrequired` (options
 * with an argument) must be given; an argument may follow as the next word or after '='.
 * Returns 0, CLI_HELP for --help/-h, or CLI_EXIT_USAGE after printing to stderr what is
 * wrong (an unknown option, a missing argument, a repeated option, a stray word, a
 * required option not given). */
int cli_parse_args(const char *command, int argc, char **argv, const cli_option *opts,
                   size_t nopts, size_t nrequired);

/* The number of options in the array `opts`, for cli_parse_args(). */
#define CLI_NOPTS(opts) (sizeof(opts) / sizeof((opts)[0]))

/* Parses `text`, the argument of option `name`, as an integer in [lo, hi] into `*out`;
 * when `text` is NULL (the option was not given) `*out` keeps its value, the default.
 * Returns 0, or CLI_EXIT_USAGE after printing what is wrong. */
int cli_parse_int(const char *name, const char *text, long lo, long hi, long *out);

/* A sub-command: its name, its usage (synopsis lines, a one-line summary for the overview,
 * the description of its options) and what runs it. */
typedef struct cli_command {
    const char *name;
    const char *synopsis;  /* "  crisk NAME ..." lines */
    const char *summary;   /* what it does, in one line */
    const char *details;   /* what it does and its options */
    int reads_declarations; /* its usage adds the event options (cli_event_usage) */
    int (*run)(int argc, char **argv); /* the words after its name; returns an exit code
                                          or CLI_HELP */
} cli_command;

/* The commands (each in its cmd_<name>.c). */
extern const cli_command cli_cmd_predict, cli_cmd_inspect, cli_cmd_score, cli_cmd_fit,
    cli_cmd_evaluate, cli_cmd_monitor, cli_cmd_report, cli_cmd_audit;

/* Runs `crisk evaluate --decisions ... --outcomes ...` (evaluate_loop.c); returns the
 * exit code. */
int cli_evaluate_loop(int argc, char **argv);

/* The description of the event options, which the declaration commands share. */
extern const char cli_event_usage[];

/* Puts "`prefix`: " in front of the message in `err` (cut to fit) and sets its code;
 * returns `code`. */
int cli_fail_prefix(crisk_error *err, int code, const char *prefix);

/* The model options of predict and inspect: --model and the digest it is pinned to. */
typedef struct cli_model_args {
    const char *path, *sha256;  /* --model, --sha256 */
    crisk_load_options load;
} cli_model_args;

/* Checks --sha256 (64 hex digits) into the load options. Returns 0 or CLI_EXIT_USAGE
 * after printing what is wrong. */
int cli_model_args_check(cli_model_args *m);

/* Loads the model the options name. Returns it, or NULL after printing why not. */
crisk_model *cli_load_model(const cli_model_args *m);

/* Loads the bundle in directory `dir`; returns it, or NULL after printing the library's
 * message (which already names the directory and the file). */
crisk_bundle *cli_load_bundle(const char *dir);

/* Opens `path` for reading ("-" is stdin). Returns the stream, or NULL after reporting. */
FILE *cli_open_input(const char *path);

/* Opens the CSV file at `path` (RFC 4180, the reader's defaults) into `*f` and `*r`.
 * Returns 0, or 1 after reporting (then nothing is left open). */
int cli_open_csv(const char *path, FILE **f, crisk_csv_reader **r);

/* Returns the index of column `name` among the `n` header `names`, or -1. */
long cli_csv_column(const char **names, size_t n, const char *name);

/* An output: its stream, and which file it is, so that a failed run removes only a
 * regular file it created itself (never a device, a pipe, a symlink such as /dev/stdout,
 * or a file that was there before). */
typedef struct cli_output {
    FILE *f;
    const char *path;      /* NULL: stdout */
    int created, regular;  /* the run created it; it is a regular file */
    dev_t dev;
    ino_t ino;
} cli_output;

/* Opens `path` for writing (NULL: stdout) into `o`. Returns 0, or -1 after reporting. */
int cli_output_open(cli_output *o, const char *path);

/* Hands what was written so far to the output: flushed, and fsync'd when it is a regular
 * file. Returns 0, or -1 with errno set. */
int cli_output_deliver(cli_output *o);

/* After a failed run, with the stream closed: removes the output when the run created it
 * and the path still names that regular file. Returns 1 when removed, else 0. */
int cli_output_discard(const cli_output *o);

/* Flushes and closes `out` (stdout is only flushed). Returns 0, or -1 after reporting a
 * write error on `name`. */
int cli_finish_output(FILE *out, const char *name);

/* Prints "crisk: `where`: `message`" to stderr (without `where` when it is NULL). */
void cli_report(const char *where, const char *message);

/* A CSV input of cases: a header row of feature names, then one case per row. */
typedef struct cli_table cli_table;

/* Opens a table over `f`, reads its header and maps its columns to the features of
 * `model`: by name when the model stores feature names (a column that is no feature is an
 * error unless `ignore_extra`; every feature needs a column), else by position (the
 * header must have one column per feature). Returns 0 or a negative crisk code with
 * `err` filled. */
int cli_table_open(FILE *f, const crisk_model *model, int ignore_extra, cli_table **out,
                   crisk_error *err);

/* Reads up to `max_rows` cases into `rows` (max_rows x crisk_model_num_features floats,
 * row-major; a missing value is NaN), stores how many in `*nrows` (0 at the end) and the
 * line each starts on in `first_line` (the first) and `last_line` (the last). Returns 0
 * or a negative crisk code with `err` naming the line and column. */
int cli_table_read(cli_table *table, float *rows, size_t max_rows, size_t *nrows,
                   size_t *first_line, size_t *last_line, crisk_error *err);

/* Frees a table (not its FILE). NULL is a no-op. */
void cli_table_free(cli_table *table);

/* Declaration inputs and outputs shared by score, fit and evaluate (decl_io.c). */

/* Returns the format `text`, the value of option `option`, names ("csv", "jsonl"), or 0
 * after reporting "unknown format". */
crisk_decl_format cli_format_named(const char *option, const char *text);

/* Returns the format `path`'s extension implies ("-": CSV), or 0. */
crisk_decl_format cli_decl_format(const char *path);

/* Bytes of the buffer cli_format_float() writes to. */
#define CLI_FLOAT_BYTES 32

/* Hex digits of a SHA-256 digest (CRISK_HASH_SIZE bytes), as printed and as read back. */
#define CLI_HASH_HEX (2 * CRISK_HASH_SIZE)

/* Writes `v` to `buf` (CLI_FLOAT_BYTES) exactly as printf's "%.9g" of (double)v would,
 * and returns the length: an exact integer computation for the common magnitudes (a
 * score, a price), snprintf for the rest; it is what the per-row output loop formats. */
size_t cli_format_float(float v, char *buf);

/* Doubles cli_write_g9() remembers the text of. */
#define CLI_G9_MEMO 4

/* The last CLI_G9_MEMO distinct doubles cli_write_g9() wrote and their texts. */
typedef struct cli_g9_memo {
    double v[CLI_G9_MEMO]; /* NaN at first: no text (NaN is never memoised) */
    size_t len[CLI_G9_MEMO];
    char text[CLI_G9_MEMO][CLI_FLOAT_BYTES];
    unsigned next;         /* the entry replaced next */
} cli_g9_memo;

/* Writes `v` as printf's "%.9g" does, reusing the text `memo` holds for it: a column of
 * few distinct values (a policy's propensities) then needs no printf per row. Initialise
 * `memo` with cli_g9_memo_init(). */
void cli_write_g9(FILE *f, double v, cli_g9_memo *memo);
void cli_g9_memo_init(cli_g9_memo *memo);

/* Writes `n` bytes at `s` to `f`; a record's short cells byte by byte into the stream's
 * buffer (putc_unlocked, inlined), where an fwrite call costs more than its copy. For a
 * stream the caller holds or alone uses. */
static inline void cli_put(FILE *f, const char *s, size_t n)
{
    if (n > 32) {
        fwrite(s, 1, n, f);
        return;
    }
    for (size_t i = 0; i < n; i++)
        putc_unlocked(s[i], f);
}

/* Writes `n` bytes at `s` as one CSV field (quoted when needed) / as a JSON string. */
void cli_write_csv_text(FILE *f, const char *s, size_t n);
void cli_write_json_text(FILE *f, const char *s, size_t n);

/* Where rejected rows go: a CSV (`line,reason,raw`) or JSON Lines file, or stderr. */
typedef struct cli_rejects {
    FILE *f;          /* NULL: one line per reject on stderr */
    const char *name;
    int jsonl;
} cli_rejects;

/* Opens the rejects file `path` (NULL: stderr). Returns 0 or CLI_EXIT_FAILURE. */
int cli_rejects_open(cli_rejects *rejects, const char *path);

/* Writes one reject (a crisk_decl_reject_fn over a cli_rejects). Returns 0. */
int cli_rejects_write(void *ctx, const crisk_decl_reject *reject);

/* Finishes the rejects file. Returns 0, or -1 after reporting a write error. */
int cli_rejects_close(cli_rejects *rejects);

/* An open declaration input. */
typedef struct cli_decl_input {
    FILE *f;
    const char *name;            /* for messages: the path, or "stdin" */
    crisk_decl_reader *reader;
} cli_decl_input;

/* Returns the format of the declarations at `path` ("-": stdin, CSV): the one `format`
 * (--input-format's value, or NULL) names, else the one the extension implies; 0 after
 * reporting when neither names one, a bad command line. */
crisk_decl_format cli_input_format(const char *path, const char *format);

/* Opens `path` ("-": stdin) as declarations of `schema` in format `format`, with extra
 * columns `extras`. Returns 0 or CLI_EXIT_FAILURE, after reporting. */
int cli_decl_input_open(cli_decl_input *in, const char *path, crisk_decl_format format,
                        const crisk_schema *schema, const crisk_decl_extra *extras,
                        size_t num_extras);

/* Closes an input opened by cli_decl_input_open(). */
void cli_decl_input_close(cli_decl_input *in);

/* Prints "rows read: R, VERB: S, rejected: J" to stderr. */
void cli_decl_summary(const cli_decl_input *in, const char *verb);

/* Bytes of the buffer cli_batch_id() writes a numeric id or a line number to. */
#define CLI_ID_BYTES 32

/* Returns the id of row `row` of `batch` as text of `*len` bytes (NULL when missing). */
const char *cli_batch_id(const crisk_batch *batch, size_t row, char *buf, size_t *len);

/* Returns the name of the id column: the schema's id field, or "line". */
const char *cli_id_name(const crisk_schema *schema);

/* Border sensor events joined to each batch of declarations (cli/events.c). */
typedef struct cli_events {
    const char *path, *keys_path, *rejects_path; /* --events, --device-keys, --event-rejects */
    int require_hmac;                            /* --require-hmac */
    crisk_device_keys *keys;
    crisk_events *current;                       /* the events of the current batch */
    int reported;                                /* refused events already reported */
    int64_t now;                                 /* the reference time of every read */
} cli_events;

/* The options above, for a command's option table. */
#define CLI_EVENT_OPTIONS(ev) \
    {"--events", &(ev)->path, NULL}, {"--device-keys", &(ev)->keys_path, NULL}, \
    {"--event-rejects", &(ev)->rejects_path, NULL}, {"--require-hmac", NULL, &(ev)->require_hmac}

/* Loads the device keys. Returns 0, CLI_EXIT_USAGE or CLI_EXIT_FAILURE after reporting. */
int cli_events_open(cli_events *ev);

/* Reads the events `batch` can use and joins them to it (nothing without --events).
 * Returns 0 or a negative crisk code with `err` filled. */
int cli_events_attach(cli_events *ev, const crisk_schema *schema, crisk_batch *batch,
                      crisk_error *err);

/* Frees the events and keys. */
void cli_events_close(cli_events *ev);

/* Progress of a long run on a terminal (cli/progress.c). */
typedef struct cli_progress {
    int on;        /* stderr is a terminal and --quiet was not given */
    FILE *in;      /* the input, whose position tells how far the run is */
    double size;   /* the input's size in bytes; 0 when unknown (a pipe) */
    double start, last;
    int shown;
} cli_progress;

/* Starts showing progress on stderr when it is a terminal and not `quiet`, reading
 * through `in` (its size, when it is a regular file, gives the time left). */
void cli_progress_start(cli_progress *p, int quiet, FILE *in);

/* Shows `rows` done, the rate and the time left (redrawn at most four times a second);
 * `final` shows the last figures and ends the line. Nothing when progress is off. */
void cli_progress_update(cli_progress *p, uint64_t rows, int final);

/* The input side of score, fit and evaluate (cli/decl_run.c): the declarations, where
 * their rejected rows go, and the events joined to them. */
typedef struct cli_decl_run {
    const char *input, *format, *rejects_path;  /* --input, --input-format, --rejects */
    crisk_decl_format input_format;             /* resolved when the line is parsed */
    cli_events events;                          /* the event options */
    cli_decl_input in;
    cli_rejects rejects;
    int quiet;                                  /* --quiet: no progress */
    cli_progress progress;
} cli_decl_run;

/* The options above but --input (which cli_decl_cmd_parse() lists among the required). */
#define CLI_DECL_RUN_OPTIONS(r) \
    {"--rejects", &(r)->rejects_path, NULL}, {"--input-format", &(r)->format, NULL}, \
    {"--quiet", NULL, &(r)->quiet}, CLI_EVENT_OPTIONS(&(r)->events)

/* One batch of declarations read by cli_decl_run_next, with its extra columns. */
typedef struct cli_batch_slot {
    crisk_batch *batch;
    double *extras;      /* num_extras per row, row-major (NULL without extras) */
    size_t extras_cap;   /* doubles `extras` holds */
    size_t n;            /* rows in `batch` */
} cli_batch_slot;

/* The batches a scoring command reads (cli/decl_batches.c): `rows` declarations each, at
 * least `min_rows` (the bundle's crisk_bundle_min_batch; 1 in stream mode), read one batch
 * ahead so that a last batch smaller than `min_rows` joins the one before it (a batch then
 * holds up to max(rows, min_rows) + min_rows - 1): only an input smaller than `min_rows`
 * as a whole makes a batch the library refuses. */
typedef struct cli_decl_batches {
    cli_batch_slot now;    /* the batch cli_decl_run_next read */
    cli_batch_slot ahead;  /* the next one, read ahead (n = 0: none) */
    size_t rows, min_rows, num_extras;
} cli_decl_batches;

/* Prepares `b` for declarations of `bundle` scored with `opts`, `rows` at a time, with
 * `num_extras` extra columns. Returns 0 or CRISK_E_NOMEM with `err` filled. */
int cli_decl_batches_init(cli_decl_batches *b, const crisk_bundle *bundle,
                          const crisk_score_options *opts, size_t rows, size_t num_extras,
                          crisk_error *err);

/* Frees what `b` holds. */
void cli_decl_batches_free(cli_decl_batches *b);

/* Reads the next batch of `r` into `b->now` (bad rows to the rejects) and joins its
 * events; `*n` (= b->now.n) is 0 at the end. Returns 0 or a negative crisk code with
 * `err` filled. */
int cli_decl_run_next(cli_decl_run *r, cli_decl_batches *b, size_t *n, crisk_error *err);

/* The stages of an ordered pipeline (cli/pipeline.c), each given `ctx`, a worker's slot
 * and the worker's error: `read` fills the slot with the next batch (`*n` rows, 0 at the
 * end), one worker at a time in input order; `work` runs on several slots at once (in
 * input order, one at a time, when `ordered_work`); `format` (NULL: none) then runs on
 * several slots at once even when work is ordered, so that what `write` does in turn
 * stays short; `write` runs one slot at a time in input order. Each returns 0 or a
 * negative crisk code with the error filled. */
typedef struct cli_pipeline_stages {
    void *ctx;
    int (*read)(void *ctx, void *slot, size_t *n, crisk_error *err);
    int (*work)(void *ctx, void *slot, crisk_error *err);
    int (*format)(void *ctx, void *slot, crisk_error *err);
    int (*write)(void *ctx, void *slot, crisk_error *err);
    int ordered_work;
} cli_pipeline_stages;

/* Runs `stages` with `workers` workers (the calling thread and workers - 1 threads), one
 * slot each, until the input ends or a stage fails. After a failure no batch is read and
 * no later batch is worked on or written (one already being read is read: its rejects are
 * reported); the batches before it are written. Returns 0, or the code of the earliest
 * batch's failure with `err` filled (as a run of one worker would stop). */
int cli_pipeline_run(const cli_pipeline_stages *stages, void **slots, size_t workers,
                     crisk_error *err);

/* Shows the progress of `r` (rows read so far; `final`: the last figures). */
void cli_decl_run_progress(cli_decl_run *r, int final);

/* What the declarations of a command are read for: a bundle (score, evaluate, which also
 * take --threads) or a schema file (fit). */
typedef enum cli_decl_source { CLI_FROM_BUNDLE, CLI_FROM_SCHEMA } cli_decl_source;

/* The set-up score, fit and evaluate share (cli/decl_run.c): the bundle or schema, the
 * threads, and the declaration input with its rejects and events. */
typedef struct cli_decl_cmd {
    cli_decl_source source;
    const char *path;            /* --bundle DIR or --schema FILE */
    int threads;                 /* --threads (bundle commands); 1 without it */
    crisk_bundle *bundle;        /* CLI_FROM_BUNDLE */
    crisk_schema *own_schema;    /* CLI_FROM_SCHEMA */
    const crisk_schema *schema;  /* the bundle's, or own_schema */
    cli_decl_run run;
} cli_decl_cmd;

/* Parses the command line of `command` into `c` (zeroed first): the source option and
 * --input, then the command's own options `own` (the first `nrequired` of them required),
 * then the input, event and, for a bundle, --threads options (32 in all at most), taking
 * --threads from 0 to `max_threads`, and resolves the input's format. Returns 0, CLI_HELP or CLI_EXIT_USAGE after
 * printing what is wrong (CLI_EXIT_FAILURE: more options than that, a bug in the
 * command). */
int cli_decl_cmd_parse(cli_decl_cmd *c, cli_decl_source source, const char *command,
                       int argc, char **argv, const cli_option *own, size_t nown,
                       size_t nrequired, long max_threads);

/* Loads the bundle or the schema. Returns 0 or CLI_EXIT_FAILURE after reporting. */
int cli_decl_cmd_load(cli_decl_cmd *c);

/* Opens the input for the schema with the extra columns `extras`, loads the device keys
 * and opens the rejects file. Returns 0, CLI_EXIT_USAGE or CLI_EXIT_FAILURE after
 * reporting. */
int cli_decl_cmd_open(cli_decl_cmd *c, const crisk_decl_extra *extras, size_t num_extras);

/* Closes the rejects file, then prints "rows read: R, `verb`: S, rejected: J". Returns 0,
 * or -1 (nothing printed) after reporting a write error. */
int cli_decl_cmd_finish(cli_decl_cmd *c, const char *verb);

/* Closes and frees all that `c` holds (zeroed: nothing). */
void cli_decl_cmd_close(cli_decl_cmd *c);

/* Returns `array` (`*cap` elements of `size` bytes) grown, from `first` by doubling, to
 * hold `need`; NULL with `err` naming `what` when out of memory (`array` unchanged). */
void *cli_grow(void *array, size_t *cap, size_t need, size_t size, size_t first,
               const char *what, crisk_error *err);

/* Whether a decision `crisk score` wrote (its reason) selected the declaration for a lane
 * other than the default, i.e. for inspection (cli/fit_outcomes.c). */
int cli_decision_selected(const char *reason);

/* One decision read back from the decision log (cli/decision_log.c); the texts are valid
 * during the callback only. */
typedef struct cli_log_decision {
    const char *id;          /* the declaration id, or its keyed hash when `hashed` */
    int hashed;              /* the leaf holds id_hmac (crisk score --protect-ids) */
    const char *bundle;      /* the digest of the bundle that decided, 64 hex digits */
    const char *lane, *reason;
    double propensity;
    double score, model;     /* the scores named by the caller (NaN: none) */
} cli_log_decision;

typedef int (*cli_log_fn)(void *ctx, uint64_t index, const cli_log_decision *d);

/* Returned by cli_log_read() when `path` is not a crisk audit log. */
#define CLI_LOG_NOT_A_LOG 2

/* Reads every leaf of the decision log at `path` in order, calling `each` (which returns
 * 0, or 1 after reporting, to stop) with the scores `score` (required) and `model`
 * (NULL: none) of each. Returns 0, 1 after reporting (a bad log or leaf), or
 * CLI_LOG_NOT_A_LOG, nothing reported. */
int cli_log_read(const char *path, const char *score, const char *model, cli_log_fn each,
                 void *ctx);

/* Called with each declaration's id (`len` bytes) and candidate score, in input order;
 * returns 0, or 1 after reporting, to stop. */
typedef int (*cli_candidate_fn)(void *ctx, const char *id, size_t len, double score);

/* Scores the declarations at `input` with the bundle in `dir`, in one batch, and hands
 * `model`'s score (NULL: the policy's score model) of each to `each` (cli/
 * evaluate_candidate.c). A rejected declaration fails the run. Returns 0, or 1 after
 * reporting. */
int cli_score_candidate(const char *dir, const char *input, const char *model,
                        cli_candidate_fn each, void *ctx);

/* Labels from outcomes for `crisk fit --outcomes` (cli/fit_outcomes.c). */
typedef struct cli_fit_labels {
    const char *path;          /* the outcomes file */
    crisk_outcomes *outcomes;
    double *pi;                /* per outcome: its propensity; NaN: not in the decisions;
                                  -1: not selected by the logged policy */
    unsigned char *used;       /* per outcome: joined to a declaration */
    size_t rejected;           /* outcomes of declarations the policy did not select */
} cli_fit_labels;

/* Reads the outcomes (reporting the reader's rejects) and, when `decisions` is given,
 * the propensities of their declarations from that `crisk score` output. Returns 0 or 1
 * after reporting; cli_fit_labels_close() frees `l` either way. */
int cli_fit_labels_open(cli_fit_labels *l, const char *outcomes, const char *decisions);

/* Returns 1 and stores the label (1: irregularity or critical) and the weight
 * (1 / propensity; 1 without decisions) of the declaration `id` (`len` bytes), or returns
 * 0 when it has no usable outcome. */
int cli_fit_labels_get(cli_fit_labels *l, const char *id, size_t len, float *label,
                       float *weight);

/* Reports every outcome not joined to a declaration, with its line; returns how many
 * outcomes were not used (those and the ones the policy did not select). */
size_t cli_fit_labels_finish(cli_fit_labels *l);

void cli_fit_labels_close(cli_fit_labels *l);

/* Appends row `row` of `src` to `dst` (a batch of the same schema), as its values read
 * back. Returns 0 or a negative crisk code with `err` filled. */
int cli_batch_copy_row(crisk_batch *dst, const crisk_batch *src, size_t row, crisk_error *err);

/* Labelled declarations, shared by evaluate and report (cli/labelled.c). */

/* One scored declaration: its score (NaN ranks last), label, revenue, input order and
 * lane. */
typedef struct cli_scored {
    double score, label, revenue;
    size_t order, lane;
} cli_scored;

/* Orders cli_scored by score, highest first, NaN last; equal scores by input order. */
int cli_by_score_desc(const void *a, const void *b);

/* Returns the AUC of `rows` (sorted by cli_by_score_desc): the Mann-Whitney statistic
 * with tied scores given their average rank (NaN scores tie with each other, below all).
 * NaN when either class is empty. */
double cli_auc(const cli_scored *rows, size_t n);

/* Returns the index of the model to rank by: `name`, else the policy's score model, else
 * the first; -1 after reporting (as `crisk command`) when `name` is no model of the bundle
 * or the model has no single score to rank by. */
long cli_pick_model(const crisk_bundle *bundle, const char *name, const char *command);

/* Called with each scored batch; returns 0 or a negative crisk code with `err` filled. */
typedef int (*cli_labelled_fn)(void *ctx, const crisk_batch *batch, const crisk_results *res,
                               crisk_error *err);

/* Reads and scores (with `opts`) every declaration of `run`, whose extra columns are the
 * label when `label` (else every label is NaN) and then, when `revenue`, the revenue;
 * passes each batch to `each` (when not NULL) and appends a row per declaration, with
 * model `model`'s score, to `*rows` (malloc'd, `*n` of them). Returns 0 or a negative
 * crisk code with `err` filled. */
int cli_score_labelled(const crisk_bundle *bundle, size_t model, cli_decl_run *run,
                       const crisk_score_options *opts, int label, int revenue,
                       cli_labelled_fn each, void *ctx, cli_scored **rows, size_t *n,
                       crisk_error *err);

/* Charts for `crisk report` (cli/svg.c), written inline into HTML. */

/* One line of a line chart: `n` points (x[i], y[i]); non-finite points are skipped. */
typedef struct cli_svg_series {
    const char *name;
    const double *x, *y;
    size_t n;
    int dashed;  /* a reference line (random selection, perfect calibration) */
} cli_svg_series;

/* Writes `s` as HTML text (&, <, >, " escaped). */
void cli_html_text(FILE *f, const char *s);

/* Writes an <svg> line chart with id `id` of the `ns` series over [0, xmax] x [0, ymax]
 * (values beyond are drawn at the edge), with axes, ticks and a legend. */
void cli_svg_lines(FILE *f, const char *id, const char *title, const char *xlabel,
                   const char *ylabel, const cli_svg_series *series, size_t ns, double xmax,
                   double ymax);

/* Writes an <svg> horizontal bar chart with id `id`: one bar per value, labelled
 * `labels[i]` on the left and `notes[i]` after the bar. */
void cli_svg_bars(FILE *f, const char *id, const char *title, const char *const *labels,
                  const double *values, const char *const *notes, size_t n);

/* Labels from officers' outcomes for `crisk report --outcomes` (cli/report_outcomes.c),
 * joined to the declarations by id as they are scored. */
typedef struct cli_report_outcomes {
    const char *path;
    crisk_outcomes *outcomes;
    unsigned char *used;   /* per outcome record: a declaration of the input has its id */
    signed char *found;    /* per declaration, in input order: -1 no outcome (not
                              inspected), 0 nothing found, 1 an irregularity */
    size_t *lanes;         /* per declaration: its lane */
    size_t n, cap, lane_cap;
    size_t unknown;        /* outcomes of no declaration of the input */
} cli_report_outcomes;

/* Reads the outcomes file `path` into `o`, reporting each rejected line on stderr.
 * Returns 0 or CLI_EXIT_FAILURE after reporting. */
int cli_report_outcomes_open(cli_report_outcomes *o, const char *path);

/* Joins the declarations of a scored batch to the outcomes. Returns 0 or CRISK_E_NOMEM. */
int cli_report_outcomes_add(cli_report_outcomes *o, const crisk_batch *batch,
                            const crisk_results *res, crisk_error *err);

/* Reports each outcome of no declaration of the input (with its line), then
 * "outcomes used: U, lines rejected: J, not in the input: K", on stderr. */
void cli_report_outcomes_finish(cli_report_outcomes *o);

/* Frees what `o` holds. */
void cli_report_outcomes_free(cli_report_outcomes *o);

/* Writes the page's section on the outcomes: the share of declarations inspected, and
 * per lane the declarations, inspected, found and hit rate. */
void cli_report_outcomes_html(FILE *f, const cli_report_outcomes *o,
                              const crisk_bundle *bundle, int labels_from_outcomes);

/* What `crisk report` writes as HTML (cli/report_html.c): labelled declarations sorted by
 * score (cli_by_score_desc), the drift counts and the red lane's reason fields. */
typedef struct cli_report_data {
    const char *bundle_dir, *input, *model_name;
    const crisk_bundle *bundle;
    const cli_scored *rows;
    size_t n;
    int revenue;                  /* rows carry revenue */
    const crisk_drift *drift;     /* NULL: the bundle has no reference */
    const size_t *reason_counts;  /* per schema field, over lane 0; NULL: not explained */
    const cli_report_outcomes *outcomes; /* NULL: no --outcomes */
    int labels_from_outcomes;     /* rows are the inspected declarations only */
} cli_report_data;

/* Writes the report page to `f`. */
void cli_report_html(FILE *f, const cli_report_data *d);

/* Every output of a bundle's models for one declaration (cli/scores.c): one column or
 * JSON number for a model with one output, one column "<model>:score_<k>" or array element
 * per class for a multi-class model. */

/* Returns how many values model `m` of `bundle` gives per declaration. */
size_t cli_model_outputs(const crisk_bundle *bundle, size_t m);

/* Writes a header cell per output of every model, each after a comma. Returns 0, or -1
 * when out of memory. */
int cli_scores_header(FILE *out, const crisk_bundle *bundle);

/* Writes every output of every model for row `row` as CSV cells, each after a comma
 * (empty when NaN). */
void cli_scores_csv(FILE *out, const crisk_bundle *bundle, const crisk_results *res,
                    size_t row);

/* Writes `v` as a JSON number (%.9g), or null when it is NaN. */
void cli_write_json_float(FILE *out, float v);

/* Writes model `m`'s outputs for row `row` as one JSON value: a number (null when NaN),
 * or an array of one per class for a multi-class model. */
void cli_scores_json(FILE *out, const crisk_bundle *bundle, const crisk_results *res,
                     size_t row, size_t m);

/* Accountability and data protection for `crisk score` (cli/score_audit.c). */

/* Longest id protection key file, in bytes. */
#define CLI_PROTECT_KEY_MAX 1024

typedef struct cli_score_audit {
    const char *log_path, *key_path, *protect_path; /* --audit, --audit-key, --protect-ids */
    int drop_ids;                                    /* --drop-ids */
    crisk_audit_log *log;
    crisk_audit_key *key;
    unsigned char id_key[CLI_PROTECT_KEY_MAX];
    size_t id_key_size;
    char bundle_hex[CLI_HASH_HEX + 1];
    uint64_t start;                                  /* the log's size at open */
} cli_score_audit;

/* The options above, for a command's option table. */
#define CLI_SCORE_AUDIT_OPTIONS(s) \
    {"--audit", &(s)->log_path, NULL}, {"--audit-key", &(s)->key_path, NULL}, \
    {"--protect-ids", &(s)->protect_path, NULL}, {"--drop-ids", NULL, &(s)->drop_ids}

/* Reads the id protection key at `path` (the file's bytes, CRISK_PROTECT_MIN_KEY to
 * CLI_PROTECT_KEY_MAX of them) into `key` and its size into `*size`. Returns 0 or
 * CLI_EXIT_FAILURE after reporting. */
int cli_protect_key_read(const char *path, unsigned char *key, size_t *size);

/* Checks the options, reads the keys and opens the log. Returns 0, CLI_EXIT_USAGE or
 * CLI_EXIT_FAILURE after reporting. */
int cli_score_audit_open(cli_score_audit *s, const crisk_bundle *bundle);

/* Appends one leaf per declaration of `res` and then a signed checkpoint (nothing
 * without --audit). Returns 0 or a negative crisk code with `err` filled. */
int cli_score_audit_batch(cli_score_audit *s, const crisk_bundle *bundle,
                          const crisk_batch *batch, const crisk_results *res,
                          crisk_error *err);

/* After a failed run, says on stderr which of this run's logged decisions were not
 * delivered: all of them when the output was removed (`discarded`), else none (each
 * batch reaches `output` before its log entries). Nothing without --audit. */
void cli_score_audit_report(const cli_score_audit *s, int discarded, const char *output);

/* Closes the log and frees the key. */
void cli_score_audit_close(cli_score_audit *s);

/* Returns what to show for `text` (`*len` bytes), the value of field `field`: the text
 * itself unless the field is personal and ids are protected (the keyed hash, written to
 * `buf` of 2 * CRISK_PROTECTED_ID_BYTES + 1 bytes, `*len` updated) or dropped (NULL). */
const char *cli_personal_text(const cli_score_audit *s, const crisk_schema *schema,
                              long field, const char *text, size_t *len, char *buf);

/* With --protect-ids or --drop-ids, makes the raw text of `reader`'s rejects protect the
 * personal fields as outputs do (crisk_decl_set_protect); else nothing. */
void cli_protect_rejects(cli_score_audit *s, crisk_decl_reader *reader);

/* With --protect-ids: writes the header cells (",name" per personal field) / the keyed
 * hashes of row `row`'s personal fields, as CSV cells each after a comma or (`json`) as
 * comma-separated "name":"hash" members in name order (missing: empty / null). Returns 0,
 * or -1 when out of memory. */
void cli_personal_header(FILE *out, const cli_score_audit *s, const crisk_schema *schema);
int cli_personal_write(FILE *out, const cli_score_audit *s, const crisk_batch *batch,
                       size_t row, int json);

/* With --protect-ids, writes the JSON member ,"personal_hmac":{...} of row `row`; else
 * nothing. Returns 0, or -1 when out of memory. */
int cli_personal_member(FILE *out, const cli_score_audit *s, const crisk_batch *batch,
                        size_t row);

#endif /* CRISK_CLI_H */
