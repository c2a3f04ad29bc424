/*
 * import/ubjson.c — decoding a UBJSON document, as XGBoost 1.6 to 3.x writes it (`.ubj`), into a
 * cJSON tree that the XGBoost importer reads exactly as it reads the JSON model.
 *
 * The format (ubjson.org, draft 12): a value is a one-byte marker and a big-endian payload.
 *   Z null, T true, F false, N no-op (skipped), i int8, U uint8, I int16, l int32, L int64,
 *   d float32, D float64, H high-precision number (a length and decimal text), C char,
 *   S string (a length, itself an integer value, then the bytes), [ ] arrays, { } objects
 *   (keys are a length and bytes, with no S marker). A container may be "optimized":
 *   `$` and an element marker (a typed container, whose elements carry no marker), then
 *   `#` and a count, and then no closing marker; or `#` and a count alone.
 *
 * Decisions worth knowing:
 *   - No recursion: open containers live on an explicit stack, at most
 *     CRISK__UBJSON_MAX_NESTING deep (a tree model needs 6 levels).
 *   - Every length and count is checked against the bytes that remain before anything is
 *     allocated, so that a document of n bytes makes at most O(n) cJSON nodes; typed
 *     containers of T, F, Z or N (elements of zero bytes) are therefore refused.
 *   - int64 values become cJSON's double: beyond 2^53 they are rounded to the nearest
 *     double (XGBoost's models only hold small integers there).
 *   - float32 values become the double of exactly the same value.
 *   - H becomes a number when its whole text parses as one (strtod), a string otherwise.
 *   - Strings holding a NUL byte are refused: cJSON strings are NUL-terminated.
 */
#include "common/error.h"
#include "common/grow.h"
#include "import/import.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Containers nested deeper than this are refused with CRISK_E_LIMIT. */
#define CRISK__UBJSON_MAX_NESTING 1000

/* Where an object sits on the way to a gbtree or dart model's trees array. */
enum { ROLE_OTHER, ROLE_ROOT, ROLE_LEARNER, ROLE_BOOSTER, ROLE_GBTREE_MODEL, ROLE_DART,
       ROLE_DART_MODEL,
       ROLE_PARAM_TREES, /* a trees array read for the node counts: each tree ... */
       ROLE_PARAM_TREE   /* ... keeps only its tree_param members */
};

/* One open container. */
typedef struct ubj_frame {
    cJSON *node;        /* the array or object being filled; NULL: read, not kept */
    int64_t left;       /* entries still to read when counted, -1 until the closing marker */
    unsigned char type; /* the element marker of a typed container, 0 otherwise */
    unsigned char is_object;
    unsigned char role; /* ROLE_* */
    unsigned char slot; /* 1 + the trees slot whose span this array is, or 0 */
} ubj_frame;

/* The decoder's state: the input, the position, and buffers reused across values. */
typedef struct ubj_reader {
    const unsigned char *data;
    size_t size;
    size_t pos;
    const crisk_load_limits *limits;
    crisk_error *err;
    char *text;         /* a NUL-terminated copy of the last key or string read */
    size_t text_cap;
    ubj_frame *stack;
    size_t depth;
    size_t stack_cap;
    int split;          /* leave the trees arrays out of the tree, recording their spans */
    size_t span[2][2];  /* the trees of learner.gradient_booster.model, .gbtree.model */
    int found[2];
} ubj_reader;

/* Returns the bytes not read yet. */
static size_t remaining(const ubj_reader *r)
{
    return r->size - r->pos;
}

/* Fails with CRISK_E_FORMAT saying that `what` was expected at `at` and the document ended
 * before it. */
static int fail_truncated(ubj_reader *r, size_t at, const char *what)
{
    return crisk__fail(r->err, CRISK_E_FORMAT,
                       "UBJSON truncated at byte offset %zu: expected %s, but the document "
                       "ends (%zu bytes)", at, what, r->size);
}

/* Reads `n` bytes, storing a pointer to them in `*out`; fails naming `what` when fewer
 * remain. */
static int take(ubj_reader *r, size_t n, const char *what, const unsigned char **out)
{
    if (remaining(r) < n)
        return fail_truncated(r, r->pos, what);
    *out = r->data + r->pos;
    r->pos += n;
    return 0;
}

/* Returns 1 when byte `c` is one of the markers in `set`. */
static int one_of(const char *set, unsigned char c)
{
    return c != 0 && strchr(set, c) != NULL;
}

/* Returns the big-endian unsigned integer of `n` (at most 8) bytes at `b`. */
static uint64_t load_be(const unsigned char *b, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | b[i];
    return v;
}

/* Returns the payload size of a fixed-size numeric or char marker, or 0 for any other. */
static size_t fixed_size(unsigned char marker)
{
    switch (marker) {
    case 'i': case 'U': case 'C':
        return 1;
    case 'I':
        return 2;
    case 'l': case 'd':
        return 4;
    case 'L': case 'D':
        return 8;
    default:
        return 0;
    }
}

/* Reads the integer payload of `marker` (i U I l L) and stores it in `*out`; fails when
 * the marker is not an integer one, naming `what` the integer was for. */
static int read_int_payload(ubj_reader *r, unsigned char marker, const char *what,
                            int64_t *out)
{
    size_t at = r->pos - 1;
    const unsigned char *b = NULL;
    size_t n = fixed_size(marker);
    if (n == 0 || marker == 'C' || marker == 'd' || marker == 'D')
        return crisk__fail(r->err, CRISK_E_FORMAT,
                           "UBJSON byte offset %zu: expected an integer marker (i, U, I, l "
                           "or L) for %s, found 0x%02x", at, what, marker);
    int rc = take(r, n, what, &b);
    if (rc)
        return rc;
    uint64_t u = load_be(b, n);
    switch (marker) {
    case 'i': *out = (int8_t)u; break;
    case 'U': *out = (int64_t)u; break;
    case 'I': *out = (int16_t)u; break;
    case 'l': *out = (int32_t)u; break;
    default:  *out = (int64_t)u; break;
    }
    return 0;
}

/* Reads a length (an integer marker and its payload) for `what`, checks that it is not
 * negative and that `length * unit` bytes remain, and stores it in `*out`. */
static int read_length(ubj_reader *r, const char *what, size_t unit, size_t *out)
{
    size_t at = r->pos;
    const unsigned char *m = NULL;
    int64_t v = 0;
    int rc = take(r, 1, what, &m);
    if (rc == 0)
        rc = read_int_payload(r, m[0], what, &v);
    if (rc)
        return rc;
    if (v < 0)
        return crisk__fail(r->err, CRISK_E_FORMAT,
                           "UBJSON byte offset %zu: %s is negative (%lld)", at, what,
                           (long long)v);
    if ((uint64_t)v > r->limits->max_file_bytes)
        return crisk__fail(r->err, CRISK_E_LIMIT,
                           "UBJSON byte offset %zu: %s (%lld) is more than the limit "
                           "max_file_bytes = %zu", at, what, (long long)v,
                           r->limits->max_file_bytes);
    if ((uint64_t)v > remaining(r) / unit)
        return crisk__fail(r->err, CRISK_E_FORMAT,
                           "UBJSON byte offset %zu: %s (%lld) needs at least %llu bytes, but "
                           "only %zu remain", at, what, (long long)v,
                           (unsigned long long)v * unit, remaining(r));
    *out = (size_t)v;
    return 0;
}

/* Reads a length and that many bytes (a key, a string, a high-precision number) into
 * r->text as a NUL-terminated string; `noun` names the text and `length` its length in
 * errors. */
static int read_text(ubj_reader *r, const char *noun, const char *length)
{
    size_t at = r->pos;
    size_t n = 0;
    const unsigned char *b = NULL;
    int rc = read_length(r, length, 1, &n);
    if (rc == 0)
        rc = take(r, n, noun, &b);
    if (rc)
        return rc;
    if (memchr(b, 0, n))
        return crisk__fail(r->err, CRISK_E_FORMAT,
                           "UBJSON byte offset %zu: %s holds a NUL byte", at, noun);
    if (n + 1 > r->text_cap) {
        char *grown = realloc(r->text, n + 1);
        if (!grown)
            return crisk__fail(r->err, CRISK_E_NOMEM,
                               "out of memory for %s of %zu bytes", noun, n);
        r->text = grown;
        r->text_cap = n + 1;
    }
    memcpy(r->text, b, n);
    r->text[n] = '\0';
    return 0;
}

/* Makes the cJSON node of a high-precision number in r->text: a number when the whole
 * text parses as one, the text as a string otherwise. */
static cJSON *high_precision(const ubj_reader *r)
{
    char *end = NULL;
    double v = strtod(r->text, &end);
    if (r->text[0] != '\0' && end && *end == '\0')
        return cJSON_CreateNumber(v);
    return cJSON_CreateString(r->text);
}

/* Returns the double that the fixed-size numeric payload of `marker` at `b` holds. */
static double number_payload(unsigned char marker, const unsigned char *b)
{
    uint64_t u = load_be(b, fixed_size(marker));
    switch (marker) {
    case 'i': return (int8_t)u;
    case 'U': return (double)u;
    case 'I': return (int16_t)u;
    case 'l': return (int32_t)u;
    case 'L': return (double)(int64_t)u;
    case 'd': {
        uint32_t bits = (uint32_t)u;
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    default: {
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    }
}

/* Decodes the scalar value of `marker` (its payload follows at r->pos; `at` is where the
 * value began) into a new cJSON node in `*out`, or with `keep` 0 only checks it and moves
 * past it (no node: skipping makes no allocation). Container markers are not scalars and
 * are handled by the caller. */
static int read_scalar(ubj_reader *r, unsigned char marker, size_t at, int keep, cJSON **out)
{
    int rc = 0;
    const unsigned char *b = NULL;
    switch (marker) {
    case 'Z': *out = keep ? cJSON_CreateNull() : NULL; break;
    case 'T': *out = keep ? cJSON_CreateTrue() : NULL; break;
    case 'F': *out = keep ? cJSON_CreateFalse() : NULL; break;
    case 'i': case 'U': case 'I': case 'l': case 'L': case 'd': case 'D':
        rc = take(r, fixed_size(marker), "a number's payload", &b);
        if (rc == 0 && keep)
            *out = cJSON_CreateNumber(number_payload(marker, b));
        break;
    case 'C':
        rc = take(r, 1, "a char", &b);
        if (rc == 0 && b[0] == 0)
            rc = crisk__fail(r->err, CRISK_E_FORMAT,
                             "UBJSON byte offset %zu: a char holds a NUL byte", at);
        if (rc == 0 && keep) {
            char c[2] = {(char)b[0], '\0'};
            *out = cJSON_CreateString(c);
        }
        break;
    case 'S':
        rc = read_text(r, "a string", "the length of a string");
        if (rc == 0 && keep)
            *out = cJSON_CreateString(r->text);
        break;
    case 'H':
        rc = read_text(r, "a high-precision number",
                       "the length of a high-precision number");
        if (rc == 0 && keep)
            *out = high_precision(r);
        break;
    default:
        return crisk__fail(r->err, CRISK_E_FORMAT,
                           "UBJSON byte offset %zu: expected a value marker (Z T F i U I l L "
                           "d D H C S [ {), found 0x%02x", at, marker);
    }
    if (rc)
        return rc;
    if (keep && !*out)
        return crisk__fail(r->err, CRISK_E_NOMEM, "out of memory decoding UBJSON at byte "
                           "offset %zu", at);
    return 0;
}

/* Returns the fewest bytes one element of type `type` (0: untyped) can take. */
static size_t min_element_bytes(unsigned char type)
{
    if (type == 0)
        return 1;                       /* a marker */
    if (type == 'S' || type == 'H')
        return 2;                       /* a length marker and a length */
    return fixed_size(type);
}

/* Opens the container of `marker` ('[' or '{', already read): reads its optional `$` type
 * and `#` count, checks them against the bytes left, and pushes a frame for it holding
 * `node`. */
static int open_container(ubj_reader *r, unsigned char marker, cJSON *node, int role,
                          int slot)
{
    int is_object = marker == '{';
    unsigned char type = 0;
    int64_t left = -1;
    if (remaining(r) > 0 && r->data[r->pos] == '$') {
        size_t at = ++r->pos;
        const unsigned char *b = NULL;
        int rc = take(r, 1, "the element type of an optimized container", &b);
        if (rc)
            return rc;
        type = b[0];
        if (!one_of("iUIlLdDCSH", type))
            return crisk__fail(r->err, CRISK_E_FORMAT,
                               "UBJSON byte offset %zu: unsupported element type 0x%02x in an "
                               "optimized container (expected one of i U I l L d D C S H)",
                               at, type);
        if (remaining(r) == 0)
            return fail_truncated(r, r->pos, "'#' and a count after a '$' type");
        if (r->data[r->pos] != '#')
            return crisk__fail(r->err, CRISK_E_FORMAT,
                               "UBJSON byte offset %zu: expected '#' and a count after a '$' "
                               "type, found 0x%02x", r->pos, r->data[r->pos]);
    }
    if (remaining(r) > 0 && r->data[r->pos] == '#') {
        r->pos++;
        size_t count = 0;
        size_t unit = min_element_bytes(type) + (is_object ? 2 : 0);
        int rc = read_length(r, "the count of an optimized container", unit, &count);
        if (rc)
            return rc;
        left = (int64_t)count;
    }
    if (r->depth == CRISK__UBJSON_MAX_NESTING)
        return crisk__fail(r->err, CRISK_E_LIMIT,
                           "UBJSON byte offset %zu: containers nested deeper than %d levels",
                           r->pos, CRISK__UBJSON_MAX_NESTING);
    if (crisk__grow((void **)&r->stack, &r->stack_cap, r->depth + 1, sizeof *r->stack, 16))
        return crisk__fail(r->err, CRISK_E_NOMEM, "out of memory for the UBJSON stack");
    r->stack[r->depth++] = (ubj_frame){.node = node, .left = left, .type = type,
                                       .is_object = (unsigned char)is_object,
                                       .role = (unsigned char)role,
                                       .slot = (unsigned char)slot};
    return 0;
}

/* Reads one value whose marker is `marker` (read already, or a typed container's type),
 * beginning at `at`: a scalar into `*out`, or a new empty container into `*out` whose
 * frame is pushed so that the main loop fills it. */
static int read_value(ubj_reader *r, unsigned char marker, size_t at, int keep, int role,
                      int slot, cJSON **out)
{
    *out = NULL;
    if (marker != '[' && marker != '{')
        return read_scalar(r, marker, at, keep, out);
    cJSON *node = !keep ? NULL : marker == '[' ? cJSON_CreateArray() : cJSON_CreateObject();
    if (keep && !node)
        return crisk__fail(r->err, CRISK_E_NOMEM, "out of memory decoding UBJSON at byte "
                           "offset %zu", at);
    if (slot)
        r->span[slot - 1][0] = at;
    int rc = open_container(r, marker, node, role, slot);
    if (rc) {
        cJSON_Delete(node);
        return rc;
    }
    *out = node;
    return 0;
}

/* Returns the role of the value of member `key` of an object of role `parent`. */
static int child_role(int parent, const char *key)
{
    static const struct { int parent; const char *key; int child; } steps[] = {
        {ROLE_ROOT, "learner", ROLE_LEARNER},
        {ROLE_LEARNER, "gradient_booster", ROLE_BOOSTER},
        {ROLE_BOOSTER, "model", ROLE_GBTREE_MODEL},
        {ROLE_BOOSTER, "gbtree", ROLE_DART},
        {ROLE_DART, "model", ROLE_DART_MODEL},
    };
    if (parent == ROLE_PARAM_TREES)
        return ROLE_PARAM_TREE;
    for (size_t i = 0; key && i < sizeof steps / sizeof *steps; i++)
        if (steps[i].parent == parent && strcmp(steps[i].key, key) == 0)
            return steps[i].child;
    return ROLE_OTHER;
}

/* Returns 1 + the trees slot whose span the array value of member `key` of an object of
 * role `parent` is, when the reader splits and that slot is still free; else 0. */
static int trees_slot(const ubj_reader *r, int parent, const char *key, unsigned char marker)
{
    int slot = parent == ROLE_GBTREE_MODEL ? 1 : parent == ROLE_DART_MODEL ? 2 : 0;
    return r->split && slot && marker == '[' && key && strcmp(key, "trees") == 0
                   && !r->found[slot - 1] ? slot : 0;
}

/* Closes the container on top of the stack, ending its span when it records one. */
static void close_container(ubj_reader *r)
{
    ubj_frame *f = &r->stack[--r->depth];
    if (f->slot) {
        r->span[f->slot - 1][1] = r->pos;
        r->found[f->slot - 1] = 1;
    }
}

/* Moves past any no-op markers (N) at the current position. */
static void skip_noops(ubj_reader *r)
{
    while (r->pos < r->size && r->data[r->pos] == 'N')
        r->pos++;
}

/* Reads the next marker that is not a no-op (N) into `*marker`, and where it is into
 * `*at`; `what` names what was expected there in errors. */
static int next_marker(ubj_reader *r, const char *what, unsigned char *marker, size_t *at)
{
    skip_noops(r);
    if (r->pos == r->size)
        return fail_truncated(r, r->pos, what);
    *at = r->pos;
    *marker = r->data[r->pos++];
    return 0;
}

/* Reads the next entry of the container on top of the stack (an element, or a key and
 * its value) and adds it there, or closes the container when it is complete. */
static int step(ubj_reader *r)
{
    ubj_frame *f = &r->stack[r->depth - 1];
    int is_object = f->is_object;
    unsigned char close = is_object ? '}' : ']';
    if (f->left == 0) {
        close_container(r);
        return 0;
    }
    if (f->left < 0) {
        skip_noops(r);
        if (r->pos < r->size && r->data[r->pos] == close) {
            r->pos++;
            close_container(r);
            return 0;
        }
    }
    char *key = NULL;
    if (is_object) {
        if (f->left < 0 && remaining(r) == 0)
            return fail_truncated(r, r->pos, "an object key or '}'");
        if (f->left < 0 && !one_of("iUIlL", r->data[r->pos]))
            return crisk__fail(r->err, CRISK_E_FORMAT,
                               "UBJSON byte offset %zu: expected an object key (its length: "
                               "i, U, I, l or L) or '}', found 0x%02x", r->pos,
                               r->data[r->pos]);
        int rc = read_text(r, "an object key", "the length of an object key");
        if (rc)
            return rc;
        key = r->text;
    }
    /* The key lives in r->text until the value is added, and a string value reuses
     * r->text: keep the key in a copy of its own then. */
    char *key_copy = NULL;
    unsigned char marker = f->type;
    size_t at = r->pos;
    int rc = 0;
    if (marker == 0)
        rc = next_marker(r, f->left < 0 ? (is_object ? "a value" : "a value or ']'")
                                        : "a value", &marker, &at);
    if (rc == 0 && key && (marker == 'S' || marker == 'H')) {
        key_copy = strdup(key);
        if (!key_copy)
            rc = crisk__fail(r->err, CRISK_E_NOMEM, "out of memory decoding UBJSON");
        key = key_copy;
    }
    if (f->left > 0)
        f->left--;
    cJSON *parent = f->node; /* `f` may move when read_value grows the stack */
    int role = child_role(f->role, key), slot = trees_slot(r, f->role, key, marker);
    int keep = parent && !slot
               && (f->role != ROLE_PARAM_TREE || (key && strcmp(key, "tree_param") == 0));
    cJSON *value = NULL;
    if (rc == 0)
        rc = read_value(r, marker, at, keep, role, slot, &value);
    /* A trees array left out stands in the tree as an empty array. */
    if (rc == 0 && parent && slot && !(value = cJSON_CreateArray()))
        rc = crisk__fail(r->err, CRISK_E_NOMEM, "out of memory decoding UBJSON");
    if (rc == 0 && (keep || (parent && slot))) {
        cJSON_bool added = key ? cJSON_AddItemToObject(parent, key, value)
                               : cJSON_AddItemToArray(parent, value);
        if (!added) {
            cJSON_Delete(value);
            rc = crisk__fail(r->err, CRISK_E_NOMEM, "out of memory decoding UBJSON at "
                             "byte offset %zu", at);
            /* A pushed frame for `value` must not outlive it. */
            if (r->depth > 0 && r->stack[r->depth - 1].node == value)
                r->depth--;
        }
    }
    free(key_copy);
    return rc;
}

/* Decodes the document of `r` (whose `split` is set) into `*out`. */
static int decode(ubj_reader *r, cJSON **out)
{
    unsigned char marker = 0;
    size_t at = 0;
    cJSON *root = NULL;
    *out = NULL;
    if (r->size > r->limits->max_file_bytes)
        return crisk__fail(r->err, CRISK_E_LIMIT,
                           "the UBJSON document has %zu bytes, more than the limit "
                           "max_file_bytes = %zu", r->size, r->limits->max_file_bytes);
    int rc = next_marker(r, "a value", &marker, &at);
    if (rc == 0)
        rc = read_value(r, marker, at, 1, ROLE_ROOT, 0, &root);
    while (rc == 0 && r->depth > 0)
        rc = step(r);
    if (rc == 0)
        skip_noops(r);
    if (rc == 0 && r->pos < r->size)
        rc = crisk__fail(r->err, CRISK_E_FORMAT,
                         "UBJSON byte offset %zu: expected the end of the document after "
                         "its value, found 0x%02x", r->pos, r->data[r->pos]);
    free(r->text);
    free(r->stack);
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return 0;
}

int crisk__ubjson_parse(const unsigned char *data, size_t size, const crisk_load_limits *limits,
                        cJSON **out, crisk_error *err)
{
    ubj_reader r = {.data = data, .size = size, .limits = limits, .err = err};
    return decode(&r, out);
}

/* Returns the string member `key` of object `obj`, or "". */
static const char *string_member(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

int crisk__ubjson_split(const unsigned char *data, size_t size, const crisk_load_limits *limits,
                        cJSON **out, crisk__tree_source *src, crisk_error *err)
{
    ubj_reader r = {.data = data, .size = size, .limits = limits, .err = err, .split = 1};
    memset(src, 0, sizeof *src);
    int rc = decode(&r, out);
    if (rc)
        return rc;
    const cJSON *booster = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(*out, "learner"), "gradient_booster");
    const char *name = string_member(booster, "name");
    int slot = strcmp(name, "gbtree") == 0 ? 0 : strcmp(name, "dart") == 0 ? 1 : -1;
    if (slot >= 0 && r.found[slot]) {
        src->ubjson = data + r.span[slot][0];
        src->len = r.span[slot][1] - r.span[slot][0];
        src->limits = limits;
    }
    return 0;
}

/* ---- a trees array, one element at a time ----------------------------------------- */

int crisk__ubjson_items_open(const unsigned char *data, size_t size,
                             const crisk_load_limits *limits, crisk__ubjson_items *it,
                             crisk_error *err)
{
    ubj_reader r = {.data = data, .size = size, .limits = limits, .err = err};
    memset(it, 0, sizeof *it);
    it->data = data;
    it->size = size;
    it->limits = limits;
    unsigned char marker = 0;
    size_t at = 0;
    int rc = next_marker(&r, "an array", &marker, &at);
    if (rc == 0 && marker != '[')
        rc = crisk__fail(err, CRISK_E_FORMAT, "UBJSON byte offset %zu: expected an array", at);
    if (rc == 0)
        rc = open_container(&r, marker, NULL, ROLE_OTHER, 0);
    if (rc == 0) {
        it->pos = r.pos;
        it->left = r.stack[0].left;
        it->type = r.stack[0].type;
    }
    free(r.text);
    free(r.stack);
    return rc;
}

int crisk__ubjson_items_next(crisk__ubjson_items *it, int keep, cJSON **out, int *more,
                             crisk_error *err)
{
    ubj_reader r = {.data = it->data, .size = it->size, .pos = it->pos, .limits = it->limits,
                    .err = err};
    int role = keep == CRISK__UBJSON_KEEP_PARAMS ? ROLE_PARAM_TREES : ROLE_OTHER;
    cJSON *holder = keep ? cJSON_CreateArray() : NULL;
    *out = NULL;
    *more = 0;
    int rc = 0;
    if ((keep && !holder) || crisk__grow((void **)&r.stack, &r.stack_cap, 1, sizeof *r.stack, 16))
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory decoding UBJSON");
    if (rc == 0) {
        /* The array's own frame, so that step() reads exactly one element of it. */
        r.stack[r.depth++] = (ubj_frame){.node = holder, .left = it->left, .type = it->type,
                                         .role = (unsigned char)role};
        rc = step(&r);
    }
    while (rc == 0 && r.depth > 1)
        rc = step(&r);
    if (rc == 0) {
        *more = r.depth == 1;
        it->pos = r.pos;
        it->left = r.stack[0].left;
        if (holder && holder->child)
            *out = cJSON_DetachItemViaPointer(holder, holder->child);
    }
    cJSON_Delete(holder);
    free(r.text);
    free(r.stack);
    return rc;
}
