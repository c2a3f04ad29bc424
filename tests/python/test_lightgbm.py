"""LightGBM text models in crisk, against LightGBM itself (lightgbm 4.x, run at test time).

Every model is trained here on small deterministic data with NaN, zeros and categorical
features, saved with save_model (crisk_model_load) and model_to_string
(crisk_model_load_buffer), and crisk's transformed outputs and raw scores are compared
with Booster.predict on the same float32 rows, to 1e-6. Hand-written model texts probe
the threshold conversion ulp by ulp and the categorical rule; the hostile corpus in
tests/corpus/lightgbm must be refused with the listed code and message.
"""
import json
import os
from pathlib import Path

import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")

from crisk_ctypes import CModel, CriskError  # noqa: E402

TOL = 1e-6
CORPUS = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).parents[2])) / "tests" / \
    "corpus" / "lightgbm"
E_FORMAT, E_UNSUPPORTED, E_LIMIT = -4, -5, -6
KZERO = float(np.float32(1e-35))


def make_data(n=300, seed=7):
    """Five numerical features (NaN in 0 and 4, exact zeros in 1, negatives in 2), a
    categorical feature 5 with 12 codes and NaN, and one 6 with 3 codes."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 7)).astype(np.float32)
    X[rng.random(n) < 0.15, 0] = np.nan
    X[rng.random(n) < 0.4, 1] = 0.0
    X[:, 2] = -np.abs(X[:, 2])
    X[rng.random(n) < 0.1, 4] = np.nan
    X[:, 5] = rng.integers(0, 12, n)
    X[rng.random(n) < 0.1, 5] = np.nan
    X[:, 6] = rng.integers(0, 3, n)
    score = (np.nan_to_num(X[:, 0]) + 0.8 * X[:, 1] - 0.5 * X[:, 2]
             + np.where(np.isin(X[:, 5], [1, 4, 7, 9]), 1.0, -0.5) + 0.3 * X[:, 6])
    return X, score.astype(np.float64), rng


def probe_rows(X):
    """The training rows' first 120, then rows crafted to hit every rule: NaN, +-0, values
    at and around LightGBM's zero threshold, infinities, negative and fractional
    categories, unseen and huge categories."""
    specials = np.array([np.nan, 0.0, -0.0, 1e-35, -1e-35, 1e-36, -1e-36, 2e-35, -2e-35,
                         np.inf, -np.inf, 1e30, -1e30, 0.5, -0.5], dtype=np.float32)
    cats = np.array([np.nan, -0.5, -0.0, -1.0, -3.0, 0.0, 0.7, 1.0, 4.2, 7.0, 11.0, 12.0,
                     31.0, 32.0, 100.0, 1e10, np.inf], dtype=np.float32)
    rows = [X[:120]]
    rng = np.random.default_rng(1)
    extra = np.repeat(X[120:180], 1, axis=0).copy()
    for j in range(5):
        extra[:, j] = specials[rng.integers(0, len(specials), len(extra))]
    extra[:, 5] = cats[rng.integers(0, len(cats), len(extra))]
    extra[:, 6] = cats[rng.integers(0, len(cats), len(extra))]
    rows.append(extra)
    for v in specials:
        rows.append(np.full((1, X.shape[1]), v, dtype=np.float32))
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)


def assert_close(got, want, what):
    """|crisk - LightGBM| <= 1e-6, plus the float32 rounding of crisk's output when the
    value is large (linear leaves on inputs of 1e30); equal infinities match."""
    want = np.asarray(want, dtype=np.float64).reshape(got.shape)
    got = got.astype(np.float64)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(got - want))
    excess = np.where(same, 0.0, diff - (TOL + np.abs(want) * 2.0 ** -24))
    worst = int(np.argmax(excess))
    assert not (excess > 0).any(), \
        f"{what}: |crisk - LightGBM| = {diff.flat[worst]:.3g} at {worst} " \
        f"(crisk {got.flat[worst]!r}, LightGBM {want.flat[worst]!r})"


def compare(booster, X, tmp_path, ranges=((0, 0),)):
    """Loads `booster` into crisk from a file and from a buffer and compares transformed
    and raw predictions, for each iteration range, with LightGBM's."""
    path = tmp_path / "model.txt"
    booster.save_model(str(path))
    text = booster.model_to_string()
    ref = lgb.Booster(model_file=str(path))
    n_iter = ref.num_trees() // ref.num_model_per_iteration()
    for source in (path, text.encode()):
        model = CModel(source)
        for begin, end in ranges:
            num = (end or n_iter) - begin
            for raw in (False, True):
                want = ref.predict(X, raw_score=raw, start_iteration=begin, num_iteration=num)
                got = model.predict(X, margin=raw, iteration_range=(begin, end))
                assert_close(got, want, f"{type(source).__name__} raw={raw} [{begin},{end})")
                # The in-memory booster agrees with the reloaded one.
                mem = booster.predict(X, raw_score=raw, start_iteration=begin,
                                      num_iteration=num)
                assert_close(got, mem, "in-memory booster")
    return text


def train(params, X, y, rounds=8, categorical=(5, 6), **dataset_kw):
    base = {"verbose": -1, "num_leaves": 7, "min_data_in_leaf": 5, "min_data_per_group": 5,
            "cat_smooth": 1.0, "deterministic": True, "num_threads": 1, "seed": 3}
    base.update(params)
    ds = lgb.Dataset(X, y, categorical_feature=list(categorical), params=base, **dataset_kw)
    return lgb.train(base, ds, rounds)


def labels(kind, score, rng):
    if kind == "binary":
        return (score > np.median(score)).astype(float)
    if kind == "multi":
        return np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(float)
    if kind == "prob":
        return 1.0 / (1.0 + np.exp(-score))
    if kind == "positive":
        return np.exp(0.3 * score) + 0.1 * rng.random(len(score))
    if kind == "count":
        return rng.poisson(np.exp(0.3 * score)).astype(float)
    if kind == "rank":
        return np.digitize(score, np.quantile(score, [0.3, 0.6, 0.85])).astype(float)
    return 0.5 * score + 0.1 * rng.normal(size=len(score))


OBJECTIVES = [
    ("binary", {"objective": "binary"}, "binary"),
    ("binary_sigmoid", {"objective": "binary", "sigmoid": 0.7}, "binary"),
    ("multiclass", {"objective": "multiclass", "num_class": 3}, "multi"),
    ("multiclassova", {"objective": "multiclassova", "num_class": 3, "sigmoid": 1.3}, "multi"),
    ("cross_entropy", {"objective": "cross_entropy"}, "prob"),
    ("regression", {"objective": "regression"}, "real"),
    ("regression_sqrt", {"objective": "regression", "reg_sqrt": True}, "real"),
    ("regression_l1", {"objective": "regression_l1"}, "real"),
    ("huber", {"objective": "huber"}, "real"),
    ("fair", {"objective": "fair"}, "real"),
    ("quantile", {"objective": "quantile", "alpha": 0.3}, "real"),
    ("mape", {"objective": "mape"}, "positive"),
    ("poisson", {"objective": "poisson"}, "count"),
    ("gamma", {"objective": "gamma"}, "positive"),
    ("tweedie", {"objective": "tweedie", "tweedie_variance_power": 1.4}, "count"),
]


@pytest.mark.parametrize("name,params,kind", OBJECTIVES, ids=[o[0] for o in OBJECTIVES])
def test_objectives(name, params, kind, tmp_path):
    X, score, rng = make_data()
    booster = train(params, X, labels(kind, score, rng))
    compare(booster, probe_rows(X), tmp_path, ranges=((0, 0), (2, 5)))


@pytest.mark.parametrize("objective", ["lambdarank", "rank_xendcg"])
def test_ranking(objective, tmp_path):
    X, score, rng = make_data()
    booster = train({"objective": objective}, X, labels("rank", score, rng), group=[30] * 10)
    compare(booster, probe_rows(X), tmp_path)


@pytest.mark.parametrize("params", [{"zero_as_missing": True}, {"use_missing": False}],
                         ids=["zero_as_missing", "no_missing"])
def test_missing_types(params, tmp_path):
    """zero_as_missing gives missing type Zero, use_missing=False type None; the model
    must carry them (checked in the text) and crisk must route NaN and zeros alike."""
    X, score, rng = make_data()
    booster = train(dict(params, objective="regression"), X, labels("real", score, rng),
                    rounds=10, categorical=())
    text = compare(booster, probe_rows(X), tmp_path)
    types = {int(d) >> 2 & 3 for line in text.splitlines() if line.startswith("decision_type=")
             for d in line.split("=")[1].split()}
    assert types == ({1} if "zero_as_missing" in params else {0})


def test_mixed_missing_types(tmp_path):
    """Default training: features with NaN get type NaN, the others None, in one model."""
    X, score, rng = make_data()
    booster = train({"objective": "binary"}, X, labels("binary", score, rng), rounds=10)
    text = compare(booster, probe_rows(X), tmp_path)
    types = {int(d) >> 2 & 3 for line in text.splitlines() if line.startswith("decision_type=")
             for d in line.split("=")[1].split() if not int(d) & 1}
    assert types == {0, 2}


@pytest.mark.parametrize("objective,kind", [("regression", "real"), ("binary", "binary")])
def test_nan_training_gives_inf_thresholds(objective, kind, tmp_path):
    """Features whose NaN carries the signal: LightGBM writes threshold +inf ("every number
    left, NaN right") on them, and crisk must send +inf, FLT_MAX and the rest left there
    and NaN right, in every combination with the features' other splits."""
    rng = np.random.default_rng(1)
    n = 300
    X = rng.normal(size=(n, 4)).astype(np.float32)
    X[rng.random(n) < 0.3, 0] = np.nan
    X[rng.random(n) < 0.3, 1] = np.nan
    X[rng.random(n) < 0.3, 3] = 0.0
    score = (np.where(np.isnan(X[:, 0]), 2.0, np.nan_to_num(X[:, 0]))
             - np.isnan(X[:, 1]) + 0.5 * X[:, 2] + 0.3 * X[:, 3])
    booster = train({"objective": objective}, X, labels(kind, score, rng), rounds=10,
                    categorical=())
    specials = np.array([np.inf, -np.inf, np.nan, FLT_MAX, -FLT_MAX, 0.0, -0.0, 1e-36,
                         1e30, 0.5, -0.5], dtype=np.float32)
    extra = X[:80].copy()
    for j in range(4):
        extra[:, j] = specials[rng.integers(0, len(specials), len(extra))]
    rows = [X[:100], extra] + [np.full((1, 4), v, dtype=np.float32) for v in specials]
    text = compare(booster, np.vstack(rows), tmp_path)
    thresholds = [v for line in text.splitlines() if line.startswith("threshold=")
                  for v in line.split("=")[1].split()]
    assert "inf" in thresholds


@pytest.mark.parametrize("objective,kind", [("regression", "real"), ("binary", "binary")])
def test_linear_trees(objective, kind, tmp_path):
    X, score, rng = make_data()
    booster = train({"objective": objective, "linear_tree": True, "linear_lambda": 0.1}, X,
                    labels(kind, score, rng))
    text = compare(booster, probe_rows(X), tmp_path)
    assert "is_linear=1" in text and "leaf_coeff=" in text


@pytest.mark.parametrize("objective,kind", [("binary", "binary"),
                                            ("multiclass", "multi")])
def test_random_forest(objective, kind, tmp_path):
    X, score, rng = make_data()
    params = {"objective": objective, "boosting": "rf", "bagging_fraction": 0.7,
              "bagging_freq": 1, "feature_fraction": 0.8}
    if kind == "multi":
        params["num_class"] = 3
    booster = train(params, X, labels(kind, score, rng))
    text = compare(booster, probe_rows(X), tmp_path, ranges=((0, 0), (1, 4)))
    assert "\naverage_output\n" in text


def test_single_leaf_trees(tmp_path):
    """min_data_in_leaf above the row count: every tree is one leaf."""
    X, score, rng = make_data()
    for params in ({"objective": "binary"}, {"objective": "multiclass", "num_class": 3},
                   {"objective": "regression", "linear_tree": True}):
        kind = "multi" if "num_class" in params else "binary"
        booster = train(dict(params, min_data_in_leaf=1000), X, labels(kind, score, rng))
        text = compare(booster, probe_rows(X), tmp_path)
        assert "num_leaves=1\n" in text


# Hand-written models: LightGBM loads the same text, so it is the reference.

def model_text(trees, num_features, objective):
    """A LightGBM v4 model text with `trees`, each a dict of tree keys to strings."""
    k = int(objective.split("num_class:")[1].split()[0]) if "num_class:" in objective else 1
    head = ["tree", "version=v4", f"num_class={k}", f"num_tree_per_iteration={k}",
            "label_index=0", f"max_feature_idx={num_features - 1}", f"objective={objective}",
            "feature_names=" + " ".join(f"f{i}" for i in range(num_features)),
            "feature_infos=" + " ".join("none" for _ in range(num_features)), ""]
    body = []
    for i, tree in enumerate(trees):
        body.append(f"Tree={i}")
        body += [f"{key}={value}" for key, value in tree.items()]
        body.append("")
    return "\n".join(head + body + ["end of trees", ""])


def stump(feature, threshold, decision_type, cat=None):
    tree = {"num_leaves": "2", "num_cat": "1" if cat else "0", "split_feature": str(feature),
            "split_gain": "1", "threshold": repr(threshold), "decision_type": str(decision_type),
            "left_child": "-1", "right_child": "-2", "leaf_value": "0 1",
            "leaf_weight": "1 1", "leaf_count": "1 1", "internal_value": "0",
            "internal_weight": "1", "internal_count": "2", "is_linear": "0", "shrinkage": "1"}
    if cat:
        tree["cat_boundaries"] = " ".join(map(str, cat[0]))
        tree["cat_threshold"] = " ".join(map(str, cat[1]))
    return tree


def f32(x):
    return float(np.float32(x))


def ulps(x, n):
    """The floats within n ulps of float32(x)."""
    out = [np.float32(x)]
    up = down = np.float32(x)
    for _ in range(n):
        with np.errstate(over="ignore"):
            up = np.nextafter(up, np.float32(np.inf))
            down = np.nextafter(down, np.float32(-np.inf))
        out += [up, down]
    return out


FLT_MAX = float(np.finfo(np.float32).max)
THRESHOLDS = [
    0.0, KZERO, -KZERO, np.nextafter(KZERO, 1), np.nextafter(KZERO, -1),
    np.nextafter(-KZERO, 1), np.nextafter(-KZERO, -1), 5e-36, -5e-36, 1e-40, -1e-40,
    1e-30, -1e-30, 0.5, -0.5, 0.1, -0.1, 1.0 / 3, -1.0 / 3,
    f32(0.1) + 2.0 ** -28 * 0.1,                      # between two floats
    (f32(0.1) + float(np.nextafter(np.float32(0.1), np.float32(1)))) / 2,  # halfway
    0.30000001192092896, 12345.678901234567, -98765.4321, 1e10 + 0.3,
    FLT_MAX, -FLT_MAX, FLT_MAX * (1 + 2.0 ** -26), -FLT_MAX * (1 + 2.0 ** -26), 1e39, -1e39,
    1e300, -1e300, -np.inf, 2.0 ** -149, -(2.0 ** -149), 2.0 ** -126,
]


# Threshold +inf sends x = +inf left, a finite one >= FLT_MAX sends it right: crisk takes
# either kind on a feature, never both (see test_inf_and_huge_thresholds_refused).
INF_THRESHOLDS = [np.inf] + [t for t in THRESHOLDS if t < FLT_MAX]


@pytest.mark.parametrize("thresholds", [THRESHOLDS, INF_THRESHOLDS], ids=["finite", "inf"])
def test_threshold_conversion_ulp_by_ulp(thresholds, tmp_path):
    """For every threshold of the list and the three missing types (features 0: NaN, 1:
    None, 2: Zero, default left), every float within 4 ulps of the threshold, of 0, of
    +-kZeroThreshold and of +-FLT_MAX, and the infinities and NaN, must go where
    LightGBM sends them. One class per (threshold, feature): raw score 0 = left."""
    trees = []
    for t in thresholds:
        for feature, dt in ((0, 8), (1, 2), (2, 6)):
            trees.append(stump(feature, float(t), dt))
    text = model_text(trees, 3, f"multiclass num_class:{len(trees)}")
    probes = set()
    for x in [*thresholds, 0.0, KZERO, -KZERO, FLT_MAX, -FLT_MAX, 1.0]:
        if np.isfinite(x) and abs(x) <= FLT_MAX:
            probes.update(float(v) for v in ulps(x, 4))
    probes.update([np.inf, -np.inf, np.nan, -0.0])
    col = np.array(sorted(probes, key=lambda v: (np.isnan(v), v)), dtype=np.float32)
    X = np.repeat(col[:, None], 3, axis=1)
    want = lgb.Booster(model_str=text).predict(X, raw_score=True)
    got = CModel(text.encode()).predict(X, margin=True)
    bad = np.argwhere(got != want)
    assert len(bad) == 0, [(float(X[r, 0]), thresholds[c // 3], c % 3) for r, c in bad[:5]]


@pytest.mark.parametrize("huge", [FLT_MAX, 1e300])
def test_inf_and_huge_thresholds_refused(huge):
    """A feature split at +inf and at a finite threshold >= FLT_MAX is refused whichever
    comes first, naming both trees; each alone, or on different features, loads."""
    for first, second in ((np.inf, huge), (huge, np.inf)):
        text = model_text([stump(0, first, 8), stump(0, second, 8)], 2, "regression")
        with pytest.raises(CriskError) as e:
            CModel(text.encode())
        assert e.value.code == E_UNSUPPORTED
        assert "Tree=1: threshold[0]" in e.value.message and "feature 0" in \
            e.value.message and "in Tree=0" in e.value.message, e.value.message
    text = model_text([stump(0, np.inf, 8), stump(1, huge, 8)], 2, "regression")
    X = np.array([[np.inf, np.inf], [FLT_MAX, FLT_MAX], [np.nan, np.nan]], dtype=np.float32)
    want = lgb.Booster(model_str=text).predict(X, raw_score=True)
    assert_close(CModel(text.encode()).predict(X, margin=True), want, "inf and huge apart")


def test_categorical_rule(tmp_path):
    """Bitset of two words ({0, 2, 5, 33}); LightGBM casts to int first, so (-1, 0) is
    category 0, NaN and negatives go right, beyond the bitset goes right."""
    bits = [(1 << 0) | (1 << 2) | (1 << 5), 1 << 1]
    trees = [stump(0, 0, dt, cat=([0, 2], bits)) for dt in (1, 3, 9)]
    text = model_text(trees, 1, "multiclass num_class:3")
    col = np.array([np.nan, -np.inf, -1.0, -0.999, -0.5, -0.0, 0.0, 0.3, 1.0, 2.0, 2.99, 5.0,
                    31.0, 32.0, 33.0, 33.5, 34.0, 64.0, 2.0 ** 31, 1e10, np.inf, 1e-36,
                    -1e-36], dtype=np.float32)[:, None]
    want = lgb.Booster(model_str=text).predict(col, raw_score=True)
    got = CModel(text.encode()).predict(col, margin=True)
    assert np.array_equal(got, want), np.argwhere(got != want)


def test_linear_fallback_and_tiny_values(tmp_path):
    """A linear leaf gives leaf_const + coeff.x, or leaf_value when one x is NaN; values
    |x| <= 1e-35 count as 0."""
    tree = stump(0, 0.5, 8)
    tree.update({"is_linear": "1", "leaf_const": "0.25 -1.5", "num_features": "2 1",
                 "leaf_features": "0 1 1", "leaf_coeff": "0.75 -2.5 3.125",
                 "leaf_value": "10 20"})
    single = {"num_leaves": "1", "num_cat": "0", "leaf_value": "7", "is_linear": "1",
              "leaf_const": "0.5", "num_features": "1", "leaf_features": "1",
              "leaf_coeff": "2", "shrinkage": "1", "split_feature": "", "threshold": "",
              "decision_type": "", "left_child": "", "right_child": ""}
    text = model_text([tree, single], 2, "regression")
    X = np.array([[0.1, 0.2], [np.nan, 0.2], [0.1, np.nan], [0.9, 1.0], [0.9, np.nan],
                  [1e-36, 1e-36], [-1e-35, 3e-35], [np.nan, np.nan]], dtype=np.float32)
    for raw in (False, True):
        want = lgb.Booster(model_str=text).predict(X, raw_score=raw)
        got = CModel(text.encode()).predict(X, margin=raw)
        assert_close(got, want, f"linear raw={raw}")


def test_unsupported_objectives():
    for objective in ("cross_entropy_lambda", "custom", "multiclass_bogus"):
        text = model_text([stump(0, 0.5, 8)], 1, objective)
        with pytest.raises(CriskError) as e:
            CModel(text.encode())
        assert e.value.code == E_UNSUPPORTED and objective in e.value.message


def test_hostile_corpus():
    """Each file of tests/corpus/lightgbm (an edit of base.txt) is refused with the code
    and the message parts listed in expected.json, from a file and from a buffer."""
    cases = json.loads((CORPUS / "expected.json").read_text())
    assert len(cases) >= 20
    names = {"CRISK_E_FORMAT": E_FORMAT, "CRISK_E_UNSUPPORTED": E_UNSUPPORTED,
             "CRISK_E_LIMIT": E_LIMIT}
    for case in cases:
        path = CORPUS / case["file"]
        for source in (path, path.read_bytes()):
            with pytest.raises(CriskError) as e:
                CModel(source)
            assert e.value.code == names[case["code"]], (case["file"], e.value.message)
            for part in case["message"]:
                assert part in e.value.message, (case["file"], e.value.message)


def test_corpus_base_is_valid():
    """The hostile files are edits of base.txt, which crisk and LightGBM both load and
    score alike."""
    text = (CORPUS / "base.txt").read_text()
    X = probe_rows(make_data()[0])[:, :3]
    want = lgb.Booster(model_str=text).predict(X)
    assert_close(CModel(text.encode()).predict(X), want, "base.txt")

