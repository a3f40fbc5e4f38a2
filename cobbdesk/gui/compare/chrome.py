"""The compare view's controls (toolbar) and its numbers (header)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from cobbdesk.core.store import Region

ANGLE_STYLE = "color: #36d7ff; font-size: 15pt; font-weight: bold;"
DELTA_STYLE = "color: #ffc02e; font-size: 17pt; font-weight: bold;"


def _check(text: str, tip: str, checked: bool = False) -> QCheckBox:
    box = QCheckBox(text)
    box.setToolTip(tip)
    box.setChecked(checked)
    box.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the films
    return box


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class CompareToolbar(QWidget):
    """Navigation, region, synchronisation and reading options, export."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.previous_button = _button("◀ Previous", "Previous patient (Alt+Left)")
        self.next_button = _button("Next ▶", "Next patient (Alt+Right)")
        self.region = QComboBox()
        self.region.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.region.setToolTip("Region (Alt+Down switches)")
        for region in (Region.CERVICAL, Region.LUMBAR):
            self.region.addItem(region.value.capitalize(), region)
        self.skip_complete = _check("Skip complete", "Next/previous skip pairs you measured")
        self.sync_zoom = _check("Sync zoom/pan", "Same mm scale and position on both", True)
        self.sync_window = _check("Sync W/L", "Window/level changes apply to both films")
        self.blinded = _check("Blinded", "Hide the other visit's angle, the difference and dates")
        self.deidentified = _check("Day offsets", "Dates as days from admission", True)
        self.snapping = _check("Snap", "Snap clicked corners to the endplate edge", False)
        self.align = _button("Align on vertebra", "Click the same landmark on both films")
        self.align.setCheckable(True)
        self.measure = _button("Measure (M)", "Measure on the highlighted film")
        self.export = _button("Export PNG…", "Save both films and the numbers as a figure")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.previous_button, self.next_button, self.region, self.skip_complete,
                       self.measure, self.align, self.sync_zoom, self.sync_window, self.snapping,
                       self.blinded, self.deidentified):  # fmt: skip
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.export)

    def show_region(self, region: Region) -> None:
        self.region.blockSignals(True)
        self.region.setCurrentIndex(max(0, self.region.findData(region)))
        self.region.blockSignals(False)


class CompareHeader(QFrame):
    """Study ID and region, the two angles, their difference, and how the views are synced."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("QFrame { background: #161b22; } QLabel { color: #e8e8e8; }")
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.angles = [QLabel(), QLabel()]
        for label in self.angles:
            label.setStyleSheet(ANGLE_STYLE)
        self.delta = QLabel()
        self.delta.setStyleSheet(DELTA_STYLE)
        self.delta.setToolTip("Month 3 − admission, the current rater's latest measurement each")
        self.sync = QLabel()
        self.sync.setStyleSheet("color: #9aa4ad;")
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.sync, 1, 0)
        grid.addWidget(QLabel("Admission"), 0, 1)
        grid.addWidget(self.angles[0], 1, 1)
        grid.addWidget(QLabel("Month 3"), 0, 2)
        grid.addWidget(self.angles[1], 1, 2)
        grid.addWidget(QLabel("Month 3 − admission"), 0, 3)
        grid.addWidget(self.delta, 1, 3)
        for column, stretch in enumerate((3, 2, 2, 2)):
            grid.setColumnStretch(column, stretch)

    def set_numbers(self, title: str, angles: list[str], delta: str) -> None:
        self.title.setText(title)
        for label, text in zip(self.angles, angles, strict=True):
            label.setText(text)
        self.delta.setText(delta)

    def set_sync(self, text: str) -> None:
        self.sync.setText(text)
