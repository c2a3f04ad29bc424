/*
 * replay.c — runs a fuzz target's LLVMFuzzerTestOneInput over files, for builds without
 * libFuzzer: each argument is a file or a directory of files. The normal test run
 * replays every target over its seed corpus and its regression inputs this way.
 * Files whose names start with '.' are skipped.
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads the file at `path` and runs the target on its bytes; returns 0, or 1 when the
 * file cannot be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 1 << 16, size = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + size, 1, cap - size, f)) > 0) {
        size += got;
        if (size == cap) {
            unsigned char *grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 0;
}

/* Replays every regular file named on the command line or inside a directory named
 * there; returns 0, or 1 when a file cannot be read. */
int main(int argc, char **argv)
{
    int failed = 0;
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            failed = 1;
        } else if (!S_ISDIR(st.st_mode)) {
            failed |= replay_file(argv[i]);
            count++;
        } else {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d)) != NULL) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
                /* Dot files (.gitkeep) keep empty directories in git. */
                if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                    failed |= replay_file(path);
                    count++;
                }
            }
            if (d)
                closedir(d);
        }
    }
    printf("replayed %zu inputs\n", count);
    return failed;
}
