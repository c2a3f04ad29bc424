"""The `crisk` command: predict against xgboost's own predictions, inspect against the
model as xgboost reads it, the CSV dialects it accepts, and the errors it reports."""
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXAMPLE = SOURCE / "models" / "example-features"
MODEL = EXAMPLE / "fraud_xgb.json"
CASES = EXAMPLE / "features.csv"


def scores(text: str) -> tuple[list[str], np.ndarray]:
    """Returns the header and the values (as float32) of crisk's CSV output."""
    lines = text.splitlines()
    values = np.loadtxt(io.StringIO("\n".join(lines[1:])), delimiter=",", ndmin=2,
                        dtype=np.float64)
    return lines[0].split(","), values.astype(np.float32)


def assert_close(got: np.ndarray, want: np.ndarray):
    """Within 1e-6 absolute or 4 float32 ulps of the reference, element by element."""
    want = np.asarray(want, dtype=np.float32).reshape(got.shape)
    tol = np.maximum(1e-6, 4 * np.spacing(np.abs(want)))
    bad = np.abs(got.astype(np.float64) - want.astype(np.float64)) > tol
    assert not bad.any(), f"{bad.sum()} values differ, first at {np.argwhere(bad)[0]}: " \
                          f"{got[bad][0]!r} vs {want[bad][0]!r}"


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    return xgb.Booster(model_file=str(MODEL))


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return pd.read_csv(CASES)


@pytest.mark.parametrize("margin", [False, True])
def test_predict_matches_xgboost(run_crisk, booster, cases, margin):
    args = ["predict", "--model", MODEL, "--input", CASES] + (["--margin"] if margin else [])
    header, got = scores(run_crisk(*args).stdout)
    assert header == ["score"]
    assert got.shape == (len(cases), 1)
    X = cases.to_numpy(dtype=np.float64).astype(np.float32)
    want = booster.predict(xgb.DMatrix(X, missing=np.nan, feature_names=list(cases.columns)),
                           output_margin=margin)
    assert_close(got, want)
    assert np.isnan(X).any(), "the example is meant to have missing values"


def test_batches_and_threads_change_nothing(run_crisk):
    base = run_crisk("predict", "--model", MODEL, "--input", CASES).stdout
    for extra in (["--batch-rows", "7"], ["--batch-rows", "1"], ["--threads", "2"],
                  ["--threads", "0", "--batch-rows", "64"]):
        assert run_crisk("predict", "--model", MODEL, "--input", CASES, *extra).stdout == base


def test_output_file_equals_stdout(run_crisk, tmp_path):
    out = tmp_path / "scores.csv"
    to_stdout = run_crisk("predict", "--model", MODEL, "--input", CASES)
    to_file = run_crisk("predict", "--model", MODEL, "--input", CASES, "--output", out)
    assert to_file.stdout == ""
    assert out.read_text() == to_stdout.stdout
    assert len(to_stdout.stdout.splitlines()) == 1 + len(pd.read_csv(CASES))


def test_stdin_input(run_crisk):
    direct = run_crisk("predict", "--model", MODEL, "--input", CASES).stdout
    piped = run_crisk("predict", "--model", MODEL, "--input", "-", input=CASES.read_text())
    assert piped.stdout == direct
    bad = run_crisk("predict", "--model", MODEL, "--input", "-", check=False,
                    input=CASES.read_text().splitlines()[0] + "\n1,2\n")
    assert bad.returncode == 1 and "stdin: line 2: 2 fields" in bad.stderr


def test_quoted_crlf_bom_reordered_columns(run_crisk, cases, tmp_path):
    """Every field quoted, CRLF line ends, a byte order mark, the columns in another
    order plus an extra one, and missing values spelled NA / nan / NaN / blank."""
    shuffled = cases[list(reversed(cases.columns))].copy()
    shuffled.insert(3, "declaration_note", ['say "hi", then\nleave'] * len(cases))
    lines = []
    spellings = ["", "NA", "nan", "NaN", " "]
    for i, row in enumerate([list(shuffled.columns)] + shuffled.values.tolist()):
        cells = []
        for j, v in enumerate(row):
            if isinstance(v, float) and np.isnan(v):
                v = spellings[(i + j) % len(spellings)]
            cells.append('"' + str(v).replace('"', '""') + '"')
        lines.append(",".join(cells))
    path = tmp_path / "quoted.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    plain = run_crisk("predict", "--model", MODEL, "--input", CASES).stdout
    strict = run_crisk("predict", "--model", MODEL, "--input", path, check=False)
    assert strict.returncode == 1
    assert "declaration_note" in strict.stderr and "--ignore-extra" in strict.stderr
    quoted = run_crisk("predict", "--model", MODEL, "--input", path, "--ignore-extra")
    assert quoted.stdout == plain


def test_multiclass_without_feature_names(run_crisk, tmp_path):
    """A model that stores no names: columns by position; one output column per class."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) > 0).astype(int) + (np.nan_to_num(X[:, 1]) > 0.5)
    bst = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3,
                     "nthread": 1}, xgb.DMatrix(X, label=y), num_boost_round=6)
    model = tmp_path / "multi.json"
    bst.save_model(model)
    data = tmp_path / "multi.csv"
    pd.DataFrame(X, columns=["a", "b", "c", "d"]).to_csv(data, index=False)
    header, got = scores(run_crisk("predict", "--model", model, "--input", data).stdout)
    assert header == ["class_0", "class_1", "class_2"]
    X_read = pd.read_csv(data).to_numpy(dtype=np.float64).astype(np.float32)
    assert_close(got, bst.predict(xgb.DMatrix(X_read, missing=np.nan)))
    # Position matters, names do not; a wrong count is an error naming both counts.
    pd.DataFrame(X[:, :3]).to_csv(data, index=False)
    bad = run_crisk("predict", "--model", model, "--input", data, check=False)
    assert bad.returncode == 1
    assert "3 columns" in bad.stderr and "4 features" in bad.stderr


def test_softmax_class_index_and_margins(run_crisk, tmp_path):
    """multi:softmax: one class index per row, but one margin per class with --margin."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    bst = xgb.train({"objective": "multi:softmax", "num_class": 3, "max_depth": 3,
                     "nthread": 1}, xgb.DMatrix(X, label=y), num_boost_round=5)
    model = tmp_path / "softmax.json"
    bst.save_model(model)
    data = tmp_path / "softmax.csv"
    pd.DataFrame(X, columns=["a", "b", "c"]).to_csv(data, index=False, float_format="%.9g")
    X_read = pd.read_csv(data).to_numpy(dtype=np.float64).astype(np.float32)
    header, got = scores(run_crisk("predict", "--model", model, "--input", data).stdout)
    assert header == ["score"]
    assert_close(got[:, 0], bst.predict(xgb.DMatrix(X_read)))
    header, got = scores(run_crisk("predict", "--model", model, "--input", data,
                                   "--margin").stdout)
    assert header == ["class_0", "class_1", "class_2"]
    assert_close(got, bst.predict(xgb.DMatrix(X_read), output_margin=True))


def tree_depth(tree: dict) -> int:
    """Depth (edges on the longest root-to-leaf path) of one tree of an XGBoost JSON model."""
    left, right = tree["left_children"], tree["right_children"]
    deepest, stack = 0, [(0, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if left[node] != -1:
            stack += [(left[node], depth + 1), (right[node], depth + 1)]
    return deepest


def test_inspect(run_crisk, booster):
    out = run_crisk("inspect", "--model", MODEL).stdout
    info = dict(line.split(": ", 1) for line in out.splitlines())
    trees = json.loads(MODEL.read_text())["learner"]["gradient_booster"]["model"]["trees"]
    config = json.loads(booster.save_config())["learner"]
    assert info["format"] == "xgboost"
    assert info["objective"] == config["objective"]["name"] == "binary:logistic"
    assert info["booster"] == config["gradient_booster"]["name"] == "gbtree"
    assert int(info["trees"]) == len(booster.get_dump()) == len(trees)
    assert int(info["iterations"]) == booster.num_boosted_rounds()
    assert int(info["max_depth"]) == max(tree_depth(t) for t in trees)
    assert int(info["nodes"]) == sum(len(t["left_children"]) for t in trees)
    assert int(info["features"]) == booster.num_features()
    assert info["feature_names"] == "yes"
    assert int(info["classes"]) == 2
    assert int(info["outputs"]) == 1
    assert int(info["memory_bytes"]) > 0


def write_cases(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text(text)
    return path


def example_lines() -> list[str]:
    return CASES.read_text().splitlines()


def test_malformed_value_names_line_and_column(run_crisk, tmp_path):
    lines = example_lines()
    cells = lines[3].split(",")
    cells[2] = "12;5"  # not a number
    lines[3] = ",".join(cells)
    out = tmp_path / "scores.csv"
    proc = run_crisk("predict", "--model", MODEL, "--input",
                     write_cases(tmp_path, "\n".join(lines) + "\n"), "--output", out,
                     check=False)
    assert proc.returncode == 1
    assert "line 4, column 3" in proc.stderr
    assert "unit_value_eur_per_kg" in proc.stderr and "12;5" in proc.stderr
    assert not out.exists(), "a failed run must not leave partial scores behind"


def test_wrong_field_count_names_line(run_crisk, tmp_path):
    lines = example_lines()
    lines[5] = lines[5] + ",1.0"
    proc = run_crisk("predict", "--model", MODEL, "--input",
                     write_cases(tmp_path, "\n".join(lines) + "\n"), check=False)
    assert proc.returncode == 1
    assert "line 6: 9 fields" in proc.stderr and "8 columns" in proc.stderr


def test_bad_quoting_names_line(run_crisk, tmp_path):
    lines = example_lines()
    lines[7] = '"1.5"x,' + lines[7].split(",", 1)[1]
    proc = run_crisk("predict", "--model", MODEL, "--input",
                     write_cases(tmp_path, "\n".join(lines) + "\n"), check=False)
    assert proc.returncode == 1
    assert "line 8" in proc.stderr


def test_missing_named_column(run_crisk, cases, tmp_path):
    path = tmp_path / "no_tax.csv"
    cases.drop(columns=["tax_rate_pct"]).to_csv(path, index=False)
    proc = run_crisk("predict", "--model", MODEL, "--input", path, check=False)
    assert proc.returncode == 1
    assert '"tax_rate_pct"' in proc.stderr


def test_duplicate_column(run_crisk, tmp_path):
    lines = example_lines()
    lines = [line + "," + line.split(",")[0] for line in lines]
    proc = run_crisk("predict", "--model", MODEL, "--input",
                     write_cases(tmp_path, "\n".join(lines) + "\n"), check=False)
    assert proc.returncode == 1
    assert "column 9" in proc.stderr and "declared_value_eur" in proc.stderr


def test_missing_files(run_crisk, tmp_path):
    proc = run_crisk("predict", "--model", tmp_path / "nope.json", "--input", CASES,
                     check=False)
    assert proc.returncode == 1 and "nope.json" in proc.stderr
    proc = run_crisk("predict", "--model", MODEL, "--input", tmp_path / "nope.csv",
                     check=False)
    assert proc.returncode == 1 and "nope.csv" in proc.stderr
    proc = run_crisk("inspect", "--model", tmp_path / "nope.json", check=False)
    assert proc.returncode == 1 and "nope.json" in proc.stderr
    proc = run_crisk("predict", "--model", MODEL, "--input", write_cases(tmp_path, ""),
                     check=False)
    assert proc.returncode == 1 and "header" in proc.stderr


@pytest.mark.parametrize("args", [
    ["predict", "--model", MODEL, "--input", CASES, "--threads", "-1"],
    ["predict", "--model", MODEL, "--input", CASES, "--threads", "two"],
    ["predict", "--model", MODEL, "--input", CASES, "--threads", ""],
    ["predict", "--model", MODEL, "--input", CASES, "--threads"],
    ["predict", "--model", MODEL, "--input", CASES, "--batch-rows", "0"],
    ["predict", "--model", MODEL],
    ["predict", "--model", MODEL, "--input", CASES, "--model", MODEL],
    ["predict", "--model", MODEL, "--input", CASES, "--colour"],
    ["predict", "--model", MODEL, "--input", CASES, "--margin=yes"],
    ["predict", "--model", MODEL, "--input", CASES, "stray"],
    ["inspect"],
    ["frobnicate"],
    [],
])
def test_usage_errors(run_crisk, args):
    proc = run_crisk(*args, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip()
    assert proc.stdout == ""


COMMANDS = ("predict", "inspect", "score", "fit", "evaluate", "audit")


def test_version_and_help(run_crisk):
    assert re.fullmatch(r"crisk \d+\.\d+\.\d+\n", run_crisk("--version").stdout)
    for args in (["help"], ["--help"], ["-h"]):
        proc = run_crisk(*args)
        assert "crisk predict --model" in proc.stdout and "exit status" in proc.stdout
        for name in COMMANDS:
            assert f"crisk {name} " in proc.stdout
        assert "'crisk COMMAND --help'" in proc.stdout


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_command_help(run_crisk, name, flag):
    """`crisk COMMAND --help` prints that command's usage only, and exits 0."""
    proc = run_crisk(name, flag)
    assert proc.stderr == ""
    assert proc.stdout.startswith(f"usage:\n  crisk {name} ")
    assert "exit status" in proc.stdout
    for other in COMMANDS:
        if other != name:
            assert f"crisk {other} " not in proc.stdout
    reads_declarations = name in ("score", "fit", "evaluate")
    assert ("--events FILE" in proc.stdout) == reads_declarations


def test_command_help_after_options(run_crisk):
    """--help anywhere in a command's words, a sub-command of audit's included."""
    assert run_crisk("predict", "--model", MODEL, "--help").stdout.startswith(
        "usage:\n  crisk predict ")
    assert run_crisk("audit", "verify", "--help").stdout.startswith("usage:\n  crisk audit ")


def test_bad_command_line_is_2_failed_run_is_1(run_crisk, tmp_path):
    """A malformed option value is a bad command line (2); a run that fails is 1."""
    proc = run_crisk("predict", "--sha256", "deadbeef", "--model", MODEL, "--input", CASES,
                     check=False)
    assert proc.returncode == 2 and "64 hex digits" in proc.stderr and proc.stdout == ""
    proc = run_crisk("predict", "--model", MODEL, "--input", tmp_path / "none.csv",
                     check=False)
    assert proc.returncode == 1
    proc = run_crisk("inspect", "--model", tmp_path / "none.json", check=False)
    assert proc.returncode == 1
    proc = run_crisk("predict", "--modle", MODEL, "--input", CASES, check=False)
    assert proc.returncode == 2 and "'crisk predict --help'" in proc.stderr


def test_input_format_is_checked_with_the_command_line(run_crisk, tmp_path):
    """A format the input cannot have is a bad command line (2), found before the
    bundle is loaded: a missing bundle does not turn it into a failed run (1)."""
    decl = SOURCE / "models" / "example" / "declarations.csv"
    for command in ("score", "evaluate"):
        extra = ("--label", "fraud") if command == "evaluate" else ()
        proc = run_crisk(command, "--bundle", tmp_path / "none", "--input", decl,
                         "--input-format", "xml", *extra, check=False)
        assert proc.returncode == 2 and "unknown format 'xml'" in proc.stderr
        proc = run_crisk(command, "--bundle", tmp_path / "none", "--input",
                         tmp_path / "d.txt", *extra, check=False)
        assert proc.returncode == 2 and "--input-format" in proc.stderr
    proc = run_crisk("fit", "--schema", tmp_path / "none.json", "--input", decl, "--label",
                     "fraud", "--output", tmp_path / "f.json", "--input-format", "xml",
                     check=False)
    assert proc.returncode == 2 and "unknown format 'xml'" in proc.stderr


def test_threads_bounds_per_command(run_crisk):
    """evaluate takes at most 2^20 threads, as it always has; score takes up to INT_MAX
    (the declaration commands' shared parser keeps each command's bound)."""
    bundle = SOURCE / "models" / "example"
    decl = bundle / "declarations.csv"
    proc = run_crisk("evaluate", "--bundle", bundle, "--input", decl, "--label", "fraud",
                     "--threads", str((1 << 20) + 1), check=False)
    assert proc.returncode == 2 and "from 0 to 1048576" in proc.stderr
    proc = run_crisk("score", "--bundle", bundle, "--input", decl, "--threads",
                     str((1 << 20) + 1), check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("cell", ["0x10", "inf", "-Infinity", "nan(123)", "1e999", "1,5"])
def test_predict_takes_the_one_number_grammar(run_crisk, cell):
    """Issue 15, defect 4: `crisk predict` reads cells with the grammar `crisk score`
    reads declaration numbers with (crisk_number_parse): main's strtod took hex, inf and
    nan(...) that score refused. NA and NaN stay missing-value markers."""
    header, first = CASES.read_text().splitlines()[:2]
    cells = first.split(",")
    cells[0] = f'"{cell}"'
    bad = run_crisk("predict", "--model", MODEL, "--input", "-", check=False,
                    input=f"{header}\n{','.join(cells)}\n")
    assert bad.returncode == 1 and "stdin: line 2" in bad.stderr, bad.stderr
    for good in ["NA", ".5", "-1e-3", "+2."]:
        cells[0] = good
        ok = run_crisk("predict", "--model", MODEL, "--input", "-",
                       input=f"{header}\n{','.join(cells)}\n")
        assert len(ok.stdout.splitlines()) == 2
