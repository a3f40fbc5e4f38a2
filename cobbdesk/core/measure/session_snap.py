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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cobbdesk.core.measure.geometry import to_mm
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine

if TYPE_CHECKING:
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
