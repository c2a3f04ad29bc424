#!/usr/bin/env python3
"""The inspection loop played on the KCS declarations, week by week (docs/loop.md).

The declarations of the three KCS files are put in date order and grouped by ISO week.
The first 40% of the dates are the labelled history. Then each week is scored and
routed by `crisk score` under an inspection budget of 5% of the week; only the inspected
declarations reveal their labels, and every four weeks the schema's risk tables
(`crisk fit --outcomes`, out of fold) and the XGBoost model are re-fitted on the history
plus what was revealed: every declaration seen so far goes to `crisk fit`, with the
outcomes of the history and of the inspections, and crisk fits the ones with an outcome.
Three strategies spend the same budget:

- exploit:  the riskiest 5% (budget);
- random:   the riskiest 4.5%, and uniform random selection of the rest at a rate that
            inspects another 0.5% on average;
- explore:  the riskiest 4.5%, and an `explore` share of 0.5% (a tenth of the
            inspections) with exact inclusion probabilities, weighted toward HS6 x origin
            pairs the fitted tables saw rarely (novelty weights on hs6_origin_count,
            floor 0.1).

Two scenarios: `static` (the data as it is) and `drift`: from the 8th played week on, a
new fraud scheme appears in HS6 x origin pairs that had no fraud in the history (pairs
picked by a keyed hash of the pair, until they hold 5% of the declarations after that
week; 70% of their declarations, picked by a keyed hash of the id, become frauds).

Evaluation: over 20 seeds, a policy fitted on the history that explores uniformly logs
the last 12 weeks; a candidate fitted on the history with other settings (before the
window: no leak) is evaluated from the logged inspections by `crisk evaluate
--decisions --outcomes --candidate --outcome-model fraud` (90% bootstrap intervals),
against the truth every label gives, with a tenth and with 30% of the inspections
explored; the line `ipw coverage: K of 20` counts the doubly robust intervals that hold
the truth at 30%.

    models/kcs/loop DATASET_DIR [--crisk build/crisk] [--smoke]

--smoke plays a small deterministic slice (for the test suite). Deterministic: fixed
seeds, one thread.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FILES = ("df_syn_train_eng.csv", "df_syn_valid_eng.csv", "df_syn_test_eng.csv")
ID, LABEL, CRITICAL = "Declaration ID", "Fraud", "Critical Fraud"
BUDGET, EXPLORE = 0.05, 0.005
REFIT_WEEKS, DRIFT_WEEK, DRIFT_SHARE, DRIFT_RATE = 4, 8, 0.05, 0.70
EVAL_WEEKS, REPLICATIONS = 12, 20


def crisk(cli: Path, *args) -> str:
    """Runs `crisk ARGS...` with this stderr (its messages, and its progress when stderr is
    a terminal) and returns its stdout; exits if it fails."""
    proc = subprocess.run([str(cli), *map(str, args)], stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"crisk {' '.join(map(str, args))} failed ({proc.returncode})")
    return proc.stdout


def keyed(text: str) -> int:
    """A deterministic 64-bit hash of `text` (the scenario's picks)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def load(dataset: Path) -> pd.DataFrame:
    """All declarations, in date order (then id), with their ISO week."""
    df = pd.concat([pd.read_csv(dataset / f, dtype=str, keep_default_na=False)
                    for f in FILES], ignore_index=True)
    df = df.sort_values(["Date", ID], kind="stable").reset_index(drop=True)
    iso = pd.to_datetime(df["Date"]).dt.isocalendar()
    df["week"] = iso["year"].astype(int) * 100 + iso["week"].astype(int)
    df["y"] = df[LABEL].astype(int)
    df["critical"] = (df[CRITICAL] == "2").astype(int)
    df["injected"] = 0
    return df


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The labelled history (the first 40% of the dates) and the played weeks."""
    dates = sorted(df["Date"].unique())
    cut = dates[int(0.4 * len(dates))]
    history = df[df["Date"] < cut]
    play = df[df["Date"] >= cut]
    return history, [w for _, w in play.groupby("week", sort=True)]


def inject(history: pd.DataFrame, weeks: list[pd.DataFrame]) -> None:
    """The drift scenario (module docstring), in place on `weeks`."""
    clean = history.groupby(["HS6 Code", "Country of Origin"])["y"].sum()
    clean = set(clean[clean == 0].index)
    later = pd.concat(weeks[DRIFT_WEEK:])
    pairs = later.groupby(["HS6 Code", "Country of Origin"]).size()
    pairs = [p for p in pairs.index if p in clean]
    pairs.sort(key=lambda p: keyed(f"scheme|{p[0]}|{p[1]}"))
    chosen, rows = set(), 0
    sizes = later.groupby(["HS6 Code", "Country of Origin"]).size()
    for p in pairs:
        if rows >= DRIFT_SHARE * len(later):
            break
        chosen.add(p)
        rows += int(sizes[p])
    for w in weeks[DRIFT_WEEK:]:
        hit = [(h, o) in chosen for h, o in zip(w["HS6 Code"], w["Country of Origin"])]
        fraud = [keyed(f"fraud|{i}") % 100 < 100 * DRIFT_RATE for i in w[ID]]
        new = np.array(hit) & np.array(fraud)
        w.loc[new, "injected"] = 1
        w.loc[new, "y"] = 1
        w.loc[new, LABEL] = "1"


def policy(strategy: str, seed: int) -> dict:
    """The lane policy of `strategy` (module docstring)."""
    doc = {"format": "crisk-policy", "version": 1, "lanes": ["red", "yellow", "green"],
           "default_lane": "green", "score_model": "fraud",
           "budget": [{"lane": "red", "share": BUDGET}]}
    if strategy == "random":
        doc["budget"][0]["share"] = BUDGET - EXPLORE
        doc["random"] = {"lane": "yellow", "rate": EXPLORE / (1 - BUDGET + EXPLORE),
                         "seed": seed}
    elif strategy == "explore":
        doc["budget"][0]["share"] = BUDGET - EXPLORE
        doc["explore"] = {"lane": "yellow", "share": EXPLORE, "seed": seed,
                          "weight": "novelty", "feature": "hs6_origin_count", "floor": 0.1}
    return doc


def outcomes(rows: pd.DataFrame) -> pd.DataFrame:
    """What inspecting `rows` found, in the outcome format (docs/loop.md)."""
    result = np.where(rows["y"] == 1, np.where(rows["critical"] == 1, "critical",
                                               "irregularity"), "none")
    return pd.DataFrame({"declaration_id": rows[ID], "result": result})


def fit_bundle(cli: Path, seen: pd.DataFrame, labelled: pd.DataFrame, bundle: Path,
               doc: dict, work: Path, depth: int = 4, trees: int = 80) -> None:
    """Fits the schema's tables and an XGBoost model into `bundle` on the declarations of
    `seen` whose outcome `labelled` holds (`crisk fit --outcomes`)."""
    bundle.mkdir(parents=True, exist_ok=True)
    fit_csv, matrix_csv, out_csv = work / "fit.csv", work / "matrix.csv", work / "out.csv"
    seen.drop(columns=["week", "y", "critical", "injected"]).to_csv(fit_csv, index=False)
    outcomes(labelled).to_csv(out_csv, index=False)
    crisk(cli, "fit", "--schema", HERE / "schema.json", "--input", fit_csv, "--outcomes",
          out_csv, "--output", bundle / "schema.json", "--matrix", matrix_csv, "--folds", 5,
          "--seed", 1)
    matrix = pd.read_csv(matrix_csv, dtype={ID: str})
    features = [c for c in matrix.columns if c not in (ID, "label")]
    dtrain = xgb.DMatrix(matrix[features].to_numpy(np.float32),
                         label=matrix["label"].to_numpy(np.float32), feature_names=features,
                         missing=np.nan)
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": depth,
              "eta": 0.1, "nthread": 1, "seed": 0}
    xgb.train(params, dtrain, num_boost_round=trees).save_model(str(bundle / "fraud.json"))
    manifest = {"format": "crisk-bundle", "version": 1, "schema": "schema.json",
                "models": [{"name": "fraud", "file": "fraud.json", "features": features}],
                "profiles": "profiles.json", "policy": "policy.json"}
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    (bundle / "profiles.json").write_text(json.dumps(
        {"format": "crisk-profiles", "version": 1, "watchlists": {}, "rules": []}))
    (bundle / "policy.json").write_text(json.dumps(doc))


def set_policy(bundle: Path, doc: dict) -> None:
    (bundle / "policy.json").write_text(json.dumps(doc))


def score_week(cli: Path, bundle: Path, week: pd.DataFrame, work: Path) -> pd.DataFrame:
    """Scores one week as one batch; returns crisk score's output (id order kept)."""
    src, out = work / "week.csv", work / "scored.csv"
    week.drop(columns=["week", "y", "critical", "injected"]).to_csv(src, index=False)
    crisk(cli, "score", "--bundle", bundle, "--input", src, "--output", out,
          "--batch-rows", max(len(week), 1))
    return pd.read_csv(out, dtype={ID: str}, keep_default_na=False)


def play(cli: Path, history: pd.DataFrame, weeks: list[pd.DataFrame], strategy: str,
         work: Path) -> dict:
    """Plays `weeks` under `strategy`; returns what its inspections found."""
    bundle = work / f"bundle-{strategy}"
    declared, revealed = [history], [history]
    found = {"inspected": 0, "frauds": 0, "critical": 0, "injected": 0, "first": None}
    for k, week in enumerate(weeks):
        if k % REFIT_WEEKS == 0:
            fit_bundle(cli, pd.concat(declared), pd.concat(revealed), bundle,
                       policy(strategy, 20261207), work)
        scored = score_week(cli, bundle, week, work)
        declared.append(week)
        inspected = ~scored["reason"].str.startswith("default lane").to_numpy()
        seen = week[inspected]
        revealed.append(seen)
        found["inspected"] += int(inspected.sum())
        found["frauds"] += int(seen["y"].sum())
        found["critical"] += int((seen["critical"] & seen["y"]).sum())
        n_inj = int(seen["injected"].sum())
        found["injected"] += n_inj
        if n_inj and found["first"] is None:
            found["first"] = k + 1
    return found


def logging_policy(share: float, seed: int) -> dict:
    """The logging policy of the evaluation: budget 5% - `share`, uniform exploration."""
    doc = policy("exploit", seed)
    doc["budget"][0]["share"] = BUDGET - share
    doc["explore"] = {"lane": "yellow", "share": share, "seed": seed, "weight": "uniform"}
    return doc


def coverage(cli: Path, history: pd.DataFrame, weeks: list[pd.DataFrame], work: Path,
             replications: int, share: float) -> dict:
    """Logs the last EVAL_WEEKS weeks under a policy fitted on the history that explores
    `share` of the declarations uniformly, once per seed, and counts per estimator how
    often the candidate's 90% interval holds the true precision of its top 5% of the
    window. The doubly robust estimator's outcome model is the logging model's score
    (fitted on the history, before the window)."""
    window = weeks[-EVAL_WEEKS:]
    logger, cand = work / "logger", work / "candidate"
    fit_bundle(cli, history, history, logger, logging_policy(share, 1), work)
    fit_bundle(cli, history, history, cand, policy("exploit", 1), work, depth=2, trees=40)
    cand_scores = pd.concat([score_week(cli, cand, w, work) for w in window])
    cand_scores.to_csv(work / "cand.csv", index=False)
    truth_rows = pd.concat(window)
    k = math.ceil(0.05 * len(truth_rows))
    order = np.lexsort((np.arange(len(truth_rows)), -cand_scores["fraud"].to_numpy()))
    truth = float(truth_rows["y"].to_numpy()[order[:k]].mean())
    held = {"snips": 0, "ipw": 0, "dr": 0, "truth": truth}
    for seed in range(1, replications + 1):
        set_policy(logger, logging_policy(share, seed))
        logged = pd.concat([score_week(cli, logger, w, work) for w in window])
        logged.to_csv(work / "dec.csv", index=False)
        inspected = ~logged["reason"].str.startswith("default lane").to_numpy()
        outcomes(truth_rows[inspected]).to_csv(work / "outcomes.csv", index=False)
        out = crisk(cli, "evaluate", "--decisions", work / "dec.csv", "--outcomes",
                    work / "outcomes.csv", "--candidate", work / "cand.csv",
                    "--bootstrap", 500, "--seed", seed, "--outcome-model", "fraud")
        cand = out.split("candidate:")[1]
        for name in ("snips", "ipw", "dr"):
            m = re.search(r"precision \(" + name + r"\)\s+(\S+)\s+\[(\S+), (\S+)\]", cand)
            value, low, high = map(float, m.groups())
            held[name] += bool(low <= truth <= high)
    return held


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, help="directory of the three KCS CSV files")
    ap.add_argument("--crisk", type=Path,
                    default=Path(os.environ.get("CRISK_CLI", ROOT / "build" / "crisk")))
    ap.add_argument("--smoke", action="store_true",
                    help="a small slice: every 10th declaration, 3 replications")
    args = ap.parse_args(argv)
    for f in FILES:
        if not (args.dataset / f).is_file():
            raise SystemExit(f"{args.dataset / f}: no such file (the KCS dataset?)")
    df = load(args.dataset)
    if args.smoke:
        df = df.iloc[::10].reset_index(drop=True)
    replications = 3 if args.smoke else REPLICATIONS
    with tempfile.TemporaryDirectory(prefix="crisk-loop-") as tmp:
        work = Path(tmp)
        results = {}
        for scenario in ("static", "drift"):
            history, weeks = split(df)
            weeks = [w.copy() for w in weeks]
            if scenario == "drift":
                inject(history, weeks)
            print(f"scenario {scenario}: history {len(history)} declarations, "
                  f"{len(weeks)} weeks played ({sum(len(w) for w in weeks)} declarations), "
                  f"frauds {sum(int(w['y'].sum()) for w in weeks)}"
                  + (f", injected {sum(int(w['injected'].sum()) for w in weeks)}"
                     if scenario == "drift" else ""))
            print(f"  {'strategy':9} {'inspected':>9} {'frauds':>7} {'critical':>8} "
                  f"{'precision':>9}" + ("  injected  first week" if scenario == "drift"
                                         else ""))
            for strategy in ("exploit", "random", "explore"):
                r = play(args.crisk, history, weeks, strategy, work)
                results[scenario, strategy] = r
                line = (f"  {strategy:9} {r['inspected']:>9} {r['frauds']:>7} "
                        f"{r['critical']:>8} {r['frauds'] / max(r['inspected'], 1):>9.4f}")
                if scenario == "drift":
                    line += f"  {r['injected']:>8}  {r['first'] or 'never':>10}"
                print(line, flush=True)
        inj = {s: results["drift", s]["injected"] for s in ("exploit", "random", "explore")}
        print(f"injected scheme frauds found: exploit {inj['exploit']}, random "
              f"{inj['random']}, explore {inj['explore']}")
        first = {s: results["drift", s]["first"] for s in ("exploit", "random", "explore")}
        print("injected scheme first found in week: " + ", ".join(
            f"{s} {first[s] or 'never'}" for s in first))
        history, weeks = split(df)
        for share in (EXPLORE, 3 * EXPLORE):
            held = coverage(args.crisk, history, weeks, work, replications, share)
            print(f"evaluation, explore {100 * share:g}% of declarations "
                  f"({round(100 * share / BUDGET)}% of inspections), candidate's true "
                  f"precision at 5% of the last {EVAL_WEEKS} weeks {held['truth']:.4f}; "
                  f"90% intervals holding it: snips {held['snips']}, ipw {held['ipw']}, "
                  f"doubly robust {held['dr']} of {replications}")
        print(f"ipw coverage: {held['dr']} of {replications} (doubly robust, "
              f"{round(100 * 3 * EXPLORE / BUDGET)}% of inspections explored)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
