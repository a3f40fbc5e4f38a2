"""A fixed, deterministic study for the export and statistics tests.

Eight patients (IDs include formula-like text), two raters, repeated measurements, a patient
aged over 89, a patient without a month-3 visit, zero and tied angle changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study

T0 = "2026-02-01T08:00:00.000000+00:00"


def angle_lines(angle: float) -> tuple[EndplateLine, EndplateLine]:
    """Upper line horizontal, lower line rotated so that the signed Cobb angle is ``angle``."""
    rad = math.radians(angle)
    upper = EndplateLine((100.0, 100.0), (300.0, 100.0))
    lower = EndplateLine((100.0, 400.0), (100.0 + 200 * math.cos(rad), 400.0 + 200 * math.sin(rad)))
    return upper, lower


def measurement(
    sop: str,
    angle: float,
    rater: str,
    number: int,
    *,
    spacing: bool = True,
    template: str = "C2-C7",
) -> CobbMeasurement:
    upper, lower = angle_lines(angle)
    m = CobbMeasurement(
        sop_instance_uid=sop,
        pixel_sha256="",
        template=template,
        upper=upper,
        lower=lower,
        spacing=(0.15, 0.15) if spacing else None,
        spacing_source="PixelSpacing" if spacing else "none",
        rater=rater,
        id=f"00000000-0000-4000-8000-{number:012d}",
        created_utc=f"2026-02-{1 + number // 24:02d}T{number % 24:02d}:00:00.000000+00:00",
    )
    if round(m.angle, 4) != round(angle, 4):  # the sign convention decides the rotation
        upper, lower = angle_lines(-angle)
        m = CobbMeasurement(**{**m.__dict__, "upper": upper, "lower": lower})
    assert round(m.angle, 4) == round(angle, 4)
    return m


@dataclass(frozen=True)
class FixturePatient:
    study_id: str
    name: str
    mrn: str
    birth_date: str
    sex: str
    cervical: tuple[float, float | None]  # rater A admission, month 3 (None: no visit)
    lumbar: tuple[float, float | None]
    vas: tuple[float, float]
    neutrophil: tuple[float, float]
    lymphocyte: tuple[float, float]
    crp: tuple[float, float]


PATIENTS = (
    FixturePatient("P001", "Alice Example", "MRN1001", "1970-03-15", "F",
                   (-12.5, -8.25), (45.0, 41.5), (7, 3), (6.2, 4.1), (1.8, 2.0), (12.0, 4.0)),
    FixturePatient("P002", "Bob Sample", "MRN1002", "1930-01-01", "M",
                   (10.0, 14.0), (50.5, 52.5), (8, 5), (7.1, 5.0), (1.5, 1.9), (25.0, 9.0)),
    FixturePatient("P003", "Carol Tester", "MRN1003", "1985-11-30", "F",
                   (5.0, None), (38.0, None), (6, 6), (5.0, 5.0), (2.2, 2.2), (8.0, 8.0)),
    FixturePatient('=HYPERLINK("http://x","y")', "Dan Dummy", "MRN1004", "1962-07-04", "M",
                   (20.0, 20.0), (60.0, 55.0), (9, 4), (8.4, 6.0), (1.2, 1.6), (40.0, 15.0)),
    FixturePatient("+1", "Eve Fictional", "MRN1005", "1990-02-28", "F",
                   (15.5, 19.5), (42.0, 47.0), (5, 2), (4.8, 4.0), (2.5, 2.6), (5.0, 2.0)),
    FixturePatient("-2", "Frank Madeup", "MRN1006", "1955-05-05", "O",
                   (-3.0, 2.0), (35.0, 36.0), (6, 1), (5.5, 3.9), (2.0, 2.4), (9.0, 3.0)),
    FixturePatient("P007", "Grace Invented", "MRN1007", "1948-09-09", "F",
                   (8.0, 7.0), (48.0, 44.5), (4, 4), (6.0, 5.1), (1.9, 2.1), (11.0, 7.0)),
    FixturePatient("P008", "Hank Pretend", "MRN1008", "1978-12-12", "M",
                   (22.0, 25.0), (55.0, 53.0), (8, 2), (9.0, 4.4), (1.1, 2.2), (30.0, 6.0)),
)  # fmt: skip
RATER_B_OFFSET = {"admission": 1.0, "month3": -0.5}
"""Rater B measures every film of P001, P002, P007, P008 with this offset from rater A."""
RATER_B_PATIENTS = ("P001", "P002", "P007", "P008")
TEMPLATES = {"cervical": "C2-C7", "lumbar": "L1-S1"}
"""Each film region's measurement template (a C2–C7 on a lumbar film is not exported)."""
REPEATED_OLD_ANGLE = -30.0
"""Rater A measured P001's admission cervical film first at this angle, then re-measured."""


def build_fixture_study(path: Path) -> Path:
    """Write the fixture study to ``path`` and return it."""
    study = Study.create(path, actor="tester")
    counter = iter(range(1, 1000))
    try:
        for index, p in enumerate(PATIENTS):
            pid = study.add_patient(
                p.study_id, dicom_patient_id=f"DCM{index:03d}", name=p.name, mrn=p.mrn,
                birth_date=p.birth_date, sex=p.sex, dose_mg_kg_day=0.5 + index / 4,
                duration_months=12 + index,
            )  # fmt: skip
            _add_visits(study, pid, index, p, counter)
    finally:
        study.close()
    return path


def _add_visits(study: Study, pid: int, index: int, p: FixturePatient, counter: object) -> None:
    dates = {"admission": f"2026-01-{5 + index:02d}", "month3": f"2026-04-{6 + 2 * index:02d}"}
    for slot, event in enumerate(("admission", "month3")):
        if p.cervical[slot] is None:
            continue
        vid = study.add_visit(pid, event, visit_date=dates[event])
        for region in ("cervical", "lumbar"):
            angle = getattr(p, region)[slot]
            sop = f"1.2.826.0.1.{index}.{slot}.{region == 'lumbar'}"
            fid = study.add_film(vid, sop_instance_uid=sop, path=f"/films/{sop}.dcm",
                                 region=region)  # fmt: skip
            calibrated = not (region == "lumbar" and index % 3 == 0)
            template = TEMPLATES[region]
            if p.study_id == "P001" and event == "admission" and region == "cervical":
                old = measurement(sop, REPEATED_OLD_ANGLE, "A", next(counter))  # type: ignore[call-overload]
                study.save_measurement(fid, old)
            study.save_measurement(
                fid,
                measurement(sop, angle, "A", next(counter), spacing=calibrated, template=template),  # type: ignore[call-overload]
            )
            if p.study_id in RATER_B_PATIENTS:
                b_angle = angle + RATER_B_OFFSET[event] + (0.25 if region == "lumbar" else 0.0)
                b = measurement(sop, b_angle, "B", next(counter), template=template)  # type: ignore[call-overload]
                study.save_measurement(fid, b)
        study.set_labs(vid, {
            "vas": p.vas[slot], "neutrophil": p.neutrophil[slot],
            "lymphocyte": p.lymphocyte[slot], "crp": p.crp[slot],
            "esr": 10 + index + slot, "cpk": 100 + 10 * index, "creatinine": 0.8,
            "alt": 20 + index, "ast": 25 + slot,
            "ana": "positive" if index % 2 else "negative", "rf": "negative",
        })  # fmt: skip


@pytest.fixture(scope="session")
def fixture_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixed study (built once; tests that write audit rows use ``fresh_study``)."""
    return build_fixture_study(tmp_path_factory.mktemp("fixture") / "fixture.cobbdesk")


@pytest.fixture
def fresh_study(tmp_path: Path) -> Path:
    return build_fixture_study(tmp_path / "fixture.cobbdesk")
