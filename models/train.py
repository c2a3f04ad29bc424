#!/usr/bin/env python3
"""Trains crisk's example bundle (models/example/) from synthetic declarations.

The recipe, start to end:
1. models/generate.py makes labelled training declarations (seed 7), a labelled held-out
   sample (seed 8) and the declarations the README scores (seed 9); models/generate_events.py
   gives each set containers, trucks and border sensor events (e-seals, RFID, GPS, X-ray;
   breaches, route deviations and X-ray anomalies far more often on fraudulent shipments)
   with the signing devices' key file; a fifth of the shipments carry no sensor and
   report no event. The scoring sample loses its labels (--drop-labels) and carries
   three forged seal breaches, which crisk refuses.
2. `crisk fit --events` fits the example schema (models/schema.json) on the training
   declarations and writes the fitted schema and the training matrix, whose risk-indicator
   features are out-of-fold and whose event features join the training events: the very
   code that builds features when scoring built them for training.
3. Three models are trained on that matrix, each over the schema features the manifest
   lists for it: an XGBoost fraud classifier (binary:logistic, paperwork and event
   features), an XGBoost revenue-at-risk regressor (reg:tweedie on the duty lost) and a
   logistic model (StandardScaler + LogisticRegression over a numeric subset, exported with
   crisk.export.save_logistic); the last two take no event features.
4. manifest.json, profiles.json (officers' rules, two of them on sensor events) and
   policy.json (lanes) are written, with declarations.csv, the sample to score, and its
   events.jsonl and device_keys.json; then reference.json, the reference distributions of
   every feature and score on the held-out sample (`crisk monitor --make-reference`), for
   drift monitoring.
5. `crisk evaluate --events` on the held-out sample prints AUC, precision, recall and
   revenue at the top 1, 2, 5 and 10% by each model's score; then the fraud model's
   figures without the events, on paperwork alone.

Deterministic: one thread and fixed seeds, so a rerun writes the same files byte for byte.

    python3 models/train.py [--crisk build/crisk] [--output models/example] [--rows 50000]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCHEMA = HERE / "schema.json"
TRAIN_SEED, HOLDOUT_SEED, SCORE_SEED = 7, 8, 9
FOLDS, FOLD_SEED = 5, 1
# The share of shipments with no sensor on them (no events): the fraud model learns from
# these what to make of a declaration whose event features are missing (NaN), which is
# also every declaration scored without --events.
UNWATCHED = 0.2

# Which schema features each model takes, in the order it takes them (the manifest lists).
FRAUD_FEATURES = [
    "tax_rate", "log_value", "log_mass", "unit_value", "value_per_item", "month", "weekday",
    "hs2", "hs4", "origin_code", "office_code", "importer_rate", "importer_count",
    "declarant_rate", "declarant_count", "hs6_rate", "hs6_origin_rate", "hs6_origin_count",
    "office_importer_rate", "origin_rate", "seal_breach", "seal_opened",
    "hours_since_verified_seal", "xray_max", "route_dev"]
REVENUE_FEATURES = [
    "declared_value", "tax_rate", "log_value", "unit_value", "hs4", "origin_code",
    "importer_rate", "declarant_rate", "hs6_origin_rate", "hs6_origin_count", "origin_rate"]
# Never missing on a declaration the schema accepts (logistic models take no NaN).
LOGISTIC_FEATURES = [
    "tax_rate", "log_value", "log_mass", "importer_rate", "declarant_rate", "hs6_rate",
    "hs6_origin_rate", "office_importer_rate", "origin_rate"]


def load_export():
    """Returns the crisk.export module, loaded from the source tree: it is pure Python, so
    training needs neither an installed binding nor the built library."""
    path = ROOT / "bindings" / "python" / "crisk" / "export.py"
    spec = importlib.util.spec_from_file_location("crisk_export", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def crisk(cli: Path, *args) -> str:
    """Runs `crisk ARGS...` with this stderr (its "rows read: ..." lines, and its progress
    when stderr is a terminal) and returns its stdout; exits if it fails."""
    proc = subprocess.run([str(cli), *map(str, args)], stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"crisk {' '.join(map(str, args))} failed ({proc.returncode})")
    return proc.stdout


def generate(rows: int, seed: int, work: Path, declarations: Path, events: Path,
             keys: Path, forged: int = 0, labels: bool = True) -> None:
    """Writes `rows` synthetic declarations of `seed` (models/generate.py) to
    `declarations` with a container and a truck each, their sensor events to `events` and
    the device keys to `keys` (models/generate_events.py, same seed, `forged` forged
    events). Without `labels`, the events still follow the labels the file leaves out."""
    raw = work / f"declarations_{seed}.csv"
    subprocess.run([sys.executable, str(HERE / "generate.py"), "--rows", str(rows),
                    "--seed", str(seed), "--output", str(raw)], check=True)
    subprocess.run([sys.executable, str(HERE / "generate_events.py"), "--declarations",
                    str(raw), "--seed", str(seed), "--forged", str(forged),
                    "--unwatched", str(UNWATCHED),
                    "--output-declarations", str(declarations), "--events", str(events),
                    "--keys", str(keys)] + ([] if labels else ["--drop-labels"]), check=True)


def event_files(work: Path, name: str) -> tuple[Path, Path]:
    """Returns the event stream and device key file of declaration set `name` in `work`."""
    return work / f"{name}_events.jsonl", work / f"{name}_keys.json"


def event_options(work: Path, name: str) -> list:
    """Returns the `crisk` options that join the events of set `name` (in `work`)."""
    events, keys = event_files(work, name)
    return ["--events", events, "--device-keys", keys]


def train_xgb(X: pd.DataFrame, y: np.ndarray, params: dict, rounds: int) -> xgb.Booster:
    """Returns an XGBoost booster trained on X (its columns become the feature names)."""
    dtrain = xgb.DMatrix(X.to_numpy(np.float32), label=y, feature_names=list(X.columns),
                         missing=np.nan)
    base = {"tree_method": "hist", "nthread": 1, "seed": 0, "eta": 0.1}
    return xgb.train({**base, **params}, dtrain, num_boost_round=rounds)


def watchlist(train: pd.DataFrame, n: int) -> list[str]:
    """Returns the `n` importers an officer would watch: the most often caught among those
    with enough history (20 declarations in 50,000; fewer in a small sample), ties broken
    by id so that the list is reproducible."""
    min_count = max(3, len(train) // 2500)
    stats = train.groupby("importer_id")["fraud"].agg(["mean", "count"]).reset_index()
    stats = stats[stats["count"] >= min_count].sort_values(["mean", "importer_id"],
                                                             ascending=[False, True])
    return sorted(stats["importer_id"].head(n).tolist())


def profiles(watched: list[str]) -> dict:
    """Returns the example risk profiles: rules an officer would write."""
    return {
        "format": "crisk-profiles", "version": 1,
        "watchlists": {"importers_under_investigation": watched},
        "rules": [
            {"id": "P-001", "lane": "red", "mandatory": True,
             "description": "importer under investigation (watch list)",
             "active": {"from": "2025-01-01", "to": "2027-12-31"},
             "when": {"field": "importer_id", "watchlist": "importers_under_investigation"}},
            {"id": "P-002", "lane": "yellow", "mandatory": True,
             "description": "garments and made-up textiles (HS 62, 63) declared as "
                            "Bangladeshi origin under the trade agreement",
             "active": {"from": "2025-03-01", "to": "2025-12-31"},
             "when": {"all": [{"field": "hs_code", "hs_prefix": ["62", "63"]},
                              {"field": "origin", "equals": "BD"}]}},
            {"id": "P-003", "lane": "yellow", "mandatory": False,
             "description": "unit value below the band of its HS6 x origin, on dutiable goods",
             "active": {"from": "2025-01-01", "to": "2027-12-31"},
             "when": {"all": [{"band": "unit_value_band", "outside": "below"},
                              {"field": "tax_rate", "range": [0.05, None]}]}},
            {"id": "P-004", "lane": "blue", "mandatory": True,
             "description": "high-value consignment from an origin outside the usual list",
             "active": {"from": "2025-01-01", "to": "2026-06-30"},
             "when": {"all": [{"feature": "log_value", "range": [11.5, None]},
                              {"not": {"field": "origin",
                                       "in": ["CN", "US", "TH", "PK", "BD", "MY"]}}]}},
            {"id": "EV-SEAL", "lane": "red", "mandatory": True,
             "description": "e-seal tampered en route",
             "active": {"from": "2025-01-01", "to": "2027-12-31"},
             "when": {"feature": "seal_breach", "range": [1, None]}},
            {"id": "EV-XRAY", "lane": "red", "mandatory": True,
             "description": "X-ray anomaly >= 0.8",
             "active": {"from": "2025-01-01", "to": "2027-12-31"},
             "when": {"feature": "xray_max", "range": [0.8, None]}},
        ]}


def policy() -> dict:
    """Returns the example lane policy."""
    return {"format": "crisk-policy", "version": 1,
            "lanes": ["red", "yellow", "blue", "green"], "default_lane": "green",
            "unscored_lane": "red",
            "score_model": "fraud",
            "thresholds": [{"lane": "red", "min_score": 0.9},
                           {"lane": "yellow", "min_score": 0.7}],
            "budget": [{"lane": "red", "share": 0.02}, {"lane": "yellow", "share": 0.05}],
            "stream": {"window": 5000},
            "random": {"lane": "yellow", "rate": 0.01, "seed": 20261127}}


def write_json(path: Path, obj: dict) -> None:
    """Writes `obj` to `path` as indented JSON with a final newline."""
    path.write_text(json.dumps(obj, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Runs the recipe (module docstring); returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crisk", type=Path,
                    default=Path(os.environ.get("CRISK_CLI", ROOT / "build" / "crisk")),
                    help="the built crisk command (default: $CRISK_CLI, else build/crisk)")
    ap.add_argument("--output", type=Path, default=HERE / "example", help="bundle directory")
    ap.add_argument("--rows", type=int, default=50000, help="training declarations")
    ap.add_argument("--holdout-rows", type=int, default=10000, help="evaluation declarations")
    ap.add_argument("--score-rows", type=int, default=500, help="declarations.csv rows")
    ap.add_argument("--trees", type=int, default=150, help="fraud model rounds")
    args = ap.parse_args(argv)

    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crisk-train-") as tmp:
        work = Path(tmp)
        train_csv, holdout_csv, matrix_csv = (work / "train.csv", work / "holdout.csv",
                                              work / "train_matrix.csv")
        for name, rows, seed in (("train", args.rows, TRAIN_SEED),
                                 ("holdout", args.holdout_rows, HOLDOUT_SEED)):
            generate(rows, seed, work, work / f"{name}.csv", *event_files(work, name))
        generate(args.score_rows, SCORE_SEED, work, out / "declarations.csv",
                 out / "events.jsonl", out / "device_keys.json", forged=3, labels=False)

        crisk(args.crisk, "fit", "--schema", SCHEMA, "--input", train_csv, "--label", "fraud",
              "--output", out / "schema.json", "--matrix", matrix_csv,
              "--folds", FOLDS, "--seed", FOLD_SEED, *event_options(work, "train"))

        train = pd.read_csv(train_csv, dtype={"importer_id": str, "declaration_id": str})
        matrix = pd.read_csv(matrix_csv, dtype={"declaration_id": str})
        if not matrix["declaration_id"].equals(train["declaration_id"]):
            raise SystemExit("crisk fit: the training matrix rows are not the input rows")
        y = train["fraud"].to_numpy(np.float32)
        revenue = train["revenue"].to_numpy(np.float32)

        fraud = train_xgb(matrix[FRAUD_FEATURES], y,
                          {"objective": "binary:logistic", "max_depth": 5,
                           "subsample": 0.8, "colsample_bytree": 0.8}, args.trees)
        fraud.save_model(out / "fraud_xgb.json")
        rev = train_xgb(matrix[REVENUE_FEATURES], revenue,
                        {"objective": "reg:tweedie", "tweedie_variance_power": 1.5,
                         "max_depth": 4}, 100)
        rev.save_model(out / "revenue_xgb.json")
        logistic = make_pipeline(StandardScaler(),
                                 LogisticRegression(C=1.0, max_iter=1000))
        logistic.fit(matrix[LOGISTIC_FEATURES].to_numpy(np.float64), y)
        load_export().save_logistic(logistic, out / "fraud_logistic.json",
                                    feature_names=LOGISTIC_FEATURES)

        manifest = {
            "format": "crisk-bundle", "version": 1, "schema": "schema.json",
            "models": [
                {"name": "fraud", "file": "fraud_xgb.json", "features": FRAUD_FEATURES},
                {"name": "revenue", "file": "revenue_xgb.json", "features": REVENUE_FEATURES},
                {"name": "fraud_logistic", "file": "fraud_logistic.json",
                 "features": LOGISTIC_FEATURES}],
            "profiles": "profiles.json", "policy": "policy.json"}
        write_json(out / "manifest.json", manifest)
        write_json(out / "profiles.json", profiles(watchlist(train, 8)))
        write_json(out / "policy.json", policy())
        # Drift monitoring compares with the held-out sample: declarations the bundle never
        # trained on, featured and scored as it will score new ones.
        crisk(args.crisk, "monitor", "--bundle", out, "--input", holdout_csv,
              "--make-reference", out / "reference.json", *event_options(work, "holdout"))
        write_json(out / "manifest.json", {**manifest, "reference": "reference.json"})

        # The last run shows what the fraud model makes of paperwork alone (no --events).
        for model, events in (("fraud", True), ("fraud_logistic", True), ("revenue", True),
                              ("fraud", False)):
            print(f"held-out evaluation ({args.holdout_rows} declarations, model {model}, "
                  f"{'with' if events else 'without'} events):")
            print(crisk(args.crisk, "evaluate", "--bundle", out, "--input", holdout_csv,
                        "--label", "fraud", "--revenue", "revenue", "--model", model,
                        *(event_options(work, "holdout") if events else [])), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
