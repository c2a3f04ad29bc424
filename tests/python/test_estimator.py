"""Python for a notebook (issue 16, item 8): Model.from_lightgbm takes a LightGBM Booster
and its scikit-learn wrappers, from_xgboost refuses anything but XGBoost's with a
TypeError, and crisk.estimator's CriskClassifier / CriskRegressor score inside a
scikit-learn Pipeline exactly as the training library predicts."""
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import crisk
from crisk.estimator import CriskClassifier, CriskRegressor

NAMES = ["value", "mass", "unit_value", "origin"]
ORIGINS = ["AE", "CN", "DE", "TR", "VN"]


def declarations(n, seed):
    rng = np.random.default_rng(seed)
    value = rng.lognormal(7, 1, n)
    mass = rng.lognormal(4, 1, n)
    origin = pd.Categorical(rng.choice(ORIGINS, n), categories=ORIGINS)
    frame = pd.DataFrame({"value": value, "mass": mass, "origin": origin,
                          "note": ["x"] * n})
    risky = np.isin(frame["origin"], ["TR", "VN"]) & (value / mass < 20)
    y = (risky | (rng.random(n) < 0.05)).astype(int)
    return frame, y


def add_unit_value(frame):
    """The preprocessing step: derives a feature and keeps the model's columns."""
    return frame.assign(unit_value=frame["value"] / frame["mass"])[NAMES]


@pytest.fixture(scope="module")
def data():
    train, y = declarations(3000, 1)
    test, _ = declarations(500, 2)
    test.loc[::17, "mass"] = np.nan
    return add_unit_value(train), y, test


@pytest.fixture(scope="module")
def lgb_classifier(data):
    X, y, _ = data
    return lgb.LGBMClassifier(n_estimators=30, num_leaves=8, verbose=-1,
                              n_jobs=1).fit(X, y)


@pytest.fixture(scope="module")
def xgb_classifier(data):
    X, y, _ = data
    return xgb.XGBClassifier(n_estimators=30, max_depth=3, enable_categorical=True,
                             tree_method="hist", n_jobs=1).fit(X, y)


def test_from_lightgbm_takes_booster_and_wrappers(data, lgb_classifier):
    X, y, test = data
    Xt = add_unit_value(test)
    want = lgb_classifier.predict_proba(Xt)[:, 1]
    for source in (lgb_classifier, lgb_classifier.booster_):
        model = crisk.Model.from_lightgbm(source)
        assert model.categories(NAMES.index("origin")) == ORIGINS
        np.testing.assert_allclose(model.predict(Xt), want, rtol=0, atol=1e-6)
    regressor = lgb.LGBMRegressor(n_estimators=20, verbose=-1, n_jobs=1).fit(
        X, X["value"] / 1000)
    np.testing.assert_allclose(crisk.Model.from_lightgbm(regressor).predict(Xt),
                               regressor.predict(Xt), rtol=0, atol=1e-4)


def test_from_xgboost_and_from_lightgbm_refuse_anything_else(lgb_classifier,
                                                             xgb_classifier, tmp_path):
    with pytest.raises(TypeError, match="from_xgboost takes an xgboost.Booster.*lightgbm"):
        crisk.Model.from_xgboost(lgb_classifier)
    with pytest.raises(TypeError, match="not builtins.str"):
        crisk.Model.from_xgboost("model.json")
    with pytest.raises(TypeError, match="from_lightgbm takes a lightgbm.Booster.*xgboost"):
        crisk.Model.from_lightgbm(xgb_classifier.get_booster())
    with pytest.raises(TypeError):
        crisk.Model.from_lightgbm(None)
    with pytest.raises(Exception, match="fit"):
        crisk.Model.from_lightgbm(lgb.LGBMClassifier())


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_classifier_in_a_pipeline_matches_the_library(data, library, lgb_classifier,
                                                      xgb_classifier):
    X, y, test = data
    trained = xgb_classifier if library == "xgboost" else lgb_classifier
    raw, _ = declarations(3000, 1)
    pipe = make_pipeline(FunctionTransformer(add_unit_value), CriskClassifier(trained))
    assert pipe.fit(raw, y) is pipe
    estimator = pipe[-1]
    assert list(estimator.feature_names_in_) == list(trained.feature_names_in_) == NAMES
    assert estimator.n_features_in_ == trained.n_features_in_ == len(NAMES)
    assert list(estimator.classes_) == list(trained.classes_) == [0, 1]
    Xt = add_unit_value(test)
    want = trained.predict_proba(Xt)
    got = pipe.predict_proba(test)
    assert got.shape == want.shape == (len(test), 2)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(pipe.predict(test), trained.predict(Xt))
    # clone() keeps the parameters, and the clone scores the same.
    np.testing.assert_array_equal(clone(pipe).fit(raw, y).predict_proba(test), got)


def test_multiclass_and_regressor(data):
    X, y, test = data
    Xt = add_unit_value(test)
    classes = (X["value"] > X["value"].median()).astype(int) + y
    multi = xgb.XGBClassifier(n_estimators=10, max_depth=3, enable_categorical=True,
                              n_jobs=1).fit(X, classes)
    estimator = CriskClassifier(multi).fit(X)
    assert list(estimator.classes_) == [0, 1, 2]
    np.testing.assert_allclose(estimator.predict_proba(Xt), multi.predict_proba(Xt),
                               rtol=0, atol=1e-6)
    np.testing.assert_array_equal(estimator.predict(Xt), multi.predict(Xt))
    regressor = xgb.XGBRegressor(n_estimators=10, enable_categorical=True, n_jobs=1).fit(
        X, X["value"])
    got = make_pipeline(CriskRegressor(regressor)).predict(Xt)
    np.testing.assert_allclose(got, regressor.predict(Xt), rtol=1e-6)
    with pytest.raises(ValueError, match="gives no class probabilities"):
        CriskClassifier(regressor).predict_proba(Xt)


def test_estimator_checks_the_frame_as_predict_does(data, xgb_classifier, tmp_path):
    X, y, test = data
    path = tmp_path / "model.json"
    xgb_classifier.get_booster().save_model(path)
    estimator = CriskClassifier(str(path))
    with pytest.raises(crisk.CriskError, match=r"\('note'\) is not a feature"):
        estimator.fit(test.assign(unit_value=1.0))
    extra = CriskClassifier(str(path), ignore_extra=True)
    Xt = add_unit_value(test)
    np.testing.assert_array_equal(extra.fit(Xt.assign(note="x")).predict_proba(
        Xt.assign(note="x")), estimator.predict_proba(Xt))
    with pytest.raises(ValueError, match="3 features; the model takes 4"):
        CriskRegressor(str(path)).fit(np.zeros((2, 3)))
