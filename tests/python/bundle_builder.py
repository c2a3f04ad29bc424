"""Builds a small crisk bundle at test time, through the Python binding: declarations from
models/generate.py, a schema fitted with crisk.Schema, XGBoost models trained on
Schema.training_matrix (with kind=True also a 4-class model of the fraud pattern), and
manifest, profiles and policy JSON. Used by the bundle, Dask and Java tests (the Java test
runs `python3 bundle_builder.py DIR` to get a bundle, the declarations as CSV and the
expected results, reason codes included, as CSV; and border sensor events with their
device keys, which the example bundle scores, with Python's results and refused events).

    python3 tests/python/bundle_builder.py OUTDIR   # OUTDIR/bundle, decls.csv, expected.csv
"""
from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))

SCHEMA = {
    "format": "crisk-schema", "version": 1,
    "id_field": "declaration_id", "date_field": "declaration_date", "max_field_bytes": 256,
    "fields": [
        {"name": "declaration_id", "type": "string", "required": True},
        {"name": "declaration_date", "type": "date", "required": True},
        {"name": "hs_code", "type": "hs_code"},
        {"name": "origin", "type": "string"},
        {"name": "importer_id", "type": "string", "personal": True},
        {"name": "declarant_id", "type": "string", "personal": True},
        {"name": "office", "type": "string"},
        {"name": "declared_value", "type": "number"},
        {"name": "net_mass_kg", "type": "number"},
        {"name": "items", "type": "number"},
        {"name": "tax_rate", "type": "number"}],
    "features": [
        {"name": "log_value", "op": "log1p", "field": "declared_value"},
        {"name": "unit_value", "op": "ratio", "num": "declared_value", "den": "net_mass_kg"},
        {"name": "value_per_item", "op": "ratio", "num": "declared_value", "den": "items"},
        {"name": "tax_rate", "op": "number", "field": "tax_rate"},
        {"name": "month", "op": "date_part", "field": "declaration_date", "part": "month"},
        {"name": "hs2", "op": "hs_prefix", "field": "hs_code", "digits": 2},
        {"name": "origin_code", "op": "category", "field": "origin", "unknown": "missing"},
        {"name": "importer_rate", "op": "risk_rate", "keys": ["importer_id"], "smoothing": 20},
        {"name": "importer_count", "op": "risk_count", "keys": ["importer_id"]},
        {"name": "declarant_rate", "op": "risk_rate", "keys": ["declarant_id"]},
        {"name": "hs6_origin_rate", "op": "risk_rate",
         "keys": [{"field": "hs_code", "digits": 6}, "origin"]}],
    "bands": [{"name": "unit_value_band", "feature": "unit_value",
               "keys": [{"field": "hs_code", "digits": 6}, "origin"],
               "low_quantile": 0.05, "high_quantile": 0.95, "min_count": 5}]}

FRAUD_FEATURES = ["log_value", "unit_value", "value_per_item", "tax_rate", "hs2",
                  "origin_code", "importer_rate", "importer_count", "declarant_rate",
                  "hs6_origin_rate"]
VALUE_FEATURES = ["log_value", "tax_rate", "hs2", "importer_rate"]
# The 4-class model: the generator's fraud_type (none, undervaluation, misclassification,
# origin) from these features.
KINDS = ["", "undervaluation", "misclassification", "origin"]
KIND_FEATURES = ["log_value", "unit_value", "tax_rate", "hs2", "origin_code", "importer_rate",
                 "hs6_origin_rate"]

PROFILES = {
    "format": "crisk-profiles", "version": 1,
    "watchlists": {"importers_under_investigation": ["IMP00007", "IMP00042", "IMP00100"]},
    "rules": [
        {"id": "P-001", "description": "importer under investigation", "lane": "red",
         "mandatory": True,
         "when": {"field": "importer_id", "watchlist": "importers_under_investigation"}},
        {"id": "P-002", "description": "preferential origin, dutiable goods", "lane": "yellow",
         "when": {"all": [{"field": "origin", "in": ["VN", "MX"]},
                          {"field": "tax_rate", "range": [0.1, None]}]}},
        {"id": "P-003", "description": "unit value below the HS6 x origin band",
         "lane": "yellow", "when": {"band": "unit_value_band", "outside": "below"}}]}

POLICY = {
    "format": "crisk-policy", "version": 1, "lanes": ["red", "yellow", "blue", "green"],
    "default_lane": "green", "score_model": "fraud",
    "thresholds": [{"lane": "red", "min_score": 0.9}, {"lane": "yellow", "min_score": 0.7}],
    "budget": [{"lane": "red", "share": 0.02}, {"lane": "yellow", "share": 0.05}],
    "random": {"lane": "blue", "rate": 0.02, "seed": 20261127}}


def generator():
    """Returns the project's declaration generator module (models/generate.py)."""
    spec = importlib.util.spec_from_file_location("crisk_generate", SOURCE / "models" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def events_generator():
    """Returns the project's event generator module (models/generate_events.py)."""
    spec = importlib.util.spec_from_file_location("crisk_generate_events",
                                                  SOURCE / "models" / "generate_events.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def declarations(rows: int, seed: int) -> List[Dict[str, str]]:
    """Returns `rows` generated declarations as text dicts (fields and labels)."""
    rows_, _ = generator().generate(rows, seed, dt.date(2025, 1, 1), 365)
    return rows_


TRAIN_ROWS, TRAIN_SEED = 3000, 7   # the training declarations of build()


def train_kind_classifier(features, fraud_types: Sequence[str]):
    """Returns a 4-class xgboost XGBClassifier (multi:softprob) of declarations' fraud
    types (KINDS), trained on the KIND_FEATURES columns of `features`, their feature
    DataFrame."""
    import xgboost as xgb

    kind = np.array([KINDS.index(t) for t in fraud_types])
    clf = xgb.XGBClassifier(objective="multi:softprob", n_estimators=12, max_depth=3,
                            learning_rate=0.3, n_jobs=1, random_state=0)
    clf.fit(features[KIND_FEATURES], kind)
    assert clf.n_classes_ == len(KINDS)
    return clf


def build(directory: Path, train_rows: int = TRAIN_ROWS, seed: int = TRAIN_SEED,
          kind: bool = False) -> Path:
    """Builds a bundle in `directory`/bundle from `train_rows` generated declarations, with
    the models fraud and revenue, and with `kind` also the 4-class model kind
    (train_kind_classifier); returns the bundle directory."""
    import pandas as pd
    import xgboost as xgb

    import crisk

    bundle = Path(directory) / "bundle"
    bundle.mkdir(parents=True, exist_ok=True)
    train = pd.DataFrame(declarations(train_rows, seed))
    (bundle / "schema_unfitted.json").write_text(json.dumps(SCHEMA))
    schema = crisk.Schema(bundle / "schema_unfitted.json")
    (bundle / "schema_unfitted.json").unlink()
    schema.fit(train, "fraud", folds=5, seed=1)
    schema.save(bundle / "schema.json")
    X = schema.training_matrix(train, "fraud", folds=5, seed=1)
    y = train["fraud"].astype(int).to_numpy()
    revenue = train["revenue"].astype(float).to_numpy()
    models = []
    for name, feats, label, objective in [("fraud", FRAUD_FEATURES, y, "binary:logistic"),
                                          ("revenue", VALUE_FEATURES, np.log1p(revenue),
                                           "reg:squarederror")]:
        dm = xgb.DMatrix(X[feats], label=label, nthread=1)
        booster = xgb.train({"objective": objective, "max_depth": 4, "eta": 0.3,
                             "nthread": 1, "seed": 0}, dm, num_boost_round=30)
        booster.save_model(str(bundle / f"{name}_xgb.json"))
        models.append({"name": name, "file": f"{name}_xgb.json", "features": feats})
    if kind:
        train_kind_classifier(X, train["fraud_type"]).save_model(
            str(bundle / "kind_xgb.json"))
        models.append({"name": "kind", "file": "kind_xgb.json", "features": KIND_FEATURES})
    (bundle / "manifest.json").write_text(json.dumps(
        {"format": "crisk-bundle", "version": 1, "schema": "schema.json", "models": models,
         "profiles": "profiles.json", "policy": "policy.json"}, indent=1))
    (bundle / "profiles.json").write_text(json.dumps(PROFILES, indent=1))
    (bundle / "policy.json").write_text(json.dumps(POLICY, indent=1))
    return bundle


def scoring_rows(rows: int = 400, seed: int = 11) -> List[Dict[str, str]]:
    """Returns declarations to score (text dicts, no labels), with a few that the schema
    must reject: a bad number, an impossible date, a missing required id."""
    fields = generator().FIELDS
    out = [{f: r[f] for f in fields} for r in declarations(rows, seed)]
    out[5]["declared_value"] = "12,5x"
    out[17]["declaration_date"] = "2025-02-29"
    out[33]["declaration_id"] = ""
    return out


def write_schema_inputs(out: Path, schema) -> None:
    """Writes what the Java Schema test fits and compares: OUTDIR/schema_unfitted.json,
    OUTDIR/train.csv (the training declarations of build() with their fraud label) and
    the fitted `schema`'s training matrix and scoring features of those declarations
    (OUTDIR/py_matrix.csv, py_features.csv: a header of feature names, then %.9g values,
    empty when missing)."""
    import pandas as pd

    (out / "schema_unfitted.json").write_text(json.dumps(SCHEMA))
    train = pd.DataFrame(declarations(TRAIN_ROWS, TRAIN_SEED))
    train[generator().FIELDS + ["fraud"]].to_csv(out / "train.csv", index=False)
    for name, frame in [("py_matrix.csv", schema.training_matrix(train, "fraud", folds=5,
                                                                  seed=1)),
                        ("py_features.csv", schema.features(train))]:
        frame.to_csv(out / name, index=False, float_format="%.9g", na_rep="")


def kind_probabilities(bundle_dir: Path, rows: List[Dict[str, str]]) -> np.ndarray:
    """Returns xgboost's own class probabilities (predict_proba) of the kind model of the
    bundle in `bundle_dir` for declarations `rows` (none of them rejected), on the
    bundle's scoring features of those rows: shape (len(rows), len(KINDS))."""
    import xgboost as xgb

    import crisk

    clf = xgb.XGBClassifier()
    clf.load_model(str(Path(bundle_dir) / "kind_xgb.json"))
    features = crisk.Bundle(bundle_dir).schema.features(rows)
    return clf.predict_proba(features[KIND_FEATURES])


def write_kind_inputs(out: Path, rows: List[Dict[str, str]], rejected: Sequence[int]) -> None:
    """Writes what the Java multi-class test scores and compares: OUTDIR/kind/bundle
    (build(kind=True)) and OUTDIR/kind_expected.csv, xgboost's predict_proba of the kind
    model for every row of `rows` not in `rejected` (a header row, kind_0..., then the
    row's position and its probabilities as %.9g)."""
    bundle_dir = build(out / "kind", kind=True)
    kept = [i for i in range(len(rows)) if i not in set(rejected)]
    proba = kind_probabilities(bundle_dir, [rows[i] for i in kept])
    with open(out / "kind_expected.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["row"] + [f"kind_{k}" for k in range(len(KINDS))])
        for i, p in zip(kept, proba):
            w.writerow([i] + ["%.9g" % v for v in p])


EXPLAIN = 4   # the reason codes main() writes per declaration
TODAY = "2025-06-30"   # the date main() judges profiles by (the Java test's TODAY)


def write_expected(path: Path, bundle, rows: List[Dict[str, str]], result) -> None:
    """Writes `result` (a ScoreResult of `bundle` for `rows`) to `path` as CSV: a header
    (row, id, the model names, lane, reason, hits, reason_kind, propensity), then per input
    row its position, id, each model's score as %.9g (exact for a float32), lane, reason,
    hits, reason kind and propensity (repr: exact for a double); a rejected row has lane
    "REJECTED" and nothing else."""
    import crisk

    combined = crisk.ScoreResult(result.scores, result.rejects).combined()
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["row", "id"] + bundle.model_names
                   + ["lane", "reason", "hits", "reason_kind", "propensity"])
        for pos, (_, r) in enumerate(combined.iterrows()):
            if isinstance(r["rejected"], str):
                w.writerow([pos, rows[pos]["declaration_id"]] + [""] * len(bundle.model_names)
                           + ["REJECTED", "", "", "", ""])
            else:
                w.writerow([pos, r["declaration_id"]]
                           + ["%.9g" % r[m] for m in bundle.model_names]
                           + [r["lane"], r["reason"], r["hits"], r["reason_kind"],
                              repr(float(r["propensity"]))])


EVENTS_BUNDLE = SOURCE / "models" / "example"   # its schema has event features
EVENT_ROWS, EVENT_SEED = 150, 13


def refused_events(lines: List[str]) -> List[str]:
    """Returns the event `lines` (models/generate_events.py's, in time order) with four
    lines that must be refused put in among them: a truncated line (malformed), a key of
    an unknown kind (unknown_key), a copy of a signed event under another id (its HMAC
    no longer matches: bad_hmac) and a copy from a device the key file does not list
    (unknown_device).
    Each follows the event it copies, so that it is in time order too."""
    signed = [i for i, line in enumerate(lines) if '"hmac":' in line]
    first, second = json.loads(lines[signed[0]]), lines[signed[1]]
    renamed = dict(first, event_id=first["event_id"] + "-COPY")
    keyless = second.replace('"device_id":"', '"device_id":"NOKEY-', 1)
    bad_kind = dict(first, event_id="ODD-KEY", key={"type": "pallet", "value": "P1"})
    bad_kind.pop("hmac")
    out = list(lines)
    for at, line in sorted([(signed[0] + 1, json.dumps(renamed, separators=(",", ":"))),
                            (signed[1] + 1, keyless),
                            (signed[2] + 1, json.dumps(bad_kind, separators=(",", ":"))),
                            (signed[3] + 1, lines[signed[3]][:40])], reverse=True):
        out.insert(at, line)
    return out


def write_event_inputs(out: Path) -> None:
    """Writes what the Java events test scores and compares, for the example bundle
    (EVENTS_BUNDLE): OUTDIR/events_decls.csv (EVENT_ROWS generated declarations with the
    container and truck models/generate_events.py gives them), OUTDIR/events.jsonl (their
    events, with two forged breaches and the lines of refused_events) and
    OUTDIR/device_keys.json (the generator's keys); then the Python binding's results of
    scoring them with those events and keys (OUTDIR/events_expected.csv, as
    write_expected) and without events (OUTDIR/noevents_expected.csv), and its refused
    events (OUTDIR/event_rejects_expected.csv: line, row, kind, reason)."""
    import crisk

    decls, lines, keys = events_generator().generate(
        declarations(EVENT_ROWS, EVENT_SEED), EVENT_SEED, forged=2)
    fields = generator().FIELDS + ["container_id", "conveyance_id"]
    rows = [{f: d[f] for f in fields} for d in decls]
    with open(out / "events_decls.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    (out / "events.jsonl").write_text("\n".join(refused_events(lines)) + "\n")
    (out / "device_keys.json").write_text(json.dumps(events_generator().key_file(keys)))
    with crisk.Bundle(EVENTS_BUNDLE) as bundle:
        result = bundle.score(rows, threads=1, today=TODAY, events=out / "events.jsonl",
                              device_keys=out / "device_keys.json")
        write_expected(out / "events_expected.csv", bundle, rows, result)
        write_expected(out / "noevents_expected.csv", bundle, rows,
                       bundle.score(rows, threads=1, today=TODAY))
    result.event_rejects.to_csv(out / "event_rejects_expected.csv", index=False,
                                lineterminator="\n")


def write_reasons(out: Path, bundle, rows: List[Dict[str, str]]) -> None:
    """Writes OUTDIR/reasons_expected.csv, the Python binding's reason codes of `rows`
    (Bundle.score with explain=EXPLAIN): per scored declaration its input row, bias and
    rest (%.9g), then field, value ("" when missing) and contribution (%.9g) of each of
    its reasons."""
    import pandas as pd

    scores, _ = bundle.score(rows, threads=1, today=TODAY, explain=EXPLAIN)
    with open(out / "reasons_expected.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        for pos, r in scores.iterrows():
            line = [pos, "%.9g" % r["explain_bias"], "%.9g" % r["explain_rest"]]
            for k in range(1, EXPLAIN + 1):
                if not pd.isna(r[f"reason_{k}_field"]):
                    value = r[f"reason_{k}_value"]
                    line += [r[f"reason_{k}_field"], "" if pd.isna(value) else value,
                             "%.9g" % r[f"reason_{k}_contribution"]]
            w.writerow(line)


def main(argv: List[str]) -> int:
    """Writes OUTDIR/bundle, OUTDIR/decls.csv and OUTDIR/expected.csv (the Python scores:
    id, one column per model as %.9g, lane, reason, hits, reason_kind; rejects as lane
    "REJECTED"; write_expected), the reason codes of write_reasons, the Schema files of
    write_schema_inputs, the multi-class files of write_kind_inputs and the event files of
    write_event_inputs."""
    import crisk

    out = Path(argv[1])
    bundle = crisk.Bundle(build(out))
    write_schema_inputs(out, bundle.schema)
    rows = scoring_rows()
    for i in (2, 40, 41):   # missing values, which reason codes must show as missing
        rows[i]["net_mass_kg"] = ""
    fields = list(rows[0])
    with open(out / "decls.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    result = bundle.score(rows, threads=1, today=TODAY)
    write_expected(out / "expected.csv", bundle, rows, result)
    write_reasons(out, bundle, rows)
    write_kind_inputs(out, rows, result.rejects["row"].tolist())
    write_event_inputs(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
