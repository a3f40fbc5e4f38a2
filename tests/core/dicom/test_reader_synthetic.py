"""Generated fixtures: every transfer syntax (DCMTK, imagecodecs) and synthetic edge cases."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import JPEG2000Lossless

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import (
    DicomHeaderError,
    FilmError,
    NotDicomError,
    PixelDataError,
    UnsupportedTransferSyntaxError,
)

Factory = Callable[..., Path]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """A 12-bit 'radiograph' with smooth structure and noise (so codecs have real work)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:96, 0:128]
    smooth = 2000 + 1200 * np.sin(x / 9.0) * np.cos(y / 13.0)
    return np.clip(smooth + rng.normal(0, 40, smooth.shape), 0, 4095).astype(np.uint16)


def _dcmtk(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"DCMTK {tool} not installed (packaging/bootstrap.sh installs it)")
    subprocess.run([tool, *args], check=True, capture_output=True)


# (tool, options, lossless) for each DCMTK-made transfer syntax.
DCMTK_VARIANTS = {
    "implicit-le": ("dcmconv", ["+ti"], True),
    "explicit-be": ("dcmconv", ["+tb"], True),
    "deflated": ("dcmconv", ["+td"], True),
    "rle": ("dcmcrle", [], True),
    "jpeg-lossless-sv1": ("dcmcjpeg", ["+e1"], True),
    "jpeg-lossless-p14": ("dcmcjpeg", ["+el"], True),
    "jpeg-extended-12bit": ("dcmcjpeg", ["+ee"], False),
    "jpeg-ls-lossless": ("dcmcjpls", ["+el"], True),
    "jpeg-ls-near-lossless": ("dcmcjpls", ["+en"], False),
}


@pytest.mark.parametrize("variant", sorted(DCMTK_VARIANTS))
def test_transfer_syntaxes_decode(
    variant: str, reference: np.ndarray, dicom_factory: Factory, tmp_path: Path
) -> None:
    tool, options, lossless = DCMTK_VARIANTS[variant]
    source = dicom_factory(reference, bits_stored=12)
    target = tmp_path / f"{variant}.dcm"
    _dcmtk(tool, *options, str(source), str(target))
    film = read_film(target)
    original = read_film(source)
    if lossless:
        np.testing.assert_array_equal(film.pixels, reference)
        assert film.pixel_sha256 == original.pixel_sha256
    else:  # lossy: the oracle is DCMTK's own decoder of the same file
        decoded = tmp_path / "dcmtk-decoded.dcm"
        _dcmtk("dcmdjpls" if "ls" in variant else "dcmdjpeg", str(target), str(decoded))
        expected = read_film(decoded).pixels.astype(int)
        assert np.abs(film.pixels.astype(int) - expected).max() <= 1


def test_jpeg_baseline_8bit(dicom_factory: Factory, tmp_path: Path) -> None:
    ref = (np.add.outer(np.arange(64), np.arange(80)) * 2 % 256).astype(np.uint8)
    target = tmp_path / "baseline.dcm"
    _dcmtk("dcmcjpeg", "+eb", str(dicom_factory(ref)), str(target))
    film = read_film(target)
    assert film.transfer_syntax == "1.2.840.10008.1.2.4.50"
    assert np.abs(film.pixels.astype(int) - ref).mean() < 4


def test_jpeg2000_lossless(
    reference: np.ndarray, make_ds: Callable[..., Dataset], tmp_path: Path
) -> None:
    ds = make_ds(reference, bits_stored=12)
    ds.PixelData = encapsulate([imagecodecs.jpeg2k_encode(reference, level=0, reversible=True)])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.save_as(tmp_path / "j2k.dcm", enforce_file_format=True)
    np.testing.assert_array_equal(read_film(tmp_path / "j2k.dcm").pixels, reference)


def test_signed_12_bit_in_16_bit_storage(dicom_factory: Factory) -> None:
    values = np.array([[-2048, -1000, 0, 2047]] * 3, dtype=np.int16)
    stored = (values.view(np.uint16) & 0x0FFF).view(np.int16)  # high bits not sign-extended
    film = read_film(dicom_factory(stored, bits_stored=12))
    assert film.pixel_range == (-2048, 2047)
    np.testing.assert_array_equal(film.pixels, values)


def test_unsigned_bits_stored_masks_high_bits(dicom_factory: Factory) -> None:
    stored = np.array([[0, 4095, 0xF000 | 5]], dtype=np.uint16)
    assert read_film(dicom_factory(stored, bits_stored=12)).pixel_range == (0, 4095)


def test_rescale_slope_intercept(dicom_factory: Factory) -> None:
    stored = np.array([[0, 100, 4095]], dtype=np.uint16)
    film = read_film(dicom_factory(stored, RescaleSlope="1", RescaleIntercept="-1024"))
    np.testing.assert_array_equal(film.pixels, [[-1024, -924, 3071]])
    film = read_film(dicom_factory(stored, RescaleSlope="0.5", RescaleIntercept="1"))
    assert film.pixels.dtype == np.float32
    np.testing.assert_allclose(film.pixels, [[1, 51, 2048.5]])


def test_anisotropic_spacing_keeps_row_column_order(dicom_factory: Factory) -> None:
    film = read_film(dicom_factory(np.zeros((8, 8), np.uint16), pixel_spacing=(0.1, 0.2)))
    assert film.spacing_mm == (0.1, 0.2)
    assert film.spacing_source is SpacingSource.PIXEL_SPACING


def test_imager_spacing_with_ermf(dicom_factory: Factory) -> None:
    film = read_film(
        dicom_factory(
            np.zeros((8, 8), np.uint16),
            pixel_spacing=None,
            ImagerPixelSpacing=["0.2", "0.3"],
            EstimatedRadiographicMagnificationFactor="1.25",
        )
    )
    assert film.spacing_mm == pytest.approx((0.16, 0.24))
    assert film.spacing_source is SpacingSource.IMAGER_ERMF


def test_imager_spacing_with_implausible_ermf_is_detector_plane(dicom_factory: Factory) -> None:
    film = read_film(
        dicom_factory(
            np.zeros((8, 8), np.uint16),
            pixel_spacing=None,
            ImagerPixelSpacing=["0.2", "0.2"],
            EstimatedRadiographicMagnificationFactor="0",
        )
    )
    assert film.spacing_source is SpacingSource.IMAGER and film.spacing_mm == (0.2, 0.2)
    assert any("(0018,1114)" in n for n in film.notices)


@pytest.mark.parametrize("bad", [["0", "0"], ["-0.1", "0.1"], ["0.1"], ["nan", "0.1"]])
def test_zero_or_malformed_spacing_is_uncalibrated(dicom_factory: Factory, bad: list[str]) -> None:
    film = read_film(
        dicom_factory(np.zeros((8, 8), np.uint16), pixel_spacing=None, PixelSpacing=bad)
    )
    assert film.spacing_mm is None and film.spacing_source is SpacingSource.NONE
    assert not film.calibrated
    assert any("(0028,0030)" in n for n in film.notices)


def test_multiframe_shows_first_frame_with_notice(dicom_factory: Factory) -> None:
    frames = np.stack([np.full((6, 5), i * 100, np.uint16) for i in range(3)])
    film = read_film(dicom_factory(frames))
    assert film.pixel_range == (0, 0) and film.number_of_frames == 3
    assert any("first frame" in n for n in film.notices)


def test_rgb_secondary_capture_becomes_luminance(dicom_factory: Factory) -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    film = read_film(dicom_factory(rgb, photometric="RGB"))
    assert film.pixels.shape == (4, 4)
    assert film.pixel_range == (124, 124)  # 0.299*200 + 0.587*100 + 0.114*50 = 124.2
    assert any("luminance" in n for n in film.notices)


def test_huge_dimensions_refused_before_allocation(
    make_ds: Callable[..., Dataset], tmp_path: Path
) -> None:
    ds = make_ds(np.zeros((2, 2), np.uint16))
    ds.Rows = ds.Columns = 65535
    ds.save_as(tmp_path / "bomb.dcm", enforce_file_format=True)
    with pytest.raises(DicomHeaderError, match=r"Rows \(0028,0010\) is 65535; expected 1\.\.16384"):
        read_film(tmp_path / "bomb.dcm")


@pytest.mark.parametrize("delta", [-2, 200])
def test_pixel_data_of_the_wrong_length(
    make_ds: Callable[..., Dataset], tmp_path: Path, delta: int
) -> None:
    ds = make_ds(np.zeros((10, 10), np.uint16))
    ds.PixelData = bytes(200 + delta)
    ds.save_as(tmp_path / "len.dcm", enforce_file_format=True)
    with pytest.raises(PixelDataError, match="= 200 bytes"):
        read_film(tmp_path / "len.dcm")


def test_truncated_file_is_refused(dicom_factory: Factory, tmp_path: Path) -> None:
    path = dicom_factory(np.zeros((600, 600), np.uint16))
    data = path.read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[: len(data) - 1000])
    with pytest.raises(PixelDataError, match=r"holds 719,000 bytes.*= 720,000 bytes"):
        read_film(tmp_path / "cut.dcm")


def test_unsupported_transfer_syntax(make_ds: Callable[..., Dataset], tmp_path: Path) -> None:
    ds = make_ds(np.zeros((4, 4), np.uint16))
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG-2
    ds.PixelData = encapsulate([b"\x00" * 32])
    ds["PixelData"].VR = "OB"
    ds.save_as(tmp_path / "mpeg.dcm", enforce_file_format=True)
    with pytest.raises(UnsupportedTransferSyntaxError, match="MPEG2"):
        read_film(tmp_path / "mpeg.dcm")


def test_missing_required_attribute(make_ds: Callable[..., Dataset], tmp_path: Path) -> None:
    ds = make_ds(np.zeros((4, 4), np.uint16))
    del ds.BitsStored
    ds.save_as(tmp_path / "nobits.dcm", enforce_file_format=True)
    with pytest.raises(DicomHeaderError, match=r"BitsStored \(0028,0101\) is missing"):
        read_film(tmp_path / "nobits.dcm")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello, not a radiograph\n" * 10,
        bytes(range(256)) * 40,
        b"\x89PNG\r\n\x1a\n" + bytes(300),
    ],
)
def test_non_dicom_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.dcm"
    path.write_bytes(content)
    with pytest.raises(FilmError) as info:
        read_film(path)
    assert isinstance(info.value, NotDicomError | DicomHeaderError | PixelDataError)
    assert str(info.value).startswith("x.dcm: ")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(FilmError, match="no such file"):
        read_film(tmp_path / "absent.dcm")
    with pytest.raises(FilmError, match="not a regular file"):
        read_film(tmp_path)


def test_metadata_fields(dicom_factory: Factory) -> None:
    film = read_film(dicom_factory(np.zeros((4, 4), np.uint16), SeriesDescription="C-spine lat"))
    assert (film.patient_id, film.patient_sex, film.study_date) == ("SYN-001", "F", "20260101")
    assert film.patient_name == "Synthetic^Patient" and film.patient_birth_date == "19700101"
    assert film.modality == "DX" and film.body_part_examined == "CSPINE"
    assert film.view_position == "LL" and film.series_description == "C-spine lat"
    assert film.study_instance_uid and film.series_instance_uid and film.sop_instance_uid
    assert film.transfer_syntax == "1.2.840.10008.1.2.1"


def test_jpeg2000_lossy(
    reference: np.ndarray, make_ds: Callable[..., Dataset], tmp_path: Path
) -> None:
    ds = make_ds(reference, bits_stored=12)
    encoded = imagecodecs.jpeg2k_encode(reference, level=60, reversible=False, bitspersample=12)
    ds.PixelData = encapsulate([encoded])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.91"
    ds.save_as(tmp_path / "j2k-lossy.dcm", enforce_file_format=True)
    film = read_film(tmp_path / "j2k-lossy.dcm")
    expected = imagecodecs.jpeg2k_decode(encoded)
    np.testing.assert_array_equal(film.pixels, expected)
    assert 0 < np.abs(film.pixels.astype(int) - reference).mean() < 10
