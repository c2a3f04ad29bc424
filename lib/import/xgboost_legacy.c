/*
 * import/xgboost_legacy.c — XGBoost's legacy binary model format (`save_model("m.bin")` before
 * 2.0; `m.deprecated` since), converted to XGBoost JSON by libxgboost itself.
 *
 * The loader sends here every input it does not recognise, so this file first checks that
 * the bytes begin like a legacy model (its fixed header, the objective's name and a booster
 * name), and otherwise says plainly that they are no recognised model format. Only bytes
 * that pass go to libxgboost, whose own reader is not hardened against hostile input: it
 * may allocate what a forged tree header claims before finding the data missing.
 *
 * libxgboost is not linked: it is opened with dlopen() only when a legacy model is loaded,
 * so that libcrisk.so does not pull libxgboost, libstdc++, libgomp and libdmlc into every
 * process that scores JSON models.
 */
#include "common/error.h"
#include "import/import.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The soname libxgboost's C API is found under, and the Debian package that installs it
 * (`dpkg -S libxgboost.so.0`), for the message when it is missing. */
#define XGBOOST_LIBRARY "libxgboost.so.0"
#define XGBOOST_PACKAGE "libxgboost0"

/* The few functions of libxgboost's C API (xgboost/c_api.h) the conversion calls,
 * declared here so that crisk builds without libxgboost's headers. bst_ulong is uint64_t
 * and a BoosterHandle a void pointer in every release. */
typedef struct xgb_api {
    void *lib;  /* from dlopen() */
    const char *(*last_error)(void);
    int (*get_config)(const char **config);
    int (*set_config)(const char *config);
    int (*create)(void *const *dmats, uint64_t len, void **booster);
    int (*free_booster)(void *booster);
    int (*load)(void *booster, const void *buf, uint64_t len);
    int (*save)(void *booster, const char *config, uint64_t *len, const char **text);
} xgb_api;

/* Returns the address of `name` in `lib`, or NULL after storing `name` in `*missing`
 * (the first one missing only). */
static void *symbol(void *lib, const char *name, const char **missing)
{
    void *p = dlsym(lib, name);
    if (!p && !*missing)
        *missing = name;
    return p;
}

/* Opens `library` and resolves the functions of `api`. Returns 0, or CRISK_E_DEPENDENCY
 * naming the library and its package when it is absent or lacks one of them.
 *
 * Why per call, and not once: crisk keeps no global mutable state (no init call, no
 * once-flag), and legacy models are rare and slow to convert anyway, so a dlopen() and
 * dlclose() per load cost nothing that matters. dlopen() counts references, so concurrent
 * loads are safe, and when the application has libxgboost loaded already it returns that
 * same copy. RTLD_LOCAL keeps libxgboost's symbols from resolving anyone else's. */
static int open_api(xgb_api *api, const char *library, crisk_error *err)
{
    api->lib = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!api->lib)
        return crisk__fail(err, CRISK_E_DEPENDENCY,
                           "an XGBoost legacy binary model: reading one needs %s (Debian "
                           "package " XGBOOST_PACKAGE "), which cannot be loaded: %s; install "
                           "it, or save the model as JSON or UBJSON", library, dlerror());
    const char *missing = NULL;
    api->last_error = (const char *(*)(void))symbol(api->lib, "XGBGetLastError", &missing);
    api->get_config = (int (*)(const char **))symbol(api->lib, "XGBGetGlobalConfig", &missing);
    api->set_config = (int (*)(const char *))symbol(api->lib, "XGBSetGlobalConfig", &missing);
    api->create = (int (*)(void *const *, uint64_t, void **))symbol(api->lib, "XGBoosterCreate",
                                                                    &missing);
    api->free_booster = (int (*)(void *))symbol(api->lib, "XGBoosterFree", &missing);
    api->load = (int (*)(void *, const void *, uint64_t))symbol(
        api->lib, "XGBoosterLoadModelFromBuffer", &missing);
    api->save = (int (*)(void *, const char *, uint64_t *, const char **))symbol(
        api->lib, "XGBoosterSaveModelToBuffer", &missing);
    if (!missing)
        return 0;
    dlclose(api->lib);
    return crisk__fail(err, CRISK_E_DEPENDENCY,
                       "an XGBoost legacy binary model: %s (Debian package " XGBOOST_PACKAGE
                       ") was loaded but has no %s, so it is not libxgboost's C API; install "
                       "it, or save the model as JSON or UBJSON", library, missing);
}

/* Returns libxgboost's last error on this thread, without the time stamp it starts with
 * and the stack trace after its first line, in `buf` of `cap` bytes. */
static const char *xgboost_reason(const xgb_api *api, char *buf, size_t cap)
{
    const char *msg = api->last_error();
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
static void silence(const xgb_api *api, int *saved)
{
    *saved = -1;
    const char *config = NULL;
    if (api->get_config(&config) == 0 && config) {
        cJSON *root = cJSON_Parse(config);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "verbosity");
        if (cJSON_IsNumber(v))
            *saved = v->valueint;
        cJSON_Delete(root);
    }
    if (*saved > 0)
        api->set_config("{\"verbosity\": 0}");
}

/* Puts back the verbosity that silence() saved in `saved`. */
static void restore_verbosity(const xgb_api *api, int saved)
{
    if (saved > 0) {
        char config[40];
        snprintf(config, sizeof config, "{\"verbosity\": %d}", saved);
        api->set_config(config);
    }
}

/* Loads the legacy model at `data` into a new booster and stores its JSON text, malloc'd,
 * in `*json`. */
static int convert(const xgb_api *api, const void *data, size_t size, char **json,
                   crisk_error *err)
{
    char reason[384];
    void *booster = NULL;
    if (api->create(NULL, 0, &booster) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "libxgboost cannot create a booster: %s",
                           xgboost_reason(api, reason, sizeof reason));
    int rc = 0;
    uint64_t len = 0;
    const char *text = NULL;
    if (api->load(booster, data, (uint64_t)size) != 0) {
        rc = crisk__fail(err, CRISK_E_FORMAT,
                         "not a recognised model format (" KNOWN_FORMATS "): the bytes begin "
                         "like an XGBoost legacy binary model, but libxgboost cannot load "
                         "them: %s", xgboost_reason(api, reason, sizeof reason));
    } else if (api->save(booster, "{\"format\": \"json\"}", &len, &text) != 0) {
        rc = crisk__fail(err, CRISK_E_FORMAT,
                         "libxgboost loaded the legacy binary model but cannot save it as "
                         "JSON: %s", xgboost_reason(api, reason, sizeof reason));
    } else if (!(*json = malloc((size_t)len + 1))) {
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for %llu bytes of JSON",
                         (unsigned long long)len);
    } else {
        memcpy(*json, text, (size_t)len);
        (*json)[len] = '\0';
    }
    api->free_booster(booster);
    return rc;
}

int crisk__xgboost_legacy_to_json_with(const char *library, const void *data, size_t size,
                                       char **json, crisk_error *err)
{
    *json = NULL;
    if (!looks_legacy(data, size))
        return crisk__fail(err, CRISK_E_FORMAT, "not a recognised model format (" KNOWN_FORMATS
                           ")");
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* libxgboost's reader is neither crisk's code nor instrumented: fuzzers stop here. */
    return crisk__fail(err, CRISK_E_DEPENDENCY, "an XGBoost legacy binary model: not read "
                       "in a fuzzing build");
#endif
    xgb_api api = {0};  /* all set when open_api() returns 0; GCC cannot see that */
    int rc = open_api(&api, library, err);
    if (rc != 0)
        return rc;
    int saved;
    silence(&api, &saved);
    rc = convert(&api, data, size, json, err);
    restore_verbosity(&api, saved);
    dlclose(api.lib);
    return rc;
}

int crisk__xgboost_legacy_to_json(const void *data, size_t size, char **json, crisk_error *err)
{
    return crisk__xgboost_legacy_to_json_with(XGBOOST_LIBRARY, data, size, json, err);
}
