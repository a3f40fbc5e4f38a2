"""LUT descriptors, pixel padding, float windows and films that must render (issue #11).

Expected values are computed from the standard's formulas in the tests themselves:
VOI LUT output = entry / (2**bits − 1) (PS3.3 C.11.2.1.1), LINEAR_EXACT
``(x − c) / w + 0.5`` (C.11.2.1.3.2), padding per C.7.5.1.1.2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from cobbdesk.core.dicom.display import auto_window, default_voi, render_film
from cobbdesk.core.dicom.film import VoiFunction, Window
from cobbdesk.core.dicom.lut import first_mapped
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.viewing import drag_window

Factory = Callable[..., Path]


def _lut_item(descriptor: list[int], data: list[int], vr: str = "US") -> Dataset:
    item = Dataset()
    item.add_new(0x00283002, vr, descriptor)
    item.add_new(0x00283006, "US", data)
    item.LUTExplanation = "TEST"
    return item


def _ramp_film(factory: Factory, pixels: np.ndarray, item: Dataset, **attrs: object) -> Path:
    return factory(pixels, VOILUTSequence=Sequence([item]), **attrs)


@pytest.mark.parametrize("first", [0, 1000, 32768, 40000, 61440])
def test_unsigned_first_mapped_values_keep_their_sign(first: int, dicom_factory: Factory) -> None:
    entries = 256
    pixels = (first + np.arange(entries, dtype=np.int64)).clip(0, 65535).astype(np.uint16)
    pixels = np.tile(pixels, (4, 1))
    item = _lut_item([entries, first, 16], [i * 257 for i in range(entries)])  # 0 … 65535
    film = read_film(_ramp_film(dicom_factory, pixels, item, BitsStored=16, HighBit=15))
    assert film.voi_luts[0].first_mapped == first
    image = render_film(film, film.voi_luts[0])
    # entry k = v − first; output 255 · 257 k / 65535 = k (exactly, for k ≤ 255)
    np.testing.assert_array_equal(image[0], np.arange(entries)[: image.shape[1]])


@pytest.mark.parametrize("vr", ["US", "SS"])
def test_signed_data_first_mapped_is_negative(vr: str, dicom_factory: Factory) -> None:
    pixels = np.tile(np.arange(-2048, 2048, 16, dtype=np.int16), (4, 1))  # 256 values
    raw_first = 63488 if vr == "US" else -2048  # −2048 written as US or as SS
    item = _lut_item([4096, raw_first, 12], [min(k, 4095) for k in range(4096)], vr)
    film = read_film(_ramp_film(dicom_factory, pixels, item, BitsStored=16, HighBit=15))
    assert film.voi_luts[0].first_mapped == -2048
    image = render_film(film, film.voi_luts[0])
    # value v → entry v + 2048 → 255 · (v + 2048) / 4095
    np.testing.assert_array_equal(
        image[0], np.rint(255 * (pixels[0].astype(float) + 2048) / 4095).astype(np.uint8)
    )


def test_first_mapped_sign_rule() -> None:
    assert first_mapped(32768, signed_input=False) == 32768
    assert first_mapped(32768, signed_input=True) == -32768
    assert first_mapped(-2048, signed_input=True) == -2048
    assert first_mapped(-2048, signed_input=False) == 63488


def test_rescale_to_negative_values_makes_the_voi_input_signed(dicom_factory: Factory) -> None:
    pixels = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (4, 1))
    item = _lut_item([4096, 0xF800, 16], [k * 16 for k in range(4096)])  # first −2048 (SS)
    film = read_film(
        _ramp_film(dicom_factory, pixels, item, RescaleIntercept="-2048", RescaleSlope="1")
    )
    assert film.voi_luts[0].first_mapped == -2048


@pytest.mark.parametrize(("declared", "actual_bits"), [(16, 12), (16, 10), (8, 10), (12, 16)])
def test_lut_depth_comes_from_the_table(
    declared: int, actual_bits: int, dicom_factory: Factory
) -> None:
    """Agfa CR: 16-bit descriptor, 12-bit data; also entries above the declared depth."""
    top = (1 << actual_bits) - 1
    table = [round(top * k / 255) for k in range(256)]
    pixels = np.tile(np.arange(256, dtype=np.uint16), (4, 1))
    film = read_film(_ramp_film(dicom_factory, pixels, _lut_item([256, 0, declared], table)))
    assert film.voi_luts[0].bits == actual_bits
    assert any("(0028,3002)" in n for n in film.notices)
    image = render_film(film, film.voi_luts[0])
    assert image[0, 0] == 0 and image[0, -1] == 255  # full range, not dark or clipped


def test_modality_lut_with_signed_first_mapped(dicom_factory: Factory) -> None:
    pixels = np.tile(np.arange(-100, 100, dtype=np.int16), (2, 1))
    item = _lut_item([200, 0xFF9C, 16], [1000 + 3 * k for k in range(200)])  # first −100 as US
    film = read_film(dicom_factory(pixels, ModalityLUTSequence=Sequence([item])))
    np.testing.assert_array_equal(film.pixels[0], 1000 + 3 * (pixels[0].astype(int) + 100))


def _padded(rows: int = 40, cols: int = 50) -> np.ndarray:
    y, x = np.mgrid[0:rows, 0:cols]
    image = (1000 + 20 * x + 5 * y).astype(np.uint16)  # 1000 … 2175
    image[:, :10] = 0  # padding band
    return image


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_padding_is_left_out_and_drawn_as_background(
    photometric: str, dicom_factory: Factory
) -> None:
    pixels = _padded()
    film = read_film(
        dicom_factory(pixels, bits_stored=12, photometric=photometric, PixelPaddingValue=0)
    )
    assert film.padding is not None and film.padding[:, :10].all()
    assert film.pixel_range == (1200.0, float(pixels.max()))
    window = default_voi(film)
    assert isinstance(window, Window) and window.center - window.width / 2 >= 1150
    image = render_film(film)
    assert (image[:, :10] == 0).all()
    assert image[:, 10:].std() > 30  # the image itself has contrast


def test_padding_range_limit_and_high_bits(dicom_factory: Factory) -> None:
    pixels = _padded()
    pixels[:5, :] = 4095  # a second padded band, range 4090…4095 written with garbage bits
    film = read_film(
        dicom_factory(pixels, bits_stored=12, PixelPaddingValue=0xFFFF, PixelPaddingRangeLimit=4090)
    )
    assert film.padding is not None
    assert film.padding[:5].all() and not film.padding[5:, 10:].any()


def test_tiny_float_range_gets_full_contrast(dicom_factory: Factory) -> None:
    pixels = np.tile(np.arange(2400, 7301, 70, dtype=np.uint16), (8, 1))  # 71 values
    film = read_film(dicom_factory(pixels, RescaleSlope="0.0001", RescaleIntercept="0"))
    assert film.pixels.dtype == np.float32
    assert film.pixel_range == pytest.approx((0.24, 0.73), abs=1e-6)
    window = auto_window(film.pixels, film.voi_function)
    assert window.function is VoiFunction.LINEAR_EXACT and window.width < 0.5
    image = render_film(film)
    assert image.min() <= 2 and image.max() >= 253
    narrow = Window(0.5, 0.1)  # width < 1, valid for float data
    values = film.pixels[0].astype(float)
    expected = np.rint(255 * np.clip((values - 0.5) / 0.1 + 0.5, 0, 1))
    np.testing.assert_allclose(render_film(film, narrow)[0], expected, atol=1)
    dragged = drag_window(window, dx=-5, dy=3, pixel_range=film.pixel_range)
    assert 0 < dragged.width < window.width and dragged.center > window.center


@pytest.mark.parametrize("bad", [(0.0, 0.0), (float("nan"), 1.0), (1.0, float("inf")), (1, -2)])
def test_windows_must_be_finite_and_positive(bad: tuple[float, float]) -> None:
    with pytest.raises(ValueError):
        Window(*bad)


def test_nan_window_is_skipped_and_the_film_renders(dicom_factory: Factory) -> None:
    pixels = np.tile(np.arange(0, 4000, 40, dtype=np.uint16), (6, 1))
    film = read_film(dicom_factory(pixels, WindowCenter="NaN", WindowWidth="400"))
    assert film.windows == [] and any("(0028,1050/1051)" in n for n in film.notices)
    assert render_film(film).std() > 30


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
def test_one_pixel_films_render(dtype: type, dicom_factory: Factory) -> None:
    film = read_film(dicom_factory(np.array([[7]], dtype=dtype)))
    for voi in (None, Window(7, 100), Window(7, 0.5, VoiFunction.LINEAR_EXACT)):
        assert render_film(film, voi).shape == (1, 1)
