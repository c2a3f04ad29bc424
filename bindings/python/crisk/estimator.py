"""scikit-learn estimators over a trained model: CriskClassifier and CriskRegressor score
as crisk scores (predict, predict_proba) and take the last step of a Pipeline.

They do not train. The model comes trained (XGBoost, LightGBM, scikit-learn's logistic
regression, or a file); ``fit`` checks that X has the model's features and returns the
estimator, so that ``Pipeline.fit`` fits the steps before it. ``feature_names_in_`` and
``n_features_in_`` are the model's, and an estimator counts as fitted from the start.

>>> from crisk.estimator import CriskClassifier
>>> pipe = make_pipeline(FunctionTransformer(add_ratios), CriskClassifier(booster))
>>> pipe.fit(train_df).predict_proba(test_df)
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from ._model import Model

# Objectives whose single output is a score or class, not the positive class's probability.
_NOT_PROBABILITIES = ("binary:hinge", "binary:logitraw", "multi:softmax")


def as_model(source: Any) -> Model:
    """Returns `source` as a crisk.Model: one already, a model file's path or bytes, or a
    trained XGBoost or LightGBM booster (or scikit-learn wrapper of one)."""
    if isinstance(source, Model):
        return source
    if isinstance(source, (str, bytes, os.PathLike)):
        return Model(source)
    module = type(source).__module__.split(".")[0]
    if module == "xgboost":
        return Model.from_xgboost(source)
    if module == "lightgbm":
        return Model.from_lightgbm(source)
    raise TypeError(f"model must be a crisk.Model, a model file, or a trained XGBoost or "
                    f"LightGBM model, not {type(source).__qualname__}")


class _CriskEstimator(BaseEstimator):
    """What both estimators share: the model, resolved once; its features; fit."""

    def __init__(self, model: Any = None, threads: int = 1, ignore_extra: bool = False):
        self.model = model
        self.threads = threads
        self.ignore_extra = ignore_extra

    def _crisk(self) -> Model:
        """The crisk.Model of the `model` parameter, resolved once per value of it."""
        if getattr(self, "_resolved", (None, None))[0] is not self.model:
            if self.model is None:
                raise ValueError(f"{type(self).__name__} needs a trained model (model=...)")
            self._resolved = (self.model, as_model(self.model))
        return self._resolved[1]

    def __sklearn_is_fitted__(self) -> bool:
        return self.model is not None

    def __sklearn_clone__(self) -> "_CriskEstimator":
        """A clone shares the trained model: sklearn's clone would reset an XGBoost or
        LightGBM estimator given as `model` to unfitted, and fit here trains nothing."""
        return type(self)(**self.get_params(deep=False))

    @property
    def n_features_in_(self) -> int:
        return self._crisk().num_features

    @property
    def feature_names_in_(self) -> np.ndarray:
        names = self._crisk().feature_names
        if names is None:
            raise AttributeError("the model stores no feature names")
        return np.asarray(names, dtype=object)

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> "_CriskEstimator":
        """Trains nothing: checks that X has the model's features (as predict reads them)
        and returns self."""
        rows = self._crisk()._rows(X, self.ignore_extra)
        if rows.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {rows.shape[1]} features; the model takes "
                             f"{self.n_features_in_}")
        return self

    def _scores(self, X: Any) -> np.ndarray:
        return self._crisk().predict(X, threads=self.threads, ignore_extra=self.ignore_extra)


class CriskClassifier(ClassifierMixin, _CriskEstimator):
    """A classifier over a model whose output is class probabilities (binary:logistic,
    multi:softprob, LightGBM binary and multiclass, logistic). ``classes_`` are 0..k-1, the
    classes the model was trained on; predict gives the most probable (for two classes,
    class 1 when its probability is above 0.5, as XGBClassifier decides)."""

    @property
    def classes_(self) -> np.ndarray:
        info = self._crisk().info
        k, outputs = int(info["num_classes"]), int(info["num_outputs"])
        if k < 2 or outputs not in (1, k) or (outputs == 1 and k > 2) or \
                info["objective"] in _NOT_PROBABILITIES:
            raise ValueError(f"the model's objective {info['objective']!r} gives no class "
                             f"probabilities: use CriskRegressor or Model.predict")
        return np.arange(k)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Returns the class probabilities, shape (n, classes)."""
        classes = self.classes_
        p = self._scores(X)
        return np.column_stack([1.0 - p, p]) if p.ndim == 1 and len(classes) == 2 else p

    def predict(self, X: Any) -> np.ndarray:
        """Returns the most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class CriskRegressor(RegressorMixin, _CriskEstimator):
    """A regressor: predict gives the model's transformed output (expected value,
    probability, ...), shape (n,), or (n, outputs) for a model of several outputs."""

    def predict(self, X: Any) -> np.ndarray:
        return self._scores(X)
