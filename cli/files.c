/*
 * files.c — the command's input and output streams: opening an input ("-" is stdin) or an
 * output (none: stdout), delivering what was written so far, finishing an output with its
 * write errors reported, and removing a failed run's output only when the run created it;
 * opening a CSV file of earlier output (decisions) and finding its columns.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The stdio buffer of an output file. */
#define OUTPUT_BUFFER_BYTES ((size_t)1 << 20)

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

int cli_open_csv(const char *path, FILE **f, crisk_csv_reader **r)
{
    crisk_error err;
    *r = NULL;
    if (!(*f = fopen(path, "rb"))) {
        cli_report(path, strerror(errno));
        return 1;
    }
    if (crisk_csv_open(*f, NULL, r, &err) != 0) {
        cli_report(path, err.message);
        fclose(*f);
        *f = NULL;
        return 1;
    }
    return 0;
}

long cli_csv_column(const char **names, size_t n, const char *name)
{
    for (size_t j = 0; j < n; j++)
        if (strcmp(names[j], name) == 0)
            return (long)j;
    return -1;
}

int cli_output_open(cli_output *o, const char *path)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    o->f = stdout;
    if (!path)
        return 0;
    /* Created here, or there before (a device, a pipe, a file of the caller's, or
     * /dev/stdout): only the first may be removed when the run fails. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    o->created = fd >= 0;
    if (fd < 0 && errno == EEXIST)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    struct stat st;
    o->f = fd >= 0 && fstat(fd, &st) == 0 ? fdopen(fd, "w") : NULL;
    if (!o->f) {
        cli_report(path, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (o->created)
            unlink(path);
        return -1;
    }
    /* Records are written a few bytes at a time: a large buffer makes few write calls. */
    setvbuf(o->f, NULL, _IOFBF, OUTPUT_BUFFER_BYTES);
    o->regular = S_ISREG(st.st_mode);
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    return 0;
}

int cli_output_deliver(cli_output *o)
{
    if (fflush(o->f) != 0 || ferror(o->f))
        return -1;
    return o->regular && fsync(fileno(o->f)) != 0 ? -1 : 0;
}

int cli_output_discard(const cli_output *o)
{
    struct stat st;
    if (!o->created || lstat(o->path, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_dev != o->dev || st.st_ino != o->ino)
        return 0;
    return unlink(o->path) == 0;
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
