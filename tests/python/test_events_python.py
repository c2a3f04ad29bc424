"""Border sensor events and the streaming lane state in the Python binding, against the
`crisk score` command: the example bundle (models/example) scores its declarations with
its events given as a DataFrame read from events.jsonl (and as a list of dicts, with the
key split in two columns, with payloads as text, and as the file's path) with exactly the
scores, lanes, reasons and hits of `crisk score --events --device-keys`, and the same
refused events as `--event-rejects`; an altered payload is refused as bad_hmac; stream
mode carried over two calls (through a saved state) equals one call and `crisk score
--state` over two batches."""
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crisk

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXAMPLE = SOURCE / "models" / "example"
DECLS = EXAMPLE / "declarations.csv"
EVENTS = EXAMPLE / "events.jsonl"
KEYS = EXAMPLE / "device_keys.json"
EVENT_FEATURES = ["seal_breach", "seal_opened", "hours_since_verified_seal", "xray_max",
                  "route_dev"]


@pytest.fixture(scope="module")
def bundle():
    with crisk.Bundle(EXAMPLE) as b:
        yield b


@pytest.fixture(scope="module")
def decls():
    return pd.read_csv(DECLS, dtype=str, keep_default_na=False)


def read_events() -> pd.DataFrame:
    """The example events as pandas reads them (precise floats: payloads are signed)."""
    return pd.read_json(EVENTS, lines=True, dtype=False, precise_float=True)


def cli_scores(run_crisk, tmp_path, *args):
    """Runs `crisk score` on the example declarations; returns its output as text cells."""
    out = tmp_path / "cli_scores.csv"
    run_crisk("score", "--bundle", EXAMPLE, "--input", DECLS, "--output", out, *args)
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def assert_same(py: pd.DataFrame, cli: pd.DataFrame, models):
    """Asserts Python's scores equal the CLI's: ids, every model's float32 score (the CLI
    prints 9 significant digits, which round-trip a float32), lane, reason and hits."""
    assert len(py) == len(cli)
    assert py["declaration_id"].tolist() == cli["declaration_id"].tolist()
    for m in models:
        np.testing.assert_array_equal(py[m].to_numpy(np.float32),
                                      cli[m].astype(np.float64).to_numpy(np.float32))
    assert py["lane"].tolist() == cli["lane"].tolist()
    assert py["reason"].tolist() == cli["reason"].tolist()
    assert py["hits"].tolist() == cli["hits"].tolist()


def raw_payloads():
    """The payload of every event line as the exact text of the line (None when absent)."""
    out = []
    for line in EVENTS.read_text(encoding="utf-8").splitlines():
        if '"payload":' not in line:
            out.append(None)
            continue
        start = line.index('"payload":') + len('"payload":')
        _, end = json.JSONDecoder().raw_decode(line, start)
        out.append(line[start:end])
    return out


def event_forms():
    """The example events in every form the binding takes, by name."""
    frame = read_events()
    split = frame.assign(key_type=[k["type"] for k in frame["key"]],
                         key_value=[k["value"] for k in frame["key"]]).drop(columns="key")
    text = frame.assign(payload=raw_payloads())
    return {"dataframe": frame, "split_key_text_payload": split.assign(payload=text.payload),
            "dicts": [json.loads(line) for line in EVENTS.read_text().splitlines()],
            "path": EVENTS, "bytes": EVENTS.read_bytes()}


def test_events_match_cli(bundle, decls, run_crisk, tmp_path):
    rejects_csv = tmp_path / "event_rejects.csv"
    cli = cli_scores(run_crisk, tmp_path, "--events", EVENTS, "--device-keys", KEYS,
                     "--event-rejects", rejects_csv)
    cli_rejects = pd.read_csv(rejects_csv, dtype={"line": np.int64, "kind": str,
                                                  "reason": str})
    assert len(cli_rejects) > 0 and set(cli_rejects["kind"]) == {"bad_hmac"}
    plain = bundle.score(decls, threads=1)
    assert plain.event_rejects.empty
    for name, events in event_forms().items():
        result = bundle.score(decls, threads=1, events=events, device_keys=KEYS)
        assert result.rejects.empty, name
        assert_same(result.scores, cli, bundle.model_names)
        er = result.event_rejects
        assert er["line"].tolist() == cli_rejects["line"].tolist(), name
        assert er["kind"].tolist() == cli_rejects["kind"].tolist(), name
        assert er["reason"].tolist() == cli_rejects["reason"].tolist(), name
        assert er["row"].tolist() == (cli_rejects["line"] - 1).tolist(), name
    # the events matter: some declaration is decided by an event profile, which scoring
    # without them cannot do
    assert cli["hits"].str.contains("EV-").any()
    assert not plain.scores["hits"].str.contains("EV-").any()
    assert (plain.scores["lane"].to_numpy() != cli["lane"].to_numpy()).any()


def test_forged_payload_is_rejected(bundle, decls):
    events = read_events()
    events.index = [f"e{i}" for i in range(len(events))]
    signed = events[(events["type"] == "xray.result") & events["hmac"].notna()]
    assert len(signed) > 0
    label = signed.index[0]
    baseline = bundle.score(decls, threads=1, events=events, device_keys=KEYS)
    assert label not in baseline.event_rejects.index
    forged = events.copy()
    payload = dict(forged.at[label, "payload"])
    payload["anomaly_score"] = 0.0 if payload["anomaly_score"] > 0.5 else 0.99
    forged.at[label, "payload"] = payload
    result = bundle.score(decls, threads=1, events=forged, device_keys=KEYS)
    row = events.index.get_loc(label)
    er = result.event_rejects
    assert er.loc[label, "kind"] == "bad_hmac"
    assert er.loc[label, "row"] == row and er.loc[label, "line"] == row + 1
    assert len(er) == len(baseline.event_rejects) + 1
    # the same payload as text with one space added breaks the MAC too
    spaced = events.copy()
    spaced.at[label, "payload"] = raw_payloads()[row].replace(":", ": ", 1)
    er = bundle.score(decls, threads=1, events=spaced, device_keys=KEYS).event_rejects
    assert er.loc[label, "kind"] == "bad_hmac"
    # without the device keys no device is known: every event is refused, not trusted
    er = bundle.score(decls, threads=1, events=events).event_rejects
    assert (er["kind"] == "unknown_device").sum() == len(events)


def test_schema_features_with_events(bundle, decls):
    events = read_events()
    schema = bundle.schema
    without = schema.features(decls)
    assert without[EVENT_FEATURES].isna().all().all()
    assert schema.event_rejects.empty
    with_frame = schema.features(decls, events=events, device_keys=KEYS)
    with_path = schema.features(decls, events=EVENTS, device_keys=KEYS)
    assert with_frame[EVENT_FEATURES].notna().any().all()
    np.testing.assert_array_equal(with_frame.to_numpy(), with_path.to_numpy())
    others = [f for f in schema.feature_names if f not in EVENT_FEATURES]
    np.testing.assert_array_equal(with_frame[others].to_numpy(), without[others].to_numpy())
    assert set(with_frame.attrs["event_rejects"]["kind"]) == {"bad_hmac"}
    assert schema.event_rejects["line"].tolist() == \
        with_frame.attrs["event_rejects"]["line"].tolist()


def test_event_input_errors(bundle, decls):
    with pytest.raises(ValueError):
        bundle.score(decls, device_keys=KEYS)
    with pytest.raises(crisk.CriskError):
        bundle.score(decls, events=read_events(), device_keys=EXAMPLE / "no_such_keys.json")
    bad = [{"event_id": "X1", "key": {"type": "container", "value": "C1"},
            "type": "seal.opened", "device_id": "D", "time": "2025-01-01T00:00:00Z",
            "payload": '{"a":\n1}'}]
    with pytest.raises(crisk.CriskError, match="line break"):
        bundle.score(decls, events=bad)
    # missing members are left out and refused by the library, with their row
    partial = pd.DataFrame({"event_id": ["A", None], "key_type": ["container", "container"],
                            "key_value": ["C1", "C2"], "type": ["rfid.read", "rfid.read"],
                            "device_id": ["G", "G"],
                            "time": ["2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"]},
                           index=["first", "second"])
    er = bundle.score(decls, events=partial).event_rejects
    assert er.index.tolist() == ["first", "second"]
    assert er["kind"].tolist() == ["unknown_device", "malformed"]


def test_stream_halves_equal_one_call(bundle, decls, run_crisk, tmp_path):
    events = read_events()
    one = bundle.score(decls, threads=1, events=events, device_keys=KEYS,
                       state=bundle.stream())
    half = len(decls) // 2
    state = bundle.stream()
    first = bundle.score(decls.iloc[:half], threads=1, events=events, device_keys=KEYS,
                         state=state)
    saved = tmp_path / "state.json"
    state.save(saved)
    state.close()
    second = bundle.score(decls.iloc[half:], threads=1, events=events, device_keys=KEYS,
                          state=bundle.stream(saved))
    both = pd.concat([first.scores, second.scores])
    pd.testing.assert_frame_equal(both, one.scores)
    # stream mode decides otherwise than batch mode here (the budget is a rolling one)
    batch = bundle.score(decls, threads=1, events=events, device_keys=KEYS)
    assert (batch.scores["reason"] != one.scores["reason"]).any()
    # and as `crisk score --state` does over two batches of the same split
    cli = cli_scores(run_crisk, tmp_path, "--events", EVENTS, "--device-keys", KEYS,
                     "--event-rejects", tmp_path / "er.csv", "--state",
                     tmp_path / "cli_state.json", "--batch-rows", half)
    assert_same(one.scores, cli, bundle.model_names)
    # a state belongs to its bundle and is refused by another
    with crisk.Bundle(EXAMPLE) as other:
        with pytest.raises(ValueError):
            other.score(decls.iloc[:3], state=bundle.stream())
    # load() replaces the state in place
    reloaded = bundle.stream().load(saved)
    again = bundle.score(decls.iloc[half:], threads=1, events=events, device_keys=KEYS,
                         state=reloaded)
    pd.testing.assert_frame_equal(again.scores, second.scores)


def test_fit_and_training_matrix_with_events(bundle, decls):
    events = read_events()
    labels = np.random.default_rng(7).integers(0, 2, len(decls)).astype(np.float32)
    schema = crisk.Schema(EXAMPLE / "schema.json").fit(decls, labels, events=events,
                                                       device_keys=KEYS)
    assert set(schema.event_rejects["kind"]) == {"bad_hmac"}
    matrix = schema.training_matrix(decls, labels, events=events, device_keys=KEYS)
    scoring = bundle.schema.features(decls, events=EVENTS, device_keys=KEYS)
    # event features do not depend on the fitted tables or the folds
    np.testing.assert_array_equal(matrix[EVENT_FEATURES].to_numpy(),
                                  scoring[EVENT_FEATURES].to_numpy())
    assert matrix[EVENT_FEATURES].notna().any().all()


def test_score_result_pickles_with_event_rejects(bundle, decls):
    import pickle
    result = bundle.score(decls.iloc[:20], threads=1, events=EVENTS, device_keys=KEYS,
                          state=bundle.stream())  # 20 rows: too few for the 2% budget
    back = pickle.loads(pickle.dumps(result))
    scores, rejects = back
    pd.testing.assert_frame_equal(scores, result.scores)
    pd.testing.assert_frame_equal(back.event_rejects, result.event_rejects)
