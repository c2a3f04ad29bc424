/*
 * decl_io.c — what `crisk score`, `fit` and `evaluate` share: opening a declaration input
 * (CSV or JSON Lines), writing rejected rows (a rejects file, or stderr), the closing
 * count line, declaration ids, and text values quoted for CSV and JSON.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Returns the format `text`, the value of option `option`, names ("csv" or "jsonl"), or 0
 * after reporting that it names none. */
crisk_decl_format cli_format_named(const char *option, const char *text)
{
    if (strcmp(text, "csv") == 0)
        return CRISK_DECL_CSV;
    if (strcmp(text, "jsonl") == 0)
        return CRISK_DECL_JSONL;
    fprintf(stderr, "crisk: unknown format '%s' for %s: expected csv or jsonl\n", text,
            option);
    return 0;
}

/* Returns the format `path`'s extension implies ("-": CSV), or 0 when it implies none. */
crisk_decl_format cli_decl_format(const char *path)
{
    return strcmp(path, "-") == 0 ? CRISK_DECL_CSV : crisk_decl_format_of(path);
}

/* Returns nonzero when the 8-byte word `w` holds the byte `c` (the classic zero-byte
 * test on w ^ c repeated: exact about whether there is one). */
static uint64_t word_has(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (0x0101010101010101ull * c);
    return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

/* Returns 1 when a CSV field of `n` bytes at `s` must be quoted: it holds a comma, a
 * quote, a line break, or leading/trailing space. Words of 8 bytes at a time: most
 * fields written (ids, lanes, reasons) need no quotes or have a comma late. */
static int needs_quotes(const char *s, size_t n)
{
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
        return 1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (word_has(w, ',') | word_has(w, '"') | word_has(w, '\n') | word_has(w, '\r'))
            return 1;
    }
    for (; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            return 1;
    return 0;
}

/* Writes `n` bytes of text at `s` as one CSV field, quoted when it holds a comma, a
 * quote, a line break, or leading/trailing space. */
void cli_write_csv_text(FILE *f, const char *s, size_t n)
{
    if (!needs_quotes(s, n)) {
        cli_put(f, s, n);
        return;
    }
    putc_unlocked('"', f);
    for (const char *end = s + n; s < end;) {
        const char *q = memchr(s, '"', (size_t)(end - s));
        const char *stop = q ? q + 1 : end;
        fwrite(s, 1, (size_t)(stop - s), f);
        if (q)
            putc_unlocked('"', f); /* the quote doubled */
        s = stop;
    }
    putc_unlocked('"', f);
}

void cli_g9_memo_init(cli_g9_memo *memo)
{
    memset(memo, 0, sizeof *memo);
    for (unsigned k = 0; k < CLI_G9_MEMO; k++)
        memo->v[k] = NAN;
}

void cli_write_g9(FILE *f, double v, cli_g9_memo *memo)
{
    unsigned k = 0;
    /* Equal doubles print alike; -0 equals 0 but prints "-0", so the sign must match. */
    while (k < CLI_G9_MEMO && !(v == memo->v[k] && signbit(v) == signbit(memo->v[k])))
        k++;
    if (k == CLI_G9_MEMO) {
        k = memo->next;
        memo->next = (k + 1) % CLI_G9_MEMO;
        int n = snprintf(memo->text[k], sizeof memo->text[k], "%.9g", v);
        memo->len[k] = n > 0 ? (size_t)n : 0;
        memo->v[k] = v;
    }
    cli_put(f, memo->text[k], memo->len[k]);
}

/* Writes the decimal digits of `q` (1 <= q < 10^9, exactly 9 digits) to `d`. */
static void nine_digits(uint32_t q, char *d)
{
    for (int i = 8; i >= 0; i--, q /= 10)
        d[i] = (char)('0' + q % 10);
}

/* Returns 10^k as a 128-bit integer (k <= 38). */
static unsigned __int128 pow10_u128(unsigned k)
{
    unsigned __int128 p = 1;
    while (k--)
        p *= 10;
    return p;
}

size_t cli_format_float(float v, char *buf)
{
    int ex;
    float fr = frexpf(fabsf(v), &ex);
    if (!isfinite(v) || v == 0 || ex < -60 || ex > 60)
        return (size_t)snprintf(buf, CLI_FLOAT_BYTES, "%.9g", (double)v);
    /* |v| = m * 2^e exactly; x = floor(log10 |v|), corrected below. */
    uint32_t m = (uint32_t)ldexpf(fr, 24);
    int e = ex - 24, x = (int)floor(log10(fabs((double)v)));
    /* q = |v| * 10^(8 - x) rounded half to even (as glibc rounds the exact value), from
     * the exact fraction num / den; both fit 128 bits for |v| in 2^-60 .. 2^60. */
    for (;;) {
        int k = 8 - x;
        unsigned __int128 num = (unsigned __int128)m, den = 1;
        if (k >= 0)
            num *= pow10_u128((unsigned)k);
        else
            den = pow10_u128((unsigned)-k);
        if (e >= 0)
            num <<= e;
        else
            den <<= -e;
        /* A power of two below (k >= 0): a shift, not a 128-bit division. */
        unsigned __int128 q = k >= 0 ? num >> (e < 0 ? -e : 0) : num / den;
        unsigned __int128 rem = num - q * den;
        if (q >= 1000000000u) { /* log10 was low by one */
            x++;
            continue;
        }
        if (q < 100000000u) {  /* or high by one */
            x--;
            continue;
        }
        if (2 * rem > den || (2 * rem == den && (q & 1)))
            q++;
        if (q == 1000000000u) {
            q = 100000000u;
            x++;
        }
        char d[9], *o = buf;
        nine_digits((uint32_t)q, d);
        int nd = 9;
        while (nd > 1 && d[nd - 1] == '0')
            nd--;
        if (v < 0)
            *o++ = '-';
        if (x < -4 || x >= 9) { /* %g's exponent form */
            *o++ = d[0];
            if (nd > 1) {
                *o++ = '.';
                memcpy(o, d + 1, (size_t)nd - 1);
                o += nd - 1;
            }
            o += snprintf(o, 8, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
        } else if (x >= 0) {
            memcpy(o, d, (size_t)x + 1);
            o += x + 1;
            if (nd > x + 1) {
                *o++ = '.';
                memcpy(o, d + x + 1, (size_t)(nd - x - 1));
                o += nd - x - 1;
            }
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int z = 0; z < -x - 1; z++)
                *o++ = '0';
            memcpy(o, d, (size_t)nd);
            o += nd;
        }
        *o = '\0';
        return (size_t)(o - buf);
    }
}

/* Writes `n` bytes of UTF-8 text at `s` as a JSON string, escaping quotes, backslashes
 * and control characters. */
void cli_write_json_text(FILE *f, const char *s, size_t n)
{
    putc_unlocked('"', f);
    size_t plain = 0; /* the start of the characters not yet written, none escaped */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        fwrite(s + plain, 1, i - plain, f);
        plain = i + 1;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else
            fprintf(f, "\\u%04x", c);
    }
    fwrite(s + plain, 1, n - plain, f);
    putc_unlocked('"', f);
}

/* Opens the rejects sink: the file at `path` (CSV `line,reason,raw`, or JSON Lines when
 * it ends in .jsonl), or stderr lines when `path` is NULL. Returns 0, or
 * CLI_EXIT_FAILURE after reporting. */
int cli_rejects_open(cli_rejects *rj, const char *path)
{
    rj->name = path;
    rj->jsonl = path && crisk_decl_format_of(path) == CRISK_DECL_JSONL;
    rj->f = NULL;
    if (!path)
        return 0;
    rj->f = fopen(path, "w");
    if (!rj->f) {
        cli_report(path, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    if (!rj->jsonl)
        fputs("line,reason,raw\n", rj->f);
    return 0;
}

/* Writes one rejected row to the sink (a crisk_decl_reject_fn); returns 0. */
int cli_rejects_write(void *ctx, const crisk_decl_reject *rej)
{
    cli_rejects *rj = ctx;
    if (!rj->f) {
        fprintf(stderr, "crisk: line %llu rejected: %s\n", (unsigned long long)rej->line,
                rej->reason);
        return 0;
    }
    if (rj->jsonl) {
        fprintf(rj->f, "{\"line\":%llu,\"reason\":", (unsigned long long)rej->line);
        cli_write_json_text(rj->f, rej->reason, strlen(rej->reason));
        fputs(",\"raw\":", rj->f);
        cli_write_json_text(rj->f, rej->raw, rej->raw_len);
        fprintf(rj->f, ",\"truncated\":%s}\n", rej->truncated ? "true" : "false");
        return 0;
    }
    fprintf(rj->f, "%llu,", (unsigned long long)rej->line);
    cli_write_csv_text(rj->f, rej->reason, strlen(rej->reason));
    fputc(',', rj->f);
    cli_write_csv_text(rj->f, rej->raw, rej->raw_len);
    fputc('\n', rj->f);
    return 0;
}

/* Finishes the rejects file; returns 0 or -1 after reporting a write error. */
int cli_rejects_close(cli_rejects *rj)
{
    if (!rj->f)
        return 0;
    int rc = cli_finish_output(rj->f, rj->name);
    rj->f = NULL;
    return rc;
}

crisk_decl_format cli_input_format(const char *path, const char *format)
{
    if (format)
        return cli_format_named("--input-format", format);
    crisk_decl_format fmt = cli_decl_format(path);
    if (!fmt)
        fprintf(stderr, "crisk: %s: cannot tell the input format: name the file .csv or "
                        ".jsonl, or give --input-format csv|jsonl\n", path);
    return fmt;
}

/* Opens the declarations at `path` ("-": stdin) in `format` for `schema`, with the extra
 * columns `extras`. Returns 0 or CLI_EXIT_FAILURE, after reporting. */
int cli_decl_input_open(cli_decl_input *in, const char *path, crisk_decl_format format,
                        const crisk_schema *schema, const crisk_decl_extra *extras,
                        size_t num_extras)
{
    memset(in, 0, sizeof *in);
    in->name = strcmp(path, "-") == 0 ? "stdin" : path;
    in->f = cli_open_input(path);
    if (!in->f)
        return CLI_EXIT_FAILURE;
    crisk_decl_options opts;
    crisk_decl_options_init(&opts, CRISK_DECL_OPTIONS_VERSION);
    opts.extras = extras;
    opts.num_extras = num_extras;
    crisk_error err;
    if (crisk_decl_open(in->f, format, schema, &opts, &in->reader, &err) != 0) {
        cli_report(in->name, err.message);
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

/* Closes the input (not stdin) and frees its reader. */
void cli_decl_input_close(cli_decl_input *in)
{
    crisk_decl_free(in->reader);
    in->reader = NULL;
    if (in->f && in->f != stdin)
        fclose(in->f);
    in->f = NULL;
}

/* Prints "rows read: R, <verb>: S, rejected: J" to stderr. */
void cli_decl_summary(const cli_decl_input *in, const char *verb)
{
    uint64_t rejected;
    uint64_t read = crisk_decl_rows_read(in->reader, &rejected);
    fprintf(stderr, "rows read: %llu, %s: %llu, rejected: %llu\n", (unsigned long long)read,
            verb, (unsigned long long)(read - rejected), (unsigned long long)rejected);
}

/* Returns the declaration id of row `row` as text (its length in `*len`; `buf` of
 * CLI_ID_BYTES holds a number or date written out), or NULL when it is missing. When the
 * schema names no id field, the row's source line stands for it. */
const char *cli_batch_id(const crisk_batch *batch, size_t row, char *buf, size_t *len)
{
    const crisk_schema *schema = crisk_batch_schema(batch);
    long id = crisk_schema_id_field(schema);
    if (id < 0) {
        *len = (size_t)snprintf(buf, CLI_ID_BYTES, "%llu",
                                (unsigned long long)crisk_batch_source_line(batch, row));
        return buf;
    }
    crisk_field_type type = crisk_schema_field_type(schema, (size_t)id);
    if (type == CRISK_FIELD_STRING || type == CRISK_FIELD_HS_CODE)
        return crisk_batch_text(batch, row, (size_t)id, len);
    double v = crisk_batch_number(batch, row, (size_t)id);
    if (isnan(v))
        return NULL;
    *len = (size_t)snprintf(buf, CLI_ID_BYTES, "%.17g", v);
    return buf;
}

/* Returns the header name of the id column: the schema's id field, else "line". */
const char *cli_id_name(const crisk_schema *schema)
{
    long id = crisk_schema_id_field(schema);
    return id < 0 ? "line" : crisk_schema_field_name(schema, (size_t)id);
}
