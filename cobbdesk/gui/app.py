"""Application start-up: QApplication, logging, the main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from cobbdesk import __version__


class MainWindow(QMainWindow):
    """The main window (the viewer grows here)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"CobbDesk {__version__}")
        self.resize(1280, 860)
        placeholder = QLabel("Open lateral spine films to measure Cobb angles.")
        self.setCentralWidget(placeholder)
        self.statusBar().showMessage("Ready")


def run(files: Sequence[Path] = (), demo: bool = False) -> int:
    """Start the GUI; returns the process exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CobbDesk")
    window = MainWindow()
    window.show()
    return int(app.exec())
