"""Reason codes when the policy's score model is a logistic model: the example bundle
(models/example) with its score model switched to its logistic fraud model, scored with
its declarations and sensor events. crisk.Bundle.score(..., explain=K) equals `crisk
score --explain K` bit for bit, and each declaration's reasons + bias + rest equal the
logistic model's own margin on the bundle's features (crisk.Model on the model file)."""
import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import crisk

K = 3
EXAMPLE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).parents[2])) / "models" / "example"


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("logistic_bundle") / "bundle"
    shutil.copytree(EXAMPLE, out)
    policy = json.loads((out / "policy.json").read_text())
    policy["score_model"] = "fraud_logistic"
    (out / "policy.json").write_text(json.dumps(policy))
    return out


@pytest.fixture(scope="module")
def rows():
    with open(EXAMPLE / "declarations.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_logistic_reasons_match_the_cli_and_the_margin(bundle_dir, rows, tmp_path, run_crisk):
    run_crisk("score", "--bundle", bundle_dir, "--input", EXAMPLE / "declarations.csv",
              "--events", EXAMPLE / "events.jsonl", "--device-keys",
              EXAMPLE / "device_keys.json", "--output", tmp_path / "out.jsonl",
              "--explain", K, "--threads", 1)
    cli = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    bundle = crisk.Bundle(bundle_dir)
    scores, rejects = bundle.score(rows, threads=1, explain=K,
                                   events=EXAMPLE / "events.jsonl",
                                   device_keys=EXAMPLE / "device_keys.json")
    assert len(rejects) == 0 and len(scores) == len(rows) == len(cli)
    assert [r["declaration_id"] for r in cli] == scores["declaration_id"].tolist()

    contrib = np.zeros(len(scores))
    for i, (rec, (_, row)) in enumerate(zip(cli, scores.iterrows())):
        assert len(rec["reasons"]) == K, rec["declaration_id"]
        for j, want in enumerate(rec["reasons"], start=1):
            assert row[f"reason_{j}_field"] == want["field"]
            assert np.float32(want["contribution"]) == row[f"reason_{j}_contribution"]
            contrib[i] += float(row[f"reason_{j}_contribution"])
        for name in ("explain_bias", "explain_rest"):
            assert np.float32(rec[name]) == row[name], (rec["declaration_id"], name)
        mags = [abs(r["contribution"]) for r in rec["reasons"]]
        assert mags == sorted(mags, reverse=True)

    # The logistic model's own margin on the same features (events included).
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    entry = next(m for m in manifest["models"] if m["name"] == "fraud_logistic")
    batch_features = bundle.schema.features(rows, events=EXAMPLE / "events.jsonl",
                                            device_keys=EXAMPLE / "device_keys.json")
    x = batch_features[entry["features"]].to_numpy(dtype=np.float32)
    margin = crisk.Model(bundle_dir / entry["file"]).predict(x, output="margin")
    total = contrib + scores["explain_bias"].to_numpy() + scores["explain_rest"].to_numpy()
    np.testing.assert_allclose(total, margin, rtol=1e-5, atol=1e-5)
    # Not vacuous: the reasons carry most of the margin's spread across declarations.
    assert np.std(contrib) > 0.1 * np.std(margin)
