"""Loading a large XGBoost model, JSON or UBJSON, stays within a small multiple of its size
(issue 15, defect 8): `crisk inspect` must load it with its data segment (RLIMIT_DATA: heap and
private mappings) capped at what a small model needs, plus 4 times the file, plus the
loaded model itself. A cJSON tree of the whole document (15 to 19 times the file) does
not fit. No timing: the cap either holds or the load fails."""
import json
import os
import resource
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SMALL = SOURCE / "models" / "example-features" / "fraud_xgb.json"
EXAMPLE = SOURCE / "models" / "example" / "fraud_xgb.json"
MIB = 1 << 20


def inspect(crisk_cli, model, data_limit=None):
    """Runs `crisk inspect --model MODEL` with RLIMIT_DATA at `data_limit` bytes."""
    def limit():
        resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))
    return subprocess.run([str(crisk_cli), "inspect", "--model", str(model)],
                          capture_output=True, text=True,
                          preexec_fn=limit if data_limit else None)


def large_model(path, target_bytes):
    """The example fraud model with its trees repeated until its JSON has `target_bytes`."""
    m = json.loads(EXAMPLE.read_text())
    model = m["learner"]["gradient_booster"]["model"]
    base = model["trees"]
    per_tree = len(json.dumps(base, separators=(",", ":"))) / len(base)
    n = int(target_bytes / per_tree) + 1
    model.update(trees=[dict(base[i % len(base)], id=i) for i in range(n)],
                 tree_info=[0] * n, iteration_indptr=list(range(n + 1)))
    model["gbtree_model_param"]["num_trees"] = str(n)
    path.write_text(json.dumps(m, separators=(",", ":")))
    return path


@pytest.mark.parametrize("fmt", ["json", "ubj"])
def test_large_model_loads_within_four_times_its_size(tmp_path, crisk_cli, fmt):
    baseline = MIB  # the smallest power of two of MiB that loads a small model
    while inspect(crisk_cli, SMALL, baseline).returncode != 0:
        baseline *= 2
        assert baseline <= 512 * MIB, "a small model does not load at all"
    big = large_model(tmp_path / "big.json", 16 * MIB)
    if fmt == "ubj":
        xgb = pytest.importorskip("xgboost")
        xgb.Booster(model_file=str(big)).save_model(str(tmp_path / "big.ubj"))
        big = tmp_path / "big.ubj"
    free = inspect(crisk_cli, big)
    assert free.returncode == 0, free.stderr
    info = dict(line.split(": ", 1) for line in free.stdout.splitlines())
    cap = baseline + 4 * big.stat().st_size + int(info["memory_bytes"])
    capped = inspect(crisk_cli, big, cap)
    assert capped.returncode == 0, f"cap {cap >> 20} MiB: {capped.stderr}"
    assert capped.stdout == free.stdout
