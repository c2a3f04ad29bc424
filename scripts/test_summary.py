#!/usr/bin/env python3
"""Prints what a `meson test` run counted, from its testlog.json: each suite's own closing
line (Check, pytest, JUnit) and one total line, "tests: N passed, N failed", so that a CI
log says how many tests ran, not only that the suites exited 0.

    python3 scripts/test_summary.py build/meson-logs/testlog.json
"""
import json
import re
import sys

PATTERNS = [
    # Check: "100%: Checks: 12, Failures: 0, Errors: 0"
    (re.compile(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)"),
     lambda m: (int(m[1]) - int(m[2]) - int(m[3]), int(m[2]) + int(m[3]))),
    # pytest: "497 passed, 2 skipped in 50.14s" / "3 failed, 494 passed in ..."
    (re.compile(r"^=*\s*(.*\b(?:passed|failed)\b.*) in [\d.]+s", re.M),
     lambda m: (int((re.search(r"(\d+) passed", m[1]) or [0, 0])[1]),
                int((re.search(r"(\d+) failed", m[1]) or [0, 0])[1])
                + int((re.search(r"(\d+) errors?", m[1]) or [0, 0])[1]))),
    # JUnit 4: "OK (9 tests)" / "Tests run: 9,  Failures: 1"
    (re.compile(r"OK \((\d+) tests?\)"), lambda m: (int(m[1]), 0)),
    (re.compile(r"Tests run: (\d+),\s+Failures: (\d+)"),
     lambda m: (int(m[1]) - int(m[2]), int(m[2]))),
    # The plain form: "9 passed, 0 failed"
    (re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed", re.M),
     lambda m: (int(m[1]), int(m[2]))),
]


def main(path: str) -> int:
    passed = failed = 0
    for line in open(path):
        suite = json.loads(line)
        out = suite.get("stdout") or ""
        for pattern, count in PATTERNS:
            matches = list(pattern.finditer(out))
            if matches:
                p, f = count(matches[-1])
                break
        else:  # a suite that prints no count counts as one test
            p, f = (1, 0) if suite["result"] == "OK" else (0, 1)
        if suite["result"] != "OK" and f == 0:
            f = 1
        print(f"{suite['name']}: {p} passed, {f} failed")
        passed += p
        failed += f
    print(f"tests: {passed} passed, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"))
