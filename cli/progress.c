/*
 * progress.c — progress of a long run on a terminal: rows done, rows per second and, when
 * the input's size is known, the time left, redrawn on one stderr line at most four times
 * a second. Nothing when stderr is not a terminal (a pipe, a log file) or with --quiet, so
 * that what scripts read never changes.
 */
#include "cli.h"

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Least time between two redraws, in seconds. */
#define REDRAW_SECONDS 0.25

/* Returns a monotonic time in seconds. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(cli_progress *p, int quiet, FILE *in)
{
    struct stat st;
    p->on = !quiet && isatty(STDERR_FILENO);
    p->in = in;
    p->size = in && fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) ? (double)st.st_size
                                                                       : 0;
    p->start = p->last = now();
    p->shown = 0;
}

void cli_progress_update(cli_progress *p, uint64_t rows, int final)
{
    if (!p->on)
        return;
    double t = now(), elapsed = t - p->start;
    if (!final && t - p->last < REDRAW_SECONDS)
        return;
    p->last = t;
    double rate = elapsed > 0 ? (double)rows / elapsed : 0;
    fprintf(stderr, "\r\033[K%llu rows, %.0f rows/s", (unsigned long long)rows, rate);
    long pos = p->size > 0 && !final ? ftell(p->in) : -1;
    if (pos > 0 && elapsed > 0) {
        double done = (double)pos / p->size, left = elapsed * (1 - done) / done;
        fprintf(stderr, ", %.0f%%, %.0f s left", 100 * done, left > 0 ? left : 0);
    }
    if (final)
        fprintf(stderr, " in %.1f s\n", elapsed);
    fflush(stderr);
    p->shown = 1;
}
