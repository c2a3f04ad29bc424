"""Shared fixtures: where the built `crisk` command is, and a helper to run it."""
import os
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def crisk_cli() -> Path:
    path = os.environ.get("CRISK_CLI")
    if not path:
        pytest.fail("CRISK_CLI is not set: run the Python suite through `meson test`")
    return Path(path)


@pytest.fixture(scope="session")
def run_crisk(crisk_cli):
    """Runs `crisk ARGS...`; returns the CompletedProcess (text mode)."""

    def run(*args, check=True, input=None):
        proc = subprocess.run([str(crisk_cli), *map(str, args)], capture_output=True,
                              text=True, input=input)
        if check and proc.returncode != 0:
            raise AssertionError(f"crisk {' '.join(map(str, args))} failed "
                                 f"({proc.returncode}): {proc.stderr}")
        return proc

    return run
