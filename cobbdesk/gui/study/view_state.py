"""The study browser's expanded rows, selection and scroll position kept across a refill.

Refreshing the browser (another rater's change seen by the audit-head poll, a film moved to
another visit, an import) refills the model with a new patient list: a model reset, which
collapses every row and loses the selection.  :func:`remember` notes what was expanded and
selected, by database id (patient, visit, film); :class:`Restorer` expands the same rows again
once the new list is painted.  A patient's visits are read off the UI thread after it is
expanded (:mod:`~cobbdesk.gui.study.model_async`), so its visits and the selected film are
restored when they arrive (the model's ``rowsInserted``).  Rows gone since are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QModelIndex, QObject, QTimer
from PySide6.QtWidgets import QTreeView

from cobbdesk.gui.study.model import FILM, PATIENT, VISIT, StudyModel, _Node

Key = tuple[int, int]
"""(row kind, database id): (PATIENT, patient id), (VISIT, visit id) or (FILM, film id)."""


def key_of(node: _Node | None) -> Key | None:
    if node is None:
        return None
    if node.kind == PATIENT:
        return PATIENT, node.patient_id
    if node.kind == VISIT:
        return VISIT, int(node.item.visit.id)
    if node.kind == FILM:
        return FILM, int(node.item.id)
    return None


@dataclass
class ViewState:
    """What the user had open: ``expanded`` rows, the ``current`` row and the ``scroll``."""

    expanded: set[Key] = field(default_factory=set)
    current: Key | None = None
    scroll: int = 0


def remember(tree: QTreeView, model: StudyModel) -> ViewState:
    """The tree's expanded rows (only patients whose children were built can be expanded),
    current row and vertical scroll position."""
    state = ViewState(current=key_of(model.node(tree.currentIndex())),
                      scroll=tree.verticalScrollBar().value())  # fmt: skip
    for node in model.shown_patients():
        if not node.built:
            continue
        index = model.createIndex(node.row, 0, node)
        if not tree.isExpanded(index):
            continue
        state.expanded.add((PATIENT, node.patient_id))
        for visit in node.children:
            if visit.kind == VISIT and tree.isExpanded(model.createIndex(visit.row, 0, visit)):
                state.expanded.add((VISIT, int(visit.item.visit.id)))
    return state


class Restorer(QObject):
    """Puts a :class:`ViewState` back on a refilled tree, as its patients' visits arrive."""

    def __init__(self, tree: QTreeView, model: StudyModel, state: ViewState) -> None:
        super().__init__(tree)
        self.tree, self.model, self.state = tree, model, state
        self._waiting: set[int] = set()  # patients expanded again, visits not read yet
        self._stopped = False
        model.rowsInserted.connect(self._inserted)
        model.dataChanged.connect(self._read)
        self._restore_patients()
        QTimer.singleShot(0, self, self._scroll)

    @property
    def done(self) -> bool:
        return not self._waiting

    def stop(self) -> None:
        """Stop restoring (done, or the tree is refilled or cleared again); once."""
        self._waiting.clear()
        if not self._stopped:
            self._stopped = True
            self.model.rowsInserted.disconnect(self._inserted)
            self.model.dataChanged.disconnect(self._read)
            self.deleteLater()

    def _restore_patients(self) -> None:
        for kind, patient_id in self.state.expanded:
            node = self.model.patient_row(patient_id) if kind == PATIENT else None
            if node is None:
                continue
            self._waiting.add(patient_id)
            if self.model.reads_later(node):  # expanded once its visits are in: inserting
                self.model.request(node)  # them under an expanded row would lay out every
            else:  # patient row again (~0.2 s at 100,000 patients)
                self._expand(node)
        if self.state.current is not None and self.state.current[0] == PATIENT:
            node = self.model.patient_row(self.state.current[1])
            if node is not None:
                self.tree.setCurrentIndex(self.model.createIndex(node.row, 0, node))
        if not self._waiting:
            self.stop()

    def _expand(self, patient: _Node) -> None:
        self.tree.expand(self.model.createIndex(patient.row, 0, patient))
        if patient.loaded:
            self._restore_below(patient)

    def _read(self, first: QModelIndex, _last: QModelIndex) -> None:
        """A patient row's visits arrived (or its read failed): expand it now."""
        node = self.model.node(first)
        if self._stopped or node is None or node.kind != PATIENT or node.row < 0:
            return
        if node.patient_id not in self._waiting or self.model.reads_later(node):
            return
        if not self.tree.isExpanded(self.model.createIndex(node.row, 0, node)):
            self._expand(node)

    def _inserted(self, parent: QModelIndex, _first: int, _last: int) -> None:
        if self._stopped:
            return
        node = self.model.node(parent)
        if node is not None and node.kind == PATIENT and node.loaded:
            QTimer.singleShot(0, self, lambda: self._restore_below(node))  # after the removal

    def _restore_below(self, patient: _Node) -> None:
        """The patient's visits arrived: expand the remembered ones, select the film."""
        if self._stopped or patient.patient_id not in self._waiting or patient.row < 0:
            return
        self._waiting.discard(patient.patient_id)
        for visit in patient.children:
            if key_of(visit) == self.state.current:
                self._select(visit)
            if visit.kind == VISIT and key_of(visit) in self.state.expanded:
                self.tree.expand(self.model.createIndex(visit.row, 0, visit))
                for film in visit.children:
                    if key_of(film) == self.state.current:
                        self._select(film)
        scroll_to(self.tree, self.state.scroll)
        if not self._waiting:
            self.stop()

    def _select(self, node: _Node) -> None:
        self.tree.setCurrentIndex(self.model.createIndex(node.row, 0, node))

    def _scroll(self) -> None:
        if not self._stopped:
            scroll_to(self.tree, self.state.scroll)


def scroll_to(tree: QTreeView, value: int) -> None:
    """The tree's vertical scroll position, after laying out the rows just expanded.

    Only a pending layout is run (``executeDelayedItemsLayout``): a forced ``doItemsLayout``
    laid out every patient row again for each restored patient (~0.2 s each at 100,000).
    """
    tree.executeDelayedItemsLayout()
    bar = tree.verticalScrollBar()
    bar.setValue(min(value, bar.maximum()))
