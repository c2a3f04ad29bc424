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
          "                [--threads N] [--ignore-extra] [--batch-rows N] [--sha256 HEX]\n"
          "  crisk inspect --model MODEL [--sha256 HEX]\n"
          "  crisk audit keygen --private FILE --public FILE\n"
          "  crisk audit append LOG --key PRIVATE [--input FILE]\n"
          "  crisk audit checkpoint LOG\n"
          "  crisk audit verify LOG [--checkpoint CP] [--pubkey K]\n"
          "  crisk audit prove LOG --index N [--checkpoint CP]\n"
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
          "inspect  prints the model's format, objective, booster, trees, iterations,\n"
          "         depth, nodes, features, classes, outputs, memory and sha256, one per\n"
          "         line.\n"
          "audit    a signed, verifiable decision log (docs/security.md): keygen makes an\n"
          "         Ed25519 key pair (PEM); append adds each non-empty input line as an\n"
          "         entry then prints a signed checkpoint; checkpoint prints the last one;\n"
          "         verify checks every entry, index and checkpoint (signatures with\n"
          "         --pubkey; --checkpoint: one kept elsewhere); prove prints an inclusion\n"
          "         proof that check-proof verifies without the log; consistency proves\n"
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
    const char *command = argv[1];
    if (strcmp(command, "predict") == 0)
        return cli_predict(argc - 2, argv + 2);
    if (strcmp(command, "inspect") == 0)
        return cli_inspect(argc - 2, argv + 2);
    if (strcmp(command, "audit") == 0)
        return cli_audit(argc - 2, argv + 2);
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
