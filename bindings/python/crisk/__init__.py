"""crisk: customs risk scoring — XGBoost, LightGBM and logistic models run by a C engine.

>>> import crisk
>>> model = crisk.Model("models/example-features/fraud_xgb.json")
>>> model.predict(X)            # probabilities, shape (n,)
>>> bundle = crisk.Bundle("path/to/bundle")
>>> scores, rejects = bundle.score(declarations_df)
>>> result = bundle.score(declarations_df, events=events_df, device_keys="keys.json")
>>> result.event_rejects          # refused events: line, row, kind, reason
>>> with crisk.Pool(4) as pool:   # threads reused by every call given the pool
...     model.predict(X, pool=pool)
"""
from . import capi
from ._bundle import Bundle, LaneState, Schema, ScoreResult, score_partition
from ._errors import CriskError
from ._loop import evaluate_offpolicy
from ._model import Model
from ._monitor import Monitor
from ._pool import Pool
from ._report import Report, report

__version__ = capi.crisk_version_string()
__all__ = ["Bundle", "CriskError", "LaneState", "Model", "Monitor", "Pool", "Report",
           "Schema", "ScoreResult", "__version__", "evaluate_offpolicy", "report",
           "score_partition"]
