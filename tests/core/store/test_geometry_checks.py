"""``verify`` finds films whose measurements were computed with different pixel shapes (an SR
computed on another file with the same SOP Instance UID, imported before SR import checked
the film's geometry, left +27.90° beside +52.13° for the same points and verify said ok).

Hand-computed references (atan2 in degrees): upper line (100,100)→(160,110), lower line
(100,200)→(160,180) give 9.46° + 18.43° = 27.90° on square pixels; pixels twice as high as
wide (2:1) double every vertical step: atan(20/60) + atan(40/60) = 18.43° + 33.69° = 52.13°."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.geometry_checks import geometry_disagreements

UID = "1.2.826.0.1.3680043.10.543.21"


def _measurement(rater: str, spacing: tuple[float, float] | None, source: SpacingSource,
                 aspect: tuple[float, float] | None = None) -> CobbMeasurement:  # fmt: skip
    return CobbMeasurement(
        sop_instance_uid=UID, pixel_sha256="", template=Template.C2_C7,
        upper=EndplateLine((100.0, 100.0), (160.0, 110.0)),
        lower=EndplateLine((100.0, 200.0), (160.0, 180.0)),
        spacing=spacing, spacing_source=source, pixel_aspect=aspect, rater=rater,
    )  # fmt: skip


def _study(tmp_path: Path, aspect: tuple[float, float] | None) -> tuple[Study, int]:
    study = Study.create(tmp_path / "s.cobbdesk", actor="t")
    visit = study.add_visit(study.add_patient("P0002"), "admission")
    extra = {} if aspect is None else {"pixel_aspect_row": aspect[0], "pixel_aspect_col": aspect[1]}
    film = study.add_film(visit, sop_instance_uid=UID, path=tmp_path / "f.dcm",
                          region="cervical", **extra)  # fmt: skip
    return study, film


def test_the_hand_computed_references() -> None:
    square = _measurement("a", None, SpacingSource.NONE)
    tall = _measurement("a", None, SpacingSource.NONE, (2.0, 1.0))
    expected = math.degrees(math.atan(10 / 60) + math.atan(20 / 60))
    assert square.angle == pytest.approx(expected, abs=1e-9) and round(expected, 2) == 27.90
    expected = math.degrees(math.atan(20 / 60) + math.atan(40 / 60))
    assert tall.angle == pytest.approx(expected, abs=1e-9) and round(expected, 2) == 52.13


def test_two_shapes_on_one_film_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study, film = _study(tmp_path, (2.0, 1.0))
    with study:
        study.save_measurement(film, _measurement("dr_a", None, SpacingSource.NONE, (2.0, 1.0)))
        study.save_measurement(film, _measurement("dr_z", (0.2, 0.2), SpacingSource.PIXEL_SPACING))
        (found,) = geometry_disagreements(study)
    assert found.film_id == film and found.study_id == "P0002"
    assert [(round(s, 6), raters) for s, _how, raters in found.shapes] == [
        (2.0, ("dr_a",)), (1.0, ("dr_z",))]  # fmt: skip
    assert "PixelSpacing 0.2 × 0.2 mm" in found.describe()
    assert main(["verify", str(tmp_path / "s.cobbdesk")]) == 1
    captured = capsys.readouterr()
    assert "pixel shapes differ: P0002 film #1" in captured.err
    assert "1 film(s) measured with different pixel shapes" in captured.out


def test_a_measurement_in_pixels_must_have_the_recorded_shape(tmp_path: Path) -> None:
    study, film = _study(tmp_path, (2.0, 1.0))
    with study:
        study.save_measurement(film, _measurement("dr_z", None, SpacingSource.NONE))  # square
        (found,) = geometry_disagreements(study)
    assert {how for _s, how, _r in found.shapes} == {
        "the film as recorded at import", "square pixels, no spacing"}  # fmt: skip


def test_same_shape_different_size_and_user_calibrations_agree(tmp_path: Path) -> None:
    """Isotropic 0.2 and 0.15 mm give the same degrees; a user calibration is the user's."""
    study, film = _study(tmp_path, None)
    with study:
        study.save_measurement(film, _measurement("a", (0.2, 0.2), SpacingSource.PIXEL_SPACING))
        study.save_measurement(film, _measurement("b", (0.15, 0.15), SpacingSource.IMAGER))
        study.save_measurement(film, _measurement("c", (0.1, 0.3), SpacingSource.USER))
        study.save_measurement(film, _measurement("d", None, SpacingSource.NONE))
        assert geometry_disagreements(study) == []
