/*
 * common/jsonfile.c — reading one JSON document from a file, within a size limit, and checking
 * an object's keys against the ones a format allows.
 */
#include "common/jsonfile.h"

#include "common/error.h"
#include "common/file.h"
#include "common/jsonpull.h"

#include <stdlib.h>
#include <string.h>

int crisk__json_read_file(const char *path, size_t max_bytes, cJSON **out, crisk_error *err)
{
    unsigned char *data = NULL;
    size_t size = 0;
    *out = NULL;
    int rc = crisk__read_file(path, max_bytes, &data, &size, err);
    if (rc)
        return rc;
    rc = crisk__json_parse_text(path, (const char *)data, size, out, err);
    free(data);
    return rc;
}

size_t crisk__json_find_nul(const char *text, size_t len)
{
    size_t open = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"') {
            in_string = !in_string;
            open = i;
        } else if (in_string && text[i] == '\\' && i + 1 < len) {
            if (len - i >= 6 && memcmp(text + i, "\\u0000", 6) == 0)
                return open;
            i++; /* the escaped character, which may be a quote */
        }
    }
    return len;
}

int crisk__json_refuse_nul(const char *path, const char *data, size_t size, crisk_error *err)
{
    size_t at = crisk__json_find_nul(data, size);
    if (at == size)
        return 0;
    size_t line = 1, shown = 0;
    for (size_t i = 0; i < at; i++)
        line += data[i] == '\n';
    while (at + shown + 1 < size && shown < 64 && data[at + shown + 1] != '"')
        shown += 1 + (data[at + shown + 1] == '\\');
    if (shown > size - at - 1)
        shown = size - at - 1;
    return crisk__fail(err, CRISK_E_FORMAT, "%s: line %zu, byte %zu: the string \"%.*s\" holds "
                       "\\u0000 (a NUL character), which would cut it short", path, line, at,
                       (int)shown, data + at + 1);
}

int crisk__json_parse_text(const char *path, const char *data, size_t size, cJSON **out,
                           crisk_error *err)
{
    const char *end = NULL;
    *out = NULL;
    int nul = crisk__json_refuse_nul(path, data, size, err);
    if (nul)
        return nul;
    /* cJSON bounds its own nesting (CJSON_NESTING_LIMIT), so hostile depth cannot
     * exhaust the stack here. */
    cJSON *root = cJSON_ParseWithLengthOpts(data, size, &end, 0);
    size_t at = end ? (size_t)(end - data) : 0;
    if (root)
        while (at < size && strchr(" \t\r\n", data[at]) && data[at] != '\0')
            at++;
    if (!root)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: invalid JSON at byte %zu", path, at);
    if (at < size) {
        cJSON_Delete(root);
        return crisk__fail(err, CRISK_E_FORMAT, "%s: text after the JSON document at byte %zu",
                           path, at);
    }
    *out = root;
    return 0;
}

int crisk__json_check_keys(const cJSON *obj, const char *const *allowed, const char *where,
                           crisk_error *err)
{
    for (const cJSON *k = obj->child; k; k = k->next) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], k->string) != 0)
            i++;
        if (!allowed[i])
            return crisk__fail(err, CRISK_E_FORMAT, "%s: unknown key \"%.64s\"", where,
                               k->string);
        for (const cJSON *j = obj->child; j != k; j = j->next)
            if (strcmp(j->string, k->string) == 0)
                return crisk__fail(err, CRISK_E_FORMAT, "%s: key \"%.64s\" given twice", where,
                                   k->string);
    }
    return 0;
}

/* Returns a phrase naming the JSON type of `item`, for messages (crisk__jtype_name's). */
const char *crisk__json_type_name(const cJSON *item)
{
    crisk__jtype t = cJSON_IsNumber(item) ? CRISK__J_NUMBER
                    : cJSON_IsString(item) ? CRISK__J_STRING
                    : cJSON_IsArray(item) ? CRISK__J_ARRAY
                    : cJSON_IsObject(item) ? CRISK__J_OBJECT
                    : cJSON_IsBool(item) ? CRISK__J_TRUE
                    : cJSON_IsNull(item) ? CRISK__J_NULL : CRISK__J_BAD;
    return crisk__jtype_name(t);
}

/* Checks that every key of object `obj` (at `path`) is one of the `n` `keys` (NULL entries
 * ignored) and appears once. Returns 0 or CRISK_E_FORMAT naming the key. */
int crisk__json_check_path_keys(const cJSON *obj, const char *path, const char *const *keys, size_t n,
                      crisk_error *err)
{
    const char *dot = path[0] ? "." : "";
    for (const cJSON *it = obj->child; it; it = it->next) {
        size_t k = 0;
        while (k < n && !(keys[k] && strcmp(keys[k], it->string) == 0))
            k++;
        if (k == n)
            return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: unknown key", path, dot,
                               it->string);
        for (const cJSON *o = it->next; o; o = o->next)
            if (strcmp(o->string, it->string) == 0)
                return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: duplicate key", path, dot,
                                   it->string);
    }
    return 0;
}

size_t crisk__json_array_size(const cJSON *arr)
{
    size_t n = 0;
    for (const cJSON *it = arr->child; it; it = it->next)
        n++;
    return n;
}
