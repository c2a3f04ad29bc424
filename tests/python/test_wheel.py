"""The wheel, installed as a user installs it (issue 16, items 3 and 8).

`python -m build --wheel` (meson-python, with the pinned tools of requirements.txt) and
`auditwheel repair` make a manylinux wheel: the extension carries libcrisk (linked
statically), and crisk.libs/ the native libraries it links (libcrypto, cJSON, OpenBLAS and
theirs). It is installed into a clean venv (no system site packages) with numpy alone;
from a directory outside the source tree it must import, load its native libraries from
the wheel, and score a model; only then is pandas added, to score the example bundle.
Every score must equal the build tree's.

The wheel is built once into the meson build directory (build/wheel/) and rebuilt, with
meson's incremental build there, only when a source it is made from is newer.
"""
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import crisk

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("CRISK_BUILD_DIR", SOURCE / "build"))
WHEEL_DIR = BUILD / "wheel"
MODEL = SOURCE / "models" / "example-features" / "fraud_xgb.json"
EXAMPLE = SOURCE / "models" / "example"
# What the wheel is made from; a newer file among these rebuilds it.
WHEEL_SOURCES = ["lib", "include", "bindings/python", "bindings/crisk_helpers.h",
                 "meson.build", "meson_options.txt", "pyproject.toml", "README.md"]
NATIVE = ["libcrypto", "libcjson", "libopenblas"]


def run(cmd, **kwargs):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def newest_source() -> float:
    times = []
    for name in WHEEL_SOURCES:
        path = SOURCE / name
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        times.extend(p.stat().st_mtime for p in files)
    return max(times)


def pinned(package: str) -> str:
    """Returns `package==version` as requirements.txt pins it."""
    text = (SOURCE / "requirements.txt").read_text()
    return re.search(rf"^{re.escape(package)}==\S+", text, flags=re.M).group(0)


@pytest.fixture(scope="module")
def wheel() -> Path:
    repaired = sorted((WHEEL_DIR / "repaired").glob("crisk-*.whl"))
    if len(repaired) == 1 and repaired[0].stat().st_mtime > newest_source():
        return repaired[0]
    for old in [*WHEEL_DIR.glob("dist/*.whl"), *repaired]:
        old.unlink()
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
         WHEEL_DIR / "dist", f"-Cbuild-dir={WHEEL_DIR / 'meson'}", SOURCE])
    built = list((WHEEL_DIR / "dist").glob("crisk-*.whl"))
    assert len(built) == 1, built
    run([sys.executable, "-m", "auditwheel", "repair", "--wheel-dir",
         WHEEL_DIR / "repaired", built[0]])
    repaired = list((WHEEL_DIR / "repaired").glob("crisk-*.whl"))
    assert len(repaired) == 1, repaired
    return repaired[0]


def test_wheel_is_manylinux_and_carries_its_native_libraries(wheel):
    assert re.fullmatch(r"crisk-[\d.]+-cp3\d+-cp3\d+-manylinux_2_\d+_x86_64\.whl",
                        wheel.name), wheel.name
    show = run([sys.executable, "-m", "auditwheel", "show", wheel])
    assert "is consistent with" in show and "manylinux_2_" in show
    names = zipfile.ZipFile(wheel).namelist()
    for lib in NATIVE:
        assert any(n.startswith(f"crisk.libs/{lib}") for n in names), (lib, names)
    assert any(re.fullmatch(r"crisk/_capi\.cpython-.*\.so", n) for n in names), names


# Run by the venv's interpreter, in a directory outside the source tree: imports crisk,
# checks where it and its native libraries come from, scores MODEL's rows.
NO_PANDAS_SCRIPT = r"""
import importlib.util, json, os, sys
import numpy as np
import crisk
venv = sys.argv[1]
assert crisk.__file__.startswith(venv), crisk.__file__
assert importlib.util.find_spec("pandas") is None, "pandas is installed"
try:
    crisk.Bundle
    raise SystemExit("crisk.Bundle imported without pandas")
except ImportError as e:
    assert "needs pandas" in str(e), e
rows = np.load(sys.argv[3])
scores = crisk.Model(sys.argv[2]).predict(rows)
np.save(sys.argv[4], scores)
maps = open("/proc/self/maps").read().split("\n")
native = sorted({line.split()[-1] for line in maps if any(
    lib in line for lib in ("libcrypto", "libcjson", "libopenblas"))})
print(json.dumps(native))
"""

BUNDLE_SCRIPT = r"""
import sys
import pandas as pd
import crisk
declarations = pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)
scores, rejects = crisk.Bundle(sys.argv[1]).score(declarations, today="2026-03-15")
scores.to_csv(sys.argv[3], float_format="%.9g")
rejects.to_csv(sys.argv[4])
"""


def venv_python(venv: Path, script: str, *args, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return run([venv / "bin" / "python", "-c", script, *args], cwd=cwd, env=env)


def test_clean_venv_installs_the_wheel_and_scores(wheel, tmp_path):
    venv = tmp_path / "venv"
    work = tmp_path / "work"
    work.mkdir()
    run([sys.executable, "-m", "venv", venv])
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet",
           "--disable-pip-version-check"]
    run([*pip, wheel, pinned("numpy")])

    # numpy alone: crisk imports (item 3) and scores a model with its own native libraries.
    rng = np.random.default_rng(3)
    rows = rng.normal(loc=100.0, scale=50.0, size=(200, 8)).astype(np.float32)
    rows[rng.random(rows.shape) < 0.1] = np.nan
    np.save(work / "rows.npy", rows)
    native = json.loads(venv_python(venv, NO_PANDAS_SCRIPT, venv, MODEL, work / "rows.npy",
                                    work / "scores.npy", cwd=work))
    site = next(venv.glob("lib/python3*/site-packages"))
    for lib in NATIVE:
        hits = [p for p in native if lib in Path(p).name]
        assert hits and all(p.startswith(str(site / "crisk.libs")) for p in hits), native
    np.testing.assert_array_equal(np.load(work / "scores.npy"),
                                  crisk.Model(MODEL).predict(rows))

    # With pandas: the example bundle, scored as the build tree scores it.
    run([*pip, pinned("pandas")])
    venv_python(venv, BUNDLE_SCRIPT, EXAMPLE, EXAMPLE / "declarations.csv",
                work / "scores.csv", work / "rejects.csv", cwd=work)
    import pandas as pd
    declarations = pd.read_csv(EXAMPLE / "declarations.csv", dtype=str,
                               keep_default_na=False)
    scores, rejects = crisk.Bundle(EXAMPLE).score(declarations, today="2026-03-15")
    scores.to_csv(work / "want_scores.csv", float_format="%.9g")
    rejects.to_csv(work / "want_rejects.csv")
    assert len(scores) == len(declarations) > 0
    assert (work / "scores.csv").read_text() == (work / "want_scores.csv").read_text()
    assert (work / "rejects.csv").read_text() == (work / "want_rejects.csv").read_text()
