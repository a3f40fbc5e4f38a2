"""A small study for plan tests: patients with admission and month-3 films, readings made
with exact angles."""

from __future__ import annotations

import math
from pathlib import Path

from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study

# R 4.2.2, psych 2.2.9: ICC(cbind(a1, b1), lmer = FALSE) and the same for (a1, a2), (b1, b2);
# the Shrout–Fleiss / McGraw–Wong mean squares computed by hand in R gave the same ICC(A,1)
# and ICC(A,k) to 12 decimals (see the test module's docstring for the script).
A1 = (12.0, 18.5, 25.0, 9.5, 31.0, 22.0, 15.5, 27.0)
B1 = (14.0, 17.0, 28.5, 11.0, 29.5, 25.0, 13.0, 30.5)
A2 = (13.5, 19.0, 24.0, 8.0, 32.5, 21.0, 17.0, 26.0)
B2 = (12.5, 18.0, 27.0, 12.5, 31.0, 23.5, 14.5, 29.0)


def make_study(path: Path, patients: int = 4, regions: tuple[str, ...] = ("cervical",)) -> Study:
    """``patients`` patients, each with an admission and a month-3 visit holding one film per
    region (film ids in creation order: patient, visit, region)."""
    study = Study.create(path, actor="tester")
    for p in range(patients):
        pid = study.add_patient(
            f"P{p + 1:03d}", name=f"Doe^Jane{p}", mrn=f"MRN{p:05d}", birth_date="1960-02-03"
        )
        for v, (kind, day) in enumerate((("admission", "2026-01-05"), ("month3", "2026-04-06"))):
            vid = study.add_visit(pid, kind, visit_date=day)
            for r, region in enumerate(regions):
                study.add_film(
                    vid,
                    sop_instance_uid=f"1.2.826.0.1.{p + 1}.{v + 1}.{r + 1}",
                    path=f"/films/{p}_{kind}_{region}.dcm",
                    region=region,
                    study_date=day,
                    pixel_rows=400,
                    pixel_columns=300,
                )
    return study


def reading(angle: float, rater: str, sop: str, template: str = "C2-C7") -> CobbMeasurement:
    """A measurement whose Cobb angle is ``angle`` (to ~1e-14°)."""
    t = math.radians(angle)
    return CobbMeasurement(
        sop_instance_uid=sop,
        pixel_sha256="",
        template=Template(template),
        upper=EndplateLine((200.0, 100.0), (100.0, 100.0)),
        lower=EndplateLine((100 + 100 * math.cos(t), 300 + 100 * math.sin(t)), (100.0, 300.0)),
        rater=rater,
    )
