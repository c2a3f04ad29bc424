#!/usr/bin/env python3
"""Writes the malformed-XGBoost-model corpus that tests/c/test_malformed.c loads.

Run from anywhere: `python3 tests/corpus/xgboost/make_corpus.py`. The outputs are committed
with this script; re-running it rewrites them (the base models come from the pinned
xgboost package, so a different version may change their bytes, not their structure).

Every file is a small real model (trained here by xgboost on 64 rows, 3 features, the
last categorical) with one defect, and has a line in EXPECTED:

    <file> <expected crisk error name> <substring the message must contain>

A few valid models are listed with CRISK_OK and an empty substring, as controls:
`valid_v17_nan.json` is shaped as libxgboost 1.7 writes it, with a bare `NaN` token as the
split condition of categorical splits (1.7's JSON writer does this; JSON has no NaN, so a
strict JSON parser refuses such files).
"""
import copy
import json
import math
import os
from pathlib import Path

import numpy as np
import xgboost as xgb

HERE = Path(__file__).resolve().parent


def train_booster(params, rounds=2, categorical=True):
    """Returns a tiny booster trained with `params` (the third feature declared
    categorical, or numerical for boosters that refuse categories)."""
    rng = np.random.default_rng(0)
    x = rng.random((64, 3)).astype(np.float32)
    x[:, 2] = rng.integers(0, 4, 64)
    y = (x[:, 0] + (x[:, 2] == 1) > 0.8).astype(np.float32)
    d = xgb.DMatrix(x, label=y, feature_types=["q", "q", "c" if categorical else "q"],
                    enable_categorical=categorical)
    base = {"base_score": 0.5, "objective": "binary:logistic", "seed": 0, "nthread": 1}
    if categorical:
        base.update({"max_depth": 2, "tree_method": "hist", "max_cat_to_onehot": 1})
    base.update(params)
    return xgb.train(base, d, rounds)


def train(params, rounds=2, categorical=True):
    """Returns the parsed JSON of train_booster(...)."""
    booster = train_booster(params, rounds, categorical)
    return json.loads(booster.save_raw("json").decode())


def dump(doc):
    """Serialises like XGBoost: compact; NaN and infinities as bare tokens."""
    return json.dumps(doc, separators=(",", ":"), allow_nan=True).encode()


def trees(doc):
    return doc["learner"]["gradient_booster"]["model"]["trees"]


def tree0(doc):
    return trees(doc)[0]


def as_v17(doc):
    """Reshapes a 3.x document as libxgboost 1.7 writes it."""
    d = copy.deepcopy(doc)
    model = d["learner"]["gradient_booster"]["model"]
    model.pop("cats", None)
    model.pop("iteration_indptr", None)
    model["gbtree_model_param"]["size_leaf_vector"] = "0"
    for t in model["trees"]:
        t["tree_param"]["size_leaf_vector"] = "0"
        for i, kind in enumerate(t["split_type"]):
            if kind == 1:
                t["split_conditions"][i] = math.nan
    d["learner"]["learner_model_param"]["base_score"] = "5E-1"
    d["version"] = [1, 7, 4]
    return d


def as_dart(doc):
    """Wraps a gbtree document as a DART booster with explicit tree weights."""
    d = copy.deepcopy(doc)
    gb = d["learner"]["gradient_booster"]
    d["learner"]["gradient_booster"] = {
        "name": "dart", "gbtree": {"model": gb["model"], "name": "gbtree"},
        "weight_drop": [1.0, 0.5]}
    return d


def chain(doc, depth):
    """Replaces tree 0 with a chain `depth` splits deep (each split's left child a leaf)."""
    d = copy.deepcopy(doc)
    t = tree0(d)
    n = 2 * depth + 1
    left, right, cond = [], [], []
    for i in range(n):
        if i % 2 == 0 and i < n - 1:
            left.append(i + 1)
            right.append(i + 2)
            cond.append(0.5)
        else:
            left.append(-1)
            right.append(-1)
            cond.append(0.25)
    t.update({"left_children": left, "right_children": right, "split_conditions": cond,
              "parents": [2147483647] + [i - 1 if i % 2 else i - 2 for i in range(1, n)],
              "split_indices": [0] * n, "split_type": [0] * n, "default_left": [0] * n,
              "base_weights": [0.0] * n, "loss_changes": [0.0] * n,
              "sum_hessian": [1.0] * n, "categories": [], "categories_nodes": [],
              "categories_segments": [], "categories_sizes": []})
    t["tree_param"]["num_nodes"] = str(n)
    return d


def set_path(doc, path, value):
    """Returns a copy of `doc` with the item at `path` (a list of keys) set to `value`."""
    d = copy.deepcopy(doc)
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return d


def delete_path(doc, path):
    d = copy.deepcopy(doc)
    node = d
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return d


def edit_tree0(doc, fn):
    d = copy.deepcopy(doc)
    fn(tree0(d))
    return d


def main():
    base = train({})
    linear = train({"booster": "gblinear"}, categorical=False)
    t0 = tree0(base)
    num_split = next(i for i, k in enumerate(t0["split_type"])
                     if k == 0 and t0["left_children"][i] != -1)
    cat_split = next(i for i, k in enumerate(t0["split_type"]) if k == 1)
    leaf = t0["left_children"].index(-1)
    L = ["learner"]
    GB = L + ["gradient_booster"]
    M = GB + ["model"]
    T0 = M + ["trees", 0]
    LMP = L + ["learner_model_param"]

    cases = []  # (file name, bytes, code, substring)

    def add(name, doc_or_bytes, code, substring):
        data = doc_or_bytes if isinstance(doc_or_bytes, bytes) else dump(doc_or_bytes)
        cases.append((name, data, code, substring))

    # Controls.
    add("valid_base.json", base, "CRISK_OK", "")
    add("valid_v17_nan.json", as_v17(base), "CRISK_OK", "")
    add("valid_dart.json", as_dart(base), "CRISK_OK", "")
    add("valid_gblinear.json", linear, "CRISK_OK", "")

    # Wrong JSON types.
    add("type_root_array.json", b"[1, 2, 3]", "CRISK_E_FORMAT", "format")
    add("type_learner_array.json", set_path(base, L, []), "CRISK_E_FORMAT", "learner")
    add("type_trees_object.json", set_path(base, M + ["trees"], {}), "CRISK_E_FORMAT",
        "trees")
    add("type_tree_string.json", set_path(base, M + ["trees", 1], "tree"), "CRISK_E_FORMAT",
        "trees[1]")
    add("type_left_children_string.json", set_path(base, T0 + ["left_children"], "1,3"),
        "CRISK_E_FORMAT", "left_children")
    add("type_split_condition_string.json",
        set_path(base, T0 + ["split_conditions", num_split], "0.5"), "CRISK_E_FORMAT",
        "split_conditions")
    add("type_split_condition_nan_string.json",
        set_path(base, T0 + ["split_conditions", num_split], "NaN"), "CRISK_E_FORMAT",
        "split_conditions")
    add("type_split_index_float.json", set_path(base, T0 + ["split_indices", 0], 0.5),
        "CRISK_E_FORMAT", "split_indices")
    add("type_num_feature_array.json", set_path(base, LMP + ["num_feature"], [3]),
        "CRISK_E_FORMAT", "num_feature")
    add("type_num_nodes_text.json", set_path(base, T0 + ["tree_param", "num_nodes"], "five"),
        "CRISK_E_FORMAT", "num_nodes")
    add("type_objective_name_number.json", set_path(base, L + ["objective", "name"], 7),
        "CRISK_E_FORMAT", "name")
    add("type_base_score_text.json", set_path(base, LMP + ["base_score"], "high"),
        "CRISK_E_FORMAT", "base_score")

    # Missing fields.
    add("missing_learner_model_param.json", delete_path(base, LMP), "CRISK_E_FORMAT",
        "learner_model_param")
    add("missing_gradient_booster.json", delete_path(base, GB), "CRISK_E_FORMAT",
        "gradient_booster")
    add("missing_objective.json", delete_path(base, L + ["objective"]), "CRISK_E_FORMAT",
        "objective")
    add("missing_trees.json", delete_path(base, M + ["trees"]), "CRISK_E_FORMAT", "trees")
    add("missing_tree_info.json", delete_path(base, M + ["tree_info"]), "CRISK_E_FORMAT",
        "tree_info")
    add("missing_split_indices.json", delete_path(base, T0 + ["split_indices"]),
        "CRISK_E_FORMAT", "split_indices")
    add("missing_right_children.json", delete_path(base, T0 + ["right_children"]),
        "CRISK_E_FORMAT", "right_children")
    add("missing_num_nodes.json", delete_path(base, T0 + ["tree_param", "num_nodes"]),
        "CRISK_E_FORMAT", "num_nodes")
    add("missing_num_feature.json", delete_path(base, LMP + ["num_feature"]),
        "CRISK_E_FORMAT", "num_feature")

    # Broken tree structure.
    add("child_out_of_range.json", set_path(base, T0 + ["left_children", 0], 99),
        "CRISK_E_FORMAT", "99")
    add("child_negative.json", set_path(base, T0 + ["right_children", 0], -5),
        "CRISK_E_FORMAT", "-5")
    inner = next(i for i in range(1, len(t0["left_children"])) if t0["left_children"][i] != -1)
    add("cycle_to_root.json", set_path(base, T0 + ["left_children", inner], 0),
        "CRISK_E_FORMAT", "cycle")
    add("self_loop.json", set_path(base, T0 + ["right_children", 0], 0), "CRISK_E_FORMAT",
        "cycle")
    shared = t0["right_children"][0]
    add("node_reached_twice.json",
        set_path(base, T0 + ["left_children", t0["left_children"][0]], shared),
        "CRISK_E_FORMAT", "twice")
    add("leaf_with_right_child.json", set_path(base, T0 + ["right_children", leaf], 1),
        "CRISK_E_FORMAT", "leaf")
    add("feature_out_of_range.json", set_path(base, T0 + ["split_indices", num_split], 7),
        "CRISK_E_FORMAT", "feature 7")
    add("feature_negative.json", set_path(base, T0 + ["split_indices", num_split], -1),
        "CRISK_E_FORMAT", "-1")
    # 2^29 + 1 would read as feature 1 if stored unchecked in the node's 29-bit field.
    add("feature_wraps.json", set_path(base, T0 + ["split_indices", num_split], (1 << 29) + 1),
        "CRISK_E_FORMAT", "feature 536870913")
    add("threshold_nan_numerical.json",
        set_path(base, T0 + ["split_conditions", num_split], math.nan), "CRISK_E_FORMAT",
        "NaN")
    add("leaf_infinite.json", set_path(base, T0 + ["split_conditions", leaf], math.inf),
        "CRISK_E_FORMAT", "finite")
    add("depth_over_limit.json", chain(base, 300), "CRISK_E_LIMIT", "max_depth")
    add("depth_at_limit.json", chain(base, 256), "CRISK_OK", "")

    # Categorical splits.
    add("category_negative.json",
        edit_tree0(base, lambda t: t["categories"].__setitem__(0, -3)), "CRISK_E_FORMAT",
        "categories")
    add("category_over_limit.json",
        edit_tree0(base, lambda t: t["categories"].__setitem__(0, 1 << 24)), "CRISK_E_LIMIT",
        "categories")
    add("category_segment_out_of_range.json",
        edit_tree0(base, lambda t: t["categories_segments"].__setitem__(0, 50)),
        "CRISK_E_FORMAT", "categories_segments")
    add("category_node_not_categorical.json",
        edit_tree0(base, lambda t: t["categories_nodes"].__setitem__(0, num_split)),
        "CRISK_E_FORMAT", "categories_nodes")
    add("category_nodes_missing.json",
        edit_tree0(base, lambda t: t.update({"categories_nodes": [], "categories_segments": [],
                                             "categories_sizes": []})),
        "CRISK_E_FORMAT", "categories_nodes")
    assert cat_split >= 0

    # Stored category values (XGBoost 3.1+'s cats): one entry per feature, text as int8
    # bytes between offsets, or integers with their array type.
    def with_cats(*entries):
        empty = {"offsets": [], "values": []}
        doc = copy.deepcopy(base)
        doc["learner"]["gradient_booster"]["model"]["cats"] = {
            "enc": [empty, empty, *entries] if len(entries) == 1 else list(entries),
            "feature_segments": [], "sorted_idx": []}
        return doc

    def text(*values):
        data = b"".join(v.encode() for v in values)
        return {"offsets": list(np.cumsum([0] + [len(v.encode()) for v in values])
                                .tolist()), "values": [b - 256 if b > 127 else b for b in data]}

    add("cats_valid.json", with_cats(text("A", "B", "C", "D")), "CRISK_OK", "")
    add("cats_valid_numbers.json", with_cats({"type": 15, "values": [10, 20, 30, 40]}),
        "CRISK_OK", "")
    add("cats_duplicate.json", with_cats(text("A", "B", "A", "D")), "CRISK_E_FORMAT",
        "twice")
    add("cats_duplicate_numbers.json", with_cats({"type": 15, "values": [10, 20, 10]}),
        "CRISK_E_FORMAT", "twice")
    add("cats_offsets_decreasing.json",
        with_cats({"offsets": [0, 2, 1, 4], "values": [65, 66, 67, 68]}), "CRISK_E_FORMAT",
        "offsets[2]")
    add("cats_offset_beyond.json", with_cats({"offsets": [0, 2, 9], "values": [65, 66, 67]}),
        "CRISK_E_FORMAT", "offsets[2]")
    add("cats_offset_not_zero.json", with_cats({"offsets": [1, 2], "values": [65, 66]}),
        "CRISK_E_FORMAT", "offsets[0]")
    add("cats_value_not_byte.json", with_cats({"offsets": [0, 1], "values": [300]}),
        "CRISK_E_FORMAT", "values[0]")
    add("cats_number_fraction.json", with_cats({"type": 8, "values": [1.5, 2]}),
        "CRISK_E_FORMAT", "values[0]")
    add("cats_nul_byte.json", with_cats({"offsets": [0, 2], "values": [65, 0]}),
        "CRISK_E_FORMAT", "NUL")
    # XGBoost 3.2 writes pandas categories' offsets in characters over UTF-8 bytes.
    add("cats_non_ascii.json", with_cats(text("\u00e9", "A")), "CRISK_E_UNSUPPORTED",
        "non-ASCII")
    add("cats_enc_short.json", with_cats(text("A"), text("B")), "CRISK_E_FORMAT",
        "2 entries")
    add("cats_entry_not_object.json", with_cats(1), "CRISK_E_FORMAT", "enc[2]")
    add("cats_not_object.json", set_path(base, M + ["cats"], [1]), "CRISK_E_FORMAT", "cats")

    # Absurd sizes (limits) and inconsistent lengths.
    add("num_nodes_absurd.json", set_path(base, T0 + ["tree_param", "num_nodes"],
                                          "4000000000"), "CRISK_E_LIMIT", "max_nodes")
    add("num_trees_absurd.json",
        set_path(base, M + ["gbtree_model_param", "num_trees"], "2000000000"),
        "CRISK_E_LIMIT", "max_trees")
    add("num_feature_absurd.json", set_path(base, LMP + ["num_feature"], "100000000000"),
        "CRISK_E_LIMIT", "max_features")
    add("num_class_absurd.json",
        set_path(set_path(base, LMP + ["num_class"], "5000000"),
                 L + ["objective", "name"], "multi:softprob"), "CRISK_E_LIMIT", "max_outputs")
    add("num_trees_mismatch.json", set_path(base, M + ["gbtree_model_param", "num_trees"], "3"),
        "CRISK_E_FORMAT", "num_trees")
    add("num_nodes_mismatch.json", set_path(base, T0 + ["tree_param", "num_nodes"], "4"),
        "CRISK_E_FORMAT", "num_nodes")
    add("left_children_short.json",
        edit_tree0(base, lambda t: t["left_children"].pop()), "CRISK_E_FORMAT",
        "left_children")
    add("default_left_long.json",
        edit_tree0(base, lambda t: t["default_left"].append(0)), "CRISK_E_FORMAT",
        "default_left")
    add("split_conditions_short.json",
        edit_tree0(base, lambda t: t["split_conditions"].pop()), "CRISK_E_FORMAT",
        "split_conditions")
    add("tree_info_short.json", set_path(base, M + ["tree_info"], [0]), "CRISK_E_FORMAT",
        "tree_info")
    add("tree_info_group_out_of_range.json", set_path(base, M + ["tree_info", 1], 5),
        "CRISK_E_FORMAT", "tree_info")
    add("num_class_one_multi.json",
        set_path(set_path(base, LMP + ["num_class"], "1"), L + ["objective", "name"],
                 "multi:softprob"), "CRISK_E_FORMAT", "num_class")
    add("dart_weight_drop_short.json",
        set_path(as_dart(base), GB + ["weight_drop"], [1.0]), "CRISK_E_FORMAT", "weight_drop")
    add("dart_weight_drop_nan.json",
        set_path(as_dart(base), GB + ["weight_drop", 1], math.nan), "CRISK_E_FORMAT",
        "weight")
    add("gblinear_weights_short.json",
        set_path(linear, M + ["weights"], linear["learner"]["gradient_booster"]["model"]
                 ["weights"][:-1]), "CRISK_E_FORMAT", "weights")

    # What crisk does not implement: refused by name.
    add("objective_unknown.json", set_path(base, L + ["objective", "name"], "reg:nonsense"),
        "CRISK_E_UNSUPPORTED", "reg:nonsense")
    add("objective_survival_cox.json",
        set_path(base, L + ["objective", "name"], "survival:cox"), "CRISK_E_UNSUPPORTED",
        "survival:cox")
    add("booster_unknown.json", set_path(base, GB + ["name"], "gbforest"),
        "CRISK_E_UNSUPPORTED", "gbforest")
    vector = set_path(base, T0 + ["tree_param", "size_leaf_vector"], "3")
    add("vector_leaf.json", vector, "CRISK_E_UNSUPPORTED", "size_leaf_vector")

    # Not JSON, or not all of it.
    add("empty.json", b"", "CRISK_E_FORMAT", "empty")
    whole = dump(base)
    for cut in (1, 9, 100, len(whole) // 2, len(whole) - 1):
        add(f"truncated_{cut}.json", whole[:cut], "CRISK_E_FORMAT", "JSON")
    add("nested_arrays.json", b"{\"learner\":" + b"[" * 5000 + b"]" * 5000 + b"}",
        "CRISK_E_FORMAT", "JSON")
    add("garbage_after.json", whole + b"}}", "CRISK_E_FORMAT", "JSON")

    # UBJSON: the same base model, whole and cut short.
    ubj = bytes(train_booster({}).save_raw("ubj"))
    add("valid_base.ubj", ubj, "CRISK_OK", "")
    for cut in (2, 40, len(ubj) // 2, len(ubj) - 1):
        add(f"truncated_{cut}.ubj", ubj[:cut], "CRISK_E_FORMAT", "byte")

    for old in [*HERE.glob("*.json"), *HERE.glob("*.ubj")]:
        old.unlink()
    lines = ["# file code message-substring (see make_corpus.py); '.' is this directory",
             ". CRISK_E_IO not a regular file"]
    for name, data, code, substring in cases:
        (HERE / name).write_bytes(data)
        lines.append(f"{name} {code} {substring}".rstrip())
    (HERE / "EXPECTED").write_text("\n".join(lines) + "\n")
    print(f"wrote {len(cases)} files to {os.path.relpath(HERE)}")


if __name__ == "__main__":
    main()
