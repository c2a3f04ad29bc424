"""`crisk score --explain K` end to end, on the bundle test_score_cli builds at test time
(declarations generated there, the schema fitted by `crisk fit`, an XGBoost model trained
in Python).

The reasons are checked against an independent computation: xgboost's own pred_contribs
on the scoring features of the same rows (`crisk fit --features`), grouped onto
declaration fields here by the documented rule (a feature counts toward the fields it
derives from, split equally among several). Checked: the reason columns and their
"field=value (+c)" cells, values equal to the declarations', contributions equal to the
grouped xgboost ones, the order by |contribution|, and reasons + bias + rest == margin.
"""
import csv
import json
import re

import numpy as np
import xgboost as xgb

from test_score_cli import FEATURES, SCHEMA, WATCHED, bundle, read_matrix  # noqa: F401

K = 3


def feature_fields():
    """Returns, per schema feature, the distinct declaration fields it derives from,
    read from the schema's own definitions."""
    out = []
    for f in SCHEMA["features"]:
        if "keys" in f:
            names = [k if isinstance(k, str) else k["field"] for k in f["keys"]]
        elif f["op"] == "ratio":
            names = [f["num"], f["den"]]
        else:
            names = [f["field"]]
        out.append(list(dict.fromkeys(names)))
    return out


def grouped_contribs(booster, x):
    """Returns (per-row dicts field -> grouped contribution, bias, margin) from xgboost."""
    dm = xgb.DMatrix(x, feature_names=FEATURES)
    contribs = booster.predict(dm, pred_contribs=True)
    margin = booster.predict(dm, output_margin=True)
    sources = feature_fields()
    rows = []
    for c in contribs:
        g = {}
        for j, fields in enumerate(sources):
            for name in fields:
                g[name] = g.get(name, 0.0) + float(c[j]) / len(fields)
        rows.append(g)
    return rows, contribs[:, -1], margin


def expected_text(decl, field):
    v = decl[field]
    if v is None:
        return None
    if isinstance(v, float):
        return f"{v:.15g}"
    return str(v)


def test_explain_reasons_equal_grouped_xgboost_contributions(bundle, run_crisk):
    d = bundle["dir"]
    out = d / "explain.jsonl"
    run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "train.csv",
              "--output", out, "--explain", K, "--batch-rows", 1000)
    got = [json.loads(line) for line in out.read_text().splitlines()]
    _, ids, x, _ = read_matrix(d / "features.csv")
    assert [r["declaration_id"] for r in got] == ids
    groups, bias, margin = grouped_contribs(bundle["booster"], x)
    tol = 5e-5
    for rec, g, b, m, decl in zip(got, groups, bias, margin, bundle["train"]):
        reasons = rec["reasons"]
        nonzero = {f: v for f, v in g.items() if v != 0}
        assert len(reasons) == min(K, len(nonzero))
        total = rec["explain_bias"] + rec["explain_rest"]
        for k, reason in enumerate(reasons):
            field, c = reason["field"], reason["contribution"]
            assert abs(c - g[field]) <= tol, (rec["declaration_id"], field, c, g[field])
            assert reason["value"] == expected_text(decl, field)
            if k:
                assert abs(c) <= abs(reasons[k - 1]["contribution"])
            total += c
        # Every field left out ranks no higher than the last one kept (up to noise).
        kept = {r["field"] for r in reasons}
        if reasons:
            floor = abs(reasons[-1]["contribution"])
            assert all(abs(v) <= floor + tol for f, v in g.items() if f not in kept)
        assert abs(rec["explain_bias"] - b) <= 1e-5
        assert abs(rec["explain_rest"] - sum(v for f, v in g.items() if f not in kept)) <= tol
        assert abs(total - m) <= 1e-4 * (1 + abs(m))
        # Hits come with their rule descriptions.
        if decl["importer_id"] == WATCHED:
            assert {"id": "P-001", "description": "watch-listed importer"} \
                in rec["hit_descriptions"]
        else:
            assert rec["hit_descriptions"] == []


CELL = re.compile(r"^(\w+)=(.*) \(([+-][0-9.e+-]+)\)$")


def test_explain_csv_columns(bundle, run_crisk):
    d = bundle["dir"]
    run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.csv",
              "--output", d / "explain.csv", "--explain", K)
    run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.csv",
              "--output", d / "explain_test.jsonl", "--explain", K)
    with open(d / "explain.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0].keys()) == ["declaration_id", "fraud", "lane", "reason", "hits",
                                    "propensity", "hit_descriptions", "reason_1", "reason_2", "reason_3"]
    recs = [json.loads(line) for line in (d / "explain_test.jsonl").read_text().splitlines()]
    assert len(rows) == len(recs) == len(bundle["test"])
    for row, rec in zip(rows, recs):
        for k in range(K):
            cell = row[f"reason_{k + 1}"]
            if k >= len(rec["reasons"]):
                assert cell == ""
                continue
            want = rec["reasons"][k]
            m = CELL.match(cell)
            assert m, cell
            assert m.group(1) == want["field"]
            assert m.group(2) == (want["value"] if want["value"] is not None else "(missing)")
            c = float(m.group(3))
            assert abs(c - want["contribution"]) <= 5e-3 * abs(want["contribution"]) + 1e-9
        want_hits = "; ".join(f"{h['id']}: {h['description']}" for h in rec["hit_descriptions"])
        assert row["hit_descriptions"] == want_hits
        assert row["hits"] == ";".join(h["id"] for h in rec["hit_descriptions"])
    assert any(r["hit_descriptions"] for r in rows)
