"""Export fitted scikit-learn logistic models to crisk's logistic JSON format.

The format is described in docs/logistic-format.md. Supported estimators:

* ``LogisticRegression`` (binary, or multiclass, which scikit-learn >= 1.8 always fits as
  multinomial);
* ``OneVsRestClassifier(LogisticRegression(...))`` (one-vs-rest, single-label);
* a ``Pipeline`` of an optional ``StandardScaler`` followed by either of the above.

Anything else raises ``TypeError``. Pure Python: needs numpy and scikit-learn only.
"""
import json
import math

import numpy as np

FORMAT = "crisk-logistic"
VERSION = 1

__all__ = ["logistic_to_dict", "save_logistic"]


def _check_fitted(estimator):
    # Imported here so that importing this module does not require scikit-learn.
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)


def _floats(values, what):
    """Returns `values` as a list of Python floats, refusing NaN and infinities."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} holds a NaN or an infinity; crisk cannot score it")
    return [float(v) for v in arr]


def _label(value):
    """Returns a class label as a JSON value: numbers stay numbers, anything else is str."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise ValueError(f"class label {value!r} is not finite")
        return float(value)
    return str(value)


def _intercepts(intercept, n_rows):
    """Returns `intercept` (a scalar 0.0 when fitted without one, else an array) as
    `n_rows` float64 values."""
    return np.broadcast_to(np.asarray(intercept, dtype=np.float64).ravel(), (n_rows,))


def _split_pipeline(estimator):
    """Returns (scaler or None, classifier) from an estimator or a Pipeline."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if not isinstance(estimator, Pipeline):
        return None, estimator
    steps = [step for _, step in estimator.steps if step not in (None, "passthrough")]
    if len(steps) == 1:
        return None, steps[0]
    if len(steps) == 2 and type(steps[0]) is StandardScaler:
        return steps[0], steps[1]
    kinds = ", ".join(type(s).__name__ for s in steps)
    raise TypeError(f"crisk exports a Pipeline of an optional StandardScaler followed by a "
                    f"logistic classifier; this one has steps [{kinds}]")


def _classifier_rows(clf):
    """Returns (multi_class, classes, coef rows, intercepts) of a fitted classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    if type(clf) is LogisticRegression:
        _check_fitted(clf)
        classes = list(clf.classes_)
        coef = np.asarray(clf.coef_, dtype=np.float64)
        intercept = _intercepts(clf.intercept_, coef.shape[0])
        kind = "binary" if len(classes) == 2 else "multinomial"
        return kind, classes, coef, intercept
    if type(clf) is OneVsRestClassifier:
        _check_fitted(clf)
        if clf.multilabel_:
            raise TypeError("a multilabel OneVsRestClassifier has no single-label "
                            "probabilities; crisk exports single-label models only")
        for i, est in enumerate(clf.estimators_):
            if type(est) is not LogisticRegression:
                raise TypeError(f"OneVsRestClassifier estimator {i} is a "
                                f"{type(est).__name__}, not a LogisticRegression (a class "
                                f"absent from the training labels, or a wrapped Pipeline: "
                                f"put the StandardScaler before the OneVsRestClassifier)")
        classes = list(clf.classes_)
        coef = np.vstack([np.asarray(e.coef_, dtype=np.float64) for e in clf.estimators_])
        intercept = np.concatenate([_intercepts(e.intercept_, 1) for e in clf.estimators_])
        # One estimator means two classes: it is a binary model.
        kind = "binary" if len(clf.estimators_) == 1 else "ovr"
        return kind, classes, coef, intercept
    raise TypeError(f"crisk exports LogisticRegression, OneVsRestClassifier(LogisticRegression)"
                    f" and Pipelines of StandardScaler + either; got {type(clf).__name__}")


def logistic_to_dict(estimator, feature_names=None):
    """Returns the crisk logistic document (a dict ready for json.dump) of a fitted
    estimator. `feature_names` defaults to the names the estimator was fitted with
    (``feature_names_in_``), else "f0", "f1", ...

    Raises TypeError for an estimator crisk does not score, sklearn's NotFittedError for
    an unfitted one, ValueError for non-finite parameters or a wrong number of names.
    """
    scaler, clf = _split_pipeline(estimator)
    kind, classes, coef, intercept = _classifier_rows(clf)
    n_features = coef.shape[1]
    if feature_names is None:
        fitted = getattr(scaler if scaler is not None else clf, "feature_names_in_", None)
        feature_names = (list(fitted) if fitted is not None
                         else [f"f{i}" for i in range(n_features)])
    feature_names = [str(name) for name in feature_names]
    if len(feature_names) != n_features:
        raise ValueError(f"{len(feature_names)} feature names for a model of {n_features} "
                         f"features")
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "feature_names": feature_names,
        "classes": [_label(c) for c in classes],
        "multi_class": kind,
        "coef": [_floats(row, "coef") for row in coef],
        "intercept": _floats(intercept, "intercept"),
    }
    if scaler is not None:
        _check_fitted(scaler)
        if scaler.n_features_in_ != n_features:
            raise ValueError(f"the StandardScaler has {scaler.n_features_in_} features, the "
                             f"classifier {n_features}")
        mean = scaler.mean_ if scaler.mean_ is not None else np.zeros(n_features)
        scale = scaler.scale_ if scaler.scale_ is not None else np.ones(n_features)
        doc["standardize"] = {"mean": _floats(mean, "StandardScaler.mean_"),
                              "scale": _floats(scale, "StandardScaler.scale_")}
    return doc


def save_logistic(estimator, path, feature_names=None):
    """Writes the crisk logistic document of a fitted estimator (see logistic_to_dict) to
    the file at `path`, as compact UTF-8 JSON. Floats are written with Python's shortest
    round-trip repr, so the C reader gets the exact doubles back."""
    doc = logistic_to_dict(estimator, feature_names)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
