"""Screen sampling of a view that draws non-square pixels with their shape: the zoom differs
per image axis (x by h / min(v, h), y by v / min(v, h): :func:`cobbdesk.core.viewing.pixel_scales`).

A film is sampled nearest only where every axis is magnified (at least one device pixel per
film pixel along x AND y); an axis drawn smaller than 1:1 is sampled bilinearly, as Qt's smooth
transform drew a minified image (see :mod:`cobbdesk.core.dicom.screen`)."""

from __future__ import annotations

import numpy as np

from cobbdesk.core.dicom.screen import axis_scales, device_rect, sample, zoom_of
from cobbdesk.core.viewing import pixel_scales

ROWS, COLUMNS = 64, 48


def test_axis_scales_are_the_view_scales_per_image_axis() -> None:
    sx, sy = pixel_scales((0.1, 0.2))  # rows 0.1 mm, columns 0.2 mm: (2, 1)
    assert axis_scales((sx * 0.75, 0.0, 0.0, sy * 0.75, 3.0, 4.0)) == (1.5, 0.75)
    assert axis_scales((0.0, sx, -sy, 0.0, 0.0, 0.0)) == (2.0, 1.0)  # a quarter turn
    assert zoom_of((1.5, 0.0, 0.0, 0.75, 0.0, 0.0)) > 1 > min(1.5, 0.75)


def test_magnified_columns_are_nearest_and_whole() -> None:
    """1:2 pixels at 1:1: each film column is two device pixels wide, each row one high."""
    stripes = np.tile((np.arange(COLUMNS) % 2 * 1000).astype(np.uint16), (ROWS, 1))
    to_device = (2.0, 0.0, 0.0, 1.0, 1.0, 0.5)  # film (-0.5, -0.5) at device (0, 0)
    rect = device_rect(to_device, (COLUMNS, ROWS), (0, 0, 2 * COLUMNS, ROWS))
    assert rect == (0, 0, 2 * COLUMNS, ROWS)
    out = sample(stripes, (COLUMNS, ROWS), to_device, rect)
    assert out.shape == (ROWS, 2 * COLUMNS)
    assert np.array_equal(out[0], np.repeat(stripes[0], 2))


def test_an_axis_drawn_below_one_to_one_is_smoothed() -> None:
    """x magnified 1.5, y at 0.75 (geometric mean 1.06 > 1): rows alternating 0 / 1000 are
    sampled bilinearly along y (values between), not picked nearest (only 0 or 1000)."""
    bands = np.repeat((np.arange(ROWS) % 2 * 1000).astype(np.uint16)[:, None], COLUMNS, axis=1)
    to_device = (1.5, 0.0, 0.0, 0.75, 0.75, 0.375)  # film (-0.5, -0.5) at device (0, 0)
    rect = device_rect(to_device, (COLUMNS, ROWS), (0, 0, 72, 48))
    assert rect is not None
    out = sample(bands, (COLUMNS, ROWS), to_device, rect)
    values = set(np.unique(out[:, 10]).tolist())
    assert values - {0, 1000}  # blended values occur
    assert np.all(out[:, 10] == out[:, 20])  # along x nothing changes
