"""crisk.Decider, one declaration a call, against Bundle.score of the same declarations as
one batch in stream mode: with the example bundle (models/example) and its border sensor
events read once (Bundle.load_events), every decision (each model's float32 score bit for
bit, lane, reason, kind, hits, propensity) must be the batch's, with and without events,
with a fixed date, from dicts or value sequences, from text or from numbers and dates; a
rejected declaration raises CriskError with the batch's reject message and the stream
continues as the batch's; misuse raises the error that names it."""
import csv
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pytest

import crisk

SOURCE = Path(os.environ.get("CRISK_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXAMPLE = SOURCE / "models" / "example"
EVENTS = {"events": EXAMPLE / "events.jsonl", "device_keys": EXAMPLE / "device_keys.json"}


@pytest.fixture(scope="module")
def bundle():
    with crisk.Bundle(EXAMPLE) as b:
        yield b


@pytest.fixture(scope="module")
def records():
    with open(EXAMPLE / "declarations.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def assert_same(frame, i, d, columns):
    """Asserts Decision `d` is row `i` of Bundle.score's scores `frame`."""
    row = frame.iloc[i]
    got = np.array(d.scores, dtype=np.float32)
    want = np.array([row[c] for c in columns], dtype=np.float32)
    assert got.view(np.uint32).tolist() == want.view(np.uint32).tolist(), i
    assert (d.lane, d.reason, d.reason_kind) == (row["lane"], row["reason"],
                                                 row["reason_kind"]), i
    assert ";".join(d.hits) == row["hits"], i
    assert d.propensity == row["propensity"], i


def test_decisions_are_the_batchs_with_events(bundle, records):
    batch = bundle.score(records, state=bundle.stream(), **EVENTS)
    index = bundle.load_events(**EVENTS)
    assert index.rejects["kind"].tolist() == batch.event_rejects["kind"].tolist()
    assert index.rejects["line"].tolist() == batch.event_rejects["line"].tolist()
    assert (index.read, index.accepted) == (2576, 2573)
    decider = bundle.decider(bundle.stream(), index)
    assert decider.score_columns == ["fraud", "revenue", "fraud_logistic"]
    event_hits = 0
    for i, record in enumerate(records):
        d = decider.decide(record)
        assert_same(batch.scores, i, d, decider.score_columns)
        event_hits += any(h.startswith("EV-") for h in d.hits)
    assert event_hits > 0, "an event profile decides some declaration"


def test_values_in_field_order_numbers_and_a_date(bundle, records):
    """Values as a sequence, numbers as numbers and dates as dates, decide as the batch of
    the same values does; a fixed `today` as the batch's."""
    fields = bundle.schema.field_names
    typed = []
    for r in records[:80]:
        r = dict(r, declared_value=float(r["declared_value"]), items=int(r["items"]),
                 declaration_date=dt.date.fromisoformat(r["declaration_date"]))
        typed.append(r)
    batch = bundle.score(typed, state=bundle.stream(), today="2025-06-30")
    decider = bundle.decider(bundle.stream(), today=dt.date(2025, 6, 30))
    for i, r in enumerate(typed):
        values = tuple(r.get(f) for f in fields)
        assert_same(batch.scores, i, decider.decide(values if i % 2 else list(values)),
                     decider.score_columns)


def test_rejects_are_the_batchs(bundle, records):
    rows = [dict(r) for r in records[:60]]
    rows[3]["importer_id"] = "IMP\ud800"          # a lone surrogate: not UTF-8
    rows[7]["declared_value"] = "12;5"
    batch = bundle.score(rows, state=bundle.stream())
    assert batch.rejects["row"].tolist() == [3, 7]
    decider = bundle.decider(bundle.stream())
    scored = 0
    for i, r in enumerate(rows):
        if i in (3, 7):
            with pytest.raises(crisk.CriskError) as e:
                decider.decide(r)
            assert e.value.code == -8
            assert str(e.value).endswith(batch.rejects.loc[i, "reason"])
            continue
        assert_same(batch.scores, scored, decider.decide(r), decider.score_columns)
        scored += 1


def test_misuse_names_it(bundle, records, tmp_path):
    other = crisk.Bundle(EXAMPLE)
    with pytest.raises(ValueError, match="another bundle"):
        bundle.decider(other.stream())
    with pytest.raises(ValueError, match="another bundle"):
        bundle.decider(events=other.load_events(**EVENTS))
    with pytest.raises(crisk.CriskError, match="stream"):
        bundle.decider().decide(records[0])       # a budget needs a lane state
    state = bundle.stream()
    decider = bundle.decider(state)
    with pytest.raises(ValueError, match="13"):
        decider.decide(list(records[0].values())[:-1])
    with pytest.raises(crisk.CriskError, match="declaration_date"):
        decider.decide([object()] * 13)           # str(object), as Bundle.score writes it
    assert decider.decide(records[0]).lane in bundle.lanes
    state.close()
    with pytest.raises(ValueError, match="lane state is closed"):
        decider.decide(records[0])
    decider.close()
    with pytest.raises(ValueError, match="decider is closed"):
        decider.decide(records[0])


def test_one_decider_per_thread(bundle, records):
    """Deciders on two threads, each with its own lane state, sharing the bundle and the
    event index, each decide every declaration as the batch does."""
    from concurrent.futures import ThreadPoolExecutor

    batch = bundle.score(records, state=bundle.stream(), **EVENTS)
    index = bundle.load_events(**EVENTS)

    def run(_):
        decider = bundle.decider(bundle.stream(), index)
        for i, record in enumerate(records):
            assert_same(batch.scores, i, decider.decide(record), decider.score_columns)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, range(2)))
