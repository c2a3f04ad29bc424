/*
 * common/csv.c — the streaming RFC 4180 reader declared in crisk/reader.h: a byte-at-a-time
 * state machine over a chunk buffer, so a record may span any number of chunks; a line
 * without quotes that the chunk holds whole is split in place (csv_split.c).
 */
#include "common/csv.h"

#include "common/csv_split.h"

#include "common/error.h"
#include "common/grow.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CHUNK_BYTES      (64u * 1024u)
#define DEFAULT_MAX_RECORD_BYTES (1024u * 1024u)
/* Returned by next_byte() besides 0..255. */
#define BYTE_EOF   (-1)
#define BYTE_ERROR (-2)

/* Where the parser is within a record. */
typedef enum csv_state {
    FIELD_START,   /* nothing of the current field read yet */
    UNQUOTED,      /* inside a field that did not start with a quote */
    QUOTED,        /* inside a quoted field */
    QUOTE_SEEN     /* inside a quoted field, just after a quote: its end or half of "" */
} csv_state;

struct crisk_csv_reader {
    FILE *f;
    crisk_csv_options opts;
    unsigned char *chunk;       /* opts.chunk_bytes (at least 3, for the BOM) */
    size_t chunk_len, chunk_pos;
    int started;                /* the byte order mark has been looked for */
    int eof;                    /* fread() reported the end of the input */
    char *rec;                  /* the current record's fields, each NUL-terminated */
    size_t rec_len, rec_cap;
    size_t *starts;             /* offset in rec of each field of the current record */
    size_t nstarts, starts_cap;
    const char **fields;        /* what crisk_csv_next() hands out */
    size_t *lengths;            /* and their lengths */
    size_t fields_cap;
    size_t line;                /* line of the next byte to read, 1-based */
    size_t record_line;         /* line where the last record started */
    int last;                   /* the byte last returned by next_byte() */
    int skip_line;              /* resync: skip to the next line break before reading */
    char raw[CRISK__CSV_RAW_BYTES]; /* resync: the bytes of the current line as read */
    size_t raw_len;
    size_t raw_from;            /* chunk offset of the current line's bytes not yet in raw */
    int raw_cut;                /* the line had more bytes than raw holds */
    int ascii;                  /* the last record was split in place and is all ASCII */
    crisk__csv_split_fn split;  /* the fast path's splitter, the CPU's fastest */
    int failed;                 /* a sticky error: every later call returns it */
    crisk_error failure;
};

/* Fills `opts` with the default chunk size and record limit. */
int crisk_csv_options_init(crisk_csv_options *opts, unsigned int version)
{
    if (!opts || version < 1 || version > CRISK_CSV_OPTIONS_VERSION)
        return CRISK_E_INVALID_ARGUMENT;
    opts->version = version;
    opts->chunk_bytes = DEFAULT_CHUNK_BYTES;
    opts->max_record_bytes = DEFAULT_MAX_RECORD_BYTES;
    opts->resync = 0;
    if (version >= 2)
        opts->single_line = 0;
    return 0;
}

/* Creates a reader over `f`; returns 0 or a negative code (see crisk/reader.h). */
int crisk_csv_open(FILE *f, const crisk_csv_options *opts, crisk_csv_reader **out,
                   crisk_error *err)
{
    crisk_csv_options defaults;
    if (!opts) {
        crisk_csv_options_init(&defaults, CRISK_CSV_OPTIONS_VERSION);
        opts = &defaults;
    }
    if (!out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "out must not be NULL");
    *out = NULL;
    if (!f)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the input stream is NULL");
    /* Version 1, the layout without single_line, is read as well. */
    int rc = opts->version == 1 ? 0 : crisk__options_version(opts->version,
                                                            CRISK_CSV_OPTIONS_VERSION,
                                                            "crisk_csv_options", err);
    if (rc)
        return rc;
    if (opts->chunk_bytes == 0 || opts->max_record_bytes == 0)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "chunk_bytes and max_record_bytes must be positive");
    crisk_csv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a CSV reader");
    r->f = f;
    if (opts->version == 1)
        memcpy(&r->opts, opts, offsetof(crisk_csv_options, single_line));
    else
        r->opts = *opts;
    /* Three bytes at least, so that a byte order mark can be seen in one chunk. */
    if (r->opts.chunk_bytes < 3)
        r->opts.chunk_bytes = 3;
    r->chunk = malloc(r->opts.chunk_bytes);
    if (!r->chunk) {
        size_t bytes = r->opts.chunk_bytes;
        free(r);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a %zu-byte read buffer",
                           bytes);
    }
    r->line = 1;
    r->split = crisk__csv_splitter();
    *out = r;
    return 0;
}

/* Frees the reader's buffers and the reader itself; NULL is a no-op. */
void crisk_csv_free(crisk_csv_reader *reader)
{
    if (!reader)
        return;
    free(reader->chunk);
    free(reader->rec);
    free(reader->starts);
    free(reader->fields);
    free(reader->lengths);
    free(reader);
}

/* Returns the lengths of the last record's fields (NULL before any). */
const size_t *crisk_csv_lengths(const crisk_csv_reader *reader)
{
    return reader ? reader->lengths : NULL;
}

int crisk__csv_ascii(const crisk_csv_reader *reader)
{
    return reader->ascii;
}

/* Returns the line where the last record returned started (0 before any). */
size_t crisk_csv_line(const crisk_csv_reader *reader)
{
    return reader ? reader->record_line : 0;
}

const char *crisk__csv_failed_raw(const crisk_csv_reader *reader, size_t *len, int *cut)
{
    *len = reader->raw_len;
    *cut = reader->raw_cut;
    return reader->raw;
}

/* Adds the `n` bytes at `p` to the current line's raw bytes, as many as fit. */
static void raw_keep(crisk_csv_reader *r, const unsigned char *p, size_t n)
{
    size_t room = sizeof r->raw - r->raw_len;
    r->raw_cut |= n > room;
    memcpy(r->raw + r->raw_len, p, n < room ? n : room);
    r->raw_len += n < room ? n : room;
}

static int skip_rest(crisk_csv_reader *r);

/* Records a failure in the reader (so that later calls repeat it, unless resync recovers
 * from a malformed or over-long record by skipping the rest of its line, at once so that
 * the failed line's bytes are whole) and in `err`; returns `code`. */
static int fail(crisk_csv_reader *r, crisk_error *err, int code, const char *what)
{
    crisk__fail(&r->failure, code, "line %zu: %s", r->line, what);
    if (r->opts.resync && (code == CRISK_E_FORMAT || code == CRISK_E_LIMIT)) {
        raw_keep(r, r->chunk + r->raw_from, r->chunk_pos - r->raw_from);
        r->raw_from = r->chunk_pos;
        r->skip_line = r->last != '\n' && r->last != BYTE_EOF;
        (void)skip_rest(r); /* a read error stays for the next call to report */
        while (r->raw_len && (r->raw[r->raw_len - 1] == '\n' || r->raw[r->raw_len - 1] == '\r'))
            r->raw_len--; /* the line break is no part of the line */
    } else {
        r->failed = 1;
    }
    if (err)
        *err = r->failure;
    return code;
}

/* Reads more input into the chunk buffer, looping on short reads until it holds at least
 * `want` bytes or the input ends. Returns 0, or BYTE_ERROR on a read error. */
static int refill(crisk_csv_reader *r, size_t want)
{
    if (r->opts.resync && r->raw_from < r->chunk_len)
        raw_keep(r, r->chunk + r->raw_from, r->chunk_len - r->raw_from);
    r->raw_from = 0;
    r->chunk_len = 0;
    r->chunk_pos = 0;
    while (!r->eof && r->chunk_len < want) {
        size_t got = fread(r->chunk + r->chunk_len, 1, r->opts.chunk_bytes - r->chunk_len,
                           r->f);
        r->chunk_len += got;
        if (got == 0) {
            if (ferror(r->f))
                return BYTE_ERROR;
            r->eof = 1;
        }
    }
    return 0;
}

/* Returns the next input byte (0..255), BYTE_EOF at the end, or BYTE_ERROR. */
static int next_byte(crisk_csv_reader *r)
{
    if (r->chunk_pos == r->chunk_len) {
        if (r->eof)
            return r->last = BYTE_EOF;
        if (refill(r, 1) != 0)
            return BYTE_ERROR;
        if (r->chunk_len == 0)
            return r->last = BYTE_EOF;
    }
    return r->last = r->chunk[r->chunk_pos++];
}

/* Skips a UTF-8 byte order mark at the start of the input. Returns 0 or BYTE_ERROR. */
static int skip_bom(crisk_csv_reader *r)
{
    r->started = 1;
    if (refill(r, 3) != 0)
        return BYTE_ERROR;
    if (r->chunk_len >= 3 && memcmp(r->chunk, "\xEF\xBB\xBF", 3) == 0)
        r->chunk_pos = 3;
    return 0;
}

/* Appends byte `c` to the current record, within max_record_bytes. Returns 0 or a
 * negative code. */
static int put(crisk_csv_reader *r, char c, crisk_error *err)
{
    if (r->rec_len == r->rec_cap) {
        if (r->rec_cap >= r->opts.max_record_bytes) {
            char what[160];
            snprintf(what, sizeof what,
                     "the record starting on line %zu is longer than %zu bytes",
                     r->record_line, r->opts.max_record_bytes);
            return fail(r, err, CRISK_E_LIMIT, what);
        }
        size_t cap = crisk__grow_capacity(r->rec_cap, r->rec_len + 1, 256);
        if (cap > r->opts.max_record_bytes)
            cap = r->opts.max_record_bytes;
        if (crisk__resize((void **)&r->rec, cap, 1))
            return fail(r, err, CRISK_E_NOMEM, "out of memory for a record");
        r->rec_cap = cap;
    }
    r->rec[r->rec_len++] = c;
    return 0;
}

/* Appends to the current record the run of ordinary bytes that follows in the chunk (up
 * to the next byte in `stop`, a 256-entry table, or the chunk's end), as put() would one
 * by one, but only as much as the record's buffer holds: the byte-wise path grows it (and
 * enforces max_record_bytes). This is the parser's fast path: most of a CSV file's bytes
 * are plain field text. */
static void put_run(crisk_csv_reader *r, const unsigned char *stop)
{
    const unsigned char *p = r->chunk + r->chunk_pos, *end = r->chunk + r->chunk_len;
    const unsigned char *q = p;
    while (q < end && !stop[*q])
        q++;
    size_t n = (size_t)(q - p);
    if (n > r->rec_cap - r->rec_len) /* the rest goes byte by byte: put() grows the record */
        n = r->rec_cap - r->rec_len;
    memcpy(r->rec + r->rec_len, p, n);
    r->rec_len += n;
    r->chunk_pos += n;
    if (n)
        r->last = p[n - 1];
}

/* Bytes that end a run of plain text outside quotes: the separator, line breaks, NUL. */
static const unsigned char stop_unquoted[256] = {['\0'] = 1, [','] = 1, ['\n'] = 1,
                                                 ['\r'] = 1};
/* Bytes that end a run of text inside quotes: the quote, a line break (counted), NUL; a
 * CR too where it ends single-line records. */
static const unsigned char stop_quoted[256] = {['\0'] = 1, ['"'] = 1, ['\n'] = 1};
static const unsigned char stop_quoted_line[256] = {['\0'] = 1, ['"'] = 1, ['\n'] = 1,
                                                    ['\r'] = 1};

/* Ends the current field: terminates it and remembers where it starts. `field_start` is
 * its offset in the record. Returns 0 or a negative code. */
static int end_field(crisk_csv_reader *r, size_t field_start, crisk_error *err)
{
    int rc = put(r, '\0', err);
    if (rc)
        return rc;
    /* Each field holds at least its terminator, so max_record_bytes bounds this too. */
    if (crisk__grow((void **)&r->starts, &r->starts_cap, r->nstarts + 1, sizeof *r->starts, 16))
        return fail(r, err, CRISK_E_NOMEM, "out of memory for a record's fields");
    r->starts[r->nstarts++] = field_start;
    return 0;
}

/* Turns the finished record's offsets into the field pointers handed out. Returns 0 or a
 * negative code. */
static int publish(crisk_csv_reader *r, const char ***fields, size_t *nfields,
                   crisk_error *err)
{
    if (r->nstarts > r->fields_cap) {
        if (crisk__resize((void **)&r->fields, r->nstarts, sizeof *r->fields)
            || crisk__resize((void **)&r->lengths, r->nstarts, sizeof *r->lengths))
            return fail(r, err, CRISK_E_NOMEM, "out of memory for a record's fields");
        r->fields_cap = r->nstarts;
    }
    for (size_t i = 0; i < r->nstarts; i++) {
        /* Each field ends with its NUL, just before the next field's start. */
        size_t end = i + 1 < r->nstarts ? r->starts[i + 1] : r->rec_len;
        r->fields[i] = r->rec + r->starts[i];
        r->lengths[i] = end - r->starts[i] - 1;
    }
    *fields = r->fields;
    *nfields = r->nstarts;
    return 1;
}

/* Handles a CR outside quotes (or inside them, for single-line records): a CRLF or a
 * lone CR is one line break, reported as '\n', with the byte after a lone CR left
 * unread. Returns '\n', or BYTE_ERROR. */
static int fold_crlf(crisk_csv_reader *r)
{
    int c = next_byte(r);
    if (c == BYTE_ERROR)
        return BYTE_ERROR;
    if (c != '\n' && c != BYTE_EOF)
        r->chunk_pos--; /* the byte just read came from the current chunk */
    return r->last = '\n';
}

/* Resync: reads past the rest of the line of a failed record (to LF, CRLF or a lone CR,
 * the line ends the reader takes), keeping its bytes. Returns 0, or BYTE_ERROR. */
static int skip_rest(crisk_csv_reader *r)
{
    while (r->skip_line) {
        int c = next_byte(r);
        if (c == '\r')
            c = fold_crlf(r);
        if (c == BYTE_ERROR)
            return BYTE_ERROR;
        if (c == '\n')
            r->line++;
        r->skip_line = c != '\n' && c != BYTE_EOF;
    }
    raw_keep(r, r->chunk + r->raw_from, r->chunk_pos - r->raw_from);
    r->raw_from = r->chunk_pos;
    return 0;
}

/* Fails the current record of a single-line reader on a line break inside quotes: the
 * message names the line, and the line break is counted, so that resync goes on at the
 * next line. Returns CRISK_E_FORMAT. */
static int break_in_quotes(crisk_csv_reader *r, crisk_error *err)
{
    char what[128];
    snprintf(what, sizeof what, "quoted field %zu is not closed at the end of the line "
             "(a field holds no line break)", r->nstarts + 1);
    int rc = fail(r, err, CRISK_E_FORMAT, what);
    r->line++;
    return rc;
}

/* The fast path for a field that starts unquoted and ends within the chunk (most do):
 * appends it with its terminator and records its start, as the byte-wise path would, when
 * the record's buffers already have room. Returns the byte that ended it, ',' or '\n' (a
 * CRLF counts as '\n'), with the bytes consumed; or 0 with nothing consumed, leaving the
 * field to the byte-wise path (a quote, a lone CR, a NUL, the chunk's end, a record
 * buffer to grow, or an empty line). */
static int fast_field(crisk_csv_reader *r)
{
    const unsigned char *p = r->chunk + r->chunk_pos, *end = r->chunk + r->chunk_len;
    const unsigned char *q = p;
    if (q == end || *q == '"' || r->nstarts == r->starts_cap)
        return 0;
    while (q < end && !stop_unquoted[*q])
        q++;
    if (q == end)
        return 0;
    size_t n = (size_t)(q - p), used = 1;
    int c = *q;
    if (c == '\r' && q + 1 < end && q[1] == '\n') {
        c = '\n';
        used = 2;
    }
    if ((c != ',' && c != '\n') || n + 1 > r->rec_cap - r->rec_len
        || (n == 0 && c == '\n' && r->nstarts == 0))
        return 0;
    memcpy(r->rec + r->rec_len, p, n);
    r->rec[r->rec_len + n] = '\0';
    r->starts[r->nstarts++] = r->rec_len;
    r->rec_len += n + 1;
    r->chunk_pos += n + used;
    r->last = c;
    return c;
}

/* The fast path for a record that is one line without quotes, CR (but a CRLF's) or NUL,
 * whole in the chunk (most are): its fields are split in place, each terminated where its
 * comma or line break was. Returns 1 with the fields, or 0 with nothing consumed, leaving
 * the record to the byte-wise path. */
static int fast_line(crisk_csv_reader *r, const char ***fields, size_t *nfields)
{
    unsigned char *p = r->chunk + r->chunk_pos;
    size_t left = r->chunk_len - r->chunk_pos;
    const unsigned char *nl = left ? memchr(p, '\n', left) : NULL;
    if (!nl)
        return 0;
    size_t len = (size_t)(nl - p), used = len + 1;
    if (len && p[len - 1] == '\r')
        len--;
    int ascii = 0;
    size_t nf = len && used <= r->opts.max_record_bytes
                    ? r->split(p, len, r->fields, r->lengths, r->fields_cap, &ascii)
                    : 0;
    if (!nf)
        return 0;
    for (size_t i = 0; i < nf; i++)
        p[r->fields[i] - (const char *)p + r->lengths[i]] = '\0';
    r->ascii = ascii;
    r->chunk_pos += used;
    r->raw_from = r->chunk_pos;
    r->last = '\n';
    r->line++;
    *fields = r->fields;
    *nfields = nf;
    return 1;
}

/* Parses the next record; returns 1 with its fields, 0 at the end, or a negative code. */
int crisk_csv_next(crisk_csv_reader *r, const char ***fields, size_t *nfields,
                   crisk_error *err)
{
    if (!r || !fields || !nfields)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "reader, fields and nfields must "
                                                         "not be NULL");
    if (r->failed) {
        if (err)
            *err = r->failure;
        return r->failure.code;
    }
    if (!r->started && skip_bom(r) != 0)
        return fail(r, err, CRISK_E_IO, strerror(errno));
    if (skip_rest(r) != 0)
        return fail(r, err, CRISK_E_IO, strerror(errno));
    csv_state state = FIELD_START;
    size_t field_start = 0;
    int any = 0; /* the record has a character other than its line break */
    int rc = 0;
    r->rec_len = 0;
    r->nstarts = 0;
    r->record_line = r->line;
    r->raw_len = 0;
    r->raw_cut = 0;
    r->raw_from = r->chunk_pos;
    r->ascii = 0;
    if (fast_line(r, fields, nfields))
        return 1;
    for (;;) {
        if (state == FIELD_START) {
            int end = fast_field(r);
            if (end == ',') {
                any = 1;
                field_start = r->rec_len;
                continue;
            }
            if (end == '\n') {
                r->line++;
                return publish(r, fields, nfields, err);
            }
        }
        int c = next_byte(r);
        if (c == '\r' && (state != QUOTED || r->opts.single_line))
            c = fold_crlf(r);
        if (c == BYTE_ERROR)
            return fail(r, err, CRISK_E_IO, strerror(errno));
        if (c == BYTE_EOF) {
            if (state == QUOTED) {
                char what[128];
                snprintf(what, sizeof what, "the quoted field of the record starting on line "
                                            "%zu is not closed at the end of the input",
                         r->record_line);
                return fail(r, err, CRISK_E_FORMAT, what);
            }
            if (!any)
                return 0;
            c = '\n'; /* a last record without a line break ends here */
        } else if (c == '\0') {
            return fail(r, err, CRISK_E_FORMAT, "a NUL byte in the input");
        }
        if (c == '\n' && state != QUOTED) {
            r->line++;
            if (!any) { /* an empty line is no record */
                r->record_line = r->line;
                r->raw_from = r->chunk_pos;
                continue;
            }
            rc = end_field(r, field_start, err);
            return rc ? rc : publish(r, fields, nfields, err);
        }
        if (c == '\n' && r->opts.single_line)
            return break_in_quotes(r, err);
        if (c == '\n')
            r->line++;
        any = 1;
        switch (state) {
        case FIELD_START:
            if (c == '"') {
                state = QUOTED;
                continue;
            }
            state = UNQUOTED;
            /* fall through */
        case UNQUOTED:
            if (c == ',') {
                rc = end_field(r, field_start, err);
                field_start = r->rec_len;
                state = FIELD_START;
            } else if ((rc = put(r, (char)c, err)) == 0) {
                put_run(r, stop_unquoted);
            }
            break;
        case QUOTED:
            if (c == '"')
                state = QUOTE_SEEN;
            else if ((rc = put(r, (char)c, err)) == 0)
                put_run(r, r->opts.single_line ? stop_quoted_line : stop_quoted);
            break;
        case QUOTE_SEEN:
            if (c == '"') {
                rc = put(r, '"', err);
                state = QUOTED;
            } else if (c == ',') {
                rc = end_field(r, field_start, err);
                field_start = r->rec_len;
                state = FIELD_START;
            } else {
                char what[96];
                snprintf(what, sizeof what, "unexpected character after the closing quote "
                                            "of field %zu", r->nstarts + 1);
                return fail(r, err, CRISK_E_FORMAT, what);
            }
            break;
        }
        if (rc)
            return rc;
    }
}
