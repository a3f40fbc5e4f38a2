"""The first-run welcome: open the demo, open or create a study, or import a folder."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout

from cobbdesk import __version__
from cobbdesk.core.measure.measurement import CONVENTION

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost as MainWindow

INTRO = (
    f"<h2>CobbDesk {__version__}</h2>"
    "<p>Measure signed lordotic Cobb angles (C2–C7, L1–S1) on lateral spine films, keep them "
    "with each patient's admission and month-3 visits and lab values, compare the visits side "
    "by side, and export paired data with the statistics a paper needs.</p>"
    f"<p><b>Sign:</b> {CONVENTION}.</p>"
)


def open_demo_study(window: MainWindow) -> Path | None:
    """Generate the demo study in a fresh temporary folder and open it (about 5 s)."""
    from cobbdesk.synth.demo_study import write_demo_study

    window.status.showMessage("Generating the demo study…")
    path = write_demo_study(Path(tempfile.mkdtemp(prefix="cobbdesk-demo-")))
    window.confirm_close = False
    if not window.session.open_study(path):
        return None
    _show_a_film_to_measure(window)
    return path


def _show_a_film_to_measure(window: MainWindow) -> None:
    """Open the first unmeasured film so a newcomer can try the tool at once."""
    overview = window.session.study.overview() if window.session.study else []
    films = [f for p in overview for v in p.visits for fs in v.films.values() for f in fs
             if not v.measured.get(f.id)]  # fmt: skip
    if films:
        window.session.open_film(films[0])
    window.status.showMessage(
        "Demo study: 12 synthetic patients. Press C (C2–C7) or L (L1–S1) and click the "
        "endplate corners; Ctrl+K compares a patient's two visits.",
        15000,
    )


class WelcomeDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Welcome to CobbDesk")
        self.window_ = window
        layout = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(intro)
        for text, slot in (
            ("Open the demo study (12 synthetic patients)", lambda: open_demo_study(window)),
            ("Open a study…", window.session.open_study_dialog),
            ("New study…", window.session.new_study_dialog),
            ("Open films without a study…", window.open_files_dialog),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, s=slot: self._choose(s))
            layout.addWidget(button)
        self.resize(520, 360)

    def _choose(self, action: object) -> None:
        self.accept()
        action()  # type: ignore[operator]
