"""Importing photos and scans of films (JPEG, PNG, TIFF), which have no header to read.

:func:`~cobbdesk.core.importing.importer.import_paths` finds them by their magic bytes among
the files the DICOM scan skipped.  Without a :class:`PhotoTarget` they stay skipped, with a
hint saying what to give; with one, each is imported:

* the pixels are decoded and hashed (:func:`~cobbdesk.core.dicom.photo.read_photo`) and the
  film gets the UUID-derived SOP Instance UID of its pixel hash, so the same photo imported
  twice (or as PNG and TIFF) is found as a duplicate;
* the patient is the one whose study ID is ``target.patient``, else whose DICOM Patient ID it
  is; otherwise a new patient (next study-ID pseudonym, ``P0001``…) with that DICOM Patient ID
  — the same rule as a DICOM film's Patient ID, so a hospital ID never becomes a study ID;
* the visit is the patient's ``target.visit`` visit, created (undated) when missing;
* the film is uncalibrated until the user calibrates it (:mod:`cobbdesk.core.store.calibration`).

Every photo is one audited transaction (:meth:`Study.add_film`); a photo that cannot be
decoded is an error of the report and does not stop the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cobbdesk.core.dicom.photo import image_format, read_photo
from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.importing.report import DuplicateFilm, ImportedFilm, ImportReport
from cobbdesk.core.importing.scan import ScanIssue
from cobbdesk.core.store.bulk import films_by_sop
from cobbdesk.core.store.records import Region, VisitKind
from cobbdesk.core.store.study import Study

HINT = (
    "a {fmt} photo/scan of a film: give the patient, visit and region to import it "
    "(cobbdesk import STUDY FILE --patient ID --visit admission|month3 --region cervical|lumbar)"
)


@dataclass(frozen=True)
class PhotoTarget:
    """Where imported photos go: a patient (study ID or DICOM Patient ID), visit and region."""

    patient: str
    visit: VisitKind
    region: Region = Region.UNKNOWN

    def __post_init__(self) -> None:
        if not self.patient.strip():
            raise ValidationError(None, "photos need a patient ID (--patient)")
        object.__setattr__(self, "patient", self.patient.strip())
        object.__setattr__(self, "visit", VisitKind(self.visit))
        object.__setattr__(self, "region", Region(self.region))
        if self.visit is VisitKind.OTHER:
            raise ValidationError(None, "photos go to the admission or month-3 visit")


def take_photos(study: Study, report: ImportReport, target: PhotoTarget | None) -> None:
    """Move the photos among ``report.skipped`` into the study (``target`` given) or give
    them a hint (no target); see the module rules."""
    photos: list[tuple[Path, str]] = []
    kept: list[ScanIssue] = []
    for issue in report.skipped:
        fmt = image_format(issue.path)
        if fmt is None:
            kept.append(issue)
        elif target is None:
            kept.append(ScanIssue(issue.path, HINT.format(fmt=fmt)))
        else:
            photos.append((issue.path, fmt))
    report.skipped = kept
    if target is not None and photos:
        _import(study, report, target, [p for p, _ in photos])


def _patient(study: Study, report: ImportReport, patient: str) -> tuple[int, str]:
    """(patient id, study ID) for ``patient``, created when unknown (module rules)."""
    pid = study.patient_by_study_id(patient)
    if pid is None:
        pid = study.patient_by_dicom_id(patient)
    if pid is None:
        pid = study.add_patient(dicom_patient_id=patient)
        created = next(p.study_id for p in study.patients() if p.id == pid)
        report.new_patients.append(created)
        return pid, created
    return pid, next(p.study_id for p in study.patients() if p.id == pid)


def _import(study: Study, report: ImportReport, target: PhotoTarget, paths: list[Path]) -> None:
    pid: int | None = None
    visit_id: int | None = None
    study_id = ""
    for path in paths:
        try:
            film = read_photo(path)
        except CobbdeskError as exc:
            report.errors.append(ScanIssue(path, exc.problem))
            continue
        sop = film.sop_instance_uid
        existing = films_by_sop(study, [sop]).get(sop)
        if existing is not None:
            report.duplicates.append(
                DuplicateFilm(str(path), sop, f"film {existing.id} ({existing.path})")
            )
            continue
        if pid is None:
            pid, study_id = _patient(study, report, target.patient)
            visit_id = _visit(study, report, pid, study_id, target.visit)
        assert visit_id is not None
        film_id = study.add_film(
            visit_id, sop_instance_uid=sop, path=path, region=target.region,
            pixel_sha256=film.pixel_sha256, pixel_rows=film.rows, pixel_columns=film.columns,
        )  # fmt: skip
        report.imported.append(
            ImportedFilm(str(path), sop, film_id, study_id, target.visit.value, target.region.value)
        )


def _visit(study: Study, report: ImportReport, pid: int, study_id: str, kind: VisitKind) -> int:
    visit = study.visit(pid, kind)
    if visit is not None:
        return visit.id
    report.new_visits.append(f"{study_id} {kind.value}")
    return study.add_visit(pid, kind)
