/*
 * decl/batch.c — columnar batches of declarations: appending rows given as text, validating
 * each value against its field's type as it is stored, so that a bad row is refused
 * with its field, value and reason instead of being dropped.
 */
#include "common/date.h"
#include "common/error.h"
#include "common/grow.h"
#include "decl/batch.h"
#include "decl/field_range.h"
#include "decl/types.h"
#include "common/short_copy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest number text accepted (a number needs no more; longer is refused). */
#define MAX_NUMBER_TEXT 511

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

/* Grows every column to hold twice the rows (at least 64). Returns 0 or CRISK_E_NOMEM;
 * arrays already grown stay valid, so a failure leaves the batch usable. */
static int grow_rows(crisk_batch *b)
{
    size_t cap = crisk__grow_capacity(b->cap, b->cap + 1, 64);
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

/* Appends `len` bytes to column `c`'s arena and records them as row `row`'s value.
 * Returns 0, or CRISK_E_NOMEM / CRISK_E_LIMIT (a column's text beyond 4 GiB). */
static int store_text(crisk__batch_column *c, size_t row, const char *text, size_t len)
{
    if (c->arena_len + len > UINT32_MAX - 1)
        return CRISK_E_LIMIT;
    if (crisk__grow((void **)&c->arena, &c->arena_cap, c->arena_len + len, 1, 4096))
        return CRISK_E_NOMEM;
    crisk__short_copy(c->arena + c->arena_len, text, len);
    c->text[row].off = (uint32_t)c->arena_len;
    c->text[row].len = (uint32_t)len;
    c->arena_len += len;
    return 0;
}

/* Returns 1 when the `len` bytes at `p` are valid UTF-8 (no overlong forms, surrogates
 * or code points beyond U+10FFFF) without a NUL byte, 2 when they are valid UTF-8 with a
 * NUL byte, 0 when they are not valid UTF-8. One pass for both checks. */
static int valid_utf8(const unsigned char *p, size_t len)
{
    size_t i = 0;
    int nul = 0;
    while (i < len) {
        /* ASCII runs without NUL, 8 bytes at a time (a byte b is 0 or >= 0x80 when
         * (b - 1) & ~b has its top bit, or b has its own). */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((w | ((w - 0x0101010101010101ull) & ~w)) & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned c = p[i];
        if (c < 0x80) {
            nul |= c == 0;
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (c >= 0xc2 && c <= 0xdf)
            n = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else
            return 0;
        if (i + n >= len)
            return 0;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= n; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        i += n + 1;
    }
    return nul ? 2 : 1;
}

/* Converts `len` bytes of decimal text to a double in `*out`: [+-]digits[.digits][e[+-]
 * digits]. Exact cases (at most 19 significant digits forming an integer up to 2^53,
 * power of ten up to 22) are computed directly (correctly rounded, as Clinger showed);
 * others go through strtod under the C locale. Returns 0, or -1 (not a number) / -2
 * (beyond the double range). */
static int parse_number(const crisk_batch *b, const char *s, size_t len, double *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                   1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                   1e20, 1e21, 1e22};
    size_t i = 0;
    int neg = 0, sig = 0, dropped = 0, digits = 0;
    long exp10 = 0;
    uint64_t m = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (sig < 19) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            sig += m != 0;
        } else {
            exp10++;
            dropped |= s[i] != '0';
        }
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (sig < 19) {
                m = m * 10 + (uint64_t)(s[i] - '0');
                sig += m != 0;
                exp10--;
            } else {
                dropped |= s[i] != '0';
            }
        }
    }
    if (digits == 0)
        return -1;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        long e = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i == len || s[i] < '0' || s[i] > '9')
            return -1;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        exp10 += eneg ? -e : e;
    }
    if (i != len)
        return -1;
    double v;
    if (m == 0) {
        v = 0.0;
    } else if (!dropped && m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        v = exp10 < 0 ? (double)m / pow10[-exp10] : (double)m * pow10[exp10];
    } else {
        char buf[MAX_NUMBER_TEXT + 1];
        if (len > MAX_NUMBER_TEXT)
            return -1;
        memcpy(buf, s, len);
        buf[len] = '\0';
        /* strtod follows the thread's locale: make it the C locale for this call. */
        locale_t old = uselocale(b->c_locale);
        v = strtod(buf, NULL);
        uselocale(old);
        if (!isfinite(v))
            return -2;
        *out = v;
        return 0;
    }
    *out = neg ? -v : v;
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
    char shown[72], why[128];
    int rc = 0;
    switch (f->type) {
    case CRISK_FIELD_STRING:
        switch (valid_utf8((const unsigned char *)v, len)) {
        case 0:
            reason = "is not valid UTF-8";
            break;
        case 2:
            reason = "contains a NUL byte"; /* the schema file could not keep it */
            break;
        default:
            rc = store_text(c, row, v, len);
        }
        break;
    case CRISK_FIELD_HS_CODE: {
        char digits[16];
        size_t n = 0;
        for (size_t k = 0; k < len && !reason; k++) {
            if (v[k] >= '0' && v[k] <= '9') {
                if (n == 12)
                    reason = "has more than 12 digits; an HS code has 2 to 12";
                else
                    digits[n++] = v[k];
            } else if (v[k] != '.' && v[k] != ' ') {
                reason = "is not an HS code (digits, dots and spaces only)";
            }
        }
        if (!reason && n < 2)
            reason = "has fewer than 2 digits; an HS code has 2 to 12";
        if (!reason)
            rc = store_text(c, row, digits, n);
        break;
    }
    case CRISK_FIELD_NUMBER: {
        int r = parse_number(b, v, len, &c->num[row]);
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
    if (b->rows == b->cap && grow_rows(b))
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
