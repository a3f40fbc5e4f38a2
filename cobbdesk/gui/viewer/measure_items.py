"""QGraphicsItems that draw Cobb measurements (render only: geometry comes from the core).

Scene coordinates are image coordinates.  Lines use cosmetic pens (constant screen width) drawn
twice, a dark outline under a coloured stroke, so they read on dark and bright films alike;
handles and labels are children with ``ItemIgnoresTransformations`` and keep their screen size
at any zoom.  Anterior handles are filled discs, posterior handles hollow rings.  Labels are
kept inside the visible part of the view (:meth:`MeasurementItem.keep_labels_inside`): a label
that would be cut by the edge slides back in, still next to its lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.measure.geometry import Point, cobb_construction
from cobbdesk.core.measure.measurement import CobbMeasurement, LineName, PointName

LINE = QColor("#36d7ff")
SELECTED = QColor("#ffc02e")
PLACING = QColor("#ff8ad8")
OUTLINE = QColor(0, 0, 0, 190)
LABEL_BACKGROUND = QColor(12, 16, 22, 215)
GHOST = QColor(255, 255, 255, 210)
FLAGGED = QColor("#ff9f43")
Segment = tuple[QPointF, QPointF]


def cosmetic_pen(color: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color, width, style, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    pen.setCosmetic(True)
    return pen


def level_text(level: str) -> str:
    """``"C2 inferior endplate"`` → ``"C2 inf"`` (other names unchanged)."""
    return level.replace(" inferior endplate", " inf").replace(" superior endplate", " sup")


def _qp(point: Point) -> QPointF:
    return QPointF(point[0], point[1])


def _pt(p: QPointF) -> Point:
    return (p.x(), p.y())


def _unit(v: QPointF) -> QPointF:
    n = math.hypot(v.x(), v.y())
    return QPointF(v.x() / n, v.y() / n) if n > 1e-12 else QPointF(1.0, 0.0)


def _screen_direction(transform: QTransform, v: QPointF) -> QPointF:
    return _unit(transform.map(v) - transform.map(QPointF(0.0, 0.0)))


def _stroke(painter: QPainter, segments: Sequence[Segment], color: QColor, width: float,
            style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> None:  # fmt: skip
    """Dark outline first, then the coloured stroke on top."""
    for pen in (cosmetic_pen(OUTLINE, width + 2.0), cosmetic_pen(color, width, style)):
        painter.setPen(pen)
        for a, b in segments:
            painter.drawLine(a, b)


class HandleItem(QGraphicsItem):
    """A corner handle of constant screen size: filled = anterior, ring = posterior."""

    def __init__(self, parent: QGraphicsItem, anterior: bool) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.anterior, self.color, self.radius = anterior, LINE, 5.0

    def set_style(self, color: QColor, radius: float) -> None:
        self.prepareGeometryChange()
        self.color, self.radius = color, radius
        self.update()

    def boundingRect(self) -> QRectF:
        r = self.radius + 3.0
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        r = self.radius
        painter.setPen(QPen(OUTLINE, 4.0 if not self.anterior else 1.5))
        painter.setBrush(self.color if self.anterior else Qt.BrushStyle.NoBrush)
        painter.drawEllipse(QPointF(0, 0), r, r)
        if not self.anterior:
            painter.setPen(QPen(self.color, 2.0))
            painter.drawEllipse(QPointF(0, 0), r, r)


class LabelItem(QGraphicsItem):
    """Text in a dark rounded box of constant screen size, placed beside its anchor (``pos``).

    ``direction`` (a screen-space unit vector) says on which side of the anchor the box sits.
    """

    def __init__(self, parent: QGraphicsItem, *, bold: bool = False,
                 point_size: float = 9.5) -> None:  # fmt: skip
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.font = QFont()
        self.font.setPointSizeF(point_size)
        self.font.setBold(bold)
        self.text, self.color, self.border = "", QColor(Qt.GlobalColor.white), LINE
        self.direction, self.gap = QPointF(1.0, 0.0), 12.0
        self._box = QRectF()
        self.shift = QPointF()  # screen pixels that keep the box inside the view

    def set_label(self, text: str, color: QColor, border: QColor, direction: QPointF) -> None:
        self.prepareGeometryChange()
        self.text, self.color, self.border, self.direction = text, color, border, direction
        metrics = QFontMetricsF(self.font)
        lines = text.splitlines() or [""]
        width = max(metrics.horizontalAdvance(line) for line in lines) + 12.0
        height = metrics.lineSpacing() * len(lines) + 6.0
        dx, dy = direction.x(), direction.y()
        x = 0.0 if dx > 0.35 else -width if dx < -0.35 else -width / 2
        y = 0.0 if dy > 0.35 else -height if dy < -0.35 else -height / 2
        self._box = QRectF(x + dx * self.gap, y + dy * self.gap, width, height)
        self.update()

    @property
    def box(self) -> QRectF:
        """The text box in screen pixels relative to the anchor, after the shift."""
        return self._box.translated(self.shift)

    def keep_inside(self, visible: QRectF, anchor: QPointF) -> None:
        """Shift the box so that it lies inside ``visible`` (viewport pixels); ``anchor`` is
        where the label's position lands in the viewport.  A box larger than the view keeps
        its top-left corner visible; a label whose anchor is out of sight goes with it."""
        shift = QPointF()
        if visible.contains(anchor):
            box = self._box.translated(anchor)
            dx = _inside(box.left(), box.right(), visible.left(), visible.right())
            shift = QPointF(dx, _inside(box.top(), box.bottom(), visible.top(), visible.bottom()))
        if shift != self.shift:
            self.prepareGeometryChange()
            self.shift = shift
            self.update()

    def boundingRect(self) -> QRectF:
        return self.box.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(self.border, 1.2))
        painter.setBrush(LABEL_BACKGROUND)
        box = self.box
        painter.drawRoundedRect(box, 4.0, 4.0)
        painter.setFont(self.font)
        painter.setPen(self.color)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.text)


def _inside(low: float, high: float, start: float, end: float) -> float:
    """How far to move the span [low, high] into [start, end] (start wins when too long)."""
    if low < start or high - low > end - start:
        return start - low
    return min(0.0, end - high)


class OverlayItem(QGraphicsItem):
    """Base: knows the view transform, to size cosmetic padding and place labels on screen."""

    PAD_PX = 8.0

    def __init__(self) -> None:
        super().__init__()
        self.view_transform = QTransform()
        self.pixel = 1.0  # scene units per screen pixel
        self._bounds = QRectF()

    def set_view(self, transform: QTransform) -> None:
        """Called when zoom/orientation change (window/level changes are ignored cheaply)."""
        if transform == self.view_transform and not self._bounds.isNull():
            return
        self.view_transform = transform
        self.pixel = 1.0 / max(math.sqrt(abs(transform.determinant())), 1e-9)
        self.relayout()

    def relayout(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _set_bounds(self, points: Sequence[QPointF]) -> None:
        self.prepareGeometryChange()
        if not points:
            self._bounds = QRectF()
            return
        xs, ys = [p.x() for p in points], [p.y() for p in points]
        pad = self.PAD_PX * self.pixel
        self._bounds = QRectF(
            min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad
        )

    def boundingRect(self) -> QRectF:
        return self._bounds


@dataclass(frozen=True)
class _Drawing:
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


def _drawing(m: CobbMeasurement, film: QRectF, pixel: float) -> _Drawing:
    """What to draw: endplates, then the perpendiculars (or the extensions to a near meeting)."""
    upper, lower = m.upper.as_tuple(), m.lower.as_tuple()
    c = cobb_construction(upper, lower, m.angle_spacing)  # pixel shape too (Pixel Aspect Ratio)
    lines = [(_qp(upper[0]), _qp(upper[1])), (_qp(lower[0]), _qp(lower[1]))]
    mids = (_qp(c.upper_mid), _qp(c.lower_mid))
    centre = (mids[0] + mids[1]) / 2.0
    if c.lines_meet is not None and film.contains(_qp(c.lines_meet)):
        meet = _qp(c.lines_meet)
        near = [min(line, key=lambda p: math.dist(_pt(p), _pt(meet))) for line in lines]
        arc = _arc(meet, near[0], near[1], 26.0 * pixel)
        return _Drawing(lines, [(p, meet) for p in near], arc, meet, meet - centre)
    anterior = lines[0][0] - lines[0][1]
    if c.perpendiculars_meet is None:  # parallel: nothing meets
        return _Drawing(lines, [], [], centre, anterior)
    meet = _qp(c.perpendiculars_meet)
    gap = math.dist(c.upper_mid, c.lower_mid)
    extension: list[Segment] = []
    if film.contains(meet) and math.dist(c.perpendiculars_meet, _pt(centre)) <= gap:
        beyond = meet + _unit(meet - mids[0]) * (40.0 * pixel)  # the angle between the lower
        ends, marks = [meet, meet], _arc(meet, beyond, mids[1], 26.0 * pixel)  # perpendicular
        extension = [(meet, beyond)]  # and the continuation of the upper one is the Cobb angle
    else:  # nearly parallel: perpendiculars that point at their far meeting point
        ends, marks = [mid + _unit(meet - mid) * (0.5 * gap) for mid in mids], []
        meet = centre
    for mid, end, line in zip(mids, ends, lines, strict=True):  # marks on the anterior side
        marks += _right_angle(mid, _unit(line[0] - line[1]), _unit(end - mid), 8.0 * pixel)
    construction = [*zip(mids, ends, strict=True), *extension]
    return _Drawing(lines, construction, marks, meet, anterior)


class MeasurementItem(OverlayItem):
    """One measurement: endplate lines, construction, handles, level and angle labels."""

    def __init__(self, m: CobbMeasurement, film_size: tuple[int, int]) -> None:
        super().__init__()
        self.setZValue(10)
        self.measurement, self.selected = m, False
        self._film = QRectF(-0.5, -0.5, film_size[0], film_size[1])
        self.handles = {p: HandleItem(self, p.end == "anterior") for p in PointName}
        self.levels = {n: LabelItem(self) for n in LineName}
        self.angle_label = LabelItem(self, bold=True, point_size=11.0)
        self.angle_label.gap = 34.0  # clear of the angle arc
        self._drawing: _Drawing | None = None
        self.notes: dict[LineName, str] = {}
        self.flag: str | None = None
        self.relayout()

    @property
    def color(self) -> QColor:
        return SELECTED if self.selected else LINE

    def set_notes(self, notes: dict[LineName, str], flag: str | None) -> None:
        """Text under each level label (how far snapping moved it) and a plausibility flag."""
        if notes != self.notes or flag != self.flag:
            self.notes, self.flag = dict(notes), flag
            self.relayout()

    def set_measurement(self, m: CobbMeasurement) -> None:
        self.measurement = m
        self.relayout()

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self.setZValue(11 if selected else 10)
            self.relayout()

    def relayout(self) -> None:
        m, color = self.measurement, self.color
        self._drawing = d = _drawing(m, self._film, self.pixel)
        points = [p for seg in d.lines + d.construction for p in seg]
        self._set_bounds(points)
        for which, handle in self.handles.items():
            handle.setPos(_qp(m.point(which)))
            handle.set_style(color, 6.0 if self.selected else 5.0)
        for name, label in self.levels.items():
            line = m.line(name)
            label.setPos(_qp(line.posterior))
            direction = _screen_direction(
                self.view_transform, _qp(line.posterior) - _qp(line.anterior)
            )
            text = level_text(m.template.levels[name is LineName.LOWER])
            text += f"\n{self.notes[name]}" if self.notes.get(name) else ""
            label.set_label(text, QColor(Qt.GlobalColor.white), color, direction)
        self.angle_label.setPos(d.anchor)
        angle = angle_text(m.angle, calibrated=m.spacing is not None, separator="\n")
        self.angle_label.set_label(
            angle + ("\n\u26a0 implausible: check" if self.flag else ""),
            FLAGGED if self.flag else color,
            FLAGGED if self.flag else color,
            _screen_direction(self.view_transform, d.direction),
        )
        self.keep_labels_inside()
        self.update()

    def keep_labels_inside(self) -> None:
        """Slide each label back inside the visible part of the (first) view showing it."""
        scene = self.scene()
        views = scene.views() if scene is not None else []
        if not views:
            return
        view = views[0]
        visible = QRectF(view.viewport().rect()).adjusted(4, 4, -4, -4)
        for label in (*self.levels.values(), self.angle_label):
            anchor = QPointF(view.mapFromScene(label.scenePos()))
            label.keep_inside(visible, anchor)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        d = self._drawing
        if d is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        _stroke(painter, d.construction, self.color, 1.3, Qt.PenStyle.DashLine)
        _stroke(painter, d.marks, self.color, 1.2)
        _stroke(painter, d.lines, self.color, 3.0 if self.selected else 2.2)


class SketchItem(OverlayItem):
    """Work in progress: the clicks of a placement with a rubber band to the cursor, or (as a
    ghost) the clicked lines faintly, after snapping moved them."""

    def __init__(self, ghost: bool = False) -> None:
        super().__init__()
        self.setZValue(12 if not ghost else 9)
        self.ghost = ghost
        self.points: list[Point] = []
        self.pointer: Point | None = None
        self._handles: list[HandleItem] = []

    def set_points(self, points: Sequence[Point], pointer: Point | None = None) -> None:
        self.points, self.pointer = list(points), pointer
        self.relayout()

    def set_pointer(self, pointer: Point | None) -> None:
        self.pointer = pointer
        self.relayout()

    def _segments(self) -> tuple[list[Segment], list[Segment]]:
        pts = [_qp(p) for p in self.points]
        solid = [(pts[i], pts[i + 1]) for i in range(0, len(pts) - 1, 2)]
        band = []
        if len(pts) % 2 == 1 and self.pointer is not None and not self.ghost:
            band.append((pts[-1], _qp(self.pointer)))
        return solid, band

    def relayout(self) -> None:
        solid, band = self._segments()
        self._set_bounds([p for seg in solid + band for p in seg] + [_qp(p) for p in self.points])
        if not self.ghost:
            while len(self._handles) < len(self.points):
                self._handles.append(HandleItem(self, len(self._handles) % 2 == 0))
            for i, handle in enumerate(self._handles):
                handle.setVisible(i < len(self.points))
                if i < len(self.points):
                    handle.setPos(_qp(self.points[i]))
                    handle.set_style(PLACING, 5.0)
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        solid, band = self._segments()
        if self.ghost:
            size = 4.0 * self.pixel
            crosses = []
            for x, y in self.points:
                crosses += [
                    (QPointF(x - size, y - size), QPointF(x + size, y + size)),
                    (QPointF(x - size, y + size), QPointF(x + size, y - size)),
                ]
            _stroke(painter, solid, GHOST, 1.2, Qt.PenStyle.DotLine)
            _stroke(painter, crosses, GHOST, 1.2)
            return
        _stroke(painter, solid, PLACING, 2.2)
        _stroke(painter, band, PLACING, 1.5, Qt.PenStyle.DashLine)
