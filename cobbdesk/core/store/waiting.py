"""Telling the user that a write is waiting for another program's write lock.

A study takes one writer at a time: SQLite waits up to ``busy_timeout``
(:data:`~cobbdesk.core.store.dialect.BUSY_TIMEOUT_MS`, 10 s) for the lock, a server study up
to ``lock_timeout`` (:data:`~cobbdesk.core.store.pg_dialect.LOCK_TIMEOUT_MS`), then the write
fails with :class:`~cobbdesk.core.errors.StudyLockedError`.  So that this wait is not silent,
a front end registers a listener (:func:`on_lock_wait`; the command line prints "waiting for
the study: another program is writing it…"); a write that has not got the lock after
:data:`NOTICE_AFTER_S` seconds calls it once, from a timer thread.  Without a listener
nothing is started (no thread per write).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["NOTICE_AFTER_S", "notice_if_waiting", "on_lock_wait"]

#: Seconds a write waits for the lock before the listener is told.
NOTICE_AFTER_S = 1.0

Listener = Callable[[object], None]
_listener: list[Listener] = []


def on_lock_wait(listener: Listener | None) -> None:
    """Call ``listener(study_path)`` when a write has waited :data:`NOTICE_AFTER_S` for the
    lock (replacing any earlier listener); None: nobody is told."""
    _listener[:] = [] if listener is None else [listener]


@contextmanager
def notice_if_waiting(where: object) -> Iterator[None]:
    """Around the statement that takes the write lock: the listener (if any) is called with
    ``where`` once the statement has taken :data:`NOTICE_AFTER_S` seconds; never after it."""
    if not _listener:
        yield
        return
    timer = threading.Timer(NOTICE_AFTER_S, _listener[0], args=(where,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
