"""Work off the UI thread whose result comes back on it (no Qt in the worker thread).

:class:`BackgroundJob` runs ``job(progress, cancel)`` on a worker; :func:`off_ui` runs a
dialog's read on the shared pool.  Results are handed over through
:class:`~cobbdesk.gui.dispatch.UiDispatcher`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from cobbdesk.core.store import Study
from cobbdesk.gui.dispatch import UiDispatcher

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]
Job = Callable[[Progress, Cancel], Any]


class BackgroundJob(QObject):
    """``job(progress, cancel)`` in a worker thread; its signals are emitted on the UI thread.

    The worker thread never touches Qt: progress and the outcome go through a
    :class:`~cobbdesk.gui.dispatch.UiDispatcher` created with the job (on the UI thread).
    """

    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job, self.cancelled = job, threading.Event()
        self._dispatch = UiDispatcher(self)
        self._dispatch.expect()

    def _progress(self, done: int, total: int) -> None:  # worker thread
        self._dispatch.post(self.progressed.emit, done, total)

    def _finish(self, signal: Any, value: Any) -> None:  # UI thread
        self._dispatch.done()
        signal.emit(value)

    def run(self) -> None:  # worker thread
        try:
            result = self.job(self._progress, self.cancelled.is_set)
        except Exception as exc:  # reported on the UI thread
            self._dispatch.post(self._finish, self.failed, exc)
            return
        self._dispatch.post(self._finish, self.finished, result)


def off_ui(parent: QObject, compute: Callable[[], Any], done: Callable[[Any], None],
           failed: Callable[[BaseException], None],
           study: Study | None = None) -> BackgroundJob:  # fmt: skip
    """``done(compute())`` — or ``failed(error)`` — with ``compute`` run on a pool thread and
    the callback on the UI thread (a dialog's reads: nothing waits on the network); the
    job belongs to ``parent`` (a result after its deletion is dropped).  ``study``: its
    connection is released when it closed meanwhile (:meth:`Study.release_if_closed`)."""

    def job(_progress: Progress, _cancel: Cancel) -> Any:  # worker thread
        try:
            return compute()
        finally:
            if study is not None:
                study.release_if_closed()

    worker = BackgroundJob(job, parent)
    worker.finished.connect(done)
    worker.failed.connect(failed)
    QThreadPool.globalInstance().start(worker.run)
    return worker


