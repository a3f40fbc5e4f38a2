"""The film is drawn where the scene says it is, with the grey levels of PS3.3 C.11.2.1.2.

Screen pixels are grabbed from the offscreen viewport.  Image point (x, y) (pixel centres at
integers) must land on the device point ``view.viewportTransform().map(x, y)``, the mapping the
measurement overlays are drawn with, at every zoom, pan, rotation and flip; at 1:1 every screen
pixel must equal the reference formula of the pixel under it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

from cobbdesk.core.dicom.film import Film, SpacingSource, VoiFunction, Window
from cobbdesk.gui.viewer.film_view import FilmView

ROWS, COLUMNS = 1100, 1400


def _film(pixels: np.ndarray, photometric: str = "MONOCHROME2",
          padding: np.ndarray | None = None) -> Film:  # fmt: skip
    return Film(
        path=Path("/x/paint.dcm"), pixels=pixels, rows=pixels.shape[0], columns=pixels.shape[1],
        bits_stored=12, bits_allocated=16, pixel_representation=int(pixels.dtype.kind == "i"),
        photometric=photometric, transfer_syntax="1.2.840.10008.1.2.1",
        transfer_syntax_name="Explicit VR Little Endian", windows=[], voi_luts=[],
        voi_function=VoiFunction.LINEAR, presentation_lut_shape="", spacing_mm=None,
        spacing_source=SpacingSource.NONE, digest="0" * 64,
        pixel_range=(float(pixels.min()), float(pixels.max())), padding=padding,
    )  # fmt: skip


def _screen(view: FilmView) -> np.ndarray:
    """The viewport's device pixels as a (rows, columns) uint8 array (grey films: R = G = B)."""
    view.viewport().repaint()
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    rows, columns, stride = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=rows * stride)
    return data.reshape(rows, stride)[:, :columns].copy()


def _view(qtbot: Any, film: Film, voi: Any) -> FilmView:
    view = FilmView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    view.set_film(film)
    view.set_voi(voi)
    return view


def _centroid(screen: np.ndarray) -> tuple[float, float]:
    """Grey-weighted centre of the bright screen pixels, pixel u's centre at u + 0.5."""
    v, u = np.nonzero(screen)
    weight = screen[v, u].astype(np.float64)
    return float((weight * (u + 0.5)).sum() / weight.sum()), float(
        (weight * (v + 0.5)).sum() / weight.sum()
    )


MARK = (613, 401)  # image (x, y) of the marker's centre pixel

# zoom, pan in screen pixels, quarter turns, horizontal flip
PLACES = [
    (1.0, (0, 0), 0, False), (1.0, (37, -21), 0, False), (2.0, (5, 3), 0, False),
    (3.7, (-11, 8), 0, False), (0.8, (0, 0), 0, False), (0.37, (2, 1), 0, False),
    (0.2, (0, 0), 0, False), (1.0, (13, 7), 1, False), (2.5, (0, 0), 0, True),
    (0.45, (4, -3), 3, True),
]  # fmt: skip


@pytest.mark.parametrize(("zoom", "pan", "turns", "flip"), PLACES)
def test_a_known_pixel_lands_where_the_scene_maps_it(
    qtbot: Any, zoom: float, pan: tuple[int, int], turns: int, flip: bool
) -> None:
    pixels = np.zeros((ROWS, COLUMNS), np.uint16)
    half = 0 if zoom >= 1 else 8  # one pixel, or a 17 x 17 block that survives the pyramid
    x, y = MARK
    pixels[y - half : y + half + 1, x - half : x + half + 1] = 4000
    view = _view(qtbot, _film(pixels), Window(2048.0, 4096.0, VoiFunction.LINEAR_EXACT))
    view.rotate_quarter(turns)
    if flip:
        view.flip(horizontal=True)
    view.set_zoom(zoom)
    view.centerOn(QPointF(*MARK))
    h, v = view.horizontalScrollBar(), view.verticalScrollBar()
    h.setValue(h.value() + pan[0])
    v.setValue(v.value() + pan[1])
    screen = _screen(view)
    expected = view.viewportTransform().map(QPointF(*MARK))
    cx, cy = _centroid(screen)
    assert abs(cx - expected.x()) <= 0.5 and abs(cy - expected.y()) <= 0.5
    if zoom >= 1:  # the footprint of one pixel: zoom x zoom screen pixels, give or take a row
        assert int(np.ceil(zoom - 1)) ** 2 <= np.count_nonzero(screen) <= int(zoom + 1) ** 2


def _formula_levels(x: np.ndarray, c: float, w: float) -> np.ndarray:
    """PS3.3 C.11.2.1.3.1 SIGMOID, 255 / (1 + exp(-4 (x - c) / w)), rounded (float64)."""
    with np.errstate(over="ignore"):  # exp -> inf: the output is 0, as the formula says
        return np.rint(255.0 / (1.0 + np.exp(-4.0 * (x.astype(np.float64) - c) / w)))


@pytest.mark.parametrize(("turns", "flip"), [(0, False), (1, False), (2, True)])
def test_one_to_one_screen_pixels_equal_the_formula(qtbot: Any, turns: int, flip: bool) -> None:
    """MONOCHROME1, signed data, a SIGMOID window: each screen pixel is 255 minus the formula
    of the film pixel under its centre (nearest, ties as the scene maps pixel centres)."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(-1500, 1500, (ROWS, COLUMNS)).astype(np.int16)
    view = _view(qtbot, _film(pixels, "MONOCHROME1"), Window(0.0, 10.0, VoiFunction.SIGMOID))
    view.rotate_quarter(turns)
    if flip:
        view.flip(horizontal=True)
    view.set_zoom(1.0)
    view.centerOn(QPointF(700.0, 500.0))
    _screen(view)
    for c, w in ((-120.0, 900.0), (700.0, 1.0)):  # a drag: the same place, new windows
        view.set_voi(Window(c, w, VoiFunction.SIGMOID))
        screen = _screen(view)
        inverse, invertible = view.viewportTransform().inverted()
        assert invertible
        height, width = screen.shape
        v, u = np.mgrid[0:height, 0:width]
        x = inverse.m11() * (u + 0.5) + inverse.m21() * (v + 0.5) + inverse.dx()
        y = inverse.m12() * (u + 0.5) + inverse.m22() * (v + 0.5) + inverse.dy()
        # at 1:1 every centre is on a boundary: the pixel further along the device axis
        gx = inverse.m11() + inverse.m21()
        gy = inverse.m12() + inverse.m22()
        col = np.floor(x + 0.5) if gx > 0 else np.ceil(x - 0.5)
        row = np.floor(y + 0.5) if gy > 0 else np.ceil(y - 0.5)
        assert col.min() >= 0 and row.min() >= 0  # the film fills the view
        expected = 255 - _formula_levels(pixels[row.astype(int), col.astype(int)], c, w)
        assert np.array_equal(screen, expected.astype(np.uint8))


@pytest.mark.parametrize("zoom", [1.0, 0.3])
def test_padding_is_drawn_as_background(qtbot: Any, zoom: float) -> None:
    """MONOCHROME1 padding of value 0 would be white through the VOI: it is drawn black."""
    pixels = np.full((ROWS, COLUMNS), 2000, np.uint16)
    padding = np.zeros((ROWS, COLUMNS), bool)
    padding[:, :500] = True
    pixels[padding] = 0
    view = _view(qtbot, _film(pixels, "MONOCHROME1", padding),
                 Window(2048.0, 4096.0, VoiFunction.LINEAR_EXACT))  # fmt: skip
    view.set_zoom(zoom)
    view.centerOn(QPointF(500.0, 550.0))
    screen = _screen(view)
    to_device = view.viewportTransform()
    top_left = to_device.map(QPointF(-0.5, -0.5))
    bottom_right = to_device.map(QPointF(COLUMNS - 0.5, ROWS - 0.5))
    edge = int(to_device.map(QPointF(499.5, 0.0)).x())
    top, bottom = max(0, int(top_left.y()) + 2), min(screen.shape[0], int(bottom_right.y()) - 2)
    left, right = max(0, int(top_left.x()) + 2), min(screen.shape[1], int(bottom_right.x()) - 2)
    padded = screen[top:bottom, left : edge - 2]
    film = screen[top:bottom, edge + 2 : right]
    assert padded.size and not padded.any()
    # LINEAR_EXACT: ((2000 - 2048) / 4096 + 0.5) * 255 = 124.51 -> 125, inverted 130
    assert film.size and (film == 130).all()


OPAQUE_PLACES = [(0.2, 0, False), (0.37, 1, True), (1.0, 0, False), (2.5, 3, False)]


@pytest.mark.parametrize(("zoom", "turns", "flip"), OPAQUE_PLACES)
def test_every_viewport_pixel_is_painted(qtbot: Any, zoom: float, turns: int, flip: bool) -> None:
    """The viewport is opaque (Qt does not clear it before a paint): the background around the
    film and the film's image must cover every pixel.  Rendered over red, which no grey film or
    background shows (at any scale factor, where edges may blend, they blend greys)."""
    pixels = np.full((ROWS, COLUMNS), 4095, np.uint16)
    view = _view(qtbot, _film(pixels), Window(2048.0, 4096.0, VoiFunction.LINEAR_EXACT))
    view.rotate_quarter(turns)
    if flip:
        view.flip(True)
    view.set_zoom(zoom)
    view.centerOn(QPointF(60.0, 40.0))  # a corner of the film: film and background in view
    image = QImage(view.viewport().size(), QImage.Format.Format_RGB32)
    image.fill(QColor(255, 0, 0))
    view.viewport().render(image)
    rows, columns, stride = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=rows * stride)
    bgra = data.reshape(rows, stride)[:, : columns * 4].reshape(rows, columns, 4)
    blue, green, red = (bgra[..., i].astype(int) for i in range(3))
    assert not np.any((red != green) | (green != blue))  # nothing left unpainted
    assert (red == 0).any() and (red == 255).any()  # background and film both in view
