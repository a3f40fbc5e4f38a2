"""Importing DICOM films into a study: scan headers, link to patients, file under visits.

Rules (:func:`import_paths`):

* Only headers are read (:func:`~cobbdesk.core.importing.scan.scan_headers`); pixels are checked
  and hashed when a film is first opened, so ``pixel_sha256`` is stored as None here.  A raw
  hash of the Pixel Data bytes was measured (``benchmarks/bench_import.py``) and not adopted:
  it reads whole files (tens of MB each for real films) and would still miss the same image
  re-encoded by a PACS, which only the decoded-pixel hash catches.
* Duplicates are found by SOP Instance UID: a film already in the study (deleted ones
  included), or seen earlier in the same import, is skipped and reported with the film it
  duplicates.
* Films are linked to patients by DICOM Patient ID (0010,0020).  A new patient gets the next
  study-ID pseudonym (``P0001``…) and the header's name (the decoded PN value with all its
  component groups), birth date and sex as optional identifiers; an existing patient is
  never changed.  A film without Patient ID is an error.
* Visits come from :func:`assign_visits` applied, per patient, to the study dates of the new
  films together with the dates of the patient's existing visits.  Existing visits win: a
  film dated like an existing visit joins it; an existing *undated* visit of the chosen kind
  (e.g. made by a labs import) gets the date; when the chosen admission/month-3 visit already
  exists with another date, the film goes to an "other" visit labelled with its date and a
  warning is reported.  Films without a valid Study Date go to the "other" visit ``undated``.
  The user confirms or corrects the assignment in the study browser.
* Everything found is written in one transaction (:func:`~cobbdesk.core.store.bulk.
  add_films_bulk`); cancelling during the scan writes nothing.
* Reports name patients by study ID only (never name, birth date or DICOM Patient ID).
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError

from cobbdesk.core.dicom.person_name import normalise_person_name
from cobbdesk.core.errors import StoreError, ValidationError
from cobbdesk.core.importing.photos import PhotoTarget, take_photos
from cobbdesk.core.importing.report import DuplicateFilm, ImportedFilm, ImportReport
from cobbdesk.core.importing.scan import (
    Cancel,
    HeaderInfo,
    Progress,
    ScanIssue,
    ScanResult,
    scan_headers,
)
from cobbdesk.core.measure.facing import FacingSource, facing_from_orientation
from cobbdesk.core.store.bulk import (
    FilmItem,
    add_films_bulk,
    films_by_sop,
    patients_with_visits,
)
from cobbdesk.core.store.records import Region, Visit, VisitKind, iso_date
from cobbdesk.core.store.study import Study

#: Month-3 window after admission, in days, and the ideal interval (13 weeks).
MONTH3_WINDOW = (60, 120)
MONTH3_TARGET = 91
UNDATED = "undated"

_CERVICAL = re.compile(r"\bC(?:T)?[ _-]?SPINE\b|\bNECK\b|CERVIC|\bHWS\b|\bC[ _-]?SP\b")
_LUMBAR = re.compile(
    r"\bL(?:S)?[ _-]?SPINE\b|\bL[ _-]S[ _-]?SPINE\b|LUMB[AO]|\bLS\b|\bLWS\b|\bL[ _-]?SP\b|LENDEN"
)
_NEITHER = re.compile(r"THORACOLUMB|\bTL[ _-]?SPINE\b|WHOLE[ _-]?SPINE")


def guess_region(
    body_part: str, series_description: str = "", view: str = "", study_description: str = ""
) -> Region:
    """Cervical or lumbar from the header's words, else unknown.

    Body Part Examined decides when it names a region, then the Series Description, then the
    Study Description, then the view.  Cervical: CSPINE, C-SPINE, C SPINE, CTSPINE, NECK,
    "cervical" (any language that says cervic…), HWS.  Lumbar: LSPINE, L-SPINE, LSSPINE,
    L-S SPINE, LUMBAR, lumbosacral, LS, LWS, "Lenden…".  Text naming both, or
    thoraco-lumbar/whole-spine films: unknown.

    >>> guess_region("C-SPINE"), guess_region("", "Lat lumbar spine"), guess_region("CHEST")
    (<Region.CERVICAL: 'cervical'>, <Region.LUMBAR: 'lumbar'>, <Region.UNKNOWN: 'unknown'>)
    """
    for text in (body_part, series_description, study_description, view):
        words = (text or "").upper()
        if not words.strip() or _NEITHER.search(words):
            continue
        cervical, lumbar = bool(_CERVICAL.search(words)), bool(_LUMBAR.search(words))
        if cervical != lumbar:
            return Region.CERVICAL if cervical else Region.LUMBAR
    return Region.UNKNOWN


def assign_visits(study_dates: Iterable[date]) -> dict[date, VisitKind]:
    """Visit kind of each study date of ONE patient.

    The earliest date is the admission; of the dates 60–120 days after it, the one closest to
    91 days (the earlier on a tie) is month 3; every other date is "other" (labelled by date).

    >>> kinds = assign_visits([date(2026, 1, 5), date(2026, 4, 1), date(2026, 4, 20)])
    >>> [k.value for k in kinds.values()]
    ['admission', 'month3', 'other']
    """
    days = sorted(set(study_dates))
    if not days:
        return {}
    first = days[0]
    kinds = dict.fromkeys(days, VisitKind.OTHER)
    kinds[first] = VisitKind.ADMISSION
    low, high = MONTH3_WINDOW
    window = [d for d in days[1:] if low <= (d - first).days <= high]
    if window:
        best = min(window, key=lambda d: (abs((d - first).days - MONTH3_TARGET), d))
        kinds[best] = VisitKind.MONTH3
    return kinds


def import_paths(
    study: Study,
    paths: Iterable[str | os.PathLike[str]],
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    photos: PhotoTarget | None = None,
) -> ImportReport:
    """Import the films under ``paths`` into ``study`` (see the module rules).

    JPEG/PNG/TIFF photos and scans of films found among them are imported for the patient,
    visit and region of ``photos``, or skipped with a hint when it is None
    (:mod:`~cobbdesk.core.importing.photos`).
    """
    scan = scan_headers(paths, progress=progress, cancel=cancel)
    report = ImportReport(errors=list(scan.errors), skipped=list(scan.skipped), files=scan.total)
    if scan.cancelled:
        report.cancelled = True
        return report
    take_photos(study, report, photos)
    for attempt in range(_ATTEMPTS):
        planned = copy.deepcopy(report)
        items = _plan(study, _new_films(study, scan, planned), planned)
        if not items:
            return planned
        try:
            result = add_films_bulk(study, [item for item, _ in items])
        except IntegrityError:
            # another program imported some of these films (or took a study ID) between our
            # plan and our write: nothing of ours was written; plan again from what is stored
            if attempt + 1 == _ATTEMPTS:
                raise StoreError(study.path, CONCURRENT) from None
            continue
        return _reported(planned, items, result)
    raise AssertionError("unreachable")  # pragma: no cover


_ATTEMPTS = 5
CONCURRENT = (
    "other programs kept importing the same films or patients at the same time; nothing of "
    "this import was written — run it again"
)


def _reported(report: ImportReport, items: list[Any], result: Any) -> ImportReport:
    """``report`` completed with what :func:`add_films_bulk` wrote."""
    for i, (item, header) in enumerate(items):
        visit = item.kind.value if item.kind is not VisitKind.OTHER else f"other {item.label}"
        report.imported.append(
            ImportedFilm(
                path=str(header.path),
                sop_instance_uid=header.sop_instance_uid,
                film_id=result.film_ids[i],
                study_id=result.study_ids[result.patient_ids[i]],
                visit=visit,
                region=str(item.film["region"]),
            )
        )
    report.new_patients += [result.study_ids[pid] for pid in result.new_patients]
    report.new_visits += [_describe(result.study_ids, v) for v in result.new_visits]
    report.new_visits += [_describe(result.study_ids, v, "dated") for v in result.dated_visits]
    return report


def _describe(study_ids: dict[int, str], visit: Visit, note: str = "") -> str:
    label = f" {visit.label}" if visit.label else ""
    day = f" {visit.visit_date}" if visit.visit_date and visit.visit_date != visit.label else ""
    text = f"{study_ids[visit.patient_id]} {visit.kind.value}{label}{day}"
    return f"{text.strip()} ({note})" if note else text.strip()


def _new_films(study: Study, scan: ScanResult, report: ImportReport) -> list[HeaderInfo]:
    """Headers that are neither duplicates nor lacking a Patient ID."""
    existing = films_by_sop(study, (h.sop_instance_uid for h in scan.headers))
    first_seen: dict[str, HeaderInfo] = {}
    fresh: list[HeaderInfo] = []
    for header in scan.headers:
        sop = header.sop_instance_uid
        if sop in existing:
            film = existing[sop]
            report.duplicates.append(
                DuplicateFilm(str(header.path), sop, f"film {film.id} ({film.path})")
            )
        elif sop in first_seen:
            earlier = f"{first_seen[sop].path} (earlier in this import)"
            report.duplicates.append(DuplicateFilm(str(header.path), sop, earlier))
        elif not header.patient_id:
            report.errors.append(
                ScanIssue(header.path, "Patient ID (0010,0020) is empty; cannot link to a patient")
            )
        else:
            first_seen[sop] = header
            fresh.append(header)
    return fresh


def _study_day(header: HeaderInfo, report: ImportReport) -> date | None:
    try:
        text = iso_date(header.study_date, "Study Date (0008,0020)")
    except ValidationError as exc:
        report.warnings.append(f"{header.path.name}: {exc.problem}; filed as {UNDATED}")
        return None
    return date.fromisoformat(text) if text else None


def _plan(
    study: Study, headers: Sequence[HeaderInfo], report: ImportReport
) -> list[tuple[FilmItem, HeaderInfo]]:
    """One :class:`FilmItem` per header, visits assigned per patient."""
    by_patient: dict[str, list[tuple[HeaderInfo, date | None]]] = defaultdict(list)
    for header in headers:
        by_patient[header.patient_id].append((header, _study_day(header, report)))
    items: list[tuple[FilmItem, HeaderInfo]] = []
    known = patients_with_visits(study, by_patient)
    for patient_key, films in by_patient.items():
        pid, existing = known.get(patient_key, (None, []))
        targets = _targets(existing, {d for _, d in films if d is not None}, report, pid, study)
        for header, day in films:
            kind, label = targets.get(day, (VisitKind.OTHER, UNDATED))
            film_date = day.isoformat() if day else None
            items.append((FilmItem(patient_key, kind, label, film_date, _film(header),
                                   _identifiers(header)), header))  # fmt: skip
    return items


def _targets(
    existing: list[Visit], days: set[date], report: ImportReport, pid: int | None, study: Study
) -> dict[date | None, tuple[VisitKind, str]]:
    """(kind, label) of the visit each new date goes to (see the module rules)."""
    dated = {date.fromisoformat(v.visit_date): v for v in existing if v.visit_date}
    named = {v.kind: v for v in existing if v.label == "" and v.kind is not VisitKind.OTHER}
    kinds = assign_visits(days | set(dated))
    targets: dict[date | None, tuple[VisitKind, str]] = {}
    for day in sorted(days):
        kind = kinds[day]
        if day in dated:
            targets[day] = (dated[day].kind, dated[day].label)
        elif kind is VisitKind.OTHER:
            targets[day] = (kind, day.isoformat())
        elif kind in named and named[kind].visit_date is not None:
            targets[day] = (VisitKind.OTHER, day.isoformat())
            who = _who(study, pid)
            report.warnings.append(
                f"{who}: films of {day} fit the {kind.value} visit, which already exists dated "
                f"{named[kind].visit_date}; filed under 'other {day}'. Check the visits."
            )
        else:
            targets[day] = (kind, "")
    return targets


def _who(study: Study, pid: int | None) -> str:
    if pid is None:
        return "a new patient"
    return next((p.study_id for p in study.patients() if p.id == pid), f"patient {pid}")


def _film(header: HeaderInfo) -> dict[str, Any]:
    region = guess_region(
        header.body_part, header.series_description, header.view_position,
        header.study_description,
    )  # fmt: skip
    try:
        study_date = iso_date(header.study_date, "study date")
    except ValidationError:
        study_date = None
    return {
        "sop_instance_uid": header.sop_instance_uid,
        "path": str(header.path),
        "region": region.value,
        "view": header.view_position[:16],
        "study_date": study_date,
        "pixel_sha256": None,
        "pixel_rows": header.rows,
        "pixel_columns": header.columns,
        **_facing_and_aspect(header),
    }


def _facing_and_aspect(header: HeaderInfo) -> dict[str, Any]:
    """The facing read from Patient Orientation (source ``"dicom"``) and the pixel aspect."""
    found: dict[str, Any] = {}
    facing = facing_from_orientation(header.patient_orientation)
    if facing is not None:
        found.update(facing=facing.value, facing_source=FacingSource.DICOM.value)
    if header.pixel_aspect is not None:
        found.update(
            pixel_aspect_row=header.pixel_aspect[0], pixel_aspect_col=header.pixel_aspect[1]
        )
    return found


def _identifiers(header: HeaderInfo) -> dict[str, Any]:
    """Name, birth date and sex for a new patient; unusable values are left out.

    The name is the decoded PN value, every component group kept (``Yamada^Tarou=山田^太郎``;
    :func:`~cobbdesk.core.dicom.person_name.name_groups` splits it), normalised.
    """
    found: dict[str, Any] = {}
    name = normalise_person_name(header.patient_name)
    if name:
        found["name"] = name
    with contextlib.suppress(ValidationError):  # an invalid birth date is left out
        found["birth_date"] = iso_date(header.birth_date, "birth date")
    sex = header.sex.strip().upper()[:1]
    if sex in ("F", "M", "O"):
        found["sex"] = sex
    return found
