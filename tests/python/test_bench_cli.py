"""crisk-bench's command line fails loudly: a --cache directory it cannot create, and a row
name it does not know, stop it before any model is trained (a silent cache sent
bench/peers.py looking for models that were never written). Skipped when crisk-bench is not
built (it needs libxgboost)."""
import os
import subprocess
from pathlib import Path

import pytest

BENCH = Path(os.environ.get("CRISK_BUILD_DIR", "build")) / "crisk-bench"
pytestmark = pytest.mark.skipif(not BENCH.exists(), reason="crisk-bench is not built")


def run_bench(*args):
    # The timeout only bounds a bench that starts training instead of failing (minutes).
    return subprocess.run([str(BENCH), *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def test_a_cache_that_cannot_be_created_stops_the_bench(tmp_path):
    cache = tmp_path / "no-such-parent" / "cache"
    proc = run_bench("--cache", cache, "--shape", "anchor-d6", "--runs", "1")
    assert proc.returncode == 1, proc
    assert str(cache) in proc.stderr and "--cache" in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_a_missing_cache_directory_is_created(tmp_path):
    cache = tmp_path / "cache"
    # An unknown row stops the bench after the options are read, before any training.
    proc = run_bench("--cache", cache, "--shape", "no-such-row")
    assert cache.is_dir()
    assert proc.returncode == 2, proc
    assert '"--shape no-such-row"' in proc.stderr and "declaration-1" in proc.stderr, \
        proc.stderr
