"""Export completeness, recomputed angles, stale/plausibility/snapping flags, region mismatches.

Reference angles are the fixture's construction (a horizontal upper line and a lower line
rotated by the angle, so the signed Cobb angle is the rotation) and the hand-computed pair of
:mod:`cobbdesk.core.measure.geometry` (lines (100,100)-(140,110) and (100,300)-(140,290):
2·atan(10/40) = 28.0725°).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from cobbdesk.core.export import analyse, codebook_rows, export_study, load_long, load_wide
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study
from tests.core.export.conftest import measurement

REFERENCE_DEG = 2 * math.degrees(math.atan(10 / 40))  # 28.0725…


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    s = Study.create(tmp_path / "flags.cobbdesk", actor="tester")
    yield s
    s.close()


def _patient(study: Study, sid: str, birth: str = "1950-06-01") -> tuple[int, int]:
    pid = study.add_patient(sid, birth_date=birth, sex="F", name="Secret^Name")
    admission = study.add_visit(pid, "admission", visit_date="2026-01-10")
    month3 = study.add_visit(pid, "month3", visit_date="2026-04-20")
    return admission, month3


def _film(study: Study, visit: int, sop: str, region: str) -> int:
    return study.add_film(visit, sop_instance_uid=sop, path=f"/f/{sop}.dcm", region=region)


def _reference(sop: str, template: str = "C2-C7") -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid=sop, pixel_sha256="", template=template, rater="A",
        upper=EndplateLine((100.0, 100.0), (140.0, 110.0)),
        lower=EndplateLine((100.0, 300.0), (140.0, 290.0)),
    )  # fmt: skip


def test_patient_without_any_lumbar_film_keeps_age_and_visit_days(study: Study) -> None:
    admission, month3 = _patient(study, "P001", birth="1950-06-01")
    study.save_measurement(
        _film(study, admission, "1.1", "cervical"), measurement("1.1", 10, "A", 1)
    )
    study.save_measurement(_film(study, month3, "1.2", "cervical"), measurement("1.2", 14, "A", 2))
    _patient(study, "P002", birth="1930-01-01")  # nothing measured at all
    long = load_long(study).set_index(["record_id", "event"])
    # 2026-01-10 − 1950-06-01: 75 whole years; 2026-04-20 − 2026-01-10 = 100 days (hand-counted)
    assert long.loc[("P001", "admission"), "age_admission"] == 75
    assert long.loc[("P001", "month3"), "age_admission"] == 75
    assert long.loc[("P001", "month3"), "visit_day"] == 100
    assert long.loc[("P002", "month3"), "visit_day"] == 100
    assert long.loc[("P002", "admission"), "age_admission"] == 90
    assert long.loc[("P002", "admission"), "age_90plus"] == 1
    wide = load_wide(study).set_index("study_id")
    assert wide.loc["P001", "month3_day"] == 100 and wide.loc["P002", "month3_day"] == 100
    assert wide.loc["P001", "age_admission"] == 75 and wide.loc["P002", "age_90plus"] == 1
    assert wide.loc["P001", "cervical_cobb_delta"] == pytest.approx(4.0)
    assert pd.isna(wide.loc["P001", "lumbar_cobb_admission"])
    assert wide.loc["P001", "lumbar_snapped_admission"] is pd.NA


def test_stale_stored_angle_is_recomputed_and_flagged(study: Study, tmp_path: Path) -> None:
    admission, _ = _patient(study, "P001")
    study.save_measurement(_film(study, admission, "1.1", "cervical"), _reference("1.1"))
    with study.transaction() as conn:
        conn.execute(text("UPDATE measurements SET angle_deg = 33.07"))
    long = load_long(study).set_index(["record_id", "event"])
    row = long.loc[("P001", "admission")]
    assert row["cervical_cobb"] == round(REFERENCE_DEG, 4) == 28.0725
    assert row["cervical_cobb_stale"] == "angle"
    assert analyse(load_long(study)).values.loc[("P001", "admission"), "cervical_cobb"] == 28.0725
    out = tmp_path / "wide.csv"
    export_study(study, "wide", out)
    text_out = out.read_text(encoding="utf-8-sig")
    assert "33.07" not in text_out and "28.0725" in text_out


def test_old_algorithm_and_recalibration_are_flagged(study: Study) -> None:
    admission, _ = _patient(study, "P001")
    fid = _film(study, admission, "1.1", "cervical")
    study.save_measurement(fid, _reference("1.1"))
    with study.transaction() as conn:
        conn.execute(text("UPDATE measurements SET algorithm_version = 'cobbdesk-cobb-0'"))
        conn.execute(text(
            "INSERT INTO calibrations (film_id, kind, x1, y1, x2, y2, length_mm, spacing_row_mm,"
            " spacing_col_mm, rater, created_utc) VALUES (:f, 'ruler', 0, 0, 100, 0, 10, 0.1,"
            " 0.1, 'A', '2026-01-01T00:00:00Z')"), {"f": fid})  # fmt: skip
    row = load_long(study).iloc[0]
    assert row["cervical_cobb_stale"] == "algorithm;spacing"
    assert row["cervical_cobb"] == 28.0725  # square pixels: the calibration leaves the angle


@pytest.mark.parametrize(
    ("region", "template", "angle", "flag"),
    [
        ("cervical", "C2-C7", 59.5, ""),
        ("cervical", "C2-C7", 75.0, "outside the plausible range −40…+60° for C2–C7"),
        ("cervical", "C2-C7", -41.0, "outside the plausible range −40…+60° for C2–C7"),
        ("lumbar", "L1-S1", 85.0, ""),
        ("lumbar", "L1-S1", -25.0, "outside the plausible range −20…+90° for L1–S1"),
    ],
)
def test_plausibility_flag(
    study: Study, region: str, template: str, angle: float, flag: str
) -> None:
    admission, _ = _patient(study, "P001")
    m = measurement("1.1", angle, "A", 1, template=template)
    study.save_measurement(_film(study, admission, "1.1", region), m)
    wide = load_wide(study).iloc[0]
    assert wide[f"{region}_cobb_admission"] == angle
    assert wide[f"{region}_cobb_flag_admission"] == flag
    assert wide[f"{region}_cobb_stale_admission"] == ""


def test_snapped_lines_are_counted(study: Study) -> None:
    admission, month3 = _patient(study, "P001")
    one = dataclasses.replace(measurement("1.1", 10, "A", 1), upper_snapped=True)
    two = dataclasses.replace(measurement("1.2", 12, "A", 2), upper_snapped=True,
                              lower_snapped=True)  # fmt: skip
    study.save_measurement(_film(study, admission, "1.1", "cervical"), one)
    study.save_measurement(_film(study, month3, "1.2", "cervical"), two)
    wide = load_wide(study).iloc[0]
    assert (wide["cervical_snapped_admission"], wide["cervical_snapped_month3"]) == (1, 2)


def test_template_not_matching_the_film_region_is_left_out(study: Study) -> None:
    admission, month3 = _patient(study, "P001")
    lumbar = _film(study, admission, "1.1", "lumbar")
    unknown = _film(study, month3, "1.2", "unknown")
    study.save_measurement(lumbar, measurement("1.1", 20, "A", 1, template="C2-C7"))
    study.save_measurement(unknown, measurement("1.2", 22, "B", 2, template="C2-C7"))
    wide = load_wide(study).set_index("rater")
    assert list(wide.index) == ["A", "B"]  # both raters keep their row
    for rater in ("A", "B"):
        for column in ("cervical_cobb_admission", "cervical_cobb_month3",
                       "lumbar_cobb_admission", "lumbar_cobb_month3"):  # fmt: skip
            assert pd.isna(wide.loc[rater, column]), (rater, column)
    assert (wide.loc["A", "region_mismatch_admission"], wide.loc["A", "region_mismatch_month3"]) \
        == (1, 0)  # fmt: skip
    assert wide.loc["B", "region_mismatch_month3"] == 1
    # a matching L1–S1 measurement on the same lumbar film is exported as usual
    study.save_measurement(lumbar, measurement("1.1", 40, "A", 3, template="L1-S1"))
    assert load_wide(study).set_index("rater").loc["A", "lumbar_cobb_admission"] == 40.0


def test_codebook_documents_the_new_columns() -> None:
    rows = {r["name"]: r for r in codebook_rows()}
    for name in ("cervical_cobb_flag_admission", "lumbar_cobb_stale_month3",
                 "cervical_snapped_month3", "region_mismatch_admission", "cervical_cobb_flag",
                 "lumbar_cobb_stale", "lumbar_snapped", "region_mismatch"):  # fmt: skip
        assert name in rows, name
    assert rows["region_mismatch"]["layout"] == "long"
    assert "recomputed" in rows["cervical_cobb_stale"]["coding"]
    assert rows["lumbar_snapped_admission"]["allowed_range"] == "0–2"


def test_statistics_say_what_was_recomputed_or_left_out(study: Study) -> None:
    admission, month3 = _patient(study, "P001")
    study.save_measurement(_film(study, admission, "1.1", "cervical"), _reference("1.1"))
    study.save_measurement(
        _film(study, month3, "1.2", "lumbar"), measurement("1.2", 20, "A", 2, template="C2-C7")
    )
    before = analyse(load_long(study)).to_dict()["notes"]
    assert not any("stale" in n for n in before)
    with study.transaction() as conn:
        conn.execute(text("UPDATE measurements SET angle_deg = 33.07 WHERE template = 'C2-C7'"))
    notes = analyse(load_long(study)).to_dict()["notes"]
    assert "cervical: 1 stored angle(s) were stale; the angles recomputed from their endplate " \
        "points are used" in notes  # fmt: skip
    assert any(n.startswith("1 measurement(s) whose template does not match") for n in notes)
