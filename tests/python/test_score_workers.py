"""`crisk score --threads N`: N workers read, score and write whole batches at once
(cli/pipeline.c), yet the output, the rejects, the saved lane state and the decision log
are those of one thread, byte for byte, and a batch that fails stops the run where one
thread would: no later batch reaches the output or the log."""
import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "models" / "example"
EVENTS = ["--events", EXAMPLE / "events.jsonl", "--device-keys", EXAMPLE / "device_keys.json"]


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> Path:
    """The example declarations with a bad row every 37 rows (an unknown date)."""
    with open(EXAMPLE / "declarations.csv", newline="") as f:
        rows = list(csv.reader(f))
    date = rows[0].index("declaration_date") if "declaration_date" in rows[0] else 1
    for i in range(5, len(rows), 37):
        rows[i][date] = "2024-02-30"
    path = tmp_path_factory.mktemp("workers") / "dirty.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def score(run_crisk, tmp: Path, name: str, data: Path, threads: int, *extra, check=True):
    """Scores `data` on `threads` workers in batches of 40; returns (process, output bytes,
    rejects bytes)."""
    out, rejects = tmp / f"{name}.csv", tmp / f"{name}.rejects.csv"
    proc = run_crisk("score", "--bundle", EXAMPLE, "--input", data, "--output", out,
                     "--rejects", rejects, "--batch-rows", 40, "--threads", threads, *EVENTS,
                     *extra, check=check)
    return (proc, out.read_bytes() if out.exists() else None,
            rejects.read_bytes() if rejects.exists() else None)


@pytest.mark.parametrize("threads", [2, 3, 0])
def test_workers_write_what_one_thread_writes(run_crisk, tmp_path, dirty, threads):
    one, out1, rej1 = score(run_crisk, tmp_path, "one", dirty, 1)
    many, out, rej = score(run_crisk, tmp_path, f"many{threads}", dirty, threads)
    assert out == out1 and rej == rej1
    assert rej1.count(b"\n") > 10  # the bad rows were rejected, in order, by either
    assert many.stderr == one.stderr


def test_workers_decide_a_lane_state_in_input_order(run_crisk, tmp_path, dirty):
    runs = {}
    for threads in (1, 2):
        state = tmp_path / f"state{threads}.bin"
        _, out, _ = score(run_crisk, tmp_path, f"s{threads}", dirty, threads, "--state", state)
        _, again, _ = score(run_crisk, tmp_path, f"t{threads}", dirty, threads, "--state",
                            state)
        runs[threads] = (out, again, state.read_bytes())
    assert runs[2] == runs[1]


def test_a_failed_batch_stops_the_workers_as_one_thread(run_crisk, tmp_path, dirty):
    """An output that takes nothing (/dev/full) fails the first audited batch's delivery:
    the run stops there, with the same messages, and logs no decision."""
    key = tmp_path / "k.pem"
    run_crisk("audit", "keygen", "--private", key, "--public", tmp_path / "k.pub")
    errors = {}
    for threads in (1, 2):
        log = tmp_path / f"log{threads}"
        proc = run_crisk("score", "--bundle", EXAMPLE, "--input", dirty, "--output",
                         "/dev/full", "--format", "csv", "--batch-rows", 40, "--threads", threads, "--audit",
                         log, "--audit-key", key, *EVENTS, check=False)
        assert proc.returncode != 0
        assert "were not delivered, nor logged" in proc.stderr
        # Workers may have read (and rejected rows of) a batch beyond the failed one.
        errors[threads] = [e.replace(str(log), "LOG") for e in proc.stderr.splitlines()
                           if " rejected: " not in e]
        assert not log.exists() or b"leaf" not in log.read_bytes()
    assert errors[2] == errors[1]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_records_larger_than_the_format_buffer(run_crisk, tmp_path, dirty, fmt):
    """Workers format their batches into a buffer sized from the batch's rows (cmd_score.c,
    format_batch): records with five reasons and their descriptions outgrow it, so it is
    grown and the batch formatted again, and the output is still one thread's, whole."""
    outs = {}
    for threads in (1, 2):
        out = tmp_path / f"big{threads}.{fmt}"
        run_crisk("score", "--bundle", EXAMPLE, "--input", dirty, "--output", out,
                  "--batch-rows", 64, "--threads", threads, "--explain", 5, *EVENTS)
        outs[threads] = out.read_bytes()
    lines = outs[1].splitlines()
    with open(dirty, newline="") as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
    decided = len(lines) - (fmt == "csv")  # a CSV output starts with its header
    assert decided == rows - len(range(5, rows + 1, 37))  # every row but the rejected
    assert len(outs[1]) / decided > (4096 + 128 * 64) / 64  # larger than the first buffer
    assert outs[2] == outs[1]
