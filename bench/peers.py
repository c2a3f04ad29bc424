#!/usr/bin/env python3
"""bench/peers.py: crisk against every CPU tree engine a user could pick instead.

Runs the same models on the same rows through crisk's Python binding (crisk.Model) and
each peer that imports here, on one thread and on all threads, and prints one table of
rows/s (median of --runs runs) with crisk's ratio to each peer, and each peer's largest
difference from the training library's own outputs (XGBoost 3.x for the XGBoost models,
LightGBM for the LightGBM one).

Peers (see bench/requirements.txt; a peer that does not import is listed as missing):
  xgboost      Booster.inplace_predict, nthread set on the booster
  lightgbm     Booster.predict(num_threads=)
  treelite     Treelite 4.x frontend + TL2cgen: the trees compiled to C by gcc
  onnxruntime  TreeEnsemble from onnxmltools' conversion
  onedal       daal4py.mb.convert_model (scikit-learn-intelex's daal4py)
  lleaves      LightGBM models compiled by LLVM (its own environment,
               requirements-lleaves.txt, run through --lleaves-python)

Models: the XGBoost JSON files that `build/crisk-bench --cache DIR` writes (anchor-d6,
depth-8, depth-12, softprob-4), and a LightGBM model (lightgbm-d6) trained here on the
same kind of synthetic rows and cached in DIR. Compiled peers (TL2cgen, lleaves) are cached
in DIR too; compiling is not what is measured.

    PYTHONPATH=build/bindings/python python3 bench/peers.py --cache /tmp/crisk-bench
        [--rows N] [--runs N] [--shape NAME]... [--peer NAME]... [--json]
        [--lleaves-python /tmp/lleaves/bin/python]

Figures from a shared, loaded machine are indicative only: one-thread figures use the
process CPU clock (what the library spends, whatever the load), all-thread figures the
wall clock.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np

FEATURES = 24
XGB_SHAPES = ["anchor-d6", "depth-8", "depth-12", "softprob-4"]
LGB_SHAPE = "lightgbm-d6"


def synth(n, seed, classes=0):
    """Returns rows (n x 24 float32, 5% NaN) and labels like crisk-bench's synthetic data:
    the label depends on the first 8 features."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(-2.0, 2.0, size=(n, FEATURES))
    s = np.zeros(n)
    for f in range(8):
        s += (v[:, f] ** 2 - 1.3 if f % 2 else np.sin(2.0 * v[:, f])) / (f + 1)
    s += 0.5 * (rng.uniform(size=n) - 0.5)
    k = classes or 2
    y = np.clip(np.floor((np.tanh(s) + 1.0) / 2.0 * k), 0, k - 1)
    # Exact zeros too, so that LightGBM's missing types (fix-ups) matter.
    v[rng.uniform(size=v.shape) < 0.03] = 0.0
    v[rng.uniform(size=v.shape) < 0.05] = np.nan
    return v.astype(np.float32), y


def lightgbm_model(cache):
    """Returns the path of the cached LightGBM model (binary, 500 trees, depth 6),
    training it first if it is not there."""
    path = os.path.join(cache, LGB_SHAPE + ".txt")
    if not os.path.exists(path):
        import lightgbm as lgb
        X, y = synth(20000, 7)
        # Trained without NaN, so every feature has LightGBM's missing type None (NaN is
        # scored as 0: crisk's fix-ups) and no split gets the +inf threshold that LightGBM
        # 4.x writes for some NaN splits, which crisk's importer refuses.
        X = np.nan_to_num(X, nan=0.0)
        params = {"objective": "binary", "max_depth": 6, "num_leaves": 63,
                  "learning_rate": 0.1, "verbose": -1, "num_threads": 2}
        lgb.train(params, lgb.Dataset(X, y), num_boost_round=500).save_model(path)
    return path


def timed(fn, runs, clock):
    """Returns the median seconds of `runs` calls of fn() on `clock`, after one warm-up."""
    fn()
    times = []
    for _ in range(runs):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


# Each peer: load(path, kind, X, cache) returns (predict(X, threads) -> outputs, note);
# outputs are probabilities (n) for binary models, (n, classes) for softprob.

def peer_crisk(path, kind, X, cache):
    import crisk
    model = crisk.Model(path)
    return (lambda X, t: model.predict(X, threads=t)), ""


def peer_xgboost(path, kind, X, cache):
    import xgboost as xgb
    if kind == "lightgbm":
        return None, "XGBoost model only"
    booster = xgb.Booster(model_file=path)

    def predict(X, threads):
        booster.set_param({"nthread": threads})
        return booster.inplace_predict(X)
    return predict, ""


def peer_lightgbm(path, kind, X, cache):
    import lightgbm as lgb
    if kind != "lightgbm":
        return None, "LightGBM model only"
    booster = lgb.Booster(model_file=path)
    return (lambda X, t: booster.predict(X, num_threads=t)), ""


def peer_treelite(path, kind, X, cache):
    import tl2cgen
    import treelite
    model = (treelite.frontend.load_lightgbm_model(path) if kind == "lightgbm"
             else treelite.frontend.load_xgboost_model(path))
    lib = os.path.join(cache, os.path.basename(path).rsplit(".", 1)[0] + ".tl2cgen.so")
    if not os.path.exists(lib):
        tl2cgen.export_lib(model, toolchain="gcc", libpath=lib,
                           params={"parallel_comp": 32}, nthread=os.cpu_count())
    predictors = {}

    def predict(X, threads):
        if threads not in predictors:
            predictors[threads] = tl2cgen.Predictor(lib, nthread=threads)
        out = predictors[threads].predict(tl2cgen.DMatrix(X, dtype="float32"))
        return out.reshape(X.shape[0], -1).squeeze(-1) if out.size == X.shape[0] else \
            out.reshape(X.shape[0], -1)
    return predict, ""


def peer_onnxruntime(path, kind, X, cache):
    import onnxmltools
    import onnxruntime as ort
    from onnxmltools.convert.common.data_types import FloatTensorType
    types = [("input", FloatTensorType([None, X.shape[1]]))]
    if kind == "lightgbm":
        import lightgbm as lgb
        onx = onnxmltools.convert_lightgbm(lgb.Booster(model_file=path), initial_types=types,
                                           zipmap=False)
    else:
        import xgboost as xgb
        clf = xgb.XGBClassifier()
        clf.load_model(path)
        onx = onnxmltools.convert_xgboost(clf, initial_types=types)
    data = onx.SerializeToString()
    sessions = {}

    def predict(X, threads):
        if threads not in sessions:
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            so.log_severity_level = 3  # its shape warnings on every batch are noise
            sessions[threads] = ort.InferenceSession(data, so,
                                                     providers=["CPUExecutionProvider"])
        probs = sessions[threads].run(None, {"input": X})[1]
        return probs[:, 1] if probs.shape[1] == 2 and kind != "softprob" else probs
    return predict, ""


def peer_onedal(path, kind, X, cache):
    import daal4py
    if kind == "lightgbm":
        import lightgbm as lgb
        booster = lgb.Booster(model_file=path)
    else:
        import xgboost as xgb
        booster = xgb.Booster(model_file=path)
    model = daal4py.mb.convert_model(booster)

    def predict(X, threads):
        daal4py.daalinit(threads)
        probs = model.predict_proba(X)
        return probs[:, 1] if probs.shape[1] == 2 and kind != "softprob" else probs
    return predict, ""


def peer_lleaves(path, kind, X, cache):
    import lleaves
    if kind != "lightgbm":
        return None, "LightGBM model only"
    model = lleaves.Model(model_file=path)
    model.compile(cache=os.path.join(cache, LGB_SHAPE + ".lleaves.o"))
    return (lambda X, t: model.predict(X.astype(np.float64), n_jobs=t)), ""


PEERS = {"crisk": peer_crisk, "xgboost": peer_xgboost, "lightgbm": peer_lightgbm,
         "treelite": peer_treelite, "onnxruntime": peer_onnxruntime, "onedal": peer_onedal,
         "lleaves": peer_lleaves}


def lleaves_elsewhere(shape, args):
    """Returns lleaves' result row measured by `args.lleaves_python` (the interpreter of
    requirements-lleaves.txt's environment) running this script for crisk and lleaves, so
    that crisk's ratio to lleaves still comes from one process."""
    cmd = [args.lleaves_python, os.path.abspath(__file__), "--cache", args.cache, "--rows",
           str(args.rows), "--runs", str(args.runs), "--shape", shape, "--peer", "crisk",
           "--peer", "lleaves", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"shape": shape, "peer": "lleaves", "rows": args.rows,
                "note": f"--lleaves-python failed: {proc.stderr.strip()[-120:]}"}
    row = next(r for r in json.loads(proc.stdout)["results"] if r["peer"] == "lleaves")
    row["note"] = (row["note"] + "; " if row["note"] else "") + "in --lleaves-python"
    return row


def run_shape(shape, args):
    """Measures every peer on one model; returns one result dict per peer."""
    if shape == LGB_SHAPE:
        path, kind, classes = lightgbm_model(args.cache), "lightgbm", 0
    else:
        path = os.path.join(args.cache, shape + ".json")
        if not os.path.exists(path):
            sys.exit(f"peers.py: {path} is missing: run build/crisk-bench --cache "
                     f"{args.cache} --shape {shape} first")
        classes = 4 if shape == "softprob-4" else 0
        kind = "softprob" if classes else "binary"
    X, _ = synth(args.rows, 11, classes)
    threads = os.cpu_count() or 1
    results, ref = [], None
    reference = "lightgbm" if kind == "lightgbm" else "xgboost"
    order = [reference] + [p for p in args.peer if p != reference]
    for name in order:
        if name == "lleaves" and args.lleaves_python and kind == "lightgbm":
            results.append(lleaves_elsewhere(shape, args))
            continue
        r = {"shape": shape, "peer": name, "rows": args.rows}
        try:
            predict, note = PEERS[name](path, kind, X, args.cache)
        except Exception as e:  # a peer that cannot load this model is reported, not fatal
            predict, note = None, f"unavailable: {type(e).__name__}: {str(e)[:80]}"
        r["note"] = note
        if predict is not None:
            try:
                out = np.asarray(predict(X, 1), dtype=np.float64).reshape(args.rows, -1)
                if name == reference:
                    ref = out
                if ref is not None and out.shape == ref.shape:
                    r["max_abs_diff"] = float(np.nanmax(np.abs(out - ref)))
                elif ref is not None:
                    r["note"] = f"output shape {out.shape} differs from {ref.shape}"
                r["rows_s_1t"] = args.rows / timed(lambda: predict(X, 1), args.runs,
                                                   time.process_time)
                r["rows_s_all"] = args.rows / timed(lambda: predict(X, threads), args.runs,
                                                    time.perf_counter)
            except Exception as e:
                r["note"] = f"failed: {type(e).__name__}: {str(e)[:80]}"
        results.append(r)
    crisk_r = next((r for r in results if r["peer"] == "crisk" and "rows_s_1t" in r), None)
    for r in results:
        if crisk_r and "rows_s_1t" in r:
            r["crisk_ratio_1t"] = crisk_r["rows_s_1t"] / r["rows_s_1t"]
            r["crisk_ratio_all"] = crisk_r["rows_s_all"] / r["rows_s_all"]
        if r.get("max_abs_diff", 0.0) > 1e-5 and not r["note"]:
            r["note"] = f"outputs differ from {reference}'s"
    return results


def versions():
    """Returns the installed version of each peer's distribution (None when missing)."""
    from importlib import metadata
    out = {}
    for dist in ["xgboost-cpu", "xgboost", "lightgbm", "treelite", "tl2cgen", "onnxruntime",
                 "onnxmltools", "scikit-learn-intelex", "daal4py", "lleaves", "llvmlite"]:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def fmt(v, spec):
    """Formats a figure, or '-' in the same width when it is missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return format("-", ">" + spec.split(".")[0])
    return format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", required=True, help="crisk-bench's --cache DIR")
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shape", action="append", choices=XGB_SHAPES + [LGB_SHAPE])
    ap.add_argument("--peer", action="append", choices=list(PEERS))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--lleaves-python", metavar="PYTHON",
                    help="measure lleaves with this interpreter (its own environment: "
                         "bench/requirements-lleaves.txt)")
    args = ap.parse_args()
    args.shape = args.shape or XGB_SHAPES + [LGB_SHAPE]
    args.peer = args.peer or list(PEERS)
    if "crisk" in args.peer:
        try:
            import crisk  # noqa: F401
        except ImportError:
            sys.exit("peers.py: crisk does not import: set PYTHONPATH=build/bindings/python")
    results = [r for s in args.shape for r in run_shape(s, args)]
    if args.json:
        json.dump({"versions": versions(), "threads": os.cpu_count(), "runs": args.runs,
                   "results": results}, sys.stdout, indent=1)
        print()
        return
    print(f"{'shape':<12} {'engine':<12} {'rows/s 1t':>11} {'crisk x':>8} "
          f"{'rows/s {}t'.format(os.cpu_count()):>11} {'crisk x':>8} {'max|diff|':>9}  note")
    for r in results:
        print(f"{r['shape']:<12} {r['peer']:<12} {fmt(r.get('rows_s_1t'), '11.0f')} "
              f"{fmt(r.get('crisk_ratio_1t'), '8.2f')} {fmt(r.get('rows_s_all'), '11.0f')} "
              f"{fmt(r.get('crisk_ratio_all'), '8.2f')} {fmt(r.get('max_abs_diff'), '9.1e')}"
              f"  {r['note']}")
    print(f"(medians of {args.runs} runs of {args.rows} rows; one thread on the process CPU "
          f"clock, {os.cpu_count()} threads on the wall clock; 'crisk x' is crisk's rows/s "
          f"over the engine's; max|diff| against the training library's outputs; "
          f"versions {json.dumps(versions())}; a shared machine: indicative only)")


if __name__ == "__main__":
    main()
