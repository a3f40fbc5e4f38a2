"""Viewer maths that the GUI only wires up: window drags, zoom steps, pixel shape on screen,
display pyramids.

Kept out of Qt so it is tested without widgets and shared by every view (single and compare).

>>> from cobbdesk.core.dicom.film import Window
>>> w = drag_window(Window(2048, 4096), dx=10, dy=-5, pixel_range=(0, 4095))
>>> round(w.center, 1), round(w.width, 1)
(2008.0, 4176.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cobbdesk.core.dicom.film import VoiFunction, Window

if TYPE_CHECKING:
    import numpy.typing as npt

#: Window change per screen pixel dragged, as a fraction of the data range.
DRAG_SENSITIVITY = 1 / 512
ZOOM_STEP = 1.25
ZOOM_LIMITS = (0.02, 40.0)
#: Pyramid levels stop once the longer side is at most this many pixels.
PYRAMID_FLOOR = 512


def drag_window(
    window: Window, *, dx: float, dy: float, pixel_range: tuple[float, float]
) -> Window:
    """The usual viewer binding: right = wider window, up = brighter (lower centre).

    Windows are floating point: the step follows the data's range (a rescale to 0.24…0.73
    drags in steps of about 0.0025) and the width stays above 1/1000 of that range, never 0
    (any width > 0 is valid, see ``Window``).  The function becomes LINEAR unless the window
    was LINEAR_EXACT (a dragged SIGMOID window is a user choice, not the file's).
    """
    span = pixel_range[1] - pixel_range[0]
    span = span if span > 0 else max(abs(pixel_range[1]), 1.0)
    step = span * DRAG_SENSITIVITY
    width = max(span * 1e-3, window.width + dx * step)
    center = window.center + dy * step
    function = (
        window.function if window.function is VoiFunction.LINEAR_EXACT else VoiFunction.LINEAR
    )
    return Window(center, width, function, "manual")


def clamp_zoom(scale: float) -> float:
    """Zoom factor (screen pixels per image pixel) within ``ZOOM_LIMITS``."""
    return min(max(scale, ZOOM_LIMITS[0]), ZOOM_LIMITS[1])


def fit_scale(image_size: tuple[float, float], view_size: tuple[float, float]) -> float:
    """Scale that fits an image of (width, height) into a view of (width, height)."""
    iw, ih = image_size
    vw, vh = view_size
    if iw <= 0 or ih <= 0 or vw <= 0 or vh <= 0:
        return 1.0
    return clamp_zoom(min(vw / iw, vh / ih))


Shape = tuple[float, float] | None
"""A pixel shape ``(vertical, horizontal)`` (any unit: mm or a Pixel Aspect Ratio), None for
square pixels: what :func:`cobbdesk.core.store.calibration.film_shape` gives."""


def pixel_scales(shape: Shape) -> tuple[float, float]:
    """Screen pixels per image pixel ``(along x, along y)`` at zoom 1 for pixels of ``shape``.

    A viewer draws each pixel with its physical shape (PS3.3 C.7.6.3.1.7 Pixel Aspect Ratio;
    PS3.3 10.7.1.3 Pixel Spacing: row spacing = the pixel's height, column spacing = its
    width): with ``(v, h)`` the shape, x is scaled by ``h / min(v, h)`` and y by
    ``v / min(v, h)``, so the shorter pixel side keeps the zoom and no pixel is shrunk below
    it.  Zoom 1 ("1:1") is then one screen pixel per image pixel along the shorter side.
    A shape that is not two positive finite numbers counts as square.

    >>> pixel_scales((0.1, 0.2))  # rows 0.1 mm apart, columns 0.2 mm: half as tall as wide
    (2.0, 1.0)
    >>> pixel_scales((2, 1))  # Pixel Aspect Ratio 2\\1: twice as tall as wide
    (1.0, 2.0)
    >>> pixel_scales(None), pixel_scales((0.143, 0.143)), pixel_scales((0.0, 0.1))
    ((1.0, 1.0), (1.0, 1.0), (1.0, 1.0))
    """
    if shape is None or not all(math.isfinite(s) and s > 0 for s in shape):
        return (1.0, 1.0)
    v, h = float(shape[0]), float(shape[1])
    side = min(v, h)
    return (h / side, v / side)


def display_size(columns: int, rows: int, shape: Shape, quarter_turns: int = 0
                 ) -> tuple[float, float]:  # fmt: skip
    """Screen ``(width, height)`` at zoom 1 of a ``columns`` × ``rows`` film with pixels of
    ``shape`` (:func:`pixel_scales`), turned by ``quarter_turns`` quarter turns.

    >>> display_size(300, 200, (0.1, 0.2)), display_size(300, 200, (0.1, 0.2), 1)
    ((600.0, 200.0), (200.0, 600.0))
    """
    sx, sy = pixel_scales(shape)
    size = (columns * sx, rows * sy)
    return size[::-1] if quarter_turns % 2 else size


def synced_zoom_mm(zoom_a: float, spacing_a: Shape, spacing_b: Shape) -> float:
    """Zoom of view b showing film b at the screen pixels per mm of view a, both views drawing
    pixels with their shape (:func:`pixel_scales`); ``zoom_a`` unchanged when either film has
    no spacing (the views then follow each other in image pixels).

    Zoom counts screen pixels per image pixel along the shorter pixel side, so a view shows
    ``zoom / min(row_mm, col_mm)`` screen pixels per mm along both axes, and
    ``zoom_b = zoom_a · min(spacing_b) / min(spacing_a)``: exact per axis, whatever the shapes.

    >>> synced_zoom_mm(0.5, (0.2, 0.2), (0.1, 0.1))  # 1 mm is twice as many 0.1 mm pixels
    0.25
    >>> synced_zoom_mm(1.0, (0.1, 0.2), (0.2, 0.2)), synced_zoom_mm(0.7, None, (0.1, 0.1))
    (2.0, 0.7)
    """
    if spacing_a is None or spacing_b is None:
        return zoom_a
    return zoom_a * min(spacing_b) / min(spacing_a)


def synced_center_mm(
    center_a: tuple[float, float],
    anchor_a: tuple[float, float],
    anchor_b: tuple[float, float],
    spacing_a: Shape,
    spacing_b: Shape,
) -> tuple[float, float]:
    """View-b centre (film-b image ``(x, y)``) at the same offset in mm from ``anchor_b``
    as ``center_a`` has from ``anchor_a``, per axis: x in column spacings, y in row
    spacings (``spacing`` is ``(row_mm, col_mm)``, PS3.3 10.7.1.3); in image pixels when
    either film has no spacing.

    >>> synced_center_mm((110.0, 60.0), (100.0, 50.0), (400.0, 300.0), (0.1, 0.2), (0.2, 0.2))
    (410.0, 305.0)
    """
    ky = kx = 1.0
    if spacing_a is not None and spacing_b is not None:
        ky, kx = spacing_a[0] / spacing_b[0], spacing_a[1] / spacing_b[1]
    return (anchor_b[0] + (center_a[0] - anchor_a[0]) * kx,
            anchor_b[1] + (center_a[1] - anchor_a[1]) * ky)  # fmt: skip


@dataclass(frozen=True)
class Orientation:
    """Display-only orientation: rotation in quarter turns clockwise, then flips.

    Measurements never change: they live in image coordinates.
    """

    quarter_turns: int = 0
    flip_horizontal: bool = False
    flip_vertical: bool = False

    def rotated(self, turns: int) -> Orientation:
        """A copy turned by ``turns`` more quarter turns clockwise (negative: anticlockwise).

        >>> Orientation(quarter_turns=3).rotated(2).quarter_turns
        1
        """
        return replace(self, quarter_turns=(self.quarter_turns + turns) % 4)

    def flipped(self, horizontal: bool) -> Orientation:
        """A copy with the horizontal (``horizontal`` True) or vertical flip toggled."""
        if horizontal:
            return replace(self, flip_horizontal=not self.flip_horizontal)
        return replace(self, flip_vertical=not self.flip_vertical)


def pyramid(pixels: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    """Area-averaged half-size levels of ``pixels`` (level 0 is the array itself).

    Level ``k`` pixel ``(i, j)`` covers full-resolution pixels ``[2^k i, 2^k (i + 1))``, so a
    level drawn over the full image rectangle lines up with the original exactly.
    """
    import cv2
    import numpy as np

    levels = [pixels]
    work = pixels if pixels.dtype in (np.uint8, np.uint16, np.int16, np.float32) else None
    if work is None:
        work = pixels.astype(np.float32)
    while max(work.shape) > PYRAMID_FLOOR and min(work.shape) >= 2:
        size = (max(1, work.shape[1] // 2), max(1, work.shape[0] // 2))
        work = cv2.resize(work, size, interpolation=cv2.INTER_AREA)
        levels.append(work)
    return levels


def level_for_scale(scale: float, levels: int) -> int:
    """The coarsest pyramid level that still has at least one image pixel per screen pixel."""
    level = 0
    while level + 1 < levels and scale <= 0.5 ** (level + 1):
        level += 1
    return level


def level_tile(
    rect: tuple[float, float, float, float],
    image_size: tuple[int, int],
    level_shape: tuple[int, int],
    margin: int = 1,
) -> tuple[int, int, int, int] | None:
    """The pyramid level's pixels ``(x0, y0, x1, y1)`` (half-open) that cover ``rect``.

    ``rect`` is ``(left, top, width, height)`` in image coordinates (pixel centres at
    integers, so the image spans ``-0.5 … columns - 0.5``); ``image_size`` is (columns, rows)
    and ``level_shape`` the level's (rows, columns).  The level is drawn stretched over the
    whole image, so its pixel ``i`` spans ``[i · columns / level_columns, …)`` in edge
    coordinates.  ``margin`` extra level pixels on each side keep smoothing seamless.  None
    when ``rect`` misses the image.
    """
    left, top, width, height = rect
    columns, rows = image_size
    level_rows, level_columns = level_shape
    sx, sy = columns / level_columns, rows / level_rows
    x0 = max(0, math.floor((left + 0.5) / sx) - margin)
    y0 = max(0, math.floor((top + 0.5) / sy) - margin)
    x1 = min(level_columns, math.ceil((left + width + 0.5) / sx) + margin)
    y1 = min(level_rows, math.ceil((top + height + 0.5) / sy) + margin)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None
