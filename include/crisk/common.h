/*
 * crisk/common.h — the definitions every crisk header shares: the export macro, the
 * version and the error codes. Part of the public API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_common_h
#define INCLUDE_crisk_common_h

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CRISK_BUILDING_DLL)
#  define CRISK_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define CRISK_API __attribute__((visibility("default")))
#else
#  define CRISK_API
#endif

#define CRISK_VERSION_MAJOR 0
#define CRISK_VERSION_MINOR 1
#define CRISK_VERSION_PATCH 0
#define CRISK_VERSION_NUMBER \
    (CRISK_VERSION_MAJOR * 10000 + CRISK_VERSION_MINOR * 100 + CRISK_VERSION_PATCH)

#define CRISK_STRINGIFY_(x) #x
#define CRISK_STRINGIFY(x) CRISK_STRINGIFY_(x)
#define CRISK_VERSION_STRING                                                              \
    CRISK_STRINGIFY(CRISK_VERSION_MAJOR) "." CRISK_STRINGIFY(CRISK_VERSION_MINOR) "."     \
    CRISK_STRINGIFY(CRISK_VERSION_PATCH)

/* Returns CRISK_VERSION_NUMBER of the library actually linked, which may differ from the
 * header's when the shared library was upgraded. Thread-safe. */
CRISK_API unsigned crisk_version_number(void);

/* Returns the version of the library actually linked as "MAJOR.MINOR.PATCH", a static
 * string. Thread-safe. */
CRISK_API const char *crisk_version_string(void);

/* Every error code, its name and its meaning, in one table. */
#define CRISK_ERRNO_MAP(XX)                                                               \
    XX(INVALID_ARGUMENT, -1, "invalid argument")                                          \
    XX(NOMEM,            -2, "out of memory")                                             \
    XX(IO,               -3, "input/output error")                                        \
    XX(FORMAT,           -4, "malformed or inconsistent model or input")                  \
    XX(UNSUPPORTED,      -5, "model feature not supported")                               \
    XX(LIMIT,            -6, "resource limit exceeded")                                   \
    XX(SHAPE,            -7, "array shape does not match the model")                      \
    XX(INPUT,            -8, "invalid input value")                                       \
    XX(DEPENDENCY,       -9, "optional dependency not available in this build")       \
    XX(INTEGRITY,       -10, "integrity check failed (digest, signature or audit log)")

/* The error codes: CRISK_OK (0) and one negative CRISK_E_<NAME> per row of the table. */
typedef enum crisk_errno {
    CRISK_OK = 0,
#define CRISK_ERRNO_ENUM_(name, value, text) CRISK_E_##name = (value),
    CRISK_ERRNO_MAP(CRISK_ERRNO_ENUM_)
#undef CRISK_ERRNO_ENUM_
    CRISK_E_LAST_ = -11
} crisk_errno;

/* The detail of a failure. `message` is always NUL-terminated; it names what is wrong and
 * where, e.g. "learner.gradient_booster.model.trees[3].left_children[7]: child 99 out of
 * range (tree has 15 nodes)". */
typedef struct crisk_error {
    int  code;
    char message[512];
} crisk_error;

/* Returns the name of an error code ("CRISK_E_FORMAT"), "CRISK_OK" for 0, or
 * "CRISK_E_UNKNOWN" for any other value. A static string. Thread-safe. */
CRISK_API const char *crisk_err_name(int code);

/* Returns a short English description of an error code, a static string ("unknown error"
 * for a value not in the table). Thread-safe. */
CRISK_API const char *crisk_strerror(int code);

/* Fills `err` (which may be NULL) with `code` and the message formatted from `fmt` as
 * printf does (cut to fit), and returns `code`: for a program or a callback (such as a
 * crisk_decl_reject_fn) that reports through a crisk_error as the library does.
 * Thread-safe for distinct `err`. */
CRISK_API int crisk_error_set(crisk_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_common_h */
