#!/usr/bin/env python3
"""The KCS benchmark: crisk's risk-indicator features on the KCS synthetic declarations.

Fits models/kcs/schema.json on the train + valid files of the dataset (out-of-fold risk
indicators: a row's own label never enters its features), trains an XGBoost and a LightGBM
fraud classifier on the training matrix `crisk fit` writes, puts them in one bundle and
evaluates both on the test file through `crisk evaluate`, beside the paper's baselines.
The bundle's reference distributions (reference.json, for `crisk monitor`) are those of
the test split, the latest quarter, which no model trained on; `--report FILE` also
writes `crisk report`'s page of charts on it.

    models/kcs/run DATASET_DIR [--crisk build/crisk] [--bundle DIR] [--report FILE]

DATASET_DIR holds df_syn_train_eng.csv, df_syn_valid_eng.csv and df_syn_test_eng.csv
(Seondong/Customs-Declaration-Datasets, arXiv 2208.02484). Deterministic (one thread,
fixed seeds).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FILES = ("df_syn_train_eng.csv", "df_syn_valid_eng.csv", "df_syn_test_eng.csv")
LABEL, ID = "Fraud", "Declaration ID"
# The paper's Table 3 (test split): precision@5%, precision@10%.
BASELINES = {"XGBoost": (0.675, 0.579), "LightGBM": (0.762, 0.641)}


def crisk(cli: Path, *args) -> str:
    """Runs `crisk ARGS...` with this stderr (its "rows read: ..." lines, and its progress
    when stderr is a terminal) and returns its stdout; exits if it fails."""
    proc = subprocess.run([str(cli), *map(str, args)], stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"crisk {' '.join(map(str, args))} failed ({proc.returncode})")
    return proc.stdout


def concatenate(paths: list[Path], out: Path) -> None:
    """Writes the CSV files `paths` (same header) to `out` as one file, text unchanged."""
    with open(out, "w", encoding="utf-8", newline="") as dst:
        for k, path in enumerate(paths):
            with open(path, encoding="utf-8", newline="") as src:
                header = src.readline()
                if k == 0:
                    dst.write(header)
                dst.writelines(src)


def train_xgboost(X: pd.DataFrame, y: np.ndarray) -> xgb.Booster:
    """Returns the XGBoost fraud classifier (feature names = the matrix columns)."""
    dtrain = xgb.DMatrix(X.to_numpy(np.float32), label=y, feature_names=list(X.columns),
                         missing=np.nan)
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6,
              "eta": 0.05, "subsample": 0.8, "colsample_bytree": 0.8, "nthread": 1,
              "seed": 0}
    return xgb.train(params, dtrain, num_boost_round=300)


def train_lightgbm(X: pd.DataFrame, y: np.ndarray) -> lgb.Booster:
    """Returns the LightGBM fraud classifier (feature names = the matrix columns)."""
    params = {"objective": "binary", "num_leaves": 31, "learning_rate": 0.05,
              "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8,
              "num_threads": 1, "seed": 0, "deterministic": True, "verbose": -1}
    data = lgb.Dataset(X.to_numpy(np.float64), label=y, feature_name=list(X.columns),
                       free_raw_data=False)
    return lgb.train(params, data, num_boost_round=300)


def write_bundle(bundle: Path, features: list[str]) -> None:
    """Writes the manifest, (empty) profiles and policy of the KCS bundle."""
    manifest = {"format": "crisk-bundle", "version": 1, "schema": "schema.json",
                "models": [{"name": "xgboost", "file": "fraud_xgb.json", "features": features},
                           {"name": "lightgbm", "file": "fraud_lgb.txt", "features": features}],
                "profiles": "profiles.json", "policy": "policy.json"}
    profiles = {"format": "crisk-profiles", "version": 1, "watchlists": {}, "rules": []}
    policy = {"format": "crisk-policy", "version": 1,
              "lanes": ["red", "yellow", "blue", "green"], "default_lane": "green",
              "unscored_lane": "red",
              "score_model": "xgboost",
              "thresholds": [{"lane": "red", "min_score": 0.95}],
              "budget": [{"lane": "red", "share": 0.05}, {"lane": "yellow", "share": 0.05}],
              "stream": {"window": 5000},
              "random": {"lane": "yellow", "rate": 0.01, "seed": 20261127}}
    for name, doc in (("manifest.json", manifest), ("profiles.json", profiles),
                      ("policy.json", policy)):
        (bundle / name).write_text(json.dumps(doc, indent=2) + "\n")


def add_reference(cli: Path, bundle: Path, declarations: Path) -> None:
    """Makes the bundle's reference distributions from `declarations` (crisk monitor
    --make-reference) and names them in its manifest."""
    crisk(cli, "monitor", "--bundle", bundle, "--input", declarations,
          "--make-reference", bundle / "reference.json")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["reference"] = "reference.json"
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Fits, trains and evaluates the KCS bundle (module docstring); returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, help="directory of the three KCS CSV files")
    ap.add_argument("--crisk", type=Path,
                    default=Path(os.environ.get("CRISK_CLI", ROOT / "build" / "crisk")),
                    help="the built crisk command (default: $CRISK_CLI, else build/crisk)")
    ap.add_argument("--bundle", type=Path, default=None,
                    help="where to keep the bundle (default: a temporary directory)")
    ap.add_argument("--report", type=Path, default=None,
                    help="write crisk report's HTML page on the test split here")
    args = ap.parse_args(argv)
    train_file, valid_file, test_file = (args.dataset / name for name in FILES)
    for path in (train_file, valid_file, test_file):
        if not path.is_file():
            raise SystemExit(f"{path}: no such file (is {args.dataset} the KCS dataset?)")

    with tempfile.TemporaryDirectory(prefix="crisk-kcs-") as tmp:
        work = Path(tmp)
        bundle = args.bundle or work / "bundle"
        bundle.mkdir(parents=True, exist_ok=True)
        fit_csv, matrix_csv = work / "train_valid.csv", work / "matrix.csv"
        concatenate([train_file, valid_file], fit_csv)
        crisk(args.crisk, "fit", "--schema", HERE / "schema.json", "--input", fit_csv,
              "--label", LABEL, "--output", bundle / "schema.json", "--matrix", matrix_csv,
              "--folds", 5, "--seed", 1)
        matrix = pd.read_csv(matrix_csv, dtype={ID: str})
        features = [c for c in matrix.columns if c not in (ID, LABEL)]
        X, y = matrix[features], matrix[LABEL].to_numpy(np.float32)
        train_xgboost(X, y).save_model(bundle / "fraud_xgb.json")
        train_lightgbm(X, y).save_model(str(bundle / "fraud_lgb.txt"))
        write_bundle(bundle, features)
        add_reference(args.crisk, bundle, test_file)

        print(f"KCS test split ({test_file.name}); trained on {len(matrix)} declarations "
              f"(train + valid), {len(features)} features")
        print("paper baselines, precision@5% / @10%: " +
              ", ".join(f"{k} {a:.3f} / {b:.3f}" for k, (a, b) in BASELINES.items()))
        for model in ("xgboost", "lightgbm"):
            print(f"\ncrisk evaluate --model {model}:")
            print(crisk(args.crisk, "evaluate", "--bundle", bundle, "--input", test_file,
                        "--label", LABEL, "--model", model), end="")
        if args.report:
            crisk(args.crisk, "report", "--bundle", bundle, "--input", test_file,
                  "--label", LABEL, "--output", args.report)
            print(f"\nreport: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
