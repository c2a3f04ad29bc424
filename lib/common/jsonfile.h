/*
 * common/jsonfile.h — reading a small JSON document (a manifest, rule file, policy or saved lane
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
int crisk__json_read_file(const char *path, size_t max_bytes, cJSON **out, crisk_error *err);

/* Parses the `size` bytes at `data` (read from `path`, for messages) as
 * crisk__json_read_file does. A string holding the escape \u0000 is refused
 * (CRISK_E_FORMAT naming the line and the string): cJSON decodes it to a NUL byte, and the
 * C string it gives would silently end there ("IMP\u0000X" read as "IMP"). */
int crisk__json_parse_text(const char *path, const char *data, size_t size, cJSON **out,
                           crisk_error *err);

/* Returns the offset of the opening quote of the first string in the `len` bytes of JSON
 * text at `text` that holds the escape \u0000, or `len` when none does. */
size_t crisk__json_find_nul(const char *text, size_t len);

/* Returns 0, or CRISK_E_FORMAT naming `path`, the line and the string, when a string of
 * the `size` bytes of JSON text at `data` holds \u0000 (see crisk__json_parse_text). */
int crisk__json_refuse_nul(const char *path, const char *data, size_t size,
                           crisk_error *err);

/* Refuses, in JSON object `obj`, a key not in the NULL-terminated `allowed` list or a key
 * given twice (CRISK_E_FORMAT, the message starting with `where`), so that a misspelt
 * key never silently drops a setting. Returns 0 when every key is allowed and distinct. */
int crisk__json_check_keys(const cJSON *obj, const char *const *allowed, const char *where,
                           crisk_error *err);

/* Returns a phrase naming the JSON type of `item` ("a string", "an array", ...), for
 * messages. */
const char *crisk__json_type_name(const cJSON *item);

/* Returns the number of elements of JSON array `arr` (counted, not cJSON's int). */
size_t crisk__json_array_size(const cJSON *arr);

/* Checks that every key of object `obj` (at JSON path `path`, "" for the root) is one of
 * the `n` `keys` (NULL entries ignored) and appears once. Returns 0, or CRISK_E_FORMAT
 * with the message "PATH.KEY: unknown key" or "PATH.KEY: duplicate key". */
int crisk__json_check_path_keys(const cJSON *obj, const char *path, const char *const *keys,
                                size_t n, crisk_error *err);

#endif /* CRISK_JSONFILE_H */
