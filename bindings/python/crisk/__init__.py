"""crisk: customs risk scoring — XGBoost, LightGBM and logistic models run by a C engine.

>>> import crisk
>>> model = crisk.Model("models/example-features/fraud_xgb.json")
>>> model.predict(X)            # probabilities, shape (n,)
>>> bundle = crisk.Bundle("path/to/bundle")
>>> scores, rejects = bundle.score(declarations_df)
"""
from . import capi
from ._bundle import Bundle, Schema, ScoreResult, score_partition
from ._errors import CriskError
from ._model import Model

__version__ = capi.crisk_version_string()
__all__ = ["Bundle", "CriskError", "Model", "Schema", "ScoreResult", "__version__",
           "score_partition"]
