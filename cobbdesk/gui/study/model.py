"""The study browser's tree model: patients → visits → films with completeness columns.

Filled lazily from :func:`~cobbdesk.core.store.overview.patient_list` (one light flat list:
id, study ID, completeness): every patient row is reported to the view at once (End goes to
the last patient, the scrollbar spans the whole study), while a patient's visits and films are
queried only when its row is painted or expanded, so a 100,000-patient study opens in under a
second (see ``benchmarks/bench_study_browser.py``; the view must use uniform row heights);
filters run on the flat list.  Patients are shown by study ID (a pseudonym), in natural order
(:func:`~cobbdesk.core.store.ordering.study_id_key`); names appear only when "Show identifiers"
is ticked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QWidget

from cobbdesk.core.store import FilmRecord, PatientOverview, VisitOverview
from cobbdesk.core.store.overview import PatientRow, collector_paused
from cobbdesk.gui.study.model_async import AsyncPatients, Loader
from cobbdesk.gui.study.model_nodes import (  # re-exported: the browser and tests import them here
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
    "COLUMNS", "COL_CERVICAL", "COL_ID", "COL_LABS", "COL_LUMBAR", "COL_MISSING",
    "COL_VISIT", "FILM", "FLAG_COLOUR", "LEGEND", "LOADING", "MEASURED", "MISSING",
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
        self._by_id: dict[int, _Node] = {}
        self._source: PatientSource | None = None
        self._loader: Loader | None = None
        self._exists: dict[int, bool] = {}
        self.film_flags: dict[int, list[str]] = {}  # film id → flags (core.compare.flags)
        self._filter = ("", False)
        self._haystack: list[str] | None = None  # lower-case study IDs of _all, on first filter
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
        self._source, self._loader = None, None
        self._fill([_Node(PATIENT, p, None, -1) for p in overview])

    def set_rows(self, rows: list[PatientRow], source: PatientSource,
                 loader: Loader | None = None) -> None:  # fmt: skip
        """The flat patient list; visits and films come from ``source`` on first use, or,
        with a ``loader``, off the UI thread (:mod:`~cobbdesk.gui.study.model_async`)."""
        self._source, self._loader = source, loader
        lazy = source if loader is None else None
        with collector_paused():  # 100,000 nodes: no full GC pass can free anything meanwhile
            self._fill([_Node.lazy(row, lazy) for row in rows])

    def _fill(self, nodes: list[_Node]) -> None:
        self._all = nodes
        self._by_id = {n.patient_id: n for n in self._all}
        self._exists = {}
        self._haystack = None
        self.set_filter(*self._filter)

    def set_filter(self, text: str, incomplete_only: bool) -> None:
        """Show the patients whose study ID (or, with identifiers shown, name) contains
        ``text`` (case-insensitive), only the incomplete ones if asked (a model reset)."""
        self._filter = (text, incomplete_only)
        needle = text.strip().lower()
        self.beginResetModel()
        for node in self._rows:
            node.row = -1
        self._rows = self._matching(needle, incomplete_only)
        for row, node in enumerate(self._rows):
            node.row = row
        self.endResetModel()

    def _matching(self, needle: str, incomplete_only: bool) -> list[_Node]:
        if not needle:
            return [n for n in self._all if not n.complete] if incomplete_only else self._all[:]
        if self._haystack is None:  # once per fill: typing does not lower-case 100,000 IDs
            self._haystack = [n.study_id.lower() for n in self._all]
        names = self.show_identifiers
        return [n for n, sid in zip(self._all, self._haystack, strict=True)
                if (needle in sid or (names and needle in n.name.lower()))
                and (not incomplete_only or not n.complete)]  # fmt: skip

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        """An expanded patient row whose visits are still to be read off the UI thread (every
        patient row is reported at once: the top level never has more to fetch)."""
        node = self.node(parent)
        return node is not None and parent.column() == 0 and self._wanted(node)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        """Read the expanded patient's visits (off the UI thread)."""
        node = self.node(parent)
        if node is not None:
            self.request(node)

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
        """The patient rows shown (those the filter keeps)."""
        return self._rows

    def patient_row(self, patient_id: int) -> _Node | None:
        """The patient's row when it is shown (None: filtered out or gone)."""
        node = self._by_id.get(patient_id)
        return node if node is not None and node.row >= 0 else None

    def visit(self, visit_id: int) -> tuple[PatientOverview, VisitOverview] | None:
        node = self._patient_node(visit_id=visit_id)
        if node is None:
            return None
        if not node.loaded and self._source is not None:  # read now, on the UI thread
            self._arrived(node, self._source.patient(node.patient_id))
        found = next((v for v in node.item.visits if v.visit.id == visit_id), None)
        return (node.item, found) if found is not None else None

    def patient_count(self) -> int:
        """Every patient of the list, shown or filtered out."""
        return len(self._all)

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
        """Called by the view's layout for every patient row (100,000 times at 100,000
        patients, as :meth:`hasChildren`): kept to the fewest Python operations."""
        node = parent.internalPointer()  # None for the root
        siblings = self._rows if node is None else node.children
        if 0 <= row < len(siblings) and 0 <= column < _COLUMN_COUNT:
            return self.createIndex(row, column, siblings[row])
        return QModelIndex()

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
        node = parent.internalPointer()  # None for the root
        if node is None:
            return bool(self._rows)
        if node._item is None:  # a patient not read yet: expanding reads its visits
            return parent.column() == 0  # (a patient without visits then shows none)
        if parent.column() > 0 or node.kind in (FILM, NOTE):
            return False
        return bool(node.item.visits if node.kind == PATIENT else node.item.films)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return _COLUMN_COUNT

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


_COLUMN_COUNT = len(COLUMNS)


def _film_rows(patients: list[_Node]) -> Iterator[_Node]:
    """The film rows built under ``patients`` (rows never expanded have none)."""
    for node in patients:
        for visit in node.children if node.built and node.loaded else ():
            yield from (f for f in visit.children if f.kind == FILM) if visit.built else ()
