#!/usr/bin/env python3
"""One declaration a call through the Python binding: a clearance system's call, one record
in and its lane out, with the bundle's border sensor events (loaded once) and a streaming
lane state, timed per call with time.perf_counter_ns; p50 and p99 of each run, medians
over the runs; and the thread's CPU time per call over each run (timing included), its
median, which a loaded machine's scheduler does not inflate.

    PYTHONPATH=build/bindings/python python3 bench/declaration_python.py \
        [--bundle models/example] [--calls 2000] [--runs 5] [--warmup 10000] [--no-events]
        [--api decider|score] [--json]

--api decider (the default): Bundle.decider, the events read once (Bundle.load_events),
the record as a dict. --api score: Bundle.score of a list of one record per call, the
events read again at every call (the only path before the Decider).

Before timing, the lanes decided one a call are checked against the same declarations
scored as one batch with a fresh state (every one must agree, or the bench fails).
"""
from __future__ import annotations

import argparse
import csv
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import crisk

Record = Dict[str, Optional[str]]


def read_records(path: Path) -> List[Record]:
    """Returns the declarations of a CSV file as dicts of text (field name to value)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def quantile(sorted_ns: List[int], q: float) -> float:
    """As bench.c's quantile: the element at q * (n - 1), rounded, of sorted values."""
    return float(sorted_ns[min(len(sorted_ns) - 1, round(q * (len(sorted_ns) - 1)))])


def check_lanes(bundle, records: List[Record], events) -> None:
    """Fails unless every lane decided one declaration a call by a Decider (fresh state, the
    events read once) equals the lane of the same declarations scored as one batch (another
    fresh state)."""
    whole = bundle.score(records, state=bundle.stream(), **events).scores["lane"].tolist()
    decider = bundle.decider(bundle.stream(), bundle.load_events(**events) if events else None)
    for i, record in enumerate(records):
        lane = decider.decide(record).lane
        if lane != whole[i]:
            sys.exit(f"declaration {i}: lane {lane} one a call, {whole[i]} in one batch")


def measure(call: Callable[[Record], str], records: List[Record], calls: int, runs: int,
            warmup: int) -> Dict[str, object]:
    """Times `runs` runs of `calls` calls (after `warmup` untimed ones); returns the
    medians of their p50, p99 and CPU time per call in microseconds, and each run's p99."""
    n = len(records)
    for c in range(warmup):
        call(records[c % n])
    p50, p99, cpu = [], [], []
    clock = time.perf_counter_ns
    for _ in range(runs):
        ns = [0] * calls
        gc.collect()
        cpu0 = time.thread_time_ns()
        for c in range(calls):
            record = records[c % n]
            t0 = clock()
            lane = call(record)
            ns[c] = clock() - t0
            if lane is None:
                sys.exit("a declaration got no lane")
        cpu.append((time.thread_time_ns() - cpu0) / 1e3 / calls)
        ns.sort()
        p50.append(quantile(ns, 0.5) / 1e3)
        p99.append(quantile(ns, 0.99) / 1e3)
    return {"p50_us": statistics.median(p50), "p99_us": statistics.median(p99),
            "cpu_us": statistics.median(cpu),
            "p99_by_run": [round(v, 2) for v in p99]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, default=Path("models/example"))
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=10000,
                    help="untimed calls first: enough to fill the example policy's window "
                    "of 5000 scores (its steady state)")
    ap.add_argument("--no-events", action="store_true",
                    help="score without the bundle's events (as crisk-bench's C row does)")
    ap.add_argument("--api", choices=("decider", "score"), default="decider")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args()

    bundle = crisk.Bundle(a.bundle)
    records = read_records(a.bundle / "declarations.csv")
    events = {} if a.no_events else {
        "events": (a.bundle / "events.jsonl").read_bytes(),
        "device_keys": a.bundle / "device_keys.json"}
    check_lanes(bundle, records, events)
    state = bundle.stream()
    if a.api == "decider":
        decide = bundle.decider(state, bundle.load_events(**events) if events else None).decide

        def call(record: Record) -> str:
            return decide(record).lane
    else:
        def call(record: Record) -> str:
            return bundle.score([record], state=state, **events).scores["lane"].iloc[0]

    figures = measure(call, records, a.calls, a.runs, a.warmup)
    figures.update(api=a.api, bundle=str(a.bundle), events=not a.no_events, calls=a.calls,
                   runs=a.runs)
    if a.json:
        print(json.dumps(figures))
    else:
        print(f"python declaration-1 ({a.api}, {a.bundle}, "
              f"{'without' if a.no_events else 'with'} "
              f"events): p50 {figures['p50_us']:.2f} us, p99 {figures['p99_us']:.2f} us, "
              f"cpu {figures['cpu_us']:.2f} us a call (medians of {a.runs} runs of {a.calls} calls; p99 by run "
              f"{figures['p99_by_run']})")


if __name__ == "__main__":
    main()
