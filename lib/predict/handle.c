/*
 * predict/handle.c — the public life of a loaded model beyond scoring: describing it, its
 * source digest, and freeing it with its compiled engine.
 */
#include "common/digest.h"
#include "engine/engine.h"
#include "model/model.h"

#include <string.h>

void crisk_model_free(crisk_model *model)
{
    if (!model)
        return;
    crisk__engine_free(model->engine);
    crisk__model_release(model);
}

/* Fills `info` from the model's fields. */
void crisk_model_get_info(const crisk_model *model, crisk_model_info *info)
{
    static const char *const formats[] = {"unknown", "xgboost", "lightgbm", "logistic"};
    memset(info, 0, sizeof *info);
    if (!model)
        return;
    info->format = formats[model->family <= CRISK__FAMILY_LOGISTIC ? model->family : 0];
    info->booster = model->booster;
    info->objective = model->objective;
    info->num_features = model->num_features;
    info->num_outputs = crisk_model_num_outputs(model);
    info->num_classes = model->num_classes;
    info->num_trees = model->num_trees;
    info->num_iterations = model->num_iterations;
    info->num_nodes = model->num_nodes;
    for (size_t t = 0; t < model->num_trees; t++)
        if (model->trees[t].depth > info->max_depth)
            info->max_depth = model->trees[t].depth;
    info->memory_bytes = crisk__model_memory(model) + crisk__engine_memory(model->engine);
}

/* Copies the digest of the model's source bytes, computed at load, to `out`. */
void crisk_model_digest(const crisk_model *model, unsigned char out[32])
{
    if (model)
        memcpy(out, model->sha256, CRISK__SHA256_SIZE);
    else
        memset(out, 0, CRISK__SHA256_SIZE);
}
