#!/usr/bin/env python3
"""load_memory.py — what loading a large file costs crisk: peak resident memory (RSS) and
wall time of loading (1) XGBoost models, as JSON and UBJSON, and (2) streaming lane states
of several sizes (to show that time grows linearly). Each load runs in a fresh child
process, which resets the kernel's peak RSS (VmHWM) just before the load and reads it
after: peak minus the RSS before is what loading added at its peak. The inputs are generated into --work (kept, reused):

- models: models/example/fraud_xgb.json's 150 trees repeated until the JSON file reaches
  --model-mb (default 60), and the same model saved by XGBoost as UBJSON;
- lane states: a copy of models/example with the policy's window at the 10^7 maximum,
  and states of N uniform scores (N = --state-sizes), written as crisk writes them.

Usage: PYTHONPATH=build/bindings/python python3 bench/load_memory.py [--work DIR]
           [--model-mb 60] [--state-sizes 250000,500000,1000000,2000000,4000000] [--runs 3]
Prints one line per input: file MB, load seconds (median of --runs), peak RSS added (MB),
its ratio to the file size, and for models the loaded model's own memory_bytes."""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "models" / "example"

# The child: load one input, print {"seconds", "before_kb", "peak_kb", ...} as JSON. The
# kernel's peak RSS (VmHWM) is reset just before the load (clear_refs 5), so the peak is the
# load's own, not an earlier one of the bundle or the interpreter.
CHILD = r"""
import json, sys, time
import crisk
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
kind, path, bundle_dir = sys.argv[1:4]
bundle = crisk.Bundle(bundle_dir) if kind == "state" else None
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS")
t = time.perf_counter()
obj = bundle.stream(path) if kind == "state" else crisk.Model(path)
seconds = time.perf_counter() - t
peak = status("VmHWM")
extra = {} if kind == "state" else {"model_bytes": obj.info["memory_bytes"]}
print(json.dumps(dict(seconds=seconds, before_kb=before, peak_kb=peak, **extra)))
"""


def big_model(work: Path, target_mb: float) -> Path:
    """The example fraud model with its trees repeated up to `target_mb` MB of JSON."""
    out = work / f"xgb_{target_mb:g}mb.json"
    if out.exists():
        return out
    m = json.loads((EXAMPLE / "fraud_xgb.json").read_text())
    model = m["learner"]["gradient_booster"]["model"]
    base = model["trees"]
    per_tree = len(json.dumps(base, separators=(",", ":"))) / len(base)
    n = int(target_mb * 1e6 / per_tree) + 1
    trees = [dict(base[i % len(base)], id=i) for i in range(n)]
    model.update(trees=trees, tree_info=[0] * n, iteration_indptr=list(range(n + 1)))
    model["gbtree_model_param"]["num_trees"] = str(n)
    out.write_text(json.dumps(m, separators=(",", ":")))
    return out


def ubjson_of(path: Path) -> Path:
    """The model at `path` saved by XGBoost as UBJSON."""
    out = path.with_suffix(".ubj")
    if not out.exists():
        import xgboost as xgb
        xgb.Booster(model_file=str(path)).save_model(str(out))
    return out


def state_bundle(work: Path) -> Path:
    """models/example with the policy's streaming window at its maximum, 10^7."""
    out = work / "bundle_window_1e7"
    if not out.exists():
        shutil.copytree(EXAMPLE, out)
        policy = json.loads((out / "policy.json").read_text())
        policy["stream"] = {"window": 10_000_000}
        (out / "policy.json").write_text(json.dumps(policy))
    return out


def state_file(work: Path, bundle: Path, n: int) -> Path:
    """A lane state of `n` uniform scores for `bundle`'s policy, as crisk writes it."""
    out = work / f"state_{n}.json"
    if out.exists():
        return out
    import crisk
    empty = work / "state_empty.json"
    crisk.Bundle(str(bundle)).stream().save(str(empty))
    head = json.loads(empty.read_text())
    rng = random.Random(n)
    with open(out, "w") as f:
        f.write('{"format": "crisk-lane-state", "version": 1, "policy": "%s", "window": %d, '
                '"scores": [' % (head["policy"], head["window"]))
        f.write(", ".join("%.9g" % rng.random() for _ in range(n)))
        f.write("]}\n")
    return out


def measure(kind: str, path: Path, bundle: Path, runs: int) -> dict:
    """Loads `path` in `runs` fresh children; returns the median time and the peak RSS."""
    results = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), str(bundle)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1]}
        results.append(json.loads(proc.stdout))
    r = {"seconds": statistics.median(x["seconds"] for x in results),
         "peak_added_mb": max(x["peak_kb"] - x["before_kb"] for x in results) / 1024}
    if "model_bytes" in results[0]:
        r["model_mb"] = results[0]["model_bytes"] / 1e6
    return r


def report(name: str, path: Path, r: dict) -> None:
    mb = path.stat().st_size / 1e6
    if "error" in r:
        print(f"{name:<28} {mb:8.1f} MB  failed: {r['error']}")
        return
    model = f"  model {r['model_mb']:.1f} MB" if "model_mb" in r else ""
    print(f"{name:<28} {mb:8.1f} MB  {r['seconds']:8.3f} s  peak RSS +{r['peak_added_mb']:8.1f}"
          f" MB  ({r['peak_added_mb'] / mb:5.2f}x file){model}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/crisk-load-bench"))
    ap.add_argument("--model-mb", type=float, default=60)
    ap.add_argument("--state-sizes", default="250000,500000,1000000,2000000,4000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-models", action="store_true")
    ap.add_argument("--skip-states", action="store_true")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    bundle = state_bundle(a.work)
    if not a.skip_models:
        model = big_model(a.work, a.model_mb)
        for path in (model, ubjson_of(model)):
            report(f"model {path.suffix[1:]}", path, measure("model", path, bundle, a.runs))
    for n in (int(s) for s in a.state_sizes.split(",") if not a.skip_states):
        path = state_file(a.work, bundle, n)
        report(f"lane state {n:,} scores", path, measure("state", path, bundle, a.runs))


if __name__ == "__main__":
    main()
