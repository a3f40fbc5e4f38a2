"""The viewer's kept frame (display_frame.ScreenFrame) and the 16-bit value tables (display_lut).

A window/level drag renders one frame again and again with new settings; whatever it keeps
(range, rounded float values, scratch table, buffers, a replaced frame's buffers) must never
leak one setting into the next.  Every result is compared with the PS3.3 C.11.2.1.2 formulas of
test_voi_reference (float64), with that file's tolerance (the neighbour level only within 1/100
of a level of a tie).
"""

from __future__ import annotations

import numpy as np
import pytest

from cobbdesk.core.dicom import display_lut
from cobbdesk.core.dicom.display_frame import (
    FrameBuffers,
    ScreenFrame,
    finite_range,
    sigmoid_steps,
)
from cobbdesk.core.dicom.film import VoiFunction, VoiLut, Window
from tests.core.dicom.test_voi_reference import assert_levels, formula

RNG = np.random.default_rng(2026)
FILMS = {
    "uint16 12-bit": RNG.integers(0, 4096, (90, 130)).astype(np.uint16),
    "int16 wide": RNG.integers(-20000, 20000, (90, 130)).astype(np.int16),
    "float32": (RNG.integers(0, 4096, (90, 130)) * 0.5 + 0.25).astype(np.float32),
}
DRAG = [Window(1500.0 + 37.0 * i, 1800.0 - 91.0 * i, f)
        for i, f in enumerate(list(VoiFunction) * 3)]  # fmt: skip


def _lut_levels(pixels: np.ndarray, lut: VoiLut) -> np.ndarray:
    """C.11.2.1.1: value rounded half to even, minus first mapped, clamped to the ends."""
    index = np.clip(np.rint(pixels.astype(np.float64)) - lut.first_mapped, 0, lut.table.size - 1)
    return lut.table[index.astype(np.int64)] / float((1 << lut.bits) - 1) * 255.0


@pytest.mark.parametrize("name", list(FILMS))
def test_a_drag_of_mixed_settings_equals_the_formula_each_time(name: str) -> None:
    """Windows of every function, VOI LUTs and inversion toggled, on one kept frame."""
    pixels = FILMS[name]
    frame = ScreenFrame(pixels)
    lut = VoiLut(int(pixels.min()) + 100, ((np.arange(5000) * 7919) % 65536).astype(np.uint16), 16)
    for i, window in enumerate(DRAG):
        inverted = i % 3 == 1
        got = frame.render(window, inverted)
        exact = formula(pixels, window.center, window.width, window.function)
        assert_levels(got, exact, inverted, (name, window))
        assert_levels(frame.render(lut, not inverted), _lut_levels(pixels, lut), not inverted,
                      (name, "lut"))  # fmt: skip


@pytest.mark.parametrize("name", list(FILMS))
def test_frames_sharing_buffers_never_mix(name: str) -> None:
    """A view's frames share scratch memory: the next frame (a new geometry, larger or
    smaller) overwrites the last image but reads nothing left in it."""
    pixels = FILMS[name]
    window = Window(1700.0, 900.0, VoiFunction.SIGMOID)
    buffers = FrameBuffers()
    old = ScreenFrame(pixels, buffers=buffers).render(window, False)
    for part in (pixels[::-1].copy(), pixels[:40, :70].copy(), pixels[:, ::-1].copy()):
        got = ScreenFrame(part, buffers=buffers).render(window, True)
        assert got.shape == part.shape and np.shares_memory(got, old)
        assert_levels(got, formula(part, 1700.0, 900.0, VoiFunction.SIGMOID), True, name)


def test_bounds_given_for_float_values_are_used_for_precision() -> None:
    """The film's range stands in for the samples' (a superset): the same levels either way."""
    pixels = FILMS["float32"]
    window = Window(1000.0, 700.0, VoiFunction.LINEAR)
    exact = formula(pixels, 1000.0, 700.0, VoiFunction.LINEAR)
    assert finite_range(pixels) == (float(pixels.min()), float(pixels.max()))
    for bounds in (None, (-5000.0, 9000.0)):
        got = ScreenFrame(pixels, bounds=bounds).render(window, False)
        assert_levels(got, exact, False, bounds)


def test_background_stays_black_whatever_the_setting() -> None:
    pixels = FILMS["uint16 12-bit"]
    background = np.zeros(pixels.shape, bool)
    background[:, :20] = True
    frame = ScreenFrame(pixels, background)
    for window in DRAG[:4]:
        for inverted in (False, True):
            got = frame.render(window, inverted)
            assert not got[background].any()
            exact = formula(pixels, window.center, window.width, window.function)
            assert_levels(got[:, 20:], exact[:, 20:], inverted, window)


def test_float_values_that_are_not_finite_take_the_reference_path() -> None:
    """Infinities (no kept range): +inf is 255 and -inf 0 through a window; through a VOI LUT
    +inf reads the last entry, -inf and NaN the first (PS3.3 C.11.2.1.1 clamps)."""
    pixels = FILMS["float32"].copy()
    pixels[0, :2] = [np.inf, -np.inf]
    window = Window(1000.0, 700.0, VoiFunction.LINEAR_EXACT)
    got = ScreenFrame(pixels).render(window, False)
    assert got[0, :2].tolist() == [255, 0]
    exact = formula(pixels[1:], 1000.0, 700.0, VoiFunction.LINEAR_EXACT)
    assert_levels(got[1:], exact, False, "finite rows")
    pixels[0, 2] = np.nan
    lut = VoiLut(0, np.array([0, 100, 4095], np.uint16), 12)
    assert ScreenFrame(pixels).render(lut, False)[0, :3].tolist() == [255, 0, 0]


RANGES = {
    np.uint16: [(0, 300), (1000, 41000), (65535 - 999, 65535)],
    np.int16: [(-32768, -32468), (-20000, 20000), (-5, 7000), (32767 - 999, 32767)],
}


@pytest.mark.parametrize("dtype", list(RANGES))
def test_lookup_reads_the_level_of_each_value(dtype: type) -> None:
    """``levels[v − low]`` by hand on every value of the range, through a scratch table reused
    between ranges (entries left from an earlier range are never read); an int16 range wider
    than 32,767 wraps round the 16-bit table."""
    scratch = np.full(display_lut.LUT16_SIZE, 7, np.uint8)
    for low, high in RANGES[dtype]:
        values = np.arange(low, high + 1, dtype=np.int64)
        values = np.resize(RNG.permutation(values), (64, (values.size + 63) // 64)).astype(dtype)
        levels = ((np.arange(high - low + 1) * 31) % 256).astype(np.uint8)
        got = display_lut.lookup(levels, values, low, scratch)
        assert np.array_equal(got, levels[values.astype(np.int64) - low])
        assert np.array_equal(display_lut.take_range(levels, values, low, high), got)


def test_the_opencv_probe_matches_the_installed_version() -> None:
    """OpenCV >= 5 reads 16-bit images through a 65,536-entry table; older ones refuse."""
    import cv2

    major = int(cv2.__version__.split(".")[0])
    assert display_lut.has_lut16() is (major >= 5)


@pytest.mark.parametrize(("c", "w"), [(800.0, 950.0), (-3.0, 0.01), (4000.0, 100.0), (0.0, 1e-3)])
def test_sigmoid_steps_are_the_levels_of_their_centres(c: float, w: float) -> None:
    """The step table from the 255 crossings equals the formula at each step's centre,
    except at a centre within 1e-6 of a half level (a tie either way)."""
    window = Window(c, w, VoiFunction.SIGMOID)
    x_lo = c - w
    scale = 65535 / (2 * w)
    centres = x_lo + np.arange(65536) / scale
    exact = formula(centres, c, w, VoiFunction.SIGMOID)
    steps = sigmoid_steps(window, x_lo, scale).astype(np.int64)
    tie = np.abs(exact - np.floor(exact) - 0.5) <= 1e-6
    assert steps.shape == (65536,)
    assert np.array_equal(steps[~tie], np.rint(exact[~tie]).astype(np.int64))
    assert np.all(np.abs(steps - exact) <= 0.5 + 1e-6)


@pytest.mark.parametrize(("c", "w"), [(800.0, 950.0), (2.0, 4.0), (2000.0, 100.0), (-1.5, 0.3)])
@pytest.mark.parametrize("inverted", [False, True])
def test_float_sigmoid_through_the_step_table(c: float, w: float, inverted: bool) -> None:
    """Dense float32 values over c ± 3w (and far beyond): every level within the tolerance of
    the formula, through the two-pass step table (checked to be the path taken), up to the
    largest |c| / w it accepts (about 20)."""
    rng = np.random.default_rng(abs(int(c * 7 + w)))
    pixels = (c + w * rng.uniform(-3.0, 3.0, (300, 400))).astype(np.float32)
    pixels[0, :4] = [c - 40 * w, c + 40 * w, c, c + w / 1000]
    frame = ScreenFrame(pixels)
    window = Window(c, w, VoiFunction.SIGMOID)
    assert frame._sigmoid_by_table(window, inverted) is not None
    got = frame.render(window, inverted)
    assert_levels(got, formula(pixels, c, w, VoiFunction.SIGMOID), inverted, (c, w))


def test_float_sigmoid_far_from_zero_takes_the_arithmetic_path() -> None:
    """|c| / w of 2,000: the float32 step index would err by more than a quarter step, so the
    frame evaluates the formula instead (and still within the tolerance)."""
    pixels = (2000.0 + RNG.uniform(-3.0, 3.0, (100, 100))).astype(np.float32)
    frame = ScreenFrame(pixels)
    window = Window(2000.0, 1.0, VoiFunction.SIGMOID)
    assert frame._sigmoid_by_table(window, False) is None
    assert_levels(frame.render(window, False), formula(pixels, 2000.0, 1.0, VoiFunction.SIGMOID),
                  False, "far")  # fmt: skip


@pytest.mark.parametrize(("low", "high"), [(-3.0, 4.0), (-32768.4, 32767.4), (30000.5, 90000.0),
                                           (-40000.0, 40000.0)])  # fmt: skip
def test_float_voi_lut_over_every_kind_of_range(low: float, high: float) -> None:
    """Rounded straight to int16, offset from the minimum via int32, or (more than 65,536
    integers) through the reference path: the same C.11.2.1.1 levels each time."""
    rng = np.random.default_rng(17)
    pixels = rng.uniform(low, high, (120, 150)).astype(np.float32)
    pixels[0, :4] = [low, high, np.float32(low) + 0.5, 2.5]
    table = ((np.arange(4000) * 7919) % 65536).astype(np.uint16)
    lut = VoiLut(int(low) + 17, table, 16)
    frame = ScreenFrame(pixels)
    for inverted in (False, True, False):
        assert_levels(frame.render(lut, inverted), _lut_levels(pixels, lut), inverted, low)
