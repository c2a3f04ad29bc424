/*
 * common/digest.c — SHA-256 through OpenSSL's EVP interface: of bytes, of parts and of files.
 */
#include "common/digest.h"

#include "common/error.h"

#include <openssl/evp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crisk__sha256 {
    EVP_MD     *md;   /* fetched once */
    EVP_MD_CTX *ctx;  /* re-initialised for each hash */
};

crisk__sha256 *crisk__sha256_new(void)
{
    crisk__sha256 *h = malloc(sizeof *h);
    if (!h)
        return NULL;
    h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    h->ctx = EVP_MD_CTX_new();
    if (!h->md || !h->ctx) {
        crisk__sha256_free(h);
        return NULL;
    }
    return h;
}

void crisk__sha256_free(crisk__sha256 *h)
{
    if (h) {
        EVP_MD_CTX_free(h->ctx);
        EVP_MD_free(h->md);
        free(h);
    }
}

/* Hashes prefix || a || b with `ctx` and `md`. Returns 0 or CRISK_E_DEPENDENCY. */
static int hash_parts(EVP_MD_CTX *ctx, const EVP_MD *md, int prefix, const void *a,
                      size_t a_size, const void *b, size_t b_size,
                      unsigned char out[CRISK__SHA256_SIZE])
{
    unsigned char p = (unsigned char)prefix;
    unsigned int len = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
             (prefix < 0 || EVP_DigestUpdate(ctx, &p, 1) == 1) &&
             (a_size == 0 || EVP_DigestUpdate(ctx, a, a_size) == 1) &&
             (b_size == 0 || EVP_DigestUpdate(ctx, b, b_size) == 1) &&
             EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == CRISK__SHA256_SIZE;
    return ok ? 0 : CRISK_E_DEPENDENCY;
}

int crisk__sha256_with(crisk__sha256 *h, int prefix, const void *a, size_t a_size,
                       const void *b, size_t b_size, unsigned char out[CRISK__SHA256_SIZE])
{
    if (h)
        return hash_parts(h->ctx, h->md, prefix, a, a_size, b, b_size, out);
    return crisk__sha256_parts(prefix, a, a_size, b, b_size, out);
}

int crisk__sha256_parts(int prefix, const void *a, size_t a_size, const void *b,
                        size_t b_size, unsigned char out[CRISK__SHA256_SIZE])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = hash_parts(ctx, EVP_sha256(), prefix, a, a_size, b, b_size, out);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Feeds the size (8 bytes, big-endian) and bytes of the file at `path` to `ctx`. Returns 0
 * or a negative code with `err` naming the file. */
static int hash_file(EVP_MD_CTX *ctx, const char *path, size_t max_bytes, crisk_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return crisk__fail(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    int rc = 0;
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
        rc = crisk__fail(err, CRISK_E_IO, "%s: cannot tell its size", path);
    else if ((unsigned long)size > max_bytes)
        rc = crisk__fail(err, CRISK_E_LIMIT, "%s: %ld bytes, more than the limit of %zu", path,
                         size, max_bytes);
    unsigned char buf[8192];
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((unsigned long long)size >> (56 - 8 * i));
    if (rc == 0 && EVP_DigestUpdate(ctx, buf, 8) != 1)
        rc = crisk__fail(err, CRISK_E_DEPENDENCY, "SHA-256 failed");
    /* Exactly `size` bytes are hashed: a file that changes while read is an error. */
    long left = size;
    while (rc == 0 && left > 0) {
        size_t want = (size_t)left < sizeof buf ? (size_t)left : sizeof buf;
        if (fread(buf, 1, want, f) != want)
            rc = crisk__fail(err, CRISK_E_IO, "%s: short read", path);
        else if (EVP_DigestUpdate(ctx, buf, want) != 1)
            rc = crisk__fail(err, CRISK_E_DEPENDENCY, "SHA-256 failed");
        left -= (long)want;
    }
    fclose(f);
    return rc;
}

int crisk__sha256_files(const char *const *paths, size_t n, size_t max_bytes,
                        unsigned char out[CRISK__SHA256_SIZE], crisk_error *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
                 ? 0 : crisk__fail(err, CRISK_E_DEPENDENCY, "SHA-256 failed");
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = hash_file(ctx, paths[i], max_bytes, err);
    if (rc == 0 && (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != CRISK__SHA256_SIZE))
        rc = crisk__fail(err, CRISK_E_DEPENDENCY, "SHA-256 failed");
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Computes the SHA-256 digest of `size` bytes at `data`; returns 0 or a negative code. */
int crisk_sha256(const void *data, size_t size, unsigned char out[32])
{
    if (!out || (!data && size > 0))
        return CRISK_E_INVALID_ARGUMENT;
    return crisk__sha256_parts(-1, data, size, NULL, 0, out);
}

