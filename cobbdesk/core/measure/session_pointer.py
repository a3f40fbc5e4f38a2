"""Placing and dragging: the part of :class:`~cobbdesk.core.measure.session.MeasurementSession`
that turns corner clicks and pointer drags into commands.

Placing runs :func:`~cobbdesk.core.measure.interaction.place_measurement` one click at a time;
the fourth click finishes the measurement (:meth:`PointerSteps.finish`: cranio-caudal line
order, anterior ends from the facing, guards, store, then snapping) or waits for the facing.
Dragging runs :func:`~cobbdesk.core.measure.interaction.drag`; only the release is stored, as
one command through the session's one write path.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cobbdesk.core.errors import GeometryError
from cobbdesk.core.measure.changes import Outcome, one_line
from cobbdesk.core.measure.commands import AddMeasurement
from cobbdesk.core.measure.facing import Facing, FacingSource, orient_measurement
from cobbdesk.core.measure.geometry import Point
from cobbdesk.core.measure.interaction import (
    DragUpdate,
    EventKind,
    FilmContext,
    Hit,
    PlacementStep,
    PointerEvent,
    drag,
    hit_test,
    place_measurement,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, Template

if TYPE_CHECKING:
    from cobbdesk.core.measure.commands import Command, MeasurementSet


class PointerSteps:
    """Mixin of :class:`~cobbdesk.core.measure.session.MeasurementSession` (see module doc)."""

    film: FilmContext
    facing: Facing | None
    header_facing: Facing | None
    pending: CobbMeasurement | None
    _placing: Generator[PlacementStep, Any, None] | None
    _drag: Generator[DragUpdate, PointerEvent, None] | None

    if TYPE_CHECKING:

        @property
        def measurements(self) -> MeasurementSet:  # provided by MeasurementSession
            """The session's measurements now."""
            ...

        def execute(self, command: Command, *, merge: bool = False) -> Outcome:
            """Provided by MeasurementSession."""
            ...

        def set_facing(self, facing: Facing | str, source: FacingSource | str = FacingSource.USER,
                       reason: str = "") -> Outcome:  # fmt: skip
            """Provided by :class:`~cobbdesk.core.measure.session_facing.FacingSteps`."""
            ...

        def _snap(self, m: CobbMeasurement) -> Outcome:
            """Provided by :class:`~cobbdesk.core.measure.session_snap.SnappingSteps`."""
            ...

    @property
    def placing(self) -> bool:
        """True while a measurement is being placed (after :meth:`start_placement`)."""
        return self._placing is not None

    # --- placing ------------------------------------------------------------------------------
    def start_placement(self, template: Template | str) -> PlacementStep:
        """Begin a measurement; send clicks with :meth:`click`."""
        self.cancel_placement()
        self._placing = place_measurement(template, self.film)
        return next(self._placing)

    def cancel_placement(self) -> None:
        """Abandon the measurement being placed, if any (nothing is stored)."""
        if self._placing is not None:
            self._placing.close()
        self._placing = None

    def click(self, point: Point) -> Outcome:
        """One corner click; the fourth finishes (or waits for the facing, see :attr:`pending`)."""
        if self._placing is None:
            return Outcome(False, "no measurement is being placed")
        step = self._placing.send(point)
        if step.command is None:
            return Outcome(not step.message, step.message, step=step)
        self._placing = None
        return self.finish(step.command.measurement, step)

    def finish(self, m: CobbMeasurement, step: PlacementStep | None = None) -> Outcome:
        """Add a placed measurement: orient by the facing, guard, store, then snap."""
        if self.facing is None and self.header_facing is not None:
            self.pending = m  # the header's facing is stored with the first measurement
            return replace(self.set_facing(self.header_facing, FacingSource.DICOM), step=step)
        if self.facing is None:
            self.pending = m
            return Outcome(False, "Which way does the patient face?", needs_facing=True,
                           step=step)  # fmt: skip
        self.pending = None
        m = cranial_first(m)
        try:
            m, _ = orient_measurement(m, self.facing)
        except GeometryError as exc:
            return Outcome(False, one_line(exc), step=step)
        outcome = self.execute(AddMeasurement(m))
        if not outcome.ok:
            return replace(outcome, step=step)
        return replace(self._snap(self.measurements[m.id]), step=step)

    # --- dragging ------------------------------------------------------------------------------
    def press(self, point: Point, tolerance_px: float) -> Hit | None:
        """Grab the handle or line under ``point`` (None: nothing there)."""
        self.cancel_drag()
        hit = hit_test(self.measurements.values(), point, tolerance_px)
        if hit is not None:
            self._drag = drag(self.measurements[hit.measurement_id], hit, point, self.film)
            next(self._drag)
        return hit

    def drag_to(self, point: Point) -> DragUpdate | None:
        """The live preview (nothing is stored until :meth:`release`)."""
        if self._drag is None:
            return None
        return self._drag.send(PointerEvent(EventKind.MOVE, point))

    def release(self, point: Point) -> Outcome:
        """End the drag: its one command goes through :meth:`execute` (or is refused)."""
        if self._drag is None:
            return Outcome(False, "nothing is being dragged")
        final = self._drag.send(PointerEvent(EventKind.RELEASE, point))
        self.cancel_drag()
        if final.command is None:
            return Outcome(True, final.message)
        return self.execute(final.command)

    def cancel_drag(self) -> None:
        """Abandon the current drag, if any (nothing is stored)."""
        if self._drag is not None:
            self._drag.close()
        self._drag = None


def cranial_first(m: CobbMeasurement) -> CobbMeasurement:
    """``m`` with its two lines in cranio-caudal order whatever the click order: ``upper`` is
    the line higher on the film (smaller mean row; image rows run caudally on a lateral
    spine film, as the facing and the near-vertical guard also assume).  The signed angle is
    the same either way; the stored ``upper``/``lower`` points and the levels shown follow.

    >>> from cobbdesk.core.measure.measurement import EndplateLine
    >>> low, high = EndplateLine((10, 300), (60, 305)), EndplateLine((10, 100), (60, 95))
    >>> swapped = CobbMeasurement("1.2", "", "C2-C7", low, high)
    >>> cranial_first(swapped).upper == high
    True
    """

    def row(line: Any) -> float:
        return float(line.anterior[1] + line.posterior[1]) / 2

    if row(m.upper) <= row(m.lower):
        return m
    return replace(m, upper=m.lower, lower=m.upper, upper_snapped=m.lower_snapped,
                   lower_snapped=m.upper_snapped)  # fmt: skip
