/*
 * report.c — telling the user what failed: error lines on stderr, a location put before a
 * message, and loading a model or bundle with its failure reported.
 */
#include "cli.h"

#include <string.h>

/* Prints one error line to stderr, prefixed with the command's name. */
void cli_report(const char *where, const char *message)
{
    if (where)
        fprintf(stderr, "crisk: %s: %s\n", where, message);
    else
        fprintf(stderr, "crisk: %s\n", message);
}

/* Rewrites the message as "`prefix`: <old message>"; returns `code`. */
int cli_fail_prefix(crisk_error *err, int code, const char *prefix)
{
    crisk_error old = *err;
    return crisk_error_set(err, code, "%s: %s", prefix, old.message);
}

/* Decodes --sha256 into the load options (a malformed digest is a bad command line). */
int cli_model_args_check(cli_model_args *m)
{
    crisk_load_options_init(&m->load, CRISK_LOAD_OPTIONS_VERSION);
    if (!m->sha256)
        return 0;
    if (strlen(m->sha256) != 2 * sizeof m->load.expected_sha256 ||
        crisk_hex_decode(m->sha256, sizeof m->load.expected_sha256,
                         m->load.expected_sha256) != 0) {
        cli_report("--sha256", "expected 64 hex digits (a SHA-256 digest)");
        return CLI_EXIT_USAGE;
    }
    m->load.pin_sha256 = 1;
    return 0;
}

/* Loads the model, pinned when --sha256 was given; returns it, or NULL after printing the
 * library's message. */
crisk_model *cli_load_model(const cli_model_args *m)
{
    crisk_model *model = NULL;
    crisk_error err;
    int rc = crisk_model_load_advanced(m->path, &m->load, &model, &err);
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
