"""SR points outside the film's image are refused, by the one bounds rule ``measure`` uses
(:func:`cobbdesk.core.importing.point_checks.outside_image`): an OHIF SR drawn on another,
larger image with the film's SOP Instance UID stored 86.82°, -11.31°, 12.35° (breaker 7).

Film: 400 rows × 300 columns, facing left (Patient Orientation P\\F).  SCOORD = CobbDesk
pixel-centre coordinates + 0.5 (PS3.3 C.18.6.1.1), so the image spans SCOORD 0..300 (x) and
0..400 (y).  By hand: upper line (100, 100)→(140, 110), lower (100, 399.5)→(140, 389.5): each
tilts atan(10/40), converging posteriorly: lordosis 2·atan(1/4) = 28.0724869°."""

from __future__ import annotations

import math
from pathlib import Path

import pydicom
import pytest

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.importing.point_checks import outside_image
from cobbdesk.core.sr.reader import import_report
from cobbdesk.core.store import Study
from tests.core.sr.ohif import ohif_cobb_sr
from tests.core.sr.test_sr import _film

EDGE_DEG = math.degrees(2 * math.atan2(10, 40))  # 28.0724869°
UPPER = [(100.5, 100.5), (140.5, 110.5)]  # SCOORD


def _imported(tmp_path: Path, lower: list[tuple[float, float]]) -> tuple[list[float], list[str]]:
    film = _film(tmp_path)
    sr = tmp_path / "o.sr.dcm"
    ohif_cobb_sr(pydicom.dcmread(film), UPPER + lower, 0.0).save_as(sr, enforce_file_format=True)
    with Study.create(tmp_path / "s.cobbdesk", actor="ann") as study:
        import_paths(study, [film])
        report = import_report(study, sr, template="C2-C7")
        angles = [m.angle for m in study.measurements()]
    return angles, report.errors


def test_points_on_the_images_edge_are_imported(tmp_path: Path) -> None:
    angles, errors = _imported(tmp_path, [(100.5, 400.0), (140.5, 390.0)])
    assert errors == []
    assert angles == [pytest.approx(EDGE_DEG, abs=1e-9)]


@pytest.mark.parametrize(
    ("lower", "problem"),
    [
        ([(100.5, 420.0), (140.5, 410.0)], "point 3 y = 419.5 is outside the image (400 rows)"),
        ([(-50.0, 300.5), (140.5, 290.5)], "point 3 x = -50.5 is outside the image (300 columns)"),
        ([(100.5, 300.5), (1e30, 290.5)], "point 4 x = 1e+30 is outside the image (300 columns)"),
    ],
)
def test_points_outside_the_image_are_refused_and_nothing_stored(
    tmp_path: Path, lower: list[tuple[float, float]], problem: str
) -> None:
    angles, errors = _imported(tmp_path, lower)
    assert angles == []
    (error,) = errors
    assert error.startswith("group 1: film #1: ") and problem in error


def test_the_one_rule_measure_uses_names_each_coordinate() -> None:
    assert outside_image(300, 400, [("lower_anterior_y", 400.0), ("a_x", 299.5)]) == [
        "lower_anterior_y = 400 is outside the image (400 rows)"
    ]
    assert outside_image(300, 400, [("a_x", -0.5), ("a_y", 399.5), ("b_x", math.nan)]) == []
