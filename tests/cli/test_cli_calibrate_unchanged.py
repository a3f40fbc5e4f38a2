"""Calibration on non-square pixels says how long the line is in a way that means something,
and re-calibrating to the spacing already in force changes nothing (breaker 8).

Film: 600 rows × 500 columns, Pixel Aspect Ratio 1:2 (pixels twice as wide as high), no
spacing.  The line (0, 0)–(200, 400) spans 200 columns and 400 rows; in physical units with
the pixel shape normalised to (v, h) = (0.5, 1) it is hypot(200·1, 400·0.5) = 282.843 shape
units, so 100 mm gives k = 0.353553 mm and spacing (k·v, k·h) = (0.176777, 0.353553) mm
(module formula of ``core.store.calibration``).  Its diagonal pixel count, sqrt(200² + 400²)
= 447.2 "px", is the meaningless figure the old text printed.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cobbdesk.cli import main
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit

UID = "1.2.840.1.55"
SPACING = (0.1767766952966, 0.3535533905933)  # by hand, see the module docstring
LINE = ["0", "0", "200", "400"]


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="t") as created:
        vid = created.add_visit(created.add_patient("P0001"), "admission")
        fid = created.add_film(vid, sop_instance_uid=UID, path=tmp_path / "gone.dcm",
                               region="cervical", pixel_rows=600, pixel_columns=500)  # fmt: skip
        created.save_measurement(fid, CobbMeasurement(
            sop_instance_uid=UID, pixel_sha256="", template="C2-C7", rater="A",
            upper=EndplateLine((100.0, 100.0), (140.0, 110.0)),
            lower=EndplateLine((100.0, 300.0), (140.0, 290.0)),
            spacing=None, spacing_source="none", pixel_aspect=(1.0, 2.0),
        ))  # fmt: skip
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE films SET pixel_aspect_row = 1, pixel_aspect_col = 2")
    return path


def _audit_rows(path: Path) -> int:
    with Study.open(path) as opened, opened.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit)).scalar_one())


def test_non_square_line_is_given_in_columns_rows_and_pixel_shape(
    study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calibrate", str(study), UID, *LINE, "--length-mm", "100"]) == 0
    out = capsys.readouterr().out
    assert "ruler 100 mm over 200.0 columns × 400.0 rows, pixels 1:2 high:wide" in out
    assert "447.2" not in out
    with Study.open(study) as opened:
        calibration = opened.film_calibration(1)
    assert calibration is not None
    assert calibration.spacing_mm == pytest.approx(SPACING, rel=1e-9)


def test_square_pixels_keep_the_pixel_count(tmp_path: Path) -> None:
    from cobbdesk.core.store.calibration import line_text

    assert line_text((0, 0), (300, 400), (0.1, 0.1)) == "500.0 px"  # 3-4-5 triangle
    assert line_text((0, 0), (300, 400)) == "500.0 px"


def test_recalibrating_to_the_same_spacing_changes_nothing(
    study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calibrate", str(study), UID, *LINE, "--length-mm", "100"]) == 0
    capsys.readouterr()
    rows = _audit_rows(study)
    # the same line again, and a line half as long over half the length: same spacing;
    # no --reason (replacing a calibration would need one): nothing to replace
    for line, length in ((LINE, "100"), (["10", "20", "110", "220"], "50")):
        code = main(["calibrate", str(study), UID, *line, "--length-mm", length, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        shown = json.loads(out)
        assert shown["unchanged"] is True and shown["spacing_mm"] == pytest.approx(SPACING)
        assert shown["points"] == [[0.0, 0.0], [200.0, 400.0]]  # the calibration in force
    argv = ["film", str(study), UID, "--calibrate", *LINE, "--length-mm", "100", "--reason", "x"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(f"{UID}: spacing unchanged (0.176777×0.353553 mm")
    assert _audit_rows(study) == rows  # no "0.1768 × 0.3536 mm → 0.1768 × 0.3536 mm" row


def test_another_spacing_still_needs_a_reason(
    study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calibrate", str(study), UID, *LINE, "--length-mm", "100"]) == 0
    assert main(["calibrate", str(study), UID, *LINE, "--length-mm", "101"]) == 1
    assert "replacing a calibration needs a reason" in capsys.readouterr().err


def test_same_spacing_tolerance_is_relinks() -> None:
    from cobbdesk.core.importing.relink import REL_TOL
    from cobbdesk.core.store.calibration import SAME_SPACING_REL_TOL, same_spacing

    assert SAME_SPACING_REL_TOL == REL_TOL
    assert same_spacing((0.2, 0.4), (0.2 * (1 + 5e-7), 0.4))
    assert not same_spacing((0.2, 0.4), (0.2 * (1 + 5e-6), 0.4))
