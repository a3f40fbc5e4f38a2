"""Bits above Bits Stored are ignored in every transfer syntax (PS3.5 8.1.1, PS3.3 C.7.6.3).

Fixtures: a native film whose samples carry garbage above Bits Stored (an overlay in bit 15),
recompressed by DCMTK (``dcmcjpls``, ``dcmcjpeg``, ``dcmcrle``) and by imagecodecs encoders
fed the *raw 16-bit* samples (precision-16 JPEG-LS / JPEG 2000 code streams).  The expected
values are computed here from the definition: unsigned ``v & (2**bits − 1)``; signed, the
two's complement number in the low ``bits`` bits.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.dicom.stored import ignore_high_bits
from tests.conftest import make_dataset

Factory = Callable[..., Path]


def expected(raw: np.ndarray, bits: int, signed: bool) -> np.ndarray:
    """Reference by arithmetic (not by bit tricks): low bits, then two's complement."""
    low = raw.astype(np.int64) % (1 << bits)
    if signed:
        low = np.where(low >= 1 << (bits - 1), low - (1 << bits), low)
    return low


def garbage_film(bits: int, seed: int = 5) -> np.ndarray:
    """16-bit samples: a smooth image in ``bits`` bits, random bits above, a block in bit 15."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:48, 0:40]
    image = ((x * 37 + y * 11) % (1 << bits)).astype(np.uint32)
    high = rng.integers(0, 1 << (16 - bits), image.shape, dtype=np.uint32) << bits
    image |= high
    image[10:20, 10:20] |= 0x8000  # the overlay
    return image.astype(np.uint16)


def _save(path: Path, raw: np.ndarray, bits: int, signed: bool, *, ts: str, data: bytes) -> Path:
    ds = make_dataset(raw.view(np.int16) if signed else raw, bits_stored=bits)
    ds.file_meta.TransferSyntaxUID = ts
    ds.PixelData = data
    ds.save_as(path, enforce_file_format=True)
    return path


def _dcmtk(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"DCMTK {tool} not installed")
    subprocess.run([tool, *args], check=True, capture_output=True)


@pytest.mark.parametrize(("bits", "signed"), [(12, False), (10, False), (12, True), (14, True)])
def test_every_codec_gives_the_same_pixels_and_hash(
    bits: int, signed: bool, tmp_path: Path
) -> None:
    raw = garbage_film(bits)
    truth = expected(raw, bits, signed)
    native = _save(
        tmp_path / "native.dcm", raw, bits, signed, ts="1.2.840.10008.1.2.1", data=raw.tobytes()
    )
    variants = {
        "jpegls-16": _save(
            tmp_path / "jls.dcm", raw, bits, signed, ts=JPEGLSLossless,
            data=encapsulate([imagecodecs.jpegls_encode(raw)]),
        ),
        "j2k-16": _save(
            tmp_path / "j2k.dcm", raw, bits, signed, ts=JPEG2000Lossless,
            data=encapsulate([imagecodecs.jpeg2k_encode(raw, level=0)]),
        ),
    }  # fmt: skip
    for name, (tool, options) in {
        "rle": ("dcmcrle", []),
        "jpeg-lossless": ("dcmcjpeg", ["+e1"]),
        "jpegls-dcmtk": ("dcmcjpls", ["+el"]),
    }.items():
        target = tmp_path / f"{name}.dcm"
        try:
            _dcmtk(tool, *options, str(native), str(target))
        except subprocess.CalledProcessError:
            continue  # DCMTK refuses some signed/odd depths; the imagecodecs variants remain
        variants[name] = target
    reference = read_film(native)
    np.testing.assert_array_equal(reference.pixels.astype(np.int64), truth)
    for name, path in variants.items():
        film = read_film(path)
        np.testing.assert_array_equal(film.pixels.astype(np.int64), truth, err_msg=name)
        assert film.pixel_sha256 == reference.pixel_sha256, name
        assert film.pixel_range == (truth.min(), truth.max()), name


def test_ignore_high_bits_matches_the_definition() -> None:
    raw = np.arange(0, 65536, 7, dtype=np.uint16)
    for bits in (1, 8, 10, 12, 15):
        out = ignore_high_bits(raw.copy(), bits, signed=False)
        np.testing.assert_array_equal(out, expected(raw, bits, False))
        out = ignore_high_bits(raw.copy().view(np.int16), bits, signed=True)
        np.testing.assert_array_equal(out, expected(raw, bits, True))
    image = (np.arange(64 * 64, dtype=np.uint32) * 977 % 65536).astype(np.uint16).reshape(64, 64)
    np.testing.assert_array_equal(
        ignore_high_bits(image.copy(), 12, signed=False), expected(image, 12, False)
    )
    full = np.array([1, 2], np.uint16)
    assert ignore_high_bits(full, 16, signed=False) is full


def test_precision_16_jpeg2000_signed_values_are_sign_extended(tmp_path: Path) -> None:
    values = np.array([[-2048, -1, 0, 2047]] * 8, np.int16)
    raw = (values.view(np.uint16) & 0x0FFF) | 0x5000  # garbage above a 12-bit signed value
    path = _save(
        tmp_path / "s.dcm", raw, 12, True, ts=JPEG2000Lossless,
        data=encapsulate([imagecodecs.jpeg2k_encode(raw, level=0)]),
    )  # fmt: skip
    np.testing.assert_array_equal(read_film(path).pixels, values)
