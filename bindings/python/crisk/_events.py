"""Border sensor events (docs/events.md) for crisk.Bundle.score and crisk.Schema: a pandas
DataFrame, a list of dicts, a .jsonl file or JSON Lines bytes, serialised to the JSON
Lines the C library reads, and joined to a batch of declarations.

A DataFrame or dict row has the members of an event line: ``event_id``, ``type``,
``device_id``, ``time``, ``payload`` (optional), ``hmac`` (optional), and the key either as
a ``key`` dict ``{"type": ..., "value": ...}`` or as ``key_type`` and ``key_value``. Other
columns are ignored; a missing or NaN member is left out of the line (and the C library
refuses the event if it needs it). Row r becomes line r + 1.

The HMAC covers the time and the payload exactly as written, so:

- ``time`` should be the text as the device wrote it (a pandas Timestamp or datetime is
  written with ``isoformat()``, which a signature made over other text will not match);
- a ``payload`` given as text (str or bytes) passes through unchanged; a dict is written
  with ``json.dumps(payload, separators=(",", ":"), sort_keys=True)``, the form
  models/generate_events.py signs. Read a .jsonl file into a DataFrame with
  ``pd.read_json(path, lines=True, dtype=False, precise_float=True)``: without
  ``precise_float`` pandas rounds payload numbers and signed payloads no longer verify.

Every refused event is reported (``event_rejects``: line, row, kind, reason), never
dropped.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import capi
from ._errors import CriskError
from ._model import _raise

_E_INVALID_ARGUMENT = -1
_KINDS = ["", "malformed", "unknown_key", "unknown_type", "bad_time", "bad_payload",
          "missing_hmac", "unverifiable", "bad_hmac", "duplicate_id", "out_of_order",
          "unknown_device", "future_time"]
_STRING_MEMBERS = ("type", "device_id")   # written after the key, as the docs show them

Events = Union[pd.DataFrame, Sequence[Dict[str, Any]], str, "os.PathLike[str]", bytes]


def _missing(v: Any) -> bool:
    """Returns whether a cell holds no value (None, NaN, pd.NA, NaT)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def _text(v: Any) -> str:
    """Returns a string member's value as text (bytes are decoded as UTF-8)."""
    return v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else str(v)


def _time(v: Any) -> str:
    """Returns the time member: text unchanged, a timestamp as ISO 8601 text."""
    if isinstance(v, (str, bytes)):
        return _text(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _payload(v: Any, row: int) -> bytes:
    """Returns the payload member's JSON bytes: text unchanged, anything else written in
    the signed form (compact, sorted keys). A line feed in text would split the line."""
    raw = v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v
    if not isinstance(raw, bytes):
        raw = json.dumps(v, separators=(",", ":"), sort_keys=True).encode("utf-8")
    if b"\n" in raw or b"\r" in raw:
        raise CriskError(_E_INVALID_ARGUMENT, "CRISK_E_INVALID_ARGUMENT",
                         f"event {row}: the payload text holds a line break (one event "
                         "per line)")
    return raw


def _line(ev: Dict[str, Any], row: int) -> bytes:
    """Returns one event as its JSON Lines line (without the line feed)."""
    parts: List[bytes] = []

    def member(name: str, value: bytes) -> None:
        parts.append(json.dumps(name).encode() + b":" + value)

    def string(v: Any) -> bytes:
        return json.dumps(_text(v)).encode("utf-8", "surrogateescape")

    if not _missing(ev.get("event_id")):
        member("event_id", string(ev["event_id"]))
    key = ev.get("key")
    if isinstance(key, dict):
        member("key", json.dumps({k: _text(v) for k, v in key.items()
                                  if not _missing(v)}).encode("utf-8", "surrogateescape"))
    elif not (_missing(ev.get("key_type")) and _missing(ev.get("key_value"))):
        pair = {k: _text(ev[c]) for k, c in (("type", "key_type"), ("value", "key_value"))
                if not _missing(ev.get(c))}
        member("key", json.dumps(pair).encode("utf-8", "surrogateescape"))
    for name in _STRING_MEMBERS:
        if not _missing(ev.get(name)):
            member(name, string(ev[name]))
    if not _missing(ev.get("time")):
        member("time", string(_time(ev["time"])))
    payload = ev.get("payload")
    if not _missing(payload):
        member("payload", _payload(payload, row))
    if not _missing(ev.get("hmac")):
        member("hmac", string(ev["hmac"]))
    return b"{" + b",".join(parts) + b"}"


def events_bytes(events: Events) -> Tuple[bytes, Optional[pd.Index]]:
    """Returns the events as JSON Lines bytes, and the row labels of a DataFrame or list
    (line r + 1 is row r); None for a file or bytes, whose lines are the file's."""
    if isinstance(events, bytes):
        return events, None
    if isinstance(events, (str, os.PathLike)):
        with open(events, "rb") as f:
            return f.read(), None
    if isinstance(events, pd.DataFrame):
        rows = events.to_dict("records")
        index = events.index
    else:
        rows = list(events)
        index = pd.RangeIndex(len(rows))
    for i, ev in enumerate(rows):
        if not isinstance(ev, dict):
            raise TypeError(f"event {i} is a {type(ev).__name__}, not a dict")
    return b"".join(_line(ev, i) + b"\n" for i, ev in enumerate(rows)), index


def empty_rejects() -> pd.DataFrame:
    """Returns an event rejects frame with no rows."""
    return pd.DataFrame({"line": np.array([], dtype=np.int64),
                         "row": np.array([], dtype=np.int64),
                         "kind": np.array([], dtype=object),
                         "reason": np.array([], dtype=object)})


class EventIndex:
    """Border sensor events read once and kept, for scoring one declaration a call with a
    crisk.Decider (``Bundle.load_events``): every accepted event of the stream is indexed
    by key and time, not only those one batch's declarations can use, so that each
    declaration finds its own without the stream being read again (memory follows the
    stream). ``rejects``: the refused events (line, row, kind, reason), never dropped;
    ``read`` and ``accepted``: the counts. Immutable: any number of threads and deciders
    may use one at once. Owns the C events and device keys."""

    def __init__(self, schema_handle: Any, batch_handle: Any, events: Events,
                 device_keys: Optional[Union[str, "os.PathLike[str]"]],
                 require_hmac: bool):
        """Reads `events` for declarations of the schema `schema_handle`: those the batch
        `batch_handle` can use, or every accepted one when it is None."""
        self._keys = self._events = None
        data, index = events_bytes(events)
        err = capi.crisk_error()
        if device_keys is not None:
            self._keys = capi.device_keys_load(os.fspath(device_keys), err)
            if self._keys is None:
                _raise(err)
        self._events = capi.events_parse(schema_handle, batch_handle, data, self._keys,
                                         int(bool(require_hmac)), err)
        if self._events is None:
            _raise(err)
        self.read = int(capi.crisk_events_num_read(self._events))
        self.accepted = int(capi.crisk_events_num_accepted(self._events))
        self.rejects = self._rejects(index)

    def _live(self) -> Any:
        if self._events is None:
            raise ValueError("the event index is closed")
        return self._events

    def _rejects(self, index: Optional[pd.Index]) -> pd.DataFrame:
        """Returns the refused events: line (1-based), row (0-based: the input row of a
        DataFrame or list, line - 1 for a file), kind and reason; indexed by the input's
        row labels (a DataFrame's index) when there are any."""
        n = capi.crisk_events_num_rejects(self._events)
        if n == 0:
            return empty_rejects()
        lines = np.array([capi.events_reject_line(self._events, i) for i in range(n)],
                         dtype=np.int64)
        frame = pd.DataFrame({
            "line": lines, "row": lines - 1,
            "kind": [_KINDS[capi.events_reject_kind(self._events, i)] for i in range(n)],
            "reason": [capi.events_reject_reason(self._events, i) for i in range(n)]})
        if index is not None:
            frame.index = index[lines - 1]
        return frame

    def close(self) -> None:
        """Frees the C events and keys. Idempotent. Only once no call uses them (as
        Bundle.close): a Decider's call reads them with the GIL released."""
        events, self._events = getattr(self, "_events", None), None
        keys, self._keys = getattr(self, "_keys", None), None
        if events is not None:
            capi.crisk_events_free(events)
        if keys is not None:
            capi.crisk_device_keys_free(keys)

    def __del__(self) -> None:
        self.close()


class Joined(EventIndex):
    """Events read for one batch and joined to it; they must outlive the join (free the
    batch, or detach, before closing this)."""

    def __init__(self, schema_handle: Any, batch_handle: Any, events: Events,
                 device_keys: Optional[Union[str, "os.PathLike[str]"]],
                 require_hmac: bool):
        super().__init__(schema_handle, batch_handle, events, device_keys, require_hmac)
        err = capi.crisk_error()
        if capi.crisk_batch_set_events(batch_handle, self._events, err) != 0:
            _raise(err)
