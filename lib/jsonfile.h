/*
 * jsonfile.h — reading a small JSON document (a manifest, rule file, policy or saved lane
 * state) from a file. Internal to the library.
 */
#ifndef CRISK_JSONFILE_H
#define CRISK_JSONFILE_H

#include "crisk.h"

#include <cjson/cJSON.h>

/* Reads the file at `path` (at most `max_bytes`) and parses it as one JSON document,
 * refusing text after it; stores the tree in `*out` (the caller's, to cJSON_Delete).
 * Returns 0, or CRISK_E_IO / CRISK_E_LIMIT / CRISK_E_FORMAT (with the byte offset of
 * the syntax error) / CRISK_E_NOMEM, the message starting with `path`. */
int crisk_json_read_file(const char *path, size_t max_bytes, cJSON **out, crisk_error *err);

#endif /* CRISK_JSONFILE_H */
