"""The study browser's tree model: patients → visits → films with completeness columns.

Filled from one :meth:`Study.overview` call.  Visit and film rows are created only when a
patient is expanded, so a 10,000-patient study fills in a few hundred milliseconds (see
``benchmarks/bench_study_browser.py``).  Patients are shown by study ID (a pseudonym); names
appear only when "Show identifiers" is ticked.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QWidget,
)

from cobbdesk.core.measure.formatting import day_text
from cobbdesk.core.store import FilmRecord, PatientOverview, Region, VisitKind, VisitOverview

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Study ID", "Visit", "Cervical", "Lumbar", "Labs", "Missing")
COL_ID, COL_VISIT, COL_CERVICAL, COL_LUMBAR, COL_LABS, COL_MISSING = range(len(COLUMNS))
MEASURED, UNMEASURED, MISSING = "✓", "○", "—"
STATUS_COLOURS = {MEASURED: "#2e7d32", UNMEASURED: "#b26a00", MISSING: "#c62828"}
FLAG_COLOUR = "#b35c00"
STATUS_TIPS = {MEASURED: "measured", UNMEASURED: "film not measured yet", MISSING: "missing"}
VISIT_LABELS = {VisitKind.ADMISSION: "Admission", VisitKind.MONTH3: "Month 3"}
LEGEND = (
    f"<span style='color:{STATUS_COLOURS[MEASURED]}'><b>{MEASURED}</b></span> measured &nbsp; "
    f"<span style='color:{STATUS_COLOURS[UNMEASURED]}'><b>{UNMEASURED}</b></span> film not "
    f"measured &nbsp; <span style='color:{STATUS_COLOURS[MISSING]}'><b>{MISSING}</b></span> missing"
)
_RANK = {MISSING: 0, UNMEASURED: 1, MEASURED: 2}
PATIENT, VISIT, FILM = range(3)


def visit_label(visit_overview: VisitOverview) -> str:
    visit = visit_overview.visit
    base = VISIT_LABELS.get(visit.kind, "Other")
    return f"{base} ({visit.label})" if visit.label else base


def region_status(vo: VisitOverview, region: Region) -> str:
    films = vo.films.get(region) or []
    if not films:
        return MISSING
    return MEASURED if any(vo.measured.get(f.id) for f in films) else UNMEASURED


def patient_gaps(po: PatientOverview) -> list[str]:
    """What the patient still lacks: whole visits, then each visit's gaps (from the core)."""
    kinds = {v.visit.kind for v in po.visits}
    gaps = [f"no {VISIT_LABELS[k].lower()} visit" for k in VISIT_LABELS if k not in kinds]
    gaps += [f"{visit_label(v)}: {', '.join(v.missing())}" for v in po.visits if v.missing()]
    return gaps


class _Node:
    """One row: a patient, a visit or a film (children are created on first use)."""

    __slots__ = ("_children", "item", "kind", "parent", "row", "visit")

    def __init__(
        self,
        kind: int,
        item: Any,
        parent: _Node | None,
        row: int,
        visit: VisitOverview | None = None,
    ) -> None:
        self.kind, self.item, self.parent, self.row, self.visit = kind, item, parent, row, visit
        self._children: list[_Node] | None = None

    @property
    def children(self) -> list[_Node]:
        if self._children is None:
            self._children = self._make_children()
        return self._children

    @property
    def built(self) -> bool:
        return self._children is not None

    def _make_children(self) -> list[_Node]:
        if self.kind == PATIENT:
            return [_Node(VISIT, v, self, i) for i, v in enumerate(self.item.visits)]
        if self.kind == VISIT:
            films = [f for region in Region for f in self.item.films.get(region, [])]
            return [_Node(FILM, f, self, i, self.item) for i, f in enumerate(films)]
        return []


class StudyModel(QAbstractItemModel):
    """Patients (filtered) → visits → films, with completeness columns."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_identifiers = False
        self._all: list[_Node] = []
        self._rows: list[_Node] = []
        self._film_patient: dict[int, _Node] = {}
        self._visit_patient: dict[int, _Node] = {}
        self._exists: dict[int, bool] = {}
        self.film_flags: dict[int, list[str]] = {}  # film id → flags (core.compare.flags)
        self._filter = ("", False)
        self._bold = QFont()
        self._bold.setBold(True)
        self._large = QFont(self._bold)
        self._large.setPointSizeF(self._bold.pointSizeF() * 1.25)

    # --- contents -------------------------------------------------------------------------
    def set_flags(self, flags: dict[int, list[str]]) -> None:
        """Film id → flags (implausible or stale angles, template/region mismatches)."""
        self.beginResetModel()
        self.film_flags = flags
        self.endResetModel()

    def set_overview(self, overview: list[PatientOverview]) -> None:
        self._all = [_Node(PATIENT, p, None, -1) for p in overview]
        self._visit_patient = {v.visit.id: n for n in self._all for v in n.item.visits}
        self._film_patient = {
            fid: n for n in self._all for v in n.item.visits for fid in v.measured
        }
        self._exists = {}
        self.set_filter(*self._filter)

    def set_filter(self, text: str, incomplete_only: bool) -> None:
        self._filter = (text, incomplete_only)
        needle = text.strip().lower()
        self.beginResetModel()
        for node in self._rows:
            node.row = -1
        self._rows = [
            n
            for n in self._all
            if (not incomplete_only or not n.item.complete) and self._matches(n.item, needle)
        ]
        for row, node in enumerate(self._rows):
            node.row = row
        self.endResetModel()

    def _matches(self, po: PatientOverview, needle: str) -> bool:
        if not needle or needle in po.patient.study_id.lower():
            return True
        name = po.patient.name or ""
        return self.show_identifiers and needle in name.lower()

    def visit(self, visit_id: int) -> tuple[PatientOverview, VisitOverview] | None:
        node = self._visit_patient.get(visit_id)
        if node is None:
            return None
        return node.item, next(v for v in node.item.visits if v.visit.id == visit_id)

    def counts(self) -> tuple[int, int, int]:
        """(patients, incomplete patients, patients shown)."""
        incomplete = sum(1 for n in self._all if not n.item.complete)
        return len(self._all), incomplete, len(self._rows)

    def set_measured(self, film_id: int, count: int) -> None:
        node = self._film_patient.get(film_id)
        if node is not None:
            for vo in node.item.visits:
                if film_id in vo.measured:
                    vo.measured[film_id] = count
            self._changed(node)

    def set_labs(self, visit_id: int, count: int) -> None:
        node = self._visit_patient.get(visit_id)
        if node is not None:
            for vo in node.item.visits:
                if vo.visit.id == visit_id:
                    vo.labs = count
            self._changed(node)

    def replace_film(self, record: FilmRecord) -> None:
        """After a relink: the film's new path (and a fresh existence check)."""
        node = self._film_patient.get(record.id)
        if node is None:
            return
        for vo in node.item.visits:
            for films in vo.films.values():
                films[:] = [record if f.id == record.id else f for f in films]
        for visit in node.children:
            visit._children = None
        self._exists.pop(record.id, None)
        self.beginResetModel()  # film nodes were rebuilt
        self.endResetModel()

    def _changed(self, node: _Node) -> None:
        if node.row < 0:
            return
        todo = [node]
        while todo:
            current = todo.pop()
            first = self.createIndex(current.row, 0, current)
            self.dataChanged.emit(first, self.createIndex(current.row, len(COLUMNS) - 1, current))
            if current.built:
                todo.extend(current.children)

    # --- QAbstractItemModel ---------------------------------------------------------------
    def node(self, index: Index) -> _Node | None:
        return index.internalPointer() if index.isValid() else None

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        siblings = self._rows if not parent.isValid() else parent.internalPointer().children
        if not (0 <= row < len(siblings) and 0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, siblings[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        node = self.node(index)
        if node is None or node.parent is None or node.parent.row < 0:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._rows)
        if parent.column() > 0:
            return 0
        return len(parent.internalPointer().children)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        node = self.node(parent)
        if node is None:
            return bool(self._rows)
        if parent.column() > 0 or node.kind == FILM:
            return False
        return bool(node.item.visits if node.kind == PATIENT else node.item.films)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(node, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node, column)
        return self._style(node, column, role)

    def _style(self, node: _Node, column: int, role: int) -> Any:
        status = COL_CERVICAL <= column <= COL_LABS
        if role == Qt.ItemDataRole.ForegroundRole:
            if node.kind == FILM and column == COL_MISSING and self.film_flags.get(node.item.id):
                return QColor(FLAG_COLOUR)
            text = self._text(node, column)
            colour = STATUS_COLOURS.get("✓" if text == "complete" else text)
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.FontRole and (node.kind == PATIENT or status):
            return self._large if status else self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and status:
            return Qt.AlignmentFlag.AlignCenter
        return None

    # --- texts ------------------------------------------------------------------------------
    def _text(self, node: _Node, column: int) -> str:
        if node.kind == PATIENT:
            return self._patient_text(node.item, column)
        if node.kind == VISIT:
            return self._visit_text(node, column)
        return self._film_text(node, column)

    def _patient_text(self, po: PatientOverview, column: int) -> str:
        if column == COL_ID:
            name = po.patient.name if self.show_identifiers and po.patient.name else ""
            return f"{po.patient.study_id}  ({name})" if name else po.patient.study_id
        if column == COL_VISIT:
            return f"{len(po.visits)} visit{'s' * (len(po.visits) != 1)}"
        if column in (COL_CERVICAL, COL_LUMBAR):
            region = Region.CERVICAL if column == COL_CERVICAL else Region.LUMBAR
            marks = [region_status(v, region) for v in po.visits] or [MISSING]
            return min(marks, key=_RANK.__getitem__)
        if column == COL_LABS:
            return MEASURED if po.visits and all(v.labs for v in po.visits) else MISSING
        return "; ".join(patient_gaps(po)) if not po.complete else "complete"

    def _visit_text(self, node: _Node, column: int) -> str:
        vo: VisitOverview = node.item
        if column == COL_ID:
            return visit_label(vo)
        if column == COL_VISIT:
            return self._visit_date(node)
        if column in (COL_CERVICAL, COL_LUMBAR):
            return region_status(vo, Region.CERVICAL if column == COL_CERVICAL else Region.LUMBAR)
        if column == COL_LABS:
            return MEASURED if vo.labs else MISSING
        return ", ".join(vo.missing())

    @staticmethod
    def _visit_date(node: _Node) -> str:
        visit = node.item.visit
        if not visit.visit_date:
            return "no date"
        assert node.parent is not None
        admission = next(
            (
                v.visit.visit_date
                for v in node.parent.item.visits
                if v.visit.kind is VisitKind.ADMISSION and v.visit.visit_date
            ),
            None,
        )
        if admission is None or visit.kind is VisitKind.ADMISSION:
            return visit.visit_date  # type: ignore[no-any-return]
        days = (date.fromisoformat(visit.visit_date) - date.fromisoformat(admission)).days
        return f"{visit.visit_date}  ({day_text(days)})"

    def _film_text(self, node: _Node, column: int) -> str:
        film: FilmRecord = node.item
        count = node.visit.measured.get(film.id, 0) if node.visit else 0
        if column == COL_ID:
            return f"{film.region.value.capitalize()} #{film.id}"
        if column == COL_VISIT:
            return film.study_date or ""
        if column == (COL_CERVICAL if film.region is Region.CERVICAL else COL_LUMBAR):
            return MEASURED if count else UNMEASURED
        if column != COL_MISSING:
            return ""
        gaps = [] if self.file_exists(film) else ["file not found — double-click to relink"]
        if film.region is Region.UNKNOWN:
            gaps.append("region not set")
        gaps += [f"\u26a0 {flag}" for flag in self.film_flags.get(film.id, [])]
        return ", ".join(gaps + ([] if count else ["not measured"]))

    def file_exists(self, film: FilmRecord) -> bool:
        """Checked lazily (only for film rows that are shown) and cached."""
        if film.id not in self._exists:
            self._exists[film.id] = Path(film.path).is_file()
        return self._exists[film.id]

    def _tooltip(self, node: _Node, column: int) -> str | None:
        text = self._text(node, column)
        if text in STATUS_TIPS:
            return f"{COLUMNS[column]}: {STATUS_TIPS[text]}"
        if node.kind == FILM and column == COL_ID:
            shown = node.item.path if self.show_identifiers else Path(node.item.path).suffix
            return f"Double-click to open ({shown or 'file'})"
        return text if column == COL_MISSING and text else None
