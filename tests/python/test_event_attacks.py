"""Attacks on the example bundle's event stream through `crisk score` (docs/events.md,
"Threat model"): events added to models/example/events.jsonl by someone without the seal
readers' keys, and a signed event from a device whose clock jumped, must not change any
decision of README command (a). Each test scores the example with the altered stream and
compares with the unaltered run: an unsigned breach from a device the key file does not
list is no evidence; unsigned events that claim the genuine events' ids, or that carry a
2099 time for every device, do not make genuine events duplicates or out of order; a
signed event dated 2099 is refused (future_time) and does not block its device; a key file
with an all-zero key, or none at all, is refused before any event is read."""
import csv
import hashlib
import hmac
import json
import os
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXAMPLE = SOURCE / "models" / "example"
EVENTS = EXAMPLE / "events.jsonl"
KEYS = EXAMPLE / "device_keys.json"
TARGET = "D0090000275"   # red through EV-SEAL in the README


def score(run_crisk, tmp_path, lines):
    """Scores the example with the event `lines`; returns its rows by declaration id and
    the kinds of the refused events by line."""
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    proc = run_crisk("score", "--bundle", EXAMPLE, "--input", EXAMPLE / "declarations.csv",
                     "--events", events, "--device-keys", KEYS, "--event-rejects",
                     tmp_path / "rejects.csv")
    rows = {r["declaration_id"]: r for r in csv.DictReader(proc.stdout.splitlines())}
    with open(tmp_path / "rejects.csv", newline="") as f:
        kinds = {int(r["line"]): r["kind"] for r in csv.DictReader(f)}
    return rows, kinds


@pytest.fixture(scope="module")
def baseline(run_crisk, tmp_path_factory):
    """The unaltered run: rows by id, refused kinds by line, the stream's lines."""
    lines = EVENTS.read_text().splitlines()
    rows, kinds = score(run_crisk, tmp_path_factory.mktemp("baseline"), lines)
    assert rows[TARGET]["lane"] == "red" and "EV-SEAL" in rows[TARGET]["hits"].split(";")
    assert set(kinds.values()) == {"bad_hmac"}   # the three forged breaches
    return rows, kinds, lines


def event(event_id, device, time, key_value="MSCU0000000", etype="seal.tampered"):
    return {"event_id": event_id, "key": {"type": "container", "value": key_value},
            "type": etype, "device_id": device, "time": time}


def signed(ev, key_hex):
    """Returns `ev` as a line signed with `key_hex` (docs/events.md, "Signing")."""
    text = "\n".join(["crisk-event-v1", ev["event_id"], ev["key"]["type"], ev["key"]["value"],
                      ev["type"], ev["device_id"], ev["time"], ""])
    mac = hmac.new(bytes.fromhex(key_hex), text.encode(), hashlib.sha256).hexdigest()
    return json.dumps({**ev, "hmac": mac}, separators=(",", ":"))


def assert_same_decisions(rows, base):
    assert rows.keys() == base.keys()
    for decl, row in rows.items():
        assert row == base[decl], decl


def test_unsigned_breach_from_an_unknown_device_is_no_evidence(run_crisk, tmp_path,
                                                                 baseline):
    base, _, lines = baseline
    decls = list(csv.DictReader(open(EXAMPLE / "declarations.csv", newline="")))
    green = next(d for d in decls if base[d["declaration_id"]]["lane"] == "green"
                 and d["container_id"])
    fake = event("FAKE-1", "FAKE-SEAL-1", green["declaration_date"] + "T06:00:00Z",
                 green["container_id"])
    rows, kinds = score(run_crisk, tmp_path, lines + [json.dumps(fake)])
    assert rows[green["declaration_id"]]["lane"] == "green"
    assert kinds[len(lines) + 1] == "unknown_device"
    assert_same_decisions(rows, base)


def test_claimed_ids_do_not_make_signed_events_duplicates(run_crisk, tmp_path, baseline):
    """3000 unsigned events first, from an RFID gate (listed as unsigned), with the ids
    EV00000000..EV00002999 the genuine stream uses."""
    base, base_kinds, lines = baseline
    claims = [json.dumps(event(f"EV{k:08d}", "RFID-GATE-00", "2025-01-01T00:00:00Z",
                               etype="rfid.read")) for k in range(3000)]
    rows, kinds = score(run_crisk, tmp_path, claims + lines)
    assert rows[TARGET]["lane"] == "red"
    assert "EV-SEAL" in rows[TARGET]["hits"].split(";")
    # Only the gate's own genuine events can clash with its claims: every signed event
    # stands (the forged ones stay refused as bad_hmac).
    shifted = {line + len(claims): kind for line, kind in base_kinds.items()}
    for line, kind in kinds.items():
        if line not in shifted:
            assert kind == "duplicate_id", (line, kind)
            assert json.loads(lines[line - len(claims) - 1])["device_id"] == "RFID-GATE-00"
    assert {k: v for k, v in kinds.items() if k in shifted} == shifted


def test_unsigned_events_from_2099_do_not_block_devices(run_crisk, tmp_path, baseline):
    """One unsigned event per device of the stream, dated 2099, before everything."""
    base, _, lines = baseline
    devices = sorted({json.loads(line)["device_id"] for line in lines})
    first = [json.dumps(event(f"LATE-{k}", d, "2099-01-01T00:00:00Z", etype="rfid.read"))
             for k, d in enumerate(devices)]
    rows, kinds = score(run_crisk, tmp_path, first + lines)
    assert "out_of_order" not in kinds.values()
    assert sum(1 for k in kinds.values() if k == "bad_hmac") == 3
    assert_same_decisions(rows, base)


def test_a_signed_event_from_the_future_does_not_block_its_device(run_crisk, tmp_path,
                                                                    baseline):
    """The seal reader that reported the target's breach sends, first, a correctly signed
    event dated 2099 (its clock jumped)."""
    base, _, lines = baseline
    decls = {d["declaration_id"]: d
             for d in csv.DictReader(open(EXAMPLE / "declarations.csv", newline=""))}
    container = decls[TARGET]["container_id"]
    breach = next(json.loads(line) for line in lines
                  if f'"value":"{container}"' in line and '"seal.tampered"' in line)
    keys = {d["device_id"]: d["key"] for d in json.loads(KEYS.read_text())["devices"]
            if "key" in d}
    device = breach["device_id"]
    glitch = signed(event("GLITCH-1", device, "2099-01-01T00:00:00Z"), keys[device])
    rows, kinds = score(run_crisk, tmp_path, [glitch] + lines)
    assert rows[TARGET]["lane"] == "red"
    assert "out_of_order" not in kinds.values()
    assert kinds[1] == "future_time"
    assert_same_decisions(rows, base)


def test_events_need_a_device_key_file(run_crisk):
    """Without --device-keys no device is known: the command line is refused (exit 2)
    rather than every event."""
    proc = run_crisk("score", "--bundle", EXAMPLE, "--input", EXAMPLE / "declarations.csv",
                     "--events", EVENTS, check=False)
    assert proc.returncode == 2
    assert "--device-keys" in proc.stderr


def test_an_all_zero_device_key_is_refused(run_crisk, tmp_path):
    """A key file whose seal reader has the all-zero key (a placeholder anyone can sign
    with) fails the run, naming the entry."""
    doc = json.loads(KEYS.read_text())
    signer = next(k for k, d in enumerate(doc["devices"]) if "key" in d)
    doc["devices"][signer]["key"] = "00" * 32
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(doc))
    proc = run_crisk("score", "--bundle", EXAMPLE, "--input", EXAMPLE / "declarations.csv",
                     "--events", EVENTS, "--device-keys", keys, check=False)
    assert proc.returncode == 1
    assert f"devices[{signer}].key" in proc.stderr and "placeholder" in proc.stderr
