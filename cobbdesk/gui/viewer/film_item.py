"""The film as a QGraphicsItem: scene coordinates are image coordinates (pixel centres at
integers).  Painting renders exactly the device pixels that show the film: the modality values
are sampled at each visible screen pixel (:mod:`cobbdesk.core.dicom.screen`), the VOI is applied
to those only, and the result is drawn at whole device pixels with no Qt scaling."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QImage, QPainter, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from cobbdesk.core.dicom import screen
from cobbdesk.core.dicom.display import Voi, default_voi, render
from cobbdesk.core.dicom.display_frame import FrameBuffers, ScreenFrame, finite_range
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.viewing import level_for_scale, pyramid
from cobbdesk.gui.image_bridge import to_qimage


class FilmItem(QGraphicsItem):
    """Draws a film with a VOI and inversion; renders only the exposed device pixels."""

    def __init__(self, film: Film) -> None:
        super().__init__()
        self.film = film
        self.levels = pyramid(film.pixels)
        self.voi: Voi = default_voi(film)
        self.user_invert = False
        self._padding_levels: list[np.ndarray] | None = None
        self._last: tuple[tuple[Any, ...], np.ndarray, QImage] | None = None
        self._sampled: tuple[tuple[Any, ...], ScreenFrame] | None = None
        self._rect: tuple[screen.Affine, screen.Rect | None] | None = None
        self._buffers = FrameBuffers()  # scratch memory of the screen's frames, kept
        self._range: tuple[float, float] | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def boundingRect(self) -> QRectF:
        return QRectF(-0.5, -0.5, self.film.columns, self.film.rows)

    @property
    def inverted(self) -> bool:
        """MONOCHROME1 / INVERSE, flipped once more by the user's invert."""
        return self.film.inverted != self.user_invert

    def set_display(self, voi: Voi, user_invert: bool) -> None:
        """Change VOI/inversion; the next paint renders what is visible with it."""
        self.voi, self.user_invert = voi, user_invert
        self._last = None
        self.update()

    def image_for_level(self, level: int) -> QImage:
        """The whole pyramid ``level`` rendered (not cached; the viewer checks a film with the
        coarsest level before showing it, so a film that cannot be rendered says so at once)."""
        array = render(self.levels[level], self.voi, inverted=self.inverted)
        padding = self._padding_level(level)
        if padding is not None:
            array[padding >= 128] = 0  # padding drawn as background (PS3.3 C.7.5.1.1.2)
        image = to_qimage(array)
        return image.copy()  # owns its pixels: the array may go

    def _padding_level(self, level: int) -> np.ndarray | None:
        """Padding of pyramid ``level`` as 0/255 coverage (area-averaged like the film)."""
        padding = self.film.padding
        if padding is None or padding.shape != self.levels[0].shape:
            return None
        if self._padding_levels is None:
            self._padding_levels = pyramid(padding.astype(np.uint8) * np.uint8(255))
        levels = self._padding_levels
        return levels[level] if level < len(levels) else None

    def screen_array(self, to_device: screen.Affine, rect: screen.Rect) -> np.ndarray:
        """The ``uint8`` device pixels ``rect`` (see :func:`screen.sample`) with VOI applied
        and padding drawn as background (PS3.3 C.7.5.1.1.2); valid until the next call (the
        frame's buffer is reused)."""
        return self._frame(to_device, rect).render(self.voi, self.inverted)

    def _frame(self, to_device: screen.Affine, rect: screen.Rect) -> ScreenFrame:
        """Modality values and background of device pixels ``rect``, kept for the last view
        geometry: a window/level drag only re-applies the VOI to them."""
        key = (to_device, rect)
        if self._sampled is None or self._sampled[0] != key:
            # the axis drawn largest decides: no level is coarser than a screen pixel there
            level = level_for_scale(max(screen.axis_scales(to_device)), len(self.levels))
            size = (self.film.columns, self.film.rows)
            values = screen.sample(self.levels[level], size, to_device, rect)
            if values.strides[1] != values.itemsize or values.strides[0] < 0:  # turned, flipped
                values = np.ascontiguousarray(values)  # OpenCV takes row-strided views as is
            padding = self._padding_level(level)
            background = screen.background_mask(padding, size, to_device, rect)
            frame = ScreenFrame(values, background, self._buffers, self._bounds(values))
            self._sampled = (key, frame)
        return self._sampled[1]

    def _bounds(self, values: np.ndarray) -> tuple[float, float] | None:
        """The whole film's value range for float data when every value is finite (samples,
        nearest or bilinear from area-averaged levels, lie within it), found once; None for
        other data (integer frames find their own range in one cheap pass)."""
        pixels = self.film.pixels
        if values.dtype.kind != "f" or pixels.dtype != values.dtype or pixels.ndim != 2:
            return None
        if self._range is None:
            self._range = finite_range(pixels) or (math.nan, math.nan)
        return self._range if math.isfinite(self._range[0]) else None

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """Render only the exposed device pixels (about 1 MP for a full view, at any zoom)."""
        world = painter.worldTransform()
        ratio = painter.device().devicePixelRatioF()
        to_device = _physical(world, ratio)
        exposed = world.mapRect(option.exposedRect.intersected(self.boundingRect()))
        u0, v0 = math.floor(exposed.left() * ratio) - 1, math.floor(exposed.top() * ratio) - 1
        u1, v1 = math.ceil(exposed.right() * ratio) + 1, math.ceil(exposed.bottom() * ratio) + 1
        try:
            whole = self.film_rect(world, ratio)
        except ValueError:  # not a quarter-turn view (never set by FilmView): let Qt map it
            self._paint_transformed(painter)
            return
        rect = _intersection(whole, (u0, v0, u1, v1))
        if rect is None:
            return
        key = (to_device, rect)
        if self._last is None or self._last[0] != key:
            array = self.screen_array(to_device, rect)
            image = to_qimage(array)
            image.setDevicePixelRatio(ratio)
            self._last = (key, array, image)
        painter.save()
        painter.setWorldTransform(QTransform())
        painter.drawImage(QPointF(rect[0] / ratio, rect[1] / ratio), self._last[2])
        painter.restore()

    def film_rect(self, world: QTransform, ratio: float) -> screen.Rect | None:
        """The physical device pixels that show the film (:func:`screen.device_rect`) for view
        transform ``world`` and device pixel ratio ``ratio``, remembered for the last geometry
        (None: none do).  Raises ValueError for a view that is not a quarter turn."""
        to_device = _physical(world, ratio)
        if self._rect is None or self._rect[0] != to_device:
            box = world.mapRect(self.boundingRect())
            u0, v0 = math.floor(box.left() * ratio) - 1, math.floor(box.top() * ratio) - 1
            u1, v1 = math.ceil(box.right() * ratio) + 1, math.ceil(box.bottom() * ratio) + 1
            extent = (u0, v0, u1, v1)
            size = (self.film.columns, self.film.rows)
            self._rect = (to_device, screen.device_rect(to_device, size, extent))
        return self._rect[1]

    def covered(self, world: QTransform, ratio: float) -> QRect | None:
        """Device-independent pixels wholly covered by the film's image (whole pixels inside
        :meth:`film_rect`), an empty rect when none; None when unknown (an arbitrary view)."""
        try:
            rect = self.film_rect(world, ratio)
        except ValueError:
            return None
        if rect is None:
            return QRect()
        left, top = math.ceil(rect[0] / ratio), math.ceil(rect[1] / ratio)
        right, bottom = math.floor(rect[2] / ratio), math.floor(rect[3] / ratio)
        return QRect(left, top, max(0, right - left), max(0, bottom - top))

    def _paint_transformed(self, painter: QPainter) -> None:
        """Fallback for an arbitrary transform: the coarsest level, scaled by Qt."""
        image = self.image_for_level(len(self.levels) - 1)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(self.boundingRect(), image)

    def value_at(self, x: float, y: float) -> Any:
        """Modality value of the pixel nearest to image point (x, y), or None outside."""
        column, row = round(x), round(y)
        if 0 <= row < self.film.rows and 0 <= column < self.film.columns:
            return self.film.pixels[row, column].item()
        return None


def _intersection(a: screen.Rect | None, b: screen.Rect) -> screen.Rect | None:
    """The device pixels in both half-open rects (None: none)."""
    if a is None:
        return None
    u0, v0, u1, v1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (u0, v0, u1, v1) if u0 < u1 and v0 < v1 else None


def _physical(world: QTransform, ratio: float) -> screen.Affine:
    """Image → physical device pixels (the world transform is in device-independent pixels)."""
    return (world.m11() * ratio, world.m12() * ratio, world.m21() * ratio, world.m22() * ratio,
            world.dx() * ratio, world.dy() * ratio)  # fmt: skip
