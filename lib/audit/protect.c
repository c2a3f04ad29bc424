/*
 * audit/protect.c — data protection: the keyed hash (truncated HMAC-SHA256) that replaces a
 * personal identifier in outputs and audit leaves.
 */
#include "common/digest.h"
#include "common/hex.h"
#include "common/error.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <limits.h>

int crisk_protect_id(const void *key, size_t key_size, const char *text, size_t len,
                     char out[2 * CRISK_PROTECTED_ID_BYTES + 1], crisk_error *err)
{
    if (!key || !out || (!text && len > 0))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "key, text and out must be given");
    if (key_size < CRISK_PROTECT_MIN_KEY || key_size > INT_MAX)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the id protection key has %zu "
                           "bytes; it needs at least %d", key_size, CRISK_PROTECT_MIN_KEY);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    static const unsigned char empty[1];
    if (!HMAC(EVP_sha256(), key, (int)key_size, len ? (const unsigned char *)text : empty,
              len, mac, &mac_len) || mac_len < CRISK_PROTECTED_ID_BYTES)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "HMAC-SHA256 failed");
    crisk_hex_encode(mac, CRISK_PROTECTED_ID_BYTES, out);
    return 0;
}
