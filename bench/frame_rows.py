#!/usr/bin/env python3
"""DataFrame to float32 rows (issue 16, item 8): how long Model.predict spends turning a
pandas DataFrame into the row-major float32 array the C library scores, against the
scoring itself, on a 1M x 24 frame of float64 columns with 5% missing values.

The model (binary:logistic, 100 trees of depth 6 over the 24 named columns) is trained
here on 20,000 rows with the pinned xgboost. Figures are medians of --runs on the process
CPU clock; the conversion's peak of extra memory is traced by tracemalloc (numpy's
allocations), over the output array itself.

    PYTHONPATH=build/bindings/python python3 bench/frame_rows.py [--rows 1000000] [--runs 5]
"""
import argparse
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd
import xgboost as xgb

import crisk


def frame_and_model(rows: int, columns: int):
    rng = np.random.default_rng(8)
    names = [f"f{i}" for i in range(columns)]
    X = rng.normal(size=(rows, columns))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:20000, 0]) + np.nan_to_num(X[:20000, 1]) > 0).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "nthread": 1},
                        xgb.DMatrix(X[:20000], y, feature_names=names), 100)
    return pd.DataFrame(X, columns=names), crisk.Model.from_xgboost(booster)


def median_cpu(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=24)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    frame, model = frame_and_model(args.rows, args.columns)
    rows = model._rows(frame)
    np.testing.assert_array_equal(rows, frame.to_numpy(np.float32))
    convert = median_cpu(lambda: model._rows(frame), args.runs)
    score = median_cpu(lambda: model.predict(rows, threads=1), args.runs)
    tracemalloc.start()
    model._rows(frame)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{args.rows} x {args.columns} DataFrame, crisk {crisk.__version__}, "
          f"pandas {pd.__version__}, median of {args.runs} (CPU clock)")
    print(f"conversion to float32 rows: {convert:.3f} s; peak extra memory "
          f"{(peak - rows.nbytes) / 2**20:.0f} MiB over the {rows.nbytes / 2**20:.0f} MiB "
          f"of rows")
    print(f"scoring those rows (1 thread): {score:.3f} s")


if __name__ == "__main__":
    main()
