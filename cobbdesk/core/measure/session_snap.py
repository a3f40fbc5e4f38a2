"""How far snapping moved each endplate line: the numbers shown next to the line.

>>> from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
>>> from cobbdesk.core.measure.snapping import SnapResult
>>> m = CobbMeasurement("1.2", "", "C2-C7", EndplateLine((0, 0), (40, 0)),
...                     EndplateLine((0, 100), (40, 100)))
>>> moved = SnapResult(EndplateLine((0, 3), (40, 0)), True, "snapped", angle_change_deg=4.29)
>>> kept = SnapResult(m.lower, False, "no edge found")
>>> up, low = snap_moves(m, (moved, kept), (0.2, 0.2))
>>> up.text, low.text
('C2 snapped 4.3°, 0.6 mm', 'C7 kept (no edge found)')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cobbdesk.core.measure.changes import Outcome
from cobbdesk.core.measure.commands import ReplaceMeasurement
from cobbdesk.core.measure.geometry import to_mm
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine

if TYPE_CHECKING:
    from cobbdesk.core.measure.commands import Command, MeasurementSet
    from cobbdesk.core.measure.snapping import SnapResult


@dataclass(frozen=True)
class SnapMove:
    """One line's snap: turned ``angle_deg``, its corners moved up to ``shift`` ``units``."""

    level: str
    snapped: bool
    angle_deg: float
    shift: float
    units: str
    reason: str

    @property
    def text(self) -> str:
        """``"C2 snapped 4.3°, 0.6 mm"`` or ``"C7 kept (no edge found)"``."""
        if not self.snapped:
            return f"{self.level} kept ({self.reason})"
        return f"{self.level} snapped {self.angle_deg:.1f}°, {self.shift:.1f} {self.units}"

    def summary(self, other: SnapMove) -> str:
        """Both lines in one sentence for the status line."""
        return f"{self.text}; {other.text}"


def short_level(level: str) -> str:
    """``"C2 inferior endplate"`` → ``"C2"``."""
    return level.split(" ", maxsplit=1)[0] if "endplate" in level else level


def _shift(before: EndplateLine, after: EndplateLine, spacing: tuple[float, float] | None) -> float:
    pairs = ((before.anterior, after.anterior), (before.posterior, after.posterior))
    return max(math.dist(to_mm(a, spacing), to_mm(b, spacing)) for a, b in pairs)


def snap_moves(
    m: CobbMeasurement,
    results: tuple[SnapResult, SnapResult],
    spacing: tuple[float, float] | None,
) -> tuple[SnapMove, SnapMove]:
    """The :class:`SnapMove` of the upper and lower line of ``m`` (mm when calibrated)."""
    units = "mm" if spacing is not None else "px"
    moves = []
    for level, line, result in zip(m.template.levels, (m.upper, m.lower), results, strict=True):
        shift = _shift(line, result.line, spacing) if result.snapped else 0.0
        angle = result.angle_change_deg if result.snapped else 0.0
        moves.append(SnapMove(short_level(level), result.snapped, angle, shift, units,
                              result.reason))  # fmt: skip
    return moves[0], moves[1]


class SnappingSteps:
    """Mixin of :class:`~cobbdesk.core.measure.session.MeasurementSession`: snapping a finished
    measurement's endplates, applied at once or held for confirmation above the threshold."""

    snapping: bool
    pixels: Any
    snap_radius_px: float
    bone_bright: bool
    snap_threshold_deg: float
    film: FilmContext
    pending_snap: ReplaceMeasurement | None
    snap_report: dict[str, tuple[SnapMove, SnapMove]]

    if TYPE_CHECKING:

        @property
        def measurements(self) -> MeasurementSet:  # provided by MeasurementSession
            """The session's measurements now."""
            ...

        def execute(self, command: Command, *, merge: bool = False) -> Outcome:
            """Provided by MeasurementSession."""
            ...

    def _snap(self, m: CobbMeasurement) -> Outcome:
        if not self.snapping or self.pixels is None:
            return Outcome(True, "", m.id)
        from cobbdesk.core.measure.snapping import snap_measurement

        command, results = snap_measurement(self.pixels, m, radius_px=self.snap_radius_px,
                                            bone_bright=self.bone_bright)  # fmt: skip
        moves = snap_moves(m, results, self.film.spacing)
        self.snap_report[m.id] = moves
        if command is None:
            return Outcome(True, moves[0].summary(moves[1]), m.id)
        snapped = replace(command.measurement, upper_snapped=results[0].snapped,
                          lower_snapped=results[1].snapped)  # fmt: skip
        self.pending_snap = ReplaceMeasurement(snapped, "Snap endplates")
        if max(mv.angle_deg for mv in moves) > self.snap_threshold_deg:
            return Outcome(True, moves[0].summary(moves[1]), m.id, needs_snap_confirmation=True)
        return self.confirm_snap()

    def confirm_snap(self) -> Outcome:
        """Apply the held snap (one undo step back to the clicks)."""
        command, self.pending_snap = self.pending_snap, None
        if command is None:
            return Outcome(False, "no snap is waiting")
        outcome = self.execute(command)
        moves = self.snap_report.get(command.measurement.id)
        return replace(outcome, message=moves[0].summary(moves[1]) if moves else outcome.message)

    def reject_snap(self) -> None:
        """Keep the clicked points."""
        if self.pending_snap is not None:
            self.snap_report.pop(self.pending_snap.measurement.id, None)
        self.pending_snap = None
