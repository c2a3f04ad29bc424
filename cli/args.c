/*
 * args.c — the command line of a sub-command: options with and without arguments, and
 * integer arguments.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Returns the option of `opts` that `word` names (a "--name=value" word matches on the
 * part before '='), or NULL. Stores in `*inline_value` what follows '=' (NULL if none). */
static const cli_option *find_option(const char *word, const cli_option *opts, size_t nopts,
                                     const char **inline_value)
{
    const char *eq = strchr(word, '=');
    size_t len = eq ? (size_t)(eq - word) : strlen(word);
    *inline_value = eq ? eq + 1 : NULL;
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, word, len) == 0)
            return &opts[i];
    return NULL;
}

/* Prints "crisk `command`: A is required" (or "A and B are required", "A, B and C are
 * required") naming the first `nrequired` options of `opts`, to stderr. */
static void report_required(const char *command, const cli_option *opts, size_t nrequired)
{
    fprintf(stderr, "crisk %s: ", command);
    for (size_t i = 0; i < nrequired; i++)
        fprintf(stderr, "%s%s", i == 0 ? "" : i + 1 == nrequired ? " and " : ", ",
                opts[i].name);
    fprintf(stderr, " %s required (see 'crisk %s --help')\n", nrequired == 1 ? "is" : "are",
            command);
}

/* Matches each word against the options, then checks the required ones; returns 0,
 * CLI_HELP or CLI_EXIT_USAGE. */
int cli_parse_args(const char *command, int argc, char **argv, const cli_option *opts,
                   size_t nopts, size_t nrequired)
{
    for (int i = 0; i < argc; i++) {
        const char *word = argv[i];
        if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0)
            return CLI_HELP;
        const char *value;
        const cli_option *opt = find_option(word, opts, nopts, &value);
        if (!opt) {
            fprintf(stderr, "crisk %s: %s '%s' (see 'crisk %s --help')\n", command,
                    word[0] == '-' ? "unknown option" : "unexpected argument", word, command);
            return CLI_EXIT_USAGE;
        }
        if (opt->flag) {
            if (value) {
                fprintf(stderr, "crisk %s: %s takes no value\n", command, opt->name);
                return CLI_EXIT_USAGE;
            }
            *opt->flag = 1;
            continue;
        }
        if (*opt->value) {
            fprintf(stderr, "crisk %s: %s is given twice\n", command, opt->name);
            return CLI_EXIT_USAGE;
        }
        if (!value) {
            if (i + 1 == argc) {
                fprintf(stderr, "crisk %s: %s needs a value\n", command, opt->name);
                return CLI_EXIT_USAGE;
            }
            value = argv[++i];
        }
        *opt->value = value;
    }
    for (size_t i = 0; i < nrequired; i++)
        if (!*opts[i].value) {
            report_required(command, opts, nrequired);
            return CLI_EXIT_USAGE;
        }
    return 0;
}

/* Parses a whole decimal integer within [lo, hi], if given; returns 0 or
 * CLI_EXIT_USAGE. */
int cli_parse_int(const char *name, const char *text, long lo, long hi, long *out)
{
    if (!text)
        return 0; /* the option was not given: `*out` keeps its default */
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || v < lo || v > hi) {
        fprintf(stderr, "crisk: %s must be an integer from %ld to %ld, not '%s'\n", name, lo,
                hi, text);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return 0;
}
