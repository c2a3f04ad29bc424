"""The declaration commands (score, evaluate, monitor, report) without a lane state on an
input whose last batch is smaller than the budget needs: that tail joins the batch before
it, so every row is scored; only an input smaller than the minimum as a whole is refused.

Checked against the same rows scored as the batches the joining forms (each written to a
file of its own and scored as one batch), with the example bundle's events joined: a tail
scored without its events, or as a batch of its own, would give other scores or lanes.
The smallest batch is derived from the example's policy (ceil(1 / smallest share)).
"""
import csv
import importlib.util
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "models" / "example"
ROWS = 8200  # two batches of 8192 (evaluate, monitor, report): a tail of 8
MIN_ROWS = math.ceil(1 / min(b["share"] for b in
                             json.loads((BUNDLE / "policy.json").read_text())["budget"]))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """ROWS labelled declarations of the example's population, with their events:
    (work folder, header, rows, event options)."""
    spec = importlib.util.spec_from_file_location("train", ROOT / "models" / "train.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    work = tmp_path_factory.mktemp("tail")
    decl, events, keys = work / "all.csv", work / "events.jsonl", work / "keys.json"
    train.generate(ROWS, 47, work, decl, events, keys)
    with open(decl, newline="") as f:
        lines = list(csv.reader(f))
    return work, lines[0], lines[1:], ["--events", events, "--device-keys", keys]


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def score(run_crisk, sample, rows, name, *extra, check=True):
    """Scores `rows` of the sample (written to `name`.csv); returns (process, records)."""
    work, header, _, events = sample
    out = work / f"{name}.out.csv"
    out.unlink(missing_ok=True)
    proc = run_crisk("score", "--bundle", BUNDLE, "--input",
                     write(work / f"{name}.csv", header, rows), "--output", out, *events,
                     *extra, check=check)
    if not out.exists():
        return proc, None
    with open(out, newline="") as f:
        return proc, list(csv.DictReader(f))


def scored_as_batches(run_crisk, sample, rows, sizes):
    """The records of `rows` scored as consecutive batches of `sizes` rows, each alone."""
    records, start = [], 0
    for k, size in enumerate(sizes):
        part = rows[start:start + size]
        _, got = score(run_crisk, sample, part, f"part{k}", "--batch-rows", len(part))
        records += got
        start += size
    assert start == len(rows)
    return records


@pytest.mark.parametrize("n, batch_rows, batches", [
    (60, 50, [60]),                    # the tail of 10 joins the first batch
    (ROWS, 4096, [4096, ROWS - 4096]),  # 4096 + 4096 + 8: the 8 join the second
    (500, 120, [120, 120, 120, 140]),  # a tail of 20 joins the fourth
    (60, 10, [60]),  # batches of 10 are too small: they take MIN_ROWS, then the tail
    (2 * MIN_ROWS, MIN_ROWS, [MIN_ROWS, MIN_ROWS]),  # no tail: nothing joins
])
def test_small_last_batch_joins_the_one_before(run_crisk, sample, n, batch_rows, batches):
    rows = sample[2][:n]
    proc, got = score(run_crisk, sample, rows, "joined", "--batch-rows", batch_rows)
    assert f"rows read: {n}, scored: {n}, rejected: 0" in proc.stderr
    assert got == scored_as_batches(run_crisk, sample, rows, batches)


def test_rejected_rows_of_the_tail_are_reported(run_crisk, sample, tmp_path):
    """A bad row among the tail is reported with its line; the others join the batch."""
    rows = [list(r) for r in sample[2][:60]]
    date = sample[1].index("declaration_date")
    rows[55][date] = "2025-13-45"
    rejects = tmp_path / "rejects.csv"
    proc, got = score(run_crisk, sample, rows, "bad", "--batch-rows", 50, "--rejects",
                      rejects)
    assert "rows read: 60, scored: 59, rejected: 1" in proc.stderr
    with open(rejects, newline="") as f:
        assert [r["line"] for r in csv.DictReader(f)] == ["57"]  # the header is line 1
    good = rows[:55] + rows[56:]
    assert got == scored_as_batches(run_crisk, sample, good, [59])


def test_input_smaller_than_the_minimum_is_refused(run_crisk, sample):
    """Fewer rows than the budget needs, in all: refused naming --state, nothing written;
    exactly the minimum is scored."""
    rows = sample[2][:MIN_ROWS - 1]
    proc, got = score(run_crisk, sample, rows, "small", "--batch-rows", 10, check=False)
    assert proc.returncode == 1 and got is None
    assert f"a batch of {MIN_ROWS - 1} declarations is too small" in proc.stderr
    assert f"at least {MIN_ROWS}" in proc.stderr and "--state FILE" in proc.stderr
    proc, got = score(run_crisk, sample, sample[2][:MIN_ROWS], "least", "--batch-rows", 10)
    assert len(got) == MIN_ROWS


def test_evaluate_monitor_and_report_score_every_row(run_crisk, sample, tmp_path):
    """Their batches are 8192 rows: ROWS leaves a tail of 8, which joins the batch before.
    The tail holds frauds, so that evaluate counts every positive only if the labels (read
    beside the revenue) joined with their rows."""
    work, header, rows, events = sample
    fraud = header.index("fraud")
    rows = sorted(rows, key=lambda r: r[fraud] == "1")  # stable: the frauds last
    assert rows[-8][fraud] == "1"
    data = write(work / "labelled.csv", header, rows)
    proc = run_crisk("evaluate", "--bundle", BUNDLE, "--input", data, "--label", "fraud",
                     "--revenue", "revenue", *events)
    assert f"rows read: {ROWS}, scored: {ROWS}, rejected: 0" in proc.stderr
    positives = sum(r[fraud] == "1" for r in rows)
    assert f"declarations: {ROWS}, positives: {positives}\n" in proc.stdout
    proc = run_crisk("monitor", "--bundle", BUNDLE, "--input", data, *events, check=False)
    assert proc.returncode in (0, 3), proc.stderr  # 3: drift alerts, every row counted
    assert f"declarations: {ROWS}," in proc.stdout
    page = tmp_path / "report.html"
    proc = run_crisk("report", "--bundle", BUNDLE, "--input", data, "--label", "fraud",
                     "--output", page, *events)
    assert f"rows read: {ROWS}, scored: {ROWS}, rejected: 0" in proc.stderr
    assert page.stat().st_size > 0
