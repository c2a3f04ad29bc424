/*
 * files.c — the command's input and output streams: opening an input ("-" is stdin) or an
 * output (none: stdout), and finishing an output with its write errors reported.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>

/* Opens `path` for reading ("-" is stdin). Returns the stream, or NULL after reporting. */
FILE *cli_open_input(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "rb");
    if (!f)
        cli_report(path, strerror(errno));
    return f;
}

/* Opens `path` for writing (NULL: stdout). Returns the stream, or NULL after reporting. */
FILE *cli_open_output(const char *path)
{
    if (!path)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        cli_report(path, strerror(errno));
    return f;
}

/* Flushes and closes `out` (unless it is stdout, which is only flushed). Returns 0, or -1
 * after reporting a write error. */
int cli_finish_output(FILE *out, const char *name)
{
    int failed = fflush(out) != 0 || ferror(out);
    int saved = errno;
    if (out != stdout && fclose(out) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (failed)
        cli_report(name, saved ? strerror(saved) : "write error");
    return failed ? -1 : 0;
}
