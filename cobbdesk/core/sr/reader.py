"""Import Cobb angles from DICOM SR (CobbDesk's own and OHIF/cornerstone's) into a study.

What is read (:func:`~cobbdesk.core.sr.parse.read_report`, re-exported here): every TID 1501
measurement group holding a NUM "Cobb angle" with an SCOORD POLYLINE of four points and the
IMAGE it was selected from (:mod:`~cobbdesk.core.sr.parse`).

What is imported (:func:`import_report`):

* the film is the study's film with the referenced SOP Instance UID (else the group is refused);
* the film's file must be found and be that film (the one rule of
  :mod:`cobbdesk.core.importing.relink`, through
  :func:`~cobbdesk.core.importing.film_check.film_geometry`); a missing or other file refuses
  the group, as ``cobbdesk measure`` does.  Every measurement stored takes the film's own
  spacing, spacing source and pixel aspect (a user calibration stored in the study replaces
  the file's spacing), and its angle is recomputed from the points — never a degree value or
  a geometry taken from the SR;
* CobbDesk's own groups carry the exact record (template, labels, times, rater, spacing): it is
  used when its points round to the SCOORD's 32-bit values exactly, else the SCOORD wins and
  the record is ignored with a warning.  The geometry the record was computed with must fit
  the film's file as a measurement saved on the film must (relink's one rule,
  :func:`~cobbdesk.core.sr.fit.fitted`), else the group is refused naming the film and both
  geometries (an SR made on another file with the same SOP Instance UID — a square copy of a
  2:1 film — would store other degrees for the same points).  A mirrored, cropped or
  processed copy with the same UID and spacing is told by the source image pixel SHA-256 the
  group carries, else by its stated signed angle changing sign under the film's facing
  (:mod:`~cobbdesk.core.sr.pixels`): refused; a CobbDesk group stripped of its record and hash
  (read as OHIF's) still states its sign by its Finding (Lordotic/Kyphotic) and sign
  convention: the same sign check applies (:func:`~cobbdesk.core.sr.pixels.stated_signed`);
* OHIF's groups carry no levels or anterior/posterior labels: the upper line is the one higher
  on the film, the template the one the user names (:mod:`~cobbdesk.core.sr.template`: on a
  cervical or lumbar film never guessed), the rater the SR's observer, the spacing the film's; the
  film's facing (:func:`~cobbdesk.core.importing.point_checks.film_facing`) must be known to
  label the corners, else the group is refused (the sign would be a guess);
* every measurement passes :func:`~cobbdesk.core.importing.point_checks.checked_measurement`
  (facing, guards) and a template of another region than the film's is warned of
  (:func:`~cobbdesk.core.importing.point_checks.region_warning`, as every import does); the
  angle is recomputed from the points and compared with the NUM (signed for CobbDesk,
  unsigned for OHIF): a difference over 0.01° is reported as a warning;
* saved with the audit reason ``imported from SR <SR SOP Instance UID>``; a measurement already
  in the study unchanged is counted, one that differs is refused (never overwritten); one the
  study holds soft-deleted is not brought back: listed in ``deleted`` with a warning giving
  the day it was deleted (restore it in the study to bring it back).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.importing.film_check import FilmGeometry
from cobbdesk.core.importing.films import study_film_path
from cobbdesk.core.importing.point_checks import (
    ImpliedFacings,
    checked_measurement,
    film_facing,
    outside_image,
    region_warning,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.sr import codes as c
from cobbdesk.core.sr.deleted import day_text_utc, deleted_on
from cobbdesk.core.sr.fit import GeometryCache, fitted
from cobbdesk.core.sr.parse import SrCobb, is_sr, read_report
from cobbdesk.core.sr.pixels import (
    check_pixel_hash,
    check_sign,
    study_pixel_sha256,
)
from cobbdesk.core.sr.template import ohif_template
from cobbdesk.core.store.faults import STUDY_FAULTS, stopped
from cobbdesk.core.store.study import Study

ANGLE_TOLERANCE_DEG = 0.01
"""A stored NUM further than this from the angle recomputed from the points is reported."""


@dataclass
class SrImportReport:
    """What importing one SR did: its SOP Instance UID, the Cobb groups found, the
    measurements imported (film id, id, angle in degrees, template, rater), those already stored
    unchanged, and the per-group errors and warnings (never naming a patient).
    """

    file: str
    sr_sop_instance_uid: str = ""
    groups: int = 0
    imported: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[dict[str, Any]] = field(default_factory=list)
    """Measurements the study holds soft-deleted: not imported (film id, id, deleted_utc)."""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no error was collected."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field plus ``ok``."""
        return {**self.__dict__, "ok": self.ok}


def _record_matches(found: SrCobb, m: CobbMeasurement) -> bool:
    """True when the record's points are exactly what the SCOORD stores (32-bit, + 0.5)."""
    mine = [m.upper.anterior, m.upper.posterior, m.lower.anterior, m.lower.posterior]
    wanted = np.array([c.to_scoord(p) for p in mine], dtype=np.float32).ravel()
    return bool(np.array_equal(wanted, np.array(found.scoord, dtype=np.float32)))


def _from_record(found: SrCobb, film: Any, report: SrImportReport) -> CobbMeasurement | None:
    """CobbDesk's exact record, when present and agreeing with the SCOORD; else None."""
    if found.record is None:
        return None
    data = {**found.record, "sop_instance_uid": film.sop_instance_uid,
            "pixel_sha256": film.pixel_sha256 or ""}  # fmt: skip
    m = CobbMeasurement.from_dict(data)
    if _record_matches(found, m):
        return m
    report.warnings.append(
        f"group {found.group}: the CobbDesk record disagrees with the SCOORD points (edited "
        "elsewhere?); the points were used"
    )
    return replace(m, upper=EndplateLine(*found.points[:2]), lower=EndplateLine(*found.points[2:]))


def _from_points(
    found: SrCobb, film: Any, geo: FilmGeometry, rater: str, template: str | None, *,
    sr_uid: str,
) -> CobbMeasurement:
    """An OHIF group: the higher line on the film is the upper one; labels as drawn (the
    facing check orients them); the template the user named
    (:func:`~cobbdesk.core.sr.template.ohif_template`); the id the tracking UID's (the same
    SR imported again names the same measurement)."""
    first, second = EndplateLine(*found.points[:2]), EndplateLine(*found.points[2:])
    mean_y = [(line.anterior[1] + line.posterior[1]) / 2 for line in (first, second)]
    upper, lower = (first, second) if mean_y[0] <= mean_y[1] else (second, first)
    return CobbMeasurement(
        sop_instance_uid=film.sop_instance_uid,
        pixel_sha256=film.pixel_sha256 or "",
        template=ohif_template(film, template),
        upper=upper,
        lower=lower,
        spacing=geo.spacing,
        spacing_source=geo.source,
        pixel_aspect=geo.pixel_aspect if geo.spacing is None else None,
        rater=found.observer or rater,
        id=c.uid_to_uuid(found.tracking_uid) or _stable_id(found, sr_uid),
    )


def _stable_id(found: SrCobb, sr_uid: str) -> str:
    """The measurement id of a group whose tracking UID is no ``2.25`` UUID: a UUID 5 of that
    UID (unique to the measurement, PS3.3 C.17.3.2.1), else of the SR's SOP Instance UID and
    the group's number — the same for the same SR read again."""
    name = found.tracking_uid or f"{sr_uid}#{found.group}"
    return str(uuid.uuid5(uuid.NAMESPACE_OID, name))


def _check_inside(found: SrCobb, film: Any, geo: FilmGeometry) -> None:
    """Refuse (ValidationError naming the film) a group whose points lie outside the film's
    image: the one bounds rule of every import of points
    (:func:`~cobbdesk.core.importing.point_checks.outside_image`), in CobbDesk's pixel-centre
    coordinates (the SCOORD's values less 0.5, :func:`~cobbdesk.core.sr.codes.from_scoord`)."""
    named = [(f"point {n} {axis}", value) for n, point in enumerate(found.points, 1)
             for axis, value in zip("xy", point, strict=True)]  # fmt: skip
    if problems := outside_image(geo.columns, geo.rows, named):
        raise ValidationError(None, f"film #{film.id}: {'; '.join(problems)} (pixel-centre "
                              "coordinates: the SCOORD's values less 0.5); the Cobb angle was "
                              "refused")  # fmt: skip


def _compare(found: SrCobb, m: CobbMeasurement, own: bool, report: SrImportReport) -> None:
    """Warn when the SR's NUM is further than :data:`ANGLE_TOLERANCE_DEG` from the angle the
    points give: signed values (``+``/``-``) when the SR states a sign (CobbDesk's, record or
    not), else magnitudes (OHIF's |angle|; a negative NUM there carries no sign convention),
    the signed angle stored named too."""
    if found.stored_angle is None:
        return
    signed = own or found.signed is not None  # CobbDesk's, record or not: signed
    if signed:
        stated = found.stored_angle if own else float(found.signed or 0.0)
        if abs(m.angle - stated) > ANGLE_TOLERANCE_DEG:
            report.warnings.append(
                f"group {found.group}: the SR states {stated:+.2f}°, the points give "
                f"{m.angle:+.2f}° (difference {abs(m.angle - stated):.2f}°); the angle from "
                "the points is kept")  # fmt: skip
        return
    stated, recomputed = abs(found.stored_angle), abs(m.angle)
    if abs(recomputed - stated) > ANGLE_TOLERANCE_DEG:
        report.warnings.append(
            f"group {found.group}: the SR states {stated:.2f}° (no sign), the points give "
            f"{recomputed:.2f}° (difference {abs(recomputed - stated):.2f}°); the angle from "
            f"the points is kept: {m.angle:+.2f}° signed")  # fmt: skip


@dataclass
class _State:
    """What one SR import keeps across groups: films' geometries and pixel hashes (each file
    read once), the facings implied so far, the template named for OHIF angles."""

    template: str | None
    geometry: GeometryCache = field(default_factory=GeometryCache)
    facings: ImpliedFacings = field(default_factory=ImpliedFacings)
    hashes: dict[int, str] = field(default_factory=dict)


def _import_one(study: Study, found: SrCobb, state: _State, report: SrImportReport) -> None:
    film = study.film_by_sop(found.referenced_sop_instance_uid)
    if film is None:
        raise ValidationError(None, f"no film with SOP Instance UID "
                              f"{found.referenced_sop_instance_uid} in this study")  # fmt: skip
    geos, facings = state.geometry.of(study, film), state.facings
    _check_inside(found, film, geos.stored)
    if found.pixel_sha256:  # CobbDesk's: the pixels the angle was measured on
        check_pixel_hash(found.pixel_sha256, film, study_pixel_sha256(study, film, state.hashes))
    facing, source = film_facing(film, study_film_path(study, film.path), facings.headers)
    m = _from_record(found, film, report)
    own, stated = m is not None, found.stored_angle
    if m is not None:
        m = fitted(m, film, geos)
        stated = m.angle if stated is None else stated  # signed, as the SR computed it
    else:
        if facing is None:
            raise ValidationError(None, f"film #{film.id}: its facing is unknown and this SR's "
                                  "Cobb angle has no anterior/posterior labels, so its sign would "
                                  "be a guess; set the facing (cobbdesk film STUDY UID --facing "
                                  "left|right --reason …) and import again")  # fmt: skip
        m = _from_points(found, film, geos.stored, study.actor.rater, state.template,
                         sr_uid=report.sr_sop_instance_uid)
    m, notes = checked_measurement(film, m, facing, source)
    stated = stated if own else found.signed  # a stripped CobbDesk SR still states its sign
    if stated is not None:  # signed: a mirrored copy's labels swap with the facing
        check_sign(stated, m.angle, film, facing)
    notes += [mismatch] if (mismatch := region_warning(film, m.template)) else []
    saved = {s.id: s for s in study.measurements(film.id)}  # read once for the three uses
    if facing is None:
        facings.check(film, m, list(saved.values()), found.group)
    report.warnings += [f"group {found.group}: {note}" for note in notes]
    _compare(found, m, own, report)
    _save(study, film.id, m if own else _same_times(saved, m), report, found.group, saved=saved)


def _same_times(saved: dict[str, CobbMeasurement], m: CobbMeasurement) -> CobbMeasurement:
    """``m`` (read from an SR without CobbDesk's record: no times of its own) with the times
    of the measurement the study already holds under its id (``saved``: the film's, by id),
    so that the same SR imported again (or a group repeated in it) compares as unchanged;
    ``m`` when there is none."""
    held = saved.get(m.id)
    if held is None:
        return m
    return replace(m, created_utc=held.created_utc, updated_utc=held.updated_utc)


def _save(
    study: Study, film_id: int, m: CobbMeasurement, report: SrImportReport, group: int, *,
    saved: dict[str, CobbMeasurement],
) -> None:  # fmt: skip
    if m.id in saved:
        if saved[m.id] == m:
            report.unchanged += 1
            return
        raise ValidationError(None, f"measurement {m.id} is already in the study with other "
                              "values; it was not overwritten")  # fmt: skip
    if (when := deleted_on(study, m.id)) is not None:
        report.deleted.append({"film_id": film_id, "id": m.id, "deleted_utc": when})
        report.warnings.append(f"group {group}: measurement {m.id} was deleted from the study on "
                               f"{day_text_utc(when)}; not imported (the deletion stands: "
                               "restore it in the study to bring it back)")  # fmt: skip
        return
    study.save_measurement(film_id, m, reason=f"imported from SR {report.sr_sop_instance_uid}")
    report.imported.append({"film_id": film_id, "id": m.id, "angle": m.angle,
                            "template": m.template.value, "rater": m.rater})  # fmt: skip


def import_report(study: Study, path: str | Path, *, template: str | None = None) -> SrImportReport:
    """Import the Cobb angles of the SR at ``path`` into ``study`` (module rules).

    ``template`` names the endplates of OHIF angles (one of
    :data:`~cobbdesk.core.sr.template.CHOICES`; None: not named —
    :func:`~cobbdesk.core.sr.template.ohif_template`).

    A file that is no readable SR or holds a damaged CobbDesk record is refused whole: its
    report has no groups and one error; per-group refusals are collected in the report's
    ``errors`` ("group N: …"), never naming a patient.  A fault of the whole study
    (:data:`~cobbdesk.core.store.faults.STUDY_FAULTS`: locked, read-only, disk full, server
    unavailable) stops the import at once: it is raised as
    :func:`~cobbdesk.core.store.faults.stopped` restates it (same class, same exit status),
    the Cobb angles saved before it staying saved.
    """
    try:
        ds, found = read_report(path)
    except ValidationError as exc:  # this file refused; the caller goes on with the others
        return SrImportReport(file=str(path), errors=[exc.problem])
    report = SrImportReport(file=str(path), sr_sop_instance_uid=str(ds.SOPInstanceUID),
                            groups=len(found))  # fmt: skip
    if not found:
        report.errors.append(f"{Path(path).name}: no Cobb angle (SCT 285285000) found")
    state = _State(template)
    for item in found:
        try:
            _import_one(study, item, state, report)
        except STUDY_FAULTS as exc:  # locked, read-only, server gone...: every group would meet it
            raise stopped(exc, len(report.imported)) from exc
        except CobbdeskError as exc:
            report.errors.append(f"group {item.group}: {exc.problem}")
    return report


__all__ = ["SrCobb", "SrImportReport", "import_report", "is_sr", "read_report"]
