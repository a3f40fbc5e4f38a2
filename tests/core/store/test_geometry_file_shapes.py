"""``verify`` checks every saved measurement against its film FILE's pixel shape: a film whose
file has no spacing and Pixel Aspect Ratio 2:1 holding one measurement computed at 0.3 × 0.3 mm
(an SR imported by older code) agrees with itself, yet its +27.90° is +52.13° on the real
pixels.

Hand-computed references (atan in degrees, as in test_geometry_checks): upper line
(100,100)→(160,110), lower (100,200)→(160,180): atan(10/60) + atan(20/60) = 27.90° on square
pixels; on 2:1 pixels every vertical step doubles: atan(20/60) + atan(40/60) = 52.13°."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.importing.film_shapes import file_shape_disagreements
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.geometry_checks import GeometryDisagreement
from tests.conftest import make_dataset

UID = "1.2.826.0.1.3680043.10.543.22"


def _measurement(rater: str, spacing: tuple[float, float] | None, source: SpacingSource,
                 aspect: tuple[float, float] | None = None) -> CobbMeasurement:  # fmt: skip
    return CobbMeasurement(
        sop_instance_uid=UID, pixel_sha256="", template=Template.C2_C7,
        upper=EndplateLine((100.0, 100.0), (160.0, 110.0)),
        lower=EndplateLine((100.0, 200.0), (160.0, 180.0)),
        spacing=spacing, spacing_source=source, pixel_aspect=aspect, rater=rater,
    )  # fmt: skip


def _write(path: Path, spacing: tuple[float, float] | None, **attrs: Any) -> None:
    ds = make_dataset(np.zeros((300, 200), np.uint16), pixel_spacing=spacing, **attrs)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = UID
    ds.save_as(path, enforce_file_format=True)


def _study(tmp_path: Path, aspect: tuple[float, float] | None = None) -> tuple[Study, int]:
    study = Study.create(tmp_path / "s.cobbdesk", actor="t")
    visit = study.add_visit(study.add_patient("P0003"), "admission")
    extra = {} if aspect is None else {"pixel_aspect_row": aspect[0], "pixel_aspect_col": aspect[1]}
    film = study.add_film(visit, sop_instance_uid=UID, path=tmp_path / "f.dcm",
                          region="cervical", **extra)  # fmt: skip
    return study, film


def test_the_references() -> None:
    wrong = _measurement("sr", (0.3, 0.3), SpacingSource.PIXEL_SPACING)
    true = _measurement("a", None, SpacingSource.NONE, (2.0, 1.0))
    assert round(wrong.angle, 2) == round(math.degrees(math.atan(1 / 6) + math.atan(1 / 3)), 2)
    assert round(wrong.angle, 2) == 27.90 and round(true.angle, 2) == 52.13


def test_one_wrong_mm_measurement_on_a_2_to_1_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "f.dcm", None, PixelAspectRatio=[2, 1])
    study, film = _study(tmp_path, (2.0, 1.0))
    with study:
        study.save_measurement(film, _measurement("sr", (0.3, 0.3), SpacingSource.PIXEL_SPACING))
        found = file_shape_disagreements(study)
    assert found.not_checked == ()
    (d,) = found.disagreements
    assert (d.study_id, d.film_id, d.rater, d.sop_instance_uid) == ("P0003", film, "sr", UID)
    assert d.shape == pytest.approx(1.0) and d.file_shape == pytest.approx(2.0)
    assert "Pixel Aspect Ratio (0028,0034) 2:1" in d.file_how and "0.3 × 0.3 mm" in d.how
    assert main(["verify", str(tmp_path / "s.cobbdesk")]) == 1
    captured = capsys.readouterr()
    assert "pixel shape differs from the film file: P0003 film #1" in captured.err
    assert "1 measurement(s) with another pixel shape than the film file" in captured.out


def test_a_square_measurement_on_a_point1_by_point2_file_is_reported(tmp_path: Path) -> None:
    _write(tmp_path / "f.dcm", (0.1, 0.2))
    study, film = _study(tmp_path)
    with study:
        study.save_measurement(film, _measurement("a", (0.2, 0.2), SpacingSource.PIXEL_SPACING))
        (d,) = file_shape_disagreements(study).disagreements
    assert d.file_shape == pytest.approx(0.5) and "Pixel Spacing (0028,0030)" in d.file_how


def test_correct_measurements_give_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    square, tall = tmp_path / "square", tmp_path / "tall"
    square.mkdir(), tall.mkdir()
    _write(square / "f.dcm", (0.2, 0.2))
    study, film = _study(square)
    with study:  # same shape, another size (a different calibration is not this check's)
        study.save_measurement(film, _measurement("a", (0.2, 0.2), SpacingSource.PIXEL_SPACING))
        study.save_measurement(film, _measurement("b", (0.15, 0.15), SpacingSource.IMAGER))
        assert file_shape_disagreements(study).disagreements == ()
    assert main(["verify", str(square / "s.cobbdesk")]) == 0
    _write(tall / "f.dcm", None, PixelAspectRatio=[2, 1])
    study, film = _study(tall, (2.0, 1.0))
    with study:
        study.save_measurement(film, _measurement("a", None, SpacingSource.NONE, (2.0, 1.0)))
        assert file_shape_disagreements(study).disagreements == ()
    assert main(["verify", str(tall / "s.cobbdesk")]) == 0
    assert "error" not in capsys.readouterr().err


def test_a_missing_file_is_a_warning_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study, film = _study(tmp_path)
    with study:
        study.save_measurement(film, _measurement("a", (0.3, 0.3), SpacingSource.PIXEL_SPACING))
        found = file_shape_disagreements(study)
    assert found.disagreements == () and found.not_checked == (film,)
    assert main(["verify", str(tmp_path / "s.cobbdesk")]) == 0
    assert f"film #{film}: file not found, its pixel shape not checked" in capsys.readouterr().err


def test_describe_shows_no_parentheses_without_raters() -> None:
    d = GeometryDisagreement("P1", 1, UID, ((2.0, "the film as recorded at import", ()),
                                           (1.0, "square pixels, no spacing", ("a",))))  # fmt: skip
    assert "2:1 from the film as recorded at import;" in d.describe()
    assert "()" not in d.describe() and "square pixels, no spacing (a)" in d.describe()
