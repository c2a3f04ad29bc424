"""Reason codes through the Python binding: crisk.Bundle.score(..., explain=K) against
`crisk score --explain K` (JSON Lines) on the same bundle and rows, and against
xgboost's own margin of the score model on the bundle's scoring features. The bundle is
built at test time by bundle_builder.py (schema fitted with crisk.Schema, XGBoost trained
on its training matrix); a few scoring rows have missing optional values and three are
rejected by the schema."""
import csv
import json
import re

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import crisk
import bundle_builder as bb

K = 3
MISSING = {2: "net_mass_kg", 9: "origin", 21: "hs_code", 40: "net_mass_kg"}


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    return bb.build(tmp_path_factory.mktemp("reasons"), train_rows=1200)


@pytest.fixture(scope="module")
def bundle(bundle_dir):
    return crisk.Bundle(bundle_dir)


@pytest.fixture(scope="module")
def rows():
    out = bb.scoring_rows(120, seed=13)
    for i, field in MISSING.items():
        out[i][field] = ""
    return out


def reason_frame(scores, k):
    """Returns the reasons of a scores frame as one list per declaration of (field,
    value, contribution) triples (a missing value as None), the slots past its reasons
    left out, checking on the way that those slots are empty (missing, missing, NaN)."""
    out = []
    for _, r in scores.iterrows():
        triples, ended = [], False
        for j in range(1, k + 1):
            field, value = r[f"reason_{j}_field"], r[f"reason_{j}_value"]
            if pd.isna(field):
                ended = True
                assert pd.isna(value)
                assert np.isnan(r[f"reason_{j}_contribution"])
                continue
            assert not ended, "a reason after an empty slot"
            triples.append((field, None if pd.isna(value) else value,
                            r[f"reason_{j}_contribution"]))
        out.append(triples)
    return out


def xgb_margin(bundle_dir, bundle, rows, index):
    """Returns xgboost's own margin of the score model (fraud) on the bundle's scoring
    features of rows[index]."""
    features = bundle.schema.features([rows[i] for i in index])[bb.FRAUD_FEATURES]
    booster = xgb.Booster(model_file=str(bundle_dir / "fraud_xgb.json"))
    return booster.predict(xgb.DMatrix(features.to_numpy(), feature_names=bb.FRAUD_FEATURES),
                           output_margin=True)


def test_reasons_equal_crisk_score_explain(bundle, bundle_dir, rows, tmp_path, run_crisk):
    """Field names, values (None for null) and contributions, bias and rest bit for bit
    (the CLI writes %.9g: exact floats) equal the CLI's, row for row; the same rows are
    rejected; the columns are those ScoreResult documents."""
    with open(tmp_path / "in.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=bundle.schema.field_names, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    run_crisk("score", "--bundle", bundle_dir, "--input", tmp_path / "in.csv",
              "--output", tmp_path / "out.jsonl", "--rejects", tmp_path / "rej.csv",
              "--explain", K, "--threads", 1)
    cli = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    scores, rejects = bundle.score(rows, threads=1, explain=K)
    assert list(scores.columns) == (
        ["declaration_id", "fraud", "revenue", "lane", "reason", "reason_kind", "hits",
         "propensity"]
        + [f"reason_{j}_{part}" for j in range(1, K + 1)
           for part in ("field", "value", "contribution")]
        + ["explain_bias", "explain_rest"])
    rej = pd.read_csv(tmp_path / "rej.csv", dtype=str, keep_default_na=False)
    assert [int(x) - 2 for x in rej["line"]] == rejects["row"].tolist() == [5, 17, 33]
    assert [r["declaration_id"] for r in cli] == scores["declaration_id"].tolist()
    mine = reason_frame(scores, K)
    assert sum(len(t) for t in mine) > 0
    for rec, triples, (_, row) in zip(cli, mine, scores.iterrows()):
        want = [(r["field"], r["value"], np.float32(r["contribution"]))
                for r in rec["reasons"]]
        assert [(f, v) for f, v, _ in triples] == [(f, v) for f, v, _ in want]
        got_c = np.array([c for _, _, c in triples], dtype=np.float32)
        np.testing.assert_array_equal(got_c, np.array([c for _, _, c in want],
                                                      dtype=np.float32))
        for name in ("explain_bias", "explain_rest"):
            assert np.float32(rec[name]) == row[name], (rec["declaration_id"], name)
    assert scores["reason_1_contribution"].dtype == np.float32


def test_reasons_bias_and_rest_sum_to_xgboosts_margin(bundle, bundle_dir, rows):
    """Per declaration, the reasons' contributions + bias + rest == xgboost's margin of
    the score model; reasons are ranked by |contribution| and their values are the
    declaration's (text as given, HS codes as digits, missing when missing)."""
    scores, _ = bundle.score(rows, threads=1, explain=K)
    margin = xgb_margin(bundle_dir, bundle, rows, scores.index)
    contrib = scores[[f"reason_{j}_contribution" for j in range(1, K + 1)]].to_numpy()
    total = (np.nansum(contrib.astype(np.float64), axis=1)
             + scores["explain_bias"].to_numpy() + scores["explain_rest"].to_numpy())
    np.testing.assert_allclose(total, margin, rtol=1e-5, atol=1e-4)
    for (i, r), triples in zip(scores.iterrows(), reason_frame(scores, K)):
        assert len(triples) == K   # every declaration has more than K contributing fields
        mags = [abs(c) for _, _, c in triples]
        assert mags == sorted(mags, reverse=True)
        for field, value, _ in triples:
            if field in ("origin", "hs_code", "importer_id", "declarant_id"):
                want = re.sub(r"\D", "", rows[i][field]) if field == "hs_code" \
                    else rows[i][field]
                assert value == (want or None), (i, field)


def test_k_larger_than_the_fields(bundle, bundle_dir, rows):
    """K above the number of schema fields: every contributing field is a reason, the
    slots past them are empty, rest is 0, contributions + bias == margin; the first K
    reasons of a smaller K are the same, and its rest sums the others; a field with a
    missing value can be a reason (value None)."""
    big = len(bundle.schema.field_names) + 3
    wide, _ = bundle.score(rows, threads=1, explain=big)
    narrow, _ = bundle.score(rows, threads=1, explain=K)
    assert sum(c.endswith("_field") for c in wide.columns) == big
    all_reasons = reason_frame(wide, big)
    assert all(len(t) < len(bundle.schema.field_names) for t in all_reasons)
    np.testing.assert_array_equal(wide["explain_rest"].to_numpy(), 0)
    np.testing.assert_array_equal(wide["explain_bias"].to_numpy(),
                                  narrow["explain_bias"].to_numpy())
    margin = xgb_margin(bundle_dir, bundle, rows, wide.index)
    total = np.array([sum(float(c) for _, _, c in t) for t in all_reasons])
    np.testing.assert_allclose(total + wide["explain_bias"].to_numpy(), margin,
                               rtol=1e-5, atol=1e-4)
    for t_all, t_k, rest in zip(all_reasons, reason_frame(narrow, K),
                                narrow["explain_rest"].to_numpy()):
        assert t_all[:K] == t_k
        assert abs(sum(float(c) for _, _, c in t_all[K:]) - rest) <= 1e-5
    missing_reasons = {(i, f) for i, t in zip(wide.index, all_reasons)
                       for f, v, _ in t if v is None}
    assert missing_reasons and missing_reasons <= set(MISSING.items())


def test_k_zero_and_rejected_rows_have_no_reasons(bundle, bundle_dir, rows):
    """explain=0 (the default) adds no column; rejected rows have no reasons (not in the
    rejects, empty in combined()); an all-rejected or empty input gives the columns and
    no rows; a negative K is refused; stream mode explains alike; score_partition passes
    explain on."""
    plain = bundle.score(rows, threads=1)
    zero = bundle.score(rows, threads=1, explain=0)
    pd.testing.assert_frame_equal(plain.scores, zero.scores)
    assert list(plain.scores.columns) == ["declaration_id", "fraud", "revenue", "lane",
                                          "reason", "reason_kind", "hits", "propensity"]
    result = bundle.score(rows, threads=1, explain=K)
    assert list(result.rejects.columns) == ["row", "reason"]
    combined = result.combined()
    for r in result.rejects["row"]:
        assert pd.isna(combined.iloc[r]["reason_1_field"])
        assert np.isnan(combined.iloc[r]["explain_bias"])
    bad = [rows[5], rows[17], rows[33]]
    none = bundle.score(bad, explain=K)
    assert len(none.scores) == 0 and len(none.rejects) == 3
    assert "reason_3_contribution" in none.scores.columns
    assert len(bundle.score([], explain=K).scores) == 0
    with pytest.raises(ValueError):
        bundle.score(rows, explain=-1)
    streamed = bundle.score(rows, threads=1, explain=K, state=bundle.stream()).scores
    cols = [c for c in result.scores.columns if c.startswith(("reason_", "explain_"))
            and c != "reason_kind"]
    pd.testing.assert_frame_equal(streamed[cols], result.scores[cols])
    part = crisk.score_partition(pd.DataFrame(rows), bundle_dir, explain=K)
    assert part["reason_1_field"].notna().sum() == len(result.scores)


def test_explain_needs_a_score_model(bundle_dir, rows, tmp_path):
    """A policy without a score_model cannot explain: CriskError INVALID_ARGUMENT, as the
    C API documents; without explain it scores."""
    import shutil
    copy = tmp_path / "bundle"
    shutil.copytree(bundle_dir, copy)
    policy = dict(bb.POLICY)
    del policy["score_model"]
    policy.pop("thresholds")
    policy.pop("budget")
    (copy / "policy.json").write_text(json.dumps(policy))
    b = crisk.Bundle(copy)
    assert len(b.score(rows[:5]).scores) == 5
    with pytest.raises(crisk.CriskError) as e:
        b.score(rows[:5], explain=2)
    assert e.value.name == "CRISK_E_INVALID_ARGUMENT"
