#!/usr/bin/env python3
"""Checks the library's layout against lib/README.md: no include or call cycle between
files, none between subsystems, no subsystem using one its "may use" row does not name,
and cli/, bindings/ and bench/ reaching the library through include/ only.

    python3 scripts/check_layout.py BUILD_DIR

A file is a node with its header (lib/decl/schema.c and lib/decl/schema.h are one node,
decl/schema). Include edges come from the sources' #include lines, call edges from the
symbols each object of BUILD_DIR/lib/libcrisk.a defines and uses (nm), so a call through
a header that declares another file's function is seen where it lands. An edge that
cannot be seen fails too: an include of a header beside the file (not lib/<subsystem>/...),
a source of lib/ with no object in the archive. Exits 1 naming every violation, 0 when
there is none.
"""
from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def allowed_order() -> dict[str, set[str]]:
    """Reads the table under "## Dependency order" in lib/README.md: `| sub | may use |`."""
    text = (LIB / "README.md").read_text()
    section = text.split("## Dependency order", 1)[1].split("\n## ", 1)[0]
    order: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and re.fullmatch(r"[a-z]+", cells[0]):
            order[cells[0]] = {u.strip().strip("`") for u in cells[1].split(",")} - {"", "—"}
    return order


def node(path: Path) -> str:
    """Returns the node of a library file: its path below lib/ without the extension."""
    return str(path.relative_to(LIB).with_suffix(""))


def include_edges(problems: list[str]) -> dict[str, set[str]]:
    """An include names a library file by its path below lib/ or a public header; any
    other (a header beside the file, found by the compiler but not here) is a problem,
    so that no edge goes unseen."""
    edges = collections.defaultdict(set)
    for path in sorted(LIB.rglob("*.[ch]")):
        for inc in INCLUDE.findall(path.read_text()):
            target = LIB / inc
            if target.exists():
                edges[node(path)].add(node(target))
            elif not (ROOT / "include" / inc).exists():
                problems.append(f"{path.relative_to(ROOT)} includes \"{inc}\", which is "
                                "neither lib/<subsystem>/... nor a public header (include/)")
    return edges


def call_edges(build: Path, problems: list[str]) -> dict[str, set[str]]:
    """Object files of the static library are named SUBSYSTEM_FILE.c.o by meson; a source
    of lib/ with no such object is a problem, so that its calls are not silently missed."""
    out = subprocess.run(["nm", "-A", str(build / "lib" / "libcrisk.a")], check=True,
                         capture_output=True, text=True).stdout
    defined, used = {}, collections.defaultdict(set)
    for line in out.splitlines():
        m = re.match(r".*?:([a-z]+)_(\w+)\.c\.o:\s*\S*\s+(\w)\s+(\S+)$", line)
        if not m:
            continue
        sub, stem, kind, sym = m.groups()
        name = f"{sub}/{stem}"
        if kind in "TDBR":
            defined[sym] = name
        elif kind == "U":
            used[name].add(sym)
    seen = set(defined.values()) | set(used)
    for path in sorted(LIB.rglob("*.c")):
        if node(path) not in seen:
            problems.append(f"{path.relative_to(ROOT)}: no object in "
                            f"{build / 'lib' / 'libcrisk.a'}, so its calls are not checked")
    edges = collections.defaultdict(set)
    for name, syms in used.items():
        for sym in syms:
            if sym in defined:
                edges[name].add(defined[sym])
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Returns the strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    nodes = set(edges) | {b for bs in edges.values() for b in bs}

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def why(a: str, b: str, inc, calls) -> str:
    kinds = [k for k, e in (("includes", inc), ("calls", calls)) if b in e.get(a, ())]
    return f"{a} {' and '.join(kinds)} {b}"


def outside_includes() -> list[str]:
    """cli/, bindings/ and bench/ may include their own files and the public headers."""
    problems = []
    for top in ("cli", "bindings", "bench"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in (".c", ".h", ".i", ".cpp"):
                continue
            for inc in INCLUDE.findall(path.read_text()):
                if (path.parent / inc).exists() or (ROOT / "include" / inc).exists():
                    continue
                problems.append(f"{path.relative_to(ROOT)} includes \"{inc}\", which is "
                                "neither its own nor a public header (include/)")
    return problems


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    order = allowed_order()
    problems: list[str] = []
    inc, calls = include_edges(problems), call_edges(Path(sys.argv[1]), problems)
    edges = collections.defaultdict(set)
    for e in (inc, calls):
        for a, bs in e.items():
            edges[a] |= bs - {a}
    for comp in cycles(edges):
        pairs = [why(a, b, inc, calls) for a in comp for b in comp if b in edges[a]]
        problems.append("file cycle: " + "; ".join(pairs))
    subs = sorted({n.split("/")[0] for n in edges} | {b.split("/")[0] for bs in edges.values()
                                                       for b in bs})
    for sub in subs:
        if sub not in order:
            problems.append(f"lib/{sub}/ is not in lib/README.md's dependency order")
    sub_edges = collections.defaultdict(set)
    for a, bs in sorted(edges.items()):
        for b in sorted(bs):
            sa, sb = a.split("/")[0], b.split("/")[0]
            if sa != sb:
                sub_edges[sa].add(sb)
                if sa in order and sb not in order[sa]:
                    problems.append(f"forbidden: {why(a, b, inc, calls)} "
                                    f"(lib/README.md: {sa} may use "
                                    f"{', '.join(sorted(order[sa])) or 'nothing'})")
    for comp in cycles(sub_edges) + cycles(order):
        problems.append("subsystem cycle: " + " <-> ".join(comp))
    problems += outside_includes()
    for p in problems:
        print("check_layout:", p, file=sys.stderr)
    nfiles = len(set(edges) | {b for bs in edges.values() for b in bs})
    print(f"check_layout: {nfiles} files in {len(subs)} subsystems, "
          f"{sum(map(len, edges.values()))} dependencies, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
