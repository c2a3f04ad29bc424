/*
 * main.c — the `crisk` command: usage text, --version, and dispatch to the sub-commands.
 */
#include "cli.h"

#include <string.h>

/* Prints the usage text, options and exit codes to `f`. */
void cli_usage(FILE *f)
{
    fputs("usage:\n"
          "  crisk predict --model MODEL --input CASES.csv [--output FILE] [--margin]\n"
          "                [--threads N] [--ignore-extra] [--batch-rows N] [--contribs]\n"
          "                [--sha256 HEX]\n"
          "  crisk inspect --model MODEL [--sha256 HEX]\n"
          "  crisk score --bundle DIR --input FILE [--output FILE] [--rejects FILE]\n"
          "              [--threads N] [--state FILE] [--batch-rows N] [--format csv|jsonl]\n"
          "              [--input-format csv|jsonl] [--explain K] [--timings] [EVENT OPTIONS]\n"
          "              [--audit LOG --audit-key PRIVATE] [--protect-ids KEY | --drop-ids]\n"
          "  crisk fit --schema SCHEMA.json --input FILE --label COLUMN --output FITTED.json\n"
          "            [--matrix FILE.csv] [--features FILE.csv] [--folds N] [--seed N]\n"
          "            [--rejects FILE] [--input-format csv|jsonl] [EVENT OPTIONS]\n"
          "  crisk evaluate --bundle DIR --input FILE --label COLUMN [--revenue COLUMN]\n"
          "                 [--model NAME] [--rejects FILE] [--threads N]\n"
          "                 [--input-format csv|jsonl] [EVENT OPTIONS]\n"
          "  crisk audit keygen --private FILE --public FILE\n"
          "  crisk audit append LOG --key PRIVATE [--input FILE]\n"
          "  crisk audit checkpoint LOG\n"
          "  crisk audit verify LOG [--checkpoint CP] [--pubkey K]\n"
          "  crisk audit prove LOG (--index N | --id DECL [--id-key KEY]) [--checkpoint CP]\n"
          "  crisk audit check-proof PROOF --checkpoint CP --pubkey K\n"
          "  crisk audit consistency OLD_CP NEW_CP --log LOG\n"
          "  crisk audit check-consistency PROOF --old OLD_CP --new NEW_CP --pubkey K\n"
          "  crisk --version\n"
          "  crisk help\n"
          "\n"
          "predict  scores each case (row) of a CSV file and writes one CSV line of\n"
          "         outputs per case: a header 'score', or 'class_0,...,class_{k-1}' for a\n"
          "         model with k outputs, then the values (%.9g).\n"
          "  --model MODEL     an XGBoost (JSON, UBJSON, legacy binary), LightGBM (text) or\n"
          "                    crisk logistic model file\n"
          "  --input FILE      CSV (RFC 4180, UTF-8, LF or CRLF): a header row of feature\n"
          "                    names, then one case per row; '-' reads stdin. An empty cell,\n"
          "                    NA or NaN (any case) is a missing value. If the model stores\n"
          "                    feature names, columns are matched by name; otherwise there\n"
          "                    must be one column per feature, in the model's order.\n"
          "  --output FILE     where to write the scores (default: stdout); removed again\n"
          "                    if scoring fails part-way\n"
          "  --margin          raw margins instead of transformed outputs (probabilities)\n"
          "  --threads N       threads per batch; 0 = all cores (default 1)\n"
          "  --ignore-extra    skip header columns that are not features of the model\n"
          "                    (by default they are an error)\n"
          "  --batch-rows N    cases read and scored at a time (default 4096)\n"
          "  --sha256 HEX      refuse the model unless its SHA-256 is HEX (pinning)\n"
          "  --contribs        exact SHAP contributions instead of scores, in margin space:\n"
          "                    a column per feature (its name, or f<index>) and 'bias',\n"
          "                    prefixed 'class_<k>:' for a model with several margins;\n"
          "                    each line's values sum to the margin\n"
          "inspect  prints the model's format, objective, booster, trees, iterations,\n"
          "         depth, nodes, features, classes, outputs, memory and sha256, one per\n"
          "         line.\n"
          "score    reads declarations (CSV with a header of field names, or JSON Lines;\n"
          "         by extension, '-' is stdin and CSV unless --input-format) and writes\n"
          "         one record per declaration: id, each model's score, lane, reason,\n"
          "         profile hits (';'-joined; an array in JSON Lines). Output: CSV, or\n"
          "         JSON Lines when --output ends in .jsonl or --format jsonl. A\n"
          "         multi-class model gives a column MODEL:score_K per class K (JSON\n"
          "         Lines: an array); lanes use the policy's score model, which has one\n"
          "         output.\n"
          "  --rejects FILE    rejected rows as CSV line,reason,raw (JSON Lines if .jsonl);\n"
          "                    without it each reject is a line on stderr\n"
          "  --state FILE      streaming lanes: the state is loaded if FILE exists, and\n"
          "                    saved there at the end\n"
          "  --batch-rows N    declarations read and scored at a time (default 8192)\n"
          "  --explain K       reason codes: the score model's contributions grouped onto\n"
          "                    declaration fields, the top K per declaration as columns\n"
          "                    reason_1..reason_K \"field=value (+0.42)\" (JSON Lines: a\n"
          "                    \"reasons\" array), and hit_descriptions \"P-001: text; ...\"\n"
          "  --audit LOG --audit-key PRIVATE  append one leaf per scored declaration to\n"
          "                    the decision log LOG and a signed checkpoint per batch\n"
          "  --protect-ids KEY personal fields (schema \"personal\") as keyed hashes\n"
          "                    (HMAC-SHA256 under the bytes of file KEY): extra columns,\n"
          "                    reason values, audit leaves; --drop-ids: none written\n"
          "  --timings         print the wall time of each stage to stderr at the end:\n"
          "                    read (parse), features, models, profiles, lanes, output\n"
          "         stderr ends with 'rows read: R, scored: S, rejected: J' (R = S + J);\n"
          "         rejected rows do not change the exit status.\n"
          "fit      fits the schema's tables from labelled declarations (the label column\n"
          "         holds 0 or 1; a row without one is rejected) and writes the fitted\n"
          "         schema; --matrix writes the training matrix (id, features with\n"
          "         out-of-fold risk indicators, label), --features the features as\n"
          "         scoring builds them (full tables) for the same rows.\n"
          "evaluate scores labelled declarations and prints the AUC and, for the top 1,\n"
          "         2, 5 and 10% by score (ceil(n% x N) rows; ties in input order):\n"
          "         precision, recall and the share of --revenue. The model is --model,\n"
          "         else the policy's score model, else the first; it must have one\n"
          "         output (a multi-class model is refused, exit 2).\n"
          "event options (score, fit, evaluate; docs/events.md):\n"
          "  --events FILE       border sensor events (JSON Lines) joined to the\n"
          "                      declarations for the schema's event features; read again\n"
          "                      for each batch, keeping only that batch's keys and window\n"
          "  --device-keys FILE  per-device HMAC keys (crisk-device-keys JSON)\n"
          "  --require-hmac      refuse every event without a valid HMAC\n"
          "  --event-rejects FILE  refused events as CSV line,kind,reason (default:\n"
          "                      stderr); stderr gets 'events read: R, accepted: A,\n"
          "                      rejected: J' (R = A + J)\n"
          "audit    a signed, verifiable decision log (docs/security.md): keygen makes an\n"
          "         Ed25519 key pair (PEM); append adds each non-empty input line as an\n"
          "         entry then prints a signed checkpoint; checkpoint prints the last one;\n"
          "         verify checks every entry, index and checkpoint (signatures with\n"
          "         --pubkey; --checkpoint: one kept elsewhere); prove prints an inclusion\n"
          "         proof (of entry N, or of the last decision on declaration DECL, found by\n"
          "         its keyed hash with --id-key) that check-proof verifies without the\n"
          "         log; consistency proves\n"
          "         that NEW_CP extends OLD_CP, which check-consistency verifies.\n"
          "\n"
          "exit status: 0 success; 1 bad model or input file, or an I/O error (the message\n"
          "names the file, line and column); 2 bad command line.\n",
          f);
}

/* Dispatches to the sub-command named by argv[1]; returns its exit code. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {
        {"predict", cli_predict}, {"inspect", cli_inspect}, {"audit", cli_audit},
        {"score", cli_score},     {"fit", cli_fit},         {"evaluate", cli_evaluate},
    };
    const char *command = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(command, commands[i].name) == 0) {
            int rc = commands[i].run(argc - 2, argv + 2);
            if (rc == CLI_HELP) {
                cli_usage(stdout);
                return CLI_EXIT_OK;
            }
            return rc;
        }
    if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
        strcmp(command, "-h") == 0) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(command, "--version") == 0 || strcmp(command, "version") == 0) {
        printf("crisk %s\n", crisk_version_string());
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "crisk: unknown command '%s' (see 'crisk help')\n", command);
    return CLI_EXIT_USAGE;
}
