"""Screen sampling (core/dicom/screen.py): which device pixels show the film, and what each one
samples, checked by hand and against per-pixel loops over the conventions in the module notes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cobbdesk.core.dicom.screen import background_mask, device_rect, sample, zoom_of
from cobbdesk.core.viewing import level_for_scale, pyramid

# (m11, m12, m21, m22, dx, dy) as QTransform: X = m11 x + m21 y + dx, Y = m12 x + m22 y + dy


def test_device_rect_by_hand() -> None:
    # 1:1, film pixel centre 0 at device 10 (the image edge -0.5 at 9.5, a device pixel centre:
    # the tie goes to the film, as Qt drew it), 5 columns x 3 rows
    assert device_rect((1, 0, 0, 1, 10, 20), (5, 3), (0, 0, 100, 100)) == (9, 19, 14, 22)
    # flipped horizontally: X = -x + 10; centre u + 0.5 shows x = 9.5 - u, in (-0.5, 4.5]
    assert device_rect((-1, 0, 0, 1, 10, 20), (5, 3), (0, 0, 100, 100)) == (5, 19, 10, 22)
    # zoom 2 shifted by a quarter: X = 2 x + 3.25 -> film [-0.5, 4.5) covers X [2.25, 12.25),
    # centres 2.5 … 11.5; Y = 2 y: rows [-0.5, 2.5) cover Y [-1, 5), centres 0.5 … 4.5
    assert device_rect((2, 0, 0, 2, 3.25, 0), (5, 3), (0, 0, 100, 100)) == (2, 0, 12, 5)
    # clipped to the exposed rectangle, and None off the film
    assert device_rect((1, 0, 0, 1, 10, 20), (5, 3), (11, 0, 12, 100)) == (11, 19, 12, 22)
    assert device_rect((1, 0, 0, 1, 10, 20), (5, 3), (50, 50, 60, 60)) is None


def test_a_sheared_view_is_refused() -> None:
    with pytest.raises(ValueError, match="quarter turns"):
        device_rect((1, 0.2, 0, 1, 0, 0), (5, 3), (0, 0, 9, 9))


def _loop_nearest(
    film: np.ndarray, to_device: tuple[float, ...], rect: tuple[int, ...]
) -> np.ndarray:
    """Per-pixel: invert the map at the device centre, round toward the device's +direction."""
    m11, m12, m21, m22, dx, dy = to_device
    inverse = np.linalg.inv(np.array([[m11, m21, dx], [m12, m22, dy], [0, 0, 1]]))
    u0, v0, u1, v1 = rect
    out = np.zeros((v1 - v0, u1 - u0), film.dtype)
    for v in range(v0, v1):
        for u in range(u0, u1):
            x, y, _ = inverse @ (u + 0.5, v + 0.5, 1)
            # the image coordinate grows (or shrinks) with the device axis that moves it
            sx = inverse[0, 0] + inverse[0, 1]
            sy = inverse[1, 0] + inverse[1, 1]
            col = math.floor(round(x, 9) + 0.5) if sx > 0 else math.ceil(round(x, 9) - 0.5)
            row = math.floor(round(y, 9) + 0.5) if sy > 0 else math.ceil(round(y, 9) - 0.5)
            out[v - v0, u - u0] = film[row, col]
    return out


FILM = np.random.default_rng(5).integers(0, 4096, (37, 53)).astype(np.uint16)
ONE_TO_ONE = [(1, 0, 0, 1, 7, -3), (-1, 0, 0, 1, 60, 2), (1, 0, 0, -1, 4, 40),
              (0, 1, -1, 0, 45, 1), (0, -1, 1, 0, 3, 60), (0, 1, 1, 0, 0.5, 0.25),
              (1, 0, 0, 1, 7.3, -3.6)]  # fmt: skip


@pytest.mark.parametrize("to_device", ONE_TO_ONE)
def test_one_to_one_is_the_film_pixel_under_each_centre(to_device: tuple[float, ...]) -> None:
    rect = device_rect(to_device, (53, 37), (-5, -5, 80, 80))
    assert rect is not None
    got = sample(FILM, (53, 37), to_device, rect)
    assert np.array_equal(got, _loop_nearest(FILM, to_device, rect))
    assert got.size == FILM.size  # every film pixel exactly once


@pytest.mark.parametrize("to_device", [(2.5, 0, 0, 2.5, 3.1, 1.7), (0, -3, 3, 0, 2, 200),
                                       (-1.7, 0, 0, 1.7, 95, 0.4)])  # fmt: skip
def test_zoomed_in_is_the_nearest_pixel(to_device: tuple[float, ...]) -> None:
    rect = device_rect(to_device, (53, 37), (-5, -5, 300, 300))
    assert rect is not None
    got = sample(FILM, (53, 37), to_device, rect)
    assert np.array_equal(got, _loop_nearest(FILM, to_device, rect))


@pytest.mark.parametrize("zoom", [0.9, 0.37, 0.2, 0.11])
@pytest.mark.parametrize("turn", [False, True])
def test_zoomed_out_samples_the_image_point_of_each_centre(zoom: float, turn: bool) -> None:
    """On a ramp (value = column) the pyramid keeps the ramp (an area mean of a ramp is its
    centre's value) and bilinear sampling is exact, so each device pixel must read the
    image x of its centre: within 1/32 level pixel (OpenCV's fixed-point weights)."""
    columns, rows = 3000, 1200
    ramp = np.tile(np.arange(columns, dtype=np.float32), (rows, 1))
    levels = pyramid(ramp)
    to_device = (0, zoom, -zoom, 0, 700.3, 11.6) if turn else (zoom, 0, 0, zoom, 5.4, -30.2)
    rect = device_rect(to_device, (columns, rows), (0, 0, 640, 480))
    assert rect is not None
    k = level_for_scale(zoom_of(to_device), len(levels))
    assert 0.5 < zoom * 2**k <= 1  # between 1 and 2 level pixels per device pixel
    got = sample(levels[k], (columns, rows), to_device, rect)
    m11, m12, m21, m22, dx, dy = to_device
    inverse = np.linalg.inv(np.array([[m11, m21, dx], [m12, m22, dy], [0, 0, 1]]))
    v, u = np.mgrid[rect[1] : rect[3], rect[0] : rect[2]]
    x = inverse[0, 0] * (u + 0.5) + inverse[0, 1] * (v + 0.5) + inverse[0, 2]
    first, last = (2**k - 1) / 2, columns - 1 - (2**k - 1) / 2  # level centres at the ends
    expected = np.clip(x, first, last)
    assert np.abs(got - expected).max() <= 2**k / 32 + 1e-3


def test_padding_is_background_where_at_least_half_is_padding() -> None:
    padding = np.zeros((40, 60), np.uint8)
    padding[:, :30] = 255  # left half
    to_device = (0.5, 0, 0, 0.5, 0, 0)  # two film pixels per device pixel
    levels = pyramid(padding)
    rect = device_rect(to_device, (60, 40), (0, 0, 100, 100))
    assert rect == (0, 0, 30, 20)
    mask = background_mask(levels[0], (60, 40), to_device, rect)
    assert mask is not None and mask[:, :15].all() and not mask[:, 15:].any()
    assert background_mask(None, (60, 40), to_device, rect) is None


@pytest.mark.parametrize("zoom", [0.9, 0.37, 0.11])
def test_zoomed_out_int16_samples_as_uint16_do(zoom: float) -> None:
    """Signed data (a ramp through 0, value = column − 1500) sample exactly as the same ramp
    shifted to unsigned (column) does, 1500 lower: bilinear, rounded to nearest (OpenCV's own
    int16 bilinear path was up to 2 off); and each is within its rounding (the level's 1/2,
    the sample's 1/2, 1/32 level pixel of position) of the ramp at the centre's image x."""
    columns, rows = 3000, 600
    column = np.tile(np.arange(columns, dtype=np.int32), (rows, 1))
    signed, unsigned = pyramid((column - 1500).astype(np.int16)), pyramid(column.astype(np.uint16))
    to_device = (zoom, 0, 0, zoom, 3.3, -7.9)
    rect = device_rect(to_device, (columns, rows), (0, 0, 640, 200))
    assert rect is not None
    k = level_for_scale(zoom_of(to_device), len(signed))
    got = sample(signed[k], (columns, rows), to_device, rect)
    assert got.dtype == np.int16
    shifted = sample(unsigned[k], (columns, rows), to_device, rect).astype(np.int64) - 1500
    assert np.array_equal(got.astype(np.int64), shifted)
    x = (np.arange(rect[0], rect[2]) + 0.5 - to_device[4]) / zoom
    first, last = (2**k - 1) / 2, columns - 1 - (2**k - 1) / 2
    expected = np.clip(x, first, last) - 1500
    assert np.abs(got - expected[None, :]).max() <= 1 + 2**k / 32 + 1e-3
