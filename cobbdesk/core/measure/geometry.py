"""Signed Cobb angles between two endplate lines, and the helpers the viewer draws with.

Conventions (the same everywhere in CobbDesk, after highdicom ``spatial``):

* image coordinates are ``(x, y) = (column, row)``, origin at the **centre** of the top-left
  pixel, x to the right, y **down**;
* ``spacing`` is ``(row_mm, column_mm)`` in the order of DICOM Pixel Spacing (0028,0030): the
  first value is the distance between rows (vertical), the second between columns;
* a point is converted to millimetres as ``(x * column_mm, y * row_mm)``; angles are computed
  in millimetres, so anisotropic spacing is honoured, and in pixels when ``spacing`` is None;
* an endplate line is ``((x_anterior, y_anterior), (x_posterior, y_posterior))``;
* the Cobb angle is **signed**: positive = lordosis = the endplate lines converge posteriorly
  (they are farther apart at their anterior ends); negative = kyphosis.  The value does not
  change when the film is mirrored (patient facing left or right) or rotated.

A lordotic pair, patient facing left (anterior = small x), then the same film mirrored:

>>> upper = ((100.0, 100.0), (140.0, 110.0))   # slopes down towards the back
>>> lower = ((100.0, 300.0), (140.0, 290.0))   # slopes up towards the back
>>> round(cobb_angle(upper, lower), 3)
28.072
>>> mirror = lambda line: tuple((500.0 - x, y) for x, y in line)
>>> round(cobb_angle(mirror(upper), mirror(lower)), 3)
28.072
>>> round(cobb_angle(lower, upper), 3)          # the pair, not the labels, sets the sign
28.072
>>> kyphotic_upper = ((100.0, 100.0), (140.0, 90.0))
>>> kyphotic_lower = ((100.0, 300.0), (140.0, 310.0))
>>> round(cobb_angle(kyphotic_upper, kyphotic_lower), 3)   # converge anteriorly
-28.072

Anisotropic spacing changes the angle, and the order ``(row_mm, column_mm)`` matters:

>>> round(cobb_angle(upper, lower, spacing=(0.1, 0.2)), 3)
14.25
>>> round(cobb_angle(upper, lower, spacing=(0.2, 0.1)), 3)
53.13
>>> to_mm((10.0, 20.0), (0.1, 0.2))
(2.0, 2.0)
>>> length_units(None), length_units((0.1, 0.1)), Units.DEG.value
(<Units.PX: 'px'>, <Units.MM: 'mm'>, 'deg')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from cobbdesk.core.errors import GeometryError

Point = tuple[float, float]
Line = tuple[Point, Point]
Spacing = tuple[float, float] | None
Vector = tuple[float, float]

_EPS = 1e-12

__all__ = [
    "Construction",
    "Line",
    "Point",
    "Spacing",
    "Units",
    "cobb_angle",
    "cobb_construction",
    "convergence_sign",
    "from_mm",
    "length_units",
    "line_direction_mm",
    "line_intersection",
    "line_length",
    "lower_side_normal",
    "to_mm",
    "unsigned_angle",
    "validate_line",
]


class Units(StrEnum):
    """Unit markers: angles are always degrees; lengths are mm when calibrated, else px."""

    DEG = "deg"
    MM = "mm"
    PX = "px"


def _check_spacing(spacing: Spacing) -> None:
    if spacing is None:
        return
    if len(spacing) != 2 or not all(math.isfinite(s) and s > 0 for s in spacing):
        raise GeometryError(None, f"spacing must be two positive finite mm values, got {spacing}")


def to_mm(point: Point, spacing: Spacing) -> Point:
    """Image point ``(x, y)`` to millimetres ``(x * column_mm, y * row_mm)`` (identity if None).

    >>> to_mm((3.0, 4.0), None)
    (3.0, 4.0)
    """
    _check_spacing(spacing)
    x, y = float(point[0]), float(point[1])
    if spacing is None:
        return (x, y)
    return (x * spacing[1], y * spacing[0])


def from_mm(point: Point, spacing: Spacing) -> Point:
    """Inverse of :func:`to_mm`.

    >>> from_mm((2.0, 2.0), (0.1, 0.2))
    (10.0, 20.0)
    """
    _check_spacing(spacing)
    x, y = float(point[0]), float(point[1])
    if spacing is None:
        return (x, y)
    return (x / spacing[1], y / spacing[0])


def length_units(spacing: Spacing) -> Units:
    """``Units.MM`` for a calibrated film, ``Units.PX`` otherwise."""
    return Units.PX if spacing is None else Units.MM


def validate_line(line: Line, name: str = "line") -> Line:
    """Return ``line`` as floats, or raise :class:`GeometryError` if it cannot define a direction.

    >>> validate_line(((1, 1), (1, 1)), "upper endplate")
    Traceback (most recent call last):
    ...
    cobbdesk.core.errors.GeometryError: upper endplate has zero length: both ends at (1, 1)
    """
    try:
        (ax, ay), (px, py) = line
        values = (float(ax), float(ay), float(px), float(py))
    except (TypeError, ValueError) as exc:
        raise GeometryError(None, f"{name} must be two (x, y) points, got {line!r}") from exc
    if not all(math.isfinite(v) for v in values):
        raise GeometryError(None, f"{name} has a non-finite coordinate: {line!r}")
    if values[0] == values[2] and values[1] == values[3]:
        raise GeometryError(
            None, f"{name} has zero length: both ends at ({values[0]:g}, {values[1]:g})"
        )
    return ((values[0], values[1]), (values[2], values[3]))


def line_direction_mm(line: Line, spacing: Spacing) -> Vector:
    """The anterior→posterior vector of ``line`` in mm (in px when ``spacing`` is None)."""
    anterior, posterior = validate_line(line)
    ax, ay = to_mm(anterior, spacing)
    px, py = to_mm(posterior, spacing)
    return (px - ax, py - ay)


def line_length(line: Line, spacing: Spacing = None) -> float:
    """Length of ``line`` in mm (or px when uncalibrated; see :func:`length_units`).

    >>> line_length(((0, 0), (3, 4))), line_length(((0, 0), (10, 10)), (0.3, 0.4))
    (5.0, 5.0)
    """
    dx, dy = line_direction_mm(line, spacing)
    return math.hypot(dx, dy)


def unsigned_angle(u: Vector, v: Vector) -> float:
    """Angle between two vectors in degrees, in ``[0, 180]`` (atan2 of |cross| and dot)."""
    cross = u[0] * v[1] - u[1] * v[0]
    dot = u[0] * v[0] + u[1] * v[1]
    return math.degrees(math.atan2(abs(cross), dot))


def _unit(v: Vector) -> Vector:
    n = math.hypot(v[0], v[1])
    return (v[0] / n, v[1] / n)


def _midpoint(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)


def lower_side_normal(upper_mm: Line, lower_mm: Line) -> Vector:
    """Unit normal to the mean direction of both lines, pointing from the upper to the lower line.

    The mean direction is the bisector of the two anterior→posterior unit vectors (or their
    difference when they are nearly opposite).  The normal is oriented so that the midpoint of
    the lower line lies on its positive side; when the midpoints coincide along it the lines are
    not one above the other and the orientation defaults to the counter-clockwise normal.

    >>> lower_side_normal(((0, 0), (10, 0)), ((0, 5), (10, 5)))
    (-0.0, 1.0)
    """
    u = _unit((upper_mm[1][0] - upper_mm[0][0], upper_mm[1][1] - upper_mm[0][1]))
    v = _unit((lower_mm[1][0] - lower_mm[0][0], lower_mm[1][1] - lower_mm[0][1]))
    mean = (u[0] + v[0], u[1] + v[1])
    if math.hypot(*mean) < 1e-9:
        mean = (u[0] - v[0], u[1] - v[1])
    d = _unit(mean)
    normal = (-d[1], d[0])
    mid_u = _midpoint(*upper_mm)
    mid_l = _midpoint(*lower_mm)
    offset = normal[0] * (mid_l[0] - mid_u[0]) + normal[1] * (mid_l[1] - mid_u[1])
    return (-normal[0], -normal[1]) if offset < 0 else normal


def convergence_sign(upper_mm: Line, lower_mm: Line) -> int:
    """+1 if the lines converge posteriorly (lordosis), -1 if anteriorly (kyphosis), 0 if parallel.

    The separation of the lines, measured along :func:`lower_side_normal`, shrinks when moving
    posteriorly iff the normal component of (upper unit direction − lower unit direction) is
    positive; comparing unit directions makes the sign independent of the lines' lengths.

    >>> convergence_sign(((0, 0), (10, 1)), ((0, 10), (10, 9)))
    1
    >>> convergence_sign(((0, 0), (10, 0)), ((0, 10), (10, 10)))
    0
    """
    n = lower_side_normal(upper_mm, lower_mm)
    u = _unit((upper_mm[1][0] - upper_mm[0][0], upper_mm[1][1] - upper_mm[0][1]))
    v = _unit((lower_mm[1][0] - lower_mm[0][0], lower_mm[1][1] - lower_mm[0][1]))
    closing = n[0] * (u[0] - v[0]) + n[1] * (u[1] - v[1])
    if abs(closing) < _EPS:
        return 0
    return 1 if closing > 0 else -1


def _line_mm(line: Line, spacing: Spacing, name: str) -> Line:
    anterior, posterior = validate_line(line, name)
    return (to_mm(anterior, spacing), to_mm(posterior, spacing))


def cobb_angle(upper: Line, lower: Line, spacing: Spacing = None) -> float:
    """Signed Cobb angle in degrees between the ``upper`` and ``lower`` endplate lines.

    Positive = lordosis (lines converge posteriorly), negative = kyphosis, 0.0 for parallel
    lines.  Raises :class:`GeometryError` for a zero-length or non-finite line or bad spacing.

    >>> cobb_angle(((0, 0), (10, 0)), ((0, 10), (10, 10)))
    0.0
    """
    _check_spacing(spacing)
    upper_mm = _line_mm(upper, spacing, "upper endplate line")
    lower_mm = _line_mm(lower, spacing, "lower endplate line")
    u = (upper_mm[1][0] - upper_mm[0][0], upper_mm[1][1] - upper_mm[0][1])
    v = (lower_mm[1][0] - lower_mm[0][0], lower_mm[1][1] - lower_mm[0][1])
    sign = convergence_sign(upper_mm, lower_mm)
    if sign == 0:
        return 0.0
    return sign * unsigned_angle(u, v)


def line_intersection(a: Line, b: Line) -> Point | None:
    """Where the infinite lines through ``a`` and ``b`` meet, or None when parallel.

    >>> line_intersection(((0, 0), (10, 10)), ((0, 10), (10, 0)))
    (5.0, 5.0)
    """
    (x1, y1), (x2, y2) = validate_line(a)
    (x3, y3), (x4, y4) = validate_line(b)
    d1 = (x2 - x1, y2 - y1)
    d2 = (x4 - x3, y4 - y3)
    denom = d1[0] * d2[1] - d1[1] * d2[0]
    scale = math.hypot(*d1) * math.hypot(*d2)
    if abs(denom) <= 1e-12 * scale:
        return None
    t = ((x3 - x1) * d2[1] - (y3 - y1) * d2[0]) / denom
    return (x1 + t * d1[0], y1 + t * d1[1])


@dataclass(frozen=True)
class Construction:
    """What the viewer draws for a Cobb measurement, all in image coordinates (px).

    ``upper_mid``/``lower_mid`` are the midpoints of the endplate lines; the perpendiculars
    (perpendicular in mm, so they look right on anisotropic films) run from each midpoint to
    ``perpendiculars_meet``.  ``lines_meet`` is the intersection of the endplate lines
    themselves.  Either meeting point is None when the lines are parallel.
    """

    upper_mid: Point
    lower_mid: Point
    perpendiculars_meet: Point | None
    lines_meet: Point | None


def cobb_construction(upper: Line, lower: Line, spacing: Spacing = None) -> Construction:
    """The classic Cobb construction (perpendiculars to each endplate) for drawing.

    >>> c = cobb_construction(((0, 0), (10, 0)), ((2, 20), (10, 30)))
    >>> c.upper_mid, c.lower_mid, c.perpendiculars_meet, c.lines_meet
    ((5.0, 0.0), (6.0, 25.0), (5.0, 25.8), (-14.0, 0.0))
    """
    upper_mm = _line_mm(upper, spacing, "upper endplate line")
    lower_mm = _line_mm(lower, spacing, "lower endplate line")
    mid_u = _midpoint(*upper_mm)
    mid_l = _midpoint(*lower_mm)
    perps = []
    for (a, b), mid in ((upper_mm, mid_u), (lower_mm, mid_l)):
        d = (b[0] - a[0], b[1] - a[1])
        perps.append((mid, (mid[0] - d[1], mid[1] + d[0])))
    meet_mm = line_intersection(perps[0], perps[1])
    lines_mm = line_intersection(upper_mm, lower_mm)
    return Construction(
        upper_mid=from_mm(mid_u, spacing),
        lower_mid=from_mm(mid_l, spacing),
        perpendiculars_meet=None if meet_mm is None else from_mm(meet_mm, spacing),
        lines_meet=None if lines_mm is None else from_mm(lines_mm, spacing),
    )
