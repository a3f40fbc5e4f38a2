"""Stale stored angles (cache edited, old algorithm, changed calibration) and region mismatches.

The reference pair is the one of :mod:`cobbdesk.core.measure.geometry`'s doctest: endplate
lines (100,100)-(140,110) and (100,300)-(140,290) make 2·atan(10/40) = 28.0725° (hand-computed:
each line is atan(0.25) = 14.036° from the horizontal, sloping opposite ways).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import text

from cobbdesk.core.measure.measurement import ALGORITHM_VERSION, CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study
from cobbdesk.core.store.checks import angle_spacing, recompute_angle, recompute_angles
from cobbdesk.core.store.schema import calibrations

REFERENCE_DEG = 2 * math.degrees(math.atan(10 / 40))


def _m(template: str = "C2-C7", spacing: tuple[float, float] | None = None) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="1.2.3", pixel_sha256="", template=template,
        upper=EndplateLine((100.0, 100.0), (140.0, 110.0)),
        lower=EndplateLine((100.0, 300.0), (140.0, 290.0)), rater="A",
        spacing=spacing, spacing_source="PixelSpacing" if spacing else "none",
    )  # fmt: skip


@pytest.fixture
def study(study_location: Callable[[str], object]) -> Iterator[Study]:
    s = Study.create(study_location("checks.cobbdesk"), actor="dr_a")
    pid = s.add_patient("P0001", name="Doe^Jane", mrn="MRN-77")
    vid = s.add_visit(pid, "admission", visit_date="2026-01-05")
    s.add_film(vid, sop_instance_uid="1.2.3", path="/f/a.dcm", region="cervical")
    yield s
    s.close()


def _sql(study: Study, statement: str, **params: object) -> None:
    with study.transaction() as conn:
        conn.execute(text(statement), params)


def test_reference_angle() -> None:
    assert recompute_angle([100, 100, 140, 110, 100, 300, 140, 290], None) == pytest.approx(
        REFERENCE_DEG, abs=1e-12
    )
    assert round(REFERENCE_DEG, 2) == 28.07
    assert math.isnan(recompute_angle([1, 1, 1, 1, 0, 0, 5, 0], None))
    assert angle_spacing(None, None, 1.0, 1.0) is None
    assert angle_spacing(0.1, 0.2, 1.0, 2.0) == (0.1, 0.2)
    assert angle_spacing(None, None, 1.0, 2.0) == (1.0, 2.0)


def test_fresh_measurements_are_not_stale(study: Study) -> None:
    study.save_measurement(1, _m())
    study.save_measurement(1, _m(spacing=(0.1, 0.2)))
    assert study.angle_discrepancies() == []


def test_edited_angle_cache_is_reported(study: Study) -> None:
    m = _m()
    study.save_measurement(1, m)
    _sql(study, "UPDATE measurements SET angle_deg = 33.07")
    [found] = study.angle_discrepancies()
    assert found.problems == ("angle",)
    assert found.stored_deg == 33.07
    assert found.recomputed_deg == pytest.approx(REFERENCE_DEG, abs=1e-9)
    line = found.describe()
    assert line.startswith(f"P0001 film 1.2.3 measurement {m.id} (C2-C7): stored angle")
    assert "+33.0700°" in line and "+28.0725°" in line
    assert "Doe" not in line and "MRN" not in line


def test_tolerance_is_one_microdegree(study: Study) -> None:
    study.save_measurement(1, _m())
    _sql(study, "UPDATE measurements SET angle_deg = :a", a=REFERENCE_DEG + 5e-7)
    assert study.angle_discrepancies() == []
    _sql(study, "UPDATE measurements SET angle_deg = :a", a=REFERENCE_DEG + 2e-6)
    assert len(study.angle_discrepancies()) == 1


def test_old_algorithm_is_reported(study: Study) -> None:
    study.save_measurement(1, _m())
    _sql(study, "UPDATE measurements SET algorithm_version = 'cobbdesk-cobb-0'")
    [found] = study.angle_discrepancies()
    assert found.problems == ("algorithm",)
    assert f"algorithm cobbdesk-cobb-0 (current {ALGORITHM_VERSION})" in found.describe()


def test_calibration_differing_from_the_stored_spacing_is_reported(study: Study) -> None:
    study.save_measurement(1, _m(spacing=(0.1, 0.1)))
    row = {"film_id": 1, "kind": "ruler", "x1": 0.0, "y1": 0.0, "x2": 100.0, "y2": 0.0,
           "length_mm": 12.0, "rater": "A"}  # fmt: skip
    with study.transaction() as conn:
        conn.execute(
            calibrations.insert().values(
                **row, spacing_row_mm=0.1, spacing_col_mm=0.1, created_utc="2026-01-01T00:00:00Z"
            )
        )
    assert study.angle_discrepancies() == []  # the calibration in force is the stored spacing
    with study.transaction() as conn:
        conn.execute(
            calibrations.insert().values(
                **row, spacing_row_mm=0.12, spacing_col_mm=0.12, created_utc="2026-01-02T00:00:00Z"
            )
        )
    [found] = study.angle_discrepancies()
    assert found.problems == ("spacing",) and found.calibration == (0.12, 0.12)
    assert "spacing 0.1×0.1 mm but the film is calibrated to 0.12×0.12 mm" in found.describe()
    _sql(study, "UPDATE calibrations SET deleted_utc = '2026-01-03' WHERE spacing_row_mm = 0.12")
    assert study.angle_discrepancies() == []


def test_deleted_measurements_are_not_checked(study: Study) -> None:
    m = _m()
    study.save_measurement(1, m)
    study.delete_measurement(m.id, reason="wrong film")
    _sql(study, "UPDATE measurements SET angle_deg = 33.07")
    assert study.angle_discrepancies() == []


def test_region_mismatches(study: Study) -> None:
    study.save_measurement(1, _m("C2-C7"))
    assert study.region_mismatches() == []
    lumbar = _m("L1-S1")
    study.save_measurement(1, lumbar)
    [found] = study.region_mismatches()
    assert (found.measurement_id, found.template, found.film_region) == (
        lumbar.id,
        "L1-S1",
        "cervical",
    )
    assert found.describe().startswith(f"P0001 film 1.2.3 measurement {lumbar.id}: L1-S1")


def test_vectorised_recomputation_equals_cobb_angle() -> None:
    """The export's numpy path gives geometry.cobb_angle's angle for random pairs."""
    rng = np.random.default_rng(7)
    points = rng.uniform(0, 500, (2000, 8))
    points[:20, 4:8] = points[:20, 0:4] + [0, 80, 0, 80]  # parallel: 0°
    points[20:25, 2:4] = points[20:25, 0:2]  # zero-length upper line
    points[25, 7] = np.inf
    scales = rng.uniform(0.05, 0.5, (2000, 2))
    scales[::3] = np.nan  # square pixels
    fast = recompute_angles(points, scales)
    slow = np.array([
        recompute_angle(p, None if np.isnan(s).any() else (float(s[0]), float(s[1])))
        for p, s in zip(points, scales, strict=True)
    ])  # fmt: skip
    assert np.array_equal(np.isnan(fast), np.isnan(slow)) and np.isnan(slow).sum() == 6
    assert np.nanmax(np.abs(fast - slow)) < 1e-9
    assert np.all(fast[:20] == 0.0)
    reference = recompute_angles(
        np.array([[100, 100, 140, 110, 100, 300, 140, 290]]), [[np.nan] * 2]
    )
    assert reference[0] == pytest.approx(REFERENCE_DEG, abs=1e-12)


@pytest.mark.sqlite_only  # a server's typed columns refuse text in a number cell
@pytest.mark.parametrize(
    ("column", "value"), [("angle_deg", "abc"), ("upper_anterior_x", "zz"), ("angle_deg", None)]
)
def test_text_edited_into_a_number_cell_is_stale_not_a_crash(
    study: Study, column: str, value: object
) -> None:
    """A cell edited to text outside CobbDesk is reported by verify and never crashes an export."""
    from cobbdesk.core.export.dataset import load_long

    film = study.film_by_sop("1.2.3")
    assert film is not None
    study.save_measurement(film.id, _m())
    if value is None:  # NOT NULL: the closest an editor gets is an empty string
        value = ""
    _sql(study, f"UPDATE measurements SET {column} = :v", v=value)
    (found,) = study.angle_discrepancies()
    assert "angle" in found.problems
    long = load_long(study)
    assert long["cervical_cobb_stale"].str.contains("angle").any()


def test_two_measured_films_of_one_region_in_a_visit_are_reported(
    study: Study, capsys: pytest.CaptureFixture[str]
) -> None:
    from cobbdesk.cli import main

    first = study.film_by_sop("1.2.3")
    assert first is not None
    second = study.add_film(first.visit_id, sop_instance_uid="1.2.4", path="/f/b.dcm",
                            region="cervical")  # fmt: skip
    study.save_measurement(first.id, _m())
    assert study.region_duplicates() == []  # one measured cervical film: fine
    study.save_measurement(second, replace(_m(), id="second", sop_instance_uid="1.2.4"))
    (dup,) = study.region_duplicates()
    assert (dup.study_id, dup.visit, dup.region) == ("P0001", "admission", "cervical")
    assert dup.sop_instance_uids == ("1.2.3", "1.2.4")
    path = study.location
    study.close()
    assert main(["verify", str(path)]) == 0  # a warning, not a failure
    err = capsys.readouterr().err
    assert "two films of one region: P0001 admission: 2 measured cervical films" in err
    assert "Doe" not in err and "MRN-77" not in err
