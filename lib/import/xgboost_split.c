/*
 * import/xgboost_split.c — an XGBoost JSON document read without a tree of all of it: the
 * trees array is found in place (jsonpull), the rest of the document parsed by cJSON with
 * an empty trees array, and the trees handed to the importer one at a time, read in place
 * (import/jvalue.h) with the index of containers the check of the text records. Peak
 * memory is the text and the model, where a cJSON tree of the whole document cost about
 * 15 times the file and its numbers most of the time of loading it. UBJSON models are
 * split the same way by crisk__ubjson_split; their trees are decoded here one at a time.
 */
#include "common/error.h"
#include "common/jsonfile.h"
#include "common/jsonpull.h"
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

/* XGBoost documents nest 7 deep (trees' arrays); anything deeper is not one of them. */
#define SPLIT_DEPTH 16

/* Moves `c` to member `name` of the object at `c`; returns 1 when found. */
static int enter_member(crisk__jpull *c, const char *name)
{
    crisk__jpull at;
    if (!crisk__jpull_member(c, name, &at))
        return 0;
    *c = at;
    return 1;
}

/* Returns 1 when the value at cursor `c` (a copy: the caller's does not move) is the
 * string `want`. */
static int string_is(crisk__jpull c, const char *want)
{
    const char *s;
    size_t n;
    return crisk__jpull_peek(&c) == CRISK__J_STRING && crisk__jpull_string(&c, &s, &n) == 0
           && n == strlen(want) && memcmp(s, want, n) == 0;
}

/* Finds, in checked text, the trees array the importer reads for the booster the document
 * names: learner.gradient_booster.model.trees for "gbtree", .gbtree.model.trees for
 * "dart"; stores its start and end. Returns 1 when found. */
static int find_trees(const char *text, size_t size, crisk__jshared *shared,
                      const char **start, const char **end)
{
    crisk__jpull c, name;
    crisk__jpull_init(&c, text, size, shared);
    if (!enter_member(&c, "learner") || !enter_member(&c, "gradient_booster")
        || !crisk__jpull_member(&c, "name", &name))
        return 0;
    int dart = string_is(name, "dart");
    if (!dart && !string_is(name, "gbtree"))
        return 0;
    if ((dart && !enter_member(&c, "gbtree")) || !enter_member(&c, "model")
        || !enter_member(&c, "trees") || crisk__jpull_peek(&c) != CRISK__J_ARRAY)
        return 0;
    *start = c.p;
    if (crisk__jpull_skip(&c))
        return 0;
    *end = c.p;
    return 1;
}

/* Records the containers of the document's first TREE_INDEX_DEPTH levels, down to the
 * arrays of each tree (one more for dart), so that reading a tree's members skips their
 * neighbours by the index instead of scanning them. */
#define TREE_INDEX_DEPTH 8

int crisk__xgboost_split(const char *text, size_t size, cJSON **root,
                         crisk__tree_source *src, crisk_error *err)
{
    crisk__jshared shared = {NULL, 0, (locale_t)0, NULL};
    const char *start = NULL, *end = NULL;
    *root = NULL;
    memset(src, 0, sizeof *src);
    /* A tree of XGBoost's has 17 containers in 450 bytes or more (one leaf); the bound keeps
     * the index (24 bytes a container) of hostile text of tiny containers within the size
     * of the text. Beyond it, containers are skipped by a scan instead. */
    src->index.max = size / 24 + 32;
    src->index.depth = TREE_INDEX_DEPTH;
    shared.index = &src->index;
    int found = crisk__json_check_text(text, size, SPLIT_DEPTH, &src->index)
                && find_trees(text, size, &shared, &start, &end);
    free(shared.buf);
    if (!found) {
        crisk__tree_source_done(src);
        return 1;
    }
    size_t before = (size_t)(start - text), after = size - (size_t)(end - text);
    char *rest = malloc(before + 2 + after);
    if (!rest) {
        crisk__tree_source_done(src);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    }
    memcpy(rest, text, before);
    memcpy(rest + before, "[]", 2);
    memcpy(rest + before + 2, end, after);
    /* Text of the strict subset parses the same in cJSON; the trees are read in place. */
    *root = cJSON_ParseWithLength(rest, before + 2 + after);
    free(rest);
    if (!*root) {
        crisk__tree_source_done(src);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    }
    src->text = start;
    src->len = (size_t)(end - start);
    return 0;
}

void crisk__tree_source_done(crisk__tree_source *s)
{
    free(s->index.spans);
    s->index.spans = NULL;
    s->index.n = s->index.cap = 0;
}

int crisk__tree_source_count(const crisk__tree_source *s, size_t *n, crisk_error *err)
{
    if (s->ubjson) {
        crisk__ubjson_items it;
        int rc = crisk__ubjson_items_open(s->ubjson, s->len, s->limits, &it, err);
        *n = 0;
        if (rc || it.left >= 0) {
            *n = rc ? 0 : (size_t)it.left;
            return rc;
        }
        cJSON *none;
        for (int more = 1; rc == 0 && more; *n += (size_t)more)
            rc = crisk__ubjson_items_next(&it, 0, &none, &more, err);
        return rc;
    }
    if (!s->text) {
        *n = crisk__json_array_size(s->array);
        return 0;
    }
    crisk__jshared shared = {NULL, 0, (locale_t)0, &s->index};
    crisk__jpull c;
    crisk__jpull_init(&c, s->text, s->len, &shared);
    *n = crisk__jpull_count(&c);
    return 0;
}

int crisk__tree_iter_init(crisk__tree_iter *it, const crisk__tree_source *s, int params_only,
                          crisk_error *err)
{
    memset(it, 0, sizeof *it);
    it->src = s;
    it->params_only = params_only;
    if (s->ubjson) {
        crisk_error ignored; /* the same failure is reported by the count before */
        it->failed = crisk__ubjson_items_open(s->ubjson, s->len, s->limits, &it->items,
                                              &ignored);
    } else if (s->text) {
        /* strtod, for the numbers beyond jsonpull's exact fast path, under the C locale. */
        it->shared.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        if (!it->shared.c_locale)
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a C locale");
        it->shared.index = &s->index;
        crisk__jpull_init(&it->c, s->text, s->len, &it->shared);
        crisk__jpull_enter(&it->c);
    } else {
        it->item = s->array ? s->array->child : NULL;
    }
    return 0;
}

int crisk__tree_iter_next(crisk__tree_iter *it, const crisk__jvalue **tree, crisk_error *err)
{
    cJSON_Delete(it->owned);
    it->owned = NULL;
    *tree = NULL;
    if (it->src->ubjson) {
        int more = 0, rc = it->failed;
        if (rc == 0)
            rc = crisk__ubjson_items_next(&it->items,
                                          it->params_only ? CRISK__UBJSON_KEEP_PARAMS : 1,
                                          &it->owned, &more, err);
        else
            crisk__fail(err, rc, "trees: the UBJSON array does not open");
        if (it->owned) {
            it->tree = crisk__jvalue_item(it->owned);
            *tree = &it->tree;
        }
        return rc;
    }
    if (!it->src->text) {
        if (it->item) {
            it->tree = crisk__jvalue_item(it->item);
            *tree = &it->tree;
            it->item = it->item->next;
        }
        return 0;
    }
    if (!crisk__jpull_more(&it->c))
        return 0;
    it->tree = crisk__jvalue_item(NULL);
    it->tree.at = it->c;
    crisk__jpull_peek(&it->tree.at);
    if (crisk__jpull_skip(&it->c))
        return crisk__fail(err, CRISK_E_FORMAT, "trees: the text ends inside a tree");
    *tree = &it->tree;
    return 0;
}

void crisk__tree_iter_done(crisk__tree_iter *it)
{
    cJSON_Delete(it->owned);
    it->owned = NULL;
    free(it->shared.buf); /* strings with escapes decode there */
    it->shared.buf = NULL;
    it->shared.cap = 0;
    if (it->shared.c_locale)
        freelocale(it->shared.c_locale);
    it->shared.c_locale = (locale_t)0;
}
