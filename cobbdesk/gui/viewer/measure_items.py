"""QGraphicsItems that draw Cobb measurements (render only: geometry comes from the core).

:class:`MeasurementItem` draws a saved measurement (endplate lines, construction, handles, level
and angle labels), :class:`SketchItem` a placement in progress or the ghost of snapped-away clicks.
The building blocks (pens, handles, labels, the overlay base) live in
:mod:`cobbdesk.gui.viewer.overlay_items`, the layout of the construction in
:mod:`cobbdesk.gui.viewer.measure_drawing`.  Labels are kept inside the visible part of the view
(:meth:`MeasurementItem.keep_labels_inside`): a label that would be cut by the edge slides back
in, still next to its lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.measure.geometry import Point
from cobbdesk.core.measure.measurement import CobbMeasurement, LineName, PointName
from cobbdesk.gui.viewer.measure_drawing import Drawing, drawing
from cobbdesk.gui.viewer.overlay_items import (
    FLAGGED,
    GHOST,
    LINE,
    PLACING,
    SELECTED,
    HandleItem,
    LabelItem,
    OverlayItem,
    Segment,
    qp,
    screen_direction,
    stroke,
)

__all__ = ["MeasurementItem", "OverlayItem", "SketchItem", "angle_text", "level_text"]


def level_text(level: str) -> str:
    """``"C2 inferior endplate"`` → ``"C2 inf"`` (other names unchanged)."""
    return level.replace(" inferior endplate", " inf").replace(" superior endplate", " sup")


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
        self._drawing: Drawing | None = None
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
        self._drawing = d = drawing(m, self._film, self.pixels)
        points = [p for seg in d.lines + d.construction for p in seg]
        self._set_bounds(points)
        for which, handle in self.handles.items():
            handle.setPos(qp(m.point(which)))
            handle.set_style(color, 6.0 if self.selected else 5.0)
        for name, label in self.levels.items():
            line = m.line(name)
            label.setPos(qp(line.posterior))
            direction = screen_direction(
                self.view_transform, qp(line.posterior) - qp(line.anterior)
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
            screen_direction(self.view_transform, d.direction),
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
        stroke(painter, d.construction, self.color, 1.3, Qt.PenStyle.DashLine)
        stroke(painter, d.marks, self.color, 1.2)
        stroke(painter, d.lines, self.color, 3.0 if self.selected else 2.2)


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
        pts = [qp(p) for p in self.points]
        solid = [(pts[i], pts[i + 1]) for i in range(0, len(pts) - 1, 2)]
        band = []
        if len(pts) % 2 == 1 and self.pointer is not None and not self.ghost:
            band.append((pts[-1], qp(self.pointer)))
        return solid, band

    def relayout(self) -> None:
        solid, band = self._segments()
        self._set_bounds([p for seg in solid + band for p in seg] + [qp(p) for p in self.points])
        if not self.ghost:
            while len(self._handles) < len(self.points):
                self._handles.append(HandleItem(self, len(self._handles) % 2 == 0))
            for i, handle in enumerate(self._handles):
                handle.setVisible(i < len(self.points))
                if i < len(self.points):
                    handle.setPos(qp(self.points[i]))
                    handle.set_style(PLACING, 5.0)
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        solid, band = self._segments()
        if self.ghost:
            sx, sy = 4.0 * self.pixels[0], 4.0 * self.pixels[1]
            crosses = []
            for x, y in self.points:
                crosses += [
                    (QPointF(x - sx, y - sy), QPointF(x + sx, y + sy)),
                    (QPointF(x - sx, y + sy), QPointF(x + sx, y - sy)),
                ]
            stroke(painter, solid, GHOST, 1.2, Qt.PenStyle.DotLine)
            stroke(painter, crosses, GHOST, 1.2)
            return
        stroke(painter, solid, PLACING, 2.2)
        stroke(painter, band, PLACING, 1.5, Qt.PenStyle.DashLine)
