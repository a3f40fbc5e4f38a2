"""One helper that turns an error into a dialog and a log record (no traceback for users)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.redact import redact

logger = logging.getLogger("cobbdesk.gui")

#: Replaced in tests to capture messages instead of opening a dialog.
Presenter = Callable[[QWidget | None, str, str], None]


def _dialog(parent: QWidget | None, title: str, text: str) -> None:
    text = redact(text)  # the one dialog of errors: no name, MRN or birth date, whoever calls
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setModal(False)
    box.open()


present: Presenter = _dialog


def report(parent: QWidget | None, error: BaseException, action: str) -> str:
    """Log ``error`` and show it; returns the user-facing message.

    CobbdeskError messages are shown as they are (they name the file and the problem);
    anything else is an internal error: logged with its traceback, shown without it and
    without its text (a driver's text can carry SQL parameters: patient data).  What is shown
    and logged passes :func:`cobbdesk.core.redact.redact` (no name, MRN or birth date).  The
    caller keeps the user's edit (a locked study, for instance, can be retried).
    """
    if isinstance(error, CobbdeskError):
        message = redact(error.message)
        logger.warning("%s failed: %s", action, message)
    else:
        message = f"Internal error ({type(error).__name__}); the details are in the log"
        logger.error("%s failed", action, exc_info=error)
    present(parent, f"{action} failed", message)
    return message


def inform(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    """The one information dialog (an import's summary, an audit check's result): not
    modal, its text redacted like the error dialog's (an import summary names the files it
    could not read, and file names often carry a patient's name or MRN)."""
    box = QMessageBox(QMessageBox.Icon.Information, title, redact(text), parent=parent)
    box.open()
    return box


FORCE_NOTICE = (
    "This file has no DICOM File Meta header (an old ACR-NEMA style file), so CobbDesk has to "
    "guess how it is encoded. Open it anyway only if you trust the file, then check that the "
    "image looks right and that the spacing shown in the status bar is plausible before "
    "measuring."
)


def offer_open_anyway(parent: QWidget | None, message: str,
                      open_anyway: Callable[[], None]) -> QMessageBox:  # fmt: skip
    """The error of a file without File Meta, with an explicit "Open anyway" button that
    calls ``open_anyway`` (the read with ``force``); the dialog is not modal."""
    message = redact(message)
    logger.warning("Opening a film failed: %s", message)
    box = QMessageBox(QMessageBox.Icon.Warning, "Opening a film failed", message,
                      QMessageBox.StandardButton.Cancel, parent)  # fmt: skip
    box.setInformativeText(FORCE_NOTICE)
    button = box.addButton("Open anyway", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setObjectName("open_anyway")
    box.finished.connect(lambda _: open_anyway() if box.clickedButton() is button else None)
    box.setModal(False)
    box.open()
    return box
