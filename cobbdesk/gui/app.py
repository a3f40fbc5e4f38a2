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

from cobbdesk.core import library_warnings, redact
from cobbdesk.gui import settings, ui_gc
from cobbdesk.gui.demo import remove_leftovers, start_demo
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.welcome import WelcomeDialog


def _setup_logging() -> None:
    """Rotating log in the user log directory (folder 0700, files 0600); every record passes
    the redacting filter (:mod:`cobbdesk.core.redact`), so no patient identifier is logged."""
    folder = Path(os.environ.get("COBBDESK_LOG_DIR") or platformdirs.user_log_dir("cobbdesk"))
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(folder / "cobbdesk.log", os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
        handler: logging.Handler = RotatingFileHandler(
            folder / "cobbdesk.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("cobbdesk")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    redact.install()  # this handler, the root's and the last-resort stderr handler
    redact.quiet_libraries(handler)  # SQLAlchemy's records: one line in the log, no traceback
    library_warnings.route()  # library warnings: one redacted log line naming the file


def run(files: Sequence[Path] = (), demo: bool = False) -> int:
    """Start the GUI (files it creates are private: umask 077); returns the exit code.

    The window is painted first; the rest (the demo generated in the background, the files
    or study given, the last study reopened, the welcome of a first run) follows from the
    event loop.  ``.cobbdesk`` files given are opened as studies.
    """
    os.umask(0o077)  # logs, settings, exports, reports: 0600 files, 0700 folders
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CobbDesk")
    ui_gc.install(app)  # cycles (and the Qt objects in them) are freed on this thread only
    _setup_logging()
    window = MainWindow()
    window.show()
    QTimer.singleShot(FIRST_PAINT_MS, lambda: start(window, list(files), demo))
    quit_after = os.environ.get("COBBDESK_QUIT_AFTER_MS")  # smoke tests of the real start-up
    if quit_after:
        QTimer.singleShot(int(quit_after), window.close)
        QTimer.singleShot(int(quit_after) + 50, app.quit)
    return int(app.exec())


FIRST_PAINT_MS = 50
"""Start-up work waits this long after ``show()``, so the window is on screen first."""


def start(window: MainWindow, files: list[Path], demo: bool) -> None:
    """What follows the first paint: the demo, the files given, or the last study."""
    remove_leftovers()  # demo folders of runs that crashed or were killed
    if demo:
        start_demo(window)
    elif files:
        window.open_paths(files)
    elif not settings.settings().value("welcome_shown", False, type=bool):
        settings.settings().setValue("welcome_shown", True)
        WelcomeDialog(window).open()
    else:
        reopen_last_study(window)


def reopen_last_study(window: MainWindow) -> bool:
    """Open the study open at the last exit (unless the user turned this off)."""
    last = settings.last_study()
    if last is None or not last.is_file():
        return False
    if not window.session.open_study(last):
        return False
    window.status.showMessage(
        f"Reopened {last.name} (Study ▸ Reopen last study at start turns this off).", 10000
    )
    return True
