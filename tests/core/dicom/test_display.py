"""Display pipeline: fast paths equal the PS3.3 formulas; inversion once, after VOI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.core.dicom.display import (
    auto_window,
    default_voi,
    fit_size,
    render,
    render_film,
    voi_presets,
    voi_unit,
    window_covers_data,
)
from cobbdesk.core.dicom.film import VoiFunction, VoiLut, Window
from cobbdesk.core.dicom.reader import read_film

rng = np.random.default_rng(11)


def _reference(pixels: np.ndarray, voi: Window | VoiLut, inverted: bool) -> np.ndarray:
    out = np.rint(voi_unit(pixels, voi) * 255).astype(np.uint8)
    return 255 - out if inverted else out


def test_linear_formula_matches_the_standard_by_hand() -> None:
    # PS3.3 C.11.2.1.2.1, c=100, w=11: x <= 94.5 -> 0, x > 104.5 -> 255, else linear.
    w = Window(100, 11)
    assert voi_unit(np.array([94, 94.5, 95, 100, 104.5, 105]), w).tolist() == pytest.approx(
        [0, 0, 0.05, 0.55, 1, 1]
    )


def test_sigmoid_formula() -> None:
    w = Window(50, 20, VoiFunction.SIGMOID)
    assert voi_unit(np.array([50.0]), w)[0] == pytest.approx(0.5)
    assert voi_unit(np.array([60.0]), w)[0] == pytest.approx(1 / (1 + np.exp(-2)))


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.int32, np.float32, np.uint8])
@pytest.mark.parametrize("function", list(VoiFunction))
def test_fast_paths_match_reference(dtype: type, function: VoiFunction) -> None:
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    low, high = (max(info.min, -3000), min(info.max, 4095)) if info else (-3000.0, 4095.0)
    pixels = rng.uniform(low, high, (64, 96)).astype(dtype)
    for _ in range(25):
        center = rng.uniform(low, high)
        width = float(rng.choice([1, 2, 37, 255, 300, 511, 600, 5000]))
        try:
            voi = Window(center, width, function)
        except ValueError:
            continue
        for inverted in (False, True):
            diff = np.abs(
                render(pixels, voi, inverted=inverted).astype(int)
                - _reference(pixels, voi, inverted)
            )
            # OpenCV computes in single precision: a value within ~1e-5 of .5 may round the
            # other way.  Never more than one level, and only for such rare values.
            assert diff.max() <= 1, (voi, inverted)
            assert np.count_nonzero(diff) <= 0.01 * diff.size, (voi, inverted)


def test_voi_lut_sequence() -> None:
    lut = VoiLut(first_mapped=10, table=np.array([0, 1000, 4095], np.uint16), bits=12)
    pixels = np.array([[0, 10, 11, 12, 500]], np.uint16)
    np.testing.assert_array_equal(render(pixels, lut, inverted=False), [[0, 0, 62, 255, 255]])


def test_mono1_and_mono2_pair_render_identically(dicom_factory: Callable[..., Path]) -> None:
    anatomy = np.clip(rng.normal(2000, 600, (80, 90)), 0, 4095).astype(np.uint16)
    mono2 = read_film(
        dicom_factory(anatomy, bits_stored=12, WindowCenter="2000", WindowWidth="3000")
    )
    mono1 = read_film(
        dicom_factory(
            (4095 - anatomy).astype(np.uint16),
            bits_stored=12,
            photometric="MONOCHROME1",
            WindowCenter="2095",
            WindowWidth="3000",
            PresentationLUTShape="INVERSE",
        )
    )
    a, b = render_film(mono2), render_film(mono1)
    assert np.abs(a.astype(int) - b).max() <= 1
    # and with automatic windows (percentiles mirror each other)
    a = render_film(mono2, auto_window(mono2.pixels))
    b = render_film(mono1, auto_window(mono1.pixels))
    assert np.abs(a.astype(int) - b).max() <= 1


def test_user_invert_flips_once_more(dicom_factory: Callable[..., Path]) -> None:
    film = read_film(dicom_factory(np.array([[0, 4095]], np.uint16), bits_stored=12))
    voi = Window(2048, 4096)
    assert render_film(film, voi).tolist() == [[0, 255]]
    assert render_film(film, voi, invert=True).tolist() == [[255, 0]]


def test_constant_image_auto_window_has_no_zero_width() -> None:
    window = auto_window(np.full((50, 50), 7, np.uint16))
    assert window.width >= 1
    image = render(np.full((50, 50), 7, np.uint16), window, inverted=False)
    assert len(np.unique(image)) == 1


def test_auto_window_ignores_outliers() -> None:
    pixels = rng.normal(1000, 100, (200, 200)).astype(np.uint16)
    pixels[0, :20] = 60000  # burned-in label
    window = auto_window(pixels)
    assert 600 < window.center < 1400 and window.width < 2000


def test_window_outside_data_is_not_used(dicom_factory: Callable[..., Path]) -> None:
    film = read_film(
        dicom_factory(
            rng.integers(32000, 65535, (40, 40)).astype(np.uint16),
            WindowCenter="2725",
            WindowWidth="5310",
        )
    )
    assert not window_covers_data(film.windows[0], film.pixel_range)
    assert default_voi(film).explanation == "auto"
    assert [name for name, _ in voi_presets(film)] == ["File window 1", "Auto"]


def test_fit_size_keeps_aspect() -> None:
    image = np.zeros((3000, 2500), np.uint8)
    assert fit_size(image, 600).shape == (600, 500)
    assert fit_size(image, None) is image
