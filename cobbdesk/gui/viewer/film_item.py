"""The film as a QGraphicsItem: scene coordinates are image coordinates (pixel centres at
integers), and painting draws the pyramid level that matches the zoom."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from cobbdesk.core.dicom.display import Voi, default_voi, render
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.viewing import level_for_scale, level_tile, pyramid
from cobbdesk.gui.image_bridge import to_qimage


class FilmItem(QGraphicsItem):
    """Draws a film with a VOI and inversion; renders only the exposed part of one level."""

    def __init__(self, film: Film) -> None:
        super().__init__()
        self.film = film
        self.levels = pyramid(film.pixels)
        self.voi: Voi = default_voi(film)
        self.user_invert = False
        self._cache: dict[int, tuple[np.ndarray, QImage]] = {}
        self._tiles: dict[tuple[int, ...], tuple[np.ndarray, QImage]] = {}
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def boundingRect(self) -> QRectF:
        return QRectF(-0.5, -0.5, self.film.columns, self.film.rows)

    def set_display(self, voi: Voi, user_invert: bool) -> None:
        """Change VOI/inversion; the next paint renders the level it needs."""
        self.voi, self.user_invert = voi, user_invert
        self._cache.clear()
        self._tiles = {}
        self.update()

    def image_for_level(self, level: int) -> QImage:
        """The rendered QImage of pyramid ``level`` (cached until the display changes)."""
        if level not in self._cache:
            inverted = self.film.inverted != self.user_invert
            array = render(self.levels[level], self.voi, inverted=inverted)
            padding = self.film.padding
            if padding is not None and padding.shape == array.shape:
                array[padding] = 0  # padding drawn as background (PS3.3 C.7.5.1.1.2)
            self._cache[level] = (array, to_qimage(array))
        return self._cache[level][1]

    def tile_image(self, level: int, tile: tuple[int, int, int, int]) -> QImage:
        """The rendered QImage of ``tile`` (x0, y0, x1, y1) of pyramid ``level`` (cached)."""
        key = (level, *tile)
        if key not in self._tiles:
            x0, y0, x1, y1 = tile
            inverted = self.film.inverted != self.user_invert
            array = render(self.levels[level][y0:y1, x0:x1], self.voi, inverted=inverted)
            padding = self.film.padding
            if level == 0 and padding is not None and padding.shape == self.levels[0].shape:
                array[padding[y0:y1, x0:x1]] = 0  # drawn as background (PS3.3 C.7.5.1.1.2)
            self._tiles = {key: (array, to_qimage(array))}  # the last exposed tile only
        return self._tiles[key][1]

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """Render only the exposed part of the level the zoom needs (about 1 MP at 1:1)."""
        scale = option.levelOfDetailFromTransform(painter.worldTransform())  # type: ignore[attr-defined]
        level = level_for_scale(scale, len(self.levels))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1)
        exposed = option.exposedRect.intersected(self.boundingRect())  # type: ignore[attr-defined]
        shape = self.levels[level].shape[:2]
        tile = level_tile((exposed.x(), exposed.y(), exposed.width(), exposed.height()),
                          (self.film.columns, self.film.rows), (shape[0], shape[1]))  # fmt: skip
        if tile is None:
            return
        x0, y0, x1, y1 = tile
        sx, sy = self.film.columns / shape[1], self.film.rows / shape[0]
        target = QRectF(x0 * sx - 0.5, y0 * sy - 0.5, (x1 - x0) * sx, (y1 - y0) * sy)
        painter.drawImage(target, self.tile_image(level, tile))

    def value_at(self, x: float, y: float) -> Any:
        """Modality value of the pixel nearest to image point (x, y), or None outside."""
        column, row = round(x), round(y)
        if 0 <= row < self.film.rows and 0 <= column < self.film.columns:
            return self.film.pixels[row, column].item()
        return None
