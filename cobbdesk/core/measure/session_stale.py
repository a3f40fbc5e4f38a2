"""Stale angles: the part of :class:`~cobbdesk.core.measure.session.MeasurementSession` that
reports stored angles which no longer follow from their points.

An angle is derived, never trusted: it is recomputed from the endplate points with the film's
current calibration (:func:`~cobbdesk.core.measure.geometry.cobb_angle`) and compared with the
stored value; a different algorithm version or a recalibrated film are named as the cause.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cobbdesk.core.measure.changes import Discrepancy
from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.measurement import ALGORITHM_VERSION, CobbMeasurement

if TYPE_CHECKING:
    from cobbdesk.core.measure.commands import MeasurementSet

STALE_TOLERANCE_DEG = 0.05
"""A stored angle further than this from its recomputation is reported."""


class StaleAngles:
    """Mixin of :class:`~cobbdesk.core.measure.session.MeasurementSession` (see module doc)."""

    film: FilmContext

    if TYPE_CHECKING:

        @property
        def measurements(self) -> MeasurementSet:  # provided by MeasurementSession
            """The session's measurements now."""
            ...

    def discrepancies(self, stored: dict[str, float] | None = None) -> list[Discrepancy]:
        """Measurements whose stored angle (``stored``: id → angle_deg, else the value implied
        by the measurement's own spacing) differs from the angle recomputed with the film's
        current calibration by the current :data:`ALGORITHM_VERSION`."""
        spacing = self.film.spacing if self.film.spacing is not None else self.film.pixel_aspect
        found = []
        for m in self.measurements.values():
            now = cobb_angle(m.upper.as_tuple(), m.lower.as_tuple(), spacing)
            then = (stored or {}).get(m.id, m.angle)
            why = _stale_reason(m, now, then, self.film)
            if why:
                found.append(Discrepancy(m.id, then, now, why))
        return found


def _stale_reason(m: CobbMeasurement, now: float, then: float, film: FilmContext) -> str:
    if m.algorithm_version != ALGORITHM_VERSION:
        return f"measured with {m.algorithm_version}, now {ALGORITHM_VERSION}"
    if not math.isclose(now, then, abs_tol=STALE_TOLERANCE_DEG):
        if m.spacing != film.spacing:
            return f"the film's calibration changed since (was {m.spacing}, now {film.spacing})"
        return "the stored angle differs from its points"
    return ""
