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
from PySide6.QtGui import QImage

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
