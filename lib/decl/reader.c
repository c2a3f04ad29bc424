/*
 * decl/reader.c — the streaming declaration readers declared in crisk/reader.h: CSV rows
 * through the RFC 4180 reader (one line each), JSON Lines through the in-place JSON reader
 * (common/jsonpull.h: string lengths and number literals as written, which cJSON's tree
 * loses; cJSON only locates what is wrong in a line that is not JSON), each row
 * validated, appended to a batch or handed to the caller as a reject.
 */
#include "crisk.h"

#include "decl/schema.h"
#include "common/canon.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/jsonpull.h"
#include "common/number.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_LINE_BYTES ((size_t)1024 * 1024)
#define DEFAULT_MAX_RAW_BYTES  256
#define CHUNK_BYTES            ((size_t)64 * 1024)
/* Nesting accepted in a JSON line (deeper values are refused; nested values of schema
 * fields are refused at any depth). */
#define MAX_JSON_DEPTH         64
/* JSON key positions whose field lookup is remembered from one line to the next. */
#define KEY_CACHE_SIZE         256
/* Marks "no field" / "no extra" in a column or key map. */
#define NONE                   (-1L)

/* Where a CSV column or a JSON key goes: a schema field and/or an extra, or neither. */
typedef struct target {
    long field;
    long extra;
} target;

/* A remembered JSON key and where it goes. */
typedef struct cached_key {
    char *key;
    target to;
} cached_key;

struct crisk_decl_reader {
    crisk_decl_format format;
    const crisk_schema *schema;
    crisk_decl_options opts;
    size_t num_fields;
    const char **values;      /* per field: the current row's text, NULL when missing */
    size_t *lengths;
    uint64_t *seen;           /* per field then per extra: the row that last set it */
    double *extra_row;        /* the current row's extras */
    /* CSV */
    crisk_csv_reader *csv;
    size_t num_columns;
    target *columns;          /* per header column */
    char **column_names;
    /* JSON Lines */
    FILE *f;
    char *chunk;
    size_t chunk_len, chunk_pos;
    int eof, started;
    int after_cr;             /* the last line ended with a CR: an LF next is its CRLF */
    char *line;               /* the current line (max_line_bytes + 1) */
    size_t line_len;
    uint64_t next_line;       /* 1-based number of the next line to read */
    char *texts;              /* the current line's keys and values, each NUL-terminated
                                 (max_line_bytes + 1: never more than the line) */
    crisk__jshared json;      /* the JSON reader's room for strings with escapes */
    cached_key keys[KEY_CACHE_SIZE];
    /* both */
    uint64_t rows, rejected;
    char *raw;                /* max_raw_bytes + 1 */
    crisk_decl_protect_fn protect; /* personal values in raw text (crisk_decl_set_protect) */
    void *protect_ctx;
    int failed;
    crisk_error failure;
};

/* Fills `opts` with the defaults: 1 MiB records, 256 raw bytes kept, no extras. */
int crisk_decl_options_init(crisk_decl_options *opts, unsigned int version)
{
    if (!opts || version != CRISK_DECL_OPTIONS_VERSION)
        return CRISK_E_INVALID_ARGUMENT;
    opts->version = version;
    opts->max_line_bytes = DEFAULT_MAX_LINE_BYTES;
    opts->max_raw_bytes = DEFAULT_MAX_RAW_BYTES;
    opts->extras = NULL;
    opts->num_extras = 0;
    return 0;
}

/* Returns 1 when `s` ends with `suffix`, ignoring case. */
static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Returns the format implied by the extension of `path`, or 0. */
crisk_decl_format crisk_decl_format_of(const char *path)
{
    if (!path)
        return 0;
    if (ends_with(path, ".csv"))
        return CRISK_DECL_CSV;
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson"))
        return CRISK_DECL_JSONL;
    return 0;
}

/* Returns the length of the valid UTF-8 sequence starting at `s` (of `n` bytes left), or
 * 0 when it is invalid (a stray continuation byte, an overlong form, a surrogate, a value
 * above U+10FFFF, a truncated sequence). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Returns the offset of the first byte of `s` (`n` bytes) that is not valid UTF-8, or
 * (size_t)-1 when all of it is. */
static size_t utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint64_t w;
        if (i + 8 <= n && (memcpy(&w, u + i, 8), (w & 0x8080808080808080ull) == 0)) {
            i += 8; /* eight ASCII bytes */
            continue;
        }
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_sequence(u + i, n - i);
        if (!len)
            return i;
        i += len;
    }
    return (size_t)-1;
}

/* Copies `n` bytes at `s` into the reader's raw buffer, replacing bytes that are not
 * valid UTF-8, and NUL bytes (the text is NUL-terminated), by '?' and cutting at a
 * character boundary within max_raw_bytes. Appends to what `*len` bytes already hold;
 * returns 1 when something was cut. */
static int raw_append(crisk_decl_reader *r, size_t *len, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t cap = r->opts.max_raw_bytes;
    for (size_t i = 0; i < n;) {
        size_t seq = u[i] ? utf8_sequence(u + i, n - i) : 0;
        size_t take = seq ? seq : 1;
        if (*len + take > cap) {
            r->raw[*len] = '\0';
            return 1;
        }
        if (seq)
            memcpy(r->raw + *len, s + i, seq);
        else
            r->raw[*len] = '?';
        *len += take;
        i += take;
    }
    r->raw[*len] = '\0';
    return 0;
}

/* Returns 1 when field `field` (NONE: no field) is personal and raw text protects it. */
static int protects(const crisk_decl_reader *r, long field)
{
    return r->protect && field != NONE && crisk_schema_field_personal(r->schema, (size_t)field);
}

/* Returns what stands for personal value `text` (`len` bytes) in raw text: the protect
 * callback's text in `buf` (CRISK_DECL_PROTECTED_BYTES), or NULL to leave it out. The
 * callback is given the value's canonical form (common/canon.h), the text the scored
 * output protects, so a hash in a reject matches the same id's hash there; a blank value
 * is left out, and one with no canonical form (the reject's reason, perhaps) is given as
 * read. */
static const char *protected_value(const crisk_decl_reader *r, const char *text, size_t len,
                                   char *buf)
{
    buf[0] = '\0';
    char *canon = malloc(len ? len : 1), why[CRISK__CANON_WHY_BYTES];
    size_t canon_len = 0;
    int as_read = !canon || crisk__canon_code(text, len, canon, &canon_len, why) != 0;
    int rc = as_read ? r->protect(r->protect_ctx, text, len, buf)
               : canon_len ? r->protect(r->protect_ctx, canon, canon_len, buf) : 1;
    free(canon);
    if (rc != 0)
        return NULL;
    buf[CRISK_DECL_PROTECTED_BYTES - 1] = '\0';
    return buf;
}

/* Renders a CSV row's fields back as one CSV record (quoting fields that need it) into
 * the raw buffer, cut to max_raw_bytes, personal columns protected (the `n` fields match
 * the header's columns when r->protect is set). Returns 1 when something was cut. */
static int raw_from_fields(crisk_decl_reader *r, const char **fields, size_t n, size_t *len)
{
    *len = 0;
    r->raw[0] = '\0';
    int cut = 0;
    char buf[CRISK_DECL_PROTECTED_BYTES];
    for (size_t i = 0; i < n && !cut; i++) {
        const char *field = fields[i];
        if (r->protect && protects(r, r->columns[i].field)) {
            field = protected_value(r, field, strlen(field), buf);
            field = field ? field : "";
        }
        if (i)
            cut = raw_append(r, len, ",", 1);
        int quote = strpbrk(field, ",\"\r\n") != NULL;
        if (quote && !cut)
            cut = raw_append(r, len, "\"", 1);
        for (const char *p = field; *p && !cut; p++) {
            const char *q = strchr(p, '"');
            size_t run = q ? (size_t)(q - p) + 1 : strlen(p);
            cut = raw_append(r, len, p, run);
            if (q && !cut)
                cut = raw_append(r, len, "\"", 1); /* "" stands for one quote */
            p += run - 1;
        }
        if (quote && !cut)
            cut = raw_append(r, len, "\"", 1);
    }
    return cut;
}

/* Counts a rejected row and hands it to the callback with `reason` and the raw text
 * already in the raw buffer (`raw_len` bytes, `cut` when truncated). Returns 0, or the
 * callback's negative code. */
static int reject(crisk_decl_reader *r, uint64_t line, const char *reason, size_t raw_len,
                  int cut, crisk_decl_reject_fn on_reject, void *ctx, crisk_error *err)
{
    r->rows++;
    r->rejected++;
    if (!on_reject)
        return 0;
    crisk_decl_reject rej = {line, reason, r->raw, raw_len, cut};
    int rc = on_reject(ctx, &rej);
    if (rc < 0)
        return crisk__fail(err, rc, "line %llu: the reject callback stopped reading",
                           (unsigned long long)line);
    return 0;
}

/* Rejects a row whose raw text must be withheld: raw text protects personal fields, and
 * the row could not be split into fields to protect. Returns reject()'s result. */
static int reject_withheld(crisk_decl_reader *r, uint64_t line, const char *reason,
                           crisk_decl_reject_fn on_reject, void *ctx, crisk_error *err)
{
    char text[sizeof ((crisk_error *)0)->message + 96];
    snprintf(text, sizeof text, "%s (raw text withheld: the row could not be split into "
             "fields to protect its personal ones)", reason);
    r->raw[0] = '\0';
    return reject(r, line, text, 0, 0, on_reject, ctx, err);
}

/* Returns where a column or key called `name` goes. */
static target find_target(const crisk_decl_reader *r, const char *name)
{
    target t = {crisk_schema_field_index(r->schema, name), NONE};
    for (size_t k = 0; k < r->opts.num_extras; k++)
        if (strcmp(r->opts.extras[k].name, name) == 0) {
            t.extra = (long)k;
            break;
        }
    return t;
}

/* Parses the text of extra `k` (NULL or empty: missing) into `*out`. Returns 0, or
 * CRISK_E_INPUT with a reason in `why`. */
static int parse_extra(const crisk_decl_reader *r, size_t k, const char *text, double *out,
                       crisk_error *why)
{
    const crisk_decl_extra *x = &r->opts.extras[k];
    *out = NAN;
    if (!text || !*text) {
        if (x->required)
            return crisk__fail(why, CRISK_E_INPUT, "%s: missing value", x->name);
        return 0;
    }
    double v;
    if (crisk__number_parse(text, strlen(text), (locale_t)0, &v) != 0)
        return crisk__fail(why, CRISK_E_INPUT, "%s: \"%.64s\" is not a number", x->name, text);
    if (x->binary && v != 0.0 && v != 1.0)
        return crisk__fail(why, CRISK_E_INPUT, "%s: \"%.64s\" is not 0 or 1", x->name, text);
    *out = v;
    return 0;
}

/* Reads the CSV header and maps its columns. Returns 0 or a negative code. */
static int open_csv(crisk_decl_reader *r, FILE *f, crisk_error *err)
{
    crisk_csv_options co;
    crisk_csv_options_init(&co, CRISK_CSV_OPTIONS_VERSION);
    co.max_record_bytes = r->opts.max_line_bytes;
    co.resync = 1;
    co.single_line = 1; /* no field holds a line break: a stray quote costs one line */
    int rc = crisk_csv_open(f, &co, &r->csv, err);
    if (rc)
        return rc;
    const char **fields;
    size_t n;
    rc = crisk_csv_next(r->csv, &fields, &n, err);
    if (rc < 0)
        return crisk__fail_prefix(err, rc, "the header");
    if (rc == 0)
        return crisk__fail(err, CRISK_E_INPUT, "the input is empty: a header row of field "
                                              "names is needed");
    r->columns = malloc(n * sizeof *r->columns);
    r->column_names = calloc(n, sizeof *r->column_names);
    if (!r->columns || !r->column_names)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu columns", n);
    r->num_columns = n;
    size_t line = crisk_csv_line(r->csv);
    for (size_t c = 0; c < n; c++) {
        r->column_names[c] = strdup(fields[c]);
        if (!r->column_names[c])
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for the header");
        r->columns[c] = find_target(r, fields[c]);
        for (size_t d = 0; d < c; d++)
            if (strcmp(r->column_names[d], fields[c]) == 0)
                return crisk__fail(err, CRISK_E_INPUT,
                                   "line %zu, column %zu: \"%s\" repeats column %zu", line,
                                   c + 1, fields[c], d + 1);
    }
    /* Every required field and extra needs a column. */
    for (size_t i = 0; i < r->num_fields + r->opts.num_extras; i++) {
        int is_field = i < r->num_fields;
        size_t k = is_field ? i : i - r->num_fields;
        int found = 0;
        for (size_t c = 0; c < n && !found; c++)
            found = is_field ? r->columns[c].field == (long)k : r->columns[c].extra == (long)k;
        int required = is_field ? crisk__schema_field_required(r->schema, k)
                                : r->opts.extras[k].required;
        if (!found && required)
            return crisk__fail(err, CRISK_E_INPUT,
                               "line %zu: the header has no column \"%s\" (a required %s)",
                               line, is_field ? crisk_schema_field_name(r->schema, k)
                                             : r->opts.extras[k].name,
                              is_field ? "field of the schema" : "column");
    }
    return 0;
}

/* Creates a reader; see crisk/reader.h. */
int crisk_decl_open(FILE *f, crisk_decl_format format, const crisk_schema *schema,
                    const crisk_decl_options *opts, crisk_decl_reader **out,
                    crisk_error *err)
{
    crisk_decl_options defaults;
    if (!opts) {
        crisk_decl_options_init(&defaults, CRISK_DECL_OPTIONS_VERSION);
        opts = &defaults;
    }
    if (!out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "out must not be NULL");
    *out = NULL;
    if (!f || !schema || (format != CRISK_DECL_CSV && format != CRISK_DECL_JSONL))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "a stream, a schema and a known format are needed");
    int rc = crisk__options_version(opts->version, CRISK_DECL_OPTIONS_VERSION,
                                    "crisk_decl_options", err);
    if (rc)
        return rc;
    if (opts->max_line_bytes == 0 || (opts->num_extras && !opts->extras))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "max_line_bytes must be positive and extras given");
    crisk_decl_reader *r = calloc(1, sizeof *r);
    if (!r)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a declaration reader");
    r->format = format;
    r->schema = schema;
    r->opts = *opts;
    r->num_fields = crisk_schema_num_fields(schema);
    r->next_line = 1;
    size_t nf = r->num_fields ? r->num_fields : 1;
    size_t slots = r->num_fields + opts->num_extras;
    r->values = malloc(nf * sizeof *r->values);
    r->lengths = malloc(nf * sizeof *r->lengths);
    r->seen = calloc(slots ? slots : 1, sizeof *r->seen);
    r->extra_row = malloc((opts->num_extras ? opts->num_extras : 1) * sizeof *r->extra_row);
    r->raw = malloc(opts->max_raw_bytes + 1);
    rc = 0;
    if (!r->values || !r->lengths || !r->seen || !r->extra_row || !r->raw) {
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for a declaration reader");
    } else if (format == CRISK_DECL_CSV) {
        rc = open_csv(r, f, err);
    } else {
        r->f = f;
        r->chunk = malloc(CHUNK_BYTES);
        r->line = malloc(opts->max_line_bytes + 1);
        r->texts = malloc(opts->max_line_bytes + 1);
        if (!r->chunk || !r->line || !r->texts)
            rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for a %zu-byte line buffer",
                             opts->max_line_bytes);
    }
    if (rc) {
        crisk_decl_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Frees a reader; NULL is a no-op. */
void crisk_decl_free(crisk_decl_reader *r)
{
    if (!r)
        return;
    crisk_csv_free(r->csv);
    if (r->column_names)
        for (size_t c = 0; c < r->num_columns; c++)
            free(r->column_names[c]);
    free(r->column_names);
    free(r->columns);
    free(r->values);
    free(r->lengths);
    free(r->seen);
    free(r->extra_row);
    free(r->raw);
    free(r->chunk);
    free(r->line);
    free(r->texts);
    free(r->json.buf);
    for (size_t i = 0; i < KEY_CACHE_SIZE; i++)
        free(r->keys[i].key);
    free(r);
}

/* Sets how reject raw text protects personal fields; see crisk/reader.h. */
int crisk_decl_set_protect(crisk_decl_reader *r, crisk_decl_protect_fn protect, void *ctx,
                           crisk_error *err)
{
    if (!r)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "reader must not be NULL");
    r->protect = protect;
    r->protect_ctx = ctx;
    return 0;
}

/* Returns the rows read so far and stores the rejected count. */
uint64_t crisk_decl_rows_read(const crisk_decl_reader *r, uint64_t *rejected)
{
    if (rejected)
        *rejected = r ? r->rejected : 0;
    return r ? r->rows : 0;
}

/* Clears the current row: every field missing, every extra NaN. */
static void clear_row(crisk_decl_reader *r)
{
    for (size_t i = 0; i < r->num_fields; i++) {
        r->values[i] = NULL;
        r->lengths[i] = 0;
    }
    for (size_t k = 0; k < r->opts.num_extras; k++)
        r->extra_row[k] = NAN;
}

/* Appends the current row to `batch` and copies its extras to `extras_out`. Returns 1
 * when appended, 0 when the batch refused the row's values (CRISK_E_INPUT, the reason in
 * `why`), or another negative code on a fatal error (no memory, a wrong batch). */
static int append_row(crisk_decl_reader *r, crisk_batch *batch, uint64_t line,
                      double *extras_out, crisk_error *why)
{
    int rc = crisk_batch_append_text(batch, r->values, r->lengths, line, why);
    if (rc == CRISK_E_INPUT)
        return 0;
    if (rc)
        return rc;
    r->rows++;
    if (r->opts.num_extras)
        memcpy(extras_out, r->extra_row, r->opts.num_extras * sizeof *extras_out);
    return 1;
}

/* Reads one CSV row: appends it (returns 1 with `*appended` 1), rejects it (returns 1
 * with `*appended` 0), or returns 0 at the end of the input or a negative fatal code. */
static int next_csv(crisk_decl_reader *r, crisk_batch *batch, double *extras_out,
                    int *appended, crisk_decl_reject_fn on_reject, void *ctx,
                    crisk_error *err)
{
    *appended = 0;
    const char **fields;
    size_t n, raw_len = 0;
    crisk_error why;
    int rc = crisk_csv_next(r->csv, &fields, &n, &why);
    if (rc == 0)
        return 0;
    uint64_t line = crisk_csv_line(r->csv);
    if (rc == CRISK_E_FORMAT || rc == CRISK_E_LIMIT) {
        /* Its bytes as read: unsplit, they cannot have their personal fields protected. */
        if (r->protect)
            rc = reject_withheld(r, line, why.message, on_reject, ctx, err);
        else {
            int cut;
            const char *bytes = crisk__csv_failed_raw(r->csv, &raw_len, &cut);
            size_t n = raw_len;
            raw_len = 0;
            cut = raw_append(r, &raw_len, bytes, n) || cut;
            rc = reject(r, line, why.message, raw_len, cut, on_reject, ctx, err);
        }
        return rc ? rc : 1;
    }
    if (rc < 0) {
        if (err)
            *err = why;
        return rc;
    }
    crisk__error_clear(&why);
    if (n != r->num_columns) {
        crisk__fail(&why, CRISK_E_INPUT, "%zu fields, but the header has %zu", n,
                    r->num_columns);
    } else {
        clear_row(r);
        const size_t *lengths = crisk_csv_lengths(r->csv);
        int ascii = crisk__csv_ascii(r->csv); /* then valid UTF-8 throughout */
        for (size_t c = 0; c < n && why.code == 0; c++) {
            size_t len = lengths[c];
            size_t bad = ascii ? (size_t)-1 : utf8_invalid_at(fields[c], len);
            if (bad != (size_t)-1) {
                crisk__fail(&why, CRISK_E_INPUT, "column %zu (%s): invalid UTF-8 at byte %zu "
                                                "of the value", c + 1, r->column_names[c], bad);
                break;
            }
            target t = r->columns[c];
            if (t.field != NONE) {
                r->values[t.field] = fields[c];
                r->lengths[t.field] = len;
            }
            if (t.extra != NONE)
                parse_extra(r, (size_t)t.extra, fields[c], &r->extra_row[t.extra], &why);
        }
    }
    if (why.code == 0) {
        rc = append_row(r, batch, line, extras_out, &why);
        if (rc < 0)
            return crisk__fail(err, rc, "line %llu: %s", (unsigned long long)line, why.message);
        if (rc == 1) {
            *appended = 1;
            return 1;
        }
    }
    /* The raw text is rendered only for a reject; the fields stay valid until the next
     * record is read. Protected, a row of another width cannot say which value is whose. */
    if (r->protect && n != r->num_columns) {
        rc = reject_withheld(r, line, why.message, on_reject, ctx, err);
        return rc ? rc : 1;
    }
    int cut = raw_from_fields(r, fields, n, &raw_len);
    rc = reject(r, line, why.message, raw_len, cut, on_reject, ctx, err);
    return rc ? rc : 1;
}

/* Reads the next physical line into r->line (ended by LF, CRLF or a lone CR, as the CSV
 * reader counts lines; a BOM at the start skipped), at most max_line_bytes of it; stores its number in `*line_no` and sets
 * `*overlong` when it was longer (the rest is skipped). Returns 1, 0 at the end of the
 * input, or CRISK_E_IO. */
static int next_line(crisk_decl_reader *r, uint64_t *line_no, int *overlong, crisk_error *err)
{
    size_t max = r->opts.max_line_bytes;
    int any = 0;
    r->line_len = 0;
    *overlong = 0;
    *line_no = r->next_line;
    for (;;) {
        if (r->chunk_pos == r->chunk_len) {
            if (r->eof)
                break;
            /* The first fill loops until it holds 3 bytes (a pipe may deliver fewer), so
             * that a byte order mark is seen whole. */
            size_t want = r->started ? 1 : 3;
            r->chunk_len = 0;
            r->chunk_pos = 0;
            while (!r->eof && r->chunk_len < want) {
                size_t got = fread(r->chunk + r->chunk_len, 1, CHUNK_BYTES - r->chunk_len,
                                   r->f);
                if (got == 0 && ferror(r->f))
                    return crisk__fail(err, CRISK_E_IO, "line %llu: %s",
                                       (unsigned long long)*line_no, strerror(errno));
                r->eof = got == 0;
                r->chunk_len += got;
            }
            if (!r->started) {
                r->started = 1;
                if (r->chunk_len >= 3 && memcmp(r->chunk, "\xEF\xBB\xBF", 3) == 0)
                    r->chunk_pos = 3;
            }
            continue;
        }
        const char *start = r->chunk + r->chunk_pos;
        if (r->after_cr) { /* the LF of a CRLF split from its CR by the chunk's end */
            r->after_cr = 0;
            if (*start == '\n') {
                r->chunk_pos++;
                continue;
            }
        }
        any = 1;
        size_t avail = r->chunk_len - r->chunk_pos;
        const char *nl = memchr(start, '\n', avail);
        const char *cr = memchr(start, '\r', nl ? (size_t)(nl - start) : avail);
        if (cr) { /* a CR ends the line, with the LF after it when there is one */
            nl = cr;
            r->after_cr = 1;
            if (cr + 1 < start + avail) {
                r->after_cr = 0;
                if (cr[1] == '\n')
                    r->chunk_pos++;
            }
        }
        size_t take = nl ? (size_t)(nl - start) : avail;
        size_t room = max - r->line_len;
        if (take > room) {
            *overlong = 1;
            memcpy(r->line + r->line_len, start, room);
            r->line_len = max;
        } else {
            memcpy(r->line + r->line_len, start, take);
            r->line_len += take;
        }
        r->chunk_pos += take + (nl ? 1 : 0);
        if (nl)
            break;
    }
    if (!any)
        return 0;
    r->next_line++;
    r->line[r->line_len] = '\0';
    return 1;
}

/* Returns where JSON key `key` at position `pos` of its object goes, through the cache of
 * the previous lines' keys (lines usually list their keys in one order). */
static target key_target(crisk_decl_reader *r, size_t pos, const char *key)
{
    if (pos >= KEY_CACHE_SIZE)
        return find_target(r, key);
    cached_key *c = &r->keys[pos];
    if (c->key && strcmp(c->key, key) == 0)
        return c->to;
    target t = find_target(r, key);
    char *copy = strdup(key);
    if (copy) { /* without memory the key is simply not cached */
        free(c->key);
        c->key = copy;
        c->to = t;
    }
    return t;
}

/* Returns 1 when the `n` bytes at `s` are all JSON whitespace. */
static int all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Copies `n` bytes at `s` to the line's text store, NUL-terminated, after the `*used`
 * bytes already there. Returns the copy (NULL when the store is full, which a checked
 * line cannot make happen: its keys and values are shorter than their quoted text). */
static const char *keep_text(crisk_decl_reader *r, size_t *used, const char *s, size_t n)
{
    if (n >= r->opts.max_line_bytes + 1 - *used)
        return NULL;
    char *out = r->texts + *used;
    memcpy(out, s, n);
    out[n] = '\0';
    *used += n + 1;
    return out;
}

/* Reads the value at cursor `c` for key `key` as text: a string's bytes (NUL bytes kept,
 * for the schema to refuse), a number's literal as written (a 20-digit id stays its
 * digits), NULL for null. Returns 0, or CRISK_E_INPUT with the reason in `why`. */
static int json_value_text(crisk_decl_reader *r, crisk__jpull *c, const char *key,
                           size_t *used, const char **text, size_t *len, crisk_error *why)
{
    crisk__jtype type = crisk__jpull_peek(c);
    const char *s = c->p;
    *text = NULL;
    *len = 0;
    if (type == CRISK__J_STRING) {
        int rc = crisk__jpull_string(c, &s, len);
        if (rc == CRISK_E_NOMEM)
            return crisk__fail(why, CRISK_E_INPUT, "key \"%.64s\": out of memory", key);
        if (rc)
            return crisk__fail(why, CRISK_E_INPUT, "key \"%.64s\": a string with \\u0000 or a "
                               "surrogate escape (not accepted)", key);
    } else if (type == CRISK__J_NUMBER || type == CRISK__J_NULL) {
        crisk__jpull_skip(c);
        if (type == CRISK__J_NULL)
            return 0;
        *len = (size_t)(c->p - s);
    } else {
        return crisk__fail(why, CRISK_E_INPUT, "key \"%.64s\": %s values are not accepted (a "
                           "string, a number or null is)", key,
                           type == CRISK__J_TRUE || type == CRISK__J_FALSE ? "boolean"
                                                                           : "nested");
    }
    *text = keep_text(r, used, s, *len);
    if (!*text)
        return crisk__fail(why, CRISK_E_INPUT, "key \"%.64s\": no room for the value", key);
    return 0;
}

/* Fills the current row of row number `row` from the checked JSON text of the current
 * line. Returns 0, or CRISK_E_INPUT with the reason in `why`. */
static int fill_from_json(crisk_decl_reader *r, uint64_t row, crisk_error *why)
{
    crisk__jpull c;
    crisk__jpull_init(&c, r->line, r->line_len, &r->json);
    if (crisk__jpull_peek(&c) != CRISK__J_OBJECT || crisk__jpull_enter(&c) != 0)
        return crisk__fail(why, CRISK_E_INPUT, "the line is not a JSON object");
    clear_row(r);
    size_t used = 0;
    for (size_t pos = 0; crisk__jpull_more(&c); pos++) {
        const char *k;
        size_t klen;
        if (crisk__jpull_key(&c, &k, &klen) != 0)
            return crisk__fail(why, CRISK_E_INPUT, "key %zu: \\u0000 or a surrogate escape "
                               "(not accepted)", pos + 1);
        const char *key = keep_text(r, &used, k, klen);
        if (!key)
            return crisk__fail(why, CRISK_E_INPUT, "key %zu: no room for the key", pos + 1);
        target t = key_target(r, pos, key);
        if (t.field == NONE && t.extra == NONE) {
            crisk__jpull_skip(&c);
            continue;
        }
        size_t slot = t.field != NONE ? (size_t)t.field : r->num_fields + (size_t)t.extra;
        if (r->seen[slot] == row)
            return crisk__fail(why, CRISK_E_INPUT, "key \"%.64s\" is repeated", key);
        r->seen[slot] = row;
        if (t.extra != NONE && t.field != NONE)
            r->seen[r->num_fields + (size_t)t.extra] = row;
        const char *text;
        size_t len;
        int rc = json_value_text(r, &c, key, &used, &text, &len, why);
        if (rc)
            return rc;
        if (text && t.field != NONE) {
            r->values[t.field] = text;
            r->lengths[t.field] = len;
        }
        if (text && t.extra != NONE
            && (rc = parse_extra(r, (size_t)t.extra, text, &r->extra_row[t.extra], why)) != 0)
            return rc;
    }
    for (size_t k = 0; k < r->opts.num_extras; k++)
        if (r->extra_row[k] != r->extra_row[k] && r->opts.extras[k].required)
            return crisk__fail(why, CRISK_E_INPUT, "%s: missing value", r->opts.extras[k].name);
    return 0;
}

/* Says in `why` where the line, which is not JSON of the subset read, goes wrong: cJSON
 * names the byte. */
static void locate_json_error(const crisk_decl_reader *r, crisk_error *why)
{
    const char *end = NULL;
    cJSON *obj = cJSON_ParseWithLengthOpts(r->line, r->line_len, &end, 0);
    size_t at = end ? (size_t)(end - r->line) : 0;
    if (!obj)
        crisk__fail(why, CRISK_E_INPUT, "not valid JSON (at byte %zu)", at);
    else if (at < r->line_len && !all_space(end, r->line_len - at))
        crisk__fail(why, CRISK_E_INPUT, "text after the JSON object (at byte %zu)", at);
    else
        crisk__fail(why, CRISK_E_INPUT, "JSON outside what is read (a number longer than 63 "
                    "characters, nesting deeper than %d, or a control character in a string)",
                    MAX_JSON_DEPTH);
    cJSON_Delete(obj);
}

/* Rejects the row of JSON object `obj` with its raw text rendered again, the values of
 * personal fields protected. Returns reject()'s result, or CRISK_E_NOMEM. */
static int reject_json_protected(crisk_decl_reader *r, cJSON *obj, uint64_t line,
                                 const char *reason, crisk_decl_reject_fn on_reject, void *ctx,
                                 crisk_error *err)
{
    char buf[CRISK_DECL_PROTECTED_BYTES];
    /* A number's literal as written (a 20-digit id stays its digits), which cJSON's tree
     * has lost, comes from a cursor walking the same members in step. */
    crisk__jpull c;
    crisk__jpull_init(&c, r->line, r->line_len, &r->json);
    (void)crisk__jpull_enter(&c);
    for (cJSON *item = obj->child, *next; item; item = next) {
        next = item->next;
        const char *k, *literal = NULL;
        size_t klen, len = 0;
        if (crisk__jpull_more(&c) && crisk__jpull_key(&c, &k, &klen) == 0) {
            (void)crisk__jpull_peek(&c);
            literal = c.p;
            (void)crisk__jpull_skip(&c);
            len = (size_t)(c.p - literal);
        }
        if (!protects(r, find_target(r, item->string ? item->string : "").field)
            || cJSON_IsNull(item))
            continue;
        const char *text = cJSON_IsString(item) ? item->valuestring
                         : cJSON_IsNumber(item) ? literal : NULL;
        len = cJSON_IsString(item) ? strlen(text) : len;
        /* A boolean or nested value (a reject already) is left out whole. */
        const char *shown = text ? protected_value(r, text, len, buf) : NULL;
        cJSON *with = shown ? cJSON_CreateString(shown) : cJSON_CreateNull();
        if (!with)
            return crisk__fail(err, CRISK_E_NOMEM, "line %llu: out of memory",
                               (unsigned long long)line);
        with->string = item->string; /* the key moves to the new value */
        item->string = NULL;
        (void)cJSON_ReplaceItemViaPointer(obj, item, with); /* cannot fail: both exist */
    }
    char *text = cJSON_PrintUnformatted(obj);
    if (!text)
        return crisk__fail(err, CRISK_E_NOMEM, "line %llu: out of memory",
                           (unsigned long long)line);
    size_t raw_len = 0;
    int cut = raw_append(r, &raw_len, text, strlen(text));
    free(text);
    return reject(r, line, reason, raw_len, cut, on_reject, ctx, err);
}

/* Rejects the current line of a reader that protects personal fields: rendered again
 * from its JSON object when it is `readable` (within the limit, valid UTF-8) JSON with
 * one (cJSON's tree serves this rare path), else withheld. Returns reject()'s result or
 * a negative code. */
static int reject_jsonl_protected(crisk_decl_reader *r, uint64_t line, int readable,
                                  const char *reason, crisk_decl_reject_fn on_reject,
                                  void *ctx, crisk_error *err)
{
    /* The subset check lets reject_json_protected read number literals with a cursor. */
    readable = readable && crisk__json_check_text(r->line, r->line_len, MAX_JSON_DEPTH, NULL);
    cJSON *obj = readable ? cJSON_ParseWithLengthOpts(r->line, r->line_len, NULL, 0) : NULL;
    int rc = cJSON_IsObject(obj) ? reject_json_protected(r, obj, line, reason, on_reject, ctx,
                                                         err)
                                 : reject_withheld(r, line, reason, on_reject, ctx, err);
    cJSON_Delete(obj);
    return rc;
}

/* Reads one JSON Lines row, with the results of next_csv(). */
static int next_jsonl(crisk_decl_reader *r, crisk_batch *batch, double *extras_out,
                      int *appended, crisk_decl_reject_fn on_reject, void *ctx,
                      crisk_error *err)
{
    *appended = 0;
    uint64_t line;
    int overlong, rc;
    do {
        rc = next_line(r, &line, &overlong, err);
        if (rc <= 0)
            return rc;
    } while (!overlong && all_space(r->line, r->line_len)); /* blank lines are no rows */
    crisk_error why;
    crisk__error_clear(&why);
    size_t bad = 0; /* stays 0 (not "all valid") for an over-long line */
    if (overlong)
        crisk__fail(&why, CRISK_E_LIMIT, "the line is longer than %zu bytes",
                    r->opts.max_line_bytes);
    else if ((bad = utf8_invalid_at(r->line, r->line_len)) != (size_t)-1)
        crisk__fail(&why, CRISK_E_INPUT, "invalid UTF-8 at byte %zu", bad);
    else if (!crisk__json_check_text(r->line, r->line_len, MAX_JSON_DEPTH, NULL))
        locate_json_error(r, &why);
    else
        fill_from_json(r, r->rows + 1, &why);
    if (why.code == 0) {
        rc = append_row(r, batch, line, extras_out, &why);
        if (rc < 0)
            return crisk__fail(err, rc, "line %llu: %s", (unsigned long long)line, why.message);
        if (rc == 1) {
            *appended = 1;
            return 1;
        }
    }
    if (r->protect) {
        rc = reject_jsonl_protected(r, line, !overlong && bad == (size_t)-1, why.message,
                                    on_reject, ctx, err);
        return rc ? rc : 1;
    }
    size_t raw_len = 0;
    int cut = raw_append(r, &raw_len, r->line, r->line_len) || overlong;
    rc = reject(r, line, why.message, raw_len, cut, on_reject, ctx, err);
    return rc ? rc : 1;
}

/* Reads up to `max_rows` rows into `batch`; see crisk/reader.h. */
int crisk_decl_read(crisk_decl_reader *r, crisk_batch *batch, size_t max_rows,
                    double *extras, crisk_decl_reject_fn on_reject, void *ctx,
                    size_t *added, crisk_error *err)
{
    if (added)
        *added = 0;
    if (!r || !batch || !added || (r->opts.num_extras && max_rows && !extras))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "reader, batch, added (and extras when requested) are needed");
    if (r->failed) {
        if (err)
            *err = r->failure;
        return r->failure.code;
    }
    while (*added < max_rows) {
        int appended;
        double *slot = extras ? extras + *added * r->opts.num_extras : NULL;
        int rc = r->format == CRISK_DECL_CSV
                     ? next_csv(r, batch, slot, &appended, on_reject, ctx, &r->failure)
                     : next_jsonl(r, batch, slot, &appended, on_reject, ctx, &r->failure);
        if (rc < 0) {
            r->failed = 1;
            r->failure.code = rc;
            if (err)
                *err = r->failure;
            return rc;
        }
        if (rc == 0)
            break;
        *added += (size_t)appended;
    }
    return 0;
}
