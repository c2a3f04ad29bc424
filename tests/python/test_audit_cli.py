"""`crisk inspect/predict --sha256` (model pinning) and the `crisk audit` commands: a log
written through the command, its checkpoints and proofs checked with the command and
recomputed here from RFC 6962 with hashlib, and every kind of tampering refused."""
import ctypes
import hashlib
import json
import os
import re
import time
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
MODEL = SOURCE / "models" / "example" / "fraud_xgb.json"
BUNDLE = SOURCE / "models" / "example"


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> Path:
    """A few cases for MODEL: a header of its feature names, then rows of numbers."""
    names = json.loads(MODEL.read_text())["learner"]["feature_names"]
    path = tmp_path_factory.mktemp("cases") / "cases.csv"
    rows = [",".join(names)] + [",".join(str(i * 0.5 + j) for j in range(len(names)))
                                for i in range(5)]
    path.write_text("\n".join(rows) + "\n")
    return path


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962's Merkle tree hash of a list of leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while 2 * k < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def checkpoint_fields(text: str) -> dict:
    return dict(line.split(" ", 1) for line in text.splitlines()[1:])


# ---- pinning --------------------------------------------------------------------------

def test_inspect_prints_the_file_digest(run_crisk):
    out = run_crisk("inspect", "--model", MODEL).stdout
    assert f"sha256: {hashlib.sha256(MODEL.read_bytes()).hexdigest()}\n" in out


def test_pinned_predict_and_inspect(run_crisk, tmp_path, cases):
    digest = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    plain = run_crisk("predict", "--model", MODEL, "--input", cases).stdout
    pinned = run_crisk("predict", "--model", MODEL, "--input", cases, "--sha256", digest)
    assert pinned.stdout == plain
    run_crisk("inspect", "--model", MODEL, "--sha256", digest.upper())

    wrong = hashlib.sha256(b"another model").hexdigest()
    for command in (["predict", "--input", cases], ["inspect"]):
        proc = run_crisk(*command, "--model", MODEL, "--sha256", wrong, check=False)
        assert proc.returncode == 1
        assert proc.stdout == ""
        assert "CRISK_E_INTEGRITY" in proc.stderr
        assert digest in proc.stderr and wrong in proc.stderr

    # A model changed by one byte that still parses is refused under its old pin.
    changed = tmp_path / "model.json"
    changed.write_bytes(MODEL.read_bytes() + b"\n")
    run_crisk("inspect", "--model", changed)
    proc = run_crisk("inspect", "--model", changed, "--sha256", digest, check=False)
    assert proc.returncode == 1 and "CRISK_E_INTEGRITY" in proc.stderr

    # A malformed digest is a bad command line (2), not a refused model (1).
    proc = run_crisk("inspect", "--model", MODEL, "--sha256", "abc", check=False)
    assert proc.returncode == 2 and "64 hex digits" in proc.stderr


# ---- the audit log --------------------------------------------------------------------

BATCHES = [[f"declaration {b}-{i}: score 0.{b}{i}" for i in range(n)]
           for b, n in enumerate([3, 5, 1, 8])]


@pytest.fixture
def audit_log(run_crisk, tmp_path):
    """A log of four batches, a checkpoint after each; returns (dir, checkpoint paths)."""
    run_crisk("audit", "keygen", "--private", tmp_path / "k.pem", "--public",
              tmp_path / "k.pub")
    run_crisk("audit", "keygen", "--private", tmp_path / "o.pem", "--public",
              tmp_path / "o.pub")
    cps = []
    for b, batch in enumerate(BATCHES):
        out = run_crisk("audit", "append", tmp_path / "log", "--key", tmp_path / "k.pem",
                        input="".join(line + "\n" for line in batch)).stdout
        cps.append(tmp_path / f"cp{b}")
        cps[-1].write_text(out)
    return tmp_path, cps


def test_checkpoints_are_rfc6962_roots(audit_log, run_crisk):
    d, cps = audit_log
    entries = [e.encode() for batch in BATCHES for e in batch]
    leaves = [leaf_hash(e) for e in entries]
    size = 0
    for b, cp in enumerate(cps):
        size += len(BATCHES[b])
        fields = checkpoint_fields(cp.read_text())
        assert int(fields["size"]) == size
        assert fields["root"] == mth(leaves[:size]).hex()
    assert run_crisk("audit", "checkpoint", d / "log").stdout == cps[-1].read_text()
    out = run_crisk("audit", "verify", d / "log", "--pubkey", d / "k.pub",
                    "--checkpoint", cps[1]).stdout
    assert out == f"ok: {len(entries)} entries, {len(cps)} checkpoints\n"


def test_inclusion_proofs(audit_log, run_crisk):
    d, cps = audit_log
    entries = [e.encode() for batch in BATCHES for e in batch]
    leaves = [leaf_hash(e) for e in entries]
    for index in range(len(entries)):
        proof = d / f"proof{index}"
        proof.write_text(run_crisk("audit", "prove", d / "log", "--index", index).stdout)
        lines = proof.read_text().splitlines()
        assert lines[:4] == ["crisk-audit-inclusion v1", f"index {index}",
                             f"size {len(entries)}", f"data {entries[index].hex()}"]
        # Recompute the root from the path here, with RFC 9162's algorithm.
        fn, sn, r = index, len(entries) - 1, leaves[index]
        for line in lines[4:]:
            p = bytes.fromhex(line.split()[1])
            if fn & 1 or fn == sn:
                r = hashlib.sha256(b"\x01" + p + r).digest()
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
            else:
                r = hashlib.sha256(b"\x01" + r + p).digest()
            fn, sn = fn >> 1, sn >> 1
        assert sn == 0 and r.hex() == checkpoint_fields(cps[-1].read_text())["root"]
        run_crisk("audit", "check-proof", proof, "--checkpoint", cps[-1], "--pubkey",
                  d / "k.pub")

    # Against an earlier checkpoint.
    proof = d / "early"
    proof.write_text(run_crisk("audit", "prove", d / "log", "--index", 2,
                               "--checkpoint", cps[0]).stdout)
    run_crisk("audit", "check-proof", proof, "--checkpoint", cps[0], "--pubkey", d / "k.pub")
    assert run_crisk("audit", "prove", d / "log", "--index", 3, "--checkpoint", cps[0],
                     check=False).returncode == 1

    # Forgeries: other data, a changed path, another checkpoint, another key, an edited
    # checkpoint.
    good = (d / "proof4").read_text()
    forged = {
        "data": good.replace(f"data {entries[4].hex()}", f"data {b'declaration 9'.hex()}"),
        "path": re.sub(r"path (.)", lambda m: "path " + ("0" if m[1] != "0" else "1"),
                       good, count=1),
        "index": good.replace("index 4", "index 5"),
    }
    for what, text in forged.items():
        (d / "forged").write_text(text)
        proc = run_crisk("audit", "check-proof", d / "forged", "--checkpoint", cps[-1],
                         "--pubkey", d / "k.pub", check=False)
        assert proc.returncode == 1, what
    proc = run_crisk("audit", "check-proof", d / "proof4", "--checkpoint", cps[2],
                     "--pubkey", d / "k.pub", check=False)
    assert proc.returncode == 1 and "checkpoint signs" in proc.stderr
    proc = run_crisk("audit", "check-proof", d / "proof4", "--checkpoint", cps[-1],
                     "--pubkey", d / "o.pub", check=False)
    assert proc.returncode == 1 and "signature" in proc.stderr
    edited = cps[-1].read_text().replace("time ", "time 1")
    (d / "edited").write_text(edited)
    proc = run_crisk("audit", "check-proof", d / "proof4", "--checkpoint", d / "edited",
                     "--pubkey", d / "k.pub", check=False)
    assert proc.returncode == 1 and "signature" in proc.stderr


def test_consistency_proofs(audit_log, run_crisk):
    d, cps = audit_log
    for a in range(len(cps)):
        for b in range(a, len(cps)):
            proof = d / f"cons{a}{b}"
            proof.write_text(run_crisk("audit", "consistency", cps[a], cps[b], "--log",
                                       d / "log").stdout)
            out = run_crisk("audit", "check-consistency", proof, "--old", cps[a], "--new",
                            cps[b], "--pubkey", d / "k.pub").stdout
            assert out.startswith("ok: ")
            if a < b:
                # Swapped checkpoints, or a proof between other trees, do not verify.
                assert run_crisk("audit", "check-consistency", proof, "--old", cps[b],
                                 "--new", cps[a], "--pubkey", d / "k.pub",
                                 check=False).returncode == 1
                other = min(b + 1, len(cps) - 1)
                if other != b:
                    assert run_crisk("audit", "check-consistency", proof, "--old", cps[a],
                                     "--new", cps[other], "--pubkey", d / "k.pub",
                                     check=False).returncode == 1
    # A proof with one hash changed fails.
    text = (d / "cons03").read_text()
    (d / "bad").write_text(re.sub(r"path (.)", lambda m: "path " + ("a" if m[1] != "a" else "b"),
                                  text, count=1))
    assert run_crisk("audit", "check-consistency", d / "bad", "--old", cps[0], "--new",
                     cps[3], "--pubkey", d / "k.pub", check=False).returncode == 1


def test_tampered_logs_fail_verify(audit_log, run_crisk):
    d, cps = audit_log
    original = (d / "log").read_bytes()
    target = b"declaration 1-2: score 0.12"
    at = original.index(target)
    cases = {
        "edited": original[:at] + b"D" + original[at + 1:],
        "damaged header": original[:at - 15] + bytes([original[at - 15] ^ 1]) +
                          original[at - 14:],
    }
    for what, image in cases.items():
        (d / "bad").write_bytes(image)
        proc = run_crisk("audit", "verify", d / "bad", "--pubkey", d / "k.pub", check=False)
        assert proc.returncode == 1, what
        assert "entry 5" in proc.stderr, (what, proc.stderr)
        # Appending to a damaged log is refused, and the file is left alone.
        proc = run_crisk("audit", "append", d / "bad", "--key", d / "k.pem", input="x\n",
                         check=False)
        assert proc.returncode == 1
        assert (d / "bad").read_bytes() == image


def test_torn_append_is_recovered(audit_log, run_crisk):
    d, cps = audit_log
    original = (d / "log").read_bytes()
    # Cut the file in the middle of the last record (the last checkpoint).
    cut = original[:len(original) - 100]
    (d / "log").write_bytes(cut)
    n = sum(map(len, BATCHES))
    # verify names what is not yet signed and what the next append cuts off: the rest of
    # the checkpoint record (header, text, checksum) after the cut.
    signed = n - len(BATCHES[-1])
    torn = 17 + len(cps[-1].read_bytes()) + 32 - 100
    assert run_crisk("audit", "verify", d / "log", "--pubkey", d / "k.pub").stdout == (
        f"ok: {n} entries, {len(cps) - 1} checkpoints\n"
        f"{n - signed} entries after the last checkpoint ({signed} to {n - 1}): no checkpoint "
        "signs them yet\n"
        f"{torn} bytes after the last valid record: a torn record, which the next append "
        "cuts off\n")
    run_crisk("audit", "append", d / "log", "--key", d / "k.pem", input="after the crash\n")
    out = run_crisk("audit", "verify", d / "log", "--pubkey", d / "k.pub", "--checkpoint",
                    cps[2]).stdout
    assert out == f"ok: {n + 1} entries, {len(cps)} checkpoints\n"
    # The last checkpoint of before the crash was lost with the torn record; one kept
    # elsewhere still matches, the log having kept every entry.
    run_crisk("audit", "verify", d / "log", "--pubkey", d / "k.pub", "--checkpoint", cps[3])


def test_usage_errors(run_crisk, tmp_path):
    assert run_crisk("audit", check=False).returncode == 2
    assert run_crisk("audit", "frobnicate", check=False).returncode == 2
    assert run_crisk("audit", "verify", check=False).returncode == 2
    assert run_crisk("audit", "prove", tmp_path / "log", check=False).returncode == 2
    assert run_crisk("audit", "verify", tmp_path / "missing", check=False).returncode == 1


# ---- failing closed (issue 15, defect 5) ----------------------------------------------

def score_audited(run_crisk, d: Path, *extra, key="k.pem", check=True):
    """`crisk score` of the example declarations, batches of 200, logged to d/log."""
    return run_crisk("score", "--bundle", BUNDLE, "--input", BUNDLE / "declarations.csv",
                     "--batch-rows", 200, "--audit", d / "log", "--audit-key", d / key,
                     *extra, check=check)


def checkpoint_in_the_future(d: Path, seconds: int):
    """Appends one entry and a checkpoint dated `seconds` ahead of now to d/log, through
    the library (the command always signs with the clock): the log a writer whose clock
    then steps back finds."""
    lib = ctypes.CDLL(str(Path(os.environ.get("CRISK_BUILD_DIR", "build")) / "lib" /
                          "libcrisk.so"))
    vp = ctypes.c_void_p
    key, log = vp(), vp()
    lib.crisk_audit_key_load.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(vp), vp]
    lib.crisk_audit_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(vp), vp]
    lib.crisk_audit_append.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t, vp, vp]
    lib.crisk_audit_checkpoint.argtypes = [vp, vp, ctypes.c_int64, vp, vp]
    lib.crisk_audit_close.argtypes = [vp]
    lib.crisk_audit_key_free.argtypes = [vp]
    assert lib.crisk_audit_key_load(str(d / "k.pem").encode(), 1, ctypes.byref(key), None) == 0
    assert lib.crisk_audit_open(str(d / "log").encode(), ctypes.byref(log), None) == 0
    assert lib.crisk_audit_append(log, b"before the clock stepped back", 29, None, None) == 0
    assert lib.crisk_audit_checkpoint(log, key, int(time.time()) + seconds, None, None) == 0
    lib.crisk_audit_close(log)
    lib.crisk_audit_key_free(key)


def test_clock_stepped_back_keeps_the_log_valid(audit_log, run_crisk):
    """A clock 60 s behind the last checkpoint (NTP, a VM restored): the next runs hold
    its time and say so; the log still verifies and takes later runs."""
    d, _ = audit_log
    (d / "log").unlink()
    checkpoint_in_the_future(d, 60)
    ahead = int(checkpoint_fields(run_crisk("audit", "checkpoint", d / "log").stdout)["time"])
    for _ in range(2):
        score_audited(run_crisk, d, "--output", d / "out.csv")
        run_crisk("audit", "verify", d / "log", "--pubkey", d / "k.pub")
    last = checkpoint_fields(run_crisk("audit", "checkpoint", d / "log").stdout)
    assert int(last["time"]) == ahead
    assert 0 < int(last["clock-behind"]) <= 60


def retype_header(image: bytes, at: int, length: int) -> bytes:
    """The record header at `at` with a new length, its header check recomputed."""
    header = image[at:at + 1] + length.to_bytes(4, "big") + image[at + 5:at + 13]
    return (image[:at] + header + hashlib.sha256(header).digest()[:4] +
            image[at + 17:])


def test_edited_header_is_no_torn_end(audit_log, run_crisk):
    """One header rewritten to claim the rest of the file, its check recomputed: verify
    and append refuse the log and say what recovery would have cut; nothing is cut."""
    d, cps = audit_log
    image = (d / "log").read_bytes()
    at = image.index(b"declaration 1-2: score 0.12") - 17
    edited = retype_header(image, at, len(image) - at)
    (d / "log").write_bytes(edited)
    proc = run_crisk("audit", "verify", d / "log", "--pubkey", d / "k.pub", check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "the header was edited" in proc.stderr, proc.stderr
    assert f"{len(image) - at} bytes after the last valid record" in proc.stderr
    proc = run_crisk("audit", "append", d / "log", "--key", d / "k.pem", input="x\n",
                     check=False)
    assert proc.returncode == 1 and "the header was edited" in proc.stderr
    assert (d / "log").read_bytes() == edited


def test_output_failure_logs_nothing(tmp_path, run_crisk):
    """Disk full on the output: the batch is neither delivered nor logged, the run says
    so, and a symlink (like /dev/stdout) given as the output is not removed."""
    run_crisk("audit", "keygen", "--private", tmp_path / "k.pem", "--public",
              tmp_path / "k.pub")
    (tmp_path / "out.csv").symlink_to("/dev/full")
    proc = score_audited(run_crisk, tmp_path, "--output", tmp_path / "out.csv", check=False)
    assert proc.returncode == 1
    assert "lines 2 to 201 were not delivered, nor logged" in proc.stderr, proc.stderr
    assert "no decision of this run was logged" in proc.stderr
    assert run_crisk("audit", "verify", tmp_path / "log").stdout == "ok: 0 entries, " \
        "0 checkpoints\n"
    assert (tmp_path / "out.csv").is_symlink()
    # crisk predict shares the output's failure path.
    (tmp_path / "cases.csv").write_text(
        ",".join(json.loads(MODEL.read_text())["learner"]["feature_names"]) + "\n")
    proc = run_crisk("predict", "--model", MODEL, "--input", tmp_path / "cases.csv",
                     "--output", tmp_path / "out.csv", check=False)
    assert proc.returncode == 1 and (tmp_path / "out.csv").is_symlink()


def test_failed_run_names_logged_decisions_not_delivered(tmp_path, run_crisk):
    """A failure after every batch was delivered and logged (here the rejects file is
    full) removes the output the run created: the run names the log entries whose
    decisions that took back."""
    run_crisk("audit", "keygen", "--private", tmp_path / "k.pem", "--public",
              tmp_path / "k.pub")
    score_audited(run_crisk, tmp_path, "--output", tmp_path / "first.csv")
    before = int(run_crisk("audit", "verify", tmp_path / "log").stdout.split()[1])
    declarations = tmp_path / "declarations.csv"
    declarations.write_text((BUNDLE / "declarations.csv").read_text() + "one,bad,row\n")
    proc = run_crisk("score", "--bundle", BUNDLE, "--input", declarations, "--batch-rows",
                     200, "--audit", tmp_path / "log", "--audit-key", tmp_path / "k.pem",
                     "--output", tmp_path / "out.csv", "--rejects", "/dev/full", check=False)
    assert proc.returncode == 1 and not (tmp_path / "out.csv").exists()
    after = int(run_crisk("audit", "verify", tmp_path / "log").stdout.split()[1])
    assert after == 2 * before
    assert (f"entries {before} to {after - 1} (this run's {before} decisions) were logged, "
            f"but not delivered: their output {tmp_path / 'out.csv'} was removed") \
        in proc.stderr, proc.stderr


def test_a_log_keeps_its_key(audit_log, run_crisk):
    """Another key is refused before anything is written, by score and by append."""
    d, _ = audit_log
    image = (d / "log").read_bytes()
    proc = score_audited(run_crisk, d, "--output", d / "out.csv", key="o.pem", check=False)
    assert proc.returncode == 1 and "key does not match" in proc.stderr, proc.stderr
    proc = run_crisk("audit", "append", d / "log", "--key", d / "o.pem", input="x\n",
                     check=False)
    assert proc.returncode == 1 and "key does not match" in proc.stderr
    assert (d / "log").read_bytes() == image
    run_crisk("audit", "verify", d / "log", "--pubkey", d / "k.pub")


def test_swapped_log_does_not_extend_the_checkpoint(audit_log, run_crisk):
    """A kept checkpoint against another, shorter log: the log does not extend it (the
    file cannot tell whether entries were removed or the log replaced)."""
    d, cps = audit_log
    run_crisk("audit", "append", d / "other", "--key", d / "k.pem", input="a\nb\n")
    proc = run_crisk("audit", "verify", d / "other", "--pubkey", d / "k.pub",
                     "--checkpoint", cps[-1], check=False)
    assert proc.returncode == 1
    assert "does not extend the given checkpoint" in proc.stderr, proc.stderr
    assert "removed" not in proc.stderr
    proc = run_crisk("audit", "verify", d / "other", "--checkpoint", cps[0], check=False)
    assert proc.returncode == 1 and "does not extend the given checkpoint" in proc.stderr
