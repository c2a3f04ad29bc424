"""crisk.Model.interactions (the SWIG binding over crisk_interactions) against xgboost 3.x's
own Booster.predict(pred_interactions=True), on small models trained here: a binary and a
4-class model, rows with missing values, the thread, pool and iteration-range options, and
DataFrame input. Compared in margin space to 1e-5 absolute, as the C-level test
(test_contributions.py) compares crisk_interactions."""
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

crisk = pytest.importorskip("crisk", reason="the Python binding was not built")

TOL = 1e-5
F = 5
ROWS = 60


def _rows(seed):
    """Returns float32 rows with about 15% missing values (at least one per column)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, F)).astype(np.float32)
    X[rng.random(X.shape) < 0.15] = np.nan
    assert np.isnan(X[:ROWS]).any(axis=0).all()
    return X, rng


@pytest.fixture(scope="module")
def binary():
    X, rng = _rows(21)
    y = (np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 2]) * np.nan_to_num(X[:, 3])
         + 0.3 * rng.normal(size=len(X)) > 0).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4, "nthread": 1,
                         "seed": 0}, xgb.DMatrix(X, label=y, nthread=1), num_boost_round=10)
    return booster, crisk.Model.from_xgboost(booster), X[:ROWS]


@pytest.fixture(scope="module")
def multiclass():
    X, _ = _rows(22)
    y = np.digitize(np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1] * X[:, 4]),
                    [-0.8, 0.0, 0.8])
    clf = xgb.XGBClassifier(objective="multi:softprob", n_estimators=8, max_depth=3,
                            n_jobs=1, random_state=0)
    clf.fit(X, y)
    assert clf.n_classes_ == 4
    return clf.get_booster(), crisk.Model.from_xgboost(clf), X[:ROWS]


def _xgb(booster, X, **kwargs):
    """xgboost's interaction values of rows X, shape (rows, groups, F+1, F+1)."""
    out = booster.predict(xgb.DMatrix(X, nthread=1), pred_interactions=True, **kwargs)
    return out.reshape(X.shape[0], -1, F + 1, F + 1)


def test_binary_matches_xgboost(binary):
    booster, model, X = binary
    got = model.interactions(X)
    assert got.shape == (ROWS, F + 1, F + 1) and got.dtype == np.float32
    np.testing.assert_allclose(got, _xgb(booster, X)[:, 0], rtol=0, atol=TOL)
    # Line i sums to feature i's contribution; the whole matrix to the margin.
    np.testing.assert_allclose(got.sum(axis=-1), model.contributions(X), rtol=0, atol=TOL)
    np.testing.assert_allclose(got.sum(axis=(1, 2)), model.predict(X, output="margin"),
                               rtol=0, atol=TOL)


def test_multiclass_matches_xgboost(multiclass):
    booster, model, X = multiclass
    got = model.interactions(X)
    assert got.shape == (ROWS, 4, F + 1, F + 1)
    np.testing.assert_allclose(got, _xgb(booster, X), rtol=0, atol=TOL)
    np.testing.assert_allclose(got.sum(axis=-1), model.contributions(X), rtol=0, atol=TOL)


def test_threads_and_pool_change_nothing(multiclass):
    _, model, X = multiclass
    want = model.interactions(X, threads=1)
    np.testing.assert_array_equal(model.interactions(X, threads=2), want)
    with crisk.Pool(2) as pool:
        for threads in (0, 1, 2):
            np.testing.assert_array_equal(model.interactions(X, threads=threads, pool=pool),
                                          want)
    with pytest.raises(ValueError, match="closed"):
        model.interactions(X, pool=pool)


def test_iteration_range(multiclass):
    """[0, e) as xgboost's iteration_range; [b, e) as the sliced model booster[b:e]."""
    booster, model, X = multiclass
    np.testing.assert_allclose(model.interactions(X, iteration_range=(0, 3)),
                               _xgb(booster, X, iteration_range=(0, 3)), rtol=0, atol=TOL)
    np.testing.assert_allclose(model.interactions(X, iteration_range=(2, 6)),
                               _xgb(booster[2:6], X), rtol=0, atol=TOL)
    with pytest.raises(crisk.CriskError) as e:
        model.interactions(X, iteration_range=(0, 99))
    assert e.value.code == -1  # CRISK_E_INVALID_ARGUMENT


def test_rows_as_predict_takes_them(binary):
    """A float64 DataFrame, a single row and a wrong width, as predict takes them."""
    booster, model, X = binary
    want = _xgb(booster, X)[:, 0]
    frame = pd.DataFrame(X.astype(np.float64), columns=[f"f{j}" for j in range(F)])
    np.testing.assert_allclose(model.interactions(frame), want, rtol=0, atol=TOL)
    np.testing.assert_allclose(model.interactions(X[3]), want[3:4], rtol=0, atol=TOL)
    assert model.interactions(X[:0]).shape == (0, F + 1, F + 1)
    with pytest.raises(crisk.CriskError) as e:
        model.interactions(X[:, :3])
    assert e.value.code == -7  # CRISK_E_SHAPE
