"""Notice when others change the open study: polling of the audit head, off the UI thread.

Every write to a study — by this window, another window, a command or another rater on the
server — moves the audit head in ``meta`` (``audit_head``: rows and last hash) in its own
transaction.  :class:`StudyWatcher` reads that one row every few seconds on a worker thread
(a QTimer starts each read; a database call never runs on the UI thread) and emits
:attr:`StudyWatcher.changed` when it moved, :attr:`StudyWatcher.unreachable` (with a one-line
message) when the read failed — the next tick retries.  Polling was chosen over LISTEN/NOTIFY
because it works the same on a file and on a server and survives reconnects.

A study *file* is first checked to be still where it was opened (one stat on the worker,
:class:`~cobbdesk.core.store.file_identity.FileGuard`): moved, renamed or replaced, its writes are
refused, so :attr:`StudyWatcher.moved` says so once (the message names the path, never a
patient) and the head is not read; :attr:`StudyWatcher.returned` when the same file is back.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.store import Study
from cobbdesk.core.store.audit import stored_head
from cobbdesk.gui.dispatch import UiDispatcher

FILE_INTERVAL_MS = 5_000
SERVER_INTERVAL_MS = 3_000


MOVED = "moved"
"""What :func:`poll_study` returns for a study file that is no longer at its path."""


def poll_study(study: Study) -> tuple[int, str] | str | None:
    """:data:`MOVED` when the study's file was moved, renamed or replaced (its writes are
    refused), else its audit head (:func:`read_head`)."""
    guard = study.file_guard
    if guard is not None and guard.moved():
        study.release_if_closed()
        return MOVED
    return read_head(study)


def read_head(study: Study) -> tuple[int, str] | None:
    """The study's recorded audit head (one indexed row)."""
    try:
        with study.engine.connect() as conn:
            return stored_head(conn)
    finally:
        study.release_if_closed()  # the study closed while this ran


class StudyWatcher(QObject):
    changed = Signal()
    unreachable = Signal(str)
    reachable = Signal()  # again, after ``unreachable``
    moved = Signal(str)  # the study file is no longer at its path: saves are paused
    returned = Signal()  # the same file is at its path again, after ``moved``

    def __init__(self, study: Study, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.study = study
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cobbdesk-watch")
        self._busy = False
        self._last: Any = None
        self.down = False  # the last read failed
        self.away = False  # the study file is not at its path (``moved`` was emitted)
        self._dispatch = UiDispatcher(self)
        self.timer = QTimer(self)
        self.timer.setInterval(SERVER_INTERVAL_MS if study.server else FILE_INTERVAL_MS)
        self.timer.timeout.connect(self.poll)

    def start(self) -> None:
        self._busy = True  # the first read only records where the study stands
        self._read()
        self.timer.start()

    def poll(self) -> None:
        if self._busy:  # a slow server: never queue reads behind one another
            return
        self._busy = True
        self._read()

    def _read(self) -> None:
        """The head on the worker; its future comes back through the UI thread's dispatcher
        (no Qt signal is emitted from the worker thread)."""
        self._dispatch.expect()
        future = self._pool.submit(poll_study, self.study)
        future.add_done_callback(lambda done: self._dispatch.post(self._arrived, done))

    def _arrived(self, future: Future[tuple[int, str] | str | None]) -> None:
        self._dispatch.done()
        self._busy = False
        try:
            found = future.result()
        except CobbdeskError as exc:
            self.down = True
            self.unreachable.emit(exc.message)
            return
        except Exception as exc:  # a closed study, a driver fault: the next tick retries
            self.down = True
            self.unreachable.emit(type(exc).__name__)
            return
        self._away(isinstance(found, str))  # MOVED
        if not isinstance(found, str):
            self._head_read(found)

    def _away(self, away: bool) -> None:
        """Emit ``moved`` (with the path and what to do) or ``returned`` on a change."""
        if away == self.away:
            return
        self.away = away
        guard = self.study.file_guard
        if away and guard is not None:
            self.moved.emit(f"{guard.path}: {guard.error().problem}")
        elif not away:
            self.returned.emit()

    def _head_read(self, head: tuple[int, str] | None) -> None:
        first = self._last is None
        if self.down:
            self.down = False
            self.reachable.emit()
        if not first and head != self._last:
            self.changed.emit()
        self._last = head if head is not None else (0, "")

    def stop(self) -> None:
        self.timer.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
