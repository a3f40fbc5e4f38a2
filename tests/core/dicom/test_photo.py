"""Photos and scans of films: JPEG, PNG, TIFF (8/16-bit, colour, EXIF orientation)."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.dicom.isolated import IsolatedReader
from cobbdesk.core.dicom.photo import PERSPECTIVE_NOTICE, image_format, photo_uid
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import PixelDataError


def ramp16(rows: int = 60, cols: int = 80) -> np.ndarray:
    return (np.arange(rows * cols, dtype=np.uint32).reshape(rows, cols) * 13 % 65536).astype(
        np.uint16
    )


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_greyscale_is_kept_exactly(tmp_path: Path, fmt: str) -> None:
    values = ramp16()
    path = tmp_path / f"scan.{fmt.lower()}"
    Image.fromarray(values).save(path, fmt)
    film = read_film(path)
    assert film.pixels.dtype == np.uint16 and film.bits_stored == 16
    np.testing.assert_array_equal(film.pixels, values)
    assert film.spacing_mm is None and film.spacing_source is SpacingSource.NONE
    assert PERSPECTIVE_NOTICE in film.notices


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "JPEG"])
def test_8_bit_greyscale(tmp_path: Path, fmt: str) -> None:
    values = (np.arange(50 * 70).reshape(50, 70) % 256).astype(np.uint8)
    path = tmp_path / f"film.{fmt.lower()}"
    Image.fromarray(values).save(path, fmt, **({"quality": 100} if fmt == "JPEG" else {}))
    film = read_film(path)
    assert film.shape == (50, 70) and film.pixels.dtype == np.uint8
    if fmt != "JPEG":
        np.testing.assert_array_equal(film.pixels, values)
    else:  # lossy: close, not equal
        assert np.abs(film.pixels.astype(int) - values).mean() < 3


def test_colour_to_bt601_luma_with_a_notice(tmp_path: Path) -> None:
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    path = tmp_path / "colour.png"
    Image.fromarray(rgb).save(path)
    film = read_film(path)
    # 0.299·200 + 0.587·100 + 0.114·50 = 59.8 + 58.7 + 5.7 = 124.2
    assert (film.pixels == 124).all()
    assert any("luminance" in n and "BT.601" in n for n in film.notices)


def test_grey_saved_as_rgb_has_no_colour_notice(tmp_path: Path) -> None:
    grey = (np.arange(20 * 20).reshape(20, 20) % 256).astype(np.uint8)
    path = tmp_path / "grey_rgb.png"
    Image.fromarray(np.stack([grey] * 3, axis=-1)).save(path)
    film = read_film(path)
    np.testing.assert_array_equal(film.pixels, grey)
    assert not any("luminance" in n for n in film.notices)


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [
        (1, lambda a: a),
        (3, lambda a: np.rot90(a, 2)),
        (6, lambda a: np.rot90(a, -1)),  # EXIF 6: rotate 90° clockwise to display
        (8, lambda a: np.rot90(a, 1)),  # EXIF 8: rotate 90° counter-clockwise
        (2, lambda a: a[:, ::-1]),
    ],
)
def test_exif_orientation_is_honoured(tmp_path: Path, orientation: int, expected: object) -> None:
    values = (np.arange(30 * 40).reshape(30, 40) % 251).astype(np.uint8)
    image = Image.fromarray(values)
    exif = image.getexif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.png"
    image.save(path, exif=exif)
    film = read_film(path)
    np.testing.assert_array_equal(film.pixels, expected(values))  # type: ignore[operator]
    assert any("EXIF orientation" in n for n in film.notices) == (orientation != 1)


def test_uid_is_stable_uuid_derived(tmp_path: Path) -> None:
    values = ramp16()
    a, b = tmp_path / "a.png", tmp_path / "b.tif"
    Image.fromarray(values).save(a)
    Image.fromarray(values).save(b)
    film_a, film_b = read_film(a), read_film(b)
    assert film_a.pixel_sha256 == film_b.pixel_sha256
    assert film_a.sop_instance_uid == film_b.sop_instance_uid == photo_uid(film_a.pixel_sha256)
    uid = film_a.sop_instance_uid
    assert uid.startswith("2.25.") and len(uid) <= 64
    as_uuid = uuid.UUID(int=int(uid[5:]))  # PS3.5 B.2: the decimal value of a UUID
    assert as_uuid.version == 8 and as_uuid.variant == uuid.RFC_4122


def test_magic_bytes_not_names(tmp_path: Path) -> None:
    png = tmp_path / "looks_like.dcm"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(png, "PNG")
    assert image_format(png) == "PNG"
    assert read_film(png).photometric == "MONOCHROME2"
    dicom_with_tiff_preamble = tmp_path / "dual.tif"
    dicom_with_tiff_preamble.write_bytes(b"II*\x00" + b"\x00" * 124 + b"DICM" + b"\x00" * 16)
    assert image_format(dicom_with_tiff_preamble) is None


def test_damaged_photo_is_a_film_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)
    with pytest.raises(PixelDataError, match=r"broken\.jpg.*JPEG image cannot be decoded"):
        read_film(path)


def test_dpi_is_reported_not_used(tmp_path: Path) -> None:
    path = tmp_path / "scan300.tif"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(path, dpi=(300, 300))
    film = read_film(path)
    assert film.spacing_mm is None
    assert any("300 × 300 dpi" in n and "0.08467" in n for n in film.notices)


def test_isolated_reader_accepts_photos(tmp_path: Path) -> None:
    path = tmp_path / "iso.png"
    Image.fromarray(ramp16(16, 16)).save(path)
    reader = IsolatedReader(memory_limit=None)
    try:
        film = reader.read(path)
    finally:
        reader.close()
    assert film.shape == (16, 16) and film.sop_instance_uid.startswith("2.25.")
