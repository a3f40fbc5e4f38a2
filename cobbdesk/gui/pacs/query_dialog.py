"""Study > Query PACS…: search a PACS (C-FIND or QIDO-RS) and retrieve films into the open
study (C-GET by default, C-MOVE, or WADO-RS) with progress and Cancel, off the UI thread.

Results are shown patient → study → series; each series says how many of its films the open
study already holds ("in study"), so a retrieve fetches only the rest (core rule).  After a
retrieve the study browser is refreshed and the search re-run, so the marks are current.
Faults are one line through :func:`cobbdesk.gui.errors.report` (no identifiers).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.pacs.node import PacsError
from cobbdesk.core.pacs.query import Query
from cobbdesk.gui import errors
from cobbdesk.gui.pacs import tasks
from cobbdesk.gui.pacs.node_panel import NodePanel, Runner

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost

MODALITIES = ("CR", "DX", "OT")
COLUMNS = ("Patient / study / series", "Date", "Modality", "Films", "In study")
KEY = Qt.ItemDataRole.UserRole
PRESENT = QColor(0, 110, 40)


class QueryDialog(QDialog):
    """The dialog; ``window`` gives the open study (``window.session``)."""

    def __init__(self, window: WindowHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.setWindowTitle("Query PACS")
        self.runner = Runner(self)
        self.node = NodePanel(self)
        self.studies: list[dict[str, Any]] = []
        self.reports: list[Any] = []
        self._summary = ""
        layout = QVBoxLayout(self)
        layout.addWidget(self.node)
        layout.addLayout(self._search_form())
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        for column in range(len(COLUMNS)):  # every header reads whole before a search
            self.tree.resizeColumnToContents(column)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        layout.addWidget(self.tree, 1)
        layout.addLayout(self._retrieve_row())
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.node.echo_button.clicked.connect(self.echo)
        self.resize(860, 640)

    def _search_form(self) -> QFormLayout:
        form = QFormLayout()
        self.patient_id, self.patient_name = QLineEdit(), QLineEdit(placeholderText="Doe^J*")
        self.accession = QLineEdit()
        self.preset = QComboBox()
        self.preset.addItems(list(tasks.PRESETS))
        self.date_from, self.date_to = QDateEdit(calendarPopup=True), QDateEdit(calendarPopup=True)
        for edit in (self.date_from, self.date_to):
            edit.setDate(QDate.currentDate())
            edit.setDisplayFormat("yyyy-MM-dd")
        self.preset.currentTextChanged.connect(self._preset_changed)
        self._preset_changed(self.preset.currentText())
        dates = QHBoxLayout()
        for widget in (self.preset, self.date_from, QLabel("to"), self.date_to):
            dates.addWidget(widget)
        dates.addStretch(1)  # "from … to …" together, not spread over the row
        self.modality = {m: QCheckBox(m, checked=m in ("CR", "DX")) for m in MODALITIES}
        mods = QHBoxLayout()
        for box in self.modality.values():
            mods.addWidget(box)
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        mods.addStretch(1)
        mods.addWidget(self.search_button)
        form.addRow("Patient ID", self.patient_id)
        form.addRow("Patient name", self.patient_name)
        form.addRow("Accession number", self.accession)
        form.addRow("Study date", dates)
        form.addRow("Modality", mods)
        return form

    def _retrieve_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.method = QComboBox()
        self.method.addItems(["C-GET", "C-MOVE"])
        self.method.setToolTip("C-GET needs no inbound port; C-MOVE sends to CobbDesk's AE "
                               "title and port, which the PACS must know")  # fmt: skip
        self.retrieve_button = QPushButton("Retrieve selected into the study")
        self.retrieve_button.clicked.connect(self.retrieve)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m film(s)")
        self.progress.hide()  # an empty bar reads as a text field: shown once retrieving
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.cancel_button.clicked.connect(self.runner.cancel)
        for widget in (QLabel("Retrieve with"), self.method, self.retrieve_button,
                       self.progress, self.cancel_button):  # fmt: skip
            row.addWidget(widget, 1 if widget is self.progress else 0)
        row.insertStretch(3, 1)  # while the bar is hidden, Cancel stays on the right
        return row

    def _preset_changed(self, preset: str) -> None:
        for edit in (self.date_from, self.date_to):
            edit.setEnabled(preset == "Range")

    # --- queries ------------------------------------------------------------------------------
    def query(self) -> Query:
        """The search fields as a Query (ValueError for an inverted date range)."""
        start, end = self.date_from.date().toPython(), self.date_to.date().toPython()
        first, last = tasks.date_range(self.preset.currentText(), date.today(), start, end)
        return Query(patient_id=self.patient_id.text().strip(),
                     patient_name=self.patient_name.text().strip(),
                     accession=self.accession.text().strip(), date_from=first, date_to=last,
                     modalities=self.modalities())  # fmt: skip

    def modalities(self) -> tuple[str, ...]:
        return tuple(m for m, box in self.modality.items() if box.isChecked())

    def _busy(self, busy: bool, text: str = "") -> None:
        for button in (self.search_button, self.retrieve_button, self.node.echo_button):
            button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        if text:
            self.status.setText(text)

    def _failed(self, action: str) -> Any:
        def failed(error: BaseException) -> None:
            self._busy(False, f"{action} failed")
            errors.report(self, error, action)

        return failed

    def echo(self) -> None:
        """Test the node (C-ECHO, or a one-answer QIDO-RS search for DICOMweb)."""
        target, label = self.node.target(), self.node.describe()

        def job(_progress: Any, _cancel: Any) -> int:
            if isinstance(target, str):
                from cobbdesk.core.pacs.browse import echo_web

                echo_web(target, timeout=self.node.timeout)
                return 0
            from cobbdesk.core.pacs.node import echo

            return echo(target)

        def done(status: int) -> None:
            ok = status == 0
            self._busy(False, f"{label}: " + ("the node answers (C-ECHO OK)" if ok
                                              else f"C-ECHO status 0x{status:04X}"))  # fmt: skip

        self._busy(True, f"Testing {label}…")
        self.runner.run(job, done, self._failed("Testing the PACS node"))

    def search(self) -> None:
        try:
            query = self.query()
        except ValueError as exc:
            errors.present(self, "Search", str(exc))
            return
        target, study = self.node.target(), self.window_.session.study
        self._busy(True, "Searching…")
        self.runner.run(lambda _p, _c: tasks.search(study, target, query, self.node.timeout),
                        self._searched, self._failed("Searching the PACS"))  # fmt: skip

    def _searched(self, studies: list[dict[str, Any]]) -> None:
        self.studies = studies
        fill_tree(self.tree, studies)
        count = sum(len(s.get("series", [])) for s in studies)
        found = f"{len(studies)} study(ies), {count} series found"
        self._busy(False, f"{self._summary}. {found}" if self._summary else found)
        self._summary = ""

    # --- retrieve -----------------------------------------------------------------------------
    def selection(self) -> list[tuple[str, ...]]:
        """The selected studies and series (a selected patient stands for all its studies)."""
        chosen: list[tuple[str, ...]] = []
        for item in self.tree.selectedItems():
            key = item.data(0, KEY)
            if key[0] == "patient":
                chosen += [item.child(i).data(0, KEY) for i in range(item.childCount())]
            else:
                chosen.append(key)
        return chosen

    def retrieve(self) -> None:
        """Fetch the selection into the open study, off the UI thread."""
        study = self.window_.session.study
        queries = tasks.queries_for(self.selection(), self.modalities())
        if study is None or not queries:
            errors.present(self, "Retrieve", "Open a study first, then select studies or series"
                           if study is None else "Select studies or series first")  # fmt: skip
            return
        target, how = self.node.target(), "move" if self.method.currentIndex() else "get"
        port = self.node.own_port.value()
        self.progress.setRange(0, 0)
        self.progress.show()
        self._busy(True, f"Retrieving {len(queries)} study(ies)…")
        self.runner.run(
            lambda progress, cancel: tasks.retrieve_all(study, target, queries, how=how,
                                                        move_port=port, progress=progress,
                                                        cancel=cancel),
            self._retrieved, self._failed("Retrieving from the PACS"), self._progressed,
        )  # fmt: skip

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _retrieved(self, reports: list[Any]) -> None:
        self.reports = reports
        self._summary = tasks.summary(reports)  # kept in the status after the new search
        self._busy(False, self._summary)
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if reports and all(r.ok for r in reports) else 0)
        self.window_.session.refresh()
        fault = next((r.fault for r in reports if r.fault), "")
        if fault:
            errors.report(self, PacsError(None, fault), "Retrieving from the PACS")
        self.search()  # the "in study" marks

    def done(self, result: int) -> None:
        self.runner.shutdown()
        super().done(result)


def fill_tree(tree: QTreeWidget, studies: list[dict[str, Any]]) -> None:
    """Patient → study → series items; series (and whole studies) held by the study marked."""
    tree.clear()
    patients: dict[str, QTreeWidgetItem] = {}
    for st in sorted(studies, key=lambda s: (s["PatientID"], s["StudyDate"])):
        pid = st["PatientID"]
        if pid not in patients:
            label = f"{pid}  {str(st.get('PatientName', '')).replace('^', ' ')}".strip()
            patients[pid] = QTreeWidgetItem(tree, [label])
            patients[pid].setData(0, KEY, ("patient", pid))
        described = st.get("StudyDescription") or st.get("AccessionNumber") or "study"
        mods = st.get("ModalitiesInStudy") or []
        mods = mods if isinstance(mods, str) else ", ".join(mods)
        item = QTreeWidgetItem(patients[pid], [str(described), _day(st["StudyDate"]), mods])
        item.setData(0, KEY, ("study", pid, st["StudyInstanceUID"]))
        films = held = 0
        for se in st.get("series", []):
            n, have = int(se.get("films", 0)), int(se.get("in_study", 0))
            films, held = films + n, held + have
            name = se.get("SeriesDescription") or f"series {se.get('SeriesNumber') or ''}"
            child = QTreeWidgetItem(item, [str(name).strip(), "", str(se["Modality"]), str(n),
                                           _mark(have, n)])  # fmt: skip
            child.setData(0, KEY, ("series", pid, st["StudyInstanceUID"], se["SeriesInstanceUID"]))
            _paint(child, have, n)
        item.setText(3, str(films))
        item.setText(4, _mark(held, films))
        _paint(item, held, films)
    tree.expandAll()
    for column in range(len(COLUMNS)):
        tree.resizeColumnToContents(column)


def _day(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 else value


def _mark(have: int, films: int) -> str:
    if films and have >= films:
        return "✓ in study"
    return f"{have} of {films}" if have else "—"


def _paint(item: QTreeWidgetItem, have: int, films: int) -> None:
    if films and have >= films:
        item.setForeground(4, QBrush(PRESENT))
        font = QFont(item.font(4))
        font.setBold(True)
        item.setFont(4, font)


def open_query_dialog(window: WindowHost) -> QueryDialog:
    """Study > Query PACS… (searching works without a study; retrieving needs one)."""
    dialog = QueryDialog(window, window)  # type: ignore[arg-type]
    dialog.open()
    return dialog
