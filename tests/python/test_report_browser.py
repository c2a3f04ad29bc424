"""`crisk report` on the example bundle, opened in a real browser: headless Chromium
renders the page from a file (no network), and the test checks in the rendered DOM that
every chart is there and drew something, that the console logged no error, and that the
screenshot (kept in the build directory as a test artefact) is not blank. The page itself
must fetch nothing: no script, stylesheet link, image source or URL other than the SVG
namespace."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import pytest

from test_monitor_cli import (BUNDLE, ROOT, depending_on, events_options,  # noqa: F401
                              model_names, rewrite, sample)

CHARTS = ["gains", "lift", "at-k", "distribution", "calibration", "lanes", "drift",
          "reasons"]
# What each chart draws: lines, or bars.
MARKS = {"lanes": "rect", "drift": "rect", "reasons": "rect"}


def artefacts() -> Path:
    build = os.environ.get("CRISK_BUILD_DIR")
    path = (Path(build) if build else Path.cwd()).resolve() / "test-artefacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def chromium(*args):
    exe = shutil.which("chromium")
    assert exe, "chromium is not installed (scripts/setup-debian.sh installs it)"
    return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--enable-logging=stderr", "--v=0", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def report(run_crisk, sample, tmp_path_factory):  # noqa: F811
    """The report of a fresh labelled sample whose values were scaled (so that the drift
    chart has something to show)."""
    work = tmp_path_factory.mktemp("report")
    shifted = work / "shifted.csv"
    rewrite(sample[0], shifted,
            lambda r: {**r, "declared_value": str(float(r["declared_value"]) * 1.5)})
    page = artefacts() / "report.html"
    run_crisk("report", "--bundle", BUNDLE, "--input", shifted, *events_options(sample),
              "--label", "fraud", "--revenue", "revenue", "--output", page)
    return page


def test_page_fetches_nothing(report):
    html = report.read_text()
    assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|\bhref=|@import|url\(", html)
    assert set(re.findall(r"https?://[^\"' ]+", html)) == {"http://www.w3.org/2000/svg"}


def test_chromium_renders_every_chart(report):
    proc = chromium("--dump-dom", report.as_uri())
    assert proc.returncode == 0, proc.stderr
    dom = proc.stdout
    for chart in CHARTS:
        m = re.search(rf'<svg id="{chart}"[^>]*>(.*?)</svg>', dom, re.S)
        assert m, f"chart {chart} is missing from the rendered page"
        mark = MARKS.get(chart, "polyline")
        assert re.search(rf"<{mark}[^>]*class=\"(series|bar)\"", m.group(1)), chart
    assert "CONSOLE" not in proc.stderr, proc.stderr
    assert "Uncaught" not in proc.stderr, proc.stderr


def test_screenshot_is_not_blank(report):
    shot = artefacts() / "report.png"
    shot.unlink(missing_ok=True)
    proc = chromium(f"--screenshot={shot}", "--window-size=1400,2200", report.as_uri())
    assert proc.returncode == 0 and shot.exists(), proc.stderr
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2200, 1400)
    # Charts are drawn in colour: a good share of the pixels is neither white nor grey.
    rgb = pixels[..., :3]
    coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 0.2
    assert coloured.mean() > 0.005, coloured.mean()
    assert "CONSOLE" not in proc.stderr, proc.stderr


def test_drift_chart_ranks_the_scaled_feature_first(report):
    html = report.read_text()
    drift = re.search(r'<svg id="drift".*?</svg>', html, re.S).group(0)
    first = re.findall(r'text-anchor="end">([^<]+)</text>', drift)[0]
    assert first in depending_on("declared_value") | model_names(), first


KCS_DATA = Path(os.environ.get("CRISK_KCS_DIR", ROOT.parent / "shared" / "data" /
                               "kcs-synthetic-declarations"))
KCS_ROWS = {"df_syn_train_eng.csv": 4000, "df_syn_valid_eng.csv": 1000,
            "df_syn_test_eng.csv": 1500}


def test_kcs_bundle_report_renders(crisk_cli, tmp_path):
    """The KCS recipe (models/kcs/train_kcs.py, on the first rows of each split) makes a
    bundle with reference distributions and writes crisk report's page on its test split;
    Chromium renders every chart of it."""
    if not all((KCS_DATA / name).is_file() for name in KCS_ROWS):
        pytest.skip(f"{KCS_DATA}: the KCS dataset is not here (set CRISK_KCS_DIR)")
    data = tmp_path / "kcs"
    data.mkdir()
    for name, rows in KCS_ROWS.items():
        with open(KCS_DATA / name, newline="") as src:
            (data / name).write_text("".join(line for _, line in zip(range(rows + 1), src)))
    page = artefacts() / "kcs-report.html"
    proc = subprocess.run(["python3", ROOT / "models" / "kcs" / "train_kcs.py", data,
                           "--crisk", crisk_cli, "--bundle", tmp_path / "bundle",
                           "--report", page], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    manifest = (tmp_path / "bundle" / "manifest.json").read_text()
    assert '"reference": "reference.json"' in manifest
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0 and "CONSOLE" not in dom.stderr, dom.stderr
    assert re.findall(r'<svg id="([^"]+)"', dom.stdout) == CHARTS
    shot = chromium(f"--screenshot={artefacts() / 'kcs-report.png'}",
                    "--window-size=1400,2000", page.as_uri())
    assert shot.returncode == 0 and (artefacts() / "kcs-report.png").exists()
