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
    """Which visit of a patient: admission, the 3-month follow-up, or another one."""

    ADMISSION = "admission"
    MONTH3 = "month3"
    OTHER = "other"


class Region(StrEnum):
    """The spine region a film shows (``"cervical"``, ``"lumbar"`` or ``"unknown"``)."""

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
    """One patient of a study.

    ``id`` is the database id, ``study_id`` the CobbDesk study ID (e.g. ``P0001``);
    ``dicom_patient_id``, ``name``, ``mrn`` and ``birth_date`` (``YYYY-MM-DD``) are
    identifiers, never to be logged.
    ``dose_mg_kg_day`` is in mg/kg/day and ``duration_months`` in months (None: not entered).
    """

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
    """One visit of a patient (``patient_id``); ``visit_date`` is ``YYYY-MM-DD`` or None."""

    id: int
    patient_id: int
    kind: VisitKind
    label: str = ""
    visit_date: str | None = None


class FilmRecord(NamedTuple):
    """One imported film of a visit (``visit_id``), as stored.

    ``pixel_sha256`` is the SHA-256 (64 hex digits) of the decoded pixels (None: not known);
    ``path`` is where the file was imported from; ``view`` is DICOM View Position (at most 16
    characters, "" when absent); ``study_date`` is ``YYYY-MM-DD``; ``pixel_rows`` and
    ``pixel_columns`` give the image size in pixels (None: not known).
    """

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
    pixel_aspect_row: float | None = None
    """Pixel Aspect Ratio (0028,0034) recorded at import, vertical value (None: square or
    absent — PS3.3 C.7.6.3.1.7 — or a film with a pixel spacing, whose ratio decides)."""
    pixel_aspect_col: float | None = None
    """Pixel Aspect Ratio (0028,0034) recorded at import, horizontal value."""

    @property
    def pixel_aspect(self) -> tuple[float, float] | None:
        """The recorded ``(vertical, horizontal)`` Pixel Aspect Ratio, None when square or
        not recorded (both mean 1:1, PS3.3 C.7.6.3.1.7)."""
        row, col = self.pixel_aspect_row, self.pixel_aspect_col
        return (float(row), float(col)) if row and col else None


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
        """What the visit still lacks, as short phrases for the study browser.

        ``"cervical film"`` / ``"lumbar film"`` for a region without a film,
        ``"<region> measurement"`` for a region whose films have no matching measurement,
        ``"labs"`` when there are none; an empty list when complete.
        """
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
    """A patient with the overview of each of their visits, for the study browser."""

    patient: Patient
    visits: list[VisitOverview] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True with an admission and a 3-month visit, and no visit lacking anything."""
        kinds = {v.visit.kind for v in self.visits}
        has_both = {VisitKind.ADMISSION, VisitKind.MONTH3} <= kinds
        return has_both and not any(v.missing() for v in self.visits)
