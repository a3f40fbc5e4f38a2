"""Every real radiograph and every malformed file in ../shared/data, read in place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cobbdesk.core.dicom.display import default_voi, render_film
from cobbdesk.core.dicom.film import SpacingSource, VoiFunction, Window
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import (
    DicomHeaderError,
    FilmError,
    MissingFileMetaError,
    NotDicomError,
    PixelDataError,
)
from tests.conftest import SHARED_DATA, shared_files

RADIOGRAPHS = shared_files("radiographs")
MALFORMED = shared_files("malformed")
needs_shared = pytest.mark.skipif(
    not RADIOGRAPHS, reason=f"shared test data not found at {SHARED_DATA}"
)

# From ../shared/data/MANIFEST.md: (spacing_mm, source) per radiograph.
SPACING = {
    "966_fixed.dcm": ((0.16, 0.16), SpacingSource.PIXEL_SPACING),
    "JPEG2KLossless_1s_1f_u_16_16.dcm": ((0.4, 0.4), SpacingSource.IMAGER),
    "RG1_J2KI.dcm": (None, SpacingSource.NONE),
    "RG2_JLSL.dcm": ((0.2, 0.2), SpacingSource.PIXEL_SPACING),
    "RG3_J2KR.dcm": (None, SpacingSource.NONE),
    "MG1_J2KI.dcm": (None, SpacingSource.NONE),
    "CR-ModalitySequenceLUT.dcm": ((0.15, 0.15), SpacingSource.PIXEL_SPACING),
    "Issue44_Monochrome1-Jpeg.dcm": ((0.175, 0.175), SpacingSource.PIXEL_SPACING),
    "dx_image.dcm": ((1.2, 1.2012), SpacingSource.PIXEL_SPACING),
    "xr_chicken2.dcm": ((0.1, 0.1), SpacingSource.PIXEL_SPACING),
}

# Malformed files and the error each must raise; None = recoverable, must load.
MALFORMED_OUTCOME: dict[str, type[FilmError] | None] = {
    "2026-05-06-Deeply-Nested-Sequence.dcm": NotDicomError,
    "2026-05-26-oob-monochrome-46341.dcm": DicomHeaderError,
    "2026-05-26-oob-monochrome-65535.dcm": DicomHeaderError,
    "3gb-bulk-data-truncated.dcm": DicomHeaderError,
    "CR-MONO1-10-chest_no_meta.dcm": MissingFileMetaError,
    "CR000000_header_only.dcm": PixelDataError,
    "DummyCTInvalidRows.dcm": DicomHeaderError,
    "GH1146.dcm": PixelDataError,
    "GH1376.dcm": PixelDataError,
    "GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm": NotDicomError,
    "Issue56-NoPixelData.dcm": PixelDataError,
    "MultiframeWindowing.dcm": DicomHeaderError,
    # libjpeg-turbo tolerates the bad SOS Se=0 and decodes it (checked below against the fix).
    "RG2_JPLY.dcm": None,
    "SIEMENS_GBS_III-16-ACR_NEMA_1-ULis2Bytes.dcm": MissingFileMetaError,
    "genFile.dcm": PixelDataError,
    "panimg_xray_constant_pixels.dcm": None,  # valid file whose pixels are all 1
}


@needs_shared
@pytest.mark.parametrize("path", RADIOGRAPHS, ids=lambda p: p.name)
def test_every_radiograph_loads_and_renders(path: Path) -> None:
    film = read_film(path)
    assert film.pixels.shape == (film.rows, film.columns)
    assert film.pixel_range[0] <= film.pixel_range[1]
    assert len(film.pixel_sha256) == 64
    assert film.sop_instance_uid
    image = render_film(film, max_size=512)
    assert image.dtype == np.uint8 and max(image.shape) <= 512
    assert image.std() > 5, "a real radiograph must not render blank"
    if path.name in SPACING:
        spacing, source = SPACING[path.name]
        assert film.spacing_source is source
        assert film.spacing_mm == (pytest.approx(spacing) if spacing else None)


@needs_shared
def test_every_malformed_file_is_known() -> None:
    assert {p.name for p in MALFORMED} == set(MALFORMED_OUTCOME)


@needs_shared
@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
def test_malformed_files_give_a_specific_error(path: Path) -> None:
    expected = MALFORMED_OUTCOME[path.name]
    if expected is None:
        assert read_film(path).pixels.size > 0
        return
    with pytest.raises(expected) as info:
        read_film(path)
    message = str(info.value)
    assert message.startswith(path.name + ": ")
    assert len(message) > len(path.name) + 20
    assert "Traceback" not in message


@needs_shared
def test_four_rg3_codecs_decode_to_identical_pixels() -> None:
    names = ["RG3_UNC.dcm", "RG3_RLE.dcm", "RG3_JLSL.dcm", "RG3_J2KR.dcm"]
    films = [read_film(SHARED_DATA / "radiographs" / n) for n in names]
    for film in films[1:]:
        np.testing.assert_array_equal(film.pixels, films[0].pixels)
        assert film.pixel_sha256 == films[0].pixel_sha256
    assert len({f.transfer_syntax for f in films}) == 4


@needs_shared
def test_broken_jpeg_extended_decodes_like_its_fixed_copy() -> None:
    broken = read_film(SHARED_DATA / "malformed" / "RG2_JPLY.dcm")
    fixed = read_film(SHARED_DATA / "radiographs" / "RG2_JPLY_fixed.dcm")
    np.testing.assert_array_equal(broken.pixels, fixed.pixels)


@needs_shared
def test_lossy_jpeg_is_close_to_lossless_original() -> None:
    lossy = read_film(SHARED_DATA / "radiographs" / "RG2_JPLY_fixed.dcm").pixels.astype(int)
    lossless = read_film(SHARED_DATA / "radiographs" / "RG2_JLSL.dcm").pixels.astype(int)
    assert np.abs(lossy - lossless).mean() < 8


@needs_shared
def test_legacy_file_without_meta_opens_only_with_force() -> None:
    path = SHARED_DATA / "malformed" / "CR-MONO1-10-chest_no_meta.dcm"
    with pytest.raises(MissingFileMetaError, match="force"):
        read_film(path)
    film = read_film(path, force=True)
    assert film.shape == (440, 440)
    assert film.pixel_range == (0, 979)
    assert any("forced" in n for n in film.notices)


@needs_shared
def test_forced_acr_nema_without_photometric_still_errors_clearly() -> None:
    path = SHARED_DATA / "malformed" / "SIEMENS_GBS_III-16-ACR_NEMA_1-ULis2Bytes.dcm"
    with pytest.raises(DicomHeaderError, match=r"\(0028,"):
        read_film(path, force=True)


@needs_shared
def test_window_outside_data_falls_back_to_auto() -> None:
    film = read_film(SHARED_DATA / "radiographs" / "JPEG2KLossless_1s_1f_u_16_16.dcm")
    assert film.windows == [Window(2725, 5310)]
    voi = default_voi(film)
    assert isinstance(voi, Window) and voi.explanation == "auto"
    assert film.pixel_range[0] <= voi.center <= film.pixel_range[1]


@needs_shared
def test_sigmoid_windows_and_voi_luts_are_read() -> None:
    film = read_film(SHARED_DATA / "radiographs" / "GH133.dcm")
    assert film.voi_function is VoiFunction.SIGMOID
    assert len(film.windows) == 3 and len(film.voi_luts) == 3
    voi = default_voi(film)
    assert isinstance(voi, Window) and voi.function is VoiFunction.SIGMOID


@needs_shared
def test_modality_lut_sequence_is_applied() -> None:
    film = read_film(SHARED_DATA / "radiographs" / "CR-ModalitySequenceLUT.dcm")
    assert film.windows == []
    assert film.pixel_range[1] <= 1023


@needs_shared
def test_mono1_with_presentation_inverse_is_inverted_exactly_once() -> None:
    film = read_film(SHARED_DATA / "radiographs" / "966_fixed.dcm")
    assert film.photometric == "MONOCHROME1" and film.presentation_lut_shape == "INVERSE"
    assert film.inverted
    image = render_film(film, Window(2048, 4096))
    low = film.pixels < 500
    assert image[low].mean() > 200, "low stored values of a MONOCHROME1 film display bright"


@needs_shared
def test_constant_image_renders_without_dividing_by_zero() -> None:
    film = read_film(SHARED_DATA / "malformed" / "panimg_xray_constant_pixels.dcm")
    assert film.pixel_range == (1, 1)
    for voi in (None, Window(1, 1)):
        image = render_film(film, voi)
        assert image.dtype == np.uint8 and len(np.unique(image)) == 1
