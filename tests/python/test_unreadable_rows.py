"""Issue 15 leftover (d), and a line-end hole found on the way: a CSV declaration whose
quoting makes it unreadable is a reject carrying its line's bytes as read (withheld, and
said so, under --protect-ids: unsplit, its personal fields cannot be protected), and the
reader goes on at the next line whatever the line ends (LF, CRLF or a lone CR: with lone
CRs, the rest of the file used to be skipped as the rest of the bad line)."""
import csv
import os
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUNDLE = SOURCE / "models" / "example"


def bad_input(tmp_path, end):
    """The header and six declarations of the example; line 3 has a character after a
    closing quote, line 5 a quote never closed. Returns the path and the two bad lines."""
    lines = (BUNDLE / "declarations.csv").read_text().splitlines()[:7]
    first, rest = lines[2].split(",", 1)
    lines[2] = f'"{first}"x,{rest}'
    lines[4] = '"' + lines[4]
    path = tmp_path / "in.csv"
    path.write_bytes((end.join(lines) + end).encode())
    return path, [lines[2], lines[4]]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_unreadable_row_keeps_its_bytes(end, run_crisk, tmp_path):
    path, bad = bad_input(tmp_path, end)
    proc = run_crisk("score", "--bundle", BUNDLE, "--input", path, "--state",
                     tmp_path / "s.state", "--rejects", tmp_path / "rejects.csv")
    assert proc.stderr.endswith("rows read: 6, scored: 4, rejected: 2\n"), proc.stderr
    with open(tmp_path / "rejects.csv", newline="") as f:
        rejects = list(csv.DictReader(f))
    assert [int(r["line"]) for r in rejects] == [3, 5]
    assert [r["raw"] for r in rejects] == bad


def test_unreadable_row_withheld_when_protected(run_crisk, tmp_path):
    (tmp_path / "id.key").write_bytes(b"0123456789abcdef-secret")
    path, bad = bad_input(tmp_path, "\n")
    run_crisk("score", "--bundle", BUNDLE, "--input", path, "--state", tmp_path / "s.state",
              "--rejects", tmp_path / "rejects.csv", "--protect-ids", tmp_path / "id.key")
    with open(tmp_path / "rejects.csv", newline="") as f:
        rejects = list(csv.DictReader(f))
    assert [r["raw"] for r in rejects] == ["", ""]
    assert all("raw text withheld" in r["reason"] for r in rejects)
