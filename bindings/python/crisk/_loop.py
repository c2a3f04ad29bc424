"""Off-policy evaluation from logged inspections (docs/loop.md): crisk_offpolicy_evaluate
over DataFrame columns."""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from . import capi
from ._model import _raise

_ESTIMATES = ["precision_ipw", "precision_snips", "precision_dr", "precision_dr_supported",
              "recall_dr", "revenue_dr"]


def evaluate_offpolicy(log: pd.DataFrame, score: str, *, propensity: str = "propensity",
                       inspected: str = "inspected", hit: str = "hit",
                       revenue: Optional[str] = None, model: Optional[str] = None,
                       top_share: float = 0.05, bootstrap: int = 500, level: float = 0.9,
                       seed: int = 1) -> tuple[pd.DataFrame, dict]:
    """Estimates what selecting the top `top_share` of `log`'s declarations by column
    `score` would find, from the logged inspections: per declaration its `propensity`
    under the logging policy, whether it was `inspected` (with its outcome known), the
    `hit` (1: irregularity or critical; read where inspected), optionally `revenue` and
    an outcome `model` (a probability of a hit; default: `score` calibrated on the
    inspected rows). Returns a DataFrame indexed by estimate (precision_ipw,
    precision_snips, precision_dr, precision_dr_supported, recall_dr, revenue_dr) with
    columns value, low, high (bootstrap percentile interval at `level`), and a dict of
    population, selected, labelled, zero_support, near_zero and ess. Raises CriskError
    on bad input (e.g. an inspected row with propensity 0, named by its row)."""
    n = len(log)
    values = np.empty((n, 6), dtype=np.float64)
    values[:, 0] = log[propensity].to_numpy(np.float64)
    values[:, 1] = log[inspected].to_numpy(np.float64)
    values[:, 2] = np.nan_to_num(log[hit].to_numpy(np.float64))
    values[:, 3] = log[revenue].to_numpy(np.float64) if revenue else 0.0
    values[:, 4] = log[model].to_numpy(np.float64) if model else np.nan
    values[:, 5] = log[score].to_numpy(np.float64)
    out = np.empty(24, dtype=np.float64)
    err = capi.crisk_error()
    if capi.offpolicy_evaluate_matrix(values.reshape(-1), top_share, bootstrap, level, seed,
                                      out, err) != 0:
        _raise(err)
    frame = pd.DataFrame(out[6:].reshape(6, 3), index=_ESTIMATES,
                         columns=["value", "low", "high"])
    keys = ["population", "selected", "labelled", "zero_support", "near_zero"]
    info = {k: int(v) for k, v in zip(keys, out[:5])}
    info["ess"] = float(out[5])
    return frame, info
