"""Viewer maths that the GUI only wires up: window drags, zoom steps, display pyramids.

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
