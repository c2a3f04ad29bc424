"""Drift monitoring from Python (crisk/monitor.h): the counts of declarations against a
bundle's reference distributions, and their population stability per feature and per
score as a DataFrame, worst first, as `crisk monitor` prints them."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import pandas as pd

from . import capi
from ._bundle import Declarations, PathLike, _Batch
from ._events import Events
from ._model import _raise

if TYPE_CHECKING:
    from ._bundle import Bundle

_LEVELS = ("ok", "warn", "alert")


class Monitor:
    """Drift counts of a stream of declarations (crisk_drift) against ``bundle``'s
    reference distributions (docs/bundle.md, "Reference distributions"): fresh, keeping the
    last ``window`` declarations (0: all), or those saved at ``state``. Raises CriskError
    (CRISK_E_UNSUPPORTED) when the bundle has no reference. One thread at a time."""

    def __init__(self, bundle: "Bundle", window: int = 0, state: Optional[PathLike] = None):
        self._bundle = bundle  # the counts must not outlive the bundle
        err = capi.crisk_error()
        self._ref = capi.reference_load(bundle._live(), err)
        if self._ref is None:
            _raise(err)
        self._h = (capi.drift_load(self._ref, os.fspath(state), err) if state is not None
                   else capi.drift_new(self._ref, int(window), err))
        if self._h is None:
            capi.crisk_reference_free(self._ref)
            _raise(err)

    def __del__(self) -> None:
        handle, self._h = getattr(self, "_h", None), None
        if handle is not None:
            capi.crisk_drift_free(handle)
        ref, self._ref = getattr(self, "_ref", None), None
        if ref is not None:
            capi.crisk_reference_free(ref)

    @property
    def rows(self) -> int:
        """Declarations the counts hold."""
        return int(capi.crisk_drift_rows(self._h))

    def add(self, declarations: Declarations, events: Optional[Events] = None,
            device_keys: Optional[PathLike] = None, threads: int = 0) -> pd.DataFrame:
        """Scores ``declarations`` (joined with ``events`` verified by ``device_keys``)
        and counts them. Returns the rejected rows (``row``, ``reason``): they are not
        counted, and never dropped in silence."""
        bundle = self._bundle._live()
        batch = _Batch(self._bundle.schema, declarations, events, device_keys)
        err = capi.crisk_error()
        # Drift needs the scores, not the lanes: a throwaway lane state decides those, so
        # that a batch too small for the policy's budget shares is still counted.
        lanes = capi.lane_state_new(bundle, err)
        if lanes is None:
            _raise(err)
        try:
            results = capi.bundle_score_stream(bundle, batch._h, int(threads), None, 0, 0,
                                               lanes, 0, err)
        finally:
            capi.crisk_lane_state_free(lanes)
        if results is None:
            _raise(err)
        try:
            if capi.crisk_drift_add(self._h, batch._h, results, err) != 0:
                _raise(err)
        finally:
            capi.crisk_results_free(results)
        return pd.DataFrame({"row": np.array([r for r, _ in batch.rejects], dtype=np.int64),
                             "reason": [m for _, m in batch.rejects]})

    def save(self, path: PathLike) -> None:
        """Saves the counts (the stream's state) to ``path``."""
        err = capi.crisk_error()
        if capi.crisk_drift_save(self._h, os.fspath(path), err) != 0:
            _raise(err)

    def report(self, warn: Optional[float] = None,
               alert: Optional[float] = None) -> pd.DataFrame:
        """Returns one row per feature and score: ``kind``, ``psi``, ``noise``,
        ``missing_ref``, ``missing_now``, ``unseen_ref``, ``unseen_now`` and ``level``
        (ok / warn / alert by the thresholds ``warn`` and ``alert``, which stay set for
        later reports; the reference's until set), indexed by name, worst first."""
        err = capi.crisk_error()
        if warn is not None or alert is not None:
            warn = capi.crisk_reference_warn(self._ref) if warn is None else float(warn)
            alert = capi.crisk_reference_alert(self._ref) if alert is None else float(alert)
            if capi.crisk_drift_set_thresholds(self._h, warn, alert, err) != 0:
                _raise(err)
        rows: list[dict[str, Any]] = []
        for i in range(capi.crisk_drift_num_items(self._h)):
            item = capi.crisk_drift_item()
            if capi.crisk_drift_item_get(self._h, i, item, err) != 0:
                _raise(err)
            rows.append({"name": item.name,
                         "kind": "score" if item.is_score else
                                 "category" if item.is_category else "numeric",
                         "psi": item.psi, "noise": item.noise,
                         "missing_ref": item.missing_ref, "missing_now": item.missing_now,
                         "unseen_ref": item.unseen_ref, "unseen_now": item.unseen_now,
                         "level": _LEVELS[item.level], "_rank": item.level})
        frame = pd.DataFrame(rows).sort_values(["_rank", "psi", "name"],
                                               ascending=[False, False, True],
                                               na_position="last", kind="stable")
        return frame.drop(columns="_rank").set_index("name")
