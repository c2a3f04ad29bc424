"""crisk.Model: a loaded risk model, scored from numpy arrays or pandas DataFrames."""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from . import capi
from ._errors import CriskError
from ._frame import frame_to_rows
from ._pool import Pool, use_pool

_OUTPUTS = {"probability": 0, "transformed": 0, "margin": 1}


def _raise(err: "capi.crisk_error", where: Optional[str] = None) -> None:
    """Raises the failure in `err`; `where` (a file name) prefixes the message as the C
    library prefixes the path of a file it reads (``path: message``)."""
    message = f"{where}: {err.message}" if where else err.message
    raise CriskError(err.code, capi.crisk_err_name(err.code), message)


class Model:
    """A risk model loaded by the crisk C library.

    ``Model(path)`` or ``Model(data: bytes)`` loads XGBoost (JSON, UBJSON, legacy
    binary), LightGBM (text) and crisk logistic (JSON) models. A model is immutable:
    one instance may be scored from many threads at once. It pickles through its
    serialised bytes, so multiprocessing and Dask can ship it.
    """

    def __init__(self, source: Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]):
        path = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        else:
            path = os.fspath(source)
            with open(path, "rb") as f:
                data = f.read()
        err = capi.crisk_error()
        handle = capi.load_buffer(data, err)
        if handle is None:
            _raise(err, None if path is None else os.fsdecode(path))
        self._handle = handle
        self._data = data
        info = capi.crisk_model_info()
        capi.crisk_model_get_info(handle, info)
        self._info = {name: getattr(info, name) for name in (
            "format", "booster", "objective", "num_features", "num_outputs", "num_classes",
            "num_trees", "num_iterations", "num_nodes", "max_depth", "memory_bytes")}
        names = [capi.crisk_model_feature_name(handle, i) for i in range(self.num_features)]
        self._feature_names = names if names and all(n is not None for n in names) else None
        self._categorical = {i for i in range(self.num_features)
                             if capi.crisk_model_num_categories(handle, i) > 0}

    @classmethod
    def from_xgboost(cls, booster: Any) -> "Model":
        """Loads an ``xgboost.Booster``, or a fitted scikit-learn wrapper of one
        (XGBClassifier, XGBRegressor, ...). Anything else is a TypeError."""
        xgb = sys.modules.get("xgboost")    # not imported: booster cannot be one of its
        if xgb is not None and isinstance(booster, xgb.XGBModel):
            booster = booster.get_booster()
        if xgb is None or not isinstance(booster, xgb.Booster):
            raise TypeError(f"from_xgboost takes an xgboost.Booster or a fitted XGBModel "
                            f"(XGBClassifier, XGBRegressor, ...), not "
                            f"{type(booster).__module__}.{type(booster).__qualname__}")
        return cls(bytes(booster.save_raw("json")))

    @classmethod
    def from_lightgbm(cls, booster: Any) -> "Model":
        """Loads a ``lightgbm.Booster``, or a fitted scikit-learn wrapper of one
        (LGBMClassifier, LGBMRegressor, ...), through LightGBM's text format, which keeps
        the ``pandas_categorical`` a model trained on category columns re-codes them by.
        Anything else is a TypeError."""
        lgb = sys.modules.get("lightgbm")
        if lgb is not None and isinstance(booster, lgb.LGBMModel):
            booster = booster.booster_     # raises LightGBM's own error when not fitted
        if lgb is None or not isinstance(booster, lgb.Booster):
            raise TypeError(f"from_lightgbm takes a lightgbm.Booster or a fitted LGBMModel "
                            f"(LGBMClassifier, LGBMRegressor, ...), not "
                            f"{type(booster).__module__}.{type(booster).__qualname__}")
        return cls(booster.model_to_string().encode("utf-8"))

    @classmethod
    def from_sklearn(cls, estimator: Any, feature_names: Optional[Sequence[str]] = None
                     ) -> "Model":
        """Loads a fitted scikit-learn LogisticRegression, a Pipeline of StandardScaler and
        LogisticRegression, or a OneVsRestClassifier of LogisticRegression, through crisk's
        logistic format (crisk.export)."""
        from .export import logistic_to_dict
        doc = logistic_to_dict(estimator, feature_names)
        return cls(json.dumps(doc).encode())

    def close(self) -> None:
        """Frees the C model now rather than at garbage collection. Idempotent."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None:
            capi.crisk_model_free(handle)

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __reduce__(self):
        return (Model, (self._data,))

    def __repr__(self) -> str:
        i = self._info
        shape = f"{i['num_trees']} trees" if i["num_trees"] else "linear"
        return (f"<crisk.Model {i['format']} {i['booster']} {i['objective']!r}: {shape}, "
                f"{i['num_features']} features, {i['num_outputs']} output(s)>")

    @property
    def info(self) -> dict:
        """What `crisk inspect` prints: format, booster, objective, sizes, memory."""
        return dict(self._info)

    @property
    def num_features(self) -> int:
        return int(self._info["num_features"])

    @property
    def num_outputs(self) -> int:
        return int(self._info["num_outputs"])

    @property
    def feature_names(self) -> Optional[Sequence[str]]:
        """The feature names stored in the model file, or None."""
        return list(self._feature_names) if self._feature_names else None

    def categories(self, feature: int) -> Optional[Sequence[str]]:
        """The category values feature `feature` stores (XGBoost's cats, LightGBM's
        pandas_categorical), in code order, as text (numbers in their shortest form); None
        when it stores none."""
        handle = self._live()
        n = capi.crisk_model_num_categories(handle, int(feature))
        return [capi.crisk_model_category(handle, int(feature), c) for c in range(n)] or None

    def category_code(self, feature: int, value: Any) -> float:
        """The model's code for category `value` of feature `feature` (by value: text, or
        a number for numeric categories). A value the model never saw gets what its
        training library gives it: an XGBoost model raises CriskError (CRISK_E_INPUT
        naming the feature and value), a LightGBM model returns NaN (missing)."""
        text = value if isinstance(value, str) else repr(value.item() if hasattr(value, "item")
                                                         else value)
        err = capi.crisk_error()
        code = capi.category_code(self._live(), int(feature), text.encode("utf-8"), err)
        if err.code != 0:
            _raise(err)
        return code

    def _live(self):
        if self._handle is None:
            raise ValueError("the model is closed")
        return self._handle

    def _rows(self, X: Any, ignore_extra: bool = False) -> np.ndarray:
        """Returns X as a 2-D C-contiguous float32 array: without a copy when it is one
        already, converted once otherwise. A DataFrame is matched to the model's features
        and checked as `crisk predict` checks a CSV file (crisk._frame; ``ignore_extra``
        skips columns that are no feature)."""
        if hasattr(X, "columns") and hasattr(X, "dtypes"):
            return frame_to_rows(X, self._feature_names, self.num_features, self._recode,
                                 self._categorical.__contains__, ignore_extra)
        X = np.asarray(X)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got {X.ndim} dimensions")
        if X.dtype != np.float32 or not X.flags.c_contiguous:
            X = np.ascontiguousarray(X, dtype=np.float32)
        return X

    def _recode(self, j: int, name: str, series: Any) -> np.ndarray:
        """Re-codes a category or text column of feature j, which stores category values,
        to the model's codes by value, as XGBoost and LightGBM do: each distinct value
        once (a category column's whole dictionary, used or not, as XGBoost checks it),
        missing values as NaN. The frame's own codes are never passed on."""
        if hasattr(series, "cat"):
            codes = series.cat.codes.to_numpy()
            values = list(series.cat.categories)
        elif getattr(series.dtype, "kind", "") in "OSU" or str(series.dtype) in ("string", "str"):
            import pandas as pd
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
            values = list(uniques)
        else:
            raise CriskError(-8, "CRISK_E_INPUT",
                             f"column {name!r} holds numbers of dtype {series.dtype}, but the "
                             f"model stores category values for feature {j}: pass a category "
                             f"or text column (or a numpy array of the model's codes)")
        table = np.array([self.category_code(j, v) for v in values] + [np.nan],
                         dtype=np.float32)
        return table[np.where(codes < 0, len(values), codes)]

    def predict(self, X: Any, output: str = "probability", threads: int = 1,
                iteration_range: Tuple[int, int] = (0, 0),
                pool: Optional[Pool] = None, ignore_extra: bool = False) -> np.ndarray:
        """Scores rows of features: a numpy array in the model's feature order, or a
        DataFrame matched and checked as `crisk predict` checks a CSV file (crisk._frame:
        a column that is no feature is an error unless ``ignore_extra``).

        ``output`` is "probability" (the objective's transformed output: probability,
        class index, expected value) or "margin". ``threads``: 1 (the default, as
        everywhere in crisk) scores on the calling thread, N on N threads, 0 on every core
        (with a ``pool``, crisk.Pool: N or 0 of the pool's threads).
        Returns shape (n,) for single-output models, else (n, outputs). The GIL is
        released while the C library scores.
        """
        if output not in _OUTPUTS:
            raise ValueError(f"output must be one of {sorted(_OUTPUTS)}, not {output!r}")
        handle = self._live()
        rows = self._rows(X, ignore_extra)
        kind = _OUTPUTS[output]
        width = capi.crisk_model_num_margins(handle) if kind else self.num_outputs
        out = np.empty((rows.shape[0], width), dtype=np.float32)
        err = capi.crisk_error()
        with use_pool(pool) as pool_handle:
            rc = capi.predict_into(handle, rows, out, int(threads), pool_handle, kind,
                                   int(iteration_range[0]), int(iteration_range[1]), err)
        if rc != 0:
            _raise(err)
        return out[:, 0] if width == 1 else out

    def contributions(self, X: Any, threads: int = 1,
                      iteration_range: Tuple[int, int] = (0, 0),
                      pool: Optional[Pool] = None, ignore_extra: bool = False) -> np.ndarray:
        """Returns the exact SHAP contributions of rows of features (crisk_contributions):
        shape (n, outputs, ncols + 1), or (n, ncols + 1) for a single-output model, the
        last column being the bias. In margin space; each row's values (per output) sum
        to its margin. Rows, ``threads``, ``pool`` and ``ignore_extra`` are taken as
        ``predict`` takes them; the GIL is released."""
        return self._explain(capi.contributions_into, X, 1, threads, iteration_range, pool,
                             ignore_extra)

    def interactions(self, X: Any, threads: int = 1,
                     iteration_range: Tuple[int, int] = (0, 0),
                     pool: Optional[Pool] = None, ignore_extra: bool = False) -> np.ndarray:
        """Returns the SHAP interaction values of rows of features (crisk_interactions),
        laid out as XGBoost's ``pred_interactions=True``: shape
        (n, outputs, ncols + 1, ncols + 1), or (n, ncols + 1, ncols + 1) for a
        single-output model. Entry [i, j] (i != j) is half the interaction of features i
        and j; line i sums to feature i's contribution, and [ncols, ncols] is the bias.
        Linear models have no interactions: a diagonal of their contributions. The cost
        grows as the cube of the features on a tree path: for small models and few rows.
        Options as ``contributions``."""
        return self._explain(capi.interactions_into, X, 2, threads, iteration_range, pool,
                             ignore_extra)

    def _explain(self, into: Any, X: Any, square: int, threads: int,
                 iteration_range: Tuple[int, int], pool: Optional[Pool],
                 ignore_extra: bool) -> np.ndarray:
        """Runs the explanation helper `into` (contributions_into or interactions_into)
        into a new float32 array of shape (n, margins) + (ncols + 1,) * `square`, and
        returns it without the margins axis when the model has one margin."""
        handle = self._live()
        rows = self._rows(X, ignore_extra)
        groups = capi.crisk_model_num_margins(handle)
        out = np.empty((rows.shape[0], groups) + (rows.shape[1] + 1,) * square,
                       dtype=np.float32)
        err = capi.crisk_error()
        with use_pool(pool) as pool_handle:
            rc = into(handle, rows, out, int(threads), pool_handle, int(iteration_range[0]),
                      int(iteration_range[1]), err)
        if rc != 0:
            _raise(err)
        return out[:, 0] if groups == 1 else out
