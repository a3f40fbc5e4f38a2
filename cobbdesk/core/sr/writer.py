"""Write a film's Cobb angles as DICOM Comprehensive SR (TID 1500 Measurement Report).

One SR per film and rater (:func:`film_report`), built with highdicom:

* document: Comprehensive SR, procedure reported = LOINC lateral cervical / lumbar spine
  radiograph (:data:`~cobbdesk.core.sr.codes.PROCEDURE`), person observer = the rater;
  patient and study attributes copied from the film's header (highdicom's evidence rules);
* one TID 1501 measurement group per measurement: tracking identifier
  ``cornerstone3DTools@^0.1.0:CobbAngle`` with the measurement id as a ``2.25`` UID, finding =
  lordosis / kyphosis (so a viewer that shows |angle| still says which), finding site =
  cervical / lumbar spine (SCT), method = the template (its levels), algorithm = CobbDesk and
  its angle construction, qualitative evaluations "sign convention" and "calibration source";
* under the group one NUM "Cobb angle" (SCT 285285000, UCUM ``deg``), the SIGNED angle as
  :attr:`CobbMeasurement.angle` computes it, INFERRED FROM an SCOORD POLYLINE of the four points
  (upper anterior, upper posterior, lower anterior, lower posterior) on the source image, in
  DICOM image coordinates (CobbDesk + 0.5, :func:`~cobbdesk.core.sr.codes.to_scoord`);
* a TEXT "CobbDesk measurement record": the measurement's JSON (:meth:`CobbMeasurement.to_dict`)
  so that CobbDesk reads back exactly what it wrote (SCOORD Graphic Data is FL, 32-bit).

:func:`export_sr` writes every film's reports into a folder, all or nothing (0600 files,
written into a temporary folder beside the target, moved in, then audited in one transaction
whose failure undoes the moves; one refused film writes nothing) and returns what it wrote.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from cobbdesk import __version__
from cobbdesk.core import private
from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.measure.measurement import CONVENTION, CobbMeasurement
from cobbdesk.core.sr import codes as c
from cobbdesk.core.sr.deleted import measurement_ids
from cobbdesk.core.sr.outputs import (
    audit,
    check_target,
    evidence_uid,
    new_folders,
    publish_all,
    remove_new_folders,
    stale_reports,
)
from cobbdesk.core.sr.pixels import file_pixel_sha256
from cobbdesk.core.store import faults
from cobbdesk.core.store.records import FilmRecord, Region
from cobbdesk.core.store.study import Study

SERIES_NUMBER = 9901
"""Series Number of CobbDesk's SR series (one series per source study)."""


@dataclass(frozen=True)
class SrFile:
    """One written report: where, for which film (SOP Instance UID) and rater, how many
    measurements, the SR's own SOP Instance UID and the file's SHA-256."""

    path: Path
    film_sop_instance_uid: str
    rater: str
    measurements: int
    sr_sop_instance_uid: str
    sha256: str


def _group(m: CobbMeasurement, image: Dataset, region: Region, pixel_sha256: str) -> Any:
    """One TID 1501 group holding the NUM "Cobb angle" with its SCOORD (module docstring)."""
    points = [m.upper.anterior, m.upper.posterior, m.lower.anterior, m.lower.posterior]
    source = hd.sr.SourceImageForRegion(image.SOPClassUID, image.SOPInstanceUID)
    scoord = hd.sr.CoordinatesForMeasurement(
        graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
        graphic_data=np.array([c.to_scoord(p) for p in points], dtype=np.float64),
        source_image=source,
    )
    sites = [hd.sr.FindingSite(c.FINDING_SITE[region])] if region in c.FINDING_SITE else None
    measurement = hd.sr.Measurement(
        name=c.COBB_ANGLE, value=m.angle, unit=c.DEGREES, referenced_coordinates=[scoord]
    )
    algorithm = hd.sr.AlgorithmIdentification(
        name="CobbDesk", version=__version__, parameters=[m.algorithm_version]
    )
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=c.uuid_to_uid(m.id), identifier=c.TRACKING_COBB
        ),
        finding_type=c.curvature(m.angle),
        finding_sites=sites,
        method=c.TEMPLATE[m.template.value],
        algorithm_id=algorithm,
        measurements=[measurement],
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(c.SIGN_CONVENTION, c.POSITIVE_LORDOSIS),
            hd.sr.QualitativeEvaluation(c.CALIBRATION, c.calibration_code(m.spacing_source)),
        ],
    )
    record = hd.sr.TextContentItem(
        name=c.RECORD,
        value=json.dumps(m.to_dict(), sort_keys=True),
        relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
    )
    group[0].ContentSequence.append(record)
    if pixel_sha256:
        group[0].ContentSequence.append(hd.sr.TextContentItem(
            name=c.PIXEL_HASH, value=pixel_sha256,
            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))  # fmt: skip
    return group


def film_report(
    image: Dataset,
    region: Region,
    rater: str,
    measurements: Sequence[CobbMeasurement],
    *,
    series_uid: str,
    instance_number: int = 1,
    pixel_sha256: str = "",
) -> Dataset:
    """The Comprehensive SR of ``measurements`` (one rater, one film) on ``image``.

    ``image`` is the film's header (pixels not needed); ``pixel_sha256`` the SHA-256 of the
    film's decoded pixels, written in each group (:data:`~cobbdesk.core.sr.codes.PIXEL_HASH`;
    "" leaves it out).  Raises ValidationError when a measurement is not of this film or
    another rater's.
    """
    for m in measurements:
        if m.sop_instance_uid != image.SOPInstanceUID or m.rater != rater:
            raise ValidationError(None, f"measurement {m.id} is not {rater!r}'s on this film")
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name=person_name(rater)
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=c.PROCEDURE.get(region, c.GENERIC_PROCEDURE),
        imaging_measurements=[_group(m, image, region, pixel_sha256) for m in measurements],
    )
    sr = hd.sr.ComprehensiveSR(
        evidence=[image],
        content=report[0],
        series_instance_uid=series_uid,
        series_number=SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=instance_number,
        manufacturer=c.MANUFACTURER,
        is_complete=True,
        series_description="CobbDesk Cobb angles",
    )
    if not rater.isascii():  # UTF-8 for a rater's name (the JSON record is ASCII)
        sr.SpecificCharacterSet = "ISO_IR 192"
    sr.ContentLabel = "COBB"
    sr.SoftwareVersions = __version__
    sr.ContentDescription = f"Signed Cobb angles ({CONVENTION})"[:64]
    return sr


def person_name(rater: str) -> str:
    """The rater as a DICOM PN: one family-name component (a trailing ``^`` marks it as one,
    PS3.5 6.2.1.2), ``^`` inside the name replaced; ``unknown^`` for an empty rater.

    >>> person_name("ann"), person_name("Doe^Jo")
    ('ann^', 'Doe Jo^')
    """
    return (rater.replace("^", " ").replace("=", " ").replace("\\", " ") or "unknown") + "^"


def _header(film: FilmRecord, path: Path) -> Dataset:
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception as exc:
        raise ValidationError(
            path, f"film #{film.id} has no DICOM header to reference ({exc})"
        ) from None
    for keyword in ("SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID"):
        if not ds.get(keyword):
            raise ValidationError(path, f"film #{film.id}: {keyword} is missing")
    for keyword in _TYPE2:  # type 2 (may be empty) attributes highdicom copies from evidence
        if keyword not in ds:
            setattr(ds, keyword, "")
    return ds


def _check_identity(study: Study, film: FilmRecord, path: Path) -> None:
    """The SR copies the file's header: the file must be the film the study recorded (its
    header fields, :func:`~cobbdesk.core.importing.relink.header_mismatch`; pixels are not
    decoded for an export).  Raises :class:`ValidationError` naming the film and the field."""
    from cobbdesk.core.importing.relink import header_mismatch, recorded
    from cobbdesk.core.importing.scan import read_header

    header = read_header(path)
    problem = (header[1].message if isinstance(header, tuple)
               else header_mismatch(recorded(study, film), header))  # fmt: skip
    if problem is not None:
        raise ValidationError(path, f"film #{film.id}: its file is not the film the "
                              f"study recorded ({problem}); relink it")  # fmt: skip


_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
          "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName")  # fmt: skip


def _by_film_and_rater(
    study: Study, film_ids: Iterable[int] | None
) -> dict[tuple[int, str], list[CobbMeasurement]]:
    wanted = set(film_ids) if film_ids is not None else None
    films = {f.sop_instance_uid: f for f in study.films()}
    grouped: dict[tuple[int, str], list[CobbMeasurement]] = defaultdict(list)
    for m in study.measurements():
        film = films.get(m.sop_instance_uid)
        if film is not None and (wanted is None or film.id in wanted):
            grouped[(film.id, m.rater)].append(m)
    return grouped


def export_sr(
    study: Study,
    folder: str | Path,
    *,
    film_ids: Iterable[int] | None = None,
    reason: str = "",
    removed: list[Path] | None = None,
) -> tuple[list[SrFile], list[str]]:
    """Write one SR per film and rater of ``study`` (or of ``film_ids``) into ``folder``.

    All or nothing: every film is checked first (a DICOM header that is the film the study
    recorded); when one is refused, nothing is written and the problems (one line each,
    naming the film by its study id) are returned with no files.  Otherwise the reports are
    written into a 0700 temporary folder beside ``folder``, moved in as
    ``<film SOP UID>_<rater>.sr.dcm`` (0600; raters whose names clean up to the same name get
    ``_2``, ``_3``…) and then audited (entity ``export``, format ``sr``, one transaction for
    them all); a move or an audit that fails puts back what the folder held, so no audit row
    names a file that is not there.  Folders it created for ``folder`` are removed again
    when it writes nothing (refused, nothing measured) or fails.
    An earlier export of the same film in ``folder`` is replaced; any other file at a
    report's name is refused before anything is written
    (:func:`~cobbdesk.core.sr.outputs.check_target`).  CobbDesk's own earlier SRs of the
    exported films that this export does not write (measurements or raters deleted since:
    :func:`~cobbdesk.core.sr.outputs.stale_reports`) are removed in the same step, audited,
    and appended to ``removed`` when given — the folder describes the study as it is now.
    Raises StudyReadOnlyError before writing anything on a read-only study, ExportError
    (a name taken by a study, a film, a link or another SR…) and the store's errors (audit,
    disk full).
    """
    if study.read_only:
        raise faults.read_only(study.path)
    target = Path(folder)
    made = new_folders(target)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        remove_new_folders(made)
        raise faults.os_error(exc, target, "export") from None
    wanted = None if film_ids is None else set(film_ids)
    try:
        written, problems = _export_into(study, target, wanted, reason, removed)
    except BaseException:
        remove_new_folders(made)
        raise
    if not written:  # refused or nothing to export: no folder of ours left behind
        remove_new_folders(made)
    return written, problems


def _export_into(
    study: Study, target: Path, film_ids: set[int] | None, reason: str,
    removed: list[Path] | None,
) -> tuple[list[SrFile], list[str]]:  # fmt: skip
    """:func:`export_sr` into the existing folder ``target``."""
    reports, problems = _reports(study, film_ids)
    if problems:
        return [], problems
    uids = {f.sop_instance_uid for f in study.films() if film_ids is None or f.id in film_ids}
    ours = measurement_ids(study)
    stale = stale_reports(target, uids, {name for name, _ in reports}, ours)
    if not reports and not stale:
        return [], []
    for name, sr in reports:
        check_target(target / name, evidence_uid(sr), ours)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial",
                                        dir=target.parent))  # fmt: skip
    except OSError as exc:
        raise faults.os_error(exc, target, "export") from None
    try:
        written = [_staged(sr, staging / name, target / name) for name, sr in reports]
        publish_all(staging, [f.path for f in written],
                    lambda: audit(study, written, reason, stale), stale)  # fmt: skip
    except OSError as exc:
        raise faults.os_error(exc, target, "export") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if removed is not None:
        removed.extend(stale)
    return written, []


def _reports(
    study: Study, film_ids: Iterable[int] | None
) -> tuple[list[tuple[str, Dataset]], list[str]]:
    """The SR (file name, dataset) of every film and rater, and the films refused."""
    films = {f.id: f for f in study.films()}
    reports: list[tuple[str, Dataset]] = []
    problems: list[str] = []
    series: dict[str, str] = {}
    taken: set[str] = set()
    checked: dict[int, tuple[Dataset, str] | ValidationError] = {}  # each film read once
    for (film_id, rater), ms in sorted(_by_film_and_rater(study, film_ids).items()):
        film = films[film_id]
        found = checked.get(film_id)
        if found is None:
            found = checked[film_id] = _checked_header(study, film)
            problems += [found.problem] if isinstance(found, ValidationError) else []
        if isinstance(found, ValidationError):  # said once per film, not once per rater
            continue
        image, pixel_sha256 = found
        series_uid = series.setdefault(image.StudyInstanceUID, hd.UID())
        sr = film_report(image, film.region, rater, ms, series_uid=series_uid,
                         instance_number=len(reports) + 1, pixel_sha256=pixel_sha256)  # fmt: skip
        reports.append((_file_name(film, rater, taken), sr))
    return reports, problems


def _checked_header(study: Study, film: FilmRecord) -> tuple[Dataset, str] | ValidationError:
    """The film's header to reference (:func:`_header`) once its file is the recorded film
    (:func:`_check_identity`), and the SHA-256 of its decoded pixels (the study's recorded
    hash, else its file's: :func:`~cobbdesk.core.sr.pixels.file_pixel_sha256`), or why not.
    The file is found as every path finds it
    (:func:`~cobbdesk.core.importing.films.study_film_path`: an older study's relative path
    beside the study file, never in the working folder)."""
    from cobbdesk.core.importing.films import study_film_path

    path = study_film_path(study, film.path)
    try:
        image = _header(film, path)
        _check_identity(study, film, path)
        return image, film.pixel_sha256 or file_pixel_sha256(path)
    except ValidationError as exc:
        return exc
    except CobbdeskError as exc:  # the pixels cannot be decoded: no hash to carry
        return ValidationError(path, f"film #{film.id}: its pixels cannot be decoded for the "
                               f"SR's source image pixel SHA-256 ({exc.problem})")  # fmt: skip


def _file_name(film: FilmRecord, rater: str, taken: set[str]) -> str:
    """``<film SOP UID>_<rater cleaned>.sr.dcm``, made unique among ``taken`` (compared
    case-insensitively, for case-insensitive file systems) with ``_2``, ``_3``…; added to it."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in rater) or "unknown"
    stem, number = f"{film.sop_instance_uid}_{safe}", 1
    name = f"{stem}.sr.dcm"
    while name.casefold() in taken:
        number += 1
        name = f"{stem}_{number}.sr.dcm"
    taken.add(name.casefold())
    return name


def _staged(sr: Dataset, temp: Path, path: Path) -> SrFile:
    """Write ``sr`` to ``temp`` (0600, synced); the :class:`SrFile` it will be as ``path``."""
    temp.touch(mode=0o600)
    sr.save_as(temp, enforce_file_format=True)
    temp.chmod(0o600)
    private.sync_file(temp)
    digest = hashlib.sha256(temp.read_bytes()).hexdigest()
    groups = sr.ContentSequence[-1].ContentSequence if "ContentSequence" in sr else []
    return SrFile(path, str(sr.ContentSequence and evidence_uid(sr)), _rater(sr), len(groups),
                  str(sr.SOPInstanceUID), digest)  # fmt: skip


def _rater(sr: Dataset) -> str:
    for item in sr.ContentSequence:
        if item.ValueType == "PNAME":
            return str(item.PersonName).removesuffix("^")
    return ""


__all__ = ["SrFile", "export_sr", "film_report"]
