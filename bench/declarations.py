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
  not counted there; loading the schema's tables and the booster (`load`) neither;
- tight: the tighter analyst's version of the same (issue 19): text columns as
  categoricals, each risk table one lookup of integer keys over the categories' codes,
  date parts and HS prefixes computed on the unique values; model and lanes as pandas.

With --threads2 it also runs `crisk score` on two threads against one, alternating (wall
clock, with the CPU time and the cores the two-thread run kept busy).

Issue 3's end to end counts crisk's bundle load and output but neither of the pandas
pipelines'. The last table line ("CSV->lanes") counts both on both sides: crisk's process
time against each pipeline's load + the four stages + writing its lanes (three columns,
where crisk writes six).

It also checks that the pipelines score the same declarations alike (max |difference|).

    python3 bench/declarations.py [--crisk build/crisk] [--dataset DIR] [--rows N] [--runs N]
                                  [--trees N] [--keep DIR] [--skip-pandas] [--clock wall|cpu]
                                  [--threads2]

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


def time_crisk(cli: Path, bundle: Path, data: Path, out: Path, clock: str,
               threads: int = 1) -> dict[str, float]:
    """Runs `crisk score --threads N --timings` once; returns seconds per stage and 'total'
    on `clock` (wall, or the process's CPU time)."""
    t0, c0 = time.perf_counter(), children_cpu()
    proc = subprocess.run([str(cli), "score", "--bundle", str(bundle), "--input", str(data),
                           "--output", str(out), "--threads", str(threads), "--timings"],
                          capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"crisk score failed ({proc.returncode}): {proc.stderr}")
    m = re.search(rf"timings \({clock} s\): read ([\d.]+), features ([\d.]+), models ([\d.]+), "
                  r"profiles ([\d.]+), lanes ([\d.]+), output ([\d.]+)", proc.stderr)
    if not m:
        raise SystemExit(f"no timings line in: {proc.stderr}")
    read, feat, models, prof, lanes, output = map(float, m.groups())
    return {"parse": read, "features": feat, "model": models, "policy": prof + lanes,
            "output": output, "total": wall if clock == "wall" else cpu, "wall": wall,
            "cpu": cpu}


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

    @staticmethod
    def feature(df: pd.DataFrame, d: dict) -> np.ndarray:
        """A numeric feature (number, log1p, ratio), the same in both pipelines."""
        if d["op"] == "number":
            return df[d["field"]].to_numpy(np.float64)
        if d["op"] == "log1p":
            x = df[d["field"]].to_numpy(np.float64)
            return np.where(x > -1, np.log1p(np.where(x > -1, x, 0)), np.nan)
        a, b = df[d["num"]].to_numpy(np.float64), df[d["den"]].to_numpy(np.float64)
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)

    def features(self, df: pd.DataFrame) -> np.ndarray:
        """The model's feature matrix (float32, model column order)."""
        out = {}
        dates = None
        keys: dict[str, pd.Series] = {}
        for name in self.order:
            d = self.defs[name]
            op = d["op"]
            if op in ("number", "log1p", "ratio"):
                v = self.feature(df, d)
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


class TightPipeline(PandasPipeline):
    """The tighter analyst's version: text columns read as categoricals, so each risk table
    is one `map` over the unique keys (taken back by codes), date parts and HS prefixes
    are computed on the unique values, and the model and lanes are as above."""

    def __init__(self, schema_path: Path, model_path: Path, features: list[str]):
        """As the column-by-column pipeline, with the tables also keyed by integers."""
        super().__init__(schema_path, model_path, features)
        self.code_tables()

    def read(self, path: Path) -> pd.DataFrame:
        """pd.read_csv with the schema's string, HS code and date fields as text, then as
        categoricals (read as "category" directly, HS codes lose their leading zeros)."""
        kinds = ("string", "hs_code", "date")
        names = [n for n, t in self.fields.items() if t in kinds]
        df = pd.read_csv(path, dtype={n: str for n in names})
        return df.astype({n: "category" for n in names})

    @staticmethod
    def take(values, codes: np.ndarray) -> np.ndarray:
        """Per row, the value of its category (float64); NaN where the row has none."""
        out = np.append(np.asarray(values, np.float64), np.nan)
        return out[codes]   # code -1 (missing) picks the appended NaN

    def part_ids(self, df: pd.DataFrame, part, vocab: pd.Index) -> np.ndarray:
        """A key part's id per row in the table's vocabulary of that part (-1: not in it,
        or missing): one map over the column's categories, taken back by codes."""
        col = df[part["field"] if isinstance(part, dict) else part]
        cats = col.cat.categories.astype(str)
        if isinstance(part, dict):
            cats = cats.str[:part["digits"]]
        ids = np.append(vocab.get_indexer(cats), -1)
        return ids[col.cat.codes.to_numpy(np.int64)]

    def lookup(self, df: pd.DataFrame, parts, op: str) -> np.ndarray:
        """A risk table's value per row: rows' part ids combined into one integer key and
        looked up among the table's keys (a hash index); a key not in it takes the fill."""
        vocabs, keys, rates, counts = self.coded[json.dumps(parts)]
        combined, missing = np.zeros(len(df), np.int64), np.zeros(len(df), bool)
        for part, vocab in zip(parts, vocabs):
            ids = self.part_ids(df, part, vocab)
            combined = combined * len(vocab) + ids
            missing |= ids < 0
        at = keys.get_indexer(np.where(missing, -1, combined))
        values, fill = (counts, 0.0) if op == "risk_count" else (rates, self.prior)
        return np.where(at >= 0, np.append(values, fill)[at], fill)

    def code_tables(self) -> None:
        """Each table keyed by integers: per part, its vocabulary; per entry, its parts'
        ids combined in mixed radix (built once, like the dictionaries above)."""
        self.coded = {}
        for spec, (rates, counts) in self.tables.items():
            texts = list(rates)
            split = [t.split("|") for t in texts]
            parts = len(json.loads(spec))
            vocabs = [pd.Index(sorted({k[i] for k in split})) for i in range(parts)]
            combined = np.zeros(len(texts), np.int64)
            for i, vocab in enumerate(vocabs):
                combined = combined * len(vocab) + vocab.get_indexer([k[i] for k in split])
            self.coded[spec] = (vocabs, pd.Index(combined),
                                np.array([rates[t] for t in texts]),
                                np.array([counts[t] for t in texts]))

    def features(self, df: pd.DataFrame) -> np.ndarray:
        """The model's feature matrix (float32, model column order)."""
        out = {}
        for name in self.order:
            d = self.defs[name]
            op = d["op"]
            if op == "date_part":
                col = df[d["field"]]
                dates = pd.to_datetime(col.cat.categories.astype(str), format="%Y-%m-%d")
                part = dates.month if d["part"] == "month" else dates.day_of_week
                out[name] = self.take(part, col.cat.codes.to_numpy(np.int64))
            elif op == "hs_prefix":
                col = df[d["field"]]
                prefix = pd.to_numeric(col.cat.categories.astype(str).str[:d["digits"]])
                out[name] = self.take(prefix, col.cat.codes.to_numpy(np.int64))
            elif op in ("risk_rate", "risk_count"):
                out[name] = self.lookup(df, d["keys"], op)
            elif op == "category":
                col = df[d["field"]]
                out[name] = self.take(col.cat.categories.astype(str).map(self.categories[name]),
                                      col.cat.codes.to_numpy(np.int64))
            else:
                out[name] = super().feature(df, d)
        return np.column_stack([out[n] for n in self.order]).astype(np.float32)


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
    ap.add_argument("--threads2", action="store_true",
                    help="also crisk end to end on two threads against one (wall clock)")
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
        c = median_runs(lambda: time_crisk(args.crisk, bundle, data, crisk_out, args.clock),
                        args.runs)
        peers: dict[str, dict[str, float]] = {}
        diffs: dict[str, float] = {}
        if not args.skip_pandas:
            features = json.loads((bundle / "manifest.json").read_text())["models"][0]["features"]
            ours = pd.read_csv(crisk_out, usecols=["xgboost"])["xgboost"].to_numpy()
            for label, kind in (("pandas", PandasPipeline), ("tight", TightPipeline)):
                scores = []

                def once():
                    now = time.perf_counter if args.clock == "wall" else time.process_time
                    t0 = now()
                    fresh = kind(bundle / "schema.json", bundle / "fraud_xgb.json", features)
                    load = now() - t0
                    secs, s = fresh.run(data, pandas_out, args.clock)
                    scores.append(s)
                    secs["load"] = load
                    secs["whole"] = load + secs["total"] + secs["output"]
                    return secs
                peers[label] = median_runs(once, args.runs)
                diffs[label] = float(np.max(np.abs(ours - scores[0])))

        print(f"{n} declarations, 1 thread, median of {args.runs} runs, {args.clock} clock "
              f"({args.trees} trees, depth 6); pandas: column by column, tight: one map per "
              f"table over categorical codes")
        head = "".join(f"{k + ' rows/s':>15}{'ratio':>7}" for k in peers)
        print(f"{'stage':<12}{'crisk rows/s':>14}{head}")
        labels = {"total": "end to end", "whole": "CSV->lanes"}
        for s in (*STAGES, "total", "whole"):
            if s == "whole" and not peers:
                break
            # crisk's process time holds its load and output: its end to end both ways.
            cs = c["total"] if s == "whole" else c[s]
            cr = n / cs if cs > 0 else float("inf")
            line = f"{labels.get(s, s):<12}{cr:>14,.0f}"
            for k, p in peers.items():
                pr = n / p[s] if p[s] > 0 else float("inf")
                line += f"{pr:>15,.0f}{cr / pr:>7.2f}"
            notes = {"output": " (output: not in pandas' end to end)",
                     "total": " (issue 3: pandas without its load and output)",
                     "whole": " (CSV in -> lanes out, load and output on both sides)"}
            print(line + (notes.get(s, "") if peers else ""))
        print(f"crisk seconds: " + ", ".join(f"{k} {v:.3f}" for k, v in c.items()))
        for k, p in peers.items():
            print(f"{k} seconds: " + ", ".join(f"{s} {v:.3f}" for s, v in p.items()))
            print(f"max |crisk score - {k} score| = {diffs[k]:.3g}")
        if args.threads2:
            # Wall clock: the CPU time of two threads is the sum of both, not what a user
            # waits. Runs alternate, so that the machine's load weighs on both alike; the
            # CPU time over the wall time of the two-thread run is how many cores it kept
            # busy on average (2.0: fully parallel), which a loaded machine cannot inflate.
            runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
            for _ in range(args.runs):
                for threads in (1, 2):
                    runs[threads].append(time_crisk(args.crisk, bundle, data, crisk_out,
                                                    "wall", threads=threads))
            med = {t: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu")}
                   for t, rs in runs.items()}
            busy = statistics.median(r["cpu"] / r["wall"] for r in runs[2])
            print(f"crisk end to end, median of {args.runs} alternating runs: 1 thread "
                  f"{n / med[1]['wall']:,.0f}/s, 2 threads {n / med[2]['wall']:,.0f}/s (wall), "
                  f"2 / 1 = {med[1]['wall'] / med[2]['wall']:.2f}; CPU s 1 thread "
                  f"{med[1]['cpu']:.3f}, 2 threads {med[2]['cpu']:.3f}; cores busy in the "
                  f"2-thread run (CPU / wall) {busy:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
