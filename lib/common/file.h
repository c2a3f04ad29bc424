/*
 * common/file.h — reading a whole file within a size limit. Internal.
 */
#ifndef CRISK_COMMON_FILE_H
#define CRISK_COMMON_FILE_H

#include "crisk.h"

#include <stddef.h>

/* Reads the whole regular file at `path` into a malloc'd, NUL-terminated buffer stored in
 * `*data` (`*size` bytes before the NUL), refusing directories, other non-regular files
 * and files over `max_bytes`. Returns 0 or CRISK_E_IO / CRISK_E_LIMIT / CRISK_E_NOMEM
 * naming the path. Shared by the model, schema and bundle loaders. */
int crisk__read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size,
                      crisk_error *err);

#endif /* CRISK_COMMON_FILE_H */
