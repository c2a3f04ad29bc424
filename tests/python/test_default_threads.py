"""One default thread rule everywhere (issue 16, item 6): a call runs on the calling thread
unless asked for more (threads=N, or 0 for every core). C's options _init, the CLI's
--threads and Java's PredictOptions default to 1; Python defaulted to 0, every core.

Observed rather than read from signatures: while a long call runs (it releases the GIL),
another Python thread counts the process's threads in /proc/self/task. A call left to its
defaults must start none; the same call asked for 2 threads must (the control that shows
the count sees a scoring thread when there is one). Each check runs in a fresh
interpreter, where no thread left by another test (Dask's, ...) can come and go."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
MODEL = SOURCE / "models" / "example-features" / "fraud_xgb.json"
EXAMPLE = SOURCE / "models" / "example"

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"),
                                reason="needs Linux's /proc")

# Prints, as JSON, {name: [threads started by the default call, by the threads=2 call]}.
SCRIPT = r"""
import json, os, sys, threading
import numpy as np
import pandas as pd
import crisk


def threads_started(call):
    counts = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            counts.append(len(os.listdir("/proc/self/task")))

    sampler = threading.Thread(target=sample)
    sampler.start()
    while not counts:
        done.wait(0.001)
    # From here on only: a thread of the previous call, joined but not yet gone from
    # /proc, may have been counted before.
    first = len(counts) - 1
    try:
        call()
    finally:
        done.set()
        sampler.join()
    return max(counts[first:]) - counts[first]


def seen(call, tries=5):
    # A short call's thread may come and go between two looks on a loaded machine.
    return max(threads_started(call) for _ in range(tries))


model = crisk.Model(sys.argv[1])
X = np.random.default_rng(1).normal(100, 50, (1_000_000, model.num_features)).astype(
    np.float32)
bundle = crisk.Bundle(sys.argv[2])
declarations = pd.read_csv(os.path.join(sys.argv[2], "declarations.csv"), dtype=str,
                           keep_default_na=False)
many = pd.concat([declarations] * 20, ignore_index=True)
calls = {
    "predict": lambda **kw: model.predict(X, **kw),
    "contributions": lambda **kw: model.contributions(X[:40_000], **kw),
    "bundle.score": lambda **kw: bundle.score(many, **kw),
}
for call in calls.values():   # once first: pools other libraries start lazily, and keep
    call()
print(json.dumps({name: [seen(call), seen(lambda: call(threads=2))]
                  for name, call in calls.items()}))
"""


def test_calls_default_to_the_calling_thread():
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(MODEL), str(EXAMPLE)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    started = json.loads(proc.stdout)
    assert set(started) == {"predict", "contributions", "bundle.score"}
    for name, (default, two) in started.items():
        assert two >= 1, f"{name}(threads=2) was not seen starting a thread"
        assert default == 0, f"{name}() started {default} thread(s)"
