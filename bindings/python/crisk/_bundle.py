"""crisk.Schema and crisk.Bundle: declarations in, features, scores, lanes and reasons out.

Declarations are given as a pandas DataFrame (one column per schema field; other columns
are ignored) or as a list of dicts (a missing key is a missing value). Each value goes to
the C library as the text a CSV file would hold, so the Python path and `crisk score`
read the same thing:

- numbers: the shortest text that round-trips (``repr`` of a float64, numpy's ``str`` of
  a float32, the digits of an integer);
- dates (``datetime.date``, ``datetime.datetime``, pandas ``Timestamp``, datetime64
  columns): ISO ``YYYY-MM-DD`` (a time of day is dropped);
- strings: unchanged; ``None``, NaN, ``pd.NA``, ``NaT`` and ``""``: missing.

The C library validates every row (docs/schema.md): a bad value rejects the row, and
``Bundle.score`` reports it in ``rejects`` with its position and the reason, never
dropping it silently. ``Schema.fit``/``training_matrix``/``features`` are stricter: a
rejected row raises CriskError naming it, since training on a silently shortened table
would misalign labels.

``Bundle.score(..., explain=K)`` also explains each decision: the top K reason codes of
the policy's score model (declaration field, its value, signed contribution) with the bias
and rest that complete the sum to the model's margin, as columns of the scores
(ScoreResult), the same values ``crisk score --explain K`` prints.

Every method that takes declarations also takes border sensor events (docs/events.md;
``events=``: a DataFrame, a list of dicts, a .jsonl path or JSON Lines bytes, see
crisk._events), with ``device_keys`` (the path of a device key file: the devices whose
events count, each with its key or listed as unsigned; without it every event is refused
as unknown_device) and ``require_hmac``.
Refused events are reported, never dropped: ``ScoreResult.event_rejects``, and for the
Schema methods ``schema.event_rejects`` (and ``frame.attrs["event_rejects"]``).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import threading
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import capi
from ._errors import CriskError
from ._events import EventIndex, Events, Joined, empty_rejects
from ._model import Model, _raise
from ._pool import Pool, use_pool

_E_INPUT = -8            # CRISK_E_INPUT (crisk.h): a row the batch rejects
_E_INVALID_ARGUMENT = -1
_REASON_BYTES = 512      # longest reason text kept per declaration (cut to fit)
_EPOCH = _dt.date(1970, 1, 1)
_REASON_KINDS = {1: "profile", 2: "threshold", 3: "budget", 4: "random", 5: "default",
                 6: "unscored", 7: "explore"}

Declarations = Union[pd.DataFrame, Sequence[Dict[str, Any]]]
PathLike = Union[str, "os.PathLike[str]"]


def _cell_text(v: Any) -> Optional[Union[str, bytes]]:
    """Returns one value as the text a CSV cell would hold, or None when missing."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (str, bytes)):
        return v
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, np.float32):
        return None if math.isnan(v) else str(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else repr(float(v))
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).date().isoformat()
    if isinstance(v, _dt.datetime):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


def _series_text(s: pd.Series) -> List[Optional[Union[str, bytes]]]:
    """Returns a column as cell texts (see the module doc), fast paths for plain dtypes."""
    dtype = s.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return [None if pd.isna(v) else v for v in s.dt.strftime("%Y-%m-%d").tolist()]
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        if dtype == np.float32:
            return [None if v != v else str(v) for v in s.to_numpy()]
        return [None if v != v else repr(v) for v in s.to_numpy(np.float64).tolist()]
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return [str(v) for v in s.tolist()]
    return [_cell_text(v) for v in s.tolist()]


def _columns(decls: Declarations, fields: Sequence[str]
             ) -> Tuple[List[List[Optional[Union[str, bytes]]]], pd.Index]:
    """Returns the schema fields of `decls` as cell-text columns, and the row labels (the
    DataFrame's index, or 0..n-1 for a list of dicts). A DataFrame must have a column for
    every field: a missing one is an error, not a column of missing values."""
    if isinstance(decls, pd.DataFrame):
        columns = {str(c) for c in decls.columns}
        missing = [f for f in fields if f not in columns]
        if missing:
            raise CriskError(_E_INVALID_ARGUMENT, "CRISK_E_INVALID_ARGUMENT",
                             f"the declarations lack the schema field column(s) {missing}")
        frame = decls.rename(columns=str)
        return [_series_text(frame[f]) for f in fields], decls.index
    rows = list(decls)
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TypeError(f"declaration {i} is a {type(row).__name__}, not a dict")
    return ([[_cell_text(row.get(f)) for row in rows] for f in fields],
            pd.RangeIndex(len(rows)))


def _encode(columns: List[List[Optional[Union[str, bytes]]]]) -> Tuple[bytes, np.ndarray]:
    """Returns the block crisk_helpers.h's batch_append_rows takes: the cells row-major as
    UTF-8 bytes, and the int64 end offset of each cell. Lone surrogates pass through as
    bytes the C library rejects as invalid UTF-8 (a reported reject, not a Python error)."""
    encoded = [[b"" if v is None else v if isinstance(v, bytes)
                else v.encode("utf-8", "surrogatepass") for v in col] for col in columns]
    cells = [c for row in zip(*encoded) for c in row]
    ends = np.cumsum(np.fromiter(map(len, cells), dtype=np.int64, count=len(cells)),
                     dtype=np.int64)
    return b"".join(cells), ends


class _Batch:
    """A filled crisk_batch, the input positions of its rows, the rejected rows, and the
    events joined to it (``event_rejects``: the refused ones)."""

    def __init__(self, schema: "Schema", decls: Declarations, events: Optional[Events] = None,
                 device_keys: Optional[PathLike] = None, require_hmac: bool = False):
        handle = schema._live()
        self._joined: Optional[Joined] = None
        self._schema = schema  # the C batch must not outlive its schema
        columns, self.index = _columns(decls, schema.field_names)
        n = len(self.index)
        data, ends = _encode(columns)
        err = capi.crisk_error()
        self._h = capi.batch_new(handle, err)
        if self._h is None:
            _raise(err)
        self.rejects: List[Tuple[int, str]] = []
        start = 0
        while start < n:
            stop = capi.batch_append_rows(self._h, data, ends, len(columns), start, n, err)
            if stop >= n:
                break
            if err.code != _E_INPUT:
                _raise(err)
            self.rejects.append((int(stop), err.message))
            start = stop + 1
        rejected = {r for r, _ in self.rejects}
        self.kept = np.array([r for r in range(n) if r not in rejected], dtype=np.int64)
        self.ids = (columns[schema.field_names.index(schema.id_field)]
                    if schema.id_field in schema.field_names else None)
        if events is not None:
            self._joined = Joined(handle, self._h, events, device_keys, require_hmac)
        elif device_keys is not None or require_hmac:
            raise ValueError("device_keys and require_hmac need events")
        self.event_rejects = (self._joined.rejects if self._joined is not None
                              else empty_rejects())

    def strict(self) -> "_Batch":
        """Raises CriskError for the first rejected row, naming it; returns self."""
        if self.rejects:
            row, message = self.rejects[0]
            raise CriskError(_E_INPUT, "CRISK_E_INPUT",
                             f"declaration {row} (index {self.index[row]!r}): {message}"
                             + (f" (and {len(self.rejects) - 1} more rejected)"
                                if len(self.rejects) > 1 else ""))
        return self

    def __del__(self) -> None:
        handle, self._h = getattr(self, "_h", None), None
        if handle is not None:
            capi.crisk_batch_free(handle)
        joined, self._joined = getattr(self, "_joined", None), None
        if joined is not None:   # after the batch: events must outlive their join
            joined.close()


class Schema:
    """A declaration schema (docs/schema.md): fields, the features built from them, and the
    fitted tables (category dictionaries, risk rates, unit-value bands).

    ``Schema(path)`` loads a schema file, fitted or not; ``fit`` fits its tables from
    labelled declarations, ``training_matrix`` gives out-of-fold features to train on,
    ``features`` the features a bundle scores with, and ``save`` writes the fitted file a
    bundle names. The schema of a loaded Bundle (``Bundle.schema``) is read-only.
    """

    def __init__(self, path: PathLike):
        path = os.fspath(path)
        err = capi.crisk_error()
        handle = capi.schema_load(path, err)
        if handle is None:
            _raise(err)
        with open(path, encoding="utf-8") as f:
            id_field = json.load(f).get("id_field")
        self._init(handle, None, id_field)

    def _init(self, handle: Any, owner: Optional["Bundle"], id_field: Optional[str]) -> None:
        self._handle = handle
        self._owner = owner     # a bundle owns its schema: keep it alive, never free
        self.id_field: Optional[str] = id_field
        self.field_names: List[str] = [capi.crisk_schema_field_name(handle, i) for i in
                                       range(capi.crisk_schema_num_fields(handle))]
        self.feature_names: List[str] = [capi.crisk_schema_feature_name(handle, i) for i in
                                         range(capi.crisk_schema_num_features(handle))]
        self.event_rejects: pd.DataFrame = empty_rejects()   # of the last call with events

    @classmethod
    def _borrow(cls, handle: Any, owner: "Bundle", id_field: Optional[str]) -> "Schema":
        schema = cls.__new__(cls)
        schema._init(handle, owner, id_field)
        return schema

    def _live(self) -> Any:
        if self._handle is None or (self._owner is not None and self._owner._handle is None):
            raise ValueError("the schema is closed")
        return self._handle

    def close(self) -> None:
        """Frees the C schema now (a bundle's schema goes with its bundle). Idempotent."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None and self._owner is None:
            capi.crisk_schema_free(handle)

    def __del__(self) -> None:
        self.close()

    def __repr__(self) -> str:
        where = " (of a bundle)" if self._owner is not None else ""
        return (f"<crisk.Schema{where}: {len(self.field_names)} fields, "
                f"{len(self.feature_names)} features {self.feature_names[:4]}"
                f"{'...' if len(self.feature_names) > 4 else ''}>")

    @staticmethod
    def _labels(decls: Declarations, label: Union[str, Sequence[float], np.ndarray]
                ) -> np.ndarray:
        if isinstance(label, str):
            if isinstance(decls, pd.DataFrame):
                values = decls[label].to_numpy(dtype=np.float32, na_value=np.nan)
            else:
                values = np.array([row.get(label) for row in decls], dtype=np.float32)
        else:
            values = np.asarray(label, dtype=np.float32)
        return np.ascontiguousarray(values, dtype=np.float32)

    def _batch(self, declarations: Declarations, events: Optional[Events],
               device_keys: Optional[PathLike], require_hmac: bool) -> _Batch:
        batch = _Batch(self, declarations, events, device_keys, require_hmac).strict()
        self.event_rejects = batch.event_rejects
        return batch

    def fit(self, declarations: Declarations, label: Union[str, Sequence[float]],
            folds: int = 5, seed: int = 1, smoothing: float = 20.0,
            events: Optional[Events] = None, device_keys: Optional[PathLike] = None,
            require_hmac: bool = False) -> "Schema":
        """Fits the schema's tables from labelled declarations (``label``: a column name
        or a sequence of 0/1, one per declaration), with their events joined when given
        (refused ones in ``self.event_rejects``). Returns self."""
        if self._owner is not None:
            raise ValueError("a bundle's schema is read-only; fit a Schema loaded from a file")
        batch = self._batch(declarations, events, device_keys, require_hmac)
        y = self._labels(declarations, label)
        err = capi.crisk_error()
        if capi.schema_fit(self._live(), batch._h, y, int(folds), int(seed),
                           float(smoothing), err) != 0:
            _raise(err)
        return self

    def _frame(self, batch: _Batch, out: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame(out, index=batch.index, columns=self.feature_names)
        frame.attrs["event_rejects"] = batch.event_rejects
        return frame

    def training_matrix(self, declarations: Declarations,
                        label: Union[str, Sequence[float]], folds: int = 5, seed: int = 1,
                        smoothing: float = 20.0, events: Optional[Events] = None,
                        device_keys: Optional[PathLike] = None,
                        require_hmac: bool = False) -> pd.DataFrame:
        """Returns the out-of-fold training features (a float32 DataFrame: one column per
        schema feature, the declarations' index), with the options the fit used and the
        events joined when given (refused ones in ``attrs["event_rejects"]``)."""
        batch = self._batch(declarations, events, device_keys, require_hmac)
        y = self._labels(declarations, label)
        out = np.empty((len(batch.index), len(self.feature_names)), dtype=np.float32)
        err = capi.crisk_error()
        if capi.schema_training_matrix(self._live(), batch._h, y, int(folds), int(seed),
                                       float(smoothing), out, err) != 0:
            _raise(err)
        return self._frame(batch, out)

    def features(self, declarations: Declarations, events: Optional[Events] = None,
                 device_keys: Optional[PathLike] = None,
                 require_hmac: bool = False) -> pd.DataFrame:
        """Returns the scoring features of the declarations (a float32 DataFrame: one
        column per schema feature, the declarations' index), with the events joined when
        given (refused ones in ``attrs["event_rejects"]``)."""
        batch = self._batch(declarations, events, device_keys, require_hmac)
        out = np.empty((len(batch.index), len(self.feature_names)), dtype=np.float32)
        err = capi.crisk_error()
        if capi.schema_features(self._live(), batch._h, out, err) != 0:
            _raise(err)
        return self._frame(batch, out)

    def save(self, path: PathLike) -> None:
        """Writes the schema with its fitted tables to `path` (JSON)."""
        err = capi.crisk_error()
        if capi.crisk_schema_save(self._live(), os.fspath(path), err) != 0:
            _raise(err)


class _ScoreTuple(NamedTuple):
    scores: pd.DataFrame
    rejects: pd.DataFrame


class ScoreResult(_ScoreTuple):
    """What Bundle.score returns; unpacks as ``scores, rejects = bundle.score(df)``.

    ``scores``: one row per scored declaration, indexed by the input's labels (a
    DataFrame's index; positions 0..n-1 for a list of dicts), in input order, with
    columns: the schema's id field (when it has one), the float32 scores of every model
    as ``crisk score`` writes them (one column named as in the manifest for a model with
    one output; ``<name>:score_<k>`` for each class k of a multi-class model, in the
    model's class order: ``Bundle.score_columns``), ``lane``, ``reason`` (the one-line reason,
    at most 511 bytes), ``reason_kind`` (profile, threshold, budget, random, default,
    unscored, explore), ``hits`` (the ids of every profile hit, joined by ";") and
    ``propensity`` (float64: the probability the policy gave the declaration of being
    selected by some rule, before any draw; docs/bundle.md, "Propensity").

    With ``score(..., explain=K)``, K > 0, the reason codes follow (docs/bundle.md,
    "Reason codes"; ``crisk score --explain K``): for k = 1..K, ``reason_<k>_field`` (the
    declaration field, str), ``reason_<k>_value`` (the declaration's value of it as text:
    text and HS codes as stored, numbers as %.15g, dates as YYYY-MM-DD; missing, i.e.
    ``pd.isna``, when the declaration lacks it) and ``reason_<k>_contribution``
    (float32, signed, in the score model's
    margin space), ranked by absolute contribution; then ``explain_bias`` and
    ``explain_rest`` (float32: the score model's expected margin and the fields beyond
    the K-th, summed), so that per declaration the contributions + bias + rest equal the
    score model's margin (to float rounding). Slots past a declaration's reasons (K
    larger than its fields with a non-zero contribution) are missing (field and value
    ``pd.isna``, contribution NaN); a
    declaration the score model did not score has no reasons and NaN bias and rest.
    Without explain there are none of these columns.

    ``rejects``: one row per rejected declaration, indexed the same way, with ``row``
    (its position in the input) and ``reason`` (field, value and why). Every input row
    is in exactly one of the two.

    ``event_rejects`` (an attribute, not unpacked): one row per refused event, with
    ``line`` (1-based line of the JSON Lines), ``row`` (0-based input row), ``kind``
    (docs/events.md: malformed, bad_hmac, ...) and ``reason``; indexed by the events
    DataFrame's labels. Empty without events.
    """

    def __new__(cls, scores: pd.DataFrame, rejects: pd.DataFrame,
                event_rejects: Optional[pd.DataFrame] = None) -> "ScoreResult":
        self = super().__new__(cls, scores, rejects)
        self.event_rejects = empty_rejects() if event_rejects is None else event_rejects
        return self

    def combined(self) -> pd.DataFrame:
        """Returns every input row in input order: the scores' columns (missing for a
        rejected row) and ``rejected``, the reason a row was rejected (missing, i.e.
        NaN, for a scored row).
        One frame per input frame, as Dask's map_partitions wants it."""
        n = len(self.scores) + len(self.rejects)
        rejected = self.rejects["row"].to_numpy()
        kept = np.setdiff1d(np.arange(n), rejected)
        labels = np.empty(n, dtype=object)
        labels[kept] = list(self.scores.index)
        labels[rejected] = list(self.rejects.index)
        out = self.scores.set_axis(kept).reindex(np.arange(n))
        reasons = np.full(n, None, dtype=object)
        reasons[rejected] = self.rejects["reason"].to_numpy(dtype=object)
        out["rejected"] = reasons
        return out.set_axis(pd.Index(labels.tolist()))


class Bundle:
    """A crisk bundle (docs/bundle.md): a fitted schema, models, risk profiles and a lane
    policy, loaded from one directory. Immutable: one instance may score from many
    threads at once. It pickles by absolute path (the receiving process loads the
    directory, which must be reachable there under the same path).
    """

    _cache: Dict[str, "Bundle"] = {}
    _cache_lock = threading.Lock()
    loads = 0   # bundles this process has loaded through Bundle.shared (for tests, logs)

    def __init__(self, path: PathLike):
        self.path = os.fspath(path)
        err = capi.crisk_error()
        handle = capi.bundle_load(self.path, err)
        if handle is None:
            _raise(err)
        self._handle = handle
        with open(os.path.join(self.path, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        with open(os.path.join(self.path, manifest["schema"]), encoding="utf-8") as f:
            id_field = json.load(f).get("id_field")
        self._files = {m["name"]: m["file"] for m in manifest["models"]}
        self.models: Dict[str, List[str]] = {m["name"]: list(m["features"])
                                             for m in manifest["models"]}
        self.model_names: List[str] = [capi.crisk_bundle_model_name(handle, i) for i in
                                       range(capi.crisk_bundle_num_models(handle))]
        # The score columns of each model, named as `crisk score` names them: the model's
        # name, or "<name>:score_<k>" for each class k of a multi-class model.
        self.score_columns: Dict[str, List[str]] = {}
        for i, name in enumerate(self.model_names):
            outputs = capi.bundle_model_outputs(handle, i)
            self.score_columns[name] = ([name] if outputs == 1 else
                                        [f"{name}:score_{k}" for k in range(outputs)])
        self.lanes: List[str] = [capi.crisk_bundle_lane_name(handle, i) for i in
                                 range(capi.crisk_bundle_num_lanes(handle))]
        self.schema = Schema._borrow(capi.crisk_bundle_schema(handle), self, id_field)

    @classmethod
    def shared(cls, path: PathLike) -> "Bundle":
        """Returns this process's Bundle for `path`, loading it on first use: one load per
        process (e.g. per Dask worker) however many partitions or threads score with it."""
        key = os.path.abspath(os.fspath(path))
        with cls._cache_lock:
            bundle = cls._cache.get(key)
            if bundle is None:
                bundle = cls._cache[key] = cls(key)
                cls.loads += 1
            return bundle

    def close(self) -> None:
        """Frees the C bundle now rather than at garbage collection. Idempotent."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None:
            capi.crisk_bundle_free(handle)

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> "Bundle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __reduce__(self):
        return (Bundle, (os.path.abspath(self.path),))

    def __repr__(self) -> str:
        return (f"<crisk.Bundle {self.path!r}: models {self.model_names}, lanes "
                f"{self.lanes}, {len(self.schema.feature_names)} features>")

    def _live(self) -> Any:
        if self._handle is None:
            raise ValueError("the bundle is closed")
        return self._handle

    def model(self, name: str) -> Model:
        """Returns the bundle's model `name` as a crisk.Model (its own copy, loaded from
        the bundle's file), e.g. for explanations; its columns are ``models[name]``."""
        if name not in self._files:
            raise KeyError(f"no model {name!r} in the bundle (models: {self.model_names})")
        return Model(os.path.join(self.path, self._files[name]))

    @staticmethod
    def _today(today: Union[None, int, str, _dt.date]) -> Tuple[int, int]:
        if today is None:
            return 0, 0
        if isinstance(today, str):
            today = _dt.date.fromisoformat(today)
        if isinstance(today, _dt.datetime):
            today = today.date()
        if isinstance(today, _dt.date):
            return 1, (today - _EPOCH).days
        return 1, int(today)

    def monitor(self, declarations: Declarations, events: Optional[Events] = None,
                device_keys: Optional[PathLike] = None, threads: int = 0,
                warn: Optional[float] = None, alert: Optional[float] = None) -> pd.DataFrame:
        """Compares ``declarations`` with the bundle's reference distributions, as
        `crisk monitor` does: a DataFrame of the PSI, noise, missing and unseen shares and
        level of every feature and score, worst first (crisk.Monitor keeps counts across
        calls). Raises CriskError when the bundle has no reference."""
        from ._monitor import Monitor  # _monitor imports this module
        drift = Monitor(self)
        drift.add(declarations, events, device_keys, threads)
        return drift.report(warn, alert)

    def stream(self, path: Optional[PathLike] = None) -> "LaneState":
        """Returns a streaming lane state for this bundle's policy (docs/bundle.md, "Budget,
        stream mode"): fresh, or the one saved at `path`. Pass it as
        ``score(..., state=...)`` to decide declarations one by one against the rolling
        threshold; ``save`` it between runs."""
        return LaneState(self, path)

    def load_events(self, events: Events, device_keys: Optional[PathLike] = None,
                    require_hmac: bool = False) -> EventIndex:
        """Reads ``events`` (as ``score`` takes them) once for a Decider: a crisk.EventIndex
        keeping every accepted event, with the refused ones in ``rejects``."""
        index = EventIndex(capi.crisk_bundle_schema(self._live()), None, events,
                           device_keys, require_hmac)
        index._owner = self   # the C events point into this bundle's schema
        return index

    def decider(self, state: Optional["LaneState"] = None,
                events: Optional[EventIndex] = None,
                today: Union[None, int, str, _dt.date] = None) -> "Decider":
        """Returns a crisk.Decider: one declaration a call into a Decision, in stream mode
        against ``state`` (``stream()``), with the events of ``load_events`` (see
        crisk._decider)."""
        from ._decider import Decider  # _decider imports this module
        return Decider(self, state, events, today)

    def score(self, declarations: Declarations, threads: int = 1,
              today: Union[None, int, str, _dt.date] = None,
              events: Optional[Events] = None, device_keys: Optional[PathLike] = None,
              require_hmac: bool = False, state: Optional["LaneState"] = None,
              pool: Optional[Pool] = None, explain: int = 0) -> ScoreResult:
        """Scores declarations (a DataFrame or a list of dicts): every model, the risk
        profiles and the lane policy. ``threads``: 1 (the default, as everywhere in
        crisk) works on the calling thread, N on N threads, 0 on every core (with a
        ``pool``, crisk.Pool: N or 0 of the pool's threads). ``today`` (a date, an ISO
        string or days since 1970-01-01) decides which profiles are active; None takes
        each declaration's own date. ``events`` (a DataFrame, a list of dicts, a
        .jsonl path or JSON Lines bytes; docs/events.md) are verified with the key file
        ``device_keys`` and joined to the declarations; refused ones are in
        ``event_rejects``. Without ``state`` the inspection budget applies to this call's
        declarations as one batch (a batch too small for a budget share, share x rows < 1,
        raises CriskError CRISK_E_INVALID_ARGUMENT naming stream mode); with a LaneState
        (``stream()``) they are decided in stream mode, in order, and the state is updated. ``explain`` = K > 0 adds the top K
        reason codes of each declaration (the policy's score model's contributions
        grouped onto declaration fields, docs/bundle.md "Reason codes") as the columns
        ScoreResult describes; it needs a policy score_model with one margin. Returns
        ``(scores, rejects)`` (ScoreResult). The GIL is released while the C library
        works."""
        explain = int(explain)
        if explain < 0:
            raise ValueError(f"explain must be >= 0, not {explain}")
        handle = self._live()
        batch = _Batch(self.schema, declarations, events, device_keys, require_hmac)
        has_today, days = self._today(today)
        err = capi.crisk_error()
        held = state._use(self) if state is not None else contextlib.nullcontext(None)
        with held as state_handle, use_pool(pool) as pool_handle:
            results = capi.bundle_score_stream(handle, batch._h, int(threads), pool_handle,
                                               has_today, days, state_handle, explain,
                                               err)
        if results is None:
            _raise(err)
        try:
            n = capi.crisk_results_size(results)
            names = [c for cols in self.score_columns.values() for c in cols]
            scores = np.empty((n, len(names)), dtype=np.float32)
            ints = np.empty((n, 3), dtype=np.int32)
            text = bytearray(n * _REASON_BYTES)
            if (capi.results_collect(handle, results, scores, ints, err) != 0
                    or capi.results_reasons(results, text, err) != 0):
                _raise(err)
            hits = [";".join(capi.crisk_results_hit_id(results, r, k) for k in range(h))
                    if h else "" for r, h in enumerate(ints[:, 2].tolist())]
            propensity = np.array([capi.crisk_results_propensity(results, r)
                                   for r in range(n)], dtype=np.float64)
            explained = (_reason_columns(handle, results, n, explain,
                                         self.schema.field_names) if explain else {})
        finally:
            capi.crisk_results_free(results)
        reasons = [t.decode("utf-8", "replace") for t in
                   np.frombuffer(bytes(text), dtype=f"S{_REASON_BYTES}")] if n else []
        lanes = np.array(self.lanes + [None], dtype=object)[ints[:, 0]]
        columns: Dict[str, Any] = {}
        if batch.ids is not None:
            columns[self.schema.id_field] = [_text(batch.ids[r]) for r in batch.kept]
        for j, name in enumerate(names):
            columns[name] = scores[:, j]
        columns["lane"] = lanes
        columns["reason"] = reasons
        columns["reason_kind"] = [_REASON_KINDS.get(k) for k in ints[:, 1].tolist()]
        columns["hits"] = hits
        columns["propensity"] = propensity
        columns.update(explained)
        out = pd.DataFrame(columns, index=batch.index[batch.kept])
        rejects = pd.DataFrame({"row": np.array([r for r, _ in batch.rejects], dtype=np.int64),
                                "reason": [m for _, m in batch.rejects]},
                               index=batch.index[[r for r, _ in batch.rejects]])
        return ScoreResult(out, rejects, batch.event_rejects)


class LaneState:
    """The streaming lane state of one stream of declarations (crisk_lane_state): the
    rolling window of recent scores the stream-mode budget threshold is set from. Made by
    ``Bundle.stream()``; used by one ``score`` call at a time (a lock serialises them);
    ``save``/``load`` carry it across runs (a state loads only for the same policy)."""

    def __init__(self, bundle: Bundle, path: Optional[PathLike] = None):
        self._bundle = bundle
        self._lock = threading.Lock()
        self._handle: Any = None
        if path is None:
            err = capi.crisk_error()
            self._handle = capi.lane_state_new(bundle._live(), err)
            if self._handle is None:
                _raise(err)
        else:
            self.load(path)

    def load(self, path: PathLike) -> "LaneState":
        """Replaces this state by the one saved at `path` (for this bundle's policy);
        returns self."""
        err = capi.crisk_error()
        handle = capi.lane_state_load(self._bundle._live(), os.fspath(path), err)
        if handle is None:
            _raise(err)
        with self._lock:
            old, self._handle = self._handle, handle
        if old is not None:
            capi.crisk_lane_state_free(old)
        return self

    def save(self, path: PathLike) -> None:
        """Writes the state to `path` (JSON, docs/bundle.md)."""
        err = capi.crisk_error()
        with self._lock:
            if self._handle is None:
                raise ValueError("the lane state is closed")
            if capi.crisk_lane_state_save(self._handle, os.fspath(path), err) != 0:
                _raise(err)

    @contextlib.contextmanager
    def _use(self, bundle: Bundle) -> Iterator[Any]:
        """Holds the state for one scoring call by `bundle` (its own bundle only)."""
        if bundle is not self._bundle:
            raise ValueError("this lane state belongs to another bundle")
        with self._lock:
            if self._handle is None:
                raise ValueError("the lane state is closed")
            yield self._handle

    def close(self) -> None:
        """Frees the C state now, after the call using it (score and Decider.decide
        hold its lock, the GIL released). Idempotent."""
        with getattr(self, "_lock", contextlib.nullcontext()):
            handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None:
            capi.crisk_lane_state_free(handle)

    def __del__(self) -> None:
        self.close()


def _reason_columns(handle: Any, results: Any, n: int, explain: int,
                    fields: List[str]) -> Dict[str, Any]:
    """Returns the reason-code columns of `results` (of the bundle `handle`, scored with
    explain = `explain` > 0, `n` declarations): reason_<k>_field, reason_<k>_value and
    reason_<k>_contribution for k = 1..explain, then explain_bias and explain_rest (see
    ScoreResult), copied in one crisk_helpers.h call."""
    out = np.empty((n, explain + 2), dtype=np.float32)
    ints = np.empty((n, explain, 2), dtype=np.int32)
    text = bytearray(capi.results_explain_bytes(results))
    err = capi.crisk_error()
    if capi.results_explain(handle, results, explain, out, ints, text, err) != 0:
        _raise(err)
    # Field index -1 (a slot past the declaration's reasons) picks the trailing None.
    names = np.array(fields + [None], dtype=object)[ints[:, :, 0]]
    ends = np.cumsum(ints[:, :, 1], dtype=np.int64).reshape(n, explain)
    starts = ends - ints[:, :, 1]
    raw = bytes(text)
    columns: Dict[str, Any] = {}
    for k in range(explain):
        columns[f"reason_{k + 1}_field"] = names[:, k]
        columns[f"reason_{k + 1}_value"] = [
            raw[a:b].decode("utf-8", "replace") if b > a else None
            for a, b in zip(starts[:, k].tolist(), ends[:, k].tolist())]
        columns[f"reason_{k + 1}_contribution"] = out[:, k]
    columns["explain_bias"] = out[:, explain]
    columns["explain_rest"] = out[:, explain + 1]
    return columns


def score_partition(frame: pd.DataFrame, path: PathLike, threads: int = 1,
                    today: Union[None, int, str, _dt.date] = None,
                    explain: int = 0) -> pd.DataFrame:
    """Scores one partition of declarations with this process's Bundle for `path`
    (Bundle.shared: loaded once per process) and returns ``ScoreResult.combined()``:
    every input row, scored or with the reason it was rejected. Meant for Dask::

        ddf.map_partitions(crisk.score_partition, "bundle/", meta=...)

    ``threads`` is 1, as everywhere: a Dask worker already runs one task per thread."""
    return Bundle.shared(path).score(frame, threads=threads, today=today,
                                     explain=explain).combined()


def _text(v: Optional[Union[str, bytes]]) -> Optional[str]:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v
