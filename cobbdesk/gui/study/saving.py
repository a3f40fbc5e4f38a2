"""Saving an open study without freezing the window: its write queue, shown in the status bar.

Design (#15 "Faults"): every write of the open study — measurements (save, delete, restore,
facing through :class:`~cobbdesk.core.compare.saver.StudyFilmStore`) and lab values — goes
through one :class:`~cobbdesk.core.store.outbox.Outbox` on a worker thread.  The measuring
session stays synchronous (what is on screen is what is stored): the store call waits for its
write's *first attempt* in a local event loop that keeps painting and running timers but holds
back the user's input (:func:`qt_waiter`), for at most ``Outbox.first_wait_s`` (2 s).  A save
that meets a server that is away is kept in the queue and retried in order; the window goes on
and the status bar says so ("Server unreachable — 3 edits kept, retrying in 8 s
[Retry now]").  A kept edit that fails later (another rater changed that measurement in the
meantime) comes back on the UI thread (:attr:`StudySaver.failed`).

Nothing crosses threads through Qt: the worker only updates the outbox's state and a plain
queue of late failures; a QTimer of the UI thread reads both (:data:`POLL_MS`).

A study file moved, renamed or replaced while open refuses every write (StudyMovedError,
:mod:`~cobbdesk.core.store.file_identity`): the refused edit is kept like one waiting for a
server ("Study file moved, saves paused — 1 edit kept, retrying in 4 s").  The study watcher's
poll notices the move without a save (:meth:`StudySaver.follow`): one dialog, and the status
bar says :data:`PAUSED` — never "All changes saved" — until the same file is back, when the
kept edits are retried at once.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from cobbdesk.core.errors import StudyMovedError
from cobbdesk.core.store import Study
from cobbdesk.core.store.outbox import (
    MOVED_HEADLINE,
    First,
    Outbox,
    OutboxState,
    Phase,
    Ticket,
    attach,
)
from cobbdesk.gui import errors

if TYPE_CHECKING:
    from cobbdesk.gui.study.watch import StudyWatcher

T = TypeVar("T")
POLL_MS = 100
WAIT_POLL_MS = 5

CloseChoice = str
"""``"wait"``, ``"keep"`` (keep trying, do not close) or ``"discard"``."""
CloseAsk = Callable[[QWidget | None, int, str], CloseChoice]


PAUSED = MOVED_HEADLINE
"""The status bar while the study's file is not at its path (the reason in the tooltip)."""

CLOSE_GRACE_S = 3.0
"""At close, how long writes still being saved may take before the user is asked."""


def qt_waiter(future: Future[Any], timeout: float) -> None:
    """Wait for ``future`` at most ``timeout`` s in a local event loop that paints and runs
    timers but leaves the user's input queued until it returns (no re-entrant edits)."""
    if future.done() or timeout <= 0:
        return
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(WAIT_POLL_MS)
    poll.timeout.connect(lambda: loop.quit() if future.done() else None)
    limit = QTimer()
    limit.setSingleShot(True)
    limit.timeout.connect(loop.quit)
    poll.start()
    limit.start(int(timeout * 1000))
    loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    poll.stop()
    limit.stop()


def _ask_close(parent: QWidget | None, pending: int, text: str) -> CloseChoice:
    box = QMessageBox(parent)
    box.setWindowTitle("Edits not saved yet")
    box.setIcon(QMessageBox.Icon.Warning)
    edits = "1 edit has" if pending == 1 else f"{pending} edits have"
    box.setText(f"{edits} not reached the study yet ({text}).")
    wait = box.addButton("Wait until saved", QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton("Keep trying (stay open)", QMessageBox.ButtonRole.RejectRole)
    discard = box.addButton(f"Discard {pending} edit(s)", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(keep)
    box.exec()
    clicked = box.clickedButton()
    return "wait" if clicked is wait else "discard" if clicked is discard else "keep"


#: Asks what to do with edits still queued when the study closes; replaced in tests.
ask_close: CloseAsk = _ask_close


class SaveStatus(QWidget):
    """The status bar's save state: a label and a "Retry now" button (while waiting)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("")
        self.retry = QPushButton("Retry now")
        self.retry.setFlat(True)
        self.retry.hide()
        layout.addWidget(self.label)
        layout.addWidget(self.retry)

    def show_state(self, state: OutboxState | None, paused: str = "") -> None:
        """Show ``state`` (None: no study open); ``paused``: why writes are refused now
        (:data:`PAUSED` is shown instead of "All changes saved" or "Saving…")."""
        self.label.setText(_text(state, paused))
        self.label.setToolTip(paused if _paused(state, paused) else state.problem if state else "")
        self.retry.setVisible(state is not None and state.phase is Phase.WAITING)


def _paused(state: OutboxState | None, paused: str) -> bool:
    return state is not None and bool(paused) and state.phase is not Phase.WAITING


def _text(state: OutboxState | None, paused: str) -> str:
    """The status bar's words: the queue's state, or :data:`PAUSED` while writes are refused
    and no edit is kept (a kept edit's state already says why it waits)."""
    if state is None:
        return ""
    return PAUSED if _paused(state, paused) else state.text()


def queued(saver: StudySaver | None, write: Callable[[], T], what: str) -> tuple[First, T | None]:
    """``write`` (one store call) on the open study's write queue, off the UI thread — the
    status bar shows "Saving…" or "Server unreachable — … kept" — waiting for its first
    attempt in a loop that paints (:meth:`~cobbdesk.core.store.outbox.Outbox.call`).

    Returns ``(SAVED, result)`` or ``(KEPT, None)`` (retried in order; a later failure goes
    to :attr:`StudySaver.failed`); raises the first attempt's refusal (ValidationError,
    ConflictError…).  Without a queue (no study open) the store is called directly."""
    if saver is None:
        return First.SAVED, write()
    return saver.outbox.call(write, what)


class StudySaver(QObject):
    """The write queue of one open study, attached to it, shown in a :class:`SaveStatus`."""

    failed = Signal(object, object)  # Ticket, the error: a kept write that failed later

    def __init__(self, study: Study, status: SaveStatus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.study, self.status = study, status
        self.outbox = Outbox(study.path.name)
        self.outbox.waiter = qt_waiter
        self._late: queue.SimpleQueue[tuple[Ticket[Any], BaseException]] = queue.SimpleQueue()
        self.outbox.on_failure = lambda ticket, error: self._late.put((ticket, error))
        attach(study, self.outbox)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._shown = ""
        self.paused = ""  # why the study refuses writes now ("" when it does not)
        status.retry.clicked.connect(self.outbox.retry_now)
        self._tick()

    def text(self) -> str:
        """What the status bar says now."""
        return _text(self.outbox.state(), self.paused)

    def follow(self, watcher: StudyWatcher, parent: QWidget | None) -> None:
        """Pause on the watcher's ``moved`` (one dialog through :mod:`cobbdesk.gui.errors`,
        :data:`PAUSED` in the status bar), resume on ``returned`` (kept edits retried now)."""
        watcher.moved.connect(lambda why: self.pause(why, parent))
        watcher.returned.connect(self.resume)

    def pause(self, why: str, parent: QWidget | None = None) -> None:
        """Writes are refused (``why``: the path and what to do); kept edits stay queued."""
        self.paused = why
        told = StudyMovedError(None, f"{why}. Edits are kept and saved once the file is back.")
        errors.report(parent, told, "Saving to the study")
        self._tick()

    def resume(self) -> None:
        """The study's file is back: retry the kept edits at once."""
        self.paused = ""
        self.outbox.retry_now()
        self._tick()

    def _tick(self) -> None:
        state = self.outbox.state()
        shown = f"{state.text()}|{state.problem}|{self.paused}"
        if shown != self._shown:
            self._shown = shown
            self.status.show_state(state, self.paused)
        while True:
            try:
                ticket, error = self._late.get_nowait()
            except queue.Empty:
                break
            self.failed.emit(ticket, error)

    def confirm_close(self, parent: QWidget | None, ask: CloseAsk | None = None) -> bool:
        """True when the study may close: nothing is queued, the queue drained while the user
        waited, or the user discarded the queued edits (never silently); False: keep trying.
        Writes still being saved (not kept for an unreachable server) are first given up to
        :data:`CLOSE_GRACE_S` to land: a write just queued (a film's pixel hash, the last
        autosave) must not ask the user — closing then stuck a test on the prompt."""
        self._settle(CLOSE_GRACE_S)
        while self.outbox.pending():
            choice = (ask or ask_close)(parent, self.outbox.pending(), self.text())
            if choice == "discard":
                self.outbox.discard()
                return True
            if choice != "wait":
                return False
            self._drain()
        return True

    def _settle(self, limit: float) -> None:
        """Wait (painting) while the queue is saving, at most ``limit`` s; a write kept for
        the server (WAITING) ends the wait at once: the user is asked."""
        never: Future[None] = Future()
        end = time.monotonic() + limit
        while self.outbox.pending() and time.monotonic() < end:
            if self.outbox.state().phase is Phase.WAITING:
                return
            qt_waiter(never, 0.05)

    def _drain(self) -> None:
        """Retry now and wait (painting) until the queue is empty or the retry failed."""
        before = self.outbox.state().retry_at
        self.outbox.retry_now()
        never: Future[None] = Future()
        while self.outbox.pending():
            qt_waiter(never, 0.2)
            state = self.outbox.state()
            if state.phase is Phase.WAITING and state.retry_at != before:
                return  # the server is still away: ask again

    def close(self) -> int:
        """Detach and stop the queue (after :meth:`confirm_close`); returns writes dropped."""
        self._timer.stop()
        attach(self.study, None)
        dropped = self.outbox.close()
        self.status.show_state(None)
        return dropped
