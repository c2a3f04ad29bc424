"""A minimal ctypes view of libcrisk's declaration API (schemas, batches, fitting), for
tests that compare crisk's features with independent implementations.

    schema = CSchema(path)                    # crisk_schema_load
    batch = schema.batch(rows)                # crisk_batch_new + crisk_batch_append_text
    schema.fit(batch, labels, folds=5, seed=1, smoothing=20)
    X = schema.features(batch)                # scoring features
    T = schema.training_matrix(batch, labels, folds=5, seed=1, smoothing=20)
    schema.save(path)
"""
import ctypes

import numpy as np

from crisk_ctypes import LIB, CriskError, _Error

_vp = ctypes.c_void_p
_perr = ctypes.POINTER(_Error)


class _FitOptions(ctypes.Structure):
    VERSION = 1  # CRISK_FIT_OPTIONS_VERSION: the layout below
    _fields_ = [("version", ctypes.c_uint), ("folds", ctypes.c_uint), ("seed", ctypes.c_uint64),
                ("smoothing", ctypes.c_double)]


def _declare():
    sz = ctypes.c_size_t
    f32 = ctypes.POINTER(ctypes.c_float)
    LIB.crisk_schema_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(_vp), _perr]
    LIB.crisk_schema_free.argtypes = [_vp]
    LIB.crisk_schema_save.argtypes = [_vp, ctypes.c_char_p, _perr]
    LIB.crisk_schema_num_fields.argtypes = [_vp]
    LIB.crisk_schema_num_fields.restype = sz
    LIB.crisk_schema_num_features.argtypes = [_vp]
    LIB.crisk_schema_num_features.restype = sz
    LIB.crisk_schema_feature_name.argtypes = [_vp, sz]
    LIB.crisk_schema_feature_name.restype = ctypes.c_char_p
    LIB.crisk_batch_new.argtypes = [_vp, ctypes.POINTER(_vp), _perr]
    LIB.crisk_batch_free.argtypes = [_vp]
    LIB.crisk_batch_size.argtypes = [_vp]
    LIB.crisk_batch_size.restype = sz
    LIB.crisk_batch_append_text.argtypes = [_vp, ctypes.POINTER(ctypes.c_char_p),
                                            ctypes.POINTER(sz), ctypes.c_uint64, _perr]
    LIB.crisk_fit_options_init.argtypes = [ctypes.POINTER(_FitOptions), ctypes.c_uint]
    LIB.crisk_schema_fit.argtypes = [_vp, _vp, f32, sz, ctypes.POINTER(_FitOptions), _perr]
    LIB.crisk_schema_training_matrix.argtypes = [_vp, _vp, f32, sz,
                                                 ctypes.POINTER(_FitOptions), f32, _perr]
    LIB.crisk_schema_features.argtypes = [_vp, _vp, f32, _perr]


_declare()


def _check(rc, err):
    if rc != 0:
        raise CriskError(rc, err.message.decode())


def _f32(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


class CBatch:
    """A batch of declarations; keeps its schema alive."""

    def __init__(self, schema):
        self.schema = schema
        self._h, err = _vp(), _Error()
        _check(LIB.crisk_batch_new(schema._h, ctypes.byref(self._h), ctypes.byref(err)), err)

    def __del__(self):
        if getattr(self, "_h", None):
            LIB.crisk_batch_free(self._h)

    def __len__(self):
        return LIB.crisk_batch_size(self._h)

    def append(self, values, line=0):
        """Appends one row of str/bytes/None values; raises CriskError when rejected."""
        raw = [v.encode() if isinstance(v, str) else v for v in values]
        arr = (ctypes.c_char_p * len(raw))(*raw)
        lens = (ctypes.c_size_t * len(raw))(*[len(v) if v else 0 for v in raw])
        err = _Error()
        _check(LIB.crisk_batch_append_text(self._h, arr, lens, line, ctypes.byref(err)), err)


class CSchema:
    """A loaded crisk schema."""

    def __init__(self, path):
        self._h, err = _vp(), _Error()
        _check(LIB.crisk_schema_load(str(path).encode(), ctypes.byref(self._h),
                                     ctypes.byref(err)), err)

    def __del__(self):
        if getattr(self, "_h", None):
            LIB.crisk_schema_free(self._h)

    @property
    def feature_names(self):
        n = LIB.crisk_schema_num_features(self._h)
        return [LIB.crisk_schema_feature_name(self._h, i).decode() for i in range(n)]

    def batch(self, rows=()):
        b = CBatch(self)
        for i, row in enumerate(rows):
            b.append(row, i + 1)
        return b

    @staticmethod
    def _options(folds, seed, smoothing):
        o = _FitOptions()
        assert LIB.crisk_fit_options_init(ctypes.byref(o), _FitOptions.VERSION) == 0
        o.folds, o.seed, o.smoothing = folds, seed, smoothing
        return o

    def fit(self, batch, labels, folds=5, seed=1, smoothing=20.0):
        y = np.ascontiguousarray(labels, dtype=np.float32)
        o, err = self._options(folds, seed, smoothing), _Error()
        _check(LIB.crisk_schema_fit(self._h, batch._h, _f32(y), len(y), ctypes.byref(o),
                                    ctypes.byref(err)), err)

    def features(self, batch):
        out = np.empty((len(batch), len(self.feature_names)), dtype=np.float32)
        err = _Error()
        _check(LIB.crisk_schema_features(self._h, batch._h, _f32(out), ctypes.byref(err)), err)
        return out

    def training_matrix(self, batch, labels, folds=5, seed=1, smoothing=20.0):
        y = np.ascontiguousarray(labels, dtype=np.float32)
        out = np.empty((len(batch), len(self.feature_names)), dtype=np.float32)
        o, err = self._options(folds, seed, smoothing), _Error()
        _check(LIB.crisk_schema_training_matrix(self._h, batch._h, _f32(y), len(y),
                                                ctypes.byref(o), _f32(out), ctypes.byref(err)),
               err)
        return out

    def save(self, path):
        err = _Error()
        _check(LIB.crisk_schema_save(self._h, str(path).encode(), ctypes.byref(err)), err)
