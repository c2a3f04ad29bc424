"""SHAP contributions and interactions (crisk_contributions, crisk_interactions) against
XGBoost's own Booster.predict(pred_contribs=True / pred_interactions=True), on models
trained here with xgboost 3.x, through the ctypes view of the C library.

Every comparison is in margin space, to 1e-5 absolute; every model kind is also checked
to sum to crisk_predict's margin."""
import numpy as np
import pytest
import xgboost as xgb

from crisk_ctypes import CModel, CriskError

TOL = 1e-5
CRISK_E_INVALID_ARGUMENT = -1
CRISK_E_SHAPE = -7


def _data(n=400, f=6, seed=0, nan=0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f)).astype(np.float32)
    if nan:
        X[rng.random(X.shape) < nan] = np.nan
    return X, rng


def _train(tmp_path, params, X, y, rounds, name="m.json", **dmatrix_args):
    params = {"nthread": 1, "seed": 0, **params}
    booster = xgb.train(params, xgb.DMatrix(X, y, **dmatrix_args), rounds)
    path = tmp_path / name
    booster.save_model(str(path))
    return booster, CModel(path)


def _xgb_contribs(booster, X, interactions=False, **dmatrix_args):
    """XGBoost's contributions shaped (rows, groups, C[, C]) like crisk's output."""
    d = xgb.DMatrix(X, **dmatrix_args)
    out = booster.predict(d, pred_interactions=interactions, pred_contribs=not interactions)
    C = X.shape[1] + 1
    return out.reshape((X.shape[0], -1, C) + ((C,) if interactions else ()))


def _check_sums(model, X, phi):
    """Contributions plus bias sum to crisk_predict's margins."""
    margin = model.predict(X, margin=True).reshape(X.shape[0], -1)
    np.testing.assert_allclose(phi.sum(axis=-1), margin, rtol=0, atol=TOL)


def _binary_target(X, rng):
    return (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * 0.5
            + rng.normal(scale=0.5, size=len(X)) > 0).astype(int)


@pytest.mark.parametrize("depth", [1, 4, 8])
def test_gbtree_binary_matches_xgboost(tmp_path, depth):
    X, rng = _data()
    y = _binary_target(X, rng)
    booster, model = _train(tmp_path, {"objective": "binary:logistic", "max_depth": depth},
                            X, y, 30)
    want = _xgb_contribs(booster, X)
    got = model.contributions(X)            # a batch large enough for tables
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    one = np.concatenate([model.contributions(X[i:i + 1]) for i in range(20)])
    np.testing.assert_allclose(one, want[:20], rtol=0, atol=TOL)   # no tables
    _check_sums(model, X, got)


def test_dart_matches_xgboost(tmp_path):
    X, rng = _data(seed=1)
    y = _binary_target(X, rng)
    booster, model = _train(tmp_path, {"objective": "binary:logistic", "booster": "dart",
                                       "max_depth": 4, "rate_drop": 0.3, "skip_drop": 0.0},
                            X, y, 25)
    got = model.contributions(X)
    np.testing.assert_allclose(got, _xgb_contribs(booster, X), rtol=0, atol=TOL)
    _check_sums(model, X, got)


def test_regression_with_base_score(tmp_path):
    X, rng = _data(seed=2)
    y = np.nan_to_num(X[:, 2]) - 0.3 * np.nan_to_num(X[:, 3]) + 0.7
    booster, model = _train(tmp_path, {"objective": "reg:squarederror", "max_depth": 5,
                                       "base_score": 0.7}, X, y, 30)
    got = model.contributions(X)
    np.testing.assert_allclose(got, _xgb_contribs(booster, X), rtol=0, atol=TOL)
    _check_sums(model, X, got)


@pytest.mark.parametrize("objective", ["multi:softprob", "multi:softmax"])
def test_multiclass_matches_xgboost(tmp_path, objective):
    X, rng = _data(seed=3)
    y = np.digitize(np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 4]), [-0.7, 0.7])
    booster, model = _train(tmp_path, {"objective": objective, "num_class": 3,
                                       "max_depth": 4}, X, y, 15)
    got = model.contributions(X)
    assert got.shape == (len(X), 3, X.shape[1] + 1)
    np.testing.assert_allclose(got, _xgb_contribs(booster, X), rtol=0, atol=TOL)
    _check_sums(model, X, got)


@pytest.mark.parametrize("onehot", [1, 64])
def test_categorical_matches_xgboost(tmp_path, onehot):
    """Partition splits (max_cat_to_onehot=1) and one-hot splits, with missing values
    and with category codes never seen in training."""
    X, rng = _data(seed=4, f=4)
    X[:, 1] = rng.integers(0, 12, size=len(X))
    X[rng.random(len(X)) < 0.1, 1] = np.nan
    y = (np.isin(X[:, 1], [1, 3, 5, 8]) ^ (np.nan_to_num(X[:, 0]) > 0.3)).astype(int)
    types = ["q", "c", "q", "q"]
    booster, model = _train(tmp_path, {"objective": "binary:logistic", "max_depth": 4,
                                       "max_cat_to_onehot": onehot}, X, y, 20,
                            feature_types=types, enable_categorical=True)
    Xt = X.copy()
    Xt[:5, 1] = [13, 20, 2.7, -1, 0]     # unseen, out of range, fractional, negative
    got = model.contributions(Xt)
    want = _xgb_contribs(booster, Xt, feature_types=types, enable_categorical=True)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    _check_sums(model, Xt, got)


def test_gblinear_matches_xgboost(tmp_path):
    X, rng = _data(seed=5)
    y = _binary_target(X, rng)
    booster, model = _train(tmp_path, {"objective": "binary:logistic", "booster": "gblinear"},
                            X, y, 20)
    got = model.contributions(X)
    np.testing.assert_allclose(got, _xgb_contribs(booster, X), rtol=0, atol=TOL)
    _check_sums(model, X, got)
    inter = model.contributions(X[:10], interactions=True)
    # No interactions in a linear model: the diagonal holds the contributions.
    np.testing.assert_array_equal(np.diagonal(inter, axis1=2, axis2=3), got[:10])
    assert np.count_nonzero(inter) == np.count_nonzero(got[:10])


def test_multiclass_gblinear(tmp_path):
    X, rng = _data(seed=6)
    y = np.digitize(np.nan_to_num(X[:, 0]), [-0.5, 0.5])
    booster, model = _train(tmp_path, {"objective": "multi:softprob", "num_class": 3,
                                       "booster": "gblinear"}, X, y, 10)
    got = model.contributions(X)
    np.testing.assert_allclose(got, _xgb_contribs(booster, X), rtol=0, atol=TOL)
    _check_sums(model, X, got)


def test_iteration_ranges(tmp_path):
    """[0, e) as XGBoost's iteration_range; [b, e) as XGBoost's sliced model booster[b:e]
    (XGBoost's pred_contribs refuses b > 0), and always summing to predict's margin."""
    X, rng = _data(seed=7)
    y = np.digitize(np.nan_to_num(X[:, 1]), [-0.5, 0.5])
    booster, model = _train(tmp_path, {"objective": "multi:softprob", "num_class": 3,
                                       "max_depth": 3}, X, y, 12)
    d = xgb.DMatrix(X)
    want = booster.predict(d, pred_contribs=True, iteration_range=(0, 5))
    got = model.contributions(X, iteration_range=(0, 5))
    np.testing.assert_allclose(got, want.reshape(got.shape), rtol=0, atol=TOL)
    want = booster[3:9].predict(d, pred_contribs=True)
    got = model.contributions(X, iteration_range=(3, 9))
    np.testing.assert_allclose(got, want.reshape(got.shape), rtol=0, atol=TOL)
    margin = model.predict(X, margin=True, iteration_range=(3, 9))
    np.testing.assert_allclose(got.sum(axis=-1), margin, rtol=0, atol=TOL)


def test_dart_iteration_range(tmp_path):
    X, rng = _data(seed=8)
    y = _binary_target(X, rng)
    booster, model = _train(tmp_path, {"objective": "binary:logistic", "booster": "dart",
                                       "max_depth": 3, "rate_drop": 0.5, "skip_drop": 0.0},
                            X, y, 12)
    want = booster.predict(xgb.DMatrix(X), pred_contribs=True, iteration_range=(0, 7))
    got = model.contributions(X, iteration_range=(0, 7))
    np.testing.assert_allclose(got[:, 0], want, rtol=0, atol=TOL)


@pytest.mark.parametrize("kind", ["binary", "dart", "softprob", "categorical"])
def test_interactions_match_xgboost(tmp_path, kind):
    X, rng = _data(n=300, f=5, seed=9)
    params, args = {"max_depth": 4}, {}
    if kind == "softprob":
        params.update(objective="multi:softprob", num_class=3)
        y = np.digitize(np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 2]), [-0.7, 0.7])
    else:
        params["objective"] = "binary:logistic"
        y = _binary_target(X, rng)
    if kind == "dart":
        params.update(booster="dart", rate_drop=0.3, skip_drop=0.0)
    if kind == "categorical":
        X[:, 3] = rng.integers(0, 8, size=len(X))
        y = (np.isin(X[:, 3], [0, 2, 5]) ^ (np.nan_to_num(X[:, 0]) > 0)).astype(int)
        params["max_cat_to_onehot"] = 1
        args = dict(feature_types=["q", "q", "q", "c", "q"], enable_categorical=True)
    booster, model = _train(tmp_path, params, X, y, 10, **args)
    rows = X[:40]
    got = model.contributions(rows, interactions=True)
    want = _xgb_contribs(booster, rows, interactions=True, **args)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    # Each line of the matrix sums to that column's contribution.
    np.testing.assert_allclose(got.sum(axis=-1), model.contributions(rows), rtol=0, atol=TOL)


def test_threads_give_the_same_result(tmp_path):
    X, rng = _data(n=600, seed=10)
    y = _binary_target(X, rng)
    _, model = _train(tmp_path, {"objective": "binary:logistic", "max_depth": 6}, X, y, 20)
    one = model.contributions(X, threads=1)
    np.testing.assert_array_equal(model.contributions(X, threads=2), one)
    np.testing.assert_array_equal(model.contributions(X, threads=0), one)


def test_bad_calls_are_refused(tmp_path):
    X, rng = _data(n=100, seed=11)
    y = _binary_target(X, rng)
    _, model = _train(tmp_path, {"objective": "binary:logistic", "max_depth": 2}, X, y, 3)
    with pytest.raises(CriskError) as e:
        model.contributions(X[:, :5])
    assert e.value.code == CRISK_E_SHAPE
    with pytest.raises(CriskError) as e:
        model.contributions(X, iteration_range=(2, 9))
    assert e.value.code == CRISK_E_INVALID_ARGUMENT
    assert model.contributions(X[:0]).shape == (0, 1, X.shape[1] + 1)


def _load_exporter():
    """crisk/export.py from the source tree, by path (as test_logistic does)."""
    import importlib.util
    import os
    from pathlib import Path
    source = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
    spec = importlib.util.spec_from_file_location(
        "crisk_export_for_contributions", source / "bindings" / "python" / "crisk" / "export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("classes", [2, 3])
def test_logistic_contributions(tmp_path, classes):
    """A standardised scikit-learn logistic regression: each contribution is the
    coefficient times the standardised value, the bias is the intercept, and they sum to
    scikit-learn's decision function."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    rng = np.random.default_rng(12)
    X = (rng.normal(size=(300, 5)) * [1, 10, 100, 0.5, 3] + [0, 50, 2000, -1, 7])
    X = X.astype(np.float32).astype(np.float64)
    y = np.digitize(X[:, 0] + (X[:, 1] - 50) / 10 + rng.logistic(size=300), [-1, 1][:classes - 1])
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    path = tmp_path / "logistic.json"
    _load_exporter().save_logistic(pipe, path)
    model = CModel(path)
    got = model.contributions(X.astype(np.float32))
    scaler, clf = pipe[0], pipe[1]
    Z = (X - scaler.mean_) / scaler.scale_
    coef = clf.coef_.reshape(-1, X.shape[1])
    want = np.concatenate([Z[:, None, :] * coef[None, :, :],
                           np.broadcast_to(clf.intercept_.reshape(1, -1, 1),
                                           (len(X), coef.shape[0], 1))], axis=2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    decision = pipe.decision_function(X).reshape(len(X), -1)
    np.testing.assert_allclose(got.sum(axis=-1), decision, rtol=1e-5, atol=1e-5)
    _check_sums(model, X.astype(np.float32), got)


def test_cli_contribs(run_crisk, tmp_path):
    """`crisk predict --contribs` writes a named column per feature and the bias, as
    XGBoost's pred_contribs, each line summing to `crisk predict --margin`."""
    import io
    import os
    from pathlib import Path
    import pandas as pd
    source = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
    model_path = source / "models" / "example-features" / "fraud_xgb.json"
    cases = source / "models" / "example-features" / "features.csv"
    out = pd.read_csv(io.StringIO(run_crisk("predict", "--model", model_path, "--input", cases,
                                            "--contribs").stdout))
    booster = xgb.Booster(model_file=str(model_path))
    names = booster.feature_names
    assert list(out.columns) == names + ["bias"]
    X = pd.read_csv(cases)[names].to_numpy(np.float32)
    want = booster.predict(xgb.DMatrix(X, feature_names=names), pred_contribs=True)
    np.testing.assert_allclose(out.to_numpy(), want, rtol=0, atol=TOL)
    margin = pd.read_csv(io.StringIO(run_crisk("predict", "--model", model_path, "--input",
                                               cases, "--margin").stdout))
    np.testing.assert_allclose(out.sum(axis=1), margin["score"], rtol=0, atol=TOL)


def _lgb_data(seed=13):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(500, 6))
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, 3] = rng.integers(0, 10, 500)
    X[rng.random(500) < 0.1, 3] = np.nan
    X[rng.random(500) < 0.2, 4] = 0.0
    return X.astype(np.float32).astype(np.float64), rng


@pytest.mark.parametrize("params", [
    dict(objective="binary"),
    dict(objective="binary", zero_as_missing=True),
    dict(objective="binary", use_missing=False),
    dict(objective="multiclass", num_class=3),
    dict(objective="regression"),
], ids=["binary", "zero_as_missing", "no_missing", "multiclass", "regression"])
def test_lightgbm_matches_pred_contrib(tmp_path, params):
    """LightGBM's missing types (applied as fix-ups), a categorical column, several
    classes: against Booster.predict(pred_contrib=True), which computes in double."""
    import lightgbm as lgb
    X, rng = _lgb_data()
    if params["objective"] == "multiclass":
        y = np.digitize(np.nan_to_num(X[:, 0]), [-0.5, 0.5])
    else:
        y = ((np.nan_to_num(X[:, 0]) + np.isin(X[:, 3], [1, 4, 7])) > 0.5).astype(int)
    booster = lgb.train({**params, "verbose": -1, "num_leaves": 15, "min_data_in_leaf": 5,
                         "num_threads": 1}, lgb.Dataset(X, y, categorical_feature=[3]), 10)
    path = tmp_path / "model.txt"
    booster.save_model(str(path))
    model = CModel(path)
    got = model.contributions(X)
    want = booster.predict(X, pred_contrib=True).reshape(got.shape)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    _check_sums(model, X.astype(np.float32), got)
    inter = model.contributions(X[:20], interactions=True)
    np.testing.assert_allclose(inter.sum(axis=-1), got[:20], rtol=0, atol=TOL)


def test_lightgbm_linear_trees_are_refused(tmp_path):
    """LightGBM itself has no SHAP for linear trees."""
    import lightgbm as lgb
    rng = np.random.default_rng(14)
    X = rng.normal(size=(200, 3))
    booster = lgb.train({"objective": "regression", "linear_tree": True, "verbose": -1,
                         "num_threads": 1}, lgb.Dataset(X, X[:, 0] * 2 + X[:, 1]), 3)
    path = tmp_path / "linear.txt"
    booster.save_model(str(path))
    with pytest.raises(CriskError) as e:
        CModel(path).contributions(X.astype(np.float32))
    assert e.value.code == -5 and "linear trees" in e.value.message
