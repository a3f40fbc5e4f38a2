"""The screen's pixels of a film view: sample the modality values at each device pixel, then VOI.

The viewer draws one ``uint8`` image exactly the size of the visible part of the film, placed
at whole device pixels with no further scaling, so the VOI runs on about 1 MP (the screen)
whatever the film's size and zoom.

Conventions (the same as the scene's and the measurements'):

* image point ``(x, y)`` = (column, row) with pixel centres at integers: the film covers
  ``[-0.5, columns - 0.5) × [-0.5, rows - 0.5)``;
* ``to_device`` is the view's affine map from image to device points, in the order of Qt's
  ``QTransform`` ``(m11, m12, m21, m22, dx, dy)``: ``X = m11 x + m21 y + dx``,
  ``Y = m12 x + m22 y + dy``; only quarter turns, flips, a zoom per image axis (non-square
  pixels are drawn with their shape: :func:`axis_scales`) and a shift occur;
* device pixel ``(u, v)`` covers ``[u, u + 1) × [v, v + 1)``; its value is the film sampled at
  the image point its centre ``(u + 0.5, v + 0.5)`` maps to.  A device pixel shows the film
  when that point lies on the film (half-open, as above).

A centre exactly on a boundary between film pixels (at 1:1 every centre is) belongs to the
pixel further along the device axis: the pixel with the higher index where the device axis
runs with the film's, the lower where a flip or turn runs it against.  Unturned, that is where
Qt drew an unsmoothed image; Qt's turned drawing put such ties the other way along one axis.

Sampling: with at least one device pixel per film pixel along both axes (zoom >= 1) the
nearest pixel, as Qt
drew an unsmoothed image; below 1:1 bilinear (OpenCV ``warpAffine``, weights in 1/32 pixel,
integer data rounded; ``int16`` through the ``uint16`` path) in the pyramid level the zoom needs
(:func:`cobbdesk.core.viewing.level_for_scale`: between 1 and 2 level pixels per device
pixel), as Qt's smooth transform drew it.  The VOI is applied after sampling, as it already
was to the pyramid's averaged levels.  At exactly 1:1 the samples are a slice of the film, so
every device pixel is ``render`` of one film pixel, exactly.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Affine = tuple[float, float, float, float, float, float]
"""``(m11, m12, m21, m22, dx, dy)``: ``X = m11 x + m21 y + dx``, ``Y = m12 x + m22 y + dy``."""
Rect = tuple[int, int, int, int]
"""Device pixels ``(u0, v0, u1, v1)``, half-open."""

_SNAP = 1e-9  # sample coordinates this close to a half-integer are that half-integer
_MARGIN = 2  # level pixels around the samples' bounding box (bilinear needs 1)
_WARPABLE = tuple(np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64))
"""The dtypes OpenCV's bilinear ``warpAffine`` takes; others are sampled nearest."""


def _matrix(to_device: Affine) -> npt.NDArray[np.float64]:
    m11, m12, m21, m22, dx, dy = to_device
    return np.array([[m11, m21, dx], [m12, m22, dy], [0.0, 0.0, 1.0]])


def zoom_of(to_device: Affine) -> float:
    """Device pixels per image pixel: ``sqrt(|det|)`` of the linear part (> 0)."""
    m11, m12, m21, m22, _, _ = to_device
    return math.sqrt(abs(m11 * m22 - m12 * m21))


def axis_scales(to_device: Affine) -> tuple[float, float]:
    """Device pixels per image pixel along the image's x and y axes (the lengths of the images
    of the unit vectors); both equal :func:`zoom_of` for square pixels.

    >>> axis_scales((0.0, 1.5, -3.0, 0.0, 10.0, 20.0))  # a quarter turn of 1:2 pixels
    (1.5, 3.0)
    """
    m11, m12, m21, m22, _, _ = to_device
    return math.hypot(m11, m12), math.hypot(m21, m22)


def device_rect(to_device: Affine, image_size: tuple[int, int], exposed: Rect) -> Rect | None:
    """The device pixels within ``exposed`` whose centres fall on the film (None: none do).

    ``image_size`` is ``(columns, rows)``.  Raises ValueError for a singular or non-axis-aligned
    ``to_device`` (the viewer only turns by quarter turns).
    """
    inverse = _axis_inverse(to_device)
    u0, v0, u1, v1 = exposed
    bounds = []
    for axis, (start, stop) in enumerate(((u0, u1), (v0, v1))):
        centres = np.arange(start, stop, dtype=np.float64) + 0.5
        image_axis = 0 if inverse[0, axis] != 0 else 1  # which image coordinate this axis moves
        along = inverse[image_axis, axis] * centres + inverse[image_axis, 2]
        along = np.where(np.abs(along - np.rint(along * 2) / 2) < _SNAP, np.rint(along * 2) / 2,
                         along)  # fmt: skip
        low, high = -0.5, image_size[image_axis] - 0.5
        if inverse[image_axis, axis] > 0:
            inside = np.flatnonzero((along >= low) & (along < high))
        else:  # a tie on the film's edge goes the device's way (see the module notes)
            inside = np.flatnonzero((along > low) & (along <= high))
        if inside.size == 0:
            return None
        bounds.append((start + int(inside[0]), start + int(inside[-1]) + 1))
    (a, b), (c, d) = bounds
    return a, c, b, d


def _axis_inverse(to_device: Affine) -> npt.NDArray[np.float64]:
    """Device → image as a 3 × 3 matrix; checks the map only turns by quarter turns."""
    m11, m12, m21, m22, _, _ = to_device
    if zoom_of(to_device) == 0 or not ((m12 == 0 and m21 == 0) or (m11 == 0 and m22 == 0)):
        raise ValueError(f"the view must zoom, flip and turn by quarter turns only: {to_device}")
    return np.asarray(np.linalg.inv(_matrix(to_device)), dtype=np.float64)


def sample(
    level: npt.NDArray[Any], image_size: tuple[int, int], to_device: Affine, rect: Rect
) -> npt.NDArray[Any]:
    """Modality values at the centres of device pixels ``rect``, shape ``(v1 − v0, u1 − u0)``.

    ``level`` is a pyramid level of the film (level 0: the film), drawn stretched over the
    whole film as :func:`cobbdesk.core.viewing.pyramid` defines (its pixel ``i`` spans
    ``[i · columns / level_columns − 0.5, …)``); ``image_size`` is the film's ``(columns, rows)``.
    Same dtype as ``level`` (bilinear samples of integer data are rounded by OpenCV).
    """
    u0, v0, u1, v1 = rect
    columns, rows = image_size
    sx, sy = columns / level.shape[1], rows / level.shape[0]
    to_level = np.array([[1 / sx, 0, 0.5 / sx - 0.5], [0, 1 / sy, 0.5 / sy - 0.5], [0, 0, 1]])
    from_index = np.array([[1.0, 0, u0 + 0.5], [0, 1.0, v0 + 0.5], [0, 0, 1]])
    m = (to_level @ _axis_inverse(to_device) @ from_index)[:2]  # device index → level index
    m = np.where(np.abs(m - np.rint(m * 2) / 2) < _SNAP, np.rint(m * 2) / 2, m)
    size = (u1 - u0, v1 - v0)
    if level.shape == (rows, columns) and np.all(np.isin(np.abs(m[:, :2]), (0.0, 1.0))):
        return np.asarray(_slice(level, m, size))
    if min(axis_scales(to_device)) >= 1 or level.dtype not in _WARPABLE:
        return np.asarray(_nearest(level, m, size))
    corners = m[:, :2] @ np.array([[0, size[0] - 1, 0, size[0] - 1],
                                   [0, 0, size[1] - 1, size[1] - 1]]) + m[:, 2:]  # fmt: skip
    x0, y0 = (max(0, math.floor(v) - _MARGIN) for v in corners.min(axis=1))
    x1 = min(level.shape[1], math.ceil(corners[0].max()) + _MARGIN + 1)
    y1 = min(level.shape[0], math.ceil(corners[1].max()) + _MARGIN + 1)
    m[:, 2] -= (x0, y0)
    tile = level[y0:y1, x0:x1]
    if tile.dtype == np.int16:
        return _bilinear_int16(tile, m, size)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return np.asarray(cv2.warpAffine(tile, m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE))


def _bilinear_int16(
    tile: npt.NDArray[np.int16], m: npt.NDArray[np.float64], size: tuple[int, int]
) -> npt.NDArray[np.int16]:
    """Bilinear ``int16`` samples through OpenCV's ``uint16`` path: ``v + 32768`` (the sign bit
    flipped) is sampled, then 32,768 taken off again (the sign bit flipped back).  The weights
    (fixed point, summing to 2**15) carry a constant through unchanged, so this is the ``uint16``
    sampling of the values themselves: rounded to nearest, where OpenCV's own ``int16`` path
    was measured up to 2 off and 2–3 × slower."""
    flip = np.uint16(0x8000)
    shifted = np.bitwise_xor(tile.view(np.uint16), flip)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    out = cv2.warpAffine(shifted, m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    np.bitwise_xor(out, flip, out=out)
    return np.asarray(out).view(np.int16)


def _axes(m: npt.NDArray[np.float64], size: tuple[int, int]) -> tuple[bool, list[Any]]:
    """Per film axis (x, y): the nearest level index for each device index along the device
    axis that moves it (ties toward the device's + direction); and whether the axes swap."""
    turned = bool(m[0, 0] == 0)  # device columns run along film rows
    picks = []
    for image_axis in (0, 1):
        device_axis = image_axis ^ int(turned)
        step = m[image_axis, device_axis]
        s = step * np.arange(size[device_axis]) + m[image_axis, 2]
        s = np.where(np.abs(s - np.rint(s * 2) / 2) < _SNAP, np.rint(s * 2) / 2, s)
        picks.append(np.floor(s + 0.5) if step > 0 else np.ceil(s - 0.5))
    return turned, picks


def _slice(level: npt.NDArray[Any], m: npt.NDArray[np.float64], size: tuple[int, int]) -> Any:
    """1:1 samples: device index → film index is ``±i + k`` per axis, a (turned) slice."""
    turned, (xs, ys) = _axes(m, size)
    bounds = []
    for index, limit in ((xs, level.shape[1]), (ys, level.shape[0])):
        low, high = int(index.min()), int(index.max()) + 1
        if low < 0 or high > limit:
            raise ValueError(f"device pixels off the film: {m.tolist()} {size}")
        bounds.append((low, high, 1 if index.size < 2 or index[1] > index[0] else -1))
    (xl, xh, xd), (yl, yh, yd) = bounds
    out = level[yl:yh, xl:xh][::yd, ::xd]
    return out.T if turned else out


def _nearest(level: npt.NDArray[Any], m: npt.NDArray[np.float64], size: tuple[int, int]) -> Any:
    """Nearest samples, separable: rows picked, then columns (then swapped for a turn)."""
    turned, (xs, ys) = _axes(m, size)
    rows = np.clip(ys, 0, level.shape[0] - 1).astype(np.intp)
    columns = np.clip(xs, 0, level.shape[1] - 1).astype(np.intp)
    top, left = int(rows.min()), int(columns.min())
    tile = level[top : int(rows.max()) + 1, left : int(columns.max()) + 1]
    out = np.take(np.take(tile, rows - top, axis=0), columns - left, axis=1)
    return out.T if turned else out


def background_mask(
    padding_level: npt.NDArray[np.uint8] | None,
    image_size: tuple[int, int],
    to_device: Affine,
    rect: Rect,
) -> npt.NDArray[np.bool_] | None:
    """Device pixels drawn as background: padding (PS3.3 C.7.5.1.1.2) sampled like the film.

    ``padding_level``: the padding pyramid level (0 or 255 at level 0, area-averaged above)
    of the film level sampled; a device pixel is background when at least half of what it
    samples is padding.  None when the film has no padding.
    """
    if padding_level is None:
        return None
    coverage = sample(padding_level, image_size, to_device, rect)
    return np.asarray(coverage >= 128)
