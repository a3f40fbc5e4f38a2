"""Opening a study off the UI thread: "Connecting…" with Cancel, and Retry when the server
cannot be reached (#15 "Faults": server down at start); a study file the same way ("Opening…",
shown after :data:`FILE_DIALOG_MS`: a file on a network share may be slow too).

:func:`open_in_background` runs ``Study.open`` (or ``create``) on a worker thread while a
modal progress dialog keeps the window painting; Cancel abandons the attempt (a study that
opens after all is closed at once, on the worker).  A :class:`ServerUnavailableError` asks
Retry / Cancel with the error's one line (no password, no patient identifier); any other error
is raised to the caller, as ``Study.open`` would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from cobbdesk.core.errors import ServerUnavailableError
from cobbdesk.core.store import Study

RetryAsk = Callable[[QWidget | None, str], bool]
FILE_DIALOG_MS = 400
"""A study file's "Opening…" dialog appears when the open takes longer than this."""


def _ask_retry(parent: QWidget | None, message: str) -> bool:
    box = QMessageBox(parent)
    box.setWindowTitle("Server not reachable")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setText(message)
    retry = box.addButton("Retry", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is retry


#: Asks whether to try again after ServerUnavailableError; replaced in tests.
ask_retry: RetryAsk = _ask_retry
#: The progress dialog of the attempt in progress, if any (tests press its Cancel).
showing: list[QProgressDialog] = []


def _in_thread(opener: Callable[[], Study]) -> tuple[Future[Study], Callable[[], None]]:
    """Start ``opener`` on a worker thread: its future and a thread-safe cancel."""
    future: Future[Study] = Future()
    lock = threading.Lock()

    def run() -> None:
        try:
            study = opener()
        except BaseException as exc:  # handed to the UI thread
            with lock:
                if not future.cancelled():
                    future.set_exception(exc)
            return
        with lock:
            wanted = not future.cancelled()
            if wanted:
                future.set_result(study)
        if not wanted:  # nobody waits for it any more
            study.close()

    def cancel() -> None:
        with lock:
            future.cancel()

    threading.Thread(target=run, name="cobbdesk-connect", daemon=True).start()
    return future, cancel


def _attempt(parent: QWidget | None, opener: Callable[[], Study], label: str,
             server: bool = True) -> Future[Study]:  # fmt: skip
    """One try, with the "Connecting…" dialog (a file: "Opening…", shown only when it takes
    longer than :data:`FILE_DIALOG_MS`); the future is cancelled on Cancel."""
    future, cancel = _in_thread(opener)
    text = f"Connecting to {label}…" if server else f"Opening {label}…"
    dialog = QProgressDialog(text, "Cancel", 0, 0, parent)
    dialog.setWindowTitle("Opening a server study" if server else "Opening a study")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.canceled.connect(cancel)
    showing.append(dialog)
    if server:
        dialog.show()
    else:  # a local file opens at once: no flash of a dialog
        QTimer.singleShot(FILE_DIALOG_MS, dialog,
                          lambda: None if future.done() else dialog.show())  # fmt: skip
    try:
        while not future.done():
            if dialog.wasCanceled():  # Cancel pressed (or cancel() called)
                cancel()
                break
            _pump(future)
    finally:
        showing.remove(dialog)
        dialog.close()
        dialog.deleteLater()
    return future


def _pump(future: Future[Any]) -> None:
    """Let the dialog work (its Cancel button included) for up to 50 ms."""
    loop = QEventLoop()
    QTimer.singleShot(50, loop.quit)
    loop.exec()


def open_in_background(
    parent: QWidget | None, opener: Callable[[], Study], label: str, *, server: bool = True
) -> Study | None:
    """``opener()`` on a worker thread with "Connecting to ``label``…" (``server`` False, a
    study file: "Opening ``label``…") and Cancel; Retry on ServerUnavailableError.  None when
    cancelled; other errors are raised."""
    while True:
        future = _attempt(parent, opener, label, server)
        if future.cancelled():
            return None
        error = future.exception()
        if error is None:
            return future.result()
        if not isinstance(error, ServerUnavailableError):
            raise error
        if not ask_retry(parent, error.message):
            return None
