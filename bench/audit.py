#!/usr/bin/env python3
"""The cost of the decision log: `crisk score --audit` against plain `crisk score` on the same input.

Writes the example declarations (models/example/declarations.csv) repeated to --rows rows
in a temporary directory, makes an audit key pair there, and runs, alternately, --runs
times each:

- plain: `crisk score --bundle models/example --input IN --output OUT.csv`;
- audit: the same with `--audit LOG --audit-key KEY` (a fresh log each run: one leaf per
  declaration, a signed checkpoint per batch of --batch-rows).

It checks that both write the same output and that each log verifies with one entry per
row, then prints the rows/s of each (median over the runs, wall clock and the child's CPU
time) and their ratio (audit / plain). fsync waits count on the wall clock only.

    python3 bench/audit.py [--crisk build/crisk] [--rows 100000] [--runs 5]
                           [--batch-rows 8192]
"""
from __future__ import annotations

import argparse
import filecmp
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "models" / "example"


def write_input(path: Path, rows: int) -> None:
    """The example declarations repeated (header once) to `rows` rows."""
    header, *body = (BUNDLE / "declarations.csv").read_text().splitlines()
    with open(path, "w") as f:
        f.write(header + "\n")
        for i in range(rows):
            f.write(body[i % len(body)] + "\n")


def timed(cmd: list) -> tuple[float, float]:
    """Runs `cmd` (which must succeed); returns its wall and CPU (user + system) seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--crisk", default=str(ROOT / "build" / "crisk"))
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch-rows", type=int, default=8192)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write_input(d / "in.csv", a.rows)
        subprocess.run([a.crisk, "audit", "keygen", "--private", d / "k.pem", "--public",
                        d / "k.pub"], check=True)
        base = [a.crisk, "score", "--bundle", BUNDLE, "--input", d / "in.csv",
                "--batch-rows", str(a.batch_rows)]
        times = {"plain": [], "audit": []}
        for _ in range(a.runs):
            times["plain"].append(timed(base + ["--output", d / "plain.csv"]))
            (d / "log").unlink(missing_ok=True)
            times["audit"].append(timed(base + ["--output", d / "audit.csv", "--audit",
                                                d / "log", "--audit-key", d / "k.pem"]))
            if not filecmp.cmp(d / "plain.csv", d / "audit.csv", shallow=False):
                raise SystemExit("the audited run wrote another output")
            out = subprocess.run([a.crisk, "audit", "verify", d / "log", "--pubkey",
                                  d / "k.pub"], check=True, capture_output=True, text=True)
            if not out.stdout.startswith(f"ok: {a.rows} entries"):
                raise SystemExit(f"the log does not hold one entry per row: {out.stdout}")
    print(f"crisk score, {a.rows} declarations, batches of {a.batch_rows}, medians of "
          f"{a.runs} runs (rows/s)")
    print(f"{'':8}{'wall':>12}{'cpu':>12}")
    rate = {}
    for name, runs in times.items():
        rate[name] = [a.rows / statistics.median(t[k] for t in runs) for k in (0, 1)]
        print(f"{name:8}{rate[name][0]:>12,.0f}{rate[name][1]:>12,.0f}")
    print(f"{'ratio':8}{rate['audit'][0] / rate['plain'][0]:>12.2f}"
          f"{rate['audit'][1] / rate['plain'][1]:>12.2f}   (audit / plain)")


if __name__ == "__main__":
    main()
