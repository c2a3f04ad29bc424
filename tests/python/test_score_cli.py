"""`crisk fit`, `crisk score` and `crisk evaluate` end to end, on a bundle the test builds:
declarations generated here, the schema fitted by `crisk fit`, an XGBoost model trained in
Python on the fitted matrix, then profiles, policy and manifest written by hand.

Checked against independent computations: scores equal xgboost's own predictions on the
scoring features of the same rows (`crisk fit --features`, built with the full tables);
CSV and JSON Lines inputs give identical outputs; a file with bad rows loses none; the
evaluate table equals scikit-learn's roc_auc_score and numpy's precision/recall/revenue at
the top n%.
"""
import csv
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

N_TRAIN = 3000
N_TEST = 1500

SCHEMA = {
    "format": "crisk-schema", "version": 1,
    "id_field": "declaration_id", "date_field": "declaration_date", "max_field_bytes": 64,
    "fields": [
        {"name": "declaration_id", "type": "string", "required": True},
        {"name": "declaration_date", "type": "date", "required": True},
        {"name": "hs_code", "type": "hs_code"},
        {"name": "origin", "type": "string"},
        {"name": "importer_id", "type": "string"},
        {"name": "declared_value", "type": "number"},
        {"name": "net_mass_kg", "type": "number"},
        {"name": "items", "type": "number"},
    ],
    "features": [
        {"name": "declared_value", "op": "number", "field": "declared_value"},
        {"name": "log_value", "op": "log1p", "field": "declared_value"},
        {"name": "unit_value", "op": "ratio", "num": "declared_value", "den": "net_mass_kg"},
        {"name": "month", "op": "date_part", "field": "declaration_date", "part": "month"},
        {"name": "hs2", "op": "hs_prefix", "field": "hs_code", "digits": 2},
        {"name": "origin_code", "op": "category", "field": "origin", "unknown": "missing"},
        {"name": "importer_rate", "op": "risk_rate", "keys": ["importer_id"], "smoothing": 20},
        {"name": "importer_count", "op": "risk_count", "keys": ["importer_id"]},
        {"name": "hs6_origin_rate", "op": "risk_rate",
         "keys": [{"field": "hs_code", "digits": 6}, "origin"]},
    ],
}
FEATURES = [f["name"] for f in SCHEMA["features"]]
FIELDS = [f["name"] for f in SCHEMA["fields"]]
WATCHED = "IMP007"


def declarations(rng, n, start):
    """Returns n synthetic labelled declarations (dicts; None = missing) whose fraud
    depends on the importer, the origin and undervaluation."""
    importers = [f"IMP{i:03d}" for i in range(60)]
    importer_risk = rng.beta(1, 8, len(importers))
    origins = ["CN", "KR", "DE", "US", "VN", "IN"]
    origin_risk = dict(zip(origins, [0.10, 0.02, 0.01, 0.02, 0.08, 0.05]))
    hs_codes = ["851712", "610910", "870323", "300490", "940360", "392690"]
    rows = []
    for i in range(n):
        imp = int(rng.integers(len(importers)))
        origin = origins[int(rng.integers(len(origins)))]
        mass = float(np.round(rng.lognormal(4, 1), 2))
        unit = float(rng.lognormal(3, 0.5))
        p = importer_risk[imp] + origin_risk[origin]
        fraud = int(rng.random() < p)
        if fraud and rng.random() < 0.6:
            unit *= 0.3  # undervaluation
        month = int(rng.integers(1, 13))
        row = {
            "declaration_id": f"D{start + i:06d}",
            "declaration_date": f"2025-{month:02d}-{int(rng.integers(1, 29)):02d}",
            "hs_code": hs_codes[int(rng.integers(len(hs_codes)))],
            "origin": origin,
            "importer_id": importers[imp],
            "declared_value": float(np.round(unit * mass, 2)),
            "net_mass_kg": mass,
            "items": int(rng.integers(1, 50)),
            "fraud": fraud,
            "revenue": float(np.round(rng.lognormal(6, 1), 2)) if fraud else 0.0,
        }
        for key in ("origin", "net_mass_kg", "hs_code"):
            if rng.random() < 0.03:
                row[key] = None
        rows.append(row)
    return rows


def write_csv(path, rows, columns):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r[c] for c in columns])


def write_jsonl(path, rows, columns):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps({c: r.get(c) for c in columns}) + "\n")


def read_matrix(path):
    """Reads a `crisk fit` matrix: ids, features (NaN for empty cells), and the rest."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[0] == "declaration_id"
    assert header[1:1 + len(FEATURES)] == FEATURES
    ids = [r[0] for r in rows[1:]]
    x = np.array([[float(v) if v != "" else np.nan for v in r[1:1 + len(FEATURES)]]
                  for r in rows[1:]], dtype=np.float32)
    rest = [r[1 + len(FEATURES):] for r in rows[1:]]
    return header, ids, x, rest


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, run_crisk):
    """Builds the bundle; returns a dict of paths, the booster and the generated rows."""
    d = tmp_path_factory.mktemp("score_cli")
    rng = np.random.default_rng(20261127)
    train = declarations(rng, N_TRAIN, 0)
    test = declarations(rng, N_TEST, N_TRAIN)
    columns = FIELDS + ["fraud", "revenue"]
    write_csv(d / "train.csv", train, columns)
    write_csv(d / "test.csv", test, columns)
    write_jsonl(d / "test.jsonl", test, columns)
    (d / "schema.json").write_text(json.dumps(SCHEMA))
    b = d / "bundle"
    b.mkdir()
    proc = run_crisk("fit", "--schema", d / "schema.json", "--input", d / "train.csv",
                     "--label", "fraud", "--output", b / "schema.json",
                     "--matrix", d / "matrix.csv", "--features", d / "features.csv")
    assert f"rows read: {N_TRAIN}, fitted: {N_TRAIN}, rejected: 0" in proc.stderr
    header, ids, x, rest = read_matrix(d / "matrix.csv")
    assert header[-1] == "fraud" and len(ids) == N_TRAIN
    y = np.array([float(r[0]) for r in rest])
    assert np.array_equal(y, [r["fraud"] for r in train])
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3,
                         "base_score": 0.5, "nthread": 1},
                        xgb.DMatrix(x, label=y, feature_names=FEATURES), num_boost_round=25)
    booster.save_model(str(b / "fraud_xgb.json"))
    (b / "manifest.json").write_text(json.dumps({
        "format": "crisk-bundle", "version": 1, "schema": "schema.json",
        "models": [{"name": "fraud", "file": "fraud_xgb.json", "features": FEATURES}],
        "profiles": "profiles.json", "policy": "policy.json"}))
    (b / "profiles.json").write_text(json.dumps({
        "format": "crisk-profiles", "version": 1,
        "watchlists": {"importers": [WATCHED]},
        "rules": [{"id": "P-001", "description": "watch-listed importer", "lane": "red",
                   "mandatory": True, "active": {"from": "2020-01-01", "to": "2030-12-31"},
                   "when": {"field": "importer_id", "watchlist": "importers"}}]}))
    (b / "policy.json").write_text(json.dumps({
        "format": "crisk-policy", "version": 1,
        "lanes": ["red", "yellow", "blue", "green"], "default_lane": "green",
        "score_model": "fraud",
        "thresholds": [{"lane": "red", "min_score": 0.9}, {"lane": "yellow", "min_score": 0.6}],
        "budget": [{"lane": "red", "share": 0.02}, {"lane": "yellow", "share": 0.05}],
        "stream": {"window": 500},
        "random": {"lane": "yellow", "rate": 0.01, "seed": 20261127}}))
    return {"dir": d, "bundle": b, "booster": booster, "train": train, "test": test}


def read_scores_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_scores_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_scores_equal_xgboost_on_the_scoring_features(bundle, run_crisk):
    """Scoring the training rows gives xgboost's predictions on the features that
    `crisk fit --features` built for the same rows with the full tables."""
    d = bundle["dir"]
    out = d / "train_scores.csv"
    proc = run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "train.csv",
                     "--output", out, "--batch-rows", 700)
    assert f"rows read: {N_TRAIN}, scored: {N_TRAIN}, rejected: 0" in proc.stderr
    got = read_scores_csv(out)
    assert list(got[0].keys()) == ["declaration_id", "fraud", "lane", "reason", "hits",
                                  "propensity"]
    _, ids, x, rest = read_matrix(d / "features.csv")
    assert rest[0] == []  # the scoring features carry no label column
    assert [r["declaration_id"] for r in got] == ids
    want = bundle["booster"].predict(xgb.DMatrix(x, feature_names=FEATURES))
    scores = np.array([float(r["fraud"]) for r in got], dtype=np.float32)
    # %.9g gives the float32 back exactly, and crisk sums leaves as xgboost does.
    np.testing.assert_array_equal(scores, want)
    # The scoring features are not the out-of-fold training matrix.
    _, _, oof, _ = read_matrix(d / "matrix.csv")
    j = FEATURES.index("importer_rate")
    assert not np.allclose(oof[:, j], x[:, j])
    # The watch-listed importer's declarations are red through the mandatory profile.
    for row, decl in zip(got, bundle["train"]):
        if decl["importer_id"] == WATCHED:
            assert row["lane"] == "red" and "P-001" in row["hits"].split(";")
            assert "P-001" in row["reason"]


def test_timings_and_score_text(bundle, run_crisk):
    """`--timings` adds one line of wall and one of CPU stage times to stderr and changes
    nothing else; every score is written as C's "%.9g" of the float32 (Python's own
    correctly rounded formatting is the reference for the command's formatter)."""
    d = bundle["dir"]
    plain, timed = d / "plain.csv", d / "timed.csv"
    run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.csv",
              "--output", plain, "--batch-rows", 400)
    proc = run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.csv",
                     "--output", timed, "--batch-rows", 400, "--timings")
    assert timed.read_bytes() == plain.read_bytes()
    for clock in ("wall", "cpu"):
        m = re.search(rf"timings \({clock} s\): read ([\d.]+), features ([\d.]+), models "
                      r"([\d.]+), profiles ([\d.]+), lanes ([\d.]+), output ([\d.]+)",
                      proc.stderr)
        assert m, proc.stderr
        assert all(float(v) >= 0 for v in m.groups())
    texts = [r["fraud"] for r in read_scores_csv(plain)]
    assert len(texts) == N_TEST
    assert texts == ["%.9g" % float(np.float32(t)) for t in texts]


def test_csv_and_jsonl_inputs_give_identical_output(bundle, run_crisk):
    d = bundle["dir"]
    run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.csv",
              "--output", d / "from_csv.jsonl")
    run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.jsonl",
              "--output", d / "from_jsonl.jsonl")
    a = read_scores_jsonl(d / "from_csv.jsonl")
    b = read_scores_jsonl(d / "from_jsonl.jsonl")
    assert len(a) == N_TEST
    assert a == b
    # The same records as CSV, on stdout, from stdin.
    with open(d / "test.jsonl") as f:
        proc = run_crisk("score", "--bundle", bundle["bundle"], "--input", "-",
                         "--input-format", "jsonl", input=f.read())
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["declaration_id"] for r in rows] == [r["declaration_id"] for r in a]
    assert [float(r["fraud"]) for r in rows] == [r["fraud"] for r in a]
    assert [r["lane"] for r in rows] == [r["lane"] for r in a]
    assert all(isinstance(r["hits"], list) for r in a)


def test_ids_that_need_quoting_round_trip(bundle, run_crisk):
    """Declaration ids with commas, quotes and spaces at every place (quoted on output
    only when RFC 4180 needs it) read back as the ids given, in the order given, with the
    scores of the same rows under plain ids. (Line breaks are no part of a field: the
    reader refuses them, docs/schema.md.)"""
    d = bundle["dir"]
    rng = np.random.default_rng(7)
    rows = [dict(r) for r in bundle["test"][:400]]
    alphabet = list('AB,"  X')
    for i, r in enumerate(rows):
        r["declaration_id"] = "".join(rng.choice(alphabet, size=1 + i % 23)).strip() or "Z"
    columns = FIELDS + ["fraud", "revenue"]
    write_csv(d / "quoted_ids.csv", rows, columns)
    run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "quoted_ids.csv",
              "--output", d / "quoted_ids_out.csv")
    run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.csv",
              "--output", d / "plain_ids_out.csv")
    got = read_scores_csv(d / "quoted_ids_out.csv")
    plain = read_scores_csv(d / "plain_ids_out.csv")[:400]
    assert [r["declaration_id"] for r in got] == [r["declaration_id"] for r in rows]
    assert [r["fraud"] for r in got] == [r["fraud"] for r in plain]


def test_bad_rows_are_rejected_never_lost(bundle, run_crisk):
    d = bundle["dir"]
    lines = (d / "test.csv").read_text().splitlines()
    header, body = lines[0], lines[1:201]
    bad = {
        5: ("D9,2025-02-30,851712,CN,IMP001,10,1,1,0,0", "calendar date"),
        17: ("D9,2025-01-03,851712,CN,IMP001,ten,1,1,0,0", "not a number"),
        40: ("D9,2025-01-03,851712,CN", "fields, but the header has"),
        41: (",2025-01-03,851712,CN,IMP001,10,1,1,0,0", "missing"),
        90: ("D9,2025-01-03,85x,CN,IMP001,10,1,1,0,0", "HS code"),
        150: ('D9,2025-01-03,851712,"C"N,IMP001,10,1,1,0,0', "closing quote"),
    }
    out_lines = [header]
    expected = {}
    for i, line in enumerate(body):
        if i in bad:
            out_lines.append(bad[i][0])
            expected[len(out_lines)] = bad[i][1]  # 1-based line number in the file
        out_lines.append(line)
    (d / "bad.csv").write_text("\n".join(out_lines) + "\n")
    rejects = d / "bad_rejects.csv"
    proc = run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "bad.csv",
                     "--output", d / "bad_scores.csv", "--rejects", rejects)
    assert proc.returncode == 0
    m = re.search(r"rows read: (\d+), scored: (\d+), rejected: (\d+)", proc.stderr)
    r, s, j = map(int, m.groups())
    assert (r, s, j) == (len(out_lines) - 1, len(body), len(bad))
    assert len(read_scores_csv(d / "bad_scores.csv")) == s
    with open(rejects, newline="") as f:
        rej = list(csv.DictReader(f))
    assert [int(x["line"]) for x in rej] == sorted(expected)
    for x in rej:
        assert expected[int(x["line"])] in x["reason"], x
        assert x["raw"].startswith("D9") or x["raw"].startswith(",") or x["raw"] == ""
    # Without --rejects each reject is a line on stderr, with its line number.
    proc = run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "bad.csv",
                     "--output", d / "bad_scores2.csv")
    for line in expected:
        assert f"line {line} rejected" in proc.stderr


def test_evaluate_matches_sklearn_and_numpy(bundle, run_crisk):
    d = bundle["dir"]
    run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.csv",
              "--output", d / "test_scores.csv")
    scores = np.array([float(r["fraud"]) for r in read_scores_csv(d / "test_scores.csv")])
    y = np.array([r["fraud"] for r in bundle["test"]], dtype=float)
    rev = np.array([r["revenue"] for r in bundle["test"]], dtype=float)
    proc = run_crisk("evaluate", "--bundle", bundle["bundle"], "--input", d / "test.csv",
                     "--label", "fraud", "--revenue", "revenue")
    out = proc.stdout
    assert "model: fraud" in out
    auc = float(re.search(r"^auc: (\S+)", out, re.M).group(1))
    assert auc == pytest.approx(roc_auc_score(y, scores), abs=2e-6)
    # Top n%: ceil(n% * N) rows by score, ties in input order (a stable sort).
    order = np.argsort(-scores, kind="stable")
    for pct in (1, 2, 5, 10):
        k = math.ceil(N_TEST * pct / 100)
        top = order[:k]
        line = re.search(rf"^{pct}%\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)$", out, re.M)
        assert line, out
        assert int(line.group(1)) == k
        assert float(line.group(2)) == pytest.approx(y[top].sum() / k, abs=1e-6)
        assert float(line.group(3)) == pytest.approx(y[top].sum() / y.sum(), abs=1e-6)
        assert float(line.group(4)) == pytest.approx(rev[top].sum() / rev.sum(), abs=1e-6)
    # A row without a valid label is rejected, not scored.
    text = (d / "test.csv").read_text().splitlines()
    text[3] = text[3].rsplit(",", 2)[0] + ",2,0"
    (d / "badlabel.csv").write_text("\n".join(text) + "\n")
    proc = run_crisk("evaluate", "--bundle", bundle["bundle"], "--input", d / "badlabel.csv",
                     "--label", "fraud")
    assert f"rows read: {N_TEST}, scored: {N_TEST - 1}, rejected: 1" in proc.stderr
    assert "line 4 rejected: fraud" in proc.stderr


def test_state_file_is_saved_and_reused(bundle, run_crisk):
    """--state creates the streaming state when the file is absent, saves it at the end,
    and loads it on the next run (a damaged file is then a failure, exit 1)."""
    d = bundle["dir"]
    state = d / "lanes.state"
    assert not state.exists()
    args = ["score", "--bundle", bundle["bundle"], "--input", d / "test.csv",
            "--output", d / "s1.csv", "--state", state]
    run_crisk(*args)
    assert state.stat().st_size > 0
    run_crisk(*args)
    state.write_text("not a state")
    proc = run_crisk(*args, check=False)
    assert proc.returncode == 1 and str(state) in proc.stderr


def test_small_input_needs_state(run_crisk, tmp_path):
    """Issue 16, defect 2: ten declarations of the example (budget red 2%) without --state
    all went to red, ceil(0.02 x 10) = 1 each batch... now the run is refused (exit 1)
    naming the lane, the smallest batch and --state, and nothing is written; with --state
    they are scored in stream mode."""
    example = Path(__file__).resolve().parents[2] / "models" / "example"
    head = (example / "declarations.csv").read_text().splitlines()[:11]
    (tmp_path / "ten.csv").write_text("\n".join(head) + "\n")
    args = ["score", "--bundle", example, "--input", tmp_path / "ten.csv", "--output",
            tmp_path / "s.csv"]
    proc = run_crisk(*args, check=False)
    assert proc.returncode == 1
    assert "a batch of 10 declarations is too small for lane \"red\"'s share 0.02" in proc.stderr
    assert "at least 50" in proc.stderr and "--state FILE" in proc.stderr
    assert not (tmp_path / "s.csv").exists()
    run_crisk(*args, "--state", tmp_path / "lanes.state")
    lanes = [line.split(",")[4] for line in (tmp_path / "s.csv").read_text().splitlines()[1:]]
    assert len(lanes) == 10 and lanes.count("red") < 10


def test_usage_errors(bundle, run_crisk):
    d = bundle["dir"]
    assert run_crisk("score", "--input", d / "test.csv", check=False).returncode == 2
    assert run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.txt",
                     check=False).returncode == 2
    assert run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "test.csv",
                     "--explain", "three", check=False).returncode == 2
    assert run_crisk("fit", "--schema", d / "schema.json", check=False).returncode == 2
    proc = run_crisk("evaluate", "--bundle", bundle["bundle"], "--input", d / "test.csv",
                     "--label", "fraud", "--model", "nope", check=False)
    assert proc.returncode == 2 and "nope" in proc.stderr
    # A missing input file is a failure (1), not a usage error.
    assert run_crisk("score", "--bundle", bundle["bundle"], "--input", d / "none.csv",
                     check=False).returncode == 1


def test_format_errors_name_the_option(bundle, run_crisk):
    """An input whose extension tells no format suggests --input-format (the option that
    exists); a format that is neither csv nor jsonl is an unknown format; both exit 2."""
    d = bundle["dir"]
    base = ("score", "--bundle", bundle["bundle"])
    for command in (base, ("evaluate", "--bundle", bundle["bundle"], "--label", "fraud")):
        proc = run_crisk(*command, "--input", d / "test.txt", check=False)
        assert proc.returncode == 2
        assert "--input-format csv|jsonl" in proc.stderr and "--format" not in proc.stderr
    proc = run_crisk(*base, "--input", d / "test.csv", "--format", "xml", check=False)
    assert proc.returncode == 2 and "unknown format 'xml' for --format" in proc.stderr
    proc = run_crisk(*base, "--input", d / "test.csv", "--input-format", "xml", check=False)
    assert proc.returncode == 2 and "unknown format 'xml' for --input-format" in proc.stderr
    proc = run_crisk(*base, "--input", d / "test.csv", "--output", d / "out.txt", check=False)
    assert proc.returncode == 2 and "--format csv|jsonl" in proc.stderr
