"""Installing crisk and building against it: `meson install --destdir` into a temporary
directory, then README.md's C example, compiled with `pkg-config --cflags --libs crisk`,
loads the example model and scores a case as the build tree's library does."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from crisk_ctypes import CModel

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("CRISK_BUILD_DIR", SOURCE / "build"))
MODEL = SOURCE / "models" / "example-features" / "fraud_xgb.json"

README = SOURCE / "README.md"


def readme_example() -> str:
    """Returns the C program of README.md's "C API" section."""
    blocks = re.findall(r"```c\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1, "README.md should hold exactly one C example"
    return blocks[0]


def run(cmd, env=None, cwd=None):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                          cwd=cwd)
    assert proc.returncode == 0, f"{cmd} failed: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="pkg-config not installed")
def test_pkg_config_consumer(tmp_path):
    dest = tmp_path / "dest"
    run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet", "--destdir", dest])
    pcs = list(dest.rglob("crisk.pc"))
    assert len(pcs) == 1, pcs
    env = dict(os.environ, PKG_CONFIG_PATH=str(pcs[0].parent),
               PKG_CONFIG_SYSROOT_DIR=str(dest))
    flags = run(["pkg-config", "--cflags", "--libs", "crisk"], env=env).split()
    assert any(f.startswith("-I" + str(dest)) for f in flags), flags
    assert "-lcrisk" in flags
    version = run(["pkg-config", "--modversion", "crisk"], env=env).strip()
    (tmp_path / "consumer.c").write_text(readme_example())
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "consumer.c", "-o", "consumer",
         *flags], cwd=tmp_path)
    libdirs = [f[2:] for f in flags if f.startswith("-L")]
    out = run([tmp_path / "consumer", MODEL],
              env=dict(os.environ, LD_LIBRARY_PATH=":".join(libdirs)))
    assert out.startswith("fraud probability: ")
    # The installed library scores as the build tree's does.
    row = np.array([[1976.26, 290.2, 6.81, 0.0, 31.0, np.nan, 4347.0, 0.0]], np.float32)
    assert np.float32(float(out.split()[-1])) == CModel(MODEL).predict(row)[0, 0]
    # The installed library is the version pkg-config announces.
    lib = next(p for d in libdirs for p in Path(d).glob("libcrisk.so.*.*.*"))
    assert lib.name.endswith(version)
