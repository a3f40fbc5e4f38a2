"""SR import holds a CobbDesk SR's geometry against the film's file with relink's one rule
(:func:`cobbdesk.core.importing.relink.geometry_mismatch`), as a measurement saved on the film:
a measurement in pixels fits any file of the same pixel shape, a user calibration counts by its
shape, and a study calibration in force does not hide the file's own spacing.

Angles by hand (points upper (100, 100)→(160, 110), lower (100, 200)→(160, 180)):
square pixels atan(10/60) + atan(20/60) = 27.8973°; 2:1 pixels atan(20/60) + atan(40/60) =
52.1251° (tests/cli/test_cli_sr_film_geometry.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.store import Study
from tests.cli.test_cli_sr_film_geometry import (
    ASPECT_DEG,
    SQUARE_DEG,
    _angles,
    _film,
    _points,
    _sr,
    _study,
)


def _calibrated(study: Path, mm_per_px: float) -> None:
    with Study.open(study, actor="ann") as opened:  # a 200 px vertical ruler
        assert opened.calibrate_film(1, (10, 10), (10, 210), 200 * mm_per_px) == pytest.approx(
            (mm_per_px, mm_per_px)
        )


def _sr_of(folder: Path, *, spacing: str | None, aspect: str | None, user: float = 0) -> Path:
    """The SR of the points measured on a film with ``spacing``/``aspect`` (after a user
    calibration of ``user`` mm per pixel when given)."""
    study = _study(folder, _film(folder / "films" / "f.dcm", spacing=spacing, aspect=aspect),
                   measured=False)  # fmt: skip
    if user:
        _calibrated(study, user)
    assert main(["measure", str(study), str(_points(folder))]) == 0
    return _sr(folder, study)


def _imported_into(
    tmp_path: Path, sr: Path, *, spacing: str | None, aspect: str | None, user: float = 0
) -> tuple[int, list[tuple[float, object, str]]]:
    folder = tmp_path / "into"
    study = _study(folder, _film(folder / "films" / "f.dcm", spacing=spacing, aspect=aspect),
                   measured=False)  # fmt: skip
    if user:
        _calibrated(study, user)
    return main(["import", str(study), str(sr)]), _angles(study)


def test_an_sr_in_pixels_fits_a_square_film_whose_file_has_a_square_spacing(
    tmp_path: Path,
) -> None:
    sr = _sr_of(tmp_path / "b", spacing=None, aspect=None)
    status, angles = _imported_into(tmp_path, sr, spacing="0.2\\0.2", aspect=None)
    assert status == 0  # the same pixel shape: the same degrees; stored with the film's spacing
    assert angles == [(pytest.approx(SQUARE_DEG, abs=1e-9), (0.2, 0.2), "PixelSpacing")]


def test_an_sr_in_pixels_of_a_2_to_1_film_is_refused_on_a_square_spacing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = _sr_of(tmp_path / "b", spacing=None, aspect="2\\1")
    status, angles = _imported_into(tmp_path, sr, spacing="0.2\\0.2", aspect=None)
    assert (status, angles) == (1, [])
    assert "Pixel Aspect Ratio 2:1" in capsys.readouterr().err


def test_an_sr_on_a_user_calibration_counts_by_its_pixel_shape(tmp_path: Path) -> None:
    sr = _sr_of(tmp_path / "b", spacing=None, aspect=None, user=0.25)
    status, angles = _imported_into(tmp_path, sr, spacing=None, aspect=None)
    assert status == 0  # square calibration on a square film: the same degrees, in pixels here
    assert angles == [(pytest.approx(SQUARE_DEG, abs=1e-9), None, "none")]
    status, angles = _imported_into(tmp_path / "2", sr, spacing=None, aspect="2\\1")
    assert (status, angles) == (1, [])  # a square calibration is no 2:1 film's


def test_a_calibration_in_force_does_not_hide_the_files_spacing(tmp_path: Path) -> None:
    sr = _sr_of(tmp_path / "b", spacing="0.2\\0.2", aspect=None)
    status, angles = _imported_into(tmp_path, sr, spacing="0.2\\0.2", aspect=None, user=0.3)
    assert status == 0  # the file's 0.2 mm is the SR's; the study's calibration is stored
    assert angles == [(pytest.approx(SQUARE_DEG, abs=1e-9), (0.3, 0.3), "user calibration")]
    sr = _sr_of(tmp_path / "c", spacing="0.1\\0.2", aspect=None)
    status, angles = _imported_into(tmp_path / "2", sr, spacing="0.2\\0.2", aspect=None,
                                    user=0.3)  # fmt: skip
    assert (status, angles) == (1, [])  # another file: its 1:2 spacing is not the film's


def test_the_2_to_1_round_trip_still_imports(tmp_path: Path) -> None:
    sr = _sr_of(tmp_path / "b", spacing=None, aspect="2\\1")
    status, angles = _imported_into(tmp_path, sr, spacing=None, aspect="2\\1")
    assert status == 0
    assert angles == [(pytest.approx(ASPECT_DEG, abs=1e-9), None, "none")]


def test_two_square_spacings_of_different_size_are_another_calibration_not_other_degrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = _sr_of(tmp_path / "b", spacing="0.3\\0.3", aspect=None)
    capsys.readouterr()
    status, angles = _imported_into(tmp_path, sr, spacing="0.15\\0.15", aspect=None)
    assert (status, angles) == (1, [])
    err = capsys.readouterr().err
    assert ("the SR used pixel spacing 0.3 × 0.3 mm (row × column) (PixelSpacing); the film has "
            "pixel spacing 0.15 × 0.15 mm (row × column) (PixelSpacing): the same pixel shape (so "
            "the same degrees) but another calibration: the SR was computed on another file than "
            "the study's film; the Cobb angle was refused") in err  # fmt: skip
    assert "other degrees" not in err


def test_another_pixel_shape_is_worded_as_other_degrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sr = _sr_of(tmp_path / "b", spacing="0.2\\0.2", aspect=None)
    capsys.readouterr()
    status, _ = _imported_into(tmp_path, sr, spacing=None, aspect="2\\1")
    err = capsys.readouterr().err
    assert status == 1
    assert ("the film has no pixel spacing (Pixel Aspect Ratio 2:1): another pixel shape (1:1 "
            "against 2:1, vertical:horizontal), so the same points would give other degrees; "
            "the Cobb angle was refused") in err  # fmt: skip
    assert "same degrees" not in err
