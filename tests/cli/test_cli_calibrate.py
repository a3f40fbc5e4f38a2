"""Issue #11 end to end: photos imported by patient/visit/region, user calibration from the
command line (stored, audited, applied to measurements and exports), pixel aspect via CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from cobbdesk.cli import main
from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit

POINTS_HEADER = (
    "sop_instance_uid,template,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
    "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,lower_posterior_y\n"
)


def photo(tmp_path: Path, name: str = "film.png", seed: int = 0) -> Path:
    values = np.random.default_rng(seed).integers(0, 65535, (500, 400), dtype=np.uint16)
    path = tmp_path / name
    Image.fromarray(values).save(path)
    return path


@pytest.mark.shared
def test_measure_honours_pixel_aspect_of_the_field_case(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    film = shared_data / "field-cases/pixel_aspect_2to1_no_spacing.dcm"
    study = tmp_path / "s.cobbdesk"
    assert main(["import", str(study), str(film), "--create"]) == 0
    uid = read_film(film).sop_instance_uid
    points = tmp_path / "points.csv"
    points.write_text(POINTS_HEADER + f"{uid},FREE,100,100,160,110,100,200,160,180\n")
    capsys.readouterr()
    assert main(["measure", str(study), str(points), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert round(report["measurements"][0]["angle"], 2) == 52.13
    with Study.open(study) as opened:
        (m,) = opened.measurements()
    assert m.pixel_aspect == (2.0, 1.0) and m.spacing is None


def test_photos_are_skipped_with_a_hint_without_a_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = photo(tmp_path)
    study = tmp_path / "s.cobbdesk"
    assert main(["import", str(study), str(image), "--create"]) == 0
    out = capsys.readouterr().out
    assert "0 film(s) imported" in out and "--patient ID --visit" in out


def test_photo_import_calibrate_measure_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = photo(tmp_path)
    study = tmp_path / "s.cobbdesk"
    args = ["--patient", "MRN-7", "--visit", "admission", "--region", "cervical", "--json"]
    assert main(["import", str(study), str(image), "--create", *args]) == 0
    report = json.loads(capsys.readouterr().out)
    (imported,) = report["imported"]
    uid = imported["sop_instance_uid"]
    assert uid == read_film(image).sop_instance_uid and uid.startswith("2.25.")
    assert imported["visit"] == "admission" and imported["region"] == "cervical"
    assert report["new_patients"] == ["P0001"]
    # the same pixels again (as TIFF) are a duplicate
    again = tmp_path / "again.tif"
    Image.open(image).save(again)
    assert main(["import", str(study), str(again), *args]) == 0
    assert len(json.loads(capsys.readouterr().out)["duplicates"]) == 1

    points = tmp_path / "points.csv"
    points.write_text(POINTS_HEADER + f"{uid},C2-C7,100,100,160,110,100,300,160,280\n")
    assert main(["measure", str(study), str(points), "--json"]) == 0
    before = json.loads(capsys.readouterr().out)["measurements"][0]["angle"]

    # 400 px ruler = 50 mm → 0.125 mm per pixel; the film was uncalibrated: no reason needed
    cal = ["calibrate", str(study), uid, "20", "50", "20", "450", "--length-mm", "50"]
    assert main(cal) == 0
    shown = "0.125 × 0.125 mm (user calibration: ruler 50 mm over 400.0 px"
    assert shown in capsys.readouterr().out
    with Study.open(study) as opened:
        (m,) = opened.measurements()
        with opened.engine.connect() as conn:
            rows = conn.execute(select(audit.c.entity, audit.c.field, audit.c.reason)).all()
    assert m.spacing == pytest.approx((0.125, 0.125)) and m.spacing_source is SpacingSource.USER
    assert m.angle == pytest.approx(before)
    assert ("calibration", "length_mm", "film calibrated") in rows
    assert ("measurement", "spacing_source", "film calibrated") in rows
    # recalibrating needs a reason, and the reason is audited on the measurement too
    assert main([*cal[:-1], "40"]) == 1
    assert "replacing a calibration needs a reason" in capsys.readouterr().err
    assert main([*cal[:-1], "40", "--reason", "ruler misread"]) == 0
    with Study.open(study) as opened:
        (m,) = opened.measurements()
        with opened.engine.connect() as conn:
            reasons = conn.execute(select(audit.c.entity, audit.c.reason)).all()
    assert m.spacing == pytest.approx((0.1, 0.1))
    assert ("measurement", "ruler misread") in reasons
    capsys.readouterr()

    assert main(["calibrate", str(study), uid, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["spacing_source"] == "user calibration" and shown["length_mm"] == 40.0

    out = tmp_path / "long.csv"
    assert main(["export", str(study), "--format", "long", "-o", str(out)]) == 0
    with out.open(encoding="utf-8-sig") as handle:
        exported = list(csv.DictReader(handle))
    assert any("user calibration" in value for row in exported for value in row.values())


def test_film_command_calibrates_like_calibrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cobbdesk film STUDY UID --calibrate … --length-mm … --reason`` (issue #11's CLI form)."""
    image = tmp_path / "scan.png"
    Image.fromarray(np.full((500, 300), 120, dtype=np.uint8)).save(image)
    study = tmp_path / "s.cobbdesk"
    args = ["--create", "--patient", "P9", "--visit", "month3", "--region", "lumbar", "--json"]
    assert main(["import", str(study), str(image), *args]) == 0
    uid = json.loads(capsys.readouterr().out)["imported"][0]["sop_instance_uid"]
    film = ["film", str(study), uid, "--calibrate", "10", "40", "10", "240", "--length-mm", "25"]
    assert main(film) == 1  # a reason is required by `film`
    assert "--reason" in capsys.readouterr().err
    assert main([*film, "--reason", "ruler on the cassette"]) == 0
    assert "0.125×0.125 mm (user calibration, ruler)" in capsys.readouterr().out
    assert main(["film", str(study), "--list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["spacing_mm"] == pytest.approx([0.125, 0.125])
    with Study.open(study) as opened, opened.engine.connect() as conn:
        reasons = conn.execute(select(audit.c.entity, audit.c.reason)).all()
    assert ("calibration", "ruler on the cassette") in reasons
