/*
 * import/json_nonfinite.c — XGBoost's JSON dialect: its writer emits bare NaN, Infinity and
 * -Infinity for non-finite floats (1.7 writes NaN as the split condition of categorical
 * nodes), which JSON and cJSON do not allow.
 */
#include "common/error.h"
#include "import/import.h"

#include <stdint.h>
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

/* Returns `b` in each byte of a 64-bit word. */
#define BYTES(b) (0x0101010101010101ull * (unsigned char)(b))

/* Returns nonzero when one of the 8 bytes of `x` is the byte repeated in `b`. */
static uint64_t has_byte(uint64_t x, uint64_t b)
{
    uint64_t y = x ^ b;
    return (y - BYTES(1)) & ~y & BYTES(0x80);
}

/* Returns the first position from `i` on where the walk has something to decide: a quote
 * or a token's first letter ('N', 'I') outside strings, a quote or a backslash inside.
 * Eight bytes at a time, since a model's text is mostly numbers with neither. */
static size_t next_special(const char *text, size_t i, size_t size, int in_string)
{
    uint64_t a = BYTES(in_string ? '\\' : 'N'), b = BYTES(in_string ? '\\' : 'I');
    for (; i + 8 <= size; i += 8) {
        uint64_t x;
        memcpy(&x, text + i, 8);
        if (has_byte(x, BYTES('"')) | has_byte(x, a) | has_byte(x, b))
            break;
    }
    for (; i < size; i++) {
        char c = text[i];
        if (c == '"' || (in_string ? c == '\\' : c == 'N' || c == 'I'))
            break;
    }
    return i;
}

/* Walks `size` bytes of JSON text outside strings; when `out` is not NULL, writes the text
 * with each bare token replaced by its marker. Returns the length of that text. */
static size_t rewrite(const char *text, size_t size, char *out)
{
    size_t o = 0, i = 0;
    int in_string = 0;
    while (i < size) {
        size_t j = next_special(text, i, size, in_string);
        if (out)
            memcpy(out + o, text + i, j - i);
        o += j - i;
        if ((i = j) == size)
            break;
        /* A quote, a backslash and the byte it escapes, or a letter that starts no token. */
        int k = in_string || text[i] == '"' ? -1 : token_at(text + i, size - i);
        size_t n = in_string && text[i] == '\\' && i + 1 < size ? 2 : 1;
        if (k < 0) {
            in_string ^= text[i] == '"';
            if (out)
                memcpy(out + o, text + i, n);
            o += n;
            i += n;
            continue;
        }
        i += strlen(nonfinite[k].token);
        /* "-Infinity": its '-' went out with the bytes before the letter. */
        if (nonfinite[k].value > 0 && j > 0 && text[j - 1] == '-') {
            k = 0;
            o--;
        }
        n = strlen(nonfinite[k].marker);
        if (out)
            memcpy(out + o, nonfinite[k].marker, n);
        o += n;
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
