"""Issue 15 leftover (a): a JSON string holding \\u0000 read through cJSON would end at the
NUL in C, so a watch-list entry "IMP00138\\u0000X" would silently become "IMP00138" (and
hit that importer) while the file says another id. Every JSON file crisk reads through
cJSON refuses it, naming the file, the line and the string; an event line holding one is
refused as malformed, never read cut short."""
import os
import shutil
from pathlib import Path

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXAMPLE = SOURCE / "models" / "example"


def score(run_crisk, bundle, *extra):
    return run_crisk("score", "--bundle", bundle, "--input", EXAMPLE / "declarations.csv",
                     *extra, check=False)


def test_watch_list_entry_with_nul_is_refused(run_crisk, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, bundle)
    profiles = bundle / "profiles.json"
    text = profiles.read_text()
    assert text.count('"IMP00138"') == 1
    profiles.write_text(text.replace('"IMP00138"', '"IMP00138\\u0000X"'))
    proc = score(run_crisk, bundle)
    assert proc.returncode != 0 and proc.stdout == ""
    assert "profiles.json" in proc.stderr and "IMP00138\\u0000X" in proc.stderr, proc.stderr
    # An escaped backslash before "u0000" is a literal text, not a NUL: still read.
    profiles.write_text(text.replace('"IMP00138"', '"IMP00138\\\\u0000X"'))
    assert score(run_crisk, bundle).returncode == 0


def test_event_with_nul_is_refused(run_crisk, tmp_path):
    lines = (EXAMPLE / "events.jsonl").read_text().splitlines()
    first = lines[0]
    assert first.count('"event_id":"') == 1, first
    events = tmp_path / "events.jsonl"
    cut = first.replace('"event_id":"', '"event_id":"E\\u0000', 1)
    events.write_text("\n".join([cut] + lines[1:]) + "\n")
    rejects = tmp_path / "rejects.csv"
    proc = score(run_crisk, EXAMPLE, "--events", events, "--device-keys",
                 EXAMPLE / "device_keys.json", "--event-rejects", rejects)
    assert proc.returncode == 0, proc.stderr
    first_reject = rejects.read_text().splitlines()[1]
    assert first_reject.startswith("1,") and "malformed" in first_reject, first_reject
    assert "\\u0000" in first_reject, first_reject
