"""The measurement panel: templates, snapping, the guided prompt and the film's measurements."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.measure.measurement import CONVENTION, Template
from cobbdesk.gui.viewer.measure_tool import MeasureController

FLAG_COLOUR = "#b35c00"
"""Text colour of a saved angle outside the plausible range (flagged, not refused)."""
TEMPLATE_BUTTONS = (
    (Template.C2_C7, "C2–C7"),
    (Template.L1_S1, "L1–S1"),
    (Template.FREE, "Free Cobb"),
)


class MeasurePanel(QWidget):
    raterChanged = Signal(str)

    def __init__(self, rater: str) -> None:
        super().__init__()
        self.controller: MeasureController | None = None
        self._connections: list[tuple[Any, Any]] = []
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Rater:"))
        self.rater = QLineEdit(rater)
        self.rater.editingFinished.connect(lambda: self.raterChanged.emit(self.rater.text()))
        row.addWidget(self.rater)
        layout.addLayout(row)
        buttons = QHBoxLayout()
        self.template_buttons: dict[Template, QPushButton] = {}
        for template, label in TEMPLATE_BUTTONS:
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, t=template: self.start(t))
            buttons.addWidget(button)
            self.template_buttons[template] = button
        layout.addLayout(buttons)
        self.snapping = QCheckBox("Snap lines to endplate edges")
        self.snapping.setChecked(False)  # off by default: see MeasurementSession.snapping
        self.snapping.toggled.connect(self._snapping_toggled)
        layout.addWidget(self.snapping)
        self.prompt = QLabel("Choose a template, then click on the film.")
        self.prompt.setWordWrap(True)
        self.prompt.setStyleSheet("font-weight: bold")
        layout.addWidget(self.prompt)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.table = _table()
        self.table.itemSelectionChanged.connect(self._table_selection)
        layout.addWidget(self.table, 1)
        self.flag = _flag_label()
        layout.addWidget(self.flag)
        self.delete = QPushButton("Delete selected")
        self.delete.clicked.connect(self._delete)
        layout.addWidget(self.delete)
        note = QLabel(f"Sign: {CONVENTION}.")
        note.setWordWrap(True)
        note.setStyleSheet("color: gray")
        layout.addWidget(note)
        self.setEnabled(False)

    def set_controller(self, controller: MeasureController | None) -> None:
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self._connections = []
        self.controller = controller
        self.setEnabled(controller is not None)
        if controller is None:
            self.table.setRowCount(0)
            return
        self._connections = [
            (controller.measurementsChanged, self.refresh),
            (controller.selectionChanged, self.refresh),
            (controller.promptChanged, self.prompt.setText),
            (controller.messageChanged, self.message.setText),
        ]
        for signal, slot in self._connections:
            signal.connect(slot)
        controller.set_snapping(self.snapping.isChecked())
        self.refresh()

    def start(self, template: Template) -> None:
        if self.controller is not None:
            self.controller.start_placement(template)

    def _snapping_toggled(self, on: bool) -> None:
        if self.controller is not None:
            self.controller.set_snapping(on)

    def _delete(self) -> None:
        if self.controller is not None:
            self.controller.delete_selected()

    def refresh(self, *_: object) -> None:
        if self.controller is None:
            return
        items = list(self.controller.measurements.values())
        self.table.blockSignals(True)
        self.table.setRowCount(len(items))
        for row, m in enumerate(items):
            levels = "Free" if m.template is Template.FREE else m.template.value.replace("-", "–")
            angle = angle_text(m.angle, calibrated=m.spacing is not None)
            flag = self.controller.session.flag(m)
            angle += "  \u26a0" if flag else ""
            for column, text in enumerate((levels, cell_lines(angle), m.rater)):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, m.id)
                cell.setToolTip(angle if column == 1 else text)  # an elided rater reads whole
                if flag:
                    cell.setForeground(QColor(FLAG_COLOUR))
                    cell.setToolTip(f"{cell.toolTip()}\nSaved, but flagged: {flag}. "
                                    "Check the endplates.")  # fmt: skip
                self.table.setItem(row, column, cell)
            if m.id == self.controller.selected_id:
                self.table.selectRow(row)
        self.table.resizeRowsToContents()  # a two-line angle gets its two lines
        if self.controller.selected_id is None:
            self.table.clearSelection()
        selected = self.controller.measurements.get(self.controller.selected_id or "")
        flag = self.controller.session.flag(selected) if selected is not None else None
        self.flag.setText(f"\u26a0 Saved, but flagged: {flag}. Check the endplates." if flag
                          else "")  # fmt: skip
        self.flag.setVisible(bool(flag))
        self.table.blockSignals(False)
        self.delete.setEnabled(self.controller.selected_id is not None)

    def _table_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if self.controller is not None and rows:
            self.controller.select(self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole))


def cell_lines(angle: str) -> str:
    """The angle as the table shows it: the note in brackets on a second line
    (``"−12.3° kyphosis\n(px, uncalibrated)"``), so that the Angle column stays narrow
    enough for the Rater column beside it in the default dock (the text is otherwise
    :func:`~cobbdesk.core.measure.formatting.angle_text`'s, unchanged)."""
    return angle.replace(" (", "\n(", 1)


def _flag_label() -> QLabel:
    """Under the table: why the selected angle is flagged (hidden when it is not)."""
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {FLAG_COLOUR}; font-weight: bold")
    label.hide()
    return label


def _table() -> QTableWidget:
    """The film's measurements: levels, signed angle (⚠ when flagged), rater."""
    table = QTableWidget(0, 3)
    table.setHorizontalHeaderLabels(["Levels", "Angle", "Rater"])
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    for column in (0, 1):  # levels and angle read whole; the rater gets the rest
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
    header.setMinimumSectionSize(header.fontMetrics().horizontalAdvance("Rater") + 16)
    table.verticalHeader().hide()
    table.setWordWrap(False)  # lines break only where cell_lines puts them
    return table
