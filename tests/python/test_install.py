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


def readme_install_lines() -> str:
    """Returns README.md's shell lines for building against a --destdir install."""
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)
              if "--destdir" in b]
    assert len(blocks) == 1, "README.md should hold one shell block with --destdir"
    return blocks[0]


@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="pkg-config not installed")
def test_pkg_config_consumer(tmp_path):
    """Issue 16, item 11: README's lines, run literally from a directory that looks like
    the repository root (build/ and models/ linked, example.c beside them) with no
    PKG_CONFIG_SYSROOT_DIR or LD_LIBRARY_PATH: PKG_CONFIG_PATH alone gives the staged
    headers (on main, -I/usr/local/include and a missing crisk.h) and the run path finds
    the staged library."""
    (tmp_path / "build").symlink_to(BUILD.resolve())
    (tmp_path / "models").symlink_to((SOURCE / "models").resolve())
    (tmp_path / "example.c").write_text(readme_example())
    env = {k: v for k, v in os.environ.items()
           if k not in ("PKG_CONFIG_PATH", "PKG_CONFIG_SYSROOT_DIR", "LD_LIBRARY_PATH")}
    script = "set -eu\n" + readme_install_lines() + \
        'echo "pkg-config: $(pkg-config --cflags --libs crisk)"\nldd ./example\n'
    out = run(["bash", "-c", script], env=env, cwd=tmp_path)
    stage = tmp_path / "stage"
    flags = re.search(r"^pkg-config: (.*)$", out, re.M).group(1).split()
    includes = [Path(f[2:]).resolve() for f in flags if f.startswith("-I")]
    assert stage.resolve() / "usr" / "local" / "include" in includes, flags
    assert "-lcrisk" in flags
    linked = re.search(r"libcrisk\.so\.\S* => (\S+)", out).group(1)
    assert Path(linked).resolve().is_relative_to(stage.resolve()), linked
    probability = re.search(r"^fraud probability: (\S+)$", out, re.M).group(1)
    # The installed library scores as the build tree's does.
    row = np.array([[1976.26, 290.2, 6.81, 0.0, 31.0, np.nan, 4347.0, 0.0]], np.float32)
    assert np.float32(float(probability)) == CModel(MODEL).predict(row)[0, 0]
    # The installed library is the version pkg-config announces.
    pc_dir = next(stage.rglob("crisk.pc")).parent
    version = run(["pkg-config", "--modversion", "crisk"],
                  env=dict(env, PKG_CONFIG_PATH=str(pc_dir))).strip()
    assert Path(linked).resolve().name.endswith(version)
