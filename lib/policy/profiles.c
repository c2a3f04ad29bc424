/*
 * policy/profiles.c — risk-profile rule files: parse and validate them against the names a
 * declaration offers, compile each condition into a flat array of nodes in prefix order,
 * and evaluate those arrays with a fixed-size stack (no recursion on the input's depth).
 */
#include "policy/profiles.h"

#include "common/canon.h"
#include "common/date.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/jsonfile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A sorted set of byte strings, for "in"/"equals" on text, watch lists and HS prefixes. */
typedef struct strset {
    char **items;
    size_t *lens;
    size_t count;
    size_t max_len;
} strset;

/* A sorted set of numbers, for "in"/"equals" on numbers and dates. */
typedef struct numset {
    double *items;
    size_t count;
} numset;

/* The kinds of condition node. Composite nodes are followed by their children. */
typedef enum node_kind {
    NODE_ALL,
    NODE_ANY,
    NODE_NOT,
    NODE_IN_TEXT,      /* text field value in a strset (equals, in, watchlist) */
    NODE_IN_NUMBER,    /* number or date field value in a numset (equals, in) */
    NODE_HS_PREFIX,    /* HS code starts with one of a strset's prefixes */
    NODE_RANGE_FIELD,  /* number or date field within [lo, hi] */
    NODE_RANGE_FEATURE,/* feature within [lo, hi] */
    NODE_BAND          /* band position below and/or above */
} node_kind;

/* Band sides a NODE_BAND accepts, as bits. */
enum { SIDE_BELOW = 1, SIDE_ABOVE = 2 };

/* One node of a compiled condition. */
typedef struct node {
    node_kind kind;
    unsigned sides;    /* NODE_BAND */
    size_t end;        /* index one past this node's subtree */
    size_t index;      /* field, feature or band */
    size_t set;        /* strset or numset index */
    double lo, hi;     /* ranges; open ends are infinite */
} node;

/* One rule. */
typedef struct rule {
    char *id;
    char *description;
    size_t lane;
    int mandatory;
    int64_t from, to;  /* active range, inclusive */
    size_t root;       /* its condition's first node */
} rule;

struct crisk__profiles {
    rule *rules;
    size_t num_rules;
    node *nodes;
    size_t num_nodes, cap_nodes;
    strset *strsets;   /* watch lists first (num_watchlists of them), then rule values */
    size_t num_strsets, cap_strsets;
    char **watchlist_names;
    size_t num_watchlists;
    numset *numsets;
    size_t num_numsets, cap_numsets;
};

/* ---- small helpers ---------------------------------------------------------------- */

/* Orders two byte strings (memcmp order, shorter first on a common prefix). */
static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return (alen > blen) - (alen < blen);
}

/* Returns 1 if `set` holds the `len` bytes at `s`, by binary search. */
static int strset_has(const strset *set, const char *s, size_t len)
{
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_bytes(set->items[mid], set->lens[mid], s, len);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Returns 1 if `set` holds `v`, by binary search. */
static int numset_has(const numset *set, double v)
{
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->items[mid] == v)
            return 1;
        if (set->items[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Orders strset entries for qsort: an index pair into a shared strset. */
typedef struct str_entry {
    char *s;
    size_t len;
} str_entry;

/* Compares two str_entry for qsort. */
static int cmp_entries(const void *a, const void *b)
{
    const str_entry *x = a, *y = b;
    return cmp_bytes(x->s, x->len, y->s, y->len);
}

/* Compares two doubles for qsort. */
static int cmp_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Frees the strings of a strset and its arrays. */
static void strset_free(strset *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->items[i]);
    free(set->items);
    free(set->lens);
}

/* ---- parsing ---------------------------------------------------------------------- */

/* What parsing one rule needs: the rule set being built, the names, the rule's label
 * for messages ("rules[3] (P-007)") and the condition path of the node being parsed. */
typedef struct parse_ctx {
    crisk__profiles *p;
    const crisk__profile_names *names;
    char label[160];
    char path[256];
    crisk_error *err;
} parse_ctx;

/* Fails with `code`, the rule's label and the current condition path before the
 * formatted reason. */
static int rule_fail(parse_ctx *c, int code, const char *reason)
{
    if (c->path[0])
        return crisk__fail(c->err, code, "%s: %s: %s", c->label, c->path, reason);
    return crisk__fail(c->err, code, "%s: %s", c->label, reason);
}

/* Refuses, in object `obj` (named `where` within the current rule and condition), a key
 * not in the NULL-terminated `allowed` list or a key given twice. */
static int check_keys(const cJSON *obj, const char *const *allowed, const char *where,
                      parse_ctx *c)
{
    char place[480];
    if (c->path[0])
        snprintf(place, sizeof place, "%s: %s: %s", c->label, c->path, where);
    else
        snprintf(place, sizeof place, "%s: %s", c->label, where);
    return crisk__json_check_keys(obj, allowed, place, c->err);
}

/* Writes the canonical form of `text` (an HS code of at least `hs_min` digits when
 * `hs_min` > 0, else an identifier or code) to `e->s` (room for its length + 13 bytes),
 * as batches store declarations' values, so that a profile matches every spelling of
 * what it names. Returns 0, or CRISK_E_FORMAT naming `item`. */
static int canon_value(parse_ctx *c, const char *item, const char *text, size_t hs_min,
                       str_entry *e)
{
    char why[CRISK__CANON_WHY_BYTES], msg[320];
    int bad = hs_min ? crisk__canon_hs(text, strlen(text), hs_min, e->s, &e->len, why)
                     : crisk__canon_code(text, strlen(text), e->s, &e->len, why);
    if (!bad && e->len == 0)
        snprintf(why, sizeof why, "is blank");
    if (bad || e->len == 0) {
        snprintf(msg, sizeof msg, "%s: \"%.40s\" %s", item, text, why);
        return rule_fail(c, CRISK_E_FORMAT, msg);
    }
    e->s[e->len] = '\0';
    return 0;
}

/* Appends a strset built from the JSON strings `values` (one string when `values` is a
 * string itself) to the rule set and stores its index in `*index`. HS code values are
 * normalised, and must have at least `hs_min` digits, when `hs_min` > 0. */
static int add_strset(parse_ctx *c, const cJSON *values, size_t hs_min, const char *key,
                      size_t *index)
{
    crisk__profiles *p = c->p;
    char msg[320];
    size_t n = cJSON_IsArray(values) ? (size_t)cJSON_GetArraySize(values) : 1;
    if (crisk__grow((void **)&p->strsets, &p->cap_strsets, p->num_strsets + 1, sizeof(strset), 16))
        return rule_fail(c, CRISK_E_NOMEM, "out of memory");
    str_entry *e = calloc(n ? n : 1, sizeof *e);
    if (!e)
        return rule_fail(c, CRISK_E_NOMEM, "out of memory");
    size_t count = 0;
    int rc = 0;
    const cJSON *v = cJSON_IsArray(values) ? values->child : values;
    for (size_t i = 0; i < n && rc == 0; i++, v = v->next) {
        const char *text = cJSON_IsString(v) ? v->valuestring : NULL;
        char item[64];
        snprintf(item, sizeof item, cJSON_IsArray(values) ? "%s[%zu]" : "%s", key, i);
        if (!text) {
            snprintf(msg, sizeof msg, "%s: expected a string", item);
            rc = rule_fail(c, CRISK_E_FORMAT, msg);
        } else if ((e[count].s = malloc(strlen(text) + 13)) == NULL) {
            rc = rule_fail(c, CRISK_E_NOMEM, "out of memory");
        } else if ((rc = canon_value(c, item, text, hs_min, &e[count])) == 0) {
            count++;
        } else {
            free(e[count].s);
        }
        if (!cJSON_IsArray(values))
            break;
    }
    strset s = {NULL, NULL, 0, 0};
    if (rc == 0) {
        qsort(e, count, sizeof *e, cmp_entries);
        s.items = malloc((count ? count : 1) * sizeof *s.items);
        s.lens = malloc((count ? count : 1) * sizeof *s.lens);
        if (!s.items || !s.lens)
            rc = rule_fail(c, CRISK_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        /* Duplicates are harmless: keep one of each. */
        if (rc || (s.count && cmp_bytes(s.items[s.count - 1], s.lens[s.count - 1], e[i].s,
                                        e[i].len) == 0)) {
            free(e[i].s);
            continue;
        }
        s.items[s.count] = e[i].s;
        s.lens[s.count] = e[i].len;
        if (e[i].len > s.max_len)
            s.max_len = e[i].len;
        s.count++;
    }
    free(e);
    if (rc) {
        strset_free(&s);
        return rc;
    }
    p->strsets[p->num_strsets] = s;
    *index = p->num_strsets++;
    return 0;
}

/* Reads a value of a number or date field for "equals"/"in"/"range" into `*out`: a JSON
 * number for NUMBER fields, a "YYYY-MM-DD" string for DATE fields. */
static int field_value(parse_ctx *c, const cJSON *v, crisk_field_type type, const char *key,
                       double *out)
{
    char msg[320];
    if (type == CRISK_FIELD_DATE) {
        int64_t days;
        if (!cJSON_IsString(v) ||
            crisk__parse_iso_date(v->valuestring, strlen(v->valuestring), &days)) {
            snprintf(msg, sizeof msg, "%s: expected a date \"YYYY-MM-DD\" for a date field",
                     key);
            return rule_fail(c, CRISK_E_FORMAT, msg);
        }
        *out = (double)days;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        snprintf(msg, sizeof msg, "%s: expected a finite number", key);
        return rule_fail(c, CRISK_E_FORMAT, msg);
    }
    *out = v->valuedouble;
    return 0;
}

/* Appends a numset of the values of `values` (an array, or one value) for a NUMBER or
 * DATE field and stores its index in `*index`. */
static int add_numset(parse_ctx *c, const cJSON *values, crisk_field_type type,
                      const char *key, size_t *index)
{
    crisk__profiles *p = c->p;
    size_t n = cJSON_IsArray(values) ? (size_t)cJSON_GetArraySize(values) : 1;
    if (crisk__grow((void **)&p->numsets, &p->cap_numsets, p->num_numsets + 1, sizeof(numset), 16))
        return rule_fail(c, CRISK_E_NOMEM, "out of memory");
    numset s = {malloc((n ? n : 1) * sizeof(double)), n};
    if (!s.items)
        return rule_fail(c, CRISK_E_NOMEM, "out of memory");
    const cJSON *v = cJSON_IsArray(values) ? values->child : values;
    for (size_t i = 0; i < n; i++, v = v->next) {
        char item[64];
        snprintf(item, sizeof item, cJSON_IsArray(values) ? "%s[%zu]" : "%s", key, i);
        int rc = field_value(c, v, type, item, &s.items[i]);
        if (rc) {
            free(s.items);
            return rc;
        }
    }
    qsort(s.items, n, sizeof(double), cmp_doubles);
    p->numsets[p->num_numsets] = s;
    *index = p->num_numsets++;
    return 0;
}

/* Returns the name of a field type for messages. */
static const char *type_name(crisk_field_type t)
{
    switch (t) {
    case CRISK_FIELD_STRING:
        return "string";
    case CRISK_FIELD_NUMBER:
        return "number";
    case CRISK_FIELD_DATE:
        return "date";
    case CRISK_FIELD_HS_CODE:
        return "hs_code";
    }
    return "unknown";
}

/* Parses a leaf on a field or feature: {"field"|"feature": X, OP: V}, filling `n`. */
static int parse_value_leaf(parse_ctx *c, const cJSON *obj, node *n)
{
    static const char *const ops[] = {"equals", "in", "hs_prefix", "range", "watchlist",
                                      NULL};
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(obj, "field");
    const cJSON *feature = cJSON_GetObjectItemCaseSensitive(obj, "feature");
    const cJSON *subject = field ? field : feature;
    char msg[320];
    if (field && feature)
        return rule_fail(c, CRISK_E_FORMAT, "give \"field\" or \"feature\", not both");
    if (!subject)
        return rule_fail(c, CRISK_E_FORMAT, "a condition needs one of all, any, not, field, "
                         "feature or band");
    if (!cJSON_IsString(subject))
        return rule_fail(c, CRISK_E_FORMAT, field ? "\"field\" must be a string"
                                                  : "\"feature\" must be a string");
    if (cJSON_GetArraySize(obj) != 2)
        return rule_fail(c, CRISK_E_FORMAT, "a field condition has exactly one operator "
                         "(equals, in, hs_prefix, range or watchlist)");
    const cJSON *op = obj->child == subject ? subject->next : obj->child;
    size_t k = 0;
    while (ops[k] && strcmp(ops[k], op->string) != 0)
        k++;
    if (!ops[k]) {
        snprintf(msg, sizeof msg, "unknown operator \"%.64s\"", op->string);
        return rule_fail(c, CRISK_E_FORMAT, msg);
    }
    const char *name = subject->valuestring;
    if (feature) {
        if (strcmp(op->string, "range") != 0)
            return rule_fail(c, CRISK_E_FORMAT, "a feature takes only \"range\"");
        long fi = c->names->feature_index(c->names->ctx, name);
        if (fi < 0) {
            snprintf(msg, sizeof msg, "unknown feature \"%.64s\"", name);
            return rule_fail(c, CRISK_E_FORMAT, msg);
        }
        n->kind = NODE_RANGE_FEATURE;
        n->index = (size_t)fi;
    } else {
        long fi = c->names->field_index(c->names->ctx, name);
        if (fi < 0) {
            snprintf(msg, sizeof msg, "unknown field \"%.64s\"", name);
            return rule_fail(c, CRISK_E_FORMAT, msg);
        }
        n->index = (size_t)fi;
    }
    crisk_field_type type = feature ? CRISK_FIELD_NUMBER
                                    : c->names->field_type(c->names->ctx, n->index);
    int text = type == CRISK_FIELD_STRING || type == CRISK_FIELD_HS_CODE;
    const char *opname = op->string;
    snprintf(msg, sizeof msg, "\"%.20s\" does not apply to %s field \"%.64s\"", opname,
             type_name(type), name);
    if (strcmp(opname, "equals") == 0 || strcmp(opname, "in") == 0) {
        int is_in = opname[0] == 'i';
        if (is_in && (!cJSON_IsArray(op) || cJSON_GetArraySize(op) == 0))
            return rule_fail(c, CRISK_E_FORMAT, "\"in\" must be a non-empty array");
        if (!is_in && cJSON_IsArray(op))
            return rule_fail(c, CRISK_E_FORMAT, "\"equals\" takes one value; use \"in\"");
        n->kind = text ? NODE_IN_TEXT : NODE_IN_NUMBER;
        return text ? add_strset(c, op, type == CRISK_FIELD_HS_CODE ? 2 : 0, opname, &n->set)
                    : add_numset(c, op, type, opname, &n->set);
    }
    if (strcmp(opname, "hs_prefix") == 0) {
        if (type != CRISK_FIELD_HS_CODE)
            return rule_fail(c, CRISK_E_FORMAT, msg);
        if (!cJSON_IsArray(op) || cJSON_GetArraySize(op) == 0)
            return rule_fail(c, CRISK_E_FORMAT, "\"hs_prefix\" must be a non-empty array");
        n->kind = NODE_HS_PREFIX;
        return add_strset(c, op, 1, opname, &n->set);
    }
    if (strcmp(opname, "watchlist") == 0) {
        if (type != CRISK_FIELD_STRING)
            return rule_fail(c, CRISK_E_FORMAT, msg);
        if (!cJSON_IsString(op))
            return rule_fail(c, CRISK_E_FORMAT, "\"watchlist\" must name a watch list");
        for (size_t w = 0; w < c->p->num_watchlists; w++)
            if (strcmp(c->p->watchlist_names[w], op->valuestring) == 0) {
                n->kind = NODE_IN_TEXT;
                n->set = w;
                return 0;
            }
        snprintf(msg, sizeof msg, "unknown watch list \"%.64s\"", op->valuestring);
        return rule_fail(c, CRISK_E_FORMAT, msg);
    }
    /* range */
    if (text)
        return rule_fail(c, CRISK_E_FORMAT, msg);
    if (!cJSON_IsArray(op) || cJSON_GetArraySize(op) != 2)
        return rule_fail(c, CRISK_E_FORMAT, "\"range\" must be [lo, hi] (null: open end)");
    if (!feature)
        n->kind = NODE_RANGE_FIELD;
    double bound[2] = {-INFINITY, INFINITY};
    const cJSON *b = op->child;
    for (int i = 0; i < 2; i++, b = b->next) {
        int rc = cJSON_IsNull(b) ? 0 : field_value(c, b, type, i ? "range[1]" : "range[0]",
                                                   &bound[i]);
        if (rc)
            return rc;
    }
    if (bound[0] > bound[1])
        return rule_fail(c, CRISK_E_FORMAT, "\"range\" has lo > hi");
    n->lo = bound[0];
    n->hi = bound[1];
    return 0;
}

/* Parses a band leaf {"band": B, "outside": "below"|"above"|"either"} into `n`. */
static int parse_band_leaf(parse_ctx *c, const cJSON *obj, node *n)
{
    static const char *const keys[] = {"band", "outside", NULL};
    int rc = check_keys(obj, keys, "band condition", c);
    if (rc)
        return rc;
    const cJSON *band = cJSON_GetObjectItemCaseSensitive(obj, "band");
    const cJSON *side = cJSON_GetObjectItemCaseSensitive(obj, "outside");
    char msg[320];
    if (!cJSON_IsString(band))
        return rule_fail(c, CRISK_E_FORMAT, "\"band\" must be a string");
    long bi = c->names->band_index(c->names->ctx, band->valuestring);
    if (bi < 0) {
        snprintf(msg, sizeof msg, "unknown band \"%.64s\"", band->valuestring);
        return rule_fail(c, CRISK_E_FORMAT, msg);
    }
    const char *s = cJSON_IsString(side) ? side->valuestring : "";
    n->sides = strcmp(s, "below") == 0   ? SIDE_BELOW
               : strcmp(s, "above") == 0 ? SIDE_ABOVE
               : strcmp(s, "either") == 0 ? SIDE_BELOW | SIDE_ABOVE
                                          : 0;
    if (!n->sides)
        return rule_fail(c, CRISK_E_FORMAT,
                         "\"outside\" must be \"below\", \"above\" or \"either\"");
    n->kind = NODE_BAND;
    n->index = (size_t)bi;
    return 0;
}

/* Parses one condition object `item` into a new node; for all/any/not stores the first
 * child in `*children` (NULL for a leaf) and whether there is exactly one in `*single`. */
static int parse_node(parse_ctx *c, const cJSON *item, const cJSON **children, int *single)
{
    crisk__profiles *p = c->p;
    *children = NULL;
    *single = 0;
    if (!cJSON_IsObject(item))
        return rule_fail(c, CRISK_E_FORMAT, "a condition must be an object");
    if (crisk__grow((void **)&p->nodes, &p->cap_nodes, p->num_nodes + 1, sizeof(node), 16))
        return rule_fail(c, CRISK_E_NOMEM, "out of memory");
    node *n = &p->nodes[p->num_nodes];
    memset(n, 0, sizeof *n);
    n->lo = -INFINITY;
    n->hi = INFINITY;
    const cJSON *first = item->child;
    if (!first)
        return rule_fail(c, CRISK_E_FORMAT, "an empty condition");
    static const char *const composite[] = {"all", "any", "not"};
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, composite[k]);
        if (!v)
            continue;
        char msg[320];
        if (cJSON_GetArraySize(item) != 1) {
            snprintf(msg, sizeof msg, "\"%s\" must be the condition's only key", composite[k]);
            return rule_fail(c, CRISK_E_FORMAT, msg);
        }
        if (k < 2 && (!cJSON_IsArray(v) || !v->child)) {
            snprintf(msg, sizeof msg, "\"%s\" must be a non-empty array of conditions",
                     composite[k]);
            return rule_fail(c, CRISK_E_FORMAT, msg);
        }
        n->kind = k == 0 ? NODE_ALL : k == 1 ? NODE_ANY : NODE_NOT;
        *children = k < 2 ? v->child : v;
        *single = k == 2;
        p->num_nodes++;
        return 0;
    }
    int rc = cJSON_GetObjectItemCaseSensitive(item, "band") ? parse_band_leaf(c, item, n)
                                                            : parse_value_leaf(c, item, n);
    if (rc == 0) {
        n->end = p->num_nodes + 1;
        p->num_nodes++;
    }
    return rc;
}

/* Parses the condition `when` of one rule into nodes in prefix order, walking the JSON
 * tree with an explicit stack of at most CRISK__PROFILE_MAX_DEPTH open composites. */
static int parse_condition(parse_ctx *c, const cJSON *when)
{
    struct frame {
        size_t node;
        const cJSON *next;   /* the next child to parse, NULL when done */
        int single;          /* a "not": its one child has no siblings to follow */
        size_t child;        /* index of the child being parsed, for the path */
    } stack[CRISK__PROFILE_MAX_DEPTH];
    size_t sp = 0;
    const cJSON *item = when;
    strcpy(c->path, "when");
    while (item) {
        const cJSON *children;
        int single;
        size_t idx = c->p->num_nodes;
        int rc = parse_node(c, item, &children, &single);
        if (rc)
            return rc;
        if (children) {
            if (sp == CRISK__PROFILE_MAX_DEPTH) {
                char msg[96];
                snprintf(msg, sizeof msg, "conditions nest deeper than %d levels",
                         CRISK__PROFILE_MAX_DEPTH);
                return rule_fail(c, CRISK_E_LIMIT, msg);
            }
            stack[sp++] = (struct frame){idx, children, single, 0};
        }
        /* Move to the next child of the innermost composite that has one, closing the
         * composites whose children are all parsed. */
        item = NULL;
        while (sp > 0 && !item) {
            struct frame *f = &stack[sp - 1];
            if (f->next) {
                item = f->next;
                f->next = f->single ? NULL : item->next;
                f->child++;
            } else {
                c->p->nodes[f->node].end = c->p->num_nodes;
                sp--;
            }
        }
        /* The path of `item`: "when" then ".all[i]" / ".any[i]" / ".not" per open frame. */
        size_t used = strlen("when");
        for (size_t i = 0; i < sp && item; i++) {
            node_kind k = c->p->nodes[stack[i].node].kind;
            int w = k == NODE_NOT ? snprintf(c->path + used, sizeof c->path - used, ".not")
                                  : snprintf(c->path + used, sizeof c->path - used,
                                             ".%s[%zu]", k == NODE_ALL ? "all" : "any",
                                             stack[i].child - 1);
            if (w < 0 || (size_t)w >= sizeof c->path - used)
                break;
            used += (size_t)w;
        }
    }
    c->path[0] = '\0';
    return 0;
}

/* Reads one rule's "active" object {"from": date, "to": date} into `r`. */
static int parse_active(parse_ctx *c, const cJSON *active, rule *r)
{
    static const char *const keys[] = {"from", "to", NULL};
    r->from = INT64_MIN;
    r->to = INT64_MAX;
    if (!active)
        return 0;
    if (!cJSON_IsObject(active))
        return rule_fail(c, CRISK_E_FORMAT, "\"active\" must be an object {from, to}");
    int rc = check_keys(active, keys, "active", c);
    if (rc)
        return rc;
    for (int i = 0; i < 2; i++) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(active, keys[i]);
        if (!d)
            continue;
        char msg[96];
        snprintf(msg, sizeof msg, "active.%s: expected a date \"YYYY-MM-DD\"", keys[i]);
        if (!cJSON_IsString(d) ||
            crisk__parse_iso_date(d->valuestring, strlen(d->valuestring),
                                  i ? &r->to : &r->from))
            return rule_fail(c, CRISK_E_FORMAT, msg);
    }
    if (r->from > r->to)
        return rule_fail(c, CRISK_E_FORMAT, "active.from is after active.to");
    return 0;
}

/* Parses rule `i` (JSON `obj`) into p->rules[i], after the rules before it. */
static int parse_rule(parse_ctx *c, const cJSON *obj, size_t i)
{
    static const char *const keys[] = {"id", "description", "lane", "mandatory", "active",
                                       "when", NULL};
    crisk__profiles *p = c->p;
    rule *r = &p->rules[i];
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
    if (cJSON_IsString(id) && id->valuestring[0])
        snprintf(c->label, sizeof c->label, "rules[%zu] (%.64s)", i, id->valuestring);
    else
        snprintf(c->label, sizeof c->label, "rules[%zu]", i);
    c->path[0] = '\0';
    if (!cJSON_IsObject(obj))
        return rule_fail(c, CRISK_E_FORMAT, "a rule must be an object");
    int rc = check_keys(obj, keys, "rule", c);
    if (rc)
        return rc;
    if (!cJSON_IsString(id) || !id->valuestring[0])
        return rule_fail(c, CRISK_E_FORMAT, "\"id\" must be a non-empty string");
    for (size_t j = 0; j < i; j++)
        if (strcmp(p->rules[j].id, id->valuestring) == 0)
            return rule_fail(c, CRISK_E_FORMAT, "duplicate rule id");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(obj, "description");
    if (!cJSON_IsString(desc))
        return rule_fail(c, CRISK_E_FORMAT, "\"description\" must be a string");
    const cJSON *lane = cJSON_GetObjectItemCaseSensitive(obj, "lane");
    if (!cJSON_IsString(lane))
        return rule_fail(c, CRISK_E_FORMAT, "\"lane\" must be a string");
    size_t l = 0;
    while (l < c->names->num_lanes && strcmp(c->names->lanes[l], lane->valuestring) != 0)
        l++;
    if (l == c->names->num_lanes) {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown lane \"%.64s\"", lane->valuestring);
        return rule_fail(c, CRISK_E_FORMAT, msg);
    }
    const cJSON *mandatory = cJSON_GetObjectItemCaseSensitive(obj, "mandatory");
    if (mandatory && !cJSON_IsBool(mandatory))
        return rule_fail(c, CRISK_E_FORMAT, "\"mandatory\" must be true or false");
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(obj, "when");
    if (!when)
        return rule_fail(c, CRISK_E_FORMAT, "\"when\" (the condition) is missing");
    rc = parse_active(c, cJSON_GetObjectItemCaseSensitive(obj, "active"), r);
    if (rc)
        return rc;
    r->lane = l;
    r->mandatory = cJSON_IsTrue(mandatory);
    r->root = p->num_nodes;
    r->id = strdup(id->valuestring);
    r->description = strdup(desc->valuestring);
    p->num_rules = i + 1; /* so that a failure from here on frees the strings */
    if (!r->id || !r->description)
        return rule_fail(c, CRISK_E_NOMEM, "out of memory");
    return parse_condition(c, when);
}

/* Parses the "watchlists" object {"name": [ids]} into the first strsets. */
static int parse_watchlists(parse_ctx *c, const cJSON *lists)
{
    crisk__profiles *p = c->p;
    if (!lists)
        return 0;
    if (!cJSON_IsObject(lists))
        return crisk__fail(c->err, CRISK_E_FORMAT, "watchlists: expected an object of lists");
    size_t n = (size_t)cJSON_GetArraySize(lists);
    p->watchlist_names = calloc(n ? n : 1, sizeof(char *));
    if (!p->watchlist_names)
        return crisk__fail(c->err, CRISK_E_NOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *l = lists->child; l; l = l->next, i++) {
        snprintf(c->label, sizeof c->label, "watchlists.%.64s", l->string);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->watchlist_names[j], l->string) == 0)
                return rule_fail(c, CRISK_E_FORMAT, "a watch list named twice");
        if (!cJSON_IsArray(l))
            return rule_fail(c, CRISK_E_FORMAT, "expected an array of id strings");
        p->watchlist_names[i] = strdup(l->string);
        p->num_watchlists = i + 1;
        size_t set;
        int rc = p->watchlist_names[i] ? add_strset(c, l, 0, "ids", &set)
                                       : crisk__fail(c->err, CRISK_E_NOMEM, "out of memory");
        if (rc)
            return rc;
    }
    return 0;
}

int crisk__profiles_parse(const cJSON *root, const crisk__profile_names *names,
                          crisk__profiles **out, crisk_error *err)
{
    static const char *const keys[] = {"format", "version", "watchlists", "rules", NULL};
    *out = NULL;
    if (!cJSON_IsObject(root))
        return crisk__fail(err, CRISK_E_FORMAT, "the document is not a JSON object");
    crisk__profiles *p = calloc(1, sizeof *p);
    if (!p)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    parse_ctx c = {p, names, "profiles", "", err};
    int rc = check_keys(root, keys, "top level", &c);
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
    if (rc == 0 && (!cJSON_IsString(format) || strcmp(format->valuestring, "crisk-profiles")))
        rc = crisk__fail(err, CRISK_E_FORMAT, "format: expected \"crisk-profiles\"");
    if (rc == 0 && (!cJSON_IsNumber(version) || version->valuedouble != 1))
        rc = crisk__fail(err, CRISK_E_FORMAT, "version: expected 1");
    if (rc == 0 && !cJSON_IsArray(rules))
        rc = crisk__fail(err, CRISK_E_FORMAT, "rules: expected an array of rules");
    if (rc == 0)
        rc = parse_watchlists(&c, cJSON_GetObjectItemCaseSensitive(root, "watchlists"));
    size_t n = rc == 0 ? (size_t)cJSON_GetArraySize(rules) : 0;
    if (rc == 0 && !(p->rules = calloc(n ? n : 1, sizeof(rule))))
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *r = rc == 0 ? rules->child : NULL; r && rc == 0; r = r->next)
        rc = parse_rule(&c, r, i++);
    if (rc) {
        crisk__profiles_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void crisk__profiles_free(crisk__profiles *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->num_rules; i++) {
        free(p->rules[i].id);
        free(p->rules[i].description);
    }
    free(p->rules);
    free(p->nodes);
    for (size_t i = 0; i < p->num_strsets; i++)
        strset_free(&p->strsets[i]);
    free(p->strsets);
    for (size_t i = 0; i < p->num_watchlists; i++)
        free(p->watchlist_names[i]);
    free(p->watchlist_names);
    for (size_t i = 0; i < p->num_numsets; i++)
        free(p->numsets[i].items);
    free(p->numsets);
    free(p);
}

size_t crisk__profiles_count(const crisk__profiles *p)
{
    return p ? p->num_rules : 0;
}

const char *crisk__profiles_rule_id(const crisk__profiles *p, size_t i)
{
    return p->rules[i].id;
}

const char *crisk__profiles_rule_description(const crisk__profiles *p, size_t i)
{
    return p->rules[i].description;
}

size_t crisk__profiles_rule_lane(const crisk__profiles *p, size_t i)
{
    return p->rules[i].lane;
}

int crisk__profiles_rule_mandatory(const crisk__profiles *p, size_t i)
{
    return p->rules[i].mandatory;
}

/* ---- evaluation ------------------------------------------------------------------- */

/* Returns whether leaf `n` holds for `row`. A missing value satisfies no leaf. */
static int eval_leaf(const crisk__profiles *p, const node *n, const crisk__row_view *row)
{
    size_t len;
    const char *t;
    double v;
    switch (n->kind) {
    case NODE_IN_TEXT:
        t = row->text(row->ctx, row->row, n->index, &len);
        return t && strset_has(&p->strsets[n->set], t, len);
    case NODE_HS_PREFIX: {
        t = row->text(row->ctx, row->row, n->index, &len);
        const strset *s = &p->strsets[n->set];
        for (size_t k = 1; t && k <= len && k <= s->max_len; k++)
            if (strset_has(s, t, k))
                return 1;
        return 0;
    }
    case NODE_IN_NUMBER:
        v = row->number(row->ctx, row->row, n->index);
        return !isnan(v) && numset_has(&p->numsets[n->set], v);
    case NODE_RANGE_FIELD:
        v = row->number(row->ctx, row->row, n->index);
        return v >= n->lo && v <= n->hi; /* false for NaN */
    case NODE_RANGE_FEATURE:
        v = row->features[n->index];
        return v >= n->lo && v <= n->hi;
    case NODE_BAND: {
        int pos = row->band(row->ctx, n->index, row->row, row->features);
        return (pos == -1 && (n->sides & SIDE_BELOW)) || (pos == 1 && (n->sides & SIDE_ABOVE));
    }
    default:
        return 0;
    }
}

/* Evaluates the condition whose first node is `root`, in prefix order with a fixed
 * stack of open composites; all/any stop at the first child that decides them. */
static int eval_condition(const crisk__profiles *p, size_t root, const crisk__row_view *row)
{
    struct frame {
        node_kind kind;
        int acc;
        size_t end;
    } stack[CRISK__PROFILE_MAX_DEPTH];
    size_t sp = 0, i = root;
    for (;;) {
        const node *n = &p->nodes[i];
        if (n->kind == NODE_ALL || n->kind == NODE_ANY || n->kind == NODE_NOT) {
            stack[sp++] = (struct frame){n->kind, n->kind == NODE_ALL, n->end};
            i++;
            continue;
        }
        int v = eval_leaf(p, n, row);
        i = n->end;
        /* Hand the value up: each frame combines it, and closes when its children are
         * done or its value is decided (then the rest of its children are skipped). */
        while (sp > 0) {
            struct frame *f = &stack[sp - 1];
            f->acc = f->kind == NODE_ALL ? f->acc && v : f->kind == NODE_ANY ? f->acc || v : !v;
            if ((f->kind == NODE_ALL && !f->acc) || (f->kind == NODE_ANY && f->acc))
                i = f->end;
            if (i != f->end)
                break;
            v = f->acc;
            sp--;
        }
        if (sp == 0)
            return v;
    }
}

size_t crisk__profiles_eval(const crisk__profiles *p, const crisk__row_view *row, int64_t today,
                            uint32_t *hits)
{
    size_t n = 0;
    for (size_t r = 0; p && r < p->num_rules; r++) {
        const rule *ru = &p->rules[r];
        if (today >= ru->from && today <= ru->to && eval_condition(p, ru->root, row))
            hits[n++] = (uint32_t)r;
    }
    return n;
}
