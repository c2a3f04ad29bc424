"""`crisk score --audit/--audit-key` (one leaf per scored declaration, a signed checkpoint
per batch), `crisk audit prove --id`, and data protection (--protect-ids, --drop-ids).
Leaves, the bundle digest and the keyed hashes are recomputed here with hashlib/hmac."""
import csv
import hashlib
import hmac
import io
import json
import os
import re
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUNDLE = SOURCE / "models" / "example"
EVENTS = ["--events", BUNDLE / "events.jsonl", "--device-keys", BUNDLE / "device_keys.json"]
PERSONAL = ["declarant_id", "importer_id"]


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def leaves(run_crisk, log: Path) -> list[bytes]:
    """Every entry of the log, read back through inclusion proofs (the data line)."""
    n = int(re.search(r"size (\d+)", run_crisk("audit", "checkpoint", log).stdout).group(1))
    out = []
    for i in range(n):
        proof = run_crisk("audit", "prove", log, "--index", i).stdout
        out.append(bytes.fromhex(re.search(r"^data (\w+)$", proof, re.M).group(1)))
    return out


def bundle_digest() -> str:
    """SHA-256 over manifest.json and every file it names, in manifest order, each as its
    8-byte big-endian size then its bytes (docs/security.md)."""
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    files = [BUNDLE / "manifest.json"]
    for key, value in manifest.items():
        if key in ("format", "version"):
            continue
        files += [BUNDLE / m["file"] for m in value] if isinstance(value, list) \
            else [BUNDLE / value]
    h = hashlib.sha256()
    for f in files:
        data = f.read_bytes()
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


@pytest.fixture(scope="module")
def scored(tmp_path_factory, run_crisk):
    """The README's example (a) scored with --audit, in batches of 200."""
    d = tmp_path_factory.mktemp("score_audit")
    run_crisk("audit", "keygen", "--private", d / "k.pem", "--public", d / "k.pub")
    proc = run_crisk("score", "--bundle", BUNDLE, "--input", BUNDLE / "declarations.csv",
                     *EVENTS, "--audit", d / "log", "--audit-key", d / "k.pem",
                     "--batch-rows", 200, "--output", d / "out.csv")
    scored_n = int(re.search(r"scored: (\d+)", proc.stderr).group(1))
    return d, scored_n


def test_one_leaf_per_decision_and_verify(scored, run_crisk):
    d, n = scored
    out = run_crisk("audit", "verify", d / "log", "--pubkey", d / "k.pub").stdout
    assert f"{n} entries" in out and "3 checkpoints" in out  # 500 rows / 200 per batch
    records = read_rows(d / "out.csv")
    data = leaves(run_crisk, d / "log")
    assert len(data) == len(records) == n
    digest = bundle_digest()
    for raw, rec in zip(data, records):
        leaf = json.loads(raw)
        # Canonical: compact JSON with sorted keys, byte for byte.
        assert raw == json.dumps(leaf, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False).encode()
        assert leaf["id"] == rec["declaration_id"] and leaf["lane"] == rec["lane"]
        assert leaf["reason"] == rec["reason"] and leaf["bundle"] == digest
        assert ";".join(leaf["hits"]) == rec["hits"] and leaf["v"] == 2
        assert leaf["propensity"] == float(rec["propensity"])
        for model in ("fraud", "revenue", "fraud_logistic"):
            assert leaf["scores"][model] == pytest.approx(float(rec[model]), rel=1e-6)


def test_edited_lane_fails_verify_naming_it(scored, run_crisk, tmp_path):
    d, _ = scored
    raw = (d / "log").read_bytes()
    at = raw.index(b'"lane":"green"', len(raw) // 2)
    k = raw.count(b'"bundle":', 0, at) - 1  # the entry index of that leaf
    (tmp_path / "bad").write_bytes(raw[:at] + b'"lane":"red"  ' + raw[at + 14:])
    proc = run_crisk("audit", "verify", tmp_path / "bad", "--pubkey", d / "k.pub",
                     check=False)
    assert proc.returncode == 1
    assert re.search(rf"\bentry {k}\b", proc.stderr + proc.stdout), proc.stderr


def test_prove_by_id_checks_against_the_checkpoint_alone(scored, run_crisk, tmp_path):
    d, _ = scored
    records = read_rows(d / "out.csv")
    target = records[321]["declaration_id"]
    proof = run_crisk("audit", "prove", d / "log", "--id", target).stdout
    assert "index 321\n" in proof
    assert json.loads(bytes.fromhex(re.search(r"^data (\w+)$", proof, re.M)
                                    .group(1)))["id"] == target
    (tmp_path / "proof").write_text(proof)
    (tmp_path / "cp").write_text(run_crisk("audit", "checkpoint", d / "log").stdout)
    out = run_crisk("audit", "check-proof", tmp_path / "proof", "--checkpoint",
                    tmp_path / "cp", "--pubkey", d / "k.pub").stdout
    assert "entry 321" in out
    # A forged receipt (the lane changed in the data) does not verify.
    data_hex = re.search(r"^data (\w+)$", proof, re.M).group(1)
    leaf = bytes.fromhex(data_hex)
    lane = json.loads(leaf)["lane"]
    other = leaf.replace(f'"lane":"{lane}"'.encode(),
                         b'"lane":"green"' if lane != "green" else b'"lane":"red"')
    assert other != leaf
    forged = proof.replace(data_hex, other.hex())
    (tmp_path / "forged").write_text(forged)
    assert run_crisk("audit", "check-proof", tmp_path / "forged", "--checkpoint",
                     tmp_path / "cp", "--pubkey", d / "k.pub", check=False).returncode == 1
    missing = run_crisk("audit", "prove", d / "log", "--id", "NO-SUCH-ID", check=False)
    assert missing.returncode == 1 and "NO-SUCH-ID" in missing.stderr


@pytest.fixture(scope="module")
def small_input(tmp_path_factory) -> Path:
    """The first 80 declarations of the example."""
    lines = (BUNDLE / "declarations.csv").read_text().splitlines(keepends=True)[:81]
    path = tmp_path_factory.mktemp("small") / "decl.csv"
    path.write_text("".join(lines))
    return path


def keyed(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()[:16].hex()


def test_protect_ids_hashes_personal_fields(small_input, run_crisk, tmp_path):
    key = b"0123456789abcdef-secret"
    (tmp_path / "id.key").write_bytes(key)
    (tmp_path / "other.key").write_bytes(b"another key of 16+ bytes")
    run_crisk("audit", "keygen", "--private", tmp_path / "k.pem", "--public",
              tmp_path / "k.pub")
    inputs = read_rows(small_input)
    outs = []
    for name, k in (("a", "id.key"), ("b", "id.key"), ("c", "other.key")):
        run_crisk("score", "--bundle", BUNDLE, "--input", small_input, *EVENTS,
                  "--explain", 5, "--protect-ids", tmp_path / k, "--output",
                  tmp_path / f"{name}.csv")
        outs.append((tmp_path / f"{name}.csv").read_text())
    assert outs[0] == outs[1]  # same ids, same key: same hashes
    text = outs[0]
    for row in inputs:
        for field in PERSONAL:
            if row[field]:
                assert row[field] not in text and row[field] not in outs[2]
    rows = read_rows(tmp_path / "a.csv")
    other = read_rows(tmp_path / "c.csv")
    for inp, out, out2 in zip(inputs, rows, other):
        for field in PERSONAL:
            want = keyed(key, inp[field]) if inp[field] else ""
            assert out[field] == want
            assert not inp[field] or out2[field] != want  # another key, other hashes
    # The log: neither declaration ids nor personal ids, their keyed hashes instead;
    # prove --id finds the leaf with the key.
    run_crisk("score", "--bundle", BUNDLE, "--input", small_input, *EVENTS,
              "--protect-ids", tmp_path / "id.key", "--audit", tmp_path / "log",
              "--audit-key", tmp_path / "k.pem", "--output", tmp_path / "d.csv")
    raw = (tmp_path / "log").read_bytes()
    for row in inputs:
        assert row["declaration_id"].encode() not in raw
        assert row["importer_id"].encode() not in raw
    target = inputs[17]
    proof = run_crisk("audit", "prove", tmp_path / "log", "--id", target["declaration_id"],
                      "--id-key", tmp_path / "id.key").stdout
    leaf = json.loads(bytes.fromhex(re.search(r"^data (\w+)$", proof, re.M).group(1)))
    assert "index 17\n" in proof
    assert leaf["id_hmac"] == keyed(key, target["declaration_id"])
    assert leaf["personal_hmac"]["importer_id"] == keyed(key, target["importer_id"])


def test_drop_ids_removes_the_columns(small_input, run_crisk, tmp_path):
    out = run_crisk("score", "--bundle", BUNDLE, "--input", small_input, *EVENTS,
                    "--explain", 10, "--drop-ids", "--format", "csv").stdout
    header = next(csv.reader(io.StringIO(out)))
    assert not set(PERSONAL) & set(header)
    for row in read_rows(small_input):
        for field in PERSONAL:
            if row[field]:
                assert row[field] not in out
    plain = run_crisk("score", "--bundle", BUNDLE, "--input", small_input, *EVENTS,
                      "--explain", 10, "--format", "csv").stdout
    # Without --drop-ids the reasons do name raw importer ids (the option matters).
    assert any(row["importer_id"] in plain for row in read_rows(small_input))
    both = run_crisk("score", "--bundle", BUNDLE, "--input", small_input, "--drop-ids",
                     "--protect-ids", small_input, check=False)
    assert both.returncode == 2


def test_version_1_leaves_still_verify_and_prove(run_crisk, tmp_path):
    """A log holding a leaf of version 1 (written before propensities) and the version 2
    leaves crisk score appends now verifies, and prove --id finds a declaration in
    either."""
    run_crisk("audit", "keygen", "--private", tmp_path / "k.pem", "--public",
              tmp_path / "k.pub")
    v1 = ('{"bundle":"' + "0" * 64 + '","hits":[],"id":"OLD-1","lane":"green",'
          '"reason":"default lane green","scores":{"fraud":0.1},"time":1,"v":1}')
    (tmp_path / "v1.jsonl").write_text(v1 + "\n")
    run_crisk("audit", "append", tmp_path / "log", "--key", tmp_path / "k.pem", "--input",
              tmp_path / "v1.jsonl")
    # 60 declarations: enough for the policy's 2% budget share as one batch.
    head = "\n".join((BUNDLE / "declarations.csv").read_text().splitlines()[:61]) + "\n"
    (tmp_path / "in.csv").write_text(head)
    run_crisk("score", "--bundle", BUNDLE, "--input", tmp_path / "in.csv", "--output",
              tmp_path / "out.csv", "--audit", tmp_path / "log", "--audit-key",
              tmp_path / "k.pem")
    out = run_crisk("audit", "verify", tmp_path / "log", "--pubkey", tmp_path / "k.pub")
    assert "61 entries" in out.stdout
    data = leaves(run_crisk, tmp_path / "log")
    assert json.loads(data[0])["v"] == 1 and json.loads(data[1])["v"] == 2
    newest = read_rows(tmp_path / "out.csv")[0]["declaration_id"]
    for decl in ("OLD-1", newest):
        run_crisk("audit", "prove", tmp_path / "log", "--id", decl)


def bad_rows(tmp_path: Path, fmt: str) -> tuple[Path, list[dict]]:
    """Three declarations of the example: one with an unparsable net mass (rejected, its
    fields known), one that cannot be split into fields (a CSV row one field too wide, a
    JSON Lines line that is no JSON), one good."""
    rows = read_rows(BUNDLE / "declarations.csv")[:3]
    rows[0]["net_mass_kg"] = "12;5"
    path = tmp_path / f"bad.{fmt}"
    if fmt == "csv":
        names = list(rows[0])
        lines = [",".join(names)] + [",".join(r[n] for n in names) for r in rows]
        lines[2] += ",extra"
    else:
        lines = [json.dumps(r) for r in rows]
        lines[1] = lines[1][:-1]  # the closing brace cut off: not a JSON object
    path.write_text("\n".join(lines) + "\n")
    return path, rows


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("protection", ["--protect-ids", "--drop-ids"])
@pytest.mark.parametrize("sink", ["rejects.csv", "rejects.jsonl", None])
def test_rejects_protect_personal_fields(fmt, protection, sink, run_crisk, tmp_path):
    """Issue 15, defect 6: a rejected row's personal fields are hashed or dropped in the
    rejects file and on stderr as in outputs; a row that could not be split into fields
    has its raw text withheld, and says so."""
    key = b"0123456789abcdef-secret"
    (tmp_path / "id.key").write_bytes(key)
    path, rows = bad_rows(tmp_path, fmt)
    option = [protection] + ([tmp_path / "id.key"] if protection == "--protect-ids" else [])
    target = ["--rejects", tmp_path / sink] if sink else []
    # One good row: too small a batch for the budget, scored in stream mode (--state).
    base = ["score", "--bundle", BUNDLE, "--input", path, "--state",
            tmp_path / "lanes.state"] + target
    proc = run_crisk(*base, *option)
    assert proc.stderr.endswith("rows read: 3, scored: 1, rejected: 2\n")
    if sink is None:
        text, records = proc.stderr, []
    elif sink.endswith(".csv"):
        text = (tmp_path / sink).read_text()
        records = read_rows(tmp_path / sink)
    else:
        text = (tmp_path / sink).read_text()
        records = [json.loads(line) for line in text.splitlines()]
    for row in rows[:2]:
        for field in PERSONAL:
            assert row[field] not in text and row[field] not in proc.stderr
    if records:
        first_line = 2 if fmt == "csv" else 1  # after the header, or the first line
        assert [int(r["line"]) for r in records] == [first_line, first_line + 1]
        first, second = records
        want = {n: v for n, v in rows[0].items()}
        for field in PERSONAL:
            want[field] = keyed(key, rows[0][field]) if protection == "--protect-ids" else ""
        if fmt == "csv":
            assert next(csv.reader([first["raw"]])) == list(want.values())
        else:  # the object written again, cut to the 256 bytes a reject keeps
            for field in PERSONAL:
                want[field] = want[field] or None
            expected = json.dumps(want, separators=(",", ":"))
            assert len(first["raw"]) > 200 and expected.startswith(first["raw"])
        assert second["raw"] == "" and "raw text withheld" in second["reason"]
    if sink:  # without the option the rejects carry the ids in clear: the option matters
        run_crisk(*base)
        assert rows[0]["importer_id"] in (tmp_path / sink).read_text()


def test_protected_reject_hashes_the_canonical_value(run_crisk, tmp_path):
    """Issue 15 leftover (b): a personal value in a protected reject is hashed in the one
    canonical text the scored output hashes (docs/schema.md, "Canonical identifiers"): a
    JSON number as its literal (a 20-digit id, not %.17g's 1.2345678901234567e+19), a
    string trimmed and upper-cased; so one id has one hash in both."""
    key = b"0123456789abcdef-secret"
    (tmp_path / "id.key").write_bytes(key)
    rows = read_rows(BUNDLE / "declarations.csv")[:2]
    rows = [{**{f: r[f] for f in PERSONAL}, **r} for r in rows]  # personal keys first
    for r in rows:
        r["importer_id"] = 12345678901234567890
    rows[0]["declarant_id"] = " " + rows[1]["declarant_id"].lower() + " "
    rows[0]["net_mass_kg"] = "12;5"
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_crisk("score", "--bundle", BUNDLE, "--input", path, "--state", tmp_path / "s.state",
              "--protect-ids", tmp_path / "id.key", "--rejects", tmp_path / "rejects.jsonl",
              "--output", tmp_path / "out.csv")
    raw = json.loads((tmp_path / "rejects.jsonl").read_text())["raw"]
    scored = read_rows(tmp_path / "out.csv")[0]
    for field in PERSONAL:
        hashed = re.search(f'"{field}":"([0-9a-f]+)"', raw).group(1)
        assert hashed == scored[field] == keyed(key, str(rows[1][field]).strip().upper())
