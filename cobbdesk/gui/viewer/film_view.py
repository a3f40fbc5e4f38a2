"""FilmView: one film on screen — zoom, pan, window/level, invert, rotate, flip.

Event bindings (the usual viewer ones): wheel zooms about the cursor; right-drag changes the
window (horizontal = width, vertical = centre); middle-drag (or left-drag with no tool active)
pans.  Left-button events go to ``tool`` (the measurement tool) in image coordinates.

While "fit" is on (after :meth:`FilmView.fit`, until the user zooms), a view with
``refit_on_resize`` refits the film whenever it is resized (the main window's view does).

Pixels are drawn with their physical shape — the one rule
:func:`cobbdesk.core.store.calibration.film_shape` (spacing ratio, else Pixel Aspect Ratio, else
square), scaled by :func:`cobbdesk.core.viewing.pixel_scales` — so lines on screen meet at the
angles the measurements report.  ``zoom`` is screen pixels per image pixel along the shorter
pixel side ("1:1": one screen pixel per image pixel along that side); the longer side is drawn
longer, never shorter.  Scene coordinates stay image coordinates.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QRegion,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from cobbdesk.core.dicom.film import Film, Window
from cobbdesk.core.viewing import (
    ZOOM_STEP,
    Orientation,
    Shape,
    clamp_zoom,
    display_size,
    drag_window,
    fit_scale,
    pixel_scales,
)

if TYPE_CHECKING:  # array code loads with the first film, not before the first paint
    from cobbdesk.core.dicom.display import Voi
    from cobbdesk.gui.viewer.film_item import FilmItem


class Tool(Protocol):
    """What the view forwards left-button events to (image coordinates)."""

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> bool: ...
    def move(self, x: float, y: float, buttons: Qt.MouseButton) -> bool: ...
    def release(self, x: float, y: float) -> bool: ...


class FilmView(QGraphicsView):
    cursorMoved = Signal(float, float)  # image coordinates
    cursorLeft = Signal()  # the pointer left the view: no position to show
    displayChanged = Signal()  # VOI, inversion, zoom or orientation changed
    filmChanged = Signal()  # a new scene holds the new film (overlays rebuild themselves)
    windowDragged = Signal(object)  # the Window being dragged (right button), None at release
    visibleChanged = Signal()  # the visible part of the scene moved (pan, zoom, resize)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setBackgroundBrush(Qt.GlobalColor.black)
        # Every pixel is painted (background around the film, the film's image): no clearing.
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.item: FilmItem | None = None
        self.tool: Tool | None = None
        self.zoom = 1.0
        self.orientation = Orientation()
        self.shape: Shape = None  # the film's pixel shape (vertical, horizontal); None: square
        self._drag: tuple[Qt.MouseButton, QPointF] | None = None
        self.fitted = False  # "fit" is on: refit on resize (when refit_on_resize)
        self.refit_on_resize = False
        self.empty_hint = ""  # drawn in the middle while no film is shown (the main window's)

    # --- film and display -------------------------------------------------------------
    def set_film(self, film: Film | None) -> None:
        """Show ``film`` in a fresh scene (None: empty view); emits ``filmChanged``."""
        old = self.scene()
        self.setScene(QGraphicsScene(self))
        old.deleteLater()
        self.item = None
        self.orientation = Orientation()
        self.shape = None
        if film is None:
            self.filmChanged.emit()
            return
        from cobbdesk.gui import errors
        from cobbdesk.gui.viewer.film_item import FilmItem

        try:  # a film that cannot be shown says why instead of appearing loaded and blank
            item = FilmItem(film)
            item.image_for_level(len(item.levels) - 1)
        except Exception as exc:
            from cobbdesk.core.dicom.faults import film_error
            from cobbdesk.core.errors import CobbdeskError

            shown = exc if isinstance(exc, CobbdeskError) else film_error(film.path, exc, "film")
            errors.report(self, shown, f"Showing {film.path.name}")
            self.filmChanged.emit()
            return
        self.item = item
        self.shape = _film_shape(film)
        self.item.setZValue(-1)
        self.scene().addItem(self.item)
        rect = self.item.boundingRect()
        margin = max(rect.width(), rect.height())
        self.scene().setSceneRect(rect.adjusted(-margin, -margin, margin, margin))
        self.fit()
        self.filmChanged.emit()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """Fill only what the film's image does not cover (it paints every pixel it covers)."""
        covered = None
        if self.item is not None:
            ratio = painter.device().devicePixelRatioF()
            covered = self.item.covered(painter.worldTransform(), ratio)
        if covered is None or covered.isEmpty():
            super().drawBackground(painter, rect)
            return
        exposed = painter.worldTransform().mapRect(rect).toAlignedRect()
        painter.save()
        painter.resetTransform()
        for part in QRegion(exposed).subtracted(QRegion(covered)):
            painter.fillRect(part, self.backgroundBrush())
        painter.restore()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """With no film: :attr:`empty_hint`, grey, word-wrapped in the middle of the view."""
        super().drawForeground(painter, rect)
        if self.item is not None or not self.empty_hint:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor(170, 170, 170))
        painter.setFont(self.font())
        area = self.viewport().rect().adjusted(24, 24, -24, -24)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        painter.drawText(area, int(flags), self.empty_hint)
        painter.restore()

    @property
    def film(self) -> Film | None:
        return self.item.film if self.item else None

    def set_voi(self, voi: Voi) -> None:
        if self.item:
            self.item.set_display(voi, self.item.user_invert)
            self.displayChanged.emit()

    def reset_window(self) -> None:
        from cobbdesk.core.dicom.display import default_voi

        if self.item:
            self.set_voi(default_voi(self.item.film))

    def auto_window(self) -> None:
        from cobbdesk.core.dicom.display import auto_window

        if self.item:
            film = self.item.film
            self.set_voi(auto_window(film.pixels, film.voi_function, film.padding))

    def toggle_invert(self) -> None:
        if self.item:
            self.item.set_display(self.item.voi, not self.item.user_invert)
            self.displayChanged.emit()

    # --- geometry ----------------------------------------------------------------------
    def _apply_transform(self) -> None:
        """Image → view: the pixel shape (image axes), then the quarter turns, then the flips
        and the zoom (screen axes)."""
        o = self.orientation
        sx = -self.zoom if o.flip_horizontal else self.zoom
        sy = -self.zoom if o.flip_vertical else self.zoom
        shape = QTransform.fromScale(*pixel_scales(self.shape))
        turn = QTransform().rotate(90 * o.quarter_turns)
        self.setTransform(shape * turn * QTransform.fromScale(sx, sy))
        self.displayChanged.emit()
        self.visibleChanged.emit()

    def refresh_shape(self) -> None:
        """Draw the film with its pixel shape again after its spacing or Pixel Aspect Ratio
        changed in place (a calibration): refits when "fit" is on, else keeps the centre."""
        if self.item is None:
            return
        shape = _film_shape(self.item.film)
        same = pixel_scales(shape) == pixel_scales(self.shape)
        self.shape = shape
        if same:
            return
        if self.fitted:
            self.fit()
            return
        centre = self.mapToScene(self.viewport().rect().center())
        with self._whole_repaint():
            self._apply_transform()
            self.centerOn(centre)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Set screen pixels per image pixel, keeping scene point ``anchor`` where it is
        (turns "fit" off)."""
        self.fitted = False
        if anchor is not None:
            before = self.mapFromScene(anchor)
        with self._whole_repaint():
            self.zoom = clamp_zoom(zoom)
            self._apply_transform()
            if anchor is not None:
                shift = self.mapFromScene(anchor) - before
                h, v = self.horizontalScrollBar(), self.verticalScrollBar()
                h.setValue(h.value() + shift.x())
                v.setValue(v.value() + shift.y())

    @contextmanager
    def _whole_repaint(self) -> Iterator[None]:
        """For a change of zoom or orientation: the whole viewport is painted anew, so the
        scrolls it makes update it instead of first moving pixels about to change (a blit of
        the viewport per scroll bar: about 0.2 ms each on an opaque 1 MP viewport)."""
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        try:
            yield
        finally:
            self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)

    def fit(self) -> None:
        if not self.item:
            return
        rect = self.item.boundingRect()
        film = self.item.film
        size = display_size(film.columns, film.rows, self.shape, self.orientation.quarter_turns)
        viewport = self.viewport().size()
        with self._whole_repaint():
            self.zoom = fit_scale(size, (viewport.width() - 4, viewport.height() - 4))
            self._apply_transform()
            self.centerOn(rect.center())
        self.fitted = True

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fitted and self.refit_on_resize and self.item is not None:
            self.fit()
        self.visibleChanged.emit()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self.visibleChanged.emit()

    def one_to_one(self) -> None:
        """Zoom 1: one screen pixel per image pixel along the shorter pixel side."""
        self.set_zoom(1.0, self.mapToScene(self.viewport().rect().center()))

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * ZOOM_STEP, self.mapToScene(self.viewport().rect().center()))

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / ZOOM_STEP, self.mapToScene(self.viewport().rect().center()))

    def rotate_quarter(self, turns: int) -> None:
        self.orientation = self.orientation.rotated(turns)
        self.fit()

    def flip(self, horizontal: bool) -> None:
        self.orientation = self.orientation.flipped(horizontal)
        self._apply_transform()

    # --- events ------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            anchor = self.mapToScene(event.position().toPoint())
            self.set_zoom(self.zoom * ZOOM_STEP**steps, anchor)
        event.accept()

    def _image_point(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = self._image_point(event)
        button = event.button()
        tool = self.tool if button == Qt.MouseButton.LeftButton else None
        if tool is not None and tool.press(point.x(), point.y(), event.modifiers()):
            event.accept()
            return
        if button in (
            Qt.MouseButton.RightButton,
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._drag = (button, event.position())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = self._image_point(event)
        self.cursorMoved.emit(point.x(), point.y())
        if self._drag is not None:
            button, last = self._drag
            delta = event.position() - last
            self._drag = (button, event.position())
            if button == Qt.MouseButton.RightButton:
                self._window_drag(delta.x(), delta.y())
            else:
                self.fitted = False  # the user placed the film: a resize keeps it there
                h, v = self.horizontalScrollBar(), self.verticalScrollBar()
                h.setValue(h.value() - round(delta.x()))
                v.setValue(v.value() - round(delta.y()))
            event.accept()
            return
        if self.tool is not None and self.tool.move(point.x(), point.y(), event.buttons()):
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None and self._drag[0] == event.button():
            if self._drag[0] == Qt.MouseButton.RightButton:
                self.windowDragged.emit(None)
            self._drag = None
            event.accept()
            return
        point = self._image_point(event)
        tool = self.tool if event.button() == Qt.MouseButton.LeftButton else None
        if tool is not None and tool.release(point.x(), point.y()):
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self.cursorLeft.emit()
        super().leaveEvent(event)

    def contextMenuEvent(self, event: object) -> None:  # right button is window/level
        return

    def _window_drag(self, dx: float, dy: float) -> None:
        if not self.item:
            return
        current = self.item.voi
        if not isinstance(current, Window):  # a VOI LUT: start from the automatic window
            from cobbdesk.core.dicom.display import auto_window

            current = auto_window(self.item.film.pixels)
        window = drag_window(current, dx=dx, dy=dy, pixel_range=self.item.film.pixel_range)
        self.set_voi(window)
        self.windowDragged.emit(window)


def _film_shape(film: Film) -> Shape:
    """The film's pixel shape by the one rule (:func:`cobbdesk.core.pixel_shape.film_shape`,
    which is ``store.calibration.film_shape``; imported from its pure home: no SQLAlchemy)."""
    from cobbdesk.core.pixel_shape import film_shape

    return film_shape(film)
