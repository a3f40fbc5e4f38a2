"""Overlay building blocks: colours, cosmetic pens, handles, labels and the overlay base item.

Scene coordinates are image coordinates.  Lines use cosmetic pens (constant screen width) drawn
twice, a dark outline under a coloured stroke (:func:`stroke`), so they read on dark and bright
films alike; handles and labels carry ``ItemIgnoresTransformations`` and keep their screen size
at any zoom.  Anterior handles are filled discs, posterior handles hollow rings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from cobbdesk.core.measure.geometry import Point

LINE = QColor("#36d7ff")
SELECTED = QColor("#ffc02e")
PLACING = QColor("#ff8ad8")
OUTLINE = QColor(0, 0, 0, 190)
LABEL_BACKGROUND = QColor(12, 16, 22, 215)
GHOST = QColor(255, 255, 255, 210)
FLAGGED = QColor("#ff9f43")
Segment = tuple[QPointF, QPointF]


def cosmetic_pen(color: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    """A round-capped pen ``width`` screen pixels wide at any zoom."""
    pen = QPen(color, width, style, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    pen.setCosmetic(True)
    return pen


def qp(point: Point) -> QPointF:
    """Image ``(x, y)`` → scene point (scene coordinates are image coordinates)."""
    return QPointF(point[0], point[1])


def pt(p: QPointF) -> Point:
    """Scene point → image ``(x, y)``."""
    return (p.x(), p.y())


def unit(v: QPointF) -> QPointF:
    """``v`` scaled to length 1; ``(1, 0)`` for a zero vector."""
    n = math.hypot(v.x(), v.y())
    return QPointF(v.x() / n, v.y() / n) if n > 1e-12 else QPointF(1.0, 0.0)


def along(v: QPointF, length_px: float, pixel: tuple[float, float]) -> QPointF:
    """The scene vector in the direction of ``v`` that is ``length_px`` screen pixels long,
    where ``pixel`` is the scene units per screen pixel ``(along x, along y)`` (a view that
    draws non-square pixels with their shape scales x and y differently); ``(length, 0)``
    screen pixels for a zero vector."""
    px, py = pixel
    n = math.hypot(v.x() / px, v.y() / py)
    if n <= 1e-12:
        return QPointF(length_px * px, 0.0)
    return QPointF(v.x() * length_px / n, v.y() * length_px / n)


def screen_direction(transform: QTransform, v: QPointF) -> QPointF:
    """The unit screen direction of the scene vector ``v`` under the view ``transform``."""
    return unit(transform.map(v) - transform.map(QPointF(0.0, 0.0)))


def stroke(painter: QPainter, segments: Sequence[Segment], color: QColor, width: float,
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
        self.pixels = (1.0, 1.0)  # scene units per screen pixel along scene x and scene y
        self._bounds = QRectF()

    def set_view(self, transform: QTransform) -> None:
        """Called when zoom/orientation change (window/level changes are ignored cheaply)."""
        if transform == self.view_transform and not self._bounds.isNull():
            return
        self.view_transform = transform
        # screen px per scene x and y unit (screen.axis_scales's rule, not imported: that
        # module loads numpy and OpenCV, which the first paint must not wait for)
        x_scale = math.hypot(transform.m11(), transform.m12())
        y_scale = math.hypot(transform.m21(), transform.m22())
        self.pixels = (1.0 / max(x_scale, 1e-9), 1.0 / max(y_scale, 1e-9))
        self.relayout()

    def relayout(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _set_bounds(self, points: Sequence[QPointF]) -> None:
        self.prepareGeometryChange()
        if not points:
            self._bounds = QRectF()
            return
        xs, ys = [p.x() for p in points], [p.y() for p in points]
        px, py = self.PAD_PX * self.pixels[0], self.PAD_PX * self.pixels[1]
        self._bounds = QRectF(
            min(xs) - px, min(ys) - py, max(xs) - min(xs) + 2 * px, max(ys) - min(ys) + 2 * py
        )

    def boundingRect(self) -> QRectF:
        return self._bounds
