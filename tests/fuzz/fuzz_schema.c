/*
 * fuzz_schema.c — libFuzzer target: loading a declaration schema (with a fitted section)
 * from arbitrary bytes, and the strict JSON check the fitted section is read in place
 * after (lib/common/jsonpull.c): a text it passes must be one cJSON also parses, and skipping or
 * counting a container through its index must agree with scanning it.
 */
#include "fuzz_common.h"

#include "decl/fitted_read.h"
#include "common/jsonpull.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Checks the indexed containers of checked text `data` against scans of them. */
static void check_index(const char *data, size_t size, const crisk__jindex *index)
{
    crisk__jshared with = {NULL, 0, (locale_t)0, index}, without = {NULL, 0, (locale_t)0, NULL};
    for (size_t i = 0; i < index->n; i++) {
        const crisk__jspan *span = &index->spans[i];
        crisk__jpull a, b;
        crisk__jpull_init(&a, span->start, (size_t)(data + size - span->start), &with);
        crisk__jpull_init(&b, span->start, (size_t)(data + size - span->start), &without);
        if (crisk__jpull_count(&a) != crisk__jpull_count(&b) || crisk__jpull_skip(&a)
            || crisk__jpull_skip(&b) || a.p != b.p || a.p != span->end)
            abort();
    }
    free(without.buf);
    free(with.buf);
}

/* Checks `data` as JSON, then loads it as a schema file. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crisk__jindex index = {NULL, 0, 0, 256, 5};
    if (crisk__json_check_text((const char *)data, size, 16, &index)) {
        cJSON *root = cJSON_ParseWithLength((const char *)data, size);
        if (!root)
            abort(); /* the subset read in place must be JSON cJSON reads */
        cJSON_Delete(root);
        check_index((const char *)data, size, &index);
    }
    free(index.spans);
    char path[] = "/tmp/crisk-fuzz-schema-XXXXXX";
    fuzz_write_temp(data, size, path);
    crisk_schema *s = NULL;
    crisk_error err;
    int rc = crisk_schema_load(path, &s, &err);
    unlink(path);
    if (rc)
        fuzz_check_failure(rc, &err);
    crisk_schema_free(s);
    return 0;
}
