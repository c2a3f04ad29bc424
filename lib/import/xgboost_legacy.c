/*
 * import/xgboost_legacy.c — XGBoost's legacy binary model format (`save_model("m.bin")` before
 * 2.0; `m.deprecated` since), converted to XGBoost JSON by libxgboost itself.
 *
 * The loader sends here every input it does not recognise, so this file first checks that
 * the bytes begin like a legacy model (its fixed header, the objective's name and a booster
 * name), and otherwise says plainly that they are no recognised model format. Only bytes
 * that pass go to libxgboost, whose own reader is not hardened against hostile input: it
 * may allocate what a forged tree header claims before finding the data missing.
 */
#include "common/error.h"
#include "import/import.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CRISK_HAVE_LIBXGBOOST
#include <xgboost/c_api.h>
#endif

/* The formats crisk reads, for the message that says the input is none of them. */
#define KNOWN_FORMATS                                                                     \
    "XGBoost JSON or UBJSON, XGBoost legacy binary, LightGBM text, crisk logistic JSON"

/* The legacy format's learner header (LearnerModelParamLegacy) is this many bytes. */
#define LEGACY_HEADER_BYTES 136

/* Reads a little-endian uint64 length at `*pos` and the `max` or fewer bytes after it,
 * storing them in `*text` and `*len` and advancing `*pos`; returns 0 when they do not fit
 * in `size` bytes. */
static int legacy_string(const unsigned char *data, size_t size, size_t *pos, size_t max,
                         const unsigned char **text, size_t *len)
{
    if (size - *pos < 8)
        return 0;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | data[*pos + (size_t)i];
    *pos += 8;
    if (n == 0 || n > max || n > size - *pos)
        return 0;
    *text = data + *pos;
    *len = (size_t)n;
    *pos += (size_t)n;
    return 1;
}

/* Returns 1 when `size` bytes at `data` begin like an XGBoost legacy binary model: an
 * optional "binf" mark, the 136-byte learner header, an objective name of printable
 * characters and a booster name (gbtree, gblinear or dart); 0 otherwise. */
static int looks_legacy(const unsigned char *data, size_t size)
{
    size_t pos = size >= 4 && memcmp(data, "binf", 4) == 0 ? 4 : 0;
    if (size - pos < LEGACY_HEADER_BYTES)
        return 0;
    pos += LEGACY_HEADER_BYTES;
    const unsigned char *name;
    size_t len;
    if (!legacy_string(data, size, &pos, 64, &name, &len))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] < 0x21 || name[i] > 0x7e)
            return 0;
    if (!legacy_string(data, size, &pos, 8, &name, &len))
        return 0;
    static const char *const boosters[] = {"gbtree", "gblinear", "dart"};
    for (size_t i = 0; i < sizeof boosters / sizeof boosters[0]; i++)
        if (len == strlen(boosters[i]) && memcmp(name, boosters[i], len) == 0)
            return 1;
    return 0;
}

#ifdef CRISK_HAVE_LIBXGBOOST

/* Returns libxgboost's last error on this thread, without the time stamp it starts with
 * and the stack trace after its first line, in `buf` of `cap` bytes. */
static const char *xgboost_reason(char *buf, size_t cap)
{
    const char *msg = XGBGetLastError();
    if (!msg)
        msg = "";
    if (msg[0] == '[') {
        const char *close = strstr(msg, "] ");
        if (close)
            msg = close + 2;
    }
    size_t n = strcspn(msg, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, msg, n);
    buf[n] = '\0';
    return buf;
}

/* Sets libxgboost's verbosity to 0 on this thread, storing the one it had in `*saved`
 * (-1 when it could not be read, so that nothing is restored).
 *
 * Why verbosity, and why this is not global state: libxgboost keeps its "global"
 * configuration per thread (a dmlc thread-local store), so this silences the warnings
 * libxgboost would print while loading (e.g. about models from old versions) on the
 * calling thread only, and restore_verbosity() puts the caller's level back. The other
 * tool, XGBRegisterLogCallback, also acts per thread but cannot be undone: there is no
 * call that returns the callback the application had registered. Fatal errors are not
 * printed either way; they reach us through XGBGetLastError(). */
static void silence(int *saved)
{
    *saved = -1;
    const char *config = NULL;
    if (XGBGetGlobalConfig(&config) == 0 && config) {
        cJSON *root = cJSON_Parse(config);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "verbosity");
        if (cJSON_IsNumber(v))
            *saved = v->valueint;
        cJSON_Delete(root);
    }
    if (*saved > 0)
        XGBSetGlobalConfig("{\"verbosity\": 0}");
}

/* Puts back the verbosity that silence() saved in `saved`. */
static void restore_verbosity(int saved)
{
    if (saved > 0) {
        char config[40];
        snprintf(config, sizeof config, "{\"verbosity\": %d}", saved);
        XGBSetGlobalConfig(config);
    }
}

/* Loads the legacy model at `data` into a new booster and stores its JSON text, malloc'd,
 * in `*json`. */
static int convert(const void *data, size_t size, char **json, crisk_error *err)
{
    char reason[384];
    BoosterHandle booster = NULL;
    if (XGBoosterCreate(NULL, 0, &booster) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "libxgboost cannot create a booster: %s",
                          xgboost_reason(reason, sizeof reason));
    int rc = 0;
    bst_ulong len = 0;
    const char *text = NULL;
    if (XGBoosterLoadModelFromBuffer(booster, data, (bst_ulong)size) != 0) {
        rc = crisk__fail(err, CRISK_E_FORMAT,
                        "not a recognised model format (" KNOWN_FORMATS "): the bytes begin "
                        "like an XGBoost legacy binary model, but libxgboost cannot load "
                        "them: %s", xgboost_reason(reason, sizeof reason));
    } else if (XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}", &len,
                                          &text) != 0) {
        rc = crisk__fail(err, CRISK_E_FORMAT,
                        "libxgboost loaded the legacy binary model but cannot save it as "
                        "JSON: %s", xgboost_reason(reason, sizeof reason));
    } else if (!(*json = malloc((size_t)len + 1))) {
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for %llu bytes of JSON",
                        (unsigned long long)len);
    } else {
        memcpy(*json, text, (size_t)len);
        (*json)[len] = '\0';
    }
    XGBoosterFree(booster);
    return rc;
}

#endif /* CRISK_HAVE_LIBXGBOOST */

/* Converts the legacy binary model of `size` bytes at `data` to XGBoost JSON text stored,
 * malloc'd, in `*json` (NULL on failure); returns 0, CRISK_E_FORMAT when the bytes are no
 * recognised model, CRISK_E_DEPENDENCY when a legacy model meets a build without
 * libxgboost, or CRISK_E_NOMEM. */
int crisk__xgboost_legacy_to_json(const void *data, size_t size, char **json, crisk_error *err)
{
    *json = NULL;
    if (!looks_legacy(data, size))
        return crisk__fail(err, CRISK_E_FORMAT, "not a recognised model format (" KNOWN_FORMATS
                          ")");
#ifdef CRISK_HAVE_LIBXGBOOST
    int saved;
    silence(&saved);
    int rc = convert(data, size, json, err);
    restore_verbosity(saved);
    return rc;
#else
    return crisk__fail(err, CRISK_E_DEPENDENCY,
                      "an XGBoost legacy binary model: reading one needs libxgboost, which "
                      "this build of crisk lacks (save the model as JSON or UBJSON instead)");
#endif
}
