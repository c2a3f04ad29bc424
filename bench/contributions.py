#!/usr/bin/env python3
"""Exact SHAP contributions on one thread: crisk against XGBoost's pred_contribs and the
shap package's TreeExplainer, on the same model and rows (issue 5's speed row).

The model is issue 4's anchor shape: binary:logistic, 500 trees of depth 6 over 24
features, rows with 5% missing values, trained here with the pinned xgboost (cached in
--cache). Each engine explains the same rows; the figure is rows/s on the process CPU
clock, median of --runs; the table also gives the largest difference from XGBoost's
contributions (margin space).

    PYTHONPATH=build/bindings/python python3 bench/contributions.py [--rows 2000] [--runs 3]
"""
import argparse
import os
import statistics
import time

import numpy as np
import xgboost as xgb

import crisk


def model_and_rows(cache: str, rows: int):
    """Returns the anchor booster (trained once, then cached) and `rows` rows to explain."""
    rng = np.random.default_rng(4)
    path = os.path.join(cache, "contrib-anchor.json")
    if not os.path.exists(path):
        X = rng.normal(size=(20000, 24)).astype(np.float32)
        X[rng.random(X.shape) < 0.05] = np.nan
        y = (np.nan_to_num(X[:, :6]).sum(axis=1) + rng.normal(size=20000) > 0).astype(int)
        booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "nthread": 1,
                             "seed": 1}, xgb.DMatrix(X, y, missing=np.nan), 500)
        os.makedirs(cache, exist_ok=True)
        booster.save_model(path)
    booster = xgb.Booster(model_file=path)
    booster.set_param({"nthread": 1})
    X = rng.normal(size=(rows, 24)).astype(np.float32)
    X[rng.random(X.shape) < 0.05] = np.nan
    return booster, path, X


def cpu_rate(fn, rows: int, runs: int):
    """Returns (median rows/s on the process CPU clock, the last result)."""
    rates, out = [], None
    for _ in range(runs):
        start = time.process_time()
        out = fn()
        rates.append(rows / (time.process_time() - start))
    return statistics.median(rates), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", default="/tmp/crisk-bench")
    ap.add_argument("--no-shap", action="store_true", help="skip the shap package")
    args = ap.parse_args()
    booster, path, X = model_and_rows(args.cache, args.rows)
    model = crisk.Model(path)
    dm = xgb.DMatrix(X, missing=np.nan)

    results = {}
    results["crisk"] = cpu_rate(lambda: model.contributions(X, threads=1), args.rows,
                                args.runs)
    results["xgboost pred_contribs"] = cpu_rate(
        lambda: booster.predict(dm, pred_contribs=True), args.rows, args.runs)
    if not args.no_shap:
        import shap

        explainer = shap.TreeExplainer(booster)
        # shap gives the bias separately (expected_value); put it last, as XGBoost does.
        results["shap TreeExplainer"] = cpu_rate(
            lambda: np.column_stack([explainer.shap_values(X),
                                     np.full(len(X), explainer.expected_value)]),
            args.rows, args.runs)
    reference = results["xgboost pred_contribs"][1]
    print(f"contributions, 500 trees depth 6, 24 features, {args.rows} rows, one thread "
          f"(CPU clock, median of {args.runs})")
    print(f"{'engine':24} {'rows/s':>10} {'crisk is':>10} {'max |diff| vs xgboost':>22}")
    crisk_rate = results["crisk"][0]
    for name, (rate, out) in results.items():
        diff = float(np.abs(np.asarray(out, dtype=np.float64).reshape(reference.shape)
                            - reference).max())
        print(f"{name:24} {rate:10.0f} {crisk_rate / rate:9.1f}x {diff:22.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
