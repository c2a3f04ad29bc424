/*
 * decl/batch.c — columnar batches of declarations: appending rows given as text, validating
 * each value against its field's type as it is stored, so that a bad row is refused
 * with its field, value and reason instead of being dropped; and appending rows of
 * another batch, already validated.
 */
#include "common/canon.h"
#include "common/date.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/number.h"
#include "decl/batch.h"
#include "decl/field_range.h"
#include "decl/types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Creates an empty batch for `schema`; returns 0 or CRISK_E_NOMEM. */
int crisk_batch_new(const crisk_schema *schema, crisk_batch **out, crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!schema || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "schema and out must not be NULL");
    crisk_batch *b = calloc(1, sizeof *b);
    if (!b || !(b->cols = calloc(schema->nfields, sizeof *b->cols))) {
        free(b);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a batch");
    }
    b->schema = schema;
    b->nfields = schema->nfields;
    b->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (b->c_locale == (locale_t)0) {
        crisk_batch_free(b);
        return crisk__fail(err, CRISK_E_NOMEM, "cannot create the C locale for a batch");
    }
    *out = b;
    return 0;
}

/* Frees the batch's columns and the batch. */
void crisk_batch_free(crisk_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; b->cols && i < b->nfields; i++) {
        free(b->cols[i].text);
        free(b->cols[i].num);
        free(b->cols[i].arena);
    }
    if (b->c_locale != (locale_t)0)
        freelocale(b->c_locale);
    free(b->cols);
    free(b->lines);
    free(b);
}

/* Forgets the rows, keeping the memory of the columns for the next ones. */
void crisk_batch_clear(crisk_batch *b)
{
    if (!b)
        return;
    b->rows = 0;
    b->events = NULL; /* events loaded for a batch hold only its keys */
    for (size_t i = 0; i < b->schema->nfields; i++)
        b->cols[i].arena_len = 0;
}

/* Returns the number of rows (0 for NULL). */
size_t crisk_batch_size(const crisk_batch *b)
{
    return b ? b->rows : 0;
}

/* Returns the source line stored with row `row`, or 0 when out of range. */
uint64_t crisk_batch_source_line(const crisk_batch *b, size_t row)
{
    return b && row < b->rows ? b->lines[row] : 0;
}

/* Returns the schema the batch was made for. */
const crisk_schema *crisk_batch_schema(const crisk_batch *b)
{
    return b->schema;
}

/* Returns row `row`'s text of field `field` (NULL when missing) and its length. */
const char *crisk_batch_text(const crisk_batch *b, size_t row, size_t field, size_t *len)
{
    return crisk__batch_text_at(b, row, field, len);
}

/* Returns row `row`'s number or date of field `field`, NaN when missing. */
double crisk_batch_number(const crisk_batch *b, size_t row, size_t field)
{
    return crisk__batch_number_at(b, row, field);
}

/* Writes row `row`'s value of field `field` as text to `buf`; returns the full length,
 * 0 when missing. */
size_t crisk__batch_value_text(const crisk_batch *b, size_t row, size_t field, char *buf,
                               size_t size)
{
    size_t len = 0;
    const char *text = crisk__batch_text_at(b, row, field, &len);
    if (text) {
        if (size)
            snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1), text);
        return len;
    }
    double x = crisk__batch_number_at(b, row, field);
    int n = 0;
    if (isnan(x)) {
        if (size)
            buf[0] = '\0';
    } else if (b->schema->fields[field].type == CRISK_FIELD_DATE) {
        long y;
        unsigned m, d, yday;
        crisk__civil_from_days((long)x, &y, &m, &d, &yday);
        n = snprintf(buf, size, "%04ld-%02u-%02u", y, m, d);
    } else {
        n = snprintf(buf, size, "%.15g", x);
    }
    return n > 0 ? (size_t)n : 0;
}

/* Grows every column to hold at least `need` rows (doubling, from 64). Returns 0 or
 * CRISK_E_NOMEM; arrays already grown stay valid, so a failure leaves the batch usable. */
static int grow_rows(crisk_batch *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = crisk__grow_capacity(b->cap, need, 64);
    if (crisk__resize((void **)&b->lines, cap, sizeof *b->lines))
        return CRISK_E_NOMEM;
    for (size_t i = 0; i < b->schema->nfields; i++) {
        crisk__batch_column *c = &b->cols[i];
        crisk_field_type t = b->schema->fields[i].type;
        if (t == CRISK_FIELD_STRING || t == CRISK_FIELD_HS_CODE
                ? crisk__resize((void **)&c->text, cap, sizeof *c->text)
                : crisk__resize((void **)&c->num, cap, sizeof *c->num))
            return CRISK_E_NOMEM;
    }
    b->cap = cap;
    return 0;
}

/* What store_code() returns besides 0 and negative codes. */
#define CODE_BLANK   1  /* nothing but white space: the value is missing */
#define CODE_REFUSED 2  /* no canonical form: the reason is in `why` */

/* Stores the canonical form (common/canon.h) of `v` (`len` bytes), an HS code when `hs`
 * else an identifier or code, as row `row`'s value of column `c`, written straight into
 * the column's arena. Returns 0, CODE_BLANK (stored as missing), CODE_REFUSED, or
 * CRISK_E_NOMEM / CRISK_E_LIMIT. */
static int store_code(crisk__batch_column *c, size_t row, const char *v, size_t len, int hs,
                      char *why)
{
    size_t room = len + 13; /* an HS code's 12 digits and NUL, whatever its text */
    if (c->arena_len + room > UINT32_MAX - 1)
        return CRISK_E_LIMIT;
    if (c->arena_len + room > c->arena_cap /* seldom: the arena is kept across rows */
        && crisk__grow((void **)&c->arena, &c->arena_cap, c->arena_len + room, 1, 4096))
        return CRISK_E_NOMEM;
    char *out = c->arena + c->arena_len;
    size_t n;
    if (hs ? crisk__canon_hs(v, len, 2, out, &n, why) : crisk__canon_code(v, len, out, &n, why))
        return CODE_REFUSED;
    if (n == 0) {
        c->text[row].len = CRISK__TEXT_MISSING;
        return CODE_BLANK;
    }
    c->text[row].off = (uint32_t)c->arena_len;
    c->text[row].len = (uint32_t)n;
    c->arena_len += n;
    return 0;
}

/* Parses YYYY-MM-DD or YYYYMMDD into days since 1970-01-01. Returns 0, -1 (not in
 * either form) or -2 (no such calendar date). */
static int parse_date(const char *s, size_t len, double *out)
{
    unsigned y, m, d;
    int dashed = len == 10 && s[4] == '-' && s[7] == '-';
    if (!(dashed || len == 8) || !crisk__read_digits(s, 4, &y)
        || !crisk__read_digits(s + 4 + dashed, 2, &m)
        || !crisk__read_digits(s + 6 + 2 * dashed, 2, &d))
        return -1;
    if (y == 0 || !crisk__date_exists(y, m, d))
        return -2;
    *out = (double)crisk__days_from_civil(y, m, d);
    return 0;
}

/* Writes `len` bytes of `s` to `buf` of `size` bytes as a quoted, escaped excerpt for
 * messages (non-printable and non-ASCII bytes as \xNN; cut with "..." when long). */
static void quote_value(const char *s, size_t len, char *buf, size_t size)
{
    size_t o = 0;
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 8 >= size) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, size - o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* Validates value `v` (`len` > 0 bytes) of field `i` and stores it as row `row`. Returns 0,
 * or CRISK_E_INPUT (with `err` naming field, value and reason), CRISK_E_NOMEM,
 * CRISK_E_LIMIT. */
static int store_value(crisk_batch *b, size_t i, size_t row, const char *v, size_t len,
                       crisk_error *err)
{
    const crisk__schema_field *f = &b->schema->fields[i];
    crisk__batch_column *c = &b->cols[i];
    const char *reason = NULL;
    char shown[72], why[128]; /* the reason of the canonical form or of the field's range */
    int rc = 0;
    switch (f->type) {
    case CRISK_FIELD_STRING:
    case CRISK_FIELD_HS_CODE:
        rc = store_code(c, row, v, len, f->type == CRISK_FIELD_HS_CODE, why);
        if (rc == CODE_REFUSED)
            reason = why;
        else if (rc == CODE_BLANK && f->required)
            reason = "is blank, and the field is required";
        if (rc == CODE_BLANK || rc == CODE_REFUSED)
            rc = 0;
        break;
    case CRISK_FIELD_NUMBER: {
        int r = crisk__number_parse(v, len, b->c_locale, &c->num[row]);
        if (r)
            reason = r == -1 ? "is not a number" : "is beyond the range of a double";
        else
            reason = crisk__field_range_check(f, c->num[row], why, sizeof why);
        break;
    }
    case CRISK_FIELD_DATE: {
        int r = parse_date(v, len, &c->num[row]);
        if (r)
            reason = r == -1 ? "is not a date (YYYY-MM-DD or YYYYMMDD)"
                             : "is not a calendar date";
        else
            reason = crisk__field_range_check(f, c->num[row], why, sizeof why);
        break;
    }
    }
    if (reason) {
        /* A personal field's value never goes into a message (docs/security.md). */
        if (f->personal)
            snprintf(shown, sizeof shown, "(personal value withheld)");
        else
            quote_value(v, len, shown, sizeof shown);
        return crisk__fail(err, CRISK_E_INPUT, "field \"%s\": %s %s", f->name, shown, reason);
    }
    if (rc)
        return crisk__fail(err, rc, "field \"%s\": %s", f->name,
                           rc == CRISK_E_LIMIT ? "more than 4 GiB of text in one batch column"
                                              : "out of memory");
    return 0;
}

/* Validates and stores one row given as text, or rejects it whole; returns 0 or an error
 * code. */
int crisk_batch_append_text(crisk_batch *b, const char *const *values, const size_t *lengths,
                            uint64_t source_line, crisk_error *err)
{
    if (!b || !values || !lengths)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "batch, values and lengths must not "
                           "be NULL");
    if (grow_rows(b, b->rows + 1))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu rows", b->rows + 1);
    const crisk_schema *s = b->schema;
    size_t row = b->rows;
    for (size_t i = 0; i < s->nfields; i++) {
        const crisk__schema_field *f = &s->fields[i];
        size_t len = values[i] ? lengths[i] : 0;
        int rc = 0;
        if (len == 0) {
            if (f->required)
                rc = crisk__fail(err, CRISK_E_INPUT, "field \"%s\": missing, and the field is "
                                 "required", f->name);
            else if (b->cols[i].text)
                b->cols[i].text[row].len = CRISK__TEXT_MISSING;
            else
                b->cols[i].num[row] = NAN;
        } else if (len > s->max_field_bytes) {
            rc = crisk__fail(err, CRISK_E_INPUT, "field \"%s\": %zu bytes, more than "
                             "max_field_bytes = %zu", f->name, len, s->max_field_bytes);
        } else {
            rc = store_value(b, i, row, values[i], len, err);
        }
        if (rc) {
            /* Take back the text the fields before the bad one stored for this row. */
            for (size_t k = 0; k < i; k++)
                if (b->cols[k].text && b->cols[k].text[row].len != CRISK__TEXT_MISSING)
                    b->cols[k].arena_len = b->cols[k].text[row].off;
            return rc;
        }
    }
    b->lines[row] = source_line;
    b->rows++;
    return 0;
}

/* Makes room in `dst` for `count` more rows and, per text column, the bytes rows
 * [first, first + count) of `src` take. Returns 0, CRISK_E_NOMEM or CRISK_E_LIMIT (more
 * than 4 GiB of text in a column); the rows of `dst` are unchanged either way. */
static int reserve_rows(crisk_batch *dst, const crisk_batch *src, size_t first,
                        size_t count)
{
    if (count > SIZE_MAX - dst->rows || grow_rows(dst, dst->rows + count))
        return CRISK_E_NOMEM;
    for (size_t i = 0; i < dst->nfields; i++) {
        crisk__batch_column *c = &dst->cols[i];
        size_t bytes = 0;
        for (size_t r = first; c->text && r < first + count; r++)
            bytes += src->cols[i].text[r].len == CRISK__TEXT_MISSING ? 0
                                                                     : src->cols[i].text[r].len;
        if (c->arena_len + bytes > UINT32_MAX - 1)
            return CRISK_E_LIMIT;
        if (bytes && crisk__grow((void **)&c->arena, &c->arena_cap, c->arena_len + bytes, 1,
                                 4096))
            return CRISK_E_NOMEM;
    }
    return 0;
}

/* Appends rows [first, first + count) of `src` to `dst`, their values and source lines,
 * in order; `src` may be `dst` itself (room is made before anything is read). Returns 0
 * or a negative code with `err` filled, `dst` then unchanged. */
int crisk_batch_append_rows(crisk_batch *dst, const crisk_batch *src, size_t first,
                            size_t count, crisk_error *err)
{
    if (!dst || !src)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "batch and src must not be NULL");
    if (src->schema != dst->schema)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the source batch was made for "
                           "another schema");
    if (first > src->rows || count > src->rows - first)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "rows %zu to %zu are beyond the "
                           "source batch's %zu rows", first, first + count, src->rows);
    if (count == 0)
        return 0;
    int rc = reserve_rows(dst, src, first, count);
    if (rc)
        return crisk__fail(err, rc, "appending %zu rows to a batch of %zu: %s", count,
                           dst->rows, rc == CRISK_E_LIMIT ? "more than 4 GiB of text in one "
                           "batch column" : "out of memory");
    size_t base = dst->rows;
    for (size_t i = 0; i < dst->nfields; i++) {
        crisk__batch_column *to = &dst->cols[i];
        const crisk__batch_column *from = &src->cols[i];
        if (!to->text) {
            memcpy(to->num + base, from->num + first, count * sizeof *to->num);
            continue;
        }
        for (size_t r = 0; r < count; r++) {
            crisk__text_span span = from->text[first + r];
            if (span.len != CRISK__TEXT_MISSING) {
                memcpy(to->arena + to->arena_len, from->arena + span.off, span.len);
                span.off = (uint32_t)to->arena_len;
                to->arena_len += span.len;
            }
            to->text[base + r] = span;
        }
    }
    memcpy(dst->lines + base, src->lines + first, count * sizeof *dst->lines);
    dst->rows += count;
    return 0;
}
