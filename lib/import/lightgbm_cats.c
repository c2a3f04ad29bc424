/*
 * import/lightgbm_cats.c — the category values LightGBM's Python package appends to
 * model.txt (`pandas_categorical:[[...], ...]`, JSON) into the canonical model's
 * per-feature categories.
 *
 * The list holds one list of values per pandas category column of the training frame, in
 * column order; the file does not say which feature each belongs to. With the default
 * categorical_feature="auto", those columns are exactly the features LightGBM treats as
 * categorical (feature_infos lists their codes, "a:b:c", where a numerical feature has
 * "[min:max]"), so list k belongs to the k-th categorical feature. When the counts differ
 * (an ordered category column, which LightGBM splits as a number, or categorical_feature
 * naming other columns), or a listed code has no value, the mapping is unknown and the
 * model is refused: re-coding by a guess would score wrong categories in silence.
 *
 * LightGBM's predict re-codes a frame with pandas' set_categories, so a value outside the
 * list becomes NaN, a missing value: CRISK__UNSEEN_MISSING.
 */
#include "common/error.h"
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

#define KEY "pandas_categorical:"

/* Finds the last line of `text` starting with KEY; stores its value in `*value`, `*len`
 * and its line number in `*line`. Returns 1, or 0 when there is none. */
static int find_line(const char *text, size_t size, const char **value, size_t *len,
                     size_t *line)
{
    size_t n = 1, klen = strlen(KEY);
    int found = 0;
    for (size_t start = 0; start < size;) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - text) : size;
        if (end - start >= klen && memcmp(text + start, KEY, klen) == 0) {
            *value = text + start + klen;
            *len = end - start - klen;
            if (*len > 0 && (*value)[*len - 1] == '\r')
                (*len)--;
            *line = n;
            found = 1;
        }
        start = end + 1;
        n++;
    }
    return found;
}

/* Returns whether feature_infos token `tok` (`len` bytes) is a categorical feature's: a
 * list of codes rather than "[min:max]" or "none". */
static int is_categorical_info(const char *tok, size_t len)
{
    return len > 0 && tok[0] != '[' && !(len == 4 && memcmp(tok, "none", 4) == 0);
}

/* Checks that every code feature_infos token `tok` lists for feature `f` (-1 aside) has
 * one of `count` values. */
static int check_codes(const char *tok, size_t len, size_t f, size_t count, size_t line,
                       crisk_error *err)
{
    for (size_t i = 0; i < len;) {
        char *end;
        char buf[24];
        size_t j = i;
        while (j < len && tok[j] != ':')
            j++;
        snprintf(buf, sizeof buf, "%.*s", (int)(j - i < 23 ? j - i : 23), tok + i);
        long long code = strtoll(buf, &end, 10);
        if (*end == '\0' && code >= 0 && (unsigned long long)code >= count)
            return crisk__fail(err, CRISK_E_UNSUPPORTED, "line %zu: pandas_categorical's list "
                               "for feature %zu has %zu values, but the model saw code %lld: "
                               "the lists do not match the categorical features", line, f,
                               count, code);
        i = j + 1;
    }
    return 0;
}

/* Fills `c` from the JSON array `list` of strings or of numbers. */
static int read_list(crisk__categories *c, const cJSON *list, size_t k, size_t line,
                     crisk_error *err)
{
    size_t n = (size_t)cJSON_GetArraySize(list);
    const cJSON *first = cJSON_GetArrayItem(list, 0);
    int numeric = first && cJSON_IsNumber(first);
    int rc = crisk__categories_reserve(c, n, numeric, err);
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (rc)
            break;
        if (numeric ? !cJSON_IsNumber(v) : !cJSON_IsString(v))
            rc = crisk__fail(err, CRISK_E_UNSUPPORTED, "line %zu: pandas_categorical[%zu][%zu]: "
                             "category values must be all strings or all numbers", line, k, i);
        else if (numeric)
            rc = crisk__categories_set_number(c, i, v->valuedouble, err);
        else
            rc = crisk__categories_set_text(c, i, v->valuestring, strlen(v->valuestring), err);
        i++;
    }
    return rc;
}

/* Reads the next space-separated token of feature_infos from `*pos`: its start in
 * `*start`; returns its length (0 at the end). */
static size_t next_info(const char *infos, size_t len, size_t *pos, size_t *start)
{
    size_t i = *pos;
    while (i < len && infos[i] == ' ')
        i++;
    *start = i;
    while (i < len && infos[i] != ' ')
        i++;
    *pos = i;
    return i - *start;
}

/* Returns how many features feature_infos marks categorical. */
static size_t count_categorical(const char *infos, size_t len)
{
    size_t pos = 0, start, n = 0, tlen;
    while ((tlen = next_info(infos, len, &pos, &start)) > 0)
        n += is_categorical_info(infos + start, tlen);
    return n;
}

/* Gives list k of `lists` to the k-th categorical feature of `infos`. */
static int assign(crisk_model *m, const cJSON *lists, const char *infos, size_t infos_len,
                  size_t line, crisk_error *err)
{
    size_t nlists = (size_t)cJSON_GetArraySize(lists);
    size_t ncat = count_categorical(infos, infos_len);
    if (ncat != nlists)
        return crisk__fail(err, CRISK_E_UNSUPPORTED, "line %zu: pandas_categorical lists %zu "
                           "category columns, but the model has %zu categorical features: "
                           "which feature each list belongs to is unknown (an ordered "
                           "category column, or categorical_feature naming other columns)",
                           line, nlists, ncat);
    int rc = crisk__model_categories_new(m, err);
    const cJSON *list = lists->child;
    size_t pos = 0, start, tlen, k = 0;
    for (size_t f = 0; rc == 0 && f < m->num_features &&
                       (tlen = next_info(infos, infos_len, &pos, &start)) > 0; f++) {
        if (!is_categorical_info(infos + start, tlen))
            continue;
        if (!cJSON_IsArray(list))
            return crisk__fail(err, CRISK_E_FORMAT, "line %zu: pandas_categorical[%zu]: not a "
                               "list", line, k);
        rc = read_list(&m->categories[f], list, k++, line, err);
        if (rc == 0)
            rc = check_codes(infos + start, tlen, f, m->categories[f].count, line, err);
        list = list->next;
    }
    return rc;
}

/* Returns whether `len` bytes at `s` hold the JSON escape of a NUL character. */
static int has_nul_escape(const char *s, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++)
        if (memcmp(s + i, "\\u0000", 6) == 0)
            return 1;
    return 0;
}

int crisk__lightgbm_read_cats(const char *text, size_t size, const char *infos,
                              size_t infos_len, crisk_model *m, crisk_error *err)
{
    const char *value = NULL;
    size_t len = 0, line = 0;
    m->unseen_category = CRISK__UNSEEN_MISSING;
    if (!find_line(text, size, &value, &len, &line))
        return 0;
    if (has_nul_escape(value, len))
        return crisk__fail(err, CRISK_E_FORMAT, "line %zu: pandas_categorical holds a NUL "
                           "character", line);
    cJSON *lists = cJSON_ParseWithLength(value, len);
    int rc = 0;
    if (!lists || !(cJSON_IsArray(lists) || cJSON_IsNull(lists)))
        rc = crisk__fail(err, CRISK_E_FORMAT, "line %zu: pandas_categorical is not a JSON list "
                         "or null", line);
    else if (cJSON_IsArray(lists) && cJSON_GetArraySize(lists) > 0 && !infos)
        rc = crisk__fail(err, CRISK_E_UNSUPPORTED, "line %zu: pandas_categorical without "
                         "feature_infos: which feature each list belongs to is unknown", line);
    else if (cJSON_IsArray(lists) && cJSON_GetArraySize(lists) > 0)
        rc = assign(m, lists, infos, infos_len, line, err);
    cJSON_Delete(lists);
    return rc;
}
