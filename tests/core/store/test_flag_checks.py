"""The browser's film flags from set-based SQL equal the former per-measurement computation.

The former path (kept here as :func:`_per_measurement_flags`) built every measurement, recomputed
every angle in Python and checked every row; :func:`flag_inputs` lets SQL pick the candidates.
The study below mixes every kind of flag and near-miss: plausible and implausible angles of
both templates (−73.7° C2–C7 is the flags module's doctest; 28.07° = 2·atan(10/40) the checks
tests' reference pair), FREE lines beyond any range, a stale cached angle, one off by less than
the 1e-6° tolerance, an old algorithm, calibrated films (matching and not), anisotropic pixels,
mm spacing, parallel lines, templates on the other region's film, deleted measurements and films.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import insert, update

from cobbdesk.core.compare.flags import film_flags
from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.measure.measurement import ALGORITHM_VERSION
from cobbdesk.core.store import Study
from cobbdesk.core.store.flag_checks import flag_inputs
from cobbdesk.core.store.overview import film_ids_and_mismatches
from cobbdesk.core.store.schema import calibrations, films, measurements

NOW = "2026-01-01T00:00:{:02d}Z"
Line = tuple[tuple[float, float], tuple[float, float]]
REFERENCE: tuple[Line, Line] = (((100.0, 100.0), (140.0, 110.0)), ((100.0, 300.0), (140.0, 290.0)))
KYPHOSIS: tuple[Line, Line] = (((100.0, 130.0), (140.0, 100.0)), ((100.0, 270.0), (140.0, 300.0)))


def _lordosis(slope: float) -> tuple[Line, Line]:
    return ((100.0, 100.0), (160.0, 100.0 + slope)), ((100.0, 300.0), (160.0, 300.0 - slope))


def _per_measurement_flags(study: Study) -> dict[int, list[str]]:
    """The browser's flags as computed before #17 (every measurement built in Python)."""
    uids, mismatched = film_ids_and_mismatches(study)
    return film_flags(uids, study.measurements(), study.angle_discrepancies(), mismatched)


def _row(
    n: int, film_id: int, template: str, lines: tuple[Line, Line], **extra: Any
) -> dict[str, Any]:
    (ua, up), (la, lp) = lines
    spacing = extra.pop("spacing", None)
    aspect = extra.pop("aspect", None)
    scale = spacing or (aspect if aspect and aspect[0] != aspect[1] else None)
    row = {
        "id": f"m{n}", "film_id": film_id, "rater": "r1", "template": template,
        "spacing_source": "PixelSpacing" if spacing else "none",
        "spacing_row_mm": spacing[0] if spacing else None,
        "spacing_col_mm": spacing[1] if spacing else None,
        "pixel_aspect_row": aspect[0] if aspect else None,
        "pixel_aspect_col": aspect[1] if aspect else None,
        "angle_deg": cobb_angle((ua, up), (la, lp), scale),
        "algorithm_version": ALGORITHM_VERSION,
        "created_utc": NOW.format(n), "updated_utc": NOW.format(n),
        "upper_anterior_x": ua[0], "upper_anterior_y": ua[1],
        "upper_posterior_x": up[0], "upper_posterior_y": up[1],
        "lower_anterior_x": la[0], "lower_anterior_y": la[1],
        "lower_posterior_x": lp[0], "lower_posterior_y": lp[1],
    }  # fmt: skip
    row.update(extra)
    return row


@pytest.fixture
def study(study_location: Callable[[str], object]) -> Iterator[Study]:
    s = Study.create(study_location("flags.cobbdesk"), actor="dr_a")
    film_ids: list[int] = []
    for p in range(3):
        pid = s.add_patient(f"P{p:04d}", name=f"Doe{p}^Jane")
        for kind in ("admission", "month3"):
            vid = s.add_visit(pid, kind)
            for region in ("cervical", "lumbar", "unknown"):
                uid, path = f"1.2.{p}.{kind}.{region}", f"/f/{p}{kind}{region}.dcm"
                film_ids.append(s.add_film(vid, sop_instance_uid=uid, path=path, region=region))
    c, lum, unk = film_ids[0], film_ids[1], film_ids[2]
    rows = [
        _row(1, c, "C2-C7", REFERENCE),  # 28.07°: fine
        _row(2, c, "C2-C7", KYPHOSIS),  # −73.7°: implausible
        _row(3, lum, "L1-S1", _lordosis(3.0)),  # a few degrees: fine
        _row(4, lum, "L1-S1", KYPHOSIS),  # implausible for L1–S1 too
        _row(5, unk, "FREE", KYPHOSIS),  # no range for FREE; unknown region: fine
        _row(6, film_ids[3], "C2-C7", REFERENCE, angle_deg=31.0),  # stale cache
        _row(7, film_ids[3], "C2-C7", _lordosis(20.0), algorithm_version="old-1"),
        _row(8, film_ids[4], "C2-C7", REFERENCE),  # C2–C7 on a lumbar film: mismatch
        _row(9, film_ids[5], "L1-S1", REFERENCE),  # on an unknown-region film: mismatch
        _row(10, film_ids[6], "C2-C7", REFERENCE, spacing=(0.2, 0.1)),  # mm: another angle
        _row(11, film_ids[6], "C2-C7", KYPHOSIS, aspect=(2.0, 1.0)),  # anisotropic pixels
        _row(12, film_ids[7], "L1-S1", REFERENCE, spacing=(0.15, 0.15)),  # calibrated: same
        _row(13, film_ids[7], "L1-S1", _lordosis(0.0)),  # parallel lines: 0.0° (< −20? no)
        _row(14, film_ids[9], "C2-C7", REFERENCE, deleted_utc=NOW.format(0)),  # deleted
        _row(15, film_ids[10], "C2-C7", KYPHOSIS),  # on a film deleted below
        _row(16, film_ids[12], "C2-C7", _lordosis(25.0)),  # the range's edge, just inside?
        _row(17, film_ids[13], "L1-S1", REFERENCE, spacing=(0.1, 0.1)),  # calibrated, other
        _row(18, film_ids[15], "C2-C7", REFERENCE, aspect=(1.5, 1.5)),  # square aspect
    ]
    rows.append(_row(19, film_ids[16], "C2-C7", REFERENCE))
    rows[-1]["angle_deg"] += 0.9e-6  # under the 1e-6° tolerance: not stale
    with s.transaction() as conn:
        conn.execute(insert(measurements), rows)
        conn.execute(
            update(films).where(films.c.id == film_ids[10]).values(deleted_utc=NOW.format(0))
        )
        conn.execute(insert(calibrations), [
            {"film_id": fid, "kind": "ruler", "x1": 0.0, "y1": 0.0, "x2": 100.0, "y2": 0.0,
             "length_mm": 15.0, "spacing_row_mm": 0.15, "spacing_col_mm": 0.15, "rater": "r1",
             "created_utc": NOW.format(1)} for fid in (film_ids[7], film_ids[13])
        ])  # fmt: skip
    yield s
    s.close()


def test_sql_flags_equal_the_per_measurement_flags(study: Study) -> None:
    expected = _per_measurement_flags(study)
    got = film_flags(*flag_inputs(study))
    assert got == expected
    kinds = " ".join(t for texts in got.values() for t in texts)
    for part in ("outside the plausible range −40…+60° for C2–C7", "L1–S1",
                 "differs from its recomputation", "another region's template"):  # fmt: skip
        assert part in kinds  # the study exercises every kind of flag
    inputs = flag_inputs(study)
    assert study.angle_discrepancies() == inputs.discrepancies
    # SQL narrows: only the implausible ones and the parallel pair (sign undecided in SQL)
    assert sorted(m.id for m in inputs.measurements) == ["m11", "m13", "m2", "m4"]


def test_the_edge_of_the_plausible_range(study: Study) -> None:
    """Lines whose angle sits within 1e-9° of +60° are judged by the exact computation."""
    fid = study.film_by_sop("1.2.2.month3.cervical")
    assert fid is not None
    slope = 40.0 * math.tan(math.radians(30.0))  # each line 30° off: 60.000…° exactly-ish
    lines = (((100.0, 100.0), (140.0, 100.0 + slope)), ((100.0, 300.0), (140.0, 300.0 - slope)))
    with study.transaction() as conn:
        conn.execute(insert(measurements), [_row(40, fid.id, "C2-C7", lines)])
    assert film_flags(*flag_inputs(study)) == _per_measurement_flags(study)


def test_an_unreadable_row_does_not_stop_the_flags(study: Study) -> None:
    """A zero-length line (the former path failed for the whole study): flagged as stale."""
    fid = study.film_by_sop("1.2.2.admission.lumbar")
    assert fid is not None
    row = _row(41, fid.id, "L1-S1", REFERENCE)
    row.update(upper_posterior_x=100.0, upper_posterior_y=100.0)  # upper line of length 0
    with study.transaction() as conn:
        conn.execute(insert(measurements), [row])
    flags = film_flags(*flag_inputs(study))
    assert any("differs from its recomputation" in t for t in flags[fid.id])
