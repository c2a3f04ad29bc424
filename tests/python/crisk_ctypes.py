"""A minimal ctypes view of libcrisk's C API, for tests that must call the library
directly before (and independently of) the SWIG binding.

    model = CModel(path)             # crisk_model_load
    out = model.predict(X, margin=False, threads=1, iteration_range=(0, 0))
    phi = model.contributions(X, threads=1, iteration_range=(0, 0), interactions=False)
"""
import ctypes
import os
from pathlib import Path

import numpy as np


class CriskError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 512)]


class _PredictOptions(ctypes.Structure):
    VERSION = 1  # CRISK_PREDICT_OPTIONS_VERSION: the layout below
    _fields_ = [("version", ctypes.c_uint), ("threads", ctypes.c_int), ("output", ctypes.c_int),
                ("iteration_begin", ctypes.c_size_t), ("iteration_end", ctypes.c_size_t),
                ("pool", ctypes.c_void_p)]


def predict_options(threads, output, iteration_range=(0, 0)) -> _PredictOptions:
    """A crisk_predict_options of the layout above, its version set (output: 0 transformed,
    1 margin)."""
    return _PredictOptions(_PredictOptions.VERSION, threads, output, *iteration_range)


def _library() -> ctypes.CDLL:
    build = Path(os.environ.get("CRISK_BUILD_DIR", "build"))
    lib = ctypes.CDLL(str(build / "lib" / "libcrisk.so"))
    vp = ctypes.c_void_p
    lib.crisk_model_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(vp), ctypes.POINTER(_Error)]
    lib.crisk_model_load_buffer.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                            ctypes.POINTER(vp), ctypes.POINTER(_Error)]
    lib.crisk_model_free.argtypes = [vp]
    lib.crisk_model_num_features.argtypes = [vp]
    lib.crisk_model_num_features.restype = ctypes.c_size_t
    lib.crisk_model_num_outputs.argtypes = [vp]
    lib.crisk_model_num_outputs.restype = ctypes.c_size_t
    lib.crisk_model_num_margins.argtypes = [vp]
    lib.crisk_model_num_margins.restype = ctypes.c_size_t
    lib.crisk_predict.argtypes = [vp, vp, ctypes.c_size_t, ctypes.c_size_t,
                                  ctypes.POINTER(_PredictOptions), vp, ctypes.POINTER(_Error)]
    lib.crisk_contributions.argtypes = lib.crisk_predict.argtypes
    lib.crisk_interactions.argtypes = lib.crisk_predict.argtypes
    return lib


LIB = _library()


class CModel:
    """A loaded crisk model (from a path, or from bytes)."""

    def __init__(self, source):
        handle, err = ctypes.c_void_p(), _Error()
        if isinstance(source, (bytes, bytearray)):
            rc = LIB.crisk_model_load_buffer(bytes(source), len(source), ctypes.byref(handle),
                                             ctypes.byref(err))
        else:
            rc = LIB.crisk_model_load(str(source).encode(), ctypes.byref(handle),
                                      ctypes.byref(err))
        if rc != 0:
            raise CriskError(rc, err.message.decode())
        self._h = handle

    def __del__(self):
        if getattr(self, "_h", None):
            LIB.crisk_model_free(self._h)

    @property
    def num_features(self) -> int:
        return LIB.crisk_model_num_features(self._h)

    @property
    def num_outputs(self) -> int:
        return LIB.crisk_model_num_outputs(self._h)

    @property
    def num_margins(self) -> int:
        return LIB.crisk_model_num_margins(self._h)

    def predict(self, X, margin=False, threads=1, iteration_range=(0, 0)) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError("X must be 2-D")
        width = self.num_margins if margin else self.num_outputs
        out = np.empty((X.shape[0], width), dtype=np.float32)
        opts = predict_options(threads, 1 if margin else 0, iteration_range)
        err = _Error()
        rc = LIB.crisk_predict(self._h, X.ctypes.data, X.shape[0], X.shape[1],
                               ctypes.byref(opts), out.ctypes.data, ctypes.byref(err))
        if rc != 0:
            raise CriskError(rc, err.message.decode())
        return out

    def contributions(self, X, threads=1, iteration_range=(0, 0),
                      interactions=False) -> np.ndarray:
        """SHAP contributions, shaped (rows, margins, features + 1), or with interactions
        (rows, margins, features + 1, features + 1)."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError("X must be 2-D")
        C = X.shape[1] + 1
        shape = (X.shape[0], self.num_margins, C) + ((C,) if interactions else ())
        out = np.empty(shape, dtype=np.float32)
        opts = predict_options(threads, 1, iteration_range)
        err = _Error()
        fn = LIB.crisk_interactions if interactions else LIB.crisk_contributions
        rc = fn(self._h, X.ctypes.data, X.shape[0], X.shape[1], ctypes.byref(opts),
                out.ctypes.data, ctypes.byref(err))
        if rc != 0:
            raise CriskError(rc, err.message.decode())
        return out
