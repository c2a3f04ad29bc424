/*
 * test_decl_reader.c — the streaming declaration readers (lib/decl/reader.c): CSV and JSON
 * Lines into batches, header mapping, quoting, byte order marks, CRLF, every reject reason
 * with its line number, the count invariant (read = added + rejected), extra columns, and
 * memory that does not grow with the input (a large input streamed through a pipe).
 */
#include "check_run.h"
#include "crisk.h"
#include "test_files.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* A tiny schema: two required fields, an HS code, a string and a number. */
static const char SCHEMA_JSON[] =
    "{\"format\": \"crisk-schema\", \"version\": 1, \"id_field\": \"id\","
    " \"date_field\": \"date\", \"max_field_bytes\": 64,"
    " \"fields\": ["
    "  {\"name\": \"id\", \"type\": \"string\", \"required\": true},"
    "  {\"name\": \"date\", \"type\": \"date\", \"required\": true},"
    "  {\"name\": \"hs\", \"type\": \"hs_code\"},"
    "  {\"name\": \"origin\", \"type\": \"string\"},"
    "  {\"name\": \"value\", \"type\": \"number\"}],"
    " \"features\": [{\"name\": \"value\", \"op\": \"number\", \"field\": \"value\"}]}";

/* Loads SCHEMA_JSON through crisk_schema_load from a temporary file. */
static crisk_schema *load_schema(void)
{
    char path[] = "/tmp/crisk_decl_schema_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, SCHEMA_JSON, sizeof SCHEMA_JSON - 1),
                     (ssize_t)(sizeof SCHEMA_JSON - 1));
    close(fd);
    crisk_schema *s = NULL;
    crisk_error err;
    int rc = crisk_schema_load(path, &s, &err);
    unlink(path);
    ck_assert_msg(rc == 0, "schema: %s", err.message);
    return s;
}

/* The rejects a test collected. */
typedef struct collected {
    size_t n;
    uint64_t line[32];
    char reason[32][600];
    char raw[32][300];
} collected;

/* A crisk_decl_reject_fn that records each reject in a `collected`. */
static int collect(void *ctx, const crisk_decl_reject *rej)
{
    collected *c = ctx;
    ck_assert_uint_lt(c->n, 32);
    ck_assert_uint_eq(strlen(rej->raw), rej->raw_len);
    c->line[c->n] = rej->line;
    snprintf(c->reason[c->n], sizeof c->reason[0], "%s", rej->reason);
    snprintf(c->raw[c->n], sizeof c->raw[0], "%s", rej->raw);
    c->n++;
    return 0;
}

/* The state of one reading run over a text. */
typedef struct run {
    crisk_schema *schema;
    crisk_batch *batch;
    collected rejects;
    uint64_t read, rejected;
    double extras[64];
} run;

/* Reads all of `text` (`size` bytes) as `format` into r->batch (one call of up to 64
 * rows), with `opts` (NULL: defaults). Returns crisk_decl_open's code (the rest is only run
 * when it is 0); a header error is left in `err`. */
static int read_text(run *r, const char *text, size_t size, crisk_decl_format format,
                     const crisk_decl_options *opts, crisk_error *err)
{
    memset(r, 0, sizeof *r);
    r->schema = load_schema();
    ck_assert_int_eq(crisk_batch_new(r->schema, &r->batch, err), 0);
    FILE *f = fmemopen((void *)text, size, "rb");
    ck_assert_ptr_nonnull(f);
    crisk_decl_reader *rd = NULL;
    int rc = crisk_decl_open(f, format, r->schema, opts, &rd, err);
    if (rc == 0) {
        size_t added = 0, again = 1;
        ck_assert_int_eq(crisk_decl_read(rd, r->batch, 64, r->extras, collect, &r->rejects,
                                         &added, err), 0);
        ck_assert_uint_eq(added, crisk_batch_size(r->batch));
        ck_assert_int_eq(crisk_decl_read(rd, r->batch, 64, r->extras, collect, &r->rejects,
                                         &again, err), 0);
        ck_assert_uint_eq(again, 0);
        r->read = crisk_decl_rows_read(rd, &r->rejected);
        ck_assert_uint_eq(r->read, added + r->rejected);
        ck_assert_uint_eq(r->rejected, r->rejects.n);
    }
    crisk_decl_free(rd);
    fclose(f);
    return rc;
}

/* Frees what read_text() made. */
static void run_free(run *r)
{
    crisk_batch_free(r->batch);
    crisk_schema_free(r->schema);
}

/* Checks that row `row` of the batch has text `want` (NULL: missing) in field `field`. */
static void expect_text(const run *r, size_t row, const char *field, const char *want)
{
    long f = crisk_schema_field_index(r->schema, field);
    ck_assert_int_ge(f, 0);
    size_t len = 0;
    const char *got = crisk_batch_text(r->batch, row, (size_t)f, &len);
    if (!want) {
        ck_assert_msg(got == NULL, "row %zu %s: expected missing", row, field);
        return;
    }
    ck_assert_msg(got != NULL, "row %zu %s: missing, expected %s", row, field, want);
    ck_assert_msg(len == strlen(want) && memcmp(got, want, len) == 0,
                  "row %zu %s: got '%.*s', expected '%s'", row, field, (int)len, got, want);
}

/* Returns the number in field `field` of row `row`. */
static double number(const run *r, size_t row, const char *field)
{
    long f = crisk_schema_field_index(r->schema, field);
    ck_assert_int_ge(f, 0);
    return crisk_batch_number(r->batch, row, (size_t)f);
}

/* Checks reject `k`: its line, and that its reason holds `needle`. */
static void expect_reject(const run *r, size_t k, uint64_t line, const char *needle)
{
    ck_assert_uint_gt(r->rejects.n, k);
    ck_assert_msg(r->rejects.line[k] == line, "reject %zu: line %llu, expected %llu (%s)", k,
                  (unsigned long long)r->rejects.line[k], (unsigned long long)line,
                  r->rejects.reason[k]);
    ck_assert_msg(strstr(r->rejects.reason[k], needle), "reject %zu: '%s' lacks '%s'", k,
                  r->rejects.reason[k], needle);
}

/* The same four declarations in CSV (BOM, CRLF, quotes, an unknown column, columns out of
 * schema order) and in JSON Lines. */
static const char GOOD_CSV[] =
    "\xEF\xBB\xBFvalue,extra,id,date,hs,origin\r\n"
    "12.5,x,A1,2024-01-31,8517.12,CN\r\n"
    "\"1,000\",\"y\",\"A \"\"2\"\"\",20240201,61,\"multi line\"\r\n"
    "\r\n"
    ",,A3,2024-02-29,,\r\n"
    "7,z,A4,2024-03-01,851712,\"KR\"";
static const char GOOD_JSONL[] =
    "\xEF\xBB\xBF{\"value\": 12.5, \"extra\": \"x\", \"id\": \"A1\", \"date\": \"2024-01-31\","
    " \"hs\": \"8517.12\", \"origin\": \"CN\"}\r\n"
    "{\"id\": \"A \\\"2\\\"\", \"date\": \"20240201\", \"hs\": 61, \"origin\": \"multi line\","
    " \"value\": \"1,000\"}\n"
    "   \n"
    "{\"id\": \"A3\", \"date\": \"2024-02-29\", \"hs\": null, \"value\": null}\n"
    "{\"id\": \"A4\", \"date\": \"2024-03-01\", \"hs\": \"851712\", \"origin\": \"KR\","
    " \"value\": 7, \"nested_unknown\": {\"a\": 1}}";

START_TEST(csv_reads_quoting_bom_crlf)
{
    run r;
    crisk_error err;
    ck_assert_int_eq(read_text(&r, GOOD_CSV, sizeof GOOD_CSV - 1, CRISK_DECL_CSV, NULL, &err),
                     0);
    /* "1,000" is not a number: the second row is rejected, the rest read. */
    ck_assert_uint_eq(r.read, 4);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 3);
    expect_reject(&r, 0, 3, "\"value\"");
    ck_assert_str_eq(r.rejects.raw[0], "\"1,000\",y,\"A \"\"2\"\"\",20240201,61,multi line");
    expect_text(&r, 0, "id", "A1");
    expect_text(&r, 0, "hs", "851712");
    expect_text(&r, 0, "origin", "CN");
    ck_assert_double_eq(number(&r, 0, "value"), 12.5);
    expect_text(&r, 1, "id", "A3");
    expect_text(&r, 1, "hs", NULL);
    expect_text(&r, 1, "origin", NULL);
    ck_assert(isnan(number(&r, 1, "value")));
    expect_text(&r, 2, "origin", "KR");
    /* Source lines: the BOM line is 1, the empty line 4 is no row. */
    ck_assert_uint_eq(crisk_batch_source_line(r.batch, 0), 2);
    ck_assert_uint_eq(crisk_batch_source_line(r.batch, 1), 5);
    ck_assert_uint_eq(crisk_batch_source_line(r.batch, 2), 6);
    run_free(&r);
}
END_TEST

START_TEST(jsonl_reads_like_csv)
{
    run c, j;
    crisk_error err;
    ck_assert_int_eq(read_text(&c, GOOD_CSV, sizeof GOOD_CSV - 1, CRISK_DECL_CSV, NULL, &err),
                     0);
    ck_assert_int_eq(read_text(&j, GOOD_JSONL, sizeof GOOD_JSONL - 1, CRISK_DECL_JSONL, NULL,
                               &err), 0);
    ck_assert_uint_eq(j.read, 4);
    ck_assert_uint_eq(crisk_batch_size(j.batch), crisk_batch_size(c.batch));
    expect_reject(&j, 0, 2, "\"value\"");
    const char *texts[] = {"id", "hs", "origin"};
    for (size_t row = 0; row < crisk_batch_size(j.batch); row++) {
        for (size_t t = 0; t < 3; t++) {
            long f = crisk_schema_field_index(c.schema, texts[t]);
            size_t lc = 0, lj = 0;
            const char *vc = crisk_batch_text(c.batch, row, (size_t)f, &lc);
            const char *vj = crisk_batch_text(j.batch, row, (size_t)f, &lj);
            ck_assert_msg((vc == NULL) == (vj == NULL), "row %zu %s", row, texts[t]);
            ck_assert(!vc || (lc == lj && memcmp(vc, vj, lc) == 0));
        }
        double a = number(&c, row, "value"), b = number(&j, row, "value");
        ck_assert(isnan(a) ? isnan(b) : a == b);
        ck_assert_double_eq(number(&c, row, "date"), number(&j, row, "date"));
    }
    ck_assert_uint_eq(crisk_batch_source_line(j.batch, 0), 1);
    ck_assert_uint_eq(crisk_batch_source_line(j.batch, 1), 4);
    ck_assert_uint_eq(crisk_batch_source_line(j.batch, 2), 5);
    run_free(&c);
    run_free(&j);
}
END_TEST

START_TEST(csv_rejects_each_bad_row)
{
    static const char text[] =
        "id,date,hs,origin,value\n"
        "B1,2024-01-01,85,CN,1\n"            /* 2: good */
        "B2,2024-01-01,85,CN\n"              /* 3: too few fields */
        "B3,2024-01-01,85,CN,1,9\n"          /* 4: too many */
        "B4,2024-02-30,85,CN,1\n"            /* 5: not a calendar date */
        ",2024-01-01,85,CN,1\n"              /* 6: required id missing */
        "B6,2024-01-01,85,\xC3\x28,1\n"      /* 7: invalid UTF-8 */
        "B7,2024-01-01,85,\"C\"N,1\n"        /* 8: text after a closing quote */
        "B8,2024-01-01,85,CN,1\n"            /* 9: good, after the resync */
        "B9,2024-01-01,85,CN,abc\n"          /* 10: not a number */
        "B10,2024-01-01,85,CNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN,1\n"
        "B11,2024-01-01,851,CN,1\n";         /* 12: good */
    run r;
    crisk_error err;
    crisk_decl_options opts;
    crisk_decl_options_init(&opts, CRISK_DECL_OPTIONS_VERSION);
    opts.max_line_bytes = 60; /* line 11 is longer */
    ck_assert_int_eq(read_text(&r, text, sizeof text - 1, CRISK_DECL_CSV, &opts, &err), 0);
    ck_assert_uint_eq(r.read, 11);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 3);
    ck_assert_uint_eq(r.rejected, 8);
    expect_reject(&r, 0, 3, "4 fields, but the header has 5");
    expect_reject(&r, 1, 4, "6 fields, but the header has 5");
    expect_reject(&r, 2, 5, "calendar date");
    expect_reject(&r, 3, 6, "\"id\": missing");
    expect_reject(&r, 4, 7, "invalid UTF-8");
    ck_assert_str_eq(r.rejects.raw[4], "B6,2024-01-01,85,?(,1");
    expect_reject(&r, 5, 8, "after the closing quote");
    expect_reject(&r, 6, 10, "not a number");
    expect_reject(&r, 7, 11, "longer than 60 bytes");
    expect_text(&r, 0, "id", "B1");
    expect_text(&r, 1, "id", "B8");
    expect_text(&r, 2, "id", "B11");
    ck_assert_uint_eq(crisk_batch_source_line(r.batch, 2), 12);
    run_free(&r);
}
END_TEST

START_TEST(jsonl_rejects_each_bad_row)
{
    static const char text[] =
        "{\"id\": \"C1\", \"date\": \"2024-01-01\"}\n"                  /* 1: good */
        "{\"id\": \"C2\", \"date\": \"2024-01-01\"\n"                   /* 2: unparsable */
        "[\"C3\", \"2024-01-01\"]\n"                                    /* 3: not an object */
        "{\"id\": \"C4\", \"date\": \"2024-01-01\", \"origin\": [1]}\n" /* 4: nested */
        "{\"id\": \"C5\", \"date\": \"2024-01-01\", \"origin\": true}\n"/* 5: boolean */
        "{\"id\": \"C6\", \"id\": \"C6b\", \"date\": \"2024-01-01\"}\n" /* 6: repeated key */
        "{\"id\": \"C7\", \"date\": \"2024-01-01\", \"origin\": \"\xFF\"}\n" /* 7: UTF-8 */
        "{\"id\": \"C8\", \"date\": \"2024-01-01\"} {}\n"               /* 8: trailing text */
        "{\"date\": \"2024-01-01\"}\n"                                  /* 9: no id */
        "{\"id\": \"C10\", \"date\": \"2024-01-01\", \"origin\": \"xxxxxxxxxxxxxxxxxxxxxxxxx\"}\n"
        "{\"id\": \"C11\", \"date\": \"2024-01-01\"}\r\n";              /* 11: good */
    run r;
    crisk_error err;
    crisk_decl_options opts;
    crisk_decl_options_init(&opts, CRISK_DECL_OPTIONS_VERSION);
    opts.max_line_bytes = 70; /* line 10 is longer */
    opts.max_raw_bytes = 16;
    ck_assert_int_eq(read_text(&r, text, sizeof text - 1, CRISK_DECL_JSONL, &opts, &err), 0);
    ck_assert_uint_eq(r.read, 11);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 2);
    expect_reject(&r, 0, 2, "not valid JSON");
    expect_reject(&r, 1, 3, "not a JSON object");
    expect_reject(&r, 2, 4, "nested");
    expect_reject(&r, 3, 5, "boolean");
    expect_reject(&r, 4, 6, "repeated");
    expect_reject(&r, 5, 7, "invalid UTF-8");
    expect_reject(&r, 6, 8, "text after");
    expect_reject(&r, 7, 9, "\"id\": missing");
    expect_reject(&r, 8, 10, "longer than 70 bytes");
    ck_assert_str_eq(r.rejects.raw[8], "{\"id\": \"C10\", \"d"); /* cut to 16 bytes */
    expect_text(&r, 1, "id", "C11");
    run_free(&r);
}
END_TEST

/* Issue 15, defect 2: one quote never closed (line 3) and one opened in a row's last field
 * and closed at the end of the next row (lines 100 and 101), in a 20,000-row file: every
 * physical line is read, as a row or as a reject carrying that line, and no other row is
 * lost (on main the first quote swallowed 9,853 declarations into one reject). */
START_TEST(csv_stray_quote_costs_its_line_only)
{
    enum { ROWS = 20000 };
    size_t cap = (size_t)ROWS * 40, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text, cap, "id,date,hs,origin,value\n");
    for (size_t line = 2; line <= ROWS + 1; line++)
        len += (size_t)snprintf(text + len, cap - len, "D%zu,2024-01-01,85,%s,%s\n", line,
                                line == 3 ? "\"CN" : "CN",
                                line == 100 ? "\"1" : line == 101 ? "1\"" : "1");
    crisk_schema *schema = load_schema();
    crisk_batch *batch = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_batch_new(schema, &batch, &err), 0);
    FILE *f = fmemopen(text, len, "rb");
    crisk_decl_reader *rd = NULL;
    ck_assert_int_eq(crisk_decl_open(f, CRISK_DECL_CSV, schema, NULL, &rd, &err), 0);
    collected rejects = {0};
    size_t added, total = 0, lines_seen = 0;
    uint64_t last_line = 1;
    do {
        crisk_batch_clear(batch);
        ck_assert_int_eq(crisk_decl_read(rd, batch, 4096, NULL, collect, &rejects, &added,
                                         &err), 0);
        for (size_t i = 0; i < added; i++, lines_seen++) { /* rows keep their own lines */
            uint64_t line = crisk_batch_source_line(batch, i);
            ck_assert_uint_gt(line, last_line);
            last_line = line;
            char id[32];
            snprintf(id, sizeof id, "D%llu", (unsigned long long)line);
            size_t n;
            const char *got = crisk_batch_text(batch, i, 0, &n);
            ck_assert(n == strlen(id) && memcmp(got, id, n) == 0);
        }
        total += added;
    } while (added > 0);
    uint64_t rejected, read = crisk_decl_rows_read(rd, &rejected);
    ck_assert_uint_eq(read, ROWS); /* every physical line after the header */
    ck_assert_uint_eq(total + rejected, ROWS);
    ck_assert_uint_eq(rejected, 3);
    ck_assert_uint_eq(rejects.line[0], 3);
    ck_assert_msg(strstr(rejects.reason[0], "line 3: quoted field 4 is not closed at the end "
                         "of the line"), "%s", rejects.reason[0]);
    ck_assert_uint_eq(rejects.line[1], 100);
    ck_assert_uint_eq(rejects.line[2], 101);
    ck_assert_msg(strstr(rejects.reason[2], "\"value\""), "%s", rejects.reason[2]);
    crisk_decl_free(rd);
    fclose(f);
    free(text);
    crisk_batch_free(batch);
    crisk_schema_free(schema);
}
END_TEST

/* Issue 15, defect 4: CR-only line ends are lines in both formats (on main JSON Lines
 * read 50 declarations as one reject, CSV gave a confusing error); a CRLF split by the
 * reader's 64 KiB chunk is one line break. */
START_TEST(cr_only_lines_are_lines)
{
    enum { ROWS = 50 };
    char csv[ROWS * 32 + 64], jsonl[ROWS * 64];
    size_t c = (size_t)snprintf(csv, sizeof csv, "id,date\r"), j = 0;
    for (int i = 0; i < ROWS; i++) {
        c += (size_t)snprintf(csv + c, sizeof csv - c, "R%d,2024-01-01\r", i);
        j += (size_t)snprintf(jsonl + j, sizeof jsonl - j,
                              "{\"id\": \"R%d\", \"date\": \"2024-01-01\"}\r", i);
    }
    run r;
    crisk_error err;
    ck_assert_int_eq(read_text(&r, csv, c, CRISK_DECL_CSV, NULL, &err), 0);
    ck_assert_uint_eq(r.read, ROWS);
    ck_assert_uint_eq(crisk_batch_size(r.batch), ROWS);
    ck_assert_uint_eq(crisk_batch_source_line(r.batch, ROWS - 1), ROWS + 1);
    run_free(&r);
    ck_assert_int_eq(read_text(&r, jsonl, j, CRISK_DECL_JSONL, NULL, &err), 0);
    ck_assert_uint_eq(r.read, ROWS);
    ck_assert_uint_eq(crisk_batch_size(r.batch), ROWS);
    ck_assert_uint_eq(crisk_batch_source_line(r.batch, ROWS - 1), ROWS);
    run_free(&r);
    /* The CR of line 1 is the last byte of the first 64 KiB chunk, its LF the next. */
    size_t big = 65536 + 64;
    char *text = malloc(big);
    static const char head[] = "{\"id\": \"A\", \"date\": \"2024-01-01\", \"pad\": \"";
    memcpy(text, head, sizeof head - 1);
    memset(text + sizeof head - 1, 'x', 65535 - (sizeof head - 1) - 2);
    memcpy(text + 65535 - 2, "\"}\r\n", 4);
    static const char tail[] = "{\"id\": \"B\", \"date\": \"2024-01-01\"}";
    memcpy(text + 65537, tail, sizeof tail - 1);
    ck_assert_int_eq(read_text(&r, text, 65537 + sizeof tail - 1, CRISK_DECL_JSONL, NULL,
                               &err), 0);
    ck_assert_uint_eq(r.read, 2);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 2);
    ck_assert_uint_eq(crisk_batch_source_line(r.batch, 1), 2);
    run_free(&r);
    free(text);
}
END_TEST

/* Issue 15, defect 4: JSON Lines values are read as written: a 20-digit numeric id keeps
 * its digits (main wrote back 1.2345678901234567e+19), "\u0000" is refused (main cut the
 * id at the NUL), and ids take the canonical form; a byte order mark inside a CSV file
 * is refused, not kept as an invisible prefix of the id. */
START_TEST(values_are_read_as_written)
{
    static const char jsonl[] =
        "{\"id\": 12345678901234567890, \"date\": \"2024-01-01\", \"value\": 1e2}\n"
        "{\"id\": \"D\\u0000X\", \"date\": \"2024-01-01\"}\n"
        "{\"id\": \" d3\\t\", \"date\": \"2024-01-01\", \"hs\": 8517}\n";
    run r;
    crisk_error err;
    ck_assert_int_eq(read_text(&r, jsonl, sizeof jsonl - 1, CRISK_DECL_JSONL, NULL, &err), 0);
    ck_assert_uint_eq(r.read, 3);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 2);
    expect_text(&r, 0, "id", "12345678901234567890");
    ck_assert_double_eq(number(&r, 0, "value"), 100.0);
    expect_reject(&r, 0, 2, "\\u0000");
    expect_text(&r, 1, "id", "D3");
    expect_text(&r, 1, "hs", "8517");
    run_free(&r);
    /* A raw NUL byte is no JSON; the reject's raw text shows it as '?' (collect() checks
     * that the text is as long as it says). */
    static const char nul[] = "{\"id\": \"A\",\0 \"date\": \"2024-01-01\"}\n";
    ck_assert_int_eq(read_text(&r, nul, sizeof nul - 1, CRISK_DECL_JSONL, NULL, &err), 0);
    ck_assert_uint_eq(r.rejected, 1);
    ck_assert_str_eq(r.rejects.raw[0], "{\"id\": \"A\",? \"date\": \"2024-01-01\"}");
    run_free(&r);
    static const char csv[] = "id,date\nA,2024-01-01\n\xEF\xBB\xBF" "B,2024-01-01\n";
    ck_assert_int_eq(read_text(&r, csv, sizeof csv - 1, CRISK_DECL_CSV, NULL, &err), 0);
    ck_assert_uint_eq(r.read, 2);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 1);
    expect_reject(&r, 0, 3, "has U+FEFF at byte 0");
    run_free(&r);
}
END_TEST

/* Issue 15, defect 4: extra columns take the one number grammar: no hex, inf or nan (main
 * read them with strtod), no spaces. */
START_TEST(extras_take_the_number_grammar)
{
    static const crisk_decl_extra revenue[] = {{"revenue", 1, 0}};
    crisk_decl_options opts;
    crisk_decl_options_init(&opts, CRISK_DECL_OPTIONS_VERSION);
    opts.extras = revenue;
    opts.num_extras = 1;
    static const char csv[] = "id,date,revenue\nA,2024-01-01,0x10\nB,2024-01-01,inf\n"
                              "C,2024-01-01,nan(123)\nD,2024-01-01,1 \nE,2024-01-01,-.5e1\n";
    run r;
    crisk_error err;
    ck_assert_int_eq(read_text(&r, csv, sizeof csv - 1, CRISK_DECL_CSV, &opts, &err), 0);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 1);
    ck_assert_uint_eq(r.rejected, 4);
    for (size_t k = 0; k < 4; k++)
        expect_reject(&r, k, k + 2, "is not a number");
    ck_assert_double_eq(r.extras[0], -5.0);
    run_free(&r);
    double v;
    ck_assert_int_eq(crisk_number_parse("0x10", 4, &v, &err), CRISK_E_INPUT);
    ck_assert_int_eq(crisk_number_parse("1e400", 5, &v, &err), CRISK_E_INPUT);
    ck_assert_msg(strstr(err.message, "beyond the range"), "%s", err.message);
    ck_assert_int_eq(crisk_number_parse("12345678901234567890123", 23, &v, &err), 0);
    ck_assert_double_eq(v, 12345678901234567890123.0);
}
END_TEST

START_TEST(csv_header_mapping)
{
    run r;
    crisk_error err;
    static const char no_date[] = "id,value\nA,1\n";
    ck_assert_int_eq(read_text(&r, no_date, sizeof no_date - 1, CRISK_DECL_CSV, NULL, &err),
                     CRISK_E_INPUT);
    ck_assert_msg(strstr(err.message, "line 1") && strstr(err.message, "\"date\""), "%s",
                  err.message);
    run_free(&r);
    static const char twice[] = "id,date,id\nA,2024-01-01,B\n";
    ck_assert_int_eq(read_text(&r, twice, sizeof twice - 1, CRISK_DECL_CSV, NULL, &err),
                     CRISK_E_INPUT);
    ck_assert_msg(strstr(err.message, "column 3") && strstr(err.message, "repeats"), "%s",
                  err.message);
    run_free(&r);
    ck_assert_int_eq(read_text(&r, "", 0, CRISK_DECL_CSV, NULL, &err), CRISK_E_INPUT);
    run_free(&r);
    /* Optional fields without a column are missing in every row. */
    static const char minimal[] = "date,id\n2024-01-01,A\n2024-01-02,B\n";
    ck_assert_int_eq(read_text(&r, minimal, sizeof minimal - 1, CRISK_DECL_CSV, NULL, &err),
                     0);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 2);
    expect_text(&r, 1, "id", "B");
    expect_text(&r, 1, "origin", NULL);
    ck_assert(isnan(number(&r, 1, "value")));
    run_free(&r);
}
END_TEST

START_TEST(extras_are_checked_and_returned)
{
    static const crisk_decl_extra label[] = {{"fraud", 1, 1}, {"revenue", 0, 0}};
    crisk_decl_options opts;
    crisk_decl_options_init(&opts, CRISK_DECL_OPTIONS_VERSION);
    opts.extras = label;
    opts.num_extras = 2;
    static const char csv[] =
        "id,date,fraud,revenue\n"
        "A,2024-01-01,1,10.5\n"
        "B,2024-01-01,2,0\n"
        "C,2024-01-01,,0\n"
        "D,2024-01-01,0,\n"
        "E,2024-01-01,0,x\n";
    run r;
    crisk_error err;
    ck_assert_int_eq(read_text(&r, csv, sizeof csv - 1, CRISK_DECL_CSV, &opts, &err), 0);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 2);
    expect_reject(&r, 0, 3, "not 0 or 1");
    expect_reject(&r, 1, 4, "fraud: missing");
    expect_reject(&r, 2, 6, "not a number");
    ck_assert_double_eq(r.extras[0], 1.0);
    ck_assert_double_eq(r.extras[1], 10.5);
    ck_assert_double_eq(r.extras[2], 0.0);
    ck_assert(isnan(r.extras[3]));
    run_free(&r);
    static const char jsonl[] =
        "{\"id\": \"A\", \"date\": \"2024-01-01\", \"fraud\": 1, \"revenue\": \"10.5\"}\n"
        "{\"id\": \"B\", \"date\": \"2024-01-01\", \"fraud\": 0.5}\n"
        "{\"id\": \"C\", \"date\": \"2024-01-01\"}\n"
        "{\"id\": \"D\", \"date\": \"2024-01-01\", \"fraud\": \"0\", \"revenue\": null}\n";
    ck_assert_int_eq(read_text(&r, jsonl, sizeof jsonl - 1, CRISK_DECL_JSONL, &opts, &err), 0);
    ck_assert_uint_eq(crisk_batch_size(r.batch), 2);
    expect_reject(&r, 0, 2, "not 0 or 1");
    expect_reject(&r, 1, 3, "fraud: missing");
    ck_assert_double_eq(r.extras[0], 1.0);
    ck_assert_double_eq(r.extras[1], 10.5);
    ck_assert_double_eq(r.extras[2], 0.0);
    ck_assert(isnan(r.extras[3]));
    /* A header without a required extra is refused. */
    run_free(&r);
    static const char nolabel[] = "id,date\nA,2024-01-01\n";
    ck_assert_int_eq(read_text(&r, nolabel, sizeof nolabel - 1, CRISK_DECL_CSV, &opts, &err),
                     CRISK_E_INPUT);
    ck_assert_msg(strstr(err.message, "\"fraud\""), "%s", err.message);
    run_free(&r);
}
END_TEST

START_TEST(reads_in_bounded_batches)
{
    static const char csv[] = "id,date\na,20240101\nb,20240101\nbad\nc,20240101\n"
                              "d,20240101\ne,20240101\n";
    crisk_schema *schema = load_schema();
    crisk_batch *batch = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_batch_new(schema, &batch, &err), 0);
    FILE *f = fmemopen((void *)csv, sizeof csv - 1, "rb");
    crisk_decl_reader *rd = NULL;
    ck_assert_int_eq(crisk_decl_open(f, CRISK_DECL_CSV, schema, NULL, &rd, &err), 0);
    size_t want[] = {2, 2, 1, 0}, added;
    for (size_t i = 0; i < 4; i++) {
        crisk_batch_clear(batch);
        ck_assert_int_eq(crisk_decl_read(rd, batch, 2, NULL, NULL, NULL, &added, &err), 0);
        ck_assert_uint_eq(added, want[i]);
        ck_assert_uint_eq(crisk_batch_size(batch), want[i]);
    }
    uint64_t rejected;
    ck_assert_uint_eq(crisk_decl_rows_read(rd, &rejected), 6);
    ck_assert_uint_eq(rejected, 1);
    crisk_decl_free(rd);
    fclose(f);
    crisk_batch_free(batch);
    crisk_schema_free(schema);
}
END_TEST

/* Rows the streaming test pushes through a pipe (about 60 bytes each). */
#define STREAM_ROWS 400000

/* Writes STREAM_ROWS declarations (every 1000th one bad) in `format` to `fd`. */
static void write_rows(int fd, crisk_decl_format format)
{
    FILE *f = fdopen(fd, "w");
    if (format == CRISK_DECL_CSV)
        fputs("id,date,hs,origin,value\n", f);
    for (long i = 0; i < STREAM_ROWS; i++) {
        const char *date = i % 1000 == 999 ? "2024-13-01" : "2024-05-17";
        if (format == CRISK_DECL_CSV)
            fprintf(f, "D%08ld,%s,8517%02ld,CN,%ld.25\n", i, date, i % 100, i);
        else
            fprintf(f, "{\"id\":\"D%08ld\",\"date\":\"%s\",\"hs\":\"8517%02ld\",\"origin\":"
                       "\"CN\",\"value\":%ld.25}\n", i, date, i % 100, i);
    }
    fclose(f);
}

/* Returns the peak resident memory of this process, in KiB. */
static long peak_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Streams STREAM_ROWS rows of `format` from a child process through a pipe in batches of
 * 4096, checking the counts and that peak memory grows far less than the input's size. */
static void stream_through_pipe(crisk_decl_format format)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        close(fds[0]);
        write_rows(fds[1], format);
        _exit(0);
    }
    close(fds[1]);
    crisk_schema *schema = load_schema();
    crisk_batch *batch = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_batch_new(schema, &batch, &err), 0);
    FILE *f = fdopen(fds[0], "r");
    crisk_decl_reader *rd = NULL;
    ck_assert_int_eq(crisk_decl_open(f, format, schema, NULL, &rd, &err), 0);
    /* Warm up with the first batch so that the batch's own memory is counted before. */
    size_t added, total = 0;
    ck_assert_int_eq(crisk_decl_read(rd, batch, 4096, NULL, NULL, NULL, &added, &err), 0);
    total += added;
    long before = peak_kib();
    double sum = 0;
    long value_field = crisk_schema_field_index(schema, "value");
    do {
        crisk_batch_clear(batch);
        ck_assert_int_eq(crisk_decl_read(rd, batch, 4096, NULL, NULL, NULL, &added, &err), 0);
        for (size_t i = 0; i < added; i++)
            sum += crisk_batch_number(batch, i, (size_t)value_field);
        total += added;
    } while (added);
    long grown = peak_kib() - before;
    uint64_t rejected;
    ck_assert_uint_eq(crisk_decl_rows_read(rd, &rejected), STREAM_ROWS);
    ck_assert_uint_eq(rejected, STREAM_ROWS / 1000);
    ck_assert_uint_eq(total + rejected, STREAM_ROWS);
    ck_assert(sum > 0);
    /* The input is over 20 MB; reading it must not hold more than a few MB more. (Not
     * under AddressSanitizer, whose quarantine keeps freed memory resident.) */
#ifndef __SANITIZE_ADDRESS__
    ck_assert_msg(grown < 4096, "peak memory grew by %ld KiB while streaming", grown);
#else
    (void)grown;
#endif
    crisk_decl_free(rd);
    fclose(f);
    int status;
    waitpid(child, &status, 0);
    crisk_batch_free(batch);
    crisk_schema_free(schema);
}

START_TEST(csv_streams_in_bounded_memory)
{
    stream_through_pipe(CRISK_DECL_CSV);
}
END_TEST

START_TEST(jsonl_streams_in_bounded_memory)
{
    stream_through_pipe(CRISK_DECL_JSONL);
}
END_TEST

START_TEST(format_by_extension)
{
    ck_assert_int_eq(crisk_decl_format_of("a/b.CSV"), CRISK_DECL_CSV);
    ck_assert_int_eq(crisk_decl_format_of("x.jsonl"), CRISK_DECL_JSONL);
    ck_assert_int_eq(crisk_decl_format_of("x.ndjson"), CRISK_DECL_JSONL);
    ck_assert_int_eq(crisk_decl_format_of("x.json"), 0);
    ck_assert_int_eq(crisk_decl_format_of("-"), 0);
}
END_TEST

/* A schema with a personal field, for the protection of rejects. */
static const char PERSONAL_SCHEMA[] =
    "{\"format\": \"crisk-schema\", \"version\": 1, \"id_field\": \"id\","
    " \"fields\": [{\"name\": \"id\", \"type\": \"string\", \"required\": true},"
    "  {\"name\": \"importer\", \"type\": \"string\", \"personal\": true},"
    "  {\"name\": \"value\", \"type\": \"number\"}],"
    " \"features\": [{\"name\": \"value\", \"op\": \"number\", \"field\": \"value\"}]}";

/* A crisk_decl_protect_fn: leaves out values starting with 'D', writes "H<length>" for
 * the others, and counts its calls in `*ctx`. */
static int mark_value(void *ctx, const char *value, size_t len, char *out)
{
    ++*(int *)ctx;
    if (len && value[0] == 'D')
        return 1;
    snprintf(out, CRISK_DECL_PROTECTED_BYTES, "H%zu", len);
    return 0;
}

/* Reads `text` as `format` with PERSONAL_SCHEMA, rejects protected by mark_value when
 * `protect`, into `c`; returns how often mark_value ran. */
static int read_protected(const char *text, crisk_decl_format format, int protect,
                          collected *c)
{
    crisk_schema *s = NULL;
    crisk_batch *b = NULL;
    crisk_decl_reader *rd = NULL;
    crisk_error err;
    int calls = 0;
    size_t added = 0;
    ck_assert_msg(crisk_test_load_schema(PERSONAL_SCHEMA, &s, &err) == 0, "%s", err.message);
    ck_assert_int_eq(crisk_batch_new(s, &b, &err), 0);
    FILE *f = fmemopen((void *)text, strlen(text), "rb");
    ck_assert_int_eq(crisk_decl_open(f, format, s, NULL, &rd, &err), 0);
    ck_assert_int_eq(crisk_decl_set_protect(rd, protect ? mark_value : NULL, &calls, &err), 0);
    memset(c, 0, sizeof *c);
    ck_assert_int_eq(crisk_decl_read(rd, b, 64, NULL, collect, c, &added, &err), 0);
    ck_assert_uint_eq(added, 1);
    crisk_decl_free(rd);
    fclose(f);
    crisk_batch_free(b);
    crisk_schema_free(s);
    return calls;
}

/* Issue 15, defect 6: protected, a reject's raw text is the row written again with each
 * personal value replaced or left out and the rest as read; a row that cannot be split
 * into fields has no raw text, and its reason says so. Unprotected, raw text is as read. */
START_TEST(rejects_protect_personal_fields)
{
    static const char csv_text[] =
        "importer,id,value,note\n"
        "IMP1,A1,x,n1\n"
        "DROP,A2,y,\"n,2\"\n"
        "IMP3,A3,1,n3,extra\n"
        "IMP4,A4,2,n4\n";
    collected c;
    ck_assert_int_eq(read_protected(csv_text, CRISK_DECL_CSV, 1, &c), 2);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_str_eq(c.raw[0], "H4,A1,x,n1");
    ck_assert_str_eq(c.raw[1], ",A2,y,\"n,2\"");
    ck_assert_str_eq(c.raw[2], "");
    ck_assert_ptr_nonnull(strstr(c.reason[2], "5 fields, but the header has 4 (raw text "
                                              "withheld"));
    read_protected(csv_text, CRISK_DECL_CSV, 0, &c);
    ck_assert_str_eq(c.raw[0], "IMP1,A1,x,n1");
    ck_assert_str_eq(c.raw[2], "IMP3,A3,1,n3,extra");
    static const char jsonl_text[] =
        "{\"importer\": \"IMP1\", \"id\": \"A1\", \"value\": \"x\", \"note\": 1.5}\n"
        "{\"importer\": 1234567, \"id\": \"A2\", \"importer\": \"DROP\", \"value\": \"y\"}\n"
        "{\"importer\": \"IMP3\", \"id\": \"A3\"\n"
        "{\"importer\": \"IMP4\", \"id\": \"A4\", \"value\": 2}\n";
    ck_assert_int_eq(read_protected(jsonl_text, CRISK_DECL_JSONL, 1, &c), 3);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_str_eq(c.raw[0], "{\"importer\":\"H4\",\"id\":\"A1\",\"value\":\"x\",\"note\":1.5}");
    ck_assert_str_eq(c.raw[1], "{\"importer\":\"H7\",\"id\":\"A2\",\"importer\":null,"
                               "\"value\":\"y\"}");
    ck_assert_str_eq(c.raw[2], "");
    ck_assert_ptr_nonnull(strstr(c.reason[2], "(raw text withheld"));
    read_protected(jsonl_text, CRISK_DECL_JSONL, 0, &c);
    ck_assert_ptr_nonnull(strstr(c.raw[0], "IMP1"));
    ck_assert_ptr_nonnull(strstr(c.raw[2], "IMP3"));
    ck_assert_int_eq(crisk_decl_set_protect(NULL, mark_value, NULL, &(crisk_error){0}),
                     CRISK_E_INVALID_ARGUMENT);
}
END_TEST

/* Builds the suite. */
static Suite *decl_reader_suite(void)
{
    Suite *s = suite_create("decl_reader");
    TCase *tc = tcase_create("readers");
    tcase_add_test(tc, csv_reads_quoting_bom_crlf);
    tcase_add_test(tc, jsonl_reads_like_csv);
    tcase_add_test(tc, csv_rejects_each_bad_row);
    tcase_add_test(tc, jsonl_rejects_each_bad_row);
    tcase_add_test(tc, csv_header_mapping);
    tcase_add_test(tc, extras_are_checked_and_returned);
    tcase_add_test(tc, reads_in_bounded_batches);
    tcase_add_test(tc, format_by_extension);
    tcase_add_test(tc, csv_stray_quote_costs_its_line_only);
    tcase_add_test(tc, cr_only_lines_are_lines);
    tcase_add_test(tc, values_are_read_as_written);
    tcase_add_test(tc, extras_take_the_number_grammar);
    tcase_add_test(tc, rejects_protect_personal_fields);
    suite_add_tcase(s, tc);
    TCase *big = tcase_create("streaming");
    tcase_set_timeout(big, 60);
    tcase_add_test(big, csv_streams_in_bounded_memory);
    tcase_add_test(big, jsonl_streams_in_bounded_memory);
    suite_add_tcase(s, big);
    return s;
}

/* Runs the suite; exits 0 when every test passed. */
int main(void)
{
    return crisk_check_run(decl_reader_suite());
}
