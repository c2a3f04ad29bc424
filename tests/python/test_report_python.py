"""crisk.report: the same charts as `crisk report` from Python, with the same figures.
Its precision / recall / revenue table equals the command's on the same declarations;
every chart is there inline; the saved page fetches nothing and renders in Chromium."""
import re

import pandas as pd
import pytest

import crisk

from test_monitor_cli import BUNDLE, events_options, sample  # noqa: F401
from test_report_browser import CHARTS, chromium


@pytest.fixture(scope="module")
def both(run_crisk, sample, tmp_path_factory):  # noqa: F811
    """The Python report and the command's page on the same declarations."""
    page = tmp_path_factory.mktemp("report") / "cli.html"
    run_crisk("report", "--bundle", BUNDLE, "--input", sample[0], *events_options(sample),
              "--label", "fraud", "--revenue", "revenue", "--output", page)
    decls = pd.read_csv(sample[0], dtype=str, keep_default_na=False)
    rep = crisk.report(crisk.Bundle(BUNDLE), decls, "fraud", revenue="revenue",
                       events=sample[1], device_keys=sample[2])
    return rep, page.read_text()


def test_at_k_table_equals_the_command(both):
    rep, page = both
    cells = re.findall(r"<tr><td>(\d+)%</td><td>(\d+)</td><td>([\d.]+)</td><td>([\d.]+)</td>"
                       r"<td>([\d.]+)</td>", page)
    assert [int(c[0]) for c in cells] == list(rep.at_k.index)
    for k, n, precision, recall, revenue in cells:
        row = rep.at_k.loc[int(k)]
        assert row["declarations"] == int(n)
        for column, text in (("precision", precision), ("recall", recall),
                             ("revenue", revenue)):
            assert f"{row[column]:.4f}" == text, (k, column)


def test_every_chart_is_inline(both):
    rep, _ = both
    assert list(rep.figures) == CHARTS
    shown = rep._repr_html_()
    assert re.findall(r'<svg id="([^"]+)"', shown) == CHARTS
    assert rep.drift is not None and set(rep.drift["level"]) <= {"ok", "warn", "alert"}


def test_saved_page_renders_offline(both, tmp_path):
    rep, _ = both
    path = tmp_path / "python.html"
    rep.save(path)
    text = path.read_text()
    assert not re.search(r"<script|<link|<img|\bsrc=|@import|url\(http", text)
    proc = chromium("--dump-dom", path.as_uri())
    assert proc.returncode == 0, proc.stderr
    assert re.findall(r'<svg id="([^"]+)"', proc.stdout) == CHARTS
    assert "CONSOLE" not in proc.stderr, proc.stderr
