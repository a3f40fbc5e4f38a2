"""Refuse endplate-line pairs that cannot be a Cobb measurement, and flag implausible angles.

:func:`check_lines` is the one gate every measurement passes (viewer, CSV import, session):
a line too short to have a direction one can trust, two lines on top of each other, lines that
cross between the two endplates, or lines 90° or more apart are refused with a
:class:`GuardError` naming the line; everything else returns the signed angle of
:func:`~cobbdesk.core.measure.geometry.cobb_angle`.

:func:`plausibility_flag` never refuses: it marks an angle outside :data:`PLAUSIBLE_RANGE` so
the rater looks again.

>>> upper = ((100.0, 100.0), (140.0, 110.0)); lower = ((100.0, 300.0), (140.0, 290.0))
>>> round(check_lines(upper, lower, None), 3)
28.072
>>> check_lines(upper, ((100.0, 300.0), (100.0, 300.00001)), None, "C2-C7")
Traceback (most recent call last):
...
cobbdesk.core.measure.guards.GuardError: C7 inferior endplate is 0.0 px long; an endplate \
line must be at least 20 px (the film is uncalibrated)
>>> plausibility_flag("C2-C7", 75.0)
'outside the plausible range −40…+60° for C2–C7'
"""

from __future__ import annotations

import math

from cobbdesk.core.errors import GeometryError, ValidationError
from cobbdesk.core.measure.formatting import signed_number
from cobbdesk.core.measure.geometry import (
    Line,
    Point,
    Spacing,
    cobb_angle,
    line_length,
    lower_side_normal,
    to_mm,
    validate_line,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, Template

__all__ = [
    "COINCIDENT_MM",
    "COINCIDENT_PX",
    "MAX_ANGLE_DEG",
    "MIN_LINE_MM",
    "MIN_LINE_PX",
    "PLAUSIBLE_RANGE",
    "GuardError",
    "check_lines",
    "check_measurement",
    "plausibility_flag",
]

MIN_LINE_MM = 5.0
"""Shortest endplate line on a calibrated film (mm).  Adult cervical endplates are about
15 mm deep and lumbar ones 30–35 mm; a 5 mm line is a slip of the mouse, and its direction
is too uncertain (1 px error ≈ 1–2° at 0.15 mm/px) for a Cobb angle."""
MIN_LINE_PX = 20.0
"""Shortest endplate line on an uncalibrated film (pixels)."""
COINCIDENT_MM = 1.0
"""Two lines whose ends (or whose points) are all within this distance coincide (mm)."""
COINCIDENT_PX = 4.0
"""The same tolerance on an uncalibrated film (pixels)."""
MAX_ANGLE_DEG = 90.0
"""A Cobb angle is under 90° in magnitude: beyond that one line's ends are reversed.  The
check is made on the angle as displayed (one decimal), so 89.96° is refused too: nothing that
reads "90.0°" is ever stored."""

PLAUSIBLE_RANGE: dict[Template, tuple[float, float]] = {
    Template.C2_C7: (-40.0, 60.0),
    Template.L1_S1: (-20.0, 90.0),
}
"""Signed angles (degrees, + = lordosis) outside which a measurement is flagged, not refused.

Normative data: C2–C7 lordosis in asymptomatic adults has mean about 16–40° with SD about
10–13° depending on the method (Gore, Sepic & Gardner, Spine 1986;11:521–524; Hardacker et
al., Spine 1997;22:1472–1480: 40° ± 9.7° by the C1–C7 posterior-tangent method); about a third
of asymptomatic necks are straight or kyphotic.  L1–S1 lordosis: mean about 50–60°, SD about
10–12° (Roussouly et al., Spine 2005;30:346–353; Been & Kalichman, Spine J 2014;14:87–97).
The bounds are the normal mean ± about 2–3 SD, widened by a margin for kyphotic pathology
(post-traumatic or degenerative cervical kyphosis; flat-back and kyphotic lumbar deformity)
and hyperlordosis, so a flag means "look again", never "wrong"."""

_LEVEL_TEXT = {Template.C2_C7: "C2–C7", Template.L1_S1: "L1–S1", Template.FREE: "FREE"}


class GuardError(ValidationError):
    """A pair of endplate lines that cannot give a Cobb angle (see :func:`check_lines`).

    The constructor is :class:`~cobbdesk.core.errors.CobbdeskError`'s ``(path, problem)``;
    guards pass ``path=None`` (callers such as the CSV import add the row and film).
    """


def _mm_line(line: Line, spacing: Spacing) -> tuple[Point, Point]:
    a, b = line
    return (to_mm(a, spacing), to_mm(b, spacing))


def _distance_to_line(p: Point, line: tuple[Point, Point]) -> float:
    (ax, ay), (bx, by) = line
    dx, dy = bx - ax, by - ay
    return abs(dx * (p[1] - ay) - dy * (p[0] - ax)) / math.hypot(dx, dy)


def _coincidence(upper: tuple[Point, Point], lower: tuple[Point, Point], tol: float) -> str:
    """Why the lines coincide ("" when they do not); all coordinates in one unit."""
    if all(math.dist(p, q) <= tol for p, q in zip(upper, lower, strict=True)) or all(
        math.dist(p, q) <= tol for p, q in zip(upper, reversed(lower), strict=True)
    ):
        return "lie on top of each other (both ends coincide)"
    if (
        max(_distance_to_line(p, lower) for p in upper) <= tol
        and max(_distance_to_line(p, upper) for p in lower) <= tol
    ):
        return "lie on one straight line"
    return ""


def _lines_cross(upper: tuple[Point, Point], lower: tuple[Point, Point]) -> bool:
    """True when the lines meet within the span the two segments share.

    Crossing does not depend on which end is called anterior, so ``lower`` is first reversed
    when its direction is more than 90° from ``upper``'s.
    ``d`` is the mean direction of the two lines and ``n`` the normal pointing from the upper
    to the lower line (:func:`~cobbdesk.core.measure.geometry.lower_side_normal`).  Both
    segments are projected onto ``d``; over the interval where the projections overlap (the
    common anteroposterior span) the signed separation ``n · (L(t) − U(t))`` of the two
    (infinite) lines is linear in ``t``, so it keeps one sign over the span iff it has that
    sign, strictly, at both ends.  Segments with no common span cannot meet there.
    """
    (ua, ub), (la, lb) = upper, lower
    if (ub[0] - ua[0]) * (lb[0] - la[0]) + (ub[1] - ua[1]) * (lb[1] - la[1]) < 0:
        lower = (lb, la)
    n = lower_side_normal(upper, lower)
    d = (n[1], -n[0])

    def project(p: Point) -> float:
        """Position of ``p`` along the mean direction ``d`` (px)."""
        return p[0] * d[0] + p[1] * d[1]

    spans = [sorted((project(a), project(b))) for a, b in (upper, lower)]
    lo, hi = max(spans[0][0], spans[1][0]), min(spans[0][1], spans[1][1])
    if lo > hi:
        return False

    def height(line: tuple[Point, Point], t: float) -> float:
        """Signed offset along ``n`` (px) of the infinite ``line`` at position ``t`` along ``d``."""
        (ax, ay), (bx, by) = line
        ta, tb = project((ax, ay)), project((bx, by))
        if ta == tb:  # perpendicular to d: cannot happen for lines under 90° apart
            return ax * n[0] + ay * n[1]
        s = (t - ta) / (tb - ta)
        return (ax + s * (bx - ax)) * n[0] + (ay + s * (by - ay)) * n[1]

    gaps = [height(lower, t) - height(upper, t) for t in (lo, hi)]
    return not (gaps[0] > 0 and gaps[1] > 0)


def check_lines(
    upper: Line,
    lower: Line,
    spacing: Spacing,
    template: Template | str = Template.FREE,
    levels: tuple[str, str] | None = None,
    *,
    calibrated: bool | None = None,
) -> float:
    """The signed Cobb angle of ``upper`` and ``lower`` (degrees, + = lordosis), or a refusal.

    ``upper``/``lower`` are ``((x_anterior, y_anterior), (x_posterior, y_posterior))`` image
    pixels; ``spacing`` is ``(row_mm, column_mm)``, or a pixel aspect ratio in the same order
    with ``calibrated=False`` (default: calibrated iff ``spacing`` is not None).  ``levels``
    names the lines in messages (default: the template's endplates).

    Raises :class:`GuardError` (one line, naming the line) when

    * a line is shorter than :data:`MIN_LINE_MM` (:data:`MIN_LINE_PX`, counted in pixels,
      when uncalibrated), or is zero-length / non-finite;
    * the lines coincide: both ends within :data:`COINCIDENT_MM` (px: :data:`COINCIDENT_PX`)
      of the other line's ends, or every end within that distance of the other (infinite)
      line, i.e. the same straight line whether or not the segments overlap;
    * the lines cross between the endplates: over the anteroposterior span both segments
      share, the lower line is not strictly on the lower side of the upper one (see
      :func:`_lines_cross`; the segments touching counts as crossing);
    * the angle between them is :data:`MAX_ANGLE_DEG` or more.
    """
    template = Template(template)
    names = levels or template.levels
    calibrated = spacing is not None if calibrated is None else calibrated
    lines = []
    for raw, name in ((upper, names[0]), (lower, names[1])):
        try:
            line = validate_line(raw, name)
        except GeometryError as exc:
            raise GuardError(None, exc.problem) from exc
        _check_length(line, name, spacing if calibrated else None, calibrated)
        lines.append(line)
    unit_spacing = spacing if calibrated else None
    u_mm, l_mm = _mm_line(lines[0], unit_spacing), _mm_line(lines[1], unit_spacing)
    tol, unit = (COINCIDENT_MM, "mm") if calibrated else (COINCIDENT_PX, "px")
    why = _coincidence(u_mm, l_mm, tol)
    if why:
        raise GuardError(None, f"{names[0]} and {names[1]} {why} (within {tol:g} {unit})")
    if _lines_cross(_mm_line(lines[0], spacing), _mm_line(lines[1], spacing)):
        raise GuardError(
            None,
            f"{names[0]} and {names[1]} cross between the two endplates; each line must lie "
            "on its own endplate",
        )
    angle = cobb_angle(lines[0], lines[1], spacing)
    if round(abs(angle), 1) >= MAX_ANGLE_DEG:  # nothing is stored that would read "90.0°"
        raise GuardError(
            None,
            f"{names[0]} and {names[1]} are {abs(angle):.1f}° apart; a Cobb angle is under "
            f"{MAX_ANGLE_DEG:g}°: are one line's anterior and posterior corners swapped?",
        )
    return angle


def _check_length(line: Line, name: str, spacing: Spacing, calibrated: bool) -> None:
    length = line_length(line, spacing)
    least, unit = (MIN_LINE_MM, "mm") if calibrated else (MIN_LINE_PX, "px")
    if length < least:
        note = "" if calibrated else " (the film is uncalibrated)"
        raise GuardError(
            None,
            f"{name} is {length:.1f} {unit} long; an endplate line must be at least "
            f"{least:g} {unit}{note}",
        )


def check_measurement(m: CobbMeasurement) -> float:
    """:func:`check_lines` on a measurement's lines, with its angle spacing (mm, else the pixel
    aspect ratio); lengths in mm iff the film is calibrated.  Returns the signed angle."""
    return check_lines(
        m.upper.as_tuple(),
        m.lower.as_tuple(),
        m.angle_spacing,
        m.template,
        calibrated=m.spacing is not None,
    )


def plausibility_flag(template: Template | str, angle_deg: float) -> str | None:
    """None when ``angle_deg`` is inside :data:`PLAUSIBLE_RANGE` for ``template`` (or the
    template is FREE); otherwise a short flag text.

    >>> plausibility_flag("L1-S1", 55.0) is None, plausibility_flag("FREE", 170.0) is None
    (True, True)
    >>> plausibility_flag("L1-S1", -25.0)
    'outside the plausible range −20…+90° for L1–S1'
    """
    template = Template(template)
    bounds = PLAUSIBLE_RANGE.get(template)
    if bounds is None:
        return None
    lo, hi = bounds
    if lo <= angle_deg <= hi:
        return None
    return (
        f"outside the plausible range {signed_number(lo, 0)}…{signed_number(hi, 0)}° for "
        f"{_LEVEL_TEXT[template]}"
    )
