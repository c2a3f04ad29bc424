/*
 * decl/keys.c — risk-table keys: a row's composite key for a key set (each part's bytes
 * after its length), splitting one back into parts, and a key set as the schema file
 * writes it. Fitting, reading fitted tables and scoring all key rows through here.
 */
#include "common/short_copy.h"
#include "decl/keys.h"
#include "decl/types.h"

#include <string.h>

/* Returns the largest size a composite key of the schema can have. */
size_t crisk__key_capacity(const crisk_schema *s)
{
    return CRISK__SCHEMA_MAX_KEY_PARTS * (2 + s->max_field_bytes);
}

/* Writes row `row`'s composite key of set `set` into `buf` (of `cap` bytes) and returns
 * its length, -1 when a part is missing, or -2 when the key needs more than `cap` bytes. */
long crisk__key_build(const crisk_schema *s, const crisk_batch *b, size_t set, size_t row,
                      char *buf, size_t cap)
{
    const crisk__key_set *ks = &s->sets[set];
    size_t o = 0;
    for (uint32_t k = 0; k < ks->nparts; k++) {
        size_t len;
        const char *t = crisk__batch_text_at(b, row, ks->parts[k].field, &len);
        if (!t)
            return -1;
        if (ks->parts[k].digits) {
            if (len < ks->parts[k].digits)
                return -1;
            len = ks->parts[k].digits;
        }
        if (cap - o < 2 + len)
            return -2;
        /* max_field_bytes <= 65535: two bytes of length, little-endian. */
        buf[o] = (char)(len & 0xff);
        buf[o + 1] = (char)(len >> 8);
        crisk__short_copy(buf + o + 2, t, len);
        o += 2 + len;
    }
    return (long)o;
}

/* Splits a composite key into its parts' texts and lengths. */
void crisk__key_split(const char *key, size_t nparts, const char **parts, size_t *lens)
{
    size_t o = 0;
    for (size_t k = 0; k < nparts; k++) {
        lens[k] = (unsigned char)key[o] | (size_t)(unsigned char)key[o + 1] << 8;
        parts[k] = key + o + 2;
        o += 2 + lens[k];
    }
}

/* Returns key set `set` as the schema file writes key lists, or NULL when out of memory. */
cJSON *crisk__key_set_to_json(const crisk_schema *s, size_t set)
{
    cJSON *arr = cJSON_CreateArray();
    for (uint32_t k = 0; arr && k < s->sets[set].nparts; k++) {
        const crisk__key_part *p = &s->sets[set].parts[k];
        cJSON *part;
        if (p->digits) {
            part = cJSON_CreateObject();
            if (part && (!cJSON_AddStringToObject(part, "field", s->fields[p->field].name)
                         || !cJSON_AddNumberToObject(part, "digits", p->digits))) {
                cJSON_Delete(part);
                part = NULL;
            }
        } else {
            part = cJSON_CreateString(s->fields[p->field].name);
        }
        if (!part || !cJSON_AddItemToArray(arr, part)) {
            cJSON_Delete(part);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}
