"""Model-building helpers for the XGBoost 3.x parity tests (tests/python/test_xgboost3_parity.py).

Everything here is deterministic: data come from numpy's seeded generator, and XGBoost trains
with nthread=1 and a fixed seed, so a failing case can be rebuilt exactly from its id.

    frame = make_frame(300, seed=1)            # pandas frame: float32 numerics + categoricals
    booster = train(case, frame)               # xgboost.Booster
    rows = codes(frame)                        # the same rows as crisk sees them (float32)
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

# Categorical columns: name -> number of levels. A small column (one-hot splits when
# max_cat_to_onehot exceeds its level count), a wider one (partition splits), and one with
# more than 64 levels, whose partition bitsets span several 32-bit words.
CAT_LEVELS = {"port": 4, "hs_chapter": 12, "origin": 70}
NUM_COLUMNS = ["value", "weight", "duty_rate", "lines", "age_days"]

# Objectives crisk must score exactly as XGBoost does.
SUPPORTED_OBJECTIVES = [
    "binary:logistic", "binary:logitraw", "binary:hinge", "reg:logistic",
    "reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror",
    "count:poisson", "reg:gamma", "reg:tweedie", "multi:softprob", "multi:softmax",
    "rank:pairwise", "rank:ndcg", "rank:map",
]


@dataclasses.dataclass(frozen=True)
class Case:
    """One model to train: XGBoost parameters, rounds, and how its data look."""
    id: str
    params: tuple                      # sorted (key, value) pairs, hashable for caching
    rounds: int = 6
    rows: int = 300
    missing: float = 0.05              # fraction of NaN cells
    categorical: bool = True           # include the pandas category columns
    num_class: int = 0                 # multi:* objectives
    num_target: int = 1                # multi-target regression
    seed: int = 0

    @property
    def param_dict(self) -> dict[str, Any]:
        """The parameters as XGBoost takes them (a tuple, kept hashable here, as a list)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.params}

    @property
    def objective(self) -> str:
        return self.param_dict.get("objective", "reg:squarederror")


def case(id: str, rounds: int = 6, rows: int = 300, missing: float = 0.05,
         categorical: bool | None = None, num_class: int = 0, num_target: int = 1,
         seed: int = 0, **params) -> Case:
    """Returns a Case with XGBoost's `params`; gblinear cases default to numeric data only
    (XGBoost refuses categorical features for gblinear)."""
    params.setdefault("nthread", 1)
    params.setdefault("seed", seed)
    if num_class:
        params["num_class"] = num_class
    if categorical is None:
        categorical = params.get("booster") != "gblinear"
    return Case(id, tuple(sorted(params.items())), rounds, rows, missing, categorical,
                num_class, num_target, seed)


def make_frame(rows: int, seed: int, missing: float = 0.05,
               categorical: bool = True) -> pd.DataFrame:
    """Returns a frame of declaration-like rows: float32 numeric columns and (optionally)
    pandas category columns with string levels, each cell NaN with probability `missing`.
    The last row is entirely missing."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for j, name in enumerate(NUM_COLUMNS):
        col = rng.normal(loc=j * 0.5, scale=1.0 + j, size=rows).astype(np.float32)
        col[rng.random(rows) < missing] = np.nan
        col[-1] = np.nan
        data[name] = col
    if categorical:
        for name, levels in CAT_LEVELS.items():
            labels = [f"{name}_{k}" for k in range(levels)]
            idx = rng.integers(0, levels, size=rows)
            values = np.array(labels, dtype=object)[idx]
            values[rng.random(rows) < missing] = None
            values[-1] = None
            data[name] = pd.Categorical(values, categories=labels)
    return pd.DataFrame(data)


def codes(frame: pd.DataFrame) -> np.ndarray:
    """Returns the frame as crisk takes it: float32, categorical cells as their category
    code (the code XGBoost trained on), missing cells NaN."""
    out = np.empty(frame.shape, dtype=np.float32)
    for j, name in enumerate(frame.columns):
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            c = col.cat.codes.to_numpy().astype(np.float32)
            c[c < 0] = np.nan
            out[:, j] = c
        else:
            out[:, j] = col.to_numpy(dtype=np.float32)
    return out


def _signal(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Returns a latent score that depends on numerics, interactions and categories."""
    x = codes(frame).astype(np.float64)
    x = np.where(np.isnan(x), 0.0, x)
    s = 0.8 * x[:, 0] - 0.3 * x[:, 1] + 0.2 * x[:, 2] * x[:, 3] + 0.1 * x[:, 4]
    if frame.shape[1] > len(NUM_COLUMNS):
        s += np.sin(x[:, 5] * 1.7) + 0.25 * ((x[:, 6] % 5) - 2) + 0.3 * ((x[:, 7] % 7) - 3)
    return (s - s.mean()) / (s.std() + 1e-9) + 0.3 * rng.normal(size=len(s))


def labels(c: Case, frame: pd.DataFrame) -> dict[str, Any]:
    """Returns the DMatrix label fields (label, qid, label bounds) fitting c's objective."""
    rng = np.random.default_rng(c.seed + 1000)
    s = _signal(frame, rng)
    obj, n = c.objective, len(frame)
    out: dict[str, Any] = {}
    if obj.startswith("binary:"):
        out["label"] = (s > 0).astype(np.float32)
    elif obj == "reg:logistic":
        out["label"] = 1.0 / (1.0 + np.exp(-s))
    elif obj.startswith("multi:"):
        out["label"] = np.digitize(s, np.quantile(s, np.linspace(0, 1, c.num_class + 1)[1:-1]))
    elif obj.startswith("rank:"):
        grade = np.digitize(s, [-0.5, 0.3, 1.0])
        out["label"] = (grade >= 2).astype(np.float32) if obj == "rank:map" else grade
        out["qid"] = np.arange(n) // 20          # contiguous query groups of 20
    elif obj in ("count:poisson", "reg:tweedie"):
        out["label"] = rng.poisson(np.exp(0.6 * s)).astype(np.float32)
    elif obj in ("reg:gamma", "reg:squaredlogerror"):
        out["label"] = np.exp(0.5 * s) * rng.gamma(4.0, 0.25, size=n)
    elif obj == "survival:cox":
        t = np.exp(-0.5 * s) * rng.exponential(size=n)
        out["label"] = np.where(rng.random(n) < 0.8, t, -t)
    elif obj == "survival:aft":
        t = np.exp(0.5 * s) * rng.exponential(size=n)
        out["label_lower_bound"] = t
        out["label_upper_bound"] = np.where(rng.random(n) < 0.7, t, np.inf)
    elif c.num_target > 1:
        out["label"] = np.stack([s * (k + 1) + k for k in range(c.num_target)], axis=1)
    else:
        out["label"] = 3.0 * s + 5.0
    return out


def dmatrix(frame: pd.DataFrame, **fields) -> xgb.DMatrix:
    """Returns a DMatrix over `frame` (NaN missing, categories enabled)."""
    return xgb.DMatrix(frame, missing=np.nan, enable_categorical=True, **fields)


_TRAINED: dict[Case, xgb.Booster] = {}


def train(c: Case) -> xgb.Booster:
    """Trains (once per process) and returns the booster of case `c` on its training frame."""
    if c not in _TRAINED:
        frame = training_frame(c)
        _TRAINED[c] = xgb.train(c.param_dict, dmatrix(frame, **labels(c, frame)), c.rounds)
    return _TRAINED[c]


def training_frame(c: Case) -> pd.DataFrame:
    """Returns the frame case `c` trains on."""
    return make_frame(c.rows, c.seed, c.missing, c.categorical)


def scoring_frame(c: Case) -> pd.DataFrame:
    """Returns rows the model never saw (another seed), with the same columns and levels."""
    return make_frame(120, c.seed + 7919, max(c.missing, 0.05), c.categorical)


def model_json(booster: xgb.Booster) -> dict:
    """Returns the booster's saved JSON document."""
    return json.loads(booster.save_raw("json"))


def xgb_predict(booster: xgb.Booster, frame: pd.DataFrame, margin: bool,
                iteration_range=(0, 0), inplace: bool = False) -> np.ndarray:
    """Returns XGBoost's own prediction as a float32 (rows, outputs) array, through a
    DMatrix or through inplace_predict."""
    if inplace:
        p = booster.inplace_predict(frame, iteration_range=iteration_range, missing=np.nan,
                                    predict_type="margin" if margin else "value")
    else:
        p = booster.predict(dmatrix(frame), output_margin=margin,
                            iteration_range=iteration_range)
    p = np.asarray(p, dtype=np.float32)
    return p.reshape(len(frame), -1)


def mismatches(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Returns a boolean mask of cells where crisk's `got` is not within tolerance of
    XGBoost's `want`: 1e-6 absolute, or 4 float32 ulps where |want| > 1. NaN matches NaN."""
    got = np.asarray(got, dtype=np.float32)
    want = np.asarray(want, dtype=np.float32)
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    ulps = 4.0 * np.spacing(np.abs(want)).astype(np.float64)
    ok = (diff <= 1e-6) | ((np.abs(want) > 1) & (diff <= ulps))
    ok |= np.isnan(got) & np.isnan(want)
    return ~ok
