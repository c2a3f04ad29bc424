"""The example notebook (bindings/python/examples/risk_scoring.ipynb) executes headless from
top to bottom through nbclient, so it cannot rot: generate, fit, train, check parity with
XGBoost, bundle, score, rank (AUC, precision at the inspection rate), red-lane reason
codes, explain, chart. Checks what it prints and shows: crisk's scores equal XGBoost's,
contributions that sum to the margin, precision above the base rate, reason codes for the
red lane, and the chart inline as a PNG. The notebook is kept saved with its outputs
(issue 16, item 10): its saved figures must be the ones a fresh run prints."""
import base64
import os
import re
from pathlib import Path

import nbclient
import nbformat

NOTEBOOK = (Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
            / "bindings" / "python" / "examples" / "risk_scoring.ipynb")
# The printed lines that carry the notebook's figures (no paths, no timings).
FIGURES = re.compile(r"^(?:parity|AUC|inspection rate|precision|red lane|scored|margin).*$",
                     flags=re.M)


def outputs(nb, kind):
    return [out for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == kind]


def printed(nb) -> str:
    return "\n".join(out.get("text", "") for out in outputs(nb, "stream"))


def test_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))     # the notebook's work folder
    saved = nbformat.read(NOTEBOOK, as_version=4)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, startup_timeout=60,
                                     kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    text = printed(nb)
    assert "rejected 0" in text
    m = re.search(r"max \|crisk - XGBoost\| = (\S+)", text)
    assert m and float(m.group(1)) <= 1e-6
    m = re.search(r"AUC = (\S+)", text)
    assert m and float(m.group(1)) > 0.6
    base = float(re.search(r"base fraud rate (\S+)", text).group(1))
    m = re.search(r"precision at the inspection rate: top-scored (\S+), red \+ yellow lanes "
                  r"(\S+)", text)
    assert m and min(float(m.group(1)), float(m.group(2))) > base
    m = re.search(r"red lane: (\d+) declarations; their first reason, by field: (.+)", text)
    assert m and int(m.group(1)) > 0 and m.group(2)
    tables = [out["data"].get("text/html", "") for out in outputs(nb, "execute_result")]
    assert any("reason_1_field" in t and "reason_3_contribution" in t for t in tables)
    m = re.search(r"margin (\S+) = sum of contributions (\S+)", text)
    assert m and abs(float(m.group(1)) - float(m.group(2))) < 1e-4
    m = re.search(r"precision@1% = (\S+) \(lift (\S+)x\)", text)
    assert m and float(m.group(2)) > 1.5
    charts = [out["data"]["image/png"] for out in outputs(nb, "display_data")
              if "image/png" in out.get("data", {})]
    assert charts and base64.b64decode(charts[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.rglob("*.png")), "the chart should be inline, not a file"
    # Saved with its outputs: every code cell ran, and its figures are today's.
    code = [cell for cell in saved.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    assert any("image/png" in out.get("data", {}) for out in outputs(saved, "display_data"))
    assert FIGURES.findall(printed(saved)) == FIGURES.findall(text)
