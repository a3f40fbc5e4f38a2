"""One helper that turns an error into a dialog and a log record (no traceback for users)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from cobbdesk.core.errors import CobbdeskError

logger = logging.getLogger("cobbdesk.gui")

#: Replaced in tests to capture messages instead of opening a dialog.
Presenter = Callable[[QWidget | None, str, str], None]


def _dialog(parent: QWidget | None, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setModal(False)
    box.open()


present: Presenter = _dialog


def report(parent: QWidget | None, error: BaseException, action: str) -> str:
    """Log ``error`` and show it; returns the user-facing message.

    CobbdeskError messages are shown as they are (they name the file and the problem);
    anything else is an internal error: logged with its traceback, shown without it.
    """
    if isinstance(error, CobbdeskError):
        message = error.message
        logger.warning("%s failed: %s", action, message)
    else:
        message = f"Internal error ({type(error).__name__}): {error}"
        logger.error("%s failed", action, exc_info=error)
    present(parent, f"{action} failed", message)
    return message
