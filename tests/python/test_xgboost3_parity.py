"""Parity of crisk with XGBoost 3.x (the PyPI wheel installed next to the tests).

Every model is trained here, at test time, on small deterministic frames with 5% missing cells
and pandas category columns (both one-hot and partition splits), saved by XGBoost itself as
.json and .ubj files and as raw JSON/UBJSON bytes, loaded by crisk, and scored on rows the
model never saw. crisk's outputs must equal XGBoost's Booster.predict (through a DMatrix) and
inplace_predict to 1e-6 absolute, or 4 float32 ulps where |XGBoost| > 1, for transformed
outputs and margins alike. Models crisk does not implement (vector-leaf trees, survival and
expectile objectives) must be refused with CRISK_E_UNSUPPORTED naming what is unsupported.
"""
import ctypes
import json
import re

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from crisk_ctypes import LIB, CModel, CriskError, _Error, predict_options
import xgb_cases as xc
from xgb_cases import case

CRISK_E_UNSUPPORTED = -5
CRISK_E_FORMAT = -4
FORMATS = ["json-file", "ubj-file", "json-bytes", "ubj-bytes"]

# --- the fixed cases -------------------------------------------------------------------

# Every supported objective on gbtree, with one-hot splits on the 4-level column and
# partition splits on the 12-level one (max_cat_to_onehot = 8).
OBJECTIVE_CASES = [
    case(f"gbtree-{obj}", objective=obj, max_depth=4, max_cat_to_onehot=8,
         num_class=4 if obj.startswith("multi:") else 0)
    for obj in xc.SUPPORTED_OBJECTIVES
]

DART_CASES = [
    case(f"dart-{obj}", booster="dart", objective=obj, rate_drop=0.3, skip_drop=0.0,
         max_depth=4, rounds=8, max_cat_to_onehot=8,
         num_class=3 if obj.startswith("multi:") else 0)
    for obj in ["binary:logistic", "reg:squarederror", "multi:softprob", "count:poisson",
                "rank:ndcg"]
] + [
    case("dart-weighted-tree-normalize-forest", booster="dart", objective="binary:logistic",
         rate_drop=0.5, one_drop=1, sample_type="weighted", normalize_type="forest",
         max_depth=3, rounds=10),
]

LINEAR_CASES = [
    case(f"gblinear-{obj}", booster="gblinear", objective=obj, rounds=10,
         num_class=3 if obj.startswith("multi:") else 0)
    for obj in ["binary:logistic", "binary:logitraw", "reg:squarederror", "count:poisson",
                "reg:gamma", "reg:tweedie", "multi:softprob", "multi:softmax",
                "rank:pairwise"]
] + [
    case("gblinear-coord-descent-binary:logistic", booster="gblinear",
         objective="binary:logistic", updater="coord_descent", feature_selector="greedy",
         top_k=3, rounds=10),
]

SHAPE_CASES = [
    case("depth1-stumps", objective="binary:logistic", max_depth=1, rounds=20),
    case("depth6", objective="binary:logistic", max_depth=6, rounds=8),
    case("depth12-lossguide", objective="reg:squarederror", max_depth=12, rounds=4,
         grow_policy="lossguide", max_leaves=0, min_child_weight=0.0),
    case("depth12-partition-only", objective="binary:logistic", max_depth=12, rounds=4,
         max_cat_to_onehot=1, min_child_weight=0.0),
    case("onehot-only", objective="binary:logistic", max_depth=5, max_cat_to_onehot=64),
    case("no-missing", objective="reg:squarederror", max_depth=5, missing=0.0),
    case("heavy-missing", objective="binary:logistic", max_depth=5, missing=0.4),
    case("parallel-trees-3", objective="binary:logistic", max_depth=4, num_parallel_tree=3,
         subsample=0.8, colsample_bynode=0.8, rounds=4),
    case("random-forest", objective="reg:squarederror", max_depth=6, num_parallel_tree=5,
         subsample=0.7, colsample_bynode=0.7, eta=1.0, rounds=1),
    case("multi4-parallel2-softprob", objective="multi:softprob", num_class=4,
         num_parallel_tree=2, max_depth=4, subsample=0.8, rounds=5),
    case("multi4-parallel2-softmax", objective="multi:softmax", num_class=4,
         num_parallel_tree=2, max_depth=4, subsample=0.8, rounds=5),
    case("base-score-binary-0.3", objective="binary:logistic", base_score=0.3, max_depth=3),
    case("base-score-logitraw-0.7", objective="binary:logitraw", base_score=0.7, max_depth=3),
    case("base-score-reg-2.5", objective="reg:squarederror", base_score=2.5, max_depth=3),
    case("base-score-poisson-1.7", objective="count:poisson", base_score=1.7, max_depth=3),
    case("base-score-gamma-0.8", objective="reg:gamma", base_score=0.8, max_depth=3),
    case("base-score-multi-0.5", objective="multi:softprob", num_class=3, base_score=0.5,
         max_depth=3),
    case("tweedie-power-1.7", objective="reg:tweedie", tweedie_variance_power=1.7,
         max_depth=4),
    case("huber-slope-3", objective="reg:pseudohubererror", huber_slope=3.0, max_depth=4),
    case("multi-target-2-one-output-per-tree", objective="reg:squarederror", num_target=2,
         multi_strategy="one_output_per_tree", max_depth=4),
    case("multi-target-3-parallel2", objective="reg:squarederror", num_target=3,
         num_parallel_tree=2, subsample=0.8, max_depth=3, rounds=4),
    case("quantile-one-alpha", objective="reg:quantileerror", quantile_alpha=0.3,
         max_depth=4),
    case("quantile-three-alphas", objective="reg:quantileerror",
         quantile_alpha=(0.1, 0.5, 0.9), max_depth=4),
    case("quantile-two-alphas-parallel2", objective="reg:quantileerror",
         quantile_alpha=(0.25, 0.75), num_parallel_tree=2, subsample=0.8, max_depth=3,
         rounds=4),
    case("dart-quantile-three-alphas", booster="dart", objective="reg:quantileerror",
         quantile_alpha=(0.1, 0.5, 0.9), rate_drop=0.3, skip_drop=0.0, max_depth=3,
         rounds=8),
    case("approx-tree-method", objective="binary:logistic", tree_method="approx",
         max_depth=5),
    case("exact-tree-method", objective="binary:logistic", tree_method="exact", max_depth=5,
         categorical=False),
]

CASES = OBJECTIVE_CASES + DART_CASES + LINEAR_CASES + SHAPE_CASES


def _sweep_cases(count: int = 30, seed: int = 20261127):
    """Returns `count` seeded random parameter combinations (models the fixed cases never
    built): objective x booster x depth x rounds x missing rate x split kinds."""
    rng = np.random.default_rng(seed)
    # Objectives in shuffled rounds, so every one appears before any repeats.
    objectives = [str(o) for _ in range(-(-count // len(xc.SUPPORTED_OBJECTIVES)))
                  for o in rng.permutation(xc.SUPPORTED_OBJECTIVES)]
    out = []
    for i in range(count):
        obj = objectives[i]
        booster = str(rng.choice(["gbtree", "gbtree", "dart", "gblinear"]))
        depth = int(rng.choice([1, 2, 3, 6, 9]))
        rounds = int(rng.choice([1, 3, 7, 15]))
        missing = float(rng.choice([0.0, 0.05, 0.3]))
        params = dict(booster=booster, objective=obj, eta=round(float(rng.uniform(0.05, 1)), 3))
        if booster != "gblinear":
            params.update(max_depth=depth, max_cat_to_onehot=int(rng.choice([1, 4, 64])),
                          num_parallel_tree=int(rng.choice([1, 1, 2])),
                          subsample=float(rng.choice([1.0, 0.8])))
        if booster == "dart":
            params.update(rate_drop=float(rng.choice([0.1, 0.5])), skip_drop=0.0)
        if rng.random() < 0.3 and obj.startswith(("binary:", "reg:logistic")):
            params["base_score"] = round(float(rng.uniform(0.1, 0.9)), 3)
        num_class = int(rng.choice([3, 5])) if obj.startswith("multi:") else 0
        shape = f"-d{depth}" if booster != "gblinear" else ""
        ident = f"sweep{i:02d}-{booster}-{obj}{shape}-r{rounds}-m{missing:g}"
        out.append(case(ident, rounds=rounds, rows=200, missing=missing, num_class=num_class,
                        seed=100 + i, **params))
    return out


SWEEP_CASES = _sweep_cases()

# --- helpers ---------------------------------------------------------------------------


def load(booster: xgb.Booster, fmt: str, tmp_path) -> CModel:
    """Saves `booster` the way `fmt` names (file via save_model, or bytes via save_raw)
    and loads it with crisk."""
    kind, where = fmt.split("-")
    if where == "bytes":
        source = booster.save_raw(kind)
    else:
        source = tmp_path / f"model.{kind}"
        booster.save_model(str(source))
    head = bytes(source[:2]) if where == "bytes" else source.read_bytes()[:2]
    # UBJSON's first key starts with its length's type marker; JSON's with a quote.
    assert (head == b'{"') == (kind == "json"), f"{fmt} starts with {head!r}"
    return CModel(source)


def crisk_predict(model: CModel, rows: np.ndarray, margin: bool, width: int,
                  iteration_range=(0, 0)) -> np.ndarray:
    """Scores `rows` with crisk into a buffer of `width` floats per row followed by guard
    cells (room for 16 more per row, so an overrun is caught rather than corrupting the
    heap), checks crisk wrote nothing past nrows * width, and returns (rows, width)."""
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    n = rows.shape[0]
    guard = 16 * n + 64
    out = np.full(n * width + guard, -12345.0, dtype=np.float32)
    opts = predict_options(1, 1 if margin else 0, iteration_range)
    err = _Error()
    rc = LIB.crisk_predict(model._h, rows.ctypes.data, n, rows.shape[1], ctypes.byref(opts),
                           out.ctypes.data, ctypes.byref(err))
    if rc != 0:
        raise CriskError(rc, err.message.decode())
    assert np.all(out[n * width:] == -12345.0), \
        f"crisk wrote past the {n} x {width} output buffer"
    return out[:n * width].reshape(n, width)


def assert_parity(got: np.ndarray, want: np.ndarray, rows: np.ndarray, what: str):
    """Fails with the first few mismatching rows (input, XGBoost's value, crisk's) when
    `got` is not within tolerance of `want`."""
    assert got.shape == want.shape, f"{what}: crisk shape {got.shape}, XGBoost {want.shape}"
    bad = xc.mismatches(got, want)
    if bad.any():
        lines = []
        for r in np.unique(np.nonzero(bad)[0])[:4]:
            lines.append(f"  row {r} x={rows[r].tolist()}\n    xgboost={want[r].tolist()}\n"
                         f"    crisk  ={got[r].tolist()}")
        pytest.fail(f"{what}: {int(bad.sum())} of {bad.size} outputs differ "
                    f"(max |diff| {np.nanmax(np.abs(got - want)):.3g})\n" + "\n".join(lines))


def eval_frame(c: xc.Case) -> pd.DataFrame:
    """Returns unseen rows followed by the first training rows, as one frame."""
    return pd.concat([xc.scoring_frame(c), xc.training_frame(c).head(60)], ignore_index=True)


def assert_near(got: np.ndarray, want: np.ndarray, what: str):
    """Fails unless `got` is within 1e-5 relative (1e-5 absolute near 0) of `want`."""
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=what)


def check_model(c: xc.Case, model: CModel, booster: xgb.Booster, frame: pd.DataFrame,
                iteration_range=(0, 0)):
    """Compares crisk with XGBoost on `frame`: transformed outputs and margins, against
    Booster.predict through a DMatrix and against inplace_predict (which XGBoost has for
    tree boosters only).

    XGBoost 3.2's DART inplace_predict (src/gbm/gbtree.cc, Dart::InplacePredict) adds
    ((base + leaf) - base) * w per tree instead of PredictBatch's leaf * w, so it differs
    from Booster.predict itself by float rounding; crisk follows Booster.predict exactly
    and DART's inplace_predict only approximately."""
    booster_name = c.param_dict.get("booster", "gbtree")
    inplace = booster_name != "gblinear"
    rows = xc.codes(frame)
    assert model.num_features == frame.shape[1]
    for margin in (False, True):
        want = xc.xgb_predict(booster, frame, margin, iteration_range)
        count = model.num_margins if margin else model.num_outputs
        kind = "margin" if margin else "transformed"
        assert count == want.shape[1], \
            f"crisk gives {count} {kind} values per row, XGBoost {want.shape[1]}"
        got = crisk_predict(model, rows, margin, want.shape[1], iteration_range)
        assert_parity(got, want, rows, f"{c.id} {kind} range={iteration_range} vs predict")
        if inplace:
            want = xc.xgb_predict(booster, frame, margin, iteration_range, inplace=True)
            what = f"{c.id} {kind} range={iteration_range} vs inplace_predict"
            if booster_name == "dart":
                assert_near(got, want, what)
            else:
                assert_parity(got, want, rows, what)


# --- tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_parity(c, fmt, tmp_path):
    booster = xc.train(c)
    check_model(c, load(booster, fmt, tmp_path), booster, eval_frame(c))


def test_cases_cover_both_categorical_split_kinds():
    # A categorical split over one category is XGBoost's one-hot split; more is a partition.
    sizes = set()
    for c in OBJECTIVE_CASES:
        for tree in xc.model_json(xc.train(c))["learner"]["gradient_booster"]["model"]["trees"]:
            sizes.update(min(s, 2) for s in tree.get("categories_sizes", []))
    assert sizes == {1, 2}, "the objective cases must hold one-hot and partition splits"


def test_cases_cover_multi_word_category_bitsets():
    # Some partition split must test a category >= 32, so bitsets span several words.
    biggest = 0
    for c in OBJECTIVE_CASES:
        for tree in xc.model_json(xc.train(c))["learner"]["gradient_booster"]["model"]["trees"]:
            biggest = max([biggest, *tree.get("categories", [])])
    assert biggest >= 32, biggest


def test_dart_cases_hold_dropped_weights():
    # XGBoost up to 3.2 writes the legacy layout {"name": "dart", "gbtree": {"model": ...},
    # "weight_drop": [...]}; 3.3 merged DART into gbtree ("weight_drop" in the model). The
    # dart models must carry weights other than 1, or DART scaling goes untested.
    doc = xc.model_json(xc.train(DART_CASES[0]))["learner"]["gradient_booster"]
    if tuple(int(v) for v in xgb.__version__.split(".")[:2]) < (3, 3):
        assert doc["name"] == "dart" and "gbtree" in doc, doc.keys()
        weights = doc["weight_drop"]
        assert len(weights) == len(doc["gbtree"]["model"]["trees"])
    else:
        weights = doc.get("weight_drop") or doc["model"]["weight_drop"]
    assert any(abs(w - 1.0) > 1e-3 for w in weights), weights


def test_base_score_is_estimated_by_default():
    # XGBoost 3.x estimates the intercept; the default cases must not all sit at 0.5.
    scores = {xc.model_json(xc.train(c))["learner"]["learner_model_param"]["base_score"]
              for c in OBJECTIVE_CASES}
    assert len(scores) > 3, scores


RANGE_CASES = [c for c in CASES if c.id in {
    "gbtree-binary:logistic", "gbtree-count:poisson", "dart-binary:logistic",
    "dart-multi:softprob", "multi4-parallel2-softprob", "multi4-parallel2-softmax",
    "parallel-trees-3", "multi-target-2-one-output-per-tree", "depth1-stumps"}]


@pytest.mark.parametrize("iteration_range", [(0, 1), (1, 3), (2, 0), (0, 0), (3, 4)],
                         ids=lambda r: f"{r[0]}-{r[1]}")
@pytest.mark.parametrize("c", RANGE_CASES, ids=lambda c: c.id)
def test_iteration_range(c, iteration_range):
    booster = xc.train(c)
    check_model(c, CModel(booster.save_raw("ubj")), booster, eval_frame(c),
                iteration_range)


def test_iteration_range_beyond_model_is_refused():
    c = OBJECTIVE_CASES[0]
    model = CModel(xc.train(c).save_raw("json"))
    rows = xc.codes(eval_frame(c))
    with pytest.raises(CriskError) as e:
        model.predict(rows, iteration_range=(0, c.rounds + 1))
    assert e.value.code == -1


@pytest.mark.parametrize("threads", [0, 2, 3])
def test_threads_give_xgboost_results(threads):
    c = SHAPE_CASES[1]
    booster = xc.train(c)
    model = CModel(booster.save_raw("json"))
    frame = xc.make_frame(1500, 4242, 0.05)
    rows = xc.codes(frame)
    want = xc.xgb_predict(booster, frame, margin=False)
    assert_parity(model.predict(rows, threads=threads), want, rows, f"threads={threads}")


def test_softmax_margins_have_one_value_per_class():
    # crisk.h: CRISK_OUTPUT_MARGIN writes crisk_model_num_margins() values per row, which
    # for multi:softmax is the number of classes while the transformed output is one index.
    c = next(c for c in CASES if c.id == "gbtree-multi:softmax")
    model = CModel(xc.train(c).save_raw("json"))
    assert model.num_outputs == 1
    assert c.num_class > 1 and model.num_margins == c.num_class


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("rounds", [
    pytest.param(3, id="rounds3"),
    pytest.param(4, id="rounds4")])
def test_vector_leaf_trees_are_refused(rounds, fmt, tmp_path):
    # One vector-leaf tree per round: 3 rounds is not a multiple of num_target = 2 trees
    # per round, 4 is; both must be refused as vector-leaf models, not as malformed ones.
    c = case("vector-leaf", objective="reg:squarederror", num_target=2,
             multi_strategy="multi_output_tree", tree_method="hist", max_depth=3,
             categorical=False, rounds=rounds)
    booster = xc.train(c)
    trees = xc.model_json(booster)["learner"]["gradient_booster"]["model"]["trees"]
    assert int(trees[0]["tree_param"]["size_leaf_vector"]) == 2
    with pytest.raises(CriskError) as e:
        load(booster, fmt, tmp_path)
    assert e.value.code == CRISK_E_UNSUPPORTED, e.value
    assert re.search(r"multi_output_tree|vector[- ]leaf|size_leaf_vector|leaf vector",
                     e.value.message, re.I), e.value.message


@pytest.mark.parametrize("alphas", ["[1E-1,5E-1]", "[1E-1,5E-1,9E-1,9.5E-1]", "5E-1"])
def test_quantile_alphas_must_match_the_outputs(alphas):
    # Three outputs, one per alpha: a document listing another number of alphas cannot say
    # which output is which quantile, so it is refused, naming the field.
    c = case("quantile-three-alphas", objective="reg:quantileerror",
             quantile_alpha=(0.1, 0.5, 0.9), max_depth=4)
    doc = xc.model_json(xc.train(c))
    assert doc["learner"]["learner_model_param"]["num_target"] == "3"
    doc["learner"]["objective"]["quantile_loss_param"]["quantile_alpha"] = alphas
    with pytest.raises(CriskError) as e:
        CModel(json.dumps(doc).encode())
    assert e.value.code == CRISK_E_FORMAT, e.value
    assert "quantile_alpha" in e.value.message and "3 outputs" in e.value.message, \
        e.value.message


def _unsupported_cases():
    out = [case("survival:cox", objective="survival:cox", max_depth=3, rounds=3),
           case("survival:aft", objective="survival:aft", max_depth=3, rounds=3,
                aft_loss_distribution="normal")]
    params = [pytest.param(c, id=c.id) for c in out]
    params.append(pytest.param(case("reg:expectileerror", objective="reg:expectileerror",
                                    max_depth=3, rounds=3), id="reg:expectileerror"))
    return params


@pytest.mark.parametrize("fmt", ["json-bytes", "ubj-file"])
@pytest.mark.parametrize("c", _unsupported_cases())
def test_unsupported_objectives_are_refused(c, fmt, tmp_path):
    params = c.param_dict
    frame = xc.training_frame(c)
    try:
        booster = xgb.train(params, xc.dmatrix(frame, **xc.labels(c, frame)), c.rounds)
    except xgb.core.XGBoostError as e:
        if "Unknown objective" in str(e):
            pytest.skip(f"XGBoost {xgb.__version__} has no {c.objective}")
        raise
    with pytest.raises(CriskError) as e:
        load(booster, fmt, tmp_path)
    assert e.value.code == CRISK_E_UNSUPPORTED, e.value
    assert c.objective in e.value.message, e.value.message


@pytest.mark.parametrize("fmt", ["json", "ubj"])
@pytest.mark.parametrize("c", SWEEP_CASES, ids=lambda c: c.id)
def test_random_sweep(c, fmt):
    booster = xc.train(c)
    frame = eval_frame(c)
    model = CModel(booster.save_raw(fmt))
    check_model(c, model, booster, frame)
    if c.param_dict.get("booster") != "gblinear" and c.rounds > 2:
        check_model(c, model, booster, frame, (1, c.rounds - 1))


EDGE_CODES = np.array([-1, -0.5, -0.0, 0.3, 2.7, 3.999, 4, 11.9, 12, 31, 32, 33, 100,
                       2**24 - 1, 2**24, 1e9, -1e9], dtype=np.float32)


@pytest.mark.parametrize("c", [c for c in CASES if c.id in {
    "gbtree-binary:logistic", "onehot-only", "depth12-partition-only",
    "multi4-parallel2-softprob", "dart-binary:logistic"}], ids=lambda c: c.id)
def test_raw_category_codes_at_the_edges(c):
    # crisk takes raw category codes; XGBoost takes them too from a plain array whose
    # feature types say "c". Codes that are fractional, negative, unseen, past the
    # bitfield or past 2^24 must go where XGBoost sends them.
    booster = xc.train(c)
    rows = xc.codes(eval_frame(c))
    rng = np.random.default_rng(5)
    cat_cols = [j for j, t in enumerate(booster.feature_types) if t == "c"]
    for j in cat_cols:
        swap = rng.random(len(rows)) < 0.5
        rows[swap, j] = rng.choice(EDGE_CODES, int(swap.sum()))
    model = CModel(booster.save_raw("json"))
    dm = xgb.DMatrix(rows, missing=np.nan, feature_names=booster.feature_names,
                     feature_types=booster.feature_types, enable_categorical=True)
    for margin in (False, True):
        want = np.asarray(booster.predict(dm, output_margin=margin), np.float32)
        want = want.reshape(len(rows), -1)
        got = crisk_predict(model, rows, margin, want.shape[1])
        assert_parity(got, want, rows, f"{c.id} edge codes margin={margin}")


def test_feature_names_are_the_frames_columns():
    name = LIB.crisk_model_feature_name
    name.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    name.restype = ctypes.c_char_p
    booster = xc.train(OBJECTIVE_CASES[0])
    model = CModel(booster.save_raw("json"))
    names = [name(model._h, i).decode() for i in range(model.num_features)]
    assert names == booster.feature_names == list(xc.training_frame(OBJECTIVE_CASES[0]))
    assert name(model._h, model.num_features) is None


@pytest.mark.parametrize("fmt", ["json-bytes", "ubj-bytes"])
@pytest.mark.parametrize("c", [c for c in CASES if c.id in {
    "depth6", "depth12-lossguide", "multi4-parallel2-softprob", "dart-reg:squarederror",
    "gbtree-count:poisson"}], ids=lambda c: c.id)
def test_rows_on_split_thresholds(c, fmt, tmp_path):
    # Rows whose feature sits exactly on a numerical split's threshold, or one float below
    # it: `x < threshold` and the threshold's float value must both be XGBoost's.
    booster = xc.train(c)
    base = xc.codes(eval_frame(c))
    rows = []
    trees = xc.model_json(booster)["learner"]["gradient_booster"]
    trees = trees.get("model", trees.get("gbtree", {}).get("model"))["trees"]
    for k, tree in enumerate(trees):
        kinds = tree.get("split_type") or [0] * len(tree["left_children"])
        for node, left in enumerate(tree["left_children"]):
            if left == -1 or kinds[node] != 0:
                continue
            t = np.float32(tree["split_conditions"][node])
            for v in (t, np.nextafter(t, np.float32(-np.inf))):
                row = base[(k + node) % len(base)].copy()
                row[tree["split_indices"][node]] = v
                rows.append(row)
    assert len(rows) > 20
    frame = pd.DataFrame(np.array(rows), columns=booster.feature_names)
    model = load(booster, fmt, tmp_path)
    dm = xgb.DMatrix(frame.to_numpy(), missing=np.nan, feature_names=booster.feature_names,
                     feature_types=booster.feature_types, enable_categorical=True)
    for margin in (False, True):
        want = np.asarray(booster.predict(dm, output_margin=margin), np.float32)
        want = want.reshape(len(rows), -1)
        got = crisk_predict(model, frame.to_numpy(), margin, want.shape[1])
        assert_parity(got, want, frame.to_numpy(), f"{c.id} on thresholds margin={margin}")
