"""crisk's logistic format: scikit-learn models exported with crisk.export and scored by
the C library must give scikit-learn's own probabilities and decision functions; malformed
files are refused with the right code and a message that names the place."""
import ctypes
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from crisk_ctypes import LIB, CModel, CriskError

SOURCE_DIR = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXPORT_PY = SOURCE_DIR / "bindings" / "python" / "crisk" / "export.py"


def _load_exporter():
    """Loads crisk/export.py from the source tree by path: it is pure Python, so it is
    tested whether or not the SWIG package (whose __init__ needs the extension) was built."""
    spec = importlib.util.spec_from_file_location("crisk_export_under_test", EXPORT_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_export = _load_exporter()
logistic_to_dict, save_logistic = _export.logistic_to_dict, _export.save_logistic

CORPUS = SOURCE_DIR / "tests" / "corpus" / "logistic"
E_FORMAT, E_UNSUPPORTED, E_LIMIT, E_INPUT = -4, -5, -6, -8
PROBA_TOL = 1e-6
U = 2.0 ** -24  # float32 unit roundoff


def make_data(seed, n, n_features, n_classes, customs_scales):
    """Returns (X, y): float32-representable features (as float64, what sklearn sees) and
    labels drawn from a logistic model of the standardised features. `customs_scales`
    gives features a spread of 0.5 to 500 around offsets of 0 to 20000, as declared values
    and masses have; otherwise features stay near unit scale."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    if customs_scales:
        X = X * rng.uniform(0.5, 500, n_features) + rng.uniform(0, 20000, n_features)
    else:
        X = X * rng.uniform(0.5, 3, n_features) + rng.uniform(-2, 2, n_features)
    X = X.astype(np.float32).astype(np.float64)
    Z = (X - X.mean(0)) / X.std(0)
    W = rng.normal(size=(n_features, n_classes)) * 4 / np.sqrt(n_features)
    if n_classes == 2:
        y = (Z @ W[:, 0] + rng.logistic(size=n) > 0).astype(int)
    else:
        y = np.argmax(Z @ W + rng.gumbel(size=(n, n_classes)), axis=1)
    return X, y


def fit(kind, n_features, n_classes, scaler, customs_scales=False, seed=0):
    """Fits the named estimator on synthetic data; returns (estimator, X)."""
    X, y = make_data(seed, 1500, n_features, n_classes, customs_scales)
    clf = LogisticRegression(max_iter=5000)
    if kind == "ovr":
        clf = OneVsRestClassifier(clf)
    est = make_pipeline(StandardScaler(), clf) if scaler else clf
    return est.fit(X, y), X


def sklearn_outputs(est, X):
    """Returns scikit-learn's (probabilities, margins) in crisk's layout: binary models
    give one column, the positive class."""
    proba, margin = est.predict_proba(X), est.decision_function(X)
    if proba.shape[1] == 2:
        return proba[:, 1:], margin.reshape(-1, 1)
    return proba, margin


def folded(doc):
    """Returns (W, b) of an exported document with its standardisation folded in, in
    double: the exact linear map crisk should apply to a float32 row."""
    coef = np.array(doc["coef"], dtype=np.float64).T
    b = np.array(doc["intercept"], dtype=np.float64)
    if "standardize" in doc:
        mean = np.array(doc["standardize"]["mean"])
        scale = np.array(doc["standardize"]["scale"])
        coef = coef / scale[:, None]
        b = b - mean @ coef
    return coef, b


def export_and_load(est, tmp_path, name="model.json"):
    path = tmp_path / name
    save_logistic(est, path)
    return CModel(path), json.loads(path.read_text())


# (estimator kind, features, classes, StandardScaler, customs scales)
WELL_SCALED = {
    "binary": ("lr", 8, 2, False),
    "binary-scaled": ("lr", 8, 2, True),
    "multinomial4": ("lr", 10, 4, False),
    "multinomial4-scaled": ("lr", 10, 4, True),
    "multinomial4-scaled-200": ("lr", 200, 4, True),
    "ovr3-scaled": ("ovr", 12, 3, True),
}
# Features with offsets far above their spread, as monetary values are: folding the
# standardisation into the weights makes large terms that cancel, which float32 sums
# could not hold to 1e-6 (they missed by 1e-4); crisk computes these margins in double.
CUSTOMS_SCALED = {
    "binary-customs": ("lr", 50, 2, True),
    "multinomial4-customs": ("lr", 50, 4, True),
}


CASES = [pytest.param(name, id=name) for name in [*WELL_SCALED, *CUSTOMS_SCALED]]


def case_model(name):
    spec = {**WELL_SCALED, **CUSTOMS_SCALED}[name]
    kind, n_features, n_classes, scaler = spec
    return fit(kind, n_features, n_classes, scaler, customs_scales=name in CUSTOMS_SCALED)


@pytest.mark.parametrize("name", CASES)
def test_probabilities_match_sklearn(name, tmp_path):
    est, X = case_model(name)
    model, _ = export_and_load(est, tmp_path)
    proba, _ = sklearn_outputs(est, X)
    got = model.predict(X)
    assert got.shape == proba.shape
    err = np.abs(got - proba).max()
    assert err <= PROBA_TOL, f"max |crisk - sklearn| probability error {err:.3g}"
    # The rows of a multi-class model are distributions.
    if proba.shape[1] > 1:
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("name", [*WELL_SCALED, *CUSTOMS_SCALED])
def test_margins_match_decision_function(name, tmp_path):
    """Margins agree with decision_function within the rounding error bound of a float32
    dot product over the folded weights (weights and bias rounded to float, F + 1 float
    additions): a wrong fold, sign or layout breaks this by orders of magnitude."""
    est, X = case_model(name)
    model, doc = export_and_load(est, tmp_path)
    _, margin = sklearn_outputs(est, X)
    W, b = folded(doc)
    # The fold itself, in double, reproduces sklearn: checks the exported document.
    assert np.all(np.abs(X @ W + b - margin) <= 1e-9 * (1 + np.abs(margin)))
    got = model.predict(X, margin=True)
    n_features = X.shape[1]
    bound = (n_features + 3) * U * (np.abs(X) @ np.abs(W) + np.abs(b)) + 1e-12
    excess = np.abs(got - margin) / bound
    assert excess.max() <= 1.0, f"margin error {excess.max():.3g} x the float32 bound"
    # Exact agreement of the class ranking where sklearn's margins are not near-ties.
    if margin.shape[1] > 1:
        top2 = np.sort(margin, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 2 * bound.max()
        np.testing.assert_array_equal(got[clear].argmax(1), margin[clear].argmax(1))


@pytest.mark.parametrize("n_features, n_classes", [(10, 4), (203, 2)])
def test_threads_give_the_same_outputs(n_features, n_classes, tmp_path):
    """Several threads give the bits of one. The binary model (one fused pass, two sets of
    eight partial sums a row) has a feature count that is neither a multiple of 16 nor of
    8, and still matches scikit-learn."""
    est, X = fit("lr", n_features, n_classes, True)
    model, _ = export_and_load(est, tmp_path)
    X = np.tile(X, (3, 1))[:-1]  # enough rows for several threads
    one = model.predict(X, threads=1)
    np.testing.assert_array_equal(model.predict(X, threads=4), one)
    proba, _ = sklearn_outputs(est, X)
    assert np.abs(one - proba).max() <= PROBA_TOL


@pytest.mark.parametrize("rows", [[3], [3000], [2100, 900]])
def test_missing_value_names_the_row(rows, tmp_path):
    """The error names the first row with a missing value, also when the binary pass,
    which walks four stretches of the rows side by side, meets a later one first (row
    2100 is the 101st of the third stretch of 1,000, row 900 the 901st of the first)."""
    est, X = fit("lr", 6, 2, True)
    model, _ = export_and_load(est, tmp_path)
    X = np.tile(X, (3, 1))[:4000]
    X[rows, 4] = np.nan
    with pytest.raises(CriskError) as info:
        model.predict(X, threads=1)
    assert info.value.code == E_INPUT
    assert f"row {min(rows)}," in info.value.message and "column 4" in info.value.message
    with pytest.raises(CriskError) as info:
        model.predict(X, margin=True)
    assert info.value.code == E_INPUT


def test_infinite_values(tmp_path):
    """An infinite feature gives the probability it tends to; two that cancel (inf - inf)
    leave the margin undefined: an error naming the row and the first infinite column,
    never a NaN probability."""
    est, X = fit("lr", 6, 2, True)
    model, doc = export_and_load(est, tmp_path)
    coef, _ = folded(doc)
    w = np.asarray(coef, dtype=float).ravel()
    up, down = int(np.argmax(w)), int(np.argmin(w))
    assert w[up] > 0 > w[down], "the fitted model has weights of both signs"
    X = X[:50].copy()
    X[7, up] = np.inf
    X[8, up] = -np.inf
    got = model.predict(X)
    assert got[7] == 1.0 and got[8] == 0.0
    X[9, [up, down]] = np.inf
    with pytest.raises(CriskError) as info:
        model.predict(X)
    assert info.value.code == E_INPUT
    assert f"row 9, column {min(up, down)}: infinite value" in info.value.message


class _Info(ctypes.Structure):
    _fields_ = [("format", ctypes.c_char_p), ("booster", ctypes.c_char_p),
                ("objective", ctypes.c_char_p)] + [
        (name, ctypes.c_size_t) for name in (
            "num_features", "num_outputs", "num_classes", "num_trees", "num_iterations",
            "num_nodes", "max_depth", "memory_bytes")]


def model_info(model):
    LIB.crisk_model_get_info.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Info)]
    info = _Info()
    LIB.crisk_model_get_info(model._h, ctypes.byref(info))
    return info


def feature_name(model, index):
    LIB.crisk_model_feature_name.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    LIB.crisk_model_feature_name.restype = ctypes.c_char_p
    name = LIB.crisk_model_feature_name(model._h, index)
    return None if name is None else name.decode()


@pytest.mark.parametrize("kind, n_classes, objective, outputs", [
    ("lr", 2, "binary:logistic", 1),
    ("lr", 4, "multi:multinomial", 4),
    ("ovr", 3, "multi:ovr", 3),
    ("ovr", 2, "binary:logistic", 1),
])
def test_model_description(kind, n_classes, objective, outputs, tmp_path):
    est, X = fit(kind, 5, n_classes, False)
    model, doc = export_and_load(est, tmp_path)
    info = model_info(model)
    assert (info.format, info.booster, info.objective) == (b"logistic", b"linear",
                                                            objective.encode())
    assert (info.num_features, info.num_outputs, info.num_classes) == (5, outputs, n_classes)
    assert (info.num_trees, info.num_iterations) == (0, 0)
    assert model.num_outputs == outputs
    assert [feature_name(model, i) for i in range(6)] == [f"f{i}" for i in range(5)] + [None]
    assert doc["multi_class"] == ("binary" if n_classes == 2 else
                                  "ovr" if kind == "ovr" else "multinomial")
    # A binary OneVsRestClassifier scores as sklearn's own predict_proba.
    proba, _ = sklearn_outputs(est, X)
    assert np.abs(model.predict(X) - proba).max() <= PROBA_TOL


def test_feature_names_and_labels_from_a_dataframe(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = make_data(1, 400, 3, 3, False)
    frame = pd.DataFrame(X, columns=["declared value", "net mass", "tariff code"])
    labels = np.array(["green", "orange", "red"])[y]
    est = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, labels)
    model, doc = export_and_load(est, tmp_path)
    assert doc["classes"] == ["green", "orange", "red"]
    assert [feature_name(model, i) for i in range(3)] == list(frame.columns)
    assert np.abs(model.predict(X) - est.predict_proba(frame)).max() <= PROBA_TOL
    with pytest.raises(ValueError, match="2 feature names"):
        logistic_to_dict(est, feature_names=["a", "b"])


def test_handwritten_document():
    """A document written by hand (integer labels, no scaler, negative zero, exponents)
    scores as numpy computes it from the same numbers."""
    doc = {"format": "crisk-logistic", "version": 1, "feature_names": ["a", "b"],
           "classes": [0, 1], "multi_class": "binary", "coef": [[1.5e-1, -0.0]],
           "intercept": [-2.5E0]}
    model = CModel(json.dumps(doc).encode())
    X = np.array([[0.0, 1.0], [10.0, -3.0], [100.0, 7.0]], dtype=np.float32)
    margin = X.astype(np.float64) @ np.array([0.15, 0.0]) - 2.5
    np.testing.assert_allclose(model.predict(X, margin=True)[:, 0], margin, atol=1e-6)
    np.testing.assert_allclose(model.predict(X)[:, 0], 1 / (1 + np.exp(-margin)), atol=1e-7)


# Every file in tests/corpus/logistic: (error code, text the message must contain).
CORPUS_EXPECTED = {
    "missing_version.json": (E_FORMAT, "version: missing"),
    "version_2.json": (E_UNSUPPORTED, "version: 2"),
    "version_string.json": (E_FORMAT, "version: expected a number"),
    "version_fraction.json": (E_FORMAT, "version: 1.5"),
    "unknown_key.json": (E_FORMAT, "standardise: unknown key"),
    "duplicate_key.json": (E_FORMAT, "coef: duplicate key"),
    "feature_names_missing.json": (E_FORMAT, "feature_names: missing"),
    "feature_names_object.json": (E_FORMAT, "feature_names: expected an array, got an object"),
    "feature_names_empty.json": (E_FORMAT, "feature_names: empty"),
    "feature_name_number.json": (E_FORMAT, "feature_names[1]: expected a string"),
    "feature_name_empty_string.json": (E_FORMAT, "feature_names[1]: empty name"),
    "feature_name_duplicate.json": (E_FORMAT, "feature_names: \"value\" appears twice"),
    "classes_one.json": (E_FORMAT, "classes: 1 labels"),
    "classes_bool.json": (E_FORMAT, "classes[1]: expected a string or a finite number, "
                                    "got a boolean"),
    "multi_class_missing.json": (E_FORMAT, "multi_class: missing"),
    "multi_class_unknown.json": (E_FORMAT, "multi_class: \"auto\" is not"),
    "multi_class_number.json": (E_FORMAT, "multi_class: expected a string, got a number"),
    "multi_class_binary_three_classes.json": (E_FORMAT, "multi_class: \"binary\" does not "
                                                        "fit 3 classes"),
    "multi_class_ovr_two_classes.json": (E_FORMAT, "multi_class: \"ovr\" does not fit 2"),
    "coef_binary_two_rows.json": (E_FORMAT, "coef: 2 rows, expected 1"),
    "coef_missing.json": (E_FORMAT, "coef: missing"),
    "coef_rows_short.json": (E_FORMAT, "coef: 2 rows, expected 3"),
    "coef_row_short.json": (E_FORMAT, "coef[1]: 2 values, expected 3"),
    "coef_row_not_array.json": (E_FORMAT, "coef[1]: expected an array, got a number"),
    "coef_string.json": (E_FORMAT, "coef[0][2]: expected a number, got a string"),
    "coef_null.json": (E_FORMAT, "coef[2][0]: expected a number, got null"),
    "coef_float_overflow.json": (E_FORMAT, "coef[2][1]: not a finite number"),
    "coef_infinite.json": (E_FORMAT, "coef[2][2]: not a finite number"),
    "intercept_missing.json": (E_FORMAT, "intercept: missing"),
    "intercept_length.json": (E_FORMAT, "intercept: 2 values, expected 3"),
    "intercept_string.json": (E_FORMAT, "intercept[0]: expected a number, got a string"),
    "standardize_array.json": (E_FORMAT, "standardize: expected an object, got an array"),
    "standardize_unknown_key.json": (E_FORMAT, "standardize.std: unknown key"),
    "standardize_scale_missing.json": (E_FORMAT, "standardize.scale: missing"),
    "standardize_mean_length.json": (E_FORMAT, "standardize.mean: 4 values, expected 3"),
    "standardize_scale_zero.json": (E_FORMAT, "standardize.scale[1]: 0 is not positive"),
    "standardize_scale_negative.json": (E_FORMAT, "standardize.scale[0]: -10 is not positive"),
    "fold_weight_overflow.json": (E_FORMAT, "coef[1][2]: divided by standardize.scale[2], it "
                                            "overflows"),
    "fold_bias_overflow.json": (E_FORMAT, "intercept[0]: with the standardisation folded in"),
    "truncated.json": (E_FORMAT, "invalid JSON at byte"),
    "format_misspelt.json": (E_FORMAT, "\"format\": \"crisk-logistic\""),
}


def test_corpus_lists_every_file():
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(CORPUS_EXPECTED)


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus_file_is_refused(name):
    code, where = CORPUS_EXPECTED[name]
    path = CORPUS / name
    with pytest.raises(CriskError) as info:
        CModel(path)
    assert info.value.code == code, info.value.message
    assert where in info.value.message
    assert info.value.message.startswith(f"{path}: "), "crisk_model_load names the file"
    # The same bytes from memory fail the same way.
    with pytest.raises(CriskError) as info:
        CModel(path.read_bytes())
    assert info.value.code == code and where in info.value.message


class _Limits(ctypes.Structure):
    """crisk_load_options: its version, the limits, then the SHA-256 pin (all of the
    struct, since crisk_load_options_init() writes all of it)."""
    VERSION = 1  # CRISK_LOAD_OPTIONS_VERSION: the layout below
    _fields_ = [("version", ctypes.c_uint)] + [(name, ctypes.c_size_t) for name in (
        "max_file_bytes", "max_trees", "max_nodes", "max_depth", "max_features",
        "max_outputs", "max_category")] + [
        ("pin_sha256", ctypes.c_int), ("expected_sha256", ctypes.c_ubyte * 32)]


def load_with_limits(data, **limits):
    """Loads `data` with default limits except those given; returns (code, message)."""
    LIB.crisk_load_options_init.argtypes = [ctypes.POINTER(_Limits), ctypes.c_uint]
    LIB.crisk_model_load_buffer_advanced.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(_Limits),
        ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
    opts = _Limits()
    assert LIB.crisk_load_options_init(ctypes.byref(opts), _Limits.VERSION) == 0
    for name, value in limits.items():
        setattr(opts, name, value)
    handle = ctypes.c_void_p()
    err = (ctypes.c_char * (4 + 512))()  # crisk_error: int code, char message[512]
    rc = LIB.crisk_model_load_buffer_advanced(data, len(data), ctypes.byref(opts),
                                              ctypes.byref(handle), ctypes.addressof(err))
    LIB.crisk_model_free(handle)
    return rc, bytes(err[4:]).split(b"\0")[0].decode()


def test_limits():
    est, _ = fit("lr", 4, 4, True)
    data = json.dumps(logistic_to_dict(est)).encode()
    assert load_with_limits(data) == (0, "")
    rc, msg = load_with_limits(data, max_features=3)
    assert rc == E_LIMIT and "feature_names: 4 features" in msg and "max_features = 3" in msg
    rc, msg = load_with_limits(data, max_outputs=3)
    assert rc == E_LIMIT and "classes: 4 labels" in msg and "max_outputs = 3" in msg


def test_exporter_refuses_other_estimators():
    X, y = make_data(2, 200, 4, 3, False)
    with pytest.raises(TypeError, match="RandomForestClassifier"):
        logistic_to_dict(RandomForestClassifier(n_estimators=2).fit(X, y))
    with pytest.raises(TypeError, match=r"\[MinMaxScaler, LogisticRegression\]"):
        logistic_to_dict(make_pipeline(MinMaxScaler(), LogisticRegression()).fit(X, y))
    ovr_of_pipeline = OneVsRestClassifier(make_pipeline(StandardScaler(), LogisticRegression()))
    with pytest.raises(TypeError, match="put the StandardScaler before"):
        logistic_to_dict(ovr_of_pipeline.fit(X, y))
    multilabel = OneVsRestClassifier(LogisticRegression()).fit(X, np.eye(3)[y].astype(int))
    with pytest.raises(TypeError, match="multilabel"):
        logistic_to_dict(multilabel)
    with pytest.raises(NotFittedError):
        logistic_to_dict(LogisticRegression())
    broken = LogisticRegression().fit(X, y)
    broken.coef_[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        logistic_to_dict(broken)


def test_built_package_ships_the_exporter(tmp_path):
    crisk = pytest.importorskip("crisk", reason="the Python binding was not built")
    from crisk.export import save_logistic as packaged

    est, X = fit("lr", 5, 3, True)
    packaged(est, tmp_path / "m.json")
    model = crisk.Model(tmp_path / "m.json")
    assert np.abs(model.predict(X) - est.predict_proba(X)).max() <= PROBA_TOL
