/*
 * cmd_inspect.c — `crisk inspect`: describes a model, one "key: value" line per property.
 */
#include "cli.h"

#include <string.h>

/* Prints one line per feature storing category values: `categories[NAME]: [...]`, the
 * values in code order as a JSON array (text quoted, numbers bare); NAME is the feature's
 * stored name, or its index. */
static void print_categories(const crisk_model *model)
{
    for (size_t f = 0; f < crisk_model_num_features(model); f++) {
        size_t n = crisk_model_num_categories(model, f);
        if (n == 0)
            continue;
        const char *name = crisk_model_feature_name(model, f);
        if (name)
            printf("categories[%s]: [", name);
        else
            printf("categories[%zu]: [", f);
        int numeric = crisk_model_categories_numeric(model, f);
        for (size_t c = 0; c < n; c++) {
            const char *v = crisk_model_category(model, f, c);
            fputs(c ? ", " : "", stdout);
            if (numeric)
                fputs(v, stdout);
            else
                cli_write_json_text(stdout, v, strlen(v));
        }
        fputs("]\n", stdout);
    }
}

/* Runs `crisk inspect`: loads the model and prints its description; returns the
 * exit code. */
static int run(int argc, char **argv)
{
    cli_model_args m = {0};
    const cli_option opts[] = {{"--model", &m.path, NULL}, {"--sha256", &m.sha256, NULL}};
    int rc = cli_parse_args("inspect", argc, argv, opts, CLI_NOPTS(opts), 1);
    if (rc || (rc = cli_model_args_check(&m)) != 0)
        return rc; /* CLI_HELP included: main() prints the usage */
    crisk_model *model = cli_load_model(&m);
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
    unsigned char digest[CRISK_HASH_SIZE];
    char hex[CLI_HASH_HEX + 1];
    crisk_model_digest(model, digest);
    crisk_hex_encode(digest, sizeof digest, hex);
    printf("sha256: %s\n", hex);
    print_categories(model);
    crisk_model_free(model);
    if (fflush(stdout) != 0) {
        cli_report("stdout", "write error");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

const cli_command cli_cmd_inspect = {
    "inspect",
    "  crisk inspect --model MODEL [--sha256 HEX]\n",
    "describes a model",
    "inspect  prints the model's format, objective, booster, trees, iterations,\n"
    "         depth, nodes, features, classes, outputs, memory and sha256, one per\n"
    "         line; then, for each feature storing category values (the value each\n"
    "         code stands for), 'categories[NAME]: [...]' in code order.\n"
    "  --model MODEL     an XGBoost (JSON, UBJSON, legacy binary), LightGBM (text) or\n"
    "                    crisk logistic model file\n"
    "  --sha256 HEX      refuse the model unless its SHA-256 is HEX (pinning)\n",
    0,
    run,
};
