"""The example notebook (bindings/python/examples/risk_scoring.ipynb) executes headless from
top to bottom through nbclient, so it cannot rot: generate, fit, train, bundle, score,
explain, chart. Checks what it prints: contributions that sum to the margin, a precision
at 1% above the base rate, and the chart file."""
import os
import re
from pathlib import Path

import nbclient
import nbformat

NOTEBOOK = (Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
            / "bindings" / "python" / "examples" / "risk_scoring.ipynb")


def test_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))     # the notebook's work folder
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, startup_timeout=60,
                                     kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    text = "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                     for out in cell.get("outputs", []) if out.get("output_type") == "stream")
    assert "rejected 0" in text
    m = re.search(r"margin (\S+) = sum of contributions (\S+)", text)
    assert m and abs(float(m.group(1)) - float(m.group(2))) < 1e-4
    m = re.search(r"precision@1% = (\S+) \(lift (\S+)x\)", text)
    assert m and float(m.group(2)) > 1.5
    chart = Path(re.search(r"chart: (\S+)", text).group(1))
    assert chart.is_relative_to(tmp_path) and chart.is_file() and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
