"""The display's fast paths (value LUTs, OpenCV's affine map and float SIGMOID, tiles of a
pyramid level) give the PS3.3 C.11.2.1.2 formulas' grey levels within 1, for every VOI function
(the stricter checks, exact but at near ties, are in test_voi_reference.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cobbdesk.core.dicom.display import render
from cobbdesk.core.dicom.film import VoiFunction, VoiLut, Window
from cobbdesk.core.viewing import level_tile, pyramid


def reference(x: np.ndarray, c: float, w: float, function: VoiFunction) -> np.ndarray:
    """Grey levels 0..255 straight from PS3.3 C.11.2.1.2.1 (LINEAR), .2.2 (LINEAR_EXACT) and
    C.11.2.1.3.1 (SIGMOID: y = ymax / (1 + exp(-4 (x - c) / w)))."""
    x = x.astype(np.float64)
    if function is VoiFunction.SIGMOID:
        exponent = np.minimum(-4.0 * (x - c) / w, 700.0)  # exp(700) is finite: y rounds to 0
        return np.rint(255.0 / (1.0 + np.exp(exponent)))
    if function is VoiFunction.LINEAR_EXACT:
        y = np.where(x <= c - w / 2, 0.0, np.where(x > c + w / 2, 255.0, ((x - c) / w + 0.5) * 255))
        return np.rint(y)
    low, high = c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2
    ramp = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255
    return np.rint(np.where(x <= low, 0.0, np.where(x > high, 255.0, ramp)))


RNG = np.random.default_rng(17)
INTS = RNG.integers(0, 4096, (300, 400)).astype(np.uint16)
FLOATS = (RNG.random((300, 400)) * 4.095).astype(np.float32)  # 0..4.095 (a 0.001 slope)


@pytest.mark.parametrize("function", list(VoiFunction))
@pytest.mark.parametrize(("c", "w"), [(2048.0, 4096.0), (1500.0, 300.0), (600.0, 2.0)])
@pytest.mark.parametrize("inverted", [False, True])
def test_integer_data_every_function(function: VoiFunction, c: float, w: float,
                                     inverted: bool) -> None:  # fmt: skip
    expected = reference(INTS, c, w, function)
    expected = 255 - expected if inverted else expected
    got = render(INTS, Window(c, w, function), inverted=inverted)
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_voi_lut_on_integer_data() -> None:
    """PS3.3 C.11.2.1.1: the first value maps to the first entry, values outside clamp."""
    table = ((np.arange(2000) * 37) % 4096).astype(np.uint16)  # not monotonic on purpose
    lut = VoiLut(1000, table, 12)
    index = np.clip(INTS.astype(np.int64) - 1000, 0, 1999)
    expected = np.rint(table[index] / 4095 * 255)
    assert np.abs(render(INTS, lut, inverted=False).astype(int) - expected).max() <= 1


@pytest.mark.parametrize("function", [VoiFunction.SIGMOID, VoiFunction.LINEAR_EXACT])
@pytest.mark.parametrize(("c", "w"), [(2.0, 4.0), (1.5, 0.3), (2.2, 0.05), (1.0, 0.002)])
def test_float_data_within_one_grey_level(function: VoiFunction, c: float, w: float) -> None:
    """Float windows, wide and narrow, through the vectorised formula (display._float_window)."""
    expected = reference(FLOATS, c, w, function)
    got = render(FLOATS, Window(c, w, function), inverted=False)
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_level_tile_bounds() -> None:
    # whole image: the whole level
    assert level_tile((-0.5, -0.5, 3000, 2500), (3000, 2500), (1250, 1500)) == (0, 0, 1500, 1250)
    # a 1280 x 860 view at 1:1 from image pixel (1000, 500): level 0, one pixel of margin
    assert level_tile((999.5, 499.5, 1280, 860), (3000, 2500), (2500, 3000)) == (
        999, 499, 2281, 1361)  # fmt: skip
    assert level_tile((4000.0, 0.0, 10.0, 10.0), (3000, 2500), (2500, 3000)) is None


@pytest.mark.parametrize("pixels", [INTS, FLOATS])
@pytest.mark.parametrize("function", list(VoiFunction))
def test_a_tile_equals_that_part_of_the_whole_level(pixels: np.ndarray,
                                                    function: VoiFunction) -> None:  # fmt: skip
    whole_image = np.tile(pixels, (3, 3))  # 900 x 1200: the pyramid has a level 1
    level = pyramid(whole_image)[1]
    scale = 1.0 if pixels.dtype == np.uint16 else 0.001
    voi = Window(1700 * scale, 900 * scale, function)
    x0, y0, x1, y1 = level_tile((40.3, 71.8, 123.0, 88.0), (1200, 900), level.shape)
    assert (x0, y0) == (math.floor(40.8 / 2) - 1, math.floor(72.3 / 2) - 1)
    whole = render(level, voi, inverted=False)[y0:y1, x0:x1]
    tile = render(level[y0:y1, x0:x1], voi, inverted=False)
    assert np.abs(tile.astype(int) - whole).max() <= 1
