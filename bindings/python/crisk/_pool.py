"""crisk.Pool: a reusable set of scoring threads (crisk_pool) that calls share."""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, Optional

from . import capi
from ._errors import CriskError


class Pool:
    """Worker threads that ``Model.predict``, ``Model.contributions``,
    ``Model.interactions`` and ``Bundle.score`` reuse (``pool=``) instead of starting and
    joining threads on every call. ``Pool(threads)`` starts threads - 1 workers (0: one
    thread per CPU); the calling thread of each call is the last one. With a pool, a
    call's ``threads`` caps how many of the pool's threads it uses: 0 all of them, N at
    most N, and 1, the default of every call as in C and Java, the calling thread alone.

    A pool serves one call at a time: a call that finds it busy with another (from another
    Python thread) runs on its own thread alone, with the same results. ``close()`` (or
    leaving a ``with Pool(...)`` block) stops the workers; a pool in use by a call is
    freed when the last such call returns.
    """

    def __init__(self, threads: int = 0):
        err = capi.crisk_error()
        handle = capi.pool_create(int(threads), err)
        if handle is None:
            raise CriskError(err.code, capi.crisk_err_name(err.code), err.message)
        self._handle: Any = handle
        self._lock = threading.Lock()
        self._uses = 0
        self._closed = False
        self._threads = capi.crisk_pool_threads(handle)

    @property
    def threads(self) -> int:
        """The threads a call may use: the pool's workers plus the calling thread."""
        return self._threads

    def close(self) -> None:
        """Stops the workers and frees the pool, at once or, while calls use it, when the
        last of them returns. Idempotent."""
        with self._lock:
            self._closed = True
        self._free_if_unused()

    def _free_if_unused(self) -> None:
        """Frees the C pool once it is closed and no call holds it."""
        with self._lock:
            handle = self._handle if self._closed and self._uses == 0 else None
            if handle is not None:
                self._handle = None
        if handle is not None:
            capi.crisk_pool_free(handle)

    def __del__(self) -> None:
        if hasattr(self, "_lock"):
            self.close()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<crisk.Pool {self._threads} threads, {state}>"

    @contextlib.contextmanager
    def _use(self) -> Iterator[Any]:
        """Holds the pool's handle for one call: close() does not free it meanwhile."""
        with self._lock:
            if self._closed:
                raise ValueError("the pool is closed")
            self._uses += 1
        try:
            yield self._handle
        finally:
            with self._lock:
                self._uses -= 1
            self._free_if_unused()


def use_pool(pool: Optional[Pool]) -> Any:
    """Returns a context holding `pool`'s handle for one call (None without a pool)."""
    if pool is None:
        return contextlib.nullcontext(None)
    if not isinstance(pool, Pool):
        raise TypeError(f"pool must be a crisk.Pool, not {type(pool).__name__}")
    return pool._use()
