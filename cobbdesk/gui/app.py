"""Application start-up: QApplication, logging, the main window."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from cobbdesk.gui import settings
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.welcome import WelcomeDialog, open_demo_study


def _setup_logging() -> None:
    """Rotating log in the user log directory; messages never contain patient identifiers."""
    folder = Path(os.environ.get("COBBDESK_LOG_DIR") or platformdirs.user_log_dir("cobbdesk"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFileHandler(
            folder / "cobbdesk.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("cobbdesk")
    root.setLevel(logging.INFO)
    root.addHandler(handler)


def run(files: Sequence[Path] = (), demo: bool = False) -> int:
    """Start the GUI; returns the process exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CobbDesk")
    _setup_logging()
    window = MainWindow()
    window.show()
    if demo:
        open_demo_study(window)
    elif not files and not settings.settings().value("welcome_shown", False, type=bool):
        settings.settings().setValue("welcome_shown", True)
        WelcomeDialog(window).open()
    if files:
        window.open_paths(list(files))
    quit_after = os.environ.get("COBBDESK_QUIT_AFTER_MS")  # smoke tests of the real start-up
    if quit_after:
        QTimer.singleShot(int(quit_after), window.close)
        QTimer.singleShot(int(quit_after) + 50, app.quit)
    return int(app.exec())
