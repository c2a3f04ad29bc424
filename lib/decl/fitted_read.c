/*
 * decl/fitted_read.c — reading the "fitted" object of a schema file (docs/schema.md, "The
 * fitted section") into the schema's dictionaries, risk tables and bands. The text is
 * read in place with lib/jsonpull.h rather than through a cJSON tree: a fitted schema
 * holds hundreds of thousands of entries, and a tree node, a malloc and a strtod for each
 * of their values made loading cost more than scoring a large file. Strict: every error
 * names its JSON path.
 */
#include "common/canon.h"
#include "common/error.h"
#include "common/jsonpull.h"
#include "decl/fitted.h"
#include "decl/fitted_read.h"
#include "decl/keys.h"
#include "decl/plain_features.h"
#include "decl/types.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Why a fitted key or dictionary value that declarations could never have is refused: a
 * table of such keys would silently never match. */
#define NOT_CANONICAL "not in the canonical form of identifiers and codes (docs/schema.md: " \
                      "trimmed, upper case, printable ASCII); fit the schema again"

#define PATH_SIZE 160

/* Returns the phrase naming the type of the value at cursor `c`, for messages. */
static const char *type_at(crisk__jpull c)
{
    return crisk__jtype_name(crisk__jpull_peek(&c));
}

/* Checks that member `key` of the object at `path` was `found` and is an array (at
 * `val`). Returns 0 or CRISK_E_FORMAT naming `path`.key. */
static int want_array(int found, crisk__jpull *val, const char *path, const char *key,
                      crisk_error *err)
{
    if (!found)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.%s: missing (an array is required)", path,
                           key);
    if (crisk__jpull_peek(val) != CRISK__J_ARRAY)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.%s: expected an array, got %s", path, key,
                           type_at(*val));
    return 0;
}

/* Stores in `*out` a cursor at member `key` of `obj` (at `path`), which must be an object
 * whose member is an array. Returns 0 or CRISK_E_FORMAT naming the path. */
static int member_array(const crisk__jpull *obj, const char *path, const char *key,
                        crisk__jpull *out, crisk_error *err)
{
    crisk__jpull o = *obj;
    if (crisk__jpull_peek(&o) != CRISK__J_OBJECT)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an object, got %s", path,
                           type_at(o));
    return want_array(crisk__jpull_member(&o, key, out), out, path, key, err);
}

/* Checks that a value (`is_number`, `v`) at `path` is a whole number in [0, `max`] and
 * stores it in `*out`. Returns 0 or CRISK_E_FORMAT. */
static int check_count(int is_number, double v, const char *path, double max, double *out,
                       crisk_error *err)
{
    if (!is_number || !(v >= 0 && v <= max) || v != floor(v))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected a whole number in [0, %.0f]",
                           path, max);
    *out = v;
    return 0;
}

/* Reads the value at `it` (NULL: the member is missing) at `path` as a whole number in
 * [0, `max`] into `*out`. Returns 0 or CRISK_E_FORMAT. */
static int read_count(const crisk__jpull *it, const char *path, double max, double *out,
                      crisk_error *err)
{
    crisk__jpull c;
    double v = 0;
    int is_number = 0;
    if (it) {
        c = *it;
        is_number = crisk__jpull_number(&c, &v) == 0;
    }
    return check_count(is_number, v, path, max, out, err);
}

/* Returns 1 when the string at cursor `c` is exactly `name`. */
static int string_is(crisk__jpull c, const char *name)
{
    const char *t;
    size_t len;
    return crisk__jpull_string(&c, &t, &len) == 0 && len == strlen(name)
           && memcmp(t, name, len) == 0;
}

/* Inserts `len` bytes of `key` into `map` as a new key, failing on a duplicate. Stores
 * its index in `*k`. */
static int insert_new(crisk__strmap *map, const char *key, size_t len, const char *path,
                      size_t *k, crisk_error *err)
{
    size_t before = map->size;
    int rc = crisk__strmap_insert(map, key, len, k);
    if (rc)
        return crisk__fail(err, rc, "%s: out of memory", path);
    if (map->size == before)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: the key appears twice", path);
    return 0;
}

/* Writes `base` followed by "[k]" into `out` (of `size` bytes), cut to fit like
 * snprintf: the JSON path of item k, made for every entry of a table with many thousands,
 * where snprintf's cost would dominate loading. */
static void path_index(char *out, size_t size, const char *base, size_t k)
{
    char digits[24];
    size_t nd = 0;
    do
        digits[nd++] = (char)('0' + k % 10);
    while ((k /= 10) != 0);
    size_t o = 0;
    for (; *base && o + 1 < size; base++)
        out[o++] = *base;
    if (o + 1 < size)
        out[o++] = '[';
    while (nd && o + 1 < size)
        out[o++] = digits[--nd];
    if (o + 1 < size)
        out[o++] = ']';
    out[o] = '\0';
}

/* One element of an entry as read: its type, a string's length, a number's value. */
typedef struct entry_item {
    crisk__jtype type;
    size_t len;
    int canonical;  /* a key part in the canonical form of identifiers (common/canon.h) */
    double num;
} entry_item;

/* Reads the elements of the entry at `c` in one pass: up to `nparts` + 3 of them into
 * `item` (so that one too many shows), the key parts that are strings of 1 to
 * max_field_bytes copied into `key` as crisk__key_build lays them out (the first bad part
 * is refused before the key is used), the numbers after them read. Stores the number of
 * elements seen in `*n` (nparts + 3 meaning "more") and `*len` the key's length, and
 * moves `c` past the entry. Returns 0 (with *n = 0 when `c` is not at an array) or
 * CRISK_E_NOMEM. */
static int entry_items(const crisk_schema *s, crisk__jpull *c, size_t nparts, entry_item *item,
                       size_t *n, char *key, size_t *len)
{
    size_t k = 0, o = 0;
    *n = 0;
    *len = 0;
    if (crisk__jpull_peek(c) != CRISK__J_ARRAY || crisk__jpull_enter(c))
        return 0;
    while (crisk__jpull_more(c)) {
        if (k == nparts + 2) {
            *n = nparts + 3;
            return 0;
        }
        entry_item *it = &item[k++];
        it->type = crisk__jpull_peek(c);
        int rc = 0;
        if (it->type == CRISK__J_STRING && k <= nparts) {
            const char *t;
            rc = crisk__jpull_string(c, &t, &it->len);
            it->canonical = rc == 0 && crisk__canon_is(t, it->len);
            if (rc == 0 && it->len >= 1 && it->len <= s->max_field_bytes) {
                /* max_field_bytes <= 65535: two bytes of length, little-endian. */
                key[o] = (char)(it->len & 0xff);
                key[o + 1] = (char)(it->len >> 8);
                memcpy(key + o + 2, t, it->len);
                o += 2 + it->len;
            }
        } else if (it->type == CRISK__J_NUMBER && k > nparts) {
            rc = crisk__jpull_number(c, &it->num);
        } else {
            rc = crisk__jpull_skip(c);
        }
        if (rc == CRISK_E_NOMEM)
            return rc;
        if (rc)
            it->type = CRISK__J_BAD;
    }
    *n = k;
    *len = o;
    return 0;
}

/* Reads the entry at `c` (at `path`) of a risk table `t` or band table `bt`: checks its
 * key parts and numbers, then adds its key, so that a failure leaves the table unchanged.
 * With `err` NULL it only says whether the entry is good (and `path` is not used). Moves
 * `c` past the entry when it is good. Returns 0 or a negative code. */
static int read_entry(crisk_schema *s, crisk__jpull *c, size_t nparts, crisk__risk_table *t,
                      crisk__band_table *bt, char *key, const char *path, crisk_error *err)
{
    entry_item item[CRISK__SCHEMA_MAX_KEY_PARTS + 3];
    size_t n, len, idx;
    crisk__jpull e = *c;
    int rc = entry_items(s, &e, nparts, item, &n, key, &len);
    if (rc)
        return crisk__fail(err, rc, "%s: out of memory", path);
    if (n != nparts + 2)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an array of %zu key parts and 2 "
                           "numbers", path, nparts);
    for (size_t p = 0; p < nparts; p++)
        if (item[p].type != CRISK__J_STRING || item[p].len == 0
            || item[p].len > s->max_field_bytes)
            return crisk__fail(err, CRISK_E_FORMAT, "%s[%zu]: expected a string of 1 to %zu "
                               "bytes", path, p, s->max_field_bytes);
        else if (!item[p].canonical)
            return crisk__fail(err, CRISK_E_FORMAT, "%s[%zu]: %s", path, p, NOT_CANONICAL);
    const entry_item *a = &item[nparts], *b = &item[nparts + 1];
    double count = 0, pos = 0;
    if (t) {
        char nat[PATH_SIZE + 48];
        nat[0] = '\0'; /* written only to explain a failure */
        if (err)
            path_index(nat, sizeof nat, path, nparts);
        if ((rc = check_count(a->type == CRISK__J_NUMBER, a->num, nat, (double)s->fit.rows,
                              &count, err)))
            return rc;
        if (err)
            path_index(nat, sizeof nat, path, nparts + 1);
        if ((rc = check_count(b->type == CRISK__J_NUMBER, b->num, nat, count, &pos, err)))
            return rc;
        if (count == 0)
            return crisk__fail(err, CRISK_E_FORMAT, "%s: a key with no rows", path);
    } else if (a->type != CRISK__J_NUMBER || b->type != CRISK__J_NUMBER || !isfinite(a->num)
               || !isfinite(b->num) || a->num > b->num) {
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected finite bounds low <= high "
                           "after the key", path);
    }
    if ((rc = insert_new(t ? &t->keys : &bt->keys, key, len, path, &idx, err)))
        return rc;
    if (t) {
        t->stat[idx].count = (uint32_t)count;
        t->stat[idx].pos = (uint32_t)pos;
    } else {
        bt->low[idx] = a->num;
        bt->high[idx] = b->num;
    }
    *c = e;
    return 0;
}

/* Reads fitted.categories (the array at `arr`). */
static int read_categories(crisk_schema *s, const crisk__jpull *arr, crisk_error *err)
{
    char at[PATH_SIZE];
    crisk__jpull it = *arr;
    size_t i = 0;
    crisk__jpull_enter(&it);
    for (size_t j = 0; j < s->nfeatures; j++) {
        const crisk__schema_feature *f = &s->features[j];
        if (f->op != CRISK__OP_CATEGORY)
            continue;
        snprintf(at, sizeof at, "fitted.categories[%zu]", i++);
        if (!crisk__jpull_more(&it))
            return crisk__fail(err, CRISK_E_FORMAT, "%s: missing (the dictionary of feature "
                               "\"%s\")", at, f->name);
        crisk__jpull name, vals;
        int has_name = crisk__jpull_member(&it, "feature", &name);
        int rc = member_array(&it, at, "values", &vals, err);
        if (rc)
            return rc;
        if (!has_name || !string_is(name, f->name))
            return crisk__fail(err, CRISK_E_FORMAT, "%s.feature: expected \"%s\"", at, f->name);
        if (crisk__jpull_count(&vals) > CRISK__SCHEMA_MAX_CATEGORIES)
            return crisk__fail(err, CRISK_E_LIMIT, "%s.values: more than %zu values", at,
                               CRISK__SCHEMA_MAX_CATEGORIES);
        size_t k = 0, idx;
        crisk__jpull_enter(&vals);
        for (; crisk__jpull_more(&vals); k++) {
            char vat[PATH_SIZE + 32];
            snprintf(vat, sizeof vat, "%s.values[%zu]", at, k);
            const char *v = NULL;
            size_t n = 0;
            if (crisk__jpull_peek(&vals) != CRISK__J_STRING
                || (rc = crisk__jpull_string(&vals, &v, &n)) == -1)
                n = 0;
            else if (rc)
                return crisk__fail(err, rc, "%s: out of memory", vat);
            if (n == 0 || n > s->max_field_bytes)
                return crisk__fail(err, CRISK_E_FORMAT, "%s: expected a string of 1 to %zu "
                                   "bytes", vat, s->max_field_bytes);
            if (!crisk__canon_is(v, n))
                return crisk__fail(err, CRISK_E_FORMAT, "%s: %s", vat, NOT_CANONICAL);
            if ((rc = insert_new(&s->fit.dicts[f->dict], v, n, vat, &idx, err)))
                return rc;
        }
        crisk__jpull_skip(&it);
    }
    if (crisk__jpull_more(&it))
        return crisk__fail(err, CRISK_E_FORMAT, "fitted.categories[%zu]: no category feature "
                           "left for it", i);
    return 0;
}

/* Reads the entry list at `entries` (at `at`) of keys of `nparts` parts into risk table
 * `t` (count, positives) or, when `t` is NULL, into band table `bt` (low, high). */
static int read_entries(crisk_schema *s, const crisk__jpull *entries, const char *at,
                        size_t nparts, crisk__risk_table *t, crisk__band_table *bt, char *key,
                        crisk_error *err)
{
    size_t n = crisk__jpull_count(entries), k = 0;
    if (t) {
        t->stat = malloc((n ? n : 1) * sizeof *t->stat);
    } else {
        bt->low = malloc((n ? n : 1) * sizeof *bt->low);
        bt->high = malloc((n ? n : 1) * sizeof *bt->high);
    }
    if (t ? !t->stat : !bt->low || !bt->high)
        return crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory for %zu entries", at, n);
    crisk__jpull c = *entries;
    crisk__jpull_enter(&c);
    for (; crisk__jpull_more(&c); k++) {
        /* Read silently first: the JSON path of an entry is written only to explain a
         * failure (a bad entry fails again, unchanged, with its path). */
        if (read_entry(s, &c, nparts, t, bt, key, "", NULL) == 0)
            continue;
        char eat[PATH_SIZE + 32];
        path_index(eat, sizeof eat, at, k);
        int rc = read_entry(s, &c, nparts, t, bt, key, eat, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Returns the key set whose keys are the JSON value at `keys` (NULL: none given), or
 * s->nsets when no risk feature's set has them. The value is compared as cJSON compares
 * the set's own description (crisk__key_set_to_json): it is small, and parsed alone. */
static size_t table_set(const crisk_schema *s, const crisk__jpull *keys)
{
    cJSON *given = NULL;
    if (keys) {
        crisk__jpull end = *keys;
        crisk__jpull_peek(&end);
        const char *start = end.p;
        if (crisk__jpull_skip(&end) == 0)
            given = cJSON_ParseWithLength(start, (size_t)(end.p - start));
    }
    size_t set = s->nsets;
    for (size_t k = 0; given && k < s->nsets && set == s->nsets; k++) {
        cJSON *want = crisk__set_has_risk(s, k) ? crisk__key_set_to_json(s, k) : NULL;
        if (want && cJSON_Compare(want, given, 1))
            set = k;
        cJSON_Delete(want);
    }
    cJSON_Delete(given);
    return set;
}

/* Reads fitted.tables. */
static int read_tables(crisk_schema *s, const crisk__jpull *tables, char *key,
                       crisk_error *err)
{
    char at[PATH_SIZE];
    unsigned char *seen = calloc(s->nsets ? s->nsets : 1, 1);
    if (!seen)
        return crisk__fail(err, CRISK_E_NOMEM, "fitted.tables: out of memory");
    int rc = 0;
    size_t i = 0, ntables = crisk__jpull_count(tables);
    if (ntables > s->nsets)
        rc = crisk__fail(err, CRISK_E_FORMAT, "fitted.tables: %zu tables, more than the %zu "
                         "key lists of the schema", ntables, s->nsets);
    crisk__jpull it = *tables;
    crisk__jpull_enter(&it);
    for (; rc == 0 && crisk__jpull_more(&it); i++) {
        snprintf(at, sizeof at, "fitted.tables[%zu]", i);
        crisk__jpull entries, keys;
        if ((rc = member_array(&it, at, "entries", &entries, err)))
            break;
        size_t set = table_set(s, crisk__jpull_member(&it, "keys", &keys) ? &keys : NULL);
        if (set == s->nsets)
            rc = crisk__fail(err, CRISK_E_FORMAT, "%s.keys: not the keys of any risk feature",
                             at);
        else if (seen[set])
            rc = crisk__fail(err, CRISK_E_FORMAT, "%s.keys: a second table for these keys", at);
        else {
            seen[set] = 1;
            snprintf(at, sizeof at, "fitted.tables[%zu].entries", i);
            rc = read_entries(s, &entries, at, s->sets[set].nparts, &s->fit.tables[set], NULL,
                              key, err);
        }
        crisk__jpull_skip(&it);
    }
    for (size_t set = 0; set < s->nsets && rc == 0; set++)
        if (crisk__set_has_risk(s, set) && !seen[set])
            for (size_t j = 0; j < s->nfeatures && rc == 0; j++)
                if (crisk__feature_needs_fit(&s->features[j]) && s->features[j].set == set
                    && s->features[j].op != CRISK__OP_CATEGORY)
                    rc = crisk__fail(err, CRISK_E_FORMAT, "fitted.tables: no table for the "
                                     "keys of feature \"%s\"", s->features[j].name);
    free(seen);
    return rc;
}

/* Reads fitted.bands. */
static int read_bands(crisk_schema *s, const crisk__jpull *bands, char *key, crisk_error *err)
{
    char at[PATH_SIZE];
    size_t n = crisk__jpull_count(bands), i = 0;
    if (n != s->nbands)
        return crisk__fail(err, CRISK_E_FORMAT, "fitted.bands: %zu entries for %zu bands", n,
                           s->nbands);
    int rc = 0;
    crisk__jpull it = *bands;
    crisk__jpull_enter(&it);
    for (; rc == 0 && crisk__jpull_more(&it); i++) {
        snprintf(at, sizeof at, "fitted.bands[%zu]", i);
        crisk__jpull entries, name;
        if ((rc = member_array(&it, at, "entries", &entries, err)))
            return rc;
        if (!crisk__jpull_member(&it, "band", &name) || !string_is(name, s->bands[i].name))
            return crisk__fail(err, CRISK_E_FORMAT, "%s.band: expected \"%s\"", at,
                               s->bands[i].name);
        snprintf(at, sizeof at, "fitted.bands[%zu].entries", i);
        rc = read_entries(s, &entries, at, s->sets[s->bands[i].set].nparts, NULL,
                          &s->fit.bands[i], key, err);
        crisk__jpull_skip(&it);
    }
    return rc;
}

/* Reads the fitted object at `obj` into s->fit. */
static int read_fitted(crisk_schema *s, const crisk__jpull *obj, crisk_error *err)
{
    static const char *const keys[] = {"rows", "positives", "smoothing", "categories",
                                       "tables", "bands"};
    enum { ROWS, POSITIVES, SMOOTHING, CATEGORIES, TABLES, BANDS, NKEYS };
    crisk__jpull at[NKEYS], it = *obj;
    int found[NKEYS] = {0};
    if (crisk__jpull_peek(&it) != CRISK__J_OBJECT)
        return crisk__fail(err, CRISK_E_FORMAT, "fitted: expected an object, got %s",
                           type_at(it));
    /* One pass over the members: the first of each name counts, as with cJSON. */
    crisk__jpull_enter(&it);
    const char *name;
    size_t len;
    while (crisk__jpull_more(&it) && crisk__jpull_key(&it, &name, &len) == 0) {
        size_t k = 0;
        while (k < NKEYS && !(strlen(keys[k]) == len && memcmp(keys[k], name, len) == 0))
            k++;
        if (k == NKEYS)
            return crisk__fail(err, CRISK_E_FORMAT, "fitted.%.*s: unknown key",
                               (int)(len < 256 ? len : 256), name);
        if (!found[k]) {
            found[k] = 1;
            at[k] = it;
        }
        crisk__jpull_skip(&it);
    }
    double rows = 0, positives = 0, sm = 0;
    int rc;
    if ((rc = read_count(found[ROWS] ? &at[ROWS] : NULL, "fitted.rows", (double)UINT32_MAX,
                         &rows, err))
        || (rc = read_count(found[POSITIVES] ? &at[POSITIVES] : NULL, "fitted.positives",
                            rows, &positives, err)))
        return rc;
    if (!found[SMOOTHING] || crisk__jpull_number(&at[SMOOTHING], &sm) || !(sm >= 0 && sm <= 1e12))
        return crisk__fail(err, CRISK_E_FORMAT, "fitted.smoothing: expected a number in [0, "
                           "1e12]");
    for (size_t k = CATEGORIES; k <= BANDS; k++)
        if ((rc = want_array(found[k], &at[k], "fitted", keys[k], err)))
            return rc;
    crisk__fitted_state *fit = &s->fit;
    fit->rows = (uint64_t)rows;
    fit->positives = (uint64_t)positives;
    fit->smoothing = sm;
    fit->dicts = calloc(s->ndicts ? s->ndicts : 1, sizeof *fit->dicts);
    fit->tables = calloc(s->nsets ? s->nsets : 1, sizeof *fit->tables);
    fit->bands = calloc(s->nbands ? s->nbands : 1, sizeof *fit->bands);
    char *key = malloc(crisk__key_capacity(s));
    if (!fit->dicts || !fit->tables || !fit->bands || !key)
        rc = crisk__fail(err, CRISK_E_NOMEM, "fitted: out of memory");
    if (rc == 0 && (rc = read_categories(s, &at[CATEGORIES], err)) == 0
        && (rc = read_tables(s, &at[TABLES], key, err)) == 0)
        rc = read_bands(s, &at[BANDS], key, err);
    free(key);
    if (rc == 0)
        fit->present = 1;
    return rc;
}

/* Reads the fitted object, the JSON text at `text`, into s->fit; returns 0 or an error
 * naming the JSON path. */
int crisk__fitted_from_text(crisk_schema *s, const char *text, size_t len,
                            const crisk__jindex *index, crisk_error *err)
{
    crisk__jshared shared = {NULL, 0, newlocale(LC_ALL_MASK, "C", (locale_t)0), index};
    if (!shared.c_locale)
        return crisk__fail(err, CRISK_E_NOMEM, "fitted: out of memory");
    crisk__jpull obj;
    crisk__jpull_init(&obj, text, len, &shared);
    int rc = read_fitted(s, &obj, err);
    free(shared.buf);
    freelocale(shared.c_locale);
    return rc;
}
