"""DataFrames to feature rows: columns matched to a model's features as `crisk predict`
matches a CSV header, checked as strictly, and written into one float32 array.

The rules are the command's (README.md, "Command line"), each error naming the column:

- a model storing feature names takes columns by name, in any order: a feature with no
  column, a feature with two, or a column that is no feature (unless ``ignore_extra``) is
  an error; a model storing none takes exactly one column per feature, in its order;
- a numeric feature takes numbers: numeric dtypes (numpy's, pandas' nullable ones),
  booleans, or objects that are numbers; a string, even ``"12.5"``, is refused naming
  column, row and value, as a dtype that holds no numbers (dates, ...) is;
- a feature storing category values takes a category or text column, re-coded by value
  (``Model.category_code``); other categorical columns pass their category codes.

Missing values (NaN, None, ``pd.NA``) are NaN. Columns are copied straight into the
row-major float32 array the C library reads, a block of rows at a time so that reads and
writes stay in cache, without a float32 or reordered copy of the frame in between.
"""
from __future__ import annotations

import decimal
import numbers
from typing import Any, Callable, List, Optional

import numpy as np

from ._errors import CriskError

_E_SHAPE, _E_INPUT = -7, -8
_BLOCK_BYTES = 1 << 18     # rows per copied block: about 256 KiB of output


def _input_error(message: str) -> CriskError:
    return CriskError(_E_INPUT, "CRISK_E_INPUT", message)


def _column_positions(labels: List[str], names: Optional[List[str]], num_features: int,
                      ignore_extra: bool) -> List[int]:
    """Returns, per feature, the position of the frame column that fills it."""
    if names is None:
        if len(labels) != num_features:
            raise CriskError(_E_SHAPE, "CRISK_E_SHAPE",
                             f"the DataFrame has {len(labels)} columns but the model takes "
                             f"{num_features} features (and stores no feature names to "
                             f"match them by)")
        return list(range(num_features))
    feature_of = {name: j for j, name in enumerate(names)}
    position: List[Optional[int]] = [None] * len(names)
    for c, label in enumerate(labels):
        j = feature_of.get(label)
        if j is None:
            if not ignore_extra:
                raise _input_error(f"DataFrame column {c} ({label!r}) is not a feature of "
                                   f"the model (ignore_extra=True skips such columns)")
        elif position[j] is not None:
            raise _input_error(f"DataFrame column {c} ({label!r}): feature {label!r} "
                               f"already has column {position[j]}")
        else:
            position[j] = c
    for j, c in enumerate(position):
        if c is None:
            raise _input_error(f"the DataFrame has no column for feature {names[j]!r} "
                               f"(feature {j} of the model's {len(names)})")
    return position   # type: ignore[return-value]


def _is_number(v: Any) -> bool:
    return isinstance(v, (numbers.Real, decimal.Decimal, np.bool_))


def _numbers(series: Any, label: str) -> np.ndarray:
    """Returns the values of a numeric feature's column as an array numpy casts to
    float32 (a view of the column where it can), or raises naming what is not a number."""
    dtype = series.dtype
    kind = getattr(dtype, "kind", "O")
    if isinstance(dtype, np.dtype) and kind in "biuf":
        return series.to_numpy(copy=False)
    if kind in "biuf":    # pandas' nullable and Arrow-backed numbers: NA becomes NaN
        return series.to_numpy(dtype=np.float32, na_value=np.nan)
    if kind == "O" and not isinstance(dtype, np.dtype):   # str, string: text, not numbers
        kind = "U"
    if kind in "OU":
        values = series.to_numpy(dtype=object)
        isna = series.isna().to_numpy()
        for r, v in enumerate(values):
            if not isna[r] and not _is_number(v):
                raise _input_error(f"DataFrame column {label!r}, row {r} (index "
                                   f"{series.index[r]!r}): {v!r} is not a number")
        return series.to_numpy(dtype=np.float32, na_value=np.nan)
    raise _input_error(f"DataFrame column {label!r} has dtype {dtype}, which holds no "
                       f"numbers")


def frame_to_rows(frame: Any, names: Optional[List[str]], num_features: int,
                  categorical: Callable[[int, str, Any], np.ndarray],
                  is_categorical: Callable[[int], bool], ignore_extra: bool) -> np.ndarray:
    """Returns the features of `frame` (a pandas DataFrame) as a C-contiguous float32
    array of shape (rows, num_features), by the module's rules. `names` are the model's
    feature names (None: it stores none); feature j with ``is_categorical(j)`` is re-coded
    by ``categorical(j, label, series)``."""
    labels = [str(c) for c in frame.columns]
    positions = _column_positions(labels, names, num_features, ignore_extra)
    columns = []
    for j, c in enumerate(positions):
        series = frame.iloc[:, c]
        if is_categorical(j):
            columns.append(categorical(j, labels[c], series))
        elif hasattr(series, "cat"):
            codes = series.cat.codes.to_numpy()
            columns.append(np.where(codes < 0, np.float32(np.nan), codes.astype(np.float32)))
        else:
            columns.append(_numbers(series, labels[c]))
    n = len(frame)
    out = np.empty((n, num_features), dtype=np.float32)
    step = max(1, _BLOCK_BYTES // (4 * max(1, num_features)))
    for start in range(0, n, step):
        block = out[start:start + step]
        for j, values in enumerate(columns):
            np.copyto(block[:, j], values[start:start + step], casting="unsafe")
    return out
