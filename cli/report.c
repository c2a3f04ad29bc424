/*
 * report.c — telling the user what failed: error lines on stderr, and loading a model
 * with its failure reported.
 */
#include "cli.h"

#include "common/digest.h"

#include <string.h>

/* Prints one error line to stderr, prefixed with the command's name. */
void cli_report(const char *where, const char *message)
{
    if (where)
        fprintf(stderr, "crisk: %s: %s\n", where, message);
    else
        fprintf(stderr, "crisk: %s\n", message);
}

/* Loads a model, pinned to a digest when `sha256_hex` is not NULL; returns it, or NULL
 * after printing the library's message. */
crisk_model *cli_load_model(const char *path, const char *sha256_hex)
{
    crisk_model *model = NULL;
    crisk_error err;
    crisk_load_options opts;
    crisk_load_options_init(&opts);
    if (sha256_hex) {
        if (strlen(sha256_hex) != CRISK_SHA256_HEX ||
            crisk_hex_decode(sha256_hex, CRISK_SHA256_SIZE, opts.expected_sha256) != 0) {
            cli_report("--sha256", "expected 64 hex digits (a SHA-256 digest)");
            return NULL;
        }
        opts.pin_sha256 = 1;
    }
    int rc = crisk_model_load_advanced(path, &opts, &model, &err);
    if (rc) {
        /* The library's message already starts with the path. */
        char line[sizeof err.message + 64];
        snprintf(line, sizeof line, "cannot load the model (%s): %s", crisk_err_name(rc),
                 err.message);
        cli_report(NULL, line);
        return NULL;
    }
    return model;
}

/* Loads the bundle in directory `dir`; returns it, or NULL after printing the library's
 * message (which already names the directory and the file). */
crisk_bundle *cli_load_bundle(const char *dir)
{
    crisk_bundle *bundle = NULL;
    crisk_error err;
    if (crisk_bundle_load(dir, NULL, &bundle, &err) != 0) {
        cli_report(NULL, err.message);
        return NULL;
    }
    return bundle;
}
