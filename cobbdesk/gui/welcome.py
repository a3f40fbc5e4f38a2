"""The first-run welcome: open the demo, open or create a study, or import a folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout

from cobbdesk import __version__
from cobbdesk.core.measure.measurement import CONVENTION
from cobbdesk.gui.demo import start_demo

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost as MainWindow

INTRO = (
    f"<h2>CobbDesk {__version__}</h2>"
    "<p>Measure signed lordotic Cobb angles (C2–C7, L1–S1) on lateral spine films, keep them "
    "with each patient's admission and month-3 visits and lab values, compare the visits side "
    "by side, and export paired data with the statistics a paper needs.</p>"
    f"<p><b>Sign:</b> {CONVENTION}.</p>"
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
        layout.addSpacing(self.fontMetrics().height())  # a line between text and buttons
        layout.addStretch(1)  # spare height under the text, not around it
        self.intro = intro
        for text, slot in (
            ("Open the demo study (12 synthetic patients)", lambda: start_demo(window)),
            ("Open a study…", window.session.open_study_dialog),
            ("New study…", window.session.new_study_dialog),
            ("Open films without a study…", window.open_files_dialog),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, s=slot: self._choose(s))
            layout.addWidget(button)
        height = self.layout().totalHeightForWidth(520)  # as tall as its text and buttons
        self.resize(520, height if height > 0 else 360)

    def _choose(self, action: object) -> None:
        self.accept()
        action()  # type: ignore[operator]
