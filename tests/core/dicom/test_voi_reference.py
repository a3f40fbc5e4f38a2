"""Every display path equals the DICOM formulas, computed here independently.

PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT), C.11.2.1.3.1 (SIGMOID) and the VOI
LUT (C.11.2.1.1), each rounded to the nearest of 256 levels, then inverted once for
MONOCHROME1 (C.7.6.3.1.2).  Every film must show the level nearest to the formula's value,
except where that value lies within 1/100 of a level of a half level: there the other
neighbour is accepted (exact ties are common with integer data and a LINEAR window, where
float64 itself lands on either side; the single-precision fast paths are accurate to 1/100
level, see ``display._fast_linear`` and ``display._float_window``).  A LINEAR window narrower
than 1 is evaluated as LINEAR_EXACT (``display.effective_function``: the standard's formula
divides by ``w − 1``).

Each test runs through :func:`display.render` and through the viewer's
:class:`display_frame.ScreenFrame`, one frame per film re-rendered for every window of the test
(as a window/level drag does), so its kept range, rounded values and buffers are exercised too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cobbdesk.core.dicom.display import Voi, render
from cobbdesk.core.dicom.display_frame import ScreenFrame
from cobbdesk.core.dicom.film import VoiFunction, VoiLut, Window


class FrameRenderer:
    """``render`` through one :class:`ScreenFrame` per pixel array, kept between calls."""

    def __init__(self) -> None:
        self.frames: dict[int, ScreenFrame] = {}

    def __call__(self, pixels: np.ndarray, voi: Voi, *, inverted: bool) -> np.ndarray:
        frame = self.frames.get(id(pixels))
        if frame is None or frame.values is not pixels:
            frame = self.frames[id(pixels)] = ScreenFrame(pixels)
        return frame.render(voi, inverted).copy()


@pytest.fixture(params=["render", "ScreenFrame"])
def show(request: pytest.FixtureRequest) -> Any:
    """The display path under test: ``display.render`` or a kept ``ScreenFrame``."""
    return render if request.param == "render" else FrameRenderer()


def formula(x: np.ndarray, c: float, w: float, function: VoiFunction) -> np.ndarray:
    """Unrounded output 0..255 written out from the standard's pseudo-code, in float64."""
    x = x.astype(np.float64)
    if function is VoiFunction.LINEAR and w < 1:
        function = VoiFunction.LINEAR_EXACT
    if function is VoiFunction.SIGMOID:
        with np.errstate(over="ignore"):
            return 255.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
    if function is VoiFunction.LINEAR_EXACT:
        return np.where(x <= c - w / 2, 0.0,
                        np.where(x > c + w / 2, 255.0, ((x - c) / w + 0.5) * 255.0))  # fmt: skip
    if w == 1:  # C.11.2.1.2.1 with w = 1: everything at or below c - 0.5 is the minimum
        return np.where(x <= c - 0.5, 0.0, 255.0)
    return np.where(x <= c - 0.5 - (w - 1) / 2, 0.0,
                    np.where(x > c - 0.5 + (w - 1) / 2, 255.0,
                             ((x - (c - 0.5)) / (w - 1) + 0.5) * 255.0))  # fmt: skip


def levels(exact: np.ndarray, inverted: bool) -> np.ndarray:
    out = np.rint(exact).astype(np.int64)
    return 255 - out if inverted else out


def assert_levels(got: np.ndarray, exact: np.ndarray, inverted: bool, where: object) -> None:
    """``got`` is the nearest level, or a neighbour where ``exact`` is within 0.01 of a tie."""
    got = got.astype(np.int64)
    expected = levels(exact, inverted)
    assert np.abs(got - expected).max() <= 1, where
    near_half = np.abs(exact - np.floor(exact) - 0.5) <= 0.01
    assert not np.any((got != expected) & ~near_half), where


RNG = np.random.default_rng(1717)
INTEGER_FILMS = {
    "uint16 12-bit": RNG.integers(0, 4096, (120, 160)).astype(np.uint16),
    "uint16 16-bit": RNG.integers(0, 65536, (120, 160)).astype(np.uint16),
    "int16 CT": RNG.integers(-1024, 3072, (120, 160)).astype(np.int16),
    "int16 full range": RNG.integers(-32768, 32768, (120, 160)).astype(np.int16),
    "int32": RNG.integers(-300_000, 300_000, (120, 160)).astype(np.int32),
    "uint16 far from 0": RNG.integers(30_000, 30_100, (120, 160)).astype(np.uint16),
    "int16 far below 0": RNG.integers(-30_100, -30_000, (120, 160)).astype(np.int16),
}
WINDOWS = [(2048.0, 4096.0), (1500.0, 1.0), (-200.0, 1.0), (-1000.0, 350.0), (0.0, 2.0),
           (40.5, 80.0), (-25000.0, 30000.0), (31000.0, 5.0), (-0.5, 7.0), (30050.0, 41.0),
           (-30040.5, 1.0)]  # fmt: skip


@pytest.mark.parametrize("name", list(INTEGER_FILMS))
@pytest.mark.parametrize("function", list(VoiFunction))
@pytest.mark.parametrize("inverted", [False, True], ids=["MONOCHROME2", "MONOCHROME1"])
def test_integer_films_equal_the_formula(name: str, function: VoiFunction,
                                         inverted: bool, show: Any) -> None:  # fmt: skip
    pixels = INTEGER_FILMS[name]
    for c, w in WINDOWS:
        got = show(pixels, Window(c, w, function), inverted=inverted)
        assert_levels(got, formula(pixels, c, w, function), inverted, (name, c, w))


def test_a_wide_int16_range_is_not_wrapped(show: Any) -> None:
    """Hand check: -20000, 0, 20000 (a range over 32,767) through the value table."""
    pixels = np.tile(np.array([-20000, 0, 20000, 19999], np.int16), (8, 8))
    got = show(pixels, Window(20000.0, 2.0, VoiFunction.SIGMOID), inverted=False)
    # 255 / (1 + exp(-4 (x - 20000) / 2)): 0, 0, 127.5 (a tie: either neighbour), 30.4
    assert got[0, 0] == 0 and got[0, 1] == 0 and got[0, 2] in (127, 128) and got[0, 3] == 30


@pytest.mark.parametrize("name", list(INTEGER_FILMS))
@pytest.mark.parametrize("inverted", [False, True], ids=["MONOCHROME2", "MONOCHROME1"])
def test_voi_lut_on_integer_films(name: str, inverted: bool, show: Any) -> None:
    """C.11.2.1.1: value v reads entry v - first mapped, clamped to the table's ends."""
    pixels = INTEGER_FILMS[name]
    low = int(pixels.min())
    table = ((np.arange(3000) * 7919) % 65536).astype(np.uint16)  # not monotonic
    lut = VoiLut(low + 500, table, 16)
    index = np.clip(pixels.astype(np.int64) - (low + 500), 0, table.size - 1)
    assert_levels(show(pixels, lut, inverted=inverted), table[index] / 65535.0 * 255.0,
                  inverted, name)  # fmt: skip


FLOAT_FILMS = {
    "slope 0.001": (RNG.integers(0, 4096, (120, 160)) * 0.001).astype(np.float32),
    "signed, negative": (RNG.normal(-3.0, 2.0, (120, 160))).astype(np.float32),
    "large values": (RNG.uniform(-3000.0, 3000.0, (120, 160))).astype(np.float32),
}
FLOAT_WINDOWS = [(2.0, 4.0), (1.5, 0.3), (-2.5, 1.0), (-3.0, 0.01), (0.0, 1e-4), (1.0, 1.0),
                 (-1000.0, 1.0), (2000.0, 3.0), (0.2, 5000.0)]  # fmt: skip


@pytest.mark.parametrize("name", list(FLOAT_FILMS))
@pytest.mark.parametrize("function", list(VoiFunction))
@pytest.mark.parametrize("inverted", [False, True], ids=["MONOCHROME2", "MONOCHROME1"])
def test_float_films_equal_the_formula(name: str, function: VoiFunction, inverted: bool,
                                       show: Any) -> None:  # fmt: skip
    pixels = FLOAT_FILMS[name]
    for c, w in FLOAT_WINDOWS:
        got = show(pixels, Window(c, w, function), inverted=inverted)
        assert_levels(got, formula(pixels, c, w, function), inverted, (name, c, w))


def test_float_linear_width_one_is_a_step_exactly(show: Any) -> None:
    """C.11.2.1.2.1 with w = 1: x <= c - 0.5 -> 0, else 255; values on the step included."""
    pixels = np.tile(np.array([0.499, 0.5, 0.5001, -3.0, 7.0, 0.5], np.float32), (12, 12))
    got = show(pixels, Window(1.0, 1.0, VoiFunction.LINEAR), inverted=False)
    assert got[0, :6].tolist() == [0, 0, 255, 0, 255, 0]


def test_sigmoid_float_by_hand(show: Any) -> None:
    """y = 255 / (1 + exp(-4 (x - c) / w)): c = 2, w = 4 at x = 2, 3, 0 -> 127.5, 186.4, 30.5."""
    pixels = np.tile(np.array([2.0, 3.0, 0.0, 1e30, -1e30], np.float32), (16, 16))
    got = show(pixels, Window(2.0, 4.0, VoiFunction.SIGMOID), inverted=False)
    assert got[0, :5].tolist() == [128, 186, 30, 255, 0]  # 127.5 rounds to even: 128


@pytest.mark.parametrize("name", list(FLOAT_FILMS))
@pytest.mark.parametrize("inverted", [False, True], ids=["MONOCHROME2", "MONOCHROME1"])
def test_voi_lut_on_float_films(name: str, inverted: bool, show: Any) -> None:
    """C.11.2.1.1 on float modality values: rounded to the nearest integer (half to even)."""
    pixels = FLOAT_FILMS[name]
    table = ((np.arange(40) * 7919) % 4096).astype(np.uint16)
    lut = VoiLut(-20, table, 12)
    index = np.clip(np.rint(pixels.astype(np.float64)) + 20, 0, table.size - 1).astype(int)
    assert_levels(show(pixels, lut, inverted=inverted), table[index] / 4095.0 * 255.0,
                  inverted, name)  # fmt: skip


def test_voi_lut_float_by_hand(show: Any) -> None:
    """first mapped -1, entries 0, 100, 4095 (12 bits): -7 -> 0; -0.6 -> -1 -> 0; 0.4 -> 0 ->
    100 / 4095 * 255 = 6.2 -> 6; 0.5 -> 0 (half to even) -> 6; 1.5 -> 2 -> 255; 9 -> 255."""
    pixels = np.tile(np.array([-7.0, -0.6, 0.4, 0.5, 1.5, 9.0], np.float32), (12, 12))
    got = show(pixels, VoiLut(-1, np.array([0, 100, 4095], np.uint16), 12), inverted=False)
    assert got[0, :6].tolist() == [0, 0, 6, 6, 255, 255]


def test_voi_lut_float_beyond_int32_clamps_to_the_ends(show: Any) -> None:
    """+inf and 3e9 read the last entry, -inf and -3e9 the first (C.11.2.1.1 clamps); a NaN
    pixel (no value) reads the first; a film of only +inf reads the last everywhere."""
    lut = VoiLut(0, np.array([0, 100, 4095], np.uint16), 12)
    pixels = np.zeros((10, 10), np.float32)
    pixels[0, :5] = [np.inf, 3e9, -np.inf, -3e9, np.nan]
    got = show(pixels, lut, inverted=False)
    assert got[0, :5].tolist() == [255, 255, 0, 0, 0]
    assert (show(np.full((10, 10), np.inf, np.float32), lut, inverted=False) == 255).all()
