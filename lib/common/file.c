/*
 * common/file.c — the whole-file reader of file.h.
 */
#include "common/file.h"

#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int crisk__read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size,
                      crisk_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return crisk__fail(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return crisk__fail(err, CRISK_E_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        fclose(f);
        return crisk__fail(err, CRISK_E_LIMIT,
                           "%s: %lld bytes, more than the limit max_file_bytes = %zu", path,
                           (long long)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || got != n) {
        free(buf);
        return crisk__fail(err, CRISK_E_IO, "%s: read %zu of %zu bytes", path, got, n);
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return 0;
}
