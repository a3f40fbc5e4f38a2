"""The film's facing: the part of :class:`~cobbdesk.core.measure.session.MeasurementSession`
that stores which way the patient faces and re-labels the measurements' anterior ends.

Each endplate line's anterior end follows the facing
(:func:`~cobbdesk.core.measure.facing.orient_measurement`); changing the facing of a film with
settled measurements needs a reason, like any other change to them.  :func:`suggested_facing`
is what the facing prompt offers first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cobbdesk.core.errors import CobbdeskError, GeometryError
from cobbdesk.core.measure.changes import (
    Change,
    ChangeKind,
    MeasurementStore,
    Outcome,
    one_line,
)
from cobbdesk.core.measure.commands import History, MeasurementSet
from cobbdesk.core.measure.facing import (
    Facing,
    FacingEstimate,
    FacingSource,
    estimate_facing,
    facing_from_orientation,
    orient_measurement,
)
from cobbdesk.core.measure.measurement import CobbMeasurement

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cobbdesk.core.measure.interaction import PlacementStep


class FacingSteps:
    """Mixin of :class:`~cobbdesk.core.measure.session.MeasurementSession` (see module doc)."""

    store: MeasurementStore
    history: History
    facing: Facing | None
    facing_source: FacingSource | None
    pending: CobbMeasurement | None

    if TYPE_CHECKING:

        @property
        def measurements(self) -> MeasurementSet:  # provided by MeasurementSession
            """The session's measurements now."""
            ...

        def finish(self, m: CobbMeasurement, step: PlacementStep | None = None) -> Outcome:
            """Provided by MeasurementSession."""
            ...

        def _reason(self, changes: Sequence[Change]) -> str | None:
            """Provided by MeasurementSession."""
            ...

    def set_facing(self, facing: Facing | str, source: FacingSource | str = FacingSource.USER,
                   reason: str = "") -> Outcome:  # fmt: skip
        """Store the film's facing; re-label existing measurements; finish a pending one."""
        facing, source = Facing(facing), FacingSource(source)
        if facing is not self.facing:
            relabel = self._relabelled(facing)
            if relabel is None:
                return Outcome(False, "Facing not changed: a saved measurement needs a reason")
            try:
                self.store.set_facing(facing, source, reason)
                for m in relabel:
                    self.store.save(m, reason or "facing set")
            except CobbdeskError as exc:
                return Outcome(False, f"Not saved: {one_line(exc)}")
            self.history.clear(MeasurementSet(
                next((r for r in relabel if r.id == mid), m) for mid, m in self.measurements.items()
            ))  # fmt: skip
        self.facing, self.facing_source = facing, source
        if self.pending is not None:
            return self.finish(self.pending)
        return Outcome(True)

    def _relabelled(self, facing: Facing) -> list[CobbMeasurement] | None:
        """Measurements whose ends swap under ``facing`` (None when a needed reason is refused)."""
        relabel = []
        for m in self.measurements.values():
            try:
                oriented, notices = orient_measurement(m, facing)
            except GeometryError:
                continue
            if notices:
                relabel.append(oriented)
        changes = [Change(ChangeKind.ADJUST, self.measurements[m.id], m) for m in relabel]
        return relabel if self._reason(changes) is not None else None


def suggested_facing(film: Any) -> FacingEstimate:
    """What the facing prompt offers first: DICOM Patient Orientation (0020,0020) when it
    names A or P, else the image estimate (:func:`estimate_facing`).  ``film`` is a
    :class:`~cobbdesk.core.dicom.film.Film` (duck-typed: ``patient_orientation``, ``pixels``,
    ``inverted``)."""
    orientation = getattr(film, "patient_orientation", None)
    from_header = facing_from_orientation(orientation)
    if from_header is not None:
        return FacingEstimate(from_header, 1.0, f"DICOM Patient Orientation {orientation}")
    try:
        return estimate_facing(film.pixels, photometric_inverted=bool(film.inverted))
    except (ValueError, AttributeError) as exc:
        return FacingEstimate(None, 0.0, f"no estimate: {exc}")
