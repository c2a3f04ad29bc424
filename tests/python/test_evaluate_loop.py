"""`crisk evaluate --decisions --outcomes`: outcomes joined to `crisk score`'s decisions by
id, every unusable outcome reported with its line (unknown declaration, bad value,
duplicate, conflict, not selected), and the estimates recomputed here from the same
decisions and outcomes (self-normalised weighting and the effective sample size)."""
import csv
import math
import os
import re
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUNDLE = SOURCE / "models" / "example"


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_outcomes_joined_reported_and_weighted(run_crisk, tmp_path):
    dec = tmp_path / "dec.csv"
    run_crisk("score", "--bundle", BUNDLE, "--input", BUNDLE / "declarations.csv",
              "--output", dec)
    rows = read_rows(dec)
    selected = [r for r in rows if not r["reason"].startswith("default lane")]
    skipped = next(r for r in rows if r["reason"].startswith("default lane"))
    assert {float(r["propensity"]) for r in selected} <= {1.0, 0.01}
    lines = ["declaration_id,inspection_date,result,revenue,note"]
    found = {}
    for r in selected:
        hit = float(r["fraud"]) > 0.5
        found[r["declaration_id"]] = hit
        lines.append(f'{r["declaration_id"]},2025-01-02,{"irregularity" if hit else "none"},'
                     f'{100 if hit else 0},')
    first = selected[0]["declaration_id"]
    bad = [f"NO-SUCH-ID,2025-01-02,none,0,",                          # unknown declaration
           f"{selected[1]['declaration_id']},2025-01-02,bogus,0,",     # bad result
           f"{first},2025-01-02,{'irregularity' if found[first] else 'none'},0,",  # duplicate
           f"{skipped['declaration_id']},2025-01-02,none,0,"]          # not selected
    lines += bad
    out = tmp_path / "outcomes.csv"
    out.write_text("\n".join(lines) + "\n")
    n = len(selected)
    proc = run_crisk("evaluate", "--decisions", dec, "--outcomes", out, "--top", 10,
                     "--bootstrap", 50)
    err = proc.stderr
    assert f"line {n + 2}: unknown declaration NO-SUCH-ID" in err
    assert f"line {n + 3}: result: \"bogus\"" in err
    assert f"line {n + 4}: duplicate" in err
    assert f"line {n + 5}: declaration {skipped['declaration_id']} was not selected" in err
    assert f"outcomes used: {n}, lines rejected: 2, not used: 2" in err
    # The self-normalised precision of the logged top 10%, recomputed.
    k = math.ceil(0.1 * len(rows))
    order = sorted(range(len(rows)), key=lambda i: (-float(rows[i]["fraud"]), i))[:k]
    w = [1 / float(rows[i]["propensity"]) if rows[i]["declaration_id"] in found else 0
         for i in order]
    y = [found.get(rows[i]["declaration_id"], False) for i in order]
    snips = sum(wi * yi for wi, yi in zip(w, y)) / sum(w)
    ess = sum(w) ** 2 / sum(wi * wi for wi in w)
    head = proc.stdout.split("candidate:")[0]
    assert float(re.search(r"precision \(snips\)\s+([\d.]+)", head).group(1)) == \
        round(snips, 4)
    assert float(re.search(r"effective sample size\s+([\d.]+)", head).group(1)) == \
        round(ess, 1)
    # Doubly robust with the fraud score as the outcome model, recomputed.
    proc = run_crisk("evaluate", "--decisions", dec, "--outcomes", out, "--top", 10,
                     "--bootstrap", 0, "--outcome-model", "fraud")
    m = [float(rows[i]["fraud"]) for i in order]
    dr = sum(mi + wi * (yi - mi) for mi, wi, yi in zip(m, w, y)) / k
    head = proc.stdout.split("candidate:")[0]
    assert float(re.search(r"precision \(dr\)\s+([\d.]+)", head).group(1)) == round(dr, 4)


def test_candidate_must_list_the_same_declarations(run_crisk, tmp_path):
    dec = tmp_path / "dec.csv"
    run_crisk("score", "--bundle", BUNDLE, "--input", BUNDLE / "declarations.csv",
              "--output", dec)
    text = dec.read_text().splitlines()
    (tmp_path / "cand.csv").write_text("\n".join([text[0], text[2], text[1]] + text[3:]))
    (tmp_path / "o.csv").write_text("declaration_id,result\n")
    proc = run_crisk("evaluate", "--decisions", dec, "--outcomes", tmp_path / "o.csv",
                     "--candidate", tmp_path / "cand.csv", check=False)
    assert proc.returncode == 1 and "line 2: declaration" in proc.stderr


def test_novelty_exploration_in_a_bundle(run_crisk, tmp_path):
    """A policy exploring by novelty on a schema feature scores with every eligible
    declaration given a non-zero propensity that falls as the feature's count rises;
    a feature the schema lacks is refused at load, naming explore.feature."""
    import json
    import shutil
    bundle = tmp_path / "b"
    shutil.copytree(BUNDLE, bundle)
    doc = json.loads((bundle / "policy.json").read_text())
    doc.pop("random")
    doc["explore"] = {"lane": "blue", "share": 0.05, "seed": 3, "weight": "novelty",
                      "feature": "importer_count", "floor": 0.1}
    (bundle / "policy.json").write_text(json.dumps(doc))
    out = tmp_path / "s.csv"
    run_crisk("score", "--bundle", bundle, "--input", BUNDLE / "declarations.csv",
              "--output", out)
    rows = read_rows(out)
    free = [r for r in rows if r["reason"].startswith(("explore", "default"))]
    assert free and all(float(r["propensity"]) > 0 for r in free)
    assert sum(float(r["propensity"]) for r in free) == \
        pytest.approx(0.05 * len(rows))
    assert any(r["reason"].startswith("explore: drawn for blue") for r in rows)
    assert len({r["propensity"] for r in free}) > 1   # weights differ by count
    doc["explore"]["feature"] = "no_such_feature"
    (bundle / "policy.json").write_text(json.dumps(doc))
    proc = run_crisk("score", "--bundle", bundle, "--input", BUNDLE / "declarations.csv",
                     check=False)
    assert proc.returncode == 1 and "explore.feature" in proc.stderr


def test_python_offpolicy_matches_the_command(run_crisk, tmp_path):
    """crisk.evaluate_offpolicy over a DataFrame gives the estimates crisk evaluate prints
    for the same log, and refuses an inspected row with propensity 0 naming it."""
    import numpy as np
    import pandas as pd
    import crisk
    dec = tmp_path / "dec.csv"
    run_crisk("score", "--bundle", BUNDLE, "--input", BUNDLE / "declarations.csv",
              "--output", dec)
    log = pd.read_csv(dec, dtype={"declaration_id": str}, keep_default_na=False)
    log["inspected"] = ~log["reason"].str.startswith("default lane")
    log["hit"] = (log["fraud"] > 0.5) & log["inspected"]
    outcomes = log[log["inspected"]]
    pd.DataFrame({"declaration_id": outcomes["declaration_id"],
                  "result": np.where(outcomes["hit"], "irregularity", "none")}).to_csv(
        tmp_path / "o.csv", index=False)
    text = run_crisk("evaluate", "--decisions", dec, "--outcomes", tmp_path / "o.csv",
                     "--top", 10, "--bootstrap", 200, "--seed", 4).stdout
    est, info = crisk.evaluate_offpolicy(log, "fraud", top_share=0.1, bootstrap=200, seed=4)
    for name, row in (("snips", "precision_snips"), ("ipw", "precision_ipw"),
                      ("dr", "precision_dr")):
        v, lo, hi = map(float, re.search(r"precision \(" + name + r"\)\s+(\S+)\s+\[(\S+), "
                                         r"(\S+)\]", text).groups())
        assert (round(est.loc[row, "value"], 4), round(est.loc[row, "low"], 4),
                round(est.loc[row, "high"], 4)) == (v, lo, hi)
    assert info["selected"] == math.ceil(0.1 * len(log))
    bad = log.copy()
    row = int(np.flatnonzero(~bad["inspected"].to_numpy())[0])
    bad.loc[row, "inspected"] = True
    bad.loc[row, "propensity"] = 0.0
    with pytest.raises(crisk.CriskError, match=f"row {row}:"):
        crisk.evaluate_offpolicy(bad, "fraud")


def test_fit_from_outcomes_fits_only_the_inspected(run_crisk, tmp_path):
    """`crisk fit --outcomes --decisions --weights ipw` fits on the inspected declarations
    alone, labelled by what was found: the fitted schema and the out-of-fold training
    matrix equal those of `crisk fit --label` over the same declarations with those labels,
    the matrix adds 1 / propensity as a weight, and every outcome not used is reported
    by line (an unknown declaration, one the logged policy did not select)."""
    dec = tmp_path / "dec.csv"
    run_crisk("score", "--bundle", BUNDLE, "--input", BUNDLE / "declarations.csv",
              "--output", dec)
    rows = read_rows(dec)
    selected = [r for r in rows if not r["reason"].startswith("default lane")]
    skipped = next(r for r in rows if r["reason"].startswith("default lane"))
    hit = {r["declaration_id"]: float(r["fraud"]) > 0.5 for r in selected}
    lines = ["declaration_id,result"]
    lines += [f"{i},{'critical' if h else 'none'}" for i, h in hit.items()]
    lines += ["NO-SUCH-ID,none", f"{skipped['declaration_id']},irregularity"]
    outcomes = tmp_path / "o.csv"
    outcomes.write_text("\n".join(lines) + "\n")
    n = len(selected)
    proc = run_crisk("fit", "--schema", SOURCE / "models" / "schema.json", "--input",
                     BUNDLE / "declarations.csv", "--outcomes", outcomes, "--decisions", dec,
                     "--weights", "ipw", "--output", tmp_path / "fitted.json", "--matrix",
                     tmp_path / "m.csv")
    assert f"line {n + 2}: declaration NO-SUCH-ID is not in the decisions" in proc.stderr
    assert f"line {n + 3}: declaration {skipped['declaration_id']} was not selected" \
        in proc.stderr
    assert (f"outcomes used: {n}, not used: 2; declarations without an outcome (not "
            f"inspected, not fitted): {len(rows) - n}") in proc.stderr
    # The same declarations with the labels in a column, fitted the usual way.
    with open(BUNDLE / "declarations.csv", newline="") as f:
        src = list(csv.reader(f))
    with open(tmp_path / "labelled.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(src[0] + ["label"])
        w.writerows(r + [int(hit[r[0]])] for r in src[1:] if r[0] in hit)
    run_crisk("fit", "--schema", SOURCE / "models" / "schema.json", "--input",
              tmp_path / "labelled.csv", "--label", "label", "--output",
              tmp_path / "plain.json", "--matrix", tmp_path / "plain.csv")
    assert (tmp_path / "fitted.json").read_bytes() == (tmp_path / "plain.json").read_bytes()
    matrix, plain = read_rows(tmp_path / "m.csv"), read_rows(tmp_path / "plain.csv")
    propensity = {r["declaration_id"]: float(r["propensity"]) for r in selected}
    assert [r["declaration_id"] for r in matrix] == [r["declaration_id"] for r in plain]
    for m, p in zip(matrix, plain):
        assert float(m.pop("weight")) == pytest.approx(1 / propensity[m["declaration_id"]],
                                                       rel=1e-7)
        assert m == p


def test_fit_from_outcomes_command_line(run_crisk, tmp_path):
    """--label or --outcomes, one of them; --weights ipw needs the decisions' propensities;
    outcomes that match no declaration leave nothing to fit: a failed run."""
    base = ("fit", "--schema", SOURCE / "models" / "schema.json", "--input",
            BUNDLE / "declarations.csv", "--output", tmp_path / "f.json")
    (tmp_path / "o.csv").write_text("declaration_id,result\nNO-SUCH-ID,none\n")
    for extra, what in (((), "--label or --outcomes"),
                        (("--label", "x", "--outcomes", tmp_path / "o.csv"),
                         "--label or --outcomes"),
                        (("--outcomes", tmp_path / "o.csv", "--weights", "ipw"),
                         "needs --decisions")):
        proc = run_crisk(*base, *extra, check=False)
        assert proc.returncode == 2 and what in proc.stderr
    proc = run_crisk(*base, "--outcomes", tmp_path / "o.csv", check=False)
    assert proc.returncode == 1 and "nothing to fit" in proc.stderr
    assert "line 2: declaration NO-SUCH-ID is not among the declarations" in proc.stderr
    assert not (tmp_path / "f.json").exists()


def test_evaluate_from_the_decision_log(run_crisk, tmp_path):
    """`--decisions LOG` reads the decision log's leaves: with protected ids (--id-key,
    joined by the keyed hash) it gives what the scored CSV gives; --logged-bundle leaves
    out, counted and named, the decisions another bundle made in the same log; without
    it several bundles are a warning with their sizes; a CSV cannot be checked against a
    bundle, and hashed ids without the key are refused. A candidate's CSV (ids in clear)
    lines up with the log's hashed ids."""
    import json
    import shutil
    run_crisk("audit", "keygen", "--private", tmp_path / "k.pem", "--public",
              tmp_path / "k.pub")
    (tmp_path / "id.key").write_bytes(b"0123456789abcdef-secret")
    audit = ("--protect-ids", tmp_path / "id.key", "--audit", tmp_path / "log",
             "--audit-key", tmp_path / "k.pem")
    dec = tmp_path / "dec.csv"
    run_crisk("score", "--bundle", BUNDLE, "--input", BUNDLE / "declarations.csv", *audit,
              "--output", dec)
    rows = read_rows(dec)
    lines = ["declaration_id,result"] + [
        f"{r['declaration_id']},{'irregularity' if float(r['fraud']) > 0.5 else 'none'}"
        for r in rows if not r["reason"].startswith("default lane")]
    outcomes = tmp_path / "o.csv"
    outcomes.write_text("\n".join(lines) + "\n")
    base = ("evaluate", "--outcomes", outcomes, "--score", "fraud", "--top", 10,
            "--bootstrap", 50)
    common = base + ("--candidate", dec, "--candidate-score", "fraud_logistic")
    want = run_crisk(*common, "--decisions", dec)
    got = run_crisk(*common, "--decisions", tmp_path / "log", "--id-key", tmp_path / "id.key")
    assert got.stdout == want.stdout and "outcomes used: " + str(len(lines) - 1) in got.stderr
    proc = run_crisk(*common, "--decisions", tmp_path / "log", check=False)
    assert proc.returncode == 1 and "give the same key as --id-key" in proc.stderr
    proc = run_crisk("evaluate", "--outcomes", outcomes, "--decisions", tmp_path / "log",
                     "--id-key", tmp_path / "id.key", check=False)
    assert proc.returncode == 1 and "give --score MODEL" in proc.stderr
    proc = run_crisk(*common, "--decisions", dec, "--logged-bundle", BUNDLE, check=False)
    assert proc.returncode == 1 and "names no bundle" in proc.stderr
    # Another bundle (its policy file differs by a byte) decides the same declarations
    # into the same log.
    other = tmp_path / "other"
    shutil.copytree(BUNDLE, other)
    doc = json.loads((other / "policy.json").read_text())
    (other / "policy.json").write_text(json.dumps(doc) + "\n")
    run_crisk("score", "--bundle", other, "--input", BUNDLE / "declarations.csv", *audit,
              "--output", tmp_path / "dec2.csv")
    log = ("--decisions", tmp_path / "log", "--id-key", tmp_path / "id.key")
    kept = run_crisk(*common, *log, "--logged-bundle", BUNDLE)
    assert kept.stdout == want.stdout
    assert (f"{len(rows)} decisions (the first: entry {len(rows)}) were made by another "
            f"bundle than --logged-bundle's") in kept.stderr
    mixed = run_crisk(*base, *log).stderr
    assert re.search(rf"decisions of 2 bundles: \w{{12}}\.\.\. {len(rows)}, \w{{12}}\.\.\. "
                     rf"{len(rows)}, others 0", mixed)


def test_candidate_bundle_scored_by_the_command(run_crisk, tmp_path):
    """`--bundle CANDIDATE --input DECLARATIONS` scores the logged declarations itself:
    the same estimates as the candidate's scored CSV; declarations out of the decisions'
    order are refused naming the row; --bundle needs --input and excludes --candidate."""
    dec = tmp_path / "dec.csv"
    run_crisk("score", "--bundle", BUNDLE, "--input", BUNDLE / "declarations.csv",
              "--output", dec)
    rows = read_rows(dec)
    lines = ["declaration_id,result"] + [
        f"{r['declaration_id']},{'critical' if float(r['fraud']) > 0.5 else 'none'}"
        for r in rows if not r["reason"].startswith("default lane")]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n")
    common = ("evaluate", "--decisions", dec, "--outcomes", tmp_path / "o.csv", "--top", 10,
              "--bootstrap", 50, "--candidate-score", "fraud_logistic")
    want = run_crisk(*common, "--candidate", dec).stdout
    assert "candidate:" in want
    got = run_crisk(*common, "--bundle", BUNDLE, "--input", BUNDLE / "declarations.csv")
    assert got.stdout == want
    text = (BUNDLE / "declarations.csv").read_text().splitlines()
    (tmp_path / "swapped.csv").write_text("\n".join([text[0], text[2], text[1]] + text[3:]))
    proc = run_crisk(*common, "--bundle", BUNDLE, "--input", tmp_path / "swapped.csv",
                     check=False)
    assert proc.returncode == 1 and "declaration 1 (" in proc.stderr \
        and "is not the decisions' row 1" in proc.stderr
    for extra in (("--bundle", BUNDLE), ("--bundle", BUNDLE, "--input", dec, "--candidate",
                                         dec)):
        proc = run_crisk(*common, *extra, check=False)
        assert proc.returncode == 2 and "--bundle DIR with --input" in proc.stderr
