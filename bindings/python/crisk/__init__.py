"""crisk: customs risk scoring — XGBoost, LightGBM and logistic models run by a C engine.

>>> import crisk
>>> model = crisk.Model("models/example-features/fraud_xgb.json")
>>> model.predict(X)            # probabilities, shape (n,)
"""
from . import capi
from ._errors import CriskError
from ._model import Model

__version__ = capi.crisk_version_string()
__all__ = ["CriskError", "Model", "__version__"]
