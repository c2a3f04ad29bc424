"""crisk.Pool: calls given a pool (Model.predict, Model.contributions, Bundle.score) give
exactly what one thread gives, many Python threads may share one pool, the context
manager closes it; and the ctypes mirrors of the C options structs (crisk_ctypes.py,
test_bundle_python.py) still match the C structs, pool field included."""
import ctypes
import threading

import numpy as np
import pytest
import xgboost as xgb

import bundle_builder as bb
from crisk_ctypes import LIB, _PredictOptions
from test_bundle_python import _ScoreOptions

crisk = pytest.importorskip("crisk", reason="the Python binding was not built")

ROWS = 3000   # several threads' worth: crisk splits rows 512 (contributions 16) a thread


@pytest.fixture(scope="module")
def model_rows():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(ROWS, 6)).astype(np.float32)
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (X[:, 0] - np.nan_to_num(X[:, 2]) + 0.3 * rng.normal(size=ROWS) > 0).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 5, "nthread": 1},
                        xgb.DMatrix(X, label=y), num_boost_round=15)
    return crisk.Model.from_xgboost(booster), X


def test_pool_results_bit_identical(model_rows):
    model, X = model_rows
    want = model.predict(X, threads=1)
    want_margin = model.predict(X, output="margin", threads=1)
    want_contrib = model.contributions(X, threads=1)
    for size in (1, 2, 3, 0):
        with crisk.Pool(size) as pool:
            assert 1 <= pool.threads and (size == 0 or pool.threads <= size)
            for threads in (0, 1, 2):
                np.testing.assert_array_equal(model.predict(X, threads=threads, pool=pool), want)
                np.testing.assert_array_equal(
                    model.predict(X, output="margin", threads=threads, pool=pool), want_margin)
                np.testing.assert_array_equal(
                    model.contributions(X, threads=threads, pool=pool), want_contrib)


def test_pool_shared_by_threads(model_rows):
    model, X = model_rows
    want = model.predict(X, threads=1)
    results, errors = [], []

    def call(pool):
        try:
            for _ in range(5):
                results.append(model.predict(X, pool=pool, threads=0))
        except Exception as e:  # reported below, in the test's own thread
            errors.append(e)

    with crisk.Pool(2) as pool:
        callers = [threading.Thread(target=call, args=(pool,)) for _ in range(8)]
        for t in callers:
            t.start()
        for t in callers:
            t.join()
    assert not errors
    assert len(results) == 40
    for r in results:
        np.testing.assert_array_equal(r, want)


def test_pool_closes(model_rows):
    model, X = model_rows
    with crisk.Pool(2) as pool:
        model.predict(X[:10], pool=pool)
        assert "open" in repr(pool)
    assert "closed" in repr(pool)
    with pytest.raises(ValueError, match="closed"):
        model.predict(X[:10], pool=pool)
    pool.close()  # idempotent
    with pytest.raises(TypeError, match="crisk.Pool"):
        model.predict(X[:10], pool=4)
    with pytest.raises(crisk.CriskError, match="negative"):
        crisk.Pool(-1)


def test_pool_bundle_score(tmp_path):
    bundle = crisk.Bundle(bb.build(tmp_path / "bundle", train_rows=1500))
    rows = bb.scoring_rows(rows=1200)
    want = bundle.score(rows, threads=1, today="2024-06-01").combined()
    with crisk.Pool(0) as pool:
        got = bundle.score(rows, pool=pool, threads=0, today="2024-06-01").combined()
        state = bundle.stream()
        streamed = bundle.score(rows, pool=pool, threads=0, today="2024-06-01",
                                state=state).combined()
    assert got.equals(want)
    assert streamed.equals(bundle.score(rows, threads=1, today="2024-06-01",
                                        state=bundle.stream()).combined())


def _filled_by_init(init, struct):
    """Runs the C init function on a buffer larger than the ctypes mirror, pre-filled with
    0xAA; returns (the mirror read back, the bytes past its size)."""
    size = ctypes.sizeof(struct)
    buf = ctypes.create_string_buffer(b"\xaa" * (size + 64), size + 64)
    assert init(ctypes.cast(buf, ctypes.POINTER(struct)), struct.VERSION) == 0
    return struct.from_buffer_copy(buf.raw[:size]), buf.raw[size:]


def test_ctypes_mirrors_match_the_c_structs():
    opts, past = _filled_by_init(LIB.crisk_predict_options_init, _PredictOptions)
    assert (opts.version, opts.threads, opts.output, opts.iteration_begin,
            opts.iteration_end) == (1, 1, 0, 0, 0)
    assert opts.pool is None
    assert past == b"\xaa" * 64, "crisk_predict_options is larger than its ctypes mirror"
    opts, past = _filled_by_init(LIB.crisk_score_options_init, _ScoreOptions)
    assert (opts.version, opts.threads, opts.explain, opts.stream,
            opts.pool) == (1, 1, 0, None, None)
    assert opts.today == -(2 ** 63)  # CRISK_SCORE_TODAY_AUTO
    assert past == b"\xaa" * 64, "crisk_score_options is larger than its ctypes mirror"
