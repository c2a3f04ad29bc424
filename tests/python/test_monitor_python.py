"""crisk.Bundle.monitor and crisk.Monitor against `crisk monitor` on the same declarations:
the same items, PSI and levels; a Monitor fed in two parts equals one fed at once."""
import json

import pandas as pd
import pytest

import crisk

from test_monitor_cli import BUNDLE, events_options, sample  # noqa: F401 (fixture)


def read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_bundle_monitor_matches_the_command(run_crisk, tmp_path, sample):  # noqa: F811
    out = tmp_path / "drift.json"
    run_crisk("monitor", "--bundle", BUNDLE, "--input", sample[0], *events_options(sample),
              "--output", out, "--warn", "0.005", "--alert", "0.008", check=False)
    cli = {i["name"]: i for i in json.loads(out.read_text())["items"]}
    frame = crisk.Bundle(BUNDLE).monitor(read(sample[0]), events=sample[1],
                                         device_keys=sample[2], warn=0.005, alert=0.008)
    assert list(frame.index) == [i for i in cli]  # worst first, as the command sorts
    for name, row in frame.iterrows():
        assert row["psi"] == pytest.approx(cli[name]["psi"], rel=1e-6, abs=1e-12)
        assert row["level"] == cli[name]["level"]
        assert row["kind"] == cli[name]["kind"]


def test_monitor_counts_across_calls(sample):  # noqa: F811
    bundle = crisk.Bundle(BUNDLE)
    decls = read(sample[0])
    whole = bundle.monitor(decls, events=sample[1], device_keys=sample[2])
    parts = crisk.Monitor(bundle)
    half = len(decls) // 2
    for part in (decls.iloc[:half], decls.iloc[half:]):
        assert parts.add(part, events=sample[1], device_keys=sample[2]).empty
    assert parts.rows == len(decls)
    pd.testing.assert_frame_equal(parts.report(), whole)


def test_rejected_rows_are_returned_not_counted(sample):  # noqa: F811
    bundle = crisk.Bundle(BUNDLE)
    decls = read(sample[0]).iloc[:10].copy()
    decls.loc[decls.index[3], "declared_value"] = "not a number"
    drift = crisk.Monitor(bundle)
    rejects = drift.add(decls)
    assert list(rejects["row"]) == [3] and "declared_value" in rejects["reason"][0]
    assert drift.rows == 9
