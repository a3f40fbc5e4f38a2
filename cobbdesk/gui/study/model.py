"""The study browser's tree model: patients → visits → films with completeness columns.

Filled lazily from :func:`~cobbdesk.core.store.overview.patient_rows` (one flat list with each
patient's completeness): a patient's visits and films are queried only when its row is painted
or expanded, so a 100,000-patient study opens in well under a second (see
``benchmarks/bench_study_browser.py``); filters run on the flat list.  Patients are shown by
study ID (a pseudonym); names appear only when "Show identifiers" is ticked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QWidget

from cobbdesk.core.store import FilmRecord, PatientOverview, VisitOverview
from cobbdesk.core.store.overview import PatientRow, collector_paused
from cobbdesk.gui.study.model_async import AsyncPatients, Loader
from cobbdesk.gui.study.model_nodes import (  # re-exported: the browser and tests import them here
    CHUNK,
    COL_CERVICAL,
    COL_ID,
    COL_LABS,
    COL_LUMBAR,
    COL_MISSING,
    COL_VISIT,
    COLUMNS,
    FILM,
    FLAG_COLOUR,
    LEGEND,
    LOADING,
    MEASURED,
    MISSING,
    NEAR_END,
    NOT_AVAILABLE,
    NOTE,
    PATIENT,
    STATUS_COLOURS,
    STATUS_TIPS,
    UNMEASURED,
    VISIT,
    VISIT_LABELS,
    Index,
    PatientSource,
    StudySource,
    _holds,
    _Node,
    patient_gaps,
    region_status,
    visit_label,
)
from cobbdesk.gui.study.model_text import ModelTexts

__all__ = [
    "CHUNK", "COLUMNS", "COL_CERVICAL", "COL_ID", "COL_LABS", "COL_LUMBAR", "COL_MISSING",
    "COL_VISIT", "FILM", "FLAG_COLOUR", "LEGEND", "LOADING", "MEASURED", "MISSING", "NEAR_END",
    "NOTE", "NOT_AVAILABLE", "PATIENT",
    "STATUS_COLOURS", "STATUS_TIPS", "UNMEASURED", "VISIT", "VISIT_LABELS", "Index",
    "PatientSource", "StudyModel", "StudySource", "patient_gaps", "region_status", "visit_label",
]  # fmt: skip


class StudyModel(ModelTexts, AsyncPatients, QAbstractItemModel):
    """Patients (filtered) → visits → films, with completeness columns.

    Filled either with every :class:`PatientOverview` (:meth:`set_overview`) or lazily
    (:meth:`set_rows`): a flat list of :class:`PatientRow` whose visits and films are loaded
    from a :class:`PatientSource` only for the patients painted or expanded.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_identifiers = False
        self._all: list[_Node] = []
        self._rows: list[_Node] = []
        self._shown = 0  # rows of _rows handed to the view (fetchMore adds CHUNK at a time)
        self._painted = -1  # the last top-level row the view asked to paint
        self._chunked = False
        self._by_id: dict[int, _Node] = {}
        self._source: PatientSource | None = None
        self._loader: Loader | None = None
        self._exists: dict[int, bool] = {}
        self.film_flags: dict[int, list[str]] = {}  # film id → flags (core.compare.flags)
        self._filter = ("", False)
        self._bold = QFont()
        self._bold.setBold(True)
        self._large = QFont(self._bold)
        self._large.setPointSizeF(self._bold.pointSizeF() * 1.25)

    # --- contents -------------------------------------------------------------------------
    def set_flags(self, flags: dict[int, list[str]]) -> None:
        """Film id → flags (implausible or stale angles, template/region mismatches), in
        place: only the shown film rows whose flags changed are repainted (``dataChanged``),
        so expanded rows, the selection and the scroll position stay as they are."""
        old, self.film_flags = self.film_flags, flags
        changed = {k for k in old.keys() | flags.keys() if old.get(k) != flags.get(k)}
        for film in _film_rows(self.shown_patients()) if changed else ():
            if film.item.id in changed:
                cell = self.createIndex(film.row, COL_MISSING, film)
                self.dataChanged.emit(cell, cell)

    def set_overview(self, overview: list[PatientOverview]) -> None:
        """Every patient with its visits and films already loaded."""
        self._source, self._loader, self._chunked = None, None, False
        self._fill([_Node(PATIENT, p, None, -1) for p in overview])

    def set_rows(self, rows: list[PatientRow], source: PatientSource,
                 loader: Loader | None = None) -> None:  # fmt: skip
        """The flat patient list; visits and films come from ``source`` on first use, or,
        with a ``loader``, off the UI thread (:mod:`~cobbdesk.gui.study.model_async`)."""
        self._source, self._loader, self._chunked = source, loader, True
        lazy = source if loader is None else None
        with collector_paused():  # 100,000 nodes: no full GC pass can free anything meanwhile
            self._fill([_Node.lazy(row, lazy) for row in rows])

    def _fill(self, nodes: list[_Node]) -> None:
        self._all = nodes
        self._by_id = {(n.key.id if n.key is not None else n.item.patient.id): n for n in self._all}
        self._exists = {}
        self.set_filter(*self._filter)

    def set_filter(self, text: str, incomplete_only: bool) -> None:
        self._filter = (text, incomplete_only)
        needle = text.strip().lower()
        names = self.show_identifiers and bool(needle)
        self.beginResetModel()
        for node in self._rows:
            node.row = -1
        self._rows = [
            n
            for n in self._all
            if (not incomplete_only or not n.complete)
            and (not needle or needle in n.study_id.lower() or (names and needle in n.name.lower()))
        ]
        for row, node in enumerate(self._rows):
            node.row = row
        self._shown = min(len(self._rows), CHUNK) if self._chunked else len(self._rows)
        self._painted = -1
        self.endResetModel()

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        """More patients than the view holds, and it has painted one of its last rows.

        A lazily filled model hands the view :data:`CHUNK` rows at a time, so its first layout
        and paint do not grow with the study.  Qt also asks before its first layout (when
        every row seems to fit), which would hand it every chunk at once: hence the painted
        rows; :meth:`data` asks for the next chunk when one of the last rows is painted.
        """
        if parent.isValid():  # a patient row read off the UI thread, expanded
            node = self.node(parent)
            return node is not None and parent.column() == 0 and self._wanted(node)
        return self._shown < len(self._rows) and self._painted >= self._shown - NEAR_END

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        """The next :data:`CHUNK` patients when :meth:`canFetchMore`; for an expanded
        patient row, its visits (off the UI thread)."""
        node = self.node(parent)
        if node is not None:
            self.request(node)
        elif self.canFetchMore(parent):
            self.load_more()

    def load_more(self) -> None:
        """Hand the view the next :data:`CHUNK` patients (none left: nothing happens)."""
        count = min(CHUNK, len(self._rows) - self._shown)
        if count <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._shown, self._shown + count - 1)
        self._shown += count
        self.endInsertRows()

    def _patient_node(
        self, *, visit_id: int | None = None, film_id: int | None = None, query: bool = True
    ) -> _Node | None:
        """The patient row holding the visit or film (``query``: also an unread one, asking
        the source on the UI thread)."""
        for node in self._all:  # loaded patients first: no query
            if node.loaded and _holds(node.item, visit_id, film_id):
                return node
        if self._source is None or not (query or self._loader is None):
            return None
        patient_id = self._source.patient_of(visit_id=visit_id, film_id=film_id)
        return self._by_id.get(patient_id) if patient_id is not None else None

    def shown_patients(self) -> list[_Node]:
        """The patient rows handed to the view."""
        return self._rows[: self._shown]

    def patient_row(self, patient_id: int) -> _Node | None:
        """The patient's row when it is handed to the view (None: filtered out, not in the
        chunks shown yet, or gone)."""
        node = self._by_id.get(patient_id)
        return node if node is not None and 0 <= node.row < self._shown else None

    def visit(self, visit_id: int) -> tuple[PatientOverview, VisitOverview] | None:
        node = self._patient_node(visit_id=visit_id)
        if node is None:
            return None
        if not node.loaded and self._source is not None:  # read now, on the UI thread
            self._arrived(node, self._source.patient(node.patient_id))
        found = next((v for v in node.item.visits if v.visit.id == visit_id), None)
        return (node.item, found) if found is not None else None

    def counts(self) -> tuple[int, int | None, int]:
        """(patients, incomplete patients or None while not known yet, patients shown)."""
        if not all(n.known for n in self._all):
            return len(self._all), None, len(self._rows)
        incomplete = sum(1 for n in self._all if not n.complete)
        return len(self._all), incomplete, len(self._rows)

    def set_completeness(self, complete: dict[int, bool]) -> None:
        """Patient id → complete, computed after the first paint (refilters if needed)."""
        for node in self._all:
            if node.key is not None and node.key.id in complete:
                node.key = node.key._replace(complete=complete[node.key.id])
        if self._filter[1]:
            self.set_filter(*self._filter)

    def set_measured(self, film_id: int, count: int) -> None:
        node = self._patient_node(film_id=film_id, query=False)
        if node is not None:
            for vo in node.item.visits:
                if film_id in vo.measured:
                    vo.measured[film_id] = count
            self._changed(node)

    def set_labs(self, visit_id: int, count: int) -> None:
        node = self._patient_node(visit_id=visit_id, query=False)
        if node is not None:
            for vo in node.item.visits:
                if vo.visit.id == visit_id:
                    vo.labs = count
            self._changed(node)

    def replace_film(self, record: FilmRecord) -> None:
        """After a relink: the film's new path (and a fresh existence check), in place."""
        node = self._patient_node(film_id=record.id, query=False)
        if node is None:
            return
        for vo in node.item.visits:
            for films in vo.films.values():
                films[:] = [record if f.id == record.id else f for f in films]
        for film in _film_rows([node]):  # in place: expanded rows and the selection stay
            if film.item.id == record.id:
                film._item = record
        self._exists.pop(record.id, None)
        self._changed(node)

    def _changed(self, node: _Node) -> None:
        if node.row < 0 or (node.parent is None and node.row >= self._shown):
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
        if not parent.isValid():
            siblings, count = self._rows, self._shown
        else:
            siblings = parent.internalPointer().children
            count = len(siblings)
        if not (0 <= row < count and 0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, siblings[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        node = self.node(index)
        if node is None or node.parent is None or node.parent.row < 0:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return self._shown
        if parent.column() > 0:
            return 0
        return len(parent.internalPointer().children)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        node = self.node(parent)
        if node is None:
            return bool(self._shown)
        if parent.column() > 0 or node.kind in (FILM, NOTE):
            return False
        if node.kind == PATIENT and not node.loaded:
            return True  # expanding loads the visits (a patient without visits shows none)
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
        if node.parent is None and node.row > self._painted:
            self._painted = node.row
            if self.canFetchMore():
                QTimer.singleShot(0, self.fetchMore)
        if self._loader is not None and node.kind == PATIENT and not node.loaded:
            self.request(node)  # painted: read its visits off the UI thread
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


def _film_rows(patients: list[_Node]) -> Iterator[_Node]:
    """The film rows built under ``patients`` (rows never expanded have none)."""
    for node in patients:
        for visit in node.children if node.built and node.loaded else ():
            yield from (f for f in visit.children if f.kind == FILM) if visit.built else ()
