"""DataFrames are checked as `crisk predict` checks a CSV file (issue 16, item 5): columns
by name, a column that is no feature refused unless ignore_extra, a feature with two
columns refused, strings (numeric or not) refused in a numeric feature, every error naming
the column. Each case is also written as CSV and given to the command, which must agree:
refuse the same frames, and score the accepted ones to the same values."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import crisk

NAMES = ["value", "mass", "unit_value", "tax_rate"]
CRISK_E_INPUT = -8


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, len(NAMES))).astype(np.float32)
    y = (X[:, 0] + X[:, 2] > 0).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
                        xgb.DMatrix(X, y, feature_names=NAMES), 10)
    return crisk.Model.from_xgboost(booster)


@pytest.fixture()
def frame():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(20, len(NAMES)))
    X[3, 1] = np.nan
    return pd.DataFrame(X, columns=NAMES)


def refused(model, frame, **kwargs):
    with pytest.raises(crisk.CriskError) as e:
        model.predict(frame, **kwargs)
    assert e.value.code == CRISK_E_INPUT, e.value
    return e.value.message


def cli(run_crisk, model, frame, tmp_path, *args):
    """Runs `crisk predict` on `frame` written as CSV; returns the process."""
    path = tmp_path / "model.json"
    path.write_bytes(model._data)
    frame.to_csv(tmp_path / "cases.csv", index=False)
    return run_crisk("predict", "--model", path, "--input", tmp_path / "cases.csv", *args,
                     check=False)


def test_extra_column_is_refused_unless_ignored(model, frame, run_crisk, tmp_path):
    extra = frame.assign(declaration_id=[f"D{i}" for i in range(len(frame))])
    message = refused(model, extra)
    assert "'declaration_id'" in message and "ignore_extra" in message
    assert cli(run_crisk, model, extra, tmp_path).returncode == 1
    got = model.predict(extra, ignore_extra=True)
    np.testing.assert_array_equal(got, model.predict(frame.to_numpy(np.float32)))
    proc = cli(run_crisk, model, extra, tmp_path, "--ignore-extra")
    assert proc.returncode == 0, proc.stderr
    want = np.array(proc.stdout.split()[1:], dtype=np.float32)
    np.testing.assert_array_equal(got, want)
    # contributions and interactions take the same rows, by the same rules.
    with pytest.raises(crisk.CriskError):
        model.contributions(extra)
    np.testing.assert_array_equal(model.contributions(extra, ignore_extra=True),
                                  model.contributions(frame))


def test_duplicated_column_is_refused_naming_it(model, frame, run_crisk, tmp_path):
    twice = pd.concat([frame, frame[["mass"]]], axis=1)
    message = refused(model, twice)
    assert "'mass'" in message and "already has column 1" in message
    assert cli(run_crisk, model, twice, tmp_path).returncode == 1
    # A duplicated column that is no feature is skipped like any other extra column.
    extras = pd.concat([frame, pd.DataFrame({"note": ["a"] * 20, "note ": ["b"] * 20})
                        .rename(columns=str.strip)], axis=1)
    np.testing.assert_array_equal(model.predict(extras, ignore_extra=True),
                                  model.predict(frame))


@pytest.mark.parametrize("dtype", [object, "string", "str"])
def test_numeric_strings_are_refused_naming_column_row_and_value(model, frame, dtype):
    digits = [str(v) for v in frame["tax_rate"].tolist()]
    text = frame.assign(tax_rate=pd.Series(digits, dtype=dtype))
    message = refused(model, text)
    assert message == (f"DataFrame column 'tax_rate', row 0 (index 0): '{digits[0]}' is "
                       f"not a number")


def test_text_in_a_numeric_feature_names_the_column(model, frame, run_crisk, tmp_path):
    text = frame.astype({"unit_value": object})
    text.loc[4, "unit_value"] = "RO"
    message = refused(model, text)
    assert message.startswith("DataFrame column 'unit_value', row 4 (index 4): 'RO'")
    proc = cli(run_crisk, model, text, tmp_path)
    assert proc.returncode == 1 and '("unit_value"): "RO" is not a number' in proc.stderr


def test_columns_of_dates_are_refused(model, frame):
    dates = frame.assign(value=pd.Timestamp("2026-01-01") + pd.to_timedelta(
        np.arange(20), unit="D"))
    assert "'value' has dtype datetime64" in refused(model, dates)
    objects = frame.astype({"value": object})
    objects.loc[2, "value"] = dt.date(2026, 1, 1)
    assert "'value', row 2" in refused(model, objects)


def test_numbers_of_any_dtype_are_accepted(model, frame):
    variants = frame.astype({"value": np.float32, "mass": "Float64"})
    variants["unit_value"] = frame["unit_value"].astype(object)
    variants.loc[3, "unit_value"] = None
    variants["tax_rate"] = (frame["tax_rate"] > 0).astype(int)
    expected = frame.to_numpy(np.float32).copy()
    expected[3, 2] = np.nan
    expected[:, 3] = (frame["tax_rate"] > 0).astype(np.float32)
    np.testing.assert_array_equal(model.predict(variants), model.predict(expected))
    # Column order does not matter; the index does not either.
    shuffled = variants[NAMES[::-1]].set_index(pd.Index([f"r{i}" for i in range(20)]))
    np.testing.assert_array_equal(model.predict(shuffled), model.predict(expected))


def test_missing_feature_is_named(model, frame):
    message = refused(model, frame.drop(columns=["unit_value"]))
    assert "no column for feature 'unit_value' (feature 2 of the model's 4)" in message


def test_model_without_names_takes_columns_by_position(frame):
    X = frame.to_numpy(np.float32)
    booster = xgb.train({"objective": "binary:logistic", "nthread": 1},
                        xgb.DMatrix(np.nan_to_num(X), (X[:, 0] > 0).astype(int)), 3)
    model = crisk.Model.from_xgboost(booster)
    assert model.feature_names is None
    renamed = frame.set_axis(["a", "b", "c", "d"], axis=1)
    np.testing.assert_array_equal(model.predict(renamed), model.predict(X))
    with pytest.raises(crisk.CriskError) as e:
        model.predict(renamed.assign(e=1.0))
    assert e.value.name == "CRISK_E_SHAPE" and "5 columns" in e.value.message
