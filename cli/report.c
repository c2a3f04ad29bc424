/*
 * report.c — telling the user what failed: error lines on stderr, and loading a model
 * with its failure reported.
 */
#include "cli.h"

/* Prints one error line to stderr, prefixed with the command's name. */
void cli_report(const char *where, const char *message)
{
    if (where)
        fprintf(stderr, "crisk: %s: %s\n", where, message);
    else
        fprintf(stderr, "crisk: %s\n", message);
}

/* Loads a model; returns it, or NULL after printing the library's message. */
crisk_model *cli_load_model(const char *path)
{
    crisk_model *model = NULL;
    crisk_error err;
    int rc = crisk_model_load(path, &model, &err);
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
