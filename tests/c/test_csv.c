/*
 * test_csv.c — the streaming CSV reader (lib/common/csv.c): RFC 4180 quoting, line breaks,
 * byte order marks, line numbers, limits and malformed input, at every chunk size small
 * enough to split each construct across reads.
 */
#include "crisk.h"

#include "check_run.h"
#include "common/csv_split.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads every record of `size` bytes at `text` with chunks of `chunk` bytes and returns
 * them rendered as "LINE:field|field|...\n" per record (malloc'd), or NULL on an error,
 * which is left in `err` with its code in `*rc`. */
static char *render(const char *text, size_t size, size_t chunk, size_t max_record, int *rc,
                    crisk_error *err)
{
    FILE *f = fmemopen((void *)text, size, "rb");
    ck_assert_ptr_nonnull(f);
    crisk_csv_options opts;
    crisk_csv_options_init(&opts, CRISK_CSV_OPTIONS_VERSION);
    opts.chunk_bytes = chunk;
    if (max_record)
        opts.max_record_bytes = max_record;
    crisk_csv_reader *r = NULL;
    ck_assert_int_eq(crisk_csv_open(f, &opts, &r, err), 0);
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    const char **fields;
    size_t n;
    while ((*rc = crisk_csv_next(r, &fields, &n, err)) == 1) {
        ck_assert_uint_ge(n, 1);
        const size_t *lengths = crisk_csv_lengths(r);
        for (size_t i = 0; i < n; i++)
            ck_assert_uint_eq(lengths[i], strlen(fields[i]));
        len += (size_t)snprintf(out + len, cap - len, "%zu:", crisk_csv_line(r));
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "|" : "", fields[i]);
        len += (size_t)snprintf(out + len, cap - len, "\n");
        ck_assert_uint_lt(len, cap);
    }
    crisk_csv_free(r);
    fclose(f);
    if (*rc < 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* Checks that `text` reads as `expected` at every chunk size from 1 to 9 and the default. */
static void expect_records(const char *text, size_t size, const char *expected)
{
    size_t chunks[] = {1, 2, 3, 4, 5, 7, 9, 65536};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        int rc;
        crisk_error err;
        char *got = render(text, size, chunks[i], 0, &rc, &err);
        ck_assert_msg(got != NULL, "chunk %zu: error %d %s", chunks[i], rc, err.message);
        ck_assert_msg(strcmp(got, expected) == 0, "chunk %zu: got\n%s\nexpected\n%s",
                      chunks[i], got, expected);
        free(got);
    }
}

/* Checks that `text` fails with `code` and a message containing `needle` at every chunk
 * size. */
static void expect_error(const char *text, size_t size, size_t max_record, int code,
                         const char *needle)
{
    size_t chunks[] = {1, 2, 3, 5, 65536};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        int rc;
        crisk_error err;
        char *got = render(text, size, chunks[i], max_record, &rc, &err);
        ck_assert_msg(got == NULL, "chunk %zu: no error", chunks[i]);
        ck_assert_int_eq(rc, code);
        ck_assert_int_eq(err.code, code);
        ck_assert_msg(strstr(err.message, needle), "chunk %zu: '%s' lacks '%s'", chunks[i],
                      err.message, needle);
    }
}

#define EXPECT(text, expected) expect_records(text, sizeof(text) - 1, expected)

START_TEST(test_plain)
{
    EXPECT("a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n");
    EXPECT("a,b\n1,2", "1:a|b\n2:1|2\n");            /* no final line break */
    EXPECT("a,,c\n,,\n", "1:a||c\n2:||\n");          /* empty fields */
    EXPECT("x\n", "1:x\n");
    EXPECT("", "");
    EXPECT("a\n\n\nb\n", "1:a\n4:b\n");              /* empty lines are skipped */
    EXPECT("a ,\tb\n", "1:a |\tb\n");                /* blanks are kept */
}
END_TEST

START_TEST(test_quotes)
{
    EXPECT("\"a,b\",c\n", "1:a,b|c\n");
    EXPECT("\"say \"\"hi\"\"\",x\n", "1:say \"hi\"|x\n");
    EXPECT("\"\",\"\"\n", "1:|\n");
    EXPECT("\"\"\n", "1:\n");                        /* one empty quoted field: a record */
    EXPECT("\"two\nlines\",b\nnext,c\n", "1:two\nlines|b\n3:next|c\n");
    EXPECT("\"cr\r\nlf\"\r\nz\r\n", "1:cr\r\nlf\n3:z\n"); /* CRLF inside quotes is kept */
    EXPECT("ab\"c,d\n", "1:ab\"c|d\n");              /* a quote inside an unquoted field */
    EXPECT("\"end\"", "1:end\n");
}
END_TEST

/* Issue 15, defect 2: with single_line and resync, a quote left open costs its own line
 * only: the error names that line and the next line is a record again, whatever the
 * chunk size; a line break inside quotes (LF, CRLF or a lone CR) ends the record. Lines
 * are rendered "LINE:fields" and errors "LINE:!". */
START_TEST(test_single_line_records)
{
    static const char text[] = "a,b\n\"x,1\n2,3\n4,\"5\r\n6,7\r8,\"9\r\"\n10,11";
    static const char expected[] = "1:a|b\n2:!\n3:2|3\n4:!\n5:6|7\n6:!\n7:!\n8:10|11\n";
    size_t chunks[] = {1, 2, 3, 5, 65536};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        FILE *f = fmemopen((void *)text, sizeof text - 1, "rb");
        crisk_csv_options opts;
        crisk_csv_options_init(&opts, CRISK_CSV_OPTIONS_VERSION);
        opts.chunk_bytes = chunks[i];
        opts.resync = opts.single_line = 1;
        crisk_csv_reader *r;
        crisk_error err;
        ck_assert_int_eq(crisk_csv_open(f, &opts, &r, &err), 0);
        char got[256] = "";
        size_t len = 0, n;
        const char **fields;
        int rc;
        while ((rc = crisk_csv_next(r, &fields, &n, &err)) != 0) {
            if (rc < 0) {
                ck_assert_int_eq(rc, CRISK_E_FORMAT);
                ck_assert_msg(strstr(err.message, "is not closed at the end of the line"), "%s",
                              err.message);
                /* The message names the line; crisk_csv_line() is the one before it. */
                len += (size_t)snprintf(got + len, sizeof got - len, "%.*s:!\n",
                                        (int)strcspn(err.message + 5, ":"), err.message + 5);
                continue;
            }
            len += (size_t)snprintf(got + len, sizeof got - len, "%zu:", crisk_csv_line(r));
            for (size_t k = 0; k < n; k++)
                len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", k ? "|" : "",
                                        fields[k]);
            len += (size_t)snprintf(got + len, sizeof got - len, "\n");
        }
        ck_assert_msg(strcmp(got, expected) == 0, "chunk %zu: got\n%s", chunks[i], got);
        crisk_csv_free(r);
        fclose(f);
    }
}
END_TEST

/* Version 1 of the options, without single_line, is still read as multi-line records. */
START_TEST(test_options_version_1)
{
    static const char text[] = "\"two\nlines\",b\n";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "rb");
    crisk_csv_options opts;
    ck_assert_int_eq(crisk_csv_options_init(&opts, 1), 0);
    opts.single_line = 1; /* not part of version 1: ignored */
    crisk_csv_reader *r;
    crisk_error err;
    ck_assert_int_eq(crisk_csv_open(f, &opts, &r, &err), 0);
    const char **fields;
    size_t n;
    ck_assert_int_eq(crisk_csv_next(r, &fields, &n, &err), 1);
    ck_assert_str_eq(fields[0], "two\nlines");
    crisk_csv_free(r);
    fclose(f);
}
END_TEST

START_TEST(test_line_breaks_and_bom)
{
    EXPECT("a,b\r\n1,2\r\n", "1:a|b\n2:1|2\n");
    EXPECT("a,b\r\n\r\n1,2\r", "1:a|b\n3:1|2\n");
    EXPECT("a\rb,c\n", "1:a\n2:b|c\n");              /* a lone CR ends a line */
    EXPECT("a,b\r1,2\r\r3,4", "1:a|b\n2:1|2\n4:3|4\n"); /* CR-only line ends */
    EXPECT("\xEF\xBB\xBF" "f1,f2\n1,2\n", "1:f1|f2\n2:1|2\n");
    EXPECT("\xEF\xBB\xBF" "\"q\"\n", "1:q\n");
    EXPECT("\xEF\xBB\xBF", "");
    EXPECT("\xEF\xBB" "x\n", "1:\xEF\xBBx\n");       /* half a BOM is data */
    EXPECT("x\n\xEF\xBB\xBF\n", "1:x\n2:\xEF\xBB\xBF\n"); /* a BOM later on is data */
}
END_TEST

START_TEST(test_errors)
{
    expect_error("a\n\"open,b\nc\n", 11, 0, CRISK_E_FORMAT, "starting on line 2");
    expect_error("a\n\"x\"y,b\n", 9, 0, CRISK_E_FORMAT, "line 2: unexpected character");
    expect_error("a\nb\nc\0d\n", 8, 0, CRISK_E_FORMAT, "line 3: a NUL byte");
    expect_error("ok\n0123456789\n", 14, 8, CRISK_E_LIMIT, "starting on line 2");
    expect_error("a,b,c,d,e\n", 10, 8, CRISK_E_LIMIT, "longer than 8 bytes");
}
END_TEST

START_TEST(test_limit_counts_terminators)
{
    /* "abc" takes 4 bytes with its terminator; "a,b" takes 4 too. */
    int rc;
    crisk_error err;
    char *got = render("abc\na,b\n", 8, 2, 4, &rc, &err);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, "1:abc\n2:a|b\n");
    free(got);
}
END_TEST

START_TEST(test_sticky_error_and_arguments)
{
    const char text[] = "\"x\"y\nfine\n";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "rb");
    crisk_csv_reader *r = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_csv_open(f, NULL, &r, &err), 0);
    const char **fields;
    size_t n;
    ck_assert_int_eq(crisk_csv_next(r, &fields, &n, &err), CRISK_E_FORMAT);
    err.code = 0;
    ck_assert_int_eq(crisk_csv_next(r, &fields, &n, &err), CRISK_E_FORMAT);
    ck_assert_int_eq(err.code, CRISK_E_FORMAT);
    ck_assert_int_eq(crisk_csv_next(r, NULL, &n, NULL), CRISK_E_INVALID_ARGUMENT);
    crisk_csv_free(r);
    fclose(f);
    crisk_csv_free(NULL);
    ck_assert_uint_eq(crisk_csv_line(NULL), 0);
    ck_assert_int_eq(crisk_csv_open(NULL, NULL, &r, &err), CRISK_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(r);
    crisk_csv_options opts;
    crisk_csv_options_init(&opts, CRISK_CSV_OPTIONS_VERSION);
    opts.max_record_bytes = 0;
    f = tmpfile();
    ck_assert_int_eq(crisk_csv_open(f, &opts, &r, &err), CRISK_E_INVALID_ARGUMENT);
    fclose(f);
}
END_TEST

START_TEST(test_long_stream)
{
    /* Many records through small chunks: every record and its line come back in order. */
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    const size_t N = 50000;
    for (size_t i = 0; i < N; i++)
        fprintf(f, i % 2 ? "%zu,\"q,%zu\"\r\n" : "%zu,\"multi\nline\"\n", i, i);
    rewind(f);
    crisk_csv_options opts;
    crisk_csv_options_init(&opts, CRISK_CSV_OPTIONS_VERSION);
    opts.chunk_bytes = 61;
    opts.max_record_bytes = 64;
    crisk_csv_reader *r = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_csv_open(f, &opts, &r, &err), 0);
    const char **fields;
    size_t n, line = 1;
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(crisk_csv_next(r, &fields, &n, &err), 1);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(strtoul(fields[0], NULL, 10), i);
        ck_assert_uint_eq(crisk_csv_line(r), line);
        line += i % 2 ? 1 : 2;
    }
    ck_assert_int_eq(crisk_csv_next(r, &fields, &n, &err), 0);
    crisk_csv_free(r);
    fclose(f);
}
END_TEST

/* Returns the next number of the xorshift generator `*rng`. */
static uint64_t next_random(uint64_t *rng)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return *rng;
}

/* Checks that `count` random texts of up to `max_size` bytes drawn from the `n` bytes of
 * `alphabet` read alike (records, lines, errors) at one-byte chunks, where only the
 * byte-wise path runs, and at every size of `chunks`, with and without a tight record
 * limit. */
static void expect_chunk_sizes_agree(const char *alphabet, size_t n, size_t max_size,
                                     int count, const size_t *chunks, size_t nchunks)
{
    uint64_t rng = 0x2545f4914f6cdd1dull;
    char *text = malloc(max_size);
    ck_assert_ptr_nonnull(text);
    for (int t = 0; t < count; t++) {
        size_t size = next_random(&rng) % max_size;
        for (size_t i = 0; i < size; i++)
            text[i] = alphabet[next_random(&rng) % n];
        size_t limit = t % 2 ? 12 : 0;
        int want_rc;
        crisk_error want_err;
        char *want = render(text, size, 1, limit, &want_rc, &want_err);
        for (size_t i = 0; i < nchunks; i++) {
            int rc;
            crisk_error err;
            char *got = render(text, size, chunks[i], limit, &rc, &err);
            ck_assert_int_eq(rc, want_rc);
            if (want)
                ck_assert_str_eq(got, want);
            else
                ck_assert_str_eq(err.message, want_err.message);
            free(got);
        }
        free(want);
    }
    free(text);
}

START_TEST(test_random_texts_at_every_chunk_size)
{
    /* The reader takes plain fields that end within a chunk in one step and everything
     * else byte by byte: random texts of separators, quotes, line breaks and CRs. */
    static const char alphabet[] = "ab,,\"\n\r ";
    static const size_t chunks[] = {2, 3, 5, 8, 13, 65536};
    expect_chunk_sizes_agree(alphabet, sizeof alphabet - 1, 64, 3000, chunks, 6);
}
END_TEST

START_TEST(test_lines_split_in_place_read_as_byte_by_byte)
{
    /* A line without quotes that a chunk holds whole is split in place (csv_split.c):
     * longer lines of many fields (their number changing from line to line), with NUL
     * bytes, non-ASCII bytes, CRLFs and lone CRs, read as the byte-wise path reads them. */
    static const char alphabet[] = "abcdefgh,,,,\n\n\r\"\0\xC3";
    static const size_t chunks[] = {9, 64, 65536};
    expect_chunk_sizes_agree(alphabet, sizeof alphabet - 1, 300, 3000, chunks, 3);
}
END_TEST

START_TEST(test_splitters_agree)
{
    /* The CPU's splitter (AVX-512BW where it has it) splits every line as the plain C one
     * does, or refuses it alike: lines of 0 to 200 bytes (vectors of 64 and words of 8,
     * whole and cut), with quotes, CRs, NULs and non-ASCII bytes, under field limits from
     * 1 to 201. Without AVX-512BW this compares the plain splitter with itself. */
    static const char alphabet[] = "abcdefgh,,,,,\"\r\0\xC3";
    crisk__csv_split_fn fast = crisk__csv_splitter();
    unsigned char line[200];
    const char *f1[201], *f2[201];
    size_t l1[201], l2[201];
    uint64_t seed = 7;
    for (int trial = 0; trial < 200000; trial++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = (size_t)(seed >> 33) % sizeof line, cap = 1 + (size_t)(seed >> 20) % 201;
        /* Mostly plain lines, so that most are split rather than refused. */
        int plain = (seed >> 12) % 4 != 0;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t k = (size_t)(seed >> 40) % (plain ? 13 : sizeof alphabet - 1);
            line[i] = (unsigned char)alphabet[k];
        }
        int a1 = -1, a2 = -1;
        size_t n1 = crisk__csv_split_swar(line, len, f1, l1, cap, &a1);
        size_t n2 = fast(line, len, f2, l2, cap, &a2);
        /* One check a line: Check's assertions cost more than the splitting. */
        int same = n2 == n1 && (n1 == 0 || (a2 == a1 && memcmp(f2, f1, n1 * sizeof *f1) == 0
                                            && memcmp(l2, l1, n1 * sizeof *l1) == 0));
        if (!same)
            ck_abort_msg("trial %d: a line of %zu bytes (limit %zu) split into %zu fields, "
                         "%zu by the plain splitter", trial, len, cap, n2, n1);
    }
}
END_TEST

/* Returns the suite of the CSV reader. */
static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, test_plain);
    tcase_add_test(tc, test_quotes);
    tcase_add_test(tc, test_line_breaks_and_bom);
    tcase_add_test(tc, test_single_line_records);
    tcase_add_test(tc, test_options_version_1);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_limit_counts_terminators);
    tcase_add_test(tc, test_sticky_error_and_arguments);
    tcase_add_test(tc, test_long_stream);
    tcase_add_test(tc, test_random_texts_at_every_chunk_size);
    tcase_add_test(tc, test_lines_split_in_place_read_as_byte_by_byte);
    tcase_add_test(tc, test_splitters_agree);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return crisk_check_run(csv_suite());
}
