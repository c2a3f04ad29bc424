"""Border sensor events end to end through the `crisk` CLI (docs/events.md).

Declarations from models/generate.py get containers, trucks and an event stream from
models/generate_events.py (with forged events). The event features crisk builds are
checked against the same windows computed here in Python from the JSON lines; training
(`crisk fit --matrix`) and scoring (`--features`) must build them identically; a bundle
whose profiles test event features sends to red exactly the declarations the Python
computation says, only when the events are given, with the rule in the reason; forged
events are refused (bad_hmac) and never move a declaration; events of devices the key
file does not list are refused as unknown_device, never trusted.
"""
import csv
import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
WINDOW = 30

EVENT_FEATURES = {
    # name: (op, key field, key type, event)
    "seal_breach": ("event_flag", "container_id", "container", "seal.tampered"),
    "seal_opened": ("event_count", "container_id", "container", "seal.opened"),
    "hours_verified": ("event_hours_since", "container_id", "container", "seal.verified"),
    "xray_max": ("event_max", "container_id", "container", "xray.result"),
    "route_dev": ("event_count", "conveyance_id", "conveyance", "gps.route_deviation"),
}

FIELDS = [("declaration_id", "string"), ("declaration_date", "date"), ("hs_code", "hs_code"),
          ("origin", "string"), ("importer_id", "string"), ("declarant_id", "string"),
          ("office", "string"), ("declared_value", "number"), ("net_mass_kg", "number"),
          ("items", "number"), ("tax_rate", "number"), ("container_id", "string"),
          ("conveyance_id", "string")]


def schema_doc():
    """Returns the test's schema: a few declaration features and the event features."""
    features = [{"name": "log_value", "op": "log1p", "field": "declared_value"},
                {"name": "importer_rate", "op": "risk_rate", "keys": ["importer_id"]}]
    for name, (op, field, ktype, event) in EVENT_FEATURES.items():
        features.append({"name": name, "op": op, "key_field": field, "key_type": ktype,
                         "event": event, "window_days": WINDOW})
    return {"format": "crisk-schema", "version": 1, "id_field": "declaration_id",
            "date_field": "declaration_date",
            "fields": [{"name": n, "type": t, "required": n == "declaration_id"}
                       for n, t in FIELDS],
            "features": features}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Generates declarations, events and keys once for the module."""
    d = tmp_path_factory.mktemp("events")
    subprocess.run([sys.executable, SOURCE / "models/generate.py", "--rows", "700",
                    "--seed", "11", "--output", d / "decl.csv"], check=True)
    subprocess.run([sys.executable, SOURCE / "models/generate_events.py", "--declarations",
                    d / "decl.csv", "--seed", "11", "--forged", "4",
                    "--output-declarations", d / "de.csv", "--events", d / "ev.jsonl",
                    "--keys", d / "keys.json"], check=True)
    (d / "schema.json").write_text(json.dumps(schema_doc()))
    with open(d / "de.csv", newline="") as f:
        decls = list(csv.DictReader(f))
    lines = (d / "ev.jsonl").read_text().splitlines()
    return d, decls, lines


def parse_time(text):
    """Returns an RFC 3339 time as an aware datetime (Python's own parser)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def expected_features(decls, lines, trusted):
    """Computes the event features of every declaration here, from the event lines whose
    1-based numbers are in `trusted`: the window is the WINDOW days before the midnight
    (UTC) that ends the declaration's day; NaN when the key has no event in it."""
    by_key = {}
    for no, line in enumerate(lines, 1):
        if no in trusted:
            ev = json.loads(line)
            by_key.setdefault((ev["key"]["type"], ev["key"]["value"]), []).append(ev)
    out = {name: [] for name in EVENT_FEATURES}
    for d in decls:
        day = dt.date.fromisoformat(d["declaration_date"])
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
        begin = end - dt.timedelta(days=WINDOW)
        for name, (op, field, ktype, event) in EVENT_FEATURES.items():
            evs = [e for e in by_key.get((ktype, d[field]), [])
                   if begin <= parse_time(e["time"]) < end]
            mine = [e for e in evs if e["type"] == event]
            if not evs:
                v = math.nan
            elif op == "event_count":
                v = len(mine)
            elif op == "event_flag":
                v = float(bool(mine))
            elif op == "event_hours_since":
                v = ((end - max(parse_time(e["time"]) for e in mine)).total_seconds() / 3600
                     if mine else math.nan)
            else:
                v = max((e["payload"]["anomaly_score"] for e in mine), default=math.nan)
            out[name].append(v)
    return {k: np.array(v, dtype=np.float64) for k, v in out.items()}


def read_matrix(path):
    """Reads a feature matrix CSV written by `crisk fit` into {column: float array}."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) if r[k] not in ("", "NaN", "nan") else math.nan
                         for r in rows]) for k in rows[0] if k != "declaration_id"}


def read_rejects(path):
    """Reads an event rejects file (CSV line,kind,reason)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def fitted(world, run_crisk):
    """Fits the schema with the events and writes both matrices."""
    d, decls, lines = world
    proc = run_crisk("fit", "--schema", d / "schema.json", "--input", d / "de.csv",
                     "--label", "fraud", "--output", d / "fitted.json", "--matrix",
                     d / "train.csv", "--features", d / "score.csv", "--events",
                     d / "ev.jsonl", "--device-keys", d / "keys.json", "--event-rejects",
                     d / "ev_rejects.csv")
    return proc


def test_forged_events_are_refused(world, fitted):
    d, decls, lines = world
    forged = {no for no, line in enumerate(lines, 1) if '"FORGED' in line}
    assert len(forged) == 4
    rejects = read_rejects(d / "ev_rejects.csv")
    assert {int(r["line"]) for r in rejects} == forged
    assert {r["kind"] for r in rejects} == {"bad_hmac"}
    assert f"events read: {len(lines)}, accepted: {len(lines) - 4}, rejected: 4" \
        in fitted.stderr


def test_event_features_match_python_and_training_equals_scoring(world, fitted):
    d, decls, lines = world
    trusted = {no for no, line in enumerate(lines, 1) if '"FORGED' not in line}
    want = expected_features(decls, lines, trusted)
    train, score = read_matrix(d / "train.csv"), read_matrix(d / "score.csv")
    for name in EVENT_FEATURES:
        np.testing.assert_array_equal(train[name], score[name], err_msg=name)
        np.testing.assert_allclose(score[name], want[name].astype(np.float32), rtol=1e-6,
                                   err_msg=name)
    # Not a vacuous comparison: every feature has known and missing values.
    for name in EVENT_FEATURES:
        assert np.isfinite(want[name]).any(), name
    assert np.isnan(want["xray_max"]).any()
    # The generator correlates breaches with fraud.
    fraud = np.array([float(r["fraud"]) for r in decls]) > 0
    breach = np.nan_to_num(want["seal_breach"])
    assert breach[fraud].mean() > 5 * max(breach[~fraud].mean(), 1e-3)


def write_bundle(d):
    """Writes a bundle whose model ignores events and whose profiles test them."""
    b = d / "bundle"
    b.mkdir(exist_ok=True)
    (b / "schema.json").write_text((d / "fitted.json").read_text())
    (b / "fraud.json").write_text(json.dumps({
        "format": "crisk-logistic", "version": 1, "feature_names": ["log_value"],
        "classes": [0, 1], "multi_class": "binary", "coef": [[0.01]], "intercept": [-6]}))
    (b / "profiles.json").write_text(json.dumps({
        "format": "crisk-profiles", "version": 1, "rules": [
            {"id": "EV-SEAL", "description": "e-seal tampered en route", "lane": "red",
             "mandatory": True, "when": {"feature": "seal_breach", "range": [1, None]}},
            {"id": "EV-XRAY", "description": "X-ray anomaly >= 0.8", "lane": "red",
             "mandatory": True, "when": {"feature": "xray_max", "range": [0.8, None]}}]}))
    (b / "policy.json").write_text(json.dumps({
        "format": "crisk-policy", "version": 1, "lanes": ["red", "green"],
        "default_lane": "green", "score_model": "fraud",
        "thresholds": [{"lane": "red", "min_score": 0.999}]}))
    (b / "manifest.json").write_text(json.dumps({
        "format": "crisk-bundle", "version": 1, "schema": "schema.json",
        "models": [{"name": "fraud", "file": "fraud.json", "features": ["log_value"]}],
        "profiles": "profiles.json", "policy": "policy.json"}))
    return b


def score(run_crisk, bundle, d, out, *extra):
    """Scores the declarations; returns (records by id, stderr)."""
    proc = run_crisk("score", "--bundle", bundle, "--input", d / "de.csv", "--output",
                     d / out, *extra)
    with open(d / out, newline="") as f:
        return {r["declaration_id"]: r for r in csv.DictReader(f)}, proc.stderr


def test_sensor_events_send_declarations_to_red(world, fitted, run_crisk):
    d, decls, lines = world
    bundle = write_bundle(d)
    trusted = {no for no, line in enumerate(lines, 1) if '"FORGED' not in line}
    want = expected_features(decls, lines, trusted)
    red = {r["declaration_id"] for r, s, x in zip(decls, want["seal_breach"], want["xray_max"])
           if s == 1 or x >= 0.8}
    assert 5 <= len(red) < len(decls) // 2

    without, _ = score(run_crisk, bundle, d, "without.csv")
    assert {r["lane"] for r in without.values()} == {"green"}
    assert all(r["hits"] == "" for r in without.values())

    keys = ["--events", d / "ev.jsonl", "--device-keys", d / "keys.json"]
    with_ev, err = score(run_crisk, bundle, d, "with.csv", *keys, "--event-rejects",
                         d / "rej.csv")
    assert "rejected: 4" in err
    assert {i for i, r in with_ev.items() if r["lane"] == "red"} == red
    for i in red:
        assert "EV-SEAL" in with_ev[i]["reason"] or "EV-XRAY" in with_ev[i]["reason"]
    for i, r in with_ev.items():  # scores do not move: only the profiles see events
        assert r["fraud"] == without[i]["fraud"]
    # Forged breaches moved nobody: their containers' declarations follow the trusted
    # events alone (checked above through `red`), and some of them are green.
    forged_containers = {json.loads(line)["key"]["value"] for line in lines
                         if '"FORGED' in line}
    forged_ids = {r["declaration_id"] for r in decls if r["container_id"] in forged_containers}
    assert forged_ids and any(with_ev[i]["lane"] == "green" for i in forged_ids)

    # Batches of 50 read the stream per batch and decide the same.
    small, err = score(run_crisk, bundle, d, "small.csv", *keys, "--batch-rows", "50")
    assert small == with_ev
    assert err.count("events read:") == 1  # refusals are reported once

    # A key file that lists no device knows none: every event is refused, so no
    # declaration goes red on them (without --device-keys the command line is refused).
    (d / "nokeys.json").write_text(json.dumps({"format": "crisk-device-keys", "version": 1,
                                               "devices": []}))
    nokeys, err = score(run_crisk, bundle, d, "nokeys.csv", "--events", d / "ev.jsonl",
                        "--device-keys", d / "nokeys.json",
                        "--event-rejects", d / "rej_nokeys.csv")
    kinds = {r["kind"] for r in read_rejects(d / "rej_nokeys.csv")}
    assert kinds == {"unknown_device"}
    assert {r["lane"] for r in nokeys.values()} == {"green"}

    # --require-hmac refuses the unsigned RFID and GPS events as well.
    score(run_crisk, bundle, d, "strict.csv", *keys, "--require-hmac", "--event-rejects",
          d / "rej_strict.csv")
    kinds = {r["kind"] for r in read_rejects(d / "rej_strict.csv")}
    assert kinds == {"missing_hmac", "bad_hmac"}


def test_event_options_need_events(world, fitted, run_crisk):
    d, _, _ = world
    proc = run_crisk("score", "--bundle", write_bundle(d), "--input", d / "de.csv",
                     "--device-keys", d / "keys.json", check=False)
    assert proc.returncode == 2
    assert "--events" in proc.stderr
