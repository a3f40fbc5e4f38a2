"""Plain records the store returns (immutable; no database handles inside).

Rows that come in bulk (patients, visits, films) are NamedTuples: a 10,000-patient study
creates ~70,000 of them for its overview, and tuples are built several times faster than
frozen dataclasses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple

from cobbdesk.core.errors import ValidationError


class VisitKind(StrEnum):
    ADMISSION = "admission"
    MONTH3 = "month3"
    OTHER = "other"


class Region(StrEnum):
    CERVICAL = "cervical"
    LUMBAR = "lumbar"
    UNKNOWN = "unknown"


_TEMPLATE_REGIONS = {"C2-C7": Region.CERVICAL, "L1-S1": Region.LUMBAR}


def template_region(template: str) -> Region:
    """The film region a measurement template belongs to; ``UNKNOWN`` for ``FREE``.

    A measurement counts as its film's region angle only when this equals the film's region
    (C2–C7 on a cervical film, L1–S1 on a lumbar film); anything else is a region mismatch.

    >>> template_region("C2-C7"), template_region("FREE")
    (<Region.CERVICAL: 'cervical'>, <Region.UNKNOWN: 'unknown'>)
    """
    return _TEMPLATE_REGIONS.get(str(template), Region.UNKNOWN)


def iso_date(value: Any, name: str) -> str | None:
    """``YYYY-MM-DD`` from an ISO date, a DICOM ``YYYYMMDD`` date, a ``date`` or None."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValidationError(
            None, f"{name} {value!r} is not a date (expected YYYY-MM-DD)"
        ) from None


class Patient(NamedTuple):
    id: int
    study_id: str
    dicom_patient_id: str | None = None
    name: str | None = None
    mrn: str | None = None
    birth_date: str | None = None
    sex: str | None = None
    dose_mg_kg_day: float | None = None
    duration_months: float | None = None


class Visit(NamedTuple):
    id: int
    patient_id: int
    kind: VisitKind
    label: str = ""
    visit_date: str | None = None


class FilmRecord(NamedTuple):
    id: int
    visit_id: int
    sop_instance_uid: str
    pixel_sha256: str | None
    path: str
    region: Region
    view: str = ""
    study_date: str | None = None
    pixel_rows: int | None = None
    pixel_columns: int | None = None
    facing: str | None = None
    """``"left"`` or ``"right"``: the side of the image the patient's anterior points to."""
    facing_source: str | None = None
    """``"user"``, ``"dicom"`` (Patient Orientation) or ``"estimate"``; None when unknown."""


@dataclass
class VisitOverview:
    """What one visit has, for the study browser's completeness view."""

    visit: Visit
    films: dict[Region, list[FilmRecord]] = field(default_factory=dict)
    measured: dict[int, int] = field(default_factory=dict)
    """Film id → measurements whose template matches the film's region (C2–C7 on cervical,
    L1–S1 on lumbar; FREE on a region-unknown film)."""
    labs: int = 0
    mismatched: dict[int, int] = field(default_factory=dict)
    """Film id → measurements whose template does not match the film's region (e.g. C2–C7
    on a lumbar or region-unknown film); only films with at least one are listed.  They are
    not counted in ``measured`` and the export leaves them out of the region columns."""

    def missing(self) -> list[str]:
        gaps = [
            f"{r.value} film" for r in (Region.CERVICAL, Region.LUMBAR) if not self.films.get(r)
        ]
        unmeasured = [
            r.value
            for r, fs in self.films.items()
            if r is not Region.UNKNOWN and fs and not any(self.measured.get(f.id) for f in fs)
        ]
        gaps += [f"{region} measurement" for region in unmeasured]
        if self.labs == 0:
            gaps.append("labs")
        return gaps


@dataclass
class PatientOverview:
    patient: Patient
    visits: list[VisitOverview] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        kinds = {v.visit.kind for v in self.visits}
        has_both = {VisitKind.ADMISSION, VisitKind.MONTH3} <= kinds
        return has_both and not any(v.missing() for v in self.visits)
