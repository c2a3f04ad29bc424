/*
 * decl/schema.c — declaration schemas (docs/schema.md): parsing the JSON file with every error
 * named by its JSON path, writing it back with the fitted state, and the accessors.
 */
#include "common/error.h"
#include "common/file.h"
#include "common/jsonfile.h"
#include "common/jsonpull.h"
#include "decl/event_types.h"
#include "decl/field_range.h"
#include "decl/fitted.h"
#include "decl/fitted_read.h"
#include "decl/keys.h"
#include "decl/plain_features.h"
#include "decl/schema.h"
#include "decl/types.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_FORMAT_VERSION 1
#define PATH_SIZE 160

static const char *const top_keys[] = {"format", "version", "id_field", "date_field",
                                       "max_field_bytes", "fields", "features", "bands",
                                       "fitted", "description", "event_types"};
static const char *const field_keys[] = {"name", "type", "required", "personal",
                                         "range", "description"};
static const char *const band_keys[] = {"name", "feature", "keys", "low_quantile",
                                        "high_quantile", "min_count", "description"};
static const char *const type_names[] = {NULL, "string", "number", "date", "hs_code"};
static const char *const op_names[] = {NULL, "number", "log1p", "ratio", "date_part",
                                       "hs_prefix", "category", "risk_rate", "risk_count",
                                       "event_count", "event_flag", "event_hours_since",
                                       "event_max"};
static const char *const part_names[] = {NULL, "year", "month", "day", "weekday",
                                         "dayofyear"};
#define COUNT(a) (sizeof a / sizeof a[0])

/* The keys each op takes besides "name", "op" and "description", in op order. */
#define EVENT_KEYS {"key_field", "key_type", "event", "window_days"}
static const char *const op_keys[][4] = {
    {NULL}, {"field"}, {"field"}, {"num", "den"}, {"field", "part"}, {"field", "digits"},
    {"field", "unknown"}, {"keys", "smoothing"}, {"keys"}, EVENT_KEYS, EVENT_KEYS, EVENT_KEYS,
    EVENT_KEYS};

/* Returns the index of `name` among the `n` strings of `names` (entry 0 unused), or 0. */
static unsigned name_index(const char *const *names, size_t n, const char *name)
{
    for (unsigned i = 1; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return 0;
}

/* Stores string member `key` of `obj` (at `path`) in `*out`, NULL when absent and not
 * `required`. Returns 0 or CRISK_E_FORMAT. */
static int get_string(const cJSON *obj, const char *path, const char *key, int required,
                      const char **out, crisk_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *dot = path[0] ? "." : "";
    *out = NULL;
    if (!it) {
        if (required)
            return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: missing (a string is required)",
                               path, dot, key);
        return 0;
    }
    if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
        return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: expected a non-empty string, got %s",
                           path, dot, key, cJSON_IsString(it) ? "\"\"" : crisk__json_type_name(it));
    *out = it->valuestring;
    return 0;
}

/* Stores number member `key` of `obj` in `*out` (left alone when absent and not
 * `required`), checking it lies in [lo, hi] and, when `integer`, is whole. */
static int get_number(const cJSON *obj, const char *path, const char *key, int required,
                      double lo, double hi, int integer, double *out, crisk_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *dot = path[0] ? "." : "";
    if (!it) {
        if (required)
            return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: missing (a number is required)",
                               path, dot, key);
        return 0;
    }
    if (!cJSON_IsNumber(it))
        return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: expected a number, got %s", path, dot,
                           key, crisk__json_type_name(it));
    double v = it->valuedouble;
    if (!(v >= lo && v <= hi) || (integer && v != floor(v)))
        return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: %g is not %s in [%g, %g]", path, dot,
                           key, v, integer ? "an integer" : "a number", lo, hi);
    *out = v;
    return 0;
}

/* Stores boolean member `key` of `obj` in `*out` (0 when absent). */
static int get_bool(const cJSON *obj, const char *path, const char *key, int *out,
                    crisk_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = 0;
    if (!it)
        return 0;
    if (!cJSON_IsBool(it))
        return crisk__fail(err, CRISK_E_FORMAT, "%s.%s: expected true or false, got %s", path,
                           key, crisk__json_type_name(it));
    *out = cJSON_IsTrue(it);
    return 0;
}

/* Stores array member `key` of `obj` in `*out` (NULL when absent and not `required`),
 * refusing more than CRISK__SCHEMA_MAX_ITEMS elements (or fewer than `min`). */
static int get_array(const cJSON *obj, const char *path, const char *key, int required,
                     size_t min, size_t max, const cJSON **out, crisk_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *dot = path[0] ? "." : "";
    *out = NULL;
    if (!it) {
        if (required)
            return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: missing (an array is required)",
                               path, dot, key);
        return 0;
    }
    if (!cJSON_IsArray(it))
        return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: expected an array, got %s", path, dot,
                           key, crisk__json_type_name(it));
    size_t n = crisk__json_array_size(it);
    if (n > max)
        return crisk__fail(err, CRISK_E_LIMIT, "%s%s%s: %zu elements, more than the limit %zu",
                           path, dot, key, n, max);
    if (n < min)
        return crisk__fail(err, CRISK_E_FORMAT, "%s%s%s: %zu elements, at least %zu needed",
                           path, dot, key, n, min);
    *out = it;
    return 0;
}

/* Stores in `*index` the field called `name` (at `path`), which must be of one of the
 * types in the bit mask `types` (1 << type). Returns 0 or CRISK_E_FORMAT. */
static int resolve_field(const crisk_schema *s, const char *path, const char *name,
                         unsigned types, uint32_t *index, crisk_error *err)
{
    long i = crisk_schema_field_index(s, name);
    if (i < 0)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: no field called \"%s\"", path, name);
    if (!(types & (1u << s->fields[i].type))) {
        char wanted[64] = "";
        for (unsigned t = 1; t < COUNT(type_names); t++)
            if (types & (1u << t)) {
                strcat(wanted, wanted[0] ? " or " : "");
                strcat(wanted, type_names[t]);
            }
        return crisk__fail(err, CRISK_E_FORMAT, "%s: field \"%s\" is a %s field; %s needed",
                           path, name, type_names[s->fields[i].type], wanted);
    }
    *index = (uint32_t)i;
    return 0;
}

#define TEXT_TYPES ((1u << CRISK_FIELD_STRING) | (1u << CRISK_FIELD_HS_CODE))

/* Reads key list `arr` (at `path`) into a key set and stores the index of the equal set
 * of the schema (added when new) in `*set`. */
static int read_keys(crisk_schema *s, const cJSON *arr, const char *path, uint32_t *set,
                     crisk_error *err)
{
    crisk__key_set ks;
    memset(&ks, 0, sizeof ks);
    char at[PATH_SIZE + 32];
    for (const cJSON *it = arr->child; it; it = it->next, ks.nparts++) {
        crisk__key_part *p = &ks.parts[ks.nparts];
        snprintf(at, sizeof at, "%s[%u]", path, ks.nparts);
        const char *name;
        int rc;
        if (cJSON_IsString(it)) {
            name = it->valuestring;
        } else if (cJSON_IsObject(it)) {
            static const char *const part_keys[] = {"field", "digits"};
            double digits = 0;
            if ((rc = crisk__json_check_path_keys(it, at, part_keys, 2, err))
                || (rc = get_string(it, at, "field", 1, &name, err))
                || (rc = get_number(it, at, "digits", 0, 1, 12, 1, &digits, err)))
                return rc;
            p->digits = (uint32_t)digits;
        } else {
            return crisk__fail(err, CRISK_E_FORMAT, "%s: expected a field name or {\"field\", "
                               "\"digits\"}, got %s", at, crisk__json_type_name(it));
        }
        if ((rc = resolve_field(s, at, name, p->digits ? 1u << CRISK_FIELD_HS_CODE
                                                       : TEXT_TYPES, &p->field, err)))
            return rc;
    }
    for (size_t i = 0; i < s->nsets; i++)
        if (s->sets[i].nparts == ks.nparts
            && memcmp(s->sets[i].parts, ks.parts, ks.nparts * sizeof *ks.parts) == 0) {
            *set = (uint32_t)i;
            return 0;
        }
    *set = (uint32_t)s->nsets;
    s->sets[s->nsets++] = ks;
    return 0;
}

/* Reads the fields array. */
static int read_fields(crisk_schema *s, const cJSON *arr, crisk_error *err)
{
    s->nfields = 0;
    s->fields = calloc(crisk__json_array_size(arr), sizeof *s->fields);
    if (!s->fields)
        return crisk__fail(err, CRISK_E_NOMEM, "fields: out of memory");
    char at[PATH_SIZE];
    for (const cJSON *it = arr->child; it; it = it->next) {
        crisk__schema_field *f = &s->fields[s->nfields];
        snprintf(at, sizeof at, "fields[%zu]", s->nfields);
        if (!cJSON_IsObject(it))
            return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an object, got %s", at,
                               crisk__json_type_name(it));
        const char *name, *type;
        int rc;
        if ((rc = crisk__json_check_path_keys(it, at, field_keys, COUNT(field_keys), err))
            || (rc = get_string(it, at, "name", 1, &name, err))
            || (rc = get_string(it, at, "type", 1, &type, err))
            || (rc = get_bool(it, at, "required", &f->required, err))
            || (rc = get_bool(it, at, "personal", &f->personal, err)))
            return rc;
        f->type = (crisk_field_type)name_index(type_names, COUNT(type_names), type);
        if (!f->type)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.type: \"%s\" is not one of string, "
                               "number, date, hs_code", at, type);
        if ((rc = crisk__field_range_read(f, it, at, err)))
            return rc;
        if (crisk_schema_field_index(s, name) >= 0)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.name: \"%s\" names an earlier field",
                               at, name);
        if (!(f->name = strdup(name)))
            return crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory", at);
        s->nfields++;
    }
    return 0;
}

/* Reads the op-specific members of feature `f` from `obj` (at `at`). */
static int read_feature_args(crisk_schema *s, const cJSON *obj, const char *at,
                             crisk__schema_feature *f, crisk_error *err)
{
    const char *name = NULL, *text = NULL;
    const cJSON *keys;
    char sub[PATH_SIZE + 16];
    double num = 0;
    int rc = 0;
    unsigned numeric = 1u << CRISK_FIELD_NUMBER;
    switch (f->op) {
    case CRISK__OP_NUMBER:
    case CRISK__OP_LOG1P:
        snprintf(sub, sizeof sub, "%s.field", at);
        if (!(rc = get_string(obj, at, "field", 1, &name, err)))
            rc = resolve_field(s, sub, name, numeric, &f->field, err);
        return rc;
    case CRISK__OP_RATIO:
        snprintf(sub, sizeof sub, "%s.num", at);
        if ((rc = get_string(obj, at, "num", 1, &name, err))
            || (rc = resolve_field(s, sub, name, numeric, &f->field, err)))
            return rc;
        snprintf(sub, sizeof sub, "%s.den", at);
        if (!(rc = get_string(obj, at, "den", 1, &name, err)))
            rc = resolve_field(s, sub, name, numeric, &f->den, err);
        return rc;
    case CRISK__OP_DATE_PART:
        snprintf(sub, sizeof sub, "%s.field", at);
        if ((rc = get_string(obj, at, "field", 1, &name, err))
            || (rc = resolve_field(s, sub, name, 1u << CRISK_FIELD_DATE, &f->field, err))
            || (rc = get_string(obj, at, "part", 1, &text, err)))
            return rc;
        f->arg = name_index(part_names, COUNT(part_names), text);
        if (!f->arg)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.part: \"%s\" is not one of year, "
                               "month, day, weekday, dayofyear", at, text);
        return 0;
    case CRISK__OP_HS_PREFIX:
        snprintf(sub, sizeof sub, "%s.field", at);
        if ((rc = get_string(obj, at, "field", 1, &name, err))
            || (rc = resolve_field(s, sub, name, 1u << CRISK_FIELD_HS_CODE, &f->field, err))
            || (rc = get_number(obj, at, "digits", 1, 1, 12, 1, &num, err)))
            return rc;
        f->arg = (uint32_t)num;
        return 0;
    case CRISK__OP_CATEGORY:
        snprintf(sub, sizeof sub, "%s.field", at);
        if ((rc = get_string(obj, at, "field", 1, &name, err))
            || (rc = resolve_field(s, sub, name, TEXT_TYPES, &f->field, err))
            || (rc = get_string(obj, at, "unknown", 0, &text, err)))
            return rc;
        if (text && strcmp(text, "missing") != 0 && strcmp(text, "code") != 0)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.unknown: \"%s\" is not \"missing\" or "
                               "\"code\"", at, text);
        f->arg = text && strcmp(text, "code") == 0;
        f->dict = (uint32_t)s->ndicts++;
        return 0;
    case CRISK__OP_RISK_RATE:
    case CRISK__OP_RISK_COUNT:
        f->smoothing = NAN;
        if (f->op == CRISK__OP_RISK_RATE
            && (rc = get_number(obj, at, "smoothing", 0, 0, 1e12, 0, &f->smoothing, err)))
            return rc;
        snprintf(sub, sizeof sub, "%s.keys", at);
        if ((rc = get_array(obj, at, "keys", 1, 1, CRISK__SCHEMA_MAX_KEY_PARTS, &keys, err)))
            return rc;
        return read_keys(s, keys, sub, &f->set, err);
    case CRISK__OP_EVENT_COUNT:
    case CRISK__OP_EVENT_FLAG:
    case CRISK__OP_EVENT_HOURS_SINCE:
    case CRISK__OP_EVENT_MAX: {
        snprintf(sub, sizeof sub, "%s.key_field", at);
        if ((rc = get_string(obj, at, "key_field", 1, &name, err))
            || (rc = resolve_field(s, sub, name, 1u << CRISK_FIELD_STRING, &f->field, err))
            || (rc = get_string(obj, at, "key_type", 1, &text, err)))
            return rc;
        f->key_type = crisk__event_key_type_index(text);
        if (!f->key_type)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.key_type: \"%s\" is not one of "
                               "container, transport_document, conveyance, declaration", at,
                               text);
        if ((rc = get_string(obj, at, "event", 1, &text, err)))
            return rc;
        long type = crisk__event_type_index(s, text);
        if (type < 0)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.event: \"%s\" is neither a built-in "
                               "event type nor one of the schema's event_types", at, text);
        f->event = (uint32_t)type;
        /* Ten years: windows are whole seconds of microseconds far inside int64. */
        return get_number(obj, at, "window_days", 1, 1.0 / 24, 3650, 0, &f->window_days, err);
    }
    }
    return 0;
}

/* Reads the custom event types (at "event_types"): distinct well-formed names that are
 * not built in. */
static int read_event_types(crisk_schema *s, const cJSON *arr, crisk_error *err)
{
    s->event_types = calloc(crisk__json_array_size(arr) + 1, sizeof *s->event_types);
    if (!s->event_types)
        return crisk__fail(err, CRISK_E_NOMEM, "event_types: out of memory");
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (!cJSON_IsString(it) || !crisk__event_type_name_valid(it->valuestring))
            return crisk__fail(err, CRISK_E_FORMAT, "event_types[%zu]: expected a name of "
                               "lowercase letters, digits, '.', '_' or '-' (1 to 64 bytes, "
                               "starting with a letter)", s->nevent_types);
        if (crisk__event_type_index(s, it->valuestring) >= 0)
            return crisk__fail(err, CRISK_E_FORMAT, "event_types[%zu]: \"%s\" is built in or "
                               "named earlier", s->nevent_types, it->valuestring);
        if (!(s->event_types[s->nevent_types] = strdup(it->valuestring)))
            return crisk__fail(err, CRISK_E_NOMEM, "event_types: out of memory");
        s->nevent_types++;
    }
    return 0;
}

/* Reads the features array. */
static int read_features(crisk_schema *s, const cJSON *arr, crisk_error *err)
{
    size_t n = crisk__json_array_size(arr);
    s->features = calloc(n ? n : 1, sizeof *s->features);
    if (!s->features)
        return crisk__fail(err, CRISK_E_NOMEM, "features: out of memory");
    char at[PATH_SIZE];
    for (const cJSON *it = arr->child; it; it = it->next) {
        crisk__schema_feature *f = &s->features[s->nfeatures];
        snprintf(at, sizeof at, "features[%zu]", s->nfeatures);
        if (!cJSON_IsObject(it))
            return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an object, got %s", at,
                               crisk__json_type_name(it));
        const char *name, *op;
        int rc;
        if ((rc = get_string(it, at, "name", 1, &name, err))
            || (rc = get_string(it, at, "op", 1, &op, err)))
            return rc;
        f->op = (crisk__feature_op)name_index(op_names, COUNT(op_names), op);
        if (!f->op)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.op: \"%s\" is not one of number, "
                               "log1p, ratio, date_part, hs_prefix, category, risk_rate, "
                               "risk_count, event_count, event_flag, event_hours_since, "
                               "event_max", at, op);
        const char *allowed[7] = {"name", "op", "description", op_keys[f->op][0],
                                  op_keys[f->op][1], op_keys[f->op][2], op_keys[f->op][3]};
        if ((rc = crisk__json_check_path_keys(it, at, allowed, 7, err)))
            return rc;
        if (crisk_schema_feature_index(s, name) >= 0)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.name: \"%s\" names an earlier feature",
                               at, name);
        if ((rc = read_feature_args(s, it, at, f, err)))
            return rc;
        if (!(f->name = strdup(name)))
            return crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory", at);
        s->nfeatures++;
    }
    return 0;
}

/* Reads the bands array. */
static int read_bands(crisk_schema *s, const cJSON *arr, crisk_error *err)
{
    size_t n = crisk__json_array_size(arr);
    s->bands = calloc(n ? n : 1, sizeof *s->bands);
    if (!s->bands)
        return crisk__fail(err, CRISK_E_NOMEM, "bands: out of memory");
    char at[PATH_SIZE], sub[PATH_SIZE + 16];
    for (const cJSON *it = arr->child; it; it = it->next) {
        crisk__schema_band *b = &s->bands[s->nbands];
        snprintf(at, sizeof at, "bands[%zu]", s->nbands);
        if (!cJSON_IsObject(it))
            return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an object, got %s", at,
                               crisk__json_type_name(it));
        const char *name, *feature;
        const cJSON *keys;
        double min_count = 1;
        int rc;
        b->low_q = 0.05;
        b->high_q = 0.95;
        if ((rc = crisk__json_check_path_keys(it, at, band_keys, COUNT(band_keys), err))
            || (rc = get_string(it, at, "name", 1, &name, err))
            || (rc = get_string(it, at, "feature", 1, &feature, err))
            || (rc = get_number(it, at, "low_quantile", 0, 0, 1, 0, &b->low_q, err))
            || (rc = get_number(it, at, "high_quantile", 0, 0, 1, 0, &b->high_q, err))
            || (rc = get_number(it, at, "min_count", 0, 1, 1e9, 1, &min_count, err))
            || (rc = get_array(it, at, "keys", 1, 1, CRISK__SCHEMA_MAX_KEY_PARTS, &keys, err)))
            return rc;
        if (b->low_q > b->high_q)
            return crisk__fail(err, CRISK_E_FORMAT, "%s: low_quantile %g is above "
                               "high_quantile %g", at, b->low_q, b->high_q);
        b->min_count = (uint32_t)min_count;
        long fi = crisk_schema_feature_index(s, feature);
        if (fi < 0)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.feature: no feature called \"%s\"", at,
                               feature);
        if (crisk__feature_needs_fit(&s->features[fi]) || crisk__feature_is_event(&s->features[fi]))
            return crisk__fail(err, CRISK_E_FORMAT, "%s.feature: \"%s\" needs fitted tables or "
                               "events; a band's feature must be built from the row alone", at,
                               feature);
        b->feature = (uint32_t)fi;
        if (crisk__schema_band_index(s, name) >= 0)
            return crisk__fail(err, CRISK_E_FORMAT, "%s.name: \"%s\" names an earlier band", at,
                               name);
        snprintf(sub, sizeof sub, "%s.keys", at);
        if ((rc = read_keys(s, keys, sub, &b->set, err)))
            return rc;
        if (!(b->name = strdup(name)))
            return crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory", at);
        s->nbands++;
    }
    return 0;
}

/* Fills `s` from the parsed document `root` and the text of its fitted value (`fitted`,
 * `fitted_len` bytes, with the `index` of its containers or NULL; `fitted` NULL when the
 * document has none). */
static int read_schema(crisk_schema *s, const cJSON *root, const char *fitted,
                       size_t fitted_len, const crisk__jindex *index, crisk_error *err)
{
    if (!cJSON_IsObject(root))
        return crisk__fail(err, CRISK_E_FORMAT, "the document is %s, not an object",
                           crisk__json_type_name(root));
    const char *format, *id_field, *date_field;
    double version = 0, max_bytes = 256;
    const cJSON *fields, *features, *bands, *event_types;
    int rc;
    if ((rc = crisk__json_check_path_keys(root, "", top_keys, COUNT(top_keys), err))
        || (rc = get_string(root, "", "format", 1, &format, err)))
        return rc;
    if (strcmp(format, "crisk-schema") != 0)
        return crisk__fail(err, CRISK_E_FORMAT, "format: \"%s\", expected \"crisk-schema\"",
                           format);
    if ((rc = get_number(root, "", "version", 1, 1, SCHEMA_FORMAT_VERSION, 1, &version, err))
        || (rc = get_number(root, "", "max_field_bytes", 0, 1, CRISK__SCHEMA_MAX_FIELD_BYTES, 1,
                            &max_bytes, err))
        || (rc = get_array(root, "", "fields", 1, 1, CRISK__SCHEMA_MAX_ITEMS, &fields, err))
        || (rc = get_array(root, "", "features", 1, 0, CRISK__SCHEMA_MAX_ITEMS, &features, err))
        || (rc = get_array(root, "", "bands", 0, 0, CRISK__SCHEMA_MAX_ITEMS, &bands, err))
        || (rc = get_array(root, "", "event_types", 0, 0, CRISK__SCHEMA_MAX_ITEMS,
                           &event_types, err))
        || (rc = get_string(root, "", "id_field", 0, &id_field, err))
        || (rc = get_string(root, "", "date_field", 0, &date_field, err)))
        return rc;
    s->max_field_bytes = (size_t)max_bytes;
    /* Every feature and band adds at most one key set. */
    size_t max_sets = crisk__json_array_size(features) + (bands ? crisk__json_array_size(bands) : 0);
    s->sets = calloc(max_sets ? max_sets : 1, sizeof *s->sets);
    if (!s->sets)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    if ((rc = read_fields(s, fields, err))
        || (event_types && (rc = read_event_types(s, event_types, err)))
        || (rc = read_features(s, features, err))
        || (bands && (rc = read_bands(s, bands, err))))
        return rc;
    uint32_t idx;
    if (id_field) {
        if ((rc = resolve_field(s, "id_field", id_field, TEXT_TYPES, &idx, err)))
            return rc;
        s->id_field = idx;
    }
    if (date_field) {
        if ((rc = resolve_field(s, "date_field", date_field, 1u << CRISK_FIELD_DATE, &idx,
                                err)))
            return rc;
        s->date_field = idx;
    }
    /* Event windows end with the declaration's date: without one they cannot be placed. */
    for (size_t i = 0; i < s->nfeatures; i++)
        if (crisk__feature_is_event(&s->features[i]) && s->date_field < 0)
            return crisk__fail(err, CRISK_E_FORMAT, "features[%zu]: an event feature needs the "
                               "schema's date_field", i);
    return fitted ? crisk__fitted_from_text(s, fitted, fitted_len, index, err) : 0;
}

/* Schema documents nest 5 deep; a deeper one is left to cJSON (and its nesting limit). */
#define FAST_PARSE_DEPTH 16

/* Finds the value of the one top-level "fitted" member of the checked document `data`
 * (crisk__json_check_text, with its `index`) and stores its offset and length. Returns 1
 * when there is one such member and its text has no escapes (so that it reads the same in
 * place as through cJSON), else 0. */
static int find_fitted(const char *data, size_t size, const crisk__jindex *index, size_t *at,
                       size_t *len)
{
    crisk__jshared shared = {NULL, 0, (locale_t)0, index};
    crisk__jpull c;
    const char *key;
    size_t n, found = 0;
    crisk__jpull_init(&c, data, size, &shared);
    if (crisk__jpull_peek(&c) != CRISK__J_OBJECT || crisk__jpull_enter(&c))
        return 0;
    while (crisk__jpull_more(&c)) {
        if (crisk__jpull_key(&c, &key, &n) != 0) {
            found = 0; /* a key this reader does not decode: cJSON's to read */
            break;
        }
        int is_fitted = n == 6 && memcmp(key, "fitted", 6) == 0;
        crisk__jpull_peek(&c);
        const char *start = c.p;
        if (crisk__jpull_skip(&c)) {
            found = 0;
            break;
        }
        if (is_fitted) {
            *at = (size_t)(start - data);
            *len = (size_t)(c.p - start);
            found++;
        }
    }
    free(shared.buf); /* keys with escapes (even one spelling "fitted") decode there */
    return found == 1 && !memchr(data + *at, '\\', *len);
}

/* Parses schema file text `data` (`size` bytes, from `path`). A large document (one with
 * a fitted section) is checked against jsonpull's strict subset first; when it passes,
 * cJSON parses only the rest (the fitted value replaced by null) and the fitted text is
 * read in place. Anything else goes through cJSON whole, whose errors name the byte
 * offset, and its fitted value is printed back for the same reader. Stores the tree in
 * `*root` and the fitted text in `*fitted` (NULL when none; `*owned` when it is to be
 * freed), read in place with `index` (the caller frees index->spans). Returns 0 or an
 * error. */
static int parse_schema(const char *path, char *data, size_t size, cJSON **root,
                        const char **fitted, size_t *fitted_len, char **owned,
                        crisk__jindex *index, crisk_error *err)
{
    size_t at = 0, len = 0;
    *fitted = *owned = NULL;
    *fitted_len = 0;
    if (crisk__json_check_text(data, size, FAST_PARSE_DEPTH, index)
        && find_fitted(data, size, index, &at, &len)) {
        char *rest = malloc(size - len + 5);
        if (!rest)
            return crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory", path);
        memcpy(rest, data, at);
        memcpy(rest + at, "null", 4);
        memcpy(rest + at + 4, data + at + len, size - at - len);
        *root = cJSON_ParseWithLength(rest, size - len + 4);
        free(rest);
        if (*root) {
            *fitted = data + at;
            *fitted_len = len;
            return 0;
        }
    }
    const char *end = NULL;
    int nul = crisk__json_refuse_nul(path, data, size, err);
    if (nul)
        return nul;
    *root = cJSON_ParseWithLengthOpts(data, size, &end, 0);
    if (!*root) {
        size_t pos = end ? (size_t)(end - data) : 0;
        return crisk__fail(err, CRISK_E_FORMAT, "%s: invalid JSON at byte %zu", path, pos);
    }
    size_t pos = (size_t)(end - data);
    while (pos < size && strchr(" \t\r\n", data[pos]) && data[pos] != '\0')
        pos++;
    if (pos < size) {
        cJSON_Delete(*root);
        *root = NULL;
        return crisk__fail(err, CRISK_E_FORMAT, "%s: invalid JSON: text after the document at "
                           "byte %zu", path, pos);
    }
    const cJSON *fit = cJSON_GetObjectItemCaseSensitive(*root, "fitted");
    if (fit) {
        if (!(*owned = cJSON_PrintUnformatted(fit))) {
            cJSON_Delete(*root);
            *root = NULL;
            return crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory", path);
        }
        *fitted = *owned;
        *fitted_len = strlen(*owned);
    }
    return 0;
}

/* Reads, parses and checks the schema file at `path`; returns 0 or an error naming the
 * JSON path. */
int crisk_schema_load(const char *path, crisk_schema **out, crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "path and out must not be NULL");
    unsigned char *data = NULL;
    size_t size = 0;
    int rc = crisk__read_file(path, CRISK__SCHEMA_MAX_FILE_BYTES, &data, &size, err);
    if (rc)
        return rc;
    cJSON *root = NULL;
    const char *fitted;
    size_t fitted_len;
    char *owned;
    crisk_schema *s = NULL;
    /* The index of the containers down to the fitted tables' entry lists (depth 5). */
    crisk__jindex index = {NULL, 0, 0, (size_t)1 << 16, 5};
    rc = parse_schema(path, (char *)data, size, &root, &fitted, &fitted_len, &owned, &index,
                      err);
    if (rc == 0 && !(s = calloc(1, sizeof *s)))
        rc = crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory", path);
    if (rc == 0) {
        s->id_field = s->date_field = -1;
        if ((rc = read_schema(s, root, fitted, fitted_len, owned ? NULL : &index, err)))
            crisk__fail_prefix(err, rc, path);
    }
    cJSON_Delete(root);
    free(owned);
    free(index.spans);
    free(data);
    if (rc) {
        crisk_schema_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Frees the schema, its fitted state and its names. */
void crisk_schema_free(crisk_schema *s)
{
    if (!s)
        return;
    crisk__fitted_free(s, &s->fit);
    for (size_t i = 0; i < s->nfields; i++)
        free(s->fields[i].name);
    for (size_t i = 0; i < s->nfeatures; i++)
        free(s->features[i].name);
    for (size_t i = 0; i < s->nbands; i++)
        free(s->bands[i].name);
    for (size_t i = 0; i < s->nevent_types; i++)
        free(s->event_types[i]);
    free(s->event_types);
    free(s->fields);
    free(s->features);
    free(s->bands);
    free(s->sets);
    free(s);
}

/* Returns the number of fields (0 for NULL). */
size_t crisk_schema_num_fields(const crisk_schema *s)
{
    return s ? s->nfields : 0;
}

/* Returns field `i`'s name, or NULL when out of range. */
const char *crisk_schema_field_name(const crisk_schema *s, size_t i)
{
    return s && i < s->nfields ? s->fields[i].name : NULL;
}

/* Returns the index of the field called `name`, or -1. */
long crisk_schema_field_index(const crisk_schema *s, const char *name)
{
    for (size_t i = 0; s && name && i < s->nfields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Returns the number of features (0 for NULL). */
size_t crisk_schema_num_features(const crisk_schema *s)
{
    return s ? s->nfeatures : 0;
}

/* Returns feature `i`'s name, or NULL when out of range. */
const char *crisk_schema_feature_name(const crisk_schema *s, size_t i)
{
    return s && i < s->nfeatures ? s->features[i].name : NULL;
}

/* Returns the index of the feature called `name`, or -1. */
long crisk_schema_feature_index(const crisk_schema *s, const char *name)
{
    for (size_t i = 0; s && name && i < s->nfeatures; i++)
        if (strcmp(s->features[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Returns the type of field `field`. */
crisk_field_type crisk_schema_field_type(const crisk_schema *s, size_t field)
{
    return s->fields[field].type;
}

_Static_assert(CRISK__FEATURE_MAX_FIELDS >= CRISK__SCHEMA_MAX_KEY_PARTS,
               "a key set's fields must fit in crisk_schema_feature_fields' output");

/* Appends `field` to the `n` fields of `fields` unless it is there already; returns the
 * new count. */
static size_t add_distinct(size_t *fields, size_t n, size_t field)
{
    for (size_t i = 0; i < n; i++)
        if (fields[i] == field)
            return n;
    fields[n] = field;
    return n + 1;
}

/* Stores the distinct fields feature `feature` derives from in `fields` and returns how
 * many, 0 when out of range. */
size_t crisk__schema_feature_fields(const crisk_schema *s, size_t feature, size_t *fields)
{
    if (!s || feature >= s->nfeatures)
        return 0;
    const crisk__schema_feature *f = &s->features[feature];
    if (f->op == CRISK__OP_RISK_RATE || f->op == CRISK__OP_RISK_COUNT) {
        const crisk__key_set *set = &s->sets[f->set];
        size_t n = 0;
        for (uint32_t k = 0; k < set->nparts; k++)
            n = add_distinct(fields, n, set->parts[k].field);
        return n;
    }
    fields[0] = f->field;
    return f->op == CRISK__OP_RATIO ? add_distinct(fields, 1, f->den) : 1;
}

/* Returns 1 when field `field` is required, else 0. */
int crisk__schema_field_required(const crisk_schema *s, size_t field)
{
    return s->fields[field].required;
}

int crisk_schema_field_personal(const crisk_schema *s, size_t field)
{
    return s && field < s->nfields && s->fields[field].personal;
}

/* Returns the id field's index, or -1 when the schema names none. */
long crisk_schema_id_field(const crisk_schema *s)
{
    return s->id_field;
}

/* Returns the date field's index, or -1 when the schema names none. */
long crisk__schema_date_field(const crisk_schema *s)
{
    return s->date_field;
}

/* Returns the index of the band called `name`, or -1. */
long crisk__schema_band_index(const crisk_schema *s, const char *name)
{
    for (size_t i = 0; s && name && i < s->nbands; i++)
        if (strcmp(s->bands[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Adds feature `f`'s definition to array `arr`. Returns 0 or CRISK_E_NOMEM. */
static int feature_to_json(const crisk_schema *s, const crisk__schema_feature *f, cJSON *arr)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return CRISK_E_NOMEM;
    }
    int ok = cJSON_AddStringToObject(o, "name", f->name)
             && cJSON_AddStringToObject(o, "op", op_names[f->op]);
    switch (f->op) {
    case CRISK__OP_RATIO:
        ok = ok && cJSON_AddStringToObject(o, "num", s->fields[f->field].name)
             && cJSON_AddStringToObject(o, "den", s->fields[f->den].name);
        break;
    case CRISK__OP_DATE_PART:
        ok = ok && cJSON_AddStringToObject(o, "field", s->fields[f->field].name)
             && cJSON_AddStringToObject(o, "part", part_names[f->arg]);
        break;
    case CRISK__OP_HS_PREFIX:
        ok = ok && cJSON_AddStringToObject(o, "field", s->fields[f->field].name)
             && cJSON_AddNumberToObject(o, "digits", f->arg);
        break;
    case CRISK__OP_CATEGORY:
        ok = ok && cJSON_AddStringToObject(o, "field", s->fields[f->field].name)
             && cJSON_AddStringToObject(o, "unknown", f->arg ? "code" : "missing");
        break;
    case CRISK__OP_RISK_RATE:
    case CRISK__OP_RISK_COUNT: {
        cJSON *keys = crisk__key_set_to_json(s, f->set);
        ok = ok && keys && cJSON_AddItemToObject(o, "keys", keys);
        if (!ok)
            cJSON_Delete(keys);
        if (f->op == CRISK__OP_RISK_RATE && !isnan(f->smoothing))
            ok = ok && cJSON_AddNumberToObject(o, "smoothing", f->smoothing);
        break;
    }
    case CRISK__OP_EVENT_COUNT:
    case CRISK__OP_EVENT_FLAG:
    case CRISK__OP_EVENT_HOURS_SINCE:
    case CRISK__OP_EVENT_MAX:
        ok = ok && cJSON_AddStringToObject(o, "key_field", s->fields[f->field].name)
             && cJSON_AddStringToObject(o, "key_type", crisk__event_key_names[f->key_type])
             && cJSON_AddStringToObject(o, "event", crisk__event_type_name(s, f->event))
             && cJSON_AddNumberToObject(o, "window_days", f->window_days);
        break;
    default:
        ok = ok && cJSON_AddStringToObject(o, "field", s->fields[f->field].name);
    }
    return ok ? 0 : CRISK_E_NOMEM;
}

/* Returns the schema (with its fitted state) as a JSON tree, or NULL when out of memory. */
static cJSON *schema_to_json(const crisk_schema *s, crisk_error *err)
{
    cJSON *root = cJSON_CreateObject(), *fields = NULL, *features = NULL, *bands = NULL;
    int ok = root && cJSON_AddStringToObject(root, "format", "crisk-schema")
             && cJSON_AddNumberToObject(root, "version", SCHEMA_FORMAT_VERSION)
             && (s->id_field < 0
                 || cJSON_AddStringToObject(root, "id_field", s->fields[s->id_field].name))
             && (s->date_field < 0
                 || cJSON_AddStringToObject(root, "date_field", s->fields[s->date_field].name))
             && cJSON_AddNumberToObject(root, "max_field_bytes", (double)s->max_field_bytes)
             && (fields = cJSON_AddArrayToObject(root, "fields"))
             && (features = cJSON_AddArrayToObject(root, "features"))
             && (bands = cJSON_AddArrayToObject(root, "bands"));
    cJSON *types = NULL;
    if (ok && s->nevent_types)
        ok = (types = cJSON_AddArrayToObject(root, "event_types")) != NULL;
    for (size_t i = 0; ok && i < s->nevent_types; i++) {
        cJSON *name = cJSON_CreateString(s->event_types[i]);
        ok = name && cJSON_AddItemToArray(types, name);
        if (!ok)
            cJSON_Delete(name);
    }
    for (size_t i = 0; ok && i < s->nfields; i++) {
        const crisk__schema_field *f = &s->fields[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(fields, o);
        if (!ok)
            cJSON_Delete(o);
        ok = ok && cJSON_AddStringToObject(o, "name", f->name)
             && cJSON_AddStringToObject(o, "type", type_names[f->type])
             && (!f->required || cJSON_AddTrueToObject(o, "required"))
             && (!f->personal || cJSON_AddTrueToObject(o, "personal"))
             && crisk__field_range_to_json(f, o) == 0;
    }
    for (size_t i = 0; ok && i < s->nfeatures; i++)
        ok = feature_to_json(s, &s->features[i], features) == 0;
    for (size_t i = 0; ok && i < s->nbands; i++) {
        const crisk__schema_band *b = &s->bands[i];
        cJSON *o = cJSON_CreateObject(), *keys = NULL;
        ok = o && cJSON_AddItemToArray(bands, o);
        if (!ok)
            cJSON_Delete(o);
        ok = ok && cJSON_AddStringToObject(o, "name", b->name)
             && cJSON_AddStringToObject(o, "feature", s->features[b->feature].name)
             && (keys = crisk__key_set_to_json(s, b->set))
             && cJSON_AddItemToObject(o, "keys", keys)
             && cJSON_AddNumberToObject(o, "low_quantile", b->low_q)
             && cJSON_AddNumberToObject(o, "high_quantile", b->high_q)
             && cJSON_AddNumberToObject(o, "min_count", b->min_count);
    }
    if (ok && crisk__fitted_to_json(s, root, err))
        ok = 0;
    if (!ok) {
        cJSON_Delete(root);
        crisk__fail(err, CRISK_E_NOMEM, "out of memory writing the schema");
        return NULL;
    }
    return root;
}

/* Writes the schema and its fitted state to `path` as one JSON document; returns 0 or an
 * error code. */
int crisk_schema_save(const crisk_schema *s, const char *path, crisk_error *err)
{
    if (!s || !path)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "schema and path must not be NULL");
    cJSON *root = schema_to_json(s, err);
    if (!root)
        return CRISK_E_NOMEM;
    /* Unformatted: fitted tables have one entry per key and may be large. cJSON writes
     * each number with the fewest digits that read back to the same double. */
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory writing the schema", path);
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(text);
        return crisk__fail(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
    }
    size_t n = strlen(text);
    int failed = fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF;
    failed |= fclose(f) != 0;
    free(text);
    return failed ? crisk__fail(err, CRISK_E_IO, "%s: write failed", path) : 0;
}
