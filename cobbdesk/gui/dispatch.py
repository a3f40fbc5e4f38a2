"""Handing results from worker threads to the UI thread without touching Qt off-thread.

Worker threads only put ``(callable, args)`` on a thread-safe queue; a QTimer owned by the UI
thread drains it and makes the calls there (so every Qt signal is emitted on the UI thread).
Emitting PySide6 signals that carry Python objects from plain Python threads corrupted
reference counts in PySide6 6.12 ("deallocating None"); this pattern keeps Qt single-threaded.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

POLL_MS = 10


class UiDispatcher(QObject):
    """``post`` from any thread; the call runs on the thread that created the dispatcher."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = (
            queue.SimpleQueue()
        )
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.drain)
        self._busy = 0

    def expect(self) -> None:
        """UI thread: one more result is coming; poll until it has been delivered."""
        self._busy += 1
        if not self._timer.isActive():
            self._timer.start()

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Any thread: run ``fn(*args)`` on the UI thread soon."""
        self._queue.put((fn, args))

    def done(self) -> None:
        """UI thread: an expected result has been delivered."""
        self._busy = max(0, self._busy - 1)

    def drain(self) -> None:
        while True:
            try:
                fn, args = self._queue.get_nowait()
            except queue.Empty:
                break
            fn(*args)
        if self._busy == 0:
            self._timer.stop()


class OneAtATime:
    """UI thread: start a background run on :meth:`request`, never two at a time; requests
    made while one runs are served by ONE more run when it ends (:meth:`finished`)."""

    def __init__(self, start: Callable[[], None]) -> None:
        self._start = start
        self.busy = False
        self._again = False

    def request(self) -> None:
        """Start a run now, or once the running one has :meth:`finished`."""
        if self.busy:
            self._again = True
            return
        self.busy, self._again = True, False
        self._start()

    def finished(self, *, again: bool = False) -> None:
        """The run ended; run once more when asked meanwhile (or ``again``)."""
        self.busy = False
        if self._again or again:
            self.request()

