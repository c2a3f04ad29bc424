/*
 * import/json_nonfinite.c — XGBoost's JSON dialect: its writer emits bare NaN, Infinity and
 * -Infinity for non-finite floats (1.7 writes NaN as the split condition of categorical
 * nodes), which JSON and cJSON do not allow.
 */
#include "common/error.h"
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

/* The bare tokens and the string markers that stand for them in the rewritten text. */
static const struct {
    const char *token;
    const char *marker;
    float value;
} nonfinite[] = {
    {"-Infinity", "\"\\u0001-Infinity\"", -1.0f / 0.0f},
    {"Infinity", "\"\\u0001Infinity\"", 1.0f / 0.0f},
    {"NaN", "\"\\u0001NaN\"", 0.0f / 0.0f},
};
#define NONFINITE_COUNT (sizeof nonfinite / sizeof nonfinite[0])

/* Returns the index of the non-finite token starting at `p` (with `left` bytes), or -1. */
static int token_at(const char *p, size_t left)
{
    for (size_t k = 0; k < NONFINITE_COUNT; k++) {
        size_t n = strlen(nonfinite[k].token);
        if (left >= n && memcmp(p, nonfinite[k].token, n) == 0)
            return (int)k;
    }
    return -1;
}

/* Walks `size` bytes of JSON text outside strings; when `out` is not NULL, writes the text
 * with each bare token replaced by its marker. Returns the length of that text. */
static size_t rewrite(const char *text, size_t size, char *out)
{
    size_t o = 0;
    int in_string = 0;
    for (size_t i = 0; i < size; i++) {
        char c = text[i];
        /* Every token starts with one of these; the test keeps the walk one byte a step. */
        int k = in_string || (c != 'N' && c != 'I' && c != '-') ? -1 : token_at(text + i, size - i);
        if (k >= 0) {
            size_t n = strlen(nonfinite[k].marker);
            if (out)
                memcpy(out + o, nonfinite[k].marker, n);
            o += n;
            i += strlen(nonfinite[k].token) - 1;
            continue;
        }
        if (in_string && c == '\\' && i + 1 < size) {
            if (out)
                memcpy(out + o, text + i, 2);
            o += 2;
            i++;
            continue;
        }
        if (c == '"')
            in_string = !in_string;
        if (out)
            out[o] = c;
        o++;
    }
    return o;
}

int crisk__json_nonfinite_rewrite(const char *text, size_t size, char **out, size_t *out_size,
                                  crisk_error *err)
{
    *out = NULL;
    *out_size = 0;
    size_t n = rewrite(text, size, NULL);
    if (n == size)
        return 0; /* no bare token: markers are longer than the tokens they replace */
    char *copy = malloc(n + 1);
    if (!copy)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu bytes of JSON", n);
    rewrite(text, size, copy);
    copy[n] = '\0';
    *out = copy;
    *out_size = n;
    return 0;
}

int crisk__json_nonfinite_value(const char *s, size_t len, float *value)
{
    if (len == 0 || s[0] != '\x01')
        return 0;
    for (size_t k = 0; k < NONFINITE_COUNT; k++)
        if (len - 1 == strlen(nonfinite[k].token) && memcmp(s + 1, nonfinite[k].token, len - 1) == 0) {
            *value = nonfinite[k].value;
            return 1;
        }
    return 0;
}
