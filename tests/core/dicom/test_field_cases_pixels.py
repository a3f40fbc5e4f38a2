"""Field cases of issue #11 (pixels, loader failures), read in place from ../shared/data.

Correct values from ``field-cases/README.md``; each is checked against an independent
expectation (the DICOM formula or the file's own construction), not against today's output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.core.dicom.display import default_voi, render_film
from cobbdesk.core.dicom.film import Window
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import CobbdeskError, FilmError
from tests.conftest import SHARED_DATA

FIELD = SHARED_DATA / "field-cases"
needs_field = pytest.mark.skipif(not FIELD.is_dir(), reason=f"field cases not found at {FIELD}")

FUZZ_ERRORS = {
    "fuzz_unknown_vr_in_pixel_data.dcm": "(7FE0,0010)",
    "fuzz_odd_byte_count_value.dcm": "(0002,0000)",
    "fuzz_deflate_corrupt_stream.dcm": "zlib",
    "fuzz_int_overflow_j2k.dcm": "(0028,1052)",
    "fuzz_jpeg_sof_bomb_2kb.dcm": "40000 × 40000",
    "fuzz_rle_multiframe_size_mismatch.dcm": "(7FE0,0010)",
}


@needs_field
def test_voi_lut_first_mapped_32768_unsigned_renders_a_grey_ramp() -> None:
    film = read_film(FIELD / "voilut_first_mapped_32768_unsigned.dcm")
    lut = film.voi_luts[0]
    assert lut.first_mapped == 32768  # US, not -32768 (PS3.3 C.11.2.1.1)
    assert default_voi(film) is lut
    image = render_film(film)
    # Stored 32768 + 16 k maps to entry k = 16 k / 16 (LUT Data 0, 16, 32 …): output
    # 255 · 16 k / 65535 — 0 at the left edge, 255 · 65520 / 65535 ≈ 254.9 → 254/255 right.
    assert image[:, 0].max() <= 1
    assert 253 <= image[:, -1].min() <= 255
    assert np.all(np.diff(image[0].astype(int)) >= 0), "a ramp, left to right"


@needs_field
def test_overlay_in_bit15_is_ignored_in_every_transfer_syntax() -> None:
    native = read_film(FIELD / "native_12bit_overlay_in_bit15.dcm")
    jpegls = read_film(FIELD / "jpegls_12bit_overlay_in_bit15.dcm")
    for film in (native, jpegls):
        assert film.pixel_range[1] == 4064
        assert int(film.pixels.max()) < 4096
    np.testing.assert_array_equal(native.pixels, jpegls.pixels)
    assert native.pixel_sha256 == jpegls.pixel_sha256


@needs_field
def test_nan_rescale_is_skipped_with_a_notice_and_the_film_renders() -> None:
    film = read_film(FIELD / "fuzz_nan_window.dcm")
    assert any("(0028,1053" in n for n in film.notices)
    assert np.isfinite(film.pixels.astype(float)).all()
    image = render_film(film)
    assert image.std() > 5


@needs_field
@pytest.mark.parametrize("name", sorted(FUZZ_ERRORS))
def test_fuzz_field_cases_fail_in_words(name: str) -> None:
    with pytest.raises(FilmError) as info:
        read_film(FIELD / name)
    message = str(info.value)
    assert message.startswith(name + ": ")
    assert FUZZ_ERRORS[name] in message
    assert "\n" not in message and "broadcast" not in message
    assert "Fuzz" not in message and "FZ0001" not in message  # no patient identifiers


@needs_field
def test_sof_bomb_is_refused_before_decoding_with_flat_memory() -> None:
    """In a 512 MiB address space the 2 KB bomb is refused (a decode would need 1.6 GB)."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))\n"
        "from cobbdesk.core.dicom.reader import read_film\n"
        "from cobbdesk.core.errors import PixelDataError\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        f"    read_film({str(FIELD / 'fuzz_jpeg_sof_bomb_2kb.dcm')!r})\n"
        "except PixelDataError as exc:\n"
        "    assert 'SOF0' in str(exc), exc\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print((after - before) // 1024)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert int(result.stdout.split()[-1]) < 64, "MiB of growth while refusing the bomb"


@needs_field
def test_inspect_reports_every_file_despite_bad_ones() -> None:
    from cobbdesk.cli.main import _record

    records = [_record(p, False) for p in sorted(FIELD.glob("*.dcm"))]
    assert len(records) == len(list(FIELD.glob("*.dcm")))
    bad = {Path(r["file"]).name for r in records if not r["ok"]}
    assert bad == set(FUZZ_ERRORS)


@needs_field
def test_every_field_case_opens_or_fails_with_a_cobbdesk_error() -> None:
    for path in sorted(FIELD.glob("*.dcm")):
        try:
            film = read_film(path)
        except CobbdeskError:
            continue
        for voi in (None, Window(0.5, 0.25), Window(1e6, 1e-3)):
            assert render_film(film, voi).dtype == np.uint8


def test_render_error_is_a_film_error(tmp_path: Path) -> None:
    """A film whose pixels do not match its size fails to render in words, not with cv2.error."""
    from cobbdesk.core.dicom.film import Film, SpacingSource, VoiFunction

    film = Film(
        path=tmp_path / "odd.dcm",
        pixels=np.zeros((4, 4), np.uint16),
        rows=4,
        columns=4,
        bits_stored=12,
        bits_allocated=16,
        pixel_representation=0,
        photometric="MONOCHROME2",
        transfer_syntax="1.2.840.10008.1.2.1",
        transfer_syntax_name="Explicit VR Little Endian",
        windows=[],
        voi_luts=[],
        voi_function=VoiFunction.LINEAR,
        presentation_lut_shape="",
        spacing_mm=None,
        spacing_source=SpacingSource.NONE,
        digest="0" * 64,
        pixel_range=(0.0, 0.0),
        padding=np.zeros((3, 3), bool),
    )
    film.pixels = np.zeros((4, 4, 2, 2), np.float64)  # damaged beyond any codec's output
    with pytest.raises(FilmError) as info:
        render_film(film)
    assert str(info.value).startswith("odd.dcm: ") and "\n" not in str(info.value)
