"""crisk.Decider: one declaration a call, as a clearance system scores them, into a Decision.

``Bundle.score([record], state=...)`` builds a batch and a pandas frame, and with events
reads the whole event stream again, at every call. A Decider keeps one C batch, emptied at
each call, reads the events once (``Bundle.load_events``: a crisk.EventIndex), passes the
record's values (the str objects' own UTF-8) and gets the decision back as one tuple, in
one call into C, the GIL released while the declaration is scored::

    index = bundle.load_events("events.jsonl", device_keys="device_keys.json")
    decider = bundle.decider(state=bundle.stream(), events=index)
    for record in arriving:              # a dict, or the values in schema field order
        d = decider.decide(record)       # raises CriskError for a rejected declaration
        route(d.lane, d.scores[0], d.reason)

A decision is the one ``Bundle.score`` gives the same declarations as one batch in stream
mode, bit for bit (tests/python/test_decider.py).
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from . import _capi, capi  # type: ignore[attr-defined]
from ._bundle import _REASON_KINDS, Bundle, LaneState, _cell_text
from ._events import EventIndex
from ._model import _raise

Record = Union[Dict[str, Any], Sequence[Any]]
_new_tuple = tuple.__new__   # a Decision from the tuple C builds in its order


class Decision(NamedTuple):
    """One declaration's decision: the values of a row of ``Bundle.score``'s scores.

    ``lane``, ``reason`` (at most 511 bytes) and ``reason_kind`` (profile, threshold, budget,
    random, default, unscored, explore); ``scores``: every model's float32 outputs (as
    Python floats) in the order of ``Decider.score_columns``; ``hits``: the ids of the
    profiles hit, in file order; ``propensity``: the probability the policy gave it of
    being selected by some rule, before any draw."""
    lane: str
    reason: str
    reason_kind: str
    scores: Tuple[float, ...]
    hits: Tuple[str, ...]
    propensity: float


class Decider:
    """Scores one declaration a call (``decide``) with a bundle, in stream mode against a
    LaneState (None: each declaration a batch of its own, which a policy with a budget
    refuses), with the events of a crisk.EventIndex of the same bundle (None: none; event
    features NaN), profiles judged as of ``today`` (None: each declaration's own date).
    Made by ``Bundle.decider``.

    One call at a time: a call holds the state's lock (or, without a state, the
    decider's own), so the calls of deciders sharing a state take turns; use one decider
    (and state) per thread. ``close`` frees its batch; the bundle, state and
    events stay the caller's."""

    def __init__(self, bundle: Bundle, state: Optional[LaneState] = None,
                 events: Optional[EventIndex] = None, today: Any = None):
        if state is not None and state._bundle is not bundle:
            raise ValueError("the lane state belongs to another bundle")
        if events is not None and getattr(events, "_owner", None) is not bundle:
            raise ValueError("the event index was read by another bundle")
        self._bundle, self._state, self._events = bundle, state, events
        # One lock guards the batch and the state: the state's (a second lock per call
        # costs a third of a microsecond here), or the decider's own without a state.
        self._lock = state._lock if state is not None else threading.Lock()
        self._has_today, self._today = Bundle._today(today)
        self._fields = bundle.schema.field_names
        kinds = tuple(_REASON_KINDS.get(k) for k in range(max(_REASON_KINDS) + 1))
        self._names = (tuple(self._fields), tuple(bundle.lanes), kinds)
        self.score_columns: List[str] = [c for cols in bundle.score_columns.values()
                                         for c in cols]
        self._err = capi.crisk_error()
        self._batch = capi.batch_new(capi.crisk_bundle_schema(bundle._live()), self._err)
        if self._batch is None:
            _raise(self._err)

    def decide(self, record: Record) -> Decision:
        """Scores one declaration: a dict (field name to value; a missing key is a missing
        value, other keys are ignored) or its values in ``Bundle.schema.field_names``
        order (a list or tuple). Values are as ``Bundle.score`` takes them (the text a CSV
        cell holds, numbers, dates; None, NaN, "" missing). Raises CriskError
        CRISK_E_INPUT naming the field when the declaration is rejected, ValueError for a
        sequence of another length or a closed decider, bundle, state or events."""
        with self._lock:
            try:
                out = self._call(record)
            except (TypeError, UnicodeEncodeError):
                # Not all plain text: as Bundle.score writes them (numbers, dates, NaN),
                # with lone surrogates passed on for the C library to reject.
                values = ([record.get(f) for f in self._fields] if isinstance(record, dict)
                          else record)
                out = self._call([v.encode("utf-8", "surrogatepass") if isinstance(v, str)
                                  else v for v in map(_cell_text, values)])
            if out is None:   # under the lock: the next call overwrites the error
                _raise(self._err)
        return _new_tuple(Decision, out)

    def _call(self, record: Any) -> Any:
        """One call into C (capi.decide), under the decider's lock."""
        if self._batch is None:
            raise ValueError("the decider is closed")
        state = None
        if self._state is not None:
            state = self._state._handle
            if state is None:
                raise ValueError("the lane state is closed")
        events = self._events._live() if self._events is not None else None
        # The extension's function itself: capi.decide is a Python wrapper around it.
        return _capi.decide(self._bundle._live(), self._batch, events, state,
                            self._has_today, self._today, record, self._names, self._err)

    def close(self) -> None:
        """Frees the C batch now. Idempotent."""
        with getattr(self, "_lock", contextlib.nullcontext()):
            batch, self._batch = getattr(self, "_batch", None), None
        if batch is not None:
            capi.crisk_batch_free(batch)

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> "Decider":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
