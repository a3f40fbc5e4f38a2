"""What a Cobb measurement looks like on the film: endplates, construction and angle marks.

Pure layout in scene (image) coordinates, no painting: :func:`drawing` turns a measurement into
segments for :class:`~cobbdesk.gui.viewer.measure_items.MeasurementItem` to stroke.  The
geometry (midpoints, meeting points, pixel shape) comes from
:func:`cobbdesk.core.measure.geometry.cobb_construction`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from PySide6.QtCore import QPointF, QRectF

from cobbdesk.core.measure.geometry import cobb_construction
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.gui.viewer.overlay_items import Segment, along, pt, qp, unit

Pixel = tuple[float, float]
"""Scene units per screen pixel along scene x and y (they differ for non-square pixels)."""


@dataclass(frozen=True)
class Drawing:
    """Segments in scene (image) coordinates and where the angle label goes."""

    lines: list[Segment]
    construction: list[Segment]
    marks: list[Segment]
    anchor: QPointF
    direction: QPointF  # scene direction from the construction towards the angle label


def _right_angle(mid: QPointF, side: QPointF, towards: QPointF, size: float,
                 pixel: Pixel) -> list[Segment]:  # fmt: skip
    """A small right-angle mark at ``mid`` between the endplate (direction ``side``) and its
    perpendicular (``towards``), ``size`` screen pixels on each side."""
    s, t = along(side, size, pixel), along(towards, size, pixel)
    a, b = mid + s, mid + s + t
    return [(a, b), (b, mid + t)]


def _arc(centre: QPointF, a: QPointF, b: QPointF, radius: float, pixel: Pixel) -> list[Segment]:
    """The shorter arc at ``centre`` between the rays towards ``a`` and ``b``, as segments: a
    circle of ``radius`` screen pixels on screen (angles taken in screen-pixel units)."""
    px, py = pixel
    start = math.atan2((a.y() - centre.y()) / py, (a.x() - centre.x()) / px)
    sweep = math.atan2((b.y() - centre.y()) / py, (b.x() - centre.x()) / px) - start
    sweep = (sweep + math.pi) % (2 * math.pi) - math.pi
    steps = max(2, int(abs(math.degrees(sweep)) / 4))
    arc = [centre + QPointF(math.cos(start + sweep * i / steps) * radius * px,
                            math.sin(start + sweep * i / steps) * radius * py)
           for i in range(steps + 1)]  # fmt: skip
    return list(pairwise(arc))


def drawing(m: CobbMeasurement, film: QRectF, pixel: Pixel) -> Drawing:
    """What to draw: endplates, then the perpendiculars (or the extensions to a near meeting);
    ``pixel`` sizes the marks in screen pixels (scene units per screen pixel along x, y)."""
    upper, lower = m.upper.as_tuple(), m.lower.as_tuple()
    c = cobb_construction(upper, lower, m.angle_spacing)  # pixel shape too (Pixel Aspect Ratio)
    lines = [(qp(upper[0]), qp(upper[1])), (qp(lower[0]), qp(lower[1]))]
    mids = (qp(c.upper_mid), qp(c.lower_mid))
    centre = (mids[0] + mids[1]) / 2.0
    if c.lines_meet is not None and film.contains(qp(c.lines_meet)):
        meet = qp(c.lines_meet)
        near = [min(line, key=lambda p: math.dist(pt(p), pt(meet))) for line in lines]
        arc = _arc(meet, near[0], near[1], 26.0, pixel)
        return Drawing(lines, [(p, meet) for p in near], arc, meet, meet - centre)
    anterior = lines[0][0] - lines[0][1]
    if c.perpendiculars_meet is None:  # parallel: nothing meets
        return Drawing(lines, [], [], centre, anterior)
    meet = qp(c.perpendiculars_meet)
    gap = math.dist(c.upper_mid, c.lower_mid)
    extension: list[Segment] = []
    if film.contains(meet) and math.dist(c.perpendiculars_meet, pt(centre)) <= gap:
        beyond = meet + along(meet - mids[0], 40.0, pixel)  # the angle between the lower
        ends, marks = [meet, meet], _arc(meet, beyond, mids[1], 26.0, pixel)  # perpendicular
        extension = [(meet, beyond)]  # and the continuation of the upper one is the Cobb angle
    else:  # nearly parallel: perpendiculars that point at their far meeting point
        ends, marks = [mid + unit(meet - mid) * (0.5 * gap) for mid in mids], []
        meet = centre
    for mid, end, line in zip(mids, ends, lines, strict=True):  # marks on the anterior side
        marks += _right_angle(mid, line[0] - line[1], end - mid, 8.0, pixel)
    construction = [*zip(mids, ends, strict=True), *extension]
    return Drawing(lines, construction, marks, meet, anterior)
