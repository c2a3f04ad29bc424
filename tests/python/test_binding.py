"""The SWIG Python binding (crisk.Model): parity, zero copy, GIL release, errors, pickling,
DataFrames, and fork safety."""
import multiprocessing
import pickle
import threading
import time

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

crisk = pytest.importorskip("crisk", reason="the Python binding was not built")


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 6)).astype(np.float32)
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 3]) > 0).astype(int)
    names = ["value", "mass", "unit_value", "tax_rate", "origin_risk", "importer_risk"]
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 5, "nthread": 1},
                        xgb.DMatrix(X, y, missing=np.nan, feature_names=names), 30)
    return booster, X, names


def test_predict_matches_xgboost(trained):
    booster, X, names = trained
    model = crisk.Model.from_xgboost(booster)
    dm = xgb.DMatrix(X, missing=np.nan, feature_names=names)
    ref = booster.predict(dm)
    np.testing.assert_allclose(model.predict(X), ref, rtol=0, atol=1e-6)
    margin = booster.predict(dm, output_margin=True)
    np.testing.assert_allclose(model.predict(X, output="margin"), margin, rtol=0, atol=1e-6)
    assert model.predict(X, threads=2).tolist() == model.predict(X, threads=1).tolist()


def test_float32_c_contiguous_passes_without_copy(trained):
    booster, X, _ = trained
    model = crisk.Model.from_xgboost(booster)
    assert model._rows(X) is X
    fortran = np.asfortranarray(X)
    converted = model._rows(fortran)
    assert converted.flags.c_contiguous and not np.shares_memory(converted, fortran)
    # Other dtypes and orders are converted once and give the same answer.
    np.testing.assert_array_equal(model.predict(X.astype(np.float64)), model.predict(X))
    np.testing.assert_array_equal(model.predict(fortran), model.predict(X))


def test_gil_is_released_during_predict(trained):
    booster, X, _ = trained
    model = crisk.Model.from_xgboost(booster)
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.05)
    # The engine outgrows any fixed size: grow the batch until one call is long.
    for copies in (400, 1600, 6400):
        big = np.ascontiguousarray(np.tile(X, (copies, 1)))
        start = time.perf_counter()
        model.predict(big, threads=1)
        end = time.perf_counter()
        if end - start > 0.1:
            break
    done.set()
    counter.join()
    during = [t for t in ticks if start < t < end]
    # Had the GIL been held, the counter thread could not have ticked during the call.
    assert end - start > 0.1
    assert len(during) >= 10, f"only {len(during)} ticks in {end - start:.3f} s"


def test_errors_carry_code_and_message(trained):
    booster, X, _ = trained
    model = crisk.Model.from_xgboost(booster)
    with pytest.raises(crisk.CriskError) as e:
        model.predict(X[:, :4])
    assert e.value.code == -7 and e.value.name == "CRISK_E_SHAPE"
    assert "4 columns" in e.value.message
    with pytest.raises(crisk.CriskError) as e:
        crisk.Model(b"")
    assert e.value.name == "CRISK_E_FORMAT"
    with pytest.raises(FileNotFoundError):
        crisk.Model("/nonexistent/model.json")
    with pytest.raises(ValueError):
        model.predict(X, output="odds")


def test_load_errors_name_the_file(tmp_path):
    """As the C API's crisk_model_load: `path: message` (issue 16, item 4)."""
    data = b'{"learner": {"objective": '
    with pytest.raises(crisk.CriskError) as from_bytes:
        crisk.Model(data)
    path = tmp_path / "broken.json"
    path.write_bytes(data)
    for source in (path, str(path)):
        with pytest.raises(crisk.CriskError) as e:
            crisk.Model(source)
        assert e.value.name == from_bytes.value.name == "CRISK_E_FORMAT"
        assert e.value.message == f"{path}: {from_bytes.value.message}"
        assert str(e.value) == f"CRISK_E_FORMAT: {path}: {from_bytes.value.message}"


def test_pickle_round_trip(trained):
    booster, X, _ = trained
    model = crisk.Model.from_xgboost(booster)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    assert repr(clone) == repr(model)
    assert "binary:logistic" in repr(model) and "30 trees" in repr(model)


def test_dataframe_columns_are_matched_by_name(trained):
    booster, X, names = trained
    model = crisk.Model.from_xgboost(booster)
    assert model.feature_names == names
    frame = pd.DataFrame(X, columns=names)
    shuffled = frame[names[::-1]]
    np.testing.assert_array_equal(model.predict(shuffled), model.predict(X))
    with pytest.raises(crisk.CriskError) as e:
        model.predict(frame.drop(columns=["mass"]))
    assert "mass" in e.value.message


def _child_predict(model, X, queue):
    queue.put(float(model.predict(X, threads=2).sum()))


def test_fork_after_scoring_does_not_hang(trained):
    booster, X, _ = trained
    model = crisk.Model.from_xgboost(booster)
    expected = float(model.predict(X, threads=2).sum())
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_predict, args=(model, X, queue))
    child.start()
    child.join(timeout=60)
    assert not child.is_alive(), "the forked child hung"
    assert child.exitcode == 0
    assert queue.get(timeout=5) == pytest.approx(expected, rel=0, abs=0)


def test_from_sklearn_matches_predict_proba():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    X = rng.normal(loc=50.0, scale=5.0, size=(400, 5))
    y = (X[:, 0] + rng.normal(size=400) > 50).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    model = crisk.Model.from_sklearn(pipe)
    assert model.info["format"] == "logistic"
    np.testing.assert_allclose(model.predict(X), pipe.predict_proba(X)[:, 1], rtol=0, atol=1e-6)
