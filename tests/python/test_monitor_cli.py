"""`crisk monitor` end to end on the example bundle, whose reference distributions the
recipe (models/train.py) made from its held-out sample (seed 8).

Fresh declarations come from the same generator (models/generate.py and its events) with
other seeds. A batch from the reference population does not alert; a batch with one field
shifted (values scaled, a category replaced by one never seen) alerts on the features
built from that field and on none built from other fields (the model scores may follow,
since they read the shifted features). Which features depend on which field is read from
the bundle's schema, not written here.

False alarms: with B bins and n rows, the PSI of a sample of the reference itself averages
about (B - 1) / n and behaves like a chi-square(B - 1) / n; for n = 4000 and B <= 23 that
is <= 0.0055, and the alert threshold 0.25 is a chi-square of 1000 on at most 22 degrees
of freedom, which a sample of the reference reaches with a probability far below 1e-100.
The reference itself has sampling noise ((B - 1) / 10000 on average), of the same size.
"""
import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "models" / "example"
ROWS = 4000
ALERT_EXIT = 3


def load_train():
    """Returns models/train.py as a module, for its generate() helper."""
    spec = importlib.util.spec_from_file_location("train", ROOT / "models" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A fresh sample of the reference population: (declarations, events, keys)."""
    work = tmp_path_factory.mktemp("monitor")
    files = (work / "fresh.csv", work / "fresh_events.jsonl", work / "fresh_keys.json")
    load_train().generate(ROWS, 31, work, *files)
    return files


def events_options(sample):
    return ["--events", sample[1], "--device-keys", sample[2]]


def monitor(run_crisk, tmp_path, declarations, sample, *extra, bundle=BUNDLE):
    """Runs crisk monitor on `declarations`; returns (exit code, {item: report})."""
    out = tmp_path / "drift.json"
    proc = run_crisk("monitor", "--bundle", bundle, "--input", declarations,
                     *events_options(sample), "--output", out, *extra, check=False)
    assert proc.returncode in (0, ALERT_EXIT), proc.stderr
    report = json.loads(out.read_text())
    return proc.returncode, {item["name"]: item for item in report["items"]}, report


def rewrite(src, dst, change):
    """Copies CSV `src` to `dst`, each row passed through `change` (a dict -> dict)."""
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(dst, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(change(dict(r)) for r in rows)


def fields_of(feature):
    """The declaration fields schema feature `feature` (its JSON) is built from."""
    keys = feature.get("keys", [])
    names = [feature.get(k) for k in ("field", "num", "den", "key_field")]
    names += [k if isinstance(k, str) else k["field"] for k in keys]
    return {n for n in names if n}


def depending_on(field):
    schema = json.loads((BUNDLE / "schema.json").read_text())
    return {f["name"] for f in schema["features"] if field in fields_of(f)}


def model_names():
    return {m["name"] for m in json.loads((BUNDLE / "manifest.json").read_text())["models"]}


def alerts(items):
    return {name for name, item in items.items() if item["level"] == "alert"}


def test_sample_of_the_reference_population_does_not_alert(run_crisk, tmp_path, sample):
    code, items, report = monitor(run_crisk, tmp_path, sample[0], sample)
    assert report["declarations"] == ROWS
    assert code == 0, alerts(items)
    assert not alerts(items)
    assert max(i["psi"] for i in items.values()) < report["warn"]
    assert len(items) == len(json.loads((BUNDLE / "schema.json").read_text())["features"]) + \
        len(model_names())


def test_scaled_values_alert_on_their_features_only(run_crisk, tmp_path, sample):
    shifted = tmp_path / "scaled.csv"
    rewrite(sample[0], shifted,
            lambda r: {**r, "declared_value": str(float(r["declared_value"]) * 3)})
    code, items, _ = monitor(run_crisk, tmp_path, shifted, sample)
    assert code == ALERT_EXIT
    allowed = depending_on("declared_value") | model_names()
    assert "log_value" in alerts(items)
    assert alerts(items) <= allowed, alerts(items) - allowed


def test_replaced_category_alerts_with_its_unseen_share(run_crisk, tmp_path, sample):
    with open(sample[0], newline="") as f:
        origins = [r["origin"] for r in csv.DictReader(f)]
    common = max(set(origins), key=origins.count)
    shifted = tmp_path / "origin.csv"
    rewrite(sample[0], shifted,
            lambda r: {**r, "origin": "ZZ" if r["origin"] == common else r["origin"]})
    code, items, _ = monitor(run_crisk, tmp_path, shifted, sample)
    assert code == ALERT_EXIT
    assert "origin_code" in alerts(items)
    assert items["origin_code"]["unseen_now"] == pytest.approx(origins.count(common) / ROWS)
    assert items["origin_code"]["unseen_ref"] == 0
    allowed = depending_on("origin") | model_names()
    assert alerts(items) <= allowed, alerts(items) - allowed


def test_thresholds_on_the_command_line_decide_the_exit(run_crisk, tmp_path, sample):
    code, items, _ = monitor(run_crisk, tmp_path, sample[0], sample, "--warn", "1e-9",
                             "--alert", "1e-9")
    assert code == ALERT_EXIT
    assert alerts(items) == {n for n, i in items.items() if i["psi"] >= 1e-9}


def test_bundle_without_reference_fails_and_says_why(run_crisk, tmp_path, sample):
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    del manifest["reference"]
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    proc = run_crisk("monitor", "--bundle", bundle, "--input", sample[0], check=False)
    assert proc.returncode == 1
    assert "no reference distributions" in proc.stderr
    # Scoring does not need them.
    run_crisk("score", "--bundle", bundle, "--input", sample[0], "--output",
              tmp_path / "scores.csv")


def split(src, first, second, at):
    with open(src, newline="") as f:
        lines = f.read().splitlines(keepends=True)
    first.write_text("".join(lines[:1 + at]))
    second.write_text("".join(lines[:1] + lines[1 + at:]))


def test_state_carries_the_counts_between_runs(run_crisk, tmp_path, sample):
    a, b, state = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "state.json"
    split(sample[0], a, b, ROWS // 3)
    _, whole, _ = monitor(run_crisk, tmp_path, sample[0], sample)
    monitor(run_crisk, tmp_path, a, sample, "--state", state)
    _, resumed, report = monitor(run_crisk, tmp_path, b, sample, "--state", state)
    assert report["declarations"] == ROWS
    assert resumed == whole


def test_window_keeps_the_most_recent_declarations(run_crisk, tmp_path, sample):
    a, b, state = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "state.json"
    split(sample[0], a, b, ROWS // 2)
    _, b_alone, _ = monitor(run_crisk, tmp_path, b, sample)
    monitor(run_crisk, tmp_path, a, sample, "--state", state, "--window", str(ROWS // 2))
    _, last, report = monitor(run_crisk, tmp_path, b, sample, "--state", state)
    assert report["declarations"] == ROWS // 2
    assert last == b_alone


def test_state_of_another_bundle_is_refused(run_crisk, tmp_path, sample):
    state = tmp_path / "state.json"
    monitor(run_crisk, tmp_path, sample[0], sample, "--state", state)
    saved = json.loads(state.read_text())
    saved["bundle"] = "0" * 64
    state.write_text(json.dumps(saved))
    proc = run_crisk("monitor", "--bundle", BUNDLE, "--input", sample[0],
                     *events_options(sample), "--state", state, check=False)
    assert proc.returncode == 1
    assert "another bundle" in proc.stderr


def drop_score(ref):
    ref["items"] = [i for i in ref["items"] if i["kind"] != "score"]


def unknown_feature(ref):
    ref["items"][0]["name"] = "no_such_feature"


def shares_off(ref):
    ref["items"][0]["shares"][0] += 0.01


def edges_unsorted(ref):
    numeric = next(i for i in ref["items"] if i["type"] == "numeric" and len(i["edges"]) > 1)
    numeric["edges"][0], numeric["edges"][1] = numeric["edges"][1], numeric["edges"][0]


def wrong_type(ref):
    next(i for i in ref["items"] if i["type"] == "category")["type"] = "numeric"


@pytest.mark.parametrize("damage, message", [
    (drop_score, "no entry for score"), (unknown_feature, "has no feature"),
    (shares_off, "not 1"), (edges_unsorted, "above the one before"),
    (wrong_type, "is a category")])
def test_a_bad_reference_is_refused_naming_the_place(run_crisk, tmp_path, sample, damage,
                                                     message):
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    ref = json.loads((bundle / "reference.json").read_text())
    damage(ref)
    (bundle / "reference.json").write_text(json.dumps(ref))
    proc = run_crisk("monitor", "--bundle", bundle, "--input", sample[0], check=False)
    assert proc.returncode == 1
    assert "reference.json" in proc.stderr and message in proc.stderr, proc.stderr


def with_policy_monitor(tmp_path, monitor_object):
    """A copy of the example bundle whose policy has the "monitor" object given."""
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    policy = json.loads((bundle / "policy.json").read_text())
    policy["monitor"] = monitor_object
    (bundle / "policy.json").write_text(json.dumps(policy))
    return bundle


def test_policy_thresholds_rule_the_reference_and_yield_to_the_command_line(
        run_crisk, tmp_path, sample):
    bundle = with_policy_monitor(tmp_path, {"warn": 1e-9, "alert": 1e-9})
    code, items, report = monitor(run_crisk, tmp_path, sample[0], sample, bundle=bundle)
    assert (report["warn"], report["alert"]) == (1e-9, 1e-9)
    assert code == ALERT_EXIT
    assert alerts(items) == {n for n, i in items.items() if i["psi"] >= 1e-9}
    # The command line rules the policy.
    code, items, report = monitor(run_crisk, tmp_path, sample[0], sample, "--warn", "50",
                                  "--alert", "100", bundle=bundle)
    assert (report["warn"], report["alert"]) == (50, 100)
    assert code == 0 and not alerts(items)


@pytest.mark.parametrize("monitor_object, message", [
    ({"warn": 0.3, "alert": 0.2}, "monitor: expected 0 < warn"),
    ({"warn": 0.1}, "monitor: expected numbers"),
    ({"warn": 0.1, "alert": 0.2, "page": True}, "monitor: unknown key \"page\""),
    ([0.1, 0.2], "monitor: expected an object"),
])
def test_a_bad_policy_monitor_object_is_refused(run_crisk, tmp_path, sample, monitor_object,
                                                message):
    bundle = with_policy_monitor(tmp_path, monitor_object)
    proc = run_crisk("monitor", "--bundle", bundle, "--input", sample[0],
                     *events_options(sample), check=False)
    assert proc.returncode == 1
    assert "policy.json" in proc.stderr and message in proc.stderr, proc.stderr
