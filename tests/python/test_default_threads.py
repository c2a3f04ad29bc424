"""One default thread rule everywhere (issue 16, item 6): a call runs on the calling thread
unless asked for more (threads=N, or 0 for every core). C's options _init, the CLI's
--threads and Java's PredictOptions default to 1; Python defaulted to 0, every core.

Observed rather than read from signatures: while a long call runs (it releases the GIL),
another Python thread counts the process's threads in /proc/self/task. A call left to its
defaults must start none; the same call asked for 2 threads must (the control that shows
the count sees a scoring thread when there is one)."""
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crisk

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
MODEL = SOURCE / "models" / "example-features" / "fraud_xgb.json"
EXAMPLE = SOURCE / "models" / "example"

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"),
                                reason="needs Linux's /proc")


def threads_started(call) -> int:
    """Returns how many threads beyond the caller's the process had during `call()`."""
    counts = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            counts.append(len(os.listdir("/proc/self/task")))

    sampler = threading.Thread(target=sample)
    sampler.start()
    while not counts:
        done.wait(0.001)
    base = counts[-1]
    try:
        call()
    finally:
        done.set()
        sampler.join()
    return max(counts) - base


def starts_threads(call, tries=5) -> bool:
    """Whether `call()` is seen to start a thread in one of `tries` calls (a thread of a
    short call on a loaded machine may come and go between two looks)."""
    return any(threads_started(call) >= 1 for _ in range(tries))


def test_model_calls_default_to_the_calling_thread():
    model = crisk.Model(MODEL)
    rng = np.random.default_rng(1)
    X = rng.normal(loc=100, scale=50, size=(1_000_000, model.num_features)).astype(np.float32)
    assert starts_threads(lambda: model.predict(X, threads=2))
    assert threads_started(lambda: model.predict(X)) == 0
    assert starts_threads(lambda: model.contributions(X[:40_000], threads=2))
    assert threads_started(lambda: model.contributions(X[:40_000])) == 0


def test_bundle_score_defaults_to_the_calling_thread():
    bundle = crisk.Bundle(EXAMPLE)
    declarations = pd.read_csv(EXAMPLE / "declarations.csv", dtype=str,
                               keep_default_na=False)
    many = pd.concat([declarations] * 20, ignore_index=True)
    assert starts_threads(lambda: bundle.score(many, threads=2))
    assert threads_started(lambda: bundle.score(many)) == 0
