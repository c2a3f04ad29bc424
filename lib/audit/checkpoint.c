/*
 * audit/checkpoint.c — Ed25519 keys (generation, PEM files) and signed checkpoints: their text
 * form, signing and verification, through OpenSSL's EVP interface.
 */
#include "audit/checkpoint.h"

#include "common/digest.h"
#include "common/hex.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct crisk_audit_key {
    EVP_PKEY *pkey;
    int is_private;
};

/* The first line of a checkpoint's text form. */
static const char checkpoint_magic[] = "crisk-audit-checkpoint v1";

/* A PEM pass-phrase callback that refuses: the library never prompts on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf, (void)size, (void)rwflag, (void)userdata;
    return -1;
}

/* Opens `path` for writing as a new file with `mode`; returns the stream or NULL with
 * `err` filled (CRISK_E_IO). */
static FILE *create_new(const char *path, mode_t mode, crisk_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        crisk__fail(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

int crisk_audit_keygen(const char *private_path, const char *public_path, crisk_error *err)
{
    if (!private_path || !public_path)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "key paths must not be NULL");
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    int ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &pkey) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not generate an Ed25519 key");
    }
    int rc = 0;
    FILE *priv = create_new(private_path, 0600, err);
    FILE *pub = priv ? create_new(public_path, 0644, err) : NULL;
    if (!priv || !pub) {
        rc = CRISK_E_IO;
    } else if (PEM_write_PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
               PEM_write_PUBKEY(pub, pkey) != 1) {
        rc = crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not write the key pair");
    }
    if (priv && fclose(priv) != 0 && rc == 0)
        rc = crisk__fail(err, CRISK_E_IO, "%s: %s", private_path, strerror(errno));
    if (pub && fclose(pub) != 0 && rc == 0)
        rc = crisk__fail(err, CRISK_E_IO, "%s: %s", public_path, strerror(errno));
    if (rc && priv)
        remove(private_path);
    if (rc && pub)
        remove(public_path);
    EVP_PKEY_free(pkey);
    return rc;
}

int crisk_audit_key_load(const char *path, int is_private, crisk_audit_key **out,
                         crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "path and out must not be NULL");
    FILE *f = fopen(path, "r");
    if (!f)
        return crisk__fail(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
    EVP_PKEY *pkey = NULL;
    int got_private = 0;
    if (!is_private)
        pkey = PEM_read_PUBKEY(f, NULL, no_passphrase, NULL);
    if (!pkey) {
        /* A private key file serves as a public key too. */
        rewind(f);
        pkey = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
        got_private = pkey != NULL;
    }
    fclose(f);
    ERR_clear_error();
    if (!pkey || EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pkey);
        return crisk__fail(err, CRISK_E_FORMAT, "%s: not an Ed25519 %s key in PEM form", path,
                           is_private ? "private" : "public");
    }
    crisk_audit_key *key = malloc(sizeof *key);
    if (!key) {
        EVP_PKEY_free(pkey);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    }
    key->pkey = pkey;
    key->is_private = got_private;
    *out = key;
    return 0;
}

void crisk_audit_key_free(crisk_audit_key *key)
{
    if (key) {
        EVP_PKEY_free(key->pkey);
        free(key);
    }
}

/* Writes the signed part of a checkpoint's text (every line before "sig") to `buf`; returns
 * its length, or -1 when `capacity` is too small. */
static int checkpoint_body(const crisk_checkpoint *cp, char *buf, size_t capacity)
{
    char root[CRISK__SHA256_HEX + 1];
    crisk_hex_encode(cp->root, CRISK_HASH_SIZE, root);
    int n = snprintf(buf, capacity, "%s\nsize %" PRIu64 "\nroot %s\ntime %" PRId64 "\n",
                     checkpoint_magic, cp->tree_size, root, cp->timestamp);
    if (n >= 0 && (size_t)n < capacity && cp->clock_behind != 0)
        n += snprintf(buf + n, capacity - (size_t)n, "clock-behind %" PRId64 "\n",
                      cp->clock_behind);
    return n < 0 || (size_t)n >= capacity ? -1 : n;
}

int crisk__checkpoint_sign(crisk_checkpoint *cp, const crisk_audit_key *key, crisk_error *err)
{
    if (!key || !key->is_private)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "signing a checkpoint needs a private key");
    char body[CRISK_CHECKPOINT_TEXT_MAX];
    int n = checkpoint_body(cp, body, sizeof body);
    size_t sig_len = CRISK_SIGNATURE_SIZE;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = n > 0 && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestSign(ctx, cp->signature, &sig_len, (const unsigned char *)body,
                            (size_t)n) == 1 &&
             sig_len == CRISK_SIGNATURE_SIZE;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok ? 0 : crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not sign a checkpoint");
}

int crisk_checkpoint_verify(const crisk_checkpoint *cp, const crisk_audit_key *key,
                            crisk_error *err)
{
    if (!cp || !key)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "checkpoint and key must not be NULL");
    char body[CRISK_CHECKPOINT_TEXT_MAX];
    int n = checkpoint_body(cp, body, sizeof body);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = n > 0 && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestVerify(ctx, cp->signature, CRISK_SIGNATURE_SIZE,
                              (const unsigned char *)body, (size_t)n) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (!ok)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "the signature of the checkpoint of size %" PRIu64
                           " does not match the key",
                           cp->tree_size);
    return 0;
}

int crisk_checkpoint_format(const crisk_checkpoint *cp, char *buf, size_t capacity)
{
    if (!cp || !buf)
        return CRISK_E_INVALID_ARGUMENT;
    int n = checkpoint_body(cp, buf, capacity);
    char sig[2 * CRISK_SIGNATURE_SIZE + 1];
    crisk_hex_encode(cp->signature, CRISK_SIGNATURE_SIZE, sig);
    if (n < 0 || (size_t)n + 4 + sizeof sig + 1 > capacity)
        return CRISK_E_INVALID_ARGUMENT;
    return n + snprintf(buf + n, capacity - (size_t)n, "sig %s\n", sig);
}

/* Parses a decimal number of at most 18 digits (no sign) from `text`; returns 0 or -1. */
static int parse_decimal(const char *text, size_t len, uint64_t *out)
{
    if (len == 0 || len > 18)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    *out = v;
    return 0;
}

/* The lines of a checkpoint's text form after the first, in order; "clock-behind" only
 * when the writer's clock was behind the time it signed. */
static const char *const line_keys[] = {"size ", "root ", "time ", "clock-behind ", "sig "};
#define OPTIONAL_LINE 3

/* Parses the value `s` (`len` bytes) of line `key` (an index into line_keys) into `out`.
 * Returns 0 or -1. */
static int parse_value(size_t key, const char *s, size_t len, crisk_checkpoint *out)
{
    uint64_t v = 0;
    switch (key) {
    case 0:
        return parse_decimal(s, len, &out->tree_size);
    case 1:
        return len != 2 * CRISK_HASH_SIZE || crisk_hex_decode(s, CRISK_HASH_SIZE, out->root);
    case 2:
    case 3:
        if (parse_decimal(s, len, &v) != 0 || (key == 3 && v == 0))
            return -1;
        *(key == 2 ? &out->timestamp : &out->clock_behind) = (int64_t)v;
        return 0;
    default:
        return len != 2 * CRISK_SIGNATURE_SIZE ||
               crisk_hex_decode(s, CRISK_SIGNATURE_SIZE, out->signature);
    }
}

int crisk_checkpoint_parse(const char *text, size_t size, crisk_checkpoint *out,
                           crisk_error *err)
{
    if (!text || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "text and out must not be NULL");
    memset(out, 0, sizeof *out);
    size_t pos = 0, key = 0;
    for (size_t line = 1; key < sizeof line_keys / sizeof *line_keys; line++) {
        if (pos >= size)
            return crisk__fail(err, CRISK_E_FORMAT, "checkpoint line %zu: missing", line);
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - text) : size, len = end - pos;
        const char *s = text + pos;
        pos = end + 1;
        if (line == 1) {
            if (len != strlen(checkpoint_magic) || memcmp(s, checkpoint_magic, len) != 0)
                return crisk__fail(err, CRISK_E_FORMAT,
                                   "checkpoint line 1: not \"%s\"", checkpoint_magic);
            continue;
        }
        size_t klen = strlen(line_keys[key]);
        if (key == OPTIONAL_LINE && (len < klen || memcmp(s, line_keys[key], klen) != 0))
            klen = strlen(line_keys[++key]);
        if (len < klen || memcmp(s, line_keys[key], klen) != 0)
            return crisk__fail(err, CRISK_E_FORMAT, "checkpoint line %zu: expected \"%s...\"",
                               line, line_keys[key]);
        if (parse_value(key, s + klen, len - klen, out) != 0)
            return crisk__fail(err, CRISK_E_FORMAT, "checkpoint line %zu: bad %svalue", line,
                               line_keys[key]);
        key++;
    }
    if (pos < size)
        return crisk__fail(err, CRISK_E_FORMAT, "checkpoint: text after the signature line");
    return 0;
}
