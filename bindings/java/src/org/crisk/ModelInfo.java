package org.crisk;

/**
 * A description of a loaded model, as {@code crisk inspect} prints it.
 *
 * @param format        "xgboost", "lightgbm" or "logistic"
 * @param booster       "gbtree", "dart", "gblinear", "gbdt" (LightGBM) or "linear"
 * @param objective     as the file names it, e.g. "binary:logistic"
 * @param numFeatures   features (columns) a row must have
 * @param numOutputs    outputs per row (1, or the classes of a multi-class model)
 * @param numClasses    classes of a classifier (2 for binary), else 0
 * @param numTrees      trees; 0 for linear models
 * @param numIterations boosting rounds; 0 for linear models
 * @param numNodes      nodes of all trees
 * @param maxDepth      depth of the deepest tree
 * @param memoryBytes   memory held by the loaded model
 */
public record ModelInfo(String format, String booster, String objective, long numFeatures,
                        long numOutputs, long numClasses, long numTrees, long numIterations,
                        long numNodes, long maxDepth, long memoryBytes) {

    /** Returns the fields of a native crisk_model_info. */
    static ModelInfo of(NativeModelInfo n) {
        return new ModelInfo(n.getFormat(), n.getBooster(), n.getObjective(),
                n.getNum_features(), n.getNum_outputs(), n.getNum_classes(), n.getNum_trees(),
                n.getNum_iterations(), n.getNum_nodes(), n.getMax_depth(), n.getMemory_bytes());
    }
}
