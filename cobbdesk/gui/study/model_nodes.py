"""The study browser's rows: columns, status marks, patient sources and lazy tree nodes.

A patient row of a lazily filled :class:`~cobbdesk.gui.study.model.StudyModel` is a
:class:`_Node` that knows only its :class:`~cobbdesk.core.store.overview.PatientRow`; its
visits and films are read from a :class:`PatientSource` when first painted or expanded.
Split out of :mod:`cobbdesk.gui.study.model` unchanged (which re-exports these names).
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QPersistentModelIndex

from cobbdesk.core.store import (
    PatientOverview,
    Region,
    Study,
    VisitKind,
    VisitOverview,
)
from cobbdesk.core.store.overview import (
    PatientRow,
    patient_of,
    patient_overview,
)
from cobbdesk.core.store.records import Patient

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
PATIENT, VISIT, FILM, NOTE = range(4)
LOADING = "Loading…"
"""The one child of a patient row whose visits are being read off the UI thread."""
NOT_AVAILABLE = "Not available — "
"""The start of that child's text when the read failed (collapse and expand to retry)."""


def visit_label(visit_overview: VisitOverview) -> str:
    visit = visit_overview.visit
    base = VISIT_LABELS.get(visit.kind, "Other")
    return f"{base} ({visit.label})" if visit.label else base


def region_status(vo: VisitOverview, region: Region) -> str:
    films = vo.films.get(region) or []
    if not films:
        return MISSING
    return MEASURED if any(vo.measured.get(f.id) for f in films) else UNMEASURED


def _holds(po: PatientOverview, visit_id: int | None, film_id: int | None) -> bool:
    if visit_id is not None:
        return any(v.visit.id == visit_id for v in po.visits)
    return any(film_id in v.measured for v in po.visits)


def patient_gaps(po: PatientOverview) -> list[str]:
    """What the patient still lacks: whole visits, then each visit's gaps (from the core)."""
    kinds = {v.visit.kind for v in po.visits}
    gaps = [f"no {VISIT_LABELS[k].lower()} visit" for k in VISIT_LABELS if k not in kinds]
    gaps += [f"{visit_label(v)}: {', '.join(v.missing())}" for v in po.visits if v.missing()]
    return gaps


class PatientSource(Protocol):
    """Where a lazily filled model gets a patient's visits and films (a study, in practice)."""

    def patient(self, patient_id: int) -> PatientOverview | None: ...

    def patient_of(
        self, *, visit_id: int | None = None, film_id: int | None = None
    ) -> int | None: ...


class StudySource:
    """A :class:`PatientSource` reading an open study (one patient's queries per call)."""

    def __init__(self, study: Study) -> None:
        self.study = study

    def patient(self, patient_id: int) -> PatientOverview | None:
        return patient_overview(self.study, patient_id)

    def patient_of(self, *, visit_id: int | None = None, film_id: int | None = None) -> int | None:
        return patient_of(self.study, visit_id=visit_id, film_id=film_id)


class _Node:
    """One row: a patient, a visit or a film (children are created on first use).

    A patient row of a lazily filled model knows only its :class:`PatientRow`; its
    :class:`PatientOverview` (``item``) is loaded from the source when first painted or expanded.
    """

    __slots__ = ("_children", "_item", "failed", "key", "kind", "parent", "pending", "row",
                 "source", "visit")  # fmt: skip

    def __init__(
        self,
        kind: int,
        item: Any,
        parent: _Node | None,
        row: int,
        visit: VisitOverview | None = None,
    ) -> None:
        self.kind, self._item, self.parent, self.row, self.visit = kind, item, parent, row, visit
        self._children: list[_Node] | None = None
        self.key: PatientRow | None = None
        self.source: PatientSource | None = None
        self.pending = False  # its overview is being read off the UI thread
        self.failed: str | None = None  # that read failed: one line, shown as its child

    @property
    def patient_id(self) -> int:
        """The patient's id (a patient row only; known before its visits are read)."""
        return self.key.id if self.key is not None else int(self._item.patient.id)

    @classmethod
    def lazy(cls, key: PatientRow, source: PatientSource | None) -> _Node:
        """A patient row known by ``key``; ``source``: read synchronously when first used,
        None: the model reads it off the UI thread (the row shows a "Loading…" child)."""
        node = cls(PATIENT, None, None, -1)
        node.key, node.source = key, source
        return node

    @property
    def item(self) -> Any:
        if self._item is None and self.source is not None and self.key is not None:
            found = self.source.patient(self.key.id)
            empty = Patient(self.key.id, self.key.study_id, name=self.key.name)
            self._item = found if found is not None else PatientOverview(empty, [])
        return self._item

    @property
    def loaded(self) -> bool:
        return self._item is not None

    @property
    def study_id(self) -> str:
        return self.key.study_id if self.key is not None else str(self._item.patient.study_id)

    @property
    def name(self) -> str:
        return (self.key.name if self.key is not None else self._item.patient.name) or ""

    @property
    def complete(self) -> bool:
        """False while not known yet (the patient stays listed under "Only incomplete")."""
        if self._item is not None or self.key is None:
            return bool(self.item.complete)
        return bool(self.key.complete)

    @property
    def known(self) -> bool:
        return self._item is not None or self.key is None or self.key.complete is not None

    @property
    def children(self) -> list[_Node]:
        if self._children is None:
            self._children = self._make_children()
        return self._children

    @property
    def built(self) -> bool:
        return self._children is not None

    def _make_children(self) -> list[_Node]:
        if self.kind == PATIENT and self._item is None and self.source is None:  # off the UI
            # thread: one child, "Loading…" or why it failed
            return [_Node(NOTE, NOT_AVAILABLE + self.failed if self.failed else LOADING, self, 0)]
        if self.kind == PATIENT:
            return [_Node(VISIT, v, self, i) for i, v in enumerate(self.item.visits)]
        if self.kind == VISIT:
            films = [f for region in Region for f in self.item.films.get(region, [])]
            return [_Node(FILM, f, self, i, self.item) for i, f in enumerate(films)]
        return []
