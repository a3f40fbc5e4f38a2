"""A patient's visits and films read off the UI thread for the study browser (#15).

A mixin of :class:`~cobbdesk.gui.study.model.StudyModel`.  With a *loader* (the session's
reads worker, :meth:`~cobbdesk.gui.study.reads.StudyReads._read_patient`) a patient row that
is painted or expanded for the first time asks for its
:class:`~cobbdesk.core.store.PatientOverview`; meanwhile its one child says "Loading…".  The
answer comes back on the UI thread: the child is removed and the visits inserted
(``beginInsertRows``), or the child says "Not available — <one line>"; collapsing the row
forgets the failure, so expanding it again reads again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex

from cobbdesk.core.store import PatientOverview
from cobbdesk.core.store.records import Patient
from cobbdesk.gui.study.model_nodes import PATIENT, Index, _Node

Arrived = Callable[[PatientOverview | str | None], None]
"""The overview (None: the patient is gone) or the failure's one line, on the UI thread."""
Loader = Callable[[int, Arrived], None]
"""``loader(patient_id, arrived)``: read the patient off the UI thread, then ``arrived``."""


class AsyncPatients:
    """Patient rows filled off the UI thread (see the module)."""

    _loader: Loader | None
    _by_id: dict[int, _Node]

    if TYPE_CHECKING:  # provided by QAbstractItemModel and StudyModel

        def createIndex(self, row: int, column: int, ptr: Any = ...) -> QModelIndex: ...
        def beginRemoveRows(self, parent: Index, first: int, last: int) -> None: ...
        def endRemoveRows(self) -> None: ...
        def beginInsertRows(self, parent: Index, first: int, last: int) -> None: ...
        def endInsertRows(self) -> None: ...
        def _changed(self, node: _Node) -> None: ...

    def _wanted(self, node: _Node) -> bool:
        """A patient row read off the UI thread that is not read, being read or failed."""
        return (self._loader is not None and node.kind == PATIENT and not node.loaded
                and not node.pending and node.failed is None)  # fmt: skip

    def reads_later(self, node: _Node) -> bool:
        """A patient row whose visits are still to arrive from the loader (not read, or being
        read; a failed read is final until collapsed)."""
        return (self._loader is not None and node.kind == PATIENT and not node.loaded
                and node.failed is None)  # fmt: skip

    def request(self, node: _Node) -> None:
        """Ask the loader for the patient's visits and films (once; nothing when not wanted)."""
        if not self._wanted(node) or node.key is None or self._loader is None:
            return
        node.pending = True
        self._loader(node.key.id, lambda found: self._arrived(node, found))

    def retry(self, index: Index) -> None:
        """The row was collapsed: forget a failed read, so expanding it reads again."""
        node = index.internalPointer() if index.isValid() else None
        if node is None or node.failed is None:
            return
        node.failed = None
        self._replace_children(node, lambda: None)

    def _visible(self, node: _Node) -> bool:
        return self._by_id.get(node.patient_id) is node and node.row >= 0

    def _arrived(self, node: _Node, found: PatientOverview | str | None) -> None:
        """UI thread: the read's answer replaces the row's "Loading…" child."""
        node.pending = False
        if node.loaded or self._by_id.get(node.patient_id) is not node:
            return  # read meanwhile (synchronously) or the list was refilled
        if isinstance(found, str):
            self._replace_children(node, lambda: setattr(node, "failed", found))
            return
        key = node.key
        assert key is not None
        overview = found or PatientOverview(Patient(key.id, key.study_id, name=key.name), [])
        self._replace_children(node, lambda: setattr(node, "_item", overview))

    def _replace_children(self, node: _Node, change: Callable[[], None]) -> None:
        """``change`` the node, then put its new children in place of the old ones: inserted
        after them first, then the old removed (an expanded row never runs out of children,
        so the view keeps it expanded)."""
        if not node.built or not self._visible(node):  # no child rows in the view: no
            change()  # insertion (which lays out every patient row again), its texts repainted
            node._children = None
            if self._visible(node):
                self._changed(node)
            return
        parent, old = self.createIndex(node.row, 0, node), node.children
        change()
        new = node._make_children()
        if new:
            for i, child in enumerate(new):
                child.row = len(old) + i
            self.beginInsertRows(parent, len(old), len(old) + len(new) - 1)
            node._children = old + new
            self.endInsertRows()
        self.beginRemoveRows(parent, 0, len(old) - 1)
        node._children = new
        for i, child in enumerate(new):
            child.row = i
        self.endRemoveRows()
        self._changed(node)


__all__ = ["Arrived", "AsyncPatients", "Loader"]
