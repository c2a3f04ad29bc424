"""`crisk report --outcomes`: labels from officers' outcomes (docs/loop.md), joined to the
declarations by id. Officers inspect what the lanes select (here the red and yellow lanes
`crisk score` gives, and every 25th other declaration), and record what the generator's
`fraud` column says they would find. The page says that labels exist only for inspected
declarations and gives each lane's hit rate, counted here from crisk score's lanes and the
outcomes written; its selection table and AUC equal those of a report labelled by column on
the inspected declarations alone (the same scores and labels). A rejected outcome line and
an outcome of no declaration of the input are reported with their line, never dropped."""
import csv
import re

import pytest

from test_monitor_cli import BUNDLE, events_options, sample  # noqa: F401
from test_report_browser import CHARTS, artefacts, chromium

UNKNOWN = "D-NOT-IN-THE-INPUT"


@pytest.fixture(scope="module")
def inspected(run_crisk, sample, tmp_path_factory):  # noqa: F811
    """(outcomes file, {id: (lane, found)} of the inspected, {lane: declarations}, work)."""
    work = tmp_path_factory.mktemp("outcomes")
    scored = work / "scored.csv"
    run_crisk("score", "--bundle", BUNDLE, "--input", sample[0], *events_options(sample),
              "--output", scored)
    with open(sample[0], newline="") as f:
        fraud = {r["declaration_id"]: r["fraud"] == "1" for r in csv.DictReader(f)}
    with open(scored, newline="") as f:
        lanes = [(r["declaration_id"], r["lane"]) for r in csv.DictReader(f)]
    chosen = {i: (lane, fraud[i]) for k, (i, lane) in enumerate(lanes)
              if lane in ("red", "yellow") or k % 25 == 0}
    outcomes = work / "outcomes.csv"
    lines = ["declaration_id,result"]
    lines += [f"{i},{'irregularity' if found else 'none'}" for i, (_, found) in chosen.items()]
    lines += [f"{UNKNOWN},none", "D0000000001,lost"]
    outcomes.write_text("\n".join(lines) + "\n")
    per_lane = {}
    for _, lane in lanes:
        per_lane[lane] = per_lane.get(lane, 0) + 1
    return outcomes, chosen, per_lane, work


def report(run_crisk, sample, page, *labels, source=None):  # noqa: F811
    return run_crisk("report", "--bundle", BUNDLE, "--input", source or sample[0],
                     *events_options(sample), *labels, "--output", page)


def table(html, name):
    body = re.search(rf'<table id="{name}">(.*?)</table>', html, re.S).group(1)
    return [re.findall(r"<td>([^<]*)</td>", row) for row in body.split("</tr>")[1:-1]]


def test_labels_from_outcomes_give_each_lanes_hit_rate(run_crisk, sample, inspected):  # noqa: F811
    outcomes, chosen, per_lane, work = inspected
    page = artefacts() / "report-outcomes.html"
    proc = report(run_crisk, sample, page, "--outcomes", outcomes)
    html = page.read_text()
    assert f"{len(chosen)} of {sum(per_lane.values())} have an outcome" in html
    rows = {r[0]: r[1:] for r in table(html, "outcomes-table")}
    for lane, n in per_lane.items():
        seen = [found for (l, found) in chosen.values() if l == lane]
        assert rows[lane][:3] == [str(n), str(len(seen)), str(sum(seen))], lane
        if seen:
            assert float(rows[lane][3]) == pytest.approx(sum(seen) / len(seen), abs=1e-4)
    # Rejected and unknown outcomes are reported with their line, and counted.
    n = len(chosen)
    assert f'line {n + 2}: declaration "{UNKNOWN}" is not in the input' in proc.stderr
    assert re.search(rf"line {n + 3}: .*lost", proc.stderr), proc.stderr
    assert f"outcomes used: {n}, lines rejected: 1, not in the input: 1" in proc.stderr


def test_charts_on_outcomes_equal_the_inspected_declarations_labelled(
        run_crisk, sample, inspected):  # noqa: F811
    outcomes, chosen, _, work = inspected
    by_outcomes = work / "by-outcomes.html"
    report(run_crisk, sample, by_outcomes, "--outcomes", outcomes)
    subset = work / "inspected.csv"
    with open(sample[0], newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["declaration_id"] in chosen]
    with open(subset, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    by_label = work / "by-label.html"
    report(run_crisk, sample, by_label, "--label", "fraud", source=subset)
    a, b = by_outcomes.read_text(), by_label.read_text()
    assert table(a, "at-k-table") == table(b, "at-k-table")
    auc = re.compile(r"AUC ([0-9.]+)")
    assert auc.search(a).group(1) == auc.search(b).group(1)
    assert "outcomes-table" not in b


def test_outcomes_beside_the_label_column_keep_its_charts(run_crisk, sample, inspected):  # noqa: F811
    outcomes, _, _, work = inspected
    both, label = work / "both.html", work / "label.html"
    report(run_crisk, sample, both, "--label", "fraud", "--outcomes", outcomes)
    report(run_crisk, sample, label, "--label", "fraud")
    a, b = both.read_text(), label.read_text()
    assert table(a, "at-k-table") == table(b, "at-k-table")
    assert "outcomes-table" in a


def test_no_labels_is_a_bad_command_line(run_crisk, sample, tmp_path):  # noqa: F811
    proc = run_crisk("report", "--bundle", BUNDLE, "--input", sample[0], "--output",
                     tmp_path / "r.html", check=False)
    assert proc.returncode == 2 and "--outcomes" in proc.stderr, proc.stderr


def test_chromium_renders_the_outcomes_report(run_crisk, sample, inspected):  # noqa: F811
    page = artefacts() / "report-outcomes.html"
    report(run_crisk, sample, page, "--outcomes", inspected[0])
    proc = chromium("--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr
    for chart in CHARTS:
        assert re.search(rf'<svg id="{chart}"', proc.stdout), chart
    assert '<table id="outcomes-table">' in proc.stdout
    assert "CONSOLE" not in proc.stderr and "Uncaught" not in proc.stderr, proc.stderr
