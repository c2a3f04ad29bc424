/*
 * model/model.h — the in-memory form of a loaded model, shared by the importers (which fill it)
 * and the scoring code (which reads it). Internal to the library.
 *
 * Every importer turns its format into this one canonical form, so that the tree engine,
 * the explainers and `crisk inspect` know nothing of file formats:
 *   - a numerical split sends x LEFT iff x < threshold (float compare); importers whose
 *     format compares otherwise (LightGBM's double `x <= t`) convert the threshold so that
 *     the float compare gives the same answer for every float x;
 *   - NaN takes the node's default side;
 *   - per-feature input fix-ups (LightGBM's missing types and +inf thresholds) are applied
 *     to a row before the trees see it, so nodes never need to know them.
 */
#ifndef CRISK_MODEL_H
#define CRISK_MODEL_H

#include "crisk.h"
#include "model/categories.h"

#include <stdint.h>

/* Which library the model came from: decides accumulation and transforms. */
typedef enum crisk__family {
    CRISK__FAMILY_XGBOOST = 1,
    CRISK__FAMILY_LIGHTGBM,
    CRISK__FAMILY_LOGISTIC
} crisk__family;

/* How margins become outputs (CRISK_OUTPUT_TRANSFORMED). Each follows the formula of the
 * library named, to the bit where that library's outputs are float32. */
typedef enum crisk__transform {
    CRISK__TF_IDENTITY = 0,
    CRISK__TF_XGB_SIGMOID,      /* XGBoost: 1 / (expf(-x) + 1), x clamped */
    CRISK__TF_XGB_SOFTPROB,     /* XGBoost multi:softprob */
    CRISK__TF_XGB_SOFTMAX,      /* XGBoost multi:softmax: index of the first maximum */
    CRISK__TF_XGB_EXP,          /* XGBoost count:poisson, reg:gamma, reg:tweedie */
    CRISK__TF_XGB_HINGE,        /* XGBoost binary:hinge: x > 0 ? 1 : 0 */
    CRISK__TF_SIGMOID,          /* double 1 / (1 + exp(-param * x)): LightGBM, sklearn */
    CRISK__TF_SOFTMAX,          /* double softmax: LightGBM multiclass, multinomial logistic */
    CRISK__TF_SIGMOID_OVR,      /* per-class sigmoid (LightGBM multiclassova) */
    CRISK__TF_SIGMOID_OVR_NORM, /* per-class sigmoid, normalised to sum 1 (sklearn ovr) */
    CRISK__TF_EXP,              /* double exp (LightGBM poisson, gamma, tweedie) */
    CRISK__TF_SIGNED_SQUARE     /* LightGBM regression with sqrt: sign(x) * x^2 */
} crisk__transform;

/* Per-feature input fix-ups applied before traversal, bits of a set: LightGBM's missing
 * types (at most one of the first two) and its +inf thresholds. The bits rewrite disjoint
 * values, so the order they are applied in does not matter. */
typedef enum crisk__fixup {
    CRISK__FIXUP_NONE = 0,
    CRISK__FIXUP_NAN_TO_ZERO = 1, /* LightGBM missing type None: NaN is compared as 0.0 */
    CRISK__FIXUP_ZERO_TO_NAN = 2, /* LightGBM missing type Zero: |x| <= 1e-35f and NaN take
                                    the default side */
    CRISK__FIXUP_INF_TO_MAX = 4   /* LightGBM threshold +inf (t' = +inf): x = +inf is
                                    compared as FLT_MAX, so that it goes left there too */
} crisk__fixup;

/* Largest number of features a tree model may have: a node's feature index is a 29-bit
 * field (importers check indices before storing them; validation checks the count). */
#define CRISK__NODE_MAX_FEATURES ((size_t)1 << 28)

/* One node of the canonical tree form, 24 bytes: children are indices within the same
 * tree. A split uses threshold (or, when categorical, cat_begin and cat_nwords); a leaf
 * uses value; the two share storage, so an importer writes only the ones of its kind.
 * A LightGBM linear leaf's terms live in model->linear, indexed like model->nodes. */
typedef struct crisk__node {
    int32_t  left;               /* -1 on a leaf */
    int32_t  right;              /* -1 on a leaf */
    int32_t  feature : 29;       /* split feature; -1 on a leaf */
    uint32_t default_left : 1;   /* 1: NaN goes left */
    uint32_t categorical : 1;    /* 1: a categorical split on cat_words[cat_begin ...] */
    uint32_t cat_in_left : 1;    /* categorical: 1 if categories in the set go left
                                    (LightGBM), 0 if they go right (XGBoost); every other
                                    category, and negative or out-of-range values, go the
                                    other way */
    float    cover;              /* sum of hessians (XGBoost) or count (LightGBM), for SHAP */
    union {
        float  threshold;        /* numerical split: x < threshold goes left */
        struct {
            uint32_t cat_begin;  /* categorical split: first 32-bit word of the bitset */
            uint32_t cat_nwords; /* bitset length in words (bit c of word c/32) */
        };
        double value;            /* leaf value (for linear leaves: the constant term) */
    };
} crisk__node;

_Static_assert(sizeof(crisk__node) == 24, "crisk_node is meant to stay 24 bytes");

/* The linear model of a LightGBM linear leaf. */
typedef struct crisk__linear_leaf {
    uint32_t begin;          /* first term in model->lin_* */
    uint32_t count;          /* number of terms; 0 for a constant leaf */
    double   fallback;       /* the output when one of its features is NaN (LightGBM's
                                leaf_value, not the constant term) */
} crisk__linear_leaf;

/* What a category value the model never saw gets, as the training library decides. */
typedef enum crisk__unseen {
    CRISK__UNSEEN_ERROR = 0, /* refused, naming the feature and value (XGBoost raises) */
    CRISK__UNSEEN_MISSING    /* a missing value (LightGBM: pandas set_categories gives NaN) */
} crisk__unseen;

/* One tree: a slice of model->nodes, root first. */
typedef struct crisk__tree {
    uint32_t first_node;     /* index of the root in model->nodes */
    uint32_t num_nodes;
    uint32_t group;          /* output this tree adds to */
    uint32_t depth;          /* longest root-to-leaf path, in edges */
    double   weight;         /* DART weight_drop; 1.0 otherwise */
} crisk__tree;

struct crisk_model {
    crisk__family    family;
    char            booster[16];     /* gbtree, dart, gblinear, gbdt, linear */
    char            objective[64];
    crisk__transform transform;
    double          transform_param; /* sigmoid scale for CRISK_TF_SIGMOID* */

    size_t num_features;
    size_t num_outputs;              /* output groups (margins) per row */
    size_t num_classes;              /* 2 for binary classifiers, K for multi-class, else 0 */
    char **feature_names;            /* NULL, or num_features strings */
    crisk__categories *categories;   /* NULL, or num_features entries (categories.h) */
    crisk__unseen unseen_category;   /* the rule for values no entry holds */

    /* The margin each output starts from (XGBoost's base_score as a margin; 0 else). */
    double *base_margin;             /* num_outputs values */

    /* Tree ensembles. */
    size_t       num_trees;
    crisk__tree  *trees;
    size_t       num_nodes;
    crisk__node  *nodes;
    size_t       num_cat_words;
    uint32_t    *cat_words;
    crisk__linear_leaf *linear;       /* LightGBM linear leaves: NULL, or num_nodes entries
                                        (a split's entry unused) */
    size_t       num_linear_terms;
    int32_t     *lin_feature;
    double      *lin_coeff;
    uint8_t     *fixup;              /* NULL, or num_features sets of crisk__fixup bits */
    size_t       trees_per_iteration;/* num_outputs * num_parallel_tree */
    size_t       num_iterations;
    int          accumulate_double;  /* LightGBM: sum leaves in double */
    int          average_output;     /* LightGBM random forest: divide by iterations */

    /* Linear models (XGBoost gblinear, crisk logistic): out = x . W + bias. */
    double *weights;                 /* num_features x num_outputs, row-major (gblinear:
                                        float values, summed in float) */
    double *bias;                    /* num_outputs */
    float *mean;                     /* logistic standardisation: NULL, or num_features */
    float *scale;                    /* logistic standardisation: NULL, or num_features */
    int linear_path;                 /* binary logistic pass: an engine_path forced by
                                        crisk__linear_select, or 0 for the CPU's widest */

    /* SHA-256 of the bytes the model was loaded from (crisk_model_digest). */
    unsigned char sha256[32];

    /* The tree engine's compiled form of the trees, built once at load. */
    struct crisk__engine *engine;
};

/* Allocates an empty model (every pointer NULL). Returns NULL when out of memory. */
crisk_model *crisk__model_new(void);

/* Frees the model's own arrays and the model; its compiled engine must be freed first
 * (crisk_model_free does both). NULL is a no-op. */
void crisk__model_release(crisk_model *model);

/* Returns the bytes the model's own arrays hold, its compiled engine aside. */
size_t crisk__model_memory(const crisk_model *model);

/* Gives `model` one empty crisk__categories entry per feature (num_features must be
 * set), for an importer to fill. Returns 0 or CRISK_E_NOMEM. */
int crisk__model_categories_new(crisk_model *model, crisk_error *err);

/* Checks the invariants every importer must leave (children in range and acyclic, feature
 * indices below num_features, category bitsets in range, tree groups below num_outputs,
 * stored category values unique), computes each tree's depth and the categories' lookup
 * order, and enforces `limits`. Returns 0 or an error code with
 * `err` filled, naming the tree and node. Importers call it last. */
int crisk__model_validate(crisk_model *model, const crisk_load_limits *limits,
                          crisk_error *err);

#endif /* CRISK_MODEL_H */
