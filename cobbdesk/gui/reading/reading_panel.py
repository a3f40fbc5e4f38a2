"""The side panel of the reading window: what is read, where in the worklist, the prompt, the
rater's own reading of the film and the Measure again / Next / Skip buttons.

Widgets only (no study, no film): :class:`~cobbdesk.gui.reading.reading_window.ReadingWindow`
fills the labels and the table and connects the buttons.  Nothing here names a patient, visit,
date or file (the reading is blinded).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)


def reading_table() -> QTableWidget:
    """Two columns, Levels and Your reading; read-only, short (one or two rows)."""
    table = QTableWidget(0, 2)
    table.setHorizontalHeaderLabels(["Levels", "Your reading"])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)  # no grey band
    table.setMaximumHeight(90)
    return table


def _wrapped(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if style:
        label.setStyleSheet(style)
    return label


class ReadingPanel(QWidget):
    """The reading window's side, 300 px wide: ``heading`` (plan, rater, round), ``bar`` (the
    window's loading bar), progress, template, the plan's snapping, prompt, message, the reading
    table, the three buttons and the round-complete line, top to bottom."""

    def __init__(self, heading: str, snapping: bool, bar: QWidget) -> None:
        super().__init__()
        self.heading = _wrapped(heading)
        self.progress = QLabel("")
        self.progress.setStyleSheet("font-size: 13pt; font-weight: bold")
        self.template = QLabel("")
        self.snapping = QLabel(f"Snapping {'on' if snapping else 'off'} (the plan's setting)")
        self.prompt = _wrapped(style="font-weight: bold")
        self.message = _wrapped()
        self.table = reading_table()
        self.again = QPushButton("Measure again")
        self.next_button = QPushButton("Next \u25b6")
        self.skip_button = QPushButton("Skip with reason…")
        self.done = _wrapped(style="font-size: 13pt; font-weight: bold; color: #1a7f37")
        side = QVBoxLayout()
        for widget in (self.heading, bar, self.progress, self.template, self.snapping,
                       self.prompt, self.message, self.table, self.again, self.next_button,
                       self.skip_button, self.done):  # fmt: skip
            side.addWidget(widget)
        side.addStretch(1)
        self.setLayout(side)
        self.setFixedWidth(300)
