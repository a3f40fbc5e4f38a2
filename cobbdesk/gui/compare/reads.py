"""Reading the open study off the UI thread for a window of its own (#15 "the GUI never
freezes on the network").

The compare view and the reading window each own a :class:`StudyReader`: one worker thread
that runs ``compute(study)`` and hands ``(result, error)`` back on the UI thread through a
:class:`~cobbdesk.gui.dispatch.UiDispatcher` (no Qt off the UI thread).  A result that arrives
after :meth:`StudyReader.close` (the window closed) is dropped.  Writes never come here: they
go through the study's write queue (:func:`cobbdesk.core.store.outbox.attached`, see
:func:`queued`).

:class:`LoadingBar` is the visible state of a window waiting for a read: a one-line
"Loading…", and on failure the error's one line with a Retry button (the window disables its
controls meanwhile).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.redact import redact
from cobbdesk.core.store import Study
from cobbdesk.core.store.outbox import First, attached
from cobbdesk.gui.dispatch import UiDispatcher

T = TypeVar("T")
Done = Callable[[Any, BaseException | None], None]
logger = logging.getLogger("cobbdesk.gui.reads")


class StudyReader(QObject):
    """One worker thread reading ``study`` for a window (module docstring)."""

    def __init__(self, study: Study, parent: QObject | None = None, name: str = "window") -> None:
        super().__init__(parent)
        self.study = study
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"cobbdesk-{name}")
        self._dispatch = UiDispatcher(self)
        self.closed = False
        self.running = 0
        """Reads submitted and not yet delivered (tests wait for 0)."""

    def run(self, compute: Callable[[Study], Any], done: Done) -> None:
        """UI thread: ``compute(study)`` on the worker; ``done(result, None)`` or
        ``done(None, error)`` on the UI thread (not at all once closed)."""
        if self.closed:
            return
        study = self.study
        self.running += 1
        self._dispatch.expect()

        def job() -> None:  # worker thread: no Qt here
            result: Any = None
            error: BaseException | None = None
            try:
                result = compute(study)
            except BaseException as exc:  # handed to the UI thread
                error = exc
            finally:
                study.release_if_closed()
            self._dispatch.post(self._deliver, done, result, error)

        self._pool.submit(job)

    def _deliver(self, done: Done, result: Any, error: BaseException | None) -> None:
        self.running -= 1
        self._dispatch.done()
        if not self.closed:
            done(result, error)

    def close(self) -> None:
        """Drop every result still to come; the worker ends after its current read."""
        self.closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


def one_line(error: BaseException) -> str:
    """The error as one line a user may read (no patient identifier; details logged)."""
    if isinstance(error, CobbdeskError):
        text = redact(error.message).splitlines()[0] if error.message else type(error).__name__
        return text
    logger.error("A background read failed", exc_info=error)
    return f"internal error ({type(error).__name__}); the details are in the log"


def queued(study: Study, call: Callable[[], T], what: str) -> tuple[First, T | None]:
    """``call`` (one write of ``study``) through the study's write queue when it has one
    (:func:`~cobbdesk.core.store.outbox.attached`: the open study's, off the UI thread, waiting
    for its first attempt in a loop that paints), else directly.  Returns ``(SAVED, result)``,
    or ``(KEPT, None)`` when the queue kept it for later (the server is away; retried in
    order, a later failure goes to the queue's ``on_failure``).  Raises the first attempt's
    refusal (ValidationError, ConflictError…)."""
    outbox = attached(study)
    if outbox is None:
        return First.SAVED, call()
    return outbox.call(call, what)


class LoadingBar(QWidget):
    """A window's read state: "Loading…", or the failure's one line with Retry (hidden when
    the data is there)."""

    def __init__(self, retry: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(lambda _=False: retry())
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(self.label, 1)
        row.addWidget(self.retry)
        self.setVisible(False)

    def loading(self, text: str = "Loading…") -> None:
        self.label.setText(text)
        self.retry.setVisible(False)
        self.setVisible(True)

    def failed(self, what: str, error: BaseException) -> None:
        self.label.setText(f"{what}: {one_line(error)}")
        self.retry.setVisible(True)
        self.setVisible(True)

    def ready(self) -> None:
        self.label.setText("")
        self.setVisible(False)

    @property
    def text(self) -> str:
        """What the bar says ("" when hidden)."""
        return "" if self.isHidden() else self.label.text()


def set_enabled(widgets: list[QWidget], on: bool) -> None:
    """Enable or disable every widget of ``widgets``."""
    for widget in widgets:
        widget.setEnabled(on)


__all__ = ["LoadingBar", "StudyReader", "one_line", "queued", "set_enabled"]
