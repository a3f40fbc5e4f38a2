"""Code stream headers (T.81 B.2.2, T.87 C.2.2, T.800 A.5.1 / I.5.3.1) and the refusal of
streams whose dimensions disagree with Rows × Columns, before decoding."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import (
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
)

from cobbdesk.core.dicom import codestream
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import PixelDataError
from tests.conftest import make_dataset

Factory = Callable[..., Path]


def test_jpeg_frame_header_by_hand() -> None:
    # SOI, APP0 of length 4 (2 bytes payload), fill byte, SOF3: Lf=11 P=12 Y=300 X=200 Nf=1
    stream = (
        b"\xff\xd8" + b"\xff\xe0\x00\x04ab" + b"\xff"
        + b"\xff\xc3" + struct.pack(">HBHHB", 11, 12, 300, 200, 1) + b"\x01\x11\x00"
    )  # fmt: skip
    info = codestream.jpeg_frame_header(stream)
    assert (info.rows, info.columns, info.components, info.precision) == (300, 200, 1, 12)
    assert "SOF3" in info.source and "T.81" in info.source


def test_jpegls_sof55_by_hand() -> None:
    stream = b"\xff\xd8\xff\xf7" + struct.pack(">HBHHB", 11, 16, 64, 48, 1) + b"\x01\x11\x00"
    info = codestream.jpeg_frame_header(stream)
    assert (info.rows, info.columns, info.precision) == (64, 48, 16)
    assert "SOF55" in info.source


def _siz(x: int, y: int, xo: int = 0, yo: int = 0, ssiz: tuple[int, ...] = (11,)) -> bytes:
    body = struct.pack(">HIIIIIIIIH", 0, x, y, xo, yo, x, y, 0, 0, len(ssiz))
    body += b"".join(bytes([s, 1, 1]) for s in ssiz)
    return b"\xff\x4f\xff\x51" + struct.pack(">H", len(body) + 2) + body


def test_j2k_siz_subtracts_the_image_offset() -> None:
    info = codestream.j2k_siz(_siz(250, 120, xo=50, yo=20, ssiz=(0x8B,)))
    assert (info.rows, info.columns, info.components) == (100, 200, 1)
    assert info.precision == 12  # (0x8B & 0x7F) + 1; the top bit is the sign


def test_jp2_boxes_are_read_and_must_agree() -> None:
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    ihdr = box(b"ihdr", struct.pack(">IIHBBBB", 120, 200, 1, 11, 7, 0, 0))
    jp2 = (
        b"\x00\x00\x00\x0cjP  \r\n\x87\n" + box(b"ftyp", b"jp2 \x00\x00\x00\x00jp2 ")
        + box(b"jp2h", ihdr) + box(b"jp2c", _siz(200, 120))
    )  # fmt: skip
    info = codestream.stream_header(jp2, "j2k")
    assert (info.rows, info.columns) == (120, 200)
    bad = jp2.replace(_siz(200, 120), _siz(200, 121))
    with pytest.raises(ValueError, match="ihdr"):
        codestream.stream_header(bad, "j2k")


@pytest.mark.parametrize(
    "stream",
    [b"", b"\xff\xd8", b"\xff\xd8\xff\xda\x00\x02", b"\x00\x01", b"\xff\xd8\xff\xc0\x00\x01"],
)
def test_unreadable_jpeg_headers_raise_value_error(stream: bytes) -> None:
    with pytest.raises(ValueError):
        codestream.jpeg_frame_header(stream)


def _encoded(ts: str, image: np.ndarray) -> bytes:
    if ts == JPEGLSLossless:
        return imagecodecs.jpegls_encode(image)
    if ts == JPEG2000Lossless:
        return imagecodecs.jpeg2k_encode(image, level=0)
    return imagecodecs.jpeg8_encode(image)


@pytest.mark.parametrize("ts", [JPEGLSLossless, JPEG2000Lossless, JPEGBaseline8Bit])
@pytest.mark.parametrize("declared", [(16, 16), (32, 31), (31, 32)])
def test_streams_larger_or_smaller_than_the_header_are_refused(
    ts: str, declared: tuple[int, int], tmp_path: Path
) -> None:
    dtype = np.uint8 if ts == JPEGBaseline8Bit else np.uint16
    image = (np.arange(32 * 32).reshape(32, 32) % 200).astype(dtype)
    header_pixels = np.zeros(declared, dtype)
    ds = make_dataset(header_pixels)
    ds.file_meta.TransferSyntaxUID = ts
    ds.PixelData = encapsulate([_encoded(ts, image)])
    path = tmp_path / "m.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(PixelDataError) as info:
        read_film(path)
    message = str(info.value)
    assert message.startswith("m.dcm: Pixel Data (7FE0,0010)")
    assert "32 × 32" in message and f"{declared[0]} × {declared[1]}" in message


@pytest.mark.parametrize("ts", [JPEGLSLossless, JPEG2000Lossless, JPEGBaseline8Bit])
def test_matching_streams_decode(ts: str, tmp_path: Path) -> None:
    dtype = np.uint8 if ts == JPEGBaseline8Bit else np.uint16
    image = (np.arange(32 * 24).reshape(32, 24) % 200).astype(dtype)
    ds = make_dataset(image)
    ds.file_meta.TransferSyntaxUID = ts
    ds.PixelData = encapsulate([_encoded(ts, image)])
    path = tmp_path / "ok.dcm"
    ds.save_as(path, enforce_file_format=True)
    film = read_film(path)
    assert film.pixels.shape == (32, 24)
    if ts != JPEGBaseline8Bit:
        np.testing.assert_array_equal(film.pixels, image)


def test_corrupt_item_structure_is_a_pixel_data_error(tmp_path: Path) -> None:
    ds = make_dataset(np.zeros((8, 8), np.uint16))
    ds.file_meta.TransferSyntaxUID = JPEGLSLossless
    ds.PixelData = b"\xfe\xff\x00\xe0\x00\x00\x00\x00" + b"\xfe\xff\x00\xe0\xff\xff\x00\x10"
    path = tmp_path / "items.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(PixelDataError, match=r"items\.dcm: Pixel Data \(7FE0,0010\)"):
        read_film(path)
