/*
 * import/jvalue.c — a JSON value read from a cJSON tree or in place from checked text, with
 * cJSON's semantics both ways (see jvalue.h).
 */
#include "import/jvalue.h"

#include <string.h>

crisk__jvalue crisk__jvalue_item(const cJSON *item)
{
    crisk__jvalue v;
    memset(&v, 0, sizeof v);
    v.item = item;
    return v;
}

crisk__jtype crisk__jvalue_type(const crisk__jvalue *v)
{
    if (!v->item) {
        crisk__jpull c = v->at;
        return crisk__jpull_peek(&c);
    }
    switch (v->item->type & 0xff) {
    case cJSON_Number:
        return CRISK__J_NUMBER;
    case cJSON_String:
        return CRISK__J_STRING;
    case cJSON_Array:
        return CRISK__J_ARRAY;
    case cJSON_Object:
        return CRISK__J_OBJECT;
    case cJSON_True:
        return CRISK__J_TRUE;
    case cJSON_False:
        return CRISK__J_FALSE;
    case cJSON_NULL:
        return CRISK__J_NULL;
    default:
        return CRISK__J_BAD;
    }
}

/* Returns the string whose text (quotes included) spans [start, end) as cJSON decodes it,
 * or NULL when it does not: for the escapes jsonpull does not decode (an escaped NUL, which
 * ends cJSON's string, and surrogates). The caller frees it with cJSON_Delete. */
static cJSON *cjson_string(const char *start, const char *end)
{
    cJSON *s = cJSON_ParseWithLength(start, (size_t)(end - start));
    if (cJSON_IsString(s))
        return s;
    cJSON_Delete(s);
    return NULL;
}

/* Reads the string at `c` as crisk__jvalue_string does. */
static int text_string(crisk__jpull *c, const char **s, size_t *len, cJSON **hold)
{
    crisk__jpull at = *c;
    int rc = crisk__jpull_string(c, s, len);
    if (rc == 0 || crisk__jpull_peek(&at) != CRISK__J_STRING)
        return rc == 0 ? 0 : -1;
    *c = at;
    if (crisk__jpull_skip(c) || !(*hold = cjson_string(at.p, c->p)))
        return -1;
    *s = (*hold)->valuestring;
    *len = strlen(*s);
    return 0;
}

int crisk__jvalue_string(const crisk__jvalue *v, const char **s, size_t *len, cJSON **hold)
{
    *hold = NULL;
    if (v->item) {
        if (!cJSON_IsString(v->item))
            return -1;
        *s = v->item->valuestring;
        *len = strlen(*s);
        return 0;
    }
    crisk__jpull c = v->at;
    return text_string(&c, s, len, hold);
}

/* Reads the key at `c` and the ':' after it; returns 1 when it names `key` as cJSON reads
 * it, 0 when not, -1 when there is no key. */
static int key_is(crisk__jpull *c, const char *key)
{
    const char *s;
    size_t len;
    cJSON *hold = NULL;
    if (text_string(c, &s, &len, &hold))
        return -1;
    int same = len == strlen(key) && memcmp(s, key, len) == 0;
    cJSON_Delete(hold);
    crisk__jpull colon = *c;
    if (crisk__jpull_peek(&colon) == CRISK__J_BAD && colon.p < colon.end && *colon.p == ':')
        c->p = colon.p + 1;
    else
        return -1;
    return same;
}

int crisk__jvalue_member(const crisk__jvalue *obj, const char *key, crisk__jvalue *out)
{
    if (obj->item) {
        const cJSON *m = cJSON_IsObject(obj->item)
                             ? cJSON_GetObjectItemCaseSensitive(obj->item, key) : NULL;
        if (m)
            *out = crisk__jvalue_item(m);
        return m != NULL;
    }
    crisk__jpull c = obj->at;
    if (crisk__jpull_peek(&c) != CRISK__J_OBJECT || crisk__jpull_enter(&c))
        return 0;
    while (crisk__jpull_more(&c)) {
        int same = key_is(&c, key);
        if (same < 0)
            return 0;
        if (same) {
            *out = crisk__jvalue_item(NULL);
            out->at = c;
            crisk__jpull_peek(&out->at);
            return 1;
        }
        if (crisk__jpull_skip(&c))
            return 0;
    }
    return 0;
}

size_t crisk__jvalue_count(const crisk__jvalue *v)
{
    if (v->item)
        return cJSON_IsArray(v->item) || cJSON_IsObject(v->item)
                   ? (size_t)cJSON_GetArraySize(v->item) : 0;
    crisk__jpull c = v->at;
    crisk__jtype t = crisk__jpull_peek(&c);
    return t == CRISK__J_ARRAY || t == CRISK__J_OBJECT ? crisk__jpull_count(&c) : 0;
}

int crisk__jvalue_number(const crisk__jvalue *v, double *out)
{
    if (v->item) {
        if (!cJSON_IsNumber(v->item))
            return -1;
        *out = v->item->valuedouble;
        return 0;
    }
    crisk__jpull c = v->at;
    return crisk__jpull_number(&c, out);
}

int crisk__jitems_open(const crisk__jvalue *arr, crisk__jitems *it)
{
    memset(it, 0, sizeof *it);
    if (arr->item) {
        it->next = cJSON_IsArray(arr->item) ? arr->item->child : NULL;
        return cJSON_IsArray(arr->item) ? 0 : -1;
    }
    it->text = 1;
    it->c = arr->at;
    return crisk__jpull_peek(&it->c) == CRISK__J_ARRAY ? crisk__jpull_enter(&it->c) : -1;
}

size_t crisk__jitems_numbers(crisk__jitems *it, double *out, size_t cap)
{
    if (it->text)
        return crisk__jpull_numbers(&it->c, out, cap);
    size_t n = 0;
    for (; n < cap && cJSON_IsNumber(it->next); it->next = it->next->next)
        out[n++] = it->next->valuedouble;
    return n;
}

int crisk__jitems_next(crisk__jitems *it, crisk__jvalue *v)
{
    if (!it->text) {
        if (!it->next)
            return 0;
        *v = crisk__jvalue_item(it->next);
        it->next = it->next->next;
        return 1;
    }
    if (!crisk__jpull_more(&it->c))
        return 0;
    *v = crisk__jvalue_item(NULL);
    v->at = it->c;
    crisk__jpull_peek(&v->at);
    /* A stray byte (not in checked text) ends the array rather than stalling it. */
    if (crisk__jpull_skip(&it->c)) {
        it->c.p = it->c.end;
        return 0;
    }
    return 1;
}
