/*
 * common/jsonpull.h — reading JSON text in place, value by value, without building a tree: for
 * the fitted section of a schema (docs/schema.md) and the trees of an XGBoost model
 * (import/xgboost_split.c), where a cJSON tree of millions of nodes (one malloc each,
 * strtod under a locale for every number) cost more than everything done with it.
 * Internal to the library.
 *
 * crisk__json_check_text first checks a whole document against a strict subset of JSON
 * that cJSON reads the same way (see there); the cursor functions then assume text of
 * that kind (or text cJSON printed), yet never read outside it whatever it holds.
 */
#ifndef CRISK_JSONPULL_H
#define CRISK_JSONPULL_H

#include <locale.h>
#include <stddef.h>

typedef enum crisk__jtype {
    CRISK__J_BAD = 0, /* not a value: the end of the text or a stray character */
    CRISK__J_NULL,
    CRISK__J_FALSE,
    CRISK__J_TRUE,
    CRISK__J_NUMBER,
    CRISK__J_STRING,
    CRISK__J_ARRAY,
    CRISK__J_OBJECT
} crisk__jtype;

/* A container of checked text: where it starts and ends, and how many items it has. */
typedef struct crisk__jspan {
    const char *start, *end;
    size_t count;
} crisk__jspan;

/* The containers nested at most `depth` deep (1: the document's own) of a checked text,
 * in order of their start, at most `max` of them (later ones are not recorded): skipping
 * or counting a recorded one takes a binary search instead of a scan of its text. */
typedef struct crisk__jindex {
    crisk__jspan *spans;
    size_t n, cap, max, depth;
} crisk__jindex;

/* What the cursors over one text share: room for a string with escapes (the text's own
 * bytes are used where a string has none), the C locale for strtod, and the index of the
 * text's containers (NULL: none). */
typedef struct crisk__jshared {
    char *buf;
    size_t cap;
    locale_t c_locale;
    const crisk__jindex *index;
} crisk__jshared;

/* A position in the text; copies of a cursor read on independently. */
typedef struct crisk__jpull {
    const char *p, *end;
    crisk__jshared *shared;
} crisk__jpull;

/* Returns 1 when the `len` bytes at `text` are one JSON value (and white space) of the
 * subset read here: containers nested at most `max_depth` deep, white space of space,
 * tab, CR and LF only, strings of bytes >= 0x20 with valid escapes (UTF-16 surrogates in
 * pairs only, as cJSON takes them), numbers of the JSON
 * grammar of at most 63 characters (all of which cJSON parses whole), and nothing before
 * or after the value. Returns 0 for anything else, with no message: the caller then
 * leaves the document to cJSON, whose errors say where it is wrong. Not recursive. With
 * `index` (its `max` and `depth` set, no spans yet), records the containers it asks for
 * (as many as memory allows); the caller frees index->spans. */
int crisk__json_check_text(const char *text, size_t len, size_t max_depth,
                           crisk__jindex *index);

/* Makes `c` a cursor at the start of the `len` bytes at `text`, with `shared` (whose
 * locale must be set by the caller, and its buffer empty). */
void crisk__jpull_init(crisk__jpull *c, const char *text, size_t len, crisk__jshared *shared);

/* Skips white space and returns the type of the value at the cursor (not consuming it). */
crisk__jtype crisk__jpull_peek(crisk__jpull *c);

/* Returns a phrase naming type `t` ("a string", "an array", ...), for messages. */
const char *crisk__jtype_name(crisk__jtype t);

/* Moves past the value at the cursor (containers whole, iteratively). Returns 0, or -1
 * when the text ends inside it. */
int crisk__jpull_skip(crisk__jpull *c);

/* Moves into the array or object at the cursor. Returns 0, or -1 when there is none. */
int crisk__jpull_enter(crisk__jpull *c);

/* After crisk__jpull_enter or an item: returns 1 when another item follows (moving to it),
 * or 0 at the end of the container (moving past it) or of the text. */
int crisk__jpull_more(crisk__jpull *c);

/* Reads the string at the cursor: stores its bytes (escapes decoded; not NUL-terminated,
 * valid until the next string read through the same shared state) in `*s` and its length
 * in `*len`. Returns 0, -1 when there is no string, or CRISK_E_NOMEM. */
int crisk__jpull_string(crisk__jpull *c, const char **s, size_t *len);

/* Reads an object member's key and the ':' after it, as crisk__jpull_string. */
int crisk__jpull_key(crisk__jpull *c, const char **s, size_t *len);

/* Reads the number at the cursor into `*out`, exactly as strtod would (under the C
 * locale, `shared`'s c_locale, needed only for the numbers beyond Clinger's fast path).
 * Returns 0, or -1 when there is no number. */
int crisk__jpull_number(crisk__jpull *c, double *out);

/* Inside an array (after crisk__jpull_enter or an item), reads the numbers that follow,
 * at most `cap` of them, into `out`, each exactly as crisk__jpull_number would; stops
 * before anything else (another kind of item, the end of the array). Returns how many it
 * read. For arrays of numbers, at a fraction of an item-by-item read's calls. */
size_t crisk__jpull_numbers(crisk__jpull *c, double *out, size_t cap);

/* Counts the items of the array or object at the cursor (not moving it). */
size_t crisk__jpull_count(const crisk__jpull *c);

/* Finds member `name` of the object at the cursor `obj` (the first, when given twice, as
 * cJSON does) and stores a cursor at its value in `*out`. Returns 1 when found, else 0. */
int crisk__jpull_member(const crisk__jpull *obj, const char *name, crisk__jpull *out);

#endif /* CRISK_JSONPULL_H */
