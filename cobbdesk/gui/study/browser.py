"""The study browser dock: filter, completeness tree (:mod:`.study_model`), summary, actions."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStyle,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.store import FilmRecord, PatientOverview
from cobbdesk.core.store.overview import PatientRow
from cobbdesk.gui.study.model import (
    COL_CERVICAL,
    COL_ID,
    COL_LABS,
    COL_LUMBAR,
    COL_MISSING,
    COL_VISIT,
    FILM,
    LEGEND,
    PATIENT,
    VISIT,
    PatientSource,
    StudyModel,
    _Node,
)
from cobbdesk.gui.study.model_async import Loader
from cobbdesk.gui.study.model_text import CHECK_ANGLE
from cobbdesk.gui.study.view_state import Restorer, remember

DEBOUNCE_FROM = 20_000
"""Patients from which the filter waits for a pause in typing (:data:`TYPING_PAUSE_MS`)."""
TYPING_PAUSE_MS = 250
MARGIN = 4
"""Pixels around the browser's contents."""
WIDEST_DATE = "2026-12-31  (day +365)"
"""The widest text of the "Visit" column: the dates show only when the dock has room for it
(shown or hidden by the dock's width, not by which rows are in view)."""


class StudyBrowser(QWidget):
    """Filter box, completeness tree and a summary; double-click a film to open it."""

    filmActivated = Signal(object)  # FilmRecord
    labsRequested = Signal(int)  # visit id
    compareRequested = Signal(int)  # patient id: open admission vs month 3 side by side
    filmChangeRequested = Signal(object, str, str)  # FilmRecord, "region"|"visit"|"facing", value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = StudyModel(self)
        self._restorer: Restorer | None = None  # puts expanded rows back after a refresh
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        layout.addLayout(self._controls())
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.activated.connect(self._activated)
        self.tree.collapsed.connect(self.model.retry)  # a failed read: expanding reads again
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        header = self.tree.header()
        self.tree.setIndentation(self.fontMetrics().horizontalAdvance("M") + 2)  # 12 px at 9 pt
        for column in (COL_CERVICAL, COL_LUMBAR, COL_LABS):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setResizeContentsPrecision(0)  # size from the shown rows: loads no other patient
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        # Study ID and Visit as wide as their texts in view, "Missing" reads whole; the
        # dates ("Visit") show when the dock has room for them (else in the tooltips)
        self.missing_fit = ColumnFit(self.tree, COL_MISSING, fitted=(COL_ID, COL_VISIT),
                                     optional=(COL_VISIT, WIDEST_DATE))  # fmt: skip
        layout.addWidget(self.tree, 1)
        self.summary = QLabel("No study open. Study ▸ New study… or Open study…")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        legend = QLabel(LEGEND)
        legend.setStyleSheet("color: #555")
        layout.addWidget(legend)
        buttons = QHBoxLayout()
        self.labs_button = QPushButton("Enter labs…")
        self.labs_button.setToolTip("Enter the lab values of the selected visit")
        self.labs_button.clicked.connect(self._labs_clicked)
        self.compare_button = QPushButton("Compare visits…")
        self.compare_button.setToolTip("Admission and month 3 of the selected patient side by side")
        self.compare_button.clicked.connect(self._compare_clicked)
        buttons.addWidget(self.labs_button)
        buttons.addWidget(self.compare_button)
        layout.addLayout(buttons)

    def sizeHint(self) -> QSize:
        """Wide enough for every row without the dates (#17): a film row's label two levels
        in (film ids up to 999), the three status marks, and the widest short "Missing" text
        (a patient's bold "no admission", a film's flag); at 1366×768 the film keeps half the
        window beside it and the Measurements dock."""
        hint = super().sizeHint()
        tree, metrics, header = self.tree, self.fontMetrics(), self.tree.header()
        bold = QFont(tree.font())
        bold.setBold(True)
        margin = 2 * (tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
        label = 3 * tree.indentation() + metrics.horizontalAdvance("Cervical #000") + margin
        marks = sum(header.sectionSizeHint(c) for c in (COL_CERVICAL, COL_LUMBAR, COL_LABS))
        missing = margin + max(QFontMetrics(bold).horizontalAdvance("no admission"),
                               metrics.horizontalAdvance(CHECK_ANGLE))  # fmt: skip
        frame = tree.verticalScrollBar().sizeHint().width() + 2 * tree.frameWidth()
        width = label + marks + missing + frame + 2 * MARGIN
        return QSize(max(hint.width(), width), hint.height())

    def _controls(self) -> QVBoxLayout:
        """The filter, and under it the two check boxes (beside it they made the dock wide)."""
        controls, row = QVBoxLayout(), QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by study ID…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._typed)
        self.filter.returnPressed.connect(self._refilter)
        self._typing = QTimer(self)  # a large study refilters once typing pauses
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_PAUSE_MS)
        self._typing.timeout.connect(self._refilter)
        controls.addWidget(self.filter)
        self.incomplete = QCheckBox("Only incomplete")
        self.incomplete.toggled.connect(self._refilter)
        row.addWidget(self.incomplete)
        self.identifiers = QCheckBox("Show identifiers")
        self.identifiers.setToolTip("Show patient names in this list (never in titles or logs)")
        self.identifiers.toggled.connect(self._show_identifiers)
        row.addWidget(self.identifiers)
        row.addStretch(1)
        controls.addLayout(row)
        return controls

    def set_overview(self, overview: list[PatientOverview]) -> None:
        self.model.set_overview(overview)
        self._update_summary()

    def set_rows(self, rows: list[PatientRow], source: PatientSource,
                 loader: Loader | None = None) -> None:  # fmt: skip
        """The flat patient list; each patient's visits and films load when shown (with a
        ``loader``: off the UI thread, see :mod:`~cobbdesk.gui.study.model_async`)."""
        refill = self.model.rowCount() > 0  # the same study refreshed: keep what was open
        state = None
        if refill:
            keep = self._restorer is not None and not self._restorer.done
            state = self._restorer.state if keep else remember(self.tree, self.model)  # type: ignore[union-attr]
        if self._restorer is not None:
            self._restorer.stop()
            self._restorer = None
        self.model.set_rows(rows, source, loader)
        if state is not None:
            self._restorer = Restorer(self.tree, self.model, state)
        self._update_summary()

    def set_completeness(self, complete: dict[int, bool]) -> None:
        """Patient id → complete, when computed after the first paint (see :meth:`set_rows`)."""
        self.model.set_completeness(complete)
        self._update_summary()

    def clear(self) -> None:
        if self._restorer is not None:
            self._restorer.stop()
            self._restorer = None
        self.set_overview([])
        self.summary.setText("No study open. Study ▸ New study… or Open study…")

    def _typed(self, _text: str) -> None:
        """Refilter at once in a study of fewer than :data:`DEBOUNCE_FROM` patients, else
        when typing pauses (each refilter lays out every matching row: ~0.3 s at 100,000)."""
        if self.model.patient_count() < DEBOUNCE_FROM:
            self._refilter()
        else:
            self._typing.start()

    def _refilter(self, *_: object) -> None:
        self._typing.stop()
        self.model.set_filter(self.filter.text(), self.incomplete.isChecked())
        self._update_summary()

    def _show_identifiers(self, on: bool) -> None:
        self.model.show_identifiers = on
        self.filter.setPlaceholderText(
            "Filter by study ID or name…" if on else "Filter by study ID…"
        )
        self._refilter()

    def _update_summary(self) -> None:
        total, incomplete, shown = self.model.counts()
        counted = "checking completeness…" if incomplete is None else f"{incomplete:,} incomplete"
        text = f"{total:,} patient{'s' * (total != 1)} · {counted}"
        self.summary.setText(text + (f" · showing {shown:,}" if shown != total else ""))

    def selected_node(self) -> _Node | None:
        return self.model.node(self.tree.currentIndex())

    def selected_visit_id(self) -> int | None:
        node = self.selected_node()
        while node is not None and node.kind == FILM:
            node = node.parent
        return node.item.visit.id if node is not None and node.kind == VISIT else None

    def selected_patient_id(self) -> int | None:
        node = self.selected_node()
        while node is not None and node.kind != PATIENT:
            node = node.parent
        return node.patient_id if node is not None else None

    def _activated(self, index: QModelIndex) -> None:
        node = self.model.node(index)
        if node is not None and node.kind == FILM:
            self.filmActivated.emit(node.item)

    def film_menu(self, record: FilmRecord) -> QMenu:
        """Change the film's region, visit or facing (each asks for a reason, audited)."""
        menu = QMenu(self)
        for title, what, choices in (
            ("Region", "region", (("Cervical", "cervical"), ("Lumbar", "lumbar"),
                                  ("Unknown", "unknown"))),
            ("Visit", "visit", (("Admission", "admission"), ("Month 3", "month3"),
                                ("Other visit…", ""))),
            ("Facing (anterior towards)", "facing", (("Image left", "left"),
                                                     ("Image right", "right"))),
        ):  # fmt: skip
            sub = menu.addMenu(f"Change {title.lower()}")
            current = _current(record, what)
            for text, value in choices:
                action = sub.addAction(text)
                action.setCheckable(True)
                action.setChecked(bool(value) and value == current)
                action.triggered.connect(
                    lambda _=False, w=what, v=value: self.filmChangeRequested.emit(record, w, v)
                )
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        node = self.model.node(self.tree.indexAt(pos))
        if node is not None and node.kind == FILM:
            self.film_menu(node.item).popup(self.tree.viewport().mapToGlobal(pos))

    def _compare_clicked(self) -> None:
        patient = self.selected_patient_id()
        if patient is not None:
            self.compareRequested.emit(patient)

    def _labs_clicked(self) -> None:
        visit_id = self.selected_visit_id()
        if visit_id is not None:
            self.labsRequested.emit(visit_id)


def _current(record: FilmRecord, what: str) -> str:
    """The film's current region / facing value ("" for the visit, which is a choice)."""
    if what == "region":
        return str(record.region.value)
    if what == "facing":
        return str(record.facing or "")
    return ""


class ColumnFit(QObject):
    """Fits the tree's columns to the rows in view (#17): the ``fitted`` ones exactly to
    their texts (the tree column with its indentation), and the last one as wide as its
    longest text (bold patient rows included) and at least as wide as the room left of it:
    no text is elided.  The ``optional`` column (the browser's dates) is shown only when its
    widest text fits beside the others; else it is hidden (its texts are in the tooltips)
    rather than push the others behind a horizontal scrollbar.

    Refitted, once per event-loop turn, after scrolling, expanding, resizing and any change of
    the model's rows or texts; only the rows in view are measured (~30, whatever the study's
    size).  Header labels are never cut either.
    """

    def __init__(self, tree: QTreeView, column: int, fitted: tuple[int, ...] = (),
                 optional: tuple[int, str] | None = None) -> None:  # fmt: skip
        """``optional``: (column, its widest text)."""
        super().__init__(tree)
        self.tree, self.column, self.fitted, self.optional = tree, column, fitted, optional
        header = tree.header()
        header.setStretchLastSection(False)
        for fixed in (column, *fitted):
            header.setSectionResizeMode(fixed, QHeaderView.ResizeMode.Fixed)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.fit)
        model = tree.model()
        for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved,
                       model.modelReset, model.layoutChanged, tree.expanded, tree.collapsed,
                       tree.verticalScrollBar().valueChanged, header.sectionResized):  # fmt: skip
            signal.connect(self._soon.start)
        tree.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self._soon.start()
        return False

    @property
    def pending(self) -> bool:
        """A refit is due (it runs at the next turn of the event loop)."""
        return self._soon.isActive()

    def needed(self) -> int:
        """Pixels the last column needs: its widest text among the rows in view, or its label."""
        tree, column = self.tree, self.column
        width = tree.header().sectionSizeHint(column)
        index, bottom = tree.indexAt(QPoint(1, 1)), tree.viewport().height()
        while index.isValid() and tree.visualRect(index).top() < bottom:
            width = max(width, tree.sizeHintForIndex(index.siblingAtColumn(column)).width())
            index = tree.indexBelow(index)
        return width

    def _width(self, column: int) -> int:
        """A fitted column's width: its texts in view (QTreeView measures only those at a
        resize precision of 0, indentation included), or its label."""
        return max(self.tree.sizeHintForColumn(column), self.tree.header().sectionSizeHint(column))

    def fit(self) -> None:
        header, room = self.tree.header(), self.tree.viewport().width()
        widths = {column: self._width(column) for column in self.fitted}
        for column, width in widths.items():
            if width != header.sectionSize(column):  # (a hidden one: kept for when shown)
                header.resizeSection(column, width)
        needed = self.needed()
        if self.optional is not None:
            column, widest = self.optional
            others = sum(header.sectionSize(c) for c in range(header.count())
                         if c not in (self.column, column)
                         and not header.isSectionHidden(c))  # fmt: skip
            margin = self.tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin)
            wanted = self.tree.fontMetrics().horizontalAdvance(widest) + 2 * margin + 2
            fits = others + max(wanted, widths.get(column, 0)) + needed <= room
            if fits == header.isSectionHidden(column):
                header.setSectionHidden(column, not fits)
        width = max(needed, room - header.sectionPosition(self.column))
        if width != header.sectionSize(self.column):
            header.resizeSection(self.column, width)
