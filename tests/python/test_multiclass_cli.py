"""Multi-class models through the command line: `crisk score` writes every class of a
multi-class model, `crisk predict` every class of a lone model, `crisk evaluate` refuses a
model without one score, and the lanes stay the policy's score model's.

The bundle is built here: declarations from models/generate.py, the schema fitted by
`crisk fit` (which also writes the training matrix and the scoring features), a binary
XGBoost fraud model (the policy's score model) and a 4-class XGBoost model of the fraud
pattern (none, undervaluation, misclassification, origin) trained with xgboost's
scikit-learn API. Every class column is checked against xgboost's own predict_proba on the
scoring features of the same rows.
"""
import csv
import json
import re

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import bundle_builder

KINDS, KIND_FEATURES = bundle_builder.KINDS, bundle_builder.KIND_FEATURES
N_ROWS = 1500


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_features(path):
    """Reads a `crisk fit` matrix into a DataFrame of float32 features (NaN when empty),
    indexed by declaration id; a label column, if any, is dropped."""
    frame = pd.read_csv(path, dtype={"declaration_id": str}, keep_default_na=False,
                        na_values=[""]).set_index("declaration_id")
    features = [f["name"] for f in bundle_builder.SCHEMA["features"]]
    return frame[features].astype(np.float32)


def write_bundle(directory, models, policy):
    """Writes manifest, profiles and policy next to the models and schema already there."""
    (directory / "manifest.json").write_text(json.dumps({
        "format": "crisk-bundle", "version": 1, "schema": "schema.json", "models": models,
        "profiles": "profiles.json", "policy": "policy.json"}))
    (directory / "profiles.json").write_text(json.dumps(bundle_builder.PROFILES))
    (directory / "policy.json").write_text(json.dumps(policy))


@pytest.fixture(scope="module")
def setup(tmp_path_factory, run_crisk):
    d = tmp_path_factory.mktemp("multiclass_cli")
    rows = bundle_builder.declarations(N_ROWS, 5)
    with open(d / "decls.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    (d / "schema.json").write_text(json.dumps(bundle_builder.SCHEMA))
    both, fraud_only = d / "both", d / "fraud_only"
    both.mkdir()
    fraud_only.mkdir()
    run_crisk("fit", "--schema", d / "schema.json", "--input", d / "decls.csv", "--label",
              "fraud", "--output", both / "schema.json", "--matrix", d / "matrix.csv",
              "--features", d / "features.csv")
    (fraud_only / "schema.json").write_bytes((both / "schema.json").read_bytes())
    train = read_features(d / "matrix.csv")
    fraud = np.array([int(r["fraud"]) for r in rows])
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3,
                         "nthread": 1, "seed": 0},
                        xgb.DMatrix(train[bundle_builder.FRAUD_FEATURES], label=fraud,
                                    nthread=1), num_boost_round=15)
    clf = bundle_builder.train_kind_classifier(train, [r["fraud_type"] for r in rows])
    for b in (both, fraud_only):
        booster.save_model(str(b / "fraud_xgb.json"))
    clf.get_booster().save_model(str(both / "kind_xgb.json"))
    fraud_entry = {"name": "fraud", "file": "fraud_xgb.json",
                   "features": bundle_builder.FRAUD_FEATURES}
    kind_entry = {"name": "kind", "file": "kind_xgb.json", "features": KIND_FEATURES}
    write_bundle(both, [fraud_entry, kind_entry], bundle_builder.POLICY)
    write_bundle(fraud_only, [fraud_entry], bundle_builder.POLICY)
    return {"dir": d, "both": both, "fraud_only": fraud_only, "clf": clf,
            "features": read_features(d / "features.csv")}


def test_score_writes_every_class_as_predict_proba(setup, run_crisk):
    d = setup["dir"]
    out = d / "scores.csv"
    proc = run_crisk("score", "--bundle", setup["both"], "--input", d / "decls.csv",
                     "--output", out, "--batch-rows", 400)
    assert f"rows read: {N_ROWS}, scored: {N_ROWS}, rejected: 0" in proc.stderr
    got = read_csv(out)
    columns = [f"kind:score_{k}" for k in range(4)]
    assert list(got[0]) == ["declaration_id", "fraud", *columns, "lane", "reason", "hits",
                            "propensity"]
    x = setup["features"].loc[[r["declaration_id"] for r in got]]
    want = setup["clf"].predict_proba(x[KIND_FEATURES])
    have = np.array([[float(r[c]) for c in columns] for r in got], dtype=np.float32)
    assert have.shape == want.shape == (N_ROWS, 4)
    # %.9g gives the float32 back exactly; crisk sums leaves and takes the softmax as
    # xgboost does.
    np.testing.assert_array_equal(have, want)
    assert not np.allclose(have[:, 1:], 0)  # the columns are not all the first class
    np.testing.assert_allclose(have.sum(axis=1), 1, rtol=1e-5)


def test_lanes_do_not_depend_on_the_multiclass_model(setup, run_crisk):
    """Lanes, reasons and hits come from the fraud score model and the profiles: adding the
    4-class model to the bundle changes none of them, nor the fraud column."""
    d = setup["dir"]
    args = ["--input", d / "decls.csv", "--batch-rows", 500]
    run_crisk("score", "--bundle", setup["both"], "--output", d / "both.csv", *args)
    run_crisk("score", "--bundle", setup["fraud_only"], "--output", d / "alone.csv", *args)
    both, alone = read_csv(d / "both.csv"), read_csv(d / "alone.csv")
    keep = ["declaration_id", "fraud", "lane", "reason", "hits", "propensity"]
    assert [{k: r[k] for k in keep} for r in both] == alone
    assert len({r["lane"] for r in alone}) > 1


def test_jsonl_and_audit_leaves_hold_an_array_per_class(setup, run_crisk, tmp_path):
    d = setup["dir"]
    head = "\n".join((d / "decls.csv").read_text().splitlines()[:21]) + "\n"
    (tmp_path / "head.csv").write_text(head)
    run_crisk("audit", "keygen", "--private", tmp_path / "k.pem", "--public",
              tmp_path / "k.pub")
    # 20 rows: too few for the 2% budget as a batch, scored in stream mode (--state).
    run_crisk("score", "--bundle", setup["both"], "--input", tmp_path / "head.csv",
              "--output", tmp_path / "s.jsonl", "--audit", tmp_path / "log", "--audit-key",
              tmp_path / "k.pem", "--state", tmp_path / "a.state")
    run_crisk("score", "--bundle", setup["both"], "--input", tmp_path / "head.csv",
              "--output", tmp_path / "s.csv", "--state", tmp_path / "b.state")
    records = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    table = read_csv(tmp_path / "s.csv")
    assert len(records) == len(table) == 20
    for rec, row in zip(records, table):
        assert isinstance(rec["fraud"], float) and rec["fraud"] == float(row["fraud"])
        assert rec["kind"] == [float(row[f"kind:score_{k}"]) for k in range(4)]
    run_crisk("audit", "verify", tmp_path / "log", "--pubkey", tmp_path / "k.pub")
    for i, rec in enumerate(records):
        proof = run_crisk("audit", "prove", tmp_path / "log", "--index", i).stdout
        leaf = json.loads(bytes.fromhex(re.search(r"^data (\w+)$", proof, re.M).group(1)))
        assert leaf["id"] == rec["declaration_id"]
        assert leaf["scores"] == {"fraud": rec["fraud"], "kind": rec["kind"]}


def test_predict_writes_every_class_and_margin(setup, run_crisk, tmp_path):
    x = setup["features"][KIND_FEATURES].iloc[:300]
    x.to_csv(tmp_path / "x.csv", index=False, na_rep="")
    model = setup["both"] / "kind_xgb.json"
    run_crisk("predict", "--model", model, "--input", tmp_path / "x.csv", "--output",
              tmp_path / "p.csv")
    got = read_csv(tmp_path / "p.csv")
    assert list(got[0]) == [f"class_{k}" for k in range(4)]
    have = np.array([[float(v) for v in r.values()] for r in got], dtype=np.float32)
    np.testing.assert_array_equal(have, setup["clf"].predict_proba(x))
    run_crisk("predict", "--model", model, "--input", tmp_path / "x.csv", "--margin",
              "--output", tmp_path / "m.csv")
    margin = np.array([[float(v) for v in r.values()] for r in read_csv(tmp_path / "m.csv")],
                      dtype=np.float32)
    want = setup["clf"].get_booster().predict(xgb.DMatrix(x), output_margin=True)
    np.testing.assert_array_equal(margin, want)


def test_evaluate_refuses_a_multiclass_model(setup, run_crisk):
    d = setup["dir"]
    args = ["evaluate", "--bundle", setup["both"], "--input", d / "decls.csv", "--label",
            "fraud"]
    proc = run_crisk(*args, "--model", "kind", check=False)
    assert proc.returncode == 2
    assert 'model "kind" has 4 outputs' in proc.stderr and "--model" in proc.stderr
    assert proc.stdout == ""
    # The default is the policy's score model, which has one output.
    assert "model: fraud" in run_crisk(*args).stdout


def test_a_multiclass_score_model_is_refused_at_load(setup, run_crisk, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in ("schema.json", "fraud_xgb.json", "kind_xgb.json", "manifest.json",
              "profiles.json"):
        (bad / f).write_bytes((setup["both"] / f).read_bytes())
    (bad / "policy.json").write_text(json.dumps({**bundle_builder.POLICY,
                                                 "score_model": "kind"}))
    proc = run_crisk("score", "--bundle", bad, "--input", setup["dir"] / "decls.csv",
                     check=False)
    assert proc.returncode == 1 and "4 outputs" in proc.stderr, proc.stderr


def test_multi_softmax_is_one_class_index_column(setup, run_crisk, tmp_path):
    """multi:softmax gives one value, the class index: one column equal to xgboost's
    predict, and evaluate refuses it (a class index does not rank declarations)."""
    d, train = setup["dir"], read_features(setup["dir"] / "matrix.csv")
    rows = read_csv(d / "decls.csv")
    kind = np.array([KINDS.index(r["fraud_type"]) for r in rows])
    booster = xgb.train({"objective": "multi:softmax", "num_class": 4, "max_depth": 3,
                         "nthread": 1, "seed": 0},
                        xgb.DMatrix(train[KIND_FEATURES], label=kind, nthread=1),
                        num_boost_round=8)
    b = tmp_path / "softmax"
    b.mkdir()
    for f in ("schema.json", "fraud_xgb.json"):
        (b / f).write_bytes((setup["both"] / f).read_bytes())
    booster.save_model(str(b / "pick_xgb.json"))
    write_bundle(b, [{"name": "fraud", "file": "fraud_xgb.json",
                      "features": bundle_builder.FRAUD_FEATURES},
                     {"name": "pick", "file": "pick_xgb.json", "features": KIND_FEATURES}],
                 bundle_builder.POLICY)
    run_crisk("score", "--bundle", b, "--input", d / "decls.csv", "--output",
              tmp_path / "s.csv")
    got = read_csv(tmp_path / "s.csv")
    assert list(got[0])[:3] == ["declaration_id", "fraud", "pick"]
    x = setup["features"].loc[[r["declaration_id"] for r in got]]
    want = booster.predict(xgb.DMatrix(x[KIND_FEATURES]))
    np.testing.assert_array_equal([float(r["pick"]) for r in got], want)
    proc = run_crisk("evaluate", "--bundle", b, "--input", d / "decls.csv", "--label",
                     "fraud", "--model", "pick", check=False)
    assert proc.returncode == 2 and "class index of 4 classes" in proc.stderr
