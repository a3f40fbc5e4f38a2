"""Reading films in a separate process, so that a crashing decoder cannot take the app down.

Native codecs can abort or segfault on hostile input (fo-dicom's codecs do, see
``docs/reliability-ecosystem.md``), which no ``except`` can catch.  :class:`IsolatedReader` runs
:func:`~cobbdesk.core.dicom.reader.read_film` in one pre-started worker process ("spawn", so no
GUI threads are forked).  If the worker dies, the file gets a clear :class:`PixelDataError`,
a fresh worker is started and the next file loads normally.  A worker that takes longer than
``timeout`` seconds is ended the same way.  On POSIX the worker's address space is capped so
that a memory bomb raises MemoryError in the worker instead of exhausting the machine.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import PixelDataError

T = TypeVar("T")

#: Address-space cap of the worker (bytes): far above any real film, far below a bomb.
WORKER_MEMORY_LIMIT = 8 * 1024**3
DEFAULT_TIMEOUT = 120.0


def _limit_memory(limit: int) -> None:  # pragma: no cover - runs in the worker
    _die_with_parent()
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def _die_with_parent() -> None:  # pragma: no cover - runs in the worker
    """Linux: end the worker when the app dies, even by SIGKILL (no orphaned decoders)."""
    try:
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    except (OSError, AttributeError):
        pass


def _warm_up() -> bool:  # pragma: no cover - runs in the worker
    return True


class IsolatedReader:
    """A one-worker process pool that survives its worker crashing."""

    def __init__(self, memory_limit: int | None = WORKER_MEMORY_LIMIT) -> None:
        self._memory_limit = memory_limit
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                limit = self._memory_limit
                capped = limit is not None and os.name == "posix"
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=partial(_limit_memory, limit) if limit and capped else None,
                )
            return self._pool

    def start(self) -> Future[bool]:
        """Start the worker now (imports take ~1 s) so the first film opens at once."""
        return self._executor().submit(_warm_up)

    def _restart(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    def call(self, path: Path, fn: Callable[..., T], *args: Any, timeout: float | None) -> T:
        """Run ``fn(*args)`` in the worker; crashes and timeouts become PixelDataError."""
        try:
            future = self._executor().submit(fn, *args)
            return future.result(timeout=timeout)
        except BrokenProcessPool:
            self._restart()
            raise PixelDataError(
                path,
                "the image decoder crashed on this file (its worker process ended); "
                "the file is probably damaged. Other films are not affected",
            ) from None
        except FutureTimeout:
            self._restart()
            raise PixelDataError(
                path, f"decoding took longer than {timeout:g} s and was stopped"
            ) from None

    def read(
        self,
        path: str | os.PathLike[str],
        *,
        force: bool = False,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> Film:
        """:func:`~cobbdesk.core.dicom.reader.read_film` in the worker process."""
        from cobbdesk.core.dicom.reader import read_film

        return self.call(Path(path), read_film, Path(path), force, timeout=timeout)

    def close(self) -> None:
        """Stop the worker process, waiting for it (queued calls cancelled); a call restarts it."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
