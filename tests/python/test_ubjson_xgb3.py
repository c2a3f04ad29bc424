"""UBJSON models written by XGBoost 3.x (the Python package): crisk must score a `.ubj`
exactly as the `.json` of the same booster, and both as XGBoost does. The C suite
test_ubjson covers libxgboost 1.7's UBJSON and legacy binary; this covers the newer writer.
"""
import numpy as np
import pytest
import xgboost as xgb

from crisk_ctypes import CModel, CriskError


def _data(rows=300, cols=6, seed=7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, cols)).astype(np.float32)
    X[rng.random(size=X.shape) < 0.1] = np.nan
    score = np.nan_to_num(X[:, 0]) - 0.5 * np.nan_to_num(X[:, 1]) + rng.normal(size=rows)
    return X, score


CASES = {
    "binary": ({"objective": "binary:logistic", "max_depth": 4}, lambda s: s > 0),
    "multiclass": ({"objective": "multi:softprob", "num_class": 3, "max_depth": 3},
                   lambda s: np.digitize(s, [-0.5, 0.5])),
    "regression": ({"objective": "reg:squarederror", "max_depth": 5}, lambda s: s),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ubj_scores_as_json(tmp_path, case):
    params, label = CASES[case]
    X, score = _data()
    booster = xgb.train({**params, "nthread": 1, "eta": 0.3},
                        xgb.DMatrix(X, label=label(score), missing=np.nan),
                        num_boost_round=25)
    booster.save_model(tmp_path / "m.json")
    booster.save_model(tmp_path / "m.ubj")
    assert (tmp_path / "m.ubj").read_bytes()[:1] == b"{"

    from_json = CModel(tmp_path / "m.json").predict(X)
    from_ubj = CModel(tmp_path / "m.ubj").predict(X)
    # Same tree in, same float32 bits out.
    np.testing.assert_array_equal(from_ubj.view(np.uint32), from_json.view(np.uint32))
    want = booster.predict(xgb.DMatrix(X, missing=np.nan)).reshape(from_ubj.shape)
    np.testing.assert_allclose(from_ubj, want, rtol=0, atol=1e-6)


def test_truncated_ubj_names_offset(tmp_path):
    X, score = _data(rows=50)
    booster = xgb.train({"objective": "binary:logistic", "nthread": 1},
                        xgb.DMatrix(X, label=score > 0), num_boost_round=2)
    data = bytes(booster.save_raw("ubj"))
    # From 2 bytes on: a lone "{" is taken for JSON text by the loader.
    for cut in (2, len(data) // 3, len(data) - 1):
        with pytest.raises(CriskError) as e:
            CModel(data[:cut])
        assert "offset" in e.value.message
