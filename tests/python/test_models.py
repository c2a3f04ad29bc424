"""The committed example bundle (models/example/) and the recipe that makes it
(models/train.py): the bundle is consistent with its schema and loads and scores through
`crisk score`; mandatory profiles decide lanes as profiles.json says, including the
profiles on sensor events when the README's main command joins the sample's events; the
recipe gives the same files byte for byte when run twice (on a small row count, to stay
fast)."""
import csv
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUNDLE = SOURCE / "models" / "example"
DECLARATIONS = BUNDLE / "declarations.csv"
EVENTS = BUNDLE / "events.jsonl"
DEVICE_KEYS = BUNDLE / "device_keys.json"


def has_command(run_crisk, name: str) -> bool:
    """Returns whether the built crisk has subcommand `name` (the declaration commands
    land separately from the core)."""
    proc = run_crisk("help", check=False)
    return f"crisk {name}" in proc.stdout + proc.stderr


def manifest() -> dict:
    return json.loads((BUNDLE / "manifest.json").read_text())


def test_manifest_features_are_schema_features_and_model_names():
    schema = json.loads((BUNDLE / "schema.json").read_text())
    names = [f["name"] for f in schema["features"]]
    assert "fitted" in schema, "the committed schema must be fitted"
    models = manifest()["models"]
    assert [m["name"] for m in models] == ["fraud", "revenue", "fraud_logistic"]
    for m in models:
        assert set(m["features"]) <= set(names), m["name"]
    for m in models[:2]:
        booster = xgb.Booster(model_file=str(BUNDLE / m["file"]))
        assert booster.feature_names == m["features"], m["name"]
    logistic = json.loads((BUNDLE / models[2]["file"]).read_text())
    assert logistic["feature_names"] == models[2]["features"]
    # The fraud model takes features built from border sensor events.
    ops = {f["name"]: f["op"] for f in schema["features"]}
    assert {ops[n] for n in models[0]["features"]} >= {"event_flag", "event_max",
                                                         "event_count", "event_hours_since"}


def test_events_are_those_of_the_sample_only():
    """The shipped stream keeps the bundle small: every event is about a container or a
    truck of declarations.csv."""
    with open(DECLARATIONS, newline="") as f:
        decls = list(csv.DictReader(f))
    keys = ({("container", d["container_id"]) for d in decls}
            | {("conveyance", d["conveyance_id"]) for d in decls})
    events = [json.loads(line) for line in EVENTS.read_text().splitlines()]
    assert events and all((e["key"]["type"], e["key"]["value"]) in keys for e in events)


def test_bundle_loads_through_the_c_api():
    import ctypes
    from crisk_ctypes import LIB, _Error
    handle, err = ctypes.c_void_p(), _Error()
    LIB.crisk_bundle_load.argtypes = [ctypes.c_char_p, ctypes.c_void_p,
                                      ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_Error)]
    LIB.crisk_bundle_num_models.argtypes = [ctypes.c_void_p]
    LIB.crisk_bundle_num_models.restype = ctypes.c_size_t
    LIB.crisk_bundle_free.argtypes = [ctypes.c_void_p]
    rc = LIB.crisk_bundle_load(str(BUNDLE).encode(), None, ctypes.byref(handle),
                               ctypes.byref(err))
    assert rc == 0, err.message.decode()
    try:
        assert LIB.crisk_bundle_num_models(handle) == len(manifest()["models"])
    finally:
        LIB.crisk_bundle_free(handle)


def test_declarations_are_unlabelled_schema_rows():
    schema = json.loads((BUNDLE / "schema.json").read_text())
    with open(DECLARATIONS, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [fld["name"] for fld in schema["fields"]]
    assert 100 <= len(rows) - 1 <= 1000
    assert all(len(r) == len(rows[0]) for r in rows)


def test_bundle_scores_the_sample(run_crisk, tmp_path):
    if not has_command(run_crisk, "score"):
        pytest.skip("crisk score is not built yet")
    out = tmp_path / "scores.csv"
    proc = run_crisk("score", "--bundle", BUNDLE, "--input", DECLARATIONS, "--output", out)
    with open(DECLARATIONS, newline="") as f:
        decls = list(csv.DictReader(f))
    assert f"rows read: {len(decls)}, scored: {len(decls)}, rejected: 0" in proc.stderr
    with open(out, newline="") as f:
        scored = list(csv.DictReader(f))
    assert [r["declaration_id"] for r in scored] == [d["declaration_id"] for d in decls]
    policy = json.loads((BUNDLE / "policy.json").read_text())
    fraud = np.array([float(r["fraud"]) for r in scored])
    assert np.all((fraud >= 0) & (fraud <= 1)) and fraud.std() > 0
    assert {r["lane"] for r in scored} <= set(policy["lanes"])

    # The scores are those of XGBoost itself on the features crisk's schema builds.
    from crisk_decl_ctypes import CSchema
    schema = CSchema(BUNDLE / "schema.json")
    fields = [f["name"] for f in json.loads((BUNDLE / "schema.json").read_text())["fields"]]
    features = schema.features(schema.batch([[d[f] or None for f in fields] for d in decls]))
    for m in manifest()["models"][:2]:
        X = features[:, [schema.feature_names.index(n) for n in m["features"]]]
        booster = xgb.Booster(model_file=str(BUNDLE / m["file"]))
        expected = booster.predict(xgb.DMatrix(X, feature_names=m["features"]))
        got = np.array([float(r[m["name"]]) for r in scored], dtype=np.float32)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=m["name"])

    # Every declaration of a watch-listed importer hits the mandatory red rule P-001 (all
    # sample dates fall in its active range) and goes red because of it.
    profiles = json.loads((BUNDLE / "profiles.json").read_text())
    rule = next(r for r in profiles["rules"] if r["id"] == "P-001")
    assert rule["mandatory"] and rule["lane"] == "red"
    watched = set(profiles["watchlists"][rule["when"]["watchlist"]])
    hits = [s for d, s in zip(decls, scored) if d["importer_id"] in watched]
    assert hits, "the sample should hold declarations of watch-listed importers"
    for s in hits:
        assert "P-001" in s["hits"].split(";")
        assert s["lane"] == "red" and "P-001" in s["reason"]


def authentic_events() -> list[dict]:
    """Returns the events of the shipped stream whose HMAC verifies under
    device_keys.json (checked here with Python's hmac; the generator writes the payload
    compactly with sorted keys, so json.dumps gives back its signed bytes)."""
    keys = {d["device_id"]: bytes.fromhex(d["key"])
            for d in json.loads(DEVICE_KEYS.read_text())["devices"] if "key" in d}
    out = []
    for line in EVENTS.read_text().splitlines():
        e = json.loads(line)
        if "hmac" in e:
            payload = ("" if "payload" not in e else
                       json.dumps(e["payload"], separators=(",", ":"), sort_keys=True))
            text = "\n".join(["crisk-event-v1", e["event_id"], e["key"]["type"],
                              e["key"]["value"], e["type"], e["device_id"], e["time"],
                              payload])
            mac = hmac.new(keys[e["device_id"]], text.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(mac, e["hmac"].lower()):
                continue
        out.append(e)
    return out


def expected_event_hits(decls: list[dict], rules: dict) -> dict:
    """Returns, per event profile id, the ids of the declarations it must hit: those whose
    container has an authentic event of the rule's kind in the feature's window (the days
    before the midnight UTC that ends the declaration's day) meeting the rule's range."""
    schema = {f["name"]: f for f in json.loads((BUNDLE / "schema.json").read_text())["features"]}
    events = authentic_events()
    out = {}
    for rule_id, rule in rules.items():
        feature = schema[rule["when"]["feature"]]
        lo = rule["when"]["range"][0]
        active = rule["active"]
        hit = set()
        for d in decls:
            if not active["from"] <= d["declaration_date"] <= active["to"]:
                continue
            day = dt.date.fromisoformat(d["declaration_date"])
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
            begin = end - dt.timedelta(days=feature["window_days"])
            values = [e["payload"]["anomaly_score"] if e["type"] == "xray.result" else 1.0
                      for e in events
                      if e["key"] == {"type": feature["key_type"],
                                      "value": d[feature["key_field"]]}
                      and e["type"] == feature["event"]
                      and begin <= dt.datetime.fromisoformat(e["time"]) < end]
            if values and max(values) >= lo:
                hit.add(d["declaration_id"])
        out[rule_id] = hit
    return out


def test_readme_main_command_scores_the_sample(run_crisk):
    """README command (a) scores the sample with its events: the event profiles send to
    red exactly the declarations whose authentic events meet them (the forged breaches
    are refused, never trusted), and without --events no declaration hits them."""
    if not has_command(run_crisk, "score"):
        pytest.skip("crisk score is not built yet")
    readme = (SOURCE / "README.md").read_text()
    block = re.search(r"\*\*\(a\) Main job.*?```sh\n(.*?)\n```", readme, flags=re.S)
    words = shlex.split(block.group(1).split("&&")[-1])
    assert words[0] == "build/crisk"
    args = [SOURCE / w if w.startswith("models/") else w for w in words[1:]]
    assert "--events" in args and "--device-keys" in args
    proc = run_crisk(*args)
    lines = proc.stdout.splitlines()
    with open(DECLARATIONS, newline="") as f:
        decls = list(csv.DictReader(f))
    assert len(lines) == len(decls) + 1   # a header and one per row
    assert lines[0].split(",")[:4] == ["declaration_id", "fraud", "revenue", "fraud_logistic"]
    n_events = len(EVENTS.read_text().splitlines())
    n_forged = n_events - len(authentic_events())
    assert n_forged >= 1
    assert (f"events read: {n_events}, accepted: {n_events - n_forged}, "
            f"rejected: {n_forged}") in proc.stderr
    assert proc.stderr.count("refused (bad_hmac)") == n_forged

    profiles = json.loads((BUNDLE / "profiles.json").read_text())
    rules = {r["id"]: r for r in profiles["rules"] if r["id"] in ("EV-SEAL", "EV-XRAY")}
    assert len(rules) == 2 and all(r["mandatory"] and r["lane"] == "red"
                                   for r in rules.values())
    expected = expected_event_hits(decls, rules)
    scored = list(csv.DictReader(lines))
    for rule_id in rules:
        got = {s["declaration_id"] for s in scored if rule_id in s["hits"].split(";")}
        assert got == expected[rule_id], rule_id
        assert all(s["lane"] == "red" for s in scored if s["declaration_id"] in got)
    by_event = [s for s in scored
                if s["lane"] == "red" and s["reason"].startswith(("profile EV-SEAL:",
                                                                   "profile EV-XRAY:"))]
    assert by_event, "a declaration should go red because of a sensor event"

    event_options = {"--events", "--device-keys"}
    plain = run_crisk(*[a for k, a in enumerate(args)
                        if a not in event_options and args[k - 1] not in event_options])
    assert "events read" not in plain.stderr
    for s in csv.DictReader(plain.stdout.splitlines()):
        assert not {"EV-SEAL", "EV-XRAY"} & set(s["hits"].split(";")), s
        assert "EV-" not in s["reason"], s


def test_recipe_is_reproducible(run_crisk, crisk_cli, tmp_path):
    if not (has_command(run_crisk, "fit") and has_command(run_crisk, "evaluate")):
        pytest.skip("crisk fit / evaluate are not built yet")
    outputs = []
    for k in range(2):
        out = tmp_path / f"bundle{k}"
        subprocess.run([sys.executable, str(SOURCE / "models" / "train.py"), "--crisk",
                        str(crisk_cli), "--output", str(out), "--rows", "2000",
                        "--holdout-rows", "500", "--score-rows", "50", "--trees", "10"],
                       check=True, capture_output=True, text=True)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert sorted(outputs[0]) == sorted(p.name for p in BUNDLE.iterdir())
    assert outputs[0] == outputs[1]


KCS_DATA = Path(os.environ.get("CRISK_KCS_DIR",
                               SOURCE.parent / "shared" / "data" / "kcs-synthetic-declarations"))


def test_kcs_schema_fits_the_kcs_columns(run_crisk, tmp_path):
    """models/kcs/schema.json stays a valid schema for the dataset's columns: `crisk fit`
    takes the first 400 training declarations without a reject."""
    train = KCS_DATA / "df_syn_train_eng.csv"
    if not train.is_file():
        pytest.skip(f"{train}: the KCS dataset is not here (set CRISK_KCS_DIR)")
    if not has_command(run_crisk, "fit"):
        pytest.skip("crisk fit is not built yet")
    sample = tmp_path / "kcs.csv"
    with open(train, newline="") as src, open(sample, "w", newline="") as dst:
        dst.writelines(line for _, line in zip(range(401), src))
    schema = json.loads((SOURCE / "models" / "kcs" / "schema.json").read_text())
    proc = run_crisk("fit", "--schema", SOURCE / "models" / "kcs" / "schema.json",
                     "--input", sample, "--label", "Fraud", "--output", tmp_path / "fitted.json",
                     "--matrix", tmp_path / "matrix.csv")
    assert "rows read: 400, fitted: 400, rejected: 0" in proc.stderr
    with open(tmp_path / "matrix.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header == ["Declaration ID"] + [f["name"] for f in schema["features"]] + ["Fraud"]
