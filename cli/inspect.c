/*
 * inspect.c — `crisk inspect`: describes a model, one "key: value" line per property.
 */
#include "cli.h"

#include "common/digest.h"

/* Runs `crisk inspect`: loads the model and prints its description; returns the
 * exit code. */
int cli_inspect(int argc, char **argv)
{
    const char *path = NULL, *sha256 = NULL;
    const cli_option opts[] = {{"--model", &path, NULL}, {"--sha256", &sha256, NULL}};
    int rc = cli_parse_args("inspect", argc, argv, opts, CLI_NOPTS(opts), 1);
    if (rc)
        return rc; /* CLI_HELP included: main() prints the usage */
    crisk_model *model = cli_load_model(path, sha256);
    if (!model)
        return CLI_EXIT_FAILURE;
    crisk_model_info info;
    crisk_model_get_info(model, &info);
    printf("format: %s\n", info.format);
    printf("objective: %s\n", info.objective);
    printf("booster: %s\n", info.booster);
    printf("trees: %zu\n", info.num_trees);
    printf("iterations: %zu\n", info.num_iterations);
    printf("max_depth: %zu\n", info.max_depth);
    printf("nodes: %zu\n", info.num_nodes);
    printf("features: %zu\n", info.num_features);
    printf("feature_names: %s\n", crisk_model_feature_name(model, 0) ? "yes" : "no");
    printf("classes: %zu\n", info.num_classes);
    printf("outputs: %zu\n", info.num_outputs);
    printf("memory_bytes: %zu\n", info.memory_bytes);
    unsigned char digest[CRISK_SHA256_SIZE];
    char hex[CRISK_SHA256_HEX + 1];
    crisk_model_digest(model, digest);
    crisk_hex_encode(digest, sizeof digest, hex);
    printf("sha256: %s\n", hex);
    crisk_model_free(model);
    if (fflush(stdout) != 0) {
        cli_report("stdout", "write error");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}
