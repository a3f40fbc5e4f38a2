"""The demo study: 12 synthetic patients, each with an admission and a month-3 visit.

Each visit has a lateral cervical and a lateral lumbar film (some MONOCHROME1, some
JPEG-lossless, one uncalibrated), lab values, and — for patients 1–8 — measurements by rater
``dr_a`` (patients 1–5 also by ``dr_b``, so reliability has something to show); patients 9–12
are left unmeasured for the user to try.  Angles and labs follow the model study's figures
(cervical 9.96±6.82° → 14.91±4.84°, lumbar 35.89±5.20° → 39.05±4.30°, VAS rising with N/L).

Everything is derived from ``seed``: the same call writes the same films and study contents
(only audit timestamps differ).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.audit import Actor
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine

PATIENTS = 12
MEASURED_BY_A, MEASURED_BY_B = 8, 5
FIRST_ADMISSION = date(2026, 1, 5)
STUDY_NAME = "demo.cobbdesk"
_SHAPE = {"cervical": ((1100, 900), (0.25, 0.25)), "lumbar": ((1300, 1050), (0.3, 0.3))}
# (admission mean, SD, month-3 mean, SD) of the model study
_ANGLES: dict[Literal["cervical", "lumbar"], tuple[float, float, float, float]] = {
    "cervical": (9.96, 6.82, 14.91, 4.84),
    "lumbar": (35.89, 5.20, 39.05, 4.30),
}
_UUID_NAMESPACE = uuid.UUID("6f1c1f63-3f2e-4f57-9c39-2a5f1bd0c0de")


@dataclass(frozen=True)
class DemoFilmSpec:
    patient: int  # 1-based
    visit: Literal["admission", "month3"]
    region: Literal["cervical", "lumbar"]
    lordosis: float
    photometric: Literal["MONOCHROME1", "MONOCHROME2"]
    transfer_syntax: Literal["explicit", "jpeg-lossless"]
    spacing_tag: Literal["PixelSpacing"] | None
    seed: int


def film_specs(seed: int = 2026) -> list[DemoFilmSpec]:
    """What each demo film shows (angles drawn from the model study's distributions)."""
    rng = np.random.default_rng(seed)
    specs: list[DemoFilmSpec] = []
    for patient in range(1, PATIENTS + 1):
        for region, (m0, s0, m3, s3) in _ANGLES.items():
            before = float(np.clip(rng.normal(m0, s0), -15, 60))
            paired = (
                m3 + 0.8 * (before - m0) * s3 / s0
            )  # month 3 follows admission, as in the study
            after = float(np.clip(paired + rng.normal(0, 0.6 * s3), -15, 60))
            visits: tuple[tuple[Literal["admission", "month3"], float], ...] = (
                ("admission", before),
                ("month3", after),
            )
            for visit, angle in visits:
                index = len(specs)
                specs.append(
                    DemoFilmSpec(
                        patient,
                        visit,
                        region,
                        round(angle, 1),
                        "MONOCHROME1" if index % 3 == 1 else "MONOCHROME2",
                        "jpeg-lossless" if index % 2 == 1 else "explicit",
                        None
                        if (patient, visit, region) == (7, "month3", "lumbar")
                        else "PixelSpacing",
                        seed * 1000 + index,
                    )
                )
    return specs


def _visit_dates(patient: int) -> dict[str, date]:
    admission = FIRST_ADMISSION + timedelta(days=3 * (patient - 1))
    return {"admission": admission, "month3": admission + timedelta(days=88 + patient % 6)}


def _labs(rng: np.random.Generator, visit: str) -> dict[str, object]:
    neutrophil = float(np.round(rng.uniform(2.5, 9.0) - (0.8 if visit == "month3" else 0), 1))
    lymphocyte = float(np.round(rng.uniform(1.2, 3.2), 1))
    ratio = neutrophil / lymphocyte
    vas = float(np.clip(np.round(1.2 * ratio + rng.normal(0, 1.2)), 0, 10))
    return {
        "vas": vas,
        "neutrophil": neutrophil,
        "lymphocyte": lymphocyte,
        "cpk": float(np.round(rng.uniform(40, 400))),
        "creatinine": float(np.round(rng.uniform(0.6, 1.2), 2)),
        "crp": float(np.round(rng.uniform(0.5, 30), 1)),
        "esr": float(np.round(rng.uniform(5, 60))),
        "alt": float(np.round(rng.uniform(10, 60))),
        "ast": float(np.round(rng.uniform(10, 50))),
        "ana": "positive" if rng.random() < 0.2 else "negative",
        "rf": "positive" if rng.random() < 0.15 else "negative",
    }


def _measurement(
    spine: SyntheticSpine,
    *,
    film_uid: str,
    sha: str,
    rater: str,
    rng: np.random.Generator,
    when: str,
    spacing_source: SpacingSource,
) -> CobbMeasurement:
    upper, lower = spine.template_endplates
    noise = rng.normal(0, 0.8, (2, 2, 2))  # click scatter of a careful rater, in pixels
    jitter = [
        [(p[0] + n[0], p[1] + n[1]) for p, n in zip(line, ns, strict=True)]
        for line, ns in zip((upper, lower), noise, strict=True)
    ]
    return CobbMeasurement(
        id=str(uuid.uuid5(_UUID_NAMESPACE, f"{film_uid}/{rater}")),
        sop_instance_uid=film_uid,
        pixel_sha256=sha,
        template=Template(spine.template),
        upper=EndplateLine(*jitter[0]),
        lower=EndplateLine(*jitter[1]),
        spacing=spine.spacing_mm if spacing_source is not SpacingSource.NONE else None,
        spacing_source=spacing_source,
        rater=rater,
        created_utc=when,
        updated_utc=when,
    )


def spine_for(spec: DemoFilmSpec) -> SyntheticSpine:
    """The synthetic spine of a demo film (deterministic: its true endplates included)."""
    shape, spacing = _SHAPE[spec.region]
    return make_lateral_spine(
        spec.region,
        spec.lordosis,
        rows=shape[0],
        columns=shape[1],
        spacing_mm=spacing,
        facing="left" if spec.patient % 2 else "right",
        seed=spec.seed,
    )


def _write_film(spec: DemoFilmSpec, folder: Path, when: date) -> tuple[SyntheticSpine, Path]:
    spine = spine_for(spec)
    name = f"P{spec.patient:02d}_{spec.visit}_{spec.region}.dcm"
    path = write_dicom(
        spine,
        folder / name,
        photometric=spec.photometric,
        transfer_syntax=spec.transfer_syntax,
        spacing_tag=spec.spacing_tag,
        patient_id=f"DEMO-{spec.patient:03d}",
        patient_name=f"Demo^Patient{spec.patient:02d}",
        study_date=when.strftime("%Y%m%d"),
        series_description=f"Lateral {spec.region} spine ({spec.visit}, synthetic)",
    )
    return spine, path


def _add_patient(study: Study, patient: int, rng: np.random.Generator) -> int:
    return study.add_patient(
        f"P{patient:04d}",
        dicom_patient_id=f"DEMO-{patient:03d}",
        name=f"Demo^Patient{patient:02d}",
        sex="F" if patient % 3 else "M",
        birth_date=date(1950 + 3 * patient, 1 + patient % 12, 10).isoformat(),
        dose_mg_kg_day=float(np.round(rng.uniform(0.2, 1.0), 2)),
        duration_months=float(rng.integers(6, 60)),
    )


class _Builder:
    """Adds demo films one by one, creating patients, visits and labs on first use."""

    def __init__(self, study: Study, films_dir: Path, rng: np.random.Generator) -> None:
        self.study, self.films_dir, self.rng = study, films_dir, rng
        self.patients: dict[int, int] = {}
        self.visits: dict[tuple[int, str], int] = {}

    def visit_id(self, spec: DemoFilmSpec) -> int:
        if spec.patient not in self.patients:
            self.patients[spec.patient] = _add_patient(self.study, spec.patient, self.rng)
        key = (spec.patient, spec.visit)
        if key not in self.visits:
            day = _visit_dates(spec.patient)[spec.visit]
            self.visits[key] = self.study.add_visit(
                self.patients[spec.patient], spec.visit, visit_date=day
            )
            self.study.set_labs(self.visits[key], _labs(self.rng, spec.visit))
        return self.visits[key]

    def add(self, spec: DemoFilmSpec) -> None:
        from cobbdesk.core.dicom.reader import read_film

        visit = self.visit_id(spec)
        day = _visit_dates(spec.patient)[spec.visit]
        spine, path = _write_film(spec, self.films_dir, day)
        film = read_film(path)
        film_id = self.study.add_film(
            visit,
            sop_instance_uid=film.sop_instance_uid,
            path=path,
            region=spec.region,
            pixel_sha256=film.pixel_sha256,
            view="LL",
            study_date=film.study_date,
            pixel_rows=film.rows,
            pixel_columns=film.columns,
            facing=spine.facing,  # as an import stores it: from Patient Orientation (0020,0020)
            facing_source="dicom",
        )
        when = f"{day + timedelta(days=1)}T10:00:00.000000+00:00"
        for rater, limit in (("dr_a", MEASURED_BY_A), ("dr_b", MEASURED_BY_B)):
            if spec.patient <= limit:
                m = _measurement(
                    spine,
                    film_uid=film.sop_instance_uid,
                    sha=film.pixel_sha256,
                    rater=rater,
                    rng=self.rng,
                    when=when,
                    spacing_source=film.spacing_source,
                )
                self.study.set_rater(rater)
                self.study.save_measurement(film_id, m)
        self.study.set_rater("dr_a")


def write_demo_study(
    folder: str | Path,
    *,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Path:
    """Write the demo films under ``folder/films`` and the study ``folder/demo.cobbdesk``.

    ``progress(done, total)`` is called after each film; when ``cancel()`` turns true the
    writing stops after the current film and :class:`InterruptedError` is raised (the
    folder then holds a partial study, for the caller to remove).
    """
    target = Path(folder).resolve()  # films are stored with absolute paths (any cwd opens them)
    films_dir = target / "films"
    films_dir.mkdir(parents=True, exist_ok=True)
    study = Study.create(target / STUDY_NAME, Actor("demo", "dr_a"))
    specs = film_specs(seed)
    try:
        builder = _Builder(study, films_dir, np.random.default_rng(seed + 1))
        for done, spec in enumerate(specs, 1):
            if cancel is not None and cancel():
                raise InterruptedError("demo study generation cancelled")
            builder.add(spec)
            if progress is not None:
                progress(done, len(specs))
    finally:
        study.close()
    return target / STUDY_NAME
