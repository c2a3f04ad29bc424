"""crisk: customs risk scoring — XGBoost, LightGBM and logistic models run by a C engine.

>>> import crisk
>>> model = crisk.Model("models/example-features/fraud_xgb.json")
>>> model.predict(X)            # probabilities, shape (n,)
>>> bundle = crisk.Bundle("path/to/bundle")
>>> scores, rejects = bundle.score(declarations_df)
>>> result = bundle.score(declarations_df, events=events_df, device_keys="keys.json")
>>> result.event_rejects          # refused events: line, row, kind, reason
>>> with crisk.Pool(4) as pool:   # threads reused by every call given the pool
...     model.predict(X, pool=pool, threads=0)   # 0: all its threads (default: 1)

Models need numpy only. Declarations (Schema, Bundle, LaneState, ScoreResult,
score_partition; Decider, Decision and EventIndex for one declaration a call) come and go as pandas DataFrames: they are imported on first use, so
that ``import crisk`` works without pandas (``pip install crisk[pandas]`` adds it).
"""
from typing import Any

from . import capi
from ._errors import CriskError
from ._model import Model
from ._pool import Pool

__version__ = capi.crisk_version_string()
__all__ = ["Bundle", "CriskError", "Decider", "Decision", "EventIndex", "LaneState", "Model",
           "Monitor", "Pool", "Report", "Schema", "ScoreResult", "__version__",
           "evaluate_offpolicy", "report", "score_partition"]
# What needs pandas (and, for report, matplotlib), by the module that defines it.
_LAZY = {"Bundle": "_bundle", "LaneState": "_bundle", "Schema": "_bundle",
         "Decider": "_decider", "Decision": "_decider", "EventIndex": "_events",
         "ScoreResult": "_bundle", "score_partition": "_bundle", "Monitor": "_monitor",
         "Report": "_report", "report": "_report", "evaluate_offpolicy": "_loop"}


def __getattr__(name: str) -> Any:
    """Imports the declarations side (which needs pandas) on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'crisk' has no attribute {name!r}")
    import importlib
    try:
        module = importlib.import_module("." + _LAZY[name], __name__)
    except ModuleNotFoundError as e:
        if e.name not in ("pandas", "matplotlib"):
            raise
        extra = "pandas" if e.name == "pandas" else "report"
        raise ImportError(f"crisk.{name} needs {e.name}, which is not installed "
                          f"(pip install 'crisk[{extra}]')", name=e.name) from e
    return getattr(module, name)
