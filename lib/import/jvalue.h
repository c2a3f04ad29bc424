/*
 * import/jvalue.h — a JSON value the XGBoost importer reads either from a cJSON tree or in
 * place from text jsonpull has checked, with cJSON's semantics both ways (the first
 * member of a name, numbers as strtod reads them), so that one reader serves both.
 * Internal to the library.
 */
#ifndef CRISK_IMPORT_JVALUE_H
#define CRISK_IMPORT_JVALUE_H

#include "common/jsonpull.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* A value: `item` in a cJSON tree, or (item NULL) the value at cursor `at`. */
typedef struct crisk__jvalue {
    const cJSON *item;
    crisk__jpull at;
} crisk__jvalue;

/* The items of an array, read in order. */
typedef struct crisk__jitems {
    const cJSON *next; /* the next item of a cJSON array */
    crisk__jpull c;    /* or a cursor inside the array's text */
    int text;
} crisk__jitems;

/* Returns the value that is cJSON item `item` (not NULL). */
crisk__jvalue crisk__jvalue_item(const cJSON *item);

/* Returns the JSON type of `v`. */
crisk__jtype crisk__jvalue_type(const crisk__jvalue *v);

/* Finds member `key` of object `obj` as cJSON_GetObjectItemCaseSensitive does (the first
 * whose decoded name equals `key`; cJSON's name ends at an escaped NUL). Returns 1 and
 * stores it in `*out` when found, 0 when not (or `obj` is no object). */
int crisk__jvalue_member(const crisk__jvalue *obj, const char *key, crisk__jvalue *out);

/* Returns the number of items of array or object `v`, 0 for any other value. */
size_t crisk__jvalue_count(const crisk__jvalue *v);

/* Stores number `v` in `*out`. Returns 0, or -1 when it is not a number. */
int crisk__jvalue_number(const crisk__jvalue *v, double *out);

/* Reads string `v` as cJSON's valuestring (decoded, ending at an escaped NUL): stores its
 * bytes in `*s` (not NUL-terminated) and its length in `*len`, valid until `*hold` (the
 * caller's, to cJSON_Delete; NULL unless the rare escapes jsonpull leaves to cJSON came up)
 * is freed and the next string is read through the same cursor's shared state. Returns 0,
 * or -1 when `v` is no string (or cJSON does not decode it). */
int crisk__jvalue_string(const crisk__jvalue *v, const char **s, size_t *len, cJSON **hold);

/* Starts `it` at the first item of array `arr`. Returns 0, or -1 when it is no array. */
int crisk__jitems_open(const crisk__jvalue *arr, crisk__jitems *it);

/* Reads the numbers that come next, at most `cap`, into `out`; stops before any other
 * item. Returns how many it read. */
size_t crisk__jitems_numbers(crisk__jitems *it, double *out, size_t cap);

/* Stores the next item in `*v` and moves past it. Returns 1, or 0 after the last. */
int crisk__jitems_next(crisk__jitems *it, crisk__jvalue *v);

#endif /* CRISK_IMPORT_JVALUE_H */
