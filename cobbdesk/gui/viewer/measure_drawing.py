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
from cobbdesk.gui.viewer.overlay_items import Segment, pt, qp, unit


@dataclass(frozen=True)
class Drawing:
    """Segments in scene (image) coordinates and where the angle label goes."""

    lines: list[Segment]
    construction: list[Segment]
    marks: list[Segment]
    anchor: QPointF
    direction: QPointF  # scene direction from the construction towards the angle label


def _right_angle(mid: QPointF, along: QPointF, towards: QPointF, size: float) -> list[Segment]:
    """A small right-angle mark at ``mid`` between the endplate and its perpendicular."""
    a, b = mid + along * size, mid + along * size + towards * size
    return [(a, b), (b, mid + towards * size)]


def _arc(centre: QPointF, a: QPointF, b: QPointF, radius: float) -> list[Segment]:
    """The shorter arc at ``centre`` between the rays towards ``a`` and ``b``, as segments."""
    start = math.atan2(a.y() - centre.y(), a.x() - centre.x())
    sweep = math.atan2(b.y() - centre.y(), b.x() - centre.x()) - start
    sweep = (sweep + math.pi) % (2 * math.pi) - math.pi
    steps = max(2, int(abs(math.degrees(sweep)) / 4))
    arc = [centre + QPointF(math.cos(start + sweep * i / steps),
                            math.sin(start + sweep * i / steps)) * radius
           for i in range(steps + 1)]  # fmt: skip
    return list(pairwise(arc))


def drawing(m: CobbMeasurement, film: QRectF, pixel: float) -> Drawing:
    """What to draw: endplates, then the perpendiculars (or the extensions to a near meeting)."""
    upper, lower = m.upper.as_tuple(), m.lower.as_tuple()
    c = cobb_construction(upper, lower, m.angle_spacing)  # pixel shape too (Pixel Aspect Ratio)
    lines = [(qp(upper[0]), qp(upper[1])), (qp(lower[0]), qp(lower[1]))]
    mids = (qp(c.upper_mid), qp(c.lower_mid))
    centre = (mids[0] + mids[1]) / 2.0
    if c.lines_meet is not None and film.contains(qp(c.lines_meet)):
        meet = qp(c.lines_meet)
        near = [min(line, key=lambda p: math.dist(pt(p), pt(meet))) for line in lines]
        arc = _arc(meet, near[0], near[1], 26.0 * pixel)
        return Drawing(lines, [(p, meet) for p in near], arc, meet, meet - centre)
    anterior = lines[0][0] - lines[0][1]
    if c.perpendiculars_meet is None:  # parallel: nothing meets
        return Drawing(lines, [], [], centre, anterior)
    meet = qp(c.perpendiculars_meet)
    gap = math.dist(c.upper_mid, c.lower_mid)
    extension: list[Segment] = []
    if film.contains(meet) and math.dist(c.perpendiculars_meet, pt(centre)) <= gap:
        beyond = meet + unit(meet - mids[0]) * (40.0 * pixel)  # the angle between the lower
        ends, marks = [meet, meet], _arc(meet, beyond, mids[1], 26.0 * pixel)  # perpendicular
        extension = [(meet, beyond)]  # and the continuation of the upper one is the Cobb angle
    else:  # nearly parallel: perpendiculars that point at their far meeting point
        ends, marks = [mid + unit(meet - mid) * (0.5 * gap) for mid in mids], []
        meet = centre
    for mid, end, line in zip(mids, ends, lines, strict=True):  # marks on the anterior side
        marks += _right_angle(mid, unit(line[0] - line[1]), unit(end - mid), 8.0 * pixel)
    construction = [*zip(mids, ends, strict=True), *extension]
    return Drawing(lines, construction, marks, meet, anterior)
