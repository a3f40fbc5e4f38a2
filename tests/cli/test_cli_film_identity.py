"""The command line attaches nothing to a study film whose file is not the film the study
recorded: ``measure``, ``measure --plan``, ``calibrate`` refuse it naming the file and the
field, and store nothing; the genuine file is still accepted (values computed by hand)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from cobbdesk.cli.main import main
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import readings
from tests.cli.test_plan_cli import _points, study_path  # noqa: F401  (fixture)
from tests.core.test_measure_film_identity import UID, _film
from tests.core.test_measure_film_identity import _points as _row


def _import(tmp_path: Path, film: Path) -> Path:
    study = tmp_path / "s.cobbdesk"
    assert main(["import", str(study), str(film), "--create"]) == 0
    return study


def test_measure_refuses_a_film_file_that_adds_pixel_aspect(
    tmp_path: Path, make_ds: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    study = _import(tmp_path, film)
    shutil.copy(_film(make_ds, tmp_path / "other" / "a.dcm", aspect="1\\2"), film)
    capsys.readouterr()
    assert main(["measure", str(study), str(_row(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert "m.csv row 2: film file a.dcm is not film #1 as the study recorded it (Pixel " \
        "Aspect Ratio (0028,0034) is 1:2, the study recorded 1:1)" in err  # fmt: skip
    with Study.open(study) as opened:
        assert opened.measurements() == []


def test_calibrate_refuses_a_replaced_file_and_uses_the_genuine_pixel_shape(
    tmp_path: Path, make_ds: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    film = _film(make_ds, tmp_path / "films" / "w.dcm", aspect="1\\2")
    study = _import(tmp_path, film)
    original = film.read_bytes()
    shutil.copy(_film(make_ds, tmp_path / "other" / "w.dcm"), film)  # square pixels
    line = ["0", "0", "100", "0", "--length-mm", "10"]
    capsys.readouterr()
    assert main(["calibrate", str(study), UID, *line]) == 1
    assert "Pixel Aspect Ratio (0028,0034) is 1:1, the study recorded 1:2" in (
        capsys.readouterr().err
    )
    with Study.open(study) as opened:
        assert opened.film_calibration(1) is None
    film.write_bytes(original)
    assert main(["calibrate", str(study), UID, *line]) == 0
    with Study.open(study) as opened:
        calibration = opened.film_calibration(1)
    # 100 columns are 10 mm: 0.1 mm a column; a pixel half as high as wide: 0.05 mm a row
    assert calibration is not None
    assert calibration.spacing_mm == pytest.approx((0.05, 0.1), rel=1e-12)


def test_measure_plan_refuses_the_replaced_film_only(
    study_path: Path, tmp_path: Path, make_ds: Callable[..., Any],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    s = str(study_path)
    assert main(["plan", "create", s, "rel", "--raters", "A,B", "--rounds", "1",
                 "--seed", "5", "--region", "cervical"]) == 0  # fmt: skip
    with Study.open(study_path) as study:
        records = study.films()
    first = records[0]
    other = make_ds(np.zeros((400, 300), dtype=np.uint16), pixel_spacing=None,
                    SOPInstanceUID=first.sop_instance_uid, PixelAspectRatio=["1", "2"],
                    StudyDate=(first.study_date or "").replace("-", ""))  # fmt: skip
    other.save_as(first.path, enforce_file_format=True)
    sops = [r.sop_instance_uid for r in records]
    csv = _points(tmp_path / "A.csv", "A", tuple(10.0 + i for i in range(len(sops))), sops)
    capsys.readouterr()
    assert main(["measure", s, str(csv), "--plan", "rel", "--round", "1"]) == 1
    err = capsys.readouterr().err
    assert f"film file {Path(first.path).name} is not film #{first.id}" in err
    assert "Pixel Aspect Ratio (0028,0034) is 1:2, the study recorded 1:1" in err
    with Study.open(study_path) as study, study.engine.connect() as conn:
        stored = conn.execute(select(readings.c.film_id)).scalars().all()
        assert conn.execute(select(func.count()).select_from(readings)).scalar() == 7
    assert first.id not in stored
    # a film read by A (0.15 mm spacing) whose file now says 0.3 × 0.15 mm: refused for B too
    second = records[1]
    wider = make_ds(np.zeros((400, 300), dtype=np.uint16), pixel_spacing=(0.3, 0.15),
                    SOPInstanceUID=second.sop_instance_uid,
                    StudyDate=(second.study_date or "").replace("-", ""))  # fmt: skip
    wider.save_as(second.path, enforce_file_format=True)
    csv = _points(tmp_path / "B.csv", "B", tuple(10.0 + i for i in range(len(sops))), sops)
    assert main(["measure", s, str(csv), "--plan", "rel", "--round", "1"]) == 1
    err = capsys.readouterr().err
    assert f"film file {Path(second.path).name} is not film #{second.id} as the study recorded " \
        "it (pixel spacing (PixelSpacing) is 0.3 × 0.15 mm (row × column), the saved " \
        "measurements used 0.15 × 0.15 mm (row × column) (PixelSpacing))" in err  # fmt: skip
    with Study.open(study_path) as study, study.engine.connect() as conn:
        rows = conn.execute(select(readings.c.film_id, readings.c.rater)).all()
    assert len(rows) == 13 and (second.id, "B") not in rows and first.id not in {r[0] for r in rows}
