/*
 * main.c — the `crisk` command: the overview and per-command usage, --version, and
 * dispatch to the sub-commands.
 */
#include "cli.h"

#include <string.h>

/* The commands, in the order the overview lists them. */
static const cli_command *const commands[] = {
    &cli_cmd_predict, &cli_cmd_inspect, &cli_cmd_score,
    &cli_cmd_fit,     &cli_cmd_evaluate, &cli_cmd_monitor, &cli_cmd_report,
    &cli_cmd_audit,
};
#define NUM_COMMANDS (sizeof commands / sizeof commands[0])

static const char exit_status[] =
    "exit status: 0 success; 1 bad model or input file, or an I/O error (the message\n"
    "names the file, line and column); 2 bad command line; 3 (monitor) a drift alert.\n";

/* Prints the overview: every command's synopsis and summary, and the exit codes. */
static void print_overview(FILE *f)
{
    fputs("usage:\n", f);
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        fputs(commands[i]->synopsis, f);
    fputs("  crisk --version\n"
          "  crisk help\n\n", f);
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        fprintf(f, "%-9s%s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n'crisk COMMAND --help' describes a command and its options.\n\n%s",
            exit_status);
}

/* Prints the usage of command `c` alone. */
static void print_usage(FILE *f, const cli_command *c)
{
    fprintf(f, "usage:\n%s\n%s", c->synopsis, c->details);
    if (c->reads_declarations)
        fputs(cli_event_usage, f);
    fprintf(f, "\n%s", exit_status);
}

/* Dispatches to the sub-command named by argv[1]; returns its exit code. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        if (strcmp(name, commands[i]->name) == 0) {
            int rc = commands[i]->run(argc - 2, argv + 2);
            if (rc != CLI_HELP)
                return rc;
            print_usage(stdout, commands[i]);
            return CLI_EXIT_OK;
        }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 ||
        strcmp(name, "-h") == 0) {
        print_overview(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("crisk %s\n", crisk_version_string());
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "crisk: unknown command '%s' (see 'crisk help')\n", name);
    return CLI_EXIT_USAGE;
}
