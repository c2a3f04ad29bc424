/*
 * common/jsonpull.c — a strict check of a JSON document's syntax, and cursors that read checked
 * (or cJSON-printed) JSON text in place, value by value.
 */
#include "common/jsonpull.h"

#include "common/grow.h"

#include "crisk.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest number either side reads whole: cJSON copies at most 63 characters of one. */
#define MAX_NUMBER_CHARS 63
/* Deepest nesting crisk__json_check_text follows (its stack is on the C stack). */
#define MAX_CHECK_DEPTH 64

/* Returns 1 for the white space JSON allows. */
static int is_ws(char ch)
{
    return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
}

/* Returns `p` moved past white space (not beyond `end`). */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws(*p))
        p++;
    return p;
}

/* Returns 1 for an ASCII digit. */
static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Returns 1 for an ASCII hex digit. */
static int is_hex(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* Reads the run of digits at `p`: stores `*m` * 10^length + their value (modulo 2^64) in
 * `*m` and returns the length. (Eight bytes at a time by SWAR was slower: a model's runs
 * are short.) */
static inline size_t read_digits(const char *p, const char *end, uint64_t *m)
{
    const char *q = p;
    for (; q < end && is_digit(*q); q++)
        *m = *m * 10 + (uint64_t)(*q - '0');
    return (size_t)(q - p);
}

/* Returns the code unit of the escape \uXXXX at `p` (its backslash, with 6 bytes), or -1
 * when it is none. */
static long escaped_unit(const char *p, const char *end)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    long u = 0;
    for (int i = 2; i < 6; i++) {
        if (!is_hex(p[i]))
            return -1;
        u = u * 16 + (is_digit(p[i]) ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);
    }
    return u;
}

/* Checks the string starting at `p` (its opening quote): bytes >= 0x20 and valid escapes,
 * a UTF-16 surrogate only as the first of a pair (cJSON refuses a lone one). Returns the
 * position after its closing quote, or NULL. */
static const char *check_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"')
            return p + 1;
        if (ch < 0x20)
            return NULL;
        if (ch != '\\')
            continue;
        if (++p == end)
            return NULL;
        if (*p == 'u') {
            long u = escaped_unit(p - 1, end);
            int high = u >= 0xd800 && u <= 0xdbff;
            long low = high ? escaped_unit(p + 5, end) : 0xdc00;
            if (u < 0 || (u >= 0xdc00 && u <= 0xdfff) || !(low >= 0xdc00 && low <= 0xdfff))
                return NULL;
            p += high ? 10 : 4;
        } else if (!strchr("\"\\/bfnrt", *p) || *p == '\0') {
            return NULL;
        }
    }
    return NULL;
}

/* Checks the number starting at `p` by the JSON grammar. Returns the position after it,
 * or NULL. */
static inline const char *check_number(const char *p, const char *end)
{
    const char *start = p;
    uint64_t ignored = 0;
    p += p < end && *p == '-';
    size_t n = read_digits(p, end, &ignored);
    if (n == 0 || (n > 1 && *p == '0'))
        return NULL;
    p += n;
    if (p < end && *p == '.') {
        if ((n = read_digits(++p, end, &ignored)) == 0)
            return NULL;
        p += n;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if ((n = read_digits(p, end, &ignored)) == 0)
            return NULL;
        p += n;
    }
    return p - start <= MAX_NUMBER_CHARS ? p : NULL;
}

/* Checks the number or literal starting at `p` by the JSON grammar. Returns the position
 * after it, or NULL. */
static const char *check_scalar(const char *p, const char *end)
{
    const char *literal = *p == 't' ? "true" : *p == 'f' ? "false" : *p == 'n' ? "null" : NULL;
    if (!literal)
        return check_number(p, end);
    size_t n = strlen(literal);
    return (size_t)(end - p) >= n && memcmp(p, literal, n) == 0 ? p + n : NULL;
}

/* Returns 1 when `p` (before `end`) starts a number. */
static int starts_number(const char *p, const char *end)
{
    return p < end && (*p == '-' || is_digit(*p));
}

/* Checks the run of numbers of an array that starts at `p` (a number): numbers with commas
 * between them, most of a model's text, in a loop of their own. Adds to `*items` the
 * numbers after the first. Returns the position after the last, or NULL. */
static const char *check_numbers(const char *p, const char *end, size_t *items)
{
    for (;;) {
        if (!(p = check_number(p, end)))
            return NULL;
        const char *q = skip_ws(p, end);
        if (q == end || *q != ',' || !starts_number(q = skip_ws(q + 1, end), end))
            return p;
        ++*items;
        p = q;
    }
}

/* Checks, after white space, an object member's key and its ':'. Returns the position
 * after the ':', or NULL. */
static const char *check_key(const char *p, const char *end)
{
    p = skip_ws(p, end);
    if (p == end || *p != '"' || !(p = check_string(p, end)))
        return NULL;
    p = skip_ws(p, end);
    return p < end && *p == ':' ? p + 1 : NULL;
}

/* Returns the closing bracket of a container opened with `open`. */
static char closer(char open)
{
    return open == '[' ? ']' : '}';
}

/* Starts a record in `index` of the container opening at `p`, `depth` deep (1: the
 * document), when the index asks for it; returns its number, or SIZE_MAX when none. */
static size_t index_open(crisk__jindex *index, const char *p, size_t depth)
{
    if (!index || depth > index->depth || index->n >= index->max)
        return SIZE_MAX;
    if (crisk__grow((void **)&index->spans, &index->cap, index->n + 1, sizeof *index->spans, 64)) {
        index->max = index->n; /* out of memory: record no more, scan instead */
        return SIZE_MAX;
    }
    index->spans[index->n] = (crisk__jspan){p, NULL, 0};
    return index->n++;
}

/* Checks one JSON document of the strict subset; see jsonpull.h. */
int crisk__json_check_text(const char *text, size_t len, size_t max_depth,
                           crisk__jindex *index)
{
    const char *p = text, *end = text + len;
    char open[MAX_CHECK_DEPTH];
    size_t items[MAX_CHECK_DEPTH], rec[MAX_CHECK_DEPTH];
    size_t depth = 0;
    int need_value = 1;
    if (max_depth > MAX_CHECK_DEPTH)
        max_depth = MAX_CHECK_DEPTH;
    for (;;) {
        p = skip_ws(p, end);
        if (need_value) {
            if (p == end)
                return 0;
            if (depth)
                items[depth - 1]++;
            if (*p == '[' || *p == '{') {
                if (depth == max_depth)
                    return 0;
                rec[depth] = index_open(index, p, depth + 1);
                items[depth] = 0;
                open[depth++] = *p;
                p = skip_ws(p + 1, end);
                if (p < end && *p == closer(open[depth - 1])) {
                    need_value = 0;
                    continue;
                }
                if (open[depth - 1] == '{' && !(p = check_key(p, end)))
                    return 0;
                continue;
            }
            if (depth && open[depth - 1] == '[' && starts_number(p, end))
                p = check_numbers(p, end, &items[depth - 1]);
            else
                p = *p == '"' ? check_string(p, end) : check_scalar(p, end);
            if (!p)
                return 0;
            need_value = 0;
            continue;
        }
        if (depth == 0)
            return p == end;
        if (p == end)
            return 0;
        if (*p == closer(open[depth - 1])) {
            depth--;
            if (rec[depth] != SIZE_MAX) {
                index->spans[rec[depth]].end = p + 1;
                index->spans[rec[depth]].count = items[depth];
            }
            p++;
            continue;
        }
        if (*p++ != ',')
            return 0;
        if (open[depth - 1] == '{' && !(p = check_key(p, end)))
            return 0;
        need_value = 1;
    }
}

/* Returns the record of the container starting at `p` in the index of `shared`, or NULL
 * when it has none. */
static const crisk__jspan *indexed(const crisk__jshared *shared, const char *p)
{
    const crisk__jindex *ix = shared->index;
    if (!ix)
        return NULL;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->spans[mid].start < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->n && ix->spans[lo].start == p && ix->spans[lo].end ? &ix->spans[lo] : NULL;
}

/* Starts a cursor over the text. */
void crisk__jpull_init(crisk__jpull *c, const char *text, size_t len, crisk__jshared *shared)
{
    c->p = text;
    c->end = text + len;
    c->shared = shared;
}

/* Returns the type of the value at the cursor. */
crisk__jtype crisk__jpull_peek(crisk__jpull *c)
{
    c->p = skip_ws(c->p, c->end);
    if (c->p == c->end)
        return CRISK__J_BAD;
    switch (*c->p) {
    case '"':
        return CRISK__J_STRING;
    case '[':
        return CRISK__J_ARRAY;
    case '{':
        return CRISK__J_OBJECT;
    case 't':
        return CRISK__J_TRUE;
    case 'f':
        return CRISK__J_FALSE;
    case 'n':
        return CRISK__J_NULL;
    default:
        return *c->p == '-' || is_digit(*c->p) ? CRISK__J_NUMBER : CRISK__J_BAD;
    }
}

/* Returns a phrase naming a JSON type, for messages. */
const char *crisk__jtype_name(crisk__jtype t)
{
    switch (t) {
    case CRISK__J_NUMBER:
        return "a number";
    case CRISK__J_STRING:
        return "a string";
    case CRISK__J_ARRAY:
        return "an array";
    case CRISK__J_OBJECT:
        return "an object";
    case CRISK__J_TRUE:
    case CRISK__J_FALSE:
        return "a boolean";
    case CRISK__J_NULL:
        return "null";
    default:
        return "an invalid value";
    }
}

/* Returns the position after the string whose opening quote is at `p`, or NULL when the
 * text ends first. */
static const char *string_end(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\' && ++p == end)
            return NULL;
    }
    return NULL;
}

/* Returns the position after the container whose opening bracket is at `p`, or NULL when
 * the text ends first. Only strings and brackets matter to where a container ends, so the
 * loop looks at nothing else: skipping is most of the time of loading a large model. */
static const char *container_end(const char *p, const char *end)
{
    size_t depth = 0;
    for (; p < end; p++) {
        char ch = *p;
        if (ch == '"') {
            if (!(p = string_end(p, end)))
                return NULL;
            p--;
        } else if (ch == '[' || ch == '{') {
            depth++;
        } else if ((ch == ']' || ch == '}') && --depth == 0) {
            return p + 1;
        }
    }
    return NULL;
}

/* Skips one value, keeping a count of open brackets instead of recursing. */
int crisk__jpull_skip(crisk__jpull *c)
{
    const char *p = skip_ws(c->p, c->end), *end = c->end;
    if (p == end || *p == ']' || *p == '}')
        return -1;
    if (*p == '[' || *p == '{') {
        const crisk__jspan *known = indexed(c->shared, p);
        if (!(p = known ? known->end : container_end(p, end)))
            return -1;
    } else if (*p == '"') {
        if (!(p = string_end(p, end)))
            return -1;
    } else {
        /* A number or literal: at least one byte, so that a stray one cannot stall. */
        do
            p++;
        while (p < end && (is_digit(*p) || (*p >= 'a' && *p <= 'z') || *p == 'E' || *p == '+'
                           || *p == '-' || *p == '.'));
    }
    c->p = p;
    return 0;
}

/* Moves into the container at the cursor. */
int crisk__jpull_enter(crisk__jpull *c)
{
    crisk__jtype t = crisk__jpull_peek(c);
    if (t != CRISK__J_ARRAY && t != CRISK__J_OBJECT)
        return -1;
    c->p++;
    return 0;
}

/* Moves to the next item of a container, or past its end. */
int crisk__jpull_more(crisk__jpull *c)
{
    c->p = skip_ws(c->p, c->end);
    if (c->p == c->end)
        return 0;
    if (*c->p == ']' || *c->p == '}') {
        c->p++;
        return 0;
    }
    if (*c->p == ',')
        c->p++;
    return 1;
}

/* Writes code point `u` (below 0x10000) as UTF-8 at `out`; returns the bytes written. */
static size_t put_utf8(char *out, unsigned u)
{
    if (u < 0x80) {
        out[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (char)(0xc0 | u >> 6);
        out[1] = (char)(0x80 | (u & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | u >> 12);
    out[1] = (char)(0x80 | ((u >> 6) & 0x3f));
    out[2] = (char)(0x80 | (u & 0x3f));
    return 3;
}

/* Decodes the escapes of the string body [p, q) into the shared buffer. Returns 0, -1 for
 * an escape this reader does not take (\u0000, surrogates: cJSON never prints them, and
 * checked text with escapes is left to cJSON), or CRISK_E_NOMEM. */
static int unescape(crisk__jshared *sh, const char *p, const char *q, size_t *len)
{
    size_t need = (size_t)(q - p);
    if (need > sh->cap) {
        char *buf = realloc(sh->buf, need);
        if (!buf)
            return CRISK_E_NOMEM;
        sh->buf = buf;
        sh->cap = need;
    }
    size_t o = 0;
    while (p < q) {
        if (*p != '\\') {
            sh->buf[o++] = *p++;
            continue;
        }
        if (q - p < 2)
            return -1;
        char e = p[1];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *at = strchr(from, e);
        if (at && e) {
            sh->buf[o++] = to[at - from];
            p += 2;
            continue;
        }
        if (e != 'u' || q - p < 6)
            return -1;
        char hex[5] = {p[2], p[3], p[4], p[5], '\0'};
        char *stop;
        unsigned long u = strtoul(hex, &stop, 16);
        if (*stop || u == 0 || (u >= 0xd800 && u <= 0xdfff))
            return -1;
        o += put_utf8(sh->buf + o, (unsigned)u);
        p += 6;
    }
    *len = o;
    return 0;
}

/* Reads a string value in place, or decoded when it has escapes. */
int crisk__jpull_string(crisk__jpull *c, const char **s, size_t *len)
{
    if (crisk__jpull_peek(c) != CRISK__J_STRING)
        return -1;
    const char *p = c->p + 1, *q = p;
    while (q < c->end && *q != '"' && *q != '\\')
        q++;
    if (q < c->end && *q == '"') {
        *s = p;
        *len = (size_t)(q - p);
        c->p = q + 1;
        return 0;
    }
    const char *after = string_end(c->p, c->end);
    if (!after)
        return -1;
    int rc = unescape(c->shared, p, after - 1, len);
    if (rc)
        return rc;
    *s = c->shared->buf;
    c->p = after;
    return 0;
}

/* Reads a member's key and its ':'. */
int crisk__jpull_key(crisk__jpull *c, const char **s, size_t *len)
{
    int rc = crisk__jpull_string(c, s, len);
    if (rc)
        return rc;
    c->p = skip_ws(c->p, c->end);
    if (c->p == c->end || *c->p != ':')
        return -1;
    c->p++;
    return 0;
}

/* Powers of ten a double holds exactly. */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Returns 1 for a byte strtod could take as part of a number. */
static int in_number(char ch)
{
    return is_digit(ch) || ch == '.' || ch == 'e' || ch == 'E' || ch == '+' || ch == '-';
}

/* Reads the number at `p` when it is exact by Clinger's fast path: at most 19 digits
 * making an integer m <= 2^53, scaled by 10^e with |e| <= 22, so that one correctly
 * rounded multiply or divide of two exact doubles is the correctly rounded value strtod
 * gives. Returns the position after it, or NULL for any other number (and for text that
 * goes on with a byte of a number, which the caller leaves to strtod too). */
static inline const char *exact_number(const char *p, const char *end, double *out)
{
    int neg = p < end && *p == '-';
    uint64_t m = 0;
    long e10 = 0;
    p += neg;
    size_t ndigits = read_digits(p, end, &m), fraction = 0;
    if (ndigits == 0)
        return NULL;
    p += ndigits;
    if (p < end && *p == '.') {
        fraction = read_digits(++p, end, &m);
        p += fraction;
        ndigits += fraction;
        e10 = -(long)fraction;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = ++p < end && *p == '-';
        long e = 0;
        p += p < end && (*p == '-' || *p == '+');
        for (; p < end && is_digit(*p); p++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        e10 += eneg ? -e : e;
    }
    /* Up to 19 digits fit m whatever they are; with more (even leading zeros) m wrapped. */
    if (ndigits > 19 || (p < end && in_number(*p)) || m > ((uint64_t)1 << 53)
        || (m != 0 && (e10 < -22 || e10 > 22)))
        return NULL;
    double v = m == 0 ? 0.0 : e10 < 0 ? (double)m / exact_pow10[-e10] : (double)m * exact_pow10[e10];
    *out = neg ? -v : v;
    return p;
}

/* Reads the number at `p` by strtod under the C locale (uselocale), which rounds
 * correctly, as cJSON's strtod does under a '.' locale. Returns the position after it, or
 * NULL when strtod does not take all of its bytes. */
static const char *strtod_number(const crisk__jshared *sh, const char *p, const char *end,
                                 double *out)
{
    const char *q = p;
    while (q < end && in_number(*q))
        q++;
    char buf[MAX_NUMBER_CHARS + 1], *stop;
    size_t n = (size_t)(q - p);
    if (n > MAX_NUMBER_CHARS)
        return NULL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    locale_t old = uselocale(sh->c_locale);
    *out = strtod(buf, &stop);
    uselocale(old);
    return stop == buf + n ? q : NULL;
}

/* Reads a number: exactly by integer arithmetic when Clinger's fast path holds (most
 * numbers of a model or a fitted schema), else by strtod. */
int crisk__jpull_number(crisk__jpull *c, double *out)
{
    if (crisk__jpull_peek(c) != CRISK__J_NUMBER)
        return -1;
    const char *q = exact_number(c->p, c->end, out);
    if (!q && !(q = strtod_number(c->shared, c->p, c->end, out)))
        return -1;
    c->p = q;
    return 0;
}

/* Reads the run of numbers at the cursor, inside an array, into `out`. */
size_t crisk__jpull_numbers(crisk__jpull *c, double *out, size_t cap)
{
    const char *p = c->p, *end = c->end;
    size_t n = 0;
    while (n < cap) {
        const char *q = skip_ws(p, end);
        if (q < end && *q == ',')
            q = skip_ws(q + 1, end);
        if (q == end || !(*q == '-' || is_digit(*q)))
            break;
        const char *after = exact_number(q, end, &out[n]);
        if (!after && !(after = strtod_number(c->shared, q, end, &out[n])))
            break;
        n++;
        p = after;
    }
    c->p = p;
    return n;
}

/* Moves past an object member's key and its ':' without decoding the key. Returns 0, or
 * -1 when there is none. */
static int skip_key(crisk__jpull *c)
{
    if (crisk__jpull_peek(c) != CRISK__J_STRING || crisk__jpull_skip(c))
        return -1;
    c->p = skip_ws(c->p, c->end);
    if (c->p == c->end || *c->p != ':')
        return -1;
    c->p++;
    return 0;
}

/* Counts a container's items. */
size_t crisk__jpull_count(const crisk__jpull *c)
{
    crisk__jpull it = *c;
    int object = crisk__jpull_peek(&it) == CRISK__J_OBJECT;
    const crisk__jspan *known = indexed(it.shared, it.p);
    if (known)
        return known->count;
    size_t n = 0;
    if (crisk__jpull_enter(&it))
        return 0;
    while (crisk__jpull_more(&it) && (!object || skip_key(&it) == 0)
           && crisk__jpull_skip(&it) == 0)
        n++;
    return n;
}

/* Finds an object's first member of a name; a key that does not decode matches none. */
int crisk__jpull_member(const crisk__jpull *obj, const char *name, crisk__jpull *out)
{
    crisk__jpull it = *obj;
    const char *key;
    size_t len, n = strlen(name);
    if (crisk__jpull_peek(&it) != CRISK__J_OBJECT || crisk__jpull_enter(&it))
        return 0;
    while (crisk__jpull_more(&it)) {
        crisk__jpull at = it;
        int rc = crisk__jpull_key(&it, &key, &len);
        if (rc == CRISK_E_NOMEM)
            return 0;
        if (rc) {
            it = at;
            if (skip_key(&it))
                return 0;
        } else if (len == n && memcmp(key, name, n) == 0) {
            *out = it;
            return 1;
        }
        if (crisk__jpull_skip(&it))
            return 0;
    }
    return 0;
}
