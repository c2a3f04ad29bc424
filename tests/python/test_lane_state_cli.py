"""`crisk score --state FILE` on the example bundle: one run at a time per state file (a
second run is refused before it prints anything, and no run's scores are lost), and a
damaged state is refused, left as it is, and recovered from FILE.prev (docs/bundle.md,
"Streaming state file")."""
import csv
import io
import json
import os
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUNDLE = SOURCE / "models" / "example"


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """The example declarations split in two CSV files of 250 rows each."""
    d = tmp_path_factory.mktemp("lane_state_cli")
    lines = (BUNDLE / "declarations.csv").read_text().splitlines(keepends=True)
    half = (len(lines) - 1) // 2
    a, b = d / "a.csv", d / "b.csv"
    a.write_text(lines[0] + "".join(lines[1:1 + half]))
    b.write_text(lines[0] + "".join(lines[1 + half:]))
    return a, b


def score_args(state, source):
    return ["score", "--bundle", BUNDLE, "--input", source, "--input-format", "csv",
            "--state", state]


def fraud_scores(stdout):
    """The score model's outputs, as the state stores them (float32 of the printed %.9g)."""
    return [float(r["fraud"]) for r in csv.DictReader(io.StringIO(stdout))]


def state_scores(path):
    return json.loads(Path(path).read_text())["scores"]


def test_second_run_on_a_state_is_refused_and_no_scores_are_lost(tmp_path, halves,
                                                                   crisk_cli, run_crisk):
    """Run A holds the state (its input is a FIFO it waits on, after taking the lock); run B
    on the same state fails at once, exit 1, printing no decision; A then finishes, and
    B run again afterwards continues A's window: the state holds both runs' scores."""
    state, fifo = tmp_path / "lanes.state", tmp_path / "a.fifo"
    os.mkfifo(fifo)
    a = subprocess.Popen([str(crisk_cli), *map(str, score_args(state, fifo))],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # A opens its input only after locking the state: once this open returns, A holds it.
    with open(fifo, "w") as feed:
        b = run_crisk(*score_args(state, halves[1]), check=False)
        feed.write(halves[0].read_text())
    out_a, err_a = a.communicate()
    assert a.returncode == 0, err_a
    assert b.returncode == 1 and b.stdout == ""
    assert "in use by another run" in b.stderr and str(state) in b.stderr
    scores_a = fraud_scores(out_a)
    assert len(scores_a) == 250 and state_scores(state) == pytest.approx(scores_a, rel=1e-7)
    b = run_crisk(*score_args(state, halves[1]))
    assert state_scores(state) == pytest.approx(scores_a + fraud_scores(b.stdout), rel=1e-7)


def test_a_damaged_state_is_refused_and_recovered_from_prev(tmp_path, halves, run_crisk):
    """Each save keeps the state it replaces as FILE.prev. A damaged state stops the run
    before any decision, names the file and the way back, and is left as it is; restoring
    FILE.prev resumes from the state before the last save."""
    state = tmp_path / "lanes.state"
    prev = Path(str(state) + ".prev")
    first = fraud_scores(run_crisk(*score_args(state, halves[0])).stdout)
    assert not prev.exists()
    run_crisk(*score_args(state, halves[1]))
    assert state_scores(prev) == pytest.approx(first, rel=1e-7)
    damaged = state.read_bytes()[: state.stat().st_size // 2]
    state.write_bytes(damaged)
    proc = run_crisk(*score_args(state, halves[1]), check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert str(state) in proc.stderr and f"restore {state}.prev" in proc.stderr
    assert state.read_bytes() == damaged
    os.replace(prev, state)
    again = fraud_scores(run_crisk(*score_args(state, halves[1])).stdout)
    assert state_scores(state) == pytest.approx(first + again, rel=1e-7)
