"""User calibration: spacing from a line of known length, stored, audited, applied (issue #11)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study
from cobbdesk.core.store.calibration import (
    apply_calibration,
    calibration_spacing,
    film_shape,
)
from cobbdesk.core.store.schema import audit


@pytest.fixture
def study(study_location: Callable[[str], object]) -> Iterator[Study]:
    s = Study.create(study_location("cal.cobbdesk"), actor="dr_a")
    s.set_rater("dr_a")
    yield s
    s.close()


@pytest.fixture
def film_id(study: Study) -> int:
    pid = study.add_patient("P0001")
    vid = study.add_visit(pid, "admission")
    return study.add_film(
        vid, sop_instance_uid="2.25.1", path="/x/photo.jpg", region="cervical",
        pixel_rows=1000, pixel_columns=800,
    )  # fmt: skip


def uncalibrated(rater: str = "dr_a") -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="2.25.1", pixel_sha256="", template="C2-C7",
        upper=EndplateLine((100, 100), (160, 110)), lower=EndplateLine((100, 300), (160, 280)),
        rater=rater,
    )  # fmt: skip


def audit_rows(study: Study, entity: str) -> list[dict[str, object]]:
    with study.engine.connect() as conn:
        query = select(audit).where(audit.c.entity == entity).order_by(audit.c.seq)
        return [dict(r) for r in conn.execute(query).mappings()]


def test_spacing_is_length_over_pixels() -> None:
    # a 3-4-5 triangle: 500 px for 50 mm → 0.1 mm per pixel
    assert calibration_spacing((10, 20), (310, 420), 50) == pytest.approx((0.1, 0.1))


def test_spacing_honours_pixel_shape() -> None:
    # pixels twice as tall as wide; a 100 px diagonal step (60 across, 80 down) in shape units
    # is hypot(60·0.5, 80·1) = 85.44 "tall-pixel" units of k mm: vertical k, horizontal k/2
    row, col = calibration_spacing((0, 0), (60, 80), 85.44003745317531, pixel_shape=(2, 1))
    assert row == pytest.approx(1.0) and col == pytest.approx(0.5)
    assert math.hypot(60 * col, 80 * row) == pytest.approx(85.44003745317531)


@pytest.mark.parametrize(
    ("p2", "length", "problem"),
    [
        ((100, 0), 0.0, "positive number"),
        ((100, 0), float("nan"), "positive number"),
        ((5, 0), 10.0, "at least 20 px"),
        ((100, 0), 0.5, "outside the physical range"),
        ((100, 0), 1000.0, "outside the physical range"),
    ],
)
def test_impossible_calibrations_are_refused(
    p2: tuple[float, float], length: float, problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        calibration_spacing((0, 0), p2, length)


def test_calibrate_stores_provenance_and_audits(study: Study, film_id: int) -> None:
    assert study.film_calibration(film_id) is None
    spacing = study.calibrate_film(film_id, (100, 500), (100, 900), 50.0, kind="ruler")
    assert spacing == pytest.approx((0.125, 0.125))
    cal = study.film_calibration(film_id)
    assert cal is not None and cal.source is SpacingSource.USER
    assert (cal.kind, cal.p1, cal.p2, cal.length_mm) == ("ruler", (100, 500), (100, 900), 50.0)
    assert cal.rater == "dr_a" and cal.created_utc
    assert study.calibrations() == {film_id: cal}
    fields = {r["field"]: r["new_value"] for r in audit_rows(study, "calibration")}
    assert fields["length_mm"] == "50.0" and fields["spacing_row_mm"] == "0.125"
    assert study.verify_audit().ok


def test_calibration_updates_saved_measurements(study: Study, film_id: int) -> None:
    m = uncalibrated()
    study.save_measurement(film_id, m)
    inserted = len(audit_rows(study, "measurement"))  # the insertion: one row per field
    study.calibrate_film(film_id, (0, 0), (0, 400), 40.0)  # 0.1 mm/px
    (saved,) = study.measurements(film_id)
    assert saved.id == m.id and saved.spacing == (0.1, 0.1)
    assert saved.spacing_source is SpacingSource.USER
    assert saved.angle == pytest.approx(m.angle)  # isotropic: the angle is unchanged
    rows = [r for r in audit_rows(study, "measurement")[inserted:] if r["entity_id"] == m.id]
    changed = {r["field"] for r in rows}
    assert {"spacing_row_mm", "spacing_col_mm", "spacing_source"} <= changed
    assert all(r["reason"] == "film calibrated" for r in rows)


def test_recalibration_needs_a_reason_and_replaces(study: Study, film_id: int) -> None:
    study.save_measurement(film_id, uncalibrated())
    study.calibrate_film(film_id, (0, 0), (0, 400), 40.0)
    with pytest.raises(ValidationError, match="needs a reason"):
        study.calibrate_film(film_id, (0, 0), (0, 500), 40.0)
    study.calibrate_film(film_id, (0, 0), (0, 500), 40.0, kind="ball", reason="ball is better")
    cal = study.film_calibration(film_id)
    assert cal is not None and cal.kind == "ball" and cal.spacing_mm == pytest.approx((0.08, 0.08))
    (saved,) = study.measurements(film_id)
    assert saved.spacing == pytest.approx((0.08, 0.08))
    reasons = {r["reason"] for r in audit_rows(study, "measurement")[1:]}
    assert "ball is better" in reasons
    deleted = [r for r in audit_rows(study, "calibration") if r["field"] == "deleted_utc"]
    assert len(deleted) == 1 and deleted[0]["reason"] == "ball is better"


def test_points_outside_the_film_are_refused(study: Study, film_id: int) -> None:
    with pytest.raises(ValidationError, match="outside the film"):
        study.calibrate_film(film_id, (0, 0), (900, 0), 90.0)
    assert study.film_calibration(film_id) is None


def test_stored_pixel_aspect_is_honoured(study: Study, film_id: int) -> None:
    study.update_film(film_id, pixel_aspect_row=2.0, pixel_aspect_col=1.0)
    row, col = study.calibrate_film(film_id, (0, 0), (0, 100), 20.0)
    assert (row, col) == pytest.approx((0.2, 0.1))


def test_apply_calibration_to_a_film(tmp_path: Path, study: Study, film_id: int) -> None:
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((40, 30), np.uint8)).save(path)
    film = read_film(path)
    assert film_shape(film) is None
    study.update_film(film_id, pixel_rows=40, pixel_columns=30)
    study.calibrate_film(film_id, (0, 0), (0, 39), 3.9)
    cal = study.film_calibration(film_id)
    assert cal is not None
    apply_calibration(film, cal)
    assert film.spacing_mm == pytest.approx((0.1, 0.1))
    assert film.spacing_source is SpacingSource.USER and film.calibrated
    assert "ruler 3.9 mm over 39.0 px" in film.spacing_calibration


def test_calibrating_again_keeps_the_films_pixel_shape(tmp_path: Path) -> None:
    """A film with 1:2 pixels (Pixel Aspect Ratio 1\\2: half as tall as wide), calibrated,
    then calibrated again (a film outside a study: the shape comes from the film in memory).
    First: a 100 px horizontal line of 20 mm → column 0.2 mm, row 0.1 mm.  Again: the same
    line of 40 mm → column 0.4 mm, row 0.2 mm (still 1:2); the lines (100,100)-(200,100) and
    (100,300)-(200,260) then make atan((40·0.2)/(100·0.4)) = 11.31°, never the square
    pixels' atan(40/100) = 21.80° (apply_calibration clears the aspect it replaces)."""
    from PIL import Image

    from cobbdesk.core.measure.geometry import cobb_angle

    path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((400, 300), np.uint8)).save(path)
    film = read_film(path)
    film.pixel_aspect = (1.0, 2.0)
    line = ((100.0, 100.0), (200.0, 100.0))
    for length, spacing in ((20.0, (0.1, 0.2)), (40.0, (0.2, 0.4))):
        found = calibration_spacing(*line, length, film_shape(film))
        assert found == pytest.approx(spacing)
        cal = film_calibration(line, length, found)
        apply_calibration(film, cal)
        assert film.spacing_mm == pytest.approx(spacing) and film.pixel_aspect is None
    angle = cobb_angle(((100, 100), (200, 100)), ((100, 300), (200, 260)), film.spacing_mm)
    assert abs(angle) == pytest.approx(math.degrees(math.atan((40 * 0.2) / (100 * 0.4))))
    assert abs(angle) == pytest.approx(11.3099, abs=1e-4)


def film_calibration(line, length, spacing):  # type: ignore[no-untyped-def]
    from cobbdesk.core.store.calibration import Calibration

    return Calibration(0, 0, "ruler", *line, length, spacing, "dr_a", "2026-01-01T00:00:00Z")
