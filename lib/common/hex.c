/*
 * common/hex.c — hexadecimal text of bytes, both ways (crisk/hex.h, common/hex.h).
 */
#include "common/hex.h"

#include <string.h>

void crisk_hex_encode(const unsigned char *data, size_t size, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * size] = '\0';
}

/* Returns the value of hex digit `c`, or -1 when it is not one. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int crisk_hex_decode(const char *text, size_t size, unsigned char *out)
{
    for (size_t i = 0; i < size; i++) {
        int hi = hex_value(text[2 * i]), lo = hi < 0 ? -1 : hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

long crisk__hex_decode_text(const char *text, unsigned char *out, size_t max)
{
    size_t n = strlen(text);
    if (n % 2 || n / 2 > max || crisk_hex_decode(text, n / 2, out))
        return -1;
    return (long)(n / 2);
}
