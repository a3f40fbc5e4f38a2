"""Pixel shape, physical plausibility, scanned-film spacing and calibration notes (issue #11)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.dicom.spacing import spacing_of
from cobbdesk.core.measure.interaction import FilmContext, place_measurement

FIELD_CASE = "field-cases/pixel_aspect_2to1_no_spacing.dcm"
UPPER = ((100.0, 100.0), (160.0, 110.0))
LOWER = ((100.0, 200.0), (160.0, 180.0))


def reference_angle(aspect: tuple[float, float]) -> float:
    """Hand construction: scale y by vertical/horizontal, then the angle between the lines."""
    v, h = aspect

    def slope(line: tuple[tuple[float, float], tuple[float, float]]) -> float:
        (x1, y1), (x2, y2) = line
        return math.degrees(math.atan2((y2 - y1) * v, (x2 - x1) * h))

    return slope(UPPER) - slope(LOWER)


def test_reference_is_the_issue_value() -> None:
    # atan(20/60) + atan(40/60) = 18.435° + 33.690°; square pixels give 9.462 + 18.435
    assert reference_angle((2, 1)) == pytest.approx(52.125, abs=1e-3)
    assert reference_angle((1, 1)) == pytest.approx(27.897, abs=1e-3)


def _place(film_context: FilmContext) -> float:
    placing = place_measurement("FREE", film_context)
    next(placing)
    step = None
    for point in (*UPPER, *LOWER):
        step = placing.send(point)
    assert step is not None and step.command is not None
    return step.command.measurement.angle


@pytest.mark.shared
def test_field_case_pixel_aspect_end_to_end(shared_data: Path) -> None:
    film = read_film(shared_data / FIELD_CASE)
    assert film.spacing_mm is None and film.spacing_source is SpacingSource.NONE
    assert film.pixel_aspect == (2.0, 1.0)
    assert any("not square" in n for n in film.notices)
    angle = _place(FilmContext.from_film(film))
    assert round(angle, 2) == 52.13
    assert angle == pytest.approx(reference_angle((2, 1)), abs=1e-9)


def test_synthetic_aspect_ratio_film(dicom_factory: Callable[..., Path]) -> None:
    path = dicom_factory(
        np.zeros((300, 250), np.uint16), pixel_spacing=None, PixelAspectRatio=[3, 2]
    )
    film = read_film(path)
    assert film.pixel_aspect == (3.0, 2.0)
    assert _place(FilmContext.from_film(film)) == pytest.approx(reference_angle((3, 2)))


def test_square_or_bad_aspect_is_none() -> None:
    ds = Dataset()
    ds.PixelAspectRatio = [1, 1]
    assert spacing_of(ds).pixel_aspect is None
    ds.PixelAspectRatio = [0, 1]
    result = spacing_of(ds)
    assert result.pixel_aspect is None and "Pixel Aspect Ratio (0028,0034)" in result.notices[0]


def test_aspect_ignored_when_spacing_exists() -> None:
    ds = Dataset()
    ds.PixelSpacing = ["0.2", "0.1"]
    ds.PixelAspectRatio = [2, 1]
    result = spacing_of(ds)
    assert result.spacing_mm == (0.2, 0.1) and result.pixel_aspect is None


@pytest.mark.parametrize(
    "value",
    [["0.001", "0.001"], ["7", "7"], ["1e-310", "1e-310"], ["0.1", "50"]],
)
def test_implausible_pixel_spacing_is_absent_with_a_notice(value: list[str]) -> None:
    ds = Dataset()
    ds.PixelSpacing = value
    result = spacing_of(ds)
    assert result.spacing_mm is None and result.source is SpacingSource.NONE
    assert "which no radiograph can have" in result.notices[0]
    assert "(0028,0030)" in result.notices[0]


def test_implausible_pixel_spacing_falls_back_to_imager() -> None:
    ds = Dataset()
    ds.PixelSpacing = ["0.00001", "0.00001"]
    ds.ImagerPixelSpacing = ["0.2", "0.2"]
    result = spacing_of(ds)
    assert result.spacing_mm == (0.2, 0.2) and result.source is SpacingSource.IMAGER


def test_magnification_that_divides_to_nothing_is_not_used() -> None:
    ds = Dataset()
    ds.ImagerPixelSpacing = ["0.011", "0.011"]
    ds.EstimatedRadiographicMagnificationFactor = "2.5"  # 0.0044 mm: not physical
    result = spacing_of(ds)
    assert result.source is SpacingSource.IMAGER and result.spacing_mm == (0.011, 0.011)
    assert any("magnification factor" in n for n in result.notices)


def test_nominal_scanned_pixel_spacing(dicom_factory: Callable[..., Path]) -> None:
    path = dicom_factory(
        np.zeros((64, 64), np.uint8),
        pixel_spacing=None,
        NominalScannedPixelSpacing=["0.0847", "0.0847"],  # 300 dpi: 25.4 / 300
        Modality="OT",
    )
    film = read_film(path)
    assert film.spacing_mm == (0.0847, 0.0847)
    assert film.spacing_source is SpacingSource.NOMINAL_SCANNED
    assert any("Nominal Scanned Pixel Spacing (0018,2010)" in n for n in film.notices)


def test_pixel_spacing_wins_over_nominal_scanned() -> None:
    ds = Dataset()
    ds.PixelSpacing = ["0.1", "0.1"]
    ds.NominalScannedPixelSpacing = ["0.0847", "0.0847"]
    assert spacing_of(ds).source is SpacingSource.PIXEL_SPACING


def test_calibration_type_and_description_shown(dicom_factory: Callable[..., Path]) -> None:
    path = dicom_factory(
        np.zeros((32, 32), np.uint16),
        PixelSpacingCalibrationType="FIDUCIAL",
        PixelSpacingCalibrationDescription="25 mm ball",
    )
    film = read_film(path)
    assert film.spacing_calibration == "FIDUCIAL: 25 mm ball"
    assert "Pixel Spacing Calibration (0028,0A02/0A04): FIDUCIAL: 25 mm ball" in film.notices
