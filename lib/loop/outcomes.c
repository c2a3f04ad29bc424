/*
 * loop/outcomes.c — reading what officers found (docs/loop.md, "Outcomes"): CSV or JSON
 * Lines records of declaration id, inspection date, result, revenue and note, one per
 * declaration; every bad, duplicated or conflicting line is kept as a reject with its
 * line number and reason, never dropped.
 */
#include "crisk.h"

#include "common/date.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/jsonfile.h"
#include "common/strmap.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest JSON Lines line read, as the declaration reader's. */
#define MAX_LINE ((size_t)1 << 20)

typedef struct record {
    size_t line;
    int result;      /* crisk_outcome_result, or -1 when withdrawn */
    double revenue;
    int64_t date;
} record;

typedef struct reject {
    size_t line;
    char *reason;
} reject;

struct crisk_outcomes {
    crisk__strmap ids;   /* id -> record index */
    record *recs;
    size_t recs_cap;
    reject *rejects;
    size_t num_rejects, rejects_cap;
};

/* One line's values as text (NULL: absent), before they are checked. */
typedef struct fields {
    const char *id, *result, *date, *revenue;
    size_t id_len, date_len;
} fields;

/* Adds a reject for `line` with a printf-style reason. Returns 0 or CRISK_E_NOMEM. */
static int add_reject(crisk_outcomes *o, size_t line, crisk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add_reject(crisk_outcomes *o, size_t line, crisk_error *err, const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *copy = strdup(buf);
    if (!copy || crisk__grow((void **)&o->rejects, &o->rejects_cap, o->num_rejects + 1,
                             sizeof *o->rejects, 16)) {
        free(copy);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for outcome rejects");
    }
    o->rejects[o->num_rejects++] = (reject){line, copy};
    return 0;
}

/* Returns the result named `s`, or -1. */
static int result_of(const char *s)
{
    static const char *const names[] = {"none", "irregularity", "critical"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Checks line `line`'s values and stores them as a new record, or rejects the line:
 * a repeated id is a duplicate (same result) or a conflict (another result, which also
 * withdraws the earlier record). Returns 0 or CRISK_E_NOMEM. */
static int add_record(crisk_outcomes *o, size_t line, const fields *f, crisk_error *err)
{
    if (!f->id || f->id_len == 0)
        return add_reject(o, line, err, "declaration_id: missing");
    int result = f->result ? result_of(f->result) : -1;
    if (result < 0)
        return add_reject(o, line, err, "result: \"%.40s\" is not none, irregularity or "
                          "critical", f->result ? f->result : "");
    int64_t date = INT64_MIN;
    if (f->date && f->date_len && crisk__parse_iso_date(f->date, f->date_len, &date) != 0)
        return add_reject(o, line, err, "inspection_date: \"%.40s\" is not YYYY-MM-DD",
                          f->date);
    double revenue = 0;
    char *end = NULL;
    if (f->revenue && f->revenue[0]) {
        errno = 0;
        revenue = strtod(f->revenue, &end);
        if (*end || errno || !(revenue >= 0) || !isfinite(revenue))
            return add_reject(o, line, err, "revenue: \"%.40s\" is not a number >= 0",
                              f->revenue);
    }
    size_t before = o->ids.size, at;
    if (crisk__strmap_insert(&o->ids, f->id, f->id_len, &at) != 0)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for outcome ids");
    if (o->ids.size == before) {
        record *r = &o->recs[at];
        if (r->result == result)
            return add_reject(o, line, err, "duplicate: declaration %.*s already has an "
                              "outcome (line %zu)", (int)(f->id_len > 64 ? 64 : f->id_len),
                              f->id, r->line);
        int rc = add_reject(o, line, err, "conflict: declaration %.*s has another result at "
                            "line %zu; both are withdrawn",
                            (int)(f->id_len > 64 ? 64 : f->id_len), f->id, r->line);
        if (rc == 0 && r->result >= 0)
            rc = add_reject(o, r->line, err, "conflict: withdrawn, line %zu gives declaration "
                            "%.*s another result", line,
                            (int)(f->id_len > 64 ? 64 : f->id_len), f->id);
        r->result = -1;
        return rc;
    }
    if (crisk__grow((void **)&o->recs, &o->recs_cap, o->ids.size, sizeof *o->recs, 64))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for outcomes");
    o->recs[at] = (record){line, result, revenue, date};
    return 0;
}

/* Finds the CSV header's columns; `col` gets -1 for an absent one. */
static int csv_header(const char **names, size_t n, long col[4], const char *path,
                      crisk_error *err)
{
    static const char *const want[4] = {"declaration_id", "result", "inspection_date",
                                        "revenue"};
    for (int c = 0; c < 4; c++) {
        col[c] = -1;
        for (size_t j = 0; j < n; j++)
            if (strcmp(names[j], want[c]) == 0)
                col[c] = (long)j;
    }
    if (col[0] < 0 || col[1] < 0)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: line 1: the header needs the columns "
                           "declaration_id and result", path);
    return 0;
}

/* Reads CSV outcomes from `f`. */
static int read_csv(crisk_outcomes *o, FILE *f, const char *path, crisk_error *err)
{
    crisk_csv_options copts;
    crisk_csv_options_init(&copts, CRISK_CSV_OPTIONS_VERSION);
    copts.resync = 1;
    crisk_csv_reader *r = NULL;
    int rc = crisk_csv_open(f, &copts, &r, err);
    const char **v = NULL;
    size_t nv = 0;
    long col[4];
    if (rc == 0 && (rc = crisk_csv_next(r, &v, &nv, err)) != 1)
        rc = rc == 0 ? crisk__fail(err, CRISK_E_FORMAT, "%s: empty, no header", path) : rc;
    else if (rc == 1)
        rc = csv_header(v, nv, col, path, err);
    while (rc == 0) {
        crisk_error e;
        int got = crisk_csv_next(r, &v, &nv, &e);
        if (got == 0)
            break;
        size_t line = crisk_csv_line(r);
        if (got == CRISK_E_FORMAT || got == CRISK_E_LIMIT) {
            rc = add_reject(o, line, err, "%s", e.message);
            continue;
        }
        if (got < 0) {
            rc = crisk_error_set(err, got, "%s", e.message);
            break;
        }
        const size_t *len = crisk_csv_lengths(r);
        fields fl = {NULL, NULL, NULL, NULL, 0, 0};
        const char **slot[4] = {&fl.id, &fl.result, &fl.date, &fl.revenue};
        for (int c = 0; c < 4; c++)
            if (col[c] >= 0 && (size_t)col[c] < nv)
                *slot[c] = v[col[c]];
        fl.id_len = fl.id ? len[col[0]] : 0;
        fl.date_len = fl.date ? len[col[2]] : 0;
        rc = add_record(o, line, &fl, err);
    }
    crisk_csv_free(r);
    return rc;
}

/* Reads one JSON Lines object `text` (line `line`) into a record or a reject. */
static int json_line(crisk_outcomes *o, size_t line, const char *text, size_t n,
                     crisk_error *err)
{
    /* cJSON would cut a string at \u0000: "A\u0000x" would label declaration A. */
    size_t nul = crisk__json_find_nul(text, n);
    if (nul < n)
        return add_reject(o, line, err, "the string at byte %zu holds \\u0000 (a NUL "
                          "character)", nul);
    cJSON *root = cJSON_ParseWithLength(text, n);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return add_reject(o, line, err, "not a JSON object");
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "declaration_id");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(root, "inspection_date");
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(root, "revenue");
    char num[40] = "";
    fields fl = {cJSON_IsString(id) ? id->valuestring : NULL,
                 cJSON_IsString(res) ? res->valuestring : NULL,
                 cJSON_IsString(date) ? date->valuestring : NULL, NULL, 0, 0};
    fl.id_len = fl.id ? strlen(fl.id) : 0;
    fl.date_len = fl.date ? strlen(fl.date) : 0;
    int rc;
    if (date && !cJSON_IsString(date) && !cJSON_IsNull(date))
        rc = add_reject(o, line, err, "inspection_date: expected a string");
    else if (rev && !cJSON_IsNumber(rev) && !cJSON_IsNull(rev))
        rc = add_reject(o, line, err, "revenue: expected a number");
    else {
        if (cJSON_IsNumber(rev))
            snprintf(num, sizeof num, "%.17g", rev->valuedouble);
        fl.revenue = num;
        rc = add_record(o, line, &fl, err);
    }
    cJSON_Delete(root);
    return rc;
}

/* Reads JSON Lines outcomes from `f`; a blank line is skipped. */
static int read_jsonl(crisk_outcomes *o, FILE *f, crisk_error *err)
{
    char *buf = NULL;
    size_t cap = 0, line = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&buf, &cap, f)) >= 0) {
        line++;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        rc = (size_t)n > MAX_LINE ? add_reject(o, line, err, "line over %zu bytes", MAX_LINE)
                                  : json_line(o, line, buf, (size_t)n, err);
    }
    free(buf);
    if (rc == 0 && ferror(f))
        rc = crisk__fail(err, CRISK_E_IO, "read error after line %zu", line);
    return rc;
}

int crisk_outcomes_read(const char *path, crisk_outcomes **out, crisk_error *err)
{
    if (!path || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "path and out must not be NULL");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return crisk__fail(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
    crisk_outcomes *o = calloc(1, sizeof *o);
    if (!o) {
        fclose(f);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    }
    crisk__strmap_init(&o->ids);
    size_t len = strlen(path);
    int jsonl = len >= 6 && strcmp(path + len - 6, ".jsonl") == 0;
    int rc = jsonl ? read_jsonl(o, f, err) : read_csv(o, f, path, err);
    fclose(f);
    if (rc) {
        crisk_outcomes_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

void crisk_outcomes_free(crisk_outcomes *o)
{
    if (!o)
        return;
    crisk__strmap_free(&o->ids);
    free(o->recs);
    for (size_t k = 0; k < o->num_rejects; k++)
        free(o->rejects[k].reason);
    free(o->rejects);
    free(o);
}

size_t crisk_outcomes_size(const crisk_outcomes *o)
{
    return o ? o->ids.size : 0;
}

long crisk_outcomes_find(const crisk_outcomes *o, const char *id, size_t len)
{
    long i = o && id ? crisk__strmap_find(&o->ids, id, len) : -1;
    return i >= 0 && o->recs[i].result >= 0 ? i : -1;
}

const char *crisk_outcomes_id(const crisk_outcomes *o, size_t i, size_t *len)
{
    size_t ignored;
    return o && i < o->ids.size ? crisk__strmap_key(&o->ids, i, len ? len : &ignored) : NULL;
}

size_t crisk_outcomes_line(const crisk_outcomes *o, size_t i)
{
    return o && i < o->ids.size ? o->recs[i].line : 0;
}

int crisk_outcomes_result(const crisk_outcomes *o, size_t i)
{
    return o && i < o->ids.size ? o->recs[i].result : -1;
}

double crisk_outcomes_revenue(const crisk_outcomes *o, size_t i)
{
    return o && i < o->ids.size ? o->recs[i].revenue : NAN;
}

int64_t crisk_outcomes_date(const crisk_outcomes *o, size_t i)
{
    return o && i < o->ids.size ? o->recs[i].date : INT64_MIN;
}

size_t crisk_outcomes_num_rejects(const crisk_outcomes *o)
{
    return o ? o->num_rejects : 0;
}

size_t crisk_outcomes_reject_line(const crisk_outcomes *o, size_t k)
{
    return o && k < o->num_rejects ? o->rejects[k].line : 0;
}

const char *crisk_outcomes_reject_reason(const crisk_outcomes *o, size_t k)
{
    return o && k < o->num_rejects ? o->rejects[k].reason : NULL;
}
