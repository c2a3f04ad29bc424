/*
 * common/error.c — error codes' names and descriptions, and filling a crisk_error.
 */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Returns the name of `code` from CRISK_ERRNO_MAP. */
const char *crisk_err_name(int code)
{
    switch (code) {
    case CRISK_OK:
        return "CRISK_OK";
#define CRISK__NAME_CASE_(name, value, text) \
    case CRISK_E_##name:                    \
        return "CRISK_E_" #name;
        CRISK_ERRNO_MAP(CRISK__NAME_CASE_)
#undef CRISK__NAME_CASE_
    default:
        return "CRISK_E_UNKNOWN";
    }
}

/* Returns the description of `code` from CRISK_ERRNO_MAP. */
const char *crisk_strerror(int code)
{
    switch (code) {
    case CRISK_OK:
        return "success";
#define CRISK__TEXT_CASE_(name, value, text) \
    case CRISK_E_##name:                    \
        return text;
        CRISK_ERRNO_MAP(CRISK__TEXT_CASE_)
#undef CRISK__TEXT_CASE_
    default:
        return "unknown error";
    }
}

int crisk_error_set(crisk_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

int crisk__options_version(unsigned int version, unsigned int known, const char *type,
                           crisk_error *err)
{
    if (version == known)
        return 0;
    return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                       "%s.version is %u; this crisk reads version %u (fill the struct with "
                       "%s_init(&opts, the header's version))", type, version, known, type);
}

int crisk__fail_prefix(crisk_error *err, int code, const char *prefix)
{
    if (err) {
        char old[sizeof err->message];
        memcpy(old, err->message, sizeof old);
        err->code = code;
        /* The prefix comes first; what does not fit of the old message is cut. */
        snprintf(err->message, sizeof err->message, "%s: ", prefix);
        size_t used = strlen(err->message);
        size_t keep = strnlen(old, sizeof err->message - 1 - used);
        memcpy(err->message + used, old, keep);
        err->message[used + keep] = '\0';
    }
    return code;
}

void crisk__error_clear(crisk_error *err)
{
    if (err) {
        err->code = CRISK_OK;
        err->message[0] = '\0';
    }
}
