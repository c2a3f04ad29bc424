"""Installing crisk and building against it: `meson install --destdir` into a temporary
directory, then a small C program compiled with `pkg-config --cflags --libs crisk` loads
the example model and scores a case."""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from crisk_ctypes import CModel

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("CRISK_BUILD_DIR", SOURCE / "build"))
MODEL = SOURCE / "models" / "example" / "fraud_xgb.json"

CONSUMER = r"""
#include <crisk.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    crisk_model *model = NULL;
    crisk_error err;
    if (crisk_model_load(argv[1], &model, &err) != 0) {
        fprintf(stderr, "load: %s\n", err.message);
        return 1;
    }
    float row[8] = {1976.26f, 290.2f, 6.81f, 0.0f, 31.0f, NAN, 4347.0f, 0.0f};
    float score;
    int rc = crisk_predict(model, row, 1, crisk_model_num_features(model), NULL, &score, &err);
    if (rc != 0) {
        fprintf(stderr, "predict: %s\n", err.message);
        return 1;
    }
    /* A refusal is reported, not fatal. */
    if (crisk_predict(model, row, 1, 3, NULL, &score, &err) != CRISK_E_SHAPE) return 1;
    printf("%s %.9g\n", crisk_version_string(), (double)score);
    crisk_model_free(model);
    return argc == 2 ? 0 : 1;
}
"""


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
    (tmp_path / "consumer.c").write_text(CONSUMER)
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "consumer.c", "-o", "consumer",
         *flags, "-lm"], cwd=tmp_path)
    libdirs = [f[2:] for f in flags if f.startswith("-L")]
    out = run([tmp_path / "consumer", MODEL],
              env=dict(os.environ, LD_LIBRARY_PATH=":".join(libdirs))).split()
    assert out[0] == version
    # The installed library scores as the build tree's does.
    row = np.array([[1976.26, 290.2, 6.81, 0.0, 31.0, np.nan, 4347.0, 0.0]], np.float32)
    assert np.float32(float(out[1])) == CModel(MODEL).predict(row)[0, 0]
