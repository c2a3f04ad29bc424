#!/usr/bin/env python3
"""Declarations end to end: `crisk score` against the pandas + XGBoost pipeline an analyst writes.

Builds a KCS bundle with the KCS recipe's pieces (models/kcs: `crisk fit` of the schema on
the train + valid files, then one XGBoost fraud model: binary:logistic, 200 trees, depth 6),
writes the KCS columns (the three files' rows) repeated to --rows rows in a temporary
directory, and measures on one thread, as medians of --runs runs:

- crisk: `crisk score --threads 1 --timings` from the CSV file to a CSV file of lanes;
  the stages are those `--timings` prints (parse, features, model, profiles + lanes,
  output) and end to end is the process's wall time (bundle load included);
- pandas: `pd.read_csv`; the schema's features with pandas (risk-indicator and category
  tables from the fitted schema JSON, applied with `Series.map`); XGBoost `inplace_predict`
  (nthread = 1); lanes by `np.quantile` thresholds (top 5% red, next 5% yellow); end to
  end is the sum of those four, as in issue 3. Writing its lanes (`to_csv`) is shown but
  not counted.

It also checks that the two score the same declarations alike (max |difference|).

    python3 bench/declarations.py [--crisk build/crisk] [--dataset DIR] [--rows N] [--runs N]
                                  [--trees N] [--keep DIR] [--skip-pandas] [--clock wall|cpu]

Both use the same fitted tables; the bench assumes no risk_rate feature sets its own
smoothing (the KCS schema has none), so the fit's smoothing applies to every rate.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models" / "kcs"))
import train_kcs  # noqa: E402  (the KCS recipe's pieces)

# The shared dataset beside the checkout, wherever the checkout is.
DATASET = ROOT.parent / "shared" / "data" / "kcs-synthetic-declarations"
STAGES = ("parse", "features", "model", "policy", "output")


def build_bundle(cli: Path, dataset: Path, work: Path, trees: int) -> Path:
    """Fits the KCS schema and trains the XGBoost fraud model into work/bundle; returns it."""
    bundle = work / "bundle"
    bundle.mkdir(parents=True, exist_ok=True)
    fit_csv, matrix_csv = work / "fit.csv", work / "matrix.csv"
    train_kcs.concatenate([dataset / train_kcs.FILES[0], dataset / train_kcs.FILES[1]], fit_csv)
    train_kcs.crisk(cli, "fit", "--schema", train_kcs.HERE / "schema.json", "--input", fit_csv,
                    "--label", train_kcs.LABEL, "--output", bundle / "schema.json",
                    "--matrix", matrix_csv, "--folds", 5, "--seed", 1)
    matrix = pd.read_csv(matrix_csv, dtype={train_kcs.ID: str})
    features = [c for c in matrix.columns if c not in (train_kcs.ID, train_kcs.LABEL)]
    dtrain = xgb.DMatrix(matrix[features].to_numpy(np.float32),
                         label=matrix[train_kcs.LABEL].to_numpy(np.float32),
                         feature_names=features, missing=np.nan)
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6,
              "eta": 0.05, "subsample": 0.8, "colsample_bytree": 0.8, "nthread": 2,
              "seed": 0}
    xgb.train(params, dtrain, num_boost_round=trees).save_model(bundle / "fraud_xgb.json")
    train_kcs.write_bundle(bundle, features)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["models"] = [m for m in manifest["models"] if m["name"] == "xgboost"]
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return bundle


def write_input(dataset: Path, rows: int, out: Path) -> None:
    """Writes the KCS files' rows (all columns, text unchanged), repeated, to `rows` rows."""
    lines: list[str] = []
    header = None
    for name in train_kcs.FILES:
        with open(dataset / name, encoding="utf-8", newline="") as f:
            header = f.readline()
            lines.extend(f)
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(header)
        for k in range(rows):
            f.write(lines[k % len(lines)])


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def time_crisk(cli: Path, bundle: Path, data: Path, out: Path, clock: str) -> dict[str, float]:
    """Runs `crisk score --threads 1 --timings` once; returns seconds per stage and 'total'
    on `clock` (wall, or the process's CPU time)."""
    t0, c0 = time.perf_counter(), children_cpu()
    proc = subprocess.run([str(cli), "score", "--bundle", str(bundle), "--input", str(data),
                           "--output", str(out), "--threads", "1", "--timings"],
                          capture_output=True, text=True)
    total = time.perf_counter() - t0 if clock == "wall" else children_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"crisk score failed ({proc.returncode}): {proc.stderr}")
    m = re.search(rf"timings \({clock} s\): read ([\d.]+), features ([\d.]+), models ([\d.]+), "
                  r"profiles ([\d.]+), lanes ([\d.]+), output ([\d.]+)", proc.stderr)
    if not m:
        raise SystemExit(f"no timings line in: {proc.stderr}")
    read, feat, models, prof, lanes, output = map(float, m.groups())
    return {"parse": read, "features": feat, "model": models, "policy": prof + lanes,
            "output": output, "total": total}


class PandasPipeline:
    """The analyst's pipeline over the fitted schema: tables loaded once, then timed stages."""

    def __init__(self, schema_path: Path, model_path: Path, features: list[str]):
        """Loads the fitted schema's dictionaries and tables, and the booster (one thread)."""
        schema = json.loads(schema_path.read_text())
        self.fields = {f["name"]: f["type"] for f in schema["fields"]}
        self.defs = {f["name"]: f for f in schema["features"]}
        self.order = features
        fitted = schema["fitted"]
        prior = fitted["positives"] / fitted["rows"]
        self.prior = prior
        self.categories = {c["feature"]: {v: float(i) for i, v in enumerate(c["values"])}
                           for c in fitted["categories"]}
        # Per key spec: {key: rate} and {key: count}, keys joined by '|'.
        m = fitted["smoothing"]
        self.tables = {}
        for t in fitted["tables"]:
            n = len(t["keys"])
            self.tables[json.dumps(t["keys"])] = (
                {"|".join(e[:n]): (e[n + 1] + m * prior) / (e[n] + m) for e in t["entries"]},
                {"|".join(e[:n]): float(e[n]) for e in t["entries"]})
        self.booster = xgb.Booster(model_file=str(model_path))
        self.booster.set_param({"nthread": 1})
        self.strings = [n for n, t in self.fields.items() if t in ("string", "hs_code")]

    def read(self, path: Path) -> pd.DataFrame:
        """pd.read_csv with the schema's string and HS code fields as text."""
        return pd.read_csv(path, dtype={n: str for n in self.strings})

    def key(self, df: pd.DataFrame, parts) -> pd.Series:
        """The table key of every row: its key parts joined by '|' (HS prefixes cut)."""
        cols = []
        for p in parts:
            if isinstance(p, dict):
                cols.append(df[p["field"]].str[:p["digits"]])
            else:
                cols.append(df[p])
        key = cols[0]
        for c in cols[1:]:
            key = key + "|" + c
        return key

    def features(self, df: pd.DataFrame) -> np.ndarray:
        """The model's feature matrix (float32, model column order)."""
        out = {}
        dates = None
        keys: dict[str, pd.Series] = {}
        for name in self.order:
            d = self.defs[name]
            op = d["op"]
            if op == "number":
                v = df[d["field"]].to_numpy(np.float64)
            elif op == "log1p":
                x = df[d["field"]].to_numpy(np.float64)
                v = np.where(x > -1, np.log1p(np.where(x > -1, x, 0)), np.nan)
            elif op == "ratio":
                a, b = df[d["num"]].to_numpy(np.float64), df[d["den"]].to_numpy(np.float64)
                v = np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
            elif op == "date_part":
                if dates is None:
                    dates = pd.to_datetime(df[d["field"]], format="%Y-%m-%d")
                v = {"month": dates.dt.month, "weekday": dates.dt.day_of_week}[d["part"]]
                v = v.to_numpy(np.float64)
            elif op == "hs_prefix":
                v = pd.to_numeric(df[d["field"]].str[:d["digits"]]).to_numpy(np.float64)
            elif op == "category":
                v = df[d["field"]].map(self.categories[name]).to_numpy(np.float64)
            else:  # risk_rate / risk_count
                spec = json.dumps(d["keys"])
                if spec not in keys:
                    keys[spec] = self.key(df, d["keys"])
                rates, counts = self.tables[spec]
                if op == "risk_count":
                    v = keys[spec].map(counts).fillna(0.0).to_numpy(np.float64)
                else:
                    v = keys[spec].map(rates).fillna(self.prior).to_numpy(np.float64)
            out[name] = v
        return np.column_stack([out[n] for n in self.order]).astype(np.float32)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """XGBoost inplace_predict on one thread."""
        return self.booster.inplace_predict(X, missing=np.nan)

    @staticmethod
    def policy(p: np.ndarray) -> np.ndarray:
        """Lanes by quantile thresholds: the top 5% red, the next 5% yellow, else green."""
        red, yellow = np.quantile(p, 0.95), np.quantile(p, 0.90)
        return np.where(p >= red, "red", np.where(p >= yellow, "yellow", "green"))

    def run(self, path: Path, out: Path, clock: str) -> tuple[dict[str, float], np.ndarray]:
        """Runs the pipeline once; returns seconds per stage and 'total' on `clock` (wall,
        or this process's CPU time), and the scores."""
        now = time.perf_counter if clock == "wall" else time.process_time
        t = [now()]
        df = self.read(path)
        t.append(now())
        X = self.features(df)
        t.append(now())
        p = self.predict(X)
        t.append(now())
        lanes = self.policy(p)
        t.append(now())
        pd.DataFrame({train_kcs.ID: df[train_kcs.ID], "xgboost": p, "lane": lanes}).to_csv(
            out, index=False)
        t.append(now())
        secs = {s: t[i + 1] - t[i] for i, s in enumerate(STAGES)}
        secs["total"] = t[4] - t[0]   # issue 3's end to end: read .. policy
        return secs, p


def median_runs(fn, runs: int) -> dict[str, float]:
    """Runs `fn` `runs` times; returns the median seconds of each key."""
    results = [fn() for _ in range(runs)]
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main(argv: list[str] | None = None) -> int:
    """Builds the bundle and input, measures both pipelines and prints the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crisk", type=Path,
                    default=Path(os.environ.get("CRISK_CLI", ROOT / "build" / "crisk")))
    ap.add_argument("--dataset", type=Path, default=DATASET)
    ap.add_argument("--rows", type=int, default=540_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--keep", type=Path, default=None,
                    help="keep the bundle and input here (reused when present)")
    ap.add_argument("--skip-pandas", action="store_true", help="measure crisk only")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time, or CPU time (which a loaded machine does not inflate)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="crisk-declbench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        bundle, data = work / "bundle", work / f"kcs_{args.rows}.csv"
        if not (bundle / "manifest.json").is_file():
            build_bundle(args.crisk, args.dataset, work, args.trees)
        if not data.is_file():
            write_input(args.dataset, args.rows, data)
        crisk_out, pandas_out = Path(tmp) / "crisk_lanes.csv", Path(tmp) / "pandas_lanes.csv"
        n = args.rows
        c = median_runs(lambda: time_crisk(args.crisk, bundle, data, crisk_out, args.clock), args.runs)
        p = None
        if not args.skip_pandas:
            features = json.loads((bundle / "manifest.json").read_text())["models"][0]["features"]
            pipe = PandasPipeline(bundle / "schema.json", bundle / "fraud_xgb.json", features)
            scores = []

            def once():
                secs, s = pipe.run(data, pandas_out, args.clock)
                scores.append(s)
                return secs
            p = median_runs(once, args.runs)
            ours = pd.read_csv(crisk_out, usecols=["xgboost"])["xgboost"].to_numpy()
            diff = float(np.max(np.abs(ours - scores[0])))

        print(f"{n} declarations, 1 thread, median of {args.runs} runs, {args.clock} clock "
              f"({args.trees} trees, depth 6)")
        print(f"{'stage':<12}{'crisk rows/s':>14}{'pandas rows/s':>15}{'ratio':>8}")
        for s in (*STAGES, "total"):
            label = "end to end" if s == "total" else s
            cr = n / c[s] if c[s] > 0 else float("inf")
            line = f"{label:<12}{cr:>14,.0f}"
            if p:
                pr = n / p[s] if p[s] > 0 else float("inf")
                note = " (not in e2e)" if s == "output" else ""
                line += f"{pr:>15,.0f}{cr / pr:>8.2f}{note}"
            print(line)
        print(f"crisk seconds: " + ", ".join(f"{k} {v:.3f}" for k, v in c.items()))
        if p:
            print(f"pandas seconds: " + ", ".join(f"{k} {v:.3f}" for k, v in p.items()))
            print(f"max |crisk score - pandas score| = {diff:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
